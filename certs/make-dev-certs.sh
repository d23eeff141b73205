#!/usr/bin/env bash
# Makes a development CA plus server and client certificates (ECDSA P-256) in this folder.
# For local demos and manual tests only: the keys are unencrypted and the CA is trusted by nothing else.
# Usage: certs/make-dev-certs.sh [--force]
set -euo pipefail
cd "$(dirname "$0")"
if [[ -f server.pem && "${1:-}" != "--force" ]]; then
  echo "certs: already present (use --force to make new ones)"
  exit 0
fi
command -v openssl >/dev/null || { echo "certs: openssl is needed (apt-get install -y openssl)" >&2; exit 1; }
umask 077
days=365
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

key ca-key.pem
openssl req -x509 -new -key ca-key.pem -sha256 -days $((days * 2)) -subj "/CN=tlsproxy dev CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" -out ca.pem

issue() { # name subject extensions
  key "$1-key.pem"
  openssl req -new -key "$1-key.pem" -subj "$2" -out "$1.csr"
  openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days "$days" -sha256 \
    -extfile <(printf '%s\n' "$3") -out "$1.pem" 2>/dev/null
  rm -f "$1.csr"
}
issue server "/CN=localhost" "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1
extendedKeyUsage=serverAuth
keyUsage=critical,digitalSignature"
issue client "/CN=demo-client" "subjectAltName=DNS:demo-client
extendedKeyUsage=clientAuth
keyUsage=critical,digitalSignature"
rm -f ca.srl
chmod 644 ./*.pem
chmod 600 ./*-key.pem
echo "certs: made ca.pem, server.pem, client.pem (and their keys) in $(pwd)"
