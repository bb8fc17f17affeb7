#!/usr/bin/env bash
# Chat relay throughput through the focus (issue 3): a group of K members (alice plus K-1
# real `cpm-invite --answer` clients) all joined; alice sends M lines as fast as she can
# (stdin: a file of M lines written into her fifo at once); every line goes to the focus
# (csX) over MSRP and the focus sends it to the K-1 others.
#
# Measured per run: wall time from the moment the M lines are written into alice's stdin to
# the moment every member's stdout holds all M lines (each member writes one fixed-length
# line per message and flushes it; polled by size every 2 ms), and deliveries/s =
# M x (K-1) / seconds. CPU (utime+stime from /proc/PID/stat, before and after) of the focus,
# alice, the members together, and the cores, per delivery.
# Every program is started fresh for every run. Writes bench/results/group-relay-<date>.txt.
# Not run by CI. Usage: bench/group-relay.sh [K [M]]   (default K=10, M=20000); REPS (3).
# PERF_OUT=FILE: also `perf record -e cpu-clock` the focus during each run (FILE.rN).
set -u -o pipefail
. "$(dirname "$0")/lib.sh" # release build, flow harness, cpu_ticks
need python3

k=${1:-10}
m=${2:-20000}
reps=${REPS:-3}
limit_s=${LIMIT_S:-120} # a run that has not delivered everything by then fails
((k >= 3 && k <= 200 && m >= 1 && m <= 1000000)) || { echo "K in 3..200, M in 1..1e6" >&2; exit 2; }
START_TIMEOUT=30

# The lab (127.0.11.x, rewritten by lab_config): alice in a.example through coreA/csA as in
# Figure 1; the group sip:big@x.example on csX; the members m01.. in m.example at coreM.
python3 - "$k" >"$t/relay.src.toml" <<'PY'
import sys
k = int(sys.argv[1])
def node(name, role, ip, **kv):
    s = f'[[node]]\nname = "{name}"\nrole = "{role}"\nlisten = ["udp:127.0.11.{ip}:5060", "tcp:127.0.11.{ip}:5060"]\n'
    return s + ''.join(f'{a} = {b}\n' for a, b in kv.items()) + '\n'
out = [node("coreA", "core", 1, domain='"a.example"', peers='{ "x.example" = "coreX" }'),
       node("csA", "conversation-server", 2, domain='"a.example"', proxy='"coreA"'),
       node("alice", "client", 10, **{"from": '"sip:alice@a.example"', "proxy": '"coreA"'}),
       node("coreX", "core", 3, domain='"x.example"',
            peers='{ "a.example" = "coreA", "m.example" = "coreM" }'),
       node("csX", "conversation-server", 4, domain='"x.example"', proxy='"coreX"'),
       node("coreM", "core", 5, domain='"m.example"', peers='{ "x.example" = "coreX" }')]
for i in range(1, k):
    out.append(node(f"m{i:02d}", "client", 100 + i,
                    **{"from": f'"sip:m{i:02d}@m.example"', "proxy": '"coreM"'}))
out.append('''[[trigger]]
node = "coreA"
priority = 10
session_case = "originating"
methods = ["MESSAGE", "INVITE"]
headers = { "Accept-Contact" = '3gpp-service\\.ims\\.icsi\\.oma\\.cpm' }
server = "csA"

''')
members = ['"sip:alice@a.example"'] + [f'"sip:m{i:02d}@m.example"' for i in range(1, k)]
out.append('[[group]]\nuri = "sip:big@x.example"\nhost = "csX"\nmembers = [' + ', '.join(members) + ']\n')
print(''.join(out), end='')
PY
# M lines of the same length: each member prints "sip:alice@a.example: msg NNNNNNN\n".
python3 - "$m" >"$t/lines" <<'PY'
import sys
sys.stdout.write(''.join(f"msg {i:07d}\n" for i in range(1, int(sys.argv[1]) + 1)))
PY
line_len=$(( $(printf 'sip:alice@a.example: msg 0000001\n' | wc -c) ))


