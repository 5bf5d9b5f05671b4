//! # Breaker pallet: cascade control
//!
//! Measures, on chain, how volatile each oracle asset is: the circuit breaker's input (and
//! the liquidation pallet's seizure order, most volatile collateral first).
//!
//! - **Measured volatility** ([`vol`]): on each block in which the oracle accepted new data for
//!   an asset, the asset's combined price at the end of the block is one sample; an
//!   exponentially weighted moving variance of log returns per second, decayed by the time
//!   elapsed (half-life [`VolatilityParams::half_life_secs`]), is kept in a few words per asset
//!   ([`Volatility`]), no price history. Reported annualised ([`Pallet::volatility`]).
//! - The oracle tells the pallet which assets got data ([`Pallet::note_new_data`], wired by
//!   the runtime to orml-oracle's `OnNewData`); the pallet reads the combined price through
//!   [`LatestPrice`] at `on_finalize`, once per asset and block (several feeders' feeds of one
//!   block are one sample).
//!
//! - **Breaker levels** ([`levels`]): each asset is `Normal`, `Throttled` or `Halted`, moved at
//!   the end of each block against governance triggers ([`BreakerParams`]): `Throttled` by its
//!   measured volatility, its price's range over a rolling window of blocks or the DEX spot
//!   ([`DexSpot`]) below the oracle; `Halted` only by the spot below the oracle by the halt
//!   trigger for several blocks in a row (speed alone never halts; a spot above the oracle
//!   counts for nothing). Up at once, down one step after a calm period below a release point
//!   (hysteresis). `RiskAdmin` may force a level, reset one, or set the chain-wide emergency
//!   (every asset `Halted`); a guardian may halt an asset for `GuardianHaltBlocks`, then it
//!   returns to automatic control unless `RiskAdmin` forced it meanwhile. Every change is an
//!   event.
//! - **Effects** are applied by the pallets that sell and lend, through traits they declare
//!   and the runtime wires to [`Pallet::effective_level`], [`Pallet::sale_left`] and
//!   [`Pallet::note_sale`]: a `Throttled` asset's DEX sales are capped per block
//!   ([`BreakerParams::sale_cap`], collateral value), a `Halted` one's stopped, and new borrows
//!   against a `Halted` asset refused. Repayments and deposits are never blocked; keepers'
//!   own-funds liquidations are not gated by the levels (they read the checked prices as every
//!   liquidation does).
//!
//! - **Checked prices** ([`quote`]): the oracle combines its feeds through
//!   [`Pallet::combine`] (the runtime's orml `CombineData`), so the guard acts when a price is
//!   fed, before any call of the block reads it: of a strict majority of fresh feeders, the
//!   lower and upper median (two ends with an even count), a jump beyond
//!   [`BreakerParams::jump`] held until the DEX spot or a later block's feeds confirm it (at
//!   most [`BreakerParams::max_hold_blocks`]). Lending and liquidation read the two ends
//!   ([`Pallet::bounds`]): a new borrow with collateral at the low end and debt at the high
//!   one, a liquidation the other way round. Only accepted prices reach the oracle's stored
//!   value, hence the volatility and the window.

#![cfg_attr(not(feature = "std"), no_std)]
#![deny(missing_docs)]
#![cfg_attr(
	not(test),
	deny(clippy::arithmetic_side_effects, clippy::unwrap_used, clippy::indexing_slicing)
)]

extern crate alloc;

pub mod levels;
pub mod quote;
pub mod suggest;
pub mod vol;
pub mod weights;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;

pub use margincall_rails::{Authority, ParamRails};
pub use pallet::*;
pub use weights::WeightInfo;

/// A record of parameters governance changes as a whole, each on its own interval.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
pub enum ParamRecord {
	/// [`VolatilityParams`].
	Volatility,
	/// [`BreakerParams`].
	Breaker,
	/// The feed quorum.
	FeedQuorum,
}

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
pub use levels::{BreakerParams, Cause, HaltTrigger, Level, LevelState, PriceWindow, Triggers};
pub use quote::{Held, Quote};
use scale_info::TypeInfo;
use sp_arithmetic::{FixedU128, Permill};
pub use suggest::{Suggestion, SuggestionParams};

/// The DEX's spot price of an asset, in the oracle's units (the breaker compares the two).
pub trait DexSpot<AssetId> {
	/// The spot price, or `None` when there is no pool to compare with.
	fn spot(asset: &AssetId) -> Option<FixedU128>;
}

impl<AssetId> DexSpot<AssetId> for () {
	fn spot(_: &AssetId) -> Option<FixedU128> {
		None
	}
}

/// A collateral's liquidation terms, as the lending market sets them: what the severity bound
/// of a held fall derives from ([`quote::severity_bound`]).
pub trait CollateralTerms<AssetId> {
	/// `(liquidation threshold, liquidation bonus)` of `asset`'s market, if it has one.
	fn terms(asset: &AssetId) -> Option<(Permill, Permill)>;
}

impl<AssetId> CollateralTerms<AssetId> for () {
	fn terms(_: &AssetId) -> Option<(Permill, Permill)> {
		None
	}
}

/// The latest combined oracle price of an asset and when it was set (ms): what the pallet
/// samples.
pub trait LatestPrice<AssetId> {
	/// `(price, timestamp in ms)`, or `None` when the oracle has none.
	fn latest(asset: &AssetId) -> Option<(FixedU128, u64)>;
}

/// Sets up prices for the benchmarks.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper<AssetId> {
	/// The `i`-th benchmark asset.
	fn asset(i: u32) -> AssetId;
	/// Makes `price` the asset's latest price at `at` (ms).
	fn set_price(asset: AssetId, price: FixedU128, at: u64);
	/// Gives the asset a DEX pool whose spot is `price` (the divergence input's reads).
	fn set_spot(asset: AssetId, price: FixedU128);
}

/// What the pallet keeps per asset.
#[derive(
	Clone,
	Copy,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	PartialEq,
	Eq,
	Debug,
)]
pub struct VolState {
	/// The last price sampled.
	pub price: FixedU128,
	/// When it was set (ms).
	pub at: u64,
	/// The moving variance of log returns, per second.
	pub variance: FixedU128,
	/// Returns sampled so far.
	pub samples: u32,
}

/// An asset's measured volatility, as the view reports it.
#[derive(Clone, Copy, Encode, Decode, TypeInfo, PartialEq, Eq, Debug)]
pub struct AssetVolatility {
	/// Annualised volatility (0.8 = 80% a year).
	pub annualised: FixedU128,
	/// Returns sampled so far (an estimate of few samples is weak).
	pub samples: u32,
	/// The last price sampled.
	pub price: FixedU128,
	/// When it was set (ms).
	pub at: u64,
}

