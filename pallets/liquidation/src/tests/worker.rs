//! The offchain worker with a test transaction pool: what it submits, how the pool's
//! validation treats it, the cursor and the no-resubmission rule.

use super::*;
use codec::Decode;
use codec::Encode;
use frame_support::traits::Get;
use frame_support::{
	pallet_prelude::{InvalidTransaction, TransactionSource, ValidateUnsigned},
	traits::UnfilteredDispatchable,
};
use sp_core::offchain::{
	testing::{TestOffchainExt, TestTransactionPoolExt},
	OffchainDbExt, OffchainWorkerExt, TransactionPoolExt,
};
use sp_runtime::transaction_validity::TransactionValidity;

type Extrinsic = frame_system::mocking::MockUncheckedExtrinsic<Test>;

/// The calls of the encoded extrinsics (each unsigned).
fn calls(transactions: Vec<Vec<u8>>) -> Vec<Call<Test>> {
	transactions
		.into_iter()
		.map(|tx| {
			let xt = Extrinsic::decode(&mut &tx[..]).expect("an extrinsic");
			assert!(matches!(xt.preamble, sp_runtime::generic::Preamble::Bare(_)), "unsigned");
			match xt.function {
				RuntimeCall::Liquidation(call) => call,
				other => panic!("unexpected call {other:?}"),
			}
		})
		.collect()
}

/// The mock chain with offchain storage and a transaction pool (the test offchain
/// externalities count as a validator's); `test` gets what empties the pool.
fn with_worker(test: impl FnOnce(&dyn Fn() -> Vec<Call<Test>>)) {
	let mut ext = ExtBuilder::default().build();
	let (offchain, _state) = TestOffchainExt::new();
	let (pool, pool_state) = TestTransactionPoolExt::new();
	ext.register_extension(OffchainDbExt::new(offchain.clone()));
	ext.register_extension(OffchainWorkerExt::new(offchain));
	ext.register_extension(TransactionPoolExt::new(pool));
	let take = move || calls(core::mem::take(&mut pool_state.write().transactions));
	ext.execute_with(|| {
		test(&take);
		Lending::do_try_state().expect("lending invariants hold");
		Liquidation::do_try_state().expect("liquidation invariants hold");
	});
}

/// The borrowers a settlement call names.
fn named(call: &Call<Test>) -> Vec<AccountId> {
	match call {
		Call::settle_unsigned { borrower, .. } => vec![*borrower],
		Call::settle_batch_unsigned { borrowers, .. } => borrowers.to_vec(),
		other => panic!("unexpected call {other:?}"),
	}
}

fn validate(call: &Call<Test>) -> TransactionValidity {
	<Liquidation as ValidateUnsigned>::validate_unsigned(TransactionSource::Local, call)
}

