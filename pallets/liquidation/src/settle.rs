//! `settle`: the protocol's own route, trying netting, the DEX, the backstop and the auction
//! in turn, then the loss waterfall; and its weights.

use crate::{
	pallet::*,
	plan::{overflow, Plan},
	types::*,
	weights::WeightInfo,
};
use frame_support::{
	dispatch::DispatchResultWithPostInfo, ensure, pallet_prelude::Weight, traits::Get,
};
use pallet_lending::LendingPositions;

/// What a settlement step did, in collateral units (`sold + to_insurance + tip + returned =
/// plan.collateral`).
pub(crate) struct Outcome {
	pub(crate) route: Route,
	pub(crate) sold: u128,
	pub(crate) to_insurance: u128,
	pub(crate) tip: u128,
}

impl<T: Config> Pallet<T> {
	/// The backstop route, measured, with the read and write of the block's spending
	/// (`BackstopSpent`, not in the measured benchmark yet).
	pub(crate) fn backstop_weight() -> Weight {
		T::WeightInfo::settle_backstop().saturating_add(T::DbWeight::get().reads_writes(1, 1))
	}

	/// `settle` at its worst: a plan tried against every collateral but the last (each a health
	/// check: the benchmarks measure one), then the DEX sale failing at the swap and the
	/// backstop, or an auction started (or sweeping every collateral as dust), then the loss
	/// waterfall over every debt.
	pub fn settle_weight() -> Weight {
		let max = T::MaxDebts::get();
		// The bids tried first (a fill that fails falls back to the DEX).
		let route = Self::backstop_weight()
			.max(T::WeightInfo::settle_auction())
			.saturating_add(Self::dex_weight())
			.saturating_add(Self::bids_weight());
		Self::extra_plans_weight(max.saturating_sub(1))
			.saturating_add(Self::queue_checks_weight(crate::dex::QUEUE_CHECKS))
			.saturating_add(route.max(Self::sweep_weight(max)))
			.saturating_add(Self::cover_shortfall_weight(max))
			.saturating_add(Self::treasury_extra_weight())
			// The borrower filed anew at the end ([`Self::deferring`]): the benchmarks' chain
			// has no risk epoch, so their wide borrower moves no entry (found by review).
			.saturating_add(Self::filing_weight())
	}

	/// The DEX route, measured, with the pool's depth cap ([`Self::depth_cap_weight`]).
	pub(crate) fn dex_weight() -> Weight {
		T::WeightInfo::settle_dex().saturating_add(Self::depth_cap_weight())
	}

	/// Whether a seizure the DEX refused (`dex`) waits in the sale queue instead of going to
	/// the backstop or an auction: held back by a block's cap (`Throttled`) and marginal, its
	/// health above `health_for_max_discount` (where the whole bonus is paid: below it the
	/// collateral barely covers the debt and its bonus, and waiting risks a loss). #26:
	/// "overflow queues (marginal) or goes to a per-block-limited backstop, then auction
	/// (deep)".
	pub(crate) fn overflow_waits(plan: &Plan<T::AssetId>, dex: &DexRefusal) -> bool {
		matches!(dex, DexRefusal::Throttled { .. })
			&& plan.health.factor > Params::<T>::get().health_for_max_discount
	}

	/// What `settle_unsigned` reserves: `settle`'s weight, its validity check at inclusion
	/// and the return of its unused claim ([`Self::unsigned_checks`]).
	pub fn settle_unsigned_weight() -> Weight {
		Self::settle_weight().saturating_add(Self::unsigned_checks(1))
	}

	/// Plans tried beyond the first.
	pub(crate) fn extra_plans_weight(extra: u32) -> Weight {
		T::Lending::health_weight().saturating_mul(u64::from(extra))
	}

