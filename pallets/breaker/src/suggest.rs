//! What the measured volatility suggests for a collateral's risk parameters.
//!
//! With `σ` the asset's annualised volatility and `z` a one-sided confidence (2.33: 99%), the
//! price may fall within `h` seconds by `d(h) = min(1, z σ √(h / year))` (a linear bound, more
//! cautious than the lognormal `1 − e^(−zσ√h)`). Then:
//!
//! - **liquidation threshold**: a position reaching health 1 is liquidated within the
//!   liquidation horizon, paying the liquidator the market's bonus; it stays solvent through
//!   the horizon's drop while `collateral × (1 − d) ≥ debt × (1 + bonus)`, and at health 1
//!   `debt = collateral × LT`: `LT ≤ (1 − d_liquidation) / (1 + bonus)`;
//! - **collateral factor**: a new borrow at the limit (health `LT / CF`) stays at or above
//!   health 1 through the borrowing horizon's drop: `CF ≤ LT × (1 − d_borrow)`.
//!
//! Each rounded in the protocol's favour (drops up, parameters down). A suggestion, not a
//! rule: governance sets the parameters (`lending.update_market`).

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use sp_arithmetic::{
	helpers_128bit::multiply_by_rational_with_rounding,
	traits::{CheckedMul, One},
	FixedPointNumber, FixedU128, PerThing, Permill, Rounding,
};

use crate::vol::SECONDS_PER_YEAR;

/// The confidence and horizons of a suggestion.
#[derive(
	Clone,
	Copy,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	PartialEq,
	Eq,
	Debug,
)]
pub struct SuggestionParams {
	/// One-sided confidence in standard deviations (2.33: 99%).
	pub z: FixedU128,
	/// Seconds a position below health 1 may take to be liquidated.
	pub liquidation_horizon: u32,
	/// Seconds a new borrow at the limit must stay at or above health 1.
	pub borrow_horizon: u32,
}

/// Risk parameters the measured volatility suggests for a collateral.
#[derive(
	Clone,
	Copy,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	PartialEq,
	Eq,
	Debug,
)]
pub struct Suggestion {
	/// The annualised volatility it is computed from.
	pub volatility: FixedU128,
	/// The fall the price may take, with the confidence, over the liquidation horizon.
	pub liquidation_drop: Permill,
	/// The highest liquidation threshold that stays solvent through it with the bonus.
	pub liquidation_threshold: Permill,
	/// The fall over the borrowing horizon.
	pub borrow_drop: Permill,
	/// The highest collateral factor that stays at or above health 1 through it.
	pub collateral_factor: Permill,
}

/// `min(1, z σ √(h / year))`, rounded up.
pub fn drop_within(sigma: FixedU128, z: FixedU128, horizon_secs: u32) -> Permill {
	let share =
		FixedU128::checked_from_rational(u128::from(horizon_secs), u128::from(SECONDS_PER_YEAR))
			.and_then(|r| r.checked_sqrt());
	let drop = share.and_then(|s| s.checked_mul(&sigma)).and_then(|s| s.checked_mul(&z));
	match drop {
		Some(d) if d < FixedU128::one() => {
			Permill::from_rational_with_rounding(d.into_inner(), FixedU128::DIV, Rounding::Up)
				.unwrap_or_else(|_| Permill::one())
		},
		_ => Permill::one(),
	}
}

