//! Guard rails for risk parameters, shared by margincall's pallets.
//!
//! A risk parameter changes through governance in one of two ways:
//! - [`Authority::Bounded`]: the `risk_admin` referendum track. Each change must stay within the
//!   parameter's absolute bounds (the pallet's own validation) AND move each value by at most a
//!   step, no sooner than a minimum interval after the previous change of the same record (a
//!   market, a parameter set). A larger move takes several referenda, spaced by the interval.
//! - [`Authority::Unbounded`]: root (the root track, slower and with a higher bar; sudo on dev
//!   chains). Absolute bounds only.
//!
//! No lending protocol enforces this on chain (Aave's risk stewards check steps off chain;
//! MakerDAO delays changes): here the pallet that owns a parameter refuses, by name, a bounded
//! change beyond its rails. The runtime maps its origins to an [`Authority`]
//! (`EnsureOrigin<Success = Authority>`).
#![cfg_attr(not(feature = "std"), no_std)]
#![deny(missing_docs)]
#![cfg_attr(
	not(test),
	deny(clippy::arithmetic_side_effects, clippy::unwrap_used, clippy::indexing_slicing)
)]

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use sp_arithmetic::{traits::Saturating, FixedU128, Permill};

/// Who changes a risk parameter: see the crate's documentation.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
pub enum Authority {
	/// Within steps and intervals (a referendum on the risk track).
	Bounded,
	/// Within absolute bounds only (root).
	Unbounded,
}

impl Authority {
	/// Whether steps and intervals apply.
	pub fn bounded(self) -> bool {
		self == Authority::Bounded
	}
}

/// `|new − old| ≤ max`, in parts per million.
pub fn within_points(old: Permill, new: Permill, max: Permill) -> bool {
	let (a, b) = (old.deconstruct(), new.deconstruct());
	a.abs_diff(b) <= max.deconstruct()
}

/// `|new − old| ≤ max`, for fixed-point values.
pub fn within_fixed(old: FixedU128, new: FixedU128, max: FixedU128) -> bool {
	old.into_inner().abs_diff(new.into_inner()) <= max.into_inner()
}

/// `old / factor ≤ new ≤ old × factor` (an amount moves by at most a factor either way; from
/// zero it cannot move at all). A factor below 1 counts as 1 (no move). Saturating: never
/// overflows.
pub fn within_factor(old: u128, new: u128, factor: u32) -> bool {
	let f = u128::from(factor.max(1));
	new <= old.saturating_mul(f) && old <= new.saturating_mul(f)
}

/// Whether `min_interval` blocks have passed since `last` (always, if there was no change).
pub fn interval_passed(last: Option<u64>, now: u64, min_interval: u64) -> bool {
	last.is_none_or(|last| now >= last.saturating_add(min_interval))
}

/// The relative step of a fixed-point value: `|new − old| ≤ old × max` (for values whose scale
/// differs by orders of magnitude, such as an annualised volatility trigger).
pub fn within_share(old: FixedU128, new: FixedU128, max: Permill) -> bool {
	let allowed = FixedU128::from(max).saturating_mul(old);
	within_fixed(old, new, allowed)
}

/// The rails of a parameter record whose values have no steps of their own (the liquidation
/// engine's, the breaker's): a bounded change waits `min_interval` blocks after the record's
/// last change, moves a rate (`Permill`) by at most `points`, a fixed-point value by at most
/// `share` of itself, and an amount or count by at most `factor` either way.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
pub struct ParamRails {
	/// Blocks between two bounded changes of one record.
	pub min_interval: u32,
	/// Largest move of a rate, in points.
	pub points: Permill,
	/// Largest move of a fixed-point value, as a share of its old value.
	pub share: Permill,
	/// Largest factor by which an amount or a count may grow or shrink.
	pub factor: u32,
}

/// Checks a bounded change value by value against [`ParamRails`]; [`Steps::beyond`] names the
/// first value beyond its step.
pub struct Steps {
	rails: ParamRails,
	beyond: Option<&'static str>,
}

impl Steps {
	/// No value checked yet.
	pub fn new(rails: ParamRails) -> Self {
		Self { rails, beyond: None }
	}

	fn check(mut self, name: &'static str, within: bool) -> Self {
		if self.beyond.is_none() && !within {
			self.beyond = Some(name);
		}
		self
	}

	/// A rate: at most `points`.
	pub fn points(self, name: &'static str, old: Permill, new: Permill) -> Self {
		let max = self.rails.points;
		self.check(name, within_points(old, new, max))
	}

	/// A fixed-point value: at most `share` of the old one.
	pub fn fixed(self, name: &'static str, old: FixedU128, new: FixedU128) -> Self {
		let max = self.rails.share;
		self.check(name, within_share(old, new, max))
	}

