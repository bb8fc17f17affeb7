#!/bin/bash
# cpm-iwf takes the sender of an SMS from the P-Asserted-Identity of its own core alone:
# a MESSAGE sent straight to the IWF from another address, claiming
#   P-Asserted-Identity: <sip:alice@a.example>
# is not alice's (her number +15550101 is on no SMS it submits), and the IWF says on stderr
# that it removed the header; with untrusted = "refuse" it answers 403. alice's own message
# through coreA still goes out from her number.
. "$(dirname "$0")/../lib/flow.sh"
. "$(dirname "$0")/../lib/iwf.sh"
need python3
iwf_config
p=$lab_prefix

mkfifo "$t/iwf.in" || fail "mkfifo"
exec 5<>"$t/iwf.in"
start coreA "$CPM_BIN/cpm-core-route" --config "$lab" --node coreA --trace "$t/coreA.trace"
START_STDIN="$t/iwf.in" start iwf "$CPM_BIN/cpm-iwf" --config "$lab" --node iwf --pipe \
  --trace "$t/iwf.trace"
iwf=${ready[iwf]%% *}

# forged: mallory's message straight to the IWF with alice's asserted identity.
forged()
{
  "$CPM_BIN/cpm-send" --from sip:mallory@a.example --proxy "$iwf" --listen "udp:${p}1.66:0" \
    --header 'P-Asserted-Identity: <sip:alice@a.example>' --timeout 5 tel:+15550100 "$1"
}
rc=0
forged 'spoofed' >"$t/m1.out" 2>"$t/m1.err" || rc=$?
wait_for "$t/iwf.err" 'removed P-Asserted-Identity (from outside the trust domain)'

# alice through coreA: her number.
rc=0
"$CPM_BIN/cpm-send" --config "$lab" --node alice --register --timeout 10 tel:+15550100 'real' \
  >"$t/a.out" 2>"$t/a.err" || rc=$?
((rc == 0)) || { cat "$t/a.err" >&2; fail "alice's message to the IWF: exit $rc"; }
# Both went out as SMS, in order; only the second from alice's number.
wait_count "$t/iwf.out" '"type":"sms"' 2
expect_eq "$(grep '"type":"sms"' "$t/iwf.out" | grep -c '15550101')" 1 "SMS from alice's number"
grep '"type":"sms"' "$t/iwf.out" | head -n1 | quiet_grep 15550101 &&
  fail "mallory's SMS went out from alice's number: $(cat "$t/iwf.out")"

# untrusted = "refuse": 403 from the IWF.
stop iwf || fail "the IWF did not stop cleanly"
sed -i '/^name = "iwf"$/a untrusted = "refuse"' "$lab"
START_STDIN="$t/iwf.in" start iwf "$CPM_BIN/cpm-iwf" --config "$lab" --node iwf --pipe
rc=0
forged 'refused' >"$t/m2.out" 2>"$t/m2.err" || rc=$?
expect_eq "$rc" 1 "cpm-send exit status for a refused forgery"
expect_contains "$t/m2.err" 403
stop iwf || fail "the IWF did not stop cleanly"
stop coreA || fail "coreA did not stop cleanly"
echo "OK trust-iwf"
