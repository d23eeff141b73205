# The proxies under test, their configuration files and the backends. Sourced, not executed.
#
# Every proxy runs as one process (plus a master where the product insists on one), started once,
# with four listeners on its own block of ports:
#   term      TLS in  -> plaintext HTTP backend        (S1, S2, S2r, S5)
#   orig      plain in -> TLS HTTP backend             (S4)
#   tun-in    plain in -> TLS to its own tun-term      (S3, originating leg)
#   tun-term  TLS in  -> iperf3 server                 (S3, terminating leg)
# All TLS servers present the same ECDSA P-256 certificate and, where they let us choose, prefer
# TLS_AES_128_GCM_SHA256 for TLS 1.3, so that every proxy does the same cryptographic work.

# Known proxies in their order of ports. tlsproxy-jdk and tlsproxy-openssl pin tlsproxy's TLS engine;
# tlsproxy-nowarmup is tlsproxy with its start-up warm-up switched off (for scenario C's comparison);
# tlsproxy-prevjvm runs with $TLSPROXY_PREV_JAVA_OPTS, the JVM options before the footprint work (for comparing
# memory and CPU before and after in one run), with $TLSPROXY_PREV_WARMUP as its warmup: section when set
# (e.g. "enabled: true, maxDuration: 3s"), and with $TLSPROXY_PREV_JAVA as its java command when set (another
# JDK, e.g. one with an AOT cache).
KNOWN_PROXIES=(tlsproxy haproxy nginx stunnel hitch tlsproxy-jdk tlsproxy-openssl tlsproxy-nowarmup tlsproxy-prevjvm)

# A suite list for the peers that let TLS 1.3 suites be chosen (OpenSSL syntax).
TLS13_SUITES=TLS_AES_128_GCM_SHA256

backend_port() {
  case $1 in
    http) echo $((PORT_BASE + 1)) ;;
    https) echo $((PORT_BASE + 2)) ;;
    iperf) echo $((PORT_BASE + 3)) ;;
  esac
}

# proxy_port PROXY ROLE: the port of one of PROXY's listeners.
proxy_port() {
  local proxy=$1 role=$2 i idx=-1 off
  for i in "${!KNOWN_PROXIES[@]}"; do [[ ${KNOWN_PROXIES[$i]} == "$proxy" ]] && idx=$i; done
  ((idx >= 0)) || die "unknown proxy: $proxy"
  case $role in
    term) off=0 ;; orig) off=1 ;; tun-in) off=2 ;; tun-term) off=3 ;; admin) off=4 ;;
  esac
  echo $((PORT_BASE + 10 * (idx + 1) + off))
}

# supports PROXY SCENARIO: hitch only terminates TLS towards one global backend.
supports() {
  case "$1:$2" in
    hitch:S3 | hitch:S4 | hitch:S4c) return 1 ;;
    *) return 0 ;;
  esac
}

# ---------------------------------------------------------------- backends

start_backends() {
  local d=$WORK/backend http https iperf
  http=$(backend_port http); https=$(backend_port https); iperf=$(backend_port iperf)
  mkdir -p "$d/www" "$d/tmp"
  head -c 1024 /dev/zero | tr '\0' 'x' >"$d/www/1k"
  # nginx drops privileges for its workers when started as root; they must be able to read the files.
  chmod -R a+rX "$d"
  cat >"$d/nginx.conf" <<CONF
worker_processes 1;
worker_rlimit_nofile $(ulimit -n);
daemon off;
pid $d/nginx.pid;
error_log $d/error.log error;
events { worker_connections $(ulimit -n); }
http {
  access_log off;
  default_type application/octet-stream;
  # One connection per wrk connection for the whole run: a backend that closed after the default
  # 1,000 requests would make every proxy pay extra handshakes in the keep-alive scenarios.
  keepalive_requests 100000000;
  keepalive_timeout 600s;
  client_body_temp_path $d/tmp/body;
  proxy_temp_path $d/tmp/proxy;
  fastcgi_temp_path $d/tmp/fastcgi;
  uwsgi_temp_path $d/tmp/uwsgi;
  scgi_temp_path $d/tmp/scgi;
  server { listen 127.0.0.1:$http; root $d/www; }
  server {
    listen 127.0.0.1:$https ssl;
    root $d/www;
    ssl_certificate $CERTS/cert.pem;
    ssl_certificate_key $CERTS/key.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_conf_command Ciphersuites $TLS13_SUITES;
  }
}
CONF
  "${LOAD_PIN[@]}" nginx -p "$d" -c "$d/nginx.conf" -e "$d/error.log" >"$d/nginx.out" 2>&1 &
  remember backend-nginx $!
  "${LOAD_PIN[@]}" iperf3 -s -p "$iperf" -B 127.0.0.1 >"$d/iperf3.out" 2>&1 &
  remember backend-iperf3 $!
  wait_port "$http" 10 && wait_port "$https" 10 && wait_port "$iperf" 10 ||
    die "backends did not start; see $d"
}

