//! The price lending and liquidation read: two ends of the fresh feeds, checked by the oracle
//! guard when they are fed (pure; the pallet keeps one [`Quote`] per asset).
//!
//! - **Two ends.** Of the fresh non-zero feeds (at least the quorum, a strict majority of the
//!   feeders), the lower and the upper median: one value when their number is odd, two when it
//!   is even. With one of three feeders stale the other two are the ends, so neither alone sets
//!   the price: a new borrow is checked with collateral at the low end and debt at the high one,
//!   a liquidation with the ends the other way round ([`Quote::bounds`]).
//! - **Agreement.** Ends further apart than half the guard's jump ([`agreement`]) are
//!   *disputed*: they are no price to accept. The accepted quote stays as it was (what the
//!   guard measures the next move from), the disputed ends beside it ([`Dispute`]), and
//!   nothing new is borrowed or sold on the DEX beyond its bound. Each use reads the end
//!   that favours the other side: a liquidation values collateral at the disputed upper
//!   median and debt at the lower (with two fresh feeds, both report a price at which the
//!   account is at least as unhealthy; a hold still in force widens them,
//!   [`Quote::liquidation_bounds`]), anything else the span of the accepted and the disputed
//!   ends ([`Quote::bounds`]); the breaker's own triggers read the agreed ends only
//!   ([`Quote::agreed_bounds`]). One feeder of two can lower no liquidation's price and raise
//!   no borrow's; it can stop either, never set one.
//! - **The guard** ([`step`]): agreed ends whose middle moved more than `jump` from the
//!   accepted one are accepted at once when the DEX spot moved the same way at least half as
//!   far (independent evidence); when, in a later block, a combination with a quorum fed
//!   since the hold began includes a feed within `jump` of them (a re-statement, not the same
//!   stored values combined again: a combination whose quorum fed before the block moves
//!   nothing, `Pallet::combine`); or `max_hold` blocks after they were first held. Until then
//!   they are *held*: the pallets read the span of the accepted and the held ends, so no
//!   borrow uses the jump before it is accepted.
//! - **Severity** ([`severity_bound`], [`Quote::liquidation_bounds`]): while a fall of a
//!   collateral is held, a liquidation values that collateral at the held price divided by
//!   the collateral market's severity bound (`threshold × (1 + bonus) / (1 − jump)`: where a
//!   position, after a further move of the guard's jump, no longer covers its debt with the
//!   bonus), never above the accepted price. For a position with that one collateral: it is
//!   liquidated at once when its health at the held price is below the bound, and waits for
//!   the price otherwise. An account with other collaterals too is liquidated when it is
//!   below 1 with the held one at that price and the others at theirs, so a larger share of
//!   unheld collateral lets it be liquidated a little above the bound at the held price.
//! - **A fall's wait** ([`Fall`], [`Quote::fall_gate`]): a fall beyond the jump that is
//!   accepted (corroborated by the pool, or re-stated) gates liquidation for `max_hold`
//!   blocks from the block it was first fed in, held or not: whether a position is
//!   liquidatable reads the collateral divided by the severity bound for a further fall as
//!   deep as this one (XBTC after 12%: 0.957), never above the price before the fall; what is
//!   seized is sized at the price. The deep positions go at once, the marginal ones wait out a
//!   wick (the cascade benchmark's: prices back within three blocks) or are liquidated when
//!   the wait ends. The deeper the fall, the higher the bound: one past `1 − threshold ×
//!   (1 + bonus)` (XBTC 15.8%) gates nothing. Falls in a row keep the first one's wait.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use sp_arithmetic::{
	helpers_128bit::multiply_by_rational_with_rounding,
	traits::{One, Saturating, Zero},
	FixedPointNumber, FixedU128, PerThing, Permill, Rounding,
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
	/// The latest fresh feeds disagreed (ends apart by more than [`agreement`]): their ends,
	/// beside the last agreed quote.
	pub disputed: Option<Dispute>,
	/// A fall beyond the jump accepted in the last `max_hold` blocks (corroborated by the
	/// pool or confirmed): a liquidation still reads it through the severity bound until
	/// `max_hold` blocks after it was first fed, as while it was held.
	pub fall: Option<Fall>,
	/// The block of the latest combination in which a fresh quorum agreed on the price
	/// (accepted it, or dropped a held jump; 0 before any): a pool below a price re-stated in
	/// the block halts nothing ([`crate::levels`]).
	pub agreed: u32,
}

