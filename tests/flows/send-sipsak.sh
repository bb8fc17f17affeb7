#!/usr/bin/env bash
# sipsak sends a plain MESSAGE to cpm-send --receive, which prints it.
set -u -o pipefail
: "${CPM_BIN:=$(cd "$(dirname "$0")/../.." && pwd)/build/default/tools}"
send=$CPM_BIN/cpm-send
if ! command -v sipsak >/dev/null; then
  [[ ${CI:-} == true ]] && { echo "FAIL: sipsak missing under CI" >&2; exit 1; }
  echo "skipped: sipsak missing"
  exit 77
fi
t=$(mktemp -d "${TMPDIR:-/tmp}/send-sipsak.XXXXXX")
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$t"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; for f in "$t"/*.err; do [[ -s $f ]] && { echo "-- $f"; cat "$f"; } >&2; done; exit 1; }

mkfifo "$t/ready"
"$send" --receive --listen udp:127.61.0.6:0 --count 1 --ready-fd 9 9>"$t/ready" \
  >"$t/bob.out" 2>"$t/bob.err" &
bob=$!
pids+=("$bob")
read -r -t 20 addrs <"$t/ready" || fail "receiver not ready"
port=${addrs#udp:127.61.0.6:}
port=${port%% *}
# sipsak 0.9.8's own message mode (-M) crashes (NULL sprintf buffer); send the MESSAGE
# from a file with -f instead (sipsak still adds its Via and handles the transaction).
printf 'MESSAGE sip:bob@127.61.0.6:%s SIP/2.0\r\nFrom: <sip:sipsak@127.0.0.1>;tag=1\r\nTo: <sip:bob@127.61.0.6>\r\nCall-ID: %s@sipsak\r\nCSeq: 1 MESSAGE\r\nMax-Forwards: 70\r\nContent-Type: text/plain\r\nContent-Length: 17\r\n\r\nhello from sipsak' \
  "$port" "$$" >"$t/msg"
sipsak -f "$t/msg" -s "sip:bob@127.61.0.6:$port" -H 127.0.0.1 >"$t/sipsak.log" 2>"$t/sipsak.err" ||
  fail "sipsak exited $?: $(cat "$t/sipsak.log")"
wait "$bob" || fail "receiver exited $?"
pids=()
grep -qx 'hello from sipsak' "$t/bob.out" || fail "printed: $(cat "$t/bob.out")"
echo OK
