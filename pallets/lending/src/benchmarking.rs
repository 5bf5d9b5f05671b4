//! Benchmarks (frame-benchmarking v2). Worst case for every call that checks health: the
//! caller supplies to `MaxAssetsPerAccount` markets, all collateral, and borrows from as many,
//! so a health computation reads every market, state and price an account can touch.

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

fn params() -> MarketParams {
	MarketParams {
		collateral_factor: Permill::from_percent(80),
		liquidation_threshold: Permill::from_percent(85),
		liquidation_bonus: Permill::from_percent(5),
		close_factor: Permill::from_percent(50),
		reserve_factor: Permill::from_percent(10),
		supply_cap: u128::MAX,
		borrow_cap: u128::MAX,
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

/// A market for the `i`-th benchmark asset, with a fresh price of 1 and `LIQUIDITY` supplied
/// by a lender.
fn market<T: Config>(i: u32) -> T::AssetId {
	let asset = T::BenchmarkHelper::asset(i);
	T::BenchmarkHelper::create_asset(asset);
	T::BenchmarkHelper::set_price(asset, FixedU128::from_u32(1));
	assert!(Pallet::<T>::do_create_market(asset, params()).is_ok());
	let lender: T::AccountId = account("lender", 0, 0);
	assert!(T::Assets::mint_into(asset, &lender, LIQUIDITY).is_ok());
	assert!(Pallet::<T>::do_supply(&lender, asset, LIQUIDITY).is_ok());
	asset
}

/// `who` supplies collateral to and borrows from `MaxAssetsPerAccount` markets.
fn full_account<T: Config>(who: &T::AccountId) -> Vec<T::AssetId> {
	let assets: Vec<T::AssetId> =
		(0..T::MaxAssetsPerAccount::get()).map(|i| market::<T>(i)).collect();
	for asset in &assets {
		assert!(T::Assets::mint_into(*asset, who, COLLATERAL * 2).is_ok());
		assert!(Pallet::<T>::do_supply(who, *asset, COLLATERAL).is_ok());
	}
	for asset in &assets {
		assert!(Pallet::<T>::do_borrow(who, *asset, DEBT).is_ok());
	}
	assets
}

fn first<T: Config>(assets: &[T::AssetId]) -> Result<T::AssetId, BenchmarkError> {
	assets.first().copied().ok_or(BenchmarkError::Stop("MaxAssetsPerAccount is zero"))
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn create_market() -> Result<(), BenchmarkError> {
		let origin =
			T::UpdateOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let asset = T::BenchmarkHelper::asset(0);
		T::BenchmarkHelper::create_asset(asset);

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, asset, params());

		assert_eq!(Markets::<T>::get(asset), Some(params()));
		Ok(())
	}

	#[benchmark]
	fn update_market() -> Result<(), BenchmarkError> {
		let origin =
			T::UpdateOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let caller: T::AccountId = whitelisted_caller();
		let asset = first::<T>(&full_account::<T>(&caller))?;
		let new = MarketParams { reserve_factor: Permill::from_percent(20), ..params() };

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, asset, new);

		assert_eq!(Markets::<T>::get(asset), Some(new));
		Ok(())
	}

	#[benchmark]
	fn supply() -> Result<(), BenchmarkError> {
		let caller: T::AccountId = whitelisted_caller();
		let asset = first::<T>(&full_account::<T>(&caller))?;

		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), asset, COLLATERAL);

		let position = Positions::<T>::get(&caller).and_then(|p| p.supply(&asset).copied());
		assert_eq!(position.map(|p| p.scaled), Some(COLLATERAL * 2));
		Ok(())
	}

	#[benchmark]
	fn withdraw() -> Result<(), BenchmarkError> {
		let caller: T::AccountId = whitelisted_caller();
		let asset = first::<T>(&full_account::<T>(&caller))?;

		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), asset, Amount::Exact(COLLATERAL / 2));

		let position = Positions::<T>::get(&caller).and_then(|p| p.supply(&asset).copied());
		assert_eq!(position.map(|p| p.scaled), Some(COLLATERAL / 2));
		Ok(())
	}

	#[benchmark]
	fn borrow() -> Result<(), BenchmarkError> {
		let caller: T::AccountId = whitelisted_caller();
		let asset = first::<T>(&full_account::<T>(&caller))?;

		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), asset, DEBT);

		let position = Positions::<T>::get(&caller).and_then(|p| p.borrow(&asset).copied());
		assert_eq!(position.map(|p| p.scaled), Some(DEBT * 2));
		Ok(())
	}

	#[benchmark]
	fn repay() -> Result<(), BenchmarkError> {
		let caller: T::AccountId = whitelisted_caller();
		let asset = first::<T>(&full_account::<T>(&caller))?;

		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), asset, Amount::All);

		let position = Positions::<T>::get(&caller).and_then(|p| p.borrow(&asset).copied());
		assert_eq!(position, None);
		Ok(())
	}

	#[benchmark]
	fn repay_on_behalf() -> Result<(), BenchmarkError> {
		let caller: T::AccountId = whitelisted_caller();
		let borrower: T::AccountId = account("borrower", 0, 0);
		let asset = first::<T>(&full_account::<T>(&borrower))?;
		assert!(T::Assets::mint_into(asset, &caller, COLLATERAL).is_ok());
		let lookup = T::Lookup::unlookup(borrower.clone());

		#[extrinsic_call]
		_(RawOrigin::Signed(caller), lookup, asset, Amount::All);

		let position = Positions::<T>::get(&borrower).and_then(|p| p.borrow(&asset).copied());
		assert_eq!(position, None);
		Ok(())
	}

	#[benchmark]
	fn enable_collateral() -> Result<(), BenchmarkError> {
		let caller: T::AccountId = whitelisted_caller();
		let asset = first::<T>(&full_account::<T>(&caller))?;
		assert!(Pallet::<T>::do_set_collateral(&caller, asset, false).is_ok());

		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), asset);

		let position = Positions::<T>::get(&caller).and_then(|p| p.supply(&asset).copied());
		assert_eq!(position.map(|p| p.collateral), Some(true));
		Ok(())
	}

	#[benchmark]
	fn disable_collateral() -> Result<(), BenchmarkError> {
		let caller: T::AccountId = whitelisted_caller();
		let asset = first::<T>(&full_account::<T>(&caller))?;

		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), asset);

		let position = Positions::<T>::get(&caller).and_then(|p| p.supply(&asset).copied());
		assert_eq!(position.map(|p| p.collateral), Some(false));
		Ok(())
	}

	impl_benchmark_test_suite!(
		Pallet,
		crate::mock::ExtBuilder::default().without_markets().build(),
		crate::mock::Test
	);
}
