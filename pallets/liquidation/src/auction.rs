//! The Dutch auction fallback (MakerDAO's Clipper, for a money market).
//!
//! When `settle` can neither sell a position's collateral on the DEX (the circuit breaker
//! halted it, the pool cannot deliver within the oracle bound, the market has no cash) nor have
//! the insurance treasury buy it, the seizure it planned goes to auction: `lot` collateral for
//! `tab` debt. The price, in debt units per collateral unit, starts `buf` above the oracle and
//! falls by `step` each block to a `floor` below it; anyone may [`take`](crate::Pallet::take)
//! part or all of the lot at the current price, paying the debt with its own funds and
//! receiving the collateral as lending supply (like a keeper). An auction older than `tail`
//! blocks, or whose price is more than `cusp` below the current oracle, must be reset
//! ([`redo`](crate::Pallet::redo)) before anyone takes from it: its price starts again from the
//! oracle. `redo` also closes an auction with nothing left to do (the borrower healthy again,
//! its debt repaid or its collateral gone). Anyone may `redo`; the offchain worker submits
//! `redo_unsigned` for every auction a dry run shows due.
//!
//! The lot stays in the borrower's account until taken: the borrower's health stays exact, a
//! take requires it to be below 1 (an auction never sells a healthy position), and the borrower
//! may end it by repaying. When takers have paid the whole tab, the insurance treasury takes
//! its share of the unsold lot (the penalty, as on the DEX route) and the borrower keeps the
//! rest; when the lot is sold out with debt left, the loss waterfall covers it once the account
//! has no collateral.

use crate::{pallet::*, plan::overflow, types::*, weights::WeightInfo};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{
	dispatch::DispatchResultWithPostInfo,
	ensure,
	pallet_prelude::{DispatchError, DispatchResult, Weight},
	traits::Get,
};
use margincall_rails::Authority;
use pallet_lending::LendingPositions;
use scale_info::TypeInfo;
use sp_arithmetic::{
	helpers_128bit::multiply_by_rational_with_rounding,
	traits::{CheckedDiv, Saturating, Zero},
	FixedPointNumber, FixedU128, PerThing, Permill, Rounding,
};

/// The auctions' governance parameters.
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
pub struct AuctionParams {
	/// The starting price above the oracle (Maker's `buf`). Bounds: `[0, 50%]`.
	pub buf: Permill,
	/// The share the price falls each block (a stairstep exponential decrease). Bounds:
	/// `(0, 20%]`.
	pub step: Permill,
	/// The lowest price, below the oracle at the (re)start. Bounds: `(0, 90%]`.
	pub floor: Permill,
	/// A price more than this below the current oracle needs a reset (Maker's `cusp`).
	/// Bounds: `(floor, 100%)`: the floor itself is not reset while the oracle stands still.
	pub cusp: Permill,
	/// An auction older than this many blocks needs a reset (Maker's `tail`). Bounds:
	/// `[1, 100,000]`.
	pub tail: u32,
}

/// Why a set of auction parameters was refused: each bound by name.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum AuctionParamsError {
	/// `buf` above 50%.
	Buf,
	/// `step` zero or above 20%.
	Step,
	/// `floor` zero or above 90%.
	Floor,
	/// `cusp` not above `floor`, or 100%.
	Cusp,
	/// `tail` zero or above 100,000 blocks.
	Tail,
}

impl AuctionParams {
	/// Checks every bound.
	pub fn validate(&self) -> Result<(), AuctionParamsError> {
		if self.buf > Permill::from_percent(50) {
			return Err(AuctionParamsError::Buf);
		}
		if self.step.is_zero() || self.step > Permill::from_percent(20) {
			return Err(AuctionParamsError::Step);
		}
		if self.floor.is_zero() || self.floor > Permill::from_percent(90) {
			return Err(AuctionParamsError::Floor);
		}
		if self.cusp <= self.floor || self.cusp == Permill::one() {
			return Err(AuctionParamsError::Cusp);
		}
		if self.tail == 0 || self.tail > 100_000 {
			return Err(AuctionParamsError::Tail);
		}
		Ok(())
	}

	/// `(top, floor)` for an auction (re)started at the oracle's `price` (debt units per
	/// collateral unit).
	pub fn start_prices(&self, price: FixedU128) -> (FixedU128, FixedU128) {
		let top = price.saturating_add(price.saturating_mul(FixedU128::from(self.buf)));
		let floor = price.saturating_mul(FixedU128::from(self.floor.left_from_one()));
		(top, floor)
	}
}

