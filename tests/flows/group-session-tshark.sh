#!/bin/bash
# A group session (Figures 1-2, lab-icsi.toml) captured on loopback with tshark and decoded by
# Wireshark's own SIP and MSRP dissectors: an independent check of what goes on the wire.
#
# alice invites sip:friends@x.example, bob and carol answer, alice sends a line, bob sends a
# line, everybody leaves. The capture (interface lo, filter: this test's 127.K. prefix) is
# decoded with every MSRP port of the run (from the a=path lines of the SDP in the traces)
# given to the MSRP dissector. Checked: SIP and MSRP SEND frames are present, no frame is
# malformed, and Wireshark reports no expert error.
# Skipped (77) when tshark is missing or may not capture here.
. "$(dirname "$0")/../lib/flow.sh"
. "$(dirname "$0")/../lib/tshark.sh"
. "$(dirname "$0")/../lib/pcap.sh"
need tshark python3

lab_config "$examples/lab-icsi.toml"
tshark_start

# The group session, as fig1-2-group-session.sh runs it.
friends_hello
printf 'hi from bob\n' >&5
wait_for "$t/alice.out" 'hi from bob'
wait_for "$t/carol.out" 'hi from bob'
friends_leave "" # alice leaves (BYE), then bob; the focus ends carol's session
stop_group_network ""

tshark_stop

# Every MSRP port of the run: the a=path URIs of the SDP offers and answers in the traces.
mapfile -t ports < <(msrp_ports "$t"/*.trace)
((${#ports[@]} >= 2)) || fail "expected MSRP ports in the traces, found: ${ports[*]:-none}"
for p in "${ports[@]}"; do
  tshark_decode+=(-d "tcp.port==$p,msrp")
done

sip=$(tshark_count sip)
invites=$(tshark_count 'sip.Method == "INVITE"')
sends=$(tshark_count 'msrp.method == "SEND"')
reports=$(tshark_count 'msrp.method == "REPORT"')
echo "capture: $sip SIP frames ($invites INVITE), $sends MSRP SEND, $reports MSRP REPORT;" \
  "MSRP ports ${ports[*]}" >&2
((sip > 0)) || fail "no SIP frame in the capture"
((invites >= 9)) || fail "expected the 9 INVITE hops of Figures 1-2 at least, got $invites"
# alice's line reaches the focus and goes to bob and carol; bob's the same to alice and carol.
((sends >= 6)) || fail "expected at least 6 MSRP SEND frames, got $sends"

tshark_clean
echo "OK group-session-tshark"
