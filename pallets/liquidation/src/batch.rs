//! Batch settlement ([`Pallet::settle_batch`]): many positions, one DEX sale per
//! `(collateral, debt)` pair.
//!
//! - Each position is planned as `settle` plans it: its largest debt against its riskiest
//!   collateral, repaid to the target health, the discount by its own health.
//! - The positions of one pair are sold together: the DEX is asked for the collateral that buys
//!   the sum of their repayments, and each position pays a share of it pro rata to its
//!   repayment, rounded up ([`math::pro_rata`]). Of each charge, the sale gets the exact
//!   split (the shares rounded down, the remainder a unit each to the first positions
//!   rounded), and the rounding difference (a unit at most) goes to the insurance treasury:
//!   the protocol's favour, deterministically.
//! - Each share must be within the position's own oracle bound (the collateral worth its
//!   repayment plus `max_slippage`) and what it owes; positions over it leave the sale and the
//!   rest is quoted again. A lot worth more than the block's caps have left (the breaker's
//!   throttle, shared by the pairs of a collateral and allotted across them riskiest first
//!   before any is sold; the pool's depth cap) keeps its riskiest positions that fit and is
//!   quoted again too; the others are skipped `Throttled`. Two quotes a pair at most. The
//!   rest of each position's collateral due is split as in `settle`
//!   (the treasury's share of the penalty, the caller's tip, the borrower's part), and each
//!   position gets its own [`Event::Settled`], conserving value to the unit as `settle` does.
//! - A position healthy by now, or without a plan (no collateral, only dust, a stale price), or
//!   whose pair cannot be sold within the bounds, or beyond the call's [`BatchWitness`], is
//!   skipped with [`Event::SettlementSkipped`], never failed: `settle` takes it on its own
//!   routes (the insurance backstop, the dust sweep, the loss waterfall).
//! - A position left with debt and no collateral is filed on the watch list; its loss waterfall
//!   runs in `settle` (the offchain worker submits it the next block). That keeps the
//!   waterfall's weight (a multiple of the debts) out of every batched position's weight.
//!
//! The weight is declared from the witness (pairs, wide positions) and refunded to what was
//! done: narrow positions (one collateral, one debt) at `settle_batch`'s measured rate, wide
//! ones at `settle_batch_wide`'s.

use crate::{
	math,
	pallet::*,
	plan::{overflow, Plan},
	types::*,
	weights::WeightInfo,
};
use alloc::{vec, vec::Vec};
use frame_support::{
	ensure,
	pallet_prelude::{DispatchError, Weight},
	storage::with_storage_layer,
	traits::Get,
};
use pallet_asset_conversion::{QuotePrice, Swap};
use pallet_lending::{LendingPositions, LotSeizure, RestPaid};
use sp_arithmetic::{traits::Zero, FixedU128};

/// Quotes per pair: the lot, then the lot without the positions over their bound or beyond
/// the block's caps.
const MAX_QUOTES: u32 = 2;

/// A position planned for a batch.
pub(crate) struct Member<T: Config> {
	pub(crate) borrower: T::AccountId,
	pub(crate) plan: Plan<T::AssetId>,
}

/// The DEX's verdict on a pair's lot ([`Pallet::dex_verdict`]).
pub(crate) struct PairVerdict<AccountId> {
	/// Per member (in order): why it is left out of the sale, or `None`.
	pub(crate) out: Vec<Option<Skipped>>,
	/// The sale of the members not left out, or why the DEX would not sell them.
	pub(crate) sale: Result<PairSale<AccountId>, Skipped>,
}

/// A pair's DEX sale worked out: what the members sold repay and the collateral it takes
/// (each member's exact share and its charge rounded up), the lot the DEX route seizes
/// ([`Pallet::lot`]), the lot's value at the oracle and whether the pool's depth cap counts
/// it.
pub(crate) struct PairSale<AccountId> {
	pub(crate) total: u128,
	pub(crate) input: u128,
	pub(crate) exact: Vec<u128>,
	pub(crate) charged: Vec<u128>,
	pub(crate) lot: Vec<LotSeizure<AccountId>>,
	pub(crate) value: u128,
	pub(crate) depth_capped: bool,
	/// Whether positions of the lot were left out for the block's caps
	/// ([`Pallet::trim_to_cap`]): the DEX would not sell the whole lot now.
	pub(crate) trimmed: bool,
}

/// The positions of one `(collateral, debt)` pair.
type Group<T> = ((<T as Config>::AssetId, <T as Config>::AssetId), Vec<Member<T>>);

/// What a batch did: its settled and skipped positions, and what its weight is made of.
#[derive(Clone, PartialEq, Eq, Debug, frame_support::DefaultNoBound)]
pub struct BatchReport<AccountId> {
	/// Positions settled, pair by pair (pairs riskiest first: by their riskiest position, ties
	/// in the order their first position was given).
	pub settled: Vec<AccountId>,
	/// Positions skipped, and why.
	pub skipped: Vec<(AccountId, Skipped)>,
	/// Narrow positions (one collateral, one debt) planned.
	pub narrow: u32,
	/// Wide positions planned.
	pub wide: u32,
	/// Pairs planned (each a pair of the witness, taken by its first position planned, sold
	/// or not: its markets and prices were read).
	pub pairs: u32,
	/// Plans tried beyond each position's first (wide positions whose riskiest collateral
	/// could not be planned).
	pub extra_plans: u32,
	/// Positions passed over before a plan (no debt, no collateral, beyond the witness).
	pub unplanned: u32,
	/// Sale-queue entries checked, and dropped (a throttled pair's queue:
	/// [`Pallet::waits_in_queue`]).
	pub queue: crate::dex::QueueLook,
	/// Pairs whose lot the standing bids were asked for.
	pub bids_asked: u32,
	/// Buckets of the risk index looked at when the settled positions were filed (a key's top
	/// lowered past the buckets they left empty: a storage iteration each, which `benchmark
	/// pallet` times but does not count; at most one a settled position).
	pub looks: u32,
	/// Pairs whose lot a sale to the standing bids was tried for (their fills, each at most
	/// `max_fills`; charged whether it was made or rolled back).
	pub bids_sold: u32,
	/// Positions of those pairs (each seized to the bids' owners besides its lot's settlement:
	/// a `seize_collateral` each, charged whether the sale was made or rolled back; at most
	/// the witness's `bids`).
	pub bids_members: u32,
	/// Pairs whose lot would pay the treasury's shares in tokens (the treasury full,
	/// [`Pallet::treasury_full`]: a withdrawal's worth each, charged whether the pair sold or
	/// not); the others pay them as supply, within the pair's measured weight.
	pub token_rests: u32,
}

