#!/bin/bash
# A class watching a lab live in sngrep: LAB_HEP=udp:ADDR labs/pager.sh has every node of
# the lab send HEP to ADDR, where sngrep listens (-L). sngrep receives one SIP packet per
# SIP event of the lab's traces (kept by LAB_OUT), the same ones, and the lab still ends
# with "ladder matches".
. "$(dirname "$0")/../lib/flow.sh"
. "$(dirname "$0")/../lib/tshark.sh"
. "$(dirname "$0")/../lib/hep.sh"
need sngrep tshark python3

claim_prefix # the collector's own address; the lab claims another prefix
collector="${lab_prefix}0.9:9060"
sngrep_start "$collector" "$t/out.pcap"
rc=0
(cd "$CPM_SOURCE_DIR" && LAB_HEP="udp:$collector" LAB_OUT="$t/lab" bash labs/pager.sh) \
  >"$t/out" 2>"$t/err" || rc=$?
((rc == 0)) || { cat "$t/out" "$t/err" >&2; fail "labs/pager.sh exited $rc, expected 0"; }
expect_contains "$t/out" 'ladder matches'
if grep 'HEP to' "$t/err" >&2; then
  fail "a node of the lab could not send HEP"
fi

sip_events "$t"/lab/fig5-6/*.trace >"$t/events"
want=$(wc -l <"$t/events")
((want >= 56)) || fail "only $want SIP events in the lab's traces (28 hops, each sent and received)"
sngrep_wait "$t/out.pcap" "$want"
sngrep_stop
sip_frames "$t/out.pcap" >"$t/frames"
diff -u "$t/events" "$t/frames" >&2 || fail "sngrep did not receive the SIP messages the lab's traces have"
echo "OK lab-hep: sngrep received the lab's $want SIP events"
