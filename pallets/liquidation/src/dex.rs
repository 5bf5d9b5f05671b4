//! The DEX route: a seizure sold through the chain's DEX within the oracle bound, the breaker's
//! gates and sale queue, and how the discount is split between tip, treasury and borrower.

use crate::{
	math,
	pallet::*,
	plan::{value_of, Plan},
	types::*,
};
use alloc::{collections::VecDeque, vec, vec::Vec};
use frame_support::{
	ensure,
	pallet_prelude::{DispatchError, DispatchResult, Weight},
	storage::with_storage_layer,
	traits::{
		fungibles::{Inspect, Mutate},
		tokens::Preservation,
		Get,
	},
	BoundedVec,
};
use pallet_asset_conversion::{QuotePrice, Swap};
use pallet_lending::{Amount, LendingPositions};
use sp_arithmetic::{
	helpers_128bit::multiply_by_rational_with_rounding, traits::Zero, FixedPointNumber, FixedU128,
	PerThing, Permill, Rounding,
};

/// How many sale-queue entries ahead of it a sale (one `settle`, or all the pairs of one
/// batch) checks at most: each check is a measured health check
/// ([`Pallet::queue_checks_weight`]); past them, the sale waits.
pub const QUEUE_CHECKS: u32 = 2;

/// What the sales of one call found in the queues ahead of them ([`Pallet::waits_in_queue`]).
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct QueueLook {
	/// Entries checked (at most [`QUEUE_CHECKS`]).
	pub checked: u32,
	/// Of them, those no longer liquidatable, which left the queue.
	pub dropped: u32,
}

/// The tighter of two caps on a block's sales (`None`: no cap).
pub(crate) fn tighter(a: Option<u128>, b: Option<u128>) -> Option<u128> {
	match (a, b) {
		(Some(a), Some(b)) => Some(a.min(b)),
		(a, None) => a,
		(None, b) => b,
	}
}

/// A DEX sale worked out but not made.
pub(crate) struct DexQuote {
	pub(crate) input: u128,
	pub(crate) to_insurance: u128,
	pub(crate) tip: u128,
	/// The input's value at the oracle (rounded up): what the breaker's cap counts.
	pub(crate) value: u128,
	/// Whether the pool's depth cap counts the sale ([`Pallet::depth_left`]).
	pub(crate) depth_capped: bool,
}

impl<T: Config> Pallet<T> {
	/// Works out a DEX sale of `borrower`'s `plan` without making it: within the oracle bound,
	/// the market's cash and the circuit breaker's gate (`look`: the queue entries checked,
	/// [`Self::waits_in_queue`]).
	fn quote_dex(
		borrower: &T::AccountId,
		plan: &Plan<T::AssetId>,
		look: &mut QueueLook,
	) -> Result<DexQuote, DexRefusal> {
		// A halted collateral first: the refusal names the breaker's reason, not what a halted
		// pool also fails (a pool halted for sitting below the oracle is beyond the bound too).
		let cap = Self::pair_gate(&plan.collateral_asset)?;
		let params = Params::<T>::get();
		let input = T::Dex::quote_price_tokens_for_exact_tokens(
			Self::dex_asset(plan.collateral_asset),
			Self::dex_asset(plan.debt_asset),
			plan.repay,
			true,
		)
		.ok_or(DexRefusal::NoPool)?;
		let max = Self::dex_bound(plan, &params);
		if input > max {
			return Err(DexRefusal::SlippageExceeded { quote: input, max });
		}
		let (to_insurance, tip) = Self::split_penalty(plan, input, &params);
		let available = T::Lending::available_cash(&plan.collateral_asset);
		if input > available {
			return Err(DexRefusal::NoCash { needed: input, available });
		}
		let value = Self::sale_value(input, plan.collateral_price);
		let depth = Self::depth_left(
			(plan.collateral_asset, plan.debt_asset),
			(input, plan.repay),
			(plan.collateral_price, plan.debt_price),
			&params,
		);
		Self::breaker_gate(borrower, plan, value, cap, look)?;
		// The pool's depth cap: within what is left of the pool's room (no queue order: the
		// sale queue is the breaker's, per collateral, and a pool's room says nothing of the
		// collateral's other pools).
		// (Past the breaker's gate the sale is within its cap, so what is left is the pool's.)
		if let Some(left) = depth {
			if value > left {
				return Err(DexRefusal::Throttled { value, left });
			}
		}
		Ok(DexQuote { input, to_insurance, tip, value, depth_capped: depth.is_some() })
	}