#[test]
fn the_worker_resets_a_stale_auction_and_closes_a_finished_one_unsigned() {
	with_worker(|take| {
		alice_underwater(90);
		MockBreaker::halt(BTC);
		assert_ok!(Liquidation::settle(RuntimeOrigin::signed(CHARLIE), ALICE));
		assert!(Auctions::<Test>::contains_key(0));
		// Made at block 102 (the reset below).
		let redo = Call::redo_unsigned { id: 0, at: 102 };
		// Fresh: nothing due, nothing submitted, refused by the pool.
		let report = Liquidation::run_worker(1).unwrap();
		assert!(report.redos.is_empty());
		assert!(!take().iter().any(|c| matches!(c, Call::redo_unsigned { .. })));
		let now = Call::redo_unsigned { id: 0, at: 1 };
		assert_eq!(validate(&now), InvalidTransaction::Stale.into());
		assert!(!Liquidation::auctions()[0].redo_due);
		// Older than the tail: a reset is due.
		System::set_block_number(102);
		let report = Liquidation::run_worker(102).unwrap();
		assert_eq!(report.redos, vec![0]);
		assert!(take().contains(&redo));
		assert!(validate(&redo).is_ok());
		assert!(Liquidation::auctions()[0].redo_due);
		assert_ok!(redo.clone().dispatch_bypass_filter(RuntimeOrigin::none()));
		assert!(matches!(last_event(), Event::AuctionReset { id: 0, .. }));
		// No longer due: refused at validation and dropped at inclusion.
		assert_eq!(validate(&redo), InvalidTransaction::Stale.into());
		assert!(<Liquidation as ValidateUnsigned>::pre_dispatch(&redo).is_err());
		// Alice healthy again: the worker closes it, in a new transaction (the reset's bytes
		// were included: the pool would refuse them).
		MockOracle::set(BTC, FixedU128::from_u32(100));
		System::set_block_number(103);
		let report = Liquidation::run_worker(103).unwrap();
		assert_eq!(report.redos, vec![0]);
		let redo = Call::redo_unsigned { id: 0, at: 103 };
		assert!(take().contains(&redo));
		assert_ok!(redo.clone().dispatch_bypass_filter(RuntimeOrigin::none()));
		assert!(matches!(
			last_event(),
			Event::AuctionEnded { id: 0, reason: AuctionEnd::Closed, .. }
		));
		// Gone: refused at validation and at inclusion; a signed origin is refused.
		assert_eq!(validate(&redo), InvalidTransaction::Stale.into());
		assert!(<Liquidation as ValidateUnsigned>::pre_dispatch(&redo).is_err());
		assert_noop!(
			Liquidation::redo_unsigned(RuntimeOrigin::signed(BOB), 0, 103),
			DispatchError::BadOrigin
		);
	});
}

#[test]
fn after_a_drop_the_worker_settles_exactly_the_unhealthy() {
	with_worker(|take| {
		// At BTC 85 (liquidation value 637,500) 700,000 and 650,000 are below 1; 500,000
		// is not.
		let accounts = borrowers(&[700_000, 650_000, 500_000]);
		let report = Liquidation::run_worker(1).unwrap();
		assert!(report.submitted.is_empty());
		assert_eq!((report.checked, report.healthy, report.refused), (0, 0, 0));
		assert!(take().is_empty());
		MockOracle::set(BTC, FixedU128::from_u32(85));
		let report = Liquidation::run_worker(1).unwrap();
		assert_eq!(report.submitted, vec![accounts[0], accounts[1]]);
		// The index read only those two: 500,000 sits eleven buckets further.
		assert_eq!((report.checked, report.healthy, report.refused), (2, 0, 0));
		// One batch: one pair, no wide position.
		assert_eq!(report.batches, 1);
		let calls = take();
		let list: frame_support::BoundedVec<_, _> =
			vec![accounts[0], accounts[1]].try_into().unwrap();
		assert_eq!(
			calls,
			vec![Call::settle_batch_unsigned {
				borrowers: list,
				// (What its dry run sold to the bids: none, there are no bids.)
				witness: BatchWitness { pairs: 1, wide: 0, bids: 0 },
				at: System::block_number(),
			}]
		);
		let call = &calls[0];
		// Borrowers out of order: refused before any dry run.
		let reversed: frame_support::BoundedVec<_, _> =
			vec![accounts[1], accounts[0]].try_into().unwrap();
		let unsorted = Call::settle_batch_unsigned {
			borrowers: reversed,
			witness: BatchWitness { pairs: 1, wide: 0, bids: u32::MAX },
			at: System::block_number(),
		};
		assert_eq!(validate(&unsorted), InvalidTransaction::Call.into());
		let valid = validate(call).expect("valid while every position would settle");
		assert_eq!(valid.priority, <<Test as Config>::UnsignedPriority as Get<u64>>::get());
		// A tag per borrower: a single settlement of either conflicts with the batch.
		assert_eq!(
			valid.provides,
			named(call)
				.into_iter()
				.map(|who| ("margincall-liquidation", who).encode())
				.collect::<Vec<_>>()
		);
		let single = Call::settle_unsigned { borrower: accounts[0], at: System::block_number() };
		assert_eq!(validate(&single).unwrap().provides[0], valid.provides[0]);
		// In the pool until the last block that may include it: made at this block, it has
		// the longevity's blocks after this one (a node validates at the next block's number).
		assert_eq!(
			valid.longevity,
			u64::from(<<Test as Config>::UnsignedLongevity as Get<u32>>::get()) + 1
		);
		assert_ok!(<Liquidation as ValidateUnsigned>::pre_dispatch(call));
		System::reset_events();
		assert_ok!(call.clone().dispatch_bypass_filter(RuntimeOrigin::none()));
		// Exactly the two were settled, in one swap.
		let settled: Vec<AccountId> = events()
			.into_iter()
			.filter_map(|e| match e {
				Event::Settled { borrower, .. } => Some(borrower),
				_ => None,
			})
			.collect();
		assert_eq!(settled, vec![accounts[0], accounts[1]]);
		assert_eq!(events().iter().filter(|e| matches!(e, Event::BatchSold { .. })).count(), 1);
		for who in named(call) {
			assert!(health(who) >= fx(105, 100));
		}
		// A replay is refused: the accounts are healthy now.
		assert_eq!(validate(call), InvalidTransaction::Stale.into());
		assert_eq!(
			<Liquidation as ValidateUnsigned>::pre_dispatch(call),
			Err(InvalidTransaction::Stale.into())
		);
		assert!(health(accounts[2]) >= FixedU128::one());
		assert_eq!(debt(accounts[2], USD), 500_000);
		// Only the worker's unsigned origin: a signed one is refused.
		assert_noop!(
			Liquidation::settle_unsigned(RuntimeOrigin::signed(BOB), accounts[2], 1),
			DispatchError::BadOrigin
		);
	})
}

