#!/usr/bin/env bash
# RFC 4475 torture messages against the running core, each checked against the table kept
# in tests/data/rfc4475/expected.tsv (its "core" column; HACKING.md "RFC 4475" says why):
# a status the core answers first, "forward" (sent on, no answer here), or "drop" (neither
# answered nor sent on). Never a 2xx for an invalid message, the core never dies, and a good
# request after them is served.
. "$(dirname "$0")/../lib/flow.sh"
dir=$CPM_DATA/rfc4475
[[ -f $dir/manifest.tsv && -f $dir/expected.tsv ]] || fail "no $dir/manifest.tsv or expected.tsv"
# Responses to Vias without rport go to the Via port (5060 when none) of the source address:
# bind a loopback address of our own there (in a prefix no other test uses).
claim_prefix
me=${lab_prefix}0.1
start_core --domain b.example --listen "udp:127.0.0.1:0" --trace "$t/core.trace"
declare -A want=()
while IFS=$'\t' read -r file _ core; do
  [[ $file == file ]] || want[$file]=$core
done <"$dir/expected.tsv"
# Whether the core sent a request with this Call-ID on (its trace's tx lines).
sent_on() {
  python3 - "$t/core.trace" "$1" <<'PY'
import json, sys
found = any(e.get("dir") == "tx" and e.get("call_id") == sys.argv[2]
            and not e.get("first_line", "").startswith("SIP/2.0")
            for e in map(json.loads, open(sys.argv[1])))
sys.exit(0 if found else 1)
PY
}
n=0
while IFS=$'\t' read -r file _ class title _; do
  [[ $file == file ]] && continue
  [[ -n ${want[$file]:-} ]] || fail "no expectation for $file in expected.tsv"
  # An answer is awaited as long as it takes (the client returns on it); only the
  # messages that must get none are given a short window, which can only fail open.
  window=10
  [[ ${want[$file]} == forward || ${want[$file]} == drop ]] && window=0.3
  # The answer goes to the top Via's port (5060 when it names none: only quotbal names one).
  port=$(tr -d '\r' <"$dir/$file" | grep -a -i -m1 -E '^(via|v)[[:space:]]*:' | grep -o -E ':[0-9]+;' | tr -d ':;') || true
  got=$(sip "$CORE_UDP" --raw --timeout "$window" --bind "$me" --port "${port:-5060}" <"$dir/$file" | awk "NR == 1 {print \$2}") || true
  call_id=$(tr -d '\r' <"$dir/$file" | awk -F': *' 'tolower($1) == "call-id" || $1 == "i" {print $2; exit}')
  if [[ -z $got ]]; then
    got=drop
    # The core traces what it sends as it sends it, within the handler of what it received.
    [[ -n $call_id ]] && sent_on "$call_id" && got=forward
  fi
  [[ $got == "${want[$file]}" ]] || fail "$file ($class, $title): expected ${want[$file]}, got $got"
  [[ $class == invalid && ($got == 2* || $got == forward) ]] && fail "$file: invalid message accepted ($got)"
  alive core || fail "core died on $file"
  n=$((n + 1))
done <"$dir/manifest.tsv"
(( n == 50 )) || fail "ran $n messages, want 50"
out=$(printf 'MESSAGE sip:nobody@b.example SIP/2.0\nVia: SIP/2.0/UDP @LOCAL@;branch=@BRANCH@;rport\nMax-Forwards: 70\nFrom: <sip:alice@a.example>;tag=a1\nTo: <sip:nobody@b.example>\nCall-ID: @CALLID@\nCSeq: 1 MESSAGE\n\n' | sip "$CORE_UDP")
expect_eq "$(status <<<"$out")" 404 "good request after the torture run"
stop_core
echo OK
