#!/bin/sh
# Regenerates the test PKI used by tests/unit/health/prober_http_test.cc. The outputs are checked
# in so the tests never depend on openssl being installed; rerun only to change them.
#   ca.pem / ca.key           test root CA ("understudy test CA")
#   server.pem / server.key   backend.test + IP 127.0.0.1 + IP ::1, signed by the CA, 2024-2124
#   expired.pem / expired.key same names, but valid only in 2000-2001
#   wrong_host.pem / .key     wrong.test only, signed by the CA, 2024-2124
# All keys are EC P-256: small files and fast handshakes.
set -eu
cd "$(dirname "$0")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"; }

# Fixed, back-dated validity so a test host with a slightly wrong clock still accepts them.
valid="-startdate 20240101000000Z -enddate 21240101000000Z"

# sign FILE CN EXTENSIONS SAN [openssl-ca flags...]: issue FILE.pem for FILE.key. `openssl ca` is used
# (rather than `req -x509` / `x509 -req`) because it is the only OpenSSL 3.0 command that accepts
# explicit start and end dates, which the expired certificate needs.
sign() {
  name=$1 cn=$2 ext=$3 san=$4
  shift 4
  openssl req -new -key "$name.key" -subj "/CN=$cn" -out "$work/$name.csr"
  rm -rf "$work/db"
  mkdir -p "$work/db"
  : >"$work/db/index.txt"
  cat >"$work/ca.cnf" <<CNF
[ca]
default_ca = test
[test]
database = $work/db/index.txt
new_certs_dir = $work/db
serial = $work/db/serial
default_md = sha256
policy = any
copy_extensions = none
[any]
commonName = supplied
[ca_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[leaf]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
authorityKeyIdentifier = keyid
subjectAltName = \${ENV::SAN}
CNF
  openssl rand -hex 16 >"$work/db/serial"
  SAN=$san openssl ca -batch -notext -config "$work/ca.cnf" -keyfile ca.key -extensions "$ext" \
    -in "$work/$name.csr" -out "$name.pem" "$@"
}

key ca.key
sign ca "understudy test CA" ca_ext none -selfsign $valid

key server.key
sign server backend.test leaf "DNS:backend.test,IP:127.0.0.1,IP:::1" -cert ca.pem $valid

key expired.key
sign expired backend.test leaf "DNS:backend.test,IP:127.0.0.1,IP:::1" -cert ca.pem \
  -startdate 20000101000000Z -enddate 20010101000000Z

key wrong_host.key
sign wrong_host wrong.test leaf "DNS:wrong.test" -cert ca.pem $valid