#[test]
fn a_second_run_submits_nothing_twice_and_a_recovered_account_is_refused() {
	with_worker(|take| {
		let accounts = borrowers(&[700_000]);
		MockOracle::set(BTC, FixedU128::from_u32(90));
		assert_eq!(Liquidation::run_worker(1).unwrap().submitted, accounts);
		let again = Liquidation::run_worker(1).unwrap();
		assert!(again.submitted.is_empty());
		assert_eq!(again.already_sent, 1);
		let calls = take();
		assert_eq!(calls.len(), 1);
		// The price recovers before the pool validates it: refused, and not dispatchable.
		MockOracle::set(BTC, FixedU128::from_u32(100));
		assert_eq!(validate(&calls[0]), InvalidTransaction::Stale.into());
		assert_eq!(
			<Liquidation as ValidateUnsigned>::pre_dispatch(&calls[0]),
			Err(InvalidTransaction::Stale.into())
		);
		// After the longevity it may be sent again (once it is unhealthy again).
		MockOracle::set(BTC, FixedU128::from_u32(90));
		let later = 1 + u64::from(<<Test as Config>::UnsignedLongevity as Get<u32>>::get());
		assert_eq!(Liquidation::run_worker(later).unwrap().submitted, accounts);
	})
}

/// An unsigned call has no signer and no nonce: before it named the block it was made at, the
/// worker's second settlement of a borrower (settled, then below 1 again, or settled in part)
/// had the bytes of the first, and the pool refuses the bytes of a transaction a block included
/// (until that block is final; 30 minutes in the single-state pool). Seen on the dev node: the
/// worker's resubmission refused `Already imported` (e2e/smoke.mjs's second fall).
#[test]
fn the_worker_settles_a_borrower_again_with_a_new_transaction() {
	with_worker(|take| {
		let accounts = borrowers(&[700_000]);
		MockOracle::set(BTC, FixedU128::from_u32(85));
		assert_eq!(Liquidation::run_worker(1).unwrap().submitted, accounts);
		let first = take();
		assert_eq!(first.len(), 1);
		assert_ok!(<Liquidation as ValidateUnsigned>::pre_dispatch(&first[0]));
		assert_ok!(first[0].clone().dispatch_bypass_filter(RuntimeOrigin::none()));
		assert!(health(accounts[0]) >= fx(105, 100));
		// Below 1 again after the longevity: the same borrower, the same batch shape.
		MockOracle::set(BTC, FixedU128::from_u32(60));
		assert!(Liquidation::may_settle(&accounts[0]));
		let later = 2 + u64::from(<<Test as Config>::UnsignedLongevity as Get<u32>>::get());
		System::set_block_number(later);
		assert_eq!(Liquidation::run_worker(later).unwrap().submitted, accounts);
		let second = take();
		assert_eq!(second.len(), 1);
		assert_eq!(named(&second[0]), named(&first[0]));
		// A different transaction (its hash differs), with the same tag (one in the pool).
		assert_ne!(second[0].encode(), first[0].encode());
		let valid = validate(&second[0]).expect("valid");
		// The first, made at block 1, is past its longevity now.
		assert_eq!(validate(&first[0]), InvalidTransaction::Stale.into());
		assert_eq!(valid.provides, vec![("margincall-liquidation", accounts[0]).encode()]);
		assert_ok!(<Liquidation as ValidateUnsigned>::pre_dispatch(&second[0]));
		assert_ok!(second[0].clone().dispatch_bypass_filter(RuntimeOrigin::none()));
		assert!(health(accounts[0]) >= fx(105, 100));
	})
}