/// A fall beyond the guard's jump, accepted: the accepted middle before it and the block it
/// was first fed in (held or not). For `max_hold` blocks from then, only the positions it sinks
/// below the severity bound are liquidated ([`Quote::liquidation_bounds`]): a wick that returns
/// within them liquidates the deep positions only; a crash's next step sinks the rest.
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
pub struct Fall {
	/// The accepted middle before the fall (the highest, over falls in a row).
	pub from: FixedU128,
	/// The block the fall was first fed in.
	pub since: u32,
}

impl Fall {
	/// Whether the fall still gates liquidation in block `now`.
	pub fn gates(&self, now: u32, max_hold: u32) -> bool {
		now < self.since.saturating_add(max_hold)
	}
}

/// Fresh feeds that disagree: their lower and upper median, and when the quorum fed them.
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
pub struct Dispute {
	/// The disputed lower median.
	pub low: FixedU128,
	/// The disputed upper median.
	pub high: FixedU128,
	/// When the quorum-th newest of those feeds was fed (ms).
	pub at: u64,
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
	/// jump's and to disputed ones (a new borrow values collateral at `low` and debt at
	/// `high`, so no borrow acts on the jump before it is accepted, nor on one feeder's end).
	pub fn bounds(self, now: u32, max_hold: u32) -> (FixedU128, FixedU128) {
		let (low, high) = self.agreed_bounds(now, max_hold);
		match self.disputed {
			Some(d) => (low.min(d.low), high.max(d.high)),
			None => (low, high),
		}
	}

	/// [`Self::bounds`] without a dispute: the accepted ends widened to a held jump's (what
	/// the breaker's own triggers read: a feeder's disputed end moves none of them).
	pub fn agreed_bounds(self, now: u32, max_hold: u32) -> (FixedU128, FixedU128) {
		let q = self.resolved(now, max_hold);
		match q.held {
			Some(h) => (q.low.min(h.low), q.high.max(h.high)),
			None => (q.low, q.high),
		}
	}

	/// When the feeds behind [`Self::bounds`] were fed (ms): a dispute's, whose ends are the
	/// fresh feeds (the accepted ends only widen them), else the quote's.
	pub fn fed_at(&self) -> u64 {
		self.disputed.map_or(self.at, |d| d.at)
	}

	/// `(low, high)` a liquidation uses at block `now` (it values collateral at `high` and
	/// debt at `low`): [`Self::bounds`], except that while a FALL is held, `high` is the held
	/// high end divided by the collateral's severity bound (rounded up; at least the held
	/// end, at most the accepted one). A position is then liquidated only when its health at
	/// the held price is below the bound: the deep ones at once, the marginal ones when the
	/// price is accepted. `severity(depth)` is the bound for a further fall of `depth` (zero
	/// here: an unconfirmed fall assumes the guard's jump); it is read only for a held fall,
	/// and `None` (no market) keeps the span. A held rise keeps the span: a debt's rise does
	/// not liquidate before it is accepted. While the fresh feeds are disputed, the disputed
	/// ends (collateral at the upper median, debt at the lower: one feeder of two moves
	/// neither the way of a liquidation), widened to what a hold still in force allows (a
	/// dispute lifts no hold: what the held jump would not liquidate, the dispute does not
	/// either). An accepted fall's wait is not here ([`Self::fall_gate`]): these ends size
	/// what a liquidation seizes, at the price.
	pub fn liquidation_bounds(
		self,
		now: u32,
		max_hold: u32,
		severity: impl FnOnce(Permill) -> Option<FixedU128>,
	) -> (FixedU128, FixedU128) {
		if let Some(d) = self.disputed {
			let agreed = Quote { disputed: None, ..self };
			if agreed.resolved(now, max_hold).held.is_none() {
				return (d.low, d.high);
			}
			let (low, high) = agreed.liquidation_bounds(now, max_hold, severity);
			return (d.low.min(low), d.high.max(high));
		}
		let q = self.resolved(now, max_hold);
		let (low, high) = q.bounds(now, max_hold);
		let Some(h) = q.held.filter(|h| mid(h.low, h.high) < q.mid()) else {
			return (low, high);
		};
		let Some(severe) = severity(Permill::zero()).and_then(|b| over(h.high, b)) else {
			return (low, high);
		};
		(low, severe.min(high).max(h.high))
	}

