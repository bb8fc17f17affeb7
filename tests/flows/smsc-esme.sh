#!/usr/bin/env bash
# cpm-smsc against an independent ESME (Debian's Net::SMPP, tests/lib/smpp_esme.pl): a bind
# with a wrong password is refused with ESME_RINVPASWD; a good bind is served: two SMS
# submitted with receipts asked are printed and answered with message ids, each gets a
# DELIVRD receipt carrying its id (receipted_message_id and the receipt text); an SMS
# injected on cpm-smsc's stdin before the bind is delivered once the ESME is bound; every
# PDU is in the trace as transport smpp.
. "$(dirname "$0")/../lib/flow.sh"
need perl
perl -MNet::SMPP -e1 2>/dev/null || {
  [[ ${CI:-} == true ]] && fail "Net::SMPP (libnet-smpp-perl) is not installed"
  skip "Net::SMPP (libnet-smpp-perl) is not installed"
}
esme() { perl "$CPM_SOURCE_DIR/tests/lib/smpp_esme.pl" "$@"; }

mkfifo "$t/in"
exec 5<>"$t/in"
START_STDIN=$t/in start smsc cpm-smsc --listen tcp:127.0.0.1:0 --system-id esme \
  --password secret --json --trace "$t/smsc.trace" --name nc
port=${ready[smsc]##*:}
[[ $port =~ ^[0-9]+$ ]] || fail "ready line '${ready[smsc]}' has no port"

# Queued until an ESME is bound.
echo '+15550101 +15550100 hello from a phone' >&5

rc=0
esme --port "$port" --system-id esme --password wrong >"$t/bad.out" || rc=$?
expect_eq "$rc" 1 "ESME exit status after a refused bind"
expect_json "$t/bad.out" .pdu bind_transceiver_resp .status 14
wait_for "$t/smsc.err" "ESME_RINVPASWD"

esme --port "$port" --system-id esme --password secret --receipt \
  --submit '+15550100 +15550101 hello world' --submit '15550100 15550102 second one' \
  --receipts 2 --sms 1 >"$t/esme.out" || fail "ESME failed: $(cat "$t/esme.out")"
expect_json "$t/esme.out" .pdu bind_transceiver_resp .status 0 .system_id nc
expect_json "$t/esme.out" .pdu deliver_sm .short_message "hello from a phone" .source_addr +15550101
mapfile -t ids < <(grep '"submit_sm_resp"' "$t/esme.out" | sed -E 's/.*"message_id":"([^"]*)".*/\1/')
expect_eq "${#ids[@]}" 2 "submit_sm_resp count"
[[ ${ids[0]} != "${ids[1]}" ]] || fail "two submissions got one message id ${ids[0]}"
for id in "${ids[@]}"; do
  expect_json "$t/esme.out" .pdu deliver_sm .esm_class 4 .receipted_message_id "$id" .message_state 2
  grep -q "\"short_message\":\"id:$id sub:001 dlvrd:001 .* stat:DELIVRD err:000" "$t/esme.out" ||
    fail "no receipt text for $id"
done

wait_for "$t/smsc.out" '"event":"delivered"'
expect_json "$t/smsc.out" .event sms .from +15550100 .to +15550101 .text "hello world"
expect_json "$t/smsc.out" .event sms .to 15550102 .text "second one" .parts 1
expect_json "$t/smsc.out" .event receipt .message_id "${ids[0]}" .stat DELIVRD
expect_json "$t/smsc.out" .event receipt .message_id "${ids[1]}" .stat DELIVRD
expect_json "$t/smsc.out" .event delivered .from +15550101 .to +15550100 .text "hello from a phone"

# Every PDU is a trace event of transport smpp whose message names the PDU.
for pdu in bind_transceiver_resp submit_sm submit_sm_resp deliver_sm deliver_sm_resp unbind_resp; do
  grep -q "\"message\":\"$pdu seq=.*\"transport\":\"smpp\"" "$t/smsc.trace" ||
    fail "no $pdu in the trace"
done
cpm-ladder "$t/smsc.trace" >"$t/ladder" || fail "cpm-ladder failed"
expect_contains "$t/ladder" submit_sm
stop smsc || fail "cpm-smsc did not stop cleanly"
echo OK
