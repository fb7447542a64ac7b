#!/usr/bin/env bash
# What the user's schema costs compiled, against the same message as a
# built-in shape, and through reflection: the built-in telemetry and order
# shapes are fetched from `serve message`, then fed back as a user schema
# with that data. Prints server CPU per request (medians of --trials) per
# stack and path, and the ratio user-compiled / built-in.
#   scripts/codegen.sh [extra bench flags]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q
B=target/release/wirebench
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
stacks=${STACKS:-rest,rest-proto,grpc}
common=(--quiet --workload message --direction down --stacks "$stacks" -t 3s --warmup 1s --trials "${TRIALS:-3}" "$@")
for spec in "telemetry 60" "order 10"; do
  set -- $spec
  shape=$1 items=$2
  $B serve message --stack rest --port 0 --shape "$shape" --items "$items" --seed 1 >"$dir/serve.log" 2>&1 &
  server=$!
  for _ in $(seq 50); do grep -q listening "$dir/serve.log" && break; sleep 0.1; done
  addr=$(grep -o '127.0.0.1:[0-9]*' "$dir/serve.log")
  curl -sf "http://$addr/message" >"$dir/$shape.json"
  kill "$server"; wait "$server" 2>/dev/null || true
  $B bench "${common[@]}" --shape "$shape" --items "$items" --seed 1 --json "$dir/builtin-$shape.json" --out "$dir/out" >/dev/null
  $B bench "${common[@]}" --proto proto/shapes.proto --message "wirebench.shapes.${shape^}" \
    --data "$dir/$shape.json" --codegen compiled,dynamic --json "$dir/user-$shape.json" --out "$dir/out" >/dev/null
  python3 - "$dir/builtin-$shape.json" "$dir/user-$shape.json" "$shape" <<'PY'
import json, statistics, sys
def medians(path):
    out = {}
    for t in json.load(open(path))["trials"]:
        key = (t["stack"], t.get("codegen"))
        out.setdefault(key, []).append(t["costs"]["server_cpu_ms_per_request"] * 1000)
    return {k: statistics.median(v) for k, v in out.items()}
builtin, user, shape = medians(sys.argv[1]), medians(sys.argv[2]), sys.argv[3]
print(f"{shape}: server CPU per request, us (median of trials)")
print(f"  {'stack':<12}{'built-in':>10}{'compiled':>10}{'dynamic':>10}{'compiled/built-in':>19}")
for (stack, _), b in builtin.items():
    c, d = user.get((stack, "compiled")), user.get((stack, "dynamic"))
    print(f"  {stack:<12}{b:>10.1f}{c:>10.1f}{d:>10.1f}{c / b:>19.2f}")
PY
done
