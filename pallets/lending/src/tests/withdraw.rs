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
