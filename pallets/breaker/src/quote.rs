//! The price lending and liquidation read: two ends of the fresh feeds, checked by the oracle
//! guard when they are fed (pure; the pallet keeps one [`Quote`] per asset).
//!
//! - **Two ends.** Of the fresh non-zero feeds (at least the quorum, a strict majority of the
//!   feeders), the lower and the upper median: one value when their number is odd, two when it
//!   is even. With one of three feeders stale the other two are the ends, so neither alone sets
//!   the price: a new borrow is checked with collateral at the low end and debt at the high one,
//!   a liquidation with the ends the other way round ([`Quote::bounds`]).
//! - **Agreement.** Ends further apart than half the guard's jump ([`agreement`]) are
//!   *disputed*: they are not a price at all. The accepted quote stays as it was (and ages
//!   towards stale), marked disputed, so nothing new is borrowed or sold on it; one feeder of
//!   two can stop a price, never set one.
//! - **The guard** ([`step`]): agreed ends whose middle moved more than `jump` from the
//!   accepted one are accepted at once when the DEX spot moved the same way at least half as
//!   far (independent evidence); when, in a later block, a feeder feeds again within `jump` of
//!   them (a re-statement, not the same stored values combined again); or `max_hold` blocks
//!   after they were first held. Until then they are *held*: the pallets read the span of the
//!   accepted and the held ends, so neither a borrow nor a liquidation uses the jump before it
//!   is accepted.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use sp_arithmetic::{
	traits::{Saturating, Zero},
	FixedU128, Permill,
};

use crate::levels::divergence;

/// A jump the guard holds: the quote it would be, and the block it was first held in.
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
pub struct Held {
	/// The held lower median.
	pub low: FixedU128,
	/// The held upper median.
	pub high: FixedU128,
	/// The block it was first held in (a jump the same way keeps it).
	pub since: u32,
	/// The time of that block (ms): a feed after it re-states the jump.
	pub at: u64,
}

/// An asset's checked price.
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
pub struct Quote {
	/// The accepted lower median of the fresh feeds.
	pub low: FixedU128,
	/// The accepted upper median (equal to `low` with an odd number of fresh feeds).
	pub high: FixedU128,
	/// When the feeds it was combined from were fed (ms): a held jump's feeds refresh it too
	/// (the feeders are alive; what they say is what is held).
	pub at: u64,
	/// A jump held.
	pub held: Option<Held>,
	/// The latest fresh feeds disagreed (ends apart by more than [`agreement`]): the quote is
	/// the last agreed one.
	pub disputed: bool,
}

/// The middle of two ends, rounded down.
pub fn mid(low: FixedU128, high: FixedU128) -> FixedU128 {
	let gap = high.saturating_sub(low);
	low.saturating_add(FixedU128::from_inner(gap.into_inner() / 2))
}

/// The lower and upper median of `values` (sorted here); `None` when there are none.
pub fn medians(values: &mut [FixedU128]) -> Option<(FixedU128, FixedU128)> {
	values.sort();
	let n = values.len();
	let low = *values.get(n.checked_sub(1)? / 2)?;
	let high = *values.get(n / 2)?;
	Some((low, high))
}

impl Quote {
	/// The accepted middle: what the guard measures a jump from and the oracle stores.
	pub fn mid(&self) -> FixedU128 {
		mid(self.low, self.high)
	}

	/// This quote at block `now`: a hold `max_hold` blocks old is accepted.
	pub fn resolved(self, now: u32, max_hold: u32) -> Self {
		match self.held {
			Some(h) if now >= h.since.saturating_add(max_hold) => {
				Quote { low: h.low, high: h.high, held: None, ..self }
			},
			_ => self,
		}
	}

	/// `(low, high)` the pallets use at block `now`: the accepted ends, widened to a held
	/// jump's (a new borrow values collateral at `low` and debt at `high`, a liquidation the
	/// other way round, so neither acts on the jump before it is accepted).
	pub fn bounds(self, now: u32, max_hold: u32) -> (FixedU128, FixedU128) {
		let q = self.resolved(now, max_hold);
		match q.held {
			Some(h) => (q.low.min(h.low), q.high.max(h.high)),
			None => (q.low, q.high),
		}
	}
}

/// How far apart two prices are, relative to the lower: 100% when the lower is zero and the
/// higher is not (a zero feed agrees with nothing).
pub fn apart(a: FixedU128, b: FixedU128) -> Permill {
	let (low, high) = if a <= b { (a, b) } else { (b, a) };
	if low.is_zero() {
		return if high.is_zero() { Permill::zero() } else { Permill::one() };
	}
	divergence(high, low)
}

/// Fresh feeds agree when their ends are at most this far apart: half the guard's jump.
pub fn agreement(jump: Permill) -> Permill {
	Permill::from_parts(jump.deconstruct() / 2)
}

