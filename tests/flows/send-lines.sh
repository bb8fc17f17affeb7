#!/usr/bin/env bash
# --lines with --rate sends N messages in order, and the summary says N sent.
set -u -o pipefail
: "${CPM_BIN:=$(cd "$(dirname "$0")/../.." && pwd)/build/default/tools}"
send=$CPM_BIN/cpm-send
t=$(mktemp -d "${TMPDIR:-/tmp}/send-lines.XXXXXX")
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$t"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; for f in "$t"/*.err; do [[ -s $f ]] && { echo "-- $f"; cat "$f"; } >&2; done; exit 1; }

n=40
mkfifo "$t/ready"
"$send" --receive --listen udp:127.61.0.2:0 --count $((2 * n)) --ready-fd 9 9>"$t/ready" \
  >"$t/bob.out" 2>"$t/bob.err" &
bob=$!
pids+=("$bob")
read -r -t 20 addrs <"$t/ready" || fail "receiver not ready"
port=${addrs#udp:127.61.0.2:}
port=${port%% *}
to="sip:bob@127.61.0.2:$port"

seq 1 $n | sed 's/^/line /' >"$t/in"
# Paced.
"$send" --lines --rate 200 "$to" <"$t/in" 2>"$t/rate.err" || fail "--rate exited $?"
grep -q "sent $n, 2xx $n, failed 0" "$t/rate.err" || fail "summary: $(cat "$t/rate.err")"
grep -Eq 'p50 [0-9.]+ ms, p90 [0-9.]+ ms, p99 [0-9.]+ ms' "$t/rate.err" || fail "no latencies"
# One after the other.
"$send" --lines "$to" <"$t/in" 2>"$t/seq.err" || fail "--lines exited $?"
grep -q "sent $n, 2xx $n" "$t/seq.err" || fail "summary: $(cat "$t/seq.err")"

wait "$bob" || fail "receiver exited $?"
pids=()
# In order, both times (--rate keeps at most one in flight per line at this pace on loopback;
# order is by sending, and UDP on loopback keeps it).
cat "$t/in" "$t/in" | diff - "$t/bob.out" >"$t/diff" || fail "out of order: $(head "$t/diff")"
echo OK
