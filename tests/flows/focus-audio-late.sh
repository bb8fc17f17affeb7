#!/bin/bash
# A participant joining later is offered the media the session carries now: alice (440 Hz)
# invites the group while carol is offline (her invitation fails; the session goes on with
# bob), adds audio, and bob (1000 Hz) takes it. Then carol comes online and invites the
# group herself with chat only: csX lets her join the running session, and once she is in,
# re-INVITEs her with her chat stream plus audio.
#
# Checked: csX says carol joins the running session and takes the audio; carol reports the
# audio added; her recording holds both tones (tests/lib/tones.py, above 0.1 of full scale);
# chat reaches her.
. "$(dirname "$0")/../lib/flow.sh"
need python3

tones=$CPM_SOURCE_DIR/tests/lib/tones.py

lab_config "$examples/lab-icsi.toml" lab.toml
sed -i 's/^may_invite = "members"$/&\nmedia = ["message", "audio"]/' "$lab"
grep -q '^media = \["message", "audio"\]' "$lab" || fail "cannot give the group audio"
python3 "$tones" --make "$t/a440.wav" 440 60
python3 "$tones" --make "$t/b1000.wav" 1000 60

start_group_network "" "$t"
mkfifo "$t/alice.in" "$t/bob.in" "$t/carol.in"
exec 5<>"$t/bob.in" 6<>"$t/carol.in" 7<>"$t/alice.in"
START_STDIN="$t/bob.in" start bob cpm-invite --config "$lab" --node bob --register --answer \
  --count 1 --json --trace "$t/bob.trace" --audio-in "$t/b1000.wav"
cpm-invite --config "$lab" --node alice --register --json --trace "$t/alice.trace" \
  --audio-in "$t/a440.wav" sip:friends@x.example <"$t/alice.in" >"$t/alice.out" \
  2>"$t/alice.err" 5>&- 6>&- 7>&- &
adopt alice $! "$t/alice.err"
wait_for "$t/bob.out" '"event":"established"'
wait_for "$t/alice.out" '"event":"answered"'
wait_for "$t/csX.err" "sip:carol@b.example did not join"

printf '/audio\n' >&7
wait_for "$t/alice.out" '"action":"added"'
wait_for "$t/csX.err" "sip:bob@b.example takes the audio"

# carol comes online and joins with chat only.
cpm-invite --config "$lab" --node carol --register --json --trace "$t/carol.trace" \
  --audio-out "$t/carol.wav" sip:friends@x.example <"$t/carol.in" >"$t/carol.out" \
  2>"$t/carol.err" 5>&- 6>&- 7>&- &
adopt carol $! "$t/carol.err"
wait_for "$t/csX.err" "sip:carol@b.example joins the running session"
wait_for "$t/csX.err" "sip:carol@b.example takes the audio"
wait_for "$t/carol.out" '"action":"added"'

# Four seconds of the mix at carol's, after the first one and a half.
wav_seconds()
{
  local n
  n=$(stat -c %s "$1" 2>/dev/null) || n=44
  echo $(((n - 44) / 16000))
}
carol0=$(wav_seconds "$t/carol.wav")
for ((i = 0; i < 300; i++)); do
  (($(wav_seconds "$t/carol.wav") >= carol0 + 5)) && break
  sleep 0.1 # bounded poll of a file carol writes; checked below
done
(($(wav_seconds "$t/carol.wav") >= carol0 + 5)) || fail "carol's recording stopped growing"

printf 'welcome carol\n' >&7
wait_for "$t/carol.out" 'welcome carol'

exec 6>&-
expect_exit carol 0 "carol's exit status"
exec 7>&-
expect_exit alice 0 "alice's exit status"
exec 5>&-
expect_exit bob 0 "bob's exit status"

skip=$((carol0 + 1)).5
read -r c440 c1000 < <(python3 "$tones" --skip "$skip" "$t/carol.wav" 440 1000 |
  awk '$1 == 440 { a = $2 } $1 == 1000 { b = $2 } END { print a, b }')
echo "carol, who joined late, hears 440 Hz at $c440 and 1000 Hz at $c1000"
awk -v a="$c440" -v b="$c1000" 'BEGIN { exit !(a > 0.1 && b > 0.1) }' ||
  fail "carol's recording lacks a tone (440 Hz $c440, 1000 Hz $c1000; want both > 0.1)"
stop_group_network ""
echo "OK focus-audio-late"
