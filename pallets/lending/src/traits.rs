//! Traits at the lending pallet's boundaries: what it needs (prices, a position-change hook)
//! and what it offers other pallets (positions, seizure and repayment for liquidation).

use crate::{
	types::{AccountAssets, AccountShares, Amount, Health, MarketParams, PositionTag, WriteOff},
	view::{LiquidationView, PlanReads, ViewError},
};
use frame_support::{pallet_prelude::DispatchResult, weights::Weight};
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

/// Prices that are fresh or refused: a consumer never sees a price older than `MaxPriceAge`
/// unless it asks for an older one by name. Lending, liquidation and the breaker all read
/// through this, so none of them can use a price another would refuse.
pub trait PriceSource<AssetId> {
	/// The value of one base unit of `asset` in the reference unit, at most the maximum price
	/// age old.
	fn price(asset: &AssetId) -> Result<FixedU128, PriceError>;

	/// The oracle's latest value for `asset` if it is at most `max_age_ms` old (the liquidation
	/// health's grace for assets a liquidation does not touch).
	fn price_within(asset: &AssetId, max_age_ms: u64) -> Result<FixedU128, PriceError>;

	/// The two ends `(low, high)` of `asset`'s price, at most the maximum price age old: a
	/// source that knows only one price gives it twice. Whoever the uncertainty would favour
	/// gets the other end: a new borrow values collateral at `low` and debt at `high`, a
	/// liquidation collateral at `high` and debt at `low`.
	fn bounds(asset: &AssetId) -> Result<(FixedU128, FixedU128), PriceError> {
		Self::price(asset).map(|p| (p, p))
	}

	/// [`Self::bounds`] at most `max_age_ms` old.
	fn bounds_within(
		asset: &AssetId,
		max_age_ms: u64,
	) -> Result<(FixedU128, FixedU128), PriceError> {
		Self::price_within(asset, max_age_ms).map(|p| (p, p))
	}

	/// The ends a liquidation reads (collateral at `high`, debt at `low`): [`Self::bounds`],
	/// or narrower where the source lets a liquidation act on part of an unconfirmed move
	/// (the breaker's severity bound for a held fall). Never outside [`Self::bounds`].
	fn liquidation_bounds(asset: &AssetId) -> Result<(FixedU128, FixedU128), PriceError> {
		Self::bounds(asset)
	}

	/// [`Self::liquidation_bounds`] at most `max_age_ms` old.
	fn liquidation_bounds_within(
		asset: &AssetId,
		max_age_ms: u64,
	) -> Result<(FixedU128, FixedU128), PriceError> {
		Self::bounds_within(asset, max_age_ms)
	}

	/// The gate, in `(0, 1)`, of a liquidation against `asset` as collateral (the breaker's
	/// wait after an accepted fall; `None`: no gate). Whether a position is liquidatable reads
	/// the collateral at its liquidation end divided by it (and a debt of the same asset
	/// alike), so only positions below the gate are; what a liquidation seizes is sized at the
	/// liquidation end itself.
	fn liquidation_gate(_asset: &AssetId) -> Option<FixedU128> {
		None
	}
}

/// An oracle's latest value for an asset with the time (ms) it was fed: what orml's
/// `DataProviderExtended::get_no_op` gives, without naming orml's types (orml-oracle and
/// orml-traits each define their own `TimestampedValue`). The runtime implements it over
/// orml-oracle.
pub trait TimestampedPrices<AssetId> {
	/// `(price, timestamp in ms)` of `asset`, if the oracle has one.
	fn timestamped_price(asset: &AssetId) -> Option<(FixedU128, u64)>;

	/// `(low, high, timestamp in ms)`: the two ends of the price where the source has them
	/// (the breaker's checked quote), the one price twice otherwise.
	fn timestamped_bounds(asset: &AssetId) -> Option<(FixedU128, FixedU128, u64)> {
		Self::timestamped_price(asset).map(|(p, at)| (p, p, at))
	}

