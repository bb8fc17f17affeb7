#!/usr/bin/env bash
# sipsak sends a plain MESSAGE to cpm-send --receive, which prints it.
. "$(dirname "$0")/../lib/flow.sh"
need sipsak
send=$CPM_BIN/cpm-send
claim_prefix
ip=${lab_prefix}0.6 # the receiver's address, of this test's own

start bob "$send" --receive --listen "udp:$ip:0" --count 1
port=${ready[bob]#"udp:$ip:"}
port=${port%% *}
# sipsak 0.9.8's own message mode (-M) crashes (NULL sprintf buffer); send the MESSAGE
# from a file with -f instead (sipsak still adds its Via and handles the transaction).
printf 'MESSAGE sip:bob@%s:%s SIP/2.0\r\nFrom: <sip:sipsak@127.0.0.1>;tag=1\r\nTo: <sip:bob@%s>\r\nCall-ID: %s@sipsak\r\nCSeq: 1 MESSAGE\r\nMax-Forwards: 70\r\nContent-Type: text/plain\r\nContent-Length: 17\r\n\r\nhello from sipsak' \
  "$ip" "$port" "$ip" "$$" >"$t/msg"
sipsak -f "$t/msg" -s "sip:bob@$ip:$port" -H 127.0.0.1 >"$t/sipsak.log" 2>"$t/sipsak.err" ||
  fail "sipsak exited $?: $(cat "$t/sipsak.log")"
wait_exit bob || fail "receiver exited $?"
grep -qx 'hello from sipsak' "$t/bob.out" || fail "printed: $(cat "$t/bob.out")"
echo OK
