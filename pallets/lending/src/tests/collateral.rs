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
