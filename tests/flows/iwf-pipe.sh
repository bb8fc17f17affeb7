#!/bin/bash
# cpm-iwf --pipe (cpm-iwf(1) PIPE FORMAT) as the IWF of Figures 7 and 8, the test script
# being the SMS network, behind one core whose public service identities send the two
# numbers of the test to the IWF (the participating function's decision is tested in
# pf-interwork*.sh):
# Figure 7: alice's CPM Message to tel:+15550100 with a delivery notification is answered
# 202, comes out as one "sms" line, and the test's "receipt" line becomes alice's
# notification 'delivered' (exit 0); UNDELIV becomes 'failed' (exit 1); a repeat of an
# accepted message (the same Message-ID, a new transaction) is not submitted twice; image/png
# gets 415 and a CPIM HTML body 488; a bad input line gets a "nack" and the IWF goes on.
# Figure 8: an "sms" line for alice's number reaches alice as a CPM Message from
# tel:+15550199 asking for a delivery notification; her notification comes out as a "report"
# line. Then a kill -9 between the 202 and the receipt: after the restart the receipt still
# maps back, and nothing is submitted twice.
. "$(dirname "$0")/../lib/flow.sh"
. "$(dirname "$0")/../lib/iwf.sh"
need python3
iwf_config 'sms_routes = ["+1555"]  # +44... has no route: 404'
p=$lab_prefix

# The test holds the IWF's stdin open on fd 5 (never inherited: proc.sh closes 5-9).
mkfifo "$t/iwf.in" || fail "mkfifo"
exec 5<>"$t/iwf.in"
start coreA "$CPM_BIN/cpm-core-route" --config "$lab" --node coreA --trace "$t/coreA.trace"
START_STDIN="$t/iwf.in" start iwf "$CPM_BIN/cpm-iwf" --config "$lab" --node iwf --pipe \
  --trace "$t/iwf.trace" -v

# sms_id N: the "id" of the Nth "sms" line the IWF wrote.
sms_id()
{
  grep '"type":"sms"' "$t/iwf.out" | sed -n "${1}p" | python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["id"])'
}

# ---- Figure 7: delivered ----
send_bg()
{
  "$CPM_BIN/cpm-send" --config "$lab" --node alice --register --notify delivery --wait \
    --timeout 10 --json "$@"
}
send_bg tel:+15550100 'Hello SMS' >"$t/a1.json" 2>"$t/a1.err" &
adopt a1 $! "$t/a1.err"
wait_for "$t/iwf.out" '"type":"sms"' 10
expect_json "$t/iwf.out" .type sms .to +15550100 .text 'Hello SMS' .report true
id=$(sms_id 1)
printf '{"type":"receipt","id":"%s","stat":"DELIVRD"}\n' "$id" >&5
expect_exit a1 0 "alice's cpm-send (delivered)"
expect_json "$t/a1.json" .type response .status 202
expect_json "$t/a1.json" .type notification .from tel:+15550100 .status delivered
wait_for "$t/iwf.out" "{\"id\":\"$id\",\"type\":\"ack\"}" 5

# ---- Figure 7: failed ----
send_bg tel:+15550100 'Nobody home' >"$t/a2.json" 2>"$t/a2.err" &
adopt a2 $! "$t/a2.err"
poll_for "$t/iwf.out" 'Nobody home' 10 || fail "the second SMS never came out"
id2=$(sms_id 2)
printf '{"type":"receipt","id":"%s","stat":"UNDELIV"}\n' "$id2" >&5
expect_exit a2 1 "alice's cpm-send (undeliverable)"
expect_json "$t/a2.json" .type notification .from tel:+15550100 .status failed

# ---- what cannot be carried ----
rc=0
printf 'x' | "$CPM_BIN/cpm-send" --config "$lab" --node alice --json --plain \
  --content-type image/png --file - tel:+15550100 >"$t/a3.json" 2>"$t/a3.err" || rc=$?
expect_eq "$rc" 1 "image/png exit status"
expect_json "$t/a3.json" .type response .status 415
# A number outside sms_routes: 404, nothing submitted.
rc=0
"$CPM_BIN/cpm-send" --config "$lab" --node alice --json tel:+442079460000 'To London' \
  >"$t/a4.json" 2>"$t/a4.err" || rc=$?
