// Pre-liquidation mode of the keeper (README, "For borrowers" and "For keepers"): serves the
// borrowers who opted in to soft pre-liquidation (`liquidation.setPreLiquidation`). For each
// opted-in account, the runtime's `liquidationApi.preLiquidation(account)` says what a step would
// do now (`offer`: repay, collateral, bonus) or why not (`AboveBand`, `BelowOne`,
// `PreLiquidatedThisBlock`, ...). Pure decision here (`preDecision`); keeper.mjs sends.

/**
 * What to do about one opted-in account at a block: `preLiquidate` its offer's pair when the
 * offer is open and we hold its repayment of the debt asset; else `skip` with the reason.
 * `offer` is `{ ok: true, debtAsset, collateralAsset, repay, collateral, bonusPpm }` or
 * `{ ok: false, error }` (the runtime's refusal by name); `balance` our free balance of the debt.
 */
export function preDecision(offer, balance) {
  if (!offer.ok) return { action: 'skip', reason: `preLiquidation: ${offer.error}` };
  if (balance < offer.repay) {
    return { action: 'skip', reason: `we hold ${balance} of asset ${offer.debtAsset}, the step repays ${offer.repay}` };
  }
  return {
    action: 'preLiquidate',
    reason: `inside the band: repay ${offer.repay} for ${offer.collateral} of asset ${offer.collateralAsset} (bonus ${offer.bonusPpm} ppm)`,
  };
}
