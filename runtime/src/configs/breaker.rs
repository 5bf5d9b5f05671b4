//! Cascade control: `pallet-breaker` measures every oracle asset's volatility.

use super::{lending::OrmlOracle, liquidation::USD, AssetKind, MaxFeedValues, Price};
use crate::{assets::USDM, governance, AccountId, AssetConversion, AssetId, Breaker, Runtime};
use frame_support::parameter_types;
use pallet_breaker::{BreakerParams, HaltTrigger, Level, Triggers, VolatilityParams};
use sp_arithmetic::{traits::Saturating, FixedPointNumber, FixedU128, Permill};

parameter_types! {
	/// A guardian's halt lasts a day unless the risk track keeps it (`breaker.forceLevel`): a
	/// referendum there takes at least 1 h 20 min (prepare, confirm, enact).
	pub const GuardianHaltBlocks: u32 = crate::DAYS;
	/// A sample's weight halves in an hour (600 blocks): the estimate follows a crash within
	/// minutes and forgets it within hours.
	pub DefaultVolatilityParams: VolatilityParams = VolatilityParams { half_life_secs: 3_600 };
	/// The oracle guard holds a price more than 5% away from the last accepted one (a move a
	/// 6-second block rarely sees) until the DEX spot follows it (at once), a later block's
	/// feeds move the same way, or 3 blocks pass; fresh feeds more than 5% apart are disputed.
	///
	/// Throttled at 400% annualised volatility (one 5% jump in a block reads ~390%), an 8% range
	/// over 100 blocks (10 minutes) or the DEX spot 5% below the oracle: then at most USD 100,000
	/// of the asset's collateral is sold on the DEX per block (8% of the dev pool's depth), the
	/// rest queued riskiest first. Halted only when the DEX spot stays 15% below the oracle at
	/// the end of 3 blocks in a row in none of which a fresh quorum of feeders re-stated the
	/// price (an oracle that stopped while the market left it; a pool dumped below a live
	/// oracle, which an outsider can buy, is throttled, never halted — the feeders feed every
	/// block): halting sales only because prices move fast lets positions sink (measured by
	/// the cascade benchmark: halting on a 20% range drained the backstop and stalled a 40%
	/// crash; halting on a pool ABOVE the oracle, the best pool to sell into, made most of the
	/// crash's bad debt). A halt ends at the first block the spot is not 15% below the oracle
	/// or the feeders agree again; the throttle steps down after 50 blocks (5 minutes) with
	/// every input below 80% of its trigger; volatility counts from 10 returns.
	pub DefaultBreakerParams: BreakerParams = BreakerParams {
		throttle: Triggers {
			volatility: FixedU128::from_u32(4),
			moved: Permill::from_percent(8),
			divergence: Permill::from_percent(5),
		},
		halt: HaltTrigger { divergence: Permill::from_percent(15), blocks: 3 },
		release: Permill::from_percent(80),
		calm_blocks: 50,
		window_blocks: 100,
		min_samples: 10,
		sale_cap: 100_000 * USD,
		jump: Permill::from_percent(5),
		max_hold_blocks: 3,
	};
}

/// The DEX's spot price of an asset in the oracle's units: its pool against USDM, times
/// USDM's oracle price (per base unit, so decimals need no care).
pub struct PoolSpot;
impl pallet_breaker::DexSpot<AssetId> for PoolSpot {
	fn spot(asset: &AssetId) -> Option<Price> {
		if *asset == USDM {
			return None;
		}
		let (in_asset, in_usdm) =
			AssetConversion::get_reserves(AssetKind::WithId(*asset), AssetKind::WithId(USDM))
				.ok()?;
		let (usdm_price, _) =
			<OrmlOracle as pallet_lending::TimestampedPrices<AssetId>>::timestamped_price(&USDM)?;
		FixedU128::checked_from_rational(in_usdm, in_asset)
			.map(|spot| spot.saturating_mul(usdm_price))
	}
}

