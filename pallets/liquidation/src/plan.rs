//! Sizing a liquidation: the oracle prices it uses, the plan of one step (how much debt, how
//! much collateral, at what discount) and the choice of the pair `settle` takes, shared by every
//! route.

use crate::{math, pallet::*, types::*};
use alloc::vec::Vec;
use frame_support::{ensure, pallet_prelude::DispatchError};
use pallet_lending::{
	AccountAssets, Health, LendingPositions, PlanReads, PriceError, PriceSource, ViewError,
};
use sp_arithmetic::{
	helpers_128bit::multiply_by_rational_with_rounding, traits::Zero, FixedPointNumber, FixedU128,
	PerThing, Permill, Rounding,
};

/// One liquidation step, sized: repay `repay` of `debt_asset`, take up to `collateral` of
/// `collateral_asset`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Plan<AssetId> {
	/// The debt repaid.
	pub debt_asset: AssetId,
	/// The collateral seized.
	pub collateral_asset: AssetId,
	/// The account's liquidation health for this pair.
	pub health: Health,
	/// The discount at this health.
	pub discount: Permill,
	/// Debt units to repay.
	pub repay: u128,
	/// Collateral units due for them, the discount included (rounded down).
	pub collateral: u128,
	/// Collateral units worth `repay` at the oracle, without the discount (rounded down).
	pub base: u128,
	/// Oracle price of the debt asset.
	pub debt_price: FixedU128,
	/// Oracle price of the collateral asset.
	pub collateral_price: FixedU128,
}

pub(crate) fn overflow<T: Config>() -> DispatchError {
	Error::<T>::Overflow.into()
}

/// `amount × numerator / denominator` of two prices, rounded as asked.
pub(crate) fn convert<T: Config>(
	amount: u128,
	from: FixedU128,
	to: FixedU128,
	rounding: Rounding,
) -> Result<u128, DispatchError> {
	multiply_by_rational_with_rounding(amount, from.into_inner(), to.into_inner(), rounding)
		.ok_or_else(overflow::<T>)
}

/// The reference value of `amount` units at `price`, rounded down.
pub(crate) fn value_of(amount: u128, price: FixedU128) -> u128 {
	price.saturating_mul_int(amount)
}

/// A collateral's place in the risk order: `(measured volatility, governance rank)`.
type Rank = (Option<FixedU128>, u8);

/// What planning reads, kept for one call that plans many positions before it changes any (a
/// batch plans all its positions, then sells): the lending pallet's markets and prices
/// ([`PlanReads`]), the parameters, and each asset's price and rank for the choice of a pair.
/// A fresh one (`default`) reads everything again.
#[derive(frame_support::DefaultNoBound)]
pub(crate) struct Planning<T: Config> {
	lending: PlanReads<T::AssetId>,
	params: Option<LiquidationParams>,
	prices: Vec<(T::AssetId, Result<FixedU128, DispatchError>)>,
	ranks: Vec<(T::AssetId, Rank)>,
}

impl<T: Config> Planning<T> {
	fn params(&mut self) -> LiquidationParams {
		*self.params.get_or_insert_with(Params::<T>::get)
	}

	/// [`Pallet::price`].
	fn price(&mut self, asset: &T::AssetId) -> Result<FixedU128, DispatchError> {
		if let Some((_, price)) = self.prices.iter().find(|(a, _)| a == asset) {
			return *price;
		}
		let price = Pallet::<T>::price(asset);
		self.prices.push((*asset, price));
		price
	}

	/// A collateral's `(measured volatility, governance rank)`: its place in the risk order.
	fn rank(&mut self, asset: &T::AssetId) -> Rank {
		if let Some((_, rank)) = self.ranks.iter().find(|(a, _)| a == asset) {
			return *rank;
		}
		let rank = (T::Breaker::volatility(asset), RiskRank::<T>::get(asset));
		self.ranks.push((*asset, rank));
		rank
	}
}

impl<T: Config> Pallet<T> {
	pub(crate) fn price(asset: &T::AssetId) -> Result<FixedU128, DispatchError> {
		T::Prices::price(asset).map_err(Self::price_error)
	}

	/// [`Self::price`], and refused (`PriceUnconfirmed`) when the asset's feeds disagree: a
	/// debt priced so is passed over as a stale one is.
	pub(crate) fn undisputed_price(asset: &T::AssetId) -> Result<FixedU128, DispatchError> {
		let price = Self::price(asset)?;
		ensure!(!T::Breaker::price_disputed(asset), Error::<T>::PriceUnconfirmed);
		Ok(price)
	}

