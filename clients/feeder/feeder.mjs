#!/usr/bin/env node
// A dev price feeder for margincall's oracle (orml-oracle): feeds a price path, a CSV or a
// seeded random walk, as the oracle's feeders among `--signers` (default alice,bob,charlie: the
// local test network's three; the dev chain's one, Alice), one round every `--every` blocks,
// and logs one JSON line per asset fed.
//
//   node clients/feeder/feeder.mjs [--ws URL] [--csv FILE | --seed N] [--assets 1,2,3]
//     [--every BLOCKS] [--blocks N] [--signers alice,bob,charlie] [--vol 2=0.6,3=1.2] [--speed X]
//
// The path (path.mjs): a CSV (`block,<asset id>,...` then one row of USD prices per step; the
// block column only labels the rows, one row is fed every `--every` blocks; e.g. crash.csv),
// or a log-normal random walk seeded by `--seed` (default 1), starting from the oracle's
// current values (the genesis references if none), its first step those values themselves,
// with annual volatilities `--vol` (USDM 0, XBTC 0.6, MEME 1.2) over `6 s × --every × --speed`
// of simulated time a step. `--blocks N` stops after N new blocks (default: never; a CSV stops
// at its end).
//
// How the chain takes a feed (runtime/src/configs/mod.rs, pallets/breaker):
// - `oracle.feedValues([[asset, price]])`, price a FixedU128 (18 decimals) of USD per base unit;
//   each feeder may feed once per block (`AlreadyFeeded`).
// - Only a member of `oracleMembership` may feed, and only assets with a lending market: the
//   chain refuses anything else before inclusion (signers that are not feeders are skipped).
// - The oracle's value is the MEDIAN of the feeders' raw values fed in the last 10 minutes,
//   needing at least the breaker's feed quorum of them, a strict majority of the feeders (1 of
//   1 on the dev chain, 2 of 3 on the local network). So one feeder alone does not move the
//   price while the others fed within 10 minutes: every round is fed by EVERY signer, in the
//   same block, and the median is the round's price.
// - The breaker's oracle guard holds a combined price more than 5% away from the last
//   accepted one (`breaker.PriceHeld`: no DEX sale, no borrow on it) until the DEX follows or
//   a feeder re-states it in a later block. The feeder confirms its own held jumps: when
//   `breaker.quotes(asset)` holds the price it fed last, the next block's round feeds the same
//   values again (kind `confirm`) before the path goes on. A random walk keeps its steps
//   within 4%.
//
// A log line: {"block":12,"step":3,"kind":"step","asset":2,"symbol":"XBTC","price":"59995.44",
//   "raw":"59995440399000000000000","feeders":["alice","bob","charlie"],"held":false}
// (`block`: where the round's feeds landed; `held`: the guard held it there). Diagnostics go to
// stderr. SIGINT stops it: no new round, the rounds in flight land, then it exits 0.

import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { ApiPromise, Keyring, WsProvider } from '@polkadot/api';
import {
  ASSETS, BLOCK_SECS, DEFAULT_VOL, GENESIS_PRICES, formatFixed, parseCsv, parseFixed, walker,
} from './path.mjs';

export * from './path.mjs';

const USAGE = `usage: feeder.mjs [--ws URL] [--csv FILE | --seed N] [--assets 1,2,3] [--every BLOCKS]
                  [--blocks N] [--signers alice,bob,charlie] [--vol 2=0.6,3=1.2] [--speed X]`;

/** Parses the command line (see the header); throws on a bad option. */
export function parseOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      ws: { type: 'string', default: process.env.MARGINCALL_WS ?? 'ws://127.0.0.1:9944' },
      csv: { type: 'string' },
      seed: { type: 'string' },
      assets: { type: 'string' },
      every: { type: 'string', default: '1' },
      blocks: { type: 'string' },
      signers: { type: 'string', default: 'alice,bob,charlie' },
      vol: { type: 'string' },
      speed: { type: 'string', default: '1' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return { help: true };
  if (values.csv !== undefined && values.seed !== undefined) throw new Error('--csv and --seed exclude each other');
  const int = (name, v, min) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}`);
    return n;
  };
  const vol = { ...DEFAULT_VOL };
  for (const pair of (values.vol ?? '').split(',').filter(Boolean)) {
    const [a, v] = pair.split('=');
    if (!/^[0-9]+$/.test(a) || !(Number(v) >= 0)) throw new Error(`--vol: bad entry ${pair} (asset=annual, e.g. 2=0.6)`);
    vol[Number(a)] = Number(v);
  }
  const speed = Number(values.speed);
  if (!(speed > 0)) throw new Error('--speed must be > 0');
  return {
    ws: values.ws,
    csv: values.csv,
    seed: values.seed ?? (values.csv === undefined ? '1' : undefined),
    assets: values.assets?.split(',').map((a) => int('assets', a, 0)),
    every: int('every', values.every, 1),
    blocks: values.blocks === undefined ? Infinity : int('blocks', values.blocks, 1),
    signers: values.signers.split(',').map((s) => s.trim()).filter(Boolean),
    vol,
    speed,
  };
}

/** `alice` → `//Alice`; a SURI (`//X`, a mnemonic) is kept as it is. */
export function signerUri(name) {
  return name.includes('/') || name.includes(' ') ? name : `//${name[0].toUpperCase()}${name.slice(1)}`;
}

