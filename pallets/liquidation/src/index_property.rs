//! Property test of the risk index against a brute-force scan of every position: random
//! positions (one collateral and one debt, or several of each), and random lending calls,
//! prices, interest, governance threshold changes, liquidations and refiles. After every step:
//!
//! - every account a liquidation may settle (`may_settle`, checked one by one) is among the
//!   index's candidates, and, while every asset's feeds agree, every account below health 1;
//! - reading the candidates in pages of three with the cursor gives the same accounts;
//! - after a refile of every account, a one-collateral, one-debt account whose entry is two
//!   buckets or more above its level is below health 1 (the pair entries are exact);
//! - both pallets' `try_state` hold (the index's structure among them);
//! - a prune (the worker's: every key with no entry left) is refused for every key that still
//!   has an entry, and leaves no key without one (entries leave their keys lazily, session
//!   29, so empty keys are made by every op that moves an account).
//!
//! It prints how selective the index was: accounts read vs accounts below health 1.
//! `INDEX_PROPTEST_CASES` sets the number of sequences (default 100), `PROPTEST_SEED` which
//! ones (default: a fixed seed, the same every run).

use crate::{mock::*, *};
use frame_support::{assert_noop, assert_ok};
use pallet_lending::{PriceSource, TimestampedPrices};
use proptest::prelude::*;
use sp_arithmetic::{traits::Saturating, FixedU128, Permill};
use std::{cell::RefCell, collections::BTreeSet};

const BORROWERS: [AccountId; 6] = [10, 11, 12, 13, 14, 15];
const ASSETS: [AssetId; 4] = [USD, BTC, MEME, ETH];

#[derive(Clone, Debug)]
enum Op {
	/// An asset's price in percent of its start.
	Price(usize, u32),
	/// An asset's feeds disagree: its ends that many percent below and above its price.
	Span(usize, u32, u32),
	/// Hours pass with no feed of one asset while the others are fed again: stale (within
	/// the six hours' grace) or dead (past it).
	Silence(usize, u64),
	Advance(u64),
	/// Supply of an asset, in percent of the borrower's setup unit.
	Supply(usize, usize, u32),
	/// Borrow of an asset, in percent of the remaining borrowing power.
	Borrow(usize, usize, u32),
	/// Repay of an asset's debt, in percent (None: all).
	Repay(usize, usize, Option<u32>),
	/// Withdraw of an asset's supply, in percent.
	Withdraw(usize, usize, u32),
	/// Switches a supply's collateral flag.
	Toggle(usize, usize),
	Settle(usize),
	/// A batch of every borrower (`settle_batch`: the settled filed together, each key's top
	/// lowered once at the end).
	SettleAll,
	/// Governance moves a market's liquidation threshold (percent, above its collateral
	/// factor).
	Threshold(usize, u32),
	Refile,
	/// The risk index takes a new epoch.
	Epoch,
	/// Every key with no entry left is pruned (the worker's `prune_keys_unsigned`); each other
	/// key, named alone, is refused.
	Prune,
}

fn op() -> impl Strategy<Value = Op> {
	let b = 0..BORROWERS.len();
	let a = 0..ASSETS.len();
	prop_oneof![
		6 => (a.clone(), 30u32..150).prop_map(|(a, p)| Op::Price(a, p)),
		1 => (a.clone(), 0u32..15, 0u32..25).prop_map(|(a, l, h)| Op::Span(a, l, h)),
		1 => (a.clone(), 1u64..10).prop_map(|(a, h)| Op::Silence(a, h)),
		1 => (1u64..30 * 24 * 3_600_000).prop_map(Op::Advance),
		2 => (b.clone(), a.clone(), 1u32..200).prop_map(|(b, a, p)| Op::Supply(b, a, p)),
		3 => (b.clone(), a.clone(), 10u32..=100).prop_map(|(b, a, p)| Op::Borrow(b, a, p)),
		2 => (b.clone(), a.clone(), prop::option::of(1u32..100))
			.prop_map(|(b, a, p)| Op::Repay(b, a, p)),
		2 => (b.clone(), a.clone(), 1u32..=100).prop_map(|(b, a, p)| Op::Withdraw(b, a, p)),
		1 => (b.clone(), a.clone()).prop_map(|(b, a)| Op::Toggle(b, a)),
		4 => b.prop_map(Op::Settle),
		2 => Just(Op::SettleAll),
		1 => (a, 0u32..=15).prop_map(|(a, p)| Op::Threshold(a, p)),
		2 => Just(Op::Refile),
		1 => Just(Op::Epoch),
		1 => Just(Op::Prune),
	]
}

