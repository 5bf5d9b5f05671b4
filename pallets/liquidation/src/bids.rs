//! The bids route (#28): a seizure bought by market makers' standing bids (the runtime wires
//! `pallet-bids`), tried before the DEX when they pay more for the collateral, or when the DEX
//! cannot take it. Each bid pays in its held debt asset and receives its part of the
//! collateral as lending supply (no cash needed); what the bids leave of the discount is split
//! as a DEX sale's (the treasury's share, the caller's tip, the rest stays the borrower's).
//! Only on an agreed price: a price the guard holds or the feeders dispute is not one a
//! bidder quoted against.

use crate::{pallet::*, plan::Plan, types::*};
use alloc::vec::Vec;
use frame_support::{
	pallet_prelude::{DispatchError, DispatchResult, Weight},
	storage::with_storage_layer,
};
use pallet_asset_conversion::QuotePrice;
use pallet_lending::LendingPositions;
use sp_arithmetic::{FixedU128, PerThing, Permill, Rounding};

/// One standing bid's part of a seizure, as the bid book quotes it.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct BidFill<AccountId> {
	/// The bid.
	pub id: u64,
	/// Its owner: receives the collateral, as lending supply.
	pub owner: AccountId,
	/// Collateral units it takes.
	pub collateral: u128,
	/// Debt units it pays.
	pub debt: u128,
}

/// Market makers' standing bids to buy a collateral for a debt asset at a discount to the
/// oracle (the runtime wires `pallet-bids`; `()` is a chain without them).
pub trait StandingBids<AccountId, AssetId> {
	/// The best usable bids' fills paying up to `repay` of `debt` for `collateral` at
	/// `prices` (collateral, debt), best first, each asking at most `max_discount` and none of
	/// `seller`'s own; less in all when the book holds less. Changes nothing.
	fn quote(
		collateral: AssetId,
		debt: AssetId,
		repay: u128,
		prices: (FixedU128, FixedU128),
		max_discount: Permill,
		seller: &AccountId,
	) -> Vec<BidFill<AccountId>>;
	/// Makes `fill` (quoted in this block): its debt paid to `to` from the bid's hold.
	fn take(fill: &BidFill<AccountId>, to: &AccountId) -> DispatchResult;
	/// What `quote` costs at its worst.
	fn quote_weight() -> Weight;
	/// What one `take` costs at its worst.
	fn take_weight() -> Weight;
	/// Most fills one quote returns.
	fn max_fills() -> u32;
}

impl<AccountId, AssetId> StandingBids<AccountId, AssetId> for () {
	fn quote(
		_: AssetId,
		_: AssetId,
		_: u128,
		_: (FixedU128, FixedU128),
		_: Permill,
		_: &AccountId,
	) -> Vec<BidFill<AccountId>> {
		Vec::new()
	}
	fn take(_: &BidFill<AccountId>, _: &AccountId) -> DispatchResult {
		Err(DispatchError::Other("no bid book"))
	}
	fn quote_weight() -> Weight {
		Weight::zero()
	}
	fn take_weight() -> Weight {
		Weight::zero()
	}
	fn max_fills() -> u32 {
		0
	}
}

/// A bid route worked out: the plan it settles, the fills and the collateral they take.
pub(crate) struct BidSale<AccountId, AssetId> {
	pub(crate) plan: Plan<AssetId>,
	pub(crate) fills: Vec<BidFill<AccountId>>,
	pub(crate) input: u128,
}

impl<T: Config> Pallet<T> {
	/// The bids route at its worst: asking the book ([`Self::bid_quote_weight`]) and every
	/// fill ([`Self::bid_fills_weight`]); the repayment and the penalty's split are within the
	/// DEX route's measured work, which `settle` counts beside it.
	pub fn bids_weight() -> Weight {
		Self::bid_quote_weight().saturating_add(Self::bid_fills_weight())
	}

	/// Asking the book at its worst: two quotes and a plan (the offer cut to what the book
	/// covers). Charged to every `settle` on an agreed price, whatever route it then takes.
	pub(crate) fn bid_quote_weight() -> Weight {
		T::Bids::quote_weight().saturating_mul(2).saturating_add(Self::extra_plans_weight(1))
	}

	/// Every fill of a sale to the bids (each a bid's payment and a seizure to its owner):
	/// charged when the sale is tried, whether it is made or falls back to the DEX.
	pub(crate) fn bid_fills_weight() -> Weight {
		T::Bids::take_weight()
			.saturating_add(T::Lending::seize_collateral_weight())
			.saturating_mul(u64::from(T::Bids::max_fills()))
	}

	/// The largest discount a bid may ask to fill `plan`: what keeps its collateral within
	/// the DEX's bound (`max_slippage` above the oracle) and the plan's own discount. A bid at
	/// `d` takes `1 / (1 - d)` of the oracle's amount: `d ≤ x / (1 + x)`, rounded down.
	pub(crate) fn max_bid_discount(plan: &Plan<T::AssetId>) -> Permill {
		let x = Params::<T>::get().max_slippage.min(plan.discount).deconstruct();
		Permill::from_rational_with_rounding(x, Permill::ACCURACY.saturating_add(x), Rounding::Down)
			.unwrap_or_default()
	}

