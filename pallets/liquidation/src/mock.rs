//! Test runtime: the real lending pallet, `pallet-assets` (with realistic minimum balances),
//! `pallet-balances`, `pallet-timestamp` and the real DEX (`pallet-asset-conversion`, its pool
//! tokens in a second `pallet-assets`), prices from an in-memory oracle through the lending
//! pallet's own `OraclePrices` adapter.

use crate::{self as pallet_liquidation, *};
use core::cell::RefCell;
use frame_support::{
	assert_ok, derive_impl, ord_parameter_types, parameter_types,
	traits::{
		fungible::{NativeFromLeft, NativeOrWithId, UnionOf},
		fungibles::Inspect,
		AsEnsureOriginWithArg, ConstU128, ConstU32, ConstU64,
	},
	PalletId,
};
use frame_system::{EnsureRoot, EnsureSigned, EnsureSignedBy};
use pallet_asset_conversion::{AccountIdConverter, Ascending, Chain, WithFirstAsset};
use pallet_lending::{MarketParams, MarketStatus, OraclePrices, RateModel, TimestampedPrices};
use sp_arithmetic::{traits::Zero, FixedU128, Permill};
use sp_runtime::{traits::AccountIdConversion, BuildStorage};
use std::collections::BTreeMap;

type Block = frame_system::mocking::MockBlock<Test>;
pub type AccountId = u64;
pub type AssetId = u32;
pub type AssetKind = NativeOrWithId<AssetId>;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Timestamp: pallet_timestamp,
		Balances: pallet_balances,
		Assets: pallet_assets::<Instance1>,
		PoolAssets: pallet_assets::<Instance2>,
		AssetConversion: pallet_asset_conversion,
		AssetsHolder: pallet_assets_holder::<Instance1>,
		Lending: pallet_lending,
		Liquidation: pallet_liquidation,
		Bids: pallet_bids,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountId = AccountId;
	type Lookup = sp_runtime::traits::IdentityLookup<AccountId>;
	type AccountData = pallet_balances::AccountData<u128>;
}

impl pallet_timestamp::Config for Test {
	type Moment = u64;
	type OnTimestampSet = ();
	type MinimumPeriod = ConstU64<1>;
	type WeightInfo = ();
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type Balance = u128;
	type ExistentialDeposit = ConstU128<1>;
	type AccountStore = System;
	type RuntimeHoldReason = RuntimeHoldReason;
}

impl pallet_assets::Config<pallet_assets::Instance1> for Test {
	type RuntimeEvent = RuntimeEvent;
	type RemoveItemsLimit = ConstU32<5>;
	type StringLimit = ConstU32<50>;
	type Extra = ();
	type WeightInfo = ();
	type Balance = u128;
	type AssetId = AssetId;
	type AssetIdParameter = AssetId;
	type Currency = Balances;
	type CreateOrigin = AsEnsureOriginWithArg<EnsureSigned<AccountId>>;
	type ForceOrigin = EnsureRoot<AccountId>;
	type AssetDeposit = ConstU128<0>;
	type AssetAccountDeposit = ConstU128<0>;
	type MetadataDepositBase = ConstU128<0>;
	type MetadataDepositPerByte = ConstU128<0>;
	type ApprovalDeposit = ConstU128<0>;
	type Freezer = ();
	type Holder = AssetsHolder;
	type CallbackHandle = ();
}

impl pallet_assets_holder::Config<pallet_assets::Instance1> for Test {
	type RuntimeHoldReason = RuntimeHoldReason;
	type RuntimeEvent = RuntimeEvent;
}

/// The lending markets and the mock oracle, for the bid book (as the runtime wires them).
pub struct BidMarkets;
impl pallet_bids::BidMarkets<AccountId, AssetId> for BidMarkets {
	fn max_discount(collateral: &AssetId) -> Option<Permill> {
		<Lending as LendingPositions<AccountId>>::market_params(collateral)
			.map(|p| p.liquidation_bonus)
	}
	fn is_market(asset: &AssetId) -> bool {
		<Lending as LendingPositions<AccountId>>::market_params(asset).is_some()
	}
	fn value(asset: &AssetId, amount: u128) -> Option<u128> {
		use sp_arithmetic::FixedPointNumber;
		let price =
			<OraclePrices<MockOracle, Timestamp, MaxPriceAge> as PriceSource<AssetId>>::price(
				asset,
			)
			.ok()?;
		Some(price.saturating_mul_int(amount))
	}
	fn accepts(owner: &AccountId, collateral: &AssetId) -> bool {
		let supplies = <Lending as LendingPositions<AccountId>>::account_assets(owner).supplies;
		supplies.iter().any(|(asset, _)| asset == collateral)
			|| supplies.len() < MAX_ASSETS as usize
	}
}

