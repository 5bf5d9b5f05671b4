//! Pure liquidation math: the dynamic discount and how much to repay so that an account's health
//! returns to a target (Aave V4's liquidation engine sizes repayments this way). Values are in
//! the oracle's reference unit; no storage here, every function is unit-tested below.
//!
//! Rounding: the discount rounds down (the borrower pays no more than the curve says); the
//! repayment to reach the target rounds up (the target is reached, not missed by a unit).

use sp_arithmetic::{
	helpers_128bit::multiply_by_rational_with_rounding,
	traits::{CheckedMul, One, Saturating},
	FixedPointNumber, FixedU128, PerThing, Permill, Rounding,
};

/// The discount a liquidator gets at `health`, as a share of the collateral market's
/// `max_bonus`: `base_share` of it at health 1, growing linearly to all of it at
/// `health_for_max` and below (Aave V4: `liquidationBonusFactor`, `healthFactorForMaxBonus`).
/// Rounded down.
pub fn discount(
	max_bonus: Permill,
	base_share: Permill,
	health_for_max: FixedU128,
	health: FixedU128,
) -> Permill {
	let one = FixedU128::one();
	if health <= health_for_max {
		return max_bonus;
	}
	if health >= one || health_for_max >= one {
		return max_bonus.saturating_mul(base_share);
	}
	// How far below 1 the account is, as a share of the way to `health_for_max`.
	let depth = one.saturating_sub(health);
	let range = one.saturating_sub(health_for_max);
	let progress = multiply_by_rational_with_rounding(
		depth.into_inner(),
		u128::from(Permill::ACCURACY),
		range.into_inner(),
		Rounding::Down,
	)
	.and_then(|p| u32::try_from(p).ok())
	.map(Permill::from_parts)
	.unwrap_or(Permill::one());
	let share = base_share.saturating_add(base_share.left_from_one().saturating_mul(progress));
	max_bonus.saturating_mul(share)
}

/// The debt value to repay so that `liquidation_value / debt_value` becomes `target`, when each
/// unit of value repaid removes `(1 + discount) × threshold` of liquidation value (the seized
/// collateral's threshold): `(target × D − L) / (target − (1 + discount) × threshold)`, rounded
/// up. `None` when the denominator is not positive (the parameters make the target
/// unreachable by seizing this collateral) or on overflow; zero when the account is at or above
/// the target already.
pub fn repay_to_target(
	debt_value: u128,
	liquidation_value: u128,
	target: FixedU128,
	threshold: Permill,
	discount: Permill,
) -> Option<u128> {
	let needed = target.checked_mul_int(debt_value)?;
	if needed <= liquidation_value {
		return Some(0);
	}
	let gap = needed.saturating_sub(liquidation_value);
	// (1 + discount) × threshold, as a fixed-point number.
	let per_unit = FixedU128::from(threshold)
		.saturating_mul(FixedU128::one().saturating_add(FixedU128::from(discount)));
	if target <= per_unit {
		return None;
	}
	let denominator = target.saturating_sub(per_unit);
	multiply_by_rational_with_rounding(gap, FixedU128::DIV, denominator.into_inner(), Rounding::Up)
}

/// `value × (1 + discount)`, rounded as asked.
pub fn with_discount(value: u128, discount: Permill, rounding: Rounding) -> Option<u128> {
	let extra = multiply_by_rational_with_rounding(
		value,
		u128::from(discount.deconstruct()),
		u128::from(Permill::ACCURACY),
		rounding,
	)?;
	value.checked_add(extra)
}

/// `value ÷ (1 + discount)`, rounded as asked: the repayment a collateral value pays for.
pub fn without_discount(value: u128, discount: Permill, rounding: Rounding) -> Option<u128> {
	multiply_by_rational_with_rounding(
		value,
		u128::from(Permill::ACCURACY),
		u128::from(Permill::ACCURACY).checked_add(u128::from(discount.deconstruct()))?,
		rounding,
	)
}

/// Seconds in a year (365 days), the unit of an annualised volatility.
pub const SECONDS_PER_YEAR: u128 = 31_536_000;

