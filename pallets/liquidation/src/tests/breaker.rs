use super::*;

fn settle(who: AccountId) -> frame_support::dispatch::DispatchResultWithPostInfo {
	Liquidation::settle(RuntimeOrigin::signed(CHARLIE), who)
}

fn queue(asset: AssetId) -> Vec<AccountId> {
	SaleQueue::<Test>::get(asset).into_iter().map(|e| e.borrower).collect()
}

/// The collateral value (at BTC `price`, rounded up) of what the next `settle` of `who`
/// would sell.
fn sale_value(who: AccountId, price: u128) -> u128 {
	Liquidation::preview(who).unwrap().dex_input.unwrap() * price
}

fn next_block() {
	System::set_block_number(System::block_number() + 1);
}

#[test]
fn a_halted_collateral_is_not_sold_the_backstop_takes_it_or_it_goes_to_auction() {
	ExtBuilder::default().build_and_execute(|| {
		alice_underwater(90);
		MockBreaker::halt(BTC);
		let preview = Liquidation::preview(ALICE).unwrap();
		assert_eq!(preview.route, Ok(Route::Auction { dex: DexRefusal::Halted }));
		// No treasury funds: an auction starts; nothing sold, nothing repaid yet.
		let before = snapshot();
		assert_ok!(settle(ALICE));
		assert!(matches!(
			last_event(),
			Event::AuctionStarted { id: 0, borrower: ALICE, dex: DexRefusal::Halted, .. }
		));
		assert_eq!(snapshot(), before);
		assert!(queue(BTC).is_empty());
		assert_noop!(settle(ALICE), Error::<Test>::InAuction);
		// A keeper with its own funds may liquidate what Alice holds beyond the auction's lot
		// (the lot it buys from the auction, `take`).
		assert_ok!(bob_liquidates_alice(Amount::Exact(1_000)));
		// The treasury funded: the backstop buys at the oracle less its discount.
		mint(USD, insurance(), 1_000_000);
		assert_ok!(settle(ALICE));
		assert!(events().iter().any(|e| matches!(
			e,
			Event::Settled { route: Route::Backstop { dex: DexRefusal::Halted }, sold: 0, .. }
		)));
		assert_eq!(pool_reserves(USD, BTC), before.pool, "nothing sold on the DEX");
		assert_eq!(MockBreaker::sold(BTC), 0);
		// Healthy again: the auction is closed by `redo`, nothing more taken.
		assert!(health(ALICE) >= FixedU128::one());
		assert_ok!(Liquidation::redo(RuntimeOrigin::signed(CHARLIE), 0));
		assert!(matches!(
			last_event(),
			Event::AuctionEnded { id: 0, reason: AuctionEnd::Closed, to_insurance: 0, .. }
		));
		assert_eq!(Auctions::<Test>::count(), 0);
		assert!(BorrowerAuction::<Test>::get(ALICE).is_none());
	});
}

/// #26, "overflow goes to a per-block-limited backstop, then auction": the backstop spent the
/// whole insurance fund in a crash's first step (the cascade benchmark's crash: the fund
/// bought at 44,000 what ended at 36,000, −7,042 USDM). It now spends at most
/// `BackstopBlockShare` of the fund's holding per block (of what it held before the block's
/// purchases); a seizure beyond it goes to a Dutch auction, and the next block the backstop
/// buys again.
#[test]
fn the_backstop_spends_at_most_its_share_of_the_fund_per_block_then_auctions() {
	ExtBuilder::default().build_and_execute(|| {
		// The largest repayment first: the next block's limit (from a fund smaller by it)
		// still covers the smallest.
		let [third, second, first]: [AccountId; 3] =
			borrowers(&[640_000, 660_000, 680_000]).try_into().unwrap();
		MockOracle::set(BTC, FixedU128::from_u32(85));
		MockBreaker::halt(BTC);
		mint(USD, insurance(), 100_000_000);
		let spendable = Liquidation::insurance_spendable(USD);
		let repay = |who| Liquidation::preview(who).unwrap().repay;
		let (r1, r2) = (repay(first), repay(second));
		// The block's limit covers the first purchase, not the second as well.
		let parts = u32::try_from(r1 * 1_000_000 / spendable + 1).unwrap();
		BackstopBlockShare::set(Permill::from_parts(parts));
		let limit = Permill::from_parts(parts).mul_floor(spendable);
		assert!(limit >= r1 && limit < r1 + r2, "{limit} {r1} {r2}");
		assert_eq!(
			Liquidation::preview(first).unwrap().route,
			Ok(Route::Backstop { dex: DexRefusal::Halted })
		);
		assert_ok!(settle(first));
		assert!(matches!(last_event(), Event::Settled { route: Route::Backstop { .. }, .. }));
		let now = System::block_number() as u32;
		assert_eq!(BackstopSpent::<Test>::get(USD), Some((now, r1)));
		// The second: beyond the block's limit: previewed and settled as an auction.
		assert_eq!(
			Liquidation::preview(second).unwrap().route,
			Ok(Route::Auction { dex: DexRefusal::Halted })
		);
		assert_ok!(settle(second));
		assert!(events()
			.iter()
			.any(|e| matches!(e, Event::AuctionStarted { borrower, .. } if *borrower == second)));
		// Next block: a new limit from what the fund holds now; the backstop buys again.
		next_block();
		assert_eq!(
			Liquidation::preview(third).unwrap().route,
			Ok(Route::Backstop { dex: DexRefusal::Halted })
		);
		assert_ok!(settle(third));
		assert!(matches!(last_event(), Event::Settled { route: Route::Backstop { .. }, .. }));
		BackstopBlockShare::set(Permill::one());
	});
}

/// Found by review: the first version fixed the block's backstop limit at its first purchase
/// from the fund's spendable holding, whose lending supply counts only as far as the market
/// has cash. One caller could borrow the cash away, settle a small position (the limit locked
/// near zero) and repay, in one batch: every other seizure of the block went to an auction.
/// Here, before: the limit fixed at 25% of 1,050,000 at the small purchase (132,167), the big
/// one's 320,000 went to an auction. The limit now reads the fund's whole holding at every
/// purchase.
#[test]
fn borrowing_the_cash_away_does_not_shrink_the_backstops_block_limit() {
	ExtBuilder::default().build_and_execute(|| {
		let [small, big]: [AccountId; 2] = borrowers(&[640_000, 680_000]).try_into().unwrap();
		// The fund holds its USD mostly as lending supply (as seized collateral ends up).
		mint(USD, insurance(), 10_000_000);
		assert_ok!(Lending::supply(RuntimeOrigin::signed(insurance()), USD, 9_000_000));
		BackstopBlockShare::set(Permill::from_percent(25));
		// A drainer borrows all but 50,000 of the market's cash.
		let drainer: AccountId = 30;
		mint(BTC, drainer, 2_000_000_000 + MIN);
		assert_ok!(Lending::supply(RuntimeOrigin::signed(drainer), BTC, 2_000_000_000));
		let cash = <Lending as pallet_lending::LendingPositions<AccountId>>::available_cash(&USD);
		assert_ok!(Lending::borrow(RuntimeOrigin::signed(drainer), USD, cash - 50_000));
		MockOracle::set(BTC, FixedU128::from_u32(85));
		MockBreaker::halt(BTC);
		// The small settlement is bought by the backstop within the drained-cash view too.
		let r_small = Liquidation::preview(small).unwrap().repay;
		assert!(r_small * 4 < 1_050_000, "{r_small}");
		assert_ok!(settle(small));
		assert!(matches!(last_event(), Event::Settled { route: Route::Backstop { .. }, .. }));
		// The drainer repays: the cash is back; the big one still gets the backstop.
		assert_ok!(Lending::repay(RuntimeOrigin::signed(drainer), USD, Amount::All));
		assert_eq!(
			Liquidation::preview(big).unwrap().route,
			Ok(Route::Backstop { dex: DexRefusal::Halted })
		);
		assert_ok!(settle(big));
		assert!(matches!(last_event(), Event::Settled { route: Route::Backstop { .. }, .. }));
		BackstopBlockShare::set(Permill::one());
	});
}

