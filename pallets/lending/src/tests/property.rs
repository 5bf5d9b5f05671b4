use super::*;
use frame_support::traits::{fungibles::Mutate, tokens::Preservation};
use proptest::{
	prelude::*,
	test_runner::{Config, TestRunner},
};
use sp_arithmetic::traits::CheckedDiv;
use std::{cell::Cell, collections::BTreeMap};

#[derive(Clone, Debug)]
enum Op {
	Supply(usize, usize, u128),
	Withdraw(usize, usize, Option<u128>),
	Borrow(usize, usize, u128),
	/// Borrow this percentage of the account's remaining borrowing power.
	BorrowMost(usize, usize, u32),
	Repay(usize, usize, usize, Option<u128>),
	Collateral(usize, usize, bool),
	Seize(usize, usize, u128, usize),
	WriteOff(usize, usize, u128),
	/// The same four, on one of the account's own positions (picked by index) and for a
	/// percentage of it (above 100 to be refused), so that they mostly reach real positions.
	WithdrawPart(usize, usize, u32),
	RepayPart(usize, usize, usize, u32),
	SeizePart(usize, usize, u32, usize),
	WriteOffPart(usize, usize, u32),
	Update(usize, u8),
	AddReserves(usize, usize, u128),
	Price(usize, u32),
	Advance(u64, bool),
	/// A lot of `asset`: per part `(who, sold %, tip %, rest %)` of its supply, then the
	/// tip's and the rest's receivers and whether the rest is paid in tokens.
	SeizeLot(usize, Vec<(usize, u32, u32, u32)>, usize, usize, bool),
	/// `payer` repays a lot of `asset`: per part `(who, % of its debt)`.
	RepayLot(usize, usize, Vec<(usize, u32)>),
	/// A lot seized and repaid in one pass (`settle_lot`): the collateral and the debt picked
	/// as the two lots' are, per part `(who, sold %, tip %, rest %, repaid % of its debt)`,
	/// the receivers, whether the rest is paid in tokens, the payer, and whether the sale
	/// between fails.
	SettleLot(usize, usize, Vec<(usize, u32, u32, u32, u32)>, (usize, usize, bool), usize, bool),
}

/// The account a lot's sale is paid out to (no position of its own, as the liquidation
/// pallet's working account).
const SELLER: AccountId = 77;
/// Where the sequential twin of a lot sends a rest paid in tokens on its way.
const SELLER_TOO: AccountId = 78;

const WHO: [AccountId; 4] = [ALICE, BOB, CHARLIE, DAVE];
const WHAT: [AssetId; 4] = [USD, BTC, MEME, ETH];

fn amount() -> impl Strategy<Value = u128> {
	prop_oneof![
		1u128..10_000,
		Just(0u128),
		Just(u128::MAX),
		10_000u128..1_000_000_000,
		1_000_000u128..2_000_000,
	]
}

