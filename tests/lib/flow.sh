# shellcheck shell=bash
# The flow harness: sourced by every tests/flows/*.sh, by labs/*.sh and (through
# bench/lib.sh) by the benchmarks.
#
#   . "$(dirname "$0")/../lib/flow.sh"
#   lab_config "$examples/lab-icsi.toml"                   # sets $lab
#   start coreA cpm-core-route --config "$lab" --node coreA --trace "$t/coreA.trace"
#   cpm-send --config "$lab" --node alice ... >"$t/out" || fail "cpm-send failed"
#   expect_ladder "$flows/ladders/fig5-6.ladder" "$t"/*.trace
#
# Gives: $t (a temp dir, removed at exit unless the test failed or KEEP=1), $flows,
# $examples, $CPM_DATA, $CPM_BIN on PATH, and the functions of its parts (each part says
# what it holds):
#   proc.sh    $t, fail, skip, need; start, adopt, stop, crash, wait_exit, wait_or_stop, alive,
#              pid_of, proc_report: the programs a test started, and only those, are stopped
#              at exit
#   net.sh     claim_prefix, lab_config, start_network and friends; start_core, sip and
#              the SIPp helpers of the single-core tests
#   expect.sh  wait_for, wait_count, expect_*, trace queries
# Exit status: 0 pass, 1 fail, 77 skip (a missing peer tool, and never under CI=true).
# Nothing here sleeps to synchronize: `start` blocks on the program's --ready-fd line; the
# few bounded polls (wait_for, wait_exit) check their outcome.
# Environment: CPM_BIN, CPM_SOURCE_DIR, CPM_DATA (ctest sets them; defaults for a checkout),
# START_TIMEOUT (s, default 20), KEEP=1 (keep $t), VERBOSE=1 (log starts and stops).

set -u -o pipefail

: "${CPM_SOURCE_DIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${CPM_BIN:=$CPM_SOURCE_DIR/build/default/tools}"
: "${CPM_DATA:=$CPM_SOURCE_DIR/tests/data}"
: "${START_TIMEOUT:=20}" # seconds a program may take to report readiness
export CPM_SOURCE_DIR CPM_BIN CPM_DATA
PATH="$CPM_BIN:$PATH"
# $flows (the flow tests and their ladders) and $examples (the lab configs) are for the
# scripts that source the harness:
# shellcheck disable=SC2034
flows="$CPM_SOURCE_DIR/tests/flows" examples="$CPM_SOURCE_DIR/examples"

_flow_lib=$(dirname "${BASH_SOURCE[0]}")
# shellcheck source=tests/lib/proc.sh
. "$_flow_lib/proc.sh"
# shellcheck source=tests/lib/net.sh
. "$_flow_lib/net.sh"
# shellcheck source=tests/lib/expect.sh
. "$_flow_lib/expect.sh"
