//! The standing bids route (#28): `settle` sells a seizure to market makers' bids when they
//! pay more than the DEX, or when the DEX cannot take it; never on a held or disputed price.

use super::*;
use crate::StandingBids as Standing;
use pallet_bids::HoldReason as BidHold;

/// GOV places a bid for BTC in USD: `amount` at `discount` (parts per million), active from
/// block 3 (placed at 1, the mock's delay is 2).
fn gov_bids(amount: u128, discount: u32) -> u64 {
	let id = pallet_bids::NextBidId::<Test>::get();
	assert_ok!(Bids::place_bid(
		RuntimeOrigin::signed(GOV),
		BTC,
		USD,
		amount,
		Permill::from_parts(discount),
		500
	));
	id
}

fn held_usd(who: AccountId) -> u128 {
	<AssetsHolder as frame_support::traits::fungibles::InspectHold<AccountId>>::balance_on_hold(
		USD,
		&BidHold::Escrow.into(),
		&who,
	)
}

fn settled() -> (Route, u128, u128, u128, u128, u128, u128, Permill) {
	let Event::Settled {
		route,
		repaid,
		collateral_due,
		sold,
		to_insurance,
		tip,
		returned,
		discount,
		..
	} = events().into_iter().rev().find(|e| matches!(e, Event::Settled { .. })).unwrap()
	else {
		unreachable!()
	};
	(route, repaid, collateral_due, sold, to_insurance, tip, returned, discount)
}

/// A pool priced at the oracle (90) and deep: the DEX takes the oracle's amount plus its fee
/// and impact; a bid 0.1% below the oracle takes less.
#[test]
fn settle_sells_to_standing_bids_when_they_pay_more_than_the_dex() {
	ExtBuilder::default().without_pools().build_and_execute(|| {
		create_pool(LP, USD, BTC, 90_000_000_000, 1_000_000_000);
		let id = gov_bids(500_000, 1_000);
		System::set_block_number(3);
		alice_underwater(90);
		let before = snapshot();
		let gov_usd = balance(USD, GOV);
		let preview = Liquidation::preview(ALICE).unwrap();
		assert_ok!(Liquidation::settle(RuntimeOrigin::signed(CHARLIE), ALICE));
		let (route, repaid, due_, sold, to_insurance, tip, returned, discount) = settled();
		assert_eq!(route, Route::Bids { fills: 1 });
		// The bid pays the whole repayment; its collateral at 90 less 0.1%, rounded down.
		assert_eq!(sold, repaid * 1_000 / (90 * 999));
		assert!(sold < preview.dex_input.unwrap(), "the bid takes less than the DEX");
		// The preview said exactly this.
		assert_eq!(preview.route, Ok(Route::Bids { fills: 1 }));
		assert_eq!(
			(preview.repay, preview.bid_input, preview.returned),
			(repaid, Some(sold), returned)
		);
		assert_eq!(due_, due(repaid, 90, discount));
		assert_eq!(sold + to_insurance + tip + returned, due_);
		// The treasury's share of the penalty as on the DEX route; the rest of the bonus the
		// bid left stays with the borrower.
		assert_eq!(to_insurance, (due_ - sold).min(due_ - repaid / 90).div_ceil(2));
		let after = snapshot();
		assert_eq!(after.alice_debt, before.alice_debt - repaid);
		assert_eq!(after.alice_btc, before.alice_btc - sold - to_insurance - tip);
		// Gov paid from its hold (its free USD untouched) and got the collateral as supply.
		assert_eq!(held_usd(GOV), 500_000 - repaid);
		assert_eq!(balance(USD, GOV), gov_usd);
		assert_eq!(supplied(GOV, BTC), sold);
		assert_eq!(pallet_bids::StandingBids::<Test>::get(id).unwrap().remaining, 500_000 - repaid);
		assert!(System::events().iter().any(|r| r.event
			== RuntimeEvent::Bids(pallet_bids::Event::BidFilled {
				id,
				owner: GOV,
				collateral: sold,
				paid: repaid,
				remaining: 500_000 - repaid
			})));
		// The pool untouched; the working account empty; the borrower back above 1.
		assert_eq!(after.pool, before.pool);
		let working = Liquidation::account_id();
		assert_eq!((balance(USD, working), balance(BTC, working)), (0, 0));
		assert!(health(ALICE) >= fx(105, 100));
	});
}

