//! The cascade benchmark (issue #15): does the circuit breaker slow a liquidation spiral?
//!
//! The development genesis of the real runtime, natively (assets, the DEX, the oracle, lending,
//! liquidation, the breaker; their calls and hooks), driven block by block through a price
//! scenario read from a CSV file (`block,asset,price`; the last price holds until the next
//! row): the MARKET's price. The feeders report it `feed_lag` blocks late (`# feed_lag N` in
//! the file; 0 by default: the oracle is the market); the arbitrageur and the auction taker
//! trade on the market's price (elsewhere first), so with a lag the DEX leads the oracle. A
//! population of positions (XBTC collateral, USDM debt, health spread evenly over
//! [1.08, 1.80]; a whale in the scenarios that ask for one) borrows first. Each block:
//!
//! 1. the dev feeder (every member of the oracle) feeds the scenario's price of `feed_lag`
//!    blocks before (every block, as a feeder does);
//! 2. the keepers' offchain worker logic settles what is below health 1: candidates from the
//!    risk index, batches sized to the block (`batch_prefix`, a dry run,
//!    `settle_batch_unsigned`), the positions a batch skips one by one (`settle_unsigned`),
//!    within the block's normal weight;
//! 3. the worker resets or closes the Dutch auctions due it (`redo_unsigned`), and an auction
//!    taker (an outside buyer who resells at the market elsewhere) takes from those priced at
//!    least 3% below the market, within a per-block capacity of USDM;
//! 4. an arbitrageur trades the XBTC/USDM pool toward the market, within a per-block capacity;
//!    the signed calls of steps 3-4 (and the own-funds keeper's, between steps 2 and 3) fit in
//!    the block's normal class less what the worker's unsigned calls used (the priority bands'
//!    order), none of it while a `# spam FROM TO` spammer outbids them;
//! 5. the end of the block: the oracle's and the breaker's `on_finalize` (the breaker samples,
//!    guards the price, moves the level).
//!
//! Each scenario runs with the breaker off (triggers and the guard out of reach) and on (the
//! runtime's defaults), then on with the oracle guard's jump bound widened to 10% and with no
//! guard (the guard's trade-off between a wick and a crash; the plots show off and on).
//! Reported: bad debt socialised, insurance USDM used (and the fund's result: its USDM and
//! XBTC, held or supplied, at the market's last price, after less before), the worst DEX-vs-
//! oracle gap, positions liquidated, healthy positions harmed (a settlement of a position at
//! health 1 or above: must be 0), positions liquidated that would have been healthy at the
//! scenario's last price, and blocks to recovery (from the first move until no position is
//! below 1 and the pool is within 2% of the oracle). Plots per scenario (SVG, `plotters`):
//! DEX price vs oracle, collateral sold on the DEX, positions queued, insurance fund and bad
//! debt per block, breaker off and on.
//!
//! `cargo run --release -p margincall-scale-bench --bin margincall-cascade-bench` (see
//! `benchmarking/README.md`); writes `benchmarking/results/cascade.txt` and
//! `benchmarking/results/cascade/<scenario>.svg`.

use frame_support::{
	dispatch::DispatchClass,
	traits::{fungibles::Inspect, fungibles::Mutate, OnFinalize},
	weights::Weight,
};
use margincall_runtime::{
	assets::{USDM, XBTC},
	AccountId, Breaker, Lending, Liquidation, Runtime, RuntimeCall, RuntimeEvent, RuntimeOrigin,
	UNIT,
};
use margincall_scale_bench::*;
use pallet_breaker::Level;
use pallet_liquidation::WeightInfo as _;
use sp_runtime::traits::Dispatchable;
use std::{collections::BTreeMap, fmt::Write as _};

/// Positions in each run.
const POSITIONS: u64 = 300;
/// Each position's collateral: 0.1 XBTC.
const POSITION_XBTC: u128 = UNIT / 10;
/// The whale's collateral, as a share of the pool's XBTC.
const WHALE_SHARE: u128 = 30;
/// USDM the arbitrageur may trade per block.
const ARBITRAGE_CAPACITY: u128 = 200_000 * UNIT;
/// USDM the auction taker may spend per block.
const TAKER_CAPACITY: u128 = 200_000 * UNIT;
/// The taker takes at most at the oracle less this (its margin for reselling elsewhere).
const TAKER_MARGIN: f64 = 0.03;
/// USDM the own-funds keeper may repay per block.
const KEEPER_CAPACITY: u128 = 100_000 * UNIT;
/// What reselling seized XBTC at the market costs the keeper (fees, slippage elsewhere).
const KEEPER_MARGIN: f64 = 0.01;
/// Blocks simulated after the scenario's last row (recovery, the breaker's calm periods).
const TAIL_BLOCKS: u32 = 150;
/// XBTC's liquidation threshold in the dev preset (78%), for the "would have recovered" count.
const XBTC_LT: f64 = 0.78;

/// The market makers of the #28 runs: `(USDM capital, bid discount in ppm)` each. They bid for
/// XBTC in USDM before the scenario starts (bids activate 10 blocks after they are placed), buy
/// what settlements sell them, and resell it the next block INTO THE CHAIN'S POOL (a swap, in
/// the block's room: their sales press on the same thin pool the protocol's do, and only the
/// arbitrageur brings outside liquidity; their capital is finite and comes back at the pool's
/// price). A maker cancels while its bid would buy at a loss (the oracle more than its discount
/// above the market, less [`MAKER_MARGIN`]: a lagging oracle in a fall) and bids again once it
/// would not.
const MAKERS: [(u128, u32); 3] =
	[(400_000 * UNIT, 10_000), (300_000 * UNIT, 20_000), (200_000 * UNIT, 25_000)];
/// Most one maker's bid holds.
const MAKER_BID: u128 = 150_000 * UNIT;
/// What reselling costs a maker (fees, slippage elsewhere).
const MAKER_MARGIN: f64 = 0.005;
/// The opt-in borrowers' terms (every other position of the population): band 1.15 (or 0.02
/// below the position's health at the start, if lower: nobody opts in to be deleveraged at
/// once), a quarter of the debt a step at health 1, a 2% bonus (XBTC's liquidation pays 4% at
/// health 1). The keeper serving them resells what it takes into the pool the next block.
const PRE_BAND: (u128, u128) = (115, 100);
const PRE_CLOSE_PERCENT: u32 = 25;
const PRE_BONUS_PERCENT: u32 = 2;
/// USDM the pre-liquidation keeper may repay per block.
const PRE_CAPACITY: u128 = 100_000 * UNIT;

/// The #28 actors of a run.
#[derive(Clone, Copy, Default)]
struct Actors {
	/// Market makers with standing bids.
	makers: bool,
	/// Every other position opted in to pre-liquidation, and a keeper serving it.
	pre: bool,
}

impl Actors {
	fn label(&self) -> &'static str {
		match (self.makers, self.pre) {
			(false, false) => "neither",
			(true, false) => "market makers",
			(false, true) => "opt-in",
			(true, true) => "both",
		}
	}
}

fn maker(i: usize) -> AccountId {
	account(u64::MAX - 20 - i as u64)
}

/// `who` resells `amount` of the XBTC it holds as lending supply into the pool (withdraw, then
/// swap, each in the block's room). Returns whether both went through.
fn resell(who: &AccountId, amount: u128, space: &mut Space) -> bool {
	use frame_support::dispatch::GetDispatchInfo;
	if amount == 0 {
		return true;
	}
	let withdraw = RuntimeCall::Lending(pallet_lending::Call::withdraw {
		asset: XBTC,
		amount: pallet_lending::Amount::Exact(amount),
	});
	let (kx, ku) = pool_assets();
	let swap =
		RuntimeCall::AssetConversion(pallet_asset_conversion::Call::swap_exact_tokens_for_tokens {
			path: vec![kx, ku],
			amount_in: amount,
			amount_out_min: 1,
			send_to: who.clone(),
			keep_alive: true,
		});
	let (w1, w2) = (withdraw.get_dispatch_info().call_weight, swap.get_dispatch_info().call_weight);
	if !space.admits(w1.saturating_add(w2).saturating_add(Space::base())) {
		return false;
	}
	let result = withdraw.dispatch(RuntimeOrigin::signed(who.clone()));
	space.charge(w1, &result);
	if result.is_err() {
		return false;
	}
	let result = swap.dispatch(RuntimeOrigin::signed(who.clone()));
	space.charge(w2, &result);
	result.is_ok()
}

