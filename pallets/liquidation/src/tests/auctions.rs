//! The Dutch auction fallback: every path (start, take part, take all, the floor, reset,
//! close, sold out into the waterfall) with exact amounts, and every refusal by name.

use super::*;
use frame_support::dispatch::DispatchResultWithPostInfo;
use sp_arithmetic::FixedPointNumber;

/// Alice at BTC `price` with BTC halted and an empty treasury: `settle` starts auction 0.
fn alice_auctioned(price: u128) -> Auction<AccountId, AssetId> {
	alice_underwater(price);
	MockBreaker::halt(BTC);
	assert_ok!(Liquidation::settle(RuntimeOrigin::signed(CHARLIE), ALICE));
	Auctions::<Test>::get(0).expect("auction 0 started")
}

fn take(who: AccountId, max_collateral: u128, max_price: FixedU128) -> DispatchResultWithPostInfo {
	Liquidation::take(RuntimeOrigin::signed(who), 0, max_collateral, max_price)
}

fn any_price() -> FixedU128 {
	FixedU128::from_u32(1_000_000)
}

fn advance(blocks: u64) {
	System::set_block_number(System::block_number() + blocks);
}

/// `n × price` rounded up, computed without the pallet's code.
fn cost(n: u128, price: FixedU128) -> u128 {
	(n * price.into_inner()).div_ceil(FixedU128::DIV)
}

#[test]
fn an_auction_starts_when_neither_the_dex_nor_the_backstop_can_and_moves_nothing() {
	ExtBuilder::default().build_and_execute(|| {
		alice_underwater(90);
		MockBreaker::halt(BTC);
		let preview = Liquidation::preview(ALICE).unwrap();
		assert_eq!(preview.route, Ok(Route::Auction { dex: DexRefusal::Halted }));
		let before = snapshot();
		assert_ok!(Liquidation::settle(RuntimeOrigin::signed(CHARLIE), ALICE));
		// 10% above the oracle's 90 USD per BTC, the floor 20% below it.
		let (top, floor) = (FixedU128::from_u32(99), FixedU128::from_u32(72));
		assert_eq!(
			last_event(),
			Event::AuctionStarted {
				id: 0,
				borrower: ALICE,
				collateral_asset: BTC,
				debt_asset: USD,
				lot: preview.collateral_due,
				tab: preview.repay,
				top,
				floor,
				dex: DexRefusal::Halted,
				health: preview.health,
			}
		);
		assert_eq!(snapshot(), before, "nothing moves until a take");
		let auction = Auctions::<Test>::get(0).unwrap();
		assert_eq!((auction.lot, auction.tab), (preview.collateral_due, preview.repay));
		assert_eq!((auction.started, auction.resets), (1, 0));
		assert_eq!(BorrowerAuction::<Test>::get(ALICE), Some(0));
		assert_eq!(NextAuctionId::<Test>::get(), 1);
		// One auction per borrower.
		assert_noop!(
			Liquidation::settle(RuntimeOrigin::signed(CHARLIE), ALICE),
			Error::<Test>::InAuction
		);
		// The view: its price now, no reset needed.
		let statuses = Liquidation::auctions();
		assert_eq!(statuses.len(), 1);
		assert_eq!((statuses[0].price, statuses[0].needs_reset), (top, Some(false)));
	});
}

#[test]
fn a_partial_take_pays_the_decayed_price_rounded_up_and_leaves_the_rest() {
	ExtBuilder::default().build_and_execute(|| {
		let auction = alice_auctioned(90);
		advance(5);
		// 99 × 0.99⁵.
		let price = Liquidation::auctions()[0].price;
		assert!((price.to_float() - 99.0 * 0.99f64.powi(5)).abs() < 1e-9);
		let before = snapshot();
		assert_ok!(take(BOB, 1_000, price));
		let paid = cost(1_000, price);
		assert_eq!(
			last_event(),
			Event::AuctionTaken {
				id: 0,
				taker: BOB,
				bought: 1_000,
				paid,
				price,
				lot_left: auction.lot - 1_000,
				tab_left: auction.tab - paid,
			}
		);
		let after = snapshot();
		assert_eq!(after.bob_usd, before.bob_usd - paid);
		assert_eq!(after.alice_debt, before.alice_debt - paid);
		assert_eq!(after.bob_btc_supply, before.bob_btc_supply + 1_000);
		assert_eq!(after.alice_btc, before.alice_btc - 1_000);
		assert_eq!(after.pool, before.pool);
		let left = Auctions::<Test>::get(0).unwrap();
		assert_eq!((left.lot, left.tab), (auction.lot - 1_000, auction.tab - paid));
	});
}

