//! Pure money math of the lending pallet: rounding-aware conversions, the kinked rate model,
//! interest accrual and health. No storage here; every function is unit-tested below.
//!
//! Rounding is always in the protocol's favour:
//! - what an account owes (debt, debt value, shares burnt on withdraw) rounds **up**;
//! - what an account is owed (supply, collateral value, shares minted on supply, shares
//!   burnt on repay) rounds **down**;
//! - the borrow index rounds up, the supply index down, reserves down, so the interest the
//!   suppliers and the reserves are credited never exceeds what borrowers are charged.

use crate::types::{MarketParams, MarketState, RateModel};
use sp_arithmetic::{
	helpers_128bit::multiply_by_rational_with_rounding,
	traits::{Bounded, CheckedAdd, One, Saturating, Zero},
	FixedPointNumber, FixedU128, PerThing, Permill, Rounding,
};

/// Milliseconds in a (365-day) year: rates are annual, time is the block timestamp in ms.
pub const MILLIS_PER_YEAR: u128 = 365 * 24 * 60 * 60 * 1000;

/// Why a computation could not be done.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum MathError {
	/// A result did not fit its type.
	Overflow,
	/// Division by zero (an index or a price of zero).
	DivisionByZero,
}

/// Result of the math in this module.
pub type MathResult<T> = Result<T, MathError>;

const DIV: u128 = <FixedU128 as FixedPointNumber>::DIV;

/// `amount × f`, rounded as asked.
pub fn mul(amount: u128, f: FixedU128, rounding: Rounding) -> MathResult<u128> {
	multiply_by_rational_with_rounding(amount, f.into_inner(), DIV, rounding)
		.ok_or(MathError::Overflow)
}

/// `amount ÷ f`, rounded as asked.
pub fn div(amount: u128, f: FixedU128, rounding: Rounding) -> MathResult<u128> {
	if f.is_zero() {
		return Err(MathError::DivisionByZero);
	}
	multiply_by_rational_with_rounding(amount, DIV, f.into_inner(), rounding)
		.ok_or(MathError::Overflow)
}

/// `amount × p`, for a `Permill` factor, rounded as asked.
pub fn mul_permill(amount: u128, p: Permill, rounding: Rounding) -> MathResult<u128> {
	multiply_by_rational_with_rounding(
		amount,
		p.deconstruct() as u128,
		Permill::ACCURACY as u128,
		rounding,
	)
	.ok_or(MathError::Overflow)
}

/// `a ÷ b` as a fixed-point ratio, rounded as asked.
pub fn ratio(a: u128, b: u128, rounding: Rounding) -> MathResult<FixedU128> {
	if b == 0 {
		return Err(MathError::DivisionByZero);
	}
	multiply_by_rational_with_rounding(a, DIV, b, rounding)
		.map(FixedU128::from_inner)
		.ok_or(MathError::Overflow)
}

/// Utilisation of a market, Compound's: `borrows ÷ supplies` (cash + borrows − reserves),
/// rounded down and capped at 1; zero without borrows, 1 when borrows are funded by reserves
/// alone. Reserves are not counted as supply, so the reserve floor that keeps the pallet
/// account alive does not lower the rate.
pub fn utilisation(borrows: u128, supplies: u128) -> MathResult<FixedU128> {
	if borrows == 0 {
		return Ok(FixedU128::zero());
	}
	if supplies == 0 {
		return Ok(FixedU128::one());
	}
	Ok(ratio(borrows, supplies, Rounding::Down)?.min(FixedU128::one()))
}

impl RateModel {
	/// Annual borrow rate at utilisation `u`: `base + slope1 × min(u, kink) / kink`, plus
	/// `slope2 × (u − kink) / (1 − kink)` above the kink (rounded up).
	pub fn borrow_rate(&self, u: FixedU128) -> MathResult<FixedU128> {
		let below = u.min(self.kink);
		let mut rate = self
			.base
			.checked_add(&mul_fixed(self.slope1, ratio_fixed(below, self.kink)?)?)
			.ok_or(MathError::Overflow)?;
		if u > self.kink {
			let excess = u.saturating_sub(self.kink);
			let room = FixedU128::one().saturating_sub(self.kink);
			rate = rate
				.checked_add(&mul_fixed(self.slope2, ratio_fixed(excess, room)?)?)
				.ok_or(MathError::Overflow)?;
		}
		Ok(rate)
	}

	/// The rate at full utilisation, the highest this model can charge.
	pub fn max_rate(&self) -> MathResult<FixedU128> {
		self.borrow_rate(FixedU128::one())
	}
}

/// `a × b` for two fixed-point numbers, rounded up.
fn mul_fixed(a: FixedU128, b: FixedU128) -> MathResult<FixedU128> {
	mul(a.into_inner(), b, Rounding::Up).map(FixedU128::from_inner)
}

/// `a ÷ b` for two fixed-point numbers, rounded up.
fn ratio_fixed(a: FixedU128, b: FixedU128) -> MathResult<FixedU128> {
	ratio(a.into_inner(), b.into_inner(), Rounding::Up)
}

