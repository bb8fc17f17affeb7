# shellcheck shell=bash
# The flow harness: sourced by every tests/flows/*.sh (and labs/*.sh).
#
#   . "$(dirname "$0")/../lib/flow.sh"
#   lab_config "$CPM_SOURCE_DIR/examples/lab-icsi.toml"     # sets $lab
#   start coreA cpm-core-route --config "$lab" --node coreA --trace "$t/coreA.trace"
#   cpm-send --config "$lab" --node alice ... >"$t/out" || fail "cpm-send failed"
#   expect_ladder "$flows/ladders/fig5-6.ladder" "$t"/*.trace
#
# Gives: $t (a temp dir, removed at exit unless the test failed or KEEP=1), $flows,
# $CPM_BIN on PATH, and the functions below. Exit status: 0 pass, 1 fail, 77 skip.
# Nothing here sleeps to synchronize: `start` blocks on the program's --ready-fd line.

set -u -o pipefail

: "${CPM_SOURCE_DIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${CPM_BIN:=$CPM_SOURCE_DIR/build/default/tools}"
: "${START_TIMEOUT:=20}" # seconds a program may take to report readiness
export CPM_SOURCE_DIR CPM_BIN
PATH="$CPM_BIN:$PATH"
flows="$CPM_SOURCE_DIR/tests/flows"
examples="$CPM_SOURCE_DIR/examples"
t=$(mktemp -d "${TMPDIR:-/tmp}/cpm-flow.XXXXXX")
lab=""

declare -A _flow_pid=()   # name -> PID of what `start` started
declare -a _flow_names=() # in start order
declare -a _flow_locks=() # the lab-prefix locks this test holds
_flow_failed=0

_flow_log() { printf '%s\n' "$*" >&2; }

# Print the stderr logs of every started program.
_flow_dump_logs()
{
  local n
  for n in "${_flow_names[@]}"; do
    [[ -s $t/$n.err ]] || continue
    _flow_log "---- stderr of $n (last 40 lines of $t/$n.err) ----"
    tail -n 40 "$t/$n.err" >&2
  done
}

# _flow_alive PID: running (a zombie, dead but not yet waited for, is not).
_flow_alive()
{
  local state
  state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [[ -n $state && $state != Z && $state != X ]]
}

# End one started program: SIGTERM, then SIGKILL if it is still there after a bounded wait.
_flow_kill()
{
  local pid=$1 i
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 50; i++)); do
    _flow_alive "$pid" || break
    sleep 0.1 # bounded grace period, not synchronization
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

_flow_exit()
{
  local rc=$? n
  trap - EXIT
  for n in "${_flow_names[@]}"; do
    [[ -n ${_flow_pid[$n]:-} ]] && _flow_kill "${_flow_pid[$n]}"
  done
  for n in "${_flow_locks[@]}"; do
    rm -rf "$n"
  done
  if ((rc != 0 && rc != 77)); then
    ((_flow_failed)) || _flow_dump_logs
    _flow_log "flow: files kept in $t"
  elif [[ ${KEEP:-0} == 1 ]]; then
    _flow_log "flow: files kept in $t"
  else
    rm -rf "$t"
  fi
  exit "$rc"
}
trap _flow_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# fail MSG: print MSG and the logs of every started program, exit 1.
fail()
{
  _flow_log "FAIL: $*"
  _flow_dump_logs
  _flow_failed=1
  exit 1
}

# skip MSG: exit 77 (a failure under CI=true: CI must run every test).
skip()
{
  if [[ ${CI:-} == true ]]; then
    fail "would skip under CI: $*"
  fi
  _flow_log "SKIP: $*"
  exit 77
}

# need TOOL...: skip unless every TOOL is on PATH.
need()
{
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 || skip "$tool is not installed"
  done
}

