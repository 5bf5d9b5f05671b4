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
	traits::Get,
};
use sp_runtime::{
	generic::Preamble,
	traits::{Checkable, Dispatchable, One},
	DispatchError, MultiAddress,
};

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

/// The settlements `feed` makes due: empty unless it is a signed `oracle.feed_values` whose
/// signature checks and whose nonce has not landed (anyone may call this through `state_call`:
/// a forged or replayed feed costs a signature check, not a plan).
pub fn settlements_after(feed: UncheckedExtrinsic) -> Vec<UncheckedExtrinsic> {
	let Some((feeder, nonce)) = feed_of(&feed) else { return Vec::new() };
	if nonce < System::account_nonce(&feeder) {
		return Vec::new();
	}
	let context = frame_system::ChainContext::<Runtime>::default();
	if feed.clone().check(&context).is_err() {
		return Vec::new();
	}
	plan_after(feeder, nonce, feed.function)
}

/// The settlements the feed `call` by `feeder` (its transaction's nonce `nonce`) makes due:
/// the call dispatched on this state as in the next block, the batches planned, nothing kept.
/// A feed that moves neither a combined price nor the breaker's quote of one (a feeder's
/// turn that does not change the quorum's answer) plans nothing.
pub fn plan_after(feeder: AccountId, nonce: Nonce, call: RuntimeCall) -> Vec<UncheckedExtrinsic> {
	let at = System::block_number();
	let assets: Vec<u32> = match &call {
		RuntimeCall::Oracle(orml_oracle::Call::feed_values { values }) => {
			values.iter().map(|(asset, _)| *asset).collect()
		},
		_ => return Vec::new(),
	};
	// What a feed can move for a liquidation: the combined price, and the breaker's quote of
	// it (a jump it holds leaves the combined price where it was, and still liquidates the
	// positions below the severity bound).
	let combined = || -> Vec<_> {
		assets
			.iter()
			.map(|asset| {
				(
					orml_oracle::Pallet::<Runtime>::get(asset).map(|v| v.value),
					pallet_breaker::Quotes::<Runtime>::get(asset),
				)
			})
			.collect()
	};
	let planned = with_transaction(|| {
		// As in the next block: a block's caps are new there, and the feed lands there.
		Liquidation::dry_run_as_of(at.saturating_add(One::one()));
		let before = combined();
		// Through the runtime's call filter, as the feed's own dispatch goes.
		if call.clone().dispatch(RuntimeOrigin::signed(feeder.clone())).is_err() {
			return TransactionOutcome::Rollback(Ok::<_, DispatchError>(Vec::new()));
		}
		if combined() == before {
			return TransactionOutcome::Rollback(Ok(Vec::new()));
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