	/// The ends a liquidation reads, with their time: [`Self::timestamped_bounds`] unless the
	/// source narrows them ([`PriceSource::liquidation_bounds`]).
	fn timestamped_liquidation_bounds(asset: &AssetId) -> Option<(FixedU128, FixedU128, u64)> {
		Self::timestamped_bounds(asset)
	}

	/// [`PriceSource::liquidation_gate`].
	fn liquidation_gate(_asset: &AssetId) -> Option<FixedU128> {
		None
	}
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
		Self::price_within(asset, MaxAge::get())
	}

	fn price_within(asset: &AssetId, max_age_ms: u64) -> Result<FixedU128, PriceError> {
		let (value, timestamp) = Oracle::timestamped_price(asset).ok_or(PriceError::Missing)?;
		Self::checked((value, value, timestamp), max_age_ms).map(|(p, _)| p)
	}

	fn bounds(asset: &AssetId) -> Result<(FixedU128, FixedU128), PriceError> {
		Self::bounds_within(asset, MaxAge::get())
	}

	fn bounds_within(
		asset: &AssetId,
		max_age_ms: u64,
	) -> Result<(FixedU128, FixedU128), PriceError> {
		let quote = Oracle::timestamped_bounds(asset).ok_or(PriceError::Missing)?;
		Self::checked(quote, max_age_ms)
	}

	fn liquidation_bounds(asset: &AssetId) -> Result<(FixedU128, FixedU128), PriceError> {
		Self::liquidation_bounds_within(asset, MaxAge::get())
	}

	fn liquidation_bounds_within(
		asset: &AssetId,
		max_age_ms: u64,
	) -> Result<(FixedU128, FixedU128), PriceError> {
		let quote = Oracle::timestamped_liquidation_bounds(asset).ok_or(PriceError::Missing)?;
		Self::checked(quote, max_age_ms)
	}

	fn liquidation_gate(asset: &AssetId) -> Option<FixedU128> {
		Oracle::liquidation_gate(asset)
	}
}

impl<Oracle, Now: frame_support::traits::UnixTime, MaxAge> OraclePrices<Oracle, Now, MaxAge> {
	/// `(low, high)` of a quote at most `max_age_ms` old with no zero end.
	fn checked(
		(low, high, timestamp): (FixedU128, FixedU128, u64),
		max_age_ms: u64,
	) -> Result<(FixedU128, FixedU128), PriceError> {
		if low.is_zero() || high.is_zero() {
			return Err(PriceError::Missing);
		}
		let now = u64::try_from(Now::now().as_millis()).unwrap_or(u64::MAX);
		// A timestamp from the future is taken as fresh: the oracle stamps with block time.
		if now.saturating_sub(timestamp) > max_age_ms {
			return Err(PriceError::Stale);
		}
		Ok((low, high))
	}
}

/// Which way a change moved an account's risk, whatever the prices.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum RiskChange {
	/// Less debt or more collateral (supply, repay, enable collateral, receiving seized
	/// supply, write-off): no price path makes the account worse off than before.
	Lowered,
	/// More debt or less collateral (borrow, withdraw, disable collateral, seizure).
	Raised,
}

/// The circuit breaker, as the lending pallet needs it (the runtime wires `pallet-breaker`):
/// which assets may not be borrowed or back new borrows. Repayments, deposits, withdrawals and
/// liquidations never ask it.
pub trait BorrowBreaker<AssetId> {
	/// The chain-wide emergency: no new borrows at all.
	fn emergency() -> bool;
	/// `asset` is halted: it may not be borrowed, and as collateral it backs no new borrow, no
	/// withdrawal and no other collateral disabled.
	fn halted(asset: &AssetId) -> bool;
}

/// No breaker.
impl<AssetId> BorrowBreaker<AssetId> for () {
	fn emergency() -> bool {
		false
	}
	fn halted(_: &AssetId) -> bool {
		false
	}
}

