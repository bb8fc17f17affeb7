#!/bin/bash
# A CPM user's delivery notification to an SMS sender (FLOWS.md Figure 8, steps 2-14):
# the IWF (a SIPp UAC on 127.K.1.3:5061) sends coreA a CPM Message from tel:+15550100 to
# alice asking for a delivery notification; it reaches alice through csA (terminating
# trigger). alice's notification to tel:+15550100 is no CPM user's number, so csA sends it
# on to the IWF through coreA (the Route set <coreA;odi>, <IWF;lr>), where a SIPp UAS on the
# IWF's address (127.K.1.3:5060) answers 202.
. "$(dirname "$0")/../lib/flow.sh"
need sipp

lab_config "$examples/lab-icsi.toml"
iwf="${lab_prefix}1.3"
start coreA cpm-core-route --config "$lab" --node coreA --trace "$t/coreA.trace"
start csA cpm-groupd --config "$lab" --node csA --trace "$t/csA.trace"
# Ready once registered.
start alice cpm-send --config "$lab" --node alice --receive --count 1 --json \
  --trace "$t/alice.trace"

sipp -sf "$CPM_SOURCE_DIR/tests/lib/sipp/iwf-uas.xml" -t u1 -i "$iwf" -p 5060 -nostdin \
  -m 1 -timeout 60s >/dev/null 2>"$t/iwf-uas.err" 5>&- 6>&- 7>&- 8>&- 9>&- &
adopt iwf-uas $! "$t/iwf-uas.err"
sipp_listening "$iwf" 5060

rc=0
sipp -sf "$CPM_SOURCE_DIR/tests/lib/sipp/iwf-sms-uac.xml" -t u1 -i "$iwf" -p 5061 -nostdin \
  -m 1 -timeout 30s -trace_stat -stf "$t/uac.csv" "${lab_prefix}1.1:5060" >/dev/null 2>&1 ||
  rc=$?
read -r ok failed < <(sipp_calls "$t/uac.csv")
expect_eq "$ok/$failed/$rc" 1/0/0 "the IWF's CPM Message to alice (successful/failed/exit)"

expect_exit alice 0 "alice's exit status"
expect_contains "$t/alice.out" 'Hello alice, from a phone'
wait_exit iwf-uas 20 || fail "the SIPp IWF did not get alice's notification"

# coreA sent alice's notification to the IWF as MESSAGE tel:+15550100 with an IMDN in it.
python3 - "$t/coreA.trace" "$iwf:5060" >"$t/to-iwf" <<'PY'
import json, re, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["dir"] == "tx" and e["peer"].endswith(sys.argv[2]) and e["first_line"].startswith("MESSAGE "):
        print(e["first_line"], re.search(r"<delivered\s*/>", e["message"]) is not None)
PY
expect_eq "$(cat "$t/to-iwf")" "MESSAGE tel:+15550100 SIP/2.0 True" "what coreA sent to the IWF"

cat >"$t/fig8-notify.ladder" <<LADDER
[alias]
A     = alice
CoreA = coreA
CSA   = csA
IWF   = $iwf:5060

# Figure 8 steps 11-14 and 17-20: alice's delivery notification to the SMS sender.
[transaction notification]
[11] A     -> CoreA  MESSAGE tel:+15550100
[12] CoreA -> CSA    MESSAGE
[13] CSA   -> CoreA  MESSAGE
[14] CoreA -> IWF    MESSAGE tel:+15550100
[17] IWF   -> CoreA  202
[18] CoreA -> CSA    202
[19] CSA   -> CoreA  202
[20] CoreA -> A      202
LADDER
only_call "$t/alice.trace" "$t/coreA.trace" "$t/csA.trace"
expect_ladder "$t/fig8-notify.ladder" "$t"/only/*.trace

for n in csA coreA; do
  stop "$n" || fail "$n did not stop cleanly"
done
echo "OK pf-interwork-notify"
