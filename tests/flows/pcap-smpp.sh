#!/bin/bash
# --pcap with SMPP: Figure 7 (alice's message to a number that is no CPM user's, through the
# IWF to cpm-smsc and the receipt back as her delivery notification) with every node's
# capture file from the config (`pcap` key). The IWF's and the SMSC's captures are clean
# under tshark (checksums validated, no malformed frame, no expert error) and hold as many
# SMPP PDUs (Wireshark's SMPP dissector) and SIP messages as their traces have events; the
# merged capture of cpm-ladder --pcap has each PDU once, from the bytes the traces keep.
. "$(dirname "$0")/../lib/flow.sh"
. "$(dirname "$0")/../lib/tshark.sh"
. "$(dirname "$0")/../lib/pcap.sh"
need tshark python3

lab_config "$examples/lab-icsi.toml" lab.toml
pcap_in_config
start_network
start nc cpm-smsc --config "$lab" --node nc --json --trace "$t/nc.trace"
start iwf cpm-iwf --config "$lab" --node iwf --trace "$t/iwf.trace"
wait_for "$t/iwf.err" "bound as" 10

rc=0
cpm-send --config "$lab" --node alice --register --notify delivery --wait --timeout 10 \
  --trace "$t/alice.trace" --json tel:+15550100 'Hello from CPM' \
  >"$t/alice.json" 2>"$t/alice.err" || rc=$?
((rc == 0)) || fail "alice's cpm-send exited $rc: $(cat "$t/alice.err")"
stop iwf || fail "the IWF did not stop cleanly"
stop nc || fail "the SMSC did not stop cleanly"
stop_network

for n in iwf nc; do
  pcap_expect "$t/$n.pcap" smpp "$t/$n.trace"
  (($(trace_count smpp "$t/$n.trace") >= 4)) || fail "$n traced fewer than 4 SMPP PDUs"
done
pcap_expect "$t/iwf.pcap" sip "$t/iwf.trace"
pcap_expect "$t/alice.pcap" sip "$t/alice.trace"
tshark_pcap=$t/nc.pcap
(($(tshark_count 'smpp.command_id == 0x00000004') == 1)) || fail "expected one submit_sm in nc.pcap"

cpm-ladder --pcap "$t/run.pcap" "$t"/*.trace >/dev/null 2>"$t/ladder.err" ||
  fail "cpm-ladder --pcap failed: $(cat "$t/ladder.err")"
PCAP_TX_ONLY=1 pcap_expect "$t/run.pcap" smpp "$t"/*.trace
PCAP_TX_ONLY=1 pcap_expect "$t/run.pcap" sip "$t"/*.trace
echo "OK pcap-smpp"
