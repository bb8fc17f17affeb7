#!/bin/bash
# Figures 7 and 8 of FLOWS.md on this machine's loopback: CPM <-> SMS through the IWF.
# Installs what is missing, builds if needed, starts coreA, csA, coreB, csB, the IWF
# (cpm-iwf) and the SMS network's SMSC (cpm-smsc, the NC) from examples/lab-icsi.toml, then
#   Figure 7: alice sends a CPM Message with a delivery notification to tel:+15550100, a
#             number that is no CPM user's: csA sends it to the IWF, the IWF submits it as
#             SMS, and the SMSC's status report comes back to alice as IMDN "delivered";
#   Figure 8: an SMS from +15550100 to alice's number (+15550102) is injected at the SMSC:
#             the IWF sends it to alice as a CPM Message, and alice's delivery notification
#             goes back to the SMS sender as an SME delivery acknowledgement;
# and draws each figure as a ladder (SIP and SMPP), compared with FLOWS.md.
# Usage: labs/interworking.sh [--netns] [CONFIG]   (MERMAID=1 for Mermaid diagrams as well)
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
cd "$root" || exit 2 # cmake --preset needs the source directory

lab_build interworking cpm-iwf cpm-smsc cpm-ladder

# shellcheck source=../tests/lib/flow.sh
. "$root/tests/lib/flow.sh"
lab_network "$config" lab.toml # --netns: in namespaces, on 10.K. (labs/netns.sh)
echo "Lab: $config on ${lab_prefix}x.y (copied to $lab)"
start_network
for n in coreA coreB; do echo "  $n (cpm-core-route) listening on ${ready[$n]}"; done
for n in csA csB; do echo "  $n (cpm-groupd) listening on ${ready[$n]}"; done
# The SMSC reads the SMS to inject from a fifo this script holds open (fd 5).
mkfifo "$t/nc.in" || exit 2
exec 5<>"$t/nc.in"
START_STDIN="$t/nc.in" start nc cpm-smsc --config "$lab" --node nc --trace "$t/nc.trace"
echo "  nc (cpm-smsc) listening on ${ready[nc]}"
start iwf cpm-iwf --config "$lab" --node iwf --trace "$t/iwf.trace"
echo "  iwf (cpm-iwf) listening on ${ready[iwf]}"
# The IWF binds to the SMSC after its ready line; the SMSC prints nothing for a bind, so
# wait for the bind in the SMSC's trace.
poll_for "$t/nc.trace" 'bind_transceiver_resp' 10 || { echo "the IWF did not bind to the SMSC" >&2; exit 1; }

rc=0
echo
echo "=== Figure 7: a CPM Message to a number that is no CPM user's ==="
echo "\$ cpm-send --config lab.toml --node alice --register --notify delivery --wait tel:+15550100 'Hello from CPM'"
cpm-send --config "$lab" --node alice --register --notify delivery --wait --timeout 10 \
  --trace "$t/alice.trace" tel:+15550100 'Hello from CPM' || rc=$?
echo "(cpm-send exit status $rc: $( ((rc == 0)) && echo 'delivered as SMS' || echo 'not delivered'))"
echo "the SMSC received: $(head -n 1 "$t/nc.out" 2>/dev/null)"
# Figure 7's hops are what the traces hold so far: keep a copy, and where each trace ends.
mkdir -p "$t/fig7" "$t/fig8"
declare -A size
for f in "$t"/*.trace; do
  cp "$f" "$t/fig7/"
  size[$f]=$(stat -c %s "$f")
done
[[ -z $netns ]] || netns_routing
lab_figure alice,coreA,csA,iwf,nc "$t/fig7" "" fig7 || ((rc != 0)) || rc=1

echo
echo "=== Figure 8: an SMS to a CPM user ==="
start alice cpm-send --config "$lab" --node alice --receive --count 1 --trace "$t/alice-rx.trace"
echo "  alice (cpm-send --receive) registered on ${ready[alice]}"
echo "\$ echo '{\"from\":\"+15550100\",\"to\":\"+15550102\",\"text\":\"Hello from SMS\",\"report\":true}' > SMSC's stdin"
printf '{"from":"+15550100","to":"+15550102","text":"Hello from SMS","report":true}\n' >&5
wait_or_stop alice 15 || rc=1
echo "alice received: $(cat "$t/alice.out" 2>/dev/null)"
if poll_for "$t/nc.out" '(delivery acknowledgement)' 15; then
  echo "the SMSC received: $(grep -F '(delivery acknowledgement)' "$t/nc.out" | head -n 1)"
else
  echo "the SMSC received no delivery acknowledgement"
  rc=1
fi
# Figure 8's hops: what each trace gained since Figure 7, and alice's receiving trace.
for f in "$t"/*.trace; do
  tail -c +$((${size[$f]:-0} + 1)) "$f" >"$t/fig8/$(basename "$f")"
done
lab_figure alice,coreA,csA,iwf,nc "$t/fig8" "" fig8 || ((rc != 0)) || rc=1
lab_close "$rc" iwf nc csA csB coreA coreB
