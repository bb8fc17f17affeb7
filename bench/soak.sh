#!/usr/bin/env bash
# Soak: the network of Figures 5 and 6 (coreA, csA, coreB, csB from examples/lab-icsi.toml,
# release build) carries alice's pager-mode CPM Messages to bob for DURATION seconds at a
# fixed rate, and the memory of every process is sampled. Not run by CI.
#
# Load: a SIPp UAC on alice's address sends one MESSAGE per call to coreA
# (bench/sipp/cpm-message-uac.xml: CPM ICSI, message/cpim), so that each one goes
# coreA -> csA -> coreA -> coreB -> csB -> coreB -> bob; bob is a SIPp UAS on bob's address
# (bench/sipp/message-uas.xml) that a SIPp client registers with coreB
# (bench/sipp/register-contact.xml), again every --register-every seconds.
#
# Rate: half the knee unless --rate is given. The knee is measured first by a short
# bounded ramp through a fresh network: steps of --step seconds at the rates of --ramp, up
# to the first step with a failed or unfinished transaction or that overran its time; the
# knee is the highest clean step. The soak then runs on a network started anew.
#
# Every --sample seconds the VmRSS, VmHWM, open fds and CPU ticks of each process (the four
# daemons and the two SIPp) go from /proc/PID/status into bench/results/soak-DATE.csv. At
# the end bench/results/soak-DATE.txt gets the summary: first/last/max RSS per process,
# the slope (KiB per minute, least squares over the samples after the first minute, and
# over the second half of the run), the
# RSS table every --table seconds, and the transactions sent, answered 2xx and failed.
#
# Usage: bench/soak.sh [--duration S] [--rate N] [--ramp "R1 R2 ..."] [--step S]
#                      [--sample S] [--table S] [--register-every S]
#        bench/soak.sh --summary CSV [UAC_STAT_CSV]   (summarize a run, finished or not)
# CPM_BIN=DIR runs the programs of another build (default build/release/tools).
# Defaults: --duration 3600, --ramp "250 500 750 1000 1250 1500 2000 2500 3000 4000 5000",
# --step 10, --sample 10, --table 300, --register-every 600.
set -u -o pipefail
here=$(cd "$(dirname "$0")" && pwd)

# summary CSV [UAC_STAT] [TABLE_S]: the summary of a sample file and SIPp's statistics.
summary()
{
  python3 - "$1" "${2:-}" "${3:-300}" <<'PY'
import csv, sys
path, stat, table_s = sys.argv[1], sys.argv[2], int(sys.argv[3])
rows = list(csv.DictReader(open(path)))
names = []
for r in rows:
    if r['name'] not in names:
        names.append(r['name'])
by = {n: [r for r in rows if r['name'] == n] for n in names}

def slope(pts):  # least squares, y per x
    if len(pts) < 2:
        return float('nan')
    mx = sum(x for x, _ in pts) / len(pts)
    my = sum(y for _, y in pts) / len(pts)
    sxx = sum((x - mx) ** 2 for x, _ in pts)
    return sum((x - mx) * (y - my) for x, y in pts) / sxx if sxx else float('nan')

end = max(int(r['elapsed_s']) for r in rows)
print(f"samples: {len(rows)} over {end} s ({end / 60:.1f} min)")
print()
print("| process | RSS first KiB | RSS at 1 min | RSS last KiB | RSS max KiB | slope after 1 min KiB/min | slope, 2nd half KiB/min | HWM last KiB | fds first/last/max |")
print("|---|---|---|---|---|---|---|---|---|")
for n in names:
    s = by[n]
    rss = [int(r['rss_kib']) for r in s]
    fds = [int(r['fds']) for r in s]
    late = [(int(r['elapsed_s']) / 60, int(r['rss_kib'])) for r in s if int(r['elapsed_s']) >= 60]
    at1 = late[0][1] if late else rss[0]
    half = [(m, y) for m, y in late if m * 60 >= end / 2]
    print(f"| {n} | {rss[0]} | {at1} | {rss[-1]} | {max(rss)} | {slope(late):.2f} | {slope(half):.2f} | {s[-1]['hwm_kib']} | {fds[0]}/{fds[-1]}/{max(fds)} |")
print()
print(f"RSS (KiB) every {table_s // 60} min (the sample nearest each mark):")
print()
print("| min | " + " | ".join(names) + " |")
print("|---" * (len(names) + 1) + "|")
for mark in range(0, end + 1, table_s):
    cells = []
    for n in names:
        best = min(by[n], key=lambda r: abs(int(r['elapsed_s']) - mark))
        cells.append(best['rss_kib'] if abs(int(best['elapsed_s']) - mark) <= table_s // 2 else '-')
    print(f"| {mark // 60} | " + " | ".join(cells) + " |")
if stat:
    try:
        st = list(csv.reader(open(stat), delimiter=';'))
        head, last = st[0], st[-1]
        col = lambda k: int(last[head.index(k)]) if k in head else 0
        print()
        created, ok, failed = col('TotalCallCreated'), col('SuccessfulCall(C)'), col('FailedCall(C)')
        print(f"transactions: sent {created}, 2xx {ok}, failed {failed}, unfinished {created - ok - failed}, "
              f"retransmissions {col('Retransmissions(C)')}")
        why = {k: col(k) for k in head if k.startswith('Failed') and k.endswith('(C)') and k != 'FailedCall(C)' and col(k)}
        if why:
            print("failures by kind:", ", ".join(f"{k} {v}" for k, v in why.items()))
    except (OSError, IndexError, ValueError) as e:
        print(f"(no SIPp statistics: {e})")
PY
}

if [[ ${1:-} == --summary ]]; then
  [[ -r ${2:-} ]] || { echo "soak: --summary CSV [UAC_STAT_CSV]" >&2; exit 2; }
  summary "$2" "${3:-}" "${TABLE_S:-300}"
  exit
fi

duration=3600 rate=0 ramp="250 500 750 1000 1250 1500 2000 2500 3000 4000 5000" step_s=10
sample_s=10 table_s=300 register_every=600
while (($#)); do
  case $1 in
  --duration) duration=$2; shift 2 ;;
  --rate) rate=$2; shift 2 ;;
  --ramp) ramp=$2; shift 2 ;;
  --step) step_s=$2; shift 2 ;;
  --sample) sample_s=$2; shift 2 ;;
  --table) table_s=$2; shift 2 ;;
  --register-every) register_every=$2; shift 2 ;;
  -h | --help) sed -n '2,30p' "$0"; exit 0 ;;
  *) echo "soak: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

