# Preparation for bench/run: packages, the tlsproxy jar, the shared certificate, the no-resumption shim.
# Sourced, not executed.

# Debian packages of the peers and the tools. libnginx-mod-stream is nginx's TCP proxy module.
BENCH_PACKAGES=(stunnel4 haproxy nginx libnginx-mod-stream hitch wrk iperf3 openssl python3 gcc libc6-dev)

install_packages() {
  local missing=() p
  for p in "${BENCH_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  ((${#missing[@]})) || { log "packages: all present"; return 0; }
  log "installing: ${missing[*]}"
  local sudo=()
  ((EUID == 0)) || sudo=(sudo)
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  # --no-install-recommends keeps the daemons' extras away; Debian may start the services on install,
  # which does not disturb the benchmark since it uses its own ports and configuration files.
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# build_jar: package tlsproxy when the jar is missing or older than the sources.
build_jar() {
  if [[ ! -f target/tlsproxy.jar ]] || [[ -n "$(find src pom.xml -newer target/tlsproxy.jar -print -quit)" ]]; then
    log "building target/tlsproxy.jar"
    mvn -q -B -Dstyle.color=never package -DskipTests
  fi
}

# mint_certs DIR: one throwaway CA and one ECDSA P-256 server certificate for localhost and 127.0.0.1,
# used by every proxy and by the TLS backend, so that all pay for the same signature algorithm.
mint_certs() {
  local d=$1
  openssl ecparam -name prime256v1 -genkey -noout -out "$d/ca-key.sec1" 2>/dev/null
  openssl pkcs8 -topk8 -nocrypt -in "$d/ca-key.sec1" -out "$d/ca-key.pem"
  openssl req -x509 -new -key "$d/ca-key.pem" -subj "/CN=bench CA" -days 60 -sha256 \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$d/ca.pem" 2>/dev/null
  openssl ecparam -name prime256v1 -genkey -noout -out "$d/key.sec1" 2>/dev/null
  openssl pkcs8 -topk8 -nocrypt -in "$d/key.sec1" -out "$d/key.pem"
  openssl req -new -key "$d/key.pem" -subj "/CN=localhost" -out "$d/server.csr" 2>/dev/null
  printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature" \
    "extendedKeyUsage=serverAuth" "subjectAltName=DNS:localhost,IP:127.0.0.1" >"$d/server.ext"
  openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca-key.pem" -CAcreateserial \
    -days 60 -sha256 -extfile "$d/server.ext" -out "$d/cert.pem" 2>/dev/null
  # haproxy and hitch read certificate and key from one file.
  cat "$d/cert.pem" "$d/key.pem" >"$d/combined.pem"
}

# build_shim DIR: the preload library that makes wrk do a full handshake on every connection.
# wrk keeps one SSL object per connection and SSL_clear()s it on reconnect, which keeps the last
# session, so the next handshake is a resumption. The shim drops that session before each
# SSL_connect. Doing it on the client leaves every proxy's own resumption settings untouched.
build_shim() {
  local d=$1
  gcc -O2 -shared -fPIC -o "$d/no-resume.so" "$BENCH_DIR/lib/no-resume.c" -ldl
}

# write_client_openssl_conf FILE: the TLS settings of the load generator. TLS 1.3 with
# AES-128-GCM and X25519 for every proxy; without it OpenSSL clients ask for AES-256-GCM first while
# some servers pick their own preference, and the proxies would not do the same work.
write_client_openssl_conf() {
  cat >"$1" <<'CONF'
openssl_conf = bench_conf
[bench_conf]
ssl_conf = bench_ssl
[bench_ssl]
system_default = bench_tls
[bench_tls]
MinProtocol = TLSv1.3
Ciphersuites = TLS_AES_128_GCM_SHA256
Groups = X25519
CONF
}
