//! The risk index's pure math: logarithmic buckets of a price variable, and where an account
//! is filed. Entries are in share units (interest moves the variables, never an entry):
//!
//! - one collateral and one debt: the bucket of `debt shares / collateral shares`, compared with
//!   the pair's variable `(threshold × price × supply index) / (price × borrow index)`: exact;
//! - several assets: one entry, the account's health at an epoch's reference variables
//!   ([`wide_entry`]), read by how far its variables moved since ([`fall_factor`]): never
//!   misses, may over-report.
//!
//! An account must be checked when its entry is at or above its key's level (the bucket of the
//! variable now) less [`SLACK`]; how far above says how deep it is (riskiest first).
//!
//! Buckets are `32 × log2(x)`, floored (each about 2.2% wide), computed with integers only
//! (five squarings), so every node and the runtime agree to the bucket.

use sp_arithmetic::{
	helpers_128bit::multiply_by_rational_with_rounding,
	traits::{Bounded, CheckedDiv, One, Saturating, Zero},
	FixedPointNumber, FixedU128, Permill, Rounding,
};

/// Buckets per doubling of the price.
pub const BUCKETS_PER_DOUBLING: u32 = 32;

/// `floor(32 × log2(x))` for `x > 0` (0 for 0), with integers only.
fn log2_scaled(x: u128) -> i64 {
	if x == 0 {
		return 0;
	}
	// Integer part: the position of the highest set bit.
	let n = 127u32.saturating_sub(x.leading_zeros());
	// The mantissa in [1, 2) as Q1.63 (truncated: the result is a floor).
	let mut mantissa: u128 =
		if n >= 63 { x >> n.saturating_sub(63) } else { x << 63u32.saturating_sub(n) };
	let mut fraction: i64 = 0;
	for _ in 0..5 {
		// Squaring doubles the logarithm; below 2^128 since the mantissa is below 2^64.
		mantissa = mantissa.saturating_mul(mantissa) >> 63;
		fraction = fraction.saturating_mul(2);
		if mantissa >= 1u128 << 64 {
			fraction = fraction.saturating_add(1);
			mantissa >>= 1;
		}
	}
	i64::from(n).saturating_mul(i64::from(BUCKETS_PER_DOUBLING)).saturating_add(fraction)
}

/// The bucket of `price`: `floor(32 × log2(price × 10^18)) − floor(32 × log2(10^18))`, so 32
/// buckets per doubling, bucket 0 holding the price 1 (its edges sit 0.43 of a bucket off the
/// powers of two), negative below. Monotone: a higher price never has a lower bucket.
pub fn bucket(price: FixedU128) -> i64 {
	log2_scaled(price.into_inner()).saturating_sub(log2_scaled(FixedU128::DIV))
}

/// The buckets a move of a price from `from` to `to` crosses (both ends included), lowest
/// first: what the index reads after that move.
pub fn buckets_between(from: FixedU128, to: FixedU128) -> core::ops::RangeInclusive<i64> {
	let (a, b) = (bucket(from), bucket(to));
	a.min(b)..=a.max(b)
}

/// Buckets below an account's level that are still read: covers the rounding of the lending
/// pallet's health (units, not percent), so an account exactly at its boundary is never missed.
pub const SLACK: i32 = 1;

/// A bucket as stored (saturated to `i32`; prices span about ±4,000 buckets).
pub fn stored(bucket: i64) -> i32 {
	i32::try_from(bucket).unwrap_or(if bucket < 0 { i32::MIN } else { i32::MAX })
}

/// A collateral's price variable: `threshold × price × supply index`, what one supply share
/// adds to the liquidation value. Interest and threshold changes move it, never an entry.
pub fn collateral_weight(
	threshold: Permill,
	price: FixedU128,
	supply_index: FixedU128,
) -> FixedU128 {
	FixedU128::from(threshold).saturating_mul(price).saturating_mul(supply_index)
}

/// A debt's price variable: `price × borrow index`, what one debt share adds to the debt value.
pub fn debt_weight(price: FixedU128, borrow_index: FixedU128) -> FixedU128 {
	price.saturating_mul(borrow_index)
}

/// The entry of a one-collateral, one-debt account: the bucket of `debt shares / collateral
/// shares` rounded up. The account is below health 1 exactly when the pair's variable
/// (collateral weight over debt weight) is under that ratio.
pub fn pair_bucket(debt_shares: u128, collateral_shares: u128) -> i32 {
	let ratio = multiply_by_rational_with_rounding(
		debt_shares,
		FixedU128::DIV,
		collateral_shares,
		Rounding::Up,
	)
	.map(FixedU128::from_inner)
	.unwrap_or(FixedU128::max_value());
	stored(bucket(ratio))
}

