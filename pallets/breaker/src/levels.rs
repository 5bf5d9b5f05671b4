//! Breaker levels: what moves an asset between `Normal`, `Throttled` and `Halted`, as pure
//! functions of its inputs (measured volatility, the price's range over a rolling window of
//! blocks, the oracle/DEX divergence) and the governance parameters.
//!
//! - **Up at once**: the level rises to the highest level any input reaches (its trigger met or
//!   exceeded).
//! - **Down slowly** (hysteresis): the level falls one step only after every input stayed below
//!   `release` × its trigger at the current level for `calm_blocks` blocks in a row; an input
//!   between the two keeps the level where it is and restarts the count. So a price that hovers
//!   at a trigger raises the level once and does not flap.
//! - The price window keeps the low and high of each of [`WINDOW_BUCKETS`] buckets of blocks
//!   (a few words, no price history): the move is `(high − low) / high` over the buckets that
//!   overlap the window.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{traits::ConstU32, BoundedVec};
use scale_info::TypeInfo;
use sp_arithmetic::{
	traits::{Saturating, Zero},
	FixedU128, Permill,
};

/// Buckets of a price window.
pub const WINDOW_BUCKETS: u32 = 8;

/// An asset's breaker level (ordered: `Normal < Throttled < Halted`).
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
	PartialOrd,
	Ord,
	Debug,
	Default,
)]
pub enum Level {
	/// No limit.
	#[default]
	Normal,
	/// DEX sales of the asset capped per block; the rest queued.
	Throttled,
	/// No DEX sales of the asset and no new borrows against it.
	Halted,
}

impl Level {
	/// The level one step down.
	pub fn lower(self) -> Self {
		match self {
			Self::Halted => Self::Throttled,
			_ => Self::Normal,
		}
	}
}

/// Why a level changed.
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
pub enum Cause {
	/// The measured volatility reached the level's trigger.
	Volatility,
	/// The price's range over the window reached the level's trigger.
	Move,
	/// The oracle and the DEX spot diverged by the level's trigger.
	Divergence,
	/// Every input stayed below the release point for the calm period.
	Calm,
	/// `RiskAdmin` forced the level.
	Forced,
	/// `RiskAdmin` reset the asset to automatic control at `Normal`.
	Reset,
}

/// The triggers of one level: any one met raises the asset to it.
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
pub struct Triggers {
	/// Annualised volatility (1.5 = 150% a year).
	pub volatility: FixedU128,
	/// The price's range over the window, `(high − low) / high`.
	pub moved: Permill,
	/// `|DEX spot − oracle| / oracle`.
	pub divergence: Permill,
}

/// Every breaker parameter, validated as one record.
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
pub struct BreakerParams {
	/// Triggers of `Throttled`.
	pub throttle: Triggers,
	/// Triggers of `Halted` (each at least `throttle`'s).
	pub halt: Triggers,
	/// A level is left only when every input is below `release` × its trigger (hysteresis):
	/// in `[MIN_RELEASE, MAX_RELEASE]`.
	pub release: Permill,
	/// Blocks every input must stay below the release point before the level steps down.
	pub calm_blocks: u32,
	/// Blocks of the price window.
	pub window_blocks: u32,
	/// Returns an estimate needs before its volatility counts.
	pub min_samples: u32,
	/// Collateral value (reference units) of a `Throttled` asset the DEX may be sold per
	/// block.
	pub sale_cap: u128,
	/// The oracle guard: a price more than this away from the last accepted one is held (no
	/// DEX sales, no new borrows on it) until the DEX spot or a later block's feeds confirm it
	/// ([`crate::quote`]); fresh feeds further apart than this are disputed (no borrow on them).
	pub jump: Permill,
	/// The longest a jump is held, in blocks: then it is accepted. In `[1, MAX_HOLD_BLOCKS]`.
	pub max_hold_blocks: u32,
}

