use super::*;

#[test]
fn accrues_under_the_old_parameters_then_replaces_them() {
	ExtBuilder::default().build_and_execute(|| {
		alice_borrows();
		advance(MILLIS_PER_YEAR as u64, true);
		let new = MarketParams { reserve_factor: Permill::from_percent(50), ..usd_params() };
		assert_ok!(Lending::update_market(RuntimeOrigin::root(), USD, new));
		assert_eq!(params_of(USD), Some(new));
		// 5,000 of 10,000 borrowed: 50% utilisation, rate 4% × 50/80 = 2.5%: 125 interest,
		// 10% (the old reserve factor) of it to reserves.
		let events = lending_events();
		assert_eq!(events.len(), 2);
		assert!(matches!(
			events[0],
			Event::InterestAccrued { asset: USD, interest: 125, to_reserves: 12, .. }
		));
		assert_eq!(events[1], Event::MarketUpdated { asset: USD, params: new });
		assert_eq!(state(USD).reserves, 1 + 12);
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
		assert_ok!(Lending::pause_market(RuntimeOrigin::root(), USD));
		assert_noop!(Lending::supply(signed(CHARLIE), USD, 10), Error::<Test>::MarketPaused);
		assert_noop!(Lending::borrow(signed(ALICE), USD, 10), Error::<Test>::MarketPaused);
		assert_ok!(Lending::repay(signed(ALICE), USD, Amount::Exact(1_000)));
		assert_ok!(Lending::withdraw(signed(BOB), USD, Amount::Exact(1_000)));
		assert_ok!(Lending::resume_market(RuntimeOrigin::root(), USD));
		System::assert_last_event(Event::<Test>::MarketResumed { asset: USD }.into());
		assert_ok!(Lending::supply(signed(CHARLIE), USD, 10));
	})
}
