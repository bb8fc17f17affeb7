#!/bin/bash
# labs/group-session.sh (Figures 1 and 2 for teaching) exits 0, shows the chat lines
# reaching the other members with their writer, draws the SIP and MSRP ladder with a
# column per node, and reports that the setup matches FLOWS.md.
. "$(dirname "$0")/../lib/flow.sh"
. "$(dirname "$0")/../lib/tshark.sh"
. "$(dirname "$0")/../lib/pcap.sh"
need tshark python3

rc=0
(cd "$CPM_SOURCE_DIR" && LAB_OUT="$t/lab" bash labs/group-session.sh) >"$t/out" 2>"$t/err" || rc=$?
((rc == 0)) || { cat "$t/out" "$t/err" >&2; fail "labs/group-session.sh exited $rc, expected 0"; }
expect_contains "$t/out" 'bob sees:   sip:alice@a.example: hello friends'
expect_contains "$t/out" 'carol sees: sip:alice@a.example: hello friends'
expect_contains "$t/out" 'carol sees: sip:bob@b.example: hi from bob'
grep -Eq '^ +alice +coreA +csA +coreX +csX +coreB +csB +bob +carol *$' "$t/out" ||
  fail "no ladder header with the nine nodes: $(cat "$t/out")"
grep -Eq '^ +1 +\[[0-9a-z.]+\] +\|-+ INVITE -+>\|' "$t/out" || fail "hop 1 is not alice's INVITE: $(cat "$t/out")"
grep -Eq 'MSRP SEND' "$t/out" || fail "no MSRP SEND in the ladder"
expect_contains "$t/out" 'ladder matches'
pcap_lab_out "$t/lab"
echo "OK lab-group-session"
