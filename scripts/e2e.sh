#!/usr/bin/env bash
# Starts three dev nodes from the built binary, each a fresh chain on its own ports, and runs
# against them at once (each check waits on blocks far more than it computes):
# - the first (offchain workers on): e2e/papi.sh (a typed client generated from the node's
#   metadata with polkadot-api), e2e/smoke.mjs (connect, metadata, a signed transfer, a DEX
#   swap, events in finalized blocks, a liquidation by the node's offchain worker) and
#   e2e/metrics.mjs (the node's `margincall_*` Prometheus metrics against the runtime APIs
#   after that liquidation);
# - the second (no offchain worker: its batches, which do not use bids, would settle the
#   borrower first): e2e/bids.mjs (standing liquidation bids: escrow, the book, refusals by
#   name, a liquidation the bids settle), then e2e/pre.mjs (soft pre-liquidation: opt in, the
#   band offered, the keeper's --pre mode);
# - the third (no offchain worker, which would settle before the keeper): e2e/keeper.mjs, the
#   clients in clients/ (the price feeder, the keeper bot liquidating with its own funds and
#   settling).
# Session 28: the three at once (session 25 ran the keeper's beside bids and pre, after the
# first node's checks).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

[[ -x "$NODE_BIN" ]] || { echo "e2e: no node at $NODE_BIN; build it first" >&2; exit 1; }
# One install per folder, each from its committed lockfile (the same @polkadot/api 16.5.6).
for dir in e2e clients/feeder clients/keeper; do
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
done

# Each part's start, seconds into the e2e: where the test command's time goes.
e2e_start=$(date +%s)
mark() { echo "e2e: [$(( $(date +%s) - e2e_start )) s] $*"; }

port=${E2E_RPC_PORT:-19944}
keeper_port=${E2E_KEEPER_RPC_PORT:-$((port + 1))}
prom_port=${E2E_PROMETHEUS_PORT:-$((port + 2))}
bids_port=${E2E_BIDS_RPC_PORT:-$((port + 3))}
# Every node and background check started: all stopped on exit.
pids=()
trap 'for p in "${pids[@]}"; do kill $p 2>/dev/null || true; wait $p 2>/dev/null || true; done' EXIT

# Starts a dev node (extra flags in "$@") with RPC on port $1, its log in $2; does not wait.
launch_node() {
  local rpc=$1 log=$2
  shift 2
  mark "starting a dev node (RPC $rpc) $*"
  "$NODE_BIN" --dev --rpc-port "$rpc" --port 0 --no-telemetry "${NODE_WASM[@]}" "$@" >"$log" 2>&1 &
  pids+=("$!")
  echo "$!" >"$log.pid"
}

# Waits until the node on port $1 (log $2) answers RPC. A debug node takes tens of seconds to
# reach genesis (three at once on two cores: longer): RPC, not a fixed sleep.
wait_rpc() {
  local rpc=$1 log=$2 pid
  pid=$(cat "$log.pid")
  for _ in $(seq 1 300); do
    if curl -s -H 'Content-Type: application/json' \
      -d '{"id":1,"jsonrpc":"2.0","method":"system_health","params":[]}' \
      "http://127.0.0.1:$rpc" >/dev/null 2>&1; then
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "e2e: node (RPC $rpc) exited; its log:" >&2; tail -50 "$log" >&2; exit 1
    fi
    sleep 1
  done
  echo "e2e: no RPC on port $rpc after 300 s; node log tail:" >&2; tail -30 "$log" >&2; exit 1
}

