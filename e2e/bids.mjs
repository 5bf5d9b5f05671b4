// Standing liquidation bids (pallet-bids, #28) on a dev node through @polkadot/api: a market
// maker's bid holds its USDM on its own account (pallet-assets-holder), the runtime API
// `bidsApi.book` returns the pair's book best first, and refusals arrive by name with nothing
// changed. Exits non-zero on the first failed check; 120 s.
import { ApiPromise, Keyring, WsProvider } from '@polkadot/api';
import { sendInBlock } from './tx.mjs';

const WS = process.env.MARGINCALL_WS ?? 'ws://127.0.0.1:9944';
const UNIT = 10n ** 12n;
const USDM = 1;
const XBTC = 2;

let failed = 0;
function check(cond, what) {
  console.log(`${cond ? 'ok' : 'not ok'} - ${what}`);
  if (!cond) failed += 1;
}
setTimeout(() => { console.log('not ok - bids check timed out after 120 s'); process.exit(1); }, 120_000);

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
  const better = await sendInBlock(api, api.tx.bids.placeBid(XBTC, USDM, amount, 10_000, now + 1_000), eve);
  const betterId = better.events.find((e) => api.events.bids.BidPlaced.is(e)).data.id.toBigInt();
  book = await api.call.bidsApi.book(XBTC, USDM);
  const order = book.map(([bid]) => bid.toBigInt());
  check(order.indexOf(betterId) >= 0 && order.indexOf(betterId) < order.indexOf(id),
    `the 1% bid #${betterId} stands ahead of the 2% bid #${id}: [${order.join(', ')}]`);

  await api.disconnect();
  console.log(`# bids: ${failed === 0 ? 'all passed' : `${failed} failed`}`);
  process.exit(failed === 0 ? 0 : 1);
}

main().catch((e) => { console.log(`not ok - ${e.stack ?? e}`); process.exit(1); });
