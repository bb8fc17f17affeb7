#!/usr/bin/env bash
# CANCEL through the core: 10 INVITEs cancelled after their 180. The caller gets 200 for
# each CANCEL and 487 for each INVITE; the core sent a CANCEL downstream for each and
# acknowledged the callee's 487 itself (hop-by-hop ACK for a non-2xx, RFC 3261 §17.1.1).
. "$(dirname "$0")/../lib/core.sh"
skip_without sipp
start_core --domain b.example --listen udp:127.0.0.1:0 --trace "$t/core.trace"
uas_port=$(free_port)
uac_port=$(free_port)
register_port bob "$uas_port"
sipp -sf "$CPM_SOURCE_DIR/tests/lib/sipp/cancel-uas.xml" -t u1 -i 127.0.0.1 -p "$uas_port" -nostdin \
  -m 10 -timeout 60s >/dev/null 2>&1 &
uas=$!
core_pids+=("$uas")
rc=0
sipp -sf "$CPM_SOURCE_DIR/tests/lib/sipp/cancel-uac.xml" -t u1 -i 127.0.0.1 -p "$uac_port" -nostdin \
  -r 10 -m 10 -timeout 60s -trace_stat -stf "$t/uac.csv" "$CORE_UDP" >/dev/null 2>&1 || rc=$?
read -r ok failed < <(sipp_calls "$t/uac.csv")
expect_eq "$ok" 10 "cancelled INVITEs"
expect_eq "$failed" 0 "failed cancellations"
expect_eq "$rc" 0 "SIPp UAC exit status"
wait "$uas" || die "SIPp UAS failed"
expect_eq "$(sent "$t/core.trace" 'INVITE sip:bob@127.0.0.1')" 10 "INVITEs forwarded to the registered contact"
expect_eq "$(sent "$t/core.trace" 'CANCEL sip:bob@127.0.0.1')" 10 "CANCELs the core sent downstream"
expect_eq "$(sent "$t/core.trace" 'ACK sip:bob@127.0.0.1')" 10 "ACKs for the callee's 487s"
(($(sent "$t/core.trace" 'SIP/2.0 487') >= 10)) || die "the core relayed fewer than 10 487s"
stop_core
echo OK
