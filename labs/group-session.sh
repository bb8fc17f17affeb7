#!/bin/bash
# Figures 1 and 2 of FLOWS.md on this machine's loopback: alice invites the pre-defined
# group sip:friends@x.example (hosted by csX); csX invites bob and carol through their own
# network; the three chat through the group; the run is drawn as a ladder and compared
# with the figures. Installs what is missing and builds if needed, like labs/pager.sh.
# Usage: labs/group-session.sh [--loss PCT | --netns] [CONFIG]
#   (KEEP=1 keeps the traces; MERMAID=1 for a Mermaid diagram as well)
# --loss PCT runs the lab in a network namespace of its own whose loopback drops PCT % of
# the UDP datagrams (tests/lib/netns.sh: needs root, ip and nft; exit 77 when it cannot).
# --netns runs each network (A, B, X) in a namespace of its own, routed through veth links,
# each with its own dnsmasq (labs/netns.sh: root, ip, nft and dnsmasq; exit 1 when it cannot).
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lib.sh
. "$root/labs/lib.sh"
loss="" netns=""
case ${1:-} in
--loss)
  loss=${2:-}
  shift 2 || true
  ;;
--netns)
  netns=1
  shift
  ;;
esac
[[ -z $loss || $loss =~ ^[0-9]+$ ]] || { echo "usage: $0 [--loss PCT | --netns] [CONFIG]" >&2; exit 2; }
config=${1:-$root/examples/lab-icsi.toml}
[[ $config == /* ]] || config="$PWD/$config"
cd "$root" || exit 2

lab_build group-session cpm-invite cpm-ladder

if [[ -n $loss ]]; then
  # shellcheck source=../tests/lib/netns.sh
  . "$root/tests/lib/netns.sh"
  netns_enter "$loss" "$root/labs/group-session.sh" --loss "$loss" "$config" # from here on inside the namespace
fi
# shellcheck source=../tests/lib/flow.sh
. "$root/tests/lib/flow.sh"
w=20 # seconds a step may take; under loss an INVITE hop may retransmit for longer
[[ -z $loss ]] || w=60
lab_network "$config" lab.toml # --netns: in namespaces, on 10.K. (labs/netns.sh)
echo "Lab: $config on ${lab_prefix}x.y (copied to $lab)${loss:+, $loss % UDP loss (namespace ${CPM_NETNS:-})}"
start_group_network "" "$t"
for n in coreA coreB coreX; do echo "  $n (cpm-core-route) listening on ${ready[$n]}"; done
for n in csA csB csX; do echo "  $n (cpm-groupd) listening on ${ready[$n]}"; done

# bob and carol answer (registered); each reads chat lines from a fifo held by this script.
for who in alice bob carol; do mkfifo "$t/$who.in"; done
exec 5<>"$t/bob.in" 6<>"$t/carol.in" 7<>"$t/alice.in"
for who in bob carol; do
  START_STDIN="$t/$who.in" start "$who" cpm-invite --config "$lab" --node "$who" --register \
    --answer --count 1 --trace "$t/$who.trace"
  echo "  $who (cpm-invite --answer) registered"
done
echo
echo "\$ cpm-invite --config lab.toml --node alice --register sip:friends@x.example"
cpm-invite --config "$lab" --node alice --register --trace "$t/alice.trace" --json \
  sip:friends@x.example <"$t/alice.in" >"$t/alice.out" 2>"$t/alice.err" 5>&- 6>&- 7>&- &
adopt alice $! "$t/alice.err"
wait_for "$t/alice.out" '"event":"answered"' "$w"
# csX answers alice once one member has joined: wait for both (their ACK from csX), or a
# line typed before carol joins is not hers to read.
for who in bob carol; do wait_for "$t/$who.err" 'session with' "$w"; done
echo "alice: the group answered, bob and carol joined; typing 'hello friends'"
printf 'hello friends\n' >&7
wait_for "$t/bob.out" 'hello friends' "$w"
wait_for "$t/carol.out" 'hello friends' "$w"
echo "bob sees:   $(tail -n 1 "$t/bob.out")"
echo "carol sees: $(tail -n 1 "$t/carol.out")"
printf 'hi from bob\n' >&5
wait_for "$t/carol.out" 'hi from bob' "$w"
echo "carol sees: $(tail -n 1 "$t/carol.out")"
# Everybody leaves: alice and bob end their input, the focus ends carol's session.
exec 7>&- 5>&-
rc=0
wait_or_stop alice 20 || rc=$?
wait_or_stop bob 20 || rc=1
wait_or_stop carol 20 || rc=1
exec 6>&-
[[ -z $loss ]] || netns_report
[[ -z $netns ]] || netns_routing

lab_figure alice,coreA,csA,coreX,csX,coreB,csB,bob,carol "$t" ", SIP and MSRP" fig1-2 \
  --hide BYE || ((rc != 0)) || rc=1
lab_close "$rc" csX coreX csA csB coreA coreB
