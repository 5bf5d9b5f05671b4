//! `Config` of every pallet in the runtime.

mod accounts;
pub mod bids;
pub mod breaker;
mod lending;
mod liquidation;
pub use accounts::ProxyType;
pub use lending::*;
pub use liquidation::*;

use alloc::vec;

use frame_support::{
	derive_impl, ord_parameter_types, parameter_types,
	traits::{
		fungible::HoldConsideration,
		tokens::{
			fungible::{NativeFromLeft, UnionOf},
			imbalance::ResolveAssetTo,
		},
		AsEnsureOriginWithArg, ConstBool, ConstU128, ConstU32, ConstU64, ConstU8,
		LinearStoragePrice, VariantCountOf,
	},
	weights::{constants::WEIGHT_REF_TIME_PER_SECOND, IdentityFee, Weight},
	PalletId,
};
use frame_system::{
	limits::{BlockLength, BlockWeights},
	EnsureRoot, EnsureSigned,
};
use pallet_asset_conversion::{AccountIdConverter, Ascending, Chain, WithFirstAsset};
use pallet_transaction_payment::{ConstFeeMultiplier, FungibleAdapter, Multiplier};
use sp_arithmetic::FixedU128;
use sp_consensus_aura::sr25519::AuthorityId as AuraId;
use sp_runtime::{
	traits::{AccountIdConversion, One},
	Perbill, Permill,
};
use sp_version::RuntimeVersion;

use super::{
	AccountId, AssetId, AssetKind, Assets, Aura, Balance, Balances, Block, BlockNumber, Hash,
	Nonce, Oracle, OracleMembership, OriginCaller, PalletInfo, PoolAssets, Preimage, Referenda,
	Runtime, RuntimeCall, RuntimeEvent, RuntimeFreezeReason, RuntimeHoldReason, RuntimeOrigin,
	RuntimeTask, Scheduler, System, Timestamp, DAYS, EXISTENTIAL_DEPOSIT, MILLI_UNIT,
	SLOT_DURATION, UNIT, VERSION,
};
use crate::governance;

const NORMAL_DISPATCH_RATIO: Perbill = Perbill::from_percent(75);

parameter_types! {
	pub const BlockHashCount: BlockNumber = super::BLOCK_HASH_COUNT;
	pub const Version: RuntimeVersion = VERSION;
	/// 2 seconds of compute in a 6 second block.
	pub RuntimeBlockWeights: BlockWeights = BlockWeights::with_sensible_defaults(
		Weight::from_parts(2u64 * WEIGHT_REF_TIME_PER_SECOND, u64::MAX),
		NORMAL_DISPATCH_RATIO,
	);
	pub RuntimeBlockLength: BlockLength = BlockLength::max_with_normal_ratio(5 * 1024 * 1024, NORMAL_DISPATCH_RATIO);
	pub const SS58Prefix: u8 = 42;
}

#[derive_impl(frame_system::config_preludes::SolochainDefaultConfig)]
impl frame_system::Config for Runtime {
	type Block = Block;
	type BlockWeights = RuntimeBlockWeights;
	type BlockLength = RuntimeBlockLength;
	type AccountId = AccountId;
	type Nonce = Nonce;
	type Hash = Hash;
	type BlockHashCount = BlockHashCount;
	// ParityDB, measured on this chain's state grown to a million accounts
	// (`benchmarking/storage-weights.sh`), not the RocksDB defaults (25 µs a read, 100 µs a write).
	type DbWeight = crate::weights::paritydb_weights::constants::ParityDbWeight;
	type Version = Version;
	type AccountData = pallet_balances::AccountData<Balance>;
	type SS58Prefix = SS58Prefix;
	type MaxConsumers = ConstU32<16>;
	/// Oracle feeds only of assets with a market, however nested (`crate::feeds`).
	type BaseCallFilter = crate::feeds::ListedFeeds;
}

