//! Benchmarks (frame-benchmarking v2), each at its worst case.

use super::*;
use frame_benchmarking::v2::*;
use frame_support::traits::{EnsureOrigin, Get, Hooks};

#[benchmarks]
mod benchmarks {
	use super::*;

	/// `on_finalize` sampling `n` assets, each with an estimate already (a return computed and
	/// the variance updated).
	#[benchmark]
	fn on_finalize(n: Linear<0, { T::MaxAssets::get() }>) -> Result<(), BenchmarkError> {
		// From an empty set (a genesis may have noted its seeded prices).
		Touched::<T>::kill();
		let assets: alloc::vec::Vec<_> = (0..n).map(T::BenchmarkHelper::asset).collect();
		for asset in &assets {
			T::BenchmarkHelper::set_price(*asset, FixedU128::from_u32(100), 1_000_000);
		}
		Pallet::<T>::sample_touched();
		for asset in &assets {
			T::BenchmarkHelper::set_price(*asset, FixedU128::from_u32(97), 1_006_000);
		}
		assert_eq!(Touched::<T>::get().len(), n as usize);

		#[block]
		{
			Pallet::<T>::on_finalize(1u32.into());
		}

		for asset in &assets {
			assert_eq!(Volatility::<T>::get(asset).map(|s| s.samples), Some(1));
		}
		Ok(())
	}

	#[benchmark]
	fn set_params() -> Result<(), BenchmarkError> {
		let origin =
			T::AdminOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let params = VolatilityParams { half_life_secs: 600 };

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, params);

		assert_eq!(Params::<T>::get(), params);
		Ok(())
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
