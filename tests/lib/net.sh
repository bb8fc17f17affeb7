# shellcheck shell=bash
# The flow harness's networks (sourced by flow.sh): a loopback prefix of the test's own,
# lab configs rewritten onto it, the networks of the figures; and for the single-core tests
# (core-*.sh) one cpm-core-route on port 0, a raw SIP client and SIPp peers.
# It uses $t and ${ready[@]} of proc.sh, which flow.sh sources first:
# shellcheck disable=SC2154

declare -a _flow_locks=() # the loopback-prefix locks this test holds
lab=""                    # the lab config lab_config wrote
lab_prefix=""             # "127.K." of the last claim_prefix / lab_config

# claim_prefix: lock a loopback prefix 127.K. that no other test holds and nothing listens
# on, for addresses of the test's own; sets $lab_prefix. Released at exit.
claim_prefix()
{
  local k i used lock owner dir=${TMPDIR:-/tmp}
  used=$(ss -Hlnut 2>/dev/null | awk '{print $5}')
  for ((i = 0; i < 250; i++)); do
    k=$(((($$ + i) % 250) + 4)) # 4..253: never 127.0., 127.1. .. 127.3. stay for humans
    lock="$dir/cpm-flow-127.$k.lock"
    # An atomic lock per prefix: parallel tests never share a network.
    if mkdir "$lock" 2>/dev/null; then
      if grep -q "^127\.$k\." <<<"$used"; then
        rmdir "$lock"
        continue
      fi
      _flow_locks+=("$lock")
      echo $$ >"$lock/pid"
      lab_prefix="127.$k."
      return 0
    fi
    # A lock whose owner is gone is stale.
    owner=$(cat "$lock/pid" 2>/dev/null || true)
    if [[ -n $owner ]] && ! kill -0 "$owner" 2>/dev/null; then
      rm -rf "$lock"
      ((i--))
    fi
  done
  fail "claim_prefix: no free 127.K. prefix"
}

# release_prefixes: give back every prefix this test claimed (done at exit; a benchmark
# that runs one lab after another calls it between runs).
release_prefixes()
{
  local lock
  for lock in "${_flow_locks[@]}"; do
    rm -rf "$lock"
  done
  _flow_locks=()
}

# lab_config SRC [NAME]: copy a lab config to $t/NAME (default: SRC's name), rewriting the
# loopback prefix 127.0. to a claimed 127.K. (claim_prefix). Sets $lab (the copy) and
# $lab_prefix ("127.K."). May be called again for a second lab.
lab_config()
{
  local src=$1 name=${2:-$(basename "$1")}
  [[ -r $src ]] || fail "lab_config: cannot read $src"
  claim_prefix
  lab="$t/$name"
  sed "s/127\.0\./$lab_prefix/g" "$src" >"$lab" || fail "lab_config: cannot write $lab"
}

# lab_auth [NODE]: auth = true on the core NODE of $lab, or on every core (digest for
# REGISTER and for the requests of their users from outside their trust domain:
# cpm.toml(5) auth).
# Its NODE is optional (shellcheck's SC2119/SC2120 would want it always):
# shellcheck disable=SC2120
lab_auth()
{
  local range='1,$'
  [[ -z ${1:-} ]] || range="/^name = \"$1\"\$/,/^\\[\\[/"
  sed -i -e "$range{/^auth = false /d; s/^role = \"core\"\$/&\\nauth = true/}" "$lab" ||
    fail "lab_auth: cannot write $lab"
  quiet_grep -x 'auth = true' "$lab" || fail "lab_auth: no core ${1:-} in $lab"
}

# challenges CODE TRACE...: how many responses CODE (401, 407) the traces show received.
challenges()
{
  cat "$@" | grep -c "\"dir\":\"rx\".*\"first_line\":\"SIP/2.0 $1 " || true
}

