use super::*;
use frame_support::traits::Hooks;

#[test]
fn constants_are_sane() {
	ExtBuilder::default().build_and_execute(|| {
		<Lending as Hooks<u64>>::integrity_test();
	})
}

#[test]
fn try_state_catches_a_broken_total() {
	ExtBuilder::default().build().execute_with(|| {
		assert_ok!(Lending::supply(signed(ALICE), USD, 1_000));
		Markets::<Test>::mutate(USD, |m| m.as_mut().unwrap().state.total_scaled_supply += 1);
		assert!(Lending::do_try_state().is_err());
	})
}