	fn price_error(e: PriceError) -> DispatchError {
		match e {
			PriceError::Missing => Error::<T>::PriceMissing.into(),
			PriceError::Stale => Error::<T>::PriceStale.into(),
		}
	}

	/// `(debt price, collateral price)` a liquidation values a pair at: of a two-ended price
	/// (feeds that differ, a jump the breaker holds), the liquidation's ends that favour the
	/// borrower, the debt's low and the collateral's high, as its health is computed (fewest
	/// units seized; for a held fall, the price its severity bound reads).
	pub(crate) fn pair_prices(
		debt: &T::AssetId,
		collateral: &T::AssetId,
	) -> Result<(FixedU128, FixedU128), DispatchError> {
		let (_, collateral_high) =
			T::Prices::liquidation_bounds(collateral).map_err(Self::price_error)?;
		if debt == collateral {
			// One asset, one price (netting repays units with units).
			return Ok((collateral_high, collateral_high));
		}
		let (debt_low, _) = T::Prices::liquidation_bounds(debt).map_err(Self::price_error)?;
		Ok((debt_low, collateral_high))
	}

	/// `(debt price × (1 + discount), collateral price)` as integers of one scale, so that
	/// `r × first / second` is the collateral due for `r` debt units with a single rounding.
	pub(crate) fn discounted_prices(
		debt_price: FixedU128,
		collateral_price: FixedU128,
		discount: Permill,
	) -> Result<(u128, u128), DispatchError> {
		let accuracy = u128::from(Permill::ACCURACY);
		let with =
			accuracy.checked_add(u128::from(discount.deconstruct())).ok_or_else(overflow::<T>)?;
		Ok((
			debt_price.into_inner().checked_mul(with).ok_or_else(overflow::<T>)?,
			collateral_price.into_inner().checked_mul(accuracy).ok_or_else(overflow::<T>)?,
		))
	}

	/// Sizes a liquidation of `borrower`'s `debt_asset` debt against its `collateral_asset`
	/// collateral: refuses a healthy account, stale or missing prices of the two assets, and
	/// dust. `cap` is the keeper's `max_repay`.
	pub fn plan(
		borrower: &T::AccountId,
		debt_asset: T::AssetId,
		collateral_asset: T::AssetId,
		cap: Option<u128>,
	) -> Result<Plan<T::AssetId>, DispatchError> {
		Self::plan_with(&mut Planning::default(), borrower, (debt_asset, collateral_asset), cap)
	}