/// An asset's breaker state and the inputs it was decided on, as the view reports them.
#[derive(Clone, Copy, Encode, Decode, TypeInfo, PartialEq, Eq, Debug)]
pub struct AssetBreaker {
	/// The level in force (`Halted` everywhere in an emergency).
	pub level: Level,
	/// The asset's own level, forced or automatic, and since when.
	pub state: LevelState,
	/// Annualised volatility, once the estimate has `min_samples` returns.
	pub volatility: Option<FixedU128>,
	/// The price's range over the window.
	pub moved: Permill,
	/// The oracle/DEX divergence, if there is a pool.
	pub divergence: Option<Permill>,
	/// Collateral value of the asset the DEX may still be sold this block (`u128::MAX` when not
	/// `Throttled`, 0 when `Halted`).
	pub sale_left: u128,
	/// A price jump the oracle guard holds (no DEX sales, no new borrows on it) until a later
	/// price confirms it.
	pub held_price: Option<FixedU128>,
	/// During an accepted fall's wait, the gate of a liquidation against the asset as
	/// collateral: a position is liquidatable when its health, the asset's value divided by
	/// it, is below 1 ([`quote::Quote::fall_gate`]).
	pub liquidation_gate: Option<FixedU128>,
}

/// Governance parameters of the volatility estimate.
#[derive(
	Clone,
	Copy,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	PartialEq,
	Eq,
	Debug,
)]
pub struct VolatilityParams {
	/// Half-life of a sample's weight, in seconds. Bounds: `[MIN_HALF_LIFE, MAX_HALF_LIFE]`.
	pub half_life_secs: u32,
}

/// Shortest half-life governance may set: one minute (ten blocks).
pub const MIN_HALF_LIFE: u32 = 60;
/// Longest half-life governance may set: 90 days.
pub const MAX_HALF_LIFE: u32 = 90 * 24 * 3_600;

