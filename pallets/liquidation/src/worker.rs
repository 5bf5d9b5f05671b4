//! The offchain worker: every block, every validator's node reads the accounts the risk index
//! reports (riskiest first, from where its last run stopped), keeps those a cheap health check
//! finds below 1, and submits their settlement as unsigned transactions: batches
//! ([`Call::settle_batch_unsigned`]) of the positions a dry run of the batch itself settles,
//! each sized to the block's normal dispatch weight left by the run's earlier submissions, and
//! [`Call::settle_unsigned`] (after a dry run of it) for each position a batch passes over
//! (the backstop, the loss waterfall). A slow sweep of every account, a page per block, catches
//! anything the index could miss. Each run also submits [`Call::redo_unsigned`] for every
//! Dutch auction due a reset or a close.
//!
//! - An offchain `StorageLock` keeps two runs of one node (forks, a slow run) from overlapping.
//! - Persistent offchain storage keeps the index cursor, the sweep cursor and the accounts
//!   submitted within the transaction longevity, each with a fingerprint of its position: one
//!   is not submitted again while its position is unchanged (its settlement still in the
//!   pool), and is the run after its settlement lands if that left it below 1.
//! - Each unsigned call names the block it was made at (`at`): the same settlement made again
//!   is a new transaction (the pool refuses the bytes of one a block included).
//! - A run checks at most `MaxChecksPerRun` accounts and submits at most what one block's
//!   normal dispatch weight can settle (by the calls' declared weights); when it stops early,
//!   the next run reads the same page again (what it submitted is skipped), so every account
//!   is reached.
//!
//! Submission is `CreateBare` + `ValidateUnsigned`: the validity (and its priority band,
//! tags and longevity) is the pallet's own, with no transaction extension to add to the
//! runtime and nothing for clients to learn; `#[pallet::authorize]` would need
//! `frame_system::AuthorizeCall` in the runtime's extension pipeline for the same result.

use crate::{
	index::{RiskCursorOf, RiskKeyOf},
	pallet::*,
	types::{BatchWitness, Skipped, MAX_PRUNE},
	StandingBids,
};
use alloc::{
	collections::{BTreeMap, BTreeSet, VecDeque},
	vec::Vec,
};
use frame_support::{
	pallet_prelude::Weight,
	storage::{with_transaction, TransactionOutcome},
	traits::Get,
	BoundedVec,
};
use frame_system::{
	offchain::{CreateBare, SubmitTransaction},
	pallet_prelude::BlockNumberFor,
};
use pallet_lending::LendingPositions;
use sp_runtime::{
	offchain::{
		storage::StorageValueRef,
		storage_lock::{StorageLock, Time},
		Duration,
	},
	traits::{One, Saturating},
	transaction_validity::{InvalidTransaction, TransactionValidityError},
	DispatchError,
};

const LOCK: &[u8] = b"margincall/liquidation/worker-lock";
const CURSOR: &[u8] = b"margincall/liquidation/cursor";
const SWEEP: &[u8] = b"margincall/liquidation/sweep";
const SENT: &[u8] = b"margincall/liquidation/sent";
const PRUNE: &[u8] = b"margincall/liquidation/prune";
/// Keys of the index a run looks at for `prune_keys_unsigned` (a read each), and most it
/// prunes: up to four transactions of `MAX_PRUNE`.
const PRUNE_EXAMINED: usize = 4 * MAX_PRUNE as usize;

/// Accounts submitted lately: the block they were submitted at, and a fingerprint of their
/// position then ([`Pallet::position_print`]).
type Sent<T> = BTreeMap<<T as frame_system::Config>::AccountId, (BlockNumberFor<T>, u64)>;
/// Accounts sent lately whose position changed since (their settlement landed, or someone
/// else acted while it may still be in the pool), with the block it was sent at.
type Resend<T> = BTreeMap<<T as frame_system::Config>::AccountId, BlockNumberFor<T>>;
/// A run that takes longer than this lets the next one start.
const LOCK_MS: u64 = 20_000;

/// Why a run did nothing.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum WorkerError {
	/// This node is not a validator: it leaves the work to those that are.
	NotValidator,
	/// Another run of this node holds the lock.
	Locked,
}

