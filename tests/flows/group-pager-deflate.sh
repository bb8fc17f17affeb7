#!/bin/bash
# Issue 8, defect 3, in the group pager (cpm-groupd(1) GROUP MESSAGES): a MESSAGE to
# sip:friends@x.example whose CPIM body is deflated (by Python's zlib) is answered 202 and
# reaches bob and carol inflated (no Content-Encoding on their MESSAGEs); a deflate bomb
# gets 413, an unknown coding 415 with Accept-Encoding, and csX keeps serving.
. "$(dirname "$0")/../lib/flow.sh"
need python3

lab_config "$examples/lab-icsi.toml"
start_group_network "" "$t"
for who in bob carol; do
  start "$who" cpm-send --config "$lab" --node "$who" --receive --count 1 --json \
    --trace "$t/$who.trace"
done
csx=${lab_prefix}3.2:5060
alice=${lab_prefix}1.10

# to_group CODING BODY-FILE: alice's MESSAGE straight to csX, the body compressed as CODING;
# prints the final response.
to_group()
{
  {
    printf 'MESSAGE sip:friends@x.example SIP/2.0\nVia: SIP/2.0/UDP @LOCAL@;branch=@BRANCH@;rport\n'
    printf 'Max-Forwards: 70\nFrom: <sip:alice@a.example>;tag=a1\nTo: <sip:friends@x.example>\n'
    printf 'Call-ID: @CALLID@\nCSeq: 1 MESSAGE\nContent-Type: message/cpim\n\n'
    cat "$2"
  } | sip "$csx" --bind "$alice" --encode "$1"
}

head -c $((4 << 20)) /dev/zero | tr '\0' 'a' >"$t/bomb"
to_group deflate "$t/bomb" >"$t/r1" || fail "no answer to the bomb"
expect_eq "$(status <"$t/r1")" 413 "status of a deflate bomb to the group"
wait_for "$t/csX.err" "inflates past 1048576 bytes" 5

printf 'From: <sip:alice@a.example>\nTo: <sip:friends@x.example>\n\nContent-Type: text/plain\n\nx' >"$t/x"
to_group zstd "$t/x" >"$t/r2" || fail "no answer to zstd"
expect_eq "$(status <"$t/r2")" 415 "status of an unknown coding to the group"
grep -qi '^Accept-Encoding: gzip, deflate' "$t/r2" || fail "415 without Accept-Encoding: $(cat "$t/r2")"

printf 'From: <sip:alice@a.example>\nTo: <sip:friends@x.example>\nNS: imdn <urn:ietf:params:imdn>\nimdn.Message-ID: dfl8group1\n\nContent-Type: text/plain;charset=utf-8\n\nHello deflated group' >"$t/cpim"
to_group deflate "$t/cpim" >"$t/r3" || fail "no answer to the deflated MESSAGE"
expect_eq "$(status <"$t/r3")" 202 "status of a deflated MESSAGE to the group"

for who in bob carol; do
  expect_exit "$who" 0 "$who's exit status"
  expect_json "$t/$who.out" .type message .from sip:alice@a.example .text 'Hello deflated group'
  # What the member received was inflated by the group.
  grep '"dir":"rx"' "$t/$who.trace" | grep 'MESSAGE sip:' | quiet_grep 'dfl8group1' ||
    fail "$who's MESSAGE does not carry the CPIM text in clear"
  ! grep '"dir":"rx"' "$t/$who.trace" | grep 'MESSAGE sip:' | quiet_grep -i 'Content-Encoding' ||
    fail "$who's MESSAGE still names a Content-Encoding"
done
stop_group_network ""
echo OK