. "$here/lib.sh" # release build, flow harness ($t, start/stop/adopt, lab_config), cpu_ticks
need sipp python3 ss
mkdir -p "$here/results"
stamp=$(date -u +%Y%m%d-%H%M%S)
csv=$here/results/soak-$stamp.csv out=$here/results/soak-$stamp.txt
uac_stat=$here/results/soak-$stamp-uac.csv

lab_config "$examples/lab-icsi.toml" lab.toml
coreA=${lab_prefix}1.1 coreB=${lab_prefix}2.1 alice=${lab_prefix}1.10 bob=${lab_prefix}2.10
nodes=(coreA csA coreB csB)

# network: start the four daemons and bob (the SIPp UAS, registered).
network()
{
  local n
  for n in coreA coreB; do start "$n" cpm-core-route --config "$lab" --node "$n"; done
  for n in csA csB; do start "$n" cpm-groupd --config "$lab" --node "$n"; done
  sipp -sf "$here/sipp/message-uas.xml" -t u1 -i "$bob" -p 5060 -nostdin -buff_size 4194304 \
    >/dev/null 2>"$t/uas.err" 5>&- 6>&- 7>&- 8>&- 9>&- &
  adopt uas $! "$t/uas.err"
  sipp_listening "$bob" 5060
  register_bob || fail "bob's registration with coreB failed"
}

# network_down: stop what network started; the daemons must exit 0.
network_down()
{
  local n
  stop uas 2>/dev/null || true
  for n in csA csB coreA coreB; do stop "$n" || fail "$n did not stop cleanly"; done
}

# register_bob: one REGISTER of bob's Contact (the UAS) with coreB; 0 on 200.
register_bob()
{
  sipp -sf "$here/sipp/register-contact.xml" -t u1 -i "$bob" -p 5061 -nostdin \
    -key user bob -key domain b.example -key contact "$bob:5060" \
    -key expires $((register_every * 2)) -m 1 -timeout 20s "$coreB:5060" \
    >/dev/null 2>>"$t/register.err" 5>&- 6>&- 7>&- 8>&- 9>&-
}

# uac RATE CALLS TIMEOUT_S STAT_CSV [STAT_PERIOD_S]: alice's SIPp UAC, in the foreground.
uac()
{
  sipp -sf "$here/sipp/cpm-message-uac.xml" -t u1 -i "$alice" -p 5060 -nostdin \
    -buff_size 4194304 -r "$1" -m "$2" -l $(($1 * 4)) -timeout "$3s" \
    -trace_stat -stf "$4" -fd "${5:-60}" "$coreA:5060" >/dev/null 2>>"$t/uac.err" \
    5>&- 6>&- 7>&- 8>&- 9>&-
}

