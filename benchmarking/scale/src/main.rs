//! The risk index at scale (issue #14's benchmark, detection part).
//!
//! For each size N: the development genesis of the real runtime (natively), N borrowers each
//! supplying 0.01 XBTC and borrowing USDM at a health drawn evenly from [1.2, 2.2] (a
//! deterministic sequence) through the lending pallet's calls (so the risk index is kept by its
//! hook, as on chain); then the feeders drop XBTC by 20%, which puts every position below
//! health 1.25 (about 5%) under 1. It measures:
//!
//! - the time to find every unhealthy position as the offchain worker does (the index read,
//!   page by page, and each candidate re-checked with `account_health`), against a full scan;
//! - how selective the index is: positions read against positions below 1;
//! - the weight of one settlement, single (`settle_dex`, by the weights) and batched
//!   (`settle_batch` per position, a narrow position in a full batch of one pair);
//! - batches settled for real: the DEX pool is deepened (at the genesis ratio, to about 100
//!   times what is sold) and an arbitrageur trades it to the oracle's new price after the drop
//!   and after every block; each block is filled as the offchain worker sizes its
//!   batches (`batch_prefix`, a dry run, `settle_batch_unsigned`) and as the runtime admits
//!   them (`claim_unsigned`: each call's declared weight, validation included, must fit the
//!   unsigned share left; a batch claims the validation of the borrowers its check read, and
//!   after dispatch the unused part is returned, `return_unsigned`, session 21), until every
//!   unhealthy position is settled: settlements in the first (full) block, and blocks to
//!   settle all;
//! - same-block settlement (#27): the node's service is given the drop's feed before it lands
//!   (`same_block::plan_after`, the core of `SameBlockApi::settlements_after`), timed; its
//!   batches are applied in the price's own block right after the feed, then the worker's
//!   from the next block on what is left: blocks from the price to the last settlement.
//!
//! The circuit breaker's hooks are not run here (its levels stay `Normal`, its guard idle):
//! this measures detection and settlement throughput; `margincall-cascade-bench` measures the
//! breaker.
//!
//! `cargo run --release -p margincall-scale-bench -- 10000 100000 1000000`
//! (see README); it prints a table and writes it to `benchmarking/results/scale.txt`.

use frame_support::{
	traits::{fungibles::Mutate, Get},
	weights::Weight,
};
use margincall_runtime::{
	assets::{USDM, XBTC},
	AccountId, Lending, Liquidation, Runtime, RuntimeCall, RuntimeOrigin, UNIT,
};
use margincall_scale_bench::*;
use pallet_liquidation::WeightInfo as _;
use sp_runtime::traits::Dispatchable;
use std::{fmt::Write as _, time::Instant};

struct Row {
	n: u64,
	build_s: f64,
	unhealthy: u64,
	read: u64,
	find_ms: f64,
	scan_ms: f64,
	settle: Weight,
	per_block: usize,
	batched: Weight,
	batch_first_block: u64,
	batch_blocks: u64,
	batch_s: f64,
	singles: u64,
	plan_ms: f64,
	same_block: u64,
}

