#!/usr/bin/env bash
# RFC 3263 §4.3 failover on silence, through libre's DNS client: the first UDP SRV target
# (the better priority) takes the MESSAGE and never answers; after the client transaction
# times out (RFC 3261 Timer F, 64*T1 = 32 s with libre's fixed T1 of 500 ms) the request goes
# to the next target, where bob prints it. The silent target is a bare UDP socket (Python)
# that only logs what reaches it: it sees the MESSAGE and its retransmissions (Timer E),
# all before bob sees anything.
. "$(dirname "$0")/../lib/flow.sh"
. "$(dirname "$0")/../lib/dns.sh"
need python3
send=$CPM_BIN/cpm-send
claim_prefix
bob_ip=${lab_prefix}0.1 silent_ip=${lab_prefix}0.4 me=${lab_prefix}0.9

start_dns \
  --srv-host=_sip._udp.e.example,silent.e.example,5070,10,10 \
  --srv-host=_sip._udp.e.example,bob.e.example,5062,20,10 \
  --address=/silent.e.example/"$silent_ip" \
  --address=/bob.e.example/"$bob_ip"

start bob "$send" --receive --listen "udp:$bob_ip:5062" --count 1 --name bob
# shellcheck disable=SC2016 # Python, not shell
python3 -u -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
print("listening")
while True:
    data, _ = s.recvfrom(65535)
    print(data.split(b"\r\n", 1)[0].decode("ascii", "replace"))
' "$silent_ip" 5070 >"$t/silent.out" 2>"$t/silent.err" </dev/null 5>&- 6>&- 7>&- 8>&- 9>&- &
adopt silent $! "$t/silent.err"
wait_for "$t/silent.out" listening 10

dns_mark
began=$SECONDS
"$send" --dns "$dns" --listen "udp:$me:0" --timeout 60 --trace "$t/alice.trace" \
  'sip:bob@e.example;transport=udp' 'after silence' 2>"$t/a.err" ||
  fail "send after silence exited $? ($(cat "$t/a.err"))"
echo "failover after $((SECONDS - began)) s"
expect_dns_order "SRV _sip._udp.e.example" "A silent.e.example" "A bob.e.example"

wait_exit bob || fail "bob exited $?"
expect_eq "$(cat "$t/bob.out")" 'after silence' "bob's output"
# The silent target got the MESSAGE, retransmitted (Timer E): libre waited on it.
n=$(grep -c '^MESSAGE sip:bob@e.example' "$t/silent.out" || true)
((n >= 2)) || fail "the silent target saw $n MESSAGE(s), not a retransmitted one"
# Every send to the silent target comes before the first to bob.
grep '"dir":"tx"' "$t/alice.trace" | grep -n "MESSAGE sip:bob@e.example" |
  sed -n 's/^\([0-9]*\):.*"peer":"\([^"]*\)".*/\1 \2/p' >"$t/order"
last_silent=$(awk -v a="$silent_ip:5070" '$2 == a { n = $1 } END { print n + 0 }' "$t/order")
first_bob=$(awk -v a="$bob_ip:5062" '$2 == a { print $1; exit }' "$t/order")
[[ -n $first_bob ]] || fail "alice's trace shows no MESSAGE to bob: $(cat "$t/order")"
((last_silent > 0 && last_silent < first_bob)) ||
  fail "the MESSAGE went to bob before the silent target timed out: $(cat "$t/order")"
echo OK
