//! Genesis-only seeding of DEX pools and first oracle prices.
//!
//! Neither `pallet-asset-conversion` nor `orml-oracle` has a genesis config, yet a chain whose
//! liquidations sell through the DEX needs pools with depth from block 0, and users need to see
//! reference prices. This pallet's genesis build:
//! - creates each listed pool and adds its liquidity through the DEX's own dispatchables, signed
//!   by the liquidity provider, so the DEX's checks and accounting apply exactly as for a user;
//! - feeds each listed price as the oracle's root operator (orml `DataFeeder`). These prices
//!   carry the genesis timestamp (0), so a consumer that bounds price age (the lending pallet's
//!   `MaxPriceAge`) refuses them until a feeder feeds a fresh one; they are references, not
//!   live prices, and the oracle drops them from its median once they expire.
//!
//! It has no calls and no storage.

pub use pallet::*;

#[frame_support::pallet]
pub mod pallet {
	use alloc::{boxed::Box, vec::Vec};
	use frame_support::pallet_prelude::*;
	use frame_system::RawOrigin;

	use frame_support::traits::tokens::fungible::NativeOrWithId;

	type BalanceOf<T> = <T as pallet_asset_conversion::Config>::Balance;
	/// `(provider, asset1, asset2, amount1, amount2)`.
	type PoolSeed<T> = (
		<T as frame_system::Config>::AccountId,
		Option<u32>,
		Option<u32>,
		BalanceOf<T>,
		BalanceOf<T>,
	);

	/// The DEX's configuration, over the native token and `u32` asset ids, and the oracle's.
	#[pallet::config]
	pub trait Config:
		frame_system::Config
		+ pallet_asset_conversion::Config<AssetKind = NativeOrWithId<u32>>
		+ orml_oracle::Config<OracleKey = u32, OracleValue = sp_arithmetic::FixedU128>
	{
	}

	/// `None` is the native token, `Some(id)` the asset `id` (`NativeOrWithId` has no serde).
	fn kind(asset: &Option<u32>) -> NativeOrWithId<u32> {
		match asset {
			None => NativeOrWithId::Native,
			Some(id) => NativeOrWithId::WithId(*id),
		}
	}

	/// The pallet: no storage, no calls.
	#[pallet::pallet]
	pub struct Pallet<T>(_);

	/// Pools to create at genesis and the liquidity each starts with.
	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// `(provider, asset1, asset2, amount1, amount2)`, an asset being `None` for the native
		/// token: `provider` creates the pool and deposits both amounts, receiving the LP tokens.
		pub pools: Vec<PoolSeed<T>>,
		/// `(asset, price)` fed as the oracle's root operator.
		pub prices: Vec<(u32, sp_arithmetic::FixedU128)>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			for (provider, asset1, asset2, amount1, amount2) in &self.pools {
				let origin: T::RuntimeOrigin = RawOrigin::Signed(provider.clone()).into();
				let (asset1, asset2) = (kind(asset1), kind(asset2));
				pallet_asset_conversion::Pallet::<T>::create_pool(
					origin.clone(),
					Box::new(asset1.clone()),
					Box::new(asset2.clone()),
				)
				.expect("genesis pool must be creatable");
				pallet_asset_conversion::Pallet::<T>::add_liquidity(
					origin,
					Box::new(asset1.clone()),
					Box::new(asset2.clone()),
					*amount1,
					*amount2,
					*amount1,
					*amount2,
					provider.clone(),
				)
				.expect("genesis liquidity must be addable");
			}
			for (asset, price) in &self.prices {
				<orml_oracle::Pallet<T> as orml_traits::DataFeeder<_, _, _>>::feed_value(
					None, *asset, *price,
				)
				.expect("the root operator may always feed");
			}
		}
	}
}
