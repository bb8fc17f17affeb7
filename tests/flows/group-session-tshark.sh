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
need tshark python3

lab_config "$examples/lab-icsi.toml"
net="${lab_prefix}0.0/16" # 127.K.0.0/16
pcap="$t/group.pcapng"

# Start the capture and wait until tshark says it is capturing (bounded by START_TIMEOUT);
# -a duration bounds the capture itself should the test be killed.
tshark -i lo -f "net $net" -w "$pcap" -a duration:120 -q >"$t/tshark.out" 2>"$t/tshark.err" \
  </dev/null 5>&- 6>&- 7>&- &
adopt tshark $! "$t/tshark.err"
if ! poll_for "$t/tshark.err" "Capturing on" "$START_TIMEOUT" tshark; then
  stop tshark 2>/dev/null || true
  cat "$t/tshark.err" >&2
  if grep -qiE "permission|not permitted|privileges|no such device|no interfaces" "$t/tshark.err"; then
    skip "tshark cannot capture on lo here"
  fi
  fail "tshark did not start capturing"
fi

# The group session, as fig1-2-group-session.sh runs it.
start_group_network "" "$t"
start_friends "" "$t"
friends_joined "" "$t"
printf 'hello friends\n' >&7
wait_for "$t/bob.out" 'hello friends'
wait_for "$t/carol.out" 'hello friends'
printf 'hi from bob\n' >&5
wait_for "$t/alice.out" 'hi from bob'
wait_for "$t/carol.out" 'hi from bob'
exec 7>&- # alice leaves (BYE), then bob; the focus ends carol's session
expect_exit alice 0 "alice's exit status"
exec 5>&-
expect_exit bob 0 "bob's exit status"
expect_exit carol 0 "carol's exit status"
exec 6>&-
stop_group_network ""

# Stop the capture: SIGINT, and wait for tshark to finish writing the file (bounded).
kill -INT "$(pid_of tshark)"
rc=0
wait_exit tshark 10 || rc=$?
((rc == 0)) || {
  cat "$t/tshark.err" >&2
  fail "tshark exited with status $rc"
}
[[ -s $pcap ]] || fail "no capture file"

# Every MSRP port of the run: the a=path URIs of the SDP offers and answers in the traces.
mapfile -t ports < <(python3 - "$t"/*.trace <<'PY'
import json, re, sys
ports = set()
for path in sys.argv[1:]:
    for line in open(path, encoding="utf-8", errors="replace"):
        msg = json.loads(line).get("message", "")
        for m in re.finditer(r"a=path:([^\r\n]*)", msg):
            ports.update(re.findall(r"msrps?://[^/\s]*:(\d+)/", m.group(1)))
print("\n".join(sorted(ports)))
PY
)
((${#ports[@]} >= 2)) || fail "expected MSRP ports in the traces, found: ${ports[*]:-none}"
decode=()
for p in "${ports[@]}"; do
  decode+=(-d "tcp.port==$p,msrp")
done

# count FILTER: frames of the capture matching a display filter.
count()
{
  tshark -r "$pcap" "${decode[@]}" -Y "$1" 2>>"$t/tshark-read.err" | wc -l
}
sip=$(count sip)
invites=$(count 'sip.Method == "INVITE"')
sends=$(count 'msrp.method == "SEND"')
reports=$(count 'msrp.method == "REPORT"')
echo "capture: $sip SIP frames ($invites INVITE), $sends MSRP SEND, $reports MSRP REPORT;" \
  "MSRP ports ${ports[*]}" >&2
((sip > 0)) || fail "no SIP frame in the capture"
((invites >= 9)) || fail "expected the 9 INVITE hops of Figures 1-2 at least, got $invites"
# alice's line reaches the focus and goes to bob and carol; bob's the same to alice and carol.
((sends >= 6)) || fail "expected at least 6 MSRP SEND frames, got $sends"

malformed=$(tshark -r "$pcap" "${decode[@]}" -Y _ws.malformed 2>>"$t/tshark-read.err")
[[ -z $malformed ]] || {
  printf '%s\n' "$malformed" >&2
  fail "malformed frames in the capture"
}
errors=$(tshark -r "$pcap" "${decode[@]}" -Y '_ws.expert.severity == error' 2>>"$t/tshark-read.err")
[[ -z $errors ]] || {
  printf '%s\n' "$errors" >&2
  tshark -r "$pcap" "${decode[@]}" -q -z expert,error >&2
  fail "Wireshark expert errors in the capture"
}
echo "OK group-session-tshark"
