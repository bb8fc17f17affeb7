#!/bin/bash
# cpm-iwf's SMSC given by a domain name (--smsc smsc.a.example:2775), resolved through the
# SIP stack's DNS client (libre's dnsc, on the dnsmasq of tests/lib/dns.sh) before each
# connect:
# 1. a name with no records: a clear diagnostic (NXDOMAIN), and the IWF keeps trying;
# 2. the name's A record: the IWF binds to the SMSC (Net::SMPP, tests/lib/smpp_smsc.pl)
#    there, and alice's message to tel:+15550100 is submitted and delivered;
# 3. the SMSC moves: the record changes (dnsmasq re-reads its hosts file on SIGHUP), the
#    old SMSC stops and a new one listens at the new address: the IWF, reconnecting, asks
#    the name again, binds to the new SMSC, and the next message goes there.
. "$(dirname "$0")/../lib/flow.sh"
. "$(dirname "$0")/../lib/iwf.sh"
. "$(dirname "$0")/../lib/dns.sh"
need_net_smpp
iwf_config
p=$lab_prefix

echo "${p}1.4 smsc.a.example" >"$t/smsc.hosts"
start_dns --addn-hosts="$t/smsc.hosts"

start coreA "$CPM_BIN/cpm-core-route" --config "$lab" --node coreA

# ---- 1. a name nobody has ----
dns_mark
start iwf "$CPM_BIN/cpm-iwf" --config "$lab" --node iwf --dns "$dns" \
  --smsc nowhere.a.example:2775 -v
wait_for "$t/iwf.err" "SMSC nowhere.a.example:2775: cannot resolve 'nowhere.a.example': no such name (NXDOMAIN)" 10
expect_dns_order "A nowhere.a.example"
alive iwf || fail "the IWF ended after a name it could not resolve"
stop iwf || fail "the IWF did not stop cleanly"
mv "$t/iwf.err" "$t/iwf-nxdomain.err"

# ---- 2. the SMSC by its name ----
start_smsc nc
dns_mark
start iwf "$CPM_BIN/cpm-iwf" --config "$lab" --node iwf --dns "$dns" \
  --smsc smsc.a.example:2775 --trace "$t/iwf.trace" -v
wait_for "$t/iwf.err" "SMSC smsc.a.example:2775: smsc.a.example is ${p}1.4" 10
wait_for "$t/iwf.err" "bound as 'iwf'" 10
expect_dns_order "A smsc.a.example"
rc=0
"$CPM_BIN/cpm-send" --config "$lab" --node alice --register --notify delivery --wait \
  --timeout 10 --json tel:+15550100 'To a named SMSC' >"$t/a1.json" 2>"$t/a1.err" || rc=$?
expect_eq "$rc" 0 "alice's cpm-send (delivered)"
expect_json "$t/a1.json" .type notification .from tel:+15550100 .status delivered
expect_json "$t/nc.out" .event submit_sm .to 15550100 .text 'To a named SMSC'
grep '"transport":"smpp"' "$t/iwf.trace" | grep '"first_line":"submit_sm ' |
  quiet_grep "\"peer\":\"${p}1.4:2775\"" || fail "no submit_sm to ${p}1.4:2775 in the IWF's trace"

# ---- 3. the SMSC moves to another address ----
echo "${p}1.5 smsc.a.example" >"$t/smsc.hosts"
kill -HUP "$(pid_of dnsmasq)"
wait_count "$t/dns.log" "read $t/smsc.hosts" 2 10
dns_mark
stop nc || true
start_smsc nc2 --host "${p}1.5"
wait_for "$t/iwf.err" "SMSC smsc.a.example:2775: smsc.a.example is ${p}1.5" 20
wait_count "$t/iwf.err" "bound as 'iwf'" 2 10
expect_dns_order "A smsc.a.example"
rc=0
"$CPM_BIN/cpm-send" --config "$lab" --node alice --register --notify delivery --wait \
  --timeout 20 --json tel:+15550100 'To the moved SMSC' >"$t/a2.json" 2>"$t/a2.err" || rc=$?
expect_eq "$rc" 0 "alice's cpm-send after the move (delivered)"
expect_json "$t/nc2.out" .event submit_sm .to 15550100 .text 'To the moved SMSC'
echo OK iwf-smpp-dns
