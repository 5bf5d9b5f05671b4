use super::*;

fn witness(pairs: u32, wide: u32) -> BatchWitness {
	BatchWitness { pairs, wide, bids: u32::MAX }
}

/// `call` fails with `NothingSettled` (charged only what it checked) and changes nothing.
fn assert_nothing_settled(call: impl FnOnce() -> DispatchResultWithPostInfoOf) {
	let mut call = Some(call);
	let result = core::cell::RefCell::new(None);
	frame_support::assert_storage_noop!(*result.borrow_mut() = call.take().map(|c| c()));
	let err = result.into_inner().unwrap().expect_err("nothing settled");
	assert_eq!(err.error, Error::<Test>::NothingSettled.into());
	assert!(err.post_info.actual_weight.is_some(), "refunded to what was checked");
}

/// The `Settled` events, by borrower.
fn settled() -> Vec<(AccountId, u128, u128, u128, u128, u128, u128)> {
	events()
		.into_iter()
		.filter_map(|e| match e {
			Event::Settled {
				borrower,
				repaid,
				collateral_due,
				sold,
				to_insurance,
				tip,
				returned,
				route: Route::Dex,
				..
			} => Some((borrower, repaid, collateral_due, sold, to_insurance, tip, returned)),
			_ => None,
		})
		.collect()
}

/// `who` supplies 4,000,000 MEME (at 0.5, threshold 50%) and borrows 780,000 USD: below 1
/// when MEME falls to 0.38.
fn meme_borrower(who: AccountId) -> AccountId {
	mint(MEME, who, 4_000_000 + MIN);
	assert_ok!(Lending::supply(RuntimeOrigin::signed(who), MEME, 4_000_000));
	assert_ok!(Lending::borrow(RuntimeOrigin::signed(who), USD, 780_000));
	who
}

fn sales() -> Vec<Event<Test>> {
	events().into_iter().filter(|e| matches!(e, Event::BatchSold { .. })).collect()
}

