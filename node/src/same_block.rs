//! Same-block settlement (#27): a service of a validator's node that watches its transaction
//! pool for oracle feeds and, for each, asks the runtime which positions the pending prices
//! put below 1 (`SameBlockApi::settlements_after`: the feed applied on the best block's state
//! as the next block would, the batches planned as the offchain worker plans them) and
//! submits their settlement (`liquidation.settle_after_feed`, unsigned, local). Each requires
//! the feed's transaction (its `(signer, nonce)` tag), so a block builder takes it right after
//! the feed: the block that carries the price carries the liquidation. If the feed does not
//! land, nothing does; if the price lands otherwise than planned, the settlement's check at
//! inclusion drops it. The offchain worker stays the path that always works (a block later).
//!
//! Two tasks: a reader drains the pool's import notifications (the fork-aware pool drops a
//! subscriber whose queue of 1,024 fills) and keeps, per feeder, its latest pending feed; a
//! planner asks the runtime about each in turn (one runtime call at a time). Each runs on a
//! blocking thread of its own. The reader resubscribes if the stream ends. Logs under `margincall::same-block`.

use codec::{Decode, Encode};
use futures::StreamExt;
use margincall_runtime::{
	opaque::Block, same_block::feed_of, AccountId, Nonce, UncheckedExtrinsic,
};
use pallet_liquidation_runtime_api::SameBlockApi;
use sc_transaction_pool_api::{InPoolTransaction, LocalTransactionPool, TransactionPool};
use sp_api::ProvideRuntimeApi;
use sp_blockchain::HeaderBackend;
use std::{
	collections::BTreeMap,
	sync::{Arc, Mutex},
	time::Duration,
};

const LOG: &str = "margincall::same-block";

type Extrinsic = <Block as sp_runtime::traits::Block>::Extrinsic;
/// Feeds waiting for the planner: the latest one of each feeder (by nonce).
type Pending = Arc<Mutex<BTreeMap<AccountId, (Nonce, Extrinsic)>>>;

/// The reader: pool notifications → pending feeds (cheap: a decode per ready transaction).
pub async fn read<P>(pool: Arc<P>, pending: Pending, wake: futures::channel::mpsc::Sender<()>)
where
	P: TransactionPool<Block = Block> + 'static,
{
	let mut wake = wake;
	loop {
		let mut imported = pool.import_notification_stream();
		while let Some(hash) = imported.next().await {
			let Some(tx) = pool.ready_transaction(&hash) else { continue };
			let xt: &Extrinsic = tx.data();
			// The runtime's own view of the bytes (an opaque extrinsic encodes as the real one).
			let Ok(decoded) = UncheckedExtrinsic::decode(&mut &xt.encode()[..]) else { continue };
			let Some((feeder, nonce)) = feed_of(&decoded) else { continue };
			{
				let Ok(mut pending) = pending.lock() else { return };
				match pending.get(&feeder) {
					Some((queued, _)) if *queued >= nonce => continue,
					_ => {
						pending.insert(feeder, (nonce, xt.clone()));
					},
				}
			}
			// A full wake-up channel means the planner already has work to pick up.
			let _ = wake.try_send(());
		}
		log::warn!(target: LOG, "the pool's import notifications ended; resubscribing");
		// (On a blocking thread of its own: see `service.rs`.)
		std::thread::sleep(Duration::from_secs(1));
	}
}

/// The planner: each pending feed → the runtime's plan → the pool.
pub async fn plan<C, P>(
	client: Arc<C>,
	pool: Arc<P>,
	pending: Pending,
	mut woken: futures::channel::mpsc::Receiver<()>,
) where
	C: ProvideRuntimeApi<Block> + HeaderBackend<Block> + Send + Sync + 'static,
	C::Api: SameBlockApi<Block>,
	P: LocalTransactionPool<Block = Block> + 'static,
{
	while woken.next().await.is_some() {
		loop {
			let next = match pending.lock() {
				Ok(mut pending) => pending.pop_first(),
				Err(_) => return,
			};
			let Some((feeder, (nonce, xt))) = next else { break };
			let best = client.info().best_hash;
			let settlements = match client.runtime_api().settlements_after(best, xt) {
				Ok(settlements) => settlements,
				Err(e) => {
					log::debug!(target: LOG, "settlements_after failed at {best:?}: {e}");
					continue;
				},
			};
			if settlements.is_empty() {
				log::debug!(target: LOG, "feed ({feeder}, nonce {nonce}): nothing to settle");
				continue;
			}
			let n = settlements.len();
			let mut submitted = 0usize;
			for settlement in settlements {
				match pool.submit_local(best, settlement) {
					Ok(_) => submitted = submitted.saturating_add(1),
					Err(e) => log::debug!(target: LOG, "settlement refused by the pool: {e:?}"),
				}
			}
			log::info!(
				target: LOG,
				"feed ({feeder}, nonce {nonce}): {submitted} of {n} settlement batch(es) submitted after it"
			);
		}
	}
}