	/// The netting route of `settle`: `plan`'s repayment comes from the borrower's own supply
	/// of the debt's asset (no sale, no discount, no tip).
	fn net(
		caller: &T::AccountId,
		borrower: &T::AccountId,
		plan: &Plan<T::AssetId>,
		plans_weight: Weight,
	) -> DispatchResultWithPostInfo {
		T::Lending::net(borrower, &plan.debt_asset, plan.repay)?;
		Self::deposit_event(Event::Settled {
			borrower: borrower.clone(),
			caller: caller.clone(),
			debt_asset: plan.debt_asset,
			collateral_asset: plan.collateral_asset,
			route: Route::Net,
			repaid: plan.repay,
			collateral_due: plan.collateral,
			sold: plan.collateral,
			to_insurance: 0,
			tip: 0,
			returned: 0,
			discount: plan.discount,
			health: plan.health.factor,
		});
		Self::dequeue(borrower, plan.collateral_asset);
		let debts = Self::cover_shortfall(borrower)?;
		// At least a DEX settlement's measured weight (its planning and filing are the same);
		// `settle_weight` reserves more.
		Ok(Some(
			plans_weight
				.saturating_add(T::Lending::net_weight().max(Self::dex_weight()))
				.saturating_add(Self::shortfall_weight(debts)),
		)
		.into())
	}

