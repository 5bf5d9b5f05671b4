//! The risk index: where a change files an account, what a read returns, how the index follows
//! liquidations and refiles.

use super::*;
use crate::risk;
use frame_support::BoundedVec;

const PAIR: RiskKey<AssetId> = RiskKey::Pair { collateral: BTC, debt: USD };

fn read() -> Vec<AccountId> {
	Liquidation::at_risk(None, 100).0
}

fn entries(who: AccountId) -> Vec<(RiskKey<AssetId>, i32)> {
	match Liquidation::filed(&who) {
		Some(Filing::Entry(key, bucket)) => vec![(key, bucket)],
		other => panic!("{who} is filed as {other:?}"),
	}
}

/// The mask of `assets` in epoch `epoch`'s variables.
fn mask(epoch: u32, assets: &[AssetId]) -> u64 {
	let variables = EpochVariables::<Test>::get(epoch).expect("a live epoch");
	assets.iter().fold(0, |m, a| {
		m | 1u64 << variables.iter().position(|(v, _, _)| v == a).expect("in the epoch")
	})
}

fn refile(accounts: Vec<AccountId>) {
	let accounts: BoundedVec<_, _> = accounts.try_into().unwrap();
	assert_ok!(Liquidation::refile(RuntimeOrigin::signed(DAVE), accounts.clone()));
	assert_eq!(last_event(), Event::Refiled { accounts: accounts.into_inner() });
}

fn set_btc(price: u32) {
	MockOracle::set(BTC, FixedU128::from_u32(price));
}

#[test]
fn a_borrow_files_the_account_by_its_shares_and_a_fall_below_one_reaches_it() {
	ExtBuilder::default().build_and_execute(|| {
		alice_borrows(10_000, 700_000);
		// Indexes are 1: the entry is the bucket of 700,000 / 10,000 = 70. The pair's
		// variable is 75% × BTC's price: health 1 at BTC 93.33.
		let entry = risk::stored(risk::bucket(FixedU128::from_u32(70)));
		assert_eq!(entries(ALICE), vec![(PAIR, entry)]);
		// Kept in her lending record, written with her position: no storage of its own.
		assert_eq!(
			pallet_lending::Positions::<Test>::get(ALICE).map(|p| p.tag),
			Some(Some(Filing::Entry(PAIR, entry)))
		);
		assert!(RiskIndex::<Test>::contains_key((PAIR, entry, ALICE)));
		assert_eq!(Liquidation::key_state(&PAIR), Some(KeyState { top: entry }));
		assert_eq!(Liquidation::level(&PAIR), Some(risk::stored(risk::bucket(fx(75, 1)))));
		// Dave only supplies: not in the index.
		assert_eq!(Liquidation::filed(&DAVE), None);
		assert!(read().is_empty());
		assert_eq!(Liquidation::liquidatable(None, 100), (vec![], None));
		// BTC 94 (health 1.007): in the boundary bucket, read, but not liquidatable.
		set_btc(94);
		assert_eq!(read(), vec![ALICE]);
		assert_eq!(Liquidation::liquidatable(None, 100), (vec![], None));
		// BTC 90 (health 0.964): read and listed with its health.
		set_btc(90);
		assert_eq!(read(), vec![ALICE]);
		let (page, next) = Liquidation::liquidatable(None, 100);
		assert_eq!((page, next), (vec![(ALICE, health(ALICE))], None));
		assert!(health(ALICE) < FixedU128::one());
		// A stale price: the key's level is unknown, nothing is read under it.
		Timestamp::set_timestamp(T0 + 2 * 3_600_000);
		assert_eq!(Liquidation::level(&PAIR), None);
		assert!(read().is_empty());
	})
}

#[test]
fn a_fall_in_risk_moves_nothing_until_refiled_and_no_debt_leaves_the_index() {
	ExtBuilder::default().build_and_execute(|| {
		alice_borrows(10_000, 700_000);
		let before = entries(ALICE);
		// Twice the collateral: no upkeep, the entry over-reports.
		assert_ok!(Lending::supply(RuntimeOrigin::signed(ALICE), BTC, 10_000));
		assert_ok!(Lending::repay(RuntimeOrigin::signed(ALICE), USD, Amount::Exact(1_000)));
		assert_eq!(entries(ALICE), before);
		set_btc(90);
		assert_eq!(read(), vec![ALICE]);
		assert_eq!(Liquidation::liquidatable(None, 100).0, vec![]);
		// A refile puts it where it belongs: 699,000 / 20,000 = 34.95.
		refile(vec![ALICE]);
		let entry = risk::pair_bucket(699_000, 20_000);
		assert_eq!(entries(ALICE), vec![(PAIR, entry)]);
		assert!(read().is_empty());
		// Her entry left the key's top bucket, empty now: the top went down past it (an
		// upper bound: no count of entries is kept, so not to her own bucket).
		assert_eq!(Liquidation::key_state(&PAIR), Some(KeyState { top: before[0].1 - 1 }));
		assert!(entry < before[0].1 - 1);
		// No debt: a refile takes it out of the index.
		assert_ok!(Lending::repay(RuntimeOrigin::signed(ALICE), USD, Amount::All));
		refile(vec![ALICE, BOB]);
		assert_eq!(Liquidation::filed(&ALICE), None);
		assert_eq!(RiskIndex::<Test>::iter_keys().count(), 0);
		// Only signed origins; a refile of accounts not in the index changes nothing.
		let accounts: BoundedVec<_, _> = vec![ALICE].try_into().unwrap();
		assert_noop!(
			Liquidation::refile(RuntimeOrigin::none(), accounts),
			DispatchError::BadOrigin
		);
	})
}