fn op() -> impl Strategy<Value = Op> {
	let w = 0..WHO.len();
	let a = 0..WHAT.len();
	prop_oneof![
		4 => (w.clone(), a.clone(), amount()).prop_map(|(w, a, x)| Op::Supply(w, a, x)),
		2 => (w.clone(), a.clone(), prop::option::of(amount()))
			.prop_map(|(w, a, x)| Op::Withdraw(w, a, x)),
		2 => (w.clone(), a.clone(), amount()).prop_map(|(w, a, x)| Op::Borrow(w, a, x)),
		3 => (w.clone(), a.clone(), 50u32..=100).prop_map(|(w, a, p)| Op::BorrowMost(w, a, p)),
		2 => (w.clone(), w.clone(), a.clone(), prop::option::of(amount()))
			.prop_map(|(p, w, a, x)| Op::Repay(p, w, a, x)),
		1 => (w.clone(), a.clone(), any::<bool>()).prop_map(|(w, a, e)| Op::Collateral(w, a, e)),
		2 => (w.clone(), a.clone(), amount(), w.clone())
			.prop_map(|(w, a, x, to)| Op::Seize(w, a, x, to)),
		1 => (w.clone(), a.clone(), amount()).prop_map(|(w, a, x)| Op::WriteOff(w, a, x)),
		2 => (w.clone(), 0..8usize, 1u32..=110).prop_map(|(w, i, p)| Op::WithdrawPart(w, i, p)),
		3 => (w.clone(), w.clone(), 0..8usize, 1u32..=110)
			.prop_map(|(p, w, i, x)| Op::RepayPart(p, w, i, x)),
		4 => (w.clone(), 0..8usize, 1u32..=110, w.clone())
			.prop_map(|(w, i, p, to)| Op::SeizePart(w, i, p, to)),
		1 => (w.clone(), 0..8usize, 1u32..=100).prop_map(|(w, i, p)| Op::WriteOffPart(w, i, p)),
		1 => (a.clone(), 0u8..5).prop_map(|(a, v)| Op::Update(a, v)),
		1 => (w.clone(), a.clone(), amount()).prop_map(|(w, a, x)| Op::AddReserves(w, a, x)),
		// Price in percent of its start: 10% to 300%.
		3 => (a.clone(), 10u32..300).prop_map(|(a, p)| Op::Price(a, p)),
		2 => (1u64..30 * 24 * 3_600_000, prop::bool::weighted(0.9))
			.prop_map(|(ms, r)| Op::Advance(ms, r)),
		3 => (
			a.clone(),
			prop::collection::vec((w.clone(), 0u32..=100, 0u32..=20, 0u32..=40), 1..4),
			w.clone(),
			w.clone(),
			any::<bool>()
		)
			.prop_map(|(a, parts, t, r, k)| Op::SeizeLot(a, parts, t, r, k)),
		2 => (w.clone(), a.clone(), prop::collection::vec((w.clone(), 1u32..=100), 1..4))
			.prop_map(|(p, a, parts)| Op::RepayLot(p, a, parts)),
		3 => (
			(a.clone(), a.clone()),
			prop::collection::vec(
				(w.clone(), 0u32..=100, 0u32..=20, 0u32..=40, 1u32..=100),
				1..4
			),
			(w.clone(), w.clone(), any::<bool>()),
			w.clone(),
			prop::bool::weighted(0.1)
		)
			.prop_map(|((a, d), parts, recv, p, fail)| Op::SettleLot(a, d, parts, recv, p, fail)),
	]
}

/// Every position, market and token balance the lot twins compare.
type Books = (Vec<Option<PositionsOf<Test>>>, Vec<Option<MarketState>>, Vec<u128>);

fn books() -> Books {
	let mut accounts = WHO.to_vec();
	accounts.extend([SELLER, SELLER_TOO, pallet_account()]);
	let positions = accounts.iter().map(Positions::<Test>::get).collect();
	let markets = WHAT.iter().map(|a| Markets::<Test>::get(a).map(|m| m.state)).collect();
	let balances =
		accounts.iter().flat_map(|w| WHAT.iter().map(move |a| balance(*a, *w))).collect();
	(positions, markets, balances)
}

