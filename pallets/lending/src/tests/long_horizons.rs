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
