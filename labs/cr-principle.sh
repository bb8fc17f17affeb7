#!/bin/bash
# The change request's principle (FLOWS.md, first section): routing to the CPM Conversation
# Server is the SIP/IP Core's own configuration, not a hard-wired CPM Service Indication.
# The same figure (Figures 5 and 6: alice's message with a delivery notification) runs
# twice on this machine's loopback, once under each example config, side by side:
#   examples/lab-icsi.toml  the cores trigger on the CPM enabler usage indication
#                           (Accept-Contact with the CPM ICSI);
#   examples/lab-user.toml  the cores trigger on what they know themselves (the served user,
#                           the session case and the method).
# Both runs are checked against the same ladder, and the lab names what differs: the rule
# that sent each request to its Conversation Server (cpm-core-route --explain on the
# request each core received). Installs what is missing and builds if needed, like
# labs/pager.sh.
# Usage: labs/cr-principle.sh [--no-service-indication] [ICSI-CONFIG [USER-CONFIG]]
#   --no-service-indication: alice is a Release 6 client whose requests carry no CPM ICSI
#   (cpm-send --no-service-indication); ICSI-CONFIG and USER-CONFIG take the place of the
#   two example configs; MERMAID=1 for Mermaid diagrams as well; KEEP=1 keeps $t.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lib.sh
. "$root/labs/lib.sh"
nosi=()
if [[ ${1:-} == --no-service-indication ]]; then
  nosi=(--no-service-indication)
  shift
fi
if (($# > 2)) || [[ ${1:-} == -* ]]; then
  echo "usage: $0 [--no-service-indication] [ICSI-CONFIG [USER-CONFIG]]" >&2
  exit 2
fi
declare -A config=([icsi]=${1:-$root/examples/lab-icsi.toml} [user]=${2:-$root/examples/lab-user.toml})
for name in icsi user; do
  [[ ${config[$name]} == /* ]] || config[$name]="$PWD/${config[$name]}"
done
cd "$root" || exit 2

lab_build cr-principle cpm-send cpm-core-route cpm-ladder
# The traces are JSON lines: python3 takes out the requests each core received.
command -v python3 >/dev/null || { echo "cr-principle: needs python3 (apt-get install python3)" >&2; exit 2; }

# shellcheck source=../tests/lib/flow.sh
. "$root/tests/lib/flow.sh"
labs=(icsi user)
rc=0

# run_figure NAME: Figures 5 and 6 on ${config[NAME]} (its own loopback prefix),
# traces in $t/NAME; the servers are named NAME.coreA and so on.
run_figure()
{
  local name=$1 d="$t/$1" arc=0
  mkdir -p "$d"
  lab_config "${config[$name]}" "$name.toml"
  [[ -z ${LAB_HEP:-} ]] || lab_hep "$LAB_HEP"
  echo "Lab $name: ${config[$name]} on ${lab_prefix}x.y (copied to $lab)"
  start_network "$name." "$d"
  start "$name.bob" cpm-send --config "$lab" --node bob --receive --count 1 --trace "$d/bob.trace"
  echo "\$ cpm-send --config $name.toml --node alice --register --notify delivery --wait${nosi[*]:+ ${nosi[*]}} sip:bob@b.example 'Hello'"
  cpm-send --config "$lab" --node alice --register --notify delivery --wait --timeout 10 \
    ${nosi[@]+"${nosi[@]}"} --trace "$d/alice.trace" sip:bob@b.example 'Hello' || arc=$?
  echo "(cpm-send exit status $arc: $( ((arc == 0)) && echo delivered || echo 'not delivered'))"
  ((arc == 0)) || rc=1
  wait_or_stop "$name.bob" 5 || rc=1
  echo "bob received: $(cat "$t/$name.bob.out" 2>/dev/null)"
  echo
}

# why NAME: for each MESSAGE a core received from a client or a peer core (not one coming
# back from its Conversation Server, whose Route carries odi), one line "CORE<TAB>REQUEST
# from SENDER<TAB>RULE": the trigger that matched, or "no trigger matched".
# cpm-core-route --explain reads the request as the core received it, the core's own
# Route taken off (the core removes it before deciding).
why()
{
  local name=$1 core req n=0 decision
  for core in coreA coreB; do
    while IFS= read -r -d '' req; do
      n=$((n + 1))
      printf '%s' "$req" | grep -v '^Route:' >"$t/$name/explain.$n.sip"
      decision=$(cpm-core-route --config "$t/$name.toml" --node "$core" --db ":memory:" \
        --explain "$t/$name/explain.$n.sip" 2>/dev/null |
        sed -n "s/^  trigger '\([^']*\)' ([^,]*, \([a-z]*\)): matched.*/trigger \1 (\2)/p" |
        head -n 1)
      printf '%s\t%s from %s\t%s\n' "$core" "$(head -n 1 <"$t/$name/explain.$n.sip" | cut -d' ' -f1,2)" \
        "$(sed -n 's/^From:.*<sip:\([^>]*\)>.*/\1/p' <"$t/$name/explain.$n.sip" | head -n 1)" \
        "${decision:-no trigger matched}"
    done < <(python3 - "$t/$name/$core.trace" <<'PY'
import json, re, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    m = e["message"]
    if e["dir"] == "rx" and e["first_line"].startswith("MESSAGE ") and "odi=" not in m:
        sys.stdout.write(m.replace("\r\n", "\n") + "\0")
PY
)
  done
}

for name in "${labs[@]}"; do
  run_figure "$name"
done

echo "What differs: the rule that sent each request to a Conversation Server (cpm-core-route --explain):"
why icsi >"$t/why.icsi"
why user >"$t/why.user"
printf '  %-6s %-46s %-38s %s\n' core request "${config[icsi]##*/}" "${config[user]##*/}"
paste "$t/why.icsi" "$t/why.user" |
  awk -F'\t' '{ printf "  %-6s %-46s %-38s %s\n", $1, $2, $3, ($5 == $2 ? $6 : "(" $5 ") " $6) }'
for name in icsi user; do
  h=$(grep -m1 '^headers = ' "${config[$name]}")
  echo "  ${config[$name]##*/}'s triggers ${h:+also ask for }${h:-match the session case and the method only}"
done

for name in "${labs[@]}"; do
  lab="$t/$name.toml" # the roles of this run's config for the notes
  lab_figure alice,coreA,csA,coreB,csB,bob "$t/$name" " under ${config[$name]##*/}" fig5-6 ||
    ((rc != 0)) || rc=1
done
for name in "${labs[@]}"; do
  for n in csA csB coreA coreB; do
    stop "$name.$n" || true
  done
done
exit "$rc"