/// The level of a pair: the bucket of its variable.
pub fn pair_level(collateral_weight: FixedU128, debt_weight: FixedU128) -> i32 {
	let x = collateral_weight.checked_div(&debt_weight).unwrap_or(FixedU128::max_value());
	stored(bucket(x))
}

/// The entry of an account with several assets: `−bucket(h)` of its health `h` at an epoch's
/// reference variables (its liquidation value over its debt, each debt a unit up: the health
/// errs low). `None` without collateral weight (debt only: watched).
///
/// Its health now is at least `h / f`, where `f` is [`fall_factor`] of its variables since the
/// epoch (its liquidation value fell by at most the largest fall of one collateral variable,
/// its debt rose by at most the largest rise of one debt variable). So it may be below 1 only
/// when `h < f`, that is when its entry is at or above [`wide_level`] of `f` (buckets are
/// monotone): the index reads it then, never misses it.
pub fn wide_entry(collateral: &[(FixedU128, u128)], debts: &[(FixedU128, u128)]) -> Option<i32> {
	let liquidation_value = collateral
		.iter()
		.fold(0u128, |acc, (w, shares)| acc.saturating_add(w.saturating_mul_int(*shares)));
	if liquidation_value == 0 {
		return None;
	}
	let debt_value = debts.iter().fold(0u128, |acc, (v, shares)| {
		acc.saturating_add(v.saturating_mul_int(*shares)).saturating_add(1)
	});
	let health = FixedU128::checked_from_rational(liquidation_value, debt_value)
		.unwrap_or(FixedU128::max_value());
	Some(stored(bucket(health)).saturating_neg())
}

/// `reference / now`, rounded up (`None` when `now` is zero).
fn ratio_up(numerator: FixedU128, denominator: FixedU128) -> Option<FixedU128> {
	if denominator.is_zero() {
		return None;
	}
	Some(
		multiply_by_rational_with_rounding(
			numerator.into_inner(),
			FixedU128::DIV,
			denominator.into_inner(),
			Rounding::Up,
		)
		.map(FixedU128::from_inner)
		.unwrap_or(FixedU128::max_value()),
	)
}

/// How far an account's health may have fallen since its epoch: the largest fall of one of
/// its collateral variables (`reference / now`) times the largest rise of one of its debt
/// variables (`now / reference`), `(reference, now)` each, rounded up. `None` when a
/// collateral's variable is now zero (it counts for nothing: any account it backs may be
/// below 1). No asset on a side counts as no move (1).
pub fn fall_factor(
	collateral: impl IntoIterator<Item = (FixedU128, FixedU128)>,
	debts: impl IntoIterator<Item = (FixedU128, FixedU128)>,
) -> Option<FixedU128> {
	let mut fall: Option<FixedU128> = None;
	for (reference, now) in collateral {
		let r = ratio_up(reference, now)?;
		fall = Some(fall.map_or(r, |f| f.max(r)));
	}
	let mut rise: Option<FixedU128> = None;
	for (reference, now) in debts {
		// A zero reference (a debt's variable is a price times an index: never) reads as the
		// largest rise.
		let r = ratio_up(now, reference).unwrap_or(FixedU128::max_value());
		rise = Some(rise.map_or(r, |f| f.max(r)));
	}
	let (fall, rise) = (fall.unwrap_or(FixedU128::one()), rise.unwrap_or(FixedU128::one()));
	// Rounded up by a unit of the last place.
	Some(fall.saturating_mul(rise).saturating_add(FixedU128::from_inner(1)))
}

/// The level of a [`wide_entry`] key whose variables fell by `factor`: `−bucket(factor)`.
pub fn wide_level(factor: FixedU128) -> i32 {
	stored(bucket(factor)).saturating_neg()
}

#[cfg(test)]
mod tests {
	use super::*;

	fn fx(n: u128, d: u128) -> FixedU128 {
		FixedU128::from_rational(n, d)
	}

	#[test]
	fn buckets_are_thirty_two_per_doubling_and_monotone() {
		assert_eq!(bucket(FixedU128::from_u32(1)), 0);
		assert_eq!(bucket(FixedU128::from_u32(2)), 32);
		assert_eq!(bucket(FixedU128::from_u32(1024)), 320);
		assert_eq!(bucket(fx(1, 2)), -32);
		// Against floating point over a wide range, and never decreasing.
		let mut last = i64::MIN;
		let mut price = fx(1, 1_000_000_000);
		while price < FixedU128::from_u32(1_000_000_000) {
			let b = bucket(price);
			assert!(b >= last, "bucket fell at {price:?}");
			let exact = (32.0 * (price.into_inner() as f64).log2()).floor() as i64
				- (32.0 * 1e18f64.log2()).floor() as i64;
			assert!((b - exact).abs() <= 1, "{price:?}: {b} vs {exact}");
			last = b;
			price = price.saturating_mul(fx(1_013, 1_000));
		}
	}

