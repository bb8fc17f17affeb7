#!/bin/bash
# The participating functions' policy for sessions (examples/lab-icsi.toml): a blocked
# party is refused on the invited side (csB, 403), a medium the user may not use on the
# inviting side (csA, 488); nothing reaches bob, alice exits 1 with the status; the policies
# come from the config and change on SIGHUP.
. "$(dirname "$0")/../lib/flow.sh"

lab_config "$examples/lab-icsi.toml"
# bob refuses alice.
sed -i 's/^password = "bob-secret"$/password = "bob-secret"\nblock_from = ["sip:alice@a.example"]/' \
  "$lab"
grep -F 'block_from = ["sip:alice@a.example"]' "$lab" >/dev/null || fail "cannot edit $lab"
start_network
start bob cpm-invite --config "$lab" --node bob --answer --count 1 --no-stdin --json \
  --trace "$t/bob.trace"

rc=0
cpm-invite --config "$lab" --node alice --register --trace "$t/alice1.trace" sip:bob@b.example \
  </dev/null >"$t/alice1.out" 2>"$t/alice1.err" || rc=$?
expect_eq "$rc" 1 "blocked: alice's exit status"
expect_contains "$t/alice1.err" '403'
expect_contains "$t/csB.err" 'does not accept from sip:alice@a.example (block_from)'

# bob accepts alice again, but alice may use audio only: her MSRP session is refused by csA.
sed -i '/^block_from = \["sip:alice@a.example"\]$/d' "$lab"
sed -i 's/^password = "alice-secret"$/password = "alice-secret"\nmedia = ["audio"]/' "$lab"
grep -F 'media = ["audio"]' "$lab" >/dev/null || fail "cannot edit $lab"
for n in csA csB; do
  kill -HUP "$(pid_of "$n")"
  wait_for "$t/$n.err" 'reloaded'
done
rc=0
cpm-invite --config "$lab" --node alice --register --trace "$t/alice2.trace" sip:bob@b.example \
  </dev/null >"$t/alice2.out" 2>"$t/alice2.err" || rc=$?
expect_eq "$rc" 1 "media: alice's exit status"
expect_contains "$t/alice2.err" '488'
expect_contains "$t/csA.err" 'sip:alice@a.example may not use message (media = ["audio"])'

# bob was never invited.
if grep -F '"event":"invited"' "$t/bob.out" >/dev/null; then
  fail "bob was invited despite the policies"
fi
stop bob >/dev/null || true
stop_network
echo OK lab-session-policy