	pub(crate) fn do_settle(
		caller: &T::AccountId,
		borrower: &T::AccountId,
	) -> DispatchResultWithPostInfo {
		ensure!(caller != borrower, Error::<T>::SelfLiquidation);
		let assets = T::Lending::account_assets(borrower);
		ensure!(!assets.debts.is_empty(), Error::<T>::NotLiquidatable);
		if !Self::has_collateral(borrower) {
			// Debt and no collateral: only the loss waterfall is left. While it waits for the
			// treasury's sale, a call that covers nothing more is refused (the sale is tried
			// again by any call; the unsigned path only once the wait ends).
			let waiting = Self::shortfall_waits(borrower);
			let owed = |who: &T::AccountId| {
				assets.debts.iter().fold(0u128, |sum, asset| {
					sum.saturating_add(T::Lending::debt(who, asset).unwrap_or(0))
				})
			};
			let before = if waiting { owed(borrower) } else { 0 };
			let debts = Self::cover_shortfall(borrower)?;
			ensure!(debts > 0, Error::<T>::NotLiquidatable);
			ensure!(!waiting || owed(borrower) < before, Error::<T>::ShortfallWaiting);
			return Ok(Some(Self::shortfall_weight(debts)).into());
		}
		let (plan, tries, all_too_small) =
			Self::settle_plan_from(&mut Default::default(), borrower, &assets);
		let plans_weight = Self::extra_plans_weight(tries.saturating_sub(1));
		let plan = match plan {
			Ok(plan) => plan,
			// A healthy account is refused, queued or not: its queue entry leaves when a sale
			// it would hold back looks at it (`waits_in_queue`), or with age.
			Err(_) if all_too_small => {
				// Only dust collateral is left (each liquidatable, none worth a unit of the
				// debt): sweep it to the treasury and close the rest by the waterfall.
				let swept = Self::sweep_dust(borrower)?;
				let debts = Self::cover_shortfall(borrower)?;
				return Ok(Some(
					plans_weight
						.saturating_add(Self::sweep_weight(swept))
						.saturating_add(Self::shortfall_weight(debts)),
				)
				.into());
			},
			Err(e) => return Err(e.into()),
		};
		if plan.debt_asset == plan.collateral_asset {
			return Self::net(caller, borrower, &plan, plans_weight);
		}
		let collateral = plan.collateral_asset;
		// The guard first: with a held price, the plan (at the ends that favour the borrower)
		// may be sold on the DEX within its bound, and nothing else is tried. With a disputed
		// one (read at the disputed ends that favour the borrower), a seizure the DEX refuses
		// goes to an auction: the insurance does not buy at an end one feeder may have raised.
		let held = Self::pair_held(&collateral, &plan.debt_asset);
		let disputed = Self::pair_disputed(&collateral, &plan.debt_asset);
		let planned = plan.repay;
		let original = plan;
		let mut look = crate::dex::QueueLook::default();
		let (plan, quote) = Self::dex_sale(borrower, plan, &mut look);
		// A sale cut to the breaker's cap planned once more; the queue entries checked.
		let plans_weight = if plan.repay == planned {
			plans_weight
		} else {
			plans_weight.saturating_add(Self::extra_plans_weight(1))
		}
		.saturating_add(Self::queue_checks_weight(look.checked));
		// Standing bids first when they pay more (on an agreed price); a sale to them that
		// fails (a bid gone, an owner that cannot take a position) leaves the DEX route.
		let agreed = !held && !disputed;
		// Asking the book is charged whatever route follows; a sale to the bids, tried, too.
		let plans_weight = if agreed {
			plans_weight.saturating_add(Self::bid_quote_weight())
		} else {
			plans_weight
		};
		let sale = Self::bids_instead(borrower, &original, &plan, &quote, agreed);
		let plans_weight = if sale.is_some() {
			plans_weight.saturating_add(Self::bid_fills_weight())
		} else {
			plans_weight
		};
		if let Some(sale) = sale {
			match Self::sell_to_bids(borrower, &sale) {
				Ok(()) => {
					let (to_insurance, tip) =
						Self::split_penalty(&sale.plan, sale.input, &Params::<T>::get());
					let tip = Self::pay_tip(caller, borrower, collateral, tip);
					let to_insurance = Self::seize_rest(borrower, collateral, to_insurance)?;
					let fills = u32::try_from(sale.fills.len()).unwrap_or(u32::MAX);
					let outcome = Outcome {
						route: Route::Bids { fills },
						sold: sale.input,
						to_insurance,
						tip,
					};
					let weight = plans_weight.saturating_add(Self::dex_weight());
					return Self::settled(caller, borrower, &sale.plan, outcome, weight);
				},
				Err(e) => log::debug!(target: "runtime::liquidation", "bids refused: {e:?}"),
			}
		}
		let dex = quote.and_then(|quote| {
			Self::sell_on_dex(borrower, &plan, &quote).map(|sold| (quote, sold)).map_err(|e| {
				log::debug!(target: "runtime::liquidation", "DEX sale failed: {e:?}");
				DexRefusal::SwapFailed
			})
		});
		let (outcome, route_weight) = match dex {
			Ok((quote, (sold, unspent))) => {
				T::Breaker::note_sale(&collateral, quote.value);
				if quote.depth_capped {
					Self::note_pool_sale((collateral, plan.debt_asset), sold);
				}
				let tip = Self::pay_tip(caller, borrower, collateral, quote.tip);
				let seized = Self::seize_rest(borrower, collateral, quote.to_insurance)?;
				(
					Outcome {
						route: Route::Dex,
						sold,
						to_insurance: seized.saturating_add(unspent),
						tip,
					},
					Self::dex_weight(),
				)
			},
			// No backstop, no auction, no queue on a price the guard holds: the insurance would
			// buy, and an auction start, at a price nobody confirmed. The next feeds accept or
			// drop it within `max_hold_blocks`.
			Err(_) if held => return Err(Error::<T>::PriceUnconfirmed.into()),
			Err(dex) => {
				// A sale that failed at the swap did the DEX route's work too; a refusal read
				// the pool's depth cap (the refusal the backstop and auction benchmarks measure
				// does not).
				let dex_weight = if dex == DexRefusal::SwapFailed {
					Self::dex_weight()
				} else {
					Self::depth_cap_weight()
				};
				// Held back by a block's cap (the breaker's or the pool's depth cap): a marginal
				// position waits in the queue, the fund kept for the deep ones; a deep one goes
				// to the backstop, then an auction (queued only when no auction can start).
				let waits = Self::overflow_waits(&plan, &dex);
				let backstop = if disputed || waits {
					Err(Error::<T>::NoRoute.into())
				} else {
					Self::backstop(borrower, &plan)
				};
				let taken = match backstop {
					Ok(taken) => taken,
					Err(e) if e == Error::<T>::NoRoute.into() => {
						let throttled = matches!(dex, DexRefusal::Throttled { .. });
						let weight = if waits
							|| (throttled && Self::may_start_auction(borrower).is_err())
						{
							// It waits its turn (riskiest first) for a later block's sale. One
							// queued already succeeds when its look dropped entries ahead of
							// it (else three gone before it, two checked a call, would be
							// put back by its refusal, and the queue stall).
							match Self::enqueue(borrower, &plan) {
								Err(e)
									if e == Error::<T>::AwaitingSale.into() && look.dropped > 0 => {},
								queued => queued?,
							}
							Self::dex_weight()
						} else if Self::is_dust_account(borrower, &plan) {
							// Insolvent with all its collateral worth less than the dust
							// value: no taker would bid for such a lot, and an auction would
							// hold its slot for ever. The collateral goes to the treasury and
							// the loss waterfall closes the debt (what it socialises beyond
							// the deficit is below the dust value).
							let swept = Self::sweep_dust(borrower)?;
							let debts = Self::cover_shortfall(borrower)?;
							return Ok(Some(
								plans_weight
									.saturating_add(Self::dex_weight())
									.saturating_add(Self::backstop_weight())
									.saturating_add(Self::sweep_weight(swept))
									.saturating_add(Self::shortfall_weight(debts)),
							)
							.into());
						} else if plan.base == 0 {
							// A repayment worth less than a unit of the collateral (a unit
							// left by a sale) of an account that is not dust: an auction of it
							// would be closed by `redo` at once and started again, holding a
							// slot, each round spending the worker's room (an attacker review);
							// a keeper's own funds, or the price, move it.
							return Err(Error::<T>::CollateralTooSmall.into());
						} else {
							// Not sellable on the DEX at all (halted, beyond the bound, no
							// cash, no pool): the seizure goes to a Dutch auction.
							Self::dequeue(borrower, collateral);
							Self::start_auction(borrower, &plan, dex)?;
							dex_weight.saturating_add(T::WeightInfo::settle_auction())
						};
						return Ok(Some(plans_weight.saturating_add(weight)).into());
					},
					Err(e) => return Err(e.into()),
				};
				let weight = dex_weight.saturating_add(Self::backstop_weight());
				(
					Outcome {
						route: Route::Backstop { dex },
						sold: 0,
						to_insurance: taken,
						tip: 0,
					},
					weight,
				)
			},
		};
		Self::settled(caller, borrower, &plan, outcome, plans_weight.saturating_add(route_weight))
	}

