# shellcheck shell=bash
# The re-INVITE policy flows (tests/flows/policy-media-*.sh), sourced after flow.sh: SIPp
# plays alice (tests/lib/sipp/reinvite-audio-uac.xml) on alice's lab address and starts a
# session with bob (a real cpm-invite --answer) through coreA, csA, coreB and csB, adds audio
# by a re-INVITE (CSeq 2), then checks that the dialog still works (a re-INVITE with audio
# at port 0, CSeq 3, and the BYE, CSeq 4, both answered 200 by bob).
#
#   reinvite_lab              run it all in $lab; fails unless SIPp's one call succeeded and
#                             bob exited 0 after the BYE
#   answer_to_alice CSEQ      "STATUS" and, if any, " WARNING" of the final answer coreA sent
#                             alice for INVITE CSeq CSEQ
#   audio_invites TRACE DIR   the CSeqs of the INVITEs a node sent (tx) or received (rx) whose
#                             SDP has an active audio line, one a line
# It uses $t, $lab, $lab_prefix and the harness's start, expect_*, sipp_calls:
# shellcheck disable=SC2154

reinvite_lab()
{
  local rc=0 ok failed
  start_network
  start bob cpm-invite --config "$lab" --node bob --answer --count 1 --no-stdin --json \
    --trace "$t/bob.trace"
  sipp -sf "$CPM_SOURCE_DIR/tests/lib/sipp/reinvite-audio-uac.xml" -t u1 -i "${lab_prefix}1.10" \
    -p 5060 -nostdin -m 1 -timeout 30s -trace_stat -stf "$t/alice.csv" -trace_msg \
    -message_file "$t/alice.msg" "${lab_prefix}1.1:5060" >/dev/null 2>"$t/alice.err" || rc=$?
  read -r ok failed < <(sipp_calls "$t/alice.csv")
  expect_eq "$ok" 1 "alice's (SIPp's) successful calls"
  expect_eq "$failed" 0 "alice's (SIPp's) failed calls"
  expect_eq "$rc" 0 "SIPp's exit status"
  expect_exit bob 0 "bob's exit status after the BYE"
}

answer_to_alice()
{
  python3 - "$t/coreA.trace" "${lab_prefix}1.10:5060" "$1" <<'PY'
import json, re, sys
trace, alice, cseq = sys.argv[1:]
for line in open(trace):
    e = json.loads(line)
    m = e["message"]
    if e["dir"] != "tx" or not e["peer"].endswith(alice) or not m.startswith("SIP/2.0 "):
        continue
    status = int(m.split()[1])
    if status < 200 or not re.search(r"(?im)^CSeq:\s*%s\s+INVITE\s*$" % cseq, m):
        continue
    w = re.search(r"(?im)^Warning:\s*(.*?)\s*$", m)
    print(status, w.group(1)) if w else print(status)
PY
}

audio_invites()
{
  python3 - "$1" "$2" <<'PY'
import json, re, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    m = e["message"]
    if e["dir"] == sys.argv[2] and m.startswith("INVITE ") and re.search(r"(?m)^m=audio [1-9]", m):
        print(re.search(r"(?im)^CSeq:\s*(\d+)", m).group(1))
PY
}