impl<T: Config> Pallet<T> {
	/// The weight `settle_batch` reserves for `n` positions and `witness`: every position
	/// planned and settled, as many pairs as declared (at most `MaxBatchPairs`, at least one),
	/// every wide position trying every collateral.
	pub fn settle_batch_weight(n: u32, witness: &BatchWitness) -> Weight {
		let wide = witness.wide.min(n);
		let pairs = witness.pairs.min(T::MaxBatchPairs::get()).min(n).max(1);
		let extra = wide.saturating_mul(T::MaxDebts::get().saturating_sub(1));
		Self::batch_weight(n.saturating_sub(wide), wide, (pairs, pairs), extra, 0, n)
			.saturating_add(Self::queue_checks_weight(crate::dex::QUEUE_CHECKS))
			// Every pair's book asked; a sale to the bids tried for at most as many pairs as
			// positions `bids` allows, and a seizure for each such position.
			.saturating_add(Self::batch_bids_weight(
				pairs,
				pairs.min(witness.bids.min(n)),
				witness.bids.min(n),
			))
	}

	/// The weight `settle_batch_unsigned` reserves: the batch's, and its validity check at
	/// inclusion (`validate_settle_batch`: every borrower read at its worst).
	pub fn settle_batch_unsigned_weight(n: u32, witness: &BatchWitness) -> Weight {
		Self::settle_batch_weight(n, witness).saturating_add(Self::unsigned_checks(n))
	}

	/// The weight `settle_after_feed` reserves: the batch's, and its check at inclusion once
	/// the feed has landed (`validate_settle_after_feed`: the batch's and the feed's nonce).
	pub fn settle_after_feed_weight(n: u32, witness: &BatchWitness) -> Weight {
		Self::settle_batch_weight(n, witness).saturating_add(Self::after_feed_checks(n))
	}

	/// The weight of what a batch did.
	pub fn batch_report_weight(report: &BatchReport<T::AccountId>) -> Weight {
		Self::batch_weight(
			report.narrow,
			report.wide,
			(report.pairs.max(1), report.token_rests),
			report.extra_plans,
			report.unplanned,
			report.looks,
		)
		.saturating_add(Self::queue_checks_weight(report.queue.checked))
		.saturating_add(Self::batch_bids_weight(
			report.bids_asked,
			report.bids_sold,
			report.bids_members,
		))
	}

	/// What asking the bid book for `asked` pairs' lots (a quote and the DEX's quote to
	/// compare) and selling `sold` of them, of `members` positions in all, to the bids costs:
	/// every fill, and a seizure to the bids' owners per position (its lot's settlement, a
	/// seizure into the working account, is within the batch's measured work; the seizures
	/// to the owners are not: found by review, at `seize_collateral`'s measured weight).
	pub(crate) fn batch_bids_weight(asked: u32, sold: u32, members: u32) -> Weight {
		Self::bid_quote_weight()
			.saturating_mul(u64::from(asked))
			.saturating_add(Self::bid_fills_weight().saturating_mul(u64::from(sold)))
			.saturating_add(
				T::Lending::seize_collateral_weight().saturating_mul(u64::from(members)),
			)
	}

	/// `settle_batch_pairs(p)` measures `p` pairs of one narrow position each, `settle_batch(n)`
	/// `n` more narrow positions of one pair (its slope is a narrow position's weight);
	/// `settle_batch_wide(w)` `w` wide positions of one pair (its slope is a wide position's).
	fn batch_weight(
		narrow: u32,
		wide: u32,
		(pairs, token_rests): (u32, u32),
		extra_plans: u32,
		unplanned: u32,
		looks: u32,
	) -> Weight {
		// A wide position's slope, and once per batch with wide positions what their fixed cost
		// exceeds a narrow batch's (their other markets and prices, read once). Each settled
		// wide position's index filing at its worst (`filing_weight`): `settle_batch_wide`'s
		// chain has no risk epoch, so its positions stay on the watch list and move no entry,
		// where a live chain's move theirs under their wide keys (found by review).
		let wide_weight = if wide.is_zero() {
			Weight::zero()
		} else {
			T::WeightInfo::settle_batch_wide(wide)
				.saturating_sub(T::WeightInfo::settle_batch_wide(0))
				.saturating_add(
					T::WeightInfo::settle_batch_wide(0)
						.saturating_sub(T::WeightInfo::settle_batch(0)),
				)
				.saturating_add(Pallet::<T>::filing_weight().saturating_mul(u64::from(wide)))
		};
		// A pair with its first position (`settle_batch_pairs`; the first pair at least what
		// `settle_batch(0)` measured of it: two fits of one case), and each further position;
		// per pair whose treasury's shares are paid out in tokens (it is full: a withdrawal;
		// declared for every pair).
		let first = T::WeightInfo::settle_batch_pairs(1);
		let pair_weight =
			T::WeightInfo::settle_batch_pairs(pairs)
				.max(T::WeightInfo::settle_batch(0).saturating_add(
					T::WeightInfo::settle_batch_pairs(pairs).saturating_sub(first),
				));
		pair_weight
			.saturating_add(
				T::WeightInfo::settle_batch(narrow.saturating_sub(pairs))
					.saturating_sub(T::WeightInfo::settle_batch(0)),
			)
			.saturating_add(
				T::Lending::withdraw_supply_weight().saturating_mul(u64::from(token_rests)),
			)
			.saturating_add(Self::depth_cap_weight().saturating_mul(u64::from(pairs)))
			// Each pair's settled members out of its collateral's sale queue (`dequeue_all`).
			.saturating_add(T::DbWeight::get().reads_writes(1, 1).saturating_mul(u64::from(pairs)))
			.saturating_add(wide_weight)
			// The buckets looked at when the keys' tops are lowered (`file_all`; declared at one
			// a position, its worst): a storage iteration each, which `benchmark pallet` does
			// not count as a read, and which its batches (every position in one bucket) make
			// once.
			.saturating_add(T::DbWeight::get().reads(u64::from(looks)))
			.saturating_add(Self::extra_plans_weight(extra_plans))
			.saturating_add(T::Lending::health_weight().saturating_mul(u64::from(unplanned)))
	}

