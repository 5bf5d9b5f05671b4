//! # Liquidation pallet
//!
//! Closes positions of the lending pallet whose health fell below 1: fast, at a fair price,
//! never touching a healthy position, and accounting for every unit.
//!
//! - **Keeper route** ([`Pallet::liquidate`]): anyone repays part of an unhealthy borrower's
//!   debt with its own funds and receives the borrower's collateral (as supply shares of the
//!   lending market, so a lent-out market never blocks it) worth the repayment plus a discount.
//!   A governance share of the discount (the protocol fee) goes to the insurance treasury.
//! - **Soft pre-liquidation** ([`Pallet::pre_liquidate`], [`pre_liquidation`]; opt-in): a
//!   borrower sets a band above health 1, a close share and a bonus (within governance's caps);
//!   while its health is in the band, a keeper repays with its own funds up to the close share
//!   scaled by the depth in the band, once a block, for collateral at the bonus; a step never
//!   lowers the account's health and is not made on a held or disputed price.
//! - **Protocol route** ([`Pallet::settle`]): anyone, with no capital, has the protocol seize
//!   collateral, buy exactly the debt on the chain's DEX (pallet-asset-conversion's
//!   [`Swap`]/[`QuotePrice`]) at most `max_slippage` above the oracle price, and repay. The
//!   unused part of what was due goes partly to the insurance treasury, partly (capped) to the
//!   caller as a tip, and the rest stays with the borrower. When the DEX cannot deliver within
//!   the bound, the insurance treasury buys the collateral at the oracle price less the
//!   backstop discount (the backstop); if it cannot either, nothing happens ([`Error::NoRoute`]).
//! - **Batches** ([`Pallet::settle_batch`], [`crate::batch`]): the protocol route for many
//!   positions at once, one DEX swap per `(collateral, debt)` pair, each position paying its
//!   share pro rata (rounded up, the rounding to the insurance treasury); what cannot be settled
//!   so is skipped with an event and left to `settle`. The offchain worker submits these.
//! - **How much** ([`Pallet::plan`]): the repayment that brings the account back to the target
//!   health (Aave V4), not a fixed close factor; everything when what would remain is dust;
//!   less when the collateral cannot pay for it. The discount grows as health falls
//!   ([`math::discount`]).
//! - **Order**: `settle` repays the largest debt by value and seizes the most volatile
//!   collateral first (measured on chain by the circuit breaker, [`CascadeBreaker`]; then the
//!   governance risk rank, then the asset id), one pair per call.
//! - **Circuit breaker** ([`CascadeBreaker`], the runtime wires `pallet-breaker`): a
//!   `Throttled` collateral sells at most the block's cap of value on the DEX, and the
//!   positions it holds back (that the backstop cannot buy) wait in [`SaleQueue`], riskiest
//!   first: the head, or a position riskier than it, sells first; an entry no longer
//!   liquidatable leaves when a sale behind it looks at it (at most `QUEUE_CHECKS` a call).
//!   A `Halted` collateral is not sold on the DEX at all (the backstop still may buy it). While the oracle guard holds a
//!   price, every route values the pair at the ends that favour the borrower, so
//!   only a position liquidatable at every price the feeds allow is liquidated; `settle` then
//!   sells it on the DEX within the bound or waits ([`Error::PriceUnconfirmed`]: no backstop,
//!   no new auction, no reset on an unconfirmed price); keepers and auction takes go on. A
//!   disputed price (fresh feeds that disagree) is read at the disputed ends that favour the
//!   borrower, the ends every fresh feeder supports: keepers, takes and the DEX within its
//!   bound go on, and a seizure the DEX refuses goes to a Dutch auction (price discovery),
//!   never to the backstop (the insurance would buy at an end one feeder may have raised).
//! - **Loss waterfall**: when an account has debt and no collateral left, the insurance
//!   treasury's holdings of the debt asset repay it (topped up by selling its other holdings
//!   within the bound), then the lending market's reserves and finally its suppliers absorb
//!   the rest ([`LendingPositions::write_off`]), each with its event; what suppliers absorbed
//!   is counted in [`BadDebt`]. A shortfall the treasury's other holdings are worth but cannot
//!   be sold for now waits up to `ShortfallWait` blocks for that sale ([`ShortfallWaiting`]).
//! - **Insurance treasury**: the account of `InsurancePalletId`; its funds leave only by these
//!   rules or by `RiskAdmin` ([`Pallet::transfer_insurance`]).
//!
//! The pallet reads positions, prices and markets only through the lending pallet's
//! [`LendingPositions`] and [`PriceSource`], and the DEX only through its traits.
//!
//! ## Where things are
//! - `plan.rs`: prices, the plan of one step ([`Pallet::plan`]) and the pair `settle` picks.
//! - `keeper.rs`: `liquidate`. [`pre_liquidation`]: soft pre-liquidation (opt-in). `settle.rs`: `settle`'s routes in turn (netting, standing bids,
//!   DEX, backstop, auction, waterfall). `bids.rs`: the standing bids' route. `dex.rs`: the DEX sale, the breaker's gates and sale queue, the
//!   penalty split. `treasury.rs`: the insurance treasury and the backstop. `waterfall.rs`:
//!   the dust sweep and the loss waterfall. [`auction`]: Dutch auctions. [`batch`]:
//!   `settle_batch`.
//! - `index.rs` and [`risk`]: the risk index. `worker.rs`: the offchain worker and the one
//!   rule of who is liquidatable. `governance.rs`: parameters within the rails. `views.rs`:
//!   the runtime API's views and `try_state`. [`math`]: pure math, with its unit tests.

#![cfg_attr(not(feature = "std"), no_std)]
#![deny(missing_docs)]
#![cfg_attr(
	not(test),
	deny(clippy::arithmetic_side_effects, clippy::unwrap_used, clippy::indexing_slicing)
)]

extern crate alloc;

pub mod auction;
pub mod batch;
mod index;
pub mod math;
pub mod risk;
pub mod types;
pub mod weights;
mod worker;

// The routes and what they share, by role.
mod bids;
mod dex;
mod governance;
mod keeper;
mod plan;
pub mod pre_liquidation;
mod settle;
mod treasury;
mod views;
mod waterfall;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod index_property;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod property;
#[cfg(test)]
mod tests;

pub use auction::{Auction, AuctionEnd, AuctionParams, AuctionStatus};
pub use batch::BatchReport;
pub use bids::{BidFill, StandingBids};
pub use dex::QueueLook;
pub use index::{FilingOf, Reading, RiskCursorOf, RiskKeyOf};
pub use margincall_rails::{Authority, ParamRails};
pub use pallet::*;
pub use pallet_asset_conversion::{QuotePrice, Swap};
pub use pallet_lending::{Amount, LendingPositions, PriceSource};
pub use plan::Plan;
pub use types::*;
pub use weights::WeightInfo;
pub use worker::{RunReport, WorkerError};

/// Sets up what the benchmarks need beyond the lending pallet's helper: DEX pools.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper<AssetId, AccountId> {
	/// Makes a pool between `a` and `b` holding `amount_a` and `amount_b`, funded by `lp`
	/// (which holds enough of both).
	fn create_pool(lp: &AccountId, a: AssetId, b: AssetId, amount_a: u128, amount_b: u128);
	/// Puts `asset` in the circuit breaker's `Throttled` level (the gate's reads and writes at
	/// their worst).
	fn throttle(asset: AssetId);
	/// Puts `asset` in the circuit breaker's `Halted` level (the DEX route refused at the gate,
	/// after the quote and the cash check).
	fn halt(asset: AssetId);
}

