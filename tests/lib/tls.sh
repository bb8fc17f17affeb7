# shellcheck shell=bash
# Certificates of the test's own (sourced after flow.sh by the tls-*.sh and msrps-*.sh
# tests): a CA and certificates it signs, made with the openssl command in $t/tls, EC
# P-256, valid two days. Nothing is read from or written to the system's CA store.
#
#   tls_ca ca                                   # $t/tls/ca.pem (and ca.key)
#   tls_cert ca coreA core-a.test 127.1.0.1      # $t/tls/coreA.pem: chain + key in one file
#   tls_ca other; tls_cert other rogue core-a.test 127.1.0.1   # the same names, another CA
#   cpm-core-route --tls-cert "$t/tls/coreA.pem" --tls-ca "$t/tls/ca.pem" ...
#
# Gives: $tls (the directory). Each name is a DNS or IP subjectAltName (the first is also
# the subject CN). It uses $t of proc.sh, which flow.sh sources first:
# shellcheck disable=SC2154

tls="$t/tls"

# tls_ca NAME: a self-signed CA, $tls/NAME.pem (certificate) and $tls/NAME.key.
tls_ca()
{
  need openssl
  mkdir -p "$tls"
  openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$tls/$1.key" -out "$tls/$1.pem" -days 2 -subj "/CN=$1 test CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    2>"$tls/$1.err" || fail "openssl could not make the CA $1: $(cat "$tls/$1.err")"
}

# tls_cert CA NAME HOST...: a certificate for the HOSTs (names or IP addresses) signed by
# CA; $tls/NAME.pem holds the certificate, then the key (tls_cert alone is enough), and
# $tls/NAME.crt and $tls/NAME.key each part alone.
tls_cert()
{
  local ca=$1 name=$2 san="" h
  shift 2
  for h in "$@"; do
    if [[ $h =~ ^[0-9.]+$ || $h == *:* ]]; then san+="${san:+,}IP:$h"; else san+="${san:+,}DNS:$h"; fi
  done
  printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment,keyAgreement\nextendedKeyUsage=serverAuth,clientAuth\n' \
    "$san" >"$tls/$name.ext"
  if ! openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$tls/$name.key" -out "$tls/$name.csr" -subj "/CN=$1" 2>"$tls/$name.err" ||
    ! openssl x509 -req -in "$tls/$name.csr" -CA "$tls/$ca.pem" -CAkey "$tls/$ca.key" \
      -CAcreateserial -days 2 -extfile "$tls/$name.ext" -out "$tls/$name.crt" \
      2>>"$tls/$name.err"; then
    fail "openssl could not make the certificate $name: $(cat "$tls/$name.err")"
  fi
  cat "$tls/$name.crt" "$tls/$name.key" >"$tls/$name.pem"
}

# tls_lab CA: rewrite $lab (a lab config of lab_config) for SIP over TLS on every hop: each
# SIP node listens on tls:ITS-ADDRESS:5061 alone, and so every node name used as an address
# (proxy, peers, psi, triggers) is a TLS URI; each gets tls_cert = $tls/NODE.pem (for
# NODE.test and its address, signed by CA) and tls_ca = $tls/CA.pem.
tls_lab()
{
  local ca=$1 node ip
  need python3
  python3 - "$lab" "$tls" "$ca" >"$tls/nodes" <<'PY' || fail "tls_lab: cannot rewrite $lab"
import re, sys
lab, tls, ca = sys.argv[1:]
text = open(lab).read()
out = []
for block in re.split(r'(?=^\[\[)', text, flags=re.M):
    m = re.search(r'^listen = \["udp:([0-9.]+):5060"[^\]]*\]$', block, flags=re.M)
    name = re.search(r'^name = "([^"]+)"', block, flags=re.M)
    if block.startswith('[[node]]') and m and name:
        ip = m.group(1)
        block = block.replace(m.group(0), f'listen = ["tls:{ip}:5061"]\n'
                              f'tls_cert = "{tls}/{name.group(1)}.pem"\ntls_ca = "{tls}/{ca}.pem"')
        print(name.group(1), ip)
    out.append(block)
open(lab, 'w').write(''.join(out))
PY
  while read -r node ip; do
    tls_cert "$ca" "$node" "$node.test" "$ip"
  done <"$tls/nodes"
}

# expect_all_tls TRACE...: every SIP message sent or received in the traces went over TLS
# (MSRP and notes aside), and there was some.
expect_all_tls()
{
  local bad
  bad=$(python3 - "$@" <<'PY'
import json, sys
for path in sys.argv[1:]:
    n = 0
    for line in open(path):
        e = json.loads(line)
        first = e.get("first_line", "")
        if e.get("dir") not in ("tx", "rx") or "SIP/2.0" not in first:
            continue
        n += 1
        if e.get("transport") != "tls":
            print(f"{path}: {first} over {e.get('transport')}")
    if n == 0:
        print(f"{path}: no SIP message")
PY
  ) || fail "expect_all_tls: cannot read $*"
  [[ -z $bad ]] || fail "SIP not over TLS: $bad"
}
