#!/bin/bash
# The README's quick start: labs/pager.sh (run from another directory, with the lab config
# given as a relative path) exits 0, says bob received the message, draws the ladder of
# Figures 5-6 with a column per node, and reports that it matches FLOWS.md.
. "$(dirname "$0")/../lib/flow.sh"
. "$(dirname "$0")/../lib/tshark.sh"
. "$(dirname "$0")/../lib/pcap.sh"
need tshark python3
# A hop of the ladder: its number, the step of FLOWS.md it is (none for MSRP), the drawing.
hop='^ *[0-9]+ +(\[[0-9a-z.]+\] +)?\|'

for cfg in examples/lab-icsi.toml examples/lab-user.toml; do
  rc=0
  (cd "$CPM_SOURCE_DIR/examples" && LAB_OUT="$t/lab-${cfg##*/}" bash ../labs/pager.sh "../$cfg") >"$t/out" 2>"$t/err" || rc=$?
  ((rc == 0)) || { cat "$t/out" "$t/err" >&2; fail "labs/pager.sh $cfg exited $rc, expected 0"; }
  expect_contains "$t/out" 'bob received: Hello'
  expect_contains "$t/out" '(cpm-send exit status 0: delivered)'
  grep -Eq '^ +alice +coreA +csA +coreB +csB +bob *$' "$t/out" ||
    fail "no ladder header with the six nodes: $(cat "$t/out")"
  # The ladder's first hop is alice's MESSAGE to coreA; it has 28 numbered hops.
  grep -Eq '^ +1 +\[[0-9a-z.]+\] +\|- MESSAGE ->\|' "$t/out" || fail "hop 1 is not alice's MESSAGE: $(cat "$t/out")"
  expect_eq "$(grep -Ec "$hop" "$t/out")" 28 "hops in the ladder ($cfg)"
  expect_contains "$t/out" 'ladder matches'
  pcap_lab_out "$t/lab-${cfg##*/}"
done
echo "OK lab-pager"
