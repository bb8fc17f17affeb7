#!/bin/bash
# Opus (RFC 7587) between two cpm-invite peers on loopback, both with --codec opus: alice
# says a 440 Hz tone and adds audio half a second after the session is up; bob answers and
# records what he hears. Checked: alice's re-INVITE offers Opus first at the dynamic payload
# type 111 (m=audio ... RTP/AVP 111 0 8, a=rtpmap:111 opus/48000/2 and the fmtp of RFC
# 7587 §7), bob's answer takes it at the same number (RTP/AVP 111, the rtpmap, his fmtp);
# bob's recording holds alice's 440 Hz tone and not 1,000 Hz, alice's (bob says nothing)
# neither; both report the added stream and the chat goes on.
. "$(dirname "$0")/../lib/flow.sh"
. "$(dirname "$0")/../lib/audio.sh"
need python3

make_tone "$t/a440.wav" 440 2

start bob cpm-invite --answer --json --listen udp:127.0.0.1:0 --from sip:bob@127.0.0.1 \
  --no-stdin --codec opus --audio-out "$t/bob.wav" --trace "$t/bob.trace"
port=${ready[bob]#udp:127.0.0.1:}
port=${port%% *}

mkfifo "$t/alice.in"
cpm-invite --json --from sip:alice@127.0.0.1 --listen udp:127.0.0.1:0 --trace "$t/alice.trace" \
  --codec opus --audio-in "$t/a440.wav" --audio-out "$t/alice.wav" --add-audio-after 0.5 \
  --duration 4 "sip:bob@127.0.0.1:$port" <"$t/alice.in" >"$t/alice.out" 2>"$t/alice.err" &
adopt alice $! "$t/alice.err"
exec 4>"$t/alice.in"

wait_for "$t/alice.out" '"action":"added"'
wait_for "$t/bob.out" '"action":"added"'
printf 'still chatting\n' >&4
wait_for "$t/bob.out" 'still chatting'

expect_exit alice 0 "alice's exit status"
expect_exit bob 0 "bob's exit status"
exec 4>&-
expect_json "$t/alice.out" .event media .action added .media audio
expect_json "$t/bob.out" .event media .action added .media audio

# The offer and the answer, from bob's trace (he receives the one and sends the other).
python3 - "$t/bob.trace" <<'PY' || fail "the re-INVITE's offer or its answer is not Opus at 111"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
def in_dialog(e):
    to = next(l for l in e["message"].split("\r\n") if l.lower().startswith(("to:", "t:")))
    return ";tag=" in to
offer = [e for e in ev if e["dir"] == "rx" and e["first_line"].startswith("INVITE ") and in_dialog(e)]
assert offer, "no re-INVITE"
body = offer[0]["message"]
assert "RTP/AVP 111 0 8\r\n" in body, body
assert "a=rtpmap:111 opus/48000/2\r\n" in body, body
assert "a=fmtp:111 maxplaybackrate=8000;sprop-maxcapturerate=8000\r\n" in body, body
cseq = next(l for l in body.split("\r\n") if l.lower().startswith("cseq:")).split()[1]
ok = [e for e in ev if e["dir"] == "tx" and e["first_line"].startswith("SIP/2.0 200") and
      any(l.lower().startswith("cseq:") and l.split()[1] == cseq and "INVITE" in l
          for l in e["message"].split("\r\n"))]
assert ok, "no 200 to the re-INVITE"
answer = ok[0]["message"]
assert "RTP/AVP 111\r\n" in answer, answer
assert "a=rtpmap:111 opus/48000/2\r\n" in answer, answer
assert "a=fmtp:111 maxplaybackrate=8000;sprop-maxcapturerate=8000\r\n" in answer, answer
PY

expect_tone "$t/bob.wav" 440
expect_no_tone "$t/bob.wav" 1000
expect_silence "$t/alice.wav"
echo OK invite-audio-opus
