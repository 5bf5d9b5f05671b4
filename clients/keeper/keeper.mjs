#!/usr/bin/env node
// A keeper bot for margincall's liquidation pallet (README, "For keepers").
//
//   node clients/keeper/keeper.mjs [--ws URL] [--suri //Dave] [--once] [--blocks N] [--dry-run]
//     [--min-profit USD] [--limit 100] [--max-pages 10]
//     [--bid collateral:debt:amount:discountPpm ...] [--bid-life 600] [--pre]
//
// Pre-liquidation mode (`--pre`; pre.mjs): on each new best block it also reads the borrowers
// who opted in to soft pre-liquidation (`liquidation.preLiquidation` entries) and, for each one
// the runtime offers a step for (`liquidationApi.preLiquidation(account).offer`: health in the
// borrower's band), sends `liquidation.preLiquidate(account, debt, collateral, { Exact: repay },
// bonus)` with its own funds (the offer's repayment and bonus as its bounds): it repays the step
// the borrower's close share allows at that depth in the band and gets the collateral at the
// borrower's bonus (one JSON line: `{"block":..,"account":..,"action":"preLiquidate",..}`).
//
// Market-maker mode (`--bid`, repeatable; maker.mjs): on each new best block it also keeps one
// standing bid of ours on each pair's bid book (`bids.placeBid`, held funds, a deposit; README
// "For market makers"), placing it for `--bid-life` blocks and replacing it once it filled
// below half or nears its expiry (one JSON line each: `{"block":..,"action":"bid"|"cancelBid",..}`).
//
// On each new best block it reads the accounts below health 1 from the chain's risk index
// (`api.call.liquidationApi.liquidatable`, page by page), dry-runs each one's settlement
// (`api.call.liquidationApi.preview`), and decides (decide.mjs):
// - `liquidate(account, debtAsset, collateralAsset, 'All')` with its own funds when it holds
//   at least `repay` of the debt asset and the DEX quote for selling `collateralDue` of the
//   collateral (`assetConversionApi.quotePriceExactTokensForTokens`, assets as
//   `{ WithId: id }`: the runtime's `NativeOrWithId<u32>`) beats `repay` by `--min-profit`
//   USD. It receives the collateral as lending supply (`lending.withdraw` it, then sell);
// - `settle(account)` otherwise (no capital), when `preview` shows it a route: the protocol
//   sells the collateral on the DEX and the keeper earns the tip (0.1% of the value repaid,
//   capped at USD 100, as collateral supply), or, when the DEX cannot (the breaker halted the
//   collateral, slippage, ...), the insurance backstop buys it, and then there is NO tip
//   (`Settled.tip` is 0 on that route; pallets/liquidation/src/impls.rs, `do_settle`);
// - `skip` when a transaction of ours for the account is in flight, or neither works (e.g.
//   `PriceUnconfirmed`: the breaker's oracle guard holds a price jump until a later feed).
//
// One JSON line on stdout per decision, once its transaction is in a block:
//   {"block":42,"account":"5H…","health":"0.97","action":"liquidate","reason":"…","repay":"…",
//    "quote":"…","profit":"…","profitUsd":"…","debtAsset":1,"collateralAsset":2,
//    "collateralDue":"…","route":"Backstop(Halted)","result":{"ok":true,"block":43,
//    "blockHash":"0x…","events":[{"name":"liquidation.Liquidated","data":{…}}]}}
// (amounts in base units, `profitUsd` in USD; a failure's `result` is
// `{"ok":false,"error":"liquidation.NotLiquidatable"}`, by name from the metadata).
// Diagnostics go to stderr. SIGINT stops it: transactions in flight are awaited, then exit 0.

import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { ApiPromise, Keyring, WsProvider } from '@polkadot/api';
import { E18, USD, decide } from './decide.mjs';
import { makerDecision, parseBids } from './maker.mjs';
import { preDecision } from './pre.mjs';

export * from './decide.mjs';
export * from './maker.mjs';
export * from './pre.mjs';

const USAGE = `usage: keeper.mjs [--ws URL] [--suri //Dave] [--once] [--blocks N] [--dry-run] [--min-profit USD]
                  [--limit 100] [--max-pages 10] [--bid collateral:debt:amount:discountPpm ...] [--bid-life 600]
                  [--pre]`;

