#!/bin/bash
# A TLS peer with a wrong certificate is refused with a clear error, and the node keeps
# serving: cpm-send sends to a core over TLS whose certificate (1) comes from another CA,
# (2) is from the right CA but for another name; each time cpm-send exits 3 and says on
# stderr which certificate it refused and why. Then (3) the right certificate: delivered;
# (4) --no-tls-verify accepts the other CA's certificate. Also: a core given a key that is
# not its certificate's does not start (exit 2, the file named).
. "$(dirname "$0")/../lib/flow.sh"
. "$(dirname "$0")/../lib/tls.sh"

claim_prefix
ip=${lab_prefix}0.1
tls_ca ca
tls_ca other
tls_cert ca core core.test "$ip"
tls_cert other rogue core.test "$ip"
tls_cert ca wrong wrong.test

# send_to CERT [cpm-send options]: a core on $ip with CERT; one MESSAGE to it from a client
# trusting ca.pem; sets rc and leaves stderr in $t/send.err.
send_to()
{
  local cert=$1
  shift
  start "core-$cert" cpm-core-route --listen "tls:$ip:5061" --domain b.example \
    --tls-cert "$tls/$cert.pem" --tls-ca "$tls/ca.pem"
  rc=0
  cpm-send --proxy "sips:$ip" --tls-ca "$tls/ca.pem" --from sip:alice@b.example --timeout 5 \
    "$@" sip:core.test 'hello' >"$t/send.out" 2>"$t/send.err" || rc=$?
}

# (1) another CA: refused, the reason named.
send_to rogue
expect_eq "$rc" 3 "cpm-send's exit status with a certificate of another CA"
expect_contains "$t/send.err" "TLS: the server's certificate (/CN=core.test) is refused: unable to get local issuer certificate"
alive core-rogue || fail "the core died after a refused handshake"
stop core-rogue || fail "core-rogue did not stop cleanly"

# (2) the right CA, another name: refused, both names said.
send_to wrong
expect_eq "$rc" 3 "cpm-send's exit status with a certificate for another name"
expect_contains "$t/send.err" "is refused: it is for wrong.test, none of the hosts this node reaches over TLS ($ip)"
stop core-wrong || fail "core-wrong did not stop cleanly"

# (3) the right certificate: the core answers (404: nobody is registered), over TLS.
send_to core --json
quiet_grep '"status":404' "$t/send.out" || fail "no 404 from the core over TLS: $(cat "$t/send.out" "$t/send.err")"
quiet_grep 'refused' "$t/send.err" && fail "a good certificate was refused: $(cat "$t/send.err")"
stop core-core || fail "core-core did not stop cleanly"

# (4) --no-tls-verify takes the other CA's certificate.
send_to rogue --json --no-tls-verify
quiet_grep '"status":404' "$t/send.out" || fail "--no-tls-verify did not reach the core: $(cat "$t/send.err")"
stop core-rogue || fail "core-rogue did not stop cleanly"

# A key that is not the certificate's: the core says so and exits 2.
rc=0
cpm-core-route --listen "tls:$ip:5061" --domain b.example --tls-cert "$tls/core.crt" \
  --tls-key "$tls/rogue.key" 2>"$t/bad.err" || rc=$?
expect_eq "$rc" 2 "cpm-core-route's exit status with a mismatched key"
expect_contains "$t/bad.err" "tls_key '$tls/rogue.key': the private key does not match"
echo "OK tls-wrong-cert"
