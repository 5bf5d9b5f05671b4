//! Tests of the lending pallet, one module per call, plus interest, rounding and a property
//! test over random sequences of calls.

use crate::{math::MILLIS_PER_YEAR, mock::*, Error, Event, *};
use frame_support::{assert_noop, assert_ok};
use sp_arithmetic::{
	traits::{One, Saturating, Zero},
	FixedPointNumber, FixedU128, Permill,
};
use sp_runtime::{DispatchError, DispatchResult, TokenError};

fn signed(who: AccountId) -> RuntimeOrigin {
	RuntimeOrigin::signed(who)
}

fn state(asset: AssetId) -> MarketState {
	Markets::<Test>::get(asset).unwrap().state
}

fn params_of(asset: AssetId) -> Option<MarketParams> {
	Markets::<Test>::get(asset).map(|m| m.params)
}

fn supply_of(who: AccountId, asset: AssetId) -> Option<SupplyPosition<AssetId>> {
	Positions::<Test>::get(who).and_then(|p| p.supply(&asset).copied())
}

fn debt_of(who: AccountId, asset: AssetId) -> Option<BorrowPosition<AssetId>> {
	Positions::<Test>::get(who).and_then(|p| p.borrow(&asset).copied())
}

/// BOB supplies 10,000 USD of liquidity; ALICE supplies 100 BTC (worth 10,000) as collateral.
fn alice_has_collateral() {
	assert_ok!(Lending::supply(signed(BOB), USD, 10_000));
	assert_ok!(Lending::supply(signed(ALICE), BTC, 100));
}

/// [`alice_has_collateral`], then ALICE borrows 5,000 USD.
fn alice_borrows() {
	alice_has_collateral();
	assert_ok!(Lending::borrow(signed(ALICE), USD, 5_000));
	System::reset_events();
}

mod create_market {
	use super::*;

	#[test]
	fn works() {
		ExtBuilder::default().without_markets().build_and_execute(|| {
			assert_ok!(Lending::create_market(RuntimeOrigin::root(), USD, usd_params()));
			assert_eq!(params_of(USD), Some(usd_params()));
			assert_eq!(state(USD), MarketState::new(T0));
			assert_eq!(
				lending_events(),
				vec![Event::MarketCreated { asset: USD, params: usd_params() }]
			);
		})
	}

	#[test]
	fn wrong_origin_is_refused() {
		ExtBuilder::default().without_markets().build_and_execute(|| {
			assert_noop!(
				Lending::create_market(signed(ALICE), USD, usd_params()),
				DispatchError::BadOrigin
			);
		})
	}

	#[test]
	fn existing_market_or_unknown_asset_is_refused() {
		ExtBuilder::default().build_and_execute(|| {
			assert_noop!(
				Lending::create_market(RuntimeOrigin::root(), USD, usd_params()),
				Error::<Test>::MarketAlreadyExists
			);
			assert_noop!(
				Lending::create_market(RuntimeOrigin::root(), 77, usd_params()),
				Error::<Test>::AssetNotFound
			);
		})
	}

	#[test]
	fn invalid_parameters_are_refused_by_name() {
		ExtBuilder::default().without_markets().build_and_execute(|| {
			let cases: Vec<(MarketParams, Error<Test>)> = vec![
				(
					MarketParams {
						liquidation_threshold: Permill::from_percent(80),
						..usd_params()
					},
					Error::<Test>::ThresholdNotAboveFactor,
				),
				(
					MarketParams {
						liquidation_threshold: Permill::from_percent(70),
						..usd_params()
					},
					Error::<Test>::ThresholdNotAboveFactor,
				),
				(
					MarketParams { collateral_factor: Permill::zero(), ..usd_params() },
					Error::<Test>::InvalidCollateralFactor,
				),
				(
					MarketParams {
						collateral_enabled: false,
						collateral_factor: Permill::from_percent(90),
						..usd_params()
					},
					Error::<Test>::InvalidCollateralFactor,
				),
				(
					// 90% × 1.12 = 1.008: seizing would take more than the collateral.
					MarketParams {
						liquidation_threshold: Permill::from_percent(90),
						liquidation_bonus: Permill::from_percent(12),
						..usd_params()
					},
					Error::<Test>::LiquidationBonusTooHigh,
				),
				(
					MarketParams { close_factor: Permill::zero(), ..usd_params() },
					Error::<Test>::InvalidCloseFactor,
				),
				(
					MarketParams { reserve_factor: Permill::one(), ..usd_params() },
					Error::<Test>::InvalidReserveFactor,
				),
				(
					MarketParams {
						rate_model: RateModel { kink: fx(150, 100), ..usd_params().rate_model },
						..usd_params()
					},
					Error::<Test>::InvalidKink,
				),
				(
					MarketParams {
						rate_model: RateModel {
							kink: FixedU128::zero(),
							..usd_params().rate_model
						},
						..usd_params()
					},
					Error::<Test>::InvalidKink,
				),
				(
					// 0.04 + 20 at full utilisation > MaxBorrowRate (10).
					MarketParams {
						rate_model: RateModel {
							slope2: FixedU128::from_u32(20),
							..usd_params().rate_model
						},
						..usd_params()
					},
					Error::<Test>::BorrowRateTooHigh,
				),
			];
			for (params, error) in cases {
				assert_noop!(Lending::create_market(RuntimeOrigin::root(), USD, params), error);
			}
			// 85% × 1.17 = 0.9945 < 1 is fine.
			assert_ok!(Lending::create_market(
				RuntimeOrigin::root(),
				USD,
				MarketParams { liquidation_bonus: Permill::from_percent(17), ..usd_params() }
			));
		})
	}
}

mod update_market {
	use super::*;

	#[test]
	fn accrues_under_the_old_parameters_then_replaces_them() {
		ExtBuilder::default().build_and_execute(|| {
			alice_borrows();
			advance(MILLIS_PER_YEAR as u64, true);
			let new = MarketParams { reserve_factor: Permill::from_percent(50), ..usd_params() };
			assert_ok!(Lending::update_market(RuntimeOrigin::root(), USD, new));
			assert_eq!(params_of(USD), Some(new));
			// 5,000 of 10,000 borrowed: 50% utilisation, rate 4% × 50/80 = 2.5%: 125 interest,
			// 10% (the old reserve factor) of it to reserves.
			let events = lending_events();
			assert_eq!(events.len(), 2);
			assert!(matches!(
				events[0],
				Event::InterestAccrued { asset: USD, interest: 125, to_reserves: 12, .. }
			));
			assert_eq!(events[1], Event::MarketUpdated { asset: USD, params: new });
			assert_eq!(state(USD).reserves, 1 + 12);
		})
	}

	#[test]
	fn refusals() {
		ExtBuilder::default().build_and_execute(|| {
			assert_noop!(
				Lending::update_market(signed(ALICE), USD, usd_params()),
				DispatchError::BadOrigin
			);
			assert_noop!(
				Lending::update_market(RuntimeOrigin::root(), NO_MARKET, usd_params()),
				Error::<Test>::MarketNotFound
			);
			assert_noop!(
				Lending::update_market(
					RuntimeOrigin::root(),
					USD,
					MarketParams { close_factor: Permill::zero(), ..usd_params() }
				),
				Error::<Test>::InvalidCloseFactor
			);
		})
	}

	#[test]
	fn a_paused_market_takes_no_new_business_but_lets_accounts_leave() {
		ExtBuilder::default().build_and_execute(|| {
			alice_borrows();
			assert_ok!(Lending::pause_market(RuntimeOrigin::root(), USD));
			assert_noop!(Lending::supply(signed(CHARLIE), USD, 10), Error::<Test>::MarketPaused);
			assert_noop!(Lending::borrow(signed(ALICE), USD, 10), Error::<Test>::MarketPaused);
			assert_ok!(Lending::repay(signed(ALICE), USD, Amount::Exact(1_000)));
			assert_ok!(Lending::withdraw(signed(BOB), USD, Amount::Exact(1_000)));
			assert_ok!(Lending::resume_market(RuntimeOrigin::root(), USD));
			System::assert_last_event(Event::<Test>::MarketResumed { asset: USD }.into());
			assert_ok!(Lending::supply(signed(CHARLIE), USD, 10));
		})
	}
}

/// Guard rails: a bounded change (the risk track, [`STEWARD`] here) moves each value by at most
/// its step and waits the interval; root is bounded by validation only; the guardian pauses.
mod rails {
	use super::*;

	fn steward() -> RuntimeOrigin {
		signed(STEWARD)
	}

	/// BTC's market with finite caps and a minimum borrow value (set by root), at block 100.
	fn bounded_btc() -> MarketParams {
		System::set_block_number(100);
		let p = MarketParams {
			supply_cap: 1_000_000,
			borrow_cap: 500_000,
			min_borrow_value: 100,
			..btc_params()
		};
		assert_ok!(Lending::update_market(RuntimeOrigin::root(), BTC, p));
		System::set_block_number(100 + 10);
		p
	}

	#[test]
	fn each_value_moves_by_at_most_its_step() {
		ExtBuilder::default().build_and_execute(|| {
			let p = bounded_btc();
			let pm = Permill::from_parts;
			let refused: [(MarketParams, Error<Test>); 14] = [
				// 70% → 75.0001%: one part per million beyond the 5 points.
				(
					MarketParams {
						collateral_factor: pm(750_001),
						liquidation_threshold: pm(800_000),
						..p
					},
					Error::<Test>::CollateralFactorStepTooLarge,
				),
				(
					MarketParams { collateral_factor: pm(649_999), ..p },
					Error::<Test>::CollateralFactorStepTooLarge,
				),
				(
					MarketParams { liquidation_threshold: pm(800_001), ..p },
					Error::<Test>::LiquidationThresholdStepTooLarge,
				),
				(
					MarketParams { liquidation_bonus: pm(120_001), ..p },
					Error::<Test>::LiquidationBonusStepTooLarge,
				),
				(
					MarketParams { close_factor: pm(600_001), ..p },
					Error::<Test>::CloseFactorStepTooLarge,
				),
				(
					MarketParams { reserve_factor: pm(99_999), ..p },
					Error::<Test>::ReserveFactorStepTooLarge,
				),
				(
					MarketParams {
						rate_model: RateModel {
							base: fx(11, 100) + FixedU128::from_inner(1),
							..p.rate_model
						},
						..p
					},
					Error::<Test>::RateModelStepTooLarge,
				),
				(
					MarketParams {
						rate_model: RateModel {
							slope1: fx(17, 100) + FixedU128::from_inner(1),
							..p.rate_model
						},
						..p
					},
					Error::<Test>::RateModelStepTooLarge,
				),
				(
					MarketParams {
						rate_model: RateModel { slope2: fx(289, 100), ..p.rate_model },
						..p
					},
					Error::<Test>::RateModelStepTooLarge,
				),
				(
					MarketParams {
						rate_model: RateModel { kink: fx(76, 100), ..p.rate_model },
						..p
					},
					Error::<Test>::RateModelStepTooLarge,
				),
				(MarketParams { supply_cap: 2_000_001, ..p }, Error::<Test>::CapStepTooLarge),
				(MarketParams { borrow_cap: 249_999, ..p }, Error::<Test>::CapStepTooLarge),
				(
					MarketParams { min_borrow_value: 201, ..p },
					Error::<Test>::MinBorrowValueStepTooLarge,
				),
				(
					MarketParams { min_borrow_value: 0, ..p },
					Error::<Test>::MinBorrowValueStepTooLarge,
				),
			];
			for (params, error) in refused {
				assert_noop!(Lending::update_market(steward(), BTC, params), error);
			}
			// Every value at its step at once is accepted.
			let stepped = MarketParams {
				collateral_factor: pm(750_000),
				liquidation_threshold: pm(800_000),
				liquidation_bonus: pm(120_000),
				close_factor: pm(600_000),
				reserve_factor: pm(100_000),
				supply_cap: 2_000_000,
				borrow_cap: 250_000,
				min_borrow_value: 200,
				rate_model: RateModel {
					base: fx(11, 100),
					slope1: fx(17, 100),
					kink: fx(75, 100),
					slope2: fx(290, 100),
				},
				..p
			};
			assert_ok!(Lending::update_market(steward(), BTC, stepped));
			assert_eq!(params_of(BTC), Some(stepped));
			assert_eq!(LastRiskChange::<Test>::get(BTC), Some(110));
			System::assert_last_event(
				Event::<Test>::MarketUpdated { asset: BTC, params: stepped }.into(),
			);
		})
	}

	#[test]
	fn a_larger_move_takes_several_referenda_spaced_by_the_interval() {
		ExtBuilder::default().build_and_execute(|| {
			let p = bounded_btc();
			let cf = |c| MarketParams { collateral_factor: Permill::from_percent(c), ..p };
			assert_noop!(
				Lending::update_market(steward(), BTC, cf(60)),
				Error::<Test>::CollateralFactorStepTooLarge
			);
			assert_ok!(Lending::update_market(steward(), BTC, cf(65)));
			System::set_block_number(110 + 9);
			assert_noop!(
				Lending::update_market(steward(), BTC, cf(60)),
				Error::<Test>::ChangeTooSoon
			);
			System::set_block_number(110 + 10);
			assert_ok!(Lending::update_market(steward(), BTC, cf(60)));
			assert_eq!(
				params_of(BTC).map(|m| m.collateral_factor),
				Some(Permill::from_percent(60))
			);
		})
	}

	#[test]
	fn root_is_bounded_by_validation_only_and_restarts_the_interval() {
		ExtBuilder::default().build_and_execute(|| {
			let p = bounded_btc();
			// Root moves 70% → 40% at once, right after its own change.
			let far = MarketParams { collateral_factor: Permill::from_percent(40), ..p };
			assert_ok!(Lending::update_market(RuntimeOrigin::root(), BTC, far));
			assert_eq!(LastRiskChange::<Test>::get(BTC), Some(110));
			// The risk track then waits the interval from root's change.
			let next = MarketParams { collateral_factor: Permill::from_percent(45), ..p };
			assert_noop!(
				Lending::update_market(steward(), BTC, next),
				Error::<Test>::ChangeTooSoon
			);
			// Absolute bounds hold for both.
			System::set_block_number(200);
			let bad = MarketParams { liquidation_threshold: Permill::from_percent(40), ..far };
			assert_noop!(
				Lending::update_market(steward(), BTC, bad),
				Error::<Test>::ThresholdNotAboveFactor
			);
			assert_noop!(
				Lending::update_market(RuntimeOrigin::root(), BTC, bad),
				Error::<Test>::ThresholdNotAboveFactor
			);
		})
	}

