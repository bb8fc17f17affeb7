#!/usr/bin/env bash
# An unreachable peer: cpm-send exits 3 within --timeout; usage errors exit 2.
. "$(dirname "$0")/../lib/flow.sh"
send=$CPM_BIN/cpm-send

start=$(date +%s%N)
"$send" --timeout 1 sip:nobody@127.61.0.3:9 'anyone?' 2>"$t/err"
rc=$?
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
[[ $rc == 3 ]] || fail "exit $rc, want 3: $(cat "$t/err")"
((elapsed_ms < 3000)) || fail "took ${elapsed_ms} ms for --timeout 1"
grep -q 'no answer' "$t/err" || fail "diagnostic: $(cat "$t/err")"

"$send" --timeout 1 --lines sip:nobody@127.61.0.3:9 <<<'one' 2>"$t/err2"
rc=$?
[[ $rc == 3 ]] || fail "--lines exit $rc, want 3"
grep -q 'sent 1, 2xx 0, failed 0, no answer 1' "$t/err2" || fail "summary: $(cat "$t/err2")"

"$send" 2>/dev/null
[[ $? == 2 ]] || fail "no TO should exit 2"
"$send" --bogus sip:a@127.0.0.1 x 2>/dev/null
[[ $? == 2 ]] || fail "unknown option should exit 2"
# A host name goes by DNS (tests/flows/dns-*.sh); one that is no host name is a usage error.
"$send" sip:bob@bad_host.example hi 2>/dev/null
[[ $? == 2 ]] || fail "a malformed host should exit 2"
"$send" --notify sometimes sip:bob@127.0.0.1 hi 2>/dev/null
[[ $? == 2 ]] || fail "bad --notify should exit 2"
echo OK
