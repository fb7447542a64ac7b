#!/usr/bin/env bash
# Does wirebench measure what independent tools measure? On the same server
# and the same load, run wirebench and another tool in turn and print both
# req/s and p50 (h2load reports no percentiles: its mean, beside ours) with
# their ratio (wirebench / other):
#   HTTP/1.1   wrk (p50), hey (mean) vs  wirebench load http://...
#   HTTP/2     h2load (h2c)          vs  wirebench load --http2
#   gRPC       h2load, framed gRPC   vs  wirebench load grpc://...
# The server runs on CPU 1 and every load generator on CPU 0 (taskset), so
# the server is the bottleneck for all of them.
# Env: DURATION (s per run, default 5), ROUNDS (default 1), SIZE_KB
#      (default 64), CONC (default 10), WIREBENCH (binary, default
#      target/release/wirebench), AGREE_WITHIN (e.g. 0.3: exit 1 if any
#      ratio is outside 1 +- that).
# With ROUNDS > 1 each row runs the two tools in turn ROUNDS times,
# alternating which goes first, and compares the median of the per-round
# ratios: a speed swing of this shared machine then hits both sides of a
# round, where one run each compared two different moments.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-5}
ROUNDS=${ROUNDS:-1}
SIZE_KB=${SIZE_KB:-64}
CONC=${CONC:-10}
WB=${WIREBENCH:-target/release/wirebench}
[ -x "$WB" ] || cargo build --release -q
for tool in wrk hey h2load taskset python3; do
    command -v "$tool" >/dev/null || { echo "agree.sh: $tool missing: run scripts/install-peers.sh" >&2; exit 2; }
done
SERVER_CPU=1; CLIENT_CPU=0
[ "$(nproc)" -ge 2 ] || { SERVER_CPU=0; echo "agree.sh: one CPU only: server and clients share it" >&2; }

tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT

# Starts a server in this shell (not in $(...): its pid must reach cleanup)
# and sets ADDR to the address it printed.
serve() { # stack
    taskset -c "$SERVER_CPU" "$WB" serve payload --stack "$1" --port 0 --workers 1 > "$tmp/$1.out" 2>&1 &
    pids+=($!)
    for _ in $(seq 100); do grep -q "listening on" "$tmp/$1.out" 2>/dev/null && break; sleep 0.1; done
    ADDR=$(grep -o "127.0.0.1:[0-9]*" "$tmp/$1.out" | head -1)
}

ours() { # url extra... -> "rps p50_ms mean_ms"
    local url=$1; shift
    taskset -c "$CLIENT_CPU" "$WB" load "$url" -c "$CONC" -t "${DURATION}s" --warmup 1s --quiet --json "$tmp/ours.json" "$@" > /dev/null
    python3 - "$tmp/ours.json" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))["trials"][0]
assert not t["errors"], t["errors"]
print(t["throughput_rps"], t["latency_us"]["p50"] / 1000, t["latency_us"]["mean"] / 1000)
PY
}


ms() { # "1.23ms" / "850.00us" / "1.2s" -> ms
    python3 -c "import re,sys; v,u=re.match(r'([0-9.]+)(us|ms|s)',sys.argv[1]).groups(); print(float(v)*{'us':1e-3,'ms':1,'s':1e3}[u])" "$1"
}