	#[test]
	fn the_status_is_not_update_markets_and_a_stale_proposal_does_not_unpause() {
		ExtBuilder::default().build_and_execute(|| {
			let p = bounded_btc();
			// A proposal drafted while the market was active, enacted after a pause.
			let stale = MarketParams { reserve_factor: Permill::from_percent(25), ..p };
			assert_ok!(Lending::pause_market(signed(GUARDIAN), BTC));
			assert_noop!(
				Lending::update_market(steward(), BTC, stale),
				Error::<Test>::StatusChanged
			);
			assert_noop!(
				Lending::update_market(RuntimeOrigin::root(), BTC, stale),
				Error::<Test>::StatusChanged
			);
			// A risk change made while paused keeps it paused; resuming is not a risk change.
			let paused = MarketParams { status: MarketStatus::Paused, ..stale };
			assert_ok!(Lending::update_market(steward(), BTC, paused));
			System::set_block_number(111);
			assert_ok!(Lending::resume_market(steward(), BTC));
			assert_noop!(Lending::resume_market(steward(), BTC), Error::<Test>::StatusUnchanged);
			assert_eq!(params_of(BTC), Some(stale));
			assert_eq!(LastRiskChange::<Test>::get(BTC), Some(110));
		})
	}

	#[test]
	fn the_risk_track_may_turn_borrowing_off_not_on_nor_open_markets_or_move_reserves() {
		ExtBuilder::default().build_and_execute(|| {
			let p = bounded_btc();
			let off = MarketParams { borrow_enabled: false, ..p };
			assert_ok!(Lending::update_market(steward(), BTC, off));
			System::set_block_number(200);
			assert_noop!(Lending::update_market(steward(), BTC, p), Error::<Test>::RootOnly);
			assert_ok!(Lending::update_market(RuntimeOrigin::root(), BTC, p));
			assert_noop!(
				Lending::create_market(steward(), NO_MARKET, usd_params()),
				Error::<Test>::RootOnly
			);
			assert_noop!(
				Lending::transfer_reserves(steward(), USD, 1, ALICE),
				Error::<Test>::RootOnly
			);
		})
	}

	#[test]
	fn the_guardian_pauses_at_once_and_only_governance_unpauses() {
		ExtBuilder::default().build_and_execute(|| {
			alice_borrows();
			assert_noop!(Lending::pause_market(signed(ALICE), USD), DispatchError::BadOrigin);
			assert_noop!(
				Lending::pause_market(signed(GUARDIAN), NO_MARKET),
				Error::<Test>::MarketNotFound
			);
			assert_ok!(Lending::pause_market(signed(GUARDIAN), USD));
			System::assert_last_event(Event::<Test>::MarketPaused { asset: USD }.into());
			assert_eq!(params_of(USD).map(|m| m.status), Some(MarketStatus::Paused));
			assert_noop!(
				Lending::pause_market(signed(GUARDIAN), USD),
				Error::<Test>::StatusUnchanged
			);
			assert_noop!(Lending::supply(signed(CHARLIE), USD, 10), Error::<Test>::MarketPaused);
			// Leaving stays open.
			assert_ok!(Lending::repay(signed(ALICE), USD, Amount::Exact(1_000)));
			// The guardian cannot resume (nor change anything else).
			assert_noop!(Lending::resume_market(signed(GUARDIAN), USD), DispatchError::BadOrigin);
			assert_noop!(
				Lending::update_market(signed(GUARDIAN), USD, usd_params()),
				DispatchError::BadOrigin
			);
			// Governance can, on either track; and may pause too.
			assert_ok!(Lending::resume_market(steward(), USD));
			assert_ok!(Lending::supply(signed(CHARLIE), USD, 10));
			assert_ok!(Lending::pause_market(RuntimeOrigin::root(), USD));
			assert_ok!(Lending::pause_market(steward(), BTC));
		})
	}
}

mod supply {
	use super::*;

	#[test]
	fn works() {
		ExtBuilder::default().build_and_execute(|| {
			assert_ok!(Lending::supply(signed(ALICE), USD, 1_000));
			assert_eq!(balance(USD, ALICE), START - 1_000);
			// Beside the reserve floor (1) GOV paid.
			assert_eq!(balance(USD, pallet_account()), 1_000 + 1);
			assert_eq!(
				supply_of(ALICE, USD),
				Some(SupplyPosition { asset: USD, scaled: 1_000, collateral: true })
			);
			assert_eq!(state(USD).total_scaled_supply, 1_000);
			assert_ok!(Lending::supply(signed(ALICE), USD, 500));
			assert_eq!(supply_of(ALICE, USD).unwrap().scaled, 1_500);
			assert_eq!(state(USD).total_scaled_supply, 1_500);
			assert_eq!(
				lending_events(),
				vec![
					Event::Supplied { who: ALICE, asset: USD, amount: 1_000, shares: 1_000 },
					Event::Supplied { who: ALICE, asset: USD, amount: 500, shares: 500 },
				]
			);
		})
	}

	#[test]
	fn after_interest_mints_fewer_shares_rounded_down() {
		ExtBuilder::default().build_and_execute(|| {
			alice_borrows();
			advance(MILLIS_PER_YEAR as u64, true);
			assert_ok!(Lending::supply(signed(CHARLIE), USD, 1_000));
			// Suppliers earned 125 - 12 = 113 on 10,000: index 1.0113; 1000 / 1.0113 = 988.8.
			assert_eq!(state(USD).supply_index, FixedU128::one() + fx(113, 10_000));
			assert_eq!(supply_of(CHARLIE, USD).unwrap().scaled, 988);
			// One unit is worth less than a share now: no shares, refused.
			assert_noop!(Lending::supply(signed(CHARLIE), USD, 1), Error::<Test>::ZeroAmount);
		})
	}

	#[test]
	fn refusals() {
		ExtBuilder::default().build_and_execute(|| {
			assert_noop!(Lending::supply(signed(ALICE), USD, 0), Error::<Test>::ZeroAmount);
			assert_noop!(
				Lending::supply(signed(ALICE), NO_MARKET, 10),
				Error::<Test>::MarketNotFound
			);
			assert_noop!(
				Lending::supply(signed(ALICE), USD, START + 1),
				TokenError::FundsUnavailable
			);
			assert_ok!(Lending::supply(signed(BOB), USD, 1));
			assert_noop!(Lending::supply(signed(ALICE), USD, u128::MAX), Error::<Test>::Overflow);
			assert_ok!(Lending::update_market(
				RuntimeOrigin::root(),
				USD,
				MarketParams { supply_cap: 1_000, ..usd_params() }
			));
			assert_ok!(Lending::supply(signed(ALICE), USD, 999));
			assert_noop!(Lending::supply(signed(ALICE), USD, 1), Error::<Test>::SupplyCapExceeded);
		})
	}

	#[test]
	fn at_most_max_assets_per_account() {
		ExtBuilder::default().build_and_execute(|| {
			for id in [10, 11] {
				assert_ok!(Assets::force_create(RuntimeOrigin::root(), id, GOV, true, 1));
				assert_ok!(Assets::mint(signed(GOV), id, ALICE, 1_000));
				assert_ok!(Lending::create_market(RuntimeOrigin::root(), id, usd_params()));
			}
			for asset in [USD, BTC, MEME, 10] {
				assert_ok!(Lending::supply(signed(ALICE), asset, 100));
			}
			assert_eq!(Positions::<Test>::get(ALICE).unwrap().supplies.len() as u32, MAX_ASSETS);
			assert_noop!(Lending::supply(signed(ALICE), 11, 100), Error::<Test>::TooManyPositions);
		})
	}
}

mod withdraw {
	use super::*;

	#[test]
	fn exact_and_all() {
		ExtBuilder::default().build_and_execute(|| {
			assert_ok!(Lending::supply(signed(ALICE), USD, 1_000));
			assert_ok!(Lending::withdraw(signed(ALICE), USD, Amount::Exact(400)));
			assert_eq!(balance(USD, ALICE), START - 600);
			assert_eq!(supply_of(ALICE, USD).unwrap().scaled, 600);
			assert_ok!(Lending::withdraw(signed(ALICE), USD, Amount::All));
			assert_eq!(balance(USD, ALICE), START);
			// Only the reserve floor is left: the pallet account lives on.
			assert_eq!(balance(USD, pallet_account()), 1);
			assert_eq!(Positions::<Test>::get(ALICE), None);
			assert_eq!(state(USD).total_scaled_supply, 0);
			assert_eq!(
				lending_events(),
				vec![
					Event::Supplied { who: ALICE, asset: USD, amount: 1_000, shares: 1_000 },
					Event::Withdrawn { who: ALICE, asset: USD, amount: 400, shares: 400 },
					Event::Withdrawn { who: ALICE, asset: USD, amount: 600, shares: 600 },
				]
			);
		})
	}

	#[test]
	fn refusals() {
		ExtBuilder::default().build_and_execute(|| {
			assert_ok!(Lending::supply(signed(ALICE), USD, 1_000));
			assert_noop!(
				Lending::withdraw(signed(ALICE), USD, Amount::Exact(0)),
				Error::<Test>::ZeroAmount
			);
			assert_noop!(
				Lending::withdraw(signed(ALICE), USD, Amount::Exact(1_001)),
				Error::<Test>::InsufficientSupply
			);
			assert_noop!(
				Lending::withdraw(signed(ALICE), USD, Amount::Exact(u128::MAX)),
				Error::<Test>::InsufficientSupply
			);
			assert_noop!(Lending::withdraw(signed(BOB), USD, Amount::All), Error::<Test>::NoSupply);
			assert_noop!(
				Lending::withdraw(signed(ALICE), NO_MARKET, Amount::All),
				Error::<Test>::MarketNotFound
			);
		})
	}

	#[test]
	fn refused_when_the_market_lent_the_cash_out() {
		ExtBuilder::default().build_and_execute(|| {
			assert_ok!(Lending::supply(signed(BOB), USD, 1_000));
			assert_ok!(Lending::supply(signed(ALICE), BTC, 100));
			assert_ok!(Lending::borrow(signed(ALICE), USD, 900));
			assert_noop!(
				Lending::withdraw(signed(BOB), USD, Amount::Exact(200)),
				Error::<Test>::InsufficientLiquidity
			);
			assert_ok!(Lending::withdraw(signed(BOB), USD, Amount::Exact(100)));
		})
	}

	#[test]
	fn refused_over_the_borrow_limit_or_below_health_one() {
		ExtBuilder::default().build_and_execute(|| {
			alice_has_collateral();
			// Exactly at the limit: 100 BTC × 100 × 70% = 7,000.
			assert_ok!(Lending::borrow(signed(ALICE), USD, 7_000));
			assert_noop!(
				Lending::withdraw(signed(ALICE), BTC, Amount::Exact(1)),
				Error::<Test>::BorrowLimitExceeded
			);
			// BTC at 90: liquidation value 100 × 90 × 75% = 6,750 < 7,000.
			MockOracle::set(BTC, FixedU128::from_u32(90));
			assert_noop!(
				Lending::withdraw(signed(ALICE), BTC, Amount::Exact(1)),
				Error::<Test>::Unhealthy
			);
		})
	}

	#[test]
	fn needs_fresh_prices_only_with_debt() {
		ExtBuilder::default().build_and_execute(|| {
			alice_borrows();
			assert_ok!(Lending::supply(signed(CHARLIE), MEME, 100));
			advance(MaxPriceAge::get() + 1, false);
			assert_noop!(
				Lending::withdraw(signed(ALICE), BTC, Amount::Exact(1)),
				Error::<Test>::PriceStale
			);
			MockOracle::remove(BTC);
			assert_noop!(
				Lending::withdraw(signed(ALICE), BTC, Amount::Exact(1)),
				Error::<Test>::PriceMissing
			);
			// No debt, no price needed.
			assert_ok!(Lending::withdraw(signed(CHARLIE), MEME, Amount::All));
			assert_eq!(balance(MEME, CHARLIE), START);
		})
	}
}

mod borrow {
	use super::*;

	#[test]
	fn works() {
		ExtBuilder::default().build_and_execute(|| {
			alice_has_collateral();
			System::reset_events();
			assert_ok!(Lending::borrow(signed(ALICE), USD, 5_000));
			assert_eq!(balance(USD, ALICE), START + 5_000);
			assert_eq!(balance(USD, pallet_account()), 5_000 + 1);
			assert_eq!(debt_of(ALICE, USD), Some(BorrowPosition { asset: USD, scaled: 5_000 }));
			assert_eq!(state(USD).total_scaled_borrow, 5_000);
			assert_eq!(
				lending_events(),
				vec![Event::Borrowed { who: ALICE, asset: USD, amount: 5_000, shares: 5_000 }]
			);
			assert_eq!(
				Lending::account_health(&ALICE).unwrap(),
				Health {
					collateral_value: 10_000,
					borrow_limit: 7_000,
					liquidation_value: 7_500,
					debt_value: 5_000,
					factor: fx(3, 2),
					waits: false,
				}
			);
		})
	}

	#[test]
	fn refusals() {
		ExtBuilder::default().build_and_execute(|| {
			alice_has_collateral();
			assert_noop!(Lending::borrow(signed(ALICE), USD, 0), Error::<Test>::ZeroAmount);
			assert_noop!(
				Lending::borrow(signed(ALICE), NO_MARKET, 1),
				Error::<Test>::MarketNotFound
			);
			assert_noop!(
				Lending::borrow(signed(ALICE), USD, 7_001),
				Error::<Test>::BorrowLimitExceeded
			);
			assert_noop!(
				Lending::borrow(signed(ALICE), USD, 10_001),
				Error::<Test>::InsufficientLiquidity
			);
			assert_noop!(
				Lending::borrow(signed(ALICE), USD, u128::MAX),
				Error::<Test>::InsufficientLiquidity
			);
			assert_ok!(Lending::borrow(signed(ALICE), USD, 1));
			assert_noop!(Lending::borrow(signed(ALICE), USD, u128::MAX), Error::<Test>::Overflow);
			// No collateral at all: health 0.
			assert_noop!(Lending::borrow(signed(CHARLIE), USD, 1), Error::<Test>::Unhealthy);
			assert_ok!(Lending::update_market(
				RuntimeOrigin::root(),
				USD,
				MarketParams { borrow_cap: 100, ..usd_params() }
			));
			assert_noop!(
				Lending::borrow(signed(ALICE), USD, 100),
				Error::<Test>::BorrowCapExceeded
			);
			assert_ok!(Lending::update_market(
				RuntimeOrigin::root(),
				USD,
				MarketParams { borrow_enabled: false, ..usd_params() }
			));
			assert_noop!(Lending::borrow(signed(ALICE), USD, 1), Error::<Test>::BorrowNotEnabled);
		})
	}