	/// The pool's depth cap on selling `input` collateral for `output` debt (`pair`, priced
	/// at `prices`) now: `None` when it does not bind (the pool would not sit below the
	/// oracle after the sale, or has no reserves), else the collateral value (at the oracle,
	/// rounded down) the protocol may still sell into the pool in this block:
	/// `pool_block_share` of the pool's collateral reserve before the block's capped sales,
	/// less those sales. Others' trades in between move the reserve (an arbitrageur who buys
	/// back shrinks what is left; one who sells more makes the next sale fail the slippage
	/// bound instead).
	pub(crate) fn depth_left(
		pair: (T::AssetId, T::AssetId),
		(input, output): (u128, u128),
		(collateral_price, debt_price): (FixedU128, FixedU128),
		params: &LiquidationParams,
	) -> Option<u128> {
		let (reserve_in, reserve_out) =
			T::DexReserves::reserves(&Self::dex_asset(pair.0), &Self::dex_asset(pair.1))?;
		// The pool after the sale, valued at the oracle: the debt side worth less than the
		// collateral side is a pool priced below the oracle.
		let collateral_side = value_of(reserve_in.saturating_add(input), collateral_price);
		let debt_side = value_of(reserve_out.saturating_sub(output), debt_price);
		if debt_side >= collateral_side {
			return None;
		}
		let room = Self::depth_room(pair, reserve_in, params);
		Some(
			multiply_by_rational_with_rounding(
				room,
				collateral_price.into_inner(),
				FixedU128::DIV,
				Rounding::Down,
			)
			.unwrap_or(0),
		)
	}

	/// The collateral the depth cap lets the protocol still sell into `pair`'s pool (whose
	/// collateral reserve is `reserve_in`) in this block: `pool_block_share` of the reserve
	/// before the block's capped sales, less those sales.
	pub(crate) fn depth_room(
		pair: (T::AssetId, T::AssetId),
		reserve_in: u128,
		params: &LiquidationParams,
	) -> u128 {
		let sold = Self::pool_sold(pair);
		params.pool_block_share.mul_floor(reserve_in.saturating_sub(sold)).saturating_sub(sold)
	}

	/// The collateral sold under the depth cap into `pair`'s pool in this block.
	pub(crate) fn pool_sold(pair: (T::AssetId, T::AssetId)) -> u128 {
		Self::this_blocks(PoolSold::<T>::get(pair))
	}

	/// A per-block tally `(block, amount)`'s amount if it is this block's, else 0.
	pub(crate) fn this_blocks(tally: Option<(u32, u128)>) -> u128 {
		match tally {
			Some((block, amount)) if block == Self::block_number_u32() => amount,
			_ => 0,
		}
	}

	/// Counts a sale of `input` collateral into `pair`'s pool against the block's depth cap.
	pub(crate) fn note_pool_sale(pair: (T::AssetId, T::AssetId), input: u128) {
		let now = Self::block_number_u32();
		let sold = Self::pool_sold(pair).saturating_add(input);
		PoolSold::<T>::insert(pair, (now, sold));
	}

