#!/bin/bash
# Quick start: Figures 5 and 6 of FLOWS.md on this machine's loopback.
# Installs what is missing, builds if needed, starts coreA, csA, coreB, csB and bob's
# client from examples/lab-icsi.toml, sends alice's message with a delivery notification,
# draws what happened as a ladder, and stops everything.
# Usage: labs/pager.sh [--loss PCT | --netns] [CONFIG]
#   (MERMAID=1 for a Mermaid diagram as well; KEEP=1 keeps $t)
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
cd "$root" || exit 2 # cmake --preset needs the source directory

lab_build pager cpm-send cpm-ladder

if [[ -n $loss ]]; then
  # shellcheck source=../tests/lib/netns.sh
  . "$root/tests/lib/netns.sh"
  netns_enter "$loss" "$root/labs/pager.sh" --loss "$loss" "$config" # from here on inside the namespace
fi
# shellcheck source=../tests/lib/flow.sh
. "$root/tests/lib/flow.sh"
lab_network "$config" lab.toml # --netns: in namespaces, on 10.K. (labs/netns.sh)
echo "Lab: $config on ${lab_prefix}x.y (copied to $lab)${loss:+, $loss % UDP loss (namespace ${CPM_NETNS:-})}"
start_network
for n in coreA coreB; do echo "  $n (cpm-core-route) listening on ${ready[$n]}"; done
for n in csA csB; do echo "  $n (cpm-groupd) listening on ${ready[$n]}"; done
start bob cpm-send --config "$lab" --node bob --receive --count 1 --trace "$t/bob.trace"
echo "  bob (cpm-send --receive) registered on ${ready[bob]}"

echo
echo "\$ cpm-send --config lab.toml --node alice --register --notify delivery --wait sip:bob@b.example 'Hello'"
rc=0
# Under loss a hop may retransmit for up to Timer F (32 s).
cpm-send --config "$lab" --node alice --register --notify delivery --wait --timeout "${loss:+32}${loss:-10}" \
  --trace "$t/alice.trace" sip:bob@b.example 'Hello' || rc=$?
echo "(cpm-send exit status $rc: $( ((rc == 0)) && echo delivered || echo 'not delivered'))"
# bob stops after one message (--count 1); give him a bounded moment to flush and exit.
wait_or_stop bob 5 || true
echo "bob received: $(cat "$t/bob.out" 2>/dev/null)"
[[ -z $loss ]] || netns_report
[[ -z $netns ]] || netns_routing

# Exit 1 when the run differs from the figure (under --loss a difference is expected).
lab_figure alice,coreA,csA,coreB,csB,bob "$t" "" fig5-6 || ((rc != 0)) || rc=1
lab_close "$rc" csA csB coreA coreB
