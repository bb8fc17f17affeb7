#!/bin/bash
# cpm-iwf as an ESME against an independent SMSC (Debian's Net::SMPP, tests/lib/smpp_smsc.pl)
# behind one core whose public service identities send the test's numbers to the IWF:
# Figure 7: alice's CPM Message to tel:+15550100 asking for a delivery notification becomes
# a submit_sm with registered_delivery from her number, and the SMSC's receipt (TLVs and
# text) becomes her notification 'delivered' (exit 0), each PDU in the IWF's trace.
# Figure 8: the SMSC's SMS from +15550199 to alice's number reaches her as a CPM Message
# from tel:+15550199; her delivery notification goes back as a submit_sm with the SME
# delivery acknowledgement esm_class (0x08). Then with stat UNDELIV: 'failed', exit 1. Then
# the SMSC is down while alice sends three messages (each 202): once it is back they are
# submitted, in order.
. "$(dirname "$0")/../lib/flow.sh"
. "$(dirname "$0")/../lib/iwf.sh"
need_net_smpp
iwf_config

start coreA "$CPM_BIN/cpm-core-route" --config "$lab" --node coreA --trace "$t/coreA.trace"
start_smsc nc --inject '15550199 15550101 Hello from a phone'
start bob_alice "$CPM_BIN/cpm-send" --config "$lab" --node alice --receive --count 1 --json
start iwf "$CPM_BIN/cpm-iwf" --config "$lab" --node iwf --trace "$t/iwf.trace" -v
wait_for "$t/iwf.err" "bound as 'iwf'" 10

# ---- Figure 8 (the SMSC delivers its SMS at the bind) ----
expect_exit bob_alice 0 "alice's receiver"
expect_json "$t/bob_alice.out" .type message .from tel:+15550199 .text 'Hello from a phone'
wait_for "$t/nc.out" '"esm_class":8' 10
expect_json "$t/nc.out" .event submit_sm .to 15550199 .from 15550101 .esm_class 8
expect_json "$t/nc.out" .event deliver_sm_resp .status 0

# ---- Figure 7 ----
rc=0
"$CPM_BIN/cpm-send" --config "$lab" --node alice --register --notify delivery --wait \
  --timeout 10 --json tel:+15550100 'Hello SMS' >"$t/a1.json" 2>"$t/a1.err" || rc=$?
expect_eq "$rc" 0 "alice's cpm-send (delivered)"
expect_json "$t/a1.json" .type response .status 202
expect_json "$t/a1.json" .type notification .from tel:+15550100 .status delivered
expect_json "$t/nc.out" .event submit_sm .to 15550100 .from 15550101 .registered_delivery 1 \
  .text 'Hello SMS'
grep '"transport":"smpp"' "$t/iwf.trace" | quiet_grep 'submit_sm ' || fail "no submit_sm in the IWF's trace"

# ---- Figure 7, undeliverable ----
stop iwf
stop nc || true
start_smsc nc2 --stat UNDELIV
start iwf "$CPM_BIN/cpm-iwf" --config "$lab" --node iwf --trace "$t/iwf.trace" -v
wait_for "$t/iwf.err" "bound as 'iwf'" 10
rc=0
"$CPM_BIN/cpm-send" --config "$lab" --node alice --register --notify delivery --wait \
  --timeout 10 --json tel:+15550100 'Nobody home' >"$t/a2.json" 2>"$t/a2.err" || rc=$?
expect_eq "$rc" 1 "alice's cpm-send (undeliverable)"
expect_json "$t/a2.json" .type notification .from tel:+15550100 .status failed

# ---- the SMSC down, then up: what was accepted meanwhile arrives, in order ----
stop nc2 || true
for q in Q1 Q2 Q3; do
  rc=0
  "$CPM_BIN/cpm-send" --config "$lab" --node alice --json tel:+15550100 "Queued $q" \
    >"$t/$q.json" 2>"$t/$q.err" || rc=$?
  expect_eq "$rc" 0 "alice's cpm-send ($q, SMSC down)"
  expect_json "$t/$q.json" .type response .status 202
done
start_smsc nc3
wait_for "$t/nc3.out" 'Queued Q3' 20
expect_eq "$(grep -o 'Queued Q[0-9]' "$t/nc3.out" | tr '\n' ' ')" "Queued Q1 Queued Q2 Queued Q3 " \
  "SMS submitted after the SMSC came back"
echo OK iwf-smpp
