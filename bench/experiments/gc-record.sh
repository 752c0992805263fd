#!/usr/bin/env bash
# GC and thread cost of one proxy under the benchmark's load (upstream and wrk on CPU 0, the
# proxy on CPU 1), for comparing Node flags (--single-threaded-gc, --max-semi-space-size=N):
# per request, from one wrk run after a warmup: CPU (main thread and the other threads apart),
# context switches, scavenges and mark-compacts, GC pause on the main thread, and bytes
# allocated on the JS heap (all from --trace-gc-nvp and /proc); peak RSS of the run.
#
#   bench/experiments/gc-record.sh SYSTEM_FILE [SECONDS] [NODE] [-- NODE_FLAGS...]
#   e.g. bench/experiments/gc-record.sh bench/proxies/strictgate.mjs 5 node -- --single-threaded-gc
# Prints one line; the figures do not depend much on other load on the machine (per request,
# and GC work is per allocated byte), unlike req/s.
set -euo pipefail
cd "$(dirname "$0")/../.."

system=${1:?usage: gc-record.sh SYSTEM_FILE [SECONDS] [NODE] [-- NODE_FLAGS...]}
seconds=${2:-5}
node=${3:-node}
shift $(($# < 3 ? $# : 3))
[ "${1:-}" = "--" ] && shift
out=$(mktemp -d)
# shellcheck source=bench/experiments/_load.sh
source bench/experiments/_load.sh
trap 'stop_started; rm -rf "$out"' EXIT
taskset -c 1 "$node" --trace-gc-nvp "$@" "$system" --upstream="http://127.0.0.1:$up" --port="$port" >"$out/gc.txt" 2>&1 &
proxy=$!
started $proxy
wait_port "$port"

# CPU ticks (utime+stime) and context switches, main thread and the others.
snapshot() {
  local main=0 others=0 cs=0
  for t in /proc/"$proxy"/task/*; do
    local ticks
    ticks=$(awk '{ s = $0; sub(/^.*\) /, "", s); split(s, f, " "); print f[12] + f[13] }' "$t/stat")
    if [ "$(basename "$t")" = "$proxy" ]; then main=$((main + ticks)); else others=$((others + ticks)); fi
    cs=$((cs + $(awk '/ctxt_switches/ { n += $2 } END { print n }' "$t/status")))
  done
  echo "$main $others $cs"
}

taskset -c 0 wrk -t1 -c50 -d2s "http://127.0.0.1:$port/small" >/dev/null # warmup
lines=$(wc -l <"$out/gc.txt")
echo 5 >/proc/"$proxy"/clear_refs
read -r m0 o0 c0 < <(snapshot)
taskset -c 0 wrk -t1 -c50 -d"${seconds}s" "http://127.0.0.1:$port/small" >"$out/wrk.txt"
read -r m1 o1 c1 < <(snapshot)
hwm=$(awk '/VmHWM/ { print $2 }' /proc/"$proxy"/status)
threads=$(ls /proc/"$proxy"/task | wc -l)
requests=$(grep -Eo '^ +[0-9]+ requests' "$out/wrk.txt" | grep -Eo '[0-9]+')
tck=$(getconf CLK_TCK)
tail -n +"$((lines + 1))" "$out/gc.txt" | awk -v req="$requests" -v main=$((m1 - m0)) -v others=$((o1 - o0)) \
  -v cs=$((c1 - c0)) -v hwm="$hwm" -v th="$threads" -v tck="$tck" -v flags="$*" -v node="$($node --version)" '
  /gc=s / { s++ }
  /gc=(mc|ms) / { m++ }
  /pause=/ { match($0, /pause=[0-9.]+/); p += substr($0, RSTART + 6, RLENGTH - 6) }
  /allocated=/ { match($0, /allocated=[0-9]+/); a += substr($0, RSTART + 10, RLENGTH - 10) }
  END {
    us = 1e6 / tck / req
    printf "%s %-40s %7d req  cpu %5.1f µs/req (main %5.1f, other threads %4.2f)  cs %4.2f/req  scavenges %4.2f/1k req  mark-compacts %d  gc pause %4.2f µs/req  alloc %5.0f B/req  peak RSS %5.1f MiB  threads %d\n",
      node, (flags == "" ? "(default)" : flags), req, (main + others) * us, main * us, others * us, cs / req, 1000 * s / req, m, 1000 * p / req, a / req, hwm / 1024, th
  }'
