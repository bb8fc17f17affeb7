#!/usr/bin/env bash
# Issue 8, defect 3, the receiving side: `cpm-send --receive` prints a gzip or deflate body
# (compressed by Python's zlib), answers 415 with Accept-Encoding to a coding it does not
# know (RFC 3261 §8.2.3), 413 to a body that inflates past 1 MiB and 400 to broken deflate
# data, each with a diagnostic on stderr, and keeps serving.
. "$(dirname "$0")/../lib/flow.sh"
need python3
send=$CPM_BIN/cpm-send
claim_prefix
ip=${lab_prefix}0.1

start bob "$send" --receive --listen "udp:$ip:0" --count 3
hop=${ready[bob]#udp:}
hop=${hop%% *}

# message CODING BODY-FILE [Content-Type]: a MESSAGE to bob whose body is compressed as
# CODING; prints the final response.
message()
{
  {
    printf 'MESSAGE sip:bob@%s SIP/2.0\nVia: SIP/2.0/UDP @LOCAL@;branch=@BRANCH@;rport\n' "$hop"
    printf 'Max-Forwards: 70\nFrom: <sip:alice@%s>;tag=a1\nTo: <sip:bob@%s>\n' "$ip" "$ip"
    printf 'Call-ID: @CALLID@\nCSeq: 1 MESSAGE\nContent-Type: %s\n\n' "${3:-message/cpim}"
    cat "$2"
  } | sip "$hop" --bind "$ip" --encode "$1"
}

printf 'From: <sip:alice@a.example>\nTo: <sip:bob@b.example>\nNS: imdn <urn:ietf:params:imdn>\nimdn.Message-ID: gz1234567\n\nContent-Type: text/plain;charset=utf-8\n\nhello gzip' >"$t/cpim"
message gzip "$t/cpim" >"$t/r1" || fail "no answer to the gzip MESSAGE"
expect_eq "$(status <"$t/r1")" 200 "status of a gzip CPIM body"

printf 'hello raw deflate' >"$t/plain"
message raw-deflate "$t/plain" text/plain >"$t/r2" || fail "no answer to the raw deflate MESSAGE"
expect_eq "$(status <"$t/r2")" 200 "status of a raw deflate text/plain body"

# An unknown coding: 415 with Accept-Encoding, and a diagnostic.
message br "$t/plain" text/plain >"$t/r3" || fail "no answer to the br MESSAGE"
expect_eq "$(status <"$t/r3")" 415 "status of a br body"
grep -qi '^Accept-Encoding: gzip, deflate' "$t/r3" || fail "415 without Accept-Encoding: $(cat "$t/r3")"
wait_for "$t/bob.err" "unsupported content coding 'br'" 5

# A bomb: 4 MiB of text deflates to a few KiB; refused before it is read.
head -c $((4 << 20)) /dev/zero | tr '\0' 'a' >"$t/bomb"
message deflate "$t/bomb" text/plain >"$t/r4" || fail "no answer to the bomb"
expect_eq "$(status <"$t/r4")" 413 "status of a deflate bomb"
wait_for "$t/bob.err" "inflates past 1048576 bytes" 5

# Not deflate data at all.
{
  printf 'MESSAGE sip:bob@%s SIP/2.0\nVia: SIP/2.0/UDP @LOCAL@;branch=@BRANCH@;rport\n' "$hop"
  printf 'Max-Forwards: 70\nFrom: <sip:alice@%s>;tag=a1\nTo: <sip:bob@%s>\n' "$ip" "$ip"
  printf 'Call-ID: @CALLID@\nCSeq: 1 MESSAGE\nContent-Type: text/plain\nContent-Encoding: deflate\n\nplain text'
} | sip "$hop" --bind "$ip" >"$t/r5" || fail "no answer to the broken deflate body"
expect_eq "$(status <"$t/r5")" 400 "status of a broken deflate body"
wait_for "$t/bob.err" "answered 400" 5

# Still serving: a deflate (zlib format) body is the third message printed.
printf 'after the bomb' >"$t/last"
message deflate "$t/last" text/plain >"$t/r6" || fail "no answer after the bomb"
expect_eq "$(status <"$t/r6")" 200 "status after the bomb"

expect_exit bob 0
expect_eq "$(sed -n 1p "$t/bob.out")" "hello gzip" "first message printed"
expect_eq "$(sed -n 2p "$t/bob.out")" "hello raw deflate" "second message printed"
expect_eq "$(sed -n 3p "$t/bob.out")" "after the bomb" "third message printed"
echo OK
