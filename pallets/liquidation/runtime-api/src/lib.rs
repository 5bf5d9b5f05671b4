//! `LiquidationApi`: what a keeper, wallet or indexer reads from the liquidation pallet
//! through `state_call` (polkadot.js: `api.call.liquidationApi.*`). Every type is in the
//! runtime's metadata, so nothing needs a custom type definition.

#![cfg_attr(not(feature = "std"), no_std)]
#![deny(missing_docs)]

extern crate alloc;

use alloc::vec::Vec;
use codec::Codec;
pub use pallet_liquidation::{DexRefusal, Preview, Route};
use sp_arithmetic::FixedU128;
use sp_runtime::DispatchError;

sp_api::decl_runtime_apis! {
	/// Reads of the liquidation engine, at the block's state and prices.
	pub trait LiquidationApi<AccountId, AssetId>
	where
		AccountId: Codec,
		AssetId: Codec,
	{
		/// A dry run of `settle(account)`: health, the pair chosen, amounts, discount, the DEX
		/// quote and the route (or why neither route works); an error when the account cannot
		/// be liquidated (with the reason, e.g. `NotLiquidatable`, `PriceStale`).
		fn preview(account: AccountId) -> Result<Preview<AssetId>, DispatchError>;
		/// Accounts below health 1 among up to `limit` accounts with positions after `after`,
		/// with their health, and the cursor of the next page (`None` at the end).
		fn liquidatable(
			after: Option<AccountId>,
			limit: u32,
		) -> (Vec<(AccountId, FixedU128)>, Option<AccountId>);
		/// The insurance treasury's `(asset, tokens, lending supply)` in every market.
		fn insurance_fund() -> Vec<(AssetId, u128, u128)>;
		/// Debt socialised to `asset`'s suppliers so far.
		fn bad_debt(asset: AssetId) -> u128;
	}
}