// The call macro's conversions trip clippy.
#[allow(clippy::useless_conversion)]
#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_support::pallet_prelude::*;
	use frame_system::pallet_prelude::*;

	/// The in-code storage version.
	const STORAGE_VERSION: StorageVersion = StorageVersion::new(0);

	/// The breaker pallet.
	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	/// Configuration: the oracle is a trait; the runtime wires it.
	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// Identifier of an oracle asset.
		type AssetId: Parameter + Member + Copy + Ord + MaxEncodedLen;

		/// The oracle's combined prices.
		type Prices: LatestPrice<Self::AssetId>;

		/// May change the parameters, force and reset levels and set the emergency:
		/// [`Authority::Bounded`] changes parameters within [`Config::Rails`] (a referendum on the
		/// risk track), [`Authority::Unbounded`] within the absolute bounds only (root). Forcing
		/// a level and the emergency are not bounded (they are the brakes).
		type AdminOrigin: EnsureOrigin<Self::RuntimeOrigin, Success = Authority>;

		/// May halt an asset at once (a guardian), besides `AdminOrigin`: its collateral is then
		/// sold on no DEX and backs no new borrow, for `GuardianHaltBlocks`. `AdminOrigin` lifts
		/// it sooner (`reset_level`) or keeps it (`force_level`).
		type GuardianOrigin: EnsureOrigin<Self::RuntimeOrigin>;

		/// How long a guardian's halt lasts, in blocks, unless `AdminOrigin` forces the level
		/// meanwhile: long enough for a referendum on the risk track.
		#[pallet::constant]
		type GuardianHaltBlocks: Get<u32>;

		/// How far and how often a bounded change may move each parameter record (the
		/// volatility parameters, the breaker parameters, the feed quorum).
		#[pallet::constant]
		type Rails: Get<ParamRails>;

		/// Parameters before governance first sets them.
		type DefaultParams: Get<VolatilityParams>;

		/// The DEX's spot prices (for the divergence trigger).
		type Spot: DexSpot<Self::AssetId>;

		/// The lending markets' liquidation terms: a held fall liquidates at once only the
		/// positions it sinks below the collateral's severity bound.
		type Collateral: CollateralTerms<Self::AssetId>;

		/// Breaker parameters before governance first sets them.
		type DefaultBreakerParams: Get<BreakerParams>;

		/// Most feeders the oracle may have: bounds the feed quorum.
		#[pallet::constant]
		type MaxFeeders: Get<u32>;

		/// How many feeders the oracle has now (its membership): the quorum in force is more
		/// than half of them and at most all of them, whatever was set before the set changed.
		type FeederCount: Get<u32>;

		/// Most assets that get new data in one block (the oracle's `MaxFeedValues`), and most
		/// assets above `Normal` under automatic control: bounds `on_finalize`.
		#[pallet::constant]
		type MaxAssets: Get<u32>;

		/// Weights of the calls and hooks, from the benchmarks.
		type WeightInfo: WeightInfo;

		/// Prices for the benchmarks.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: BenchmarkHelper<Self::AssetId>;
	}

	/// The parameters before governance set them.
	#[pallet::type_value]
	pub fn DefaultParamsOf<T: Config>() -> VolatilityParams {
		T::DefaultParams::get()
	}

	/// The breaker parameters before governance set them.
	#[pallet::type_value]
	pub fn DefaultBreakerParamsOf<T: Config>() -> BreakerParams {
		T::DefaultBreakerParams::get()
	}

	/// The volatility estimate's parameters.
	#[pallet::storage]
	pub type Params<T: Config> = StorageValue<_, VolatilityParams, ValueQuery, DefaultParamsOf<T>>;

	/// Each sampled asset's last price and moving variance.
	#[pallet::storage]
	pub type Volatility<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AssetId, VolState, OptionQuery>;

	/// Assets that got new oracle data in this block, sampled at `on_finalize` (emptied
	/// there).
	#[pallet::storage]
	pub type Touched<T: Config> = StorageValue<_, BoundedVec<T::AssetId, T::MaxAssets>, ValueQuery>;

	/// The breaker's triggers, release, windows and sale cap.
	#[pallet::storage]
	pub type LevelParams<T: Config> =
		StorageValue<_, BreakerParams, ValueQuery, DefaultBreakerParamsOf<T>>;

	/// Each asset's level (absent: `Normal`, automatic).
	#[pallet::storage]
	pub type Levels<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AssetId, LevelState, OptionQuery>;

	/// Assets above `Normal` under automatic control: evaluated every block (recovery needs no
	/// new data).
	#[pallet::storage]
	pub type Raised<T: Config> = StorageValue<_, BoundedVec<T::AssetId, T::MaxAssets>, ValueQuery>;

	/// Each asset's price window (low and high per bucket of blocks).
	#[pallet::storage]
	pub type Windows<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AssetId, PriceWindow, ValueQuery>;

	/// The chain-wide emergency: every asset `Halted`, no new borrows anywhere.
	#[pallet::storage]
	pub type Emergency<T: Config> = StorageValue<_, bool, ValueQuery>;

	/// Each fed asset's checked price: the accepted ends of its fresh feeds and a jump held
	/// ([`Pallet::combine`] writes it when the oracle combines a feed).
	#[pallet::storage]
	pub type Quotes<T: Config> = StorageMap<_, Blake2_128Concat, T::AssetId, Quote, OptionQuery>;

	/// The block of the last change to each parameter record (by either authority): a bounded
	/// change waits [`ParamRails::min_interval`] after it.
	#[pallet::storage]
	pub type LastParamsChange<T: Config> =
		StorageMap<_, Twox64Concat, ParamRecord, BlockNumberFor<T>>;

	/// Fresh feeders the oracle needs to combine a price (its `MinimumOracleCount`, which the
	/// runtime reads from here): set per chain spec, changed by `AdminOrigin`.
	#[pallet::storage]
	pub type FeedQuorum<T: Config> = StorageValue<_, u32, ValueQuery, QuorumOfOne>;

	/// One feeder: the quorum before genesis or governance set it.
	#[pallet::type_value]
	pub fn QuorumOfOne() -> u32 {
		1
	}

	/// The feed quorum at genesis (1 on a development chain; 2 of 3 on a test network).
	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// Fresh feeders needed for a combined price.
		pub feed_quorum: u32,
		#[doc(hidden)]
		#[serde(skip)]
		pub _phantom: core::marker::PhantomData<T>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			// Not a change: the rails' interval starts with governance's first one.
			if self.feed_quorum != 0 {
				assert!(
					(1..=T::MaxFeeders::get()).contains(&self.feed_quorum),
					"genesis feed quorum {} is invalid",
					self.feed_quorum
				);
				FeedQuorum::<T>::put(self.feed_quorum);
			}
		}
	}

	/// The block until which a guardian may not halt an asset again (set when its halt of it
	/// ends: a guardian keeps an asset halted at most half the time).
	#[pallet::storage]
	pub type GuardianCooldown<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AssetId, u32, OptionQuery>;

	/// Collateral value of each asset sold on the DEX in a block: `(block, value)`.
	#[pallet::storage]
	pub type Sold<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AssetId, (u32, u128), OptionQuery>;

	/// Events: every sample, every parameter change.
	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// An asset's volatility was updated from a new price.
		VolatilityUpdated {
			/// The asset.
			asset: T::AssetId,
			/// The price sampled.
			price: FixedU128,
			/// The annualised volatility now.
			annualised: FixedU128,
			/// Returns sampled so far.
			samples: u32,
		},
		/// Governance changed the parameters.
		ParamsSet {
			/// The new parameters.
			params: VolatilityParams,
		},
		/// An asset's breaker level changed.
		LevelChanged {
			/// The asset.
			asset: T::AssetId,
			/// The level before.
			from: Level,
			/// The level now.
			to: Level,
			/// What moved it.
			cause: Cause,
		},
		/// Governance changed the breaker parameters.
		BreakerParamsSet {
			/// The new parameters.
			params: BreakerParams,
		},
		/// The chain-wide emergency was set or lifted.
		EmergencySet {
			/// Whether it is on.
			on: bool,
		},
		/// The oracle guard holds a price that jumped from the last accepted one: no DEX sales
		/// of the asset and no new borrows on it until a later price confirms it.
		PriceHeld {
			/// The asset.
			asset: T::AssetId,
			/// The price held.
			price: FixedU128,
			/// The last accepted price.
			accepted: FixedU128,
		},
		/// The feeds agreed on a jump and the DEX spot moved the same way: accepted at once.
		PriceCorroborated {
			/// The asset.
			asset: T::AssetId,
			/// The price accepted.
			price: FixedU128,
		},
		/// The fresh feeds disagree (their ends further apart than half the guard's jump), or
		/// disagree anew: the last agreed price stays; no borrow against the asset, no DEX sale
		/// of it beyond the bound at the disputed ends, no backstop; a liquidation reads the
		/// ends that favour the borrower (collateral at `high`, debt at `low`).
		PriceDisputed {
			/// The asset.
			asset: T::AssetId,
			/// The lower median of the fresh feeds.
			low: FixedU128,
			/// The upper median.
			high: FixedU128,
		},
		/// A feeder re-stated the held jump in a later block, or its hold ran out: accepted.
		PriceConfirmed {
			/// The asset.
			asset: T::AssetId,
			/// The price accepted.
			price: FixedU128,
		},
		/// A later price came back near the accepted one: the held price was dropped.
		PriceDropped {
			/// The asset.
			asset: T::AssetId,
			/// The price dropped.
			dropped: FixedU128,
			/// The price accepted now.
			price: FixedU128,
		},
		/// The feed quorum changed.
		FeedQuorumSet {
			/// Fresh feeders needed now.
			quorum: u32,
		},
	}

	/// Every refusal by name; a refused call changes nothing.
	#[pallet::error]
	pub enum Error<T> {
		/// `half_life_secs` outside `[MIN_HALF_LIFE, MAX_HALF_LIFE]`.
		HalfLifeOutOfRange,
		/// A trigger below its floor ([`levels::MIN_VOLATILITY_TRIGGER`],
		/// [`levels::MIN_PERMILL_TRIGGER`]).
		TriggerTooLow,
		/// The `halt` divergence below the `throttle` one.
		HaltBelowThrottle,
		/// `halt.blocks` outside [`levels::HALT_BLOCKS_RANGE`].
		HaltBlocksOutOfRange,
		/// `release` outside `[MIN_RELEASE, MAX_RELEASE]`.
		ReleaseOutOfRange,
		/// `calm_blocks` zero or above `MAX_CALM_BLOCKS`.
		CalmOutOfRange,
		/// `window_blocks` outside `WINDOW_RANGE`.
		WindowOutOfRange,
		/// `min_samples` above `MAX_MIN_SAMPLES`.
		MinSamplesOutOfRange,
		/// `sale_cap` zero (force `Halted` to stop sales).
		ZeroSaleCap,
		/// `max_hold_blocks` zero or above [`levels::MAX_HOLD_BLOCKS`].
		HoldOutOfRange,
		/// The asset is already forced to that level.
		LevelUnchanged,
		/// The asset is already `Normal` under automatic control.
		NothingToReset,
		/// The emergency is already in that state.
		EmergencyUnchanged,
		/// A feed quorum that is not a strict majority of the feeders, or more than there are
		/// (or above `MaxFeeders`): a minority of feeders could set prices, or none could.
		QuorumOutOfRange,
		/// A bounded change (the risk track) came sooner than `Rails::min_interval` after the
		/// record's last change: wait, or ask root.
		ChangeTooSoon,
		/// A bounded change moves a value beyond its step in `Rails` (a trigger or share by
		/// `points`, a volatility trigger by `share` of itself, a count or amount by `factor`);
		/// the node's log names it.
		StepTooLarge,
		/// Only root (the root track) may do this: force an asset `Normal` (its automatic
		/// breaker off), or set the feed quorum.
		RootOnly,
		/// The oracle has no price of this asset.
		UnknownAsset,
		/// Governance forced this asset's level until reset: a guardian's halt may not replace
		/// it (ask governance).
		ForcedByGovernance,
		/// A guardian's halt of this asset ended less than `GuardianHaltBlocks` ago: a guardian
		/// may not halt it again yet (governance may, with `force_level`).
		GuardianCooldown,
		/// As many guardians' halts run as `MaxAssets`: no more can be evaluated for their end.
		TooManyHalts,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			assert!(
				Self::validate(&T::DefaultParams::get()).is_ok(),
				"DefaultParams must be valid"
			);
			assert!(
				T::DefaultBreakerParams::get().validate().is_ok(),
				"DefaultBreakerParams must be valid"
			);
			assert!(T::GuardianHaltBlocks::get() > 0, "a guardian's halt must last a block");
		}

		/// Reserves `on_finalize` at its worst: every asset sampled and evaluated, and as many
		/// raised and as many quoted assets evaluated (each costs less than a sampled one).
		fn on_initialize(_n: BlockNumberFor<T>) -> Weight {
			T::WeightInfo::on_finalize(T::MaxAssets::get()).saturating_mul(3)
		}

		/// Samples every asset that got new data in this block, then moves the levels of
		/// those, of every raised asset and of every quoted one.
		fn on_finalize(_n: BlockNumberFor<T>) {
			let sampled = Self::sample_touched();
			Self::evaluate_levels(sampled);
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Replaces the volatility parameters, each checked against its bound. Origin:
		/// `AdminOrigin`.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::set_params())]
		pub fn set_params(origin: OriginFor<T>, params: VolatilityParams) -> DispatchResult {
			let authority = T::AdminOrigin::ensure_origin(origin)?;
			Self::do_set_params(params, authority)
		}

		/// Replaces the breaker parameters, each checked against its bound. Origin:
		/// `AdminOrigin`.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::set_breaker_params())]
		pub fn set_breaker_params(origin: OriginFor<T>, params: BreakerParams) -> DispatchResult {
			let authority = T::AdminOrigin::ensure_origin(origin)?;
			Self::do_set_breaker_params(params, authority)
		}

		/// Forces `asset` to `level` until reset: the inputs no longer move it. Origin:
		/// `AdminOrigin`; forcing `Normal` (the automatic breaker off for the asset) only
		/// unbounded (root).
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::force_level())]
		pub fn force_level(
			origin: OriginFor<T>,
			asset: T::AssetId,
			level: Level,
		) -> DispatchResult {
			let authority = T::AdminOrigin::ensure_origin(origin)?;
			ensure!(level != Level::Normal || !authority.bounded(), Error::<T>::RootOnly);
			Self::do_force_level(asset, level, None)
		}

		/// Puts `asset` back under automatic control at `Normal` (the next block's inputs may
		/// raise it again). Origin: `AdminOrigin`.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::reset_level())]
		pub fn reset_level(origin: OriginFor<T>, asset: T::AssetId) -> DispatchResult {
			T::AdminOrigin::ensure_origin(origin)?;
			Self::do_reset_level(asset)
		}

		/// Sets or lifts the chain-wide emergency. Origin: `AdminOrigin`.
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::set_emergency())]
		pub fn set_emergency(origin: OriginFor<T>, on: bool) -> DispatchResult {
			T::AdminOrigin::ensure_origin(origin)?;
			Self::do_set_emergency(on)
		}

		/// Sets how many fresh feeders the oracle needs to combine a price: more than half the
		/// feeders and at most all of them (and at most `MaxFeeders`). Origin: root only (an
		/// `AdminOrigin` with unbounded authority): who sets prices is not a risk parameter.
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::set_feed_quorum())]
		pub fn set_feed_quorum(origin: OriginFor<T>, quorum: u32) -> DispatchResult {
			let authority = T::AdminOrigin::ensure_origin(origin)?;
			Self::do_set_feed_quorum(quorum, authority)
		}

		/// Halts `asset` at once: its collateral is sold on no DEX (the backstop or an auction
		/// settles it) and backs no new borrow, and it may not be borrowed. Origin:
		/// `AdminOrigin` (as `force_level(asset, Halted)`: until reset) or `GuardianOrigin`
		/// (for `GuardianHaltBlocks`, then back to automatic control, `Cause::Expired`; a
		/// guardian cannot renew its own halt while it runs, `AdminOrigin` keeps it with
		/// `force_level`).
		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::halt().max(T::WeightInfo::force_level()))]
		pub fn halt(origin: OriginFor<T>, asset: T::AssetId) -> DispatchResult {
			let until = match T::AdminOrigin::ensure_origin(origin.clone()) {
				Ok(_) => None,
				Err(_) => {
					T::GuardianOrigin::ensure_origin(origin)?;
					let now = Self::now();
					let state = Levels::<T>::get(asset).unwrap_or_default();
					ensure!(
						!(state.forced && state.until.is_none()),
						Error::<T>::ForcedByGovernance
					);
					ensure!(
						GuardianCooldown::<T>::get(asset).is_none_or(|end| now >= end),
						Error::<T>::GuardianCooldown
					);
					Some(now.saturating_add(T::GuardianHaltBlocks::get()))
				},
			};
			ensure!(T::Prices::latest(&asset).is_some(), Error::<T>::UnknownAsset);
			Self::do_force_level(asset, Level::Halted, until)
		}
	}

	#[pallet::view_functions]
	impl<T: Config> Pallet<T> {
		/// `asset`'s measured volatility, if it was sampled.
		pub fn volatility(asset: T::AssetId) -> Option<AssetVolatility> {
			Self::asset_volatility(&asset)
		}

		/// `asset`'s breaker level and the inputs it is decided on.
		pub fn breaker(asset: T::AssetId) -> AssetBreaker {
			Self::asset_breaker(&asset)
		}
	}
}

