//! The pallet's logic: each call's `do_*`, accrual, health, views, [`LendingPositions`] and
//! the invariants.

use crate::{
	math::{self, MathError},
	pallet::*,
	traits::{
		BorrowBreaker, LendingPositions, OnPositionChanged, PriceError, PriceSource, RiskChange,
	},
	types::*,
	view::{Ends, LiquidationView, PlanReads, ViewError},
	weights::WeightInfo,
};
use alloc::vec::Vec;
use frame_support::{
	ensure,
	pallet_prelude::*,
	storage::with_storage_layer,
	traits::{
		fungibles::{roles, Inspect, Mutate},
		tokens::{Fortitude, Preservation},
		Contains, UnixTime,
	},
	weights::Weight,
};
use frame_system::pallet_prelude::OriginFor;
use margincall_rails::Authority;
use sp_arithmetic::{
	traits::{One, Saturating, Zero},
	FixedU128, PerThing, Permill, Rounding,
};
use sp_runtime::{traits::AccountIdConversion, SaturatedConversion};

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
pub(crate) trait OrErr<V> {
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
			// Collateral turned off gives no borrowing power; the threshold stays for the
			// supplies that were collateral already.
			ensure!(self.collateral_factor.is_zero(), Error::<T>::InvalidCollateralFactor);
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

	/// Whether `new` changes a risk parameter of `self` (anything but the status).
	pub fn risk_differs(&self, new: &MarketParams) -> bool {
		MarketParams { status: new.status, ..*self } != *new
	}

	/// Checks that a bounded change from `self` to `new` moves each value within its step.
	pub fn check_steps<T: Config>(
		&self,
		new: &MarketParams,
		rails: &MarketRails,
	) -> Result<(), Error<T>> {
		use margincall_rails::{within_factor, within_fixed, within_points};
		let points =
			|old, new, step, err| if within_points(old, new, step) { Ok(()) } else { Err(err) };
		points(
			self.collateral_factor,
			new.collateral_factor,
			rails.factor_step,
			Error::<T>::CollateralFactorStepTooLarge,
		)?;
		points(
			self.liquidation_threshold,
			new.liquidation_threshold,
			rails.factor_step,
			Error::<T>::LiquidationThresholdStepTooLarge,
		)?;
		points(
			self.liquidation_bonus,
			new.liquidation_bonus,
			rails.bonus_step,
			Error::<T>::LiquidationBonusStepTooLarge,
		)?;
		points(
			self.close_factor,
			new.close_factor,
			rails.share_step,
			Error::<T>::CloseFactorStepTooLarge,
		)?;
		points(
			self.reserve_factor,
			new.reserve_factor,
			rails.share_step,
			Error::<T>::ReserveFactorStepTooLarge,
		)?;
		let (a, b) = (self.rate_model, new.rate_model);
		let rates =
			[(a.base, b.base), (a.slope1, b.slope1), (a.slope2, b.slope2), (a.kink, b.kink)];
		ensure!(
			rates.iter().all(|&(x, y)| within_fixed(x, y, rails.rate_step)),
			Error::<T>::RateModelStepTooLarge
		);
		ensure!(
			within_factor(self.supply_cap, new.supply_cap, rails.amount_factor)
				&& within_factor(self.borrow_cap, new.borrow_cap, rails.amount_factor),
			Error::<T>::CapStepTooLarge
		);
		ensure!(
			within_factor(self.min_borrow_value, new.min_borrow_value, rails.amount_factor),
			Error::<T>::MinBorrowValueStepTooLarge
		);
		Ok(())
	}
}

/// Below this supply index (10⁻⁹ per share) a market counts as wiped out by bad debt.
const MIN_SUPPLY_INDEX: FixedU128 = FixedU128::from_inner(1_000_000_000);

/// Which prices a health computation accepts.
#[derive(Clone, Copy)]
pub(crate) enum Pricing<'a, AssetId> {
	/// Every price fresh (at most `MaxPriceAge`), at the protocol's end of a two-ended price
	/// (collateral low, debt high): views.
	Strict,
	/// As `Strict`, and a collateral the circuit breaker halted (or whose latest price its
	/// oracle guard holds) adds nothing to the borrow limit: a new borrow, a withdrawal, a
	/// collateral disabled (nothing leaves on a price not yet confirmed).
	Borrow,
	/// A liquidation repaying `debt` and seizing `collateral`, at the borrower's end of a
	/// two-ended price (collateral high, debt low): see [`Pallet::liquidation_health`].
	Liquidation { debt: &'a AssetId, collateral: &'a AssetId },
	/// Every asset as a liquidation values the assets it does not touch: see
	/// [`Pallet::grace_health`].
	Grace,
}

impl<T: Config> Pallet<T> {
	/// The account holding supplies and reserves.
	pub fn account_id() -> T::AccountId {
		T::PalletId::get().into_account_truncating()
	}

	/// Block time in ms; 0 at genesis (where the timestamp is not set yet).
	pub(crate) fn now() -> u64 {
		if frame_system::Pallet::<T>::block_number().is_zero() {
			return 0;
		}
		u64::try_from(T::UnixTime::now().as_millis()).unwrap_or(u64::MAX)
	}

	/// A market accrued to now, with what the accrual added; reads only.
	fn accrued(asset: &T::AssetId) -> Result<(Market, math::Accrual), Error<T>> {
		Self::accrued_at(asset, Self::now())
	}

	/// [`Self::accrued`] to block time `now` (ms).
	pub(crate) fn accrued_at(
		asset: &T::AssetId,
		now: u64,
	) -> Result<(Market, math::Accrual), Error<T>> {
		let mut market = Markets::<T>::get(asset).ok_or(Error::<T>::MarketNotFound)?;
		let elapsed = now.saturating_sub(market.state.last_accrued);
		let accrual = math::accrue(&mut market.state, &market.params, elapsed).or_err::<T>()?;
		market.state.last_accrued = market.state.last_accrued.max(now);
		Ok((market, accrual))
	}

	/// A market accrued to now, without writing anything.
	pub fn current(asset: &T::AssetId) -> Result<Market, Error<T>> {
		Self::accrued(asset).map(|(market, _)| market)
	}

	/// Accrues `asset`'s market to now and writes it; the start of every call that touches it.
	pub fn accrue(asset: &T::AssetId) -> Result<Market, Error<T>> {
		let (market, accrual) = Self::accrued(asset)?;
		Markets::<T>::insert(asset, market);
		if !accrual.interest.is_zero() {
			Self::deposit_event(Event::InterestAccrued {
				asset: *asset,
				interest: accrual.interest,
				to_reserves: accrual.to_reserves,
				supply_index: market.state.supply_index,
				borrow_index: market.state.borrow_index,
			});
		}
		Ok(market)
	}

