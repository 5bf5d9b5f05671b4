// End-to-end check of the clients (clients/feeder, clients/keeper) against a dev node started
// with `--offchain-worker never`, so that the node's own worker does not settle first:
//   MARGINCALL_WS=ws://127.0.0.1:19945 node e2e/keeper.mjs
// (scripts/e2e.sh runs it on a second node, after smoke.mjs; `npm ci` in both client folders
// first). It
// 1. checks the pure parts: the keeper's decision and the feeder's seeded path;
// 2. runs the feeder for 3 blocks with a seed: the oracle's XBTC moves to the path's value;
// 3. sets up two borrowers, Eve and Ferdie (1 XBTC each, 43,000 USDM borrowed: XBTC's
//    collateral factor 73% allows 43,800 at 60,000; its liquidation threshold 78% puts them
//    below health 1 under 55,128);
// 4. drops XBTC to 54,000 (held by the oracle guard, confirmed by a second feed; the fall's
//    wait, 3 blocks from its first feed, lets the two wait: marginal) and runs the keeper as
//    Dave (1 M USDM): it liquidates both with its own funds;
// 5. has Bob arbitrage the DEX down to the oracle, drops XBTC to 50,000 and runs the keeper as
//    a fresh account holding only MCL: while the guard holds the drop neither keeper acts (a
//    liquidation takes the borrower's end of a held price), once confirmed the fresh one
//    settles both through the DEX and earns the tips.
// The keeper and the feeder run as child processes; their JSON lines are parsed.

import { spawn } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApiPromise, Keyring, WsProvider } from '@polkadot/api';
import { sendInBlock } from './tx.mjs';
// The pure modules only: the programs themselves load @polkadot/api from their own folders.
import { E18, USD, decide } from '../clients/keeper/decide.mjs';
import { MAX_STEP, randomWalk } from '../clients/feeder/path.mjs';

const WS = process.env.MARGINCALL_WS ?? 'ws://127.0.0.1:9944';
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const KEEPER = resolve(ROOT, 'clients/keeper/keeper.mjs');
const FEEDER = resolve(ROOT, 'clients/feeder/feeder.mjs');
const UNIT = 10n ** 12n;
const USDM = 1;
const XBTC = 2;
const MEME = 3;
const BORROW = 43_000n * UNIT;

let passed = 0;
let failed = 0;
function check(cond, what) {
  if (cond) {
    passed += 1;
    console.log(`ok - ${what}`);
  } else {
    failed += 1;
    console.log(`not ok - ${what}`);
  }
}

const deadline = setTimeout(() => {
  console.log('not ok - e2e/keeper timed out after 240 s');
  console.log(`e2e/keeper: ${passed} passed, ${failed + 1} failed`);
  process.exit(1);
}, 240_000);

/** JSON with bigints as strings. */
const json = (v) => JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? x.toString() : x));

/** `sendInBlock` with the nonce the runtime reports (`nonce: -1`). */
const send = (api, tx, signer) => sendInBlock(api, tx, signer, { options: { nonce: -1 } });

/** Runs `node script args`; resolves with its exit code, its stdout's JSON lines and its stderr. */
function run(script, args, timeoutMs = 90_000) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    const timer = setTimeout(() => child.kill('SIGINT'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      const lines = [];
      for (const l of out.split('\n').filter(Boolean)) {
        try {
          lines.push(JSON.parse(l));
        } catch {
          lines.push({ unparsed: l });
        }
      }
      resolve({ code, lines, stderr: err });
    });
  });
}

/** Prints a child's decisions as TAP comments. */
function show(name, lines) {
  for (const l of lines) {
    const res = l.result === null || l.result === undefined ? '' : typeof l.result === 'string' ? l.result
      : l.result.ok ? `ok in #${l.result.block}: ${l.result.events.map((e) => e.name).join(', ')}` : `failed: ${l.result.error}`;
    console.log(`# ${name} #${l.block} ${l.account?.slice(0, 8)} health ${l.health}: ${l.action} (${l.reason}) ${res}`);
  }
}