/// Called on every change to an account's position, before it is stored, so an index of
/// positions (the liquidation pallet's risk index) stays current without scanning.
pub trait OnPositionChanged<AccountId, AssetId> {
	/// What the hook keeps in each account's position record (where the index filed it):
	/// read and written with the position, so it costs no storage access of its own.
	type Tag: PositionTag;

	/// `who`'s supplies, debts or collateral flags in the markets of `assets` changed, moving
	/// its risk as `change` says; `shares` is its position now and `tag` what the hook kept,
	/// stored with the position after the call. An index may leave an entry in place when
	/// the risk fell (it then over-reports, never misses).
	fn on_position_changed(
		who: &AccountId,
		shares: &AccountShares<AssetId>,
		tag: &mut Self::Tag,
		assets: &[AssetId],
		change: RiskChange,
	);

	/// Weight of one [`Self::on_position_changed`] for `change` at its worst case: every call
	/// that changes a position adds it to its own.
	fn weight(change: RiskChange) -> Weight;
}

impl<AccountId, AssetId> OnPositionChanged<AccountId, AssetId> for () {
	type Tag = ();

	fn on_position_changed(
		_: &AccountId,
		_: &AccountShares<AssetId>,
		_: &mut (),
		_: &[AssetId],
		_: RiskChange,
	) {
	}

	fn weight(_: RiskChange) -> Weight {
		Weight::zero()
	}
}

/// What a liquidation needs from the money market. Implemented by the lending pallet; the
/// liquidation pallet depends on this trait, never on the lending pallet's storage.
pub trait LendingPositions<AccountId> {
	/// Asset ids of markets.
	type AssetId;

	/// What the position-change hook keeps in each account's record
	/// ([`OnPositionChanged::Tag`]).
	type Tag;

	/// Health of `who`, with interest accrued to now and every price fresh (strict: what
	/// borrowing and withdrawing use).
	fn account_health(who: &AccountId) -> Result<Health, DispatchError>;

	/// Health of `who` for a liquidation that repays `debt_asset` and seizes
	/// `collateral_asset`: those two need fresh prices; other assets follow the stale-price rule
	/// of [`crate::Pallet::liquidation_health`].
	fn liquidation_health(
		who: &AccountId,
		debt_asset: &Self::AssetId,
		collateral_asset: &Self::AssetId,
	) -> Result<Health, DispatchError>;

	/// Health of `who` with every asset priced as `liquidation_health` prices the assets the
	/// liquidation does not touch (the latest price within the stale-price grace; a collateral
	/// beyond it worth nothing; a debt beyond it refused): the factor `liquidation_health`
	/// gives for any pair whose prices are fresh, without naming a pair.
	fn grace_health(who: &AccountId) -> Result<Health, DispatchError>;

	/// The stale-price grace (ms) of [`Self::grace_health`]: how old a price of an asset a
	/// liquidation does not touch may be; a collateral without a price this fresh counts for
	/// nothing.
	fn price_grace() -> u64;

	/// What a liquidation of `who` repaying `debt_asset` and seizing `collateral_asset` reads:
	/// the two markets, the pair's prices, `liquidation_health`, what it owes and holds, from
	/// one read of its record. The markets and prices are taken from `reads` when it holds
	/// them and kept in it (a batch plans all its positions with one: nothing is written
	/// between). Refused in the order a liquidation checks: a market, a price, the health.
	fn liquidation_view(
		who: &AccountId,
		debt_asset: &Self::AssetId,
		collateral_asset: &Self::AssetId,
		reads: &mut PlanReads<Self::AssetId>,
	) -> Result<LiquidationView, ViewError>;

	/// The markets `who` is in.
	fn account_assets(who: &AccountId) -> AccountAssets<Self::AssetId>;

	/// `who`'s position in shares (scaled units): the collateral supplies with shares and
	/// every debt. Interest does not change it; one storage read.
	fn account_shares(who: &AccountId) -> AccountShares<Self::AssetId>;

	/// What the hook keeps for `who` (the default for an account with no record): read with
	/// the position, the same storage read.
	fn index_tag(who: &AccountId) -> Self::Tag;

