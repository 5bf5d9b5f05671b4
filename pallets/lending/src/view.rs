//! What a liquidation reads to plan ([`LendingPositions::liquidation_view`]): an account's
//! health for a pair, what it owes and holds in it and the two markets' parameters, from one
//! read of its record, and [`PlanReads`], the markets and prices read once for a call that
//! plans many positions before it changes any (a batch).

use crate::{impls::Pricing, math, pallet::*, traits::PriceSource, types::*, PriceError};
use alloc::vec::Vec;
use frame_support::traits::Get;
use sp_arithmetic::{traits::Zero, FixedU128, Rounding};
use sp_runtime::DispatchError;

/// Which ends of a price a read asked for ([`PriceSource`]'s four).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Ends {
	/// `bounds`: fresh.
	Bounds,
	/// `bounds_within` the stale-price grace.
	BoundsWithin,
	/// `liquidation_bounds`: fresh.
	Liquidation,
	/// `liquidation_bounds_within` the stale-price grace.
	LiquidationWithin,
}

/// A price's two ends, or why there are none.
type PriceEnds = Result<(FixedU128, FixedU128), PriceError>;

/// Markets accrued to now and prices, each read once and kept for one call.
///
/// Only for reads that no write comes between: a batch plans every position before it sells
/// or repays anything, so every plan reads the state the first one read. A fresh one
/// (`Default`) reads everything again.
#[derive(Clone, Debug)]
pub struct PlanReads<AssetId> {
	now: Option<u64>,
	markets: Vec<(AssetId, Market)>,
	ends: Vec<((AssetId, Ends), PriceEnds)>,
	gates: Vec<(AssetId, Option<FixedU128>)>,
}

impl<AssetId> Default for PlanReads<AssetId> {
	fn default() -> Self {
		Self { now: None, markets: Vec::new(), ends: Vec::new(), gates: Vec::new() }
	}
}

impl<AssetId: Copy + PartialEq> PlanReads<AssetId> {
	/// `asset`'s market accrued to now (not written).
	pub(crate) fn market<T: Config<AssetId = AssetId>>(
		&mut self,
		asset: &AssetId,
	) -> Result<Market, Error<T>> {
		if let Some((_, market)) = self.markets.iter().find(|(a, _)| a == asset) {
			return Ok(*market);
		}
		let now = *self.now.get_or_insert_with(Pallet::<T>::now);
		let (market, _) = Pallet::<T>::accrued_at(asset, now)?;
		self.markets.push((*asset, market));
		Ok(market)
	}

	/// `asset`'s price ends of kind `ends`.
	pub(crate) fn ends<T: Config<AssetId = AssetId>>(
		&mut self,
		asset: &AssetId,
		ends: Ends,
	) -> PriceEnds {
		if let Some((_, read)) = self.ends.iter().find(|(key, _)| *key == (*asset, ends)) {
			return *read;
		}
		let grace = T::StalePriceGrace::get();
		let read = match ends {
			Ends::Bounds => T::Prices::bounds(asset),
			Ends::BoundsWithin => T::Prices::bounds_within(asset, grace),
			Ends::Liquidation => T::Prices::liquidation_bounds(asset),
			Ends::LiquidationWithin => T::Prices::liquidation_bounds_within(asset, grace),
		};
		self.ends.push(((*asset, ends), read));
		read
	}

	/// The liquidation gate of `asset` as collateral ([`PriceSource::liquidation_gate`]).
	pub(crate) fn gate<T: Config<AssetId = AssetId>>(
		&mut self,
		asset: &AssetId,
	) -> Option<FixedU128> {
		if let Some((_, gate)) = self.gates.iter().find(|(a, _)| a == asset) {
			return *gate;
		}
		let gate = T::Prices::liquidation_gate(asset);
		self.gates.push((*asset, gate));
		gate
	}
}

/// What a liquidation of one pair of an account reads ([`LendingPositions::liquidation_view`]).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct LiquidationView {
	/// The collateral market's parameters.
	pub collateral_market: MarketParams,
	/// `(debt price, collateral price)`: the liquidation's ends, the debt's low and the
	/// collateral's high (one price, the collateral's high, when they are one asset).
	pub prices: (FixedU128, FixedU128),
	/// The account's liquidation health for the pair ([`Pallet::liquidation_health`]).
	pub health: Health,
	/// What it owes of the debt asset (rounded up).
	pub owed: u128,
	/// What it holds of the collateral asset (rounded down).
	pub held: u128,
	/// The debt market's borrow index, accrued to now.
	pub borrow_index: FixedU128,
}

/// Why there is no [`LiquidationView`], in the order a liquidation checks.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ViewError {
	/// One of the two assets has no market.
	UnknownMarket,
	/// One of the two prices could not be had (the collateral's asked first).
	Price(PriceError),
	/// The health could not be computed (the account does not owe the debt or hold the
	/// collateral as collateral, another asset's price is refused, an overflow).
	Health(DispatchError),
}

impl<T: Config> Pallet<T> {
	/// [`LendingPositions::liquidation_view`].
	pub fn liquidation_view(
		who: &T::AccountId,
		debt_asset: &T::AssetId,
		collateral_asset: &T::AssetId,
		reads: &mut PlanReads<T::AssetId>,
	) -> Result<LiquidationView, ViewError> {
		let market = |reads: &mut PlanReads<T::AssetId>, asset| match reads.market::<T>(asset) {
			Ok(market) => Ok(market),
			Err(Error::<T>::MarketNotFound) => Err(ViewError::UnknownMarket),
			Err(e) => Err(ViewError::Health(e.into())),
		};
		let debt_market = market(reads, debt_asset)?;
		let collateral_market = market(reads, collateral_asset)?;
		let (_, collateral_high) =
			reads.ends::<T>(collateral_asset, Ends::Liquidation).map_err(ViewError::Price)?;
		let debt_price = if debt_asset == collateral_asset {
			collateral_high
		} else {
			reads.ends::<T>(debt_asset, Ends::Liquidation).map_err(ViewError::Price)?.0
		};
		let health_error = |e: Error<T>| ViewError::Health(e.into());
		let positions = Positions::<T>::get(who).unwrap_or_default();
		let (borrowed, supplied) = Self::liquidation_pair(&positions, debt_asset, collateral_asset)
			.map_err(health_error)?;
		let pricing = Pricing::Liquidation { debt: debt_asset, collateral: collateral_asset };
		let health = Self::health_with(&positions, pricing, reads).map_err(health_error)?;
		let borrow_index = debt_market.state.borrow_index;
		let owed = math::mul(borrowed, borrow_index, Rounding::Up).map_err(Error::<T>::from);
		let held = math::mul(supplied, collateral_market.state.supply_index, Rounding::Down)
			.map_err(Error::<T>::from);
		Ok(LiquidationView {
			collateral_market: collateral_market.params,
			prices: (debt_price, collateral_high),
			health,
			owed: owed.map_err(health_error)?,
			held: held.map_err(health_error)?,
			borrow_index,
		})
	}
}

/// Whether repaying `amount` of a debt of `owed` at borrow index `index` clears a debt share
/// (all of it, or at least one share's worth; the market refuses a repayment that clears
/// none).
pub fn repay_clears_share_at(index: FixedU128, amount: u128, owed: u128) -> bool {
	amount >= owed || math::div(amount, index, Rounding::Down).is_ok_and(|shares| !shares.is_zero())
}