/// The breaker's effects, as the lending and liquidation pallets ask for them.
pub struct BreakerEffects;
impl pallet_liquidation::CascadeBreaker<AssetId> for BreakerEffects {
	fn sale_gate(asset: &AssetId) -> pallet_liquidation::SaleGate {
		match Breaker::effective_level(asset) {
			Level::Normal => pallet_liquidation::SaleGate::Open,
			Level::Throttled => pallet_liquidation::SaleGate::Capped(Breaker::sale_left(asset)),
			Level::Halted => pallet_liquidation::SaleGate::Halted,
		}
	}
	fn price_unsettled(asset: &AssetId) -> bool {
		Breaker::price_unsettled(asset)
	}
	fn price_disputed(asset: &AssetId) -> bool {
		Breaker::price_disputed(asset)
	}
	fn price_held(asset: &AssetId) -> bool {
		Breaker::held_price(asset).is_some()
	}
	fn note_sale(asset: &AssetId, value: u128) {
		Breaker::note_sale(asset, value)
	}
	fn volatility(asset: &AssetId) -> Option<Price> {
		Breaker::ranked_volatility(asset)
	}
}
impl pallet_lending::BorrowBreaker<AssetId> for BreakerEffects {
	fn emergency() -> bool {
		Breaker::is_emergency()
	}
	fn halted(asset: &AssetId) -> bool {
		Breaker::effective_level(asset) == Level::Halted || Breaker::price_unsettled(asset)
	}
}

impl pallet_breaker::LatestPrice<AssetId> for OrmlOracle {
	fn latest(asset: &AssetId) -> Option<(Price, u64)> {
		<OrmlOracle as pallet_lending::TimestampedPrices<AssetId>>::timestamped_price(asset)
	}
}

/// What a suggestion assumes: a 99% one-sided fall (2.33 standard deviations) within an hour
/// for a liquidation, within a day for a new borrow.
pub fn suggestion_params() -> pallet_breaker::SuggestionParams {
	pallet_breaker::SuggestionParams {
		z: FixedU128::from_rational(233, 100),
		liquidation_horizon: 3_600,
		borrow_horizon: 86_400,
	}
}

/// The risk parameters `asset`'s measured volatility suggests for its market's bonus (the
/// breaker measures, the lending pallet holds the bonus: the runtime joins them).
pub fn suggestion(asset: AssetId) -> Option<pallet_breaker::Suggestion> {
	use pallet_lending::LendingPositions;
	let sigma = Breaker::asset_breaker(&asset).volatility?;
	let market = <crate::Lending as LendingPositions<AccountId>>::market_params(&asset)?;
	Some(pallet_breaker::suggest::suggest(sigma, market.liquidation_bonus, &suggestion_params()))
}

/// How many feeders the oracle has (the breaker keeps the quorum a strict majority of them).
pub struct FeederCount;
impl frame_support::traits::Get<u32> for FeederCount {
	fn get() -> u32 {
		pallet_membership::Members::<Runtime, super::OracleMembershipInstance>::decode_len()
			.and_then(|n| u32::try_from(n).ok())
			.unwrap_or(0)
	}
}

/// The prices lending and liquidation read: the breaker's checked quote (two ends; a held
/// jump widens them), at its middle where one price is asked for.
pub struct CheckedPrices;
impl pallet_lending::TimestampedPrices<AssetId> for CheckedPrices {
	fn timestamped_price(asset: &AssetId) -> Option<(Price, u64)> {
		Breaker::bounds(asset).map(|(low, high, at)| (pallet_breaker::quote::mid(low, high), at))
	}
	fn timestamped_bounds(asset: &AssetId) -> Option<(Price, Price, u64)> {
		Breaker::bounds(asset)
	}
	fn timestamped_liquidation_bounds(asset: &AssetId) -> Option<(Price, Price, u64)> {
		Breaker::liquidation_bounds(asset)
	}
	fn liquidation_gate(asset: &AssetId) -> Option<Price> {
		Breaker::liquidation_gate(asset)
	}
}

