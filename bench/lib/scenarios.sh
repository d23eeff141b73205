# The scenarios. Each run_* function measures one proxy once and appends one line to $RESULTS:
#   scenario proxy round units seconds cpu_seconds errors extra
# where units are requests, handshakes, bytes or connections, depending on the scenario, and extra
# holds key=value words: in S1-S4 jit=, the JIT compiler threads' share of cpu_seconds ("-" for a
# proxy without them), so that a reader can check the compiler was idle while it was measured.
# Sourced, not executed.

# Client connections per wrk run: enough to keep one proxy core busy, few enough for one wrk thread.
WRK_CONNECTIONS=${WRK_CONNECTIONS:-32}
# S2 connections: each one is a handshake in flight.
WRK_HANDSHAKE_CONNECTIONS=${WRK_HANDSHAKE_CONNECTIONS:-16}

record() { printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$RESULTS"; }

# cpu_seconds TICKS: ticks to seconds with three decimals.
cpu_seconds() { awk -v t="$1" -v hz="$CLK_TCK" 'BEGIN { printf "%.3f", t / hz }'; }

# wrk_measure SCENARIO PROXY ROUND URL CONNECTIONS SECONDS [ENV...]: one wrk run against PROXY,
# with the proxy's CPU time read before and after. Extra arguments are environment settings for wrk;
# RECORD_EXTRA, when set, adds key=value words to the recorded line (F's slice=K).
wrk_measure() {
  local scenario=$1 proxy=$2 round=$3 url=$4 conns=$5 secs=$6; shift 6
  local pid c0 c1 out line
  pid=$(proxy_pid "$proxy")
  local -a hdr=()
  # S2, S4c and F: the backend answers "Connection: close", the proxy closes, wrk opens a new connection.
  [[ $scenario == S2* || $scenario == S4c || $scenario == F ]] && hdr=(-H "Connection: close")
  c0=$(cpu_reading "$pid")
  out=$(env OPENSSL_CONF="$WORK/client-openssl.cnf" "$@" timeout $((secs + 30)) \
    "${LOAD_PIN[@]}" wrk -t1 -c"$conns" -d"${secs}s" "${hdr[@]}" -s "$BENCH_DIR/lib/report.lua" "$url" 2>&1) ||
    { log "wrk failed against $proxy: $out"; return 0; }
  c1=$(cpu_reading "$pid")
  line=$(grep '^BENCH ' <<<"$out") || { log "no wrk report for $proxy: $out"; return 0; }
  local requests duration errors status p99
  requests=$(sed -E 's/.*requests=([0-9]+).*/\1/' <<<"$line")
  duration=$(sed -E 's/.*duration_us=([0-9]+).*/\1/' <<<"$line")
  errors=$(sed -E 's/.*errors=([0-9]+).*/\1/' <<<"$line")
  status=$(sed -E 's/.*status_errors=([0-9]+).*/\1/' <<<"$line")
  p99=$(sed -E 's/.*p99_us=([0-9]+).*/\1/' <<<"$line")
  record "$scenario" "$proxy" "$round" "$requests" \
    "$(awk -v d="$duration" 'BEGIN { printf "%.3f", d / 1e6 }')" \
    "$(cpu_seconds "$(cpu_delta "$c0" "$c1")")" $((errors + status)) \
    "p99_us=$p99 jit=$(compiler_share "$c0" "$c1")${RECORD_EXTRA:+ $RECORD_EXTRA}"
}

run_S1() { wrk_measure S1 "$1" "$2" "https://127.0.0.1:$(proxy_port "$1" term)/1k" "$WRK_CONNECTIONS" "$3"; }

# S2: full handshakes. The shim makes wrk forget its session before each handshake. A fourth argument records
# the run under another scenario's name (F's slices).
run_S2() {
  wrk_measure "${4:-S2}" "$1" "$2" "https://127.0.0.1:$(proxy_port "$1" term)/1k" "$WRK_HANDSHAKE_CONNECTIONS" \
    "$3" LD_PRELOAD="$WORK/no-resume.so"
}

# S2r: the same with wrk's own session reuse, i.e. resumed handshakes where the proxy allows them.
run_S2r() {
  wrk_measure S2r "$1" "$2" "https://127.0.0.1:$(proxy_port "$1" term)/1k" "$WRK_HANDSHAKE_CONNECTIONS" "$3"
}

run_S4() { wrk_measure S4 "$1" "$2" "http://127.0.0.1:$(proxy_port "$1" orig)/1k" "$WRK_CONNECTIONS" "$3"; }

# S4c: the originate path with a new connection per request, so that its latency is connection set-up
# (accept, dial, the upstream TLS handshake and verification, as each proxy reuses sessions by default)
# where S4's is the established connection's.
run_S4c() {
  wrk_measure S4c "$1" "$2" "http://127.0.0.1:$(proxy_port "$1" orig)/1k" "$WRK_HANDSHAKE_CONNECTIONS" "$3"
}

# S3: one iperf3 stream through the proxy's tunnel (originate then terminate, both legs in the proxy).
run_S3() {
  local proxy=$1 round=$2 secs=$3 pid c0 c1 json bytes seconds
  pid=$(proxy_pid "$proxy")
  c0=$(cpu_reading "$pid")
  json=$(timeout $((secs + 30)) "${LOAD_PIN[@]}" iperf3 -c 127.0.0.1 -p "$(proxy_port "$proxy" tun-in)" \
    -t "$secs" -J 2>&1) || { log "iperf3 failed through $proxy"; return 0; }
  c1=$(cpu_reading "$pid")
  read -r bytes seconds < <(python3 -c '
import json, sys
r = json.load(sys.stdin)["end"]["sum_received"]
print(r["bytes"], r["seconds"])' <<<"$json") || { log "no iperf3 result through $proxy"; return 0; }
  record S3 "$proxy" "$round" "$bytes" "$seconds" "$(cpu_seconds "$(cpu_delta "$c0" "$c1")")" 0 \
    "jit=$(compiler_share "$c0" "$c1")"
}

# S5: memory per idle TLS connection. A fresh proxy process per measurement, so that memory touched
# by earlier scenarios does not hide the cost of new connections; its PSS before them is read 2 s after
# ready. Both the whole PSS and its anonymous part are recorded; the per-connection figure uses the
# anonymous part, because the file-backed part (shared libraries) moves whenever other processes map or
# unmap the same files.
run_S5() {
  local proxy=$1 round=$2 pid pss0 pss1 anon0 anon1 ready=$WORK/s5.ready client i opened
  stop "$proxy"
  start_proxy "$proxy"
  pid=$(proxy_pid "$proxy")
  # tlsproxy listens before its start-up warm-up ends; the baseline is taken once it is ready, and 2 s later
  # so that start-up work settles (and the JVM's periodic trim of the C heap has run).
  wait_ready "$proxy" 60 || log "S5: $proxy not ready within 60 s"
  sleep 2
  pss0=$(smaps_kb "$pid" Pss)
  anon0=$(smaps_kb "$pid" Pss_Anon)
  rm -f "$ready"
  "${LOAD_PIN[@]}" python3 "$BENCH_DIR/lib/idle_clients.py" 127.0.0.1 "$(proxy_port "$proxy" term)" \
    "$IDLE_CONNECTIONS" "$CERTS/ca.pem" "$ready" 120 2>>"$WORK/s5-client.log" &
  client=$!
  remember s5-client "$client"
  for ((i = 0; i < 900; i++)); do [[ -s $ready ]] && break; sleep 0.1; done
  sleep 2   # upstream connections are opened after the handshake; give them time to complete
  pss1=$(smaps_kb "$pid" Pss)
  anon1=$(smaps_kb "$pid" Pss_Anon)
  opened=$(cat "$ready" 2>/dev/null || echo 0)
  stop s5-client
  ((opened > 0)) || { log "S5: no connection to $proxy"; return 0; }
  record S5 "$proxy" "$round" "$opened" 0 0 $((IDLE_CONNECTIONS - opened)) \
    "pss0_kb=$pss0 pss1_kb=$pss1 anon0_kb=$anon0 anon1_kb=$anon1"
}

# C: cold start. For each path (orig: plain HTTP in, TLS out to the nginx HTTPS backend; term: TLS clients
# in, plaintext backend), a fresh proxy process; as soon as it is ready (tlsproxy: /readyz answers 200, so
# after its start-up warm-up; the peers: the path's port accepts), five bursts of 50 new connections 0.5 s
# apart, one GET /1k each (bench/lib/cold_burst.py). Recorded: start to ready in seconds, and per connection
# the time from before its connect to the last byte: first burst p50 and max, fifth burst p50 and max.
run_C() {
  local proxy=$1 round=$2 path target line t0
  for path in orig term; do
    [[ $path == term ]] || supports "$proxy" S4 || continue
    stop "$proxy"
    case $proxy in
      tlsproxy*) target=$(readyz_url "$proxy") ;;
      *) target="tcp:$(proxy_port "$proxy" "$path")" ;;
    esac
    # Every proxy was started (or restarted) just before; the JVM ones load classes and compile for seconds.
    cpu_quiet "$PROXY_CPU" 60 || log "C: CPU $PROXY_CPU still busy after 60 s; measuring $proxy anyway"
    t0=$(date +%s.%N)
    spawn_proxy "$proxy"
    line=$("${LOAD_PIN[@]}" python3 "$BENCH_DIR/lib/cold_burst.py" measure "$t0" "$target" "$path" \
      "$(proxy_port "$proxy" "$path")" "$CERTS/ca.pem" 2>>"$WORK/cold-client.log") || true
    [[ -n $line ]] || { log "C: no measurement of $proxy on $path"; continue; }
    log "C $proxy $path: $line"
    [[ $proxy != tlsproxy* ]] || log "C $proxy $path: $(grep -m1 -o 'warm-up: .*' "$WORK/$proxy/out.log")"
    record C "$proxy" "$round" 250 0 0 "$(grep -oE 'errors=[0-9]+' <<<"$line" | cut -d= -f2)" "path=$path $line"
  done
  # Leave it running with every listener up, as the other scenarios expect.
  stop "$proxy"
  start_proxy "$proxy"
}