use frame_support::{ensure, pallet_prelude::DispatchResult, traits::Get, BoundedVec};
use sp_arithmetic::traits::Zero;
use sp_runtime::SaturatedConversion;

/// The smallest strict majority of `n` feeders (1 of none).
pub fn majority(n: u32) -> u32 {
	n.saturating_div(2).saturating_add(1)
}

impl<T: Config> Pallet<T> {
	/// The oracle accepted new data for `asset` in this block: it is sampled at the end of the
	/// block (an asset beyond `MaxAssets` in one block waits for its next data).
	pub fn note_new_data(asset: &T::AssetId) {
		Touched::<T>::mutate(|touched| {
			if !touched.contains(asset) && touched.try_push(*asset).is_err() {
				log::debug!(target: "runtime::breaker", "more assets than MaxAssets this block");
			}
		});
	}

	/// Samples every asset noted in this block; returns them.
	pub(crate) fn sample_touched() -> BoundedVec<T::AssetId, T::MaxAssets> {
		let touched = Touched::<T>::take();
		for asset in &touched {
			Self::sample(*asset);
		}
		touched
	}

	/// The current block as a `u32` (levels and windows count blocks).
	fn now() -> u32 {
		frame_system::Pallet::<T>::block_number().saturated_into()
	}

	/// Folds `asset`'s latest price into its estimate (the first price only starts it; a
	/// price with the timestamp of the last one, no time elapsed, is not a return) and into
	/// its price window.
	fn sample(asset: T::AssetId) {
		let Some((price, at)) = T::Prices::latest(&asset) else { return };
		let params = LevelParams::<T>::get();
		Windows::<T>::mutate(asset, |w| {
			levels::observe(w, Self::now(), price, params.window_blocks)
		});
		let tau = vol::tau(Params::<T>::get().half_life_secs);
		let state = match Volatility::<T>::get(asset) {
			None => VolState { price, at, variance: FixedU128::default(), samples: 0 },
			Some(old) => {
				let dt = at.saturating_sub(old.at) / 1_000;
				if dt == 0 {
					return;
				}
				match vol::update(old.variance, old.price, price, dt, tau) {
					Some(variance) => {
						VolState { price, at, variance, samples: old.samples.saturating_add(1) }
					},
					None => {
						// A zero price (or an absurd move): not a sample; restart from it.
						log::debug!(target: "runtime::breaker", "no sample for {asset:?}");
						VolState { price, at, ..old }
					},
				}
			},
		};
		Volatility::<T>::insert(asset, state);
		Self::deposit_event(Event::VolatilityUpdated {
			asset,
			price,
			annualised: vol::annualised(state.variance).unwrap_or_default(),
			samples: state.samples,
		});
	}

