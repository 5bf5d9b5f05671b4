use super::*;

#[test]
fn works() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(Lending::supply(signed(ALICE), USD, 1_000));
		assert_eq!(balance(USD, ALICE), START - 1_000);
		// Beside the reserve floor (1) GOV paid.
		assert_eq!(balance(USD, pallet_account()), 1_000 + 1);
		assert_eq!(
			supply_of(ALICE, USD),
			Some(SupplyPosition { asset: USD, scaled: 1_000, collateral: true })
		);
		assert_eq!(state(USD).total_scaled_supply, 1_000);
		assert_ok!(Lending::supply(signed(ALICE), USD, 500));
		assert_eq!(supply_of(ALICE, USD).unwrap().scaled, 1_500);
		assert_eq!(state(USD).total_scaled_supply, 1_500);
		assert_eq!(
			lending_events(),
			vec![
				Event::Supplied { who: ALICE, asset: USD, amount: 1_000, shares: 1_000 },
				Event::Supplied { who: ALICE, asset: USD, amount: 500, shares: 500 },
			]
		);
	})
}

#[test]
fn after_interest_mints_fewer_shares_rounded_down() {
	ExtBuilder::default().build_and_execute(|| {
		alice_borrows();
		advance(MILLIS_PER_YEAR as u64, true);
		assert_ok!(Lending::supply(signed(CHARLIE), USD, 1_000));
		// Suppliers earned 125 - 12 = 113 on 10,000: index 1.0113; 1000 / 1.0113 = 988.8.
		assert_eq!(state(USD).supply_index, FixedU128::one() + fx(113, 10_000));
		assert_eq!(supply_of(CHARLIE, USD).unwrap().scaled, 988);
		// One unit is worth less than a share now: no shares, refused.
		assert_noop!(Lending::supply(signed(CHARLIE), USD, 1), Error::<Test>::ZeroAmount);
	})
}

#[test]
fn refusals() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(Lending::supply(signed(ALICE), USD, 0), Error::<Test>::ZeroAmount);
		assert_noop!(Lending::supply(signed(ALICE), NO_MARKET, 10), Error::<Test>::MarketNotFound);
		assert_noop!(Lending::supply(signed(ALICE), USD, START + 1), TokenError::FundsUnavailable);
		assert_ok!(Lending::supply(signed(BOB), USD, 1));
		assert_noop!(Lending::supply(signed(ALICE), USD, u128::MAX), Error::<Test>::Overflow);
		assert_ok!(Lending::update_market(
			RuntimeOrigin::root(),
			USD,
			MarketParams { supply_cap: 1_000, ..usd_params() }
		));
		assert_ok!(Lending::supply(signed(ALICE), USD, 999));
		assert_noop!(Lending::supply(signed(ALICE), USD, 1), Error::<Test>::SupplyCapExceeded);
	})
}

#[test]
fn at_most_max_assets_per_account() {
	ExtBuilder::default().build_and_execute(|| {
		for id in [10, 11] {
			assert_ok!(Assets::force_create(RuntimeOrigin::root(), id, GOV, true, 1));
			assert_ok!(Assets::mint(signed(GOV), id, ALICE, 1_000));
			assert_ok!(Lending::create_market(RuntimeOrigin::root(), id, usd_params()));
		}
		for asset in [USD, BTC, MEME, 10] {
			assert_ok!(Lending::supply(signed(ALICE), asset, 100));
		}
		assert_eq!(Positions::<Test>::get(ALICE).unwrap().supplies.len() as u32, MAX_ASSETS);
		assert_noop!(Lending::supply(signed(ALICE), 11, 100), Error::<Test>::TooManyPositions);
	})
}