/// One auction: `lot` of the borrower's collateral for `tab` of its debt.
#[derive(
	Clone, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, PartialEq, Eq, Debug,
)]
pub struct Auction<AccountId, AssetId> {
	/// Whose collateral.
	pub borrower: AccountId,
	/// The collateral sold.
	pub collateral_asset: AssetId,
	/// The debt repaid.
	pub debt_asset: AssetId,
	/// Collateral units left to sell.
	pub lot: u128,
	/// Debt units left to repay.
	pub tab: u128,
	/// The price at the (re)start, debt units per collateral unit.
	pub top: FixedU128,
	/// The lowest price.
	pub floor: FixedU128,
	/// The block it (re)started.
	pub started: u32,
	/// Times it was reset.
	pub resets: u32,
	/// Debt units takers have repaid so far: a paid end gives the treasury no more than the
	/// penalty on the whole auction's repayment.
	pub repaid: u128,
}

impl<AccountId, AssetId> Auction<AccountId, AssetId> {
	/// The price at block `now`: `top × (1 − step)^(blocks since the start)`, at least `floor`.
	pub fn price(&self, step: Permill, now: u32) -> FixedU128 {
		let elapsed = usize::try_from(now.saturating_sub(self.started)).unwrap_or(usize::MAX);
		let kept = FixedU128::from(step.left_from_one()).saturating_pow(elapsed);
		self.top.saturating_mul(kept).max(self.floor)
	}

	/// Whether the auction must be reset before anyone takes from it: older than `tail`, its
	/// price more than `cusp` below the oracle's `oracle` (debt units per collateral unit), the
	/// oracle below its floor (a falling market: the auction could never again ask less than
	/// the market, and nobody would take), or its price at a floor less than half of `floor`
	/// below the oracle (the market fell after the start: a floor 2% below it left takers who
	/// need 3% nothing to take until `tail`, found by the cascade benchmark: 15 auctions of
	/// the crash sat at their floors for the rest of the run).
	pub fn needs_reset(&self, params: &AuctionParams, now: u32, oracle: FixedU128) -> bool {
		let too_old = now.saturating_sub(self.started) > params.tail;
		let price = self.price(params.step, now);
		let lowest = oracle.saturating_mul(FixedU128::from(params.cusp.left_from_one()));
		let half = Permill::from_parts(params.floor.deconstruct() / 2);
		let shallow = self.floor > oracle.saturating_mul(FixedU128::from(half.left_from_one()));
		too_old || price < lowest || oracle < self.floor || (price <= self.floor && shallow)
	}
}

/// How an auction ended.
#[derive(Clone, Copy, Encode, Decode, DecodeWithMemTracking, TypeInfo, PartialEq, Eq, Debug)]
pub enum AuctionEnd {
	/// Takers paid the whole tab.
	Paid,
	/// The lot was sold out with debt left (the loss waterfall covers it once the account has
	/// no collateral).
	LotSold,
	/// Closed by `redo`: the borrower was healthy again, had repaid the debt or lost the
	/// collateral by other means, or what was left of the tab bought less than one unit.
	Closed,
}

/// An auction as the `auctions` view reports it.
#[derive(Clone, Encode, Decode, TypeInfo, PartialEq, Eq, Debug)]
pub struct AuctionStatus<AccountId, AssetId> {
	/// Its id.
	pub id: u32,
	/// The auction.
	pub auction: Auction<AccountId, AssetId>,
	/// Its price now.
	pub price: FixedU128,
	/// Whether it needs a reset before a take (`None` when a price is stale or missing).
	pub needs_reset: Option<bool>,
	/// Whether `redo` would reset or close it now (the offchain worker submits it).
	pub redo_due: bool,
}

/// The auction `settle` would start, or why not.
pub(crate) type AuctionOf<T> =
	Auction<<T as frame_system::Config>::AccountId, <T as Config>::AssetId>;

impl<T: Config> Pallet<T> {
	/// The oracle's price of `collateral` in `debt` units.
	fn oracle_ratio(
		collateral: &T::AssetId,
		debt: &T::AssetId,
	) -> Result<FixedU128, DispatchError> {
		let (debt, collateral) = Self::pair_prices(debt, collateral)?;
		collateral.checked_div(&debt).ok_or_else(overflow::<T>)
	}