#[test]
fn taking_all_pays_the_tab_and_the_treasury_takes_its_share_of_the_unsold_lot() {
	ExtBuilder::default().build_and_execute(|| {
		let auction = alice_auctioned(90);
		advance(10);
		let price = Liquidation::auctions()[0].price;
		let before = snapshot();
		assert_ok!(take(BOB, u128::MAX, price));
		// The slice is what the tab buys, rounded down; the taker pays exactly the tab.
		let bought = auction.tab * FixedU128::DIV / price.into_inner();
		let rest = auction.lot - bought;
		let to_insurance = rest.div_ceil(2);
		let events = events();
		assert!(events.contains(&Event::AuctionTaken {
			id: 0,
			taker: BOB,
			bought,
			paid: auction.tab,
			price,
			lot_left: rest,
			tab_left: 0,
		}));
		assert_eq!(
			events.last(),
			Some(&Event::AuctionEnded {
				id: 0,
				borrower: ALICE,
				reason: AuctionEnd::Paid,
				to_insurance,
				returned: rest - to_insurance,
				unpaid: 0,
			})
		);
		let after = snapshot();
		assert_eq!(after.bob_usd, before.bob_usd - auction.tab);
		assert_eq!(after.alice_debt, before.alice_debt - auction.tab);
		assert_eq!(after.bob_btc_supply, bought);
		assert_eq!(after.insurance_btc_supply, to_insurance);
		// Every unit of the lot accounted for.
		assert_eq!(before.alice_btc - after.alice_btc, bought + to_insurance);
		assert_eq!(Auctions::<Test>::count(), 0);
		assert_eq!(BorrowerAuction::<Test>::get(ALICE), None);
		assert!(health(ALICE) > FixedU128::one());
	});
}

#[test]
fn the_price_falls_to_the_floor_and_no_lower() {
	ExtBuilder::default().build_and_execute(|| {
		let auction = alice_auctioned(90);
		advance(31);
		assert!(Liquidation::auctions()[0].price > auction.floor);
		advance(1);
		assert_eq!(Liquidation::auctions()[0].price, auction.floor);
		advance(60);
		let price = Liquidation::auctions()[0].price;
		assert_eq!(price, FixedU128::from_u32(72));
		// A taker's limit below the price: refused by name.
		assert_noop!(take(BOB, 1_000, fx(71, 1)), Error::<Test>::AuctionPriceTooHigh);
		assert_ok!(take(BOB, 1_000, price));
		assert!(matches!(last_event(), Event::AuctionTaken { paid: 72_000, .. }));
	});
}

#[test]
fn a_stale_auction_must_be_reset_and_restarts_from_the_oracle() {
	ExtBuilder::default().build_and_execute(|| {
		let auction = alice_auctioned(90);
		// Fresh: no reset.
		assert_noop!(
			Liquidation::redo(RuntimeOrigin::signed(CHARLIE), 0),
			Error::<Test>::AuctionNotStale
		);
		// Older than the tail (100 blocks): no take until it is reset.
		advance(101);
		assert_eq!(Liquidation::auctions()[0].needs_reset, Some(true));
		assert_noop!(take(BOB, 1_000, any_price()), Error::<Test>::AuctionNeedsReset);
		// A held price prices no reset.
		MockBreaker::hold(BTC);
		assert_noop!(
			Liquidation::redo(RuntimeOrigin::signed(CHARLIE), 0),
			Error::<Test>::PriceUnconfirmed
		);
		MockBreaker::clear();
		MockBreaker::halt(BTC);
		MockOracle::set(BTC, FixedU128::from_u32(88));
		assert_ok!(Liquidation::redo(RuntimeOrigin::signed(CHARLIE), 0));
		let (top, floor) = (fx(968, 10), fx(704, 10));
		assert_eq!(
			last_event(),
			Event::AuctionReset { id: 0, top, floor, lot: auction.lot, tab: auction.tab }
		);
		let reset = Auctions::<Test>::get(0).unwrap();
		assert_eq!((reset.top, reset.floor, reset.started, reset.resets), (top, floor, 102, 1));
		assert_ok!(take(BOB, 1_000, top));
		assert!(matches!(last_event(), Event::AuctionTaken { paid: 96_800, .. }));
	});
}

