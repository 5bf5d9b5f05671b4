//! Volatility in fixed point: log returns and an exponentially weighted moving variance over
//! irregular time steps (RiskMetrics' EWMA, with the decay set by the time elapsed).
//!
//! For a price moving from `p0` to `p1` in `dt` seconds, the log return is `r = ln(p1 / p0)`
//! and `r² / dt` is one sample of the variance per second. With a time constant `τ` (seconds),
//! each sample enters with weight `dt / (τ + dt)`:
//!
//! `v' = v × τ / (τ + dt) + (r² / dt) × dt / (τ + dt) = (v × τ + r²) / (τ + dt)`
//!
//! (a first-order form of `exp(−dt/τ)`: the weights of past samples still sum to one, a long
//! gap decays the old estimate more, and an update per block or per hour estimates the same
//! thing). `τ = half_life / ln 2`. Volatility is reported annualised: `σ = √(v × seconds per
//! year)`.
//!
//! Bounded work: `ln` by argument reduction to `[1/√2, √2]` (at most 127 halvings, each a
//! shift) and an `atanh` series of at most [`SERIES_TERMS`] terms.

use sp_arithmetic::{
	traits::{CheckedAdd, CheckedDiv, CheckedMul, CheckedSub, One, Zero},
	FixedI128, FixedPointNumber, FixedU128,
};

/// `ln 2` in `FixedI128` (18 decimals).
pub const LN_2: FixedI128 = FixedI128::from_inner(693_147_180_559_945_309);
/// `√2` in `FixedU128`.
const SQRT_2: FixedU128 = FixedU128::from_inner(1_414_213_562_373_095_049);
/// Terms of the `atanh` series; with `|z| ≤ 0.172` (`x` in `[1/√2, √2]`) the 12th term is below
/// `10⁻¹⁸`.
pub const SERIES_TERMS: u32 = 12;
/// Seconds in a (365-day) year.
pub const SECONDS_PER_YEAR: u64 = 31_536_000;

/// `ln(x)` for `x > 0`; `None` for zero.
pub fn ln(x: FixedU128) -> Option<FixedI128> {
	if x.is_zero() {
		return None;
	}
	// x = m × 2^k with m in [1/√2, √2].
	let mut m = x;
	let mut k: i128 = 0;
	let two = FixedU128::from_u32(2);
	let low = FixedU128::one().checked_div(&SQRT_2)?;
	while m > SQRT_2 {
		m = m.checked_div(&two)?;
		k = k.checked_add(1)?;
	}
	while m < low {
		m = m.checked_mul(&two)?;
		k = k.checked_sub(1)?;
	}
	// ln m = 2 atanh(z), z = (m − 1) / (m + 1), |z| ≤ 0.172.
	let m = FixedI128::from_inner(i128::try_from(m.into_inner()).ok()?);
	let one = FixedI128::one();
	let z = m.checked_sub(&one)?.checked_div(&m.checked_add(&one)?)?;
	let z2 = z.checked_mul(&z)?;
	let mut power = z;
	let mut sum = FixedI128::zero();
	for n in 0..SERIES_TERMS {
		let denominator = i128::from(n).checked_mul(2)?.checked_add(1)?;
		sum = sum.checked_add(
			&power.checked_div(&FixedI128::from_inner(denominator.checked_mul(FixedI128::DIV)?))?,
		)?;
		power = power.checked_mul(&z2)?;
	}
	let two = FixedI128::from_u32(2);
	sum.checked_mul(&two)?
		.checked_add(&LN_2.checked_mul(&FixedI128::from_inner(k.checked_mul(FixedI128::DIV)?))?)
}

/// One step of the variance per second: from `variance`, a move from `p0` to `p1` over `dt`
/// seconds (`dt > 0`), time constant `tau` seconds. `None` on a zero price, a zero `dt` or an
/// overflow.
pub fn update(
	variance: FixedU128,
	p0: FixedU128,
	p1: FixedU128,
	dt: u64,
	tau: u64,
) -> Option<FixedU128> {
	if dt == 0 || p0.is_zero() {
		return None;
	}
	let r = ln(p1.checked_div(&p0)?)?;
	let r2 = FixedU128::from_inner(u128::try_from(r.checked_mul(&r)?.into_inner()).ok()?);
	let tau_f = FixedU128::from_inner(u128::from(tau).checked_mul(FixedU128::DIV)?);
	let denominator = u128::from(tau).checked_add(u128::from(dt))?;
	variance
		.checked_mul(&tau_f)?
		.checked_add(&r2)?
		.checked_div(&FixedU128::from_inner(denominator.checked_mul(FixedU128::DIV)?))
}