	/// The DEX sale `settle` makes of `plan`: as planned; or, when the collateral is
	/// `Throttled` and the block's cap has less left than the sale's value, the repayment
	/// scaled down to what is left (2% below it, for the pool's price impact; planned again, so
	/// a rest below the dust value refuses it, and a cut below the collateral's minimum
	/// balance is not made). Returns the plan the sale is for and its quote,
	/// or the original plan and the refusal; `look` counts the queue entries checked.
	pub(crate) fn dex_sale(
		borrower: &T::AccountId,
		plan: Plan<T::AssetId>,
		look: &mut QueueLook,
	) -> (Plan<T::AssetId>, Result<DexQuote, DexRefusal>) {
		match Self::quote_dex(borrower, &plan, look) {
			Err(DexRefusal::Throttled { value, left }) if !left.is_zero() => {
				let repay = multiply_by_rational_with_rounding(
					plan.repay,
					u128::from(Permill::from_percent(98).deconstruct()).saturating_mul(left),
					u128::from(Permill::ACCURACY).saturating_mul(value),
					Rounding::Down,
				)
				.unwrap_or(0);
				let smaller = (!repay.is_zero())
					.then(|| {
						Self::plan(borrower, plan.debt_asset, plan.collateral_asset, Some(repay))
							.ok()
					})
					.flatten();
				let min = T::Assets::minimum_balance(plan.collateral_asset);
				match smaller.map(|p| (p, Self::quote_dex(borrower, &p, look))) {
					// A cut below the collateral's minimum balance could not be withdrawn.
					Some((smaller, Ok(quote))) if quote.input >= min => (smaller, Ok(quote)),
					_ => (plan, Err(DexRefusal::Throttled { value, left })),
				}
			},
			quote => (plan, quote),
		}
	}

	/// The value at the oracle of selling `input` collateral, rounded up (the breaker's cap
	/// counts a sale at no less than it is).
	pub(crate) fn sale_value(input: u128, price: FixedU128) -> u128 {
		multiply_by_rational_with_rounding(input, price.into_inner(), FixedU128::DIV, Rounding::Up)
			.unwrap_or(u128::MAX)
	}

	/// The live entries of `asset`'s sale queue (those younger than `MaxQueueAge`).
	pub(crate) fn live_queue(asset: &T::AssetId) -> Vec<QueueEntry<T::AccountId>> {
		Self::live(SaleQueue::<T>::get(asset).into_inner())
	}

	/// Of `entries`, those younger than `MaxQueueAge`.
	fn live(mut entries: Vec<QueueEntry<T::AccountId>>) -> Vec<QueueEntry<T::AccountId>> {
		let now = Self::block_number_u32();
		entries.retain(|e| e.since.saturating_add(T::MaxQueueAge::get()) > now);
		entries
	}

	/// The circuit breaker's say on a DEX sale of `value` of `plan`'s collateral for
	/// `borrower`, given the collateral's gate `cap` ([`Self::pair_gate`], not halted): open, or
	/// throttled (within the block's cap, and only for the head of the collateral's queue or a
	/// position riskier than it: [`Self::waits_in_queue`]).
	fn breaker_gate(
		borrower: &T::AccountId,
		plan: &Plan<T::AssetId>,
		value: u128,
		cap: Option<u128>,
		look: &mut QueueLook,
	) -> Result<(), DexRefusal> {
		let Some(left) = cap else {
			return Ok(());
		};
		let ahead_of = (core::slice::from_ref(borrower), plan.health.factor);
		if Self::waits_in_queue(&plan.collateral_asset, ahead_of, look) {
			return Err(DexRefusal::Throttled { value, left: 0 });
		}
		if value > left {
			return Err(DexRefusal::Throttled { value, left });
		}
		Ok(())
	}

	/// Whether a throttled sale of `asset` waits behind the collateral's queue: behind a
	/// liquidatable entry riskier than the sellers' health (a position's borrower and health,
	/// which waits neither behind itself nor behind a less risky entry; a batch's lot: its
	/// members and the health of the least risky of them, so that none is sold ahead of an
	/// entry riskier than it, and a lot of one waits exactly as `settle` does). An entry ahead is kept by the health it was queued at,
	/// which says nothing of now: one no longer liquidatable ([`Self::may_settle`]: repaid,
	/// topped up, liquidated by another route, lifted by the price, or not settleable now)
	/// leaves the queue (`Dequeued`) instead of holding every sale behind it until it expires;
	/// so does one that no longer holds `asset` as collateral (a keeper seized it all: its
	/// next settlement sells another). `look` counts the entries checked and dropped; past
	/// [`QUEUE_CHECKS`] checks the sale waits.
	pub(crate) fn waits_in_queue(
		asset: &T::AssetId,
		(sellers, health): (&[T::AccountId], FixedU128),
		look: &mut QueueLook,
	) -> bool {
		let mut queue: VecDeque<_> = Self::live_queue(asset).into();
		let mut dropped = Vec::new();
		// A lot's members are passed over where they stand (their turn is the lot's); one
		// seller at the head goes.
		let mut members = VecDeque::new();
		let waits = loop {
			let Some(head) = queue.front() else {
				break false;
			};
			if sellers.contains(&head.borrower) {
				if sellers.len() == 1 {
					break false;
				}
				members.extend(queue.pop_front());
				continue;
			}
			if health <= head.health {
				break false;
			}
			if look.checked >= QUEUE_CHECKS {
				break true;
			}
			look.checked = look.checked.saturating_add(1);
			let holds = || {
				T::Lending::account_shares(&head.borrower)
					.collateral
					.iter()
					.any(|(a, _)| a == asset)
			};
			if holds() && Self::may_settle(&head.borrower) {
				break true;
			}
			look.dropped = look.dropped.saturating_add(1);
			dropped.extend(queue.pop_front());
		};
		if !dropped.is_empty() {
			members.extend(queue);
			Self::store_queue(*asset, members.into());
			for out in dropped {
				Self::deposit_event(Event::Dequeued {
					borrower: out.borrower,
					collateral_asset: *asset,
				});
			}
		}
		waits
	}

