#!/bin/bash
# A UDP-only SIPp member in the group session of Figures 1 and 2 (issue 8, defect 2).
#
# carol is a SIPp UAS started with -t u1: it listens on UDP only, and nothing listens on
# TCP at its address. Its SDP answer names a passive MSRP endpoint of our tests
# (tests/lib/msrp_answerer.py, an implementation of RFC 4975 apart from libcpm). alice
# invites sip:friends@x.example with cpm-invite; csX invites bob (cpm-invite --answer) and
# carol through coreX, coreB and csB. With carol's long address of record, the focus's
# INVITE is over 1,300 bytes once the cores added their Via and Record-Route, so coreB
# moves it to TCP (RFC 3261 §18.1.1), the connection is refused, and coreB sends the same
# INVITE over UDP (the §18.1.1 fallback), logging it on stderr and in its trace.
#
# Checked: carol is invited, answers, and her MSRP endpoint receives what alice says; the
# INVITE coreB sent her went over UDP and was over 1,300 bytes; coreB logged the fallback;
# carol's Record-Route names coreB over UDP; everyone ends cleanly.
. "$(dirname "$0")/../lib/flow.sh"
need python3
need sipp

d="$t/lab"
mkdir -p "$d"
lab_config "$examples/lab-icsi.toml" lab.toml
# carol's address of record is long enough that the focus's INVITE to her exceeds the UDP
# size limit after the cores' headers (the issue saw 1,304 bytes).
carol="sip:carol.udp-only.sipp-member.of-the-friends-group@b.example"
sed -i "s|\"sip:carol@b.example\"\\]|\"$carol\"]|" "$lab"
grep -qF "$carol" "$lab" || fail "could not put $carol in the group of $lab"
printf '\n[[user]]\nuri = "%s"\npassword = "carol-secret"\n' "$carol" >>"$lab"
host="${lab_prefix}2.11" # carol's node address in the lab (UDP 5060: SIPp, TCP: nothing)
msrp_port=2855

start_group_network "" "$d"

# carol registers from the address SIPp then listens on (UDP only).
reg=$(printf 'REGISTER sip:b.example SIP/2.0\nVia: SIP/2.0/UDP @LOCAL@;branch=@BRANCH@;rport\nMax-Forwards: 70\nFrom: <%s>;tag=r\nTo: <%s>\nCall-ID: @CALLID@\nCSeq: 1 REGISTER\nContact: <sip:carol@%s:5060>\nExpires: 600\n\n' \
  "$carol" "$carol" "$host" | sip "${lab_prefix}2.1:5060" --bind "$host" --port 5060)
expect_eq "$(status <<<"$reg")" 200 "carol's REGISTER"

python3 "$CPM_SOURCE_DIR/tests/lib/msrp_answerer.py" "$host:$msrp_port" "$t/carol.msrp" \
  --timeout 120 >"$t/msrp.out" 2>"$t/msrp.err" 5>&- 6>&- 7>&- 8>&- 9>&- &
adopt msrp $! "$t/msrp.err"
wait_for "$t/msrp.out" "ready $host:$msrp_port"

sipp -sf "$CPM_SOURCE_DIR/tests/lib/sipp/group-member-uas.xml" -t u1 -i "$host" -p 5060 \
  -key msrp_port "$msrp_port" -m 1 -timeout 90s -nostdin -trace_msg -message_file "$t/carol.sipp" \
  >/dev/null 2>"$t/carol.err" 5>&- 6>&- 7>&- 8>&- 9>&- &
adopt carol $! "$t/carol.err"
# SIPp prints no readiness: wait (bounded) until its UDP socket is bound.
for ((i = 0; i < 100; i++)); do
  ss -Hlnu "src $host:5060" 2>/dev/null | quiet_grep . && break
  sleep 0.1 # bounded poll for a socket another process binds
done
ss -Hlnu "src $host:5060" | quiet_grep . || fail "SIPp did not bind $host:5060"
ss -Hltn "src $host:5060" | quiet_grep . && fail "something listens on TCP $host:5060"

mkfifo "$d/bob.in" "$d/alice.in"
exec 5<>"$d/bob.in" 7<>"$d/alice.in"
START_STDIN="$d/bob.in" start bob cpm-invite --config "$lab" --node bob --register \
  --answer --count 1 --json --trace "$d/bob.trace"
cpm-invite --config "$lab" --node alice --register --json --trace "$d/alice.trace" \
  sip:friends@x.example <"$d/alice.in" >"$d/alice.out" 2>"$d/alice.err" 5>&- 6>&- 7>&- &
adopt alice $! "$d/alice.err"

wait_for "$t/bob.out" '"event":"established"'
wait_for "$d/alice.out" '"event":"answered"'
# carol answered and the focus connected to her MSRP endpoint (its empty SEND first).
wait_for "$t/carol.msrp" 'SEND '

printf 'hello friends\n' >&7
wait_for "$t/bob.out" 'hello friends'
wait_for "$t/carol.msrp" 'hello friends'
printf 'hi from bob\n' >&5
wait_for "$d/alice.out" 'hi from bob'
wait_for "$t/carol.msrp" 'hi from bob'

# alice leaves, then bob: fewer than two remain, the focus ends carol's session (BYE).
exec 7>&-
expect_exit alice 0 "alice's exit status"
exec 5>&-
expect_exit bob 0 "bob's exit status"
wait_exit carol 30 || fail "SIPp (carol) did not complete its call: $(cat "$t/carol.err")"

# What coreB sent carol: the INVITE over UDP, over 1,300 bytes, its Record-Route naming
# coreB over UDP (RFC 5658: the side towards carol first).
read -r tp size rr < <(python3 - "$d/coreB.trace" "$host:5060" <<'PY'
import json, re, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e['dir'] == 'tx' and e['peer'] == sys.argv[2] and e['first_line'].startswith('INVITE '):
        m = re.search(r'^Record-Route: *(.*?)\r$', e['message'], re.M | re.I)
        print(e['transport'], len(e['message'].encode()), m.group(1) if m else '-')
        break
PY
)
expect_eq "$tp" udp "transport of coreB's INVITE to carol"
((size > 1300)) || fail "coreB's INVITE to carol was $size bytes, not over 1,300: nothing was tested"
[[ $rr == "<sip:${lab_prefix}2.1:5060;lr>" ]] || fail "carol's Record-Route: $rr"
# The fallback was logged on stderr and in the trace.
expect_contains "$t/coreB.err" "refused; sent over UDP (RFC 3261 §18.1.1 fallback)"
grep -F '"dir":"note"' "$d/coreB.trace" | quiet_grep -F "$host:5060 refused; sent over UDP" ||
  fail "no fallback note in coreB's trace"

stop_group_network ""
echo "OK sipp-group-member ($size bytes to a UDP-only member)"
