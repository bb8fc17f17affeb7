#!/usr/bin/env bash
# Where the core sends a request for a registered user (RFC 3261 §16.5, RFC 5626 §6): a
# SIPp client registers a Contact on which nothing listens, then waits on the flow its
# REGISTER came on. The MESSAGE must come over that flow when it is a TCP connection, when
# the client asked for RFC 5626 outbound (reg-id and +sip.instance) over UDP, and over
# plain UDP at a core with nat = "received"; over plain UDP without it the core sends to
# the Contact (nothing answers there: 408). --explain, reading the same registrar file,
# says which and why.
. "$(dirname "$0")/../lib/flow.sh"
need sipp
claim_prefix
core=${lab_prefix}0.1 natcore=${lab_prefix}0.2 bob=${lab_prefix}0.10 alice=${lab_prefix}0.20
cat >"$t/lab.toml" <<TOML
[[node]]
name = "core"
role = "core"
domain = ["b.example"]
listen = ["udp:$core:5060", "tcp:$core:5060"]
timeout_ms = 3000
registrar_db = "$t/core.db"

[[node]]
name = "natcore"
role = "core"
domain = ["b.example"]
listen = ["udp:$natcore:5060"]
timeout_ms = 3000
registrar_db = "$t/natcore.db"
nat = "received"
TOML
start core cpm-core-route --config "$t/lab.toml" --node core
start natcore cpm-core-route --config "$t/lab.toml" --node natcore

# bindings ADDR: bob's bindings at the core ADDR (a fetch: REGISTER without Contact).
bindings()
{
  printf 'REGISTER sip:b.example SIP/2.0\nVia: SIP/2.0/UDP @LOCAL@;branch=@BRANCH@;rport\nMax-Forwards: 70\nFrom: <sip:bob@b.example>;tag=f\nTo: <sip:bob@b.example>\nCall-ID: @CALLID@\nCSeq: 1 REGISTER\n\n' |
    sip "$1" --bind "$alice" | grep '^Contact:' || true
}

