#!/usr/bin/env bash
# Runs the `local` chain (preset local_testnet): three validators, Alice, Bob and Charlie, on
# loopback, each with its own base path under $LOCAL_TESTNET_DIR (default: a fresh temp dir).
# RPC: Alice 9944, Bob 9945, Charlie 9946. With --check, waits until the three have finalized
# block 3 together, prints their status and stops them (exit 1 if they do not within 6 min).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
[[ -x "$NODE_BIN" ]] || { echo "no node at $NODE_BIN: run scripts/dev-node.sh or scripts/test.sh first" >&2; exit 1; }

dir=${LOCAL_TESTNET_DIR:-$(mktemp -d -t margincall-local.XXXXXX)}
# Fixed node keys (a validator of a non-dev chain needs one); Alice's lets the others name
# her as their bootnode. Test keys only: never reuse them on a real network.
alice_key=0000000000000000000000000000000000000000000000000000000000000001
bob_key=0000000000000000000000000000000000000000000000000000000000000002
charlie_key=0000000000000000000000000000000000000000000000000000000000000003
alice_peer=$("$NODE_BIN" key inspect-node-key --file <(printf '%s' "$alice_key"))
boot="/ip4/127.0.0.1/tcp/30333/p2p/$alice_peer"

pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null || true' EXIT
start() { # name p2p-port rpc-port extra...
  local name=$1 port=$2 rpc=$3; shift 3
  "$NODE_BIN" --chain local "--$name" --base-path "$dir/$name" --port "$port" --rpc-port "$rpc" \
    --no-prometheus --no-telemetry --no-mdns "$@" >"$dir/$name.log" 2>&1 &
  pids+=($!)
}
start alice 30333 9944 --node-key "$alice_key"
start bob 30334 9945 --node-key "$bob_key" --bootnodes "$boot"
start charlie 30335 9946 --node-key "$charlie_key" --bootnodes "$boot"
echo "local testnet in $dir (logs: $dir/{alice,bob,charlie}.log)"

finalized() { # rpc-port -> finalized block number, or -1
  local hash num
  hash=$(curl -s -H 'Content-Type: application/json' \
    -d '{"id":1,"jsonrpc":"2.0","method":"chain_getFinalizedHead","params":[]}' \
    "http://127.0.0.1:$1" | sed -n 's/.*"result":"\(0x[0-9a-f]*\)".*/\1/p')
  [[ -n "$hash" ]] || { echo -1; return; }
  num=$(curl -s -H 'Content-Type: application/json' \
    -d "{\"id\":1,\"jsonrpc\":\"2.0\",\"method\":\"chain_getHeader\",\"params\":[\"$hash\"]}" \
    "http://127.0.0.1:$1" | sed -n 's/.*"number":"\(0x[0-9a-f]*\)".*/\1/p')
  [[ -n "$num" ]] && echo $((num)) || echo -1
}

if [[ "${1:-}" == "--check" ]]; then
  for _ in $(seq 1 360); do
    a=$(finalized 9944); b=$(finalized 9945); c=$(finalized 9946)
    if (( a >= 3 && b >= 3 && c >= 3 )); then
      echo "local testnet: finalized alice #$a, bob #$b, charlie #$c"
      exit 0
    fi
    sleep 1
  done
  echo "local testnet: not finalizing (alice #$a, bob #$b, charlie #$c)" >&2
  for f in "$dir"/*.log; do echo "== $f" >&2; tail -n 5 "$f" >&2; done
  exit 1
fi
wait
