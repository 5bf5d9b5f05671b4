//! The liquidation engine: `pallet-liquidation` over the money market, the oracle and the DEX.

use super::lending::MAX_ASSETS_PER_ACCOUNT;
use crate::{governance, AssetConversion, AssetId, AssetKind, Assets, Lending, Runtime};
use frame_support::{parameter_types, traits::ConstU32, PalletId};
use pallet_liquidation::LiquidationParams;
use sp_arithmetic::{FixedU128, Permill};

/// One US dollar in the oracle's reference unit (USD with 12 decimals).
pub const USD: u128 = 1_000_000_000_000;

parameter_types! {
	/// The backstop spends at most a quarter of the insurance treasury's holding of a debt
	/// asset per block.
	pub const BackstopBlockShare: Permill = Permill::from_percent(25);
	/// The working account: holds seized collateral only inside a settlement.
	pub const LiquidationPalletId: PalletId = PalletId(*b"mc/liqdn");
	/// The insurance treasury.
	pub const InsurancePalletId: PalletId = PalletId(*b"mc/insur");
	/// `dust_value` may be set up to USD 100,000.
	pub const MaxDustValue: u128 = 100_000 * USD;
	pub DefaultLiquidationParams: LiquidationParams = default_params();
	/// Dutch auctions (governance changes them with `set_auction_params`): start 5% above the
	/// oracle, 1% lower each 6 s block, floor 20% below it (reached in ~27 blocks); reset
	/// after 200 blocks (20 min) or once the price is more than 30% below the oracle.
	/// Pre-liquidation caps at genesis (governance changes them with
	/// `set_pre_liquidation_rules`): a band up to health 1.5, at most a quarter of a debt a
	/// step, a bonus of at most 3% (and never above a liquidation's discount at health 1: 2%,
	/// 4% and 7.5% for the genesis markets' 4%, 8% and 15% bonuses), the band offered covering
	/// a day's likely fall (Bitcoin-like 80% volatility: 1.108).
	pub DefaultPreLiquidationRules: pallet_liquidation::PreLiquidationRules = pallet_liquidation::PreLiquidationRules {
		max_band: FixedU128::from_rational(3, 2),
		max_close_share: Permill::from_percent(25),
		max_bonus: Permill::from_percent(3),
		horizon: 86_400,
	};
	pub DefaultAuctionParams: pallet_liquidation::AuctionParams = pallet_liquidation::AuctionParams {
		buf: Permill::from_percent(5),
		step: Permill::from_percent(1),
		floor: Permill::from_percent(20),
		cusp: Permill::from_percent(30),
		tail: 200,
	};
	/// The offchain worker's settlements: a quarter of the priority range, above what an
	/// ordinary transaction gets without a large tip.
	pub const LiquidationUnsignedPriority: sp_runtime::transaction_validity::TransactionPriority =
		sp_runtime::transaction_validity::TransactionPriority::MAX / 4;
	/// The worker's unsigned calls declare at most half of a block's normal class together.
	pub const UnsignedShare: sp_runtime::Perbill = sp_runtime::Perbill::from_percent(50);
}

impl<C> frame_system::offchain::CreateTransactionBase<C> for Runtime
where
	crate::RuntimeCall: From<C>,
{
	type Extrinsic = crate::UncheckedExtrinsic;
	type RuntimeCall = crate::RuntimeCall;
}

/// Unsigned transactions from offchain workers (the liquidation worker's settlements).
impl<C> frame_system::offchain::CreateBare<C> for Runtime
where
	crate::RuntimeCall: From<C>,
{
	fn create_bare(call: crate::RuntimeCall) -> crate::UncheckedExtrinsic {
		crate::UncheckedExtrinsic::new_bare(call)
	}
}

/// The parameters at genesis (governance changes them with `update_params`): repay to health
/// 1.05; the discount from half the market's bonus at health 1 to all of it at 0.9; 10% of it
/// to the treasury; half the unused penalty of a settlement to the treasury; a 0.1% tip capped
/// at USD 100; the DEX may cost 3% over the oracle; the backstop buys 2% under it; a debt or
/// collateral left under USD 1,000 is closed fully (Aave V4's value); while a sale would leave a
/// pool below the oracle, the protocol sells into it at most 3% of its collateral reserve a
/// block (about what the slippage bound lets stacked sales take from a pool at the oracle).
/// Measured by the cascade benchmark (`benchmarking/README.md`, sessions 18 and 19): it binds
/// in crash-spam, where the block the oracle fell 60,000 -> 44,000 sold 7.9 XBTC into a 20-XBTC
/// pool still at 60,000 and left it 30% below the oracle (each sale within its bound on the
/// average price; such a pool would corroborate a further fall of the feeds at once): capped,
/// the pool ends 4.3% below, and the fund, selling later into a falling market, ends 5,800 USDM
/// lower (session 19's measured DB weights; 22,067 at RocksDB's); no other scenario changes.
/// 1% gains the crash 3,353 and keeps the whale off the insurance, but loses 15,318 in
/// crash-spam and 5,127 and 6,082 in the crashes fed late or by a lagging pair of feeders
/// (20,789 over all scenarios); 2% is 1,292 behind over all (crash-1pct's loss).
pub fn default_params() -> LiquidationParams {
	LiquidationParams {
		target_health: FixedU128::from_rational(105, 100),
		health_for_max_discount: FixedU128::from_rational(90, 100),
		min_discount_share: Permill::from_percent(50),
		protocol_fee: Permill::from_percent(10),
		insurance_share: Permill::from_percent(50),
		caller_tip: Permill::from_parts(1_000),
		caller_tip_cap: 100 * USD,
		max_slippage: Permill::from_percent(3),
		backstop_discount: Permill::from_percent(2),
		dust_value: 1_000 * USD,
		pool_block_share: Permill::from_percent(3),
	}
}

