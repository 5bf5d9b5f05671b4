#!/usr/bin/env bash
# Runs the `local` chain (preset local_testnet): four validators, Alice, Bob, Charlie and Dave, on
# loopback, each with its own base path under $LOCAL_TESTNET_DIR (default: a fresh temp dir),
# from one raw chain spec built there first ($dir/local.json, the same genesis as
# `--chain local`: each node then loads the genesis storage instead of running the runtime's
# genesis builder, tens of seconds each on a debug build).
# RPC: Alice 9944, Bob 9945, Charlie 9946, Dave 9947. Four, not three: GRANDPA finalizes with
# more than two thirds of its voters (three equal voters need all three). Modes:
#   (none)    run until interrupted;
#   --check   wait until the four have finalized block 3 together, print their status and stop
#             them (exit 1 if they do not within 6 min);
#   --fault   a crash test, every step checked (exit 1 with the nodes' log tails on failure):
#             finalized #3 by all four; Charlie killed (SIGKILL); Alice, Bob and Dave keep
#             producing and finalizing (3 of 4 is GRANDPA's supermajority); meanwhile
#             e2e/fault.mjs (against Alice) feeds, borrows, drops the price past the oracle
#             guard and gets Eve liquidated (validators' offchain workers or a keeper), finalized
#             while Charlie is down; Charlie restarted from his database; he catches up, the
#             four agree on block hash and state root, Charlie's pre-crash finalized block is
#             intact.
#             Bounded by FAULT_DEADLINE_S (600 s) in all.
# LOCAL_TESTNET_NODE_ARGS: more arguments for all four nodes (word-split), e.g.
# `--offchain-worker never` to leave --fault's liquidation to the keeper.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
mode=${1:-}
case "$mode" in
  "" | --check | --fault) ;;
  *) echo "usage: $0 [--check | --fault]" >&2; exit 2 ;;
esac
[[ -x "$NODE_BIN" ]] || { echo "no node at $NODE_BIN: run scripts/dev-node.sh or scripts/test.sh first" >&2; exit 1; }
if [[ "$mode" == --fault && ! -d e2e/node_modules/@polkadot/api ]]; then
  (cd e2e && npm ci --no-audit --no-fund --loglevel=error)
fi

dir=${LOCAL_TESTNET_DIR:-$(mktemp -d -t margincall-local.XXXXXX)}
mkdir -p "$dir"
# Fixed node keys (a validator of a non-dev chain needs one); Alice's lets the others name
# her as their bootnode. Test keys only: never reuse them on a real network.
alice_key=0000000000000000000000000000000000000000000000000000000000000001
bob_key=0000000000000000000000000000000000000000000000000000000000000002
charlie_key=0000000000000000000000000000000000000000000000000000000000000003
dave_key=0000000000000000000000000000000000000000000000000000000000000004
alice_peer=$("$NODE_BIN" key inspect-node-key --file <(printf '%s' "$alice_key"))
boot="/ip4/127.0.0.1/tcp/30333/p2p/$alice_peer"
spec="$dir/local.json"
retry_memfd "$NODE_BIN" build-spec --chain local --raw --disable-default-bootnode >"$spec" 2>"$dir/build-spec.log" ||
  { echo "build-spec --chain local failed:" >&2; tail -n 20 "$dir/build-spec.log" >&2; exit 1; }