/// What one run did.
#[derive(Clone, PartialEq, Eq, Debug, frame_support::DefaultNoBound)]
pub struct RunReport<AccountId> {
	/// Accounts read from the index, and the sweep's page.
	pub checked: u32,
	/// Accounts a settlement was submitted for.
	pub submitted: Vec<AccountId>,
	/// How many `settle_batch_unsigned` were submitted (the rest of `submitted` went as
	/// `settle_unsigned`).
	pub batches: u32,
	/// Accounts skipped: submitted by an earlier run, still within the longevity, their
	/// position unchanged since (the settlement still in the pool, or dropped).
	pub already_sent: u32,
	/// Accounts read that are not below health 1 (an entry over-reporting, or the boundary
	/// bucket).
	pub healthy: u32,
	/// Accounts below health 1 whose settlement would fail now (a stale price, no route).
	pub refused: u32,
	/// Whether the run stopped before the end of its page (the next run reads it again).
	pub stopped_early: bool,
	/// Accounts read at health 1 or above whose entries over-report: a `refile_unsigned` of
	/// the first `MaxRefile` of them is submitted.
	pub to_refile: Vec<AccountId>,
	/// Whether that refile was submitted.
	pub refile_submitted: bool,
	/// Keys of the index with no entry left `prune_keys_unsigned` transactions were submitted
	/// for (at most four of `MAX_PRUNE`; 0: none found, or the pool refused them).
	pub pruned: u32,
	/// Auctions a `redo_unsigned` was submitted for (a reset due, or nothing left to do).
	pub redos: Vec<u32>,
}

impl<T: Config + CreateBare<Call<T>>> Pallet<T> {
	/// One run of the worker at block `now`.
	pub fn run_worker(now: BlockNumberFor<T>) -> Result<RunReport<T::AccountId>, WorkerError> {
		if !sp_io::offchain::is_validator() {
			return Err(WorkerError::NotValidator);
		}
		let mut lock = StorageLock::<Time>::with_deadline(LOCK, Duration::from_millis(LOCK_MS));
		let _guard = lock.try_lock().map_err(|_| WorkerError::Locked)?;

		let mut cursor_ref = StorageValueRef::persistent(CURSOR);
		let cursor: Option<RiskCursorOf<T>> = cursor_ref.get().ok().flatten();
		let sent_ref = StorageValueRef::persistent(SENT);
		// Encoded as a sequence of `(account, (block, fingerprint))` pairs.
		let mut sent: Sent<T> = sent_ref.get().ok().flatten().unwrap_or_default();
		let longevity = BlockNumberFor::<T>::from(T::UnsignedLongevity::get());
		sent.retain(|_, (at, _)| now < at.saturating_add(longevity));

		let mut report = RunReport::default();
		let mut resend = Resend::<T>::new();
		let limit = T::MaxChecksPerRun::get();
		// `paged`: the accounts read from the cursor, whose handling decides whether it moves.
		let (page, paged, next) = match &cursor {
			// In the keys read whole (a dead collateral feed, until the next epoch): the watch
			// list and the keys read by level take up to half the run first (read from their
			// start again each run), so an account a price move puts below 1 elsewhere waits
			// no more than a run.
			Some(crate::types::RiskCursor::Whole { .. }) => {
				let mut page = Self::at_risk_by_level(limit / 2);
				let mut listed: BTreeSet<T::AccountId> = page.iter().cloned().collect();
				let room = limit.saturating_sub(u32::try_from(page.len()).unwrap_or(limit));
				let (rest, next) = Self::at_risk(cursor.clone(), room);
				let paged: BTreeSet<T::AccountId> = rest.iter().cloned().collect();
				page.extend(rest.into_iter().filter(|who| listed.insert(who.clone())));
				(page, Some(paged), next)
			},
			_ => {
				let (page, next) = Self::at_risk(cursor.clone(), limit);
				(page, None, next)
			},
		};
		let mut candidates = Vec::new();
		for who in page {
			report.checked = report.checked.saturating_add(1);
			if Self::screen(&who, &mut sent, &mut resend, &mut report) {
				candidates.push(who);
			}
		}
		let from_index: BTreeSet<T::AccountId> = match &paged {
			Some(paged) => candidates.iter().filter(|who| paged.contains(*who)).cloned().collect(),
			None => candidates.iter().cloned().collect(),
		};
		// The sweep: a page of every account, for what the index could miss.
		let mut sweep_ref = StorageValueRef::persistent(SWEEP);
		let after: Option<T::AccountId> = sweep_ref.get().ok().flatten();
		let (swept, sweep_next) = Self::sweep(after, T::SweepPerRun::get());
		report.checked = report.checked.saturating_add(T::SweepPerRun::get());
		for who in swept {
			if !candidates.contains(&who) && Self::screen(&who, &mut sent, &mut resend, &mut report)
			{
				candidates.push(who);
			}
		}
		let unhandled = Self::submit_settlements(candidates, now, &resend, &mut sent, &mut report);
		// Accounts of older epochs are refiled into the current one, where the index reads
		// them most tightly (an old epoch's keys are then pruned, its variables with the last).
		let max = usize::try_from(T::MaxRefile::get()).unwrap_or(usize::MAX);
		for who in Self::in_old_epochs(max.saturating_sub(report.to_refile.len())) {
			if !report.to_refile.contains(&who) {
				report.to_refile.push(who);
			}
		}
		// Stopped by the block's weight (or the pool) before the index's candidates were all
		// handled: the next run reads this page again.
		report.stopped_early = unhandled.iter().any(|who| from_index.contains(who));
		Self::submit_refile(now, &mut report);
		Self::submit_prune(now, &mut report);
		Self::submit_redos(now, &mut report);
		match sweep_next {
			Some(after) => sweep_ref.set(&after),
			None => sweep_ref.clear(),
		}
		if !report.stopped_early {
			match next {
				Some(cursor) => cursor_ref.set(&cursor),
				None => cursor_ref.clear(),
			}
		}
		sent_ref.set(&sent);
		Ok(report)
	}