/// A market's asset as the DEX names it.
pub struct DexAsset;
impl sp_runtime::traits::Convert<AssetId, AssetKind> for DexAsset {
	fn convert(asset: AssetId) -> AssetKind {
		AssetKind::WithId(asset)
	}
}

frame_support::parameter_types! {
	/// The rails of the liquidation engine's and the breaker's parameters: a referendum on the
	/// risk track moves a rate or share by at most 5 points, a health or volatility value by at
	/// most 10% of itself, an amount or count by a factor of 2, each record once a day.
	pub const ParamRails: margincall_rails::ParamRails = margincall_rails::ParamRails {
		min_interval: crate::DAYS,
		points: sp_runtime::Permill::from_percent(5),
		share: sp_runtime::Permill::from_percent(10),
		factor: 2,
	};
}

impl pallet_liquidation::Config for Runtime {
	type AssetId = AssetId;
	type Assets = Assets;
	type Lending = Lending;
	// The lending pallet's source, by construction: a liquidation's plan takes the pair's
	// prices from the lending view its health is computed with (`liquidation_view`).
	type Prices = <Runtime as pallet_lending::Config>::Prices;
	type DexAssetKind = AssetKind;
	type ToDexAsset = DexAsset;
	type Dex = AssetConversion;
	type DexReserves = AssetConversion;
	type RiskAdmin = governance::RiskAdminOrigin;
	type Rails = ParamRails;
	type PalletId = LiquidationPalletId;
	type InsurancePalletId = InsurancePalletId;
	type DefaultParams = DefaultLiquidationParams;
	type MaxDustValue = MaxDustValue;
	type MaxDebts = ConstU32<MAX_ASSETS_PER_ACCOUNT>;
	/// Eight hours: the offchain worker refiles up to `MaxRefile` accounts of older epochs a
	/// block (230,400 an epoch).
	type EpochBlocks = ConstU32<14_400>;
	type MaxRefile = ConstU32<16>;
	type UnsignedPriority = LiquidationUnsignedPriority;
	type UnsignedLongevity = ConstU32<3>;
	/// Half the normal class: the other half is the signed calls' in a cascade.
	type UnsignedShare = UnsignedShare;
	type MaxChecksPerRun = ConstU32<5_000>;
	type SweepPerRun = ConstU32<100>;
	type MaxSettleBatch = ConstU32<512>;
	type MaxBatchPairs = ConstU32<{ MAX_ASSETS_PER_ACCOUNT }>;
	type Breaker = super::breaker::BreakerEffects;
	type Bids = super::bids::BidBook;
	type MaxSaleQueue = ConstU32<64>;
	type MaxQueueAge = ConstU32<20>;
	type ShortfallWait = ConstU32<20>;
	/// A quarter of the fund per block: the cascade benchmark's crash cost the fund 7,042 USDM
	/// with the whole fund spent at the first step's prices, 712 with a quarter a block
	/// (session 16, RocksDB's weights; with the measured DB weights the crash gains it 1,255).
	type BackstopBlockShare = BackstopBlockShare;
	type DefaultAuctionParams = DefaultAuctionParams;
	type DefaultPreLiquidationRules = DefaultPreLiquidationRules;
	type MaxAuctions = ConstU32<256>;
	type WeightInfo = pallet_liquidation::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = LiquidationBenchmarkHelper;
}

/// Pools for the benchmarks, made through the DEX's own calls.
#[cfg(feature = "runtime-benchmarks")]
pub struct LiquidationBenchmarkHelper;
#[cfg(feature = "runtime-benchmarks")]
impl pallet_liquidation::BenchmarkHelper<AssetId, crate::AccountId> for LiquidationBenchmarkHelper {
	fn create_pool(lp: &crate::AccountId, a: AssetId, b: AssetId, amount_a: u128, amount_b: u128) {
		use alloc::boxed::Box;
		use frame_support::traits::fungible::Mutate;
		// Pool tokens are not sufficient: the provider needs a native account.
		crate::Balances::mint_into(lp, 1_000 * crate::UNIT).expect("minting native works");
		let origin = crate::RuntimeOrigin::signed(lp.clone());
		let (ka, kb) = (Box::new(AssetKind::WithId(a)), Box::new(AssetKind::WithId(b)));
		AssetConversion::create_pool(origin.clone(), ka.clone(), kb.clone())
			.expect("a new pool of two assets");
		AssetConversion::add_liquidity(origin, ka, kb, amount_a, amount_b, 1, 1, lp.clone())
			.expect("the provider holds the liquidity");
	}
	fn throttle(asset: AssetId) {
		// A cap no benchmark sale reaches: the sale goes through and is counted.
		let params = pallet_breaker::BreakerParams {
			sale_cap: u128::MAX,
			..crate::configs::breaker::DefaultBreakerParams::get()
		};
		crate::Breaker::set_breaker_params(crate::RuntimeOrigin::root(), params)
			.expect("valid parameters");
		crate::Breaker::force_level(
			crate::RuntimeOrigin::root(),
			asset,
			pallet_breaker::Level::Throttled,
		)
		.expect("root may force a level");
	}
	fn halt(asset: AssetId) {
		crate::Breaker::force_level(
			crate::RuntimeOrigin::root(),
			asset,
			pallet_breaker::Level::Halted,
		)
		.expect("root may force a level");
	}
}