declare -A pid=()
fault_pid=
cleanup() {
  if [[ -n "$fault_pid" ]]; then kill "$fault_pid" 2>/dev/null || true; fi
  if ((${#pid[@]})); then kill "${pid[@]}" 2>/dev/null || true; fi
  wait 2>/dev/null || true
}
trap cleanup EXIT
start() { # name p2p-port rpc-port extra...
  local name=$1 port=$2 rpc=$3; shift 3
  "$NODE_BIN" --chain "$spec" "--$name" --base-path "$dir/$name" --port "$port" --rpc-port "$rpc" \
    --no-prometheus --no-telemetry --no-mdns "${NODE_WASM[@]}" ${LOCAL_TESTNET_NODE_ARGS:-} "$@" >>"$dir/$name.log" 2>&1 &
  pid[$name]=$!
}
start_charlie() { start charlie 30335 9946 --node-key "$charlie_key" --bootnodes "$boot"; }
start alice 30333 9944 --node-key "$alice_key"
start bob 30334 9945 --node-key "$bob_key" --bootnodes "$boot"
start_charlie
start dave 30336 9947 --node-key "$dave_key" --bootnodes "$boot"
echo "local testnet in $dir (logs: $dir/{alice,bob,charlie,dave}.log)"

rpc() { # port method params-json -> the response (empty when the node does not answer)
  curl -s --max-time 5 -H 'Content-Type: application/json' \
    -d "{\"id\":1,\"jsonrpc\":\"2.0\",\"method\":\"$2\",\"params\":$3}" "http://127.0.0.1:$1" || true
}
field() { # name: a hex string field of the JSON on stdin, or nothing
  sed -n "s/.*\"$1\":\"\(0x[0-9a-f]*\)\".*/\1/p"
}
number_of() { # port block-hash -> its number, or -1
  local num
  num=$(rpc "$1" chain_getHeader "[\"$2\"]" | field number)
  [[ -n "$num" ]] && echo $((num)) || echo -1
}
finalized_hash() { rpc "$1" chain_getFinalizedHead '[]' | field result; }
finalized() { # rpc-port -> finalized block number, or -1
  local hash
  hash=$(finalized_hash "$1")
  [[ -n "$hash" ]] && number_of "$1" "$hash" || echo -1
}
best() { # rpc-port -> best block number, or -1
  local num
  num=$(rpc "$1" chain_getHeader '[]' | field number)
  [[ -n "$num" ]] && echo $((num)) || echo -1
}
hash_at() { rpc "$1" chain_getBlockHash "[$2]" | field result; } # port number -> canonical hash
state_root() { rpc "$1" chain_getHeader "[\"$2\"]" | field stateRoot; } # port hash

if [[ "$mode" == --check ]]; then
  for _ in $(seq 1 360); do
    a=$(finalized 9944); b=$(finalized 9945); c=$(finalized 9946); d=$(finalized 9947)
    if (( a >= 3 && b >= 3 && c >= 3 && d >= 3 )); then
      echo "local testnet: finalized alice #$a, bob #$b, charlie #$c, dave #$d"
      exit 0
    fi
    sleep 1
  done
  echo "local testnet: not finalizing (alice #$a, bob #$b, charlie #$c, dave #$d)" >&2
  for f in "$dir"/*.log; do echo "== $f" >&2; tail -n 5 "$f" >&2; done
  exit 1
fi
if [[ "$mode" != --fault ]]; then
  wait
  exit
fi

# --fault.
deadline=${FAULT_DEADLINE_S:-600} # from the script's start (SECONDS)
say() { printf '[%4ds] %s\n' "$SECONDS" "$*"; }
fail() {
  {
    echo "local testnet --fault: FAIL at ${SECONDS}s: $*"
    echo "finalized/best: alice #$(finalized 9944)/#$(best 9944), bob #$(finalized 9945)/#$(best 9945)," \
      "charlie #$(finalized 9946)/#$(best 9946), dave #$(finalized 9947)/#$(best 9947) (-1: no answer)"
    for f in "$dir"/{alice,bob,charlie,dave}.log "$dir/fault.out"; do
      [[ -f "$f" ]] || continue
      echo "== $f"
      # The pool's per-block `maintain` lines would crowd out the rest.
      grep -v ' maintain txs=' "$f" | tail -n 15
    done
  } >&2
  exit 1
}
alive() { # the nodes that must be running are
  local name
  for name in "$@"; do
    kill -0 "${pid[$name]}" 2>/dev/null || fail "$name's node exited"
  done
}
up=(alice bob charlie dave)
wait_until() { # seconds what command...: polls the command every second
  local limit=$1 what=$2; shift 2
  local until=$((SECONDS + limit))
  ((until < deadline)) || until=$deadline
  until "$@"; do
    ((SECONDS < until)) || fail "$what: not within ${limit}s (or the ${FAULT_DEADLINE_S:-600}s deadline)"
    alive "${up[@]}"
    sleep 1
  done
}
fin=() bst=()
sample() { # the finalized and best numbers of the nodes on the given ports, into fin[] and bst[]
  local port
  for port in "$@"; do fin[$port]=$(finalized "$port"); bst[$port]=$(best "$port"); done
}
max() { local m=$1 x; for x in "$@"; do ((x > m)) && m=$x; done; echo "$m"; }
min() { local m=$1 x; for x in "$@"; do ((x < m)) && m=$x; done; echo "$m"; }

# 1. All four finalize.
all_finalized() {
  sample 9944 9945 9946 9947
  ((fin[9944] >= $1 && fin[9945] >= $1 && fin[9946] >= $1 && fin[9947] >= $1))
}
wait_until 300 "all four finalize #3" all_finalized 3
t_up=$SECONDS
say "finalized: alice #${fin[9944]}, bob #${fin[9945]}, charlie #${fin[9946]}, dave #${fin[9947]}"

# GRANDPA's supermajority (finality-grandpa's VoterSet: total − ⌊(total − 1) / 3⌋) decides
# whether Alice and Bob may finalize alone.
grandpa=$(MARGINCALL_WS=ws://127.0.0.1:9944 timeout 60 node e2e/fault.mjs grandpa) ||
  fail "reading the GRANDPA voter set: $grandpa"
say "$grandpa"
[[ "$grandpa" == *finalizes_without_charlie=yes* ]] ||
  fail "the local preset's GRANDPA voters cannot finalize without Charlie: $grandpa"
finality_expected=1

# 2. Charlie crashes. What he had before: his finalized block (hash) and his best block.
c_fin_hash=$(finalized_hash 9946); c_fin=$(number_of 9946 "$c_fin_hash"); c_best=$(best 9946)
c_best_hash=$(hash_at 9946 "$c_best")
((c_fin >= 3)) && [[ -n "$c_fin_hash" && -n "$c_best_hash" ]] || fail "reading Charlie's chain before the kill"
kill -KILL "${pid[charlie]}"
wait "${pid[charlie]}" 2>/dev/null || true
unset 'pid[charlie]'
up=(alice bob dave)
t_kill=$SECONDS
sample 9944 9945
kill_fin=$(max "${fin[9944]}" "${fin[9945]}"); kill_best=$(max "${bst[9944]}" "${bst[9945]}")
say "Charlie killed (SIGKILL) at his finalized #$c_fin ($c_fin_hash), best #$c_best;" \
  "alice/bob finalized #${fin[9944]}/#${fin[9945]}, best #${bst[9944]}/#${bst[9945]}"

# 3. Meanwhile, the liquidation (against Alice).
MARGINCALL_WS=ws://127.0.0.1:9944 FAULT_REQUIRE_FINALIZED=$finality_expected FAULT_TIMEOUT_S=300 \
  node e2e/fault.mjs >"$dir/fault.out" 2>&1 &
fault_pid=$!
say "e2e/fault.mjs started against Alice (output: $dir/fault.out)"

producing() { sample 9944 9945; ((bst[9944] >= kill_best + $1 && bst[9945] >= kill_best + $1)); }
wait_until 150 "Alice and Bob keep producing without Charlie (best past #$((kill_best + 5)))" producing 5
say "producing without Charlie: alice best #${bst[9944]}, bob best #${bst[9945]}"
if ((finality_expected)); then
  finalizing() { sample 9944 9945; ((fin[9944] >= kill_fin + 3 && fin[9945] >= kill_fin + 3)); }
  wait_until 150 "Alice and Bob keep finalizing without Charlie (past #$((kill_fin + 3)))" finalizing
  say "finalizing without Charlie: alice #${fin[9944]}, bob #${fin[9945]} (#$kill_fin at the kill)"
fi

while kill -0 "$fault_pid" 2>/dev/null; do
  ((SECONDS < deadline)) || fail "e2e/fault.mjs still running at the deadline"
  alive "${up[@]}"
  sleep 1
done
fault_rc=0
wait "$fault_pid" || fault_rc=$?
fault_pid=
sed 's/^/  fault.mjs: /' "$dir/fault.out"
((fault_rc == 0)) || fail "e2e/fault.mjs failed (exit $fault_rc)"
line=$(grep '^LIQUIDATION ' "$dir/fault.out") || fail "e2e/fault.mjs printed no LIQUIDATION line"
liq_n=$(sed -n 's/.* number=\([0-9]*\) .*/\1/p' <<<"$line")
liq_hash=$(sed -n 's/.* hash=\(0x[0-9a-f]*\) .*/\1/p' <<<"$line")
liq_event=$(sed -n 's/.* event=\([A-Za-z]*\) .*/\1/p' <<<"$line")
liq_by=$(sed -n 's/.* by=\([a-z]*\) .*/\1/p' <<<"$line")
[[ -n "$liq_n" && -n "$liq_hash" ]] || fail "unreadable: $line"
bob_has_liq() { [[ $(hash_at 9945 "$liq_n") == "$liq_hash" ]]; }
wait_until 60 "Bob has the liquidation's block #$liq_n ($liq_hash)" bob_has_liq
# The end of the outage.
sample 9944 9945
restart_fin=$(max "${fin[9944]}" "${fin[9945]}"); restart_best=$(max "${bst[9944]}" "${bst[9945]}")
if ((finality_expected)); then
  ((fin[9944] >= liq_n)) || fail "the liquidation's block #$liq_n is not finalized on Alice while Charlie is down"
  say "liquidation.$liq_event (by the $liq_by) in #$liq_n, finalized while Charlie is down"
else
  # Two of three equal voters are short of the supermajority: nothing Charlie had not seen
  # (his best at the kill, plus a block imported in between) may be finalized without him.
  stall_fin=$restart_fin
  ((stall_fin <= c_best + 1)) ||
    fail "finalized #$stall_fin without Charlie, past his best #$c_best at the kill: GRANDPA needs him"
  say "liquidation.$liq_event (by the $liq_by) in #$liq_n on Alice's and Bob's best chain; finality stalled" \
    "at #$stall_fin (#$kill_fin at the kill) while Charlie is down, as GRANDPA's supermajority requires"
fi

# 4. Charlie restarts from his database (same base path, same node key).
t_restart=$SECONDS
echo "===== $(date '+%F %T') restarted by local-testnet.sh --fault =====" >>"$dir/charlie.log"
start_charlie
up=(alice bob charlie dave)
say "Charlie restarted after $((t_restart - t_kill))s down; alice/bob finalized #$restart_fin, best #$restart_best"
caught_up() { sample 9946; ((fin[9946] >= restart_fin && bst[9946] >= restart_best)); }
wait_until 180 "Charlie catches up (finalized #$restart_fin, best #$restart_best)" caught_up
t_caught=$SECONDS
say "Charlie caught up: finalized #${fin[9946]}, best #${bst[9946]}"
t_resumed=
covered() {
  sample 9944 9945 9946 9947
  [[ -z "$t_resumed" ]] && ((fin[9944] > restart_fin)) && t_resumed=$SECONDS
  local want
  want=$(max "$liq_n" "$restart_best")
  ((fin[9944] >= want && fin[9945] >= want && fin[9946] >= want && fin[9947] >= want))
}
wait_until 180 "all four finalize the outage's blocks (#$(max "$liq_n" "$restart_best"))" covered
t_covered=$SECONDS
[[ -n "$t_resumed" ]] || t_resumed=$t_covered
say "finality covers the outage: alice #${fin[9944]}, bob #${fin[9945]}, charlie #${fin[9946]}"

# The same chain on all four: the highest block all have finalized, the liquidation's block,
# the genesis; Charlie's block from before the crash.
sample 9944 9945 9946 9947
n=$(min "${fin[9944]}" "${fin[9945]}" "${fin[9946]}" "${fin[9947]}")
for port in 9944 9945 9946 9947; do
  h[$port]=$(hash_at "$port" "$n"); r[$port]=$(state_root "$port" "${h[$port]}")
  [[ -n "${h[$port]}" && -n "${r[$port]}" ]] || fail "no block #$n or header on port $port"
  g[$port]=$(hash_at "$port" 0); l[$port]=$(hash_at "$port" "$liq_n")
done
for port in 9945 9946 9947; do
  [[ ${h[9944]} == "${h[$port]}" ]] || fail "finalized #$n differs: alice ${h[9944]}, port $port ${h[$port]}"
  [[ ${r[9944]} == "${r[$port]}" ]] ||
    fail "state root of #$n differs: alice ${r[9944]}, port $port ${r[$port]}"
  [[ ${g[9944]} == "${g[$port]}" ]] || fail "genesis differs on port $port"
done
for port in 9944 9945 9946 9947; do
  [[ ${l[$port]} == "$liq_hash" ]] ||
    fail "the liquidation's block #$liq_n on port $port: ${l[$port]} (want $liq_hash)"
done
say "all four: #$n ${h[9944]} state root ${r[9944]}; the liquidation's #$liq_n finalized as $liq_hash"
# He started from his database, not from genesis: the block it held at the restart.
c_known=$(sed -n '/restarted by local-testnet.sh --fault/,$p' "$dir/charlie.log" |
  sed -n 's/.*Highest known block at #\([0-9]*\).*/\1/p' | tail -n 1)
[[ -n "$c_known" ]] && ((c_known >= c_fin)) ||
  fail "Charlie's restart did not start from his database (highest known block '#$c_known', finalized #$c_fin before)"
c_fin_after=$(hash_at 9946 "$c_fin")
[[ "$c_fin_after" == "$c_fin_hash" ]] ||
  fail "Charlie's finalized #$c_fin was $c_fin_hash before the crash, $c_fin_after after"
c_best_after=$(hash_at 9946 "$c_best")
[[ "$c_best_after" == "$c_best_hash" ]] && best_note="his best #$c_best too" ||
  best_note="his unfinalized best #$c_best was replaced ($c_best_hash -> $c_best_after)"
say "no data lost: Charlie restarted at his block #$c_known; his pre-crash finalized #$c_fin is still $c_fin_hash; $best_note"

# 5. Summary.
if ((finality_expected)); then
  during="finalized #$kill_fin -> #$restart_fin without Charlie"
  after="finality covered the outage after $((t_covered - t_restart))s"
else
  during="finality stalled at #$stall_fin without Charlie: 2 of 3 equal GRANDPA voters are under the supermajority of 3"
  after="finality resumed after $((t_resumed - t_restart))s and covered the outage after $((t_covered - t_restart))s"
fi
echo "local testnet --fault: ok in ${SECONDS}s: finalized #3 at ${t_up}s; Charlie down $((t_restart - t_kill))s" \
  "(Alice/Bob best #$kill_best -> #$restart_best; $during); liquidation.$liq_event by the $liq_by in #$liq_n;" \
  "Charlie caught up $((t_caught - t_restart))s after restart, $after; all four agree on #$n (hash, state root)"
