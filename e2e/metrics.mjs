// The node's Prometheus metrics of the liquidation engine (`margincall_*`), scraped from
// /metrics after e2e/smoke.mjs's offchain worker settled Eve through the DEX: each gauge equals
// what the runtime API says at the block the metrics were read at (`margincall_best_block`),
// and the counters hold the settlement. Exits non-zero on the first failed check; 120 s.
import { ApiPromise, WsProvider } from '@polkadot/api';

const WS = process.env.MARGINCALL_WS ?? 'ws://127.0.0.1:9944';
const METRICS = process.env.MARGINCALL_METRICS ?? 'http://127.0.0.1:9615/metrics';
const UNIT = 1e12;

let failed = 0;
function check(cond, what) {
  console.log(`${cond ? 'ok' : 'not ok'} - ${what}`);
  if (!cond) failed += 1;
}
setTimeout(() => { console.log('not ok - metrics check timed out after 120 s'); process.exit(1); }, 120_000);

/** Parses the Prometheus text format into [{ name, labels, value }]. */
function parse(text) {
  const out = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?\s+(\S+)/);
    if (!m) continue;
    const labels = {};
    for (const pair of (m[3] ?? '').split(',').filter(Boolean)) {
      const [k, v] = pair.split('=');
      labels[k] = v.replace(/^"|"$/g, '');
    }
    out.push({ name: m[1], labels, value: Number(m[4]) });
  }
  return out;
}