#[test]
fn several_assets_file_one_entry_at_the_epoch_and_any_move_below_one_reaches_it() {
	ExtBuilder::default().build_and_execute(|| {
		// Alice: 10,000 BTC (1,000,000) and 200,000 MEME (100,000); she owes 500,000 USD
		// and 50,000 ETH (100,000). Liquidation value 750,000 + 50,000 = 800,000 against
		// 600,000: health 1.333 at the epoch's variables (taken at these prices).
		assert_ok!(Lending::supply(RuntimeOrigin::signed(ALICE), BTC, 10_000));
		assert_ok!(Lending::supply(RuntimeOrigin::signed(ALICE), MEME, 200_000));
		assert_ok!(Lending::borrow(RuntimeOrigin::signed(ALICE), USD, 500_000));
		assert_ok!(Lending::borrow(RuntimeOrigin::signed(ALICE), ETH, 50_000));
		let key = RiskKey::Wide {
			epoch: 0,
			collateral: mask(0, &[BTC, MEME]),
			debt: mask(0, &[USD, ETH]),
		};
		let entry = -risk::stored(risk::bucket(fx(800_000, 600_002)));
		assert_eq!(entries(ALICE), vec![(key, entry)]);
		assert_eq!(Liquidation::key_state(&key), Some(KeyState { top: entry }));
		assert!(Liquidation::epoch_has_keys(0));
		assert!(read().is_empty());
		// Each move alone that takes it below 1 reaches it: BTC −30%, ETH ×5.
		let healthy = || {
			!<Lending as LendingPositions<AccountId>>::account_health(&ALICE)
				.unwrap()
				.is_liquidatable()
		};
		set_btc(70);
		assert!(!healthy());
		assert_eq!(read(), vec![ALICE]);
		set_btc(100);
		MockOracle::set(ETH, FixedU128::from_u32(10));
		assert!(!healthy());
		assert_eq!(read(), vec![ALICE]);
		// A fall smaller than her headroom is not read: BTC −20% (health 1.083; the
		// largest fall, 1.25, is under 1.333).
		MockOracle::set(ETH, FixedU128::from_u32(2));
		set_btc(80);
		assert!(healthy());
		assert!(read().is_empty());
		// A supply of an asset she holds lowers her risk and moves nothing; one of an asset
		// she did not hold files her anew (her key names her assets).
		assert_ok!(Lending::supply(RuntimeOrigin::signed(ALICE), BTC, 1_000));
		assert_eq!(entries(ALICE)[0].0, key);
		assert_ok!(Lending::supply(RuntimeOrigin::signed(ALICE), ETH, 1_000));
		assert_eq!(
			entries(ALICE)[0].0,
			RiskKey::Wide {
				epoch: 0,
				collateral: mask(0, &[BTC, MEME, ETH]),
				debt: mask(0, &[USD, ETH])
			}
		);
		// The old key keeps its state until pruned (a lending call writes only the state of
		// the key it enters); it has no entry, so anyone may prune it, and only it.
		assert_eq!(Liquidation::key_state(&key), Some(KeyState { top: entry }));
		let new_key = entries(ALICE)[0].0;
		// (Her key before she borrowed ETH, left with no entry then, is one too.)
		let first =
			RiskKey::Wide { epoch: 0, collateral: mask(0, &[BTC, MEME]), debt: mask(0, &[USD]) };
		let mut empty = Liquidation::empty_keys(10);
		empty.sort();
		let mut expected = vec![key, first];
		expected.sort();
		assert_eq!(empty, expected);
		let keys = |v: Vec<RiskKey<AssetId>>| frame_support::BoundedVec::try_from(v).unwrap();
		for refused in [vec![new_key], vec![key, new_key], vec![key, key], vec![]] {
			assert_noop!(
				Liquidation::prune_keys(RuntimeOrigin::signed(BOB), keys(refused)),
				Error::<Test>::KeyNotPrunable
			);
		}
		assert_ok!(Liquidation::prune_keys(RuntimeOrigin::signed(BOB), keys(vec![key])));
		assert_eq!(last_event(), Event::KeysPruned { keys: vec![key], epochs: vec![] });
		assert_eq!(Liquidation::key_state(&key), None);
		assert!(Liquidation::key_state(&new_key).is_some());
		// Pruning is a refusal once done.
		assert_noop!(
			Liquidation::prune_keys(RuntimeOrigin::signed(BOB), keys(vec![key])),
			Error::<Test>::KeyNotPrunable
		);
	})
}

