#!/bin/bash
# README's media lab: labs/add-audio.sh (run from another directory) exits 0, shows the
# added audio, prints what each participant heard with N-1 mixing (carol both tones, bob
# only alice's, alice only bob's) and reports that the ladder of Figures 1 to 4 matches.
. "$(dirname "$0")/../lib/flow.sh"
. "$(dirname "$0")/../lib/tshark.sh"
. "$(dirname "$0")/../lib/pcap.sh"
. "$(dirname "$0")/../lib/audio.sh"
need python3 tshark

rc=0
(cd "$CPM_SOURCE_DIR/examples" && LAB_OUT="$t/lab" bash ../labs/add-audio.sh) >"$t/out" 2>"$t/err" || rc=$?
((rc == 0)) || { cat "$t/out" "$t/err" >&2; fail "labs/add-audio.sh exited $rc, expected 0"; }
expect_contains "$t/out" '"action":"added","event":"media","media":"audio"'
# level WHO FREQ: the amplitude the lab printed for WHO's recording at FREQ.
level() { awk -v who="$1" -v f="$2" '$1 == who { for (i = 2; i < NF; i++) if ($i == f) print $(i + 1) }' "$t/out"; }
expect_above "$(level carol 440)" "$tone_present" "carol's 440 Hz"
expect_above "$(level carol 1000)" "$tone_present" "carol's 1000 Hz"
expect_below "$(level bob 1000)" "$tone_absent" "bob's own 1000 Hz"
expect_below "$(level alice 440)" "$tone_absent" "alice's own 440 Hz"
grep -Eq '^ +alice +coreA +csA +coreX +csX +coreB +csB +bob +carol *$' "$t/out" ||
  fail "no ladder header with the nine nodes: $(cat "$t/out")"
grep -q 're-INVITE' "$t/out" || fail "no re-INVITE in the drawn ladder"
expect_eq "$(grep -c '^ladder matches$' "$t/out")" 1 "ladders that match FLOWS.md"
pcap_lab_out "$t/lab"
echo "OK lab-add-audio"
