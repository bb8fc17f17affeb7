#!/usr/bin/env bash
# Interop: a SIPp UAC sends an INVITE with an MSRP offer through cpm-core-route to
# `cpm-invite --answer` registered there: 180, 200 with an MSRP answer (checked by the
# scenario), ACK and BYE along the Record-Route set; the answerer saw the BYE and exits 0
# after its one session.
. "$(dirname "$0")/../lib/flow.sh"
need sipp
start_core --domain b.example --listen udp:127.0.0.1:0 --trace "$t/core.trace"

start bob cpm-invite --answer --count 1 --no-stdin --json --from sip:bob@b.example \
  --proxy "udp:$CORE_UDP" --listen udp:127.0.0.1:0 --trace "$t/bob.trace"

uac_port=$(free_port)
rc=0
sipp -sf "$CPM_SOURCE_DIR/tests/lib/sipp/invite-msrp-uac.xml" -t u1 -i 127.0.0.1 -p "$uac_port" \
  -nostdin -m 1 -timeout 30s -trace_stat -stf "$t/uac.csv" "$CORE_UDP" >/dev/null 2>&1 || rc=$?
read -r ok failed < <(sipp_calls "$t/uac.csv")
expect_eq "$ok" 1 "successful SIPp calls"
expect_eq "$failed" 0 "failed SIPp calls"
expect_eq "$rc" 0 "SIPp UAC exit status"

expect_exit bob 0 "cpm-invite --answer exit status"
grep -q '"event":"ended"' "$t/bob.out" || fail "no ended event: $(cat "$t/bob.out")"
grep -q '"event":"invited"' "$t/bob.out" || fail "no invited event"
expect_eq "$(sent "$t/core.trace" 'INVITE sip:bob@127.0.0.1')" 1 "INVITE forwarded to bob's contact"
expect_eq "$(sent "$t/core.trace" 'BYE sip:bob@127.0.0.1')" 1 "BYE relayed along the Record-Route"
expect_eq "$(sent "$t/bob.trace" 'SIP/2.0 180')" 1 "bob's 180"
stop_core
echo OK