/// The default pool prices BTC at 100, above the oracle's 90: it takes less collateral than a
/// bid 2% below the oracle, so the DEX sells and the bid stays as it was.
#[test]
fn settle_keeps_the_dex_when_it_pays_more_than_the_bids() {
	ExtBuilder::default().build_and_execute(|| {
		let id = gov_bids(500_000, 20_000);
		System::set_block_number(3);
		alice_underwater(90);
		let preview = Liquidation::preview(ALICE).unwrap();
		assert!(preview.bid_input.unwrap() > preview.dex_input.unwrap());
		assert_ok!(Liquidation::settle(RuntimeOrigin::signed(CHARLIE), ALICE));
		assert_eq!(settled().0, Route::Dex);
		assert_eq!(pallet_bids::StandingBids::<Test>::get(id).unwrap().remaining, 500_000);
		assert_eq!(held_usd(GOV), 500_000);
	});
}

/// No pool: the DEX refuses; the bids cover part of the plan: that part is settled by them
/// (planned again for the smaller repayment), the rest left for the next call.
#[test]
fn when_the_dex_refuses_the_bids_settle_the_part_they_cover() {
	ExtBuilder::default().without_pools().build_and_execute(|| {
		let id = gov_bids(100_000, 5_000);
		System::set_block_number(3);
		alice_underwater(90);
		let owed = debt(ALICE, USD);
		assert_ok!(Liquidation::settle(RuntimeOrigin::signed(CHARLIE), ALICE));
		let (route, repaid, due_, sold, to_insurance, tip, returned, _) = settled();
		assert_eq!((route, repaid), (Route::Bids { fills: 1 }, 100_000));
		assert_eq!(sold, 100_000 * 1_000_000 / (90 * 995_000));
		assert_eq!(sold + to_insurance + tip + returned, due_);
		assert_eq!(debt(ALICE, USD), owed - 100_000);
		// The bid is spent: out of the book, its deposit back.
		assert!(pallet_bids::StandingBids::<Test>::get(id).is_none());
		assert_eq!(held_usd(GOV), 0);
		// Still below 1: the next call has no bid and no pool.
		assert!(health(ALICE) < fx(1, 1));
	});
}

/// A price the guard holds, or the feeders dispute, is not one a bidder quoted against: the
/// bids are passed over (the DEX sells within its bound, as before).
#[test]
fn no_bid_fills_on_a_held_or_disputed_price() {
	for unsettle in [MockBreaker::hold as fn(AssetId), MockBreaker::dispute] {
		ExtBuilder::default().without_pools().build_and_execute(|| {
			create_pool(LP, USD, BTC, 90_000_000_000, 1_000_000_000);
			let id = gov_bids(500_000, 1_000);
			System::set_block_number(3);
			alice_underwater(90);
			unsettle(BTC);
			let preview = Liquidation::preview(ALICE).unwrap();
			assert_eq!(preview.bid_input, None);
			assert_ok!(Liquidation::settle(RuntimeOrigin::signed(CHARLIE), ALICE));
			assert_eq!(settled().0, Route::Dex);
			assert_eq!(pallet_bids::StandingBids::<Test>::get(id).unwrap().remaining, 500_000);
		});
	}
}

/// A bid not yet active (placed in the block of the fall: a bidder who saw it coming) is not
/// used; one fill a bid a block.
#[test]
fn a_bid_placed_at_the_fall_waits_its_activation() {
	ExtBuilder::default().without_pools().build_and_execute(|| {
		create_pool(LP, USD, BTC, 90_000_000_000, 1_000_000_000);
		alice_underwater(90);
		let id = gov_bids(500_000, 0);
		assert_eq!(Liquidation::preview(ALICE).unwrap().bid_input, None);
		assert_ok!(Liquidation::settle(RuntimeOrigin::signed(CHARLIE), ALICE));
		assert_eq!(settled().0, Route::Dex);
		assert!(<BidBook as Standing<AccountId, AssetId>>::quote(
			BTC,
			USD,
			1,
			(fx(90, 1), fx(1, 1)),
			Permill::one(),
			&[ALICE]
		)
		.is_empty());
		assert_eq!(pallet_bids::StandingBids::<Test>::get(id).unwrap().remaining, 500_000);
	});
}

/// A borrower's own bid is passed over (a seizure to oneself is refused by the lending
/// pallet: such a bid would fail every sale of its own collateral).
#[test]
fn a_borrowers_own_bid_is_passed_over() {
	ExtBuilder::default().without_pools().build_and_execute(|| {
		create_pool(LP, USD, BTC, 90_000_000_000, 1_000_000_000);
		assert_ok!(Bids::place_bid(
			RuntimeOrigin::signed(ALICE),
			BTC,
			USD,
			500_000,
			Permill::zero(),
			500
		));
		System::set_block_number(3);
		alice_underwater(90);
		assert_eq!(Liquidation::preview(ALICE).unwrap().bid_input, None);
		assert_ok!(Liquidation::settle(RuntimeOrigin::signed(CHARLIE), ALICE));
		assert_eq!(settled().0, Route::Dex);
	});
}