#[test]
fn one_swap_per_pair_pro_rata_shares_and_every_unit_accounted() {
	ExtBuilder::default().build_and_execute(|| {
		let accounts = borrowers(&[700_000, 680_000, 660_000]);
		MockOracle::set(BTC, FixedU128::from_u32(85));
		System::reset_events();
		let before: Vec<(u128, u128)> =
			accounts.iter().map(|a| (supplied(*a, BTC), debt(*a, USD))).collect();
		let pool = pool_reserves(USD, BTC);
		let (ins_tokens, ins_supply, charlie_supply) =
			(balance(BTC, insurance()), supplied(insurance(), BTC), supplied(CHARLIE, BTC));

		// (A dry run: three entries of one key leave its top bucket, which is looked at and
		// charged.)
		let dry = Liquidation::try_settle_batch(&accounts, witness(1, 0)).unwrap();
		assert_eq!(dry.settled.len(), 3);
		assert!((1..=3).contains(&dry.looks), "{dry:?}");
		assert_ok!(settle_batch(&accounts, witness(1, 0)));

		// One sale for the pair.
		let sales = sales();
		assert_eq!(sales.len(), 1);
		let Event::BatchSold { collateral_asset, debt_asset, positions, repaid, sold, remainder } =
			sales[0].clone()
		else {
			panic!()
		};
		assert_eq!((collateral_asset, debt_asset, positions), (BTC, USD, 3));
		// The DEX was swapped once: exactly the debt out, exactly `sold` in.
		assert_eq!(pool_reserves(USD, BTC), (pool.0 - repaid, pool.1 + sold));
		assert!(remainder < 3, "{remainder}");

		let settled = settled();
		assert_eq!(settled.iter().map(|s| s.0).collect::<Vec<_>>(), accounts);
		let mut shares = 0;
		let mut repaid_sum = 0;
		let (mut ins_sum, mut tip_sum) = (0, 0);
		for ((who, r, due_, share, ins, tip, returned), (btc0, debt0)) in
			settled.iter().zip(&before)
		{
			// Per position, to the unit: what was due is sold, to the treasury, tipped or
			// the borrower's.
			assert_eq!(share + ins + tip + returned, *due_);
			assert_eq!(supplied(*who, BTC), btc0 - share - ins - tip);
			assert_eq!(debt(*who, USD), debt0 - r);
			// The share is the sale's input pro rata to the repayment (rounded down or up).
			assert!(*share == sold * r / repaid || *share == (sold * r).div_ceil(repaid));
			// Within the position's own bound: its debt's worth at the oracle plus 3%.
			assert!(*share <= r / 85 * 103 / 100 + 1);
			assert!(health(*who) >= fx(105, 100));
			shares += share;
			repaid_sum += r;
			ins_sum += ins;
			tip_sum += tip;
		}
		// The positions' shares are exactly what the DEX took.
		assert_eq!(shares, sold);
		assert_eq!(repaid_sum, repaid);
		// The treasury got its shares of the penalties with the rounding as supply, no
		// tokens; the caller its tips as supply.
		assert_eq!(balance(BTC, insurance()), ins_tokens);
		assert_eq!(supplied(insurance(), BTC), ins_supply + ins_sum);
		assert_eq!(supplied(CHARLIE, BTC), charlie_supply + tip_sum);
		let working = Liquidation::account_id();
		assert_eq!((balance(USD, working), balance(BTC, working)), (0, 0));
		// The lending pallet read and wrote each borrower's record once for the lot: one
		// event a borrower (seized and repaid), one for the lot's seizure and one for its
		// repayment; no single `Repaid` or `LotSeizure`.
		let lending: Vec<pallet_lending::Event<Test>> = System::events()
			.into_iter()
			.filter_map(|r| if let RuntimeEvent::Lending(e) = r.event { Some(e) } else { None })
			.collect();
		assert_eq!(lending.len(), settled.len() + 2, "{lending:?}");
		for (e, (who, r, _, share, ins, tip, _)) in lending.iter().zip(&settled) {
			let pallet_lending::Event::LotSettlement {
				who: w,
				collateral_asset,
				sold,
				tip: t,
				rest,
				debt_asset,
				repaid: paid,
				..
			} = e
			else {
				panic!("{e:?}")
			};
			assert_eq!(
				(*w, *collateral_asset, *sold, *t, *rest, *debt_asset, *paid),
				(*who, BTC, *share, *tip, *ins, USD, *r)
			);
		}
		let n = settled.len();
		assert!(
			matches!(lending[n], pallet_lending::Event::LotSeized { sold: s, .. } if s == sold),
			"{:?}",
			lending[n]
		);
		assert!(
			matches!(lending[n + 1], pallet_lending::Event::LotRepaid { amount, payer, .. }
				if amount == repaid && payer == working),
			"{:?}",
			lending[n + 1]
		);
	});
}

#[test]
fn a_share_below_the_minimum_balance_rides_with_the_larger_ones() {
	ExtBuilder::default().build_and_execute(|| {
		let big = borrowers(&[700_000])[0];
		// 20 BTC backing 1,400 USD: at 85 its whole share is some 17 BTC, below BTC's
		// minimum balance (1,000): alone, the working account could not receive it.
		let tiny = 50;
		mint(BTC, tiny, 20 + MIN);
		assert_ok!(Lending::supply(RuntimeOrigin::signed(tiny), BTC, 20));
		assert_ok!(Lending::borrow(RuntimeOrigin::signed(tiny), USD, 1_400));
		MockOracle::set(BTC, FixedU128::from_u32(85));
		assert!(health(tiny) < FixedU128::one());
		System::reset_events();
		// Given first, it is still withdrawn after the large share and repaid first.
		assert_ok!(settle_batch(&[tiny, big], witness(1, 0)));
		let settled = settled();
		assert_eq!(settled.iter().map(|s| s.0).collect::<Vec<_>>(), vec![tiny, big]);
		let tiny_sold = settled[0].3;
		assert!(tiny_sold > 0 && tiny_sold < MIN, "{tiny_sold}");
		assert!(debt(tiny, USD) < 1_400);
	});
}

#[test]
fn a_position_healthy_by_now_is_skipped_not_failed() {
	ExtBuilder::default().build_and_execute(|| {
		let accounts = borrowers(&[700_000, 500_000, 680_000]);
		MockOracle::set(BTC, FixedU128::from_u32(85));
		System::reset_events();
		let healthy = accounts[1];
		let before = (supplied(healthy, BTC), debt(healthy, USD));
		assert_ok!(settle_batch(&accounts, witness(1, 0)));
		assert_eq!(
			settled().iter().map(|s| s.0).collect::<Vec<_>>(),
			vec![accounts[0], accounts[2]]
		);
		assert!(events()
			.contains(&Event::SettlementSkipped { borrower: healthy, reason: Skipped::Healthy }));
		assert_eq!((supplied(healthy, BTC), debt(healthy, USD)), before);
	});
}