	/// Health of `who` now: interest accrued (without writing) and fresh prices. Reads a price
	/// only for assets with a non-zero collateral supply or any debt. Borrowing, withdrawing
	/// and disabling collateral are checked with this.
	pub fn account_health(who: &T::AccountId) -> Result<Health, DispatchError> {
		let positions = Positions::<T>::get(who).unwrap_or_default();
		Ok(Self::health_of(&positions, Pricing::Strict)?)
	}

	/// Health of `who` for a liquidation repaying `debt_asset` and seizing `collateral_asset`.
	///
	/// Those two prices must be fresh (at most `MaxPriceAge`), as for [`Self::account_health`]:
	/// a liquidation never moves value at a price it could not trust. Every other asset of the
	/// account is valued at the oracle's latest price as long as it is at most
	/// `StalePriceGrace` old, neither more nor less than it was last known to be worth. So a
	/// lapsed feed of a dust supply neither blocks the liquidation of an unhealthy account nor
	/// makes a healthy one liquidatable. Beyond the grace (or without any price) such a
	/// collateral counts as worthless: its feed is dead and the market should be paused. A debt
	/// the liquidation does not repay counts at its latest price within the same grace; beyond
	/// it (or without a price) the health cannot be known and is refused (`PriceStale`,
	/// `PriceMissing`). The account must owe `debt_asset` and hold `collateral_asset` as
	/// collateral, so the relaxed pricing applies only to a liquidation that can happen.
	pub fn liquidation_health(
		who: &T::AccountId,
		debt_asset: &T::AssetId,
		collateral_asset: &T::AssetId,
	) -> Result<Health, DispatchError> {
		let positions = Positions::<T>::get(who).unwrap_or_default();
		Self::liquidation_pair(&positions, debt_asset, collateral_asset)?;
		Ok(Self::health_of(
			&positions,
			Pricing::Liquidation { debt: debt_asset, collateral: collateral_asset },
		)?)
	}

	/// The scaled `(debt, collateral supply)` of a liquidation's pair in `positions`: refused
	/// unless the account owes `debt_asset` and holds `collateral_asset` as collateral.
	pub(crate) fn liquidation_pair(
		positions: &PositionsOf<T>,
		debt_asset: &T::AssetId,
		collateral_asset: &T::AssetId,
	) -> Result<(u128, u128), Error<T>> {
		let borrow = positions.borrow(debt_asset).ok_or(Error::<T>::NoDebt)?;
		let supply = positions.supply(collateral_asset).ok_or(Error::<T>::NoSupply)?;
		ensure!(supply.collateral, Error::<T>::NotCollateral);
		Ok((borrow.scaled, supply.scaled))
	}

	/// Health of `who` with every asset priced as [`Self::liquidation_health`] prices the
	/// assets a liquidation does not touch: the latest price within `StalePriceGrace`, a
	/// collateral beyond it worth nothing, a debt beyond it refused. Its factor is the factor
	/// `liquidation_health` gives for any pair whose two prices are fresh: what tells whether
	/// a liquidation can find the account below 1 (the offchain worker, the views and the
	/// unsigned transactions' validity all use it, so they predict what a liquidation does).
	pub fn grace_health(who: &T::AccountId) -> Result<Health, DispatchError> {
		let positions = Positions::<T>::get(who).unwrap_or_default();
		Ok(Self::health_of(&positions, Pricing::Grace)?)
	}

	fn health_of(
		positions: &PositionsOf<T>,
		pricing: Pricing<'_, T::AssetId>,
	) -> Result<Health, Error<T>> {
		Self::health_with(positions, pricing, &mut PlanReads::default())
	}

	/// [`Self::health_of`] with the markets and prices `reads` holds, and those it reads kept
	/// in it.
	pub(crate) fn health_with(
		positions: &PositionsOf<T>,
		pricing: Pricing<'_, T::AssetId>,
		reads: &mut PlanReads<T::AssetId>,
	) -> Result<Health, Error<T>> {
		let (mut collateral_value, mut borrow_limit, mut liquidation_value) = (0u128, 0u128, 0u128);
		// Whether a liquidation may act reads each collateral the source gates (an accepted
		// fall's wait, `PriceSource::liquidation_gate`) at its value divided by the gate, and a
		// debt of that same asset likewise (a looped position nets): an account below 1 at
		// the price but not there `waits`. Everything else (the factor, the values: what a
		// liquidation repays and seizes, its discount, the sale queue's order) is at the price.
		let (mut gated_liquidation, mut gated_debt) = (0u128, 0u128);
		let mut gates: alloc::vec::Vec<(T::AssetId, FixedU128)> = alloc::vec::Vec::new();
		// Where a price has two ends (feeds that differ, a jump the breaker holds), a
		// liquidation takes the ends that favour the borrower and everything else the ends
		// that favour the protocol: uncertainty never lets a borrow out nor a liquidation in.
		let borrowers_end = matches!(pricing, Pricing::Liquidation { .. } | Pricing::Grace);
		// A liquidation reads the source's liquidation ends (the span, or the part of a held
		// fall that the breaker's severity bound lets it act on); everything else the span.
		let (fresh, within) = if borrowers_end {
			(Ends::Liquidation, Ends::LiquidationWithin)
		} else {
			(Ends::Bounds, Ends::BoundsWithin)
		};
		for s in positions.supplies.iter().filter(|s| s.collateral) {
			let market = reads.market::<T>(&s.asset)?;
			let amount =
				math::mul(s.scaled, market.state.supply_index, Rounding::Down).or_err::<T>()?;
			if amount.is_zero() {
				continue;
			}
			let (low, high) = match pricing {
				Pricing::Grace => match reads.ends::<T>(&s.asset, within) {
					Ok(ends) => ends,
					Err(_) => continue,
				},
				Pricing::Liquidation { collateral, .. } if collateral != &s.asset => {
					match reads.ends::<T>(&s.asset, within) {
						Ok(ends) => ends,
						// A dead feed: this collateral counts for nothing.
						Err(_) => continue,
					}
				},
				_ => reads.ends::<T>(&s.asset, fresh)?,
			};
			let price = if borrowers_end { high } else { low };
			let value = math::value(amount, price, Rounding::Down).or_err::<T>()?;
			collateral_value = math::add(collateral_value, value).or_err::<T>()?;
			let halted = matches!(pricing, Pricing::Borrow) && T::Breaker::halted(&s.asset);
			if market.params.collateral_enabled && !halted {
				borrow_limit = math::add(
					borrow_limit,
					math::mul_permill(value, market.params.collateral_factor, Rounding::Down)?,
				)
				.or_err::<T>()?;
			}
			let threshold = market.params.liquidation_threshold;
			let counted = math::mul_permill(value, threshold, Rounding::Down)?;
			liquidation_value = math::add(liquidation_value, counted).or_err::<T>()?;
			let gate = if borrowers_end { reads.gate::<T>(&s.asset) } else { None };
			let gated = match gate {
				Some(gate) => {
					gates.push((s.asset, gate));
					// An overflow reads no gate (the protocol's side).
					let value = math::div(value, gate, Rounding::Down).unwrap_or(value).max(value);
					math::mul_permill(value, threshold, Rounding::Down)?
				},
				None => counted,
			};
			gated_liquidation = gated_liquidation.saturating_add(gated);
		}
		let mut debt_value = 0u128;
		for b in positions.borrows.iter() {
			let market = reads.market::<T>(&b.asset)?;
			let debt =
				math::mul(b.scaled, market.state.borrow_index, Rounding::Up).or_err::<T>()?;
			let (low, high) = match pricing {
				Pricing::Grace => reads.ends::<T>(&b.asset, within)?,
				Pricing::Liquidation { debt: repaid, .. } if repaid != &b.asset => {
					reads.ends::<T>(&b.asset, within)?
				},
				_ => reads.ends::<T>(&b.asset, fresh)?,
			};
			// An asset that is also the account's collateral has one price on both sides (the
			// collateral's end): a looped position is neither helped nor hurt by the spread.
			let pledged = positions.supplies.iter().any(|s| s.collateral && s.asset == b.asset);
			let price = if borrowers_end != pledged { low } else { high };
			let value = math::value(debt, price, Rounding::Up)?;
			debt_value = math::add(debt_value, value).or_err::<T>()?;
			let gated = match gates.iter().find(|(asset, _)| pledged && *asset == b.asset) {
				Some((_, gate)) => {
					math::div(value, *gate, Rounding::Up).unwrap_or(value).max(value)
				},
				None => value,
			};
			gated_debt = gated_debt.saturating_add(gated);
		}
		let factor = math::health_factor(liquidation_value, debt_value);
		let waits = !gates.is_empty()
			&& factor < FixedU128::one()
			&& math::health_factor(gated_liquidation, gated_debt) >= FixedU128::one();
		Ok(Health { collateral_value, borrow_limit, liquidation_value, debt_value, factor, waits })
	}

