#!/usr/bin/env bash
# --lines with --rate sends N messages in order, and the summary says N sent; with --notify
# delivery --wait it ends once every message has its notification.
. "$(dirname "$0")/../lib/flow.sh"
send=$CPM_BIN/cpm-send
claim_prefix
ip=${lab_prefix}0.2 # the receiver's address, of this test's own

n=40
start bob "$send" --receive --listen "udp:$ip:0" --count $((4 * n))
port=${ready[bob]#"udp:$ip:"}
port=${port%% *}
to="sip:bob@$ip:$port"

seq 1 $n | sed 's/^/line /' >"$t/in"
# Paced.
"$send" --lines --rate 200 "$to" <"$t/in" 2>"$t/rate.err" || fail "--rate exited $?"
grep -q "sent $n, 2xx $n, failed 0" "$t/rate.err" || fail "summary: $(cat "$t/rate.err")"
grep -Eq 'p50 [0-9.]+ ms, p90 [0-9.]+ ms, p99 [0-9.]+ ms' "$t/rate.err" || fail "no latencies"
# One after the other.
"$send" --lines "$to" <"$t/in" 2>"$t/seq.err" || fail "--lines exited $?"
grep -q "sent $n, 2xx $n" "$t/seq.err" || fail "summary: $(cat "$t/seq.err")"
# With --wait, each message waits for its own delivery notification (straight back to us).
"$send" --lines --rate 200 --notify delivery --wait --json "$to" <"$t/in" >"$t/wait.json" \
  2>"$t/wait.err" || fail "--lines --wait exited $?: $(cat "$t/wait.err")"
grep -q "sent $n, 2xx $n, failed 0, no answer 0, notified $n, negative 0, not notified 0" \
  "$t/wait.err" || fail "summary: $(cat "$t/wait.err")"
expect_eq "$(grep -c '"type":"notification"' "$t/wait.json")" "$n" "notifications in the JSON"
# --window 2: never more than two MESSAGEs sent and not yet answered (read from the trace).
"$send" --lines --rate 5000 --window 2 --trace "$t/window.trace" "$to" <"$t/in" \
  2>"$t/window.err" || fail "--window exited $?: $(cat "$t/window.err")"
grep -q "sent $n, 2xx $n, failed 0" "$t/window.err" || fail "summary: $(cat "$t/window.err")"
most=$(python3 - "$t/window.trace" <<'PY'
import json, sys
open_, most = set(), 0
for line in open(sys.argv[1]):
    e = json.loads(line)
    first = e['first_line']
    if e['dir'] == 'tx' and first.startswith('MESSAGE '):
        open_.add(e['call_id'])
    elif e['dir'] == 'rx' and first.startswith('SIP/2.0 ') and int(first.split()[1]) >= 200:
        open_.discard(e['call_id'])
    most = max(most, len(open_))
print(most)
PY
)
((most >= 1 && most <= 2)) || fail "--window 2 had $most MESSAGEs in flight at once"
"$send" --lines --window 0 "$to" </dev/null 2>"$t/window0.err" && fail "--window 0 was taken"
expect_contains "$t/window0.err" "--window must be from 1 to 100000"

wait_exit bob || fail "receiver exited $?"
# In order, every time (--rate keeps at most one in flight per line at this pace on loopback;
# order is by sending, and UDP on loopback keeps it).
cat "$t/in" "$t/in" "$t/in" "$t/in" | diff - "$t/bob.out" >"$t/diff" || fail "out of order: $(head "$t/diff")"
echo OK
