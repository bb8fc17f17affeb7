#!/bin/bash
# Figures 3 and 4 at the focus with SIPp as the independent client: SIPp plays alice (on
# alice's lab address) and starts a session of sip:friends@x.example with bob and carol
# (real cpm-invite --answer), then adds audio by a re-INVITE (CSeq 2), removes it again
# (CSeq 3, port 0) and hangs up (CSeq 4).
#
# Run 1, a group whose media include audio: csX holds the re-INVITE, re-INVITEs bob and carol
#   with their chat stream plus audio (the trace: csX sends an INVITE with an active audio
#   line in each of their dialogs), then answers alice 200 with an audio line of its own
#   (SIPp checks the port); alice sends no RTP for 3 s, which csX (rtp_timeout_ms = 1000)
#   logs; the removal is answered 200 and alice leaves the mix.
# Run 2, the example lab's group made chat-only (media = ["message"]): csX answers the
#   re-INVITE 488 with a Warning naming csX and the rule, re-offers nobody, and the dialog
#   still works (CSeq 3 and the BYE get 200).
. "$(dirname "$0")/../lib/flow.sh"
need sipp
need python3

# audio_invites TRACE: "CSeq Call-ID" of each INVITE the node sent with an active audio line.
audio_invites()
{
  python3 - "$1" <<'PY'
import json, re, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    m = e["message"]
    if e["dir"] == "tx" and m.startswith("INVITE ") and re.search(r"(?m)^m=audio [1-9]", m):
        print(re.search(r"(?im)^CSeq:\s*(\d+)", m).group(1), e["call_id"])
PY
}

# answer_to_alice CSEQ: "STATUS" and, if any, " WARNING" of csX's final answer to alice's
# INVITE CSeq CSEQ.
answer_to_alice()
{
  python3 - "$t/$run/csX.trace" "$1" <<'PY'
import json, re, sys
trace, cseq = sys.argv[1:]
for line in open(trace):
    e = json.loads(line)
    m = e["message"]
    if e["dir"] != "tx" or not m.startswith("SIP/2.0 "):
        continue
    status = int(m.split()[1])
    if status < 200 or not re.search(r"(?im)^CSeq:\s*%s\s+INVITE\s*$" % cseq, m):
        continue
    if "sip:alice@a.example" not in m.split("\r\n\r\n")[0]:
        continue
    w = re.search(r"(?im)^Warning:\s*(.*?)\s*$", m)
    print(status, w.group(1)) if w else print(status)
PY
}

for run in audio chat; do
  mkdir -p "$t/$run"
  lab_config "$examples/lab-icsi.toml" "$run.toml"
  if [[ $run == chat ]]; then
    sed -i 's/^media = \["message", "audio"\]$/media = ["message"]/' "$lab"
    grep -q '^media = \["message"\]$' "$lab" || fail "cannot make the group chat-only"
  else
    group_has_audio
    # SIPp's alice sends no RTP for 3 s after her audio was added: csX must say so.
    sed -i 's/^name = "csX"$/&\nrtp_timeout_ms = 1000/' "$lab"
  fi
  start_group_network "$run." "$t/$run"
  for who in bob carol; do
    start "$run.$who" cpm-invite --config "$lab" --node "$who" --register --answer --count 1 \
      --no-stdin --json --trace "$t/$run/$who.trace"
  done
  rc=0
  sipp -sf "$CPM_SOURCE_DIR/tests/lib/sipp/focus-reinvite-uac.xml" -t u1 -i "${lab_prefix}1.10" \
    -p 5060 -nostdin -m 1 -timeout 30s -trace_stat -stf "$t/$run/alice.csv" -trace_msg \
    -message_file "$t/$run/alice.msg" "${lab_prefix}1.1:5060" >/dev/null 2>"$t/$run/alice.err" ||
    rc=$?
  read -r ok failed < <(sipp_calls "$t/$run/alice.csv")
  expect_eq "$ok/$failed/$rc" "1/0/0" "$run: alice's (SIPp's) successful/failed calls/exit status"

  csx=$t/$run.csX.err
  if [[ $run == audio ]]; then
    # Once: alice's ACK stopped its retransmissions over UDP (she was silent 3 s after).
    expect_eq "$(answer_to_alice 2)" 200 "$run: csX's answers to the re-INVITE adding audio"
    # One re-offer with audio in bob's dialog and one in carol's (not alice's).
    n=$(audio_invites "$t/$run/csX.trace" | awk '$1 > 1' | sort -u | wc -l)
    expect_eq "$n" 2 "$run: csX's re-INVITEs with audio to the others"
    expect_contains "$csx" "sip:bob@b.example takes the audio"
    expect_contains "$csx" "sip:carol@b.example takes the audio"
    expect_contains "$csx" "audio mixing starts"
    expect_contains "$csx" "no RTP from sip:alice@a.example for"
    expect_contains "$csx" "sip:alice@a.example leaves the mix"
  else
    answer=$(answer_to_alice 2)
    [[ $answer == "488 399 csX "* ]] || fail "$run: want 488 with csX's Warning, got '$answer'"
    expect_contains "$csx" "does not carry audio"
    expect_eq "$(audio_invites "$t/$run/csX.trace" | wc -l)" 0 "$run: csX's INVITEs with audio"
  fi
  expect_eq "$(answer_to_alice 3)" 200 "$run: the re-INVITE after (audio at port 0)"

  # alice's BYE leaves bob and carol; the session goes on between them until they leave.
  stop "$run.bob" || fail "$run: bob did not stop cleanly"
  expect_exit "$run.carol" 0 "$run: carol's exit status"
  stop_group_network "$run."
  echo "OK focus-reinvite-sipp ($run)"
done