/// Settles `candidates` block by block as the offchain worker and a block builder would.
/// Returns (settled in the first block, blocks, seconds of native execution, single
/// settlements).
fn settle_in_blocks(candidates: Vec<AccountId>, price: u128) -> (u64, u64, f64, u64) {
	// The worker's share of the block (#26: unsigned calls take at most half the normal class).
	let normal = Liquidation::unsigned_budget();
	let mut queue: std::collections::VecDeque<AccountId> = candidates.into();
	let (mut first, mut blocks, mut singles) = (0u64, 0u64, 0u64);
	let start = Instant::now();
	while !queue.is_empty() {
		blocks += 1;
		assert!(blocks < 100_000, "settlement does not progress");
		let mut used = Weight::zero();
		let mut settled = 0u64;
		loop {
			let left = normal.saturating_sub(used);
			let (take, witness) = Liquidation::batch_prefix(queue.iter(), left);
			if take == 0 {
				break;
			}
			// In order, as the worker sends them (an unsigned batch's borrowers must be, and its
			// check at inclusion is charged up to the first due one: session 28 found this
			// bench's unsorted batches charged up to a random one, the worker's row 13% low).
			let mut chunk: Vec<AccountId> = queue.drain(..take).collect();
			chunk.sort();
			let dry = Liquidation::try_settle_batch(&chunk, witness).expect("the batch dry-runs");
			let witness = Liquidation::sent_witness(&witness, &dry);
			for (who, why) in dry.skipped {
				// `settle` on its own (the waterfall, the backstop); counted, not batched.
				let call = RuntimeCall::Liquidation(pallet_liquidation::Call::settle_unsigned {
					borrower: who.clone(),
					at: frame_system::Pallet::<Runtime>::block_number(),
				});
				let post = call.dispatch(RuntimeOrigin::none()).unwrap_or_else(|e| {
					panic!("{who:?} skipped ({why:?}) and not settled alone: {e:?}")
				});
				singles += 1;
				used = used.saturating_add(
					post.actual_weight.unwrap_or_else(Liquidation::settle_unsigned_weight),
				);
			}
			if dry.settled.is_empty() {
				continue;
			}
			let n = dry.settled.len() as u64;
			// What the runtime claims of the unsigned share at inclusion (`claim_unsigned`: the
			// declared weight, validation included) must fit; after dispatch the unused part is
			// returned (`return_unsigned`): the share keeps what the batch did.
			let declared = Liquidation::settle_batch_unsigned_weight(n as u32, &witness);
			assert!(declared.all_lte(normal.saturating_sub(used)), "the batch fits the block");
			let mut borrowers = dry.settled;
			borrowers.sort();
			let call = RuntimeCall::Liquidation(pallet_liquidation::Call::settle_batch_unsigned {
				borrowers: borrowers.try_into().expect("within MaxSettleBatch"),
				witness,
				at: frame_system::Pallet::<Runtime>::block_number(),
			});
			let post = call.dispatch(RuntimeOrigin::none()).expect("the batch settles");
			// Its check at inclusion read its first borrower (due): the validation declared
			// for the rest was not claimed (`pre_dispatch`), and the unused part of the claim
			// is returned after dispatch: the share keeps what it did, its actual weight (its
			// check as it ran included).
			used = used.saturating_add(post.actual_weight.unwrap_or(declared).min(declared));
			settled += n;
		}
		if blocks == 1 {
			first = settled;
		}
		arbitrage_to(price);
	}
	(first, blocks, start.elapsed().as_secs_f64(), singles)
}

