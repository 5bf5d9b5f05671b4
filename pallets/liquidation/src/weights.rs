//! Weights of the liquidation pallet's calls. The runtime's are measured by
//! `benchmarking/regenerate-weights.sh` on a release node (see `benchmarking/README.md`);
//! `()` is for tests.

#![allow(unused_parens, unused_imports, missing_docs)]

use core::marker::PhantomData;
use frame_support::{
	traits::Get,
	weights::{constants::RocksDbWeight, Weight},
};

/// Weight functions needed for `pallet_liquidation`.
pub trait WeightInfo {
	fn liquidate() -> Weight;
	fn settle_dex() -> Weight;
	fn settle_backstop() -> Weight;
	fn cover_shortfall(n: u32) -> Weight;
	fn update_params() -> Weight;
	fn set_risk_rank() -> Weight;
	fn transfer_insurance() -> Weight;
}

impl WeightInfo for () {
	fn liquidate() -> Weight {
		Weight::zero()
	}
	fn settle_dex() -> Weight {
		Weight::zero()
	}
	fn settle_backstop() -> Weight {
		Weight::zero()
	}
	fn cover_shortfall(_n: u32) -> Weight {
		Weight::zero()
	}
	fn update_params() -> Weight {
		Weight::zero()
	}
	fn set_risk_rank() -> Weight {
		Weight::zero()
	}
	fn transfer_insurance() -> Weight {
		Weight::zero()
	}
}
