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