fn run(n: u64) -> Row {
	let mut ext = genesis();
	ext.execute_with(|| {
		frame_system::Pallet::<Runtime>::set_block_number(1);
		// Aura checks a slot on `set_timestamp`; the benchmark needs only the time.
		pallet_timestamp::Now::<Runtime>::put(T0);
		feed(XBTC_PRICE);
		uncap(USDM);
		uncap(XBTC);
		let lender = account(u64::MAX);
		let liquidity =
			u128::from(n).saturating_mul(400).saturating_mul(UNIT).max(UNIT * 1_000_000);
		margincall_runtime::Assets::mint_into(USDM, &lender, liquidity.saturating_mul(2))
			.expect("mint");
		dispatch(
			Some(&lender),
			RuntimeCall::Lending(pallet_lending::Call::supply { asset: USDM, amount: liquidity }),
		);
		// Liquidation value of 0.01 XBTC at 60,000 and 78%: 468 USDM; debt = 468 / health.
		let liquidation_value = 468u128 * UNIT;
		let start = Instant::now();
		for i in 0..n {
			let who = account(i);
			// Health evenly over [1.2, 2.2), in thousandths, by a fixed stride.
			let health_milli = 1_200 + (i.wrapping_mul(7_919) % 1_000) as u128;
			open_position(&who, COLLATERAL, liquidation_value * 1_000 / health_milli);
		}
		let build_s = start.elapsed().as_secs_f64();
		// The pool about 100 times what is sold (some 0.006 of an unhealthy position's 0.01
		// XBTC each; about 5% of the positions go below 1): deepened before the drop, so that
		// the same-block service plans on the pool the price's block has.
		deepen_pool((u128::from(n) / 20).max(2_000) / 2);
		// The next block (a feeder feeds once a block): XBTC -20%. Below 1: health < 1.25.
		<margincall_runtime::Oracle as frame_support::traits::OnFinalize<u32>>::on_finalize(1);
		frame_system::Pallet::<Runtime>::set_block_number(2);
		pallet_timestamp::Now::<Runtime>::put(T0 + 6_000);
		// The market moved first: an arbitrageur trades the pool to it, and the feeders report
		// it; the oracle guard takes the pool's move as corroboration and accepts the drop in
		// its own block (without it, the drop is held until the next block's feed).
		arbitrage_to(u128::from(XBTC_PRICE / 5 * 4));
		// The node's same-block service: the drop's feed seen in the pool before it lands
		// (`SameBlockApi::settlements_after`, here its core natively): the batches it plans.
		let feeder = {
			use frame_support::traits::SortedMembers;
			margincall_runtime::OracleMembership::sorted_members()
				.first()
				.cloned()
				.expect("a feeder")
		};
		let values = frame_support::BoundedVec::truncate_from(vec![
			(USDM, margincall_runtime::configs::Price::from_u32(1)),
			(XBTC, margincall_runtime::configs::Price::from_u32(XBTC_PRICE / 5 * 4)),
		]);
		let start = Instant::now();
		let planned = margincall_runtime::same_block::plan_after(
			feeder.clone(),
			frame_system::Pallet::<Runtime>::account_nonce(&feeder),
			RuntimeCall::Oracle(orml_oracle::Call::feed_values { values }),
		);
		let plan_ms = start.elapsed().as_secs_f64() * 1e3;
		feed(XBTC_PRICE / 5 * 4);
		assert_eq!(margincall_runtime::Breaker::held_price(&XBTC), None, "the drop is accepted");

		// What the worker does: read the index page by page (1,000 a run) and re-check each.
		let start = Instant::now();
		let mut cursor = None;
		let mut read = 0u64;
		let mut found_accounts = Vec::new();
		loop {
			let (page, next) = Liquidation::at_risk(cursor, 1_000);
			read += page.len() as u64;
			found_accounts.extend(
				page.into_iter()
					.filter(|w| Lending::account_health(w).is_ok_and(|h| h.is_liquidatable())),
			);
			match next {
				Some(next) => cursor = Some(next),
				None => break,
			}
		}
		let find_ms = start.elapsed().as_secs_f64() * 1e3;
		let found = found_accounts.len() as u64;
		// A full scan, for comparison (and the truth).
		let start = Instant::now();
		let unhealthy = (0..n)
			.filter(|i| Lending::account_health(&account(*i)).is_ok_and(|h| h.is_liquidatable()))
			.count() as u64;
		let scan_ms = start.elapsed().as_secs_f64() * 1e3;
		assert_eq!(found, unhealthy, "the index must find every unhealthy position");
		let settle = <Runtime as pallet_liquidation::Config>::WeightInfo::settle_dex();
		let per_block = pallet_liquidation::Pallet::<Runtime>::settlements_per_block();
		// Batched: a narrow position's share of a full batch of one pair.
		let max: u32 = <Runtime as pallet_liquidation::Config>::MaxSettleBatch::get();
		// (With one read a position for the look at its bucket when its key's top is lowered,
		// which the batch charges on top of the benchmark: `batch_weight`.)
		let full = <Runtime as pallet_liquidation::Config>::WeightInfo::settle_batch(max - 1)
			.saturating_add(<Runtime as frame_system::Config>::DbWeight::get().reads(max.into()));
		let batched = Weight::from_parts(
			full.ref_time() / u64::from(max),
			full.proof_size() / u64::from(max),
		);
		// The price's block: the service's settlements, right after the feed (each requires
		// it), within the unsigned share of the block.
		let price = u128::from(XBTC_PRICE / 5 * 4);
		let mut same_block = 0u64;
		for xt in planned {
			let RuntimeCall::Liquidation(pallet_liquidation::Call::settle_after_feed {
				ref borrowers,
				..
			}) = xt.function
			else {
				panic!("a settlement after the feed: {:?}", xt.function)
			};
			let n = borrowers.len() as u64;
			xt.function.dispatch(RuntimeOrigin::none()).expect("the same-block batch settles");
			same_block += n;
		}
		// The pool traded to the oracle's price after the block and after every block.
		arbitrage_to(price);
		// The worker, from the next block, on what is left.
		found_accounts.retain(Liquidation::may_settle);
		let (batch_first_block, batch_blocks, batch_s, singles) =
			settle_in_blocks(found_accounts, price);
		let left = (0..n)
			.filter(|i| Lending::account_health(&account(*i)).is_ok_and(|h| h.is_liquidatable()))
			.count();
		assert_eq!(left, 0, "every unhealthy position is settled");
		Row {
			n,
			build_s,
			unhealthy,
			read,
			find_ms,
			scan_ms,
			settle,
			per_block,
			batched,
			batch_first_block,
			batch_blocks,
			batch_s,
			singles,
			plan_ms,
			same_block,
		}
	})
}