	/// `settle_batch` with the borrowers' index filing deferred to the end (each settled
	/// borrower filed once, each key's top lowered once: [`Self::file_all`]).
	pub(crate) fn settle_batch_filed(
		caller: &T::AccountId,
		borrowers: &[T::AccountId],
		witness: BatchWitness,
	) -> Result<BatchReport<T::AccountId>, DispatchError> {
		Deferred::<T>::put(true);
		let result = Self::do_settle_batch(caller, borrowers, witness);
		Deferred::<T>::kill();
		let mut report = result?;
		report.looks = Self::file_all(&report.settled);
		Ok(report)
	}

	pub(crate) fn do_settle_batch(
		caller: &T::AccountId,
		borrowers: &[T::AccountId],
		witness: BatchWitness,
	) -> Result<BatchReport<T::AccountId>, DispatchError> {
		ensure!(!borrowers.is_empty(), Error::<T>::EmptyBatch);
		ensure!(!borrowers.contains(caller), Error::<T>::SelfLiquidation);
		let mut sorted: Vec<&T::AccountId> = borrowers.iter().collect();
		sorted.sort();
		ensure!(
			sorted.iter().zip(sorted.iter().skip(1)).all(|(a, b)| a != b),
			Error::<T>::DuplicateBorrower
		);

		let mut report = BatchReport::default();
		let mut groups = Self::plan_batch(borrowers, witness, &mut report);
		// Pairs riskiest first, by their riskiest position (stable: ties keep their order): a
		// throttled collateral's queue then finds its riskiest members sold first, whichever
		// pair they are in (found by review: a pair given first waited behind a queued member
		// of a later pair and lost its share of the cap).
		groups.sort_by_key(|(_, members)| members.iter().map(|m| m.plan.health.factor).min());
		let outs = Self::over_breaker_caps(&groups)?;
		// Each collateral's members the batch may sell (all but those over their bound),
		// whichever pair they are in: the sale queue passes over all of them (found by the
		// third review: sorted pairs still waited behind a later pair's queued member when
		// they sold a less risky one too).
		let in_lots: Vec<(T::AssetId, T::AccountId)> = groups
			.iter()
			.zip(outs.iter())
			.flat_map(|(((collateral, _), members), (out, _))| {
				members
					.iter()
					.zip(out.iter())
					.filter(|(_, o)| !Self::over_its_bound(o))
					.map(move |(m, _)| (*collateral, m.borrower.clone()))
			})
			.collect();
		let mut bids_left = witness.bids;
		for (((collateral, debt), members), (out, quoted)) in groups.into_iter().zip(outs) {
			let lots: Vec<T::AccountId> = in_lots
				.iter()
				.filter(|(c, _)| *c == collateral)
				.map(|(_, who)| who.clone())
				.collect();
			if Self::treasury_full(&collateral) {
				report.token_rests = report.token_rests.saturating_add(1);
			}
			// What the DEX would do with the pair's lot; standing bids first when they pay
			// more for it, or settle what the DEX would not (#28).
			let verdict = Self::dex_verdict(
				(collateral, debt),
				&members,
				(out, quoted, &lots),
				&mut report.queue,
			)?;
			let members = match Self::sell_pair_to_bids(
				caller,
				(collateral, debt),
				members,
				&verdict,
				(&mut report, &mut bids_left),
			)? {
				Ok(outcomes) => {
					report.settled.extend(outcomes);
					continue;
				},
				Err(members) => members,
			};
			for (who, outcome) in Self::sell_pair(caller, (collateral, debt), members, verdict)? {
				match outcome {
					Ok(()) => report.settled.push(who),
					Err(why) => Self::skip(&mut report, &who, why),
				}
			}
		}
		Ok(report)
	}

	/// `who` skipped for `why`: reported and its `SettlementSkipped`.
	pub(crate) fn skip(report: &mut BatchReport<T::AccountId>, who: &T::AccountId, why: Skipped) {
		Self::deposit_event(Event::SettlementSkipped { borrower: who.clone(), reason: why });
		report.skipped.push((who.clone(), why));
	}