/// The worker's prune is valid while some key it names may be pruned: a key an account enters
/// between its validation and its inclusion is skipped, the rest pruned; a key named twice, or
/// nothing left to prune, is refused.
#[test]
fn an_unsigned_prune_skips_a_key_entered_meanwhile_and_prunes_the_rest() {
	use frame_support::{
		pallet_prelude::{InvalidTransaction, TransactionSource, ValidateUnsigned},
		traits::UnfilteredDispatchable,
	};
	ExtBuilder::default().build_and_execute(|| {
		// Alice's wide key is left when she pledges ETH too; Bob's pair key when he repays.
		assert_ok!(Lending::supply(RuntimeOrigin::signed(ALICE), BTC, 10_000));
		assert_ok!(Lending::supply(RuntimeOrigin::signed(ALICE), MEME, 200_000));
		assert_ok!(Lending::borrow(RuntimeOrigin::signed(ALICE), USD, 500_000));
		let wide = entries(ALICE)[0].0;
		assert_ok!(Lending::supply(RuntimeOrigin::signed(ALICE), ETH, 1_000));
		assert_ok!(Lending::supply(RuntimeOrigin::signed(BOB), BTC, 10_000));
		assert_ok!(Lending::borrow(RuntimeOrigin::signed(BOB), USD, 100_000));
		assert_eq!(entries(BOB)[0].0, PAIR);
		assert_ok!(Lending::repay(RuntimeOrigin::signed(BOB), USD, Amount::All));
		let mut empty = Liquidation::empty_keys(10);
		empty.sort();
		let mut expected = vec![wide, PAIR];
		expected.sort();
		assert_eq!(empty, expected);
		let call = |keys: Vec<RiskKey<AssetId>>| Call::<Test>::prune_keys_unsigned {
			keys: BoundedVec::try_from(keys).unwrap(),
			at: System::block_number(),
		};
		let validate = |c: &Call<Test>| {
			<Liquidation as ValidateUnsigned>::validate_unsigned(TransactionSource::Local, c)
		};
		let prune = call(vec![PAIR, wide]);
		let valid = validate(&prune).unwrap();
		assert_eq!(valid.priority, 0);
		assert_eq!(valid.provides.len(), 2, "one tag per key");
		assert_eq!(validate(&call(vec![PAIR, PAIR])), InvalidTransaction::Stale.into());
		// Bob borrows again before it is included: his pair key has an entry again.
		assert_ok!(Lending::borrow(RuntimeOrigin::signed(BOB), USD, 100_000));
		assert!(validate(&prune).is_ok());
		assert_ok!(<Liquidation as ValidateUnsigned>::pre_dispatch(&prune));
		assert_ok!(prune.clone().dispatch_bypass_filter(RuntimeOrigin::none()));
		assert_eq!(last_event(), Event::KeysPruned { keys: vec![wide], epochs: vec![] });
		assert_eq!(Liquidation::key_state(&wide), None);
		assert!(Liquidation::key_state(&PAIR).is_some());
		assert!(read().is_empty());
		// Nothing left to prune: refused.
		assert_eq!(validate(&prune), InvalidTransaction::Stale.into());
		assert!(Liquidation::empty_keys(10).is_empty());
	})
}

