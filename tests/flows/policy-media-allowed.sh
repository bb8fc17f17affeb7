#!/bin/bash
# A re-INVITE adding audio that every policy allows (alice and bob may use audio; the lab's
# users have no media lists) passes csA and csB and reaches bob, whose answer comes back
# 200; the next re-INVITE (audio at port 0) and the BYE too. The participating functions
# know whose side they are on from their Record-Route: csA's carries alice and orig, csB's
# bob and term, and both come back on the re-INVITE's Route (tests/lib/reinvite.sh).
. "$(dirname "$0")/../lib/flow.sh"
. "$CPM_SOURCE_DIR/tests/lib/reinvite.sh"
need sipp
need python3

lab_config "$examples/lab-icsi.toml"
# alice's node allows both media explicitly, bob's user lists them.
sed -i 's/^password = "bob-secret"$/&\nmedia = ["message", "audio"]/' "$lab"
grep -F 'media = ["message", "audio"]' "$lab" >/dev/null || fail "cannot edit $lab"
reinvite_lab

expect_eq "$(answer_to_alice 2)" 200 "the answer to the re-INVITE adding audio"
expect_eq "$(answer_to_alice 3)" 200 "the answer to the next re-INVITE"
expect_eq "$(audio_invites "$t/bob.trace" rx)" 2 "re-INVITEs with audio that reached bob"
expect_eq "$(sent "$t/csA.trace" 'SIP/2.0 488')" 0 "csA's 488s"
expect_eq "$(sent "$t/csB.trace" 'SIP/2.0 488')" 0 "csB's 488s"
# The Record-Route parameters, and the re-INVITE's Route carrying them back.
python3 - "$t" "$lab_prefix" <<'PY' || fail "the Record-Route or Route parameters are wrong"
import json, re, sys
t, prefix = sys.argv[1:]
def msgs(node, d, start):
    return [e["message"] for e in map(json.loads, open(f"{t}/{node}.trace"))
            if e["dir"] == d and e["message"].startswith(start)]
p = re.escape(prefix)
rr_a = rf"<sip:{p}1\.2:5060(;transport=\w+)?;lr;cpm-served=sip:alice%40a\.example;cpm-case=orig;cpm-sig=[0-9a-f]{{10}}>"
rr_b = rf"<sip:{p}2\.2:5060(;transport=\w+)?;lr;cpm-served=sip:bob%40b\.example;cpm-case=term;cpm-sig=[0-9a-f]{{10}}>"
invite = [m for m in msgs("bob", "rx", "INVITE ") if "CSeq: 1 INVITE" in m][0]
rr = re.findall(r"(?im)^Record-Route:\s*(.*?)\s*$", invite)
assert re.search(rr_a, ",".join(rr)) and re.search(rr_b, ",".join(rr)), rr
reinvite = [m for m in msgs("csA", "rx", "INVITE ") if re.search(r"(?m)^CSeq: 2 INVITE", m)][0]
assert "cpm-served=sip:alice%40a.example;cpm-case=orig" in reinvite, reinvite
reinvite = [m for m in msgs("csB", "rx", "INVITE ") if re.search(r"(?m)^CSeq: 2 INVITE", m)][0]
assert "cpm-served=sip:bob%40b.example;cpm-case=term" in reinvite, reinvite
PY
stop_network
echo OK policy-media-allowed
