#!/bin/bash
# Figures 1 and 2 (FLOWS.md) with SIP over TLS on every hop (tests/lib/tls.sh's tls_lab):
# alice invites sip:friends@x.example, csX invites bob and carol through coreX, coreB and
# csB, three people chat (MSRP over TLS too: an INVITE over TLS offers msrps:) and leave.
# Checked: the chat lines reach the others, the setup ladder hop for hop, every SIP message
# in every trace over TLS, and every process exits 0.
. "$(dirname "$0")/../lib/flow.sh"
. "$(dirname "$0")/../lib/tls.sh"
need python3

lab_config "$examples/lab-icsi.toml" lab.toml
tls_ca ca
tls_lab ca
lab_auth # every core authenticates (REGISTER 401, then the association)
friends_hello 'hello friends over TLS'
printf 'hi from bob\n' >&5
wait_for "$t/alice.out" 'hi from bob'
friends_leave ""

expect_json "$t/bob.out" .event invited .group true
expect_ladder "$flows/ladders/fig1-2.ladder" --hide BYE "$t"/*.trace
expect_all_tls "$t"/*.trace
# auth on every core: each REGISTER was challenged, and the requests that followed came over
# the TLS flows they registered on (the association): no 407.
(($(challenges 401 "$t"/*.trace) > 0)) || fail "no REGISTER was challenged: auth is not on"
expect_eq "$(challenges 407 "$t"/*.trace)" 0 "407s in a run of registered clients"
expect_contains "$t/bob.trace" "TCP/TLS/MSRP"
stop_group_network ""
echo "OK tls-fig1-2-group-session"
