//! The liquidation pallet's parameters: one record, changed only by `RiskAdmin`, validated
//! against documented bounds on every change.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use sp_arithmetic::{traits::One, FixedU128, Permill};

/// Why a parameter set was refused: each bound by name.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ParamsError {
	/// `target_health` outside `(1, 2]`.
	TargetHealthOutOfRange,
	/// `health_for_max_discount` outside `[0.5, 1)`.
	MaxDiscountHealthOutOfRange,
	/// `protocol_fee` above 50% of the discount.
	ProtocolFeeOutOfRange,
	/// `caller_tip` above 1% of the repaid value, or a cap of zero with a tip.
	CallerTipOutOfRange,
	/// `max_slippage` zero or above 20%.
	MaxSlippageOutOfRange,
	/// `backstop_discount` above 20%.
	BackstopDiscountOutOfRange,
	/// `dust_value` above `max_dust_value`.
	DustValueOutOfRange,
	/// `pool_block_share` below 0.5%.
	PoolBlockShareOutOfRange,
}

/// Every governance parameter of liquidation (values in the oracle's reference unit).
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
pub struct LiquidationParams {
	/// Health a liquidation restores (Aave V4's target health factor): repay only what brings
	/// the account back to it. Bounds: `(1, 2]`.
	pub target_health: FixedU128,
	/// Health at and below which the liquidator gets the market's whole liquidation bonus
	/// (Aave V4 `healthFactorForMaxBonus`). Bounds: `[0.5, 1)`.
	pub health_for_max_discount: FixedU128,
	/// Share of the market's bonus a liquidator gets at health 1 (Aave V4
	/// `liquidationBonusFactor`). Bounds: `[0, 100%]`.
	pub min_discount_share: Permill,
	/// Share of the discount that is the protocol's fee, paid to the insurance treasury on
	/// every route (Aave V4 `liquidationFee`). Bounds: `[0, 50%]`.
	pub protocol_fee: Permill,
	/// Share of a settlement's penalty (unused seized collateral) kept by the insurance
	/// treasury; the rest, less the caller's tip, goes back to the borrower. Bounds: `[0, 100%]`.
	pub insurance_share: Permill,
	/// Tip to the caller of a settlement, as a share of the value repaid. Bounds: `[0, 1%]`.
	pub caller_tip: Permill,
	/// Most a tip may be worth. Must be positive when `caller_tip` is.
	pub caller_tip_cap: u128,
	/// Most the DEX may take above the oracle price to buy the debt. Bounds: `(0, 20%]`.
	pub max_slippage: Permill,
	/// Discount at which the insurance treasury buys collateral when the DEX cannot deliver.
	/// Bounds: `[0, 20%]`.
	pub backstop_discount: Permill,
	/// A debt or collateral left worth less than this is liquidated fully (Aave V4 hard-codes
	/// USD 1,000). Bounds: `[0, max_dust_value]`.
	pub dust_value: u128,
	/// The pool's depth cap: while a sale would leave a pool priced below the oracle, the
	/// protocol sells into it at most this share of the pool's collateral reserve per block
	/// (the reserve before the block's capped sales); the rest waits for a later block
	/// (queued, riskiest first) or goes to the backstop. A pool left at or above the oracle
	/// (one that lags a fall) takes any sale within the slippage bound. Bounds: `[0.5%, 100%]`.
	pub pool_block_share: Permill,
}

/// The lowest `pool_block_share` (at 0 no DEX sale would be made: the breaker's halt says so).
pub const MIN_POOL_BLOCK_SHARE: Permill = Permill::from_parts(5_000);

