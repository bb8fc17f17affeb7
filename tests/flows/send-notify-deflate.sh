#!/usr/bin/env bash
# Issue 8, defect 3: a peer that answers as liblinphone does (tests/lib/imdn_peer.py, Python's
# zlib): its delivery notification comes first, with Content-Encoding: deflate, and its 200
# for the MESSAGE only once the notification was answered. `cpm-send --notify delivery
# --wait` accepts it (200, not 400 Bad CPIM), counts it once and exits 0; raw deflate and
# gzip likewise; a notification after the 200 too, and one without its CPIM wrapper.
. "$(dirname "$0")/../lib/flow.sh"
need python3
send=$CPM_BIN/cpm-send
peer=$CPM_SOURCE_DIR/tests/lib/imdn_peer.py
claim_prefix
ip=${lab_prefix}0.1

# run NAME [imdn_peer options]: one message from alice to a fresh peer; alice's exit status.
run()
{
  local name=$1 rc=0
  shift
  start "$name" python3 "$peer" "$ip" --timeout 15 "$@"
  local hop=${ready[$name]#udp:}
  "$send" --json --notify delivery --wait --timeout 10 --listen "udp:$ip:0" \
    --listen "tcp:$ip:0" --from "sip:alice@$ip" "sip:bob@$hop" "hello $name" \
    >"$t/$name.alice.out" 2>"$t/$name.alice.err" || rc=$?
  return "$rc"
}

# 1. deflate (zlib format), the notification before the 200.
rc=0
run deflate --coding deflate --order before || rc=$?
expect_exit deflate 0 "the peer's status (its notification was refused)"
expect_contains "$t/deflate.out" "notification 1 answered 200"
# The order really was notification first: the peer's log says so.
[[ $(head -n1 "$t/deflate.out") == "notification 1 answered 200" ]] ||
  fail "the peer answered before notifying: $(cat "$t/deflate.out")"
expect_eq "$rc" 0 "cpm-send's exit status ($(cat "$t/deflate.alice.err"))"
expect_json "$t/deflate.alice.out" .type notification .notification delivery .status delivered
expect_json "$t/deflate.alice.out" .type response .status 200
# Counted once: one notification event, and the response came after it.
expect_eq "$(grep -c '"type":"notification"' "$t/deflate.alice.out")" 1 "notification events"
[[ $(grep -n '"type":"notification"' "$t/deflate.alice.out" | cut -d: -f1) -lt \
  $(grep -n '"type":"response"' "$t/deflate.alice.out" | cut -d: -f1) ]] ||
  fail "the notification did not come before the 200: $(cat "$t/deflate.alice.out")"
# The notification names the Message-ID alice sent.
id=$(grep '"type":"response"' "$t/deflate.alice.out" | grep -o '"message_id":"[^"]*"' | cut -d'"' -f4)
grep '"type":"notification"' "$t/deflate.alice.out" | quiet_grep -F "\"message_id\":\"$id\"" ||
  fail "notification not for $id"

# 2. raw deflate (no zlib wrapper), as some senders send it.
rc=0
run raw --coding raw-deflate || rc=$?
expect_exit raw 0 "the peer's status (raw deflate refused)"
expect_eq "$rc" 0 "cpm-send's exit status with raw deflate ($(cat "$t/raw.alice.err"))"

# 3. gzip.
rc=0
run gz --coding gzip || rc=$?
expect_exit gz 0 "the peer's status (gzip refused)"
expect_eq "$rc" 0 "cpm-send's exit status with gzip ($(cat "$t/gz.alice.err"))"

# 4. The notification after the 200 (the usual order) still works.
rc=0
run after --order after || rc=$?
expect_exit after 0 "the peer's status (order after)"
expect_eq "$rc" 0 "cpm-send's exit status, notification after the 200"

# 5. The notification bare (message/imdn+xml, no CPIM wrapper), deflated, before the 200:
# what linphonec 5.1.65 sends from a basic chat room (seen through cpm-core-route).
rc=0
run bare --bare || rc=$?
expect_exit bare 0 "the peer's status (bare IMDN refused)"
expect_eq "$rc" 0 "cpm-send's exit status with a bare IMDN ($(cat "$t/bare.alice.err"))"

# 6. The same notification twice (before the 200) counts once: with --recipients 2 alice
# still waits for a second recipient and times out (3).
rc=0
start twice python3 "$peer" "$ip" --timeout 15 --twice
"$send" --json --notify delivery --wait --recipients 2 --timeout 2 --listen "udp:$ip:0" \
  --listen "tcp:$ip:0" --from "sip:alice@$ip" "sip:bob@${ready[twice]#udp:}" "twice" \
  >"$t/twice.alice.out" 2>"$t/twice.alice.err" || rc=$?
expect_exit twice 0 "the peer's status (twice)"
expect_eq "$rc" 3 "cpm-send's exit status with one recipient of 2 notifying twice"
expect_contains "$t/twice.alice.err" "1 of 2 delivery notifications"
echo OK