	/// Whether bids may buy `collateral` now: an `agreed` price, a collateral not halted.
	pub(crate) fn bids_may_buy(collateral: &T::AssetId, agreed: bool) -> bool {
		agreed && Self::pair_gate(collateral).is_ok()
	}

	/// The bids' sale `settle` makes instead of the DEX's (`None`: the DEX route as before):
	/// `original` is the plan before the DEX's quote, `plan` and `quote` after it (a plan cut
	/// to the breaker's cap, or the DEX's refusal). Only on an `agreed` price (neither held nor
	/// disputed: not one a bidder quoted against) of a collateral not halted (a guardian's or
	/// the breaker's halt stops every sale at the oracle's price but the backstop's). The bids
	/// when they cover the plan for less collateral than the DEX takes, or when the DEX settles
	/// less (cut) or nothing; when the DEX refuses and the bids cover part, that part.
	pub(crate) fn bids_instead(
		borrower: &T::AccountId,
		original: &Plan<T::AssetId>,
		plan: &Plan<T::AssetId>,
		quote: &Result<crate::dex::DexQuote, DexRefusal>,
		agreed: bool,
	) -> Option<BidSale<T::AccountId, T::AssetId>> {
		if !Self::bids_may_buy(&original.collateral_asset, agreed) {
			return None;
		}
		match (Self::bid_offer(borrower, original, false), quote) {
			(Some(offer), Ok(dex)) => {
				(plan.repay != original.repay || offer.input < dex.input).then_some(offer)
			},
			(Some(offer), Err(_)) => Some(offer),
			(None, Err(_)) => Self::bid_offer(borrower, original, true),
			(None, Ok(_)) => None,
		}
	}

	/// The bids' offer for `plan`: fills paying exactly its repayment and taking at most the
	/// DEX's bound of collateral; `None` otherwise. With `cut`, when the book covers only part,
	/// the offer for `plan` cut to that part (planned again: `borrower`'s plan for the smaller
	/// repayment, whose quote must then cover it).
	pub(crate) fn bid_offer(
		borrower: &T::AccountId,
		plan: &Plan<T::AssetId>,
		cut: bool,
	) -> Option<BidSale<T::AccountId, T::AssetId>> {
		let quote = |plan: &Plan<T::AssetId>| {
			T::Bids::quote(
				plan.collateral_asset,
				plan.debt_asset,
				plan.repay,
				(plan.collateral_price, plan.debt_price),
				Self::max_bid_discount(plan),
				borrower,
			)
		};
		let fills = quote(plan);
		let paid = fills.iter().fold(0u128, |sum, f| sum.saturating_add(f.debt));
		let (plan, fills) = if paid == plan.repay {
			(*plan, fills)
		} else if cut && paid > 0 {
			let smaller =
				Self::plan(borrower, plan.debt_asset, plan.collateral_asset, Some(paid)).ok()?;
			let fills = quote(&smaller);
			let paid = fills.iter().fold(0u128, |sum, f| sum.saturating_add(f.debt));
			if paid != smaller.repay {
				return None;
			}
			(smaller, fills)
		} else {
			return None;
		};
		let input = fills.iter().fold(0u128, |sum, f| sum.saturating_add(f.collateral));
		if fills.is_empty() || input > Self::dex_bound(&plan, &Params::<T>::get()) {
			return None;
		}
		Some(BidSale { plan, fills, input })
	}

	/// Makes `sale`: each bid pays its part of the debt into the working account and receives
	/// its collateral from `borrower` as lending supply; the debt is repaid. Changes nothing if
	/// any part fails (a bid gone or an owner that cannot take a position: the caller falls
	/// back to the DEX).
	pub(crate) fn sell_to_bids(
		borrower: &T::AccountId,
		sale: &BidSale<T::AccountId, T::AssetId>,
	) -> DispatchResult {
		with_storage_layer(|| {
			let account = Self::account_id();
			let collateral = sale.plan.collateral_asset;
			for fill in &sale.fills {
				T::Bids::take(fill, &account)?;
				T::Lending::seize_collateral(borrower, &collateral, fill.collateral, &fill.owner)?;
			}
			T::Lending::repay_debt(&account, borrower, &sale.plan.debt_asset, sale.plan.repay)
		})
	}

