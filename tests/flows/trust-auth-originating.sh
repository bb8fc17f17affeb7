#!/bin/bash
# A core with auth = true authenticates the originating requests of its users that come
# from outside its trust domain (RFC 3261 §22.3), and asserts the identity itself:
#  1. a MESSAGE with From alice from an address she never registered from: 407 with a
#     Digest challenge (qop="auth");
#  2. cpm-send as alice, not registered: answers the 407 with her password; delivered, and
#     what csA and bob receive carries coreA's P-Asserted-Identity: <sip:alice@a.example>;
#  3. more messages on that one challenge: each with the next nonce count, no new 407;
#  4. the same credentials again (a replayed nonce and nc): 407, and coreA says why;
#  5. a wrong password: 403;
#  6. mallory's own valid credentials under From alice: coreA asserts mallory, csA serves
#     mallory, who is barred: 403 (the session case never takes a bare From);
#  7. alice registered: her MESSAGE comes over the flow she registered from, no 407.
. "$(dirname "$0")/../lib/flow.sh"
need python3

lab_config "$examples/lab-icsi.toml"
lab_auth coreA
start_network
coreA=${ready[coreA]%% *} # udp:127.K.1.1:5060
start bob cpm-send --config "$lab" --node bob --receive --count 5 --trace "$t/bob.trace"
cpm='*;+g.3gpp.icsi-ref="urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.msg"'

# raw FROM CSEQ [HEADER]: a CPM MESSAGE to bob from ${lab_prefix}1.66 with From FROM, the
# Call-ID "raw-CSEQ" and one more header line; prints the final response.
raw()
{
  printf 'MESSAGE sip:bob@b.example SIP/2.0\nVia: SIP/2.0/UDP @LOCAL@;branch=@BRANCH@;rport\nMax-Forwards: 70\nFrom: <%s>;tag=r%s\nTo: <sip:bob@b.example>\nCall-ID: raw-%s\nCSeq: %s MESSAGE\nAccept-Contact: %s\n%s\nContent-Type: text/plain\nContent-Length: 4\n\nraw!' \
    "$1" "$2" "$2" "$2" "$cpm" "${3:-Subject: raw}" | sip "${coreA#udp:}" --bind "${lab_prefix}1.66"
}

# 1. No credentials: 407 with a Digest challenge for qop=auth.
out=$(raw sip:alice@a.example 1)
expect_eq "$(status <<<"$out")" 407 "a MESSAGE from alice's name, unregistered, no credentials"
challenge=$(sed -n 's/^Proxy-Authenticate: //p' <<<"$out" | tr -d '\r')
[[ $challenge == Digest* && $challenge == *'qop="auth"'* ]] || fail "no Digest qop=auth challenge: $out"

# 2. cpm-send answers the 407 with alice's password; coreA asserts her identity.
rc=0
cpm-send --config "$lab" --node alice --timeout 10 --trace "$t/alice.trace" \
  sip:bob@b.example 'one' >"$t/alice.out" 2>"$t/alice.err" || rc=$?
((rc == 0)) || { cat "$t/alice.err" >&2; fail "alice's authenticated message: exit $rc"; }
expect_eq "$(grep -c '"first_line":"SIP/2.0 407 ' "$t/alice.trace")" 1 "407s alice received"
wait_for "$t/bob.out" 'one'
expect_eq "$(trace_pai "$t/csA.trace" rx 'MESSAGE ' one)" '<sip:alice@a.example>' "csA's P-Asserted-Identity"
expect_eq "$(trace_pai "$t/bob.trace" rx 'MESSAGE ' one)" '<sip:alice@a.example>' "bob's P-Asserted-Identity"

# 3. Three more messages on one challenge: one 407 in all, nonce counts 1..3.
rc=0
printf 'two\nthree\nfour\n' | cpm-send --config "$lab" --node alice --lines --timeout 10 \
  --trace "$t/alice3.trace" sip:bob@b.example >"$t/alice3.out" 2>"$t/alice3.err" || rc=$?
