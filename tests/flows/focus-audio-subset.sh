#!/bin/bash
# Figure 4 step 7, a participant that takes only a subset: carol answers only the chat stream
# (--accept-media message), so csX's re-offer to her comes back with the audio line at port
# 0; she stays in the session and keeps chatting while alice and bob have audio. The group
# lets only its inviter add media, so bob's earlier try is refused at csX (488, Warning). alice
# puts her audio on hold and resumes it, then removes it (port 0): she leaves the mix, and
# chat goes on for everyone.
#
# Checked: alice and bob report the audio added; csX says bob takes it and carol takes only
# chat, and that alice leaves the mix after her removal; alice reports it removed; chat
# reaches everyone after each step.
. "$(dirname "$0")/../lib/flow.sh"
need python3

lab_config "$examples/lab-icsi.toml" lab.toml
sed -i 's/^media = \["message", "audio"\]$/&\nmay_add_media = "inviter"/' "$lab"
grep -q '^may_add_media = "inviter"' "$lab" || fail "cannot limit who adds media"

# Read by start_friends (friend_args, tests/lib/net.sh):
# shellcheck disable=SC2034
declare -A FRIEND_ARGS=([carol]="--accept-media message")
start_group_network "" "$t"
start_friends "" "$t"
friends_joined "" "$t"

# Only the inviter may add media (may_add_media = "inviter"): bob's try is refused at csX.
printf '/audio\n' >&5
wait_for "$t/bob.out" '"action":"refused"'
expect_json "$t/bob.out" .event media .action refused .status 488
expect_contains "$t/bob.out" 'csX'
wait_for "$t/csX.err" 'only the inviter may'

printf '/audio\n' >&7
wait_for "$t/alice.out" '"action":"added"'
wait_for "$t/bob.out" '"action":"added"'
wait_for "$t/csX.err" "sip:bob@b.example takes the audio"
wait_for "$t/csX.err" "sip:carol@b.example takes only chat"

printf 'carol, still there?\n' >&7
wait_for "$t/carol.out" 'carol, still there?'
printf 'yes, chatting\n' >&6
wait_for "$t/alice.out" 'yes, chatting'
wait_for "$t/bob.out" 'yes, chatting'

# On hold (sendonly): csX mirrors it (recvonly) and sends her nothing; then back.
printf '/hold\n' >&7
wait_for "$t/alice.out" '"action":"modified"'
wait_for "$t/csX.err" "sip:alice@a.example's re-INVITE answered 200 (audio modified)"
wait_for "$t/csX.err" "in PCMU, receiving"
printf '/resume\n' >&7
wait_for "$t/csX.err" "in PCMU, sending, receiving"
# alice has the answer to her resume (a second "modified") before she changes anything more.
wait_count "$t/alice.out" '"action":"modified"' 2

printf '/audio off\n' >&7
wait_for "$t/alice.out" '"action":"removed"'
wait_for "$t/csX.err" "sip:alice@a.example leaves the mix"
printf 'audio gone, chat on\n' >&7
wait_for "$t/bob.out" 'audio gone, chat on'
wait_for "$t/carol.out" 'audio gone, chat on'

exec 7>&-
expect_exit alice 0 "alice's exit status"
exec 5>&- 6>&-
expect_exit bob 0 "bob's exit status"
expect_exit carol 0 "carol's exit status"
stop_group_network ""
echo "OK focus-audio-subset"