	/// Plans each of `borrowers` (skipping, with `SettlementSkipped`, what has no plan or is
	/// beyond `witness`) and groups the plans by pair, pairs in the order they first appear
	/// (the batch's outcome depends only on its input). Every position is planned before
	/// anything is sold, on markets and prices read once ([`crate::plan::Planning`]).
	///
	/// A pair takes one of the witness's `pairs` when a position of it is first planned, sold
	/// or not (one asset netted too): a narrow position's pair is known before its plan, so one
	/// beyond the witness is passed over unplanned, and the markets and prices its narrow
	/// positions read are those of its pairs
	/// (each pair's weight measures its two markets read: found by review, a batch of
	/// positions each healthy in markets of its own read them all at a position's cached rate).
	fn plan_batch(
		borrowers: &[T::AccountId],
		witness: BatchWitness,
		report: &mut BatchReport<T::AccountId>,
	) -> Vec<Group<T>> {
		let max_pairs = usize::try_from(witness.pairs.min(T::MaxBatchPairs::get())).unwrap_or(0);
		let mut wide_left = witness.wide;
		let skip = Self::skip;
		let mut groups: Vec<Group<T>> = Vec::new();
		// The pairs planned: those of `groups`, and those whose positions all failed.
		let mut pairs: Vec<(T::AssetId, T::AssetId)> = Vec::new();
		let mut planning = crate::plan::Planning::default();
		for borrower in borrowers {
			let assets = T::Lending::account_assets(borrower);
			let mut collaterals =
				assets.supplies.iter().filter(|(_, collateral)| *collateral).map(|(a, _)| *a);
			let (first, more) = (collaterals.next(), collaterals.next().is_some());
			let why = match (assets.debts.first(), first) {
				(None, _) => Some(Skipped::Healthy),
				(_, None) => Some(Skipped::NoPlan(Error::<T>::NoCollateral.into())),
				(Some(debt), Some(collateral)) if !more && assets.debts.len() == 1 => {
					// Narrow: its pair is `(collateral, debt)` (or one asset, netted).
					let pair = (collateral, *debt);
					// (One asset, netted, takes one too: its market and price are read.)
					let new = !pairs.contains(&pair);
					if new && pairs.len() >= max_pairs {
						Some(Skipped::OverWitness)
					} else {
						if new {
							pairs.push(pair);
						}
						None
					}
				},
				_ if wide_left.is_zero() => Some(Skipped::OverWitness),
				_ => None,
			};
			if let Some(why) = why {
				report.unplanned = report.unplanned.saturating_add(1);
				skip(report, borrower, why);
				continue;
			}
			if more || assets.debts.len() > 1 {
				wide_left = wide_left.saturating_sub(1);
				report.wide = report.wide.saturating_add(1);
			} else {
				report.narrow = report.narrow.saturating_add(1);
			}
			let (plan, tries, _) = Self::settle_plan_from(&mut planning, borrower, &assets);
			report.extra_plans = report.extra_plans.saturating_add(tries.saturating_sub(1));
			let plan = match plan {
				Ok(plan) => plan,
				Err(e) if e == Error::<T>::NotLiquidatable.into() => {
					skip(report, borrower, Skipped::Healthy);
					continue;
				},
				Err(e) => {
					skip(report, borrower, Skipped::NoPlan(e));
					continue;
				},
			};
			if plan.collateral_asset == plan.debt_asset {
				// Nothing to sell: `settle` nets it from the borrower's own supply.
				skip(report, borrower, Skipped::NoPlan(Error::<T>::SameAsset.into()));
				continue;
			}
			let pair = (plan.collateral_asset, plan.debt_asset);
			let member = Member { borrower: borrower.clone(), plan };
			if let Some((_, members)) = groups.iter_mut().find(|(p, _)| *p == pair) {
				members.push(member);
				continue;
			}
			// A narrow position's pair was taken above; a wide one's takes one now.
			if !pairs.contains(&pair) {
				if pairs.len() >= max_pairs {
					skip(report, borrower, Skipped::OverWitness);
					continue;
				}
				pairs.push(pair);
			}
			groups.push((pair, vec![member]));
		}
		report.pairs = u32::try_from(pairs.len()).unwrap_or(u32::MAX);
		groups
	}