	#[test]
	fn refused_with_stale_or_missing_prices() {
		ExtBuilder::default().build_and_execute(|| {
			alice_has_collateral();
			MockOracle::set_at(USD, FixedU128::one(), T0 - MaxPriceAge::get() - 1);
			assert_noop!(Lending::borrow(signed(ALICE), USD, 1), Error::<Test>::PriceStale);
			MockOracle::remove(USD);
			assert_noop!(Lending::borrow(signed(ALICE), USD, 1), Error::<Test>::PriceMissing);
			MockOracle::set(USD, FixedU128::zero());
			assert_noop!(Lending::borrow(signed(ALICE), USD, 1), Error::<Test>::PriceMissing);
			// Exactly MaxPriceAge old is still fresh.
			MockOracle::set_at(USD, FixedU128::one(), T0 - MaxPriceAge::get());
			assert_ok!(Lending::borrow(signed(ALICE), USD, 1));
		})
	}

	#[test]
	fn across_several_collaterals_and_debts() {
		ExtBuilder::default().build_and_execute(|| {
			alice_has_collateral();
			assert_ok!(Lending::supply(signed(BOB), MEME, 10_000));
			assert_ok!(Lending::supply(signed(ALICE), MEME, 2_000));
			// Collateral: 10,000 (BTC) + 1,000 (MEME at 0.5); limit 7,000 + 400.
			assert_ok!(Lending::borrow(signed(ALICE), USD, 5_000));
			assert_ok!(Lending::borrow(signed(ALICE), MEME, 4_000));
			let h = Lending::account_health(&ALICE).unwrap();
			assert_eq!(h.collateral_value, 11_000);
			assert_eq!(h.borrow_limit, 7_400);
			assert_eq!(h.liquidation_value, 7_500 + 500);
			assert_eq!(h.debt_value, 5_000 + 2_000);
			assert_noop!(
				Lending::borrow(signed(ALICE), MEME, 801),
				Error::<Test>::BorrowLimitExceeded
			);
		})
	}
}

mod repay {
	use super::*;

	#[test]
	fn exact_and_all() {
		ExtBuilder::default().build_and_execute(|| {
			alice_borrows();
			assert_ok!(Lending::repay(signed(ALICE), USD, Amount::Exact(2_000)));
			assert_eq!(debt_of(ALICE, USD).unwrap().scaled, 3_000);
			assert_eq!(balance(USD, ALICE), START + 3_000);
			assert_ok!(Lending::repay(signed(ALICE), USD, Amount::All));
			assert_eq!(debt_of(ALICE, USD), None);
			assert_eq!(balance(USD, ALICE), START);
			assert_eq!(balance(USD, pallet_account()), 10_000 + 1);
			assert_eq!(state(USD).total_scaled_borrow, 0);
			assert_eq!(
				lending_events(),
				vec![
					Event::Repaid {
						payer: ALICE,
						borrower: ALICE,
						asset: USD,
						amount: 2_000,
						shares: 2_000
					},
					Event::Repaid {
						payer: ALICE,
						borrower: ALICE,
						asset: USD,
						amount: 3_000,
						shares: 3_000
					},
				]
			);
		})
	}

	#[test]
	fn on_behalf_of_another_account() {
		ExtBuilder::default().build_and_execute(|| {
			alice_borrows();
			assert_ok!(Lending::repay_on_behalf(signed(CHARLIE), ALICE, USD, Amount::All));
			assert_eq!(debt_of(ALICE, USD), None);
			assert_eq!(balance(USD, CHARLIE), START - 5_000);
			assert_eq!(balance(USD, ALICE), START + 5_000);
			assert_eq!(
				lending_events(),
				vec![Event::Repaid {
					payer: CHARLIE,
					borrower: ALICE,
					asset: USD,
					amount: 5_000,
					shares: 5_000
				}]
			);
		})
	}

	#[test]
	fn refusals() {
		ExtBuilder::default().build_and_execute(|| {
			alice_borrows();
			assert_noop!(
				Lending::repay(signed(ALICE), USD, Amount::Exact(0)),
				Error::<Test>::ZeroAmount
			);
			assert_noop!(
				Lending::repay(signed(ALICE), USD, Amount::Exact(5_001)),
				Error::<Test>::RepayExceedsDebt
			);
			assert_noop!(
				Lending::repay(signed(ALICE), USD, Amount::Exact(u128::MAX)),
				Error::<Test>::RepayExceedsDebt
			);
			assert_noop!(Lending::repay(signed(BOB), USD, Amount::All), Error::<Test>::NoDebt);
			assert_noop!(
				Lending::repay(signed(ALICE), NO_MARKET, Amount::All),
				Error::<Test>::MarketNotFound
			);
			// DAVE cannot pay what ALICE owes after spending everything.
			assert_ok!(Assets::transfer(signed(DAVE), USD, CHARLIE, START));
			assert_noop!(
				Lending::repay_on_behalf(signed(DAVE), ALICE, USD, Amount::Exact(10)),
				TokenError::FundsUnavailable
			);
		})
	}

	#[test]
	fn needs_no_price() {
		ExtBuilder::default().build_and_execute(|| {
			alice_borrows();
			advance(MaxPriceAge::get() * 2, false);
			MockOracle::remove(USD);
			assert_ok!(Lending::repay(signed(ALICE), USD, Amount::All));
			assert_eq!(debt_of(ALICE, USD), None);
		})
	}
}

mod collateral {
	use super::*;

	#[test]
	fn disable_and_enable() {
		ExtBuilder::default().build_and_execute(|| {
			assert_ok!(Lending::supply(signed(ALICE), USD, 1_000));
			assert_ok!(Lending::disable_collateral(signed(ALICE), USD));
			assert!(!supply_of(ALICE, USD).unwrap().collateral);
			assert_eq!(Lending::account_health(&ALICE).unwrap().collateral_value, 0);
			assert_ok!(Lending::enable_collateral(signed(ALICE), USD));
			assert!(supply_of(ALICE, USD).unwrap().collateral);
			assert_eq!(Lending::account_health(&ALICE).unwrap().collateral_value, 1_000);
			assert_eq!(
				lending_events()[1..],
				[
					Event::CollateralDisabled { who: ALICE, asset: USD },
					Event::CollateralEnabled { who: ALICE, asset: USD },
				]
			);
		})
	}

	#[test]
	fn refusals() {
		ExtBuilder::default().build_and_execute(|| {
			alice_borrows();
			// BTC is ALICE's only collateral: without it her health is 0.
			assert_noop!(Lending::disable_collateral(signed(ALICE), BTC), Error::<Test>::Unhealthy);
			assert_noop!(
				Lending::enable_collateral(signed(ALICE), BTC),
				Error::<Test>::AlreadyCollateral
			);
			assert_noop!(Lending::enable_collateral(signed(ALICE), MEME), Error::<Test>::NoSupply);
			assert_noop!(
				Lending::enable_collateral(signed(ALICE), NO_MARKET),
				Error::<Test>::MarketNotFound
			);
			assert_ok!(Lending::supply(signed(CHARLIE), USD, 10));
			assert_ok!(Lending::disable_collateral(signed(CHARLIE), USD));
			assert_noop!(
				Lending::disable_collateral(signed(CHARLIE), USD),
				Error::<Test>::NotCollateral
			);
			// A market whose asset may not back debt.
			assert_ok!(Lending::create_market(
				RuntimeOrigin::root(),
				NO_MARKET,
				MarketParams {
					collateral_enabled: false,
					collateral_factor: Permill::zero(),
					..usd_params()
				}
			));
			assert_ok!(Lending::supply(signed(CHARLIE), NO_MARKET, 10));
			assert!(!supply_of(CHARLIE, NO_MARKET).unwrap().collateral);
			assert_noop!(
				Lending::enable_collateral(signed(CHARLIE), NO_MARKET),
				Error::<Test>::CollateralNotAllowed
			);
		})
	}
}

mod interest {
	use super::*;

	#[test]
	fn one_year_matches_the_rate_model_to_the_unit() {
		ExtBuilder::default().build_and_execute(|| {
			assert_ok!(Lending::supply(signed(BOB), USD, 1_000_000));
			assert_ok!(Lending::supply(signed(ALICE), BTC, 1_000));
			assert_ok!(Lending::borrow(signed(ALICE), USD, 50_000));
			advance(MILLIS_PER_YEAR as u64, true);
			// Utilisation 5%; rate 4% × 5/80 = 0.25%: 125 on 50,000; 10% → reserves (12.5
			// rounded down to 12), 113 to suppliers.
			assert_eq!(<Lending as LendingPositions<_>>::debt(&ALICE, &USD), Ok(50_125));
			assert_eq!(<Lending as LendingPositions<_>>::supplied(&BOB, &USD), Ok(1_000_113));
			assert_ok!(Lending::repay(signed(ALICE), USD, Amount::All));
			assert_ok!(Lending::withdraw(signed(BOB), USD, Amount::All));
			assert_eq!(balance(USD, ALICE), START + 50_000 - 50_125);
			assert_eq!(balance(USD, BOB), START + 113);
			// The floor (1) and the interest's share (12).
			assert_eq!(state(USD).reserves, 1 + 12);
			// What is left in the market is exactly the reserves.
			assert_eq!(balance(USD, pallet_account()), 13);
			let info = Lending::market_info(&USD).unwrap();
			assert_eq!((info.total_supplied, info.total_borrowed, info.reserves), (0, 0, 13));
		})
	}

	/// A reference implementation of the accrual, written independently of `math.rs`, in
	/// plain integers at 18 decimals.
	struct Reference {
		borrow_index: u128,
		supply_index: u128,
		scaled_supply: u128,
		scaled_borrow: u128,
		reserves: u128,
	}
	const E18: u128 = 1_000_000_000_000_000_000;
	fn div_ceil(a: u128, b: u128) -> u128 {
		a / b + u128::from(!a.is_multiple_of(b))
	}
	impl Reference {
		fn accrue(&mut self, dt: u128) {
			let borrows = div_ceil(self.scaled_borrow * self.borrow_index, E18);
			let supplies = self.scaled_supply * self.supply_index / E18;
			// Compound's utilisation: borrows over supplies (reserves are not supply).
			let u = (borrows * E18 / supplies).min(E18);
			// USD model: 0 + 4% × u / 80% (u below the kink in this test), rounded up.
			let rate = div_ceil(4 * E18 / 100 * div_ceil(u * E18, 80 * E18 / 100), E18);
			let growth = div_ceil(rate * dt, MILLIS_PER_YEAR);
			self.borrow_index = div_ceil(self.borrow_index * (E18 + growth), E18);
			let interest = (self.scaled_borrow * self.borrow_index / E18).saturating_sub(borrows);
			let to_reserves = interest / 10;
			self.reserves += to_reserves;
			self.supply_index += (interest - to_reserves) * E18 / self.scaled_supply;
		}
	}

	#[test]
	fn a_year_of_blocks_touched_every_hour_matches_the_reference() {
		ExtBuilder::default().build_and_execute(|| {
			assert_ok!(Lending::supply(signed(BOB), USD, 100_000_000));
			assert_ok!(Lending::supply(signed(ALICE), BTC, 1_000_000));
			assert_ok!(Lending::borrow(signed(ALICE), USD, 60_000_000));
			let mut r = Reference {
				borrow_index: E18,
				supply_index: E18,
				scaled_supply: 100_000_000,
				scaled_borrow: 60_000_000,
				// The floor GOV paid.
				reserves: 1,
			};
			let hour = 3_600_000u64;
			let mut last_borrow_index = state(USD).borrow_index;
			let mut last_supply_index = state(USD).supply_index;
			// 8,760 hours of 600 blocks each: a year of 6-second blocks.
			for _ in 0..8_760 {
				advance(hour, true);
				assert_ok!(Lending::accrue(&USD));
				r.accrue(hour as u128);
				let s = state(USD);
				assert!(s.borrow_index >= last_borrow_index && s.supply_index >= last_supply_index);
				last_borrow_index = s.borrow_index;
				last_supply_index = s.supply_index;
			}
			let s = state(USD);
			assert_eq!(s.borrow_index.into_inner(), r.borrow_index);
			assert_eq!(s.supply_index.into_inner(), r.supply_index);
			assert_eq!(s.reserves, r.reserves);
			// Hourly compounding of ~2.4%/yr (60% utilisation: 4% × 60/80 = 3%, falling as
			// supplies grow) stays within a few basis points of continuous compounding.
			let debt = <Lending as LendingPositions<_>>::debt(&ALICE, &USD).unwrap();
			assert!(debt > 61_700_000 && debt < 62_000_000, "debt after a year: {debt}");
		})
	}
}

mod rounding {
	use super::*;

	#[test]
	fn always_in_the_protocols_favour() {
		ExtBuilder::default().build_and_execute(|| {
			alice_borrows();
			advance(MILLIS_PER_YEAR as u64 / 7, true);
			assert_ok!(Lending::accrue(&USD));
			let s = state(USD);
			// A one-unit borrow owes more than one unit at an index above 1 (shares round up).
			assert_ok!(Lending::borrow(signed(ALICE), USD, 1));
			let after = state(USD);
			assert_eq!(after.total_scaled_borrow, s.total_scaled_borrow + 1);
			// Repaying one unit would burn no share (rounded down) once the index is above 1:
			// refused rather than taking the unit for nothing.
			assert_noop!(
				Lending::repay(signed(ALICE), USD, Amount::Exact(1)),
				Error::<Test>::ZeroAmount
			);
			// Withdrawing one unit burns a whole share (rounded up).
			let bob_shares = supply_of(BOB, USD).unwrap().scaled;
			assert_ok!(Lending::withdraw(signed(BOB), USD, Amount::Exact(1)));
			assert_eq!(supply_of(BOB, USD).unwrap().scaled, bob_shares - 1);
			// Debt value rounds up, collateral value down.
			MockOracle::set(BTC, fx(1, 3));
			let h = Lending::account_health(&ALICE).unwrap();
			assert_eq!(h.collateral_value, 33);
		})
	}
}

mod lending_positions {
	use super::*;