	/// What the pool's depth cap adds to a DEX sale, not yet in the measured benchmarks: the
	/// pool's two reserves and `PoolSold` read, `PoolSold` written (one sale of a `settle`,
	/// one per pair of a batch, one per debt of the waterfall's treasury sales). A second look
	/// in the same call (a cut `settle`, a batch's second quote) reads the same three keys
	/// again, from the overlay: no database read, as `benchmark pallet` counts them.
	pub fn depth_cap_weight() -> Weight {
		T::DbWeight::get().reads_writes(3, 1)
	}

	/// What checking `checks` queue entries costs ([`Self::waits_in_queue`]): a validity
	/// check's measured health reads of as many wide accounts, and the queue written.
	pub fn queue_checks_weight(checks: u32) -> Weight {
		use crate::weights::WeightInfo;
		if checks.is_zero() {
			return Weight::zero();
		}
		T::WeightInfo::validate_settle_batch(checks).saturating_add(T::DbWeight::get().writes(1))
	}

	/// The breaker's say on selling `collateral` in this block, before a sale's value is
	/// known: refused (a halted collateral), unlimited (`None`), or up to what the block's cap
	/// has left (`Some(left)`). `settle` and the batches both ask it. A held or disputed price
	/// does not close it: the plan already values the pair at the span's ends that favour the
	/// borrower ([`Self::pair_unsettled`]).
	pub(crate) fn pair_gate(collateral: &T::AssetId) -> Result<Option<u128>, DexRefusal> {
		match T::Breaker::sale_gate(collateral) {
			SaleGate::Open => Ok(None),
			SaleGate::Halted => Err(DexRefusal::Halted),
			SaleGate::Capped(left) => Ok(Some(left)),
		}
	}

	/// Whether the oracle guard holds or disputes the price of `collateral` or `debt` (one of
	/// the debt is as untrustworthy as one of the collateral). Then a position is liquidated
	/// only when it is liquidatable at the liquidation's ends (the span's ends that favour the
	/// borrower, the collateral of a held fall at its severity price: see
	/// `pallet_breaker::quote::Quote::liquidation_bounds`), and only by a keeper's own funds, a
	/// DEX sale within the bound at those ends or a take of a running auction. The insurance
	/// backstop, a new auction and an auction's reset wait for the price (at most the guard's
	/// `max_hold_blocks`).
	pub(crate) fn pair_unsettled(collateral: &T::AssetId, debt: &T::AssetId) -> bool {
		T::Breaker::price_unsettled(collateral) || T::Breaker::price_unsettled(debt)
	}

	/// Whether the feeds of `collateral` or `debt` disagree: the pair is liquidated at the
	/// disputed ends that favour the borrower, and never bought by the insurance backstop.
	pub(crate) fn pair_disputed(collateral: &T::AssetId, debt: &T::AssetId) -> bool {
		T::Breaker::price_disputed(collateral) || T::Breaker::price_disputed(debt)
	}