#[test]
fn an_auction_priced_too_far_below_a_rising_oracle_must_be_reset() {
	ExtBuilder::default().build_and_execute(|| {
		// A floor 20% and a cusp 21% below the oracle: at the floor, a 1.3% rise is enough.
		let params =
			AuctionParams { cusp: Permill::from_percent(21), ..DefaultAuctionParams::get() };
		assert_ok!(Liquidation::set_auction_params(RuntimeOrigin::root(), params));
		alice_auctioned(90);
		advance(40);
		MockOracle::set(BTC, fx(9_120, 100));
		assert!(health(ALICE) < FixedU128::one());
		// 72 < 91.2 × 0.79 = 72.048.
		assert_noop!(take(BOB, 1_000, any_price()), Error::<Test>::AuctionNeedsReset);
		assert_ok!(Liquidation::redo(RuntimeOrigin::signed(CHARLIE), 0));
		assert_eq!(Auctions::<Test>::get(0).unwrap().top, fx(10_032, 100));
	});
}

#[test]
fn a_lot_sold_out_with_debt_left_goes_to_the_loss_waterfall() {
	ExtBuilder::default().build_and_execute(|| {
		// At 60 Alice is insolvent: the lot is all her collateral, the tab what it pays for.
		let auction = alice_auctioned(60);
		assert_eq!(auction.lot, 10_000);
		let owed = debt(ALICE, USD);
		assert!(auction.tab < owed);
		// At the floor (48) the lot buys less than the tab.
		advance(40);
		let price = Liquidation::auctions()[0].price;
		assert_eq!(price, FixedU128::from_u32(48));
		assert_ok!(take(BOB, u128::MAX, any_price()));
		let events = events();
		assert!(events.contains(&Event::AuctionTaken {
			id: 0,
			taker: BOB,
			bought: 10_000,
			paid: 480_000,
			price,
			lot_left: 0,
			tab_left: auction.tab - 480_000,
		}));
		assert!(events.contains(&Event::AuctionEnded {
			id: 0,
			borrower: ALICE,
			reason: AuctionEnd::LotSold,
			to_insurance: 0,
			returned: 0,
			unpaid: auction.tab - 480_000,
		}));
		// No collateral left: the reserves and the suppliers absorb the rest, to the unit.
		let written: u128 = events
			.iter()
			.filter_map(|e| match e {
				Event::ShortfallCoveredByReserves { amount, .. }
				| Event::BadDebtSocialised { amount, .. } => Some(*amount),
				_ => None,
			})
			.sum();
		assert_eq!(written, owed - 480_000);
		assert_eq!(debt(ALICE, USD), 0);
		assert_eq!(supplied(ALICE, BTC), 0);
		assert_eq!(Auctions::<Test>::count(), 0);
	});
}

#[test]
fn a_borrower_that_repays_or_recovers_ends_its_auction_and_keeps_its_collateral() {
	ExtBuilder::default().build_and_execute(|| {
		let auction = alice_auctioned(90);
		// Healthy again: no take; `redo` closes it.
		MockOracle::set(BTC, FixedU128::from_u32(100));
		assert_noop!(take(BOB, 1_000, any_price()), Error::<Test>::NotLiquidatable);
		MockOracle::set(BTC, FixedU128::from_u32(90));
		// Repaid: nothing left to pay.
		assert_ok!(Lending::repay(RuntimeOrigin::signed(ALICE), USD, Amount::All));
		assert_noop!(take(BOB, 1_000, any_price()), Error::<Test>::AuctionOver);
		assert_ok!(Liquidation::redo(RuntimeOrigin::signed(CHARLIE), 0));
		assert_eq!(
			last_event(),
			Event::AuctionEnded {
				id: 0,
				borrower: ALICE,
				reason: AuctionEnd::Closed,
				to_insurance: 0,
				returned: auction.lot,
				unpaid: 0,
			}
		);
		assert_eq!(supplied(ALICE, BTC), 10_000);
		assert_noop!(
			Liquidation::redo(RuntimeOrigin::signed(CHARLIE), 0),
			Error::<Test>::UnknownAuction
		);
	});
}

/// A running auction stays takeable while the guard holds or disputes a price (Maker's
/// Clipper does while its breaker is tripped): the take is at the auction's price and its
/// oracle checks read the ends that favour the borrower. Only a reset waits (its test above).
#[test]
fn a_held_price_does_not_stop_a_take() {
	ExtBuilder::default().build_and_execute(|| {
		alice_auctioned(90);
		mint(USD, BOB, 10_000);
		let (before, bob_btc) = (debt(ALICE, USD), supplied(BOB, BTC));
		for held in [BTC, USD] {
			MockBreaker::hold(held);
			assert_ok!(take(BOB, 10, any_price()));
			MockBreaker::clear();
			MockBreaker::halt(BTC);
		}
		assert!(debt(ALICE, USD) < before);
		assert_eq!(supplied(BOB, BTC), bob_btc + 20, "two takes of 10");
		// Repaying is never held.
		MockBreaker::hold(BTC);
		assert_ok!(Lending::repay(RuntimeOrigin::signed(ALICE), USD, Amount::Exact(1_000)));
	});
}