impl LiquidationParams {
	/// Checks every bound; `max_dust_value` is the runtime's ceiling for `dust_value`.
	pub fn validate(&self, max_dust_value: u128) -> Result<(), ParamsError> {
		let one = FixedU128::one();
		let two = FixedU128::from_u32(2);
		if self.target_health <= one || self.target_health > two {
			return Err(ParamsError::TargetHealthOutOfRange);
		}
		if self.health_for_max_discount < FixedU128::from_rational(1, 2)
			|| self.health_for_max_discount >= one
		{
			return Err(ParamsError::MaxDiscountHealthOutOfRange);
		}
		if self.protocol_fee > Permill::from_percent(50) {
			return Err(ParamsError::ProtocolFeeOutOfRange);
		}
		if self.caller_tip > Permill::from_percent(1)
			|| (self.caller_tip > Permill::zero() && self.caller_tip_cap == 0)
		{
			return Err(ParamsError::CallerTipOutOfRange);
		}
		if self.max_slippage == Permill::zero() || self.max_slippage > Permill::from_percent(20) {
			return Err(ParamsError::MaxSlippageOutOfRange);
		}
		if self.backstop_discount > Permill::from_percent(20) {
			return Err(ParamsError::BackstopDiscountOutOfRange);
		}
		if self.dust_value > max_dust_value {
			return Err(ParamsError::DustValueOutOfRange);
		}
		if self.pool_block_share < MIN_POOL_BLOCK_SHARE {
			return Err(ParamsError::PoolBlockShareOutOfRange);
		}
		Ok(())
	}
}

/// Why the DEX could not settle a position (the settlement then falls to the insurance
/// backstop).
#[derive(Clone, Copy, Encode, Decode, DecodeWithMemTracking, TypeInfo, PartialEq, Eq, Debug)]
pub enum DexRefusal {
	/// No pool between the collateral and the debt asset (or it cannot deliver the amount).
	NoPool,
	/// The DEX wants more collateral than the oracle price plus the maximum slippage allows:
	/// a thin or manipulated pool. Nothing was sold.
	SlippageExceeded {
		/// Collateral the DEX asked for.
		quote: u128,
		/// Most the protocol would pay.
		max: u128,
	},
	/// The collateral market is lent out: not enough cash to sell the collateral.
	NoCash {
		/// Cash the sale needed.
		needed: u128,
		/// Cash the market had.
		available: u128,
	},
	/// The swap itself failed (e.g. an amount below the asset's minimum balance).
	SwapFailed,
	/// The circuit breaker halted DEX sales of the collateral (or the chain-wide emergency is
	/// on).
	Halted,
	/// The oracle guard holds or disputes the collateral's or the debt's price (a jump not
	/// yet accepted, feeds that disagree) and the DEX could not sell within the bound at the
	/// ends that favour the borrower: nothing else is tried (no backstop, no auction) until
	/// the price is settled.
	PriceUnconfirmed,
	/// The sale's value is above what this block's cap has left (the breaker's cap of a
	/// `Throttled` collateral, or the pool's depth cap: `pool_block_share`), or riskier
	/// positions are queued before it (`left` is then 0).
	Throttled {
		/// Collateral value of the sale (reference units, rounded up).
		value: u128,
		/// What the cap allows this position now.
		left: u128,
	},
}

/// The DEX's pool reserves, as the pool's depth cap reads them.
pub trait DexReserves<AssetKind> {
	/// The reserves of the pool of `a` and `b`, in that order; `None` without a pool.
	fn reserves(a: &AssetKind, b: &AssetKind) -> Option<(u128, u128)>;
}

/// pallet-asset-conversion's pools.
impl<T> DexReserves<T::AssetKind> for pallet_asset_conversion::Pallet<T>
where
	T: pallet_asset_conversion::Config<Balance = u128>,
{
	fn reserves(a: &T::AssetKind, b: &T::AssetKind) -> Option<(u128, u128)> {
		Self::get_reserves(a.clone(), b.clone()).ok()
	}
}

/// What the circuit breaker allows of an asset's DEX sales in this block.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum SaleGate {
	/// No limit.
	Open,
	/// Up to this collateral value (reference units) more in this block.
	Capped(u128),
	/// None.
	Halted,
}