impl pallet_aura::Config for Runtime {
	type AuthorityId = AuraId;
	type DisabledValidators = ();
	type MaxAuthorities = ConstU32<32>;
	type AllowMultipleBlocksPerSlot = ConstBool<false>;
	type SlotDuration = pallet_aura::MinimumPeriodTimesTwo<Runtime>;
}

impl pallet_grandpa::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = ();
	type MaxAuthorities = ConstU32<32>;
	type MaxNominators = ConstU32<0>;
	type MaxSetIdSessionEntries = ConstU64<0>;
	type KeyOwnerProof = sp_core::Void;
	type EquivocationReportSystem = ();
}

impl pallet_timestamp::Config for Runtime {
	/// Milliseconds since the unix epoch.
	type Moment = u64;
	type OnTimestampSet = Aura;
	type MinimumPeriod = ConstU64<{ SLOT_DURATION / 2 }>;
	type WeightInfo = ();
}

impl pallet_balances::Config for Runtime {
	type MaxLocks = ConstU32<50>;
	type MaxReserves = ConstU32<50>;
	type ReserveIdentifier = [u8; 8];
	type Balance = Balance;
	type RuntimeEvent = RuntimeEvent;
	type DustRemoval = ();
	type ExistentialDeposit = ConstU128<EXISTENTIAL_DEPOSIT>;
	type AccountStore = System;
	type WeightInfo = pallet_balances::weights::SubstrateWeight<Runtime>;
	type FreezeIdentifier = RuntimeFreezeReason;
	type MaxFreezes = VariantCountOf<RuntimeFreezeReason>;
	type RuntimeHoldReason = RuntimeHoldReason;
	type RuntimeFreezeReason = RuntimeFreezeReason;
	type DoneSlashHandler = ();
}

parameter_types! {
	pub FeeMultiplier: Multiplier = Multiplier::one();
}

impl pallet_transaction_payment::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type OnChargeTransaction = FungibleAdapter<Balances, ()>;
	type OperationalFeeMultiplier = ConstU8<5>;
	type WeightToFee = IdentityFee<Balance>;
	type LengthToFee = IdentityFee<Balance>;
	type FeeMultiplierUpdate = ConstFeeMultiplier<FeeMultiplier>;
	type WeightInfo = pallet_transaction_payment::weights::SubstrateWeight<Runtime>;
}

impl pallet_sudo::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeCall = RuntimeCall;
	type WeightInfo = pallet_sudo::weights::SubstrateWeight<Runtime>;
}

// ---------------------------------------------------------------------------------------------
// Assets and the DEX
// ---------------------------------------------------------------------------------------------

parameter_types! {
	pub const AssetDeposit: Balance = 10 * UNIT;
	pub const AssetAccountDeposit: Balance = MILLI_UNIT;
	pub const MetadataDepositBase: Balance = UNIT;
	pub const MetadataDepositPerByte: Balance = MILLI_UNIT;
	pub const ApprovalDeposit: Balance = MILLI_UNIT;
}

/// The lending assets (USDM, XBTC, MEME, ...).
pub type AssetsInstance = pallet_assets::Instance1;
impl pallet_assets::Config<AssetsInstance> for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type Balance = Balance;
	type RemoveItemsLimit = ConstU32<1000>;
	type AssetId = AssetId;
	type AssetIdParameter = codec::Compact<AssetId>;
	type Currency = Balances;
	type CreateOrigin = AsEnsureOriginWithArg<EnsureSigned<AccountId>>;
	type ForceOrigin = EnsureRoot<AccountId>;
	type AssetDeposit = AssetDeposit;
	type AssetAccountDeposit = AssetAccountDeposit;
	type MetadataDepositBase = MetadataDepositBase;
	type MetadataDepositPerByte = MetadataDepositPerByte;
	type ApprovalDeposit = ApprovalDeposit;
	type StringLimit = ConstU32<50>;
	/// Standing bids' escrow (`pallet-bids`): held on the bidder's own account.
	type Holder = crate::AssetsHolder;
	type Freezer = ();
	type Extra = ();
	/// New assets take `NextAssetId` (set at genesis), which then moves on: ids cannot be
	/// squatted.
	type CallbackHandle = pallet_assets::AutoIncAssetId<Runtime, AssetsInstance>;
	type WeightInfo = pallet_assets::weights::SubstrateWeight<Runtime>;
	pallet_assets::runtime_benchmarks_enabled! {
		type BenchmarkHelper = ();
	}
}

