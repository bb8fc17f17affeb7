#!/usr/bin/env bash
# A peer that takes only text/plain (as baresip), played by a SIPp UAS
# (tests/lib/sipp/message-plain-uas.xml): it answers a message/cpim MESSAGE 415 with
# "Accept: text/plain", and cpm-send sends the text again as text/plain (RFC 3261 §8.1.3.5:
# the same Call-ID, CSeq 2, checked by the scenario and in the trace), exits 0 and says
# in --json that the message went as text/plain without notifications; with --wait it does
# not wait for a notification that cannot come. --plain sends text/plain from the start
# (not with --notify). With --lines, once the peer has asked for text/plain, the next lines
# go as text/plain at once. A 415 whose Accept does not take text/plain still fails (exit 1).
. "$(dirname "$0")/../lib/flow.sh"
need sipp python3
claim_prefix
peer=${lab_prefix}0.7 # SIPp, the text/plain-only peer
me=${lab_prefix}0.8   # cpm-send
to="sip:bob@$peer:5060"

# start_peer NAME CALLS ACCEPT: the SIPp UAS for CALLS messages, its 415 saying
# "Accept: ACCEPT".
start_peer()
{
  sipp -sf "$CPM_SOURCE_DIR/tests/lib/sipp/message-plain-uas.xml" -t u1 -i "$peer" -p 5060 \
    -nostdin -m "$2" -key accept "$3" -timeout 30s -trace_msg -message_file "$t/$1.msg" \
    >/dev/null 2>"$t/$1.err" 5>&- 6>&- 7>&- 8>&- 9>&- &
  adopt "$1" $! "$t/$1.err"
  sipp_listening "$peer" 5060
}

# messages TRACE: one line per MESSAGE sent, "Call-ID|CSeq|Content-Type|body" (CRLF in the
# body as "\n").
messages()
{
  python3 - "$1" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["dir"] != "tx" or not e["first_line"].startswith("MESSAGE "):
        continue
    head, _, body = e["message"].partition("\r\n\r\n")
    h = {}
    for l in head.split("\r\n")[1:]:
        n, _, v = l.partition(":")
        h.setdefault(n.strip().lower(), v.strip())
    body = body.replace("\r\n", "\\n")
    print(f'{h.get("call-id")}|{h.get("cseq")}|{h.get("content-type")}|{body}')
PY
}

send() { "$CPM_BIN/cpm-send" --listen "udp:$me:0" "$@"; }

start_peer peer 5 text/plain

# 1. CPIM first, 415, the text again as text/plain; --wait does not wait.
rc=0
send --json --notify delivery --wait --timeout 5 --trace "$t/one.trace" "$to" 'hello plain' \
  >"$t/one.json" 2>"$t/one.err" || rc=$?
expect_eq "$rc" 0 "exit status after the text/plain resend"
expect_json "$t/one.json" .type response .status 200 .plain true .notifications_requested false
expect_contains "$t/one.err" "$to answered 415 Unsupported Media Type (Accept: text/plain): sending the text again as text/plain; no notification can be requested"
expect_contains "$t/one.err" 'no delivery notification can come, not waiting'
mapfile -t sent < <(messages "$t/one.trace")
expect_eq "${#sent[@]}" 2 "MESSAGEs sent"
IFS='|' read -r id1 cseq1 ctype1 _ <<<"${sent[0]}"
IFS='|' read -r id2 cseq2 ctype2 body2 <<<"${sent[1]}"
expect_eq "$ctype1" message/cpim "first Content-Type"
expect_eq "$cseq1" "1 MESSAGE" "first CSeq"
expect_eq "$id2" "$id1" "the resend's Call-ID"
expect_eq "$cseq2" "2 MESSAGE" "the resend's CSeq"
expect_eq "$ctype2" "text/plain;charset=utf-8" "the resend's Content-Type"
expect_eq "$body2" "hello plain" "the resend's body"

# 2. --plain: text/plain from the start, one MESSAGE; not with --notify.
rc=0
send --plain --json --trace "$t/two.trace" "$to" 'from the start' >"$t/two.json" 2>"$t/two.err" ||
  rc=$?
expect_eq "$rc" 0 "--plain exit status"
expect_json "$t/two.json" .type response .status 200 .plain true .notifications_requested false
mapfile -t sent < <(messages "$t/two.trace")
expect_eq "${#sent[@]}" 1 "MESSAGEs sent with --plain"
expect_eq "${sent[0]#*|}" "1 MESSAGE|text/plain;charset=utf-8|from the start" "--plain MESSAGE"
rc=0
send --plain --notify delivery "$to" 'no' 2>"$t/usage.err" || rc=$?
expect_eq "$rc" 2 "--plain --notify exit status"
expect_contains "$t/usage.err" 'not with --notify'

# 3. --lines: the first line is resent as text/plain, the next go as text/plain at once.
rc=0
printf 'line 1\nline 2\nline 3\n' | send --lines --json --trace "$t/three.trace" "$to" \
  >"$t/three.json" 2>"$t/three.err" || rc=$?
expect_eq "$rc" 0 "--lines exit status"
expect_eq "$(grep -c '"plain":true' "$t/three.json")" 3 "--lines responses marked plain"
expect_contains "$t/three.err" 'the next messages go as text/plain'
mapfile -t sent < <(messages "$t/three.trace")
expect_eq "${#sent[@]}" 4 "MESSAGEs sent for 3 lines"
expect_eq "${sent[1]#*|}" "2 MESSAGE|text/plain;charset=utf-8|line 1" "line 1 resent"
expect_eq "${sent[3]#*|}" "1 MESSAGE|text/plain;charset=utf-8|line 3" "line 3 at once"
wait_exit peer 20 || fail "the SIPp peer failed (exit $?): $(tail -5 "$t/peer.err")"

# 4. A 415 whose Accept does not take text/plain is final, as before.
start_peer other 1 text/html
rc=0
send --json --trace "$t/four.trace" "$to" 'not for html' >"$t/four.json" 2>"$t/four.err" || rc=$?
expect_eq "$rc" 1 "exit status after a 415 without text/plain"
expect_json "$t/four.json" .type response .status 415 .plain false
expect_contains "$t/four.err" '415 Unsupported Media Type (Accept: text/html)'
expect_eq "$(messages "$t/four.trace" | wc -l)" 1 "MESSAGEs sent after a 415 without text/plain"
stop other || true # it waits for a resend that never comes
echo OK
