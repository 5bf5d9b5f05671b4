#!/usr/bin/env bash
# Starts a dev node from the built binary on a free port and runs against it: e2e/papi.sh (a
# typed client generated from the node's metadata with polkadot-api), e2e/smoke.mjs (connect,
# metadata, a signed transfer, a DEX swap, events in finalized blocks, a liquidation by the
# node's offchain worker) and e2e/metrics.mjs (the node's `margincall_*` Prometheus metrics
# against the runtime APIs after that liquidation); stops it. Then e2e/bids.mjs (standing
# liquidation bids: escrow, the book, refusals by name, a liquidation the bids settle) and
# e2e/pre.mjs (soft pre-liquidation: opt in, the band offered, the keeper's --pre mode) on a
# fresh node.
# Then starts a second dev node without offchain workers (so that the node's own worker does
# not settle before the keeper) and runs e2e/keeper.mjs against it: the clients in clients/
# (the price feeder, the keeper bot liquidating with its own funds and settling), and stops it.
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
node_pid=
log=
# Every node started (two run at once at the end): all stopped on exit.
pids=()
trap 'for p in "${pids[@]}"; do kill $p 2>/dev/null || true; wait $p 2>/dev/null || true; done' EXIT

# Starts a dev node (extra flags in "$@") with RPC on port $1, its log in $log.
start_node() {
  local rpc=$1
  shift
  mark "starting a dev node (RPC $rpc) $*"
  log=$(mktemp -t margincall-e2e-node.XXXXXX.log)
  "$NODE_BIN" --dev --rpc-port "$rpc" --port 0 --no-telemetry "$@" \
    >"$log" 2>&1 &
  node_pid=$!
  pids+=("$node_pid")
  # A debug node takes tens of seconds to reach genesis: wait for RPC, not a fixed sleep.
  for _ in $(seq 1 180); do
    if curl -s -H 'Content-Type: application/json' \
      -d '{"id":1,"jsonrpc":"2.0","method":"system_health","params":[]}' \
      "http://127.0.0.1:$rpc" >/dev/null 2>&1; then
      return 0
    fi
    if ! kill -0 $node_pid 2>/dev/null; then
      echo "e2e: node exited; its log:" >&2; tail -50 "$log" >&2; exit 1
    fi
    sleep 1
  done
  echo "e2e: no RPC on port $rpc after 180 s; node log tail:" >&2; tail -30 "$log" >&2; exit 1
}

# Stops the node after a passing run, and drops its log (a failure exits first and keeps it).
stop_node() {
  kill $node_pid 2>/dev/null || true
  wait $node_pid 2>/dev/null || true
  forget "$node_pid"
  node_pid=
  rm -f "$log"
}

# Drops pid $1 from those the exit trap stops (it was waited for: its number may be reused).
forget() {
  local kept=() p
  for p in "${pids[@]}"; do [[ "$p" == "$1" ]] || kept+=("$p"); done
  pids=("${kept[@]}")
}

start_node "$port" --prometheus-port "$prom_port"
# Typed client (polkadot-api): descriptors generated from this node's metadata; before smoke,
# whose XBTC crash halts the borrowing this check does.
mark "papi"
if ! MARGINCALL_WS="ws://127.0.0.1:$port" bash e2e/papi.sh; then
  echo "e2e: papi typed-client check failed; node log tail:" >&2; tail -30 "$log" >&2; exit 1
fi
mark "smoke"
if ! MARGINCALL_WS="ws://127.0.0.1:$port" node e2e/smoke.mjs; then
  echo "e2e: failed; node log tail:" >&2; tail -30 "$log" >&2; exit 1
fi
mark "metrics"
if ! MARGINCALL_WS="ws://127.0.0.1:$port" MARGINCALL_METRICS="http://127.0.0.1:$prom_port/metrics" \
  node e2e/metrics.mjs; then
  echo "e2e: metrics failed; node log tail:" >&2; tail -30 "$log" >&2; exit 1
fi
stop_node

# Standing bids then soft pre-liquidation on a fresh chain, and beside it the clients on a
# second fresh chain: both validators run no offchain worker (its batches, which do not use
# bids, would settle the borrower first; it would settle before the keeper). Two nodes at once
# (session 25: the keeper's check, ~95 s, no longer waits for the other two): each check waits
# on blocks far more than it computes.
start_node "$port" --offchain-worker never --no-prometheus
bids_pid=$node_pid
bids_log=$log
start_node "$keeper_port" --offchain-worker never --no-prometheus
keeper_pid=$node_pid
keeper_log=$log
keeper_out=$(mktemp -t margincall-e2e-keeper.XXXXXX.log)
mark "keeper (beside bids and pre-liquidation)"
MARGINCALL_WS="ws://127.0.0.1:$keeper_port" node e2e/keeper.mjs >"$keeper_out" 2>&1 &
keeper_check=$!
pids+=("$keeper_check")
mark "bids"
if ! MARGINCALL_WS="ws://127.0.0.1:$port" node e2e/bids.mjs; then
  echo "e2e: bids failed; node log tail:" >&2; tail -30 "$bids_log" >&2; exit 1
fi
# Soft pre-liquidation on the same chain (Bob borrows, opts in, the keeper's --pre mode steps in).
mark "pre-liquidation"
if ! MARGINCALL_WS="ws://127.0.0.1:$port" node e2e/pre.mjs; then
  echo "e2e: pre-liquidation failed; node log tail:" >&2; tail -30 "$bids_log" >&2; exit 1
fi
node_pid=$bids_pid; log=$bids_log; stop_node
keeper_ok=true
wait $keeper_check || keeper_ok=false
forget "$keeper_check"
if ! $keeper_ok; then
  cat "$keeper_out" >&2
  echo "e2e: keeper failed; node log tail:" >&2; tail -30 "$keeper_log" >&2; exit 1
fi
mark "keeper done"
cat "$keeper_out"
rm -f "$keeper_out"
node_pid=$keeper_pid; log=$keeper_log; stop_node
mark "done"
