#!/bin/bash
# Variants of the pre-defined group session (FLOWS.md Figures 1 and 2) on examples/lab-icsi.toml:
#   decline   carol declines (603): the session goes on with bob
#   outsider  dave, no member, invites: 403 and no member is invited
#   bad offers  malformed SDP, no MSRP stream, a medium the group does not carry: 488
#   silence   nobody answers within the group's invite_timeout_ms: alice gets 480, exits 1
#   rejoin    bob leaves and invites the group again: he is back in the running session
#   limit     max_participants = 2 (after SIGHUP): only the first member is invited
. "$(dirname "$0")/../lib/flow.sh"
need python3

lab_config "$examples/lab-icsi.toml" lab.toml
# dave: a user of a.example who is no member of the group. The group gives up on members
# who do not answer after 2 s (the silence variant).
lab_add_client dave sip:dave@a.example 1.11 coreA dave-secret
sed -i 's/^max_participants = 10$/max_participants = 10\ninvite_timeout_ms = 2000/' "$lab"
grep -F 'invite_timeout_ms = 2000' "$lab" >/dev/null || fail "cannot set invite_timeout_ms"
start_group_network "" "$t"

# member NAME NODE [ARGS...]: an answering member (registered, one session, JSON events),
# stdin from $MEMBER_STDIN, else the fifo $t/NAME.in whose write end the caller opened.
member()
{
  local name=$1 node=$2
  shift 2
  START_STDIN="${MEMBER_STDIN:-$t/$name.in}" start "$name" cpm-invite --config "$lab" --node "$node" --register \
    --answer --count 1 --json --trace "$t/$name.trace" "$@"
}

# invite NAME NODE: cpm-invite from NODE to the group in the background (recorded as NAME),
# stdin from the fifo $t/NAME.in.
invite()
{
  cpm-invite --config "$lab" --node "$2" --register --json --trace "$t/$1.trace" \
    sip:friends@x.example <"$t/$1.in" >"$t/$1.out" 2>"$t/$1.err" 5>&- 6>&- 7>&- 8>&- 9>&- &
  adopt "$1" $! "$t/$1.err"
}

for f in d-bob d-alice o-dave s-alice r-bob r-carol r-alice r-bob2; do
  mkfifo "$t/$f.in"
done

# --- decline ------------------------------------------------------------------------------
exec 5<>"$t/d-bob.in" 7<>"$t/d-alice.in"
member d-bob bob
MEMBER_STDIN=/dev/null member d-carol carol --decline 603
invite d-alice alice
wait_for "$t/d-bob.out" '"event":"established"'
wait_for "$t/d-alice.out" '"event":"answered"'
expect_exit d-carol 0 "decline: carol's exit status after declining"
expect_contains "$t/csX.err" 'sip:carol@b.example did not join: 603'
printf 'just us\n' >&7
wait_for "$t/d-bob.out" 'just us'
exec 7>&- # alice leaves; bob alone: the focus ends his session
expect_exit d-alice 0 "decline: alice's exit status"
expect_exit d-bob 0 "decline: bob's exit status"
exec 5>&-
echo "OK group-session-variants (decline)"

# --- outsider -----------------------------------------------------------------------------
MEMBER_STDIN=/dev/null member o-bob bob
exec 5<>"$t/o-dave.in"
invite o-dave dave
expect_exit o-dave 1 "outsider: dave's exit status"
exec 5>&-
expect_contains "$t/o-dave.err" '403'
expect_contains "$t/csX.err" 'sip:dave@a.example is not a member of sip:friends@x.example'
# Nobody was invited for dave: bob saw no invitation, csX sent no INVITE after dave's.
if grep -F '"event":"invited"' "$t/o-bob.out" >/dev/null; then
  fail "outsider: bob was invited on dave's behalf"
fi
stop o-bob >/dev/null || true
echo "OK group-session-variants (outsider)"

