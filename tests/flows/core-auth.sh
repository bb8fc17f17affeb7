#!/usr/bin/env bash
# Digest authentication of REGISTER: 401 challenge, 200 with the right password, 403 with a
# wrong one, 404 for a user not in the config.
. "$(dirname "$0")/../lib/flow.sh"
cat >"$t/lab.toml" <<'TOML'
[[user]]
uri = "sip:bob@b.example"
password = "bob-secret"
TOML
start_core --config "$t/lab.toml" --domain b.example --listen udp:127.0.0.1:0 --auth
reg() { # reg USER CSEQ [AUTHORIZATION]
  printf 'REGISTER sip:b.example SIP/2.0\nVia: SIP/2.0/UDP @LOCAL@;branch=@BRANCH@;rport\nMax-Forwards: 70\nFrom: <sip:%s@b.example>;tag=r\nTo: <sip:%s@b.example>\nCall-ID: auth-%s\nCSeq: %s REGISTER\nContact: <sip:%s@127.0.0.1:5999>\n%s\n' \
    "$1" "$1" "$1" "$2" "$1" "${3:+Authorization: $3
}" | sip "$CORE_UDP"
}
out=$(reg bob 1)
expect_eq "$(status <<<"$out")" 401 "REGISTER without credentials"
challenge=$(sed -n 's/^WWW-Authenticate: //p' <<<"$out")
[[ $challenge == Digest* ]] || fail "no Digest challenge: $out"
# Answer the challenge (RFC 2617 MD5, qop=auth when offered) in python.
answer() { python3 - "$challenge" "$1" <<'PY'
import hashlib, re, sys
ch, pw = sys.argv[1], sys.argv[2]
p = dict(re.findall(r'(\w+)="?([^",]*)"?', ch))
md5 = lambda s: hashlib.md5(s.encode()).hexdigest()
uri = 'sip:b.example'
ha1 = md5('bob:%s:%s' % (p['realm'], pw)); ha2 = md5('REGISTER:' + uri)
if 'qop' in p:
    resp = md5('%s:%s:00000001:abcdef:auth:%s' % (ha1, p['nonce'], ha2))
    print('Digest username="bob", realm="%s", nonce="%s", uri="%s", response="%s", qop=auth, nc=00000001, cnonce="abcdef"%s'
          % (p['realm'], p['nonce'], uri, resp, ', opaque="%s"' % p['opaque'] if 'opaque' in p else ''))
else:
    resp = md5('%s:%s:%s' % (ha1, p['nonce'], ha2))
    print('Digest username="bob", realm="%s", nonce="%s", uri="%s", response="%s"%s'
          % (p['realm'], p['nonce'], uri, resp, ', opaque="%s"' % p['opaque'] if 'opaque' in p else ''))
PY
}
out=$(reg bob 2 "$(answer bob-secret)")
expect_eq "$(status <<<"$out")" 200 "REGISTER with the right password"
grep -q 'Contact: <sip:bob@127.0.0.1:5999>' <<<"$out" || fail "binding not listed: $out"
out=$(reg bob 3 "$(answer wrong)")
expect_eq "$(status <<<"$out")" 403 "REGISTER with a wrong password"
out=$(reg mallory 1)
expect_eq "$(status <<<"$out")" 404 "REGISTER of an unknown user"
stop_core
echo OK