/// What a lot's seizure does, done by single seizures and withdrawals (as the liquidation
/// pallet did before lots), rolled back: the books after it, or `None` if a step failed.
fn seize_lot_twin(
	asset: AssetId,
	lot: &[LotSeizure<AccountId>],
	(tip_to, rest_to): (AccountId, AccountId),
	rest_paid: RestPaid,
) -> Option<Books> {
	type L = Lending;
	let supplied = |w: &AccountId| <L as LendingPositions<_>>::supplied(w, &asset).ok();
	let sell = |w: &AccountId, amount: u128, to: AccountId| -> Option<()> {
		let whole = Some(amount) == supplied(w);
		<L as LendingPositions<_>>::seize_collateral(w, &asset, amount, &to).ok()?;
		let exact = if whole { Amount::All } else { Amount::Exact(amount) };
		let paid = <L as LendingPositions<_>>::withdraw_supply(&to, &asset, exact).ok()?;
		(paid == amount).then_some(())
	};
	// A lot refuses a borrower who is a receiver (its single seizures refused the sale's
	// piece, and passed over the tip).
	if lot.iter().any(|p| [SELLER, tip_to, rest_to].contains(&p.who)) {
		return None;
	}
	// The twin's single seizures pay each piece out on its own, where the lot pays the sale's
	// sum once and the rest's once (a piece below the minimum balance is not refused by the
	// lot, a sum below it is): the pieces gather in SELLER_TOO, which holds the minimum
	// balance while the twin runs, and go on in one transfer each.
	let min = <Assets as frame_support::traits::fungibles::Inspect<_>>::minimum_balance(asset);
	let precision = frame_support::traits::tokens::Precision::Exact;
	let fortitude = frame_support::traits::tokens::Fortitude::Polite;
	frame_support::storage::with_transaction(|| {
		let books = (|| {
			Assets::mint_into(asset, &SELLER_TOO, min).ok()?;
			// The lot accrues its market even when it takes nothing.
			Lending::accrue(&asset).ok()?;
			let (mut sold, mut rests) = (0u128, 0u128);
			for part in lot {
				if part.sold > 0 {
					sell(&part.who, part.sold, SELLER_TOO)?;
					sold = sold.checked_add(part.sold)?;
				}
				// The tip as the liquidation pallet paid it: tried, none on any refusal.
				if part.tip > 0 {
					let _ = <L as LendingPositions<_>>::seize_collateral(
						&part.who, &asset, part.tip, &tip_to,
					);
				}
				// (A borrower with no supply left gives none: the lot passes it over.)
				let rest = part.rest.min(supplied(&part.who).unwrap_or_default());
				if rest > 0 {
					match rest_paid {
						RestPaid::Supply => {
							<L as LendingPositions<_>>::seize_collateral(
								&part.who, &asset, rest, &rest_to,
							)
							.ok()?;
						},
						RestPaid::Tokens => {
							sell(&part.who, rest, SELLER_TOO)?;
							rests = rests.checked_add(rest)?;
						},
					}
				}
			}
			// The lot pays the sale out in one transfer, and the rest in tokens in one.
			for (amount, to) in [(sold, SELLER), (rests, rest_to)] {
				if amount > 0 {
					<Assets as Mutate<_>>::transfer(
						asset,
						&SELLER_TOO,
						&to,
						amount,
						Preservation::Expendable,
					)
					.ok()?;
				}
			}
			Assets::burn_from(
				asset,
				&SELLER_TOO,
				min,
				Preservation::Expendable,
				precision,
				fortitude,
			)
			.ok()?;
			Some(books())
		})();
		frame_support::storage::TransactionOutcome::Rollback(Ok::<_, DispatchError>(books))
	})
	.ok()
	.flatten()
}

/// What a lot's repayment does, done by single repayments, rolled back.
fn repay_lot_twin(payer: AccountId, asset: AssetId, lot: &[(AccountId, u128)]) -> Option<Books> {
	frame_support::storage::with_transaction(|| {
		let books = lot
			.iter()
			.all(|(who, amount)| {
				<Lending as LendingPositions<_>>::repay_debt(&payer, who, &asset, *amount).is_ok()
			})
			.then(books);
		frame_support::storage::TransactionOutcome::Rollback(Ok::<_, DispatchError>(books))
	})
	.ok()
	.flatten()
}

fn start_price(asset: AssetId) -> FixedU128 {
	match asset {
		USD => FixedU128::one(),
		BTC => FixedU128::from_u32(100),
		ETH => FixedU128::from_u32(2),
		_ => fx(1, 2),
	}
}

fn start_params(asset: AssetId) -> MarketParams {
	match asset {
		USD => usd_params(),
		MEME => meme_params(),
		_ => btc_params(),
	}
}

fn exact(x: Option<u128>) -> Amount {
	x.map(Amount::Exact).unwrap_or(Amount::All)
}

