#!/bin/bash
# Figures 1 and 2 (FLOWS.md): alice invites the pre-defined group sip:friends@x.example,
# hosted by csX; csX invites bob and carol through coreX, coreB and csB; three people chat
# through the group with cpm-invite. Once per example lab config (cores that trigger on the
# CPM ICSI, and cores that trigger on the served user).
#
# Checked: the ladder hop for hop (only the first 180 reaches alice), each chat line reaches
# the two others with its writer as sender, and the session ends cleanly: alice leaves
# (BYE), bob leaves, the focus ends the session for carol, and every process exits 0.
# Usage: fig1-2-group-session.sh [CONFIG...]
. "$(dirname "$0")/../lib/flow.sh"
need python3

configs=("$@")
((${#configs[@]})) || configs=("$examples/lab-icsi.toml" "$examples/lab-user.toml")

for src in "${configs[@]}"; do
  name=$(basename "$src" .toml)
  d="$t/$name"
  mkdir -p "$d"
  lab_config "$src" "$name.toml"
  start_group_network "$name." "$d"

  start_friends "$name." "$d"
  friends_joined "$name." "$d"

  printf 'hello friends\n' >&7
  wait_for "$t/$name.bob.out" 'hello friends'
  wait_for "$t/$name.carol.out" 'hello friends'
  printf 'hi from bob\n' >&5
  wait_for "$d/alice.out" 'hi from bob'
  wait_for "$t/$name.carol.out" 'hi from bob'

  # alice leaves: bob and carol stay in the session.
  exec 7>&-
  expect_exit "$name.alice" 0 "$name: alice's exit status"
  printf 'still here\n' >&6
  wait_for "$t/$name.bob.out" 'still here'
  # bob leaves: fewer than two remain, the focus ends carol's session.
  exec 5>&-
  expect_exit "$name.bob" 0 "$name: bob's exit status"
  expect_exit "$name.carol" 0 "$name: carol's exit status"
  exec 6>&-

  # Who received what, with the writer as sender (the focus keeps the CPIM From).
  expect_eq "$(chat_messages "$d/alice.out")" "sip:bob@b.example: hi from bob" "$name: alice received"
  expect_eq "$(chat_messages "$t/$name.bob.out")" \
    $'sip:alice@a.example: hello friends\nsip:carol@b.example: still here' "$name: bob received"
  expect_eq "$(chat_messages "$t/$name.carol.out")" \
    $'sip:alice@a.example: hello friends\nsip:bob@b.example: hi from bob' "$name: carol received"
  # The members saw a group session (isfocus in the focus's Contact).
  expect_json "$t/$name.bob.out" .event invited .group true
  expect_contains "$d/bob.trace" ';isfocus'
  expect_json "$t/$name.carol.out" .event ended

  # The setup hop for hop (FLOWS.md Figures 1 and 2); the BYEs of the end are left out.
  expect_ladder "$flows/ladders/fig1-2.ladder" --hide BYE "$d"/*.trace

  stop_group_network "$name."
  echo "OK fig1-2-group-session ($name)"
done
