//! The pallet's logic: each call's `do_*`, accrual, health, views, [`LendingPositions`] and
//! the invariants.

use crate::{
	math::{self, MathError},
	pallet::*,
	traits::{LendingPositions, OnPositionChanged, PriceError, PriceSource},
	types::*,
};
use alloc::vec::Vec;
use frame_support::{
	ensure,
	pallet_prelude::*,
	storage::with_storage_layer,
	traits::{
		fungibles::{Inspect, Mutate},
		tokens::Preservation,
		UnixTime,
	},
};
use sp_arithmetic::{
	traits::{One, Saturating, Zero},
	FixedU128, PerThing, Permill, Rounding,
};
use sp_runtime::traits::AccountIdConversion;

impl<T: Config> From<MathError> for Error<T> {
	fn from(e: MathError) -> Self {
		match e {
			MathError::Overflow => Error::<T>::Overflow,
			// Indexes start at 1 and only grow; prices of zero are refused before any math.
			MathError::DivisionByZero => Error::<T>::Defensive,
		}
	}
}

/// Lifts pure math's errors into the pallet's, where `?` cannot (into `DispatchError`).
trait OrErr<V> {
	fn or_err<T: Config>(self) -> Result<V, Error<T>>;
}

impl<V> OrErr<V> for math::MathResult<V> {
	fn or_err<T: Config>(self) -> Result<V, Error<T>> {
		self.map_err(Into::into)
	}
}

impl<T: Config> From<PriceError> for Error<T> {
	fn from(e: PriceError) -> Self {
		match e {
			PriceError::Missing => Error::<T>::PriceMissing,
			PriceError::Stale => Error::<T>::PriceStale,
		}
	}
}

impl MarketParams {
	/// Checks the parameters against each other and against `max_borrow_rate`.
	pub fn validate<T: Config>(&self) -> Result<(), Error<T>> {
		if self.collateral_enabled {
			ensure!(!self.collateral_factor.is_zero(), Error::<T>::InvalidCollateralFactor);
			ensure!(
				self.liquidation_threshold > self.collateral_factor,
				Error::<T>::ThresholdNotAboveFactor
			);
		} else {
			ensure!(
				self.collateral_factor <= self.liquidation_threshold,
				Error::<T>::InvalidCollateralFactor
			);
		}
		// threshold × (1 + bonus) < 1, in Permill parts (fits u64).
		let lt = u64::from(self.liquidation_threshold.deconstruct());
		let bonus = u64::from(self.liquidation_bonus.deconstruct());
		let one = u64::from(Permill::ACCURACY);
		ensure!(
			lt.saturating_mul(one.saturating_add(bonus)) < one.saturating_mul(one),
			Error::<T>::LiquidationBonusTooHigh
		);
		ensure!(!self.close_factor.is_zero(), Error::<T>::InvalidCloseFactor);
		ensure!(self.reserve_factor < Permill::one(), Error::<T>::InvalidReserveFactor);
		let kink = self.rate_model.kink;
		ensure!(kink > FixedU128::zero() && kink <= FixedU128::one(), Error::<T>::InvalidKink);
		let max_rate = self.rate_model.max_rate().map_err(|_| Error::<T>::BorrowRateTooHigh)?;
		ensure!(max_rate <= T::MaxBorrowRate::get(), Error::<T>::BorrowRateTooHigh);
		Ok(())
	}
}

impl<T: Config> Pallet<T> {
	/// The account holding supplies and reserves.
	pub fn account_id() -> T::AccountId {
		T::PalletId::get().into_account_truncating()
	}

	/// Block time in ms; 0 at genesis (where the timestamp is not set yet).
	fn now() -> u64 {
		if frame_system::Pallet::<T>::block_number().is_zero() {
			return 0;
		}
		u64::try_from(T::UnixTime::now().as_millis()).unwrap_or(u64::MAX)
	}