# lab_config SRC [NAME]: copy a lab config to $t/NAME (default: SRC's name), rewriting the
# loopback prefix 127.0. to 127.K. with a K no other test holds and nothing listens on.
# Sets $lab (the copy) and $lab_prefix ("127.K."). May be called again for a second lab.
lab_config()
{
  local src=$1 name=${2:-$(basename "$1")} k i used lock=""
  [[ -r $src ]] || fail "lab_config: cannot read $src"
  used=$(ss -Hlnut 2>/dev/null | awk '{print $5}')
  for ((i = 0; i < 250; i++)); do
    k=$(((($$ + i) % 250) + 4)) # 4..253: never 127.0., 127.1. .. 127.3. stay for humans
    # An atomic lock per prefix: parallel tests never share a network.
    if mkdir "${TMPDIR:-/tmp}/cpm-flow-127.$k.lock" 2>/dev/null; then
      if grep -q "^127\.$k\." <<<"$used"; then
        rmdir "${TMPDIR:-/tmp}/cpm-flow-127.$k.lock"
        continue
      fi
      lock="${TMPDIR:-/tmp}/cpm-flow-127.$k.lock"
      _flow_locks+=("$lock")
      echo $$ >"$lock/pid"
      break
    fi
    # A lock whose owner is gone is stale.
    local owner
    owner=$(cat "${TMPDIR:-/tmp}/cpm-flow-127.$k.lock/pid" 2>/dev/null || true)
    if [[ -n $owner ]] && ! kill -0 "$owner" 2>/dev/null; then
      rm -rf "${TMPDIR:-/tmp}/cpm-flow-127.$k.lock"
      ((i--))
    fi
  done
  [[ -n $lock ]] || fail "lab_config: no free 127.K. prefix"
  lab="$t/$name"
  lab_prefix="127.$k."
  sed "s/127\.0\./127.$k./g" "$src" >"$lab" || fail "lab_config: cannot write $lab"
}

# start NAME CMD [ARG...]: start CMD ... --ready-fd 3 in the background (stdin from
# $START_STDIN, default /dev/null; fds 5-9 of the test are closed for it; stdout in
# $t/NAME.out, stderr in $t/NAME.err) and block until its ready line arrives (at most
# $START_TIMEOUT s). Sets ${ready[NAME]} to that line and records the PID for stop/exit.
declare -A ready=()
start()
{
  local name=$1 line=""
  shift
  [[ -z ${_flow_pid[$name]:-} ]] || fail "start: $name is already running"
  command -v "$1" >/dev/null 2>&1 || fail "start: $1 not found (CPM_BIN=$CPM_BIN)"
  local fifo="$t/$name.ready"
  rm -f "$fifo"
  mkfifo "$fifo" || fail "start: mkfifo $fifo"
  # The child opens the fifo for writing as fd 3; it is closed when the child writes its
  # line and closes fd 3, or when it dies: either way the read below returns.
  # fds 5-9 are the test's own (e.g. the write ends of fifos feeding stdin): not inherited,
  # so that closing them is an end of input.
  "$@" --ready-fd 3 3>"$fifo" >"$t/$name.out" 2>"$t/$name.err" <"${START_STDIN:-/dev/null}" \
    5>&- 6>&- 7>&- 8>&- 9>&- &
  _flow_pid[$name]=$!
  _flow_names+=("$name")
  local rrc=0 i
  read -r -t "$START_TIMEOUT" line <"$fifo" || rrc=$? # EOF after a line without '\n' is fine
  if [[ -z $line ]]; then
    ((rrc > 128)) && fail "start: $name reported no readiness within ${START_TIMEOUT}s: $*"
    # The ready fd was closed without a line: the program is exiting (bounded wait).
    for ((i = 0; i < 50; i++)); do
      _flow_alive "${_flow_pid[$name]}" || break
      sleep 0.1
    done
    _flow_alive "${_flow_pid[$name]}" && fail "start: $name closed its ready fd without a line: $*"
    local rc=0
    wait "${_flow_pid[$name]}" || rc=$?
    unset "_flow_pid[$name]"
    fail "start: $name exited with status $rc before it was ready: $*"
  fi
  ready[$name]=$line
  [[ ${VERBOSE:-0} == 1 ]] && _flow_log "started $name (pid ${_flow_pid[$name]}): $line"
  return 0
}

