//! Guard rails: a bounded change (the risk track, [`STEWARD`] here) moves each value by at most
//! its step and waits the interval; root is bounded by validation only; the guardian pauses.

use super::*;

fn steward() -> RuntimeOrigin {
	signed(STEWARD)
}

/// BTC's market with finite caps and a minimum borrow value (set by root), at block 100.
fn bounded_btc() -> MarketParams {
	System::set_block_number(100);
	let p = MarketParams {
		supply_cap: 1_000_000,
		borrow_cap: 500_000,
		min_borrow_value: 100,
		..btc_params()
	};
	assert_ok!(Lending::update_market(RuntimeOrigin::root(), BTC, p));
	System::set_block_number(100 + 10);
	p
}

#[test]
fn each_value_moves_by_at_most_its_step() {
	ExtBuilder::default().build_and_execute(|| {
		let p = bounded_btc();
		let pm = Permill::from_parts;
		let refused: [(MarketParams, Error<Test>); 14] = [
			// 70% → 75.0001%: one part per million beyond the 5 points.
			(
				MarketParams {
					collateral_factor: pm(750_001),
					liquidation_threshold: pm(800_000),
					..p
				},
				Error::<Test>::CollateralFactorStepTooLarge,
			),
			(
				MarketParams { collateral_factor: pm(649_999), ..p },
				Error::<Test>::CollateralFactorStepTooLarge,
			),
			(
				MarketParams { liquidation_threshold: pm(800_001), ..p },
				Error::<Test>::LiquidationThresholdStepTooLarge,
			),
			(
				MarketParams { liquidation_bonus: pm(120_001), ..p },
				Error::<Test>::LiquidationBonusStepTooLarge,
			),
			(
				MarketParams { close_factor: pm(600_001), ..p },
				Error::<Test>::CloseFactorStepTooLarge,
			),
			(
				MarketParams { reserve_factor: pm(99_999), ..p },
				Error::<Test>::ReserveFactorStepTooLarge,
			),
			(
				MarketParams {
					rate_model: RateModel {
						base: fx(11, 100) + FixedU128::from_inner(1),
						..p.rate_model
					},
					..p
				},
				Error::<Test>::RateModelStepTooLarge,
			),
			(
				MarketParams {
					rate_model: RateModel {
						slope1: fx(17, 100) + FixedU128::from_inner(1),
						..p.rate_model
					},
					..p
				},
				Error::<Test>::RateModelStepTooLarge,
			),
			(
				MarketParams {
					rate_model: RateModel { slope2: fx(289, 100), ..p.rate_model },
					..p
				},
				Error::<Test>::RateModelStepTooLarge,
			),
			(
				MarketParams { rate_model: RateModel { kink: fx(76, 100), ..p.rate_model }, ..p },
				Error::<Test>::RateModelStepTooLarge,
			),
			(MarketParams { supply_cap: 2_000_001, ..p }, Error::<Test>::CapStepTooLarge),
			(MarketParams { borrow_cap: 249_999, ..p }, Error::<Test>::CapStepTooLarge),
			(
				MarketParams { min_borrow_value: 201, ..p },
				Error::<Test>::MinBorrowValueStepTooLarge,
			),
			(MarketParams { min_borrow_value: 0, ..p }, Error::<Test>::MinBorrowValueStepTooLarge),
		];
		for (params, error) in refused {
			assert_noop!(Lending::update_market(steward(), BTC, params), error);
		}
		// Every value at its step at once is accepted.
		let stepped = MarketParams {
			collateral_factor: pm(750_000),
			liquidation_threshold: pm(800_000),
			liquidation_bonus: pm(120_000),
			close_factor: pm(600_000),
			reserve_factor: pm(100_000),
			supply_cap: 2_000_000,
			borrow_cap: 250_000,
			min_borrow_value: 200,
			rate_model: RateModel {
				base: fx(11, 100),
				slope1: fx(17, 100),
				kink: fx(75, 100),
				slope2: fx(290, 100),
			},
			..p
		};
		assert_ok!(Lending::update_market(steward(), BTC, stepped));
		assert_eq!(params_of(BTC), Some(stepped));
		assert_eq!(LastRiskChange::<Test>::get(BTC), Some(110));
		System::assert_last_event(
			Event::<Test>::MarketUpdated { asset: BTC, params: stepped }.into(),
		);
	})
}

#[test]
fn a_larger_move_takes_several_referenda_spaced_by_the_interval() {
	ExtBuilder::default().build_and_execute(|| {
		let p = bounded_btc();
		let cf = |c| MarketParams { collateral_factor: Permill::from_percent(c), ..p };
		assert_noop!(
			Lending::update_market(steward(), BTC, cf(60)),
			Error::<Test>::CollateralFactorStepTooLarge
		);
		assert_ok!(Lending::update_market(steward(), BTC, cf(65)));
		System::set_block_number(110 + 9);
		assert_noop!(Lending::update_market(steward(), BTC, cf(60)), Error::<Test>::ChangeTooSoon);
		System::set_block_number(110 + 10);
		assert_ok!(Lending::update_market(steward(), BTC, cf(60)));
		assert_eq!(params_of(BTC).map(|m| m.collateral_factor), Some(Permill::from_percent(60)));
	})
}