impl pallet_bids::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type AssetId = AssetId;
	type AssetHolds = AssetsHolder;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Markets = BidMarkets;
	type BidDeposit = ConstU128<1_000>;
	type MinBidValue = ConstU128<1_000>;
	type ActivationDelay = ConstU64<2>;
	type MaxLifetime = ConstU64<1_000>;
	type MaxBidsPerPair = ConstU32<8>;
	type MaxBidsPerAccount = ConstU32<4>;
	type MaxFills = ConstU32<3>;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = BidsBenchmarkHelper;
}

#[cfg(feature = "runtime-benchmarks")]
pub struct BidsBenchmarkHelper;
#[cfg(feature = "runtime-benchmarks")]
impl pallet_bids::BenchmarkHelper<AssetId, AccountId> for BidsBenchmarkHelper {
	fn pair() -> (AssetId, AssetId) {
		(BTC, USD)
	}
	fn fund(who: &AccountId, asset: AssetId, amount: u128) {
		mint(asset, *who, amount);
		frame_support::assert_ok!(
			<Balances as frame_support::traits::fungible::Mutate<_>>::mint_into(who, START)
		);
	}
}

/// The liquidation pallet's view of the bid book (as the runtime's `BidBook`).
pub struct BidBook;
impl StandingBids<AccountId, AssetId> for BidBook {
	fn quote(
		collateral: AssetId,
		debt: AssetId,
		repay: u128,
		prices: (FixedU128, FixedU128),
		max_discount: Permill,
		sellers: &[AccountId],
	) -> Vec<BidFill<AccountId>> {
		Bids::quote(collateral, debt, repay, prices, max_discount, sellers)
			.into_iter()
			.map(|f| BidFill { id: f.id, owner: f.owner, collateral: f.collateral, debt: f.debt })
			.collect()
	}
	fn take(fill: &BidFill<AccountId>, to: &AccountId) -> sp_runtime::DispatchResult {
		let fill = pallet_bids::Fill {
			id: fill.id,
			owner: fill.owner,
			collateral: fill.collateral,
			debt: fill.debt,
		};
		Bids::take(&fill, to)
	}
	fn quote_weight() -> frame_support::weights::Weight {
		// Each bid read also reads its owner's positions (`BidMarkets::accepts`).
		<() as pallet_bids::WeightInfo>::quote()
			.saturating_add(frame_support::weights::constants::RocksDbWeight::get().reads(3))
	}
	fn take_weight() -> frame_support::weights::Weight {
		<() as pallet_bids::WeightInfo>::take()
	}
	fn max_fills() -> u32 {
		3
	}
	fn has_bids(collateral: AssetId, debt: AssetId) -> bool {
		// As the runtime's: unexpired, active before the worker's call expires.
		let now = System::block_number();
		let longevity =
			<<Test as crate::Config>::UnsignedLongevity as frame_support::traits::Get<u32>>::get();
		let until = now.saturating_add(longevity.saturating_add(1).into());
		pallet_bids::Book::<Test>::get((collateral, debt))
			.iter()
			.any(|entry| now < entry.expires_at && entry.active_from <= until)
	}
}

parameter_types! {
	pub const UnsignedShare: sp_runtime::Perbill = sp_runtime::Perbill::from_percent(50);
	pub const AssetConversionPalletId: PalletId = PalletId(*b"py/ascon");
	pub const Native: AssetKind = NativeOrWithId::Native;
}

ord_parameter_types! {
	pub const AssetConversionOrigin: AccountId =
		AccountIdConversion::<AccountId>::into_account_truncating(&AssetConversionPalletId::get());
	/// The account whose calls stand for a referendum on the risk track (bounded).
	pub const Steward: AccountId = STEWARD;
	/// The guardian: may pause a market.
	pub const Guardian: AccountId = GUARDIAN;
}

parameter_types! {
	pub const Bounded: Authority = Authority::Bounded;
	pub const Unbounded: Authority = Authority::Unbounded;
	/// The rails of a bounded change of a market (the runtime's, with a 10-block interval).
	pub const MarketRails: pallet_lending::MarketRails = pallet_lending::MarketRails {
		min_interval: 10,
		factor_step: Permill::from_percent(5),
		bonus_step: Permill::from_percent(2),
		share_step: Permill::from_percent(10),
		rate_step: FixedU128::from_rational(10, 100),
		amount_factor: 2,
	};
	/// The rails of a bounded change of the liquidation and auction parameters (the
	/// runtime's, with a 10-block interval).
	pub const ParamRails: margincall_rails::ParamRails = margincall_rails::ParamRails {
		min_interval: 10,
		points: Permill::from_percent(5),
		share: Permill::from_percent(5),
		factor: 2,
	};
}

/// Root changes within absolute bounds; [`STEWARD`] (the risk track) within the rails too.
pub type RiskAdmin = frame_support::traits::EitherOf<
	frame_support::traits::MapSuccess<
		EnsureRoot<AccountId>,
		sp_runtime::traits::Replace<Unbounded>,
	>,
	frame_support::traits::MapSuccess<
		EnsureSignedBy<Steward, AccountId>,
		sp_runtime::traits::Replace<Bounded>,
	>,
