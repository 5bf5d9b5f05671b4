//! Priority bands of the transaction pool, highest first:
//!
//! 1. oracle feeds ([`ORACLE_FEED_PRIORITY`]): a liquidation must never run on a price a
//!    pending feed is about to replace;
//! 2. the liquidation offchain worker's unsigned settlements
//!    ([`crate::configs::LiquidationUnsignedPriority`]);
//! 3. every other signed transaction, by tip, capped just below band 2 ([`SIGNED_PRIORITY_CAP`]).
//!
//! pallet-transaction-payment gives a signed transaction a priority proportional to its tip
//! (`tip × transactions of its size that fit in a block`), so without a cap a tip of a few
//! hundred units would outbid the settlements of a crash. [`BandedTransactionPayment`] is
//! `ChargeTransactionPayment` (same identifier, same tip, same fees and refunds) with the
//! priority moved into its band; clients sign exactly as before. It also refuses, before
//! inclusion, an oracle feed from a non-feeder or of an asset with no market
//! ([`crate::feeds::check_feed`]).

use crate::{configs::LiquidationUnsignedPriority, Runtime, RuntimeCall};
use codec::{Decode, DecodeWithMemTracking, Encode};
use frame_support::{pallet_prelude::TransactionSource, traits::Get, weights::Weight};
use pallet_transaction_payment::ChargeTransactionPayment;
use scale_info::TypeInfo;
use sp_runtime::{
	traits::{
		AsSystemOriginSigner, DispatchInfoOf, DispatchOriginOf, Implication, PostDispatchInfoOf,
		TransactionExtension, ValidateResult,
	},
	transaction_validity::{TransactionPriority, TransactionValidityError},
	DispatchResult,
};

/// Priority of an oracle feed.
pub const ORACLE_FEED_PRIORITY: TransactionPriority = TransactionPriority::MAX / 2;

/// The highest priority any other signed transaction gets, whatever its tip: just below the
/// liquidation settlements.
pub fn signed_priority_cap() -> TransactionPriority {
	<LiquidationUnsignedPriority as Get<TransactionPriority>>::get().saturating_sub(1)
}

/// The band of a signed `call` whose fee logic gave `priority`.
pub fn banded(call: &RuntimeCall, priority: TransactionPriority) -> TransactionPriority {
	match call {
		RuntimeCall::Oracle(orml_oracle::Call::feed_values { .. }) => ORACLE_FEED_PRIORITY,
		_ => priority.min(signed_priority_cap()),
	}
}

/// `ChargeTransactionPayment` with the chain's priority bands (see the module).
#[derive(Encode, Decode, DecodeWithMemTracking, Clone, Eq, PartialEq, TypeInfo, Debug)]
pub struct BandedTransactionPayment(pub ChargeTransactionPayment<Runtime>);

impl From<u128> for BandedTransactionPayment {
	fn from(tip: u128) -> Self {
		Self(ChargeTransactionPayment::from(tip))
	}
}

impl TransactionExtension<RuntimeCall> for BandedTransactionPayment {
	// The same name and payload as the wrapped extension: wallets need nothing new.
	const IDENTIFIER: &'static str = "ChargeTransactionPayment";
	type Implicit = ();
	type Val = <ChargeTransactionPayment<Runtime> as TransactionExtension<RuntimeCall>>::Val;
	type Pre = <ChargeTransactionPayment<Runtime> as TransactionExtension<RuntimeCall>>::Pre;

	fn weight(&self, call: &RuntimeCall) -> Weight {
		self.0.weight(call)
	}

	fn validate(
		&self,
		origin: DispatchOriginOf<RuntimeCall>,
		call: &RuntimeCall,
		info: &DispatchInfoOf<RuntimeCall>,
		len: usize,
		self_implicit: Self::Implicit,
		inherited_implication: &impl Implication,
		source: TransactionSource,
	) -> ValidateResult<Self::Val, RuntimeCall> {
		// A feed from a stranger, or of an asset with no market, never reaches the pool or a
		// block (this runs at validation and again at inclusion): see `crate::feeds`.
		if let RuntimeCall::Oracle(orml_oracle::Call::feed_values { values }) = call {
			crate::feeds::check_feed(
				origin.as_system_origin_signer(),
				values.iter().map(|(asset, _)| asset),
			)?;
		}
		let (mut valid, val, origin) = self.0.validate(
			origin,
			call,
			info,
			len,
			self_implicit,
			inherited_implication,
			source,
		)?;
		valid.priority = banded(call, valid.priority);
		Ok((valid, val, origin))
	}

	fn prepare(
		self,
		val: Self::Val,
		origin: &DispatchOriginOf<RuntimeCall>,
		call: &RuntimeCall,
		info: &DispatchInfoOf<RuntimeCall>,
		len: usize,
	) -> Result<Self::Pre, TransactionValidityError> {
		self.0.prepare(val, origin, call, info, len)
	}

	fn post_dispatch_details(
		pre: Self::Pre,
		info: &DispatchInfoOf<RuntimeCall>,
		post_info: &PostDispatchInfoOf<RuntimeCall>,
		len: usize,
		result: &DispatchResult,
	) -> Result<Weight, TransactionValidityError> {
		<ChargeTransactionPayment<Runtime> as TransactionExtension<RuntimeCall>>::post_dispatch_details(
			pre, info, post_info, len, result,
		)
	}
}
