//! Same-block settlement: what the node's service (`node/src/same_block.rs`) asks the runtime
//! when an oracle feed enters its transaction pool. The feed is applied on the best block's
//! state as the next block would apply it, and the liquidation pallet plans the batches the
//! new prices make due, exactly as its offchain worker plans them; each goes back as an
//! unsigned `settle_after_feed` that requires the feed's transaction, so the block that
//! carries the price carries the settlement, or, if the feed never lands, nothing does.
//! Nothing of the dry run is kept.

use crate::{
	AccountId, Liquidation, Nonce, Runtime, RuntimeCall, RuntimeOrigin, System, UncheckedExtrinsic,
};
use alloc::vec::Vec;
use frame_support::{
	storage::{with_transaction, TransactionOutcome},
	traits::{Get, UnfilteredDispatchable},
};
use sp_runtime::{generic::Preamble, traits::One, DispatchError, MultiAddress};

/// The signer and nonce of `xt` if it is a signed `oracle.feed_values` (the tag its
/// transaction provides is `(signer, nonce)`, `CheckNonce`'s); the node's cheap filter too.
pub fn feed_of(xt: &UncheckedExtrinsic) -> Option<(AccountId, Nonce)> {
	let Preamble::Signed(MultiAddress::Id(feeder), _, extension) = &xt.preamble else {
		return None;
	};
	if !matches!(xt.function, RuntimeCall::Oracle(orml_oracle::Call::feed_values { .. })) {
		return None;
	}
	Some((feeder.clone(), extension.5 .0))
}

/// The settlements `feed` makes due (empty unless it is a signed `oracle.feed_values`).
pub fn settlements_after(feed: UncheckedExtrinsic) -> Vec<UncheckedExtrinsic> {
	let Some((feeder, nonce)) = feed_of(&feed) else { return Vec::new() };
	plan_after(feeder, nonce, feed.function)
}

/// The settlements the feed `call` by `feeder` (its transaction's nonce `nonce`) makes due:
/// the call dispatched on this state as in the next block, the batches planned, nothing kept.
pub fn plan_after(feeder: AccountId, nonce: Nonce, call: RuntimeCall) -> Vec<UncheckedExtrinsic> {
	let at = System::block_number();
	let planned = with_transaction(|| {
		// As in the next block: a block's caps are new there, and the feed lands there.
		System::set_block_number(at.saturating_add(One::one()));
		if call.clone().dispatch_bypass_filter(RuntimeOrigin::signed(feeder.clone())).is_err() {
			return TransactionOutcome::Rollback(Ok::<_, DispatchError>(Vec::new()));
		}
		let limit = <Runtime as pallet_liquidation::Config>::MaxChecksPerRun::get();
		TransactionOutcome::Rollback(Ok(Liquidation::plan_batches(limit)))
	})
	.unwrap_or_default();
	planned
		.into_iter()
		.filter_map(|(borrowers, witness)| {
			let call = pallet_liquidation::Call::settle_after_feed {
				borrowers: borrowers.try_into().ok()?,
				witness,
				feed: (feeder.clone(), nonce),
				at,
			};
			Some(UncheckedExtrinsic::new_bare(RuntimeCall::Liquidation(call)))
		})
		.collect()
}