# Each measurement prints "req/s latency_ms" (p50, or the mean where
# h2load gives no percentiles).
wrk_p50() {
    local out
    out=$(taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONC" -d"${DURATION}s" --latency "$url")
    echo "$(awk '/Requests\/sec/ {print $2}' <<<"$out") $(ms "$(awk '$1=="50%" {print $2}' <<<"$out")")"
}
# hey against our mean, not our p50: both hold the same concurrency at the
# same throughput, so by Little's law their means must agree, whatever the
# shape of the distribution. Their p50s need not: under a CPU hog on the
# client's CPU, hey's p50 fell to 0.40 ms (from 0.50) at an unchanged
# req/s, its tail growing instead, while wrk's and ours stayed at 0.55.
hey_mean() {
    local out
    out=$(taskset -c "$CLIENT_CPU" hey -z "${DURATION}s" -c "$CONC" "$url")
    echo "$(awk '/Requests\/sec/ {print $2}' <<<"$out") $(awk '/Average:/ {print $2 * 1000; exit}' <<<"$out")"
}
# h2load with wirebench's HTTP/2 settings (windows of 2^20 and 2^24 bytes,
# 1 MiB frames): the server then frames its answers alike for both, so
# the comparison is of the clients alone.
h2load_mean() { # extra h2load args...
    local out
    out=$(taskset -c "$CLIENT_CPU" h2load -D "$DURATION" -c 1 -m "$CONC" -w 20 -W 24 -f 1048576 "$@")
    echo "$(awk '/^finished in/ {gsub(",","",$4); print $4}' <<<"$out") $(ms "$(awk '/time for request:/ {print $6}' <<<"$out")")"
}
ours_p50() { local r p _m; read -r r p _m < <(ours "$@"); echo "$r $p"; }
ours_mean() { local r _p m; read -r r _p m < <(ours "$@"); echo "$r $m"; }

: > "$tmp/rows"
# pair PROTOCOL TOOL "other command" "our command": ROUNDS paired runs.
pair() {
    local o w round
    for round in $(seq "$ROUNDS"); do
        if (( round % 2 )); then o=$(eval "$3"); w=$(eval "$4"); else w=$(eval "$4"); o=$(eval "$3"); fi
        echo "$1|$2|${o% *}|${w% *}|${o#* }|${w#* }" >> "$tmp/rows"
    done
}

serve rest; rest=$ADDR
url="http://$rest/payload?size_in_kb=$SIZE_KB"
taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONC" -d1s "$url" > /dev/null  # warm-up
pair "HTTP/1.1" wrk wrk_p50 'ours_p50 "$url"'
pair "HTTP/1.1 (mean)" hey hey_mean 'ours_mean "$url"'
pair "HTTP/2 (mean)" h2load 'h2load_mean "$url"' 'ours_mean "$url" --http2 --connections 1'

serve grpc; grpc=$ADDR
python3 -c "import sys; m=bytes([0x08])+bytes([$SIZE_KB]) if $SIZE_KB<128 else None; sys.stdout.buffer.write(bytes([0,0,0,0,len(m)])+m)" > "$tmp/grpc.bin"
pair "gRPC (mean)" h2load \
    'h2load_mean -d "$tmp/grpc.bin" -H "content-type: application/grpc" -H "te: trailers" "http://$grpc/payload.PayloadService/GetLargePayload"' \
    'ours_mean "grpc://$grpc" --size-kb "$SIZE_KB" --connections 1'

python3 - "$tmp/rows" "${AGREE_WITHIN:-}" "$SIZE_KB" "$CONC" "$DURATION" "$ROUNDS" <<'PY'
import statistics, sys
within = float(sys.argv[2]) if sys.argv[2] else None
rounds = int(sys.argv[6])
print(f"same server, same load: {sys.argv[3]} KiB payload, {sys.argv[4]} in flight, {sys.argv[5]} s each"
      + (f", median of {rounds} paired rounds" if rounds > 1 else "") + "; ratio = wirebench / other")
print(f"{'protocol':<14} {'other':<7} {'req/s other':>12} {'req/s ours':>11} {'ratio':>6}   {'p50 other':>10} {'p50 ours':>9} {'ratio':>6}")
rows = {}
for line in open(sys.argv[1]):
    proto, tool, *values = line.strip().split("|")
    rows.setdefault((proto, tool), []).append(tuple(map(float, values)))
bad = []
for (proto, tool), runs in rows.items():
    med = lambda f: statistics.median(f(r) for r in runs)
    rps_o, rps_w, lat_o, lat_w = (med(lambda r, i=i: r[i]) for i in range(4))
    r1, r2 = med(lambda r: r[1] / r[0]), med(lambda r: r[3] / r[2])
    print(f"{proto:<14} {tool:<7} {rps_o:>12,.0f} {rps_w:>11,.0f} {r1:>6.2f}   {lat_o:>8.2f}ms {lat_w:>7.2f}ms {r2:>6.2f}")
    if within is not None:
        bad += [f"{proto} {tool} {name} ratio {r:.2f}" for name, r in (("req/s", r1), ("latency", r2)) if abs(r - 1) > within]
if bad:
    print("DISAGREE beyond", within, ":", "; ".join(bad))
    sys.exit(1)
PY
