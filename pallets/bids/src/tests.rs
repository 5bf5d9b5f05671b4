//! Every path of a bid (placed, ordered, evicted, cancelled, expired) and every refusal by
//! name, with the balances it holds and releases checked to the unit.

use crate::{mock::*, *};
use frame_support::{
	assert_noop, assert_ok,
	traits::fungible::{Inspect as _, InspectHold as _},
};
use sp_arithmetic::{FixedU128, Permill};

fn pct(p: u32) -> Permill {
	Permill::from_percent(p)
}

fn place(who: AccountId, amount: u128, discount: Permill) -> BidId {
	let id = NextBidId::<Test>::get();
	assert_ok!(Bids::place_bid(RuntimeOrigin::signed(who), XBTC, USDM, amount, discount, 500));
	id
}

fn held_usdm(who: AccountId) -> u128 {
	<AssetsHolder as frame_support::traits::fungibles::InspectHold<_>>::balance_on_hold(
		USDM,
		&HoldReason::Escrow.into(),
		&who,
	)
}

fn held_deposit(who: AccountId) -> u128 {
	Balances::balance_on_hold(&HoldReason::Deposit.into(), &who)
}

fn free_usdm(who: AccountId) -> u128 {
	<Assets as frame_support::traits::fungibles::Inspect<_>>::balance(USDM, &who)
}

fn book_ids() -> Vec<BidId> {
	Book::<Test>::get((XBTC, USDM)).iter().map(|e| e.id).collect()
}

fn last_event() -> RuntimeEvent {
	System::events().pop().expect("an event").event
}

#[test]
fn a_bid_holds_its_debt_asset_and_deposit_on_the_owners_account() {
	new_test_ext().execute_with(|| {
		let amount = 50_000 * UNIT;
		let (free, native) = (free_usdm(ALICE), Balances::balance(&ALICE));
		let total = <AssetsHolder as frame_support::traits::fungibles::Inspect<_>>::total_balance(
			USDM, &ALICE,
		);
		let issuance =
			<Assets as frame_support::traits::fungibles::Inspect<_>>::total_issuance(USDM);
		let id = place(ALICE, amount, pct(3));
		// Held, not transferred: free balance down, on hold up, the owner's total unchanged.
		assert_eq!(free_usdm(ALICE), free - amount);
		assert_eq!(held_usdm(ALICE), amount);
		assert_eq!(
			<AssetsHolder as frame_support::traits::fungibles::Inspect<_>>::total_balance(
				USDM, &ALICE
			),
			total
		);
		assert_eq!(
			<Assets as frame_support::traits::fungibles::Inspect<_>>::total_issuance(USDM),
			issuance
		);
		assert_eq!(Balances::balance(&ALICE), native - DEPOSIT);
		assert_eq!(held_deposit(ALICE), DEPOSIT);
		let bid = StandingBids::<Test>::get(id).expect("stored");
		assert_eq!(
			bid,
			Bid {
				owner: ALICE,
				collateral: XBTC,
				debt: USDM,
				remaining: amount,
				discount: pct(3),
				active_from: 11,
				expires_at: 500,
				deposit: DEPOSIT,
			}
		);
		assert_eq!(book_ids(), vec![id]);
		assert_eq!(BidCount::<Test>::get(ALICE), 1);
		assert_eq!(
			last_event(),
			RuntimeEvent::Bids(Event::BidPlaced {
				id,
				owner: ALICE,
				collateral: XBTC,
				debt: USDM,
				amount,
				discount: pct(3),
				active_from: 11,
				expires_at: 500,
			})
		);
		// The held funds cannot be spent meanwhile.
		assert!(<Assets as frame_support::traits::fungibles::Mutate<_>>::transfer(
			USDM,
			&ALICE,
			&BOB,
			free - amount + 1,
			frame_support::traits::tokens::Preservation::Expendable,
		)
		.is_err());
	});
}

#[test]
fn the_book_stands_best_first_lowest_discount_then_oldest() {
	new_test_ext().execute_with(|| {
		let a = place(ALICE, 1_000 * UNIT, pct(4));
		let b = place(BOB, 1_000 * UNIT, pct(2));
		let c = place(CHARLIE, 1_000 * UNIT, pct(4));
		let d = place(ALICE, 1_000 * UNIT, pct(1));
		assert_eq!(book_ids(), vec![d, b, a, c]);
		let view: Vec<BidId> = Bids::book(XBTC, USDM).into_iter().map(|(id, _)| id).collect();
		assert_eq!(view, vec![d, b, a, c]);
		// Another pair's book is its own.
		assert!(Book::<Test>::get((USDM, XBTC)).is_empty());
	});
}

