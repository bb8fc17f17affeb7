#!/bin/bash
# Figures 3 and 4 with real audio (the focus's N-1 mix): in the group session of Figures 1
# and 2, alice plays a 440 Hz tone and adds audio (/audio); csX holds her re-INVITE,
# re-offers bob and carol their chat stream plus audio, and answers her once both took it.
# bob plays 1000 Hz; carol says nothing and records.
#
# Checked: every participant reports the audio added; csX mixed all three; carol's recording
# holds both tones, bob's holds alice's and not his own (tests/lib/tones.py: a Goertzel
# measurement, present above 0.1 of full scale, absent below 0.05; a silent or unmixed
# stream fails); chat goes on after the audio was added.
. "$(dirname "$0")/../lib/flow.sh"
need python3

tones=$CPM_SOURCE_DIR/tests/lib/tones.py

# wav_seconds FILE: whole seconds of 8 kHz 16-bit mono audio FILE holds so far.
wav_seconds()
{
  local n
  n=$(stat -c %s "$1" 2>/dev/null) || n=44
  echo $(((n - 44) / 16000))
}

# wait_audio FILE SECONDS [TIMEOUT]: a bounded poll until FILE (written by a participant)
# holds SECONDS of audio.
wait_audio()
{
  local i
  for ((i = 0; i < ${3:-30} * 10; i++)); do
    (($(wav_seconds "$1") >= $2)) && return 0
    sleep 0.1 # bounded poll of a file another process writes; checked below
  done
  fail "$1 never held $2 s of audio (has $(wav_seconds "$1") s)"
}

# tone FILE FREQ SKIP: the amplitude of FREQ in FILE after SKIP seconds.
tone()
{
  python3 "$tones" --skip "$3" "$1" "$2" | awk -v f="$2" '$1 == f { print $2 }'
}

lab_config "$examples/lab-icsi.toml" lab.toml
# The group carries audio (its media; the participating functions allow any by default).
sed -i 's/^may_invite = "members"$/&\nmedia = ["message", "audio"]/' "$lab"
grep -q '^media = \["message", "audio"\]' "$lab" || fail "cannot give the group audio"

python3 "$tones" --make "$t/a440.wav" 440 60
python3 "$tones" --make "$t/b1000.wav" 1000 60
# Read by start_friends (friend_args, tests/lib/net.sh):
# shellcheck disable=SC2034
declare -A FRIEND_ARGS=(
  [alice]="--audio-in $t/a440.wav"
  [bob]="--audio-in $t/b1000.wav --audio-out $t/bob.wav"
  [carol]="--audio-out $t/carol.wav"
)
start_group_network "" "$t"
start_friends "" "$t"
friends_joined "" "$t"

printf '/audio\n' >&7
wait_for "$t/alice.out" '"action":"added"'
wait_for "$t/bob.out" '"action":"added"'
wait_for "$t/carol.out" '"action":"added"'
wait_for "$t/csX.err" "sip:bob@b.example takes the audio"
wait_for "$t/csX.err" "sip:carol@b.example takes the audio"

# Four seconds of the mix, measured after the first one and a half.
bob0=$(wav_seconds "$t/bob.wav")
carol0=$(wav_seconds "$t/carol.wav")
wait_audio "$t/bob.wav" $((bob0 + 5))
wait_audio "$t/carol.wav" $((carol0 + 5))

# Chat goes on beside the audio.
printf 'can you hear me\n' >&7
wait_for "$t/bob.out" 'can you hear me'
wait_for "$t/carol.out" 'can you hear me'

# The end: alice leaves, then bob; carol's session ends; the recordings are closed.
exec 7>&-
expect_exit alice 0 "alice's exit status"
exec 5>&-
expect_exit bob 0 "bob's exit status"
expect_exit carol 0 "carol's exit status"
exec 6>&-

skip_bob=$((bob0 + 1)).5
skip_carol=$((carol0 + 1)).5
c440=$(tone "$t/carol.wav" 440 "$skip_carol")
c1000=$(tone "$t/carol.wav" 1000 "$skip_carol")
b440=$(tone "$t/bob.wav" 440 "$skip_bob")
b1000=$(tone "$t/bob.wav" 1000 "$skip_bob")
echo "carol hears 440 Hz at $c440 and 1000 Hz at $c1000; bob hears 440 Hz at $b440 and 1000 Hz at $b1000"
awk -v a="$c440" -v b="$c1000" 'BEGIN { exit !(a > 0.1 && b > 0.1) }' ||
  fail "carol's recording lacks a tone (440 Hz $c440, 1000 Hz $c1000; want both > 0.1)"
awk -v a="$b440" -v b="$b1000" 'BEGIN { exit !(a > 0.1 && b < 0.05) }' ||
  fail "bob's recording: 440 Hz $b440 (want > 0.1), his own 1000 Hz $b1000 (want < 0.05)"

expect_contains "$t/csX.err" "audio mixing starts"
stop_group_network ""
echo "OK focus-audio-mix"
