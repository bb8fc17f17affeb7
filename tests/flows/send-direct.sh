#!/usr/bin/env bash
# cpm-send to a `cpm-send --receive` directly (no core): the text arrives on stdout,
# --notify delivery --wait exits 0, and the receiver's notification carries the sender's
# imdn.Message-ID. A body over 1300 bytes goes over TCP.
. "$(dirname "$0")/../lib/flow.sh"
send=$CPM_BIN/cpm-send
claim_prefix
ip=${lab_prefix}0.1 # an address of this test's own

# A fixed port shared by UDP and TCP (own address): a big body goes over TCP to the same port.
start bob "$send" --receive --listen "udp:$ip:5060" --listen "tcp:$ip:5060" --count 3 \
  --trace "$t/bob.trace" --name bob
port=${ready[bob]#"udp:$ip:"}
port=${port%% *}
[[ $port =~ ^[0-9]+$ && $port != 0 ]] || fail "bad ready line '${ready[bob]}'"
to="sip:bob@$ip:$port"

# 1. Plain text from arguments.
"$send" "$to" hello plain world 2>"$t/a1.err" || fail "plain send exited $?"

# 2. --notify delivery --wait: exit 0, and the notification names our Message-ID.
"$send" --json --notify delivery --wait --timeout 5 "$to" 'with notification' \
  >"$t/a2.out" 2>"$t/a2.err" || fail "send --wait exited $?"
id=$(grep -o '"type":"response"' "$t/a2.out" >/dev/null && grep '"type":"response"' "$t/a2.out" |
  grep -o '"message_id":"[A-Za-z0-9]*"' | cut -d'"' -f4)
[[ ${#id} -ge 8 ]] || fail "no message_id in $(cat "$t/a2.out")"
grep '"type":"notification"' "$t/a2.out" | grep "\"message_id\":\"$id\"" >/dev/null ||
  fail "sender saw no notification for $id"
grep -q '"status":"delivered"' "$t/a2.out" || fail "notification not 'delivered'"
# The receiver's own trace shows the notification it sent, with the original Message-ID.
grep '"dir":"tx"' "$t/bob.trace" | grep 'MESSAGE sip:' | grep "<message-id>$id</message-id>" >/dev/null ||
  fail "receiver's notification does not carry $id"

# 3. A body over 1300 bytes goes over TCP.
head -c 2000 /dev/zero | tr '\0' 'x' >"$t/big.txt"
"$send" --file "$t/big.txt" "$to" 2>"$t/a3.err" || fail "big send exited $?"
grep '"dir":"rx"' "$t/bob.trace" | grep '"transport":"tcp"' | grep 'MESSAGE sip:bob' >/dev/null ||
  fail "big message did not arrive over TCP"

wait_exit bob || fail "receiver exited $?"
[[ $(sed -n 1p "$t/bob.out") == "hello plain world" ]] || fail "line 1: $(sed -n 1p "$t/bob.out")"
[[ $(sed -n 2p "$t/bob.out") == "with notification" ]] || fail "line 2: $(sed -n 2p "$t/bob.out")"
[[ $(sed -n 3p "$t/bob.out") == "$(cat "$t/big.txt")" ]] || fail "big message mangled"
# The request carried the CPM enabler usage indication.
grep '"dir":"rx"' "$t/bob.trace" | grep 'P-Preferred-Service: urn:urn-7:3gpp-service.ims.icsi.oma.cpm.msg' >/dev/null ||
  fail "no P-Preferred-Service"
grep '"dir":"rx"' "$t/bob.trace" | grep 'Accept-Contact: \*;+g.3gpp.icsi-ref' >/dev/null || fail "no Accept-Contact"
echo OK