/// The circuit breaker, as the liquidation pallet needs it (the runtime wires
/// `pallet-breaker`): what may be sold on the DEX, and how volatile each collateral is.
pub trait CascadeBreaker<AssetId> {
	/// What may be sold of `asset` on the DEX in this block (by its level: open, capped,
	/// halted).
	fn sale_gate(asset: &AssetId) -> SaleGate;
	/// Whether the oracle guard holds or disputes `asset`'s price: the prices read are then a
	/// span (the accepted and the unconfirmed ends), and only what is liquidatable at every
	/// price in it is liquidated, by routes that price nothing at the unconfirmed end.
	fn price_unsettled(asset: &AssetId) -> bool;
	/// Whether the latest fresh feeds of `asset` disagree (a dispute): a liquidation reads the
	/// disputed ends that favour the borrower (every fresh feeder supports them), and the
	/// insurance backstop does not buy on them (one feeder may have raised the end it reads);
	/// a seizure the DEX refuses goes to an auction instead. Implies `price_unsettled`.
	fn price_disputed(asset: &AssetId) -> bool;
	/// Whether the oracle guard holds a jump of `asset`'s price (disputed or not): no insurance
	/// backstop, no new auction and no reset until it is accepted or dropped.
	fn price_held(asset: &AssetId) -> bool;
	/// A DEX sale of `value` (collateral value, reference units) of `asset` was made.
	fn note_sale(asset: &AssetId, value: u128);
	/// `asset`'s measured volatility (annualised), once it is reliable: the most volatile
	/// collateral is seized first.
	fn volatility(asset: &AssetId) -> Option<sp_arithmetic::FixedU128>;
}

/// No breaker: every sale open, no volatility (seizure by risk rank alone).
impl<AssetId> CascadeBreaker<AssetId> for () {
	fn sale_gate(_: &AssetId) -> SaleGate {
		SaleGate::Open
	}
	fn price_unsettled(_: &AssetId) -> bool {
		false
	}
	fn price_disputed(_: &AssetId) -> bool {
		false
	}
	fn price_held(_: &AssetId) -> bool {
		false
	}
	fn note_sale(_: &AssetId, _: u128) {}
	fn volatility(_: &AssetId) -> Option<sp_arithmetic::FixedU128> {
		None
	}
}

/// A position waiting for its DEX sale of a throttled collateral.
#[derive(
	Clone, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, PartialEq, Eq, Debug,
)]
pub struct QueueEntry<AccountId> {
	/// Its liquidation health when queued (the queue is riskiest first).
	pub health: sp_arithmetic::FixedU128,
	/// The borrower.
	pub borrower: AccountId,
	/// The block it was queued: an entry older than `MaxQueueAge` blocks is dropped (a
	/// position made healthy by other means does not hold the queue).
	pub since: u32,
}

/// How a settlement was made.
#[derive(Clone, Copy, Encode, Decode, DecodeWithMemTracking, TypeInfo, PartialEq, Eq, Debug)]
pub enum Route {
	/// The seized collateral was sold on the DEX for the debt.
	Dex,
	/// The insurance treasury repaid the debt and bought the collateral at the oracle price
	/// less the backstop discount, because the DEX could not.
	Backstop {
		/// Why the DEX could not.
		dex: DexRefusal,
	},
	/// A same-asset position: the borrower's own supply of the debt's asset repaid it
	/// (nothing sold, no discount; `sold` is the supply used).
	Net,
	/// Neither the DEX nor the backstop could: the seizure goes to a Dutch auction
	/// ([`crate::auction`]; only in `preview`: a started auction is `AuctionStarted`).
	Auction {
		/// Why the DEX could not.
		dex: DexRefusal,
	},
	/// Market makers' standing bids bought the seized collateral (`sold`) for the debt, paying
	/// more for it than the DEX (or the DEX could not): each bid's owner got its part as lending
	/// supply ([`crate::bids`]).
	Bids {
		/// How many bids filled it.
		fills: u32,
	},
}