/// The one-sided confidence of an offered pre-liquidation band: 2.33 standard deviations (99%).
pub const BAND_Z: FixedU128 = FixedU128::from_rational(233, 100);

/// The narrowest band offered (1.01): below it a keeper's step would barely precede the
/// liquidation.
pub const MIN_OFFERED_BAND: FixedU128 = FixedU128::from_rational(101, 100);

/// The pre-liquidation band offered for a collateral of annualised volatility `sigma`: the
/// health from which the price's likely fall over `horizon_secs`, `d = z σ √(h / year)` (99%),
/// brings the account to 1: `1 / (1 − d)`, rounded up (wider), within
/// `[MIN_OFFERED_BAND, max_band]`. Unmeasured (`None`) or a fall of all of it: `max_band`.
pub fn offered_band(sigma: Option<FixedU128>, horizon_secs: u32, max_band: FixedU128) -> FixedU128 {
	let drop = sigma.and_then(|sigma| {
		FixedU128::checked_from_rational(u128::from(horizon_secs), SECONDS_PER_YEAR)
			.and_then(|r| r.checked_sqrt())
			.and_then(|r| r.checked_mul(&sigma))
			.and_then(|r| r.checked_mul(&BAND_Z))
	});
	let band = drop.filter(|d| *d < FixedU128::one()).and_then(|d| {
		multiply_by_rational_with_rounding(
			FixedU128::DIV,
			FixedU128::DIV,
			FixedU128::one().saturating_sub(d).into_inner(),
			Rounding::Up,
		)
		.map(FixedU128::from_inner)
	});
	band.unwrap_or(max_band).max(MIN_OFFERED_BAND).min(max_band)
}

/// Splits `total` over `parts` pro rata. Returns `(exact, charged)`: `exact` sums to `total`
/// exactly (each share rounded down, the remainder given a unit each to the first shares that
/// were rounded down); `charged[i] = ⌈total × parts[i] / Σ parts⌉ ≥ exact[i]`, which is what
/// each part pays (in a batch settlement the difference, below a unit per part, goes to the
/// protocol). `None` when the parts sum to zero or overflow.
#[allow(clippy::type_complexity)]
pub fn pro_rata(
	total: u128,
	parts: &[u128],
) -> Option<(alloc::vec::Vec<u128>, alloc::vec::Vec<u128>)> {
	let sum = parts.iter().try_fold(0u128, |acc, p| acc.checked_add(*p))?;
	if sum == 0 {
		return None;
	}
	let mut exact = alloc::vec::Vec::with_capacity(parts.len());
	let mut charged = alloc::vec::Vec::with_capacity(parts.len());
	for part in parts {
		exact.push(multiply_by_rational_with_rounding(total, *part, sum, Rounding::Down)?);
		charged.push(multiply_by_rational_with_rounding(total, *part, sum, Rounding::Up)?);
	}
	let floor_sum = exact.iter().try_fold(0u128, |acc, e| acc.checked_add(*e))?;
	let mut remainder = total.checked_sub(floor_sum)?;
	for (e, c) in exact.iter_mut().zip(&charged) {
		if remainder == 0 {
			break;
		}
		if *e < *c {
			*e = *c;
			remainder = remainder.checked_sub(1)?;
		}
	}
	(remainder == 0).then_some((exact, charged))
}

