//! Soft pre-liquidation (opt-in; Morpho's PreLiquidation, crvUSD's soft liquidation in spirit):
//! a borrower sets a band above health 1, a close share and a bonus below the market's; while
//! its health is in `[1, band)`, any keeper may repay up to the close share of one debt with its
//! own funds, once a block, for collateral worth the repayment plus the bonus. The account
//! deleverages in small steps before the move that would liquidate it, at a smaller penalty.
//! Outside the band nothing changes.
//!
//! Bounds: governance's caps ([`PreLiquidationRules`]) bind every borrower's terms, those set
//! before a cap was lowered included (clamped when used); the bonus is also at most the
//! discount a liquidation of that collateral pays at health 1, so a pre-liquidation never pays
//! more than the liquidation it replaces; a step that would lower the account's health (a
//! bonus too large for the collateral's threshold at that health) is refused, so a keeper can
//! never walk an account down into liquidation; every step is re-checked after it is made.
//!
//! The band a borrower is offered ([`crate::math::offered_band`]) starts where its most
//! volatile collateral's likely fall over the rules' horizon (99%, at the breaker's measured
//! volatility) would bring it to 1: wider for assets that move more.

use crate::{math, pallet::*, plan::overflow, types::*, weights::WeightInfo};
use frame_support::{
	dispatch::{DispatchResultWithPostInfo, PostDispatchInfo},
	ensure,
	pallet_prelude::{DispatchError, DispatchResult, Weight},
	traits::Get,
};
use frame_system::pallet_prelude::BlockNumberFor;
use margincall_rails::Authority;
use pallet_lending::{Amount, LendingPositions};
use sp_arithmetic::{
	helpers_128bit::multiply_by_rational_with_rounding,
	traits::{One, Saturating, Zero},
	FixedU128, Permill, Rounding,
};

/// One pre-liquidation step, sized.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct PrePlan<AssetId, BlockNumber> {
	pub offer: PreLiquidationOffer<AssetId>,
	/// The borrower's health for the pair now.
	pub health: FixedU128,
	/// The pair's prices it was sized at.
	pub debt_price: FixedU128,
	pub collateral_price: FixedU128,
	/// The borrower's entry (written back with this block).
	pub entry: PreLiquidationEntry<BlockNumber>,
}

impl<T: Config> Pallet<T> {
	/// `pre_liquidate` at its worst: the step (two health reads of an account in every market),
	/// the record of the borrower's running auction, and the treasury's fee paid out of its
	/// supplies (as `liquidate`'s).
	pub fn pre_liquidate_weight() -> Weight {
		T::WeightInfo::pre_liquidate()
			.saturating_add(T::DbWeight::get().reads(2))
			.saturating_add(Self::treasury_extra_weight())
			// The borrower filed anew at the end ([`Self::deferring`]).
			.saturating_add(Self::filing_weight())
	}

	pub(crate) fn do_set_pre_liquidation(
		who: &T::AccountId,
		terms: Option<PreLiquidationTerms>,
	) -> DispatchResult {
		let Some(terms) = terms else {
			ensure!(PreLiquidation::<T>::contains_key(who), Error::<T>::NoPreLiquidation);
			PreLiquidation::<T>::remove(who);
			Self::deposit_event(Event::PreLiquidationCleared { account: who.clone() });
			return Ok(());
		};
		PreLiquidationCaps::<T>::get().check(&terms).map_err(Self::pre_liquidation_error)?;
		// Only a borrower opts in (an entry of an account with no debt would cost the keepers'
		// scans for nothing).
		ensure!(!T::Lending::account_assets(who).debts.is_empty(), Error::<T>::NoDebt);
		// Replacing the terms keeps the last step's block: no second step in the block.
		let last = PreLiquidation::<T>::get(who).and_then(|e| e.last);
		PreLiquidation::<T>::insert(who, PreLiquidationEntry { terms, last });
		Self::deposit_event(Event::PreLiquidationSet { account: who.clone(), terms });
		Ok(())
	}

