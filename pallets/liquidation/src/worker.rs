//! The offchain worker: every block, every validator's node reads the accounts the risk index
//! reports (riskiest first, from where its last run stopped), checks each with a dry run of
//! the settlement itself (after a cheap health check), and submits the ones that would succeed as unsigned
//! [`Call::settle_unsigned`] transactions. A slow sweep of every account, a page per block,
//! catches anything the index could miss.
//!
//! - An offchain `StorageLock` keeps two runs of one node (forks, a slow run) from overlapping.
//! - Persistent offchain storage keeps the index cursor, the sweep cursor and the accounts
//!   submitted within the transaction longevity (never submitted twice meanwhile).
//! - A run checks at most `MaxChecksPerRun` accounts and submits at most what one block's
//!   normal dispatch weight can settle; when it stops early, the next run reads the same page
//!   again (what it submitted is skipped), so every account is reached.
//!
//! Submission is `CreateBare` + `ValidateUnsigned`: the validity (and its priority band,
//! tags and longevity) is the pallet's own, with no transaction extension to add to the
//! runtime and nothing for clients to learn; `#[pallet::authorize]` would need
//! `frame_system::AuthorizeCall` in the runtime's extension pipeline for the same result.

use crate::{index::RiskCursorOf, pallet::*, weights::WeightInfo};
use alloc::vec::Vec;
use frame_support::{
	storage::{with_transaction, TransactionOutcome},
	traits::Get,
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
	traits::Saturating,
	DispatchError,
};

const LOCK: &[u8] = b"margincall/liquidation/worker-lock";
const CURSOR: &[u8] = b"margincall/liquidation/cursor";
const SWEEP: &[u8] = b"margincall/liquidation/sweep";
const SENT: &[u8] = b"margincall/liquidation/sent";
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
	/// Accounts skipped: submitted by an earlier run, still within the longevity.
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
		let mut sent: Vec<(T::AccountId, BlockNumberFor<T>)> =
			sent_ref.get().ok().flatten().unwrap_or_default();
		let longevity = BlockNumberFor::<T>::from(T::UnsignedLongevity::get());
		sent.retain(|(_, at)| now < at.saturating_add(longevity));

		let mut report = RunReport::default();
		let budget = Self::settlements_per_block();
		let (page, next) = Self::at_risk(cursor.clone(), T::MaxChecksPerRun::get());
		for who in page {
			if report.submitted.len() >= budget {
				report.stopped_early = true;
				break;
			}
			report.checked = report.checked.saturating_add(1);
			Self::consider(who, now, &mut sent, &mut report);
		}
		// The sweep: a page of every account, for what the index could miss.
		let mut sweep_ref = StorageValueRef::persistent(SWEEP);
		let after: Option<T::AccountId> = sweep_ref.get().ok().flatten();
		let (swept, sweep_next) = Self::sweep(after, T::SweepPerRun::get());
		report.checked = report.checked.saturating_add(T::SweepPerRun::get());
		for who in swept {
			if report.submitted.len() >= budget {
				break;
			}
			Self::consider(who, now, &mut sent, &mut report);
		}
		Self::submit_refile(&mut report);
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
	fn submit_refile(report: &mut RunReport<T::AccountId>) {
		let max = usize::try_from(T::MaxRefile::get()).unwrap_or(usize::MAX);
		let accounts: Vec<_> = report.to_refile.iter().take(max).cloned().collect();
		let Ok(accounts) = frame_support::BoundedVec::try_from(accounts) else { return };
		if accounts.is_empty() {
			return;
		}
		let xt = T::create_bare(Call::refile_unsigned { accounts }.into());
		report.refile_submitted = SubmitTransaction::<T, Call<T>>::submit_transaction(xt).is_ok();
	}

	/// Checks `who` and submits its settlement if it would succeed and was not sent lately.
	fn consider(
		who: T::AccountId,
		now: BlockNumberFor<T>,
		sent: &mut Vec<(T::AccountId, BlockNumberFor<T>)>,
		report: &mut RunReport<T::AccountId>,
	) {
		if sent.iter().any(|(s, _)| s == &who) {
			report.already_sent = report.already_sent.saturating_add(1);
			return;
		}
		// The cheap check first (a health check), the dry run only for what it would submit.
		if !Self::may_settle(&who) {
			report.healthy = report.healthy.saturating_add(1);
			if Self::needs_refile(&who) {
				report.to_refile.push(who);
			}
			return;
		}
		if Self::can_settle(&who).is_err() {
			report.refused = report.refused.saturating_add(1);
			return;
		}
		let call = Call::settle_unsigned { borrower: who.clone() };
		let xt = T::create_bare(call.into());
		match SubmitTransaction::<T, Call<T>>::submit_transaction(xt) {
			Ok(()) => {
				sent.push((who.clone(), now));
				report.submitted.push(who);
			},
			Err(()) => {
				log::debug!(target: "runtime::liquidation", "submission refused by the pool")
			},
		}
	}
}

impl<T: Config> Pallet<T> {
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

	/// The cheap check at block inclusion: the account has debt and either no collateral (the
	/// loss waterfall) or a health below 1.
	pub fn may_settle(borrower: &T::AccountId) -> bool {
		let assets = T::Lending::account_assets(borrower);
		!assets.debts.is_empty()
			&& (!assets.supplies.iter().any(|(_, collateral)| *collateral)
				|| T::Lending::account_health(borrower).is_ok_and(|h| h.is_liquidatable()))
	}

	/// How many settlements one block's normal dispatch weight holds, at the weight of a DEX
	/// settlement (what a settlement is refunded to).
	pub fn settlements_per_block() -> usize {
		let limits = <T as frame_system::Config>::BlockWeights::get();
		let normal = limits
			.get(frame_support::dispatch::DispatchClass::Normal)
			.max_total
			.unwrap_or(limits.max_block);
		let one = T::WeightInfo::settle_dex();
		let by_time = normal.ref_time().checked_div(one.ref_time()).unwrap_or(0);
		let by_proof = normal.proof_size().checked_div(one.proof_size()).unwrap_or(u64::MAX);
		usize::try_from(by_time.min(by_proof)).unwrap_or(usize::MAX)
	}
}
