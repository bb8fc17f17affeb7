#!/bin/bash
# cpm-invite's stdin commands on a direct 1-1 session: /audio adds audio (both report
# "added"), /hold offers a=sendonly and /resume a=sendrecv (both "modified"), /codec pcma
# offers PCMA first and bob answers PCMA, /bogus is refused on stderr with nothing sent,
# //text sends the chat line /text, /audio off sends port 0 (both "removed") and the chat
# goes on; SIGUSR1 adds audio again and SIGUSR2 removes it.
. "$(dirname "$0")/../lib/flow.sh"
need python3

start bob cpm-invite --answer --json --listen udp:127.0.0.1:0 --from sip:bob@127.0.0.1 \
  --no-stdin --trace "$t/bob.trace"
port=${ready[bob]#udp:127.0.0.1:}
port=${port%% *}

mkfifo "$t/alice.in"
cpm-invite --json --from sip:alice@127.0.0.1 --listen udp:127.0.0.1:0 --trace "$t/alice.trace" \
  "sip:bob@127.0.0.1:$port" <"$t/alice.in" >"$t/alice.out" 2>"$t/alice.err" &
adopt alice $! "$t/alice.err"
exec 4>"$t/alice.in"
wait_for "$t/alice.out" '"event":"answered"'

# await FILE ACTION N: wait until FILE holds N media events of ACTION.
await() { wait_count "$1" "\"action\":\"$2\"" "$3"; }

printf '/audio\n' >&4
await "$t/alice.out" added 1
await "$t/bob.out" added 1
printf '/hold\n' >&4
await "$t/alice.out" modified 1
await "$t/bob.out" modified 1
printf '/resume\n' >&4
await "$t/alice.out" modified 2
await "$t/bob.out" modified 2
printf '/codec pcma\n' >&4
await "$t/alice.out" modified 3
await "$t/bob.out" modified 3
printf '/bogus\n//text that begins with a slash\n' >&4
wait_for "$t/bob.out" '"text":"/text that begins with a slash"'
expect_contains "$t/alice.err" "unknown command '/bogus'"
printf '/audio off\n' >&4
await "$t/alice.out" removed 1
await "$t/bob.out" removed 1
printf 'after the audio\n' >&4
wait_for "$t/bob.out" 'after the audio'

kill -USR1 "$(pid_of alice)"
await "$t/alice.out" added 2
await "$t/bob.out" added 2
kill -USR2 "$(pid_of alice)"
await "$t/alice.out" removed 2
await "$t/bob.out" removed 2
exec 4>&-
expect_exit alice 0 "alice's exit status"
expect_exit bob 0 "bob's exit status"
if grep -F '/bogus' "$t/bob.out" >&2; then
  fail "an unknown command was sent as chat"
fi

# The offers, in order: audio added (sendrecv), sendonly, sendrecv, PCMA first, port 0.
python3 - "$t/bob.trace" <<'PY' || fail "the re-INVITEs did not carry the expected audio lines"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
def to_tagged(m):
    to = next(l for l in m.split("\r\n") if l.lower().startswith(("to:", "t:")))
    return ";tag=" in to
offers = [e["message"] for e in ev if e["dir"] == "rx" and e["first_line"].startswith("INVITE ")
          and to_tagged(e["message"])]
audio = [next(l for l in o.split("\r\n") if l.startswith("m=audio ")) for o in offers]
assert len(audio) >= 7, audio
assert audio[0].endswith("RTP/AVP 0 8 111") and not audio[0].startswith("m=audio 0 "), audio
assert "a=sendonly" in offers[1], offers[1]
assert "a=sendrecv" in offers[2] or "a=sendonly" not in offers[2], offers[2]
assert audio[3].endswith("RTP/AVP 8 0 111"), audio
assert audio[4].startswith("m=audio 0 "), audio
assert not audio[5].startswith("m=audio 0 "), audio
assert audio[6].startswith("m=audio 0 "), audio
# bob answered the PCMA offer with PCMA.
answers = [e["message"] for e in ev if e["dir"] == "tx" and e["first_line"].startswith("SIP/2.0 200")
           and "m=audio " in e["message"]]
assert any(next(l for l in a.split("\r\n") if l.startswith("m=audio ")).endswith(" 8")
           for a in answers), answers
PY
echo OK invite-audio-commands
