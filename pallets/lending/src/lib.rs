//! # Lending pallet
//!
//! A cross-collateral money market (Aave v3 / Compound style) over `fungibles` assets, priced
//! by an oracle through [`PriceSource`]. It is the pool the liquidation pallet protects.
//!
//! - **Markets**, one per asset, are created and changed only by `UpdateOrigin` (root or the
//!   referenda risk track in the runtime). Their [`MarketParams`] are validated on every change.
//! - **Accounts** supply (earning interest through a supply index), borrow (owing interest
//!   through a borrow index), repay (also for another account), withdraw and choose which
//!   supplies are collateral. An account holds at most `MaxAssetsPerAccount` supplies and as
//!   many debts, in one storage item ([`Positions`]): one read gives its health.
//! - **Interest** accrues lazily per market on every touch, from the block timestamp: no
//!   per-block loop. Reserves take `reserve_factor` of the interest.
//! - **Health** ([`Pallet::account_health`]) is THE health computation of the chain: the
//!   liquidation pallet, its offchain worker, transaction validation and the runtime API all
//!   call it. Withdraw, borrow and disabling collateral are refused if they would leave the
//!   account below health 1 or above its borrow limit.
//! - **Prices** older than the runtime's `MaxPriceAge`, missing or zero are refused: every
//!   operation that needs one fails with [`Error::PriceStale`] or [`Error::PriceMissing`].
//!   Operations that need no price (supply, repay, withdrawing without debt) never read one.
//!   A liquidation's health ([`Pallet::liquidation_health`]) is stricter only where it must
//!   be: see its documentation for the stale-price rule of assets it does not touch.
//! - **Paused** markets take no new supply or borrow; everything that reduces risk stays open.
//! - **The circuit breaker** ([`BorrowBreaker`], the runtime wires `pallet-breaker`): a halted
//!   asset may not be borrowed ([`Error::AssetHalted`]) and as collateral backs no new borrow
//!   (it adds nothing to the borrow limit of a borrow); the chain-wide emergency refuses every
//!   new borrow ([`Error::BorrowsHalted`]). Repay, supply, withdraw and liquidations never ask
//!   it.
//! - **Collateral turned off** by governance (`collateral_enabled = false`, which requires a
//!   collateral factor of 0) gives no borrowing power, but existing collateral supplies keep
//!   counting at the liquidation threshold, so nobody becomes liquidatable by the switch.
//! - **The pallet account is never reaped**: every outflow keeps it alive, and a market's
//!   reserves never fall below the asset's minimum balance while it has suppliers (the first
//!   supply seeds that floor, [`Event::ReservesSeeded`]), so suppliers can always withdraw all
//!   they own.
//! - **Seizure moves supply shares**, not cash (as Aave's aTokens and Compound's cTokens): a
//!   lent-out market cannot block a liquidation.
//! - **Lots** (`lot.rs`): a batched sale's positions seized, repaid, or both in one pass
//!   ([`LendingPositions::settle_lot`]: each borrower's record read and written once, one event
//!   each, the sale run between the seizure and the repayment).
//! - **Bad debt** is written off against the market's reserves, then its suppliers through the
//!   supply index, which may then fall ([`Event::DebtWrittenOff`]).
//! - **Markets only for assets governance controls**: `create_market` refuses an asset whose
//!   owner, issuer, admin or freezer is not one of `AssetAdmins` (such a role could mint
//!   collateral or freeze the pool).
//!
//! Other pallets use the money market through [`LendingPositions`] (health, seizure of
//! collateral, repayment on behalf, write-off, reserves) and learn of every change through
//! `OnPositionChanged`; this pallet knows nothing of them. Rounding is always in the protocol's
//! favour (see [`math`]).

#![cfg_attr(not(feature = "std"), no_std)]
#![deny(missing_docs)]
#![cfg_attr(
	not(test),
	deny(clippy::arithmetic_side_effects, clippy::unwrap_used, clippy::indexing_slicing)
)]

