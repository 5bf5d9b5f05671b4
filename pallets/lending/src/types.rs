//! Types of the lending pallet: market parameters and state, account positions, health.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{BoundedVec, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound};
use scale_info::TypeInfo;
use serde::{Deserialize, Serialize};
use sp_arithmetic::{traits::One, FixedU128, Permill};
use sp_core::Get;

/// Kinked ("jump rate") interest-rate model, annual rates.
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
	Serialize,
	Deserialize,
)]
#[serde(rename_all = "camelCase")]
pub struct RateModel {
	/// Borrow rate at zero utilisation.
	pub base: FixedU128,
	/// Added linearly from zero utilisation up to the kink.
	pub slope1: FixedU128,
	/// Utilisation where the second slope starts; in `(0, 1]`.
	pub kink: FixedU128,
	/// Added linearly from the kink up to full utilisation.
	pub slope2: FixedU128,
}

/// Whether a market takes new business.
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
	Serialize,
	Deserialize,
)]
#[serde(rename_all = "camelCase")]
pub enum MarketStatus {
	/// Every operation is open.
	Active,
	/// No new supply and no new borrow; withdraw, repay, collateral changes and liquidation
	/// (everything that lets an account leave or reduce risk) stay open.
	Paused,
}

/// Risk parameters of one market, set by governance and validated on every change.
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
	Serialize,
	Deserialize,
)]
#[serde(rename_all = "camelCase")]
pub struct MarketParams {
	/// Maximum loan-to-value: borrowing stops at `collateral × collateral_factor`. Zero when
	/// `collateral_enabled` is false: such a supply gives no borrowing power.
	pub collateral_factor: Permill,
	/// Liquidation starts when debt exceeds `collateral × liquidation_threshold`. Kept when
	/// governance turns collateral off, so existing positions are not made liquidatable at once
	/// (Aave's "LTV 0" semantics).
	pub liquidation_threshold: Permill,
	/// Discount a liquidator gets on this collateral.
	pub liquidation_bonus: Permill,
	/// Largest share of one debt a single liquidation may repay.
	pub close_factor: Permill,
	/// Share of borrow interest kept as protocol reserves.
	pub reserve_factor: Permill,
	/// Largest total supply, in underlying units.
	pub supply_cap: u128,
	/// Largest total borrow, in underlying units.
	pub borrow_cap: u128,
	/// Smallest value (in the oracle's reference unit) a debt in this market may have after a
	/// borrow: a dust debt costs more to liquidate than it pays. Zero for no minimum.
	pub min_borrow_value: u128,
	/// How the borrow rate follows utilisation.
	pub rate_model: RateModel,
	/// Whether supplies of this asset may back new debt. Turned off, existing collateral
	/// supplies keep counting at `liquidation_threshold` for health but give no borrowing power.
	pub collateral_enabled: bool,
	/// Whether this asset may be borrowed.
	pub borrow_enabled: bool,
	/// Whether the market takes new supply and borrows.
	pub status: MarketStatus,
}

/// How far and how often a bounded change ([`crate::Authority::Bounded`], the risk track) may
/// move a market's parameters. Absolute bounds are [`MarketParams`]' own validation, for
/// every authority.
#[derive(Clone, Copy, Encode, Decode, MaxEncodedLen, TypeInfo, PartialEq, Eq, Debug)]
pub struct MarketRails {
	/// Blocks between two changes of one market's risk parameters.
	pub min_interval: u32,
	/// Largest move of the collateral factor and of the liquidation threshold, in points.
	pub factor_step: Permill,
	/// Largest move of the liquidation bonus.
	pub bonus_step: Permill,
	/// Largest move of the close factor and of the reserve factor.
	pub share_step: Permill,
	/// Largest move of each rate model value (base, slopes, a year's rate; the kink).
	pub rate_step: FixedU128,
	/// Largest factor by which a cap or the minimum borrow value may grow or shrink.
	pub amount_factor: u32,
}

