#!/bin/bash
# Refusals on the path of Figures 3 and 4 at the participating functions, in the group
# session of Figures 1 and 2 (the focus's own refusal: focus-audio-refused.sh):
#   csa  alice's [[user]] allows her chat only (media = ["message"]): csA answers her
#        re-INVITE adding audio 488 with a Warning naming csA and the rule (Figure 3 step 3);
#        it never reaches csX, nobody is re-offered anything, chat goes on.
#   csb  bob's [[user]] allows him chat only: alice's audio passes csA and csX, csX re-offers
#        bob and carol (Figure 4); csB answers bob's re-offer 488 with its Warning (step 5),
#        so bob never sees it and keeps chatting without audio, carol takes the audio, and
#        alice's re-INVITE gets 200.
. "$(dirname "$0")/../lib/flow.sh"
need python3

for run in csa csb; do
  d="$t/$run"
  mkdir -p "$d"
  lab_config "$examples/lab-icsi.toml" "$run.toml"
  user=alice
  [[ $run == csb ]] && user=bob
  sed -i "s/^password = \"$user-secret\"$/&\nmedia = [\"message\"]/" "$lab"
  grep -q '^media = \["message"\]$' "$lab" || fail "$run: cannot limit $user to chat"
  start_group_network "$run." "$d"
  start_friends "$run." "$d"
  friends_joined "$run." "$d"

  printf '/audio\n' >&7
  if [[ $run == csa ]]; then
    wait_for "$d/alice.out" '"action":"refused"'
    expect_json "$d/alice.out" .event media .action refused .status 488
    expect_contains "$d/alice.out" '399 csA'
    wait_for "$t/$run.csA.err" 'sip:alice@a.example may not use audio (media = ["message"])'
    # csX saw no re-INVITE and sent none: its INVITEs are the two invitations of the setup.
    expect_eq "$(sent "$d/csX.trace" "INVITE ")" 2 "$run: INVITEs sent by csX"
  else
    wait_for "$d/alice.out" '"action":"added"'
    wait_for "$t/$run.carol.out" '"action":"added"'
    wait_for "$t/$run.csB.err" 'sip:bob@b.example may not use audio (media = ["message"])'
    # csX re-offered both; csB stopped bob's (so bob saw one INVITE only, the setup's).
    expect_eq "$(sent "$d/csX.trace" "INVITE ")" 4 "$run: INVITEs sent by csX"
    expect_eq "$(grep -c '"dir":"rx","first_line":"INVITE ' "$d/bob.trace")" 1 \
      "$run: INVITEs bob received"
    grep -q '"action":"added"' "$t/$run.bob.out" && fail "$run: bob took the audio"
  fi

  # The session goes on: chat both ways, bob included.
  printf 'after the audio try\n' >&7
  wait_for "$t/$run.bob.out" 'after the audio try'
  wait_for "$t/$run.carol.out" 'after the audio try'
  printf 'bob still here\n' >&5
  wait_for "$d/alice.out" 'bob still here'

  exec 7>&-
  expect_exit "$run.alice" 0 "$run: alice's exit status"
  exec 5>&- 6>&-
  expect_exit "$run.bob" 0 "$run: bob's exit status"
  expect_exit "$run.carol" 0 "$run: carol's exit status"
  stop_group_network "$run."
  echo "OK group-audio-policy ($run)"
done