#[test]
fn a_new_epoch_refiles_through_the_worker_and_old_variables_go_with_their_last_key() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(Lending::supply(RuntimeOrigin::signed(ALICE), BTC, 10_000));
		assert_ok!(Lending::supply(RuntimeOrigin::signed(ALICE), MEME, 200_000));
		assert_ok!(Lending::borrow(RuntimeOrigin::signed(ALICE), USD, 500_000));
		let old = entries(ALICE)[0];
		// Not due before `EpochBlocks` (100 in the mock).
		assert!(!Liquidation::epoch_due(100));
		assert!(Liquidation::epoch_due(101));
		set_btc(150);
		assert_eq!(Liquidation::new_epoch(101), 4);
		assert_eq!(last_event(), Event::EpochStarted { epoch: 1, markets: 4, complete: true });
		// Her entry stays where it was (still read right), the old epoch's variables with it.
		assert_eq!(entries(ALICE)[0], old);
		assert!(EpochVariables::<Test>::contains_key(0));
		assert!(Liquidation::needs_refile(&ALICE));
		assert_eq!(Liquidation::in_old_epochs(16), vec![ALICE]);
		refile(vec![ALICE]);
		assert!(matches!(entries(ALICE)[0].0, RiskKey::Wide { epoch: 1, .. }));
		// Her old key is left with no entry: epoch 0's variables go when it is pruned.
		assert!(Liquidation::in_old_epochs(16).is_empty());
		assert!(EpochVariables::<Test>::contains_key(0));
		let prune = |key| {
			let keys = frame_support::BoundedVec::try_from(vec![key]).unwrap();
			assert_ok!(Liquidation::prune_keys(RuntimeOrigin::signed(BOB), keys));
		};
		prune(old.0);
		assert_eq!(last_event(), Event::KeysPruned { keys: vec![old.0], epochs: vec![0] });
		assert!(!EpochVariables::<Test>::contains_key(0));
		assert!(!Liquidation::epoch_has_keys(0));
		// Epoch 1 keeps its variables while a key of it is left (hers); a new epoch with no
		// key left in the last removes them at once.
		Liquidation::new_epoch(202);
		assert!(EpochVariables::<Test>::contains_key(1));
		let in_one = entries(ALICE)[0].0;
		refile(vec![ALICE]);
		prune(in_one);
		assert!(!EpochVariables::<Test>::contains_key(1));
		assert_ok!(Lending::repay(RuntimeOrigin::signed(ALICE), USD, Amount::All));
		assert_eq!(Liquidation::filed(&ALICE), None);
		let in_two = Liquidation::empty_keys(10);
		assert!(matches!(in_two[..], [RiskKey::Wide { epoch: 2, .. }]), "{in_two:?}");
		prune(in_two[0]);
		// The current epoch's variables stay with no key.
		assert_eq!(last_event(), Event::KeysPruned { keys: in_two.clone(), epochs: vec![] });
		assert!(EpochVariables::<Test>::contains_key(2));
		Liquidation::new_epoch(303);
		assert!(!EpochVariables::<Test>::contains_key(2));
		assert!(EpochVariables::<Test>::contains_key(3));
	})
}

#[test]
fn debt_without_collateral_is_watched_until_the_waterfall_closes_it() {
	ExtBuilder::default().build_and_execute(|| {
		alice_borrows(10_000, 700_000);
		assert_ok!(<Lending as LendingPositions<AccountId>>::seize_collateral(
			&ALICE, &BTC, 10_000, &CHARLIE
		));
		assert_eq!(Liquidation::filed(&ALICE), Some(Filing::Watch));
		assert!(Watchlist::<Test>::contains_key(ALICE));
		assert_eq!(RiskIndex::<Test>::iter_keys().count(), 0);
		assert_eq!(read(), vec![ALICE]);
		assert_ok!(Liquidation::settle(RuntimeOrigin::signed(DAVE), ALICE));
		assert_eq!(debt(ALICE, USD), 0);
		assert_eq!(Liquidation::filed(&ALICE), None);
		assert!(!Watchlist::<Test>::contains_key(ALICE));
		assert!(read().is_empty());
		// The filing is kept in ALICE's lending record: the settlement emptied the record
		// while its filing was deferred (kept then, to find the entry), and it went when the
		// settlement filed her nowhere.
		assert!(!pallet_lending::Positions::<Test>::contains_key(ALICE));
	})
}

#[test]
fn a_liquidation_files_the_borrower_as_it_is_after() {
	ExtBuilder::default().build_and_execute(|| {
		alice_underwater(90);
		assert_eq!(read(), vec![ALICE]);
		assert_ok!(Liquidation::settle(RuntimeOrigin::signed(CHARLIE), ALICE));
		let shares = <Lending as LendingPositions<AccountId>>::account_shares(&ALICE);
		let (collateral, debt) = (shares.collateral[0].1, shares.debts[0].1);
		assert_eq!(entries(ALICE), vec![(PAIR, risk::pair_bucket(debt, collateral))]);
		assert!(read().is_empty());
		// A keeper's partial liquidation too.
		set_btc(80);
		assert_eq!(read(), vec![ALICE]);
		assert_ok!(bob_liquidates_alice(Amount::Exact(1_000)));
		let shares = <Lending as LendingPositions<AccountId>>::account_shares(&ALICE);
		let (collateral, debt) = (shares.collateral[0].1, shares.debts[0].1);
		assert_eq!(entries(ALICE), vec![(PAIR, risk::pair_bucket(debt, collateral))]);
		assert_eq!(read(), vec![ALICE]);
	})
}