/// Holds on `Assets` balances: standing bids' escrow (`pallet-bids`).
impl pallet_assets_holder::Config<AssetsInstance> for Runtime {
	type RuntimeHoldReason = RuntimeHoldReason;
	type RuntimeEvent = RuntimeEvent;
}

/// Liquidity-pool tokens of the DEX; only the DEX creates them.
pub type PoolAssetsInstance = pallet_assets::Instance2;
impl pallet_assets::Config<PoolAssetsInstance> for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type Balance = Balance;
	type RemoveItemsLimit = ConstU32<1000>;
	type AssetId = u32;
	type AssetIdParameter = u32;
	type Currency = Balances;
	type CreateOrigin =
		AsEnsureOriginWithArg<frame_system::EnsureSignedBy<AssetConversionOrigin, AccountId>>;
	type ForceOrigin = EnsureRoot<AccountId>;
	type AssetDeposit = ConstU128<0>;
	type AssetAccountDeposit = AssetAccountDeposit;
	type MetadataDepositBase = ConstU128<0>;
	type MetadataDepositPerByte = ConstU128<0>;
	type ApprovalDeposit = ApprovalDeposit;
	type StringLimit = ConstU32<50>;
	type Holder = ();
	type Freezer = ();
	type Extra = ();
	type CallbackHandle = ();
	type WeightInfo = pallet_assets::weights::SubstrateWeight<Runtime>;
	pallet_assets::runtime_benchmarks_enabled! {
		type BenchmarkHelper = ();
	}
}

parameter_types! {
	pub const AssetConversionPalletId: PalletId = PalletId(*b"py/ascon");
	pub const Native: AssetKind = AssetKind::Native;
	pub const LiquidityWithdrawalFee: Permill = Permill::zero();
}

ord_parameter_types! {
	pub const AssetConversionOrigin: AccountId =
		AccountIdConversion::<AccountId>::into_account_truncating(&AssetConversionPalletId::get());
}

/// The native token and the assets, as one `fungibles` over [`AssetKind`].
pub type NativeAndAssets = UnionOf<Balances, Assets, NativeFromLeft, AssetKind, AccountId>;
/// Maps a pool to its account.
pub type PoolIdToAccountId = AccountIdConverter<AssetConversionPalletId, (AssetKind, AssetKind)>;
/// Pools are `(Native, asset)` or any two assets in ascending order.
pub type PoolLocator = Chain<
	WithFirstAsset<Native, AccountId, AssetKind, PoolIdToAccountId>,
	Ascending<AccountId, AssetKind, PoolIdToAccountId>,
>;

impl pallet_asset_conversion::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type Balance = Balance;
	type HigherPrecisionBalance = sp_core::U256;
	type AssetKind = AssetKind;
	type Assets = NativeAndAssets;
	type PoolId = (AssetKind, AssetKind);
	type PoolLocator = PoolLocator;
	type PoolAssetId = u32;
	type PoolAssets = PoolAssets;
	type PoolSetupFee = ConstU128<0>;
	type PoolSetupFeeAsset = Native;
	type PoolSetupFeeTarget = ResolveAssetTo<AssetConversionOrigin, Self::Assets>;
	type PalletId = AssetConversionPalletId;
	/// 0.3% to liquidity providers.
	type LPFee = ConstU32<3>;
	type LiquidityWithdrawalFee = LiquidityWithdrawalFee;
	type MaxSwapPathLength = ConstU32<4>;
	type MintMinLiquidity = ConstU128<100>;
	type WeightInfo = pallet_asset_conversion::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = pallet_asset_conversion::NativeOrWithIdFactory<AssetId>;
}