	/// A market's parameters and its state accrued to now, with what the accrual added; reads
	/// only.
	fn accrued(asset: &T::AssetId) -> Result<(MarketParams, MarketState, math::Accrual), Error<T>> {
		let params = Markets::<T>::get(asset).ok_or(Error::<T>::MarketNotFound)?;
		let mut state = MarketStates::<T>::get(asset).ok_or(Error::<T>::Defensive)?;
		let now = Self::now();
		let elapsed = now.saturating_sub(state.last_accrued);
		let accrual = math::accrue(&mut state, &params, elapsed).or_err::<T>()?;
		state.last_accrued = state.last_accrued.max(now);
		Ok((params, state, accrual))
	}

	/// A market's parameters and its state accrued to now, without writing anything.
	pub fn current(asset: &T::AssetId) -> Result<(MarketParams, MarketState), Error<T>> {
		Self::accrued(asset).map(|(params, state, _)| (params, state))
	}

	/// Accrues `asset`'s market to now and writes it; the start of every call that touches it.
	pub fn accrue(asset: &T::AssetId) -> Result<(MarketParams, MarketState), Error<T>> {
		let (params, state, accrual) = Self::accrued(asset)?;
		MarketStates::<T>::insert(asset, state);
		if !accrual.interest.is_zero() {
			Self::deposit_event(Event::InterestAccrued {
				asset: *asset,
				interest: accrual.interest,
				to_reserves: accrual.to_reserves,
				supply_index: state.supply_index,
				borrow_index: state.borrow_index,
			});
		}
		Ok((params, state))
	}

	/// Health of `who` now: interest accrued (without writing) and fresh prices. Reads a price
	/// only for assets with a non-zero collateral supply or any debt.
	pub fn account_health(who: &T::AccountId) -> Result<Health, DispatchError> {
		let positions = Positions::<T>::get(who).unwrap_or_default();
		Ok(Self::health_of(&positions)?)
	}

	fn health_of(positions: &PositionsOf<T>) -> Result<Health, Error<T>> {
		let (mut collateral_value, mut borrow_limit, mut liquidation_value) = (0u128, 0u128, 0u128);
		for s in positions.supplies.iter().filter(|s| s.collateral) {
			let (params, state) = Self::current(&s.asset)?;
			let amount = math::mul(s.scaled, state.supply_index, Rounding::Down).or_err::<T>()?;
			if amount.is_zero() {
				continue;
			}
			let price = T::Prices::price(&s.asset)?;
			let value = math::value(amount, price, Rounding::Down).or_err::<T>()?;
			collateral_value = math::add(collateral_value, value).or_err::<T>()?;
			borrow_limit = math::add(
				borrow_limit,
				math::mul_permill(value, params.collateral_factor, Rounding::Down)?,
			)
			.or_err::<T>()?;
			liquidation_value = math::add(
				liquidation_value,
				math::mul_permill(value, params.liquidation_threshold, Rounding::Down)?,
			)
			.or_err::<T>()?;
		}
		let mut debt_value = 0u128;
		for b in positions.borrows.iter() {
			let (_, state) = Self::current(&b.asset)?;
			let debt = math::mul(b.scaled, state.borrow_index, Rounding::Up).or_err::<T>()?;
			let price = T::Prices::price(&b.asset)?;
			debt_value =
				math::add(debt_value, math::value(debt, price, Rounding::Up)?).or_err::<T>()?;
		}
		Ok(Health {
			collateral_value,
			borrow_limit,
			liquidation_value,
			debt_value,
			factor: math::health_factor(liquidation_value, debt_value),
		})
	}

	/// Refuses `positions` (an account's state after a change, with the touched market's state
	/// already written) if they leave it over its borrow limit or below health 1. Without debt
	/// every state is fine and no price is read.
	fn ensure_within_limits(positions: &PositionsOf<T>) -> Result<(), Error<T>> {
		if positions.borrows.is_empty() {
			return Ok(());
		}
		let health = Self::health_of(positions)?;
		ensure!(!health.is_liquidatable(), Error::<T>::Unhealthy);
		ensure!(health.debt_value <= health.borrow_limit, Error::<T>::BorrowLimitExceeded);
		Ok(())
	}