#[test]
fn bad_batches_are_refused_by_name_and_change_nothing() {
	ExtBuilder::default().build_and_execute(|| {
		let accounts = borrowers(&[700_000, 500_000]);
		MockOracle::set(BTC, FixedU128::from_u32(85));
		assert_noop!(settle_batch(&[], witness(1, 0)), Error::<Test>::EmptyBatch);
		assert_noop!(
			settle_batch(&[accounts[0], accounts[0]], witness(1, 0)),
			Error::<Test>::DuplicateBorrower
		);
		assert_noop!(
			settle_batch(&[accounts[0], CHARLIE], witness(1, 0)),
			Error::<Test>::SelfLiquidation
		);
		// Only healthy positions (or nobody with debt): nothing settled, nothing changed.
		assert_nothing_settled(|| settle_batch(&[accounts[1], BOB], witness(1, 0)));
		// A witness of no pairs sells nothing.
		assert_nothing_settled(|| settle_batch(&[accounts[0]], witness(0, 0)));
		assert_noop!(
			Liquidation::settle_batch_unsigned(
				RuntimeOrigin::signed(BOB),
				list(&accounts),
				witness(1, 0),
				System::block_number()
			),
			DispatchError::BadOrigin
		);
		assert_noop!(
			Liquidation::settle_batch(RuntimeOrigin::none(), list(&accounts), witness(1, 0)),
			DispatchError::BadOrigin
		);
	});
}

#[test]
fn pairs_and_wide_positions_beyond_the_witness_are_skipped() {
	ExtBuilder::default().build_and_execute(|| {
		let btc = borrowers(&[700_000])[0];
		// 11: MEME only (meme_borrower). 12: BTC and MEME, both collateral.
		let meme = meme_borrower(11);
		let wide = 12;
		mint(BTC, wide, 5_000 + MIN);
		mint(MEME, wide, 2_000_000 + MIN);
		assert_ok!(Lending::supply(RuntimeOrigin::signed(wide), BTC, 5_000));
		assert_ok!(Lending::supply(RuntimeOrigin::signed(wide), MEME, 2_000_000));
		assert_ok!(Lending::borrow(RuntimeOrigin::signed(wide), USD, 700_000));
		MockOracle::set(BTC, FixedU128::from_u32(85));
		MockOracle::set(MEME, fx(38, 100));
		assert!(health(btc) < FixedU128::one());
		assert!(health(meme) < FixedU128::one());
		assert!(health(wide) < FixedU128::one());
		System::reset_events();
		let all = [btc, meme, wide];
		let state = || all.map(|a| (supplied(a, BTC), supplied(a, MEME), debt(a, USD)));
		let before = state();

		// One pair, no wide position declared: only the first.
		assert_ok!(settle_batch(&all, witness(1, 0)));
		assert_eq!(settled().iter().map(|s| s.0).collect::<Vec<_>>(), vec![btc]);
		let skipped: Vec<_> = events()
			.into_iter()
			.filter_map(|e| match e {
				Event::SettlementSkipped { borrower, reason } => Some((borrower, reason)),
				_ => None,
			})
			.collect();
		assert_eq!(skipped, vec![(meme, Skipped::OverWitness), (wide, Skipped::OverWitness)]);
		let after = state();
		assert_eq!(&after[1..], &before[1..]);

		// Declared: two pairs, one wide position. MEME sells in a swap of its own.
		MockOracle::set(BTC, FixedU128::from_u32(85));
		System::reset_events();
		assert_ok!(settle_batch(&[meme, wide], witness(2, 1)));
		assert_eq!(settled().iter().map(|s| s.0).collect::<Vec<_>>(), vec![meme, wide]);
		assert_eq!(sales().len(), 2);
	});
}