# lab_add_client NAME URI HOST PROXY [PASSWORD]: append to $lab a client node NAME with the
# address of record URI, listening on ${lab_prefix}HOST port 5060 (UDP and TCP), behind the
# core PROXY; with PASSWORD also a [[user]] entry for URI.
lab_add_client()
{
  {
    printf '\n[[node]]\nname = "%s"\nrole = "client"\nfrom = "%s"\n' "$1" "$2"
    printf 'listen = ["udp:%s%s:5060", "tcp:%s%s:5060"]\n' "$lab_prefix" "$3" "$lab_prefix" "$3"
    printf 'proxy = "%s"\n' "$4"
    [[ -z ${5:-} ]] || printf '\n[[user]]\nuri = "%s"\npassword = "%s"\n' "$2" "$5"
  } >>"$lab" || fail "lab_add_client: cannot write $lab"
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

# stop_network [PREFIX]: stop what start_network started; each must exit 0.
stop_network()
{
  local prefix=${1:-} n
  for n in csA csB coreA coreB; do
    stop "$prefix$n" || fail "${prefix}$n did not stop cleanly"
  done
}

# group_has_audio: the lab config $lab's group carries audio (media = ["message", "audio"]),
# as the tests of Figures 3 and 4 need; fails the test otherwise.
group_has_audio()
{
  grep -q '^media = \["message", "audio"\]$' "$lab" || fail "the example group has no audio"
}

# start_group_network [PREFIX] [DIR]: start_network plus coreX and csX (Figures 1-2).
start_group_network()
{
  local prefix=${1:-} dir=${2:-$t}
  start_network "$prefix" "$dir"
  start "${prefix}coreX" cpm-core-route --config "$lab" --node coreX --trace "$dir/coreX.trace"
  start "${prefix}csX" cpm-groupd --config "$lab" --node csX -v --trace "$dir/csX.trace"
}

# start_friends PREFIX DIR [ARGS...]: the group session of Figures 1+2 on the network of
# start_group_network: bob and carol answer (--register --answer --count 1 --json), alice
# invites sip:friends@x.example (--register --json); ARGS go to all three. Each reads its
# chat lines from DIR/NAME.in, a fifo this shell holds open read-write so that opening it
# never blocks: fd 7 is alice's, 5 bob's, 6 carol's (`printf ... >&7` is alice speaking,
# `exec 7>&-` her end of input). Outputs: $t/PREFIXbob.out, $t/PREFIXcarol.out and
# DIR/alice.out (alice is adopted as PREFIXalice). Then friends_joined waits for them.
# One person's own arguments (after ARGS) come from the associative array FRIEND_ARGS when
# the caller declared it: FRIEND_ARGS[bob]="--audio-in $t/1000.wav" (split on blanks).
start_friends()
{
  local prefix=$1 dir=$2 who
  local -a own
  shift 2
  for who in alice bob carol; do
    mkfifo "$dir/$who.in"
  done
  exec 5<>"$dir/bob.in" 6<>"$dir/carol.in" 7<>"$dir/alice.in"
  for who in bob carol; do
    read -r -a own <<<"$(friend_args "$who")"
    START_STDIN="$dir/$who.in" start "$prefix$who" cpm-invite --config "$lab" --node "$who" \
      --register --answer --count 1 --json --trace "$dir/$who.trace" "$@" "${own[@]}"
  done
  read -r -a own <<<"$(friend_args alice)"
  cpm-invite --config "$lab" --node alice --register --json --trace "$dir/alice.trace" "$@" \
    "${own[@]}" sip:friends@x.example <"$dir/alice.in" >"$dir/alice.out" 2>"$dir/alice.err" \
    5>&- 6>&- 7>&- &
  adopt "${prefix}alice" $! "$dir/alice.err"
}

# friend_args WHO: FRIEND_ARGS[WHO] when the caller declared FRIEND_ARGS, else nothing.
friend_args()
{
  if declare -p FRIEND_ARGS >/dev/null 2>&1; then
    # shellcheck disable=SC2154 # declared by the caller
    printf '%s\n' "${FRIEND_ARGS[$1]:-}"
  fi
}

# friends_joined PREFIX DIR [SECONDS]: everybody of start_friends is in: the members have
# their sessions, alice has her 200.
friends_joined()
{
  local prefix=$1 dir=$2 w=${3:-20}
  wait_for "$t/${prefix}bob.out" '"event":"established"' "$w"
  wait_for "$t/${prefix}carol.out" '"event":"established"' "$w"
  wait_for "$dir/alice.out" '"event":"answered"' "$w"
}

# friends_hello [TEXT]: Figures 1+2 on the network of start_group_network, in $t: the group
# session set up (start_friends, friends_joined) and alice's chat line TEXT (default "hello
# friends") received by bob and carol. The caller goes on from there (friends_leave).
# Its TEXT is optional (SC2119/SC2120 as above):
# shellcheck disable=SC2120
friends_hello()
{
  local text=${1:-hello friends}
  start_group_network "" "$t"
  start_friends "" "$t"
  friends_joined "" "$t"
  printf '%s\n' "$text" >&7
  wait_for "$t/bob.out" "$text"
  wait_for "$t/carol.out" "$text"
}

# friends_leave PREFIX [SECONDS]: everybody of start_friends leaves cleanly, each exiting 0
# within SECONDS (default 20): alice ends her input (fd 7), then bob (fd 5); the focus ends
# carol's session. Closes carol's input (fd 6) last.
friends_leave()
{
  local prefix=$1 w=${2:-20} who rc
  exec 7>&-
  for who in alice bob carol; do
    [[ $who != bob ]] || exec 5>&-
    rc=0
    wait_exit "$prefix$who" "$w" || rc=$?
    expect_eq "$rc" 0 "$prefix$who's exit status"
  done
  exec 6>&-
}

# chat_messages FILE: "FROM: TEXT" per message event of a cpm-invite --json output.
chat_messages()
{
  python3 - "$1" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e.get("event") == "message":
        print(f'{e["from"]}: {e["text"]}')
PY
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

# --- one core, raw SIP, SIPp (the core-*.sh tests) ----------------------------------------

# start_core ARGS...: start cpm-core-route ARGS as `core` (stderr in $t/core.err) and wait
# for its ready line; sets CORE_UDP and CORE_TCP (host:port, empty when not listening).
start_core()
{
  start core cpm-core-route "$@"
  CORE_UDP="" CORE_TCP=""
  local a
  for a in ${ready[core]}; do
    case $a in
    udp:*) [[ -n $CORE_UDP ]] || CORE_UDP=${a#udp:} ;;
    tcp:*) [[ -n $CORE_TCP ]] || CORE_TCP=${a#tcp:} ;;
    esac
  done
}

# stop_core: SIGTERM the core of start_core; it must exit 0.
stop_core()
{
  local rc=0
  stop core || rc=$?
  ((rc == 0)) || fail "core exited with $rc on SIGTERM"
}

# sip ADDR [sip_client.py options] < request: print the final response.
sip() { python3 "$CPM_SOURCE_DIR/tests/lib/sip_client.py" "$@"; }

# status < response: the status code of the first line.
status() { head -n1 | awk '{print $2}'; }

# free_port: a free UDP port on 127.0.0.1 (SIPp has no port 0): bind 0, read it, let it go.
free_port()
{
  python3 -c 'import socket; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# register_port USER PORT: register sip:USER@b.example with the contact 127.0.0.1:PORT, sent
# from that port; fails unless 200.
register_port()
{
  local out
  out=$(printf 'REGISTER sip:b.example SIP/2.0\nVia: SIP/2.0/UDP @LOCAL@;branch=@BRANCH@;rport\nMax-Forwards: 70\nFrom: <sip:%s@b.example>;tag=r\nTo: <sip:%s@b.example>\nCall-ID: @CALLID@\nCSeq: 1 REGISTER\nContact: <sip:%s@127.0.0.1:%s>\nExpires: 600\n\n' "$1" "$1" "$1" "$2" | sip "$CORE_UDP" --port "$2")
  expect_eq "$(status <<<"$out")" 200 "REGISTER of $1 on port $2"
}

# sipp_calls CSV: "SUCCESSFUL FAILED" from the last line of a SIPp -trace_stat file.
sipp_calls()
{
  [[ -s $1 ]] || fail "SIPp wrote no statistics ($1)"
  python3 - "$1" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1]), delimiter=';'))