>;

impl pallet_assets::Config<pallet_assets::Instance2> for Test {
	type RuntimeEvent = RuntimeEvent;
	type RemoveItemsLimit = ConstU32<5>;
	type StringLimit = ConstU32<50>;
	type Extra = ();
	type WeightInfo = ();
	type Balance = u128;
	type AssetId = u32;
	type AssetIdParameter = u32;
	type Currency = Balances;
	type CreateOrigin = AsEnsureOriginWithArg<EnsureSignedBy<AssetConversionOrigin, AccountId>>;
	type ForceOrigin = EnsureRoot<AccountId>;
	type AssetDeposit = ConstU128<0>;
	type AssetAccountDeposit = ConstU128<0>;
	type MetadataDepositBase = ConstU128<0>;
	type MetadataDepositPerByte = ConstU128<0>;
	type ApprovalDeposit = ConstU128<0>;
	type Freezer = ();
	type Holder = ();
	type CallbackHandle = ();
}

pub type NativeAndAssets = UnionOf<Balances, Assets, NativeFromLeft, AssetKind, AccountId>;
pub type PoolIdToAccountId = AccountIdConverter<AssetConversionPalletId, (AssetKind, AssetKind)>;
pub type PoolLocator = Chain<
	WithFirstAsset<Native, AccountId, AssetKind, PoolIdToAccountId>,
	Ascending<AccountId, AssetKind, PoolIdToAccountId>,
>;

impl pallet_asset_conversion::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type Balance = u128;
	type HigherPrecisionBalance = sp_core::U256;
	type AssetKind = AssetKind;
	type Assets = NativeAndAssets;
	type PoolId = (AssetKind, AssetKind);
	type PoolLocator = PoolLocator;
	type PoolAssetId = u32;
	type PoolAssets = PoolAssets;
	type PoolSetupFee = ConstU128<0>;
	type PoolSetupFeeAsset = Native;
	type PoolSetupFeeTarget = ();
	type PalletId = AssetConversionPalletId;
	/// 0.3%, as the runtime.
	type LPFee = ConstU32<3>;
	type LiquidityWithdrawalFee = LiquidityWithdrawalFee;
	type MaxSwapPathLength = ConstU32<4>;
	type MintMinLiquidity = ConstU128<100>;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = pallet_asset_conversion::NativeOrWithIdFactory<AssetId>;
}

parameter_types! {
	pub const LiquidityWithdrawalFee: Permill = Permill::zero();
}

thread_local! {
	static PRICES: RefCell<BTreeMap<AssetId, (FixedU128, u64)>> =
		const { RefCell::new(BTreeMap::new()) };
	/// `(low, high)` of assets whose feeds disagree (absent: the one price twice).
	static SPANS: RefCell<BTreeMap<AssetId, (FixedU128, FixedU128)>> =
		const { RefCell::new(BTreeMap::new()) };
	static BREAKER: RefCell<MockBreakerState> = RefCell::new(MockBreakerState::default());
}

/// What the mock breaker holds: per asset a gate (absent: open), the value sold in each block,
/// and measured volatilities.
#[derive(Default)]
pub struct MockBreakerState {
	/// `Some(cap)`: throttled with that cap per block; `None`: halted.
	pub gates: BTreeMap<AssetId, Option<u128>>,
	/// `(asset, block) -> value sold`.
	pub sold: BTreeMap<(AssetId, u64), u128>,
	pub volatility: BTreeMap<AssetId, FixedU128>,
	/// Assets whose latest price the guard holds.
	pub held: Vec<AssetId>,
	/// Assets whose latest fresh feeds disagree.
	pub disputed: Vec<AssetId>,
	/// Gates of a liquidation against collaterals in an accepted fall's wait (the runtime's
	/// breaker sets them for `max_hold_blocks` after a fall beyond its jump; here a test).
	pub liquidation_gates: BTreeMap<AssetId, FixedU128>,
}

