#!/usr/bin/env bash
# linphonec (Debian linphone-cli) as bob, registered at one cpm-core-route: alice's
# `cpm-send --register --notify delivery --wait` exits 0 on linphonec's delivery
# notification (deflated CPIM, sent before its 200), the text shows on linphonec's console,
# and linphonec's reply (`chat`) reaches alice's `cpm-send --receive`, whose notification
# liblinphone takes (its message becomes DeliveredToUser). The same with linphonec left
# without CPIM (liblinphone's default), whose notification comes bare and reply as text/plain.
. "$(dirname "$0")/../lib/flow.sh"
# shellcheck source=tests/lib/linphonec.sh
. "$(dirname "$0")/../lib/linphonec.sh"
need linphonec python3

claim_prefix
p=$lab_prefix
lab="$t/lab.toml"
cat >"$lab" <<EOF || fail "cannot write $lab"
[[node]]
name = "core"
role = "core"
domain = "b.example"
listen = ["udp:${p}0.1:5060", "tcp:${p}0.1:5060"]
EOF
lab_add_client alice sip:alice@b.example 0.10 core

start core cpm-core-route --config "$lab" --node core --trace "$t/core.trace"
start_linphonec bob sip:bob@b.example "${p}0.20" "${p}0.1:5060"

# 1. alice -> linphonec, with a delivery notification awaited.
rc=0
cpm-send --config "$lab" --node alice --register --notify delivery --wait --timeout 10 \
  --trace "$t/alice.trace" --json sip:bob@b.example 'Hello linphonec' \
  >"$t/alice.json" 2>"$t/alice.err" || rc=$?
((rc == 0)) || fail "alice's cpm-send --wait exited $rc, expected 0: $(cat "$t/alice.err")"
mid=$(trace_message_id "$t/alice.trace")
[[ -n $mid ]] || fail "no imdn.Message-ID in alice's MESSAGE"
expect_json "$t/alice.json" .type notification .message_id "$mid" .status delivered
wait_for "$t/bob.out" 'Message received from sip:alice@b.example: Hello linphonec'
# The notification came as liblinphone sends it: compressed.
grep '"dir":"rx"' "$t/alice.trace" | grep '^.*"first_line":"MESSAGE ' |
  grep -q 'Content-Encoding: deflate' || fail "linphonec's notification was not deflated"

# 2. linphonec -> alice's cpm-send --receive; alice's notification goes back to liblinphone.
start alice cpm-send --config "$lab" --node alice --receive --count 1 --json \
  --trace "$t/alice-rx.trace"
linphonec_cmd bob 'chat sip:alice@b.example Hi alice, linphonec here'
expect_exit alice 0 "alice's cpm-send --receive"
expect_json "$t/alice.out" .type message .from sip:bob@b.example \
  .text 'Hi alice, linphonec here'
wait_for "$t/bob.log" 'to DeliveredToUser'

# 3. carol: linphonec as liblinphone configures itself (no CPIM in its basic chat rooms).
# Its notification is a bare message/imdn+xml, deflated; its reply is text/plain.
start_linphonec carol sip:carol@b.example "${p}0.21" "${p}0.1:5060" 0
rc=0
cpm-send --config "$lab" --node alice --register --notify delivery --wait --timeout 10 \
  --trace "$t/alice-carol.trace" --json sip:carol@b.example 'Hello carol' \
  >"$t/alice-carol.json" 2>"$t/alice-carol.err" || rc=$?
((rc == 0)) || fail "alice's cpm-send --wait to carol exited $rc: $(cat "$t/alice-carol.err")"
mid=$(trace_message_id "$t/alice-carol.trace")
expect_json "$t/alice-carol.json" .type notification .message_id "$mid" .status delivered
grep '"dir":"rx"' "$t/alice-carol.trace" | grep 'Content-Type: message/imdn+xml' |
  grep -q 'Content-Encoding: deflate' || fail "carol's notification was not a bare deflated IMDN"
wait_for "$t/carol.out" 'Message received from sip:alice@b.example: Hello carol'
start alice-plain cpm-send --config "$lab" --node alice --receive --count 1 --json
linphonec_cmd carol 'chat sip:alice@b.example Hi alice, plain carol here'
expect_exit alice-plain 0 "alice's cpm-send --receive (from carol)"
expect_json "$t/alice-plain.out" .type message .from sip:carol@b.example \
  .content_type text/plain .text 'Hi alice, plain carol here'

stop_linphonec carol
stop_linphonec bob
stop_core
echo "OK linphonec"