/** JSON with bigints as strings. */
function line(obj) {
  return JSON.stringify(obj, (_, v) => (typeof v === 'bigint' ? v.toString() : v));
}

/** The oracle's current value of each asset, or its genesis reference if it holds none. */
async function startPrices(api, assets) {
  const out = {};
  for (const a of assets) {
    const v = await api.query.oracle.values(a);
    if (v.isSome) {
      out[a] = v.unwrap().value.toBigInt();
    } else if (GENESIS_PRICES[a] !== undefined) {
      out[a] = parseFixed(GENESIS_PRICES[a]);
    } else {
      throw new Error(`asset ${a}: no oracle value and no genesis reference to start from`);
    }
  }
  return out;
}

/**
 * Signs and sends `tx`; `onNonce` gets the nonce it was signed with as soon as it is
 * submitted (`nonce: -1`: @polkadot/api reads it from the best block's state, not the pool, so
 * a signer feeds again only once its last feed is in a block). Resolves with its block hash
 * once in a block, or rejects by name.
 */
function sendInBlock(api, tx, signer, onNonce) {
  return new Promise((resolve, reject) => {
    let unsub;
    tx.signAndSend(signer, { nonce: -1 }, ({ status, dispatchError }) => {
      if (status.isInvalid || status.isDropped || status.isUsurped) {
        if (unsub) unsub();
        reject(new Error(`transaction ${status.type}`));
      } else if (status.isInBlock) {
        if (unsub) unsub();
        if (dispatchError) {
          const name = dispatchError.isModule
            ? (({ section, name: n }) => `${section}.${n}`)(api.registry.findMetaError(dispatchError.asModule))
            : dispatchError.toString();
          reject(new Error(name));
        } else {
          resolve(status.asInBlock);
        }
      }
    }).then((u) => {
      unsub = u;
      onNonce(tx.nonce.toNumber());
    }, reject);
  });
}

/**
 * Runs the feeder until the path ends, `--blocks` blocks were seen, or `stop()` is called.
 * `done` resolves once the rounds in flight have landed.
 * @returns {{ done: Promise<void>, stop: () => void }}
 */
