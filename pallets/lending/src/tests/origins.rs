use super::*;

#[test]
fn account_calls_need_a_signed_origin() {
	ExtBuilder::default().build_and_execute(|| {
		alice_borrows();
		for origin in [RuntimeOrigin::root(), RuntimeOrigin::none()] {
			assert_noop!(Lending::supply(origin.clone(), USD, 1), DispatchError::BadOrigin);
			assert_noop!(
				Lending::withdraw(origin.clone(), BTC, Amount::All),
				DispatchError::BadOrigin
			);
			assert_noop!(Lending::borrow(origin.clone(), USD, 1), DispatchError::BadOrigin);
			assert_noop!(
				Lending::repay(origin.clone(), USD, Amount::All),
				DispatchError::BadOrigin
			);
			assert_noop!(
				Lending::repay_on_behalf(origin.clone(), ALICE, USD, Amount::All),
				DispatchError::BadOrigin
			);
			assert_noop!(Lending::enable_collateral(origin.clone(), BTC), DispatchError::BadOrigin);
			assert_noop!(Lending::disable_collateral(origin, BTC), DispatchError::BadOrigin);
		}
	})
}
