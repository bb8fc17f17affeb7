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
need python3

w=60 # seconds a step may take: an INVITE hop retransmits for up to 32 s under loss
tones=$CPM_SOURCE_DIR/tests/lib/tones.py
lab_config "$examples/lab-icsi.toml"
grep -q '^media = \["message", "audio"\]$' "$lab" || fail "the example group has no audio"
python3 "$tones" --make "$t/a440.wav" 440 120
# Read by start_friends (friend_args, tests/lib/net.sh):
# shellcheck disable=SC2034
declare -A FRIEND_ARGS=([alice]="--audio-in $t/a440.wav" [carol]="--audio-out $t/carol.wav")
start_group_network "" "$t"
start_friends "" "$t"
friends_joined "" "$t" $w

printf '/audio\n' >&7
wait_for "$t/csX.err" "sip:bob@b.example takes the audio" $w
wait_for "$t/csX.err" "sip:carol@b.example takes the audio" $w
wait_for "$t/alice.out" '"action":"added"' $w
wait_for "$t/bob.out" '"action":"added"' $w
wait_for "$t/carol.out" '"action":"added"' $w

# Four seconds of the mix at carol's, measured after the first one.
carol0=$(($(stat -c %s "$t/carol.wav") / 16000))
for ((i = 0; i < 300; i++)); do
  (($(stat -c %s "$t/carol.wav") / 16000 >= carol0 + 5)) && break
  sleep 0.1 # bounded poll of carol's recording; checked below
done

printf 'can you hear me\n' >&7
wait_for "$t/bob.out" 'can you hear me' $w
wait_for "$t/carol.out" 'can you hear me' $w

exec 7>&-
rc=0
wait_exit alice $w || rc=$?
expect_eq "$rc" 0 "alice's exit status"
exec 5>&-
for who in bob carol; do
  rc=0
  wait_exit "$who" $w || rc=$?
  expect_eq "$rc" 0 "$who's exit status"
done
exec 6>&-
netns_report

a440=$(python3 "$tones" --skip "$((carol0 + 1))" "$t/carol.wav" 440 | awk '$1 == 440 { print $2 }')
echo "carol hears 440 Hz at $a440"
awk -v a="$a440" 'BEGIN { exit !(a > 0.1) }' ||
  fail "carol does not hear alice (440 Hz at $a440, want > 0.1)"
echo "OK fig3-4-loss"