	/// Submits one `refile_unsigned` of the over-reporting accounts this run read.
	fn submit_refile(now: BlockNumberFor<T>, report: &mut RunReport<T::AccountId>) {
		let max = usize::try_from(T::MaxRefile::get()).unwrap_or(usize::MAX);
		let accounts: Vec<_> = report.to_refile.iter().take(max).cloned().collect();
		let Ok(accounts) = frame_support::BoundedVec::try_from(accounts) else { return };
		if accounts.is_empty() {
			return;
		}
		let xt = T::create_bare(Call::refile_unsigned { accounts, at: now }.into());
		report.refile_submitted = SubmitTransaction::<T, Call<T>>::submit_transaction(xt).is_ok();
	}

	/// Submits `prune_keys_unsigned` of the index's keys with no entry left among the next
	/// `PRUNE_EXAMINED` keys, `MAX_PRUNE` a transaction (a cursor kept from run to run, so a
	/// run reads a bounded part of the keys whatever their number). The cursor moves on only
	/// when every one found was sent: keys of a transaction the pool refused (one of an
	/// earlier run still in it names them) are looked at again.
	fn submit_prune(now: BlockNumberFor<T>, report: &mut RunReport<T::AccountId>) {
		let mut cursor_ref = StorageValueRef::persistent(PRUNE);
		let after: Option<RiskKeyOf<T>> = cursor_ref.get().ok().flatten();
		let (keys, next) = Self::empty_keys_from(after, PRUNE_EXAMINED, PRUNE_EXAMINED);
		let mut all_sent = true;
		for chunk in keys.chunks(MAX_PRUNE as usize) {
			let Ok(list) = frame_support::BoundedVec::try_from(chunk.to_vec()) else {
				all_sent = false;
				continue;
			};
			let xt = T::create_bare(Call::prune_keys_unsigned { keys: list, at: now }.into());
			if SubmitTransaction::<T, Call<T>>::submit_transaction(xt).is_ok() {
				let n = u32::try_from(chunk.len()).unwrap_or(MAX_PRUNE);
				report.pruned = report.pruned.saturating_add(n);
			} else {
				all_sent = false;
			}
		}
		if all_sent {
			match next {
				Some(key) => cursor_ref.set(&key),
				None => cursor_ref.clear(),
			}
		}
	}

	/// Submits `redo_unsigned` for each live auction (at most `MaxAuctions`) a dry run shows
	/// due: a stale one reset, one with nothing left to do closed. The pool keeps one per
	/// auction (its tag); a repeat in a later run is refused there.
	fn submit_redos(now: BlockNumberFor<T>, report: &mut RunReport<T::AccountId>) {
		for id in Auctions::<T>::iter_keys() {
			if Self::redo_due(id) && Self::submit(Call::redo_unsigned { id, at: now }) {
				report.redos.push(id);
			}
		}
	}

	/// Whether `who` is a candidate: not sent lately (or its position changed since: the
	/// settlement landed, in part, or the account acted), and below health 1 by the cheap
	/// check (those at 1 or above are counted, and queued for a refile if they over-report).
	///
	/// A settlement that leaves the account below 1 (a block's cap on the pool's depth, the
	/// breaker's sale cap or the backstop's limit, or a further fall meanwhile) is sent again
	/// the run after it lands, not only after the longevity: in a crash, every block counts.
	/// An unchanged position means the settlement is still in the pool (or was dropped): a
	/// second one would conflict with its tag.
	fn screen(
		who: &T::AccountId,
		sent: &mut Sent<T>,
		resend: &mut Resend<T>,
		report: &mut RunReport<T::AccountId>,
	) -> bool {
		if let Some((at, print)) = sent.get(who) {
			if *print == Self::position_print(who) {
				report.already_sent = report.already_sent.saturating_add(1);
				return false;
			}
			resend.insert(who.clone(), *at);
			sent.remove(who);
		}
		if !Self::may_settle(who) {
			report.healthy = report.healthy.saturating_add(1);
			if Self::needs_refile(who) {
				report.to_refile.push(who.clone());
			}
			return false;
		}
		true
	}