expect_eq "$rc" 1 "no-route exit status"
expect_json "$t/a4.json" .type response .status 404
expect_contains "$t/iwf.err" 'no SMS route for +442079460000'
if grep -q 'To London' "$t/iwf.out"; then fail "a message without a route was submitted"; fi
# A raw MESSAGE with an HTML CPIM body: 488 with a Warning.
python3 - "$p" >"$t/raw.txt" <<'PY'
import socket, sys
p = sys.argv[1]
cpim = ("From: <sip:alice@a.example>\r\nTo: <tel:+15550100>\r\nNS: imdn <urn:ietf:params:imdn>\r\n"
        "imdn.Message-ID: h1\r\n\r\nContent-Type: text/html\r\n\r\n<b>hi</b>")
msg = (f"MESSAGE tel:+15550100 SIP/2.0\r\nVia: SIP/2.0/UDP {p}1.20:5099;branch=z9hG4bKraw1\r\n"
       f"From: <sip:alice@a.example>;tag=r1\r\nTo: <tel:+15550100>\r\nCall-ID: raw1\r\n"
       f"CSeq: 1 MESSAGE\r\nMax-Forwards: 70\r\nContent-Type: message/cpim\r\n"
       f"Content-Length: {len(cpim)}\r\n\r\n{cpim}")
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((f"{p}1.20", 5099))  # straight to the IWF
s.settimeout(5)
s.sendto(msg.encode(), (f"{p}1.3", 5060))
print(s.recvfrom(65535)[0].decode())
PY
head -n1 "$t/raw.txt" | quiet_grep '^SIP/2.0 488' || fail "HTML CPIM: $(head -n1 "$t/raw.txt")"
grep -q '^Warning: 399' "$t/raw.txt" || fail "no Warning in the 488"

# ---- bad input line: nack, and the IWF goes on ----
echo 'this is not json' >&5
wait_for "$t/iwf.out" '"type":"nack"' 5
expect_contains "$t/iwf.err" 'not a JSON object'

# ---- Figure 8 ----
start bob_alice "$CPM_BIN/cpm-send" --config "$lab" --node alice --receive --count 1 --json
echo '{"type":"sms","id":"n-1","from":"+15550199","to":"+15550101","text":"From a phone","report":true}' >&5
wait_for "$t/iwf.out" '{"id":"n-1","type":"ack"}' 5
expect_exit bob_alice 0 "alice's receiver"
expect_json "$t/bob_alice.out" .type message .from tel:+15550199 .text 'From a phone'
wait_for "$t/iwf.out" '"type":"report"' 10
expect_json "$t/iwf.out" .type report .to +15550199 .from +15550101 .ref n-1 .stat DELIVRD
# The same SMS again (a repeated deliver_sm): acknowledged, not delivered twice.
echo '{"type":"sms","id":"n-1","from":"+15550199","to":"+15550101","text":"From a phone","report":true}' >&5
poll_for "$t/iwf.err" 'a repeat, dropped' 5 || fail "a repeated SMS was not recognised"

# ---- kill -9 between the 202 and the receipt ----
send_bg tel:+15550100 'Survives a crash' >"$t/a4.json" 2>"$t/a4.err" &
adopt a4 $! "$t/a4.err"
poll_for "$t/iwf.out" 'Survives a crash' 10 || fail "the third SMS never came out"
id4=$(grep '"type":"sms"' "$t/iwf.out" | grep 'Survives a crash' | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["id"])')
wait_for "$t/a4.json" '"status":202' 5
crash iwf
mv "$t/iwf.out" "$t/iwf.out.1"
START_STDIN="$t/iwf.in" start iwf "$CPM_BIN/cpm-iwf" --config "$lab" --node iwf --pipe \
  --trace "$t/iwf.trace" -v
expect_contains "$t/iwf.err" '1 awaiting receipts'
printf '{"type":"receipt","id":"%s","stat":"DELIVRD"}\n' "$id4" >&5
expect_exit a4 0 "alice's cpm-send across the IWF's restart"
expect_json "$t/a4.json" .type notification .from tel:+15550100 .status delivered
expect_eq "$(cat "$t/iwf.out.1" "$t/iwf.out" | grep -c 'Survives a crash')" 1 \
  "submissions of the crash message"
echo OK iwf-pipe