	/// An amount or a count: at most `factor` either way.
	pub fn amount(self, name: &'static str, old: u128, new: u128) -> Self {
		let factor = self.rails.factor;
		self.check(name, within_factor(old, new, factor))
	}

	/// The first value beyond its step, if any.
	pub fn beyond(self) -> Option<&'static str> {
		self.beyond
	}
}

/// Why a bounded change is refused.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Refusal {
	/// Sooner than the interval after the record's last change.
	TooSoon,
	/// This value moves beyond its step.
	Step(&'static str),
}

/// Checks a change of a record last changed at block `last` (if ever) at block `now`: nothing
/// for [`Authority::Unbounded`]; for [`Authority::Bounded`] the interval, then every step
/// `steps` checks.
pub fn check(
	authority: Authority,
	last: Option<u64>,
	now: u64,
	rails: ParamRails,
	steps: impl FnOnce(Steps) -> Steps,
) -> Result<(), Refusal> {
	if !authority.bounded() {
		return Ok(());
	}
	if !interval_passed(last, now, rails.min_interval.into()) {
		return Err(Refusal::TooSoon);
	}
	match steps(Steps::new(rails)).beyond() {
		Some(name) => Err(Refusal::Step(name)),
		None => Ok(()),
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use sp_arithmetic::traits::One;

	fn fixed(n: u128, d: u128) -> FixedU128 {
		FixedU128::from_rational(n, d)
	}

	#[test]
	fn points_step_is_symmetric_and_inclusive() {
		let max = Permill::from_percent(5);
		assert!(within_points(Permill::from_percent(70), Permill::from_percent(75), max));
		assert!(within_points(Permill::from_percent(75), Permill::from_percent(70), max));
		assert!(!within_points(Permill::from_percent(70), Permill::from_parts(750_001), max));
		assert!(!within_points(Permill::from_parts(699_999), Permill::from_percent(75), max));
		assert!(within_points(Permill::zero(), Permill::zero(), Permill::zero()));
	}

	#[test]
	fn fixed_and_share_steps() {
		let one = FixedU128::one();
		assert!(within_fixed(one, fixed(105, 100), fixed(5, 100)));
		assert!(!within_fixed(one, fixed(1051, 1000), fixed(5, 100)));
		assert!(within_fixed(fixed(105, 100), one, fixed(5, 100)));
		// 10% of 4.0 is 0.4.
		let four = FixedU128::from_u32(4);
		assert!(within_share(four, fixed(44, 10), Permill::from_percent(10)));
		assert!(within_share(four, fixed(36, 10), Permill::from_percent(10)));
		assert!(!within_share(four, fixed(441, 100), Permill::from_percent(10)));
	}

	#[test]
	fn factor_step_both_ways_and_never_from_zero() {
		assert!(within_factor(100, 200, 2));
		assert!(within_factor(100, 50, 2));
		assert!(!within_factor(100, 201, 2));
		assert!(!within_factor(100, 49, 2));
		assert!(within_factor(0, 0, 2));
		assert!(!within_factor(0, 1, 2));
		assert!(!within_factor(1, 0, 2));
		assert!(within_factor(u128::MAX, u128::MAX, 2));
		assert!(!within_factor(100, 101, 0));
	}

	#[test]
	fn interval() {
		assert!(interval_passed(None, 0, 14_400));
		assert!(!interval_passed(Some(10), 14_409, 14_400));
		assert!(interval_passed(Some(10), 14_410, 14_400));
		assert!(interval_passed(Some(u64::MAX), u64::MAX, 1));
		assert!(Authority::Bounded.bounded() && !Authority::Unbounded.bounded());
	}

	#[test]
	fn steps_name_the_first_value_beyond() {
		let rails = ParamRails {
			min_interval: 10,
			points: Permill::from_percent(5),
			share: Permill::from_percent(10),
			factor: 2,
		};
		let p = Permill::from_percent;
		let ok = Steps::new(rails)
			.points("a", p(10), p(15))
			.fixed("b", FixedU128::one(), fixed(11, 10))
			.amount("c", 10, 20);
		assert_eq!(ok.beyond(), None);
		let bad = Steps::new(rails)
			.points("a", p(10), p(15))
			.fixed("b", FixedU128::one(), fixed(111, 100))
			.amount("c", 10, 21);
		assert_eq!(bad.beyond(), Some("b"));
		let far = |s: Steps| s.amount("c", 10, 21);
		assert_eq!(check(Authority::Unbounded, Some(5), 5, rails, far), Ok(()));
		assert_eq!(check(Authority::Bounded, Some(5), 14, rails, far), Err(Refusal::TooSoon));
		assert_eq!(check(Authority::Bounded, Some(5), 15, rails, far), Err(Refusal::Step("c")));
		assert_eq!(check(Authority::Bounded, None, 0, rails, |s| s.amount("c", 10, 20)), Ok(()));
	}
}
