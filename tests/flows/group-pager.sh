#!/bin/bash
# Pager mode CPM Message to a pre-defined group (FLOWS.md "Pager mode CPM Message to a
# pre-defined group", cpm-groupd(1) GROUP MESSAGES): alice's MESSAGE to sip:friends@x.example
# reaches csX through coreA, csA, coreA and coreX and is answered 202; csX sends one MESSAGE
# per other member (bob, carol) along Figure 2's path; each member's delivery notification
# goes straight back to alice. Once per example lab config. Then, in the first lab: a sender
# who is no member and a barred one are refused (403) and nothing reaches network B; and with
# carol no longer registered, bob still gets alice's message and alice hears "delivered" from
# bob and "failed" from carol (exit 1), after csX tried carol twice.
# Usage: group-pager.sh [CONFIG...]   (default: examples/lab-icsi.toml examples/lab-user.toml)
. "$(dirname "$0")/../lib/flow.sh"
need python3

configs=("$@")
((${#configs[@]})) || configs=("$examples/lab-icsi.toml" "$examples/lab-user.toml")

# count_json FILE KEY VALUE [KEY VALUE...]: how many JSON lines of FILE have every top-level
# KEY equal to VALUE.
count_json()
{
  python3 - "$@" <<'PY'
import json, sys
path, pairs = sys.argv[1], sys.argv[2:]
n = 0
for line in open(path, encoding="utf-8", errors="replace"):
    try:
        d = json.loads(line)
    except ValueError:
        continue
    if all(str(d.get(pairs[i])) == pairs[i + 1] for i in range(0, len(pairs), 2)):
        n += 1
print(n)
PY
}

# count_trace TEXT TRACE...: how many events of the traces carry TEXT in their message.
count_trace()
{
  python3 - "$@" <<'PY'
import json, sys
text, n = sys.argv[1], 0
for path in sys.argv[2:]:
    for line in open(path, encoding="utf-8", errors="replace"):
        if text in json.loads(line)["message"]:
            n += 1
print(n)
PY
}

# start_member NAME WHO DIR: WHO registers, receives one message, notifies and exits.
start_member()
{
  start "$1.$2" cpm-send --config "$lab" --node "$2" --receive --count 1 --json \
    --trace "$3/$2.trace"
}

# member_got NAME WHO TEXT: WHO exited 0 after exactly one message, TEXT from alice.
member_got()
{
  expect_exit "$1.$2" 0 "$1: $2's exit status"
  expect_eq "$(count_json "$t/$1.$2.out" type message)" 1 "$1: messages $2 printed"
  expect_json "$t/$1.$2.out" .type message .from sip:alice@a.example .text "$3"
}

first=1
for src in "${configs[@]}"; do
  name=$(basename "$src" .toml)
  d="$t/$name"
  mkdir -p "$d/more"
  lab_config "$src" "$name.toml"
  # carol's copy, once she is gone, is tried twice, 300 ms apart (cpm.toml(5) outbox_attempts).
  sed -i '/^outbox_db = /a outbox_attempts = 2\noutbox_backoff_ms = 300' "$lab"
  # Two more senders of a.example: dave (no member of the group), mallory (barred).
  lab_add_client dave sip:dave@a.example 1.11 coreA dave-secret
  lab_add_client mallory sip:mallory@a.example 1.12 coreA
  start_group_network "$name." "$d"
  start_member "$name" bob "$d"
  start_member "$name" carol "$d"

  rc=0
  cpm-send --config "$lab" --node alice --register --notify delivery --wait --recipients 2 \
    --timeout 10 --trace "$d/alice.trace" --json sip:friends@x.example 'Hello group' \
    >"$d/alice.json" 2>"$d/alice.err" || rc=$?
  if ((rc != 0)); then
    cat "$d/alice.err" >&2
    fail "$name: alice's cpm-send exited with $rc, expected 0 (delivered to both)"
  fi
  member_got "$name" bob 'Hello group'
  member_got "$name" carol 'Hello group'

  mid=$(trace_message_id "$d/alice.trace")
  [[ -n $mid ]] || fail "$name: no imdn.Message-ID in alice's MESSAGE (trace $d/alice.trace)"
  expect_json "$d/alice.json" .type response .status 202
  for who in bob carol; do
    expect_json "$d/alice.json" .type notification .from "sip:$who@b.example" \
      .message_id "$mid" .notification delivery .status delivered
  done
  expect_eq "$(count_json "$d/alice.json" type notification)" 2 "$name: alice's notifications"
  expect_contains "$t/$name.csX.err" \
    'MESSAGE to sip:friends@x.example from sip:alice@a.example: 2 members'

  # The hops FLOWS.md draws, in causal order.
  expect_ladder "$flows/ladders/group-pager.ladder" "$d"/*.trace

  if ((first)); then
    # carol is gone (unregistered on exit); bob listens again.
    start_member "$name" bob "$d/more"
    rc=0
    cpm-send --config "$lab" --node dave --register --json sip:friends@x.example 'Not for you' \
      >"$d/dave.json" 2>"$d/dave.err" || rc=$?
    expect_eq "$rc" 1 "$name: dave's (no member) exit status"
    expect_json "$d/dave.json" .type response .status 403
    expect_contains "$t/$name.csX.err" 'sip:dave@a.example is not a member of sip:friends@x.example'
    rc=0
    cpm-send --config "$lab" --node mallory --register --json sip:friends@x.example 'Barred' \
      >"$d/mallory.json" 2>"$d/mallory.err" || rc=$?
    expect_eq "$rc" 1 "$name: mallory's (barred) exit status"
    expect_json "$d/mallory.json" .type response .status 403
    # Nothing of theirs went past the group (bob's --count 1 would also have ended on it).
    expect_eq "$(count_trace 'Not for you' "$d/coreB.trace" "$d/csB.trace")" 0 \
      "$name: network B events carrying dave's text"
    expect_eq "$(count_trace 'Barred' "$d/coreB.trace" "$d/csB.trace" "$d/csX.trace")" 0 \
      "$name: events carrying mallory's text past csA"

    rc=0
    cpm-send --config "$lab" --node alice --register --notify delivery --wait --recipients 2 \
      --timeout 10 --json sip:friends@x.example 'Carol is away' \
      >"$d/alice2.json" 2>"$d/alice2.err" || rc=$?
    expect_eq "$rc" 1 "$name: alice's exit status with carol unregistered"
    member_got "$name" bob 'Carol is away'
    expect_json "$d/alice2.json" .type response .status 202
    expect_json "$d/alice2.json" .type notification .from sip:bob@b.example .status delivered
    expect_json "$d/alice2.json" .type notification .from sip:carol@b.example .status failed
    expect_contains "$d/alice2.err" 'delivery notification from sip:carol@b.example: failed'
    expect_contains "$t/$name.csX.err" 'member sip:carol@b.example not reached: 480'
  fi

  stop_group_network "$name."
  first=0
  echo "OK group-pager ($name)"
done