	/// Submits the settlement of `candidates`, in order, within one block's normal dispatch
	/// weight: batches of what a dry run of the batch settles, `settle_unsigned` for what a
	/// batch passes over and a dry run of `settle` settles. The dry runs build on each other
	/// (a batch sees the pool and the cash the earlier ones used) inside one layer that is
	/// rolled back at the end. They run as of the next block, where the settlements land: a
	/// block's caps (the pool's depth cap, the backstop's block limit, the breaker's sale cap)
	/// spent in block `now` are new there. Returns the candidates it could not handle (the
	/// weight ran out, or the pool refused them).
	fn submit_settlements(
		candidates: Vec<T::AccountId>,
		now: BlockNumberFor<T>,
		resend: &Resend<T>,
		sent: &mut Sent<T>,
		report: &mut RunReport<T::AccountId>,
	) -> Vec<T::AccountId> {
		// The positions as they are, before the dry runs change them.
		let prints: BTreeMap<T::AccountId, u64> =
			candidates.iter().map(|who| (who.clone(), Self::position_print(who))).collect();
		with_transaction(|| {
			Self::dry_run_as_of(now.saturating_add(One::one()));
			let planner: Planner<'_, T> = Planner { now, prints: &prints, resend };
			let unhandled = planner.plan_and_submit(candidates, sent, report);
			TransactionOutcome::Rollback(Ok::<_, DispatchError>(unhandled))
		})
		.unwrap_or_default()
	}

