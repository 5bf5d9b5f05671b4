//! Soft pre-liquidation: opting in within the caps, a keeper's step inside the band at the
//! borrower's bonus (exact balances), the step scaled by the depth in the band, every refusal by
//! name, the caps binding terms set before them, the band offered by volatility.
//!
//! Alice: 10,000 BTC at 100 (liquidation threshold 75%, bonus 10%: a liquidation's discount at
//! health 1 is 5%) backing USD debt.

use super::*;

fn terms(band: FixedU128, close_percent: u32, bonus_percent: u32) -> PreLiquidationTerms {
	PreLiquidationTerms {
		band,
		close_share: Permill::from_percent(close_percent),
		bonus: Permill::from_percent(bonus_percent),
	}
}

/// Band 1.5, a quarter of a debt a step (at health 1), a 2% bonus.
fn alice_opts_in() -> PreLiquidationTerms {
	let t = terms(fx(150, 100), 25, 2);
	assert_ok!(Liquidation::set_pre_liquidation(RuntimeOrigin::signed(ALICE), Some(t)));
	t
}

/// `pre_liquidate` of Alice's USD debt against her BTC by `who`, any bonus.
fn pre(
	who: AccountId,
	debt: AssetId,
	collateral: AssetId,
	max_repay: Amount,
) -> frame_support::dispatch::DispatchResultWithPostInfo {
	Liquidation::pre_liquidate(
		RuntimeOrigin::signed(who),
		ALICE,
		debt,
		collateral,
		max_repay,
		Permill::zero(),
	)
}

fn bob_pre_liquidates(max_repay: Amount) -> frame_support::dispatch::DispatchResultWithPostInfo {
	pre(BOB, USD, BTC, max_repay)
}

#[test]
fn opting_in_is_within_the_caps_and_every_refusal_is_named() {
	ExtBuilder::default().build_and_execute(|| {
		// Only a borrower opts in.
		assert_noop!(
			Liquidation::set_pre_liquidation(
				RuntimeOrigin::signed(ALICE),
				Some(terms(fx(110, 100), 25, 2))
			),
			Error::<Test>::NoDebt
		);
		alice_borrows(10_000, 600_000);
		let who = RuntimeOrigin::signed(ALICE);
		// The runtime's caps: band 1.5, close share 25%, bonus 3%.
		let refused = [
			(terms(FixedU128::one(), 25, 2), Error::<Test>::BandOutOfRange),
			(terms(fx(151, 100), 25, 2), Error::<Test>::BandOutOfRange),
			(terms(fx(110, 100), 0, 2), Error::<Test>::CloseShareOutOfRange),
			(terms(fx(110, 100), 26, 2), Error::<Test>::CloseShareOutOfRange),
			(terms(fx(110, 100), 25, 0), Error::<Test>::PreLiquidationBonusOutOfRange),
			(terms(fx(110, 100), 25, 4), Error::<Test>::PreLiquidationBonusOutOfRange),
		];
		for (t, error) in refused {
			assert_noop!(Liquidation::set_pre_liquidation(who.clone(), Some(t)), error);
		}
		assert_noop!(
			Liquidation::set_pre_liquidation(who.clone(), None),
			Error::<Test>::NoPreLiquidation
		);
		let t = terms(fx(150, 100), 25, 3);
		assert_ok!(Liquidation::set_pre_liquidation(who.clone(), Some(t)));
		assert_eq!(
			PreLiquidation::<Test>::get(ALICE),
			Some(PreLiquidationEntry { terms: t, last: None })
		);
		assert_eq!(last_event(), Event::PreLiquidationSet { account: ALICE, terms: t });
		assert_ok!(Liquidation::set_pre_liquidation(who, None));
		assert_eq!(PreLiquidation::<Test>::get(ALICE), None);
		assert_eq!(last_event(), Event::PreLiquidationCleared { account: ALICE });
	});
}

