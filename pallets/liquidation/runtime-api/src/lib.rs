//! `LiquidationApi`: what a keeper, wallet or indexer reads from the liquidation pallet
//! through `state_call` (polkadot.js: `api.call.liquidationApi.*`). Every type is in the
//! runtime's metadata, so nothing needs a custom type definition.

#![cfg_attr(not(feature = "std"), no_std)]
#![deny(missing_docs)]

extern crate alloc;

use alloc::vec::Vec;
use codec::Codec;
pub use pallet_liquidation::{
	Auction, AuctionStatus, DexRefusal, LiquidatablePage, PreLiquidationOffer, PreLiquidationRules,
	PreLiquidationTerms, PreLiquidationView, Preview, RiskCursor, RiskKey, Route,
};
use sp_runtime::DispatchError;

sp_api::decl_runtime_apis! {
	/// Reads of the liquidation engine, at the block's state and prices. Version 2 added
	/// `pre_liquidation`.
	#[api_version(2)]
	pub trait LiquidationApi<AccountId, AssetId>
	where
		AccountId: Codec,
		AssetId: Codec,
	{
		/// A dry run of `settle(account)`: health, the pair chosen, amounts, discount, the DEX
		/// quote and the route (or why neither route works); an error when the account cannot
		/// be liquidated (with the reason, e.g. `NotLiquidatable`, `PriceStale`).
		fn preview(account: AccountId) -> Result<Preview<AssetId>, DispatchError>;
		/// Accounts below health 1 with their health, riskiest first, among up to `limit`
		/// accounts the risk index reports from `start` (`None`: from the riskiest), and the
		/// cursor of the next page (`None` at the end).
		fn liquidatable(
			start: Option<RiskCursor<AssetId, AccountId>>,
			limit: u32,
		) -> LiquidatablePage<AccountId, AssetId>;
		/// The insurance treasury's `(asset, tokens, lending supply)` in every market.
		fn insurance_fund() -> Vec<(AssetId, u128, u128)>;
		/// Debt socialised to `asset`'s suppliers so far.
		fn bad_debt(asset: AssetId) -> u128;
		/// Every live Dutch auction with its price now (debt units per collateral unit) and
		/// whether it needs a reset before a take (`None` while a price is stale).
		fn auctions() -> Vec<AuctionStatus<AccountId, AssetId>>;
		/// `account`'s soft pre-liquidation: its terms (within today's caps), the band offered
		/// to it (from its collaterals' measured volatility), the caps, its health, and what a
		/// keeper's `pre_liquidate` would do now (or why it would be refused).
		#[api_version(2)]
		fn pre_liquidation(account: AccountId) -> PreLiquidationView<AssetId>;
	}

	/// The node's same-block settlement service (`node/src/same_block.rs`).
	pub trait SameBlockApi {
		/// The unsigned settlements (`liquidation.settle_after_feed`) of the accounts that
		/// `feed`, an oracle feed transaction still in the pool, puts below 1: planned on this
		/// block's state with the feed applied as in the next block, ready to submit; empty for
		/// any other transaction. Nothing is kept.
		fn settlements_after(
			feed: <Block as sp_runtime::traits::Block>::Extrinsic,
		) -> Vec<<Block as sp_runtime::traits::Block>::Extrinsic>;
	}
}
