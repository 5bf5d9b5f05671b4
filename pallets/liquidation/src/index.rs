//! The risk index in storage: filing an account when its risk rose, and reading the accounts
//! at risk, riskiest first. The math is in [`crate::risk`].
//!
//! Upkeep happens only when an account's risk rose (borrow, withdraw, disable collateral,
//! seizure): an entry left in place when the risk fell over-reports and never misses, so
//! supply and repay pay nothing. Such entries are re-filed by [`Pallet::refile`] (anyone, or
//! the offchain worker) and after every liquidation of the account.
//!
//! Where an account is filed (its [`Filing`]) is kept in the account's own record in the
//! lending pallet ([`LendingPositions::index_tag`]): this pallet is the lending pallet's
//! position-change hook, which sees each change before the record is stored and updates the
//! filing in it, so keeping it costs no read or write of its own.
//!
//! An entry leaving its key leaves the key's state ([`KeyState`]: its top, an upper bound)
//! as it was, so a lending call's filing writes the entry out and in and at most the state
//! of the key it enters (session 29, #27: the index's upkeep of an 8 + 8 account within 20%
//! of a `borrow`). A key left with no entry is removed by [`Pallet::do_prune`] (`prune_keys`,
//! the offchain worker's or anyone's), and an older epoch's variables with its last key.
//!
//! Every account has one entry. A one-collateral, one-debt account's is exact under its pair's
//! key. An account with several assets is filed at its health at the current epoch's reference
//! variables, under a key of that epoch and its assets ([`RiskKey::Wide`]); a new epoch is
//! taken every `EpochBlocks` ([`Pallet::new_epoch`]), and the offchain worker refiles the
//! accounts of older epochs (their keys go when pruned, and an epoch's variables with its
//! last key).

use crate::{pallet::*, risk, types::*, weights::WeightInfo};
use alloc::{
	collections::{BTreeMap, BTreeSet},
	vec::Vec,
};
use frame_support::{traits::Get, BoundedVec};
use frame_system::pallet_prelude::BlockNumberFor;
use pallet_lending::{AccountShares, LendingPositions, OnPositionChanged, PriceSource, RiskChange};
use sp_arithmetic::{
	traits::{Saturating, Zero},
	FixedU128,
};

/// What the index holds for one account.
pub type FilingOf<T> = Filing<<T as Config>::AssetId>;
/// A key of the index.
pub type RiskKeyOf<T> = RiskKey<<T as Config>::AssetId>;
/// Where a read of the index stopped.
pub type RiskCursorOf<T> =
	RiskCursor<<T as Config>::AssetId, <T as frame_system::Config>::AccountId>;

/// How a key of the index is read now.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Reading {
	/// From its level (the bucket of its variable now, negated for a wide key's fall): entries
	/// at or above it less [`risk::SLACK`], deepest first.
	Level(i32),
	/// Every entry, whatever its bucket: a collateral of the key's accounts has no price a
	/// liquidation can read and counts for nothing, so any of them may have fallen below 1
	/// with no price moving. A refile files each without it.
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

/// An asset's variables now: `(collateral, debt)` as [`Pallet::collateral_variable`] and
/// [`Pallet::debt_variable`] give them.
type VariablesNow = (Option<Option<FixedU128>>, Option<FixedU128>);

/// What one read of the index computes once: each epoch's variables, each asset's variables
/// now.
#[derive(frame_support::DefaultNoBound)]
struct Cache<T: Config> {
	epochs: BTreeMap<u32, Option<EpochVariablesOf<T::AssetId>>>,
	now: BTreeMap<T::AssetId, VariablesNow>,
}

/// When a key's top is lowered after a move within it or an entry leaving it empties its top
/// bucket.
pub(crate) enum TopCheck<AssetId: Ord> {
	/// At once, for a move within the key: a storage iteration (a read of the database) for
	/// each such move. An entry leaving the key leaves its top as it is.
	Now,
	/// Once per key after a batch of filings ([`Pallet::lower_tops`]).
	Later(BatchFiling<AssetId>),
}

/// What a batch of filings keeps until its end: the buckets entries left, per key, and each
/// key's state as read once (a batch's positions mostly share a key: its state is read from
/// storage once, not once a position; every write goes to storage at once and here).
#[derive(frame_support::DefaultNoBound)]
pub(crate) struct BatchFiling<AssetId: Ord> {
	/// The buckets entries left, per key. Until the end the key's top stays where it was,
	/// which a top may (it is an upper bound).
	noted: BTreeMap<RiskKey<AssetId>, BTreeSet<i32>>,
	/// Each key's state as last read or written in the batch.
	states: BTreeMap<RiskKey<AssetId>, Option<KeyState>>,
}

