//! `LendingApi`: what a wallet, keeper or indexer reads from the lending pallet, through
//! `state_call` or the node's `lending_*` RPC.

#![cfg_attr(not(feature = "std"), no_std)]
#![deny(missing_docs)]

extern crate alloc;

use alloc::vec::Vec;
use codec::Codec;
pub use pallet_lending::{Health, MarketInfo, PositionInfo};
use sp_runtime::DispatchError;

sp_api::decl_runtime_apis! {
	/// Reads of the money market, accrued to the block's time.
	pub trait LendingApi<AccountId, AssetId>
	where
		AccountId: Codec,
		AssetId: Codec,
	{
		/// Health of `who`: collateral, borrow limit, liquidation value, debt and factor; an
		/// error if a price it needs is missing or stale.
		fn account_health(who: AccountId) -> Result<Health, DispatchError>;
		/// Parameters, totals, utilisation, rates and reserves of `asset`'s market.
		fn market_status(asset: AssetId) -> Option<MarketInfo>;
		/// `who`'s supplies and debts with interest; an error if a market cannot be accrued.
		fn positions(who: AccountId) -> Result<Vec<PositionInfo<AssetId>>, DispatchError>;
	}
}
