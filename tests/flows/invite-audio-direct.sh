#!/bin/bash
# invite-audio-direct.sh [pcmu|opus]: audio added to a 1-1 session by re-INVITE, directly on
# loopback, in PCMU (the default codec) or with both peers on --codec opus (RFC 7587; ctest's
# invite-audio-opus): alice says a 440 Hz tone (--audio-in) and adds audio half a second
# after the session is up (--add-audio-after); bob answers the re-INVITE with his RTP port
# and records what he hears (--audio-out). Both report the added stream (--json), bob's
# recording holds alice's 440 Hz tone and not 1,000 Hz, alice's recording (bob says nothing:
# silence) holds neither; the re-INVITE, in the dialog, carries m=audio after the message
# line and is ACKed; the chat goes on after it; no program leaves libre descriptors in use.
# The codec in the SDP: in PCMU the offer lists PCMU and PCMA (RTP/AVP 0 8); in Opus it
# offers Opus first at the dynamic payload type 111 (RTP/AVP 111 0 8, a=rtpmap:111
# opus/48000/2 and the fmtp of RFC 7587 §7), and bob's answer takes it at the same number
# (RTP/AVP 111, the rtpmap, his fmtp).
. "$(dirname "$0")/../lib/flow.sh"
. "$(dirname "$0")/../lib/audio.sh"
need python3

codec=${1:-pcmu}
case $codec in
  pcmu) codec_args=() ;;
  opus) codec_args=(--codec opus) ;;
  *) fail "usage: invite-audio-direct.sh [pcmu|opus]" ;;
esac

make_tone "$t/a440.wav" 440 2

start bob cpm-invite --answer --json --listen udp:127.0.0.1:0 --from sip:bob@127.0.0.1 \
  --no-stdin "${codec_args[@]}" --audio-out "$t/bob.wav" --trace "$t/bob.trace"
port=${ready[bob]#udp:127.0.0.1:}
port=${port%% *}

# alice's session lasts 4 s (--duration); her audio runs from 0.5 s on, her file in a loop.
mkfifo "$t/alice.in"
cpm-invite --json --from sip:alice@127.0.0.1 --listen udp:127.0.0.1:0 --trace "$t/alice.trace" \
  "${codec_args[@]}" --audio-in "$t/a440.wav" --audio-out "$t/alice.wav" --add-audio-after 0.5 \
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
if grep -E 'fd [0-9]+ in use' "$t/bob.err" "$t/alice.err" >&2; then
  fail "a program left libre file descriptors in use at exit"
fi

# The re-INVITE (bob receives it): in the dialog (To with a tag), an audio line added after
# the message line, in the codec; its answer (bob sends it) in Opus; its ACK.
python3 - "$t/bob.trace" "$codec" <<'PY' || fail "bob's re-INVITE with audio, its answer or its ACK is not as expected"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
codec = sys.argv[2]
rx = [e for e in ev if e["dir"] == "rx"]
re_inv = [e for e in rx if e["first_line"].startswith("INVITE ") and ";tag=" in
          next(l for l in e["message"].split("\r\n") if l.lower().startswith(("to:", "t:")))]
assert re_inv, "no re-INVITE"
body = re_inv[0]["message"]
assert "m=message " in body and "m=audio " in body, body
assert body.index("m=message ") < body.index("m=audio "), body
cseq = next(l for l in body.split("\r\n") if l.lower().startswith("cseq:")).split()[1]
if codec == "pcmu":
    assert "RTP/AVP 0 8" in body and "a=rtpmap:8 PCMA/8000" in body, body
else:
    assert "RTP/AVP 111 0 8\r\n" in body, body
    assert "a=rtpmap:111 opus/48000/2\r\n" in body, body
    assert "a=fmtp:111 maxplaybackrate=8000;sprop-maxcapturerate=8000\r\n" in body, body
    ok = [e for e in ev if e["dir"] == "tx" and e["first_line"].startswith("SIP/2.0 200") and
          any(l.lower().startswith("cseq:") and l.split()[1] == cseq and "INVITE" in l
              for l in e["message"].split("\r\n"))]
    assert ok, "no 200 to the re-INVITE"
    answer = ok[0]["message"]
    assert "RTP/AVP 111\r\n" in answer, answer
    assert "a=rtpmap:111 opus/48000/2\r\n" in answer, answer
    assert "a=fmtp:111 maxplaybackrate=8000;sprop-maxcapturerate=8000\r\n" in answer, answer
acks = [e for e in rx if e["first_line"].startswith("ACK ") and
        any(l.lower().startswith("cseq:") and l.split()[1] == cseq for l in e["message"].split("\r\n"))]
assert acks, "the re-INVITE's 200 was not ACKed"
PY

# What bob heard: alice's tone; what alice heard: silence.
expect_tone "$t/bob.wav" 440
expect_no_tone "$t/bob.wav" 1000
expect_silence "$t/alice.wav"
echo "OK invite-audio-direct $codec"
