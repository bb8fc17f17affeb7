# shellcheck shell=bash
# The flow harness's process control (sourced by flow.sh). Every program a test runs in the
# background is recorded by name, by `start` (which waits for its --ready-fd line) or by
# `adopt` (a PID the test started itself); at exit exactly those are stopped, nothing else.
# Also the test's temp dir $t and the verdicts fail, skip and need.

t=$(mktemp -d "${TMPDIR:-/tmp}/cpm-flow.XXXXXX")

_flow_failed=0

_flow_log() { printf '%s\n' "$*" >&2; }

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

declare -A _flow_pid=()   # name -> PID of what start/adopt recorded, until it is reaped
declare -A _flow_err=()   # name -> its stderr file, shown when the test fails
declare -a _flow_names=() # every recorded name once, in start order
# name -> the line `start` read from its --ready-fd (the addresses it listens on)
declare -A ready=()

# Print the stderr logs of every recorded program.
_flow_dump_logs()
{
  local n f
  for n in "${_flow_names[@]}"; do
    f=${_flow_err[$n]:-}
    [[ -n $f && -s $f ]] || continue
    _flow_log "---- stderr of $n (last 40 lines of $f) ----"
    tail -n 40 "$f" >&2
  done
}

# _flow_alive PID: running (a zombie, dead but not yet waited for, is not).
_flow_alive()
{
  local state
  state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [[ -n $state && $state != Z && $state != X ]]
}

# _flow_record NAME PID [ERRFILE]: remember a background program of this test.
_flow_record()
{
  [[ -z ${_flow_pid[$1]:-} ]] || fail "$1 is already running"
  _flow_pid[$1]=$2
  _flow_err[$1]=${3:-}
  [[ " ${_flow_names[*]} " == *" $1 "* ]] || _flow_names+=("$1")
}

# _flow_wait NAME SECONDS: wait at most SECONDS for NAME to end by itself; return its exit
# status and forget it, or 124 (it is still running, still recorded).
_flow_wait()
{
  local name=$1 pid i rc=0
  pid=${_flow_pid[$name]:-}
  [[ -n $pid ]] || fail "$name was not started"
  for ((i = 0; i < $2 * 10; i++)); do
    _flow_alive "$pid" || break
    sleep 0.1 # bounded poll for an exit: the caller checks the outcome
  done
  _flow_alive "$pid" && return 124
  wait "$pid" || rc=$?
  unset "_flow_pid[$name]"
  return "$rc"
}

# _flow_kill NAME: SIGTERM, then SIGKILL if it is still there after a bounded wait; reaped.
_flow_kill()
{
  local pid=${_flow_pid[$1]}
  kill -TERM "$pid" 2>/dev/null || true
  _flow_wait "$1" 5 || true
  [[ -n ${_flow_pid[$1]:-} ]] || return 0 # reaped
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  unset "_flow_pid[$1]"
}

_flow_exit()
{
  local rc=$? n
  trap - EXIT
  for n in "${_flow_names[@]}"; do
    [[ -n ${_flow_pid[$n]:-} ]] && _flow_kill "$n"
  done
  release_prefixes
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

# start NAME CMD [ARG...]: start CMD ... --ready-fd 3 in the background (stdin from
# $START_STDIN, default /dev/null; fds 5-9 of the test are closed for it; stdout in
# $t/NAME.out, stderr in $t/NAME.err) and block until its ready line arrives (at most
# $START_TIMEOUT s). Sets ${ready[NAME]} to that line and records the PID for stop/exit.
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
  _flow_record "$name" $! "$t/$name.err"
  local rrc=0 rc=0
  read -r -t "$START_TIMEOUT" line <"$fifo" || rrc=$? # EOF after a line without '\n' is fine
  if [[ -z $line ]]; then
    ((rrc > 128)) && fail "start: $name reported no readiness within ${START_TIMEOUT}s: $*"
    # The ready fd was closed without a line: the program is exiting (bounded wait).
    _flow_wait "$name" 5 || rc=$?
    ((rc != 124)) || fail "start: $name closed its ready fd without a line: $*"
    fail "start: $name exited with status $rc before it was ready: $*"
  fi
  # ${ready[NAME]} is for the callers (start_core, the tests):
  # shellcheck disable=SC2034
  ready[$name]=$line
  [[ ${VERBOSE:-0} == 1 ]] && _flow_log "started $name (pid $(pid_of "$name")): $line"
  return 0
}

