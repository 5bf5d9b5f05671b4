#!/usr/bin/env bash
# Installs what is missing, builds the node and starts a development chain: Alice authors and
# finalizes alone, state in a temporary directory, JSON-RPC on 127.0.0.1:9944.
# Extra arguments go to the node (e.g. `--rpc-port 9955`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/env.sh
# The same build as scripts/test.sh (tests included), so the two commands share artefacts.
cargo build --workspace --all-targets --locked
# RPC on 9944 unless the arguments name a port (the node takes `--rpc-port` once).
args=("$@")
[[ " $* " == *" --rpc-port"* ]] || args=(--rpc-port 9944 "${args[@]}")
# The scripts' instantiation strategy (env.sh) unless the arguments name one.
[[ " $* " == *" --wasmtime-instantiation-strategy"* ]] || args=("${NODE_WASM[@]}" "${args[@]}")
exec "$NODE_BIN" --dev --enable-offchain-indexing true "${args[@]}"