/// The makers' round for one block (signed calls, in the room left): each resells into the pool
/// what it bought up to the previous block (`stock`: its XBTC supply then), then keeps one bid
/// standing while it would not buy at a loss, replacing it once it filled below half of what it
/// was placed with (`placed`: each bid's amount) or nears its expiry.
fn makers_round(
	block: u32,
	oracle: u32,
	market: u32,
	space: &mut Space,
	placed: &mut BTreeMap<pallet_bids::BidId, u128>,
	stock: &mut [u128],
) {
	use pallet_lending::LendingPositions;
	for (i, (_, discount)) in MAKERS.iter().enumerate() {
		let who = maker(i);
		let carried = stock.get(i).copied().unwrap_or(0);
		if resell(&who, carried, space) {
			if let Some(s) = stock.get_mut(i) {
				*s = 0;
			}
		}
		let d = f64::from(*discount) / 1e6;
		let loses = f64::from(oracle) * (1.0 - d) > f64::from(market) * (1.0 - MAKER_MARGIN);
		let ours: Vec<_> = pallet_bids::Pallet::<Runtime>::book(XBTC, USDM)
			.into_iter()
			.filter(|(_, b)| b.owner == who)
			.collect();
		let place =
			<<Runtime as pallet_bids::Config>::WeightInfo as pallet_bids::WeightInfo>::place_bid();
		let cancel =
			<<Runtime as pallet_bids::Config>::WeightInfo as pallet_bids::WeightInfo>::cancel_bid();
		let mut standing = false;
		let mut room = true;
		for (id, bid) in ours {
			let active = bid.active_from <= block;
			let spent = placed.get(&id).is_some_and(|amount| bid.remaining * 2 < *amount);
			if active && (loses || spent || bid.expires_at <= block + 20) {
				if !space.admits(cancel) {
					room = false;
					standing = true;
					break;
				}
				let call = RuntimeCall::Bids(pallet_bids::Call::cancel_bid { id });
				let result = call.dispatch(RuntimeOrigin::signed(who.clone()));
				space.charge(cancel, &result);
			} else {
				standing = true;
			}
		}
		if room && !standing && !loses {
			let free = <margincall_runtime::Assets as Inspect<AccountId>>::reducible_balance(
				USDM,
				&who,
				frame_support::traits::tokens::Preservation::Preserve,
				frame_support::traits::tokens::Fortitude::Polite,
			);
			let amount = free.min(MAKER_BID);
			if amount >= 1_000 * UNIT && space.admits(place) {
				let id = pallet_bids::NextBidId::<Runtime>::get();
				let call = RuntimeCall::Bids(pallet_bids::Call::place_bid {
					collateral: XBTC,
					debt: USDM,
					amount,
					discount: sp_runtime::Permill::from_parts(*discount),
					expires_at: block + 2_000,
				});
				let result = call.dispatch(RuntimeOrigin::signed(who.clone()));
				space.charge(place, &result);
				if result.is_ok() {
					placed.insert(id, amount);
				}
			}
		}
		// What it holds now (this block's fills included) is resold the next block.
		if let Some(s) = stock.get_mut(i) {
			*s = Lending::supplied(&who, &XBTC).unwrap_or(0);
		}
	}
}

/// The makers' worth at the market: USDM (free, and held by their bids) and XBTC (held or
/// supplied).
fn makers_value(market: f64) -> f64 {
	use pallet_lending::LendingPositions;
	let book = pallet_bids::Pallet::<Runtime>::book(XBTC, USDM);
	(0..MAKERS.len())
		.map(|i| {
			let who = maker(i);
			let held: u128 =
				book.iter().filter(|(_, b)| b.owner == who).map(|(_, b)| b.remaining).sum();
			let usdm =
				<margincall_runtime::Assets as Inspect<AccountId>>::balance(USDM, &who) + held;
			let xbtc = <margincall_runtime::Assets as Inspect<AccountId>>::balance(XBTC, &who)
				+ Lending::supplied(&who, &XBTC).unwrap_or(0);
			(usdm as f64 + xbtc as f64 * market) / UNIT as f64
		})
		.sum()
}

/// The pre-liquidation keeper's round (its own USDM, at most [`PRE_CAPACITY`] a block): first it
/// resells into the pool what it took up to the previous block (`stock`), then steps in on each
/// opted-in account the chain offers a step for, when the XBTC it gets (less the protocol's
/// share of the bonus), at the market less [`KEEPER_MARGIN`], pays more than it repays.
fn pre_round(
	keeper: &AccountId,
	opted: &[AccountId],
	market: u32,
	space: &mut Space,
	stock: &mut u128,
) {
	use pallet_lending::LendingPositions;
	if resell(keeper, *stock, space) {
		*stock = 0;
	}
	let mut budget = PRE_CAPACITY;
	let weight = Liquidation::pre_liquidate_weight();
	let fee = pallet_liquidation::Params::<Runtime>::get().protocol_fee;
	for who in opted {
		let Ok(offer) = Liquidation::pre_liquidation_view(who).offer else { continue };
		let bonus = f64::from(offer.bonus.deconstruct()) / 1e6;
		let kept = 1.0 - f64::from(fee.deconstruct()) / 1e6 * bonus / (1.0 + bonus);
		let resale = offer.collateral as f64 * kept * f64::from(market) * (1.0 - KEEPER_MARGIN);
		if resale <= offer.repay as f64 || offer.repay > budget {
			continue;
		}
		if !space.admits(weight) {
			break;
		}
		let call = RuntimeCall::Liquidation(pallet_liquidation::Call::pre_liquidate {
			borrower: who.clone().into(),
			debt_asset: offer.debt_asset,
			collateral_asset: offer.collateral_asset,
			max_repay: pallet_lending::Amount::Exact(offer.repay),
			min_bonus: offer.bonus,
		});
		let result = call.dispatch(RuntimeOrigin::signed(keeper.clone()));
		space.charge(weight, &result);
		if result.is_ok() {
			budget -= offer.repay;
		}
	}
	// This block's takes are resold the next block.
	*stock = Lending::supplied(keeper, &XBTC).unwrap_or(0);
}

/// Seized value (USDM, at the oracle) by route, and the penalty borrowers paid (the collateral
/// taken, at the oracle, less the debt it repaid), from a block's events.
#[derive(Default, Clone)]
struct Fills {
	bids: f64,
	dex: f64,
	backstop: f64,
	auction: f64,
	keeper: f64,
	pre: f64,
	penalty: f64,
	/// The penalty of the half of the population that opts in in the opt-in runs (every other
	/// position), in every run, and the debt repaid of that half.
	penalty_half: f64,
	repaid_half: f64,
	/// Auctions started: `id -> (block, oracle, market)` at the start.
	starts: BTreeMap<u32, (u32, f64, f64)>,
	/// Auction takes: USDM paid, USDM paid × blocks waited since the start, and what the
	/// collateral bought would have paid at the oracle at the start.
	auction_paid: f64,
	auction_wait: f64,
	auction_at_start: f64,
	/// What an intent (RFQ) could have gained over the auction at most: for each take of an
	/// auction that started while the market stood at or above the oracle (a filler with the
	/// taker's margin would then fill an intent whose minimum is the oracle less the DEX bound,
	/// at once), the minimum's worth less what the take paid, when more.
	intent_gain: f64,
}

impl Fills {
	fn total(&self) -> f64 {
		self.bids + self.dex + self.backstop + self.auction + self.keeper + self.pre
	}

	/// Adds a block's liquidation events. A settlement's, a keeper's and a pre-liquidation's
	/// collateral is valued at the price their plan used (the debt repaid is worth the
	/// collateral due less the discount: while the guard holds a fall, a liquidation prices at
	/// the end that favours the borrower, not the fed price); an auction's and a sweep's at the
	/// oracle's `price`. `half` says whether a borrower is of the opt-in half, `auctions` maps an
	/// auction to its borrower.
	#[allow(clippy::too_many_arguments)]
	fn add(
		&mut self,
		events: impl Iterator<Item = RuntimeEvent>,
		block: u32,
		price: f64,
		market: f64,
		half: impl Fn(&AccountId) -> bool,
		auctions: &mut BTreeMap<u32, AccountId>,
	) {
		let bound =
			f64::from(pallet_liquidation::Params::<Runtime>::get().max_slippage.deconstruct())
				/ 1e6;
		let units = |u: u128| u as f64 / UNIT as f64;
		for event in events {
			use pallet_liquidation::{Event as E, Route};
			let RuntimeEvent::Liquidation(e) = event else { continue };
			let (borrower, taken, repaid) = match e {
				E::Settled {
					borrower,
					route,
					repaid,
					collateral_due,
					sold,
					to_insurance,
					tip,
					discount,
					..
				} => {
					// `collateral_due` is worth `repaid × (1 + discount)` at the plan's price.
					let worth = units(repaid) * (1.0 + f64::from(discount.deconstruct()) / 1e6);
					let taken = if collateral_due == 0 {
						0.0
					} else {
						worth * (sold + to_insurance + tip) as f64 / collateral_due as f64
					};
					match route {
						Route::Dex => self.dex += taken,
						Route::Bids { .. } => self.bids += taken,
						Route::Backstop { .. } => self.backstop += taken,
						Route::Net | Route::Auction { .. } => continue,
					}
					(borrower, taken, units(repaid))
				},
				E::Liquidated { borrower, repaid, discount, .. } => {
					let taken = units(repaid) * (1.0 + f64::from(discount.deconstruct()) / 1e6);
					self.keeper += taken;
					(borrower, taken, units(repaid))
				},
				E::PreLiquidated { borrower, repaid, bonus, .. } => {
					let taken = units(repaid) * (1.0 + f64::from(bonus.deconstruct()) / 1e6);
					self.pre += taken;
					(borrower, taken, units(repaid))
				},
				E::AuctionStarted { id, borrower, .. } => {
					auctions.insert(id, borrower);
					self.starts.insert(id, (block, price, market));
					continue;
				},
				E::AuctionTaken { id, bought, paid, .. } => {
					let Some(borrower) = auctions.get(&id).cloned() else { continue };
					let taken = units(bought) * price;
					self.auction += taken;
					if let Some((start, oracle0, market0)) = self.starts.get(&id).copied() {
						self.auction_paid += units(paid);
						self.auction_wait += units(paid) * f64::from(block - start);
						self.auction_at_start += units(bought) * oracle0;
						let minimum = units(bought) * oracle0 * (1.0 - bound);
						if market0 >= oracle0 && minimum > units(paid) {
							self.intent_gain += minimum - units(paid);
						}
					}
					(borrower, taken, units(paid))
				},
				E::AuctionEnded { borrower, to_insurance, .. } => {
					let taken = units(to_insurance) * price;
					self.auction += taken;
					(borrower, taken, 0.0)
				},
				// Collateral too small to pay for a unit of debt, to the treasury for nothing.
				E::DustCollateralSwept { borrower, amount, .. } => {
					(borrower, units(amount) * price, 0.0)
				},
				_ => continue,
			};
			self.penalty += taken - repaid;
			if half(&borrower) {
				self.penalty_half += taken - repaid;
				self.repaid_half += repaid;
			}
		}
	}
}