	/// The hook's tag (the mock keeps the number of debts) lives in the account's record: the
	/// hook sees the position before it is stored, `index_tag`/`update_index_tag` read and write
	/// it without touching the markets, and a record goes only when it has no market left and
	/// the default tag.
	#[test]
	fn the_hooks_tag_is_stored_with_the_position_and_goes_with_it() {
		ExtBuilder::default().build_and_execute(|| {
			let tag = |who| <Lending as LendingPositions<_>>::index_tag(&who);
			// (The update is given the account's position in shares, as `account_shares` reads it.)
			let set = |who, t| {
				let shares = <Lending as LendingPositions<_>>::account_shares(&who);
				<Lending as LendingPositions<_>>::update_index_tag(&who, |seen, tag| {
					assert_eq!(seen, &shares);
					*tag = t;
				})
			};
			alice_has_collateral();
			assert_eq!(tag(ALICE), None);
			assert_ok!(Lending::borrow(signed(ALICE), USD, 5_000));
			assert_eq!(tag(ALICE), Some(1));
			assert_eq!(Positions::<Test>::get(ALICE).map(|p| p.tag), Some(Some(1)));

			let before = Positions::<Test>::get(ALICE).unwrap();
			set(ALICE, Some(7));
			let after = Positions::<Test>::get(ALICE).unwrap();
			assert_eq!((&after.supplies, &after.borrows), (&before.supplies, &before.borrows));
			assert_eq!(after.tag, Some(7));
			assert_ok!(Lending::repay(signed(ALICE), USD, Amount::All));
			// The hook saw no debt left.
			assert_eq!(tag(ALICE), None);
			assert_ok!(Lending::withdraw(signed(ALICE), BTC, Amount::All));
			assert!(!Positions::<Test>::contains_key(ALICE));

			// A record with no market is kept while its tag is not the default.
			assert_eq!(tag(DAVE), None);
			set(DAVE, None);
			assert!(!Positions::<Test>::contains_key(DAVE));
			set(DAVE, Some(2));
			assert_eq!(tag(DAVE), Some(2));
			assert_ok!(Lending::supply(signed(DAVE), BTC, 10));
			assert_ok!(Lending::withdraw(signed(DAVE), BTC, Amount::All));
			// The hook reset the tag (no debt): the empty record went with the withdrawal.
			assert!(!Positions::<Test>::contains_key(DAVE));
			set(DAVE, Some(3));
			set(DAVE, None);
			assert!(!Positions::<Test>::contains_key(DAVE));
			assert_ok!(Lending::do_try_state());
		})
	}

	#[test]
	fn seize_collateral_moves_supply_shares_not_cash() {
		ExtBuilder::default().build_and_execute(|| {
			alice_borrows();
			let cash = balance(BTC, pallet_account());
			take_changes();
			assert_eq!(
				<Lending as LendingPositions<_>>::seize_collateral(&ALICE, &BTC, 30, &DAVE),
				Ok(30)
			);
			assert_eq!(supply_of(ALICE, BTC).unwrap().scaled, 70);
			// DAVE holds the shares as a plain supply; no token moved.
			assert_eq!(
				supply_of(DAVE, BTC),
				Some(SupplyPosition { asset: BTC, scaled: 30, collateral: false })
			);
			assert_eq!(balance(BTC, DAVE), START);
			assert_eq!(balance(BTC, pallet_account()), cash);
			assert_eq!(state(BTC).total_scaled_supply, 100);
			assert_eq!(
				take_changes(),
				vec![
					(ALICE, vec![BTC], RiskChange::Raised),
					(DAVE, vec![BTC], RiskChange::Lowered)
				]
			);
			assert_eq!(
				lending_events(),
				vec![Event::CollateralSeized {
					who: ALICE,
					asset: BTC,
					amount: 30,
					shares: 30,
					to: DAVE
				}]
			);
			// DAVE withdraws them as tokens.
			assert_ok!(Lending::withdraw(signed(DAVE), BTC, Amount::All));
			assert_eq!(balance(BTC, DAVE), START + 30);
		})
	}

	/// A lot in one pass: each part's sale paid out as one transfer, tips and rests credited
	/// once, a part with nothing left (its collateral all taken by an earlier sale) passed
	/// over with nothing taken; a part whose sale is not there refuses the lot, unchanged.
	#[test]
	fn a_lot_is_seized_in_one_pass_and_passes_over_a_part_with_nothing_left() {
		ExtBuilder::default().build_and_execute(|| {
			alice_borrows();
			assert_ok!(Lending::supply(signed(CHARLIE), BTC, 50));
			let (cash, gov) = (balance(BTC, pallet_account()), balance(BTC, GOV));
			let part = |who, sold, tip, rest| LotSeizure { who, sold, tip, rest };
			type L = Lending;
			// DAVE has no BTC: with a sale to make, the lot is refused.
			assert_noop!(
				<L as LendingPositions<_>>::seize_lot(
					&BTC,
					&[part(ALICE, 10, 1, 2), part(DAVE, 1, 0, 0)],
					&GOV,
					(&BOB, &STEWARD),
					RestPaid::Supply
				),
				Error::<Test>::NoSupply
			);
			System::reset_events();
			let lot = [part(ALICE, 10, 1, 2), part(DAVE, 0, 5, 5), part(CHARLIE, 20, 3, 60)];
			assert_eq!(
				<L as LendingPositions<_>>::seize_lot(
					&BTC,
					&lot,
					&GOV,
					(&BOB, &STEWARD),
					RestPaid::Supply
				),
				Ok(vec![(1, 2), (0, 0), (3, 27)])
			);
			// CHARLIE's rest is what was left of its 50 (the whole of it: no position left).
			assert_eq!(supply_of(ALICE, BTC).map(|p| p.scaled), Some(87));
			assert_eq!(supply_of(CHARLIE, BTC), None);
			assert_eq!(supply_of(BOB, BTC).map(|p| p.scaled), Some(4));
			assert_eq!(supply_of(STEWARD, BTC).map(|p| p.scaled), Some(29));
			assert_eq!(balance(BTC, GOV), gov + 30);
			assert_eq!(balance(BTC, pallet_account()), cash - 30);
			assert_eq!(state(BTC).total_scaled_supply, 150 - 30);
			assert_eq!(
				lending_events(),
				vec![
					Event::LotSeizure {
						who: ALICE,
						asset: BTC,
						sold: 10,
						tip: 1,
						rest: 2,
						shares: 13
					},
					Event::LotSeizure {
						who: CHARLIE,
						asset: BTC,
						sold: 20,
						tip: 3,
						rest: 27,
						shares: 50
					},
					Event::LotSeized {
						asset: BTC,
						sold: 30,
						sold_shares: 30,
						to: GOV,
						tip_shares: 4,
						tip_to: BOB,
						rest_shares: 29,
						rest_tokens: 0,
						rest_to: STEWARD
					},
				]
			);
			// The rest in tokens: the market's cash pays it.
			assert_ok!(<L as LendingPositions<_>>::seize_lot(
				&BTC,
				&[part(ALICE, 0, 0, 7)],
				&GOV,
				(&BOB, &STEWARD),
				RestPaid::Tokens
			));
			assert_eq!(balance(BTC, STEWARD), 7);
			assert_eq!(supply_of(STEWARD, BTC).map(|p| p.scaled), Some(29));
		})
	}

	#[test]
	fn seizure_works_when_the_market_is_lent_out() {
		ExtBuilder::default().build_and_execute(|| {
			alice_borrows();
			// CHARLIE borrows every BTC the market can pay out (all but the reserve floor).
			assert_ok!(Lending::supply(signed(CHARLIE), USD, 100_000));
			let available = Lending::available_cash(BTC);
			assert_eq!(available, 100);
			assert_ok!(Lending::borrow(signed(CHARLIE), BTC, available));
			assert_eq!(Lending::available_cash(BTC), 0);
			// Seizing needs no cash.
			assert_ok!(<Lending as LendingPositions<_>>::seize_collateral(&ALICE, &BTC, 40, &DAVE));
			assert_eq!(supply_of(DAVE, BTC).map(|p| p.scaled), Some(40));
			// DAVE waits for cash to return.
			assert_noop!(
				Lending::withdraw(signed(DAVE), BTC, Amount::All),
				Error::<Test>::InsufficientLiquidity
			);
			assert_ok!(Lending::repay(signed(CHARLIE), BTC, Amount::All));
			assert_ok!(Lending::withdraw(signed(DAVE), BTC, Amount::All));
			assert_eq!(balance(BTC, DAVE), START + 40);
		})
	}

	#[test]
	fn seizure_refusals_by_name() {
		ExtBuilder::default().build_and_execute(|| {
			alice_borrows();
			assert_ok!(Lending::supply(signed(ALICE), MEME, 10));
			assert_ok!(Lending::disable_collateral(signed(ALICE), MEME));
			type L = Lending;
			let seize = |who, asset, amount, to| {
				<L as LendingPositions<AccountId>>::seize_collateral(&who, &asset, amount, &to)
			};
			assert_noop!(seize(ALICE, BTC, 0, DAVE), Error::<Test>::ZeroAmount);
			assert_noop!(seize(ALICE, BTC, 1, ALICE), Error::<Test>::SeizeToSelf);
			assert_noop!(seize(ALICE, NO_MARKET, 1, DAVE), Error::<Test>::MarketNotFound);
			assert_noop!(seize(ALICE, ETH, 1, DAVE), Error::<Test>::NoSupply);
			assert_noop!(seize(ALICE, MEME, 1, DAVE), Error::<Test>::NotCollateral);
			assert_noop!(seize(ALICE, BTC, 101, DAVE), Error::<Test>::InsufficientSupply);
			// A receiver that holds the most supplies already cannot take a new one.
			for asset in [USD, MEME, ETH] {
				assert_ok!(Lending::supply(signed(DAVE), asset, 2_000_000));
			}
			assert_ok!(Lending::create_market(RuntimeOrigin::root(), NO_MARKET, usd_params()));
			assert_ok!(Lending::supply(signed(DAVE), NO_MARKET, 10));
			assert_noop!(seize(ALICE, BTC, 1, DAVE), Error::<Test>::TooManyPositions);
		})
	}

	#[test]
	fn repay_debt_on_behalf() {
		ExtBuilder::default().build_and_execute(|| {
			alice_borrows();
			assert_ok!(<Lending as LendingPositions<_>>::repay_debt(&DAVE, &ALICE, &USD, 1_000));
			assert_eq!(<Lending as LendingPositions<_>>::debt(&ALICE, &USD), Ok(4_000));
			assert_eq!(balance(USD, DAVE), START - 1_000);
			assert_noop!(
				<Lending as LendingPositions<_>>::repay_debt(&DAVE, &ALICE, &USD, 4_001),
				Error::<Test>::RepayExceedsDebt
			);
		})
	}
}

mod views {
	use super::*;

	#[test]
	fn market_info_and_positions() {
		ExtBuilder::default().build_and_execute(|| {
			alice_borrows();
			let info = Lending::market_info(&USD).unwrap();
			assert_eq!(info.total_supplied, 10_000);
			assert_eq!(info.total_borrowed, 5_000);
			assert_eq!(info.utilisation, fx(1, 2));
			assert_eq!(info.borrow_rate, fx(25, 1000));
			// 2.5% × 50% × 90%.
			assert_eq!(info.supply_rate, fx(1125, 100_000));
			assert_eq!(Lending::market_info(&NO_MARKET), None);
			assert_eq!(
				Lending::positions_info(&ALICE),
				Ok(vec![
					PositionInfo { asset: BTC, supplied: 100, collateral: true, borrowed: 0 },
					PositionInfo { asset: USD, supplied: 0, collateral: false, borrowed: 5_000 },
				])
			);
		})
	}
}

mod origins {
	use super::*;

	#[test]
	fn account_calls_need_a_signed_origin() {
		ExtBuilder::default().build_and_execute(|| {
			alice_borrows();
			for origin in [RuntimeOrigin::root(), RuntimeOrigin::none()] {
				assert_noop!(Lending::supply(origin.clone(), USD, 1), DispatchError::BadOrigin);
				assert_noop!(
					Lending::withdraw(origin.clone(), BTC, Amount::All),
					DispatchError::BadOrigin
				);
				assert_noop!(Lending::borrow(origin.clone(), USD, 1), DispatchError::BadOrigin);
				assert_noop!(
					Lending::repay(origin.clone(), USD, Amount::All),
					DispatchError::BadOrigin
				);
				assert_noop!(
					Lending::repay_on_behalf(origin.clone(), ALICE, USD, Amount::All),
					DispatchError::BadOrigin
				);
				assert_noop!(
					Lending::enable_collateral(origin.clone(), BTC),
					DispatchError::BadOrigin
				);
				assert_noop!(Lending::disable_collateral(origin, BTC), DispatchError::BadOrigin);
			}
		})
	}
}

mod integrity {
	use super::*;
	use frame_support::traits::Hooks;

	#[test]
	fn constants_are_sane() {
		ExtBuilder::default().build_and_execute(|| {
			<Lending as Hooks<u64>>::integrity_test();
		})
	}

	#[test]
	fn try_state_catches_a_broken_total() {
		ExtBuilder::default().build().execute_with(|| {
			assert_ok!(Lending::supply(signed(ALICE), USD, 1_000));
			Markets::<Test>::mutate(USD, |m| m.as_mut().unwrap().state.total_scaled_supply += 1);
			assert!(Lending::do_try_state().is_err());
		})
	}
}

mod property {
	use super::*;
	use frame_support::traits::{fungibles::Mutate, tokens::Preservation};
	use proptest::{
		prelude::*,
		test_runner::{Config, TestRunner},
	};
	use sp_arithmetic::traits::CheckedDiv;
	use std::{cell::Cell, collections::BTreeMap};

	#[derive(Clone, Debug)]
	enum Op {
		Supply(usize, usize, u128),
		Withdraw(usize, usize, Option<u128>),
		Borrow(usize, usize, u128),
		/// Borrow this percentage of the account's remaining borrowing power.
		BorrowMost(usize, usize, u32),
		Repay(usize, usize, usize, Option<u128>),
		Collateral(usize, usize, bool),
		Seize(usize, usize, u128, usize),
		WriteOff(usize, usize, u128),
		/// The same four, on one of the account's own positions (picked by index) and for a
		/// percentage of it (above 100 to be refused), so that they mostly reach real positions.
		WithdrawPart(usize, usize, u32),
		RepayPart(usize, usize, usize, u32),
		SeizePart(usize, usize, u32, usize),
		WriteOffPart(usize, usize, u32),
		Update(usize, u8),
		AddReserves(usize, usize, u128),
		Price(usize, u32),
		Advance(u64, bool),
		/// A lot of `asset`: per part `(who, sold %, tip %, rest %)` of its supply, then the
		/// tip's and the rest's receivers and whether the rest is paid in tokens.
		SeizeLot(usize, Vec<(usize, u32, u32, u32)>, usize, usize, bool),
		/// `payer` repays a lot of `asset`: per part `(who, % of its debt)`.
		RepayLot(usize, usize, Vec<(usize, u32)>),
	}

	/// The account a lot's sale is paid out to (no position of its own, as the liquidation
	/// pallet's working account).
	const SELLER: AccountId = 77;
	/// Where the sequential twin of a lot sends a rest paid in tokens on its way.
	const SELLER_TOO: AccountId = 78;