	/// Refuses `positions` (an account's state after a withdrawal or a collateral disabled,
	/// with the touched market's state already written) if they leave it over its borrow limit
	/// (without the collateral the breaker halted or whose price it holds) or below health 1.
	/// Without debt every state is fine and no price is read.
	fn ensure_within_limits(positions: &PositionsOf<T>) -> Result<(), Error<T>> {
		Self::ensure_within(positions, Pricing::Borrow)
	}

	fn ensure_within(
		positions: &PositionsOf<T>,
		pricing: Pricing<'_, T::AssetId>,
	) -> Result<(), Error<T>> {
		if positions.borrows.is_empty() {
			return Ok(());
		}
		let health = Self::health_of(positions, pricing)?;
		ensure!(!health.is_liquidatable(), Error::<T>::Unhealthy);
		ensure!(health.debt_value <= health.borrow_limit, Error::<T>::BorrowLimitExceeded);
		Ok(())
	}

	/// What the market can pay out of `asset` now: its cash less the asset's minimum balance,
	/// which keeps the pallet account alive.
	pub fn available_cash(asset: T::AssetId) -> u128 {
		T::Assets::reducible_balance(
			asset,
			&Self::account_id(),
			Preservation::Preserve,
			Fortitude::Polite,
		)
	}

	/// Pays `amount` of `asset` out of the market to `to`, never reaping the pallet account.
	pub(crate) fn pay_out(asset: T::AssetId, to: &T::AccountId, amount: u128) -> DispatchResult {
		if amount.is_zero() {
			return Ok(());
		}
		T::Assets::transfer(asset, &Self::account_id(), to, amount, Preservation::Preserve)?;
		Ok(())
	}

	/// Adds `shares` to the supply in `asset` of `positions`, opening it (collateral or not as
	/// `collateral_if_new` says) if there is none.
	pub(crate) fn add_supply(
		positions: &mut PositionsOf<T>,
		asset: T::AssetId,
		shares: u128,
		collateral_if_new: bool,
	) -> Result<(), Error<T>> {
		match positions.supplies.iter_mut().find(|p| p.asset == asset) {
			Some(p) => p.scaled = p.scaled.checked_add(shares).ok_or(Error::<T>::Overflow)?,
			None => positions
				.supplies
				.try_push(SupplyPosition { asset, scaled: shares, collateral: collateral_if_new })
				.map_err(|_| Error::<T>::TooManyPositions)?,
		}
		Ok(())
	}

	/// Stores `who`'s changed `positions`, the hook having seen them first (it updates the
	/// tag it keeps in them): a record with no market and the default tag goes.
	pub(crate) fn changed(
		who: &T::AccountId,
		mut positions: PositionsOf<T>,
		assets: &[T::AssetId],
		change: RiskChange,
	) {
		let shares = positions.shares();
		T::OnPositionChanged::on_position_changed(who, &shares, &mut positions.tag, assets, change);
		if positions.is_removable() {
			Positions::<T>::remove(who);
		} else {
			Positions::<T>::insert(who, positions);
		}
	}

	/// Whether every role of `asset` (owner, issuer, admin, freezer) is a governance account.
	fn roles_are_trusted(asset: T::AssetId) -> bool {
		let trusted = |a: Option<T::AccountId>| a.is_some_and(|a| T::AssetAdmins::contains(&a));
		trusted(<T::Assets as roles::Inspect<T::AccountId>>::owner(asset))
			&& trusted(<T::Assets as roles::Inspect<T::AccountId>>::issuer(asset))
			&& trusted(<T::Assets as roles::Inspect<T::AccountId>>::admin(asset))
			&& trusted(<T::Assets as roles::Inspect<T::AccountId>>::freezer(asset))
	}

	pub(crate) fn do_create_market(asset: T::AssetId, params: MarketParams) -> DispatchResult {
		ensure!(!Markets::<T>::contains_key(asset), Error::<T>::MarketAlreadyExists);
		ensure!(T::Assets::asset_exists(asset), Error::<T>::AssetNotFound);
		ensure!(Self::roles_are_trusted(asset), Error::<T>::UntrustedAssetRoles);
		params.validate::<T>()?;
		let account = Self::account_id();
		if !frame_system::Pallet::<T>::account_exists(&account) {
			// The pallet account must exist to hold assets that are not sufficient.
			frame_system::Pallet::<T>::inc_providers(&account);
		}
		Markets::<T>::insert(asset, Market { params, state: MarketState::new(Self::now()) });
		Self::deposit_event(Event::MarketCreated { asset, params });
		Ok(())
	}