/// Lowest `release` (a level is left at half its trigger at the latest).
pub const MIN_RELEASE: Permill = Permill::from_percent(50);
/// Highest `release` (some band is required: no flapping).
pub const MAX_RELEASE: Permill = Permill::from_percent(99);
/// Longest calm period: a day of 6 s blocks.
pub const MAX_CALM_BLOCKS: u32 = 14_400;
/// Shortest and longest price window: 2 blocks to an hour.
pub const WINDOW_RANGE: (u32, u32) = (2, 600);
/// Most samples `min_samples` may ask for.
pub const MAX_MIN_SAMPLES: u32 = 1_000;
/// Longest hold of a price jump: 10 blocks (a minute).
pub const MAX_HOLD_BLOCKS: u32 = 10;
/// Lowest volatility trigger (annualised 10%): below it an ordinary market would halt.
pub const MIN_VOLATILITY_TRIGGER: FixedU128 = FixedU128::from_rational(1, 10);
/// Lowest move and divergence triggers: 0.5%.
pub const MIN_PERMILL_TRIGGER: Permill = Permill::from_parts(5_000);

/// Why parameters are refused (the pallet names each as an error).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ParamsError {
	/// A trigger below its floor.
	TriggerTooLow,
	/// A `halt` trigger below the matching `throttle` trigger.
	HaltBelowThrottle,
	/// `release` outside `[MIN_RELEASE, MAX_RELEASE]`.
	ReleaseOutOfRange,
	/// `calm_blocks` zero or above `MAX_CALM_BLOCKS`.
	CalmOutOfRange,
	/// `window_blocks` outside `WINDOW_RANGE`.
	WindowOutOfRange,
	/// `min_samples` above `MAX_MIN_SAMPLES`.
	MinSamplesOutOfRange,
	/// `sale_cap` zero (use `Halted` to stop sales).
	ZeroSaleCap,
	/// `max_hold_blocks` zero or above `MAX_HOLD_BLOCKS`.
	HoldOutOfRange,
}

impl BreakerParams {
	/// Checks every bound.
	pub fn validate(&self) -> Result<(), ParamsError> {
		for t in [&self.throttle, &self.halt] {
			if t.volatility < MIN_VOLATILITY_TRIGGER
				|| t.moved < MIN_PERMILL_TRIGGER
				|| t.divergence < MIN_PERMILL_TRIGGER
			{
				return Err(ParamsError::TriggerTooLow);
			}
		}
		if self.halt.volatility < self.throttle.volatility
			|| self.halt.moved < self.throttle.moved
			|| self.halt.divergence < self.throttle.divergence
		{
			return Err(ParamsError::HaltBelowThrottle);
		}
		if !(MIN_RELEASE..=MAX_RELEASE).contains(&self.release) {
			return Err(ParamsError::ReleaseOutOfRange);
		}
		if !(1..=MAX_CALM_BLOCKS).contains(&self.calm_blocks) {
			return Err(ParamsError::CalmOutOfRange);
		}
		if !(WINDOW_RANGE.0..=WINDOW_RANGE.1).contains(&self.window_blocks) {
			return Err(ParamsError::WindowOutOfRange);
		}
		if self.min_samples > MAX_MIN_SAMPLES {
			return Err(ParamsError::MinSamplesOutOfRange);
		}
		if self.sale_cap.is_zero() {
			return Err(ParamsError::ZeroSaleCap);
		}
		if self.jump < MIN_PERMILL_TRIGGER {
			return Err(ParamsError::TriggerTooLow);
		}
		if !(1..=MAX_HOLD_BLOCKS).contains(&self.max_hold_blocks) {
			return Err(ParamsError::HoldOutOfRange);
		}
		Ok(())
	}

	fn triggers(&self, level: Level) -> Option<&Triggers> {
		match level {
			Level::Normal => None,
			Level::Throttled => Some(&self.throttle),
			Level::Halted => Some(&self.halt),
		}
	}
}

/// What the level is decided on, for one asset at one block.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Inputs {
	/// Annualised volatility, when the estimate has enough samples.
	pub volatility: Option<FixedU128>,
	/// The price's range over the window.
	pub moved: Permill,
	/// The oracle/DEX divergence, when there is a pool to compare with.
	pub divergence: Option<Permill>,
}

impl Inputs {
	/// The first input (in `Cause` order) at or above `t`, scaled by `scale`.
	fn reaches(&self, t: &Triggers, scale: Permill) -> Option<Cause> {
		let scale_fx = FixedU128::from_rational(u128::from(scale.deconstruct()), 1_000_000);
		let vol_trigger = scale_fx.saturating_mul(t.volatility);
		if self.volatility.is_some_and(|v| v >= vol_trigger) {
			return Some(Cause::Volatility);
		}
		if self.moved >= Permill::from_parts(scale.mul_floor(t.moved.deconstruct())) {
			return Some(Cause::Move);
		}
		if self
			.divergence
			.is_some_and(|d| d >= Permill::from_parts(scale.mul_floor(t.divergence.deconstruct())))
		{
			return Some(Cause::Divergence);
		}
		None
	}
}

