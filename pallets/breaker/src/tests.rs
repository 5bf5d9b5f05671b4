//! The estimate through the pallet: one sample per asset and block, the first price only
//! starting it, governance's bounds by name.

use crate::{mock::*, *};
use frame_support::{assert_noop, assert_ok, traits::Hooks};
use sp_arithmetic::traits::Zero;
use sp_arithmetic::Permill;
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

// ---------------------------------------------------------------------------------------------
// Breaker levels
// ---------------------------------------------------------------------------------------------

/// The mock's parameters with the volatility trigger out of the way (`min_samples` never met),
/// so the move and divergence triggers are seen alone.
fn without_volatility() -> BreakerParams {
	BreakerParams { min_samples: levels::MAX_MIN_SAMPLES, ..DefaultBreakerParams::get() }
}

/// Feeds `asset` at `price` in block `n` (6 s blocks) and ends the block.
fn feed_and_end(asset: AssetId, price: f64, n: u64) {
	MockOracle::feed(asset, fx(price), n * 6_000);
	end_block(n);
}

fn level_changes() -> Vec<(AssetId, Level, Level, Cause)> {
	events()
		.into_iter()
		.filter_map(|e| match e {
			Event::LevelChanged { asset, from, to, cause } => Some((asset, from, to, cause)),
			_ => None,
		})
		.collect()
}

#[test]
fn a_crash_halts_at_once_and_calm_brings_the_level_down_a_step_at_a_time() {
	new_test_ext().execute_with(|| {
		assert_ok!(Breaker::set_breaker_params(RuntimeOrigin::root(), without_volatility()));
		for n in 1..=3 {
			feed_and_end(1, 100.0, n);
		}
		assert_eq!(Breaker::effective_level(&1), Level::Normal);
		assert!(Levels::<Test>::get(1).is_none());
		System::reset_events();
		// -30% in one block: the window's range is 30% ≥ 25%.
		feed_and_end(1, 70.0, 4);
		assert_eq!(level_changes(), vec![(1, Level::Normal, Level::Halted, Cause::Move)]);
		assert_eq!(Raised::<Test>::get().into_inner(), vec![1]);
		assert_eq!(Breaker::sale_left(&1), 0);
		// The 100s stay in the 20-block window (buckets of 3 blocks from block 1) until block
		// 24; then 5 calm blocks per step. Blocks without data still count (raised assets are
		// evaluated every block).
		System::reset_events();
		for n in 5..=28 {
			end_block(n);
		}
		assert_eq!(Breaker::effective_level(&1), Level::Halted);
		assert_eq!(Levels::<Test>::get(1).unwrap().calm_since, Some(24));
		end_block(29);
		assert_eq!(level_changes(), vec![(1, Level::Halted, Level::Throttled, Cause::Calm)]);
		// Throttled: the cap, spent by sales and renewed each block.
		assert_eq!(Breaker::sale_left(&1), 10_000);
		Breaker::note_sale(&1, 4_000);
		assert_eq!(Breaker::sale_left(&1), 6_000);
		Breaker::note_sale(&1, 7_000);
		assert_eq!(Breaker::sale_left(&1), 0);
		System::reset_events();
		for n in 30..=34 {
			end_block(n);
			assert_eq!(Breaker::sale_left(&1), 10_000, "a new block, a new cap");
		}
		assert!(level_changes().is_empty());
		end_block(35);
		assert_eq!(level_changes(), vec![(1, Level::Throttled, Level::Normal, Cause::Calm)]);
		assert!(Levels::<Test>::get(1).is_none());
		assert!(Raised::<Test>::get().is_empty());
		assert_eq!(Breaker::sale_left(&1), u128::MAX);
		// Normal: sales are not counted.
		Breaker::note_sale(&1, 5);
		assert!(Sold::<Test>::get(1).is_none_or(|(block, _)| block != 36));
	});
}

#[test]
fn a_smaller_drop_throttles_and_a_price_hovering_near_the_trigger_does_not_flap() {
	new_test_ext().execute_with(|| {
		assert_ok!(Breaker::set_breaker_params(RuntimeOrigin::root(), without_volatility()));
		feed_and_end(1, 100.0, 1);
		System::reset_events();
		feed_and_end(1, 89.0, 2);
		assert_eq!(level_changes(), vec![(1, Level::Normal, Level::Throttled, Cause::Move)]);
		// Prices within 9% of the window's high for 60 blocks: in the hysteresis band
		// (release at 8%), the level holds and no event is emitted.
		System::reset_events();
		for n in 3..=60 {
			feed_and_end(1, if n % 2 == 0 { 91.0 } else { 99.5 }, n);
			assert_eq!(Breaker::effective_level(&1), Level::Throttled);
		}
		assert!(level_changes().is_empty());
	});
}