/// The annualised volatility of a variance per second: `√(v × seconds per year)`.
pub fn annualised(variance: FixedU128) -> Option<FixedU128> {
	variance
		.checked_mul(&FixedU128::from_inner(
			u128::from(SECONDS_PER_YEAR).checked_mul(FixedU128::DIV)?,
		))?
		.checked_sqrt()
}

/// The time constant of a half-life, in seconds: `half_life / ln 2` (rounded down, at least 1).
pub fn tau(half_life_secs: u32) -> u64 {
	// 1 / ln 2 = 1.442695040888963407…
	let tau = u128::from(half_life_secs).saturating_mul(1_442_695_040_888_963_407) / FixedU128::DIV;
	u64::try_from(tau).unwrap_or(u64::MAX).max(1)
}

#[cfg(test)]
mod tests {
	use super::*;

	fn f(x: FixedU128) -> f64 {
		x.into_inner() as f64 / 1e18
	}

	fn fx(x: f64) -> FixedU128 {
		FixedU128::from_inner((x * 1e18) as u128)
	}

	#[test]
	fn ln_matches_the_reference_over_many_magnitudes() {
		for x in [
			1e-9,
			0.01,
			0.3,
			0.5,
			core::f64::consts::FRAC_1_SQRT_2,
			0.9,
			0.999,
			1.0,
			1.001,
			1.2,
			core::f64::consts::SQRT_2,
			2.0,
			3.0,
			10.0,
			1e6,
			1e12,
		] {
			let got = ln(fx(x)).unwrap().into_inner() as f64 / 1e18;
			let want = x.ln();
			assert!(
				(got - want).abs() < 1e-12 + want.abs() * 1e-12,
				"ln({x}) = {got}, want {want}"
			);
		}
		assert_eq!(ln(FixedU128::one()), Some(FixedI128::zero()));
		assert_eq!(ln(FixedU128::zero()), None);
		// Symmetric: ln(1/x) = −ln(x) to the last digits.
		let a = ln(fx(1.25)).unwrap().into_inner();
		let b = ln(fx(0.8)).unwrap().into_inner();
		assert!((a + b).abs() < 10, "{a} {b}");
	}

	#[test]
	fn the_variance_follows_a_reference_ewma_over_irregular_steps() {
		// A price path with irregular steps, against the same recurrence in f64.
		let tau = tau(3_600);
		assert_eq!(tau, 5_193);
		let path = [
			(0u64, 100.0),
			(6, 101.0),
			(12, 99.5),
			(30, 99.7),
			(36, 92.0),
			(3_636, 95.0),
			(3_642, 95.1),
			(90_000, 60.0),
		];
		let mut v = FixedU128::zero();
		let mut reference = 0f64;
		for w in path.windows(2) {
			let ((t0, p0), (t1, p1)) = (w[0], w[1]);
			let dt = t1 - t0;
			v = update(v, fx(p0), fx(p1), dt, tau).unwrap();
			let r = (p1 / p0).ln();
			reference = (reference * tau as f64 + r * r) / (tau + dt) as f64;
			assert!(
				(f(v) - reference).abs() <= reference * 1e-9 + 1e-18,
				"after t={t1}: {} vs {reference}",
				f(v)
			);
		}
		// Zero steps and zero prices are refused.
		assert_eq!(update(v, fx(1.0), fx(2.0), 0, tau), None);
		assert_eq!(update(v, FixedU128::zero(), fx(2.0), 6, tau), None);
	}

	#[test]
	fn a_steady_random_walk_is_estimated_at_its_volatility() {
		// Alternating ±r every 6 s: variance per second r²/6, i.e. an annual volatility of
		// r × √(seconds per year / 6): r = 0.2% → 458%. (From a zero start the estimate
		// converges as exp(−t/τ): 120,000 s against τ = 5,194 s leaves nothing.)
		let tau = tau(3_600);
		let r = 0.002f64;
		let mut v = FixedU128::zero();
		let mut p = 100.0f64;
		for i in 0..20_000 {
			let next = if i % 2 == 0 { p * r.exp() } else { p / r.exp() };
			v = update(v, fx(p), fx(next), 6, tau).unwrap();
			p = next;
		}
		let sigma = f(annualised(v).unwrap());
		let want = r * (SECONDS_PER_YEAR as f64 / 6.0).sqrt();
		assert!((sigma - want).abs() < want * 1e-3, "{sigma} vs {want}");
	}

	#[test]
	fn half_lives_convert_to_time_constants() {
		assert_eq!(tau(0), 1);
		assert_eq!(tau(1), 1);
		assert_eq!(tau(600), 865);
		assert_eq!(tau(u32::MAX), 6_196_328_017);
	}
}