/// A pair takes one of the witness's pairs when a position of it is first planned, sold or
/// not (each pair's weight measures its two markets read, and planning reads them whatever the
/// outcome): a narrow position healthy in a pair of its own takes it, and a position of a
/// further pair is passed over unplanned. Declared, both are planned and both pairs charged.
#[test]
fn a_pair_is_taken_by_its_first_plan_sold_or_not() {
	ExtBuilder::default().build_and_execute(|| {
		let btc = borrowers(&[700_000])[0];
		let meme = meme_borrower(11);
		MockOracle::set(BTC, FixedU128::from_u32(85));
		assert!(health(meme) >= FixedU128::one());
		assert!(health(btc) < FixedU128::one());

		let report = Liquidation::try_settle_batch(&[meme, btc], witness(1, 0)).unwrap();
		assert!(report.settled.is_empty());
		assert_eq!(report.skipped, vec![(meme, Skipped::Healthy), (btc, Skipped::OverWitness)]);
		assert_eq!((report.narrow, report.unplanned, report.pairs), (1, 1, 1));
		assert_nothing_settled(|| settle_batch(&[meme, btc], witness(1, 0)));

		let report = Liquidation::try_settle_batch(&[meme, btc], witness(2, 0)).unwrap();
		assert_eq!(report.settled, vec![btc]);
		// (The top bucket of BTC's key, which its only entry left, is looked at once at the
		// end: no count of entries is kept, session 29.)
		assert_eq!(report.looks, 1);
		assert_eq!(report.skipped, vec![(meme, Skipped::Healthy)]);
		assert_eq!((report.narrow, report.unplanned, report.pairs), (2, 0, 2));

		// The other way round, one pair: BTC's is taken first and settles.
		System::reset_events();
		let before = (supplied(meme, MEME), debt(meme, USD));
		assert_ok!(settle_batch(&[btc, meme], witness(1, 0)));
		assert_eq!(settled().iter().map(|s| s.0).collect::<Vec<_>>(), vec![btc]);
		assert!(events()
			.contains(&Event::SettlementSkipped { borrower: meme, reason: Skipped::OverWitness }));
		assert_eq!((supplied(meme, MEME), debt(meme, USD)), before);
	});
}

#[test]
fn a_pair_the_dex_cannot_sell_is_skipped_and_settle_takes_the_backstop() {
	ExtBuilder::default().without_pools().build_and_execute(|| {
		let accounts = borrowers(&[700_000]);
		MockOracle::set(BTC, FixedU128::from_u32(85));
		mint(USD, insurance(), 1_000_000);
		assert_nothing_settled(|| settle_batch(&accounts, witness(1, 0)));
		let dry = Liquidation::try_settle_batch(&accounts, witness(1, 0)).unwrap();
		assert_eq!(dry.skipped, vec![(accounts[0], Skipped::Dex(DexRefusal::NoPool))]);
		assert!(dry.settled.is_empty());
		assert_ok!(Liquidation::settle(RuntimeOrigin::signed(CHARLIE), accounts[0]));
		assert!(matches!(
			last_event(),
			Event::Settled { route: Route::Backstop { dex: DexRefusal::NoPool }, .. }
		));
	});
}

#[test]
fn the_weight_is_declared_from_the_witness_and_refunded_to_what_was_done() {
	ExtBuilder::default().build_and_execute(|| {
		let accounts = borrowers(&[700_000, 500_000, 680_000]);
		MockOracle::set(BTC, FixedU128::from_u32(85));
		let call =
			Call::<Test>::settle_batch { borrowers: list(&accounts), witness: witness(2, 1) };
		use frame_support::dispatch::GetDispatchInfo;
		let declared = call.get_dispatch_info().call_weight;
		assert_eq!(declared, Liquidation::settle_batch_weight(3, &witness(2, 1)));
		let post = settle_batch(&accounts, witness(2, 1)).unwrap();
		let actual = post.actual_weight.expect("refunded");
		// Two narrow positions settled in one pair, the healthy one planned: three narrow
		// positions of one pair.
		// The pair's lot offered to the (empty) bid book first.
		let done =
			BatchReport::<AccountId> { narrow: 3, pairs: 1, bids_asked: 1, ..Default::default() };
		assert_eq!(actual, Liquidation::batch_report_weight(&done));
		assert!(actual.all_lte(declared) && actual != declared);
	});
}