#[test]
fn every_refusal_is_named_and_changes_nothing() {
	new_test_ext().execute_with(|| {
		let signed = RuntimeOrigin::signed;
		let amount = 1_000 * UNIT;
		assert_noop!(
			Bids::place_bid(signed(ALICE), USDM, USDM, amount, pct(1), 500),
			Error::<Test>::SameAsset
		);
		assert_noop!(
			Bids::place_bid(signed(ALICE), JUNK, USDM, amount, pct(1), 500),
			Error::<Test>::NoMarket
		);
		assert_noop!(
			Bids::place_bid(signed(ALICE), XBTC, JUNK, amount, pct(1), 500),
			Error::<Test>::NoMarket
		);
		assert_noop!(
			Bids::place_bid(signed(ALICE), XBTC, USDM, amount, Permill::from_parts(50_001), 500),
			Error::<Test>::DiscountTooHigh
		);
		assert_noop!(
			Bids::place_bid(signed(ALICE), XBTC, USDM, 100 * UNIT - 1, pct(1), 500),
			Error::<Test>::BidTooSmall
		);
		// Activation at 11: an expiry at it or before it, or past the lifetime (1 + 1,000).
		assert_noop!(
			Bids::place_bid(signed(ALICE), XBTC, USDM, amount, pct(1), 11),
			Error::<Test>::BadExpiry
		);
		assert_noop!(
			Bids::place_bid(signed(ALICE), XBTC, USDM, amount, pct(1), 1_002),
			Error::<Test>::BadExpiry
		);
		assert_ok!(Bids::place_bid(signed(ALICE), XBTC, USDM, amount, pct(1), 1_001));
		assert_noop!(
			Bids::place_bid(signed(BOB), XBTC, USDM, 1_000_001 * UNIT, pct(1), 500),
			Error::<Test>::CannotEscrow
		);
		assert_noop!(
			Bids::place_bid(signed(PAUPER), XBTC, USDM, amount, pct(1), 500),
			Error::<Test>::CannotPayDeposit
		);
		MockMarkets::set(USDM, pct(5), None);
		assert_noop!(
			Bids::place_bid(signed(BOB), XBTC, USDM, amount, pct(1), 500),
			Error::<Test>::NoPrice
		);
		markets();
		place(ALICE, amount, pct(1));
		place(ALICE, amount, pct(1));
		assert_noop!(
			Bids::place_bid(signed(ALICE), XBTC, USDM, amount, pct(1), 500),
			Error::<Test>::TooManyBids
		);
		assert_noop!(Bids::cancel_bid(signed(ALICE), 99), Error::<Test>::UnknownBid);
		assert_noop!(Bids::cancel_bid(signed(BOB), 0), Error::<Test>::NotOwner);
		assert_noop!(Bids::cancel_bid(signed(ALICE), 0), Error::<Test>::NotActiveYet);
		assert_noop!(Bids::remove_expired_bid(signed(BOB), 0), Error::<Test>::NotExpired);
		assert_noop!(Bids::remove_expired_bid(signed(BOB), 99), Error::<Test>::UnknownBid);
	});
}

#[test]
fn a_full_book_takes_only_a_better_bid_and_returns_the_worst_ones_funds() {
	new_test_ext().execute_with(|| {
		let amount = 1_000 * UNIT;
		let worst = place(ALICE, amount, pct(4));
		let others = [place(BOB, amount, pct(2)), place(CHARLIE, amount, pct(3))];
		place(BOB, amount, pct(4));
		let (free, native) = (free_usdm(ALICE), Balances::balance(&ALICE));
		// Not better than the worst (4%, older wins the tie): refused, nothing moves.
		assert_noop!(
			Bids::place_bid(RuntimeOrigin::signed(CHARLIE), XBTC, USDM, amount, pct(4), 500),
			Error::<Test>::BookFull
		);
		// Better: the worst (the newer of the two at 4%: Bob's) makes way.
		let better = place(CHARLIE, 2 * amount, pct(3));
		let evicted = 3;
		assert_eq!(
			System::events().iter().rev().nth(1).map(|r| r.event.clone()),
			Some(RuntimeEvent::Bids(Event::BidEvicted {
				id: evicted,
				owner: BOB,
				returned: amount,
				by: better
			}))
		);
		assert!(StandingBids::<Test>::get(evicted).is_none());
		assert_eq!(book_ids(), vec![others[0], others[1], better, worst]);
		assert_eq!(BidCount::<Test>::get(BOB), 1);
		assert_eq!(held_usdm(BOB), amount);
		assert_eq!(held_deposit(BOB), DEPOSIT);
		// Alice's bid untouched.
		assert_eq!((free_usdm(ALICE), Balances::balance(&ALICE)), (free, native));
	});
}

