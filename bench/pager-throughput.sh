#!/usr/bin/env bash
# Pager-mode throughput of the whole Figure 5+6 path of FLOWS.md (issue 13), not run by CI:
#
#   alice `cpm-send --lines --rate R --notify delivery --wait` -> coreA -> csA -> coreA ->
#   coreB -> csB -> coreB -> bob `cpm-send --receive`; bob's delivery notification back
#   coreB -> csB -> coreB -> coreA -> csA -> coreA -> alice
#
# (examples/lab-icsi.toml: the cores trigger on the CPM ICSI; SIP over UDP; the release
# build.) Every program is started afresh for every rate, on a free 127.K. prefix (the flow
# harness: --ready-fd readiness, cleanup at exit).
#
# Measured per rate, N = R x STEP_S messages (one line each on alice's stdin):
#   notified/s  messages whose delivery notification alice received, over the time from her
#               first MESSAGE sent (first response time - its latency) to the last notification
#   lost        not delivered (a line alice sent whose text bob never printed) plus delivered
#               but not notified (a message_id bob printed that no notification at alice
#               names); from alice's and bob's --json outputs. A pass needs lost = 0 and
#               every line notified.
#   CPU         utime + stime per notified message of coreA, csA, coreB, csB, bob (from
#               /proc/PID/stat before and after) and alice (her whole run, bash `time`).
#
# Usage: bench/pager-throughput.sh [RATE...]   (default 1000 2000 5000 8000)
#   STEP_S     seconds of messages per rate (default 10: N = RATE x STEP_S)
#   WINDOW     cpm-send --window (default 256: at 64 the window, not the path, may set the rate)
#   LIMIT_S    alice's run is stopped after this many seconds (default 300; the row then
#              says "exit 124" and fails): a path far slower than offered ends anyway
#   PATH_MTU   every node's path_mtu (cpm.toml(5)); default none: RFC 3261 §18.1.1 sends a
#              request over 1300 bytes over TCP, which the later hops of Figure 5+6 are (their
#              Via lists grow), so half the path is TCP. 65535 (loopback's MTU, known) keeps
#              every hop on UDP
#   CPM_BIN    programs of another build (default build/release/tools)
# Writes bench/results/pager-throughput-<date>.txt and prints it.
set -u -o pipefail
. "$(dirname "$0")/lib.sh" # release build, flow harness ($t, start/stop/adopt, lab_config)
need python3
rates=("$@")
((${#rates[@]})) || rates=(1000 2000 5000 8000)
step_s=${STEP_S:-10}
window=${WINDOW:-256}
limit_s=${LIMIT_S:-300}
path_mtu=${PATH_MTU:-}
if [[ -n $path_mtu ]] && ! [[ $path_mtu =~ ^[0-9]+$ ]]; then
  echo "PATH_MTU: a number of bytes" >&2
  exit 2
fi
for r in "${rates[@]}"; do
  if ! [[ $r =~ ^[0-9]+$ ]] || ((r < 1 || r > 100000)); then
    echo "rates: 1..100000" >&2
    exit 2
  fi
done
procs=(coreA csA coreB csB bob)

# summary ALICE_JSON BOB_JSON N -> "sent ok notified negative not_delivered not_notified
# first_ms last_ms": alice's responses and notifications, bob's messages (texts and ids).
summary()
{
  python3 - "$@" <<'PY'
import datetime, json, sys
alice, bob, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
ts = lambda e: datetime.datetime.fromisoformat(e["time"].replace("Z", "+00:00")).timestamp() * 1000
def events(path):
    for line in open(path, encoding="utf-8", errors="replace"):
        try:
            yield json.loads(line)
        except ValueError:
            continue
status, notified, negative, first, last = {}, set(), set(), None, None
for e in events(alice):
    if e.get("type") == "response":
        status[e["message_id"]] = e.get("status")
        sent_at = ts(e) - float(e.get("latency_ms") or 0)
        first = sent_at if first is None else min(first, sent_at)
    elif e.get("type") == "notification":
        (notified if e.get("status") == "delivered" else negative).add(e["message_id"])
        last = ts(e) if last is None else max(last, ts(e))
texts, ids = set(), set()
for e in events(bob):
    if e.get("type") == "message":
        texts.add(e.get("text", "").rstrip("\n"))
        ids.add(e["message_id"])
lines = {l.rstrip("\n") for l in open(sys.argv[4])}
ok = sum(1 for s in status.values() if s is not None and 200 <= s < 300)
not_delivered = len(lines - texts)
not_notified = len(ids - notified)
print(len(status), ok, len(notified), len(negative), not_delivered, not_notified,
      int(first or 0), int(last or 0))
PY
}

# lab_drops: UDP datagrams dropped for a full receive buffer so far on the lab's sockets
# (the drops column of /proc/net/udp for local addresses in $lab_prefix, and which sockets;
# a drop costs a 500 ms retransmission: notes/bench-peers.md pitfall 4). Read before the
# programs stop. The nodes' addresses are in the lab config (127.K.1.1 coreA, .1.2 csA,
# .1.10 alice, .2.1 coreB, .2.2 csB, .2.10 bob).
lab_drops()
{
  python3 - "$lab_prefix" <<'PY'
import sys
prefix = sys.argv[1]
total, where = 0, []
for line in list(open("/proc/net/udp"))[1:]:
    f = line.split()
    h, port = f[1].split(":")  # the local IPv4 address (little-endian hex) and port (hex)
    ip = ".".join(str(int(h[i:i + 2], 16)) for i in (6, 4, 2, 0))
    if ip.startswith(prefix) and int(f[-1]):
        total += int(f[-1])
        where.append(f"{ip}:{int(port, 16)} {f[-1]}")
print(total, f"({', '.join(where)})" if where else "")
PY
}

mkdir -p "$here/results"
out=$here/results/pager-throughput-$(date +%Y%m%d-%H%M%S).txt
{
  echo "# bench/pager-throughput.sh, started $(date -u '+%F %T') UTC, commit $(git -C "$top" rev-parse --short HEAD 2>/dev/null)"
  echo "# programs: $CPM_BIN"
  echo "# Figure 5+6 (examples/lab-icsi.toml), N = rate x ${step_s} s, cpm-send --window $window"
  if [[ -n $path_mtu ]]; then
    echo "# path_mtu = $path_mtu on every node: every hop over UDP"
  else
    echo "# path_mtu unknown (1300-byte rule, RFC 3261 §18.1.1): the hops whose requests outgrow it over TCP"
  fi
  echo "# $(nproc) cores, load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "# CPU in µs per notified message (utime+stime, CLK_TCK $(getconf CLK_TCK)); lost = not delivered + delivered but not notified"
  echo
  echo "| offered/s | N | 2xx | notified | lost (not delivered + not notified) | notified/s | coreA | csA | coreB | csB | bob | alice | total CPU | pass |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
} >"$out"

for rate in "${rates[@]}"; do
  n=$((rate * step_s))
  run="r$rate"
  lab_config "$examples/lab-icsi.toml" "$run.toml"
  # Registrations and outboxes in memory only: every rate starts from nothing.
  sed -i -E '/^(registrar_db|outbox_db|iwf_db) = /d' "$lab"
  [[ -z $path_mtu ]] || sed -i "/^\[\[node\]\]\$/a path_mtu = $path_mtu" "$lab"
  for node in coreA coreB; do start "$run.$node" cpm-core-route --config "$lab" --node "$node" -q; done
  for node in csA csB; do start "$run.$node" cpm-groupd --config "$lab" --node "$node" -q; done
  start "$run.bob" cpm-send --config "$lab" --node bob --receive --json -q
  seq -f "$run-%07g" 1 "$n" >"$t/$run.in"
  pids=()
  for p in "${procs[@]}"; do pids+=("$(pid_of "$run.$p")"); done
  c0=() c1=()
  for p in "${pids[@]}"; do c0+=("$(cpu_ticks "$p")"); done
  rc=0
  TIMEFORMAT='%U %S'
  { time timeout "$limit_s" cpm-send --config "$lab" --node alice --register --lines --rate "$rate" \
    --window "$window" --notify delivery --wait --timeout 30 --json sip:bob@b.example \
    <"$t/$run.in" >"$t/$run.alice.json" 2>"$t/$run.alice.err" || rc=$?; } 2>"$t/$run.alice.time"
  for p in "${pids[@]}"; do c1+=("$(cpu_ticks "$p")"); done
  drops=$(lab_drops)
  stop "$run.bob" || fail "$run: bob did not stop cleanly: $(tail -3 "$t/$run.bob.err")"
  for node in csA csB coreA coreB; do
    stop "$run.$node" || fail "$run: $node did not stop cleanly: $(tail -3 "$t/$run.$node.err")"
  done
  read -r _sent ok notified _neg not_delivered not_notified first last < \
    <(summary "$t/$run.alice.json" "$t/$run.bob.out" "$n" "$t/$run.in")
  read -r au as <"$t/$run.alice.time"
  python3 - "$rate" "$n" "$ok" "$notified" "$not_delivered" "$not_notified" "$first" "$last" \
    "$(getconf CLK_TCK)" "${c0[*]}" "${c1[*]}" "$au" "$as" "$rc" <<'PY' | tee -a "$out"
import sys
rate, n, ok, notified, nd, nn, first, last, hz = (int(x) for x in sys.argv[1:10])
c0, c1 = [int(x) for x in sys.argv[10].split()], [int(x) for x in sys.argv[11].split()]
alice_s, rc = float(sys.argv[12]) + float(sys.argv[13]), sys.argv[14]
per = lambda us: f"{us / max(notified, 1):.1f}"
cpu = [(b - a) * 1e6 / hz for a, b in zip(c0, c1)] + [alice_s * 1e6]
span = (last - first) / 1000 if last > first else 0
lost = nd + nn
ok_run = lost == 0 and notified == n and rc == "0"
print(f"| {rate} | {n} | {ok} | {notified} | {lost} ({nd} + {nn}) | "
      f"{notified / span if span else 0:.0f} | " + " | ".join(per(c) for c in cpu) +
      f" | {per(sum(cpu))} | {'yes' if ok_run else 'no (alice exit ' + rc + ')'} |")
# Which process sets the pace: its CPU over the run's span, as a share of one core (alice's
# over the same span, though her time also counts her registration).
if span:
    names = "coreA csA coreB csB bob alice".split()
    print("#   share of one core from first send to last notification: " +
          ", ".join(f"{k} {c / 1e6 / span * 100:.0f} %" for k, c in zip(names, cpu)))
PY
  tail -n 1 "$t/$run.alice.err" | sed 's/^/#   alice: /' >>"$out"
  echo "#   UDP datagrams the lab's sockets dropped (receive buffer full): $drops" >>"$out"
  rm -f "$lab"
  release_prefixes
done
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$out"
echo "bench/pager-throughput.sh: $out"
