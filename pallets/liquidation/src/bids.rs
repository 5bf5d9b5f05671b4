//! The bids route (#28): a seizure bought by market makers' standing bids (the runtime wires
//! `pallet-bids`), tried before the DEX when they pay more for the collateral, or when the DEX
//! cannot take it. Each bid pays in its held debt asset and receives its part of the
//! collateral as lending supply (no cash needed); what the bids leave of the discount is split
//! as a DEX sale's (the treasury's share, the caller's tip, the rest stays the borrower's).
//! Only on an agreed price: a price the guard holds or the feeders dispute is not one a
//! bidder quoted against.

use crate::{pallet::*, plan::Plan, types::DexRefusal};
use alloc::vec::Vec;
use frame_support::{
	pallet_prelude::{DispatchError, DispatchResult, Weight},
	storage::with_storage_layer,
};
use pallet_lending::LendingPositions;
use sp_arithmetic::FixedU128;

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
	/// `prices` (collateral, debt), best first; less in all when the book holds less. Changes
	/// nothing.
	fn quote(
		collateral: AssetId,
		debt: AssetId,
		repay: u128,
		prices: (FixedU128, FixedU128),
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
	/// The bids route at its worst: two quotes and a plan (the offer cut to what the book
	/// covers), every fill (each a bid's payment and a seizure to its owner); the repayment
	/// and the penalty's split are within the DEX route's measured work, which `settle` counts
	/// beside it.
	pub fn bids_weight() -> Weight {
		let fills = u64::from(T::Bids::max_fills());
		T::Bids::quote_weight()
			.saturating_mul(2)
			.saturating_add(Self::extra_plans_weight(1))
			.saturating_add(
				T::Bids::take_weight()
					.saturating_add(T::Lending::seize_collateral_weight())
					.saturating_mul(fills),
			)
	}

	/// The bids' sale `settle` makes instead of the DEX's (`None`: the DEX route as before):
	/// `original` is the plan before the DEX's quote, `plan` and `quote` after it (a plan cut
	/// to the breaker's cap, or the DEX's refusal). Only on an `agreed` price. The bids when
	/// they cover the plan for less collateral than the DEX takes, or when the DEX settles
	/// less (cut) or nothing; when the DEX refuses and the bids cover part, that part.
	pub(crate) fn bids_instead(
		borrower: &T::AccountId,
		original: &Plan<T::AssetId>,
		plan: &Plan<T::AssetId>,
		quote: &Result<crate::dex::DexQuote, DexRefusal>,
		agreed: bool,
	) -> Option<BidSale<T::AccountId, T::AssetId>> {
		if !agreed {
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
}
