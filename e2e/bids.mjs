// Standing liquidation bids (pallet-bids, #28) on a dev node through @polkadot/api: a market
// maker's bid holds its USDM on its own account (pallet-assets-holder), the runtime API
// `bidsApi.book` returns the pair's book best first, and refusals arrive by name with nothing
// changed; then (on a fresh dev chain: its own node in scripts/e2e.sh) a market maker's bid
// settles a liquidation: Ferdie borrows against 1 XBTC, the bids activate, XBTC falls and the
// pool follows, and `liquidation.settle` sells Ferdie's seized XBTC to the best bid (route
// `Bids`), not to the DEX. Exits non-zero on the first failed check; 300 s.
import { spawn } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApiPromise, Keyring, WsProvider } from '@polkadot/api';
import { sendInBlock } from './tx.mjs';

const KEEPER = resolve(dirname(fileURLToPath(import.meta.url)), '../clients/keeper/keeper.mjs');

const WS = process.env.MARGINCALL_WS ?? 'ws://127.0.0.1:9944';
const UNIT = 10n ** 12n;
const USDM = 1;
const XBTC = 2;

let failed = 0;
function check(cond, what) {
  console.log(`${cond ? 'ok' : 'not ok'} - ${what}`);
  if (!cond) failed += 1;
}
setTimeout(() => { console.log('not ok - bids check timed out after 300 s'); process.exit(1); }, 300_000);

async function main() {
  const api = await ApiPromise.create({ provider: new WsProvider(WS), noInitWarn: true });
  const keyring = new Keyring({ type: 'sr25519' });
  const [alice, dave, eve] = ['//Alice', '//Dave', '//Eve'].map((s) => keyring.addFromUri(s));
  // A fresh USDM price (a bid is valued at the oracle): Alice is the dev oracle's feeder.
  await sendInBlock(api, api.tx.oracle.feedValues([[USDM, 10n ** 18n]]), alice);

  const held = async () => {
    const onHold = await api.query.assetsHolder.balancesOnHold(USDM, dave.address);
    return onHold.isSome ? onHold.unwrap().toBigInt() : 0n;
  };
  const heldBefore = await held();
  const freeBefore = (await api.query.assets.account(USDM, dave.address)).unwrap().balance.toBigInt();
  const now = (await api.rpc.chain.getHeader()).number.toNumber();
  const amount = 10_000n * UNIT;
  // 2% below the oracle (Permill parts), expiring 1,000 blocks on.
  const placed = await sendInBlock(api, api.tx.bids.placeBid(XBTC, USDM, amount, 20_000, now + 1_000), dave);
  const event = placed.events.find((e) => api.events.bids.BidPlaced.is(e));
  check(event !== undefined, 'bids.BidPlaced');
  const id = event.data.id.toBigInt();
  check(event.data.amount.toBigInt() === amount && event.data.discount.toNumber() === 20_000,
    `bid #${id}: 10,000 USDM at 2%, active from #${event.data.activeFrom}, expires #${event.data.expiresAt}`);
  check(await held() === heldBefore + amount, `Dave's USDM on hold: +${amount / UNIT} (${(await held()) / UNIT} in all)`);
  const freeAfter = (await api.query.assets.account(USDM, dave.address)).unwrap().balance.toBigInt();
  check(freeAfter === freeBefore - amount, 'Dave\'s free USDM down by the same (held, not transferred)');

  let book = await api.call.bidsApi.book(XBTC, USDM);
  check(book.some(([bid, b]) => bid.toBigInt() === id && b.owner.toString() === dave.address && b.remaining.toBigInt() === amount),
    `bidsApi.book(XBTC, USDM) holds bid #${id} with its owner and amount (${book.length} bids)`);

  // Refusals by name, nothing changed.
  const early = await sendInBlock(api, api.tx.bids.cancelBid(id), dave, { allowFailure: true });
  check(early.error === 'bids.NotActiveYet', `a cancel before activation: ${early.error}`);
  const greedy = await sendInBlock(api, api.tx.bids.placeBid(XBTC, USDM, amount, 500_000, now + 1_000), eve, { allowFailure: true });
  check(greedy.error === 'bids.DiscountTooHigh', `a 50% discount (above XBTC's bonus): ${greedy.error}`);
  check(await held() === heldBefore + amount, 'Dave\'s hold unchanged by the refusals');

  // A better bid (1%) stands ahead.
  const better = await sendInBlock(api, api.tx.bids.placeBid(XBTC, USDM, 100_000n * UNIT, 10_000, now + 1_000), eve);
  const betterId = better.events.find((e) => api.events.bids.BidPlaced.is(e)).data.id.toBigInt();
  book = await api.call.bidsApi.book(XBTC, USDM);
  const order = book.map(([bid]) => bid.toBigInt());
  check(order.indexOf(betterId) >= 0 && order.indexOf(betterId) < order.indexOf(id),
    `the 1% bid #${betterId} stands ahead of the 2% bid #${id}: [${order.join(', ')}]`);

  if (process.env.MARGINCALL_BIDS_SETTLE !== '0') await settleThroughBids(api, keyring, alice, dave, betterId);
  await makerMode(api, keyring);

  await api.disconnect();
  console.log(`# bids: ${failed === 0 ? 'all passed' : `${failed} failed`}`);
  process.exit(failed === 0 ? 0 : 1);
}

