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
need python3
tones=$(dirname "$0")/../lib/tones.py

lab_config "$examples/lab-icsi.toml"
start_group_network "" "$t"
python3 "$tones" --make "$t/440.wav" 440 5 || fail "cannot make the 440 Hz tone"
python3 "$tones" --make "$t/1000.wav" 1000 5 || fail "cannot make the 1000 Hz tone"
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

# wav_seconds FILE: seconds of audio (16-bit 8 kHz mono) in FILE so far.
wav_seconds() { python3 -c "import os, sys; print(max(0, os.path.getsize(sys.argv[1]) - 44) / 16000)" "$1" 2>/dev/null || echo 0; }
# recorded SECONDS NAME...: wait (bounded) until each NAME's recording holds SECONDS.
recorded()
{
  local want=$1 who i
  shift
  for ((i = 0; i < 150; i++)); do
    for who in "$@"; do
      python3 -c "import sys; sys.exit(0 if float('$(wav_seconds "$t/$who.wav")') >= $want else 1)" || continue 2
    done
    return 0
  done
  fail "the recordings did not reach $want s: $(for who in "$@"; do printf '%s %s s ' "$who" "$(wav_seconds "$t/$who.wav")"; done)"
}
recorded 3 alice bob carol
cut=$(wav_seconds "$t/carol.wav")

# alice removes her audio: she leaves the mix, bob and carol go on hearing each other, and
# chat goes on.
printf '/audio off\n' >&7
wait_for "$t/alice.out" '"action":"removed"'
expect_json "$t/alice.out" .event media .action removed .media audio
after=$(python3 -c "print(float('$(wav_seconds "$t/carol.wav")') + 0.5)")
recorded "$(python3 -c "print($after + 2)")" bob carol
printf 'hello after audio\n' >&7
wait_for "$t/bob.out" 'hello after audio'
wait_for "$t/carol.out" 'hello after audio'

exec 7>&-
expect_exit alice 0 "alice's exit status"
exec 5>&-
expect_exit bob 0 "bob's exit status"
expect_exit carol 0 "carol's exit status"
exec 6>&-

# tone FILE FREQ [tones.py options]: the amplitude of FREQ in FILE (fraction of full scale).
tone()
{
  local file=$1 freq=$2
  shift 2
  python3 "$tones" "$@" "$file" "$freq" | awk -v f="$freq" '$1 == f { print $2 }'
}
# expect_tone WHO FREQ present|absent [tones.py options]: the tone is in WHO's recording
# (above 0.1 of full scale) or not (below 0.05; tones.py says why these bounds).
expect_tone()
{
  local who=$1 freq=$2 want=$3 a
  shift 3
  a=$(tone "$t/$who.wav" "$freq" "$@")
  if [[ $want == present ]]; then
    python3 -c "import sys; sys.exit(0 if float('$a') > 0.1 else 1)" ||
      fail "$who hears $freq Hz at $a of full scale ($*), not above 0.1"
  else
    python3 -c "import sys; sys.exit(0 if float('$a') < 0.05 else 1)" ||
      fail "$who hears $freq Hz at $a of full scale ($*), not below 0.05"
  fi
}
# While all three had audio: carol hears both tones, bob alice's and not his own, alice
# bob's and not her own (N-1).
expect_tone carol 440 present --until "$cut"
expect_tone carol 1000 present --until "$cut"
expect_tone bob 440 present --until "$cut"
expect_tone bob 1000 absent --until "$cut"
expect_tone alice 1000 present --until "$cut"
expect_tone alice 440 absent --until "$cut"
# After alice removed her audio: nobody hears her tone; carol still hears bob.
expect_tone carol 440 absent --skip "$after"
expect_tone bob 440 absent --skip "$after"
expect_tone carol 1000 present --skip "$after"

stop_group_network ""
echo "OK fig3-4-add-media"
