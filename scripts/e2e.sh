#!/usr/bin/env bash
# Starts a dev node from the built binary on a free port, runs e2e/smoke.mjs against it
# (connect, metadata, a signed transfer, a DEX swap, events in finalized blocks), stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

[[ -x "$NODE_BIN" ]] || { echo "e2e: no node at $NODE_BIN; build it first" >&2; exit 1; }
(cd e2e && npm ci --no-audit --no-fund --loglevel=error)

port=${E2E_RPC_PORT:-19944}
log=$(mktemp -t margincall-e2e-node.XXXXXX.log)
"$NODE_BIN" --dev --rpc-port "$port" --port 0 --no-prometheus --no-telemetry \
  >"$log" 2>&1 &
node_pid=$!
trap 'kill $node_pid 2>/dev/null; wait $node_pid 2>/dev/null || true' EXIT

# A debug node takes tens of seconds to reach genesis: wait for RPC, not a fixed sleep.
for _ in $(seq 1 180); do
  if curl -s -H 'Content-Type: application/json' \
    -d '{"id":1,"jsonrpc":"2.0","method":"system_health","params":[]}' \
    "http://127.0.0.1:$port" >/dev/null 2>&1; then
    break
  fi
  if ! kill -0 $node_pid 2>/dev/null; then
    echo "e2e: node exited; its log:" >&2; tail -50 "$log" >&2; exit 1
  fi
  sleep 1
done

if ! MARGINCALL_WS="ws://127.0.0.1:$port" node e2e/smoke.mjs; then
  echo "e2e: failed; node log tail:" >&2; tail -30 "$log" >&2; exit 1
fi