# ---------------------------------------------------------------- configuration files

write_tlsproxy_config() {
  local proxy=$1 f=$2 engine=""
  case $proxy in
    tlsproxy-jdk) engine="engine: jdk, " ;;
    tlsproxy-openssl) engine="engine: openssl, " ;;
  esac
  local cert="{cert: $CERTS/cert.pem, key: $CERTS/key.pem}"
  local up="{${engine}serverName: localhost, ca: $CERTS/ca.pem}"
  local warmup="enabled: true"
  [[ $proxy == tlsproxy-nowarmup ]] && warmup="enabled: false"
  [[ $proxy == tlsproxy-prevjvm ]] && warmup=${TLSPROXY_PREV_WARMUP:-$warmup}
  cat >"$f" <<CONF
admin:
  listen: 127.0.0.1:$(proxy_port "$proxy" admin)
warmup: {$warmup}
listeners:
  - name: term
    listen: 127.0.0.1:$(proxy_port "$proxy" term)
    tls: {${engine}certificates: [$cert]}
    upstream: {endpoints: [127.0.0.1:$(backend_port http)]}
  - name: orig
    listen: 127.0.0.1:$(proxy_port "$proxy" orig)
    upstream: {endpoints: [127.0.0.1:$(backend_port https)], tls: $up}
  - name: tun-in
    listen: 127.0.0.1:$(proxy_port "$proxy" tun-in)
    upstream: {endpoints: [127.0.0.1:$(proxy_port "$proxy" tun-term)], tls: $up}
  - name: tun-term
    listen: 127.0.0.1:$(proxy_port "$proxy" tun-term)
    tls: {${engine}certificates: [$cert]}
    upstream: {endpoints: [127.0.0.1:$(backend_port iperf)]}
CONF
  # The access log line per connection goes to WARNING-only: the peers are configured without
  # per-connection logging, and S2 opens thousands of connections a second.
  cat >"${f%.yaml}.logging" <<CONF
handlers = java.util.logging.ConsoleHandler
.level = INFO
tlsproxy.access.level = WARNING
java.util.logging.ConsoleHandler.level = ALL
java.util.logging.ConsoleHandler.formatter = java.util.logging.SimpleFormatter
CONF
}

write_haproxy_config() {
  local proxy=$1 f=$2
  cat >"$f" <<CONF
global
  nbthread 1
  # haproxy needs two descriptors per connection and refuses to start above the open-file limit.
  maxconn $(( ($(ulimit -n) - 200) / 2 ))
  ssl-default-bind-ciphersuites $TLS13_SUITES
  ssl-default-server-ciphersuites $TLS13_SUITES
defaults
  mode tcp
  timeout connect 5s
  timeout client 10m
  timeout server 10m
listen term
  bind 127.0.0.1:$(proxy_port "$proxy" term) ssl crt $CERTS/combined.pem
  server b 127.0.0.1:$(backend_port http)
listen orig
  bind 127.0.0.1:$(proxy_port "$proxy" orig)
  server b 127.0.0.1:$(backend_port https) ssl verify required ca-file $CERTS/ca.pem sni str(localhost) verifyhost localhost
listen tun-in
  bind 127.0.0.1:$(proxy_port "$proxy" tun-in)
  server b 127.0.0.1:$(proxy_port "$proxy" tun-term) ssl verify required ca-file $CERTS/ca.pem sni str(localhost) verifyhost localhost
listen tun-term
  bind 127.0.0.1:$(proxy_port "$proxy" tun-term) ssl crt $CERTS/combined.pem
  server b 127.0.0.1:$(backend_port iperf)
CONF
}

write_nginx_config() {
  local proxy=$1 f=$2 d modules
  d=$(dirname "$f")
  modules=$(nginx -V 2>&1 | grep -o -- '--modules-path=[^ ]*' | cut -d= -f2 || true)
  {
    # Debian ships the stream module as a dynamic module; load it unless nginx has it built in.
    if [[ -n "$modules" && -f "$modules/ngx_stream_module.so" ]]; then
      echo "load_module $modules/ngx_stream_module.so;"
    fi
    cat <<CONF
worker_processes 1;
worker_rlimit_nofile $(ulimit -n);
daemon off;
pid $d/nginx.pid;
error_log $d/error.log error;
events { worker_connections $(ulimit -n); }
stream {
  ssl_certificate $CERTS/cert.pem;
  ssl_certificate_key $CERTS/key.pem;
  # nginx 1.22 leaves TLS 1.3 out unless asked; the other proxies offer it by default.
  ssl_protocols TLSv1.2 TLSv1.3;
  proxy_ssl_protocols TLSv1.2 TLSv1.3;
  ssl_conf_command Ciphersuites $TLS13_SUITES;
  proxy_ssl_conf_command Ciphersuites $TLS13_SUITES;
  proxy_ssl_trusted_certificate $CERTS/ca.pem;
  proxy_ssl_verify on;
  proxy_ssl_name localhost;
  proxy_ssl_server_name on;
  server { listen 127.0.0.1:$(proxy_port "$proxy" term) ssl; proxy_pass 127.0.0.1:$(backend_port http); }
  server { listen 127.0.0.1:$(proxy_port "$proxy" orig); proxy_ssl on; proxy_pass 127.0.0.1:$(backend_port https); }
  server { listen 127.0.0.1:$(proxy_port "$proxy" tun-in); proxy_ssl on; proxy_pass 127.0.0.1:$(proxy_port "$proxy" tun-term); }
  server { listen 127.0.0.1:$(proxy_port "$proxy" tun-term) ssl; proxy_pass 127.0.0.1:$(backend_port iperf); }
}
CONF
  } >"$f"
}

