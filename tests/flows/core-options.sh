#!/usr/bin/env bash
# An OPTIONS ping to the core itself (sipsak, as phones and monitors send it) gets 200 with
# Allow, by the core's address or by its domain; an OPTIONS to a user is routed as before.
. "$(dirname "$0")/../lib/flow.sh"
need sipsak
claim_prefix
core=${lab_prefix}0.1 # the lab's way: an address of its own, port 5060
start_core --domain b.example --listen "udp:$core:5060"
# sipsak writes a 5-digit port of -s truncated into its request URI: the URI has none here.
sipsak -vv -s "sip:$core" -H 127.0.0.1 >"$t/sipsak.log" 2>&1 ||
  fail "sipsak OPTIONS ping exited $?: $(cat "$t/sipsak.log")"
grep -q '^SIP/2.0 200' "$t/sipsak.log" || fail "no 200 to sipsak: $(cat "$t/sipsak.log")"
options() {
  printf 'OPTIONS %s SIP/2.0\nVia: SIP/2.0/UDP @LOCAL@;branch=@BRANCH@;rport\nMax-Forwards: 70\nFrom: <sip:alice@a.example>;tag=a1\nTo: <%s>\nCall-ID: @CALLID@\nCSeq: 1 OPTIONS\n\n' "$1" "$1" |
    sip "$CORE_UDP"
}
out=$(options sip:b.example)
expect_eq "$(status <<<"$out")" 200 "OPTIONS to the core's domain"
grep -q '^Allow: .*MESSAGE' <<<"$out" || fail "200 without Allow: $out"
out=$(options sip:nobody@b.example)
expect_eq "$(status <<<"$out")" 404 "OPTIONS to an unknown user (routed, not answered by the core)"
stop_core
echo OK
