use super::*;

/// The hook's tag (the mock keeps the number of debts) lives in the account's record: the
/// hook sees the position before it is stored, `index_tag`/`update_index_tag` read and write
/// it without touching the markets, and a record goes only when it has no market left and
/// the default tag.
#[test]
fn the_hooks_tag_is_stored_with_the_position_and_goes_with_it() {
	ExtBuilder::default().build_and_execute(|| {
		let tag = |who| <Lending as LendingPositions<_>>::index_tag(&who);
		// (The update is given the account's position in shares, as `account_shares` reads it.)
		let set = |who, t| {
			let shares = <Lending as LendingPositions<_>>::account_shares(&who);
			<Lending as LendingPositions<_>>::update_index_tag(&who, |seen, tag| {
				assert_eq!(seen, &shares);
				*tag = t;
			})
		};
		alice_has_collateral();
		assert_eq!(tag(ALICE), None);
		assert_ok!(Lending::borrow(signed(ALICE), USD, 5_000));
		assert_eq!(tag(ALICE), Some(1));
		assert_eq!(Positions::<Test>::get(ALICE).map(|p| p.tag), Some(Some(1)));

		let before = Positions::<Test>::get(ALICE).unwrap();
		set(ALICE, Some(7));
		let after = Positions::<Test>::get(ALICE).unwrap();
		assert_eq!((&after.supplies, &after.borrows), (&before.supplies, &before.borrows));
		assert_eq!(after.tag, Some(7));
		assert_ok!(Lending::repay(signed(ALICE), USD, Amount::All));
		// The hook saw no debt left.
		assert_eq!(tag(ALICE), None);
		assert_ok!(Lending::withdraw(signed(ALICE), BTC, Amount::All));
		assert!(!Positions::<Test>::contains_key(ALICE));

		// A record with no market is kept while its tag is not the default.
		assert_eq!(tag(DAVE), None);
		set(DAVE, None);
		assert!(!Positions::<Test>::contains_key(DAVE));
		set(DAVE, Some(2));
		assert_eq!(tag(DAVE), Some(2));
		assert_ok!(Lending::supply(signed(DAVE), BTC, 10));
		assert_ok!(Lending::withdraw(signed(DAVE), BTC, Amount::All));
		// The hook reset the tag (no debt): the empty record went with the withdrawal.
		assert!(!Positions::<Test>::contains_key(DAVE));
		set(DAVE, Some(3));
		set(DAVE, None);
		assert!(!Positions::<Test>::contains_key(DAVE));
		assert_ok!(Lending::do_try_state());
	})
}

#[test]
fn seize_collateral_moves_supply_shares_not_cash() {
	ExtBuilder::default().build_and_execute(|| {
		alice_borrows();
		let cash = balance(BTC, pallet_account());
		take_changes();
		assert_eq!(
			<Lending as LendingPositions<_>>::seize_collateral(&ALICE, &BTC, 30, &DAVE),
			Ok(30)
		);
		assert_eq!(supply_of(ALICE, BTC).unwrap().scaled, 70);
		// DAVE holds the shares as a plain supply; no token moved.
		assert_eq!(
			supply_of(DAVE, BTC),
			Some(SupplyPosition { asset: BTC, scaled: 30, collateral: false })
		);
		assert_eq!(balance(BTC, DAVE), START);
		assert_eq!(balance(BTC, pallet_account()), cash);
		assert_eq!(state(BTC).total_scaled_supply, 100);
		assert_eq!(
			take_changes(),
			vec![(ALICE, vec![BTC], RiskChange::Raised), (DAVE, vec![BTC], RiskChange::Lowered)]
		);
		assert_eq!(
			lending_events(),
			vec![Event::CollateralSeized {
				who: ALICE,
				asset: BTC,
				amount: 30,
				shares: 30,
				to: DAVE
			}]
		);
		// DAVE withdraws them as tokens.
		assert_ok!(Lending::withdraw(signed(DAVE), BTC, Amount::All));
		assert_eq!(balance(BTC, DAVE), START + 30);
	})
}

