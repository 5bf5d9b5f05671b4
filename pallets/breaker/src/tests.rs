//! The estimate through the pallet: one sample per asset and block, the first price only
//! starting it, governance's bounds by name.

use crate::{mock::*, *};
use frame_support::{assert_noop, assert_ok, traits::Hooks};
use sp_arithmetic::traits::Zero;
use sp_runtime::DispatchError;

fn fx(x: f64) -> FixedU128 {
	FixedU128::from_inner((x * 1e18) as u128)
}

fn f(x: FixedU128) -> f64 {
	x.into_inner() as f64 / 1e18
}

/// Ends block `n` (the pallet samples) and starts the next.
fn end_block(n: u64) {
	Breaker::on_finalize(n);
	Breaker::do_try_state().expect("invariants hold between blocks");
	assert!(Touched::<Test>::get().is_empty(), "every noted asset sampled");
	System::set_block_number(n + 1);
}

#[test]
fn several_feeds_in_a_block_are_one_sample_and_the_first_only_starts_the_estimate() {
	new_test_ext().execute_with(|| {
		let t0 = 1_700_000_000_000u64;
		// Block 1: three feeders; the oracle's combined price is the last one set.
		MockOracle::feed(1, fx(100.0), t0);
		MockOracle::feed(1, fx(101.0), t0);
		MockOracle::feed(1, fx(100.5), t0);
		assert_eq!(Touched::<Test>::get().into_inner(), vec![1]);
		end_block(1);
		assert_eq!(
			Volatility::<Test>::get(1),
			Some(VolState { price: fx(100.5), at: t0, variance: FixedU128::zero(), samples: 0 })
		);
		// Block 2, 6 s later: one return, ln(99/100.5).
		MockOracle::feed(1, fx(99.0), t0 + 6_000);
		end_block(2);
		let state = Volatility::<Test>::get(1).unwrap();
		assert_eq!((state.price, state.at, state.samples), (fx(99.0), t0 + 6_000, 1));
		let r = (99.0f64 / 100.5).ln();
		let tau = vol::tau(3_600) as f64;
		let want = r * r / (tau + 6.0);
		assert!((f(state.variance) - want).abs() < want * 1e-9, "{} vs {want}", f(state.variance));
		let view = Breaker::volatility(1).unwrap();
		assert_eq!(view.samples, 1);
		assert!((f(view.annualised) - (want * vol::SECONDS_PER_YEAR as f64).sqrt()).abs() < 1e-6);
		assert!(events().contains(&Event::VolatilityUpdated {
			asset: 1,
			price: fx(99.0),
			annualised: view.annualised,
			samples: 1
		}));
		// A block without data for the asset samples nothing.
		System::reset_events();
		end_block(3);
		assert!(events().is_empty());
		assert_eq!(Volatility::<Test>::get(1), Some(state));
	});
}

#[test]
fn a_price_with_no_time_elapsed_is_not_a_return() {
	new_test_ext().execute_with(|| {
		MockOracle::feed(1, fx(100.0), 1_000_000);
		end_block(1);
		// Same timestamp in the next block (a feeder re-sending): nothing changes.
		MockOracle::feed(1, fx(120.0), 1_000_000);
		end_block(2);
		assert_eq!(Volatility::<Test>::get(1).unwrap().samples, 0);
		assert_eq!(Volatility::<Test>::get(1).unwrap().price, fx(100.0));
	});
}

#[test]
fn each_asset_is_sampled_on_its_own_and_beyond_max_assets_waits() {
	new_test_ext().execute_with(|| {
		for asset in 1..=4 {
			MockOracle::feed(asset, fx(10.0), 0);
		}
		// MaxAssets = 3: the fourth is not noted this block.
		assert_eq!(Touched::<Test>::get().len(), MAX_ASSETS as usize);
		end_block(1);
		assert!(Volatility::<Test>::get(4).is_none());
		MockOracle::feed(1, fx(11.0), 6_000);
		MockOracle::feed(4, fx(10.0), 6_000);
		end_block(2);
		assert_eq!(Volatility::<Test>::get(1).unwrap().samples, 1);
		assert!(Volatility::<Test>::get(1).unwrap().variance > FixedU128::zero());
		assert_eq!(Volatility::<Test>::get(2).unwrap().samples, 0);
		assert_eq!(Volatility::<Test>::get(4).unwrap().samples, 0);
	});
}

#[test]
fn a_calm_asset_reads_calmer_than_a_volatile_one() {
	new_test_ext().execute_with(|| {
		// Asset 1 moves ±0.1% a block, asset 2 ±2%: after a day of blocks their annualised
		// volatilities are those moves × √(blocks a year), within 1%.
		let (mut p1, mut p2) = (100.0f64, 100.0f64);
		for block in 0..14_400u64 {
			let up = block % 2 == 0;
			p1 *= if up { 1.001 } else { 1.0 / 1.001 };
			p2 *= if up { 1.02 } else { 1.0 / 1.02 };
			MockOracle::feed(1, fx(p1), block * 6_000);
			MockOracle::feed(2, fx(p2), block * 6_000);
			end_block(block + 1);
		}
		let per_year = (vol::SECONDS_PER_YEAR as f64 / 6.0).sqrt();
		let calm = f(Breaker::volatility(1).unwrap().annualised);
		let wild = f(Breaker::volatility(2).unwrap().annualised);
		assert!((calm - 1.001f64.ln() * per_year).abs() < calm * 0.01, "{calm}");
		assert!((wild - 1.02f64.ln() * per_year).abs() < wild * 0.01, "{wild}");
	});
}

#[test]
fn parameters_are_bounded_by_name_and_only_for_the_admin() {
	new_test_ext().execute_with(|| {
		let ok = VolatilityParams { half_life_secs: 600 };
		assert_noop!(Breaker::set_params(RuntimeOrigin::signed(1), ok), DispatchError::BadOrigin);
		for bad in [0, MIN_HALF_LIFE - 1, MAX_HALF_LIFE + 1] {
			assert_noop!(
				Breaker::set_params(
					RuntimeOrigin::root(),
					VolatilityParams { half_life_secs: bad }
				),
				Error::<Test>::HalfLifeOutOfRange
			);
		}
		assert_ok!(Breaker::set_params(RuntimeOrigin::root(), ok));
		assert_eq!(Params::<Test>::get(), ok);
		assert_eq!(events(), vec![Event::ParamsSet { params: ok }]);
	});
}