	/// The bound that gates liquidation against this collateral at block `now` while an
	/// accepted fall's wait is in force (within `max_hold` blocks of the fall's first feed):
	/// whether a position is liquidatable reads the collateral at its liquidation end
	/// ([`Self::liquidation_bounds`]) divided by it, so only the positions the fall sinks below
	/// it are, and the marginal ones wait for the wait's end or a further fall. It is
	/// `severity(depth)` for the accepted fall's depth below the price before it, raised so
	/// that the collateral is never read above that price; `None` when that leaves nothing to
	/// gate (a bound of 1), without a market, or without such a fall. A further dip held during
	/// the wait keeps it (the held fall's own severity end is what it divides: weaker evidence
	/// never lifts the wait), and so does a dispute. What a liquidation seizes is sized at
	/// [`Self::liquidation_bounds`].
	pub fn fall_gate(
		self,
		now: u32,
		max_hold: u32,
		severity: impl Fn(Permill) -> Option<FixedU128>,
	) -> Option<FixedU128> {
		let q = Quote { disputed: None, ..self }.resolved(now, max_hold);
		let fall = q.waiting_fall(now, max_hold)?;
		let bound = severity(divergence(q.mid(), fall.from))?;
		// The collateral's liquidation end divided by the gate stays at most the price before
		// the fall.
		let (_, high) = self.liquidation_bounds(now, max_hold, &severity);
		let floor = over(high, fall.from)?;
		Some(bound.max(floor)).filter(|g| *g < FixedU128::one() && !g.is_zero())
	}

	/// The accepted fall whose wait is in force at block `now`: below the price before it,
	/// within `max_hold` blocks of its first feed.
	fn waiting_fall(&self, now: u32, max_hold: u32) -> Option<Fall> {
		self.fall.filter(|f| f.gates(now, max_hold) && self.mid() < f.from)
	}
}

/// `price / bound`, rounded up; `None` for a zero bound or an overflow.
fn over(price: FixedU128, bound: FixedU128) -> Option<FixedU128> {
	if bound.is_zero() {
		return None;
	}
	multiply_by_rational_with_rounding(
		price.into_inner(),
		FixedU128::DIV,
		bound.into_inner(),
		Rounding::Up,
	)
	.map(FixedU128::from_inner)
}

