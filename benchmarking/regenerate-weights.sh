#!/usr/bin/env bash
# Regenerates the `weights.rs` of our pallets with the node's `benchmark pallet`, using the
# template beside this script. Run from anywhere; builds the node first (same build as the
# dev node and the tests, which always include `runtime-benchmarks`).
#
#   benchmarking/regenerate-weights.sh              # every pallet of ours
#   benchmarking/regenerate-weights.sh lending      # one pallet
#   STEPS=50 REPEAT=20 benchmarking/regenerate-weights.sh
#
# Weights are only as good as the machine that measures them: record which machine in the
# commit message (the generated header names it too).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
cargo build --workspace --all-targets --locked

steps=${STEPS:-20}
repeat=${REPEAT:-10}
pallets=("${@:-lending}")
for p in "${pallets[@]}"; do
  out="pallets/$p/src/weights.rs"
  echo "benchmarking pallet_$p -> $out (steps $steps, repeat $repeat)"
  "$NODE_BIN" benchmark pallet \
    --runtime "$CARGO_TARGET_DIR/debug/wbuild/margincall-runtime/margincall_runtime.wasm" \
    --genesis-builder=runtime --genesis-builder-preset=development \
    --pallet "pallet_$p" --extrinsic '*' \
    --steps "$steps" --repeat "$repeat" \
    --wasm-execution compiled \
    --heap-pages 4096 \
    --template benchmarking/frame-weight-template.hbs \
    --header benchmarking/HEADER.txt \
    --output "$out"
done