	/// The DEX's verdict on the lot of `members` (all of one pair), made without selling: the
	/// members it leaves out (`out`: those a throttled collateral's first quote left out
	/// already, `quoted`, [`Self::over_breaker_caps`]; `lots`: the batch's members of the
	/// collateral it may sell, which the sale queue passes over; then those over their own
	/// bound, and the least risky of a lot over the block's caps, [`Self::trim_to_cap`]),
	/// and the sale of the rest, or why it would not sell them (the one write: a throttled
	/// collateral's queue entries no longer liquidatable leave it, as any look at the queue
	/// drops them). The one decision both the DEX's sale ([`Self::sell_pair`]) and the bids'
	/// route ([`Self::sell_pair_to_bids`]) read, as `settle` reads `dex_sale`'s quote.
	pub(crate) fn dex_verdict(
		(collateral, debt): (T::AssetId, T::AssetId),
		members: &[Member<T>],
		(mut out, quoted, lots): (Vec<Option<Skipped>>, bool, &[T::AccountId]),
		look: &mut crate::dex::QueueLook,
	) -> Result<PairVerdict<T::AccountId>, DispatchError> {
		out.resize(members.len(), None);
		let refused = |out, why| Ok(PairVerdict { out, sale: Err(Skipped::Dex(why)) });
		let cap = match Self::pair_gate(&collateral) {
			Ok(cap) => cap,
			Err(refusal) => return refused(out, refusal),
		};
		let params = Params::<T>::get();
		// Quote the pair's total; positions whose share exceeds their own bound leave the sale,
		// and so do the least risky positions of a lot worth more than the block's caps have
		// left ([`Self::trim_to_cap`]); the rest is quoted again, once: a lot still over a
		// bound or a cap then is not sold (bounded work: two quotes a pair, as the benchmarks
		// assume at most).
		// (A throttled collateral's lot was quoted once already: [`Self::over_breaker_caps`].)
		let mut rounds = u32::from(quoted);
		let mut trimmed =
			out.iter().any(|o| matches!(o, Some(Skipped::Dex(DexRefusal::Throttled { .. }))));
		let (kept, total, input, exact, charged, value, depth) = loop {
			let kept: Vec<usize> =
				(0..members.len()).filter(|i| out.get(*i) == Some(&None)).collect();
			if kept.is_empty() {
				return refused(out, DexRefusal::NoPool);
			}
			rounds = rounds.saturating_add(1);
			let repays: Vec<u128> =
				kept.iter().filter_map(|i| members.get(*i).map(|m| m.plan.repay)).collect();
			let Some((total, input, exact, charged)) =
				Self::quote_lot((collateral, debt), &repays)?
			else {
				return refused(out, DexRefusal::NoPool);
			};
			let dropped = Self::drop_over_bounds(members, (&kept, &charged), &mut out, &params);
			// The lot's value at the oracle, and what the breaker's cap and the pool's depth
			// cap leave of this block's sales (the depth cap's room does not depend on the
			// lot; whether it binds does: a smaller lot is checked again).
			let first = kept.first().and_then(|i| members.get(*i)).map(|m| m.plan);
			let prices = first.map(|p| (p.collateral_price, p.debt_price)).unwrap_or_default();
			let value = Self::sale_value(input, prices.0);
			let depth = Self::depth_left((collateral, debt), (input, total), prices, &params);
			let limit = crate::dex::tighter(cap, depth);
			// With members dropped, what the rest would sell: their shares' value (a smaller
			// lot's quote is no more), not the whole quote's.
			let selling =
				if dropped { Self::shares_value((&kept, &charged), &out, prices.0) } else { value };
			let over = limit.filter(|left| selling > *left);
			if !dropped && over.is_none() {
				break (kept, total, input, exact, charged, value, depth);
			}
			if rounds >= MAX_QUOTES {
				return match over {
					Some(left) if !dropped => refused(out, DexRefusal::Throttled { value, left }),
					_ => refused(out, DexRefusal::SlippageExceeded { quote: input, max: input }),
				};
			}
			if let Some(left) = over {
				let before = out.clone();
				let shares = (&kept[..], &charged[..], prices.0);
				let (marked, any_left) =
					Self::trim_to_cap(members, shares, &mut out, (selling, left));
				if !any_left {
					return refused(before, DexRefusal::Throttled { value: selling, left });
				}
				trimmed |= marked;
			}
		};
		let sold: Vec<&Member<T>> = kept.iter().filter_map(|i| members.get(*i)).collect();
		let lot = Self::lot(sold.iter().copied(), (&exact, &charged), true)?;
		// The cash the lot pays out: its input, and the treasury's shares when they are paid
		// in tokens ([`Self::settle_lot`]; found by review: a pair refused at the swap).
		let needed = input.saturating_add(Self::rests_in_tokens(&collateral, &lot));
		let available = T::Lending::available_cash(&collateral);
		if needed > available {
			return refused(out, DexRefusal::NoCash { needed, available });
		}
		// A throttled collateral: no liquidatable queue entry riskier than a member waiting
		// (queued positions go first, one by one through `settle`, or in the lot when they
		// are members). The lot is within the block's caps (above).
		// (The queue is the breaker's: only its cap waits behind it, not the pool's depth cap.)
		// The sellers passed over in the queue are the lot's members sold and those left out
		// for the caps (less risky now than the sold: an entry keeps the health it was queued
		// at), and the batch's other members of the collateral (`lots`, sold in their pairs'
		// turns): one of them does not hold back the lot (found by review). One over its bound
		// still does: a keeper could pad a lot to push a queued position over its bound and
		// sell the others ahead of it (second review).
		let queued = cap.is_some() && {
			let mut sellers: Vec<T::AccountId> = members
				.iter()
				.zip(out.iter())
				.filter(|(_, o)| !Self::over_its_bound(o))
				.map(|(m, _)| m.borrower.clone())
				.collect();
			for who in lots {
				if !sellers.contains(who) {
					sellers.push(who.clone());
				}
			}
			let health = sold.iter().map(|m| m.plan.health.factor).max().unwrap_or_default();
			Self::waits_in_queue(&collateral, (&sellers, health), look)
		};
		if queued {
			return refused(out, DexRefusal::Throttled { value, left: 0 });
		}
		let depth_capped = depth.is_some();
		let sale = PairSale { total, input, exact, charged, lot, value, depth_capped, trimmed };
		Ok(PairVerdict { out, sale: Ok(sale) })
	}

	/// Whether a member's verdict `out` left it out for its share being over its own bound.
	fn over_its_bound(out: &Option<Skipped>) -> bool {
		matches!(out, Some(Skipped::Dex(DexRefusal::SlippageExceeded { .. })))
	}

	/// Leaves out of a lot that would sell `value` at the oracle, more than the `left` of this
	/// block's caps, its least risky positions, as `Throttled { value, left }`: of the lot's
	/// members still in (`kept`, with their `charged` shares of its quote, the collateral at
	/// `price`), the riskiest that fit ([`math::riskiest_within`]), and from the first that
	/// does not, the rest. What stays is quoted again for less: a pool's price per unit is no
	/// worse for a smaller sale, so its new input is at most their shares' sum (checked against
	/// the caps again, with the bounds). Returns whether any position was left out, and
	/// whether any stays in.
	fn trim_to_cap(
		members: &[Member<T>],
		(kept, charged, price): (&[usize], &[u128], FixedU128),
		out: &mut [Option<Skipped>],
		(value, left): (u128, u128),
	) -> (bool, bool) {
		let mut items: Vec<(FixedU128, usize, u128)> = kept
			.iter()
			.zip(charged)
			.filter(|(i, _)| out.get(**i) == Some(&None))
			.filter_map(|(i, c)| {
				members.get(*i).map(|m| (m.plan.health.factor, *i, Self::sale_value(*c, price)))
			})
			.collect();
		let fit = math::riskiest_within(&mut items, left);
		for (_, i, _) in items.iter().skip(fit) {
			if let Some(slot) = out.get_mut(*i) {
				*slot = Some(Skipped::Dex(DexRefusal::Throttled { value, left }));
			}
		}
		(items.len() > fit, fit > 0)
	}

