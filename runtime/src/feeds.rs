//! Who may feed the oracle what (#26, oracle integrity).
//!
//! orml-oracle accepts any `u32` key from a member and reports each to the breaker; a
//! non-member's `feed_values` is included with the feed band's priority and fails only at
//! dispatch. Here:
//!
//! - [`check_feed`]: a signed `Oracle::feed_values` enters the pool and a block only from a
//!   current feeder, with every key an asset that has a lending market. The transaction
//!   extension ([`crate::priority::BandedTransactionPayment`]) applies it at validation and
//!   again at inclusion, so neither a stranger nor a member's junk reaches a block.
//! - [`ListedFeeds`], the runtime's base call filter: a `feed_values` dispatched from inside
//!   another call (a batch, a proxy) still feeds only listed assets (orml checks membership).
//!
//! Root (sudo on dev chains, the root track) may feed anything: it bypasses both.

use crate::{AccountId, AssetId, RuntimeCall};
use frame_support::traits::{Contains, SortedMembers};
use pallet_lending::LendingPositions;
use sp_runtime::transaction_validity::{InvalidTransaction, TransactionValidityError};

/// `InvalidTransaction::Custom` code: a feed of an asset with no lending market.
pub const UNLISTED_ASSET: u8 = 41;

/// Whether `asset` may be fed: it has a lending market.
pub fn listed(asset: &AssetId) -> bool {
	<crate::Lending as LendingPositions<AccountId>>::market_params(asset).is_some()
}

/// The check of a signed `feed_values` by `signer` of `keys`, before inclusion: a current
/// feeder ([`InvalidTransaction::BadSigner`] otherwise), every key listed
/// ([`UNLISTED_ASSET`] otherwise).
pub fn check_feed<'a>(
	signer: Option<&AccountId>,
	mut keys: impl Iterator<Item = &'a AssetId>,
) -> Result<(), TransactionValidityError> {
	let member =
		signer.is_some_and(<crate::OracleMembership as SortedMembers<AccountId>>::contains);
	if !member {
		return Err(InvalidTransaction::BadSigner.into());
	}
	if !keys.all(listed) {
		return Err(InvalidTransaction::Custom(UNLISTED_ASSET).into());
	}
	Ok(())
}

/// The base call filter: a `feed_values` only of listed assets, at any depth of nesting.
pub struct ListedFeeds;
impl Contains<RuntimeCall> for ListedFeeds {
	fn contains(call: &RuntimeCall) -> bool {
		match call {
			RuntimeCall::Oracle(orml_oracle::Call::feed_values { values }) => {
				values.iter().all(|(asset, _)| listed(asset))
			},
			_ => true,
		}
	}
}