impl<AssetId: Ord + Copy> TopCheck<AssetId> {
	/// Whether `bucket`, `key`'s top `top`, is empty now (`Now`), or noted to be looked at
	/// later (`Later`: `false` for now).
	fn emptied<T: Config<AssetId = AssetId>>(
		&mut self,
		key: &RiskKey<AssetId>,
		bucket: i32,
		top: i32,
	) -> bool {
		match self {
			TopCheck::Now => Pallet::<T>::top_emptied(key, bucket, top),
			TopCheck::Later(batch) => {
				// Every bucket left, not only the top: the top stays put until the end, and
				// may then go down through several of them.
				batch.noted.entry(*key).or_default().insert(bucket);
				false
			},
		}
	}

	/// `key`'s state: from storage (`Now`), or as the batch last read or wrote it.
	fn state<T: Config<AssetId = AssetId>>(&mut self, key: &RiskKey<AssetId>) -> Option<KeyState> {
		match self {
			TopCheck::Now => Pallet::<T>::key_state(key),
			TopCheck::Later(batch) => {
				*batch.states.entry(*key).or_insert_with(|| Pallet::<T>::key_state(key))
			},
		}
	}

	/// Writes `key`'s state (to storage, and to the batch's copy).
	fn put_state<T: Config<AssetId = AssetId>>(&mut self, key: &RiskKey<AssetId>, state: KeyState) {
		Pallet::<T>::put_key_state(key, state);
		if let TopCheck::Later(batch) = self {
			batch.states.insert(*key, Some(state));
		}
	}
}

