#!/usr/bin/env bash
# Installs what is missing and runs every test: the workspace's Rust tests (pallets, runtime
# built natively through Executive, node), then the @polkadot/api end-to-end check against a
# dev node started from the same build.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/env.sh

start=$(date +%s)
echo "== cargo test --workspace"
cargo test --workspace --locked
echo "== build the node (same profile and features as the tests)"
cargo build --workspace --locked
echo "== end-to-end: @polkadot/api against a dev node"
bash scripts/e2e.sh
echo "== all tests passed in $(( $(date +%s) - start )) s"
