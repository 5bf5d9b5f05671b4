//! Weights for `pallet_lending`.
//!
//! BOOTSTRAP FILE, NOT MEASURED: conservative placeholders so the crate compiles before the
//! node exists. `benchmarking/regenerate-weights.sh` overwrites it with measured weights.

#![cfg_attr(rustfmt, rustfmt_skip)]
#![allow(unused_parens)]
#![allow(unused_imports)]
#![allow(missing_docs)]

use frame_support::{traits::Get, weights::{Weight, constants::RocksDbWeight}};
use core::marker::PhantomData;

/// Weight functions needed for `pallet_lending`.
pub trait WeightInfo {
	fn create_market() -> Weight;
	fn update_market() -> Weight;
	fn supply() -> Weight;
	fn withdraw() -> Weight;
	fn borrow() -> Weight;
	fn repay() -> Weight;
	fn repay_on_behalf() -> Weight;
	fn enable_collateral() -> Weight;
	fn disable_collateral() -> Weight;
}

/// Weights for `pallet_lending` using the runtime's DB weights.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	fn create_market() -> Weight {
		Weight::from_parts(200_000_000, 40_000)
			.saturating_add(T::DbWeight::get().reads(40_u64))
			.saturating_add(T::DbWeight::get().writes(6_u64))
	}
	fn update_market() -> Weight {
		Weight::from_parts(200_000_000, 40_000)
			.saturating_add(T::DbWeight::get().reads(40_u64))
			.saturating_add(T::DbWeight::get().writes(6_u64))
	}
	fn supply() -> Weight {
		Weight::from_parts(200_000_000, 40_000)
			.saturating_add(T::DbWeight::get().reads(40_u64))
			.saturating_add(T::DbWeight::get().writes(6_u64))
	}
	fn withdraw() -> Weight {
		Weight::from_parts(200_000_000, 40_000)
			.saturating_add(T::DbWeight::get().reads(40_u64))
			.saturating_add(T::DbWeight::get().writes(6_u64))
	}
	fn borrow() -> Weight {
		Weight::from_parts(200_000_000, 40_000)
			.saturating_add(T::DbWeight::get().reads(40_u64))
			.saturating_add(T::DbWeight::get().writes(6_u64))
	}
	fn repay() -> Weight {
		Weight::from_parts(200_000_000, 40_000)
			.saturating_add(T::DbWeight::get().reads(40_u64))
			.saturating_add(T::DbWeight::get().writes(6_u64))
	}
	fn repay_on_behalf() -> Weight {
		Weight::from_parts(200_000_000, 40_000)
			.saturating_add(T::DbWeight::get().reads(40_u64))
			.saturating_add(T::DbWeight::get().writes(6_u64))
	}
	fn enable_collateral() -> Weight {
		Weight::from_parts(200_000_000, 40_000)
			.saturating_add(T::DbWeight::get().reads(40_u64))
			.saturating_add(T::DbWeight::get().writes(6_u64))
	}
	fn disable_collateral() -> Weight {
		Weight::from_parts(200_000_000, 40_000)
			.saturating_add(T::DbWeight::get().reads(40_u64))
			.saturating_add(T::DbWeight::get().writes(6_u64))
	}
}

impl WeightInfo for () {
	fn create_market() -> Weight {
		Weight::from_parts(200_000_000, 40_000)
			.saturating_add(RocksDbWeight::get().reads(40_u64))
			.saturating_add(RocksDbWeight::get().writes(6_u64))
	}
	fn update_market() -> Weight {
		Weight::from_parts(200_000_000, 40_000)
			.saturating_add(RocksDbWeight::get().reads(40_u64))
			.saturating_add(RocksDbWeight::get().writes(6_u64))
	}
	fn supply() -> Weight {
		Weight::from_parts(200_000_000, 40_000)
			.saturating_add(RocksDbWeight::get().reads(40_u64))
			.saturating_add(RocksDbWeight::get().writes(6_u64))
	}
	fn withdraw() -> Weight {
		Weight::from_parts(200_000_000, 40_000)
			.saturating_add(RocksDbWeight::get().reads(40_u64))
			.saturating_add(RocksDbWeight::get().writes(6_u64))
	}
	fn borrow() -> Weight {
		Weight::from_parts(200_000_000, 40_000)
			.saturating_add(RocksDbWeight::get().reads(40_u64))
			.saturating_add(RocksDbWeight::get().writes(6_u64))
	}
	fn repay() -> Weight {
		Weight::from_parts(200_000_000, 40_000)
			.saturating_add(RocksDbWeight::get().reads(40_u64))
			.saturating_add(RocksDbWeight::get().writes(6_u64))
	}
	fn repay_on_behalf() -> Weight {
		Weight::from_parts(200_000_000, 40_000)
			.saturating_add(RocksDbWeight::get().reads(40_u64))
			.saturating_add(RocksDbWeight::get().writes(6_u64))
	}
	fn enable_collateral() -> Weight {
		Weight::from_parts(200_000_000, 40_000)
			.saturating_add(RocksDbWeight::get().reads(40_u64))
			.saturating_add(RocksDbWeight::get().writes(6_u64))
	}
	fn disable_collateral() -> Weight {
		Weight::from_parts(200_000_000, 40_000)
			.saturating_add(RocksDbWeight::get().reads(40_u64))
			.saturating_add(RocksDbWeight::get().writes(6_u64))
	}
}