/// The suggestion for a collateral of annualised volatility `sigma` whose market pays `bonus`.
pub fn suggest(sigma: FixedU128, bonus: Permill, params: &SuggestionParams) -> Suggestion {
	let one = u128::from(Permill::ACCURACY);
	let liquidation_drop = drop_within(sigma, params.z, params.liquidation_horizon);
	let borrow_drop = drop_within(sigma, params.z, params.borrow_horizon);
	let parts = |n: u128, d: u128| {
		multiply_by_rational_with_rounding(n, one, d, Rounding::Down)
			.and_then(|p| u32::try_from(p).ok())
			.map(Permill::from_parts)
			.unwrap_or_else(Permill::zero)
	};
	let kept = u128::from(liquidation_drop.left_from_one().deconstruct());
	// Strictly below `1 / (1 + bonus)` and the factor strictly below the threshold (1 ppm):
	// what the lending pallet accepts.
	let liquidation_threshold = Permill::from_parts(
		parts(kept, one.saturating_add(u128::from(bonus.deconstruct())))
			.deconstruct()
			.saturating_sub(1),
	);
	let collateral_factor = parts(
		u128::from(liquidation_threshold.deconstruct())
			.saturating_mul(u128::from(borrow_drop.left_from_one().deconstruct())),
		one.saturating_mul(one),
	)
	.min(Permill::from_parts(liquidation_threshold.deconstruct().saturating_sub(1)));
	Suggestion {
		volatility: sigma,
		liquidation_drop,
		liquidation_threshold,
		borrow_drop,
		collateral_factor,
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn params() -> SuggestionParams {
		SuggestionParams {
			z: FixedU128::from_rational(233, 100),
			liquidation_horizon: 3_600,
			borrow_horizon: 86_400,
		}
	}

	/// The same formulas in floating point.
	fn reference(sigma: f64, bonus: f64) -> (f64, f64, f64, f64) {
		let year = SECONDS_PER_YEAR as f64;
		let d = |h: f64| (2.33 * sigma * (h / year).sqrt()).min(1.0);
		let (dl, db) = (d(3_600.0), d(86_400.0));
		let lt = (1.0 - dl) / (1.0 + bonus);
		(dl, lt, db, lt * (1.0 - db))
	}

	fn f(p: Permill) -> f64 {
		f64::from(p.deconstruct()) / 1e6
	}

	#[test]
	fn the_suggestion_matches_a_reference_computed_in_floating_point() {
		for (sigma, bonus) in [(0.5, 5u32), (0.8, 5), (1.5, 10), (3.0, 15)] {
			let s = suggest(FixedU128::from_float(sigma), Permill::from_percent(bonus), &params());
			let (dl, lt, db, cf) = reference(sigma, f64::from(bonus) / 100.0);
			for (got, want) in [
				(f(s.liquidation_drop), dl),
				(f(s.liquidation_threshold), lt),
				(f(s.borrow_drop), db),
				(f(s.collateral_factor), cf),
			] {
				// Within the roundings (1 ppm each) and the 1 ppm margins.
				assert!((got - want).abs() <= 5e-6, "σ {sigma}: {got} vs {want}");
			}
			// Rounded in the protocol's favour.
			assert!(f(s.liquidation_drop) >= dl && f(s.liquidation_threshold) < lt);
			assert!(s.collateral_factor < s.liquidation_threshold);
		}
	}

	#[test]
	fn more_volatility_suggests_less_and_a_wild_asset_nothing() {
		let at =
			|sigma: f64| suggest(FixedU128::from_float(sigma), Permill::from_percent(5), &params());
		let (calm, wild) = (at(0.3), at(2.0));
		assert!(wild.liquidation_threshold < calm.liquidation_threshold);
		assert!(wild.collateral_factor < calm.collateral_factor);
		assert!(calm.collateral_factor < calm.liquidation_threshold);
		// A fall of more than 100% within a day: nothing may be borrowed against it.
		let extreme = at(100.0);
		assert_eq!(extreme.borrow_drop, Permill::one());
		assert_eq!(extreme.collateral_factor, Permill::zero());
		// No volatility: the threshold just below what the bonus leaves (1 / 1.05 = 0.952380…),
		// the factor just below the threshold (the lending pallet wants both strict).
		let none = suggest(FixedU128::from_u32(0), Permill::from_percent(5), &params());
		assert_eq!(none.liquidation_drop, Permill::zero());
		assert_eq!(none.liquidation_threshold, Permill::from_parts(952_379));
		assert_eq!(none.collateral_factor, Permill::from_parts(952_378));
	}
}