/// `(asset, amount)` of `who`'s `i`-th supply (modulo their number), with interest.
fn supply_pick(who: AccountId, i: usize) -> (AssetId, u128) {
	let supplies = Positions::<Test>::get(who).map(|p| p.supplies.into_inner()).unwrap_or_default();
	let Some(asset) = supplies.get(i % supplies.len().max(1)).map(|s| s.asset) else {
		return (USD, 1);
	};
	(asset, <Lending as LendingPositions<_>>::supplied(&who, &asset).unwrap_or_default())
}

/// `(asset, amount)` of `who`'s `i`-th debt (modulo their number), with interest.
fn debt_pick(who: AccountId, i: usize) -> (AssetId, u128) {
	let debts = Positions::<Test>::get(who).map(|p| p.borrows.into_inner()).unwrap_or_default();
	let Some(asset) = debts.get(i % debts.len().max(1)).map(|b| b.asset) else {
		return (USD, 1);
	};
	(asset, <Lending as LendingPositions<_>>::debt(&who, &asset).unwrap_or_default())
}

/// A lot of `asset`: per part `(who, sold %, tip %, rest %)` of that account's supply of it.
fn lot_of(
	asset: AssetId,
	parts: impl Iterator<Item = (usize, u32, u32, u32)>,
) -> Vec<LotSeizure<AccountId>> {
	parts
		.map(|(w, sold, tip, rest)| {
			let held =
				<Lending as LendingPositions<_>>::supplied(&WHO[w], &asset).unwrap_or_default();
			LotSeizure {
				who: WHO[w],
				sold: part(held, sold),
				tip: part(held, tip),
				rest: part(held, rest),
			}
		})
		.collect()
}

/// Burns the `sold` tokens a lot paid out to SELLER: the next lot starts clean.
fn clear_seller(asset: AssetId, sold: u128) {
	if sold > 0 {
		assert_ok!(Assets::burn_from(
			asset,
			&SELLER,
			sold,
			Preservation::Expendable,
			frame_support::traits::tokens::Precision::Exact,
			frame_support::traits::tokens::Fortitude::Polite,
		));
	}
}

fn part(x: u128, pct: u32) -> u128 {
	x.saturating_mul(u128::from(pct)) / 100
}

fn root() -> Vec<u8> {
	sp_io::storage::root(sp_runtime::StateVersion::V1)
}

#[derive(Default, Debug)]
struct Reached {
	steps: Cell<u64>,
	ok: Cell<u64>,
	unhealthy: Cell<u64>,
	seized_from_unhealthy: Cell<u64>,
	written_off: Cell<u64>,
	bank_runs: Cell<u64>,
	/// Lots seized or repaid, and of them those checked against their single twin.
	lots: Cell<u64>,
	lot_twins: Cell<u64>,
	settle_twins: Cell<u64>,
	/// `(succeeded, failed)` per kind of call.
	calls: std::cell::RefCell<BTreeMap<String, (u64, u64)>>,
}

fn bump(c: &Cell<u64>) {
	c.set(c.get() + 1);
}

fn run(ops: Vec<Op>, reached: &Reached) -> Result<(), TestCaseError> {
	let mut outcome = Ok(());
	ExtBuilder::default().build_and_execute(|| {
		// Each account starts with a tenth of its holding of one asset supplied, so there
		// is collateral to borrow against and cash to borrow.
		for (who, asset) in WHO.iter().zip(WHAT.iter()) {
			assert_ok!(Lending::supply(signed(*who), *asset, START / 10));
		}
		outcome = steps(ops, reached);
	});
	outcome
}

