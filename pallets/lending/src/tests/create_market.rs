use super::*;

#[test]
fn works() {
	ExtBuilder::default().without_markets().build_and_execute(|| {
		assert_ok!(Lending::create_market(RuntimeOrigin::root(), USD, usd_params()));
		assert_eq!(params_of(USD), Some(usd_params()));
		assert_eq!(state(USD), MarketState::new(T0));
		assert_eq!(
			lending_events(),
			vec![Event::MarketCreated { asset: USD, params: usd_params() }]
		);
	})
}

#[test]
fn wrong_origin_is_refused() {
	ExtBuilder::default().without_markets().build_and_execute(|| {
		assert_noop!(
			Lending::create_market(signed(ALICE), USD, usd_params()),
			DispatchError::BadOrigin
		);
	})
}

#[test]
fn existing_market_or_unknown_asset_is_refused() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(
			Lending::create_market(RuntimeOrigin::root(), USD, usd_params()),
			Error::<Test>::MarketAlreadyExists
		);
		assert_noop!(
			Lending::create_market(RuntimeOrigin::root(), 77, usd_params()),
			Error::<Test>::AssetNotFound
		);
	})
}

#[test]
fn invalid_parameters_are_refused_by_name() {
	ExtBuilder::default().without_markets().build_and_execute(|| {
		let cases: Vec<(MarketParams, Error<Test>)> = vec![
			(
				MarketParams { liquidation_threshold: Permill::from_percent(80), ..usd_params() },
				Error::<Test>::ThresholdNotAboveFactor,
			),
			(
				MarketParams { liquidation_threshold: Permill::from_percent(70), ..usd_params() },
				Error::<Test>::ThresholdNotAboveFactor,
			),
			(
				MarketParams { collateral_factor: Permill::zero(), ..usd_params() },
				Error::<Test>::InvalidCollateralFactor,
			),
			(
				MarketParams {
					collateral_enabled: false,
					collateral_factor: Permill::from_percent(90),
					..usd_params()
				},
				Error::<Test>::InvalidCollateralFactor,
			),
			(
				// 90% × 1.12 = 1.008: seizing would take more than the collateral.
				MarketParams {
					liquidation_threshold: Permill::from_percent(90),
					liquidation_bonus: Permill::from_percent(12),
					..usd_params()
				},
				Error::<Test>::LiquidationBonusTooHigh,
			),
			(
				MarketParams { close_factor: Permill::zero(), ..usd_params() },
				Error::<Test>::InvalidCloseFactor,
			),
			(
				MarketParams { reserve_factor: Permill::one(), ..usd_params() },
				Error::<Test>::InvalidReserveFactor,
			),
			(
				MarketParams {
					rate_model: RateModel { kink: fx(150, 100), ..usd_params().rate_model },
					..usd_params()
				},
				Error::<Test>::InvalidKink,
			),
			(
				MarketParams {
					rate_model: RateModel { kink: FixedU128::zero(), ..usd_params().rate_model },
					..usd_params()
				},
				Error::<Test>::InvalidKink,
			),
			(
				// 0.04 + 20 at full utilisation > MaxBorrowRate (10).
				MarketParams {
					rate_model: RateModel {
						slope2: FixedU128::from_u32(20),
						..usd_params().rate_model
					},
					..usd_params()
				},
				Error::<Test>::BorrowRateTooHigh,
			),
		];
		for (params, error) in cases {
			assert_noop!(Lending::create_market(RuntimeOrigin::root(), USD, params), error);
		}
		// 85% × 1.17 = 0.9945 < 1 is fine.
		assert_ok!(Lending::create_market(
			RuntimeOrigin::root(),
			USD,
			MarketParams { liquidation_bonus: Permill::from_percent(17), ..usd_params() }
		));
	})
}
