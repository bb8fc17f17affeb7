#!/bin/bash
# A re-INVITE adding audio is refused on the originating side (csA): alice may use chat
# only (her [[user]] media = ["message"]). SIPp plays alice through the lab
# (tests/lib/reinvite.sh): csA answers the re-INVITE 488 with a Warning naming csA and the
# rule, sends it no further (csB and bob never see it), and the session goes on: the next
# re-INVITE (audio at port 0) and the BYE reach bob and get 200.
. "$(dirname "$0")/../lib/flow.sh"
. "$CPM_SOURCE_DIR/tests/lib/reinvite.sh"
need sipp
need python3

lab_config "$examples/lab-icsi.toml"
sed -i 's/^password = "alice-secret"$/&\nmedia = ["message"]/' "$lab"
grep -F 'media = ["message"]' "$lab" >/dev/null || fail "cannot edit $lab"
reinvite_lab

expect_eq "$(answer_to_alice 2)" \
  '488 399 csA "sip:alice@a.example may not use audio (media = [\"message\"])"' \
  "the answer to the re-INVITE adding audio"
expect_eq "$(answer_to_alice 3)" 200 "the answer to the next re-INVITE"
expect_eq "$(answer_to_alice 1)" 200 "the answer to the INVITE"
expect_contains "$t/csA.err" 're-INVITE sip:bob@'
expect_contains "$t/csA.err" 'sip:alice@a.example may not use audio (media = ["message"])'
expect_eq "$(audio_invites "$t/csA.trace" rx)" 2 "re-INVITEs with audio that reached csA"
expect_eq "$(audio_invites "$t/csA.trace" tx)" '' "re-INVITEs with audio csA sent on"
expect_eq "$(audio_invites "$t/bob.trace" rx)" '' "re-INVITEs with audio that reached bob"
expect_eq "$(sent "$t/csA.trace" 'SIP/2.0 488')" 1 "csA's 488s"
stop_network
echo OK policy-media-csa