impl crate::genesis_seed::Config for Runtime {}

// ---------------------------------------------------------------------------------------------
// Prices
// ---------------------------------------------------------------------------------------------

/// An oracle price: the value of ONE base unit of an asset in base units of the reference
/// currency (USD with 12 decimals), so `amount × price` is a value with no decimals to track.
/// Feeders normalise for decimals.
pub type Price = FixedU128;

parameter_types! {
	/// A value older than this is not combined into the oracle's answer (ms).
	pub const OracleValueExpiresIn: u64 = 10 * 60 * 1000;
	/// Most oracle feeders (the membership's bound; the feed quorum's upper bound).
	pub const MaxFeeders: u32 = 32;
	pub const MaxFeedValues: u32 = 16;
	pub OracleRootOperator: AccountId =
		AccountIdConversion::<AccountId>::into_account_truncating(&PalletId(*b"mc/orcle"));
}

impl orml_oracle::Config for Runtime {
	/// The breaker samples each asset that got data, at the end of the block.
	type OnNewData = breaker::NoteNewData;
	/// The breaker combines (and guards) when a value is fed: fewer fresh values than its feed
	/// quorum (a strict majority of the feeders) and the oracle keeps its previous value,
	/// which lending refuses once older than `MaxPriceAge`.
	type CombineData = breaker::BreakerCombine;
	type Time = Timestamp;
	type OracleKey = AssetId;
	type OracleValue = Price;
	type RootOperatorAccountId = OracleRootOperator;
	type Members = OracleMembership;
	type WeightInfo = breaker::OracleWeights;
	type MaxHasDispatchedSize = ConstU32<32>;
	type MaxFeedValues = MaxFeedValues;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = OracleBenchmarkHelper;
}

/// Values `feed_values` benchmarks with: one price for each of `MaxFeedValues` assets.
#[cfg(feature = "runtime-benchmarks")]
pub struct OracleBenchmarkHelper;
#[cfg(feature = "runtime-benchmarks")]
impl orml_oracle::BenchmarkHelper<AssetId, Price, MaxFeedValues> for OracleBenchmarkHelper {
	fn get_currency_id_value_pairs() -> frame_support::BoundedVec<(AssetId, Price), MaxFeedValues> {
		let pairs: alloc::vec::Vec<(AssetId, Price)> =
			(0..MaxFeedValues::get()).map(|i| (i, Price::from_u32(i + 1))).collect();
		frame_support::BoundedVec::truncate_from(pairs)
	}
}

/// The oracle's feeders: changed by root only (the root track, sudo on dev chains). Who sets
/// the prices every liquidation runs on is not a risk parameter: on the risk track, one
/// `batch_all` could swap feeders and halve the quorum, handing every price to one account.
pub type OracleMembershipInstance = pallet_membership::Instance1;
impl pallet_membership::Config<OracleMembershipInstance> for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type AddOrigin = EnsureRoot<AccountId>;
	type RemoveOrigin = EnsureRoot<AccountId>;
	type SwapOrigin = EnsureRoot<AccountId>;
	type ResetOrigin = EnsureRoot<AccountId>;
	type PrimeOrigin = EnsureRoot<AccountId>;
	type MembershipInitialized = ();
	/// Removing a feeder drops its raw values from the oracle.
	type MembershipChanged = Oracle;
	type MaxMembers = MaxFeeders;
	type WeightInfo = pallet_membership::weights::SubstrateWeight<Runtime>;
}

/// The guardians: may pause a market and halt an asset's DEX route, nothing else
/// (`governance::GuardianOrigin`); changed by root or the risk track.
pub type GuardianMembershipInstance = pallet_membership::Instance2;
impl pallet_membership::Config<GuardianMembershipInstance> for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type AddOrigin = governance::RiskAdminOrigin;
	type RemoveOrigin = governance::RiskAdminOrigin;
	type SwapOrigin = governance::RiskAdminOrigin;
	type ResetOrigin = governance::RiskAdminOrigin;
	type PrimeOrigin = governance::RiskAdminOrigin;
	type MembershipInitialized = ();
	type MembershipChanged = ();
	type MaxMembers = ConstU32<16>;
	type WeightInfo = pallet_membership::weights::SubstrateWeight<Runtime>;
}