#[test]
fn a_throttled_collateral_sells_within_the_block_cap_and_queues_the_rest_riskiest_first() {
	ExtBuilder::default().build_and_execute(|| {
		// At 85: healths 0.996, 0.966, 0.9375 (the last the riskiest).
		let [low, mid, high]: [AccountId; 3] =
			borrowers(&[640_000, 660_000, 680_000]).try_into().unwrap();
		MockOracle::set(BTC, FixedU128::from_u32(85));
		assert!(health(high) < health(mid) && health(mid) < health(low));
		assert!(health(low) < FixedU128::one());
		// The cap: exactly the riskiest position's sale per block.
		let cap = sale_value(high, 85);
		let low_value = sale_value(low, 85);
		MockBreaker::throttle(BTC, cap);
		System::reset_events();

		// The riskiest sells; the cap is spent to the unit.
		assert_ok!(settle(high));
		let Event::Settled { route, sold, .. } = last_event() else { panic!() };
		assert_eq!(route, Route::Dex);
		assert_eq!(MockBreaker::sold(BTC), sold * 85);
		assert_eq!(MockBreaker::sold(BTC), cap);
		// The others wait: queued riskiest first, whatever order they came in.
		let pool = pool_reserves(USD, BTC);
		let preview = Liquidation::preview(low).unwrap();
		assert_eq!(preview.route, Err(DexRefusal::Throttled { value: low_value, left: 0 }));
		assert_ok!(settle(low));
		assert_ok!(settle(mid));
		assert_eq!(
			last_event(),
			Event::SaleQueued {
				borrower: mid,
				collateral_asset: BTC,
				health: health(mid),
				position: 0
			}
		);
		assert_eq!(queue(BTC), vec![mid, low]);
		assert_eq!(pool_reserves(USD, BTC), pool);

		// Next block, a new cap: the head first. `low` is behind it.
		next_block();
		assert_noop!(settle(low), Error::<Test>::AwaitingSale);
		assert_ok!(settle(mid));
		assert!(events().contains(&Event::Dequeued { borrower: mid, collateral_asset: BTC }));
		assert_eq!(queue(BTC), vec![low]);
		// What the cap has left is too little for `low`'s sale, or for a cut one (below
		// the collateral's minimum balance): it waits another block.
		assert_noop!(settle(low), Error::<Test>::AwaitingSale);
		let mut blocks = 0;
		while health(low) < FixedU128::one() {
			next_block();
			assert_ok!(settle(low));
			blocks += 1;
			assert!(blocks < 5);
		}
		assert!(queue(BTC).is_empty());
		for who in [low, mid, high] {
			assert!(health(who) >= FixedU128::one(), "each settled in turn");
		}
	});
}

#[test]
fn a_throttled_sale_is_cut_to_what_the_blocks_cap_has_left() {
	ExtBuilder::default().build_and_execute(|| {
		alice_underwater(90);
		let full = Liquidation::preview(ALICE).unwrap();
		let value = Liquidation::sale_value(full.dex_input.unwrap(), FixedU128::from_u32(90));
		// A cap of 60% of the sale: the repayment cut to fit it (2% under, for the pool's
		// price impact), within the cap to the unit.
		let cap = value * 6 / 10;
		MockBreaker::throttle(BTC, cap);
		let cut = Liquidation::preview(ALICE).unwrap();
		assert_eq!(cut.route, Ok(Route::Dex));
		assert!(cut.repay < full.repay * 61 / 100 && cut.repay > full.repay * 55 / 100);
		assert_ok!(settle(ALICE));
		let Event::Settled { repaid, sold, route, .. } = last_event() else { panic!() };
		assert_eq!((route, repaid, Some(sold)), (Route::Dex, cut.repay, cut.dex_input));
		assert_eq!(MockBreaker::sold(BTC), Liquidation::sale_value(sold, FixedU128::from_u32(90)));
		assert!(MockBreaker::sold(BTC) <= cap);
		// 60% of the way to the target health of 1.05 is past 1 here; a position still
		// below 1 would sell its next cut in the next block.
		assert!(health(ALICE) > full.health);
		let mut blocks = 0;
		while health(ALICE) < FixedU128::one() {
			next_block();
			assert_ok!(settle(ALICE));
			assert!(MockBreaker::sold(BTC) <= cap);
			blocks += 1;
			assert!(blocks < 10, "settled a cut a block");
		}
		assert!(queue(BTC).is_empty());
	});
}

#[test]
fn a_riskier_position_goes_before_the_queue_and_takes_a_full_queues_last_place() {
	ExtBuilder::default().build_and_execute(|| {
		let accounts = borrowers(&[640_000, 645_000, 650_000, 655_000, 680_000, 639_000, 700_000]);
		MockOracle::set(BTC, FixedU128::from_u32(85));
		// Throttled with nothing left this block: every sale waits.
		MockBreaker::throttle(BTC, 0);
		// MaxSaleQueue = 4.
		for who in &accounts[..4] {
			assert_ok!(settle(*who));
		}
		assert_eq!(queue(BTC), vec![accounts[3], accounts[2], accounts[1], accounts[0]]);
		// Less risky than every entry of a full queue: refused by name.
		assert_noop!(settle(accounts[5]), Error::<Test>::SaleQueueFull);
		// Riskier: it takes the least risky entry's place.
		System::reset_events();
		assert_ok!(settle(accounts[4]));
		assert_eq!(events()[0], Event::Dequeued { borrower: accounts[0], collateral_asset: BTC });
		assert_eq!(queue(BTC), vec![accounts[4], accounts[3], accounts[2], accounts[1]]);
		// Throttled with room: a position riskier than the head sells at once.
		let riskiest = accounts[6];
		MockBreaker::throttle(BTC, u128::MAX);
		assert_ok!(settle(riskiest));
		assert!(matches!(last_event(), Event::Settled { route: Route::Dex, .. }));
		assert_eq!(queue(BTC), vec![accounts[4], accounts[3], accounts[2], accounts[1]]);
		// After MaxQueueAge blocks the entries no longer hold their place.
		MockBreaker::throttle(BTC, 0);
		System::set_block_number(System::block_number() + 10);
		assert_ok!(settle(accounts[0]));
		assert_eq!(queue(BTC), vec![accounts[0]]);
	});
}

