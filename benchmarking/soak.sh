#!/usr/bin/env bash
# The long run of the liquidation pallet's property test (pallets/liquidation/src/property.rs):
# random sequences over lending, liquidation (keeper, settle, batches' routes, netting), the
# loss waterfall, auctions (take, redo), same-asset positions, collateral toggles, repayments
# mid-auction, small collaterals, price paths through auction floors and governance changes,
# with every invariant (conservation to the unit, no write-off beyond the deficit, liveness,
# validity = inclusion, both pallets' try_state) checked after each operation.
#
#   benchmarking/soak.sh [TARGET_OPS] [FIRST_SEED]     # default 10,000,000 ops from seed 1
#
# Not part of CI (CI runs the same test with a fixed seed and 200 sequences). Builds the test
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
total=0
start=$(date +%s)
log=$(mktemp)
{
  echo "# soak: $(date -u +%FT%TZ), $(nproc) cores, $(uname -m), soak profile (optimised, debug assertions and overflow checks on), commit $commit"
  echo "# command: benchmarking/soak.sh $target $seed (SOAK_CASES=$cases)"
} >"$out.tmp"
while (( total < target )); do
  t0=$(date +%s)
  if ! PROPTEST_SEED=$seed LIQUIDATION_PROPTEST_CASES=$cases "$bin" \
      random_liquidations_touch_no_healthy_account --nocapture >"$log" 2>&1; then
    cat "$log"
    echo "seed $seed: FAILED after $total operations" | tee -a "$out.tmp"
    { echo; cat "$out.tmp"; } >>"$out" && rm "$out.tmp"
    exit 1
  fi
  ops=$(grep -m1 -oE 'ops: [0-9]+' "$log" | grep -oE '[0-9]+')
  dt=$(( $(date +%s) - t0 ))
  total=$(( total + ops ))
  line="seed $seed: $ops ops in ${dt} s ($(( ops / (dt > 0 ? dt : 1) )) ops/s), total $total, 0 violations"
  echo "$line" | tee -a "$out.tmp"
  seed=$(( seed + 1 ))
done
elapsed=$(( $(date +%s) - start ))
echo "soak: $total operations in ${elapsed} s ($(( total / (elapsed > 0 ? elapsed : 1) )) ops/s), 0 violations" | tee -a "$out.tmp"
{ echo; cat "$out.tmp"; } >>"$out" && rm "$out.tmp"
