#!/usr/bin/env bash
# Glare (RFC 3261 §14): `cpm-invite --answer --add-audio-after 0` re-INVITEs its caller, a
# SIPp UAC, to add audio as soon as the session is up; SIPp holds that re-INVITE and sends
# its own on the same dialog. cpm-invite answers it 491 Request Pending (§14.2: its own is
# pending), says so (a media "glare" event), and when SIPp answers its re-INVITE 491 too,
# tries again after 0 to 2 s (§14.1: it did not send the first INVITE, so it does not own the
# Call-ID; a media "retry" event with after_ms); the second try gets 200 and the audio is
# added. The scenario checks each answer; the test checks the events and the delay in the
# trace.
. "$(dirname "$0")/../lib/flow.sh"
need sipp
need python3

start bob cpm-invite --answer --count 1 --no-stdin --json --add-audio-after 0 \
  --from sip:bob@b.example --listen udp:127.0.0.1:0 --trace "$t/bob.trace"
bob_addr=${ready[bob]#udp:}

uac_port=$(free_port)
rc=0
sipp -sf "$CPM_SOURCE_DIR/tests/lib/sipp/glare-uac.xml" -t u1 -i 127.0.0.1 -p "$uac_port" \
  -nostdin -m 1 -timeout 30s -trace_stat -stf "$t/uac.csv" -trace_msg -message_file "$t/uac.msg" \
  "$bob_addr" >/dev/null 2>"$t/uac.err" || rc=$?
read -r ok failed < <(sipp_calls "$t/uac.csv")
expect_eq "$ok/$failed/$rc" "1/0/0" "SIPp's successful/failed calls/exit status"
expect_exit bob 0 "cpm-invite --answer exit status"

# The events in order: bob refused SIPp's re-INVITE (glare), was refused in turn (retry, with
# a delay of 0 to 2 s in steps of 10 ms), then the audio was added.
python3 - "$t/bob.out" <<'PY' || fail "media events: $(grep '"media"' "$t/bob.out")"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
media = [e for e in ev if e.get("event") == "media"]
acts = [e["action"] for e in media]
g = [e for e in media if e["action"] == "glare"]
r = [e for e in media if e["action"] == "retry"]
a = [e for e in media if e["action"] == "added" and e["media"] == "audio"]
assert len(g) == 1 and g[0]["status"] == 491 and g[0]["media"] == "audio", g
assert len(r) == 1 and r[0]["status"] == 491 and r[0]["attempt"] == 2, r
assert 0 <= r[0]["after_ms"] <= 2000 and r[0]["after_ms"] % 10 == 0, r
assert len(a) == 1 and media.index(a[0]) > media.index(r[0]), acts
assert not [e for e in media if e["action"] == "refused"], acts
PY

# In bob's trace: two re-INVITEs with audio; the second left after_ms (± 300 ms) after the
# 491 to the first arrived.
python3 - "$t/bob.trace" "$(grep '"retry"' "$t/bob.out")" <<'PY' || fail "the retry's delay"
import json, re, sys
after = json.loads(sys.argv[2])["after_ms"] / 1000
t491 = None
invites = []
for line in open(sys.argv[1]):
    e = json.loads(line)
    m = e["message"]
    if e["dir"] == "tx" and m.startswith("INVITE ") and re.search(r"(?m)^m=audio [1-9]", m):
        invites.append(e["time"])
    if e["dir"] == "rx" and m.startswith("SIP/2.0 491") and t491 is None:
        t491 = e["time"]
assert len(invites) == 2 and t491 is not None, (invites, t491)
gap = (invites[1] - t491) / 1e6  # trace times are in microseconds
assert abs(gap - after) <= 0.3, (gap, after)
PY
# SIPp's re-INVITE was answered 491, not passed to the offer/answer.
expect_eq "$(sent "$t/bob.trace" 'SIP/2.0 491 Request Pending')" 1 "bob's 491"
echo OK