struct Scenario {
	name: String,
	/// `block -> XBTC price` (the market's).
	path: BTreeMap<u32, u32>,
	whale: bool,
	/// Blocks the feeders report the market late.
	feed_lag: u32,
	/// `# attack halt FROM TO`: an outsider sells XBTC into the pool at the end of every
	/// block from `FROM` to `TO`, to keep its spot [`ATTACK_BELOW`] below the oracle (against
	/// the arbitrageur, who buys it back each block): the DEX-spot halt attack.
	attack: Option<(u32, u32)>,
	/// `# attack feeder FROM`: the chain has three feeders (quorum 2); from block `FROM` the
	/// third reports XBTC [`FEEDER_PUMP`] above the market and a colluding borrower tries to
	/// borrow every block against it (the attack's profit: what it could walk away with).
	feeder_attack: Option<u32>,
	/// `# stale feeder FROM`: with three feeders, the second stops feeding from block `FROM`.
	stale_from: Option<u32>,
	/// `# lagging feeder N`: with three feeders, the third (honest) reports the market `N`
	/// blocks later than the others.
	lagging: Option<u32>,
	/// `# spam FROM TO`: from block `FROM` to `TO` a spammer fills the normal class the
	/// worker's unsigned band leaves, outbidding every other signed transaction: the
	/// arbitrageur, the auction taker and the keeper find no room.
	spam: Option<(u32, u32)>,
	/// `# insurance N`: the insurance treasury holds `N` USDM at the start (else the dev
	/// chain's fund).
	insurance: Option<u128>,
}

impl Scenario {
	/// Whether the chain runs the three feeders of the feeder scenarios.
	fn three_feeders(&self) -> bool {
		self.feeder_attack.is_some() || self.stale_from.is_some() || self.lagging.is_some()
	}
}

/// How far above the market the malicious feeder reports XBTC.
const FEEDER_PUMP: f64 = 1.5;
/// The colluding borrower's XBTC collateral.
const PUMP_COLLATERAL: u128 = 10 * UNIT;

/// The three feeders of the feeder scenarios: the dev chain's (Alice), an honest second and the
/// malicious third.
fn feeders() -> [AccountId; 3] {
	use frame_support::traits::SortedMembers;
	let first = margincall_runtime::OracleMembership::sorted_members()
		.first()
		.cloned()
		.expect("the dev chain has a feeder");
	[first, account(u64::MAX - 5), account(u64::MAX - 6)]
}

fn feed_as(feeder: &AccountId, xbtc: u32) {
	let values = frame_support::BoundedVec::truncate_from(vec![
		(USDM, margincall_runtime::configs::Price::from_u32(1)),
		(XBTC, margincall_runtime::configs::Price::from_u32(xbtc)),
	]);
	dispatch(Some(feeder), RuntimeCall::Oracle(orml_oracle::Call::feed_values { values }));
}

fn pump_borrower() -> AccountId {
	account(u64::MAX - 7)
}

/// How far below the oracle the halt attack pushes the pool at the end of each block (the
/// halt trigger is 15%).
const ATTACK_BELOW: f64 = 0.20;

/// Gives `who` the native balance an account needs to transact.
fn endow(who: &AccountId) {
	<margincall_runtime::Balances as frame_support::traits::fungible::Mutate<AccountId>>::mint_into(
		who,
		1_000 * UNIT,
	)
	.expect("mint");
}

fn attacker() -> AccountId {
	account(u64::MAX - 4)
}

/// The attacker sells XBTC into the pool until its spot is at `price` (nothing if it is
/// already below).
fn dump_to(price: f64) {
	let who = attacker();
	let (x, u) = pool_reserves();
	let target_x = ((x as f64) * (u as f64) / price).sqrt() as u128;
	if target_x <= x {
		return;
	}
	let (kx, ku) = pool_assets();
	let call = pallet_asset_conversion::Call::swap_exact_tokens_for_tokens {
		path: vec![kx, ku],
		amount_in: (target_x - x) * 1_000 / 997,
		amount_out_min: 1,
		send_to: who.clone(),
		keep_alive: true,
	};
	dispatch(Some(&who), RuntimeCall::AssetConversion(call));
}

fn load(path: &std::path::Path) -> Scenario {
	let text = std::fs::read_to_string(path).expect("scenario readable");
	let mut rows = BTreeMap::new();
	let mut whale = false;
	let mut feed_lag = 0;
	let mut attack = None;
	let mut feeder_attack = None;
	let mut stale_from = None;
	let mut lagging = None;
	let mut spam = None;
	let mut insurance = None;
	for line in text.lines().map(str::trim) {
		if line == "# whale" {
			whale = true;
		}
		if let Some(lag) = line.strip_prefix("# feed_lag ") {
			feed_lag = lag.parse().expect("# feed_lag N");
		}
		if let Some(from) = line.strip_prefix("# attack feeder ") {
			feeder_attack = Some(from.parse().expect("# attack feeder FROM"));
		}
		if let Some(lag) = line.strip_prefix("# lagging feeder ") {
			lagging = Some(lag.parse().expect("# lagging feeder N"));
		}
		if let Some(from) = line.strip_prefix("# stale feeder ") {
			stale_from = Some(from.parse().expect("# stale feeder FROM"));
		}
		if let Some(fund) = line.strip_prefix("# insurance ") {
			insurance = Some(fund.parse().expect("# insurance N"));
		}
		if let Some(span) = line.strip_prefix("# spam ") {
			let (from, to) = span.split_once(' ').expect("# spam FROM TO");
			spam = Some((from.parse().expect("FROM"), to.parse().expect("TO")));
		}
		if let Some(span) = line.strip_prefix("# attack halt ") {
			let (from, to) = span.split_once(' ').expect("# attack halt FROM TO");
			attack = Some((from.parse().expect("FROM"), to.parse().expect("TO")));
		}
		if line.is_empty() || line.starts_with('#') || line.starts_with("block") {
			continue;
		}
		let cols: Vec<&str> = line.split(',').map(str::trim).collect();
		assert_eq!(cols.len(), 3, "block,asset,price: {line}");
		assert!(cols[1] == "XBTC" || cols[1] == XBTC.to_string(), "only XBTC moves: {line}");
		rows.insert(cols[0].parse().expect("block"), cols[2].parse().expect("price"));
	}
	let name = path.file_stem().expect("a file").to_string_lossy().into_owned();
	Scenario {
		name,
		path: rows,
		whale,
		feed_lag,
		attack,
		feeder_attack,
		stale_from,
		lagging,
		spam,
		insurance,
	}
}

/// One block's readings.
#[derive(Clone, Default)]
struct Sample {
	block: u32,
	oracle: f64,
	/// The market's price (the oracle's `feed_lag` blocks later).
	market: f64,
	/// The pool's price after the keepers' sales, before the arbitrageur's trade.
	dex: f64,
	/// XBTC sold on the DEX by liquidations in the block.
	sold: f64,
	/// XBTC bought from auctions in the block.
	taken: f64,
	queued: u32,
	/// Live auctions at the end of the block.
	auctions: u32,
	insurance_usdm: f64,
	bad_debt: f64,
	/// 0 Normal, 1 Throttled, 2 Halted; +10 while the guard holds the price.
	level: u8,
	below_one: u32,
}