	fn pallet_cash(asset: T::AssetId) -> u128 {
		T::Assets::balance(asset, &Self::account_id())
	}

	fn changed(who: &T::AccountId, positions: PositionsOf<T>) {
		if positions.is_empty() {
			Positions::<T>::remove(who);
		} else {
			Positions::<T>::insert(who, positions);
		}
		T::OnPositionChanged::on_position_changed(who);
	}

	pub(crate) fn do_create_market(asset: T::AssetId, params: MarketParams) -> DispatchResult {
		ensure!(!Markets::<T>::contains_key(asset), Error::<T>::MarketAlreadyExists);
		ensure!(T::Assets::asset_exists(asset), Error::<T>::AssetNotFound);
		params.validate::<T>()?;
		let account = Self::account_id();
		if !frame_system::Pallet::<T>::account_exists(&account) {
			// The pallet account must exist to hold assets that are not sufficient.
			frame_system::Pallet::<T>::inc_providers(&account);
		}
		Markets::<T>::insert(asset, params);
		MarketStates::<T>::insert(asset, MarketState::new(Self::now()));
		Self::deposit_event(Event::MarketCreated { asset, params });
		Ok(())
	}

	pub(crate) fn do_update_market(asset: T::AssetId, params: MarketParams) -> DispatchResult {
		ensure!(Markets::<T>::contains_key(asset), Error::<T>::MarketNotFound);
		params.validate::<T>()?;
		Self::accrue(&asset)?;
		Markets::<T>::insert(asset, params);
		Self::deposit_event(Event::MarketUpdated { asset, params });
		Ok(())
	}

	pub(crate) fn do_supply(who: &T::AccountId, asset: T::AssetId, amount: u128) -> DispatchResult {
		ensure!(!amount.is_zero(), Error::<T>::ZeroAmount);
		let (params, mut state) = Self::accrue(&asset)?;
		ensure!(params.status == MarketStatus::Active, Error::<T>::MarketPaused);
		let shares = math::div(amount, state.supply_index, Rounding::Down).or_err::<T>()?;
		ensure!(!shares.is_zero(), Error::<T>::ZeroAmount);
		state.total_scaled_supply =
			state.total_scaled_supply.checked_add(shares).ok_or(Error::<T>::Overflow)?;
		let total = math::mul(state.total_scaled_supply, state.supply_index, Rounding::Down)
			.or_err::<T>()?;
		ensure!(total <= params.supply_cap, Error::<T>::SupplyCapExceeded);

		let mut positions = Positions::<T>::get(who).unwrap_or_default();
		match positions.supplies.iter_mut().find(|p| p.asset == asset) {
			Some(p) => p.scaled = p.scaled.checked_add(shares).ok_or(Error::<T>::Overflow)?,
			None => positions
				.supplies
				.try_push(SupplyPosition {
					asset,
					scaled: shares,
					collateral: params.collateral_enabled,
				})
				.map_err(|_| Error::<T>::TooManyPositions)?,
		}
		T::Assets::transfer(asset, who, &Self::account_id(), amount, Preservation::Expendable)?;
		MarketStates::<T>::insert(asset, state);
		Self::changed(who, positions);
		Self::deposit_event(Event::Supplied { who: who.clone(), asset, amount, shares });
		Ok(())
	}

