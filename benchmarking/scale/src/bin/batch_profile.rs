//! Where a batched position's time goes: a harness to run under a profiler (not a benchmark;
//! the weights are `benchmark pallet`'s, the throughput `margincall-scale-bench`'s).
//!
//! The development genesis of the real runtime (natively), `positions` narrow XBTC/USDM
//! borrowers all put below 1 by a 20% drop, then `rounds` dry runs of full batches over them
//! (`Liquidation::try_settle_batch`, rolled back: each round settles the same state), so that
//! the settlement dominates a profile of the whole run. Prints the native time per position.
//!
//! `perf record -g -- $CARGO_TARGET_DIR/release/margincall-batch-profile 2000 40`, then
//! `perf report --no-children` (see benchmarking/README.md, "Where a batched position's
//! time goes").

use frame_support::traits::Get;
use margincall_runtime::{assets::XBTC, Liquidation, Runtime, UNIT};
use margincall_scale_bench::*;
use pallet_liquidation::BatchWitness;
use std::time::Instant;

fn main() {
	let mut args = std::env::args().skip(1).map(|a| a.parse::<u64>().expect("numbers"));
	let positions = args.next().unwrap_or(2_000);
	let rounds = args.next().unwrap_or(40);
	let mut ext = genesis();
	ext.execute_with(|| {
		frame_system::Pallet::<Runtime>::set_block_number(1);
		pallet_timestamp::Now::<Runtime>::put(T0);
		feed(XBTC_PRICE);
		uncap(margincall_runtime::assets::USDM);
		uncap(XBTC);
		let lender = account(u64::MAX);
		let liquidity = u128::from(positions).saturating_mul(400).saturating_mul(UNIT);
		use frame_support::traits::fungibles::Mutate;
		margincall_runtime::Assets::mint_into(
			margincall_runtime::assets::USDM,
			&lender,
			liquidity.saturating_mul(2),
		)
		.expect("mint");
		dispatch(
			Some(&lender),
			margincall_runtime::RuntimeCall::Lending(pallet_lending::Call::supply {
				asset: margincall_runtime::assets::USDM,
				amount: liquidity,
			}),
		);
		// Health in [1.20, 1.25): every position below 1 after the drop (468 USDM of
		// liquidation value per 0.01 XBTC at 60,000 and 78%).
		let liquidation_value = 468u128 * UNIT;
		let borrowers: Vec<_> = (0..positions).map(account).collect();
		for (i, who) in borrowers.iter().enumerate() {
			let health_milli = 1_200 + (i as u128 * 7) % 50;
			open_position(who, COLLATERAL, liquidation_value * 1_000 / health_milli);
		}
		deepen_pool((u128::from(positions) / 20).max(2_000) / 2);
		<margincall_runtime::Oracle as frame_support::traits::OnFinalize<u32>>::on_finalize(1);
		frame_system::Pallet::<Runtime>::set_block_number(2);
		pallet_timestamp::Now::<Runtime>::put(T0 + 6_000);
		arbitrage_to(u128::from(XBTC_PRICE / 5 * 4));
		feed(XBTC_PRICE / 5 * 4);
		let max: u32 = <Runtime as pallet_liquidation::Config>::MaxSettleBatch::get();
		let witness = BatchWitness { pairs: 1, wide: 0, bids: u32::MAX };
		let chunks: Vec<&[_]> = borrowers.chunks(max as usize).collect();
		let start = Instant::now();
		let mut settled = 0usize;
		for _ in 0..rounds {
			for chunk in &chunks {
				let report = Liquidation::try_settle_batch(chunk, witness).expect("a batch");
				settled += report.settled.len();
			}
		}
		let elapsed = start.elapsed();
		assert!(settled > 0, "the batches settle");
		println!(
			"{settled} positions settled (dry runs) in {:.3} s: {:.1} µs a position (native)",
			elapsed.as_secs_f64(),
			elapsed.as_secs_f64() * 1e6 / settled as f64
		);
	})
}