	/// Whether the guard holds a jump of `collateral` or `debt` (disputed or not: a dispute
	/// lifts no hold): no backstop, no new auction, no reset until the price is accepted.
	pub(crate) fn pair_held(collateral: &T::AssetId, debt: &T::AssetId) -> bool {
		T::Breaker::price_held(collateral) || T::Breaker::price_held(debt)
	}

	/// Puts `borrower` in `plan`'s collateral queue, riskiest first; a full queue gives the
	/// place of its least risky entry to a riskier position. Expired entries are dropped.
	pub(crate) fn enqueue(borrower: &T::AccountId, plan: &Plan<T::AssetId>) -> DispatchResult {
		let asset = plan.collateral_asset;
		let mut queue = Self::live_queue(&asset);
		ensure!(!queue.iter().any(|e| e.borrower == *borrower), Error::<T>::AwaitingSale);
		let health = plan.health.factor;
		let place = queue.partition_point(|e| e.health <= health);
		let max = T::MaxSaleQueue::get() as usize;
		if queue.len() >= max {
			ensure!(place < queue.len(), Error::<T>::SaleQueueFull);
			if let Some(out) = queue.pop() {
				Self::deposit_event(Event::Dequeued {
					borrower: out.borrower,
					collateral_asset: asset,
				});
			}
		}
		queue.insert(
			place,
			QueueEntry { health, borrower: borrower.clone(), since: Self::block_number_u32() },
		);
		let bounded = BoundedVec::try_from(queue).map_err(|_| Error::<T>::SaleQueueFull)?;
		SaleQueue::<T>::insert(asset, bounded);
		Self::deposit_event(Event::SaleQueued {
			borrower: borrower.clone(),
			collateral_asset: asset,
			health,
			position: u32::try_from(place).unwrap_or(u32::MAX),
		});
		Ok(())
	}

	/// Writes `entries`, taken from `asset`'s stored queue (so within its bound), as the queue;
	/// none removes it.
	fn store_queue(asset: T::AssetId, entries: Vec<QueueEntry<T::AccountId>>) {
		if entries.is_empty() {
			SaleQueue::<T>::remove(asset);
		} else {
			SaleQueue::<T>::insert(asset, BoundedVec::truncate_from(entries));
		}
	}

	/// Takes `borrower` out of `asset`'s queue, if it is there (expired entries go too).
	/// Returns whether it was.
	pub(crate) fn dequeue(borrower: &T::AccountId, asset: T::AssetId) -> bool {
		let queue = SaleQueue::<T>::get(asset);
		if queue.is_empty() {
			return false;
		}
		let before = queue.len();
		let mut live = Self::live(queue.into_inner());
		let was = live.iter().any(|e| e.borrower == *borrower);
		live.retain(|e| e.borrower != *borrower);
		if live.len() != before {
			Self::store_queue(asset, live);
		}
		if was {
			Self::deposit_event(Event::Dequeued {
				borrower: borrower.clone(),
				collateral_asset: asset,
			});
		}
		was
	}

	/// Takes each of `settled` (a batch's pair, sold) out of `asset`'s queue: one read of the
	/// queue, a write if any was in it (expired entries go too); `Dequeued` for each.
	pub(crate) fn dequeue_all(asset: T::AssetId, settled: &[T::AccountId]) {
		let queue = SaleQueue::<T>::get(asset);
		if queue.is_empty() {
			return;
		}
		let before = queue.len();
		let (out, live): (Vec<_>, Vec<_>) =
			Self::live(queue.into_inner()).into_iter().partition(|e| settled.contains(&e.borrower));
		if live.len() != before {
			Self::store_queue(asset, live);
		}
		for entry in out {
			Self::deposit_event(Event::Dequeued {
				borrower: entry.borrower,
				collateral_asset: asset,
			});
		}
	}

	/// The most collateral the DEX may take for `plan`'s repayment: the collateral worth it at
	/// the oracle plus the maximum slippage, and never more than what is due.
	pub(crate) fn dex_bound(plan: &Plan<T::AssetId>, params: &LiquidationParams) -> u128 {
		math::with_discount(plan.base, params.max_slippage, Rounding::Down)
			.unwrap_or(u128::MAX)
			.min(plan.collateral)
	}