	pub(crate) fn do_set_pre_liquidation_rules(
		rules: PreLiquidationRules,
		authority: Authority,
	) -> DispatchResult {
		rules.validate().map_err(Self::pre_liquidation_error)?;
		let old = PreLiquidationCaps::<T>::get();
		Self::on_rails(ParamRecord::PreLiquidation, authority, |s| {
			s.fixed("max_band", old.max_band, rules.max_band)
				.points("max_close_share", old.max_close_share, rules.max_close_share)
				.points("max_bonus", old.max_bonus, rules.max_bonus)
				.amount("horizon", u128::from(old.horizon), u128::from(rules.horizon))
		})?;
		PreLiquidationCaps::<T>::put(rules);
		Self::deposit_event(Event::PreLiquidationRulesSet { rules });
		Ok(())
	}

	fn pre_liquidation_error(e: PreLiquidationError) -> DispatchError {
		match e {
			PreLiquidationError::BandOutOfRange => Error::<T>::BandOutOfRange,
			PreLiquidationError::CloseShareOutOfRange => Error::<T>::CloseShareOutOfRange,
			PreLiquidationError::BonusOutOfRange => Error::<T>::PreLiquidationBonusOutOfRange,
			PreLiquidationError::HorizonOutOfRange => Error::<T>::HorizonOutOfRange,
		}
		.into()
	}

