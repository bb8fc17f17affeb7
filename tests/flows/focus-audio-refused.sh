#!/bin/bash
# A refusal at the focus (Figure 3 step 6): the group carries only chat here (media =
# ["message"], the example lab's group made chat-only), so alice's re-INVITE adding audio
# passes csA and is refused by csX with 488 and a Warning naming csX and the rule; nobody
# else is re-offered anything, and the session goes on as it was. (Refusals at csA and csB:
# group-audio-policy.sh.)
#
# Checked: alice reports the audio refused with status 488 and csX's Warning; csX's stderr
# names the rule; no re-INVITE left csX; chat still flows both ways afterwards.
. "$(dirname "$0")/../lib/flow.sh"
need python3

lab_config "$examples/lab-icsi.toml" lab.toml
# The example group carries chat and audio; this one carries chat only.
sed -i 's/^media = \["message", "audio"\]$/media = ["message"]/' "$lab"
grep -q '^media = \["message"\]$' "$lab" || fail "cannot make the group chat-only"
start_group_network "" "$t"
start_friends "" "$t"
friends_joined "" "$t"

printf '/audio\n' >&7
wait_for "$t/alice.out" '"action":"refused"'
expect_json "$t/alice.out" .event media .action refused .status 488
wait_for "$t/csX.err" 'does not carry audio'
expect_contains "$t/alice.out" 'csX'

# The session is unchanged: chat both ways.
printf 'no audio then\n' >&7
wait_for "$t/bob.out" 'no audio then'
wait_for "$t/carol.out" 'no audio then'
printf 'fine by me\n' >&5
wait_for "$t/alice.out" 'fine by me'

# csX sent no re-INVITE: its only INVITEs are the two invitations of the setup.
expect_eq "$(sent "$t/csX.trace" "INVITE ")" 2 "INVITEs sent by csX"

exec 7>&-
expect_exit alice 0 "alice's exit status"
exec 5>&- 6>&-
expect_exit bob 0 "bob's exit status"
expect_exit carol 0 "carol's exit status"
stop_group_network ""
echo "OK focus-audio-refused"