#[test]
fn the_oracle_leaving_the_dex_spot_throttles_then_halts() {
	new_test_ext().execute_with(|| {
		assert_ok!(Breaker::set_breaker_params(RuntimeOrigin::root(), without_volatility()));
		MockDex::set(1, fx(100.0));
		feed_and_end(1, 100.0, 1);
		assert_eq!(Breaker::breaker(1).divergence, Some(Permill::zero()));
		System::reset_events();
		// The pool is pushed 6% below the oracle (no new oracle data: the asset is not
		// evaluated until it is fed or raised).
		MockDex::set(1, fx(94.0));
		feed_and_end(1, 100.0, 2);
		assert_eq!(level_changes(), vec![(1, Level::Normal, Level::Throttled, Cause::Divergence)]);
		MockDex::set(1, fx(84.0));
		end_block(3);
		assert_eq!(Breaker::effective_level(&1), Level::Halted);
		let view = Breaker::breaker(1);
		assert_eq!(view.divergence, Some(Permill::from_percent(16)));
		assert_eq!((view.level, view.sale_left, view.moved), (Level::Halted, 0, Permill::zero()));
		// An asset without a pool has no divergence input.
		feed_and_end(2, 5.0, 4);
		assert_eq!(Breaker::breaker(2).divergence, None);
	});
}

#[test]
fn measured_volatility_raises_the_level_once_it_has_enough_samples() {
	new_test_ext().execute_with(|| {
		// Move and divergence triggers out of reach; volatility counted from 3 returns.
		let mut params = DefaultBreakerParams::get();
		params.throttle.moved = Permill::one();
		params.halt.moved = Permill::one();
		params.throttle.divergence = Permill::one();
		params.halt.divergence = Permill::one();
		assert_ok!(Breaker::set_breaker_params(RuntimeOrigin::root(), params));
		// ±2% a block: one return annualises to ~1.5 (150%); the estimate climbs as returns
		// add up. Three returns needed before it counts.
		let mut p = 100.0;
		feed_and_end(1, p, 1);
		let mut n = 2;
		while Breaker::effective_level(&1) == Level::Normal {
			p *= if n % 2 == 0 { 0.98 } else { 1.0 / 0.98 };
			feed_and_end(1, p, n);
			n += 1;
			assert!(n < 200, "never raised");
		}
		let state = Volatility::<Test>::get(1).unwrap();
		assert!(state.samples >= 3);
		// Its reference: the estimate recomputed in f64 from the same prices.
		let (mut v, mut q, tau) = (0.0f64, 100.0f64, vol::tau(3_600) as f64);
		for k in 2..n {
			let next = q * if k % 2 == 0 { 0.98 } else { 1.0 / 0.98 };
			let r = (next / q).ln();
			v = (v * tau + r * r) / (tau + 6.0);
			q = next;
		}
		let annualised = (v * vol::SECONDS_PER_YEAR as f64).sqrt();
		let measured = f(Breaker::breaker(1).volatility.unwrap());
		assert!((measured - annualised).abs() < annualised * 1e-6, "{measured} vs {annualised}");
		assert!(measured >= 1.5);
		let first = level_changes().into_iter().next().unwrap();
		assert_eq!(first, (1, Level::Normal, Level::Throttled, Cause::Volatility));
	});
}