/// The worker held every account it had sent a settlement for until the longevity passed
/// (three blocks), whether or not the settlement had landed: an account left below 1 by it (a
/// block's cap on the pool's depth or the breaker's sale cap, a further fall) waited two more
/// blocks in a crash, and the cascade benchmark, which settles each block, did not show it. An
/// account is held now only while its position is the one the settlement was made for.
#[test]
fn an_account_left_below_1_by_a_settlement_that_landed_is_sent_again_the_next_block() {
	with_worker(|take| {
		let accounts = borrowers(&[700_000]);
		MockOracle::set(BTC, FixedU128::from_u32(85));
		assert_eq!(Liquidation::run_worker(1).unwrap().submitted, accounts);
		let first = take();
		assert_eq!(first.len(), 1);
		// Block 2: the settlement still in the pool (its position unchanged): held.
		System::set_block_number(2);
		let report = Liquidation::run_worker(2).unwrap();
		assert_eq!((report.submitted.len(), report.already_sent), (0, 1));
		assert!(take().is_empty());
		// It lands in block 2, and the price falls further in it: still below 1.
		assert_ok!(<Liquidation as ValidateUnsigned>::pre_dispatch(&first[0]));
		assert_ok!(first[0].clone().dispatch_bypass_filter(RuntimeOrigin::none()));
		MockOracle::set(BTC, FixedU128::from_u32(60));
		assert!(Liquidation::may_settle(&accounts[0]));
		// The run of block 2 sends it again, a block after the first, not three.
		let report = Liquidation::run_worker(2).unwrap();
		assert_eq!((report.submitted.clone(), report.already_sent), (accounts.clone(), 0));
		let second = take();
		assert_eq!(second.len(), 1);
		assert_ne!(second[0].encode(), first[0].encode());
		assert!(validate(&second[0]).is_ok());
		// And holds it again while that one is in the pool.
		let report = Liquidation::run_worker(2).unwrap();
		assert_eq!((report.submitted.len(), report.already_sent), (0, 1));
		assert_ok!(second[0].clone().dispatch_bypass_filter(RuntimeOrigin::none()));
		assert!(health(accounts[0]) >= fx(105, 100));
	})
}