/// Per borrower: for each asset, units supplied at the start (0: none) and the percent of
/// borrowing power borrowed in USD and ETH.
type Setup = Vec<([u32; 4], u32, u32)>;

fn setup() -> impl Strategy<Value = Setup> {
	prop::collection::vec(
		(
			// Mostly one collateral (BTC), sometimes more.
			prop_oneof![
				3 => (1u32..200).prop_map(|b| [0, b, 0, 0]),
				1 => (0u32..200, 0u32..200, 0u32..200).prop_map(|(b, m, e)| [0, b + 1, m, e]),
			],
			20u32..=100,
			prop_oneof![3 => Just(0u32), 1 => 0u32..=60],
		),
		BORROWERS.len(),
	)
}

/// A unit of each asset's supply in the setup: worth about 10,000 at the start.
fn unit(asset: AssetId) -> u128 {
	match asset {
		BTC => 100,
		MEME => 20_000,
		ETH => ETH_MIN * 5,
		_ => 10_000,
	}
}

fn params_of(asset: AssetId) -> pallet_lending::MarketParams {
	match asset {
		USD => usd_params(),
		MEME => meme_params(),
		_ => btc_params(),
	}
}

#[derive(Default, Debug)]
struct Counts {
	steps: u64,
	unhealthy: u64,
	candidates: u64,
	pair_checked: u64,
	settled: u64,
	/// Positions settled by batches.
	batched: u64,
	/// Account-steps a liquidation may settle, found by `may_settle`.
	settleable: u64,
	/// Of those, steps with disagreeing feeds or a silent feed.
	settleable_unsettled_prices: u64,
	/// Keys pruned.
	pruned: u64,
}

fn candidates() -> BTreeSet<AccountId> {
	Liquidation::at_risk(None, u32::MAX).0.into_iter().collect()
}

fn paged(limit: u32) -> BTreeSet<AccountId> {
	let mut all = BTreeSet::new();
	let mut cursor = None;
	for _ in 0..1_000 {
		let (page, next) = Liquidation::at_risk(cursor, limit);
		assert!(page.len() <= limit as usize);
		all.extend(page);
		match next {
			Some(next) => cursor = Some(next),
			None => return all,
		}
	}
	panic!("the cursor never reached the end");
}

fn unhealthy(who: AccountId) -> Option<bool> {
	<Lending as LendingPositions<AccountId>>::account_health(&who).ok().map(|h| h.is_liquidatable())
}

