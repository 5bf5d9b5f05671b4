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
