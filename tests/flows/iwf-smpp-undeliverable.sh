#!/bin/bash
# Figure 8 when the CPM user never takes the message: an SMS for alice's number that asks
# for a status report, while alice is not registered (her core answers 480), is tried
# outbox_attempts times; then its sender gets an SME delivery acknowledgement (submit_sm,
# esm_class 0x08) saying stat:UNDELIV (without a report asked: nothing, see test_iw.cpp).
. "$(dirname "$0")/../lib/flow.sh"
need perl
perl -MNet::SMPP -e 1 2>/dev/null || { [[ ${CI:-} == true ]] && fail "Net::SMPP missing"; skip "Net::SMPP (libnet-smpp-perl) is not installed"; }
claim_prefix
p=$lab_prefix
lab="$t/iwf.toml"
cat >"$lab" <<TOML
[[node]]
name = "coreA"
role = "core"
domain = "a.example"
listen = ["udp:${p}1.1:5060"]

[[node]]
name = "iwf"
role = "iwf"
domain = "a.example"
listen = ["udp:${p}1.3:5060"]
proxy = "coreA"
iwf_db = "iwf.sqlite"
smsc = "${p}1.4:2775"
system_id = "iwf"
password = "secret"
enquire_link_ms = 1000
reconnect_ms = 100
outbox_attempts = 2
outbox_backoff_ms = 100

[[user]]
uri = "sip:alice@a.example"
tel = "+15550101"
TOML

start coreA "$CPM_BIN/cpm-core-route" --config "$lab" --node coreA
perl "$CPM_SOURCE_DIR/tests/lib/smpp_smsc.pl" --host "${p}1.4" --port 2775 \
  --inject '15550199 15550101 Nobody reads this' >"$t/nc.out" 2>"$t/nc.err" </dev/null &
adopt nc $! "$t/nc.err"
wait_for "$t/nc.out" '"listening"' 10
start iwf "$CPM_BIN/cpm-iwf" --config "$lab" --node iwf -v
wait_for "$t/nc.out" '"esm_class":8' 20
expect_json "$t/nc.out" .event submit_sm .esm_class 8 .from 15550101 .to 15550199
grep '"esm_class":8' "$t/nc.out" | grep -q 'stat:UNDELIV' || fail "the SME acknowledgement does not say UNDELIV"
expect_contains "$t/iwf.err" "given up after 2 attempt(s); the SMS sender is told"
expect_eq "$(grep -c '"event":"submit_sm"' "$t/nc.out")" 1 "submit_sm at the SMSC"
echo OK iwf-smpp-undeliverable