	/// Every sampled asset's measured volatility (one entry per oracle asset ever fed).
	pub fn all_volatilities() -> alloc::vec::Vec<(T::AssetId, AssetVolatility)> {
		Volatility::<T>::iter_keys()
			.filter_map(|asset| Self::asset_volatility(&asset).map(|v| (asset, v)))
			.collect()
	}

	/// `asset`'s measured volatility, if it was sampled.
	pub fn asset_volatility(asset: &T::AssetId) -> Option<AssetVolatility> {
		Volatility::<T>::get(asset).map(|s| AssetVolatility {
			annualised: vol::annualised(s.variance).unwrap_or_default(),
			samples: s.samples,
			price: s.price,
			at: s.at,
		})
	}

	/// Combines `asset`'s feeds `(price, fed at ms)` at `now_ms` as the oracle's `CombineData`:
	/// the non-zero feeds fresher than `expires_in` ms, if at least the feed quorum, give two
	/// ends (lower and upper median). Ends that disagree ([`quote::agreement`]) leave the
	/// accepted quote as it was, the disputed ends beside it; agreeing ends go through the guard
	/// ([`quote::step`]). The quote is stored; every decision but a plain acceptance is an
	/// event. Returns what the oracle stores as its value: the accepted middle, fed when the
	/// quorum-th newest feed was (`None` without an agreeing quorum: the oracle keeps its
	/// previous value, which ages).
	pub fn combine(
		asset: &T::AssetId,
		feeds: impl IntoIterator<Item = (FixedU128, u64)>,
		now_ms: u64,
		expires_in: u64,
	) -> Option<(FixedU128, u64)> {
		let fresh: alloc::vec::Vec<(FixedU128, u64)> = feeds
			.into_iter()
			.filter(|(price, fed)| !price.is_zero() && fed.saturating_add(expires_in) > now_ms)
			.collect();
		let quorum = usize::try_from(Self::feed_quorum()).unwrap_or(usize::MAX).max(1);
		// When the quorum had fed: the quorum-th newest feed.
		let mut times: alloc::vec::Vec<u64> = fresh.iter().map(|(_, fed)| *fed).collect();
		times.sort_unstable_by(|a, b| b.cmp(a));
		let at = *times.get(quorum.checked_sub(1)?)?;
		let before = Quotes::<T>::get(asset);
		let mut prices: alloc::vec::Vec<FixedU128> = fresh.iter().map(|(p, _)| *p).collect();
		let (low, high) = quote::medians(&mut prices)?;
		let params = LevelParams::<T>::get();
		// Fresh feeds that disagree are a dispute whenever they are combined, in whatever
		// block the quorum fed (a lone feeder departing from the others' older feeds too).
		if quote::apart(low, high) > quote::agreement(params.jump) {
			if let Some(q) = before {
				let dispute = quote::Dispute { low, high, at };
				if q.disputed != Some(dispute) {
					Quotes::<T>::insert(asset, Quote { disputed: Some(dispute), ..q });
				}
				// An event when the disputed ends move (a refresh of the same ends is none, as
				// a plain acceptance is none).
				if q.disputed.is_none_or(|d| (d.low, d.high) != (low, high)) {
					Self::deposit_event(Event::PriceDisputed { asset: *asset, low, high });
				}
			}
			return None;
		}
		// orml combines at every feed, so the first feeds of a block meet the others' older
		// ones: a combination whose quorum fed before this block, no later than the quote it
		// would replace, is no new observation (a quorum said it already). It moves nothing
		// but a dispute the fresh feeds no longer make: such a partial median had accepted
		// the previous block's held step as corroborated and held this block's step afresh,
		// so a crash fed by three feeders, one a block late, was held at every step (the
		// cascade benchmark's `crash-lagging-feeder`).
		if let Some(q) = before.filter(|q| at < now_ms && at <= q.at) {
			if q.disputed.is_some() {
				Quotes::<T>::insert(asset, Quote { disputed: None, ..q });
			}
			return Some((q.mid(), q.at));
		}
		let (next, outcome) = quote::step(
			before,
			(low, high),
			at,
			&fresh,
			|| T::Spot::spot(asset),
			params.jump,
			(Self::now(), now_ms),
			params.max_hold_blocks,
		);
		Quotes::<T>::insert(asset, next);
		let (asset, price) = (*asset, next.mid());
		let event = match outcome {
			quote::Outcome::Accepted => None,
			quote::Outcome::Held => next.held.map(|h| Event::PriceHeld {
				asset,
				price: quote::mid(h.low, h.high),
				accepted: price,
			}),
			quote::Outcome::Corroborated => Some(Event::PriceCorroborated { asset, price }),
			quote::Outcome::Confirmed => Some(Event::PriceConfirmed { asset, price }),
			quote::Outcome::Dropped(dropped) => Some(Event::PriceDropped { asset, dropped, price }),
		};
		if let Some(event) = event {
			Self::deposit_event(event);
		}
		Some((price, next.at))
	}

	/// `(low, high, fed at ms)` of `asset` as lending and liquidation use it now: the accepted
	/// ends widened to a held jump's and to disputed ones, a hold past `max_hold_blocks`
	/// accepted. An asset the
	/// guard has not combined yet (a genesis price) reads the oracle's value at both ends.
	pub fn bounds(asset: &T::AssetId) -> Option<(FixedU128, FixedU128, u64)> {
		match Quotes::<T>::get(asset) {
			Some(q) => {
				let (low, high) = q.bounds(Self::now(), LevelParams::<T>::get().max_hold_blocks);
				Some((low, high, q.fed_at()))
			},
			None => T::Prices::latest(asset).map(|(price, at)| (price, price, at)),
		}
	}