#[test]
fn governance_forces_and_resets_levels_and_sets_the_emergency() {
	new_test_ext().execute_with(|| {
		assert_noop!(
			Breaker::force_level(RuntimeOrigin::signed(1), 1, Level::Halted),
			DispatchError::BadOrigin
		);
		assert_noop!(Breaker::reset_level(RuntimeOrigin::signed(1), 1), DispatchError::BadOrigin);
		assert_noop!(
			Breaker::set_emergency(RuntimeOrigin::signed(1), true),
			DispatchError::BadOrigin
		);
		assert_noop!(Breaker::reset_level(RuntimeOrigin::root(), 1), Error::<Test>::NothingToReset);
		assert_noop!(
			Breaker::set_emergency(RuntimeOrigin::root(), false),
			Error::<Test>::EmergencyUnchanged
		);

		// Forced Throttled: a crash does not move it.
		assert_ok!(Breaker::force_level(RuntimeOrigin::root(), 1, Level::Throttled));
		assert_eq!(level_changes(), vec![(1, Level::Normal, Level::Throttled, Cause::Forced)]);
		assert_noop!(
			Breaker::force_level(RuntimeOrigin::root(), 1, Level::Throttled),
			Error::<Test>::LevelUnchanged
		);
		feed_and_end(1, 100.0, 1);
		feed_and_end(1, 50.0, 2);
		assert_eq!(Breaker::effective_level(&1), Level::Throttled);
		assert!(Levels::<Test>::get(1).unwrap().forced);
		assert!(Raised::<Test>::get().is_empty(), "a forced asset is not evaluated");
		// Reset: automatic at Normal, and the next block's inputs raise it (the 50% drop is
		// still in the window; two returns are too few for the volatility to count).
		System::reset_events();
		assert_ok!(Breaker::reset_level(RuntimeOrigin::root(), 1));
		assert_eq!(Breaker::effective_level(&1), Level::Normal);
		feed_and_end(1, 50.0, 3);
		assert_eq!(
			level_changes(),
			vec![
				(1, Level::Throttled, Level::Normal, Cause::Reset),
				(1, Level::Normal, Level::Halted, Cause::Move)
			]
		);
		// A forced Normal holds an asset down whatever its inputs.
		assert_ok!(Breaker::force_level(RuntimeOrigin::root(), 1, Level::Normal));
		feed_and_end(1, 20.0, 4);
		assert_eq!(Breaker::effective_level(&1), Level::Normal);

		// The emergency: every asset halted, nothing sold; lifted, each back to its own level.
		assert_ok!(Breaker::set_emergency(RuntimeOrigin::root(), true));
		assert_eq!(events().last(), Some(&Event::EmergencySet { on: true }));
		for asset in [1, 2, 99] {
			assert_eq!(Breaker::effective_level(&asset), Level::Halted);
			assert_eq!(Breaker::sale_left(&asset), 0);
		}
		assert_ok!(Breaker::set_emergency(RuntimeOrigin::root(), false));
		assert_eq!(Breaker::effective_level(&1), Level::Normal);
		assert_eq!(Breaker::sale_left(&2), u128::MAX);
	});
}

#[test]
fn breaker_parameters_are_bounded_by_name_and_only_for_the_admin() {
	new_test_ext().execute_with(|| {
		let ok = DefaultBreakerParams::get();
		assert_noop!(
			Breaker::set_breaker_params(RuntimeOrigin::signed(1), ok),
			DispatchError::BadOrigin
		);
		type Case = (fn(&mut BreakerParams), Error<Test>);
		let cases: Vec<Case> = vec![
			(|p| p.throttle.volatility = FixedU128::from_rational(1, 20), Error::TriggerTooLow),
			(|p| p.halt.divergence = Permill::from_parts(4_999), Error::TriggerTooLow),
			(|p| p.halt.moved = Permill::from_percent(9), Error::HaltBelowThrottle),
			(|p| p.release = Permill::from_percent(49), Error::ReleaseOutOfRange),
			(|p| p.release = Permill::one(), Error::ReleaseOutOfRange),
			(|p| p.calm_blocks = 0, Error::CalmOutOfRange),
			(|p| p.calm_blocks = levels::MAX_CALM_BLOCKS + 1, Error::CalmOutOfRange),
			(|p| p.window_blocks = 601, Error::WindowOutOfRange),
			(|p| p.min_samples = 1_001, Error::MinSamplesOutOfRange),
			(|p| p.sale_cap = 0, Error::ZeroSaleCap),
		];
		for (change, error) in cases {
			let mut bad = ok;
			change(&mut bad);
			assert_noop!(Breaker::set_breaker_params(RuntimeOrigin::root(), bad), error);
		}
		let mut new = ok;
		new.sale_cap = 77;
		assert_ok!(Breaker::set_breaker_params(RuntimeOrigin::root(), new));
		assert_eq!(LevelParams::<Test>::get(), new);
		assert_eq!(events(), vec![Event::BreakerParamsSet { params: new }]);
	});
}

// ---------------------------------------------------------------------------------------------
// The oracle guard and the feed quorum
// ---------------------------------------------------------------------------------------------