# start_network [PREFIX] [DIR]: start the cores and conversation servers of Figures 5-6
# (coreA, coreB, csA, csB) from $lab, each tracing to DIR/NODE.trace (DIR defaults to $t),
# named PREFIXNODE for start/stop.
start_network()
{
  local prefix=${1:-} dir=${2:-$t} n
  for n in coreA coreB; do
    start "$prefix$n" cpm-core-route --config "$lab" --node "$n" --trace "$dir/$n.trace"
  done
  for n in csA csB; do
    start "$prefix$n" cpm-groupd --config "$lab" --node "$n" --trace "$dir/$n.trace"
  done
}

# start_group_network [PREFIX] [DIR]: start_network plus coreX and csX (Figures 1-2).
start_group_network()
{
  local prefix=${1:-} dir=${2:-$t}
  start_network "$prefix" "$dir"
  start "${prefix}coreX" cpm-core-route --config "$lab" --node coreX --trace "$dir/coreX.trace"
  start "${prefix}csX" cpm-groupd --config "$lab" --node csX -v --trace "$dir/csX.trace"
}

# stop_group_network [PREFIX]: stop what start_group_network started; each must exit 0.
stop_group_network()
{
  local prefix=${1:-} n
  for n in csX coreX; do
    stop "$prefix$n" || fail "${prefix}$n did not stop cleanly"
  done
  stop_network "$prefix"
}

# trace_message_id TRACE: the CPIM imdn.Message-ID of the first MESSAGE a --trace file
# shows sent (empty when there is none).
trace_message_id()
{
  python3 - "$1" <<'PY'
import json, re, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["dir"] == "tx" and e["first_line"].startswith("MESSAGE "):
        m = re.search(r"(?im)^[\w-]+\.Message-ID:[ \t]*(\S+)", e["message"])
        if m:
            print(m.group(1))
            break
PY
}

# wait_for FILE TEXT [SECONDS]: a bounded poll until FILE (written by another process)
# contains TEXT; fails after SECONDS (default 20).
wait_for()
{
  local i
  for ((i = 0; i < ${3:-20} * 10; i++)); do
    grep -F -- "$2" "$1" >/dev/null 2>&1 && return 0
    sleep 0.1 # bounded poll of a file another process writes; the outcome is checked
  done
  fail "$1 never contained '$2'"
}

# stop_network [PREFIX]: stop what start_network started; each must exit 0.
stop_network()
{
  local prefix=${1:-} n
  for n in csA csB coreA coreB; do
    stop "$prefix$n" || fail "${prefix}$n did not stop cleanly"
  done
}

# pid_of NAME: the PID `start` recorded.
pid_of() { printf '%s\n' "${_flow_pid[$1]:-}"; }

# stop NAME: SIGTERM, wait, print and return its exit status (0 is a clean stop).
stop()
{
  local name=$1 pid rc=0
  pid=${_flow_pid[$name]:-}
  [[ -n $pid ]] || fail "stop: $name was not started"
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" || rc=$?
  unset "_flow_pid[$name]"
  [[ ${VERBOSE:-0} == 1 || $rc != 0 ]] && _flow_log "stopped $name: exit status $rc"
  return "$rc"
}

# wait_exit NAME [SECONDS]: wait (at most SECONDS, default 20) for a started program to
# end by itself; returns its exit status, fails if it is still running.
wait_exit()
{
  local name=$1 limit=${2:-20} pid rc=0 i
  pid=${_flow_pid[$name]:-}
  [[ -n $pid ]] || fail "wait_exit: $name was not started"
  for ((i = 0; i < limit * 10; i++)); do
    _flow_alive "$pid" || break
    sleep 0.1 # bounded poll for an exit; the outcome is checked below
  done
  _flow_alive "$pid" && fail "wait_exit: $name still running after ${limit}s"
  wait "$pid" || rc=$?
  unset "_flow_pid[$name]"
  return "$rc"
}

