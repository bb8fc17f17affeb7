#!/usr/bin/env bash
# cpm-groupd's real-time priority: a conversation server whose node has realtime_priority = 10
# runs under SCHED_FIFO at 10 (not inherited by children) and says so; --realtime-priority
# overrides the key (0: the normal scheduler). Without the privilege (CAP_SYS_NICE taken
# away, RLIMIT_RTPRIO 0) it says why on stderr, becomes ready all the same and serves at
# normal priority.
. "$(dirname "$0")/../lib/flow.sh"
need chrt
need setpriv
chrt -f 1 true 2>/dev/null || skip "this test runs without the right to SCHED_FIFO"

cat >"$t/lab.toml" <<'TOML'
[[node]]
name = "cs"
role = "conversation-server"
domain = "b.example"
listen = "udp:127.0.0.1:0"
realtime_priority = 10
TOML

# policy PID: "POLICY PRIORITY" as chrt -p says them.
policy()
{
  chrt -p "$1" | sed -n 's/.*scheduling policy: //p; s/.*scheduling priority: //p' | paste -sd' '
}

start fifo cpm-groupd --config "$t/lab.toml" --node cs
expect_eq "$(policy "$(pid_of fifo)")" "SCHED_FIFO|SCHED_RESET_ON_FORK 10" "the key's scheduling"
expect_contains "$t/fifo.err" "real-time priority 10 (SCHED_FIFO)"
stop fifo || fail "the SCHED_FIFO server did not stop cleanly"

start other cpm-groupd --config "$t/lab.toml" --node cs --realtime-priority 0
expect_eq "$(policy "$(pid_of other)")" "SCHED_OTHER 0" "--realtime-priority 0 over the key"
stop other || fail "the normal server did not stop cleanly"

# No CAP_SYS_NICE (gone from the bounding set, so root's exec does not get it back) and no
# RLIMIT_RTPRIO: EPERM, said, and not fatal.
(
  ulimit -r 0
  exec setpriv --inh-caps=-sys_nice --bounding-set=-sys_nice "$CPM_BIN/cpm-groupd" \
    --config "$t/lab.toml" --node cs --ready-fd 3 3>"$t/denied.ready" 2>"$t/denied.err"
) &
adopt denied $! "$t/denied.err"
wait_for "$t/denied.ready" "udp:127.0.0.1:" 20
expect_contains "$t/denied.err" \
  "cannot take real-time priority 10: Operation not permitted (it needs root, CAP_SYS_NICE"
expect_contains "$t/denied.err" "going on at normal priority"
expect_eq "$(policy "$(pid_of denied)")" "SCHED_OTHER 0" "the scheduling without the privilege"
stop denied || fail "the server without the privilege did not stop cleanly"
echo OK
