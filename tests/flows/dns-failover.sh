#!/usr/bin/env bash
# RFC 3263 §4.3 failover through libre's DNS client: the first SRV target (the better
# priority) answers 503 (a SIPp UAS) or refuses the TCP connection (nothing listens), and
# the MESSAGE goes to the next target, where bob prints it. A domain with no NAPTR records
# falls back to the SRV records of each transport in turn (RFC 3263 §4.1: TCP first when
# we listen on TCP, then UDP).
. "$(dirname "$0")/../lib/flow.sh"
. "$(dirname "$0")/../lib/dns.sh"
need sipp
send=$CPM_BIN/cpm-send
claim_prefix
bob_ip=${lab_prefix}0.1 busy_ip=${lab_prefix}0.2 dead_ip=${lab_prefix}0.3
me=${lab_prefix}0.9

# c.example: no NAPTR; UDP SRV: busy (priority 10) then bob (20).
# d.example: TCP SRV: dead (priority 10) then bob (20).
start_dns \
  --srv-host=_sip._udp.c.example,busy.c.example,5070,10,10 \
  --srv-host=_sip._udp.c.example,bob.c.example,5062,20,10 \
  --srv-host=_sip._tcp.d.example,dead.d.example,5080,10,10 \
  --srv-host=_sip._tcp.d.example,bob.d.example,5062,20,10 \
  --address=/busy.c.example/"$busy_ip" \
  --address=/bob.c.example/"$bob_ip" \
  --address=/dead.d.example/"$dead_ip" \
  --address=/bob.d.example/"$bob_ip"

start bob "$send" --receive --listen "udp:$bob_ip:5062" --listen "tcp:$bob_ip:5062" \
  --count 2 --trace "$t/bob.trace" --name bob
sipp -sf "$CPM_SOURCE_DIR/tests/lib/sipp/message-503-uas.xml" -t u1 -i "$busy_ip" -p 5070 \
  -nostdin -m 1 -timeout 60s -trace_msg -message_file "$t/busy.msg" >/dev/null \
  2>"$t/busy.err" 5>&- 6>&- 7>&- 8>&- 9>&- &
adopt busy $! "$t/busy.err"
sipp_listening "$busy_ip" 5070

# 1. 503 from the first UDP target: the second one gets the MESSAGE.
dns_mark
"$send" --dns "$dns" --listen "udp:$me:0" --listen "tcp:$me:0" --timeout 10 \
  sip:bob@c.example 'after 503' 2>"$t/a1.err" || fail "send after 503 exited $? ($(cat "$t/a1.err"))"
expect_dns_order "NAPTR c.example" "SRV _sip._tcp.c.example" "SRV _sip._udp.c.example" \
  "A busy.c.example" "A bob.c.example"
wait_exit busy 10 || fail "the 503 UAS did not end cleanly"
grep -q 'MESSAGE sip:bob@c.example' "$t/busy.msg" || fail "the 503 target never saw the MESSAGE"
grep -q 'SIP/2.0 503' "$t/busy.msg" || fail "the 503 target did not answer 503"
grep '"dir":"rx"' "$t/bob.trace" | grep 'after 503' | quiet_grep "\"local\":\"$bob_ip:5062\"" ||
  fail "bob did not get the MESSAGE after the 503"

# 2. The first TCP target refuses the connection: the second one gets it, over TCP.
dns_mark
"$send" --dns "$dns" --listen "udp:$me:0" --listen "tcp:$me:0" --timeout 10 \
  'sip:bob@d.example;transport=tcp' 'after refusal' 2>"$t/a2.err" ||
  fail "send after refusal exited $? ($(cat "$t/a2.err"))"
expect_dns_order "SRV _sip._tcp.d.example" "A dead.d.example" "A bob.d.example"
grep '"dir":"rx"' "$t/bob.trace" | grep '"transport":"tcp"' | grep 'after refusal' |
  grep -q "\"local\":\"$bob_ip:5062\"" || fail "bob did not get the MESSAGE over TCP after the refusal"

wait_exit bob || fail "bob exited $?"
expect_eq "$(cat "$t/bob.out")" $'after 503\nafter refusal' "bob's output"
echo OK