/// Accounting state of one market, accrued lazily on every touch.
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
pub struct MarketState {
	/// Underlying per supply share; starts at 1, grows with interest and falls only when bad
	/// debt is socialised ([`crate::Event::DebtWrittenOff`]).
	pub supply_index: FixedU128,
	/// Underlying owed per debt share; starts at 1, never decreases.
	pub borrow_index: FixedU128,
	/// Sum of all accounts' supply shares.
	pub total_scaled_supply: u128,
	/// Sum of all accounts' debt shares.
	pub total_scaled_borrow: u128,
	/// Interest kept for the protocol, in underlying units. Never below the asset's minimum
	/// balance while the market has suppliers: that floor keeps the pallet account alive, so
	/// suppliers can always withdraw everything they own.
	pub reserves: u128,
	/// Bad debt socialised to this market's suppliers so far, in underlying units.
	pub bad_debt: u128,
	/// Timestamp (ms) interest was last accrued to.
	pub last_accrued: u64,
}

impl MarketState {
	/// A fresh market at time `now` (ms).
	pub fn new(now: u64) -> Self {
		Self {
			supply_index: FixedU128::one(),
			borrow_index: FixedU128::one(),
			total_scaled_supply: 0,
			total_scaled_borrow: 0,
			reserves: 0,
			bad_debt: 0,
			last_accrued: now,
		}
	}
}

/// A market: its governance parameters and its accounting state, in one storage item so that
/// a health check reads one item per market.
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
pub struct Market {
	/// Risk parameters, set by governance.
	pub params: MarketParams,
	/// Indexes, totals and reserves, accrued lazily.
	pub state: MarketState,
}

/// An account's supply in one market.
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
pub struct SupplyPosition<AssetId> {
	/// The market.
	pub asset: AssetId,
	/// Supply shares; underlying = shares × supply index.
	pub scaled: u128,
	/// Whether this supply backs the account's debt.
	pub collateral: bool,
}

/// An account's debt in one market.
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
pub struct BorrowPosition<AssetId> {
	/// The market.
	pub asset: AssetId,
	/// Debt shares; owed = shares × borrow index.
	pub scaled: u128,
}

/// What a position-change hook keeps in each account's record ([`AccountPositions::tag`]):
/// anything of a bounded encoding with a default (the default meaning "nothing kept").
pub trait PositionTag:
	Clone
	+ Encode
	+ Decode
	+ DecodeWithMemTracking
	+ MaxEncodedLen
	+ TypeInfo
	+ PartialEq
	+ Eq
	+ core::fmt::Debug
	+ Default
	+ 'static
{
}

impl<T> PositionTag for T where
	T: Clone
		+ Encode
		+ Decode
		+ DecodeWithMemTracking
		+ MaxEncodedLen
		+ TypeInfo
		+ PartialEq
		+ Eq
		+ core::fmt::Debug
		+ Default
		+ 'static
{
}

/// Everything one account has in the money market: one storage read gives its health.
#[derive(
	CloneNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	PartialEqNoBound,
	EqNoBound,
	DebugNoBound,
)]
#[scale_info(skip_type_params(Max))]
#[codec(mel_bound(AssetId: MaxEncodedLen, Tag: MaxEncodedLen))]
pub struct AccountPositions<AssetId, Max: Get<u32>, Tag = ()>
where
	AssetId: Clone + PartialEq + Eq + core::fmt::Debug,
	Tag: PositionTag,
{
	/// Supplies, at most `Max` markets.
	pub supplies: BoundedVec<SupplyPosition<AssetId>, Max>,
	/// Debts, at most `Max` markets.
	pub borrows: BoundedVec<BorrowPosition<AssetId>, Max>,
	/// What the position-change hook keeps for the account (the liquidation pallet: where the
	/// account is filed in its risk index). This pallet never reads it: it passes it to the
	/// hook, stores it with the position (so keeping it costs the hook no storage access of
	/// its own), and removes a record only when it is empty and the tag is the default.
	pub tag: Tag,
}