/// A halted collateral (a guardian's or the breaker's halt) is sold at the oracle's price by
/// no one but the backstop: the bids wait.
#[test]
fn no_bid_fills_on_a_halted_collateral() {
	ExtBuilder::default().without_pools().build_and_execute(|| {
		create_pool(LP, USD, BTC, 90_000_000_000, 1_000_000_000);
		let id = gov_bids(500_000, 1_000);
		System::set_block_number(3);
		alice_underwater(90);
		MockBreaker::halt(BTC);
		assert_eq!(Liquidation::preview(ALICE).unwrap().bid_input, None);
		let _ = Liquidation::settle(RuntimeOrigin::signed(CHARLIE), ALICE);
		assert_eq!(pallet_bids::StandingBids::<Test>::get(id).unwrap().remaining, 500_000);
	});
}

/// Asking the book is charged to a settlement whatever route it takes; a sale to the bids
/// tried, its fills too.
#[test]
fn a_settlement_is_charged_for_asking_the_book() {
	ExtBuilder::default().build_and_execute(|| {
		gov_bids(500_000, 20_000);
		System::set_block_number(3);
		alice_underwater(90);
		let post = Liquidation::settle(RuntimeOrigin::signed(CHARLIE), ALICE).unwrap();
		assert_eq!(settled().0, Route::Dex);
		let charged = post.actual_weight.unwrap();
		// The same settlement on a held price (no book asked) is charged less by that.
		let held = new_test_ext_dex_settle_weight_on_held_price();
		assert_eq!(charged, held + Liquidation::bid_quote_weight());
	});
}

fn new_test_ext_dex_settle_weight_on_held_price() -> frame_support::weights::Weight {
	let mut weight = None;
	ExtBuilder::default().build_and_execute(|| {
		gov_bids(500_000, 20_000);
		System::set_block_number(3);
		alice_underwater(90);
		MockBreaker::hold(BTC);
		let post = Liquidation::settle(RuntimeOrigin::signed(CHARLIE), ALICE).unwrap();
		assert_eq!(settled().0, Route::Dex);
		weight = post.actual_weight;
	});
	weight.unwrap()
}

/// The routes of the `Settled` events so far, in order.
fn settled_routes() -> Vec<Route> {
	events()
		.into_iter()
		.filter_map(|e| match e {
			Event::Settled { route, .. } => Some(route),
			_ => None,
		})
		.collect()
}

fn batch(accounts: &[AccountId]) -> frame_support::dispatch::DispatchResultWithPostInfo {
	batch_with(accounts, u32::MAX)
}

/// CHARLIE's `settle_batch` of `accounts` (one pair) declaring `bids` sales to the bids.
fn batch_with(
	accounts: &[AccountId],
	bids: u32,
) -> frame_support::dispatch::DispatchResultWithPostInfo {
	let mut sorted = accounts.to_vec();
	sorted.sort();
	settle_batch(&sorted, BatchWitness { pairs: 1, wide: 0, bids })
}

/// A BTC/USD pool at 90, GOV's bid of `bid` USD at 0.1% (active from block 3, the block set),
/// and two borrowers of BTC for USD put below 1 by BTC at 90: returns the bid and them.
fn a_lot_below_one(bid: u128) -> (u64, Vec<AccountId>) {
	create_pool(LP, USD, BTC, 90_000_000_000, 1_000_000_000);
	let id = gov_bids(bid, 1_000);
	System::set_block_number(3);
	let accounts = borrowers(&[700_000, 680_000]);
	MockOracle::set(BTC, fx(90, 1));
	(id, accounts)
}

/// A batch's pair: its whole lot to the bids when they pay more than the DEX for it, each
/// position its pro-rata share (rounded up, the rounding to the treasury), no cash needed.
#[test]
fn a_batch_sells_a_pairs_lot_to_the_bids_when_they_pay_more() {
	ExtBuilder::default().without_pools().build_and_execute(|| {
		let (id, accounts) = a_lot_below_one(2_000_000);
		System::reset_events();
		let pool = pool_reserves(USD, BTC);
		assert_ok!(batch(&accounts));
		let settled: Vec<(Route, u128, u128, u128, u128, u128, u128)> = events()
			.into_iter()
			.filter_map(|e| match e {
				Event::Settled {
					route,
					repaid,
					collateral_due,
					sold,
					to_insurance,
					tip,
					returned,
					..
				} => Some((route, repaid, collateral_due, sold, to_insurance, tip, returned)),
				_ => None,
			})
			.collect();
		assert_eq!(settled.len(), 2);
		let repaid: u128 = settled.iter().map(|s| s.1).sum();
		let sold: u128 = settled.iter().map(|s| s.3).sum();
		for (route, _, due_, sold, to_insurance, tip, returned) in &settled {
			assert_eq!(*route, Route::Bids { fills: 1 });
			assert_eq!(sold + to_insurance + tip + returned, *due_);
		}
		// One fill paid the pair's whole repayment for the lot, at 90 less 0.1%, rounded down.
		assert_eq!(sold, repaid * 1_000 / (90 * 999));
		assert!(System::events().iter().any(|r| r.event
			== RuntimeEvent::Bids(pallet_bids::Event::BidFilled {
				id,
				owner: GOV,
				collateral: sold,
				paid: repaid,
				remaining: 2_000_000 - repaid
			})));
		assert_eq!(supplied(GOV, BTC), sold);
		assert_eq!(held_usd(GOV), 2_000_000 - repaid);
		// Nothing sold into the pool; the working account empty; both back above 1.
		assert_eq!(pool_reserves(USD, BTC), pool);
		let working = Liquidation::account_id();
		assert_eq!((balance(USD, working), balance(BTC, working)), (0, 0));
		assert_eq!(supplied(working, BTC), 0);
		assert!(accounts.iter().all(|a| health(*a) >= fx(1, 1)));
	});
}

