#!/bin/bash
# labs/cr-principle.sh (the change request's principle, for teaching) runs Figures 5 and 6
# under examples/lab-icsi.toml and examples/lab-user.toml: exit 0, both delivered, each
# core's decision named by its trigger in both configs (coreA-orig-cpm against coreA-orig),
# and both ladders match the same figure. With --no-service-indication (a Release 6
# client) the ICSI cores let alice's message pass their Conversation Servers: exit 1, "no
# trigger matched" under lab-icsi.toml, the triggers of lab-user.toml still fire, and only
# lab-user.toml's run matches.
. "$(dirname "$0")/../lib/flow.sh"
. "$(dirname "$0")/../lib/tshark.sh"
. "$(dirname "$0")/../lib/pcap.sh"
need tshark python3
# A hop of the ladder: its number, the step of FLOWS.md it is (none for MSRP), the drawing.
hop='^ *[0-9]+ +(\[[0-9a-z.]+\] +)?\|'

rc=0
(cd "$CPM_SOURCE_DIR" && LAB_OUT="$t/lab" bash labs/cr-principle.sh) >"$t/out" 2>"$t/err" || rc=$?
((rc == 0)) || { cat "$t/out" "$t/err" >&2; fail "labs/cr-principle.sh exited $rc, expected 0"; }
expect_eq "$(grep -c '^(cpm-send exit status 0: delivered)$' "$t/out")" 2 "delivered runs"
expect_eq "$(grep -c '^bob received: Hello$' "$t/out")" 2 "bob's messages"
row() { grep -E "^  $1 +MESSAGE $2 from $3 +trigger $4 \(.*\) +trigger $5 \(" "$t/out"; }
row coreA sip:bob@b.example alice@a.example coreA-orig-cpm coreA-orig >/dev/null ||
  fail "no row for coreA's originating trigger: $(cat "$t/out")"
row coreB sip:bob@b.example alice@a.example coreB-term-cpm coreB-term >/dev/null ||
  fail "no row for coreB's terminating trigger"
row coreB sip:alice@a.example bob@b.example coreB-orig-cpm coreB-orig >/dev/null ||
  fail "no row for coreB's originating trigger (the notification)"
row coreA sip:alice@a.example bob@b.example coreA-term-cpm coreA-term >/dev/null ||
  fail "no row for coreA's terminating trigger (the notification)"
expect_contains "$t/out" 'What went over the wire under lab-icsi.toml'
expect_contains "$t/out" 'What went over the wire under lab-user.toml'
expect_eq "$(grep -c '^ladder matches$' "$t/out")" 2 "ladders that match"
expect_eq "$(grep -Ec "$hop" "$t/out")" 56 "hops in the two ladders"

rc=0
(cd "$CPM_SOURCE_DIR" && bash labs/cr-principle.sh --no-service-indication) >"$t/r6" 2>"$t/r6.err" ||
  rc=$?
expect_eq "$rc" 1 "labs/cr-principle.sh --no-service-indication exit status"
grep -Eq '^  coreA +MESSAGE sip:bob@b.example from alice@a.example +no trigger matched +trigger coreA-orig ' \
  "$t/r6" || fail "coreA's decisions on the Release 6 message: $(cat "$t/r6")"
grep -Eq '^  coreB +MESSAGE sip:bob@b.example from alice@a.example +no trigger matched +trigger coreB-term ' \
  "$t/r6" || fail "coreB's decisions on the Release 6 message"
expect_eq "$(grep -c '^ladder matches$' "$t/r6")" 1 "ladders that match without the ICSI"
expect_contains "$t/r6" 'ladder does not match'
pcap_lab_out "$t/lab"
echo "OK lab-cr-principle"
