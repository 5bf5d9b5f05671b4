//! Read-only views (preview, the treasury, who is liquidatable) and the pallet's invariants.

use crate::{index::RiskCursorOf, pallet::*, types::*};
use alloc::vec::Vec;
use frame_support::{pallet_prelude::DispatchError, traits::fungibles::Inspect};
use pallet_lending::LendingPositions;

impl<T: Config> Pallet<T> {
	/// A dry run of `settle(borrower)` (the `preview` view and runtime API).
	pub fn do_preview(borrower: &T::AccountId) -> Result<Preview<T::AssetId>, DispatchError> {
		let plan = Self::settle_plan(borrower)?;
		if plan.debt_asset == plan.collateral_asset {
			return Ok(Preview {
				health: plan.health.factor,
				debt_asset: plan.debt_asset,
				collateral_asset: plan.collateral_asset,
				repay: plan.repay,
				collateral_due: plan.collateral,
				discount: plan.discount,
				dex_input: None,
				bid_input: None,
				route: Ok(Route::Net),
				returned: 0,
			});
		}
		let original = plan;
		let (plan, quote) = Self::dex_sale(borrower, plan, &mut Default::default());
		let (collateral, debt) = (plan.collateral_asset, plan.debt_asset);
		let agreed =
			!Self::pair_held(&collateral, &debt) && !Self::pair_disputed(&collateral, &debt);
		// The DEX's quote, read once: the refusals of the quote carry it.
		let dex_input = match &quote {
			Ok(quote) => Some(quote.input),
			Err(DexRefusal::SlippageExceeded { quote, .. }) => Some(*quote),
			Err(DexRefusal::NoCash { needed, .. }) => Some(*needed),
			Err(
				DexRefusal::NoPool
				| DexRefusal::SwapFailed
				| DexRefusal::Halted
				| DexRefusal::PriceUnconfirmed
				| DexRefusal::Throttled { .. },
			) => None,
		};
		// The standing bids, when `settle` would sell to them.
		if let Some(sale) = Self::bids_instead(borrower, &original, &plan, &quote, agreed) {
			let (to_insurance, tip) =
				Self::split_penalty(&sale.plan, sale.input, &crate::Params::<T>::get());
			let plan = sale.plan;
			return Ok(Preview {
				health: plan.health.factor,
				debt_asset: plan.debt_asset,
				collateral_asset: plan.collateral_asset,
				repay: plan.repay,
				collateral_due: plan.collateral,
				discount: plan.discount,
				dex_input,
				bid_input: Some(sale.input),
				route: Ok(Route::Bids {
					fills: u32::try_from(sale.fills.len()).unwrap_or(u32::MAX),
				}),
				returned: plan
					.collateral
					.saturating_sub(sale.input)
					.saturating_sub(to_insurance)
					.saturating_sub(tip),
			});
		}
		let bid_input = Self::bids_may_buy(&collateral, agreed)
			.then(|| Self::bid_offer(borrower, &original, false).map(|sale| sale.input))
			.flatten();
		let (route, returned) = match quote {
			Ok(quote) => (
				Ok(Route::Dex),
				plan.collateral
					.saturating_sub(quote.input)
					.saturating_sub(quote.to_insurance)
					.saturating_sub(quote.tip),
			),
			// The guard holds a price: only the DEX may sell, within its bound.
			Err(_) if Self::pair_held(&plan.collateral_asset, &plan.debt_asset) => {
				(Err(DexRefusal::PriceUnconfirmed), plan.collateral)
			},
			// A marginal position held back by a block's cap waits in the queue.
			Err(dex) if Self::overflow_waits(&plan, &dex) => (Err(dex), plan.collateral),
			// Disputed: no backstop (its price may be one feeder's raised end).
			Err(dex)
				if !Self::pair_disputed(&plan.collateral_asset, &plan.debt_asset)
					&& Self::backstop_room(plan.debt_asset, plan.repay).is_some() =>
			{
				(
					Ok(Route::Backstop { dex }),
					plan.collateral.saturating_sub(Self::backstop_take(&plan)),
				)
			},
			// A deep one beyond the backstop goes to an auction, as an unsellable one does.
			Err(dex) if Self::may_start_auction(borrower).is_ok() => {
				(Ok(Route::Auction { dex }), plan.collateral)
			},
			Err(dex) => (Err(dex), plan.collateral),
		};
		Ok(Preview {
			health: plan.health.factor,
			debt_asset: plan.debt_asset,
			collateral_asset: plan.collateral_asset,
			repay: plan.repay,
			collateral_due: plan.collateral,
			discount: plan.discount,
			dex_input,
			bid_input,
			route,
			returned,
		})
	}

	/// The insurance treasury's holdings in every market's asset: `(asset, tokens held, lending
	/// supply held)`.
	pub fn insurance_fund() -> alloc::vec::Vec<(T::AssetId, u128, u128)> {
		let treasury = Self::insurance_account();
		T::Lending::markets()
			.into_iter()
			.map(|asset| {
				let tokens = T::Assets::balance(asset, &treasury);
				let supplied = T::Lending::supplied(&treasury, &asset).unwrap_or_default();
				(asset, tokens, supplied)
			})
			.collect()
	}

	/// Accounts below health 1 with their health, among up to `limit` accounts the risk index
	/// reports from `start` (riskiest first), and where the next page starts (`None` at the
	/// end). Accounts whose health cannot be computed (a stale price) are left out.
	pub fn liquidatable(
		start: Option<RiskCursorOf<T>>,
		limit: u32,
	) -> LiquidatablePage<T::AccountId, T::AssetId> {
		let (candidates, next) = Self::at_risk(start, limit);
		let found = candidates
			.into_iter()
			.filter_map(|who| Self::liquidatable_health(&who).map(|factor| (who, factor)))
			.collect();
		(found, next)
	}

	/// A page of a full scan: accounts below health 1 among up to `limit` accounts with
	/// positions after `after`, and where the next page starts. What catches anything the
	/// index could miss (the offchain worker's slow sweep).
	pub fn sweep(
		after: Option<T::AccountId>,
		limit: u32,
	) -> (Vec<T::AccountId>, Option<T::AccountId>) {
		let page = T::Lending::accounts(after, limit);
		let next = if page.len() >= usize::try_from(limit).unwrap_or(usize::MAX) {
			page.last().cloned()
		} else {
			None
		};
		let found = page.into_iter().filter(|who| Self::may_settle(who)).collect();
		(found, next)
	}

	/// Invariants: the parameters are valid; every auction and its borrower point at each
	/// other; the working account holds no lending position between calls.
	#[cfg(any(test, feature = "std", feature = "try-runtime"))]
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		use frame_support::{ensure, traits::Get};
		ensure!(
			Params::<T>::get().validate(T::MaxDustValue::get()).is_ok(),
			"liquidation parameters out of their bounds"
		);
		for (id, auction) in Auctions::<T>::iter() {
			ensure!(
				BorrowerAuction::<T>::get(&auction.borrower) == Some(id),
				"an auction's borrower does not point back to it"
			);
		}
		ensure!(
			u32::try_from(BorrowerAuction::<T>::iter().count()).ok()
				== Some(Auctions::<T>::count()),
			"a borrower points to an auction that does not exist"
		);
		let working = T::Lending::account_assets(&Self::account_id());
		ensure!(
			working.supplies.is_empty() && working.debts.is_empty(),
			"the working account holds a lending position between calls"
		);
		Self::index_try_state()
	}
}
