#!/usr/bin/env bash
# 1,000 MESSAGEs from a SIPp UAC through the core to a registered SIPp UAS at 500/s: 0 failed.
. "$(dirname "$0")/../lib/flow.sh"
need sipp
start_core --domain b.example --listen udp:127.0.0.1:0
sipp_through_core message-uas.xml message-uac.xml 1000 500
stop_core
echo OK