	/// Whether `settle` may start an auction for `borrower`: one auction per borrower, at most
	/// `MaxAuctions` at once.
	pub(crate) fn may_start_auction(borrower: &T::AccountId) -> DispatchResult {
		ensure!(!BorrowerAuction::<T>::contains_key(borrower), Error::<T>::InAuction);
		ensure!(Auctions::<T>::count() < T::MaxAuctions::get(), Error::<T>::NoRoute);
		Ok(())
	}

	/// Starts an auction of `plan`'s seizure, which neither the DEX (`dex` says why) nor the
	/// backstop could carry out. Returns its id.
	pub(crate) fn start_auction(
		borrower: &T::AccountId,
		plan: &crate::Plan<T::AssetId>,
		dex: DexRefusal,
	) -> Result<u32, DispatchError> {
		Self::may_start_auction(borrower)?;
		let params = AuctionParameters::<T>::get();
		let oracle =
			plan.collateral_price.checked_div(&plan.debt_price).ok_or_else(overflow::<T>)?;
		let (top, floor) = params.start_prices(oracle);
		let id = NextAuctionId::<T>::get();
		NextAuctionId::<T>::put(id.checked_add(1).ok_or_else(overflow::<T>)?);
		let auction = Auction {
			borrower: borrower.clone(),
			collateral_asset: plan.collateral_asset,
			debt_asset: plan.debt_asset,
			lot: plan.collateral,
			tab: plan.repay,
			top,
			floor,
			started: Self::block_number_u32(),
			resets: 0,
			repaid: 0,
		};
		Auctions::<T>::insert(id, &auction);
		BorrowerAuction::<T>::insert(borrower, id);
		Self::deposit_event(Event::AuctionStarted {
			id,
			borrower: borrower.clone(),
			collateral_asset: plan.collateral_asset,
			debt_asset: plan.debt_asset,
			lot: plan.collateral,
			tab: plan.repay,
			top,
			floor,
			dex,
			health: plan.health.factor,
		});
		Ok(id)
	}

	/// Whether `auction` can be taken from now: not due a reset at the pair's liquidation
	/// prices (a keeper's `liquidate` leaves the lot of such an auction alone).
	pub(crate) fn takeable(auction: &AuctionOf<T>) -> Result<bool, DispatchError> {
		let params = AuctionParameters::<T>::get();
		let oracle = Self::oracle_ratio(&auction.collateral_asset, &auction.debt_asset)?;
		Ok(!auction.needs_reset(&params, Self::block_number_u32(), oracle))
	}

	/// What is left of `auction` against the borrower's account now: `(tab, lot)`. The tab is
	/// at most what the borrower owes (a repayment or another liquidation may have reduced it),
	/// and the lot shrinks with it in proportion (rounded up): the lot was the collateral due
	/// for the tab, and a paid tab gives the treasury its share of what is left of the lot. The
	/// lot is at most what the borrower holds as collateral (none once the borrower, healthy
	/// again, took the asset out of its collateral).
	pub(crate) fn remaining(auction: &AuctionOf<T>) -> Result<(u128, u128), DispatchError> {
		let owed = T::Lending::debt(&auction.borrower, &auction.debt_asset)?;
		let held = Self::held_lot(auction)?;
		let tab = auction.tab.min(owed);
		let lot = if tab < auction.tab {
			multiply_by_rational_with_rounding(auction.lot, tab, auction.tab, Rounding::Up)
				.ok_or_else(overflow::<T>)?
		} else {
			auction.lot
		};
		Ok((tab, lot.min(held)))
	}

	/// The auction's collateral the borrower holds as collateral now (none once it took the
	/// asset out of its collateral: it can no longer be seized).
	fn held_lot(auction: &AuctionOf<T>) -> Result<u128, DispatchError> {
		let is_collateral = T::Lending::account_assets(&auction.borrower)
			.supplies
			.iter()
			.any(|(asset, collateral)| *asset == auction.collateral_asset && *collateral);
		if is_collateral {
			T::Lending::supplied(&auction.borrower, &auction.collateral_asset)
		} else {
			Ok(0)
		}
	}