/// #26, "`settle` consults the guard last": the DEX's refusals (`SlippageExceeded`, `NoCash`,
/// `NoPool`) were returned before the breaker was asked, so a held price still drove the
/// insurance backstop (the wick: 5,062 of insurance spent with nothing sold). The guard is now
/// asked first: with either asset's price held, a position liquidatable at the span's ends
/// that favour the borrower (the mock's one price) is sold on the DEX within its bound, and
/// when the DEX refuses, nothing else is tried: no backstop, no auction, no queue.
#[test]
fn a_held_price_lets_the_dex_sell_within_its_bound_and_nothing_else() {
	ExtBuilder::default().build_and_execute(|| {
		alice_underwater(90);
		mint(USD, insurance(), 1_000_000);
		// Someone dumps BTC into the pool: it prices BTC far below the oracle (beyond the
		// slippage bound). Unheld, the funded backstop would buy (as
		// `a_manipulated_pool_is_refused_by_the_slippage_bound` shows).
		lp_dumps_btc(50_000_000);
		for held in [BTC, USD] {
			MockBreaker::hold(held);
			let preview = Liquidation::preview(ALICE).unwrap();
			assert_eq!(preview.route, Err(DexRefusal::PriceUnconfirmed), "{held}");
			let before = snapshot();
			assert_noop!(settle(ALICE), Error::<Test>::PriceUnconfirmed);
			assert_eq!(snapshot(), before);
			// Halted and an empty treasury: no auction on the held price either.
			MockBreaker::halt(BTC);
			assert_noop!(settle(ALICE), Error::<Test>::PriceUnconfirmed);
			assert_eq!(Auctions::<Test>::count(), 0);
			MockBreaker::clear();
		}
		// Throttled with nothing left: not queued on a held price.
		MockBreaker::hold(BTC);
		MockBreaker::throttle(BTC, 0);
		assert_noop!(settle(ALICE), Error::<Test>::PriceUnconfirmed);
		assert!(queue(BTC).is_empty());
		MockBreaker::clear();
		// A pool back at the oracle: held or not, the DEX sells within its bound.
		let (usd, btc) = pool_reserves(USD, BTC);
		assert_ok!(AssetConversion::swap_tokens_for_exact_tokens(
			RuntimeOrigin::signed(LP),
			vec![Box::new(NativeOrWithId::WithId(USD)), Box::new(NativeOrWithId::WithId(BTC))],
			btc - (btc * usd / 90).isqrt(),
			u128::MAX,
			LP,
			false,
		));
		MockBreaker::hold(USD);
		let insurance_usd = balance(USD, insurance());
		assert_eq!(Liquidation::preview(ALICE).unwrap().route, Ok(Route::Dex));
		assert_ok!(settle(ALICE));
		assert!(matches!(last_event(), Event::Settled { route: Route::Dex, .. }));
		assert_eq!(balance(USD, insurance()), insurance_usd, "the backstop bought nothing");
		// Repaying is never held, and a keeper with its own funds may liquidate.
		MockOracle::set(BTC, FixedU128::from_u32(80));
		assert_ok!(Lending::repay(RuntimeOrigin::signed(ALICE), USD, Amount::Exact(1_000)));
		assert_ok!(bob_liquidates_alice(Amount::Exact(1_000)));
		// Batches sell it too.
		MockBreaker::hold(BTC);
		let w = BatchWitness { pairs: 1, wide: 0, bids: u32::MAX };
		let report = Liquidation::try_settle_batch(&[ALICE], w).unwrap();
		assert!(report.skipped.is_empty(), "{:?}", report.skipped);
		assert_eq!(report.settled, vec![ALICE]);
	});
}

/// A queued borrower healthy again is not settled: `settle` refuses it by name and changes
/// nothing (it used to succeed, dequeuing it: a successful call on a healthy account, which the
/// throttled property test found). Its entry leaves when a sale it would hold back looks at it.
#[test]
fn a_queued_position_healthy_again_is_refused_and_gives_way_to_the_next_sale() {
	ExtBuilder::default().build_and_execute(|| {
		alice_underwater(90);
		MockBreaker::throttle(BTC, 0);
		assert_ok!(settle(ALICE));
		assert_eq!(queue(BTC), vec![ALICE]);
		mint(USD, ALICE, 1_000_000);
		assert_ok!(Lending::repay(RuntimeOrigin::signed(ALICE), USD, Amount::All));
		assert_noop!(settle(ALICE), Error::<Test>::NotLiquidatable);
		assert_eq!(queue(BTC), vec![ALICE]);
		MockOracle::set(BTC, FixedU128::from_u32(100));
		let [other]: [AccountId; 1] = borrowers(&[640_000]).try_into().unwrap();
		MockOracle::set(BTC, FixedU128::from_u32(85));
		MockBreaker::throttle(BTC, u128::MAX);
		System::reset_events();
		assert_ok!(settle(other));
		assert_eq!(events()[0], Event::Dequeued { borrower: ALICE, collateral_asset: BTC });
		assert!(matches!(last_event(), Event::Settled { route: Route::Dex, .. }));
		assert!(queue(BTC).is_empty());
	});
}

/// #26 (the no-guard crash's slow recovery): a queue entry kept its place by the health it
/// was queued at, and left only through its own `settle` or after `MaxQueueAge` blocks. A
/// borrower queued and then repaying (or liquidated by a keeper, or lifted by the price)
/// held every less risky sale of the collateral back for up to 20 blocks while the cap went
/// unspent, and any queue at all held back every batch. A sale now looks at the entries
/// ahead of it: one no longer liquidatable leaves the queue (`Dequeued`), at most
/// `QUEUE_CHECKS` a call (each a measured health check); a liquidatable one still goes
/// first.
#[test]
fn a_queue_entry_no_longer_liquidatable_gives_way() {
	ExtBuilder::default().build_and_execute(|| {
		// At 85, riskiest last; MaxSaleQueue = 4.
		let accounts = borrowers(&[640_000, 660_000, 670_000, 680_000, 650_000]);
		let [safe, s1, s2, s3, batched]: [AccountId; 5] = accounts.try_into().unwrap();
		MockOracle::set(BTC, FixedU128::from_u32(85));
		let value = sale_value(safe, 85);
		MockBreaker::throttle(BTC, 0);
		for who in [s1, s2, s3, safe] {
			assert_ok!(settle(who));
		}
		assert_eq!(queue(BTC), vec![s3, s2, s1, safe]);
		// The three riskiest repay what they owe.
		for who in [s1, s2, s3] {
			mint(USD, who, 100_000);
			assert_ok!(Lending::repay(RuntimeOrigin::signed(who), USD, Amount::All));
			assert!(health(who) >= FixedU128::one());
		}
		next_block();
		MockBreaker::throttle(BTC, value);
		// A sale checks two entries ahead (gone: they leave) and waits behind the third,
		// unchecked. Queued already, it succeeds for what it dropped (refused, it would have
		// put them back, and no queued sale could clear three).
		System::reset_events();
		assert_ok!(settle(safe));
		assert_eq!(
			events(),
			vec![
				Event::Dequeued { borrower: s3, collateral_asset: BTC },
				Event::Dequeued { borrower: s2, collateral_asset: BTC },
			]
		);
		assert_eq!(queue(BTC), vec![s1, safe]);
		assert_eq!(MockBreaker::sold(BTC), 0);
		// The next call finds the last one gone too, and sells within the cap.
		System::reset_events();
		assert_ok!(settle(safe));
		let sold = events();
		assert_eq!(sold[0], Event::Dequeued { borrower: s1, collateral_asset: BTC });
		assert!(
			matches!(
				sold[..],
				[_, Event::Settled { route: Route::Dex, .. }, Event::Dequeued { borrower, .. }]
					if borrower == safe
			),
			"{sold:?}"
		);
		assert!(queue(BTC).is_empty());
		assert!(MockBreaker::sold(BTC) <= value && MockBreaker::sold(BTC) > 0);

		// A liquidatable head still goes first, for a batch as for `settle`; once a keeper
		// has liquidated it healthy, the batch's lot sells.
		next_block();
		MockBreaker::throttle(BTC, 0);
		MockOracle::set(BTC, FixedU128::from_u32(100));
		assert_ok!(Lending::borrow(RuntimeOrigin::signed(s3), USD, 680_000));
		MockOracle::set(BTC, FixedU128::from_u32(85));
		assert!(health(s3) < FixedU128::one());
		assert_ok!(settle(s3));
		assert_eq!(queue(BTC), vec![s3]);
		next_block();
		MockBreaker::throttle(BTC, u128::MAX);
		let w = BatchWitness { pairs: 1, wide: 0, bids: u32::MAX };
		let report = Liquidation::try_settle_batch(&[batched], w).unwrap();
		assert!(matches!(report.skipped[..], [(_, Skipped::Dex(DexRefusal::Throttled { .. }))]));
		assert_eq!(report.queue.checked, 1);
		assert_eq!(queue(BTC), vec![s3]);
		mint(USD, BOB, 1_000_000);
		while health(s3) < FixedU128::one() {
			assert_ok!(Liquidation::liquidate(
				RuntimeOrigin::signed(BOB),
				s3,
				USD,
				BTC,
				Amount::All
			));
		}
		let report = Liquidation::try_settle_batch(&[batched], w).unwrap();
		assert_eq!((report.settled, report.queue.checked), (vec![batched], 1));
		System::reset_events();
		let list = vec![batched].try_into().unwrap();
		assert_ok!(Liquidation::settle_batch(RuntimeOrigin::signed(CHARLIE), list, w));
		assert_eq!(events()[0], Event::Dequeued { borrower: s3, collateral_asset: BTC });
		assert!(events()
			.iter()
			.any(|e| matches!(e, Event::Settled { borrower, .. } if *borrower == batched)));
		assert!(queue(BTC).is_empty());
	});
}