/// The worker sizes a batch by the pairs its positions take (a narrow position's pair read
/// before the dry run, one for each wide position), not `MaxBatchPairs` for every batch
/// (session 28: the last batches of a block were sized at eight pairs each, and a block's
/// share ended about 120 ms unfilled at 1M positions).
#[test]
fn a_batch_is_sized_by_the_pairs_its_positions_take() {
	ExtBuilder::default().build_and_execute(|| {
		let mut accounts = borrowers(&[700_000, 680_000, 660_000]);
		// (No bid in the book: none declared sold to the bids.)
		let one = BatchWitness { pairs: 1, wide: 0, bids: 0 };
		assert_eq!(
			Liquidation::batch_prefix(accounts.iter(), frame_support::weights::Weight::MAX),
			(3, one)
		);
		// A share for exactly two of them at one pair: two taken, where the worst case of
		// every pair takes fewer.
		let budget = Liquidation::settle_batch_unsigned_weight(2, &one);
		assert_eq!(Liquidation::batch_prefix(accounts.iter(), budget), (2, one));
		let max_pairs = <Test as Config>::MaxBatchPairs::get();
		assert!(Liquidation::settle_batch_unsigned_weight(2, &witness(max_pairs, 0)).any_gt(budget));
		// A MEME borrower takes a second pair; a wide one a pair of its own, whichever.
		accounts.push(meme_borrower(20));
		let wide = 21;
		mint(BTC, wide, 1_000 + MIN);
		mint(MEME, wide, 1_000_000 + MIN);
		assert_ok!(Lending::supply(RuntimeOrigin::signed(wide), BTC, 1_000));
		assert_ok!(Lending::supply(RuntimeOrigin::signed(wide), MEME, 1_000_000));
		assert_ok!(Lending::borrow(RuntimeOrigin::signed(wide), USD, 1_000));
		accounts.push(wide);
		// (Three pairs at most: the mock's `MaxBatchPairs` caps it at two.)
		let (n, sized) =
			Liquidation::batch_prefix(accounts.iter(), frame_support::weights::Weight::MAX);
		// (A wide position's pair is chosen when it is planned: it may sell to the bids.)
		assert_eq!((n, sized), (5, BatchWitness { pairs: 3.min(max_pairs), wide: 1, bids: 1 }));
		// The worker's dry run with it takes no more than sized, and passes none over.
		MockOracle::set(BTC, FixedU128::from_u32(85));
		let mut sorted = accounts.clone();
		sorted.sort();
		let dry = Liquidation::try_settle_batch(&sorted, sized).unwrap();
		assert!(dry.pairs <= sized.pairs && dry.wide <= sized.wide, "{dry:?}");
		assert!(!dry.skipped.iter().any(|(_, why)| matches!(why, Skipped::OverWitness)), "{dry:?}");
	});
}

/// A pair pays the treasury's shares in tokens only when the treasury holds supply in as many
/// markets as it may and none of the collateral: only such a pair is charged the withdrawal
/// that payout costs (until session 28 every pair was, about 1 ms a batch).
#[test]
fn a_batch_is_charged_the_treasurys_token_payout_only_when_it_pays_one() {
	ExtBuilder::default().build_and_execute(|| {
		let accounts = borrowers(&[700_000, 680_000]);
		MockOracle::set(BTC, FixedU128::from_u32(85));
		let w = witness(1, 0);
		let supply = Liquidation::try_settle_batch(&accounts, w).unwrap();
		assert_eq!((supply.settled.len(), supply.token_rests), (2, 0));
		// The treasury full: supply in four markets (as many as an account may here), no BTC.
		super::correctness::treasury_full_but_btc();
		let tokens = Liquidation::try_settle_batch(&accounts, w).unwrap();
		assert_eq!((tokens.settled.len(), tokens.token_rests), (2, 1), "{tokens:?}");
		let withdrawal = <Test as Config>::Lending::withdraw_supply_weight();
		assert_eq!(
			Liquidation::batch_report_weight(&tokens),
			Liquidation::batch_report_weight(&supply).saturating_add(withdrawal)
		);
		// Declared for every pair whatever the treasury holds; charged as it was.
		// Holding no BTC, the treasury cannot receive its shares in tokens (less than the
		// minimum balance): the borrowers keep them, and the pair still sells (before, the
		// payout failed the sale: every such batch fell to single settlements).
		let (sold, kept) = frame_support::storage::with_transaction(|| {
			System::reset_events();
			let sold = settle_batch(&accounts, w).is_ok();
			let kept = settled();
			frame_support::storage::TransactionOutcome::Rollback(Ok::<_, DispatchError>((
				sold, kept,
			)))
		})
		.unwrap();
		assert!(sold);
		assert_eq!(kept.len(), 2);
		assert!(kept.iter().all(|s| s.4 == 0 && s.6 > 0), "{kept:?}");
		// Holding its minimum balance, it takes them as tokens, its positions unchanged.
		mint(BTC, insurance(), MIN);
		System::reset_events();
		let post = settle_batch(&accounts, w).unwrap();
		assert_eq!(post.actual_weight, Some(Liquidation::batch_report_weight(&tokens)));
		assert!(Liquidation::batch_report_weight(&tokens)
			.all_lte(Liquidation::settle_batch_weight(2, &w)));
		let to_insurance: u128 = settled().iter().map(|s| s.4).sum();
		assert!(to_insurance > 0);
		assert_eq!(balance(BTC, insurance()), MIN + to_insurance);
		assert_eq!(supplied(insurance(), BTC), 0);
	});
}