	/// How many of `candidates`, from the first, one batch takes within `budget` (at most
	/// `MaxSettleBatch`, its declared weight within the budget), and the witness to dry-run it
	/// with: the pairs its narrow positions take (each position's one collateral and one debt,
	/// read now) and one more for each wide position (its pair is chosen when it is planned),
	/// up to `MaxBatchPairs`; and, as positions that may sell to the standing bids (each a
	/// seizure more: [`BatchWitness::bids`]), those whose pair has a bid in the book and every
	/// wide position (its pair is chosen when it is planned). The dry run, on the same state,
	/// takes no more; one whose position moved to another pair since is passed over beyond the
	/// witness. Its call declares what the dry run did.
	pub fn batch_prefix<'a>(
		candidates: impl Iterator<Item = &'a T::AccountId>,
		budget: Weight,
	) -> (usize, BatchWitness)
	where
		T::AccountId: 'a,
	{
		let max_batch = T::MaxSettleBatch::get();
		let max_pairs = T::MaxBatchPairs::get();
		let mut n = 0u32;
		let mut wide = 0u32;
		let mut bids = 0u32;
		// Each pair taken, and whether its book holds a bid (read once a pair).
		let mut pairs: Vec<PairBids<T::AssetId>> = Vec::new();
		let witness = |pairs: usize, wide: u32, bids: u32| BatchWitness {
			pairs: u32::try_from(pairs).unwrap_or(u32::MAX).saturating_add(wide).min(max_pairs),
			wide,
			bids,
		};
		for who in candidates {
			let (is_wide, pair) = Self::shape(who);
			let w = wide.saturating_add(u32::from(is_wide));
			let known = pair.and_then(|p| pairs.iter().find(|(q, _)| *q == p).map(|(_, b)| *b));
			let new = match (pair, known) {
				(Some(p), None) => Some((p, T::Bids::has_bids(p.0, p.1))),
				_ => None,
			};
			let bid = is_wide || known.or(new.map(|(_, b)| b)).unwrap_or(false);
			let b = bids.saturating_add(u32::from(bid));
			let next = n.saturating_add(1);
			let count = pairs.len().saturating_add(usize::from(new.is_some()));
			let declared = Self::settle_batch_unsigned_weight(next, &witness(count, w, b));
			if next > max_batch || declared.any_gt(budget) {
				break;
			}
			(n, wide, bids) = (next, w, b);
			pairs.extend(new);
		}
		(usize::try_from(n).unwrap_or(usize::MAX), witness(pairs.len(), wide, bids))
	}

	/// The witness a batch the worker dry-ran with `sized` ([`Self::batch_prefix`]) is sent
	/// with: the pairs and wide positions its dry run took, and the sales to the bids it was
	/// sized for (at most its settled positions), not only those its dry run made: a pair
	/// that dry-ran to the DEX may sell to the bids at inclusion (the pool or a bid moved
	/// meanwhile), and a lot beyond the witness would then be skipped (`OverBids`), its
	/// positions held until the call's longevity ends (found by review). What is not used of
	/// the declared weight is returned after dispatch.
	pub fn sent_witness(
		sized: &BatchWitness,
		dry: &crate::BatchReport<T::AccountId>,
	) -> BatchWitness {
		let settled = u32::try_from(dry.settled.len()).unwrap_or(u32::MAX);
		BatchWitness { pairs: dry.pairs, wide: dry.wide, bids: sized.bids.min(settled) }
	}

	/// Whether `who` is wide (more than one collateral or more than one debt), and a narrow
	/// position's pair `(collateral, debt)` (none without a debt or a collateral).
	#[allow(clippy::type_complexity)]
	fn shape(who: &T::AccountId) -> (bool, Option<(T::AssetId, T::AssetId)>) {
		let assets = T::Lending::account_assets(who);
		let mut collaterals = assets.supplies.iter().filter(|(_, c)| *c).map(|(a, _)| *a);
		let (first, more) = (collaterals.next(), collaterals.next().is_some());
		if more || assets.debts.len() > 1 {
			return (true, None);
		}
		(false, first.zip(assets.debts.first().copied()))
	}

	/// The batches the accounts below 1 now (up to `limit` read from the risk index, riskiest
	/// first) settle in, planned as the worker plans them (dry runs of each batch, building on
	/// each other, within the unsigned share of a block), each as `(borrowers in order,
	/// witness)`; nothing is kept. For the same-block service: called in a runtime API after
	/// the pending feed's prices were applied ([`Call::settle_after_feed`]). Positions a batch
	/// passes over are left to the worker's single settlements.
	pub fn plan_batches(limit: u32) -> Vec<(Vec<T::AccountId>, BatchWitness)> {
		let (page, _) = Self::at_risk(None, limit);
		let candidates: Vec<T::AccountId> = page.into_iter().filter(Self::may_settle).collect();
		with_transaction(|| {
			let mut budget = Self::unsigned_budget();
			let mut queue: VecDeque<T::AccountId> = candidates.into();
			let mut planned = Vec::new();
			while !queue.is_empty() {
				let (take, witness) = Self::batch_prefix(queue.iter(), budget);
				if take == 0 {
					break;
				}
				let mut chunk: Vec<T::AccountId> = queue.drain(..take).collect();
				chunk.sort();
				let dry = with_transaction(|| {
					match Self::settle_batch_filed(&Self::insurance_account(), &chunk, witness) {
						Ok(dry) if !dry.settled.is_empty() => {
							TransactionOutcome::Commit(Ok::<_, DispatchError>(Some(dry)))
						},
						_ => TransactionOutcome::Rollback(Ok(None)),
					}
				})
				.ok()
				.flatten();
				let Some(dry) = dry else { continue };
				queue.extend(
					dry.skipped
						.iter()
						.filter(|(_, why)| matches!(why, Skipped::OverWitness))
						.map(|(who, _)| who.clone()),
				);
				let witness = Self::sent_witness(&witness, &dry);
				// What it will use of the share once included (the rest of its claim is
				// returned after dispatch): [`Self::sent_use`].
				let spent =
					Self::sent_use(&dry, &witness).saturating_add(Self::after_feed_checks(1));
				budget = budget.saturating_sub(spent);
				let mut settled = dry.settled;
				settled.sort();
				planned.push((settled, witness));
			}
			TransactionOutcome::Rollback(Ok::<_, DispatchError>(planned))
		})
		.unwrap_or_default()
	}

	/// What a batch sent after its dry run `dry`, with `witness`, will use of the block once
	/// included: what the dry run did, and no more than the call sent declares (it names only
	/// the positions the dry run settled: a lot trimmed to the block's caps leaves planned
	/// positions out, whose planning the dry run's report counts; found by review).
	pub(crate) fn sent_use(
		dry: &crate::BatchReport<T::AccountId>,
		witness: &BatchWitness,
	) -> Weight {
		let n = u32::try_from(dry.settled.len()).unwrap_or(u32::MAX);
		Self::batch_report_weight(dry).min(Self::settle_batch_weight(n, witness))
	}

	/// A fingerprint of `who`'s position in shares (it does not move with interest): a
	/// settlement that lands changes it.
	pub(crate) fn position_print(who: &T::AccountId) -> u64 {
		let shares = T::Lending::account_shares(who);
		u64::from_le_bytes(sp_io::hashing::twox_64(&codec::Encode::encode(&shares)))
	}

	fn submit(call: Call<T>) -> bool {
		let xt = T::create_bare(call.into());
		let done = SubmitTransaction::<T, Call<T>>::submit_transaction(xt).is_ok();
		if !done {
			log::debug!(target: "runtime::liquidation", "submission refused by the pool");
		}
		done
	}
}

/// One run's planning: the block it runs at, the positions' fingerprints before the dry runs,
/// and the accounts sent again after their position changed.
struct Planner<'a, T: Config> {
	now: BlockNumberFor<T>,
	prints: &'a BTreeMap<T::AccountId, u64>,
	resend: &'a Resend<T>,
}