#[derive(Default)]
struct Outcome {
	bad_debt: f64,
	insurance_used: f64,
	/// The insurance fund's change in value over the run (USDM and XBTC, held or supplied,
	/// both ends valued at the market's last price): what the USDM it spent bought is worth.
	insurance_result: f64,
	worst_gap: f64,
	/// Worst `1 − DEX / oracle`: the pool sold below the oracle.
	worst_below: f64,
	liquidated: usize,
	/// Auctions started.
	auctions: usize,
	/// XBTC bought from auctions.
	taken: f64,
	harmed: usize,
	would_recover: usize,
	recovery_blocks: Option<u32>,
	/// The halt attacker's gain at the market's last price (USDM; negative: its cost).
	attacker_profit: Option<f64>,
	/// Blocks XBTC ended `Halted`.
	halted_blocks: u32,
	/// USDM the colluding borrower of the feeder attack holds as debt at the end.
	pump_borrowed: f64,
	/// Feeds of junk keys the runtime refused (the feeder attack).
	junk_refused: u32,
	/// Liquidations by the own-funds keeper.
	by_keeper: usize,
	/// The largest share of the block's normal class the worker's unsigned calls used.
	worker_share: f64,
	/// Signed calls (arbitrage, takes, the keeper's) that found no room in their block.
	crowded_out: u32,
	/// What the spammer paid in fees for the space it filled (native units, tips not counted).
	spam_fees: f64,
	/// Seized value by route and the borrowers' penalty (the #28 runs).
	fills: Fills,
	/// Blocks from the first move until no position is below 1 and no sale waits (queued or in
	/// auction).
	settle_blocks: Option<u32>,
	/// The market makers' result at the market's last price (USDM).
	makers_result: f64,
	samples: Vec<Sample>,
}

fn breaker_off() {
	let mut params = pallet_breaker::LevelParams::<Runtime>::get();
	let never = pallet_breaker::Triggers {
		volatility: margincall_runtime::configs::Price::from_u32(1_000_000),
		moved: sp_runtime::Permill::one(),
		divergence: sp_runtime::Permill::one(),
	};
	params.throttle = never;
	params.halt = pallet_breaker::HaltTrigger {
		divergence: sp_runtime::Permill::one(),
		blocks: pallet_breaker::levels::HALT_BLOCKS_RANGE.1,
	};
	params.jump = sp_runtime::Permill::one();
	dispatch(None, RuntimeCall::Breaker(pallet_breaker::Call::set_breaker_params { params }));
}

fn spot() -> f64 {
	let (x, u) = pool_reserves();
	u as f64 / x as f64
}

fn price_at(path: &BTreeMap<u32, u32>, block: u32) -> u32 {
	path.range(..=block).next_back().map(|(_, p)| *p).unwrap_or(XBTC_PRICE)
}

/// Opens a position of `xbtc` collateral at `health` (at the current 60,000).
fn open(who: &AccountId, xbtc: u128, health: f64) {
	let value = xbtc as f64 * f64::from(XBTC_PRICE) * XBTC_LT;
	open_position(who, xbtc, (value / health) as u128);
}

/// The keepers' worker for one block: batches then singles, within the unsigned share of the
/// normal weight. Returns the settlements' events' data: `(borrower, health, sold)`.
fn keep(events_before: usize) -> (Vec<(AccountId, f64, u128)>, Weight) {
	let limits = <Runtime as frame_system::Config>::BlockWeights::get();
	let normal = Liquidation::unsigned_budget();
	let base = limits.get(DispatchClass::Normal).base_extrinsic;
	let mut candidates = Vec::new();
	let mut cursor = None;
	loop {
		let (page, next) = Liquidation::at_risk(cursor, 1_000);
		candidates.extend(
			page.into_iter()
				.filter(|w| Lending::account_health(w).is_ok_and(|h| h.is_liquidatable())),
		);
		match next {
			Some(next) => cursor = Some(next),
			None => break,
		}
	}
	let mut queue: std::collections::VecDeque<AccountId> = candidates.into();
	let mut used = Weight::zero();
	let single = <Runtime as pallet_liquidation::Config>::WeightInfo::settle_dex();
	while !queue.is_empty() {
		let left = normal.saturating_sub(used).saturating_sub(base);
		let (take, witness) = Liquidation::batch_prefix(queue.iter(), left);
		if take == 0 {
			break;
		}
		// In order, as the worker sends them (an unsigned batch's check at inclusion is charged
		// up to its first due borrower, found by a binary search).
		let mut chunk: Vec<AccountId> = queue.drain(..take).collect();
		chunk.sort();
		let Ok(dry) = Liquidation::try_settle_batch(&chunk, witness) else { continue };
		let witness = Liquidation::sent_witness(&witness, &dry);
		for (who, _why) in dry.skipped {
			if !single.all_lte(normal.saturating_sub(used)) {
				break;
			}
			let call = RuntimeCall::Liquidation(pallet_liquidation::Call::settle_unsigned {
				borrower: who,
				at: frame_system::Pallet::<Runtime>::block_number(),
			});
			// Refusals (a held price, a queue turn not come, no route) are the breaker's and the
			// routes' answers; the worker's dry run would not have sent them.
			if call.dispatch(RuntimeOrigin::none()).is_ok() {
				used = used.saturating_add(single).saturating_add(base);
			}
		}
		if dry.settled.is_empty() {
			continue;
		}
		let declared = Liquidation::settle_batch_weight(dry.settled.len() as u32, &witness);
		if !declared.all_lte(normal.saturating_sub(used)) {
			break;
		}
		let mut borrowers = dry.settled;
		borrowers.sort();
		let call = RuntimeCall::Liquidation(pallet_liquidation::Call::settle_batch_unsigned {
			borrowers: borrowers.try_into().expect("within MaxSettleBatch"),
			witness,
			at: frame_system::Pallet::<Runtime>::block_number(),
		});
		if let Ok(post) = call.dispatch(RuntimeOrigin::none()) {
			used = used
				.saturating_add(post.actual_weight.unwrap_or(declared).min(declared))
				.saturating_add(base);
		}
	}
	let settled = frame_system::Pallet::<Runtime>::events()
		.into_iter()
		.skip(events_before)
		.filter_map(|r| match r.event {
			RuntimeEvent::Liquidation(pallet_liquidation::Event::Settled {
				borrower,
				health,
				sold,
				..
			}) => Some((borrower, health.into_inner() as f64 / 1e18, sold)),
			_ => None,
		})
		.collect();
	(settled, used)
}

/// The worker's `redo_unsigned` of every auction a dry run shows due (a reset of a stale one,
/// the close of one with nothing left to do): unsigned, so before the signed calls.
fn redo_due() {
	for status in Liquidation::auction_statuses() {
		if status.redo_due {
			let call = RuntimeCall::Liquidation(pallet_liquidation::Call::redo_unsigned {
				id: status.id,
				at: frame_system::Pallet::<Runtime>::block_number(),
			});
			let _ = call.dispatch(RuntimeOrigin::none());
		}
	}
}

/// The auction taker for one block (after the worker's `redo_unsigned`, [`redo_due`]; an
/// auction due a reset waits for it): takes from each auction priced at least `TAKER_MARGIN`
/// below the market (where it resells), within `TAKER_CAPACITY` USDM.
/// Returns `(borrower, health before, XBTC bought)`.
fn take_auctions(taker: &AccountId, market: u32, space: &mut Space) -> Vec<(AccountId, f64, u128)> {
	let mut budget = TAKER_CAPACITY;
	let mut bought = Vec::new();
	for status in Liquidation::auction_statuses() {
		let id = status.id;
		if status.redo_due {
			continue;
		}
		let price = status.price.into_inner() as f64 / 1e18;
		if price > f64::from(market) * (1.0 - TAKER_MARGIN) {
			continue;
		}
		let max_collateral = (budget as f64 / price) as u128;
		if max_collateral == 0 {
			break;
		}
		if !space.admits(Liquidation::take_weight()) {
			break;
		}
		let borrower = status.auction.borrower.clone();
		let health =
			Lending::account_health(&borrower).map(|h| h.factor.into_inner() as f64 / 1e18);
		let before = frame_system::Pallet::<Runtime>::events().len();
		let call = RuntimeCall::Liquidation(pallet_liquidation::Call::take {
			id,
			max_collateral,
			max_price: status.price,
		});
		let result = call.dispatch(RuntimeOrigin::signed(taker.clone()));
		space.charge(Liquidation::take_weight(), &result);
		if result.is_err() {
			continue;
		}
		for r in frame_system::Pallet::<Runtime>::events().into_iter().skip(before) {
			if let RuntimeEvent::Liquidation(pallet_liquidation::Event::AuctionTaken {
				bought: xbtc,
				paid,
				..
			}) = r.event
			{
				budget = budget.saturating_sub(paid);
				bought.push((borrower.clone(), health.unwrap_or(0.0), xbtc));
			}
		}
	}
	bought
}

/// The normal class's weight left to the signed transactions of a block (after the feeds'
/// and the worker's bands), and the actors that had a call left when no more fitted.
struct Space {
	left: Weight,
	crowded_out: u32,
}

impl Space {
	fn base() -> Weight {
		<Runtime as frame_system::Config>::BlockWeights::get()
			.get(DispatchClass::Normal)
			.base_extrinsic
	}

	/// Whether a call declaring `weight` is included (the block builder checks the declared
	/// weight); counts the actor crowded out when not.
	fn admits(&mut self, weight: Weight) -> bool {
		let fits = weight.saturating_add(Self::base()).all_lte(self.left);
		if !fits {
			self.crowded_out += 1;
		}
		fits
	}