#[test]
fn a_tab_that_buys_less_than_a_unit_is_closed_not_stuck() {
	ExtBuilder::default().build_and_execute(|| {
		// No dust value: a partial take may leave any tab.
		let params = LiquidationParams { dust_value: 0, ..default_params() };
		assert_ok!(Liquidation::update_params(RuntimeOrigin::root(), params));
		// Insolvent at 60: the auction (top 66) is for all of Alice's collateral.
		let auction = alice_auctioned(60);
		assert_eq!(auction.top, FixedU128::from_u32(66));
		// Take what leaves a tab below 66, i.e. less than one BTC's price.
		let slice = auction.tab / 66;
		assert!(!auction.tab.is_multiple_of(66));
		assert_ok!(take(BOB, slice, any_price()));
		let left = Auctions::<Test>::get(0).unwrap();
		assert_eq!(left.tab, auction.tab % 66);
		assert!(health(ALICE) < FixedU128::one());
		// Nothing can be bought with it: no take, and `redo` (the worker's too) closes it.
		assert_noop!(take(BOB, 1_000, any_price()), Error::<Test>::AuctionOver);
		assert!(Liquidation::redo_due(0));
		assert_ok!(Liquidation::redo(RuntimeOrigin::signed(CHARLIE), 0));
		assert_eq!(
			last_event(),
			Event::AuctionEnded {
				id: 0,
				borrower: ALICE,
				reason: AuctionEnd::Closed,
				to_insurance: 0,
				returned: left.lot,
				unpaid: left.tab,
			}
		);
		// The rest is `settle`'s again (still halted, the treasury empty: a new auction).
		assert_ok!(Liquidation::settle(RuntimeOrigin::signed(CHARLIE), ALICE));
		assert!(matches!(last_event(), Event::AuctionStarted { id: 1, .. }));
	});
}

#[test]
fn bad_takes_are_refused_by_name_and_change_nothing() {
	ExtBuilder::default().build_and_execute(|| {
		let auction = alice_auctioned(90);
		assert_noop!(take(BOB, 0, any_price()), Error::<Test>::ZeroAmount);
		assert_noop!(take(ALICE, 1_000, any_price()), Error::<Test>::SelfLiquidation);
		assert_noop!(
			Liquidation::take(RuntimeOrigin::signed(BOB), 7, 1_000, any_price()),
			Error::<Test>::UnknownAuction
		);
		assert_noop!(take(BOB, 1_000, fx(98, 1)), Error::<Test>::AuctionPriceTooHigh);
		// Leaving a tab worth less than the dust value (1,000 USD): at 99, a slice paying
		// all but about 500 of it.
		let slice = (auction.tab - 500) / 99;
		assert_noop!(take(BOB, slice, any_price()), Error::<Test>::LeavesDust);
		// A stale price: a take is a sale, it fails closed.
		Timestamp::set_timestamp(Timestamp::get() + 3_600_001);
		assert_noop!(take(BOB, 1_000, any_price()), Error::<Test>::PriceStale);
	});
}

#[test]
fn at_most_max_auctions_live_then_no_route() {
	ExtBuilder::default().build_and_execute(|| {
		// MaxAuctions = 3.
		let accounts = borrowers(&[700_000, 700_000, 700_000, 700_000]);
		MockOracle::set(BTC, FixedU128::from_u32(90));
		MockBreaker::halt(BTC);
		for who in &accounts[..3] {
			assert_ok!(Liquidation::settle(RuntimeOrigin::signed(CHARLIE), *who));
		}
		assert_eq!(Auctions::<Test>::count(), 3);
		let preview = Liquidation::preview(accounts[3]).unwrap();
		assert_eq!(preview.route, Err(DexRefusal::Halted));
		assert_noop!(
			Liquidation::settle(RuntimeOrigin::signed(CHARLIE), accounts[3]),
			Error::<Test>::NoRoute
		);
	});
}

