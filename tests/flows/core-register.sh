#!/usr/bin/env bash
# Registration: several contacts, per-contact expires, Expires cap and 423, refresh ordering,
# unregister one and '*', a restart with --db keeps the bindings.
. "$(dirname "$0")/../lib/flow.sh"

reg() { # reg CALLID CSEQ EXTRA-HEADER-LINES...
  local callid=$1 cseq=$2; shift 2
  { printf 'REGISTER sip:b.example SIP/2.0\nVia: SIP/2.0/UDP @LOCAL@;branch=@BRANCH@;rport\n'
    printf 'Max-Forwards: 70\nFrom: <sip:bob@b.example>;tag=r1\nTo: <sip:bob@b.example>\n'
    printf 'Call-ID: %s\nCSeq: %s REGISTER\n' "$callid" "$cseq"
    local h; for h in "$@"; do printf '%s\n' "$h"; done
    printf '\n'; } | sip "$CORE_UDP"
}

start_core --domain b.example --listen udp:127.0.0.1:0 --db "$t/reg.db"

out=$(reg c1 1 'Contact: <sip:bob@127.0.0.1:5001>;expires=120, <sip:bob@127.0.0.1:5002>' 'Expires: 100000')
expect_eq "$(status <<<"$out")" 200 "REGISTER two contacts"
grep -q 'Contact: <sip:bob@127.0.0.1:5001>;expires=120' <<<"$out" || fail "per-contact expires: $out"
grep -q 'Contact: <sip:bob@127.0.0.1:5002>;expires=7200' <<<"$out" || fail "Expires cap at max_expires: $out"

out=$(reg c2 1 'Contact: <sip:bob@127.0.0.1:5003>' 'Expires: 10')
expect_eq "$(status <<<"$out")" 423 "Expires below min_expires"
grep -q '^Min-Expires: 60' <<<"$out" || fail "423 without Min-Expires: $out"

out=$(reg c1 1 'Contact: <sip:bob@127.0.0.1:5001>;expires=300')
expect_eq "$(status <<<"$out")" 400 "refresh with an old CSeq"
out=$(reg c1 2 'Contact: <sip:bob@127.0.0.1:5001>;expires=300')
expect_eq "$(status <<<"$out")" 200 "refresh"
grep -q '5001>;expires=300' <<<"$out" || fail "refresh did not update expires: $out"

out=$(reg c1 3 'Contact: <sip:bob@127.0.0.1:5002>;expires=0')
expect_eq "$(status <<<"$out")" 200 "unregister one contact"
! grep -q '5002>' <<<"$out" || fail "5002 still bound: $out"
grep -q '5001>' <<<"$out" || fail "5001 lost: $out"

# A fetch (no Contact) lists the bindings; after a restart with the same --db too.
stop_core
start_core --domain b.example --listen udp:127.0.0.1:0 --db "$t/reg.db"
out=$(reg c3 1)
expect_eq "$(status <<<"$out")" 200 "fetch after restart"
grep -q 'Contact: <sip:bob@127.0.0.1:5001>' <<<"$out" || fail "binding lost over restart: $out"

out=$(reg c1 4 'Contact: *' 'Expires: 0')
expect_eq "$(status <<<"$out")" 200 "Contact: * unregister"
! grep -q '^Contact:' <<<"$out" || fail "bindings left after '*': $out"
out=$(reg c1 5 'Contact: *' 'Expires: 60')
expect_eq "$(status <<<"$out")" 400 "Contact: * without Expires: 0"
stop_core
echo OK