	const WHO: [AccountId; 4] = [ALICE, BOB, CHARLIE, DAVE];
	const WHAT: [AssetId; 4] = [USD, BTC, MEME, ETH];

	fn amount() -> impl Strategy<Value = u128> {
		prop_oneof![
			1u128..10_000,
			Just(0u128),
			Just(u128::MAX),
			10_000u128..1_000_000_000,
			1_000_000u128..2_000_000,
		]
	}

	fn op() -> impl Strategy<Value = Op> {
		let w = 0..WHO.len();
		let a = 0..WHAT.len();
		prop_oneof![
			4 => (w.clone(), a.clone(), amount()).prop_map(|(w, a, x)| Op::Supply(w, a, x)),
			2 => (w.clone(), a.clone(), prop::option::of(amount()))
				.prop_map(|(w, a, x)| Op::Withdraw(w, a, x)),
			2 => (w.clone(), a.clone(), amount()).prop_map(|(w, a, x)| Op::Borrow(w, a, x)),
			3 => (w.clone(), a.clone(), 50u32..=100).prop_map(|(w, a, p)| Op::BorrowMost(w, a, p)),
			2 => (w.clone(), w.clone(), a.clone(), prop::option::of(amount()))
				.prop_map(|(p, w, a, x)| Op::Repay(p, w, a, x)),
			1 => (w.clone(), a.clone(), any::<bool>()).prop_map(|(w, a, e)| Op::Collateral(w, a, e)),
			2 => (w.clone(), a.clone(), amount(), w.clone())
				.prop_map(|(w, a, x, to)| Op::Seize(w, a, x, to)),
			1 => (w.clone(), a.clone(), amount()).prop_map(|(w, a, x)| Op::WriteOff(w, a, x)),
			2 => (w.clone(), 0..8usize, 1u32..=110).prop_map(|(w, i, p)| Op::WithdrawPart(w, i, p)),
			3 => (w.clone(), w.clone(), 0..8usize, 1u32..=110)
				.prop_map(|(p, w, i, x)| Op::RepayPart(p, w, i, x)),
			4 => (w.clone(), 0..8usize, 1u32..=110, w.clone())
				.prop_map(|(w, i, p, to)| Op::SeizePart(w, i, p, to)),
			1 => (w.clone(), 0..8usize, 1u32..=100).prop_map(|(w, i, p)| Op::WriteOffPart(w, i, p)),
			1 => (a.clone(), 0u8..5).prop_map(|(a, v)| Op::Update(a, v)),
			1 => (w.clone(), a.clone(), amount()).prop_map(|(w, a, x)| Op::AddReserves(w, a, x)),
			// Price in percent of its start: 10% to 300%.
			3 => (a.clone(), 10u32..300).prop_map(|(a, p)| Op::Price(a, p)),
			2 => (1u64..30 * 24 * 3_600_000, prop::bool::weighted(0.9))
				.prop_map(|(ms, r)| Op::Advance(ms, r)),
			3 => (
				a.clone(),
				prop::collection::vec((w.clone(), 0u32..=100, 0u32..=20, 0u32..=40), 1..4),
				w.clone(),
				w.clone(),
				any::<bool>()
			)
				.prop_map(|(a, parts, t, r, k)| Op::SeizeLot(a, parts, t, r, k)),
			2 => (w.clone(), a.clone(), prop::collection::vec((w.clone(), 1u32..=100), 1..4))
				.prop_map(|(p, a, parts)| Op::RepayLot(p, a, parts)),
		]
	}

	/// Every position, market and token balance the lot twins compare.
	type Books = (Vec<Option<PositionsOf<Test>>>, Vec<Option<MarketState>>, Vec<u128>);

	fn books() -> Books {
		let mut accounts = WHO.to_vec();
		accounts.extend([SELLER, SELLER_TOO, pallet_account()]);
		let positions = accounts.iter().map(Positions::<Test>::get).collect();
		let markets = WHAT.iter().map(|a| Markets::<Test>::get(a).map(|m| m.state)).collect();
		let balances =
			accounts.iter().flat_map(|w| WHAT.iter().map(move |a| balance(*a, *w))).collect();
		(positions, markets, balances)
	}

	/// What a lot's seizure does, done by single seizures and withdrawals (as the liquidation
	/// pallet did before lots), rolled back: the books after it, or `None` if a step failed.
	fn seize_lot_twin(
		asset: AssetId,
		lot: &[LotSeizure<AccountId>],
		(tip_to, rest_to): (AccountId, AccountId),
		rest_paid: RestPaid,
	) -> Option<Books> {
		type L = Lending;
		let supplied = |w: &AccountId| <L as LendingPositions<_>>::supplied(w, &asset).ok();
		let sell = |w: &AccountId, amount: u128, to: AccountId| -> Option<()> {
			let whole = Some(amount) == supplied(w);
			<L as LendingPositions<_>>::seize_collateral(w, &asset, amount, &to).ok()?;
			let exact = if whole { Amount::All } else { Amount::Exact(amount) };
			let paid = <L as LendingPositions<_>>::withdraw_supply(&to, &asset, exact).ok()?;
			(paid == amount).then_some(())
		};
		// A lot refuses a borrower who is a receiver (its single seizures refused the sale's
		// piece, and passed over the tip).
		if lot.iter().any(|p| [SELLER, tip_to, rest_to].contains(&p.who)) {
			return None;
		}
		frame_support::storage::with_transaction(|| {
			let books = (|| {
				// The lot accrues its market even when it takes nothing.
				Lending::accrue(&asset).ok()?;
				for part in lot {
					if part.sold > 0 {
						sell(&part.who, part.sold, SELLER)?;
					}
					// The tip as the liquidation pallet paid it: tried, none on any refusal.
					if part.tip > 0 {
						let _ = <L as LendingPositions<_>>::seize_collateral(
							&part.who, &asset, part.tip, &tip_to,
						);
					}
					let rest = part.rest.min(supplied(&part.who)?);
					if rest > 0 {
						match rest_paid {
							RestPaid::Supply => {
								<L as LendingPositions<_>>::seize_collateral(
									&part.who, &asset, rest, &rest_to,
								)
								.ok()?;
							},
							RestPaid::Tokens => {
								sell(&part.who, rest, SELLER_TOO)?;
								<Assets as Mutate<_>>::transfer(
									asset,
									&SELLER_TOO,
									&rest_to,
									rest,
									Preservation::Expendable,
								)
								.ok()?;
							},
						}
					}
				}
				Some(books())
			})();
			frame_support::storage::TransactionOutcome::Rollback(Ok::<_, DispatchError>(books))
		})
		.ok()
		.flatten()
	}

	/// What a lot's repayment does, done by single repayments, rolled back.
	fn repay_lot_twin(
		payer: AccountId,
		asset: AssetId,
		lot: &[(AccountId, u128)],
	) -> Option<Books> {
		frame_support::storage::with_transaction(|| {
			let books = lot
				.iter()
				.all(|(who, amount)| {
					<Lending as LendingPositions<_>>::repay_debt(&payer, who, &asset, *amount)
						.is_ok()
				})
				.then(books);
			frame_support::storage::TransactionOutcome::Rollback(Ok::<_, DispatchError>(books))
		})
		.ok()
		.flatten()
	}

	fn start_price(asset: AssetId) -> FixedU128 {
		match asset {
			USD => FixedU128::one(),
			BTC => FixedU128::from_u32(100),
			ETH => FixedU128::from_u32(2),
			_ => fx(1, 2),
		}
	}

	fn start_params(asset: AssetId) -> MarketParams {
		match asset {
			USD => usd_params(),
			MEME => meme_params(),
			_ => btc_params(),
		}
	}

	fn exact(x: Option<u128>) -> Amount {
		x.map(Amount::Exact).unwrap_or(Amount::All)
	}

	/// `(asset, amount)` of `who`'s `i`-th supply (modulo their number), with interest.
	fn supply_pick(who: AccountId, i: usize) -> (AssetId, u128) {
		let supplies =
			Positions::<Test>::get(who).map(|p| p.supplies.into_inner()).unwrap_or_default();
		let Some(asset) = supplies.get(i % supplies.len().max(1)).map(|s| s.asset) else {
			return (USD, 1);
		};
		(asset, <Lending as LendingPositions<_>>::supplied(&who, &asset).unwrap_or_default())
	}

	/// `(asset, amount)` of `who`'s `i`-th debt (modulo their number), with interest.
	fn debt_pick(who: AccountId, i: usize) -> (AssetId, u128) {
		let debts = Positions::<Test>::get(who).map(|p| p.borrows.into_inner()).unwrap_or_default();
		let Some(asset) = debts.get(i % debts.len().max(1)).map(|b| b.asset) else {
			return (USD, 1);
		};
		(asset, <Lending as LendingPositions<_>>::debt(&who, &asset).unwrap_or_default())
	}

	fn part(x: u128, pct: u32) -> u128 {
		x.saturating_mul(u128::from(pct)) / 100
	}

	fn root() -> Vec<u8> {
		sp_io::storage::root(sp_runtime::StateVersion::V1)
	}

	#[derive(Default, Debug)]
	struct Reached {
		steps: Cell<u64>,
		ok: Cell<u64>,
		unhealthy: Cell<u64>,
		seized_from_unhealthy: Cell<u64>,
		written_off: Cell<u64>,
		bank_runs: Cell<u64>,
		/// Lots seized or repaid, and of them those checked against their single twin.
		lots: Cell<u64>,
		lot_twins: Cell<u64>,
		/// `(succeeded, failed)` per kind of call.
		calls: std::cell::RefCell<BTreeMap<String, (u64, u64)>>,
	}

	fn bump(c: &Cell<u64>) {
		c.set(c.get() + 1);
	}

	fn run(ops: Vec<Op>, reached: &Reached) -> Result<(), TestCaseError> {
		let mut outcome = Ok(());
		ExtBuilder::default().build_and_execute(|| {
			// Each account starts with a tenth of its holding of one asset supplied, so there
			// is collateral to borrow against and cash to borrow.
			for (who, asset) in WHO.iter().zip(WHAT.iter()) {
				assert_ok!(Lending::supply(signed(*who), *asset, START / 10));
			}
			outcome = steps(ops, reached);
		});
		outcome
	}