/// An entry whose borrower no longer holds the queue's collateral (a keeper seized it all) may
/// be liquidatable still, through another collateral, and its next settlement sells that one:
/// it leaves the queue it would hold back (found by a review of the change above).
#[test]
fn a_queue_entry_that_no_longer_holds_the_collateral_gives_way() {
	ExtBuilder::default().build_and_execute(|| {
		let [other]: [AccountId; 1] = borrowers(&[640_000]).try_into().unwrap();
		// M: BTC, seized first (the most volatile), and MEME.
		let m: AccountId = 20;
		MockBreaker::set_volatility(BTC, FixedU128::from_u32(2));
		mint(BTC, m, 1_000 + MIN);
		mint(MEME, m, 2_000_000 + MIN);
		assert_ok!(Lending::supply(RuntimeOrigin::signed(m), BTC, 1_000));
		assert_ok!(Lending::supply(RuntimeOrigin::signed(m), MEME, 2_000_000));
		let limit = Lending::account_health(&m).unwrap().borrow_limit;
		assert_ok!(Lending::borrow(RuntimeOrigin::signed(m), USD, limit * 99 / 100));
		MockOracle::set(BTC, FixedU128::from_u32(85));
		MockOracle::set(MEME, FixedU128::from_rational(37, 100));
		assert!(health(m) < health(other) && health(other) < FixedU128::one());
		// Both marginal (above `health_for_max_discount`): held back by the cap, they queue.
		assert!(health(m) > default_params().health_for_max_discount);
		MockBreaker::throttle(BTC, 0);
		assert_ok!(settle(m));
		assert_ok!(settle(other));
		assert_eq!(queue(BTC), vec![m, other]);
		// A keeper takes all of M's BTC; M is still below 1 (its MEME fell).
		mint(USD, BOB, 1_000_000);
		while supplied(m, BTC) > 0 {
			assert_ok!(Liquidation::liquidate(
				RuntimeOrigin::signed(BOB),
				m,
				USD,
				BTC,
				Amount::All
			));
		}
		assert!(Liquidation::may_settle(&m));
		assert_eq!(queue(BTC), vec![m, other]);
		next_block();
		MockBreaker::throttle(BTC, u128::MAX);
		System::reset_events();
		assert_ok!(settle(other));
		assert_eq!(events()[0], Event::Dequeued { borrower: m, collateral_asset: BTC });
		assert!(events().iter().any(|e| matches!(e, Event::Settled { route: Route::Dex, .. })));
		assert!(queue(BTC).is_empty());
	});
}

#[test]
fn a_batch_sells_a_throttled_pair_only_within_the_cap_and_never_a_halted_one() {
	ExtBuilder::default().build_and_execute(|| {
		let accounts = borrowers(&[680_000, 690_000]);
		MockOracle::set(BTC, FixedU128::from_u32(85));
		let list: frame_support::BoundedVec<AccountId, <Test as Config>::MaxSettleBatch> =
			accounts.clone().try_into().unwrap();
		let w = BatchWitness { pairs: 1, wide: 0, bids: u32::MAX };
		let batch = || Liquidation::settle_batch(RuntimeOrigin::signed(CHARLIE), list.clone(), w);
		let lot = sale_value(accounts[0], 85) + sale_value(accounts[1], 85);
		MockBreaker::halt(BTC);
		let report = Liquidation::try_settle_batch(&accounts, w).unwrap();
		assert!(report.skipped.iter().all(|(_, why)| *why == Skipped::Dex(DexRefusal::Halted)));
		let nothing = || {
			let root = sp_io::storage::root(sp_runtime::StateVersion::V1);
			assert_eq!(batch().unwrap_err().error, Error::<Test>::NothingSettled.into());
			assert_eq!(sp_io::storage::root(sp_runtime::StateVersion::V1), root);
		};
		nothing();
		// Throttled below the lot's value: skipped, nothing sold.
		MockBreaker::throttle(BTC, lot / 2);
		let report = Liquidation::try_settle_batch(&accounts, w).unwrap();
		assert!(matches!(
			report.skipped[0].1,
			Skipped::Dex(DexRefusal::Throttled { left, .. }) if left == lot / 2
		));
		nothing();
		// With room for the lot: one swap, its value counted against the cap.
		MockBreaker::throttle(BTC, 2 * lot);
		assert_ok!(batch());
		let sold: u128 = events()
			.iter()
			.filter_map(|e| match e {
				Event::BatchSold { sold, .. } => Some(*sold),
				_ => None,
			})
			.sum();
		assert!(sold > 0);
		assert_eq!(MockBreaker::sold(BTC), Liquidation::sale_value(sold, FixedU128::from_u32(85)));
	});
}

