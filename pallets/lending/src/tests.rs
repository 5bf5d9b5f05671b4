//! Tests of the lending pallet, one module per call, plus interest, rounding and a property
//! test over random sequences of calls.

use crate::{math::MILLIS_PER_YEAR, mock::*, Error, Event, *};
use frame_support::{assert_noop, assert_ok};
use sp_arithmetic::{
	traits::{One, Saturating, Zero},
	FixedU128, Permill,
};
use sp_runtime::{DispatchError, TokenError};

fn signed(who: AccountId) -> RuntimeOrigin {
	RuntimeOrigin::signed(who)
}

fn state(asset: AssetId) -> MarketState {
	MarketStates::<Test>::get(asset).unwrap()
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
			assert_eq!(Markets::<Test>::get(USD), Some(usd_params()));
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
			assert_eq!(Markets::<Test>::get(USD), Some(new));
			// 5,000 of 10,000 borrowed: 50% utilisation, rate 4% × 50/80 = 2.5%: 125 interest,
			// 10% (the old reserve factor) of it to reserves.
			let events = lending_events();
			assert_eq!(events.len(), 2);
			assert!(matches!(
				events[0],
				Event::InterestAccrued { asset: USD, interest: 125, to_reserves: 12, .. }
			));
			assert_eq!(events[1], Event::MarketUpdated { asset: USD, params: new });
			assert_eq!(state(USD).reserves, 12);
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
			assert_ok!(Lending::update_market(
				RuntimeOrigin::root(),
				USD,
				MarketParams { status: MarketStatus::Paused, ..usd_params() }
			));
			assert_noop!(Lending::supply(signed(CHARLIE), USD, 10), Error::<Test>::MarketPaused);
			assert_noop!(Lending::borrow(signed(ALICE), USD, 10), Error::<Test>::MarketPaused);
			assert_ok!(Lending::repay(signed(ALICE), USD, Amount::Exact(1_000)));
			assert_ok!(Lending::withdraw(signed(BOB), USD, Amount::Exact(1_000)));
			assert_ok!(Lending::update_market(RuntimeOrigin::root(), USD, usd_params()));
			assert_ok!(Lending::supply(signed(CHARLIE), USD, 10));
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
			assert_eq!(balance(USD, pallet_account()), 1_000);
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
				assert_ok!(Assets::force_create(RuntimeOrigin::root(), id, ALICE, true, 1));
				assert_ok!(Assets::mint(signed(ALICE), id, ALICE, 1_000));
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
			assert_eq!(balance(USD, pallet_account()), 0);
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
			assert_eq!(balance(USD, pallet_account()), 5_000);
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
			assert_eq!(balance(USD, pallet_account()), 10_000);
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
			assert_eq!(state(USD).reserves, 12);
			// What is left in the market is exactly the reserves.
			assert_eq!(balance(USD, pallet_account()), 12);
			let info = Lending::market_info(&USD).unwrap();
			assert_eq!((info.total_supplied, info.total_borrowed, info.reserves), (0, 0, 12));
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
			let u = (borrows * E18 / (supplies + self.reserves)).min(E18);
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
				reserves: 0,
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
			// Repaying one unit burns no share (rounded down) once the index is above 1.
			let shares = debt_of(ALICE, USD).unwrap().scaled;
			assert_ok!(Lending::repay(signed(ALICE), USD, Amount::Exact(1)));
			assert_eq!(debt_of(ALICE, USD).unwrap().scaled, shares);
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

	#[test]
	fn seize_collateral_moves_it_out_of_the_market() {
		ExtBuilder::default().build_and_execute(|| {
			alice_borrows();
			assert_ok!(<Lending as LendingPositions<_>>::seize_collateral(&ALICE, &BTC, 30, &DAVE));
			assert_eq!(supply_of(ALICE, BTC).unwrap().scaled, 70);
			assert_eq!(balance(BTC, DAVE), START + 30);
			assert_eq!(state(BTC).total_scaled_supply, 70);
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
			// More than there is changes nothing.
			assert_noop!(
				<Lending as LendingPositions<_>>::seize_collateral(&ALICE, &BTC, 71, &DAVE),
				Error::<Test>::InsufficientSupply
			);
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
				vec![
					PositionInfo { asset: BTC, supplied: 100, collateral: true, borrowed: 0 },
					PositionInfo { asset: USD, supplied: 0, collateral: false, borrowed: 5_000 },
				]
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
			MarketStates::<Test>::mutate(USD, |s| s.as_mut().unwrap().total_scaled_supply += 1);
			assert!(Lending::do_try_state().is_err());
		})
	}
}

