//! Breaker levels: what moves an asset between `Normal`, `Throttled` and `Halted`, as pure
//! functions of its inputs (measured volatility, the price's range over a rolling window of
//! blocks, how far the DEX spot sits below the oracle) and the governance parameters.
//!
//! - **Throttled** by any input at its trigger: fast prices or a DEX below the oracle slow
//!   sales, they do not stop them.
//! - **Halted** only by a DEX spot below the oracle by the halt trigger at the end of
//!   [`HaltTrigger::blocks`] evaluations in a row in none of which a fresh quorum of feeders
//!   re-stated the oracle's price (an oracle that stopped, or keeps disputing or holding, while
//!   the market fell away from it), or by governance. A pool pushed below a live oracle is a
//!   pool that cannot be sold into: throttled (the DEX's slippage bound refuses it anyway),
//!   never halted, so nobody halts an asset by dumping into its pool. Speed alone never halts: halting sales because prices
//!   fall fast lets positions sink. A spot ABOVE the oracle harms neither a sale (it pays more
//!   than the oracle bound asks) nor a borrow (the collateral is valued at the oracle, lower):
//!   it counts for nothing.
//! - **Up at once** (a halt once its run is long enough): the level rises to the highest level
//!   an input reaches.
//! - **Down slowly** (hysteresis): `Throttled` falls to `Normal` only after every input stayed
//!   below `release` × its trigger for `calm_blocks` blocks in a row; an input between the two
//!   keeps the level where it is and restarts the count. So a price that hovers at a trigger
//!   raises the level once and does not flap. `Halted` falls to `Throttled` at the first
//!   evaluation without the halt's divergence: a halt lasts as long as its run (an outsider
//!   pays for every block it halts), and halting again needs a new run.
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
	/// The DEX spot sat below the oracle by the level's trigger (for a halt, for its run of
	/// blocks).
	Divergence,
	/// Every input stayed below the release point for the calm period.
	Calm,
	/// `RiskAdmin` forced the level.
	Forced,
	/// `RiskAdmin` reset the asset to automatic control at `Normal`.
	Reset,
	/// A guardian's halt ran out: the asset is back under automatic control, at the level its
	/// inputs reach.
	Expired,
}

/// The triggers of `Throttled`: any one met raises the asset to it.
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
	/// `(oracle − DEX spot) / oracle`, the spot below the oracle.
	pub divergence: Permill,
}

/// What halts an asset: the DEX spot below the oracle by `divergence` at the end of `blocks`
/// evaluations in a row (a raised asset is evaluated every block).
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
pub struct HaltTrigger {
	/// `(oracle − DEX spot) / oracle`, at least the throttle's.
	pub divergence: Permill,
	/// Blocks in a row: in `HALT_BLOCKS_RANGE` (one skewed block halts nothing); the halt
	/// ends with the run.
	pub blocks: u32,
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
	/// The trigger of `Halted` (its divergence at least `throttle`'s).
	pub halt: HaltTrigger,
	/// A level is left only when every input is below `release` × its trigger (hysteresis):
	/// in `[MIN_RELEASE, MAX_RELEASE]`.
	pub release: Permill,
	/// Blocks every input must stay below the release point before `Throttled` steps down
	/// (`Halted` steps down as soon as its run ends).
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
/// Fewest and most blocks in a row a halt's divergence must last: at least 2 (a pool skewed at
/// the end of one block halts nothing), at most 100 (10 minutes).
pub const HALT_BLOCKS_RANGE: (u32, u32) = (2, 100);

/// Why parameters are refused (the pallet names each as an error).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ParamsError {
	/// A trigger below its floor.
	TriggerTooLow,
	/// The `halt` divergence below the `throttle` one.
	HaltBelowThrottle,
	/// `halt.blocks` outside `HALT_BLOCKS_RANGE`.
	HaltBlocksOutOfRange,
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
		let t = &self.throttle;
		if t.volatility < MIN_VOLATILITY_TRIGGER
			|| t.moved < MIN_PERMILL_TRIGGER
			|| t.divergence < MIN_PERMILL_TRIGGER
		{
			return Err(ParamsError::TriggerTooLow);
		}
		if self.halt.divergence < self.throttle.divergence {
			return Err(ParamsError::HaltBelowThrottle);
		}
		if !(HALT_BLOCKS_RANGE.0..=HALT_BLOCKS_RANGE.1).contains(&self.halt.blocks) {
			return Err(ParamsError::HaltBlocksOutOfRange);
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
}

/// What the level is decided on, for one asset at one block.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Inputs {
	/// Annualised volatility, when the estimate has enough samples.
	pub volatility: Option<FixedU128>,
	/// The price's range over the window.
	pub moved: Permill,
	/// How far the DEX spot is below the oracle (zero at or above it), when there is a pool
	/// to compare with.
	pub divergence: Option<Permill>,
	/// A fresh quorum of feeders agreed on the oracle's price in this block (accepted it, or
	/// dropped a held jump): the oracle stands, so a pool below it counts towards no halt.
	pub feeds_agree: bool,
}