fn steps(ops: Vec<Op>, reached: &Reached) -> Result<(), TestCaseError> {
	for op in ops {
		bump(&reached.steps);
		let before = root();
		let health_before: Vec<_> = WHO.iter().map(Lending::account_health).collect();
		let (result, checked): (DispatchResult, Option<AccountId>) = match op.clone() {
			Op::Supply(w, a, x) => (Lending::supply(signed(WHO[w]), WHAT[a], x), None),
			Op::Withdraw(w, a, x) => {
				(Lending::withdraw(signed(WHO[w]), WHAT[a], exact(x)), Some(WHO[w]))
			},
			Op::Borrow(w, a, x) => (Lending::borrow(signed(WHO[w]), WHAT[a], x), Some(WHO[w])),
			Op::BorrowMost(w, a, p) => {
				let room = Lending::account_health(&WHO[w])
					.map(|h| h.borrow_limit.saturating_sub(h.debt_value))
					.unwrap_or_default();
				let price = MockOracle::all()
					.into_iter()
					.find(|(asset, ..)| *asset == WHAT[a])
					.map(|(_, p, _)| p)
					.unwrap_or(FixedU128::one());
				let x = FixedU128::from_rational(room * u128::from(p) / 100, 1)
					.checked_div(&price)
					.map(|f| f.into_inner() / FixedU128::DIV)
					.unwrap_or_default();
				(Lending::borrow(signed(WHO[w]), WHAT[a], x), Some(WHO[w]))
			},
			Op::Repay(p, w, a, x) => {
				(Lending::repay_on_behalf(signed(WHO[p]), WHO[w], WHAT[a], exact(x)), None)
			},
			Op::Collateral(w, a, true) => {
				(Lending::enable_collateral(signed(WHO[w]), WHAT[a]), None)
			},
			Op::Collateral(w, a, false) => {
				(Lending::disable_collateral(signed(WHO[w]), WHAT[a]), Some(WHO[w]))
			},
			Op::Seize(w, a, x, to) => {
				let unhealthy = Lending::account_health(&WHO[w]).is_ok_and(|h| h.is_liquidatable());
				let r = <Lending as LendingPositions<_>>::seize_collateral(
					&WHO[w], &WHAT[a], x, &WHO[to],
				)
				.map(|_| ());
				if r.is_ok() && unhealthy {
					bump(&reached.seized_from_unhealthy);
				}
				(r, None)
			},
			Op::WithdrawPart(w, i, p) => {
				let (asset, x) = supply_pick(WHO[w], i);
				(Lending::withdraw(signed(WHO[w]), asset, Amount::Exact(part(x, p))), Some(WHO[w]))
			},
			Op::RepayPart(payer, w, i, p) => {
				let (asset, x) = debt_pick(WHO[w], i);
				let amount = if p == 100 { Amount::All } else { Amount::Exact(part(x, p)) };
				(Lending::repay_on_behalf(signed(WHO[payer]), WHO[w], asset, amount), None)
			},
			Op::SeizePart(w, i, p, to) => {
				let (asset, x) = supply_pick(WHO[w], i);
				let unhealthy = Lending::account_health(&WHO[w]).is_ok_and(|h| h.is_liquidatable());
				let r = <Lending as LendingPositions<_>>::seize_collateral(
					&WHO[w],
					&asset,
					part(x, p),
					&WHO[to],
				)
				.map(|_| ());
				if r.is_ok() && unhealthy {
					bump(&reached.seized_from_unhealthy);
				}
				(r, None)
			},
			Op::WriteOffPart(w, i, p) => {
				let (asset, x) = debt_pick(WHO[w], i);
				let r = <Lending as LendingPositions<_>>::write_off(&WHO[w], &asset, part(x, p))
					.map(|_| ());
				if r.is_ok() {
					bump(&reached.written_off);
				}
				(r, None)
			},
			Op::WriteOff(w, a, x) => {
				let r =
					<Lending as LendingPositions<_>>::write_off(&WHO[w], &WHAT[a], x).map(|_| ());
				if r.is_ok() {
					bump(&reached.written_off);
				}
				(r, None)
			},
			Op::Update(a, 0) => {
				// Pause an active market, resume a paused one.
				let r = match Markets::<Test>::get(WHAT[a]).map(|m| m.params.status) {
					Some(MarketStatus::Active) => {
						Lending::pause_market(RuntimeOrigin::root(), WHAT[a])
					},
					_ => Lending::resume_market(RuntimeOrigin::root(), WHAT[a]),
				};
				(r, None)
			},
			Op::Update(a, v) => {
				// `update_market` keeps the status.
				let status = Markets::<Test>::get(WHAT[a]).map(|m| m.params.status);
				let base = MarketParams {
					status: status.unwrap_or(MarketStatus::Active),
					..start_params(WHAT[a])
				};
				let params = match v {
					1 => base,
					2 => MarketParams {
						collateral_enabled: false,
						collateral_factor: Permill::zero(),
						..base
					},
					3 => MarketParams { reserve_factor: Permill::from_percent(90), ..base },
					_ => MarketParams { min_borrow_value: 1_000, ..base },
				};
				(Lending::update_market(RuntimeOrigin::root(), WHAT[a], params), None)
			},
			Op::AddReserves(w, a, x) => (Lending::add_reserves(signed(WHO[w]), WHAT[a], x), None),
			Op::Price(a, p) => {
				MockOracle::set(WHAT[a], start_price(WHAT[a]).saturating_mul(fx(p as u128, 100)));
				(Ok(()), None)
			},
			Op::Advance(ms, refresh) => {
				advance(ms, refresh);
				(Ok(()), None)
			},
			Op::SeizeLot(a, parts, t, r, tokens) => {
				// Mostly an asset the first part supplies, so that lots reach positions.
				let first = parts.first().map(|p| WHO[p.0]).unwrap_or(ALICE);
				let asset = if a == 0 { WHAT[t] } else { supply_pick(first, a).0 };
				let lot = lot_of(asset, parts.iter().copied());
				let paid = if tokens { RestPaid::Tokens } else { RestPaid::Supply };
				let twin = seize_lot_twin(asset, &lot, (WHO[t], WHO[r]), paid);
				let r = <Lending as LendingPositions<_>>::seize_lot(
					&asset,
					&lot,
					&SELLER,
					(&WHO[t], &WHO[r]),
					paid,
				);
				// A lot is made exactly when its single seizures can be (found by review:
				// a part with nothing left refused the lot its twin made).
				prop_assert_eq!(r.is_ok(), twin.is_some(), "{:?}: lot {:?}", op, r);
				if r.is_ok() {
					bump(&reached.lots);
					// Tokens paid out leave the sale's account: the next lot starts clean.
					let sold = balance(asset, SELLER);
					if let Some(twin) = twin {
						prop_assert_eq!(
							&books(),
							&twin,
							"{:?} differs from its single seizures",
							op
						);
						bump(&reached.lot_twins);
					}
					clear_seller(asset, sold);
				}
				(r.map(|_| ()), None)
			},
			Op::RepayLot(p, a, parts) => {
				let first = parts.first().map(|p| WHO[p.0]).unwrap_or(ALICE);
				let asset = if a == 0 { WHAT[p] } else { debt_pick(first, a).0 };
				let lot: Vec<(AccountId, u128)> = parts
					.iter()
					.map(|(w, pct)| {
						let debt = <Lending as LendingPositions<_>>::debt(&WHO[*w], &asset)
							.unwrap_or_default();
						(WHO[*w], part(debt, *pct))
					})
					.collect();
				let twin = repay_lot_twin(WHO[p], asset, &lot);
				let r = <Lending as LendingPositions<_>>::repay_lot(&WHO[p], &asset, &lot);
				prop_assert_eq!(r.is_ok(), twin.is_some(), "{:?}: lot {:?}", op, r);
				if r.is_ok() {
					bump(&reached.lots);
					let twin = twin.ok_or_else(|| {
						TestCaseError::fail(format!("{op:?}: single repayments failed"))
					})?;
					prop_assert_eq!(&books(), &twin, "{:?} differs from its single repayments", op);
					bump(&reached.lot_twins);
				}
				(r, None)
			},
			Op::SettleLot(a, d, parts, (t, r, tokens), p, fail) => {
				let first = parts.first().map(|p| WHO[p.0]).unwrap_or(ALICE);
				let collateral = if a == 0 { WHAT[t] } else { supply_pick(first, a).0 };
				let debt = if d == 0 { WHAT[p] } else { debt_pick(first, d).0 };
				// Mostly another debt than the collateral (refused: one market each).
				let debt = if debt == collateral { debt_pick(first, d + 1).0 } else { debt };
				// Mostly the parts that owe the debt and receive nothing, so that lots are
				// made; all of them when none does (refused).
				let owes = |w: usize| {
					![t, r].contains(&w)
						&& <Lending as LendingPositions<_>>::debt(&WHO[w], &debt)
							.is_ok_and(|d| d > 0)
				};
				let owing: Vec<_> = parts.iter().filter(|p| owes(p.0)).cloned().collect();
				let parts = if owing.is_empty() { parts } else { owing };
				let lot = lot_of(collateral, parts.iter().map(|&(w, s, t, r, _)| (w, s, t, r)));
				// Each part's repayment a share of its debt before the lot (the two lots'
				// twins are asked the same).
				let repays: Vec<u128> = parts
					.iter()
					.map(|(w, .., pct)| {
						let owed = <Lending as LendingPositions<_>>::debt(&WHO[*w], &debt)
							.unwrap_or_default();
						part(owed, *pct)
					})
					.collect();
				let paid = if tokens { RestPaid::Tokens } else { RestPaid::Supply };
				let receivers = (&WHO[t], &WHO[r]);
				// Its twin: the lot seized, then repaid, rolled back.
				let twin = frame_support::storage::with_transaction(|| {
					let done = <Lending as LendingPositions<_>>::seize_lot(
						&collateral,
						&lot,
						&SELLER,
						receivers,
						paid,
					)
					.is_ok() && <Lending as LendingPositions<_>>::repay_lot(
						&WHO[p],
						&debt,
						&lot.iter().map(|l| l.who).zip(repays.iter().copied()).collect::<Vec<_>>(),
					)
					.is_ok();
					frame_support::storage::TransactionOutcome::Rollback(Ok::<_, DispatchError>(
						done.then(books),
					))
				})
				.ok()
				.flatten();
				let sold_before = balance(collateral, SELLER);
				let r = <Lending as LendingPositions<_>>::settle_lot(
					(&collateral, &debt),
					(&lot, &repays),
					(&SELLER, &WHO[p]),
					receivers,
					paid,
					|| {
						// The sale between sees the seizure made: its tokens paid out.
						let sold = balance(collateral, SELLER).saturating_sub(sold_before);
						if fail {
							Err(DispatchError::Other("the sale failed"))
						} else {
							Ok(sold)
						}
					},
				);
				let expected = twin.is_some() && !fail && collateral != debt;
				prop_assert_eq!(r.is_ok(), expected, "{:?}: lot {:?}", op, r);
				if let Ok((_, sold)) = r {
					bump(&reached.lots);
					let twin = twin
						.ok_or_else(|| TestCaseError::fail(format!("{op:?}: its twin failed")))?;
					prop_assert_eq!(&books(), &twin, "{:?} differs from seize_lot + repay_lot", op);
					prop_assert_eq!(sold, lot.iter().map(|l| l.sold).sum::<u128>());
					bump(&reached.settle_twins);
					clear_seller(collateral, sold);
				}
				(r.map(|_| ()), None)
			},
		};
		{
			let kind = format!("{op:?}");
			let mut kind = kind.split('(').next().unwrap_or_default().to_string();
			if let Err(DispatchError::Module(m)) = &result {
				if std::env::var("LENDING_PROPTEST_ERRORS").is_ok() {
					kind = format!("{kind}:{}", m.message.unwrap_or_default());
				}
			}
			let mut calls = reached.calls.borrow_mut();
			let e = calls.entry(kind).or_default();
			if result.is_ok() {
				e.0 += 1
			} else {
				e.1 += 1
			}
		}
		match result {
			Err(_) => prop_assert_eq!(root(), before, "a failed {:?} changed state", op),
			Ok(()) => {
				bump(&reached.ok);
				// A call that could add risk leaves its account within its limits.
				// (Or, for an account already outside them, e.g. after a seizure, left its
				// health exactly as it was: withdrawing a supply that is not collateral.)
				if let Some(who) = checked {
					if Positions::<Test>::get(who).is_some_and(|p| !p.borrows.is_empty()) {
						let h = Lending::account_health(&who);
						let i = WHO.iter().position(|w| *w == who).unwrap_or_default();
						prop_assert!(
							h.is_ok_and(|h| !h.is_liquidatable() && h.debt_value <= h.borrow_limit)
								|| h == health_before[i],
							"{:?} left {} outside its limits",
							op,
							who
						);
					}
				}
			},
		}
		if let Err(e) = Lending::do_try_state() {
			return Err(TestCaseError::fail(format!("after {op:?}: {e:?}")));
		}
		for who in WHO {
			if Lending::account_health(&who).is_ok_and(|h| h.is_liquidatable()) {
				bump(&reached.unhealthy);
			}
		}
	}
	bank_run(reached)
}