	/// Charges a call that went through: its weight after dispatch (the refund frees the
	/// rest). A call that fails is taken as not sent: the keeper and the taker dry-run theirs,
	/// as the worker does.
	fn charge(
		&mut self,
		declared: Weight,
		result: &sp_runtime::DispatchResultWithInfo<frame_support::dispatch::PostDispatchInfo>,
	) {
		if let Ok(post) = result {
			let used = post.actual_weight.unwrap_or(declared).min(declared);
			self.left = self.left.saturating_sub(used.saturating_add(Self::base()));
		}
	}
}

/// The feeder's 16 feeds of assets with no market in one call: the runtime's call filter
/// refuses it (and the pool refuses it before inclusion). Returns the refusals (0 or 1).
fn junk_feed(feeder: &AccountId) -> u32 {
	let values = frame_support::BoundedVec::truncate_from(
		(1_000u32..1_016).map(|id| (id, margincall_runtime::configs::Price::from_u32(1))).collect(),
	);
	let call = RuntimeCall::Oracle(orml_oracle::Call::feed_values { values });
	u32::from(call.dispatch(RuntimeOrigin::signed(feeder.clone())).is_err())
}

/// A keeper with its own USDM (at most [`KEEPER_CAPACITY`] a block), acting on the chain's
/// prices after the worker's settlements (signed transactions come after the unsigned band):
/// it `liquidate`s each position the chain lets it whose seized XBTC, resold at the market
/// less [`KEEPER_MARGIN`], pays more than the debt it repays. Returns `(borrower, health)`.
fn keeper_round(
	keeper: &AccountId,
	positions: &[(AccountId, u128, f64)],
	market: u32,
	space: &mut Space,
) -> Vec<(AccountId, f64)> {
	let mut budget = KEEPER_CAPACITY;
	let mut done = Vec::new();
	let fee = pallet_liquidation::Params::<Runtime>::get().protocol_fee;
	for (who, _, _) in positions {
		let Ok(plan) = Liquidation::plan(who, USDM, XBTC, None) else { continue };
		// What the keeper receives: the collateral due less the protocol's share of the
		// discount (as `liquidate` seizes it).
		let to_keeper =
			plan.collateral.saturating_sub(fee.mul_ceil(plan.collateral.saturating_sub(plan.base)));
		let resale = to_keeper as f64 * f64::from(market) * (1.0 - KEEPER_MARGIN);
		if resale <= plan.repay as f64 || plan.repay > budget {
			continue;
		}
		if !space.admits(Liquidation::liquidate_weight()) {
			break;
		}
		let call = RuntimeCall::Liquidation(pallet_liquidation::Call::liquidate {
			borrower: who.clone().into(),
			debt_asset: USDM,
			collateral_asset: XBTC,
			max_repay: pallet_lending::Amount::All,
		});
		let result = call.dispatch(RuntimeOrigin::signed(keeper.clone()));
		space.charge(Liquidation::liquidate_weight(), &result);
		if result.is_ok() {
			budget -= plan.repay;
			done.push((who.clone(), plan.health.factor.into_inner() as f64 / 1e18));
		}
	}
	done
}

/// An arbitrageur's trade toward the market's price, at most `ARBITRAGE_CAPACITY` USDM of it.
fn arbitrage(price: u32) {
	let (x, u) = pool_reserves();
	let (x, u) = (x as f64, u as f64);
	let now = u / x;
	let target = f64::from(price);
	// Move at most the capacity: aim at the price the capacity reaches.
	let k = x * u;
	let cap = ARBITRAGE_CAPACITY as f64;
	let reach = if target > now {
		// Buying XBTC with USDM: u grows by at most cap.
		let u2 = (u + cap).min((k * target).sqrt());
		u2 * u2 / k
	} else {
		let u2 = (u - cap).max((k * target).sqrt());
		u2 * u2 / k
	};
	arbitrage_to(reach.max(1.0) as u128);
}

/// How a run sets the breaker.
#[derive(Clone, Copy)]
enum Setting {
	/// Triggers and the guard out of reach.
	Off,
	/// The runtime's defaults.
	On,
	/// The defaults with the oracle guard's jump bound at this many percent (100: no guard).
	Guard(u32),
	/// The defaults with the pool's depth cap (`pool_block_share`) at this many tenths of a
	/// percent (1000: no depth cap).
	Depth(u32),
}

impl Setting {
	fn label(&self) -> String {
		match self {
			Self::Off => "off".into(),
			Self::On => "on".into(),
			Self::Guard(100) => "on, no guard".into(),
			Self::Guard(p) => format!("on, guard {p}%"),
			Self::Depth(1000) => "on, no depth cap".into(),
			Self::Depth(p) => format!("on, depth cap {:.1}%", f64::from(*p) / 10.0),
		}
	}
}

fn with_jump(percent: u32) {
	let mut params = pallet_breaker::LevelParams::<Runtime>::get();
	params.jump = sp_runtime::Permill::from_percent(percent);
	dispatch(None, RuntimeCall::Breaker(pallet_breaker::Call::set_breaker_params { params }));
}

/// Sets the pool's depth cap to `permille` of the pool's reserve per block.
fn with_pool_share(permille: u32) {
	let params = pallet_liquidation::LiquidationParams {
		pool_block_share: sp_runtime::Permill::from_perthousand(permille),
		..pallet_liquidation::Params::<Runtime>::get()
	};
	dispatch(None, RuntimeCall::Liquidation(pallet_liquidation::Call::update_params { params }));
}

fn simulate(scenario: &Scenario, setting: Setting) -> Outcome {
	simulate_with(scenario, setting, Actors::default())
}

