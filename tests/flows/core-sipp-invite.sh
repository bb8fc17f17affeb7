#!/usr/bin/env bash
# 20 INVITE dialogs from a SIPp UAC through the core to a registered SIPp UAS: 180 and 200
# relayed, ACK and BYE routed by the Record-Route set through the core, 0 failed; the
# core's trace shows it relayed every ACK and BYE (it record-routed the dialog).
. "$(dirname "$0")/../lib/core.sh"
skip_without sipp
start_core --domain b.example --listen udp:127.0.0.1:0 --trace "$t/core.trace"
uas_port=$(free_port)
uac_port=$(free_port)
register_port bob "$uas_port"
sipp -sf "$CPM_SOURCE_DIR/tests/lib/sipp/invite-uas.xml" -t u1 -i 127.0.0.1 -p "$uas_port" -nostdin \
  -m 20 -timeout 60s >/dev/null 2>&1 &
uas=$!
core_pids+=("$uas")
rc=0
sipp -sf "$CPM_SOURCE_DIR/tests/lib/sipp/invite-uac.xml" -t u1 -i 127.0.0.1 -p "$uac_port" -nostdin \
  -r 10 -m 20 -timeout 60s -trace_stat -stf "$t/uac.csv" "$CORE_UDP" >/dev/null 2>&1 || rc=$?
read -r ok failed < <(sipp_calls "$t/uac.csv")
expect_eq "$ok" 20 "successful INVITE dialogs"
expect_eq "$failed" 0 "failed INVITE dialogs"
expect_eq "$rc" 0 "SIPp UAC exit status"
wait "$uas" || die "SIPp UAS failed"
expect_eq "$(sent "$t/core.trace" 'INVITE sip:bob@127.0.0.1')" 20 "INVITEs forwarded to the registered contact"
expect_eq "$(sent "$t/core.trace" 'ACK sip:bob@127.0.0.1')" 20 "ACKs the core relayed along the Record-Route"
expect_eq "$(sent "$t/core.trace" 'BYE sip:bob@127.0.0.1')" 20 "BYEs the core relayed along the Record-Route"
(($(sent "$t/core.trace" 'SIP/2.0 180') >= 20)) || die "the core relayed fewer than 20 180s"
stop_core
echo OK