/// Found by review (helper, session 21): an account whose position changed while its
/// settlement was still in the pool (the borrower repaid a little, a keeper acted) was batched
/// again with fresh accounts, and the pool refuses a batch one of whose tags is taken: the
/// fresh accounts waited. Such an account now goes alone.
#[test]
fn an_account_changed_while_its_settlement_waits_goes_alone_not_in_a_batch() {
	with_worker(|take| {
		let accounts = borrowers(&[700_000, 600_000]);
		MockOracle::set(BTC, FixedU128::from_u32(85));
		assert_eq!(Liquidation::run_worker(1).unwrap().submitted, vec![accounts[0]]);
		assert_eq!(take().len(), 1);
		// Block 2: its settlement still pending, she repays a little (still below 1), and the
		// price falls further: the second borrower is below 1 too.
		System::set_block_number(2);
		assert_ok!(Lending::repay(RuntimeOrigin::signed(accounts[0]), USD, Amount::Exact(1_000)));
		MockOracle::set(BTC, FixedU128::from_u32(70));
		assert!(accounts.iter().all(Liquidation::may_settle));
		let report = Liquidation::run_worker(2).unwrap();
		let mut submitted = report.submitted.clone();
		submitted.sort();
		assert_eq!(submitted, accounts);
		let calls = take();
		assert_eq!(calls.len(), 2, "{calls:?}");
		assert!(
			calls.contains(&Call::settle_unsigned { borrower: accounts[0], at: 2 }),
			"{calls:?}"
		);
		assert!(
			calls.iter().any(|c| matches!(c, Call::settle_batch_unsigned { borrowers, .. }
			if borrowers.to_vec() == vec![accounts[1]])),
			"{calls:?}"
		);
	})
}

#[test]
fn a_borrower_that_recovers_cannot_hold_back_the_rest_of_its_batch() {
	with_worker(|take| {
		let accounts = borrowers(&[700_000, 650_000]);
		MockOracle::set(BTC, FixedU128::from_u32(85));
		assert_eq!(Liquidation::run_worker(1).unwrap().submitted, accounts);
		let calls = take();
		assert_eq!(calls.len(), 1);
		assert!(validate(&calls[0]).is_ok());
		// The second repays enough before the batch is included. Were the batch dropped
		// for it, one borrower's repayment would hold back every other position of the
		// batch (the worker does not resubmit them within the longevity): it stays valid
		// while any position it names is liquidatable, at validation and inclusion alike.
		assert_ok!(Lending::repay(RuntimeOrigin::signed(accounts[1]), USD, Amount::Exact(200_000)));
		assert!(validate(&calls[0]).is_ok());
		assert_ok!(<Liquidation as ValidateUnsigned>::pre_dispatch(&calls[0]));
		// It settles the first and skips the second.
		System::reset_events();
		assert_ok!(calls[0].clone().dispatch_bypass_filter(RuntimeOrigin::none()));
		assert!(events().contains(&Event::SettlementSkipped {
			borrower: accounts[1],
			reason: Skipped::Healthy
		}));
		assert!(health(accounts[0]) >= fx(105, 100));
		assert_eq!(debt(accounts[1], USD), 450_000);
		// Once neither is liquidatable, it is invalid at both.
		assert_eq!(validate(&calls[0]), InvalidTransaction::Stale.into());
		assert_eq!(
			<Liquidation as ValidateUnsigned>::pre_dispatch(&calls[0]),
			Err(InvalidTransaction::Stale.into())
		);
	})
}

#[test]
fn what_a_batch_passes_over_goes_as_a_single_settlement() {
	with_worker(|take| {
		// Debt and no collateral: only `settle`'s loss waterfall can close it.
		let accounts = borrowers(&[700_000]);
		let stripped = accounts[0];
		let all = supplied(stripped, BTC);
		assert_ok!(<Lending as LendingPositions<AccountId>>::seize_collateral(
			&stripped, &BTC, all, &BOB
		));
		let report = Liquidation::run_worker(1).unwrap();
		assert_eq!((report.submitted.clone(), report.batches), (accounts.clone(), 0));
		// With no collateral it is watched: the pair key it left has no entry, and is pruned.
		let at = System::block_number();
		let pair = RiskKey::Pair { collateral: BTC, debt: USD };
		assert_eq!(
			take(),
			vec![
				Call::settle_unsigned { borrower: stripped, at },
				Call::prune_keys_unsigned { keys: vec![pair].try_into().unwrap(), at },
			]
		);
	})
}