fn simulate_with(scenario: &Scenario, setting: Setting, actors: Actors) -> Outcome {
	let mut ext = genesis();
	ext.execute_with(|| {
		frame_system::Pallet::<Runtime>::set_block_number(1);
		pallet_timestamp::Now::<Runtime>::put(T0);
		feed(XBTC_PRICE);
		uncap(USDM);
		uncap(XBTC);
		match setting {
			// Off: no cascade control at all (the slippage bound alone limits a block's sales).
			Setting::Off => {
				breaker_off();
				with_pool_share(1000);
			},
			Setting::On => {},
			Setting::Guard(p) => with_jump(p),
			Setting::Depth(p) => with_pool_share(p),
		}
		let three = scenario.three_feeders();
		if three {
			// Two more feeders: the quorum in force becomes 2 of 3 (a strict majority).
			for who in feeders().iter().skip(1) {
				endow(who);
				margincall_runtime::OracleMembership::add_member(
					RuntimeOrigin::root(),
					who.clone().into(),
				)
				.expect("root adds a feeder");
				feed_as(who, XBTC_PRICE);
			}
			let who = pump_borrower();
			endow(&who);
			margincall_runtime::Assets::mint_into(XBTC, &who, PUMP_COLLATERAL).expect("mint");
			dispatch(
				Some(&who),
				RuntimeCall::Lending(pallet_lending::Call::supply {
					asset: XBTC,
					amount: PUMP_COLLATERAL,
				}),
			);
		}
		<margincall_runtime::Oracle as OnFinalize<u32>>::on_finalize(1);
		<Breaker as OnFinalize<u32>>::on_finalize(1);
		// The arbitrageur's inventory (its trades are capped per block, not by its funds).
		let arb = whale();
		endow(&arb);
		margincall_runtime::Assets::mint_into(XBTC, &arb, 1_000 * UNIT).expect("mint");
		margincall_runtime::Assets::mint_into(USDM, &arb, 100_000_000 * UNIT).expect("mint");
		let attacker_xbtc0 = 1_000 * UNIT;
		if scenario.attack.is_some() {
			let who = attacker();
			endow(&who);
			margincall_runtime::Assets::mint_into(XBTC, &who, attacker_xbtc0).expect("mint");
		}
		let keeper = account(u64::MAX - 8);
		endow(&keeper);
		margincall_runtime::Assets::mint_into(USDM, &keeper, 100_000_000 * UNIT).expect("mint");
		let taker = account(u64::MAX - 3);
		endow(&taker);
		margincall_runtime::Assets::mint_into(USDM, &taker, 100_000_000 * UNIT).expect("mint");
		let lender = account(u64::MAX);
		let liquidity = 20_000_000 * UNIT;
		margincall_runtime::Assets::mint_into(USDM, &lender, liquidity * 2).expect("mint");
		dispatch(
			Some(&lender),
			RuntimeCall::Lending(pallet_lending::Call::supply { asset: USDM, amount: liquidity }),
		);
		let mut positions: Vec<(AccountId, u128, f64)> = Vec::new();
		for i in 0..POSITIONS {
			let who = account(i);
			let health = 1.08 + 0.72 * (i as f64) / (POSITIONS as f64);
			open(&who, POSITION_XBTC, health);
			positions.push((who, POSITION_XBTC, health));
		}
		if scenario.whale {
			let who = account(u64::MAX - 2);
			let xbtc = pool_reserves().0 * WHALE_SHARE / 100;
			open(&who, xbtc, 1.12);
			positions.push((who, xbtc, 1.12));
		}
		// The opt-in half: every other position of the population (the same half is reported
		// in every run).
		let half: std::collections::BTreeSet<AccountId> =
			(0..POSITIONS).step_by(2).map(account).collect();
		let opted: Vec<AccountId> = if actors.pre { half.iter().cloned().collect() } else { vec![] };
		for (who, _, health) in positions.iter().filter(|(w, _, _)| opted.contains(w)) {
			let band = (PRE_BAND.0 as f64 / PRE_BAND.1 as f64).min(health - 0.02);
			let terms = pallet_liquidation::PreLiquidationTerms {
				band: margincall_runtime::configs::Price::from_float(band),
				close_share: sp_runtime::Permill::from_percent(PRE_CLOSE_PERCENT),
				bonus: sp_runtime::Permill::from_percent(PRE_BONUS_PERCENT),
			};
			dispatch(
				Some(who),
				RuntimeCall::Liquidation(pallet_liquidation::Call::set_pre_liquidation {
					terms: Some(terms),
				}),
			);
		}
		let mut placed = BTreeMap::new();
		let mut maker_stock = [0u128; MAKERS.len()];
		let mut pre_stock = 0u128;
		let pre_keeper = account(u64::MAX - 9);
		endow(&pre_keeper);
		margincall_runtime::Assets::mint_into(USDM, &pre_keeper, 100_000_000 * UNIT).expect("mint");
		if actors.makers {
			for (i, (capital, _)) in MAKERS.iter().enumerate() {
				let who = maker(i);
				endow(&who);
				margincall_runtime::Assets::mint_into(USDM, &who, *capital).expect("mint");
			}
			// The first bids, before the scenario (they activate 10 blocks later).
			let mut room = Space { left: Weight::MAX, crowded_out: 0 };
			makers_round(1, XBTC_PRICE, XBTC_PRICE, &mut room, &mut placed, &mut maker_stock);
		}
		let makers0 = makers_value(f64::from(XBTC_PRICE));
		let mut auction_owners = BTreeMap::new();
		let mut last_unsettled = None;
		let treasury = Liquidation::insurance_account();
		if let Some(fund) = scenario.insurance {
			margincall_runtime::Assets::set_balance(USDM, &treasury, fund * UNIT);
		}
		let insurance0 =
			<margincall_runtime::Assets as Inspect<AccountId>>::balance(USDM, &treasury) as f64;
		let insurance_value = |xbtc_price: f64| {
			use pallet_lending::LendingPositions;
			let units = |asset| {
				(<margincall_runtime::Assets as Inspect<AccountId>>::balance(asset, &treasury)
					+ Lending::supplied(&treasury, &asset).unwrap_or(0)) as f64
					/ UNIT as f64
			};
			units(USDM) + units(XBTC) * xbtc_price
		};
		let first_move =
			scenario.path.iter().find(|(_, p)| **p != XBTC_PRICE).map(|(b, _)| *b).unwrap_or(2);
		let last_row = scenario.path.keys().next_back().copied().unwrap_or(2);
		let final_price = f64::from(price_at(&scenario.path, last_row));
		let insurance_value0 = insurance_value(final_price);
		let mut out = Outcome::default();
		let mut liquidated = std::collections::BTreeSet::new();
		let mut last_unrecovered = None;
		for block in 2..=last_row + TAIL_BLOCKS {
			frame_system::Pallet::<Runtime>::reset_events();
			frame_system::Pallet::<Runtime>::set_block_number(block);
			pallet_timestamp::Now::<Runtime>::put(T0 + u64::from(block - 1) * 6_000);
			// The oracle: what the feeders report, `feed_lag` blocks after the market.
			let price = price_at(&scenario.path, block.saturating_sub(scenario.feed_lag).max(1));
			let market = price_at(&scenario.path, block);
			if three {
				let [honest, second, third] = feeders();
				feed_as(&honest, price);
				if scenario.stale_from.is_none_or(|from| block < from) {
					feed_as(&second, price);
				}
				let attacking = scenario.feeder_attack.is_some_and(|from| block >= from);
				let third_price = match scenario.lagging {
					_ if attacking => (f64::from(price) * FEEDER_PUMP) as u32,
					Some(lag) => price_at(
						&scenario.path,
						block.saturating_sub(scenario.feed_lag + lag).max(1),
					),
					None => price,
				};
				feed_as(&third, third_price);
				if attacking {
					// The attacker also feeds junk keys (the breaker used to sample only the
					// first 16 assets fed in a block): each is refused.
					out.junk_refused += junk_feed(&third);
					let pumped = third_price;
					// The colluding borrower asks for its limit at the pumped price, then half
					// of it, then a tenth (each refused or granted by the lending pallet).
					let limit = PUMP_COLLATERAL as f64 / UNIT as f64 * f64::from(pumped) * 0.73;
					for share in [1.0, 0.5, 0.1] {
						let amount = (limit * share * UNIT as f64) as u128;
						let call = RuntimeCall::Lending(pallet_lending::Call::borrow {
							asset: USDM,
							amount,
						});
						if call.dispatch(RuntimeOrigin::signed(pump_borrower())).is_ok() {
							break;
						}
					}
				}
			} else {
				feed(price);
			}
			// What the block starts with: positions below 1 at the new price.
			let below_one = positions
				.iter()
				.filter(|(w, _, _)| Lending::account_health(w).is_ok_and(|h| h.is_liquidatable()))
				.count() as u32;
			let events_before = frame_system::Pallet::<Runtime>::events().len();
			let (settled, unsigned_used) = keep(events_before);
			redo_due();
			// The signed transactions' room: the normal class less the worker's band (the
			// feeds' band is a few calls), or none while a spammer outbids them all.
			let limits = <Runtime as frame_system::Config>::BlockWeights::get();
			let normal = limits.get(DispatchClass::Normal).max_total.unwrap_or(limits.max_block);
			out.worker_share = out
				.worker_share
				.max(unsigned_used.ref_time() as f64 / normal.ref_time() as f64);
			let signed_room = normal.saturating_sub(unsigned_used);
			let mut space = if scenario.spam.is_some_and(|(a, b)| (a..=b).contains(&block)) {
				out.spam_fees +=
					margincall_runtime::TransactionPayment::weight_to_fee(signed_room) as f64
						/ UNIT as f64;
				Space { left: Weight::zero(), crowded_out: 0 }
			} else {
				Space { left: signed_room, crowded_out: 0 }
			};
			out.auctions += frame_system::Pallet::<Runtime>::events()
				.iter()
				.skip(events_before)
				.filter(|r| {
					matches!(
						r.event,
						RuntimeEvent::Liquidation(pallet_liquidation::Event::AuctionStarted { .. })
					)
				})
				.count();
			for (who, health) in keeper_round(&keeper, &positions, market, &mut space) {
				if health >= 1.0 {
					out.harmed += 1;
				}
				out.by_keeper += 1;
				liquidated.insert(who);
			}
			if actors.pre {
				pre_round(&pre_keeper, &opted, market, &mut space, &mut pre_stock);
			}
			if actors.makers {
				makers_round(block, price, market, &mut space, &mut placed, &mut maker_stock);
			}
			let mut taken = 0u128;
			for (who, health, xbtc) in take_auctions(&taker, market, &mut space) {
				if health >= 1.0 {
					out.harmed += 1;
				}
				taken += xbtc;
				liquidated.insert(who);
			}
			out.taken += taken as f64 / UNIT as f64;
			// The gap the keepers' sales leave (and the oracle's move opens) before the
			// arbitrageur trades.
			let dex = spot();
			let gap = (dex / f64::from(price) - 1.0).abs();
			// The cascade's signature: the pool sold below the oracle.
			out.worst_below = out.worst_below.max(1.0 - dex / f64::from(price));
			let mut sold = 0u128;
			for (who, health, s) in settled {
				if health >= 1.0 {
					out.harmed += 1;
				}
				sold += s;
				liquidated.insert(who);
			}
			let swap = <pallet_asset_conversion::weights::SubstrateWeight<Runtime> as pallet_asset_conversion::WeightInfo>::swap_exact_tokens_for_tokens(2);
			if space.admits(swap) {
				arbitrage(market);
				space.charge(swap, &Ok(Default::default()));
			}
			out.crowded_out += space.crowded_out;
			if scenario.attack.is_some_and(|(from, to)| (from..=to).contains(&block)) {
				dump_to(f64::from(price) * (1.0 - ATTACK_BELOW));
			}
			<margincall_runtime::Oracle as OnFinalize<u32>>::on_finalize(block);
			<Breaker as OnFinalize<u32>>::on_finalize(block);
			out.worst_gap = out.worst_gap.max(gap);
			// The queue's live entries (an entry older than `MaxQueueAge` is dropped when the
			// queue is next read; the stored vector keeps it until then).
			let max_age = <<Runtime as pallet_liquidation::Config>::MaxQueueAge as frame_support::traits::Get<u32>>::get();
			let queued = pallet_liquidation::SaleQueue::<Runtime>::get(XBTC)
				.iter()
				.filter(|e| e.since.saturating_add(max_age) > block)
				.count() as u32;
			let auctions = pallet_liquidation::Auctions::<Runtime>::count();
			if block >= first_move && (below_one > 0 || queued > 0 || auctions > 0 || gap > 0.02) {
				last_unrecovered = Some(block);
			}
			if block >= first_move && (below_one > 0 || queued > 0 || auctions > 0) {
				last_unsettled = Some(block);
				// `CASCADE_DEBUG=1`: what is left unsettled at the run's end, and why.
				if block == last_row + TAIL_BLOCKS && std::env::var_os("CASCADE_DEBUG").is_some() {
					eprintln!(
						"{}: unsettled at the end: {below_one} below 1, {queued} queued, {auctions} auctions",
						scenario.name
					);
					for (who, _, _) in &positions {
						let Ok(h) = Lending::account_health(who) else { continue };
						if h.is_liquidatable() {
							eprintln!("  {who:?}: health {:?}, preview {:?}", h.factor, Liquidation::preview(who.clone()));
							let tried = frame_support::storage::with_transaction(|| {
								let r = RuntimeCall::Liquidation(pallet_liquidation::Call::settle { borrower: who.clone().into() })
									.dispatch(RuntimeOrigin::signed(Liquidation::insurance_account()));
								frame_support::storage::TransactionOutcome::Rollback(Ok::<_, sp_runtime::DispatchError>(r.map(|_| ()).map_err(|e| e.error)))
							});
							let debt = <Lending as pallet_lending::LendingPositions<AccountId>>::debt(who, &USDM);
							let coll = <Lending as pallet_lending::LendingPositions<AccountId>>::supplied(who, &XBTC);
							eprintln!("    settle -> {tried:?}; debt {debt:?} supplied {coll:?}");
						}
					}
					eprintln!("  queue {:?}", pallet_liquidation::SaleQueue::<Runtime>::get(XBTC));
				}
			}
			out.fills.add(
				frame_system::Pallet::<Runtime>::events().into_iter().map(|r| r.event),
				block,
				f64::from(price),
				f64::from(market),
				|who| half.contains(who),
				&mut auction_owners,
			);
			if Breaker::effective_level(&XBTC) == Level::Halted {
				out.halted_blocks += 1;
			}
			let level = match Breaker::effective_level(&XBTC) {
				Level::Normal => 0,
				Level::Throttled => 1,
				Level::Halted => 2,
			} + if Breaker::held_price(&XBTC).is_some() { 10 } else { 0 };
			out.samples.push(Sample {
				block,
				oracle: f64::from(price),
				market: f64::from(market),
				dex,
				sold: sold as f64 / UNIT as f64,
				taken: taken as f64 / UNIT as f64,
				queued,
				auctions,
				insurance_usdm: <margincall_runtime::Assets as Inspect<AccountId>>::balance(
					USDM, &treasury,
				) as f64 / UNIT as f64,
				bad_debt: pallet_liquidation::BadDebt::<Runtime>::get(USDM) as f64 / UNIT as f64,
				level,
				below_one,
			});
		}
		out.bad_debt = pallet_liquidation::BadDebt::<Runtime>::get(USDM) as f64 / UNIT as f64;
		out.insurance_used = (insurance0
			- <margincall_runtime::Assets as Inspect<AccountId>>::balance(USDM, &treasury) as f64)
			/ UNIT as f64;
		out.insurance_result = insurance_value(final_price) - insurance_value0;
		out.liquidated = liquidated.len();
		if three {
			// What the colluding borrower walks away with: its debt beyond its collateral's
			// worth at the market (it repays otherwise).
			let who = pump_borrower();
			use pallet_lending::LendingPositions;
			let debt = Lending::debt(&who, &USDM).unwrap_or(0) as f64 / UNIT as f64;
			let collateral = Lending::supplied(&who, &XBTC).unwrap_or(0) as f64 / UNIT as f64;
			out.attacker_profit = Some((debt - collateral * final_price).max(0.0));
			out.pump_borrowed = debt;
		}
		if scenario.attack.is_some() {
			let who = attacker();
			let balance = |asset| {
				<margincall_runtime::Assets as Inspect<AccountId>>::balance(asset, &who) as f64
					/ UNIT as f64
			};
			let xbtc = balance(XBTC) - attacker_xbtc0 as f64 / UNIT as f64;
			out.attacker_profit = Some(balance(USDM) + xbtc * final_price);
		}
		out.would_recover = positions
			.iter()
			.filter(|(w, _, h)| {
				liquidated.contains(w) && h * final_price / f64::from(XBTC_PRICE) >= 1.0
			})
			.count();
		out.recovery_blocks = match last_unrecovered {
			Some(b) if b >= last_row + TAIL_BLOCKS => None,
			Some(b) => Some(b + 1 - first_move),
			None => Some(0),
		};
		out.settle_blocks = match last_unsettled {
			Some(b) if b >= last_row + TAIL_BLOCKS => None,
			Some(b) => Some(b + 1 - first_move),
			None => Some(0),
		};
		out.makers_result = makers_value(final_price) - makers0;
		out
	})
}

