#!/usr/bin/env bash
# Regenerates the `weights.rs` of our pallets with the node's `benchmark pallet`, using the
# template beside this script. Weights are measured with a RELEASE node built with
# `runtime-benchmarks` (a default feature of the node crate): the debug node's host functions
# are unoptimised and measure 10-30x too heavy (see benchmarking/README.md).
#
#   benchmarking/regenerate-weights.sh              # every pallet of ours
#   benchmarking/regenerate-weights.sh lending      # one pallet
#   STEPS=50 REPEAT=20 benchmarking/regenerate-weights.sh
#
# The release build takes ~45 min cold on this project's 2-core machine; run it alone (never
# beside another cargo build). Record the machine in the commit message and in
# benchmarking/README.md (the generated header names it too).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
# With the scale benchmarks: one feature resolution for both, so building either later
# rebuilds nothing (the node alone resolves the runtime's dependencies differently).
cargo build --release -p margincall-node -p margincall-scale-bench --locked

node="$CARGO_TARGET_DIR/release/margincall-node"
wasm="$CARGO_TARGET_DIR/release/wbuild/margincall-runtime/margincall_runtime.compact.compressed.wasm"
steps=${STEPS:-20}
repeat=${REPEAT:-10}
if [ $# -gt 0 ]; then pallets=("$@"); else pallets=(lending liquidation breaker bids); fi
for p in "${pallets[@]}"; do
  out="pallets/$p/src/weights.rs"
  echo "benchmarking pallet_$p -> $out (steps $steps, repeat $repeat)"
  "$node" benchmark pallet \
    --runtime "$wasm" \
    --genesis-builder=runtime --genesis-builder-preset=development \
    --pallet "pallet_$p" --extrinsic '*' \
    --steps "$steps" --repeat "$repeat" \
    --wasm-execution compiled \
    --heap-pages 4096 \
    --template benchmarking/frame-weight-template.hbs \
    --header benchmarking/HEADER.txt \
    --output "$out"
done
# The scale benchmarks embed the weights they were built with (built above, before these):
# rebuild them before quoting their tables.
echo "weights written; rebuild margincall-scale-bench before running it (it embeds the old ones)"
