//! Benchmarks (frame-benchmarking v2). The worst case of every call that checks health: the
//! caller supplies collateral to `MaxAssetsPerAccount` markets and owes debt in as many OTHER
//! markets (2 × `MaxAssetsPerAccount` markets and prices read), and an hour passes after the
//! set-up, so every market touched accrues interest (and emits its event) inside the measured
//! call.

use super::*;
use crate::pallet::{Markets, Positions};
use alloc::vec::Vec;
use frame_benchmarking::v2::*;
use frame_support::traits::{fungibles::Mutate, EnsureOrigin, Get};
use frame_system::RawOrigin;
use sp_arithmetic::{FixedU128, Permill};
use sp_runtime::traits::StaticLookup;

const LIQUIDITY: u128 = 1_000_000_000_000;
const COLLATERAL: u128 = 1_000_000_000;
const DEBT: u128 = 1_000_000;
/// Block time at the start of every benchmark (ms), and the time that passes after set-up.
const T0: u64 = 1_700_000_000_000;
const HOUR: u64 = 3_600_000;

fn params() -> MarketParams {
	MarketParams {
		collateral_factor: Permill::from_percent(80),
		liquidation_threshold: Permill::from_percent(85),
		liquidation_bonus: Permill::from_percent(5),
		close_factor: Permill::from_percent(50),
		reserve_factor: Permill::from_percent(10),
		supply_cap: u128::MAX,
		borrow_cap: u128::MAX,
		min_borrow_value: 1,
		rate_model: RateModel {
			base: FixedU128::from_rational(1, 100),
			slope1: FixedU128::from_rational(4, 100),
			kink: FixedU128::from_rational(80, 100),
			slope2: FixedU128::from_rational(75, 100),
		},
		collateral_enabled: true,
		borrow_enabled: true,
		status: MarketStatus::Active,
	}
}

/// Block 1 at `T0`, the position hook muted (its weight is the hook's own).
fn start<T: Config>() {
	frame_system::Pallet::<T>::set_block_number(1u32.into());
	T::BenchmarkHelper::set_time(T0);
	T::BenchmarkHelper::mute_position_hook();
}

/// An hour later, every benchmark asset's price fed again (fresh).
fn an_hour_later<T: Config>() {
	T::BenchmarkHelper::set_time(T0 + HOUR);
	for i in 0..T::MaxAssetsPerAccount::get().saturating_mul(2) {
		let asset = T::BenchmarkHelper::asset(i);
		if Markets::<T>::contains_key(asset) {
			T::BenchmarkHelper::set_price(asset, FixedU128::from_u32(1));
		}
	}
}

/// A market for the `i`-th benchmark asset, with a fresh price of 1 and `LIQUIDITY` supplied
/// by a lender (whose first supply seeds the reserves' floor).
fn market<T: Config>(i: u32) -> T::AssetId {
	let asset = T::BenchmarkHelper::asset(i);
	if Markets::<T>::contains_key(asset) {
		return asset;
	}
	T::BenchmarkHelper::create_asset(asset);
	T::BenchmarkHelper::set_price(asset, FixedU128::from_u32(1));
	assert!(Pallet::<T>::do_create_market(asset, params()).is_ok());
	let lender: T::AccountId = account("lender", i, 0);
	assert!(T::Assets::mint_into(asset, &lender, LIQUIDITY * 2).is_ok());
	assert_eq!(Pallet::<T>::do_supply(&lender, asset, LIQUIDITY), Ok(()));
	// Every market has borrows, so every market touched accrues in the measured call.
	assert_eq!(Pallet::<T>::do_borrow(&lender, asset, LIQUIDITY / 10), Ok(()));
	asset
}

/// `who` supplies collateral to `n` markets (assets `0..n`) and borrows from `n` others
/// (assets `M..M + n`, `M` = `MaxAssetsPerAccount`). Returns `(collaterals, debts)`.
fn account_with<T: Config>(who: &T::AccountId, n: u32) -> (Vec<T::AssetId>, Vec<T::AssetId>) {
	let max = T::MaxAssetsPerAccount::get();
	let collaterals: Vec<T::AssetId> = (0..n).map(|i| market::<T>(i)).collect();
	let debts: Vec<T::AssetId> = (max..max.saturating_add(n)).map(|i| market::<T>(i)).collect();
	for asset in collaterals.iter().chain(debts.iter()) {
		assert!(T::Assets::mint_into(*asset, who, COLLATERAL * 2).is_ok());
	}
	for asset in &collaterals {
		assert!(Pallet::<T>::do_supply(who, *asset, COLLATERAL).is_ok());
	}
	for asset in &debts {
		assert!(Pallet::<T>::do_borrow(who, *asset, DEBT).is_ok());
	}
	(collaterals, debts)
}

