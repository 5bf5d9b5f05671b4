// Soft pre-liquidation (#28) on a dev node through @polkadot/api: Bob borrows USDM against
// 1 XBTC at 95% of his borrowing power (health about 1.12, above 1), reads the band the chain
// offers him (`liquidationApi.preLiquidation`: from XBTC's measured volatility, or the widest
// while none is measured), opts in (`liquidation.setPreLiquidation`: band 1.5, a quarter of the
// debt a step at health 1, a 3% bonus), refusals arrive by name with nothing changed, and the
// keeper's pre-liquidation mode (`clients/keeper --pre`, as Charlie) steps in with its own USDM:
// the debt falls by the quarter scaled by his depth in the band, the health rises, at most one
// step a block. Run on a chain whose
// validator runs no offchain worker (scripts/e2e.sh: after e2e/bids.mjs on its node). Exits
// non-zero on the first failed check; 240 s.
import { spawn } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApiPromise, Keyring, WsProvider } from '@polkadot/api';
import { errorText as errorName, sendInBlock } from './tx.mjs';

const KEEPER = resolve(dirname(fileURLToPath(import.meta.url)), '../clients/keeper/keeper.mjs');
const WS = process.env.MARGINCALL_WS ?? 'ws://127.0.0.1:9944';
const UNIT = 10n ** 12n;
const E18 = 10n ** 18n;
const USDM = 1;
const XBTC = 2;

let failed = 0;
function check(cond, what) {
  console.log(`${cond ? 'ok' : 'not ok'} - ${what}`);
  if (!cond) failed += 1;
}
setTimeout(() => { console.log('not ok - pre-liquidation check timed out after 240 s'); process.exit(1); }, 240_000);

const fixed = (v) => Number(v) / 1e18;