head, last = rows[0], rows[-1]
print(last[head.index('SuccessfulCall(C)')], last[head.index('FailedCall(C)')])
PY
}

# sipp_listening HOST PORT: wait (at most 10 s) until something listens on udp HOST:PORT, as
# a SIPp UAS does once it is ready (SIPp reports no readiness of its own).
sipp_listening()
{
  local i
  for ((i = 0; i < 100; i++)); do
    ss -Hlnu 2>/dev/null | awk '{print $4}' | quiet_grep -xF "$1:$2" && return 0
    sleep 0.1 # bounded poll for a bind; fails below
  done
  fail "nothing listens on udp $1:$2 after 10 s"
}

# sipp_through_core UAS_XML UAC_XML CALLS RATE: a SIPp UAS (tests/lib/sipp/UAS_XML)
# registered as bob@b.example answers CALLS calls that a SIPp UAC (UAC_XML) places through
# the core at RATE/s; fails unless every call succeeded and the UAS finished cleanly.
sipp_through_core()
{
  local uas_port uac_port rc=0 ok failed
  uas_port=$(free_port)
  uac_port=$(free_port)
  register_port bob "$uas_port"
  sipp -sf "$CPM_SOURCE_DIR/tests/lib/sipp/$1" -t u1 -i 127.0.0.1 -p "$uas_port" -nostdin \
    -buff_size 4194304 -m "$3" -timeout 60s >/dev/null 2>"$t/uas.err" 5>&- 6>&- 7>&- 8>&- 9>&- &
  adopt uas $! "$t/uas.err"
  sipp -sf "$CPM_SOURCE_DIR/tests/lib/sipp/$2" -t u1 -i 127.0.0.1 -p "$uac_port" -nostdin \
    -buff_size 4194304 -r "$4" -m "$3" -timeout 60s -trace_stat -stf "$t/uac.csv" \
    "$CORE_UDP" >/dev/null 2>&1 || rc=$?
  read -r ok failed < <(sipp_calls "$t/uac.csv")
  expect_eq "$ok" "$3" "successful calls of $2"
  expect_eq "$failed" 0 "failed calls of $2"
  expect_eq "$rc" 0 "SIPp UAC exit status"
  # The UAS ends after CALLS calls, or at its own -timeout of 60 s.
  wait_exit uas 90 || fail "SIPp UAS ($1) failed"
}