#[test]
fn the_cursor_reaches_every_account_over_runs() {
	with_worker(|take| {
		// More unhealthy accounts than one run checks (MaxChecksPerRun = 4).
		let owed: Vec<u128> = (0..10).map(|i| 660_000 + 4_000 * i).collect();
		let accounts = borrowers(&owed);
		MockOracle::set(BTC, FixedU128::from_u32(85));
		let mut submitted = Vec::new();
		let mut runs = 0;
		while submitted.len() < accounts.len() {
			runs += 1;
			assert!(runs <= 5, "the cursor must reach them all: {submitted:?}");
			let report = Liquidation::run_worker(1).unwrap();
			assert!(report.submitted.len() <= 4);
			submitted.extend(report.submitted);
		}
		assert_eq!(runs, 3);
		submitted.sort();
		assert_eq!(submitted, accounts);
		// One batch per run, every account named once.
		let calls = take();
		assert_eq!(calls.len(), 3);
		let mut named: Vec<AccountId> = calls.iter().flat_map(named).collect();
		named.sort();
		assert_eq!(named, accounts);
	})
}

#[test]
fn the_sweep_finds_what_the_index_misses() {
	with_worker(|take| {
		let accounts = borrowers(&[700_000]);
		// Take the account out of the index by hand (what a bug would do).
		let Some(Filing::Entry(key, bucket)) = Liquidation::filed(&accounts[0]) else {
			panic!("filed");
		};
		<Lending as LendingPositions<_>>::update_index_tag(&accounts[0], |_, tag| *tag = None);
		RiskIndex::<Test>::remove((key, bucket, accounts[0]));
		RiskKeys::<Test>::remove(key.epoch(), key);
		MockOracle::set(BTC, FixedU128::from_u32(90));
		assert!(Liquidation::run_worker(1).unwrap().submitted.is_empty());
		SweepPerRun::set(100);
		assert_eq!(Liquidation::run_worker(1).unwrap().submitted, accounts);
		let calls = take();
		assert_ok!(calls[0].clone().dispatch_bypass_filter(RuntimeOrigin::none()));
		// The settlement filed it again.
		assert!(Liquidation::filed(&accounts[0]).is_some());
	})
}

#[test]
fn the_worker_refiles_what_over_reports() {
	with_worker(|take| {
		let accounts = borrowers(&[700_000]);
		// She repays most of her debt: her entry stays where it was (it over-reports).
		assert_ok!(Lending::repay(RuntimeOrigin::signed(accounts[0]), USD, Amount::Exact(400_000)));
		MockOracle::set(BTC, FixedU128::from_u32(90));
		let report = Liquidation::run_worker(1).unwrap();
		assert!(report.submitted.is_empty());
		assert_eq!((report.checked, report.healthy), (1, 1));
		assert_eq!(report.to_refile, accounts);
		assert!(report.refile_submitted);
		let calls = take();
		let list: frame_support::BoundedVec<_, _> = accounts.clone().try_into().unwrap();
		assert_eq!(
			calls,
			vec![Call::refile_unsigned { accounts: list, at: System::block_number() }]
		);
		let valid = validate(&calls[0]).expect("valid: it moves her entry");
		assert_eq!(valid.priority, 0);
		assert_ok!(calls[0].clone().dispatch_bypass_filter(RuntimeOrigin::none()));
		assert!(!Liquidation::needs_refile(&accounts[0]));
		// Replayed, it would move nothing: refused.
		assert_eq!(validate(&calls[0]), InvalidTransaction::Stale.into());
		// The next run reads nothing.
		let report = Liquidation::run_worker(2).unwrap();
		assert_eq!((report.checked, report.healthy, report.refile_submitted), (0, 0, false));
		assert!(take().is_empty());
		// Only unsigned.
		let list: frame_support::BoundedVec<_, _> = accounts.clone().try_into().unwrap();
		assert_noop!(
			Liquidation::refile_unsigned(RuntimeOrigin::signed(BOB), list, 2),
			DispatchError::BadOrigin
		);
	})
}