/// A lot in one pass: each part's sale paid out as one transfer, tips and rests credited
/// once, a part with nothing left (its collateral all taken by an earlier sale) passed
/// over with nothing taken; a part whose sale is not there refuses the lot, unchanged.
#[test]
fn a_lot_is_seized_in_one_pass_and_passes_over_a_part_with_nothing_left() {
	ExtBuilder::default().build_and_execute(|| {
		alice_borrows();
		assert_ok!(Lending::supply(signed(CHARLIE), BTC, 50));
		let (cash, gov) = (balance(BTC, pallet_account()), balance(BTC, GOV));
		let part = |who, sold, tip, rest| LotSeizure { who, sold, tip, rest };
		type L = Lending;
		// DAVE has no BTC: with a sale to make, the lot is refused.
		assert_noop!(
			<L as LendingPositions<_>>::seize_lot(
				&BTC,
				&[part(ALICE, 10, 1, 2), part(DAVE, 1, 0, 0)],
				&GOV,
				(&BOB, &STEWARD),
				RestPaid::Supply
			),
			Error::<Test>::NoSupply
		);
		System::reset_events();
		let lot = [part(ALICE, 10, 1, 2), part(DAVE, 0, 5, 5), part(CHARLIE, 20, 3, 60)];
		assert_eq!(
			<L as LendingPositions<_>>::seize_lot(
				&BTC,
				&lot,
				&GOV,
				(&BOB, &STEWARD),
				RestPaid::Supply
			),
			Ok(vec![(1, 2), (0, 0), (3, 27)])
		);
		// CHARLIE's rest is what was left of its 50 (the whole of it: no position left).
		assert_eq!(supply_of(ALICE, BTC).map(|p| p.scaled), Some(87));
		assert_eq!(supply_of(CHARLIE, BTC), None);
		assert_eq!(supply_of(BOB, BTC).map(|p| p.scaled), Some(4));
		assert_eq!(supply_of(STEWARD, BTC).map(|p| p.scaled), Some(29));
		assert_eq!(balance(BTC, GOV), gov + 30);
		assert_eq!(balance(BTC, pallet_account()), cash - 30);
		assert_eq!(state(BTC).total_scaled_supply, 150 - 30);
		assert_eq!(
			lending_events(),
			vec![
				Event::LotSeizure { who: ALICE, asset: BTC, sold: 10, tip: 1, rest: 2, shares: 13 },
				Event::LotSeizure {
					who: CHARLIE,
					asset: BTC,
					sold: 20,
					tip: 3,
					rest: 27,
					shares: 50
				},
				Event::LotSeized {
					asset: BTC,
					sold: 30,
					sold_shares: 30,
					to: GOV,
					tip_shares: 4,
					tip_to: BOB,
					rest_shares: 29,
					rest_tokens: 0,
					rest_to: STEWARD
				},
			]
		);
		// The rest in tokens: the market's cash pays it.
		assert_ok!(<L as LendingPositions<_>>::seize_lot(
			&BTC,
			&[part(ALICE, 0, 0, 7)],
			&GOV,
			(&BOB, &STEWARD),
			RestPaid::Tokens
		));
		assert_eq!(balance(BTC, STEWARD), 7);
		assert_eq!(supply_of(STEWARD, BTC).map(|p| p.scaled), Some(29));
	})
}