/// A circuit breaker whose levels tests set (the real one is tested in `pallet-breaker` and,
/// wired, in the runtime).
pub struct MockBreaker;
impl MockBreaker {
	pub fn throttle(asset: AssetId, cap: u128) {
		BREAKER.with(|b| b.borrow_mut().gates.insert(asset, Some(cap)));
	}
	pub fn halt(asset: AssetId) {
		BREAKER.with(|b| b.borrow_mut().gates.insert(asset, None));
	}
	pub fn open(asset: AssetId) {
		BREAKER.with(|b| b.borrow_mut().gates.remove(&asset));
	}
	pub fn hold(asset: AssetId) {
		BREAKER.with(|b| b.borrow_mut().held.push(asset));
	}
	pub fn dispute(asset: AssetId) {
		BREAKER.with(|b| b.borrow_mut().disputed.push(asset));
	}
	/// Releases a hold and ends a dispute of `asset`.
	pub fn release(asset: AssetId) {
		BREAKER.with(|b| b.borrow_mut().held.retain(|a| *a != asset));
		BREAKER.with(|b| b.borrow_mut().disputed.retain(|a| *a != asset));
	}
	pub fn is_disputed(asset: AssetId) -> bool {
		BREAKER.with(|b| b.borrow().disputed.contains(&asset))
	}
	pub fn is_held(asset: AssetId) -> bool {
		BREAKER.with(|b| b.borrow().held.contains(&asset))
	}
	/// Gates a liquidation against `asset` as collateral by `gate` (`None`: no gate).
	pub fn gate(asset: AssetId, gate: Option<FixedU128>) {
		BREAKER.with(|b| match gate {
			Some(gate) => b.borrow_mut().liquidation_gates.insert(asset, gate),
			None => b.borrow_mut().liquidation_gates.remove(&asset),
		});
	}
	pub fn set_volatility(asset: AssetId, annualised: FixedU128) {
		BREAKER.with(|b| b.borrow_mut().volatility.insert(asset, annualised));
	}
	/// Value of `asset` sold in this block.
	pub fn sold(asset: AssetId) -> u128 {
		let now = System::block_number();
		BREAKER.with(|b| b.borrow().sold.get(&(asset, now)).copied().unwrap_or(0))
	}
	pub fn clear() {
		BREAKER.with(|b| *b.borrow_mut() = MockBreakerState::default());
	}
	/// The value sold by asset and block (kept outside storage: a rolled-back call's sales
	/// stay in it unless restored with [`Self::restore_sold`]).
	pub fn sold_tally() -> BTreeMap<(AssetId, u64), u128> {
		BREAKER.with(|b| b.borrow().sold.clone())
	}
	pub fn restore_sold(sold: BTreeMap<(AssetId, u64), u128>) {
		BREAKER.with(|b| b.borrow_mut().sold = sold);
	}
}
impl crate::CascadeBreaker<AssetId> for MockBreaker {
	fn sale_gate(asset: &AssetId) -> crate::SaleGate {
		match BREAKER.with(|b| b.borrow().gates.get(asset).copied()) {
			None => crate::SaleGate::Open,
			Some(None) => crate::SaleGate::Halted,
			Some(Some(cap)) => crate::SaleGate::Capped(cap.saturating_sub(Self::sold(*asset))),
		}
	}
	fn price_unsettled(asset: &AssetId) -> bool {
		BREAKER.with(|b| b.borrow().held.contains(asset) || b.borrow().disputed.contains(asset))
	}
	fn price_disputed(asset: &AssetId) -> bool {
		BREAKER.with(|b| b.borrow().disputed.contains(asset))
	}
	fn price_held(asset: &AssetId) -> bool {
		BREAKER.with(|b| b.borrow().held.contains(asset))
	}
	fn note_sale(asset: &AssetId, value: u128) {
		let now = System::block_number();
		BREAKER.with(|b| *b.borrow_mut().sold.entry((*asset, now)).or_default() += value);
	}
	fn volatility(asset: &AssetId) -> Option<FixedU128> {
		BREAKER.with(|b| b.borrow().volatility.get(asset).copied())
	}
}

/// An oracle whose values tests set directly.
pub struct MockOracle;
impl MockOracle {
	/// Sets `price` for `asset`, stamped with the current block time.
	pub fn set(asset: AssetId, price: FixedU128) {
		Self::set_at(asset, price, Timestamp::get());
	}
	/// Sets `price` for `asset`, stamped with `timestamp` (one price: a span ends).
	pub fn set_at(asset: AssetId, price: FixedU128, timestamp: u64) {
		PRICES.with(|p| p.borrow_mut().insert(asset, (price, timestamp)));
		SPANS.with(|s| s.borrow_mut().remove(&asset));
	}
	/// Sets `price` for `asset` with feeds that disagree between `low` and `high` (what the
	/// runtime's breaker quotes in a dispute), stamped with the current block time.
	pub fn set_span(asset: AssetId, price: FixedU128, low: FixedU128, high: FixedU128) {
		Self::set(asset, price);
		SPANS.with(|s| s.borrow_mut().insert(asset, (low, high)));
	}
	/// Stamps `asset`'s price and span again with the current block time (a feeder repeating
	/// the same values).
	pub fn restamp(asset: AssetId) {
		let now = Timestamp::get();
		PRICES.with(|p| p.borrow_mut().get_mut(&asset).map(|(_, at)| *at = now));
	}
	/// Whether any asset's feeds disagree.
	pub fn spanned() -> bool {
		SPANS.with(|s| !s.borrow().is_empty())
	}
	/// Removes `asset`'s price.
	pub fn remove(asset: AssetId) {
		PRICES.with(|p| p.borrow_mut().remove(&asset));
		SPANS.with(|s| s.borrow_mut().remove(&asset));
	}
	fn clear() {
		PRICES.with(|p| p.borrow_mut().clear());
		SPANS.with(|s| s.borrow_mut().clear());
	}
}
impl TimestampedPrices<AssetId> for MockOracle {
	fn timestamped_price(asset: &AssetId) -> Option<(FixedU128, u64)> {
		PRICES.with(|p| p.borrow().get(asset).copied())
	}
	fn timestamped_bounds(asset: &AssetId) -> Option<(FixedU128, FixedU128, u64)> {
		let (price, at) = Self::timestamped_price(asset)?;
		let (low, high) = SPANS.with(|s| s.borrow().get(asset).copied()).unwrap_or((price, price));
		Some((low, high, at))
	}
	fn liquidation_gate(asset: &AssetId) -> Option<FixedU128> {
		BREAKER.with(|b| b.borrow().liquidation_gates.get(asset).copied())
	}
}