	/// The breaker's cap on a collateral's sales in this block is shared by all the batch's
	/// pairs of that collateral, sold one after the other: it is allotted across them before
	/// any is sold. Each such pair's lot is quoted (its first quote, [`Self::dex_verdict`]
	/// makes at most one more), its members over their bound leave it, it is trimmed to its
	/// pool's depth cap riskiest first, and of the rest of all the collateral's pairs the
	/// riskiest that fit in what the cap has left stay
	/// ([`math::riskiest_within`], each at its share's value; a smaller lot's quote is no
	/// more); the others are left out, `Throttled`. Returns, per pair (in order), each
	/// member's verdict so far and whether the pair was quoted. So no pair's less risky
	/// positions take the cap ahead of another's riskier ones (found by review: trimmed pair by
	/// pair, a pair given first could). A collateral halted, or not throttled, is not looked at
	/// here.
	#[allow(clippy::type_complexity)]
	fn over_breaker_caps(
		groups: &[Group<T>],
	) -> Result<Vec<(Vec<Option<Skipped>>, bool)>, DispatchError> {
		let mut outs: Vec<(Vec<Option<Skipped>>, bool)> =
			groups.iter().map(|(_, members)| (vec![None; members.len()], false)).collect();
		let params = Params::<T>::get();
		let mut seen: Vec<T::AssetId> = Vec::new();
		for ((collateral, _), _) in groups {
			if seen.contains(collateral) {
				continue;
			}
			seen.push(*collateral);
			let Ok(Some(left)) = Self::pair_gate(collateral) else { continue };
			let mut items: Vec<(FixedU128, (usize, usize), u128)> = Vec::new();
			for (g, ((c, debt), members)) in groups.iter().enumerate() {
				let Some((out, quoted)) = outs.get_mut(g).filter(|_| c == collateral) else {
					continue;
				};
				// No pool: the verdict says so.
				let all: Vec<usize> = (0..members.len()).collect();
				let repays: Vec<u128> = members.iter().map(|m| m.plan.repay).collect();
				let Some((total, input, _, charged)) =
					Self::quote_lot((*collateral, *debt), &repays)?
				else {
					continue;
				};
				*quoted = true;
				Self::drop_over_bounds(members, (&all, &charged), out, &params);
				// The pair's pool's depth cap, its own: the lot trimmed to it first, riskiest
				// first (its room does not depend on the lot; whether it binds does, and a
				// smaller lot binds no more).
				let prices = members
					.first()
					.map(|m| (m.plan.collateral_price, m.plan.debt_price))
					.unwrap_or_default();
				let room = Self::depth_left((*collateral, *debt), (input, total), prices, &params);
				let selling = Self::shares_value((&all, &charged), out, prices.0);
				if let Some(left) = room.filter(|left| selling > *left) {
					Self::trim_to_cap(members, (&all, &charged, prices.0), out, (selling, left));
				}
				for (i, (member, charge)) in members.iter().zip(&charged).enumerate() {
					if out.get(i) == Some(&None) {
						let value = Self::sale_value(*charge, prices.0);
						items.push((member.plan.health.factor, (g, i), value));
					}
				}
			}
			let value = items.iter().fold(0u128, |sum, (_, _, v)| sum.saturating_add(*v));
			if value <= left {
				continue;
			}
			let fit = math::riskiest_within(&mut items, left);
			for (_, (g, i), _) in items.iter().skip(fit) {
				if let Some(slot) = outs.get_mut(*g).and_then(|(out, _)| out.get_mut(*i)) {
					*slot = Some(Skipped::Dex(DexRefusal::Throttled { value, left }));
				}
			}
		}
		Ok(outs)
	}

	/// The DEX's quote for a lot repaying `repays` of `pair` now: their sum, the collateral it
	/// takes, and each part's exact and charged share of it ([`math::pro_rata`]); `None` when
	/// the DEX gives no quote.
	#[allow(clippy::type_complexity)]
	fn quote_lot(
		(collateral, debt): (T::AssetId, T::AssetId),
		repays: &[u128],
	) -> Result<Option<(u128, u128, Vec<u128>, Vec<u128>)>, DispatchError> {
		let total = repays
			.iter()
			.try_fold(0u128, |sum, r| sum.checked_add(*r))
			.ok_or_else(overflow::<T>)?;
		let Some(input) = T::Dex::quote_price_tokens_for_exact_tokens(
			Self::dex_asset(collateral),
			Self::dex_asset(debt),
			total,
			true,
		) else {
			return Ok(None);
		};
		let (exact, charged) = math::pro_rata(input, repays).ok_or_else(overflow::<T>)?;
		Ok(Some((total, input, exact, charged)))
	}

	/// Leaves out (`out`, `SlippageExceeded`) those of `kept` (members' places, with their
	/// `charged` shares of a quote) whose share is over their own bound ([`Self::dex_bound`]).
	/// Returns whether any was.
	fn drop_over_bounds(
		members: &[Member<T>],
		(kept, charged): (&[usize], &[u128]),
		out: &mut [Option<Skipped>],
		params: &LiquidationParams,
	) -> bool {
		let mut dropped = false;
		for (i, charge) in kept.iter().zip(charged.iter()) {
			let (Some(member), Some(slot)) = (members.get(*i), out.get_mut(*i)) else {
				continue;
			};
			let max = Self::dex_bound(&member.plan, params);
			if *charge > max {
				*slot = Some(Skipped::Dex(DexRefusal::SlippageExceeded { quote: *charge, max }));
				dropped = true;
			}
		}
		dropped
	}

