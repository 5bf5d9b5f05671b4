#!/usr/bin/env bash
# Typed-client check of the running node at MARGINCALL_WS (default ws://127.0.0.1:9944) through
# polkadot-api: `npm ci` in e2e/papi, the typed descriptors generated from that node's own
# metadata (papi add + generate, e2e/papi/codegen.mjs), `tsc` over the test against them, and
# the test (e2e/papi/test.ts: oracle feed, supply, borrow, LendingApi and LiquidationApi reads).
# Starts no node: scripts/e2e.sh calls it with its own, or run it against
# `scripts/dev-node.sh`'s. Run it before e2e/smoke.mjs on a shared node (see test.ts).
set -euo pipefail
cd "$(dirname "$0")/papi"
export MARGINCALL_WS="${MARGINCALL_WS:-ws://127.0.0.1:9944}"

step() { # name, command...: runs it, reports its time
  local name=$1 start=$SECONDS
  shift
  "$@"
  times+=("$name $((SECONDS - start)) s")
}
times=()
step "npm ci" npm ci --no-audit --no-fund --loglevel=error
step codegen node codegen.mjs
rm -rf build
step tsc node_modules/.bin/tsc -p .
step test node --import ./ws-global.mjs build/test.js
echo "papi e2e: $(IFS=,; echo "${times[*]}" | sed 's/,/, /g')"