((rc == 0)) || { cat "$t/alice3.err" >&2; fail "alice's three messages: exit $rc"; }
wait_for "$t/bob.out" 'four'
ncs=$(python3 - "$t/alice3.trace" <<'PY'
import json, re, sys
ncs = []
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["dir"] == "tx" and e["first_line"].startswith("MESSAGE "):
        m = re.search(r"(?im)^Proxy-Authorization:.*\bnc=([0-9a-f]{8})", e["message"])
        if m:
            ncs.append(m.group(1))
print(" ".join(sorted(set(ncs))))
PY
)
expect_eq "$ncs" "00000001 00000002 00000003" "nonce counts of alice's three messages"
expect_eq "$(grep -c '"first_line":"SIP/2.0 407 ' "$t/alice3.trace")" 1 "407s for three messages"

# 4. Her last credentials again, from elsewhere: a replay, challenged.
authz=$(python3 - "$t/alice3.trace" <<'PY'
import json, re, sys
last = None
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["dir"] == "tx" and e["first_line"].startswith("MESSAGE "):
        m = re.search(r"(?im)^(Proxy-Authorization:.*?)\r?$", e["message"])
        last = m.group(1) if m else last
print(last or "")
PY
)
[[ -n $authz ]] || fail "no Proxy-Authorization in alice's trace"
out=$(raw sip:alice@a.example 2 "$authz")
expect_eq "$(status <<<"$out")" 407 "a replayed nonce and nc"
wait_for "$t/coreA.err" 'used before: a replay'

# 5. A wrong password: 403.
rc=0
cpm-send --from sip:alice@a.example --password wrong --proxy "$coreA" \
  --listen "udp:${lab_prefix}1.67:0" --timeout 10 sip:bob@b.example 'wrong' \
  >"$t/wrong.out" 2>"$t/wrong.err" || rc=$?
expect_eq "$rc" 1 "cpm-send with a wrong password"
expect_contains "$t/wrong.err" 403

# 6. mallory answers the challenge as herself under From alice: she is who is served.
out=$(raw sip:alice@a.example 3)
challenge=$(sed -n 's/^Proxy-Authenticate: //p' <<<"$out" | tr -d '\r')
mallory=$(python3 - "$challenge" <<'PY'
import hashlib, re, sys
p = dict(re.findall(r'(\w+)="?([^",]*)"?', sys.argv[1]))
md5 = lambda s: hashlib.md5(s.encode()).hexdigest()
uri = 'sip:bob@b.example'
ha1 = md5('mallory@a.example:%s:mallory-secret' % p['realm'])
resp = md5('%s:%s:00000001:c0ffee:auth:%s' % (ha1, p['nonce'], md5('MESSAGE:' + uri)))
print('Proxy-Authorization: Digest username="mallory@a.example", realm="%s", nonce="%s", '
      'uri="%s", response="%s", algorithm=MD5, qop=auth, nc=00000001, cnonce="c0ffee"'
      % (p['realm'], p['nonce'], uri, resp))
PY
)
out=$(raw sip:alice@a.example 4 "$mallory")
expect_eq "$(status <<<"$out")" 403 "mallory's credentials under From alice"
wait_for "$t/csA.err" 'mallory@a.example is barred'

# 7. Registered, alice's MESSAGE is hers by the flow she registered from: no challenge.
rc=0
cpm-send --config "$lab" --node alice --register --timeout 10 --trace "$t/alice7.trace" \
  sip:bob@b.example 'five' >"$t/alice7.out" 2>"$t/alice7.err" || rc=$?
((rc == 0)) || { cat "$t/alice7.err" >&2; fail "registered alice: exit $rc"; }
expect_eq "$(grep -c '"first_line":"SIP/2.0 407 ' "$t/alice7.trace")" 0 "407s for registered alice"
expect_exit bob 0 "bob's exit status"
expect_eq "$(trace_pai "$t/bob.trace" rx 'MESSAGE ' five)" '<sip:alice@a.example>' "bob's P-Asserted-Identity for 'five'"
quiet_grep -x 'raw!' "$t/bob.out" && fail "bob received a raw (unauthenticated) message"

stop_network
echo "OK trust-auth-originating"