impl<T: Config> Planner<'_, T> {
	fn print(&self, who: &T::AccountId) -> u64 {
		self.prints.get(who).copied().unwrap_or(0)
	}

	/// Batches of what a dry run of the batch settles, `settle_unsigned` for what a batch
	/// passes over. Each dry run and its submission share one storage layer, kept for the next
	/// dry runs only if the pool took the transaction (a refused one spends no pool depth,
	/// block cap or insurance cash in the plan). An account sent again after its position
	/// changed goes alone: its earlier settlement may still be in the pool (someone else
	/// acted on the account meanwhile), and a refusal for its tag then costs only it, held as
	/// before, never a batch of others.
	fn plan_and_submit(
		&self,
		candidates: Vec<T::AccountId>,
		sent: &mut Sent<T>,
		report: &mut RunReport<T::AccountId>,
	) -> Vec<T::AccountId> {
		let mut budget = Pallet::<T>::unsigned_budget();
		let mut unhandled = Vec::new();
		let (again, fresh): (Vec<_>, Vec<_>) =
			candidates.into_iter().partition(|who| self.resend.contains_key(who));
		self.submit_singles(again, sent, report, &mut budget, &mut unhandled);
		let mut queue: VecDeque<T::AccountId> = fresh.into();
		let now = self.now;
		while !queue.is_empty() {
			let (take, witness) = Pallet::<T>::batch_prefix(queue.iter(), budget);
			if take == 0 {
				break;
			}
			// Sorted: an unsigned batch must name its borrowers in order (one transaction per
			// set of borrowers in the pool).
			let mut chunk: Vec<T::AccountId> = queue.drain(..take).collect();
			chunk.sort();
			let outcome = with_transaction(|| {
				let insurance = Pallet::<T>::insurance_account();
				match Pallet::<T>::settle_batch_filed(&insurance, &chunk, witness) {
					Ok(dry) if !dry.settled.is_empty() => {
						let mut borrowers = dry.settled.clone();
						borrowers.sort();
						let witness = Pallet::<T>::sent_witness(&witness, &dry);
						let call = BoundedVec::try_from(borrowers).map(|borrowers| {
							Call::settle_batch_unsigned { borrowers, witness, at: now }
						});
						if call.is_ok_and(Pallet::<T>::submit) {
							TransactionOutcome::Commit(Ok(Some((dry, true))))
						} else {
							TransactionOutcome::Rollback(Ok(Some((dry, false))))
						}
					},
					Ok(dry) => TransactionOutcome::Rollback(Ok(Some((dry, false)))),
					Err(e) => {
						log::debug!(target: "runtime::liquidation", "batch dry run failed: {e:?}");
						TransactionOutcome::Rollback(Ok::<_, DispatchError>(None))
					},
				}
			})
			.ok()
			.flatten();
			let Some((dry, submitted)) = outcome else {
				// Each on its own.
				self.submit_singles(chunk, sent, report, &mut budget, &mut unhandled);
				continue;
			};
			// What the batch will use of the block's unsigned share once included (its claim's
			// unused part is returned after dispatch): [`Pallet::sent_use`], and its checks.
			// (Its check at inclusion reads up to its first due borrower: one, as planned.)
			let sent_with = Pallet::<T>::sent_witness(&witness, &dry);
			let spent = Pallet::<T>::sent_use(&dry, &sent_with)
				.saturating_add(Pallet::<T>::unsigned_checks(1));
			let mut settled = dry.settled;
			settled.sort();
			if submitted {
				budget = budget.saturating_sub(spent);
				report.batches = report.batches.saturating_add(1);
				for who in &settled {
					sent.insert(who.clone(), (now, self.print(who)));
				}
				report.submitted.extend(settled);
			} else {
				unhandled.extend(settled);
			}
			let mut singles = Vec::new();
			for (who, why) in dry.skipped {
				match why {
					// Beyond the batch's pairs: the next batch takes it.
					Skipped::OverWitness => queue.push_back(who),
					// Healthy by now: nothing to do.
					Skipped::Healthy => report.refused = report.refused.saturating_add(1),
					_ => singles.push(who),
				}
			}
			self.submit_singles(singles, sent, report, &mut budget, &mut unhandled);
		}
		unhandled.extend(queue);
		unhandled
	}

	/// `settle_unsigned` for each of `accounts` whose dry run settles, within `budget`; what
	/// does not fit, or the pool refuses, is left in `unhandled` (an account sent again after
	/// its position changed and refused is held as before instead).
	fn submit_singles(
		&self,
		accounts: Vec<T::AccountId>,
		sent: &mut Sent<T>,
		report: &mut RunReport<T::AccountId>,
		budget: &mut Weight,
		unhandled: &mut Vec<T::AccountId>,
	) {
		// What each `settle_unsigned` reserves of the block (not what it is refunded to).
		let one = Pallet::<T>::settle_unsigned_weight();
		let now = self.now;
		for who in accounts {
			if one.any_gt(*budget) {
				unhandled.push(who);
				continue;
			}
			// The dry run and the submission in one layer, kept only if the pool took it.
			let outcome = with_transaction(|| {
				match Pallet::<T>::do_settle(&Pallet::<T>::insurance_account(), &who) {
					Ok(post) => {
						let call = Call::settle_unsigned { borrower: who.clone(), at: now };
						// What it will use of the share once included (the rest is returned).
						let spent = post
							.actual_weight
							.unwrap_or(one)
							.saturating_add(Pallet::<T>::unsigned_checks(1))
							.min(one);
						if Pallet::<T>::submit(call) {
							TransactionOutcome::Commit(Ok::<_, DispatchError>(Some(Some(spent))))
						} else {
							TransactionOutcome::Rollback(Ok(Some(None)))
						}
					},
					Err(_) => TransactionOutcome::Rollback(Ok(None)),
				}
			})
			.unwrap_or(None);
			match outcome {
				None => report.refused = report.refused.saturating_add(1),
				Some(Some(spent)) => {
					*budget = budget.saturating_sub(spent);
					sent.insert(who.clone(), (now, self.print(&who)));
					report.submitted.push(who);
				},
				Some(None) => match self.resend.get(&who) {
					// Its earlier settlement still in the pool (its tag): held until that one
					// can no longer land.
					Some(at) => {
						sent.insert(who.clone(), (*at, self.print(&who)));
						report.already_sent = report.already_sent.saturating_add(1);
					},
					None => unhandled.push(who),
				},
			}
		}
	}
}

