#!/bin/bash
# README's interworking lab: labs/interworking.sh (run from another directory) exits 0,
# shows Figure 7 delivered as SMS and Figure 8's SMS received by alice and acknowledged,
# and reports that both ladders match FLOWS.md.
. "$(dirname "$0")/../lib/flow.sh"
. "$(dirname "$0")/../lib/tshark.sh"
. "$(dirname "$0")/../lib/pcap.sh"
need tshark python3

rc=0
(cd "$CPM_SOURCE_DIR/examples" && LAB_OUT="$t/lab" bash ../labs/interworking.sh) >"$t/out" 2>"$t/err" || rc=$?
((rc == 0)) || { cat "$t/out" "$t/err" >&2; fail "labs/interworking.sh exited $rc, expected 0"; }
expect_contains "$t/out" '(cpm-send exit status 0: delivered as SMS)'
expect_contains "$t/out" 'alice received: Hello from SMS'
expect_contains "$t/out" '(delivery acknowledgement)'
grep -Eq '^ +alice +coreA +csA +iwf +nc *$' "$t/out" ||
  fail "no ladder header with the five nodes: $(cat "$t/out")"
expect_eq "$(grep -c '^ladder matches$' "$t/out")" 2 "ladders that match FLOWS.md"
pcap_lab_out "$t/lab"
echo "OK lab-interworking"