#[test]
fn auction_parameters_are_bounded_by_name_and_set_by_risk_admin_only() {
	ExtBuilder::default().build_and_execute(|| {
		let good = DefaultAuctionParams::get();
		assert_noop!(
			Liquidation::set_auction_params(RuntimeOrigin::signed(ALICE), good),
			DispatchError::BadOrigin
		);
		let cases = [
			(
				AuctionParams { buf: Permill::from_percent(51), ..good },
				Error::<Test>::AuctionBufOutOfRange,
			),
			(AuctionParams { step: Permill::zero(), ..good }, Error::<Test>::AuctionStepOutOfRange),
			(
				AuctionParams { floor: Permill::from_percent(95), ..good },
				Error::<Test>::AuctionFloorOutOfRange,
			),
			(AuctionParams { cusp: good.floor, ..good }, Error::<Test>::AuctionCuspOutOfRange),
			(AuctionParams { tail: 0, ..good }, Error::<Test>::AuctionTailOutOfRange),
		];
		for (params, error) in cases {
			assert_noop!(Liquidation::set_auction_params(RuntimeOrigin::root(), params), error);
		}
		let new = AuctionParams { step: Permill::from_percent(2), tail: 50, ..good };
		assert_ok!(Liquidation::set_auction_params(RuntimeOrigin::root(), new));
		assert_eq!(last_event(), Event::AuctionParamsSet { params: new });
		assert_eq!(AuctionParameters::<Test>::get(), new);
	});
}

/// A disputed price does not stop a take (the breaker reads a dispute at the ends that favour
/// the borrower, which the take's checks use: `tests/breaker.rs`,
/// `a_disputed_price_liquidates_at_its_ends_by_every_route_but_the_backstop`). It stops a
/// reset, as a held price does: a lot re-sized at one feeder's raised end would stay small.
#[test]
fn a_disputed_price_lets_a_take_go_on_and_holds_a_reset() {
	ExtBuilder::default().build_and_execute(|| {
		alice_auctioned(90);
		mint(USD, BOB, 10_000);
		for disputed in [BTC, USD] {
			MockBreaker::dispute(disputed);
			assert_ok!(take(BOB, 10, any_price()));
			MockBreaker::clear();
			MockBreaker::halt(BTC);
		}
		// Older than the tail: a reset is due; held or disputed, it waits.
		advance(101);
		for unsettled in [MockBreaker::hold, MockBreaker::dispute] {
			unsettled(BTC);
			assert_noop!(
				Liquidation::redo(RuntimeOrigin::signed(CHARLIE), 0),
				Error::<Test>::PriceUnconfirmed
			);
			MockBreaker::clear();
		}
		assert_ok!(Liquidation::redo(RuntimeOrigin::signed(CHARLIE), 0));
		assert!(matches!(last_event(), Event::AuctionReset { id: 0, .. }), "{:?}", last_event());
	});
}

/// #26, found by the cascade benchmark's own-funds keeper: a keeper could `liquidate` the
/// collateral an auction was selling, at the market's fixed discount (up to the whole bonus)
/// rather than the auction's price; on an insolvent account the lenders paid the difference
/// (a crash's bad debt went from 56 USDM to 31,540). The auction's lot is now the auction's: a
/// keeper `take`s from it. What the borrower holds beyond the lot stays liquidatable (an
/// attacker review: refusing the whole asset let a small auction shield the rest).
#[test]
fn a_keeper_takes_the_lot_from_the_auction_and_may_liquidate_only_beyond_it() {
	ExtBuilder::default().build_and_execute(|| {
		let auction = alice_auctioned(90);
		MockBreaker::open(BTC);
		// BTC falls to 73, above the auction's floor (72): a keeper's plan would seize more
		// than Alice holds beyond the lot: refused, nothing moves.
		MockOracle::set(BTC, FixedU128::from_u32(73));
		assert!(Lending::account_health(&ALICE).unwrap().is_liquidatable());
		let held = <Lending as LendingPositions<AccountId>>::supplied(&ALICE, &BTC).unwrap();
		let plan = Liquidation::plan(&ALICE, USD, BTC, None).unwrap();
		assert!(
			plan.collateral > held - auction.lot,
			"{} vs {held} - {}",
			plan.collateral,
			auction.lot
		);
		assert_noop!(bob_liquidates_alice(Amount::All), Error::<Test>::InAuction);
		// A repayment whose collateral fits beside the lot goes through, and leaves the lot.
		assert_ok!(bob_liquidates_alice(Amount::Exact(10_000)));
		let after = <Lending as LendingPositions<AccountId>>::supplied(&ALICE, &BTC).unwrap();
		assert!(after < held && after >= auction.lot, "{after} vs lot {}", auction.lot);
		// The lot is the auction's: a take buys it.
		let price = Liquidation::auctions()[0].price;
		assert_ok!(take(BOB, auction.lot, price));
		assert!(events().iter().any(|e| matches!(e, Event::AuctionTaken { id: 0, .. })));
	});
}