#[test]
fn a_lot_is_seized_and_repaid_in_one_pass_with_the_sale_between() {
	ExtBuilder::default().build_and_execute(|| {
		alice_borrows();
		assert_ok!(Lending::supply(signed(CHARLIE), BTC, 50));
		assert_ok!(Lending::supply(signed(CHARLIE), USD, 10_000));
		assert_ok!(Lending::borrow(signed(CHARLIE), USD, 1_000));
		System::reset_events();
		type L = Lending;
		let part = |who, sold, tip, rest| LotSeizure { who, sold, tip, rest };
		let lot = [part(ALICE, 10, 1, 2), part(CHARLIE, 20, 3, 60)];
		let settle = |lot: &[LotSeizure<AccountId>], repays: &[u128], debt, fail: bool| {
			<L as LendingPositions<_>>::settle_lot(
				(&BTC, &debt),
				(lot, repays),
				(&GOV, &GOV),
				(&BOB, &STEWARD),
				RestPaid::Supply,
				|| if fail { Err(DispatchError::Other("no sale")) } else { Ok(balance(BTC, GOV)) },
			)
		};
		// Refused by name, nothing changed: repayments that do not match the lot, a lot whose
		// collateral is its debt, a repayment of more than the debt, and a sale that fails
		// after the seizure was made.
		assert_noop!(settle(&lot, &[100], USD, false), Error::<Test>::LotMismatch);
		assert_noop!(settle(&lot, &[100, 100], BTC, false), Error::<Test>::LotMismatch);
		assert_noop!(settle(&lot, &[100, 1_001], USD, false), Error::<Test>::RepayExceedsDebt);
		assert_noop!(settle(&lot, &[100, 100], USD, true), DispatchError::Other("no sale"));
		let (btc, usd) = (balance(BTC, GOV), balance(USD, GOV));
		let (cash, usd_cash) = (balance(BTC, pallet_account()), balance(USD, pallet_account()));
		let borrowed = state(USD).total_scaled_borrow;
		take_changes();
		// The sale between sees the lot's 30 BTC paid out to GOV.
		assert_eq!(
			settle(&lot, &[2_000, 1_000], USD, false),
			Ok((vec![(1, 2), (3, 27)], btc + 30))
		);
		// The hook saw each borrower once, both assets, as a rise in risk (a seizure: the
		// index refiles it), then the receivers of supply.
		assert_eq!(
			take_changes(),
			vec![
				(ALICE, vec![BTC, USD], RiskChange::Raised),
				(CHARLIE, vec![BTC, USD], RiskChange::Raised),
				(BOB, vec![BTC], RiskChange::Lowered),
				(STEWARD, vec![BTC], RiskChange::Lowered),
			]
		);
		// The seizure as `seize_lot` makes it (CHARLIE's rest what was left of its 50)...
		assert_eq!(supply_of(ALICE, BTC).map(|p| p.scaled), Some(87));
		assert_eq!(supply_of(CHARLIE, BTC), None);
		assert_eq!(supply_of(BOB, BTC).map(|p| p.scaled), Some(4));
		assert_eq!(supply_of(STEWARD, BTC).map(|p| p.scaled), Some(29));
		assert_eq!(balance(BTC, GOV), btc + 30);
		assert_eq!(balance(BTC, pallet_account()), cash - 30);
		// ...and the repayment as `repay_lot` makes it: CHARLIE's whole debt, 2,000 of ALICE's
		// 5,000, one transfer from GOV.
		assert_eq!(debt_of(ALICE, USD).map(|p| p.scaled), Some(3_000));
		assert_eq!(debt_of(CHARLIE, USD), None);
		assert_eq!(state(USD).total_scaled_borrow, borrowed - 3_000);
		assert_eq!(balance(USD, GOV), usd - 3_000);
		assert_eq!(balance(USD, pallet_account()), usd_cash + 3_000);
		assert_eq!(
			lending_events(),
			vec![
				Event::LotSettlement {
					who: ALICE,
					collateral_asset: BTC,
					sold: 10,
					tip: 1,
					rest: 2,
					collateral_shares: 13,
					debt_asset: USD,
					repaid: 2_000,
					debt_shares: 2_000
				},
				Event::LotSettlement {
					who: CHARLIE,
					collateral_asset: BTC,
					sold: 20,
					tip: 3,
					rest: 27,
					collateral_shares: 50,
					debt_asset: USD,
					repaid: 1_000,
					debt_shares: 1_000
				},
				Event::LotSeized {
					asset: BTC,
					sold: 30,
					sold_shares: 30,
					to: GOV,
					tip_shares: 4,
					tip_to: BOB,
					rest_shares: 29,
					rest_tokens: 0,
					rest_to: STEWARD
				},
				Event::LotRepaid { asset: USD, payer: GOV, amount: 3_000, shares: 3_000 },
			]
		);
		assert_ok!(Lending::do_try_state());
	})
}

