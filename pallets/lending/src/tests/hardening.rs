//! The review findings of the hardening issue, each shown failing before its fix.

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
		assert_noop!(Lending::borrow(signed(ALICE), USD, 1), Error::<Test>::BorrowLimitExceeded);
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
		assert_noop!(Lending::liquidation_health(&ALICE, &USD, &MEME), Error::<Test>::PriceStale);
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
		assert_noop!(Lending::liquidation_health(&ALICE, &USD, &BTC), Error::<Test>::PriceStale);
		MockOracle::remove(BTC);
		MockOracle::set(USD, FixedU128::one());
		assert_noop!(Lending::liquidation_health(&ALICE, &USD, &BTC), Error::<Test>::PriceMissing);
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
		assert_noop!(Lending::liquidation_health(&ALICE, &USD, &BTC), Error::<Test>::PriceStale);
		MockOracle::remove(MEME);
		assert_noop!(Lending::liquidation_health(&ALICE, &USD, &BTC), Error::<Test>::PriceMissing);
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
		assert_eq!(view.held, <Lending as LendingPositions<_>>::supplied(&ALICE, &BTC).unwrap());
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
