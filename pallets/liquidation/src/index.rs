//! The risk index in storage: filing an account when its risk rose, and reading the accounts
//! at risk, riskiest first. The math is in [`crate::risk`].
//!
//! Upkeep happens only when an account's risk rose (borrow, withdraw, disable collateral,
//! seizure): an entry left in place when the risk fell over-reports and never misses, so
//! supply and repay pay nothing. Such entries are re-filed by [`Pallet::refile`] (anyone, or
//! the offchain worker) and after every liquidation of the account.

use crate::{pallet::*, risk, types::*, weights::WeightInfo};
use alloc::{collections::BTreeSet, vec::Vec};
use frame_support::BoundedVec;
use pallet_lending::{LendingPositions, OnPositionChanged, PriceSource, RiskChange};
use sp_arithmetic::{traits::Zero, FixedU128};

/// What the index holds for one account.
pub type FilingOf<T> = Filing<<T as Config>::AssetId, <T as Config>::MaxRiskEntries>;
/// A key of the index.
pub type RiskKeyOf<T> = RiskKey<<T as Config>::AssetId>;
/// Where a read of the index stopped.
pub type RiskCursorOf<T> =
	RiskCursor<<T as Config>::AssetId, <T as frame_system::Config>::AccountId>;

/// How a key of the index is read now.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Reading {
	/// From the bucket of its variable now (negated for a debt): entries at or above it less
	/// [`risk::SLACK`], deepest first.
	Level(i32),
	/// Every entry, whatever its bucket: a collateral without a price a liquidation can read
	/// counts for nothing, so any account it backs may have fallen below 1 with no price
	/// moving. A refile drops the account's entry under it.
	Whole,
}

/// How old the prices an index variable reads may be.
#[derive(Clone, Copy)]
enum Age {
	/// At most the maximum price age: what a liquidation's own pair reads.
	Fresh,
	/// Within the stale-price grace: what a liquidation reads for every other asset.
	Grace,
}

impl<T: Config> Pallet<T> {
	/// `asset`'s price within `age`, and the ends a liquidation reads within it.
	fn quote(asset: &T::AssetId, age: Age) -> Option<(FixedU128, FixedU128, FixedU128)> {
		let (price, ends) = match age {
			Age::Fresh => (T::Prices::price(asset), T::Prices::liquidation_bounds(asset)),
			Age::Grace => {
				let grace = T::Lending::price_grace();
				(
					T::Prices::price_within(asset, grace),
					T::Prices::liquidation_bounds_within(asset, grace),
				)
			},
		};
		let (low, high) = ends.ok()?;
		Some((price.ok()?, low, high))
	}

	/// A collateral's variable now, at the lower of its price and the end a liquidation values
	/// it at (`high`; during a held fall the severity bound's price may be below the middle):
	/// the index over-reports, never misses. `Some(None)` without a price within `age` (a
	/// liquidation counts such a collateral for nothing); `None` without a market.
	fn collateral_variable(asset: &T::AssetId, age: Age) -> Option<Option<FixedU128>> {
		let threshold = T::Lending::market_params(asset)?.liquidation_threshold;
		let (supply_index, _) = T::Lending::indexes(asset)?;
		Some(Self::quote(asset, age).map(|(price, _, high)| {
			risk::collateral_weight(threshold, price.min(high), supply_index)
		}))
	}

	/// A debt's variable now, at the higher of its price and the end a liquidation values it
	/// at: `low` for a debt alone, `high` for a debt in an asset the account also pledges (a
	/// looped position nets at the collateral's end), so `high` under a key any account may
	/// share. `None` without a price within `age` (a liquidation refuses such an account).
	fn debt_variable(asset: &T::AssetId, age: Age, looped: bool) -> Option<FixedU128> {
		let (_, borrow_index) = T::Lending::indexes(asset)?;
		let (price, low, high) = Self::quote(asset, age)?;
		let price = price.max(if looped { high } else { low });
		Some(risk::debt_weight(price, borrow_index))
	}

	/// How `key` is read now; `None` when nothing under it can be settled until a price is
	/// fed (a pair's two prices must be fresh; a debt needs one within the grace).
	pub fn reading(key: &RiskKeyOf<T>) -> Option<Reading> {
		match key {
			RiskKey::Pair { collateral, debt } => Some(Reading::Level(risk::pair_level(
				Self::collateral_variable(collateral, Age::Fresh)??,
				Self::debt_variable(debt, Age::Fresh, collateral == debt)?,
			))),
			RiskKey::Collateral(asset) => {
				Some(match Self::collateral_variable(asset, Age::Grace)? {
					Some(variable) => Reading::Level(risk::stored(risk::bucket(variable))),
					None => Reading::Whole,
				})
			},
			RiskKey::Debt(asset) => Some(Reading::Level(
				risk::stored(risk::bucket(Self::debt_variable(asset, Age::Grace, true)?))
					.saturating_neg(),
			)),
		}
	}