main_log=$(mktemp -t margincall-e2e-node.XXXXXX.log)
bids_log=$(mktemp -t margincall-e2e-node.XXXXXX.log)
keeper_log=$(mktemp -t margincall-e2e-node.XXXXXX.log)
launch_node "$port" "$main_log" --prometheus-port "$prom_port"
launch_node "$bids_port" "$bids_log" --offchain-worker never --no-prometheus
launch_node "$keeper_port" "$keeper_log" --offchain-worker never --no-prometheus
# A node whose genesis build failed only because the kernel refused to seal a memfd
# (scripts/env.sh) is started again, at most twice; any other exit is wait_rpc's to report.
relaunch_if_refused() {
  local rpc=$1 log=$2 try
  shift 2
  for try in 1 2; do
    for _ in $(seq 1 120); do
      grep -q "Initializing Genesis" "$log" && return 0
      kill -0 "$(cat "$log.pid")" 2>/dev/null || break
      sleep 1
    done
    grep -q "$MEMFD_REFUSED" "$log" || return 0
    mark "the node (RPC $rpc) could not seal a memfd: started again (retry $try of 2)"
    kill "$(cat "$log.pid")" 2>/dev/null || true
    wait "$(cat "$log.pid")" 2>/dev/null || true
    launch_node "$rpc" "$log" "$@"
  done
}
relaunch_if_refused "$port" "$main_log" --prometheus-port "$prom_port"
relaunch_if_refused "$bids_port" "$bids_log" --offchain-worker never --no-prometheus
relaunch_if_refused "$keeper_port" "$keeper_log" --offchain-worker never --no-prometheus

# The keeper's check, and bids then pre-liquidation, in the background; their output kept
# and shown at the end.
keeper_out=$(mktemp -t margincall-e2e-keeper.XXXXXX.log)
bids_out=$(mktemp -t margincall-e2e-bids.XXXXXX.log)
(
  wait_rpc "$keeper_port" "$keeper_log"
  mark "keeper"
  MARGINCALL_WS="ws://127.0.0.1:$keeper_port" node e2e/keeper.mjs
  mark "keeper done"
) >"$keeper_out" 2>&1 &
keeper_check=$!
pids+=("$keeper_check")
(
  wait_rpc "$bids_port" "$bids_log"
  mark "bids"
  MARGINCALL_WS="ws://127.0.0.1:$bids_port" node e2e/bids.mjs
  # Soft pre-liquidation on the same chain (Bob borrows, opts in, the keeper's --pre mode).
  mark "pre-liquidation"
  MARGINCALL_WS="ws://127.0.0.1:$bids_port" node e2e/pre.mjs
  mark "bids and pre-liquidation done"
) >"$bids_out" 2>&1 &
bids_check=$!
pids+=("$bids_check")

# Fails the e2e with the check's output (file $2) and its node's log tail (file $3).
failed() {
  [[ -n "$2" ]] && cat "$2" >&2
  echo "e2e: $1 failed; node log tail:" >&2; tail -30 "$3" >&2; exit 1
}

wait_rpc "$port" "$main_log"
# Typed client (polkadot-api): descriptors generated from this node's metadata; before smoke,
# whose XBTC crash halts the borrowing this check does.
mark "papi"
MARGINCALL_WS="ws://127.0.0.1:$port" bash e2e/papi.sh || failed "papi typed-client check" "" "$main_log"
mark "smoke"
MARGINCALL_WS="ws://127.0.0.1:$port" node e2e/smoke.mjs || failed smoke "" "$main_log"
mark "metrics"
MARGINCALL_WS="ws://127.0.0.1:$port" MARGINCALL_METRICS="http://127.0.0.1:$prom_port/metrics" \
  node e2e/metrics.mjs || failed metrics "" "$main_log"
mark "smoke and metrics done"

wait "$bids_check" || failed "bids or pre-liquidation" "$bids_out" "$bids_log"
cat "$bids_out"
wait "$keeper_check" || failed keeper "$keeper_out" "$keeper_log"
cat "$keeper_out"
rm -f "$keeper_out" "$bids_out"
for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
pids=()
rm -f "$main_log" "$main_log.pid" "$bids_log" "$bids_log.pid" "$keeper_log" "$keeper_log.pid"
mark "done"