#[test]
fn the_most_volatile_collateral_is_seized_first_then_the_governance_rank() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(Lending::supply(RuntimeOrigin::signed(ALICE), BTC, 6_000));
		assert_ok!(Lending::supply(RuntimeOrigin::signed(ALICE), MEME, 100_000));
		assert_ok!(Lending::borrow(RuntimeOrigin::signed(ALICE), USD, 250_000));
		assert_ok!(Lending::borrow(RuntimeOrigin::signed(ALICE), ETH, 75_000));
		MockOracle::set(BTC, FixedU128::from_u32(60));
		let first = || Liquidation::preview(ALICE).unwrap().collateral_asset;
		// Ranks alone: MEME (rank 10) first.
		assert_ok!(Liquidation::set_risk_rank(RuntimeOrigin::root(), MEME, 10));
		assert_eq!(first(), MEME);
		// Measured: BTC at 120% a year beats MEME unmeasured, whatever the ranks.
		MockBreaker::set_volatility(BTC, fx(120, 100));
		assert_eq!(first(), BTC);
		// Both measured: the more volatile first.
		MockBreaker::set_volatility(MEME, fx(150, 100));
		assert_eq!(first(), MEME);
		MockBreaker::set_volatility(MEME, fx(90, 100));
		assert_eq!(first(), BTC);
		// Equal volatility: the rank decides.
		MockBreaker::set_volatility(MEME, fx(120, 100));
		assert_eq!(first(), MEME);
		assert_ok!(settle(ALICE));
		let Event::Settled { collateral_asset, .. } = last_event() else { panic!() };
		assert_eq!(collateral_asset, MEME);
	});
}

/// #26, dispute liveness (the cascade benchmark's `crash-two-feeders-one-lagging`: 42,596 USDM
/// of bad debt with the breaker on against 5,700 off): a dispute used to liquidate nothing,
/// by any route, for as long as the feeds disagreed, so a crash fed by two feeders a block
/// apart was settled at its bottom. The breaker now reads a dispute at the ends every fresh
/// feeder supports (collateral at the high one, debt at the low: the mock's one price), so a
/// position below 1 there is liquidated by a keeper, a batch, a DEX sale within its bound,
/// and a seizure the DEX refuses goes to a Dutch auction; never to the insurance backstop,
/// whose price one feeder may have raised.
#[test]
fn a_disputed_price_liquidates_at_its_ends_by_every_route_but_the_backstop() {
	ExtBuilder::default().build_and_execute(|| {
		alice_underwater(90);
		mint(USD, insurance(), 1_000_000);
		let insurance_usd = balance(USD, insurance());
		// The pool dumped beyond the slippage bound: the DEX refuses.
		lp_dumps_btc(50_000_000);
		for disputed in [BTC, USD] {
			MockBreaker::dispute(disputed);
			let Ok(Route::Auction { dex }) = Liquidation::preview(ALICE).unwrap().route else {
				panic!("{disputed}: {:?}", Liquidation::preview(ALICE));
			};
			assert!(matches!(dex, DexRefusal::SlippageExceeded { .. }), "{dex:?}");
			MockBreaker::clear();
		}
		// Undisputed, the funded backstop would buy.
		assert!(matches!(Liquidation::preview(ALICE).unwrap().route, Ok(Route::Backstop { .. })));
		MockBreaker::dispute(BTC);
		let before = snapshot();
		assert_ok!(settle(ALICE));
		assert!(matches!(
			last_event(),
			Event::AuctionStarted {
				id: 0,
				borrower: ALICE,
				dex: DexRefusal::SlippageExceeded { .. },
				..
			}
		));
		assert_eq!(snapshot(), before, "an auction starts; nothing sold or repaid yet");
		assert_eq!(balance(USD, insurance()), insurance_usd, "the backstop bought nothing");
		// A keeper with its own funds may liquidate beside the lot; takes go on.
		assert_ok!(bob_liquidates_alice(Amount::Exact(1_000)));
		mint(USD, BOB, 10_000);
		assert_ok!(Liquidation::take(
			RuntimeOrigin::signed(BOB),
			0,
			10,
			FixedU128::from_u32(1_000)
		));
		assert_eq!(balance(USD, insurance()), insurance_usd, "the backstop bought nothing");
	});
}

/// The attacker review: a dispute arriving while a jump is held must not lift the hold (the
/// breaker's liquidation ends keep what the hold allows; here, the routes): held and
/// disputed, a seizure the DEX refuses starts no auction and the backstop buys nothing.
#[test]
fn a_dispute_lifts_no_hold() {
	ExtBuilder::default().build_and_execute(|| {
		alice_underwater(90);
		mint(USD, insurance(), 1_000_000);
		lp_dumps_btc(50_000_000);
		MockBreaker::hold(BTC);
		MockBreaker::dispute(BTC);
		assert_eq!(Liquidation::preview(ALICE).unwrap().route, Err(DexRefusal::PriceUnconfirmed));
		assert_noop!(settle(ALICE), Error::<Test>::PriceUnconfirmed);
		assert_eq!(Auctions::<Test>::count(), 0);
	});
}

/// The batch route on a disputed price: it sells within the bound at the disputed ends.
#[test]
fn a_batch_sells_a_disputed_pair_within_its_bound() {
	ExtBuilder::default().build_and_execute(|| {
		alice_underwater(90);
		MockBreaker::dispute(USD);
		let w = BatchWitness { pairs: 1, wide: 0, bids: u32::MAX };
		let report = Liquidation::try_settle_batch(&[ALICE], w).unwrap();
		assert!(report.skipped.is_empty(), "{:?}", report.skipped);
		assert_eq!(report.settled, vec![ALICE]);
		let debt = <Lending as LendingPositions<AccountId>>::debt(&ALICE, &USD).unwrap();
		let list = vec![ALICE].try_into().unwrap();
		assert_ok!(Liquidation::settle_batch(RuntimeOrigin::signed(CHARLIE), list, w));
		assert!(<Lending as LendingPositions<AccountId>>::debt(&ALICE, &USD).unwrap() < debt);
		assert!(events().iter().any(|e| matches!(
			e,
			Event::BatchSold { collateral_asset: BTC, debt_asset: USD, positions: 1, .. }
		)));
	});
}

/// Sets the pool's depth cap (`pool_block_share`) by root.
fn set_pool_share(share: Permill) {
	let params = LiquidationParams { pool_block_share: share, ..Params::<Test>::get() };
	assert_ok!(Liquidation::update_params(RuntimeOrigin::root(), params));
}

/// An arbitrageur buys BTC from the USD/BTC pool until it prices BTC at `price` again.
fn arbitrage_pool_to(price: f64) {
	let (usd, btc) = pool_reserves(USD, BTC);
	let k = usd as f64 * btc as f64;
	let target_usd = (k * price).sqrt() as u128;
	if target_usd <= usd {
		return;
	}
	assert_ok!(AssetConversion::swap_exact_tokens_for_tokens(
		RuntimeOrigin::signed(LP),
		vec![Box::new(NativeOrWithId::WithId(USD)), Box::new(NativeOrWithId::WithId(BTC))],
		(target_usd - usd) * 1_003 / 1_000,
		1,
		LP,
		false,
	));
}

