#!/usr/bin/env bash
# 1,000 MESSAGEs from a SIPp UAC through the core to a registered SIPp UAS at 500/s: 0 failed.
. "$(dirname "$0")/../lib/core.sh"
skip_without sipp
start_core --domain b.example --listen udp:127.0.0.1:0
# Free UDP ports for SIPp (it has no port 0): bind 0, read it, let it go.
free_port() { python3 -c 'import socket; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
uas_port=$(free_port)
uac_port=$(free_port)
# Register from the UAS's own port (the core routes to the REGISTER's source), then start it.
out=$(printf 'REGISTER sip:b.example SIP/2.0\nVia: SIP/2.0/UDP @LOCAL@;branch=@BRANCH@;rport\nMax-Forwards: 70\nFrom: <sip:bob@b.example>;tag=r\nTo: <sip:bob@b.example>\nCall-ID: @CALLID@\nCSeq: 1 REGISTER\nContact: <sip:bob@127.0.0.1:%s>\nExpires: 600\n\n' "$uas_port" | sip "$CORE_UDP" --port "$uas_port")
expect_eq "$(status <<<"$out")" 200 "REGISTER of the SIPp UAS"
sipp -sf "$CPM_SOURCE_DIR/tests/lib/sipp/message-uas.xml" -t u1 -i 127.0.0.1 -p "$uas_port" -nostdin -buff_size 4194304 \
  -m 1000 -timeout 60s -trace_err -error_file "$t/uas.err" >/dev/null 2>&1 &
uas=$!
core_pids+=("$uas")
rc=0
sipp -sf "$CPM_SOURCE_DIR/tests/lib/sipp/message-uac.xml" -t u1 -i 127.0.0.1 -p "$uac_port" -nostdin -buff_size 4194304 \
  -r 500 -m 1000 -timeout 60s -trace_stat -stf "$t/uac.csv" "$CORE_UDP" >/dev/null 2>&1 || rc=$?
[[ -s $t/uac.csv ]] || die "SIPp UAC wrote no statistics (exit $rc)"
read -r ok failed < <(python3 - "$t/uac.csv" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1]), delimiter=';'))
head, last = rows[0], rows[-1]
print(last[head.index('SuccessfulCall(C)')], last[head.index('FailedCall(C)')])
PY
)
expect_eq "$ok" 1000 "successful MESSAGE transactions"
expect_eq "$failed" 0 "failed MESSAGE transactions"
expect_eq "$rc" 0 "SIPp UAC exit status"
wait "$uas" || die "SIPp UAS failed"
stop_core
echo OK
