#!/usr/bin/env bash
# MESSAGE throughput of cpm-core-route against Kamailio (transaction-stateful relay with
# record-route, 1 worker), both driven by the same SIPp UAC/UAS in the same run; and the
# latency each adds at 1,000/s over the direct path (SIPp UAC -> UAS, no proxy).
# Writes bench/results/core-throughput-<date>.txt and prints a summary.
# Not run by CI. Usage: bench/core-throughput.sh [RATES...]   (default: 1000 2000 5000 10000 20000 30000 40000)
#   CPM_RATES / KAM_RATES (space-separated) override RATES per proxy; STEP_S the step length
#   (default 10 s).
#   LAT_RATE (default 1000): the step in which latency is measured (added to a proxy's
#   rates when missing), with SIPp's -trace_rtt and the µs probe bench/sip-latency.py at
#   PROBE_RATE (default 200) MESSAGEs/s beside the load; DIRECT=0 skips the direct step.
#   PROXIES (default "cpm kamailio"): which proxies to run.
#   PERF_OUT=FILE: an extra cpm step at PERF_RATE (default 10000) under
#   `perf record -e cpu-clock --call-graph dwarf`; the data in FILE, a flat top 25 in the
#   results file. That step is reported apart (perf's sampling costs the proxy CPU).
set -u -o pipefail
. "$(dirname "$0")/lib.sh" # release build, flow harness, cpu_ticks_tree
need sipp kamailio python3
[[ -z ${PERF_OUT:-} ]] || need perf
rates=("$@")
[[ ${#rates[@]} -gt 0 ]] || rates=(1000 2000 5000 10000 20000 30000 40000)
step_s=${STEP_S:-10}
lat_rate=${LAT_RATE:-1000}
probe_rate=${PROBE_RATE:-200}
perf_rate=${PERF_RATE:-10000}
ip=127.0.9.1
uas_port=5090 proxy_port=5070

# run_step NAME PROXY_PID RATE [TARGET_PORT] -> prints one row of the results file:
# "name rate calls failed cpu_us_per_txn sipp_p50_ms sipp_p99_ms probe_p50_us probe_p99_us
# probe_answered/sent" ("-" where not measured: latency only in the LAT_RATE step; no CPU
# without a proxy PID). In the LAT_RATE step the probe's transactions count in the CPU
# figure: the proxy relayed them too.
run_step() {
  local name=$1 ppid=$2 rate=$3 port=${4:-$proxy_port} n=$(( $3 * step_s ))
  local c0=0 c1=0 dir=$t/$1-$3 probe=- lat=0
  local -a rtt=()
  mkdir -p "$dir"
  if ((rate == lat_rate)) && [[ $name != *-warmup ]]; then
    lat=1
    # SIPp writes its -trace_rtt file into its working directory (hence the cd below).
    rtt=(-trace_rtt -rtt_freq 1000)
    python3 "$here/sip-latency.py" --local $ip --target "$ip:$port" --rate "$probe_rate" \
      --seconds "$step_s" --samples "$dir/probe.us" >"$dir/probe.out" 2>"$dir/probe.err" &
    adopt "$name-probe" $! "$dir/probe.err"
  fi
  [[ -z $ppid ]] || c0=$(cpu_ticks_tree "$ppid")
  (cd "$dir" && sipp -sf "$here/sipp/message-uac.xml" -t u1 -i $ip -p 5080 -nostdin \
    -buff_size 4194304 -r "$rate" -m "$n" -l $(( rate * 2 )) -max_non_invite_retrans 4 \
    -timeout $(( step_s * 3 ))s "${rtt[@]}" -trace_stat -stf "$dir/stat.csv" -fd 1 \
    $ip:"$port" >/dev/null 2>&1) || true
  if ((lat)); then
    wait_exit "$name-probe" $(( step_s + 5 )) || true # bounded by its --seconds
    probe=$dir/probe.out
  fi
  [[ -z $ppid ]] || c1=$(cpu_ticks_tree "$ppid")
  python3 - "$dir" "$name" "$rate" "$n" "$c0" "$c1" "$hz" "${ppid:--}" "$probe" <<'PY'
import csv, glob, sys
d, name, rate, n, c0, c1, hz, ppid, probe = sys.argv[1:]
rows = list(csv.reader(open(f"{d}/stat.csv"), delimiter=';'))
head, last = rows[0], rows[-1]
def col(k): return int(last[head.index(k)])
ok, failed = col('SuccessfulCall(C)'), col('FailedCall(C)')
failed += int(n) - ok - failed  # calls never finished count as failed
# SIPp's response times (-trace_rtt: one "date;ms;rtd" row per response), whole ms.
rtt = []
for f in glob.glob(f"{d}/*_rtt.csv"):
    for r in list(csv.reader(open(f), delimiter=';'))[1:]:
        rtt.append(float(r[1]))
rtt.sort()
pct = lambda v, q: v[min(len(v) - 1, int(q * len(v)))]
sp50, sp99 = (f"{pct(rtt, .5):g}", f"{pct(rtt, .99):g}") if rtt else ("-", "-")
p50 = p99 = pn = "-"
extra = 0
if probe != "-":
    f = open(probe).read().split()
    if len(f) >= 6 and f[3] != "-":
        p50, p99, pn = f[3], f[5], f"{f[1]}/{f[0]}"
        extra = int(f[1])
cpu = "-"
if ppid != "-":
    cpu = f"{(int(c1) - int(c0)) * 1e6 / int(hz) / max(ok + extra, 1):.1f}"
print(f"{name} {rate} {ok} {failed} {cpu} {sp50} {sp99} {p50} {p99} {pn}")
PY
}

start_uas() {
  sipp -sf "$here/sipp/message-uas.xml" -t u1 -i $ip -p $uas_port -nostdin -buff_size 4194304 \
    >/dev/null 2>&1 &
  adopt uas $!
}

# perf_step PROXY_PID: the PERF_RATE step under perf record; its row and a flat profile
# go to $perf_rows.
perf_rows=$t/perf.rows
# perf_flat KEYS N: the first N rows of a flat report of $PERF_OUT sorted by KEYS, as
# comments (the padding perf adds to the symbol column cut, long C++ names cut at 160).
perf_flat() {
  perf report -i "$PERF_OUT" --no-children --sort "$1" --stdio -g none 2>/dev/null |
    grep -E '^ +[0-9.]+%' | head -n "$2" |
    sed -E 's/[[:space:]]+-[[:space:]]+-[[:space:]]*$//; s/[[:space:]]+$//; s/^/# /' | cut -c1-160
}
perf_step() {
  perf record -q -e cpu-clock -F 999 --call-graph dwarf -p "$1" -o "$PERF_OUT" \
    >"$t/perf.out" 2>"$t/perf.err" &
  adopt perf $! "$t/perf.err"
  sleep 0.2 # perf attaches asynchronously; profile only (this step's CPU is not compared)
  local row
  row=$(run_step cpm-perf "$1" "$perf_rate")
  kill -INT "$(pid_of perf)"
  wait_or_stop perf 60 || true
  {
    echo "# perf record -e cpu-clock -F 999 --call-graph dwarf -p <cpm-core-route> during this step:"
    echo "# $row"
    echo "# perf report --no-children --sort dso,symbol (top 25, of $PERF_OUT):"
    perf_flat dso,symbol 25
    echo "# perf report --sort dso:"
    perf_flat dso 10
  } >"$perf_rows"
  echo "$row (under perf)" >&2
}

results=()
bench_proxy() {
  local name=$1 ppid; shift
  "$@" >"$t/$name.out" 2>"$t/$name.err" &
  adopt "$name" $! "$t/$name.err"
  ppid=$(pid_of "$name")
  # Wait until the proxy relays: a SIPp run of 10 calls (bounded: 50 tries).
  for _ in $(seq 50); do
    if sipp -sf "$here/sipp/message-uac.xml" -t u1 -i $ip -p 5081 -nostdin -m 10 -r 100 \
         -timeout 2s $ip:$proxy_port >/dev/null 2>&1; then break; fi
  done
  # Warm-up at the first rate (first-touch page faults, notes/bench-peers.md pitfall 3).
  local -a my_rates
  read -r -a my_rates <<<"$step_rates"
  [[ " ${my_rates[*]} " == *" $lat_rate "* ]] || my_rates=("$lat_rate" "${my_rates[@]}")
  run_step "$name-warmup" "$ppid" "${my_rates[0]}" >/dev/null
  [[ $name != cpm || -z ${PERF_OUT:-} ]] || perf_step "$ppid"
  for r in "${my_rates[@]}"; do
    results+=("$(run_step "$name" "$ppid" "$r")")
    echo "${results[-1]}" >&2
  done
  stop "$name" 2>/dev/null || true
}

load0=$(cut -d' ' -f1-3 /proc/loadavg)
start_uas
if [[ ${DIRECT:-1} == 1 ]]; then
  run_step direct-warmup "" "$lat_rate" $uas_port >/dev/null
  results+=("$(run_step direct "" "$lat_rate" $uas_port)")
  echo "${results[-1]}" >&2
fi
proxies=" ${PROXIES:-cpm kamailio} "
if [[ $proxies == *" cpm "* ]]; then
  step_rates=${CPM_RATES:-${rates[*]}}
  bench_proxy cpm "$CPM_BIN/cpm-core-route" -q --domain a.example --listen udp:$ip:$proxy_port \
    --peer b.example=udp:$ip:$uas_port
fi
if [[ $proxies == *" kamailio "* ]]; then
  step_rates=${KAM_RATES:-${rates[*]}}
  kam_dir=$t/kam; mkdir -p "$kam_dir"
  bench_proxy kamailio kamailio -DD -E -x fm -m 4096 -M 64 -f "$here/kamailio.cfg" -w "$kam_dir" \
    -Y "$kam_dir" -l udp:$ip:$proxy_port -A "UAS=\"sip:$ip:$uas_port\""
fi

mkdir -p "$here/results"
out=$here/results/core-throughput-$(date +%Y%m%d-%H%M%S).txt
{
  echo "# proxy rate_per_s successful failed cpu_us_per_transaction sipp_rtt_p50_ms sipp_rtt_p99_ms probe_p50_us probe_p99_us probe_answered/sent"
  echo "# step ${step_s}s, $(nproc) cores, load before: $load0, commit $(git -C "$top" rev-parse --short HEAD 2>/dev/null)"
  echo "# latency in the ${lat_rate}/s step: SIPp -trace_rtt (whole ms, coarse clock) and bench/sip-latency.py at ${probe_rate}/s beside it (µs)"
  printf '%s\n' "${results[@]}"
  [[ ! -s $perf_rows ]] || cat "$perf_rows"
  echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$out"
python3 - "$out" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1]) if not l.startswith('#')]
best, cpu, lat = {}, {}, {}
for name, rate, ok, failed, us, sp50, sp99, p50, p99, pn in rows:
    if int(failed) == 0 and name != 'direct':
        best[name] = max(best.get(name, 0), int(rate))
    if us != '-':
        cpu.setdefault(name, []).append((int(rate), float(us)))
    if p50 != '-':
        lat[name] = (float(p50), float(p99), sp50, sp99)
print("zero-failure rate:", {k: v for k, v in best.items()})
common = sorted(set(r for r, _ in cpu.get('cpm', [])) & set(r for r, _ in cpu.get('kamailio', [])))
for r in common:
    c = dict(cpu['cpm'])[r]; k = dict(cpu['kamailio'])[r]
    print(f"at {r}/s: cpu per transaction cpm {c:.1f} us, kamailio {k:.1f} us, ratio cpm/kamailio {c/k:.2f}")
if 'cpm' in best and 'kamailio' in best:
    print(f"zero-failure rate ratio cpm/kamailio: {best['cpm']/best['kamailio']:.2f}")
for name, (p50, p99, sp50, sp99) in lat.items():
    line = f"latency {name}: p50 {p50:.0f} us, p99 {p99:.0f} us (SIPp: p50 {sp50} ms, p99 {sp99} ms)"
    if name != 'direct' and 'direct' in lat:
        line += f"; added over direct: p50 {p50 - lat['direct'][0]:.0f} us, p99 {p99 - lat['direct'][1]:.0f} us"
    print(line)
PY
