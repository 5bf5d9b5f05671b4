//! # Liquidation (first slice)
//!
//! The liquidation engine of issue #13 is built in slices. This one holds what every route
//! (keeper `liquidate`, protocol `settle`, the insurance backstop) computes the same way, as
//! pure functions with unit tests beside them:
//!
//! - [`math`]: the dynamic discount (a share of the market's bonus at health 1 growing to all
//!   of it at a governance "health for the maximum discount", Aave V4's curve) and the
//!   repayment that brings an account back to a target health instead of a fixed close factor;
//! - [`types`]: the one validated parameter record governance changes, with every bound
//!   refused by name.
//!
//! The FRAME pallet (calls, storage, events, insurance treasury, loss waterfall) is built on
//! these and on the lending pallet's `LendingPositions` in the next slice.

#![cfg_attr(not(feature = "std"), no_std)]
#![deny(missing_docs)]
#![cfg_attr(
	not(test),
	deny(clippy::arithmetic_side_effects, clippy::unwrap_used, clippy::indexing_slicing)
)]

pub mod math;
pub mod types;