/// #26 "DEX sales are capped while the pool sits below the oracle after our own sales, the
/// cap a share of the pool's reserve". Before: all three sales went into the 400,000-BTC
/// pool in one block, whatever its depth. Now a block sells at most `pool_block_share` of the reserve before its sales; a
/// sale beyond what is left is cut to it or waits in the queue, riskiest first, for a later
/// block (after the arbitrageur has brought the pool back).
#[test]
fn the_pool_depth_cap_sells_at_most_its_share_of_the_reserve_per_block_the_rest_waits() {
	ExtBuilder::default().without_pools().build_and_execute(|| {
		let [low, mid, high]: [AccountId; 3] =
			borrowers(&[640_000, 660_000, 680_000]).try_into().unwrap();
		MockOracle::set(BTC, FixedU128::from_u32(85));
		// A pool at the oracle, 400,000 BTC deep.
		create_pool(LP, USD, BTC, 34_000_000, 400_000);
		let (_, reserve) = pool_reserves(USD, BTC);
		let input = |who| Liquidation::preview(who).unwrap().dex_input.unwrap();
		let (first, second) = (input(high), input(mid));
		// The share lets the riskiest sale through, not the next one as well.
		let parts = u32::try_from(first * 1_000_000 / reserve + 1).unwrap();
		let share = Permill::from_parts(parts);
		set_pool_share(share);
		let room = share.mul_floor(reserve);
		assert!(room >= first && room < first + second, "{room} {first} {second}");
		System::reset_events();

		assert_eq!(Liquidation::preview(high).unwrap().route, Ok(Route::Dex));
		assert_ok!(settle(high));
		let Event::Settled { route: Route::Dex, sold, .. } = last_event() else { panic!() };
		let now = System::block_number() as u32;
		assert_eq!(PoolSold::<Test>::get((BTC, USD)), Some((now, sold)));
		// What is left of the block's share is worth less than the next sale: refused by the
		// cap with what is left, at the oracle, rounded down.
		let left = share.mul_floor(reserve) - sold;
		let Err(DexRefusal::Throttled { left: said, .. }) = Liquidation::dex_sale(
			&mid,
			Liquidation::settle_plan(&mid).unwrap(),
			&mut Default::default(),
		)
		.1
		else {
			panic!("the depth cap refuses the full sale")
		};
		assert_eq!(said, left * 85);
		// Settled now: cut to what is left, or queued.
		assert_ok!(settle(mid));
		assert_ok!(settle(low));
		let (_, sold_in_block) = PoolSold::<Test>::get((BTC, USD)).unwrap();
		assert!(sold_in_block <= room, "{sold_in_block} > {room}");
		assert!(health(low) < FixedU128::one() || health(mid) < FixedU128::one());

		// Each later block: at most the share of the reserve before its sales, until all are
		// settled.
		let mut blocks = 0;
		while [low, mid].iter().any(|who| health(*who) < FixedU128::one()) {
			next_block();
			arbitrage_pool_to(85.0);
			let (_, reserve) = pool_reserves(USD, BTC);
			for who in [mid, low] {
				if health(who) < FixedU128::one() {
					let _ = settle(who);
				}
			}
			let now = System::block_number() as u32;
			if let Some((block, sold)) = PoolSold::<Test>::get((BTC, USD)) {
				if block == now {
					assert!(sold <= share.mul_floor(reserve), "{sold} of {reserve}");
				}
			}
			blocks += 1;
			assert!(blocks < 6, "settled within a few blocks");
		}
		assert!(blocks >= 1, "the cap made some wait");
		assert!(queue(BTC).is_empty());
	});
}

/// The DEX's sales in `events()`: each `Settled` on the DEX route's borrower, and each
/// `SettlementSkipped`'s borrower and reason.
fn dex_outcomes() -> (Vec<AccountId>, Vec<(AccountId, Skipped)>) {
	let mut settled = Vec::new();
	let mut skipped = Vec::new();
	for e in events() {
		match e {
			Event::Settled { borrower, route: Route::Dex, .. } => settled.push(borrower),
			Event::SettlementSkipped { borrower, reason } => skipped.push((borrower, reason)),
			_ => {},
		}
	}
	(settled, skipped)
}

/// A lot worth more than the breaker's cap has left is trimmed, not refused whole: the DEX
/// sells, in one swap within the cap, the lot's riskiest positions that fit, and the others
/// are skipped `Throttled`, untouched (the next block's cap, or `settle`'s routes, take them).
/// Before, one position too many refused the whole lot, so that a throttled collateral's
/// batches of up to 512 sold nothing while the cap had room.
#[test]
fn a_batch_over_the_cap_sells_its_riskiest_positions_within_it() {
	ExtBuilder::default().build_and_execute(|| {
		// Given in an order that is not their risk's.
		let accounts = borrowers(&[660_000, 690_000, 680_000]);
		let [least, most, mid] = accounts[..] else { unreachable!() };
		MockOracle::set(BTC, FixedU128::from_u32(85));
		assert!(health(most) < health(mid) && health(mid) < health(least));
		assert!(health(least) < FixedU128::one());
		let values: Vec<u128> = accounts.iter().map(|a| sale_value(*a, 85)).collect();
		// Room for the two riskiest (sold together, each pays a little more than alone), not
		// for the third.
		let cap = values[1] + values[2] + values[0] / 2;
		MockBreaker::throttle(BTC, cap);
		let w = BatchWitness { pairs: 1, wide: 0, bids: u32::MAX };
		let before = (debt(least, USD), supplied(least, BTC));
		System::reset_events();
		assert_ok!(settle_batch(&accounts, w));
		let (settled, skipped) = dex_outcomes();
		assert_eq!(settled, vec![most, mid]);
		assert!(
			matches!(
				skipped[..],
				[(who, Skipped::Dex(DexRefusal::Throttled { value, left }))]
					if who == least && left == cap && value > cap
			),
			"{skipped:?}"
		);
		let sales: Vec<(u32, u128)> = events()
			.iter()
			.filter_map(|e| match e {
				Event::BatchSold { positions, sold, .. } => Some((*positions, *sold)),
				_ => None,
			})
			.collect();
		let [(2, sold)] = sales[..] else { panic!("{sales:?}") };
		assert_eq!(MockBreaker::sold(BTC), Liquidation::sale_value(sold, FixedU128::from_u32(85)));
		assert!(MockBreaker::sold(BTC) <= cap);
		assert_eq!((debt(least, USD), supplied(least, BTC)), before);
		// The next block's cap takes the one left.
		next_block();
		System::reset_events();
		assert_ok!(settle_batch(&[least], w));
		assert_eq!(dex_outcomes(), (vec![least], vec![]));
	});
}

/// `try_settle_batch`, with the mock breaker's tally of sales (kept outside storage) rolled
/// back with it.
fn dry_batch(accounts: &[AccountId], w: BatchWitness) -> BatchReport<AccountId> {
	let sold = MockBreaker::sold_tally();
	let report = Liquidation::try_settle_batch(accounts, w).unwrap();
	MockBreaker::restore_sold(sold);
	report
}