	fn steps(ops: Vec<Op>, reached: &Reached) -> Result<(), TestCaseError> {
		for op in ops {
			bump(&reached.steps);
			let before = root();
			let health_before: Vec<_> = WHO.iter().map(Lending::account_health).collect();
			let (result, checked): (DispatchResult, Option<AccountId>) = match op.clone() {
				Op::Supply(w, a, x) => (Lending::supply(signed(WHO[w]), WHAT[a], x), None),
				Op::Withdraw(w, a, x) => {
					(Lending::withdraw(signed(WHO[w]), WHAT[a], exact(x)), Some(WHO[w]))
				},
				Op::Borrow(w, a, x) => (Lending::borrow(signed(WHO[w]), WHAT[a], x), Some(WHO[w])),
				Op::BorrowMost(w, a, p) => {
					let room = Lending::account_health(&WHO[w])
						.map(|h| h.borrow_limit.saturating_sub(h.debt_value))
						.unwrap_or_default();
					let price = MockOracle::all()
						.into_iter()
						.find(|(asset, ..)| *asset == WHAT[a])
						.map(|(_, p, _)| p)
						.unwrap_or(FixedU128::one());
					let x = FixedU128::from_rational(room * u128::from(p) / 100, 1)
						.checked_div(&price)
						.map(|f| f.into_inner() / FixedU128::DIV)
						.unwrap_or_default();
					(Lending::borrow(signed(WHO[w]), WHAT[a], x), Some(WHO[w]))
				},
				Op::Repay(p, w, a, x) => {
					(Lending::repay_on_behalf(signed(WHO[p]), WHO[w], WHAT[a], exact(x)), None)
				},
				Op::Collateral(w, a, true) => {
					(Lending::enable_collateral(signed(WHO[w]), WHAT[a]), None)
				},
				Op::Collateral(w, a, false) => {
					(Lending::disable_collateral(signed(WHO[w]), WHAT[a]), Some(WHO[w]))
				},
				Op::Seize(w, a, x, to) => {
					let unhealthy =
						Lending::account_health(&WHO[w]).is_ok_and(|h| h.is_liquidatable());
					let r = <Lending as LendingPositions<_>>::seize_collateral(
						&WHO[w], &WHAT[a], x, &WHO[to],
					)
					.map(|_| ());
					if r.is_ok() && unhealthy {
						bump(&reached.seized_from_unhealthy);
					}
					(r, None)
				},
				Op::WithdrawPart(w, i, p) => {
					let (asset, x) = supply_pick(WHO[w], i);
					(
						Lending::withdraw(signed(WHO[w]), asset, Amount::Exact(part(x, p))),
						Some(WHO[w]),
					)
				},
				Op::RepayPart(payer, w, i, p) => {
					let (asset, x) = debt_pick(WHO[w], i);
					let amount = if p == 100 { Amount::All } else { Amount::Exact(part(x, p)) };
					(Lending::repay_on_behalf(signed(WHO[payer]), WHO[w], asset, amount), None)
				},
				Op::SeizePart(w, i, p, to) => {
					let (asset, x) = supply_pick(WHO[w], i);
					let unhealthy =
						Lending::account_health(&WHO[w]).is_ok_and(|h| h.is_liquidatable());
					let r = <Lending as LendingPositions<_>>::seize_collateral(
						&WHO[w],
						&asset,
						part(x, p),
						&WHO[to],
					)
					.map(|_| ());
					if r.is_ok() && unhealthy {
						bump(&reached.seized_from_unhealthy);
					}
					(r, None)
				},
				Op::WriteOffPart(w, i, p) => {
					let (asset, x) = debt_pick(WHO[w], i);
					let r =
						<Lending as LendingPositions<_>>::write_off(&WHO[w], &asset, part(x, p))
							.map(|_| ());
					if r.is_ok() {
						bump(&reached.written_off);
					}
					(r, None)
				},
				Op::WriteOff(w, a, x) => {
					let r = <Lending as LendingPositions<_>>::write_off(&WHO[w], &WHAT[a], x)
						.map(|_| ());
					if r.is_ok() {
						bump(&reached.written_off);
					}
					(r, None)
				},
				Op::Update(a, 0) => {
					// Pause an active market, resume a paused one.
					let r = match Markets::<Test>::get(WHAT[a]).map(|m| m.params.status) {
						Some(MarketStatus::Active) => {
							Lending::pause_market(RuntimeOrigin::root(), WHAT[a])
						},
						_ => Lending::resume_market(RuntimeOrigin::root(), WHAT[a]),
					};
					(r, None)
				},
				Op::Update(a, v) => {
					// `update_market` keeps the status.
					let status = Markets::<Test>::get(WHAT[a]).map(|m| m.params.status);
					let base = MarketParams {
						status: status.unwrap_or(MarketStatus::Active),
						..start_params(WHAT[a])
					};
					let params = match v {
						1 => base,
						2 => MarketParams {
							collateral_enabled: false,
							collateral_factor: Permill::zero(),
							..base
						},
						3 => MarketParams { reserve_factor: Permill::from_percent(90), ..base },
						_ => MarketParams { min_borrow_value: 1_000, ..base },
					};
					(Lending::update_market(RuntimeOrigin::root(), WHAT[a], params), None)
				},
				Op::AddReserves(w, a, x) => {
					(Lending::add_reserves(signed(WHO[w]), WHAT[a], x), None)
				},
				Op::Price(a, p) => {
					MockOracle::set(
						WHAT[a],
						start_price(WHAT[a]).saturating_mul(fx(p as u128, 100)),
					);
					(Ok(()), None)
				},
				Op::Advance(ms, refresh) => {
					advance(ms, refresh);
					(Ok(()), None)
				},
				Op::SeizeLot(a, parts, t, r, tokens) => {
					// Mostly an asset the first part supplies, so that lots reach positions.
					let first = parts.first().map(|p| WHO[p.0]).unwrap_or(ALICE);
					let asset = if a == 0 { WHAT[t] } else { supply_pick(first, a).0 };
					let of = |w: usize, pct: u32| {
						part(
							<Lending as LendingPositions<_>>::supplied(&WHO[w], &asset)
								.unwrap_or_default(),
							pct,
						)
					};
					let lot: Vec<LotSeizure<AccountId>> = parts
						.iter()
						.map(|(w, sold, tip, rest)| LotSeizure {
							who: WHO[*w],
							sold: of(*w, *sold),
							tip: of(*w, *tip),
							rest: of(*w, *rest),
						})
						.collect();
					let paid = if tokens { RestPaid::Tokens } else { RestPaid::Supply };
					let twin = seize_lot_twin(asset, &lot, (WHO[t], WHO[r]), paid);
					let r = <Lending as LendingPositions<_>>::seize_lot(
						&asset,
						&lot,
						&SELLER,
						(&WHO[t], &WHO[r]),
						paid,
					);
					// A lot is made exactly when its single seizures can be (found by review:
					// a part with nothing left refused the lot its twin made).
					prop_assert_eq!(r.is_ok(), twin.is_some(), "{:?}: lot {:?}", op, r);
					if r.is_ok() {
						bump(&reached.lots);
						// Tokens paid out leave the sale's account: the next lot starts clean.
						let sold = balance(asset, SELLER);
						if let Some(twin) = twin {
							prop_assert_eq!(
								&books(),
								&twin,
								"{:?} differs from its single seizures",
								op
							);
							bump(&reached.lot_twins);
						}
						if sold > 0 {
							assert_ok!(Assets::burn_from(
								asset,
								&SELLER,
								sold,
								Preservation::Expendable,
								frame_support::traits::tokens::Precision::Exact,
								frame_support::traits::tokens::Fortitude::Polite,
							));
						}
					}
					(r.map(|_| ()), None)
				},
				Op::RepayLot(p, a, parts) => {
					let first = parts.first().map(|p| WHO[p.0]).unwrap_or(ALICE);
					let asset = if a == 0 { WHAT[p] } else { debt_pick(first, a).0 };
					let lot: Vec<(AccountId, u128)> = parts
						.iter()
						.map(|(w, pct)| {
							let debt = <Lending as LendingPositions<_>>::debt(&WHO[*w], &asset)
								.unwrap_or_default();
							(WHO[*w], part(debt, *pct))
						})
						.collect();
					let twin = repay_lot_twin(WHO[p], asset, &lot);
					let r = <Lending as LendingPositions<_>>::repay_lot(&WHO[p], &asset, &lot);
					prop_assert_eq!(r.is_ok(), twin.is_some(), "{:?}: lot {:?}", op, r);
					if r.is_ok() {
						bump(&reached.lots);
						let twin = twin.ok_or_else(|| {
							TestCaseError::fail(format!("{op:?}: single repayments failed"))
						})?;
						prop_assert_eq!(
							&books(),
							&twin,
							"{:?} differs from its single repayments",
							op
						);
						bump(&reached.lot_twins);
					}
					(r, None)
				},
			};
			{
				let kind = format!("{op:?}");
				let mut kind = kind.split('(').next().unwrap_or_default().to_string();
				if let Err(DispatchError::Module(m)) = &result {
					if std::env::var("LENDING_PROPTEST_ERRORS").is_ok() {
						kind = format!("{kind}:{}", m.message.unwrap_or_default());
					}
				}
				let mut calls = reached.calls.borrow_mut();
				let e = calls.entry(kind).or_default();
				if result.is_ok() {
					e.0 += 1
				} else {
					e.1 += 1
				}
			}
			match result {
				Err(_) => prop_assert_eq!(root(), before, "a failed {:?} changed state", op),
				Ok(()) => {
					bump(&reached.ok);
					// A call that could add risk leaves its account within its limits.
					// (Or, for an account already outside them, e.g. after a seizure, left its
					// health exactly as it was: withdrawing a supply that is not collateral.)
					if let Some(who) = checked {
						if Positions::<Test>::get(who).is_some_and(|p| !p.borrows.is_empty()) {
							let h = Lending::account_health(&who);
							let i = WHO.iter().position(|w| *w == who).unwrap_or_default();
							prop_assert!(
								h.is_ok_and(
									|h| !h.is_liquidatable() && h.debt_value <= h.borrow_limit
								) || h == health_before[i],
								"{:?} left {} outside its limits",
								op,
								who
							);
						}
					}
				},
			}
			if let Err(e) = Lending::do_try_state() {
				return Err(TestCaseError::fail(format!("after {op:?}: {e:?}")));
			}
			for who in WHO {
				if Lending::account_health(&who).is_ok_and(|h| h.is_liquidatable()) {
					bump(&reached.unhealthy);
				}
			}
		}
		bank_run(reached)
	}

	/// Everyone repays everything (minted what they lack), then withdraws everything: every
	/// supplier leaves whole, and each market keeps at least its reserves.
	fn bank_run(reached: &Reached) -> Result<(), TestCaseError> {
		for who in WHO {
			for b in Positions::<Test>::get(who).map(|p| p.borrows.into_inner()).unwrap_or_default()
			{
				let debt = <Lending as LendingPositions<_>>::debt(&who, &b.asset).unwrap();
				prop_assert!(Assets::mint_into(b.asset, &who, debt).is_ok());
				prop_assert!(Lending::repay(signed(who), b.asset, Amount::All).is_ok());
			}
		}
		for who in WHO {
			for s in
				Positions::<Test>::get(who).map(|p| p.supplies.into_inner()).unwrap_or_default()
			{
				let r = Lending::withdraw(signed(who), s.asset, Amount::All);
				prop_assert!(r.is_ok(), "{} cannot withdraw all its {}: {:?}", who, s.asset, r);
			}
		}
		for asset in WHAT {
			let st = state(asset);
			prop_assert_eq!((st.total_scaled_supply, st.total_scaled_borrow), (0, 0));
			prop_assert!(balance(asset, pallet_account()) >= st.reserves);
		}
		bump(&reached.bank_runs);
		Ok(())
	}

	/// Random sequences of every call (and seizure, write-off, governance updates, price moves,
	/// time with and without fresh prices), checking after each step that a failed call changed
	/// nothing, a successful risky call left its account within limits, and the invariants hold;
	/// then a bank run. `LENDING_PROPTEST_CASES` sets the number of sequences (default 300,
	/// about a minute in a debug build).
	#[test]
	fn invariants_hold_and_nothing_panics() {
		let cases = std::env::var("LENDING_PROPTEST_CASES")
			.ok()
			.and_then(|c| c.parse().ok())
			.unwrap_or(300);
		// A fixed seed (the same sequences every run, so the reach checks below cannot flake);
		// `PROPTEST_SEED=<n>` draws another set.
		let seed: u64 =
			std::env::var("PROPTEST_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(1);
		let mut bytes = [0u8; 32];
		bytes[..8].copy_from_slice(&seed.to_le_bytes());
		let mut runner = TestRunner::new_with_rng(
			Config { cases, failure_persistence: None, ..Config::default() },
			proptest::test_runner::TestRng::from_seed(
				proptest::test_runner::RngAlgorithm::ChaCha,
				&bytes,
			),
		);
		let reached = Reached::default();
		let result = runner.run(&prop::collection::vec(op(), 1..80), |ops| run(ops, &reached));
		println!("lending property test, {cases} sequences: {reached:?}");
		if let Err(e) = result {
			panic!("{e}");
		}
		// The test means nothing if it never got there.
		assert!(reached.unhealthy.get() > 0, "never reached an unhealthy account");
		assert!(reached.seized_from_unhealthy.get() > 0, "never seized from an unhealthy one");
		assert!(reached.written_off.get() > 0, "never wrote a debt off");
		assert!(reached.lot_twins.get() > 0, "never checked a lot against its twin");
		assert_eq!(reached.bank_runs.get(), u64::from(cases), "a bank run did not complete");
	}
}

/// The review findings of the hardening issue, each shown failing before its fix.
mod hardening {
	use super::*;

	#[test]
	fn collateral_turned_off_gives_no_borrowing_power_but_keeps_the_threshold() {
		ExtBuilder::default().build_and_execute(|| {
			alice_borrows();
			// Turning collateral off with a non-zero factor is refused: it would keep lending.
			let off = MarketParams { collateral_enabled: false, ..btc_params() };
			assert_noop!(
				Lending::update_market(RuntimeOrigin::root(), BTC, off),
				Error::<Test>::InvalidCollateralFactor
			);
			let off = MarketParams { collateral_factor: Permill::zero(), ..off };
			assert_ok!(Lending::update_market(RuntimeOrigin::root(), BTC, off));
			// No borrowing power, the liquidation threshold kept: not liquidatable.
			let h = Lending::account_health(&ALICE).unwrap();
			assert_eq!(h.borrow_limit, 0);
			assert_eq!(h.liquidation_value, 7_500);
			assert_eq!(h.factor, fx(15, 10));
			assert_noop!(
				Lending::borrow(signed(ALICE), USD, 1),
				Error::<Test>::BorrowLimitExceeded
			);
			assert_noop!(
				Lending::withdraw(signed(ALICE), BTC, Amount::Exact(1)),
				Error::<Test>::BorrowLimitExceeded
			);
			// Topping up keeps the old flag: it counts for health, not for borrowing.
			assert_ok!(Lending::supply(signed(ALICE), BTC, 10));
			let h = Lending::account_health(&ALICE).unwrap();
			assert_eq!((h.borrow_limit, h.liquidation_value), (0, 8_250));
			// A new supplier's BTC is not collateral and cannot be made so.
			assert_ok!(Lending::supply(signed(CHARLIE), BTC, 10));
			assert_eq!(supply_of(CHARLIE, BTC).map(|p| p.collateral), Some(false));
			assert_noop!(
				Lending::enable_collateral(signed(CHARLIE), BTC),
				Error::<Test>::CollateralNotAllowed
			);
			// Repaying stays open, and then the collateral may leave.
			assert_ok!(Lending::repay(signed(ALICE), USD, Amount::All));
			assert_ok!(Lending::withdraw(signed(ALICE), BTC, Amount::All));
		})
	}

	#[test]
	fn outflows_never_reap_the_pallet_account() {
		ExtBuilder::default().build_and_execute(|| {
			// ETH's minimum balance is 10⁶; GOV funded the reserve floor (10⁶).
			assert_eq!(balance(ETH, pallet_account()), ETH_MIN);
			assert_ok!(Lending::supply(signed(BOB), ETH, 5_000_000));
			assert_ok!(Lending::supply(signed(ALICE), USD, 100_000_000));
			// Borrowing more than leaves the floor is refused, not paid out with the remainder.
			assert_noop!(
				Lending::borrow(signed(ALICE), ETH, 5_000_001),
				Error::<Test>::InsufficientLiquidity
			);
			assert_ok!(Lending::borrow(signed(ALICE), ETH, 5_000_000));
			assert_eq!(balance(ETH, pallet_account()), ETH_MIN);
			assert_eq!(balance(ETH, ALICE), START + 5_000_000);
			Lending::do_try_state().unwrap();
			advance(MILLIS_PER_YEAR as u64, true);
			assert_ok!(Lending::repay(signed(ALICE), ETH, Amount::All));
			// BOB takes out everything he owns, interest included; the floor stays.
			let owed = <Lending as LendingPositions<_>>::supplied(&BOB, &ETH).unwrap();
			assert!(owed > 5_000_000);
			assert_ok!(Lending::withdraw(signed(BOB), ETH, Amount::All));
			assert_eq!(balance(ETH, BOB), START - 5_000_000 + owed);
			assert!(balance(ETH, pallet_account()) >= ETH_MIN);
			assert!(state(ETH).reserves >= ETH_MIN);
		})
	}

	#[test]
	fn the_first_supply_seeds_the_reserve_floor() {
		ExtBuilder::default().without_markets().build_and_execute(|| {
			assert_ok!(Lending::create_market(RuntimeOrigin::root(), ETH, btc_params()));
			assert_noop!(
				Lending::supply(signed(BOB), ETH, ETH_MIN),
				Error::<Test>::BelowMinimumBalance
			);
			assert_ok!(Lending::supply(signed(BOB), ETH, 5_000_000));
			assert_eq!(state(ETH).reserves, ETH_MIN);
			assert_eq!(supply_of(BOB, ETH).map(|p| p.scaled), Some(4_000_000));
			assert_eq!(
				lending_events(),
				vec![
					Event::MarketCreated { asset: ETH, params: btc_params() },
					Event::ReservesSeeded { asset: ETH, who: BOB, amount: ETH_MIN },
					Event::Supplied { who: BOB, asset: ETH, amount: 4_000_000, shares: 4_000_000 },
				]
			);
			// The next supply pays nothing more; the last supplier leaves whole.
			assert_ok!(Lending::supply(signed(CHARLIE), ETH, 1_000));
			assert_ok!(Lending::withdraw(signed(BOB), ETH, Amount::All));
			assert_ok!(Lending::withdraw(signed(CHARLIE), ETH, Amount::All));
			assert_eq!(balance(ETH, CHARLIE), START);
			assert_eq!(balance(ETH, pallet_account()), ETH_MIN);
		})
	}

	fn with_dust_meme() {
		// ALICE: 100 BTC (10,000) and 2 MEME (1) as collateral, 5,000 USD of debt.
		alice_borrows();
		assert_ok!(Lending::supply(signed(ALICE), MEME, 2));
		System::reset_events();
	}