/// A pair `(collateral, debt)` a batch takes, and whether its book holds a bid.
type PairBids<AssetId> = ((AssetId, AssetId), bool);

impl<T: Config> Pallet<T> {
	/// Sets the block number the state reads as, for a dry run inside a layer that is rolled
	/// back (the worker's and the same-block service's plans run as of the next block). Writes
	/// `frame_system`'s `Number` by its storage key: `frame_system::Pallet::set_block_number`
	/// exists only with `std` or `runtime-benchmarks`, so a production WASM has no other way
	/// short of `initialize`, which also resets the block's weight and digest.
	pub fn dry_run_as_of(n: BlockNumberFor<T>) {
		use frame_support::traits::PalletInfoAccess;
		let system = <frame_system::Pallet<T> as PalletInfoAccess>::name();
		let key = frame_support::storage::storage_prefix(system.as_bytes(), b"Number");
		frame_support::storage::unhashed::put(&key, &n);
	}

	/// Whether `settle_unsigned(borrower)` would succeed now: a dry run of the settlement
	/// itself, rolled back. What the worker and the transaction validity both use.
	pub fn can_settle(borrower: &T::AccountId) -> Result<(), DispatchError> {
		with_transaction(|| {
			let result = Self::do_settle(&Self::insurance_account(), borrower)
				.map(|_| ())
				.map_err(|e| e.error);
			TransactionOutcome::Rollback(result)
		})
	}

	/// The one rule of who may be liquidated, for the offchain worker, the views and the
	/// unsigned transactions' validity alike (a few reads per account, no dry run): the
	/// account has debt and either no collateral worth a unit (the loss waterfall) or a health
	/// below 1 as a liquidation computes it ([`LendingPositions::grace_health`]: an asset the
	/// liquidation does not touch may be up to the stale-price grace old) with at least one
	/// debt and one collateral priced fresh (the pair a liquidation needs). A disputed price
	/// counts at the disputed end that favours the borrower. Returns the health.
	pub fn liquidatable_health(borrower: &T::AccountId) -> Option<sp_arithmetic::FixedU128> {
		let assets = T::Lending::account_assets(borrower);
		if assets.debts.is_empty() {
			return None;
		}
		if !Self::has_collateral(borrower) {
			// (A shortfall waiting for the treasury's sale stays reported: the worker's dry run
			// submits its settlement in the block the sale can be made, or the wait ends.)
			return Some(sp_arithmetic::FixedU128::from_inner(0));
		}
		// A disputed price counts at the disputed end that favours the borrower, which every
		// fresh feeder supports (the soak's seed 104 found an account reported liquidatable
		// at a frozen agreed price, a disputed collateral beside a dust one, that no route
		// could act on: every route now reads the same ends).
		let health = T::Lending::grace_health(borrower).ok().filter(|h| h.is_liquidatable())?;
		let fresh = |asset: &T::AssetId| Self::price(asset).is_ok();
		let pair = assets.debts.iter().any(fresh)
			&& assets.supplies.iter().any(|(asset, collateral)| *collateral && fresh(asset));
		pair.then_some(health.factor)
	}