#[test]
fn a_keeper_steps_in_inside_the_band_at_the_borrowers_bonus() {
	ExtBuilder::default().build_and_execute(|| {
		// Health 750,000 / 600,000 = 1.25: half way into the band (1.5 to 1).
		alice_borrows(10_000, 600_000);
		alice_opts_in();
		let before = health(ALICE);
		assert_eq!(before, fx(125, 100));
		let bob_usd = balance(USD, BOB);
		// The keeper's bounds: a bonus below its minimum, a cap below half the step.
		assert_noop!(
			Liquidation::pre_liquidate(
				RuntimeOrigin::signed(BOB),
				ALICE,
				USD,
				BTC,
				Amount::All,
				Permill::from_percent(3)
			),
			Error::<Test>::BonusBelowMinimum
		);
		assert_noop!(bob_pre_liquidates(Amount::Exact(37_499)), Error::<Test>::StepTooSmall);
		System::reset_events();

		assert_ok!(bob_pre_liquidates(Amount::All));
		// Half way in: half the quarter, 75,000 USD, for 75,000 × 1.02 / 100 = 765 BTC; of the
		// bonus (15 BTC) the protocol's 10%, rounded up: 2 BTC.
		assert_eq!(debt(ALICE, USD), 525_000);
		assert_eq!(supplied(ALICE, BTC), 10_000 - 765);
		assert_eq!(balance(USD, BOB), bob_usd - 75_000);
		assert_eq!(supplied(BOB, BTC), 763);
		assert_eq!(supplied(insurance(), BTC), 2);
		let after = health(ALICE);
		// 9,235 × 100 × 0.75 / 525,000 = 1.3193 (rounded down): still in the band, less deep.
		assert_eq!(after, FixedU128::from_inner(9_235 * 75 * 1_000_000_000_000_000_000 / 525_000));
		assert_eq!(
			last_event(),
			Event::PreLiquidated {
				borrower: ALICE,
				keeper: BOB,
				debt_asset: USD,
				collateral_asset: BTC,
				repaid: 75_000,
				seized: 763,
				protocol_fee: 2,
				bonus: Permill::from_percent(2),
				health_before: before,
				health_after: after,
			}
		);
		assert_eq!(PreLiquidation::<Test>::get(ALICE).unwrap().last, Some(1));
		// Once a block.
		assert_noop!(bob_pre_liquidates(Amount::All), Error::<Test>::PreLiquidatedThisBlock);
		// The next block, a smaller step (less deep): 131,250 × (1.5 − 1.3193) / 0.5 ≈ 47,437.
		System::set_block_number(2);
		assert_ok!(bob_pre_liquidates(Amount::All));
		let second = 525_000 - debt(ALICE, USD);
		assert!((47_000..48_000).contains(&second), "{second}");
		assert!(health(ALICE) > after);
		// Steps until they become too small to leave no dust: each smaller, health rising,
		// never out of the band, never a close.
		let mut last = second;
		let mut steps = 2;
		for block in 3..60 {
			System::set_block_number(block);
			let owed = debt(ALICE, USD);
			let h = health(ALICE);
			if bob_pre_liquidates(Amount::All).is_err() {
				break;
			}
			steps += 1;
			let step = owed - debt(ALICE, USD);
			assert!(step <= last && health(ALICE) > h, "step {step} after {last}");
			last = step;
		}
		assert!(steps > 5, "{steps}");
		assert!(health(ALICE) < fx(150, 100) && debt(ALICE, USD) > 300_000, "{:?}", health(ALICE));
	});
}

#[test]
fn replacing_the_terms_buys_no_second_step_in_the_block() {
	ExtBuilder::default().build_and_execute(|| {
		alice_borrows(10_000, 700_000);
		let t = alice_opts_in();
		assert_ok!(bob_pre_liquidates(Amount::All));
		let owed = debt(ALICE, USD);
		assert!(owed < 700_000);
		assert_ok!(Liquidation::set_pre_liquidation(RuntimeOrigin::signed(ALICE), Some(t)));
		assert_noop!(bob_pre_liquidates(Amount::All), Error::<Test>::PreLiquidatedThisBlock);
		System::set_block_number(2);
		assert_ok!(bob_pre_liquidates(Amount::All));
		assert!(debt(ALICE, USD) < owed);
	});
}