fn check(counts: &RefCell<Counts>, refiled: bool) -> Result<(), TestCaseError> {
	Lending::do_try_state().map_err(|e| TestCaseError::fail(format!("lending: {e:?}")))?;
	Liquidation::do_try_state().map_err(|e| TestCaseError::fail(format!("liquidation: {e:?}")))?;
	let found = candidates();
	let settleable: BTreeSet<AccountId> =
		BORROWERS.iter().copied().filter(Liquidation::may_settle).collect();
	prop_assert!(
		settleable.is_subset(&found),
		"missed {:?} that may be settled (index: {found:?})",
		settleable.difference(&found)
	);
	// With disagreeing feeds a borrow's health (collateral at the low end) is below what a
	// liquidation reads: only what a liquidation may settle must be found.
	let agreed = !MockOracle::spanned();
	let below: BTreeSet<AccountId> = if agreed {
		BORROWERS.iter().copied().filter(|w| unhealthy(*w) == Some(true)).collect()
	} else {
		BTreeSet::new()
	};
	prop_assert!(
		below.is_subset(&found),
		"missed {:?} (index: {found:?})",
		below.difference(&found)
	);
	prop_assert_eq!(paged(3), found.clone(), "pages differ from one read");
	let unsettled_prices =
		!agreed || ASSETS.iter().any(|a| <Test as Config>::Prices::price(a).is_err());
	if refiled && agreed {
		for who in BORROWERS {
			if let Some(Filing::Entry(key, bucket)) = Liquidation::filed(&who) {
				if let (key @ RiskKey::Pair { .. }, bucket) = (&key, &bucket) {
					if let (Some(level), Some(is_below)) = (Liquidation::level(key), unhealthy(who))
					{
						if *bucket >= level + 2 {
							prop_assert!(
								is_below,
								"{who} at entry {bucket} level {level} is healthy"
							);
							counts.borrow_mut().pair_checked += 1;
						}
					}
				}
			}
		}
	}
	let mut c = counts.borrow_mut();
	c.steps += 1;
	c.unhealthy += below.len() as u64;
	c.candidates += found.len() as u64;
	c.settleable += settleable.len() as u64;
	if unsettled_prices {
		c.settleable_unsettled_prices += settleable.len() as u64;
	}
	Ok(())
}