	/// The end of a settlement step: what `borrower` keeps of what was due (`Settled`), its
	/// queue entry gone, the loss waterfall if no collateral is left; charged `weight` and
	/// the waterfall's.
	fn settled(
		caller: &T::AccountId,
		borrower: &T::AccountId,
		plan: &Plan<T::AssetId>,
		outcome: Outcome,
		weight: Weight,
	) -> DispatchResultWithPostInfo {
		let returned = plan
			.collateral
			.checked_sub(outcome.sold)
			.and_then(|r| r.checked_sub(outcome.to_insurance))
			.and_then(|r| r.checked_sub(outcome.tip))
			.ok_or_else(overflow::<T>)?;
		Self::deposit_event(Event::Settled {
			borrower: borrower.clone(),
			caller: caller.clone(),
			debt_asset: plan.debt_asset,
			collateral_asset: plan.collateral_asset,
			route: outcome.route,
			repaid: plan.repay,
			collateral_due: plan.collateral,
			sold: outcome.sold,
			to_insurance: outcome.to_insurance,
			tip: outcome.tip,
			returned,
			discount: plan.discount,
			health: plan.health.factor,
		});
		Self::dequeue(borrower, plan.collateral_asset);
		let debts = Self::cover_shortfall(borrower)?;
		Ok(Some(weight.saturating_add(Self::shortfall_weight(debts))).into())
	}
}