# F: the first minute of load. A fresh proxy process; as soon as it is ready (as for C), S2's load (full
# handshakes, a new connection per request) for 60 s in FIRST_MINUTE_SLICE-second slices, each recorded with the
# proxy's CPU and the compiler's share (slice=K). bench/lib/first_minute.py sets the minute's CPU per handshake
# beside S2's steady state: what a restarted sidecar or a new gateway replica pays while its JIT catches up.
FIRST_MINUTE_SLICE=5
run_F() {
  local proxy=$1 round=$2 k t0
  stop "$proxy"
  cpu_quiet "$PROXY_CPU" 60 || log "F: CPU $PROXY_CPU still busy after 60 s; measuring $proxy anyway"
  t0=$(date +%s%N)
  spawn_proxy "$proxy"
  if wait_ready "$proxy" 60; then
    log "F $proxy: ready after $((($(date +%s%N) - t0) / 1000000)) ms"
    for ((k = 1; k <= 60 / FIRST_MINUTE_SLICE; k++)); do
      RECORD_EXTRA="slice=$k" run_S2 "$proxy" "$round" "$FIRST_MINUTE_SLICE" F
    done
  else
    log "F: $proxy not ready within 60 s"
  fi
  stop "$proxy"
  start_proxy "$proxy"
}

