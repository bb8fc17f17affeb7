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
. "$(dirname "$0")/../lib/audio.sh"
need python3

lab_config "$examples/lab-icsi.toml" lab.toml
group_has_audio
make_tone "$t/a440.wav" 440 60
make_tone "$t/b1000.wav" 1000 60

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
carol0=$(wav_seconds "$t/carol.wav")
recorded "$t/carol.wav" +5

printf 'welcome carol\n' >&7
wait_for "$t/carol.out" 'welcome carol'

exec 6>&-
expect_exit carol 0 "carol's exit status"
exec 7>&-
expect_exit alice 0 "alice's exit status"
exec 5>&-
expect_exit bob 0 "bob's exit status"

skip=$(awk -v s="$carol0" 'BEGIN { print s + 1.5 }')
expect_tone --skip "$skip" "$t/carol.wav" 440
expect_tone --skip "$skip" "$t/carol.wav" 1000
stop_group_network ""
echo "OK focus-audio-late"