	/// [`Self::plan`] with what `planning` holds of the state (read once for a batch).
	pub(crate) fn plan_with(
		planning: &mut Planning<T>,
		borrower: &T::AccountId,
		(debt_asset, collateral_asset): (T::AssetId, T::AssetId),
		cap: Option<u128>,
	) -> Result<Plan<T::AssetId>, DispatchError> {
		// The markets, the pair's prices (the liquidation's ends: the debt's low, the
		// collateral's high), the health and what is owed and held, in one read of the account.
		let view = T::Lending::liquidation_view(
			borrower,
			&debt_asset,
			&collateral_asset,
			&mut planning.lending,
		)
		.map_err(|e| match e {
			ViewError::UnknownMarket => Error::<T>::UnknownMarket.into(),
			ViewError::Price(e) => Self::price_error(e),
			ViewError::Health(e) => e,
		})?;
		let market = view.collateral_market;
		let (debt_price, collateral_price) = view.prices;
		let health = view.health;
		ensure!(health.is_liquidatable(), Error::<T>::NotLiquidatable);
		let params = planning.params();
		// A same-asset position is netted (its own supply repays its debt): nothing is sold,
		// so there is no discount to pay.
		let discount = if debt_asset == collateral_asset {
			Permill::zero()
		} else {
			math::discount(
				market.liquidation_bonus,
				params.min_discount_share,
				params.health_for_max_discount,
				health.factor,
			)
		};
		let (owed, held) = (view.owed, view.held);
		ensure!(!owed.is_zero(), Error::<T>::NoDebt);
		// Shares worth no unit (a supply index below 1 after a socialised loss): too small to
		// pay for anything, so `settle` sweeps them and the loss waterfall runs.
		ensure!(!held.is_zero(), Error::<T>::CollateralTooSmall);
		let is_dust = |amount: u128, price: FixedU128| value_of(amount, price) < params.dust_value;
		// Collateral due for `r` debt units, the discount included, and the debt units all of
		// `c` collateral pays for: each rounded down once (the borrower gives no more than the
		// curve says; the repayment it buys is not overstated).
		let (debt_scaled, collateral_scaled) =
			Self::discounted_prices(debt_price, collateral_price, discount)?;
		let due = |r: u128| -> Result<u128, DispatchError> {
			multiply_by_rational_with_rounding(r, debt_scaled, collateral_scaled, Rounding::Down)
				.ok_or_else(overflow::<T>)
		};

		// What brings the account to the target health (rounded up), at most the debt; all of
		// it when the rest would be dust.
		let mut repay = match math::repay_to_target(
			health.debt_value,
			health.liquidation_value,
			params.target_health,
			market.liquidation_threshold,
			discount,
		) {
			Some(value) => multiply_by_rational_with_rounding(
				value,
				FixedU128::DIV,
				debt_price.into_inner(),
				Rounding::Up,
			)
			.unwrap_or(owed)
			.min(owed),
			None => owed,
		};
		if is_dust(owed.saturating_sub(repay), debt_price) {
			repay = owed;
		}
		let mut collateral = due(repay)?;
		if collateral >= held || is_dust(held.saturating_sub(collateral), collateral_price) {
			// All the collateral: it pays for `affordable` debt units (rounded down).
			let affordable = multiply_by_rational_with_rounding(
				held,
				collateral_scaled,
				debt_scaled,
				Rounding::Down,
			)
			.ok_or_else(overflow::<T>)?;
			if affordable < owed {
				// This collateral cannot pay the whole debt: all of it for what it pays. The dust
				// rule is the account's (what a liquidation leaves), never a collateral's: a
				// small collateral of a solvent account is liquidated like any other, and only
				// one that pays for no unit of the debt is too small (refused below).
				repay = affordable;
				collateral = held;
			} else {
				repay = owed;
				collateral = due(owed)?.min(held);
			}
		}
		ensure!(!repay.is_zero(), Error::<T>::CollateralTooSmall);

		if let Some(cap) = cap {
			if cap < repay {
				// The keeper takes less: allowed unless it leaves dust (Aave V4).
				let capped = due(cap)?;
				ensure!(
					!is_dust(owed.saturating_sub(cap), debt_price)
						&& !is_dust(held.saturating_sub(capped), collateral_price),
					Error::<T>::LeavesDust
				);
				repay = cap;
				collateral = capped;
			}
		}
		ensure!(!collateral.is_zero(), Error::<T>::CollateralTooSmall);
		// A partial repayment that clears no debt share cannot be made (the market refuses
		// it): the collateral is too small, and `settle` goes on to the next (or sweeps).
		ensure!(
			pallet_lending::repay_clears_share_at(view.borrow_index, repay, owed),
			Error::<T>::CollateralTooSmall
		);
		let base =
			convert::<T>(repay, debt_price, collateral_price, Rounding::Down)?.min(collateral);
		Ok(Plan {
			debt_asset,
			collateral_asset,
			health,
			discount,
			repay,
			collateral,
			base,
			debt_price,
			collateral_price,
		})
	}

	/// Whether repaying `amount` of a debt of `owed` in `asset` would clear no debt share (a
	/// partial repayment below one share's worth; the lending pallet refuses it).
	pub(crate) fn clears_no_share(asset: &T::AssetId, amount: u128, owed: u128) -> bool {
		!T::Lending::repay_clears_share(asset, amount, owed)
	}

	/// The largest debt by value (fresh prices only; a disputed one at the span of its ends)
	/// and the collateral supplies, riskiest first.
	pub(crate) fn choose(
		borrower: &T::AccountId,
	) -> Result<(T::AssetId, Vec<T::AssetId>), DispatchError> {
		Self::choose_from(&mut Planning::default(), borrower, &T::Lending::account_assets(borrower))
	}

	/// [`Self::choose`] for a borrower in the markets of `assets` (read once by the caller).
	fn choose_from(
		planning: &mut Planning<T>,
		borrower: &T::AccountId,
		assets: &AccountAssets<T::AssetId>,
	) -> Result<(T::AssetId, Vec<T::AssetId>), DispatchError> {
		let mut best: Option<(u128, T::AssetId)> = None;
		let mut first_error = None;
		let only = assets.debts.len() == 1;
		for asset in &assets.debts {
			// (A single debt is the largest whatever it owes: its price only must be fresh.)
			let value = planning.price(asset).and_then(|price| {
				if only {
					return Ok(0);
				}
				T::Lending::debt(borrower, asset).map(|owed| value_of(owed, price))
			});
			match value {
				Ok(value) => {
					if best.is_none_or(|(v, _)| value > v) {
						best = Some((value, *asset));
					}
				},
				Err(e) => {
					first_error.get_or_insert(e);
				},
			}
		}
		let debt = match (best, first_error) {
			(Some((_, asset)), _) => asset,
			(None, Some(e)) => return Err(e),
			(None, None) => return Err(Error::<T>::NoDebt.into()),
		};
		let mut collaterals: Vec<(Option<FixedU128>, u8, T::AssetId)> = assets
			.supplies
			.iter()
			.filter(|(_, collateral)| *collateral)
			.map(|(asset, _)| {
				let (volatility, rank) = planning.rank(asset);
				(volatility, rank, *asset)
			})
			.collect();
		// Most volatile first (measured; an asset not yet measured after every measured one),
		// then the highest governance rank, then by asset id.
		collaterals.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
		Ok((debt, collaterals.into_iter().map(|(_, _, asset)| asset).collect()))
	}