/// A batch sells a pair's lot to the bids only within its witness's `bids` (each such position
/// seized to the bids' owners as well as settled, a `seize_collateral` more, declared from the
/// witness): a lot the bids would buy for more positions is skipped (`OverBids`), not sold on
/// the DEX at a worse price for the borrowers; within it, the lot goes to the bids and the
/// weight the call returns counts a seizure per position sold. The worker declares the
/// positions whose pair has a bid.
#[test]
fn a_batch_sells_to_the_bids_only_within_its_witness() {
	ExtBuilder::default().without_pools().build_and_execute(|| {
		let (id, accounts) = a_lot_below_one(2_000_000);
		let mut sorted = accounts.clone();
		sorted.sort();
		let witness = |bids| BatchWitness { pairs: 1, wide: 0, bids };
		let seize = <Test as Config>::Lending::seize_collateral_weight();
		// Declared: a seizure per position the witness allows, at most the batch's, and a
		// sale's fills only when one may be tried.
		assert_eq!(
			Liquidation::settle_batch_weight(2, &witness(2)),
			Liquidation::settle_batch_weight(2, &witness(1)).saturating_add(seize)
		);
		assert_eq!(
			Liquidation::settle_batch_weight(2, &witness(1)),
			Liquidation::settle_batch_weight(2, &witness(0))
				.saturating_add(seize)
				.saturating_add(Liquidation::bid_fills_weight())
		);
		assert_eq!(
			Liquidation::settle_batch_weight(2, &witness(u32::MAX)),
			Liquidation::settle_batch_weight(2, &witness(2))
		);
		// The worker's sizing: both positions' pair has a bid (one that may fill before its
		// call expires: not one expired).
		assert!(<Test as Config>::Bids::has_bids(BTC, USD));
		assert!(!<Test as Config>::Bids::has_bids(USD, BTC));
		assert_eq!(
			Liquidation::batch_prefix(sorted.iter(), frame_support::weights::Weight::MAX),
			(2, witness(2))
		);
		let expired = frame_support::storage::with_transaction(|| {
			System::set_block_number(501);
			let has = <Test as Config>::Bids::has_bids(BTC, USD);
			frame_support::storage::TransactionOutcome::Rollback(Ok::<_, DispatchError>(has))
		});
		assert_eq!(expired, Ok(false));
		// One position allowed, two in the lot the bids would buy: both skipped, nothing
		// sold anywhere (the book asked, no sale tried).
		let dry = Liquidation::try_settle_batch(&sorted, witness(1)).unwrap();
		assert_eq!((dry.bids_asked, dry.bids_sold, dry.bids_members), (1, 0, 0));
		assert_eq!(dry.skipped, sorted.iter().map(|a| (*a, Skipped::OverBids)).collect::<Vec<_>>());
		let pool = pool_reserves(USD, BTC);
		let positions = sorted.iter().map(|a| health(*a)).collect::<Vec<_>>();
		assert!(batch_with(&sorted, 1).is_err());
		assert_eq!(pool_reserves(USD, BTC), pool);
		assert_eq!(pallet_bids::StandingBids::<Test>::get(id).unwrap().remaining, 2_000_000);
		assert_eq!(sorted.iter().map(|a| health(*a)).collect::<Vec<_>>(), positions);
		// Two allowed: the lot to the bids, a seizure per position in the weight returned.
		let dry = Liquidation::try_settle_batch(&sorted, witness(2)).unwrap();
		assert_eq!((dry.bids_asked, dry.bids_sold, dry.bids_members), (1, 1, 2));
		let without = BatchReport { bids_members: 0, ..dry.clone() };
		assert_eq!(
			Liquidation::batch_report_weight(&dry),
			Liquidation::batch_report_weight(&without).saturating_add(seize.saturating_mul(2))
		);
		System::reset_events();
		let post = batch_with(&sorted, 2).unwrap();
		assert_eq!(post.actual_weight, Some(Liquidation::batch_report_weight(&dry)));
		// The worker sends a batch with the sales it was sized for, not only those its dry run
		// made (a pair that dry-ran to the DEX may sell to the bids at inclusion).
		let dex_dry = BatchReport { bids_members: 0, ..dry.clone() };
		assert_eq!(Liquidation::sent_witness(&witness(2), &dex_dry), witness(2));
		assert_eq!(Liquidation::sent_witness(&witness(5), &dex_dry), witness(2));
		assert_eq!(settled_routes(), vec![Route::Bids { fills: 1 }; 2]);
		assert_eq!(pool_reserves(USD, BTC), pool);
		assert!(pallet_bids::StandingBids::<Test>::get(id).unwrap().remaining < 2_000_000);
	});
}