/// Everyone repays everything (minted what they lack), then withdraws everything: every
/// supplier leaves whole, and each market keeps at least its reserves.
fn bank_run(reached: &Reached) -> Result<(), TestCaseError> {
	for who in WHO {
		for b in Positions::<Test>::get(who).map(|p| p.borrows.into_inner()).unwrap_or_default() {
			let debt = <Lending as LendingPositions<_>>::debt(&who, &b.asset).unwrap();
			prop_assert!(Assets::mint_into(b.asset, &who, debt).is_ok());
			prop_assert!(Lending::repay(signed(who), b.asset, Amount::All).is_ok());
		}
	}
	for who in WHO {
		for s in Positions::<Test>::get(who).map(|p| p.supplies.into_inner()).unwrap_or_default() {
			let r = Lending::withdraw(signed(who), s.asset, Amount::All);
			prop_assert!(r.is_ok(), "{} cannot withdraw all its {}: {:?}", who, s.asset, r);
		}
	}
	for asset in WHAT {
		let st = state(asset);
		prop_assert_eq!((st.total_scaled_supply, st.total_scaled_borrow), (0, 0));
		prop_assert!(balance(asset, pallet_account()) >= st.reserves);
	}
	bump(&reached.bank_runs);
	Ok(())
}

/// Random sequences of every call (and seizure, write-off, governance updates, price moves,
/// time with and without fresh prices), checking after each step that a failed call changed
/// nothing, a successful risky call left its account within limits, and the invariants hold;
/// then a bank run. `LENDING_PROPTEST_CASES` sets the number of sequences (default 300,
/// about a minute in a debug build).
#[test]
fn invariants_hold_and_nothing_panics() {
	let cases =
		std::env::var("LENDING_PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(300);
	// A fixed seed (the same sequences every run, so the reach checks below cannot flake);
	// `PROPTEST_SEED=<n>` draws another set.
	let seed: u64 = std::env::var("PROPTEST_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(1);
	let mut bytes = [0u8; 32];
	bytes[..8].copy_from_slice(&seed.to_le_bytes());
	let mut runner = TestRunner::new_with_rng(
		Config { cases, failure_persistence: None, ..Config::default() },
		proptest::test_runner::TestRng::from_seed(
			proptest::test_runner::RngAlgorithm::ChaCha,
			&bytes,
		),
	);
	let reached = Reached::default();
	let result = runner.run(&prop::collection::vec(op(), 1..80), |ops| run(ops, &reached));
	println!("lending property test, {cases} sequences: {reached:?}");
	if let Err(e) = result {
		panic!("{e}");
	}
	// The test means nothing if it never got there.
	assert!(reached.unhealthy.get() > 0, "never reached an unhealthy account");
	assert!(reached.seized_from_unhealthy.get() > 0, "never seized from an unhealthy one");
	assert!(reached.written_off.get() > 0, "never wrote a debt off");
	assert!(reached.lot_twins.get() > 0, "never checked a lot against its twin");
	assert!(reached.settle_twins.get() > 0, "never checked settle_lot against its twin");
	assert_eq!(reached.bank_runs.get(), u64::from(cases), "a bank run did not complete");
}
