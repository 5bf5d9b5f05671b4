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

/// A quote of up to `repay` at XBTC 60,000, any discount, for a seller that is not a bidder.
fn quote(repay: u128) -> Vec<Fill<AccountId>> {
	Bids::quote(XBTC, USDM, repay, (usd(60_000), usd(1)), Permill::one(), &[99])
}

#[test]
fn a_quote_takes_the_best_usable_bids_first_and_changes_nothing() {
	new_test_ext().execute_with(|| {
		let small = place(ALICE, 1_000 * UNIT, pct(1));
		let best = place(BOB, 3_000 * UNIT, pct(2));
		let next = place(CHARLIE, 5_000 * UNIT, pct(3));
		// Not active before block 11.
		assert!(quote(2_000 * UNIT).is_empty());
		System::set_block_number(11);
		// A bid placed now is not active yet, though the best.
		let late = place(ALICE, 10_000 * UNIT, Permill::zero());
		let root = sp_io::storage::root(sp_runtime::StateVersion::V1);
		let fills = quote(6_000 * UNIT);
		assert_eq!(
			sp_io::storage::root(sp_runtime::StateVersion::V1),
			root,
			"a quote changes nothing"
		);
		// Alice's 1% bid holds less than its share (6,000 / 3 fills): passed over, so that
		// small bids at the top cannot stand in front of the rest. 3,000 at 2%, the last
		// 3,000 at 3%: each bid's collateral at its price, rounded down.
		let at =
			|debt: u128, d: u32| debt * 1_000_000 / (60_000 * (1_000_000 - d as u128 * 10_000));
		assert_eq!(
			fills,
			vec![
				Fill { id: best, owner: BOB, collateral: at(3_000 * UNIT, 2), debt: 3_000 * UNIT },
				Fill {
					id: next,
					owner: CHARLIE,
					collateral: at(3_000 * UNIT, 3),
					debt: 3_000 * UNIT
				},
			]
		);
		assert!(fills.iter().all(|f| f.id != late && f.id != small));
		// A smaller seizure: the small bid's share is enough, best first.
		assert_eq!(quote(900 * UNIT)[0].id, small);
		// None past the largest discount asked, none of the seller's own.
		let capped = Bids::quote(XBTC, USDM, 6_000 * UNIT, (usd(60_000), usd(1)), pct(2), &[99]);
		assert_eq!(capped.iter().map(|f| f.id).collect::<Vec<_>>(), vec![best]);
		let own = Bids::quote(XBTC, USDM, 6_000 * UNIT, (usd(60_000), usd(1)), pct(5), &[BOB]);
		assert_eq!(own.iter().map(|f| f.id).collect::<Vec<_>>(), vec![next]);
		// Several sellers (a batch's pair): none of any of them.
		let sellers = [99, BOB, CHARLIE];
		let none = Bids::quote(XBTC, USDM, 6_000 * UNIT, (usd(60_000), usd(1)), pct(5), &sellers);
		assert!(none.is_empty());
	});
}

/// Four small bids at 0% (USD 100 each) at the top of the book: a seizure of 40,000 reads
/// past them to the large bid below (the attack: small bids that never fill standing in
/// front of the book's depth for every liquidation of the pair).
#[test]
fn small_bids_at_the_top_cannot_hide_the_large_ones() {
	new_test_ext().execute_with(|| {
		let large = place(CHARLIE, 50_000 * UNIT, pct(4));
		for who in [ALICE, ALICE, BOB] {
			place(who, 100 * UNIT, Permill::zero());
		}
		System::set_block_number(11);
		let fills = quote(40_000 * UNIT);
		assert_eq!(fills.len(), 1);
		assert_eq!((fills[0].id, fills[0].debt), (large, 40_000 * UNIT));
		// A seizure they may each pay their share of: theirs, best first.
		assert_eq!(quote(300 * UNIT).len(), 3);
	});
}

/// A bid whose owner cannot take the collateral as lending supply (its markets are full) is
/// passed over: its fill would fail, and while it stood at the top every sale to the pair's
/// bids would fall back to the DEX (one cheap bid could blind the route).
#[test]
fn a_bid_whose_owner_cannot_take_the_collateral_is_passed_over() {
	new_test_ext().execute_with(|| {
		let blind = place(ALICE, 50_000 * UNIT, Permill::zero());
		let next = place(CHARLIE, 50_000 * UNIT, pct(2));
		System::set_block_number(11);
		assert_eq!(quote(40_000 * UNIT)[0].id, blind);
		MockMarkets::fill_markets_of(ALICE);
		let fills = quote(40_000 * UNIT);
		assert_eq!(fills.len(), 1);
		assert_eq!((fills[0].id, fills[0].owner, fills[0].debt), (next, CHARLIE, 40_000 * UNIT));
	});
}

#[test]
fn a_swarm_of_small_bids_cannot_push_a_large_one_out() {
	new_test_ext().execute_with(|| {
		for who in [ALICE, BOB, CHARLIE] {
			place(who, 10_000 * UNIT, pct(4));
		}
		let last = place(ALICE, 10_000 * UNIT, pct(4));
		// Better but smaller: refused; as large: the worst makes way.
		assert_noop!(
			Bids::place_bid(RuntimeOrigin::signed(BOB), XBTC, USDM, 9_999 * UNIT, pct(1), 500),
			Error::<Test>::BookFull
		);
		place(BOB, 10_000 * UNIT, pct(1));
		assert!(StandingBids::<Test>::get(last).is_none());
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
		assert!(quote(1_000 * UNIT).is_empty());
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

/// A fill that leaves a bid less than the debt asset's minimum balance ends it: such a rest
/// could never be paid out (a new holder below the minimum), so it would stand at the top of
/// the book and fail every fill.
#[test]
fn a_fill_leaving_dust_ends_the_bid() {
	new_test_ext().execute_with(|| {
		let id = place(BOB, 1_000 * UNIT, pct(2));
		System::set_block_number(11);
		let free = free_usdm(BOB);
		let min = <Assets as frame_support::traits::fungibles::Inspect<_>>::minimum_balance(USDM);
		let fill = Fill { id, owner: BOB, collateral: 1, debt: 1_000 * UNIT - (min - 1) };
		assert_ok!(Bids::take(&fill, &99));
		assert!(StandingBids::<Test>::get(id).is_none());
		assert!(book_ids().is_empty());
		// The dust back to its owner, free; nothing held.
		assert_eq!(free_usdm(BOB), free + (min - 1));
		assert_eq!((held_usdm(BOB), held_deposit(BOB)), (0, 0));
	});
}