/** Parses the command line (see the header); throws on a bad option. */
export function parseOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      ws: { type: 'string', default: process.env.MARGINCALL_WS ?? 'ws://127.0.0.1:9944' },
      suri: { type: 'string', default: '//Dave' },
      once: { type: 'boolean', default: false },
      blocks: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      'min-profit': { type: 'string', default: '0' },
      limit: { type: 'string', default: '100' },
      'max-pages': { type: 'string', default: '10' },
      bid: { type: 'string', multiple: true },
      'bid-life': { type: 'string', default: '600' },
      pre: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return { help: true };
  const int = (name, v, min) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}`);
    return n;
  };
  if (!/^[0-9]+(\.[0-9]{0,12})?$/.test(values['min-profit'])) throw new Error('--min-profit must be a USD amount, e.g. 10 or 2.5');
  const [whole, frac = ''] = values['min-profit'].split('.');
  return {
    ws: values.ws,
    suri: values.suri,
    blocks: values.once ? 1 : values.blocks === undefined ? Infinity : int('blocks', values.blocks, 1),
    dryRun: values['dry-run'],
    minProfit: BigInt(whole) * USD + BigInt(frac.padEnd(12, '0')), // USD base units
    limit: int('limit', values.limit, 1),
    maxPages: int('max-pages', values['max-pages'], 1),
    bids: parseBids(values.bid),
    bidLife: int('bid-life', values['bid-life'], 20),
    pre: values.pre,
  };
}

/** A FixedU128 or a 12-decimal amount as a decimal string (6 places). */
export function fmt(v, scale = E18) {
  if (v === null || v === undefined) return null;
  const neg = v < 0n;
  const a = neg ? -v : v;
  const digits = scale.toString().length - 1;
  const frac = (a % scale).toString().padStart(digits, '0').slice(0, 6).replace(/0+$/, '');
  return `${neg ? '-' : ''}${a / scale}${frac ? `.${frac}` : ''}`;
}

/** A dispatch error by name (`section.Name`), from the metadata. */
export function errorName(api, err) {
  if (err.isModule) {
    const { section, name } = api.registry.findMetaError(err.asModule);
    return `${section}.${name}`;
  }
  return err.isToken ? `Token.${err.asToken.type}` : err.isArithmetic ? `Arithmetic.${err.asArithmetic.type}` : err.type;
}

/** `Dex`, `Backstop(Halted)`, `Auction(NoPool)`, or why there is no route: `Err(PriceUnconfirmed)`. */
export function routeName(route) {
  if (route.isErr) return `Err(${route.asErr.type})`;
  const r = route.asOk;
  if (r.isDex || r.isNet) return r.type;
  if (r.isBids) return `Bids(${r.asBids.fills.toNumber()})`;
  return `${r.type}(${(r.isBackstop ? r.asBackstop : r.asAuction).dex.type})`;
}

/** An event as `{ name, data }` with plain values (u128 as decimal strings). */
function plainEvent(event) {
  const names = event.data.names ?? event.meta.fields.map((f) => f.name.toString());
  return {
    name: `${event.section}.${event.method}`,
    data: Object.fromEntries(event.data.map((d, i) => [names[i] ?? i, d.toPrimitive()])),
  };
}

/** JSON with bigints as strings. */
function line(obj) {
  return JSON.stringify(obj, (_, v) => (typeof v === 'bigint' ? v.toString() : v));
}

/**
 * What the keeper knows of `account` at the block `at`: its preview, the keeper's balance of
 * the debt, the DEX quote for the collateral due, the debt's oracle price. `{ error }` when
 * `preview` refuses (e.g. `liquidation.NotLiquidatable`).
 */
export async function assess(api, at, keeper, account) {
  const preview = await at.call.liquidationApi.preview(account);
  if (preview.isErr) return { error: errorName(api, preview.asErr) };
  const p = preview.asOk;
  const debtAsset = p.debtAsset.toNumber();
  const collateralAsset = p.collateralAsset.toNumber();
  const collateralDue = p.collateralDue.toBigInt();
  const [held, price, quote, auctionId] = await Promise.all([
    at.query.assets.account(debtAsset, keeper),
    at.query.oracle.values(debtAsset),
    collateralDue === 0n
      ? null
      : at.call.assetConversionApi
        .quotePriceExactTokensForTokens({ WithId: collateralAsset }, { WithId: debtAsset }, collateralDue, true)
        .then((q) => (q.isSome ? q.unwrap().toBigInt() : null), () => null),
    at.query.liquidation.borrowerAuction(account),
  ]);
  // A running auction's lot is the auction's (a `liquidate` reaching into it is refused
  // `InAuction`): this keeper leaves the account's auctioned collateral to the auction.
  let inAuction = null;
  if (auctionId.isSome) {
    const auction = await at.query.liquidation.auctions(auctionId.unwrap());
    if (auction.isSome && auction.unwrap().collateralAsset.toNumber() === collateralAsset) {
      inAuction = auctionId.unwrap().toNumber();
    }
  }
  return {
    health: p.health.toBigInt(),
    debtAsset,
    collateralAsset,
    repay: p.repay.toBigInt(),
    collateralDue,
    routeOk: p.route.isOk,
    route: routeName(p.route),
    balance: held.isSome ? held.unwrap().balance.toBigInt() : 0n,
    debtPrice: price.isSome ? price.unwrap().value.toBigInt() : null,
    quote,
    inAuction,
  };
}

/**
 * Signs and sends `tx` as `pair` with `nonce`. `submitted` resolves once the pool has it;
 * `result` once it is in a block, with `{ ok, block, blockHash, events }`, or with
 * `{ ok: false, error }` (neither rejects).
 */
function submit(api, tx, pair, nonce) {
  let submitted;
  const result = new Promise((resolve) => {
    let unsub;
    const finish = (r) => {
      if (unsub) unsub();
      resolve(r);
    };
    submitted = tx.signAndSend(pair, { nonce }, ({ status, events, dispatchError }) => {
      if (status.isInvalid || status.isDropped || status.isUsurped) {
        finish({ ok: false, error: `transaction ${status.type}` });
      } else if (status.isInBlock) {
        const blockHash = status.asInBlock.toHex();
        api.rpc.chain.getHeader(blockHash).then((h) => h.number.toNumber(), () => null).then((block) => {
          if (dispatchError) {
            finish({ ok: false, block, blockHash, error: errorName(api, dispatchError) });
          } else {
            const ours = events.map(({ event }) => event).filter((e) => ['liquidation', 'lending', 'bids'].includes(e.section));
            finish({ ok: true, block, blockHash, events: ours.map(plainEvent) });
          }
        });
      }
    }).then((u) => { unsub = u; }, (e) => finish({ ok: false, error: e.message ?? String(e) }));
  });
  return { submitted, result };
}

/**
 * Runs the keeper until `--blocks` new heads were processed or `stop()` is called; `done`
 * resolves once its transactions in flight are in blocks. `log` gets one JSON line per decision.
 * @returns {{ done: Promise<void>, stop: () => void, address: string }}
 */
export function runKeeper(api, opts, log = (s) => console.log(s), warn = (s) => console.error(s)) {
  const pair = new Keyring({ type: 'sr25519', ss58Format: api.registry.chainSS58 }).addFromUri(opts.suri);
  const me = pair.address;
  const pending = new Map(); // account -> its transaction's promise
  let queue = Promise.resolve(); // submissions, one after the other
  // Our next nonce, counted here from the pool-aware `system_accountNextIndex`: @polkadot/api's
  // `nonce: -1` reads the runtime's `AccountNonceApi` (the best block's state, not the pool),
  // so two transactions sent within a block would share a nonce and the second be refused
  // ("1014: Priority is too low"). Read again after a transaction that never reached a block.
  let nonce = null;
  let stopping = false;
  let stopResolve;
  const stopped = new Promise((r) => { stopResolve = r; });
  const stop = () => {
    if (!stopping) {
      stopping = true;
      stopResolve();
    }
  };

  /**
   * Sends `tx` for `key` (an account, or a pair's bid), one submission at a time (the next
   * waits until the pool has this one), and logs `entry` with its result; `key` is pending
   * until then.
   */
  const send = (key, tx, entry) => {
    const sent = queue.then(async () => {
      if (nonce === null) nonce = (await api.rpc.system.accountNextIndex(me)).toNumber();
      const sub = submit(api, tx, pair, nonce);
      nonce += 1;
      sub.result.then((r) => { if (!r.ok && r.block === undefined) nonce = null; });
      return sub;
    });
    queue = sent.then(({ submitted }) => submitted).catch(() => {});
    const p = sent.then(({ result }) => result, (e) => ({ ok: false, error: e.message ?? String(e) })).then((result) => {
      log(line({ ...entry, result }));
      pending.delete(key);
    });
    pending.set(key, p);
  };

  /** Decides for every liquidatable account at `head`, submits, logs. */
  const onHead = async (head) => {
    const block = head.number.toNumber();
    const at = await api.at(head.hash);
    // Every page of the risk index's accounts below 1 (at most --max-pages).
    const listed = [];
    let cursor = null;
    for (let page = 0; page < opts.maxPages; page += 1) {
      const [accounts, next] = await at.call.liquidationApi.liquidatable(cursor, opts.limit);
      for (const [who, health] of accounts) listed.push([who.toString(), health.toBigInt()]);
      if (next.isNone) break;
      cursor = next.unwrap();
    }
    for (const [account, listedHealth] of listed) {
      const base = { block, account, health: fmt(listedHealth) };
      if (account === me) {
        log(line({ ...base, action: 'skip', reason: 'our own position (SelfLiquidation)', result: null }));
        continue;
      }
      if (pending.has(account)) {
        log(line({ ...base, action: 'skip', reason: 'pending: a transaction of ours for it is in flight', result: null }));
        continue;
      }
      const s = await assess(api, at, me, account);
      if (s.error) {
        log(line({ ...base, action: 'skip', reason: `preview: ${s.error}`, result: null }));
        continue;
      }
      const d = decide({ ...s, minProfit: opts.minProfit });
      const entry = {
        ...base,
        health: fmt(s.health),
        action: d.action,
        reason: d.reason,
        repay: s.repay,
        quote: s.quote,
        profit: d.profit,
        profitUsd: fmt(d.profitUsd, USD),
        debtAsset: s.debtAsset,
        collateralAsset: s.collateralAsset,
        collateralDue: s.collateralDue,
        route: s.route,
      };
      if (d.action === 'skip' || opts.dryRun) {
        log(line({ ...entry, result: d.action === 'skip' ? null : 'dry-run' }));
        continue;
      }
      const tx = d.action === 'liquidate'
        ? api.tx.liquidation.liquidate(account, s.debtAsset, s.collateralAsset, 'All')
        : api.tx.liquidation.settle(account);
      send(account, tx, entry);
    }
    // Pre-liquidation mode: every opted-in borrower the runtime offers a step for.
    if (opts.pre) {
      const opted = await at.query.liquidation.preLiquidation.entries();
      for (const [key] of opted) {
        const account = key.args[0].toString();
        const pkey = `pre:${account}`;
        if (account === me || pending.has(pkey) || pending.has(account)) continue;
        const view = await at.call.liquidationApi.preLiquidation(account);
        const o = view.offer;
        const offer = o.isOk
          ? {
            ok: true,
            debtAsset: o.asOk.debtAsset.toNumber(),
            collateralAsset: o.asOk.collateralAsset.toNumber(),
            repay: o.asOk.repay.toBigInt(),
            collateral: o.asOk.collateral.toBigInt(),
            bonusPpm: o.asOk.bonus.toNumber(),
          }
          : { ok: false, error: errorName(api, o.asErr) };
        let balance = 0n;
        if (offer.ok) {
          const held = await at.query.assets.account(offer.debtAsset, me);
          balance = held.isSome ? held.unwrap().balance.toBigInt() : 0n;
        }
        const d = preDecision(offer, balance);
        const health = view.health.isSome ? fmt(view.health.unwrap().toBigInt()) : null;
        const entry = { block, account, health, action: d.action, reason: d.reason,
          debtAsset: offer.debtAsset ?? null, collateralAsset: offer.collateralAsset ?? null,
          repay: offer.repay ?? null };
        // Refusals are the common case (most opted-in accounts are above their band): only
        // steps are logged.
        if (d.action === 'skip') continue;
        if (opts.dryRun) {
          log(line({ ...entry, result: 'dry-run' }));
          continue;
        }
        // The offer's amount and bonus as our bounds: a borrower who raises its close share or
        // lowers its bonus in the block gets the step refused (`BonusBelowMinimum`), not paid.
        send(pkey, api.tx.liquidation.preLiquidate(account, offer.debtAsset, offer.collateralAsset,
          { Exact: offer.repay }, offer.bonusPpm), entry);
      }
    }
    // Market-maker mode: our standing bid on each pair.
    for (const spec of opts.bids) {
      const key = `bid:${spec.collateral}:${spec.debt}`;
      if (pending.has(key)) continue;
      const book = await at.call.bidsApi.book(spec.collateral, spec.debt);
      const ours = book.filter(([, b]) => b.owner.toString() === me).map(([id, b]) => ({
        id: id.toNumber(),
        remaining: b.remaining.toBigInt(),
        activeFrom: b.activeFrom.toNumber(),
        expiresAt: b.expiresAt.toNumber(),
      }));
      const d = makerDecision(spec, ours, block, 20);
      const entry = { block, action: d.action === 'place' ? 'bid' : d.action === 'cancel' ? 'cancelBid' : 'holdBid',
        reason: d.reason, collateralAsset: spec.collateral, debtAsset: spec.debt, amount: spec.amount,
        discountPpm: spec.discount, id: d.id ?? null };
      if (d.action === 'hold' || opts.dryRun) {
        if (d.action !== 'hold') log(line({ ...entry, result: 'dry-run' }));
        continue;
      }
      const tx = d.action === 'place'
        ? api.tx.bids.placeBid(spec.collateral, spec.debt, spec.amount, spec.discount, block + opts.bidLife)
        : api.tx.bids.cancelBid(d.id);
      send(key, tx, entry);
    }
  };

  const done = (async () => {
    warn(`keeper: ${me}${opts.dryRun ? ' (dry run)' : ''}`);
    let seen = 0;
    let busy = false;
    let latest = null; // the newest head that arrived while one was being processed
    const processHead = async (head) => {
      busy = true;
      try {
        await onHead(head);
      } catch (e) {
        warn(`keeper: block ${head.number.toNumber()}: ${e.message}`);
      }
      busy = false;
      if (latest && !stopping) {
        const next = latest;
        latest = null;
        await processHead(next);
      } else if (seen >= opts.blocks) {
        stop();
      }
    };
    const unsub = await api.rpc.chain.subscribeNewHeads((head) => {
      if (stopping || seen >= opts.blocks) return;
      seen += 1;
      if (busy) {
        if (latest) warn(`keeper: block ${latest.number.toNumber()} skipped (block ${head.number.toNumber()} is newer)`);
        latest = head;
      } else {
        processHead(head);
      }
    });
    await stopped;
    unsub();
    // Transactions in flight: until they are in blocks (a block or two), at most 60 s.
    await Promise.race([
      Promise.allSettled([...pending.values()]),
      new Promise((r) => setTimeout(r, 60_000).unref()),
    ]);
  })();
  return { done, stop, address: me };
}

async function main() {
  let opts;
  try {
    opts = parseOptions(process.argv.slice(2));
  } catch (e) {
    console.error(`${e.message}\n${USAGE}`);
    process.exit(2);
  }
  if (opts.help) {
    console.log(USAGE);
    return;
  }
  const api = await ApiPromise.create({ provider: new WsProvider(opts.ws), noInitWarn: true });
  console.error(`keeper: connected to ${await api.rpc.system.chain()} at ${opts.ws}`);
  const keeper = runKeeper(api, opts);
  let interrupted = false;
  process.on('SIGINT', () => {
    if (interrupted) process.exit(130); // a second Ctrl-C: now
    interrupted = true;
    console.error('keeper: SIGINT, waiting for the transactions in flight');
    keeper.stop();
  });
  await keeper.done;
  await api.disconnect();
}

// Run only as a program, not when imported (a test imports the decision logic).
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().then(() => process.exit(0), (e) => {
    console.error(`keeper: ${e.message ?? e}`);
    process.exit(1);
  });
}