# --- bad offers ---------------------------------------------------------------------------
# INVITEs to the group straight to csX whose SDP is malformed, has no MSRP stream, or
# offers a medium the group does not carry: 488 each, a diagnostic, nobody invited, and
# csX goes on serving (the variants below).
csx=${ready[csX]%% *}
csx=${csx#udp:}
offer()
{
  printf 'INVITE sip:friends@x.example SIP/2.0\nVia: SIP/2.0/UDP @LOCAL@;branch=@BRANCH@\n'
  printf 'Max-Forwards: 70\nFrom: <sip:alice@a.example>;tag=bad1\nTo: <sip:friends@x.example>\n'
  printf 'Call-ID: @CALLID@\nCSeq: 1 INVITE\nContact: <sip:alice@@LOCAL@>\n'
  printf 'Content-Type: application/sdp\n\n%b' "$1"
}
invites=$(grep -Fc ' invites ' "$t/csX.err")
for body in 'v=0\r\nthis is no SDP\r\n' \
  'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=message 4000 TCP/BFCP *\r\n' \
  'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=message 4000 TCP/MSRP *\r\nm=video 4002 RTP/AVP 96\r\n'; do
  offer "$body" | sip "$csx" >"$t/bad.out" 2>&1 ||
    fail "bad offers: no answer from csX: $(cat "$t/bad.out")"
  expect_contains "$t/bad.out" 'SIP/2.0 488'
done
expect_contains "$t/csX.err" 'bad SDP'
expect_contains "$t/csX.err" 'INVITE sip:friends@x.example: 488'
expect_contains "$t/csX.err" "media 'video' is not allowed (allowed: message, audio)"
expect_eq "$(grep -Fc ' invites ' "$t/csX.err")" "$invites" "bad offers: sessions started by csX"
echo "OK group-session-variants (bad offers)"

# --- silence ------------------------------------------------------------------------------
MEMBER_STDIN=/dev/null member s-bob bob --answer-after 60
MEMBER_STDIN=/dev/null member s-carol carol --answer-after 60
exec 7<>"$t/s-alice.in"
invite s-alice alice
expect_exit s-alice 1 "silence: alice's exit status"
exec 7>&-
expect_contains "$t/s-alice.err" '480'
expect_contains "$t/csX.err" 'sip:bob@b.example did not answer in time'
expect_contains "$t/csX.err" 'sip:carol@b.example did not answer in time'
# alice heard the ringing once and got no 200.
expect_json "$t/s-alice.out" .event ringing
if grep -F '"event":"answered"' "$t/s-alice.out" >/dev/null; then
  fail "silence: alice's session was answered"
fi
stop s-bob >/dev/null || true
stop s-carol >/dev/null || true
echo "OK group-session-variants (silence)"

# --- rejoin -------------------------------------------------------------------------------
exec 5<>"$t/r-bob.in" 6<>"$t/r-carol.in" 7<>"$t/r-alice.in"
member r-bob bob
member r-carol carol
invite r-alice alice
wait_for "$t/r-bob.out" '"event":"established"'
wait_for "$t/r-carol.out" '"event":"established"'
wait_for "$t/r-alice.out" '"event":"answered"'
exec 5>&- # bob leaves; alice and carol go on
expect_exit r-bob 0 "rejoin: bob's exit status after leaving"
wait_for "$t/csX.err" 'sip:bob@b.example left'
printf 'bob is gone\n' >&7
wait_for "$t/r-carol.out" 'bob is gone'
# bob invites the group identity: he joins the running session.
exec 8<>"$t/r-bob2.in"
invite r-bob2 bob
wait_for "$t/r-bob2.out" '"event":"answered"'
expect_contains "$t/csX.err" 'sip:bob@b.example joins the running session'
printf 'welcome back\n' >&7
wait_for "$t/r-bob2.out" 'welcome back'
printf 'glad to be back\n' >&8
wait_for "$t/r-alice.out" 'glad to be back'
wait_for "$t/r-carol.out" 'glad to be back'
exec 7>&- # alice leaves, then bob: carol's session ends
expect_exit r-alice 0 "rejoin: alice's exit status"
exec 8>&-
expect_exit r-bob2 0 "rejoin: bob's exit status (second session)"
expect_exit r-carol 0 "rejoin: carol's exit status"
exec 6>&-
# What was said while bob was away is not replayed to his new session.
if grep -F 'bob is gone' "$t/r-bob2.out" >/dev/null; then
  fail "rejoin: bob's new session got a message from before he joined"
fi
echo "OK group-session-variants (rejoin)"

# --- limit --------------------------------------------------------------------------------
# max_participants = 2 (reloaded on SIGHUP): a new session invites only the first member.
sed -i 's/^max_participants = 10$/max_participants = 2/' "$lab"
kill -HUP "$(pid_of csX)"
wait_for "$t/csX.err" 'reloaded'
mkfifo "$t/l-alice.in"
MEMBER_STDIN=/dev/null member l-bob bob --no-stdin
MEMBER_STDIN=/dev/null member l-carol carol --no-stdin
exec 7<>"$t/l-alice.in"
invite l-alice alice
wait_for "$t/l-bob.out" '"event":"established"'
wait_for "$t/l-alice.out" '"event":"answered"'
expect_contains "$t/csX.err" 'max_participants 2: inviting the first 1 of 2 members'
exec 7>&- # alice leaves: the session ends for bob
expect_exit l-alice 0 "limit: alice's exit status"
expect_exit l-bob 0 "limit: bob's exit status"
if grep -F '"event":"invited"' "$t/l-carol.out" >/dev/null; then
  fail "limit: carol was invited beyond max_participants"
fi
stop l-carol >/dev/null || true
echo "OK group-session-variants (limit)"

stop_group_network ""