function metric(all, name, labels = {}) {
  const found = all.find((s) => s.name === name &&
    Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return found?.value;
}

const close = (a, b) => a !== undefined && Math.abs(a - b) <= Math.max(1e-9, Math.abs(b) * 1e-12);

async function main() {
  const api = await ApiPromise.create({ provider: new WsProvider(WS), noInitWarn: true });
  // Scrape until the metrics were read at a block the node still knows (they follow the best
  // block; two scrapes a block apart settle any race with a new import).
  let samples;
  let best;
  for (let i = 0; i < 20; i += 1) {
    const res = await fetch(METRICS);
    samples = res.ok ? parse(await res.text()) : [];
    best = metric(samples, 'margincall_best_block');
    // Counters follow finality: wait for smoke's settlement to be counted.
    const counted = metric(samples, 'margincall_liquidations_total', { route: 'dex' });
    const sameBlock = metric(samples, 'margincall_same_block_settlements_total');
    if (best !== undefined && best > 0 && counted >= 1 && sameBlock >= 1) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  check(best > 0, `margincall_best_block = ${best}`);
  const finalized = metric(samples, 'margincall_finalized_block');
  check(finalized > 0 && finalized <= best, `margincall_finalized_block = ${finalized} (counters hold its events)`);
  check(metric(samples, 'margincall_metrics_errors_total', { part: 'events' }) === undefined &&
    metric(samples, 'margincall_metrics_errors_total', { part: 'gauges' }) === undefined,
  'no margincall_metrics_errors_total');
  const hash = await api.rpc.chain.getBlockHash(best);
  const at = await api.at(hash);

  // Counters: smoke's settlement (DEX route) and its USDM repayment.
  const dex = metric(samples, 'margincall_liquidations_total', { route: 'dex' });
  check(dex >= 1, `margincall_liquidations_total{route="dex"} = ${dex} (smoke's settlement)`);
  const repaid = metric(samples, 'margincall_debt_repaid_total', { asset: '1' });
  check(repaid > 0, `margincall_debt_repaid_total{asset="1"} = ${repaid} USDM`);

  // Same-block settlements: every `Settled` of a `settleAfterFeed` extrinsic in the finalized
  // blocks the counters hold (smoke's second fall requires one in its feed's block).
  let sameBlock = 0;
  for (let n = 1; n <= finalized; n += 1) {
    const h = await api.rpc.chain.getBlockHash(n);
    const [block, events] = await Promise.all([api.rpc.chain.getBlock(h), (await api.at(h)).query.system.events()]);
    const afterFeed = new Set(block.block.extrinsics
      .map((xt, i) => (xt.method.section === 'liquidation' && xt.method.method === 'settleAfterFeed' ? i : -1))
      .filter((i) => i >= 0));
    sameBlock += events.filter(({ phase, event }) => phase.isApplyExtrinsic &&
      afterFeed.has(phase.asApplyExtrinsic.toNumber()) && api.events.liquidation.Settled.is(event)).length;
  }
  const counted = metric(samples, 'margincall_same_block_settlements_total');
  check(sameBlock >= 1 && counted === sameBlock,
    `margincall_same_block_settlements_total = ${counted}, Settled by settleAfterFeed in #1..#${finalized}: ${sameBlock}`);

  // Gauges: equal to the runtime APIs at the same block.
  const [page] = await at.call.liquidationApi.liquidatable(null, 1000);
  const below = metric(samples, 'margincall_positions_below_one');
  check(below === page.length, `margincall_positions_below_one = ${below}, liquidatable at #${best}: ${page.length}`);
  const fund = await at.call.liquidationApi.insuranceFund();
  for (const [asset, tokens, supply] of fund) {
    const a = asset.toString();
    const t = metric(samples, 'margincall_insurance_fund', { asset: a, held: 'tokens' });
    const s = metric(samples, 'margincall_insurance_fund', { asset: a, held: 'supply' });
    check(close(t, Number(tokens.toBigInt()) / UNIT) && close(s, Number(supply.toBigInt()) / UNIT),
      `margincall_insurance_fund{asset="${a}"} tokens ${t}, supply ${s} = insuranceFund`);
  }
  check(fund.length > 0, `insurance fund has ${fund.length} assets`);
  const badDebt = await at.call.liquidationApi.badDebt(1);
  check(close(metric(samples, 'margincall_bad_debt_socialised', { asset: '1' }), Number(badDebt.toBigInt()) / UNIT),
    `margincall_bad_debt_socialised{asset="1"} = badDebt(1) = ${badDebt.toString()}`);
  const levels = { Normal: 0, Throttled: 1, Halted: 2 };
  for (const asset of [1, 2]) {
    const view = await at.call.breakerApi.breaker(asset);
    const level = metric(samples, 'margincall_breaker_level', { asset: `${asset}` });
    check(level === levels[view.level.type], `margincall_breaker_level{asset="${asset}"} = ${level} (${view.level.type})`);
  }
  const now = (await at.query.timestamp.now()).toNumber();
  const vols = await at.call.breakerApi.volatilities();
  for (const [asset, v] of vols) {
    const a = asset.toString();
    const age = metric(samples, 'margincall_oracle_price_age_seconds', { asset: a });
    const expected = (now - v.at.toNumber()) / 1000;
    check(close(age, expected), `margincall_oracle_price_age_seconds{asset="${a}"} = ${age} (block time − price time)`);
    const price = metric(samples, 'margincall_oracle_price', { asset: a });
    check(close(price, Number(v.price.toBigInt()) / 1e18), `margincall_oracle_price{asset="${a}"} = ${price}`);
  }
  check(vols.length >= 2, `prices of ${vols.length} assets`);
  const auctions = await at.call.liquidationApi.auctions();
  check(metric(samples, 'margincall_auctions_live') === auctions.length, `margincall_auctions_live = ${auctions.length}`);
  // The node's own metrics sit beside them (updated on their own clock, every few seconds:
  // present, not compared).
  check(metric(samples, 'substrate_block_height', { status: 'best' }) > 0, 'substrate_block_height{status="best"} beside them');

  await api.disconnect();
  console.log(`# metrics: ${failed === 0 ? 'all passed' : `${failed} failed`}`);
  process.exit(failed === 0 ? 0 : 1);
}

main().catch((e) => { console.log(`not ok - ${e.stack ?? e}`); process.exit(1); });
