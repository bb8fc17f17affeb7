#!/usr/bin/env bash
# RFC 3263 through libre's DNS client against a dnsmasq of the test's own: cpm-send to
# sip:bob@b.example asks NAPTR b.example, takes the SIP+D2T record (TCP, its order is
# better than the SIP+D2U one), asks SRV _sip._tcp.b.example and A of its target, and the
# MESSAGE arrives over TCP at that target's address and port. A name with a transport skips
# NAPTR (SRV at once), one with a port asks A only. --dns and the config key `dns` both pick
# the server; a name with no records is a clear error. cpm-invite resolves the same way.
. "$(dirname "$0")/../lib/flow.sh"
. "$(dirname "$0")/../lib/dns.sh"
send=$CPM_BIN/cpm-send
claim_prefix
bob_ip=${lab_prefix}0.1
me=${lab_prefix}0.9

start_dns \
  --naptr-record=b.example,10,50,s,SIP+D2T,,_sip._tcp.b.example \
  --naptr-record=b.example,20,50,s,SIP+D2U,,_sip._udp.b.example \
  --srv-host=_sip._tcp.b.example,bob1.b.example,5062,10,10 \
  --srv-host=_sip._udp.b.example,bob1.b.example,5064,10,10 \
  --address=/bob1.b.example/"$bob_ip" \
  --naptr-record=c.example,10,50,s,SIP+D2U,,_sip._udp.c.example \
  --srv-host=_sip._udp.c.example,carol.c.example,5066,10,10 \
  --address=/carol.c.example/"$bob_ip"

# bob listens on TCP 5062 (the _sip._tcp target) and UDP 5064 (the _sip._udp one).
start bob "$send" --receive --listen "tcp:$bob_ip:5062" --listen "udp:$bob_ip:5064" \
  --count 4 --trace "$t/bob.trace" --name bob

# 1. NAPTR -> SRV (the transport NAPTR chose) -> A; the MESSAGE goes over TCP to 5062.
dns_mark
"$send" --dns "$dns" --listen "udp:$me:0" --listen "tcp:$me:0" --trace "$t/a1.trace" \
  sip:bob@b.example 'by naptr' 2>"$t/a1.err" || fail "send by NAPTR exited $? ($(cat "$t/a1.err"))"
expect_dns_order "NAPTR b.example" "SRV _sip._tcp.b.example" "A bob1.b.example"
dns_queries | quiet_grep '^SRV _sip._udp' && fail "asked the UDP SRV though NAPTR chose TCP"
grep '"dir":"rx"' "$t/bob.trace" | grep '"transport":"tcp"' | grep 'by naptr' |
  grep -q "\"local\":\"$bob_ip:5062\"" || fail "the MESSAGE did not arrive over TCP at $bob_ip:5062"
grep '"dir":"tx"' "$t/a1.trace" | quiet_grep "\"peer\":\"$bob_ip:5062\"" ||
  fail "the sender's trace does not show $bob_ip:5062"

# 2. A transport in the URI: no NAPTR, its SRV at once (UDP: 5064).
dns_mark
"$send" --dns "$dns" --listen "udp:$me:0" sip:bob@b.example\;transport=udp 'by srv' \
  2>"$t/a2.err" || fail "send by SRV exited $? ($(cat "$t/a2.err"))"
expect_dns_order "SRV _sip._udp.b.example" "A bob1.b.example"
dns_queries | quiet_grep '^NAPTR' && fail "asked NAPTR though the URI named its transport"
grep '"dir":"rx"' "$t/bob.trace" | grep '"transport":"udp"' | grep 'by srv' |
  grep -q "\"local\":\"$bob_ip:5064\"" || fail "the MESSAGE did not arrive over UDP at 5064"

# 3. A port in the URI: A only. The config key `dns` picks the server (no --dns).
cat >"$t/lab.toml" <<EOF
[[node]]
name = "alice"
role = "client"
listen = ["udp:$me:0"]
dns = "$dns"
EOF
dns_mark
"$send" --config "$t/lab.toml" --node alice sip:bob@bob1.b.example:5064 'by a' \
  2>"$t/a3.err" || fail "send by A exited $? ($(cat "$t/a3.err"))"
expect_dns_order "A bob1.b.example"
dns_queries | quiet_grep '^NAPTR\|^SRV' && fail "asked NAPTR or SRV though the URI had a port"

# 4. --proxy by name: the same lookups for the proxy's name (its SRV for tcp:NAME).
dns_mark
"$send" --dns "$dns" --listen "udp:$me:0" --listen "tcp:$me:0" --proxy tcp:b.example \
  sip:bob@elsewhere.example 'by proxy' 2>"$t/a4.err" || fail "send by proxy exited $? ($(cat "$t/a4.err"))"
expect_dns_order "SRV _sip._tcp.b.example" "A bob1.b.example"
wait_exit bob || fail "bob exited $?"
for m in 'by naptr' 'by srv' 'by a' 'by proxy'; do
  grep -qxF "$m" "$t/bob.out" || fail "bob did not print '$m'"
done

# 5. A name without records: exit 3 and a diagnostic that names it.
rc=0
"$send" --dns "$dns" --listen "udp:$me:0" --timeout 5 sip:bob@nowhere.example 'lost' \
  2>"$t/a5.err" || rc=$?
expect_eq "$rc" 3 "exit status for a name without records"
grep -q 'nowhere.example' "$t/a5.err" || fail "no diagnostic names nowhere.example: $(cat "$t/a5.err")"

# 6. Syntax: a malformed host is a usage error, no query.
dns_mark
rc=0
"$send" --dns "$dns" 'sip:bob@bad_host.example' x 2>"$t/a6.err" || rc=$?
expect_eq "$rc" 2 "exit status for a malformed host"
grep -q 'IP address or a domain name' "$t/a6.err" || fail "diagnostic: $(cat "$t/a6.err")"
[[ -z $(dns_queries) ]] || fail "queried DNS for a malformed host"
rc=0
"$send" --dns 'ns.example:53' 'sip:bob@b.example' x 2>"$t/a7.err" || rc=$?
expect_eq "$rc" 2 "exit status for a bad --dns"
grep -q 'bad DNS server' "$t/a7.err" || fail "diagnostic: $(cat "$t/a7.err")"

# 7. cpm-invite by name too (libre's sipsess on the same DNS client): NAPTR picks UDP.
start carol cpm-invite --answer --no-stdin --listen "udp:$bob_ip:5066" --listen "tcp:$bob_ip:5066" \
  --from sip:carol@c.example --trace "$t/carol.trace"
dns_mark
cpm-invite --dns "$dns" --listen "udp:$me:0" --listen "tcp:$me:0" --from sip:alice@a.example \
  --no-stdin --send 'invited by name' --duration 2 sip:carol@c.example >"$t/alice.out" \
  2>"$t/alice.err" &
adopt alice $! "$t/alice.err"
wait_for "$t/carol.out" 'invited by name'
expect_exit alice 0 "the inviter's exit status"
expect_dns_order "NAPTR c.example" "SRV _sip._udp.c.example" "A carol.c.example"
grep '"dir":"rx"' "$t/carol.trace" | grep '"transport":"udp"' | quiet_grep 'INVITE sip:carol@c.example' ||
  fail "carol got no INVITE over UDP"
echo OK
