#!/bin/bash
# Figures 3+4 at 10 % UDP loss: the group session of Figures 1 and 2 in the loss lab's
# namespace (tests/lib/netns.sh; exit 77 where no namespace can be made), then alice
# (440 Hz) adds audio: her re-INVITE through csA to csX, csX's re-INVITEs to bob and carol
# through coreB and csB, every answer and ACK crossing the same lossy loopback (RTP too).
#
# Checked: every re-INVITE completes (alice, bob and carol report the audio added; csX says
# bob and carol take it); carol's recording holds alice's tone (tests/lib/tones.py, above
# 0.1 of full scale: a tenth of the frames lost is silence in the mix); chat goes on;
# everybody leaves cleanly.
# Usage: fig3-4-loss.sh   (LOSS=PCT changes the loss)
. "$(dirname "$0")/../lib/netns.sh"
netns_enter "${LOSS:-10}" "$0" "$@"
. "$(dirname "$0")/../lib/flow.sh"
. "$(dirname "$0")/../lib/audio.sh"
need python3

w=60 # seconds a step may take: an INVITE hop retransmits for up to 32 s under loss
lab_config "$examples/lab-icsi.toml"
grep -q '^media = \["message", "audio"\]$' "$lab" || fail "the example group has no audio"
make_tone "$t/a440.wav" 440 120
# Read by start_friends (friend_args, tests/lib/net.sh):
# shellcheck disable=SC2034
declare -A FRIEND_ARGS=([alice]="-v --audio-in $t/a440.wav" [carol]="--audio-out $t/carol.wav")
start_group_network "" "$t"
start_friends "" "$t"
friends_joined "" "$t" $w

printf '/audio\n' >&7
# alice acts on it at once, with no network in between: her re-INVITE leaves (her -v note).
# Once in about twelve runs on a loaded machine she never did (no diagnostic, no
# re-INVITE): then say what her process was doing.
if ! poll_for "$t/alice.err" "re-INVITE sip:friends@x.example (audio)" 10; then
  proc_report alice
  fail "alice did not act on /audio: no re-INVITE within 10 s"
fi
wait_for "$t/csX.err" "sip:bob@b.example takes the audio" $w
wait_for "$t/csX.err" "sip:carol@b.example takes the audio" $w
wait_for "$t/alice.out" '"action":"added"' $w
wait_for "$t/bob.out" '"action":"added"' $w
wait_for "$t/carol.out" '"action":"added"' $w

# Four seconds of the mix at carol's, measured after the first one.
carol0=$(wav_seconds "$t/carol.wav")
recorded "$t/carol.wav" +5

printf 'can you hear me\n' >&7
wait_for "$t/bob.out" 'can you hear me' $w
wait_for "$t/carol.out" 'can you hear me' $w

friends_leave "" $w
netns_report

# The seconds waited for above: after them carol may record a long silence while the
# session ends under loss, which would dilute the measurement.
expect_tone --skip "$(awk -v s="$carol0" 'BEGIN { print s + 1 }')" \
  --until "$(awk -v s="$carol0" 'BEGIN { print s + 5 }')" "$t/carol.wav" 440
echo "OK fig3-4-loss"