	/// `take`: buys up to `max_collateral` of auction `id`'s lot at its current price, if that
	/// is at most `max_price`, paying the debt with `taker`'s funds.
	pub(crate) fn do_take(
		taker: &T::AccountId,
		id: u32,
		max_collateral: u128,
		max_price: FixedU128,
	) -> DispatchResultWithPostInfo {
		ensure!(!max_collateral.is_zero(), Error::<T>::ZeroAmount);
		let mut auction = Auctions::<T>::get(id).ok_or(Error::<T>::UnknownAuction)?;
		let borrower = auction.borrower.clone();
		ensure!(*taker != borrower, Error::<T>::SelfLiquidation);
		let params = AuctionParameters::<T>::get();
		let now = Self::block_number_u32();
		let price = auction.price(params.step, now);
		ensure!(price <= max_price, Error::<T>::AuctionPriceTooHigh);
		let (collateral, debt) = (auction.collateral_asset, auction.debt_asset);
		// A held or disputed price does not stop a take (as Maker's Clipper stays takeable
		// while its breaker is tripped): the take is at the auction's price, and the oracle
		// checks below read the liquidation's ends that favour the borrower (of a dispute,
		// the disputed ends), so nothing is priced at an unconfirmed end. A stale price fails
		// closed.
		let (debt_price, collateral_price) = Self::pair_prices(&debt, &collateral)?;
		let oracle = collateral_price.checked_div(&debt_price).ok_or_else(overflow::<T>)?;
		ensure!(!auction.needs_reset(&params, now, oracle), Error::<T>::AuctionNeedsReset);
		let (tab, lot) = Self::remaining(&auction)?;
		ensure!(!tab.is_zero() && !lot.is_zero(), Error::<T>::AuctionOver);
		let health = T::Lending::liquidation_health(&borrower, &debt, &collateral)?;
		ensure!(health.is_liquidatable(), Error::<T>::NotLiquidatable);

		// The taker pays for its slice rounded up; a slice worth more than the tab is cut to
		// what the tab buys (rounded down).
		let mut slice = max_collateral.min(lot);
		let mut owe = multiply_by_rational_with_rounding(
			slice,
			price.into_inner(),
			FixedU128::DIV,
			Rounding::Up,
		)
		.ok_or_else(overflow::<T>)?;
		if owe >= tab {
			// Never more than the taker asked for (with a price below 1 the tab can buy more
			// units than the slice asked).
			owe = tab;
			slice = Self::tab_buys(tab, price)?.min(slice);
			// A tab that buys less than a unit cannot be taken: `redo` closes the auction.
			ensure!(!slice.is_zero(), Error::<T>::AuctionOver);
		} else if slice < lot {
			// A partial take leaves neither a tab nor a lot worth less than the dust value.
			let dust = Params::<T>::get().dust_value;
			ensure!(
				crate::plan::value_of(tab.saturating_sub(owe), debt_price) >= dust
					&& crate::plan::value_of(lot.saturating_sub(slice), collateral_price) >= dust,
				Error::<T>::LeavesDust
			);
		}
		ensure!(!owe.is_zero(), Error::<T>::CollateralTooSmall);

		T::Lending::repay_debt(taker, &borrower, &debt, owe)?;
		T::Lending::seize_collateral(&borrower, &collateral, slice, taker)?;
		auction.tab = tab.saturating_sub(owe);
		auction.lot = lot.saturating_sub(slice);
		auction.repaid = auction.repaid.saturating_add(owe);
		Self::deposit_event(Event::AuctionTaken {
			id,
			taker: taker.clone(),
			bought: slice,
			paid: owe,
			price,
			lot_left: auction.lot,
			tab_left: auction.tab,
		});
		let end = if auction.tab.is_zero() {
			Some(AuctionEnd::Paid)
		} else if auction.lot.is_zero() {
			Some(AuctionEnd::LotSold)
		} else {
			None
		};
		let debts = match end {
			Some(reason) => {
				Self::end_auction(id, auction, reason)?;
				// No collateral left (a lot that was all of it, or the treasury's share taking
				// the last unit): the loss waterfall closes the rest of the debt.
				Self::cover_shortfall(&borrower)?
			},
			None => {
				Auctions::<T>::insert(id, auction);
				0
			},
		};
		Ok(Some(T::WeightInfo::take().saturating_add(Self::shortfall_weight(debts))).into())
	}

	/// Collateral units `tab` buys at `price`, rounded down.
	fn tab_buys(tab: u128, price: FixedU128) -> Result<u128, DispatchError> {
		multiply_by_rational_with_rounding(tab, FixedU128::DIV, price.into_inner(), Rounding::Down)
			.ok_or_else(overflow::<T>)
	}