async function main() {
  // 1. The pure parts, without a chain.
  const base = {
    health: (95n * E18) / 100n, repay: 10_000n * UNIT, collateralDue: UNIT / 5n, quote: 11_000n * UNIT,
    balance: 1_000_000n * UNIT, routeOk: true, route: 'Dex', debtPrice: E18, minProfit: 0n,
  };
  check(decide(base).action === 'liquidate' && decide(base).profit === 1_000n * UNIT,
    'decide: funded and the DEX pays 1,000 more than the repayment: liquidate');
  check(decide({ ...base, minProfit: 2_000n * USD }).action === 'settle',
    'decide: a profit under --min-profit: settle instead');
  check(decide({ ...base, balance: 0n }).action === 'settle', 'decide: no funds: settle');
  check(decide({ ...base, inAuction: 3 }).action === 'settle' && /in auction 3/.test(decide({ ...base, inAuction: 3 }).reason),
    'decide: collateral in an auction: no liquidate (InAuction), settle');
  check(decide({ ...base, balance: 0n, routeOk: false, route: 'Err(PriceUnconfirmed)' }).action === 'skip',
    'decide: no funds and no settle route: skip');
  check(decide({ ...base, quote: null }).action === 'settle', 'decide: no DEX quote: settle');
  check(decide({ ...base, pending: true }).action === 'skip' && decide({ ...base, health: E18 }).action === 'skip',
    'decide: a pending transaction or a healthy account: skip');
  const start = { [USDM]: E18, [XBTC]: 60_000n * E18, [MEME]: (5n * E18) / 100n };
  const pathA = randomWalk({ seed: '42', start }, 50);
  const pathB = randomWalk({ seed: '42', start }, 50);
  const pathC = randomWalk({ seed: '43', start }, 50);
  check(json(pathA) === json(pathB), 'randomWalk: the same seed gives the same path');
  check(json(pathA) !== json(pathC), 'randomWalk: another seed gives another path');
  const within = pathA.slice(1).every((s, i) => [XBTC, MEME].every((a) => {
    const r = Number(s[a]) / Number(pathA[i][a]);
    return r > 1 - MAX_STEP - 1e-9 && r < 1 + MAX_STEP + 1e-9;
  }));
  check(within && pathA.every((s) => s[USDM] === E18), 'randomWalk: USDM pinned at 1, every step within the guard');

  const provider = new WsProvider(WS);
  const api = await ApiPromise.create({ provider, noInitWarn: true });
  console.log(`# connected to ${await api.rpc.system.chain()} at ${WS}`);
  const keyring = new Keyring({ type: 'sr25519' });
  const [alice, bob, charlie, dave, eve, ferdie, fresh] =
    ['//Alice', '//Bob', '//Charlie', '//Dave', '//Eve', '//Ferdie', '//E2eKeeper'].map((u) => keyring.addFromUri(u));
  const feeders = [alice]; // the dev chain's one feeder
  const oracle = async (asset) => (await api.query.oracle.values(asset)).unwrap().value.toBigInt();

  // 2. The feeder, seeded, for 3 blocks: the oracle follows its path.
  const before = { [USDM]: await oracle(USDM), [XBTC]: await oracle(XBTC), [MEME]: await oracle(MEME) };
  const fed = await run(FEEDER, ['--ws', WS, '--seed', '42', '--blocks', '3', '--every', '1']);
  const xbtcFeeds = fed.lines.filter((l) => l.asset === XBTC && l.kind === 'step');
  check(fed.code === 0 && xbtcFeeds.length >= 2,
    `feeder --seed 42 --blocks 3 fed XBTC ${xbtcFeeds.length} times: ${xbtcFeeds.map((l) => `#${l.block} ${l.price}`).join(', ')}`);
  if (fed.code !== 0 || xbtcFeeds.length < 2) console.log(fed.stderr);
  const lastFeed = xbtcFeeds[xbtcFeeds.length - 1];
  const expected = randomWalk({ seed: '42', start: before }, (lastFeed?.step ?? 0) + 1);
  const xbtcNow = await oracle(XBTC);
  check(lastFeed && BigInt(lastFeed.raw) === expected[lastFeed.step][XBTC] && xbtcNow === BigInt(lastFeed.raw),
    `oracle XBTC = the seeded path's step ${lastFeed?.step} (${lastFeed?.price})`);
  check(xbtcNow !== before[XBTC], `the feeder moved the oracle's XBTC from ${before[XBTC] / E18} (now ${xbtcNow})`);
  check(fed.lines.every((l) => !l.held), 'no feed of the walk was held by the oracle guard');

  // 3. Two borrowers, near their limit, against the fresh prices the feeder just fed. Alice
  // supplies the USDM they borrow; Bob funds the fresh keeper with MCL only.
  await Promise.all([
    send(api, api.tx.lending.supply(USDM, 200_000n * UNIT), alice),
    send(api, api.tx.lending.supply(XBTC, UNIT), eve),
    send(api, api.tx.lending.supply(XBTC, UNIT), ferdie),
    send(api, api.tx.balances.transferKeepAlive(fresh.address, 1_000n * UNIT), bob),
  ]);
  const borrows = await Promise.all([eve, ferdie].map((b) => send(api, api.tx.lending.borrow(USDM, BORROW), b)));
  check(borrows.every((r) => r.events.some((e) => api.events.lending.Borrowed.is(e))), 'Eve and Ferdie borrowed 43,000 USDM each');
  const freshUsdm = await api.query.assets.account(USDM, fresh.address);
  check(freshUsdm.isNone || freshUsdm.unwrap().balance.toBigInt() === 0n, 'the fresh keeper holds MCL and no USDM');

  /** `who`'s lending supply of `asset` (what a liquidation or a tip pays), base units. */
  const supplied = async (who, asset) => {
    const positions = await provider.send('lending_positions', [who.address]);
    return BigInt(positions.find((p) => p.asset === asset)?.supplied ?? 0);
  };
  const health = async (who) => {
    const h = await api.call.lendingApi.accountHealth(who.address);
    return { factor: h.asOk.factor.toBigInt(), debt: h.asOk.debtValue.toBigInt() };
  };
  // The three feeds of a round must land in ONE block (split over two, the second block's feed
  // would confirm the first's jump at once): they are sent early in a slot, within 3 s of a
  // new best block (6 s blocks).
  let lastHead = Date.now();
  const heads = [];
  const unsubHeads = await api.rpc.chain.subscribeNewHeads(() => {
    lastHead = Date.now();
    heads.splice(0).forEach((r) => r());
  });
  /** The feeders feed `prices` in one block; resolves with the breaker's quote of XBTC after it. */
  const feed = async (prices) => {
    if (Date.now() - lastHead > 3_000) await new Promise((r) => heads.push(r));
    const landed = await Promise.all(feeders.map((f) => send(api, api.tx.oracle.feedValues(prices), f)));
    const blocks = new Set(landed.map((r) => r.block.toHex()));
    if (blocks.size > 1) console.log(`# the feeds of ${json(prices)} landed in ${blocks.size} blocks`);
    return (await api.query.breaker.quotes(XBTC)).unwrap();
  };
  const best = async () => (await api.rpc.chain.getHeader()).number.toNumber();
  const maxHold = (await api.query.breaker.levelParams()).maxHoldBlocks.toNumber();
  /** A confirmed fall's wait (`quote.fall`): while it lasts (`maxHold` blocks from the fall's
   * first feed) a liquidation acts only on positions below the severity bound for a fall as
   * deep, so `liquidatable` lists neither Eve nor Ferdie (marginal); then both. */
  const waitOutTheFall = async (quote, label) => {
    check(quote.fall.isSome, `${label}: the confirmed fall starts a wait: ${quote.fall.toString()}`);
    if (quote.fall.isNone) return;
    const until = quote.fall.unwrap().since.toNumber() + maxHold;
    if ((await best()) < until) {
      const gate = await api.call.breakerApi.breaker(XBTC);
      const [listed] = await api.call.liquidationApi.liquidatable(null, 100);
      check(!listed.some(([who]) => [eve.address, ferdie.address].includes(who.toString())),
        `${label}: during the fall's wait (to block ${until}) liquidatable lists neither Eve nor Ferdie (gate ${gate.liquidationGate.toString()})`);
    }
    while ((await best()) < until) await new Promise((r) => heads.push(r));
  };

  // 4. XBTC falls 10% to 54,000: held by the guard, confirmed by a second feed. Dave's keeper
  // liquidates both with his USDM (the DEX still pays ~60,000 for XBTC).
  const drop1 = 54_000n * E18;
  const held1 = await feed([[USDM, E18], [XBTC, drop1]]);
  check(held1.held.isSome && held1.held.unwrap().low.toBigInt() === drop1, 'the oracle guard held the drop to 54,000');
  const conf1 = await feed([[USDM, E18], [XBTC, drop1]]);
  check(conf1.held.isNone && conf1.low.toBigInt() === drop1 && conf1.high.toBigInt() === drop1,
    'a second block\'s feed confirmed it');
  await waitOutTheFall(conf1, 'the drop to 54,000');
  const [listed1] = await api.call.liquidationApi.liquidatable(null, 100);
  const listedNames = listed1.map(([who]) => who.toString());
  check(listedNames.includes(eve.address) && listedNames.includes(ferdie.address),
    `liquidatable lists Eve and Ferdie: ${listed1.toString()}`);
  const eveBefore = await health(eve);

  const daveRun = await run(KEEPER, ['--ws', WS, '--suri', '//Dave', '--blocks', '2']);
  show('dave', daveRun.lines);
  check(daveRun.code === 0, `keeper --suri //Dave --blocks 2 exited ${daveRun.code}`);
  if (daveRun.code !== 0) console.log(daveRun.stderr);
  for (const who of [eve, ferdie]) {
    const name = who === eve ? 'Eve' : 'Ferdie';
    const acts = daveRun.lines.filter((l) => l.account === who.address && l.action !== 'skip');
    const l = acts[0];
    check(acts.length === 1 && l.action === 'liquidate' && l.result?.ok === true && BigInt(l.quote) > BigInt(l.repay),
      `Dave's keeper liquidated ${name} once, the DEX quote ${l?.quote} above the repayment ${l?.repay}`);
    if (!l?.result?.blockHash) continue;
    const events = await (await api.at(l.result.blockHash)).query.system.events();
    const liq = events.map((r) => r.event).find((e) => api.events.liquidation.Liquidated.is(e) &&
      e.data.borrower.toString() === who.address);
    // (The repayment is planned again in the block: a block's interest more than the preview.)
    const repaid = liq?.data.repaid.toBigInt() ?? 0n;
    check(liq && liq.data.liquidator.toString() === dave.address && repaid >= BigInt(l.repay) &&
      repaid - BigInt(l.repay) < BigInt(l.repay) / 1000n && liq.data.seized.toBigInt() > 0n,
      `liquidation.Liquidated(${name}) in block ${l.result.block}, liquidator Dave: ${liq?.toString()}`);
  }
  const eveAfter = await health(eve);
  const ferdieAfter = await health(ferdie);
  check(eveAfter.factor >= E18 && ferdieAfter.factor >= E18 && eveAfter.debt < eveBefore.debt,
    `health back above 1 (Eve ${Number(eveAfter.factor * 1000n / E18) / 1000}, Ferdie ${Number(ferdieAfter.factor * 1000n / E18) / 1000}), Eve's debt ${eveBefore.debt / UNIT} -> ${eveAfter.debt / UNIT} USD`);
  const daveSupply = await supplied(dave, XBTC);
  check(daveSupply > 0n, `Dave holds the seized XBTC as lending supply: ${daveSupply} units`);

  // 5. An arbitrageur (Bob) sells 1.1 XBTC on the DEX, bringing its price (60,000) to the
  // oracle's 54,000 (a pool above the oracle halts nothing: Bob takes the arbitrage, and the
  // keepers' sales below then pay the oracle's price, not more). XBTC then falls again, to 50,000 (Eve and Ferdie were left at health 1.05).
  // While the guard holds the drop, a liquidation values XBTC at the borrower's end of the
  // price (the accepted 54,000): neither keeper acts on Eve or Ferdie, own funds or not (the
  // same rule for every route). Once confirmed, the fresh keeper settles both through the DEX
  // and earns the tips.
  const sell = 1_100_000_000_000n; // 1.1 XBTC
  const xbtcKind = { WithId: XBTC };
  const usdmKind = { WithId: USDM };
  const out = (await api.call.assetConversionApi.quotePriceExactTokensForTokens(xbtcKind, usdmKind, sell, true)).unwrap();
  await send(api, api.tx.assetConversion.swapExactTokensForTokens([xbtcKind, usdmKind], sell, out.toBigInt(), bob.address, false), bob);
  const [inX, inU] = (await api.call.assetConversionApi.getReserves(xbtcKind, usdmKind)).unwrap();
  const spot = (inU.toBigInt() * 1000n) / inX.toBigInt(); // USDM per XBTC, thousandths
  const level = (await api.call.breakerApi.breaker(XBTC)).level;
  check(spot > 53_000_000n && spot < 55_000_000n && !level.isHalted,
    `Bob's arbitrage brought the DEX to ${Number(spot) / 1000} USDM per XBTC; breaker level ${level.type}`);
  const drop2 = 50_000n * E18;
  const held2 = await feed([[USDM, E18], [XBTC, drop2]]);
  check(held2.held.isSome && held2.held.unwrap().low.toBigInt() === drop2, 'the oracle guard held the drop to 50,000');
  const [heldFresh, heldDave] = await Promise.all([
    run(KEEPER, ['--ws', WS, '--suri', '//E2eKeeper', '--once']),
    run(KEEPER, ['--ws', WS, '--suri', '//Dave', '--once', '--dry-run']),
  ]);
  show('fresh (held)', heldFresh.lines);
  show('dave (held, dry run)', heldDave.lines);
  // (Nobody feeds meanwhile: the guard holds the price at whatever block they read.)
  const acted = (lines) => lines.filter((l) => [eve.address, ferdie.address].includes(l.account) && l.action !== 'skip');
  check(heldFresh.code === 0 && acted(heldFresh.lines).length === 0,
    'while the drop is held, the fresh keeper acts on neither Eve nor Ferdie');
  check(heldDave.code === 0 && acted(heldDave.lines).length === 0,
    'nor does Dave\'s keeper with its own funds: a held price liquidates no one by any route');
  const conf2 = await feed([[USDM, E18], [XBTC, drop2]]);
  check(conf2.held.isNone && conf2.low.toBigInt() === drop2, 'a second block\'s feed confirmed it');
  await waitOutTheFall(conf2, 'the drop to 50,000');
  const tipBefore = await supplied(fresh, XBTC);

  const freshRun = await run(KEEPER, ['--ws', WS, '--suri', '//E2eKeeper', '--blocks', '2']);
  show('fresh', freshRun.lines);
  check(freshRun.code === 0, `keeper --suri //E2eKeeper --blocks 2 exited ${freshRun.code}`);
  if (freshRun.code !== 0) console.log(freshRun.stderr);
  let tips = 0n;
  for (const who of [eve, ferdie]) {
    const name = who === eve ? 'Eve' : 'Ferdie';
    const acts = freshRun.lines.filter((l) => l.account === who.address && l.action !== 'skip');
    const l = acts[0];
    check(acts.length === 1 && l.action === 'settle' && l.result?.ok === true && /^funds: hold 0 < repay/.test(l.reason),
      `the fresh keeper settled ${name} once (no USDM: ${l?.reason})`);
    if (!l?.result?.blockHash) continue;
    const events = await (await api.at(l.result.blockHash)).query.system.events();
    const st = events.map((r) => r.event).find((e) => api.events.liquidation.Settled.is(e) &&
      e.data.borrower.toString() === who.address);
    check(st && st.data.caller.toString() === fresh.address && st.data.route.isDex && st.data.tip.toBigInt() > 0n &&
      st.data.repaid.toBigInt() > 0n,
      `liquidation.Settled(${name}) in block ${l.result.block}, caller the fresh keeper, tip ${st?.data.tip.toString()} XBTC units, route ${st?.data.route.toString()}`);
    if (st) tips += st.data.tip.toBigInt();
  }
  const tipAfter = await supplied(fresh, XBTC);
  check(tips > 0n && tipAfter - tipBefore === tips,
    `the fresh keeper's tips are its XBTC lending supply: ${tipBefore} -> ${tipAfter} units`);
  const [listed2] = await api.call.liquidationApi.liquidatable(null, 100);
  check(!listed2.some(([who]) => [eve.address, ferdie.address].includes(who.toString())),
    'liquidatable no longer lists Eve nor Ferdie');

  unsubHeads();
  await api.disconnect();
}

main()
  .catch((e) => {
    failed += 1;
    console.log(`not ok - ${e.message ?? e}`);
  })
  .finally(() => {
    clearTimeout(deadline);
    console.log(`e2e/keeper: ${passed} passed, ${failed} failed`);
    process.exit(failed === 0 ? 0 : 1);
  });
