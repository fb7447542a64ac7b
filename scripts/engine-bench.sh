#!/usr/bin/env bash
# Is wirebench's load engine ever the bottleneck? Against the same server
# (pinned to CPU 1), each load generator runs pinned to CPU 0 at the same
# concurrency, and we measure its requests per client CPU-second (CPU from
# the kernel's rusage of the whole process, startup included, for every
# tool alike) and the throughput it reached:
#   HTTP/1.1, 1 KiB and 512 KiB: wrk, oha, wirebench
#   HTTP/2 (h2c), 1 KiB:         h2load, oha, wirebench
#   gRPC, 1 KiB (framed):        h2load, wirebench
# Then wirebench's memory: peak RSS for 10x more requests, and for 10,000
# users. oha is built once into ~/.cache/wirebench-peers/oha (cargo install
# takes ~10 minutes; WITHOUT_OHA=1 skips it); the other tools come from
# scripts/install-peers.sh. "wirebench+tpl" is the same load with a
# template in the URL ({{request_number}}, rendered per request): what a
# template costs.
# Env: DURATION (s, default 5), WIREBENCH (binary, default target/release/wirebench).
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-5}
WB=${WIREBENCH:-target/release/wirebench}
PEERS=${WIREBENCH_PEERS:-$HOME/.cache/wirebench-peers}
OHA="$PEERS/oha/bin/oha"
[ -x "$WB" ] || cargo build --release -q
if [ -n "${WITHOUT_OHA:-}" ]; then
    OHA=""
elif [ ! -x "$OHA" ]; then
    echo "engine-bench: building oha once into $PEERS/oha (about 10 minutes)" >&2
    cargo install oha --locked --quiet --root "$PEERS/oha"
fi
for tool in wrk h2load taskset python3; do
    command -v "$tool" >/dev/null || { echo "engine-bench: $tool missing: run scripts/install-peers.sh" >&2; exit 2; }
done
[ "$(nproc)" -ge 2 ] || { echo "engine-bench: needs 2 CPUs (server and client apart)" >&2; exit 2; }
CPU_OF="python3 scripts/cpu_of.py"

tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT

# Starts a server in this shell (not in $(...): its pid must reach cleanup)
# and sets ADDR to the address it printed.
serve() { # stack
    taskset -c 1 "$WB" serve payload --stack "$1" --port 0 --workers 1 --max-size-kb 1024 > "$tmp/$1.out" 2>&1 &
    pids+=($!)
    for _ in $(seq 100); do grep -q "listening on" "$tmp/$1.out" 2>/dev/null && break; sleep 0.1; done
    ADDR=$(grep -o "127.0.0.1:[0-9]*" "$tmp/$1.out" | head -1)
}
cpu() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['$2'])" "$1"; }

rows="$tmp/rows"; : > "$rows"
measure() { # case tool requests cpu.json
    echo "$1|$2|$3|$(cpu "$4" cpu_s)" >> "$rows"
}

run_wrk() { # case url
    taskset -c 0 $CPU_OF "$tmp/cpu.json" wrk -t1 -c64 -d"${DURATION}s" "$2" > "$tmp/out" 2>&1
    measure "$1" wrk "$(awk '/requests in/ {print $1}' "$tmp/out")" "$tmp/cpu.json"
}
run_oha() { # case url extra...
    [ -n "$OHA" ] || return 0
    local case=$1 url=$2; shift 2
    taskset -c 0 $CPU_OF "$tmp/cpu.json" "$OHA" -z "${DURATION}s" --no-tui --output-format json "$@" "$url" > "$tmp/out" 2>/dev/null
    measure "$case" oha "$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['statusCodeDistribution'].get('200',0))" "$tmp/out")" "$tmp/cpu.json"
}
run_h2load() { # case url extra...
    local case=$1 url=$2; shift 2
    taskset -c 0 $CPU_OF "$tmp/cpu.json" h2load -D "$DURATION" -c 4 -m 16 "$@" "$url" > "$tmp/out" 2>&1
    measure "$case" h2load "$(awk '/^requests:/ {print $8}' "$tmp/out")" "$tmp/cpu.json"
}
run_wb() { # case url extra...
    local case=$1 url=$2; shift 2
    taskset -c 0 $CPU_OF "$tmp/cpu.json" "$WB" load "$url" -t "${DURATION}s" --warmup 0s --quiet --json "$tmp/wb.json" "$@" > /dev/null
    measure "$case" "${WB_LABEL:-wirebench}" "$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['trials'][0]['requests_ok'])" "$tmp/wb.json")" "$tmp/cpu.json"
}

