//! Lots: the positions of one batched sale seized ([`LendingPositions::seize_lot`]), repaid
//! ([`LendingPositions::repay_lot`]) or both ([`LendingPositions::settle_lot`]) in one pass
//! of this pallet: each borrower's record read and written once, each market once, the
//! receivers' records once, one payout for the sale and one for a rest paid in tokens.
//!
//! [`LendingPositions::seize_lot`]: crate::LendingPositions::seize_lot
//! [`LendingPositions::repay_lot`]: crate::LendingPositions::repay_lot
//! [`LendingPositions::settle_lot`]: crate::LendingPositions::settle_lot

use crate::{impls::OrErr, math, pallet::*, traits::RiskChange, types::*};
use alloc::vec::Vec;
use frame_support::{
	ensure,
	pallet_prelude::*,
	traits::{fungibles::Mutate, tokens::Preservation},
};
use sp_arithmetic::{traits::Zero, FixedU128, Rounding};

/// What a lot's seizures add up to.
#[derive(Default)]
struct Sums {
	/// Underlying units paid out for the sale, and the supply shares burnt for them.
	sold: u128,
	sold_shares: u128,
	/// Supply shares moved to the tip's receiver.
	tip_shares: u128,
	/// The rest: supply shares moved to its receiver, or tokens paid to it and the shares
	/// burnt for them.
	rest_shares: u128,
	rest_tokens: u128,
	rest_burnt: u128,
}

/// One part's seizure from its borrower's record.
struct Taken {
	tip: u128,
	rest: u128,
	/// Supply shares the borrower lost in all.
	shares: u128,
}

/// A lot's receivers: the sale's (`to`), the tip's and the rest's, their records read once.
struct Receivers<'a, T: Config> {
	to: &'a T::AccountId,
	tip_to: &'a T::AccountId,
	rest_to: &'a T::AccountId,
	tips: PositionsOf<T>,
	/// The rest's receiver's record, when it is not the tip's.
	rests: Option<PositionsOf<T>>,
	/// Whether the tip's receiver can hold a supply of the asset (a tip is given only then).
	tip_room: bool,
	rest_paid: RestPaid,
}