#[test]
fn root_is_bounded_by_validation_only_and_restarts_the_interval() {
	ExtBuilder::default().build_and_execute(|| {
		let p = bounded_btc();
		// Root moves 70% → 40% at once, right after its own change.
		let far = MarketParams { collateral_factor: Permill::from_percent(40), ..p };
		assert_ok!(Lending::update_market(RuntimeOrigin::root(), BTC, far));
		assert_eq!(LastRiskChange::<Test>::get(BTC), Some(110));
		// The risk track then waits the interval from root's change.
		let next = MarketParams { collateral_factor: Permill::from_percent(45), ..p };
		assert_noop!(Lending::update_market(steward(), BTC, next), Error::<Test>::ChangeTooSoon);
		// Absolute bounds hold for both.
		System::set_block_number(200);
		let bad = MarketParams { liquidation_threshold: Permill::from_percent(40), ..far };
		assert_noop!(
			Lending::update_market(steward(), BTC, bad),
			Error::<Test>::ThresholdNotAboveFactor
		);
		assert_noop!(
			Lending::update_market(RuntimeOrigin::root(), BTC, bad),
			Error::<Test>::ThresholdNotAboveFactor
		);
	})
}

#[test]
fn the_status_is_not_update_markets_and_a_stale_proposal_does_not_unpause() {
	ExtBuilder::default().build_and_execute(|| {
		let p = bounded_btc();
		// A proposal drafted while the market was active, enacted after a pause.
		let stale = MarketParams { reserve_factor: Permill::from_percent(25), ..p };
		assert_ok!(Lending::pause_market(signed(GUARDIAN), BTC));
		assert_noop!(Lending::update_market(steward(), BTC, stale), Error::<Test>::StatusChanged);
		assert_noop!(
			Lending::update_market(RuntimeOrigin::root(), BTC, stale),
			Error::<Test>::StatusChanged
		);
		// A risk change made while paused keeps it paused; resuming is not a risk change.
		let paused = MarketParams { status: MarketStatus::Paused, ..stale };
		assert_ok!(Lending::update_market(steward(), BTC, paused));
		System::set_block_number(111);
		assert_ok!(Lending::resume_market(steward(), BTC));
		assert_noop!(Lending::resume_market(steward(), BTC), Error::<Test>::StatusUnchanged);
		assert_eq!(params_of(BTC), Some(stale));
		assert_eq!(LastRiskChange::<Test>::get(BTC), Some(110));
	})
}

#[test]
fn the_risk_track_may_turn_borrowing_off_not_on_nor_open_markets_or_move_reserves() {
	ExtBuilder::default().build_and_execute(|| {
		let p = bounded_btc();
		let off = MarketParams { borrow_enabled: false, ..p };
		assert_ok!(Lending::update_market(steward(), BTC, off));
		System::set_block_number(200);
		assert_noop!(Lending::update_market(steward(), BTC, p), Error::<Test>::RootOnly);
		assert_ok!(Lending::update_market(RuntimeOrigin::root(), BTC, p));
		assert_noop!(
			Lending::create_market(steward(), NO_MARKET, usd_params()),
			Error::<Test>::RootOnly
		);
		assert_noop!(Lending::transfer_reserves(steward(), USD, 1, ALICE), Error::<Test>::RootOnly);
	})
}

#[test]
fn the_guardian_pauses_at_once_and_only_governance_unpauses() {
	ExtBuilder::default().build_and_execute(|| {
		alice_borrows();
		assert_noop!(Lending::pause_market(signed(ALICE), USD), DispatchError::BadOrigin);
		assert_noop!(
			Lending::pause_market(signed(GUARDIAN), NO_MARKET),
			Error::<Test>::MarketNotFound
		);
		assert_ok!(Lending::pause_market(signed(GUARDIAN), USD));
		System::assert_last_event(Event::<Test>::MarketPaused { asset: USD }.into());
		assert_eq!(params_of(USD).map(|m| m.status), Some(MarketStatus::Paused));
		assert_noop!(Lending::pause_market(signed(GUARDIAN), USD), Error::<Test>::StatusUnchanged);
		assert_noop!(Lending::supply(signed(CHARLIE), USD, 10), Error::<Test>::MarketPaused);
		// Leaving stays open.
		assert_ok!(Lending::repay(signed(ALICE), USD, Amount::Exact(1_000)));
		// The guardian cannot resume (nor change anything else).
		assert_noop!(Lending::resume_market(signed(GUARDIAN), USD), DispatchError::BadOrigin);
		assert_noop!(
			Lending::update_market(signed(GUARDIAN), USD, usd_params()),
			DispatchError::BadOrigin
		);
		// Governance can, on either track; and may pause too.
		assert_ok!(Lending::resume_market(steward(), USD));
		assert_ok!(Lending::supply(signed(CHARLIE), USD, 10));
		assert_ok!(Lending::pause_market(RuntimeOrigin::root(), USD));
		assert_ok!(Lending::pause_market(steward(), BTC));
	})
}