/// Bids covering only part of a pair's lot leave the batch to the DEX (the book untouched).
#[test]
fn a_batch_keeps_the_dex_when_the_bids_cover_part_of_the_lot() {
	ExtBuilder::default().without_pools().build_and_execute(|| {
		let (id, accounts) = a_lot_below_one(100_000);
		System::reset_events();
		assert_ok!(batch(&accounts));
		assert!(events()
			.iter()
			.all(|e| !matches!(e, Event::Settled { route: Route::Bids { .. }, .. })));
		assert!(events().iter().any(|e| matches!(e, Event::Settled { route: Route::Dex, .. })));
		assert_eq!(pallet_bids::StandingBids::<Test>::get(id).unwrap().remaining, 100_000);
	});
}

/// The DEX's raw quote takes less collateral than the bids (the pool prices BTC at 100, above
/// the oracle's 90) but the breaker's cap would refuse the lot: the batch sells to the bids,
/// as `settle` does for the same position (before, the batch compared the bids with the raw
/// quote, sent the pair to the DEX and skipped it, throttled, while the bids stood ready).
#[test]
fn a_batch_and_settle_both_sell_to_the_bids_when_the_dex_is_throttled() {
	let route_of = |use_batch: bool| {
		let mut out = None;
		ExtBuilder::default().build_and_execute(|| {
			let id = gov_bids(2_000_000, 20_000);
			System::set_block_number(3);
			let accounts = borrowers(&[700_000, 680_000]);
			MockOracle::set(BTC, fx(90, 1));
			MockBreaker::throttle(BTC, 1);
			System::reset_events();
			if use_batch {
				assert_ok!(batch(&accounts));
			} else {
				// One fill a bid a block: the second settlement in the next block.
				for (n, who) in accounts.iter().enumerate() {
					System::set_block_number(3 + n as u64);
					assert_ok!(Liquidation::settle(RuntimeOrigin::signed(CHARLIE), *who));
				}
			}
			let routes = settled_routes();
			assert!(events().iter().all(|e| !matches!(e, Event::SettlementSkipped { .. })));
			let paid = 2_000_000 - pallet_bids::StandingBids::<Test>::get(id).unwrap().remaining;
			assert!(accounts.iter().all(|a| health(*a) >= fx(1, 1)));
			out = Some((routes, paid));
		});
		out.unwrap()
	};
	let (batch_routes, batch_paid) = route_of(true);
	let (single_routes, single_paid) = route_of(false);
	assert_eq!(batch_routes, vec![Route::Bids { fills: 1 }; 2]);
	assert_eq!(single_routes, vec![Route::Bids { fills: 1 }; 2]);
	assert_eq!(batch_paid, single_paid, "the same repayments, whichever call");
}