/** Waits until the best block is at least `n`. */
async function untilBlock(api, n) {
  for (;;) {
    const now = (await api.rpc.chain.getHeader()).number.toNumber();
    if (now >= n) return now;
    await new Promise((r) => setTimeout(r, 2000));
  }
}

/** A liquidation settled by the standing bids (the 1% bid `bidId`, Eve's, stands first). */
async function settleThroughBids(api, keyring, alice, dave, bidId) {
  const [charlie, ferdie, eve] = ['//Charlie', '//Ferdie', '//Eve'].map((s) => keyring.addFromUri(s));
  const price = (usd) => BigInt(usd) * 10n ** 18n;
  // Cash to borrow; Ferdie: 1 XBTC, 42,000 USDM of debt (health about 1.11 at 60,000).
  await sendInBlock(api, api.tx.oracle.feedValues([[USDM, price(1)], [XBTC, price(60_000)]]), alice);
  await sendInBlock(api, api.tx.lending.supply(USDM, 200_000n * UNIT), alice);
  await sendInBlock(api, api.tx.lending.supply(XBTC, UNIT), ferdie);
  await sendInBlock(api, api.tx.lending.borrow(USDM, 42_000n * UNIT), ferdie);
  const bid = (await api.call.bidsApi.book(XBTC, USDM)).find(([id]) => id.toBigInt() === bidId)[1];
  await untilBlock(api, bid.activeFrom.toNumber());
  // XBTC falls to 52,000 (below Ferdie's ~53,800); the guard holds the jump until a feeder
  // re-states it in a later block, and liquidations of positions only just below 1 wait 3
  // blocks after it is accepted. The pool is sold 1.5% under the new price (Charlie): the DEX
  // would take about 1/0.982 of the oracle's amount (its fee and impact included), the 1%
  // bid 1/0.99: the bid pays more for the collateral.
  const fall = [[USDM, price(1)], [XBTC, price(52_000)]];
  await sendInBlock(api, api.tx.oracle.feedValues(fall), alice);
  const accepted = await sendInBlock(api, api.tx.oracle.feedValues(fall), alice);
  const acceptedAt = (await api.rpc.chain.getHeader(accepted.block)).number.toNumber();
  const reserves = await api.call.assetConversionApi.getReserves({ WithId: USDM }, { WithId: XBTC });
  const [usdm, xbtc] = reserves.unwrap().map((r) => r.toBigInt());
  // Sell XBTC until the pool prices it about 1.5% under 52,000 (k = usdm × xbtc).
  const target = 51_200n;
  const sqrt = (n) => { let x = BigInt(Math.floor(Math.sqrt(Number(n)))); while (x * x > n) x -= 1n; while ((x + 1n) * (x + 1n) <= n) x += 1n; return x; };
  const xbtcAfter = sqrt((usdm * xbtc) / target);
  const sell = xbtcAfter > xbtc ? xbtcAfter - xbtc : 0n;
  await sendInBlock(api, api.tx.assetConversion.swapExactTokensForTokens(
    [{ WithId: XBTC }, { WithId: USDM }], sell, 1, charlie.address, false), charlie);
  await untilBlock(api, acceptedAt + 4);

  const preview = await api.call.liquidationApi.preview(ferdie.address);
  check(preview.isOk && preview.asOk.route.isOk && preview.asOk.route.asOk.isBids,
    `preview(Ferdie): route ${preview.isOk ? preview.asOk.route.toString() : preview.toString()}, bidInput ${preview.isOk ? preview.asOk.bidInput.toString() : '-'}, dexInput ${preview.isOk ? preview.asOk.dexInput.toString() : '-'}`);
  const before = (await api.call.bidsApi.book(XBTC, USDM)).find(([id]) => id.toBigInt() === bidId)[1].remaining.toBigInt();
  const settled = await sendInBlock(api, api.tx.liquidation.settle(ferdie.address), charlie);
  const ev = settled.events.find((e) => api.events.liquidation.Settled.is(e));
  check(ev !== undefined && ev.data.route.isBids,
    `liquidation.Settled route ${ev?.data.route.toString()}: repaid ${ev ? ev.data.repaid.toBigInt() / UNIT : '-'} USDM, sold ${ev?.data.sold.toString()} XBTC units`);
  const fill = settled.events.find((e) => api.events.bids.BidFilled.is(e));
  check(fill !== undefined && fill.data.id.toBigInt() === bidId && fill.data.paid.toBigInt() === ev.data.repaid.toBigInt() &&
    fill.data.collateral.toBigInt() === ev.data.sold.toBigInt(),
    `bids.BidFilled: bid #${bidId} (Eve's) paid the repayment and bought what was sold`);
  const after = (await api.call.bidsApi.book(XBTC, USDM)).find(([id]) => id.toBigInt() === bidId);
  const left = after ? after[1].remaining.toBigInt() : 0n;
  check(left === before - ev.data.repaid.toBigInt(), `the bid holds ${left / UNIT} USDM less the repayment`);
  check(fill.data.owner.toString() === eve.address, 'the collateral went to the bid\'s owner (Eve), as lending supply');
  void dave;
}

