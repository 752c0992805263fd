# Sourced by the *-record.sh scripts (run from the repository root): starts the benchmark
# upstream (bench/upstream.mjs) on CPU 0 and picks a free port for the proxy. Everything started
# through `started PID` is stopped (by pid) when the script exits.
# Needs $out (a directory). Sets $up (the upstream's port) and $port (for the proxy).

pids=()
stop_started() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap stop_started EXIT
started() { pids+=("$1"); }
wait_port() { until (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; do sleep 0.1; done; }

taskset -c 0 node bench/upstream.mjs --port=0 >"$out/upstream.out" &
started $!
until grep -q port "$out/upstream.out" 2>/dev/null; do sleep 0.1; done
up=$(sed -E 's/.*"port":([0-9]+).*/\1/' "$out/upstream.out" | head -1)
port=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