/// The health, at a fallen price, below which a position on a collateral with liquidation
/// `threshold` and `bonus` is liquidated before the fall's wait ends: where its collateral,
/// after the price falls by `jump` more, no longer covers its debt with the bonus:
/// `threshold × (1 + bonus) / (1 − jump)`, at most 1, rounded down (a lower bound waits with
/// more). `jump` is the guard's for a held fall (XBTC (78%, 8%, 5%): 0.8867, so a fall held
/// from 60,000 to 52,000 liquidates at once what is below 1 at 58,642) and an accepted fall's
/// own depth when deeper (XBTC after a 12% fall: 0.9573).
pub fn severity_bound(threshold: Permill, bonus: Permill, jump: Permill) -> FixedU128 {
	let million = u128::from(Permill::ACCURACY);
	let covered = u128::from(threshold.deconstruct())
		.saturating_mul(million.saturating_add(u128::from(bonus.deconstruct())));
	let kept = million.saturating_mul(million.saturating_sub(u128::from(jump.deconstruct())));
	if kept.is_zero() {
		return FixedU128::one();
	}
	multiply_by_rational_with_rounding(FixedU128::DIV, covered, kept, Rounding::Down)
		.map(FixedU128::from_inner)
		.unwrap_or_else(FixedU128::one)
		.min(FixedU128::one())
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
	let accept = Quote { low, high, at, held: None, disputed: None, fall: None, agreed: now };
	let Some(before) = quote else { return (accept, Outcome::Accepted) };
	let q = before.resolved(now, max_hold);
	let expired = before.held.is_some() && q.held.is_none();
	// A fall's wait in force is kept by whatever comes next (and never extended: a fall in
	// the same wait keeps its first block).
	let waiting = q.fall.filter(|f| f.gates(now, max_hold));
	let q = Quote { disputed: None, fall: waiting, ..q };
	let accept = Quote { fall: waiting, ..accept };
	let (reference, new) = (q.mid(), mid(low, high));
	if reference.is_zero() || divergence(new, reference) <= jump {
		let outcome = match q.held {
			Some(h) => Outcome::Dropped(mid(h.low, h.high)),
			None if expired => Outcome::Confirmed,
			None => Outcome::Accepted,
		};
		return (accept, outcome);
	}
	// A jump accepted: a fall starts a wait from the block it was first fed in (held since
	// then, or now), unless one is in force.
	let accept_jump = |first: u32| {
		let fall = match waiting {
			Some(f) => Some(Fall { from: f.from.max(reference), ..f }),
			None if new < reference => Some(Fall { from: reference, since: first }),
			None => None,
		};
		Quote { fall, ..accept }
	};
	if spot_agrees(reference, new, spot()) {
		let first = q.held.filter(|h| mid(h.low, h.high) < reference).map_or(now, |h| h.since);
		return (accept_jump(first), Outcome::Corroborated);
	}
	let same_way = |h: &Held| (mid(h.low, h.high) < reference) == (new < reference);
	// A feed made after the hold began, near the new ends: a feeder said it again.
	let restated =
		|h: &Held| fresh.iter().any(|(price, fed)| *fed > h.at && divergence(*price, new) <= jump);
	match q.held {
		Some(h) if same_way(&h) && h.since < now && restated(&h) => {
			(accept_jump(h.since), Outcome::Confirmed)
		},
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
		// Agreed in the block of `at` (6 s blocks).
		let agreed = u32::try_from(at / 6_000).unwrap();
		Quote { low: px(p), high: px(p), at, held: None, disputed: None, fall: None, agreed }
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
		// A later block further down (a crash in steps): accepted, not held again; its wait
		// runs from the block it was first fed in.
		let (q, o) = feed(Some(held), &[70], 11, None);
		let fall = Some(Fall { from: px(100), since: 10 });
		assert_eq!((o, q), (Outcome::Confirmed, Quote { fall, ..accepted(70, 66_000) }));
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

	#[test]
	fn the_severity_bound_is_the_threshold_with_the_bonus_after_a_further_jump() {
		let pct = Permill::from_percent;
		// 0.78 × 1.08 / 0.95 = 0.88673684..., rounded down.
		assert_eq!(
			severity_bound(pct(78), pct(8), JUMP),
			FixedU128::from_inner(886_736_842_105_263_157)
		);
		// A market whose threshold and bonus leave no room: every position below 1 is deep.
		assert_eq!(severity_bound(pct(95), pct(10), JUMP), FixedU128::one());
		assert_eq!(severity_bound(pct(78), pct(8), Permill::one()), FixedU128::one());
		assert_eq!(severity_bound(Permill::zero(), pct(8), JUMP), FixedU128::zero());
	}

	#[test]
	fn a_held_fall_is_liquidated_where_it_is_deep_and_borrowing_keeps_the_span() {
		let held = feed(Some(accepted(60_000, 0)), &[52_000], 10, None).0;
		let bound = FixedU128::from_rational(8_867, 10_000);
		// Borrowing reads the span, whatever the bound.
		assert_eq!(held.bounds(10, HOLD), (px(52_000), px(60_000)));
		// A liquidation values the collateral at 52,000 / 0.8867 = 58,644.41..., rounded up:
		// a position at health 0.8867 at the held price is at 1 there, not liquidatable.
		let (low, high) = held.liquidation_bounds(10, HOLD, |_| Some(bound));
		assert_eq!(low, px(52_000));
		assert_eq!(high, FixedU128::from_inner(58_644_411_864_215_630_991_317));
		assert!(bound.saturating_mul(high) >= px(52_000));
		// A bound of 1 reads the held price; one that would read above the accepted price,
		// or none (no market), the span.
		assert_eq!(
			held.liquidation_bounds(10, HOLD, |_| Some(FixedU128::one())),
			(px(52_000), px(52_000))
		);
		assert_eq!(
			held.liquidation_bounds(10, HOLD, |_| Some(FixedU128::from_rational(1, 2))),
			(px(52_000), px(60_000))
		);
		assert_eq!(held.liquidation_bounds(10, HOLD, |_| None), (px(52_000), px(60_000)));
		// Accepted `HOLD` blocks later: the held price, the bound not asked for.
		let asked = core::cell::Cell::new(false);
		let ask = |_| {
			asked.set(true);
			Some(bound)
		};
		assert_eq!(held.liquidation_bounds(13, HOLD, ask), (px(52_000), px(52_000)));
		// A held rise keeps the span (a debt's rise liquidates nothing before it is accepted).
		let rise = feed(Some(accepted(60_000, 0)), &[70_000], 10, None).0;
		assert_eq!(rise.liquidation_bounds(10, HOLD, ask), (px(60_000), px(70_000)));
		assert!(!asked.get());
	}

	/// XBTC's market (threshold 78%, bonus 8%) with the guard's jump as the least further fall.
	fn xbtc(depth: Permill) -> Option<FixedU128> {
		Some(severity_bound(Permill::from_percent(78), Permill::from_percent(8), depth.max(JUMP)))
	}

	/// The cascade benchmark's wick: 60,000, then 56,000 held (the pool not yet followed),
	/// 52,800 corroborated by the pool, 55,000, 57,500. For `HOLD` blocks from the first fed
	/// fall a liquidation's health reads XBTC divided by the gate (the bound for the fall's
	/// own depth), so only what the fall sinks below it is liquidatable; the ends (what is
	/// seized) and borrowing read the accepted price at once.
	#[test]
	fn an_accepted_fall_gates_liquidation_below_the_bound_until_its_wait_ends() {
		let q = feed(Some(accepted(60_000, 0)), &[56_000], 10, Some(60_000)).0;
		assert!(q.held.is_some() && q.fall.is_none());
		// While held, the held fall's own ends; no gate on top.
		assert_eq!(q.fall_gate(10, HOLD, xbtc), None);
		let (q, o) = feed(Some(q), &[52_800], 11, Some(52_816));
		assert_eq!(o, Outcome::Corroborated);
		assert_eq!(q.fall, Some(Fall { from: px(60_000), since: 10 }));
		assert_eq!(q.bounds(11, HOLD), (px(52_800), px(52_800)));
		assert_eq!(q.liquidation_bounds(11, HOLD, xbtc), (px(52_800), px(52_800)));
		// Depth 12%: gate 0.78 × 1.08 / 0.88 = 0.9572...: health 0.96 at 52,800 waits, 0.95
		// does not.
		let gate = q.fall_gate(11, HOLD, xbtc).unwrap();
		assert_eq!(gate, FixedU128::from_inner(957_272_727_272_727_272));
		assert!(FixedU128::from_rational(96, 100) / gate >= FixedU128::one());
		assert!(FixedU128::from_rational(95, 100) / gate < FixedU128::one());
		// 55,000 next block: within the jump, accepted; the wait goes on at its depth (8.3%).
		let (q, o) = feed(Some(q), &[55_000], 12, Some(55_000));
		assert_eq!((o, q.fall), (Outcome::Accepted, Some(Fall { from: px(60_000), since: 10 })));
		let gate = xbtc(divergence(px(55_000), px(60_000))).unwrap();
		assert_eq!(q.fall_gate(12, HOLD, xbtc), Some(gate));
		// `HOLD` blocks after the first fed fall: no gate, the bound not asked for.
		assert_eq!(q.fall_gate(13, HOLD, |_| panic!()), None);
		let (q, _) = feed(Some(q), &[57_500], 13, Some(57_500));
		assert_eq!(q.fall, None);
	}

	/// A crash's steps in a row keep the wait of the first (never extended) and the price
	/// before it; a fall deep enough that the bound reaches 1 gates nothing; the gate never
	/// reads the collateral above the price before the fall; a fall accepted at once (the pool
	/// ahead of the feeds) waits from its own block.
	#[test]
	fn falls_in_a_row_keep_the_first_wait_and_a_deep_one_gates_nothing() {
		let (q, o) = feed(Some(accepted(60_000, 0)), &[52_000], 10, Some(52_000));
		assert_eq!(
			(o, q.fall),
			(Outcome::Corroborated, Some(Fall { from: px(60_000), since: 10 }))
		);
		let (q, _) = feed(Some(q), &[44_000], 11, Some(44_000));
		assert_eq!(q.fall, Some(Fall { from: px(60_000), since: 10 }));
		// 26.7% below 60,000: 0.8424 / 0.733 > 1, so the bound is 1: no gate.
		assert_eq!(q.fall_gate(11, HOLD, xbtc), None);
		// A small bound is raised to 44,000 / 60,000: the collateral read at 60,000 at most.
		let gate = q.fall_gate(11, HOLD, |_| Some(FixedU128::from_rational(1, 2))).unwrap();
		let read = px(44_000) / gate;
		assert!(
			read <= px(60_000) && read > FixedU128::from_rational(59_999_999, 1_000),
			"{read:?}"
		);
		// A rise beyond the jump during the wait keeps it (and its first block).
		let (q, o) = feed(Some(q), &[50_000], 12, Some(50_000));
		assert_eq!((o, q.fall.map(|f| f.since)), (Outcome::Corroborated, Some(10)));
		// A later fall after the wait: a new one, from the price then.
		let (q, _) = feed(Some(q), &[50_000], 14, Some(50_000));
		assert_eq!(q.fall, None);
		let (q, _) = feed(Some(q), &[45_000], 15, Some(45_000));
		assert_eq!(q.fall, Some(Fall { from: px(50_000), since: 15 }));
		assert!(q.fall_gate(15, HOLD, xbtc).is_some());
		// A rise held during the wait above the price before the fall: no gate (the span,
		// read at the held 60,000, is above it already).
		let (q, o) = feed(Some(q), &[60_000], 16, None);
		assert_eq!((o, q.fall_gate(16, HOLD, xbtc)), (Outcome::Held, None));
	}

	/// Found by review: a further dip held during a fall's wait (the pool kept from following
	/// it for a block) lifted the wait, so weaker evidence liquidated more. MEME (55%, 15%):
	/// 1.00 → 0.85 corroborated (gate max(0.744, 0.85) = 0.85: MEME read at 1.00), then 0.80
	/// held: the held fall's own end (min(0.80 / 0.666, 0.85) = 0.85) is still divided by the
	/// wait's gate, so MEME is still read at 1.00 and a position at health 0.95 at 0.85 waits.
	#[test]
	fn a_dip_held_during_a_falls_wait_keeps_the_wait() {
		let meme = |depth: Permill| {
			Some(severity_bound(
				Permill::from_percent(55),
				Permill::from_percent(15),
				depth.max(JUMP),
			))
		};
		let cents = |c: u32| FixedU128::from_rational(c.into(), 100);
		let feed_cents = |q: Quote, c: u32, now: u32, spot: u32| {
			let at = u64::from(now) * 6_000;
			step(
				Some(q),
				(cents(c), cents(c)),
				at,
				&[(cents(c), at)],
				|| Some(cents(spot)),
				JUMP,
				(now, at),
				HOLD,
			)
		};
		let start = Quote { low: cents(100), high: cents(100), ..accepted(1, 0) };
		let (q, o) = feed_cents(start, 85, 10, 85);
		assert_eq!(o, Outcome::Corroborated);
		let read = |q: Quote, now: u32| {
			let high = q.liquidation_bounds(now, HOLD, meme).1;
			high / q.fall_gate(now, HOLD, meme).unwrap()
		};
		assert_eq!(read(q, 10), cents(100));
		let (q, o) = feed_cents(q, 80, 11, 90);
		assert_eq!((o, q.liquidation_bounds(11, HOLD, meme).1), (Outcome::Held, cents(85)));
		let r = read(q, 11);
		assert!(r <= cents(100) && r > FixedU128::from_rational(99_999, 100_000), "{r:?}");
	}

	/// A dispute ends no wait; the gate is raised to keep the disputed upper end, divided by
	/// it, at most the price before the fall.
	#[test]
	fn a_dispute_ends_no_fall_wait() {
		let q = feed(Some(accepted(60_000, 0)), &[52_800], 10, Some(52_800)).0;
		let gate = q.fall_gate(10, HOLD, xbtc).unwrap();
		let disputed = |low: u32, high: u32| Quote {
			disputed: Some(Dispute { low: px(low), high: px(high), at: 66_000 }),
			..q
		};
		assert_eq!(disputed(50_000, 53_000).fall_gate(11, HOLD, xbtc), Some(gate));
		let raised = disputed(50_000, 59_000).fall_gate(11, HOLD, xbtc).unwrap();
		assert!(raised > gate && px(59_000) / raised <= px(60_000));
		assert_eq!(disputed(50_000, 61_000).fall_gate(11, HOLD, xbtc), None);
		// Once the wait ends, none.
		assert_eq!(disputed(50_000, 53_000).fall_gate(13, HOLD, xbtc), None);
	}

	proptest::proptest! {
		/// Whatever the accepted ends, the price before a fall, the block and the bound: the
		/// gate is the bound, raised to keep the collateral read at most the price before the
		/// fall, below 1; none once the wait is over or above the price before the fall; the
		/// ends a liquidation sizes its seizure at stay the accepted ones.
		#[test]
		fn an_accepted_fall_gates_at_the_bound_and_never_above_the_price_before_it(
			accepted_low in 1_000u32..100_000,
			accepted_gap in 0u32..2_000,
			from in 1_000u32..150_000,
			now in 10u32..20,
			bound in 1u128..=1_100_000_000_000_000_000,
		) {
			let quote = Quote {
				low: px(accepted_low),
				high: px(accepted_low + accepted_gap),
				at: 0,
				held: None,
				disputed: None,
				fall: Some(Fall { from: px(from), since: 10 }),
				agreed: 0,
			};
			let bound = FixedU128::from_inner(bound);
			let (low, high) = quote.bounds(now, HOLD);
			proptest::prop_assert_eq!(quote.liquidation_bounds(now, HOLD, |_| Some(bound)), (low, high));
			let gate = quote.fall_gate(now, HOLD, |_| Some(bound));
			if now >= 10 + HOLD || quote.mid() >= px(from) {
				proptest::prop_assert_eq!(gate, None);
			} else if let Some(gate) = gate {
				proptest::prop_assert!(gate >= bound && gate < FixedU128::one());
				// The collateral read: its high end over the gate, at most the price before.
				let read = multiply_by_rational_with_rounding(
					high.into_inner(),
					FixedU128::DIV,
					gate.into_inner(),
					Rounding::Down,
				)
				.unwrap();
				proptest::prop_assert!(read <= px(from).into_inner());
				if gate > bound {
					// Raised only as far as the price before the fall needs (to a unit).
					let from = px(from).into_inner();
					proptest::prop_assert!(read + from / 1_000_000_000_000 >= from);
				}
			} else {
				proptest::prop_assert!(bound >= FixedU128::one() || high >= px(from));
			}
		}
	}

	proptest::proptest! {
		/// Whatever the accepted and held ends and the bound: a liquidation's ends lie within
		/// the span borrowing reads; a held fall's collateral end is the lowest price at which
		/// a position at the bound's health at the held price is not liquidatable (unless the
		/// span caps it), and it is never below the held end.
		#[test]
		fn a_liquidation_reads_within_the_span_and_exactly_at_the_severity_bound(
			accepted_low in 1_000u32..100_000,
			accepted_gap in 0u32..2_000,
			held_low in 1_000u32..100_000,
			held_gap in 0u32..2_000,
			bound in 1u128..=1_000_000_000_000_000_000,
		) {
			let quote = Quote {
				low: px(accepted_low),
				high: px(accepted_low + accepted_gap),
				at: 0,
				held: Some(Held {
					low: px(held_low),
					high: px(held_low + held_gap),
					since: 10,
					at: 0,
				}),
				disputed: None,
				fall: None,
				agreed: 0,
			};
			let bound = FixedU128::from_inner(bound);
			let (low, high) = quote.bounds(10, HOLD);
			let (liq_low, liq_high) = quote.liquidation_bounds(10, HOLD, |_| Some(bound));
			proptest::prop_assert_eq!(liq_low, low);
			proptest::prop_assert!(low <= liq_high && liq_high <= high);
			let h = quote.held.unwrap();
			proptest::prop_assert!(liq_high >= h.high.min(high));
			if mid(h.low, h.high) < quote.mid() && liq_high < high && liq_high > h.high {
				// At the bound's health at the held end, health at `liq_high` is at least 1,
				// and a unit less would be below 1.
				let at = |p: FixedU128| {
					multiply_by_rational_with_rounding(
						bound.into_inner(),
						p.into_inner(),
						h.high.into_inner(),
						Rounding::Down,
					)
					.unwrap()
				};
				proptest::prop_assert!(at(liq_high) >= FixedU128::DIV);
				let below = FixedU128::from_inner(liq_high.into_inner() - 1);
				proptest::prop_assert!(at(below) < FixedU128::DIV);
			}
			if mid(h.low, h.high) >= quote.mid() {
				proptest::prop_assert_eq!((liq_low, liq_high), (low, high));
			}
		}
	}

	proptest::proptest! {
		/// Whatever the accepted ends, the price before a fall, the block and the bound: a
		/// liquidation reads the debt at the accepted low end and the collateral between the
		/// accepted high end and the price before the fall, at the lowest price at which a
		/// position at the bound's health at the accepted price is not liquidatable (unless
		/// one of them caps it), and at the accepted price once the wait is over.
		#[test]
		fn an_accepted_fall_is_read_within_the_price_before_it_and_exactly_at_the_bound(
			accepted_low in 1_000u32..100_000,
			accepted_gap in 0u32..2_000,
			from in 1_000u32..150_000,
			now in 10u32..20,
			bound in 1u128..=1_000_000_000_000_000_000,
		) {
			let quote = Quote {
				low: px(accepted_low),
				high: px(accepted_low + accepted_gap),
				at: 0,
				held: None,
				disputed: None,
				fall: Some(Fall { from: px(from), since: 10 }),
				agreed: 0,
			};
			let bound = FixedU128::from_inner(bound);
			let (low, high) = quote.bounds(now, HOLD);
			let (liq_low, liq_high) = quote.liquidation_bounds(now, HOLD, |_| Some(bound));
			proptest::prop_assert_eq!(liq_low, low);
			proptest::prop_assert!(liq_high >= high && liq_high <= high.max(px(from)));
			if now >= 10 + HOLD || quote.mid() >= px(from) {
				proptest::prop_assert_eq!((liq_low, liq_high), (low, high));
			} else if liq_high > high && liq_high < px(from) {
				let at = |p: FixedU128| {
					multiply_by_rational_with_rounding(
						bound.into_inner(),
						p.into_inner(),
						high.into_inner(),
						Rounding::Down,
					)
					.unwrap()
				};
				proptest::prop_assert!(at(liq_high) >= FixedU128::DIV);
				let below = FixedU128::from_inner(liq_high.into_inner() - 1);
				proptest::prop_assert!(at(below) < FixedU128::DIV);
			}
		}
	}

	impl Quote {
		fn with_disputed(self) -> Self {
			Quote { disputed: Some(Dispute { low: px(90), high: px(120), at: self.at }), ..self }
		}
	}

	/// Two fresh feeds, 90 and 120, against an accepted 100: a liquidation reads the ends no
	/// fresh feeder disputes in the borrower's favour (collateral 120, debt 90), a borrow the
	/// span of everything (collateral 90, debt 120), both as fresh as the dispute.
	#[test]
	fn a_dispute_is_read_at_the_ends_every_fresh_feeder_supports() {
		let q = Quote {
			disputed: Some(Dispute { low: px(90), high: px(120), at: 6_000 }),
			..accepted(100, 0)
		};
		assert_eq!(q.liquidation_bounds(2, HOLD, |_| Some(px(1))), (px(90), px(120)));
		assert_eq!(q.bounds(2, HOLD), (px(90), px(120)));
		assert_eq!((q.fed_at(), accepted(100, 0).fed_at()), (6_000, 0));
		// Both fresh ends below the accepted price (a crash, one feeder a step behind): a
		// liquidation reads the higher of them, a borrow the span down to the lower.
		let crash = Quote {
			disputed: Some(Dispute { low: px(70), high: px(85), at: 12_000 }),
			..accepted(100, 0)
		};
		assert_eq!(crash.liquidation_bounds(2, HOLD, |_| Some(px(1))), (px(70), px(85)));
		assert_eq!(crash.bounds(2, HOLD), (px(70), px(100)));
		// A fall to 80 held before the dispute: the dispute lifts no hold. A liquidation reads
		// the collateral at the higher of the disputed end and the hold's severity price
		// (80 / 0.9 = 88.9), and once the hold resolves at 80, at the disputed end again.
		let held =
			Quote { held: Some(Held { low: px(80), high: px(80), since: 1, at: 6_000 }), ..crash };
		let (low, high) =
			held.liquidation_bounds(2, HOLD, |_| Some(FixedU128::from_rational(9, 10)));
		assert_eq!(low, px(70));
		assert!(high > FixedU128::from_rational(888, 10) && high < px(89), "{high:?}");
		assert_eq!(held.bounds(2, HOLD), (px(70), px(100)));
		assert_eq!(held.liquidation_bounds(1 + HOLD, HOLD, |_| Some(px(1))), (px(70), px(85)));
		// A held rise (to 120) under a dispute keeps the debt's accepted end for a liquidation.
		let rise = Quote {
			held: Some(Held { low: px(120), high: px(120), since: 1, at: 6_000 }),
			disputed: Some(Dispute { low: px(110), high: px(125), at: 12_000 }),
			..accepted(100, 0)
		};
		assert_eq!(rise.liquidation_bounds(2, HOLD, |_| Some(px(1))), (px(100), px(125)));
	}

	#[test]
	fn an_agreed_quote_clears_the_dispute() {
		let (q, o) = feed(Some(accepted(100, 0).with_disputed()), &[101, 102], 2, None);
		assert_eq!(
			(o, q.disputed, q.bounds(2, HOLD)),
			(Outcome::Accepted, None, (px(101), px(102)))
		);
	}
}