/** The keeper's market-maker mode (`--bid`) keeps a bid of Bob's on the book. */
async function makerMode(api, keyring) {
  const bob = keyring.addFromUri('//Bob');
  const lines = await new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [KEEPER, '--ws', WS, '--suri', '//Bob', '--blocks', '3',
      '--bid', `${XBTC}:${USDM}:20000:5000`, '--bid-life', '300'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', () => {});
    child.on('error', reject);
    child.on('exit', (code) => resolveRun({ code, lines: out.split('\n').filter(Boolean).map((l) => JSON.parse(l)) }));
  });
  const placed = lines.lines.find((l) => l.action === 'bid');
  check(lines.code === 0 && placed?.result?.ok === true &&
    placed.result.events.some((e) => e.name === 'bids.BidPlaced'),
  `keeper --bid: placed a bid (${JSON.stringify(placed?.result?.events?.map((e) => e.name))})`);
  const book = await api.call.bidsApi.book(XBTC, USDM);
  const ours = book.filter(([, b]) => b.owner.toString() === bob.address);
  check(ours.length === 1 && ours[0][1].remaining.toBigInt() === 20_000n * UNIT && ours[0][1].discount.toNumber() === 5_000,
    `the book holds one bid of Bob's: 20,000 USDM at 0.5% (${ours.length} found), not placed twice`);
}

main().catch((e) => { console.log(`not ok - ${e.stack ?? e}`); process.exit(1); });
