#!/bin/bash
# Interop: baresip (Debian baresip-core) as bob in the pager lab of Figures 5 and 6, once
# per example lab config (cores that trigger on the CPM ICSI, and on the served user).
# baresip registers bob@b.example at coreB; alice's cpm-send reaches it through coreA, csA,
# coreB and csB. baresip takes only text/plain: it answers the CPIM MESSAGE 415 with
# `Accept: text/plain`, cpm-send resends the text as text/plain, and baresip prints it.
# baresip's reply (`/message` to its current contact, text/plain without the CPM ICSI)
# reaches alice's cpm-send --receive through coreB and coreA.
# baresip runs headless: its own config directory (-f) under $t, no audio or video modules,
# the stdio UI reading commands from a fifo, its stdout and stderr in one log.
# Usage: baresip.sh [CONFIG...]   (default: examples/lab-icsi.toml examples/lab-user.toml)
. "$(dirname "$0")/../lib/flow.sh"
need baresip python3

# baresip_config DIR BOB_IP CORE_IP: a baresip config directory for bob@b.example.
baresip_config()
{
  mkdir -p "$1" || fail "mkdir $1"
  # Listen on bob's address (UDP and TCP), with only the modules messages need: stdio
  # (commands on stdin), account (the accounts file), menu (the commands, and the
  # MESSAGE handler: without it baresip answers 501), contact (the peer of /message).
  cat >"$1/config" <<EOF
poll_method epoll
sip_listen $2:5060
module_path /usr/lib/baresip/modules
module stdio.so
module_app account.so
module_app menu.so
module_app contact.so
EOF
  # bob registers through coreB; outbound is the Route of every request (no DNS lookup).
  printf '<sip:bob@b.example>;regint=600;outbound="sip:%s:5060"\n' "$3" >"$1/accounts"
  # The first contact is the current one, the target of /message.
  printf '"Alice" <sip:alice@a.example>\n' >"$1/contacts"
}

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

configs=("$@")
((${#configs[@]})) || configs=("$examples/lab-icsi.toml" "$examples/lab-user.toml")

for src in "${configs[@]}"; do
  name=$(basename "$src" .toml)
  d="$t/$name"
  mkdir -p "$d"
  lab_config "$src" "$name.toml"
  start_network "$name." "$d"
  baresip_config "$d/baresip" "${lab_prefix}2.10" "${lab_prefix}2.1"

  # baresip's stdin is a fifo the test holds open read-write on fd 7 (opening never
  # blocks, and baresip sees no end of input until it quits).
  mkfifo "$d/baresip.in" || fail "mkfifo"
  exec 7<>"$d/baresip.in"
  baresip -f "$d/baresip" <"$d/baresip.in" >"$d/baresip.log" 2>&1 5>&- 6>&- 7>&- 8>&- 9>&- &
  adopt "$name.baresip" $! "$d/baresip.log"
  wait_for "$d/baresip.log" 'All 1 useragent registered successfully' 20

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
  # baresip prints an incoming MESSAGE as `FROM: "TEXT"`.
  wait_for "$d/baresip.log" "sip:alice@a.example: \"$text\"" 10

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
  wait_for "$d/baresip.log" "sip:alice@a.example: \"$text2\"" 10

  # bob -> alice: baresip's /message to its current contact, alice@a.example.
  start "$name.alice" cpm-send --config "$lab" --node alice --receive --count 1 \
    --trace "$d/alice-rx.trace"
  reply="Hi alice, baresip here ($name)"
  printf '/message %s\n' "$reply" >&7
  expect_exit "$name.alice" 0 "$name: alice's cpm-send --receive exit status"
  grep -qxF "$reply" "$t/$name.alice.out" ||
    fail "$name: alice printed: $(cat "$t/$name.alice.out")"

  # baresip quits on 'q' (unregistering first) and exits 0.
  printf 'q' >&7
  expect_exit "$name.baresip" 0 "$name: baresip's exit status"
  exec 7>&-
  stop_network "$name."
  echo "OK baresip ($name)"
done
