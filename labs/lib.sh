# shellcheck shell=bash
# The labs' common ending, sourced by labs/*.sh after tests/lib/flow.sh: each lab draws what
# went over the wire as a ladder, compares it with its figures of FLOWS.md, stops the nodes
# it started and exits.
#
#   lab_figure NODES DIR WHAT LADDER[+LADDER...] [OPTION...]
#       draws DIR/*.trace in the columns NODES (cpm-ladder --columns --nodes NODES, plus the
#       options of the array lab_draw when the lab sets one, e.g. (--all --hide 100) to show
#       REGISTER; also as a Mermaid diagram with MERMAID=1) under "What went over the
#       wire<WHAT> (...)", then
#       compares them with tests/flows/ladders/LADDER.ladder (several joined by +, read one
#       after the other) by cpm-ladder --check LADDER OPTION... and prints its last line when
#       they match, else the whole difference. Returns 1 on a difference, except under
#       --loss (the lab's $loss set), where retransmissions make one expected: it says so.
#   lab_close RC NODE...
#       stops each NODE (the servers the lab started) and exits with status RC.
# It uses $root (the checkout) and the harness's stop:
# shellcheck disable=SC2154

lab_figure()
{
  local nodes=$1 dir=$2 what=$3 figures=$4 ladder shown name
  shift 4
  echo
  echo "What went over the wire$what (cpm-ladder --columns):"
  cpm-ladder --columns --nodes "$nodes" ${lab_draw[@]+"${lab_draw[@]}"} "$dir"/*.trace
  if [[ ${MERMAID:-0} == 1 ]]; then
    echo
    cpm-ladder --mermaid --nodes "$nodes" ${lab_draw[@]+"${lab_draw[@]}"} "$dir"/*.trace
  fi
  if [[ $figures == *+* ]]; then
    ladder="$dir/$figures.ladder" shown=""
    for name in ${figures//+/ }; do
      cat "$root/tests/flows/ladders/$name.ladder"
      shown+="${shown:+ + }$name.ladder"
    done >"$ladder"
  else
    ladder="$root/tests/flows/ladders/$figures.ladder"
    shown="tests/flows/ladders/$figures.ladder"
  fi
  echo
  echo "Compared with FLOWS.md (cpm-ladder --check $shown${*:+ $*}):"
  if cpm-ladder --check "$ladder" "$@" "$dir"/*.trace >"$dir/check" 2>&1; then
    tail -n 1 "$dir/check"
  elif [[ -n ${loss:-} ]]; then
    cat "$dir/check"
    echo "(differences expected under --loss: retransmitted requests and responses)"
  else
    cat "$dir/check"
    return 1
  fi
}

lab_close()
{
  local rc=$1 n
  shift
  for n in "$@"; do
    stop "$n" || true
  done
  exit "$rc"
}
