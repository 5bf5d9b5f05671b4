//! The risk index's pure math (issue #14, first slice): the price at which a position falls
//! below health 1 when one asset's price moves and the rest stay, and the logarithmic price
//! buckets the index keeps positions in, so that after a move from `p0` to `p1` only the buckets
//! between them are read. No storage here; the index built on it comes next.
//!
//! Buckets are `32 × log2(price)`, floored (each about 2.2% wide), computed with integers only
//! (five squarings), so every node and the runtime agree to the bucket. Trigger prices round
//! towards checking early: a collateral's trigger up, a debt's down, so a position is never
//! filed in a bucket a crossing move would not read.

use sp_arithmetic::{
	helpers_128bit::multiply_by_rational_with_rounding, FixedPointNumber, FixedU128, Permill,
	Rounding,
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

/// The price of a collateral asset at which the account falls below health 1, the other
/// prices staying: `(debt − other liquidation value) / (threshold × amount)`, rounded up.
/// `None` when no fall of this price alone can make it liquidatable (the rest covers the
/// debt), or when it holds none of the asset.
pub fn collateral_trigger(
	debt_value: u128,
	other_liquidation_value: u128,
	threshold: Permill,
	amount: u128,
) -> Option<FixedU128> {
	let gap = debt_value.checked_sub(other_liquidation_value).filter(|g| *g > 0)?;
	let weighted = threshold.mul_floor(amount);
	if weighted == 0 {
		return None;
	}
	multiply_by_rational_with_rounding(gap, FixedU128::DIV, weighted, Rounding::Up)
		.map(FixedU128::from_inner)
}

/// The price of a debt asset at which the account falls below health 1, the other prices
/// staying: `(liquidation value − other debt) / amount`, rounded down. `Some(0)` when it is
/// liquidatable at any price (the rest of the debt alone exceeds the liquidation value);
/// `None` when it owes none of the asset.
pub fn debt_trigger(
	liquidation_value: u128,
	other_debt_value: u128,
	amount: u128,
) -> Option<FixedU128> {
	if amount == 0 {
		return None;
	}
	let room = liquidation_value.saturating_sub(other_debt_value);
	multiply_by_rational_with_rounding(room, FixedU128::DIV, amount, Rounding::Down)
		.map(FixedU128::from_inner)
}

#[cfg(test)]
mod tests {
	use super::*;
	use sp_arithmetic::traits::{Saturating, Zero};

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

	#[test]
	fn triggers_sit_on_the_health_boundary() {
		// 10,000 units of collateral at threshold 75%, 700,000 of debt, 25,000 of other
		// liquidation value: trigger (700,000 − 25,000) / 7,500 = 90.
		let p = collateral_trigger(700_000, 25_000, Permill::from_percent(75), 10_000).unwrap();
		assert_eq!(p, FixedU128::from_u32(90));
		let health = |price: FixedU128| {
			FixedU128::from_rational(25_000 + price.saturating_mul_int(7_500u128), 700_000)
		};
		assert!(health(p) >= FixedU128::from_u32(1));
		assert!(health(p.saturating_mul(fx(9_999, 10_000))) < FixedU128::from_u32(1));
		// The other collateral covers the debt: no fall of this one alone liquidates.
		assert_eq!(collateral_trigger(700_000, 700_000, Permill::from_percent(75), 10_000), None);
		assert_eq!(collateral_trigger(700_000, 0, Permill::from_percent(75), 0), None);
		// A debt of 100 units, 675,000 of liquidation value, 600,000 of other debt: trigger 750.
		assert_eq!(debt_trigger(675_000, 600_000, 100), Some(FixedU128::from_u32(750)));
		assert_eq!(debt_trigger(675_000, 700_000, 100), Some(FixedU128::zero()));
		assert_eq!(debt_trigger(675_000, 0, 0), None);
		// Rounding: a collateral's trigger rounds up, a debt's down (check early).
		let up = collateral_trigger(10, 0, Permill::from_percent(100), 3).unwrap();
		assert!(up > fx(10, 3));
		let down = debt_trigger(10, 0, 3).unwrap();
		assert!(down <= fx(10, 3) && down < up && down > fx(9_999, 3_000));
	}
}
