#!/usr/bin/env bash
# The long run of the liquidation pallet's property test (pallets/liquidation/src/property.rs):
# random sequences over lending, liquidation (keeper, settle, batches' routes, netting), the
# loss waterfall, auctions (take, redo), same-asset positions, collateral toggles, repayments
# mid-auction, small collaterals, price paths through auction floors and governance changes,
# with every invariant (conservation to the unit, no write-off beyond the deficit, liveness,
# validity = inclusion, both pallets' try_state) checked after each operation.
#
#   benchmarking/soak.sh [TARGET_OPS] [FIRST_SEED]     # default 10,000,000 ops from seed 1
#   SOAK_JOBS=2 benchmarking/soak.sh ...               # two seeds at a time (one per core)
#
# Not part of CI (CI runs the same test with a fixed seed and 300 sequences). Builds the test
# once in the `soak` profile (optimised, with debug assertions and overflow checks: see
# Cargo.toml), then runs that binary seed after seed (each SOAK_CASES = 2,000 sequences of up to
# 40 operations) until TARGET_OPS operations have run or a seed fails; prints each seed's
# operations and rate, and appends the summary, with the commit tested, to
# benchmarking/results/soak.txt. A failing seed prints proptest's minimal failing sequence and
# stops: rerun it with `PROPTEST_SEED=<seed> LIQUIDATION_PROPTEST_CASES=2000 cargo test
# --profile soak -p pallet-liquidation random_liquidations -- --nocapture` (proptest warns that it
# ignores PROPTEST_SEED: the test's own runner reads it, see mock.rs).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
target=${1:-10000000}
seed=${2:-1}
cases=${SOAK_CASES:-2000}
out=benchmarking/results/soak.txt
bin=$(SKIP_WASM_BUILD=1 cargo test --profile soak -p pallet-liquidation --locked --no-run \
  --message-format=json 2>/dev/null \
  | python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "pallet_liquidation" \
            and m["profile"]["test"] and m.get("executable"):
        print(m["executable"])')
[ -x "$bin" ] || { echo "soak: the test binary did not build" >&2; exit 1; }
commit=$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- pallets || echo "+uncommitted")
# SOAK_JOBS runs that many seeds at once (one core each): job j takes seeds seed+j,
# seed+j+jobs, ... until the jobs' operations together reach TARGET_OPS, or any seed fails.
jobs=${SOAK_JOBS:-1}
start=$(date +%s)
work=$(mktemp -d)
tmp="$out.$$.tmp"
{
  echo "# soak: $(date -u +%FT%TZ), $(nproc) cores, $(uname -m), soak profile (optimised, debug assertions and overflow checks on), commit $commit"
  echo "# command: SOAK_JOBS=$jobs benchmarking/soak.sh $target $seed (SOAK_CASES=$cases)"
} >"$tmp"
# The operations every job has run so far (each job writes its own total).
sum_ops() { cat "$work"/total.* 2>/dev/null | awk '{s += $1} END {print s + 0}'; }
job() {
  local j=$1 s=$(( seed + $1 )) t=0 t0 ops dt
  echo 0 >"$work/total.$j"
  while (( $(sum_ops) < target )) && [ ! -e "$work/failed" ]; do
    t0=$(date +%s)
    if ! LIQUIDATION_SOAK=1 PROPTEST_SEED=$s LIQUIDATION_PROPTEST_CASES=$cases "$bin" \
        random_liquidations_touch_no_healthy_account --nocapture >"$work/log.$j" 2>&1; then
      cat "$work/log.$j"
      echo "seed $s: FAILED" | tee -a "$tmp"
      touch "$work/failed"
      return 1
    fi
    # Both property tests (the second with throttled collaterals) print their operations.
    ops=$(grep -oE 'ops: [0-9]+' "$work/log.$j" | grep -oE '[0-9]+' | awk '{s += $1} END {print s + 0}')
    dt=$(( $(date +%s) - t0 ))
    t=$(( t + ops ))
    echo "$t" >"$work/total.$j"
    echo "seed $s: $ops ops in ${dt} s ($(( ops / (dt > 0 ? dt : 1) )) ops/s), job $j total $t, all jobs $(sum_ops), 0 violations" | tee -a "$tmp"
    s=$(( s + jobs ))
  done
}
pids=()
for (( j = 0; j < jobs; j++ )); do job "$j" & pids+=($!); done
failed=0
for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
total=$(sum_ops)
elapsed=$(( $(date +%s) - start ))
if (( failed )); then
  echo "soak: FAILED after $total operations in ${elapsed} s" | tee -a "$tmp"
else
  echo "soak: $total operations in ${elapsed} s ($(( total / (elapsed > 0 ? elapsed : 1) )) ops/s over $jobs jobs), 0 violations" | tee -a "$tmp"
fi
{ echo; cat "$tmp"; } >>"$out" && rm "$tmp"
rm -rf "$work"
exit "$failed"
