//! The bid, its entry in a pair's book, and what the pallet needs of the money market.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use sp_arithmetic::Permill;
use sp_runtime::RuntimeDebug;

/// A bid's identifier: given in order, never reused.
pub type BidId = u64;

/// A standing bid: `owner` buys up to `remaining` of the `debt` asset's worth of `collateral`
/// (paying in `debt`, which is held for it) at `discount` below the oracle, from
/// `active_from` until `expires_at` (exclusive).
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	Clone,
	PartialEq,
	Eq,
	RuntimeDebug,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct Bid<AccountId, AssetId, Balance, BlockNumber> {
	/// Who placed it, whose `debt` is held, and who receives the collateral it buys.
	pub owner: AccountId,
	/// The asset it buys (a lending market's collateral).
	pub collateral: AssetId,
	/// The asset it pays in (a lending market's debt asset).
	pub debt: AssetId,
	/// What it may still pay, held on the owner's account (`HoldReason::Escrow`).
	pub remaining: u128,
	/// Below the oracle's price of the collateral (in the debt asset): lower is better for the
	/// borrower whose collateral it buys.
	pub discount: Permill,
	/// The first block it may fill in.
	pub active_from: BlockNumber,
	/// The first block it may no longer fill in.
	pub expires_at: BlockNumber,
	/// The owner's native deposit, held while the bid stands (`HoldReason::Deposit`).
	pub deposit: Balance,
}

/// A bid's place in its pair's book: what ordering it and skipping it needs, so that a fill
/// reads only the bids it may use.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	Clone,
	Copy,
	PartialEq,
	Eq,
	RuntimeDebug,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct BookEntry<BlockNumber> {
	/// The bid's discount (the book is ordered by it, lowest first, then by id: older first).
	pub discount: Permill,
	/// The bid.
	pub id: BidId,
	/// The first block it may fill in.
	pub active_from: BlockNumber,
	/// The first block it may no longer fill in.
	pub expires_at: BlockNumber,
	/// The last block it filled in (one fill a block), or its placing block.
	pub filled_at: BlockNumber,
	/// What it still holds (as the bid's `remaining`): a fill passes over a bid too small for
	/// its share without reading it, and an eviction compares amounts.
	pub remaining: u128,
}

impl<BlockNumber> BookEntry<BlockNumber> {
	/// The key the book is sorted by (best first).
	pub fn rank(&self) -> (Permill, BidId) {
		(self.discount, self.id)
	}
}

/// What the bid book needs of the money market and its prices (the runtime wires the lending
/// pallet and the oracle).
pub trait BidMarkets<AccountId, AssetId> {
	/// The largest discount a bid for `collateral` may ask: the collateral market's
	/// liquidation bonus (a bid may never take more than a liquidation gives); `None` when
	/// `collateral` has no lending market.
	fn max_discount(collateral: &AssetId) -> Option<Permill>;
	/// Whether a debt may be in `asset` (it has a lending market).
	fn is_market(asset: &AssetId) -> bool;
	/// `amount` of `asset` valued at the oracle, in the reference unit (rounded down); `None`
	/// without a fresh price.
	fn value(asset: &AssetId, amount: u128) -> Option<u128>;
	/// Whether `owner` can receive `collateral` as lending supply now (it holds that supply
	/// already, or has room for another market): a bid whose owner cannot is passed over, or
	/// its fill would fail and every sale to the pair's bids fall back to the DEX while it
	/// stands at the top (one bid could blind the route). One storage read.
	fn accepts(owner: &AccountId, collateral: &AssetId) -> bool;
}

/// One bid's part of a seizure ([`crate::Pallet::quote`]): `owner`'s bid `id` pays `debt` of
/// its debt asset for `collateral` of the collateral, at its discount below the prices quoted.
#[derive(Clone, PartialEq, Eq, RuntimeDebug)]
pub struct Fill<AccountId> {
	/// The bid.
	pub id: BidId,
	/// Its owner: receives the collateral.
	pub owner: AccountId,
	/// Collateral units it takes (rounded down: the rounding stays with the seller).
	pub collateral: u128,
	/// Debt units it pays.
	pub debt: u128,
}