/// What one accrual changed.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Accrual {
	/// Interest charged to borrowers, in underlying units.
	pub interest: u128,
	/// The part of it credited to reserves.
	pub to_reserves: u128,
}

/// Accrues `elapsed_ms` of interest on `state` under `params` (simple interest over the
/// interval, compounding at every accrual): the borrow index grows by
/// `rate × elapsed ÷ year` (rounded up); the interest this certainly adds to total borrows
/// (after rounded down, less before rounded up) is split into reserves (`reserve_factor`,
/// rounded down) and suppliers, whose index grows by their part over total supplies (rounded
/// down); without suppliers it all goes to reserves. So suppliers and reserves are never
/// credited more than borrowers owe, nothing charged is lost, and
/// `cash + borrows ≥ supplies + reserves` holds exactly. Indexes never decrease.
pub fn accrue(
	state: &mut MarketState,
	params: &MarketParams,
	elapsed_ms: u64,
) -> MathResult<Accrual> {
	if elapsed_ms == 0 || state.total_scaled_borrow == 0 {
		return Ok(Accrual::default());
	}
	let borrows_before = mul(state.total_scaled_borrow, state.borrow_index, Rounding::Up)?;
	let supplies = mul(state.total_scaled_supply, state.supply_index, Rounding::Down)?;
	let u = utilisation(borrows_before, supplies)?;
	let rate = params.rate_model.borrow_rate(u)?;
	// growth = rate × elapsed / year, as a fixed-point number rounded up.
	let growth = multiply_by_rational_with_rounding(
		rate.into_inner(),
		elapsed_ms as u128,
		MILLIS_PER_YEAR,
		Rounding::Up,
	)
	.map(FixedU128::from_inner)
	.ok_or(MathError::Overflow)?;
	let factor = FixedU128::one().checked_add(&growth).ok_or(MathError::Overflow)?;
	let new_borrow_index = mul_fixed(state.borrow_index, factor)?;
	// Credit only interest that is certainly owed: total borrows after, rounded down, less
	// total borrows before, rounded up. The rest (rounding dust) stays with the protocol.
	let borrows_after = mul(state.total_scaled_borrow, new_borrow_index, Rounding::Down)?;
	let interest = borrows_after.saturating_sub(borrows_before);
	// Without suppliers (the loans were funded by reserves) all the interest is the reserves'.
	let to_reserves = if state.total_scaled_supply == 0 {
		interest
	} else {
		mul_permill(interest, params.reserve_factor, Rounding::Down)?
	};
	let to_suppliers = interest.saturating_sub(to_reserves);

	state.borrow_index = new_borrow_index;
	state.reserves = state.reserves.checked_add(to_reserves).ok_or(MathError::Overflow)?;
	if state.total_scaled_supply > 0 && to_suppliers > 0 {
		// supply_index += to_suppliers / total_scaled_supply (rounded down).
		let delta = ratio(to_suppliers, state.total_scaled_supply, Rounding::Down)?;
		state.supply_index = state.supply_index.checked_add(&delta).ok_or(MathError::Overflow)?;
	}
	Ok(Accrual { interest, to_reserves })
}

/// Value of `amount` at `price`, rounded as asked (down for what the account owns, up for what
/// it owes).
pub fn value(amount: u128, price: FixedU128, rounding: Rounding) -> MathResult<u128> {
	mul(amount, price, rounding)
}

/// Health factor: liquidation value over debt value, rounded down; `FixedU128::max_value()`
/// without debt (infinitely healthy), and for ratios too large to represent.
pub fn health_factor(liquidation_value: u128, debt_value: u128) -> FixedU128 {
	if debt_value == 0 {
		return FixedU128::max_value();
	}
	ratio(liquidation_value, debt_value, Rounding::Down).unwrap_or(FixedU128::max_value())
}

