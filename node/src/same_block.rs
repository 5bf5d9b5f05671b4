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
//! Runs on a blocking thread (each question executes the runtime); logs under
//! `margincall::same-block`.

use codec::{Decode, Encode};
use futures::StreamExt;
use margincall_runtime::{opaque::Block, same_block::feed_of, UncheckedExtrinsic};
use pallet_liquidation_runtime_api::SameBlockApi;
use sc_transaction_pool_api::{InPoolTransaction, LocalTransactionPool, TransactionPool};
use sp_api::ProvideRuntimeApi;
use sp_blockchain::HeaderBackend;
use std::sync::Arc;

const LOG: &str = "margincall::same-block";

/// The service's loop: until the pool's notification stream ends.
pub async fn run<C, P>(client: Arc<C>, pool: Arc<P>)
where
	C: ProvideRuntimeApi<Block> + HeaderBackend<Block> + Send + Sync + 'static,
	C::Api: SameBlockApi<Block>,
	P: TransactionPool<Block = Block> + LocalTransactionPool<Block = Block> + 'static,
{
	let mut imported = pool.import_notification_stream();
	while let Some(hash) = imported.next().await {
		let Some(tx) = pool.ready_transaction(&hash) else { continue };
		let xt: &<Block as sp_runtime::traits::Block>::Extrinsic = tx.data();
		// The runtime's own view of the bytes (an opaque extrinsic encodes as the real one).
		let Ok(decoded) = UncheckedExtrinsic::decode(&mut &xt.encode()[..]) else { continue };
		let Some((feeder, nonce)) = feed_of(&decoded) else { continue };
		let best = client.info().best_hash;
		let settlements = match client.runtime_api().settlements_after(best, xt.clone()) {
			Ok(settlements) => settlements,
			Err(e) => {
				log::warn!(target: LOG, "settlements_after failed at {best:?}: {e}");
				continue;
			},
		};
		if settlements.is_empty() {
			log::debug!(target: LOG, "feed {hash:?} ({feeder}, nonce {nonce}): nothing to settle");
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
			"feed {hash:?} ({feeder}, nonce {nonce}): {submitted} of {n} settlement batch(es) submitted after it"
		);
	}
}
