#!/usr/bin/env bash
# Measures this chain's DB weights with the node's `benchmark storage` over ParityDB (the node's
# database) and writes `runtime/src/weights/paritydb_weights.rs`, which the runtime uses as
# `frame_system::Config::DbWeight`. Run it, then benchmarking/regenerate-weights.sh (whose
# storage terms are priced by these weights).
#
#   benchmarking/storage-weights.sh            # 1,000,000 accounts added to the dev genesis
#   ACCOUNTS=100000 benchmarking/storage-weights.sh
#
# The state: the dev chain's genesis grown by ACCOUNTS funded accounts
# (benchmarking/storage/grow-state.py), so the trie has the depth of a chain with that many
# accounts. The trie cache is off (the benchmark's default): every read walks the trie from the
# database, the worst case, though the node runs with a cache. The database is built by a first
# pass and measured by a second, in a new process. Metric: the average of all keys
# times 1.1, the margin Substrate's reference weights carry for a machine's run-to-run spread.
# Same release build as regenerate-weights.sh (~45 min cold on the 2-core machine; alone).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
cargo build --release -p margincall-node -p margincall-scale-bench --locked

node="$CARGO_TARGET_DIR/release/margincall-node"
accounts=${ACCOUNTS:-1000000}
work=$(mktemp -d /tmp/margincall-storage.XXXXXX)
trap 'rm -rf "$work"' EXIT
"$node" build-spec --chain dev --raw --disable-default-bootnode 2>/dev/null > "$work/raw.json"
python3 benchmarking/storage/grow-state.py "$accounts" < "$work/raw.json" > "$work/grown.json"
mkdir -p runtime/src/weights
# First pass: import the grown genesis into ParityDB (and time reads only, discarded). ParityDB
# commits to an in-memory queue that background threads flush to its tables, so a benchmark
# right after the import would read part of the state from that queue; the measured pass below
# opens the finished database in a new process.
"$node" benchmark storage \
  --chain "$work/grown.json" --base-path "$work/db" --database paritydb \
  --state-version 1 --skip-write --weight-path "$work/" >/dev/null 2>&1 || true
"$node" benchmark storage \
  --chain "$work/grown.json" --base-path "$work/db" --database paritydb \
  --state-version 1 --metric average --mul 1.1 --batch-size 1000 \
  --template-path benchmarking/storage/db-weights.hbs --header benchmarking/storage/HEADER.txt \
  --weight-path runtime/src/weights/ \
  2>&1 | tee benchmarking/results/storage.txt
echo "state: dev genesis + $accounts accounts; machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)" \
  | tee -a benchmarking/results/storage.txt