#[test]
fn reads_go_riskiest_first_in_pages() {
	ExtBuilder::default().build_and_execute(|| {
		// Three borrowers on 10,000 BTC each owing 650,000, 600,000 and 700,000 (entries
		// three buckets apart).
		for (who, owed) in [(10, 650_000), (11, 600_000), (12, 700_000)] {
			mint(BTC, who, 10_000 + MIN);
			assert_ok!(Lending::supply(RuntimeOrigin::signed(who), BTC, 10_000));
			assert_ok!(Lending::borrow(RuntimeOrigin::signed(who), USD, owed));
		}
		set_btc(70);
		assert_eq!(read(), vec![12, 10, 11]);
		let mut cursor = None;
		let mut pages = vec![];
		loop {
			let (page, next) = Liquidation::at_risk(cursor, 1);
			pages.push(page);
			match next {
				Some(next) => cursor = Some(next),
				None => break,
			}
		}
		assert_eq!(pages.concat(), vec![12, 10, 11]);
		// The view re-checks each and keeps the order.
		let listed: Vec<_> =
			Liquidation::liquidatable(None, 10).0.into_iter().map(|(w, _)| w).collect();
		assert_eq!(listed, vec![12, 10, 11]);
		assert_eq!(Liquidation::at_risk(None, 0), (vec![], None));
	})
}

/// Whether a liquidation can find `who` below 1 (what the worker and the unsigned calls ask).
fn may_settle(who: AccountId) -> bool {
	Liquidation::may_settle(&who)
}

#[test]
fn a_looped_debt_under_a_dispute_is_read_at_the_end_a_liquidation_values_it() {
	ExtBuilder::default().build_and_execute(|| {
		// Alice: 10,000 BTC (1,000,000) and 10,000 ETH (20,000) as collateral; she owes
		// 350,000 ETH (700,000): net short ETH. Health (750,000 + 15,000) / 700,000 = 1.093.
		assert_ok!(Lending::supply(RuntimeOrigin::signed(ALICE), BTC, 10_000));
		assert_ok!(Lending::supply(RuntimeOrigin::signed(ALICE), ETH, 10_000));
		assert_ok!(Lending::borrow(RuntimeOrigin::signed(ALICE), ETH, 350_000));
		assert!(!may_settle(ALICE));
		assert!(read().is_empty());
		// ETH's feeds disagree: the oracle's value stays 2, one feeder says 2.3. A liquidation
		// values ETH on both sides at its end, 2.3 (a looped position nets at one price):
		// (750,000 + 10,000 × 2.3 × 75%) / (350,000 × 2.3) = 767,250 / 805,000 = 0.953.
		MockOracle::set_span(ETH, FixedU128::from_u32(2), FixedU128::from_u32(2), fx(23, 10));
		let health =
			<Lending as LendingPositions<AccountId>>::liquidation_health(&ALICE, &ETH, &BTC)
				.unwrap();
		assert_eq!(health.factor, fx(767_250, 805_000));
		assert!(may_settle(ALICE));
		// The index reads her: her ETH debt's key is read at the span's top.
		assert_eq!(read(), vec![ALICE]);
		// The key is shared: a wide account owing ETH it does not pledge is read at the top
		// too while the feeds disagree, though a liquidation values its debt at 2 (an
		// over-report, never a miss). Bob: 10,000 BTC and 2,000 MEME owe 330,000 ETH
		// (health 750,500 / 660,000 = 1.137 at the epoch's variables, under the rise of 15%
		// his ETH debt's variable makes to the span's top).
		MockOracle::set(ETH, FixedU128::from_u32(2));
		assert_ok!(Lending::supply(RuntimeOrigin::signed(BOB), BTC, 10_000));
		assert_ok!(Lending::supply(RuntimeOrigin::signed(BOB), MEME, 2_000));
		assert_ok!(Lending::borrow(RuntimeOrigin::signed(BOB), ETH, 330_000));
		assert!(read().is_empty());
		MockOracle::set_span(ETH, FixedU128::from_u32(2), FixedU128::from_u32(2), fx(23, 10));
		assert!(!may_settle(BOB));
		assert_eq!(read(), vec![ALICE, BOB]);
		// The feeds agree again at 2: neither is read.
		MockOracle::set(ETH, FixedU128::from_u32(2));
		assert!(read().is_empty());
	})
}

