#!/bin/bash
# Glare at the focus (RFC 3261 §14.1): SIPp plays alice (on alice's lab address) and starts a
# session of sip:friends@x.example with bob and carol (real cpm-invite --answer); bob adds
# audio once the session is up (--add-audio-after 0). csX holds his re-INVITE and re-offers
# carol her chat plus audio, and alice too: SIPp ACKs its 200 300 ms late, so csX offers her
# the audio when she joins, while bob's re-INVITE is held (his 200 then waits for her answer)
# or just after it was answered. SIPp answers that re-offer 491 Request Pending, as a client
# whose own re-INVITE had crossed it would (tests/lib/sipp/focus-glare-uac.xml).
#
# Checked: csX says so and sends the re-offer again after 0 to 2 s (alice's INVITE made the
# dialog's Call-ID, so the focus does not own it), in alice's dialog, with an active audio
# line both times (the scenario checks each); alice takes the audio the second time (SIPp's
# 200), and so do bob and carol; the audio was not given up, and alice is not marked as
# having refused it.
. "$(dirname "$0")/../lib/flow.sh"
need sipp
need python3

lab_config "$examples/lab-icsi.toml" lab.toml
group_has_audio
start_group_network "" "$t"
start bob cpm-invite --config "$lab" --node bob --register --answer --count 1 --no-stdin \
  --json --add-audio-after 0 --trace "$t/bob.trace"
start carol cpm-invite --config "$lab" --node carol --register --answer --count 1 --no-stdin \
  --json --trace "$t/carol.trace"

rc=0
sipp -sf "$CPM_SOURCE_DIR/tests/lib/sipp/focus-glare-uac.xml" -t u1 -i "${lab_prefix}1.10" \
  -p 5060 -set core "${lab_prefix}1.1" -nostdin -m 1 -timeout 40s -trace_stat \
  -stf "$t/alice.csv" -trace_msg -message_file "$t/alice.msg" "${lab_prefix}1.1:5060" \
  >/dev/null 2>"$t/alice.err" || rc=$?
read -r ok failed < <(sipp_calls "$t/alice.csv")
expect_eq "$ok/$failed/$rc" "1/0/0" "alice's (SIPp's) successful/failed calls/exit status"

csx=$t/csX.err
expect_contains "$csx" \
  "glare: sip:alice@a.example answered our re-offer of audio 491 Request Pending"
expect_contains "$csx" "sip:alice@a.example takes the audio"
expect_contains "$csx" "sip:carol@b.example takes the audio"
! grep -qF "giving it up" "$csx" || fail "csX gave the re-offer up: $(grep -F glare "$csx")"
! grep -qF "sip:alice@a.example refused" "$csx" || fail "csX took the 491 for a refusal"
# §14.1: 0 to 2 s in units of 10 ms for the side that did not make the Call-ID.
delay=$(sed -n \
  's/.*sip:alice@a\.example answered our re-offer.*trying again in \([0-9.]*\) s.*/\1/p' "$csx")
[[ $delay =~ ^[0-9]+\.[0-9][0-9]$ ]] || fail "no retry delay in csX's log: '$delay'"
awk -v d="$delay" 'BEGIN { exit !(d >= 0 && d <= 2.00) }' || fail "retry after $delay s, not 0..2"

# csX's INVITEs in alice's dialog with an active audio line: two, with two CSeqs; the first
# answered 491, the second 200.
python3 - "$t/csX.trace" <<'PY' || fail "csX's re-offers to alice: see $t/csX.trace"
import json, re, sys
sent, answers = [], {}
for line in open(sys.argv[1]):
    e = json.loads(line)
    m = e["message"]
    head = m.split("\r\n\r\n")[0]
    cseq = re.search(r"(?im)^CSeq:\s*(\d+)\s+INVITE\s*$", head)
    to_alice = re.search(r"(?im)^To:.*sip:alice@a\.example", head)
    if not cseq or not to_alice:
        continue
    if e["dir"] == "tx" and m.startswith("INVITE ") and re.search(r"(?m)^m=audio [1-9]", m):
        sent.append(int(cseq.group(1)))
    elif e["dir"] == "rx" and m.startswith("SIP/2.0 "):
        status = int(m.split()[1])
        if status >= 200:
            answers[int(cseq.group(1))] = status
sent = sorted(set(sent))
assert len(sent) == 2, sent
assert [answers.get(c) for c in sent] == [491, 200], (sent, answers)
PY
expect_json "$t/bob.out" .event media .action added .media audio

# alice's BYE leaves bob and carol; the session goes on between them until they leave.
stop bob || fail "bob did not stop cleanly"
expect_exit carol 0 "carol's exit status"
stop_group_network ""
echo "OK focus-glare-sipp"
