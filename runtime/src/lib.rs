//! # margincall runtime
//!
//! The chain's state transition function: consensus (Aura + GRANDPA), balances and fees,
//! `pallet-assets` for the lending assets, `pallet-asset-conversion` as the built-in DEX that
//! liquidations sell through, `orml-oracle` (feeders chosen by `pallet-membership`) for
//! timestamped prices, and OpenGov (`pallet-referenda` + `pallet-conviction-voting`) with a
//! risk track whose origin may change risk parameters.
//!
//! Layout: `configs` holds every pallet's `Config`, `governance` the tracks and the custom
//! origins, `apis` the runtime APIs, `genesis_config_presets` the `development` and
//! `local_testnet` presets, `genesis_seed` the genesis-only seeding of pools and
//! prices.

#![cfg_attr(not(feature = "std"), no_std)]
#![recursion_limit = "256"]

#[cfg(feature = "std")]
include!(concat!(env!("OUT_DIR"), "/wasm_binary.rs"));

pub mod apis;
#[cfg(feature = "runtime-benchmarks")]
mod benchmarks;
pub mod configs;
pub mod feeds;
pub mod genesis_config_presets;
pub mod genesis_seed;
pub mod governance;
pub mod priority;
pub mod same_block;
pub mod weights;

extern crate alloc;
use alloc::vec::Vec;
use sp_runtime::{
	generic, impl_opaque_keys,
	traits::{BlakeTwo256, IdentifyAccount, Verify},
	MultiAddress, MultiSignature,
};
#[cfg(feature = "std")]
use sp_version::NativeVersion;
use sp_version::RuntimeVersion;

pub use frame_support::traits::tokens::fungible::NativeOrWithId;
pub use frame_system::Call as SystemCall;
pub use pallet_balances::Call as BalancesCall;
pub use pallet_timestamp::Call as TimestampCall;
#[cfg(any(feature = "std", test))]
pub use sp_runtime::BuildStorage;

/// Opaque types, for the parts of the node that must not know the runtime's concrete types.
pub mod opaque {
	use super::*;
	use sp_runtime::{
		generic,
		traits::{BlakeTwo256, Hash as HashT},
	};

	pub use sp_runtime::OpaqueExtrinsic as UncheckedExtrinsic;

	/// Opaque block header type.
	pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
	/// Opaque block type.
	pub type Block = generic::Block<Header, UncheckedExtrinsic>;
	/// Opaque block identifier type.
	pub type BlockId = generic::BlockId<Block>;
	/// Opaque block hash type.
	pub type Hash = <BlakeTwo256 as HashT>::Output;
}

impl_opaque_keys! {
	/// The session keys of a validator: its Aura and GRANDPA keys.
	pub struct SessionKeys {
		pub aura: Aura,
		pub grandpa: Grandpa,
	}
}

/// The runtime's version. Bump `spec_version` on every runtime change that reaches a chain.
#[sp_version::runtime_version]
pub const VERSION: RuntimeVersion = RuntimeVersion {
	spec_name: alloc::borrow::Cow::Borrowed("margincall"),
	impl_name: alloc::borrow::Cow::Borrowed("margincall"),
	authoring_version: 1,
	spec_version: 100,
	impl_version: 1,
	apis: apis::RUNTIME_API_VERSIONS,
	transaction_version: 1,
	system_version: 1,
};

mod block_times {
	/// The average block time we target; Aura's slot duration is derived from it.
	pub const MILLI_SECS_PER_BLOCK: u64 = 6000;
	/// Slot duration; cannot change after the chain has started.
	pub const SLOT_DURATION: u64 = MILLI_SECS_PER_BLOCK;
}
pub use block_times::*;

/// One minute in blocks.
pub const MINUTES: BlockNumber = 60_000 / (MILLI_SECS_PER_BLOCK as BlockNumber);
/// One hour in blocks.
pub const HOURS: BlockNumber = MINUTES * 60;
/// One day in blocks.
pub const DAYS: BlockNumber = HOURS * 24;

/// Block hashes kept for mortal transactions.
pub const BLOCK_HASH_COUNT: BlockNumber = 2400;

/// Decimals of the native token (MCL) and of every dev asset.
pub const DECIMALS: u8 = 12;
/// One whole native token.
pub const UNIT: Balance = 1_000_000_000_000;
/// A thousandth of a native token.
pub const MILLI_UNIT: Balance = 1_000_000_000;
/// A millionth of a native token.
pub const MICRO_UNIT: Balance = 1_000_000;

/// Existential deposit of the native token.
pub const EXISTENTIAL_DEPOSIT: Balance = MILLI_UNIT;

/// Ids of the assets the development preset creates.
pub mod assets {
	/// The stable asset every DEX pool pairs against (USDM, a USD stablecoin).
	pub const USDM: u32 = 1;
	/// A volatile large-cap asset (XBTC).
	pub const XBTC: u32 = 2;
	/// A volatile small-cap asset (MEME).
	pub const MEME: u32 = 3;
}

/// The version information used to identify this runtime when compiled natively.
#[cfg(feature = "std")]
pub fn native_version() -> NativeVersion {
	NativeVersion { runtime_version: VERSION, can_author_with: Default::default() }
}