#[test]
fn a_dead_collateral_feed_reads_every_account_it_backs_until_refiled() {
	ExtBuilder::default().build_and_execute(|| {
		// Alice: 10,000 BTC (1,000,000; 750,000 at the threshold) and 400,000 MEME (200,000;
		// 100,000) owe 770,000 USD: health 850,000 / 770,000 = 1.104, 0.974 without the MEME.
		assert_ok!(Lending::supply(RuntimeOrigin::signed(ALICE), BTC, 10_000));
		assert_ok!(Lending::supply(RuntimeOrigin::signed(ALICE), MEME, 400_000));
		assert_ok!(Lending::borrow(RuntimeOrigin::signed(ALICE), USD, 770_000));
		// Bob: the same collateral owing 300,000: healthy with or without the MEME.
		assert_ok!(Lending::supply(RuntimeOrigin::signed(BOB), BTC, 10_000));
		assert_ok!(Lending::supply(RuntimeOrigin::signed(BOB), MEME, 400_000));
		assert_ok!(Lending::borrow(RuntimeOrigin::signed(BOB), USD, 300_000));
		assert!(read().is_empty());
		let meme_fed = Timestamp::get();
		let others_fed_at = |ms: u64| {
			Timestamp::set_timestamp(meme_fed + ms);
			for asset in [USD, BTC, ETH] {
				MockOracle::restamp(asset);
			}
		};
		// Two hours without a MEME feed: stale, but within the grace a liquidation values it
		// at its last price. Nothing moved: nobody may be settled, nothing is read.
		others_fed_at(2 * 3_600_000);
		assert!(!may_settle(ALICE));
		assert!(read().is_empty());
		// Past the six hours' grace, MEME counts for nothing: Alice may be settled with no
		// price moving. The index reads every account MEME backs.
		others_fed_at(6 * 3_600_000 + 1);
		assert!(may_settle(ALICE));
		assert!(!may_settle(BOB));
		let mut found = read();
		found.sort();
		assert_eq!(found, vec![ALICE, BOB]);
		// The next epoch has no MEME variable (it is due sooner: it misses a price); refiled
		// in it, Bob's key does not hold MEME and he is read no more.
		Liquidation::new_epoch(2);
		assert_eq!(last_event(), Event::EpochStarted { epoch: 1, markets: 4, complete: false });
		// (An incomplete epoch is compared with the markets every 100 / 64 blocks.)
		assert!(!Liquidation::epoch_due(2) && Liquidation::epoch_due(3));
		refile(vec![BOB]);
		assert_eq!(
			entries(BOB)[0].0,
			RiskKey::Wide { epoch: 1, collateral: mask(1, &[BTC]), debt: mask(1, &[USD]) }
		);
		assert_eq!(read(), vec![ALICE]);
		// Alice is settled as the index read her.
		assert_ok!(Liquidation::settle(RuntimeOrigin::signed(DAVE), ALICE));
		assert!(!may_settle(ALICE));
	})
}

#[test]
fn a_pair_account_that_pledges_its_debt_asset_is_filed_wide_and_read_under_a_dispute() {
	ExtBuilder::default().build_and_execute(|| {
		// Alice: 10,000 BTC owe 700,000 USD (a pair, health 1.071); she then supplies 35,000
		// USD, which becomes collateral: her debt is looped, valued at USD's collateral end.
		alice_borrows(10_000, 700_000);
		assert_eq!(entries(ALICE)[0].0, PAIR);
		assert_ok!(Lending::supply(RuntimeOrigin::signed(ALICE), USD, 35_000));
		assert_eq!(
			entries(ALICE)[0].0,
			RiskKey::Wide { epoch: 0, collateral: mask(0, &[BTC, USD]), debt: mask(0, &[USD]) }
		);
		assert!(read().is_empty());
		// USD's feeds disagree up to 1.2: (750,000 + 35,000 × 1.2 × 85%) / (700,000 × 1.2) =
		// 785,700 / 840,000 = 0.935. Read as a pair (debt at its low end), she was not.
		MockOracle::set_span(USD, FixedU128::one(), FixedU128::one(), fx(12, 10));
		assert!(may_settle(ALICE));
		assert_eq!(read(), vec![ALICE]);
	})
}

#[test]
fn a_read_in_pages_goes_on_when_a_key_turns_to_be_read_whole_and_back() {
	ExtBuilder::default().build_and_execute(|| {
		// Three pair accounts below 1 at BTC 70, and two wide ones on BTC and MEME.
		for (who, owed) in [(10, 650_000), (11, 600_000), (12, 700_000)] {
			mint(BTC, who, 10_000 + MIN);
			assert_ok!(Lending::supply(RuntimeOrigin::signed(who), BTC, 10_000));
			assert_ok!(Lending::borrow(RuntimeOrigin::signed(who), USD, owed));
		}
		for who in [20, 21] {
			mint(BTC, who, 10_000 + MIN);
			mint(MEME, who, 400_000 + MIN);
			assert_ok!(Lending::supply(RuntimeOrigin::signed(who), BTC, 10_000));
			assert_ok!(Lending::supply(RuntimeOrigin::signed(who), MEME, 400_000));
			assert_ok!(Lending::borrow(RuntimeOrigin::signed(who), USD, 770_000));
		}
		set_btc(70);
		let page = |cursor| Liquidation::at_risk(cursor, 1);
		// First page: the deepest pair account.
		let (first, cursor) = page(None);
		assert_eq!(first, vec![12]);
		assert!(matches!(cursor, Some(RiskCursor::Index { .. })));
		// MEME's feed dies: the wide key is read whole after the keys read by level, and the
		// pass goes on from where it was.
		let meme_fed = Timestamp::get();
		Timestamp::set_timestamp(meme_fed + 6 * 3_600_000 + 1);
		for asset in [USD, BTC, ETH] {
			MockOracle::restamp(asset);
		}
		let (mut all, mut cursor) = (first, cursor);
		let mut whole_cursor_seen = false;
		while let Some(c) = cursor {
			if matches!(c, RiskCursor::Whole { .. }) {
				whole_cursor_seen = true;
				// MEME is fed again mid-read: the pass still ends with the whole keys.
				MockOracle::set(MEME, fx(1, 2));
			}
			let (p, next) = page(Some(c));
			all.extend(p);
			cursor = next;
		}
		assert!(whole_cursor_seen);
		// (A page may repeat an account an earlier one read.)
		all.sort();
		all.dedup();
		assert_eq!(all, vec![10, 11, 12, 20, 21]);
	})
}

