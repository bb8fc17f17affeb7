#!/usr/bin/env bash
# 20 INVITE dialogs from a SIPp UAC through the core to a registered SIPp UAS: 180 and 200
# relayed, ACK and BYE routed by the Record-Route set through the core, 0 failed; the
# core's trace shows it relayed every ACK and BYE (it record-routed the dialog).
. "$(dirname "$0")/../lib/flow.sh"
need sipp
start_core --domain b.example --listen udp:127.0.0.1:0 --trace "$t/core.trace"
sipp_through_core invite-uas.xml invite-uac.xml 20 10
expect_eq "$(sent "$t/core.trace" 'INVITE sip:bob@127.0.0.1')" 20 "INVITEs forwarded to the registered contact"
expect_eq "$(sent "$t/core.trace" 'ACK sip:bob@127.0.0.1')" 20 "ACKs the core relayed along the Record-Route"
expect_eq "$(sent "$t/core.trace" 'BYE sip:bob@127.0.0.1')" 20 "BYEs the core relayed along the Record-Route"
(($(sent "$t/core.trace" 'SIP/2.0 180') >= 20)) || fail "the core relayed fewer than 20 180s"
stop_core
echo OK
