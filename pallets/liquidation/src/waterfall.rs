//! The loss waterfall: dust accounts swept, and a shortfall covered by the treasury (its
//! holdings of the debt's asset, then what it sells of its other holdings on the DEX within the
//! oracle bound) before the rest is socialised to the market's suppliers.

use crate::{
	math,
	pallet::*,
	plan::Plan,
	types::{CascadeBreaker, DexReserves},
	weights::WeightInfo,
};
use alloc::vec;
use frame_support::{
	ensure,
	pallet_prelude::{DispatchError, Weight},
	storage::with_storage_layer,
	traits::Get,
};
use pallet_asset_conversion::{QuotePrice, Swap};
use pallet_lending::LendingPositions;
use sp_arithmetic::{
	helpers_128bit::multiply_by_rational_with_rounding, traits::Zero, FixedU128, PerThing, Rounding,
};

/// A sale of the treasury's holdings worked out but not made.
struct TreasurySale<AssetId> {
	asset: AssetId,
	/// Units of `asset` sold (exact when `exact_out` is `None`, at most otherwise).
	input: u128,
	/// Exactly this much of the debt bought (`Some`), or all of `input` sold for at least
	/// `min_out` (`None`).
	exact_out: Option<u128>,
	min_out: u128,
	/// `input`'s value at the oracle, for the breaker's cap.
	value: u128,
}

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
			Self::cover_shortfall_weight(debts)
		}
	}

	/// The measured waterfall over `debts` debts, the wait's record (`ShortfallWaiting`,
	/// read and written; the holdings it values are those the treasury's sale read), and the
	/// pool's depth cap for each holding a debt's treasury sale tries (not yet in the measured
	/// benchmark).
	pub(crate) fn cover_shortfall_weight(debts: u32) -> Weight {
		let per_holding = Self::depth_cap_weight();
		T::WeightInfo::cover_shortfall(debts)
			.saturating_add(T::DbWeight::get().reads_writes(1, 1))
			.saturating_add(
				per_holding
					.saturating_mul(u64::from(debts))
					.saturating_mul(u64::from(T::MaxDebts::get())),
			)
	}

	/// When `borrower` has debt and no collateral left, covers each debt: the insurance
	/// treasury's holdings of the asset, then the market's reserves, then its suppliers.
	/// Returns how many debts it covered.
	pub(crate) fn cover_shortfall(borrower: &T::AccountId) -> Result<u32, DispatchError> {
		if Self::has_collateral(borrower) {
			// Collateral again (supplied, or enabled, during a wait): a wait recorded for an
			// earlier shortfall is over, and must not shorten the next one.
			if ShortfallWaiting::<T>::contains_key(borrower) {
				ShortfallWaiting::<T>::remove(borrower);
			}
			return Ok(0);
		}
		let assets = T::Lending::account_assets(borrower);
		let treasury = Self::insurance_account();
		let mut covered = 0u32;
		let since = ShortfallWaiting::<T>::get(borrower);
		let mut waiting = false;
		for asset in assets.debts {
			let owed = T::Lending::debt(borrower, &asset)?;
			if owed.is_zero() {
				continue;
			}
			// Short of the debt's asset: the treasury sells what it holds of another.
			let to_buy = Self::insurance_to_buy(asset, owed);
			if !to_buy.is_zero() {
				Self::sell_insurance_for(asset, to_buy);
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
			// written off whole, unless the treasury holds other assets worth it that it could
			// not sell within the bound now: then the write-off waits (Aave v3.3 records such a
			// deficit to cover it later; here the treasury's sale is tried again).
			let rest = T::Lending::debt(borrower, &asset)?;
			if !rest.is_zero() && Self::defer_shortfall(borrower, since, asset, rest) {
				waiting = true;
				covered = covered.saturating_add(1);
				continue;
			}
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
		if !waiting {
			ShortfallWaiting::<T>::remove(borrower);
		} else if since.is_none() {
			ShortfallWaiting::<T>::insert(borrower, Self::block_number_u32());
		}
		Ok(covered)
	}

	/// Sells the insurance treasury's largest other holding (by value at the oracle; its
	/// lending supplies, as far as their markets have the cash) for up to `need` of `debt` on
	/// the DEX, within the oracle bound (`max_slippage`, the pair valued at the ends that favour
	/// the seller) and the breaker's gates: not a halted asset, not beyond a throttled one's
	/// cap, not on a price the guard holds or disputes; at most what the pool's depth cap has
	/// left in the block ([`Self::depth_room`]). One sale a debt (bounded work). Returns
	/// the debt units bought; a sale that cannot be made changes nothing and the waterfall goes
	/// on as before.
	pub(crate) fn sell_insurance_for(debt: T::AssetId, need: u128) -> u128 {
		let Some(sale) = Self::treasury_sale(debt, need) else { return 0 };
		let treasury = Self::insurance_account();
		let path = vec![Self::dex_asset(sale.asset), Self::dex_asset(debt)];
		let made = with_storage_layer(|| -> Result<u128, DispatchError> {
			Self::fund_treasury(sale.asset, sale.input)?;
			match sale.exact_out {
				Some(out) => {
					let sold = T::Dex::swap_tokens_for_exact_tokens(
						treasury.clone(),
						path,
						out,
						Some(sale.input),
						treasury.clone(),
						true,
					)?;
					Ok((sold, out))
				},
				None => {
					let out = T::Dex::swap_exact_tokens_for_tokens(
						treasury.clone(),
						path,
						sale.input,
						Some(sale.min_out),
						treasury.clone(),
						true,
					)?;
					Ok((sale.input, out))
				},
			}
			.map(|(sold, bought)| {
				Self::note_pool_sale((sale.asset, debt), sold);
				Self::deposit_event(Event::InsuranceSold {
					asset: sale.asset,
					sold,
					for_asset: debt,
					bought,
				});
				bought
			})
		});
		match made {
			Ok(bought) => {
				T::Breaker::note_sale(&sale.asset, sale.value);
				bought
			},
			Err(e) => {
				log::debug!(target: "runtime::liquidation", "treasury sale failed: {e:?}");
				0
			},
		}
	}

	/// Whether the write-off of `rest` of `borrower`'s `debt` waits: the treasury's other
	/// holdings that have a pool against the debt (their spendable part; a held, disputed or
	/// halted price counts, as waiting commits nothing and those end: the sale, tried again,
	/// still needs them over) are worth at least `rest` at the oracle, and the borrower's wait
	/// (`since`, begun now if `None`) has not ended. A wait begun now is announced for each
	/// debt it holds back.
	fn defer_shortfall(
		borrower: &T::AccountId,
		since: Option<u32>,
		debt: T::AssetId,
		rest: u128,
	) -> bool {
		let now = Self::block_number_u32();
		let until = Self::wait_end(since.unwrap_or(now));
		if now >= until {
			return false;
		}
		let Ok(debt_price) = Self::price(&debt) else { return false };
		let need = crate::plan::value_of(rest, debt_price);
		let held = T::Lending::account_assets(&Self::insurance_account())
			.supplies
			.into_iter()
			.filter(|(asset, _)| *asset != debt)
			.filter_map(|(asset, _)| {
				let price = Self::price(&asset).ok()?;
				let spendable = Self::insurance_spendable(asset);
				// No pool to sell it into: no sale to wait for.
				T::Dex::quote_price_exact_tokens_for_tokens(
					Self::dex_asset(asset),
					Self::dex_asset(debt),
					spendable,
					true,
				)?;
				Some(crate::plan::value_of(spendable, price))
			})
			.fold(0u128, |a, b| a.saturating_add(b));
		if held < need {
			return false;
		}
		if since.is_none() {
			Self::deposit_event(Event::ShortfallDeferred {
				borrower: borrower.clone(),
				asset: debt,
				amount: rest,
				until,
			});
		}
		true
	}

	/// Whether `borrower`'s shortfall waits for the treasury's sale (and the wait has not
	/// ended): nothing to do for it until then.
	pub(crate) fn shortfall_waits(borrower: &T::AccountId) -> bool {
		ShortfallWaiting::<T>::get(borrower)
			.is_some_and(|since| Self::block_number_u32() < Self::wait_end(since))
	}

	/// The first block after a wait begun at `since`: the write-off may happen from it.
	fn wait_end(since: u32) -> u32 {
		since.saturating_add(T::ShortfallWait::get())
	}

	/// The sale [`Self::sell_insurance_for`] would make, if any: of the treasury's other
	/// supplies (at most as many as an account may hold), largest by oracle value first, the
	/// first that can be sold within the bound and the breaker's gates.
	fn treasury_sale(debt: T::AssetId, need: u128) -> Option<TreasurySale<T::AssetId>> {
		if need.is_zero() {
			return None;
		}
		let treasury = Self::insurance_account();
		let mut holdings: alloc::vec::Vec<_> = T::Lending::account_assets(&treasury)
			.supplies
			.into_iter()
			.filter(|(asset, _)| *asset != debt && !Self::pair_unsettled(asset, &debt))
			.filter_map(|(asset, _)| {
				let spendable = Self::insurance_spendable(asset);
				let (debt_price, price) = Self::pair_prices(&debt, &asset).ok()?;
				(!spendable.is_zero()).then_some((asset, spendable, debt_price, price))
			})
			.collect();
		holdings.sort_by_key(|(asset, spendable, _, price)| {
			(core::cmp::Reverse(crate::plan::value_of(*spendable, *price)), *asset)
		});
		holdings.into_iter().find_map(|(asset, spendable, debt_price, price)| {
			Self::holding_sale(debt, need, asset, spendable, (debt_price, price))
		})
	}

	/// A sale of up to `spendable` of the treasury's `asset` for up to `need` of `debt`, priced
	/// `(debt, asset)`, within the bound and the breaker's gates.
	fn holding_sale(
		debt: T::AssetId,
		need: u128,
		asset: T::AssetId,
		spendable: u128,
		(debt_price, price): (FixedU128, FixedU128),
	) -> Option<TreasurySale<T::AssetId>> {
		let params = Params::<T>::get();
		// `amount` at price `from` in units priced `to`, rounded as asked.
		let worth = |amount: u128, from: FixedU128, to: FixedU128, rounding| {
			multiply_by_rational_with_rounding(amount, from.into_inner(), to.into_inner(), rounding)
		};
		let (dex_in, dex_out) = (Self::dex_asset(asset), Self::dex_asset(debt));
		// Within the pool's depth cap, whichever way the pool sits (the treasury is not in a
		// hurry: what is left waits for a later block).
		let (reserve_in, _) = T::DexReserves::reserves(&dex_in, &dex_out)?;
		let spendable = spendable.min(Self::depth_room((asset, debt), reserve_in, &params));
		// A sale of at most `amount`: `(input, exact_out, min_out)`.
		let sale_of = |amount: u128| -> Option<(u128, Option<u128>, u128)> {
			if amount.is_zero() {
				return None;
			}
			let all_buys = T::Dex::quote_price_exact_tokens_for_tokens(
				dex_in.clone(),
				dex_out.clone(),
				amount,
				true,
			)?;
			if all_buys >= need {
				// Exactly the need, for at most its oracle worth plus the slippage bound
				// (rounded down: the treasury gives no more).
				let input = T::Dex::quote_price_tokens_for_exact_tokens(
					dex_in.clone(),
					dex_out.clone(),
					need,
					true,
				)?;
				let max = math::with_discount(
					worth(need, debt_price, price, Rounding::Down)?,
					params.max_slippage,
					Rounding::Down,
				)?;
				(input <= max && input <= amount).then_some((input, Some(need), need))
			} else {
				// All of it, for at least its oracle worth less the slippage bound (rounded
				// up: the treasury takes no less).
				let min_out = worth(amount, price, debt_price, Rounding::Up)
					.map(|w| params.max_slippage.left_from_one().mul_ceil(w))?;
				(all_buys >= min_out && !min_out.is_zero()).then_some((amount, None, min_out))
			}
		};
		// Half as much when all of it is beyond the bound (a pool at the oracle takes about
		// 2.8% of its reserve within a 3% bound and its 0.3% fee: less than a 3% room).
		let (input, exact_out, min_out) = sale_of(spendable).or_else(|| sale_of(spendable / 2))?;
		let value = Self::sale_value(input, price);
		match Self::pair_gate(&asset) {
			Ok(None) => {},
			Ok(Some(left)) if value <= left => {},
			Ok(Some(_)) | Err(_) => return None,
		}
		Some(TreasurySale { asset, input, exact_out, min_out, value })
	}
}