serve rest; rest=$ADDR
serve grpc; grpc=$ADDR
url1="http://$rest/payload?size_in_kb=1"
url512="http://$rest/payload?size_in_kb=512"
taskset -c 0 wrk -t1 -c64 -d1s "$url1" > /dev/null  # warm the server

run_wrk "HTTP/1.1 1 KiB" "$url1";     run_oha "HTTP/1.1 1 KiB" "$url1" -c 64;     run_wb "HTTP/1.1 1 KiB" "$url1" -c 64
WB_LABEL=wirebench+tpl run_wb "HTTP/1.1 1 KiB" "$url1&n={{request_number}}" -c 64
run_wrk "HTTP/1.1 512 KiB" "$url512"; run_oha "HTTP/1.1 512 KiB" "$url512" -c 64; run_wb "HTTP/1.1 512 KiB" "$url512" -c 64
run_h2load "HTTP/2 1 KiB" "$url1";    run_oha "HTTP/2 1 KiB" "$url1" --http2 -c 4 -p 16
run_wb "HTTP/2 1 KiB" "$url1" --http2 -c 64 --connections 4
printf '\x00\x00\x00\x00\x02\x08\x01' > "$tmp/grpc.bin"
run_h2load "gRPC 1 KiB" "http://$grpc/payload.PayloadService/GetLargePayload" -d "$tmp/grpc.bin" \
    -H "content-type: application/grpc" -H "te: trailers"
run_wb "gRPC 1 KiB" "grpc://$grpc" --size-kb 1 -c 64 --connections 4

python3 - "$rows" "$DURATION" <<'PY'
import sys
rows = [l.strip().split("|") for l in open(sys.argv[1]) if l.strip()]
print(f"load generators on CPU 0, the same wirebench server on CPU 1, {sys.argv[2]} s each")
print(f"{'case':<17} {'tool':<10} {'req/s':>10} {'client CPU s':>13} {'req per CPU-s':>14} {'wirebench / this':>17}")
by_case = {}
for case, tool, requests, cpu in rows:
    by_case.setdefault(case, []).append((tool, int(requests), float(cpu)))
for case, tools in by_case.items():
    ours = next((r / c for t, r, c in tools if t == "wirebench"), None)
    for tool, requests, cpu in tools:
        per_cpu = requests / cpu
        ratio = "" if tool.startswith("wirebench") or ours is None else f"{ours / per_cpu:.2f}x"
        if tool == "wirebench+tpl" and ours:
            ratio = f"(tpl {per_cpu / ours:.2f}x)"
        print(f"{case:<17} {tool:<10} {requests / float(sys.argv[2]):>10,.0f} {cpu:>13.2f} {per_cpu:>14,.0f} {ratio:>17}")
PY

echo
echo "wirebench memory (peak RSS of the load generator, HTTP/1.1 1 KiB, 64 connections):"
taskset -c 0 $CPU_OF "$tmp/small.json" "$WB" load "$url1" -c 64 -n 50000 --quiet > /dev/null
taskset -c 0 $CPU_OF "$tmp/large.json" "$WB" load "$url1" -c 64 -n 500000 --quiet > /dev/null
small=$(cpu "$tmp/small.json" max_rss_kib); large=$(cpu "$tmp/large.json" max_rss_kib)
python3 -c "s,l=$small,$large; print(f'  50,000 requests: {s/1024:.1f} MiB; 500,000 requests: {l/1024:.1f} MiB ({(l-s)/s*100:+.1f}%)')"
taskset -c 0 $CPU_OF "$tmp/users.json" "$WB" load "$url1" -u 10000 -r 5000 -t 5s --timeout 30s --quiet --json "$tmp/users-result.json" > /dev/null
python3 - "$tmp/users.json" "$tmp/users-result.json" <<'PY'
import json, sys
rss = json.load(open(sys.argv[1]))["max_rss_kib"]
t = json.load(open(sys.argv[2]))["trials"][0]
print(f"  10,000 users: {t['connections']:,} connections, {t['requests_ok']:,} ok, {sum(t['errors'].values())} errors, peak RSS {rss/1024:.1f} MiB ({rss*1024/10000:,.0f} bytes per user)")
PY
