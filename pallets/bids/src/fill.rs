//! Fills: what the best bids of a pair pay for a seizure ([`Pallet::quote`]), and one bid's
//! fill made ([`Pallet::take`]): its held debt asset to the liquidation, one fill a block.

use crate::{pallet::*, types::*};
use alloc::vec::Vec;
use frame_support::{
	pallet_prelude::*,
	traits::{
		fungibles::{Inspect as _, MutateHold as _},
		tokens::{Fortitude, Precision, Restriction},
	},
};
use sp_arithmetic::{
	helpers_128bit::multiply_by_rational_with_rounding,
	traits::{Saturating, Zero},
	FixedU128, Permill, Rounding,
};

/// Collateral units `debt` units buy at `discount` below the oracle (`prices`: collateral,
/// debt), rounded down; `None` on a zero price.
pub fn collateral_for(
	debt: u128,
	discount: Permill,
	(collateral_price, debt_price): (FixedU128, FixedU128),
) -> Option<u128> {
	let paid = FixedU128::one().saturating_sub(FixedU128::from(discount));
	let price = collateral_price.saturating_mul(paid);
	if price.is_zero() {
		return None;
	}
	multiply_by_rational_with_rounding(
		debt,
		debt_price.into_inner(),
		price.into_inner(),
		Rounding::Down,
	)
}

impl<T: Config> Pallet<T> {
	/// The fills of the best bids for `(collateral, debt)` that pay up to `repay` of `debt`
	/// at `prices` (the oracle's, as the liquidation reads them): best first, each active,
	/// unexpired, not filled in this block, asking at most `max_discount`, not one of
	/// `sellers`' own, of an owner who can take the collateral as lending supply ([`BidMarkets::accepts`]),
	/// each paying what it holds or what is left; at most `MaxFills` bids read. A bid
	/// holding less than its share (`repay / MaxFills`, or what is left) is passed over
	/// unread: a few small bids at the top of the book cannot stand in front of the large
	/// ones. Less than `repay` in all when the book holds less. Nothing is changed.
	pub fn quote(
		collateral: T::AssetId,
		debt: T::AssetId,
		repay: u128,
		prices: (FixedU128, FixedU128),
		max_discount: Permill,
		sellers: &[T::AccountId],
	) -> Vec<Fill<T::AccountId>> {
		let now = frame_system::Pallet::<T>::block_number();
		let max_fills = T::MaxFills::get();
		let share = repay.div_ceil(u128::from(max_fills.max(1)));
		let min = T::AssetHolds::minimum_balance(debt);
		let mut left = repay;
		let mut fills = Vec::new();
		let mut reads = 0u32;
		for entry in Book::<T>::get((collateral, debt)) {
			// The book is best first: past the largest discount, none is usable.
			if left.is_zero() || reads >= max_fills || entry.discount > max_discount {
				break;
			}
			let pays = entry.remaining.min(left);
			if !Self::usable(&entry, now) || pays < share.min(left) || pays < min {
				continue;
			}
			reads = reads.saturating_add(1);
			let Some(bid) = StandingBids::<T>::get(entry.id) else { continue };
			// Not a seller's own, and only an owner who can take the collateral as supply.
			if sellers.contains(&bid.owner) || !T::Markets::accepts(&bid.owner, &collateral) {
				continue;
			}
			let Some(takes) = collateral_for(pays, entry.discount, prices) else { continue };
			if pays.is_zero() || takes.is_zero() {
				continue;
			}
			left = left.saturating_sub(pays);
			fills.push(Fill { id: entry.id, owner: bid.owner, collateral: takes, debt: pays });
		}
		fills
	}

	/// Whether a book entry may fill in block `now`: active, unexpired, not filled in it.
	fn usable(entry: &EntryOf<T>, now: frame_system::pallet_prelude::BlockNumberFor<T>) -> bool {
		entry.active_from <= now && now < entry.expires_at && entry.filled_at < now
	}

	/// Makes `fill` (from [`Self::quote`] in this block): `fill.debt` of the bid's held debt
	/// asset goes to `to`, free; the bid holds that much less and is not filled again in this
	/// block; a bid left with nothing leaves the book (its deposit released). The caller moves
	/// `fill.collateral` to `fill.owner`. Refused ([`Error::BidUnavailable`]) if the bid is no
	/// longer usable or holds less.
	pub fn take(fill: &Fill<T::AccountId>, to: &T::AccountId) -> DispatchResult {
		let now = frame_system::Pallet::<T>::block_number();
		let mut bid = StandingBids::<T>::get(fill.id).ok_or(Error::<T>::BidUnavailable)?;
		let pair = (bid.collateral, bid.debt);
		let mut book = Book::<T>::get(pair);
		let entry = book
			.iter_mut()
			.find(|e| e.id == fill.id)
			.filter(|e| Self::usable(e, now))
			.ok_or(Error::<T>::BidUnavailable)?;
		ensure!(bid.owner == fill.owner, Error::<T>::BidUnavailable);
		bid.remaining = bid.remaining.checked_sub(fill.debt).ok_or(Error::<T>::BidUnavailable)?;
		T::AssetHolds::transfer_on_hold(
			bid.debt,
			&HoldReason::Escrow.into(),
			&bid.owner,
			to,
			fill.debt,
			Precision::Exact,
			Restriction::Free,
			Fortitude::Polite,
		)?;
		entry.filled_at = now;
		entry.remaining = bid.remaining;
		Self::deposit_event(Event::BidFilled {
			id: fill.id,
			owner: bid.owner.clone(),
			collateral: fill.collateral,
			paid: fill.debt,
			remaining: bid.remaining,
		});
		// What is left below the debt asset's minimum balance could never fill: the bid
		// leaves (the dust and its deposit released).
		if bid.remaining < T::AssetHolds::minimum_balance(bid.debt) {
			book.retain(|e| e.id != fill.id);
			StandingBids::<T>::insert(fill.id, bid);
			Self::store_book(pair, book);
			return Self::drop_bid(fill.id, crate::pallet::Gone::Filled);
		}
		StandingBids::<T>::insert(fill.id, bid);
		Self::store_book(pair, book);
		Ok(())
	}

	/// Stores a pair's book (removed when empty).
	pub(crate) fn store_book(pair: (T::AssetId, T::AssetId), book: BookOf<T>) {
		if book.is_empty() {
			Book::<T>::remove(pair);
		} else {
			Book::<T>::insert(pair, book);
		}
	}
}
