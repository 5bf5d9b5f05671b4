//! Test runtime: `frame_system`, `pallet_timestamp` and the breaker, prices from an in-memory
//! oracle that tests set directly (each with the time it was set).

use crate::{self as pallet_breaker, *};
use core::cell::RefCell;
use frame_support::{derive_impl, parameter_types, traits::ConstU32};
use frame_system::EnsureRoot;
use sp_arithmetic::Permill;
use sp_runtime::BuildStorage;
use std::collections::BTreeMap;

type Block = frame_system::mocking::MockBlock<Test>;
pub type AssetId = u32;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Breaker: pallet_breaker,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
}

thread_local! {
	static PRICES: RefCell<BTreeMap<AssetId, (FixedU128, u64)>> =
		const { RefCell::new(BTreeMap::new()) };
	static SPOTS: RefCell<BTreeMap<AssetId, FixedU128>> = const { RefCell::new(BTreeMap::new()) };
}

/// A DEX whose spot prices tests set.
pub struct MockDex;
impl MockDex {
	pub fn set(asset: AssetId, price: FixedU128) {
		SPOTS.with(|p| p.borrow_mut().insert(asset, price));
	}
}
impl DexSpot<AssetId> for MockDex {
	fn spot(asset: &AssetId) -> Option<FixedU128> {
		SPOTS.with(|p| p.borrow().get(asset).copied())
	}
}

/// Lending's terms in the mock: asset 1 is a collateral market like the runtime's XBTC
/// (threshold 78%, bonus 8%); other assets have no market.
pub struct MockTerms;
impl CollateralTerms<AssetId> for MockTerms {
	fn terms(asset: &AssetId) -> Option<(Permill, Permill)> {
		(*asset == 1).then(|| (Permill::from_percent(78), Permill::from_percent(8)))
	}
}

/// An oracle whose values tests set: `feed` also notes the asset, as the runtime's
/// `OnNewData` wiring does.
pub struct MockOracle;
impl MockOracle {
	pub fn feed(asset: AssetId, price: FixedU128, at: u64) {
		PRICES.with(|p| p.borrow_mut().insert(asset, (price, at)));
		Breaker::note_new_data(&asset);
	}
}
impl LatestPrice<AssetId> for MockOracle {
	fn latest(asset: &AssetId) -> Option<(FixedU128, u64)> {
		PRICES.with(|p| p.borrow().get(asset).copied())
	}
}

parameter_types! {
	/// One hour.
	pub DefaultParams: VolatilityParams = VolatilityParams { half_life_secs: 3_600 };
	/// Throttled at 150% volatility, a 10% range over 20 blocks or the DEX 5% below the
	/// oracle; halted at 15% below for 3 blocks in a row; released below 80% of a trigger after
	/// 5 calm blocks; 10,000 of value sold per block while throttled.
	pub DefaultBreakerParams: BreakerParams = BreakerParams {
		throttle: Triggers {
			volatility: FixedU128::from_rational(3, 2),
			moved: Permill::from_percent(10),
			divergence: Permill::from_percent(5),
		},
		halt: HaltTrigger { divergence: Permill::from_percent(15), blocks: 3 },
		release: Permill::from_percent(80),
		calm_blocks: 5,
		window_blocks: 20,
		min_samples: 3,
		sale_cap: 10_000,
		jump: Permill::from_percent(10),
		max_hold_blocks: 3,
	};
}

/// Most assets noted per block in the mock.
pub const MAX_ASSETS: u32 = 3;
/// Stands for a referendum on the risk track: changes within the rails.
pub const STEWARD: u64 = 90;
/// The guardian: halts assets.
pub const GUARDIAN: u64 = 91;
/// How long a guardian's halt lasts.
pub const GUARDIAN_HALT_BLOCKS: u32 = 20;

frame_support::ord_parameter_types! {
	pub const Steward: u64 = STEWARD;
	pub const Guardian: u64 = GUARDIAN;
}

parameter_types! {
	/// The oracle's feeders (tests change it).
	pub static Feeders: u32 = 3;
	pub const Bounded: Authority = Authority::Bounded;
	pub const Unbounded: Authority = Authority::Unbounded;
	/// The runtime's rails, with a 10-block interval.
	pub const Rails: ParamRails = ParamRails {
		min_interval: 10,
		points: Permill::from_percent(5),
		share: Permill::from_percent(10),
		factor: 2,
	};
}

/// Root changes within absolute bounds; [`STEWARD`] (the risk track) within the rails too.
pub type AdminOrigin = frame_support::traits::EitherOf<
	frame_support::traits::MapSuccess<EnsureRoot<u64>, sp_runtime::traits::Replace<Unbounded>>,
	frame_support::traits::MapSuccess<
		frame_system::EnsureSignedBy<Steward, u64>,
		sp_runtime::traits::Replace<Bounded>,
	>,
>;

impl Config for Test {
	type AssetId = AssetId;
	type Prices = MockOracle;
	type Spot = MockDex;
	type Collateral = MockTerms;
	type DefaultBreakerParams = DefaultBreakerParams;
	type MaxFeeders = ConstU32<5>;
	type FeederCount = Feeders;
	type AdminOrigin = AdminOrigin;
	type GuardianOrigin = frame_system::EnsureSignedBy<Guardian, u64>;
	type GuardianHaltBlocks = ConstU32<GUARDIAN_HALT_BLOCKS>;
	type Rails = Rails;
	type DefaultParams = DefaultParams;
	type MaxAssets = ConstU32<MAX_ASSETS>;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = MockBenchmarkHelper;
}

/// Benchmarks in the mock.
#[cfg(feature = "runtime-benchmarks")]
pub struct MockBenchmarkHelper;
#[cfg(feature = "runtime-benchmarks")]
impl BenchmarkHelper<AssetId> for MockBenchmarkHelper {
	fn asset(i: u32) -> AssetId {
		1000 + i
	}
	fn set_price(asset: AssetId, price: FixedU128, at: u64) {
		MockOracle::feed(asset, price, at);
	}
	fn set_spot(asset: AssetId, price: FixedU128) {
		MockDex::set(asset, price);
	}
}

pub fn new_test_ext() -> sp_io::TestExternalities {
	PRICES.with(|p| p.borrow_mut().clear());
	SPOTS.with(|p| p.borrow_mut().clear());
	let storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	let mut ext = sp_io::TestExternalities::new(storage);
	ext.execute_with(|| System::set_block_number(1));
	ext
}

/// The breaker's events since the last reset.
pub fn events() -> Vec<Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|r| if let RuntimeEvent::Breaker(e) = r.event { Some(e) } else { None })
		.collect()
}