parameter_types! {
	pub const LendingPalletId: PalletId = PalletId(*b"mc/lend_");
	// Distinct in their first four bytes: a u64 account id keeps only "modl" and those.
	pub const LiquidationPalletId: PalletId = PalletId(*b"lq/work_");
	pub const InsurancePalletId: PalletId = PalletId(*b"in/insur");
	/// One hour.
	pub const MaxPriceAge: u64 = 3_600_000;
	/// Six hours.
	pub const StalePriceGrace: u64 = 6 * 3_600_000;
	pub MaxBorrowRate: FixedU128 = FixedU128::from_u32(10);
	pub DefaultParams: LiquidationParams = default_params();
	pub const MaxDustValue: u128 = 1_000_000;
	/// The backstop may spend all of the treasury in a block unless a test lowers it.
	pub static BackstopBlockShare: Permill = Permill::one();
	/// Start 10% above the oracle, 1% lower each block, floor 20% below, reset beyond 30%
	/// below the oracle or after 100 blocks.
	/// The runtime's pre-liquidation caps.
	pub DefaultPreLiquidationRules: PreLiquidationRules = PreLiquidationRules {
		max_band: FixedU128::from_rational(3, 2),
		max_close_share: Permill::from_percent(25),
		max_bonus: Permill::from_percent(3),
		horizon: 86_400,
	};
	pub DefaultAuctionParams: AuctionParams = AuctionParams {
		buf: Permill::from_percent(10),
		step: Permill::from_percent(1),
		floor: Permill::from_percent(20),
		cusp: Permill::from_percent(30),
		tail: 100,
	};
}

/// Most markets per account in the mock.
pub const MAX_ASSETS: u32 = 4;

/// Only `GOV` holds asset roles.
pub struct AssetAdmins;
impl frame_support::traits::Contains<AccountId> for AssetAdmins {
	fn contains(who: &AccountId) -> bool {
		*who == GOV
	}
}

impl pallet_lending::Config for Test {
	type AssetId = AssetId;
	type Assets = Assets;
	type AssetAdmins = AssetAdmins;
	type Prices = OraclePrices<MockOracle, Timestamp, MaxPriceAge>;
	type StalePriceGrace = StalePriceGrace;
	type UnixTime = Timestamp;
	type UpdateOrigin = RiskAdmin;
	type PauseOrigin = EnsureSignedBy<Guardian, AccountId>;
	type Rails = MarketRails;
	type OnPositionChanged = Liquidation;
	type Breaker = ();
	type PalletId = LendingPalletId;
	type MaxAssetsPerAccount = ConstU32<MAX_ASSETS>;
	type MaxBorrowRate = MaxBorrowRate;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = MockBenchmarkHelper;
}

/// A market's asset id as the DEX names it.
pub struct WithId;
impl sp_runtime::traits::Convert<AssetId, AssetKind> for WithId {
	fn convert(asset: AssetId) -> AssetKind {
		NativeOrWithId::WithId(asset)
	}
}

impl Config for Test {
	type AssetId = AssetId;
	type Assets = Assets;
	type Lending = Lending;
	type Prices = OraclePrices<MockOracle, Timestamp, MaxPriceAge>;
	type DexAssetKind = AssetKind;
	type ToDexAsset = WithId;
	type Dex = AssetConversion;
	type DexReserves = AssetConversion;
	type RiskAdmin = RiskAdmin;
	type Rails = ParamRails;
	type PalletId = LiquidationPalletId;
	type InsurancePalletId = InsurancePalletId;
	type DefaultParams = DefaultParams;
	type MaxDustValue = MaxDustValue;
	type MaxDebts = ConstU32<MAX_ASSETS>;
	type EpochBlocks = ConstU32<100>;
	type MaxRefile = ConstU32<16>;
	type UnsignedPriority = ConstU64<{ u64::MAX / 4 }>;
	type UnsignedLongevity = ConstU32<3>;
	/// Half the normal class: the other half is the signed calls' in a cascade.
	type UnsignedShare = UnsignedShare;
	type MaxChecksPerRun = ConstU32<4>;
	type SweepPerRun = SweepPerRun;
	type MaxSettleBatch = ConstU32<16>;
	type MaxBatchPairs = ConstU32<2>;
	type Breaker = MockBreaker;
	type Bids = BidBook;
	type MaxSaleQueue = ConstU32<4>;
	type MaxQueueAge = ConstU32<10>;
	type ShortfallWait = ConstU32<20>;
	type BackstopBlockShare = BackstopBlockShare;
	type DefaultAuctionParams = DefaultAuctionParams;
	type DefaultPreLiquidationRules = DefaultPreLiquidationRules;
	type MaxAuctions = ConstU32<3>;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = MockBenchmarkHelper;
}

