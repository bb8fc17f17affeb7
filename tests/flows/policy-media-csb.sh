#!/bin/bash
# A re-INVITE adding audio is refused on the terminating side (csB): bob may receive chat
# only (his [[user]] media = ["message"]), while alice may use anything. SIPp plays alice
# through the lab (tests/lib/reinvite.sh): csA lets the re-INVITE through, csB answers it 488
# with a Warning naming csB and the rule, bob never sees it, and the session goes on: the
# next re-INVITE (audio at port 0) and the BYE reach bob and get 200.
. "$(dirname "$0")/../lib/flow.sh"
. "$CPM_SOURCE_DIR/tests/lib/reinvite.sh"
need sipp
need python3

lab_config "$examples/lab-icsi.toml"
sed -i 's/^password = "bob-secret"$/&\nmedia = ["message"]/' "$lab"
grep -F 'media = ["message"]' "$lab" >/dev/null || fail "cannot edit $lab"
reinvite_lab

expect_eq "$(answer_to_alice 2)" \
  '488 399 csB "sip:bob@b.example may not use audio (media = [\"message\"])"' \
  "the answer to the re-INVITE adding audio"
expect_eq "$(answer_to_alice 3)" 200 "the answer to the next re-INVITE"
expect_contains "$t/csB.err" 're-INVITE sip:bob@'
expect_contains "$t/csB.err" 'terminating side: sip:bob@b.example may not use audio'
expect_eq "$(audio_invites "$t/csA.trace" tx)" 2 "re-INVITEs with audio csA sent on"
expect_eq "$(audio_invites "$t/csB.trace" rx)" 2 "re-INVITEs with audio that reached csB"
expect_eq "$(audio_invites "$t/csB.trace" tx)" '' "re-INVITEs with audio csB sent on"
expect_eq "$(audio_invites "$t/bob.trace" rx)" '' "re-INVITEs with audio that reached bob"
expect_eq "$(sent "$t/csA.trace" 'SIP/2.0 488')" 1 "488s relayed by csA"
stop_network
echo OK policy-media-csb