#[test]
fn outside_the_band_or_on_a_bad_call_nothing_changes() {
	ExtBuilder::default().build_and_execute(|| {
		alice_borrows(10_000, 700_000);
		// Not opted in.
		assert_noop!(bob_pre_liquidates(Amount::All), Error::<Test>::NoPreLiquidation);
		alice_opts_in();
		assert_noop!(pre(ALICE, USD, BTC, Amount::All), Error::<Test>::SelfLiquidation);
		assert_noop!(bob_pre_liquidates(Amount::Exact(0)), Error::<Test>::ZeroAmount);
		assert_noop!(pre(BOB, BTC, BTC, Amount::All), Error::<Test>::SameAsset);
		assert_noop!(pre(BOB, NO_MARKET, BTC, Amount::All), Error::<Test>::UnknownMarket);
		// A keeper without the funds: the lending pallet's refusal, nothing moved.
		assert!(pre(9_999, USD, BTC, Amount::All).is_err());
		// While the guard holds, or the feeders dispute, a price of the account's assets.
		for asset in [BTC, USD] {
			MockBreaker::hold(asset);
			assert_noop!(bob_pre_liquidates(Amount::All), Error::<Test>::PriceUnconfirmed);
			MockBreaker::release(asset);
			MockBreaker::dispute(asset);
			assert_noop!(bob_pre_liquidates(Amount::All), Error::<Test>::PriceUnconfirmed);
			MockBreaker::release(asset);
		}
		// BTC at 140: health 1.5, at the band.
		MockOracle::set(BTC, FixedU128::from_u32(140));
		assert_noop!(bob_pre_liquidates(Amount::All), Error::<Test>::AboveBand);
		// BTC at 90: health 0.964, below 1: a liquidation's, not a pre-liquidation's; nor when
		// a fall's gate lets it wait (not liquidatable, not the band's either).
		MockOracle::set(BTC, FixedU128::from_u32(90));
		assert_noop!(bob_pre_liquidates(Amount::All), Error::<Test>::BelowOne);
		MockBreaker::gate(BTC, Some(fx(90, 100)));
		assert!(!<Lending as LendingPositions<AccountId>>::liquidation_health(&ALICE, &USD, &BTC)
			.unwrap()
			.is_liquidatable());
		assert_noop!(bob_pre_liquidates(Amount::All), Error::<Test>::BelowOne);
		MockBreaker::gate(BTC, None);
		// A stale price refuses as a liquidation does.
		MockOracle::set(BTC, FixedU128::from_u32(100));
		Timestamp::set_timestamp(Timestamp::get() + 3_601_000);
		MockOracle::set(USD, FixedU128::one());
		assert_noop!(bob_pre_liquidates(Amount::All), Error::<Test>::PriceStale);
	});
}

#[test]
fn a_step_leaving_dust_is_refused() {
	ExtBuilder::default().build_and_execute(|| {
		// 14 BTC (1,400) backing 980 USD: health 1.071. The step (210) leaves 770 USD of debt,
		// under the 1,000 dust value: the liquidation closes such accounts whole.
		alice_borrows(14, 980);
		alice_opts_in();
		assert_noop!(bob_pre_liquidates(Amount::All), Error::<Test>::LeavesDust);
	});
}

#[test]
fn the_bonus_is_capped_by_the_liquidation_at_one_and_the_caps_bind_earlier_terms() {
	ExtBuilder::default().build_and_execute(|| {
		alice_borrows(10_000, 600_000);
		assert_ok!(Liquidation::set_pre_liquidation(
			RuntimeOrigin::signed(ALICE),
			Some(terms(fx(110, 100), 25, 3))
		));
		// Governance lowers the caps: a 10% close share, a 1% bonus, band 1.05; Alice's terms
		// (25%, 3%, 1.10) are used clamped; at 1.25 she is above the band.
		let rules = PreLiquidationRules {
			max_band: fx(105, 100),
			max_close_share: Permill::from_percent(10),
			max_bonus: Permill::from_percent(1),
			horizon: 86_400,
		};
		assert_ok!(Liquidation::set_pre_liquidation_rules(RuntimeOrigin::root(), rules));
		assert_eq!(last_event(), Event::PreLiquidationRulesSet { rules });
		assert_noop!(bob_pre_liquidates(Amount::All), Error::<Test>::AboveBand);
		// BTC at 82: health 615,000 / 600,000 = 1.025, half way into 1.05.
		MockOracle::set(BTC, FixedU128::from_u32(82));
		assert_ok!(bob_pre_liquidates(Amount::All));
		// Half of 10%: 30,000 USD for 30,000 × 1.01 / 82 = 369 BTC (369.5 rounded down).
		assert_eq!(debt(ALICE, USD), 570_000);
		assert_eq!(supplied(ALICE, BTC), 10_000 - 369);
		let view = Liquidation::pre_liquidation(ALICE);
		assert_eq!(view.terms, Some(terms(fx(105, 100), 10, 1)));
		assert_eq!(view.rules, rules);
	});
}

