//! The money market: `pallet-lending` over the assets, priced by the oracle.

use super::Price;
use crate::{governance, AssetId, Assets, Oracle, Runtime, Timestamp};
use frame_support::{parameter_types, traits::ConstU32, PalletId};

parameter_types! {
	pub const LendingPalletId: PalletId = PalletId(*b"mc/lend_");
	/// A price older than this (ms) is refused by lending (and, later, liquidation and the
	/// breaker): 10 minutes, 100 blocks.
	pub const MaxPriceAge: u64 = 10 * 60 * 1000;
	/// No rate model may charge more than 1000% a year.
	pub MaxBorrowRate: Price = Price::from_u32(10);
	/// A liquidation values assets it does not touch at their latest price up to this age:
	/// 6 hours. Older, a collateral's feed is taken as dead (worth nothing).
	pub const StalePriceGrace: u64 = 6 * 60 * 60 * 1000;
}

/// orml-oracle's combined values, with their timestamps, for lending's price source.
pub struct OrmlOracle;
impl pallet_lending::TimestampedPrices<AssetId> for OrmlOracle {
	fn timestamped_price(asset: &AssetId) -> Option<(Price, u64)> {
		Oracle::get(asset).map(|v| (v.value, v.timestamp))
	}
}

frame_support::parameter_types! {
	/// A referendum on the risk track may move a market's collateral factor and liquidation
	/// threshold by at most 5 points, its bonus by 2, its close and reserve factors by 10, each
	/// rate model value by 0.10 (10 points a year; the kink by 0.10), its caps and minimum
	/// borrow value by a factor of 2, once a day; root (the root track) within the absolute
	/// bounds only.
	pub const MarketRails: pallet_lending::MarketRails = pallet_lending::MarketRails {
		min_interval: crate::DAYS,
		factor_step: sp_runtime::Permill::from_percent(5),
		bonus_step: sp_runtime::Permill::from_percent(2),
		share_step: sp_runtime::Permill::from_percent(10),
		rate_step: sp_arithmetic::FixedU128::from_rational(10, 100),
		amount_factor: 2,
	};
}

/// Most markets one account may supply to (and borrow from): bounds the work of a health
/// check, which the benchmarks measure at this bound.
pub const MAX_ASSETS_PER_ACCOUNT: u32 = 8;

impl pallet_lending::Config for Runtime {
	type AssetId = AssetId;
	type Assets = Assets;
	type AssetAdmins = governance::AssetGovernance;
	type Prices =
		pallet_lending::OraclePrices<super::breaker::CheckedPrices, Timestamp, MaxPriceAge>;
	type StalePriceGrace = StalePriceGrace;
	type UnixTime = Timestamp;
	type UpdateOrigin = governance::RiskAdminOrigin;
	type PauseOrigin = governance::GuardianOrigin;
	type Rails = MarketRails;
	type OnPositionChanged = crate::Liquidation;
	type Breaker = super::breaker::BreakerEffects;
	type PalletId = LendingPalletId;
	type MaxAssetsPerAccount = ConstU32<MAX_ASSETS_PER_ACCOUNT>;
	type MaxBorrowRate = MaxBorrowRate;
	type WeightInfo = pallet_lending::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = LendingBenchmarkHelper;
}

/// Benchmark assets from id 1000 on, created sufficient; prices fed as the oracle's root
/// operator.
#[cfg(feature = "runtime-benchmarks")]
pub struct LendingBenchmarkHelper;
#[cfg(feature = "runtime-benchmarks")]
impl pallet_lending::BenchmarkHelper<AssetId, crate::AccountId> for LendingBenchmarkHelper {
	fn asset(i: u32) -> AssetId {
		1000 + i
	}
	fn create_asset(asset: AssetId) {
		use frame_support::traits::fungibles::Create;
		let admin = governance::asset_governance_account();
		// Assets take the next free id; make it the one asked for. The runtime's smallest
		// minimum balance.
		pallet_assets::NextAssetId::<Runtime, super::AssetsInstance>::put(asset);
		<Assets as Create<crate::AccountId>>::create(asset, admin, true, 1_000)
			.expect("benchmark asset is new");
	}
	fn set_time(now: u64) {
		pallet_timestamp::Now::<Runtime>::put(now);
	}
	fn mute_position_hook() {
		crate::Liquidation::defer_filing();
	}
	fn set_price(asset: AssetId, price: Price) {
		<Oracle as orml_traits::DataFeeder<AssetId, Price, crate::AccountId>>::feed_value(
			None, asset, price,
		)
		.expect("the root operator may feed");
		// A benchmark's price move is one the guard would have accepted by now (a later block
		// or the DEX); the oracle's value follows.
		let now = pallet_timestamp::Now::<Runtime>::get();
		crate::Breaker::accept_for_benchmarks(&asset, price, now);
		orml_oracle::Values::<Runtime>::insert(
			asset,
			orml_oracle::TimestampedValue { value: price, timestamp: now },
		);
	}
}
