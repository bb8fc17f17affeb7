# shellcheck shell=bash
# A DNS server of the test's own (sourced after flow.sh by the dns-*.sh tests): dnsmasq on
# the claimed prefix's address .0.53, port 5353, answering only the records the test gives
# (no /etc/hosts, no resolv.conf, no upstream), logging every query to $t/dns.log.
#
#   claim_prefix
#   start_dns --naptr-record=b.example,10,50,s,SIP+D2T,,_sip._tcp.b.example \
#     --srv-host=_sip._tcp.b.example,bob1.b.example,5062,10,10 \
#     --address=/bob1.b.example/${lab_prefix}0.1
#   cpm-send --dns "$dns" sip:bob@b.example hi
#   dns_queries                       # "NAPTR b.example", "SRV _sip._tcp.b.example", ...
#
# Give the SRV targets' addresses with --address=/NAME/IP, not --host-record: dnsmasq puts a
# host-record's address in the additional section of its SRV answer, and libre then asks no
# A query of its own (RFC 3263 §4.2 allows either), so the log could not show that step.
#
# Gives: $dns (HOST:PORT for --dns and the config key). It uses $t and $lab_prefix:
# shellcheck disable=SC2154

# shellcheck disable=SC2034 # for the tests that source this
dns=""
_dns_mark=0 # lines of $t/dns.log before the queries dns_queries shows

# Its records are optional (a test of names that do not resolve gives none):
# shellcheck disable=SC2120
# start_dns DNSMASQ-RECORD-OPTION...: start dnsmasq with these records; returns once it
# answers (its log says "started" after its sockets are bound). Stopped at exit.
start_dns()
{
  need dnsmasq
  local ip=${lab_prefix}0.53 port=5353
  # --user=root: dnsmasq drops to nobody by default, who may not write the log in $t.
  dnsmasq --keep-in-foreground --port="$port" --listen-address="$ip" --bind-interfaces \
    --no-resolv --no-hosts --local=/example/ --cache-size=0 --log-queries \
    --log-facility="$t/dns.log" --pid-file="$t/dns.pid" --user=root "$@" \
    2>"$t/dnsmasq.err" &
  adopt dnsmasq $! "$t/dnsmasq.err"
  poll_for "$t/dns.log" "started, version" 10 dnsmasq ||
    fail "dnsmasq did not start: $(cat "$t/dnsmasq.err" "$t/dns.log" 2>/dev/null)"
  # shellcheck disable=SC2034 # for the tests that source this
  dns="$ip:$port"
}

# dns_queries: the queries dnsmasq received since dns_mark, in order, one "TYPE NAME" a
# line.
dns_queries()
{
  tail -n +$((_dns_mark + 1)) "$t/dns.log" |
    sed -n 's/.*query\[\([A-Z]*\)\] \([^ ]*\) from .*/\1 \2/p'
}

# dns_mark: the next dns_queries shows only the queries that follow.
dns_mark()
{
  _dns_mark=$(wc -l <"$t/dns.log")
}

# expect_dns_order "TYPE NAME"...: these queries were made in this order (others may come
# between them: AAAA beside A, a retry).
expect_dns_order()
{
  local got line i=0
  got=$(dns_queries)
  local -a want_list=("$@")
  while IFS= read -r line; do
    ((i < ${#want_list[@]})) || break
    [[ $line == "${want_list[i]}" ]] && ((i++))
  done <<<"$got"
  ((i == ${#want_list[@]})) || {
    _flow_log "---- DNS queries ----"
    _flow_log "$got"
    fail "DNS queries not in the order: ${want_list[*]} (missing '${want_list[i]}')"
  }
}