	/// `redo`: closes auction `id` when there is nothing left to do (the borrower healthy
	/// again, its debt repaid or its collateral gone, a tab left that buys less than one unit
	/// at the auction's price or whose repayment would clear no debt share), or resets a stale one (too old, or its price too far below
	/// the oracle) to start again from the oracle.
	pub(crate) fn do_redo(id: u32) -> DispatchResult {
		let mut auction = Auctions::<T>::get(id).ok_or(Error::<T>::UnknownAuction)?;
		let (collateral, debt) = (auction.collateral_asset, auction.debt_asset);
		let (tab, lot) = Self::remaining(&auction)?;
		let params = AuctionParameters::<T>::get();
		let now = Self::block_number_u32();
		let over = tab.is_zero()
			|| lot.is_zero()
			|| Self::clears_no_share(&debt, tab, T::Lending::debt(&auction.borrower, &debt)?)
			|| !T::Lending::liquidation_health(&auction.borrower, &debt, &collateral)?
				.is_liquidatable()
			|| Self::tab_buys(tab, auction.price(params.step, now))?.is_zero();
		if over {
			// What is left of the debt is the borrower's again, for `settle` to plan anew, and
			// so is the lot (what of it the borrower still holds as collateral).
			auction.tab = tab;
			auction.lot = auction.lot.min(Self::held_lot(&auction)?);
			return Self::end_auction(id, auction, AuctionEnd::Closed);
		}
		// A reset prices the lot from the oracle: not from a price the oracle guard holds or
		// disputes (a lot re-sized at one feeder's raised end would stay small for good).
		ensure!(!Self::pair_unsettled(&collateral, &debt), Error::<T>::PriceUnconfirmed);
		let oracle = Self::oracle_ratio(&collateral, &debt)?;
		ensure!(auction.needs_reset(&params, now, oracle), Error::<T>::AuctionNotStale);
		let (top, floor) = params.start_prices(oracle);
		auction.tab = tab;
		// The lot sized again from the oracle: what the tab buys at it plus the market's bonus
		// (rounded up), at most what was left. A lot sized at the old prices, after the market
		// moved for the borrower (its collateral up or its debt down), would leave an unsold
		// remainder beyond the penalty, of which a paid end hands the treasury its share.
		let bonus =
			T::Lending::market_params(&collateral).map(|m| m.liquidation_bonus).unwrap_or_default();
		let base = multiply_by_rational_with_rounding(
			tab,
			FixedU128::DIV,
			oracle.into_inner(),
			Rounding::Up,
		)
		.ok_or_else(overflow::<T>)?;
		auction.lot = lot.min(base.saturating_add(bonus.mul_ceil(base)));
		auction.top = top;
		auction.floor = floor;
		auction.started = now;
		auction.resets = auction.resets.saturating_add(1);
		Self::deposit_event(Event::AuctionReset { id, top, floor, lot: auction.lot, tab });
		Auctions::<T>::insert(id, auction);
		Ok(())
	}

	/// Ends auction `id`. Paid: the insurance treasury takes its share of the unsold lot (the
	/// penalty, rounded up), the borrower keeps the rest.
	fn end_auction(id: u32, auction: AuctionOf<T>, reason: AuctionEnd) -> DispatchResult {
		let to_insurance = if reason == AuctionEnd::Paid {
			let share = Params::<T>::get().insurance_share;
			// Of the unsold lot; and at most the treasury's share of the penalty on the whole
			// auction's repayment at the oracle now: a lot sized at older prices, after the
			// market moved for the borrower within the cusp (no reset), leaves a rest worth
			// more than the penalty, which is the borrower's (found by the soak, seed 360).
			let cap = share.mul_ceil(Self::penalty_on(&auction)?);
			let share = share.mul_ceil(auction.lot).min(cap);
			Self::seize_rest(&auction.borrower, auction.collateral_asset, share)?
		} else {
			0
		};
		Auctions::<T>::remove(id);
		BorrowerAuction::<T>::remove(&auction.borrower);
		Self::deposit_event(Event::AuctionEnded {
			id,
			borrower: auction.borrower,
			reason,
			to_insurance,
			returned: auction.lot.saturating_sub(to_insurance),
			unpaid: auction.tab,
		});
		Ok(())
	}

