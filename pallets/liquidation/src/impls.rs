//! The liquidation routes, the loss waterfall and the views, behind the calls of `lib.rs`.

use crate::{index::RiskCursorOf, math, pallet::*, types::*, weights::WeightInfo};
use alloc::vec;
use alloc::vec::Vec;
use frame_support::{
	dispatch::{DispatchResultWithPostInfo, PostDispatchInfo},
	ensure,
	pallet_prelude::{DispatchError, DispatchResult, Weight},
	storage::with_storage_layer,
	traits::{
		fungibles::{Inspect, Mutate},
		tokens::{Fortitude, Preservation},
		Get,
	},
	BoundedVec,
};
use margincall_rails::Authority;
use pallet_asset_conversion::{QuotePrice, Swap};
use pallet_lending::{Amount, Health, LendingPositions, PriceError, PriceSource};
use sp_arithmetic::{
	helpers_128bit::multiply_by_rational_with_rounding, traits::Zero, FixedPointNumber, FixedU128,
	PerThing, Permill, Rounding,
};
use sp_runtime::SaturatedConversion;

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

/// What a settlement step did, in collateral units (`sold + to_insurance + tip + returned =
/// plan.collateral`).
struct Outcome {
	route: Route,
	sold: u128,
	to_insurance: u128,
	tip: u128,
}

/// A DEX sale worked out but not made.
struct DexQuote {
	input: u128,
	to_insurance: u128,
	tip: u128,
	/// The input's value at the oracle (rounded up): what the breaker's cap counts.
	value: u128,
}

pub(crate) fn overflow<T: Config>() -> DispatchError {
	Error::<T>::Overflow.into()
}

