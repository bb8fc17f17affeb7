#!/usr/bin/env bash
# 20 INVITE dialogs from a SIPp UAC through the core to a registered SIPp UAS: 180 and 200
# relayed, ACK and BYE routed by the Record-Route set through the core, 0 failed; the
# core's trace shows it relayed every ACK and BYE (it record-routed the dialog).
. "$(dirname "$0")/../lib/core.sh"
skip_without sipp
start_core --domain b.example --listen udp:127.0.0.1:0 --trace "$t/core.trace"
free_port() { python3 -c 'import socket; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
uas_port=$(free_port)
uac_port=$(free_port)
out=$(printf 'REGISTER sip:b.example SIP/2.0\nVia: SIP/2.0/UDP @LOCAL@;branch=@BRANCH@;rport\nMax-Forwards: 70\nFrom: <sip:bob@b.example>;tag=r\nTo: <sip:bob@b.example>\nCall-ID: @CALLID@\nCSeq: 1 REGISTER\nContact: <sip:bob@127.0.0.1:%s>\nExpires: 600\n\n' "$uas_port" | sip "$CORE_UDP" --port "$uas_port")
expect_eq "$(status <<<"$out")" 200 "REGISTER of the SIPp UAS"
sipp -sf "$CPM_SOURCE_DIR/tests/lib/sipp/invite-uas.xml" -t u1 -i 127.0.0.1 -p "$uas_port" -nostdin \
  -m 20 -timeout 60s >/dev/null 2>&1 &
uas=$!
core_pids+=("$uas")
rc=0
sipp -sf "$CPM_SOURCE_DIR/tests/lib/sipp/invite-uac.xml" -t u1 -i 127.0.0.1 -p "$uac_port" -nostdin \
  -r 10 -m 20 -timeout 60s -trace_stat -stf "$t/uac.csv" "$CORE_UDP" >/dev/null 2>&1 || rc=$?
[[ -s $t/uac.csv ]] || die "SIPp UAC wrote no statistics (exit $rc)"
read -r ok failed < <(python3 - "$t/uac.csv" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1]), delimiter=';'))
head, last = rows[0], rows[-1]
print(last[head.index('SuccessfulCall(C)')], last[head.index('FailedCall(C)')])
PY
)
expect_eq "$ok" 20 "successful INVITE dialogs"
expect_eq "$failed" 0 "failed INVITE dialogs"
expect_eq "$rc" 0 "SIPp UAC exit status"
wait "$uas" || die "SIPp UAS failed"
# What the core sent: 20 of each request forwarded, and the 180s and 200s relayed back.
count() { python3 - "$t/core.trace" "$1" <<'PY'
import json, sys
n = 0
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["dir"] == "tx" and e["first_line"].startswith(sys.argv[2]):
        n += 1
print(n)
PY
}
expect_eq "$(count 'INVITE sip:bob@127.0.0.1')" 20 "INVITEs forwarded to the registered contact"
expect_eq "$(count 'ACK sip:bob@127.0.0.1')" 20 "ACKs the core relayed along the Record-Route"
expect_eq "$(count 'BYE sip:bob@127.0.0.1')" 20 "BYEs the core relayed along the Record-Route"
[[ $(count 'SIP/2.0 180') -ge 20 ]] || die "the core relayed fewer than 20 180s"
stop_core
echo OK