#[test]
fn seizure_works_when_the_market_is_lent_out() {
	ExtBuilder::default().build_and_execute(|| {
		alice_borrows();
		// CHARLIE borrows every BTC the market can pay out (all but the reserve floor).
		assert_ok!(Lending::supply(signed(CHARLIE), USD, 100_000));
		let available = Lending::available_cash(BTC);
		assert_eq!(available, 100);
		assert_ok!(Lending::borrow(signed(CHARLIE), BTC, available));
		assert_eq!(Lending::available_cash(BTC), 0);
		// Seizing needs no cash.
		assert_ok!(<Lending as LendingPositions<_>>::seize_collateral(&ALICE, &BTC, 40, &DAVE));
		assert_eq!(supply_of(DAVE, BTC).map(|p| p.scaled), Some(40));
		// DAVE waits for cash to return.
		assert_noop!(
			Lending::withdraw(signed(DAVE), BTC, Amount::All),
			Error::<Test>::InsufficientLiquidity
		);
		assert_ok!(Lending::repay(signed(CHARLIE), BTC, Amount::All));
		assert_ok!(Lending::withdraw(signed(DAVE), BTC, Amount::All));
		assert_eq!(balance(BTC, DAVE), START + 40);
	})
}

#[test]
fn seizure_refusals_by_name() {
	ExtBuilder::default().build_and_execute(|| {
		alice_borrows();
		assert_ok!(Lending::supply(signed(ALICE), MEME, 10));
		assert_ok!(Lending::disable_collateral(signed(ALICE), MEME));
		type L = Lending;
		let seize = |who, asset, amount, to| {
			<L as LendingPositions<AccountId>>::seize_collateral(&who, &asset, amount, &to)
		};
		assert_noop!(seize(ALICE, BTC, 0, DAVE), Error::<Test>::ZeroAmount);
		assert_noop!(seize(ALICE, BTC, 1, ALICE), Error::<Test>::SeizeToSelf);
		assert_noop!(seize(ALICE, NO_MARKET, 1, DAVE), Error::<Test>::MarketNotFound);
		assert_noop!(seize(ALICE, ETH, 1, DAVE), Error::<Test>::NoSupply);
		assert_noop!(seize(ALICE, MEME, 1, DAVE), Error::<Test>::NotCollateral);
		assert_noop!(seize(ALICE, BTC, 101, DAVE), Error::<Test>::InsufficientSupply);
		// A receiver that holds the most supplies already cannot take a new one.
		for asset in [USD, MEME, ETH] {
			assert_ok!(Lending::supply(signed(DAVE), asset, 2_000_000));
		}
		assert_ok!(Lending::create_market(RuntimeOrigin::root(), NO_MARKET, usd_params()));
		assert_ok!(Lending::supply(signed(DAVE), NO_MARKET, 10));
		assert_noop!(seize(ALICE, BTC, 1, DAVE), Error::<Test>::TooManyPositions);
	})
}

#[test]
fn repay_debt_on_behalf() {
	ExtBuilder::default().build_and_execute(|| {
		alice_borrows();
		assert_ok!(<Lending as LendingPositions<_>>::repay_debt(&DAVE, &ALICE, &USD, 1_000));
		assert_eq!(<Lending as LendingPositions<_>>::debt(&ALICE, &USD), Ok(4_000));
		assert_eq!(balance(USD, DAVE), START - 1_000);
		assert_noop!(
			<Lending as LendingPositions<_>>::repay_debt(&DAVE, &ALICE, &USD, 4_001),
			Error::<Test>::RepayExceedsDebt
		);
	})
}