# readyz_url PROXY: tlsproxy's readiness endpoint (200 once its start-up warm-up is done).
readyz_url() { echo "http://127.0.0.1:$(proxy_port "$1" admin)/readyz"; }

# wait_ready PROXY SECONDS: tlsproxy is ready when /readyz answers 200 (after its start-up warm-up), a peer when
# its terminating port accepts.
wait_ready() {
  local proxy=$1 limit=$2 i url
  case $proxy in
    tlsproxy*)
      url=$(readyz_url "$proxy")
      for ((i = 0; i < limit * 20; i++)); do
        curl -fs -o /dev/null "$url" && return 0
        kill -0 "$(proxy_pid "$proxy")" 2>/dev/null || return 1
        sleep 0.05
      done
      return 1 ;;
    *) wait_port "$(proxy_port "$proxy" term)" "$limit" "$(proxy_pid "$proxy")" ;;
  esac
}

# tls_check PROXY: what the load generator's TLS settings negotiate with PROXY's terminating
# listener, and whether a second connection resumes the first one's session. Printed with the
# results, so a reader can see that all proxies did the same cryptographic work.
tls_check() {
  local proxy=$1 port first second sess=$WORK/$1/session.pem cipher group verify resumed=no
  port=$(proxy_port "$proxy" term)
  # A whole HTTP exchange, so that the TLS 1.3 session ticket arrives before the connection closes.
  first=$(printf 'GET /1k HTTP/1.0\r\n\r\n' | OPENSSL_CONF="$WORK/client-openssl.cnf" timeout 10 \
    openssl s_client -connect "127.0.0.1:$port" -servername localhost -CAfile "$CERTS/ca.pem" \
    -ign_eof -sess_out "$sess" 2>&1) || true
  cipher=$(grep -m1 -oE '^(New|Reused), [^ ]+, Cipher is [^ ]+' <<<"$first" | sed -E 's/^New, ([^,]+), Cipher is /\1 /')
  group=$(grep -m1 -oE 'Server Temp Key: [^,]+' <<<"$first" | sed 's/Server Temp Key: //')
  verify=$(grep -m1 -oE 'Verify return code: [0-9]+' <<<"$first" | grep -oE '[0-9]+$')
  if [[ -s $sess ]]; then
    second=$(printf 'GET /1k HTTP/1.0\r\n\r\n' | OPENSSL_CONF="$WORK/client-openssl.cnf" timeout 10 \
      openssl s_client -connect "127.0.0.1:$port" -servername localhost -CAfile "$CERTS/ca.pem" \
      -ign_eof -sess_in "$sess" 2>&1) || true
    grep -q '^Reused, ' <<<"$second" && resumed=yes
  fi
  echo "- $proxy: ${cipher:-no TLS session} ${group:+key exchange $group,} certificate" \
    "$([[ ${verify:-1} == 0 ]] && echo verified || echo "NOT verified")," \
    "resumption $resumed"
}