#[test]
fn the_bonus_is_never_more_than_a_liquidation_pays_at_one() {
	ExtBuilder::default().build_and_execute(|| {
		// USD as collateral pays a liquidation 2.5% at health 1 (bonus 5%, half of it): a 3%
		// bonus asked is used as 2.5%.
		mint(USD, ALICE, 1_000_000);
		assert_ok!(Lending::supply(RuntimeOrigin::signed(ALICE), USD, 1_000_000));
		assert_ok!(Lending::borrow(RuntimeOrigin::signed(ALICE), BTC, 6_800));
		assert_ok!(Liquidation::set_pre_liquidation(
			RuntimeOrigin::signed(ALICE),
			Some(terms(fx(110, 100), 25, 3))
		));
		// BTC at 125: health 850,000 / 850,000 = 1 exactly: in the band, at its deepest.
		MockOracle::set(BTC, FixedU128::from_u32(125));
		assert_ok!(Liquidation::pre_liquidate(
			RuntimeOrigin::signed(BOB),
			ALICE,
			BTC,
			USD,
			Amount::All,
			Permill::from_parts(25_000)
		));
		// The whole quarter, 1,700 BTC (212,500 USD), for 212,500 × 1.025 = 217,812 USD
		// (rounded down).
		assert_eq!(debt(ALICE, BTC), 6_800 - 1_700);
		assert_eq!(supplied(ALICE, USD), 1_000_000 - 217_812);
		assert!(matches!(
			last_event(),
			Event::PreLiquidated { bonus, repaid: 1_700, .. } if bonus == Permill::from_parts(25_000)
		));
	});
}

#[test]
fn governance_sets_the_caps_within_bounds_and_rails() {
	ExtBuilder::default().build_and_execute(|| {
		let r = DefaultPreLiquidationRules::get();
		let refused = [
			(
				PreLiquidationRules { max_band: FixedU128::one(), ..r },
				Error::<Test>::BandOutOfRange,
			),
			(PreLiquidationRules { max_band: fx(201, 100), ..r }, Error::<Test>::BandOutOfRange),
			(
				PreLiquidationRules { max_close_share: Permill::zero(), ..r },
				Error::<Test>::CloseShareOutOfRange,
			),
			(
				PreLiquidationRules { max_close_share: Permill::from_percent(51), ..r },
				Error::<Test>::CloseShareOutOfRange,
			),
			(
				PreLiquidationRules { max_bonus: Permill::from_percent(11), ..r },
				Error::<Test>::PreLiquidationBonusOutOfRange,
			),
			(PreLiquidationRules { horizon: 59, ..r }, Error::<Test>::HorizonOutOfRange),
			(PreLiquidationRules { horizon: 604_801, ..r }, Error::<Test>::HorizonOutOfRange),
		];
		for (rules, error) in refused {
			assert_noop!(
				Liquidation::set_pre_liquidation_rules(RuntimeOrigin::root(), rules),
				error
			);
		}
		let steward = || RuntimeOrigin::signed(STEWARD);
		// A referendum moves a share by at most 5 points: 25% -> 35% is refused, 30% is not.
		assert_noop!(
			Liquidation::set_pre_liquidation_rules(
				steward(),
				PreLiquidationRules { max_close_share: Permill::from_percent(35), ..r }
			),
			Error::<Test>::StepTooLarge
		);
		let stepped = PreLiquidationRules { max_close_share: Permill::from_percent(30), ..r };
		assert_ok!(Liquidation::set_pre_liquidation_rules(steward(), stepped));
		assert_eq!(PreLiquidationCaps::<Test>::get(), stepped);
		assert_noop!(
			Liquidation::set_pre_liquidation_rules(steward(), r),
			Error::<Test>::ChangeTooSoon
		);
		assert_noop!(
			Liquidation::set_pre_liquidation_rules(RuntimeOrigin::signed(ALICE), r),
			DispatchError::BadOrigin
		);
	});
}