parameter_types! {
	/// The worker's sweep is off unless a test turns it on.
	pub static SweepPerRun: u32 = 0;
}

impl<C> frame_system::offchain::CreateTransactionBase<C> for Test
where
	RuntimeCall: From<C>,
{
	type Extrinsic = frame_system::mocking::MockUncheckedExtrinsic<Test>;
	type RuntimeCall = RuntimeCall;
}

impl<C> frame_system::offchain::CreateBare<C> for Test
where
	RuntimeCall: From<C>,
{
	fn create_bare(call: RuntimeCall) -> Self::Extrinsic {
		frame_system::mocking::MockUncheckedExtrinsic::<Test>::new_bare(call)
	}
}

/// Benchmarks in the mock.
#[cfg(feature = "runtime-benchmarks")]
pub struct MockBenchmarkHelper;
#[cfg(feature = "runtime-benchmarks")]
impl pallet_lending::BenchmarkHelper<AssetId, AccountId> for MockBenchmarkHelper {
	fn asset(i: u32) -> AssetId {
		1000 + i
	}
	fn create_asset(asset: AssetId) {
		assert_ok!(Assets::force_create(RuntimeOrigin::root(), asset, GOV, true, 1_000));
	}
	fn set_price(asset: AssetId, price: FixedU128) {
		MockOracle::set(asset, price);
	}
	fn set_time(now: u64) {
		Timestamp::set_timestamp(now);
	}
}
#[cfg(feature = "runtime-benchmarks")]
impl crate::BenchmarkHelper<AssetId, AccountId> for MockBenchmarkHelper {
	fn create_pool(lp: &AccountId, a: AssetId, b: AssetId, amount_a: u128, amount_b: u128) {
		// Pool tokens are not sufficient: the provider needs a native account.
		assert_ok!(<Balances as frame_support::traits::fungible::Mutate<AccountId>>::mint_into(
			lp, START
		));
		create_pool(*lp, a, b, amount_a, amount_b);
	}
	fn throttle(asset: AssetId) {
		MockBreaker::throttle(asset, u128::MAX);
	}
	fn halt(asset: AssetId) {
		MockBreaker::halt(asset);
	}
}

// Accounts.
/// The borrower.
pub const ALICE: AccountId = 1;
/// A keeper.
pub const BOB: AccountId = 2;
/// Calls `settle`.
pub const CHARLIE: AccountId = 3;
/// Supplies the lending markets.
pub const DAVE: AccountId = 4;
/// Provides DEX liquidity.
pub const LP: AccountId = 5;
/// Owns the assets, funds reserve floors.
pub const GOV: AccountId = 100;
/// Stands for a referendum on the risk track: changes within the rails.
pub const STEWARD: AccountId = 90;
/// The guardian: pauses markets.
pub const GUARDIAN: AccountId = 91;

// Assets.
pub const USD: AssetId = 1;
pub const BTC: AssetId = 2;
pub const MEME: AssetId = 3;
/// An asset with a minimum balance of 10⁶ (as the runtime's USDM).
pub const ETH: AssetId = 4;
/// An asset with no market.
pub const NO_MARKET: AssetId = 9;
/// Minimum balance of the assets other than ETH.
pub const MIN: u128 = 1_000;
pub const ETH_MIN: u128 = 1_000_000;

/// Every account starts with this much of every asset.
pub const START: u128 = 1_000_000_000_000;
/// Genesis time (ms).
pub const T0: u64 = 1_700_000_000_000;

pub fn fx(n: u128, d: u128) -> FixedU128 {
	FixedU128::from_rational(n, d)
}

pub fn default_params() -> LiquidationParams {
	LiquidationParams {
		target_health: fx(105, 100),
		health_for_max_discount: fx(90, 100),
		min_discount_share: Permill::from_percent(50),
		protocol_fee: Permill::from_percent(10),
		insurance_share: Permill::from_percent(50),
		caller_tip: Permill::from_parts(1_000),
		caller_tip_cap: 10_000,
		max_slippage: Permill::from_percent(3),
		backstop_discount: Permill::from_percent(2),
		dust_value: 1_000,
		// No depth cap unless a test sets one (tests/breaker.rs).
		pool_block_share: Permill::one(),
	}
}