	pub(crate) fn do_withdraw(
		who: &T::AccountId,
		asset: T::AssetId,
		amount: Amount,
	) -> DispatchResult {
		let (_, mut state) = Self::accrue(&asset)?;
		let mut positions = Positions::<T>::get(who).unwrap_or_default();
		let index =
			positions.supplies.iter().position(|p| p.asset == asset).ok_or(Error::<T>::NoSupply)?;
		let position = positions.supplies.get_mut(index).ok_or(Error::<T>::Defensive)?;
		let balance =
			math::mul(position.scaled, state.supply_index, Rounding::Down).or_err::<T>()?;
		let (amount, shares) = match amount {
			Amount::Exact(a) => {
				ensure!(!a.is_zero(), Error::<T>::ZeroAmount);
				ensure!(a <= balance, Error::<T>::InsufficientSupply);
				// Burn shares rounded up, but never more than the position has.
				(
					a,
					math::div(a, state.supply_index, Rounding::Up)
						.or_err::<T>()?
						.min(position.scaled),
				)
			},
			Amount::All => (balance, position.scaled),
		};
		ensure!(amount <= Self::pallet_cash(asset), Error::<T>::InsufficientLiquidity);
		let was_collateral = position.collateral;
		position.scaled = position.scaled.checked_sub(shares).ok_or(Error::<T>::Defensive)?;
		if position.scaled.is_zero() {
			positions.supplies.remove(index);
		}
		state.total_scaled_supply =
			state.total_scaled_supply.checked_sub(shares).ok_or(Error::<T>::Defensive)?;
		MarketStates::<T>::insert(asset, state);
		if was_collateral {
			Self::ensure_within_limits(&positions)?;
		}
		if !amount.is_zero() {
			T::Assets::transfer(asset, &Self::account_id(), who, amount, Preservation::Expendable)?;
		}
		Self::changed(who, positions);
		Self::deposit_event(Event::Withdrawn { who: who.clone(), asset, amount, shares });
		Ok(())
	}

	pub(crate) fn do_borrow(who: &T::AccountId, asset: T::AssetId, amount: u128) -> DispatchResult {
		ensure!(!amount.is_zero(), Error::<T>::ZeroAmount);
		let (params, mut state) = Self::accrue(&asset)?;
		ensure!(params.status == MarketStatus::Active, Error::<T>::MarketPaused);
		ensure!(params.borrow_enabled, Error::<T>::BorrowNotEnabled);
		// Debt shares rounded up: the borrower owes at least what it received.
		let shares = math::div(amount, state.borrow_index, Rounding::Up).or_err::<T>()?;
		state.total_scaled_borrow =
			state.total_scaled_borrow.checked_add(shares).ok_or(Error::<T>::Overflow)?;
		let total =
			math::mul(state.total_scaled_borrow, state.borrow_index, Rounding::Up).or_err::<T>()?;
		ensure!(total <= params.borrow_cap, Error::<T>::BorrowCapExceeded);
		ensure!(amount <= Self::pallet_cash(asset), Error::<T>::InsufficientLiquidity);

		let mut positions = Positions::<T>::get(who).unwrap_or_default();
		match positions.borrows.iter_mut().find(|p| p.asset == asset) {
			Some(p) => p.scaled = p.scaled.checked_add(shares).ok_or(Error::<T>::Overflow)?,
			None => positions
				.borrows
				.try_push(BorrowPosition { asset, scaled: shares })
				.map_err(|_| Error::<T>::TooManyPositions)?,
		}
		MarketStates::<T>::insert(asset, state);
		Self::ensure_within_limits(&positions)?;
		T::Assets::transfer(asset, &Self::account_id(), who, amount, Preservation::Expendable)?;
		Self::changed(who, positions);
		Self::deposit_event(Event::Borrowed { who: who.clone(), asset, amount, shares });
		Ok(())
	}

