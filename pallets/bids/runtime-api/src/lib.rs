//! `BidsApi`: the standing liquidation bids a market maker, keeper or wallet reads through
//! `state_call` (polkadot.js: `api.call.bidsApi.book`). Every type is in the runtime's
//! metadata.

#![cfg_attr(not(feature = "std"), no_std)]
#![deny(missing_docs)]

extern crate alloc;

use alloc::vec::Vec;
use codec::Codec;
pub use pallet_bids::{Bid, BidId};

sp_api::decl_runtime_apis! {
	/// Reads of the bid book.
	pub trait BidsApi<AccountId, AssetId, Balance, BlockNumber>
	where
		AccountId: Codec,
		AssetId: Codec,
		Balance: Codec,
		BlockNumber: Codec,
	{
		/// The standing bids to buy `collateral` for `debt`, best first (lowest discount, then
		/// oldest), each with what it still holds, its activation and expiry.
		fn book(collateral: AssetId, debt: AssetId) -> Vec<(BidId, Bid<AccountId, AssetId, Balance, BlockNumber>)>;
	}
}