// The call macro's conversions of `DispatchResultWithPostInfo` trip clippy.
#[allow(clippy::useless_conversion)]
#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_support::{
		dispatch::GetDispatchInfo,
		pallet_prelude::*,
		traits::fungibles::{Inspect, Mutate},
		PalletId,
	};
	use frame_system::pallet_prelude::*;
	use sp_runtime::{
		traits::{Convert, StaticLookup},
		Perbill,
	};

	type AccountIdLookupOf<T> = <<T as frame_system::Config>::Lookup as StaticLookup>::Source;

	/// The in-code storage version.
	const STORAGE_VERSION: StorageVersion = StorageVersion::new(0);

	/// The liquidation pallet.
	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	/// Configuration: the money market, prices and the DEX are traits; the runtime wires them.
	#[pallet::config]
	pub trait Config:
		frame_system::Config + frame_system::offchain::CreateBare<Call<Self>>
	{
		/// Identifier of an asset (a lending market).
		type AssetId: Parameter
			+ Member
			+ Copy
			+ Ord
			+ MaxEncodedLen
			+ sp_runtime::traits::MaybeSerializeDeserialize;

		/// The assets: keepers and the insurance treasury pay debts in them.
		type Assets: Inspect<Self::AccountId, AssetId = Self::AssetId, Balance = u128>
			+ Mutate<Self::AccountId>;

		/// The money market whose positions are liquidated. It keeps where the risk index
		/// filed each account in that account's record (this pallet is its position-change
		/// hook, whose tag is the filing).
		type Lending: LendingPositions<
			Self::AccountId,
			AssetId = Self::AssetId,
			Tag = Option<Filing<Self::AssetId>>,
		>;

		/// Fresh prices or a refusal: the lending pallet's own source (a plan takes the pair's
		/// prices from the lending view its health is computed with, and every other route reads
		/// this; two sources would size a liquidation at prices its health was not computed at).
		type Prices: PriceSource<Self::AssetId>;

		/// The DEX's name for an asset.
		type DexAssetKind: Clone;

		/// Converts a market's asset id to the DEX's.
		type ToDexAsset: Convert<Self::AssetId, Self::DexAssetKind>;

		/// The chain's DEX (pallet-asset-conversion): swaps and quotes.
		type Dex: Swap<Self::AccountId, Balance = u128, AssetKind = Self::DexAssetKind>
			+ QuotePrice<Balance = u128, AssetKind = Self::DexAssetKind>;

		/// The DEX's pool reserves (the pool's depth cap: `pool_block_share`).
		type DexReserves: DexReserves<Self::DexAssetKind>;

		/// May change the parameters and move insurance funds: [`Authority::Bounded`] within
		/// [`Config::Rails`] (a referendum on the risk track), [`Authority::Unbounded`] within
		/// the absolute bounds only (root).
		type RiskAdmin: EnsureOrigin<Self::RuntimeOrigin, Success = Authority>;

		/// How far and how often a bounded change may move the liquidation and auction
		/// parameters (each record on its own interval).
		#[pallet::constant]
		type Rails: Get<ParamRails>;

		/// The pallet's working account: holds seized collateral only within a settlement.
		#[pallet::constant]
		type PalletId: Get<PalletId>;

		/// The insurance treasury's account.
		#[pallet::constant]
		type InsurancePalletId: Get<PalletId>;

		/// Parameters before governance first sets them.
		type DefaultParams: Get<LiquidationParams>;

		/// The highest `dust_value` governance may set (reference units).
		#[pallet::constant]
		type MaxDustValue: Get<u128>;

		/// Most debts one account may have (the lending pallet's `MaxAssetsPerAccount`): bounds
		/// the loss waterfall's work.
		#[pallet::constant]
		type MaxDebts: Get<u32>;

		/// Blocks between the risk index's epochs: each takes every market's reference
		/// variables, at which accounts with several assets are filed anew ([`crate::risk`]).
		/// Shorter: the index reads fewer healthy accounts after prices diverge, more accounts
		/// wait in old epochs for the worker to refile them.
		#[pallet::constant]
		type EpochBlocks: Get<u32>;

		/// Most accounts one `refile` call takes.
		#[pallet::constant]
		type MaxRefile: Get<u32>;

		/// Priority of the offchain worker's settlements: above ordinary transactions, below
		/// oracle feeds.
		#[pallet::constant]
		type UnsignedPriority: Get<TransactionPriority>;

		/// Blocks an offchain worker's settlement stays valid in the pool (and is not sent
		/// again by the worker).
		#[pallet::constant]
		type UnsignedLongevity: Get<u32>;

		/// The share of a block's normal dispatch weight the pallet's unsigned calls may
		/// declare together (a block builder skips the one beyond it): in a cascade the rest
		/// keeps room for the signed calls the routes depend on (repayments, DEX swaps,
		/// auction takes, keepers' own liquidations).
		#[pallet::constant]
		type UnsignedShare: Get<Perbill>;

		/// Most accounts of the risk index the offchain worker checks in one run.
		#[pallet::constant]
		type MaxChecksPerRun: Get<u32>;

		/// Accounts the offchain worker's full sweep checks in one run.
		#[pallet::constant]
		type SweepPerRun: Get<u32>;

		/// Most positions one `settle_batch` takes.
		#[pallet::constant]
		type MaxSettleBatch: Get<u32>;

		/// Most `(collateral, debt)` pairs one `settle_batch` sells (one DEX swap each).
		#[pallet::constant]
		type MaxBatchPairs: Get<u32>;

		/// The circuit breaker: DEX sales per block and the seizure order.
		type Breaker: CascadeBreaker<Self::AssetId>;

		/// Market makers' standing bids: `settle` sells a seizure to them first when they pay
		/// more than the DEX ([`crate::bids`]).
		type Bids: StandingBids<Self::AccountId, Self::AssetId>;

		/// Most positions queued per collateral for a DEX sale the breaker held back.
		#[pallet::constant]
		type MaxSaleQueue: Get<u32>;

		/// Blocks a queued position keeps its place.
		#[pallet::constant]
		type MaxQueueAge: Get<u32>;

		/// Blocks the loss waterfall waits, when the insurance treasury holds other assets
		/// worth a shortfall but cannot sell them within the bound now, before the rest is
		/// written off (then its sale is tried once more).
		#[pallet::constant]
		type ShortfallWait: Get<u32>;

		/// Share of the insurance treasury's holding of a debt asset (its tokens and lending
		/// supply, as it stood before the block's backstop purchases in that asset) the backstop
		/// may spend per block; a seizure beyond it goes to a Dutch auction. A crash then does
		/// not spend the whole fund at its first step's prices.
		#[pallet::constant]
		type BackstopBlockShare: Get<Permill>;

		/// Auction parameters before governance first sets them.
		type DefaultAuctionParams: Get<AuctionParams>;

		/// Pre-liquidation caps before governance first sets them.
		type DefaultPreLiquidationRules: Get<PreLiquidationRules>;

		/// Most auctions live at once (beyond it, a position neither the DEX nor the backstop
		/// can settle waits: [`Error::NoRoute`]).
		#[pallet::constant]
		type MaxAuctions: Get<u32>;

		/// Weights of the calls, from the benchmarks.
		type WeightInfo: WeightInfo;

		/// Pools for the benchmarks.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: BenchmarkHelper<Self::AssetId, Self::AccountId>;
	}

	/// The parameters before governance set them.
	#[pallet::type_value]
	pub fn DefaultParamsOf<T: Config>() -> LiquidationParams {
		T::DefaultParams::get()
	}

	/// Every liquidation parameter, in one validated record.
	#[pallet::storage]
	pub type Params<T: Config> = StorageValue<_, LiquidationParams, ValueQuery, DefaultParamsOf<T>>;

	/// The block of the last change to each parameter record (by either authority): a bounded
	/// change waits [`ParamRails::min_interval`] after it.
	#[pallet::storage]
	pub type LastParamsChange<T: Config> =
		StorageMap<_, Twox64Concat, ParamRecord, BlockNumberFor<T>>;

	/// Governance risk rank of each collateral asset: `settle` seizes the highest first (0 when
	/// unset; ties by asset id).
	#[pallet::storage]
	pub type RiskRank<T: Config> = StorageMap<_, Blake2_128Concat, T::AssetId, u8, ValueQuery>;

	/// Weight the pallet's unsigned calls declared in a block so far: `(block, weight)`
	/// (another block's entry counts as none), at most [`Config::UnsignedShare`] of the
	/// normal class.
	#[pallet::storage]
	pub type UnsignedUsed<T: Config> = StorageValue<_, (u32, Weight), ValueQuery>;

	/// Borrowers with debt and no collateral whose write-off waits for the insurance
	/// treasury's sale of other holdings (`Config::ShortfallWait`), and the block it began.
	#[pallet::storage]
	pub type ShortfallWaiting<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, u32, OptionQuery>;

	/// The backstop's spending of each debt asset in the block it last bought in: `(block,
	/// spent)` (`Config::BackstopBlockShare`).
	#[pallet::storage]
	pub type BackstopSpent<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AssetId, (u32, u128), OptionQuery>;

	/// The collateral the protocol sold under the pool's depth cap into each `(collateral,
	/// debt)` pool in the block it last did: `(block, sold)` (`pool_block_share`).
	#[pallet::storage]
	pub type PoolSold<T: Config> =
		StorageMap<_, Blake2_128Concat, (T::AssetId, T::AssetId), (u32, u128), OptionQuery>;

	/// Debt socialised to each market's suppliers so far (underlying units).
	#[pallet::storage]
	pub type BadDebt<T: Config> = StorageMap<_, Blake2_128Concat, T::AssetId, u128, ValueQuery>;

	/// The risk index: `(key, bucket, account)` for every entry of every account with debt
	/// ([`crate::risk`] says what a key and a bucket are). A key is hashed with `Twox64Concat`:
	/// it is made of governance's assets (a pair, or an epoch and a set of markets), so no
	/// user can choose keys that unbalance the trie; the account, which a user chooses, keeps
	/// `Blake2_128Concat`.
	#[pallet::storage]
	pub type RiskIndex<T: Config> = StorageNMap<
		_,
		(
			NMapKey<Twox64Concat, RiskKeyOf<T>>,
			NMapKey<Twox64Concat, i32>,
			NMapKey<Blake2_128Concat, T::AccountId>,
		),
		(),
		OptionQuery,
	>;

	/// Every key of the risk index that has had entries since it was last pruned: a bucket at
	/// or above its highest entry. Keyed first by the key's epoch ([`RiskKey::epoch`]; `None`
	/// for a pair), so that whether an epoch has keys left is one read of its prefix.
	#[pallet::storage]
	pub type RiskKeys<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		Option<u32>,
		Twox64Concat,
		RiskKeyOf<T>,
		KeyState,
		OptionQuery,
	>;

	/// The risk index's current epoch (none before the first block's).
	#[pallet::storage]
	pub type RiskEpoch<T: Config> = StorageValue<_, Epoch<BlockNumberFor<T>>, OptionQuery>;

	/// Each live epoch's reference variables: the current one's, and an older one's while
	/// keys of it remain.
	#[pallet::storage]
	pub type EpochVariables<T: Config> =
		StorageMap<_, Twox64Concat, u32, EpochVariablesOf<T::AssetId>, OptionQuery>;

	/// Set only while one of this pallet's liquidations runs: the lending pallet's hook then
	/// leaves the borrower's filing to the end of the call, which files it once. Set and
	/// removed within the call, so never written to the database (whitelisted).
	#[pallet::storage]
	#[pallet::whitelist_storage]
	pub(crate) type Deferred<T: Config> = StorageValue<_, bool, ValueQuery>;

	/// Per collateral, positions waiting for a DEX sale the circuit breaker held back (and the
	/// backstop could not take), riskiest first: while it is not empty, a throttled sale of
	/// that collateral goes to its head, or to a position riskier than its head.
	#[pallet::storage]
	pub type SaleQueue<T: Config> = StorageMap<
		_,
		Blake2_128Concat,
		T::AssetId,
		BoundedVec<QueueEntry<T::AccountId>, T::MaxSaleQueue>,
		ValueQuery,
	>;

	/// The auction parameters before governance set them.
	#[pallet::type_value]
	pub fn DefaultAuctionParamsOf<T: Config>() -> AuctionParams {
		T::DefaultAuctionParams::get()
	}

	/// The Dutch auctions' parameters ([`crate::auction`]).
	#[pallet::storage]
	pub type AuctionParameters<T: Config> =
		StorageValue<_, AuctionParams, ValueQuery, DefaultAuctionParamsOf<T>>;

	/// Live Dutch auctions by id ([`crate::auction`]).
	#[pallet::storage]
	pub type Auctions<T: Config> =
		CountedStorageMap<_, Twox64Concat, u32, Auction<T::AccountId, T::AssetId>, OptionQuery>;

	/// The live auction of each borrower in one (at most one each).
	#[pallet::storage]
	pub type BorrowerAuction<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, u32, OptionQuery>;

	/// The next auction's id.
	#[pallet::storage]
	pub type NextAuctionId<T: Config> = StorageValue<_, u32, ValueQuery>;

	/// The pre-liquidation caps before governance set them.
	#[pallet::type_value]
	pub fn DefaultPreLiquidationRulesOf<T: Config>() -> PreLiquidationRules {
		T::DefaultPreLiquidationRules::get()
	}

	/// Governance's caps on pre-liquidation terms ([`crate::pre_liquidation`]).
	#[pallet::storage]
	pub type PreLiquidationCaps<T: Config> =
		StorageValue<_, PreLiquidationRules, ValueQuery, DefaultPreLiquidationRulesOf<T>>;

	/// Borrowers who opted in to pre-liquidation: their terms and last pre-liquidation block.
	#[pallet::storage]
	pub type PreLiquidation<T: Config> = StorageMap<
		_,
		Blake2_128Concat,
		T::AccountId,
		PreLiquidationEntry<BlockNumberFor<T>>,
		OptionQuery,
	>;

	/// Accounts read on every pass of the index (filed as [`Filing::Watch`]).
	#[pallet::storage]
	pub type Watchlist<T: Config> = StorageMap<_, Blake2_128Concat, T::AccountId, (), OptionQuery>;

	/// Risk ranks set at genesis (each market must exist: the lending pallet's genesis runs
	/// first).
	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// `(asset, rank)`: higher is seized first by `settle`.
		pub risk_ranks: alloc::vec::Vec<(T::AssetId, u8)>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			for (asset, rank) in &self.risk_ranks {
				if let Err(e) = Pallet::<T>::do_set_risk_rank(*asset, *rank) {
					panic!("genesis risk rank of {asset:?} is invalid: {e:?}");
				}
			}
		}
	}

	/// Events: every liquidation with its route and amounts, every step of the loss waterfall,
	/// every governance change.
	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A keeper liquidated a position with its own funds.
		Liquidated {
			/// Whose position.
			borrower: T::AccountId,
			/// The keeper.
			liquidator: T::AccountId,
			/// The debt repaid.
			debt_asset: T::AssetId,
			/// The collateral seized.
			collateral_asset: T::AssetId,
			/// Debt units repaid.
			repaid: u128,
			/// Collateral units the keeper received (as supply).
			seized: u128,
			/// Collateral units the insurance treasury received as the protocol fee.
			protocol_fee: u128,
			/// The discount applied.
			discount: Permill,
			/// The borrower's liquidation health before.
			health: FixedU128,
		},
		/// The protocol liquidated a position (`settle`). Of the collateral due,
		/// `sold + to_insurance + tip + returned = collateral_due`.
		Settled {
			/// Whose position.
			borrower: T::AccountId,
			/// Who called `settle`.
			caller: T::AccountId,
			/// The debt repaid.
			debt_asset: T::AssetId,
			/// The collateral seized.
			collateral_asset: T::AssetId,
			/// How: the DEX, or the backstop and why not the DEX.
			route: Route,
			/// Debt units repaid.
			repaid: u128,
			/// Collateral units due for the repayment, the discount included.
			collateral_due: u128,
			/// Collateral units sold on the DEX.
			sold: u128,
			/// Collateral units to the insurance treasury (its share of the penalty, or what it
			/// bought on the backstop route).
			to_insurance: u128,
			/// Collateral units to the caller.
			tip: u128,
			/// Collateral units of what was due that the borrower keeps.
			returned: u128,
			/// The discount applied.
			discount: Permill,
			/// The borrower's liquidation health before.
			health: FixedU128,
		},
		/// Collateral too small to pay for a unit of the debt was swept to the insurance
		/// treasury (so that the loss waterfall can close the debt).
		DustCollateralSwept {
			/// Whose collateral.
			borrower: T::AccountId,
			/// The collateral's asset.
			asset: T::AssetId,
			/// Units swept.
			amount: u128,
		},
		/// First step of the loss waterfall: the insurance treasury repaid debt of an account
		/// with no collateral left.
		ShortfallCoveredByInsurance {
			/// Whose debt.
			borrower: T::AccountId,
			/// The debt's asset.
			asset: T::AssetId,
			/// Units repaid by the treasury.
			amount: u128,
		},
		/// The insurance treasury holds other assets worth what is left of this debt but could
		/// not sell them within the bound: the write-off waits up to `ShortfallWait` blocks,
		/// then the sale is tried again (the lenders bear only what it cannot cover).
		ShortfallDeferred {
			/// Whose debt.
			borrower: T::AccountId,
			/// The debt's asset.
			asset: T::AssetId,
			/// Units left to cover.
			amount: u128,
			/// The first block the rest may be written off (the sale is tried once more).
			until: u32,
		},
		/// Second step: the market's reserves absorbed debt of an account with no collateral.
		ShortfallCoveredByReserves {
			/// Whose debt.
			borrower: T::AccountId,
			/// The debt's asset.
			asset: T::AssetId,
			/// Units written off against reserves.
			amount: u128,
		},
		/// Last step: the market's suppliers absorbed debt (the supply index fell).
		BadDebtSocialised {
			/// Whose debt.
			borrower: T::AccountId,
			/// The debt's asset.
			asset: T::AssetId,
			/// Units written off against suppliers.
			amount: u128,
		},
		/// Governance changed the parameters.
		ParamsUpdated {
			/// The new parameters.
			params: LiquidationParams,
		},
		/// The circuit breaker held back a position's DEX sale and the backstop could not take
		/// it: it waits in its collateral's queue.
		SaleQueued {
			/// The borrower.
			borrower: T::AccountId,
			/// The collateral it waits to sell.
			collateral_asset: T::AssetId,
			/// Its liquidation health.
			health: FixedU128,
			/// Its place in the queue (0: next).
			position: u32,
		},
		/// A position left its collateral's sale queue: settled, found no longer liquidatable
		/// by a sale it would have held back, or displaced by a riskier one from a full queue.
		Dequeued {
			/// The borrower.
			borrower: T::AccountId,
			/// The collateral it waited to sell.
			collateral_asset: T::AssetId,
		},
		/// Governance set a collateral's risk rank.
		RiskRankSet {
			/// The asset.
			asset: T::AssetId,
			/// Its rank (higher is seized first).
			rank: u8,
		},
		/// The insurance treasury sold `sold` of its `asset` on the DEX for `bought` of
		/// `for_asset`, to cover a shortfall in it (the loss waterfall, before anything is
		/// socialised).
		InsuranceSold {
			/// The holding sold.
			asset: T::AssetId,
			/// Units sold.
			sold: u128,
			/// The debt's asset bought.
			for_asset: T::AssetId,
			/// Units bought.
			bought: u128,
		},
		/// Governance moved insurance funds.
		InsuranceTransferred {
			/// The asset.
			asset: T::AssetId,
			/// Units moved.
			amount: u128,
			/// To whom.
			to: T::AccountId,
		},
		/// `settle_batch` sold the collateral seized from `positions` positions of one pair in
		/// one DEX swap: the DEX took `sold` (the sum of the positions' `sold`) for exactly
		/// `repaid` of the debt (the sum of theirs). Each position was charged its share rounded
		/// up; the rounding, `remainder` in all (below a unit per position), is in the
		/// positions' `to_insurance` (or kept by them when the treasury, full, could not
		/// receive its share in tokens: below the minimum balance). Each position has its own
		/// `Settled`.
		BatchSold {
			/// The collateral sold.
			collateral_asset: T::AssetId,
			/// The debt bought.
			debt_asset: T::AssetId,
			/// Positions in the sale.
			positions: u32,
			/// Debt units bought and repaid.
			repaid: u128,
			/// Collateral units the DEX took.
			sold: u128,
			/// Collateral units of rounding the positions paid to the insurance treasury (or
			/// kept, as above).
			remainder: u128,
		},
		/// `settle_batch` passed over a position (the rest of the batch went on).
		SettlementSkipped {
			/// Whose position.
			borrower: T::AccountId,
			/// Why.
			reason: Skipped,
		},
		/// Neither the DEX nor the backstop could carry out a settlement: its seizure, `lot`
		/// collateral for `tab` debt, is auctioned from `top` falling to `floor` (debt units per
		/// collateral unit).
		AuctionStarted {
			/// The auction's id.
			id: u32,
			/// Whose collateral.
			borrower: T::AccountId,
			/// The collateral sold.
			collateral_asset: T::AssetId,
			/// The debt repaid.
			debt_asset: T::AssetId,
			/// Collateral units for sale.
			lot: u128,
			/// Debt units to repay.
			tab: u128,
			/// The starting price.
			top: FixedU128,
			/// The lowest price.
			floor: FixedU128,
			/// Why the DEX could not.
			dex: DexRefusal,
			/// The borrower's liquidation health.
			health: FixedU128,
		},
		/// A taker bought part or all of an auction's lot.
		AuctionTaken {
			/// The auction.
			id: u32,
			/// Who bought.
			taker: T::AccountId,
			/// Collateral units it received (as lending supply).
			bought: u128,
			/// Debt units it repaid.
			paid: u128,
			/// The price.
			price: FixedU128,
			/// Collateral units left for sale.
			lot_left: u128,
			/// Debt units left to repay.
			tab_left: u128,
		},
		/// A stale auction started again from the oracle.
		AuctionReset {
			/// The auction.
			id: u32,
			/// Its new starting price.
			top: FixedU128,
			/// Its new lowest price.
			floor: FixedU128,
			/// Collateral units for sale.
			lot: u128,
			/// Debt units to repay.
			tab: u128,
		},
		/// An auction ended.
		AuctionEnded {
			/// The auction.
			id: u32,
			/// Whose collateral.
			borrower: T::AccountId,
			/// How.
			reason: AuctionEnd,
			/// Collateral units of the unsold lot to the insurance treasury (its share of the
			/// penalty, when the tab was paid).
			to_insurance: u128,
			/// Collateral units of the unsold lot the borrower keeps.
			returned: u128,
			/// Debt units of the tab not repaid by the auction.
			unpaid: u128,
		},
		/// Governance set the auction parameters.
		AuctionParamsSet {
			/// The new parameters.
			params: AuctionParams,
		},
		/// The risk index took a new epoch's reference variables.
		EpochStarted {
			/// Its number.
			epoch: u32,
			/// Markets it holds.
			markets: u32,
			/// Whether every market is in it with both variables.
			complete: bool,
		},
		/// A borrower opted in to pre-liquidation, or changed its terms.
		PreLiquidationSet {
			/// The borrower.
			account: T::AccountId,
			/// Its terms.
			terms: PreLiquidationTerms,
		},
		/// A borrower opted out of pre-liquidation, or its last debt was repaid or liquidated
		/// (an opt-in lasts as long as some debt).
		PreLiquidationCleared {
			/// The borrower.
			account: T::AccountId,
		},
		/// A keeper pre-liquidated part of a position inside the borrower's band.
		PreLiquidated {
			/// Whose position.
			borrower: T::AccountId,
			/// The keeper.
			keeper: T::AccountId,
			/// The debt repaid.
			debt_asset: T::AssetId,
			/// The collateral taken.
			collateral_asset: T::AssetId,
			/// Debt units repaid (from the keeper's funds).
			repaid: u128,
			/// Collateral units the keeper received (as supply).
			seized: u128,
			/// Collateral units the insurance treasury received as the protocol fee.
			protocol_fee: u128,
			/// The bonus applied.
			bonus: Permill,
			/// The borrower's health for the pair before.
			health_before: FixedU128,
			/// And after (never lower).
			health_after: FixedU128,
		},
		/// Governance set the pre-liquidation caps.
		PreLiquidationRulesSet {
			/// The caps.
			rules: PreLiquidationRules,
		},
		/// Accounts were filed anew in the risk index.
		Refiled {
			/// The accounts.
			accounts: alloc::vec::Vec<T::AccountId>,
		},
		/// Keys of the risk index with no entry left were removed (`prune_keys`), and with
		/// them the variables of older epochs that had no key left.
		KeysPruned {
			/// The keys.
			keys: alloc::vec::Vec<RiskKeyOf<T>>,
			/// The epochs whose variables went.
			epochs: alloc::vec::Vec<u32>,
		},
	}

	/// Every refusal by name; a refused call changes nothing.
	#[pallet::error]
	pub enum Error<T> {
		/// The account's health is at least 1: it may not be liquidated.
		NotLiquidatable,
		/// The account has not opted in to pre-liquidation.
		NoPreLiquidation,
		/// The account's health is at or above its pre-liquidation band.
		AboveBand,
		/// The account's health is below 1: it is liquidated, not pre-liquidated.
		BelowOne,
		/// The account was pre-liquidated in this block already.
		PreLiquidatedThisBlock,
		/// The pre-liquidation would lower the account's health (a bonus too large for its
		/// collateral's threshold at this health).
		HealthWouldFall,
		/// A pre-liquidation band at or below 1, or above its cap (at most 2).
		BandOutOfRange,
		/// A pre-liquidation close share of zero, or above its cap (at most 50%).
		CloseShareOutOfRange,
		/// A pre-liquidation bonus of zero, or above its cap (at most 10%).
		PreLiquidationBonusOutOfRange,
		/// A pre-liquidation horizon outside 1 minute to 7 days.
		HorizonOutOfRange,
		/// A pre-liquidation step below half of what the borrower's close share allows at its
		/// health (the block's one step is not spent on a token amount).
		StepTooSmall,
		/// The borrower's bonus (as used) is below the keeper's `min_bonus`.
		BonusBelowMinimum,
		/// The position is already queued for a sale the circuit breaker holds back, and its
		/// turn has not come.
		AwaitingSale,
		/// The collateral's sale queue is full of riskier positions.
		SaleQueueFull,
		/// The oracle guard holds the collateral's or the debt's price and the DEX could not
		/// sell within the bound: `settle` waits for the price (no backstop, no auction on it);
		/// a keeper may still liquidate, a running auction be taken. Or the feeds of either
		/// disagree (a dispute): no route liquidates the pair until they agree again.
		PriceUnconfirmed,
		/// The account's shortfall waits for the insurance treasury's sale of other holdings
		/// (`ShortfallWaiting`); it is covered or written off when the wait ends.
		ShortfallWaiting,
		/// A borrower may not liquidate or settle its own position.
		SelfLiquidation,
		/// The debt and the collateral must be different assets.
		SameAsset,
		/// No lending market for this asset.
		UnknownMarket,
		/// An amount of zero.
		ZeroAmount,
		/// The account has no debt.
		NoDebt,
		/// The account has no collateral to seize (and so nothing but the loss waterfall).
		NoCollateral,
		/// The collateral is too small to pay for a single unit of the debt.
		CollateralTooSmall,
		/// A partial liquidation would leave a debt or collateral worth less than the dust
		/// value: repay more (or `All`).
		LeavesDust,
		/// The DEX cannot settle within the slippage bound, the insurance treasury cannot buy
		/// the collateral, and no auction can start (`MaxAuctions` are live): the position
		/// waits.
		NoRoute,
		/// The borrower's collateral is already in an auction (`take` from it; `redo` resets or
		/// closes it): `settle` starts no second one, and `liquidate` takes none of the
		/// auction's lot at its fixed discount (what the borrower holds beyond the lot it may).
		InAuction,
		/// No live auction with this id.
		UnknownAuction,
		/// The auction's price is above the taker's `max_price`.
		AuctionPriceTooHigh,
		/// The auction is too old or its price too far below the oracle: `redo` it first.
		AuctionNeedsReset,
		/// The auction is neither too old nor priced too far below the oracle.
		AuctionNotStale,
		/// The auction has nothing left to sell or to repay (the borrower repaid, or its
		/// collateral went by other means): `redo` closes it.
		AuctionOver,
		/// Auction `buf` above 50%.
		AuctionBufOutOfRange,
		/// Auction `step` zero or above 20%.
		AuctionStepOutOfRange,
		/// Auction `floor` zero or above 90%.
		AuctionFloorOutOfRange,
		/// Auction `cusp` not above `floor`, or 100%.
		AuctionCuspOutOfRange,
		/// Auction `tail` zero or above 100,000 blocks.
		AuctionTailOutOfRange,
		/// A bounded change (the risk track) came sooner than `Rails::min_interval` after the
		/// record's last change: wait, or ask root.
		ChangeTooSoon,
		/// A bounded change moves a value beyond its step in `Rails` (a rate by `points`, a
		/// health by `share` of itself, an amount by `factor`); the node's log names it.
		StepTooLarge,
		/// Only root (the root track) may do this: move insurance funds out.
		RootOnly,
		/// A price needed is older than the oracle's maximum age.
		PriceStale,
		/// A price needed is missing.
		PriceMissing,
		/// An amount overflowed.
		Overflow,
		/// The insurance treasury holds less than asked.
		InsufficientInsurance,
		/// `target_health` outside `(1, 2]`.
		TargetHealthOutOfRange,
		/// `health_for_max_discount` outside `[0.5, 1)`.
		MaxDiscountHealthOutOfRange,
		/// `protocol_fee` above 50%.
		ProtocolFeeOutOfRange,
		/// `caller_tip` above 1%, or a tip with a cap of zero.
		CallerTipOutOfRange,
		/// `max_slippage` zero or above 20%.
		MaxSlippageOutOfRange,
		/// `backstop_discount` above 20%.
		BackstopDiscountOutOfRange,
		/// `dust_value` above the runtime's `MaxDustValue`.
		DustValueOutOfRange,
		/// A batch with no borrowers.
		EmptyBatch,
		/// A borrower appears twice in a batch.
		DuplicateBorrower,
		/// No position of the batch could be settled (each skipped; the events of a dry run,
		/// or `preview`, say why).
		NothingSettled,
		/// `pool_block_share` below 0.5%.
		PoolBlockShareOutOfRange,
		/// A key named to `prune_keys` is not in the risk index, still has an entry, or is
		/// named twice.
		KeyNotPrunable,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			assert!(
				T::DefaultParams::get().validate(T::MaxDustValue::get()).is_ok(),
				"DefaultParams must be valid"
			);
			assert!(T::MaxDebts::get() > 0, "MaxDebts must be positive");
			assert!(T::EpochBlocks::get() >= 8, "EpochBlocks must be at least 8");
			assert!(T::MaxSettleBatch::get() > 0, "MaxSettleBatch must be positive");
			assert!(T::MaxBatchPairs::get() > 0, "MaxBatchPairs must be positive");
			assert!(
				T::DefaultAuctionParams::get().validate().is_ok(),
				"DefaultAuctionParams must be valid"
			);
			assert!(T::MaxAuctions::get() > 0, "MaxAuctions must be positive");
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}

		/// A new epoch of the risk index when one is due ([`Pallet::epoch_due`]).
		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			if Self::epoch_due(now) {
				let markets = Self::new_epoch(now);
				// Whether the current and the previous epoch have keys: a storage iteration
				// each, one of which the benchmark's path takes.
				T::WeightInfo::new_epoch(markets).saturating_add(T::DbWeight::get().reads(1))
			} else {
				T::DbWeight::get().reads(1)
			}
		}

		/// Finds accounts below health 1 and submits their settlement ([`crate::worker`]).
		fn offchain_worker(now: BlockNumberFor<T>) {
			match Self::run_worker(now) {
				Ok(report) => log::debug!(target: "runtime::liquidation", "worker: {report:?}"),
				Err(e) => log::debug!(target: "runtime::liquidation", "worker idle: {e:?}"),
			}
		}
	}

	/// The offchain worker's transactions. Each is valid only from the local node (its own
	/// worker, `TransactionSource::Local`) or in a block (`InBlock`): a transaction from the
	/// network is refused before anything is read, so no one can make a validator validate,
	/// include or propagate unsigned calls it did not make itself; the block's author
	/// includes its own worker's settlements. Validity is the same cheap check
	/// `pre_dispatch` makes at inclusion (a few reads per account or key: [`Pallet::may_settle`],
	/// [`Pallet::needs_refile`], [`Pallet::redo_due`], [`Pallet::any_prunable`]), never a dry
	/// run of the call; the
	/// worker dry-runs before it submits, and dispatch is charged its weight (refunded to what
	/// it did). One tag per borrower, account, auction or key: two transactions naming the
	/// same one cannot both be in the pool.
	#[pallet::validate_unsigned]
	impl<T: Config> ValidateUnsigned for Pallet<T> {
		type Call = Call<T>;

		fn validate_unsigned(source: TransactionSource, call: &Self::Call) -> TransactionValidity {
			if !matches!(source, TransactionSource::Local | TransactionSource::InBlock) {
				return InvalidTransaction::Call.into();
			}
			// Validity is the inclusion check, less the block's unsigned count (of the block
			// being built, not of this state: a full block leaves it for the next).
			if let Err(e) = Self::check_unsigned(call, true) {
				log::debug!(target: "runtime::liquidation", "unsigned call refused: {e:?}");
				return Err(e);
			}
			let (prefix, priority) = match call {
				Call::refile_unsigned { .. } => ("margincall-refile", 0),
				Call::prune_keys_unsigned { .. } => ("margincall-prune", 0),
				Call::redo_unsigned { .. } => ("margincall-auction", T::UnsignedPriority::get()),
				_ => ("margincall-liquidation", T::UnsignedPriority::get()),
			};
			let tx = ValidTransaction::with_tag_prefix(prefix);
			let tx = match call {
				Call::settle_unsigned { borrower, .. } => tx.and_provides(borrower),
				Call::settle_batch_unsigned { borrowers, .. }
				| Call::settle_after_feed { borrowers, .. } => {
					borrowers.iter().fold(tx, |tx, borrower| tx.and_provides(borrower))
				},
				Call::refile_unsigned { accounts, .. } => {
					accounts.iter().fold(tx, |tx, account| tx.and_provides(account))
				},
				Call::prune_keys_unsigned { keys, .. } => {
					keys.iter().fold(tx, |tx, key| tx.and_provides(key))
				},
				Call::redo_unsigned { id, .. } => tx.and_provides(id),
				_ => return InvalidTransaction::Call.into(),
			};
			// In the pool until the last block that may include it (`at` + the longevity; a
			// call validated later than its block is not carried past that).
			use sp_runtime::{SaturatedConversion, Saturating};
			let last = Self::made_at(call)
				.unwrap_or_default()
				.saturating_add(T::UnsignedLongevity::get().into());
			let now = frame_system::Pallet::<T>::block_number();
			let longevity = last.saturating_add(1u32.into()).saturating_sub(now);
			let mut valid = tx
				.priority(priority)
				.longevity(longevity.saturated_into::<u64>().max(1))
				.propagate(false)
				.build()?;
			// After the feed's transaction: its own tag, as `CheckNonce` provides it (no prefix).
			if let Call::settle_after_feed { feed, .. } = call {
				if Self::feed_pending(feed) {
					valid.requires.push(feed.encode());
				}
			}
			Ok(valid)
		}

		/// The check at validation, and the count of the block's unsigned weight: an account
		/// repaid meanwhile is dropped from the block, not failed in it; a call beyond the
		/// unsigned share waits for a later block.
		fn pre_dispatch(call: &Self::Call) -> Result<(), TransactionValidityError> {
			let read = Self::check_unsigned(call, false)?;
			// A batch's check stops at its first liquidatable borrower: the validation declared
			// for the rest (at their worst) is not claimed of the block's unsigned share.
			let declared = call.get_dispatch_info().call_weight;
			let n = |borrowers: &[T::AccountId]| u32::try_from(borrowers.len()).unwrap_or(u32::MAX);
			let claim = match call {
				Call::settle_batch_unsigned { borrowers, .. } => Self::batch_claim(
					declared,
					T::WeightInfo::validate_settle_batch,
					n(borrowers),
					read,
				),
				Call::settle_after_feed { borrowers, .. } => Self::batch_claim(
					declared,
					T::WeightInfo::validate_settle_after_feed,
					n(borrowers),
					read,
				),
				_ => declared,
			};
			Self::claim_unsigned(claim)
		}
	}

	impl<T: Config> Pallet<T> {
		/// Whether an unsigned call is valid now (validation and inclusion alike; `in_pool`:
		/// at validation, where a settlement after a feed still in the pool waits for it), and
		/// how many of a batch's borrowers it read (up to the first liquidatable one).
		pub(crate) fn check_unsigned(
			call: &Call<T>,
			in_pool: bool,
		) -> Result<u32, TransactionValidityError> {
			let at = Self::made_at(call).ok_or(InvalidTransaction::Call)?;
			Self::check_made_at(at)?;
			let first_due = Self::first_due;
			let mut read = 1u32;
			let valid = match call {
				Call::settle_unsigned { borrower, .. } => Self::may_settle(borrower),
				// Borrowers in strictly ascending order (one transaction per set: otherwise
				// malformed), any of them liquidatable now: one borrower that recovers (or is
				// settled earlier in the block) cannot hold back the rest, which dispatch
				// settles while it skips that one. After a feed: the same once the feed has
				// landed; before, valid in the pool (it requires the feed, whose prices this
				// state does not have yet), not yet at inclusion.
				Call::settle_batch_unsigned { borrowers, .. }
				| Call::settle_after_feed { borrowers, .. } => {
					if borrowers.is_empty()
						|| !borrowers.iter().zip(borrowers.iter().skip(1)).all(|(a, b)| a < b)
					{
						return Err(InvalidTransaction::Call.into());
					}
					if let Call::settle_after_feed { feed, .. } = call {
						if Self::feed_pending(feed) {
							return if in_pool {
								Ok(0)
							} else {
								Err(InvalidTransaction::Future.into())
							};
						}
					}
					first_due(borrowers).inspect(|k| read = *k).is_some()
				},
				// Housekeeping: valid only if it moves every account it names.
				Call::refile_unsigned { accounts, .. } => {
					!accounts.is_empty() && accounts.iter().all(Self::needs_refile)
				},
				Call::prune_keys_unsigned { keys, .. } => Self::any_prunable(keys),
				Call::redo_unsigned { id, .. } => Self::redo_due(*id),
				_ => return Err(InvalidTransaction::Call.into()),
			};
			if valid {
				Ok(read)
			} else {
				Err(InvalidTransaction::Stale.into())
			}
		}

		/// An unsigned call names the block its worker made it at (`at`), so that the same
		/// settlement made again later is a different transaction: the (fork-aware) pool
		/// refuses the bytes of a transaction a block included until that block is final, and
		/// a call has no signer or nonce to tell two apart. Valid from that block for
		/// `UnsignedLongevity` blocks.
		fn check_made_at(at: BlockNumberFor<T>) -> Result<(), TransactionValidityError> {
			let now = frame_system::Pallet::<T>::block_number();
			if at > now {
				return Err(InvalidTransaction::Future.into());
			}
			let longevity = BlockNumberFor::<T>::from(T::UnsignedLongevity::get());
			if sp_runtime::Saturating::saturating_sub(now, at) > longevity {
				return Err(InvalidTransaction::Stale.into());
			}
			Ok(())
		}

		/// How many of a batch's `borrowers` its check reads: up to its first liquidatable one
		/// (`None`: none is).
		pub(crate) fn first_due(borrowers: &[T::AccountId]) -> Option<u32> {
			borrowers
				.iter()
				.position(Self::may_settle)
				.map(|i| u32::try_from(i.saturating_add(1)).unwrap_or(u32::MAX))
		}

		/// What an unsigned batch of `n` borrowers claims of the block's unsigned share at
		/// inclusion (`pre_dispatch`): its `declared` weight less the validation (`validate`)
		/// of the borrowers its check did not read (it read `read`: [`Self::first_due`]).
		fn batch_claim(declared: Weight, validate: fn(u32) -> Weight, n: u32, read: u32) -> Weight {
			declared.saturating_sub(validate(n).saturating_sub(validate(read)))
		}

		/// The block an unsigned call was made at (`None` for any other call).
		fn made_at(call: &Call<T>) -> Option<BlockNumberFor<T>> {
			match call {
				Call::settle_unsigned { at, .. }
				| Call::settle_batch_unsigned { at, .. }
				| Call::settle_after_feed { at, .. }
				| Call::refile_unsigned { at, .. }
				| Call::prune_keys_unsigned { at, .. }
				| Call::redo_unsigned { at, .. } => Some(*at),
				_ => None,
			}
		}

		/// Whether the feed transaction `(signer, nonce)` has not landed yet (its signer's
		/// nonce not past it).
		fn feed_pending(feed: &(T::AccountId, T::Nonce)) -> bool {
			frame_system::Pallet::<T>::account_nonce(&feed.0) <= feed.1
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Repays up to `max_repay` of `borrower`'s `debt_asset` debt with the caller's funds
		/// and gives the caller `collateral_asset` collateral (as lending supply) worth the
		/// repayment plus the discount. How much: what brings the account to the target health,
		/// everything if the rest would be dust, less if the collateral cannot pay for it.
		#[pallet::call_index(0)]
		#[pallet::weight(Pallet::<T>::liquidate_weight())]
		pub fn liquidate(
			origin: OriginFor<T>,
			borrower: AccountIdLookupOf<T>,
			debt_asset: T::AssetId,
			collateral_asset: T::AssetId,
			max_repay: Amount,
		) -> DispatchResultWithPostInfo {
			let keeper = ensure_signed(origin)?;
			let borrower = T::Lookup::lookup(borrower)?;
			Self::deferring(&borrower, || {
				Self::do_liquidate(&keeper, &borrower, debt_asset, collateral_asset, max_repay)
			})
		}

		/// Liquidates `borrower`'s largest debt against its riskiest collateral through the
		/// DEX, or the insurance backstop when the DEX cannot within the slippage bound; with no
		/// collateral left (or only collateral too small to pay for a unit of the debt, which is
		/// swept to the treasury), runs the loss waterfall. The caller needs no capital and gets
		/// a tip, as collateral supply.
		#[pallet::call_index(1)]
		#[pallet::weight(Pallet::<T>::settle_weight())]
		pub fn settle(
			origin: OriginFor<T>,
			borrower: AccountIdLookupOf<T>,
		) -> DispatchResultWithPostInfo {
			let caller = ensure_signed(origin)?;
			let borrower = T::Lookup::lookup(borrower)?;
			Self::deferring(&borrower, || Self::do_settle(&caller, &borrower))
		}

		/// Replaces the parameters, each checked against its bound. Origin: `RiskAdmin`.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::update_params())]
		pub fn update_params(origin: OriginFor<T>, params: LiquidationParams) -> DispatchResult {
			let authority = T::RiskAdmin::ensure_origin(origin)?;
			Self::do_update_params(params, authority)
		}

		/// Sets the risk rank of `asset`'s collateral (higher is seized first by `settle`).
		/// Origin: `RiskAdmin`.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::set_risk_rank())]
		pub fn set_risk_rank(origin: OriginFor<T>, asset: T::AssetId, rank: u8) -> DispatchResult {
			T::RiskAdmin::ensure_origin(origin)?;
			Self::do_set_risk_rank(asset, rank)
		}

		/// Moves `amount` of the insurance treasury's `asset` to `to`. Origin: `RiskAdmin`,
		/// unbounded (root): funds leaving the treasury have no step.
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::transfer_insurance())]
		pub fn transfer_insurance(
			origin: OriginFor<T>,
			asset: T::AssetId,
			amount: u128,
			to: AccountIdLookupOf<T>,
		) -> DispatchResult {
			let authority = T::RiskAdmin::ensure_origin(origin)?;
			ensure!(!authority.bounded(), Error::<T>::RootOnly);
			let to = T::Lookup::lookup(to)?;
			Self::do_transfer_insurance(asset, amount, &to)
		}

		/// `settle(borrower)` by the offchain worker: an unsigned transaction from the local node
		/// only, valid while the borrower is liquidatable ([`Pallet::may_settle`]; the worker
		/// dry-runs it first, [`Pallet::can_settle`]). The tip goes to the insurance treasury.
		/// `at`: the block the worker made it at; valid for `UnsignedLongevity` blocks from it.
		#[pallet::call_index(6)]
		#[pallet::weight(Pallet::<T>::settle_unsigned_weight())]
		pub fn settle_unsigned(
			origin: OriginFor<T>,
			borrower: T::AccountId,
			at: BlockNumberFor<T>,
		) -> DispatchResultWithPostInfo {
			ensure_none(origin)?;
			let _ = at; // Checked at validation and inclusion (`check_unsigned`).
			let result = Self::deferring(&borrower, || {
				Self::do_settle(&Self::insurance_account(), &borrower)
			});
			let result = Self::with_validation(result, Self::unsigned_checks(1));
			Self::return_unsigned(Self::settle_unsigned_weight(), result)
		}

		/// Files each of `accounts` in the risk index where it belongs now (an entry left
		/// above it after its risk fell is moved down; an account without debt leaves the
		/// index). Anyone may; the offchain worker does it for accounts it found healthy.
		#[pallet::call_index(5)]
		#[pallet::weight(Pallet::<T>::refile_weight(accounts.len().try_into().unwrap_or(u32::MAX)))]
		pub fn refile(
			origin: OriginFor<T>,
			accounts: BoundedVec<T::AccountId, T::MaxRefile>,
		) -> DispatchResult {
			ensure_signed(origin)?;
			Self::do_refile(accounts);
			Ok(())
		}

		/// `refile(accounts)` by the offchain worker, for accounts it read and found at health
		/// 1 or above: an unsigned transaction at the lowest priority, valid only while it
		/// moves every account it names. `at` as for `settle_unsigned`.
		#[pallet::call_index(7)]
		#[pallet::weight({
			let n = accounts.len().try_into().unwrap_or(u32::MAX);
			Pallet::<T>::refile_weight(n)
				.saturating_add(Pallet::<T>::inclusion_check(T::WeightInfo::validate_refile(n)))
		})]
		pub fn refile_unsigned(
			origin: OriginFor<T>,
			accounts: BoundedVec<T::AccountId, T::MaxRefile>,
			at: BlockNumberFor<T>,
		) -> DispatchResult {
			ensure_none(origin)?;
			let _ = at; // Checked at validation and inclusion (`check_unsigned`).
			Self::do_refile(accounts);
			Ok(())
		}

		/// Settles each of `borrowers` as `settle` would, selling the collateral seized from all
		/// positions of one `(collateral, debt)` pair in one DEX swap; each position pays its
		/// share of the sale pro rata to its repayment, rounded up (the remainder to the
		/// insurance treasury), within its own oracle bound. Positions that cannot be settled
		/// this way (healthy by now, no collateral, the pair unsellable) are skipped with an
		/// event: `settle` takes them on its own routes. `witness` declares the pairs and wide
		/// positions (more than one collateral or debt), for the weight; positions beyond it
		/// are skipped. Fails only if nothing was settled.
		#[pallet::call_index(8)]
		#[pallet::weight(Pallet::<T>::settle_batch_weight(
			borrowers.len().try_into().unwrap_or(u32::MAX),
			witness,
		))]
		pub fn settle_batch(
			origin: OriginFor<T>,
			borrowers: BoundedVec<T::AccountId, T::MaxSettleBatch>,
			witness: BatchWitness,
		) -> DispatchResultWithPostInfo {
			let caller = ensure_signed(origin)?;
			Self::settle_batch_call(&caller, &borrowers, witness).0
		}

		/// `settle_batch` by the offchain worker: from the local node only, valid while any
		/// borrower of it is liquidatable ([`Pallet::may_settle`]; the worker dry-runs the batch
		/// first, [`Pallet::try_settle_batch`]). The tips go to the insurance treasury. `at` as
		/// for `settle_unsigned`.
		#[pallet::call_index(9)]
		#[pallet::weight(Pallet::<T>::settle_batch_unsigned_weight(
			borrowers.len().try_into().unwrap_or(u32::MAX),
			witness,
		))]
		pub fn settle_batch_unsigned(
			origin: OriginFor<T>,
			borrowers: BoundedVec<T::AccountId, T::MaxSettleBatch>,
			witness: BatchWitness,
			at: BlockNumberFor<T>,
		) -> DispatchResultWithPostInfo {
			ensure_none(origin)?;
			let _ = at; // Checked at validation and inclusion (`check_unsigned`).
			let n = borrowers.len().try_into().unwrap_or(u32::MAX);
			let (result, read) =
				Self::settle_batch_call(&Self::insurance_account(), &borrowers, witness);
			// Its check at inclusion read up to its first due borrower, no further than its
			// first settled one: charged that, and its claim on the block's unsigned share was
			// its declared weight less the validation of the borrowers after it. The share
			// keeps what it did (the claim less the unused part).
			let read = read.unwrap_or(n);
			let declared = Self::settle_batch_unsigned_weight(n, &witness);
			let claimed =
				Self::batch_claim(declared, T::WeightInfo::validate_settle_batch, n, read);
			let result = Self::with_validation(result, Self::unsigned_checks(read));
			Self::return_unsigned(claimed, result)
		}

		/// Buys up to `max_collateral` of auction `id`'s lot at its current price, if that is at
		/// most `max_price` (debt units per collateral unit), repaying the borrower's debt with
		/// the caller's funds; the caller receives the collateral as lending supply. The slice
		/// is cut to what the rest of the tab buys; a partial take may not leave dust. Refused
		/// while the auction needs a reset, on a stale price, or once the borrower is healthy.
		#[pallet::call_index(10)]
		#[pallet::weight(Pallet::<T>::take_weight())]
		pub fn take(
			origin: OriginFor<T>,
			id: u32,
			max_collateral: u128,
			max_price: FixedU128,
		) -> DispatchResultWithPostInfo {
			let taker = ensure_signed(origin)?;
			let borrower = Auctions::<T>::get(id).ok_or(Error::<T>::UnknownAuction)?.borrower;
			Self::deferring(&borrower, || Self::do_take(&taker, id, max_collateral, max_price))
		}

		/// Resets auction `id` when it is too old or its price is too far below the oracle (it
		/// starts again from the oracle), or closes it when there is nothing left to do (the
		/// borrower healthy again, its debt repaid or its collateral gone). Anyone may.
		#[pallet::call_index(11)]
		#[pallet::weight(Pallet::<T>::redo_weight())]
		pub fn redo(origin: OriginFor<T>, id: u32) -> DispatchResult {
			ensure_signed(origin)?;
			Self::do_redo(id)
		}

		/// `redo(id)` by the offchain worker: an unsigned transaction, valid only while the
		/// reset or the close would succeed ([`Pallet::redo_due`]). `at` as for
		/// `settle_unsigned`.
		#[pallet::call_index(13)]
		#[pallet::weight(
			// And the count of the block's unsigned weight its inclusion reads and writes.
			Pallet::<T>::inclusion_check(Pallet::<T>::redo_weight())
		)]
		pub fn redo_unsigned(
			origin: OriginFor<T>,
			id: u32,
			at: BlockNumberFor<T>,
		) -> DispatchResult {
			ensure_none(origin)?;
			let _ = at; // Checked at validation and inclusion (`check_unsigned`).
			Self::do_redo(id)
		}

		/// `settle_batch_unsigned` made by the node's same-block service (`node/`) for an
		/// oracle feed still in the pool: `feed` is the feed's signer and nonce. In the pool,
		/// before the feed lands, it is valid without a health check and REQUIRES the feed's
		/// transaction (its tag, `(signer, nonce)`), so a block builder takes it only after
		/// the feed, in the same block; at inclusion (and once the feed has landed) it is valid
		/// as `settle_batch_unsigned` is: while any borrower is liquidatable. A feed that never
		/// lands leaves it to expire unused. From the local node only; `at` as for
		/// `settle_unsigned`.
		#[pallet::call_index(14)]
		#[pallet::weight(Pallet::<T>::settle_after_feed_weight(
			borrowers.len().try_into().unwrap_or(u32::MAX),
			witness,
		))]
		pub fn settle_after_feed(
			origin: OriginFor<T>,
			borrowers: BoundedVec<T::AccountId, T::MaxSettleBatch>,
			witness: BatchWitness,
			feed: (T::AccountId, T::Nonce),
			at: BlockNumberFor<T>,
		) -> DispatchResultWithPostInfo {
			ensure_none(origin)?;
			let _ = (feed, at); // Checked at validation and inclusion (`check_unsigned`).
			let n = borrowers.len().try_into().unwrap_or(u32::MAX);
			let (result, read) =
				Self::settle_batch_call(&Self::insurance_account(), &borrowers, witness);
			let read = read.unwrap_or(n);
			let declared = Self::settle_after_feed_weight(n, &witness);
			let claimed =
				Self::batch_claim(declared, T::WeightInfo::validate_settle_after_feed, n, read);
			let result = Self::with_validation(result, Self::after_feed_checks(read));
			Self::return_unsigned(claimed, result)
		}

		/// Opts the caller in to soft pre-liquidation with `terms` (or changes them), or out
		/// with `None`: while its health is at least 1 and below the band, any keeper may repay
		/// up to the close share of one of its debts for collateral worth the repayment plus
		/// the bonus (once a block). Each term within governance's caps.
		#[pallet::call_index(15)]
		#[pallet::weight(T::WeightInfo::set_pre_liquidation())]
		pub fn set_pre_liquidation(
			origin: OriginFor<T>,
			terms: Option<PreLiquidationTerms>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_set_pre_liquidation(&who, terms)
		}

		/// Repays up to `max_repay` of `borrower`'s `debt_asset` debt with the caller's funds,
		/// for `collateral_asset` collateral worth the repayment plus the borrower's bonus (at
		/// least `min_bonus`), while its health is in its band: at most its close share scaled by
		/// the depth in the band (all of it at health 1), at least half of that. Refused if the
		/// account's health would fall, or while a price of its assets is held or disputed.
		#[pallet::call_index(16)]
		#[pallet::weight(Pallet::<T>::pre_liquidate_weight())]
		pub fn pre_liquidate(
			origin: OriginFor<T>,
			borrower: AccountIdLookupOf<T>,
			debt_asset: T::AssetId,
			collateral_asset: T::AssetId,
			max_repay: Amount,
			min_bonus: Permill,
		) -> DispatchResultWithPostInfo {
			let keeper = ensure_signed(origin)?;
			let borrower = T::Lookup::lookup(borrower)?;
			Self::deferring(&borrower, || {
				Self::do_pre_liquidate(
					&keeper,
					&borrower,
					debt_asset,
					collateral_asset,
					max_repay,
					min_bonus,
				)
			})
		}

		/// Replaces the pre-liquidation caps, each checked against its bound. Origin:
		/// `RiskAdmin`.
		#[pallet::call_index(17)]
		#[pallet::weight(T::WeightInfo::set_pre_liquidation_rules())]
		pub fn set_pre_liquidation_rules(
			origin: OriginFor<T>,
			rules: PreLiquidationRules,
		) -> DispatchResult {
			let authority = T::RiskAdmin::ensure_origin(origin)?;
			Self::do_set_pre_liquidation_rules(rules, authority)
		}

		/// Replaces the auction parameters, each checked against its bound. Origin:
		/// `RiskAdmin`.
		#[pallet::call_index(12)]
		#[pallet::weight(T::WeightInfo::set_auction_params())]
		pub fn set_auction_params(origin: OriginFor<T>, params: AuctionParams) -> DispatchResult {
			let authority = T::RiskAdmin::ensure_origin(origin)?;
			Self::do_set_auction_params(params, authority)
		}

		/// Removes each of `keys` from the risk index: every one must be a key with no entry
		/// left (an entry leaving its key leaves its state behind: [`KeyState`]), else
		/// `KeyNotPrunable` and nothing changes. An older epoch left with no key loses its
		/// variables. Anyone may; the offchain worker does it for the empty keys it finds.
		#[pallet::call_index(18)]
		#[pallet::weight(Pallet::<T>::prune_weight(keys.len().try_into().unwrap_or(u32::MAX)))]
		pub fn prune_keys(
			origin: OriginFor<T>,
			keys: BoundedVec<RiskKeyOf<T>, ConstU32<MAX_PRUNE>>,
		) -> DispatchResult {
			ensure_signed(origin)?;
			ensure!(Self::prunable(&keys), Error::<T>::KeyNotPrunable);
			Self::remove_keys(keys.into_inner());
			Ok(())
		}

		/// `prune_keys(keys)` by the offchain worker: an unsigned transaction at the lowest
		/// priority, valid while it names no key twice and some key it names may be pruned
		/// (the others are skipped: a key an account enters meanwhile does not hold back the
		/// rest). `at` as for `settle_unsigned`.
		#[pallet::call_index(19)]
		#[pallet::weight({
			let n = keys.len().try_into().unwrap_or(u32::MAX);
			Pallet::<T>::prune_weight(n)
				.saturating_add(Pallet::<T>::inclusion_check(Pallet::<T>::validate_prune_weight(n)))
		})]
		pub fn prune_keys_unsigned(
			origin: OriginFor<T>,
			keys: BoundedVec<RiskKeyOf<T>, ConstU32<MAX_PRUNE>>,
			at: BlockNumberFor<T>,
		) -> DispatchResult {
			ensure_none(origin)?;
			let _ = at; // Checked at validation and inclusion (`check_unsigned`).
			Self::do_prune(keys);
			Ok(())
		}
	}

	#[pallet::view_functions]
	impl<T: Config> Pallet<T> {
		/// Every live auction with its price now and whether it needs a reset.
		pub fn auctions() -> alloc::vec::Vec<AuctionStatus<T::AccountId, T::AssetId>> {
			Self::auction_statuses()
		}

		/// What `settle(account)` would do now.
		pub fn preview(account: T::AccountId) -> Result<Preview<T::AssetId>, DispatchError> {
			Self::do_preview(&account)
		}

		/// `account`'s pre-liquidation: its terms, the band offered, the caps, and what a
		/// keeper's `pre_liquidate` would do now.
		pub fn pre_liquidation(account: T::AccountId) -> PreLiquidationView<T::AssetId> {
			Self::pre_liquidation_view(&account)
		}

		/// Debt socialised to `asset`'s suppliers so far.
		pub fn bad_debt(asset: T::AssetId) -> u128 {
			BadDebt::<T>::get(asset)
		}

		/// The insurance treasury's `(asset, tokens, lending supply)` in every market.
		pub fn insurance() -> alloc::vec::Vec<(T::AssetId, u128, u128)> {
			Self::insurance_fund()
		}

		/// Accounts below health 1 with their health, riskiest first, among up to `limit`
		/// accounts the risk index reports from `start`, and where the next page starts.
		pub fn liquidatable_page(
			start: Option<RiskCursorOf<T>>,
			limit: u32,
		) -> LiquidatablePage<T::AccountId, T::AssetId> {
			Self::liquidatable(start, limit)
		}
	}

	impl<T: Config> Pallet<T> {
		/// `settle_batch` of `borrowers` by `caller`, with how many of `borrowers` (in order)
		/// come up to its first settled one (`None` if none, or if `borrowers` are not in
		/// ascending order, as an unsigned batch's are): an unsigned batch's check at inclusion
		/// read no further (it stops at the first due one; one due but skipped before the
		/// first settled makes this more: the share then keeps a little less than was done,
		/// the block's weight counts all of it).
		fn settle_batch_call(
			caller: &T::AccountId,
			borrowers: &[T::AccountId],
			witness: BatchWitness,
		) -> (DispatchResultWithPostInfo, Option<u32>) {
			let report = match Self::settle_batch_filed(caller, borrowers, witness) {
				Ok(report) => report,
				Err(e) => return (Err(e.into()), None),
			};
			let first = report
				.settled
				.iter()
				.filter_map(|who| borrowers.binary_search(who).ok())
				.min()
				.and_then(|i| u32::try_from(i.saturating_add(1)).ok());
			(Self::batch_result(&report), first)
		}

		/// A batch's dispatch result from its report.
		fn batch_result(report: &BatchReport<T::AccountId>) -> DispatchResultWithPostInfo {
			let actual = Some(Self::batch_report_weight(report));
			if report.settled.is_empty() && report.queue.dropped == 0 {
				// Rolled back, and charged what was checked (not the whole reservation). A
				// batch that settled nothing but dropped queue entries no longer liquidatable
				// keeps that (as `settle` does).
				return Err(frame_support::dispatch::DispatchErrorWithPostInfo {
					post_info: actual.into(),
					error: Error::<T>::NothingSettled.into(),
				});
			}
			Ok(actual.into())
		}

		/// An unsigned call's `result` charged `check` more, what its validity check cost at
		/// inclusion (`pre_dispatch`); a result without an actual weight is charged the whole
		/// reservation, which includes it.
		fn with_validation(
			result: DispatchResultWithPostInfo,
			check: Weight,
		) -> DispatchResultWithPostInfo {
			let add = |mut post: frame_support::dispatch::PostDispatchInfo| {
				post.actual_weight = post.actual_weight.map(|w| w.saturating_add(check));
				post
			};
			result.map(add).map_err(|mut e| {
				e.post_info = add(e.post_info);
				e
			})
		}

		/// The DEX's name for `asset`.
		pub(crate) fn dex_asset(asset: T::AssetId) -> T::DexAssetKind {
			T::ToDexAsset::convert(asset)
		}
	}
}

use frame_support::{traits::Get, PalletId};
use sp_arithmetic::{FixedU128, Permill};
use sp_runtime::traits::AccountIdConversion;

impl<T: Config> Pallet<T> {
	/// The pallet's working account (empty between calls).
	pub fn account_id() -> T::AccountId {
		<T::PalletId as Get<PalletId>>::get().into_account_truncating()
	}

	/// The insurance treasury's account.
	pub fn insurance_account() -> T::AccountId {
		<T::InsurancePalletId as Get<PalletId>>::get().into_account_truncating()
	}
}