/// The highest level whose triggers some input meets, and the first input that did.
pub fn target(inputs: &Inputs, params: &BreakerParams) -> (Level, Option<Cause>) {
	for level in [Level::Halted, Level::Throttled] {
		if let Some(cause) = params.triggers(level).and_then(|t| inputs.reaches(t, Permill::one()))
		{
			return (level, Some(cause));
		}
	}
	(Level::Normal, None)
}

/// Whether every input is below `release` × the triggers of `level` (calm at that level).
pub fn calm(inputs: &Inputs, params: &BreakerParams, level: Level) -> bool {
	params.triggers(level).is_none_or(|t| inputs.reaches(t, params.release).is_none())
}

/// An asset's level and how it got there.
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
	Default,
)]
pub struct LevelState {
	/// The level.
	pub level: Level,
	/// The block it was entered.
	pub since: u32,
	/// The first block of the current calm run (every input below the release point).
	pub calm_since: Option<u32>,
	/// Set by `RiskAdmin`: the inputs do not move it.
	pub forced: bool,
}

/// The next state of an automatic level at block `now`, and the cause when the level changed.
pub fn step(
	state: LevelState,
	inputs: &Inputs,
	params: &BreakerParams,
	now: u32,
) -> (LevelState, Option<Cause>) {
	if state.forced {
		return (state, None);
	}
	let (target, cause) = target(inputs, params);
	if target > state.level {
		return (LevelState { level: target, since: now, calm_since: None, forced: false }, cause);
	}
	if state.level == Level::Normal {
		return (state, None);
	}
	if !calm(inputs, params, state.level) {
		return (LevelState { calm_since: None, ..state }, None);
	}
	let since = state.calm_since.unwrap_or(now);
	if now.saturating_sub(since) >= params.calm_blocks {
		let level = state.level.lower();
		// Each step down needs its own calm period.
		(LevelState { level, since: now, calm_since: None, forced: false }, Some(Cause::Calm))
	} else {
		(LevelState { calm_since: Some(since), ..state }, None)
	}
}

/// The low and high price of a run of blocks starting at `start`.
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
pub struct Bucket {
	/// First block of the bucket.
	pub start: u32,
	/// Lowest price seen in it.
	pub low: FixedU128,
	/// Highest price seen in it.
	pub high: FixedU128,
}

/// An asset's price window: at most [`WINDOW_BUCKETS`] buckets, oldest first.
pub type PriceWindow = BoundedVec<Bucket, ConstU32<WINDOW_BUCKETS>>;

/// Blocks per bucket for a window of `window` blocks (at least one).
fn bucket_len(window: u32) -> u32 {
	window.div_ceil(WINDOW_BUCKETS).max(1)
}

/// Whether `bucket` still overlaps the window ending at `now`.
fn in_window(bucket: &Bucket, now: u32, window: u32) -> bool {
	bucket.start.saturating_add(bucket_len(window)) > now.saturating_sub(window)
}

/// Adds `price`, seen at block `now`, to `w`: buckets out of the window are dropped.
pub fn observe(w: &mut PriceWindow, now: u32, price: FixedU128, window: u32) {
	w.retain(|b| in_window(b, now, window));
	let len = bucket_len(window);
	if let Some(last) = w.last_mut() {
		if now < last.start.saturating_add(len) {
			last.low = last.low.min(price);
			last.high = last.high.max(price);
			return;
		}
	}
	if w.is_full() {
		w.remove(0);
	}
	// Cannot fail: a slot was freed above.
	let _ = w.try_push(Bucket { start: now, low: price, high: price });
}

/// `(high − low) / high` over the buckets of `w` in the window ending at `now`.
pub fn moved(w: &PriceWindow, now: u32, window: u32) -> Permill {
	let (mut low, mut high) = (None::<FixedU128>, FixedU128::zero());
	for b in w.iter().filter(|b| in_window(b, now, window)) {
		low = Some(low.map_or(b.low, |l| l.min(b.low)));
		high = high.max(b.high);
	}
	match low {
		Some(low) if !high.is_zero() => {
			let range = high.saturating_sub(low);
			Permill::from_rational(range.into_inner(), high.into_inner())
		},
		_ => Permill::zero(),
	}
}