/// `trigger` scaled by `scale`.
fn scaled(trigger: Permill, scale: Permill) -> Permill {
	Permill::from_parts(scale.mul_floor(trigger.deconstruct()))
}

impl Inputs {
	/// The first input (in `Cause` order) at or above the throttle triggers `t`, scaled by
	/// `scale`.
	fn reaches(&self, t: &Triggers, scale: Permill) -> Option<Cause> {
		let scale_fx = FixedU128::from_rational(u128::from(scale.deconstruct()), 1_000_000);
		let vol_trigger = scale_fx.saturating_mul(t.volatility);
		if self.volatility.is_some_and(|v| v >= vol_trigger) {
			return Some(Cause::Volatility);
		}
		if self.moved >= scaled(t.moved, scale) {
			return Some(Cause::Move);
		}
		if self.divergence.is_some_and(|d| d >= scaled(t.divergence, scale)) {
			return Some(Cause::Divergence);
		}
		None
	}

	/// Whether the spot is below the oracle by the halt trigger while the feeders did not
	/// re-state the oracle's price in this block (what a halt's run counts, and what keeps a
	/// halt). A pool pushed below a price the feeders keep re-stating is throttled, never
	/// halted: an outsider's dump cannot halt an asset whose oracle is live.
	fn below(&self, params: &BreakerParams) -> bool {
		!self.feeds_agree && self.divergence.is_some_and(|d| d >= params.halt.divergence)
	}
}

/// The highest level the inputs reach at block `now`, with `diverged_since` the first block of
/// the current run of halt-level divergence (counted by [`step`]), and the input that did.
pub fn target(
	inputs: &Inputs,
	params: &BreakerParams,
	diverged_since: Option<u32>,
	now: u32,
) -> (Level, Option<Cause>) {
	let run = diverged_since.map_or(0, |since| now.saturating_sub(since).saturating_add(1));
	if run >= params.halt.blocks {
		return (Level::Halted, Some(Cause::Divergence));
	}
	match inputs.reaches(&params.throttle, Permill::one()) {
		Some(cause) => (Level::Throttled, Some(cause)),
		None => (Level::Normal, None),
	}
}

/// Whether the inputs are calm at `level`: for `Throttled`, every input below `release` × its
/// trigger; for `Halted`, the spot no longer below the oracle by the halt trigger (a halt has
/// no hysteresis: it lasts as long as its run).
pub fn calm(inputs: &Inputs, params: &BreakerParams, level: Level) -> bool {
	match level {
		Level::Normal => true,
		Level::Throttled => inputs.reaches(&params.throttle, params.release).is_none(),
		Level::Halted => !inputs.below(params),
	}
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
	/// Set by `RiskAdmin` or a guardian: the inputs do not move it.
	pub forced: bool,
	/// The block a forced level ends (a guardian's halt; `None`: until governance resets it).
	pub until: Option<u32>,
	/// The first block of the current run of evaluations with the spot below the oracle by
	/// the halt trigger.
	pub diverged_since: Option<u32>,
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
	let diverged_since = track_run(state, inputs, params, now);
	let state = LevelState { diverged_since, ..state };
	let (target, cause) = target(inputs, params, diverged_since, now);
	if target > state.level {
		let raised = LevelState { level: target, since: now, calm_since: None, ..state };
		return (raised, cause);
	}
	if state.level == Level::Normal {
		return (state, None);
	}
	// A halt lasts exactly as long as its run: the first evaluation without the spot below
	// the oracle by the halt trigger ends it (an outsider pays for every block it halts; a
	// pool hovering at the trigger needs a new run of `halt.blocks` to halt again).
	if state.level == Level::Halted {
		if !calm(inputs, params, Level::Halted) {
			return (LevelState { calm_since: None, ..state }, None);
		}
		let down = LevelState { level: Level::Throttled, since: now, calm_since: None, ..state };
		return (down, Some(Cause::Calm));
	}
	if !calm(inputs, params, state.level) {
		return (LevelState { calm_since: None, ..state }, None);
	}
	let since = state.calm_since.unwrap_or(now);
	if now.saturating_sub(since) >= params.calm_blocks {
		let level = state.level.lower();
		// Each step down needs its own calm period.
		(LevelState { level, since: now, calm_since: None, ..state }, Some(Cause::Calm))
	} else {
		(LevelState { calm_since: Some(since), ..state }, None)
	}
}

