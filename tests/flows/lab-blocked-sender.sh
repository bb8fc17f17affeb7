#!/bin/bash
# csA's service control through the lab: a barred sender (mallory) gets 403 from csA, and
# a message bigger than csA's max_message_size gets 413 from csA; cpm-send exits 1 both
# times and the MESSAGE never leaves network A. A small message still goes through.
. "$(dirname "$0")/../lib/flow.sh"

lab_config "$examples/lab-icsi.toml"
# csA refuses bodies over 1000 bytes (the node's limit: every served user without one).
sed -i '/^name = "csA"$/a max_message_size = 1000' "$lab"
grep -q '^max_message_size = 1000$' "$lab" || fail "could not set max_message_size in $lab"

start_network
coreA=${ready[coreA]%% *} # udp:127.K.1.1:5060

# The hops of the run so far as "from to first-line" (cpm-ladder's numbered lines).
hops() { cpm-ladder "$t"/*.trace | sed -E 's/^ *[0-9]+ +//; s/ +-> +/ /; s/  +/ /g'; }

# 1. mallory is barred: 403 from csA.
rc=0
cpm-send --from sip:mallory@a.example --proxy "$coreA" --listen "udp:${lab_prefix}1.66:0" \
  --name mallory --timeout 10 --trace "$t/mallory.trace" sip:bob@b.example 'Let me in' \
  >"$t/mallory.out" 2>"$t/mallory.err" || rc=$?
expect_eq "$rc" 1 "cpm-send exit status for a barred sender"
expect_contains "$t/mallory.err" 403
hops >"$t/hops1"
first=$(grep -m1 ' 403 ' "$t/hops1") || fail "no 403 in the ladder: $(cat "$t/hops1")"
[[ $first == "csA coreA 403 "* ]] || fail "the 403 does not originate at csA: $first"
grep -q 'MESSAGE' <(grep -E '^[^ ]+ coreB ' "$t/hops1") &&
  fail "coreB saw mallory's MESSAGE: $(cat "$t/hops1")"
grep -q '^coreA mallory 403 ' "$t/hops1" || fail "mallory got no 403: $(cat "$t/hops1")"

# 2. alice's 2000-byte message is over csA's 1000-byte limit: 413 from csA.
big=$(printf '%02000d' 0)
rc=0
cpm-send --config "$lab" --node alice --timeout 10 --trace "$t/alice.trace" \
  sip:bob@b.example "$big" >"$t/alice.out" 2>"$t/alice.err" || rc=$?
expect_eq "$rc" 1 "cpm-send exit status for an oversized message"
expect_contains "$t/alice.err" 413
hops >"$t/hops2"
first=$(grep -m1 ' 413 ' "$t/hops2") || fail "no 413 in the ladder: $(cat "$t/hops2")"
[[ $first == "csA coreA 413 "* ]] || fail "the 413 does not originate at csA: $first"
grep -q 'MESSAGE' <(grep -E '^[^ ]+ coreB ' "$t/hops2") &&
  fail "coreB saw an oversized MESSAGE: $(cat "$t/hops2")"
# The 2000-byte MESSAGE went over TCP (RFC 3261 18.1.1); its 413 goes back to alice on
# that connection, and the ladder must say so.
grep -q '^coreA alice 413 ' "$t/hops2" || fail "the ladder shows no 413 to alice: $(cat "$t/hops2")"

# 3. The same path still delivers what csA allows.
start bob cpm-send --config "$lab" --node bob --receive --count 1 --trace "$t/bob.trace"
rc=0
cpm-send --config "$lab" --node alice --timeout 10 sip:bob@b.example 'small enough' \
  >"$t/alice3.out" 2>"$t/alice3.err" || rc=$?
((rc == 0)) || { cat "$t/alice3.err" >&2; fail "a small message from alice: exit $rc"; }
expect_exit bob 0 "bob's exit status"
expect_contains "$t/bob.out" 'small enough'

stop_network
echo "OK lab-blocked-sender"