/// Why `settle_batch` passed over a position (it is not failed: the rest of the batch goes
/// on).
#[derive(Clone, Copy, Encode, Decode, DecodeWithMemTracking, TypeInfo, PartialEq, Eq, Debug)]
pub enum Skipped {
	/// At health 1 or above, or no debt: nothing to settle.
	Healthy,
	/// No collateral left, only dust collateral, or a stale or missing price: `settle` handles
	/// the position on its own (the loss waterfall, the dust sweep) or it waits for prices.
	NoPlan(sp_runtime::DispatchError),
	/// Its pair's collateral could not be sold on the DEX within the oracle bound; `settle`
	/// (with the insurance backstop) handles it on its own.
	Dex(DexRefusal),
	/// Beyond what the call's witness declared (its pairs or its wide positions), or beyond
	/// `MaxBatchPairs` pairs.
	OverWitness,
	/// Its pair's lot would sell to the standing bids (they pay more than the DEX, or the DEX
	/// would not take it) for more positions than the witness's `bids` has left: not sold on
	/// the DEX instead (a caller may not choose the worse route by declaring less); `settle`
	/// takes it, or a batch declaring them.
	OverBids,
}

/// What the caller of `settle_batch` declares about its batch, for the call's weight: the
/// number of distinct `(collateral, debt)` pairs, of wide positions (anything but one
/// collateral and one debt), and of positions it may sell to the standing bids. Positions
/// beyond the pairs or the wide ones are skipped ([`Skipped::OverWitness`]); a pair whose lot
/// would sell to the bids for more positions than `bids` has left is skipped too
/// ([`Skipped::OverBids`]).
#[derive(
	Clone,
	Copy,
	Default,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	PartialEq,
	Eq,
	Debug,
)]
pub struct BatchWitness {
	/// Distinct `(collateral, debt)` pairs the batch plans, sold or not: a pair is taken by
	/// the first of its positions planned (at most `MaxBatchPairs` count).
	pub pairs: u32,
	/// Positions with more than one collateral or more than one debt.
	pub wide: u32,
	/// Positions whose collateral the batch may sell to the standing bids (#28), across its
	/// pairs: each is seized to the bids' owners as well as settled as a lot member
	/// (`seize_collateral`'s weight each, declared for this many). The offchain worker declares
	/// the positions of its batch whose pair has a bid in the book.
	pub bids: u32,
}

/// A dry run of a liquidation step: what `settle` would do now.
#[derive(Clone, Encode, Decode, TypeInfo, PartialEq, Eq, Debug)]
pub struct Preview<AssetId> {
	/// The account's liquidation health for the chosen pair.
	pub health: FixedU128,
	/// The debt repaid (the largest by value).
	pub debt_asset: AssetId,
	/// The collateral seized (the riskiest first).
	pub collateral_asset: AssetId,
	/// Debt units to repay.
	pub repay: u128,
	/// Collateral units due for it, the discount included.
	pub collateral_due: u128,
	/// The liquidation discount at this health.
	pub discount: Permill,
	/// Collateral the DEX would take for the debt, if it has a pool.
	pub dex_input: Option<u128>,
	/// Collateral the standing bids would take for the debt of the plan `settle` would make
	/// with them, if they cover it (on an agreed price, within the DEX's bound).
	pub bid_input: Option<u128>,
	/// The route `settle` would take, or why neither works.
	pub route: Result<Route, DexRefusal>,
	/// Collateral units the borrower keeps of what is due (on the route taken).
	pub returned: u128,
}

/// A page of accounts below health 1 with their health, and where the next page starts.
pub type LiquidatablePage<AccountId, AssetId> =
	(alloc::vec::Vec<(AccountId, FixedU128)>, Option<RiskCursor<AssetId, AccountId>>);

/// A family of entries of the risk index, each with its own price variable; an entry is a
/// bucket of that variable ([`crate::risk::bucket`]) at or below which the account must be
/// checked.
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
	PartialOrd,
	Ord,
	Debug,
)]
pub enum RiskKey<AssetId> {
	/// Accounts with one collateral and one debt: exact. Variable: `threshold × price ×
	/// supply index` of the collateral over `price × borrow index` of the debt; the account is
	/// below health 1 exactly when it is under `debt shares / collateral shares`.
	Pair {
		/// The collateral asset.
		collateral: AssetId,
		/// The debt asset.
		debt: AssetId,
	},
	/// Accounts with several assets that hold the same ones, filed in the same epoch: one
	/// entry per account, `−bucket(h)` of its health `h` at the epoch's reference variables
	/// ([`crate::risk::wide_entry`]). Read by the largest fall of its collateral variables and
	/// rise of its debt variables since the epoch ([`crate::risk::fall_factor`]).
	Wide {
		/// The epoch whose reference variables the entries are at.
		epoch: u32,
		/// The collateral assets, as bits of their place in the epoch's variables.
		collateral: u64,
		/// The debt assets, likewise.
		debt: u64,
	},
}