# reach NAME NODE TRANSPORT PARAMS EXPECTED WHY: bob registers at core NODE from $bob:5060
# over TRANSPORT (SIPp's u1 or t1) with Contact PARAMS; alice's MESSAGE through NODE must
# get EXPECTED, and --explain must give the reason WHY.
reach()
{
  local name=$1 node=$2 tp=$3 params=$4 expected=$5 why=$6 contact="$bob:5099" out i at
  at=${ready[$node]#udp:}
  at=${at%%:*}
  [[ $tp == t1 ]] && contact+=";transport=tcp"
  sipp -sf "$CPM_SOURCE_DIR/tests/lib/sipp/register-flow.xml" \
    -oocsf "$CPM_SOURCE_DIR/tests/lib/sipp/message-uas.xml" -t "$tp" -i "$bob" -p 5060 \
    -nostdin -key contact "$contact" -key params "$params" -m 1 -timeout 60s "$at:5060" \
    >/dev/null 2>"$t/$name.err" 5>&- 6>&- 7>&- 8>&- 9>&- &
  adopt "$name" $! "$t/$name.err"
  for ((i = 0; i < 100; i++)); do
    [[ -n $(bindings "$at:5060") ]] && break
    alive "$name" || fail "$name: SIPp ended before it registered"
    sleep 0.1 # bounded poll of the registrar for the binding; checked below
  done
  [[ -n $(bindings "$at:5060") ]] || fail "$name: bob never registered at $at"
  printf 'MESSAGE sip:bob@b.example SIP/2.0\nVia: SIP/2.0/UDP %s:5060;branch=z9hG4bK%s;rport\nMax-Forwards: 70\nFrom: <sip:alice@a.example>;tag=a\nTo: <sip:bob@b.example>\nCall-ID: %s@test\nCSeq: 1 MESSAGE\nContent-Type: text/plain\n\nhello over %s\n' "$alice" "$name" "$name" "$name" >"$t/$name.sip"
  cpm-core-route --config "$t/lab.toml" --node "$node" --explain "$t/$name.sip" \
    >"$t/$name.explain" 2>&1 || fail "$name: --explain failed"
  expect_contains "$t/$name.explain" "$why"
  out=$(sip "$at:5060" --bind "$alice" --timeout 10 <"$t/$name.sip")
  expect_eq "$(status <<<"$out")" "$expected" "$name: MESSAGE to bob"
  # Over TCP the MESSAGE came on bob's own connection: still the one connection (two
  # sockets on loopback), none opened by the core.
  [[ $tp != t1 ]] ||
    expect_eq "$(ss -Htn state established "src $bob" | wc -l) $(ss -Htn state established "dst $bob" | wc -l)" \
      "1 1" "$name: TCP connections between bob and the core"
  stop "$name" || true # SIPp is still in its pause: SIGTERM ends it
  # Unregister, for the next case.
  out=$(printf 'REGISTER sip:b.example SIP/2.0\nVia: SIP/2.0/UDP @LOCAL@;branch=@BRANCH@;rport\nMax-Forwards: 70\nFrom: <sip:bob@b.example>;tag=u\nTo: <sip:bob@b.example>\nCall-ID: @CALLID@\nCSeq: 1 REGISTER\nContact: *\nExpires: 0\n\n' |
    sip "$at:5060" --bind "$alice")
  expect_eq "$(status <<<"$out")" 200 "$name: unregister"
}

outbound=';reg-id=1;+sip.instance="<urn:uuid:00000000-0000-1000-8000-000A95A0E128>"'
# The connection it keeps open; RFC 5626 outbound over UDP; the Contact, where nothing
# listens; nat = "received".
reach tcp core t1 ";x=1" 200 "the connection its REGISTER came on"
reach outbound core u1 "$outbound" 200 "as RFC 5626 outbound asked"
reach udp core u1 ";x=1" 408 "sent to its Contact sip:bob@$bob:5099 (RFC 3261"
reach nat natcore u1 ";x=1" 200 "by the node's nat = \"received\""

# A TCP flow that is gone (bob's connection closed while his binding lives on): the core
# tries the flow, is refused, and sends the MESSAGE once more to the registered Contact,
# where a SIPp UAS listens on TCP. Before, alice got 503.
sipp -sf "$CPM_SOURCE_DIR/tests/lib/sipp/message-uas.xml" -t t1 -i "$bob" -p 5099 -nostdin \
  -m 1 -timeout 60s >/dev/null 2>"$t/contact-uas.err" 5>&- 6>&- 7>&- 8>&- 9>&- &
adopt contact-uas $! "$t/contact-uas.err"
listening_tcp() { ss -Hlnt 2>/dev/null | awk '{print $4}' | quiet_grep -xF "$1"; }
for ((i = 0; i < 100; i++)); do
  listening_tcp "$bob:5099" && break
  sleep 0.1 # bounded poll for SIPp's TCP listener; checked below
done
listening_tcp "$bob:5099" || fail "the Contact's SIPp UAS never listened on tcp $bob:5099"
sipp -sf "$CPM_SOURCE_DIR/tests/lib/sipp/register-flow.xml" -t t1 -i "$bob" -p 5060 -nostdin \
  -key contact "$bob:5099;transport=tcp" -key params ";x=1" -m 1 -timeout 60s "$core:5060" \
  >/dev/null 2>"$t/gone.err" 5>&- 6>&- 7>&- 8>&- 9>&- &
adopt gone $! "$t/gone.err"
for ((i = 0; i < 100; i++)); do
  [[ -n $(bindings "$core:5060") ]] && break
  sleep 0.1 # bounded poll of the registrar for the binding; checked below
done
[[ -n $(bindings "$core:5060") ]] || fail "gone: bob never registered over TCP"
stop gone || true # SIPp is in its pause: SIGTERM ends it, and its connection with it
for ((i = 0; i < 100; i++)); do
  [[ -z $(ss -Htn state established "dst $bob" "src $core") ]] && break
  sleep 0.1 # bounded poll until the core has seen the connection close; checked below
done
[[ -z $(ss -Htn state established "dst $bob" "src $core") ]] ||
  fail "gone: the core still holds a connection to bob"
printf 'MESSAGE sip:bob@b.example SIP/2.0\nVia: SIP/2.0/UDP %s:5060;branch=z9hG4bKgone;rport\nMax-Forwards: 70\nFrom: <sip:alice@a.example>;tag=a\nTo: <sip:bob@b.example>\nCall-ID: gone@test\nCSeq: 1 MESSAGE\nContent-Type: text/plain\n\nhello after the flow\n' "$alice" >"$t/gone.sip"
cpm-core-route --config "$t/lab.toml" --node core --explain "$t/gone.sip" >"$t/gone.explain" 2>&1 ||
  fail "gone: --explain failed"
expect_contains "$t/gone.explain" "if that connection is gone, to its Contact sip:bob@$bob:5099;transport=tcp"
out=$(sip "$core:5060" --bind "$alice" --timeout 10 <"$t/gone.sip")
expect_eq "$(status <<<"$out")" 200 "gone: MESSAGE to bob after his connection closed"
expect_contains "$t/core.err" "(its connection is gone); sent to the registered Contact sip:bob@$bob:5099;transport=tcp"
wait_exit contact-uas || fail "the Contact's SIPp UAS exited $?"

for n in core natcore; do
  stop "$n" || fail "$n did not stop cleanly"
done
echo OK
