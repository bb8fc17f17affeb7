#!/usr/bin/env bash
# A retransmission that reaches the core after it has let the completed transaction go
# (issue 9) is forwarded again with the same Via branch, so the next hop (bob's libre)
# absorbs it and answers with its cached 200, not 482 Loop Detected. The core keeps one
# lingering transaction (max_lingering = 1), so a second MESSAGE makes the first one leave
# at once instead of after Timer J (32 s).
. "$(dirname "$0")/../lib/flow.sh"
send=$CPM_BIN/cpm-send
claim_prefix
core=${lab_prefix}0.1
bob=${lab_prefix}0.10
alice=${lab_prefix}0.20
cat >"$t/core.toml" <<TOML
[[node]]
name = "core"
role = "core"
domain = "b.example"
listen = ["udp:$core:5060"]
max_lingering = 1
TOML
start_core --config "$t/core.toml" --node core --trace "$t/core.trace"
start bob "$send" --receive --register --listen "udp:$bob:5060" --proxy "udp:$core:5060" \
  --from sip:bob@b.example --trace "$t/bob.trace" --name bob

# message BRANCH CALLID TEXT: a MESSAGE from alice's fixed address; prints the final answer.
message()
{
  printf 'MESSAGE sip:bob@b.example SIP/2.0\nVia: SIP/2.0/UDP @LOCAL@;branch=%s;rport\nMax-Forwards: 70\nFrom: <sip:alice@b.example>;tag=a1\nTo: <sip:bob@b.example>\nCall-ID: %s\nCSeq: 1 MESSAGE\nContent-Type: text/plain\n\n%s\n' \
    "$1" "$2" "$3" | sip "$core:5060" --bind "$alice" --port 5060 --timeout 10
}

out=$(message z9hG4bKlate1 late1@test first)
expect_eq "$(status <<<"$out")" 200 "first MESSAGE"
wait_for "$t/bob.out" first
out=$(message z9hG4bKlate2 late2@test second)
expect_eq "$(status <<<"$out")" 200 "second MESSAGE"
wait_for "$t/bob.out" second
expect_contains "$t/core.err" "the oldest leave before Timer J"

# The first MESSAGE again, as a late retransmission: same branch, same sent-by.
out=$(message z9hG4bKlate1 late1@test first)
expect_eq "$(status <<<"$out")" 200 "late retransmission of the first MESSAGE"

# The core forwarded the first MESSAGE twice, both times with one branch.
branches=$(python3 - "$t/core.trace" <<'PY'
import json, re, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    m = e.get('message', '')
    if e['dir'] == 'tx' and e['first_line'].startswith('MESSAGE ') and 'late1@test' in m:
        print(re.search(r'^Via: [^\r\n]*;branch=([^;\r\n]+)', m, re.M).group(1))
PY
)
expect_eq "$(wc -l <<<"$branches")" 2 "forwarded copies of the first MESSAGE"
expect_eq "$(sort -u <<<"$branches" | wc -l)" 1 "distinct branches of those copies"
grep -q '482' "$t/core.trace" && fail "a 482 in the core's trace"
stop bob || fail "bob did not stop cleanly"
expect_eq "$(grep -c '^first$' "$t/bob.out")" 1 "times bob printed the first message"
stop_core
echo OK
