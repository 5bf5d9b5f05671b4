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
use pallet_lending::LendingPositions;
use sp_arithmetic::{FixedU128, PerThing, Permill, Rational128, Rounding};

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
	/// `prices` (collateral, debt), best first, each asking at most `max_discount` and none
	/// owned by one of `sellers` (the accounts whose collateral is sold: a seizure to oneself
	/// is refused); less in all when the book holds less. Changes nothing.
	fn quote(
		collateral: AssetId,
		debt: AssetId,
		repay: u128,
		prices: (FixedU128, FixedU128),
		max_discount: Permill,
		sellers: &[AccountId],
	) -> Vec<BidFill<AccountId>>;
	/// Makes `fill` (quoted in this block): its debt paid to `to` from the bid's hold.
	fn take(fill: &BidFill<AccountId>, to: &AccountId) -> DispatchResult;
	/// What `quote` costs at its worst.
	fn quote_weight() -> Weight;
	/// What one `take` costs at its worst.
	fn take_weight() -> Weight;
	/// Most fills one quote returns.
	fn max_fills() -> u32;
	/// Whether `(collateral, debt)`'s book holds a bid (active or not): a pair without one
	/// sells nothing to the bids. For the offchain worker's sizing of a batch.
	fn has_bids(collateral: AssetId, debt: AssetId) -> bool;
}