	pub(crate) fn do_repay(
		payer: &T::AccountId,
		borrower: &T::AccountId,
		asset: T::AssetId,
		amount: Amount,
	) -> DispatchResult {
		let (_, mut state) = Self::accrue(&asset)?;
		let mut positions = Positions::<T>::get(borrower).unwrap_or_default();
		let index =
			positions.borrows.iter().position(|p| p.asset == asset).ok_or(Error::<T>::NoDebt)?;
		let position = positions.borrows.get_mut(index).ok_or(Error::<T>::Defensive)?;
		let debt = math::mul(position.scaled, state.borrow_index, Rounding::Up).or_err::<T>()?;
		let (amount, shares) = match amount {
			Amount::Exact(a) if a == debt => (a, position.scaled),
			Amount::Exact(a) => {
				ensure!(!a.is_zero(), Error::<T>::ZeroAmount);
				ensure!(a < debt, Error::<T>::RepayExceedsDebt);
				// Burn debt shares rounded down: a partial repay never clears more than paid.
				(
					a,
					math::div(a, state.borrow_index, Rounding::Down)
						.or_err::<T>()?
						.min(position.scaled),
				)
			},
			Amount::All => (debt, position.scaled),
		};
		position.scaled = position.scaled.checked_sub(shares).ok_or(Error::<T>::Defensive)?;
		if position.scaled.is_zero() {
			positions.borrows.remove(index);
		}
		state.total_scaled_borrow =
			state.total_scaled_borrow.checked_sub(shares).ok_or(Error::<T>::Defensive)?;
		T::Assets::transfer(asset, payer, &Self::account_id(), amount, Preservation::Expendable)?;
		MarketStates::<T>::insert(asset, state);
		Self::changed(borrower, positions);
		Self::deposit_event(Event::Repaid {
			payer: payer.clone(),
			borrower: borrower.clone(),
			asset,
			amount,
			shares,
		});
		Ok(())
	}

	pub(crate) fn do_set_collateral(
		who: &T::AccountId,
		asset: T::AssetId,
		enable: bool,
	) -> DispatchResult {
		let params = Markets::<T>::get(asset).ok_or(Error::<T>::MarketNotFound)?;
		let mut positions = Positions::<T>::get(who).unwrap_or_default();
		let position =
			positions.supplies.iter_mut().find(|p| p.asset == asset).ok_or(Error::<T>::NoSupply)?;
		if enable {
			ensure!(params.collateral_enabled, Error::<T>::CollateralNotAllowed);
			ensure!(!position.collateral, Error::<T>::AlreadyCollateral);
		} else {
			ensure!(position.collateral, Error::<T>::NotCollateral);
		}
		position.collateral = enable;
		if !enable {
			Self::ensure_within_limits(&positions)?;
		}
		Self::changed(who, positions);
		if enable {
			Self::deposit_event(Event::CollateralEnabled { who: who.clone(), asset });
		} else {
			Self::deposit_event(Event::CollateralDisabled { who: who.clone(), asset });
		}
		Ok(())
	}

	pub(crate) fn do_seize(
		who: &T::AccountId,
		asset: T::AssetId,
		amount: u128,
		to: &T::AccountId,
	) -> DispatchResult {
		ensure!(!amount.is_zero(), Error::<T>::ZeroAmount);
		let (_, mut state) = Self::accrue(&asset)?;
		let mut positions = Positions::<T>::get(who).unwrap_or_default();
		let index =
			positions.supplies.iter().position(|p| p.asset == asset).ok_or(Error::<T>::NoSupply)?;
		let position = positions.supplies.get_mut(index).ok_or(Error::<T>::Defensive)?;
		ensure!(position.collateral, Error::<T>::NotCollateral);
		let balance =
			math::mul(position.scaled, state.supply_index, Rounding::Down).or_err::<T>()?;
		ensure!(amount <= balance, Error::<T>::InsufficientSupply);
		ensure!(amount <= Self::pallet_cash(asset), Error::<T>::InsufficientLiquidity);
		let shares = if amount == balance {
			position.scaled
		} else {
			math::div(amount, state.supply_index, Rounding::Up).or_err::<T>()?.min(position.scaled)
		};
		position.scaled = position.scaled.checked_sub(shares).ok_or(Error::<T>::Defensive)?;
		if position.scaled.is_zero() {
			positions.supplies.remove(index);
		}
		state.total_scaled_supply =
			state.total_scaled_supply.checked_sub(shares).ok_or(Error::<T>::Defensive)?;
		T::Assets::transfer(asset, &Self::account_id(), to, amount, Preservation::Expendable)?;
		MarketStates::<T>::insert(asset, state);
		Self::changed(who, positions);
		Self::deposit_event(Event::CollateralSeized {
			who: who.clone(),
			asset,
			amount,
			shares,
			to: to.clone(),
		});
		Ok(())
	}

