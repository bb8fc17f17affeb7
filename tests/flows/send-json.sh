#!/usr/bin/env bash
# --receive --json: one object per message with from, to, message_id, content_type, text,
# headers, time; notifications as type "notification". Malformed bodies get 400/415 and
# the receiver keeps serving.
set -u -o pipefail
: "${CPM_BIN:=$(cd "$(dirname "$0")/../.." && pwd)/build/default/tools}"
send=$CPM_BIN/cpm-send
t=$(mktemp -d "${TMPDIR:-/tmp}/send-json.XXXXXX")
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$t"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; for f in "$t"/*.err; do [[ -s $f ]] && { echo "-- $f"; cat "$f"; } >&2; done; exit 1; }

mkfifo "$t/ready"
"$send" --receive --json --display --listen udp:127.61.0.4:0 --count 2 --ready-fd 9 \
  9>"$t/ready" >"$t/bob.out" 2>"$t/bob.err" &
bob=$!
pids+=("$bob")
read -r -t 20 addrs <"$t/ready" || fail "receiver not ready"
port=${addrs#udp:127.61.0.4:}
port=${port%% *}
to="sip:bob@127.61.0.4:$port"

# Malformed bodies first: bad CPIM -> 400, unknown type -> 415, bad IMDN -> 400.
raw() { # raw CONTENT-TYPE BODY: send one MESSAGE over UDP, print the status code
  python3 - "$port" "$1" "$2" <<'PY'
import socket, sys
port, ctype, body = int(sys.argv[1]), sys.argv[2], sys.argv[3].replace('\\n', '\r\n')
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('127.61.0.5', 0))
s.settimeout(5)
lp = s.getsockname()[1]
req = (f"MESSAGE sip:bob@127.61.0.4:{port} SIP/2.0\r\n"
       f"Via: SIP/2.0/UDP 127.61.0.5:{lp};branch=z9hG4bK{ctype.__hash__() & 0xffffff:x}x\r\n"
       f"From: <sip:raw@127.61.0.5>;tag=1\r\nTo: <sip:bob@127.61.0.4>\r\n"
       f"Call-ID: {abs(hash(body))}@raw\r\nCSeq: 1 MESSAGE\r\nMax-Forwards: 70\r\n"
       f"Content-Type: {ctype}\r\nContent-Length: {len(body.encode())}\r\n\r\n{body}")
s.sendto(req.encode(), ('127.61.0.4', port))
print(s.recv(65535).decode().split(' ')[1])
PY
}
if command -v python3 >/dev/null; then
  [[ $(raw message/cpim 'From: <sip:a@x>\nno blank line') == 400 ]] || fail "bad CPIM not 400"
  [[ $(raw application/x-nonsense 'hi') == 415 ]] || fail "unknown type not 415"
  [[ $(raw message/cpim 'From: <sip:a@x>\nTo: <sip:b@y>\n\nContent-Type: message/imdn+xml\n\n<imdn>') == 400 ]] ||
    fail "bad IMDN not 400"
  grep -q 'answered 400' "$t/bob.err" || fail "no diagnostic for the bad CPIM"
fi

"$send" --json --notify delivery,display --wait --timeout 5 "$to" 'json "quoted" text' \
  >"$t/alice.out" 2>"$t/alice.err" || fail "send exited $?"
grep -c '"type":"notification"' "$t/alice.out" | grep -x 2 >/dev/null || fail "want 2 notifications: $(cat "$t/alice.out")"
grep -q '"notification":"display","status":"displayed"' "$t/alice.out" || fail "no display notification"
"$send" --content-type text/plain "$to" second 2>"$t/second.err" || fail "second send exited $?"

wait "$bob" || fail "receiver exited $?"
pids=()
first=$(sed -n 1p "$t/bob.out")
for field in '"type":"message"' '"from":"sip:cpm-send@' "\"to\":\"$to\"" '"message_id":"' \
  '"content_type":"text/plain"' '"text":"json \"quoted\" text"' '"headers":{' '"time":"'; do
  [[ $first == *"$field"* ]] || fail "field $field missing in $first"
done
[[ $(sed -n 2p "$t/bob.out") == *'"text":"second"'* ]] || fail "second message missing"
[[ $(wc -l <"$t/bob.out") == 2 ]] || fail "stdout has more than the 2 messages"
echo OK
