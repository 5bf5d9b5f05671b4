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
