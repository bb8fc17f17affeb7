#!/bin/bash
# Delivery and display notifications through the lab: alice asks for both
# (--notify delivery,display --wait), bob's receiver runs with --display, and alice gets
# both notifications for her own imdn.Message-ID, then exits 0.
. "$(dirname "$0")/../lib/flow.sh"
need python3

lab_config "$examples/lab-icsi.toml"
start_network
start bob cpm-send --config "$lab" --node bob --receive --display --count 1 --trace "$t/bob.trace"

rc=0
cpm-send --config "$lab" --node alice --register --notify delivery,display --wait --timeout 10 \
  --trace "$t/alice.trace" --json sip:bob@b.example 'Read me' >"$t/alice.json" 2>"$t/alice.err" ||
  rc=$?
((rc == 0)) || { cat "$t/alice.err" >&2; fail "alice's cpm-send exited $rc, expected 0"; }

expect_exit bob 0 "bob's exit status"
expect_contains "$t/bob.out" 'Read me'

# alice's imdn.Message-ID, from the MESSAGE she sent.
mid=$(trace_message_id "$t/alice.trace")
[[ -n $mid ]] || fail "no imdn.Message-ID in alice's MESSAGE"
expect_json "$t/alice.json" .type response .status 200 .message_id "$mid"
expect_json "$t/alice.json" .type notification .message_id "$mid" .notification delivery \
  .status delivered
expect_json "$t/alice.json" .type notification .message_id "$mid" .notification display \
  .status displayed

# Both notifications crossed the lab as MESSAGEs from bob to alice.
cpm-ladder "$t"/*.trace >"$t/ladder"
n=$(grep -Ec '^ *[0-9]+ +coreA +-> +alice +MESSAGE ' "$t/ladder")
expect_eq "$n" 2 "notification MESSAGEs delivered to alice"

stop_network
echo "OK lab-notify-display"
