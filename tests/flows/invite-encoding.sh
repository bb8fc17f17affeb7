#!/bin/bash
# Issue 8, defect 3, in sessions: `cpm-invite --answer` reads an INVITE whose SDP offer is
# deflated (by Python's zlib) and answers it 200 with its MSRP answer; an unknown coding gets
# 415 with Accept-Encoding (RFC 3261 §8.2.3), a deflate bomb 413, each with a diagnostic,
# and it keeps serving.
. "$(dirname "$0")/../lib/flow.sh"
need python3
claim_prefix
ip=${lab_prefix}0.1

start bob cpm-invite --answer --listen "udp:$ip:0" --from "sip:bob@$ip" --no-stdin
hop=${ready[bob]#udp:}
hop=${hop%% *}

# invite CODING BODY-FILE: an INVITE to bob with the body compressed as CODING; prints every
# response up to the final one.
invite()
{
  {
    printf 'INVITE sip:bob@%s SIP/2.0\nVia: SIP/2.0/UDP @LOCAL@;branch=@BRANCH@;rport\n' "$hop"
    printf 'Max-Forwards: 70\nFrom: <sip:alice@%s>;tag=a1\nTo: <sip:bob@%s>\n' "$ip" "$ip"
    printf 'Call-ID: @CALLID@\nCSeq: 1 INVITE\nContact: <sip:alice@@LOCAL@>\n'
    printf 'Content-Type: application/sdp\n\n'
    cat "$2"
  } | sip "$hop" --bind "$ip" --all --encode "$1"
}

sed "s/127\.0\.0\.1/$ip/g" "$CPM_SOURCE_DIR/tests/fuzz/seeds/sdp/msrp-offer.sdp" >"$t/offer.sdp"

invite br "$t/offer.sdp" >"$t/r1" || fail "no answer to an INVITE with br"
expect_eq "$(grep '^SIP/2.0' "$t/r1" | tail -n1 | awk '{print $2}')" 415 "status of a br offer"
grep -qi '^Accept-Encoding: gzip, deflate' "$t/r1" || fail "415 without Accept-Encoding: $(cat "$t/r1")"
wait_for "$t/bob.err" "unsupported content coding 'br'" 5

head -c $((4 << 20)) /dev/zero | tr '\0' 'a' >"$t/bomb"
invite deflate "$t/bomb" >"$t/r2" || fail "no answer to the bomb"
expect_eq "$(grep '^SIP/2.0' "$t/r2" | tail -n1 | awk '{print $2}')" 413 "status of a deflate bomb"
wait_for "$t/bob.err" "inflates past 1048576 bytes" 5

invite deflate "$t/offer.sdp" >"$t/r3" || fail "no answer to a deflated offer"
expect_eq "$(grep '^SIP/2.0' "$t/r3" | tail -n1 | awk '{print $2}')" 200 "status of a deflated offer"
grep -q '^m=message [1-9][0-9]* TCP/MSRP' "$t/r3" || fail "no MSRP answer: $(cat "$t/r3")"
echo OK
