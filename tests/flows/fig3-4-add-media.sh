#!/bin/bash
# Figures 3 and 4 (FLOWS.md): in the group session of Figures 1 and 2, alice adds audio
# (cpm-invite's /audio command); her re-INVITE passes coreA, csA (may alice add audio?),
# coreX to csX, which checks the group's policy and re-INVITEs bob and carol through coreX,
# coreB and csB (may they receive audio?), then answers alice. csX mixes: alice says 440 Hz,
# bob 1000 Hz, carol nothing.
#
# Checked: the ladder of Figures 1 to 4 hop for hop (fig1-2.ladder and fig3-4.ladder, read
# from the traces as they were once the audio was added); each participant's media event;
# the mix is real (carol hears both tones, bob hears alice's and not his own, alice bob's
# and not her own, measured by tests/lib/tones.py); alice removes her audio (/audio off):
# nobody hears her tone any more, bob and carol still hear each other, and chat goes on.
. "$(dirname "$0")/../lib/flow.sh"
. "$(dirname "$0")/../lib/audio.sh"
need python3

lab_config "$examples/lab-icsi.toml"
start_group_network "" "$t"
make_tone "$t/440.wav" 440 5
make_tone "$t/1000.wav" 1000 5
declare -A FRIEND_ARGS=(
  [alice]="--audio-in $t/440.wav --audio-out $t/alice.wav"
  [bob]="--audio-in $t/1000.wav --audio-out $t/bob.wav"
  [carol]="--audio-out $t/carol.wav"
)
start_friends "" "$t"
friends_joined "" "$t"
printf 'hello before audio\n' >&7
wait_for "$t/bob.out" 'hello before audio'
wait_for "$t/carol.out" 'hello before audio'

# Figure 3: alice adds audio. Her 200 comes once csX has bob's and carol's answers.
printf '/audio\n' >&7
wait_for "$t/alice.out" '"action":"added"'
wait_for "$t/bob.out" '"action":"added"'
wait_for "$t/carol.out" '"action":"added"'
expect_json "$t/alice.out" .event media .action added .media audio
expect_json "$t/bob.out" .event media .action added .media audio
expect_json "$t/carol.out" .event media .action added .media audio
# The ladder so far: Figures 1 to 4 (what comes later, the removal, is not in these copies).
mkdir -p "$t/fig"
cp "$t"/*.trace "$t/fig/"
cat "$flows/ladders/fig1-2.ladder" "$flows/ladders/fig3-4.ladder" >"$t/fig1-4.ladder"
expect_ladder "$t/fig1-4.ladder" --hide BYE "$t"/fig/*.trace

# Three seconds of the mix at everyone's.
for who in alice bob carol; do
  recorded "$t/$who.wav" 3
done
cut=$(wav_seconds "$t/carol.wav")

# alice removes her audio: she leaves the mix, bob and carol go on hearing each other, and
# chat goes on.
printf '/audio off\n' >&7
wait_for "$t/alice.out" '"action":"removed"'
expect_json "$t/alice.out" .event media .action removed .media audio
after=$(awk -v s="$(wav_seconds "$t/carol.wav")" 'BEGIN { print s + 0.5 }')
recorded "$t/bob.wav" "$(awk -v s="$after" 'BEGIN { print s + 2 }')"
recorded "$t/carol.wav" "$(awk -v s="$after" 'BEGIN { print s + 2 }')"
printf 'hello after audio\n' >&7
wait_for "$t/bob.out" 'hello after audio'
wait_for "$t/carol.out" 'hello after audio'

friends_leave ""

# While all three had audio: carol hears both tones, bob alice's and not his own, alice
# bob's and not her own (N-1).
expect_tone --until "$cut" "$t/carol.wav" 440
expect_tone --until "$cut" "$t/carol.wav" 1000
expect_tone --until "$cut" "$t/bob.wav" 440
expect_no_tone --until "$cut" "$t/bob.wav" 1000
expect_tone --until "$cut" "$t/alice.wav" 1000
expect_no_tone --until "$cut" "$t/alice.wav" 440
# After alice removed her audio: nobody hears her tone; carol still hears bob.
expect_no_tone --skip "$after" "$t/carol.wav" 440
expect_no_tone --skip "$after" "$t/bob.wav" 440
expect_tone --skip "$after" "$t/carol.wav" 1000

stop_group_network ""
echo "OK fig3-4-add-media"