#[test]
fn blocks_take_epochs_and_an_incomplete_one_is_replaced_only_by_a_better_one() {
	use frame_support::traits::{Get, Hooks};
	ExtBuilder::default().build_and_execute(|| {
		// The mock's first epoch (0) began at block 1 and holds every market: not due
		// before block 101; a block that takes none reads one value.
		let idle = Liquidation::on_initialize(50);
		let db: frame_support::weights::RuntimeDbWeight =
			<Test as frame_system::Config>::DbWeight::get();
		assert_eq!(idle, db.reads(1));
		assert_eq!(RiskEpoch::<Test>::get().map(|e| e.id), Some(0));
		// MEME has no price when epoch 1 is taken: it misses it.
		MockOracle::remove(MEME);
		System::reset_events();
		let taken = Liquidation::on_initialize(101);
		assert_eq!(taken, <Test as Config>::WeightInfo::new_epoch(4).saturating_add(db.reads(1)));
		assert_eq!(last_event(), Event::EpochStarted { epoch: 1, markets: 4, complete: false });
		let epoch = RiskEpoch::<Test>::get().unwrap();
		assert_eq!((epoch.id, epoch.covered, epoch.complete), (1, 3, false));
		// An account is filed in it.
		assert_ok!(Lending::supply(RuntimeOrigin::signed(ALICE), BTC, 10_000));
		assert_ok!(Lending::supply(RuntimeOrigin::signed(ALICE), ETH, 10_000));
		assert_ok!(Lending::borrow(RuntimeOrigin::signed(ALICE), USD, 300_000));
		assert!(Liquidation::epoch_has_keys(1));
		// Compared with the markets again a block later: no better, so kept (no new epoch
		// while the feed stays dead).
		System::reset_events();
		Liquidation::on_initialize(102);
		let epoch = RiskEpoch::<Test>::get().unwrap();
		assert_eq!((epoch.id, epoch.checked, epoch.start), (1, 102, 101));
		assert!(events().is_empty());
		// MEME is fed again: the next comparison takes epoch 2, which holds every market.
		MockOracle::set(MEME, fx(1, 2));
		Liquidation::on_initialize(103);
		assert_eq!(last_event(), Event::EpochStarted { epoch: 2, markets: 4, complete: true });
		assert!(!Liquidation::epoch_due(104));
	})
}

#[test]
fn an_epoch_taken_while_a_debt_feed_is_dead_keeps_its_reference_and_watches_no_one() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(Lending::supply(RuntimeOrigin::signed(ALICE), BTC, 10_000));
		assert_ok!(Lending::supply(RuntimeOrigin::signed(ALICE), MEME, 200_000));
		assert_ok!(Lending::borrow(RuntimeOrigin::signed(ALICE), USD, 500_000));
		// USD's feed is dead (past the grace) when the next epoch is due by age.
		Timestamp::set_timestamp(Timestamp::get() + 6 * 3_600_000 + 1);
		for asset in [BTC, MEME, ETH] {
			MockOracle::restamp(asset);
		}
		Liquidation::new_epoch(101);
		let epoch = RiskEpoch::<Test>::get().unwrap();
		assert_eq!((epoch.id, epoch.covered, epoch.complete), (1, 3, false));
		// USD's debt variable is epoch 0's; its collateral variable is left out.
		let variables = EpochVariables::<Test>::get(1).unwrap();
		let old = EpochVariables::<Test>::get(0).unwrap();
		let usd = |v: &EpochVariablesOf<AssetId>| *v.iter().find(|(a, _, _)| *a == USD).unwrap();
		assert_eq!(usd(&variables), (USD, None, usd(&old).2));
		// Refiled into it, Alice keeps an entry (a debt without a reference would watch her);
		// her key cannot be read while USD is dead (no liquidation could act on her either).
		refile(vec![ALICE]);
		let (key, _) = entries(ALICE)[0];
		assert!(matches!(key, RiskKey::Wide { epoch: 1, .. }));
		assert!(!Watchlist::<Test>::contains_key(ALICE));
		assert_eq!(Liquidation::reading(&key), None);
		// USD is fed again: read by level.
		MockOracle::restamp(USD);
		assert!(matches!(Liquidation::reading(&key), Some(Reading::Level(_))));
	})
}