async function main() {
  const api = await ApiPromise.create({ provider: new WsProvider(WS), noInitWarn: true });
  const keyring = new Keyring({ type: 'sr25519' });
  const [alice, bob, charlie] = ['//Alice', '//Bob', '//Charlie'].map((s) => keyring.addFromUri(s));

  // Fresh prices at XBTC's current value (no jump for the guard to hold); cash to borrow.
  const xbtcPrice = (await api.query.oracle.values(XBTC)).unwrap().value.toBigInt();
  await sendInBlock(api, api.tx.oracle.feedValues([[USDM, E18], [XBTC, xbtcPrice]]), alice);
  await sendInBlock(api, api.tx.lending.supply(USDM, 100_000n * UNIT), alice);
  // Bob: 1 XBTC, 95% of what XBTC's 73% collateral factor lets him borrow.
  const market = (await api.query.lending.markets(XBTC)).unwrap().params;
  const cf = BigInt(market.collateralFactor.toNumber());
  const borrow = (xbtcPrice * UNIT / E18) * cf * 95n / 100_000_000n;
  await sendInBlock(api, api.tx.lending.supply(XBTC, UNIT), bob);
  await sendInBlock(api, api.tx.lending.borrow(USDM, borrow), bob);

  let view = await api.call.liquidationApi.preLiquidation(bob.address);
  const maxBand = view.rules.maxBand.toBigInt();
  const offered = view.suggestedBand.toBigInt();
  check(view.terms.isNone && view.offer.isErr && errorName(api, view.offer.asErr) === 'liquidation.NoPreLiquidation',
    `liquidationApi.preLiquidation(Bob) before opting in: no terms, offer ${view.offer.isErr ? errorName(api, view.offer.asErr) : 'Ok'}`);
  check(offered > E18 && offered <= maxBand,
    `the band offered to Bob: ${fixed(offered).toFixed(4)} (caps: band ${fixed(maxBand)}, close ${view.rules.maxCloseShare.toNumber() / 1e4}%, bonus ${view.rules.maxBonus.toNumber() / 1e4}%, horizon ${view.rules.horizon.toNumber()} s)`);
  const healthBefore = view.health.unwrap().toBigInt();
  check(healthBefore > E18 && healthBefore < maxBand, `Bob's health ${fixed(healthBefore).toFixed(4)}: above 1, inside the widest band`);

  // Refusals by name, nothing changed.
  const tooWide = await sendInBlock(api, api.tx.liquidation.setPreLiquidation(
    { band: maxBand + E18 / 10n, closeShare: 250_000, bonus: 30_000 }), bob, { allowFailure: true });
  check(tooWide.error === 'liquidation.BandOutOfRange', `a band above the cap: ${tooWide.error}`);
  check((await api.query.liquidation.preLiquidation(bob.address)).isNone, 'no terms stored by the refusal');
  const notIn = await sendInBlock(api, api.tx.liquidation.preLiquidate(bob.address, USDM, XBTC, 'All', 0), charlie, { allowFailure: true });
  check(notIn.error === 'liquidation.NoPreLiquidation', `a step on an account not opted in: ${notIn.error}`);

  const terms = { band: maxBand, closeShare: 250_000, bonus: 30_000 };
  const set = await sendInBlock(api, api.tx.liquidation.setPreLiquidation(terms), bob);
  check(set.events.some((e) => api.events.liquidation.PreLiquidationSet.is(e)), 'liquidation.PreLiquidationSet');
  view = await api.call.liquidationApi.preLiquidation(bob.address);
  const debtBefore = await debtOf(api, bob.address);
  check(view.offer.isOk && view.offer.asOk.debtAsset.toNumber() === USDM && view.offer.asOk.collateralAsset.toNumber() === XBTC,
    `the offer: repay ${view.offer.isOk ? view.offer.asOk.repay.toBigInt() / UNIT : '-'} USDM for ${view.offer.isOk ? view.offer.asOk.collateral.toString() : '-'} XBTC units at ${view.offer.isOk ? view.offer.asOk.bonus.toNumber() / 1e4 : '-'}%`);

  // The keeper's pre-liquidation mode, as Charlie, for a few blocks.
  const run = await new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [KEEPER, '--ws', WS, '--suri', '//Charlie', '--blocks', '4', '--pre'],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', () => {});
    child.on('error', reject);
    child.on('exit', (code) => resolveRun({ code, lines: out.split('\n').filter(Boolean).map((l) => JSON.parse(l)) }));
  });
  const steps = run.lines.filter((l) => l.action === 'preLiquidate' && l.account === bob.address && l.result?.ok);
  check(run.code === 0 && steps.length >= 1, `keeper --pre stepped in ${steps.length} time(s)`);
  const events = steps.flatMap((s) => s.result.events.filter((e) => e.name === 'liquidation.PreLiquidated')
    .map((e) => ({ ...e.data, block: s.result.block })));
  const first = events[0];
  check(first !== undefined && first.borrower === bob.address && first.keeper === charlie.address && first.bonus === 30_000,
    `liquidation.PreLiquidated: Bob by Charlie at 3%, repaid ${first ? BigInt(first.repaid) / UNIT : '-'} USDM, seized ${first?.seized} XBTC units, fee ${first?.protocolFee}`);
  check(first !== undefined && BigInt(first.healthAfter) > BigInt(first.healthBefore),
    `health ${first ? fixed(first.healthBefore).toFixed(4) : '-'} -> ${first ? fixed(first.healthAfter).toFixed(4) : '-'}`);
  const repaid = events.reduce((a, e) => a + BigInt(e.repaid), 0n);
  // The step is the close share scaled by the depth in the band: (1.5 - h) / 0.5 of a quarter.
  const depthPpm = (maxBand - healthBefore) * 1_000_000n / (maxBand - E18);
  const expected = debtBefore / 4n * depthPpm / 1_000_000n;
  check(first !== undefined && BigInt(first.repaid) === BigInt(steps[0].repay) &&
    BigInt(first.repaid) * 100n >= expected * 99n && BigInt(first.repaid) * 100n <= expected * 101n,
    `the first step repaid the keeper's offer, ${first ? BigInt(first.repaid) / UNIT : '-'} USDM: a quarter of ${debtBefore / UNIT} scaled by the depth in the band (${Number(depthPpm) / 1e4}%)`);
  const debtAfter = await debtOf(api, bob.address);
  check(debtAfter < debtBefore && debtBefore - debtAfter <= repaid,
    `Bob's debt ${debtBefore / UNIT} -> ${debtAfter / UNIT} USDM (${repaid / UNIT} repaid in ${events.length} step(s), interest aside)`);
  const blocks = events.map((e) => e.block);
  check(new Set(blocks).size === blocks.length, `at most one step a block (blocks ${blocks.join(', ')})`);

  await api.disconnect();
  console.log(`# pre-liquidation: ${failed === 0 ? 'all passed' : `${failed} failed`}`);
  process.exit(failed === 0 ? 0 : 1);
}

/** `who`'s USDM debt with interest (`lendingApi.positions`). */
async function debtOf(api, who) {
  const positions = await api.call.lendingApi.positions(who);
  const d = positions.asOk.find((p) => p.asset.toNumber() === USDM);
  return d ? d.borrowed.toBigInt() : 0n;
}

main().catch((e) => { console.log(`not ok - ${e.stack ?? e}`); process.exit(1); });