#[test]
fn an_expired_bid_makes_way_first_and_anyone_may_remove_one() {
	new_test_ext().execute_with(|| {
		let amount = 1_000 * UNIT;
		let short = NextBidId::<Test>::get();
		assert_ok!(Bids::place_bid(RuntimeOrigin::signed(ALICE), XBTC, USDM, amount, pct(1), 20));
		for who in [BOB, CHARLIE, BOB] {
			place(who, amount, pct(2));
		}
		System::set_block_number(20);
		// The best bid, but expired: a worse new bid takes its place.
		let free = free_usdm(ALICE);
		let new = place(CHARLIE, amount, pct(5));
		assert!(StandingBids::<Test>::get(short).is_none());
		assert!(System::events().iter().any(|r| r.event
			== RuntimeEvent::Bids(Event::BidExpired {
				id: short,
				owner: ALICE,
				returned: amount
			})));
		assert_eq!(free_usdm(ALICE), free + amount);
		assert_eq!(held_deposit(ALICE), 0);
		assert_eq!(*book_ids().last().unwrap(), new);
		// Anyone removes an expired bid; its owner gets everything back.
		let id = book_ids()[0];
		System::set_block_number(500);
		let (free, native) = (free_usdm(BOB), Balances::balance(&BOB));
		assert_ok!(Bids::remove_expired_bid(RuntimeOrigin::signed(CHARLIE), id));
		assert_eq!(free_usdm(BOB), free + amount);
		assert_eq!(Balances::balance(&BOB), native + DEPOSIT);
		assert_eq!(
			last_event(),
			RuntimeEvent::Bids(Event::BidExpired { id, owner: BOB, returned: amount })
		);
		assert!(!book_ids().contains(&id));
	});
}

#[test]
fn the_owner_cancels_an_active_bid_and_gets_everything_back() {
	new_test_ext().execute_with(|| {
		let amount = 7_000 * UNIT;
		let (free, native) = (free_usdm(ALICE), Balances::balance(&ALICE));
		let id = place(ALICE, amount, pct(2));
		System::set_block_number(11);
		assert_ok!(Bids::cancel_bid(RuntimeOrigin::signed(ALICE), id));
		assert_eq!((free_usdm(ALICE), Balances::balance(&ALICE)), (free, native));
		assert_eq!((held_usdm(ALICE), held_deposit(ALICE)), (0, 0));
		assert_eq!(
			last_event(),
			RuntimeEvent::Bids(Event::BidCancelled { id, owner: ALICE, returned: amount })
		);
		assert!(StandingBids::<Test>::get(id).is_none());
		assert!(!Book::<Test>::contains_key((XBTC, USDM)));
		assert!(!BidCount::<Test>::contains_key(ALICE));
		// Cancelled is gone.
		assert_noop!(Bids::cancel_bid(RuntimeOrigin::signed(ALICE), id), Error::<Test>::UnknownBid);
	});
}

/// The price of a collateral does not bound the amount: a bid is valued in its debt asset.
#[test]
fn a_bid_is_valued_in_its_debt_asset() {
	new_test_ext().execute_with(|| {
		MockMarkets::set(XBTC, pct(5), None);
		// XBTC has no price, but the bid holds USDM: placed.
		place(ALICE, 100 * UNIT, pct(1));
		MockMarkets::set(USDM, pct(5), Some(FixedU128::from_rational(1, 2)));
		assert_noop!(
			Bids::place_bid(RuntimeOrigin::signed(ALICE), XBTC, USDM, 199 * UNIT, pct(1), 500),
			Error::<Test>::BidTooSmall
		);
	});
}

fn usd(x: u32) -> FixedU128 {
	FixedU128::from_u32(x)
}

