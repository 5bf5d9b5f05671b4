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
benchmarks=$(retry_memfd "$NODE_BIN" benchmark pallet --list --chain dev "${BENCH_WASM[@]}")
for p in pallet_lending pallet_liquidation pallet_bids; do
  grep -q "$p" <<<"$benchmarks" \
    || { echo "benchmark pallet --list does not list $p" >&2; exit 1; }
done
step "every benchmark runs in the runtime (2 steps, 1 repeat: that they run, not their numbers), beside the end-to-end checks"
# The runtime's benchmarks cannot be caught by the pallets' mock benchmark tests when the
# runtime's own parameters break one (its dust value, its breaker); that would only show when
# weights are next regenerated. They run beside the e2e (session 28: the e2e's dev nodes wait
# on blocks far more than they compute), niced, so that the nodes and the checks come first.
wasm="$CARGO_TARGET_DIR/debug/wbuild/margincall-runtime/margincall_runtime.wasm"
common=(--runtime "$wasm" --genesis-builder=runtime --genesis-builder-preset=development
  --steps 2 --repeat 1 --wasm-execution compiled --heap-pages 4096 "${BENCH_WASM[@]}")
bench() { retry_memfd nice -n 10 "$NODE_BIN" benchmark pallet "${common[@]}" "$@"; }
failed() { tail -30 "$1" >&2; echo "a benchmark failed in the runtime ($1)" >&2; exit 1; }
# Two processes, each compiling the runtime once (~40 s alone, ~110 s beside the e2e's
# nodes): the three whose setup is up to 512 wide positions, run here to 64 (at 512 they took
# 5.6 min of a cold run's 7.5 min benchmark pass, session 31, and outlasted the e2e by 3 min;
# their full range runs where the weights are measured, regenerate-weights.sh), beside every
# other benchmark of the four pallets in one process.
run_benchmarks() {
  local slow=settle_batch_wide,validate_settle_batch,validate_settle_after_feed slow_pid
  bench --pallet pallet_liquidation --extrinsic "$slow" --high 64 \
    >/dev/null 2>/tmp/margincall-bench-slow.log &
  slow_pid=$!
  trap 'kill $slow_pid 2>/dev/null || true' EXIT
  bench --pallets pallet_liquidation,pallet_lending,pallet_breaker,pallet_bids --extrinsic '*' \
    --exclude-extrinsics "pallet_liquidation::${slow//,/,pallet_liquidation::}" \
    >/dev/null 2>/tmp/margincall-bench-pallets.log \
    || failed /tmp/margincall-bench-pallets.log
  wait $slow_pid || failed /tmp/margincall-bench-slow.log
  trap - EXIT
  echo "== [$(( $(date +%s) - start )) s] every benchmark ran"
}
run_benchmarks &
benchmarks_pid=$!
trap 'pkill -P $benchmarks_pid 2>/dev/null; kill $benchmarks_pid 2>/dev/null || true' EXIT
step "end-to-end: @polkadot/api against dev nodes"
bash scripts/e2e.sh
wait $benchmarks_pid
trap - EXIT
echo "== all tests passed in $(( $(date +%s) - start )) s"
