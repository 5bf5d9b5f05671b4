//! The insurance treasury: what it holds and may spend (tokens and its lending supply), the
//! backstop that buys a seizure the DEX refuses, and seizures into it.

use crate::{pallet::*, plan::Plan};
use frame_support::{
	ensure,
	pallet_prelude::{DispatchError, DispatchResult, Weight},
	storage::with_storage_layer,
	traits::{
		fungibles::{Inspect, Mutate},
		tokens::{Fortitude, Preservation},
		Get,
	},
};
use pallet_lending::{Amount, LendingPositions};
use sp_arithmetic::{
	helpers_128bit::multiply_by_rational_with_rounding, traits::Zero, PerThing, Permill, Rounding,
};

impl<T: Config> Pallet<T> {
	/// What the treasury's side of a call may add to its benchmark: its fee or purchase paid
	/// out as tokens when it holds supply in as many markets as it may (a withdrawal), and its
	/// own supply withdrawn to fund a repayment (another).
	pub(crate) fn treasury_extra_weight() -> Weight {
		T::Lending::withdraw_supply_weight().saturating_mul(2)
	}

	/// Moves `amount` of `borrower`'s `asset` collateral to the insurance treasury: as lending
	/// supply; or, when the treasury already holds supply in as many markets as an account may
	/// (`MaxDebts`, the lending pallet's `MaxAssetsPerAccount`) and not in this one, as tokens
	/// (seized into the working account and withdrawn: the market needs the cash). So a
	/// treasury that has received collateral in many markets never blocks a liquidation.
	pub(crate) fn seize_to_treasury(
		borrower: &T::AccountId,
		asset: T::AssetId,
		amount: u128,
	) -> DispatchResult {
		let treasury = Self::insurance_account();
		if !Self::treasury_full(&asset) {
			T::Lending::seize_collateral(borrower, &asset, amount, &treasury)?;
			return Ok(());
		}
		with_storage_layer(|| {
			let account = Self::account_id();
			Self::seize_and_withdraw(borrower, asset, amount, &account)?;
			T::Assets::transfer(asset, &account, &treasury, amount, Preservation::Expendable)?;
			Ok(())
		})
	}

	/// Whether the treasury, full ([`Self::treasury_full`]: it takes `asset` as tokens), could
	/// not receive `amount` of it: less than its minimum balance, the treasury holding less
	/// than that. Such a share is not taken (the borrower keeps it; found in session 28: the
	/// payout failed the whole liquidation).
	pub(crate) fn treasury_cannot_take(asset: &T::AssetId, amount: u128) -> bool {
		let min = T::Assets::minimum_balance(*asset);
		amount < min
			&& T::Assets::balance(*asset, &Self::insurance_account()) < min
			&& Self::treasury_full(asset)
	}

	/// Whether the treasury holds supply in as many markets as an account may, not `asset`'s.
	pub(crate) fn treasury_full(asset: &T::AssetId) -> bool {
		let supplies = T::Lending::account_assets(&Self::insurance_account()).supplies;
		!supplies.iter().any(|(a, _)| a == asset)
			&& supplies.len() >= usize::try_from(T::MaxDebts::get()).unwrap_or(usize::MAX)
	}

	/// The backstop: the insurance treasury repays and takes the collateral at the oracle price
	/// less the backstop discount (at most what is due). Returns the collateral it took.
	pub(crate) fn backstop(
		borrower: &T::AccountId,
		plan: &Plan<T::AssetId>,
	) -> Result<u128, DispatchError> {
		let treasury = Self::insurance_account();
		let take = Self::backstop_take(plan);
		// A repayment worth less than a unit of the collateral (a unit or two left by a sale)
		// buys nothing: no route here (the dust sweep and the waterfall take such an account;
		// before, the zero seizure failed the whole settlement and the account stayed out of
		// the waterfall for good: found by the cascade benchmark, crash-spam with makers).
		ensure!(!take.is_zero(), Error::<T>::NoRoute);
		let (now, spent) =
			Self::backstop_room(plan.debt_asset, plan.repay).ok_or(Error::<T>::NoRoute)?;
		with_storage_layer(|| {
			// What the treasury cannot fund (its supply's market short of cash after all) is
			// no route, not a failed settlement.
			Self::fund_treasury(plan.debt_asset, plan.repay).map_err(|_| Error::<T>::NoRoute)?;
			T::Lending::repay_debt(&treasury, borrower, &plan.debt_asset, plan.repay)?;
			Self::seize_to_treasury(borrower, plan.collateral_asset, take)?;
			BackstopSpent::<T>::insert(plan.debt_asset, (now, spent.saturating_add(plan.repay)));
			Ok(take)
		})
	}