/// The unsigned batch is charged its validity check at inclusion as that check ran: up to its
/// first due borrower (not every borrower at its worst: session 22, the normal class was
/// charged ≈ 145 µs a batched position it never spent).
#[test]
fn the_unsigned_batch_is_also_charged_its_validity_check() {
	ExtBuilder::default().build_and_execute(|| {
		// The first (in order) healthy: the check reads two borrowers.
		let accounts = borrowers(&[500_000, 700_000, 680_000]);
		MockOracle::set(BTC, FixedU128::from_u32(85));
		let call = Call::<Test>::settle_batch_unsigned {
			borrowers: list(&accounts),
			witness: witness(2, 1),
			at: System::block_number(),
		};
		use frame_support::dispatch::GetDispatchInfo;
		// Reserved: its validity check at inclusion at its worst, and the return of its unused
		// claim after dispatch.
		let check = Liquidation::unsigned_checks(3);
		assert!(check.ref_time() > 0);
		let declared = call.get_dispatch_info().call_weight;
		assert_eq!(declared, Liquidation::settle_batch_weight(3, &witness(2, 1)) + check);
		let post = Liquidation::settle_batch_unsigned(
			RuntimeOrigin::none(),
			list(&accounts),
			witness(2, 1),
			System::block_number(),
		)
		.unwrap();
		// What the signed batch is refunded to (the pair's lot offered to the empty bid book
		// first), and the check as it ran (two borrowers read).
		let done =
			BatchReport::<AccountId> { narrow: 3, pairs: 1, bids_asked: 1, ..Default::default() };
		let read = Liquidation::unsigned_checks(2);
		assert!(read.ref_time() < check.ref_time());
		assert_eq!(post.actual_weight, Some(Liquidation::batch_report_weight(&done) + read));
	});
}

/// Session 21: a block's unsigned share was spent by each call's DECLARED weight, so a block
/// held 28 single settlements (each declares its worst route, 8 + 8 markets) where the routes
/// they took leave room for about 260, and a batch's validation was claimed for every
/// borrower at its worst though the check stops at the first due one. The unused part of a
/// claim is returned after dispatch, and a batch claims the validation it read.
#[test]
fn an_unsigned_settlement_returns_what_it_did_not_use_of_the_blocks_share() {
	use frame_support::{
		dispatch::GetDispatchInfo, pallet_prelude::ValidateUnsigned, traits::UnfilteredDispatchable,
	};
	ExtBuilder::default().build_and_execute(|| {
		let accounts = borrowers(&[700_000, 680_000, 650_000]);
		MockOracle::set(BTC, FixedU128::from_u32(85));
		let now = System::block_number() as u32;
		let single = Call::<Test>::settle_unsigned { borrower: accounts[0], at: now.into() };
		let declared = single.get_dispatch_info().call_weight;
		assert_ok!(<Liquidation as ValidateUnsigned>::pre_dispatch(&single));
		assert_eq!(UnsignedUsed::<Test>::get(), (now, declared));
		let post = single.dispatch_bypass_filter(RuntimeOrigin::none()).unwrap();
		let actual = post.actual_weight.unwrap();
		assert!(actual.ref_time() < declared.ref_time() / 2, "{actual:?} of {declared:?}");
		assert_eq!(UnsignedUsed::<Test>::get(), (now, actual));
		// A batch too: the share holds what the two calls did.
		let batch = Call::<Test>::settle_batch_unsigned {
			borrowers: list(&accounts[1..]),
			witness: witness(1, 0),
			at: now.into(),
		};
		let declared = batch.get_dispatch_info().call_weight;
		// Its check read its first borrower only (due): the validation declared for the
		// second is not claimed.
		let validate = <<Test as Config>::WeightInfo as WeightInfo>::validate_settle_batch;
		let unread = validate(2) - validate(1);
		assert!(unread.ref_time() > 0);
		assert_ok!(<Liquidation as ValidateUnsigned>::pre_dispatch(&batch));
		assert_eq!(UnsignedUsed::<Test>::get(), (now, actual + declared - unread));
		let post = batch.dispatch_bypass_filter(RuntimeOrigin::none()).unwrap();
		let did = post.actual_weight.unwrap();
		assert!(did.all_lte(declared - unread) && did != declared);
		// It did its check of one borrower: the share keeps exactly what it did (session 22:
		// it kept that less the unread validation once more, after the actual weight stopped
		// counting the unread borrowers).
		let done =
			BatchReport::<AccountId> { narrow: 2, pairs: 1, bids_asked: 1, ..Default::default() };
		assert_eq!(did, Liquidation::batch_report_weight(&done) + Liquidation::unsigned_checks(1));
		assert_eq!(UnsignedUsed::<Test>::get(), (now, actual + did));
		// Nothing is returned to a later block's count.
		System::set_block_number(System::block_number() + 1);
		let later =
			Call::<Test>::settle_unsigned { borrower: accounts[0], at: System::block_number() };
		let _ = later.dispatch_bypass_filter(RuntimeOrigin::none());
		assert_eq!(UnsignedUsed::<Test>::get(), (now, actual + did));
	});
}