	/// Lets `f` change what the hook keeps for `who`, given its position in shares, in one
	/// read of its record (written again only when the tag changed; a record left with no
	/// market and the default tag goes).
	fn update_index_tag(
		who: &AccountId,
		f: impl FnOnce(&AccountShares<Self::AssetId>, &mut Self::Tag),
	);

	/// `asset`'s `(supply index, borrow index)` with interest accrued to now (not written):
	/// what converts shares to underlying units.
	fn indexes(asset: &Self::AssetId) -> Option<(FixedU128, FixedU128)>;

	/// The parameters of `asset`'s market, if it exists.
	fn market_params(asset: &Self::AssetId) -> Option<MarketParams>;

	/// Every market's asset.
	fn markets() -> alloc::vec::Vec<Self::AssetId>;

	/// At most `limit` markets' assets, in storage order (reads at most `limit + 1` keys).
	fn markets_up_to(limit: u32) -> alloc::vec::Vec<Self::AssetId>;

	/// Up to `limit` accounts with a position, in storage order, starting after `after` (from
	/// the first without it): a page of a full scan, for views only (reads `limit` items).
	fn accounts(after: Option<AccountId>, limit: u32) -> alloc::vec::Vec<AccountId>;

	/// `who`'s supply of `asset`, with interest (rounded down).
	fn supplied(who: &AccountId, asset: &Self::AssetId) -> Result<u128, DispatchError>;

	/// `who`'s debt in `asset`, with interest (rounded up).
	fn debt(who: &AccountId, asset: &Self::AssetId) -> Result<u128, DispatchError>;

	/// Underlying units of `asset` the market can pay out now (its cash, less what keeps the
	/// pallet account alive).
	fn available_cash(asset: &Self::AssetId) -> u128;

	/// Moves supply shares worth `amount` (rounded up, at most the whole supply) of `who`'s
	/// collateral in `asset` to `to`'s supply, who may withdraw when the market has cash. Needs
	/// no cash, so a lent-out market never blocks a liquidation. Returns the shares moved.
	/// Fails, changing nothing, if `who` has less.
	fn seize_collateral(
		who: &AccountId,
		asset: &Self::AssetId,
		amount: u128,
		to: &AccountId,
	) -> Result<u128, DispatchError>;

	/// `who` withdraws `amount` of its supply of `asset` (the liquidation pallet's own account
	/// turning seized shares into cash for the DEX). Returns the amount paid out.
	fn withdraw_supply(
		who: &AccountId,
		asset: &Self::AssetId,
		amount: Amount,
	) -> Result<u128, DispatchError>;

	/// `payer` repays `amount` of `who`'s debt in `asset`. Fails, changing nothing, if the debt
	/// is smaller or `payer` cannot pay.
	fn repay_debt(
		payer: &AccountId,
		who: &AccountId,
		asset: &Self::AssetId,
		amount: u128,
	) -> DispatchResult;

	/// Seizes a lot (the positions of one batched sale) of `asset` collateral in one pass:
	/// from each part, in order, `sold` paid out as tokens to `to` (its supply shares burnt;
	/// one payout for the lot), `tip` moved as supply to `receivers.0` (none when it cannot
	/// hold a supply of `asset`, or less is left) and `rest` (at most what is left) to
	/// `receivers.1` as `rest_paid` says. Each piece takes the shares a single
	/// [`Self::seize_collateral`] of it would (rounded up; all of them for the whole balance).
	/// Returns each part's `(tip, rest)` taken (none from a part without a supply left and
	/// nothing to sell). Fails, changing nothing, if a part's `sold` is not there, the market
	/// lacks the cash, or a part's borrower is a receiver.
	fn seize_lot(
		asset: &Self::AssetId,
		lot: &[crate::LotSeizure<AccountId>],
		to: &AccountId,
		receivers: (&AccountId, &AccountId),
		rest_paid: crate::RestPaid,
	) -> Result<alloc::vec::Vec<(u128, u128)>, DispatchError>;

