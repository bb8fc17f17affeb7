#!/usr/bin/env bash
# A MESSAGE over 1,300 bytes to a receiver that takes UDP only at its address (issue 8,
# defect 2). bob's `cpm-send --receive` listens on UDP port 5060 of its address and on TCP
# at another port, so a TCP connection to its SIP address is refused:
#   1. through the core: the core moves the MESSAGE to TCP (RFC 3261 §18.1.1), is refused,
#      sends it over UDP and logs that (stderr and trace); alice gets the 200;
#   2. straight to bob: cpm-send does the same and says so on stderr;
#   3. straight to bob at a URI with ;transport=udp: never moved to TCP, no fallback needed.
. "$(dirname "$0")/../lib/flow.sh"
send=$CPM_BIN/cpm-send
claim_prefix
core=${lab_prefix}0.1
bob=${lab_prefix}0.10

start_core --domain b.example --listen "udp:$core:5060" --listen "tcp:$core:5060" \
  --trace "$t/core.trace"
start bob "$send" --receive --register --listen "udp:$bob:5060" --proxy "udp:$core:5060" \
  --from sip:bob@b.example --count 3 --trace "$t/bob.trace" --name bob
[[ ${ready[bob]} != *"tcp:$bob:5060"* ]] || fail "bob listens on TCP 5060: ${ready[bob]}"
head -c 2000 /dev/zero | tr '\0' 'x' >"$t/big.txt"

# rx_over_udp N: the Nth MESSAGE bob received came over UDP and was over 1,300 bytes.
rx_over_udp()
{
  local got
  got=$(python3 - "$t/bob.trace" "$1" <<'PY'
import json, sys
n = 0
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e['dir'] == 'rx' and e['first_line'].startswith('MESSAGE '):
        n += 1
        if n == int(sys.argv[2]):
            print(e['transport'], len(e['message'].encode()) > 1300)
PY
  )
  expect_eq "$got" "udp True" "transport and size of MESSAGE $1 at bob"
}

# 1. Through the core.
"$send" --proxy "udp:$core:5060" --from sip:alice@b.example --file "$t/big.txt" \
  sip:bob@b.example 2>"$t/a1.err" || fail "send through the core exited $?: $(cat "$t/a1.err")"
wait_for "$t/bob.out" xxxxxxxxxx
rx_over_udp 1
expect_contains "$t/core.err" "$bob:5060 refused; sent over UDP (RFC 3261 §18.1.1 fallback)"
grep -F '"dir":"note"' "$t/core.trace" | quiet_grep -F "refused; sent over UDP" ||
  fail "no fallback note in the core's trace"

# 2. Straight to bob's address.
"$send" --from sip:alice@b.example --file "$t/big.txt" "sip:bob@$bob:5060" 2>"$t/a2.err" ||
  fail "direct send exited $?: $(cat "$t/a2.err")"
rx_over_udp 2
expect_contains "$t/a2.err" "$bob:5060 refused; sent over UDP"

# 3. A target that names UDP is not moved to TCP at all.
"$send" --from sip:alice@b.example --file "$t/big.txt" "sip:bob@$bob:5060;transport=udp" \
  2>"$t/a3.err" || fail "send to a transport=udp target exited $?: $(cat "$t/a3.err")"
rx_over_udp 3
grep -q refused "$t/a3.err" && fail "a transport=udp target was tried over TCP: $(cat "$t/a3.err")"

expect_exit bob 0 "bob's exit status"
expect_eq "$(grep -c '^x\{2000\}$' "$t/bob.out")" 3 "big messages bob printed"
stop_core
echo OK