	pub(crate) fn do_update_market(
		asset: T::AssetId,
		params: MarketParams,
		authority: Authority,
	) -> DispatchResult {
		let old = Markets::<T>::get(asset).ok_or(Error::<T>::MarketNotFound)?.params;
		ensure!(params.status == old.status, Error::<T>::StatusChanged);
		params.validate::<T>()?;
		// Read by either authority, so that the benchmark (root) measures the bounded path's
		// storage too.
		let last = LastRiskChange::<T>::get(asset);
		let now = frame_system::Pallet::<T>::block_number();
		let risk_changed = old.risk_differs(&params);
		if risk_changed && authority.bounded() {
			let rails = T::Rails::get();
			ensure!(
				margincall_rails::interval_passed(
					last.map(|b| b.saturated_into()),
					now.saturated_into(),
					rails.min_interval.into(),
				),
				Error::<T>::ChangeTooSoon
			);
			old.check_steps::<T>(&params, &rails)?;
			ensure!(!params.borrow_enabled || old.borrow_enabled, Error::<T>::RootOnly);
		}
		let mut market = Self::accrue(&asset)?;
		market.params = params;
		Markets::<T>::insert(asset, market);
		if risk_changed {
			LastRiskChange::<T>::insert(asset, now);
		}
		Self::deposit_event(Event::MarketUpdated { asset, params });
		Ok(())
	}

	pub(crate) fn do_set_status(asset: T::AssetId, status: MarketStatus) -> DispatchResult {
		let mut market = Self::accrue(&asset)?;
		ensure!(market.params.status != status, Error::<T>::StatusUnchanged);
		market.params.status = status;
		Markets::<T>::insert(asset, market);
		Self::deposit_event(match status {
			MarketStatus::Paused => Event::MarketPaused { asset },
			MarketStatus::Active => Event::MarketResumed { asset },
		});
		Ok(())
	}

	/// `UpdateOrigin` as root ([`Authority::Unbounded`]), or `BadOrigin` / `RootOnly`.
	pub(crate) fn ensure_unbounded(origin: OriginFor<T>) -> DispatchResult {
		let authority = T::UpdateOrigin::ensure_origin(origin)?;
		ensure!(!authority.bounded(), Error::<T>::RootOnly);
		Ok(())
	}

	pub(crate) fn do_supply(who: &T::AccountId, asset: T::AssetId, amount: u128) -> DispatchResult {
		ensure!(!amount.is_zero(), Error::<T>::ZeroAmount);
		let mut market = Self::accrue(&asset)?;
		let params = market.params;
		ensure!(params.status == MarketStatus::Active, Error::<T>::MarketPaused);
		// The reserves' floor keeps the pallet account alive: whoever finds it unfilled fills it.
		let seed = T::Assets::minimum_balance(asset).saturating_sub(market.state.reserves);
		ensure!(amount > seed, Error::<T>::BelowMinimumBalance);
		let credited = amount.saturating_sub(seed);
		let state = &mut market.state;
		// A loss that wiped the suppliers out leaves shares worth (next to) nothing: no new
		// supply may join them; once they are all withdrawn, the market starts afresh.
		if state.total_scaled_supply.is_zero() && state.supply_index < FixedU128::one() {
			state.supply_index = FixedU128::one();
		}
		ensure!(state.supply_index >= MIN_SUPPLY_INDEX, Error::<T>::MarketWipedOut);
		let shares = math::div(credited, state.supply_index, Rounding::Down).or_err::<T>()?;
		ensure!(!shares.is_zero(), Error::<T>::ZeroAmount);
		state.reserves = state.reserves.checked_add(seed).ok_or(Error::<T>::Overflow)?;
		state.total_scaled_supply =
			state.total_scaled_supply.checked_add(shares).ok_or(Error::<T>::Overflow)?;
		let total = math::mul(state.total_scaled_supply, state.supply_index, Rounding::Down)
			.or_err::<T>()?;
		ensure!(total <= params.supply_cap, Error::<T>::SupplyCapExceeded);

		let mut positions = Positions::<T>::get(who).unwrap_or_default();
		Self::add_supply(&mut positions, asset, shares, params.collateral_enabled)?;
		T::Assets::transfer(asset, who, &Self::account_id(), amount, Preservation::Expendable)?;
		Markets::<T>::insert(asset, market);
		Self::changed(who, positions, &[asset], RiskChange::Lowered);
		if !seed.is_zero() {
			Self::deposit_event(Event::ReservesSeeded { asset, who: who.clone(), amount: seed });
		}
		Self::deposit_event(Event::Supplied { who: who.clone(), asset, amount: credited, shares });
		Ok(())
	}

	/// Withdraws `amount` of `who`'s supply of `asset`; returns what was paid out.
	pub(crate) fn do_withdraw(
		who: &T::AccountId,
		asset: T::AssetId,
		amount: Amount,
	) -> Result<u128, DispatchError> {
		let mut market = Self::accrue(&asset)?;
		let state = &mut market.state;
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
		ensure!(amount <= Self::available_cash(asset), Error::<T>::InsufficientLiquidity);
		let was_collateral = position.collateral;
		position.scaled = position.scaled.checked_sub(shares).ok_or(Error::<T>::Defensive)?;
		if position.scaled.is_zero() {
			positions.supplies.remove(index);
		}
		state.total_scaled_supply =
			state.total_scaled_supply.checked_sub(shares).ok_or(Error::<T>::Defensive)?;
		Markets::<T>::insert(asset, market);
		if was_collateral {
			Self::ensure_within_limits(&positions)?;
		}
		Self::pay_out(asset, who, amount)?;
		Self::changed(who, positions, &[asset], RiskChange::Raised);
		Self::deposit_event(Event::Withdrawn { who: who.clone(), asset, amount, shares });
		Ok(amount)
	}