mod property {
	use super::*;
	use proptest::prelude::*;

	#[derive(Clone, Debug)]
	enum Op {
		Supply(usize, usize, u128),
		Withdraw(usize, usize, Option<u128>),
		Borrow(usize, usize, u128),
		Repay(usize, usize, usize, Option<u128>),
		Collateral(usize, usize, bool),
		Price(usize, u32),
		Advance(u64),
	}

	const WHO: [AccountId; 3] = [ALICE, BOB, CHARLIE];
	const WHAT: [AssetId; 3] = [USD, BTC, MEME];

	fn amount() -> impl Strategy<Value = u128> {
		prop_oneof![1u128..10_000, Just(0u128), Just(u128::MAX), 10_000u128..1_000_000_000]
	}

	fn op() -> impl Strategy<Value = Op> {
		prop_oneof![
			(0..3usize, 0..3usize, amount()).prop_map(|(w, a, x)| Op::Supply(w, a, x)),
			(0..3usize, 0..3usize, prop::option::of(amount()))
				.prop_map(|(w, a, x)| Op::Withdraw(w, a, x)),
			(0..3usize, 0..3usize, amount()).prop_map(|(w, a, x)| Op::Borrow(w, a, x)),
			(0..3usize, 0..3usize, 0..3usize, prop::option::of(amount()))
				.prop_map(|(p, w, a, x)| Op::Repay(p, w, a, x)),
			(0..3usize, 0..3usize, any::<bool>()).prop_map(|(w, a, e)| Op::Collateral(w, a, e)),
			// Price in percent of its start: 10% to 300%.
			(0..3usize, 10u32..300).prop_map(|(a, p)| Op::Price(a, p)),
			(1u64..30 * 24 * 3_600_000).prop_map(Op::Advance),
		]
	}

	fn start_price(asset: AssetId) -> FixedU128 {
		match asset {
			USD => FixedU128::one(),
			BTC => FixedU128::from_u32(100),
			_ => fx(1, 2),
		}
	}

	fn exact(x: Option<u128>) -> Amount {
		x.map(Amount::Exact).unwrap_or(Amount::All)
	}

	proptest! {
		#![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

		#[test]
		fn invariants_hold_and_nothing_panics(ops in prop::collection::vec(op(), 1..60)) {
			ExtBuilder::default().build_and_execute(|| {
				let mut indexes: Vec<(FixedU128, FixedU128)> =
					WHAT.iter().map(|a| (state(*a).supply_index, state(*a).borrow_index)).collect();
				for op in ops {
					// Results may be errors; they must not panic, and errors change nothing.
					let _ = match op {
						Op::Supply(w, a, x) => Lending::supply(signed(WHO[w]), WHAT[a], x),
						Op::Withdraw(w, a, x) =>
							Lending::withdraw(signed(WHO[w]), WHAT[a], exact(x)),
						Op::Borrow(w, a, x) => Lending::borrow(signed(WHO[w]), WHAT[a], x),
						Op::Repay(p, w, a, x) =>
							Lending::repay_on_behalf(signed(WHO[p]), WHO[w], WHAT[a], exact(x)),
						Op::Collateral(w, a, true) =>
							Lending::enable_collateral(signed(WHO[w]), WHAT[a]),
						Op::Collateral(w, a, false) =>
							Lending::disable_collateral(signed(WHO[w]), WHAT[a]),
						Op::Price(a, p) => {
							MockOracle::set(
								WHAT[a],
								start_price(WHAT[a]).saturating_mul(fx(p as u128, 100)),
							);
							Ok(())
						},
						Op::Advance(ms) => {
							advance(ms, true);
							Ok(())
						},
					};
					Lending::do_try_state().expect("invariants hold after every step");
					for (i, a) in WHAT.iter().enumerate() {
						let s = state(*a);
						assert!(s.supply_index >= indexes[i].0, "supply index decreased");
						assert!(s.borrow_index >= indexes[i].1, "borrow index decreased");
						indexes[i] = (s.supply_index, s.borrow_index);
					}
				}
			});
		}
	}
}