fn plot(name: &str, off: &Outcome, on: &Outcome) -> Result<(), Box<dyn std::error::Error>> {
	use plotters::prelude::*;
	let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../results/cascade");
	std::fs::create_dir_all(dir)?;
	let path = format!("{dir}/{name}.svg");
	let root = SVGBackend::new(&path, (1000, 1200)).into_drawing_area();
	root.fill(&WHITE)?;
	let panels = root.split_evenly((4, 1));
	let last = off.samples.last().map(|s| s.block).unwrap_or(2);
	type Pick = fn(&Sample) -> f64;
	type Line<'a> = (&'a str, &'a Outcome, Pick, RGBColor);
	let series: [(&str, Vec<Line>); 4] = [
		(
			"XBTC price (USD): oracle, DEX breaker off, DEX breaker on",
			vec![
				("oracle", off, |s| s.oracle, BLACK),
				("DEX, breaker off", off, |s| s.dex, RED),
				("DEX, breaker on", on, |s| s.dex, BLUE),
			],
		),
		(
			"XBTC per block: sold on the DEX (red/blue), bought from auctions (magenta/cyan)",
			vec![
				("DEX, breaker off", off, |s| s.sold, RED),
				("DEX, breaker on", on, |s| s.sold, BLUE),
				("auctions, breaker off", off, |s| s.taken, MAGENTA),
				("auctions, breaker on", on, |s| s.taken, CYAN),
			],
		),
		(
			"positions below health 1, queued (on, green), live auctions (magenta/cyan)",
			vec![
				("below 1, breaker off", off, |s| f64::from(s.below_one), RED),
				("below 1, breaker on", on, |s| f64::from(s.below_one), BLUE),
				("queued, breaker on", on, |s| f64::from(s.queued), GREEN),
				("auctions, breaker off", off, |s| f64::from(s.auctions), MAGENTA),
				("auctions, breaker on", on, |s| f64::from(s.auctions), CYAN),
			],
		),
		(
			"insurance fund USDM (solid) and bad debt USDM (magenta/cyan)",
			vec![
				("insurance, breaker off", off, |s| s.insurance_usdm, RED),
				("insurance, breaker on", on, |s| s.insurance_usdm, BLUE),
				("bad debt, breaker off", off, |s| s.bad_debt, MAGENTA),
				("bad debt, breaker on", on, |s| s.bad_debt, CYAN),
			],
		),
	];
	for (panel, (title, lines)) in panels.iter().zip(series.iter()) {
		let values = lines.iter().flat_map(|(_, o, f, _)| o.samples.iter().map(*f));
		let (lo, hi) = values.fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
		let (lo, hi) = if hi > lo { (lo.min(0.0).min(lo), hi * 1.05) } else { (0.0, 1.0) };
		let lo = if lines.len() == 3 && title.starts_with("XBTC price") { lo.max(0.0) } else { lo };
		let mut chart = ChartBuilder::on(panel)
			.caption(*title, ("sans-serif", 16))
			.margin(10)
			.x_label_area_size(25)
			.y_label_area_size(70)
			.build_cartesian_2d(0u32..last, lo..hi)?;
		chart.configure_mesh().x_desc("block").draw()?;
		for (label, outcome, pick, color) in lines {
			let color = *color;
			chart
				.draw_series(LineSeries::new(
					outcome.samples.iter().map(|s| (s.block, pick(s))),
					&color,
				))?
				.label(*label)
				.legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
		}
		chart
			.configure_series_labels()
			.background_style(WHITE.mix(0.8))
			.border_style(BLACK)
			.draw()?;
	}
	root.present()?;
	Ok(())
}

/// Every block's readings, breaker off and on, as CSV beside the plot.
fn write_blocks(name: &str, off: &Outcome, on: &Outcome) {
	let mut csv = String::from(
		"block,market,oracle,dex_off,dex_on,sold_off,sold_on,taken_off,taken_on,below_one_off,below_one_on,queued_on,auctions_off,auctions_on,insurance_off,insurance_on,bad_debt_off,bad_debt_on,level_on\n",
	);
	for (a, b) in off.samples.iter().zip(&on.samples) {
		let _ = writeln!(
			csv,
			"{},{},{},{:.2},{:.2},{:.4},{:.4},{:.4},{:.4},{},{},{},{},{},{:.0},{:.0},{:.0},{:.0},{}",
			a.block,
			a.market,
			a.oracle,
			a.dex,
			b.dex,
			a.sold,
			b.sold,
			a.taken,
			b.taken,
			a.below_one,
			b.below_one,
			b.queued,
			a.auctions,
			b.auctions,
			a.insurance_usdm,
			b.insurance_usdm,
			a.bad_debt,
			b.bad_debt,
			b.level
		);
	}
	let path = format!("{}/../results/cascade/{name}.csv", env!("CARGO_MANIFEST_DIR"));
	std::fs::write(path, csv).expect("block readings written");
}

