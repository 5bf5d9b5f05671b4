//! # Bids pallet: standing liquidation bids (#28)
//!
//! Market makers stand ready to buy a collateral for a debt asset at a discount to the oracle,
//! so that a liquidation need not sell into a thin DEX in the moments it is thinnest (after
//! Kujira's ORCA: a public queue of bids by discount, with an activation delay).
//!
//! - **A bid** ([`Pallet::place_bid`]): `amount` of the debt asset, held on the bidder's own
//!   account (pallet-assets-holder: not transferred away, not spendable), buys collateral at
//!   `discount` below the oracle, from `ActivationDelay` blocks after it is placed (no
//!   last-second bid ahead of a liquidation one can see coming) until its expiry (at most
//!   `MaxLifetime` ahead). The discount is at most the collateral market's liquidation bonus (a
//!   bid never takes more than a liquidation gives); a bid asking less is better for the
//!   borrower and stands ahead of the rest.
//! - **Bounds**: at most `MaxBidsPerAccount` bids an account, `MaxBidsPerPair` a pair, each
//!   worth at least `MinBidValue` at the oracle and holding a native `BidDeposit` while it
//!   stands. A full book takes a new bid only in the place of an expired one or ahead of its
//!   worst (which leaves with its funds and deposit returned: `BidEvicted`); so a full book
//!   only gets better for borrowers, and costs whoever fills it real capital.
//! - **Leaving**: the owner cancels a bid once it is active ([`Pallet::cancel_bid`]: a bid
//!   that may evict another cannot be withdrawn before it ever could fill); anyone removes an
//!   expired one ([`Pallet::remove_expired_bid`]); either way the owner gets back what it still
//!   holds and its deposit.
//! - **The book** ([`Book`]): per `(collateral, debt)` pair, best first (lowest discount, then
//!   oldest), each entry with its activation and expiry, so a fill reads only bids it may use.
//!
//! Every refusal is a named [`Error`] and changes nothing; every change is an [`Event`].
//!
//! ## Where things are
//! - `types.rs`: [`Bid`], [`BookEntry`], [`BidMarkets`] (what the pallet needs of the money
//!   market and prices; the runtime wires lending and the oracle).
//! - `book.rs`: the book's order, eviction and release of a bid's funds.
//! - `weights.rs`, `benchmarking.rs`: the calls' measured weights at their worst.

#![cfg_attr(not(feature = "std"), no_std)]
#![deny(missing_docs)]
#![cfg_attr(
	not(test),
	deny(clippy::arithmetic_side_effects, clippy::unwrap_used, clippy::indexing_slicing)
)]

extern crate alloc;

mod book;
mod fill;
pub mod types;
pub mod weights;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;

pub use fill::collateral_for;
pub use pallet::*;
pub use types::*;
pub use weights::WeightInfo;