#[test]
fn a_quote_takes_the_best_usable_bids_first_and_changes_nothing() {
	new_test_ext().execute_with(|| {
		let early = place(ALICE, 1_000 * UNIT, pct(1));
		let best = place(BOB, 3_000 * UNIT, pct(2));
		let next = place(CHARLIE, 5_000 * UNIT, pct(3));
		// Not active before block 11.
		assert!(Bids::quote(XBTC, USDM, 2_000 * UNIT, (usd(60_000), usd(1))).is_empty());
		System::set_block_number(11);
		// Alice's 1% bid placed at 1 is active now; a later one is not.
		let late = place(ALICE, 10_000 * UNIT, Permill::zero());
		let root = sp_io::storage::root(sp_runtime::StateVersion::V1);
		let fills = Bids::quote(XBTC, USDM, 6_000 * UNIT, (usd(60_000), usd(1)));
		assert_eq!(
			sp_io::storage::root(sp_runtime::StateVersion::V1),
			root,
			"a quote changes nothing"
		);
		// 1,000 at 1%, 3,000 at 2%, the last 2,000 at 3%: each bid's collateral at its price,
		// rounded down.
		let at =
			|debt: u128, d: u32| debt * 1_000_000 / (60_000 * (1_000_000 - d as u128 * 10_000));
		assert_eq!(
			fills,
			vec![
				Fill {
					id: early,
					owner: ALICE,
					collateral: at(1_000 * UNIT, 1),
					debt: 1_000 * UNIT
				},
				Fill { id: best, owner: BOB, collateral: at(3_000 * UNIT, 2), debt: 3_000 * UNIT },
				Fill {
					id: next,
					owner: CHARLIE,
					collateral: at(2_000 * UNIT, 3),
					debt: 2_000 * UNIT
				},
			]
		);
		assert!(fills.iter().all(|f| f.id != late));
		// At most `MaxFills` (3) bids read: the book holds more than asked.
		assert_eq!(Bids::quote(XBTC, USDM, 100_000 * UNIT, (usd(60_000), usd(1))).len(), 3);
	});
}

#[test]
fn a_fill_pays_from_the_hold_once_a_block_and_an_emptied_bid_leaves() {
	new_test_ext().execute_with(|| {
		let id = place(BOB, 3_000 * UNIT, pct(2));
		System::set_block_number(11);
		let to: AccountId = 99;
		let (free, native) = (free_usdm(BOB), Balances::balance(&BOB));
		let part = Fill { id, owner: BOB, collateral: 1, debt: 1_000 * UNIT };
		assert_ok!(Bids::take(&part, &to));
		assert_eq!(free_usdm(to), 1_000 * UNIT);
		assert_eq!(held_usdm(BOB), 2_000 * UNIT);
		assert_eq!(free_usdm(BOB), free, "paid from the hold, not the free balance");
		assert_eq!(
			last_event(),
			RuntimeEvent::Bids(Event::BidFilled {
				id,
				owner: BOB,
				collateral: 1,
				paid: 1_000 * UNIT,
				remaining: 2_000 * UNIT
			})
		);
		// One fill a block: the quote skips it, a take is refused.
		assert!(Bids::quote(XBTC, USDM, 1_000 * UNIT, (usd(60_000), usd(1))).is_empty());
		assert_noop!(Bids::take(&part, &to), Error::<Test>::BidUnavailable);
		System::set_block_number(12);
		// More than it holds, or another owner's name: refused.
		let over = Fill { debt: 2_000 * UNIT + 1, ..part.clone() };
		assert_noop!(Bids::take(&over, &to), Error::<Test>::BidUnavailable);
		let impostor = Fill { owner: ALICE, ..part.clone() };
		assert_noop!(Bids::take(&impostor, &to), Error::<Test>::BidUnavailable);
		// The rest empties it: out of the book, its deposit back.
		let rest = Fill { debt: 2_000 * UNIT, ..part };
		assert_ok!(Bids::take(&rest, &to));
		assert_eq!(free_usdm(to), 3_000 * UNIT);
		assert!(StandingBids::<Test>::get(id).is_none());
		assert!(book_ids().is_empty());
		assert_eq!((held_usdm(BOB), held_deposit(BOB)), (0, 0));
		assert_eq!(Balances::balance(&BOB), native + DEPOSIT);
		assert!(!BidCount::<Test>::contains_key(BOB));
		// Expired: no fill.
		let late = place(ALICE, 1_000 * UNIT, pct(1));
		System::set_block_number(500);
		assert_noop!(
			Bids::take(&Fill { id: late, owner: ALICE, collateral: 1, debt: UNIT }, &to),
			Error::<Test>::BidUnavailable
		);
	});
}