/// The breaker's cap fits the riskier of two positions, not both: the DEX alone would sell the
/// riskier (the lot trimmed to the cap) at a better price per unit than the bids pay (the
/// pool prices BTC at 100, above the oracle's 90), and hold the other back a block. A lot the
/// DEX would sell only in part counts as one it would not sell now: the bids take it whole,
/// as when the cap fits neither (above).
#[test]
fn a_lot_the_dex_would_sell_only_in_part_goes_whole_to_the_bids() {
	ExtBuilder::default().build_and_execute(|| {
		let id = gov_bids(2_000_000, 20_000);
		System::set_block_number(3);
		let accounts = borrowers(&[700_000, 680_000]);
		let [riskier, other] = accounts[..] else { unreachable!() };
		MockOracle::set(BTC, fx(90, 1));
		let value = |who| Liquidation::preview(who).unwrap().dex_input.unwrap() * 90;
		MockBreaker::throttle(BTC, value(riskier) + value(other) / 2);
		let mut sorted = accounts.clone();
		sorted.sort();
		let w = BatchWitness { pairs: 1, wide: 0, bids: u32::MAX };
		// Without the bid: the riskier sold on the DEX, the other held back by the cap.
		// (The mock breaker's tally of sales is not storage: restored with the rollback.)
		let sold = MockBreaker::sold_tally();
		let dex_only = frame_support::storage::with_transaction(|| {
			assert_ok!(Bids::cancel_bid(RuntimeOrigin::signed(GOV), id));
			let dry = Liquidation::try_settle_batch(&sorted, w);
			frame_support::storage::TransactionOutcome::Rollback(dry)
		})
		.unwrap();
		MockBreaker::restore_sold(sold);
		assert_eq!(MockBreaker::sold(BTC), 0);
		assert_eq!(dex_only.settled, vec![riskier]);
		assert!(matches!(
			dex_only.skipped[..],
			[(who, Skipped::Dex(DexRefusal::Throttled { .. }))] if who == other
		));
		// With it: both to the bids, nothing sold into the pool.
		let pool = pool_reserves(USD, BTC);
		System::reset_events();
		assert_ok!(batch(&accounts));
		assert_eq!(settled_routes(), vec![Route::Bids { fills: 1 }; 2]);
		assert!(events().iter().all(|e| !matches!(e, Event::SettlementSkipped { .. })));
		assert_eq!(pool_reserves(USD, BTC), pool);
		assert!(accounts.iter().all(|a| health(*a) >= fx(1, 1)));
	});
}

/// A member of the batch (not the first) holds the best bid of the pair: it is passed over
/// (no seizure to oneself) and the next bid buys the lot; before, any member's own bid in
/// the fills sent the whole pair to the DEX, so a borrower could keep its pair off the bids.
#[test]
fn a_members_own_bid_does_not_keep_the_pair_from_the_bids() {
	ExtBuilder::default().without_pools().build_and_execute(|| {
		create_pool(LP, USD, BTC, 90_000_000_000, 1_000_000_000);
		let id = gov_bids(2_000_000, 1_000);
		let accounts = borrowers(&[700_000, 680_000]);
		let last = *accounts.iter().max().unwrap();
		mint(USD, last, 3_000_000);
		assert_ok!(<Balances as frame_support::traits::fungible::Mutate<AccountId>>::mint_into(
			&last,
			1_000_000_000
		));
		let own = pallet_bids::NextBidId::<Test>::get();
		assert_ok!(Bids::place_bid(
			RuntimeOrigin::signed(last),
			BTC,
			USD,
			2_000_000,
			Permill::zero(),
			500
		));
		System::set_block_number(3);
		MockOracle::set(BTC, fx(90, 1));
		System::reset_events();
		let pool = pool_reserves(USD, BTC);
		assert_ok!(batch(&accounts));
		let routes = settled_routes();
		assert_eq!(routes, vec![Route::Bids { fills: 1 }; 2]);
		assert_eq!(pallet_bids::StandingBids::<Test>::get(own).unwrap().remaining, 2_000_000);
		assert!(pallet_bids::StandingBids::<Test>::get(id).unwrap().remaining < 2_000_000);
		assert_eq!(pool_reserves(USD, BTC), pool);
	});
}

/// A position queued behind a throttled collateral's cap and then sold in a batch (here to
/// the bids, the DEX throttled) leaves the queue with the sale (`Dequeued`), as `settle`'s
/// does: a settled entry left in place would spend the next sales' queue checks.
#[test]
fn a_batch_takes_the_positions_it_settles_out_of_the_sale_queue() {
	ExtBuilder::default().build_and_execute(|| {
		let id = gov_bids(2_000_000, 20_000);
		let accounts = borrowers(&[700_000]);
		MockOracle::set(BTC, fx(90, 1));
		MockBreaker::throttle(BTC, 0);
		// Before the bid is active: the DEX throttled, the position queues.
		assert_ok!(Liquidation::settle(RuntimeOrigin::signed(CHARLIE), accounts[0]));
		assert_eq!(SaleQueue::<Test>::get(BTC).len(), 1);
		System::set_block_number(3);
		System::reset_events();
		assert_ok!(batch(&accounts));
		assert!(events().iter().any(
			|e| matches!(e, Event::Settled { route: Route::Bids { fills: 1 }, borrower, .. } if *borrower == accounts[0])
		));
		assert!(pallet_bids::StandingBids::<Test>::get(id).unwrap().remaining < 2_000_000);
		assert!(SaleQueue::<Test>::get(BTC).is_empty());
		assert!(events()
			.contains(&Event::Dequeued { borrower: accounts[0], collateral_asset: BTC }));
	});
}