fn zero_rates() -> RateModel {
	RateModel {
		base: FixedU128::zero(),
		slope1: fx(4, 100),
		kink: fx(80, 100),
		slope2: fx(75, 100),
	}
}

pub fn usd_params() -> MarketParams {
	MarketParams {
		collateral_factor: Permill::from_percent(80),
		liquidation_threshold: Permill::from_percent(85),
		liquidation_bonus: Permill::from_percent(5),
		close_factor: Permill::from_percent(50),
		reserve_factor: Permill::from_percent(10),
		supply_cap: u128::MAX,
		borrow_cap: u128::MAX,
		min_borrow_value: 0,
		rate_model: zero_rates(),
		collateral_enabled: true,
		borrow_enabled: true,
		status: MarketStatus::Active,
	}
}

pub fn btc_params() -> MarketParams {
	MarketParams {
		collateral_factor: Permill::from_percent(70),
		liquidation_threshold: Permill::from_percent(75),
		liquidation_bonus: Permill::from_percent(10),
		..usd_params()
	}
}

pub fn meme_params() -> MarketParams {
	MarketParams {
		collateral_factor: Permill::from_percent(40),
		liquidation_threshold: Permill::from_percent(50),
		liquidation_bonus: Permill::from_percent(15),
		..usd_params()
	}
}

/// A pool holding `amount_a` of `a` and `amount_b` of `b`, funded by `lp`.
pub fn create_pool(lp: AccountId, a: AssetId, b: AssetId, amount_a: u128, amount_b: u128) {
	let (ka, kb) = (Box::new(NativeOrWithId::WithId(a)), Box::new(NativeOrWithId::WithId(b)));
	assert_ok!(AssetConversion::create_pool(RuntimeOrigin::signed(lp), ka.clone(), kb.clone()));
	assert_ok!(AssetConversion::add_liquidity(
		RuntimeOrigin::signed(lp),
		ka,
		kb,
		amount_a,
		amount_b,
		amount_a,
		amount_b,
		lp,
	));
}

/// Initial oracle prices (reference units per base unit).
pub const USD_PRICE: u128 = 1;
pub const BTC_PRICE: u128 = 100;

pub struct ExtBuilder {
	pools: bool,
}

impl Default for ExtBuilder {
	fn default() -> Self {
		Self { pools: true }
	}
}

impl ExtBuilder {
	/// No DEX pools.
	pub fn without_pools(mut self) -> Self {
		self.pools = false;
		self
	}

	pub fn build(self) -> sp_io::TestExternalities {
		MockOracle::clear();
		MockBreaker::clear();
		let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
		let accounts = [ALICE, BOB, CHARLIE, DAVE, LP, GOV];
		pallet_balances::GenesisConfig::<Test> {
			balances: accounts.iter().map(|a| (*a, START)).collect(),
			..Default::default()
		}
		.assimilate_storage(&mut storage)
		.unwrap();
		pallet_assets::GenesisConfig::<Test, pallet_assets::Instance1> {
			assets: [USD, BTC, MEME, NO_MARKET]
				.iter()
				.map(|id| (*id, GOV, true, MIN))
				.chain([(ETH, GOV, true, ETH_MIN)])
				.collect(),
			metadata: vec![],
			accounts: [USD, BTC, MEME, NO_MARKET, ETH]
				.iter()
				.flat_map(|id| accounts.iter().map(move |a| (*id, *a, START)))
				.collect(),
			next_asset_id: None,
		}
		.assimilate_storage(&mut storage)
		.unwrap();
		let mut ext = sp_io::TestExternalities::new(storage);
		let pools = self.pools;
		ext.execute_with(|| {
			System::set_block_number(1);
			Timestamp::set_timestamp(T0);
			MockOracle::set(USD, FixedU128::from_u32(USD_PRICE as u32));
			MockOracle::set(BTC, FixedU128::from_u32(BTC_PRICE as u32));
			MockOracle::set(MEME, fx(1, 2));
			MockOracle::set(ETH, FixedU128::from_u32(2));
			MockOracle::set(NO_MARKET, FixedU128::from_u32(1));
			for (asset, params, floor) in [
				(USD, usd_params(), MIN),
				(BTC, btc_params(), MIN),
				(MEME, meme_params(), MIN),
				(ETH, btc_params(), ETH_MIN),
			] {
				assert_ok!(Lending::create_market(RuntimeOrigin::root(), asset, params));
				assert_ok!(Lending::add_reserves(RuntimeOrigin::signed(GOV), asset, floor));
			}
			// Dave supplies every market, so borrowers have liquidity.
			for asset in [USD, BTC, MEME, ETH] {
				assert_ok!(Lending::supply(RuntimeOrigin::signed(DAVE), asset, 100_000_000_000));
			}
			// The risk index's first epoch, as the first block's `on_initialize` takes it.
			Liquidation::new_epoch(1);
			if pools {
				// Pools at the oracle price: 10⁸ BTC against 10¹⁰ USD; 2·10⁹ MEME against 10⁹ USD.
				create_pool(LP, USD, BTC, 10_000_000_000, 100_000_000);
				create_pool(LP, USD, MEME, 1_000_000_000, 2_000_000_000);
			}
			System::reset_events();
		});
		ext
	}

