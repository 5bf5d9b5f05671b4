//! `BreakerApi`: what a wallet, keeper or governance tool reads from the breaker pallet through
//! `state_call` (polkadot.js: `api.call.breakerApi.*`). Every type is in the runtime's
//! metadata, so nothing needs a custom type definition.

#![cfg_attr(not(feature = "std"), no_std)]
#![deny(missing_docs)]

extern crate alloc;

use alloc::vec::Vec;
use codec::Codec;
pub use pallet_breaker::{AssetBreaker, AssetVolatility, Suggestion};

sp_api::decl_runtime_apis! {
	/// Reads of cascade control, at the block's state.
	pub trait BreakerApi<AssetId>
	where
		AssetId: Codec,
	{
		/// `asset`'s measured volatility (annualised, samples, last price and its time), if the
		/// oracle has fed it since genesis.
		fn volatility(asset: AssetId) -> Option<AssetVolatility>;
		/// Every sampled asset's measured volatility.
		fn volatilities() -> Vec<(AssetId, AssetVolatility)>;
		/// `asset`'s breaker level (in force, and its own: forced or automatic, since when),
		/// the inputs it is decided on, and the DEX sale value left in this block.
		fn breaker(asset: AssetId) -> AssetBreaker;
		/// The collateral factor and liquidation threshold `asset`'s measured volatility
		/// suggests for its market's bonus (`pallet_breaker::suggest`: a 99% one-sided fall
		/// over a 1-hour liquidation and a 1-day borrowing horizon); `None` until the estimate
		/// has its minimum of returns, or for an asset without a market.
		fn suggestion(asset: AssetId) -> Option<Suggestion>;
	}
}