/// `|spot − oracle| / oracle`, saturating at 100%; zero against a zero oracle price.
pub fn divergence(spot: FixedU128, oracle: FixedU128) -> Permill {
	if oracle.is_zero() {
		return Permill::zero();
	}
	let gap = if spot > oracle { spot.saturating_sub(oracle) } else { oracle.saturating_sub(spot) };
	if gap >= oracle {
		return Permill::one();
	}
	Permill::from_rational(gap.into_inner(), oracle.into_inner())
}

#[cfg(test)]
mod tests {
	use super::*;

	fn params() -> BreakerParams {
		BreakerParams {
			throttle: Triggers {
				volatility: FixedU128::from_rational(3, 2),
				moved: Permill::from_percent(10),
				divergence: Permill::from_percent(5),
			},
			halt: Triggers {
				volatility: FixedU128::from_u32(4),
				moved: Permill::from_percent(25),
				divergence: Permill::from_percent(15),
			},
			release: Permill::from_percent(80),
			calm_blocks: 3,
			window_blocks: 16,
			min_samples: 5,
			sale_cap: 1_000,
			jump: Permill::from_percent(10),
			max_hold_blocks: 3,
		}
	}

	fn moved_by(p: u32) -> Inputs {
		Inputs { moved: Permill::from_percent(p), ..Default::default() }
	}

	#[test]
	fn the_highest_level_reached_wins_and_names_its_cause() {
		let p = params();
		assert_eq!(target(&Inputs::default(), &p), (Level::Normal, None));
		assert_eq!(target(&moved_by(10), &p), (Level::Throttled, Some(Cause::Move)));
		assert_eq!(target(&moved_by(9), &p), (Level::Normal, None));
		assert_eq!(target(&moved_by(30), &p), (Level::Halted, Some(Cause::Move)));
		let vol = Inputs { volatility: Some(FixedU128::from_u32(5)), ..moved_by(12) };
		assert_eq!(target(&vol, &p), (Level::Halted, Some(Cause::Volatility)));
		let div = Inputs { divergence: Some(Permill::from_percent(6)), ..Default::default() };
		assert_eq!(target(&div, &p), (Level::Throttled, Some(Cause::Divergence)));
	}

	#[test]
	fn levels_rise_at_once_and_fall_one_step_per_calm_period() {
		let p = params();
		let s = LevelState::default();
		// Normal → Halted directly.
		let (s, cause) = step(s, &moved_by(26), &p, 10);
		assert_eq!((s.level, s.since, cause), (Level::Halted, 10, Some(Cause::Move)));
		// Calm below 80% of the halt triggers for 3 blocks: to Throttled (at 11, 12, 13 calm).
		let quiet = moved_by(12); // 12% < 20% = 0.8 × 25%, but above the throttle trigger
		let (s, c) = step(s, &quiet, &p, 11);
		assert_eq!((s.level, s.calm_since, c), (Level::Halted, Some(11), None));
		let (s, c) = step(s, &quiet, &p, 13);
		assert_eq!((s.level, c), (Level::Halted, None));
		let (s, c) = step(s, &quiet, &p, 14);
		assert_eq!(
			(s.level, s.since, s.calm_since, c),
			(Level::Throttled, 14, None, Some(Cause::Calm))
		);
		// Still at the throttle trigger: stays Throttled, no calm run.
		let (s, c) = step(s, &quiet, &p, 20);
		assert_eq!((s.level, s.calm_since, c), (Level::Throttled, None, None));
		// Quiet: down to Normal after its own calm period.
		let still = moved_by(1);
		let (s, _) = step(s, &still, &p, 21);
		let (s, c) = step(s, &still, &p, 24);
		assert_eq!((s.level, c), (Level::Normal, Some(Cause::Calm)));
	}

	#[test]
	fn an_input_in_the_hysteresis_band_holds_the_level_and_restarts_the_count() {
		let p = params();
		let (s, _) = step(LevelState::default(), &moved_by(10), &p, 1);
		assert_eq!(s.level, Level::Throttled);
		// Hovering at 9% (below the 10% trigger, above the 8% release point): never falls.
		let mut s = s;
		for n in 2..50 {
			let (next, c) = step(s, &moved_by(9), &p, n);
			assert_eq!((next.level, next.calm_since, c), (Level::Throttled, None, None));
			s = next;
		}
		// Two calm blocks, then back in the band: the count restarts.
		let (s, _) = step(s, &moved_by(7), &p, 50);
		let (s, _) = step(s, &moved_by(7), &p, 51);
		let (s, _) = step(s, &moved_by(9), &p, 52);
		assert_eq!(s.calm_since, None);
		let (s, _) = step(s, &moved_by(7), &p, 53);
		let (s, c) = step(s, &moved_by(7), &p, 55);
		assert_eq!((s.level, c), (Level::Throttled, None));
		let (s, c) = step(s, &moved_by(7), &p, 56);
		assert_eq!((s.level, c), (Level::Normal, Some(Cause::Calm)));
	}