/// Sorts `items` (each a position's health, its place in the call, and the value its sale would
/// count against a cap) riskiest first (lowest health, then place) and returns how many of
/// them, from the first, fit in `left` together: what a capped sale may take. The first that
/// does not fit ends it, so none is sold ahead of a riskier one. A sum past `u128` fits
/// nothing more.
pub fn riskiest_within<K: Ord + Copy>(items: &mut [(FixedU128, K, u128)], left: u128) -> usize {
	items.sort_by_key(|(health, place, _)| (*health, *place));
	let mut used = 0u128;
	items
		.iter()
		.take_while(|(_, _, value)| match used.checked_add(*value) {
			Some(next) if next <= left => {
				used = next;
				true
			},
			_ => false,
		})
		.count()
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn the_riskiest_positions_that_fit_a_cap_are_taken_in_order() {
		let h = |n: u128| FixedU128::from_rational(n, 100);
		// Given out of order; two at the same health go by their place.
		let mut items = [(h(97), 0u32, 30u128), (h(91), 1, 50), (h(95), 2, 10), (h(91), 3, 5)];
		assert_eq!(riskiest_within(&mut items, 90), 3);
		assert_eq!(
			items.iter().map(|(_, place, _)| *place).collect::<alloc::vec::Vec<_>>(),
			[1, 3, 2, 0]
		);
		// The first that does not fit ends it, though a later, smaller one would fit.
		let mut items = [(h(80), 0u32, 60u128), (h(85), 1, 50), (h(90), 2, 10)];
		assert_eq!(riskiest_within(&mut items, 100), 1);
		// Exactly the cap fits; nothing fits a cap below the riskiest; all fit a large one.
		let mut items = [(h(80), 0u32, 60u128), (h(85), 1, 40)];
		assert_eq!(riskiest_within(&mut items, 100), 2);
		assert_eq!(riskiest_within(&mut items, 59), 0);
		assert_eq!(riskiest_within(&mut items, 0), 0);
		// A sum past u128 fits nothing more.
		let mut items = [(h(80), 0u32, u128::MAX), (h(85), 1, 1)];
		assert_eq!(riskiest_within(&mut items, u128::MAX), 1);
		assert_eq!(riskiest_within::<u32>(&mut [], 0), 0);
	}

	#[test]
	fn the_offered_band_widens_with_volatility_within_its_bounds() {
		let max = FixedU128::from_rational(3, 2);
		let day = 86_400;
		let band = |sigma: Option<f64>| {
			offered_band(sigma.map(FixedU128::from_float), day, max).to_float()
		};
		// Against the formula in floating point: 1 / (1 - 2.33 σ √(1/365)).
		for sigma in [0.4, 0.8, 1.0, 1.5] {
			let reference = 1.0 / (1.0 - 2.33 * sigma * (1.0f64 / 365.0).sqrt());
			let got = band(Some(sigma));
			assert!(
				got >= reference - 1e-9 && got - reference < 1e-6,
				"{sigma}: {got} vs {reference}"
			);
		}
		assert!(band(Some(0.8)) < band(Some(1.5)));
		// Bitcoin-like (80%) over a day: about 1.108.
		assert!((band(Some(0.8)) - 1.108).abs() < 0.001, "{}", band(Some(0.8)));
		// Unmeasured, or a move past everything: the widest; nearly still: the narrowest.
		assert_eq!(offered_band(None, day, max), max);
		assert_eq!(offered_band(Some(FixedU128::from_u32(100)), day, max), max);
		assert_eq!(offered_band(Some(FixedU128::from_float(3.0)), day, max), max);
		assert_eq!(offered_band(Some(FixedU128::from_inner(0)), day, max), MIN_OFFERED_BAND);
		// A longer horizon, a wider band.
		let sigma = Some(FixedU128::from_float(0.8));
		assert!(offered_band(sigma, 3_600, max) < offered_band(sigma, day, max));
	}

	fn fx(n: u128, d: u128) -> FixedU128 {
		FixedU128::from_rational(n, d)
	}

	#[test]
	fn discount_grows_as_health_falls() {
		let bonus = Permill::from_percent(10);
		let base = Permill::from_percent(50);
		let at_max = fx(90, 100);
		// At health 1 (and just below): half the bonus.
		assert_eq!(discount(bonus, base, at_max, FixedU128::one()), Permill::from_percent(5));
		// Half way to 0.9: three quarters of the bonus.
		assert_eq!(discount(bonus, base, at_max, fx(95, 100)), Permill::from_parts(75_000));
		// At 0.9 and below: the whole bonus.
		assert_eq!(discount(bonus, base, at_max, at_max), bonus);
		assert_eq!(discount(bonus, base, at_max, fx(50, 100)), bonus);
		// Monotone in between.
		let mut last = Permill::zero();
		for h in (900..=1000).rev() {
			let d = discount(bonus, base, at_max, fx(h, 1000));
			assert!(d >= last, "discount fell at health {h}/1000");
			last = d;
		}
	}

	#[test]
	fn repayment_reaches_the_target_exactly_or_just_above() {
		// D = 10,000, L = 9,000 (health 0.9), threshold 80%, discount 5%, target 1.05:
		// r = (10,500 − 9,000) / (1.05 − 0.84) = 7,142.857… → 7,143.
		let r = repay_to_target(
			10_000,
			9_000,
			fx(105, 100),
			Permill::from_percent(80),
			Permill::from_percent(5),
		)
		.unwrap();
		assert_eq!(r, 7_143);
		// Exactly, in ten-thousandths: L' = 9,000 − r × 1.05 × 0.8 against 1.05 × (10,000 − r).
		let reached = |r: u128| 9_000 * 10_000 - r * 105 * 80 >= (10_000 - r) * 10_500;
		assert!(reached(r));
		// A unit less misses the target.
		assert!(!reached(r - 1));
		// What is seized for it, rounded up, is within a unit of r × 1.05.
		assert_eq!(with_discount(r, Permill::from_percent(5), Rounding::Up), Some(7_501));
	}

	#[test]
	fn nothing_to_repay_at_the_target_and_none_when_unreachable() {
		let t = fx(105, 100);
		assert_eq!(
			repay_to_target(100, 105, t, Permill::from_percent(80), Permill::zero()),
			Some(0)
		);
		// (1 + 50%) × 80% = 1.2 ≥ 1.05: seizing this collateral lowers health faster than repaying
		// raises it.
		assert_eq!(
			repay_to_target(100, 90, t, Permill::from_percent(80), Permill::from_percent(50)),
			None
		);
	}

	#[test]
	fn discount_conversions_round_as_asked() {
		let d = Permill::from_percent(5);
		assert_eq!(with_discount(1_000, d, Rounding::Down), Some(1_050));
		assert_eq!(with_discount(999, d, Rounding::Down), Some(1_048));
		assert_eq!(with_discount(999, d, Rounding::Up), Some(1_049));
		assert_eq!(without_discount(1_050, d, Rounding::Down), Some(1_000));
		assert_eq!(without_discount(1_049, d, Rounding::Down), Some(999));
		assert_eq!(with_discount(u128::MAX, d, Rounding::Down), None);
	}
	#[test]
	fn pro_rata_splits_exactly_and_charges_each_part_rounded_up() {
		use alloc::vec;
		// 100 over 1:1:1: exact 34, 33, 33 (the first takes the remainder); each charged 34.
		assert_eq!(pro_rata(100, &[1, 1, 1]), Some((vec![34, 33, 33], vec![34, 34, 34])));
		// Exact splits have no remainder.
		assert_eq!(pro_rata(100, &[1, 3]), Some((vec![25, 75], vec![25, 75])));
		assert_eq!(pro_rata(0, &[5, 7]), Some((vec![0, 0], vec![0, 0])));
		assert_eq!(pro_rata(7, &[]), None);
		assert_eq!(pro_rata(7, &[0, 0]), None);
		assert_eq!(pro_rata(7, &[u128::MAX, 1]), None);
		// Over many shapes: the exact shares sum to the total, each is its part rounded down
		// or up, and each charge is the part rounded up.
		for total in [1u128, 9, 1_000, 123_456_789, u128::MAX / 3] {
			for parts in [&[1u128, 2, 3][..], &[7, 7, 7, 7, 7, 7, 7], &[1, 1_000_000], &[999]] {
				let (exact, charged) = pro_rata(total, parts).unwrap();
				let sum: u128 = parts.iter().sum();
				assert_eq!(exact.iter().sum::<u128>(), total);
				let over = charged.iter().sum::<u128>() - total;
				assert!(over < parts.len() as u128);
				for ((e, c), part) in exact.iter().zip(&charged).zip(parts) {
					let wide = sp_core::U256::from(total) * sp_core::U256::from(*part);
					let s = sp_core::U256::from(sum);
					// c − 1 < total × part / sum ≤ c, and e is c or c − 1.
					assert!(sp_core::U256::from(*c) * s >= wide);
					assert!(*c == 0 || sp_core::U256::from(*c - 1) * s < wide);
					assert!(*e == *c || *e + 1 == *c);
				}
			}
		}
	}
}