	/// The level of `key` now: the bucket of its variable (negated for a debt). `None` when
	/// it is read whole or not at all ([`Self::reading`]).
	pub fn level(key: &RiskKeyOf<T>) -> Option<i32> {
		match Self::reading(key)? {
			Reading::Level(level) => Some(level),
			Reading::Whole => None,
		}
	}

	/// Where `who` belongs in the index now (`None` without debt).
	pub fn filing_of(who: &T::AccountId) -> Option<FilingOf<T>> {
		let shares = T::Lending::account_shares(who);
		match (shares.collateral.as_slice(), shares.debts.as_slice()) {
			(_, []) => None,
			([], _) => Some(Filing::Watch),
			([(collateral, collateral_shares)], [(debt, debt_shares)]) => {
				let entry = (
					RiskKey::Pair { collateral: *collateral, debt: *debt },
					risk::pair_bucket(*debt_shares, *collateral_shares),
				);
				Some(
					BoundedVec::try_from(alloc::vec![entry])
						.map(Filing::Entries)
						.unwrap_or(Filing::Watch),
				)
			},
			(collateral, debts) => {
				let variables = |list: &[(T::AssetId, u128)], debt: bool| {
					list.iter()
						.map(|(asset, shares)| {
							// (A collateral without a price weighs nothing.)
							let variable = if debt {
								Self::debt_variable(asset, Age::Grace, true)
							} else {
								Self::collateral_variable(asset, Age::Grace)
									.map(|v| v.unwrap_or_default())
							};
							variable.map(|v| (v, *shares))
						})
						.collect::<Option<Vec<_>>>()
				};
				let entries = variables(collateral, false)
					.zip(variables(debts, true))
					.and_then(|(c, d)| Some((c.clone(), risk::split_entries(&c, &d)?)))
					.map(|(weights, (c, d))| {
						// A collateral that weighs nothing has no entry: the account was
						// filed without it, and no move of its price can lower its health.
						let c = collateral
							.iter()
							.zip(weights)
							.zip(c)
							.filter(|(((_, _), (w, _)), _)| !w.is_zero())
							.map(|(((a, _), _), b)| (RiskKey::Collateral(*a), b));
						let d = debts.iter().zip(d).map(|((a, _), b)| (RiskKey::Debt(*a), b));
						c.chain(d).collect::<Vec<_>>()
					});
				Some(
					entries
						.and_then(|e| BoundedVec::try_from(e).ok())
						.map(Filing::Entries)
						.unwrap_or(Filing::Watch),
				)
			},
		}
	}

	/// Whether filing `who` now would change where it is filed.
	pub fn needs_refile(who: &T::AccountId) -> bool {
		Self::filing_of(who) != Filed::<T>::get(who)
	}

	/// Files `who` where it belongs now, moving only the entries that changed.
	pub fn file(who: &T::AccountId) {
		let new = Self::filing_of(who);
		let old = Filed::<T>::get(who);
		if new == old {
			return;
		}
		let entries = |f: &Option<FilingOf<T>>| match f {
			Some(Filing::Entries(e)) => e.to_vec(),
			_ => Vec::new(),
		};
		let (old_entries, new_entries) = (entries(&old), entries(&new));
		for (key, bucket) in old_entries.iter().filter(|e| !new_entries.contains(e)) {
			RiskIndex::<T>::remove((key, bucket, who));
			// An emptied top bucket lowers the key's top by one (it stays an upper bound).
			if RiskKeys::<T>::get(key) == Some(*bucket)
				&& RiskIndex::<T>::iter_key_prefix((key, bucket)).next().is_none()
			{
				RiskKeys::<T>::insert(key, bucket.saturating_sub(1));
			}
		}
		for (key, bucket) in new_entries.iter().filter(|e| !old_entries.contains(e)) {
			RiskIndex::<T>::insert((key, bucket, who), ());
			if RiskKeys::<T>::get(key).is_none_or(|top| *bucket > top) {
				RiskKeys::<T>::insert(key, *bucket);
			}
		}
		let watched = |f: &Option<FilingOf<T>>| matches!(f, Some(Filing::Watch));
		match (watched(&old), watched(&new)) {
			(false, true) => Watchlist::<T>::insert(who, ()),
			(true, false) => Watchlist::<T>::remove(who),
			_ => {},
		}
		Filed::<T>::set(who, new);
	}

