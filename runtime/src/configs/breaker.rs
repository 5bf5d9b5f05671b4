//! Cascade control: `pallet-breaker` measures every oracle asset's volatility.

use super::{lending::OrmlOracle, MaxFeedValues, Price};
use crate::{governance, AccountId, AssetId, Breaker, Runtime};
use frame_support::parameter_types;
use pallet_breaker::VolatilityParams;

parameter_types! {
	/// A sample's weight halves in an hour (600 blocks): the estimate follows a crash within
	/// minutes and forgets it within hours.
	pub DefaultVolatilityParams: VolatilityParams = VolatilityParams { half_life_secs: 3_600 };
}

impl pallet_breaker::LatestPrice<AssetId> for OrmlOracle {
	fn latest(asset: &AssetId) -> Option<(Price, u64)> {
		<OrmlOracle as pallet_lending::TimestampedPrices<AssetId>>::timestamped_price(asset)
	}
}

/// orml-oracle's `OnNewData`: the breaker notes each asset fed (sampled once at the end of the
/// block, whichever feeders fed it).
pub struct NoteNewData;
impl orml_oracle::OnNewData<AccountId, AssetId, Price> for NoteNewData {
	fn on_new_data(_who: &AccountId, asset: &AssetId, _value: &Price) {
		Breaker::note_new_data(asset);
	}
}

impl pallet_breaker::Config for Runtime {
	type AssetId = AssetId;
	type Prices = OrmlOracle;
	type AdminOrigin = governance::RiskAdminOrigin;
	type DefaultParams = DefaultVolatilityParams;
	type MaxAssets = MaxFeedValues;
	type WeightInfo = pallet_breaker::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = BreakerBenchmarkHelper;
}

/// Benchmark prices, fed as the oracle's root operator at the time asked.
#[cfg(feature = "runtime-benchmarks")]
pub struct BreakerBenchmarkHelper;
#[cfg(feature = "runtime-benchmarks")]
impl pallet_breaker::BenchmarkHelper<AssetId> for BreakerBenchmarkHelper {
	fn asset(i: u32) -> AssetId {
		1000 + i
	}
	fn set_price(asset: AssetId, price: Price, at: u64) {
		pallet_timestamp::Now::<Runtime>::put(at);
		<crate::Oracle as orml_traits::DataFeeder<AssetId, Price, AccountId>>::feed_value(
			None, asset, price,
		)
		.expect("the root operator may feed");
	}
}