	/// `(low, high, at)` a liquidation reads for `asset` (collateral at `high`, debt at `low`):
	/// [`Self::bounds`], except that a held fall of the price values the collateral where the
	/// positions below its severity bound at the held price are liquidatable, and only they,
	/// and that a dispute is read at its own ends alone ([`Quote::liquidation_bounds`]).
	pub fn liquidation_bounds(asset: &T::AssetId) -> Option<(FixedU128, FixedU128, u64)> {
		match Quotes::<T>::get(asset) {
			Some(q) => {
				let params = LevelParams::<T>::get();
				let (low, high) = q.liquidation_bounds(
					Self::now(),
					params.max_hold_blocks,
					Self::severity(asset, params.jump),
				);
				Some((low, high, q.fed_at()))
			},
			None => T::Prices::latest(asset).map(|(price, at)| (price, price, at)),
		}
	}

	/// The gate of a liquidation against `asset` as collateral while an accepted fall's wait
	/// is in force ([`Quote::fall_gate`]: `max_hold_blocks` from the fall's first feed): the
	/// severity bound for a further fall as deep as this one (at least the
	/// guard's jump). Whether a position is liquidatable reads the collateral divided by it;
	/// what is seized is sized at [`Self::liquidation_bounds`]. `None` otherwise, or without a
	/// market.
	pub fn liquidation_gate(asset: &T::AssetId) -> Option<FixedU128> {
		let quote = Quotes::<T>::get(asset)?;
		quote.fall?;
		let params = LevelParams::<T>::get();
		quote.fall_gate(Self::now(), params.max_hold_blocks, Self::severity(asset, params.jump))
	}

