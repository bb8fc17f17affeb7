#!/usr/bin/env bash
# A MESSAGE to an unknown user of our domain gets 404; to a domain with no peer, 404 too.
. "$(dirname "$0")/../lib/flow.sh"
start_core --domain b.example --listen udp:127.0.0.1:0
msg() {
  printf 'MESSAGE %s SIP/2.0\nVia: SIP/2.0/UDP @LOCAL@;branch=@BRANCH@;rport\nMax-Forwards: 70\nFrom: <sip:alice@a.example>;tag=a1\nTo: <%s>\nCall-ID: @CALLID@\nCSeq: 1 MESSAGE\nContent-Type: text/plain\n\nhello\n' "$1" "$1" |
    sip "$CORE_UDP"
}
out=$(msg sip:nobody@b.example)
expect_eq "$(status <<<"$out")" 404 "MESSAGE to an unknown user"
grep -q '^To: <sip:nobody@b.example>;tag=' <<<"$out" || fail "404 without a To tag: $out"
out=$(msg sip:x@elsewhere.example)
expect_eq "$(status <<<"$out")" 404 "MESSAGE to a domain without a peer"
stop_core
echo OK