export function runFeeder(api, opts, log = (s) => console.log(s), warn = (s) => console.error(s)) {
  const keyring = new Keyring({ type: 'sr25519' });
  // `nonce`: the nonce of the signer's feed in flight (`-1` while it is being submitted).
  let signers = opts.signers.map((name) => ({ name, pair: keyring.addFromUri(signerUri(name)), nonce: null }));
  const inFlight = new Set();
  let stopping = false;
  let stopResolve;
  const stopped = new Promise((r) => { stopResolve = r; });
  const stop = () => {
    if (!stopping) {
      stopping = true;
      stopResolve();
    }
  };

  const done = (async () => {
    // The path: CSV rows or a walk from the chain's current prices.
    let assets;
    let nextStep;
    if (opts.csv !== undefined) {
      const csv = parseCsv(readFileSync(opts.csv, 'utf8'));
      assets = opts.assets ?? csv.assets;
      const missing = assets.filter((a) => !csv.assets.includes(a));
      if (missing.length) throw new Error(`CSV has no column for asset(s) ${missing.join(', ')}`);
      // The block column only labels the rows: say so when its spacing is not --every.
      const gaps = new Set(csv.rows.slice(1).map((r, i) => r.block - csv.rows[i].block));
      if (gaps.size === 1 && !gaps.has(opts.every)) {
        warn(`feeder: the CSV's rows are ${[...gaps][0]} blocks apart; fed one row every ${opts.every} block(s) (--every)`);
      }
      let i = 0;
      nextStep = () => {
        const row = csv.rows[i];
        i += 1;
        return row && Object.fromEntries(assets.map((a) => [a, row.prices[a]]));
      };
    } else {
      assets = opts.assets ?? [1, 2, 3];
      const start = await startPrices(api, assets);
      const w = walker({ seed: opts.seed, start, vol: opts.vol, dt: BLOCK_SECS * opts.every * opts.speed });
      nextStep = () => w.next();
      warn(`feeder: walk from ${assets.map((a) => `${ASSETS[a] ?? a} ${formatFixed(start[a])}`).join(', ')}, seed ${opts.seed}`);
    }
    // The chain refuses a stranger's feed before inclusion: feed as the signers that are feeders.
    const members = (await api.query.oracleMembership.members()).map(String);
    for (const s of signers) {
      if (!members.includes(s.pair.address)) warn(`feeder: ${s.name} (${s.pair.address}) is not an oracle feeder: skipped`);
    }
    signers = signers.filter((s) => members.includes(s.pair.address));
    if (signers.length === 0) throw new Error('feeder: none of the signers is an oracle feeder');

    let step = -1;
    let last = null; // the values of the last round
    let due = false; // a step is due (deferred while every signer still has a feed in flight)
    let seen = 0;
    let first = null;

    /** Feeds `values` as each of `free`; logs one line per asset once they landed. */
    const round = (kind, values, stepNo, free) => {
      const p = (async () => {
        const results = await Promise.allSettled(free.map(async (s) => {
          s.nonce = -1;
          try {
            const tx = api.tx.oracle.feedValues(assets.map((a) => [a, values[a]]));
            return await sendInBlock(api, tx, s.pair, (nonce) => { s.nonce = nonce; });
          } catch (e) {
            s.nonce = null;
            throw e;
          }
        }));
        const landed = [];
        results.forEach((r, i) => {
          if (r.status === 'fulfilled') landed.push({ s: free[i], hash: r.value });
          else warn(`feeder: ${free[i].name}'s feed failed: ${r.reason.message}`);
        });
        if (landed.length === 0) return;
        // The block where the round landed (the latest, when it spread over two).
        const headers = await Promise.all(landed.map(({ hash }) => api.rpc.chain.getHeader(hash)));
        const top = headers.reduce((a, b) => (b.number.toNumber() > a.number.toNumber() ? b : a));
        const events = await (await api.at(top.hash)).query.system.events();
        const held = new Set(events.filter(({ event }) => api.events.breaker.PriceHeld.is(event))
          .map(({ event }) => event.data.asset.toNumber()));
        for (const a of assets) {
          log(line({
            block: top.number.toNumber(), step: stepNo, kind, asset: a, symbol: ASSETS[a] ?? String(a),
            price: formatFixed(values[a]), raw: values[a], feeders: landed.map(({ s }) => s.name), held: held.has(a),
          }));
        }
      })().catch((e) => warn(`feeder: round failed: ${e.message}`));
      inFlight.add(p);
      p.finally(() => inFlight.delete(p));
    };

    const unsub = await api.rpc.chain.subscribeNewHeads(async (head) => {
      if (stopping) return;
      const n = head.number.toNumber();
      if (first === null) first = n;
      seen += 1;
      if ((n - first) % opts.every === 0) due = true;
      try {
        const at = await api.at(head.hash);
        // A signer is free once its last feed is in this block or before (its nonce moved on).
        const accounts = await Promise.all(signers.map((s) => at.query.system.account(s.pair.address)));
        const free = signers.filter((s, i) => s.nonce === null || (s.nonce >= 0 && accounts[i].nonce.toNumber() > s.nonce));
        // A jump of ours the guard holds: confirm it with the same values first.
        let confirm = false;
        if (last !== null) {
          const quotes = await Promise.all(assets.map((a) => at.query.breaker.quotes(a)));
          confirm = quotes.some((q, i) => {
            if (q.isNone || q.unwrap().held.isNone) return false;
            const held = q.unwrap().held.unwrap();
            return held.low.toBigInt() <= last[assets[i]] && last[assets[i]] <= held.high.toBigInt();
          });
        }
        if (stopping) return;
        if ((confirm || due) && free.length === 0) {
          warn(`feeder: block ${n}: every signer still has a feed in flight, round deferred`);
        } else if (confirm) {
          round('confirm', last, step, free);
        } else if (due) {
          due = false;
          const values = nextStep();
          if (values === undefined) {
            warn('feeder: end of the CSV');
            stop();
            return;
          }
          step += 1;
          last = values;
          round('step', values, step, free);
        }
      } catch (e) {
        warn(`feeder: block ${n}: ${e.message}`);
      }
      if (seen >= opts.blocks) stop();
    });

    await stopped;
    unsub();
    // Let the rounds in flight land (a block or two), at most 30 s.
    await Promise.race([
      Promise.allSettled([...inFlight]),
      new Promise((r) => setTimeout(r, 30_000).unref()),
    ]);
  })();
  return { done, stop };
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
  console.error(`feeder: connected to ${await api.rpc.system.chain()} at ${opts.ws}`);
  const feeder = runFeeder(api, opts);
  let interrupted = false;
  process.on('SIGINT', () => {
    if (interrupted) process.exit(130); // a second Ctrl-C: now
    interrupted = true;
    console.error('feeder: SIGINT, letting the feeds in flight land');
    feeder.stop();
  });
  await feeder.done;
  await api.disconnect();
}

// Run only as a program, not when imported (a test imports the path functions).
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().then(() => process.exit(0), (e) => {
    console.error(`feeder: ${e.message ?? e}`);
    process.exit(1);
  });
}
