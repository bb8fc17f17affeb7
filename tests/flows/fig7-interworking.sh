#!/bin/bash
# Figure 7 (FLOWS.md, seed B.1.4) through the lab network with every node a real process:
# alice's CPM Message to tel:+15550100, a number that is no CPM user's, with a delivery
# notification: coreA -> csA (originating trigger) -> coreA -> the IWF (csA's interworking
# decision) -> submit_sm to the SMSC (cpm-smsc, the NC) -> 202 back; the SMSC's receipt
# becomes an IMDN "delivered" to alice through coreA and csA, and cpm-send --wait exits 0.
# The ladder, SMPP hops included, is compared with tests/flows/ladders/fig7.ladder. Then a
# number the SMSC reports undeliverable (stat:UNDELIV): IMDN "failed" and exit 1.
. "$(dirname "$0")/../lib/flow.sh"
need python3

lab_config "$examples/lab-icsi.toml" lab.toml
start_network
start nc cpm-smsc --config "$lab" --node nc --json --receipt-for +15550199=failed \
  --trace "$t/nc.trace"
start iwf cpm-iwf --config "$lab" --node iwf --trace "$t/iwf.trace"
wait_for "$t/iwf.err" "bound as" 10 # the IWF's bind_transceiver was answered

rc=0
cpm-send --config "$lab" --node alice --register --notify delivery --wait --timeout 10 \
  --trace "$t/alice.trace" --json tel:+15550100 'Hello from CPM' \
  >"$t/alice.json" 2>"$t/alice.err" || rc=$?
((rc == 0)) || { cat "$t/alice.err" >&2; fail "alice's cpm-send exited $rc, expected 0 (202, then IMDN delivered)"; }
# The SMSC took the SMS from alice's number (+15550102) to the non-CPM number, as sent.
expect_json_values "$t/nc.out" sms 15550102 15550100 'Hello from CPM'
mid=$(trace_message_id "$t/alice.trace")
[[ -n $mid ]] || fail "no imdn.Message-ID in alice's MESSAGE (trace $t/alice.trace)"
expect_json_values "$t/alice.json" delivered "$mid"
expect_ladder "$flows/ladders/fig7.ladder" "$t"/*.trace

# The SMSC fails the next number (stat:UNDELIV): alice is told "failed" and cpm-send exits 1.
rc=0
cpm-send --config "$lab" --node alice --register --notify delivery --wait --timeout 10 --json \
  tel:+15550199 'Nobody home' >"$t/alice-failed.json" 2>"$t/alice-failed.err" || rc=$?
((rc == 1)) || { cat "$t/alice-failed.err" >&2; fail "cpm-send to an undeliverable number exited $rc, expected 1"; }
expect_json_values "$t/alice-failed.json" failed
expect_json_values "$t/nc.out" sms 15550199 'Nobody home'

stop iwf || fail "the IWF did not stop cleanly"
stop nc || fail "the SMSC did not stop cleanly"
stop_network
echo "OK fig7-interworking"
