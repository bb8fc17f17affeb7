#!/bin/bash
# RFC 3325 trust domain, no authentication (the lab as it ships): mallory is barred, and a
# MESSAGE she sends from an address of her own with a forged
#   P-Asserted-Identity: <sip:alice@a.example>
# is still hers: coreA removes the header (the address is no node of its trust domain),
# csA serves mallory and answers 403, and bob never sees it. The same with a forged
# P-Served-User sent straight to csA (it believes only coreA), and with untrusted =
# "refuse" coreA answers 403 itself. Then alice's own message still reaches bob, with
# nothing removed (coreA and csA trust each other).
. "$(dirname "$0")/../lib/flow.sh"

lab_config "$examples/lab-icsi.toml"
start_network
coreA=${ready[coreA]%% *} # udp:127.K.1.1:5060
csA=${ready[csA]%% *}
start bob cpm-send --config "$lab" --node bob --receive --count 1 --trace "$t/bob.trace"

cpm='*;+g.3gpp.icsi-ref="urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.msg"'
# forged TARGET EXTRA_HEADER: mallory's CPM MESSAGE (Accept-Contact and P-Preferred-Service
# name CPM messaging, which the lab's triggers match) to bob from ${lab_prefix}1.66, with one more
# header line; prints the final response.
forged()
{
  printf 'MESSAGE sip:bob@b.example SIP/2.0\nVia: SIP/2.0/UDP @LOCAL@;branch=@BRANCH@;rport\nMax-Forwards: 70\nFrom: <sip:mallory@a.example>;tag=m1\nTo: <sip:bob@b.example>\nCall-ID: @CALLID@\nCSeq: 1 MESSAGE\nAccept-Contact: %s\nP-Preferred-Service: urn:urn-7:3gpp-service.ims.icsi.oma.cpm.msg\n%s\nContent-Type: text/plain\nContent-Length: 11\n\nLet me in!!' \
    "$cpm" "$2" | sip "${1#udp:}" --bind "${lab_prefix}1.66"
}

# 1. A forged P-Asserted-Identity through coreA: removed, then csA's 403 for mallory.
out=$(forged "$coreA" 'P-Asserted-Identity: <sip:alice@a.example>')
expect_eq "$(status <<<"$out")" 403 "mallory's MESSAGE with a forged P-Asserted-Identity"
wait_for "$t/coreA.err" 'removed P-Asserted-Identity (from outside the trust domain)'
wait_for "$t/csA.err" 'mallory@a.example is barred'
# What csA received from coreA carried no P-Asserted-Identity at all.
python3 - "$t/csA.trace" <<'PY' || fail "csA received a P-Asserted-Identity for mallory's MESSAGE"
import json, re, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["dir"] == "rx" and "mallory" in e["message"] and re.search(r"(?im)^P-Asserted-Identity:", e["message"]):
        sys.exit(1)
PY

# 2. A forged P-Served-User straight to csA: csA believes only coreA; mallory is served.
out=$(forged "$csA" 'P-Served-User: <sip:alice@a.example>;sescase=orig')
expect_eq "$(status <<<"$out")" 403 "mallory's MESSAGE to csA with a forged P-Served-User"
wait_for "$t/csA.err" 'removed P-Served-User (from outside the trust domain)'

# 3. untrusted = "refuse": coreA answers 403 itself, with a Warning that says why.
stop coreA || fail "coreA did not stop cleanly"
sed '/^name = "coreA"$/a untrusted = "refuse"' "$lab" >"$t/refuse.toml"
start coreA cpm-core-route --config "$t/refuse.toml" --node coreA --trace "$t/coreA.trace"
out=$(forged "$coreA" 'P-Asserted-Identity: <sip:alice@a.example>')
expect_eq "$(status <<<"$out")" 403 "a forged P-Asserted-Identity with untrusted = refuse"
quiet_grep -F 'Warning: 399 coreA "P-Asserted-Identity from outside the trust domain"' <<<"$out" ||
  fail "no Warning naming the refusal: $out"

# Nothing of mallory's reached network B; alice's own message does, and is bob's one.
quiet_grep 'mallory' "$t/coreB.trace" && fail "coreB saw mallory's MESSAGE"
rc=0
cpm-send --config "$lab" --node alice --timeout 10 sip:bob@b.example 'from alice' \
  >"$t/alice.out" 2>"$t/alice.err" || rc=$?
((rc == 0)) || { cat "$t/alice.err" >&2; fail "alice's message: exit $rc"; }
expect_exit bob 0 "bob's exit status"
expect_eq "$(cat "$t/bob.out")" 'from alice' "what bob received"

stop_network
echo "OK trust-forged-pai"
