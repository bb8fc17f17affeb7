#!/usr/bin/env bash
# Malformed requests get 400 with a reason naming the problem (or are dropped when no Via
# can be parsed), one stderr line each, and the next good request is served.
. "$(dirname "$0")/../lib/flow.sh"
start_core --domain b.example --listen udp:127.0.0.1:0
hdr='Via: SIP/2.0/UDP @LOCAL@;branch=@BRANCH@;rport\nMax-Forwards: 70\nFrom: <sip:alice@a.example>;tag=a\nTo: <sip:nobody@b.example>\n'
send() { printf '%b' "$1" | sip "$CORE_UDP" --timeout "${2:-5}"; }
out=$(send "MESSAGE sip:nobody@b.example SIP/2.0\n${hdr}CSeq: 1 MESSAGE\nContent-Length: 0\n\n")
expect_eq "$(head -n1 <<<"$out")" "SIP/2.0 400 Missing Call-ID" "no Call-ID"
out=$(send "MESSAGE sip:nobody@b.example SIP/2.0\n${hdr}Call-ID: @CALLID@\nCSeq: 1 MESSAGE\nContent-Length: 50\n\nshort")
expect_eq "$(head -n1 <<<"$out")" "SIP/2.0 400 Content-Length larger than the body" "lying Content-Length"
out=$(send "MESSAGE sip:nobody@b.example SIP/2.0\n${hdr}Call-ID: @CALLID@\nCSeq: 1 INVITE\nContent-Length: 0\n\n")
expect_eq "$(head -n1 <<<"$out")" "SIP/2.0 400 CSeq method does not match the request method" "CSeq mismatch"
# The core's own UDP socket takes a whole datagram (libre cut them at 8192 bytes): served.
big=$(head -c 9000 /dev/zero | tr '\0' 'x')
out=$(send "MESSAGE sip:nobody@b.example SIP/2.0\n${hdr}Call-ID: @CALLID@\nCSeq: 1 MESSAGE\nContent-Length: 9000\n\n$big")
expect_eq "$(status <<<"$out")" 404 "a 9000-byte UDP request, whole"
big=$(head -c 40000 /dev/zero | tr '\0' 'x')
out=$(send "MESSAGE sip:nobody@b.example SIP/2.0\n${hdr}Call-ID: @CALLID@\nCSeq: 1 MESSAGE\nContent-Length: 40000\n\n$big")
expect_eq "$(head -n1 <<<"$out")" "SIP/2.0 513 Message Too Large" "over max_request_size"
out=$(send "MESSAGE sip:nobody@b.example SIP/2.0\nFrom: <sip:a@a.example>;tag=a\nTo: <sip:nobody@b.example>\nCall-ID: x\nCSeq: 1 MESSAGE\nContent-Length: 0\n\n" 0.5) || true
expect_eq "$out" "" "answer to a request without Via"
alive core || fail "core died"
out=$(send "MESSAGE sip:nobody@b.example SIP/2.0\n${hdr}Call-ID: @CALLID@\nCSeq: 1 MESSAGE\nContent-Length: 0\n\n")
expect_eq "$(status <<<"$out")" 404 "good request after the malformed ones"
n=$(grep -c '400\|513\|Via' "$t/core.err")
(( n >= 5 )) || fail "expected one stderr line per malformed request, got $n"
stop_core
echo OK
