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
