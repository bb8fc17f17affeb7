#!/usr/bin/env bash
# SMS interworking throughput (issue 10), not run by CI. Two ESMEs submit to the same SMSC
# (cpm-smsc, which answers every submit_sm and sends a delivered receipt for each) in one
# run, one after the other:
#
#   CPM:    alice's `cpm-send --lines --rate R --notify delivery --wait` -> coreA -> csA
#           (interworking decision: tel:+15550100 is no CPM user) -> coreA -> cpm-iwf
#           (SQLite commit, 202) -> submit_sm -> cpm-smsc -> deliver_sm receipt -> cpm-iwf ->
#           IMDN delivered -> coreA -> csA -> coreA -> alice
#   Kannel: HTTP sendsms (curl, 64 requests in flight, keep-alive) -> smsbox -> bearerbox
#           (store-type file) -> submit_sm -> cpm-smsc -> deliver_sm receipt -> bearerbox
#
# Reported per run: messages, accepted (202 at alice / 202 from Kannel's sendsms), notified
# (IMDN delivered at alice / DLRs Kannel received), lost (accepted but never submitted or
# never notified), submitted twice; accepted/s over the sender's wall time, notified/s until
# the last notification, and the SMSC-side rate (submits / first-to-last submit time).
#
# Usage: bench/iwf.sh [N] [RATE...]     (default 20000 messages, rates 5000 10000)
#   CPM_BIN=DIR  programs of another build (default build/release/tools)
#   KANNEL=0     skip Kannel
#   WINDOW=N     cpm-send --window (default 128: at 64 the window, not the IWF, set the rate;
#                far beyond the path's capacity, UDP retransmissions set in)
#   TRANSPORT=tcp  every SIP hop over TCP
#   KANNEL_INFLIGHT=N  curl's parallel requests to Kannel's sendsms (default 64)
# Besides the rates, each run reports the CPU time (user + system, from /proc) that each
# process spent per message: where the machine's two cores go.
# The result goes to bench/results/iwf-DATE.txt and stdout.
set -u -o pipefail
. "$(dirname "$0")/lib.sh" # release build, flow harness ($t, start/stop/adopt, lab_config)
need python3 curl
for p in cpm-smsc cpm-iwf; do
  command -v "$p" >/dev/null || fail "$p is not built (CPM_BIN=$CPM_BIN)"
