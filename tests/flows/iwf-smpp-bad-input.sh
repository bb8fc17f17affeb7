#!/bin/bash
# cpm-iwf's SMPP side fed what no SMPP library sends, by a fake SMSC on a raw socket
# (tests/lib/smpp_raw_smsc.py): an unknown command_id gets generic_nack ESME_RINVCMDID, a
# truncated deliver_sm gets generic_nack and the next deliver_sm is served on the same
# connection; a command_length under 16 (the stream cannot be cut into PDUs any more) gets
# generic_nack ESME_RINVCMDLEN and the IWF closes the connection, binds again and serves the
# next deliver_sm. Each has its diagnostic on stderr.
. "$(dirname "$0")/../lib/flow.sh"
. "$(dirname "$0")/../lib/iwf.sh"
need python3
iwf_config
p=$lab_prefix

python3 "$CPM_SOURCE_DIR/tests/lib/smpp_raw_smsc.py" "${p}1.4" 2775 15550199 15550101 \
  >"$t/nc.out" 2>"$t/nc.err" </dev/null &
adopt nc $! "$t/nc.err"
wait_for "$t/nc.out" '"listening"' 10
start iwf "$CPM_BIN/cpm-iwf" --config "$lab" --node iwf --trace "$t/iwf.trace" -v --json
wait_for "$t/nc.out" '"to": "good2"' 20
# ESME_RINVCMDID = 3, ESME_RINVCMDLEN = 2, generic_nack = 0x80000000, deliver_sm_resp = 0x80000005
expect_json "$t/nc.out" .to unknown .command_id 2147483648 .status 3 .seq 101
expect_json "$t/nc.out" .to truncated .command_id 2147483648 .seq 102
expect_json "$t/nc.out" .to good1 .command_id 2147483653 .status 0 .seq 103
expect_json "$t/nc.out" .to lying .command_id 2147483648 .status 2
expect_json "$t/nc.out" .event closed .after lying
expect_json "$t/nc.out" .to good2 .command_id 2147483653 .status 0 .seq 105
expect_contains "$t/iwf.err" "unreadable PDU"
expect_contains "$t/iwf.err" "generic_nack sent"
expect_contains "$t/iwf.err" "connection closed"
[[ $(grep -c "bound as 'iwf'" "$t/iwf.err") == 2 ]] || fail "the IWF did not bind again"
# --json with SMPP: each SMS taken is an "sms" line, none for what was refused.
expect_json "$t/iwf.out" .type sms .from +15550199 .to +15550101 .user sip:alice@a.example \
  .text 'after truncated' .complete true
expect_json "$t/iwf.out" .type sms .text 'after reconnect'
expect_eq "$(grep -c '"type":"sms"' "$t/iwf.out")" 2 "sms lines of --json"
alive iwf || fail "cpm-iwf ended"
echo OK iwf-smpp-bad-input
