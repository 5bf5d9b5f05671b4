// Market-maker mode of the keeper (README, "For market makers"): keeps a standing bid on the
// bid book of each `--bid collateral:debt:amount:discountPpm`, refreshing it as it fills or
// nears its expiry. Pure decision here (`makerDecision`); keeper.mjs sends.

/**
 * Parses `--bid` values: `collateral:debt:amount:discountPpm` (`amount` in whole tokens of 12
 * decimals, `discountPpm` in parts per million, e.g. `2:1:50000:5000` = 50,000 USDM for XBTC at
 * 0.5% below the oracle). Throws on a malformed one.
 */
export function parseBids(values) {
  return (values ?? []).map((v) => {
    const m = /^([0-9]+):([0-9]+):([0-9]+):([0-9]+)$/.exec(v);
    if (!m) throw new Error(`--bid ${v}: expected collateral:debt:amount:discountPpm`);
    const [collateral, debt, discount] = [Number(m[1]), Number(m[2]), Number(m[4])];
    if (collateral === debt) throw new Error(`--bid ${v}: collateral and debt are the same asset`);
    if (discount > 1_000_000) throw new Error(`--bid ${v}: discount above 1,000,000 ppm`);
    return { collateral, debt, amount: BigInt(m[3]) * 10n ** 12n, discount };
  });
}

/**
 * What to do about `spec` at block `block`, given our bids on its pair (`ours`: `{ id,
 * remaining, activeFrom, expiresAt }`, from `bidsApi.book`): `place` when we have none;
 * `cancel` an active one that filled below half its amount or expires within `margin`
 * blocks (the next block then places a fresh one); else `hold`. A bid not yet active cannot
 * be cancelled (`bids.NotActiveYet`): it is held.
 */
export function makerDecision(spec, ours, block, margin) {
  if (ours.length === 0) return { action: 'place', reason: 'no bid of ours on the pair' };
  for (const bid of ours) {
    const active = bid.activeFrom <= block;
    if (!active) continue;
    if (bid.remaining * 2n < spec.amount) {
      return { action: 'cancel', id: bid.id, reason: `filled below half (${bid.remaining} left)` };
    }
    if (bid.expiresAt - block <= margin) {
      return { action: 'cancel', id: bid.id, reason: `expires at ${bid.expiresAt}` };
    }
  }
  return { action: 'hold', reason: `${ours.length} bid(s) standing` };
}
