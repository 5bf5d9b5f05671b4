// The liquidation half of `scripts/local-testnet.sh --fault`: run against Alice's RPC on the
// `local` chain (validators Alice, Bob, Charlie, Dave) while Charlie is down. Fresh prices from
// two of the three feeders (the local chain's feed quorum), a borrower (Eve) near her limit,
// one feeder's +50% feed that changes no price and no borrow limit (the two fresh feeds
// disagree: disputed), a price drop the oracle guard holds and a later feed confirms, then a
// settlement by the
// validators' offchain workers or a keeper's (Dave's) `liquidation.liquidate`, whichever comes
// first. Every step is waited for in a block of the best chain; with FAULT_REQUIRE_FINALIZED=1
// (what `--fault` sets when GRANDPA's supermajority holds without Charlie, as with four equal
// voters: see `grandpa` below) the liquidation's block must also be finalized. Prints `LIQUIDATION number=… hash=… event=… by=… finalized=yes|no` for the
// script. Exits non-zero on the first failed check. Bounded: FAULT_TIMEOUT_S (240 s).
//
// `node fault.mjs grandpa` prints the GRANDPA voter set instead:
// `GRANDPA voters=4 total=4 threshold=3 without_charlie=3 finalizes_without_charlie=yes`
// (the supermajority of finality-grandpa's `VoterSet`: total − ⌊(total − 1) / 3⌋).
import { ApiPromise, Keyring, WsProvider } from '@polkadot/api';
import { sendInBlock } from './tx.mjs';

const WS = process.env.MARGINCALL_WS ?? 'ws://127.0.0.1:9944';
const REQUIRE_FINALIZED = process.env.FAULT_REQUIRE_FINALIZED === '1';
const TIMEOUT_S = Number(process.env.FAULT_TIMEOUT_S ?? 240);
const UNIT = 10n ** 12n;
const E18 = 10n ** 18n;
const USDM = 1;
const XBTC = 2;
const MEME = 3;
// Eve: 1 XBTC at 60,000, collateral factor 73% (limit 43,800): she borrows 42,000. At 50,000
// (a 16.7% drop, past the guard's 5%) the liquidation value is 0.78 × 50,000 = 39,000: health
// ≈ 0.93. The DEX pool still prices XBTC near 60,000, above the oracle: the breaker throttles
// XBTC (a fast price) and the DEX may be sold into.
const BORROW = 42_000n * UNIT;
const START = 60_000n;
const DROP = 50_000n;

const t0 = Date.now();
const secs = () => ((Date.now() - t0) / 1000).toFixed(1);
let passed = 0;
function check(cond, what) {
  if (!cond) throw new Error(what);
  passed += 1;
  console.log(`ok - ${what} (${secs()} s)`);
}

const deadline = setTimeout(() => {
  console.log(`not ok - fault.mjs timed out after ${TIMEOUT_S} s`);
  process.exit(1);
}, TIMEOUT_S * 1000);

async function numberOf(api, hash) {
  return (await api.rpc.chain.getHeader(hash)).number.toNumber();
}

/** The events of every best-chain block numbered `from` to `to`, as `[number, hash, events]`. */
async function eventsBetween(api, from, to) {
  const out = [];
  for (let n = from; n <= to; n += 1) {
    const hash = await api.rpc.chain.getBlockHash(n);
    out.push([n, hash, await (await api.at(hash)).query.system.events()]);
  }
  return out;
}

async function grandpa(api) {
  const voters = await api.call.grandpaApi.grandpaAuthorities();
  const charlie = new Keyring({ type: 'ed25519' }).addFromUri('//Charlie');
  const total = voters.reduce((s, [, w]) => s + w.toBigInt(), 0n);
  const charlieWeight = voters.filter(([id]) => id.toHex() === `0x${Buffer.from(charlie.publicKey).toString('hex')}`)
    .reduce((s, [, w]) => s + w.toBigInt(), 0n);
  const threshold = total - (total - 1n) / 3n;
  const without = total - charlieWeight;
  console.log(`GRANDPA voters=${voters.length} total=${total} threshold=${threshold} charlie=${charlieWeight} ` +
    `without_charlie=${without} finalizes_without_charlie=${without >= threshold ? 'yes' : 'no'}`);
  if (charlieWeight === 0n) throw new Error('Charlie is not a GRANDPA voter');
}

