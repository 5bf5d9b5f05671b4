// Price paths for the dev feeder, as pure functions (no chain, no @polkadot/api): a CSV path
// or a seeded log-normal random walk. Prices are the oracle's FixedU128: USD (base units) per
// base unit of the asset, 18 decimals; every dev asset has 12 decimals like the USD
// reference, so 60_000n * 10n ** 18n is XBTC at $60,000.

/** FixedU128's scale: 10^18. */
export const E18 = 10n ** 18n;
/** Seconds in a (365-day) year: volatilities are annualised. */
export const YEAR_SECS = 365 * 24 * 3600;
/** The dev chain's block time (`MILLI_SECS_PER_BLOCK`). */
export const BLOCK_SECS = 6;
/** The dev assets, by id. */
export const ASSETS = { 1: 'USDM', 2: 'XBTC', 3: 'MEME' };
/** The genesis reference prices (USD), the start when the oracle holds no value. */
export const GENESIS_PRICES = { 1: '1', 2: '60000', 3: '0.05' };
/**
 * Annualised volatility of each asset's walk: USDM is pinned at 1, XBTC moves like a large
 * cap, MEME like a small cap. Override per asset with `--vol 2=0.8,3=1.5`.
 */
export const DEFAULT_VOL = { 1: 0, 2: 0.6, 3: 1.2 };
/**
 * Largest move of one step: the breaker's oracle guard holds a jump above 5% until a later
 * feed confirms it, so a walk stays below it.
 */
export const MAX_STEP = 0.04;

/**
 * Parses a decimal string ("60000", "0.05", "1.5e-7") into a fixed-point bigint with
 * `decimals` decimals, truncating what lies beyond them.
 * @param {string} text
 * @param {number} [decimals]
 * @returns {bigint}
 */
export function parseFixed(text, decimals = 18) {
  const m = /^\s*([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?\s*$/.exec(String(text));
  if (!m || (m[1] === '' && (m[2] ?? '') === '')) throw new Error(`not a non-negative decimal: ${JSON.stringify(text)}`);
  const [, int, frac = '', exp = '0'] = m;
  // Move the decimal point by the exponent, then pad or cut to `decimals`.
  const shift = decimals + Number(exp);
  const digits = int + frac;
  const point = int.length + shift; // digits left of the point after scaling
  if (point <= 0) return 0n;
  const whole = point >= digits.length ? digits + '0'.repeat(point - digits.length) : digits.slice(0, point);
  return BigInt(whole === '' ? '0' : whole);
}

/**
 * Formats a fixed-point bigint as a decimal string with at most `places` decimals (trailing
 * zeros dropped).
 * @param {bigint} value
 * @param {number} [decimals]
 * @param {number} [places]
 */
export function formatFixed(value, decimals = 18, places = 6) {
  const scale = 10n ** BigInt(decimals);
  const neg = value < 0n;
  const abs = neg ? -value : value;
  const int = abs / scale;
  const frac = (abs % scale).toString().padStart(decimals, '0').slice(0, places).replace(/0+$/, '');
  return `${neg ? '-' : ''}${int}${frac ? `.${frac}` : ''}`;
}

/** A float USD price as FixedU128 (15 significant digits: plenty, and deterministic). */
export function fixedFromFloat(x) {
  return parseFixed(x.toPrecision(15));
}

/** A FixedU128 price as a float (for the walk's arithmetic). */
export function floatFromFixed(v) {
  return Number(v / 10n ** 6n) / 1e12;
}

/**
 * A deterministic PRNG: sfc32 seeded through splitmix32 from a number or a string. Returns
 * floats in [0, 1).
 * @param {number|string} seed
 * @returns {() => number}
 */
export function prng(seed) {
  let h = 0x9e3779b9;
  for (const ch of String(seed)) h = Math.imul(h ^ ch.codePointAt(0), 0x85ebca6b) >>> 0;
  const split = () => {
    h = (h + 0x9e3779b9) >>> 0;
    let z = h;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let [a, b, c, d] = [split(), split(), split(), split()];
  return () => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t / 4294967296;
  };
}

/** A standard normal draw from `rand` (Box-Muller). */
export function gaussian(rand) {
  const u = 1 - rand(); // (0, 1]: log(u) is finite
  const v = rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/**
 * A seeded log-normal random walk, one step at a time: `next()` returns the next
 * `{ [asset]: FixedU128 }`, the first call the start prices themselves (a feed of the current
 * values refreshes them). Each step draws one normal per asset in ascending asset order, so
 * the path depends only on the seed, the start prices, the assets, `vol` and `dt`:
 * `p' = p · exp(σ√(dt/yr)·z − σ²dt/2yr)`, its log return clamped to ±`maxStep`.
 * @param {{ seed: number|string, start: Record<number, bigint>, vol?: Record<number, number>,
 *   dt?: number, maxStep?: number }} opts `dt`: simulated seconds per step
 */
export function walker({ seed, start, vol = DEFAULT_VOL, dt = BLOCK_SECS, maxStep = MAX_STEP }) {
  const rand = prng(seed);
  const assets = Object.keys(start).map(Number).sort((x, y) => x - y);
  const price = Object.fromEntries(assets.map((a) => [a, floatFromFixed(start[a])]));
  const lo = Math.log(1 - maxStep);
  const hi = Math.log(1 + maxStep);
  const t = dt / YEAR_SECS;
  let first = true;
  return {
    next() {
      if (first) {
        first = false;
        return { ...start };
      }
      const out = {};
      for (const a of assets) {
        const z = gaussian(rand);
        const sigma = vol[a] ?? 0;
        if (sigma === 0) {
          out[a] = start[a]; // pinned (USDM)
          continue;
        }
        const r = Math.min(hi, Math.max(lo, sigma * Math.sqrt(t) * z - (sigma * sigma * t) / 2));
        price[a] *= Math.exp(r);
        out[a] = fixedFromFloat(price[a]);
      }
      return out;
    },
  };
}

/**
 * The first `steps` prices of the seeded walk (see `walker`): the same arguments give the
 * same path, which is what the feeder feeds one step per round.
 * @returns {Array<Record<number, bigint>>}
 */
export function randomWalk(opts, steps) {
  const w = walker(opts);
  return Array.from({ length: steps }, () => w.next());
}

/**
 * Parses a price-path CSV: a header `block,<asset id>,<asset id>...`, then one row per step
 * with USD prices as decimals (blank lines and `#` comments skipped). The `block` column
 * labels the row (the feeder advances one row per round, every `--every` blocks).
 * @param {string} text
 * @returns {{ assets: number[], rows: Array<{ block: number, prices: Record<number, bigint> }> }}
 */
export function parseCsv(text) {
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  if (lines.length < 2) throw new Error('CSV: a header and at least one row are needed');
  const header = lines[0].split(',').map((c) => c.trim());
  if (header[0] !== 'block') throw new Error(`CSV: the header must start with "block", found ${header[0]}`);
  const assets = header.slice(1).map((c) => {
    if (!/^[0-9]+$/.test(c)) throw new Error(`CSV: column ${c} is not an asset id`);
    return Number(c);
  });
  const rows = lines.slice(1).map((line, i) => {
    const cells = line.split(',').map((c) => c.trim());
    if (cells.length !== header.length) throw new Error(`CSV row ${i + 2}: ${cells.length} cells, expected ${header.length}`);
    const prices = {};
    assets.forEach((a, j) => { prices[a] = parseFixed(cells[j + 1]); });
    return { block: Number(cells[0]), prices };
  });
  return { assets, rows };
}