fn main() {
	let sizes: Vec<u64> =
		std::env::args().skip(1).map(|a| a.parse().expect("sizes are numbers")).collect();
	let sizes = if sizes.is_empty() { vec![10_000, 100_000] } else { sizes };
	let mut out = String::new();
	let cpu = std::fs::read_to_string("/proc/cpuinfo")
		.ok()
		.and_then(|c| c.lines().find(|l| l.starts_with("model name")).map(|l| l.to_string()))
		.unwrap_or_default();
	let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
	let _ = writeln!(
		out,
		"# margincall-scale-bench {}\n# machine: {cpu}, {cores} cores; native runtime (release), in-memory state\n",
		sizes.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(" ")
	);
	let _ = writeln!(
		out,
		"| positions | build (s) | below 1 after -20% | read by the index | found in (ms) | full scan (ms) | single: weight (ref_time µs / proof B) | single: per block | single: blocks | batched: weight per position | same-block service: planned in (ms) | settled in the price's own block | worker's batches from the next block: settled in its first | blocks from the price to the last settlement (0 = the price's block) | batched: native execution (s) |"
	);
	let _ = writeln!(
		out,
		"|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	);
	for n in sizes {
		let r = run(n);
		let blocks = r.unhealthy.div_ceil(r.per_block.max(1) as u64);
		let line = format!(
			"| {} | {:.1} | {} | {} ({:.2}x) | {:.1} | {:.1} | {} / {} | {} | {} | {} / {} | {:.0} | {} | {} | {}{} | {:.1} |",
			r.n,
			r.build_s,
			r.unhealthy,
			r.read,
			r.read as f64 / r.unhealthy.max(1) as f64,
			r.find_ms,
			r.scan_ms,
			r.settle.ref_time() / 1_000_000,
			r.settle.proof_size(),
			r.per_block,
			blocks,
			r.batched.ref_time() / 1_000_000,
			r.batched.proof_size(),
			r.plan_ms,
			r.same_block,
			r.batch_first_block,
			r.batch_blocks,
			if r.singles > 0 { format!(" ({} alone)", r.singles) } else { String::new() },
			r.batch_s,
		);
		println!("{line}");
		let _ = writeln!(out, "{line}");
	}
	print!("{out}");
	let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../results/scale.txt");
	std::fs::write(path, &out).expect("results written");
	println!("written to benchmarking/results/scale.txt");
}
