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
. "$(dirname "$0")/../lib/audio.sh"
need python3

lab_config "$examples/lab-icsi.toml" lab.toml
# The group carries audio (its media; the participating functions allow any by default).
grep -q '^media = \["message", "audio"\]$' "$lab" || fail "the example group has no audio"

make_tone "$t/a440.wav" 440 60
make_tone "$t/b1000.wav" 1000 60
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
recorded "$t/bob.wav" +5
recorded "$t/carol.wav" +5

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

skip_bob=$(awk -v s="$bob0" 'BEGIN { print s + 1.5 }')
skip_carol=$(awk -v s="$carol0" 'BEGIN { print s + 1.5 }')
expect_tone --skip "$skip_carol" "$t/carol.wav" 440
expect_tone --skip "$skip_carol" "$t/carol.wav" 1000
expect_tone --skip "$skip_bob" "$t/bob.wav" 440
expect_no_tone --skip "$skip_bob" "$t/bob.wav" 1000

expect_contains "$t/csX.err" "audio mixing starts"
stop_group_network ""
echo "OK focus-audio-mix"
