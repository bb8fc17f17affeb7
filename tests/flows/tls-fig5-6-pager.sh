#!/bin/bash
# Figures 5 and 6 (FLOWS.md) with SIP over TLS on every hop and auth = true on every
# core: the lab's nodes listen on tls: alone, each with a certificate for its name and address from a CA of the test's own
# (tests/lib/tls.sh), verifying its peers'. alice's pager-mode message with a delivery
# notification goes alice -> coreA -> csA -> coreA -> coreB -> csB -> coreB -> bob and back.
# Checked: delivered, the ladder of FLOWS.md hop for hop, and every SIP message in every
# node's trace sent or received over TLS.
. "$(dirname "$0")/../lib/flow.sh"
. "$(dirname "$0")/../lib/tls.sh"
need python3

lab_config "$examples/lab-icsi.toml" lab.toml
tls_ca ca
tls_lab ca
lab_auth # every core authenticates (REGISTER 401, then the association)
start_network "" "$t"
start bob cpm-send --config "$lab" --node bob --receive --count 1 --trace "$t/bob.trace"

rc=0
cpm-send --config "$lab" --node alice --register --notify delivery --wait --timeout 10 \
  --trace "$t/alice.trace" --json sip:bob@b.example 'Hello over TLS' \
  >"$t/alice.json" 2>"$t/alice.err" || rc=$?
((rc == 0)) || fail "alice's cpm-send exited with $rc, expected 0: $(cat "$t/alice.err")"
expect_exit bob 0 "bob's exit status"
expect_contains "$t/bob.out" 'Hello over TLS'
mid=$(trace_message_id "$t/alice.trace")
[[ -n $mid ]] || fail "no imdn.Message-ID in alice's MESSAGE"
expect_json_values "$t/alice.json" delivered "$mid"

expect_ladder "$flows/ladders/fig5-6.ladder" "$t"/*.trace
expect_all_tls "$t"/*.trace
# auth on every core: each REGISTER was challenged, and the requests that followed came over
# the TLS flows they registered on (the association): no 407.
(($(challenges 401 "$t"/*.trace) > 0)) || fail "no REGISTER was challenged: auth is not on"
expect_eq "$(challenges 407 "$t"/*.trace)" 0 "407s in a run of registered clients"
# The Vias and Record-Routes the proxies wrote name TLS.
expect_contains "$t/bob.trace" 'Via: SIP/2.0/TLS'
expect_contains "$t/bob.trace" 'transport=tls;lr'
stop_network ""
echo "OK tls-fig5-6-pager"