	#[test]
	fn a_stale_price_of_an_untouched_collateral_counts_at_its_last_price_within_the_grace() {
		ExtBuilder::default().build_and_execute(|| {
			with_dust_meme();
			// BTC falls so ALICE is liquidatable: 100 × 60 × 75% + 2 × 0.5 × 50% = 4,500.
			MockOracle::set(BTC, FixedU128::from_u32(60));
			// MEME's feed lapses; BTC and USD are fed on.
			advance(MaxPriceAge::get() + 1, false);
			MockOracle::set(BTC, FixedU128::from_u32(60));
			MockOracle::set(USD, FixedU128::one());
			// Strict health refuses; the liquidation's health does not.
			assert_noop!(Lending::health(ALICE), Error::<Test>::PriceStale);
			let h = Lending::liquidation_health(&ALICE, &USD, &BTC).unwrap();
			assert_eq!(h.liquidation_value, 4_500);
			assert_eq!(h.collateral_value, 6_001);
			assert!(h.is_liquidatable());
			// Seizing MEME itself needs its fresh price.
			assert_noop!(
				Lending::liquidation_health(&ALICE, &USD, &MEME),
				Error::<Test>::PriceStale
			);
			// Beyond the grace MEME counts for nothing (a dead feed).
			advance(StalePriceGrace::get(), false);
			MockOracle::set(BTC, FixedU128::from_u32(60));
			MockOracle::set(USD, FixedU128::one());
			let h = Lending::liquidation_health(&ALICE, &USD, &BTC).unwrap();
			assert_eq!(h.collateral_value, 6_000);
			assert_eq!(h.liquidation_value, 4_500);
		})
	}

	#[test]
	fn a_stale_collateral_does_not_make_a_healthy_account_liquidatable() {
		ExtBuilder::default().build_and_execute(|| {
			// ALICE's health rests on MEME: 40,000 MEME (20,000 × 50% = 10,000) and 1 BTC.
			assert_ok!(Lending::supply(signed(BOB), USD, 10_000));
			assert_ok!(Lending::supply(signed(ALICE), MEME, 40_000));
			assert_ok!(Lending::supply(signed(ALICE), BTC, 1));
			assert_ok!(Lending::borrow(signed(ALICE), USD, 7_000));
			advance(MaxPriceAge::get() + 1, false);
			MockOracle::set(BTC, FixedU128::from_u32(100));
			MockOracle::set(USD, FixedU128::one());
			// Within the grace MEME counts at its last price: 10,075 / 7,000, healthy.
			let h = Lending::liquidation_health(&ALICE, &USD, &BTC).unwrap();
			assert_eq!(h.liquidation_value, 10_075);
			assert!(!h.is_liquidatable());
			// The repaid debt and the seized collateral need fresh prices.
			MockOracle::set_at(USD, FixedU128::one(), T0);
			assert_noop!(
				Lending::liquidation_health(&ALICE, &USD, &BTC),
				Error::<Test>::PriceStale
			);
			MockOracle::remove(BTC);
			MockOracle::set(USD, FixedU128::one());
			assert_noop!(
				Lending::liquidation_health(&ALICE, &USD, &BTC),
				Error::<Test>::PriceMissing
			);
		})
	}

	#[test]
	fn a_stale_debt_not_repaid_counts_at_its_last_price_within_the_grace() {
		ExtBuilder::default().build_and_execute(|| {
			alice_borrows();
			assert_ok!(Lending::supply(signed(BOB), MEME, 10_000));
			assert_ok!(Lending::borrow(signed(ALICE), MEME, 1_000));
			advance(2 * 3_600_000, false);
			MockOracle::set(BTC, FixedU128::from_u32(100));
			MockOracle::set(USD, FixedU128::one());
			// MEME (two hours stale) still counts at 0.5, the debts with their interest.
			let h = Lending::liquidation_health(&ALICE, &USD, &BTC).unwrap();
			let meme_debt = <Lending as LendingPositions<_>>::debt(&ALICE, &MEME).unwrap();
			let usd_debt = <Lending as LendingPositions<_>>::debt(&ALICE, &USD).unwrap();
			assert_eq!(h.debt_value, usd_debt + meme_debt.div_ceil(2));
			// Beyond the grace, a debt's value is unknown: refused, not guessed.
			advance(StalePriceGrace::get(), false);
			MockOracle::set(BTC, FixedU128::from_u32(100));
			MockOracle::set(USD, FixedU128::one());
			assert_noop!(
				Lending::liquidation_health(&ALICE, &USD, &BTC),
				Error::<Test>::PriceStale
			);
			MockOracle::remove(MEME);
			assert_noop!(
				Lending::liquidation_health(&ALICE, &USD, &BTC),
				Error::<Test>::PriceMissing
			);
		})
	}

	#[test]
	fn liquidation_health_only_for_a_debt_owed_and_a_collateral_held() {
		ExtBuilder::default().build_and_execute(|| {
			alice_borrows();
			assert_ok!(Lending::supply(signed(ALICE), MEME, 10));
			assert_ok!(Lending::disable_collateral(signed(ALICE), MEME));
			assert_noop!(Lending::liquidation_health(&ALICE, &BTC, &BTC), Error::<Test>::NoDebt);
			assert_noop!(Lending::liquidation_health(&ALICE, &USD, &ETH), Error::<Test>::NoSupply);
			assert_noop!(
				Lending::liquidation_health(&ALICE, &USD, &MEME),
				Error::<Test>::NotCollateral
			);
		})
	}

	/// `liquidation_view` gives what the reads it replaces give (the health, the debt and
	/// supply with interest, the pair's liquidation ends, the borrow index), refuses in the
	/// order a liquidation checks (a market, a price, the health), and takes markets and
	/// prices from the reads it is given (what a batch relies on: nothing written between).
	#[test]
	fn the_liquidation_view_is_the_reads_it_replaces_in_their_order() {
		ExtBuilder::default().build_and_execute(|| {
			alice_borrows();
			// Interest not written yet, and a gate on the collateral (a fall's wait).
			advance(MILLIS_PER_YEAR as u64 / 12, true);
			MockOracle::gate(BTC, Some(fx(9, 10)));
			let mut reads = PlanReads::default();
			let view = Lending::liquidation_view(&ALICE, &USD, &BTC, &mut reads).unwrap();
			assert_eq!(view.health, Lending::liquidation_health(&ALICE, &USD, &BTC).unwrap());
			let positions = <Lending as LendingPositions<_>>::debt(&ALICE, &USD).unwrap();
			assert_eq!(view.owed, positions);
			assert!(view.owed > 5_000, "with interest");
			assert_eq!(
				view.held,
				<Lending as LendingPositions<_>>::supplied(&ALICE, &BTC).unwrap()
			);
			type Prices = <Test as Config>::Prices;
			let usd = <Prices as PriceSource<_>>::liquidation_bounds(&USD).unwrap();
			let btc = <Prices as PriceSource<_>>::liquidation_bounds(&BTC).unwrap();
			assert_eq!(view.prices, (usd.0, btc.1));
			assert_eq!(view.borrow_index, Lending::current(&USD).unwrap().state.borrow_index);
			assert_eq!(Some(view.collateral_market), params_of(BTC));
			assert_eq!(state(USD).last_accrued, T0, "nothing written");

			// The reads it was given: a new price is not seen through them, a fresh set sees it.
			MockOracle::set(BTC, FixedU128::from_u32(1));
			let again = Lending::liquidation_view(&ALICE, &USD, &BTC, &mut reads).unwrap();
			assert_eq!(again, view);
			let fresh =
				Lending::liquidation_view(&ALICE, &USD, &BTC, &mut PlanReads::default()).unwrap();
			assert_eq!(fresh.prices.1, FixedU128::from_u32(1));
			assert!(fresh.health.factor < view.health.factor);

			// A price kept by the kind of read: MEME stale but within the grace is refused as a
			// pair's price and still counted as another collateral, with the same reads.
			MockOracle::set(BTC, FixedU128::from_u32(100));
			assert_ok!(Lending::supply(signed(ALICE), MEME, 1_000));
			let now = Timestamp::get();
			MockOracle::set_at(
				MEME,
				MockOracle::timestamped_price(&MEME).unwrap().0,
				now - MaxPriceAge::get() - 1,
			);
			let mut reads = PlanReads::default();
			assert_eq!(
				Lending::liquidation_view(&ALICE, &USD, &MEME, &mut reads),
				Err(ViewError::Price(PriceError::Stale))
			);
			let with_meme = Lending::liquidation_view(&ALICE, &USD, &BTC, &mut reads).unwrap();
			assert_eq!(with_meme.health, Lending::liquidation_health(&ALICE, &USD, &BTC).unwrap());

			// The order of refusals: a market first, then a price, then the health.
			let view = |debt, collateral| {
				Lending::liquidation_view(&ALICE, &debt, &collateral, &mut PlanReads::default())
			};
			assert_eq!(view(NO_MARKET, BTC), Err(ViewError::UnknownMarket));
			assert_eq!(view(USD, NO_MARKET), Err(ViewError::UnknownMarket));
			MockOracle::remove(ETH);
			// ALICE owes no ETH: the price is refused before the health would be.
			assert_eq!(view(ETH, BTC), Err(ViewError::Price(PriceError::Missing)));
			assert_eq!(view(USD, ETH), Err(ViewError::Price(PriceError::Missing)));
			assert_eq!(view(USD, USD), Err(ViewError::Health(Error::<Test>::NoSupply.into())));
			assert_eq!(view(BTC, BTC), Err(ViewError::Health(Error::<Test>::NoDebt.into())));
			advance(MaxPriceAge::get() + 1, false);
			assert_eq!(view(USD, BTC), Err(ViewError::Price(PriceError::Stale)));
		})
	}

	#[test]
	fn interest_accrued_without_suppliers_goes_to_reserves() {
		ExtBuilder::default().build_and_execute(|| {
			// BTC's market lends only reserves: GOV adds 1,000 BTC of reserves, no supplier.
			assert_ok!(Lending::add_reserves(signed(GOV), BTC, 1_000));
			assert_ok!(Lending::supply(signed(ALICE), USD, 1_000_000));
			assert_ok!(Lending::borrow(signed(ALICE), BTC, 500));
			let before = state(BTC).reserves;
			advance(MILLIS_PER_YEAR as u64, true);
			System::reset_events();
			assert_ok!(Lending::repay(signed(ALICE), BTC, Amount::All));
			let Some(Event::InterestAccrued { interest, to_reserves, .. }) =
				lending_events().into_iter().next()
			else {
				panic!("interest accrued first")
			};
			assert!(interest > 0);
			assert_eq!(to_reserves, interest);
			assert_eq!(state(BTC).reserves, before + interest);
			// What ALICE paid covers it (her debt rounds up).
			assert!(balance(BTC, pallet_account()) - 1_001 >= interest);
		})
	}

	#[test]
	fn positions_info_reports_an_error_not_a_number() {
		ExtBuilder::default().build().execute_with(|| {
			alice_borrows();
			// A debt whose value no longer fits: the view says so instead of inventing a number.
			Positions::<Test>::mutate(ALICE, |p| {
				p.as_mut().unwrap().borrows[0].scaled = u128::MAX / 2 + 1
			});
			Markets::<Test>::mutate(USD, |m| {
				m.as_mut().unwrap().state.borrow_index = FixedU128::from_u32(2)
			});
			assert_eq!(Lending::positions_info(&ALICE), Err(Error::<Test>::Overflow.into()));
		})
	}

	#[test]
	fn a_borrow_below_the_minimum_value_is_refused() {
		ExtBuilder::default().build_and_execute(|| {
			alice_has_collateral();
			let params = MarketParams { min_borrow_value: 100, ..usd_params() };
			assert_ok!(Lending::update_market(RuntimeOrigin::root(), USD, params));
			assert_noop!(Lending::borrow(signed(ALICE), USD, 99), Error::<Test>::BorrowTooSmall);
			assert_ok!(Lending::borrow(signed(ALICE), USD, 100));
			// Adding to a debt above the minimum is fine whatever its size.
			assert_ok!(Lending::borrow(signed(ALICE), USD, 1));
			// So is repaying below it: repaying never adds risk.
			assert_ok!(Lending::repay(signed(ALICE), USD, Amount::Exact(50)));
		})
	}

	#[test]
	fn markets_only_for_assets_governance_controls() {
		ExtBuilder::default().build_and_execute(|| {
			assert_noop!(
				Lending::create_market(RuntimeOrigin::root(), UNTRUSTED, usd_params()),
				Error::<Test>::UntrustedAssetRoles
			);
			// The admin alone handed to an ordinary account is enough to refuse.
			assert_ok!(Assets::set_team(signed(GOV), NO_MARKET, GOV, BOB, GOV));
			assert_noop!(
				Lending::create_market(RuntimeOrigin::root(), NO_MARKET, usd_params()),
				Error::<Test>::UntrustedAssetRoles
			);
			assert_ok!(Assets::set_team(signed(GOV), NO_MARKET, GOV, GOV, GOV));
			assert_ok!(Lending::create_market(RuntimeOrigin::root(), NO_MARKET, usd_params()));
		})
	}

	#[test]
	fn every_change_tells_which_account_market_and_direction() {
		ExtBuilder::default().build_and_execute(|| {
			assert_ok!(Lending::supply(signed(BOB), USD, 10_000));
			assert_ok!(Lending::supply(signed(ALICE), BTC, 100));
			assert_ok!(Lending::borrow(signed(ALICE), USD, 1_000));
			assert_ok!(Lending::disable_collateral(signed(BOB), USD));
			assert_ok!(Lending::enable_collateral(signed(BOB), USD));
			assert_ok!(Lending::repay_on_behalf(signed(DAVE), ALICE, USD, Amount::Exact(10)));
			assert_ok!(Lending::withdraw(signed(BOB), USD, Amount::Exact(10)));
			// Refused calls tell nothing.
			assert_noop!(
				Lending::borrow(signed(ALICE), USD, 6_100),
				Error::<Test>::BorrowLimitExceeded
			);
			assert_eq!(
				take_changes(),
				vec![
					(BOB, vec![USD], RiskChange::Lowered),
					(ALICE, vec![BTC], RiskChange::Lowered),
					(ALICE, vec![USD], RiskChange::Raised),
					(BOB, vec![USD], RiskChange::Raised),
					(BOB, vec![USD], RiskChange::Lowered),
					(ALICE, vec![USD], RiskChange::Lowered),
					(BOB, vec![USD], RiskChange::Raised),
				]
			);
		})
	}
}

mod write_off {
	use super::*;

	fn write_off(who: AccountId, asset: AssetId, amount: u128) -> Result<WriteOff, DispatchError> {
		<Lending as LendingPositions<AccountId>>::write_off(&who, &asset, amount)
	}