/// The rule both routes read: the bids when the DEX would not sell, or when they take less
/// collateral for each unit repaid, compared exactly (a batch's DEX sale may repay less than
/// the bids when it leaves members out: the price it gives the rest is what counts).
#[test]
fn the_bids_beat_the_dex_by_the_price_for_each_unit_repaid() {
	let beat = Liquidation::bids_beat;
	assert!(beat(1, 1, None));
	assert!(beat(99, 100, Some((100, 100))));
	assert!(!beat(100, 100, Some((100, 100))), "a tie keeps the DEX");
	// The DEX repays half for less than half the collateral: a better price, it keeps.
	assert!(!beat(1_000, 1_000, Some((499, 500))));
	assert!(beat(1_000, 1_000, Some((501, 500))));
	// Exact at the edges of u128: 1/(2^128-1) against 1/(2^128-2).
	assert!(beat(1, u128::MAX, Some((1, u128::MAX - 1))));
	assert!(!beat(1, u128::MAX - 1, Some((1, u128::MAX))));
	// Nothing repaid by the bids never beats; nothing repaid by the DEX is no sale.
	assert!(!beat(0, 0, Some((1, 1))));
	assert!(beat(1, 1, Some((0, 0))));
}

/// The DEX's sale cut to the breaker's cap while the bids cover only part of the plan: the
/// cut sells on the DEX (the bids' part is sold only when the DEX refuses), the bid untouched.
#[test]
fn a_cut_dex_sale_is_kept_when_the_bids_cover_only_part_of_the_plan() {
	ExtBuilder::default().build_and_execute(|| {
		let id = gov_bids(20_000, 1_000);
		System::set_block_number(3);
		alice_underwater(90);
		let preview = Liquidation::preview(ALICE).unwrap();
		assert!(preview.repay > 20_000);
		// A cap of half the sale's value: the DEX's sale is cut to about half the plan.
		MockBreaker::throttle(BTC, preview.dex_input.unwrap() * 90 / 2);
		assert_ok!(Liquidation::settle(RuntimeOrigin::signed(CHARLIE), ALICE));
		let (route, repaid, ..) = settled();
		assert_eq!(route, Route::Dex);
		assert!(repaid < preview.repay && repaid > 20_000, "{repaid} of {}", preview.repay);
		assert_eq!(pallet_bids::StandingBids::<Test>::get(id).unwrap().remaining, 20_000);
	});
}

/// The BTC market's cash.
fn btc_cash() -> u128 {
	<Lending as LendingPositions<AccountId>>::available_cash(&BTC)
}

/// The BTC market's cash lent out but `left`: Dave withdraws all but 20,000 of his supply,
/// Bob supplies USD and borrows the rest.
fn lend_out_btc(left: u128) {
	assert_ok!(Lending::withdraw(
		RuntimeOrigin::signed(DAVE),
		BTC,
		Amount::Exact(100_000_000_000 - 20_000)
	));
	mint(USD, BOB, 1_000_000_000);
	assert_ok!(Lending::supply(RuntimeOrigin::signed(BOB), USD, 1_000_000_000));
	assert_ok!(Lending::borrow(RuntimeOrigin::signed(BOB), BTC, btc_cash() - left));
}