#[test]
fn the_band_offered_widens_with_the_collaterals_volatility_and_the_view_matches_the_call() {
	ExtBuilder::default().build_and_execute(|| {
		alice_borrows(10_000, 700_000);
		// Unmeasured: the widest band.
		assert_eq!(Liquidation::pre_liquidation(ALICE).suggested_band, fx(3, 2));
		MockBreaker::set_volatility(BTC, fx(80, 100));
		let btc = Liquidation::pre_liquidation(ALICE).suggested_band;
		assert!(btc > fx(1_107, 1_000) && btc < fx(1_109, 1_000), "{btc:?}");
		// A more volatile collateral beside it widens the account's band.
		mint(MEME, ALICE, 1_000);
		assert_ok!(Lending::supply(RuntimeOrigin::signed(ALICE), MEME, 1_000));
		MockBreaker::set_volatility(MEME, fx(150, 100));
		assert!(Liquidation::pre_liquidation(ALICE).suggested_band > btc);

		// Not opted in: no offer, by name.
		let view = Liquidation::pre_liquidation(ALICE);
		assert_eq!(view.terms, None);
		assert_eq!(view.offer, Err(Error::<Test>::NoPreLiquidation.into()));
		assert_eq!(view.health, Some(health(ALICE)));
		alice_opts_in();
		// The riskiest collateral first (MEME), as `settle` orders them.
		let offer = Liquidation::pre_liquidation(ALICE).offer.expect("an offer");
		assert_eq!((offer.debt_asset, offer.collateral_asset), (USD, MEME));
		let all_meme = supplied(ALICE, MEME);
		assert_ok!(Liquidation::pre_liquidate(
			RuntimeOrigin::signed(BOB),
			ALICE,
			offer.debt_asset,
			offer.collateral_asset,
			Amount::All,
			offer.bonus
		));
		assert_eq!(debt(ALICE, USD), 700_000 - offer.repay);
		assert_eq!(supplied(ALICE, MEME), all_meme - offer.collateral);
	});
}

/// An opt-in lasts as long as some debt: repaid whole (or liquidated whole), the account's
/// entry goes with `PreLiquidationCleared`, so keepers do not read it every block for nothing
/// and no storage is left that nothing paid for. A debt repaid in part keeps it.
#[test]
fn an_opt_in_ends_with_the_last_debt() {
	ExtBuilder::default().build_and_execute(|| {
		alice_borrows(10_000, 600_000);
		let t = alice_opts_in();
		assert_ok!(Lending::repay(RuntimeOrigin::signed(ALICE), USD, Amount::Exact(100_000)));
		assert_eq!(PreLiquidation::<Test>::get(ALICE).map(|e| e.terms), Some(t));
		System::reset_events();
		mint(USD, ALICE, 10_000);
		assert_ok!(Lending::repay(RuntimeOrigin::signed(ALICE), USD, Amount::All));
		assert_eq!(debt(ALICE, USD), 0);
		assert_eq!(PreLiquidation::<Test>::get(ALICE), None);
		assert!(events().contains(&Event::PreLiquidationCleared { account: ALICE }));
		// A new debt does not bring it back: the borrower opts in again.
		assert_ok!(Lending::borrow(RuntimeOrigin::signed(ALICE), USD, 100_000));
		assert_eq!(PreLiquidation::<Test>::get(ALICE), None);
		assert_noop!(
			Liquidation::set_pre_liquidation(RuntimeOrigin::signed(ALICE), None),
			Error::<Test>::NoPreLiquidation
		);
	});
}
