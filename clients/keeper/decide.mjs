// The keeper's decision, as a pure function of plain values (no chain, no @polkadot/api), so a
// test can import it: liquidate with the keeper's own funds when the DEX pays for it, settle
// (no capital, a tip) otherwise, skip when neither can be done.

/** FixedU128's scale: 10^18 (healths and prices). */
export const E18 = 10n ** 18n;
/** The USD reference's base units (`liquidation::USD`): 12 decimals. */
export const USD = 10n ** 12n;

/**
 * Debt units worth `usd` (USD base units, 12 decimals) at `price` (FixedU128 USD base units per
 * debt base unit), rounded up. Without a price, `null`.
 * @param {bigint} usd @param {bigint|null} price
 */
export function usdToUnits(usd, price) {
  if (price === null || price === undefined || price === 0n) return null;
  return (usd * E18 + price - 1n) / price;
}

/** USD base units (12 decimals) `units` of the debt are worth at `price`; `null` without one. */
export function unitsToUsd(units, price) {
  if (price === null || price === undefined) return null;
  return (units * price) / E18;
}

/**
 * @typedef {object} Situation
 * @property {bigint} health        the account's liquidation health (FixedU128)
 * @property {bigint} repay         debt units `preview` plans to repay
 * @property {bigint} collateralDue collateral units due for it
 * @property {bigint|null} quote    debt units the DEX gives for `collateralDue` (fee included), or null (no pool)
 * @property {bigint} balance       the keeper's free balance of the debt asset
 * @property {boolean} routeOk      `settle` has a route (`preview.route` is `Ok`)
 * @property {string} [route]       the route or why there is none (for the reason)
 * @property {bigint|null} debtPrice the debt asset's oracle price (FixedU128), for `minProfit`
 * @property {bigint} [minProfit]   least profit worth the keeper's capital, USD base units (12 decimals)
 * @property {boolean} [pending]    the keeper already has a transaction in flight for the account
 */

/**
 * Decides what to do with one account `liquidatable` listed:
 * - `skip` when a transaction of ours for it is in flight, or it is healthy by now;
 * - `liquidate` (own funds, `maxRepay: All`) when the collateral is in no running auction of
 *   the account (`inAuction`: the runtime refuses it), we hold at least `repay` of the debt and
 *   selling `collateralDue` on the DEX returns more than `repay + minProfit`;
 * - `settle` (no capital, earns the tip on the DEX route; the insurance backstop's route pays
 *   none) otherwise, if `settle` has a route;
 * - `skip` when it has none (e.g. `PriceUnconfirmed`: the oracle guard holds a price).
 * `profit` is `quote - repay` in debt units (null without a quote), `profitUsd` its value.
 * @param {Situation} s
 * @returns {{ action: 'liquidate'|'settle'|'skip', reason: string, profit: bigint|null, profitUsd: bigint|null }}
 */
export function decide(s) {
  const minProfit = s.minProfit ?? 0n;
  const profit = s.quote === null || s.quote === undefined ? null : s.quote - s.repay;
  const profitUsd = profit === null ? null : unitsToUsd(profit, s.debtPrice ?? null);
  const out = (action, reason) => ({ action, reason, profit, profitUsd });
  if (s.pending) return out('skip', 'pending: a transaction of ours for it is in flight');
  if (s.health >= E18) return out('skip', 'healthy');
  if (s.repay === 0n) return out('skip', 'nothing to repay');

  // Own funds: enough of the debt, and the DEX pays for the collateral with a margin.
  let why;
  const minUnits = minProfit === 0n ? 0n : usdToUnits(minProfit, s.debtPrice ?? null);
  if (s.inAuction !== null && s.inAuction !== undefined) {
    why = `in auction ${s.inAuction}: its lot is the auction's (take from it)`;
  } else if (s.balance < s.repay) {
    why = `funds: hold ${s.balance} < repay ${s.repay}`;
  } else if (profit === null) {
    why = 'no DEX quote for the collateral';
  } else if (minUnits === null) {
    why = 'no debt price to value --min-profit';
  } else if (profit <= minUnits) {
    why = `unprofitable: DEX ${s.quote} - repay ${s.repay} = ${profit} <= min ${minUnits}`;
  } else {
    return out('liquidate', `profitable: DEX ${s.quote} - repay ${s.repay} = ${profit} > min ${minUnits}`);
  }
  // No capital: the protocol sells (or the backstop buys) the collateral; we get the tip.
  // (The insurance backstop's route pays no tip: settling is then a service, not a trade.)
  if (s.routeOk) {
    const tip = /^Backstop/.test(s.route ?? '') ? ' (no tip on the backstop route)' : '';
    return out('settle', `${why}; settle via ${s.route ?? 'its route'}${tip}`);
  }
  return out('skip', `${why}; no settle route: ${s.route ?? 'none'}`);
}