impl<AssetId> RiskKey<AssetId> {
	/// The epoch of a wide key (`None` for a pair's): the first part of its key in
	/// `RiskKeys`, so that an epoch's keys are one prefix.
	pub fn epoch(&self) -> Option<u32> {
		match self {
			RiskKey::Pair { .. } => None,
			RiskKey::Wide { epoch, .. } => Some(*epoch),
		}
	}
}

/// A key of the risk index in use: the highest bucket any entry may be at (an upper bound).
/// An entry leaving its key does not touch it (session 29: a lending call's filing writes
/// only what it must, the entry out and in and the state of the key it enters); a key left
/// with no entry is removed by `prune_keys` (the offchain worker's, or anyone's).
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
pub struct KeyState {
	/// At or above the highest entry's bucket.
	pub top: i32,
}

/// Most assets an epoch's reference variables hold (bits of a [`RiskKey::Wide`] mask).
pub const EPOCH_ASSETS: u32 = 64;

/// Most keys one `prune_keys` call removes.
pub const MAX_PRUNE: u32 = 64;

/// An epoch's reference variables, per market: `(asset, collateral variable, debt variable)`,
/// each `None` without a price a liquidation could read then.
pub type EpochVariablesOf<AssetId> = frame_support::BoundedVec<
	(AssetId, Option<FixedU128>, Option<FixedU128>),
	frame_support::traits::ConstU32<EPOCH_ASSETS>,
>;

/// The risk index's current epoch.
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
pub struct Epoch<BlockNumber> {
	/// Its number.
	pub id: u32,
	/// The block it began in.
	pub start: BlockNumber,
	/// The block it was last compared with the markets (an incomplete epoch is, every
	/// sixty-fourth of `EpochBlocks`).
	pub checked: BlockNumber,
	/// Markets its variables hold with both variables.
	pub covered: u32,
	/// Whether its variables hold every market, each with both variables.
	pub complete: bool,
}

/// Where an account with debt is filed in the risk index.
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
pub enum Filing<AssetId> {
	/// Read on every pass: debt without collateral, or a health unknown (a price missing, a
	/// market not in the epoch) when filed.
	Watch,
	/// One entry: `(key, bucket)`.
	Entry(RiskKey<AssetId>, i32),
}

/// Where a read of the index stopped, to go on from there.
#[derive(
	Clone, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, PartialEq, Eq, Debug,
)]
pub enum RiskCursor<AssetId, AccountId> {
	/// In the watch list, after this account.
	Watch(AccountId),
	/// In this key's bucket, after this account (from its start with `None`).
	Index {
		/// The key.
		key: RiskKey<AssetId>,
		/// The bucket.
		bucket: i32,
		/// The last account read in it.
		after: Option<AccountId>,
	},
	/// In the keys read whole (a dead collateral feed), in this key after this entry (from
	/// its start with `None`): the keys read by level were read before it in this pass.
	Whole {
		/// The key.
		key: RiskKey<AssetId>,
		/// The last entry read in it: `(bucket, account)`.
		after: Option<(i32, AccountId)>,
	},
}

#[cfg(test)]
mod tests {
	use super::*;

	fn good() -> LiquidationParams {
		LiquidationParams {
			target_health: FixedU128::from_rational(105, 100),
			health_for_max_discount: FixedU128::from_rational(95, 100),
			min_discount_share: Permill::from_percent(50),
			protocol_fee: Permill::from_percent(10),
			insurance_share: Permill::from_percent(50),
			caller_tip: Permill::from_parts(1_000),
			caller_tip_cap: 1_000,
			max_slippage: Permill::from_percent(3),
			backstop_discount: Permill::from_percent(2),
			dust_value: 1_000,
			pool_block_share: Permill::from_percent(2),
		}
	}

