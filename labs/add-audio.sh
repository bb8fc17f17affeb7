#!/bin/bash
# Figures 3 and 4 of FLOWS.md on this machine's loopback: in the group session of Figures 1
# and 2 (alice, bob and carol chatting through csX), alice adds audio with cpm-invite's
# /audio command. Her re-INVITE passes coreA, csA and coreX to csX, which checks the
# group's policy and re-offers bob and carol their chat plus audio through coreX, coreB and
# csB, then answers alice; csX mixes what each says into what the others hear. alice says
# a 440 Hz tone, bob a 1000 Hz tone; each recording is measured, the run is drawn as a
# ladder and compared with the figures. Installs what is missing and builds if needed,
# like labs/pager.sh. Usage: labs/add-audio.sh [--netns] [CONFIG]
#   (KEEP=1 keeps the recordings; MERMAID=1 for a Mermaid diagram as well)
# --netns runs each network (A, B, X) in a namespace of its own, routed through veth links,
# each with its own dnsmasq (labs/netns.sh: root, ip, nft and dnsmasq; exit 1 when it cannot).
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lib.sh
. "$root/labs/lib.sh"
netns=""
[[ ${1:-} != --netns ]] || { netns=1; shift; }
config=${1:-$root/examples/lab-icsi.toml}
[[ $config == /* ]] || config="$PWD/$config"
cd "$root" || exit 2

lab_build add-audio cpm-invite cpm-ladder
# shellcheck source=../tests/lib/flow.sh
. "$root/tests/lib/flow.sh"
# shellcheck source=../tests/lib/audio.sh
. "$root/tests/lib/audio.sh"
tones=$root/tests/lib/tones.py
lab_network "$config" lab.toml # --netns: in namespaces, on 10.K. (labs/netns.sh)
echo "Lab: $config on ${lab_prefix}x.y (copied to $lab)"
start_group_network "" "$t"
for n in coreA coreB coreX; do echo "  $n (cpm-core-route) listening on ${ready[$n]}"; done
for n in csA csB csX; do echo "  $n (cpm-groupd) listening on ${ready[$n]}"; done
make_tone "$t/440.wav" 440 5
make_tone "$t/1000.wav" 1000 5

declare -A FRIEND_ARGS=(
  [alice]="--audio-in $t/440.wav --audio-out $t/alice.wav"
  [bob]="--audio-in $t/1000.wav --audio-out $t/bob.wav"
  [carol]="--audio-out $t/carol.wav"
)
echo
echo "\$ cpm-invite --config lab.toml --node alice --register --audio-in 440.wav sip:friends@x.example"
start_friends "" "$t"
friends_joined "" "$t"
echo "alice: the group answered (Figures 1 and 2); bob and carol are in"
printf 'hello friends\n' >&7
wait_for "$t/bob.out" 'hello friends'
echo "alice types: /audio"
printf '/audio\n' >&7
wait_for "$t/alice.out" '"event":"media"' # added, or refused (a group without audio: 488)
if grep -q '"action":"refused"' "$t/alice.out"; then
  # The group's policy (or a server on the way) said no: show where, then end as usual.
  echo "alice: $(grep '"action":"refused"' "$t/alice.out" | tail -n 1)"
  exec 7>&- 5>&-
  wait_or_stop alice 20 || true
  wait_or_stop bob 20 || true
  wait_or_stop carol 20 || true
  exec 6>&-
  lab_figure alice,coreA,csA,coreX,csX,coreB,csB,bob,carol "$t" ", SIP and MSRP" \
    fig1-2+fig3-4 --hide BYE || true
  lab_close 1 csX coreX csA csB coreA coreB
fi
echo "alice: $(grep '"action":"added"' "$t/alice.out" | tail -n 1)"
wait_for "$t/bob.out" '"action":"added"'
wait_for "$t/carol.out" '"action":"added"'
mkdir -p "$t/fig1-4"
cp "$t"/*.trace "$t/fig1-4/"
# Three seconds of audio at bob's and carol's (bounded).
recorded "$t/carol.wav" 3
recorded "$t/bob.wav" 3
echo "alice types: /audio off"
printf '/audio off\n' >&7
wait_for "$t/alice.out" '"action":"removed"'
exec 7>&- 5>&-
rc=0
wait_or_stop alice 20 || rc=$?
wait_or_stop bob 20 || rc=1
wait_or_stop carol 20 || rc=1
exec 6>&-

echo
echo "What each one heard (tests/lib/tones.py: amplitude of each tone, fraction of full scale):"
for who in alice bob carol; do
  printf '  %-6s %s\n' "$who" "$(python3 "$tones" "$t/$who.wav" 440 1000 | tr '\n' ' ')"
done
echo "  (N-1 mixing: carol hears 440 and 1000 Hz, bob only 440, alice only 1000)"
[[ -z $netns ]] || netns_routing
lab_figure alice,coreA,csA,coreX,csX,coreB,csB,bob,carol "$t/fig1-4" \
  " up to the added audio, SIP and MSRP" fig1-2+fig3-4 --hide BYE || ((rc != 0)) || rc=1
lab_close "$rc" csX coreX csA csB coreA coreB
