#!/bin/bash
# cpm-iwf killed (SIGKILL) at the two points where a crash could lose or double a message,
# against the independent SMSC (Debian's Net::SMPP, tests/lib/smpp_smsc.pl):
# 1. between its 202 and the SMSC's submit_sm_resp (the SMSC holds the answer to the first
#    submit_sm): after the restart the message is submitted once more, and only once, and
#    alice's cpm-send --wait gets 'delivered';
# 2. between the SMSC's receipt (deliver_sm, answered once stored) and its IMDN reaching
#    alice (she is not reachable until then): after the restart the notification reaches
#    her exactly once (a later restart does not send it again: the next thing she gets is
#    a sentinel SMS), and the message was submitted exactly once.
. "$(dirname "$0")/../lib/flow.sh"
. "$(dirname "$0")/../lib/iwf.sh"
need_net_smpp
iwf_config 'outbox_attempts = 100' 'outbox_backoff_ms = 200'

# start_iwf N: cpm-iwf (again, its trace in iwfN.trace), ready once bound to the SMSC.
start_iwf()
{
  start iwf "$CPM_BIN/cpm-iwf" --config "$lab" --node iwf --trace "$t/iwf$1.trace" -v --json
  wait_for "$t/iwf.err" "bound as 'iwf'" 10
}

# submitted TEXT: how many submit_sm lines of the SMSC's outputs carry TEXT (held or not).
submitted()
{
  cat "$t"/nc*.out | python3 -c '
import json, sys
print(sum(1 for l in sys.stdin if l.strip() and json.loads(l).get("event") == "submit_sm"
          and json.loads(l).get("text") == sys.argv[1]))' "$1"
}

start coreA "$CPM_BIN/cpm-core-route" --config "$lab" --node coreA --trace "$t/coreA.trace"
start_smsc nc --hold 1

# ---- 1. kill -9 between the 202 and the submit_sm_resp ----
start_iwf 1
"$CPM_BIN/cpm-send" --config "$lab" --node alice --register --notify delivery --wait \
  --timeout 30 --json tel:+15550100 'Held once' >"$t/a1.out" 2>"$t/a1.err" &
adopt a1 $! "$t/a1.err"
wait_for "$t/nc.out" '"held":1' 10
expect_json "$t/a1.out" .type response .status 202
crash iwf
start_iwf 2
expect_exit a1 0 "alice's cpm-send (delivered after the restart)"
expect_json "$t/a1.out" .type notification .from tel:+15550100 .status delivered
expect_eq "$(submitted 'Held once')" 2 "submit_sm of 'Held once' (held, then once more)"
expect_json "$t/nc.out" .event submit_sm .id m1 .text 'Held once' .registered_delivery 1
# --json with SMPP: the restarted IWF says what it submitted and the receipt it mapped.
expect_json "$t/iwf.out" .type submit .kind message .from +15550101 .to +15550100 .text 'Held once'
expect_json "$t/iwf.out" .type receipt .smsc_id m1 .stat DELIVRD

# ---- 2. kill -9 between the receipt and its IMDN ----
# alice is not listening: the IWF's notification to her waits in its store.
rc=0
"$CPM_BIN/cpm-send" --config "$lab" --node alice --notify delivery --json tel:+15550100 \
  'Receipt pending' >"$t/a2.out" 2>"$t/a2.err" || rc=$?
expect_eq "$rc" 0 "alice's cpm-send (no wait)"
expect_json "$t/a2.out" .type response .status 202
wait_for "$t/nc.out" '"text":"Receipt pending"' 10
wait_for "$t/iwf.err" "MESSAGE sip:alice@a.example not delivered" 10
crash iwf
start rx "$CPM_BIN/cpm-send" --config "$lab" --node alice --receive --count 1 --json
start_iwf 3
wait_for "$t/rx.out" '"type":"notification"' 20
expect_json "$t/rx.out" .type notification .status delivered
# The IWF forgets the notification when its 200 comes (the only 200 this run receives); a
# kill -9 after that and a restart must not send it again: the next thing alice gets is
# the sentinel SMS the new SMSC delivers at the bind.
wait_for "$t/iwf3.trace" '"dir":"rx","first_line":"SIP/2.0 200 OK"' 10
crash iwf
stop nc || true
start_smsc nc2 --inject '15550199 15550101 Sentinel'
start_iwf 4
expect_exit rx 0 "alice's receiver"
expect_json "$t/rx.out" .type message .from tel:+15550199 .text Sentinel
expect_eq "$(grep -c '"type":"notification"' "$t/rx.out")" 1 "notifications alice got"
expect_eq "$(submitted 'Receipt pending')" 1 "submit_sm of 'Receipt pending'"
echo OK iwf-smpp-restart