# adopt NAME PID [ERRFILE]: record a program the test started in the background itself
# (one without --ready-fd, or with redirections of its own), so that it is stopped at exit
# and shown in the logs of a failure; wait for it with wait_exit NAME, never `wait PID`.
adopt()
{
  _flow_record "$@"
  [[ ${VERBOSE:-0} == 1 ]] && _flow_log "adopted $1 (pid $2)"
  return 0
}

# pid_of NAME: the PID `start` or `adopt` recorded.
pid_of() { printf '%s\n' "${_flow_pid[$1]:-}"; }

# alive NAME: NAME is still running.
alive() { [[ -n ${_flow_pid[$1]:-} ]] && _flow_alive "${_flow_pid[$1]}"; }

# proc_report NAME: what the recorded program NAME is doing, on stderr, for a failure that
# says it did not react: its state and kernel wait channel, its CPU time (a busy loop), its
# descriptors, and the descriptors each of its epoll instances watches (libre's loop: is
# stdin, fd 0, among them?).
proc_report()
{
  local pid fd
  pid=$(pid_of "$1")
  [[ -n $pid && -d /proc/$pid ]] || { _flow_log "$1: not running"; return 0; }
  {
    printf '%s (pid %s): state %s, wchan %s, utime+stime %s ticks\n' "$1" "$pid" \
      "$(awk '{ print $3 }' "/proc/$pid/stat")" "$(cat "/proc/$pid/wchan" 2>/dev/null)" \
      "$(awk '{ print $14 + $15 }' "/proc/$pid/stat")"
    for fd in "/proc/$pid/fd"/*; do
      printf 'fd %s -> %s\n' "${fd##*/}" "$(readlink "$fd")"
      [[ $(readlink "$fd") == *eventpoll* ]] || continue
      printf 'epoll fd %s watches fds: %s\n' "${fd##*/}" \
        "$(awk '$1 == "tfd:" { printf "%s ", $2 }' "/proc/$pid/fdinfo/${fd##*/}")"
    done
  } >&2 2>/dev/null
  return 0
}

# stop NAME: SIGTERM, wait, return its exit status (0 is a clean stop).
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

# crash NAME: kill NAME with SIGKILL (no clean-up of any kind, as a crash or `kill -9`),
# reap it and forget it; its stderr moves to $t/NAME.err.N (N = 1, 2...) so that `start NAME`
# can run it again with the same arguments and a failure still shows both logs.
crash()
{
  local name=$1 pid n=1
  pid=${_flow_pid[$name]:-}
  [[ -n $pid ]] || fail "crash: $name was not started"
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  unset "_flow_pid[$name]"
  if [[ -n ${_flow_err[$name]:-} && -e ${_flow_err[$name]} ]]; then
    while [[ -e ${_flow_err[$name]}.$n ]]; do ((n++)); done
    mv "${_flow_err[$name]}" "${_flow_err[$name]}.$n"
    _flow_names+=("$name#$n")
    _flow_err[$name#$n]=${_flow_err[$name]}.$n
  fi
  [[ ${VERBOSE:-0} == 1 ]] && _flow_log "crashed $name (pid $pid, SIGKILL)"
  return 0
}

# wait_exit NAME [SECONDS]: wait (at most SECONDS, default 20) for a started program to
# end by itself; returns its exit status, fails if it is still running.
wait_exit()
{
  local rc=0
  _flow_wait "$1" "${2:-20}" || rc=$?
  ((rc != 124)) || ! alive "$1" || fail "wait_exit: $1 still running after ${2:-20}s"
  return "$rc"
}

# wait_or_stop NAME SECONDS: wait_exit without failing: a program still running after
# SECONDS is stopped (SIGTERM) and the status is 124 (as timeout(1) says it).
wait_or_stop()
{
  local rc=0
  _flow_wait "$1" "$2" || rc=$?
  if ((rc == 124)) && alive "$1"; then
    stop "$1" 2>/dev/null || true
  fi
  return "$rc"
}