	/// The market's liquidation bonus on what `auction`'s takes repaid, in collateral units at
	/// the oracle now (the ends that favour the borrower; rounded up, then the bonus rounded
	/// up: at most a unit or two in the treasury's favour).
	fn penalty_on(auction: &AuctionOf<T>) -> Result<u128, DispatchError> {
		let (debt_price, collateral_price) =
			Self::pair_prices(&auction.debt_asset, &auction.collateral_asset)?;
		let units = multiply_by_rational_with_rounding(
			auction.repaid,
			debt_price.into_inner(),
			collateral_price.into_inner(),
			Rounding::Up,
		)
		.ok_or_else(overflow::<T>)?;
		let bonus = T::Lending::market_params(&auction.collateral_asset)
			.map(|m| m.liquidation_bonus)
			.unwrap_or_default();
		Ok(bonus.mul_ceil(units))
	}

	/// Whether `redo(id)` would succeed now (a dry run, rolled back): a reset is due, or there
	/// is nothing left to do and the auction may be closed.
	pub fn redo_due(id: u32) -> bool {
		frame_support::storage::with_transaction(|| {
			let due = Self::do_redo(id).is_ok();
			frame_support::storage::TransactionOutcome::Rollback(Ok::<_, DispatchError>(due))
		})
		.unwrap_or(false)
	}

	/// `take` at its worst: the take that sells out the lot, then the loss waterfall over
	/// every debt.
	pub fn take_weight() -> Weight {
		T::WeightInfo::take()
			.saturating_add(Self::cover_shortfall_weight(T::MaxDebts::get()))
			.saturating_add(Self::treasury_extra_weight())
			// The borrower filed anew at the end ([`Self::deferring`]).
			.saturating_add(Self::filing_weight())
	}

	/// `redo` at its worst: a reset or a close (each benchmarked).
	pub fn redo_weight() -> Weight {
		T::WeightInfo::redo().max(T::WeightInfo::redo_close())
	}

	/// Every live auction with its price now and whether it needs a reset.
	pub fn auction_statuses() -> alloc::vec::Vec<AuctionStatus<T::AccountId, T::AssetId>> {
		let params = AuctionParameters::<T>::get();
		let now = Self::block_number_u32();
		Auctions::<T>::iter()
			.map(|(id, auction)| {
				let price = auction.price(params.step, now);
				let needs_reset =
					Self::oracle_ratio(&auction.collateral_asset, &auction.debt_asset)
						.ok()
						.map(|oracle| auction.needs_reset(&params, now, oracle));
				AuctionStatus { id, auction, price, needs_reset, redo_due: Self::redo_due(id) }
			})
			.collect()
	}