#[test]
fn a_run_while_another_holds_the_lock_does_nothing() {
	with_worker(|take| {
		borrowers(&[700_000]);
		MockOracle::set(BTC, FixedU128::from_u32(90));
		let mut lock = sp_runtime::offchain::storage_lock::StorageLock::<
			sp_runtime::offchain::storage_lock::Time,
		>::new(b"margincall/liquidation/worker-lock");
		let guard = lock.try_lock().expect("free");
		assert_eq!(Liquidation::run_worker(1), Err(WorkerError::Locked));
		drop(guard);
		assert_eq!(Liquidation::run_worker(1).unwrap().submitted.len(), 1);
		assert_eq!(take().len(), 1);
	})
}

/// Found by review (helper, session 18): the worker's dry runs read the caps of the block it
/// runs in, though its settlements land in the next. With the pool's room spent in block N,
/// the position's batch was skipped (`Throttled`) and it went as a single settlement that
/// would only queue; in N+1 the room is new. The dry runs now run as of N+1: the position
/// goes in a batch that sells.
#[test]
fn the_worker_judges_a_blocks_caps_as_of_the_block_its_settlements_land_in() {
	with_worker(|take| {
		let accounts = borrowers(&[660_000]);
		MockOracle::set(BTC, FixedU128::from_u32(85));
		// The pool just below the oracle (84.8): a sale leaves it below, so the depth cap
		// counts.
		lp_dumps_btc(8_600_000);
		// Block N's room in the pool spent by earlier sales of the block.
		let now = System::block_number();
		PoolSold::<Test>::insert((BTC, USD), (now as u32, u128::MAX / 2));
		let route = Liquidation::preview(accounts[0]).unwrap().route;
		assert!(matches!(route, Err(DexRefusal::Throttled { left: 0, .. })), "{route:?}");
		let report = Liquidation::run_worker(now).unwrap();
		assert_eq!(report.submitted, accounts);
		let calls = take();
		assert_eq!(calls.len(), 1);
		assert!(matches!(calls[0], Call::settle_batch_unsigned { .. }), "{calls:?}");
		assert_eq!(named(&calls[0]), accounts);
		// Nothing of the dry run stayed: still block N, its room still spent.
		assert_eq!(System::block_number(), now);
		assert!(PoolSold::<Test>::get((BTC, USD)).is_some_and(|(b, _)| b == now as u32));
	})
}

