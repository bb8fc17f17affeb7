#!/usr/bin/env bash
# A group member that takes only text/plain (as baresip): in the lab of Figures 1-2, carol
# is a SIPp UAS (tests/lib/sipp/message-plain-uas.xml) that answers the group's message/cpim
# copy 415 with "Accept: text/plain". csX sends her the text again as text/plain (the same
# Call-ID, CSeq 2, a bare body: checked by the scenario and in csX's trace) and says so;
# bob, a CPIM client, gets the CPIM copy and his delivery notification reaches alice
# (exit 0), and carol is no failure: no "failed" notification for her.
. "$(dirname "$0")/../lib/flow.sh"
need sipp python3
lab_config "$examples/lab-icsi.toml" lab.toml
start_group_network "" "$t"
start bob cpm-send --config "$lab" --node bob --receive --count 1 --json --trace "$t/bob.trace"

# carol registers her contact from the address SIPp then listens on (the core routes to it).
carol=${lab_prefix}2.11
reg=$(printf 'REGISTER sip:b.example SIP/2.0\nVia: SIP/2.0/UDP @LOCAL@;branch=@BRANCH@;rport\nMax-Forwards: 70\nFrom: <sip:carol@b.example>;tag=r\nTo: <sip:carol@b.example>\nCall-ID: @CALLID@\nCSeq: 1 REGISTER\nContact: <sip:carol@%s:5060>\nExpires: 600\n\n' "$carol" |
  sip "${lab_prefix}2.1:5060" --bind "$carol" --port 5060)
expect_eq "$(status <<<"$reg")" 200 "carol's REGISTER"
sipp -sf "$CPM_SOURCE_DIR/tests/lib/sipp/message-plain-uas.xml" -t u1 -i "$carol" -p 5060 \
  -nostdin -m 1 -key accept 'text/plain' -timeout 30s -trace_msg -message_file "$t/carol.msg" \
  >/dev/null 2>"$t/carol.err" 5>&- 6>&- 7>&- 8>&- 9>&- &
adopt carol $! "$t/carol.err"
sipp_listening "$carol" 5060

rc=0
cpm-send --config "$lab" --node alice --register --notify delivery --wait --timeout 10 --json \
  --trace "$t/alice.trace" sip:friends@x.example 'Hello plain group' \
  >"$t/alice.json" 2>"$t/alice.err" || rc=$?
expect_eq "$rc" 0 "alice's exit status"
expect_json "$t/alice.json" .type response .status 202
expect_json "$t/alice.json" .type notification .from sip:bob@b.example .status delivered
expect_exit bob 0 "bob's exit status"
expect_json "$t/bob.out" .type message .from sip:alice@a.example .text 'Hello plain group'

# carol's scenario passed: 415, then text/plain with CSeq 2 and no CPIM in it, then 200.
wait_exit carol 20 || fail "SIPp carol failed (exit $?): $(tail -5 "$t/carol.err")"
wait_for "$t/csX.err" 'sip:carol@b.example answered 200 OK to the text/plain copy'
expect_contains "$t/csX.err" 'member sip:carol@b.example answered 415 Unsupported Media Type (Accept: text/plain): sent again as text/plain, no notification can come from it'
grep -q 'carol@b.example not reached' "$t/csX.err" && fail "csX counted carol as not reached"

# In csX's trace: the copy to carol twice, the same Call-ID, the second text/plain, CSeq 2.
python3 - "$t/csX.trace" <<'PY' || fail "csX's MESSAGEs to carol are not as expected"
import json, sys
sent = []
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["dir"] == "tx" and e["first_line"].startswith("MESSAGE sip:carol@"):
        head, _, body = e["message"].partition("\r\n\r\n")
        h = {}
        for l in head.split("\r\n")[1:]:
            n, _, v = l.partition(":")
            h.setdefault(n.strip().lower(), v.strip())
        sent.append((h["call-id"], h["cseq"], h["content-type"], body))
print(sent, file=sys.stderr)
assert len(sent) == 2, sent
assert sent[0][0] == sent[1][0] and sent[0][1] == "1 MESSAGE" and sent[1][1] == "2 MESSAGE"
assert sent[0][2] == "message/cpim" and sent[1][2] == "text/plain;charset=utf-8"
assert sent[1][3] == "Hello plain group", sent[1][3]
PY
stop_group_network ""
echo OK