	pub(crate) fn do_set_auction_params(
		params: AuctionParams,
		authority: Authority,
	) -> DispatchResult {
		params.validate().map_err(|e| match e {
			AuctionParamsError::Buf => Error::<T>::AuctionBufOutOfRange,
			AuctionParamsError::Step => Error::<T>::AuctionStepOutOfRange,
			AuctionParamsError::Floor => Error::<T>::AuctionFloorOutOfRange,
			AuctionParamsError::Cusp => Error::<T>::AuctionCuspOutOfRange,
			AuctionParamsError::Tail => Error::<T>::AuctionTailOutOfRange,
		})?;
		let old = AuctionParameters::<T>::get();
		Self::on_rails(ParamRecord::Auction, authority, |s| {
			s.points("buf", old.buf, params.buf)
				.points("step", old.step, params.step)
				.points("floor", old.floor, params.floor)
				.points("cusp", old.cusp, params.cusp)
				.amount("tail", old.tail.into(), params.tail.into())
		})?;
		AuctionParameters::<T>::put(params);
		Self::deposit_event(Event::AuctionParamsSet { params });
		Ok(())
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn params() -> AuctionParams {
		AuctionParams {
			buf: Permill::from_percent(10),
			step: Permill::from_percent(1),
			floor: Permill::from_percent(20),
			cusp: Permill::from_percent(30),
			tail: 100,
		}
	}

	fn auction(top: FixedU128, floor: FixedU128) -> Auction<u64, u32> {
		Auction {
			borrower: 1,
			collateral_asset: 1,
			debt_asset: 2,
			lot: 1_000,
			tab: 90_000,
			top,
			floor,
			started: 10,
			resets: 0,
			repaid: 0,
		}
	}

	#[test]
	fn every_bound_is_refused_by_name() {
		assert_eq!(params().validate(), Ok(()));
		let with = |f: fn(&mut AuctionParams)| {
			let mut p = params();
			f(&mut p);
			p.validate()
		};
		assert_eq!(with(|p| p.buf = Permill::from_percent(51)), Err(AuctionParamsError::Buf));
		assert_eq!(with(|p| p.step = Permill::zero()), Err(AuctionParamsError::Step));
		assert_eq!(with(|p| p.step = Permill::from_percent(21)), Err(AuctionParamsError::Step));
		assert_eq!(with(|p| p.floor = Permill::zero()), Err(AuctionParamsError::Floor));
		assert_eq!(with(|p| p.floor = Permill::from_percent(91)), Err(AuctionParamsError::Floor));
		assert_eq!(with(|p| p.cusp = Permill::from_percent(20)), Err(AuctionParamsError::Cusp));
		assert_eq!(with(|p| p.cusp = Permill::one()), Err(AuctionParamsError::Cusp));
		assert_eq!(with(|p| p.tail = 0), Err(AuctionParamsError::Tail));
		assert_eq!(with(|p| p.tail = 100_001), Err(AuctionParamsError::Tail));
		assert_eq!(with(|p| p.buf = Permill::zero()), Ok(()));
	}

	#[test]
	fn the_price_starts_above_the_oracle_and_falls_each_block_to_the_floor() {
		let p = params();
		let (top, floor) = p.start_prices(FixedU128::from_u32(90));
		assert_eq!((top, floor), (FixedU128::from_u32(99), FixedU128::from_u32(72)));
		let a = auction(top, floor);
		assert_eq!(a.price(p.step, 10), top);
		// Before the start (cannot happen) the price is the top.
		assert_eq!(a.price(p.step, 5), top);
		assert_eq!(a.price(p.step, 11), FixedU128::from_rational(9_801, 100));
		// 99 × 0.99^n computed here in floating point: within 1e-9.
		for n in [2u32, 5, 10, 20] {
			let expected = 99.0 * 0.99f64.powi(n as i32);
			let got = a.price(p.step, 10 + n).to_float();
			assert!((got - expected).abs() < 1e-9, "{n}: {got} vs {expected}");
		}
		// 99 × 0.99^n < 72 from n = 32 on: the floor holds it.
		assert!(a.price(p.step, 10 + 31) > floor);
		assert_eq!(a.price(p.step, 10 + 32), floor);
		assert_eq!(a.price(p.step, 10 + 10_000), floor);
		assert_eq!(a.price(p.step, u32::MAX), floor);
	}

	#[test]
	fn a_reset_is_needed_when_too_old_or_too_far_below_the_oracle() {
		let p = params();
		let (top, floor) = p.start_prices(FixedU128::from_u32(90));
		let a = auction(top, floor);
		let oracle = FixedU128::from_u32(90);
		// At the floor with the oracle where it started: no reset (cusp > floor).
		assert!(!a.needs_reset(&p, 10 + 50, oracle));
		// Older than the tail.
		assert!(!a.needs_reset(&p, 10 + 100, oracle));
		assert!(a.needs_reset(&p, 10 + 101, oracle));
		// The oracle rose: the floor (72) is now more than 30% below 103 (72.1).
		assert!(!a.needs_reset(&p, 10 + 50, FixedU128::from_u32(102)));
		assert!(a.needs_reset(&p, 10 + 50, FixedU128::from_u32(103)));
		// Early on the price is still high: no reset at that oracle.
		assert!(!a.needs_reset(&p, 10, FixedU128::from_u32(103)));
		// The oracle fell through the floor (72): nobody would take at the floor any more.
		assert!(a.needs_reset(&p, 10 + 50, FixedU128::from_rational(7_199, 100)));
		assert!(a.needs_reset(&p, 10, FixedU128::from_u32(60)));
		// The oracle fell to where the floor, reached, is less than half its 20% below it
		// (72 against 80 is 10%): reset; at 80 and above, or before the floor, not.
		assert!(!a.needs_reset(&p, 10 + 50, FixedU128::from_u32(80)));
		assert!(a.needs_reset(&p, 10 + 50, FixedU128::from_rational(7_999, 100)));
		assert!(a.needs_reset(&p, 10 + 50, FixedU128::from_u32(72)));
		assert!(a.price(p.step, 10 + 31) > floor);
		assert!(!a.needs_reset(&p, 10 + 31, FixedU128::from_u32(75)));
		assert!(a.needs_reset(&p, 10 + 32, FixedU128::from_u32(75)));
	}
}