	/// Of what is left of `plan`'s collateral due after `input` was sold (the penalty): the
	/// insurance treasury's share (rounded up) of the penalty up to the discount, and the
	/// caller's tip (capped, at most the rest).
	pub(crate) fn split_penalty(
		plan: &Plan<T::AssetId>,
		input: u128,
		params: &LiquidationParams,
	) -> (u128, u128) {
		let penalty = plan.collateral.saturating_sub(input);
		// The treasury's share is of the discount at most: what a pool priced above the
		// oracle saves beyond it is the borrower's (found by the property test: a pool left
		// at the old price gave the treasury half the gap).
		let bonus = plan.collateral.saturating_sub(plan.base);
		let to_insurance = params.insurance_share.mul_ceil(penalty.min(bonus));
		let tip_value = params
			.caller_tip
			.mul_floor(value_of(plan.repay, plan.debt_price))
			.min(params.caller_tip_cap);
		let tip = multiply_by_rational_with_rounding(
			tip_value,
			FixedU128::DIV,
			plan.collateral_price.into_inner(),
			Rounding::Down,
		)
		.unwrap_or(0)
		.min(penalty.saturating_sub(to_insurance));
		(to_insurance, tip)
	}

	/// Makes the DEX sale of `quote`: seizes the input into the working account, withdraws it,
	/// buys exactly the debt and repays it. Returns `(sold, unspent)`; changes nothing if any
	/// part fails. The working account ends with no tokens and no lending position.
	pub(crate) fn sell_on_dex(
		borrower: &T::AccountId,
		plan: &Plan<T::AssetId>,
		quote: &DexQuote,
	) -> Result<(u128, u128), DispatchError> {
		with_storage_layer(|| {
			let account = Self::account_id();
			let collateral = plan.collateral_asset;
			let input = quote.input;
			Self::seize_and_withdraw(borrower, collateral, input, &account)?;
			let sold = T::Dex::swap_tokens_for_exact_tokens(
				account.clone(),
				vec![Self::dex_asset(collateral), Self::dex_asset(plan.debt_asset)],
				plan.repay,
				Some(input),
				account.clone(),
				false,
			)?;
			T::Lending::repay_debt(&account, borrower, &plan.debt_asset, plan.repay)?;
			// The quote is exact for this state; should the DEX take less, the rest is the
			// treasury's, so the working account ends empty.
			let unspent = input.saturating_sub(sold);
			if !unspent.is_zero() {
				T::Assets::transfer(
					collateral,
					&account,
					&Self::insurance_account(),
					unspent,
					Preservation::Expendable,
				)?;
			}
			Ok((sold, unspent))
		})
	}

	/// Seizes `amount` of `borrower`'s `collateral` supply into the working `account` and
	/// withdraws exactly that many tokens, leaving the account no supply. Seizing a whole
	/// supply moves all its shares, which (with a supply index below 1) may be more than the
	/// shares of `amount`: then all of them are withdrawn (worth `amount`).
	pub(crate) fn seize_and_withdraw(
		borrower: &T::AccountId,
		collateral: T::AssetId,
		amount: u128,
		account: &T::AccountId,
	) -> Result<u128, DispatchError> {
		let whole = amount == T::Lending::supplied(borrower, &collateral)?;
		T::Lending::seize_collateral(borrower, &collateral, amount, account)?;
		let exact = if whole { Amount::All } else { Amount::Exact(amount) };
		let paid = T::Lending::withdraw_supply(account, &collateral, exact)?;
		ensure!(paid == amount, Error::<T>::Overflow);
		Ok(paid)
	}

	/// Pays the caller's tip as collateral supply (like a keeper's seizure: no cash needed).
	/// A caller that cannot receive it (e.g. no room for another position) gets none; the
	/// borrower keeps it.
	pub(crate) fn pay_tip(
		caller: &T::AccountId,
		borrower: &T::AccountId,
		asset: T::AssetId,
		tip: u128,
	) -> u128 {
		if tip.is_zero() {
			return 0;
		}
		match T::Lending::seize_collateral(borrower, &asset, tip, caller) {
			Ok(_) => tip,
			Err(e) => {
				log::debug!(target: "runtime::liquidation", "tip not paid: {e:?}");
				0
			},
		}
	}
}
