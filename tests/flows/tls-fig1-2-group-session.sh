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
start_group_network "" "$t"
start_friends "" "$t"
friends_joined "" "$t"

printf 'hello friends over TLS\n' >&7
wait_for "$t/bob.out" 'hello friends over TLS'
wait_for "$t/carol.out" 'hello friends over TLS'
printf 'hi from bob\n' >&5
wait_for "$t/alice.out" 'hi from bob'
friends_leave ""

expect_json "$t/bob.out" .event invited .group true
expect_ladder "$flows/ladders/fig1-2.ladder" --hide BYE "$t"/*.trace
expect_all_tls "$t"/*.trace
expect_contains "$t/bob.trace" "TCP/TLS/MSRP"
stop_group_network ""
echo "OK tls-fig1-2-group-session"