	/// Runs `test`, then checks both pallets' invariants.
	pub fn build_and_execute(self, test: impl FnOnce()) {
		self.build().execute_with(|| {
			test();
			Lending::do_try_state().expect("lending invariants hold after the test");
			Liquidation::do_try_state().expect("liquidation invariants hold after the test");
		})
	}
}

/// The liquidation events since the last reset.
pub fn events() -> Vec<Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|r| if let RuntimeEvent::Liquidation(e) = r.event { Some(e) } else { None })
		.collect()
}

pub fn balance(asset: AssetId, who: AccountId) -> u128 {
	<Assets as Inspect<AccountId>>::balance(asset, &who)
}

pub fn supplied(who: AccountId, asset: AssetId) -> u128 {
	<Lending as LendingPositions<AccountId>>::supplied(&who, &asset).unwrap()
}

pub fn debt(who: AccountId, asset: AssetId) -> u128 {
	<Lending as LendingPositions<AccountId>>::debt(&who, &asset).unwrap()
}

pub fn health(who: AccountId) -> FixedU128 {
	<Lending as LendingPositions<AccountId>>::account_health(&who).unwrap().factor
}

pub fn insurance() -> AccountId {
	Liquidation::insurance_account()
}

/// Mints `amount` of `asset` to `who`.
pub fn mint(asset: AssetId, who: AccountId, amount: u128) {
	assert_ok!(<Assets as frame_support::traits::fungibles::Mutate<AccountId>>::mint_into(
		asset, &who, amount
	));
}

/// Reserves of the pool between `a` and `b`, as `(a, b)`.
pub fn pool_reserves(a: AssetId, b: AssetId) -> (u128, u128) {
	AssetConversion::get_reserves(NativeOrWithId::WithId(a), NativeOrWithId::WithId(b)).unwrap()
}

/// Alice supplies `btc` BTC and borrows `usd` USD.
pub fn alice_borrows(btc: u128, usd: u128) {
	assert_ok!(Lending::supply(RuntimeOrigin::signed(ALICE), BTC, btc));
	assert_ok!(Lending::borrow(RuntimeOrigin::signed(ALICE), USD, usd));
}

/// A property-test runner: `cases_var` (or `default_cases`) sequences drawn from a fixed seed,
/// so CI runs the same sequences every time and a reach assertion cannot flake;
/// `PROPTEST_SEED=<n>` draws another set.
pub fn proptest_runner(cases_var: &str, default_cases: u32) -> proptest::test_runner::TestRunner {
	use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
	let cases = std::env::var(cases_var).ok().and_then(|v| v.parse().ok()).unwrap_or(default_cases);
	let seed: u64 = std::env::var("PROPTEST_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(1);
	let mut bytes = [0u8; 32];
	bytes[..8].copy_from_slice(&seed.to_le_bytes());
	TestRunner::new_with_rng(
		Config { cases, failure_persistence: None, ..Config::default() },
		TestRng::from_seed(RngAlgorithm::ChaCha, &bytes),
	)
}

/// The start price of each market's asset, as [`ExtBuilder`] sets it.
pub fn start_price(asset: AssetId) -> FixedU128 {
	match asset {
		USD => FixedU128::from_u32(USD_PRICE as u32),
		BTC => FixedU128::from_u32(BTC_PRICE as u32),
		ETH => FixedU128::from_u32(2),
		_ => fx(1, 2),
	}
}

/// Feeds every market's asset again at its latest price and span (fresh after time passed).
pub fn refresh() {
	for asset in [USD, BTC, MEME, ETH] {
		MockOracle::restamp(asset);
	}
}

/// `who` borrows `percent` of its remaining borrowing power in `asset` (a refusal is ignored:
/// the property tests try calls that may fail).
pub fn borrow_share(who: AccountId, asset: AssetId, percent: u32) {
	use sp_arithmetic::traits::CheckedDiv;
	let Ok(health) = <Lending as LendingPositions<AccountId>>::account_health(&who) else {
		return;
	};
	let room = health.borrow_limit.saturating_sub(health.debt_value);
	let price = MockOracle::timestamped_price(&asset).expect("every asset is priced").0;
	let units = FixedU128::from_inner(room.saturating_mul(u128::from(percent)) / 100)
		.checked_div(&price)
		.map(|x| x.into_inner())
		.unwrap_or(0);
	let _ = Lending::borrow(RuntimeOrigin::signed(who), asset, units);
}
