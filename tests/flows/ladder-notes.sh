#!/bin/bash
# Ladders that teach (cpm-ladder(1) NOTES): Figures 5 and 6 run for real, then drawn with
# what each message is and why each hop happens, checked with the figure's step numbers
# beside the run's, one hop shown in full (--detail), and drawn as SVG that a real SVG
# renderer (rsvg-convert) turns into a PNG with something on it.
. "$(dirname "$0")/../lib/flow.sh"
need python3 rsvg-convert

lab_config "$examples/lab-icsi.toml" lab.toml
start_network "" "$t"
start bob cpm-send --config "$lab" --node bob --receive --count 1 --trace "$t/bob.trace"
cpm-send --config "$lab" --node alice --register --notify delivery --wait --timeout 10 \
  --trace "$t/alice.trace" sip:bob@b.example 'Hello' >"$t/alice.out" 2>"$t/alice.err" ||
  fail "alice's cpm-send failed: $(cat "$t/alice.err")"
expect_exit bob 0 "bob's exit status"
mid=$(trace_message_id "$t/alice.trace")
[[ -n $mid ]] || fail "no imdn.Message-ID in alice's MESSAGE"

# The notes: what each message is, why each hop happens (roles from the config).
cpm-ladder --config "$lab" "$t"/*.trace >"$t/lines" || fail "cpm-ladder failed"
note()
{
  grep -Eq "$1" "$t/lines" || fail "no line matches '$1' in: $(cat "$t/lines")"
}
note '^ +1 +alice +-> coreA +MESSAGE sip:bob@b.example +# CPIM message, asks positive-delivery, negative-delivery; from the client to its core$'
note '^ +2 +coreA +-> csA +MESSAGE .*# CPIM message.*; originating trigger to the Conversation Server'
note '^ +3 +csA +-> coreA +MESSAGE .*; return with odi o\.[0-9]+[^ ]* \(originating case\)$'
note 'coreA +-> coreB +MESSAGE .*; to the network of b\.example$'
note 'coreB +-> csB +MESSAGE .*; terminating trigger to the Conversation Server'
note 'coreB +-> bob +MESSAGE .*; to the registered contact$'
note 'bob +-> coreB +MESSAGE sip:alice@a\.example +# IMDN delivered; from the client to its core$'
# --plain is the ladder of old: no notes.
cpm-ladder --plain "$t"/*.trace >"$t/plain" || fail "cpm-ladder --plain failed"
grep -q '#' "$t/plain" && fail "--plain printed notes: $(cat "$t/plain")"
expect_eq "$(wc -l <"$t/plain")" "$(wc -l <"$t/lines")" "hops with and without notes"

# --check: the figure's steps beside the run's numbers, then the verdict.
cpm-ladder --check "$flows/ladders/fig5-6.ladder" --config "$lab" "$t"/*.trace >"$t/check" ||
  fail "the run does not match fig5-6.ladder: $(cat "$t/check")"
expect_eq "$(tail -n 1 "$t/check")" "ladder matches" "the check's last line"
grep -Eq '^ *1 +\[5\.1\] +alice +-> coreA +MESSAGE sip:bob@b.example +# CPIM' "$t/check" ||
  fail "hop 1 is not step [5.1]: $(cat "$t/check")"
grep -Eq '^ *[0-9]+ +\[6\.9\] +bob +-> coreB +MESSAGE sip:alice@a\.example +# IMDN delivered' \
  "$t/check" || fail "no step [6.9] for bob's notification: $(cat "$t/check")"
# Every hop the check compared has a step: none is extra.
grep -Eq '^ *[0-9]+ +\+ ' "$t/check" && fail "a hop is not in the ladder: $(cat "$t/check")"

# --detail N: the whole message with its notes.
cpm-ladder --detail 1 --config "$lab" "$t"/*.trace >"$t/detail" || fail "--detail 1 failed"
expect_eq "$(sed -n 1p "$t/detail")" "hop 1 of $(wc -l <"$t/lines"): alice -> coreA  MESSAGE sip:bob@b.example" \
  "--detail's first line"
expect_contains "$t/detail" 'what: CPIM message, asks positive-delivery, negative-delivery'
expect_contains "$t/detail" "imdn.Message-ID: $mid"
expect_contains "$t/detail" 'Content-Type: message/cpim'
rc=0
cpm-ladder --detail 999 "$t"/*.trace >/dev/null 2>"$t/detail.err" || rc=$?
expect_eq "$rc" 2 "--detail past the last hop"
expect_contains "$t/detail.err" 'the ladder has'

# --svg, rendered by librsvg into a PNG that has a white page with lines and text on it.
cpm-ladder --svg --check "$flows/ladders/fig5-6.ladder" --config "$lab" "$t"/*.trace \
  >"$t/ladder.svg" || fail "cpm-ladder --svg --check failed"
expect_contains "$t/ladder.svg" '>[5.1]</text>'
read -r w h < <(sed -nE '0,/<svg /s/.*<svg [^>]*width="([0-9]+)" height="([0-9]+)".*/\1 \2/p' \
  "$t/ladder.svg")
[[ -n ${w:-} && -n ${h:-} ]] || fail "no width and height in the SVG"
rsvg-convert --zoom 0.5 --format png --output "$t/ladder.png" "$t/ladder.svg" ||
  fail "rsvg-convert could not render the SVG"
[[ -s $t/ladder.png ]] || fail "rsvg-convert wrote an empty PNG"
python3 "$CPM_SOURCE_DIR/tests/lib/png_check.py" "$t/ladder.png" $((w / 2)) $((h / 2)) ||
  fail "the rendered ladder is not a drawing"
echo "OK ladder-notes"
