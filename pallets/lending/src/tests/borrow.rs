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
		assert_noop!(Lending::borrow(signed(ALICE), NO_MARKET, 1), Error::<Test>::MarketNotFound);
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
		assert_noop!(Lending::borrow(signed(ALICE), USD, 100), Error::<Test>::BorrowCapExceeded);
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
		assert_noop!(Lending::borrow(signed(ALICE), MEME, 801), Error::<Test>::BorrowLimitExceeded);
	})
}