	/// The value at the oracle (`price`) of the `charged` shares of those of `kept` still in
	/// (`out`): what they would sell, a smaller lot's quote being no more.
	fn shares_value(
		(kept, charged): (&[usize], &[u128]),
		out: &[Option<Skipped>],
		price: FixedU128,
	) -> u128 {
		kept.iter()
			.zip(charged.iter())
			.filter(|(i, _)| out.get(**i) == Some(&None))
			.fold(0u128, |sum, (_, c)| sum.saturating_add(Self::sale_value(*c, price)))
	}

	/// Sells the seized collateral of `members` (all of one pair) in one DEX swap as
	/// `verdict` (theirs, [`Self::dex_verdict`]) says and settles each; returns each member's
	/// outcome (an error only for an arithmetic overflow, which fails the call).
	#[allow(clippy::type_complexity)]
	fn sell_pair(
		caller: &T::AccountId,
		(collateral, debt): (T::AssetId, T::AssetId),
		members: Vec<Member<T>>,
		verdict: PairVerdict<T::AccountId>,
	) -> Result<Vec<(T::AccountId, Result<(), Skipped>)>, DispatchError> {
		let mut outcomes = Vec::new();
		let mut sold_members = Vec::new();
		for (member, out) in members.into_iter().zip(verdict.out) {
			match (out, &verdict.sale) {
				(Some(why), _) => outcomes.push((member.borrower, Err(why))),
				(None, Err(why)) => outcomes.push((member.borrower, Err(*why))),
				(None, Ok(_)) => sold_members.push(member),
			}
		}
		let Ok(sale) = verdict.sale else { return Ok(outcomes) };
		let members = sold_members;
		let (total, input) = (sale.total, sale.input);
		let swap = Self::swap_pair(caller, (collateral, debt), &members, &sale.lot, (total, input));
		let (sold, seized) = match swap {
			Ok(done) => done,
			Err(e) => {
				log::debug!(target: "runtime::liquidation", "batch sale failed: {e:?}");
				let why = Skipped::Dex(DexRefusal::SwapFailed);
				outcomes.extend(members.into_iter().map(|m| (m.borrower, Err(why))));
				return Ok(outcomes);
			},
		};
		T::Breaker::note_sale(&collateral, sale.value);
		if sale.depth_capped {
			Self::note_pool_sale((collateral, debt), sold);
		}
		let settled = Self::settle_members(
			caller,
			(collateral, debt),
			members,
			(&sale.exact, &sale.charged),
			(total, sold),
			(Route::Dex, &seized),
		)?;
		outcomes.extend(settled.into_iter().map(|who| (who, Ok(()))));
		Ok(outcomes)
	}

