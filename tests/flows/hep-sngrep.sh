#!/bin/bash
# --hep on every program, received by a real collector: sngrep as a HEP server
# (`sngrep -N -q -L udp:ADDR -O out.pcap`) while the group session of Figures 1+2 and then the
# pager-mode message of Figures 5+6 run on lab-icsi.toml, every node taking the collector from
# its config (`hep` key). sngrep writes each HEP packet it receives as a frame, duplicates
# included, so out.pcap must hold one SIP frame per SIP event of all the traces (each message
# once from its sender, once from its receiver), with the same addresses, ports, Call-IDs
# and first lines; MSRP, which HEP has no type for, is not sent.
. "$(dirname "$0")/../lib/flow.sh"
. "$(dirname "$0")/../lib/tshark.sh"
. "$(dirname "$0")/../lib/hep.sh"
need sngrep tshark python3

lab_config "$examples/lab-icsi.toml"
collector="${lab_prefix}0.9:9060"
hep_in_config "$collector"
sngrep_start "$collector" "$t/out.pcap"

# Figures 1+2, as fig1-2-group-session.sh runs them.
friends_hello
friends_leave ""

# Figures 5+6 on the same network, the clients' collector from the config too.
start bob-pager cpm-send --config "$lab" --node bob --receive --count 1 \
  --trace "$t/bob-pager.trace"
cpm-send --config "$lab" --node alice --register --notify delivery --wait --timeout 10 \
  --trace "$t/alice-pager.trace" sip:bob@b.example 'Hello' \
  >"$t/alice-pager.out" 2>"$t/alice-pager.err" ||
  fail "alice's cpm-send exited with $?: $(cat "$t/alice-pager.err")"
expect_exit bob-pager 0 "bob's cpm-send exit status"
stop_group_network ""

# Nobody said a word about HEP: the collector was there all along.
if grep -l 'HEP to' "$t"/*.err >&2; then
  fail "a program could not send HEP"
fi

sip_events "$t"/*.trace >"$t/events"
want=$(wc -l <"$t/events")
((want > 40)) || fail "only $want SIP events in the traces"
(($(grep -c ' MESSAGE sip:' "$t/events") >= 10)) || fail "the pager's MESSAGE hops are missing"
sngrep_wait "$t/out.pcap" "$want"
sngrep_stop
records=$(_pcap_records "$t/out.pcap")
((records == want)) || fail "out.pcap: $records packets, the traces have $want SIP events"

# tshark_clean on sngrep's capture (its IPv4 headers carry no checksum: not checked).
tshark_pcap=$t/out.pcap
tshark_clean
got=$(tshark_count sip)
((got == want)) || fail "out.pcap: $got SIP frames, the traces have $want SIP events"
# MSRP frames (cpm-invite and the focus traced them) did not go out as HEP: no frame's UDP
# payload (after 14 + 20 + 8 bytes of headers) starts with "MSRP ".
(($(tshark_count 'frame[42:5] == 4d:53:52:50:20') == 0)) || fail "MSRP went out as HEP"
sip_frames "$t/out.pcap" >"$t/frames"
diff -u "$t/events" "$t/frames" >&2 ||
  fail "out.pcap's SIP frames (addresses, Call-IDs, first lines) differ from the traces'"
# Every Call-ID of the run arrived, and nothing else.
expect_eq "$(awk '{print $2}' "$t/frames" | LC_ALL=C sort -u)" \
  "$(awk '{print $2}' "$t/events" | LC_ALL=C sort -u)" "the Call-IDs sngrep received"
echo "sngrep received $got SIP messages, as the traces of every node say" >&2
echo "OK hep-sngrep"
