#!/bin/bash
# A CANCEL of a re-INVITE that the focus holds (RFC 3261 §9.2, man cpm-groupd "Adding media"):
# SIPp plays alice (tests/lib/sipp/focus-reinvite-cancel-uac.xml) and starts a session of
# sip:friends@x.example with bob and carol (real cpm-invite --answer). Once both joined, the
# test stops carol (SIGSTOP), so that she cannot answer a re-offer yet, and gives SIPp its
# go-ahead: alice adds audio by a re-INVITE and CANCELs it on its 100. csX holds it while it
# re-offers bob (who takes the audio at once) and carol. The CANCEL gets 200 and the re-INVITE
# 487; carol continues and takes the audio too; then csX re-offers both without it (port 0).
# After the second go-ahead, alice's re-INVITE with the chat stream alone is "no change" to
# csX (her cancelled offer was never applied) and gets 200; her BYE leaves bob and carol
# chatting.
#
# Checked: SIPp's call (200 to the CANCEL, 487, the later 200s); csX's answers to the
# re-INVITE (487 only, never 200); csX's log (the cancel, bob and carol take the audio and
# are back to chat only, nobody has audio, alice's next re-INVITE is no change); csX's last
# offer to bob and to carol has audio at port 0; bob and carol report the audio added then
# removed; chat between bob and carol afterwards.
. "$(dirname "$0")/../lib/flow.sh"
need sipp
need python3

lab_config "$examples/lab-icsi.toml" lab.toml
group_has_audio
start_group_network "" "$t"
mkfifo "$t/bob.in" "$t/carol.in"
exec 5<>"$t/bob.in" 6<>"$t/carol.in"
for who in bob carol; do
  START_STDIN="$t/$who.in" start "$who" cpm-invite --config "$lab" --node "$who" --register \
    --answer --count 1 --json --trace "$t/$who.trace"
done
alice=${lab_prefix}1.10
callid="focus-cancel-1@$alice"
sipp -sf "$CPM_SOURCE_DIR/tests/lib/sipp/focus-reinvite-cancel-uac.xml" -t u1 -i "$alice" \
  -p 5060 -cid_str 'focus-cancel-%u@%s' -nostdin -m 1 -timeout 60s -trace_stat \
  -stf "$t/alice.csv" -trace_msg -message_file "$t/alice.msg" "${lab_prefix}1.1:5060" \
  >/dev/null 2>"$t/alice.err" 5>&- 6>&- &
adopt alice $! "$t/alice.err"

# go_ahead N: the OPTIONS that lets SIPp's alice go on (the scenario's "go-ahead"), one UDP
# datagram that SIPp leaves unanswered.
go_ahead()
{
  local crlf=$'\r\n'
  printf '%s' "OPTIONS sip:alice@$alice:5060 SIP/2.0${crlf}Via: SIP/2.0/UDP $alice:9;branch=z9hG4bKgo$1${crlf}From: <sip:test@$alice>;tag=go$1${crlf}To: <sip:alice@a.example>${crlf}Call-ID: $callid${crlf}CSeq: $1 OPTIONS${crlf}Max-Forwards: 70${crlf}Content-Length: 0${crlf}${crlf}" \
    >"/dev/udp/$alice/5060" || fail "cannot send go-ahead $1 to SIPp"
}

wait_for "$t/bob.out" '"event":"established"'
wait_for "$t/carol.out" '"event":"established"'
wait_for "$t/csX.err" "sip:bob@b.example joined"
wait_for "$t/csX.err" "sip:carol@b.example joined"
carol=$(pid_of carol)
kill -STOP "$carol"
go_ahead 1
wait_for "$t/csX.err" "sip:alice@a.example modifies the session: audio added"
wait_for "$t/csX.err" "sip:alice@a.example cancelled its re-INVITE"
wait_for "$t/csX.err" "sip:bob@b.example takes the audio"
expect_contains "$t/csX.err" "re-offering sip:carol@b.example its streams plus audio"
kill -CONT "$carol"
wait_for "$t/csX.err" "sip:carol@b.example takes the audio"
wait_for "$t/csX.err" "the cancelled modification is undone"
expect_contains "$t/csX.err" "sip:bob@b.example is back to chat only"
expect_contains "$t/csX.err" "sip:carol@b.example is back to chat only"
expect_contains "$t/csX.err" "nobody has audio any more"
for who in bob carol; do
  wait_for "$t/$who.out" '"action":"added"'
  wait_for "$t/$who.out" '"action":"removed"'
done
go_ahead 2
wait_exit alice 30 || fail "SIPp's alice did not finish"
read -r ok failed < <(sipp_calls "$t/alice.csv")
expect_eq "$ok/$failed" "1/0" "alice's (SIPp's) successful/failed calls"

# csX's final answers to alice's re-INVITEs, by CSeq: 487 to the cancelled one (2), 200 to
# the next (3), which changed nothing in csX's eyes.
answers=$(python3 - "$t/csX.trace" <<'PY'
import json, re, sys
out = []
for line in open(sys.argv[1]):
    e = json.loads(line)
    m = e["message"]
    head = m.split("\r\n\r\n")[0]
    if e["dir"] != "tx" or not m.startswith("SIP/2.0 ") or "sip:alice@a.example" not in head:
        continue
    status = int(m.split()[1])
    c = re.search(r"(?im)^CSeq:\s*(\d+)\s+INVITE\s*$", head)
    if c and status >= 200 and int(c.group(1)) > 1:
        out.append(f"{c.group(1)}:{status}")
print(" ".join(sorted(set(out))))
PY
)
expect_eq "$answers" "2:487 3:200" "csX's answers to alice's re-INVITEs"
expect_contains "$t/csX.err" "sip:alice@a.example modifies the session: no change"

# csX's last offer in bob's and in carol's dialog: audio at port 0.
for who in bob carol; do
  last=$(python3 - "$t/csX.trace" "sip:$who@b.example" <<'PY'
import json, re, sys
last = ""
for line in open(sys.argv[1]):
    e = json.loads(line)
    m = e["message"]
    head = m.split("\r\n\r\n")[0]
    if e["dir"] == "tx" and m.startswith("INVITE ") and re.search(
            r"(?im)^(To|t):[^\r\n]*<" + re.escape(sys.argv[2]) + ">", head):
        a = re.search(r"(?m)^m=audio (\d+)", m)
        last = a.group(1) if a else "none"
print(last)
PY
  )
  expect_eq "$last" 0 "the audio port of csX's last offer to $who"
done

# The session goes on between bob and carol.
printf 'just us now\n' >&5
wait_for "$t/carol.out" 'just us now'
exec 5>&-
expect_exit bob 0 "bob's exit status"
expect_exit carol 0 "carol's exit status"
exec 6>&-
stop_group_network ""
echo "OK focus-reinvite-cancel"
