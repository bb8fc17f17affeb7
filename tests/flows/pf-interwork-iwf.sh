#!/bin/bash
# The interworking decision with the real IWF: cpm-iwf --pipe on the lab's iwf node
# (127.K.1.3), this script its SMS network (cpm-iwf(1) PIPE FORMAT).
# Figure 7: alice's CPM Message to tel:+15550100 asking for a delivery notification goes
# A -> coreA -> csA -> coreA -> IWF, comes out as one "sms" line to +15550100; the test's
# DELIVRD receipt comes back to alice as IMDN delivered, and her cpm-send --wait exits 0.
# SMS fallback: alice (sms_fallback = true) sends to bob, who is not registered; the 480
# stops at csA, the message goes out as an SMS to bob's number +15550101, and alice gets
# the IWF's 202 and then the receipt's notification: DELIVRD -> exit 0, UNDELIV -> exit 1.
. "$(dirname "$0")/../lib/flow.sh"

lab_config "$examples/lab-icsi.toml"
sed -i 's/^# sms_fallback = true .*/sms_fallback = true/' "$lab"
grep -q '^sms_fallback = true' "$lab" || fail "could not turn on alice's sms_fallback in $lab"
start_network
# The IWF's stdin is a fifo this shell holds open on fd 5 (proc.sh closes 5-9 for children).
mkfifo "$t/iwf.in" || fail "mkfifo $t/iwf.in"
exec 5<>"$t/iwf.in"
START_STDIN="$t/iwf.in" start iwf cpm-iwf --config "$lab" --node iwf --pipe --db "$t/iwf.sqlite" \
  --trace "$t/iwf.trace"

# sms_line N: the Nth "sms" line the IWF wrote, once it is there.
sms_line()
{
  local n=$1 i
  for ((i = 0; i < 100; i++)); do
    line=$(grep '"type":"sms"' "$t/iwf.out" | sed -n "${n}p")
    [[ -n $line ]] && { printf '%s\n' "$line"; return 0; }
    sleep 0.1 # bounded poll of a file the IWF appends to; fails below
  done
  fail "the IWF wrote no sms line $n: $(cat "$t/iwf.out")"
}
# field JSON KEY
field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }

# send N NAME TO TEXT STAT: alice sends TEXT to TO with --notify delivery --wait; the SMS
# that comes out of the IWF (its Nth) gets the receipt STAT; sets $rc to alice's exit status.
send()
{
  local n=$1 name=$2 to=$3 text=$4 stat=$5 line
  rc=0
  cpm-send --config "$lab" --node alice --register --notify delivery --wait --timeout 20 --json \
    --trace "$t/$name.trace" "$to" "$text" >"$t/$name.out" 2>"$t/$name.err" &
  adopt "$name" $! "$t/$name.err"
  line=$(sms_line "$n") || fail "no SMS $n from the IWF for $name"
  printf '%s\n' "$line" >"$t/$name.sms"
  printf '{"type":"receipt","id":"%s","stat":"%s"}\n' "$(field "$line" id)" "$stat" >&5
  wait_exit "$name" 30 || rc=$?
}

send 1 fig7 tel:+15550100 'Hello SMS' DELIVRD
expect_eq "$rc" 0 "alice's exit status (Figure 7)"
expect_eq "$(field "$(cat "$t/fig7.sms")" to)" +15550100 "the SMS's recipient"
expect_eq "$(field "$(cat "$t/fig7.sms")" text)" 'Hello SMS' "the SMS's text"
expect_json_values "$t/fig7.out" delivered

send 2 fallback sip:bob@b.example 'Hello bob, as SMS' DELIVRD
expect_eq "$rc" 0 "alice's exit status (fallback, delivered)"
expect_eq "$(field "$(cat "$t/fallback.sms")" to)" +15550101 "the fallback SMS's recipient"
expect_eq "$(field "$(cat "$t/fallback.sms")" text)" 'Hello bob, as SMS' "the fallback SMS's text"
only_call "$t/fallback.trace" "$t"/core?.trace "$t"/cs?.trace
expect_eq "$(sent "$t/only/csA.trace" 'SIP/2.0 480')" 0 "480s csA relayed to alice"
expect_eq "$(sent "$t/only/csA.trace" 'MESSAGE tel:+15550101 ')" 1 "csA's fallback MESSAGE"

send 3 undeliv sip:bob@b.example 'Lost SMS' UNDELIV
expect_eq "$rc" 1 "alice's exit status (fallback, undelivered)"
expect_json_values "$t/undeliv.out" failed

# Each message went out as exactly one SMS.
expect_eq "$(grep -c '"type":"sms"' "$t/iwf.out")" 3 "SMS the IWF submitted"
exec 5>&-
stop iwf || fail "the IWF did not stop cleanly"
stop_network
echo "OK pf-interwork-iwf"