fn run(setup: Setup, ops: Vec<Op>, counts: &RefCell<Counts>) -> Result<(), TestCaseError> {
	ExtBuilder::default().build().execute_with(|| -> Result<(), TestCaseError> {
		create_pool(LP, USD, ETH, 1_000_000_000, 500_000_000);
		for who in BORROWERS {
			for asset in ASSETS {
				mint(asset, who, START);
			}
		}
		for (who, (supplies, usd, eth)) in BORROWERS.iter().zip(setup.iter()) {
			for (asset, units) in ASSETS.iter().zip(supplies.iter()) {
				if *units > 0 {
					let amount = unit(*asset) * u128::from(*units);
					assert_ok!(Lending::supply(RuntimeOrigin::signed(*who), *asset, amount));
				}
			}
			borrow_share(*who, USD, *usd);
			borrow_share(*who, ETH, *eth);
		}
		check(counts, false)?;
		for op in ops {
			let who = |b: usize| BORROWERS[b % BORROWERS.len()];
			let asset = |a: usize| ASSETS[a % ASSETS.len()];
			let mut refiled = false;
			match op {
				Op::Price(a, p) => {
					let price = start_price(asset(a))
						.saturating_mul(FixedU128::from_rational(u128::from(p), 100));
					MockOracle::set(asset(a), price);
				},
				Op::Span(a, below, above) => {
					let (price, _) = MockOracle::timestamped_price(&asset(a)).expect("priced");
					let part = |p: u32| FixedU128::from_rational(u128::from(p), 100);
					let low = price.saturating_mul(part(100 - below));
					let high = price.saturating_mul(part(100 + above));
					MockOracle::set_span(asset(a), price, low, high);
				},
				Op::Silence(a, hours) => {
					Timestamp::set_timestamp(Timestamp::get() + hours * 3_600_000);
					System::set_block_number(System::block_number() + 1);
					for other in ASSETS.iter().filter(|o| **o != asset(a)) {
						MockOracle::restamp(*other);
					}
				},
				Op::Advance(ms) => {
					Timestamp::set_timestamp(Timestamp::get() + ms);
					System::set_block_number(System::block_number() + 1);
					refresh();
				},
				Op::Supply(b, a, p) => {
					let amount = unit(asset(a)) * u128::from(p) / 10;
					let _ = Lending::supply(RuntimeOrigin::signed(who(b)), asset(a), amount);
				},
				Op::Borrow(b, a, p) => borrow_share(who(b), asset(a), p),
				Op::Repay(b, a, p) => {
					let owed = debt(who(b), asset(a));
					let amount = match p {
						Some(p) => pallet_lending::Amount::Exact(owed * u128::from(p) / 100),
						None => pallet_lending::Amount::All,
					};
					let _ = Lending::repay(RuntimeOrigin::signed(who(b)), asset(a), amount);
				},
				Op::Withdraw(b, a, p) => {
					let held = supplied(who(b), asset(a));
					let amount = pallet_lending::Amount::Exact(held * u128::from(p) / 100);
					let _ = Lending::withdraw(RuntimeOrigin::signed(who(b)), asset(a), amount);
				},
				Op::Toggle(b, a) => {
					let origin = RuntimeOrigin::signed(who(b));
					if Lending::enable_collateral(origin.clone(), asset(a)).is_err() {
						let _ = Lending::disable_collateral(origin, asset(a));
					}
				},
				Op::Settle(b) => {
					if Liquidation::settle(RuntimeOrigin::signed(DAVE), who(b)).is_ok() {
						counts.borrow_mut().settled += 1;
					}
				},
				Op::SettleAll => {
					System::reset_events();
					let borrowers = BORROWERS.to_vec().try_into().expect("within MaxSettleBatch");
					let witness =
						BatchWitness { pairs: 2, wide: BORROWERS.len() as u32, bids: u32::MAX };
					if Liquidation::settle_batch(RuntimeOrigin::signed(DAVE), borrowers, witness)
						.is_ok()
					{
						let settled =
							events().iter().filter(|e| matches!(e, Event::Settled { .. })).count();
						counts.borrow_mut().batched += settled as u64;
					}
				},
				Op::Threshold(a, p) => {
					let mut params = params_of(asset(a));
					params.liquidation_threshold =
						params.collateral_factor.saturating_add(Permill::from_percent(p));
					let _ = Lending::update_market(RuntimeOrigin::root(), asset(a), params);
				},
				Op::Epoch => {
					Liquidation::new_epoch(System::block_number());
				},
				Op::Prune => {
					let empty = Liquidation::empty_keys(usize::MAX);
					let keys: Vec<_> = RiskKeys::<Test>::iter_keys().map(|(_, k)| k).collect();
					for key in keys.iter().filter(|k| !empty.contains(k)) {
						let one = vec![*key].try_into().expect("one key");
						assert_noop!(
							Liquidation::prune_keys(RuntimeOrigin::signed(DAVE), one),
							Error::<Test>::KeyNotPrunable
						);
					}
					for chunk in empty.chunks(MAX_PRUNE as usize) {
						let list = chunk.to_vec().try_into().expect("within MAX_PRUNE");
						assert_ok!(Liquidation::prune_keys(RuntimeOrigin::signed(DAVE), list));
						counts.borrow_mut().pruned += chunk.len() as u64;
					}
					prop_assert!(Liquidation::empty_keys(usize::MAX).is_empty());
				},
				Op::Refile => {
					let accounts = BORROWERS.to_vec().try_into().expect("within MaxRefile");
					assert_ok!(Liquidation::refile(RuntimeOrigin::signed(DAVE), accounts));
					refiled = true;
				},
			}
			check(counts, refiled)?;
		}
		Ok(())
	})
}

#[test]
fn the_index_finds_every_account_a_full_scan_finds() {
	let mut runner = proptest_runner("INDEX_PROPTEST_CASES", 100);
	let counts = RefCell::new(Counts::default());
	runner
		.run(&(setup(), prop::collection::vec(op(), 1..40)), |(setup, ops)| {
			run(setup, ops, &counts)
		})
		.unwrap();
	let c = counts.into_inner();
	println!(
		"index property: {} steps, {} account-steps below health 1, {} a liquidation may \
		 settle ({} of them with disagreeing or silent feeds), {} read by the index, {} pair \
		 entries checked exact, {} settlements, {} positions settled in batches, {} keys pruned",
		c.steps,
		c.unhealthy,
		c.settleable,
		c.settleable_unsettled_prices,
		c.candidates,
		c.pair_checked,
		c.settled,
		c.batched,
		c.pruned
	);
	assert!(
		c.unhealthy > 0
			&& c.pair_checked > 0
			&& c.settled > 0
			&& c.batched > 0
			&& c.pruned > 0
			&& c.settleable_unsettled_prices > 0,
		"{c:?}"
	);
}