	/// The plan `settle` would carry out: the largest debt against the first collateral in risk
	/// order that can be liquidated (a collateral whose price is stale is passed over).
	pub(crate) fn settle_plan(borrower: &T::AccountId) -> Result<Plan<T::AssetId>, DispatchError> {
		Self::settle_plan_tried(borrower).0
	}

	/// [`Self::settle_plan`], with how many plans it tried, and whether every collateral was too
	/// small to pay for a unit of the debt (dust to sweep).
	pub(crate) fn settle_plan_tried(
		borrower: &T::AccountId,
	) -> (Result<Plan<T::AssetId>, DispatchError>, u32, bool) {
		let assets = T::Lending::account_assets(borrower);
		Self::settle_plan_from(&mut Planning::default(), borrower, &assets)
	}

	/// [`Self::settle_plan_tried`] for a borrower in the markets of `assets` (read once by the
	/// caller), with what `planning` holds of the state.
	pub(crate) fn settle_plan_from(
		planning: &mut Planning<T>,
		borrower: &T::AccountId,
		assets: &AccountAssets<T::AssetId>,
	) -> (Result<Plan<T::AssetId>, DispatchError>, u32, bool) {
		let (debt, mut collaterals) = match Self::choose_from(planning, borrower, assets) {
			Ok(chosen) => chosen,
			Err(e) => return (Err(e), 0, false),
		};
		// A supply of the debt's own asset nets it first: nothing is sold, no discount paid,
		// no price risk taken.
		if let Some(i) = collaterals.iter().position(|c| *c == debt) {
			collaterals.remove(i);
			collaterals.insert(0, debt);
		}
		let mut first_error = None;
		let mut tries = 0u32;
		// Collateral too small for a unit of the LARGEST debt is dust; when a debt was passed
		// over (its price stale), the one chosen may be small and says nothing of the others
		// (found by the soak, seed 221: a solvent account's BTC, too small for its small ETH
		// debt while its USD price was disputed, then passed over, was swept and its USD debt
		// socialised). Nothing is swept here while a debt's price is disputed either (which
		// debt is the largest is then uncertain); `settle`'s dust path, after a refused DEX
		// sale, may sweep under a dispute, judged at the ends that favour the borrower.
		// (Asked only when every collateral was too small: a plan made needs no answer.)
		let every_debt_priced = || assets.debts.iter().all(|d| Self::undisputed_price(d).is_ok());
		let mut all_too_small = !collaterals.is_empty();
		// A plan whose repayment is worth less than a unit of its collateral (a unit or two
		// left by a sale) sells nothing any route can make: the next collateral first, that
		// plan only when no other can be made (so a unit of a volatile collateral cannot
		// shield the rest of an account from `settle`: an attacker review).
		let mut unit_plan = None;
		for collateral in collaterals {
			tries = tries.saturating_add(1);
			match Self::plan_with(planning, borrower, (debt, collateral), None) {
				Ok(plan) if plan.base.is_zero() => {
					all_too_small = false;
					unit_plan.get_or_insert(plan);
				},
				Ok(plan) => return (Ok(plan), tries, false),
				Err(e) => {
					if e != Error::<T>::CollateralTooSmall.into() {
						all_too_small = false;
					}
					first_error.get_or_insert(e);
				},
			}
		}
		if let Some(plan) = unit_plan {
			return (Ok(plan), tries, false);
		}
		let all_too_small = all_too_small && every_debt_priced();
		(Err(first_error.unwrap_or_else(|| Error::<T>::NoCollateral.into())), tries, all_too_small)
	}

	/// The current block number as a `u32` (the queue's ages).
	pub(crate) fn block_number_u32() -> u32 {
		use sp_runtime::SaturatedConversion;
		frame_system::Pallet::<T>::block_number().saturated_into()
	}
}