	/// A batch's pair sold to the standing bids (#28): the lot of `members` goes to the bids
	/// when, on an agreed price of a collateral not halted, they pay the pair's whole
	/// repayment, take less collateral for it than the DEX would (or the DEX cannot quote it),
	/// none is a member's own, and each position's pro-rata share stays within its own bound.
	/// No cash, no breaker cap, no pool depth: nothing is sold into the pool. Returns the
	/// borrowers settled, or the members back for the DEX (the book untouched).
	#[allow(clippy::type_complexity)]
	pub(crate) fn sell_pair_to_bids(
		caller: &T::AccountId,
		collateral: T::AssetId,
		debt: T::AssetId,
		members: Vec<crate::batch::Member<T>>,
		report: &mut crate::batch::BatchReport<T::AccountId>,
	) -> Result<Result<Vec<T::AccountId>, Vec<crate::batch::Member<T>>>, DispatchError> {
		let agreed =
			!Self::pair_held(&collateral, &debt) && !Self::pair_disputed(&collateral, &debt);
		let Some(first) = members.first().map(|m| m.plan) else { return Ok(Err(members)) };
		if !Self::bids_may_buy(&collateral, agreed) {
			return Ok(Err(members));
		}
		report.bids_asked = report.bids_asked.saturating_add(1);
		let repays: Vec<u128> = members.iter().map(|m| m.plan.repay).collect();
		let total = repays
			.iter()
			.try_fold(0u128, |sum, r| sum.checked_add(*r))
			.ok_or_else(crate::plan::overflow::<T>)?;
		let max_discount =
			members.iter().map(|m| Self::max_bid_discount(&m.plan)).min().unwrap_or_default();
		let fills = T::Bids::quote(
			collateral,
			debt,
			total,
			(first.collateral_price, first.debt_price),
			max_discount,
			&first_member(&members),
		);
		let paid = fills.iter().fold(0u128, |sum, f| sum.saturating_add(f.debt));
		let input = fills.iter().fold(0u128, |sum, f| sum.saturating_add(f.collateral));
		let own = fills.iter().any(|f| members.iter().any(|m| m.borrower == f.owner));
		if fills.is_empty() || paid != total || own {
			return Ok(Err(members));
		}
		let dex = T::Dex::quote_price_tokens_for_exact_tokens(
			Self::dex_asset(collateral),
			Self::dex_asset(debt),
			total,
			true,
		);
		if dex.is_some_and(|dex| dex <= input) {
			return Ok(Err(members));
		}
		let Some((exact, charged)) = crate::math::pro_rata(input, &repays) else {
			return Ok(Err(members));
		};
		let params = Params::<T>::get();
		if members.iter().zip(&charged).any(|(m, c)| *c > Self::dex_bound(&m.plan, &params)) {
			return Ok(Err(members));
		}
		// Charged when tried: a sale that fails did its fills before it was rolled back.
		report.bids_sold = report.bids_sold.saturating_add(1);
		if let Err(e) = Self::bids_buy_pair(collateral, debt, &members, &exact, &fills) {
			log::debug!(target: "runtime::liquidation", "batch sale to bids failed: {e:?}");
			return Ok(Err(members));
		}
		let route = Route::Bids { fills: u32::try_from(fills.len()).unwrap_or(u32::MAX) };
		Self::settle_members(
			caller,
			(collateral, debt),
			members,
			(&exact, &charged),
			(total, input),
			route,
		)
		.map(Ok)
	}

	/// The pair's sale to `fills`, all or nothing: each bid's payment taken into the working
	/// account, each position's `shares` seized straight to the bids' owners as lending supply
	/// (the shares and the fills' collateral are two partitions of one lot: walked together,
	/// each piece one seizure), each position repaid from the working account. It ends with
	/// no tokens and no position.
	fn bids_buy_pair(
		collateral: T::AssetId,
		debt: T::AssetId,
		members: &[crate::batch::Member<T>],
		shares: &[u128],
		fills: &[BidFill<T::AccountId>],
	) -> DispatchResult {
		with_storage_layer(|| {
			let account = Self::account_id();
			for fill in fills {
				T::Bids::take(fill, &account)?;
			}
			let mut fills_left = fills.iter().map(|f| (&f.owner, f.collateral));
			let mut current = fills_left.next();
			for (member, share) in members.iter().zip(shares.iter().copied()) {
				let mut left = share;
				while left > 0 {
					let (owner, room) = current.as_mut().ok_or(Error::<T>::Overflow)?;
					let part = left.min(*room);
					if part > 0 {
						T::Lending::seize_collateral(&member.borrower, &collateral, part, owner)?;
					}
					left = left.saturating_sub(part);
					*room = room.saturating_sub(part);
					if room == &0 {
						current = fills_left.next();
					}
				}
			}
			// Smallest repayment first (as the DEX's sale: the working account is not reaped
			// before the last).
			let mut repays: Vec<&crate::batch::Member<T>> = members.iter().collect();
			repays.sort_by_key(|member| member.plan.repay);
			for member in repays {
				T::Lending::repay_debt(&account, &member.borrower, &debt, member.plan.repay)?;
			}
			Ok(())
		})
	}
}

/// The first member's account (the seller a quote leaves out; the others are checked after).
fn first_member<T: Config>(members: &[crate::batch::Member<T>]) -> T::AccountId {
	members.first().map(|m| m.borrower.clone()).unwrap_or_else(|| Pallet::<T>::account_id())
}