/// [`account_with`] at `MaxAssetsPerAccount`. Benchmarks call [`an_hour_later`] after the rest
/// of their set-up, so nothing touches a market between it and the measured call.
fn full_account<T: Config>(who: &T::AccountId) -> (T::AssetId, T::AssetId) {
	let (collaterals, debts) = account_with::<T>(who, T::MaxAssetsPerAccount::get());
	(
		collaterals.first().copied().expect("MaxAssetsPerAccount > 0 (integrity test)"),
		debts.first().copied().expect("MaxAssetsPerAccount > 0 (integrity test)"),
	)
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn create_market() -> Result<(), BenchmarkError> {
		start::<T>();
		let origin =
			T::UpdateOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let asset = T::BenchmarkHelper::asset(0);
		T::BenchmarkHelper::create_asset(asset);

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, asset, params());

		assert_eq!(Markets::<T>::get(asset).map(|m| m.params), Some(params()));
		Ok(())
	}

	#[benchmark]
	fn update_market() -> Result<(), BenchmarkError> {
		start::<T>();
		let origin =
			T::UpdateOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let caller: T::AccountId = whitelisted_caller();
		let (_, asset) = full_account::<T>(&caller);
		an_hour_later::<T>();
		let new = MarketParams { reserve_factor: Permill::from_percent(20), ..params() };

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, asset, new);

		assert_eq!(Markets::<T>::get(asset).map(|m| m.params), Some(new));
		Ok(())
	}

	#[benchmark]
	fn pause_market() -> Result<(), BenchmarkError> {
		start::<T>();
		let origin =
			T::PauseOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let caller: T::AccountId = whitelisted_caller();
		let (_, asset) = full_account::<T>(&caller);
		an_hour_later::<T>();

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, asset);

		assert_eq!(Markets::<T>::get(asset).map(|m| m.params.status), Some(MarketStatus::Paused));
		Ok(())
	}

	#[benchmark]
	fn supply() {
		start::<T>();
		let caller: T::AccountId = whitelisted_caller();
		let (asset, _) = full_account::<T>(&caller);
		an_hour_later::<T>();
		let before = Positions::<T>::get(&caller).and_then(|p| p.supply(&asset).copied());

		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), asset, COLLATERAL);

		let after = Positions::<T>::get(&caller).and_then(|p| p.supply(&asset).copied());
		assert!(after.map(|p| p.scaled) > before.map(|p| p.scaled));
	}

	#[benchmark]
	fn withdraw() {
		start::<T>();
		let caller: T::AccountId = whitelisted_caller();
		let (asset, _) = full_account::<T>(&caller);
		an_hour_later::<T>();

		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), asset, Amount::Exact(COLLATERAL / 2));

		let position = Positions::<T>::get(&caller).and_then(|p| p.supply(&asset).copied());
		assert!(position.map(|p| p.scaled) < Some(COLLATERAL));
	}

	#[benchmark]
	fn borrow() {
		start::<T>();
		let caller: T::AccountId = whitelisted_caller();
		let (_, asset) = full_account::<T>(&caller);
		an_hour_later::<T>();

		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), asset, DEBT);

		let position = Positions::<T>::get(&caller).and_then(|p| p.borrow(&asset).copied());
		assert!(position.map(|p| p.scaled) >= Some(DEBT * 2 - 1));
	}

	#[benchmark]
	fn repay() {
		start::<T>();
		let caller: T::AccountId = whitelisted_caller();
		let (_, asset) = full_account::<T>(&caller);
		an_hour_later::<T>();

		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), asset, Amount::All);

		let position = Positions::<T>::get(&caller).and_then(|p| p.borrow(&asset).copied());
		assert_eq!(position, None);
	}

	#[benchmark]
	fn repay_on_behalf() {
		start::<T>();
		let caller: T::AccountId = whitelisted_caller();
		let borrower: T::AccountId = account("borrower", 0, 0);
		let (_, asset) = full_account::<T>(&borrower);
		an_hour_later::<T>();
		assert!(T::Assets::mint_into(asset, &caller, COLLATERAL).is_ok());
		let lookup = T::Lookup::unlookup(borrower.clone());

		#[extrinsic_call]
		_(RawOrigin::Signed(caller), lookup, asset, Amount::All);

		let position = Positions::<T>::get(&borrower).and_then(|p| p.borrow(&asset).copied());
		assert_eq!(position, None);
	}

	#[benchmark]
	fn enable_collateral() {
		start::<T>();
		let caller: T::AccountId = whitelisted_caller();
		let (asset, _) = full_account::<T>(&caller);
		an_hour_later::<T>();
		assert!(Pallet::<T>::do_set_collateral(&caller, asset, false).is_ok());

		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), asset);

		let position = Positions::<T>::get(&caller).and_then(|p| p.supply(&asset).copied());
		assert_eq!(position.map(|p| p.collateral), Some(true));
	}

	#[benchmark]
	fn disable_collateral() {
		start::<T>();
		let caller: T::AccountId = whitelisted_caller();
		let (asset, _) = full_account::<T>(&caller);
		an_hour_later::<T>();

		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), asset);

		let position = Positions::<T>::get(&caller).and_then(|p| p.supply(&asset).copied());
		assert_eq!(position.map(|p| p.collateral), Some(false));
	}

	#[benchmark]
	fn transfer_reserves() -> Result<(), BenchmarkError> {
		start::<T>();
		let origin =
			T::UpdateOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let caller: T::AccountId = whitelisted_caller();
		let (_, asset) = full_account::<T>(&caller);
		assert!(Pallet::<T>::do_add_reserves(&caller, asset, DEBT).is_ok());
		an_hour_later::<T>();
		let to: T::AccountId = account("treasury", 0, 0);
		let before = Markets::<T>::get(asset).map(|m| m.state.reserves).unwrap_or_default();

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, asset, DEBT, T::Lookup::unlookup(to));

		let after = Markets::<T>::get(asset).map(|m| m.state.reserves).unwrap_or_default();
		assert!(after < before);
		Ok(())
	}

	#[benchmark]
	fn add_reserves() {
		start::<T>();
		let caller: T::AccountId = whitelisted_caller();
		let (_, asset) = full_account::<T>(&caller);
		an_hour_later::<T>();

		#[extrinsic_call]
		_(RawOrigin::Signed(caller), asset, DEBT);

		let reserves = Markets::<T>::get(asset).map(|m| m.state.reserves).unwrap_or_default();
		assert!(reserves >= DEBT);
	}

	/// Seizing into a receiver that holds `MaxAssetsPerAccount` positions itself.
	#[benchmark]
	fn seize_collateral() {
		start::<T>();
		let borrower: T::AccountId = account("borrower", 0, 0);
		let receiver: T::AccountId = whitelisted_caller();
		let (asset, _) = full_account::<T>(&borrower);
		// The receiver holds the most positions but one, none in the seized market: the
		// seizure adds a position.
		let max = T::MaxAssetsPerAccount::get();
		for i in 1..max {
			let other = market::<T>(i);
			assert!(T::Assets::mint_into(other, &receiver, COLLATERAL).is_ok());
			assert!(Pallet::<T>::do_supply(&receiver, other, COLLATERAL).is_ok());
		}
		an_hour_later::<T>();

		#[block]
		{
			assert!(Pallet::<T>::do_seize(&borrower, asset, COLLATERAL / 2, &receiver).is_ok());
		}

		let received = Positions::<T>::get(&receiver).and_then(|p| p.supply(&asset).copied());
		assert!(received.is_some_and(|p| p.scaled > 0 && !p.collateral));
	}

	#[benchmark]
	fn repay_debt() {
		start::<T>();
		let borrower: T::AccountId = account("borrower", 0, 0);
		let payer: T::AccountId = whitelisted_caller();
		let (_, asset) = full_account::<T>(&borrower);
		an_hour_later::<T>();
		assert!(T::Assets::mint_into(asset, &payer, COLLATERAL).is_ok());

		#[block]
		{
			assert!(<Pallet<T> as LendingPositions<T::AccountId>>::repay_debt(
				&payer,
				&borrower,
				&asset,
				DEBT / 2
			)
			.is_ok());
		}

		let position = Positions::<T>::get(&borrower).and_then(|p| p.borrow(&asset).copied());
		assert!(position.map(|p| p.scaled) < Some(DEBT));
	}

	/// A whole debt written off, past the reserves into the suppliers.
	#[benchmark]
	fn write_off() {
		start::<T>();
		let borrower: T::AccountId = account("borrower", 0, 0);
		let (_, asset) = full_account::<T>(&borrower);
		an_hour_later::<T>();
		let debt = <Pallet<T> as LendingPositions<T::AccountId>>::debt(&borrower, &asset)
			.unwrap_or_default();

		#[block]
		{
			let w =
				<Pallet<T> as LendingPositions<T::AccountId>>::write_off(&borrower, &asset, debt);
			assert!(w.is_ok_and(|w| w.socialised > 0));
		}

		let position = Positions::<T>::get(&borrower).and_then(|p| p.borrow(&asset).copied());
		assert_eq!(position, None);
	}

	/// Health of an account with `n` collateral supplies and `n` debts in other markets.
	#[benchmark]
	fn account_health(n: Linear<1, { T::MaxAssetsPerAccount::get() }>) {
		start::<T>();
		let who: T::AccountId = whitelisted_caller();
		let _ = account_with::<T>(&who, n);
		an_hour_later::<T>();

		#[block]
		{
			let health = Pallet::<T>::account_health(&who);
			assert!(health.is_ok_and(|h| !h.is_liquidatable()));
		}
	}

	impl_benchmark_test_suite!(
		Pallet,
		crate::mock::ExtBuilder::default().without_markets().build(),
		crate::mock::Test
	);
}
