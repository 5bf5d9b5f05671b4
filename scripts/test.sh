#!/usr/bin/env bash
# Installs what is missing and runs every test: the workspace's Rust tests (pallets, runtime
# built natively through Executive, node), then the @polkadot/api end-to-end check against a
# dev node started from the same build.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/env.sh

start=$(date +%s)
# Each step's start, seconds into the run: where a cold run's time goes (README's times table).
step() { echo "== [$(( $(date +%s) - start )) s] $*"; }
# `--all-targets` builds the tests and the node in ONE feature resolution (dev-dependencies
# included), so the node the e2e check runs is built from the same artefacts as the tests and
# `cargo test` below rebuilds nothing.
step "build: node, runtime, tests"
cargo build --workspace --all-targets --locked
step "cargo test --workspace"
cargo test --workspace --locked
step "the runtime's benchmarks are listed by the node"
benchmarks=$("$NODE_BIN" benchmark pallet --list --chain dev)
for p in pallet_lending pallet_liquidation pallet_bids; do
  grep -q "$p" <<<"$benchmarks" \
    || { echo "benchmark pallet --list does not list $p" >&2; exit 1; }
done
step "every benchmark runs in the runtime (2 steps, 1 repeat: that they run, not their numbers)"
# The pallets' mock benchmark tests cannot catch a benchmark the runtime's own parameters break
# (its dust value, its breaker), which would only show when weights are next regenerated.
wasm="$CARGO_TARGET_DIR/debug/wbuild/margincall-runtime/margincall_runtime.wasm"
# Runs pallet $1's benchmarks selected by the flags after it, logging to $2.
bench() {
  local p=$1 log=$2
  shift 2
  "$NODE_BIN" benchmark pallet --runtime "$wasm" --genesis-builder=runtime \
    --genesis-builder-preset=development --pallet "$p" "$@" --steps 2 --repeat 1 \
    --wasm-execution compiled --heap-pages 4096 >/dev/null 2>"$log" \
    || { tail -30 "$log" >&2; echo "a benchmark of $p failed in the runtime ($log)" >&2; return 1; }
}
# Two processes, one a core: the three whose setup is 256 wide positions (~55 s each in the
# debug node, half the pass) beside everything else (session 25: 325 s in one process).
slow=settle_batch_wide,validate_settle_batch,validate_settle_after_feed
bench pallet_liquidation /tmp/margincall-bench-slow.log --extrinsic "$slow" &
slow_pid=$!
bench pallet_liquidation /tmp/margincall-bench-pallet_liquidation.log --extrinsic '*' \
  --exclude-extrinsics "pallet_liquidation::${slow//,/,pallet_liquidation::}" \
  || { kill $slow_pid 2>/dev/null; exit 1; }
for p in pallet_lending pallet_breaker pallet_bids; do
  bench "$p" "/tmp/margincall-bench-$p.log" --extrinsic '*' || { kill $slow_pid 2>/dev/null; exit 1; }
done
wait $slow_pid || exit 1
step "end-to-end: @polkadot/api against a dev node"
bash scripts/e2e.sh
echo "== all tests passed in $(( $(date +%s) - start )) s"