/// `amount × numerator / denominator` of two prices, rounded as asked.
fn convert<T: Config>(
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

impl<T: Config> Pallet<T> {
	// -----------------------------------------------------------------------------------------
	// Weights
	// -----------------------------------------------------------------------------------------

	/// `liquidate` at its worst: the keeper step plus the loss waterfall over every debt.
	pub fn liquidate_weight() -> Weight {
		T::WeightInfo::liquidate()
			.saturating_add(T::WeightInfo::cover_shortfall(T::MaxDebts::get()))
			.saturating_add(Self::treasury_extra_weight())
	}

	/// What the treasury's side of a call may add to its benchmark: its fee or purchase paid
	/// out as tokens when it holds supply in as many markets as it may (a withdrawal), and its
	/// own supply withdrawn to fund a repayment (another).
	pub(crate) fn treasury_extra_weight() -> Weight {
		T::Lending::withdraw_supply_weight().saturating_mul(2)
	}

	/// `settle` at its worst: a plan tried against every collateral but the last (each a health
	/// check: the benchmarks measure one), then the DEX sale failing at the swap and the
	/// backstop, or an auction started (or sweeping every collateral as dust), then the loss
	/// waterfall over every debt.
	pub fn settle_weight() -> Weight {
		let max = T::MaxDebts::get();
		let route = T::WeightInfo::settle_backstop()
			.max(T::WeightInfo::settle_auction())
			.saturating_add(T::WeightInfo::settle_dex());
		Self::extra_plans_weight(max.saturating_sub(1))
			.saturating_add(route.max(Self::sweep_weight(max)))
			.saturating_add(T::WeightInfo::cover_shortfall(max))
			.saturating_add(Self::treasury_extra_weight())
	}

	/// Plans tried beyond the first.
	pub(crate) fn extra_plans_weight(extra: u32) -> Weight {
		T::Lending::health_weight().saturating_mul(u64::from(extra))
	}

	/// Sweeping `n` dust collaterals to the treasury.
	fn sweep_weight(n: u32) -> Weight {
		T::Lending::seize_collateral_weight()
			.saturating_add(T::Lending::health_weight())
			.saturating_mul(u64::from(n))
	}

	// -----------------------------------------------------------------------------------------
	// Sizing
	// -----------------------------------------------------------------------------------------

	pub(crate) fn price(asset: &T::AssetId) -> Result<FixedU128, DispatchError> {
		T::Prices::price(asset).map_err(|e| match e {
			PriceError::Missing => Error::<T>::PriceMissing.into(),
			PriceError::Stale => Error::<T>::PriceStale.into(),
		})
	}

	/// `(debt price × (1 + discount), collateral price)` as integers of one scale, so that
	/// `r × first / second` is the collateral due for `r` debt units with a single rounding.
	fn discounted_prices(
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
		ensure!(T::Lending::market_params(&debt_asset).is_some(), Error::<T>::UnknownMarket);
		let market =
			T::Lending::market_params(&collateral_asset).ok_or(Error::<T>::UnknownMarket)?;
		let debt_price = Self::price(&debt_asset)?;
		let collateral_price = Self::price(&collateral_asset)?;
		let health = T::Lending::liquidation_health(borrower, &debt_asset, &collateral_asset)?;
		ensure!(health.is_liquidatable(), Error::<T>::NotLiquidatable);
		let params = Params::<T>::get();
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
		let owed = T::Lending::debt(borrower, &debt_asset)?;
		let held = T::Lending::supplied(borrower, &collateral_asset)?;
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
		ensure!(!Self::clears_no_share(&debt_asset, repay, owed), Error::<T>::CollateralTooSmall);
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
	/// partial repayment below one share's worth at the borrow index; all of it always clears).
	pub(crate) fn clears_no_share(asset: &T::AssetId, amount: u128, owed: u128) -> bool {
		if amount >= owed {
			return false;
		}
		let Some((_, borrow_index)) = T::Lending::indexes(asset) else { return true };
		multiply_by_rational_with_rounding(
			amount,
			FixedU128::DIV,
			borrow_index.into_inner(),
			Rounding::Down,
		)
		.is_none_or(|shares| shares.is_zero())
	}

	// -----------------------------------------------------------------------------------------
	// Keeper route
	// -----------------------------------------------------------------------------------------

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
		let params = Params::<T>::get();
		T::Lending::repay_debt(keeper, borrower, &debt_asset, plan.repay)?;
		// The protocol's share of the discount, rounded up (in its favour).
		let bonus = plan.collateral.saturating_sub(plan.base);
		let fee = params.protocol_fee.mul_ceil(bonus);
		let to_keeper = plan.collateral.saturating_sub(fee);
		if !to_keeper.is_zero() {
			T::Lending::seize_collateral(borrower, &collateral_asset, to_keeper, keeper)?;
		}
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
		if !amount.is_zero() {
			Self::seize_to_treasury(borrower, asset, amount)?;
		}
		Ok(amount)
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

	/// Whether the treasury holds supply in as many markets as an account may, not `asset`'s.
	fn treasury_full(asset: &T::AssetId) -> bool {
		let supplies = T::Lending::account_assets(&Self::insurance_account()).supplies;
		!supplies.iter().any(|(a, _)| a == asset)
			&& supplies.len() >= usize::try_from(T::MaxDebts::get()).unwrap_or(usize::MAX)
	}

	// -----------------------------------------------------------------------------------------
	// Protocol route
	// -----------------------------------------------------------------------------------------

	/// The largest debt by value (fresh prices only) and the collateral supplies, riskiest
	/// first.
	fn choose(
		borrower: &T::AccountId,
	) -> Result<(T::AssetId, alloc::vec::Vec<T::AssetId>), DispatchError> {
		let assets = T::Lending::account_assets(borrower);
		let mut best: Option<(u128, T::AssetId)> = None;
		let mut first_error = None;
		for asset in &assets.debts {
			let value = Self::price(asset).and_then(|price| {
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
		let mut collaterals: alloc::vec::Vec<(Option<FixedU128>, u8, T::AssetId)> = assets
			.supplies
			.iter()
			.filter(|(_, collateral)| *collateral)
			.map(|(asset, _)| (T::Breaker::volatility(asset), RiskRank::<T>::get(asset), *asset))
			.collect();
		// Most volatile first (measured; an asset not yet measured after every measured one),
		// then the highest governance rank, then by asset id.
		collaterals.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
		Ok((debt, collaterals.into_iter().map(|(_, _, asset)| asset).collect()))
	}

	/// The plan `settle` would carry out: the largest debt against the first collateral in risk
	/// order that can be liquidated (a collateral whose price is stale is passed over).
	fn settle_plan(borrower: &T::AccountId) -> Result<Plan<T::AssetId>, DispatchError> {
		Self::settle_plan_tried(borrower).0
	}

	/// [`Self::settle_plan`], with how many plans it tried, and whether every collateral was too
	/// small to pay for a unit of the debt (dust to sweep).
	pub(crate) fn settle_plan_tried(
		borrower: &T::AccountId,
	) -> (Result<Plan<T::AssetId>, DispatchError>, u32, bool) {
		let (debt, mut collaterals) = match Self::choose(borrower) {
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
		let mut all_too_small = !collaterals.is_empty();
		for collateral in collaterals {
			tries = tries.saturating_add(1);
			match Self::plan(borrower, debt, collateral, None) {
				Ok(plan) => return (Ok(plan), tries, false),
				Err(e) => {
					if e != Error::<T>::CollateralTooSmall.into() {
						all_too_small = false;
					}
					first_error.get_or_insert(e);
				},
			}
		}
		(Err(first_error.unwrap_or_else(|| Error::<T>::NoCollateral.into())), tries, all_too_small)
	}

	/// Works out a DEX sale of `borrower`'s `plan` without making it: within the oracle bound,
	/// the market's cash and the circuit breaker's gate.
	fn quote_dex(borrower: &T::AccountId, plan: &Plan<T::AssetId>) -> Result<DexQuote, DexRefusal> {
		let params = Params::<T>::get();
		let input = T::Dex::quote_price_tokens_for_exact_tokens(
			Self::dex_asset(plan.collateral_asset),
			Self::dex_asset(plan.debt_asset),
			plan.repay,
			true,
		)
		.ok_or(DexRefusal::NoPool)?;
		let max = Self::dex_bound(plan, &params);
		if input > max {
			return Err(DexRefusal::SlippageExceeded { quote: input, max });
		}
		let (to_insurance, tip) = Self::split_penalty(plan, input, &params);
		let available = T::Lending::available_cash(&plan.collateral_asset);
		if input > available {
			return Err(DexRefusal::NoCash { needed: input, available });
		}
		let value = Self::sale_value(input, plan.collateral_price);
		Self::breaker_gate(borrower, plan, value)?;
		Ok(DexQuote { input, to_insurance, tip, value })
	}

	/// The DEX sale `settle` makes of `plan`: as planned; or, when the collateral is
	/// `Throttled` and the block's cap has less left than the sale's value, the repayment
	/// scaled down to what is left (2% below it, for the pool's price impact; planned again, so
	/// a rest below the dust value refuses it, and a cut below the collateral's minimum
	/// balance is not made). Returns the plan the sale is for and its quote,
	/// or the original plan and the refusal.
	fn dex_sale(
		borrower: &T::AccountId,
		plan: Plan<T::AssetId>,
	) -> (Plan<T::AssetId>, Result<DexQuote, DexRefusal>) {
		match Self::quote_dex(borrower, &plan) {
			Err(DexRefusal::Throttled { value, left }) if !left.is_zero() => {
				let repay = multiply_by_rational_with_rounding(
					plan.repay,
					u128::from(Permill::from_percent(98).deconstruct()).saturating_mul(left),
					u128::from(Permill::ACCURACY).saturating_mul(value),
					Rounding::Down,
				)
				.unwrap_or(0);
				let smaller = (!repay.is_zero())
					.then(|| {
						Self::plan(borrower, plan.debt_asset, plan.collateral_asset, Some(repay))
							.ok()
					})
					.flatten();
				let min = T::Assets::minimum_balance(plan.collateral_asset);
				match smaller.map(|p| (p, Self::quote_dex(borrower, &p))) {
					// A cut below the collateral's minimum balance could not be withdrawn.
					Some((smaller, Ok(quote))) if quote.input >= min => (smaller, Ok(quote)),
					_ => (plan, Err(DexRefusal::Throttled { value, left })),
				}
			},
			quote => (plan, quote),
		}
	}

	/// The value at the oracle of selling `input` collateral, rounded up (the breaker's cap
	/// counts a sale at no less than it is).
	pub(crate) fn sale_value(input: u128, price: FixedU128) -> u128 {
		multiply_by_rational_with_rounding(input, price.into_inner(), FixedU128::DIV, Rounding::Up)
			.unwrap_or(u128::MAX)
	}

	/// The live entries of `asset`'s sale queue (those younger than `MaxQueueAge`).
	pub(crate) fn live_queue(asset: &T::AssetId) -> Vec<QueueEntry<T::AccountId>> {
		Self::live(SaleQueue::<T>::get(asset).into_inner())
	}

	/// Of `entries`, those younger than `MaxQueueAge`.
	fn live(mut entries: Vec<QueueEntry<T::AccountId>>) -> Vec<QueueEntry<T::AccountId>> {
		let now = Self::block_number_u32();
		entries.retain(|e| e.since.saturating_add(T::MaxQueueAge::get()) > now);
		entries
	}

	/// The current block number as a `u32` (the queue's ages).
	pub(crate) fn block_number_u32() -> u32 {
		use sp_runtime::SaturatedConversion;
		frame_system::Pallet::<T>::block_number().saturated_into()
	}

	/// The circuit breaker's say on a DEX sale of `value` of `plan`'s collateral for
	/// `borrower`: open, halted, or throttled (within the block's cap, and only for the head of
	/// the collateral's queue or a position riskier than it).
	fn breaker_gate(
		borrower: &T::AccountId,
		plan: &Plan<T::AssetId>,
		value: u128,
	) -> Result<(), DexRefusal> {
		let Some(left) = Self::pair_gate(&plan.collateral_asset, &plan.debt_asset)? else {
			return Ok(());
		};
		let behind = Self::live_queue(&plan.collateral_asset)
			.first()
			.is_some_and(|head| head.borrower != *borrower && plan.health.factor > head.health);
		if behind {
			return Err(DexRefusal::Throttled { value, left: 0 });
		}
		if value > left {
			return Err(DexRefusal::Throttled { value, left });
		}
		Ok(())
	}

	/// The breaker's say on selling `collateral` for `debt` in this block, before a sale's
	/// value is known: refused (a held price of either asset — one of the debt is as
	/// untrustworthy as one of the collateral — or a halted collateral), unlimited (`None`), or
	/// up to what the block's cap has left (`Some(left)`). `settle` and the batches both ask it.
	pub(crate) fn pair_gate(
		collateral: &T::AssetId,
		debt: &T::AssetId,
	) -> Result<Option<u128>, DexRefusal> {
		if T::Breaker::sale_gate(debt) == SaleGate::Unconfirmed {
			return Err(DexRefusal::PriceUnconfirmed);
		}
		match T::Breaker::sale_gate(collateral) {
			SaleGate::Open => Ok(None),
			SaleGate::Halted => Err(DexRefusal::Halted),
			SaleGate::Unconfirmed => Err(DexRefusal::PriceUnconfirmed),
			SaleGate::Capped(left) => Ok(Some(left)),
		}
	}

	/// Puts `borrower` in `plan`'s collateral queue, riskiest first; a full queue gives the
	/// place of its least risky entry to a riskier position. Expired entries are dropped.
	fn enqueue(borrower: &T::AccountId, plan: &Plan<T::AssetId>) -> DispatchResult {
		let asset = plan.collateral_asset;
		let mut queue = Self::live_queue(&asset);
		ensure!(!queue.iter().any(|e| e.borrower == *borrower), Error::<T>::AwaitingSale);
		let health = plan.health.factor;
		let place = queue.partition_point(|e| e.health <= health);
		let max = T::MaxSaleQueue::get() as usize;
		if queue.len() >= max {
			ensure!(place < queue.len(), Error::<T>::SaleQueueFull);
			if let Some(out) = queue.pop() {
				Self::deposit_event(Event::Dequeued {
					borrower: out.borrower,
					collateral_asset: asset,
				});
			}
		}
		queue.insert(
			place,
			QueueEntry { health, borrower: borrower.clone(), since: Self::block_number_u32() },
		);
		let bounded = BoundedVec::try_from(queue).map_err(|_| Error::<T>::SaleQueueFull)?;
		SaleQueue::<T>::insert(asset, bounded);
		Self::deposit_event(Event::SaleQueued {
			borrower: borrower.clone(),
			collateral_asset: asset,
			health,
			position: u32::try_from(place).unwrap_or(u32::MAX),
		});
		Ok(())
	}

	/// Takes `borrower` out of `asset`'s queue, if it is there (expired entries go too).
	/// Returns whether it was.
	fn dequeue(borrower: &T::AccountId, asset: T::AssetId) -> bool {
		let queue = SaleQueue::<T>::get(asset);
		if queue.is_empty() {
			return false;
		}
		let before = queue.len();
		let mut live = Self::live(queue.into_inner());
		let was = live.iter().any(|e| e.borrower == *borrower);
		live.retain(|e| e.borrower != *borrower);
		if live.len() != before {
			if live.is_empty() {
				SaleQueue::<T>::remove(asset);
			} else {
				SaleQueue::<T>::insert(asset, BoundedVec::truncate_from(live));
			}
		}
		if was {
			Self::deposit_event(Event::Dequeued {
				borrower: borrower.clone(),
				collateral_asset: asset,
			});
		}
		was
	}

	/// The most collateral the DEX may take for `plan`'s repayment: the collateral worth it at
	/// the oracle plus the maximum slippage, and never more than what is due.
	pub(crate) fn dex_bound(plan: &Plan<T::AssetId>, params: &LiquidationParams) -> u128 {
		math::with_discount(plan.base, params.max_slippage, Rounding::Down)
			.unwrap_or(u128::MAX)
			.min(plan.collateral)
	}

	/// Of what is left of `plan`'s collateral due after `input` was sold (the penalty): the
	/// insurance treasury's share (rounded up) of the penalty up to the discount, and the
	/// caller's tip (capped, at most the rest).
	pub(crate) fn split_penalty(
		plan: &Plan<T::AssetId>,
		input: u128,
		params: &LiquidationParams,
	) -> (u128, u128) {
		let penalty = plan.collateral.saturating_sub(input);
		// The treasury's share is of the discount at most: what a pool priced above the
		// oracle saves beyond it is the borrower's (found by the property test: a pool left
		// at the old price gave the treasury half the gap).
		let bonus = plan.collateral.saturating_sub(plan.base);
		let to_insurance = params.insurance_share.mul_ceil(penalty.min(bonus));
		let tip_value = params
			.caller_tip
			.mul_floor(value_of(plan.repay, plan.debt_price))
			.min(params.caller_tip_cap);
		let tip = multiply_by_rational_with_rounding(
			tip_value,
			FixedU128::DIV,
			plan.collateral_price.into_inner(),
			Rounding::Down,
		)
		.unwrap_or(0)
		.min(penalty.saturating_sub(to_insurance));
		(to_insurance, tip)
	}

	/// Makes the DEX sale of `quote`: seizes the input into the working account, withdraws it,
	/// buys exactly the debt and repays it. Returns `(sold, unspent)`; changes nothing if any
	/// part fails. The working account ends with no tokens and no lending position.
	fn sell_on_dex(
		borrower: &T::AccountId,
		plan: &Plan<T::AssetId>,
		quote: &DexQuote,
	) -> Result<(u128, u128), DispatchError> {
		with_storage_layer(|| {
			let account = Self::account_id();
			let collateral = plan.collateral_asset;
			let input = quote.input;
			Self::seize_and_withdraw(borrower, collateral, input, &account)?;
			let sold = T::Dex::swap_tokens_for_exact_tokens(
				account.clone(),
				vec![Self::dex_asset(collateral), Self::dex_asset(plan.debt_asset)],
				plan.repay,
				Some(input),
				account.clone(),
				false,
			)?;
			T::Lending::repay_debt(&account, borrower, &plan.debt_asset, plan.repay)?;
			// The quote is exact for this state; should the DEX take less, the rest is the
			// treasury's, so the working account ends empty.
			let unspent = input.saturating_sub(sold);
			if !unspent.is_zero() {
				T::Assets::transfer(
					collateral,
					&account,
					&Self::insurance_account(),
					unspent,
					Preservation::Expendable,
				)?;
			}
			Ok((sold, unspent))
		})
	}

	/// Seizes `amount` of `borrower`'s `collateral` supply into the working `account` and
	/// withdraws exactly that many tokens, leaving the account no supply. Seizing a whole
	/// supply moves all its shares, which (with a supply index below 1) may be more than the
	/// shares of `amount`: then all of them are withdrawn (worth `amount`).
	pub(crate) fn seize_and_withdraw(
		borrower: &T::AccountId,
		collateral: T::AssetId,
		amount: u128,
		account: &T::AccountId,
	) -> Result<u128, DispatchError> {
		let whole = amount == T::Lending::supplied(borrower, &collateral)?;
		T::Lending::seize_collateral(borrower, &collateral, amount, account)?;
		let exact = if whole { Amount::All } else { Amount::Exact(amount) };
		let paid = T::Lending::withdraw_supply(account, &collateral, exact)?;
		ensure!(paid == amount, Error::<T>::Overflow);
		Ok(paid)
	}

	/// Pays the caller's tip as collateral supply (like a keeper's seizure: no cash needed).
	/// A caller that cannot receive it (e.g. no room for another position) gets none; the
	/// borrower keeps it.
	pub(crate) fn pay_tip(
		caller: &T::AccountId,
		borrower: &T::AccountId,
		asset: T::AssetId,
		tip: u128,
	) -> u128 {
		if tip.is_zero() {
			return 0;
		}
		match T::Lending::seize_collateral(borrower, &asset, tip, caller) {
			Ok(_) => tip,
			Err(e) => {
				log::debug!(target: "runtime::liquidation", "tip not paid: {e:?}");
				0
			},
		}
	}

	/// Seizes every collateral of `borrower` to the insurance treasury: each is too small to
	/// pay for a unit of its debt, and would otherwise keep the loss waterfall from running.
	/// Returns how many it swept.
	fn sweep_dust(borrower: &T::AccountId) -> Result<u32, DispatchError> {
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
	fn is_dust_account(borrower: &T::AccountId, plan: &Plan<T::AssetId>) -> bool {
		let health = &plan.health;
		health.collateral_value < Params::<T>::get().dust_value
			&& health.collateral_value < health.debt_value
			&& T::Lending::account_assets(borrower)
				.supplies
				.iter()
				.filter(|(_, collateral)| *collateral)
				.all(|(asset, _)| Self::price(asset).is_ok())
	}

	/// The netting route of `settle`: `plan`'s repayment comes from the borrower's own supply
	/// of the debt's asset (no sale, no discount, no tip).
	fn net(
		caller: &T::AccountId,
		borrower: &T::AccountId,
		plan: &Plan<T::AssetId>,
		plans_weight: Weight,
	) -> DispatchResultWithPostInfo {
		T::Lending::net(borrower, &plan.debt_asset, plan.repay)?;
		Self::deposit_event(Event::Settled {
			borrower: borrower.clone(),
			caller: caller.clone(),
			debt_asset: plan.debt_asset,
			collateral_asset: plan.collateral_asset,
			route: Route::Net,
			repaid: plan.repay,
			collateral_due: plan.collateral,
			sold: plan.collateral,
			to_insurance: 0,
			tip: 0,
			returned: 0,
			discount: plan.discount,
			health: plan.health.factor,
		});
		Self::dequeue(borrower, plan.collateral_asset);
		let debts = Self::cover_shortfall(borrower)?;
		// At least a DEX settlement's measured weight (its planning and filing are the same);
		// `settle_weight` reserves more.
		Ok(Some(
			plans_weight
				.saturating_add(T::Lending::net_weight().max(T::WeightInfo::settle_dex()))
				.saturating_add(Self::shortfall_weight(debts)),
		)
		.into())
	}

	/// The backstop: the insurance treasury repays and takes the collateral at the oracle price
	/// less the backstop discount (at most what is due). Returns the collateral it took.
	fn backstop(borrower: &T::AccountId, plan: &Plan<T::AssetId>) -> Result<u128, DispatchError> {
		let treasury = Self::insurance_account();
		let take = Self::backstop_take(plan);
		ensure!(Self::insurance_can_pay(plan.debt_asset, plan.repay), Error::<T>::NoRoute);
		with_storage_layer(|| {
			// What the treasury cannot fund (its supply's market short of cash after all) is
			// no route, not a failed settlement.
			Self::fund_treasury(plan.debt_asset, plan.repay).map_err(|_| Error::<T>::NoRoute)?;
			T::Lending::repay_debt(&treasury, borrower, &plan.debt_asset, plan.repay)?;
			Self::seize_to_treasury(borrower, plan.collateral_asset, take)?;
			Ok(take)
		})
	}

	fn backstop_take(plan: &Plan<T::AssetId>) -> u128 {
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
	fn treasury_tokens(asset: T::AssetId) -> (u128, u128) {
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
	fn insurance_spendable(asset: T::AssetId) -> u128 {
		let (tokens, kept) = Self::treasury_tokens(asset);
		let supply = T::Lending::supplied(&Self::insurance_account(), &asset)
			.unwrap_or(0)
			.min(T::Lending::available_cash(&asset));
		if supply.is_zero() {
			return tokens;
		}
		tokens.saturating_add(supply.saturating_sub(kept))
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

	fn insurance_can_pay(asset: T::AssetId, amount: u128) -> bool {
		Self::insurance_spendable(asset) >= amount
	}

	pub(crate) fn do_settle(
		caller: &T::AccountId,
		borrower: &T::AccountId,
	) -> DispatchResultWithPostInfo {
		ensure!(caller != borrower, Error::<T>::SelfLiquidation);
		let assets = T::Lending::account_assets(borrower);
		ensure!(!assets.debts.is_empty(), Error::<T>::NotLiquidatable);
		if !Self::has_collateral(borrower) {
			// Debt and no collateral: only the loss waterfall is left.
			let debts = Self::cover_shortfall(borrower)?;
			ensure!(debts > 0, Error::<T>::NotLiquidatable);
			return Ok(Some(Self::shortfall_weight(debts)).into());
		}
		let (plan, tries, all_too_small) = Self::settle_plan_tried(borrower);
		let plans_weight = Self::extra_plans_weight(tries.saturating_sub(1));
		let plan = match plan {
			Ok(plan) => plan,
			Err(e) if e == Error::<T>::NotLiquidatable.into() => {
				// Healthy again while queued (repaid, topped up, prices back): it leaves the
				// queue of the collateral it would be seized first, or the call fails.
				let first = Self::choose(borrower).ok().and_then(|(_, c)| c.first().copied());
				if first.is_some_and(|asset| Self::dequeue(borrower, asset)) {
					return Ok(
						Some(plans_weight.saturating_add(T::WeightInfo::settle_dex())).into()
					);
				}
				return Err(e.into());
			},
			Err(_) if all_too_small => {
				// Only dust collateral is left (each liquidatable, none worth a unit of the
				// debt): sweep it to the treasury and close the rest by the waterfall.
				let swept = Self::sweep_dust(borrower)?;
				let debts = Self::cover_shortfall(borrower)?;
				return Ok(Some(
					plans_weight
						.saturating_add(Self::sweep_weight(swept))
						.saturating_add(Self::shortfall_weight(debts)),
				)
				.into());
			},
			Err(e) => return Err(e.into()),
		};
		if plan.debt_asset == plan.collateral_asset {
			return Self::net(caller, borrower, &plan, plans_weight);
		}
		let collateral = plan.collateral_asset;
		let planned = plan.repay;
		let (plan, quote) = Self::dex_sale(borrower, plan);
		// A sale cut to the breaker's cap planned once more.
		let plans_weight = if plan.repay == planned {
			plans_weight
		} else {
			plans_weight.saturating_add(Self::extra_plans_weight(1))
		};
		let dex = quote.and_then(|quote| {
			Self::sell_on_dex(borrower, &plan, &quote).map(|sold| (quote, sold)).map_err(|e| {
				log::debug!(target: "runtime::liquidation", "DEX sale failed: {e:?}");
				DexRefusal::SwapFailed
			})
		});
		let (outcome, route_weight) = match dex {
			Ok((quote, (sold, unspent))) => {
				T::Breaker::note_sale(&collateral, quote.value);
				let tip = Self::pay_tip(caller, borrower, collateral, quote.tip);
				let seized = Self::seize_rest(borrower, collateral, quote.to_insurance)?;
				(
					Outcome {
						route: Route::Dex,
						sold,
						to_insurance: seized.saturating_add(unspent),
						tip,
					},
					T::WeightInfo::settle_dex(),
				)
			},
			// A price the oracle guard holds drives no sale at all, not even to the backstop:
			// the next feeds confirm or drop it.
			Err(DexRefusal::PriceUnconfirmed) => return Err(Error::<T>::PriceUnconfirmed.into()),
			Err(dex) => {
				// A sale that failed at the swap did the DEX route's work too.
				let dex_weight = if dex == DexRefusal::SwapFailed {
					T::WeightInfo::settle_dex()
				} else {
					Weight::zero()
				};
				let taken = match Self::backstop(borrower, &plan) {
					Ok(taken) => taken,
					Err(e) if e == Error::<T>::NoRoute.into() => {
						let weight = if matches!(dex, DexRefusal::Throttled { .. }) {
							// Held back by the block's cap, not taken by the backstop: it
							// waits its turn (riskiest first) for a later block's sale.
							Self::enqueue(borrower, &plan)?;
							T::WeightInfo::settle_dex()
						} else if Self::is_dust_account(borrower, &plan) {
							// Insolvent with all its collateral worth less than the dust
							// value: no taker would bid for such a lot, and an auction would
							// hold its slot for ever. The collateral goes to the treasury and
							// the loss waterfall closes the debt (what it socialises beyond
							// the deficit is below the dust value).
							let swept = Self::sweep_dust(borrower)?;
							let debts = Self::cover_shortfall(borrower)?;
							return Ok(Some(
								plans_weight
									.saturating_add(T::WeightInfo::settle_dex())
									.saturating_add(T::WeightInfo::settle_backstop())
									.saturating_add(Self::sweep_weight(swept))
									.saturating_add(Self::shortfall_weight(debts)),
							)
							.into());
						} else {
							// Not sellable on the DEX at all (halted, beyond the bound, no
							// cash, no pool): the seizure goes to a Dutch auction.
							Self::dequeue(borrower, collateral);
							Self::start_auction(borrower, &plan, dex)?;
							dex_weight.saturating_add(T::WeightInfo::settle_auction())
						};
						return Ok(Some(plans_weight.saturating_add(weight)).into());
					},
					Err(e) => return Err(e.into()),
				};
				let weight = dex_weight.saturating_add(T::WeightInfo::settle_backstop());
				(
					Outcome {
						route: Route::Backstop { dex },
						sold: 0,
						to_insurance: taken,
						tip: 0,
					},
					weight,
				)
			},
		};
		let returned = plan
			.collateral
			.checked_sub(outcome.sold)
			.and_then(|r| r.checked_sub(outcome.to_insurance))
			.and_then(|r| r.checked_sub(outcome.tip))
			.ok_or_else(overflow::<T>)?;
		Self::deposit_event(Event::Settled {
			borrower: borrower.clone(),
			caller: caller.clone(),
			debt_asset: plan.debt_asset,
			collateral_asset: plan.collateral_asset,
			route: outcome.route,
			repaid: plan.repay,
			collateral_due: plan.collateral,
			sold: outcome.sold,
			to_insurance: outcome.to_insurance,
			tip: outcome.tip,
			returned,
			discount: plan.discount,
			health: plan.health.factor,
		});
		Self::dequeue(borrower, collateral);
		let debts = Self::cover_shortfall(borrower)?;
		Ok(Some(
			plans_weight.saturating_add(route_weight).saturating_add(Self::shortfall_weight(debts)),
		)
		.into())
	}

	// -----------------------------------------------------------------------------------------
	// Loss waterfall
	// -----------------------------------------------------------------------------------------

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

	// -----------------------------------------------------------------------------------------
	// Governance
	// -----------------------------------------------------------------------------------------

	/// Checks a change of `record` by `authority` against the rails (nothing for root), and
	/// records it: the interval since the record's last change, then each value's step.
	pub(crate) fn on_rails(
		record: ParamRecord,
		authority: Authority,
		steps: impl FnOnce(margincall_rails::Steps) -> margincall_rails::Steps,
	) -> DispatchResult {
		let now = frame_system::Pallet::<T>::block_number();
		let last = LastParamsChange::<T>::get(record).map(|b| b.saturated_into());
		margincall_rails::check(authority, last, now.saturated_into(), T::Rails::get(), steps)
			.map_err(|refusal| match refusal {
				margincall_rails::Refusal::TooSoon => Error::<T>::ChangeTooSoon,
				margincall_rails::Refusal::Step(name) => {
					log::debug!(target: "runtime::liquidation", "{record:?}: {name} beyond its step");
					Error::<T>::StepTooLarge
				},
			})?;
		LastParamsChange::<T>::insert(record, now);
		Ok(())
	}

	pub(crate) fn do_update_params(
		params: LiquidationParams,
		authority: Authority,
	) -> DispatchResult {
		params.validate(T::MaxDustValue::get()).map_err(|e| match e {
			ParamsError::TargetHealthOutOfRange => Error::<T>::TargetHealthOutOfRange,
			ParamsError::MaxDiscountHealthOutOfRange => Error::<T>::MaxDiscountHealthOutOfRange,
			ParamsError::ProtocolFeeOutOfRange => Error::<T>::ProtocolFeeOutOfRange,
			ParamsError::CallerTipOutOfRange => Error::<T>::CallerTipOutOfRange,
			ParamsError::MaxSlippageOutOfRange => Error::<T>::MaxSlippageOutOfRange,
			ParamsError::BackstopDiscountOutOfRange => Error::<T>::BackstopDiscountOutOfRange,
			ParamsError::DustValueOutOfRange => Error::<T>::DustValueOutOfRange,
		})?;
		let old = Params::<T>::get();
		Self::on_rails(ParamRecord::Liquidation, authority, |s| {
			s.fixed("target_health", old.target_health, params.target_health)
				.fixed(
					"health_for_max_discount",
					old.health_for_max_discount,
					params.health_for_max_discount,
				)
				.points("min_discount_share", old.min_discount_share, params.min_discount_share)
				.points("protocol_fee", old.protocol_fee, params.protocol_fee)
				.points("insurance_share", old.insurance_share, params.insurance_share)
				.points("caller_tip", old.caller_tip, params.caller_tip)
				.amount("caller_tip_cap", old.caller_tip_cap, params.caller_tip_cap)
				.points("max_slippage", old.max_slippage, params.max_slippage)
				.points("backstop_discount", old.backstop_discount, params.backstop_discount)
				.amount("dust_value", old.dust_value, params.dust_value)
		})?;
		Params::<T>::put(params);
		Self::deposit_event(Event::ParamsUpdated { params });
		Ok(())
	}

	pub(crate) fn do_set_risk_rank(asset: T::AssetId, rank: u8) -> DispatchResult {
		ensure!(T::Lending::market_params(&asset).is_some(), Error::<T>::UnknownMarket);
		RiskRank::<T>::insert(asset, rank);
		Self::deposit_event(Event::RiskRankSet { asset, rank });
		Ok(())
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

	// -----------------------------------------------------------------------------------------
	// Views and invariants
	// -----------------------------------------------------------------------------------------

	/// A dry run of `settle(borrower)` (the `preview` view and runtime API).
	pub fn do_preview(borrower: &T::AccountId) -> Result<Preview<T::AssetId>, DispatchError> {
		let plan = Self::settle_plan(borrower)?;
		if plan.debt_asset == plan.collateral_asset {
			return Ok(Preview {
				health: plan.health.factor,
				debt_asset: plan.debt_asset,
				collateral_asset: plan.collateral_asset,
				repay: plan.repay,
				collateral_due: plan.collateral,
				discount: plan.discount,
				dex_input: None,
				route: Ok(Route::Net),
				returned: 0,
			});
		}
		let (plan, quote) = Self::dex_sale(borrower, plan);
		// The DEX's quote, read once: the refusals of the quote carry it.
		let dex_input = match &quote {
			Ok(quote) => Some(quote.input),
			Err(DexRefusal::SlippageExceeded { quote, .. }) => Some(*quote),
			Err(DexRefusal::NoCash { needed, .. }) => Some(*needed),
			Err(
				DexRefusal::NoPool
				| DexRefusal::SwapFailed
				| DexRefusal::Halted
				| DexRefusal::PriceUnconfirmed
				| DexRefusal::Throttled { .. },
			) => None,
		};
		let (route, returned) = match quote {
			Ok(quote) => (
				Ok(Route::Dex),
				plan.collateral
					.saturating_sub(quote.input)
					.saturating_sub(quote.to_insurance)
					.saturating_sub(quote.tip),
			),
			Err(dex)
				if dex != DexRefusal::PriceUnconfirmed
					&& Self::insurance_can_pay(plan.debt_asset, plan.repay) =>
			{
				(
					Ok(Route::Backstop { dex }),
					plan.collateral.saturating_sub(Self::backstop_take(&plan)),
				)
			},
			Err(dex)
				if !matches!(dex, DexRefusal::PriceUnconfirmed | DexRefusal::Throttled { .. })
					&& Self::may_start_auction(borrower).is_ok() =>
			{
				(Ok(Route::Auction { dex }), plan.collateral)
			},
			Err(dex) => (Err(dex), plan.collateral),
		};
		Ok(Preview {
			health: plan.health.factor,
			debt_asset: plan.debt_asset,
			collateral_asset: plan.collateral_asset,
			repay: plan.repay,
			collateral_due: plan.collateral,
			discount: plan.discount,
			dex_input,
			route,
			returned,
		})
	}

	/// The insurance treasury's holdings in every market's asset: `(asset, tokens held, lending
	/// supply held)`.
	pub fn insurance_fund() -> alloc::vec::Vec<(T::AssetId, u128, u128)> {
		let treasury = Self::insurance_account();
		T::Lending::markets()
			.into_iter()
			.map(|asset| {
				let tokens = T::Assets::balance(asset, &treasury);
				let supplied = T::Lending::supplied(&treasury, &asset).unwrap_or_default();
				(asset, tokens, supplied)
			})
			.collect()
	}

	/// Accounts below health 1 with their health, among up to `limit` accounts the risk index
	/// reports from `start` (riskiest first), and where the next page starts (`None` at the
	/// end). Accounts whose health cannot be computed (a stale price) are left out.
	pub fn liquidatable(
		start: Option<RiskCursorOf<T>>,
		limit: u32,
	) -> LiquidatablePage<T::AccountId, T::AssetId> {
		let (candidates, next) = Self::at_risk(start, limit);
		let found = candidates
			.into_iter()
			.filter_map(|who| Self::liquidatable_health(&who).map(|factor| (who, factor)))
			.collect();
		(found, next)
	}

	/// A page of a full scan: accounts below health 1 among up to `limit` accounts with
	/// positions after `after`, and where the next page starts. What catches anything the
	/// index could miss (the offchain worker's slow sweep).
	pub fn sweep(
		after: Option<T::AccountId>,
		limit: u32,
	) -> (Vec<T::AccountId>, Option<T::AccountId>) {
		let page = T::Lending::accounts(after, limit);
		let next = if page.len() >= usize::try_from(limit).unwrap_or(usize::MAX) {
			page.last().cloned()
		} else {
			None
		};
		let found = page.into_iter().filter(|who| Self::may_settle(who)).collect();
		(found, next)
	}

	/// Invariants: the parameters are valid; every auction and its borrower point at each
	/// other; the working account holds no lending position between calls.
	#[cfg(any(test, feature = "std", feature = "try-runtime"))]
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		ensure!(
			Params::<T>::get().validate(T::MaxDustValue::get()).is_ok(),
			"liquidation parameters out of their bounds"
		);
		for (id, auction) in Auctions::<T>::iter() {
			ensure!(
				BorrowerAuction::<T>::get(&auction.borrower) == Some(id),
				"an auction's borrower does not point back to it"
			);
		}
		ensure!(
			u32::try_from(BorrowerAuction::<T>::iter().count()).ok()
				== Some(Auctions::<T>::count()),
			"a borrower points to an auction that does not exist"
		);
		let working = T::Lending::account_assets(&Self::account_id());
		ensure!(
			working.supplies.is_empty() && working.debts.is_empty(),
			"the working account holds a lending position between calls"
		);
		Self::index_try_state()
	}
}
