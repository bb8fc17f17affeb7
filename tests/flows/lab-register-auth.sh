#!/bin/bash
# coreB with digest authentication (auth = true): bob's `cpm-send --receive --password`
# answers the 401 challenge and registers (200), and alice's message reaches him through
# the lab; with a wrong password the registration fails with a diagnostic and exit 1 (a
# final response >= 300, DESIGN.md).
. "$(dirname "$0")/../lib/flow.sh"
need python3

lab_config "$examples/lab-icsi.toml"
# auth = true on coreB (the example has no auth key there: add one after its name).
sed -i '/^name = "coreB"$/a auth = true' "$lab"
grep -A1 '^name = "coreB"$' "$lab" | grep -x 'auth = true' >/dev/null || fail "could not set auth on coreB"

start_network

# REGISTER status codes coreB sent, in order.
register_statuses()
{
  python3 - "$t/coreB.trace" <<'PY'
import json, re, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["dir"] == "tx" and re.search(r"(?im)^CSeq:\s*\d+\s+REGISTER", e["message"]):
        print(e["first_line"].split()[1])
PY
}

# 1. A wrong password: 401, then 403 to the answer; cpm-send says so and exits 1.
rc=0
cpm-send --config "$lab" --node bob --receive --count 1 --password wrong-secret --timeout 5 \
  >"$t/wrong.out" 2>"$t/wrong.err" || rc=$?
expect_eq "$rc" 1 "cpm-send --receive exit status with a wrong password"
grep -Eiq 'regist' "$t/wrong.err" || fail "the diagnostic does not name the registration: $(cat "$t/wrong.err")"
expect_contains "$t/wrong.err" 403
expect_contains "$t/wrong.err" "wrong password"
expect_eq "$(register_statuses | tr '\n' ' ')" "401 403 " "coreB's answers to the wrong password"

# 2. The right password: 401 then 200, and ready means registered.
start bob cpm-send --config "$lab" --node bob --receive --count 1 --password bob-secret \
  --trace "$t/bob.trace"
expect_eq "$(register_statuses | tr '\n' ' ')" "401 403 401 200 " "coreB's answers to REGISTER"

rc=0
cpm-send --config "$lab" --node alice --timeout 10 --trace "$t/alice.trace" \
  sip:bob@b.example 'Hello, authenticated bob' >"$t/alice.out" 2>"$t/alice.err" || rc=$?
((rc == 0)) || { cat "$t/alice.err" >&2; fail "alice's message: exit $rc"; }
expect_exit bob 0 "bob's exit status"
expect_contains "$t/bob.out" 'Hello, authenticated bob'

stop_network
echo "OK lab-register-auth"