	#[test]
	fn every_bound_is_refused_by_name() {
		assert_eq!(good().validate(10_000), Ok(()));
		let cases: Vec<(LiquidationParams, ParamsError)> = vec![
			(
				LiquidationParams { target_health: FixedU128::one(), ..good() },
				ParamsError::TargetHealthOutOfRange,
			),
			(
				LiquidationParams { target_health: FixedU128::from_u32(3), ..good() },
				ParamsError::TargetHealthOutOfRange,
			),
			(
				LiquidationParams { health_for_max_discount: FixedU128::one(), ..good() },
				ParamsError::MaxDiscountHealthOutOfRange,
			),
			(
				LiquidationParams {
					health_for_max_discount: FixedU128::from_rational(49, 100),
					..good()
				},
				ParamsError::MaxDiscountHealthOutOfRange,
			),
			(
				LiquidationParams { protocol_fee: Permill::from_percent(51), ..good() },
				ParamsError::ProtocolFeeOutOfRange,
			),
			(
				LiquidationParams { caller_tip: Permill::from_percent(2), ..good() },
				ParamsError::CallerTipOutOfRange,
			),
			(LiquidationParams { caller_tip_cap: 0, ..good() }, ParamsError::CallerTipOutOfRange),
			(
				LiquidationParams { max_slippage: Permill::zero(), ..good() },
				ParamsError::MaxSlippageOutOfRange,
			),
			(
				LiquidationParams { max_slippage: Permill::from_percent(21), ..good() },
				ParamsError::MaxSlippageOutOfRange,
			),
			(
				LiquidationParams { backstop_discount: Permill::from_percent(21), ..good() },
				ParamsError::BackstopDiscountOutOfRange,
			),
			(LiquidationParams { dust_value: 10_001, ..good() }, ParamsError::DustValueOutOfRange),
			(
				LiquidationParams { pool_block_share: Permill::from_parts(4_999), ..good() },
				ParamsError::PoolBlockShareOutOfRange,
			),
		];
		for (params, error) in cases {
			assert_eq!(params.validate(10_000), Err(error), "{params:?}");
		}
		let edges = [MIN_POOL_BLOCK_SHARE, Permill::one()];
		for share in edges {
			assert_eq!(
				LiquidationParams { pool_block_share: share, ..good() }.validate(10_000),
				Ok(())
			);
		}
	}
}

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
	/// [`LiquidationParams`].
	Liquidation,
	/// [`crate::AuctionParams`].
	Auction,
	/// [`PreLiquidationRules`].
	PreLiquidation,
}

/// A borrower's opt-in to soft pre-liquidation ([`crate::Pallet::set_pre_liquidation`]): while
/// its health is at least 1 and below `band`, any keeper may repay up to `close_share` of one
/// of its debts for collateral worth the repayment plus `bonus` (Morpho's PreLiquidation).
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
pub struct PreLiquidationTerms {
	/// The health below which pre-liquidation may start. Bounds: `(1, max_band]`.
	pub band: FixedU128,
	/// Most of a debt one pre-liquidation repays. Bounds: `(0, max_close_share]`.
	pub close_share: Permill,
	/// The keeper's bonus on the value repaid. Bounds: `(0, max_bonus]`; when used, also at
	/// most the discount a liquidation of the collateral pays at health 1.
	pub bonus: Permill,
}

/// A borrower's terms and the last block it was pre-liquidated in (once a block: the close
/// share is a step, not a drain).
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
pub struct PreLiquidationEntry<BlockNumber> {
	/// The borrower's terms as it set them (used clamped to the rules of the day).
	pub terms: PreLiquidationTerms,
	/// The block of its last pre-liquidation, if any.
	pub last: Option<BlockNumber>,
}

/// Governance's caps on every borrower's pre-liquidation terms, and the horizon of the band a
/// borrower is offered. Terms set before a cap was lowered are used clamped to it.
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
pub struct PreLiquidationRules {
	/// The widest band. Bounds: `(1, 2]`.
	pub max_band: FixedU128,
	/// The largest close share. Bounds: `(0, 50%]`.
	pub max_close_share: Permill,
	/// The largest bonus. Bounds: `(0, 10%]`.
	pub max_bonus: Permill,
	/// Seconds of the move the offered band covers: it starts where the collateral's likely
	/// fall over this time (99%, at its measured volatility) would bring the account to 1.
	/// Bounds: `[1 minute, 7 days]`.
	pub horizon: u32,
}

