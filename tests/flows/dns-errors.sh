#!/usr/bin/env bash
# What a name that cannot be resolved gives, in words an operator can act on:
# 1. a name with no records (NXDOMAIN from the dnsmasq of tests/lib/dns.sh): cpm-send and
#    cpm-invite say "not found in DNS" with the DNS server asked, exit 3, at once;
# 2. a DNS server that does not answer (nothing listens at its address): libre's DNS client
#    keeps asking, and at --timeout cpm-send says that nothing was sent and which server
#    did not answer for which name (exit 3).
. "$(dirname "$0")/../lib/flow.sh"
. "$(dirname "$0")/../lib/dns.sh"
claim_prefix
me=${lab_prefix}0.9
start_dns

rc=0
"$CPM_BIN/cpm-send" --dns "$dns" --listen "udp:$me:0" --timeout 10 sip:bob@nowhere.example hi \
  2>"$t/s1.err" || rc=$?
expect_eq "$rc" 3 "cpm-send's exit status for an unknown name"
quiet_grep -F "cannot reach sip:nowhere.example (DNS $dns): not found in DNS (no SRV, A or AAAA record)" \
  "$t/s1.err" || fail "cpm-send's diagnostic for an unknown name: $(cat "$t/s1.err")"

rc=0
"$CPM_BIN/cpm-invite" --dns "$dns" --listen "udp:$me:0" --timeout 10 sip:bob@nowhere.example \
  </dev/null 2>"$t/i1.err" || rc=$?
expect_eq "$rc" 3 "cpm-invite's exit status for an unknown name"
quiet_grep -F "no answer from sip:bob@nowhere.example: not found in DNS" "$t/i1.err" ||
  fail "cpm-invite's diagnostic for an unknown name: $(cat "$t/i1.err")"

# Nothing listens on the silent server's address (the prefix is this test's own).
silent=${lab_prefix}0.54:5353
rc=0
"$CPM_BIN/cpm-send" --dns "$silent" --listen "udp:$me:0" --timeout 2 sip:bob@b.example hi \
  2>"$t/s2.err" || rc=$?
expect_eq "$rc" 3 "cpm-send's exit status with a silent DNS server"
quiet_grep -F "no answer within 2 s (nothing sent: no DNS answer for 'b.example' from $silent)" \
  "$t/s2.err" || fail "cpm-send's diagnostic with a silent DNS server: $(cat "$t/s2.err")"
echo OK dns-errors