write_stunnel_config() {
  local proxy=$1 f=$2 d
  d=$(dirname "$f")
  local client="client = yes
CAfile = $CERTS/ca.pem
verifyChain = yes
checkHost = localhost
sni = localhost
ciphersuites = $TLS13_SUITES"
  local server="cert = $CERTS/cert.pem
key = $CERTS/key.pem
ciphersuites = $TLS13_SUITES"
  cat >"$f" <<CONF
foreground = yes
pid =
syslog = no
output = $d/stunnel.log
debug = 3
[term]
accept = 127.0.0.1:$(proxy_port "$proxy" term)
connect = 127.0.0.1:$(backend_port http)
$server
[orig]
accept = 127.0.0.1:$(proxy_port "$proxy" orig)
connect = 127.0.0.1:$(backend_port https)
$client
[tun-in]
accept = 127.0.0.1:$(proxy_port "$proxy" tun-in)
connect = 127.0.0.1:$(proxy_port "$proxy" tun-term)
$client
[tun-term]
accept = 127.0.0.1:$(proxy_port "$proxy" tun-term)
connect = 127.0.0.1:$(backend_port iperf)
$server
CONF
}

write_hitch_config() {
  local proxy=$1 f=$2
  cat >"$f" <<CONF
frontend = "[127.0.0.1]:$(proxy_port "$proxy" term)"
backend = "[127.0.0.1]:$(backend_port http)"
pem-file = "$CERTS/combined.pem"
ciphersuites = "$TLS13_SUITES"
workers = 1
backlog = 1024
daemon = off
log-level = 1
CONF
  # hitch refuses to run its workers as root; they need nothing from the file system after start-up.
  ((EUID != 0)) || echo 'user = "nobody"' >>"$f"
}

# ---------------------------------------------------------------- start and stop

# start_proxy PROXY: write its configuration, start it on the proxy CPU, wait for its listeners.
start_proxy() {
  local proxy=$1 d=$WORK/$1
  spawn_proxy "$proxy"
  local role
  for role in term orig tun-in tun-term; do
    [[ $role == term ]] || supports "$proxy" S3 || continue
    wait_port "$(proxy_port "$proxy" "$role")" 60 "${BENCH_PIDS[$proxy]}" ||
      die "$proxy did not listen on $role; $d/out.log ends with:"$'\n'"$(tail -n 5 "$d/out.log")"
  done
}

# spawn_proxy PROXY: write its configuration and start it on the proxy CPU, without waiting for it.
spawn_proxy() {
  local proxy=$1 d=$WORK/$1 f cmd=()
  mkdir -p "$d"
  case $proxy in
    tlsproxy*)
      f=$d/tlsproxy.yaml
      write_tlsproxy_config "$proxy" "$f"
      # shellcheck disable=SC2206  # word splitting of the JVM options is intended
      local opts=$TLSPROXY_JAVA_OPTS java=java
      [[ $proxy == tlsproxy-prevjvm ]] && opts=$TLSPROXY_PREV_JAVA_OPTS && java=${TLSPROXY_PREV_JAVA:-java}
      cmd=("$java" $opts "-Djava.util.logging.config.file=${f%.yaml}.logging"
        -jar "$JAR" --config "$f") ;;
    haproxy) f=$d/haproxy.cfg; write_haproxy_config "$proxy" "$f"; cmd=(haproxy -f "$f") ;;
    nginx) f=$d/nginx.conf; write_nginx_config "$proxy" "$f"; cmd=(nginx -p "$d" -c "$f" -e "$d/error.log") ;;
    stunnel) f=$d/stunnel.conf; write_stunnel_config "$proxy" "$f"; cmd=(stunnel4 "$f") ;;
    hitch) f=$d/hitch.conf; write_hitch_config "$proxy" "$f"; cmd=(hitch --config="$f") ;;
    *) die "unknown proxy: $proxy" ;;
  esac
  "${PROXY_PIN[@]}" "${cmd[@]}" >"$d/out.log" 2>&1 &
  remember "$proxy" $!
}

proxy_pid() { echo "${BENCH_PIDS[$1]}"; }