/// Why pre-liquidation terms or rules were refused: each bound by name.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum PreLiquidationError {
	/// A band at or below 1, or above its cap.
	BandOutOfRange,
	/// A close share of zero, or above its cap.
	CloseShareOutOfRange,
	/// A bonus of zero, or above its cap.
	BonusOutOfRange,
	/// A horizon outside `[60, 604_800]` seconds.
	HorizonOutOfRange,
}

impl PreLiquidationRules {
	/// Checks every bound.
	pub fn validate(&self) -> Result<(), PreLiquidationError> {
		if self.max_band <= FixedU128::one() || self.max_band > FixedU128::from_u32(2) {
			return Err(PreLiquidationError::BandOutOfRange);
		}
		if self.max_close_share.is_zero() || self.max_close_share > Permill::from_percent(50) {
			return Err(PreLiquidationError::CloseShareOutOfRange);
		}
		if self.max_bonus.is_zero() || self.max_bonus > Permill::from_percent(10) {
			return Err(PreLiquidationError::BonusOutOfRange);
		}
		if !(60..=604_800).contains(&self.horizon) {
			return Err(PreLiquidationError::HorizonOutOfRange);
		}
		Ok(())
	}

	/// Checks a borrower's `terms` against the caps.
	pub fn check(&self, terms: &PreLiquidationTerms) -> Result<(), PreLiquidationError> {
		if terms.band <= FixedU128::one() || terms.band > self.max_band {
			return Err(PreLiquidationError::BandOutOfRange);
		}
		if terms.close_share.is_zero() || terms.close_share > self.max_close_share {
			return Err(PreLiquidationError::CloseShareOutOfRange);
		}
		if terms.bonus.is_zero() || terms.bonus > self.max_bonus {
			return Err(PreLiquidationError::BonusOutOfRange);
		}
		Ok(())
	}

	/// `terms` within today's caps (a cap lowered after the borrower set them binds).
	pub fn clamp(&self, terms: PreLiquidationTerms) -> PreLiquidationTerms {
		PreLiquidationTerms {
			band: terms.band.min(self.max_band),
			close_share: terms.close_share.min(self.max_close_share),
			bonus: terms.bonus.min(self.max_bonus),
		}
	}
}

/// What one pre-liquidation would do now ([`crate::Pallet::pre_liquidate`]'s sizing).
#[derive(Clone, Copy, Encode, Decode, DecodeWithMemTracking, TypeInfo, PartialEq, Eq, Debug)]
pub struct PreLiquidationOffer<AssetId> {
	/// The debt repaid.
	pub debt_asset: AssetId,
	/// The collateral taken.
	pub collateral_asset: AssetId,
	/// Debt units repaid.
	pub repay: u128,
	/// Collateral units the keeper gets (the protocol fee included, taken from them).
	pub collateral: u128,
	/// The bonus applied.
	pub bonus: Permill,
}

/// A borrower's pre-liquidation as a wallet or keeper reads it
/// (`liquidationApi.preLiquidation`).
#[derive(Clone, Encode, Decode, DecodeWithMemTracking, TypeInfo, PartialEq, Eq, Debug)]
pub struct PreLiquidationView<AssetId> {
	/// The borrower's terms (as used: within today's caps), if it opted in.
	pub terms: Option<PreLiquidationTerms>,
	/// The band offered to this account: where its most volatile collateral's likely fall
	/// over the rules' horizon would bring it to 1 (the widest band when none is measured).
	pub suggested_band: FixedU128,
	/// The caps.
	pub rules: PreLiquidationRules,
	/// The account's health now (`None` without debt or a price).
	pub health: Option<FixedU128>,
	/// What a keeper's `pre_liquidate` of its largest debt against its riskiest collateral
	/// would do now, or why it would be refused.
	pub offer: Result<PreLiquidationOffer<AssetId>, sp_runtime::DispatchError>,
}