#[test]
fn the_worker_refiles_accounts_of_older_epochs_until_the_epoch_is_gone() {
	with_worker(|take| {
		// Two accounts with several assets, filed in epoch 0; a new epoch begins.
		for who in [ALICE, BOB] {
			assert_ok!(Lending::supply(RuntimeOrigin::signed(who), BTC, 10_000));
			assert_ok!(Lending::supply(RuntimeOrigin::signed(who), MEME, 20_000));
			assert_ok!(Lending::borrow(RuntimeOrigin::signed(who), USD, 300_000));
		}
		let epoch_of = |who| match Liquidation::filed(&who) {
			Some(Filing::Entry(RiskKey::Wide { epoch, .. }, _)) => epoch,
			other => panic!("{other:?}"),
		};
		assert_eq!((epoch_of(ALICE), epoch_of(BOB)), (0, 0));
		Liquidation::new_epoch(101);
		System::set_block_number(101);
		// The run refiles both (nothing is below 1): the refile is valid, and files them in
		// epoch 1; epoch 0's key and variables go with them.
		let report = Liquidation::run_worker(101).unwrap();
		assert!(report.submitted.is_empty());
		let mut listed = report.to_refile.clone();
		listed.sort();
		assert_eq!(listed, vec![ALICE, BOB]);
		assert!(report.refile_submitted);
		let calls = take();
		assert_eq!(calls.len(), 1);
		assert!(validate(&calls[0]).is_ok());
		assert_ok!(calls[0].clone().dispatch_bypass_filter(RuntimeOrigin::none()));
		assert_eq!((epoch_of(ALICE), epoch_of(BOB)), (1, 1));
		// Epoch 0's key is left with no entry: the next run has nothing to refile, and
		// prunes it, and epoch 0's variables with it.
		assert!(EpochVariables::<Test>::contains_key(0));
		System::set_block_number(102);
		let report = Liquidation::run_worker(102).unwrap();
		assert!(report.to_refile.is_empty() && !report.refile_submitted);
		assert_eq!(report.pruned, 1);
		let calls = take();
		assert!(matches!(&calls[..], [Call::prune_keys_unsigned { keys, .. }] if keys.len() == 1));
		assert!(validate(&calls[0]).is_ok());
		assert_ok!(calls[0].clone().dispatch_bypass_filter(RuntimeOrigin::none()));
		assert!(!EpochVariables::<Test>::contains_key(0));
		assert!(!Liquidation::epoch_has_keys(0));
		// Done: no longer valid (nothing to prune), and the next run has nothing to send.
		assert!(validate(&calls[0]).is_err());
		System::set_block_number(103);
		let report = Liquidation::run_worker(103).unwrap();
		assert!(report.to_refile.is_empty() && report.pruned == 0);
		assert!(take().is_empty());
	})
}

/// The worker prunes at most `4 × MAX_PRUNE` keys a run, `MAX_PRUNE` a transaction, among the
/// next keys after its cursor: 300 empty keys take two runs, the second going on where the
/// first stopped, and a run with none sends nothing.
#[test]
fn the_worker_prunes_empty_keys_in_bounded_runs_from_a_cursor() {
	with_worker(|take| {
		let keys: Vec<RiskKey<AssetId>> = (0..300u32)
			.map(|i| RiskKey::Pair { collateral: 10_000 + i, debt: 20_000 + i })
			.collect();
		for key in &keys {
			RiskKeys::<Test>::insert(key.epoch(), key, KeyState { top: 0 });
		}
		let mut pruned = Vec::new();
		for (block, sent, txs) in [(1, 256, 4), (2, 44, 1), (3, 0, 0)] {
			System::set_block_number(block);
			let report = Liquidation::run_worker(block).unwrap();
			assert_eq!(report.pruned, sent, "block {block}");
			let calls = take();
			assert_eq!(calls.len(), txs, "block {block}");
			for call in calls {
				let Call::prune_keys_unsigned { keys, .. } = &call else { panic!("{call:?}") };
				assert!(keys.len() <= MAX_PRUNE as usize);
				pruned.extend(keys.iter().copied());
				assert!(validate(&call).is_ok());
				assert_ok!(call.clone().dispatch_bypass_filter(RuntimeOrigin::none()));
			}
		}
		// Each key once, every one of them.
		pruned.sort();
		let mut expected = keys.clone();
		expected.sort();
		assert_eq!(pruned, expected);
		assert_eq!(RiskKeys::<Test>::iter().count(), 0);
	})
}

#[test]
fn a_dry_run_reads_as_of_the_block_it_is_set_to_and_the_rollback_restores_it() {
	ExtBuilder::default().build().execute_with(|| {
		System::set_block_number(41);
		let inside = frame_support::storage::with_transaction(|| {
			Liquidation::dry_run_as_of(42);
			let seen = System::block_number();
			frame_support::storage::TransactionOutcome::Rollback(Ok::<_, DispatchError>(seen))
		})
		.unwrap();
		// The key written is System's own `Number`: the pallet reads it back.
		assert_eq!(inside, 42);
		assert_eq!(System::block_number(), 41);
	})
}
