#!/bin/bash
# Audio added to a 1-1 session by re-INVITE, directly on loopback: alice says a 440 Hz tone
# (--audio-in) and adds audio half a second after the session is up (--add-audio-after);
# bob answers the re-INVITE with his RTP port and records what he hears (--audio-out). Both
# report the added stream (--json), bob's recording holds alice's 440 Hz tone and not
# 1,000 Hz, alice's recording (bob says nothing: silence) holds neither; the re-INVITE
# carries m=audio with PCMU and PCMA and is ACKed; the chat goes on after it.
. "$(dirname "$0")/../lib/flow.sh"
. "$(dirname "$0")/../lib/audio.sh"
need python3

make_tone "$t/a440.wav" 440 2

start bob cpm-invite --answer --json --listen udp:127.0.0.1:0 --from sip:bob@127.0.0.1 \
  --no-stdin --audio-out "$t/bob.wav" --trace "$t/bob.trace"
port=${ready[bob]#udp:127.0.0.1:}
port=${port%% *}

# alice's session lasts 4 s (--duration); her audio runs from 0.5 s on, her file in a loop.
mkfifo "$t/alice.in"
cpm-invite --json --from sip:alice@127.0.0.1 --listen udp:127.0.0.1:0 --trace "$t/alice.trace" \
  --audio-in "$t/a440.wav" --audio-out "$t/alice.wav" --add-audio-after 0.5 --duration 4 \
  "sip:bob@127.0.0.1:$port" <"$t/alice.in" >"$t/alice.out" 2>"$t/alice.err" &
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
if grep -E 'fd [0-9]+ in use' "$t/bob.err" "$t/alice.err" >&2; then
  fail "a program left libre file descriptors in use at exit"
fi

# The re-INVITE: in the dialog (To with a tag), an audio line added after the message line.
python3 - "$t/bob.trace" <<'PY' || fail "bob did not receive the re-INVITE with audio, or its ACK"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
rx = [e for e in ev if e["dir"] == "rx"]
re_inv = [e for e in rx if e["first_line"].startswith("INVITE ") and ";tag=" in
          next(l for l in e["message"].split("\r\n") if l.lower().startswith(("to:", "t:")))]
assert re_inv, "no re-INVITE"
body = re_inv[0]["message"]
assert "m=message " in body and "m=audio " in body, body
assert body.index("m=message ") < body.index("m=audio "), body
assert "RTP/AVP 0 8" in body and "a=rtpmap:8 PCMA/8000" in body, body
cseq = next(l for l in re_inv[0]["message"].split("\r\n") if l.lower().startswith("cseq:")).split()[1]
acks = [e for e in rx if e["first_line"].startswith("ACK ") and
        any(l.lower().startswith("cseq:") and l.split()[1] == cseq for l in e["message"].split("\r\n"))]
assert acks, "the re-INVITE's 200 was not ACKed"
PY

# What bob heard: alice's tone; what alice heard: silence.
expect_tone "$t/bob.wav" 440
expect_no_tone "$t/bob.wav" 1000
expect_silence "$t/alice.wav"
echo OK invite-audio-direct
