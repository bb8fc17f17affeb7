#!/usr/bin/env bash
# --receive --json: one object per message with from, to, message_id, content_type, text,
# headers, time; notifications as type "notification". Malformed bodies get 400/415 and
# the receiver keeps serving.
. "$(dirname "$0")/../lib/flow.sh"
send=$CPM_BIN/cpm-send
need python3
claim_prefix
ip=${lab_prefix}0.4  # the receiver's address
me=${lab_prefix}0.5 # the raw client's

start bob "$send" --receive --json --display --listen "udp:$ip:0" --count 2
port=${ready[bob]#"udp:$ip:"}
port=${port%% *}
to="sip:bob@$ip:$port"

# Malformed bodies first: bad CPIM -> 400, unknown type -> 415, bad IMDN -> 400.
raw() { # raw CONTENT-TYPE BODY: send one MESSAGE over UDP, print the status code
  python3 - "$port" "$1" "$2" "$ip" "$me" <<'PY'
import socket, sys
port, ctype, body = int(sys.argv[1]), sys.argv[2], sys.argv[3].replace('\\n', '\r\n')
ip, me = sys.argv[4], sys.argv[5]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((me, 0))
s.settimeout(5)
lp = s.getsockname()[1]
req = (f"MESSAGE sip:bob@{ip}:{port} SIP/2.0\r\n"
       f"Via: SIP/2.0/UDP {me}:{lp};branch=z9hG4bK{ctype.__hash__() & 0xffffff:x}x\r\n"
       f"From: <sip:raw@{me}>;tag=1\r\nTo: <sip:bob@{ip}>\r\n"
       f"Call-ID: {abs(hash(body))}@raw\r\nCSeq: 1 MESSAGE\r\nMax-Forwards: 70\r\n"
       f"Content-Type: {ctype}\r\nContent-Length: {len(body.encode())}\r\n\r\n{body}")
s.sendto(req.encode(), (ip, port))
print(s.recv(65535).decode().split(' ')[1])
PY
}
[[ $(raw message/cpim 'From: <sip:a@x>\nno blank line') == 400 ]] || fail "bad CPIM not 400"
[[ $(raw application/x-nonsense 'hi') == 415 ]] || fail "unknown type not 415"
[[ $(raw message/cpim 'From: <sip:a@x>\nTo: <sip:b@y>\n\nContent-Type: message/imdn+xml\n\n<imdn>') == 400 ]] ||
  fail "bad IMDN not 400"
grep -q 'answered 400' "$t/bob.err" || fail "no diagnostic for the bad CPIM"

"$send" --json --notify delivery,display --wait --timeout 5 "$to" 'json "quoted" text' \
  >"$t/alice.out" 2>"$t/alice.err" || fail "send exited $?"
grep -c '"type":"notification"' "$t/alice.out" | grep -x 2 >/dev/null || fail "want 2 notifications: $(cat "$t/alice.out")"
grep -q '"notification":"display","status":"displayed"' "$t/alice.out" || fail "no display notification"
"$send" --content-type text/plain "$to" second 2>"$t/second.err" || fail "second send exited $?"

wait_exit bob || fail "receiver exited $?"
first=$(sed -n 1p "$t/bob.out")
for field in '"type":"message"' '"from":"sip:cpm-send@' "\"to\":\"$to\"" '"message_id":"' \
  '"content_type":"text/plain"' '"text":"json \"quoted\" text"' '"headers":{' '"time":"'; do
  [[ $first == *"$field"* ]] || fail "field $field missing in $first"
done
[[ $(sed -n 2p "$t/bob.out") == *'"text":"second"'* ]] || fail "second message missing"
[[ $(wc -l <"$t/bob.out") == 2 ]] || fail "stdout has more than the 2 messages"
echo OK
