#!/usr/bin/env bash
# Issue 12, sizes (cpm.toml(5) max_request_size): a request longer than the limit (32768
# bytes by default) gets 513 Message Too Large over TCP and over UDP, each with a line on
# stderr, and the core serves the next request; a 9000-byte datagram, which libre cut at
# 8192 bytes, is whole on the core's own UDP socket (issue 13) and served. With
# --max-request-size 2000, a 3000-byte UDP request gets 513 and a 1500-byte one is served.
. "$(dirname "$0")/../lib/flow.sh"
need python3

# request TRANSPORT BODY-BYTES [sip_client.py options]: a MESSAGE to nobody with a body of
# BODY-BYTES; prints the final response.
request()
{
  local tp=$1 size=$2 via=UDP
  shift 2
  [[ $tp == tcp ]] && via=TCP
  {
    printf 'MESSAGE sip:nobody@b.example SIP/2.0\nVia: SIP/2.0/%s @LOCAL@;branch=@BRANCH@;rport\n' "$via"
    printf 'Max-Forwards: 70\nFrom: <sip:alice@a.example>;tag=a\nTo: <sip:nobody@b.example>\n'
    printf 'Call-ID: @CALLID@\nCSeq: 1 MESSAGE\nContent-Type: text/plain\n\n'
    head -c "$size" /dev/zero | tr '\0' 'x'
  } | if [[ $tp == tcp ]]; then sip "$CORE_TCP" --tcp "$@"; else sip "$CORE_UDP" "$@"; fi
}

start_core --domain b.example --listen udp:127.0.0.1:0 --listen tcp:127.0.0.1:0
[[ -n $CORE_TCP ]] || fail "the core does not listen on TCP"
expect_eq "$(request tcp 40000 | head -n1)" "SIP/2.0 513 Message Too Large" "40000 bytes over TCP"
wait_for "$t/core.err" "bytes is over max_request_size (32768)" 5
expect_eq "$(request tcp 20000 | status)" 404 "20000 bytes over TCP (served)"
expect_eq "$(request udp 9000 | status)" 404 "a 9000-byte UDP datagram (served whole)"
expect_eq "$(request udp 40000 | head -n1)" "SIP/2.0 513 Message Too Large" "40000 bytes over UDP"
wait_count "$t/core.err" "bytes is over max_request_size (32768)" 2 5
expect_eq "$(request udp 10 | status)" 404 "a good request after the large ones"
alive core || fail "core died"
stop_core

start_core --domain b.example --listen udp:127.0.0.1:0 --max-request-size 2000
expect_eq "$(request udp 3000 | head -n1)" "SIP/2.0 513 Message Too Large" "3000 bytes, limit 2000"
wait_for "$t/core.err" "bytes is over max_request_size (2000)" 5
expect_eq "$(request udp 1500 | status)" 404 "1500 bytes, limit 2000 (served)"
stop_core
echo OK