	/// A market's parameters, totals and rates now, for the runtime API and view functions.
	pub fn market_info(asset: &T::AssetId) -> Option<MarketInfo> {
		let (params, state) = Self::current(asset).ok()?;
		let total_supplied =
			math::mul(state.total_scaled_supply, state.supply_index, Rounding::Down).ok()?;
		let total_borrowed =
			math::mul(state.total_scaled_borrow, state.borrow_index, Rounding::Up).ok()?;
		let utilisation = math::utilisation(total_borrowed, total_supplied, state.reserves).ok()?;
		let borrow_rate = params.rate_model.borrow_rate(utilisation).ok()?;
		let supply_rate =
			borrow_rate.saturating_mul(utilisation).saturating_mul(FixedU128::from_rational(
				u128::from(Permill::one().saturating_sub(params.reserve_factor).deconstruct()),
				u128::from(Permill::ACCURACY),
			));
		Some(MarketInfo {
			params,
			total_supplied,
			total_borrowed,
			reserves: state.reserves,
			utilisation,
			borrow_rate,
			supply_rate,
			supply_index: state.supply_index,
			borrow_index: state.borrow_index,
		})
	}

	/// `who`'s positions accrued to now, one entry per market it is in.
	pub fn positions_info(who: &T::AccountId) -> Vec<PositionInfo<T::AssetId>> {
		let positions = Positions::<T>::get(who).unwrap_or_default();
		let mut out: Vec<PositionInfo<T::AssetId>> = Vec::new();
		for s in positions.supplies.iter() {
			let supplied = Self::current(&s.asset)
				.ok()
				.and_then(|(_, st)| math::mul(s.scaled, st.supply_index, Rounding::Down).ok())
				.unwrap_or_default();
			out.push(PositionInfo {
				asset: s.asset,
				supplied,
				collateral: s.collateral,
				borrowed: 0,
			});
		}
		for b in positions.borrows.iter() {
			let borrowed = Self::current(&b.asset)
				.ok()
				.and_then(|(_, st)| math::mul(b.scaled, st.borrow_index, Rounding::Up).ok())
				.unwrap_or(u128::MAX);
			match out.iter_mut().find(|p| p.asset == b.asset) {
				Some(p) => p.borrowed = borrowed,
				None => out.push(PositionInfo {
					asset: b.asset,
					supplied: 0,
					collateral: false,
					borrowed,
				}),
			}
		}
		out
	}

