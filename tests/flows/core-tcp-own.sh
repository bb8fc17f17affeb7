#!/usr/bin/env bash
# The core's own SIP over TCP (issue 13, rt::SipTcp): a request it forwards over TCP comes
# from the core's own address (127.K.0.1, not the 127.0.0.1 an unbound connect picks) with
# our Via naming its TCP listen address, and the answer goes back to the sender on the
# connection the request came on; a client that registered over TCP gets its requests on
# the connection of its REGISTER (RFC 5626), INVITE too, nothing opened towards it.
. "$(dirname "$0")/../lib/flow.sh"
claim_prefix
core=${lab_prefix}0.1 carol=${lab_prefix}0.10 dave=${lab_prefix}0.11 erin=${lab_prefix}0.12 fred=${lab_prefix}0.13 alice=${lab_prefix}0.20
uas=$CPM_SOURCE_DIR/tests/lib/tcp_uas.py
cat >"$t/lab.toml" <<TOML
[[node]]
name = "core"
role = "core"
domain = ["b.example"]
listen = ["udp:$core:5060", "tcp:$core:5060"]
timeout_ms = 1000
registrar_db = "$t/core.db"
TOML
start core cpm-core-route --config "$t/lab.toml" --node core --trace "$t/core.trace"

# message USER udp|tcp: alice's MESSAGE to USER@b.example through the core over that
# transport; the final response's status.
message()
{
  local opts=(--bind "$alice" --timeout 10)
  [[ $2 == tcp ]] && opts+=(--tcp)
  printf 'MESSAGE sip:%s@b.example SIP/2.0\nVia: SIP/2.0/%s @LOCAL@;branch=@BRANCH@;rport\nMax-Forwards: 70\nFrom: <sip:alice@a.example>;tag=a\nTo: <sip:%s@b.example>\nCall-ID: @CALLID@\nCSeq: 1 MESSAGE\nContent-Type: text/plain\n\nhello %s\n' \
    "$1" "${2^^}" "$1" "$1" | sip "$core:5060" "${opts[@]}" | status
}

# 1. carol listens on TCP; her Contact, registered over UDP, names it. alice sends over TCP:
#    the core forwards on a connection of its own, bound to its address, and the 200 comes
#    back to alice on her connection (the sip client reads it there).
start carol python3 "$uas" --listen "$carol:5070"
out=$(printf 'REGISTER sip:b.example SIP/2.0\nVia: SIP/2.0/UDP @LOCAL@;branch=@BRANCH@;rport\nMax-Forwards: 70\nFrom: <sip:carol@b.example>;tag=r\nTo: <sip:carol@b.example>\nCall-ID: @CALLID@\nCSeq: 1 REGISTER\nContact: <sip:carol@%s:5070;transport=tcp>\nExpires: 600\n\n' "$carol" |
  sip "$core:5060" --bind "$alice")
expect_eq "$(status <<<"$out")" 200 "REGISTER of carol"
expect_eq "$(message carol tcp)" 200 "MESSAGE to carol over TCP, answered on alice's connection"
wait_for "$t/carol.out" '"method": "MESSAGE"'
peer=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["peer"])' "$t/carol.out")
expect_eq "${peer%:*}" "$core" "the address the core's connection to carol comes from"
expect_contains "$t/carol.out" "\"via\": \"SIP/2.0/TCP $core:5060;branch=z9hG4bK"
wait_exit carol 10 || fail "carol did not end after her request"

# 2. dave registers over TCP and keeps the connection; alice's MESSAGE over UDP reaches him
#    on it (his REGISTER's connection, the core's listen address at the far end).
start dave python3 "$uas" --register "$core:5060" --aor dave@b.example --bind "$dave"
expect_eq "$(message dave udp)" 200 "MESSAGE to dave, registered over TCP"
wait_for "$t/dave.out" '"method": "MESSAGE"'
expect_json "$t/dave.out" .method MESSAGE .conn register .peer "$core:5060"
wait_exit dave 10 || fail "dave did not end after his request"

# 3. An INVITE to erin, registered over TCP, goes over her REGISTER's connection too (libre
#    could not reach it: the core's own INVITE client side), and her 486 is acknowledged
#    by the core on that connection (RFC 3261 §17.1.1.3).
start erin python3 "$uas" --register "$core:5060" --aor erin@b.example --bind "$erin" \
  --requests 2 --invite-status 486
out=$(printf 'INVITE sip:erin@b.example SIP/2.0\nVia: SIP/2.0/UDP @LOCAL@;branch=@BRANCH@;rport\nMax-Forwards: 70\nFrom: <sip:alice@a.example>;tag=a\nTo: <sip:erin@b.example>\nCall-ID: @CALLID@\nCSeq: 7 INVITE\nContact: <sip:alice@%s>\n\n' "$alice" |
  sip "$core:5060" --bind "$alice" --timeout 10)
expect_eq "$(status <<<"$out")" 486 "INVITE to erin, registered over TCP"
wait_for "$t/erin.out" '"method": "ACK"'
expect_json "$t/erin.out" .method INVITE .conn register .peer "$core:5060"
expect_json "$t/erin.out" .method ACK .cseq "7 ACK" .conn register .peer "$core:5060"
wait_exit erin 10 || fail "erin did not end after her INVITE and its ACK"

# 4. fred answers his INVITE 180 and nothing more: at Timer C (6 s at timeout_ms 1000) alice
#    gets 408, and the core CANCELs the INVITE on fred's connection and ACKs his 487.
start fred python3 "$uas" --register "$core:5060" --aor fred@b.example --bind "$fred" \
  --requests 3 --invite-status 180
out=$(printf 'INVITE sip:fred@b.example SIP/2.0\nVia: SIP/2.0/UDP @LOCAL@;branch=@BRANCH@;rport\nMax-Forwards: 70\nFrom: <sip:alice@a.example>;tag=a\nTo: <sip:fred@b.example>\nCall-ID: @CALLID@\nCSeq: 9 INVITE\nContact: <sip:alice@%s>\n\n' "$alice" |
  sip "$core:5060" --bind "$alice" --timeout 20)
expect_eq "$(status <<<"$out")" 408 "INVITE to fred, who only rings"
wait_for "$t/fred.out" '"method": "ACK"'
expect_json "$t/fred.out" .method CANCEL .cseq "9 CANCEL" .conn register
expect_json "$t/fred.out" .method ACK .cseq "9 ACK" .conn register
wait_exit fred 10 || fail "fred did not end after his INVITE, its CANCEL and the ACK"

# The core's trace: the MESSAGE to carol and dave left over tcp.
expect_eq "$(grep '"dir":"tx"' "$t/core.trace" | grep '"transport":"tcp"' |
  grep -c '"first_line":"MESSAGE ')" 2 "MESSAGEs the core sent over TCP"
