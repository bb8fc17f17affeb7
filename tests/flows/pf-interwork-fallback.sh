#!/bin/bash
# SMS fallback (issue 10, "What users get" 2): alice has sms_fallback = true; bob (tel
# +15550101) is not registered. Her message to sip:bob@b.example gets 480 from coreB; csA
# does not relay it but sends the message on as tel:+15550101 through coreA to the IWF,
# whose 202 is the one final answer alice gets (exit 0). A message to a user without a
# number (sip:nobody@b.example) still gets its 404 (exit 1), and erin, whose settings do
# not allow fallback, still gets the 480 (exit 1): neither reaches the IWF. A SIPp UAS on
# the IWF's address (127.K.1.3:5060) plays the IWF.
. "$(dirname "$0")/../lib/flow.sh"
need sipp

lab_config "$examples/lab-icsi.toml"
iwf="${lab_prefix}1.3"
# alice's own setting; erin, a user of a.example, keeps the default (off).
sed -i 's/^# sms_fallback = true .*/sms_fallback = true/' "$lab"
grep -q '^sms_fallback = true' "$lab" || fail "could not turn on alice's sms_fallback in $lab"
lab_add_client erin sip:erin@a.example 1.11 coreA erin-secret
start_network

sipp -sf "$CPM_SOURCE_DIR/tests/lib/sipp/iwf-uas.xml" -t u1 -i "$iwf" -p 5060 -nostdin \
  -m 1 -timeout 60s >/dev/null 2>"$t/iwf.err" 5>&- 6>&- 7>&- 8>&- 9>&- &
adopt iwf $! "$t/iwf.err"
sipp_listening "$iwf" 5060

# send NODE NAME TO TEXT: NODE sends TEXT to TO; prints its exit status.
send()
{
  local rc=0
  cpm-send --config "$lab" --node "$1" --timeout 10 --json --trace "$t/$2.trace" "$3" "$4" \
    >"$t/$2.out" 2>"$t/$2.err" || rc=$?
  echo "$rc"
}

expect_eq "$(send erin erin 'sip:bob@b.example' 'No fallback for me')" 1 "erin's exit status (480)"
expect_contains "$t/erin.err" 480
expect_eq "$(send alice nobody 'sip:nobody@b.example' 'Anyone?')" 1 "alice to nobody (404)"
expect_contains "$t/nobody.err" 404
expect_eq "$(send alice fallback 'sip:bob@b.example' 'Hello bob, as SMS')" 0 "alice to bob (fallback)"
wait_exit iwf 20 || fail "the SIPp IWF did not end after its one message"

# alice saw one final answer, the IWF's 202; the 480 stopped at csA.
expect_json "$t/fallback.out" .status 202
expect_eq "$(python3 - "$t/fallback.trace" <<'PY'
import json, sys
print(sum(1 for l in open(sys.argv[1])
          if (e := json.loads(l))["dir"] == "rx" and e["first_line"].startswith("SIP/2.0 ")
          and not e["first_line"].startswith("SIP/2.0 100")))
PY
)" 1 "final answers alice received"
only_call "$t/fallback.trace" "$t"/core?.trace "$t"/cs?.trace
expect_eq "$(sent "$t/only/csA.trace" 'SIP/2.0 480')" 0 "480s csA relayed to alice"
expect_eq "$(sent "$t/only/csA.trace" 'MESSAGE tel:+15550101 ')" 1 "csA's fallback MESSAGE"
expect_contains "$t/csA.err" 'SMS fallback of sip:alice@a.example'
# Only the fallback reached the IWF, as tel:+15550101 with alice's message in it.
python3 - "$t/coreA.trace" "$iwf:5060" >"$t/to-iwf" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["dir"] == "tx" and e["peer"].endswith(sys.argv[2]) and e["first_line"].startswith("MESSAGE "):
        print(e["first_line"], "Hello bob, as SMS" in e["message"])
PY
expect_eq "$(cat "$t/to-iwf")" "MESSAGE tel:+15550101 SIP/2.0 True" "what coreA sent to the IWF"

cat >"$t/fallback.ladder" <<LADDER
[alias]
A     = alice
CoreA = coreA
CSA   = csA
CoreB = coreB
CSB   = csB
IWF   = $iwf:5060

# One transaction (one Call-ID and CSeq): the fallback is csA's second target.
[transaction message]
[1]  A     -> CoreA  MESSAGE sip:bob@b.example
[2]  CoreA -> CSA    MESSAGE
[3]  CSA   -> CoreA  MESSAGE
[4]  CoreA -> CoreB  MESSAGE
[5]  CoreB -> CSB    MESSAGE
[6]  CSB   -> CoreB  MESSAGE
[11] CSA   -> CoreA  MESSAGE tel:+15550101
[12] CoreA -> IWF    MESSAGE tel:+15550101
[7]  CoreB -> CSB    480
[8]  CSB   -> CoreB  480
[9]  CoreB -> CoreA  480
[10] CoreA -> CSA    480
[13] IWF   -> CoreA  202
[14] CoreA -> CSA    202
[15] CSA   -> CoreA  202
[16] CoreA -> A      202
LADDER
expect_ladder "$t/fallback.ladder" "$t"/only/*.trace

stop_network
echo "OK pf-interwork-fallback"