	/// `asset`'s severity bound for a further fall of `depth`, at least the guard's `jump`
	/// (`None` without a market).
	fn severity(asset: &T::AssetId, jump: Permill) -> impl Fn(Permill) -> Option<FixedU128> + '_ {
		move |depth: Permill| {
			T::Collateral::terms(asset)
				.map(|(threshold, bonus)| quote::severity_bound(threshold, bonus, depth.max(jump)))
		}
	}

	/// Benchmarks only: accepts `price` at `at` for `asset` at once, held or not (a benchmark
	/// measures a call on a price already accepted, as a later block would have).
	#[cfg(feature = "runtime-benchmarks")]
	pub fn accept_for_benchmarks(asset: &T::AssetId, price: FixedU128, at: u64) {
		Quotes::<T>::insert(
			asset,
			Quote {
				low: price,
				high: price,
				at,
				held: None,
				disputed: None,
				fall: None,
				agreed: 0,
			},
		);
	}

	/// The price the oracle guard holds for `asset`, if any (the middle of the held ends).
	pub fn held_price(asset: &T::AssetId) -> Option<FixedU128> {
		let hold = LevelParams::<T>::get().max_hold_blocks;
		Quotes::<T>::get(asset)
			.and_then(|q| q.resolved(Self::now(), hold).held)
			.map(|h| quote::mid(h.low, h.high))
	}

	/// Whether `asset`'s price is not settled: a jump held, or the latest fresh feeds
	/// disputed. Nothing is sold on the DEX on it and nothing new borrowed against it.
	pub fn price_unsettled(asset: &T::AssetId) -> bool {
		let hold = LevelParams::<T>::get().max_hold_blocks;
		Quotes::<T>::get(asset)
			.is_some_and(|q| q.disputed.is_some() || q.resolved(Self::now(), hold).held.is_some())
	}

	/// Whether the latest fresh feeds of `asset` disagree beyond the agreement band: the last
	/// agreed quote stays, a liquidation reads the disputed ends that favour the borrower.
	pub fn price_disputed(asset: &T::AssetId) -> bool {
		Quotes::<T>::get(asset).is_some_and(|q| q.disputed.is_some())
	}

	/// Fresh feeders the oracle needs to combine a price: the quorum set, raised to a strict
	/// majority of the feeders and lowered to all of them when the set changed since (so a
	/// minority never sets a price, and a price can always be set).
	pub fn feed_quorum() -> u32 {
		let feeders = T::FeederCount::get();
		FeedQuorum::<T>::get().max(majority(feeders)).min(feeders.max(1))
	}

	/// Whether `quorum` is a strict majority of `feeders`, at most all of them (at least one)
	/// and at most `MaxFeeders`.
	pub fn valid_quorum(quorum: u32, feeders: u32) -> bool {
		quorum >= majority(feeders) && quorum <= feeders.max(1) && quorum <= T::MaxFeeders::get()
	}

	pub(crate) fn do_set_feed_quorum(quorum: u32, authority: Authority) -> DispatchResult {
		ensure!(!authority.bounded(), Error::<T>::RootOnly);
		ensure!(Self::valid_quorum(quorum, T::FeederCount::get()), Error::<T>::QuorumOutOfRange);
		let old = FeedQuorum::<T>::get();
		Self::on_rails(ParamRecord::FeedQuorum, authority, |s| {
			s.amount("quorum", old.into(), quorum.into())
		})?;
		FeedQuorum::<T>::put(quorum);
		Self::deposit_event(Event::FeedQuorumSet { quorum });
		Ok(())
	}

	// -----------------------------------------------------------------------------------------
	// Levels
	// -----------------------------------------------------------------------------------------

	/// What `asset`'s level is decided on now.
	pub fn inputs(asset: &T::AssetId) -> levels::Inputs {
		let params = LevelParams::<T>::get();
		let state = Volatility::<T>::get(asset);
		let volatility = state.and_then(|s| Self::counted_volatility(&s, &params));
		let moved = levels::moved(&Windows::<T>::get(asset), Self::now(), params.window_blocks);
		// Against the lowest agreed price (the checked quote's low end, a held fall's
		// included): one feeder raising the upper end of two fresh feeds (or a held rise)
		// moves no halt, and one lowering a disputed end hides none.
		let hold = params.max_hold_blocks;
		let quote = Quotes::<T>::get(asset);
		let agreed = match quote {
			Some(q) => Some(q.agreed_bounds(Self::now(), hold).0),
			None => T::Prices::latest(asset).map(|(price, _)| price),
		};
		let divergence =
			agreed.zip(T::Spot::spot(asset)).map(|(oracle, spot)| levels::spot_below(spot, oracle));
		// A fresh quorum agreed on the price in this block (a combination with a quorum fed
		// before it does not count: it re-states nothing).
		let feeds_agree = quote.is_some_and(|q| q.agreed == Self::now());
		levels::Inputs { volatility, moved, divergence, feeds_agree }
	}

	/// Moves the level of each of `sampled`, of every raised asset and of every asset the
	/// oracle guard checks (the first `MaxAssets` quotes), each once: an asset whose feeders
	/// fell silent gets no new data, and the pool may still leave its oracle (a halt's case).
	pub(crate) fn evaluate_levels(sampled: BoundedVec<T::AssetId, T::MaxAssets>) {
		let params = LevelParams::<T>::get();
		let now = Self::now();
		let raised = Raised::<T>::get();
		let quoted: alloc::vec::Vec<T::AssetId> =
			Quotes::<T>::iter_keys().take(T::MaxAssets::get() as usize).collect();
		let mut seen = alloc::collections::BTreeSet::new();
		let mut raised_now = alloc::vec::Vec::new();
		for asset in sampled.iter().chain(raised.iter()).chain(quoted.iter()) {
			if !seen.insert(*asset) {
				continue;
			}
			let state = Levels::<T>::get(asset).unwrap_or_default();
			let (next, cause) = match (state.forced, state.until) {
				(false, _) => levels::step(state, &Self::inputs(asset), &params, now),
				// A guardian's halt: evaluated every block until it runs out, its run of
				// divergence kept for then.
				(true, Some(until)) if now < until => {
					raised_now.push(*asset);
					let run = levels::track_run(state, &Self::inputs(asset), &params, now);
					if run != state.diverged_since {
						Levels::<T>::insert(asset, LevelState { diverged_since: run, ..state });
					}
					continue;
				},
				(true, Some(_)) => {
					// As many free blocks as the halt held (its last block included): a
					// guardian keeps an asset halted at most half the time.
					let cooldown =
						now.saturating_add(T::GuardianHaltBlocks::get()).saturating_add(1);
					GuardianCooldown::<T>::insert(asset, cooldown);
					let inputs = Self::inputs(asset);
					let next = levels::expire(&inputs, &params, state.diverged_since, now);
					(next, Some(Cause::Expired))
				},
				(true, None) => continue,
			};
			if next.level != Level::Normal {
				raised_now.push(*asset);
			}
			if next == state {
				continue;
			}
			if next.level == Level::Normal {
				Levels::<T>::remove(asset);
			} else {
				Levels::<T>::insert(asset, next);
			}
			let expired = cause == Some(Cause::Expired);
			if let (true, Some(cause)) = (next.level != state.level || expired, cause) {
				Self::deposit_event(Event::LevelChanged {
					asset: *asset,
					from: state.level,
					to: next.level,
					cause,
				});
			}
		}
		Self::put_raised(raised_now);
	}

	/// Stores the raised set (automatic levels above `Normal` and guardians' halts); beyond
	/// `MaxAssets` an asset keeps its level but waits for `RiskAdmin` to reset it (never lowered
	/// silently).
	fn put_raised(mut assets: alloc::vec::Vec<T::AssetId>) {
		assets.sort();
		assets.dedup();
		let max = T::MaxAssets::get() as usize;
		if assets.len() > max {
			log::warn!(target: "runtime::breaker", "more raised assets than MaxAssets");
			// Guardians' halts first: one left out would never run out.
			assets.sort_by_cached_key(|a| Levels::<T>::get(a).is_none_or(|s| s.until.is_none()));
			// One left out is not evaluated every block: its run of divergence is broken.
			for dropped in assets.get(max..).unwrap_or_default() {
				Levels::<T>::mutate(dropped, |s| {
					if let Some(s) = s {
						s.diverged_since = None;
					}
				});
			}
			assets.truncate(max);
			assets.sort();
		}
		Raised::<T>::put(BoundedVec::truncate_from(assets));
	}

	/// Whether the chain-wide emergency is on.
	pub fn is_emergency() -> bool {
		Emergency::<T>::get()
	}

	/// Takes `asset` out of the raised set (forced or reset: no longer evaluated as raised).
	fn unraise(asset: &T::AssetId) {
		Self::put_raised(Raised::<T>::get().into_iter().filter(|a| a != asset).collect());
	}

	/// The level in force for `asset`: `Halted` in an emergency, else its own.
	pub fn effective_level(asset: &T::AssetId) -> Level {
		if Emergency::<T>::get() {
			return Level::Halted;
		}
		Levels::<T>::get(asset).map(|s| s.level).unwrap_or_default()
	}

	/// Collateral value of `asset` the DEX may still be sold this block: unlimited when
	/// `Normal`, the rest of the cap when `Throttled`, nothing when `Halted`.
	pub fn sale_left(asset: &T::AssetId) -> u128 {
		match Self::effective_level(asset) {
			Level::Normal => u128::MAX,
			Level::Halted => 0,
			Level::Throttled => {
				let cap = LevelParams::<T>::get().sale_cap;
				match Sold::<T>::get(asset) {
					Some((block, sold)) if block == Self::now() => cap.saturating_sub(sold),
					_ => cap,
				}
			},
		}
	}

	/// Counts a DEX sale of `value` (collateral value) of `asset` against this block's cap
	/// (only while `Throttled`: nothing is written otherwise).
	pub fn note_sale(asset: &T::AssetId, value: u128) {
		if Self::effective_level(asset) != Level::Throttled {
			return;
		}
		let now = Self::now();
		Sold::<T>::mutate(asset, |sold| {
			let before = match sold {
				Some((block, v)) if *block == now => *v,
				_ => 0,
			};
			*sold = Some((now, before.saturating_add(value)));
		});
	}

	/// `asset`'s annualised volatility once its estimate has `min_samples` returns: the
	/// liquidation pallet seizes the most volatile collateral first.
	pub fn ranked_volatility(asset: &T::AssetId) -> Option<FixedU128> {
		Volatility::<T>::get(asset)
			.and_then(|s| Self::counted_volatility(&s, &LevelParams::<T>::get()))
	}

	/// An estimate's annualised volatility, once it has `min_samples` returns.
	fn counted_volatility(state: &VolState, params: &BreakerParams) -> Option<FixedU128> {
		(state.samples >= params.min_samples).then(|| vol::annualised(state.variance)).flatten()
	}

	/// `asset`'s breaker state and inputs.
	pub fn asset_breaker(asset: &T::AssetId) -> AssetBreaker {
		let inputs = Self::inputs(asset);
		AssetBreaker {
			level: Self::effective_level(asset),
			state: Levels::<T>::get(asset).unwrap_or_default(),
			volatility: inputs.volatility,
			moved: inputs.moved,
			divergence: inputs.divergence,
			sale_left: Self::sale_left(asset),
			held_price: Self::held_price(asset),
			liquidation_gate: Self::liquidation_gate(asset),
		}
	}

	/// Checks a change of `record` by `authority` against the rails (nothing for root), and
	/// records it: the interval since the record's last change, then each value's step.
	pub(crate) fn on_rails(
		record: ParamRecord,
		authority: Authority,
		steps: impl FnOnce(margincall_rails::Steps) -> margincall_rails::Steps,
	) -> DispatchResult {
		let now = frame_system::Pallet::<T>::block_number();
		let last = LastParamsChange::<T>::get(record).map(|b| b.saturated_into());
		margincall_rails::check(authority, last, now.saturated_into(), T::Rails::get(), steps)
			.map_err(|refusal| match refusal {
				margincall_rails::Refusal::TooSoon => Error::<T>::ChangeTooSoon,
				margincall_rails::Refusal::Step(name) => {
					log::debug!(target: "runtime::breaker", "{record:?}: {name} beyond its step");
					Error::<T>::StepTooLarge
				},
			})?;
		LastParamsChange::<T>::insert(record, now);
		Ok(())
	}

	pub(crate) fn do_set_breaker_params(
		params: BreakerParams,
		authority: Authority,
	) -> DispatchResult {
		params.validate().map_err(|e| match e {
			levels::ParamsError::TriggerTooLow => Error::<T>::TriggerTooLow,
			levels::ParamsError::HaltBelowThrottle => Error::<T>::HaltBelowThrottle,
			levels::ParamsError::HaltBlocksOutOfRange => Error::<T>::HaltBlocksOutOfRange,
			levels::ParamsError::ReleaseOutOfRange => Error::<T>::ReleaseOutOfRange,
			levels::ParamsError::CalmOutOfRange => Error::<T>::CalmOutOfRange,
			levels::ParamsError::WindowOutOfRange => Error::<T>::WindowOutOfRange,
			levels::ParamsError::MinSamplesOutOfRange => Error::<T>::MinSamplesOutOfRange,
			levels::ParamsError::ZeroSaleCap => Error::<T>::ZeroSaleCap,
			levels::ParamsError::HoldOutOfRange => Error::<T>::HoldOutOfRange,
		})?;
		let old = LevelParams::<T>::get();
		let (o, n) = (old, params);
		Self::on_rails(ParamRecord::Breaker, authority, |s| {
			s.fixed("throttle.volatility", o.throttle.volatility, n.throttle.volatility)
				.points("throttle.moved", o.throttle.moved, n.throttle.moved)
				.points("throttle.divergence", o.throttle.divergence, n.throttle.divergence)
				.points("halt.divergence", o.halt.divergence, n.halt.divergence)
				.amount("halt.blocks", o.halt.blocks.into(), n.halt.blocks.into())
				.points("release", o.release, n.release)
				.amount("calm_blocks", o.calm_blocks.into(), n.calm_blocks.into())
				.amount("window_blocks", o.window_blocks.into(), n.window_blocks.into())
				.amount("min_samples", o.min_samples.into(), n.min_samples.into())
				.amount("sale_cap", o.sale_cap, n.sale_cap)
				.points("jump", o.jump, n.jump)
				.amount("max_hold_blocks", o.max_hold_blocks.into(), n.max_hold_blocks.into())
		})?;
		LevelParams::<T>::put(params);
		Self::deposit_event(Event::BreakerParamsSet { params });
		Ok(())
	}

	/// Forces `asset` to `level` until block `until` (a guardian's halt) or until reset.
	/// Refused when nothing would change, and when a running halt with an end would be
	/// renewed (a guardian keeps an asset halted no longer than `GuardianHaltBlocks`; a forced
	/// level without an end, `AdminOrigin`'s, replaces a guardian's; `halt` refuses a
	/// guardian's over governance's before the asset's price is checked).
	pub(crate) fn do_force_level(
		asset: T::AssetId,
		level: Level,
		until: Option<u32>,
	) -> DispatchResult {
		let state = Levels::<T>::get(asset).unwrap_or_default();
		let unchanged =
			state.forced && state.level == level && (until.is_some() || state.until.is_none());
		ensure!(!unchanged, Error::<T>::LevelUnchanged);
		// A level with an end is evaluated every block until it ends: it joins `Raised`.
		let raised = match until {
			Some(_) => {
				let mut raised = Raised::<T>::get().into_inner();
				if !raised.contains(&asset) {
					if raised.len() >= T::MaxAssets::get() as usize {
						// Full: it displaces an automatic level, never another halt.
						let halts = raised
							.iter()
							.filter(|a| Levels::<T>::get(a).is_some_and(|s| s.until.is_some()))
							.count();
						ensure!(halts < T::MaxAssets::get() as usize, Error::<T>::TooManyHalts);
					}
					raised.push(asset);
				}
				Some(raised)
			},
			None => None,
		};
		// A guardian's halt keeps the run of divergence it found (tracked until it ends).
		let diverged_since = until.and(state.diverged_since);
		let since = Self::now();
		Levels::<T>::insert(
			asset,
			LevelState { level, since, calm_since: None, forced: true, until, diverged_since },
		);
		match raised {
			Some(raised) => Self::put_raised(raised),
			None => Self::unraise(&asset),
		}
		Self::deposit_event(Event::LevelChanged {
			asset,
			from: state.level,
			to: level,
			cause: Cause::Forced,
		});
		Ok(())
	}

	pub(crate) fn do_reset_level(asset: T::AssetId) -> DispatchResult {
		let state = Levels::<T>::get(asset).ok_or(Error::<T>::NothingToReset)?;
		Levels::<T>::remove(asset);
		Self::unraise(&asset);
		Self::deposit_event(Event::LevelChanged {
			asset,
			from: state.level,
			to: Level::Normal,
			cause: Cause::Reset,
		});
		Ok(())
	}

	pub(crate) fn do_set_emergency(on: bool) -> DispatchResult {
		ensure!(Emergency::<T>::get() != on, Error::<T>::EmergencyUnchanged);
		Emergency::<T>::put(on);
		Self::deposit_event(Event::EmergencySet { on });
		Ok(())
	}

	fn validate(params: &VolatilityParams) -> Result<(), Error<T>> {
		ensure!(
			(MIN_HALF_LIFE..=MAX_HALF_LIFE).contains(&params.half_life_secs),
			Error::<T>::HalfLifeOutOfRange
		);
		Ok(())
	}

	pub(crate) fn do_set_params(params: VolatilityParams, authority: Authority) -> DispatchResult {
		Self::validate(&params)?;
		let old = Params::<T>::get();
		Self::on_rails(ParamRecord::Volatility, authority, |s| {
			s.amount("half_life_secs", old.half_life_secs.into(), params.half_life_secs.into())
		})?;
		Params::<T>::put(params);
		Self::deposit_event(Event::ParamsSet { params });
		Ok(())
	}

	/// Invariants: the parameters are valid; every estimate has a price. (`Touched` may hold
	/// assets between blocks only at genesis, whose seeded prices block 1 samples.)
	#[cfg(any(test, feature = "std", feature = "try-runtime"))]
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		ensure!(Self::validate(&Params::<T>::get()).is_ok(), "volatility parameters out of bounds");
		ensure!(
			Volatility::<T>::iter_values().all(|s| s.samples == 0 || !s.price.is_zero()),
			"an estimate without a price"
		);
		ensure!(LevelParams::<T>::get().validate().is_ok(), "breaker parameters out of bounds");
		ensure!(
			Levels::<T>::iter_values().all(|s| s.forced || s.level != Level::Normal),
			"an automatic Normal level stored"
		);
		let raised = Raised::<T>::get();
		ensure!(
			raised
				.iter()
				.all(|a| Levels::<T>::get(a).is_some_and(|s| !s.forced || s.until.is_some())),
			"a raised asset that is forced until reset, or Normal"
		);
		ensure!(
			Levels::<T>::iter_values().all(|s| s.until.is_none() || s.forced),
			"an end on an automatic level"
		);
		ensure!(
			Levels::<T>::iter()
				.all(|(a, s)| s.until.is_none_or(|u| u > s.since && raised.contains(&a))),
			"a guardian's halt not evaluated for its end"
		);
		Ok(())
	}
}