	pub(crate) fn do_borrow(who: &T::AccountId, asset: T::AssetId, amount: u128) -> DispatchResult {
		ensure!(!amount.is_zero(), Error::<T>::ZeroAmount);
		let mut market = Self::accrue(&asset)?;
		let params = market.params;
		let state = &mut market.state;
		ensure!(params.status == MarketStatus::Active, Error::<T>::MarketPaused);
		ensure!(params.borrow_enabled, Error::<T>::BorrowNotEnabled);
		ensure!(!T::Breaker::emergency(), Error::<T>::BorrowsHalted);
		ensure!(!T::Breaker::halted(&asset), Error::<T>::AssetHalted);
		// Debt shares rounded up: the borrower owes at least what it received.
		let shares = math::div(amount, state.borrow_index, Rounding::Up).or_err::<T>()?;
		state.total_scaled_borrow =
			state.total_scaled_borrow.checked_add(shares).ok_or(Error::<T>::Overflow)?;
		let total =
			math::mul(state.total_scaled_borrow, state.borrow_index, Rounding::Up).or_err::<T>()?;
		ensure!(total <= params.borrow_cap, Error::<T>::BorrowCapExceeded);
		ensure!(amount <= Self::available_cash(asset), Error::<T>::InsufficientLiquidity);

		let mut positions = Positions::<T>::get(who).unwrap_or_default();
		let scaled = match positions.borrows.iter_mut().find(|p| p.asset == asset) {
			Some(p) => {
				p.scaled = p.scaled.checked_add(shares).ok_or(Error::<T>::Overflow)?;
				p.scaled
			},
			None => {
				positions
					.borrows
					.try_push(BorrowPosition { asset, scaled: shares })
					.map_err(|_| Error::<T>::TooManyPositions)?;
				shares
			},
		};
		if !params.min_borrow_value.is_zero() {
			let debt = math::mul(scaled, state.borrow_index, Rounding::Up).or_err::<T>()?;
			let price = T::Prices::price(&asset).map_err(Error::<T>::from)?;
			let value = math::value(debt, price, Rounding::Down).or_err::<T>()?;
			ensure!(value >= params.min_borrow_value, Error::<T>::BorrowTooSmall);
		}
		Markets::<T>::insert(asset, market);
		Self::ensure_within(&positions, Pricing::Borrow)?;
		Self::pay_out(asset, who, amount)?;
		Self::changed(who, positions, &[asset], RiskChange::Raised);
		Self::deposit_event(Event::Borrowed { who: who.clone(), asset, amount, shares });
		Ok(())
	}

	pub(crate) fn do_repay(
		payer: &T::AccountId,
		borrower: &T::AccountId,
		asset: T::AssetId,
		amount: Amount,
	) -> DispatchResult {
		let mut market = Self::accrue(&asset)?;
		let state = &mut market.state;
		let mut positions = Positions::<T>::get(borrower).unwrap_or_default();
		let index =
			positions.borrows.iter().position(|p| p.asset == asset).ok_or(Error::<T>::NoDebt)?;
		let position = positions.borrows.get_mut(index).ok_or(Error::<T>::Defensive)?;
		let debt = math::mul(position.scaled, state.borrow_index, Rounding::Up).or_err::<T>()?;
		let (amount, shares) = match amount {
			Amount::Exact(a) => (a, Self::repaid_shares(position, a, debt, state.borrow_index)?),
			Amount::All => (debt, position.scaled),
		};
		position.scaled = position.scaled.checked_sub(shares).ok_or(Error::<T>::Defensive)?;
		if position.scaled.is_zero() {
			positions.borrows.remove(index);
		}
		state.total_scaled_borrow =
			state.total_scaled_borrow.checked_sub(shares).ok_or(Error::<T>::Defensive)?;
		T::Assets::transfer(asset, payer, &Self::account_id(), amount, Preservation::Expendable)?;
		Markets::<T>::insert(asset, market);
		Self::changed(borrower, positions, &[asset], RiskChange::Lowered);
		Self::deposit_event(Event::Repaid {
			payer: payer.clone(),
			borrower: borrower.clone(),
			asset,
			amount,
			shares,
		});
		Ok(())
	}

	/// Repays `amount` of `who`'s `asset` debt from its `asset` collateral supply: supply
	/// shares rounded up, debt shares rounded down (both against the borrower), no tokens
	/// moved. The market's cash is unchanged, its supply and borrows fall together.
	pub(crate) fn do_net(who: &T::AccountId, asset: T::AssetId, amount: u128) -> DispatchResult {
		ensure!(!amount.is_zero(), Error::<T>::ZeroAmount);
		let mut market = Self::accrue(&asset)?;
		let state = &mut market.state;
		let mut positions = Positions::<T>::get(who).unwrap_or_default();
		let s_index =
			positions.supplies.iter().position(|p| p.asset == asset).ok_or(Error::<T>::NoSupply)?;
		let b_index =
			positions.borrows.iter().position(|p| p.asset == asset).ok_or(Error::<T>::NoDebt)?;
		let supply = positions.supplies.get_mut(s_index).ok_or(Error::<T>::Defensive)?;
		ensure!(supply.collateral, Error::<T>::NotCollateral);
		let balance = math::mul(supply.scaled, state.supply_index, Rounding::Down).or_err::<T>()?;
		let supply_shares = Self::seized_shares(supply, amount, balance, state.supply_index)?;
		supply.scaled = supply.scaled.checked_sub(supply_shares).ok_or(Error::<T>::Defensive)?;
		let supply_gone = supply.scaled.is_zero();
		let borrow = positions.borrows.get_mut(b_index).ok_or(Error::<T>::Defensive)?;
		let debt = math::mul(borrow.scaled, state.borrow_index, Rounding::Up).or_err::<T>()?;
		ensure!(amount <= debt, Error::<T>::RepayExceedsDebt);
		let debt_shares = if amount == debt {
			borrow.scaled
		} else {
			math::div(amount, state.borrow_index, Rounding::Down).or_err::<T>()?.min(borrow.scaled)
		};
		ensure!(!debt_shares.is_zero(), Error::<T>::ZeroAmount);
		borrow.scaled = borrow.scaled.checked_sub(debt_shares).ok_or(Error::<T>::Defensive)?;
		if borrow.scaled.is_zero() {
			positions.borrows.remove(b_index);
		}
		if supply_gone {
			positions.supplies.remove(s_index);
		}
		state.total_scaled_supply =
			state.total_scaled_supply.checked_sub(supply_shares).ok_or(Error::<T>::Defensive)?;
		state.total_scaled_borrow =
			state.total_scaled_borrow.checked_sub(debt_shares).ok_or(Error::<T>::Defensive)?;
		Markets::<T>::insert(asset, market);
		Self::changed(who, positions, &[asset], RiskChange::Raised);
		Self::deposit_event(Event::PositionNetted {
			who: who.clone(),
			asset,
			amount,
			supply_shares,
			debt_shares,
		});
		Ok(())
	}

	pub(crate) fn do_set_collateral(
		who: &T::AccountId,
		asset: T::AssetId,
		enable: bool,
	) -> DispatchResult {
		let params = Markets::<T>::get(asset).ok_or(Error::<T>::MarketNotFound)?.params;
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
		let change = if enable { RiskChange::Lowered } else { RiskChange::Raised };
		Self::changed(who, positions, &[asset], change);
		if enable {
			Self::deposit_event(Event::CollateralEnabled { who: who.clone(), asset });
		} else {
			Self::deposit_event(Event::CollateralDisabled { who: who.clone(), asset });
		}
		Ok(())
	}