	/// Checks the pallet's invariants:
	/// 1. per market, the accounts' supply shares add up to `total_scaled_supply` and their
	///    debt shares to `total_scaled_borrow`, exactly;
	/// 2. per market, the pallet account holds at least `supplied − borrowed + reserves`, exactly
	///    (shares × index, unrounded);
	/// 3. both indexes are at least 1 (they start at 1 and never decrease);
	/// 4. every market has a state and valid parameters; every position refers to a market and
	///    holds a non-zero number of shares.
	#[cfg(any(feature = "try-runtime", feature = "std", test))]
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		use alloc::collections::btree_map::BTreeMap;
		use sp_arithmetic::FixedPointNumber;
		use sp_core::U256;
		let mut supply: BTreeMap<T::AssetId, u128> = BTreeMap::new();
		let mut borrow: BTreeMap<T::AssetId, u128> = BTreeMap::new();
		for (_, positions) in Positions::<T>::iter() {
			ensure!(!positions.is_empty(), "empty positions are removed");
			for s in positions.supplies.iter() {
				ensure!(Markets::<T>::contains_key(s.asset), "supply in unknown market");
				ensure!(!s.scaled.is_zero(), "zero supply position");
				let e = supply.entry(s.asset).or_default();
				*e = e.checked_add(s.scaled).ok_or("supply shares overflow")?;
			}
			for b in positions.borrows.iter() {
				ensure!(Markets::<T>::contains_key(b.asset), "debt in unknown market");
				ensure!(!b.scaled.is_zero(), "zero debt position");
				let e = borrow.entry(b.asset).or_default();
				*e = e.checked_add(b.scaled).ok_or("debt shares overflow")?;
			}
		}
		for (asset, params) in Markets::<T>::iter() {
			params.validate::<T>().map_err(|_| "invalid market parameters")?;
			let state = MarketStates::<T>::get(asset).ok_or("market without state")?;
			ensure!(
				supply.get(&asset).copied().unwrap_or_default() == state.total_scaled_supply,
				"supply shares do not add up to the market total"
			);
			ensure!(
				borrow.get(&asset).copied().unwrap_or_default() == state.total_scaled_borrow,
				"debt shares do not add up to the market total"
			);
			ensure!(state.supply_index >= FixedU128::one(), "supply index below 1");
			ensure!(state.borrow_index >= FixedU128::one(), "borrow index below 1");
			// cash + borrowed ≥ supplied + reserves, exactly: in U256 at 18 decimals, so no
			// rounding tolerance is needed.
			let e18 = U256::from(<FixedU128 as FixedPointNumber>::DIV);
			let cash = U256::from(Self::pallet_cash(asset)).saturating_mul(e18);
			let borrowed = U256::from(state.total_scaled_borrow)
				.saturating_mul(U256::from(state.borrow_index.into_inner()));
			let supplied = U256::from(state.total_scaled_supply)
				.saturating_mul(U256::from(state.supply_index.into_inner()));
			let reserves = U256::from(state.reserves).saturating_mul(e18);
			ensure!(
				cash.saturating_add(borrowed) >= supplied.saturating_add(reserves),
				"pallet holds less than supplied - borrowed + reserves"
			);
		}
		Ok(())
	}
}

impl<T: Config> LendingPositions<T::AccountId> for Pallet<T> {
	type AssetId = T::AssetId;

	fn account_health(who: &T::AccountId) -> Result<Health, DispatchError> {
		Pallet::<T>::account_health(who)
	}

	fn supplied(who: &T::AccountId, asset: &T::AssetId) -> Result<u128, DispatchError> {
		let (_, state) = Self::current(asset)?;
		let scaled = Positions::<T>::get(who)
			.and_then(|p| p.supply(asset).map(|s| s.scaled))
			.unwrap_or_default();
		Ok(math::mul(scaled, state.supply_index, Rounding::Down).map_err(Error::<T>::from)?)
	}

	fn debt(who: &T::AccountId, asset: &T::AssetId) -> Result<u128, DispatchError> {
		let (_, state) = Self::current(asset)?;
		let scaled = Positions::<T>::get(who)
			.and_then(|p| p.borrow(asset).map(|b| b.scaled))
			.unwrap_or_default();
		Ok(math::mul(scaled, state.borrow_index, Rounding::Up).map_err(Error::<T>::from)?)
	}

	fn seize_collateral(
		who: &T::AccountId,
		asset: &T::AssetId,
		amount: u128,
		to: &T::AccountId,
	) -> DispatchResult {
		with_storage_layer(|| Self::do_seize(who, *asset, amount, to))
	}

	fn repay_debt(
		payer: &T::AccountId,
		who: &T::AccountId,
		asset: &T::AssetId,
		amount: u128,
	) -> DispatchResult {
		with_storage_layer(|| Self::do_repay(payer, who, *asset, Amount::Exact(amount)))
	}
}
