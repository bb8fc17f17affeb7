#!/bin/bash
# The participating function's interworking decision (FLOWS.md Figure 7, steps 1-10): csA
# sends alice's messages to a number that is no CPM user's (tel:+15550100, and
# sip:+15550100@...;user=phone) and to a non-CPM domain (sms.example) on to the IWF through
# coreA, by the Route set <coreA;odi>, <IWF;lr>, the request URI unchanged; the IWF's 202
# comes back to alice, who exits 0. A number that is a CPM user's (bob's tel:+15550101)
# reaches bob instead. A SIPp UAS on the IWF's address (127.K.1.3:5060) plays the IWF:
# it answers 202 to exactly the three interworked messages.
. "$(dirname "$0")/../lib/flow.sh"
need sipp

lab_config "$examples/lab-icsi.toml"
iwf="${lab_prefix}1.3"
start_network
start bob cpm-send --config "$lab" --node bob --receive --count 1 --trace "$t/bob.trace"

sipp -sf "$CPM_SOURCE_DIR/tests/lib/sipp/iwf-uas.xml" -t u1 -i "$iwf" -p 5060 -nostdin \
  -m 3 -timeout 60s -trace_msg -message_file "$t/iwf.msg" >/dev/null 2>"$t/iwf.err" \
  5>&- 6>&- 7>&- 8>&- 9>&- &
adopt iwf $! "$t/iwf.err"
sipp_listening "$iwf" 5060

# send NAME TO TEXT: alice sends TEXT to TO; must exit 0 (the IWF's 202, or bob's 200).
send()
{
  local rc=0
  cpm-send --config "$lab" --node alice --timeout 10 --trace "$t/alice-$1.trace" "$2" "$3" \
    >"$t/alice-$1.out" 2>"$t/alice-$1.err" || rc=$?
  ((rc == 0)) || { cat "$t/alice-$1.err" >&2; fail "alice to $2: exit $rc, expected 0"; }
}

send tel 'tel:+15550100' 'Hello, SMS user'
send phone "sip:+1-555-0100@a.example;user=phone" 'Hello again'
send domain 'sip:dave@sms.example' 'Hello, dave'
send bob 'tel:+15550101' 'Hello bob, by number'

wait_exit iwf 20 || fail "the SIPp IWF did not end after its 3 messages"
expect_exit bob 0 "bob's exit status"
expect_contains "$t/bob.out" 'Hello bob, by number'

# coreA sent exactly the three interworked messages to the IWF, request URI unchanged.
to_iwf()
{
  python3 - "$t/coreA.trace" "$iwf:5060" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["dir"] == "tx" and e["peer"].endswith(sys.argv[2]) and e["first_line"].startswith("MESSAGE "):
        print(e["first_line"])
PY
}
to_iwf >"$t/to-iwf"
expect_eq "$(wc -l <"$t/to-iwf")" 3 "MESSAGEs coreA sent to the IWF"
expect_contains "$t/to-iwf" 'MESSAGE tel:+15550100 SIP/2.0'
expect_contains "$t/to-iwf" 'MESSAGE sip:+1-555-0100@a.example;user=phone SIP/2.0'
expect_contains "$t/to-iwf" 'MESSAGE sip:dave@sms.example SIP/2.0'
# What csA sent back to coreA carried the Route set: coreA's own (with its odi), the IWF.
python3 - "$t/csA.trace" "$iwf" <<'PY' || fail "csA's interworked MESSAGE lacks the Route set to the IWF"
import json, re, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["dir"] == "tx" and e["first_line"].startswith("MESSAGE tel:+15550100 "):
        routes = re.findall(r"(?im)^Route:[ \t]*(.*?)\r?$", e["message"])
        ok = (len(routes) == 2 and ";odi=" in routes[0]
              and routes[1] == f"<sip:{sys.argv[2]}:5060;lr>")
        sys.exit(0 if ok else print(routes) or 1)
sys.exit(1)
PY

# The ladder of the first message: Figure 7 steps 1-4 and 7-10, the IWF an address.
cat >"$t/fig7-sip.ladder" <<LADDER
[alias]
A     = alice
CoreA = coreA
CSA   = csA
IWF   = $iwf:5060

[transaction message]
[1]  A     -> CoreA  MESSAGE tel:+15550100
[2]  CoreA -> CSA    MESSAGE
[3]  CSA   -> CoreA  MESSAGE
[4]  CoreA -> IWF    MESSAGE tel:+15550100
[7]  IWF   -> CoreA  202
[8]  CoreA -> CSA    202
[9]  CSA   -> CoreA  202
[10] CoreA -> A      202
LADDER
only_call "$t/alice-tel.trace" "$t/coreA.trace" "$t/csA.trace"
expect_ladder "$t/fig7-sip.ladder" "$t"/only/*.trace

stop_network
echo "OK pf-interwork"