	/// Moves supply shares worth `amount` of `who`'s collateral in `asset` to `to`'s supply;
	/// returns the shares moved. No cash moves, so a lent-out market cannot block it.
	pub(crate) fn do_seize(
		who: &T::AccountId,
		asset: T::AssetId,
		amount: u128,
		to: &T::AccountId,
	) -> Result<u128, DispatchError> {
		ensure!(!amount.is_zero(), Error::<T>::ZeroAmount);
		ensure!(who != to, Error::<T>::SeizeToSelf);
		let market = Self::accrue(&asset)?;
		let mut positions = Positions::<T>::get(who).unwrap_or_default();
		let index =
			positions.supplies.iter().position(|p| p.asset == asset).ok_or(Error::<T>::NoSupply)?;
		let position = positions.supplies.get_mut(index).ok_or(Error::<T>::Defensive)?;
		ensure!(position.collateral, Error::<T>::NotCollateral);
		let balance =
			math::mul(position.scaled, market.state.supply_index, Rounding::Down).or_err::<T>()?;
		// Shares rounded up: the receiver gets at least `amount`.
		let shares = Self::seized_shares(position, amount, balance, market.state.supply_index)?;
		position.scaled = position.scaled.checked_sub(shares).ok_or(Error::<T>::Defensive)?;
		if position.scaled.is_zero() {
			positions.supplies.remove(index);
		}
		let mut received = Positions::<T>::get(to).unwrap_or_default();
		Self::add_supply(&mut received, asset, shares, false)?;
		Self::changed(who, positions, &[asset], RiskChange::Raised);
		Self::changed(to, received, &[asset], RiskChange::Lowered);
		Self::deposit_event(Event::CollateralSeized {
			who: who.clone(),
			asset,
			amount,
			shares,
			to: to.clone(),
		});
		Ok(shares)
	}

	/// The shares a seizure of `amount` takes from `position` (worth `balance`), as
	/// [`Self::do_seize`] takes them: all of them for the whole balance, else rounded up.
	pub(crate) fn seized_shares(
		position: &SupplyPosition<T::AssetId>,
		amount: u128,
		balance: u128,
		index: FixedU128,
	) -> Result<u128, Error<T>> {
		ensure!(amount <= balance, Error::<T>::InsufficientSupply);
		if amount == balance {
			return Ok(position.scaled);
		}
		Ok(math::div(amount, index, Rounding::Up).or_err::<T>()?.min(position.scaled))
	}

	/// The debt shares a repayment of `amount` burns from `position` (owing `debt`), as
	/// [`Self::do_repay`] burns them: all of them for the whole debt, else rounded down (a
	/// partial repayment never clears more than paid), refusing one that clears none.
	pub(crate) fn repaid_shares(
		position: &BorrowPosition<T::AssetId>,
		amount: u128,
		debt: u128,
		index: FixedU128,
	) -> Result<u128, Error<T>> {
		if amount == debt {
			return Ok(position.scaled);
		}
		ensure!(!amount.is_zero(), Error::<T>::ZeroAmount);
		ensure!(amount < debt, Error::<T>::RepayExceedsDebt);
		let shares = math::div(amount, index, Rounding::Down).or_err::<T>()?.min(position.scaled);
		// Paying less than one debt share would clear nothing.
		ensure!(!shares.is_zero(), Error::<T>::ZeroAmount);
		Ok(shares)
	}

	/// Forgives `amount` of `who`'s debt in `asset`: the market's reserves above their floor
	/// absorb it first, then its suppliers through the supply index (rounded against them, so
	/// the market stays solvent to the unit); only a market whose suppliers are wiped out
	/// touches the floor.
	pub(crate) fn do_write_off(
		who: &T::AccountId,
		asset: T::AssetId,
		amount: u128,
	) -> Result<WriteOff, DispatchError> {
		ensure!(!amount.is_zero(), Error::<T>::ZeroAmount);
		let mut market = Self::accrue(&asset)?;
		let state = &mut market.state;
		let mut positions = Positions::<T>::get(who).unwrap_or_default();
		let index =
			positions.borrows.iter().position(|p| p.asset == asset).ok_or(Error::<T>::NoDebt)?;
		let position = positions.borrows.get_mut(index).ok_or(Error::<T>::Defensive)?;
		let debt = math::mul(position.scaled, state.borrow_index, Rounding::Up).or_err::<T>()?;
		ensure!(amount <= debt, Error::<T>::RepayExceedsDebt);
		let shares = if amount == debt {
			position.scaled
		} else {
			math::div(amount, state.borrow_index, Rounding::Down)
				.or_err::<T>()?
				.min(position.scaled)
		};
		ensure!(!shares.is_zero(), Error::<T>::ZeroAmount);
		position.scaled = position.scaled.checked_sub(shares).ok_or(Error::<T>::Defensive)?;
		if position.scaled.is_zero() {
			positions.borrows.remove(index);
		}
		state.total_scaled_borrow =
			state.total_scaled_borrow.checked_sub(shares).ok_or(Error::<T>::Defensive)?;

		// The loss is the whole amount forgiven (at least the debt shares' exact value).
		let has_suppliers = !state.total_scaled_supply.is_zero();
		let floor = if has_suppliers { T::Assets::minimum_balance(asset) } else { 0 };
		let mut from_reserves = amount.min(state.reserves.saturating_sub(floor));
		let mut rest = amount.saturating_sub(from_reserves);
		let mut socialised = 0u128;
		if !rest.is_zero() && has_suppliers {
			let owned = math::mul(state.total_scaled_supply, state.supply_index, Rounding::Down)
				.or_err::<T>()?;
			socialised = rest.min(owned);
			// The index falls by at least the loss per share.
			let delta = math::ratio(socialised, state.total_scaled_supply, Rounding::Up)
				.or_err::<T>()?
				.min(state.supply_index);
			state.supply_index = state.supply_index.saturating_sub(delta);
			rest = rest.saturating_sub(socialised);
		}
		// Only when the suppliers are wiped out: the floor itself.
		from_reserves =
			from_reserves.saturating_add(rest.min(state.reserves.saturating_sub(from_reserves)));
		let covered = from_reserves.saturating_add(socialised);
		ensure!(covered == amount, Error::<T>::Defensive);
		state.reserves = state.reserves.checked_sub(from_reserves).ok_or(Error::<T>::Defensive)?;
		state.bad_debt = state.bad_debt.checked_add(socialised).ok_or(Error::<T>::Overflow)?;
		let supply_index = state.supply_index;
		Markets::<T>::insert(asset, market);
		Self::changed(who, positions, &[asset], RiskChange::Lowered);
		Self::deposit_event(Event::DebtWrittenOff {
			who: who.clone(),
			asset,
			amount,
			shares,
			from_reserves,
			socialised,
			supply_index,
		});
		Ok(WriteOff { amount, from_reserves, socialised })
	}