/// Session 32 (found by review): the treasury full, a lot's rests are paid to it in tokens,
/// from the collateral market's cash. A lot the DEX sells only in part (trimmed to the
/// breaker's cap) needs less cash than the bids' rests of the whole lot. Before, the bids were
/// tried all the same: their sale failed at its last step, after the lending pass over every
/// member, was rolled back, and the DEX sold its part in a second pass the batch did not charge.
/// Now the bids are not tried without that cash: the DEX sells its part, the book untouched,
/// nothing charged for a sale to the bids.
#[test]
fn a_lot_whose_rests_the_market_cannot_pay_is_not_tried_on_the_bids() {
	ExtBuilder::default().build_and_execute(|| {
		let id = gov_bids(10_000_000, 20_000);
		System::set_block_number(3);
		// A small position, the riskier (its sale above the minimum balance), and a large one
		// (its rest above it too).
		let (small, large) = (10, 11);
		for (who, btc, usd) in [(small, 6_000, 414_000), (large, 400_000, 27_400_000)] {
			mint(BTC, who, btc + MIN);
			assert_ok!(Lending::supply(RuntimeOrigin::signed(who), BTC, btc));
			assert_ok!(Lending::borrow(RuntimeOrigin::signed(who), USD, usd));
		}
		correctness::treasury_full_but_btc();
		assert!(Liquidation::treasury_full(&BTC));
		MockOracle::set(BTC, fx(90, 1));
		assert!(health(small) < health(large) && health(large) < fx(1, 1));
		// The cap fits the small position's sale and half the large one's.
		let value = |who| Liquidation::preview(who).unwrap().dex_input.unwrap() * 90;
		MockBreaker::throttle(BTC, value(small) + value(large) / 2);
		let accounts = [small, large];
		let w = BatchWitness { pairs: 1, wide: 0, bids: u32::MAX };
		// The batch made and rolled back (with the bid cancelled first, or not): each
		// settlement's route, collateral sold and rest to the treasury.
		let dry = |cancel: bool| {
			let tally = MockBreaker::sold_tally();
			let settled = frame_support::storage::with_transaction(|| {
				if cancel {
					assert_ok!(Bids::cancel_bid(RuntimeOrigin::signed(GOV), id));
				}
				System::reset_events();
				assert_ok!(batch(&accounts));
				let settled: Vec<(Route, u128, u128)> = events()
					.into_iter()
					.filter_map(|e| match e {
						Event::Settled { route, sold, to_insurance, .. } => {
							Some((route, sold, to_insurance))
						},
						_ => None,
					})
					.collect();
				frame_support::storage::TransactionOutcome::Rollback(Ok::<_, DispatchError>(
					settled,
				))
			})
			.unwrap();
			MockBreaker::restore_sold(tally);
			settled
		};
		// With the market's cash: the bids take the whole lot, paying the treasury its rests.
		let to_bids = dry(false);
		assert!(matches!(to_bids[..], [(Route::Bids { .. }, ..), (Route::Bids { .. }, ..)]));
		let bids_rests: u128 = to_bids.iter().map(|(_, _, rest)| rest).sum();
		// Without the bid: the DEX sells the small position alone, for less cash.
		let dex = dry(true);
		let [(Route::Dex, dex_sold, dex_rest)] = dex[..] else { panic!("{dex:?}") };
		let dex_cash = dex_sold + dex_rest;
		assert!(dex_cash + 200 < bids_rests, "{dex_cash} {bids_rests}");
		// The market keeps more than the DEX's cash (its sale and, counted, its rest), less than
		// the bids' rests.
		lend_out_btc((dex_cash + bids_rests) / 2);
		assert!(btc_cash() < bids_rests);
		// The bids are asked, not tried: nothing charged for their sale.
		let report = Liquidation::try_settle_batch(&accounts, w).unwrap();
		assert_eq!(report.settled, vec![small]);
		assert!(matches!(
			report.skipped[..],
			[(who, Skipped::Dex(DexRefusal::Throttled { .. }))] if who == large
		));
		assert_eq!((report.bids_asked, report.bids_sold, report.bids_members), (1, 0, 0));
		// And made: the DEX sells the small position, the bid untouched.
		System::reset_events();
		assert_ok!(batch(&accounts));
		assert_eq!(settled_routes(), vec![Route::Dex]);
		assert_eq!(pallet_bids::StandingBids::<Test>::get(id).unwrap().remaining, 10_000_000);
	});
}

/// Session 32 (second review): rests the treasury could not receive (below the collateral's
/// minimum balance, the treasury holding none of it) are left with the borrowers and take no
/// cash, so they do not keep a lot from the bids when the market's cash is all lent out. The
/// first version of the cash check counted them: the bids were not tried, the DEX refused
/// for cash, and nothing was settled.
#[test]
fn rests_left_with_the_borrowers_need_no_cash_and_the_bids_buy_the_lot() {
	ExtBuilder::default().without_pools().build_and_execute(|| {
		let (id, accounts) = a_lot_below_one(2_000_000);
		correctness::treasury_full_but_btc();
		assert!(Liquidation::treasury_full(&BTC));
		assert_eq!(balance(BTC, insurance()), 0);
		// A treasury's share of 1% of the penalty: each rest a few units, their sum far below
		// BTC's minimum balance.
		Params::<Test>::mutate(|p| p.insurance_share = Permill::from_percent(1));
		// Every unit of BTC cash lent out.
		lend_out_btc(0);
		assert_eq!(btc_cash(), 0);
		let remaining = pallet_bids::StandingBids::<Test>::get(id).unwrap().remaining;
		let held: Vec<u128> = accounts.iter().map(|a| supplied(*a, BTC)).collect();
		System::reset_events();
		assert_ok!(batch(&accounts));
		assert_eq!(settled_routes(), vec![Route::Bids { fills: 1 }; 2]);
		let paid: u128 = events()
			.into_iter()
			.filter_map(|e| match e {
				Event::Settled { repaid, to_insurance, .. } => {
					assert_eq!(to_insurance, 0);
					Some(repaid)
				},
				_ => None,
			})
			.sum();
		assert_eq!(pallet_bids::StandingBids::<Test>::get(id).unwrap().remaining, remaining - paid);
		// Nothing reached the treasury; the borrowers kept their rests.
		assert_eq!(balance(BTC, insurance()), 0);
		assert_eq!(supplied(insurance(), BTC), 0);
		assert!(accounts.iter().zip(held).all(|(a, before)| supplied(*a, BTC) < before));
	});
}
