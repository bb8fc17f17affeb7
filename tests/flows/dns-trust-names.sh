#!/bin/bash
# A trust domain with members named by DNS: coreA's originating trigger sends alice's
# MESSAGE to an application server given by a name (server = "sip:cs.a.example"), a
# conversation server run from a file of its own (no node of coreA's file). coreA resolves
# the name through its DNS server (the dnsmasq of tests/lib/dns.sh: SRV records of the
# domain's SIP services, then A) and believes the server's return with its odi Route: the
# MESSAGE goes on to bob once. A core that did not believe it would strip the odi and run
# the trigger again, and again. A `trusted` entry given by a name that does not resolve
# is said on stderr, and the core serves on.
. "$(dirname "$0")/../lib/flow.sh"
. "$(dirname "$0")/../lib/dns.sh"
claim_prefix
p=$lab_prefix
start_dns --address=/cs.a.example/"${p}1.2"

cat >"$t/core.toml" <<TOML
[[node]]
name = "coreA"
role = "core"
domain = "a.example"
listen = ["udp:${p}1.1:5060", "tcp:${p}1.1:5060"]
dns = "$dns"
trusted = ["gone.a.example"]

[[node]]
name = "alice"
role = "client"
listen = ["udp:${p}1.10:5060", "tcp:${p}1.10:5060"]
from = "sip:alice@a.example"
proxy = "coreA"

[[node]]
name = "bob"
role = "client"
listen = ["udp:${p}1.11:5060", "tcp:${p}1.11:5060"]
from = "sip:bob@a.example"
proxy = "coreA"

[[user]]
uri = "sip:alice@a.example"

[[user]]
uri = "sip:bob@a.example"

[[trigger]]
name = "coreA-orig"
node = "coreA"
priority = 10
session_case = "originating"
methods = ["MESSAGE"]
server = "sip:cs.a.example"
default_handling = "terminate"
TOML

cat >"$t/cs.toml" <<TOML
[[node]]
name = "csA"
role = "conversation-server"
domain = "a.example"
listen = ["udp:${p}1.2:5060", "tcp:${p}1.2:5060"]
alias = "cs.a.example" # the Route to it names it so
proxy = "udp:${p}1.1:5060"

[[user]]
uri = "sip:alice@a.example"

[[user]]
uri = "sip:bob@a.example"
TOML

dns_mark
start coreA "$CPM_BIN/cpm-core-route" --config "$t/core.toml" --node coreA \
  --trace "$t/coreA.trace" -v
wait_for "$t/coreA.err" "trust domain: cs.a.example is ${p}1.2" 10
wait_for "$t/coreA.err" "trust domain: cannot resolve 'gone.a.example'" 10
expect_dns_order "SRV _sip._udp.cs.a.example" "SRV _sip._tcp.cs.a.example" \
  "SRV _sips._tcp.cs.a.example" "A cs.a.example"
start csA "$CPM_BIN/cpm-groupd" --config "$t/cs.toml" --node csA --trace "$t/csA.trace"
start bob "$CPM_BIN/cpm-send" --config "$t/core.toml" --node bob --receive --register --count 1

rc=0
"$CPM_BIN/cpm-send" --config "$t/core.toml" --node alice --timeout 10 sip:bob@a.example \
  'through a named server' >"$t/alice.out" 2>"$t/alice.err" || rc=$?
expect_eq "$rc" 0 "alice's cpm-send ($(cat "$t/alice.err"))"
expect_exit bob 0 "bob's receiver"
expect_eq "$(cat "$t/bob.out")" 'through a named server' "bob's output"
# The server saw the MESSAGE once: its return was believed, the trigger did not run again.
expect_eq "$(grep -c '"dir":"rx".*"first_line":"MESSAGE sip:bob@a.example' "$t/csA.trace")" 1 \
  "MESSAGEs the named server received"
if grep -q 'removed odi Route' "$t/coreA.err"; then
  fail "coreA did not believe the named server's odi Route"
fi
alive coreA || fail "coreA ended"
echo OK dns-trust-names