	pub(crate) fn do_add_reserves(
		who: &T::AccountId,
		asset: T::AssetId,
		amount: u128,
	) -> DispatchResult {
		ensure!(!amount.is_zero(), Error::<T>::ZeroAmount);
		let mut market = Self::accrue(&asset)?;
		market.state.reserves =
			market.state.reserves.checked_add(amount).ok_or(Error::<T>::Overflow)?;
		T::Assets::transfer(asset, who, &Self::account_id(), amount, Preservation::Expendable)?;
		Markets::<T>::insert(asset, market);
		Self::deposit_event(Event::ReservesAdded { asset, who: who.clone(), amount });
		Ok(())
	}

	pub(crate) fn do_transfer_reserves(
		asset: T::AssetId,
		amount: u128,
		to: &T::AccountId,
	) -> DispatchResult {
		ensure!(!amount.is_zero(), Error::<T>::ZeroAmount);
		let mut market = Self::accrue(&asset)?;
		let floor = T::Assets::minimum_balance(asset);
		ensure!(
			amount <= market.state.reserves.saturating_sub(floor),
			Error::<T>::InsufficientReserves
		);
		ensure!(amount <= Self::available_cash(asset), Error::<T>::InsufficientLiquidity);
		market.state.reserves =
			market.state.reserves.checked_sub(amount).ok_or(Error::<T>::Defensive)?;
		Markets::<T>::insert(asset, market);
		Self::pay_out(asset, to, amount)?;
		Self::deposit_event(Event::ReservesTransferred { asset, amount, to: to.clone() });
		Ok(())
	}