impl<T: Config> Pallet<T> {
	fn receivers<'a>(
		asset: T::AssetId,
		to: &'a T::AccountId,
		(tip_to, rest_to): (&'a T::AccountId, &'a T::AccountId),
		rest_paid: RestPaid,
	) -> Receivers<'a, T> {
		let tips = Positions::<T>::get(tip_to).unwrap_or_default();
		let rests = if tip_to == rest_to {
			None
		} else {
			Some(Positions::<T>::get(rest_to).unwrap_or_default())
		};
		let tip_room = Self::add_supply(&mut tips.clone(), asset, 0, false).is_ok();
		Receivers { to, tip_to, rest_to, tips, rests, tip_room, rest_paid }
	}

	/// Takes `part` of `asset` (supply index `index`) from its borrower's `positions`: the
	/// sale's piece (it must be there), then the tip (none for a receiver that cannot hold it,
	/// or when less is left), then the rest (at most what is left). `None` when the borrower
	/// holds no supply of `asset` and nothing is to be sold (a sale that took it all before).
	fn take_part(
		positions: &mut PositionsOf<T>,
		asset: T::AssetId,
		part: &LotSeizure<T::AccountId>,
		index: FixedU128,
		receivers: &Receivers<T>,
		sums: &mut Sums,
	) -> Result<Option<Taken>, DispatchError> {
		ensure!(
			part.who != *receivers.to
				&& part.who != *receivers.tip_to
				&& part.who != *receivers.rest_to,
			Error::<T>::SeizeToSelf
		);
		let Some(at) = positions.supplies.iter().position(|p| p.asset == asset) else {
			ensure!(part.sold.is_zero(), Error::<T>::NoSupply);
			return Ok(None);
		};
		let position = positions.supplies.get_mut(at).ok_or(Error::<T>::Defensive)?;
		ensure!(position.collateral, Error::<T>::NotCollateral);
		let before = position.scaled;
		let balance = |p: &SupplyPosition<T::AssetId>| {
			math::mul(p.scaled, index, Rounding::Down).or_err::<T>()
		};
		if !part.sold.is_zero() {
			let shares = Self::seized_shares(position, part.sold, balance(position)?, index)?;
			position.scaled = position.scaled.checked_sub(shares).ok_or(Error::<T>::Defensive)?;
			sums.sold = sums.sold.checked_add(part.sold).ok_or(Error::<T>::Overflow)?;
			sums.sold_shares = sums.sold_shares.checked_add(shares).ok_or(Error::<T>::Overflow)?;
		}
		let left = balance(position)?;
		let tip = if receivers.tip_room && part.tip <= left { part.tip } else { 0 };
		if !tip.is_zero() {
			let shares = Self::seized_shares(position, tip, left, index)?;
			position.scaled = position.scaled.checked_sub(shares).ok_or(Error::<T>::Defensive)?;
			sums.tip_shares = sums.tip_shares.checked_add(shares).ok_or(Error::<T>::Overflow)?;
		}
		let left = balance(position)?;
		let rest = part.rest.min(left);
		if !rest.is_zero() {
			let shares = Self::seized_shares(position, rest, left, index)?;
			position.scaled = position.scaled.checked_sub(shares).ok_or(Error::<T>::Defensive)?;
			match receivers.rest_paid {
				RestPaid::Supply => {
					sums.rest_shares =
						sums.rest_shares.checked_add(shares).ok_or(Error::<T>::Overflow)?
				},
				RestPaid::Tokens => {
					sums.rest_tokens =
						sums.rest_tokens.checked_add(rest).ok_or(Error::<T>::Overflow)?;
					sums.rest_burnt =
						sums.rest_burnt.checked_add(shares).ok_or(Error::<T>::Overflow)?;
				},
			}
		}
		let shares = before.checked_sub(position.scaled).ok_or(Error::<T>::Defensive)?;
		if position.scaled.is_zero() {
			positions.supplies.remove(at);
		}
		Ok(Some(Taken { tip, rest, shares }))
	}

	/// A lot's seizures closed: the shares burnt and the cash paid out (rounded up against the
	/// borrowers: it must be there), the market and the receivers' records written,
	/// [`Event::LotSeized`].
	fn close_seizure(
		asset: T::AssetId,
		mut market: Market,
		sums: Sums,
		receivers: Receivers<T>,
	) -> DispatchResult {
		let Receivers { to, tip_to, rest_to, mut tips, rests, rest_paid: _, tip_room: _ } =
			receivers;
		let same = rests.is_none();
		let burnt = sums.sold_shares.checked_add(sums.rest_burnt).ok_or(Error::<T>::Overflow)?;
		let paid = sums.sold.checked_add(sums.rest_tokens).ok_or(Error::<T>::Overflow)?;
		ensure!(paid <= Self::available_cash(asset), Error::<T>::InsufficientLiquidity);
		market.state.total_scaled_supply =
			market.state.total_scaled_supply.checked_sub(burnt).ok_or(Error::<T>::Defensive)?;
		Markets::<T>::insert(asset, market);
		// The receivers' supply (a receiver of nothing is not written).
		if !sums.tip_shares.is_zero() || (same && !sums.rest_shares.is_zero()) {
			let both = if same { sums.rest_shares } else { 0 };
			let shares = sums.tip_shares.checked_add(both).ok_or(Error::<T>::Overflow)?;
			Self::add_supply(&mut tips, asset, shares, false)?;
			Self::changed(tip_to, tips, &[asset], RiskChange::Lowered);
		}
		if let Some(mut rests) = rests {
			if !sums.rest_shares.is_zero() {
				Self::add_supply(&mut rests, asset, sums.rest_shares, false)?;
				Self::changed(rest_to, rests, &[asset], RiskChange::Lowered);
			}
		}
		Self::pay_out(asset, to, sums.sold)?;
		Self::pay_out(asset, rest_to, sums.rest_tokens)?;
		Self::deposit_event(Event::LotSeized {
			asset,
			sold: sums.sold,
			sold_shares: sums.sold_shares,
			to: to.clone(),
			tip_shares: sums.tip_shares,
			tip_to: tip_to.clone(),
			rest_shares: sums.rest_shares,
			rest_tokens: sums.rest_tokens,
			rest_to: rest_to.clone(),
		});
		Ok(())
	}

	/// Burns the debt shares a repayment of `amount` of `asset` (borrow index `index`) clears
	/// from `positions`, as [`Self::do_repay`] burns them; returns them.
	fn repay_part(
		positions: &mut PositionsOf<T>,
		asset: T::AssetId,
		amount: u128,
		index: FixedU128,
	) -> Result<u128, DispatchError> {
		let at =
			positions.borrows.iter().position(|p| p.asset == asset).ok_or(Error::<T>::NoDebt)?;
		let position = positions.borrows.get_mut(at).ok_or(Error::<T>::Defensive)?;
		let debt = math::mul(position.scaled, index, Rounding::Up).or_err::<T>()?;
		let shares = Self::repaid_shares(position, amount, debt, index)?;
		position.scaled = position.scaled.checked_sub(shares).ok_or(Error::<T>::Defensive)?;
		if position.scaled.is_zero() {
			positions.borrows.remove(at);
		}
		Ok(shares)
	}

	/// The seizures of a lot in one pass ([`crate::LendingPositions::seize_lot`]).
	pub(crate) fn do_seize_lot(
		asset: T::AssetId,
		lot: &[LotSeizure<T::AccountId>],
		to: &T::AccountId,
		receivers: (&T::AccountId, &T::AccountId),
		rest_paid: RestPaid,
	) -> Result<Vec<(u128, u128)>, DispatchError> {
		let market = Self::accrue(&asset)?;
		let index = market.state.supply_index;
		let receivers = Self::receivers(asset, to, receivers, rest_paid);
		let mut sums = Sums::default();
		let mut seized = Vec::with_capacity(lot.len());
		for part in lot {
			let mut positions = Positions::<T>::get(&part.who).unwrap_or_default();
			let Some(taken) =
				Self::take_part(&mut positions, asset, part, index, &receivers, &mut sums)?
			else {
				seized.push((0, 0));
				continue;
			};
			Self::changed(&part.who, positions, &[asset], RiskChange::Raised);
			Self::deposit_event(Event::LotSeizure {
				who: part.who.clone(),
				asset,
				sold: part.sold,
				tip: taken.tip,
				rest: taken.rest,
				shares: taken.shares,
			});
			seized.push((taken.tip, taken.rest));
		}
		Self::close_seizure(asset, market, sums, receivers)?;
		Ok(seized)
	}

	/// The repayments of a lot in one pass ([`crate::LendingPositions::repay_lot`]): each
	/// borrower's debt as [`Self::do_repay`] burns it, one transfer from `payer` for all.
	pub(crate) fn do_repay_lot(
		payer: &T::AccountId,
		asset: T::AssetId,
		lot: &[(T::AccountId, u128)],
	) -> DispatchResult {
		let mut market = Self::accrue(&asset)?;
		let index = market.state.borrow_index;
		let (mut total, mut burnt) = (0u128, 0u128);
		for (who, amount) in lot {
			let mut positions = Positions::<T>::get(who).unwrap_or_default();
			let shares = Self::repay_part(&mut positions, asset, *amount, index)?;
			total = total.checked_add(*amount).ok_or(Error::<T>::Overflow)?;
			burnt = burnt.checked_add(shares).ok_or(Error::<T>::Overflow)?;
			Self::changed(who, positions, &[asset], RiskChange::Lowered);
			Self::deposit_event(Event::Repaid {
				payer: payer.clone(),
				borrower: who.clone(),
				asset,
				amount: *amount,
				shares,
			});
		}
		market.state.total_scaled_borrow =
			market.state.total_scaled_borrow.checked_sub(burnt).ok_or(Error::<T>::Defensive)?;
		T::Assets::transfer(asset, payer, &Self::account_id(), total, Preservation::Expendable)?;
		Markets::<T>::insert(asset, market);
		Ok(())
	}

	/// A lot seized and repaid in one pass ([`crate::LendingPositions::settle_lot`]): each
	/// borrower's record read and written once, [`Event::LotSettlement`] for each; the
	/// seizure closed (the sale's tokens paid out to `to`) before `sell` runs, the repayment's
	/// one transfer from `payer` after it, [`Event::LotRepaid`].
	#[allow(clippy::type_complexity)]
	pub(crate) fn do_settle_lot<R>(
		(collateral, debt): (T::AssetId, T::AssetId),
		(lot, repays): (&[LotSeizure<T::AccountId>], &[u128]),
		(to, payer): (&T::AccountId, &T::AccountId),
		receivers: (&T::AccountId, &T::AccountId),
		rest_paid: RestPaid,
		sell: impl FnOnce() -> Result<R, DispatchError>,
	) -> Result<(Vec<(u128, u128)>, R), DispatchError> {
		// One market each: the same asset's would be read twice and written over.
		ensure!(collateral != debt && lot.len() == repays.len(), Error::<T>::LotMismatch);
		let market = Self::accrue(&collateral)?;
		let mut debt_market = Self::accrue(&debt)?;
		let (supply_index, borrow_index) =
			(market.state.supply_index, debt_market.state.borrow_index);
		let receivers = Self::receivers(collateral, to, receivers, rest_paid);
		let mut sums = Sums::default();
		let (mut total, mut burnt) = (0u128, 0u128);
		let mut seized = Vec::with_capacity(lot.len());
		for (part, repaid) in lot.iter().zip(repays) {
			let mut positions = Positions::<T>::get(&part.who).unwrap_or_default();
			let taken = Self::take_part(
				&mut positions,
				collateral,
				part,
				supply_index,
				&receivers,
				&mut sums,
			)?
			.unwrap_or(Taken { tip: 0, rest: 0, shares: 0 });
			let debt_shares = Self::repay_part(&mut positions, debt, *repaid, borrow_index)?;
			total = total.checked_add(*repaid).ok_or(Error::<T>::Overflow)?;
			burnt = burnt.checked_add(debt_shares).ok_or(Error::<T>::Overflow)?;
			Self::changed(&part.who, positions, &[collateral, debt], RiskChange::Raised);
			Self::deposit_event(Event::LotSettlement {
				who: part.who.clone(),
				collateral_asset: collateral,
				sold: part.sold,
				tip: taken.tip,
				rest: taken.rest,
				collateral_shares: taken.shares,
				debt_asset: debt,
				repaid: *repaid,
				debt_shares,
			});
			seized.push((taken.tip, taken.rest));
		}
		Self::close_seizure(collateral, market, sums, receivers)?;
		debt_market.state.total_scaled_borrow = debt_market
			.state
			.total_scaled_borrow
			.checked_sub(burnt)
			.ok_or(Error::<T>::Defensive)?;
		Markets::<T>::insert(debt, debt_market);
		let sold = sell()?;
		T::Assets::transfer(debt, payer, &Self::account_id(), total, Preservation::Expendable)?;
		Self::deposit_event(Event::LotRepaid {
			asset: debt,
			payer: payer.clone(),
			amount: total,
			shares: burnt,
		});
		Ok((seized, sold))
	}
}
