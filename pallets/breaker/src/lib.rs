//! # Breaker pallet: cascade control
//!
//! Measures, on chain, how volatile each oracle asset is: the circuit breaker's input (and
//! the liquidation pallet's seizure order, most volatile collateral first).
//!
//! - **Measured volatility** ([`vol`]): on each block in which the oracle accepted new data for
//!   an asset, the asset's combined price at the end of the block is one sample; an
//!   exponentially weighted moving variance of log returns per second, decayed by the time
//!   elapsed (half-life [`VolatilityParams::half_life_secs`]), is kept in a few words per asset
//!   ([`Volatility`]), no price history. Reported annualised ([`Pallet::volatility`]).
//! - The oracle tells the pallet which assets got data ([`Pallet::note_new_data`], wired by
//!   the runtime to orml-oracle's `OnNewData`); the pallet reads the combined price through
//!   [`LatestPrice`] at `on_finalize`, once per asset and block (several feeders' feeds of one
//!   block are one sample).
//!
//! Breaker levels, the oracle guard and the Dutch auction come next (issue #15).

#![cfg_attr(not(feature = "std"), no_std)]
#![deny(missing_docs)]
#![cfg_attr(
	not(test),
	deny(clippy::arithmetic_side_effects, clippy::unwrap_used, clippy::indexing_slicing)
)]

extern crate alloc;

pub mod vol;
pub mod weights;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;

pub use pallet::*;
pub use weights::WeightInfo;

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use sp_arithmetic::FixedU128;

/// The latest combined oracle price of an asset and when it was set (ms): what the pallet
/// samples.
pub trait LatestPrice<AssetId> {
	/// `(price, timestamp in ms)`, or `None` when the oracle has none.
	fn latest(asset: &AssetId) -> Option<(FixedU128, u64)>;
}

/// Sets up prices for the benchmarks.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper<AssetId> {
	/// The `i`-th benchmark asset.
	fn asset(i: u32) -> AssetId;
	/// Makes `price` the asset's latest price at `at` (ms).
	fn set_price(asset: AssetId, price: FixedU128, at: u64);
}

/// What the pallet keeps per asset.
#[derive(
	Clone,
	Copy,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	PartialEq,
	Eq,
	Debug,
)]
pub struct VolState {
	/// The last price sampled.
	pub price: FixedU128,
	/// When it was set (ms).
	pub at: u64,
	/// The moving variance of log returns, per second.
	pub variance: FixedU128,
	/// Returns sampled so far.
	pub samples: u32,
}

/// An asset's measured volatility, as the view reports it.
#[derive(Clone, Copy, Encode, Decode, TypeInfo, PartialEq, Eq, Debug)]
pub struct AssetVolatility {
	/// Annualised volatility (0.8 = 80% a year).
	pub annualised: FixedU128,
	/// Returns sampled so far (an estimate of few samples is weak).
	pub samples: u32,
	/// The last price sampled.
	pub price: FixedU128,
	/// When it was set (ms).
	pub at: u64,
}

/// Governance parameters of the volatility estimate.
#[derive(
	Clone,
	Copy,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	PartialEq,
	Eq,
	Debug,
)]
pub struct VolatilityParams {
	/// Half-life of a sample's weight, in seconds. Bounds: `[MIN_HALF_LIFE, MAX_HALF_LIFE]`.
	pub half_life_secs: u32,
}

/// Shortest half-life governance may set: one minute (ten blocks).
pub const MIN_HALF_LIFE: u32 = 60;
/// Longest half-life governance may set: 90 days.
pub const MAX_HALF_LIFE: u32 = 90 * 24 * 3_600;

// The call macro's conversions trip clippy.
#[allow(clippy::useless_conversion)]
#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_support::pallet_prelude::*;
	use frame_system::pallet_prelude::*;

	/// The in-code storage version.
	const STORAGE_VERSION: StorageVersion = StorageVersion::new(0);

	/// The breaker pallet.
	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	/// Configuration: the oracle is a trait; the runtime wires it.
	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// Identifier of an oracle asset.
		type AssetId: Parameter + Member + Copy + Ord + MaxEncodedLen;

		/// The oracle's combined prices.
		type Prices: LatestPrice<Self::AssetId>;

		/// May change the parameters.
		type AdminOrigin: EnsureOrigin<Self::RuntimeOrigin>;

		/// Parameters before governance first sets them.
		type DefaultParams: Get<VolatilityParams>;

		/// Most assets that get new data in one block (the oracle's `MaxFeedValues`): bounds
		/// `on_finalize`.
		#[pallet::constant]
		type MaxAssets: Get<u32>;

		/// Weights of the calls and hooks, from the benchmarks.
		type WeightInfo: WeightInfo;

		/// Prices for the benchmarks.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: BenchmarkHelper<Self::AssetId>;
	}

	/// The parameters before governance set them.
	#[pallet::type_value]
	pub fn DefaultParamsOf<T: Config>() -> VolatilityParams {
		T::DefaultParams::get()
	}

	/// The volatility estimate's parameters.
	#[pallet::storage]
	pub type Params<T: Config> = StorageValue<_, VolatilityParams, ValueQuery, DefaultParamsOf<T>>;

	/// Each sampled asset's last price and moving variance.
	#[pallet::storage]
	pub type Volatility<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AssetId, VolState, OptionQuery>;

	/// Assets that got new oracle data in this block, sampled at `on_finalize` (emptied
	/// there).
	#[pallet::storage]
	pub type Touched<T: Config> = StorageValue<_, BoundedVec<T::AssetId, T::MaxAssets>, ValueQuery>;

	/// Events: every sample, every parameter change.
	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// An asset's volatility was updated from a new price.
		VolatilityUpdated {
			/// The asset.
			asset: T::AssetId,
			/// The price sampled.
			price: FixedU128,
			/// The annualised volatility now.
			annualised: FixedU128,
			/// Returns sampled so far.
			samples: u32,
		},
		/// Governance changed the parameters.
		ParamsSet {
			/// The new parameters.
			params: VolatilityParams,
		},
	}

	/// Every refusal by name; a refused call changes nothing.
	#[pallet::error]
	pub enum Error<T> {
		/// `half_life_secs` outside `[MIN_HALF_LIFE, MAX_HALF_LIFE]`.
		HalfLifeOutOfRange,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			assert!(
				Self::validate(&T::DefaultParams::get()).is_ok(),
				"DefaultParams must be valid"
			);
		}

		/// Reserves `on_finalize` at its worst: every asset sampled.
		fn on_initialize(_n: BlockNumberFor<T>) -> Weight {
			T::WeightInfo::on_finalize(T::MaxAssets::get())
		}

		/// Samples every asset that got new data in this block.
		fn on_finalize(_n: BlockNumberFor<T>) {
			Self::sample_touched();
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Replaces the volatility parameters, each checked against its bound. Origin:
		/// `AdminOrigin`.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::set_params())]
		pub fn set_params(origin: OriginFor<T>, params: VolatilityParams) -> DispatchResult {
			T::AdminOrigin::ensure_origin(origin)?;
			Self::do_set_params(params)
		}
	}

	#[pallet::view_functions]
	impl<T: Config> Pallet<T> {
		/// `asset`'s measured volatility, if it was sampled.
		pub fn volatility(asset: T::AssetId) -> Option<AssetVolatility> {
			Self::asset_volatility(&asset)
		}
	}
}