/// The bit of place `i` in a [`RiskKey::Wide`] mask.
fn bit(i: usize) -> Option<u64> {
	1u64.checked_shl(u32::try_from(i).ok()?)
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
	/// looped position nets at the collateral's end), so `high` where accounts of both kinds
	/// share a key. `None` without a price within `age` (a liquidation refuses the account).
	fn debt_variable(asset: &T::AssetId, age: Age, looped: bool) -> Option<FixedU128> {
		let (_, borrow_index) = T::Lending::indexes(asset)?;
		let (price, low, high) = Self::quote(asset, age)?;
		let price = price.max(if looped { high } else { low });
		Some(risk::debt_weight(price, borrow_index))
	}

	/// `asset`'s variables now within the grace, as a wide key reads them and an epoch takes
	/// them (a debt at its high end: any account may pledge it).
	fn grace_variables(asset: &T::AssetId) -> VariablesNow {
		(Self::collateral_variable(asset, Age::Grace), Self::debt_variable(asset, Age::Grace, true))
	}

	/// [`Self::grace_variables`], computed once per read.
	fn variables_now(asset: &T::AssetId, cache: &mut Cache<T>) -> VariablesNow {
		*cache.now.entry(*asset).or_insert_with(|| Self::grace_variables(asset))
	}

	/// Whether `bucket`, `key`'s top, has no entry left: the top may then go one lower (it
	/// stays an upper bound).
	fn top_emptied(key: &RiskKeyOf<T>, bucket: i32, top: i32) -> bool {
		bucket == top && RiskIndex::<T>::iter_key_prefix((key, bucket)).next().is_none()
	}

	/// How `key` is read now; `None` when nothing under it can be settled until a price is
	/// fed (a pair's two prices must be fresh; a debt needs one within the grace).
	pub fn reading(key: &RiskKeyOf<T>) -> Option<Reading> {
		Self::reading_with(key, &mut Cache::default())
	}

	fn reading_with(key: &RiskKeyOf<T>, cache: &mut Cache<T>) -> Option<Reading> {
		match key {
			RiskKey::Pair { collateral, debt } => Some(Reading::Level(risk::pair_level(
				Self::collateral_variable(collateral, Age::Fresh)??,
				Self::debt_variable(debt, Age::Fresh, collateral == debt)?,
			))),
			RiskKey::Wide { epoch, collateral, debt } => {
				let variables = cache
					.epochs
					.entry(*epoch)
					.or_insert_with(|| EpochVariables::<T>::get(epoch))
					.clone()?;
				let (mut falls, mut rises) = (Vec::new(), Vec::new());
				for (i, (asset, collateral_ref, debt_ref)) in variables.iter().enumerate() {
					let bit = bit(i)?;
					if collateral & bit == 0 && debt & bit == 0 {
						continue;
					}
					let (collateral_now, debt_now) = Self::variables_now(asset, cache);
					if collateral & bit != 0 {
						match (collateral_ref, collateral_now?) {
							(Some(reference), Some(now)) => falls.push((*reference, now)),
							(_, None) => return Some(Reading::Whole),
							// (A mask never holds an asset without a reference.)
							(None, Some(_)) => return None,
						}
					}
					if debt & bit != 0 {
						rises.push(((*debt_ref)?, debt_now?));
					}
				}
				Some(match risk::fall_factor(falls, rises) {
					Some(factor) => Reading::Level(risk::wide_level(factor)),
					None => Reading::Whole,
				})
			},
		}
	}

	/// The level of `key` now: the bucket of its variable (negated for a wide key's fall).
	/// `None` when it is read whole or not at all ([`Self::reading`]).
	pub fn level(key: &RiskKeyOf<T>) -> Option<i32> {
		match Self::reading(key)? {
			Reading::Level(level) => Some(level),
			Reading::Whole => None,
		}
	}

	/// Whether [`Self::new_epoch`] is due at block `now`: no epoch yet, `EpochBlocks` since the
	/// current one began, or, while it misses a market or a price, a sixty-fourth of that
	/// since it was last compared with the markets.
	pub(crate) fn epoch_due(now: BlockNumberFor<T>) -> bool {
		let Some(epoch) = RiskEpoch::<T>::get() else { return true };
		let blocks = T::EpochBlocks::get();
		let since = |at: BlockNumberFor<T>, n: u32| {
			now.saturating_sub(at) >= BlockNumberFor::<T>::from(n.max(1))
		};
		since(epoch.start, blocks) || (!epoch.complete && since(epoch.checked, blocks / 64))
	}

	/// Every market's variables now (at most [`EPOCH_ASSETS`]), how many have both, and
	/// whether that is every market. A debt without a price now keeps `previous`'s variable:
	/// a reference need not be current, only the same for an entry and its reads, and an
	/// account owing it would otherwise be watched (an outage at an epoch's turn would put
	/// every such account on the watch list). A collateral without one is left out: it counts
	/// for nothing in a liquidation.
	fn variables_of_markets(
		previous: Option<&EpochVariablesOf<T::AssetId>>,
	) -> (EpochVariablesOf<T::AssetId>, u32, bool) {
		let markets = T::Lending::markets_up_to(EPOCH_ASSETS.saturating_add(1));
		let all = u32::try_from(markets.len()).is_ok_and(|n| n <= EPOCH_ASSETS);
		let variables: Vec<_> = markets
			.iter()
			.take(EPOCH_ASSETS as usize)
			.map(|asset| {
				let (collateral, debt) = Self::grace_variables(asset);
				(*asset, collateral.flatten(), debt)
			})
			.collect();
		let covered = variables.iter().filter(|(_, c, d)| c.is_some() && d.is_some()).count();
		let covered = u32::try_from(covered).unwrap_or(EPOCH_ASSETS);
		let complete = all && !markets.is_empty() && covered as usize == markets.len();
		let carried = |asset: &T::AssetId| {
			previous?.iter().find(|(a, _, _)| a == asset).and_then(|(_, _, debt)| *debt)
		};
		let variables = variables
			.into_iter()
			.map(|(asset, collateral, debt)| (asset, collateral, debt.or_else(|| carried(&asset))));
		(EpochVariablesOf::<T::AssetId>::truncate_from(variables.collect()), covered, complete)
	}

	/// Takes a new epoch at block `now` (`on_initialize`, when [`Self::epoch_due`]): every
	/// market's variables now, at which accounts with several assets are filed from then on.
	/// The previous epoch's variables go if no key of it is left (a key with no entry counts
	/// until it is pruned). An incomplete epoch with keys is replaced before its time only by
	/// one that covers more markets (else it is only marked checked): a feed that stays dead
	/// does not multiply epochs. Returns the markets read.
	pub fn new_epoch(now: BlockNumberFor<T>) -> u32 {
		let previous = RiskEpoch::<T>::get();
		let previous_variables = previous.and_then(|e| EpochVariables::<T>::get(e.id));
		let (variables, covered, complete) =
			Self::variables_of_markets(previous_variables.as_ref());
		let count = u32::try_from(variables.len()).unwrap_or(EPOCH_ASSETS);
		if let Some(mut current) = previous {
			let early = now.saturating_sub(current.start)
				< BlockNumberFor::<T>::from(T::EpochBlocks::get());
			let kept = !current.complete && !complete && early && covered <= current.covered;
			if kept && Self::epoch_has_keys(current.id) {
				current.checked = now;
				RiskEpoch::<T>::put(current);
				return count;
			}
		}
		let id = previous.map_or(0, |e| e.id.saturating_add(1));
		EpochVariables::<T>::insert(id, variables);
		RiskEpoch::<T>::put(Epoch { id, start: now, checked: now, covered, complete });
		if let Some(previous) = previous {
			if !Self::epoch_has_keys(previous.id) {
				EpochVariables::<T>::remove(previous.id);
			}
		}
		Self::deposit_event(Event::EpochStarted { epoch: id, markets: count, complete });
		count
	}

	/// Whether any key of `epoch` is left (one read of its prefix; a key with no entry left
	/// counts until it is pruned).
	pub(crate) fn epoch_has_keys(epoch: u32) -> bool {
		RiskKeys::<T>::iter_key_prefix(Some(epoch)).next().is_some()
	}

	/// `key`'s state.
	pub(crate) fn key_state(key: &RiskKeyOf<T>) -> Option<KeyState> {
		RiskKeys::<T>::get(key.epoch(), key)
	}

	/// Writes `key`'s state.
	fn put_key_state(key: &RiskKeyOf<T>, state: KeyState) {
		RiskKeys::<T>::insert(key.epoch(), key, state);
	}

	/// Whether `key` has no entry (one read of its prefix).
	fn key_empty(key: &RiskKeyOf<T>) -> bool {
		RiskIndex::<T>::iter_key_prefix((key,)).next().is_none()
	}

	/// Whether `keys` names no key twice.
	fn distinct(keys: &[RiskKeyOf<T>]) -> bool {
		keys.iter().enumerate().all(|(i, key)| !keys.iter().take(i).any(|k| k == key))
	}

	/// Whether `key` may be pruned: a key of the index with no entry left (two reads).
	fn prunable_key(key: &RiskKeyOf<T>) -> bool {
		RiskKeys::<T>::contains_key(key.epoch(), key) && Self::key_empty(key)
	}

	/// Whether every one of `keys` may be pruned, each named once (`prune_keys`).
	pub(crate) fn prunable(keys: &[RiskKeyOf<T>]) -> bool {
		!keys.is_empty() && Self::distinct(keys) && keys.iter().all(Self::prunable_key)
	}

	/// Whether some of `keys` may be pruned, none named twice (`prune_keys_unsigned`: the
	/// worker's list, which a lending call may enter a key of before it is included).
	pub fn any_prunable(keys: &[RiskKeyOf<T>]) -> bool {
		Self::distinct(keys) && keys.iter().any(Self::prunable_key)
	}

	/// `prune_keys` of `n` keys, as measured: `benchmark pallet` counts each key's storage
	/// iterations (whether it has an entry, whether its epoch has a key left) as reads of the
	/// prefix (session 29's run: `RiskIndex` r:64, `RiskKeys` r:128 for 64 keys).
	pub(crate) fn prune_weight(n: u32) -> frame_support::weights::Weight {
		T::WeightInfo::prune_keys(n)
	}

	/// Validating `prune_keys_unsigned` of `n` keys, as measured (its iterations counted).
	pub(crate) fn validate_prune_weight(n: u32) -> frame_support::weights::Weight {
		T::WeightInfo::validate_prune(n)
	}

	/// `refile` of `n` accounts: as measured, where every account enters the same new key,
	/// and for each the read and write of a key's state of its own (accounts of different
	/// assets each enter theirs) and the look of a move within a key out of its top bucket
	/// (a storage iteration).
	pub(crate) fn refile_weight(n: u32) -> frame_support::weights::Weight {
		let n = u64::from(n);
		T::WeightInfo::refile(u32::try_from(n).unwrap_or(u32::MAX))
			.saturating_add(T::DbWeight::get().reads_writes(n.saturating_mul(3), n))
	}

	/// A filing outside a lending call (a liquidation's end, a batch's settled wide
	/// position): the hook's work ([`OnPositionChanged::weight`]), the read and write of the
	/// account's record, which the hook is given, and in a batch the write of the key's
	/// state it left when its top is lowered at the end ([`Self::lower_tops`]).
	pub(crate) fn filing_weight() -> frame_support::weights::Weight {
		<Self as OnPositionChanged<T::AccountId, T::AssetId>>::weight(RiskChange::Raised)
			.saturating_add(T::DbWeight::get().reads_writes(1, 2))
	}

	/// Removes each of `keys` that may be pruned ([`Self::prunable_key`]; the others are
	/// skipped) with [`Self::remove_keys`].
	pub(crate) fn do_prune(
		keys: BoundedVec<RiskKeyOf<T>, frame_support::traits::ConstU32<MAX_PRUNE>>,
	) {
		Self::remove_keys(keys.into_iter().filter(Self::prunable_key).collect());
	}

	/// Removes `keys` (each checked to be prunable: [`Self::prunable`] or [`Self::do_prune`]),
	/// and the variables of an epoch older than the current one left with no key, with
	/// `KeysPruned`.
	pub(crate) fn remove_keys(keys: Vec<RiskKeyOf<T>>) {
		let current = RiskEpoch::<T>::get().map(|e| e.id);
		let mut pruned = Vec::new();
		let mut epochs = Vec::new();
		for key in keys {
			RiskKeys::<T>::remove(key.epoch(), key);
			if let Some(epoch) = key.epoch() {
				if Some(epoch) != current
					&& !epochs.contains(&epoch)
					&& !Self::epoch_has_keys(epoch)
				{
					EpochVariables::<T>::remove(epoch);
					epochs.push(epoch);
				}
			}
			pruned.push(key);
		}
		if !pruned.is_empty() {
			Self::deposit_event(Event::KeysPruned { keys: pruned, epochs });
		}
	}

	/// Up to `limit` keys of the index with no entry left.
	pub fn empty_keys(limit: usize) -> Vec<RiskKeyOf<T>> {
		Self::empty_keys_from(None, usize::MAX, limit).0
	}

	/// Up to `limit` keys with no entry left among up to `examine` keys after `after` (from
	/// the first without), a read of each key's prefix, and the last key examined when it
	/// stopped before the end: what the offchain worker prunes, reading a bounded part of
	/// the keys each run.
	pub(crate) fn empty_keys_from(
		after: Option<RiskKeyOf<T>>,
		examine: usize,
		limit: usize,
	) -> (Vec<RiskKeyOf<T>>, Option<RiskKeyOf<T>>) {
		let keys = match after {
			Some(key) => {
				RiskKeys::<T>::iter_keys_from(RiskKeys::<T>::hashed_key_for(key.epoch(), key))
			},
			None => RiskKeys::<T>::iter_keys(),
		};
		let (mut found, mut last, mut seen) = (Vec::new(), None, 0usize);
		for (_, key) in keys {
			if seen >= examine || found.len() >= limit {
				return (found, last);
			}
			seen = seen.saturating_add(1);
			if Self::key_empty(&key) {
				found.push(key);
			}
			last = Some(key);
		}
		(found, None)
	}

	/// Where `who` is filed in the index (`None`: nowhere, it has no debt).
	pub fn filed(who: &T::AccountId) -> Option<FilingOf<T>> {
		T::Lending::index_tag(who)
	}

	/// Where `who` belongs in the index now (`None` without debt).
	pub fn filing_of(who: &T::AccountId) -> Option<FilingOf<T>> {
		Self::filing_of_shares(&T::Lending::account_shares(who))
	}

	/// Where an account of position `shares` belongs in the index now (`None` without debt).
	fn filing_of_shares(shares: &AccountShares<T::AssetId>) -> Option<FilingOf<T>> {
		match (shares.collateral.as_slice(), shares.debts.as_slice()) {
			(_, []) => None,
			([], _) => Some(Filing::Watch),
			([(collateral, collateral_shares)], [(debt, debt_shares)]) => Some(Filing::Entry(
				RiskKey::Pair { collateral: *collateral, debt: *debt },
				risk::pair_bucket(*debt_shares, *collateral_shares),
			)),
			(collateral, debts) => {
				Some(Self::wide_filing(collateral, debts).unwrap_or(Filing::Watch))
			},
		}
	}

	/// The entry of an account with several assets: its health at the current epoch's
	/// variables, under the key of that epoch and its assets. A collateral not in the epoch,
	/// or without a variable or weight in it, counts for nothing and is not in the key (it
	/// can only add value); `None` (watched) without an epoch, with a debt not in it or
	/// without a variable, or with no collateral weight.
	fn wide_filing(
		collateral: &[(T::AssetId, u128)],
		debts: &[(T::AssetId, u128)],
	) -> Option<FilingOf<T>> {
		let epoch = RiskEpoch::<T>::get()?.id;
		let variables = EpochVariables::<T>::get(epoch)?;
		let place = |asset: &T::AssetId| variables.iter().position(|(a, _, _)| a == asset);
		let (mut collateral_mask, mut weights) = (0u64, Vec::new());
		for (asset, shares) in collateral {
			let Some(i) = place(asset) else { continue };
			if let Some((_, Some(weight), _)) = variables.get(i) {
				if !weight.is_zero() {
					collateral_mask |= bit(i)?;
					weights.push((*weight, *shares));
				}
			}
		}
		let (mut debt_mask, mut debt_weights) = (0u64, Vec::new());
		for (asset, shares) in debts {
			let i = place(asset)?;
			let weight = variables.get(i)?.2?;
			debt_mask |= bit(i)?;
			debt_weights.push((weight, *shares));
		}
		let bucket = risk::wide_entry(&weights, &debt_weights)?;
		let key = RiskKey::Wide { epoch, collateral: collateral_mask, debt: debt_mask };
		Some(Filing::Entry(key, bucket))
	}

	/// Whether filing `who` now would change where it is filed.
	pub fn needs_refile(who: &T::AccountId) -> bool {
		Self::filing_of(who) != Self::filed(who)
	}

	/// Files `who` where it belongs now, moving its entry if it changed (and the filing kept
	/// in its lending record with it: a write of the record a liquidation wrote already).
	pub fn file(who: &T::AccountId) {
		Self::file_checked(who, &mut TopCheck::Now)
	}

	/// [`Self::file`] for each of `accounts`, a key's top lowered once at the end (a batch's
	/// settled borrowers: most leave their key's top bucket, and looking whether each left it
	/// empty would cost a read of the database each).
	/// Returns the buckets looked at (each a storage iteration: at most one an account).
	pub(crate) fn file_all(accounts: &[T::AccountId]) -> u32 {
		let mut batch = TopCheck::Later(BatchFiling::default());
		for who in accounts {
			Self::file_checked(who, &mut batch);
		}
		match batch {
			TopCheck::Later(batch) => Self::lower_tops(batch),
			TopCheck::Now => 0,
		}
	}

	fn file_checked(who: &T::AccountId, check: &mut TopCheck<T::AssetId>) {
		// One read of the account's record: its shares and where it is filed.
		T::Lending::update_index_tag(who, |shares, filed| {
			let new = Self::filing_of_shares(shares);
			if Self::move_filing(who, &new, filed, check) {
				*filed = new;
			}
		});
	}

	/// Lowers each key's top past the buckets noted for it that are empty now, from the top
	/// down (each a read of the database), and writes the key's state once. Returns the
	/// buckets looked at: at most one a bucket noted.
	fn lower_tops(batch: BatchFiling<T::AssetId>) -> u32 {
		let BatchFiling { noted, mut states } = batch;
		let mut looks = 0u32;
		for (key, buckets) in noted {
			let state = match states.remove(&key) {
				Some(state) => state,
				None => Self::key_state(&key),
			};
			let Some(mut state) = state else { continue };
			let mut top = state.top;
			while buckets.contains(&top) && {
				looks = looks.saturating_add(1);
				Self::top_emptied(&key, top, top)
			} {
				match top.checked_sub(1) {
					Some(lower) => top = lower,
					None => break,
				}
			}
			if top != state.top {
				state.top = top;
				Self::put_key_state(&key, state);
			}
		}
		looks
	}

	/// Moves `who`'s entry from where it was filed, `old`, to `new` ([`Self::filing_of`]);
	/// whether it moved (the caller then keeps `new` as its filing).
	fn move_filing(
		who: &T::AccountId,
		new: &Option<FilingOf<T>>,
		old: &Option<FilingOf<T>>,
		check: &mut TopCheck<T::AssetId>,
	) -> bool {
		// An account with no debt left leaves pre-liquidation too: its opt-in would only cost
		// keepers a read every block, and nothing deposited pays for its storage. (A read, and
		// a write when it was there, on a path that writes no index entry: within the filing's
		// measured worst case, a move between keys.)
		if new.is_none() && PreLiquidation::<T>::take(who).is_some() {
			Self::deposit_event(Event::PreLiquidationCleared { account: who.clone() });
		}
		if new == old {
			return false;
		}
		let entry = |f: &Option<FilingOf<T>>| match f {
			Some(Filing::Entry(key, bucket)) => Some((*key, *bucket)),
			_ => None,
		};
		match (entry(old), entry(new)) {
			// The common move (a position's ratio changed): within its key.
			(Some((old_key, from)), Some((key, to))) if old_key == key => {
				Self::move_entry(&key, from, to, who, check)
			},
			(old, new) => {
				if let Some((key, bucket)) = old {
					Self::remove_entry(&key, bucket, who, check);
				}
				if let Some((key, bucket)) = new {
					Self::insert_entry(&key, bucket, who, check);
				}
			},
		}
		let watched = |f: &Option<FilingOf<T>>| matches!(f, Some(Filing::Watch));
		match (watched(old), watched(new)) {
			(false, true) => Watchlist::<T>::insert(who, ()),
			(true, false) => Watchlist::<T>::remove(who),
			_ => {},
		}
		true
	}

	/// Moves `who`'s entry under `key` from bucket `from` to `to`: its top is written only if
	/// it moves (up to `to`, or down past `from` when that emptied the top bucket).
	fn move_entry(
		key: &RiskKeyOf<T>,
		from: i32,
		to: i32,
		who: &T::AccountId,
		check: &mut TopCheck<T::AssetId>,
	) {
		RiskIndex::<T>::remove((key, from, who));
		RiskIndex::<T>::insert((key, to, who), ());
		let Some(mut state) = check.state::<T>(key) else {
			// (Never: a filed entry's key has a state. Enter it anew.)
			RiskIndex::<T>::remove((key, to, who));
			Self::insert_entry(key, to, who, check);
			return;
		};
		let mut top = state.top.max(to);
		if to < from && check.emptied::<T>(key, from, top) {
			top = from.saturating_sub(1).max(to);
		}
		if top != state.top {
			state.top = top;
			check.put_state::<T>(key, state);
		}
	}

	/// Takes `who`'s entry out of `key`, leaving the key's state as it is: its top stays an
	/// upper bound (a batch lowers it at its end: [`TopCheck::Later`]) and a key left with no
	/// entry stays until it is pruned ([`Self::do_prune`]). So a move between keys writes the
	/// state of the key entered and never that of the key left.
	fn remove_entry(
		key: &RiskKeyOf<T>,
		bucket: i32,
		who: &T::AccountId,
		check: &mut TopCheck<T::AssetId>,
	) {
		RiskIndex::<T>::remove((key, bucket, who));
		if let TopCheck::Later(batch) = check {
			batch.noted.entry(*key).or_default().insert(bucket);
		}
	}

	/// Puts `who`'s entry under `key` at `bucket`; the key's state is written only when it is
	/// new or its top rises.
	fn insert_entry(
		key: &RiskKeyOf<T>,
		bucket: i32,
		who: &T::AccountId,
		check: &mut TopCheck<T::AssetId>,
	) {
		RiskIndex::<T>::insert((key, bucket, who), ());
		match check.state::<T>(key) {
			Some(state) if state.top >= bucket => {},
			_ => check.put_state::<T>(key, KeyState { top: bucket }),
		}
	}

	/// Up to `limit` accounts filed in an epoch older than the current one, oldest first: the
	/// offchain worker refiles them, so old epochs empty (their keys are then pruned, and
	/// their variables with the last).
	pub fn in_old_epochs(limit: usize) -> Vec<T::AccountId> {
		let Some(current) = RiskEpoch::<T>::get().map(|e| e.id) else { return Vec::new() };
		if limit == 0 {
			return Vec::new();
		}
		// Only the older epochs' keys: a prefix each (an epoch's keys keep its variables).
		let mut epochs: Vec<u32> =
			EpochVariables::<T>::iter_keys().filter(|epoch| *epoch < current).collect();
		epochs.sort();
		let mut keys: Vec<RiskKeyOf<T>> = Vec::new();
		for epoch in epochs {
			let mut of_epoch: Vec<_> = RiskKeys::<T>::iter_key_prefix(Some(epoch)).collect();
			of_epoch.sort();
			keys.extend(of_epoch);
		}
		let mut found = Vec::new();
		for key in keys {
			for (_, who) in RiskIndex::<T>::iter_key_prefix((key,)) {
				if found.len() >= limit {
					return found;
				}
				found.push(who);
			}
		}
		found
	}

	/// Files each of `accounts` anew (`refile`, `refile_unsigned`), with its event.
	pub(crate) fn do_refile(accounts: BoundedVec<T::AccountId, T::MaxRefile>) {
		for who in &accounts {
			Self::file(who);
		}
		Self::deposit_event(Event::Refiled { accounts: accounts.into_inner() });
	}

	/// Runs a liquidation of `borrower` with the lending hook's filing deferred, then files the
	/// borrower once, as it is after. A weight the liquidation returns (what its route used)
	/// gets the filing's added ([`Self::filing_weight`]): its declared weight holds it, and a
	/// refund must not give it back (found by review).
	pub(crate) fn deferring(
		borrower: &T::AccountId,
		f: impl FnOnce() -> frame_support::dispatch::DispatchResultWithPostInfo,
	) -> frame_support::dispatch::DispatchResultWithPostInfo {
		Deferred::<T>::put(true);
		let result = f();
		Deferred::<T>::kill();
		let mut result = result?;
		Self::file(borrower);
		result.actual_weight =
			result.actual_weight.map(|used| used.saturating_add(Self::filing_weight()));
		Ok(result)
	}

	/// Up to `limit` accounts that may be below health 1, riskiest first: the watch list, then
	/// every key read by its level ([`Reading::Level`]) from the deepest entry below it (how far
	/// the entry is above the level) up to [`risk::SLACK`] buckets above it, then every entry of
	/// each key read whole ([`Reading::Whole`]: a dead collateral feed); and where to go on
	/// (`None` at the end). Keys that cannot be read (a stale price) are skipped. Read in
	/// pages while prices move: a key that turns to be read whole is read in the pass's last
	/// phase, one that stops being read whole under the cursor is finished (an account a move
	/// puts deeper than the depth the pass has passed waits for the next pass).
	pub fn at_risk(
		start: Option<RiskCursorOf<T>>,
		limit: u32,
	) -> (Vec<T::AccountId>, Option<RiskCursorOf<T>>) {
		Self::read_index(start, limit, true)
	}

	/// Up to `limit` accounts of [`Self::at_risk`]'s first two phases from the start (the
	/// watch list, the keys read by level): what the worker reads first in each run while its
	/// cursor is in the keys read whole.
	pub fn at_risk_by_level(limit: u32) -> Vec<T::AccountId> {
		Self::read_index(None, limit, false).0
	}

	fn read_index(
		start: Option<RiskCursorOf<T>>,
		limit: u32,
		read_whole: bool,
	) -> (Vec<T::AccountId>, Option<RiskCursorOf<T>>) {
		let limit = usize::try_from(limit).unwrap_or(usize::MAX);
		if limit == 0 {
			return (Vec::new(), start);
		}
		let mut found = Vec::new();
		let mut seen = BTreeSet::new();
		let mut resume = None;
		let start_whole = match &start {
			Some(RiskCursor::Whole { key, after }) => Some((*key, after.clone())),
			_ => None,
		};
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
			Some(RiskCursor::Whole { .. }) => {},
		}
		// Keys read by level, as `(key, top, level)`, and keys read whole.
		let mut keys: Vec<(RiskKeyOf<T>, i32, i32)> = Vec::new();
		let mut whole: Vec<RiskKeyOf<T>> = Vec::new();
		let mut cache = Cache::default();
		for (_, key, KeyState { top }) in RiskKeys::<T>::iter() {
			match Self::reading_with(&key, &mut cache) {
				Some(Reading::Level(level)) => keys.push((key, top, level)),
				Some(Reading::Whole) => whole.push(key),
				None => {},
			}
		}
		// A cursor in the keys read whole goes on there (the keys read by level were read
		// before it in this pass), and finishes its key whatever the key reads now.
		if let Some((key, _)) = &start_whole {
			if !whole.contains(key) && RiskKeys::<T>::contains_key(key.epoch(), key) {
				whole.push(*key);
			}
		}
		keys.sort_by_key(|k| k.0);
		whole.sort();
		if !read_whole {
			whole.clear();
		}
		let resume_whole = match start_whole {
			Some((key, after)) => Some((key, after)),
			None => {
				if let Some(stop) = Self::read_levels(&keys, resume, limit, &mut found, &mut seen) {
					return (found, Some(stop));
				}
				None
			},
		};
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
						return (found, Some(RiskCursor::Whole { key, after: last }));
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
	/// the watched filings, every entry's key has a state whose top bounds its bucket (a key
	/// may have none left until pruned), every key is stored under its epoch, only live
	/// epochs keep variables, and an account is filed exactly when it has debt.
	#[cfg(any(test, feature = "std", feature = "try-runtime"))]
	pub(crate) fn index_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		use frame_support::ensure;
		let mut entries = 0usize;
		let mut after = None;
		loop {
			let page = T::Lending::accounts(after.clone(), 1_000);
			for who in &page {
				let filing = Self::filed(who);
				let indebted = !T::Lending::account_shares(who).debts.is_empty();
				ensure!(!indebted || filing.is_some(), "an account with debt not in the index");
				ensure!(indebted || filing.is_none(), "an account without debt in the index");
				match filing {
					None => {},
					Some(Filing::Watch) => ensure!(
						Watchlist::<T>::contains_key(who),
						"a watched filing off the watch list"
					),
					Some(Filing::Entry(key, bucket)) => {
						ensure!(
							!Watchlist::<T>::contains_key(who),
							"a filed account on the watch list"
						);
						ensure!(
							RiskIndex::<T>::contains_key((key, bucket, who)),
							"a filing's entry missing from the index"
						);
						entries = entries.saturating_add(1);
					},
				}
			}
			if page.len() < 1_000 {
				break;
			}
			after = page.last().cloned();
		}
		let mut indexed = 0usize;
		for (key, bucket, _) in RiskIndex::<T>::iter_keys() {
			ensure!(
				Self::key_state(&key).is_some_and(|state| bucket <= state.top),
				"an entry above its key's top"
			);
			indexed = indexed.saturating_add(1);
		}
		ensure!(indexed == entries, "index entries that no filing holds");
		let mut per_epoch: BTreeSet<u32> = BTreeSet::new();
		for (epoch, key) in RiskKeys::<T>::iter_keys() {
			ensure!(epoch == key.epoch(), "a key stored under another epoch");
			if let Some(epoch) = epoch {
				ensure!(EpochVariables::<T>::contains_key(epoch), "a key of an epoch gone");
				per_epoch.insert(epoch);
			}
		}
		let current = RiskEpoch::<T>::get().map(|e| e.id);
		for epoch in EpochVariables::<T>::iter_keys() {
			ensure!(
				Some(epoch) == current || per_epoch.contains(&epoch),
				"variables of an epoch with no key"
			);
		}
		for who in Watchlist::<T>::iter_keys() {
			ensure!(
				matches!(Self::filed(&who), Some(Filing::Watch)),
				"a watched account not filed as watched"
			);
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

/// The lending pallet's hook: the index follows every rise in an account's risk, and every
/// change of the assets it holds (a supply, a collateral enabled, a debt repaid whole, each of
/// which lowers the risk, may make a one-collateral account hold two: its pair entry would no
/// longer value what a liquidation values).
impl<T: Config> OnPositionChanged<T::AccountId, T::AssetId> for Pallet<T> {
	/// Where the account is filed.
	type Tag = Option<FilingOf<T>>;

	fn on_position_changed(
		who: &T::AccountId,
		shares: &AccountShares<T::AssetId>,
		filed: &mut Option<FilingOf<T>>,
		_assets: &[T::AssetId],
		change: RiskChange,
	) {
		if Deferred::<T>::get() {
			// (The liquidation files the account at its end, from the filing kept here.)
			return;
		}
		let new = Self::filing_of_shares(shares);
		// Where the account is filed, less the bucket: a fall in risk alone leaves the entry
		// where it was (it over-reports, never misses).
		let shape = |f: &Option<FilingOf<T>>| match f {
			Some(Filing::Entry(key, _)) => Some(Some(*key)),
			Some(Filing::Watch) => Some(None),
			None => None,
		};
		let refile = match change {
			RiskChange::Raised => true,
			RiskChange::Lowered => shape(&new) != shape(filed),
		};
		if refile && Self::move_filing(who, &new, filed, &mut TopCheck::Now) {
			*filed = new;
		}
	}

	fn weight(_change: RiskChange) -> frame_support::weights::Weight {
		// `file_position` moves the entry to a new key (the state of the key entered written,
		// the key left untouched: 3 r + 3 w); a move within a key writes as much and, out of
		// the key's top bucket, looks whether it emptied it: a storage iteration, two reads of
		// the prefix as `file_pair` counts it, charged here with it.
		T::WeightInfo::file_position().saturating_add(T::DbWeight::get().reads(2))
	}
}