done
n=${1:-20000}
shift || true
rates=("$@")
((${#rates[@]})) || rates=(5000 10000)
window=${WINDOW:-128}
kinflight=${KANNEL_INFLIGHT:-64}
mkdir -p "$here/results"
out=$here/results/iwf-$(date -u +%Y%m%d-%H%M%S).txt

lab_config "$examples/lab-icsi.toml" lab.toml
nc=${lab_prefix}1.4
# TRANSPORT=tcp: every SIP hop over TCP (each node's tcp listen address first), where no
# retransmission timer runs and no completed transaction lingers for Timer J or K.
if [[ ${TRANSPORT:-udp} == tcp ]]; then
  sed -i -E 's/^listen = \["(udp:[^"]*)", "(tcp:[^"]*)"\]/listen = ["\2", "\1"]/' "$lab"
fi
grep -q '^role = "iwf"' "$lab" || fail "examples/lab-icsi.toml has no iwf node"

# smsc_summary JSONL PREFIX: "submits distinct duplicates rate/s" of the SMS in cpm-smsc's
# --json output whose text starts with PREFIX (one run's), the rate over first-to-last.
smsc_summary()
{
  python3 - "$1" "$2" <<'PY'
import collections, datetime, json, sys
texts, times = collections.Counter(), []
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    if e.get("event") != "sms" or not str(e.get("text", "")).startswith(sys.argv[2]):
        continue
    texts[e["text"]] += 1
    times.append(datetime.datetime.fromisoformat(e["time"].replace("Z", "+00:00")).timestamp())
span = max(times) - min(times) if len(times) > 1 else 0
rate = len(times) / span if span else 0
print(sum(texts.values()), len(texts), sum(c - 1 for c in texts.values()), f"{rate:.0f}")
PY
}

# cpu_ms NAME...: the CPU time (user + system, ms) each process has used so far, one line.
cpu_ms()
{
  local name ticks
  ticks=$(getconf CLK_TCK)
  for name in "$@"; do
    awk -v t="$ticks" '{ sub(/^.*\) /, ""); printf "%d ", ($12 + $13) * 1000 / t }' \
      "/proc/$(pid_of "$name")/stat"
  done
  echo
}

# cpu_line N NAMES BEFORE AFTER [EXTRA]: "# CPU per message: name µs, ..., total µs".
cpu_line()
{
  python3 - "$@" <<'PY'
import sys
n = int(sys.argv[1])
names = sys.argv[2].split()
before = [int(x) for x in sys.argv[3].split()]
after = [int(x) for x in sys.argv[4].split()]
extra = sys.argv[5:]  # name=ms pairs measured another way
parts, total = [], 0.0
for name, b, a in zip(names, before, after):
    us = (a - b) * 1000 / n
    total += us
    parts.append(f"{name} {us:.0f} µs")
for e in extra:
    name, ms = e.split("=")
    us = float(ms) * 1000 / n
    total += us
    parts.append(f"{name} {us:.0f} µs")
print("# CPU per message: " + ", ".join(parts) + f"; total {total:.0f} µs"
      f" (2 cores: at most {2e6 / total:.0f} messages/s)" if total else "# CPU: none measured")
PY
}

# alice_summary JSONL: "sent accepted notified negative duplicates first_ms last_ms" of
# cpm-send's --json events (accepted: 2xx; times from the first response to the last event).
alice_summary()
{
  python3 - "$1" <<'PY'
import collections, datetime, json, sys
status, notes, neg, times = {}, collections.Counter(), 0, []
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    t = e.get("time")
    if t:
        times.append(datetime.datetime.fromisoformat(t.replace("Z", "+00:00")).timestamp())
    if e.get("type") == "response":
        status[e["message_id"]] = e.get("status")
    elif e.get("type") == "notification":
        notes[e["message_id"]] += 1
        neg += e.get("status") != "delivered"
ok = sum(1 for s in status.values() if s is not None and 200 <= s < 300)
dup = sum(c - 1 for c in notes.values())
print(len(status), ok, len(notes), neg, dup,
      int(min(times) * 1000) if times else 0, int(max(times) * 1000) if times else 0)
PY
}

{
  echo "# bench/iwf.sh $n messages a run, started $(date -u '+%F %T') UTC; commit $(git -C "$top" rev-parse --short HEAD)"
  echo "# SIP over ${TRANSPORT:-udp}; cpm-send --window $window; Kannel's sendsms $kinflight requests in flight"
  echo "# $(nproc) cores, load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo
  echo "| sender | offered/s | messages | accepted | notified | lost | submitted twice | accepted/s | notified/s | SMSC submits/s |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
} >"$out"

start nc cpm-smsc --listen "tcp:$nc:2775" --system-id iwf --password iwf-pass --json -q
start coreA cpm-core-route --config "$lab" --node coreA
start csA cpm-groupd --config "$lab" --node csA

run=0
for rate in "${rates[@]}"; do
  run=$((run + 1))
  tag="cpm$run"
  seq -f "$tag %g" 1 "$n" >"$t/$tag.in"
  rm -f "$t/iwf.sqlite"*
  start iwf cpm-iwf --config "$lab" --node iwf --smsc "$nc:2775" --system-id iwf \
    --password iwf-pass --db "$t/iwf.sqlite" -q
  cpu0=$(cpu_ms coreA csA iwf nc)
  t0=$(date +%s%3N)
  rc=0
  TIMEFORMAT='%U %S'
  { time cpm-send --config "$lab" --node alice --register --lines --rate "$rate" \
    --window "$window" --notify delivery --wait --timeout 30 --json tel:+15550100 \
    <"$t/$tag.in" >"$t/$tag.json" 2>"$t/$tag.err" || rc=$?; } 2>"$t/$tag.time"
  t1=$(date +%s%3N)
  cpu1=$(cpu_ms coreA csA iwf nc)
  stop iwf || fail "cpm-iwf did not stop cleanly: $(tail -3 "$t/iwf.err")"
  read -r _sent ok notified negative ndup _first last < <(alice_summary "$t/$tag.json")
  read -r _submits distinct sdup srate < <(smsc_summary "$t/nc.out" "$tag ")
  lost=$((ok - (distinct < notified ? distinct : notified)))
  ((lost >= 0)) || lost=0
  wall=$((t1 - t0)) span=$((last - t0))
  printf '| cpm-iwf (exit %s) | %s | %s | %s | %s (%s negative, %s repeated) | %s | %s | %s | %s | %s |\n' \
    "$rc" "$rate" "$n" "$ok" "$notified" "$negative" "$ndup" "$lost" "$sdup" \
    "$((ok * 1000 / (wall > 0 ? wall : 1)))" "$((notified * 1000 / (span > 0 ? span : 1)))" \
    "$srate" | tee -a "$out"
  tail -n 2 "$t/$tag.err" | sed 's/^/#   alice: /' >>"$out"
  read -r su ss <"$t/$tag.time"
  cpu_line "$n" "coreA csA cpm-iwf cpm-smsc" "$cpu0" "$cpu1" \
    "cpm-send=$(python3 -c "print(($su + $ss) * 1000)")" | tee -a "$out"
done

if [[ ${KANNEL:-1} == 1 ]]; then
  need bearerbox smsbox
  kp=$((14000 + RANDOM % 1000))
  cat >"$t/kannel.conf" <<CONF
group = core
admin-port = $kp
admin-password = bench
smsbox-port = $((kp + 1))
box-allow-ip = "127.0.0.1"
log-level = 4
log-file = "$t/bearerbox.log"
access-log = "$t/bearerbox-access.log"
store-type = file
store-location = "$t/kannel.store"
dlr-storage = internal

group = smsc
smsc = smpp
smsc-id = nc
host = $nc
port = 2775
transceiver-mode = true
smsc-username = iwf
smsc-password = iwf-pass
system-type = ""
max-pending-submits = 10
msg-id-type = 0x00

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = $((kp + 1))
sendsms-port = $((kp + 2))
log-level = 4
log-file = "$t/smsbox.log"

group = sendsms-user
username = bench
password = bench
CONF
  bearerbox "$t/kannel.conf" >"$t/bearerbox.out" 2>"$t/bearerbox.err" </dev/null 5>&- 6>&- 7>&- 8>&- 9>&- &
  adopt bearerbox $! "$t/bearerbox.err"
  status_url="http://127.0.0.1:$kp/status.txt?password=bench"
  # smsbox gives up at once when bearerbox does not answer yet.
  for ((i = 0; i < 300; i++)); do
    curl -s -o /dev/null "$status_url" 2>/dev/null && break
    sleep 0.1 # bounded poll: Kannel has no readiness signal of its own
  done
  smsbox "$t/kannel.conf" >"$t/smsbox.out" 2>"$t/smsbox.err" </dev/null 5>&- 6>&- 7>&- 8>&- 9>&- &
  adopt smsbox $! "$t/smsbox.err"
  for ((i = 0; i < 300; i++)); do
    curl -s "$status_url" 2>/dev/null | grep -q 'nc.*online' &&
      curl -s -o /dev/null "http://127.0.0.1:$((kp + 2))/" 2>/dev/null && break
    sleep 0.1 # bounded poll: Kannel has no readiness signal of its own
  done
  curl -s "$status_url" | grep -q 'nc.*online' || fail "Kannel did not bind to cpm-smsc"
  tag=kannel
  seq -f "$tag %g" 1 "$n" | python3 -c '
import sys, urllib.parse
port = sys.argv[1]
for line in sys.stdin:
    q = urllib.parse.urlencode({"username": "bench", "password": "bench", "from": "+15550900",
        "to": "+15550100", "text": line.rstrip("\n"), "dlr-mask": "1"})
    print(f"url = \"http://127.0.0.1:{port}/cgi-bin/sendsms?{q}\"")
    print("output = /dev/null")
' "$((kp + 2))" >"$t/kannel.curl"
  cpu0=$(cpu_ms bearerbox smsbox nc)
  TIMEFORMAT='%U %S'
  t0=$(date +%s%3N)
  { time curl -s --parallel --parallel-max "$kinflight" -K "$t/kannel.curl" -w '%{http_code}\n' \
    >"$t/kannel.codes" 2>"$t/kannel.curl.err" || true; } 2>"$t/kannel.time"
  t1=$(date +%s%3N)
  ok=$(grep -c '^202$' "$t/kannel.codes" || true)
  # Receipts come back after the last submit: wait until Kannel's status page counts one
  # for each (or nothing changed for 10 s).
  last=-1 same=0
  while ((same < 100)); do
    dlrs=$(curl -s "$status_url" | awk '/^DLR: received/ {sub(",", "", $3); print $3}')
    dlrs=${dlrs:-0}
    ((dlrs >= ok)) && break
    if ((dlrs == last)); then ((same++)); else same=0 last=$dlrs; fi
    sleep 0.1 # bounded poll of Kannel's access log
  done
  t2=$(date +%s%3N)
  cpu1=$(cpu_ms bearerbox smsbox nc)
  read -r _submits distinct sdup srate < <(smsc_summary "$t/nc.out" "$tag ")
  lost=$((ok - (distinct < dlrs ? distinct : dlrs)))
  ((lost >= 0)) || lost=0
  wall=$((t1 - t0)) span=$((t2 - t0))
  printf '| Kannel 1.4.5 | as fast as %s in flight | %s | %s | %s | %s | %s | %s | %s | %s |\n' \
    "$kinflight" "$n" "$ok" "$dlrs" "$lost" "$sdup" "$((ok * 1000 / (wall > 0 ? wall : 1)))" \
    "$((dlrs * 1000 / (span > 0 ? span : 1)))" "$srate" | tee -a "$out"
  read -r su ss <"$t/kannel.time"
  cpu_line "$ok" "bearerbox smsbox cpm-smsc" "$cpu0" "$cpu1" \
    "curl=$(python3 -c "print(($su + $ss) * 1000)")" | tee -a "$out"
  stop smsbox || true
  stop bearerbox || true
fi
stop csA || fail "csA did not stop cleanly"
stop coreA || fail "coreA did not stop cleanly"
stop nc || fail "cpm-smsc did not stop cleanly"
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$out"
echo "bench/iwf.sh: $out"