	#[test]
	fn a_forced_level_ignores_the_inputs() {
		let p = params();
		let forced =
			LevelState { level: Level::Throttled, since: 1, calm_since: None, forced: true };
		assert_eq!(step(forced, &moved_by(50), &p, 5), (forced, None));
		assert_eq!(step(forced, &moved_by(0), &p, 500), (forced, None));
	}

	#[test]
	fn the_window_keeps_low_and_high_per_bucket_and_forgets_old_blocks() {
		// 16 blocks, 8 buckets of 2.
		let mut w = PriceWindow::default();
		let px = FixedU128::from_u32;
		observe(&mut w, 1, px(100), 16);
		observe(&mut w, 2, px(90), 16);
		assert_eq!(w.len(), 1);
		assert_eq!(moved(&w, 2, 16), Permill::from_percent(10));
		observe(&mut w, 3, px(80), 16);
		assert_eq!(w.len(), 2);
		assert_eq!(moved(&w, 3, 16), Permill::from_percent(20));
		// The window ending at block 18 reaches back to block 2 (in the first bucket, 1..2);
		// at 19 the first bucket is out: range 80 only.
		assert_eq!(moved(&w, 18, 16), Permill::from_percent(20));
		assert_eq!(moved(&w, 19, 16), Permill::zero());
		// Never more than 8 buckets; the oldest goes.
		for n in 4..40 {
			observe(&mut w, n * 2, px(100 + n), 16);
			assert!(w.len() <= WINDOW_BUCKETS as usize);
		}
		assert!(w.iter().all(|b| b.start > 80 - 16 - 2));
		// An empty or zero window moved nothing.
		assert_eq!(moved(&PriceWindow::default(), 5, 16), Permill::zero());
	}

	#[test]
	fn divergence_is_relative_to_the_oracle_and_saturates() {
		let px = FixedU128::from_u32;
		assert_eq!(divergence(px(95), px(100)), Permill::from_percent(5));
		assert_eq!(divergence(px(110), px(100)), Permill::from_percent(10));
		assert_eq!(divergence(px(500), px(100)), Permill::one());
		assert_eq!(divergence(px(5), FixedU128::zero()), Permill::zero());
	}

	#[test]
	fn every_bound_is_checked_by_name() {
		let p = params();
		assert_eq!(p.validate(), Ok(()));
		let mut bad = p;
		bad.throttle.moved = Permill::from_parts(100);
		assert_eq!(bad.validate(), Err(ParamsError::TriggerTooLow));
		let mut bad = p;
		bad.halt.volatility = FixedU128::from_u32(1);
		assert_eq!(bad.validate(), Err(ParamsError::HaltBelowThrottle));
		let mut bad = p;
		bad.release = Permill::one();
		assert_eq!(bad.validate(), Err(ParamsError::ReleaseOutOfRange));
		let mut bad = p;
		bad.calm_blocks = 0;
		assert_eq!(bad.validate(), Err(ParamsError::CalmOutOfRange));
		let mut bad = p;
		bad.window_blocks = 1;
		assert_eq!(bad.validate(), Err(ParamsError::WindowOutOfRange));
		let mut bad = p;
		bad.min_samples = MAX_MIN_SAMPLES + 1;
		assert_eq!(bad.validate(), Err(ParamsError::MinSamplesOutOfRange));
		let mut bad = p;
		bad.sale_cap = 0;
		assert_eq!(bad.validate(), Err(ParamsError::ZeroSaleCap));
		let mut bad = p;
		bad.jump = Permill::from_parts(4_999);
		assert_eq!(bad.validate(), Err(ParamsError::TriggerTooLow));
		for hold in [0, MAX_HOLD_BLOCKS + 1] {
			let mut bad = p;
			bad.max_hold_blocks = hold;
			assert_eq!(bad.validate(), Err(ParamsError::HoldOutOfRange));
		}
	}
}
