#!/usr/bin/env bash
# Does the open loop send on time? Against an idle 1 KiB server (bench:
# load generator on CPU 0, server on CPU 1), each stack is first run closed
# loop (-c 50) to find what the engine can do; then open loop at rates
# from 10/s up to half of that, one trial per rate. For each it prints the
# generator's send lateness (actual send minus due time: p50, p99, max),
# the latency from the due time against the latency from the actual send
# (p50), whether they agree within 10% + 20 us (the target), and the load
# generator's CPU (the pacer's final wait is in it).
# Env: DURATION (s, default 5), STACKS (default rest,grpc), WIREBENCH
# (binary, default target/release/wirebench).
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-5}
STACKS=${STACKS:-rest,grpc}
WB=${WIREBENCH:-target/release/wirebench}
[ -x "$WB" ] || cargo build --release -q
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "pacing: closed loop first (-c 50, 3 s), for the engine's limit" >&2
"$WB" bench --quiet --stacks "$STACKS" --size-kb 1 -c 50 -t 3s --warmup 1s --json "$tmp/closed.json" >/dev/null
for stack in ${STACKS//,/ }; do
    limit=$(python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print(int(next(t['throughput_rps'] for t in r['trials'] if t['stack']==sys.argv[2])/2))" "$tmp/closed.json" "$stack")
    for rate in 10 100 1000 2000 5000 10000 20000 50000 100000; do
        [ "$rate" -le "$limit" ] || break
        echo "pacing: $stack at $rate/s (limit: half of closed loop, $limit/s)" >&2
        "$WB" bench --quiet --stacks "$stack" --size-kb 1 --rate "$rate" -t "${DURATION}s" --warmup 1s \
            --json "$tmp/$stack-$rate.json" >/dev/null
    done
    # The limit itself, when it is not one of the rates above.
    "$WB" bench --quiet --stacks "$stack" --size-kb 1 --rate "$limit" -t "${DURATION}s" --warmup 1s \
        --json "$tmp/$stack-$limit.json" >/dev/null
done

python3 - "$tmp" <<'PY'
import glob, json, os, sys
rows = []
for path in glob.glob(os.path.join(sys.argv[1], "*-*.json")):
    for t in json.load(open(path))["trials"]:
        late = t["send_lateness"]
        due, sent = t["latency_us"]["p50"], t["latency_uncorrected_us"]["p50"]
        agree = due - sent <= 0.10 * sent + 20
        rows.append((t["stack"], t["model"]["rate_per_s"], late["lateness_us"], late["due_while_busy"],
                     due, sent, agree, t["costs"]["client_cpu_percent"], t["requests_ok"]))
rows.sort()
print(f"{'stack':<6} {'rate/s':>8} {'late p50':>9} {'late p99':>9} {'late max':>9} {'busy':>6} "
      f"{'p50 due':>8} {'p50 sent':>9} {'agree':>6} {'cli CPU%':>8} {'ok':>8}")
for stack, rate, late, busy, due, sent, agree, cpu, ok in rows:
    print(f"{stack:<6} {rate:>8.0f} {late['p50']:>7}us {late['p99']:>7}us {late['max']:>7}us {busy:>6} "
          f"{due:>6}us {sent:>7}us {'yes' if agree else 'NO':>6} {cpu:>8.0f} {ok:>8}")
PY
