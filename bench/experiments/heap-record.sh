#!/usr/bin/env bash
# What one proxy allocates per request: the benchmark's load (upstream and wrk on CPU 0, the
# proxy on CPU 1), with V8's sampling heap profiler running over one wrk run (collected objects
# included: heap-sample.mjs), then bench/heap-top.mjs over it.
#
#   bench/experiments/heap-record.sh SYSTEM_FILE [WORKLOAD_PATH] [SECONDS] [NODE]
#   e.g. bench/experiments/heap-record.sh bench/proxies/strictgate.mjs /small 5
#
# Writes into $OUT (default /tmp/heap-<system>): profile.heapprofile, wrk.txt, top.txt.
set -euo pipefail
cd "$(dirname "$0")/../.."

system=${1:?usage: heap-record.sh SYSTEM_FILE [PATH] [SECONDS] [NODE]}
path=${2:-/small}
seconds=${3:-5}
node=${4:-node}
name=$(basename "$system" .mjs)
out=${OUT:-/tmp/heap-$name}
mkdir -p "$out"
rm -f "$out/profile.heapprofile"

# shellcheck source=bench/experiments/_load.sh
source bench/experiments/_load.sh

HEAP_SAMPLE_OUT="$out/profile.heapprofile" taskset -c 1 "$node" --import ./bench/experiments/heap-sample.mjs \
  "$system" --upstream="http://127.0.0.1:$up" --port="$port" >"$out/proxy.out" 2>&1 &
proxy=$!
started $proxy
wait_port "$port"

taskset -c 0 wrk -t1 -c50 -d2s "http://127.0.0.1:$port$path" >/dev/null # warmup (JIT, pools)
kill -USR2 "$proxy"
taskset -c 0 wrk -t1 -c50 -d"${seconds}s" "http://127.0.0.1:$port$path" >"$out/wrk.txt"
kill -USR2 "$proxy"
until [ -s "$out/profile.heapprofile" ]; do sleep 0.1; done
sleep 0.5 # the file is written in one writeFileSync; let it finish
requests=$(grep -Eo '^ +[0-9]+ requests' "$out/wrk.txt" | grep -Eo '[0-9]+')
node bench/heap-top.mjs "$out/profile.heapprofile" --requests="$requests" --top=40 >"$out/top.txt"
echo "$name on $("$node" --version): $requests requests; $out/top.txt"