impl<AssetId, Max: Get<u32>, Tag: PositionTag> Default for AccountPositions<AssetId, Max, Tag>
where
	AssetId: Clone + PartialEq + Eq + core::fmt::Debug,
{
	fn default() -> Self {
		Self {
			supplies: BoundedVec::default(),
			borrows: BoundedVec::default(),
			tag: Tag::default(),
		}
	}
}

impl<AssetId, Max: Get<u32>, Tag: PositionTag> AccountPositions<AssetId, Max, Tag>
where
	AssetId: Clone + PartialEq + Eq + core::fmt::Debug,
{
	/// The supply in `asset`, if any.
	pub fn supply(&self, asset: &AssetId) -> Option<&SupplyPosition<AssetId>> {
		self.supplies.iter().find(|p| &p.asset == asset)
	}

	/// The debt in `asset`, if any.
	pub fn borrow(&self, asset: &AssetId) -> Option<&BorrowPosition<AssetId>> {
		self.borrows.iter().find(|p| &p.asset == asset)
	}

	/// Whether the account has nothing left in the markets (its tag aside).
	pub fn is_empty(&self) -> bool {
		self.supplies.is_empty() && self.borrows.is_empty()
	}

	/// Whether the record can go: nothing in the markets and nothing kept by the hook.
	pub fn is_removable(&self) -> bool {
		self.is_empty() && self.tag == Tag::default()
	}

	/// The position in shares, as [`AccountShares`] gives it.
	pub fn shares(&self) -> AccountShares<AssetId> {
		AccountShares {
			collateral: self
				.supplies
				.iter()
				.filter(|s| s.collateral && s.scaled != 0)
				.map(|s| (s.asset.clone(), s.scaled))
				.collect(),
			debts: self.borrows.iter().map(|b| (b.asset.clone(), b.scaled)).collect(),
		}
	}

	/// The markets the account is in, supplies first then debts; an asset in both appears
	/// twice.
	pub fn assets(&self) -> impl Iterator<Item = &AssetId> {
		self.supplies.iter().map(|s| &s.asset).chain(self.borrows.iter().map(|b| &b.asset))
	}
}

/// The markets an account is in, for the liquidation pallet to choose from.
#[derive(Clone, Encode, Decode, TypeInfo, PartialEq, Eq, Debug, Default)]
pub struct AccountAssets<AssetId> {
	/// `(asset, collateral)` of each supply.
	pub supplies: alloc::vec::Vec<(AssetId, bool)>,
	/// Asset of each debt.
	pub debts: alloc::vec::Vec<AssetId>,
}

/// An account's position in shares, for an index that must not move with interest.
#[derive(Clone, Encode, Decode, TypeInfo, PartialEq, Eq, Debug, Default)]
pub struct AccountShares<AssetId> {
	/// `(asset, supply shares)` of each collateral supply with shares.
	pub collateral: alloc::vec::Vec<(AssetId, u128)>,
	/// `(asset, debt shares)` of each debt.
	pub debts: alloc::vec::Vec<(AssetId, u128)>,
}

/// How a bad debt written off was absorbed, in underlying units of its asset.
#[derive(Clone, Copy, Encode, Decode, TypeInfo, PartialEq, Eq, Debug, Default)]
pub struct WriteOff {
	/// Debt forgiven.
	pub amount: u128,
	/// Charged to the market's reserves.
	pub from_reserves: u128,
	/// Socialised: charged to the market's suppliers through the supply index.
	pub socialised: u128,
}

