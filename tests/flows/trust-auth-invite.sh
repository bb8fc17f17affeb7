#!/bin/bash
# cpm-invite answers a core's 407 with the credentials it registers with: alice, not
# registered, invites bob through coreA with auth = true; the INVITE is challenged once,
# sent again with Proxy-Authorization, and coreA asserts alice's identity to bob; a wrong
# password ends in 403 and exit 1.
. "$(dirname "$0")/../lib/flow.sh"
need python3

lab_config "$examples/lab-icsi.toml"
lab_auth coreA
start_network
coreA=${ready[coreA]%% *}
start bob cpm-invite --config "$lab" --node bob --register --answer --decline 486 --json \
  --trace "$t/bob.trace"

rc=0
cpm-invite --config "$lab" --node alice --json --timeout 10 --trace "$t/alice.trace" \
  sip:bob@b.example </dev/null >"$t/alice.out" 2>"$t/alice.err" || rc=$?
expect_eq "$rc" 1 "alice's exit status (bob declines with 486)"
expect_json "$t/alice.out" .event refused .status 486
expect_eq "$(grep -c '"first_line":"SIP/2.0 407 ' "$t/alice.trace")" 1 "407s alice received"
expect_eq "$(trace_pai "$t/bob.trace" rx 'INVITE ')" '<sip:alice@a.example>' "bob's INVITE's P-Asserted-Identity"
expect_exit bob 0 "bob's exit status"

rc=0
cpm-invite --from sip:alice@a.example --password wrong --proxy "$coreA" \
  --listen "udp:${lab_prefix}1.67:0" --timeout 10 sip:bob@b.example </dev/null \
  >"$t/wrong.out" 2>"$t/wrong.err" || rc=$?
expect_eq "$rc" 1 "cpm-invite with a wrong password"
expect_contains "$t/wrong.err" 403

stop_network
echo "OK trust-auth-invite"