	/// Files each of `accounts` anew (`refile`, `refile_unsigned`), with its event.
	pub(crate) fn do_refile(accounts: BoundedVec<T::AccountId, T::MaxRefile>) {
		for who in &accounts {
			Self::file(who);
		}
		Self::deposit_event(Event::Refiled { accounts: accounts.into_inner() });
	}

	/// Runs a liquidation of `borrower` with the lending hook's filing deferred, then files the
	/// borrower once, as it is after.
	pub(crate) fn deferring(
		borrower: &T::AccountId,
		f: impl FnOnce() -> frame_support::dispatch::DispatchResultWithPostInfo,
	) -> frame_support::dispatch::DispatchResultWithPostInfo {
		Deferred::<T>::put(true);
		let result = f();
		Deferred::<T>::kill();
		let result = result?;
		Self::file(borrower);
		Ok(result)
	}

	/// Up to `limit` accounts that may be below health 1, riskiest first: the watch list, then
	/// every key read by its level ([`Reading::Level`]) from the deepest entry below it (how far
	/// the entry is above the level) up to [`risk::SLACK`] buckets above it, then every entry of
	/// each key read whole ([`Reading::Whole`]: a dead collateral feed); and where to go on
	/// (`None` at the end). Keys that cannot be read (a stale price) are skipped. An account
	/// filed under several keys appears once per page.
	pub fn at_risk(
		start: Option<RiskCursorOf<T>>,
		limit: u32,
	) -> (Vec<T::AccountId>, Option<RiskCursorOf<T>>) {
		let limit = usize::try_from(limit).unwrap_or(usize::MAX);
		if limit == 0 {
			return (Vec::new(), start);
		}
		let mut found = Vec::new();
		let mut seen = BTreeSet::new();
		let mut resume = None;
		match start {
			None | Some(RiskCursor::Watch(_)) => {
				let mut last = match start {
					Some(RiskCursor::Watch(after)) => Some(after),
					_ => None,
				};
				let watched = match &last {
					Some(after) => {
						Watchlist::<T>::iter_keys_from(Watchlist::<T>::hashed_key_for(after))
					},
					None => Watchlist::<T>::iter_keys(),
				};
				for who in watched {
					if found.len() >= limit {
						// `limit > 0`: something was read in this phase, so `last` is set.
						if let Some(last) = last {
							return (found, Some(RiskCursor::Watch(last)));
						}
					}
					seen.insert(who.clone());
					found.push(who.clone());
					last = Some(who);
				}
			},
			Some(RiskCursor::Index { key, bucket, after }) => resume = Some((key, bucket, after)),
		}
		// Keys read by level, as `(key, top, level)`, and keys read whole.
		let mut keys: Vec<(RiskKeyOf<T>, i32, i32)> = Vec::new();
		let mut whole: Vec<RiskKeyOf<T>> = Vec::new();
		for (key, top) in RiskKeys::<T>::iter() {
			match Self::reading(&key) {
				Some(Reading::Level(level)) => keys.push((key, top, level)),
				Some(Reading::Whole) => whole.push(key),
				None => {},
			}
		}
		keys.sort_by_key(|k| k.0);
		whole.sort();
		// A cursor in a key read whole goes on there, past the keys read by level.
		let resume_whole = match &resume {
			Some((key, bucket, after)) if whole.contains(key) => {
				Some((*key, after.clone().map(|who| (*bucket, who))))
			},
			_ => None,
		};
		if resume_whole.is_none() {
			if let Some(stop) = Self::read_levels(&keys, resume, limit, &mut found, &mut seen) {
				return (found, Some(stop));
			}
		}
		for key in whole {
			let mut last = None;
			let entries = match &resume_whole {
				Some((k, _)) if key < *k => continue,
				Some((k, Some((bucket, after)))) if key == *k => {
					last = Some((*bucket, after.clone()));
					RiskIndex::<T>::iter_key_prefix_from(
						(key,),
						RiskIndex::<T>::hashed_key_for((key, bucket, after)),
					)
				},
				_ => RiskIndex::<T>::iter_key_prefix((key,)),
			};
			for (bucket, who) in entries {
				if !seen.contains(&who) {
					if found.len() >= limit {
						let (bucket, after) = match last {
							Some((bucket, after)) => (bucket, Some(after)),
							None => (bucket, None),
						};
						return (found, Some(RiskCursor::Index { key, bucket, after }));
					}
					seen.insert(who.clone());
					found.push(who.clone());
				}
				last = Some((bucket, who));
			}
		}
		(found, None)
	}