/// Signature of a transaction.
pub type Signature = MultiSignature;
/// An account: the public key of the signing scheme.
pub type AccountId = <<Signature as Verify>::Signer as IdentifyAccount>::AccountId;
/// Balance of an account, in the native token or any asset.
pub type Balance = u128;
/// Transaction counter of an account.
pub type Nonce = u32;
/// Hash type of the chain.
pub type Hash = sp_core::H256;
/// Block number.
pub type BlockNumber = u32;
/// Asset id in `pallet-assets`.
pub type AssetId = u32;
/// What the DEX and fees can hold: the native token or an asset of `pallet-assets`.
pub type AssetKind = NativeOrWithId<AssetId>;
/// The address format for describing accounts.
pub type Address = MultiAddress<AccountId, ()>;
/// Block header type as expected by this runtime.
pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
/// Block type as expected by this runtime.
pub type Block = generic::Block<Header, UncheckedExtrinsic>;
/// A block with its justifications.
pub type SignedBlock = generic::SignedBlock<Block>;
/// BlockId type as expected by this runtime.
pub type BlockId = generic::BlockId<Block>;

/// The transaction extensions every signed transaction carries.
pub type TxExtension = (
	frame_system::CheckNonZeroSender<Runtime>,
	frame_system::CheckSpecVersion<Runtime>,
	frame_system::CheckTxVersion<Runtime>,
	frame_system::CheckGenesis<Runtime>,
	frame_system::CheckEra<Runtime>,
	frame_system::CheckNonce<Runtime>,
	frame_system::CheckWeight<Runtime>,
	priority::BandedTransactionPayment,
	frame_metadata_hash_extension::CheckMetadataHash<Runtime>,
	frame_system::WeightReclaim<Runtime>,
);

/// Unchecked extrinsic type as expected by this runtime.
pub type UncheckedExtrinsic =
	generic::UncheckedExtrinsic<Address, RuntimeCall, Signature, TxExtension>;

/// The payload being signed in transactions.
pub type SignedPayload = generic::SignedPayload<RuntimeCall, TxExtension>;

/// Migrations of the runtime, aside from the ones declared in the pallets.
#[allow(unused_parens)]
type Migrations = ();

/// Executive: dispatches blocks and transactions to the pallets.
pub type Executive = frame_executive::Executive<
	Runtime,
	Block,
	frame_system::ChainContext<Runtime>,
	Runtime,
	AllPalletsWithSystem,
	Migrations,
>;

#[frame_support::runtime]
mod runtime {
	#[runtime::runtime]
	#[runtime::derive(
		RuntimeCall,
		RuntimeEvent,
		RuntimeError,
		RuntimeOrigin,
		RuntimeFreezeReason,
		RuntimeHoldReason,
		RuntimeSlashReason,
		RuntimeLockId,
		RuntimeTask,
		RuntimeViewFunction
	)]
	pub struct Runtime;

	#[runtime::pallet_index(0)]
	pub type System = frame_system;
	#[runtime::pallet_index(1)]
	pub type Timestamp = pallet_timestamp;
	#[runtime::pallet_index(2)]
	pub type Aura = pallet_aura;
	#[runtime::pallet_index(3)]
	pub type Grandpa = pallet_grandpa;
	#[runtime::pallet_index(4)]
	pub type Balances = pallet_balances;
	#[runtime::pallet_index(5)]
	pub type TransactionPayment = pallet_transaction_payment;
	#[runtime::pallet_index(6)]
	pub type Sudo = pallet_sudo;
	#[runtime::pallet_index(7)]
	pub type Utility = pallet_utility;
	#[runtime::pallet_index(8)]
	pub type Proxy = pallet_proxy;

	// Assets and the DEX.
	#[runtime::pallet_index(10)]
	pub type Assets = pallet_assets<Instance1>;
	#[runtime::pallet_index(11)]
	pub type PoolAssets = pallet_assets<Instance2>;
	#[runtime::pallet_index(12)]
	pub type AssetConversion = pallet_asset_conversion;
	/// Holds on `Assets` balances (standing bids' escrow).
	#[runtime::pallet_index(13)]
	pub type AssetsHolder = pallet_assets_holder<Instance1>;

	// Prices.
	#[runtime::pallet_index(20)]
	pub type Oracle = orml_oracle;
	#[runtime::pallet_index(21)]
	pub type OracleMembership = pallet_membership<Instance1>;
	#[runtime::pallet_index(22)]
	pub type GuardianMembership = pallet_membership<Instance2>;

	// Governance.
	#[runtime::pallet_index(30)]
	pub type Scheduler = pallet_scheduler;
	#[runtime::pallet_index(31)]
	pub type Preimage = pallet_preimage;
	#[runtime::pallet_index(32)]
	pub type Referenda = pallet_referenda;
	#[runtime::pallet_index(33)]
	pub type ConvictionVoting = pallet_conviction_voting;
	#[runtime::pallet_index(34)]
	pub type Origins = crate::governance::origins;

	// The money market.
	#[runtime::pallet_index(40)]
	pub type Lending = pallet_lending;
	#[runtime::pallet_index(41)]
	pub type Liquidation = pallet_liquidation;
	#[runtime::pallet_index(42)]
	pub type Breaker = pallet_breaker;
	#[runtime::pallet_index(43)]
	pub type Bids = pallet_bids;

	// Genesis-only: seeds DEX pools and reference prices after every other pallet's genesis.
	#[runtime::pallet_index(90)]
	pub type GenesisSeed = crate::genesis_seed;
}