use frame_support::{ensure, pallet_prelude::DispatchResult};
use sp_arithmetic::traits::Zero;

impl<T: Config> Pallet<T> {
	/// The oracle accepted new data for `asset` in this block: it is sampled at the end of the
	/// block (an asset beyond `MaxAssets` in one block waits for its next data).
	pub fn note_new_data(asset: &T::AssetId) {
		Touched::<T>::mutate(|touched| {
			if !touched.contains(asset) && touched.try_push(*asset).is_err() {
				log::debug!(target: "runtime::breaker", "more assets than MaxAssets this block");
			}
		});
	}

	/// Samples every asset noted in this block.
	pub(crate) fn sample_touched() {
		for asset in Touched::<T>::take() {
			Self::sample(asset);
		}
	}

	/// Folds `asset`'s latest price into its estimate: the first price only starts it; a
	/// price with the timestamp of the last one (no time elapsed) is not a return.
	fn sample(asset: T::AssetId) {
		let Some((price, at)) = T::Prices::latest(&asset) else { return };
		let tau = vol::tau(Params::<T>::get().half_life_secs);
		let state = match Volatility::<T>::get(asset) {
			None => VolState { price, at, variance: FixedU128::default(), samples: 0 },
			Some(old) => {
				let dt = at.saturating_sub(old.at) / 1_000;
				if dt == 0 {
					return;
				}
				match vol::update(old.variance, old.price, price, dt, tau) {
					Some(variance) => {
						VolState { price, at, variance, samples: old.samples.saturating_add(1) }
					},
					None => {
						// A zero price (or an absurd move): not a sample; restart from it.
						log::debug!(target: "runtime::breaker", "no sample for {asset:?}");
						VolState { price, at, ..old }
					},
				}
			},
		};
		Volatility::<T>::insert(asset, state);
		Self::deposit_event(Event::VolatilityUpdated {
			asset,
			price,
			annualised: vol::annualised(state.variance).unwrap_or_default(),
			samples: state.samples,
		});
	}

	/// Every sampled asset's measured volatility (one entry per oracle asset ever fed).
	pub fn all_volatilities() -> alloc::vec::Vec<(T::AssetId, AssetVolatility)> {
		Volatility::<T>::iter_keys()
			.filter_map(|asset| Self::asset_volatility(&asset).map(|v| (asset, v)))
			.collect()
	}

	/// `asset`'s measured volatility, if it was sampled.
	pub fn asset_volatility(asset: &T::AssetId) -> Option<AssetVolatility> {
		Volatility::<T>::get(asset).map(|s| AssetVolatility {
			annualised: vol::annualised(s.variance).unwrap_or_default(),
			samples: s.samples,
			price: s.price,
			at: s.at,
		})
	}

	fn validate(params: &VolatilityParams) -> Result<(), Error<T>> {
		ensure!(
			(MIN_HALF_LIFE..=MAX_HALF_LIFE).contains(&params.half_life_secs),
			Error::<T>::HalfLifeOutOfRange
		);
		Ok(())
	}

	pub(crate) fn do_set_params(params: VolatilityParams) -> DispatchResult {
		Self::validate(&params)?;
		Params::<T>::put(params);
		Self::deposit_event(Event::ParamsSet { params });
		Ok(())
	}

	/// Invariants: the parameters are valid; every estimate has a price. (`Touched` may hold
	/// assets between blocks only at genesis, whose seeded prices block 1 samples.)
	#[cfg(any(test, feature = "std", feature = "try-runtime"))]
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		ensure!(Self::validate(&Params::<T>::get()).is_ok(), "volatility parameters out of bounds");
		ensure!(
			Volatility::<T>::iter_values().all(|s| s.samples == 0 || !s.price.is_zero()),
			"an estimate without a price"
		);
		Ok(())
	}
}
