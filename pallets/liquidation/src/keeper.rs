//! The keeper route: `liquidate`, a keeper's own funds repaying the debt for the collateral and
//! its discount.

use crate::{pallet::*, weights::WeightInfo};
use frame_support::{
	dispatch::{DispatchResultWithPostInfo, PostDispatchInfo},
	ensure,
	pallet_prelude::{DispatchError, Weight},
	traits::Get,
};
use pallet_lending::{Amount, LendingPositions};
use sp_arithmetic::traits::Zero;

impl<T: Config> Pallet<T> {
	/// `liquidate` at its worst: the keeper step plus the loss waterfall over every debt, and
	/// the record of the borrower's running auction and the auction parameters (the
	/// benchmark's borrower has no auction; the rest of what the check reads, the prices, the
	/// debt and the supply, the keeper step reads anyway).
	pub fn liquidate_weight() -> Weight {
		T::WeightInfo::liquidate()
			.saturating_add(T::DbWeight::get().reads(2))
			.saturating_add(Self::cover_shortfall_weight(T::MaxDebts::get()))
			.saturating_add(Self::treasury_extra_weight())
			// The borrower filed anew at the end ([`Self::deferring`]).
			.saturating_add(Self::filing_weight())
	}

	pub(crate) fn do_liquidate(
		keeper: &T::AccountId,
		borrower: &T::AccountId,
		debt_asset: T::AssetId,
		collateral_asset: T::AssetId,
		max_repay: Amount,
	) -> DispatchResultWithPostInfo {
		ensure!(keeper != borrower, Error::<T>::SelfLiquidation);
		// A same-asset position is netted by `settle`, for no discount: a keeper has nothing
		// to buy.
		ensure!(debt_asset != collateral_asset, Error::<T>::SameAsset);
		let cap = match max_repay {
			Amount::Exact(0) => return Err(Error::<T>::ZeroAmount.into()),
			Amount::Exact(cap) => Some(cap),
			Amount::All => None,
		};
		let plan = Self::plan(borrower, debt_asset, collateral_asset, cap)?;
		// The lot of the borrower's running auction is the auction's: `take` from it. A
		// keeper's fixed discount would undercut the auction's price, and on an insolvent
		// account the lenders pay for it (found by the cascade benchmark's own-funds keeper:
		// 56 USDM of bad debt in a crash became 31,540). What the borrower holds of the asset
		// beyond the lot stays liquidatable (an attacker review: refusing the whole asset let a
		// small auction shield the rest while nothing could sell it), and so does the lot of an
		// auction that must first be reset, which sells nothing until then (the soak, seed
		// 4014: with the debt's price held and the auction past its cusp, no route could act on
		// a liquidatable account).
		ensure!(
			plan.collateral <= Self::free_of_auction(borrower, collateral_asset)?,
			Error::<T>::InAuction
		);
		let params = Params::<T>::get();
		// The protocol's share of the discount, rounded up (in its favour).
		let bonus = plan.collateral.saturating_sub(plan.base);
		let fee = params.protocol_fee.mul_ceil(bonus);
		let to_keeper = plan.collateral.saturating_sub(fee);
		// A keeper never repays for nothing (a unit of collateral whose repayment is worth
		// less than it: the fee, rounded up, would take it all).
		ensure!(!to_keeper.is_zero(), Error::<T>::CollateralTooSmall);
		T::Lending::repay_debt(keeper, borrower, &debt_asset, plan.repay)?;
		T::Lending::seize_collateral(borrower, &collateral_asset, to_keeper, keeper)?;
		let fee = Self::seize_rest(borrower, collateral_asset, fee)?;
		Self::deposit_event(Event::Liquidated {
			borrower: borrower.clone(),
			liquidator: keeper.clone(),
			debt_asset,
			collateral_asset,
			repaid: plan.repay,
			seized: to_keeper,
			protocol_fee: fee,
			discount: plan.discount,
			health: plan.health.factor,
		});
		let debts = Self::cover_shortfall(borrower)?;
		Ok(PostDispatchInfo {
			actual_weight: Some(
				T::WeightInfo::liquidate().saturating_add(Self::shortfall_weight(debts)),
			),
			pays_fee: frame_support::dispatch::Pays::Yes,
		})
	}

	/// Seizes `amount` of `borrower`'s `asset` collateral for the insurance treasury, at most
	/// what is left of it (the shares seized before were rounded up). Returns what was seized.
	pub(crate) fn seize_rest(
		borrower: &T::AccountId,
		asset: T::AssetId,
		amount: u128,
	) -> Result<u128, DispatchError> {
		if amount.is_zero() {
			return Ok(0);
		}
		let left = T::Lending::supplied(borrower, &asset)?;
		let amount = amount.min(left);
		if amount.is_zero() || Self::treasury_cannot_take(&asset, amount) {
			return Ok(0);
		}
		Self::seize_to_treasury(borrower, asset, amount)?;
		Ok(amount)
	}
}