#[test]
fn the_guard_holds_a_jump_until_a_later_block_confirms_or_drops_it() {
	new_test_ext().execute_with(|| {
		feed_and_end(1, 100.0, 1);
		feed_and_end(1, 99.0, 2);
		assert_eq!(Breaker::held_price(&1), None);
		// −30% in a block (jump bound 10%): held, with the last accepted price.
		System::reset_events();
		feed_and_end(1, 69.3, 3);
		assert!(events().contains(&Event::PriceHeld {
			asset: 1,
			price: fx(69.3),
			accepted: fx(99.0)
		}));
		assert_eq!(Breaker::breaker(1).held_price, Some(fx(69.3)));
		// Still held in the blocks after, until a later price (the next feed) decides.
		end_block(4);
		assert_eq!(Breaker::held_price(&1), Some(fx(69.3)));
		System::reset_events();
		feed_and_end(1, 70.0, 5);
		assert!(events().contains(&Event::PriceConfirmed { asset: 1, price: fx(70.0) }));
		assert_eq!(Breaker::held_price(&1), None);
		assert_eq!(Guard::<Test>::get(1).unwrap().accepted, fx(70.0));
		// A wick: held, then the next price is back near the accepted one: dropped.
		feed_and_end(1, 50.0, 6);
		assert_eq!(Breaker::held_price(&1), Some(fx(50.0)));
		System::reset_events();
		feed_and_end(1, 69.0, 7);
		assert!(events().contains(&Event::PriceDropped {
			asset: 1,
			dropped: fx(50.0),
			price: fx(69.0)
		}));
		assert_eq!(Breaker::held_price(&1), None);
	});
}

/// The feed quorum is a strict majority of the feeders and at most all of them, set by root
/// only (#26: the risk track could halve it and hand every price to one feeder; a quorum above
/// the member count stopped every price); a change of the feeder set moves the quorum in force
/// into that range without a call.
#[test]
fn the_feed_quorum_is_a_majority_of_the_feeders_set_by_root_only() {
	new_test_ext().execute_with(|| {
		System::set_block_number(100);
		Feeders::set(3);
		// One is not a majority of three: the quorum in force is two.
		assert_eq!(Breaker::feed_quorum(), 2);
		assert_noop!(
			Breaker::set_feed_quorum(RuntimeOrigin::signed(1), 2),
			DispatchError::BadOrigin
		);
		assert_noop!(
			Breaker::set_feed_quorum(RuntimeOrigin::signed(STEWARD), 3),
			Error::<Test>::RootOnly
		);
		// Zero, one of three (a minority), four of three (no price ever), six (> MaxFeeders).
		for bad in [0, 1, 4, 6] {
			assert_noop!(
				Breaker::set_feed_quorum(RuntimeOrigin::root(), bad),
				Error::<Test>::QuorumOutOfRange
			);
		}
		assert_ok!(Breaker::set_feed_quorum(RuntimeOrigin::root(), 3));
		assert_eq!(Breaker::feed_quorum(), 3);
		assert_eq!(events(), vec![Event::FeedQuorumSet { quorum: 3 }]);
		// Two feeders removed: all (one) of them, not three that no longer exist.
		Feeders::set(1);
		assert_eq!(Breaker::feed_quorum(), 1);
		// Five added: three is still a majority of five; of six it is not (four).
		Feeders::set(5);
		assert_eq!(Breaker::feed_quorum(), 3);
		Feeders::set(6);
		assert_eq!(Breaker::feed_quorum(), 4);
		// No feeder: one (nothing to combine, and the quorum stays valid).
		Feeders::set(0);
		assert_eq!(Breaker::feed_quorum(), 1);
		assert_ok!(Breaker::set_feed_quorum(RuntimeOrigin::root(), 1));
	});
}