	#[test]
	fn reserves_absorb_first_then_suppliers_through_the_index() {
		ExtBuilder::default().build_and_execute(|| {
			// BOB supplies 10,000 USD; GOV adds 300 USD to reserves (301 with the floor).
			alice_borrows();
			assert_ok!(Lending::add_reserves(signed(GOV), USD, 300));
			System::reset_events();
			take_changes();
			// A 1,000 loss: 300 from reserves (the floor of 1 stays), 700 from BOB's 10,000.
			assert_eq!(
				write_off(ALICE, USD, 1_000),
				Ok(WriteOff { amount: 1_000, from_reserves: 300, socialised: 700 })
			);
			let s = state(USD);
			assert_eq!(s.reserves, 1);
			assert_eq!(s.bad_debt, 700);
			assert_eq!(s.supply_index, fx(93, 100));
			assert_eq!(<Lending as LendingPositions<_>>::supplied(&BOB, &USD), Ok(9_300));
			assert_eq!(<Lending as LendingPositions<_>>::debt(&ALICE, &USD), Ok(4_000));
			assert_eq!(Lending::market_info(&USD).unwrap().bad_debt, 700);
			assert_eq!(take_changes(), vec![(ALICE, vec![USD], RiskChange::Lowered)]);
			assert_eq!(
				lending_events(),
				vec![Event::DebtWrittenOff {
					who: ALICE,
					asset: USD,
					amount: 1_000,
					shares: 1_000,
					from_reserves: 300,
					socialised: 700,
					supply_index: fx(93, 100),
				}]
			);
			// The rest of the debt: all of it to the suppliers, the position closes.
			assert_ok!(write_off(ALICE, USD, 4_000));
			assert_eq!(debt_of(ALICE, USD), None);
			assert_eq!(state(USD).total_scaled_borrow, 0);
			assert_eq!(<Lending as LendingPositions<_>>::supplied(&BOB, &USD), Ok(5_300));
			// BOB can take out exactly what is left.
			assert_ok!(Lending::withdraw(signed(BOB), USD, Amount::All));
			assert_eq!(balance(USD, BOB), START - 10_000 + 5_300);
		})
	}

	#[test]
	fn a_loss_of_everything_wipes_the_suppliers_out_without_breaking_the_market() {
		ExtBuilder::default().build_and_execute(|| {
			// BOB's 10,000 USD all lent to ALICE (the floor of 1 stays), then all of it lost.
			assert_ok!(Lending::supply(signed(BOB), USD, 10_000));
			assert_ok!(Lending::supply(signed(ALICE), BTC, 1_000));
			assert_ok!(Lending::borrow(signed(ALICE), USD, 10_000));
			assert_eq!(
				write_off(ALICE, USD, 10_000),
				Ok(WriteOff { amount: 10_000, from_reserves: 0, socialised: 10_000 })
			);
			let s = state(USD);
			assert_eq!((s.supply_index, s.reserves, s.bad_debt), (FixedU128::zero(), 1, 10_000));
			assert_eq!(<Lending as LendingPositions<_>>::supplied(&BOB, &USD), Ok(0));
			// No one may join the worthless shares; BOB may leave with what is left: nothing.
			assert_noop!(Lending::supply(signed(CHARLIE), USD, 100), Error::<Test>::MarketWipedOut);
			assert_ok!(Lending::withdraw(signed(BOB), USD, Amount::All));
			assert_eq!(balance(USD, BOB), START - 10_000);
			assert_eq!(balance(USD, pallet_account()), 1);
			// The worthless shares gone, the market starts afresh at index 1.
			assert_ok!(Lending::supply(signed(CHARLIE), USD, 100));
			assert_eq!(state(USD).supply_index, FixedU128::one());
			assert_eq!(<Lending as LendingPositions<_>>::supplied(&CHARLIE, &USD), Ok(100));
		})
	}

	#[test]
	fn refusals() {
		ExtBuilder::default().build_and_execute(|| {
			alice_borrows();
			assert_noop!(write_off(ALICE, USD, 0), Error::<Test>::ZeroAmount);
			assert_noop!(write_off(ALICE, USD, 5_001), Error::<Test>::RepayExceedsDebt);
			assert_noop!(write_off(ALICE, BTC, 1), Error::<Test>::NoDebt);
			assert_noop!(write_off(ALICE, NO_MARKET, 1), Error::<Test>::MarketNotFound);
		})
	}
}

mod reserves {
	use super::*;

	#[test]
	fn transfer_above_the_floor_by_governance_only() {
		ExtBuilder::default().build_and_execute(|| {
			assert_ok!(Lending::add_reserves(signed(GOV), USD, 500));
			assert_eq!(state(USD).reserves, 501);
			assert_noop!(
				Lending::transfer_reserves(signed(ALICE), USD, 1, DAVE),
				DispatchError::BadOrigin
			);
			assert_noop!(
				Lending::transfer_reserves(RuntimeOrigin::root(), USD, 501, DAVE),
				Error::<Test>::InsufficientReserves
			);
			assert_noop!(
				Lending::transfer_reserves(RuntimeOrigin::root(), USD, 0, DAVE),
				Error::<Test>::ZeroAmount
			);
			assert_noop!(
				Lending::transfer_reserves(RuntimeOrigin::root(), NO_MARKET, 1, DAVE),
				Error::<Test>::MarketNotFound
			);
			System::reset_events();
			assert_ok!(Lending::transfer_reserves(RuntimeOrigin::root(), USD, 500, DAVE));
			assert_eq!(state(USD).reserves, 1);
			assert_eq!(balance(USD, DAVE), START + 500);
			assert_eq!(
				lending_events(),
				vec![Event::ReservesTransferred { asset: USD, amount: 500, to: DAVE }]
			);
		})
	}

	#[test]
	fn lent_out_reserves_wait_for_cash() {
		ExtBuilder::default().build_and_execute(|| {
			assert_ok!(Lending::add_reserves(signed(GOV), BTC, 100));
			assert_ok!(Lending::supply(signed(ALICE), USD, 1_000_000));
			assert_ok!(Lending::borrow(signed(ALICE), BTC, 100));
			assert_noop!(
				<Lending as LendingPositions<_>>::transfer_reserves(&BTC, 1, &DAVE),
				Error::<Test>::InsufficientLiquidity
			);
		})
	}

	#[test]
	fn anyone_may_add() {
		ExtBuilder::default().build_and_execute(|| {
			assert_noop!(Lending::add_reserves(signed(DAVE), USD, 0), Error::<Test>::ZeroAmount);
			assert_noop!(
				Lending::add_reserves(signed(DAVE), NO_MARKET, 1),
				Error::<Test>::MarketNotFound
			);
			assert_ok!(Lending::add_reserves(signed(DAVE), USD, 7));
			assert_eq!(balance(USD, DAVE), START - 7);
			assert_eq!(
				lending_events(),
				vec![Event::ReservesAdded { asset: USD, who: DAVE, amount: 7 }]
			);
		})
	}
}

mod long_horizons {
	use super::*;

	#[test]
	fn a_market_idle_for_five_years_accrues_simple_interest_over_the_gap() {
		ExtBuilder::default().build_and_execute(|| {
			alice_borrows();
			let rate = Lending::market_info(&USD).unwrap().borrow_rate;
			advance(5 * MILLIS_PER_YEAR as u64, true);
			assert_ok!(Lending::repay(signed(ALICE), USD, Amount::All));
			// One accrual over five years: index 1 + 5 × rate, nothing overflows.
			let index = FixedU128::one() + rate * FixedU128::from_u32(5);
			assert_eq!(state(USD).borrow_index, index);
			let owed = (index.into_inner() * 5_000).div_ceil(FixedU128::DIV);
			assert_eq!(balance(USD, ALICE), START + 5_000 - owed);
		})
	}

	#[test]
	fn above_the_kink_matches_the_reference_model() {
		ExtBuilder::default().build_and_execute(|| {
			assert_ok!(Lending::supply(signed(BOB), USD, 10_000));
			assert_ok!(Lending::supply(signed(ALICE), BTC, 1_000));
			assert_ok!(Lending::borrow(signed(ALICE), USD, 9_000));
			// Utilisation 9,000 / 10,000: rate = 4% + 75% × (u − 0.8) / 0.2.
			let u = fx(9, 10);
			let reference = fx(4, 100) + fx(75, 100) * (u - fx(8, 10)) / fx(2, 10);
			let rate = Lending::market_info(&USD).unwrap().borrow_rate;
			// The model rounds up, the reference to nearest: a few 10⁻¹⁸ apart at most.
			assert!(rate >= reference && (rate - reference).into_inner() <= 3, "{rate:?}");
			advance(MILLIS_PER_YEAR as u64, true);
			assert_ok!(Lending::repay(signed(ALICE), USD, Amount::All));
			let paid = START + 9_000 - balance(USD, ALICE);
			let expected = (FixedU128::from_u32(9_000) * (FixedU128::one() + reference))
				.into_inner()
				.div_ceil(FixedU128::DIV);
			assert!(paid == expected || paid == expected + 1, "paid {paid}, reference {expected}");
		})
	}
}

mod breaker {
	use super::*;

	#[test]
	fn a_halted_asset_is_not_borrowed_nor_backs_a_borrow_or_a_withdrawal_but_repaying_is_open() {
		ExtBuilder::default().build_and_execute(|| {
			alice_borrows();
			assert_ok!(Lending::supply(signed(BOB), BTC, 1_000));
			assert_ok!(Lending::supply(signed(ALICE), MEME, 1_000));
			HaltedAssets::set(vec![BTC]);
			// BTC itself may not be borrowed.
			assert_noop!(Lending::borrow(signed(CHARLIE), BTC, 1), Error::<Test>::AssetHalted);
			// Alice's BTC backs no new borrow: her MEME alone cannot carry 5,001 USD.
			assert_noop!(
				Lending::borrow(signed(ALICE), USD, 1),
				Error::<Test>::BorrowLimitExceeded
			);
			// Nor a withdrawal, of it or of another collateral, nor disabling one: nothing
			// leaves on a halted (or unconfirmed) price.
			assert_noop!(
				Lending::withdraw(signed(ALICE), BTC, Amount::Exact(10)),
				Error::<Test>::BorrowLimitExceeded
			);
			assert_noop!(
				Lending::withdraw(signed(ALICE), MEME, Amount::Exact(10)),
				Error::<Test>::BorrowLimitExceeded
			);
			assert_noop!(
				Lending::disable_collateral(signed(ALICE), MEME),
				Error::<Test>::BorrowLimitExceeded
			);
			// Repaying and supplying are never blocked; her BTC still counts for her health.
			assert_ok!(Lending::repay(signed(ALICE), USD, Amount::Exact(1_000)));
			assert_ok!(Lending::supply(signed(ALICE), BTC, 10));
			assert_eq!(debt_of(ALICE, USD).map(|p| p.scaled), Some(4_000));
			assert!(!Lending::account_health(&ALICE).unwrap().is_liquidatable());
			// Bob, with no debt, withdraws his halted BTC freely.
			assert_ok!(Lending::withdraw(signed(BOB), BTC, Amount::Exact(10)));
			// Released: withdrawing and borrowing against BTC again.
			HaltedAssets::set(vec![]);
			assert_ok!(Lending::withdraw(signed(ALICE), BTC, Amount::Exact(10)));
			assert_ok!(Lending::borrow(signed(ALICE), USD, 1_000));
		});
	}

	/// #26's fall wait: a liquidation's health reads a gated collateral divided by its gate.
	/// ALICE (100 BTC, 5,000 USD of debt) at BTC 60: health 0.9. A gate of 0.85 (a shallow
	/// fall's bound) reads her at 4,500 / 0.85 = 5,294 of liquidation value: she waits; one of
	/// 0.95 (a deep fall's) reads 4,736: liquidatable. The factor, and everything sized from
	/// it, stays at the price; strict health never reads a gate.
	#[test]
	fn a_falls_gate_lets_a_marginal_position_wait_and_only_defers() {
		ExtBuilder::default().build_and_execute(|| {
			alice_borrows();
			MockOracle::set(BTC, FixedU128::from_u32(60));
			MockOracle::gate(BTC, Some(fx(85, 100)));
			let h = Lending::liquidation_health(&ALICE, &USD, &BTC).unwrap();
			assert_eq!((h.factor, h.liquidation_value, h.waits), (fx(9, 10), 4_500, true));
			assert!(!h.is_liquidatable());
			assert!(Lending::grace_health(&ALICE).unwrap().waits);
			let strict = Lending::account_health(&ALICE).unwrap();
			assert!(!strict.waits && strict.is_liquidatable());
			MockOracle::gate(BTC, Some(fx(95, 100)));
			let h = Lending::liquidation_health(&ALICE, &USD, &BTC).unwrap();
			assert_eq!((h.factor, h.waits), (fx(9, 10), false));
			assert!(h.is_liquidatable());
		});
	}

	/// Found by review: a debt in the gated asset is divided by the gate too (a looped
	/// position nets), which lowered the health of an account net short of it: BOB, 10,000
	/// USD and 1 BTC pledged, 80 BTC owed at 100 (health 8,575 / 8,000 = 1.07), read through
	/// a BTC gate of 0.9 at 8,583 / 8,889 = 0.97, was liquidatable while healthy. The gate now
	/// only defers: an account not below 1 at the price never is.
	#[test]
	fn a_falls_gate_never_makes_a_healthy_account_liquidatable() {
		ExtBuilder::default().build_and_execute(|| {
			assert_ok!(Lending::supply(signed(CHARLIE), BTC, 1_000));
			assert_ok!(Lending::supply(signed(BOB), USD, 10_000));
			assert_ok!(Lending::supply(signed(BOB), BTC, 1));
			assert_ok!(Lending::borrow(signed(BOB), BTC, 80));
			MockOracle::gate(BTC, Some(fx(9, 10)));
			let h = Lending::liquidation_health(&BOB, &BTC, &USD).unwrap();
			assert_eq!((h.liquidation_value, h.debt_value), (8_575, 8_000));
			assert!(h.factor > FixedU128::one() && !h.waits && !h.is_liquidatable());
		});
	}

	#[test]
	fn the_emergency_stops_every_new_borrow_by_name() {
		ExtBuilder::default().build_and_execute(|| {
			alice_has_collateral();
			BreakerEmergency::set(true);
			assert_noop!(Lending::borrow(signed(ALICE), USD, 1_000), Error::<Test>::BorrowsHalted);
			assert_ok!(Lending::supply(signed(ALICE), BTC, 10));
			BreakerEmergency::set(false);
			assert_ok!(Lending::borrow(signed(ALICE), USD, 1_000));
		});
	}
}
