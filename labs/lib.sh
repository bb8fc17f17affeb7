# shellcheck shell=bash
# What the labs (labs/*.sh) share, sourced first thing (flow.sh comes after lab_build): each
# lab makes sure it has what it needs, runs, draws what went over the wire as a ladder,
# compares it with its figures of FLOWS.md, stops the nodes it started and exits.
#
#   lab_build NAME TOOL...
#       installs what the build needs (scripts/deps.sh --build-only, with --loss when the
#       lab's $loss is set, --netns when its $netns is), exports CPM_SOURCE_DIR=$root and
#       CPM_BIN (the environment's, so that tests/flows/lab-*.sh run the build under test,
#       else build/default/tools)
#       and builds (cmake --preset default, log in build-lab.log) unless every TOOL is
#       there; exits 2 when it cannot. NAME names the lab in its messages.
#   lab_figure NODES DIR WHAT LADDER[+LADDER...] [OPTION...]
#       draws DIR/*.trace in the columns NODES under "What went over the wire<WHAT>", each
#       hop with its notes (what the message is, why it goes there) and the step of
#       FLOWS.md it is, compared with tests/flows/ladders/LADDER.ladder (several joined by
#       +, read one after the other): one cpm-ladder --check LADDER --columns --nodes NODES
#       OPTION..., plus the options of the array lab_draw when the lab sets one, e.g. (--all
#       --hide 100) to show REGISTER, and --config $lab (the lab's config copy, whose nodes'
#       roles the notes take: a client that did not register is still known as one). Its last line is "ladder matches", else it prints the
#       difference and returns 1, except under --loss (the lab's $loss set), where
#       retransmissions make one expected: it says so. MERMAID=1 adds a Mermaid diagram.
#       With LAB_OUT=DIR in the environment, the traces go to DIR/NAME/ and the run as one
#       capture for Wireshark to DIR/NAME.pcap (cpm-ladder --pcap), NAME being LADDER, or
#       DIR's last component when DIR is not the lab's $t.
#   lab_network CONFIG NAME
#       lab_config CONFIG NAME, or netns_lab CONFIG NAME when the lab's $netns is set (its
#       --netns: networks A, B and X in namespaces of their own, labs/netns.sh). With
#       LAB_HEP=udp:HOST:PORT in the environment every node also sends HEP there (lab_hep),
#       e.g. to `sngrep -L udp:HOST:PORT` watching the figure live.
#   lab_close RC NODE...
#       stops each NODE (the servers the lab started) and exits with status RC.
# It uses $root (the checkout) and the harness's stop:
# shellcheck disable=SC2154

lab_build()
{
  local name=$1 tool
  shift
  "$root/scripts/deps.sh" --build-only ${loss:+--loss} ${netns:+--netns} >&2 || exit 2
  export CPM_SOURCE_DIR="$root" CPM_BIN="${CPM_BIN:-$root/build/default/tools}"
  for tool in "$@"; do
    [[ -x $CPM_BIN/$tool ]] && continue
    echo "$name: building (cmake --preset default)" >&2
    { cmake --preset default && cmake --build build/default -j2; } >"$root/build-lab.log" 2>&1 || {
      tail -n 30 "$root/build-lab.log" >&2
      echo "$name: build failed, see build-lab.log" >&2
      exit 2
    }
    return 0
  done
}

lab_figure()
{
  local nodes=$1 dir=$2 what=$3 figures=$4 ladder shown name out="" rc=0
  shift 4
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
  if [[ -n ${LAB_OUT:-} ]]; then
    name=$figures
    [[ $dir == "$t" ]] || name=${dir##*/}
    out="$LAB_OUT/$name"
    { mkdir -p "$out" && cp "$dir"/*.trace "$out/"; } || return 1
  fi
  echo
  echo "What went over the wire$what, each hop beside its step in FLOWS.md"
  echo "(cpm-ladder --check $shown --columns${*:+ $*}):"
  cpm-ladder --check "$ladder" --columns --nodes "$nodes" ${lab_draw[@]+"${lab_draw[@]}"} "$@" \
    ${lab:+--config "$lab"} ${out:+--pcap "$out.pcap"} "$dir"/*.trace >"$dir/check" \
    2>"$dir/check.err" || rc=1
  cat "$dir/check" "$dir/check.err"
  if ((rc != 0)) && [[ -n ${loss:-} ]]; then
    echo "(differences expected under --loss: retransmitted requests and responses)"
    rc=0
  fi
  [[ -z $out ]] || echo "The traces are in $out/, the run as one capture for Wireshark in $out.pcap"
  if [[ ${MERMAID:-0} == 1 ]]; then
    echo
    cpm-ladder --mermaid --nodes "$nodes" ${lab_draw[@]+"${lab_draw[@]}"} "$dir"/*.trace
  fi
  return "$rc"
}

lab_network()
{
  if [[ -n ${netns:-} ]]; then
    # shellcheck source=netns.sh
    . "$root/labs/netns.sh"
    netns_lab "$@"
  else
    lab_config "$@"
  fi
  [[ -z ${LAB_HEP:-} ]] || lab_hep "$LAB_HEP"
}

lab_hep()
{
  # Every node of $lab sends what it sends and receives to the HEP collector udp:$1.
  # shellcheck source=../tests/lib/hep.sh
  . "$root/tests/lib/hep.sh"
  hep_in_config "${1#udp:}"
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
