# Helpers for the core-*.sh flow tests (sourced). (Single-core tests; lab networks use flow.sh.)
set -euo pipefail
: "${CPM_BIN:?CPM_BIN not set}"
: "${CPM_SOURCE_DIR:?CPM_SOURCE_DIR not set}"
: "${CPM_DATA:=$CPM_SOURCE_DIR/tests/data}"
flows=$CPM_SOURCE_DIR/tests/flows
t=$(mktemp -d "${TMPDIR:-/tmp}/cpm-core.XXXXXX")
core_pids=()
cleanup() {
  local p
  for p in "${core_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${core_pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$t"
}
trap cleanup EXIT

die() { echo "FAIL: $*" >&2; [[ -f $t/core.err ]] && sed 's/^/  core: /' "$t/core.err" >&2; exit 1; }
skip_without() { command -v "$1" >/dev/null || { [[ ${CI:-} == true ]] && die "$1 missing"; echo "skipped: no $1"; exit 77; }; }

# start_core ARGS...: start cpm-core-route, wait for its ready line; sets CORE_UDP, CORE_TCP
# (host:port) and CORE_PID. stderr goes to $t/core.err.
start_core() {
  local fifo=$t/ready.$RANDOM
  mkfifo "$fifo"
  "$CPM_BIN/cpm-core-route" --ready-fd 3 "$@" 3>"$fifo" 2>>"$t/core.err" &
  CORE_PID=$!
  core_pids+=("$CORE_PID")
  local line=""
  read -r line <"$fifo" || true
  rm -f "$fifo"
  [[ -n $line ]] || die "core did not become ready"
  CORE_UDP="" CORE_TCP=""
  local a
  for a in $line; do
    case $a in
    udp:*) [[ -n $CORE_UDP ]] || CORE_UDP=${a#udp:} ;;
    tcp:*) [[ -n $CORE_TCP ]] || CORE_TCP=${a#tcp:} ;;
    esac
  done
}

stop_core() {
  kill -TERM "$CORE_PID"
  local rc=0
  wait "$CORE_PID" || rc=$?
  [[ $rc -eq 0 ]] || die "core exited with $rc on SIGTERM"
}

# sip ADDR [sip_client.py options] < request: print the final response.
sip() { python3 "$CPM_SOURCE_DIR/tests/lib/sip_client.py" "$@"; }

# status < response: the status code of the first line.
status() { head -n1 | awk '{print $2}'; }

expect_eq() { [[ "$1" == "$2" ]] || die "${3:-value}: expected '$2', got '$1'"; }

# SIPp peers (core-sipp*.sh) -------------------------------------------------------------

# free_port: a free UDP port on 127.0.0.1 (SIPp has no port 0): bind 0, read it, let it go.
free_port() { python3 -c 'import socket; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# register_port USER PORT: register sip:USER@b.example with the contact 127.0.0.1:PORT, sent
# from that port (the core routes to the REGISTER's source); fails unless 200.
register_port() {
  local out
  out=$(printf 'REGISTER sip:b.example SIP/2.0\nVia: SIP/2.0/UDP @LOCAL@;branch=@BRANCH@;rport\nMax-Forwards: 70\nFrom: <sip:%s@b.example>;tag=r\nTo: <sip:%s@b.example>\nCall-ID: @CALLID@\nCSeq: 1 REGISTER\nContact: <sip:%s@127.0.0.1:%s>\nExpires: 600\n\n' "$1" "$1" "$1" "$2" | sip "$CORE_UDP" --port "$2")
  expect_eq "$(status <<<"$out")" 200 "REGISTER of $1 on port $2"
}

# sipp_calls CSV: "SUCCESSFUL FAILED" from the last line of a SIPp -trace_stat file.
sipp_calls() {
  [[ -s $1 ]] || die "SIPp wrote no statistics ($1)"
  python3 - "$1" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1]), delimiter=';'))
head, last = rows[0], rows[-1]
print(last[head.index('SuccessfulCall(C)')], last[head.index('FailedCall(C)')])
PY
}

# sent TRACE PREFIX: how many messages the traced node sent whose first line starts so.
sent() {
  python3 - "$1" "$2" <<'PY'
import json, sys
print(sum(1 for line in open(sys.argv[1])
          if (e := json.loads(line))["dir"] == "tx" and e["first_line"].startswith(sys.argv[2])))
PY
}

# sipp_through_core UAS_XML UAC_XML CALLS RATE: a SIPp UAS (tests/lib/sipp/UAS_XML)
# registered as bob@b.example answers CALLS calls that a SIPp UAC (UAC_XML) places through
# the core at RATE/s; fails unless every call succeeded and the UAS finished cleanly.
sipp_through_core() {
  local uas_port uac_port uas rc=0 ok failed
  uas_port=$(free_port)
  uac_port=$(free_port)
  register_port bob "$uas_port"
  sipp -sf "$CPM_SOURCE_DIR/tests/lib/sipp/$1" -t u1 -i 127.0.0.1 -p "$uas_port" -nostdin \
    -buff_size 4194304 -m "$3" -timeout 60s >/dev/null 2>&1 &
  uas=$!
  core_pids+=("$uas")
  sipp -sf "$CPM_SOURCE_DIR/tests/lib/sipp/$2" -t u1 -i 127.0.0.1 -p "$uac_port" -nostdin \
    -buff_size 4194304 -r "$4" -m "$3" -timeout 60s -trace_stat -stf "$t/uac.csv" \
    "$CORE_UDP" >/dev/null 2>&1 || rc=$?
  read -r ok failed < <(sipp_calls "$t/uac.csv")
  expect_eq "$ok" "$3" "successful calls of $2"
  expect_eq "$failed" 0 "failed calls of $2"
  expect_eq "$rc" 0 "SIPp UAC exit status"
  wait "$uas" || die "SIPp UAS ($1) failed"
}
