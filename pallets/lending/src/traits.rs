//! Traits at the lending pallet's boundaries: what it needs (prices, a position-change hook)
//! and what it offers other pallets (positions, seizure and repayment for liquidation).

use crate::types::Health;
use frame_support::pallet_prelude::DispatchResult;
use sp_arithmetic::{traits::Zero, FixedU128};
use sp_runtime::DispatchError;

/// Why no price could be had.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum PriceError {
	/// The oracle has no price for the asset (or a price of zero).
	Missing,
	/// The oracle's price is older than the maximum age.
	Stale,
}

/// Prices that are fresh or refused: a consumer never sees a price older than `MaxPriceAge`.
/// Lending, liquidation and the breaker all read through this, so none of them can use a price
/// another would refuse.
pub trait PriceSource<AssetId> {
	/// The value of one base unit of `asset` in the reference unit.
	fn price(asset: &AssetId) -> Result<FixedU128, PriceError>;
}

/// An oracle's latest value for an asset with the time (ms) it was fed: what orml's
/// `DataProviderExtended::get_no_op` gives, without naming orml's types (orml-oracle and
/// orml-traits each define their own `TimestampedValue`). The runtime implements it over
/// orml-oracle.
pub trait TimestampedPrices<AssetId> {
	/// `(price, timestamp in ms)` of `asset`, if the oracle has one.
	fn timestamped_price(asset: &AssetId) -> Option<(FixedU128, u64)>;
}

/// [`PriceSource`] over an oracle, refusing prices that are missing, zero, or older than
/// `MaxAge` ms at the time `Now` reports.
pub struct OraclePrices<Oracle, Now, MaxAge>(core::marker::PhantomData<(Oracle, Now, MaxAge)>);

impl<AssetId, Oracle, Now, MaxAge> PriceSource<AssetId> for OraclePrices<Oracle, Now, MaxAge>
where
	Oracle: TimestampedPrices<AssetId>,
	Now: frame_support::traits::UnixTime,
	MaxAge: frame_support::traits::Get<u64>,
{
	fn price(asset: &AssetId) -> Result<FixedU128, PriceError> {
		let (value, timestamp) = Oracle::timestamped_price(asset).ok_or(PriceError::Missing)?;
		if value.is_zero() {
			return Err(PriceError::Missing);
		}
		let now = u64::try_from(Now::now().as_millis()).unwrap_or(u64::MAX);
		// A timestamp from the future is taken as fresh: the oracle stamps with block time.
		if now.saturating_sub(timestamp) > MaxAge::get() {
			return Err(PriceError::Stale);
		}
		Ok(value)
	}
}

/// Called after every change to an account's position, so an index of positions (the
/// liquidation pallet's risk index) stays current without scanning.
pub trait OnPositionChanged<AccountId> {
	/// `who`'s supplies, debts or collateral flags changed.
	fn on_position_changed(who: &AccountId);
}

impl<AccountId> OnPositionChanged<AccountId> for () {
	fn on_position_changed(_: &AccountId) {}
}

/// What a liquidation needs from the money market. Implemented by the lending pallet; the
/// liquidation pallet depends on this trait, never on the lending pallet.
pub trait LendingPositions<AccountId> {
	/// Asset ids of markets.
	type AssetId;

	/// Health of `who`, with interest accrued to now and prices from the [`PriceSource`].
	fn account_health(who: &AccountId) -> Result<Health, DispatchError>;

	/// `who`'s supply of `asset`, with interest (rounded down).
	fn supplied(who: &AccountId, asset: &Self::AssetId) -> Result<u128, DispatchError>;

	/// `who`'s debt in `asset`, with interest (rounded up).
	fn debt(who: &AccountId, asset: &Self::AssetId) -> Result<u128, DispatchError>;

	/// Moves `amount` of `who`'s collateral supply of `asset` out of the market to `to`.
	/// Fails, changing nothing, if `who` has less.
	fn seize_collateral(
		who: &AccountId,
		asset: &Self::AssetId,
		amount: u128,
		to: &AccountId,
	) -> DispatchResult;

	/// `payer` repays `amount` of `who`'s debt in `asset`. Fails, changing nothing, if the debt
	/// is smaller or `payer` cannot pay.
	fn repay_debt(
		payer: &AccountId,
		who: &AccountId,
		asset: &Self::AssetId,
		amount: u128,
	) -> DispatchResult;
}