# ok_failed STAT_CSV CALLS: "SUCCESSFUL FAILED", calls never finished counted as failed.
ok_failed()
{
  local ok failed
  read -r ok failed < <(sipp_calls "$1")
  echo "$ok $((failed + $2 - ok - failed))"
}

{
  echo "# bench/soak.sh, started $(date -u '+%F %T') UTC; commit $(git -C "$top" rev-parse --short HEAD)$(
    git -C "$top" diff --quiet HEAD -- libcpm tools || echo ' (with uncommitted changes)')"
  echo "# $(nproc) cores, load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$out"

if ((rate == 0)); then
  network
  knee=0
  for r in $ramp; do
    n=$((r * step_s))
    t0=$(date +%s%N)
    uac "$r" "$n" $((step_s * 3)) "$t/ramp-$r.csv" || true
    wall_ms=$((($(date +%s%N) - t0) / 1000000))
    read -r ok failed < <(ok_failed "$t/ramp-$r.csv" "$n")
    echo "# ramp: $r/s for ${step_s}s: $ok ok, $failed failed, ${wall_ms} ms" | tee -a "$out" >&2
    # Clean: nothing failed and the step kept its rate (its last answers within 2 s).
    ((failed == 0 && wall_ms <= step_s * 1000 + 2000)) || break
    knee=$r
  done
  network_down
  ((knee > 0)) || fail "the knee is below the first ramp step ($ramp)"
  rate=$((knee / 2))
  echo "# knee $knee/s: the soak runs at $rate/s" | tee -a "$out" >&2
fi

# sample ELAPSED: one line per process into $csv.
sample()
{
  local n pid rss hwm fds
  for n in "${nodes[@]}" uac uas; do
    pid=$(pid_of "$n")
    [[ -n $pid && -r /proc/$pid/status ]] || continue
    rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")
    hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status")
    fds=$(find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
    echo "$1,$(date -u +%T),$n,$pid,${rss:-0},${hwm:-0},$fds,$(cpu_ticks "$pid")" >>"$csv"
  done
}

network
echo "elapsed_s,utc,name,pid,rss_kib,hwm_kib,fds,cpu_ticks" >"$csv"
calls=$((rate * duration))
echo "# soak: $rate/s for ${duration}s ($calls MESSAGE transactions), samples every ${sample_s}s in $csv" |
  tee -a "$out" >&2
# Not `uac ... &`: that would be a subshell, and its PID not SIPp's.
sipp -sf "$here/sipp/cpm-message-uac.xml" -t u1 -i "$alice" -p 5060 -nostdin \
  -buff_size 4194304 -r "$rate" -m "$calls" -l $((rate * 4)) -timeout $((duration + 120))s \
  -trace_stat -stf "$uac_stat" -fd "$sample_s" "$coreA:5060" >/dev/null 2>>"$t/uac.err" \
  5>&- 6>&- 7>&- 8>&- 9>&- &
adopt uac $! "$t/uac.err"
t0=$(date +%s) next_reg=$register_every reg_failed=0
# Bounded: the UAC ends after DURATION s (its -timeout is DURATION + 120 s); at most
# DURATION/SAMPLE + 30 more samples are taken while it finishes.
for ((i = 0; i <= duration / sample_s + 30; i++)); do
  el=$(($(date +%s) - t0))
  sample "$el"
  alive uac || break
  if ((el >= next_reg)); then
    register_bob || reg_failed=$((reg_failed + 1))
    next_reg=$((next_reg + register_every))
  fi
  wake=$((t0 + (i + 1) * sample_s - $(date +%s)))
  ((wake <= 0)) || sleep "$wake" # the sampling period, not a synchronization
done
uac_rc=0
if alive uac; then
  echo "# the UAC was still running after the last sample: stopped" | tee -a "$out" >&2
  stop uac 2>/dev/null || uac_rc=$?
else
  wait_exit uac 5 || uac_rc=$?
fi
echo "# ended $(date -u '+%F %T') UTC; SIPp UAC exit status $uac_rc; bob's re-registrations failed: $reg_failed" >>"$out"
for n in "${nodes[@]}"; do
  echo "# stderr of $n: $(wc -l <"$t/$n.err") lines$( [[ -s $t/$n.err ]] && echo ", last: $(tail -n1 "$t/$n.err")")" >>"$out"
done
network_down
summary "$csv" "$uac_stat" "$table_s" >>"$out"
cat "$out"
