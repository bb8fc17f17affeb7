#!/bin/bash
# RFC 3325 across networks:
#  1. a "core" that is no node of coreB's trust domain (a sender at ${lab_prefix}9.1) sends
#     bob a MESSAGE with P-Asserted-Identity: <sip:alice@a.example>: coreB removes it, and
#     bob gets the message without it;
#  2. coreA (auth on) asserts alice's identity, and coreB, which trusts coreA (a peer of the
#     same config), passes it to bob;
#  3. alice asks for Privacy: id: her identity stays inside the trust domain (csB sees it)
#     but not at bob's client;
#  4. a forged odi Route (a Route to coreA with ;odi= claiming that the originating
#     trigger already ran) does not skip csA: the MESSAGE still goes through csA.
. "$(dirname "$0")/../lib/flow.sh"
need python3

lab_config "$examples/lab-icsi.toml"
lab_auth coreA
start_network
coreA=${ready[coreA]%% *} # udp:127.K.1.1:5060
coreB=${ready[coreB]%% *}
start bob cpm-send --config "$lab" --node bob --receive --count 4 --trace "$t/bob.trace"
cpm='*;+g.3gpp.icsi-ref="urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.msg"'


# 1. From outside coreB's trust domain: the asserted identity is not believed.
out=$(printf 'MESSAGE sip:bob@b.example SIP/2.0\nVia: SIP/2.0/UDP @LOCAL@;branch=@BRANCH@;rport\nMax-Forwards: 70\nFrom: <sip:alice@a.example>;tag=p1\nTo: <sip:bob@b.example>\nCall-ID: @CALLID@\nCSeq: 1 MESSAGE\nAccept-Contact: %s\nP-Asserted-Identity: <sip:alice@a.example>\nContent-Type: text/plain\nContent-Length: 7\n\nspoofed' \
  "$cpm" | sip "${coreB#udp:}" --bind "${lab_prefix}9.1")
expect_eq "$(status <<<"$out")" 200 "a MESSAGE from an untrusted peer"
wait_for "$t/coreB.err" 'removed P-Asserted-Identity (from outside the trust domain)'
wait_for "$t/bob.out" 'spoofed'
expect_eq "$(trace_pai "$t/bob.trace" rx 'MESSAGE ' spoofed)" none "bob's P-Asserted-Identity from an untrusted peer"
expect_eq "$(trace_pai "$t/csB.trace" rx 'MESSAGE ' spoofed)" none "csB's P-Asserted-Identity from an untrusted peer"

# 2. alice through coreA (auth: her password): coreB believes coreA's assertion.
cpm-send --config "$lab" --node alice --timeout 10 sip:bob@b.example 'asserted' \
  >"$t/alice.out" 2>"$t/alice.err" || { cat "$t/alice.err" >&2; fail "alice's message failed"; }
wait_for "$t/bob.out" 'asserted'
expect_eq "$(trace_pai "$t/bob.trace" rx 'MESSAGE ' asserted)" '<sip:alice@a.example>' "bob's P-Asserted-Identity via coreA"

# 3. Privacy: id: inside the trust domain (csB) the identity stays, at bob's client it is gone.
cpm-send --config "$lab" --node alice --timeout 10 --header 'Privacy: id' sip:bob@b.example \
  'private' >"$t/alice2.out" 2>"$t/alice2.err" || { cat "$t/alice2.err" >&2; fail "Privacy: id message failed"; }
wait_for "$t/bob.out" 'private'
expect_eq "$(trace_pai "$t/csB.trace" rx 'MESSAGE ' private)" '<sip:alice@a.example>' "csB's P-Asserted-Identity with Privacy: id"
expect_eq "$(trace_pai "$t/bob.trace" rx 'MESSAGE ' private)" none "bob's P-Asserted-Identity with Privacy: id"

# 4. A forged odi Route: coreA ignores it (it is no node of its trust domain that sent it),
#    and csA gets the MESSAGE as its originating trigger says.
before=$(grep -c '"dir":"rx".*"first_line":"MESSAGE ' "$t/csA.trace" || true)
rc=0
cpm-send --config "$lab" --node alice --timeout 10 --trace "$t/alice4.trace" \
  --header "Route: <sip:${coreA#udp:};lr;odi=o.1.0123456789>" sip:bob@b.example 'odi' \
  >"$t/alice4.out" 2>"$t/alice4.err" || rc=$?
expect_exit bob 0 "bob's exit status"
after=$(grep -c '"dir":"rx".*"first_line":"MESSAGE ' "$t/csA.trace" || true)
((after == before + 1)) || fail "csA did not get the MESSAGE with a forged odi Route ($before -> $after)"
wait_for "$t/coreA.err" 'removed odi Route (from outside the trust domain)'

stop_network
echo "OK trust-untrusted-peer"