/// The scenario files (`scenarios/*.csv`), by name.
fn scenario_files() -> Vec<std::path::PathBuf> {
	let dir = std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios"));
	let mut files: Vec<_> = std::fs::read_dir(&dir)
		.expect("scenarios")
		.filter_map(|e| e.ok().map(|e| e.path()))
		.filter(|p| p.extension().is_some_and(|x| x == "csv"))
		.collect();
	files.sort();
	files
}

fn main() {
	let files = scenario_files();
	let only: Vec<String> = std::env::args().skip(1).collect();
	let mut out = String::new();
	let cpu = std::fs::read_to_string("/proc/cpuinfo")
		.ok()
		.and_then(|c| c.lines().find(|l| l.starts_with("model name")).map(|l| l.to_string()))
		.unwrap_or_default();
	let _ = writeln!(
		out,
		"# margincall-cascade-bench: {POSITIONS} positions of 0.1 XBTC (health 1.08-1.80) against the dev pool (20 XBTC / 1.2 M USDM), arbitrage {} USDM a block, auction taker {} USDM a block at 3% below the oracle, an own-funds keeper {} USDM a block (after the worker's unsigned settlements, as the priority bands order them) when the seized XBTC resold at the market less 1% pays; the signed calls (arbitrage, takes, the keeper's) fit in the normal class the worker's unsigned band leaves\n# machine: {cpu}; native runtime (release), in-memory state\n",
		ARBITRAGE_CAPACITY / UNIT,
		TAKER_CAPACITY / UNIT,
		KEEPER_CAPACITY / UNIT
	);
	let _ = writeln!(
		out,
		"| scenario | breaker | bad debt (USDM) | insurance used (USDM; the fund's result at the market's last price) | worst DEX-vs-oracle gap (DEX below the oracle) | positions liquidated | auctions started (XBTC bought) | healthy harmed | liquidated that would have recovered | blocks to recovery | blocks halted | attacker profit (USDM) | block space: the worker's largest share of the normal class; blocks × actors (keeper, taker, arbitrageur) left with a call that did not fit |"
	);
	let _ = writeln!(out, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
	for file in files {
		let scenario = load(&file);
		if !only.is_empty() && !only.contains(&scenario.name) {
			continue;
		}
		let off = simulate(&scenario, Setting::Off);
		let on = simulate(&scenario, Setting::On);
		// The guard's bound tried wider: what it costs the wick, what it saves the crash.
		let variants: Vec<(String, Outcome)> = [
			Setting::Guard(10),
			Setting::Guard(100),
			Setting::Depth(10),
			Setting::Depth(20),
			Setting::Depth(1000),
		]
		.into_iter()
		.map(|s| (s.label(), simulate(&scenario, s)))
		.collect();
		let runs = [(Setting::Off.label(), &off), (Setting::On.label(), &on)]
			.into_iter()
			.chain(variants.iter().map(|(l, o)| (l.clone(), o)));
		for (label, o) in runs {
			let line = format!(
				"| {} | {label} | {:.0} | {:.0} ({:+.0}) | {:.1}% ({:.1}%) | {} ({} by the keeper) | {} ({:.2}) | {} | {} | {} | {} | {} | {:.0}%; {}{} |",
				scenario.name,
				o.bad_debt,
				o.insurance_used,
				o.insurance_result,
				o.worst_gap * 100.0,
				o.worst_below.max(0.0) * 100.0,
				o.liquidated,
				o.by_keeper,
				o.auctions,
				o.taken,
				o.harmed,
				o.would_recover,
				o.recovery_blocks
					.map(|b| b.to_string())
					.unwrap_or_else(|| "not within the run".into()),
				o.halted_blocks,
				o.attacker_profit
					.map(|p| match o.pump_borrowed {
						d if d > 0.0 => format!(
							"{p:.0} (borrowed {d:.0}; {} junk feeds refused)",
							o.junk_refused
						),
						_ => format!("{p:.0}"),
					})
					.unwrap_or_else(|| "-".into()),
				o.worker_share * 100.0,
				o.crowded_out,
				if o.spam_fees > 0.0 {
					format!(" (the spammer paid {:.0} MCL in fees)", o.spam_fees)
				} else {
					String::new()
				},
			);
			println!("{line}");
			let _ = writeln!(out, "{line}");
			assert_eq!(o.harmed, 0, "a healthy position was liquidated");
		}
		if let Err(e) = plot(&scenario.name, &off, &on) {
			eprintln!("plot of {} failed: {e}", scenario.name);
		}
		write_blocks(&scenario.name, &off, &on);
	}
	market_table(&only, &cpu);
	print!("{out}");
	let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../results/cascade.txt");
	std::fs::write(path, &out).expect("results written");
	println!("written to benchmarking/results/cascade.txt and benchmarking/results/cascade/*.svg");
}

/// Issue #28's measure: every scenario with the breaker on, with and without market makers'
/// standing bids and borrowers opted in to pre-liquidation (with the keepers, the auction taker
/// and the arbitrageur of every run, all competing for the block's room); written to
/// `benchmarking/results/cascade-market.txt`.
fn market_table(only: &[String], cpu: &str) {
	let files = scenario_files();
	let mut out = String::new();
	let _ = writeln!(
		out,
		"# margincall-cascade-bench, issue #28: the breaker on; market makers: {} (USDM capital, discount), bids of at most {} USDM, what they buy resold into the pool the next block, a bid cancelled while it would buy at a loss (the oracle above the market by more than its discount less {:.1}%); opt-in: every other position (150 of 300) with band {:.2} (or its starting health less 0.02), {}% close share at health 1 scaled by the depth in the band, {}% bonus, served by a keeper with {} USDM a block (when the collateral, at the market less 1%, pays) who resells into the pool the next block; every actor's call in the block's room\n# machine: {cpu}; native runtime (release), in-memory state\n",
		MAKERS.iter().map(|(c, d)| format!("{}k at {:.1}%", c / UNIT / 1_000, f64::from(*d) / 1e4)).collect::<Vec<_>>().join(", "),
		MAKER_BID / UNIT,
		MAKER_MARGIN * 100.0,
		PRE_BAND.0 as f64 / PRE_BAND.1 as f64,
		PRE_CLOSE_PERCENT,
		PRE_BONUS_PERCENT,
		PRE_CAPACITY / UNIT,
	);
	let _ = writeln!(
		out,
		"| scenario | actors | bad debt (USDM) | insurance used (USDM; the fund's result at the market's last price) | penalty paid by borrowers (USDM) | the opt-in half: penalty (USDM) on debt repaid (USDM), per 100 repaid | seized value by route: bids / DEX / backstop / auction / keeper / pre-liquidation | blocks to settle | makers' result (USDM) | auction takes: USDM paid, blocks waited (by value), paid / worth at the oracle at the start; an intent's gain at most (USDM) |"
	);
	let _ = writeln!(out, "|---|---|---:|---:|---:|---:|---|---:|---:|---|");
	for file in files {
		let scenario = load(&file);
		if !only.is_empty() && !only.contains(&scenario.name) {
			continue;
		}
		for actors in [
			Actors { makers: false, pre: false },
			Actors { makers: true, pre: false },
			Actors { makers: false, pre: true },
			Actors { makers: true, pre: true },
		] {
			let o = simulate_with(&scenario, Setting::On, actors);
			let f = &o.fills;
			let share = |v: f64| if f.total() > 0.0 { v / f.total() * 100.0 } else { 0.0 };
			let line = format!(
				"| {} | {} | {:.0} | {:.0} ({:+.0}) | {:.0} | {:.0} on {:.0}: {:.2} | {:.0}% / {:.0}% / {:.0}% / {:.0}% / {:.0}% / {:.0}% of {:.0} | {} | {} | {} |",
				scenario.name,
				actors.label(),
				o.bad_debt,
				o.insurance_used,
				o.insurance_result,
				f.penalty,
				f.penalty_half,
				f.repaid_half,
				if f.repaid_half > 0.0 { f.penalty_half / f.repaid_half * 100.0 } else { 0.0 },
				share(f.bids),
				share(f.dex),
				share(f.backstop),
				share(f.auction),
				share(f.keeper),
				share(f.pre),
				f.total(),
				o.settle_blocks.map(|b| b.to_string()).unwrap_or_else(|| "not within the run".into()),
				if actors.makers { format!("{:+.0}", o.makers_result) } else { "-".into() },
				if f.auction_paid > 0.0 {
					format!(
						"{:.0}, {:.1}, {:.3}; {:.0}",
						f.auction_paid,
						f.auction_wait / f.auction_paid,
						f.auction_paid / f.auction_at_start,
						f.intent_gain
					)
				} else {
					"-".into()
				},
			);
			println!("{line}");
			let _ = writeln!(out, "{line}");
			assert_eq!(o.harmed, 0, "a healthy position was liquidated");
		}
	}
	print!("{out}");
	let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../results/cascade-market.txt");
	std::fs::write(path, &out).expect("results written");
}
