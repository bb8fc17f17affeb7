#!/bin/bash
# labs/group-pager.sh (the pager to a group, for teaching) exits 0, says that bob and carol
# each received alice's one message and that csX fanned it out to 2 members, draws the ladder
# with a column per node, and reports that it matches FLOWS.md.
. "$(dirname "$0")/../lib/flow.sh"
. "$(dirname "$0")/../lib/tshark.sh"
. "$(dirname "$0")/../lib/pcap.sh"
need tshark python3
# A hop of the ladder: its number, the step of FLOWS.md it is (none for MSRP), the drawing.
hop='^ *[0-9]+ +(\[[0-9a-z.]+\] +)?\|'

rc=0
(cd "$CPM_SOURCE_DIR" && LAB_OUT="$t/lab" bash labs/group-pager.sh) >"$t/out" 2>"$t/err" || rc=$?
((rc == 0)) || { cat "$t/out" "$t/err" >&2; fail "labs/group-pager.sh exited $rc, expected 0"; }
expect_contains "$t/out" '(cpm-send exit status 0: delivered to both)'
expect_contains "$t/out" 'bob received: Hello group'
expect_contains "$t/out" 'carol received: Hello group'
expect_contains "$t/out" 'MESSAGE to sip:friends@x.example from sip:alice@a.example: 2 members'
grep -Eq '^ +alice +coreA +csA +coreX +csX +coreB +csB +bob +carol *$' "$t/out" ||
  fail "no ladder header with the nine nodes: $(cat "$t/out")"
grep -Eq '^ +1 +\[[0-9a-z.]+\] +\|-+ MESSAGE -+>\|' "$t/out" || fail "hop 1 is not alice's MESSAGE: $(cat "$t/out")"
# Every hop of tests/flows/ladders/group-pager.ladder: 10 + 2 x 10 + 2 x 14.
expect_eq "$(grep -Ec "$hop" "$t/out")" 58 "hops in the ladder"
expect_contains "$t/out" 'ladder matches'
pcap_lab_out "$t/lab"
echo "OK lab-group-pager"