results=()
load0=$(cut -d' ' -f1-3 /proc/loadavg)
for ((rep = 1; rep <= reps; rep++)); do
  run="r$rep"
  lab_config "$t/relay.src.toml" "$run.toml"
  for node in coreA csA coreX coreM; do
    prog=cpm-core-route
    [[ $node == cs* ]] && prog=cpm-groupd
    start "$run.$node" "$prog" --config "$lab" --node "$node" -q
  done
  start "$run.csX" cpm-groupd --config "$lab" --node csX -v
  members=()
  for ((i = 1; i < k; i++)); do
    mm=$(printf 'm%02d' "$i")
    start "$run.$mm" cpm-invite --config "$lab" --node "$mm" --register --answer --count 1 \
      --no-stdin -q
    members+=("$(pid_of "$run.$mm")")
  done
  mkfifo "$t/$run.alice.in"
  exec 7<>"$t/$run.alice.in"
  cpm-invite --config "$lab" --node alice --register -q sip:big@x.example \
    <"$t/$run.alice.in" >"$t/$run.alice.out" 2>"$t/$run.alice.err" 5>&- 6>&- 7>&- &
  adopt "$run.alice" $! "$t/$run.alice.err"
  alice=$(pid_of "$run.alice")
  wait_for "$t/$run.csX.err" "all $((k - 1)) members joined in" 30
  # Every member's MSRP connection is up before the clock starts.
  for ((i = 0; i < 200; i++)); do
    (($(grep -c "MSRP up with" "$t/$run.csX.err") >= k)) && break
    sleep 0.05 # bounded poll of the focus's log
  done
  focus=$(pid_of "$run.csX")
  cores=("$(pid_of "$run.coreA")" "$(pid_of "$run.csA")" "$(pid_of "$run.coreX")" "$(pid_of "$run.coreM")")
  c0_focus=$(cpu_ticks "$focus") c0_alice=$(cpu_ticks "$alice")
  c0_members=$(cpu_ticks "${members[@]}") c0_cores=$(cpu_ticks "${cores[@]}")
  if [[ -n ${PERF_OUT:-} ]]; then # a flat profile of the focus during the measurement
    perf record -q -e cpu-clock -p "$focus" -o "$PERF_OUT.$run" 2>"$t/$run.perf.err" &
    adopt "$run.perf" $! "$t/$run.perf.err"
    sleep 0.2 # perf attaches asynchronously; profile only (the run is not timed for it)
  fi
  outs=()
  for ((i = 1; i < k; i++)); do outs+=("$t/$run.$(printf 'm%02d' "$i").out"); done
  # The clock: write the M lines into alice's stdin (in the background: the fifo holds
  # 64 KiB), poll the members' outputs until each holds M lines.
  secs=$(python3 - "$t/lines" "$t/$run.alice.in" "$((m * line_len))" "$limit_s" "${outs[@]}" <<'PY'
import os, sys, time, threading
lines, fifo, want, limit, outs = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), sys.argv[5:]
data = open(lines, 'rb').read()
def feed():
    with open(fifo, 'wb') as f:
        f.write(data)
t0 = time.monotonic()
threading.Thread(target=feed, daemon=True).start()
while True:
    sizes = [os.stat(o).st_size for o in outs]
    now = time.monotonic()
    if all(s >= want for s in sizes):
        print(f"{now - t0:.3f}")
        break
    if now - t0 > limit:
        print(f"TIMEOUT({sum(sizes)}/{want * len(outs)})")
        break
    time.sleep(0.002)
PY
)
  c1_focus=$(cpu_ticks "$focus") c1_alice=$(cpu_ticks "$alice")
  c1_members=$(cpu_ticks "${members[@]}") c1_cores=$(cpu_ticks "${cores[@]}")
  if [[ -n ${PERF_OUT:-} ]]; then
    kill -INT "$(pid_of "$run.perf")"
    wait_or_stop "$run.perf" 20 || true
  fi
  exec 7>&- # end of alice's input: she waits for her REPORTs, then BYE
  rc=0
  wait_or_stop "$run.alice" 30 || rc=$?
  ((rc != 124)) || rc=timeout
  stop "$run.csX" || fail "$run: csX did not stop cleanly" # BYE to the members
  for ((i = 1; i < k; i++)); do
    wait_exit "$run.$(printf 'm%02d' "$i")" 20 || fail "$run: member $i exit status $?"
  done
  for node in coreA csA coreX coreM; do stop "$run.$node" || true; done
  row=$(python3 - "$secs" "$m" "$k" "$hz" "$c0_focus" "$c1_focus" "$c0_alice" "$c1_alice" \
    "$c0_members" "$c1_members" "$c0_cores" "$c1_cores" "$rc" <<'PY'
import sys
secs, m, k, hz = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
c = [int(x) for x in sys.argv[5:13]]
rc = sys.argv[13]
d = m * (k - 1)
us = lambda a, b: (b - a) * 1e6 / hz / d
if not secs[0].isdigit():
    print(f"{k} {m} {secs} - - - - - {rc}")
else:
    s = float(secs)
    print(f"{k} {m} {s:.3f} {d / s:.0f} {us(c[0], c[1]):.2f} {us(c[2], c[3]):.2f} "
          f"{us(c[4], c[5]):.2f} {us(c[6], c[7]):.2f} {rc}")
PY
)
  results+=("$row")
  echo "run $rep: $row" >&2
  rm -f "$lab"
  release_prefixes
done

mkdir -p "$here/results"
out=$here/results/group-relay-$(date +%Y%m%d-%H%M%S).txt
{
  echo "# K M seconds deliveries_per_s cpu_us_per_delivery:focus alice members cores alice_exit ($(nproc) cores, load before: $load0, CLK_TCK $hz)"
  printf '%s\n' "${results[@]}"
} | tee "$out"
python3 - "$out" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if not l.startswith('#')]
ok = [r for r in rows if r[3] != '-']
if ok:
    med = lambda i: statistics.median(float(r[i]) for r in ok)
    print(f"# medians over {len(ok)} runs: {med(2):.3f} s, {med(3):.0f} deliveries/s, CPU per delivery "
          f"(us): focus {med(4):.2f}, alice {med(5):.2f}, members {med(6):.2f}, cores {med(7):.2f}")
PY
