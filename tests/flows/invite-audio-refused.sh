#!/bin/bash
# Audio refused in a 1-1 session: bob takes the chat only (--accept-media message), so he
# answers alice's re-INVITE with the audio line at port 0. alice reports the refusal
# (--json media "refused", status 200), bob too, neither reports audio added, no RTP flows
# (alice's recording stays empty), and the chat goes on both ways afterwards.
. "$(dirname "$0")/../lib/flow.sh"
. "$(dirname "$0")/../lib/audio.sh"
need python3

start bob cpm-invite --answer --json --listen udp:127.0.0.1:0 --from sip:bob@127.0.0.1 \
  --no-stdin --accept-media message --send 'hi' --trace "$t/bob.trace"
port=${ready[bob]#udp:127.0.0.1:}
port=${port%% *}

mkfifo "$t/alice.in"
cpm-invite --json --from sip:alice@127.0.0.1 --listen udp:127.0.0.1:0 --trace "$t/alice.trace" \
  --audio-out "$t/alice.wav" "sip:bob@127.0.0.1:$port" <"$t/alice.in" >"$t/alice.out" \
  2>"$t/alice.err" &
adopt alice $! "$t/alice.err"
exec 4>"$t/alice.in"
wait_for "$t/alice.out" '"event":"answered"'
printf '/audio\n' >&4
wait_for "$t/alice.out" '"action":"refused"'
wait_for "$t/bob.out" '"action":"refused"'
printf 'chat goes on\n' >&4
wait_for "$t/bob.out" 'chat goes on'
exec 4>&-
expect_exit alice 0 "alice's exit status"
expect_exit bob 0 "bob's exit status"

expect_json "$t/alice.out" .event media .action refused .media audio .status 200
expect_json "$t/bob.out" .event media .action refused .media audio
if grep -F '"action":"added"' "$t/alice.out" "$t/bob.out" >&2; then
  fail "a refused stream was reported added"
fi
expect_json "$t/alice.out" .event message .text hi
# bob's 200 to the re-INVITE keeps the audio line, at port 0.
python3 - "$t/bob.trace" <<'PY' || fail "bob's answer did not refuse audio with port 0"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
ans = [e["message"] for e in ev if e["dir"] == "tx" and e["first_line"].startswith("SIP/2.0 200")
       and "m=audio" in e["message"]]
assert ans and all("m=audio 0 " in a for a in ans), ans
PY
# No RTP reached alice: her recording holds no frame (a header only).
expect_no_audio "$t/alice.wav"
echo OK invite-audio-refused
