#!/usr/bin/env bash
# Installs what is missing and runs every test: the workspace's Rust tests (pallets, runtime
# built natively through Executive, node), then the @polkadot/api end-to-end check against a
# dev node started from the same build.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/env.sh

start=$(date +%s)
# `--all-targets` builds the tests and the node in ONE feature resolution (dev-dependencies
# included), so the node the e2e check runs is built from the same artefacts as the tests and
# `cargo test` below rebuilds nothing.
echo "== build: node, runtime, tests"
cargo build --workspace --all-targets --locked
echo "== cargo test --workspace"
cargo test --workspace --locked
echo "== the runtime's benchmarks are listed by the node"
benchmarks=$("$NODE_BIN" benchmark pallet --list --chain dev)
for p in pallet_lending pallet_liquidation; do
  grep -q "$p" <<<"$benchmarks" \
    || { echo "benchmark pallet --list does not list $p" >&2; exit 1; }
done
echo "== end-to-end: @polkadot/api against a dev node"
bash scripts/e2e.sh
echo "== all tests passed in $(( $(date +%s) - start )) s"