# expect_eq ACTUAL EXPECTED [WHAT]
expect_eq()
{
  [[ $1 == "$2" ]] || fail "${3:-value}: expected '$2', got '$1'"
}

# expect_contains FILE TEXT: FILE contains TEXT (a fixed string).
expect_contains()
{
  [[ -r $1 ]] || fail "expect_contains: no file $1"
  grep -qF -- "$2" "$1" || {
    _flow_log "---- $1 ----"
    head -c 4000 "$1" >&2
    fail "$1 does not contain '$2'"
  }
}

# expect_json FILE PATH VALUE [PATH VALUE...]: some line of FILE (JSON Lines, or one JSON
# document) has every PATH equal to its VALUE. PATH is the jq subset .key.key[N]; a string
# compares as is, anything else as compact JSON (true, 200, null).
expect_json()
{
  local file=$1
  shift
  [[ -r $file ]] || fail "expect_json: no file $file"
  (($# >= 2 && $# % 2 == 0)) || fail "expect_json: FILE PATH VALUE [PATH VALUE...]"
  python3 - "$file" "$@" <<'EOF' || fail "expect_json: no line of $file has $*"
import json, re, sys
path, pairs = sys.argv[1], sys.argv[2:]
def get(doc, expr):
    if expr == ".":
        return doc
    for key, idx in re.findall(r'\.([A-Za-z_][\w-]*)|\[(\d+)\]', expr):
        if key:
            if not isinstance(doc, dict) or key not in doc:
                raise KeyError(expr)
            doc = doc[key]
        else:
            if not isinstance(doc, list) or int(idx) >= len(doc):
                raise KeyError(expr)
            doc = doc[int(idx)]
    return doc
def text(v):
    return v if isinstance(v, str) else json.dumps(v, separators=(",", ":"))
raw = open(path, encoding="utf-8", errors="replace").read()
docs = []
try:
    docs = [json.loads(raw)]
except ValueError:
    for line in raw.splitlines():
        if line.strip():
            try:
                docs.append(json.loads(line))
            except ValueError:
                print(f"expect_json: not JSON: {line[:200]}", file=sys.stderr)
for d in docs:
    try:
        if all(text(get(d, pairs[i])) == pairs[i + 1] for i in range(0, len(pairs), 2)):
            sys.exit(0)
    except KeyError:
        pass
print(f"---- {path} ----", file=sys.stderr)
print(raw[:4000], file=sys.stderr)
sys.exit(1)
EOF
}

# expect_json_values FILE VALUE...: some JSON line of FILE holds every VALUE as a value
# (a string, or a number/boolean as JSON), at any key and depth.
expect_json_values()
{
  local file=$1
  shift
  [[ -r $file ]] || fail "expect_json_values: no file $file"
  python3 - "$file" "$@" <<'EOF' || fail "expect_json_values: no line of $file holds all of: $*"
import json, sys
path, want = sys.argv[1], set(sys.argv[2:])
def values(doc):
    if isinstance(doc, dict):
        for v in doc.values():
            yield from values(v)
    elif isinstance(doc, list):
        for v in doc:
            yield from values(v)
    else:
        yield doc if isinstance(doc, str) else json.dumps(doc)
raw = open(path, encoding="utf-8", errors="replace").read()
for line in raw.splitlines():
    try:
        doc = json.loads(line)
    except ValueError:
        continue
    if want <= set(values(doc)):
        sys.exit(0)
print(f"---- {path} ----", file=sys.stderr)
print(raw[:4000], file=sys.stderr)
sys.exit(1)
EOF
}

# expect_ladder EXPECTED TRACE...: cpm-ladder --check (FLOWS.md comparison); on a mismatch
# print its diff and fail.
expect_ladder()
{
  local expected=$1 rc=0
  shift
  cpm-ladder --check "$expected" "$@" >"$t/ladder.check" 2>&1 || rc=$?
  if ((rc != 0)); then
    cat "$t/ladder.check" >&2
    fail "expect_ladder: the run does not match $(basename "$expected") (cpm-ladder exit $rc)"
  fi
}
