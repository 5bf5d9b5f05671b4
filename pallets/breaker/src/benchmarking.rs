//! Benchmarks (frame-benchmarking v2), each at its worst case.

use super::*;
use frame_benchmarking::v2::*;
use frame_support::traits::{EnsureOrigin, Get, Hooks};
use levels::{Level, WINDOW_BUCKETS};
use sp_arithmetic::Permill;

/// Triggers any benchmark move reaches (the lowest the bounds allow).
fn hair_trigger<T: Config>() -> BreakerParams {
	let mut params = T::DefaultBreakerParams::get();
	let low = Triggers {
		volatility: levels::MIN_VOLATILITY_TRIGGER,
		moved: levels::MIN_PERMILL_TRIGGER,
		divergence: levels::MIN_PERMILL_TRIGGER,
	};
	params.throttle = low;
	params.halt =
		HaltTrigger { divergence: Permill::from_percent(1), blocks: levels::HALT_BLOCKS_RANGE.0 };
	params.min_samples = 0;
	// The guard acts when a price is fed (`combine`), not here: let every move through.
	params.jump = Permill::one();
	params.window_blocks = levels::WINDOW_RANGE.1;
	params
}

/// `Raised` full of other assets, but for `keep`.
fn fill_raised<T: Config>(keep: Option<T::AssetId>) {
	let assets = (0..T::MaxAssets::get())
		.map(|i| T::BenchmarkHelper::asset(i.saturating_add(500)))
		.take(T::MaxAssets::get().saturating_sub(u32::from(keep.is_some())) as usize)
		.chain(keep);
	for asset in assets.clone() {
		Levels::<T>::insert(
			asset,
			LevelState { level: Level::Throttled, since: 1, ..Default::default() },
		);
	}
	Pallet::<T>::put_raised(assets.collect());
}

#[benchmarks]
mod benchmarks {
	use super::*;

	/// `on_finalize` sampling and evaluating `n` assets, each with an estimate already (a
	/// return computed and the variance updated), a full price window, a DEX pool to compare
	/// with, and its level raised (written, an event).
	#[benchmark]
	fn on_finalize(n: Linear<0, { T::MaxAssets::get() }>) -> Result<(), BenchmarkError> {
		// From an empty set (a genesis may have noted its seeded prices).
		Touched::<T>::kill();
		Raised::<T>::kill();
		LevelParams::<T>::put(hair_trigger::<T>());
		let assets: alloc::vec::Vec<_> = (0..n).map(T::BenchmarkHelper::asset).collect();
		let bucket = levels::WINDOW_RANGE.1 / WINDOW_BUCKETS;
		for asset in &assets {
			T::BenchmarkHelper::set_spot(*asset, FixedU128::from_u32(100));
			T::BenchmarkHelper::set_price(*asset, FixedU128::from_u32(100), 1_000_000);
		}
		Pallet::<T>::sample_touched();
		// Full windows: a price in each bucket.
		for asset in &assets {
			Windows::<T>::mutate(asset, |w| {
				for b in 0..WINDOW_BUCKETS {
					levels::observe(
						w,
						b.saturating_mul(bucket),
						FixedU128::from_u32(100),
						levels::WINDOW_RANGE.1,
					);
				}
			});
		}
		frame_system::Pallet::<T>::set_block_number(WINDOW_BUCKETS.saturating_mul(bucket).into());
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
			assert_eq!(Pallet::<T>::effective_level(asset), Level::Throttled);
		}
		assert_eq!(Raised::<T>::get().len(), n as usize);
		Ok(())
	}

	/// The oracle combining `n` fresh feeds of an asset (at least the quorum) through the
	/// guard at its worst: agreeing feeds, a jump beyond the bound (the DEX spot read to
	/// corroborate it, which it does not), held (the quote written, an event).
	#[benchmark]
	fn combine(n: Linear<1, { T::MaxFeeders::get() }>) -> Result<(), BenchmarkError> {
		let mut params = T::DefaultBreakerParams::get();
		params.jump = levels::MIN_PERMILL_TRIGGER;
		LevelParams::<T>::put(params);
		let asset = T::BenchmarkHelper::asset(0);
		T::BenchmarkHelper::set_spot(asset, FixedU128::from_u32(100));
		let at = 1_000_000u64;
		Quotes::<T>::insert(
			asset,
			Quote {
				low: FixedU128::from_u32(100),
				high: FixedU128::from_u32(100),
				at,
				held: None,
				disputed: None,
				fall: None,
				agreed: 0,
			},
		);
		let now = at.saturating_add(6_000);
		let count = n.max(Pallet::<T>::feed_quorum());
		let feeds: alloc::vec::Vec<_> =
			(0..count).map(|_| (FixedU128::from_u32(80), now)).collect();
		let result;

		#[block]
		{
			result = Pallet::<T>::combine(&asset, feeds, now, 600_000);
		}

		assert!(result.is_some());
		assert!(Pallet::<T>::held_price(&asset).is_some());
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

	#[benchmark]
	fn set_breaker_params() -> Result<(), BenchmarkError> {
		let origin =
			T::AdminOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let params = hair_trigger::<T>();

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, params);

		assert_eq!(LevelParams::<T>::get(), params);
		Ok(())
	}

	/// Forcing a raised asset (taken out of a full `Raised`).
	#[benchmark]
	fn force_level() -> Result<(), BenchmarkError> {
		let origin =
			T::AdminOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let asset = T::BenchmarkHelper::asset(0);
		fill_raised::<T>(Some(asset));

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, asset, Level::Halted);

		assert_eq!(Pallet::<T>::effective_level(&asset), Level::Halted);
		assert!(!Raised::<T>::get().contains(&asset));
		Ok(())
	}

	/// A guardian's halt at its worst: `Raised` already full of automatic levels, so the halt
	/// overflows it and every raised asset's level is read to keep the guardians' halts.
	#[benchmark]
	fn halt() -> Result<(), BenchmarkError> {
		let origin =
			T::GuardianOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let asset = T::BenchmarkHelper::asset(0);
		T::BenchmarkHelper::set_price(asset, FixedU128::from_u32(100), 1_000_000);
		fill_raised::<T>(None);

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, asset);

		let state = Levels::<T>::get(asset).ok_or(BenchmarkError::Stop("not halted"))?;
		assert_eq!((state.level, state.forced), (Level::Halted, true));
		assert!(state.until.is_some());
		assert!(Raised::<T>::get().contains(&asset));
		Ok(())
	}

	/// Resetting a raised asset (taken out of a full `Raised`).
	#[benchmark]
	fn reset_level() -> Result<(), BenchmarkError> {
		let origin =
			T::AdminOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let asset = T::BenchmarkHelper::asset(0);
		fill_raised::<T>(Some(asset));

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, asset);

		assert_eq!(Levels::<T>::get(asset), None);
		assert!(!Raised::<T>::get().contains(&asset));
		Ok(())
	}

	#[benchmark]
	fn set_emergency() -> Result<(), BenchmarkError> {
		let origin =
			T::AdminOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, true);

		assert!(Emergency::<T>::get());
		Ok(())
	}

	#[benchmark]
	fn set_feed_quorum() -> Result<(), BenchmarkError> {
		let origin =
			T::AdminOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let feeders = T::FeederCount::get();
		let quorum = feeders.max(1).min(T::MaxFeeders::get());
		assert!(Pallet::<T>::valid_quorum(quorum, feeders), "no valid quorum of {feeders}");

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, quorum);

		assert_eq!(FeedQuorum::<T>::get(), quorum);
		Ok(())
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