/// Guard rails: a bounded change (the risk track, [`STEWARD`] here) of each record moves each
/// value within its step and waits the record's interval; root only within the absolute
/// bounds; the guardian halts an asset and only governance lifts it.
#[test]
fn risk_track_changes_stay_on_the_rails() {
	new_test_ext().execute_with(|| {
		System::set_block_number(100);
		let steward = || RuntimeOrigin::signed(STEWARD);
		let p = DefaultBreakerParams::get();
		// volatility triggers by 10% of themselves, shares by 5 points, counts and amounts ×2.
		let refused = [
			BreakerParams { throttle: Triggers { volatility: fx(1.66), ..p.throttle }, ..p },
			BreakerParams { halt: Triggers { moved: Permill::from_parts(300_001), ..p.halt }, ..p },
			BreakerParams { release: Permill::from_parts(749_999), ..p },
			BreakerParams { calm_blocks: 11, ..p },
			BreakerParams { window_blocks: 9, ..p },
			BreakerParams { sale_cap: 20_001, ..p },
			BreakerParams { jump: Permill::from_parts(150_001), ..p },
		];
		for params in refused {
			assert_noop!(
				Breaker::set_breaker_params(steward(), params),
				Error::<Test>::StepTooLarge
			);
		}
		let stepped = BreakerParams {
			throttle: Triggers { volatility: fx(1.65), ..p.throttle },
			calm_blocks: 10,
			sale_cap: 20_000,
			jump: Permill::from_percent(15),
			..p
		};
		assert_ok!(Breaker::set_breaker_params(steward(), stepped));
		assert_eq!(LevelParams::<Test>::get(), stepped);
		assert_eq!(LastParamsChange::<Test>::get(ParamRecord::Breaker), Some(100));
		System::set_block_number(109);
		assert_noop!(Breaker::set_breaker_params(steward(), p), Error::<Test>::ChangeTooSoon);
		// Root: absolute bounds only.
		let far = BreakerParams { sale_cap: 1, jump: Permill::from_percent(50), ..p };
		assert_ok!(Breaker::set_breaker_params(RuntimeOrigin::root(), far));
		assert_noop!(
			Breaker::set_breaker_params(RuntimeOrigin::root(), BreakerParams { sale_cap: 0, ..p }),
			Error::<Test>::ZeroSaleCap
		);

		// The volatility parameters are a record of their own.
		assert_noop!(
			Breaker::set_params(steward(), VolatilityParams { half_life_secs: 7_201 }),
			Error::<Test>::StepTooLarge
		);
		assert_ok!(Breaker::set_params(steward(), VolatilityParams { half_life_secs: 7_200 }));
		// The feed quorum is root's alone (not a risk parameter), within the feeders (three).
		assert_noop!(Breaker::set_feed_quorum(steward(), 2), Error::<Test>::RootOnly);
		assert_ok!(Breaker::set_feed_quorum(RuntimeOrigin::root(), 3));

		// The guardian halts at once; it cannot lift the halt nor change anything else.
		MockOracle::feed(1, fx(1.0), 600_000);
		MockOracle::feed(2, fx(2.0), 600_000);
		assert_noop!(Breaker::halt(RuntimeOrigin::signed(1), 1), DispatchError::BadOrigin);
		assert_ok!(Breaker::halt(RuntimeOrigin::signed(GUARDIAN), 1));
		assert_eq!(Breaker::effective_level(&1), Level::Halted);
		System::assert_last_event(
			Event::<Test>::LevelChanged {
				asset: 1,
				from: Level::Normal,
				to: Level::Halted,
				cause: Cause::Forced,
			}
			.into(),
		);
		assert_noop!(
			Breaker::halt(RuntimeOrigin::signed(GUARDIAN), 1),
			Error::<Test>::LevelUnchanged
		);
		assert_noop!(
			Breaker::reset_level(RuntimeOrigin::signed(GUARDIAN), 1),
			DispatchError::BadOrigin
		);
		assert_noop!(
			Breaker::set_breaker_params(RuntimeOrigin::signed(GUARDIAN), p),
			DispatchError::BadOrigin
		);
		// The brakes are not bounded: the risk track lifts it at once (back to automatic
		// control); turning an asset's automatic breaker off (forced `Normal`) is root's.
		assert_ok!(Breaker::reset_level(steward(), 1));
		assert_eq!(Breaker::effective_level(&1), Level::Normal);
		assert_noop!(Breaker::force_level(steward(), 1, Level::Normal), Error::<Test>::RootOnly);
		assert_ok!(Breaker::force_level(steward(), 1, Level::Throttled));
		assert_ok!(Breaker::force_level(RuntimeOrigin::root(), 1, Level::Normal));
		assert_noop!(
			Breaker::halt(RuntimeOrigin::signed(GUARDIAN), 77),
			Error::<Test>::UnknownAsset
		);
		assert_ok!(Breaker::halt(steward(), 2));
	})
}