	/// Sizes a pre-liquidation of `borrower`'s `debt_asset` debt against its `collateral_asset`
	/// collateral, capped at `cap` debt units: refuses an account not opted in, outside its
	/// band, pre-liquidated in this block, and what `liquidate` refuses of the two assets.
	pub(crate) fn pre_plan(
		borrower: &T::AccountId,
		debt_asset: T::AssetId,
		collateral_asset: T::AssetId,
		cap: Option<u128>,
	) -> Result<PrePlan<T::AssetId, BlockNumberFor<T>>, DispatchError> {
		let entry = PreLiquidation::<T>::get(borrower).ok_or(Error::<T>::NoPreLiquidation)?;
		let now = frame_system::Pallet::<T>::block_number();
		ensure!(entry.last != Some(now), Error::<T>::PreLiquidatedThisBlock);
		ensure!(debt_asset != collateral_asset, Error::<T>::SameAsset);
		ensure!(T::Lending::market_params(&debt_asset).is_some(), Error::<T>::UnknownMarket);
		let market =
			T::Lending::market_params(&collateral_asset).ok_or(Error::<T>::UnknownMarket)?;
		let terms = PreLiquidationCaps::<T>::get().clamp(entry.terms);
		// No step while the oracle guard holds or the feeders dispute a price of any of the
		// account's assets: a liquidation reads such a price at an end a fall not yet accepted
		// sets (review: an account above its band at the accepted price was pulled into it,
		// and paid at a price that may never hold). A liquidation has to act then; a gentle
		// step can wait for the price.
		let assets = T::Lending::account_assets(borrower);
		ensure!(
			assets
				.supplies
				.iter()
				.map(|(asset, _)| asset)
				.chain(assets.debts.iter())
				.all(|asset| !T::Breaker::price_unsettled(asset)),
			Error::<T>::PriceUnconfirmed
		);
		let (debt_price, collateral_price) = Self::pair_prices(&debt_asset, &collateral_asset)?;
		let health = T::Lending::liquidation_health(borrower, &debt_asset, &collateral_asset)?;
		// At least 1 as it stands (review: an account below 1 that a fall's gate lets wait is
		// not liquidatable, and is not the band's either).
		ensure!(health.factor >= FixedU128::one(), Error::<T>::BelowOne);
		ensure!(health.factor < terms.band, Error::<T>::AboveBand);
		let params = Params::<T>::get();
		// Never more than the liquidation it stands in for pays at health 1.
		let bonus = terms.bonus.min(math::discount(
			market.liquidation_bonus,
			params.min_discount_share,
			params.health_for_max_discount,
			FixedU128::one(),
		));
		let owed = T::Lending::debt(borrower, &debt_asset)?;
		ensure!(!owed.is_zero(), Error::<T>::NoDebt);
		let held = Self::free_of_auction(borrower, collateral_asset)?;
		ensure!(!held.is_zero(), Error::<T>::CollateralTooSmall);
		// The close share grows with the depth in the band (Morpho's close factor): none of it
		// at the band, all of it at health 1, so the steps are small where the account is
		// barely in and larger as it falls (rounded down).
		let span = terms.band.saturating_sub(FixedU128::one());
		let depth = terms.band.saturating_sub(health.factor);
		let step = multiply_by_rational_with_rounding(
			terms.close_share.mul_floor(owed),
			depth.into_inner(),
			span.into_inner(),
			Rounding::Down,
		)
		.ok_or_else(overflow::<T>)?;
		// At most the keeper's cap, at least half the step (review: a step of a unit a block
		// would hold the block's one step, keeping the honest keepers out until the account
		// falls into the larger liquidation discount).
		let repay = cap.map_or(step, |cap| step.min(cap));
		ensure!(!repay.is_zero() && repay >= step.saturating_div(2), Error::<T>::StepTooSmall);
		let mut repay = repay;
		let (debt_scaled, collateral_scaled) =
			Self::discounted_prices(debt_price, collateral_price, bonus)?;
		// Collateral due, the bonus included, rounded down; at most what the borrower holds
		// outside an auction's lot (then the repayment it pays for, rounded down).
		let mut collateral = multiply_by_rational_with_rounding(
			repay,
			debt_scaled,
			collateral_scaled,
			Rounding::Down,
		)
		.ok_or_else(overflow::<T>)?;
		if collateral > held {
			collateral = held;
			repay = multiply_by_rational_with_rounding(
				held,
				collateral_scaled,
				debt_scaled,
				Rounding::Down,
			)
			.ok_or_else(overflow::<T>)?;
		}
		ensure!(!repay.is_zero() && !collateral.is_zero(), Error::<T>::CollateralTooSmall);
		// A step, not a close: what it leaves must not be dust (small accounts are left to
		// the liquidation, which closes them whole).
		let is_dust = |amount: u128, price: FixedU128| {
			crate::plan::value_of(amount, price) < params.dust_value
		};
		let left = held.saturating_sub(collateral);
		ensure!(
			!is_dust(owed.saturating_sub(repay), debt_price)
				&& (left.is_zero() || !is_dust(left, collateral_price)),
			Error::<T>::LeavesDust
		);
		ensure!(!Self::clears_no_share(&debt_asset, repay, owed), Error::<T>::CollateralTooSmall);
		Ok(PrePlan {
			offer: PreLiquidationOffer { debt_asset, collateral_asset, repay, collateral, bonus },
			health: health.factor,
			debt_price,
			collateral_price,
			entry: PreLiquidationEntry { terms: entry.terms, last: Some(now) },
		})
	}