/// A batch files its settled borrowers together (`file_all`): each key's top is lowered once
/// at the end, past the buckets its entries left, instead of a storage iteration per move.
/// The index ends as filing them one by one leaves it, its top no higher.
#[test]
fn filing_a_batch_together_ends_where_filing_it_one_by_one_does() {
	ExtBuilder::default().build_and_execute(|| {
		let accounts = borrowers(&[700_000, 670_000, 400_000]);
		let (a, b, c) = (accounts[0], accounts[1], accounts[2]);
		let bucket = |who| entries(who)[0].1;
		let (top_before, lowest) = (bucket(a), bucket(c));
		assert!(top_before > bucket(b) && bucket(b) > lowest);
		assert_eq!(Liquidation::key_state(&PAIR).map(|s| s.top), Some(top_before));
		// Both repay most of their debt with the filing deferred, as in a batch.
		Deferred::<Test>::put(true);
		for who in [a, b] {
			assert_ok!(Lending::repay(RuntimeOrigin::signed(who), USD, Amount::Exact(500_000)));
		}
		Deferred::<Test>::kill();
		let index = || {
			let entries: std::collections::BTreeSet<_> = RiskIndex::<Test>::iter_keys().collect();
			(entries, accounts.iter().map(Liquidation::filed).collect::<Vec<_>>())
		};
		let (one_by_one, top_one_by_one) = frame_support::storage::with_transaction(|| {
			Liquidation::file(&a);
			Liquidation::file(&b);
			let top = Liquidation::key_state(&PAIR).map(|s| s.top);
			frame_support::storage::TransactionOutcome::Rollback(Ok::<_, DispatchError>((
				index(),
				top,
			)))
		})
		.unwrap();
		// The buckets it looked at (what the batch is charged): A's, the top, left empty, and
		// B's after it only when it is the bucket just below.
		let b_before = Liquidation::filed(&b);
		let Some(Filing::Entry(_, b_bucket)) = b_before else { panic!("{b_before:?}") };
		let expected = if b_bucket == top_before - 1 { 2 } else { 1 };
		let looks = Liquidation::file_all(&[a, b]);
		assert_eq!(looks, expected);
		assert_eq!(index(), one_by_one);
		let state = Liquidation::key_state(&PAIR).unwrap();
		let highest = accounts.iter().map(|who| bucket(*who)).max().unwrap();
		assert!(state.top < top_before && state.top >= highest, "{state:?}, {highest}");
		assert!(Some(state.top) <= top_one_by_one);
		// Now the lowest, C is the riskiest: the index reads it first.
		assert_eq!(highest, lowest);
	})
}

/// A batch that leaves its key's top bucket with an entry in it looks at that bucket once and
/// keeps the top: what it is charged is the look it made.
#[test]
fn a_top_bucket_left_with_an_entry_is_looked_at_once_and_kept() {
	ExtBuilder::default().build_and_execute(|| {
		let accounts = borrowers(&[700_000, 700_000, 400_000]);
		let (a, b) = (accounts[0], accounts[1]);
		let top = entries(a)[0].1;
		assert_eq!(entries(b)[0].1, top);
		Deferred::<Test>::put(true);
		assert_ok!(Lending::repay(RuntimeOrigin::signed(a), USD, Amount::Exact(500_000)));
		Deferred::<Test>::kill();
		assert_eq!(Liquidation::file_all(&[a]), 1);
		assert!(entries(a)[0].1 < top);
		assert_eq!(Liquidation::key_state(&PAIR).map(|s| s.top), Some(top));
	})
}

/// A liquidation files its borrower at its end, and is charged for it: the weight it returns
/// (what its route used) keeps the filing's, which its declared weight holds (session 29: the
/// refund gave it back).
#[test]
fn a_liquidations_refund_keeps_the_charge_of_its_last_filing() {
	ExtBuilder::default().build_and_execute(|| {
		// Debt and no collateral: `settle` runs the loss waterfall for its one debt.
		let stripped = borrowers(&[700_000])[0];
		let all = supplied(stripped, BTC);
		assert_ok!(<Lending as LendingPositions<AccountId>>::seize_collateral(
			&stripped, &BTC, all, &BOB
		));
		let post = Liquidation::settle(RuntimeOrigin::signed(CHARLIE), stripped).unwrap();
		assert_eq!(
			post.actual_weight,
			Some(Liquidation::shortfall_weight(1).saturating_add(Liquidation::filing_weight()))
		);
		assert!(Liquidation::filing_weight().all_gte(
			<Liquidation as pallet_lending::OnPositionChanged<AccountId, AssetId>>::weight(
				pallet_lending::RiskChange::Raised
			)
		));
	})
}