impl<AccountId, AssetId> StandingBids<AccountId, AssetId> for () {
	fn quote(
		_: AssetId,
		_: AssetId,
		_: u128,
		_: (FixedU128, FixedU128),
		_: Permill,
		_: &[AccountId],
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
	fn has_bids(_: AssetId, _: AssetId) -> bool {
		false
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
		// A sale the DEX would cut (to the breaker's cap) does not sell the position now: the
		// rest would wait for a later block's cap.
		let dex = quote
			.as_ref()
			.ok()
			.filter(|_| plan.repay == original.repay)
			.map(|dex| (dex.input, plan.repay));
		match Self::bid_offer(borrower, original, false) {
			Some(offer) => Self::bids_beat(offer.input, offer.plan.repay, dex).then_some(offer),
			// The part the bids cover only when the DEX refuses (a cut sale goes on the DEX).
			None if quote.is_err() => Self::bid_offer(borrower, original, true),
			None => None,
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
				core::slice::from_ref(borrower),
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

	/// Whether a sale to the bids that pays `repay` for `input` collateral is taken instead of
	/// the DEX's `verdict` (`Some((input, repay))`: what the DEX would take for what it would
	/// repay; `None`: it would not sell the position now): when the DEX would not, or would
	/// take more collateral for each unit repaid (exactly, as fractions). The one rule
	/// `settle` and `settle_batch` (and `preview`) apply.
	pub(crate) fn bids_beat(input: u128, repay: u128, verdict: Option<(u128, u128)>) -> bool {
		match verdict {
			Some((dex_input, dex_repay)) if dex_repay > 0 && repay > 0 => {
				Rational128::from(input, repay) < Rational128::from(dex_input, dex_repay)
			},
			Some(_) => repay > 0,
			None => true,
		}
	}

	/// A batch's pair sold to the standing bids (#28): the lot of `members` goes to the bids
	/// when, on an agreed price of a collateral not halted, they pay the pair's whole
	/// repayment, beat the DEX's `verdict` on the lot ([`Self::bids_beat`]: it would sell none
	/// of it, or only part of it for the block's caps, or take more collateral for each unit
	/// repaid: when it leaves members out over their bound, the price it gives the rest), and
	/// each position's
	/// pro-rata share stays within its own bound. No member's own bid fills (the book is asked
	/// for bids of none of them). No breaker cap, no pool depth: nothing is sold into the
	/// pool; no cash but the treasury's rests when it is full ([`Self::rests_in_tokens`]:
	/// without that cash the bids cannot buy the lot, and it is the DEX's, whatever the
	/// witness). A sale the bids could make for more positions than `bids_left` (the witness's
	/// `bids` not yet taken by earlier pairs) is not made and its members are skipped
	/// ([`Skipped::OverBids`]), not sold on the DEX: a caller cannot make the DEX's worse price
	/// the borrowers' by declaring less. Returns the borrowers settled (none when skipped), or
	/// the members back for the DEX (the book untouched).
	#[allow(clippy::type_complexity)]
	pub(crate) fn sell_pair_to_bids(
		caller: &T::AccountId,
		(collateral, debt): (T::AssetId, T::AssetId),
		members: Vec<crate::batch::Member<T>>,
		verdict: &crate::batch::PairVerdict<T::AccountId>,
		(report, bids_left): (&mut crate::batch::BatchReport<T::AccountId>, &mut u32),
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
		let sellers: Vec<T::AccountId> = members.iter().map(|m| m.borrower.clone()).collect();
		let fills = T::Bids::quote(
			collateral,
			debt,
			total,
			(first.collateral_price, first.debt_price),
			max_discount,
			&sellers,
		);
		let paid = fills.iter().fold(0u128, |sum, f| sum.saturating_add(f.debt));
		let input = fills.iter().fold(0u128, |sum, f| sum.saturating_add(f.collateral));
		let own = fills.iter().any(|f| sellers.contains(&f.owner));
		if fills.is_empty() || paid != total || own {
			return Ok(Err(members));
		}
		// A lot the DEX would sell only in part for the block's caps counts as one it would
		// not sell now: the bids may take it whole (as before the lot was trimmed).
		let dex = verdict
			.sale
			.as_ref()
			.ok()
			.filter(|sale| !sale.trimmed)
			.map(|sale| (sale.input, sale.total));
		if !Self::bids_beat(input, total, dex) {
			return Ok(Err(members));
		}
		let Some((exact, charged)) = crate::math::pro_rata(input, &repays) else {
			return Ok(Err(members));
		};
		let params = Params::<T>::get();
		if members.iter().zip(&charged).any(|(m, c)| *c > Self::dex_bound(&m.plan, &params)) {
			return Ok(Err(members));
		}
		let lot = Self::lot(&members, (&exact, &charged), false)?;
		// The treasury full, the rests are paid in tokens, from the collateral market's cash
		// ([`Self::rests_in_tokens`]): without that cash the sale would fail at its last step, after
		// the lending pass over every member, and the DEX would then sell its part in a second
		// pass, uncharged (found by review, session 32: a lot the DEX sells only in part needs
		// less cash than the bids' rests of the whole). The DEX's verdict checks the same.
		if Self::rests_in_tokens(&collateral, &lot) > T::Lending::available_cash(&collateral) {
			return Ok(Err(members));
		}
		let count = u32::try_from(members.len()).unwrap_or(u32::MAX);
		if count > *bids_left {
			for member in &members {
				Self::skip(report, &member.borrower, Skipped::OverBids);
			}
			return Ok(Ok(Vec::new()));
		}
		// Charged when tried: a sale that fails did its fills before it was rolled back.
		report.bids_sold = report.bids_sold.saturating_add(1);
		report.bids_members = report.bids_members.saturating_add(count);
		*bids_left = bids_left.saturating_sub(count);
		let seized =
			match Self::bids_buy_pair(caller, (collateral, debt), &members, (&exact, &lot), &fills)
			{
				Ok(seized) => seized,
				Err(e) => {
					log::debug!(target: "runtime::liquidation", "batch sale to bids failed: {e:?}");
					return Ok(Err(members));
				},
			};
		let route = Route::Bids { fills: u32::try_from(fills.len()).unwrap_or(u32::MAX) };
		Self::settle_members(
			caller,
			(collateral, debt),
			members,
			(&exact, &charged),
			(total, input),
			(route, &seized),
		)
		.map(Ok)
	}

	/// The pair's sale to `fills`, all or nothing: each bid's payment taken into the working
	/// account, each position's `shares` seized straight to the bids' owners as lending supply
	/// (the shares and the fills' collateral are two partitions of one lot: walked together,
	/// each piece one seizure), the rest of the `lot` seized and the positions repaid from the
	/// working account in one pass ([`Self::settle_lot`]). It ends with no tokens
	/// and no position. Returns each position's `(tip, to the treasury)`.
	#[allow(clippy::type_complexity)]
	fn bids_buy_pair(
		caller: &T::AccountId,
		(collateral, debt): (T::AssetId, T::AssetId),
		members: &[crate::batch::Member<T>],
		(shares, lot): (&[u128], &[pallet_lending::LotSeizure<T::AccountId>]),
		fills: &[BidFill<T::AccountId>],
	) -> Result<Vec<(u128, u128)>, DispatchError> {
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
			let (seized, ()) =
				Self::settle_lot(caller, (collateral, debt), members, lot, || Ok(()))?;
			Ok(seized)
		})
	}
}
