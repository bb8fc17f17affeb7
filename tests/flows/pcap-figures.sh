#!/bin/bash
# --pcap on every program, read back by tshark: the group session of Figures 1+2 (SIP, MSRP
# over TCP) and then the pager-mode message of Figures 5+6 on the same network
# (lab-icsi.toml). Every server and the session's clients take their capture file from the
# config (`pcap` key); the pager's clients from --pcap on the command line. Each capture is
# clean under tshark (checksums validated, no malformed frame, no expert error), and holds
# as many SIP and MSRP frames as its node's trace has events. cpm-ladder --pcap merges the
# traces into one capture that holds each message once.
. "$(dirname "$0")/../lib/flow.sh"
. "$(dirname "$0")/../lib/tshark.sh"
. "$(dirname "$0")/../lib/pcap.sh"
need tshark python3

lab_config "$examples/lab-icsi.toml"
pcap_in_config

# Figures 1+2, as fig1-2-group-session.sh runs them.
friends_hello
exec 7>&- # alice leaves (BYE); the focus ends bob's and carol's sessions
expect_exit alice 0 "alice's exit status"
exec 5>&-
expect_exit bob 0 "bob's exit status"
exec 6>&-
expect_exit carol 0 "carol's exit status"

# Figures 5+6 on the same network, the clients' captures named on the command line (over
# the config's: bob's session capture stays as it is).
start bob-pager cpm-send --config "$lab" --node bob --receive --count 1 \
  --trace "$t/bob-pager.trace" --pcap "$t/bob-pager.pcap"
cpm-send --config "$lab" --node alice --register --notify delivery --wait --timeout 10 \
  --trace "$t/alice-pager.trace" --pcap "$t/alice-pager.pcap" sip:bob@b.example 'Hello' \
  >"$t/alice-pager.out" 2>"$t/alice-pager.err" ||
  fail "alice's cpm-send exited with $?: $(cat "$t/alice-pager.err")"
expect_exit bob-pager 0 "bob's cpm-send exit status"
stop_group_network ""

for n in coreA coreB coreX csA csB csX alice bob carol alice-pager bob-pager; do
  [[ -s $t/$n.pcap ]] || fail "$n wrote no capture ($t/$n.pcap)"
done
((${#tshark_decode[@]} == 0)) || fail "tshark_decode is not empty"
pcap_decode_msrp "$t"/*.trace
((${#tshark_decode[@]} >= 4)) || fail "expected MSRP ports in the traces"

for n in coreA coreB coreX csA csB csX alice bob carol alice-pager bob-pager; do
  pcap_expect "$t/$n.pcap" sip "$t/$n.trace"
done
# The MSRP of the session: alice, bob, carol and the focus (csX).
for n in alice bob carol csX; do
  pcap_expect "$t/$n.pcap" msrp "$t/$n.trace"
  (($(trace_count msrp "$t/$n.trace") > 0)) || fail "$n traced no MSRP frame"
done
# One capture for the whole run, each message once (the senders' tx events).
cpm-ladder --pcap "$t/run.pcap" "$t"/*.trace >"$t/ladder.out" 2>"$t/ladder.err" ||
  fail "cpm-ladder --pcap failed: $(cat "$t/ladder.err")"
grep -q MESSAGE "$t/ladder.out" || fail "cpm-ladder --pcap did not also draw the ladder"
PCAP_TX_ONLY=1 pcap_expect "$t/run.pcap" sip "$t"/*.trace
PCAP_TX_ONLY=1 pcap_expect "$t/run.pcap" msrp "$t"/*.trace
tshark_pcap=$t/run.pcap
(($(tshark_count 'sip.Method == "MESSAGE"') >= 5)) ||
  fail "expected the MESSAGE hops of Figures 5+6 in the merged capture"
echo "OK pcap-figures"