	/// The seizures of a pair's lot: each member's `exact` share of the sale (paid out for it
	/// when `sold`; else the buyers took it already) and the rest of its collateral due split
	/// as `settle` splits it after the charge, rounded up (`charged`): the caller's tip, and the
	/// treasury's share of the penalty plus the rounding.
	pub(crate) fn lot<'a>(
		members: impl IntoIterator<Item = &'a Member<T>>,
		(exact, charged): (&[u128], &[u128]),
		sold: bool,
	) -> Result<Vec<LotSeizure<T::AccountId>>, DispatchError>
	where
		T: 'a,
	{
		let params = Params::<T>::get();
		members
			.into_iter()
			.zip(exact.iter().zip(charged))
			.map(|(member, (share, charge))| {
				let (to_insurance, tip) = Self::split_penalty(&member.plan, *charge, &params);
				let rounding = charge.checked_sub(*share).ok_or_else(overflow::<T>)?;
				Ok(LotSeizure {
					who: member.borrower.clone(),
					sold: if sold { *share } else { 0 },
					tip,
					rest: to_insurance.checked_add(rounding).ok_or_else(overflow::<T>)?,
				})
			})
			.collect()
	}

	/// Seizes `lot` of `collateral` and repays each of `members`' debt in one pass of the
	/// lending pallet (`settle_lot`: each record read and written once): the sale's pieces
	/// paid out to the working account, tips to `caller` (who gets none when it cannot hold
	/// the supply), the rest to the insurance treasury (as tokens when it holds supply in as
	/// many markets as it may: [`Self::treasury_full`]); `sell` runs between, and the working
	/// account then repays. Returns each `(tip, rest)` taken, and what `sell` returned.
	#[allow(clippy::type_complexity)]
	pub(crate) fn settle_lot<R>(
		caller: &T::AccountId,
		(collateral, debt): (T::AssetId, T::AssetId),
		members: &[Member<T>],
		lot: &[LotSeizure<T::AccountId>],
		sell: impl FnOnce() -> Result<R, DispatchError>,
	) -> Result<(Vec<(u128, u128)>, R), DispatchError> {
		let account = Self::account_id();
		let treasury = Self::insurance_account();
		let paid =
			if Self::treasury_full(&collateral) { RestPaid::Tokens } else { RestPaid::Supply };
		let kept: Vec<LotSeizure<T::AccountId>>;
		let lot = if Self::rests_kept(&collateral, lot) {
			kept = lot.iter().map(|part| LotSeizure { rest: 0, ..part.clone() }).collect();
			&kept[..]
		} else {
			lot
		};
		let repays: Vec<u128> = members.iter().map(|m| m.plan.repay).collect();
		T::Lending::settle_lot(
			(&collateral, &debt),
			(lot, &repays),
			(&account, &account),
			(caller, &treasury),
			paid,
			sell,
		)
	}

	/// Whether the treasury's rests of `lot` (of `collateral`) are left with the borrowers: in
	/// tokens the treasury cannot receive ([`Self::treasury_cannot_take`]: below the minimum
	/// balance). Then the pair still sells (found in session 28: such a payout failed the
	/// pair's whole sale, so a full treasury sent every batch of a collateral it did not hold
	/// to single settlements). Each part may pay up to 2 units less than planned (the sale's
	/// and the tip's shares rounded up against it): a sum within that of the minimum is kept
	/// too. Any other refusal of the deposit still fails the sale.
	fn rests_kept(collateral: &T::AssetId, lot: &[LotSeizure<T::AccountId>]) -> bool {
		let rest = lot.iter().fold(0u128, |sum, part| sum.saturating_add(part.rest));
		let slack = u128::try_from(lot.len()).unwrap_or(u128::MAX).saturating_mul(2);
		!rest.is_zero() && Self::treasury_cannot_take(collateral, rest.saturating_sub(slack))
	}

	/// The cash of `collateral`'s market the treasury's rests of `lot` take
	/// ([`Self::settle_lot`]): their sum when they are paid in tokens (the treasury full,
	/// [`Self::treasury_full`]) and not left with the borrowers ([`Self::rests_kept`]); else
	/// none. The one rule the DEX's verdict and the bids' route check the market's cash by
	/// (found by review, session 32: counted whenever the treasury was full, rests below its
	/// minimum balance kept a lot from the bids that needed no cash).
	pub(crate) fn rests_in_tokens(
		collateral: &T::AssetId,
		lot: &[LotSeizure<T::AccountId>],
	) -> u128 {
		if !Self::treasury_full(collateral) || Self::rests_kept(collateral, lot) {
			return 0;
		}
		lot.iter().fold(0u128, |sum, part| sum.saturating_add(part.rest))
	}

	/// The settlement of each of `members` after their pair's lot was sold (`total` repaid,
	/// `sold` collateral; each position's `exact` share of it, `charged` rounded up) and the
	/// rest of it seized (`seized`: each `(tip, to the treasury)`, [`Self::settle_lot`]):
	/// `Settled` by `route` for each, `BatchSold` for the pair, the members out of the sale
	/// queue. Returns the borrowers settled.
	pub(crate) fn settle_members(
		caller: &T::AccountId,
		(collateral, debt): (T::AssetId, T::AssetId),
		members: Vec<Member<T>>,
		(exact, charged): (&[u128], &[u128]),
		(total, sold): (u128, u128),
		(route, seized): (Route, &[(u128, u128)]),
	) -> Result<Vec<T::AccountId>, DispatchError> {
		let positions = u32::try_from(members.len()).unwrap_or(u32::MAX);
		let mut remainder = 0u128;
		let mut settled = Vec::with_capacity(members.len());
		let pieces = exact.iter().zip(charged).zip(seized);
		for (member, ((share, charge), (tip, to_insurance))) in members.into_iter().zip(pieces) {
			let (share, tip, to_insurance) = (*share, *tip, *to_insurance);
			let plan = member.plan;
			let borrower = member.borrower;
			remainder = remainder.saturating_add(charge.saturating_sub(share));
			let returned = plan
				.collateral
				.checked_sub(share)
				.and_then(|r| r.checked_sub(to_insurance))
				.and_then(|r| r.checked_sub(tip))
				.ok_or_else(overflow::<T>)?;
			Self::deposit_event(Event::Settled {
				borrower: borrower.clone(),
				caller: caller.clone(),
				debt_asset: debt,
				collateral_asset: collateral,
				route,
				repaid: plan.repay,
				collateral_due: plan.collateral,
				sold: share,
				to_insurance,
				tip,
				returned,
				discount: plan.discount,
				health: plan.health.factor,
			});
			settled.push(borrower);
		}
		Self::dequeue_all(collateral, &settled);
		Self::deposit_event(Event::BatchSold {
			collateral_asset: collateral,
			debt_asset: debt,
			positions,
			repaid: total,
			sold,
			remainder,
		});
		Ok(settled)
	}

	/// The pair's sale, all or nothing: seizes the lot (each position's exact share paid out
	/// to the working account with its tip and the treasury's share), buys exactly `total` of
	/// the debt with the shares' sum (`input`) and repays each position, in one pass of the
	/// lending pallet ([`Self::settle_lot`]). Returns what the DEX took and each position's
	/// `(tip, to the treasury)`. The working account ends with no tokens and no position.
	#[allow(clippy::type_complexity)]
	fn swap_pair(
		caller: &T::AccountId,
		(collateral, debt): (T::AssetId, T::AssetId),
		members: &[Member<T>],
		lot: &[LotSeizure<T::AccountId>],
		(total, input): (u128, u128),
	) -> Result<(u128, Vec<(u128, u128)>), DispatchError> {
		with_storage_layer(|| {
			let account = Self::account_id();
			let paid = lot
				.iter()
				.try_fold(0u128, |sum, part| sum.checked_add(part.sold))
				.ok_or_else(overflow::<T>)?;
			ensure!(paid == input, Error::<T>::Overflow);
			// Each borrower's record read and written once: seized, then (after the sale)
			// repaid.
			let (seized, sold) =
				Self::settle_lot(caller, (collateral, debt), members, lot, || {
					let sold = T::Dex::swap_tokens_for_exact_tokens(
						account.clone(),
						vec![Self::dex_asset(collateral), Self::dex_asset(debt)],
						total,
						Some(input),
						account.clone(),
						false,
					)?;
					// The quote is exact for this state: anything else is refused (an unspent rest
					// below the minimum balance would be lost).
					ensure!(sold == input, Error::<T>::Overflow);
					Ok(sold)
				})?;
			Ok((sold, seized))
		})
	}

	/// Whether `settle_batch_unsigned(borrowers, witness)` would settle every position now: a
	/// dry run of the batch itself, rolled back. What the worker and the transaction validity
	/// both use; returns the dry run's report.
	pub fn try_settle_batch(
		borrowers: &[T::AccountId],
		witness: BatchWitness,
	) -> Result<BatchReport<T::AccountId>, DispatchError> {
		frame_support::storage::with_transaction(|| {
			let result = Self::settle_batch_filed(&Self::insurance_account(), borrowers, witness);
			frame_support::storage::TransactionOutcome::Rollback(result)
		})
	}
}