/// The breaker's cap is the collateral's, shared by its pairs: allotted riskiest first across
/// them before any sale, and the sale queue passes over all the batch's members of the
/// collateral. BTC/USD holds the riskiest position and the least risky one, BTC/ETH one
/// between them.
/// - A cap with room for two: the riskiest of each pair sell, the least risky waits (trimmed
///   pair by pair, BTC/USD took the cap for both of its positions first: first review).
/// - The BTC/ETH position queued, a cap with room for all: all three sell (BTC/USD, sold
///   first, waited behind it when it sold a position less risky than it: third review).
#[test]
fn a_collaterals_cap_goes_to_its_riskiest_positions_whichever_pair_they_are_in() {
	ExtBuilder::default().build_and_execute(|| {
		// A BTC/ETH pool at the oracle (BTC 100, ETH 2).
		mint(ETH, LP, 5_000_000_000);
		mint(BTC, LP, 100_000_000);
		create_pool(LP, ETH, BTC, 5_000_000_000, 100_000_000);
		let [riskiest, least]: [AccountId; 2] = borrowers(&[690_000, 600_000]).try_into().unwrap();
		let eth: AccountId = 12;
		// (ETH's minimum balance is 10⁶ units: the repayment bought must be above it.)
		mint(BTC, eth, 80_000 + MIN);
		assert_ok!(Lending::supply(RuntimeOrigin::signed(eth), BTC, 80_000));
		assert_ok!(Lending::borrow(RuntimeOrigin::signed(eth), ETH, 2_650_000));
		MockOracle::set(BTC, FixedU128::from_u32(75));
		assert!(health(riskiest) < health(eth) && health(eth) < health(least));
		assert!(health(least) < FixedU128::one());
		let value = |who| sale_value(who, 75);
		let (v_riskiest, v_eth, v_least) = (value(riskiest), value(eth), value(least));
		let w = BatchWitness { pairs: 2, wide: 0, bids: u32::MAX };
		// Given BTC/ETH first, then BTC/USD's least risky.
		let given = [eth, least, riskiest];
		let cap = v_riskiest + v_eth + v_least / 2;
		MockBreaker::throttle(BTC, cap);
		let report = dry_batch(&given, w);
		assert_eq!(report.settled, vec![riskiest, eth]);
		assert!(
			matches!(
				report.skipped[..],
				[(who, Skipped::Dex(DexRefusal::Throttled { left, .. }))] if who == least && left == cap
			),
			"{:?}",
			report.skipped
		);
		// BTC/ETH's position queued; room for all.
		let plan = Liquidation::settle_plan_tried(&eth).0.unwrap();
		assert_ok!(Liquidation::enqueue(&eth, &plan));
		MockBreaker::throttle(BTC, 2 * (v_riskiest + v_eth + v_least));
		System::reset_events();
		assert_ok!(settle_batch(&given, w));
		// (BTC/USD first, its riskiest position; its members in the order given.)
		assert_eq!(dex_outcomes(), (vec![least, riskiest, eth], vec![]));
		assert!(queue(BTC).is_empty());
	});
}

/// A lot trimmed for the cap keeps the sale queue's order: with a riskier position queued
/// ahead that is not in the batch, the lot waits (its turn is behind it), trimmed or not; a
/// member left out of the sale does not hold back the lot it was given in; and a lot whose
/// riskiest position alone exceeds the cap sells nothing (`settle` may cut it).
#[test]
fn a_trimmed_lot_waits_only_behind_a_riskier_position_not_in_it_and_none_fits_sells_nothing() {
	ExtBuilder::default().build_and_execute(|| {
		let accounts = borrowers(&[660_000, 680_000, 690_000]);
		let [low, mid, queued] = accounts[..] else { unreachable!() };
		MockOracle::set(BTC, FixedU128::from_u32(85));
		let (v_low, v_mid) = (sale_value(low, 85), sale_value(mid, 85));
		// The riskiest waits in the queue (as when the cap had nothing left for it).
		let enqueue = |who: AccountId, at: FixedU128| {
			let mut plan = Liquidation::settle_plan_tried(&who).0.unwrap();
			plan.health.factor = at;
			assert_ok!(Liquidation::enqueue(&who, &plan));
		};
		enqueue(queued, health(queued));
		MockBreaker::throttle(BTC, v_mid + v_low / 2);
		let w = BatchWitness { pairs: 1, wide: 0, bids: u32::MAX };
		let report = dry_batch(&[low, mid], w);
		assert!(report.settled.is_empty());
		assert!(matches!(
			report.skipped[..],
			[
				(_, Skipped::Dex(DexRefusal::Throttled { .. })),
				(_, Skipped::Dex(DexRefusal::Throttled { left: 0, .. }))
			]
		));
		assert_eq!(report.queue.checked, 1);
		// Not queued ahead: the riskier of the two sells, the other left out.
		assert!(Liquidation::dequeue(&queued, BTC));
		let report = dry_batch(&[low, mid], w);
		assert_eq!(report.settled, vec![mid]);
		// Queued itself at a health below the other's (an entry keeps the health it was queued
		// at: the price has risen since), the member left out does not hold the lot back.
		enqueue(low, health(queued));
		let report = dry_batch(&[low, mid], w);
		assert_eq!(report.settled, vec![mid]);
		assert_eq!(report.queue.checked, 0);
		// Less room than the riskiest alone: nothing sold, nothing changed.
		MockBreaker::throttle(BTC, v_mid / 2);
		System::reset_events();
		let root = sp_io::storage::root(sp_runtime::StateVersion::V1);
		assert_eq!(
			settle_batch(&[low, mid], w).unwrap_err().error,
			Error::<Test>::NothingSettled.into()
		);
		assert_eq!(sp_io::storage::root(sp_runtime::StateVersion::V1), root);
		assert_eq!(MockBreaker::sold(BTC), 0);
	});
}

/// The cap is directional: a pool still above the oracle after the sale (one that lags a
/// fall) takes the whole sale within the slippage bound, counted against nothing.
#[test]
fn a_pool_left_above_the_oracle_takes_a_sale_past_the_depth_share() {
	ExtBuilder::default().without_pools().build_and_execute(|| {
		let [who]: [AccountId; 1] = borrowers(&[680_000]).try_into().unwrap();
		MockOracle::set(BTC, FixedU128::from_u32(85));
		// The pool still at 100 (the oracle fell to 85), 400,000 BTC deep.
		create_pool(LP, USD, BTC, 40_000_000, 400_000);
		set_pool_share(MIN_POOL_BLOCK_SHARE);
		let input = Liquidation::preview(who).unwrap().dex_input.unwrap();
		assert!(input > MIN_POOL_BLOCK_SHARE.mul_floor(400_000u128), "{input}");
		assert_eq!(Liquidation::preview(who).unwrap().route, Ok(Route::Dex));
		assert_ok!(settle(who));
		let Event::Settled { route: Route::Dex, sold, .. } = last_event() else { panic!() };
		assert_eq!(sold, input);
		assert_eq!(PoolSold::<Test>::get((BTC, USD)), None);
	});
}

/// A batch's lot beyond what the depth cap has left is not sold (each position skipped by
/// name, state unchanged); within it, one swap counted against the cap.
#[test]
fn a_batch_sells_a_pairs_lot_only_within_the_depth_cap() {
	ExtBuilder::default().without_pools().build_and_execute(|| {
		let accounts = borrowers(&[680_000, 690_000]);
		MockOracle::set(BTC, FixedU128::from_u32(85));
		create_pool(LP, USD, BTC, 34_000_000, 400_000);
		let w = BatchWitness { pairs: 1, wide: 0, bids: u32::MAX };
		let lot: u128 =
			accounts.iter().map(|who| Liquidation::preview(*who).unwrap().dex_input.unwrap()).sum();
		// Room for one position's sale, not the lot.
		set_pool_share(Permill::from_rational(lot / 2, 400_000));
		let report = Liquidation::try_settle_batch(&accounts, w).unwrap();
		assert_eq!(report.skipped.len(), 2);
		assert!(report
			.skipped
			.iter()
			.all(|(_, why)| matches!(why, Skipped::Dex(DexRefusal::Throttled { .. }))));
		let list: frame_support::BoundedVec<AccountId, <Test as Config>::MaxSettleBatch> =
			accounts.clone().try_into().unwrap();
		let root = sp_io::storage::root(sp_runtime::StateVersion::V1);
		assert_eq!(
			Liquidation::settle_batch(RuntimeOrigin::signed(CHARLIE), list.clone(), w)
				.unwrap_err()
				.error,
			Error::<Test>::NothingSettled.into()
		);
		assert_eq!(sp_io::storage::root(sp_runtime::StateVersion::V1), root);
		// Room for the lot: sold in one swap, counted.
		set_pool_share(Permill::from_percent(5));
		assert_ok!(Liquidation::settle_batch(RuntimeOrigin::signed(CHARLIE), list, w));
		let sold: u128 = events()
			.iter()
			.filter_map(|e| match e {
				Event::BatchSold { sold, .. } => Some(*sold),
				_ => None,
			})
			.sum();
		assert!(sold > 0);
		let now = System::block_number() as u32;
		assert_eq!(PoolSold::<Test>::get((BTC, USD)), Some((now, sold)));
	});
}

