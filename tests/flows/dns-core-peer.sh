#!/usr/bin/env bash
# Two cores that know each other only through DNS: no `peers` table, `dns_peers = true`.
# bob registers through `proxy = "sip:b.example"` (NAPTR -> SRV -> A finds coreB, which
# takes the Route naming its domain as its own); alice sends through `sip:a.example` to
# sip:bob@b.example; coreA has no peer for b.example and routes it by b.example's records
# to coreB, which delivers it to bob. Without dns_peers the same request is a 404.
. "$(dirname "$0")/../lib/flow.sh"
. "$(dirname "$0")/../lib/dns.sh"
send=$CPM_BIN/cpm-send
claim_prefix
p=$lab_prefix
start_dns \
  --naptr-record=a.example,10,50,s,SIP+D2U,,_sip._udp.a.example \
  --naptr-record=b.example,10,50,s,SIP+D2U,,_sip._udp.b.example \
  --srv-host=_sip._udp.a.example,core.a.example,5060,10,10 \
  --srv-host=_sip._udp.b.example,core.b.example,5060,10,10 \
  --address=/core.a.example/"${p}1.1" \
  --address=/core.b.example/"${p}2.1"

cat >"$t/lab.toml" <<EOF
[[node]]
name = "coreA"
role = "core"
domain = "a.example"
listen = ["udp:${p}1.1:5060", "tcp:${p}1.1:5060"]
dns = "$dns"
dns_peers = true

[[node]]
name = "coreB"
role = "core"
domain = "b.example"
listen = ["udp:${p}2.1:5060", "tcp:${p}2.1:5060"]
dns = "$dns"

[[node]]
name = "alice"
role = "client"
listen = ["udp:${p}1.10:5060", "tcp:${p}1.10:5060"]
from = "sip:alice@a.example"
proxy = "sip:a.example"
dns = "$dns"

[[node]]
name = "bob"
role = "client"
listen = ["udp:${p}2.10:5060", "tcp:${p}2.10:5060"]
from = "sip:bob@b.example"
proxy = "sip:b.example"
dns = "$dns"
EOF

start coreA cpm-core-route --config "$t/lab.toml" --node coreA -v --trace "$t/coreA.trace"
start coreB cpm-core-route --config "$t/lab.toml" --node coreB -v --trace "$t/coreB.trace"

# bob registers at b.example's core, found by DNS.
dns_mark
start bob "$send" --config "$t/lab.toml" --node bob --receive --count 1 --trace "$t/bob.trace"
expect_dns_order "NAPTR b.example" "SRV _sip._udp.b.example" "A core.b.example"
grep '"dir":"rx"' "$t/coreB.trace" | quiet_grep 'REGISTER sip:b.example' ||
  fail "coreB got no REGISTER"

# alice -> (DNS) coreA -> (DNS, dns_peers) coreB -> bob.
dns_mark
"$send" --config "$t/lab.toml" --node alice --timeout 10 sip:bob@b.example 'by dns' \
  2>"$t/alice.err" || fail "alice's send exited $? ($(cat "$t/alice.err"))"
expect_dns_order "NAPTR a.example" "SRV _sip._udp.a.example" "A core.a.example" \
  "NAPTR b.example" "SRV _sip._udp.b.example" "A core.b.example"
wait_for "$t/coreA.err" "MESSAGE sip:bob@b.example -> dns sip:b.example"
grep '"dir":"tx"' "$t/coreA.trace" | grep 'MESSAGE sip:bob@b.example' |
  grep -q "\"peer\":\"${p}2.1:5060\"" || fail "coreA did not send the MESSAGE to coreB"
# coreA took the Route <sip:a.example;lr> as its own: it did not send it to itself again.
grep '"dir":"tx"' "$t/coreA.trace" | grep 'MESSAGE sip:bob@b.example' |
  grep -q "\"peer\":\"${p}1.1:5060\"" && fail "coreA sent the MESSAGE to itself"
wait_exit bob || fail "bob exited $?"
expect_eq "$(cat "$t/bob.out")" "by dns" "bob's output"

# Without dns_peers, the decision for the same request is 404 (no peer for b.example).
printf 'MESSAGE sip:bob@b.example SIP/2.0\nVia: SIP/2.0/UDP %s:5060;branch=z9hG4bKx\nMax-Forwards: 70\nFrom: <sip:alice@a.example>;tag=1\nTo: <sip:bob@b.example>\nCall-ID: dns-1\nCSeq: 1 MESSAGE\nContent-Type: text/plain\n\nhi\n' \
  "${p}1.10" >"$t/req.sip"
cpm-core-route --config "$t/lab.toml" --node coreA --explain "$t/req.sip" >"$t/explain1" ||
  fail "explain failed"
grep -q 'dns_peers: to its DNS records, sip:b.example' "$t/explain1" ||
  fail "explain with dns_peers: $(cat "$t/explain1")"
sed -i '/^dns_peers = true$/d' "$t/lab.toml"
cpm-core-route --config "$t/lab.toml" --node coreA --explain "$t/req.sip" >"$t/explain2" ||
  fail "explain failed"
grep -q '404' "$t/explain2" || fail "explain without dns_peers: $(cat "$t/explain2")"
echo OK
