#!/bin/bash
# Figure 8 when the CPM user never takes the message: an SMS for alice's number that asks
# for a status report, while alice is not registered (her core answers 480), is tried
# outbox_attempts times; then its sender gets an SME delivery acknowledgement (submit_sm,
# esm_class 0x08) saying stat:UNDELIV (without a report asked: nothing, see test_iw.cpp).
. "$(dirname "$0")/../lib/flow.sh"
. "$(dirname "$0")/../lib/iwf.sh"
need_net_smpp
iwf_config 'outbox_attempts = 2' 'outbox_backoff_ms = 100'

start coreA "$CPM_BIN/cpm-core-route" --config "$lab" --node coreA
start_smsc nc --inject '15550199 15550101 Nobody reads this'
start iwf "$CPM_BIN/cpm-iwf" --config "$lab" --node iwf -v
wait_for "$t/nc.out" '"esm_class":8' 20
expect_json "$t/nc.out" .event submit_sm .esm_class 8 .from 15550101 .to 15550199
grep '"esm_class":8' "$t/nc.out" | quiet_grep 'stat:UNDELIV' || fail "the SME acknowledgement does not say UNDELIV"
expect_contains "$t/iwf.err" "given up after 2 attempt(s); the SMS sender is told"
expect_eq "$(grep -c '"event":"submit_sm"' "$t/nc.out")" 1 "submit_sm at the SMSC"
echo OK iwf-smpp-undeliverable
