#!/usr/bin/env bash
# SIPp (Debian sip-tester) registers bob with Contact <sip:bob@HOST:P> from another port
# (a SIPp client on P+1, as a third-party registration or a phone with separate sockets
# does); a SIPp UAS listens on P and answers 1,000 MESSAGEs that a SIPp UAC sends through
# cpm-core-route: every one must reach the Contact (RFC 3261 §10.3, §16.5) and get its 200.
. "$(dirname "$0")/../lib/flow.sh"
need sipp ss
claim_prefix
core=${lab_prefix}0.1 bob=${lab_prefix}0.10 alice=${lab_prefix}0.20
contact_port=5060 register_port=5061 calls=1000 rate=250
sipp_dir="$CPM_SOURCE_DIR/tests/interop/sipp" lib_sipp="$CPM_SOURCE_DIR/tests/lib/sipp"

# A short non-answer timeout: a MESSAGE sent anywhere but the UAS fails in seconds.
start_core --domain b.example --listen "udp:$core:0" --timeout 3000

# The UAS first, on the Contact's port; it is ready once its socket is bound.
sipp -sf "$lib_sipp/message-uas.xml" -t u1 -i "$bob" -p "$contact_port" -nostdin \
  -buff_size 4194304 -m "$calls" -timeout 90s -trace_stat -stf "$t/uas.csv" \
  >/dev/null 2>"$t/uas.err" 5>&- 6>&- 7>&- 8>&- 9>&- &
adopt uas $! "$t/uas.err"
for ((i = 0; i < 100; i++)); do
  ss -Hlnu "src $bob:$contact_port" | quiet_grep . && break
  alive uas || fail "the SIPp UAS ended before it listened"
  sleep 0.1 # bounded poll for the UAS's socket; checked below
done
ss -Hlnu "src $bob:$contact_port" | quiet_grep . || fail "the SIPp UAS never listened on $bob:$contact_port"

# The registration, from port P+1.
rc=0
sipp -sf "$sipp_dir/register-contact.xml" -t u1 -i "$bob" -p "$register_port" -nostdin \
  -key contact "$bob:$contact_port" -m 1 -timeout 20s -trace_stat -stf "$t/reg.csv" \
  "$CORE_UDP" >/dev/null 2>"$t/reg.err" 5>&- 6>&- 7>&- 8>&- 9>&- || rc=$?
expect_eq "$rc" 0 "SIPp REGISTER client exit status"
read -r ok failed < <(sipp_calls "$t/reg.csv")
expect_eq "$ok/$failed" "1/0" "REGISTER from port $register_port (successful/failed)"

# 1,000 MESSAGEs through the core.
rc=0
sipp -sf "$lib_sipp/message-uac.xml" -t u1 -i "$alice" -p 5060 -nostdin \
  -nd -buff_size 4194304 -r "$rate" -m "$calls" -timeout 60s -trace_stat -stf "$t/uac.csv" \
  "$CORE_UDP" >/dev/null 2>"$t/uac.err" 5>&- 6>&- 7>&- 8>&- 9>&- || rc=$?
read -r ok failed < <(sipp_calls "$t/uac.csv")
expect_eq "$ok/$failed" "$calls/0" "MESSAGEs to bob's Contact (successful/failed)"
expect_eq "$rc" 0 "SIPp UAC exit status"

# The UAS answered each of them and ends by itself after the last.
rc=0
wait_exit uas 30 || rc=$?
expect_eq "$rc" 0 "SIPp UAS exit status"
read -r ok failed < <(sipp_calls "$t/uas.csv")
expect_eq "$ok/$failed" "$calls/0" "MESSAGEs the UAS on the Contact answered (successful/failed)"
stop_core
echo OK
