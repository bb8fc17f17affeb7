#!/bin/bash
# Interop: sipsak sends a plain SIP MESSAGE (no CPM service indication) to bob's address of
# record through coreB of the lab; coreB routes it to the contact that bob's
# `cpm-send --receive` registered, and bob prints it. With lab-icsi.toml's triggers a
# request without the CPM ICSI bypasses csB, so coreB and bob are the whole path.
. "$(dirname "$0")/../lib/flow.sh"
need sipsak python3

lab_config "$examples/lab-icsi.toml"
start coreB cpm-core-route --config "$lab" --node coreB --trace "$t/coreB.trace"
# Ready means registered (cpm-send(1), --ready-fd).
start bob cpm-send --config "$lab" --node bob --receive --count 1 --trace "$t/bob.trace"
core=${ready[coreB]%% *} # udp:127.K.2.1:5060
core=${core#udp:}

# sipsak 0.9.8's own message mode (-M) crashes in sipsak (NULL sprintf buffer); send a
# prepared MESSAGE with -f instead (sipsak adds its Via and handles the transaction).
text='hello from sipsak via coreB'
printf 'MESSAGE sip:bob@b.example SIP/2.0\r\nFrom: <sip:sipsak@127.0.0.1>;tag=%s\r\nTo: <sip:bob@b.example>\r\nCall-ID: %s@lab-sipsak\r\nCSeq: 1 MESSAGE\r\nMax-Forwards: 70\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s' \
  "$$" "$$" "${#text}" "$text" >"$t/msg"
rc=0
sipsak -f "$t/msg" -s "sip:bob@$core" -H 127.0.0.1 \
  >"$t/sipsak.out" 2>"$t/sipsak.err" || rc=$?
((rc == 0)) || fail "sipsak exited $rc: $(cat "$t/sipsak.out" "$t/sipsak.err")"
# (sipsak exits 0 only when a 200 came back: sipsak(1), RETURN VALUES.)

expect_exit bob 0 "bob's exit status"
grep -qxF "$text" "$t/bob.out" || fail "bob printed: $(cat "$t/bob.out")"

# The core relayed it to bob's registered contact, not somewhere else.
cpm-ladder "$t"/*.trace >"$t/ladder"
grep -Eq '^ *[0-9]+ +coreB +-> +bob +MESSAGE ' "$t/ladder" ||
  fail "coreB did not relay the MESSAGE to bob: $(cat "$t/ladder")"
# sipsak's Via asks for rport and it sends from another port than its Via's: RFC 3581 wants
# the 200 at the MESSAGE's source address.
src=$(awk '$3 == "->" && $4 == "coreB" && $5 == "MESSAGE" {print $2; exit}' "$t/ladder")
[[ $src == 127.0.0.1:* ]] || fail "no MESSAGE from sipsak in the ladder: $(cat "$t/ladder")"
grep -Eq "^ *[0-9]+ +coreB +-> +$src +200 OK" "$t/ladder" ||
  fail "coreB's 200 did not go to sipsak's source $src: $(cat "$t/ladder")"

stop coreB || fail "coreB did not stop cleanly"
echo "OK lab-sipsak"
