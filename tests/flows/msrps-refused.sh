#!/bin/bash
# MSRP over TLS (RFC 4975 §14) between cpm-invite and cpm-invite --answer directly on
# loopback (SIP over UDP, no core): the inviter verifies the certificate of the side it
# connects to, chain and address, and refuses a wrong one with a clear error.
#
#   1. bob's certificate is signed by another CA: alice (--msrp-tls) refuses it, says why on
#      stderr, ends the session (BYE) and exits 3; no chat line reaches bob, who exits 0.
#   2. bob's certificate is signed by our CA but names another address: refused, the same.
#   3. the same rogue certificate with --no-tls-verify: the chat goes over TLS.
#   4. alice without --msrp-tls: bob, who has a certificate, takes her TCP/MSRP offer.
# Each time the SDP of the offer and the answer says TCP/TLS/MSRP and msrps: (TCP/MSRP in 4).
. "$(dirname "$0")/../lib/flow.sh"
. "$(dirname "$0")/../lib/tls.sh"
need python3 openssl

claim_prefix
alice_ip="${lab_prefix}0.1" bob_ip="${lab_prefix}0.2"
tls_ca ca
tls_ca other
tls_cert ca alice "$alice_ip"
tls_cert ca bob "$bob_ip"
tls_cert other rogue "$bob_ip"
tls_cert ca wrongname "${lab_prefix}0.99"

# session N BOB_CERT [ALICE_ARGS...]: bob answers with BOB_CERT; alice invites him and sends
# one line. Outputs in $t/N.{alice,bob}.{out,err,trace}; alice's exit status in $alice_rc.
session()
{
  local n=$1 cert=$2
  shift 2
  start "$n.bob" cpm-invite --answer --count 1 --json --no-stdin --from "sip:bob@$bob_ip" \
    --listen "udp:$bob_ip:0" --tls-cert "$tls/$cert.pem" --tls-ca "$tls/ca.pem" \
    --trace "$t/$n.bob.trace"
  local port=${ready[$n.bob]#udp:"$bob_ip":}
  port=${port%% *}
  [[ $port =~ ^[0-9]+$ && $port != 0 ]] || fail "bad ready line '${ready[$n.bob]}'"
  # No input: alice sends her line, and ends the session once it is confirmed.
  cpm-invite --from "sip:alice@$alice_ip" --listen "udp:$alice_ip:0" --json \
    --send "secret $n" --tls-cert "$tls/alice.pem" --tls-ca "$tls/ca.pem" \
    --trace "$t/$n.alice.trace" "$@" "sip:bob@$bob_ip:$port" \
    </dev/null >"$t/$n.alice.out" 2>"$t/$n.alice.err" &
  adopt "$n.alice" $! "$t/$n.alice.err"
  alice_rc=0
  wait_exit "$n.alice" 20 || alice_rc=$?
  expect_exit "$n.bob" 0 "$n: bob's exit status"
}

# refused N: alice refused bob's certificate: exit 3, the reason on stderr, no chat.
refused()
{
  expect_eq "$alice_rc" 3 "$1: alice's exit status"
  expect_contains "$t/$1.alice.err" "msrp: TLS to $bob_ip:"
  expect_contains "$t/$1.alice.err" "certificate"
  expect_contains "$t/$1.alice.err" "refused"
  expect_json "$t/$1.alice.out" .event ended .reason 'MSRP connection failed'
  if grep -q "secret $1" "$t/$1.bob.out"; then
    fail "$1: bob received a line over a refused connection"
  fi
}

# sdp_over N PROTO SCHEME: the offer and the answer in bob's trace say PROTO and SCHEME.
sdp_over()
{
  python3 - "$t/$1.bob.trace" "$2" "$3" <<'PY' || fail "$1: the SDP does not say $2 / $3"
import json, re, sys
proto, scheme = sys.argv[2], sys.argv[3]
lines = [l for e in map(json.loads, open(sys.argv[1]))
         for l in re.findall(r"m=message \d+ \S+|a=path:\S+", e.get("message", ""))]
assert len(lines) >= 4, lines  # offer (rx) and answer (tx): an m= line and a path each
for l in lines:
    assert (l.split()[-1] == proto) if l.startswith("m=") else l.startswith("a=path:" + scheme + "://"), lines
PY
}

session rogue rogue --msrp-tls
refused rogue
expect_contains "$t/rogue.alice.err" "unable to get local issuer certificate"
sdp_over rogue TCP/TLS/MSRP msrps

session wrongname wrongname --msrp-tls
refused wrongname
expect_contains "$t/wrongname.alice.err" "it is for ${lab_prefix}0.99"
sdp_over wrongname TCP/TLS/MSRP msrps

session unverified rogue --msrp-tls --no-tls-verify
expect_eq "$alice_rc" 0 "unverified: alice's exit status"
expect_json "$t/unverified.bob.out" .event message .text 'secret unverified'
sdp_over unverified TCP/TLS/MSRP msrps
python3 - "$t/unverified.alice.trace" <<'PY' || fail "unverified: MSRP not traced as tls"
import json, sys
msrp = [e for e in map(json.loads, open(sys.argv[1])) if e["first_line"].startswith("MSRP ")]
assert msrp and all(e["transport"] == "tls" for e in msrp), [(e["transport"], e["first_line"]) for e in msrp]
PY

session plain bob
expect_eq "$alice_rc" 0 "plain: alice's exit status"
expect_json "$t/plain.bob.out" .event message .text 'secret plain'
sdp_over plain TCP/MSRP msrp

echo OK msrps-refused