	/// `payer` repays each `(who, amount)` of debt in `asset` as [`Self::repay_debt`] would,
	/// in one transfer. Fails, changing nothing, if any would.
	fn repay_lot(
		payer: &AccountId,
		asset: &Self::AssetId,
		lot: &[(AccountId, u128)],
	) -> DispatchResult;

	/// [`Self::seize_lot`] of `collateral` and [`Self::repay_lot`] of `debt` by `payer` in one
	/// pass: each borrower's record read and written once (one event each), `repays[i]` repaid
	/// for `lot[i].who`. `sell` runs between the seizure (the sale's tokens paid out to `to`)
	/// and the repayment's transfer: it turns the one into the other; its result is returned
	/// with each part's `(tip, rest)`. When `sell` runs, the borrowers' records and both
	/// markets are written already and the repayment's cash has not arrived: `sell` must not
	/// call into this pallet (the batch's DEX swap does not). Fails, changing nothing, if the
	/// seizure or the repayment would, if `sell` does, or if `repays` does not match `lot` or
	/// the collateral is the debt.
	#[allow(clippy::type_complexity)]
	fn settle_lot<R>(
		assets: (&Self::AssetId, &Self::AssetId),
		lot: (&[crate::LotSeizure<AccountId>], &[u128]),
		to_payer: (&AccountId, &AccountId),
		receivers: (&AccountId, &AccountId),
		rest_paid: crate::RestPaid,
		sell: impl FnOnce() -> Result<R, DispatchError>,
	) -> Result<(alloc::vec::Vec<(u128, u128)>, R), DispatchError>;

	/// Whether `repay_debt` of `amount` against a debt of `owed` in `asset` would clear at least
	/// one debt share, as it requires (a partial repayment burns shares rounded down; a
	/// repayment of all of it always clears).
	fn repay_clears_share(asset: &Self::AssetId, amount: u128, owed: u128) -> bool;

	/// Repays `amount` of `who`'s debt in `asset` from its collateral supply of the same asset
	/// (netting a same-asset position): supply shares worth `amount` (rounded up) and debt
	/// shares worth it (rounded down) are burnt; no tokens move, so a lent-out market never
	/// blocks it. Fails, changing nothing, if the supply or the debt is smaller, or the supply
	/// is not collateral.
	fn net(who: &AccountId, asset: &Self::AssetId, amount: u128) -> DispatchResult;

	/// Forgives `amount` of `who`'s debt in `asset` (bad debt left after its collateral is
	/// gone), charged to the market's reserves first and then to its suppliers.
	fn write_off(
		who: &AccountId,
		asset: &Self::AssetId,
		amount: u128,
	) -> Result<WriteOff, DispatchError>;

	/// Moves `amount` of `asset`'s reserves to `to` (the insurance treasury).
	fn transfer_reserves(asset: &Self::AssetId, amount: u128, to: &AccountId) -> DispatchResult;

	/// Weight of [`Self::account_health`] / [`Self::liquidation_health`] at the worst case.
	fn health_weight() -> Weight;
	/// Weight of [`Self::seize_collateral`]. These weights leave out the position-change hook
	/// (`OnPositionChanged::weight`): the liquidation pallet, the one caller, is the hook and
	/// files the borrower once at the end of its call instead.
	fn seize_collateral_weight() -> Weight;
	/// Weight of [`Self::withdraw_supply`].
	fn withdraw_supply_weight() -> Weight;
	/// Weight of [`Self::repay_debt`].
	fn repay_debt_weight() -> Weight;
	/// Weight of [`Self::net`]: bounded by a seizure plus a repayment (it reads and writes the
	/// same market and position once, and moves no tokens).
	fn net_weight() -> Weight {
		Self::seize_collateral_weight().saturating_add(Self::repay_debt_weight())
	}
	/// Weight of [`Self::write_off`].
	fn write_off_weight() -> Weight;
	/// Weight of [`Self::transfer_reserves`].
	fn transfer_reserves_weight() -> Weight;
}