/// Checked `a + b` for values.
pub fn add(a: u128, b: u128) -> MathResult<u128> {
	a.checked_add(b).ok_or(MathError::Overflow)
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::types::MarketStatus;

	fn fx(n: u128, d: u128) -> FixedU128 {
		FixedU128::from_rational(n, d)
	}

	fn model() -> RateModel {
		RateModel { base: fx(2, 100), slope1: fx(10, 100), kink: fx(80, 100), slope2: fx(100, 100) }
	}

	fn params() -> MarketParams {
		MarketParams {
			collateral_factor: Permill::from_percent(75),
			liquidation_threshold: Permill::from_percent(80),
			liquidation_bonus: Permill::from_percent(5),
			close_factor: Permill::from_percent(50),
			reserve_factor: Permill::from_percent(10),
			supply_cap: u128::MAX,
			borrow_cap: u128::MAX,
			min_borrow_value: 0,
			rate_model: model(),
			collateral_enabled: true,
			borrow_enabled: true,
			status: MarketStatus::Active,
		}
	}

	#[test]
	fn mul_and_div_round_as_asked() {
		let third = fx(1, 3);
		assert_eq!(mul(10, third, Rounding::Down), Ok(3));
		assert_eq!(mul(10, third, Rounding::Up), Ok(4));
		assert_eq!(div(10, fx(3, 1), Rounding::Down), Ok(3));
		assert_eq!(div(10, fx(3, 1), Rounding::Up), Ok(4));
		assert_eq!(div(10, FixedU128::zero(), Rounding::Up), Err(MathError::DivisionByZero));
		assert_eq!(mul(u128::MAX, fx(2, 1), Rounding::Down), Err(MathError::Overflow));
		assert_eq!(mul_permill(999, Permill::from_percent(50), Rounding::Up), Ok(500));
		assert_eq!(mul_permill(999, Permill::from_percent(50), Rounding::Down), Ok(499));
	}

	#[test]
	fn utilisation_is_capped_and_zero_when_empty() {
		assert_eq!(utilisation(0, 0), Ok(FixedU128::zero()));
		assert_eq!(utilisation(50, 100), Ok(fx(1, 2)));
		assert_eq!(utilisation(200, 100), Ok(FixedU128::one()));
		// Funded by reserves alone.
		assert_eq!(utilisation(5, 0), Ok(FixedU128::one()));
	}

	#[test]
	fn kinked_rate_model() {
		let m = model();
		assert_eq!(m.borrow_rate(FixedU128::zero()), Ok(fx(2, 100)));
		// At the kink: base + slope1.
		assert_eq!(m.borrow_rate(fx(80, 100)), Ok(fx(12, 100)));
		// Half way to the kink: base + slope1 / 2.
		assert_eq!(m.borrow_rate(fx(40, 100)), Ok(fx(7, 100)));
		// Full: base + slope1 + slope2.
		assert_eq!(m.borrow_rate(FixedU128::one()), Ok(fx(112, 100)));
		assert_eq!(m.max_rate(), Ok(fx(112, 100)));
		// Half way above the kink: base + slope1 + slope2 / 2.
		assert_eq!(m.borrow_rate(fx(90, 100)), Ok(fx(62, 100)));
	}

	#[test]
	fn accrual_over_a_year_matches_the_rate() {
		// 1000 supplied, 500 borrowed: utilisation 50%, rate 2% + 10% × 50/80 = 8.25%.
		let mut s = MarketState::new(0);
		s.total_scaled_supply = 1_000_000_000;
		s.total_scaled_borrow = 500_000_000;
		let a = accrue(&mut s, &params(), MILLIS_PER_YEAR as u64).unwrap();
		assert_eq!(s.borrow_index, fx(10_825, 10_000));
		assert_eq!(a.interest, 41_250_000);
		assert_eq!(a.to_reserves, 4_125_000);
		assert_eq!(s.reserves, 4_125_000);
		// Suppliers get 90% of the interest over 1000 of supply.
		assert_eq!(s.supply_index, FixedU128::one() + fx(37_125_000, 1_000_000_000));
	}

	#[test]
	fn accrual_never_credits_more_than_it_charges() {
		let mut s = MarketState::new(0);
		s.total_scaled_supply = 7_777_777_777;
		s.total_scaled_borrow = 3_333_333_333;
		for _ in 0..1000 {
			let supplies_before =
				mul(s.total_scaled_supply, s.supply_index, Rounding::Down).unwrap();
			let reserves_before = s.reserves;
			let a = accrue(&mut s, &params(), 6_000).unwrap();
			let supplies_after =
				mul(s.total_scaled_supply, s.supply_index, Rounding::Down).unwrap();
			let credited = (supplies_after - supplies_before) + (s.reserves - reserves_before);
			assert!(credited <= a.interest, "credited {credited} > charged {}", a.interest);
		}
	}

	#[test]
	fn interest_without_suppliers_goes_to_reserves() {
		// Loans funded by reserves alone: no supplier to credit, nothing may be lost.
		let mut s = MarketState::new(0);
		s.reserves = 1_000_000_000;
		s.total_scaled_borrow = 500_000_000;
		let a = accrue(&mut s, &params(), MILLIS_PER_YEAR as u64).unwrap();
		assert!(a.interest > 0);
		assert_eq!(a.to_reserves, a.interest);
		assert_eq!(s.reserves, 1_000_000_000 + a.interest);
		assert_eq!(s.supply_index, FixedU128::one());
	}

	#[test]
	fn no_borrows_no_interest() {
		let mut s = MarketState::new(0);
		s.total_scaled_supply = 1_000;
		assert_eq!(accrue(&mut s, &params(), 1_000_000).unwrap(), Accrual::default());
		assert_eq!(s.borrow_index, FixedU128::one());
		assert_eq!(s.supply_index, FixedU128::one());
	}

	#[test]
	fn health_factor_rounds_down_and_is_none_without_debt() {
		assert_eq!(health_factor(100, 0), FixedU128::max_value());
		assert_eq!(health_factor(2, 3), FixedU128::from_inner(666_666_666_666_666_666));
		assert_eq!(health_factor(u128::MAX, 1), FixedU128::max_value());
	}
}