/// The pool's depth cap trims a lot as the breaker's does: room for the riskier of two
/// positions sells it alone, counted against the pool's room; the other is skipped, untouched.
/// So too on a throttled collateral whose cap has room (its lot quoted before any sale, and
/// trimmed to the pool's room then: found by review, it was refused whole).
#[test]
fn a_batch_over_the_depth_cap_sells_its_riskiest_position_within_it() {
	for throttled in [false, true] {
		over_the_depth_cap(throttled);
	}
}

fn over_the_depth_cap(throttled: bool) {
	ExtBuilder::default().without_pools().build_and_execute(|| {
		if throttled {
			MockBreaker::throttle(BTC, u128::MAX / 2);
		}
		let accounts = borrowers(&[680_000, 690_000]);
		let [other, riskier] = accounts[..] else { unreachable!() };
		MockOracle::set(BTC, FixedU128::from_u32(85));
		create_pool(LP, USD, BTC, 34_000_000, 400_000);
		let input = |who| Liquidation::preview(who).unwrap().dex_input.unwrap();
		let room = input(riskier) + input(other) / 2;
		set_pool_share(Permill::from_rational(room, 400_000));
		let before = (debt(other, USD), supplied(other, BTC));
		let w = BatchWitness { pairs: 1, wide: 0, bids: u32::MAX };
		System::reset_events();
		assert_ok!(settle_batch(&accounts, w));
		let (settled, skipped) = dex_outcomes();
		assert_eq!(settled, vec![riskier]);
		assert!(
			matches!(skipped[..], [(who, Skipped::Dex(DexRefusal::Throttled { .. }))] if who == other),
			"{skipped:?}"
		);
		let Some(Event::BatchSold { positions: 1, sold, .. }) =
			events().into_iter().find(|e| matches!(e, Event::BatchSold { .. }))
		else {
			panic!("no sale")
		};
		let now = System::block_number() as u32;
		assert_eq!(PoolSold::<Test>::get((BTC, USD)), Some((now, sold)));
		assert!(sold <= Permill::from_rational(room, 400_000).mul_floor(400_000u128));
		assert_eq!((debt(other, USD), supplied(other, BTC)), before);
	});
}

/// #26: "overflow queues (marginal) or goes to a per-block-limited backstop, then auction
/// (deep)". Before, every position a block's cap held back went to the backstop first (the
/// fund bought marginal positions that could have waited a block) and, beyond it, to the
/// queue (a deep position waited with no bound on its loss). Now one above
/// `health_for_max_discount` (0.90) waits in the queue; one at or below it goes to the
/// backstop, then to an auction.
#[test]
fn over_the_cap_a_marginal_position_queues_and_a_deep_one_goes_to_the_backstop_then_an_auction() {
	ExtBuilder::default().build_and_execute(|| {
		let [marginal, deep, deeper]: [AccountId; 3] =
			borrowers(&[640_000, 680_000, 690_000]).try_into().unwrap();
		MockOracle::set(BTC, FixedU128::from_u32(80));
		let max = default_params().health_for_max_discount;
		assert!(health(marginal) > max && health(marginal) < FixedU128::one());
		assert!(health(deep) <= max && health(deeper) <= max);
		mint(USD, insurance(), 100_000_000);
		// Nothing of BTC may be sold on the DEX in this block.
		MockBreaker::throttle(BTC, 0);
		let fund = Liquidation::insurance_spendable(USD);

		// The marginal position waits; the fund is untouched.
		assert!(matches!(
			Liquidation::preview(marginal).unwrap().route,
			Err(DexRefusal::Throttled { left: 0, .. })
		));
		assert_ok!(settle(marginal));
		assert!(matches!(last_event(), Event::SaleQueued { borrower, .. } if borrower == marginal));
		assert_eq!(Liquidation::insurance_spendable(USD), fund);
		assert_eq!(BackstopSpent::<Test>::get(USD), None);

		// The deep one: the backstop buys it.
		assert!(matches!(
			Liquidation::preview(deep).unwrap().route,
			Ok(Route::Backstop { dex: DexRefusal::Throttled { .. } })
		));
		assert_ok!(settle(deep));
		assert!(matches!(
			last_event(),
			Event::Settled { route: Route::Backstop { .. }, borrower, .. } if borrower == deep
		));
		assert!(Liquidation::insurance_spendable(USD) < fund);

		// The backstop's block limit spent: the next deep one goes to an auction, not the queue.
		BackstopBlockShare::set(Permill::from_parts(1));
		assert!(matches!(
			Liquidation::preview(deeper).unwrap().route,
			Ok(Route::Auction { dex: DexRefusal::Throttled { .. } })
		));
		assert_ok!(settle(deeper));
		assert!(events()
			.iter()
			.any(|e| matches!(e, Event::AuctionStarted { borrower, .. } if *borrower == deeper)));
		assert_eq!(queue(BTC), vec![marginal]);
		BackstopBlockShare::set(Permill::one());
	});
}

/// A batch's lot waits behind a liquidatable queue entry riskier than any of its members, even
/// when a member stands at the queue's head: a keeper cannot put the head in a lot with a less
/// risky position and sell both ahead of the riskier entry behind it. With that entry in the
/// lot, or the head alone (as `settle` would), the sale goes.
#[test]
fn a_lot_with_the_queues_head_still_waits_behind_a_riskier_entry() {
	ExtBuilder::default().build_and_execute(|| {
		// At 85, riskiest first.
		let accounts = borrowers(&[690_000, 680_000, 640_000]);
		let [head, riskier, safe]: [AccountId; 3] = accounts.clone().try_into().unwrap();
		MockOracle::set(BTC, FixedU128::from_u32(85));
		MockBreaker::throttle(BTC, 0);
		for who in [head, riskier, safe] {
			assert_ok!(settle(who));
		}
		assert_eq!(queue(BTC), vec![head, riskier, safe]);
		next_block();
		MockBreaker::throttle(BTC, u128::MAX);
		let w = BatchWitness { pairs: 1, wide: 0, bids: u32::MAX };
		let report = Liquidation::try_settle_batch(&[head, safe], w).unwrap();
		assert!(report.settled.is_empty(), "{report:?}");
		assert!(report
			.skipped
			.iter()
			.all(|(_, why)| matches!(why, Skipped::Dex(DexRefusal::Throttled { left: 0, .. }))));
		let report = Liquidation::try_settle_batch(&accounts, w).unwrap();
		assert_eq!(report.settled.len(), 3, "{report:?}");
		let report = Liquidation::try_settle_batch(&[head], w).unwrap();
		assert_eq!(report.settled, vec![head]);
		assert_eq!(queue(BTC), vec![head, riskier, safe], "dry runs change nothing");
	});
}
