#!/usr/bin/env bash
# --explain prints the routing decision for a request file and sends nothing: with ICSI
# (header) triggers and with user (method-only) triggers, and the return after odi.
. "$(dirname "$0")/../lib/flow.sh"
core=$CPM_BIN/cpm-core-route
icsi='urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.msg'
request() { # request ACCEPT-CONTACT-LINE [ROUTE-LINE]
  printf 'MESSAGE sip:bob@b.example SIP/2.0\nVia: SIP/2.0/UDP 127.0.1.10:5060;branch=z9hG4bKx\nMax-Forwards: 70\nFrom: <sip:alice@a.example>;tag=1\nTo: <sip:bob@b.example>\nCall-ID: explain-1\nCSeq: 1 MESSAGE\n%s%sContent-Type: text/plain\n\nhi\n' "$1" "${2:-}"
}
# ICSI lab: alice's MESSAGE with the enabler usage indication goes to csA (originating).
request "Accept-Contact: *;+g.3gpp.icsi-ref=\"$icsi\"
" >"$t/with-icsi.sip"
"$core" --config "$examples/lab-icsi.toml" --node coreA --explain "$t/with-icsi.sip" >"$t/out1" || fail "explain failed"
grep -q '^forward (trigger)' "$t/out1" || fail "ICSI trigger did not fire: $(cat "$t/out1")"
grep -q '127.0.1.2:5060' "$t/out1" || fail "not sent to csA: $(cat "$t/out1")"
grep -qi 'odi=' "$t/out1" || fail "no odi Route back: $(cat "$t/out1")"
# Without the indication the ICSI trigger does not fire: straight to the peer core.
request "" >"$t/no-icsi.sip"
"$core" --config "$examples/lab-icsi.toml" --node coreA --explain - <"$t/no-icsi.sip" >"$t/out2" || fail "explain failed"
grep -q '^forward (peer)' "$t/out2" || fail "expected the peer route: $(cat "$t/out2")"
# User lab: a trigger on method only fires without any indication.
"$core" --config "$examples/lab-user.toml" --node coreA --explain "$t/no-icsi.sip" >"$t/out3" || fail "explain failed"
grep -q '^forward (trigger)' "$t/out3" || fail "user trigger did not fire: $(cat "$t/out3")"
# The identity it would assert, and why. From alice's address (its top Via) with --auth:
# the 407 challenge it would answer.
"$core" --config "$examples/lab-icsi.toml" --node coreA --auth --explain "$t/no-icsi.sip" >"$t/out4" ||
  fail "explain failed"
grep -q 'is outside the trust domain' "$t/out4" || fail "no trust verdict: $(cat "$t/out4")"
grep -q 'challenge with 407' "$t/out4" || fail "no 407 with --auth: $(cat "$t/out4")"
grep -q '^reject: 407 Proxy Authentication Required' "$t/out4" || fail "no 407 decision: $(cat "$t/out4")"
# A P-Asserted-Identity from alice's address is removed; from csA's (trusted) believed.
request "P-Asserted-Identity: <sip:carol@a.example>
" >"$t/pai.sip"
"$core" --config "$examples/lab-icsi.toml" --node coreA --explain "$t/pai.sip" >"$t/out5" || fail "explain failed"
grep -q 'removed P-Asserted-Identity (from outside the trust domain)' "$t/out5" ||
  fail "a forged P-Asserted-Identity is not said removed: $(cat "$t/out5")"
sed 's/127.0.1.10:5060;branch/127.0.1.2:5060;branch/' "$t/pai.sip" >"$t/pai-csa.sip"
"$core" --config "$examples/lab-icsi.toml" --node coreA --explain "$t/pai-csa.sip" >"$t/out6" || fail "explain failed"
grep -q 'udp:127.0.1.2:5060 is inside the trust domain: its P-Asserted-Identity sip:carol@a.example is believed' "$t/out6" ||
  fail "csA's P-Asserted-Identity is not believed: $(cat "$t/out6")"
# Not a SIP request: exit 2.
rc=0; echo 'hello' | "$core" --domain b.example --explain - >/dev/null 2>&1 || rc=$?
expect_eq "$rc" 2 "explain of garbage"
echo OK