/// What the guard did with a new combination of feeds.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Outcome {
	/// Within `jump` of the accepted middle (or the first price): accepted.
	Accepted,
	/// Within `jump` of the accepted middle while a jump was held: the held jump is dropped.
	Dropped(FixedU128),
	/// A jump the feeds agree on and the DEX spot followed: accepted at once.
	Corroborated,
	/// A feeder re-stated the held jump in a later block (or the hold ran out): accepted.
	Confirmed,
	/// A jump held.
	Held,
}

/// Whether the DEX `spot` moved from `accepted` the way `new` did, at least half as far.
fn spot_agrees(accepted: FixedU128, new: FixedU128, spot: Option<FixedU128>) -> bool {
	let Some(spot) = spot else { return false };
	let half =
		|a: FixedU128, b: FixedU128| FixedU128::from_inner(a.saturating_sub(b).into_inner() / 2);
	if new < accepted {
		spot < accepted && accepted.saturating_sub(spot) >= half(accepted, new)
	} else {
		spot > accepted && spot.saturating_sub(accepted) >= half(new, accepted)
	}
}

/// The guard's next quote for fresh feeds that agree, combined into `(low, high)` fed by
/// `at` (ms), in block `now` at `now_ms`; `fresh` are the feeds `(price, fed at)`.
#[allow(clippy::too_many_arguments)]
pub fn step(
	quote: Option<Quote>,
	(low, high): (FixedU128, FixedU128),
	at: u64,
	fresh: &[(FixedU128, u64)],
	spot: impl FnOnce() -> Option<FixedU128>,
	jump: Permill,
	(now, now_ms): (u32, u64),
	max_hold: u32,
) -> (Quote, Outcome) {
	let accept = Quote { low, high, at, held: None, disputed: false };
	let Some(before) = quote else { return (accept, Outcome::Accepted) };
	let q = before.resolved(now, max_hold);
	let expired = before.held.is_some() && q.held.is_none();
	let q = Quote { disputed: false, ..q };
	let (reference, new) = (q.mid(), mid(low, high));
	if reference.is_zero() || divergence(new, reference) <= jump {
		let outcome = match q.held {
			Some(h) => Outcome::Dropped(mid(h.low, h.high)),
			None if expired => Outcome::Confirmed,
			None => Outcome::Accepted,
		};
		return (accept, outcome);
	}
	if spot_agrees(reference, new, spot()) {
		return (accept, Outcome::Corroborated);
	}
	let same_way = |h: &Held| (mid(h.low, h.high) < reference) == (new < reference);
	// A feed made after the hold began, near the new ends: a feeder said it again.
	let restated =
		|h: &Held| fresh.iter().any(|(price, fed)| *fed > h.at && divergence(*price, new) <= jump);
	match q.held {
		Some(h) if same_way(&h) && h.since < now && restated(&h) => (accept, Outcome::Confirmed),
		Some(h) if same_way(&h) => {
			(Quote { at, held: Some(Held { low, high, ..h }), ..q }, Outcome::Held)
		},
		_ => (
			Quote { at, held: Some(Held { low, high, since: now, at: now_ms }), ..q },
			Outcome::Held,
		),
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn px(n: u32) -> FixedU128 {
		FixedU128::from_u32(n)
	}
	const JUMP: Permill = Permill::from_percent(5);
	const HOLD: u32 = 3;
	fn accepted(p: u32, at: u64) -> Quote {
		Quote { low: px(p), high: px(p), at, held: None, disputed: false }
	}
	/// Block `now` (6 s blocks): every feed of `prices` made in it, combined.
	fn feed(q: Option<Quote>, prices: &[u32], now: u32, spot: Option<u32>) -> (Quote, Outcome) {
		let at = u64::from(now) * 6_000;
		let fresh: Vec<_> = prices.iter().map(|p| (px(*p), at)).collect();
		let mut values: Vec<_> = prices.iter().map(|p| px(*p)).collect();
		let ends = medians(&mut values).unwrap();
		step(q, ends, at, &fresh, || spot.map(px), JUMP, (now, at), HOLD)
	}

	#[test]
	fn the_ends_are_the_lower_and_upper_median() {
		assert_eq!(medians(&mut []), None);
		assert_eq!(medians(&mut [px(7)]), Some((px(7), px(7))));
		assert_eq!(medians(&mut [px(150), px(100)]), Some((px(100), px(150))));
		assert_eq!(medians(&mut [px(150), px(100), px(101)]), Some((px(101), px(101))));
		assert_eq!(medians(&mut [px(4), px(1), px(3), px(2)]), Some((px(2), px(3))));
	}

	#[test]
	fn ends_agree_within_half_the_jump_and_a_zero_agrees_with_nothing() {
		assert_eq!(agreement(JUMP), Permill::from_parts(25_000));
		assert_eq!(apart(px(100), px(102)), Permill::from_percent(2));
		assert_eq!(apart(px(102), px(100)), Permill::from_percent(2));
		assert_eq!(apart(FixedU128::zero(), px(100)), Permill::one());
		assert_eq!(apart(FixedU128::zero(), FixedU128::zero()), Permill::zero());
	}

	#[test]
	fn a_small_move_is_accepted_and_a_jump_held_with_the_span_read() {
		let (q, o) = feed(None, &[100], 1, None);
		assert_eq!((q, o), (accepted(100, 6_000), Outcome::Accepted));
		let (q, o) = feed(Some(q), &[96], 2, None);
		assert_eq!((q.mid(), o), (px(96), Outcome::Accepted));
		// −25%: held; a borrow and a liquidation read the span of both; the quote is fresh.
		let (q, o) = feed(Some(q), &[72], 3, Some(96));
		assert_eq!(o, Outcome::Held);
		assert_eq!(q.held, Some(Held { low: px(72), high: px(72), since: 3, at: 18_000 }));
		assert_eq!((q.bounds(3, HOLD), q.at), ((px(72), px(96)), 18_000));
		// Three blocks later without a new feed, the read accepts it.
		assert_eq!(q.bounds(5, HOLD), (px(72), px(96)));
		assert_eq!(q.bounds(6, HOLD), (px(72), px(72)));
	}

	#[test]
	fn a_feeder_restating_the_jump_in_a_later_block_confirms_it_and_a_return_drops_it() {
		let held = feed(Some(accepted(100, 0)), &[80, 80, 100], 10, None).0;
		// Same block: still held (one block's feeds are one observation).
		let (q, o) = feed(Some(held), &[79, 80, 100], 10, None);
		assert_eq!((o, q.held.map(|h| h.since)), (Outcome::Held, Some(10)));
		// A later block further down (a crash in steps): accepted, not held again.
		let (q, o) = feed(Some(held), &[70], 11, None);
		assert_eq!((o, q), (Outcome::Confirmed, accepted(70, 66_000)));
		// Back near the accepted price: dropped.
		let (q, o) = feed(Some(held), &[99], 11, None);
		assert_eq!((o, q), (Outcome::Dropped(px(80)), accepted(99, 66_000)));
		// The other way: held anew, from this block.
		let (q, o) = feed(Some(held), &[130], 11, None);
		assert_eq!((o, q.held.map(|h| h.since)), (Outcome::Held, Some(11)));
		assert_eq!(q.bounds(11, HOLD), (px(100), px(130)));
	}

	#[test]
	fn the_same_stored_values_combined_again_confirm_nothing() {
		// Two feeders fed 80 in block 10; in block 11 the third, dissenting, feeds 100: the
		// median is still 80, but nobody said 80 again.
		let held = feed(Some(accepted(100, 0)), &[80, 80, 100], 10, None).0;
		let fresh = [(px(80), 60_000), (px(80), 60_000), (px(100), 66_000)];
		let (q, o) =
			step(Some(held), (px(80), px(80)), 60_000, &fresh, || None, JUMP, (11, 66_000), HOLD);
		assert_eq!((o, q.held.map(|h| h.since)), (Outcome::Held, Some(10)));
		// One of them feeds 80 again in block 12: confirmed.
		let fresh = [(px(80), 72_000), (px(80), 60_000), (px(100), 66_000)];
		let (_, o) =
			step(Some(q), (px(80), px(80)), 66_000, &fresh, || None, JUMP, (12, 72_000), HOLD);
		assert_eq!(o, Outcome::Confirmed);
	}

	#[test]
	fn the_dex_spot_following_the_move_accepts_it_at_once() {
		let a = Some(accepted(100, 0));
		// The pool fell at least half as far: accepted in the jump's own block.
		let (q, o) = feed(a, &[80], 5, Some(89));
		assert_eq!((o, q.mid()), (Outcome::Corroborated, px(80)));
		// Not far enough, or the other way: held.
		assert_eq!(feed(a, &[80], 5, Some(91)).1, Outcome::Held);
		assert_eq!(feed(a, &[80], 5, Some(120)).1, Outcome::Held);
		assert_eq!(feed(a, &[120], 5, Some(111)).1, Outcome::Corroborated);
		assert_eq!(feed(a, &[80], 5, None).1, Outcome::Held);
	}

	impl Quote {
		fn with_disputed(self) -> Self {
			Quote { disputed: true, ..self }
		}
	}

	#[test]
	fn an_agreed_quote_clears_the_dispute() {
		let (q, o) = feed(Some(accepted(100, 0).with_disputed()), &[101, 102], 2, None);
		assert_eq!(
			(o, q.disputed, q.bounds(2, HOLD)),
			(Outcome::Accepted, false, (px(101), px(102)))
		);
	}
}
