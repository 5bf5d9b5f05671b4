//! The loss waterfall: dust accounts swept, and a shortfall covered by the treasury before the
//! rest is socialised to the market's suppliers.

use crate::{pallet::*, plan::Plan, weights::WeightInfo};
use frame_support::{
	ensure,
	pallet_prelude::{DispatchError, Weight},
	storage::with_storage_layer,
};
use pallet_lending::LendingPositions;
use sp_arithmetic::traits::Zero;

impl<T: Config> Pallet<T> {
	/// Sweeping `n` dust collaterals to the treasury.
	pub(crate) fn sweep_weight(n: u32) -> Weight {
		T::Lending::seize_collateral_weight()
			.saturating_add(T::Lending::health_weight())
			.saturating_mul(u64::from(n))
	}

	/// Seizes every collateral of `borrower` to the insurance treasury: each is too small to
	/// pay for a unit of its debt, and would otherwise keep the loss waterfall from running.
	/// Returns how many it swept.
	pub(crate) fn sweep_dust(borrower: &T::AccountId) -> Result<u32, DispatchError> {
		let mut swept = 0u32;
		for (asset, collateral) in T::Lending::account_assets(borrower).supplies {
			if !collateral {
				continue;
			}
			let amount = T::Lending::supplied(borrower, &asset)?;
			if amount.is_zero() {
				// Shares worth no unit: nothing to move (they count as no collateral).
				continue;
			}
			Self::seize_to_treasury(borrower, asset, amount)?;
			Self::deposit_event(Event::DustCollateralSwept {
				borrower: borrower.clone(),
				asset,
				amount,
			});
			swept = swept.saturating_add(1);
		}
		Ok(swept)
	}

	/// Whether `borrower` holds a collateral worth at least one unit (shares worth no unit, as
	/// a supply index below 1 can leave, count as none: they can neither be sold nor keep the
	/// loss waterfall from closing the debt). A supply that cannot be read counts as held.
	pub(crate) fn has_collateral(borrower: &T::AccountId) -> bool {
		T::Lending::account_assets(borrower).supplies.iter().any(|(asset, collateral)| {
			*collateral && T::Lending::supplied(borrower, asset).map_or(true, |a| !a.is_zero())
		})
	}

	/// Whether `borrower`, as `plan` found it, is insolvent with all its collateral worth less
	/// than the dust value (the account's dust rule), every collateral priced fresh (a
	/// collateral whose feed is dead counts for nothing in the health, and is not swept).
	pub(crate) fn is_dust_account(borrower: &T::AccountId, plan: &Plan<T::AssetId>) -> bool {
		let health = &plan.health;
		health.collateral_value < Params::<T>::get().dust_value
			&& health.collateral_value < health.debt_value
			&& T::Lending::account_assets(borrower)
				.supplies
				.iter()
				.filter(|(_, collateral)| *collateral)
				.all(|(asset, _)| Self::price(asset).is_ok())
	}

	pub(crate) fn shortfall_weight(debts: u32) -> Weight {
		if debts.is_zero() {
			Weight::zero()
		} else {
			T::WeightInfo::cover_shortfall(debts)
		}
	}

	/// When `borrower` has debt and no collateral left, covers each debt: the insurance
	/// treasury's holdings of the asset, then the market's reserves, then its suppliers.
	/// Returns how many debts it covered.
	pub(crate) fn cover_shortfall(borrower: &T::AccountId) -> Result<u32, DispatchError> {
		if Self::has_collateral(borrower) {
			return Ok(0);
		}
		let assets = T::Lending::account_assets(borrower);
		let treasury = Self::insurance_account();
		let mut covered = 0u32;
		for asset in assets.debts {
			let owed = T::Lending::debt(borrower, &asset)?;
			if owed.is_zero() {
				continue;
			}
			let available = Self::insurance_spendable(asset).min(owed);
			// A repayment that clears no debt share is refused by the market: then the treasury
			// pays nothing and the rest of the waterfall covers all of it.
			let paid = !available.is_zero()
				&& with_storage_layer(|| {
					Self::fund_treasury(asset, available)?;
					T::Lending::repay_debt(&treasury, borrower, &asset, available)
				})
				.is_ok();
			if paid {
				Self::deposit_event(Event::ShortfallCoveredByInsurance {
					borrower: borrower.clone(),
					asset,
					amount: available,
				});
			}
			// What is left, read again (a partial repayment rounds in the market's favour), is
			// written off whole.
			let rest = T::Lending::debt(borrower, &asset)?;
			if !rest.is_zero() {
				let written = T::Lending::write_off(borrower, &asset, rest)?;
				ensure!(
					written.from_reserves.checked_add(written.socialised) == Some(rest),
					Error::<T>::Overflow
				);
				if !written.from_reserves.is_zero() {
					Self::deposit_event(Event::ShortfallCoveredByReserves {
						borrower: borrower.clone(),
						asset,
						amount: written.from_reserves,
					});
				}
				if !written.socialised.is_zero() {
					BadDebt::<T>::mutate(asset, |total| {
						*total = total.saturating_add(written.socialised)
					});
					Self::deposit_event(Event::BadDebtSocialised {
						borrower: borrower.clone(),
						asset,
						amount: written.socialised,
					});
				}
			}
			covered = covered.saturating_add(1);
		}
		Ok(covered)
	}
}