	/// The keys read by level, deepest first, from `resume`, into `found` up to `limit`;
	/// where it stopped if it did.
	fn read_levels(
		keys: &[(RiskKeyOf<T>, i32, i32)],
		mut resume: Option<(RiskKeyOf<T>, i32, Option<T::AccountId>)>,
		limit: usize,
		found: &mut Vec<T::AccountId>,
		seen: &mut BTreeSet<T::AccountId>,
	) -> Option<RiskCursorOf<T>> {
		let depth_of = |bucket: i32, level: i32| bucket.saturating_sub(level);
		let mut depth = keys.iter().map(|(_, top, level)| depth_of(*top, *level)).max()?;
		if let Some((key, bucket, _)) = &resume {
			match keys.iter().find(|(k, _, _)| k == key) {
				Some((_, _, level)) => depth = depth.min(depth_of(*bucket, *level)),
				None => resume = None,
			}
		}
		while depth >= risk::SLACK.saturating_neg() {
			for (key, top, level) in keys {
				let bucket = level.saturating_add(depth);
				if bucket > *top {
					continue;
				}
				let mut last = None;
				let accounts = match &resume {
					Some((k, _, _)) if key < k => continue,
					Some((k, _, Some(after))) if key == k => {
						last = Some(after.clone());
						RiskIndex::<T>::iter_key_prefix_from(
							(key, bucket),
							RiskIndex::<T>::hashed_key_for((key, bucket, after)),
						)
					},
					_ => RiskIndex::<T>::iter_key_prefix((key, bucket)),
				};
				for who in accounts {
					if seen.contains(&who) {
						last = Some(who);
						continue;
					}
					if found.len() >= limit {
						return Some(RiskCursor::Index { key: *key, bucket, after: last });
					}
					seen.insert(who.clone());
					found.push(who.clone());
					last = Some(who);
				}
			}
			resume = None;
			depth = depth.saturating_sub(1);
		}
		None
	}

	/// Index invariants: every entry is in its account's filing and back, the watch list is
	/// the watched filings, every key's top bounds its buckets, and every account with debt is
	/// filed.
	#[cfg(any(test, feature = "std", feature = "try-runtime"))]
	pub(crate) fn index_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		use frame_support::ensure;
		let mut entries = 0usize;
		for (who, filing) in Filed::<T>::iter() {
			match filing {
				Filing::Watch => ensure!(
					Watchlist::<T>::contains_key(&who),
					"a watched filing off the watch list"
				),
				Filing::Entries(list) => {
					ensure!(
						!Watchlist::<T>::contains_key(&who),
						"a filed account on the watch list"
					);
					for (key, bucket) in list.iter() {
						ensure!(
							RiskIndex::<T>::contains_key((key, bucket, &who)),
							"a filing's entry missing from the index"
						);
						entries = entries.saturating_add(1);
					}
				},
			}
		}
		let mut indexed = 0usize;
		for (key, bucket, _) in RiskIndex::<T>::iter_keys() {
			ensure!(
				RiskKeys::<T>::get(key).is_some_and(|top| bucket <= top),
				"an entry above its key's top"
			);
			indexed = indexed.saturating_add(1);
		}
		ensure!(indexed == entries, "index entries that no filing holds");
		for who in Watchlist::<T>::iter_keys() {
			ensure!(
				matches!(Filed::<T>::get(&who), Some(Filing::Watch)),
				"a watched account not filed as watched"
			);
		}
		let mut after = None;
		loop {
			let page = T::Lending::accounts(after.clone(), 1_000);
			for who in &page {
				if !T::Lending::account_shares(who).debts.is_empty() {
					ensure!(Filed::<T>::contains_key(who), "an account with debt not in the index");
				}
			}
			if page.len() < 1_000 {
				break;
			}
			after = page.last().cloned();
		}
		Ok(())
	}
}

impl<T: Config> Pallet<T> {
	/// For the lending pallet's benchmarks: the hook files nothing until the end of the block
	/// (as within a liquidation), so the lending calls are measured without it (they add the
	/// hook's weight, [`OnPositionChanged::weight`], to their own).
	#[cfg(feature = "runtime-benchmarks")]
	pub fn defer_filing() {
		Deferred::<T>::put(true);
	}
}

/// The lending pallet's hook: the index follows every rise in an account's risk.
impl<T: Config> OnPositionChanged<T::AccountId, T::AssetId> for Pallet<T> {
	fn on_position_changed(who: &T::AccountId, _assets: &[T::AssetId], change: RiskChange) {
		if change == RiskChange::Raised && !Deferred::<T>::get() {
			Self::file(who);
		}
	}

	fn weight(change: RiskChange) -> frame_support::weights::Weight {
		match change {
			RiskChange::Raised => T::WeightInfo::file_position(),
			RiskChange::Lowered => frame_support::weights::Weight::zero(),
		}
	}
}