	/// Whether the backstop may spend `amount` of `asset` in this block: the treasury can pay
	/// it now, and this block's purchases with it stay within `Config::BackstopBlockShare` of
	/// what the treasury held of the asset before them (its tokens and its whole lending supply,
	/// not capped by the market's cash: nobody can shrink the base by borrowing the cash away,
	/// and the base is read at every purchase, not fixed at the block's first). `(block, spent
	/// so far)` when it may.
	pub(crate) fn backstop_room(asset: T::AssetId, amount: u128) -> Option<(u32, u128)> {
		if Self::insurance_spendable(asset) < amount {
			return None;
		}
		let now = Self::block_number_u32();
		let spent = Self::this_blocks(BackstopSpent::<T>::get(asset));
		let (tokens, _) = Self::treasury_tokens(asset);
		let supply = T::Lending::supplied(&Self::insurance_account(), &asset).unwrap_or(0);
		let held_before = tokens.saturating_add(supply).saturating_add(spent);
		let limit = T::BackstopBlockShare::get().mul_floor(held_before);
		(spent.saturating_add(amount) <= limit).then_some((now, spent))
	}

	pub(crate) fn backstop_take(plan: &Plan<T::AssetId>) -> u128 {
		let params = Params::<T>::get();
		let kept = params.backstop_discount.left_from_one();
		multiply_by_rational_with_rounding(
			plan.base,
			u128::from(Permill::ACCURACY),
			u128::from(kept.deconstruct()),
			Rounding::Down,
		)
		.unwrap_or(plan.collateral)
		.min(plan.collateral)
	}

	/// The treasury's spendable tokens of `asset` (less the minimum balance it keeps), and what
	/// a withdrawal into it leaves behind: the first minimum balance, when it holds none.
	pub(crate) fn treasury_tokens(asset: T::AssetId) -> (u128, u128) {
		let treasury = Self::insurance_account();
		let tokens = T::Assets::reducible_balance(
			asset,
			&treasury,
			Preservation::Preserve,
			Fortitude::Polite,
		);
		let kept = if T::Assets::balance(asset, &treasury).is_zero() {
			T::Assets::minimum_balance(asset)
		} else {
			0
		};
		(tokens, kept)
	}

	/// What the insurance treasury can spend of `asset`: its tokens (less the minimum balance
	/// it keeps) and its lending supply of the asset as far as the market has the cash to pay
	/// it out (seized collateral funds the backstop and the waterfall too).
	pub(crate) fn insurance_spendable(asset: T::AssetId) -> u128 {
		Self::insurance_holding(asset).0
	}

	/// `(spendable, tokens, supply, kept)` of the treasury's `asset`: [`Self::insurance_spendable`]
	/// and the parts it is made of (its supply as far as the market has the cash).
	fn insurance_holding(asset: T::AssetId) -> (u128, u128, u128, u128) {
		let (tokens, kept) = Self::treasury_tokens(asset);
		let supply = T::Lending::supplied(&Self::insurance_account(), &asset)
			.unwrap_or(0)
			.min(T::Lending::available_cash(&asset));
		let spendable = if supply.is_zero() {
			tokens
		} else {
			tokens.saturating_add(supply.saturating_sub(kept))
		};
		(spendable, tokens, supply, kept)
	}

	/// Tokens of `asset` the treasury must receive to be able to spend `amount` of it: what it
	/// lacks, plus the minimum balance it keeps when it holds none of the asset at all (with
	/// supply of it, [`Self::insurance_spendable`] has counted that balance already).
	/// Zero exactly when it can spend `amount` already.
	pub(crate) fn insurance_to_buy(asset: T::AssetId, amount: u128) -> u128 {
		let (spendable, tokens, supply, kept) = Self::insurance_holding(asset);
		let lacks = amount.saturating_sub(spendable);
		if tokens.is_zero() && supply.is_zero() {
			lacks.saturating_add(kept)
		} else {
			lacks
		}
	}

	/// Withdraws enough of the treasury's `asset` supply that it can spend `amount` of its
	/// tokens (nothing when its tokens suffice).
	pub(crate) fn fund_treasury(asset: T::AssetId, amount: u128) -> DispatchResult {
		let (tokens, kept) = Self::treasury_tokens(asset);
		if tokens >= amount {
			return Ok(());
		}
		let treasury = Self::insurance_account();
		let need = amount.saturating_sub(tokens).saturating_add(kept);
		let supply = T::Lending::supplied(&treasury, &asset)?;
		ensure!(need <= supply, Error::<T>::InsufficientInsurance);
		let take = if need == supply { Amount::All } else { Amount::Exact(need) };
		T::Lending::withdraw_supply(&treasury, &asset, take)?;
		Ok(())
	}

	pub(crate) fn insurance_can_pay(asset: T::AssetId, amount: u128) -> bool {
		Self::insurance_spendable(asset) >= amount
	}

	pub(crate) fn do_transfer_insurance(
		asset: T::AssetId,
		amount: u128,
		to: &T::AccountId,
	) -> DispatchResult {
		ensure!(!amount.is_zero(), Error::<T>::ZeroAmount);
		let treasury = Self::insurance_account();
		ensure!(Self::insurance_can_pay(asset, amount), Error::<T>::InsufficientInsurance);
		Self::fund_treasury(asset, amount)?;
		T::Assets::transfer(asset, &treasury, to, amount, Preservation::Preserve)?;
		Self::deposit_event(Event::InsuranceTransferred { asset, amount, to: to.clone() });
		Ok(())
	}
}