	pub(crate) fn do_pre_liquidate(
		keeper: &T::AccountId,
		borrower: &T::AccountId,
		debt_asset: T::AssetId,
		collateral_asset: T::AssetId,
		max_repay: Amount,
		min_bonus: Permill,
	) -> DispatchResultWithPostInfo {
		ensure!(keeper != borrower, Error::<T>::SelfLiquidation);
		let cap = match max_repay {
			Amount::Exact(0) => return Err(Error::<T>::ZeroAmount.into()),
			Amount::Exact(cap) => Some(cap),
			Amount::All => None,
		};
		let plan = Self::pre_plan(borrower, debt_asset, collateral_asset, cap)?;
		let offer = plan.offer;
		// The keeper's bound: a borrower who lowers its bonus in the block refuses the step,
		// rather than the keeper paying for less than it asked.
		ensure!(offer.bonus >= min_bonus, Error::<T>::BonusBelowMinimum);
		T::Lending::repay_debt(keeper, borrower, &debt_asset, offer.repay)?;
		// The protocol's share of the bonus (what is due beyond the repayment's worth at the
		// oracle, rounded down), rounded up (in its favour), as on every route.
		let base = crate::plan::convert::<T>(
			offer.repay,
			plan.debt_price,
			plan.collateral_price,
			Rounding::Down,
		)?
		.min(offer.collateral);
		let fee = Params::<T>::get().protocol_fee.mul_ceil(offer.collateral.saturating_sub(base));
		let to_keeper = offer.collateral.saturating_sub(fee);
		// A keeper never repays for nothing (the fee, rounded up, taking a unit-sized step).
		ensure!(!to_keeper.is_zero(), Error::<T>::StepTooSmall);
		T::Lending::seize_collateral(borrower, &collateral_asset, to_keeper, keeper)?;
		let fee = Self::seize_rest(borrower, collateral_asset, fee)?;
		// Checked as made: a step that lowers the account's health is undone. (The grace
		// health is the pair's health when, as here, the pair's prices are fresh; it needs no
		// supply of the collateral left, which a step may take whole.)
		let after = T::Lending::grace_health(borrower)?;
		ensure!(after.factor >= plan.health, Error::<T>::HealthWouldFall);
		PreLiquidation::<T>::insert(borrower, plan.entry);
		Self::deposit_event(Event::PreLiquidated {
			borrower: borrower.clone(),
			keeper: keeper.clone(),
			debt_asset,
			collateral_asset,
			repaid: offer.repay,
			seized: to_keeper,
			protocol_fee: fee,
			bonus: offer.bonus,
			health_before: plan.health,
			health_after: after.factor,
		});
		Ok(PostDispatchInfo { actual_weight: None, pays_fee: frame_support::dispatch::Pays::Yes })
	}

	/// What `borrower` holds of `collateral_asset` outside the lot of its running auction of
	/// that collateral (the lot is the auction's: sold by `take`, at the auction's price).
	pub(crate) fn free_of_auction(
		borrower: &T::AccountId,
		collateral_asset: T::AssetId,
	) -> Result<u128, DispatchError> {
		let held = T::Lending::supplied(borrower, &collateral_asset)?;
		if let Some(auction) = BorrowerAuction::<T>::get(borrower).and_then(Auctions::<T>::get) {
			if auction.collateral_asset == collateral_asset && Self::takeable(&auction)? {
				let (_, lot) = Self::remaining(&auction)?;
				return Ok(held.saturating_sub(lot));
			}
		}
		Ok(held)
	}

	/// The band offered to `who`: [`math::offered_band`] of its most volatile collateral.
	pub fn offered_band(who: &T::AccountId) -> FixedU128 {
		let rules = PreLiquidationCaps::<T>::get();
		let assets = T::Lending::account_assets(who);
		let collaterals: alloc::vec::Vec<_> =
			assets.supplies.iter().filter(|(_, c)| *c).map(|(a, _)| *a).collect();
		let mut band: Option<FixedU128> = None;
		for asset in collaterals {
			let b =
				math::offered_band(T::Breaker::volatility(&asset), rules.horizon, rules.max_band);
			band = Some(band.map_or(b, |x| x.max(b)));
		}
		band.unwrap_or(rules.max_band)
	}

	/// The view of `who`'s pre-liquidation (`liquidationApi.preLiquidation`).
	pub fn pre_liquidation_view(who: &T::AccountId) -> PreLiquidationView<T::AssetId> {
		let rules = PreLiquidationCaps::<T>::get();
		let terms = PreLiquidation::<T>::get(who).map(|e| rules.clamp(e.terms));
		let health = T::Lending::grace_health(who).ok().map(|h| h.factor);
		let offer = Self::choose(who).and_then(|(debt, collaterals)| {
			let mut first_error = None;
			for collateral in collaterals.into_iter().filter(|c| *c != debt) {
				match Self::pre_plan(who, debt, collateral, None) {
					Ok(plan) => return Ok(plan.offer),
					Err(e) => {
						first_error.get_or_insert(e);
					},
				}
			}
			Err(first_error.unwrap_or_else(|| Error::<T>::NoCollateral.into()))
		});
		PreLiquidationView { terms, suggested_band: Self::offered_band(who), rules, health, offer }
	}
}