	#[test]
	fn a_move_reads_the_buckets_it_crosses() {
		let range = buckets_between(FixedU128::from_u32(100), FixedU128::from_u32(90));
		assert_eq!(range, bucket(FixedU128::from_u32(90))..=bucket(FixedU128::from_u32(100)));
		// A 10% fall crosses about five buckets.
		assert_eq!(range.count(), 6);
	}

	/// A small deterministic generator (xorshift) for the sweeps below.
	fn next(state: &mut u64) -> u64 {
		*state ^= *state << 13;
		*state ^= *state >> 7;
		*state ^= *state << 17;
		*state
	}

	fn reached(entry: i32, level: i32) -> bool {
		entry >= level.saturating_sub(SLACK)
	}

	#[test]
	fn a_pair_entry_is_reached_exactly_when_the_account_falls_below_one() {
		// 10,000 collateral shares, 675,000 debt shares: health 1 at a variable of 67.5.
		let entry = pair_bucket(675_000, 10_000);
		assert_eq!(entry, stored(bucket(fx(675, 10))));
		let health =
			|x: FixedU128| FixedU128::from_rational(x.saturating_mul_int(10_000u128), 675_000);
		let mut state = 7u64;
		for _ in 0..20_000 {
			let x = fx(u128::from(next(&mut state) % 2_000_000) + 1, 10_000);
			let level = pair_level(x, FixedU128::one());
			if health(x) < FixedU128::one() {
				assert!(reached(entry, level), "missed at {x:?}");
			}
			// Two buckets (about 4.4%) above the boundary it is no longer read.
			if x > fx(675, 10).saturating_mul(fx(105, 100)) {
				assert!(!reached(entry, level), "over-read at {x:?}");
			}
		}
		// Shares that overflow the ratio are as risky as can be.
		assert_eq!(pair_bucket(u128::MAX, 1), stored(bucket(FixedU128::max_value())));
	}

	#[test]
	fn a_wide_entry_is_reached_before_any_account_falls_below_one() {
		let mut state = 11u64;
		let (mut fell, mut quiet) = (0, 0);
		for _ in 0..20_000 {
			let mut pick = |lo: u64, hi: u64| lo + next(&mut state) % (hi - lo);
			let collateral: Vec<(FixedU128, u128)> = (0..pick(1, 5))
				.map(|_| {
					(fx(u128::from(pick(1, 100_000)), 1_000), u128::from(pick(1_000, 1_000_000)))
				})
				.collect();
			let debts: Vec<(FixedU128, u128)> = (0..pick(1, 5))
				.map(|_| {
					(fx(u128::from(pick(1, 100_000)), 1_000), u128::from(pick(1_000, 300_000)))
				})
				.collect();
			let value = |c: &[(FixedU128, u128)]| {
				c.iter().fold(0u128, |a, (w, s)| a + w.saturating_mul_int(*s))
			};
			let entry = wide_entry(&collateral, &debts).expect("collateral weighs");
			// Every variable moves by up to -60% / +60%.
			let moved = |c: &[(FixedU128, u128)], state: &mut u64| -> Vec<(FixedU128, u128)> {
				c.iter()
					.map(|(w, s)| {
						(w.saturating_mul(fx(u128::from(400 + next(state) % 1_200), 1_000)), *s)
					})
					.collect()
			};
			let (c1, d1) = (moved(&collateral, &mut state), moved(&debts, &mut state));
			let pairs = |a: &[(FixedU128, u128)], b: &[(FixedU128, u128)]| {
				a.iter().zip(b).map(|((r, _), (n, _))| (*r, *n)).collect::<Vec<_>>()
			};
			let factor = fall_factor(pairs(&collateral, &c1), pairs(&debts, &d1)).expect("no zero");
			let reached = reached(entry, wide_level(factor));
			if value(&c1) < value(&d1) {
				fell += 1;
				assert!(reached, "missed: {collateral:?} {debts:?} -> {c1:?} {d1:?}");
			} else if !reached {
				quiet += 1;
			}
		}
		assert!(fell > 400, "the sweep must reach falls: {fell}");
		assert!(quiet > 4_000, "the index must leave healthy accounts unread: {quiet}");
		// A collateral that counts for nothing now: the key is read whole.
		assert_eq!(fall_factor([(fx(1, 1), FixedU128::zero())], [(fx(1, 1), fx(1, 1))]), None);
		// Debt only: watched.
		assert_eq!(wide_entry(&[(FixedU128::zero(), 5)], &[(fx(1, 1), 5)]), None);
	}
}