// ---------------------------------------------------------------------------------------------
// Governance
// ---------------------------------------------------------------------------------------------

parameter_types! {
	pub MaximumSchedulerWeight: Weight = Perbill::from_percent(80) * RuntimeBlockWeights::get().max_block;
	pub const PreimageBaseDeposit: Balance = UNIT;
	pub const PreimageByteDeposit: Balance = MILLI_UNIT;
	pub const PreimageHoldReason: RuntimeHoldReason =
		RuntimeHoldReason::Preimage(pallet_preimage::HoldReason::Preimage);
}

impl pallet_scheduler::Config for Runtime {
	type RuntimeOrigin = RuntimeOrigin;
	type RuntimeEvent = RuntimeEvent;
	type PalletsOrigin = OriginCaller;
	type RuntimeCall = RuntimeCall;
	type MaximumWeight = MaximumSchedulerWeight;
	type ScheduleOrigin = EnsureRoot<AccountId>;
	type MaxScheduledPerBlock = ConstU32<50>;
	type WeightInfo = pallet_scheduler::weights::SubstrateWeight<Runtime>;
	type OriginPrivilegeCmp = frame_support::traits::EqualPrivilegeOnly;
	type Preimages = Preimage;
	type BlockNumberProvider = System;
}

impl pallet_preimage::Config for Runtime {
	type WeightInfo = pallet_preimage::weights::SubstrateWeight<Runtime>;
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type ManagerOrigin = EnsureRoot<AccountId>;
	type Consideration = HoldConsideration<
		AccountId,
		Balances,
		PreimageHoldReason,
		LinearStoragePrice<PreimageBaseDeposit, PreimageByteDeposit, Balance>,
	>;
}

parameter_types! {
	pub const VoteLockingPeriod: BlockNumber = 7 * DAYS;
	pub const SubmissionDeposit: Balance = 100 * UNIT;
	pub const UndecidingTimeout: BlockNumber = 14 * DAYS;
	pub const AlarmInterval: BlockNumber = 1;
}

impl pallet_conviction_voting::Config for Runtime {
	type WeightInfo = pallet_conviction_voting::weights::SubstrateWeight<Runtime>;
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type VoteLockingPeriod = VoteLockingPeriod;
	type MaxVotes = ConstU32<512>;
	type MaxTurnout =
		frame_support::traits::tokens::currency::ActiveIssuanceOf<Balances, Self::AccountId>;
	type Polls = Referenda;
	type BlockNumberProvider = System;
	type VotingHooks = ();
}

impl pallet_referenda::Config for Runtime {
	type WeightInfo = pallet_referenda::weights::SubstrateWeight<Runtime>;
	type RuntimeCall = RuntimeCall;
	type RuntimeEvent = RuntimeEvent;
	type Scheduler = Scheduler;
	type Currency = Balances;
	type SubmitOrigin = AsEnsureOriginWithArg<EnsureSigned<AccountId>>;
	type CancelOrigin = EnsureRoot<AccountId>;
	type KillOrigin = EnsureRoot<AccountId>;
	type Slash = ();
	type Votes = pallet_conviction_voting::VotesOf<Runtime>;
	type Tally = pallet_conviction_voting::TallyOf<Runtime>;
	type SubmissionDeposit = SubmissionDeposit;
	type MaxQueued = ConstU32<100>;
	type UndecidingTimeout = UndecidingTimeout;
	type AlarmInterval = AlarmInterval;
	type Tracks = governance::tracks::TracksInfo;
	type Preimages = Preimage;
	type BlockNumberProvider = System;
}