/// #26: the worker could fill the whole normal class with unsigned settlements while every
/// signed call the routes depend on (repayments, swaps, auction takes) waited. Unsigned calls
/// now declare at most `UnsignedShare` (half) of the normal class together in a block: the one
/// beyond it is left for a later block (`ExhaustsResources`), and the worker plans within it.
#[test]
fn unsigned_calls_take_at_most_their_share_of_a_block() {
	use frame_support::{dispatch::GetDispatchInfo, pallet_prelude::ValidateUnsigned};
	use sp_runtime::transaction_validity::InvalidTransaction;
	ExtBuilder::default().build_and_execute(|| {
		let accounts = borrowers(&[700_000, 680_000]);
		MockOracle::set(BTC, FixedU128::from_u32(85));
		let budget = Liquidation::unsigned_budget();
		let normal = Liquidation::normal_budget();
		assert_eq!(budget.ref_time(), normal.ref_time() / 2);
		let first =
			Call::<Test>::settle_unsigned { borrower: accounts[0], at: System::block_number() };
		let second =
			Call::<Test>::settle_unsigned { borrower: accounts[1], at: System::block_number() };
		let one = first.get_dispatch_info().call_weight;
		// Earlier unsigned calls of this block declared all but less than one more.
		let now = System::block_number() as u32;
		UnsignedUsed::<Test>::put((
			now,
			budget.saturating_sub(one) + frame_support::weights::Weight::from_parts(1, 0),
		));
		assert_eq!(
			<Liquidation as ValidateUnsigned>::pre_dispatch(&first),
			Err(InvalidTransaction::ExhaustsResources.into())
		);
		// Room for exactly one: the first is counted, the second waits.
		UnsignedUsed::<Test>::put((now, budget.saturating_sub(one)));
		assert_ok!(<Liquidation as ValidateUnsigned>::pre_dispatch(&first));
		assert_eq!(UnsignedUsed::<Test>::get(), (now, budget));
		assert_eq!(
			<Liquidation as ValidateUnsigned>::pre_dispatch(&second),
			Err(InvalidTransaction::ExhaustsResources.into())
		);
		// A new block's count starts from nothing.
		System::set_block_number(System::block_number() + 1);
		assert_ok!(<Liquidation as ValidateUnsigned>::pre_dispatch(&second));
		assert_eq!(UnsignedUsed::<Test>::get(), (now + 1, one));
		// Pool validation is not refused by the block's count (it is of the block being built).
		UnsignedUsed::<Test>::put((now + 1, budget));
		System::set_block_number(System::block_number() + 1);
		assert!(<Liquidation as ValidateUnsigned>::validate_unsigned(
			sp_runtime::transaction_validity::TransactionSource::Local,
			&first
		)
		.is_ok());
	});
}
