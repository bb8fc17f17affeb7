#!/bin/bash
# Figure 8 (FLOWS.md, seed B.1.5) through the lab network with every node a real process: an
# SMS from +15550100 to alice's number (+15550102), asking for a status report, is injected at
# the SMSC (cpm-smsc, the NC); the IWF sends it to alice as a CPM Message through coreA and
# csA (terminating trigger) with a delivery notification asked for; alice's notification goes
# back through coreA and csA (interworked: the number is no CPM user's) to the IWF, which
# sends it to the SMS sender as an SME delivery acknowledgement (submit_sm). The ladder,
# SMPP hops included, is compared with tests/flows/ladders/fig8.ladder.
. "$(dirname "$0")/../lib/flow.sh"
need python3

lab_config "$examples/lab-icsi.toml" lab.toml
start_network
mkfifo "$t/nc.in" || fail "mkfifo"
exec 5<>"$t/nc.in" # the SMSC's stdin, held open by the test (proc.sh closes 5-9 for children)
START_STDIN="$t/nc.in" start nc cpm-smsc --config "$lab" --node nc --json --trace "$t/nc.trace"
start iwf cpm-iwf --config "$lab" --node iwf --trace "$t/iwf.trace"
wait_for "$t/iwf.err" "bound as" 10
start alice cpm-send --config "$lab" --node alice --receive --count 1 --json \
  --trace "$t/alice.trace"

printf '{"from":"+15550100","to":"+15550102","text":"Hello from SMS","report":true}\n' >&5
expect_exit alice 0 "alice's exit status (one message received)"
expect_json_values "$t/alice.out" "tel:+15550100" "Hello from SMS"
# Her delivery notification reached the SMS sender as an SME delivery acknowledgement.
wait_for "$t/nc.out" '"event":"delivery_ack"' 15
expect_json_values "$t/nc.out" delivery_ack 15550102 15550100
expect_ladder "$flows/ladders/fig8.ladder" "$t"/*.trace

stop iwf || fail "the IWF did not stop cleanly"
stop nc || fail "the SMSC did not stop cleanly"
stop_network
echo "OK fig8-interworking"