/// Sets up what the benchmarks need: `amount` of `asset` on `who`, and native funds for the
/// deposit.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper<AssetId, AccountId> {
	/// A pair the book takes bids for (two assets with lending markets and fresh prices).
	fn pair() -> (AssetId, AssetId);
	/// Gives `who` `amount` of `asset` and enough native tokens for deposits and fees.
	fn fund(who: &AccountId, asset: AssetId, amount: u128);
}

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_support::{
		pallet_prelude::*,
		traits::{
			fungible::{self, MutateHold as _},
			fungibles::{self, MutateHold as _},
			tokens::Precision,
		},
	};
	use frame_system::pallet_prelude::*;
	use sp_arithmetic::Permill;
	use sp_runtime::{traits::Zero, Saturating};

	/// The native balance a deposit is held in.
	pub type BalanceOf<T> = <<T as Config>::Currency as fungible::Inspect<
		<T as frame_system::Config>::AccountId,
	>>::Balance;
	/// A bid of this runtime.
	pub type BidOf<T> = Bid<
		<T as frame_system::Config>::AccountId,
		<T as Config>::AssetId,
		BalanceOf<T>,
		BlockNumberFor<T>,
	>;
	/// A book entry of this runtime.
	pub type EntryOf<T> = BookEntry<BlockNumberFor<T>>;
	/// A pair's book.
	pub type BookOf<T> = BoundedVec<EntryOf<T>, <T as Config>::MaxBidsPerPair>;

	/// The pallet.
	#[pallet::pallet]
	pub struct Pallet<T>(_);

	/// Configuration.
	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// The overarching event type.
		#[allow(deprecated)]
		type RuntimeEvent: From<Event<Self>> + IsType<<Self as frame_system::Config>::RuntimeEvent>;

		/// Identifier of an asset (a lending market).
		type AssetId: Parameter + Member + Copy + Ord + MaxEncodedLen;

		/// Holds on asset balances (pallet-assets-holder): a bid's escrow.
		type AssetHolds: fungibles::MutateHold<
				Self::AccountId,
				AssetId = Self::AssetId,
				Balance = u128,
				Reason = Self::RuntimeHoldReason,
			> + fungibles::InspectHold<Self::AccountId>;

		/// The native currency: a bid's deposit is held in it.
		type Currency: fungible::MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>;

		/// The overarching hold reason.
		type RuntimeHoldReason: From<HoldReason>;

		/// The markets bids may be for, their bonus and prices.
		type Markets: BidMarkets<Self::AccountId, Self::AssetId>;

		/// Native deposit held while a bid stands (its storage).
		#[pallet::constant]
		type BidDeposit: Get<BalanceOf<Self>>;

		/// The least a bid may hold, valued at the oracle (reference units).
		#[pallet::constant]
		type MinBidValue: Get<u128>;

		/// Blocks from a bid's placing to the first block it may fill in.
		#[pallet::constant]
		type ActivationDelay: Get<BlockNumberFor<Self>>;

		/// How far ahead of its placing a bid may expire, in blocks.
		#[pallet::constant]
		type MaxLifetime: Get<BlockNumberFor<Self>>;

		/// Most bids standing on one pair.
		#[pallet::constant]
		type MaxBidsPerPair: Get<u32>;

		/// Most bids one account may have standing.
		#[pallet::constant]
		type MaxBidsPerAccount: Get<u32>;

		/// Most bids one seizure reads (and fills from).
		#[pallet::constant]
		type MaxFills: Get<u32>;

		/// Weights of the calls, from the benchmarks.
		type WeightInfo: WeightInfo;

		/// Funds and pairs for the benchmarks.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: BenchmarkHelper<Self::AssetId, Self::AccountId>;
	}

	/// Why the pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// A bid's debt asset, held until it fills, is cancelled or expires.
		Escrow,
		/// A bid's native deposit, held while it stands.
		Deposit,
	}

	/// Every standing bid.
	#[pallet::storage]
	pub type StandingBids<T: Config> = StorageMap<_, Twox64Concat, BidId, BidOf<T>>;

	/// Each `(collateral, debt)` pair's standing bids, best first.
	#[pallet::storage]
	pub type Book<T: Config> =
		StorageMap<_, Blake2_128Concat, (T::AssetId, T::AssetId), BookOf<T>, ValueQuery>;

	/// How many bids each account has standing.
	#[pallet::storage]
	pub type BidCount<T: Config> = StorageMap<_, Blake2_128Concat, T::AccountId, u32, ValueQuery>;

	/// The next bid's id.
	#[pallet::storage]
	pub type NextBidId<T: Config> = StorageValue<_, BidId, ValueQuery>;

	/// Events.
	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A bid was placed: `amount` of `debt` held on `owner`, its deposit held too.
		BidPlaced {
			/// The bid.
			id: BidId,
			/// Its owner.
			owner: T::AccountId,
			/// What it buys.
			collateral: T::AssetId,
			/// What it pays in.
			debt: T::AssetId,
			/// What it holds.
			amount: u128,
			/// Below the oracle.
			discount: Permill,
			/// First block it may fill in.
			active_from: BlockNumberFor<T>,
			/// First block it may no longer fill in.
			expires_at: BlockNumberFor<T>,
		},
		/// Its owner cancelled a bid: `returned` of its debt asset and the deposit released.
		BidCancelled {
			/// The bid.
			id: BidId,
			/// Its owner.
			owner: T::AccountId,
			/// The debt asset released.
			returned: u128,
		},
		/// An expired bid was removed (by `by`, or in the place of a new one): `returned` and
		/// the deposit released to its owner.
		BidExpired {
			/// The bid.
			id: BidId,
			/// Its owner.
			owner: T::AccountId,
			/// The debt asset released.
			returned: u128,
		},
		/// A bid paid `paid` of its debt asset for `collateral` of the collateral in a
		/// liquidation (the collateral to its owner as lending supply); it holds `remaining`
		/// (at zero it leaves the book, its deposit released).
		BidFilled {
			/// The bid.
			id: BidId,
			/// Its owner.
			owner: T::AccountId,
			/// Collateral units it bought.
			collateral: u128,
			/// Debt units it paid.
			paid: u128,
			/// What it still holds.
			remaining: u128,
		},
		/// A full book's worst bid made way for the better bid `by`: `returned` and the deposit
		/// released to its owner.
		BidEvicted {
			/// The bid.
			id: BidId,
			/// Its owner.
			owner: T::AccountId,
			/// The debt asset released.
			returned: u128,
			/// The bid it made way for.
			by: BidId,
		},
	}

	/// Errors.
	#[pallet::error]
	pub enum Error<T> {
		/// A bid's collateral and debt asset are the same asset.
		SameAsset,
		/// The collateral or the debt asset has no lending market.
		NoMarket,
		/// The discount exceeds the collateral market's liquidation bonus.
		DiscountTooHigh,
		/// The amount is worth less than `MinBidValue` at the oracle.
		BidTooSmall,
		/// The debt asset has no fresh price to value the bid.
		NoPrice,
		/// The expiry is not after the activation, or beyond `MaxLifetime`.
		BadExpiry,
		/// The account has `MaxBidsPerAccount` bids standing.
		TooManyBids,
		/// The pair's book is full of unexpired bids at least as good, or its worst holds more
		/// than this bid would.
		BookFull,
		/// The debt asset could not be held (not enough free balance).
		CannotEscrow,
		/// The native deposit could not be held.
		CannotPayDeposit,
		/// No such bid.
		UnknownBid,
		/// Only the bid's owner may cancel it.
		NotOwner,
		/// A bid may be cancelled once active.
		NotActiveYet,
		/// The bid has not expired.
		NotExpired,
		/// The bid cannot fill now (gone, not active, expired, filled in this block, or
		/// holding less than the fill).
		BidUnavailable,
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Places a bid: up to `amount` of `debt` (held on the caller's account) buys
		/// `collateral` at `discount` below the oracle, from `ActivationDelay` blocks from now
		/// until `expires_at`. The caller's `BidDeposit` is held too. A full book takes it
		/// in the place of an expired bid, or of its worst if this one asks less discount and
		/// holds at least as much (a swarm of small bids cannot push large ones out).
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::place_bid())]
		pub fn place_bid(
			origin: OriginFor<T>,
			collateral: T::AssetId,
			debt: T::AssetId,
			amount: u128,
			discount: Permill,
			expires_at: BlockNumberFor<T>,
		) -> DispatchResult {
			let owner = ensure_signed(origin)?;
			ensure!(collateral != debt, Error::<T>::SameAsset);
			ensure!(T::Markets::is_market(&debt), Error::<T>::NoMarket);
			let max = T::Markets::max_discount(&collateral).ok_or(Error::<T>::NoMarket)?;
			ensure!(discount <= max, Error::<T>::DiscountTooHigh);
			let value = T::Markets::value(&debt, amount).ok_or(Error::<T>::NoPrice)?;
			ensure!(value >= T::MinBidValue::get(), Error::<T>::BidTooSmall);
			let now = frame_system::Pallet::<T>::block_number();
			let active_from = now.saturating_add(T::ActivationDelay::get());
			ensure!(
				expires_at > active_from && expires_at <= now.saturating_add(T::MaxLifetime::get()),
				Error::<T>::BadExpiry
			);
			let count = BidCount::<T>::get(&owner);
			ensure!(count < T::MaxBidsPerAccount::get(), Error::<T>::TooManyBids);
			let id = NextBidId::<T>::get();
			let entry = BookEntry {
				discount,
				id,
				active_from,
				expires_at,
				filled_at: now,
				remaining: amount,
			};
			let pair = (collateral, debt);
			let mut book = Book::<T>::get(pair);
			// A full book: an expired bid's place first, else its worst if this one is better.
			let out = Self::make_room(&book, &entry, now)?;
			let deposit = T::BidDeposit::get();
			T::AssetHolds::hold(debt, &HoldReason::Escrow.into(), &owner, amount)
				.map_err(|_| Error::<T>::CannotEscrow)?;
			T::Currency::hold(&HoldReason::Deposit.into(), &owner, deposit)
				.map_err(|_| Error::<T>::CannotPayDeposit)?;
			if let Some((index, expired)) = out {
				let gone = book.remove(index);
				Self::drop_bid(gone.id, if expired { Gone::Expired } else { Gone::Evicted(id) })?;
			}
			Self::insert_sorted(&mut book, entry)?;
			Book::<T>::insert(pair, book);
			BidCount::<T>::mutate(&owner, |c| *c = c.saturating_add(1));
			NextBidId::<T>::put(id.saturating_add(1));
			StandingBids::<T>::insert(
				id,
				Bid {
					owner: owner.clone(),
					collateral,
					debt,
					remaining: amount,
					discount,
					active_from,
					expires_at,
					deposit,
				},
			);
			Self::deposit_event(Event::BidPlaced {
				id,
				owner,
				collateral,
				debt,
				amount,
				discount,
				active_from,
				expires_at,
			});
			Ok(())
		}

		/// Cancels the caller's active bid `id`: what it still holds and its deposit are
		/// released.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::cancel_bid())]
		pub fn cancel_bid(origin: OriginFor<T>, id: BidId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let bid = StandingBids::<T>::get(id).ok_or(Error::<T>::UnknownBid)?;
			ensure!(bid.owner == who, Error::<T>::NotOwner);
			let now = frame_system::Pallet::<T>::block_number();
			ensure!(now >= bid.active_from, Error::<T>::NotActiveYet);
			Self::take_from_book(&bid, id);
			Self::drop_bid(id, Gone::Cancelled)
		}

		/// Removes the expired bid `id` (anyone may): what it still holds and its deposit go
		/// back to its owner.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::remove_expired_bid())]
		pub fn remove_expired_bid(origin: OriginFor<T>, id: BidId) -> DispatchResult {
			ensure_signed(origin)?;
			let bid = StandingBids::<T>::get(id).ok_or(Error::<T>::UnknownBid)?;
			let now = frame_system::Pallet::<T>::block_number();
			ensure!(now >= bid.expires_at, Error::<T>::NotExpired);
			Self::take_from_book(&bid, id);
			Self::drop_bid(id, Gone::Expired)
		}
	}

	/// Why a bid leaves (its event).
	pub(crate) enum Gone {
		/// Filled to nothing (its `BidFilled` says so).
		Filled,
		Cancelled,
		Expired,
		Evicted(BidId),
	}

	impl<T: Config> Pallet<T> {
		/// Removes bid `id` (already out of its book): releases what it holds and its deposit
		/// to its owner, counts it out of the owner's bids, and says why.
		pub(crate) fn drop_bid(id: BidId, why: Gone) -> DispatchResult {
			let bid = StandingBids::<T>::take(id).ok_or(Error::<T>::UnknownBid)?;
			let released = if bid.remaining.is_zero() {
				0
			} else {
				T::AssetHolds::release(
					bid.debt,
					&HoldReason::Escrow.into(),
					&bid.owner,
					bid.remaining,
					Precision::BestEffort,
				)?
			};
			if !bid.deposit.is_zero() {
				T::Currency::release(
					&HoldReason::Deposit.into(),
					&bid.owner,
					bid.deposit,
					Precision::BestEffort,
				)?;
			}
			BidCount::<T>::mutate_exists(&bid.owner, |c| {
				*c = c.map(|c| c.saturating_sub(1)).filter(|c| !c.is_zero())
			});
			let owner = bid.owner;
			Self::deposit_event(match why {
				Gone::Filled => return Ok(()),
				Gone::Cancelled => Event::BidCancelled { id, owner, returned: released },
				Gone::Expired => Event::BidExpired { id, owner, returned: released },
				Gone::Evicted(by) => Event::BidEvicted { id, owner, returned: released, by },
			});
			Ok(())
		}
	}
}