	/// A market's parameters, totals and rates now, for the runtime API and view functions.
	pub fn market_info(asset: &T::AssetId) -> Option<MarketInfo> {
		let Market { params, state } = Self::current(asset).ok()?;
		let total_supplied =
			math::mul(state.total_scaled_supply, state.supply_index, Rounding::Down).ok()?;
		let total_borrowed =
			math::mul(state.total_scaled_borrow, state.borrow_index, Rounding::Up).ok()?;
		let utilisation = math::utilisation(total_borrowed, total_supplied).ok()?;
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
			bad_debt: state.bad_debt,
			utilisation,
			borrow_rate,
			supply_rate,
			supply_index: state.supply_index,
			borrow_index: state.borrow_index,
		})
	}

	/// `who`'s positions accrued to now, one entry per market it is in; an error if a market
	/// cannot be accrued (never a made-up number).
	pub fn positions_info(
		who: &T::AccountId,
	) -> Result<Vec<PositionInfo<T::AssetId>>, DispatchError> {
		let positions = Positions::<T>::get(who).unwrap_or_default();
		let mut out: Vec<PositionInfo<T::AssetId>> = Vec::new();
		for s in positions.supplies.iter() {
			let market = Self::current(&s.asset)?;
			let supplied =
				math::mul(s.scaled, market.state.supply_index, Rounding::Down).or_err::<T>()?;
			out.push(PositionInfo {
				asset: s.asset,
				supplied,
				collateral: s.collateral,
				borrowed: 0,
			});
		}
		for b in positions.borrows.iter() {
			let market = Self::current(&b.asset)?;
			let borrowed =
				math::mul(b.scaled, market.state.borrow_index, Rounding::Up).or_err::<T>()?;
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
		Ok(out)
	}

	/// Checks the pallet's invariants:
	/// 1. per market, the accounts' supply shares add up to `total_scaled_supply` and their
	///    debt shares to `total_scaled_borrow`, exactly;
	/// 2. per market, the pallet account holds at least `supplied − borrowed + reserves`, exactly
	///    (shares × index, unrounded);
	/// 3. the borrow index is at least 1 (it starts at 1 and never decreases); the supply index
	///    falls only by a write-off (recorded in `bad_debt` and an event), to zero only when a
	///    loss wiped the suppliers out;
	/// 4. while a market has suppliers, its reserves are at least the asset's minimum balance
	///    and the pallet account holds at least that much, so it is never reaped;
	/// 5. every market has valid parameters; every position refers to a market and holds a
	///    non-zero number of shares.
	#[cfg(any(feature = "try-runtime", feature = "std", test))]
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		use alloc::collections::btree_map::BTreeMap;
		use sp_arithmetic::FixedPointNumber;
		use sp_core::U256;
		let mut supply: BTreeMap<T::AssetId, u128> = BTreeMap::new();
		let mut borrow: BTreeMap<T::AssetId, u128> = BTreeMap::new();
		for (_, positions) in Positions::<T>::iter() {
			ensure!(!positions.is_removable(), "empty positions are removed");
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
		for (asset, Market { params, state }) in Markets::<T>::iter() {
			params.validate::<T>().map_err(|_| "invalid market parameters")?;
			ensure!(
				supply.get(&asset).copied().unwrap_or_default() == state.total_scaled_supply,
				"supply shares do not add up to the market total"
			);
			ensure!(
				borrow.get(&asset).copied().unwrap_or_default() == state.total_scaled_borrow,
				"debt shares do not add up to the market total"
			);
			ensure!(state.borrow_index >= FixedU128::one(), "borrow index below 1");
			let cash_units = T::Assets::balance(asset, &Self::account_id());
			if !state.total_scaled_supply.is_zero() {
				let floor = T::Assets::minimum_balance(asset);
				ensure!(state.reserves >= floor, "reserves below their floor with suppliers");
				ensure!(cash_units >= floor, "pallet account below the minimum balance");
			}
			// cash + borrowed ≥ supplied + reserves, exactly: in U256 at 18 decimals, so no
			// rounding tolerance is needed.
			let e18 = U256::from(<FixedU128 as FixedPointNumber>::DIV);
			let cash = U256::from(cash_units).saturating_mul(e18);
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
	type Tag = TagOf<T>;

	fn account_health(who: &T::AccountId) -> Result<Health, DispatchError> {
		Pallet::<T>::account_health(who)
	}

	fn liquidation_health(
		who: &T::AccountId,
		debt_asset: &T::AssetId,
		collateral_asset: &T::AssetId,
	) -> Result<Health, DispatchError> {
		Pallet::<T>::liquidation_health(who, debt_asset, collateral_asset)
	}

	fn grace_health(who: &T::AccountId) -> Result<Health, DispatchError> {
		Pallet::<T>::grace_health(who)
	}

	fn price_grace() -> u64 {
		T::StalePriceGrace::get()
	}

	fn liquidation_view(
		who: &T::AccountId,
		debt_asset: &T::AssetId,
		collateral_asset: &T::AssetId,
		reads: &mut PlanReads<T::AssetId>,
	) -> Result<LiquidationView, ViewError> {
		Pallet::<T>::liquidation_view(who, debt_asset, collateral_asset, reads)
	}

	fn account_assets(who: &T::AccountId) -> AccountAssets<T::AssetId> {
		let positions = Positions::<T>::get(who).unwrap_or_default();
		AccountAssets {
			supplies: positions.supplies.iter().map(|s| (s.asset, s.collateral)).collect(),
			debts: positions.borrows.iter().map(|b| b.asset).collect(),
		}
	}

	fn account_shares(who: &T::AccountId) -> AccountShares<T::AssetId> {
		Positions::<T>::get(who).unwrap_or_default().shares()
	}

	fn index_tag(who: &T::AccountId) -> TagOf<T> {
		Positions::<T>::get(who).map(|p| p.tag).unwrap_or_default()
	}

	fn update_index_tag(
		who: &T::AccountId,
		f: impl FnOnce(&AccountShares<T::AssetId>, &mut TagOf<T>),
	) {
		let mut positions = Positions::<T>::get(who).unwrap_or_default();
		let before = positions.tag.clone();
		f(&positions.shares(), &mut positions.tag);
		if positions.tag == before {
			return;
		}
		if positions.is_removable() {
			Positions::<T>::remove(who);
		} else {
			Positions::<T>::insert(who, positions);
		}
	}

	fn indexes(asset: &T::AssetId) -> Option<(FixedU128, FixedU128)> {
		Self::current(asset).ok().map(|m| (m.state.supply_index, m.state.borrow_index))
	}

	fn repay_clears_share(asset: &T::AssetId, amount: u128, owed: u128) -> bool {
		amount >= owed
			|| Self::current(asset).is_ok_and(|m| {
				crate::view::repay_clears_share_at(m.state.borrow_index, amount, owed)
			})
	}

	fn market_params(asset: &T::AssetId) -> Option<MarketParams> {
		Markets::<T>::get(asset).map(|m| m.params)
	}

	fn markets() -> Vec<T::AssetId> {
		Markets::<T>::iter_keys().collect()
	}

	fn markets_up_to(limit: u32) -> Vec<T::AssetId> {
		Markets::<T>::iter_keys().take(usize::try_from(limit).unwrap_or(usize::MAX)).collect()
	}

	fn accounts(after: Option<T::AccountId>, limit: u32) -> Vec<T::AccountId> {
		let limit = usize::try_from(limit).unwrap_or(usize::MAX);
		match after {
			Some(after) => Positions::<T>::iter_keys_from(Positions::<T>::hashed_key_for(after))
				.take(limit)
				.collect(),
			None => Positions::<T>::iter_keys().take(limit).collect(),
		}
	}

	fn supplied(who: &T::AccountId, asset: &T::AssetId) -> Result<u128, DispatchError> {
		let market = Self::current(asset)?;
		let scaled = Positions::<T>::get(who)
			.and_then(|p| p.supply(asset).map(|s| s.scaled))
			.unwrap_or_default();
		Ok(math::mul(scaled, market.state.supply_index, Rounding::Down)
			.map_err(Error::<T>::from)?)
	}

	fn debt(who: &T::AccountId, asset: &T::AssetId) -> Result<u128, DispatchError> {
		let market = Self::current(asset)?;
		let scaled = Positions::<T>::get(who)
			.and_then(|p| p.borrow(asset).map(|b| b.scaled))
			.unwrap_or_default();
		Ok(math::mul(scaled, market.state.borrow_index, Rounding::Up).map_err(Error::<T>::from)?)
	}

	fn available_cash(asset: &T::AssetId) -> u128 {
		Pallet::<T>::available_cash(*asset)
	}

	fn seize_collateral(
		who: &T::AccountId,
		asset: &T::AssetId,
		amount: u128,
		to: &T::AccountId,
	) -> Result<u128, DispatchError> {
		with_storage_layer(|| Self::do_seize(who, *asset, amount, to))
	}

	fn withdraw_supply(
		who: &T::AccountId,
		asset: &T::AssetId,
		amount: Amount,
	) -> Result<u128, DispatchError> {
		with_storage_layer(|| Self::do_withdraw(who, *asset, amount))
	}

	fn repay_debt(
		payer: &T::AccountId,
		who: &T::AccountId,
		asset: &T::AssetId,
		amount: u128,
	) -> DispatchResult {
		with_storage_layer(|| Self::do_repay(payer, who, *asset, Amount::Exact(amount)))
	}

	fn seize_lot(
		asset: &T::AssetId,
		lot: &[LotSeizure<T::AccountId>],
		to: &T::AccountId,
		receivers: (&T::AccountId, &T::AccountId),
		rest_paid: RestPaid,
	) -> Result<Vec<(u128, u128)>, DispatchError> {
		with_storage_layer(|| Self::do_seize_lot(*asset, lot, to, receivers, rest_paid))
	}

	fn repay_lot(
		payer: &T::AccountId,
		asset: &T::AssetId,
		lot: &[(T::AccountId, u128)],
	) -> DispatchResult {
		with_storage_layer(|| Self::do_repay_lot(payer, *asset, lot))
	}

	fn settle_lot<R>(
		(collateral, debt): (&T::AssetId, &T::AssetId),
		lot: (&[LotSeizure<T::AccountId>], &[u128]),
		to_payer: (&T::AccountId, &T::AccountId),
		receivers: (&T::AccountId, &T::AccountId),
		rest_paid: RestPaid,
		sell: impl FnOnce() -> Result<R, DispatchError>,
	) -> Result<(Vec<(u128, u128)>, R), DispatchError> {
		with_storage_layer(|| {
			Self::do_settle_lot((*collateral, *debt), lot, to_payer, receivers, rest_paid, sell)
		})
	}

	fn net(who: &T::AccountId, asset: &T::AssetId, amount: u128) -> DispatchResult {
		with_storage_layer(|| Self::do_net(who, *asset, amount))
	}

	fn write_off(
		who: &T::AccountId,
		asset: &T::AssetId,
		amount: u128,
	) -> Result<WriteOff, DispatchError> {
		with_storage_layer(|| Self::do_write_off(who, *asset, amount))
	}

	fn transfer_reserves(asset: &T::AssetId, amount: u128, to: &T::AccountId) -> DispatchResult {
		with_storage_layer(|| Self::do_transfer_reserves(*asset, amount, to))
	}

	fn health_weight() -> Weight {
		T::WeightInfo::account_health(T::MaxAssetsPerAccount::get())
	}

	fn seize_collateral_weight() -> Weight {
		T::WeightInfo::seize_collateral()
	}

	fn withdraw_supply_weight() -> Weight {
		T::WeightInfo::withdraw()
	}

	fn repay_debt_weight() -> Weight {
		T::WeightInfo::repay_debt()
	}

	fn write_off_weight() -> Weight {
		T::WeightInfo::write_off()
	}

	fn transfer_reserves_weight() -> Weight {
		T::WeightInfo::transfer_reserves()
	}
}