extern crate alloc;

pub mod math;
pub mod traits;
pub mod types;
pub mod view;
pub mod weights;

mod impls;
mod lot;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;

pub use margincall_rails::Authority;
pub use pallet::*;
pub use traits::{
	BorrowBreaker, LendingPositions, OnPositionChanged, OraclePrices, PriceError, PriceSource,
	RiskChange, TimestampedPrices,
};
pub use types::*;
pub use view::{repay_clears_share_at, LiquidationView, PlanReads, ViewError};
pub use weights::WeightInfo;

/// Creates assets and fresh prices for the benchmarks.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper<AssetId, AccountId> {
	/// The `i`-th asset the benchmarks use; distinct for distinct `i`.
	fn asset(i: u32) -> AssetId;
	/// Makes `asset` exist, mintable by `fungibles::Mutate::mint_into`.
	fn create_asset(asset: AssetId);
	/// Makes `price` the fresh oracle price of `asset`.
	fn set_price(asset: AssetId, price: sp_arithmetic::FixedU128);
	/// Moves block time (ms since the epoch) to `now`.
	fn set_time(now: u64);
	/// Keeps the runtime's `OnPositionChanged` hook from doing its work in the benchmarks: the
	/// calls add the hook's own benchmarked weight (`OnPositionChanged::weight`), so measuring
	/// it inside theirs would count it twice.
	fn mute_position_hook() {}
}

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_support::{
		pallet_prelude::*,
		traits::{
			fungibles::{roles, Inspect, Mutate},
			Contains, UnixTime,
		},
		PalletId,
	};
	use frame_system::pallet_prelude::*;
	use sp_arithmetic::FixedU128;
	use sp_runtime::traits::StaticLookup;

	/// Supply and debt positions of one account.
	pub type PositionsOf<T> =
		AccountPositions<<T as Config>::AssetId, <T as Config>::MaxAssetsPerAccount, TagOf<T>>;
	/// What the position-change hook keeps in each account's record.
	pub type TagOf<T> = <<T as Config>::OnPositionChanged as OnPositionChanged<
		<T as frame_system::Config>::AccountId,
		<T as Config>::AssetId,
	>>::Tag;
	type AccountIdLookupOf<T> = <<T as frame_system::Config>::Lookup as StaticLookup>::Source;

	/// The in-code storage version.
	const STORAGE_VERSION: StorageVersion = StorageVersion::new(0);

	/// The lending pallet.
	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	/// Configuration: the pallet sees assets, prices, time and governance only through traits.
	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// Identifier of an asset, and so of its market.
		type AssetId: Parameter
			+ Member
			+ Copy
			+ Ord
			+ MaxEncodedLen
			+ sp_runtime::traits::MaybeSerializeDeserialize;

		/// The assets lent and borrowed.
		type Assets: Inspect<Self::AccountId, AssetId = Self::AssetId, Balance = u128>
			+ Mutate<Self::AccountId>
			+ roles::Inspect<Self::AccountId>;

		/// Accounts that may hold an asset's owner, issuer, admin and freezer roles for it to
		/// get a market (governance-controlled accounts: any other could mint collateral or
		/// freeze the pool's funds).
		type AssetAdmins: Contains<Self::AccountId>;

		/// Fresh prices or a refusal.
		type Prices: PriceSource<Self::AssetId>;

		/// How old (ms) a price of an asset a liquidation does not touch may be and still count
		/// in its health (see [`Pallet::liquidation_health`]).
		#[pallet::constant]
		type StalePriceGrace: Get<u64>;

		/// Block time, which interest accrues by.
		type UnixTime: UnixTime;

		/// May create markets and change their parameters: [`Authority::Bounded`] within
		/// [`Config::Rails`] (a referendum on the risk track), [`Authority::Unbounded`] within
		/// the absolute bounds only (root).
		type UpdateOrigin: EnsureOrigin<Self::RuntimeOrigin, Success = Authority>;

		/// May pause a market at once (a guardian), besides `UpdateOrigin`. Unpausing is
		/// `update_market`'s, by governance.
		type PauseOrigin: EnsureOrigin<Self::RuntimeOrigin>;

		/// How far and how often a bounded change may move a market's parameters.
		#[pallet::constant]
		type Rails: Get<MarketRails>;

		/// Told of every change to an account's positions, with the markets it touched.
		type OnPositionChanged: OnPositionChanged<Self::AccountId, Self::AssetId>;

		/// The circuit breaker: halted assets are not borrowed nor back new borrows.
		type Breaker: BorrowBreaker<Self::AssetId>;

		/// Account that holds the supplied assets and the reserves.
		#[pallet::constant]
		type PalletId: Get<PalletId>;

		/// Most markets one account may supply to, and most it may borrow from.
		#[pallet::constant]
		type MaxAssetsPerAccount: Get<u32>;

		/// Highest annual borrow rate a rate model may reach (at full utilisation).
		#[pallet::constant]
		type MaxBorrowRate: Get<FixedU128>;

		/// Weights of the calls, from the benchmarks.
		type WeightInfo: WeightInfo;

		/// Creates assets and prices for the benchmarks.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: BenchmarkHelper<Self::AssetId, Self::AccountId>;
	}

	/// Each market's risk parameters and accounting state (accrued lazily), in one item so a
	/// health check reads one item per market: present iff the market exists.
	#[pallet::storage]
	pub type Markets<T: Config> = StorageMap<_, Blake2_128Concat, T::AssetId, Market>;

	/// Supplies and debts of each account, in one item so that health is one read.
	#[pallet::storage]
	pub type Positions<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, PositionsOf<T>, OptionQuery>;

	/// The block of the last change to each market's risk parameters (anything but its
	/// status), by either authority: a bounded change waits [`MarketRails::min_interval`] after it.
	#[pallet::storage]
	pub type LastRiskChange<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AssetId, BlockNumberFor<T>>;

	/// Markets opened at genesis, validated like `create_market`.
	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// `(asset, parameters)` of each market; the asset must exist.
		pub markets: alloc::vec::Vec<(T::AssetId, MarketParams)>,
		/// Pays each genesis market's reserve floor (the asset's minimum balance), so no
		/// first supplier has to; without it the first supply seeds it.
		pub reserves_donor: Option<T::AccountId>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			for (asset, params) in &self.markets {
				if let Err(e) = Pallet::<T>::do_create_market(*asset, *params) {
					panic!("genesis market {asset:?} is invalid: {e:?}");
				}
				if let Some(donor) = &self.reserves_donor {
					let floor = T::Assets::minimum_balance(*asset);
					if let Err(e) = Pallet::<T>::do_add_reserves(donor, *asset, floor) {
						panic!("genesis reserves of {asset:?} cannot be paid: {e:?}");
					}
				}
			}
		}
	}

	/// Events an indexer or keeper can rely on: every state change, with amounts.
	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A market was opened.
		MarketCreated {
			/// The market's asset.
			asset: T::AssetId,
			/// Its parameters.
			params: MarketParams,
		},
		/// A market's parameters were changed (this includes pausing it).
		MarketUpdated {
			/// The market's asset.
			asset: T::AssetId,
			/// Its new parameters.
			params: MarketParams,
		},
		/// A market was paused (by a guardian or governance): no new supply or borrow until
		/// governance resumes it.
		MarketPaused {
			/// The market's asset.
			asset: T::AssetId,
		},
		/// A paused market was resumed by governance.
		MarketResumed {
			/// The market's asset.
			asset: T::AssetId,
		},
		/// Interest accrued in a market up to now.
		InterestAccrued {
			/// The market's asset.
			asset: T::AssetId,
			/// Interest charged to borrowers, in underlying units.
			interest: u128,
			/// The part of it credited to reserves.
			to_reserves: u128,
			/// The supply index after accrual.
			supply_index: FixedU128,
			/// The borrow index after accrual.
			borrow_index: FixedU128,
		},
		/// Assets were supplied.
		Supplied {
			/// The supplier.
			who: T::AccountId,
			/// The market's asset.
			asset: T::AssetId,
			/// Underlying units supplied.
			amount: u128,
			/// Supply shares minted.
			shares: u128,
		},
		/// A supply was withdrawn.
		Withdrawn {
			/// The supplier.
			who: T::AccountId,
			/// The market's asset.
			asset: T::AssetId,
			/// Underlying units paid out.
			amount: u128,
			/// Supply shares burnt.
			shares: u128,
		},
		/// Assets were borrowed.
		Borrowed {
			/// The borrower.
			who: T::AccountId,
			/// The market's asset.
			asset: T::AssetId,
			/// Underlying units paid out.
			amount: u128,
			/// Debt shares added.
			shares: u128,
		},
		/// A debt was (partly) repaid.
		Repaid {
			/// Who paid.
			payer: T::AccountId,
			/// Whose debt shrank.
			borrower: T::AccountId,
			/// The market's asset.
			asset: T::AssetId,
			/// Underlying units paid.
			amount: u128,
			/// Debt shares burnt.
			shares: u128,
		},
		/// A supply now backs its owner's debt.
		CollateralEnabled {
			/// The supplier.
			who: T::AccountId,
			/// The market's asset.
			asset: T::AssetId,
		},
		/// A supply no longer backs its owner's debt.
		CollateralDisabled {
			/// The supplier.
			who: T::AccountId,
			/// The market's asset.
			asset: T::AssetId,
		},
		/// Collateral was seized by a liquidation: supply shares moved from `who` to `to`.
		CollateralSeized {
			/// Whose collateral.
			who: T::AccountId,
			/// The market's asset.
			asset: T::AssetId,
			/// Underlying units the shares were worth (rounded down).
			amount: u128,
			/// Supply shares moved.
			shares: u128,
			/// Who received them, as a supply (not collateral unless it was already).
			to: T::AccountId,
		},
		/// Part of a lot was seized from `who` by a batched liquidation
		/// ([`crate::LendingPositions::seize_lot`]): `sold` paid out as tokens for the sale, `tip`
		/// and `rest` moved to the lot's receivers (see [`Event::LotSeized`]).
		LotSeizure {
			/// Whose collateral.
			who: T::AccountId,
			/// The market's asset.
			asset: T::AssetId,
			/// Underlying units paid out for the sale.
			sold: u128,
			/// Underlying units moved to the tip's receiver.
			tip: u128,
			/// Underlying units to the rest's receiver.
			rest: u128,
			/// Supply shares `who` lost in all.
			shares: u128,
		},
		/// A lot was seized ([`Event::LotSeizure`] for each borrower, or [`Event::LotSettlement`]
		/// when it was repaid in the same pass): `sold` paid out as tokens
		/// to `to` (`sold_shares` burnt), `tip_shares` credited to `tip_to`, the rest to
		/// `rest_to` as `rest_shares` of supply and `rest_tokens` of tokens.
		LotSeized {
			/// The market's asset.
			asset: T::AssetId,
			/// Underlying units paid out for the sale.
			sold: u128,
			/// Supply shares burnt for it.
			sold_shares: u128,
			/// Who received the tokens.
			to: T::AccountId,
			/// Supply shares moved to the tip's receiver.
			tip_shares: u128,
			/// The tip's receiver.
			tip_to: T::AccountId,
			/// Supply shares moved to the rest's receiver.
			rest_shares: u128,
			/// Underlying units paid to the rest's receiver as tokens (their shares burnt).
			rest_tokens: u128,
			/// The rest's receiver.
			rest_to: T::AccountId,
		},
		/// The first supply to a market (or the first after its reserves were used up) topped
		/// its reserves up to the asset's minimum balance, which keeps the pallet account alive.
		ReservesSeeded {
			/// The market's asset.
			asset: T::AssetId,
			/// The supplier who paid it.
			who: T::AccountId,
			/// Underlying units added to reserves (not to the supplier's shares).
			amount: u128,
		},
		/// A liquidation repaid `who`'s debt in `asset` from its own collateral supply of the
		/// same asset (netting): no tokens moved, both the supply and the debt fell.
		PositionNetted {
			/// Whose position.
			who: T::AccountId,
			/// The market's asset.
			asset: T::AssetId,
			/// Underlying units of debt repaid (and of supply used).
			amount: u128,
			/// Supply shares burnt (rounded up: against the borrower).
			supply_shares: u128,
			/// Debt shares burnt (rounded down: against the borrower).
			debt_shares: u128,
		},
		/// Bad debt was forgiven: reserves first, then suppliers (the supply index fell).
		DebtWrittenOff {
			/// Whose debt.
			who: T::AccountId,
			/// The market's asset.
			asset: T::AssetId,
			/// Underlying units forgiven.
			amount: u128,
			/// Debt shares burnt.
			shares: u128,
			/// Charged to the market's reserves.
			from_reserves: u128,
			/// Charged to the market's suppliers.
			socialised: u128,
			/// The supply index after the write-off.
			supply_index: FixedU128,
		},
		/// Reserves were added to a market by a donor.
		ReservesAdded {
			/// The market's asset.
			asset: T::AssetId,
			/// Who paid.
			who: T::AccountId,
			/// Underlying units added.
			amount: u128,
		},
		/// Reserves left the market (to the insurance treasury, or by governance).
		ReservesTransferred {
			/// The market's asset.
			asset: T::AssetId,
			/// Underlying units moved.
			amount: u128,
			/// Who received them.
			to: T::AccountId,
		},
		/// A borrower's part of a lot seized and repaid in one pass by a batched sale
		/// ([`crate::LendingPositions::settle_lot`]): `sold` of its collateral paid out as tokens
		/// for the sale, `tip` and `rest` moved to the lot's receivers ([`Event::LotSeized`]),
		/// `repaid` of its debt paid by the lot's payer ([`Event::LotRepaid`]).
		LotSettlement {
			/// Whose position.
			who: T::AccountId,
			/// The collateral's market.
			collateral_asset: T::AssetId,
			/// Underlying units paid out for the sale.
			sold: u128,
			/// Underlying units moved to the tip's receiver.
			tip: u128,
			/// Underlying units to the rest's receiver.
			rest: u128,
			/// Supply shares `who` lost in all.
			collateral_shares: u128,
			/// The debt's market.
			debt_asset: T::AssetId,
			/// Underlying units of debt repaid.
			repaid: u128,
			/// Debt shares burnt.
			debt_shares: u128,
		},
		/// A lot's debts were repaid ([`Event::LotSettlement`] for each borrower) in one
		/// transfer from `payer`.
		LotRepaid {
			/// The debt's market.
			asset: T::AssetId,
			/// Who paid.
			payer: T::AccountId,
			/// Underlying units paid.
			amount: u128,
			/// Debt shares burnt.
			shares: u128,
		},
	}

	/// Why a call was refused; state is unchanged in every case.
	#[pallet::error]
	pub enum Error<T> {
		/// An amount of zero (or one that converts to zero shares).
		ZeroAmount,
		/// No market for this asset.
		MarketNotFound,
		/// A market for this asset exists already.
		MarketAlreadyExists,
		/// The asset does not exist.
		AssetNotFound,
		/// The market is paused: no new supply or borrow.
		MarketPaused,
		/// The supply would exceed the market's supply cap.
		SupplyCapExceeded,
		/// The borrow would exceed the market's borrow cap.
		BorrowCapExceeded,
		/// The asset may not be borrowed.
		BorrowNotEnabled,
		/// The chain-wide emergency is on: no new borrows.
		BorrowsHalted,
		/// The circuit breaker halted this asset: it may not be borrowed now.
		AssetHalted,
		/// The asset may not be collateral.
		CollateralNotAllowed,
		/// The supply is collateral already.
		AlreadyCollateral,
		/// The supply is not collateral.
		NotCollateral,
		/// The account has no supply in this market.
		NoSupply,
		/// The account has no debt in this market.
		NoDebt,
		/// More than the account's supply.
		InsufficientSupply,
		/// The market holds too little of the asset right now.
		InsufficientLiquidity,
		/// More than the debt.
		RepayExceedsDebt,
		/// The account would owe more than its collateral allows (by collateral factor).
		BorrowLimitExceeded,
		/// The account would fall below health 1 (by liquidation threshold).
		Unhealthy,
		/// The oracle has no (non-zero) price for an asset this needs.
		PriceMissing,
		/// The oracle's price for an asset this needs is older than the maximum age.
		PriceStale,
		/// The account holds the maximum number of supplies or debts already.
		TooManyPositions,
		/// A result does not fit its type.
		Overflow,
		/// Collateral factor is zero for a collateral market, or above the threshold.
		InvalidCollateralFactor,
		/// Liquidation threshold is not above the collateral factor of a collateral market.
		ThresholdNotAboveFactor,
		/// `liquidation_threshold × (1 + bonus) ≥ 1`: liquidations would seize more than the
		/// collateral backing the debt is worth.
		LiquidationBonusTooHigh,
		/// Close factor of zero.
		InvalidCloseFactor,
		/// Reserve factor of 100%: suppliers would earn nothing.
		InvalidReserveFactor,
		/// Rate model kink outside `(0, 1]`.
		InvalidKink,
		/// The rate model reaches a borrow rate above `MaxBorrowRate`.
		BorrowRateTooHigh,
		/// The debt left after a borrow would be worth less than the market's minimum.
		BorrowTooSmall,
		/// The asset's owner, issuer, admin or freezer is not a governance-controlled account.
		UntrustedAssetRoles,
		/// Collateral may not be seized to the account it is seized from.
		SeizeToSelf,
		/// More than the market's reserves above their floor (the asset's minimum balance).
		InsufficientReserves,
		/// The first supply to a market must exceed the asset's minimum balance, which seeds the
		/// market's reserves.
		BelowMinimumBalance,
		/// Bad debt wiped this market's suppliers out (supply index 0): it takes no new supply.
		MarketWipedOut,
		/// A state the pallet's invariants exclude; reported instead of panicking.
		Defensive,
		/// A bounded change (the risk track) came sooner than `Rails::min_interval` after the
		/// market's last change: wait, or ask root.
		ChangeTooSoon,
		/// A bounded change moves the collateral factor by more than `Rails::factor_step`.
		CollateralFactorStepTooLarge,
		/// A bounded change moves the liquidation threshold by more than `Rails::factor_step`.
		LiquidationThresholdStepTooLarge,
		/// A bounded change moves the liquidation bonus by more than `Rails::bonus_step`.
		LiquidationBonusStepTooLarge,
		/// A bounded change moves the close factor by more than `Rails::share_step`.
		CloseFactorStepTooLarge,
		/// A bounded change moves the reserve factor by more than `Rails::share_step`.
		ReserveFactorStepTooLarge,
		/// A bounded change moves a rate model value (base, a slope, the kink) by more than
		/// `Rails::rate_step`.
		RateModelStepTooLarge,
		/// A bounded change moves the supply or borrow cap by more than `Rails::amount_factor`
		/// either way (a zero or unlimited cap moves only by root).
		CapStepTooLarge,
		/// A bounded change moves the minimum borrow value by more than
		/// `Rails::amount_factor` either way (from zero only by root).
		MinBorrowValueStepTooLarge,
		/// The market is in that status already (paused, or active).
		StatusUnchanged,
		/// `update_market` does not change a market's status: `pause_market`, `resume_market`.
		StatusChanged,
		/// Only root (the root track) may do this: open a market, move reserves out, turn
		/// borrowing on.
		RootOnly,
		/// A lot's repayments do not match its seizures one for one, or its collateral is its
		/// debt ([`crate::LendingPositions::settle_lot`]).
		LotMismatch,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			assert!(T::MaxAssetsPerAccount::get() > 0, "MaxAssetsPerAccount must be positive");
			assert!(
				T::StalePriceGrace::get() > 0,
				"StalePriceGrace must be positive (prices older than it count as missing)"
			);
			assert!(T::MaxBorrowRate::get() > FixedU128::zero(), "MaxBorrowRate must be positive");
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call(weight(<T as Config>::WeightInfo))]
	impl<T: Config> Pallet<T> {
		/// Opens a market for `asset` with `params`. Origin: `UpdateOrigin`, unbounded (root):
		/// a new market has no previous values for the rails to step from.
		#[pallet::call_index(0)]
		pub fn create_market(
			origin: OriginFor<T>,
			asset: T::AssetId,
			params: MarketParams,
		) -> DispatchResult {
			Self::ensure_unbounded(origin)?;
			Self::do_create_market(asset, params)
		}

		/// Replaces the risk parameters of `asset`'s market (interest is accrued under the old
		/// ones first). Origin: `UpdateOrigin`; a bounded one moves each value by at most its
		/// step in [`Config::Rails`], at most once per `min_interval`, and may turn borrowing off
		/// but not on. The status is not changed here (`StatusChanged`: a proposal drafted
		/// before a pause must not lift it): `pause_market`, `resume_market`.
		#[pallet::call_index(1)]
		pub fn update_market(
			origin: OriginFor<T>,
			asset: T::AssetId,
			params: MarketParams,
		) -> DispatchResult {
			let authority = T::UpdateOrigin::ensure_origin(origin)?;
			Self::do_update_market(asset, params, authority)
		}

		/// Pauses `asset`'s market at once: no new supply or borrow (repay, withdraw and
		/// liquidation stay open). Origin: `PauseOrigin` (a guardian) or `UpdateOrigin`. Only
		/// `update_market` unpauses.
		#[pallet::call_index(11)]
		pub fn pause_market(origin: OriginFor<T>, asset: T::AssetId) -> DispatchResult {
			T::PauseOrigin::ensure_origin(origin.clone())
				.map(|_| ())
				.or_else(|_| T::UpdateOrigin::ensure_origin(origin).map(|_| ()))?;
			Self::do_set_status(asset, MarketStatus::Paused)
		}

		/// Resumes a paused market. Origin: `UpdateOrigin` (either authority: lifting a pause
		/// must not wait for the root track).
		#[pallet::call_index(12)]
		#[pallet::weight(T::WeightInfo::pause_market())]
		pub fn resume_market(origin: OriginFor<T>, asset: T::AssetId) -> DispatchResult {
			T::UpdateOrigin::ensure_origin(origin)?;
			Self::do_set_status(asset, MarketStatus::Active)
		}

		/// Supplies `amount` of `asset`, earning interest. The supply is collateral if the
		/// market allows it (and it is the account's first supply there).
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::supply()
			.saturating_add(T::OnPositionChanged::weight(RiskChange::Lowered)))]
		pub fn supply(origin: OriginFor<T>, asset: T::AssetId, amount: u128) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_supply(&who, asset, amount)
		}

		/// Withdraws `amount` (or all) of the caller's supply of `asset`.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::withdraw()
			.saturating_add(T::OnPositionChanged::weight(RiskChange::Raised)))]
		pub fn withdraw(origin: OriginFor<T>, asset: T::AssetId, amount: Amount) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_withdraw(&who, asset, amount).map(|_| ())
		}

		/// Borrows `amount` of `asset` against the caller's collateral.
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::borrow()
			.saturating_add(T::OnPositionChanged::weight(RiskChange::Raised)))]
		pub fn borrow(origin: OriginFor<T>, asset: T::AssetId, amount: u128) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_borrow(&who, asset, amount)
		}

		/// Repays `amount` (or all) of the caller's debt in `asset`.
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::repay()
			.saturating_add(T::OnPositionChanged::weight(RiskChange::Lowered)))]
		pub fn repay(origin: OriginFor<T>, asset: T::AssetId, amount: Amount) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_repay(&who, &who, asset, amount)
		}

		/// Repays `amount` (or all) of `borrower`'s debt in `asset`, paid by the caller.
		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::repay_on_behalf()
			.saturating_add(T::OnPositionChanged::weight(RiskChange::Lowered)))]
		pub fn repay_on_behalf(
			origin: OriginFor<T>,
			borrower: AccountIdLookupOf<T>,
			asset: T::AssetId,
			amount: Amount,
		) -> DispatchResult {
			let payer = ensure_signed(origin)?;
			let borrower = T::Lookup::lookup(borrower)?;
			Self::do_repay(&payer, &borrower, asset, amount)
		}

		/// Makes the caller's supply of `asset` back its debt.
		#[pallet::call_index(7)]
		#[pallet::weight(T::WeightInfo::enable_collateral()
			.saturating_add(T::OnPositionChanged::weight(RiskChange::Lowered)))]
		pub fn enable_collateral(origin: OriginFor<T>, asset: T::AssetId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_set_collateral(&who, asset, true)
		}

		/// Stops the caller's supply of `asset` backing its debt; refused if the account would
		/// then be over its borrow limit.
		#[pallet::call_index(8)]
		#[pallet::weight(T::WeightInfo::disable_collateral()
			.saturating_add(T::OnPositionChanged::weight(RiskChange::Raised)))]
		pub fn disable_collateral(origin: OriginFor<T>, asset: T::AssetId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_set_collateral(&who, asset, false)
		}

		/// Adds `amount` of the caller's `asset` to the market's reserves (a donation: governance
		/// or an insurer funding the first-loss buffer, or seeding a new market's floor). Like
		/// Compound's `_addReserves`, anyone may.
		#[pallet::call_index(10)]
		pub fn add_reserves(
			origin: OriginFor<T>,
			asset: T::AssetId,
			amount: u128,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_add_reserves(&who, asset, amount)
		}

		/// Moves `amount` of `asset`'s reserves (above their floor, the asset's minimum
		/// balance) to `to`, e.g. the insurance treasury. Origin: `UpdateOrigin`, unbounded
		/// (root): funds leaving the protocol have no step.
		#[pallet::call_index(9)]
		pub fn transfer_reserves(
			origin: OriginFor<T>,
			asset: T::AssetId,
			amount: u128,
			to: AccountIdLookupOf<T>,
		) -> DispatchResult {
			Self::ensure_unbounded(origin)?;
			let to = T::Lookup::lookup(to)?;
			Self::do_transfer_reserves(asset, amount, &to)
		}
	}

	#[pallet::view_functions]
	impl<T: Config> Pallet<T> {
		/// Health of `who` now (interest accrued, oracle prices).
		pub fn health(who: T::AccountId) -> Result<Health, DispatchError> {
			Self::account_health(&who)
		}

		/// A market's parameters, totals and rates now.
		pub fn market(asset: T::AssetId) -> Option<MarketInfo> {
			Self::market_info(&asset)
		}

		/// `who`'s positions with interest accrued to now.
		pub fn positions(
			who: T::AccountId,
		) -> Result<alloc::vec::Vec<PositionInfo<T::AssetId>>, DispatchError> {
			Self::positions_info(&who)
		}
	}
}