/// The lending markets' liquidation threshold and bonus: a held fall liquidates at once the
/// positions it sinks below the collateral's severity bound (`threshold × (1 + bonus) /
/// (1 − jump)`: XBTC 0.887, MEME 0.666, USDM 0.985), and for `max_hold_blocks` after an
/// accepted fall only those below the bound for a further fall as deep (XBTC after 12%: 0.957).
pub struct LendingTerms;
impl pallet_breaker::CollateralTerms<AssetId> for LendingTerms {
	fn terms(asset: &AssetId) -> Option<(Permill, Permill)> {
		use pallet_lending::LendingPositions;
		<crate::Lending as LendingPositions<AccountId>>::market_params(asset)
			.map(|m| (m.liquidation_threshold, m.liquidation_bonus))
	}
}

/// orml-oracle's `CombineData`: the breaker combines the feeders' values when a feed arrives
/// (a strict majority fresh, two ends, the guard), before any call of the block reads the
/// price; orml stores the accepted middle.
pub struct BreakerCombine;
impl orml_traits::CombineData<AssetId, orml_oracle::TimestampedValue<Price, u64>>
	for BreakerCombine
{
	fn combine_data(
		asset: &AssetId,
		values: alloc::vec::Vec<orml_oracle::TimestampedValue<Price, u64>>,
		prev_value: Option<orml_oracle::TimestampedValue<Price, u64>>,
	) -> Option<orml_oracle::TimestampedValue<Price, u64>> {
		let now = <crate::Timestamp as frame_support::traits::Time>::now();
		let feeds = values.into_iter().map(|v| (v.value, v.timestamp));
		match Breaker::combine(asset, feeds, now, super::OracleValueExpiresIn::get()) {
			Some((value, timestamp)) => Some(orml_oracle::TimestampedValue { value, timestamp }),
			None => prev_value,
		}
	}
}

/// orml-oracle's weights: its own (measured upstream) plus, per value fed, the breaker's
/// combination of every feeder's value (measured at `MaxFeeders`), orml's read of those values
/// (the feeders' and its root operator's, with the member list) and the breaker's note of
/// the asset for the end of the block (a read and a write).
pub struct OracleWeights;
impl orml_oracle::WeightInfo for OracleWeights {
	fn feed_values(c: u32) -> frame_support::weights::Weight {
		use pallet_breaker::WeightInfo as _;
		let feeders = super::MaxFeeders::get();
		let db = <Runtime as frame_system::Config>::DbWeight::get();
		let per_value = pallet_breaker::weights::SubstrateWeight::<Runtime>::combine(feeders)
			.saturating_add(db.reads_writes(u64::from(feeders).saturating_add(3), 1));
		<() as orml_oracle::WeightInfo>::feed_values(c)
			.saturating_add(per_value.saturating_mul(c.into()))
	}
	fn on_finalize() -> frame_support::weights::Weight {
		<() as orml_oracle::WeightInfo>::on_finalize()
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
	type Spot = PoolSpot;
	type Collateral = LendingTerms;
	type DefaultBreakerParams = DefaultBreakerParams;
	type MaxFeeders = super::MaxFeeders;
	type FeederCount = FeederCount;
	type AdminOrigin = governance::RiskAdminOrigin;
	type GuardianOrigin = governance::GuardianOrigin;
	type GuardianHaltBlocks = GuardianHaltBlocks;
	type Rails = super::ParamRails;
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
	fn set_spot(asset: AssetId, price: Price) {
		use frame_support::traits::fungibles::{Inspect, Mutate};
		use pallet_lending::BenchmarkHelper as _;
		use pallet_liquidation::BenchmarkHelper;
		let lp: AccountId = frame_benchmarking::account("spot-lp", asset, 0);
		if !<crate::Assets as Inspect<AccountId>>::asset_exists(asset) {
			super::lending::LendingBenchmarkHelper::create_asset(asset);
		}
		let amount = 1_000_000 * crate::UNIT;
		let usdm = price.saturating_mul_int(amount);
		crate::Assets::mint_into(asset, &lp, amount * 2).expect("mintable");
		crate::Assets::mint_into(USDM, &lp, usdm * 2).expect("mintable");
		super::liquidation::LiquidationBenchmarkHelper::create_pool(&lp, asset, USDM, amount, usdm);
	}
}
