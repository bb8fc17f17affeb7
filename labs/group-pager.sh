#!/bin/bash
# The pager to a group of FLOWS.md ("Pager mode CPM Message to a pre-defined group") on this
# machine's loopback: alice sends one MESSAGE to sip:friends@x.example with a delivery
# notification requested; it travels as Figure 1 does to csX, which answers 202 Accepted and
# sends one copy per other member (bob, carol) along Figure 2's path; each member's delivery
# notification goes straight back to alice. Installs what is missing and builds if needed,
# like labs/pager.sh.
# Usage: labs/group-pager.sh [--netns] [CONFIG]   (MERMAID=1 for a Mermaid diagram as well; KEEP=1 keeps $t)
# --netns runs each network (A, B, X) in a namespace of its own, routed through veth links,
# each with its own dnsmasq (labs/netns.sh: root, ip, nft and dnsmasq; exit 1 when it cannot).
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lib.sh
. "$root/labs/lib.sh"
netns=""
[[ ${1:-} != --netns ]] || { netns=1; shift; }
[[ ${1:-} != -* ]] || { echo "usage: $0 [CONFIG]" >&2; exit 2; }
config=${1:-$root/examples/lab-icsi.toml}
[[ $config == /* ]] || config="$PWD/$config"
cd "$root" || exit 2

lab_build group-pager cpm-send cpm-ladder

# shellcheck source=../tests/lib/flow.sh
. "$root/tests/lib/flow.sh"
lab_network "$config" lab.toml # --netns: in namespaces, on 10.K. (labs/netns.sh)
echo "Lab: $config on ${lab_prefix}x.y (copied to $lab)"
start_group_network "" "$t"
for n in coreA coreB coreX; do echo "  $n (cpm-core-route) listening on ${ready[$n]}"; done
for n in csA csB csX; do echo "  $n (cpm-groupd) listening on ${ready[$n]}"; done
# bob and carol each take one message, answer its delivery notification and exit.
for who in bob carol; do
  start "$who" cpm-send --config "$lab" --node "$who" --receive --count 1 --trace "$t/$who.trace"
  echo "  $who (cpm-send --receive) registered on ${ready[$who]}"
done

echo
echo "\$ cpm-send --config lab.toml --node alice --register --notify delivery --wait --recipients 2 sip:friends@x.example 'Hello group'"
rc=0
cpm-send --config "$lab" --node alice --register --notify delivery --wait --recipients 2 \
  --timeout 10 --trace "$t/alice.trace" sip:friends@x.example 'Hello group' || rc=$?
echo "(cpm-send exit status $rc: $( ((rc == 0)) && echo 'delivered to both' || echo 'not delivered to both'))"
for who in bob carol; do
  wait_or_stop "$who" 5 || rc=1
  echo "$who received: $(cat "$t/$who.out" 2>/dev/null)"
done
echo "csX says: $(grep -m1 'MESSAGE to sip:friends@x.example' "$t/csX.err" 2>/dev/null)"

[[ -z $netns ]] || netns_routing
lab_figure alice,coreA,csA,coreX,csX,coreB,csB,bob,carol "$t" "" group-pager || ((rc != 0)) || rc=1
lab_close "$rc" csX coreX csA csB coreA coreB
