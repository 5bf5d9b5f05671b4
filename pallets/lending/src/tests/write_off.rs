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
