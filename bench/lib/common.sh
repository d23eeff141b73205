# Shared helpers for bench/run: logging, process bookkeeping, CPU and memory readings.
# Sourced, not executed. Every process the benchmark starts is recorded by PID so that
# cleanup stops exactly those and nothing else on the machine.

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# name -> PID of every long-running process started by the benchmark.
declare -A BENCH_PIDS=()

# remember NAME PID: record a started process so cleanup can stop it.
remember() { BENCH_PIDS["$1"]=$2; }

# stop_pid PID: TERM, wait up to $STOP_WAIT_S seconds (5 by default), then KILL. Only ever called with PIDs we
# started. A JVM that writes an AOT cache at exit (-XX:AOTCacheOutput) needs longer than 5 s on one core.
stop_pid() {
  local pid=$1 i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < ${STOP_WAIT_S:-5} * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# stop NAME: stop a remembered process and forget it.
stop() {
  local name=$1
  [[ -n "${BENCH_PIDS[$name]:-}" ]] || return 0
  stop_pid "${BENCH_PIDS[$name]}"
  unset "BENCH_PIDS[$name]"
}

stop_all() {
  local name
  for name in "${!BENCH_PIDS[@]}"; do stop "$name"; done
}

# wait_port PORT SECONDS [PID]: wait until something accepts on 127.0.0.1:PORT (bounded);
# gives up early when PID, the process expected to listen, has exited.
wait_port() {
  local port=$1 limit=$2 pid=${3:-} i
  for ((i = 0; i < limit * 10; i++)); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    if [[ -n $pid ]] && ! kill -0 "$pid" 2>/dev/null; then return 1; fi
    sleep 0.1
  done
  return 1
}

# port_free PORT: true when nothing listens on 127.0.0.1:PORT.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# tree_pids PID: PID and its descendants (nginx and hitch run a master and a worker).
# Built from /proc/*/stat with shell builtins only, so a reading costs no forks.
tree_pids() {
  local root=$1 stat line pid p
  local -a f queue=("$root") out=()
  local -A parent=()
  for stat in /proc/[0-9]*/stat; do
    { read -r line <"$stat"; } 2>/dev/null || continue   # the process may have just exited
    pid=${line%% *}
    line=${line##*) }          # the command name may contain spaces; fields restart after ") "
    read -ra f <<<"$line"
    parent[$pid]=${f[1]}
  done
  while ((${#queue[@]})); do
    pid=${queue[0]}; queue=("${queue[@]:1}")
    out+=("$pid")
    for p in "${!parent[@]}"; do
      [[ ${parent[$p]} == "$pid" ]] && queue+=("$p")
    done
  done
  echo "${out[@]}"
}

CLK_TCK=$(getconf CLK_TCK)

# cpu_reading PID: the user+system CPU ticks of PID and its descendants, all threads included, then one
# TID:TICKS word per JIT compiler thread among them. HotSpot names those threads "C1 CompilerThread0",
# "C2 CompilerThread0", ... ("JVMCI CompilerThread0" with Graal); the kernel keeps the first 15 characters.
# A native proxy has none. Shell builtins only, like tree_pids.
cpu_reading() {
  local total=0 pid line task comm
  local -a f compilers=()
  for pid in $(tree_pids "$1"); do
    { read -r line <"/proc/$pid/stat"; } 2>/dev/null || continue
    line=${line##*) }
    read -ra f <<<"$line"
    total=$((total + f[11] + f[12]))   # utime and stime: fields 14 and 15 of stat
    for task in "/proc/$pid/task/"*/stat; do
      { read -r line <"$task"; } 2>/dev/null || continue   # the thread may have just exited
      comm=${line#*(}
      comm=${comm%)*}
      [[ $comm =~ ^(C1|C2|JVMCI)\ Compiler ]] || continue
      read -ra f <<<"${line##*) }"
      compilers+=("${line%% *}:$((f[11] + f[12]))")
    done
  done
  echo "$total ${compilers[*]}"
}

# cpu_delta BEFORE AFTER: the ticks between two cpu_readings of the same process.
cpu_delta() { echo $((${2%% *} - ${1%% *})); }

# compiler_share BEFORE AFTER: the JIT compiler threads' share of the process's CPU ticks between two
# cpu_readings, as a fraction with three decimals; "-" when the process has no compiler threads.
# Per thread, so that a compiler thread started in between counts from zero. One that ended in between
# loses its last ticks; HotSpot never ends the first thread of each compiler, and below 4 CPUs runs no other.
compiler_share() {
  local -a before after
  local -A start=()
  local w jit=0
  read -ra before <<<"$1"
  read -ra after <<<"$2"
  ((${#after[@]} > 1)) || { echo -; return 0; }
  for w in "${before[@]:1}"; do start[${w%%:*}]=${w#*:}; done
  for w in "${after[@]:1}"; do jit=$((jit + ${w#*:} - ${start[${w%%:*}]:-0})); done
  awk -v j="$jit" -v t=$((after[0] - before[0])) 'BEGIN { printf "%.3f", (t > 0 ? j / t : 0) }'
}

# cpu_quiet CPU SECONDS: wait (at most SECONDS) until CPU was at least 95 % idle over half a second, so that a
# measurement does not start while a proxy started just before it is still loading classes or compiling on
# that CPU. Returns 1 when it never got quiet.
cpu_quiet() {
  local cpu=$1 limit=$2 i a b busy0 idle0 busy1 idle1
  for ((i = 0; i < limit * 2; i++)); do
    read -ra a < <(grep "^cpu$cpu " /proc/stat)
    sleep 0.5
    read -ra b < <(grep "^cpu$cpu " /proc/stat)
    idle0=$((a[4] + a[5])) idle1=$((b[4] + b[5]))
    busy0=$((a[1] + a[2] + a[3] + a[6] + a[7] + a[8])) busy1=$((b[1] + b[2] + b[3] + b[6] + b[7] + b[8]))
    (((busy1 - busy0) * 20 <= (busy1 - busy0) + (idle1 - idle0))) && return 0
  done
  return 1
}

# smaps_kb PID FIELD: a field of smaps_rollup (Pss, Pss_Anon, ...) summed over PID and its
# descendants, in KiB. 0 when the kernel does not provide the field.
smaps_kb() {
  local total=0 pid kb
  for pid in $(tree_pids "$1"); do
    kb=$(awk -v f="$2:" '$1 == f {print $2}' "/proc/$pid/smaps_rollup" 2>/dev/null) || continue
    total=$((total + ${kb:-0}))
  done
  echo "$total"
}

# Command prefixes that put a program on the proxy CPU or on the load CPU; empty without pinning.
# Set by bench/run. Arrays, not functions: a function started with & runs in a subshell whose PID
# is not the program's, and stopping it would leave the program running.
PROXY_PIN=()
LOAD_PIN=()