/// The state of an asset whose forced level ran out at block `now`: automatic, at the level
/// the inputs reach, its run of divergence counted from `diverged_since` (kept while the
/// guardian's halt ran: a pool that stayed below an oracle whose feeders stayed silent stays
/// halted; under feeders that kept re-stating the price the run is broken, and the asset is
/// throttled: keeping such a halt is governance's, `force_level`).
pub fn expire(
	inputs: &Inputs,
	params: &BreakerParams,
	diverged_since: Option<u32>,
	now: u32,
) -> LevelState {
	let (state, _) = step(LevelState { diverged_since, ..Default::default() }, inputs, params, now);
	LevelState { since: now, ..state }
}

/// The first block of `state`'s run of divergence at block `now`, `None` when the run breaks
/// (`step` counts it; it is also tracked while a guardian's halt runs, so that its expiry
/// knows it).
pub fn track_run(
	state: LevelState,
	inputs: &Inputs,
	params: &BreakerParams,
	now: u32,
) -> Option<u32> {
	inputs.below(params).then(|| state.diverged_since.unwrap_or(now))
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

/// `(oracle − spot) / oracle` when the spot is below the oracle, else zero: the breaker's
/// divergence input.
pub fn spot_below(spot: FixedU128, oracle: FixedU128) -> Permill {
	if spot >= oracle {
		return Permill::zero();
	}
	divergence(spot, oracle)
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
			halt: HaltTrigger { divergence: Permill::from_percent(15), blocks: 3 },
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

	fn below_by(p: u32) -> Inputs {
		Inputs { divergence: Some(Permill::from_percent(p)), ..Default::default() }
	}

	#[test]
	fn speed_only_throttles_and_only_a_run_of_divergence_halts() {
		let p = params();
		assert_eq!(target(&Inputs::default(), &p, None, 1), (Level::Normal, None));
		assert_eq!(target(&moved_by(10), &p, None, 1), (Level::Throttled, Some(Cause::Move)));
		assert_eq!(target(&moved_by(9), &p, None, 1), (Level::Normal, None));
		// A 90% range or a 100× volatility: Throttled, never Halted.
		assert_eq!(target(&moved_by(90), &p, None, 1), (Level::Throttled, Some(Cause::Move)));
		let vol = Inputs { volatility: Some(FixedU128::from_u32(150)), ..moved_by(12) };
		assert_eq!(target(&vol, &p, None, 1), (Level::Throttled, Some(Cause::Volatility)));
		assert_eq!(target(&below_by(6), &p, None, 1), (Level::Throttled, Some(Cause::Divergence)));
		// 20% below: Throttled in the run's first two blocks, Halted in its third.
		let deep = below_by(20);
		assert_eq!(target(&deep, &p, Some(9), 10), (Level::Throttled, Some(Cause::Divergence)));
		assert_eq!(target(&deep, &p, Some(8), 10), (Level::Halted, Some(Cause::Divergence)));
	}

	#[test]
	fn a_halt_needs_its_run_and_a_broken_run_starts_again() {
		let p = params();
		let (s, c) = step(LevelState::default(), &below_by(20), &p, 10);
		assert_eq!(
			(s.level, s.diverged_since, c),
			(Level::Throttled, Some(10), Some(Cause::Divergence))
		);
		let (s, c) = step(s, &below_by(16), &p, 11);
		assert_eq!((s.level, s.diverged_since, c), (Level::Throttled, Some(10), None));
		// Back above the trigger for one block (arbitrage): the run is broken.
		let (s, _) = step(s, &below_by(14), &p, 12);
		assert_eq!((s.level, s.diverged_since), (Level::Throttled, None));
		let (s, _) = step(s, &below_by(20), &p, 13);
		let (s, _) = step(s, &below_by(20), &p, 14);
		assert_eq!((s.level, s.diverged_since), (Level::Throttled, Some(13)));
		let (s, c) = step(s, &below_by(20), &p, 15);
		assert_eq!((s.level, s.since, c), (Level::Halted, 15, Some(Cause::Divergence)));
		// The halt lasts as long as the run: the first block without the spot 15% below ends
		// it (a fast price meanwhile only keeps the throttle).
		let (s, c) = step(s, &below_by(16), &p, 16);
		assert_eq!((s.level, c), (Level::Halted, None));
		let quiet = Inputs { divergence: Some(Permill::from_percent(14)), ..moved_by(50) };
		let (s, c) = step(s, &quiet, &p, 17);
		assert_eq!(
			(s.level, s.since, s.calm_since, s.diverged_since, c),
			(Level::Throttled, 17, None, None, Some(Cause::Calm))
		);
		// Halting again needs a new run of 3.
		let (s, _) = step(s, &below_by(16), &p, 18);
		let (s, _) = step(s, &below_by(16), &p, 19);
		assert_eq!(s.level, Level::Throttled);
		let (s, _) = step(s, &quiet, &p, 20);
		let (s, c) = step(s, &quiet, &p, 30);
		assert_eq!((s.level, s.calm_since, c), (Level::Throttled, None, None));
		let still = moved_by(1);
		let (s, _) = step(s, &still, &p, 31);
		let (s, c) = step(s, &still, &p, 34);
		assert_eq!((s.level, c), (Level::Normal, Some(Cause::Calm)));
	}

	#[test]
	fn a_spot_above_the_oracle_counts_for_nothing() {
		let px = FixedU128::from_u32;
		assert_eq!(spot_below(px(200), px(100)), Permill::zero());
		assert_eq!(spot_below(px(100), px(100)), Permill::zero());
		assert_eq!(spot_below(px(80), px(100)), Permill::from_percent(20));
		assert_eq!(spot_below(px(0), px(100)), Permill::one());
		let p = params();
		let mut s = LevelState::default();
		for now in 1..20 {
			let above =
				Inputs { divergence: Some(spot_below(px(190), px(100))), ..Default::default() };
			(s, _) = step(s, &above, &p, now);
			assert_eq!(s, LevelState::default());
		}
	}

	#[test]
	fn levels_fall_one_step_per_calm_period() {
		let p = params();
		let (s, _) = step(LevelState::default(), &below_by(30), &p, 8);
		let (s, _) = step(s, &below_by(30), &p, 9);
		let (s, cause) = step(s, &below_by(30), &p, 10);
		assert_eq!((s.level, s.since, cause), (Level::Halted, 10, Some(Cause::Divergence)));
		// The run ends: to Throttled at once.
		let quiet = below_by(6); // below the halt trigger, above the throttle's
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

	/// The DEX-spot halt attack (cascade benchmark, `halt-attack`; and the review of it): a
	/// halt outlived the attack by the 50-block calm period (79 blocks halted for 31 paid),
	/// then, with a calm period of `halt.blocks`, one block pushed 12% below every 4 kept it
	/// halted for ever. A halt now ends at the first block its run does not continue: every
	/// halted block is a block the outsider paid for.
	#[test]
	fn a_halt_lasts_only_as_long_as_its_run() {
		let p = BreakerParams { calm_blocks: 10, ..params() };
		let mut s = LevelState::default();
		for now in 1..=3 {
			(s, _) = step(s, &below_by(20), &p, now);
		}
		assert_eq!(s.level, Level::Halted);
		// Pushed 12% below (in the old hysteresis band) every fourth block: not halted.
		let mut halted = 0;
		for now in 4..=40 {
			let inputs = if now % 4 == 0 { below_by(12) } else { below_by(1) };
			(s, _) = step(s, &inputs, &p, now);
			halted += u32::from(s.level == Level::Halted);
		}
		assert_eq!(halted, 0);
		// The throttle keeps its own calm period (10 blocks).
		let (s, c) = step(s, &below_by(1), &p, 41);
		assert_eq!((s.level, c), (Level::Throttled, None));
		let (s, c) = step(s, &below_by(1), &p, 51);
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

	proptest::proptest! {
		/// #26's class: whatever the inputs (any volatility, any range, the spot anywhere above
		/// or below the oracle, an asset evaluated in runs of blocks with gaps), an automatic
		/// level becomes `Halted` only at the end of a run of `halt.blocks` evaluations in a
		/// row with the spot below the oracle by the halt trigger and no fresh agreement of the
		/// feeders; a halt ends at the first evaluation with such an agreement; and never two
		/// steps down at once.
		#[test]
		fn only_a_run_of_divergence_under_a_silent_oracle_halts(
			steps in proptest::collection::vec(
				(0u32..3, 0u32..=40, 0u32..=100, 0u32..=200, 1u32..=3, proptest::bool::ANY),
				1..300,
			),
			blocks in HALT_BLOCKS_RANGE.0..=6u32,
		) {
			let mut p = params();
			p.halt.blocks = blocks;
			let mut state = LevelState::default();
			let (mut now, mut run, mut last) = (0u32, 0u32, None::<u32>);
			for (kind, below, moved, vol, gap, feeds_agree) in steps {
				// A raised level is evaluated every block; a `Normal` one only when fed.
				now += if state.level == Level::Normal { gap } else { 1 };
				let divergence = match kind {
					0 => None,
					1 => Some(Permill::zero()), // the spot above the oracle
					_ => Some(Permill::from_percent(below)),
				};
				let inputs = Inputs {
					volatility: Some(FixedU128::from_rational(vol.into(), 10)),
					moved: Permill::from_percent(moved),
					divergence,
					feeds_agree,
				};
				let in_a_row = last == Some(now.saturating_sub(1));
				let deep = !feeds_agree && divergence.is_some_and(|d| d >= p.halt.divergence);
				run = if deep { if in_a_row { run + 1 } else { 1 } } else { 0 };
				let (next, cause) = step(state, &inputs, &p, now);
				if next.level == Level::Halted && state.level != Level::Halted {
					proptest::prop_assert!(run >= blocks, "halted after {run} of {blocks}");
					proptest::prop_assert_eq!(cause, Some(Cause::Divergence));
				}
				if feeds_agree {
					proptest::prop_assert!(next.level != Level::Halted, "halted under agreeing feeds");
				}
				proptest::prop_assert!(next.level >= state.level.lower());
				state = if next.level == Level::Normal { LevelState::default() } else { next };
				last = (next.level != Level::Normal).then_some(now);
				if last.is_none() {
					run = 0;
				}
			}
		}
	}

	#[test]
	fn a_forced_level_ignores_the_inputs_and_an_expired_one_takes_them_afresh() {
		let p = params();
		let forced = LevelState {
			level: Level::Halted,
			since: 1,
			forced: true,
			until: Some(9),
			..Default::default()
		};
		assert_eq!(step(forced, &moved_by(50), &p, 5), (forced, None));
		assert_eq!(step(forced, &below_by(90), &p, 500), (forced, None));
		// Expired: automatic, at the level the inputs reach now, the run counted from what was
		// tracked while it ran (a pool that stayed below the oracle stays halted).
		assert_eq!(
			expire(&moved_by(0), &p, None, 9),
			LevelState { since: 9, ..Default::default() }
		);
		let fast = expire(&moved_by(20), &p, None, 9);
		assert_eq!(
			(fast.level, fast.since, fast.forced, fast.until),
			(Level::Throttled, 9, false, None)
		);
		let fresh = expire(&below_by(90), &p, None, 9);
		assert_eq!((fresh.level, fresh.diverged_since), (Level::Throttled, Some(9)));
		let kept = expire(&below_by(90), &p, Some(4), 9);
		assert_eq!((kept.level, kept.diverged_since), (Level::Halted, Some(4)));
		// The run is tracked while forced.
		assert_eq!(track_run(forced, &below_by(20), &p, 5), Some(5));
		let running = LevelState { diverged_since: Some(3), ..forced };
		assert_eq!(track_run(running, &below_by(20), &p, 5), Some(3));
		assert_eq!(track_run(running, &below_by(10), &p, 5), None);
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
		bad.halt.divergence = Permill::from_percent(4);
		assert_eq!(bad.validate(), Err(ParamsError::HaltBelowThrottle));
		for blocks in [0, 1, HALT_BLOCKS_RANGE.1 + 1] {
			let mut bad = p;
			bad.halt.blocks = blocks;
			assert_eq!(bad.validate(), Err(ParamsError::HaltBlocksOutOfRange));
		}
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