	/// Whether [`Self::liquidatable_health`] finds `borrower` liquidatable.
	pub fn may_settle(borrower: &T::AccountId) -> bool {
		Self::liquidatable_health(borrower).is_some()
	}

	/// One block's normal dispatch weight.
	pub fn normal_budget() -> Weight {
		let limits = <T as frame_system::Config>::BlockWeights::get();
		limits
			.get(frame_support::dispatch::DispatchClass::Normal)
			.max_total
			.unwrap_or(limits.max_block)
	}

	/// What the pallet's unsigned calls may declare in one block: `UnsignedShare` of the
	/// normal class (the worker plans within it; a block builder skips a call beyond it).
	pub fn unsigned_budget() -> Weight {
		let normal = Self::normal_budget();
		let share = T::UnsignedShare::get();
		Weight::from_parts(share.mul_floor(normal.ref_time()), share.mul_floor(normal.proof_size()))
	}

	/// `validation` and the count of the block's unsigned weight at inclusion (a read and a
	/// write): what an unsigned call's check costs the block that includes it.
	pub fn inclusion_check(validation: Weight) -> Weight {
		validation.saturating_add(T::DbWeight::get().reads_writes(1, 1))
	}

	/// What an unsigned settlement of `n` borrowers adds to its dispatch: its validity check
	/// at inclusion (`validate_settle_batch(n)` and the count of the block's unsigned
	/// weight) and the return of the unused part of its claim after dispatch (one write).
	pub fn unsigned_checks(n: u32) -> Weight {
		Self::inclusion_check(<T::WeightInfo as crate::WeightInfo>::validate_settle_batch(n))
			.saturating_add(T::DbWeight::get().writes(1))
	}

	/// [`Self::unsigned_checks`] of a `settle_after_feed` of `n` borrowers: its check once the
	/// feed has landed (`validate_settle_after_feed(n)`: the batch's and the feed's nonce).
	pub fn after_feed_checks(n: u32) -> Weight {
		Self::inclusion_check(<T::WeightInfo as crate::WeightInfo>::validate_settle_after_feed(n))
			.saturating_add(T::DbWeight::get().writes(1))
	}

	/// Returns to this block's unsigned share what a settlement declared and did not use
	/// (`declared` less its actual weight): what a block of unsigned settlements holds is
	/// then bound by what they did, as the normal class's refunds bind a block, not by each
	/// one's worst case (a single settlement declares its worst route, 8 + 8 markets).
	pub(crate) fn return_unsigned(
		declared: Weight,
		result: frame_support::dispatch::DispatchResultWithPostInfo,
	) -> frame_support::dispatch::DispatchResultWithPostInfo {
		let actual = match &result {
			Ok(post) => post.actual_weight,
			Err(e) => e.post_info.actual_weight,
		}
		.unwrap_or(declared);
		let unused = declared.saturating_sub(actual);
		let now = Self::block_number_u32();
		UnsignedUsed::<T>::mutate(|(block, used)| {
			if *block == now {
				*used = used.saturating_sub(unused);
			}
		});
		result
	}

	/// Counts an unsigned call declaring `weight` against this block's [`Self::unsigned_budget`]
	/// (at inclusion; at validation the count is of a block that is not built, and is
	/// dropped): beyond it the call waits for a later block (`ExhaustsResources`).
	pub(crate) fn claim_unsigned(weight: Weight) -> Result<(), TransactionValidityError> {
		let now = Self::block_number_u32();
		let used = match UnsignedUsed::<T>::get() {
			(block, used) if block == now => used,
			_ => Weight::default(),
		};
		let used = used.saturating_add(weight);
		if used.any_gt(Self::unsigned_budget()) {
			return Err(InvalidTransaction::ExhaustsResources.into());
		}
		UnsignedUsed::<T>::put((now, used));
		Ok(())
	}

	/// How many single settlements through the DEX the unsigned share of one block holds: each
	/// keeps of the share what it did (a DEX settlement, the borrower's filing at its end and
	/// its checks) once the unused part of its claim is returned (each must still fit its
	/// declared weight when it is claimed).
	pub fn settlements_per_block() -> usize {
		let budget = Self::unsigned_budget();
		let one = Self::dex_weight()
			.saturating_add(Self::filing_weight())
			.saturating_add(Self::unsigned_checks(1));
		let by_time = budget.ref_time().checked_div(one.ref_time()).unwrap_or(0);
		let by_proof = budget.proof_size().checked_div(one.proof_size()).unwrap_or(u64::MAX);
		usize::try_from(by_time.min(by_proof)).unwrap_or(usize::MAX)
	}
}
