#!/usr/bin/env bash
# Issue 12, flood limits (cpm.toml(5) flood_limit): mallory's SIPp floods the core with
# MESSAGEs (or REGISTERs: a storm of new users) from one address at 10 times its limit,
# 500 a second against 50, for 10 s; the request that goes over the limit is answered 503
# with Retry-After, then nothing more is answered to that address. Meanwhile alice, from
# her own address, registers and sends 25 MESSAGEs at 5 a second: every one is served
# (2xx) and bob, registered before the storm, prints every one.
# Usage: flood-storm.sh [message|register]   (register: its ctest is flood-register.sh)
. "$(dirname "$0")/../lib/flow.sh"
need sipp
need python3

method=${1:-message}
limit=50 rate=500 seconds=10 block=300 n=25
calls=$((rate * seconds))

claim_prefix
core=${lab_prefix}1.1 alice=${lab_prefix}1.10 bob=${lab_prefix}1.20 mallory=${lab_prefix}1.66
lab=$t/flood.toml
cat >"$lab" <<EOF
[[node]]
name = "core"
role = "core"
domain = "a.example"
listen = ["udp:$core:5060", "tcp:$core:5060"]
flood_limit = $limit
flood_window_ms = 1000
flood_block_s = $block

[[node]]
name = "alice"
role = "client"
from = "sip:alice@a.example"
listen = ["udp:$alice:5060"]
proxy = "udp:$core:5060"

[[node]]
name = "bob"
role = "client"
from = "sip:bob@a.example"
listen = ["udp:$bob:5060"]
proxy = "udp:$core:5060"
EOF

start core cpm-core-route --config "$lab" --node core --trace "$t/core.trace"
start bob cpm-send --config "$lab" --node bob --receive --count "$n" --json

# The storm: bounded by its number of calls (-m) and by -timeout.
sipp -sf "$CPM_SOURCE_DIR/tests/lib/sipp/flood-$method.xml" -t u1 -i "$mallory" -p 5060 \
  -nostdin -nr -r "$rate" -m "$calls" -l "$calls" -buff_size 4194304 -timeout 60s \
  "$core:5060" >/dev/null 2>"$t/sipp.err" 5>&- 6>&- 7>&- 8>&- 9>&- &
adopt mallory $! "$t/sipp.err"
wait_for "$t/core.err" "flood: $mallory sent" 10

# alice, while the storm goes on.
seq 1 "$n" | sed 's/^/hello /' >"$t/alice.in"
rc=0
cpm-send --config "$lab" --node alice --register --lines --rate 5 --timeout 10 \
  sip:bob@a.example <"$t/alice.in" >"$t/alice.out" 2>"$t/alice.err" || rc=$?
alive mallory || fail "the storm ended before alice's last message: not at the same time"
expect_eq "$rc" 0 "alice's cpm-send exit status ($(cat "$t/alice.err"))"
quiet_grep "sent $n, 2xx $n, failed 0" <"$t/alice.err" || fail "alice: $(cat "$t/alice.err")"
expect_exit bob 0 "bob's exit status"
expect_eq "$(grep -c '"type":"message"' "$t/bob.out")" "$n" "messages bob printed"
wait_exit mallory 90 || true # SIPp counts the unanswered calls as failed

# What the core's trace shows of mallory: the whole storm received, one 503 with
# Retry-After, and nothing answered after it.
python3 - "$t/core.trace" "$mallory" "$calls" "$seconds" "$limit" "$block" <<'PY' ||
import json, sys
path, addr, calls, seconds, limit, block = sys.argv[1:]
calls, seconds, limit = int(calls), int(seconds), int(limit)
rx, tx, after = [], [], 0
for line in open(path):
    e = json.loads(line)
    host = e.get('peer', '').rsplit(':', 1)[0].split(':')[-1]
    if host != addr:
        continue
    if e['dir'] == 'rx' and not e['first_line'].startswith('SIP/2.0'):
        rx.append(e['time'])
    elif e['dir'] == 'tx':
        if any(t.startswith('SIP/2.0 503') for t in tx):
            after += 1
        tx.append(e['first_line'] + '\n' + e['message'])
errors = []
if len(rx) < calls * 9 // 10:
    errors.append(f'only {len(rx)} of {calls} requests of the storm reached the core')
elif (rx[-1] - rx[0]) / 1e6 < seconds * 0.9:
    errors.append(f'the storm lasted {(rx[-1] - rx[0]) / 1e6:.1f} s, not {seconds}')
refused = [t for t in tx if t.startswith('SIP/2.0 503')]
if len(refused) != 1:
    errors.append(f'{len(refused)} 503s to mallory, want 1')
elif f'Retry-After: {block}' not in refused[0]:
    errors.append('the 503 has no Retry-After: ' + refused[0])
if after:
    errors.append(f'{after} answers to mallory after the 503')
if len(tx) > limit + 1:
    errors.append(f'{len(tx)} answers to mallory, want at most {limit + 1}')
print(f'storm: {len(rx)} requests received, {len(tx)} answered', file=sys.stderr)
if errors:
    print('\n'.join(errors), file=sys.stderr)
    sys.exit(1)
PY
  fail "the core's trace of the storm"
quiet_grep "then silence for $block s" <"$t/core.err" || fail "no flood line: $(cat "$t/core.err")"
alive core || fail "core died"
stop core || fail "core did not stop cleanly"
echo OK