async function liquidation(api, provider) {
  const keyring = new Keyring({ type: 'sr25519' });
  const [alice, bob, dave, eve] = ['//Alice', '//Bob', '//Dave', '//Eve'].map((u) => keyring.addFromUri(u));
  const feeders = [alice, bob];

  // The local chain: a price needs two fresh feeds.
  const quorum = (await api.query.breaker.feedQuorum()).toNumber();
  const members = (await api.query.oracleMembership.members()).map((m) => m.toString());
  check(quorum === 2 && feeders.every((f) => members.includes(f.address)),
    `feed quorum ${quorum} of ${members.length} feeders; Alice and Bob are feeders`);

  // 1. Fresh prices (Alice and Bob), a lender's cash (Dave) and Eve's collateral, together.
  const prices = [[USDM, E18], [XBTC, START * E18], [MEME, (5n * E18) / 100n]];
  const [feedA, feedB, lend, collateral] = await Promise.all([
    ...feeders.map((f) => sendInBlock(api, api.tx.oracle.feedValues(prices), f)),
    sendInBlock(api, api.tx.lending.supply(USDM, 100_000n * UNIT), dave),
    sendInBlock(api, api.tx.lending.supply(XBTC, 1n * UNIT), eve),
  ]);
  check([feedA, feedB].every((r) => r.events.some((e) => api.events.oracle.NewFeedData.is(e))),
    `Alice and Bob fed XBTC ${START} (blocks #${await numberOf(api, feedA.block)}, #${await numberOf(api, feedB.block)})`);
  check(lend.events.some((e) => api.events.lending.Supplied.is(e)), 'Dave supplied 100,000 USDM');
  check(collateral.events.some((e) => api.events.lending.Supplied.is(e)), 'Eve supplied 1 XBTC');

  // 2. Eve borrows near her limit.
  const borrow = await sendInBlock(api, api.tx.lending.borrow(USDM, BORROW), eve);
  const borrowed = borrow.events.find((e) => api.events.lending.Borrowed.is(e));
  check(borrowed && borrowed.data.amount.toBigInt() === BORROW,
    `Eve borrowed 42,000 USDM against 1 XBTC (limit 43,800) in #${await numberOf(api, borrow.block)}`);
  const healthy = await provider.send('lending_accountHealth', [eve.address]);
  check(Number(healthy.factor) > 1.1 && Number(healthy.factor) < 1.12,
    `Eve's health ${healthy.factor} (46,800 / 42,000)`);

  // 2b. One feeder alone (#26): Bob feeds XBTC +50% while only he and Alice are fresh. The two
  // feeds are the price's ends and disagree: no new agreed price. The oracle keeps 60,000, the
  // breaker's quote is the last agreed one with the disputed ends beside it (60,000 and
  // 90,000: a liquidation would read Bob's, a borrow Alice's), Eve's borrow limit is unchanged
  // and a new borrow against XBTC is refused. Both feeding 60,000 again ends the dispute.
  const lone = await sendInBlock(api, api.tx.oracle.feedValues([[XBTC, (START * 3n / 2n) * E18]]), bob);
  check(lone.events.some((e) => api.events.breaker.PriceDisputed.is(e) && e.data.asset.toNumber() === XBTC),
    `Bob alone at ${START * 3n / 2n}: breaker.PriceDisputed in #${await numberOf(api, lone.block)}`);
  const disputed = (await api.query.breaker.quotes(XBTC)).unwrap();
  const oracleXbtc = (await api.query.oracle.values(XBTC)).unwrap().value.toBigInt();
  const ends = disputed.disputed.isSome ? disputed.disputed.unwrap() : null;
  check(ends !== null && ends.low.toBigInt() === START * E18 && ends.high.toBigInt() === (START * 3n / 2n) * E18 &&
      disputed.low.toBigInt() === START * E18 && disputed.high.toBigInt() === START * E18 &&
      oracleXbtc === START * E18,
    `the quote stays ${START}, disputed between ${ends?.low.toBigInt() / E18} and ${ends?.high.toBigInt() / E18}; the oracle's value ${oracleXbtc / E18}`);
  const during = await provider.send('lending_accountHealth', [eve.address]);
  check(during.borrowLimit === healthy.borrowLimit,
    `Eve's borrow limit unchanged: ${during.borrowLimit} (was ${healthy.borrowLimit})`);
  const more = await sendInBlock(api, api.tx.lending.borrow(USDM, 1_000n * UNIT), eve, { allowFailure: true });
  check(more.error !== null && more.error.includes('BorrowLimitExceeded'),
    `a further 1,000 USDM against XBTC refused while disputed: ${more.error}`);
  await Promise.all(feeders.map((f) => sendInBlock(api, api.tx.oracle.feedValues(prices), f)));
  const settled = (await api.query.breaker.quotes(XBTC)).unwrap();
  check(settled.disputed.isNone && settled.low.toBigInt() === START * E18,
    `Alice and Bob agree on ${START} again: the dispute is over`);

  // 3. The drop: the oracle guard holds it. (Fed in one block or two: with one feeder at
  // 50,000 and the other still at 60,000 the two are the price's ends, a jump the feeds
  // disagree on; it is held at 50,000 from the block both have fed.)
  const drop = [[USDM, E18], [XBTC, DROP * E18]];
  const dropped = await Promise.all(feeders.map((f) => sendInBlock(api, api.tx.oracle.feedValues(drop), f)));
  const dropBlocks = await Promise.all(dropped.map((r) => numberOf(api, r.block)));
  let heldAt = null;
  for (const [n, hash, events] of await eventsBetween(api, Math.min(...dropBlocks), Math.max(...dropBlocks))) {
    if (events.some(({ event }) => api.events.breaker.PriceHeld.is(event) && event.data.asset.toNumber() === XBTC &&
        event.data.price.toBigInt() === DROP * E18)) {
      heldAt = { n, hash };
    }
  }
  check(heldAt !== null, `breaker.PriceHeld(XBTC, ${DROP}): the guard held the drop (#${heldAt?.n})`);
  const atHeld = await api.at(heldAt.hash);
  const held = await atHeld.call.breakerApi.breaker(XBTC);
  check(held.heldPrice.isSome && held.heldPrice.unwrap().toBigInt() === DROP * E18,
    `breakerApi.breaker(XBTC) holds ${DROP} (level ${held.level.type})`);
  const heldPreview = await atHeld.call.liquidationApi.preview(eve.address);
  check(heldPreview.isErr && heldPreview.asErr.isModule &&
      api.registry.findMetaError(heldPreview.asErr.asModule).name === 'NotLiquidatable',
    `while held: Eve is not liquidatable on the held price (a liquidation takes the borrower's end): ${heldPreview.toString()}`);
  const heldEvents = (await eventsBetween(api, Math.min(...dropBlocks), heldAt.n)).flatMap(([, , e]) => e);
  check(!heldEvents.some(({ event }) => api.events.liquidation.Settled.is(event) || api.events.liquidation.Liquidated.is(event)),
    'nothing settled Eve on the held price');

  // 4. Watch the best chain for Eve's settlement or liquidation from here on.
  let scanned = heldAt.n;
  const found = new Promise((resolve, reject) => {
    let busy = false;
    const sub = api.rpc.chain.subscribeNewHeads(async (head) => {
      if (busy) return;
      busy = true;
      try {
        for (const [n, hash, events] of await eventsBetween(api, scanned + 1, head.number.toNumber())) {
          scanned = n;
          const hit = events.find(({ event }) =>
            (api.events.liquidation.Settled.is(event) || api.events.liquidation.Liquidated.is(event)) &&
            event.data.borrower.toString() === eve.address);
          if (hit) {
            (await sub)();
            resolve({ n, hash, event: hit.event });
            return;
          }
        }
      } catch (e) {
        reject(e);
      } finally {
        busy = false;
      }
    });
  });
  found.catch(() => {}); // awaited below

  // 5. Alice and Bob confirm the drop in a later block; then the race: the validators'
  // offchain workers (Alice's and Bob's; Charlie's is down) against Dave.
  const confirms = await Promise.all(feeders.map((f) => sendInBlock(api, api.tx.oracle.feedValues(drop), f)));
  const confirmBlocks = await Promise.all(confirms.map((r) => numberOf(api, r.block)));
  let confirmedAt = null;
  for (const [n, , events] of await eventsBetween(api, Math.min(...confirmBlocks), Math.max(...confirmBlocks))) {
    if (confirmedAt === null && events.some(({ event }) => api.events.breaker.PriceConfirmed.is(event) &&
        event.data.asset.toNumber() === XBTC)) {
      confirmedAt = n;
    }
  }
  check(confirmedAt !== null, `breaker.PriceConfirmed(XBTC, ${DROP}) in #${confirmedAt}`);
  const keeper = sendInBlock(api, api.tx.liquidation.liquidate(eve.address, USDM, XBTC, 'All'), dave,
    { allowFailure: true }).then(
    async (r) => `keeper's liquidate in #${await numberOf(api, r.block)}: ${r.error ?? 'Liquidated'}`,
    (e) => `keeper's liquidate: ${e.message}`,
  );
  const hit = await found;
  const { event } = hit;
  const kind = event.method;
  const by = kind === 'Liquidated' ? 'keeper' : 'worker';
  const repaid = event.data.repaid.toBigInt();
  check(repaid > 0n, `liquidation.${kind} for Eve in #${hit.n} (${hit.hash.toHex()}), by the ${by}, ` +
    `repaid ${Number(repaid / 10n ** 9n) / 1000} USDM`);
  if (kind === 'Liquidated') {
    check(event.data.liquidator.toString() === dave.address, 'the liquidator is Dave');
  } else {
    const block = await api.rpc.chain.getBlock(hit.hash);
    const unsigned = block.block.extrinsics.find((xt) => xt.method.section === 'liquidation' && !xt.isSigned &&
      ['settleUnsigned', 'settleBatchUnsigned', 'settleAfterFeed'].includes(xt.method.method));
    // settleAfterFeed: a validator's same-block service, in the confirming feed's block.
    check(unsigned !== undefined, `#${hit.n} holds a validator's unsigned liquidation.${unsigned?.method.method}`);
  }
  console.log(`# ${hit.n - confirmedAt} block(s) after the confirmation`);
  const after = await (await api.at(hit.hash)).call.lendingApi.accountHealth(eve.address);
  check(after.isOk && after.asOk.factor.toBigInt() >= E18,
    `Eve's health after: ${after.isOk ? (Number(after.asOk.factor.toBigInt() / 10n ** 12n) / 1e6).toFixed(4) : after.toString()}`);
  console.log(`# ${await Promise.race([keeper, new Promise((r) => setTimeout(() => r("keeper's liquidate: not in a block within 30 s"), 30_000))])}`);

  let finalized = 'no';
  if (REQUIRE_FINALIZED) {
    for (;;) {
      const head = await api.rpc.chain.getFinalizedHead();
      if ((await numberOf(api, head)) >= hit.n) {
        const hash = await api.rpc.chain.getBlockHash(hit.n);
        check(hash.eq(hit.hash), `#${hit.n} finalized with the liquidation's hash`);
        finalized = 'yes';
        break;
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  console.log(`LIQUIDATION number=${hit.n} hash=${hit.hash.toHex()} event=${kind} by=${by} ` +
    `confirmed=${confirmedAt} finalized=${finalized}`);
}

async function main() {
  const provider = new WsProvider(WS);
  const api = await ApiPromise.create({ provider, noInitWarn: true });
  const chain = (await api.rpc.system.chain()).toString();
  if (process.argv[2] === 'grandpa') {
    await grandpa(api);
  } else {
    console.log(`# connected to ${chain} at ${WS}`);
    check(chain === 'margincall local testnet', `chain is the local testnet (${chain})`);
    await liquidation(api, provider);
  }
  await api.disconnect();
}

main().then(
  () => {
    clearTimeout(deadline);
    process.exit(0);
  },
  (e) => {
    console.log(`not ok - ${e.message ?? e} (${secs()} s)`);
    process.exit(1);
  },
);
