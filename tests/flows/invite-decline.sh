#!/bin/bash
# `cpm-invite --answer --decline 486`: the inviter gets 486, says so on stderr with the
# status, and exits 1; the answerer exits 0 after its one (declined) invitation.
. "$(dirname "$0")/../lib/flow.sh"

start bob cpm-invite --answer --decline 486 --listen udp:127.0.0.1:0 --from sip:bob@127.0.0.1 \
  --json
port=${ready[bob]#udp:127.0.0.1:}
port=${port%% *}
[[ $port =~ ^[0-9]+$ && $port != 0 ]] || fail "bad ready line '${ready[bob]}'"

rc=0
cpm-invite --from sip:alice@127.0.0.1 --listen udp:127.0.0.1:0 --json --timeout 10 \
  "sip:bob@127.0.0.1:$port" </dev/null >"$t/alice.out" 2>"$t/alice.err" || rc=$?
expect_eq "$rc" 1 "alice's exit status"
expect_contains "$t/alice.err" "cpm-invite: sip:bob@127.0.0.1:$port refused the session: 486 Busy Here"
expect_json "$t/alice.out" .event refused .status 486
expect_exit bob 0 "bob's exit status"
expect_json "$t/bob.out" .event declined .status 486

# A usage error is 2, and nothing listening is "no answer": 3.
rc=0
cpm-invite --decline 486 sip:x@127.0.0.1 2>/dev/null || rc=$?
expect_eq "$rc" 2 "--decline without --answer"
echo OK invite-decline
