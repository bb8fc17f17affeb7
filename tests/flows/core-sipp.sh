#!/usr/bin/env bash
# 1,000 MESSAGEs from a SIPp UAC through the core to a registered SIPp UAS at 500/s: 0 failed.
. "$(dirname "$0")/../lib/core.sh"
skip_without sipp
start_core --domain b.example --listen udp:127.0.0.1:0
uas_port=$(free_port)
uac_port=$(free_port)
register_port bob "$uas_port"
sipp -sf "$CPM_SOURCE_DIR/tests/lib/sipp/message-uas.xml" -t u1 -i 127.0.0.1 -p "$uas_port" -nostdin -buff_size 4194304 \
  -m 1000 -timeout 60s -trace_err -error_file "$t/uas.err" >/dev/null 2>&1 &
uas=$!
core_pids+=("$uas")
rc=0
sipp -sf "$CPM_SOURCE_DIR/tests/lib/sipp/message-uac.xml" -t u1 -i 127.0.0.1 -p "$uac_port" -nostdin -buff_size 4194304 \
  -r 500 -m 1000 -timeout 60s -trace_stat -stf "$t/uac.csv" "$CORE_UDP" >/dev/null 2>&1 || rc=$?
read -r ok failed < <(sipp_calls "$t/uac.csv")
expect_eq "$ok" 1000 "successful MESSAGE transactions"
expect_eq "$failed" 0 "failed MESSAGE transactions"
expect_eq "$rc" 0 "SIPp UAC exit status"
wait "$uas" || die "SIPp UAS failed"
stop_core
echo OK