/// Health of an account, all values in the oracle's reference unit.
#[derive(Clone, Copy, Encode, Decode, DecodeWithMemTracking, TypeInfo, PartialEq, Eq, Debug)]
pub struct Health {
	/// Value of the supplies enabled as collateral (rounded down).
	pub collateral_value: u128,
	/// Collateral weighted by collateral factors: the most the account may owe (rounded down).
	pub borrow_limit: u128,
	/// Collateral weighted by liquidation thresholds (rounded down).
	pub liquidation_value: u128,
	/// Value of all debts (rounded up).
	pub debt_value: u128,
	/// `liquidation_value / debt_value`, rounded down; `FixedU128::max_value()` without debt.
	/// Below 1 the account may be liquidated, unless it `waits`.
	pub factor: FixedU128,
	/// Below 1, but a fall's wait lets it wait (a liquidation's health only): with each
	/// collateral the price source gates (`PriceSource::liquidation_gate`) divided by its
	/// gate, and a debt of that same asset likewise, its health is at least 1. The gate only
	/// defers: an account that is not below 1 never waits.
	pub waits: bool,
}

impl Health {
	/// Whether the account may be liquidated: health factor below 1, and no fall's wait.
	pub fn is_liquidatable(&self) -> bool {
		self.factor < FixedU128::one() && !self.waits
	}
}

/// An amount to withdraw or repay: exact, or everything (the amount accrued at execution).
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
pub enum Amount {
	/// Exactly this many units; more than the position holds is an error, never "all".
	Exact(u128),
	/// The whole position as accrued when the call executes.
	All,
}

/// A market as the runtime API reports it.
#[derive(Clone, Encode, Decode, TypeInfo, PartialEq, Eq, Debug)]
pub struct MarketInfo {
	/// The market's parameters.
	pub params: MarketParams,
	/// Total supplied, with interest, in underlying units.
	pub total_supplied: u128,
	/// Total borrowed, with interest, in underlying units.
	pub total_borrowed: u128,
	/// Protocol reserves, in underlying units.
	pub reserves: u128,
	/// Bad debt socialised to suppliers so far, in underlying units.
	pub bad_debt: u128,
	/// Borrowed over supplied, capped at 1 (Compound's utilisation: reserves are not supply).
	pub utilisation: FixedU128,
	/// Annual borrow rate now.
	pub borrow_rate: FixedU128,
	/// Annual supply rate now: borrow rate × utilisation × (1 − reserve factor).
	pub supply_rate: FixedU128,
	/// Supply index accrued to now.
	pub supply_index: FixedU128,
	/// Borrow index accrued to now.
	pub borrow_index: FixedU128,
}

/// One position of an account as the runtime API reports it, accrued to now.
#[derive(Clone, Encode, Decode, TypeInfo, PartialEq, Eq, Debug)]
pub struct PositionInfo<AssetId> {
	/// The market.
	pub asset: AssetId,
	/// Supplied, with interest, in underlying units (rounded down).
	pub supplied: u128,
	/// Whether the supply is collateral.
	pub collateral: bool,
	/// Owed, with interest, in underlying units (rounded up).
	pub borrowed: u128,
}

/// One borrower's part of a lot's seizure ([`crate::LendingPositions::seize_lot`],
/// [`crate::LendingPositions::settle_lot`]), taken from
/// its collateral in this order, each piece as a single seizure would take it (shares rounded
/// up, all of them when the piece is the whole balance).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct LotSeizure<AccountId> {
	/// Whose collateral.
	pub who: AccountId,
	/// Underlying units paid out as tokens (to be sold); must be there.
	pub sold: u128,
	/// Underlying units moved as supply to the tip's receiver: none when it cannot hold a
	/// supply of the asset, or when less than this is left.
	pub tip: u128,
	/// Underlying units for the rest's receiver, at most what is left.
	pub rest: u128,
}

/// How a lot's rest is paid ([`crate::LendingPositions::seize_lot`],
/// [`crate::LendingPositions::settle_lot`]).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum RestPaid {
	/// As supply shares (the receiver must be able to hold a supply of the asset).
	Supply,
	/// As tokens (the market must have the cash).
	Tokens,
}
