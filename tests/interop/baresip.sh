#!/bin/bash
# Interop: baresip (Debian baresip-core) as bob in the pager lab of Figures 5 and 6, once
# per example lab config (cores that trigger on the CPM ICSI, and on the served user).
# baresip registers bob@b.example at coreB, answering its digest challenge; alice's cpm-send reaches it through coreA, csA,
# coreB and csB. baresip takes only text/plain: it answers the CPIM MESSAGE 415 with
# `Accept: text/plain`, cpm-send resends the text as text/plain, and baresip prints it.
# baresip's reply (`/message` to its current contact, text/plain without the CPM ICSI)
# reaches alice's cpm-send --receive through coreB and coreA.
# baresip runs headless (tests/lib/baresip.sh): its own config directory under $t, no audio
# or video modules, commands on a fifo.
# Usage: baresip.sh [CONFIG...]   (default: examples/lab-icsi.toml examples/lab-user.toml)
. "$(dirname "$0")/../lib/flow.sh"
need baresip python3
# shellcheck source=tests/lib/baresip.sh
. "$(dirname "$0")/../lib/baresip.sh"

# resent_as_plain TRACE: TRACE (alice's) has a 415 whose Accept names text/plain, then a
# MESSAGE sent with Content-Type text/plain.
resent_as_plain()
{
  python3 - "$1" <<'PY'
import json, sys
events = [json.loads(line) for line in open(sys.argv[1])]
def headers(m):  # the header lines, lower case, without blanks
    head = m.replace('\r\n', '\n').split('\n\n')[0]
    return [h.lower().replace(' ', '') for h in head.split('\n')]
i415 = next((i for i, e in enumerate(events)
             if e['dir'] == 'rx' and e['first_line'].startswith('SIP/2.0 415')
             and 'accept:text/plain' in headers(e['message'])), None)
sys.exit(i415 is None or not any(
    e['dir'] == 'tx' and e['first_line'].startswith('MESSAGE ')
    and any(h.startswith('content-type:text/plain') for h in headers(e['message']))
    for e in events[i415:]))
PY
}

# register_statuses TRACE: the status codes of the REGISTER responses TRACE's node sent.
register_statuses()
{
  python3 - "$1" <<'PY'
import json, re, sys
codes = [e["first_line"].split()[1] for e in map(json.loads, open(sys.argv[1]))
         if e["dir"] == "tx" and re.search(r"(?im)^CSeq:\s*\d+\s+REGISTER", e["message"])]
print(" ".join(codes))
PY
}

configs=("$@")
((${#configs[@]})) || configs=("$examples/lab-icsi.toml" "$examples/lab-user.toml")

for src in "${configs[@]}"; do
  name=$(basename "$src" .toml)
  d="$t/$name"
  mkdir -p "$d"
  lab_config "$src" "$name.toml"
  # coreB challenges REGISTER (the examples have no auth key there: add one after its name).
  sed -i '/^name = "coreB"$/a auth = true' "$lab"
  grep -A1 '^name = "coreB"$' "$lab" | quiet_grep -x 'auth = true' || fail "could not set auth"
  start_network "$name." "$d"
  baresip_config "$d/baresip" "${lab_prefix}2.10" sip:bob@b.example \
    "sip:${lab_prefix}2.1:5060" '"Alice" <sip:alice@a.example>' bob-secret
  start_baresip "$name.baresip" "$d/baresip"
  expect_eq "$(register_statuses "$d/coreB.trace")" "401 200" "$name: coreB's REGISTER answers"

  # alice -> bob: CPIM first, 415 from baresip, then the same text as text/plain. Such a
  # message asks for no notification, so --wait ends at its 200 (cpm-send(1)).
  text="Hello baresip, from alice ($name)"
  rc=0
  cpm-send --config "$lab" --node alice --register --notify delivery --wait --timeout 10 \
    --trace "$d/alice.trace" --json sip:bob@b.example "$text" \
    >"$d/alice.json" 2>"$d/alice.err" || rc=$?
  ((rc == 0)) || fail "$name: alice's cpm-send exited $rc: $(cat "$d/alice.err")"
  expect_json "$d/alice.json" .type response .status 200 .plain true \
    .notifications_requested false
  resent_as_plain "$d/alice.trace" ||
    fail "$name: no 415 with Accept: text/plain then a text/plain MESSAGE in $d/alice.trace"
  baresip_got "$d/baresip" sip:alice@a.example "$text"

  # With --plain the first MESSAGE is text/plain already: 200 at once, no 415.
  text2="Plain from the start ($name)"
  rc=0
  cpm-send --config "$lab" --node alice --register --plain --timeout 10 \
    --trace "$d/alice-plain.trace" --json sip:bob@b.example "$text2" \
    >"$d/alice-plain.json" 2>"$d/alice-plain.err" || rc=$?
  ((rc == 0)) || fail "$name: cpm-send --plain exited $rc: $(cat "$d/alice-plain.err")"
  expect_json "$d/alice-plain.json" .status 200 .plain true
  ! grep -q '"first_line":"SIP/2.0 415' "$d/alice-plain.trace" ||
    fail "$name: cpm-send --plain got a 415 (trace $d/alice-plain.trace)"
  baresip_got "$d/baresip" sip:alice@a.example "$text2"

  # bob -> alice: baresip's /message to its current contact, alice@a.example.
  start "$name.alice" cpm-send --config "$lab" --node alice --receive --count 1 \
    --trace "$d/alice-rx.trace"
  reply="Hi alice, baresip here ($name)"
  baresip_command "/message $reply"$'\n'
  expect_exit "$name.alice" 0 "$name: alice's cpm-send --receive exit status"
  grep -qxF "$reply" "$t/$name.alice.out" ||
    fail "$name: alice printed: $(cat "$t/$name.alice.out")"

  stop_baresip "$name.baresip"
  stop_network "$name."
  echo "OK baresip ($name)"
done
