//! A pair's book: best first (lowest discount, then oldest), bounded, and what leaves it.

use crate::{pallet::*, types::*};
use frame_support::{pallet_prelude::*, traits::Get};
use frame_system::pallet_prelude::BlockNumberFor;

impl<T: Config> Pallet<T> {
	/// Where a new bid `entry` goes in a full `book`, at block `now`: in the place of the
	/// first expired bid (`(index, true)`), else of the worst if `entry` asks strictly less
	/// discount and holds at least as much (`(index, false)`: ties keep the older bid); `None`
	/// when the book has room.
	pub(crate) fn make_room(
		book: &BookOf<T>,
		entry: &EntryOf<T>,
		now: BlockNumberFor<T>,
	) -> Result<Option<(usize, bool)>, Error<T>> {
		if book.len() < T::MaxBidsPerPair::get() as usize {
			return Ok(None);
		}
		if let Some(index) = book.iter().position(|e| e.expires_at <= now) {
			return Ok(Some((index, true)));
		}
		match book.last() {
			Some(worst) if entry.rank() < worst.rank() && entry.remaining >= worst.remaining => {
				Ok(Some((book.len().saturating_sub(1), false)))
			},
			_ => Err(Error::<T>::BookFull),
		}
	}

	/// Puts `entry` in its place in `book` (which has room).
	pub(crate) fn insert_sorted(book: &mut BookOf<T>, entry: EntryOf<T>) -> DispatchResult {
		let at = book.partition_point(|e| e.rank() < entry.rank());
		book.try_insert(at, entry).map_err(|_| Error::<T>::BookFull.into())
	}

	/// Takes bid `id` (which is `bid`) out of its pair's book.
	pub(crate) fn take_from_book(bid: &BidOf<T>, id: BidId) {
		Book::<T>::mutate_exists((bid.collateral, bid.debt), |book| {
			if let Some(entries) = book {
				entries.retain(|e| e.id != id);
				if entries.is_empty() {
					*book = None;
				}
			}
		});
	}

	/// A pair's standing bids, best first, with each bid's state: the book as a runtime API
	/// shows it.
	pub fn book(collateral: T::AssetId, debt: T::AssetId) -> alloc::vec::Vec<(BidId, BidOf<T>)> {
		Book::<T>::get((collateral, debt))
			.into_iter()
			.filter_map(|e| StandingBids::<T>::get(e.id).map(|bid| (e.id, bid)))
			.collect()
	}
}
