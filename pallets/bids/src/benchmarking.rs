//! Benchmarks of the calls at their worst: a full book (`MaxBidsPerPair` bids of as many
//! owners), the new bid at its front evicting the worst, the bid cancelled or removed at its
//! end.

use super::*;
use alloc::vec::Vec;
use frame_benchmarking::v2::*;
use frame_support::traits::Get;
use frame_system::{pallet_prelude::BlockNumberFor, RawOrigin};
use sp_arithmetic::{FixedU128, Permill};
use sp_runtime::Saturating;

/// What each bid holds: 1,000,000 tokens of 12 decimals (worth the minimum at any sane price).
const AMOUNT: u128 = 1_000_000_000_000_000_000;

/// Fills `(collateral, debt)`'s book with `MaxBidsPerPair` bids at the largest discount, each
/// of its own owner, expiring as late as allowed; returns their ids (worst last).
fn full_book<T: Config>(
	collateral: T::AssetId,
	debt: T::AssetId,
) -> Result<Vec<BidId>, BenchmarkError> {
	let max = T::Markets::max_discount(&collateral).ok_or(BenchmarkError::Weightless)?;
	let expires = frame_system::Pallet::<T>::block_number().saturating_add(T::MaxLifetime::get());
	let mut ids = Vec::new();
	for i in 0..T::MaxBidsPerPair::get() {
		let who: T::AccountId = account("bidder", i, 0);
		T::BenchmarkHelper::fund(&who, debt, AMOUNT.saturating_mul(2));
		ids.push(NextBidId::<T>::get());
		Pallet::<T>::place_bid(
			RawOrigin::Signed(who).into(),
			collateral,
			debt,
			AMOUNT,
			max,
			expires,
		)?;
	}
	Ok(ids)
}

#[benchmarks]
mod benchmarks {
	use super::*;

	/// A full book: every entry checked for an expiry, the worst evicted (its escrow and
	/// deposit released), the new bid put at the front.
	#[benchmark]
	fn place_bid() -> Result<(), BenchmarkError> {
		let (collateral, debt) = T::BenchmarkHelper::pair();
		let ids = full_book::<T>(collateral, debt)?;
		let who: T::AccountId = account("new", 0, 0);
		T::BenchmarkHelper::fund(&who, debt, AMOUNT.saturating_mul(2));
		let expires: BlockNumberFor<T> =
			frame_system::Pallet::<T>::block_number().saturating_add(T::MaxLifetime::get());

		#[extrinsic_call]
		_(RawOrigin::Signed(who), collateral, debt, AMOUNT, Permill::zero(), expires);

		let worst = ids.last().copied().ok_or(BenchmarkError::Weightless)?;
		assert!(StandingBids::<T>::get(worst).is_none());
		assert_eq!(
			Book::<T>::get((collateral, debt)).first().map(|e| e.id),
			ids.last().map(|i| i.saturating_add(1))
		);
		Ok(())
	}

	/// The last bid of a full book cancelled by its owner once active.
	#[benchmark]
	fn cancel_bid() -> Result<(), BenchmarkError> {
		let (collateral, debt) = T::BenchmarkHelper::pair();
		let ids = full_book::<T>(collateral, debt)?;
		let last = ids.last().copied().ok_or(BenchmarkError::Weightless)?;
		let owner: T::AccountId = account("bidder", T::MaxBidsPerPair::get().saturating_sub(1), 0);
		let now = frame_system::Pallet::<T>::block_number();
		frame_system::Pallet::<T>::set_block_number(now.saturating_add(T::ActivationDelay::get()));

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), last);

		assert!(StandingBids::<T>::get(last).is_none());
		Ok(())
	}

	/// The last bid of a full book removed once expired, by someone else.
	#[benchmark]
	fn remove_expired_bid() -> Result<(), BenchmarkError> {
		let (collateral, debt) = T::BenchmarkHelper::pair();
		let ids = full_book::<T>(collateral, debt)?;
		let last = ids.last().copied().ok_or(BenchmarkError::Weightless)?;
		let now = frame_system::Pallet::<T>::block_number();
		frame_system::Pallet::<T>::set_block_number(now.saturating_add(T::MaxLifetime::get()));
		let caller: T::AccountId = whitelisted_caller();

		#[extrinsic_call]
		_(RawOrigin::Signed(caller), last);

		assert!(StandingBids::<T>::get(last).is_none());
		Ok(())
	}

	/// A seizure's quote against a full book of active bids, each paying its share:
	/// `MaxFills` bids read.
	#[benchmark]
	fn quote() -> Result<(), BenchmarkError> {
		let (collateral, debt) = T::BenchmarkHelper::pair();
		full_book::<T>(collateral, debt)?;
		let now = frame_system::Pallet::<T>::block_number();
		frame_system::Pallet::<T>::set_block_number(now.saturating_add(T::ActivationDelay::get()));
		let prices = (FixedU128::from_u32(60_000), FixedU128::from_u32(1));
		// Each of the first `MaxFills` bids pays its share in full: every one of them read.
		let repay = AMOUNT.saturating_mul(u128::from(T::MaxFills::get()));
		// A batch's pair sells for all its members: each bid read is checked against each
		// (512: the runtime's largest batch, `MaxSettleBatch`).
		let sellers: Vec<T::AccountId> = (0..512).map(|i| account("borrower", i, 0)).collect();
		let fills;

		#[block]
		{
			fills = Pallet::<T>::quote(collateral, debt, repay, prices, Permill::one(), &sellers);
		}

		assert_eq!(fills.len(), T::MaxFills::get().min(T::MaxBidsPerPair::get()) as usize);
		Ok(())
	}

	/// One fill that empties the last bid of a full book: its held debt asset paid out to a
	/// new account, the bid out of the book, its deposit released.
	#[benchmark]
	fn take() -> Result<(), BenchmarkError> {
		let (collateral, debt) = T::BenchmarkHelper::pair();
		let ids = full_book::<T>(collateral, debt)?;
		let last = ids.last().copied().ok_or(BenchmarkError::Weightless)?;
		let now = frame_system::Pallet::<T>::block_number();
		frame_system::Pallet::<T>::set_block_number(now.saturating_add(T::ActivationDelay::get()));
		let bid = StandingBids::<T>::get(last).ok_or(BenchmarkError::Weightless)?;
		let fill = Fill { id: last, owner: bid.owner, collateral: 1, debt: bid.remaining };
		let to: T::AccountId = account("liquidation", 0, 0);
		let result;

		#[block]
		{
			result = Pallet::<T>::take(&fill, &to);
		}

		assert!(result.is_ok());
		assert!(StandingBids::<T>::get(last).is_none());
		Ok(())
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
