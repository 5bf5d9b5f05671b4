//! Benchmarks (frame-benchmarking v2), each at its worst case: the borrower supplies collateral
//! to `MaxAssetsPerAccount` markets and owes debt in as many others (every health check reads
//! 2 × `MaxAssetsPerAccount` markets and prices), every market has borrows and an hour passes
//! after the set-up, so every market touched accrues interest inside the measured call.
//!
//! Positions are set up through the lending pallet's calls (the benchmarks, not the pallet,
//! depend on it); pools through [`BenchmarkHelper`].

use super::*;
use crate::pallet::{
	AuctionParameters, Auctions, BorrowerAuction, Params, PreLiquidation, PreLiquidationCaps,
	RiskRank, SaleQueue,
};
use alloc::vec::Vec;
use frame_benchmarking::v2::*;
use frame_support::traits::{
	fungibles::{Inspect, Mutate},
	EnsureOrigin, Get,
};
use frame_support::{
	pallet_prelude::{TransactionSource, ValidateUnsigned},
	BoundedVec,
};
use frame_system::RawOrigin;
use pallet_lending::{
	BenchmarkHelper as _, MarketParams, MarketStatus, OnPositionChanged, RateModel, RiskChange,
};
use sp_arithmetic::{traits::Zero, FixedU128, Permill};
use sp_runtime::traits::StaticLookup;

type Lending<T> = pallet_lending::Pallet<T>;
type LendingHelper<T> = <T as pallet_lending::Config>::BenchmarkHelper;

/// Collateral and debt markets of a benchmark account.
type Markets<T> = (Vec<<T as Config>::AssetId>, Vec<<T as Config>::AssetId>);
/// A `(collateral, debt)` pair of markets.
type Pair<T> = (<T as Config>::AssetId, <T as Config>::AssetId);

const LIQUIDITY: u128 = 1_000_000_000_000;
const COLLATERAL: u128 = 1_000_000_000;
const DEBT: u128 = 100_000_000;
const T0: u64 = 1_700_000_000_000;
const HOUR: u64 = 3_600_000;

fn market_params() -> MarketParams {
	MarketParams {
		collateral_factor: Permill::from_percent(70),
		liquidation_threshold: Permill::from_percent(75),
		liquidation_bonus: Permill::from_percent(10),
		close_factor: Permill::from_percent(50),
		reserve_factor: Permill::from_percent(10),
		supply_cap: u128::MAX,
		borrow_cap: u128::MAX,
		min_borrow_value: 1,
		rate_model: RateModel {
			base: FixedU128::from_rational(1, 100),
			slope1: FixedU128::from_rational(4, 100),
			kink: FixedU128::from_rational(80, 100),
			slope2: FixedU128::from_rational(75, 100),
		},
		collateral_enabled: true,
		borrow_enabled: true,
		status: MarketStatus::Active,
	}
}

fn max_assets<T: pallet_lending::Config>() -> u32 {
	<T as pallet_lending::Config>::MaxAssetsPerAccount::get()
}

/// Block 1 at `T0`, and no dust value: the benchmarks' amounts are small against a runtime's
/// dust value (USD 1,000), which would make every insolvent collateral "too small" and send
/// each settlement to the dust sweep instead of the path measured.
fn start<T: Config + pallet_lending::Config>() {
	frame_system::Pallet::<T>::set_block_number(1u32.into());
	LendingHelper::<T>::set_time(T0);
	Params::<T>::mutate(|p| p.dust_value = 0);
}

/// A market for the `i`-th benchmark asset at price 1, with `LIQUIDITY` supplied and a tenth
/// of it borrowed by a lender.
fn market<T>(i: u32) -> Result<<T as Config>::AssetId, BenchmarkError>
where
	T: Config + pallet_lending::Config<AssetId = <T as Config>::AssetId>,
{
	let asset = LendingHelper::<T>::asset(i);
	if <T as Config>::Lending::market_params(&asset).is_some() {
		return Ok(asset);
	}
	LendingHelper::<T>::create_asset(asset);
	LendingHelper::<T>::set_price(asset, FixedU128::from_u32(1));
	let admin = <T as pallet_lending::Config>::UpdateOrigin::try_successful_origin()
		.map_err(|_| BenchmarkError::Weightless)?;
	Lending::<T>::create_market(admin, asset, market_params())?;
	let lender: T::AccountId = account("lender", i, 0);
	<T as Config>::Assets::mint_into(asset, &lender, LIQUIDITY.saturating_mul(2))?;
	Lending::<T>::supply(RawOrigin::Signed(lender.clone()).into(), asset, LIQUIDITY)?;
	Lending::<T>::borrow(RawOrigin::Signed(lender).into(), asset, LIQUIDITY / 10)?;
	Ok(asset)
}

/// `who` supplies `COLLATERAL` to `MaxAssetsPerAccount` markets and owes `DEBT` in as many
/// others (twice that in the first). After [`later`] (collaterals at 0.1): health ≈ 0.67, the
/// whole bonus, and the first collateral cannot cover the first debt (it is taken whole).
/// Returns `(collaterals, debts)`.
fn underwater<T>(who: &T::AccountId) -> Result<Markets<T>, BenchmarkError>
where
	T: Config + pallet_lending::Config<AssetId = <T as Config>::AssetId>,
{
	wide::<T>(who, DEBT)
}

/// `who` supplies `COLLATERAL` to `MaxAssetsPerAccount` markets and owes `debt` in as many
/// others (twice that in the first). Returns `(collaterals, debts)`.
fn wide<T>(who: &T::AccountId, debt: u128) -> Result<Markets<T>, BenchmarkError>
where
	T: Config + pallet_lending::Config<AssetId = <T as Config>::AssetId>,
{
	let max = max_assets::<T>();
	let collaterals = (0..max).map(market::<T>).collect::<Result<Vec<_>, _>>()?;
	let debts = (max..max.saturating_mul(2)).map(market::<T>).collect::<Result<Vec<_>, _>>()?;
	for asset in collaterals.iter().chain(debts.iter()) {
		<T as Config>::Assets::mint_into(*asset, who, COLLATERAL.saturating_mul(2))?;
	}
	for asset in &collaterals {
		Lending::<T>::supply(RawOrigin::Signed(who.clone()).into(), *asset, COLLATERAL)?;
	}
	for (i, asset) in debts.iter().enumerate() {
		let amount = if i == 0 { debt.saturating_mul(2) } else { debt };
		Lending::<T>::borrow(RawOrigin::Signed(who.clone()).into(), *asset, amount)?;
	}
	Ok((collaterals, debts))
}

/// An hour later (every market accrues in the measured call): collaterals at 0.1, debts at 1,
/// all fresh. Called after the rest of the set-up.
fn later<T: pallet_lending::Config>(
	collaterals: &[<T as pallet_lending::Config>::AssetId],
	debts: &[<T as pallet_lending::Config>::AssetId],
) {
	LendingHelper::<T>::set_time(T0.saturating_add(HOUR));
	for asset in collaterals {
		LendingHelper::<T>::set_price(*asset, FixedU128::from_rational(1, 10));
	}
	for asset in debts {
		LendingHelper::<T>::set_price(*asset, FixedU128::from_u32(1));
	}
}

/// An hour later with every collateral at 1.5 and every debt at 1: an account set up by
/// [`underwater`] (filed at price 1, health 6.7) must move every entry of its filing, each
/// collateral key's top rising and each debt key's top falling.
fn moved<T: pallet_lending::Config>(
	collaterals: &[<T as pallet_lending::Config>::AssetId],
	debts: &[<T as pallet_lending::Config>::AssetId],
) {
	LendingHelper::<T>::set_time(T0.saturating_add(HOUR));
	for asset in collaterals {
		LendingHelper::<T>::set_price(*asset, FixedU128::from_rational(3, 2));
	}
	for asset in debts {
		LendingHelper::<T>::set_price(*asset, FixedU128::from_u32(1));
	}
}

/// Whether `after` is an entry other than `before`'s.
fn all_moved<T: Config>(before: &Option<FilingOf<T>>, after: &Option<FilingOf<T>>) -> bool {
	match (before, after) {
		(Some(Filing::Entry(kb, bb)), Some(Filing::Entry(ka, ba))) => (kb, bb) != (ka, ba),
		_ => false,
	}
}

/// The lending hook for `who`'s position `shares` after its risk rose, `filed` its filing.
fn raise<T: Config>(
	who: &T::AccountId,
	shares: &pallet_lending::AccountShares<<T as Config>::AssetId>,
	filed: &mut Option<FilingOf<T>>,
) {
	<Pallet<T> as OnPositionChanged<T::AccountId, <T as Config>::AssetId>>::on_position_changed(
		who,
		shares,
		filed,
		&[],
		RiskChange::Raised,
	);
}

/// `n` keys with no entry, each the only key of an epoch older than the current one, whose
/// variables hold as many markets as an epoch may.
fn empty_keys_of_old_epochs<T>(
	n: u32,
) -> Result<BoundedVec<RiskKeyOf<T>, frame_support::traits::ConstU32<MAX_PRUNE>>, BenchmarkError>
where
	T: Config + pallet_lending::Config<AssetId = <T as Config>::AssetId>,
{
	start::<T>();
	for i in 0..EPOCH_ASSETS {
		if <T as Config>::Lending::markets().len() >= EPOCH_ASSETS as usize {
			break;
		}
		market::<T>(i)?;
	}
	Pallet::<T>::new_epoch(1u32.into());
	let variables = RiskEpoch::<T>::get()
		.and_then(|e| EpochVariables::<T>::get(e.id))
		.ok_or(BenchmarkError::Weightless)?;
	let mut keys = Vec::new();
	for epoch in 1..=n {
		EpochVariables::<T>::insert(epoch, variables.clone());
		let key = RiskKey::Wide { epoch, collateral: 1, debt: 2 };
		RiskKeys::<T>::insert(Some(epoch), key, KeyState { top: 0 });
		keys.push(key);
	}
	RiskEpoch::<T>::mutate(|e| {
		if let Some(e) = e {
			e.id = n.saturating_add(1);
		}
	});
	EpochVariables::<T>::insert(n.saturating_add(1), variables);
	BoundedVec::try_from(keys).map_err(|_| BenchmarkError::Weightless)
}

/// The risk index's epoch as of block 1, with `accounts` filed in it (wide accounts are
/// watched before any epoch).
fn filed_in_epoch<T: Config>(accounts: &[T::AccountId]) {
	Pallet::<T>::new_epoch(1u32.into());
	for who in accounts {
		Pallet::<T>::file(who);
	}
}

/// [`moved`], then a new epoch: every wide account of the last is due to move to it.
fn moved_to_new_epoch<T: Config + pallet_lending::Config>(
	collaterals: &[<T as pallet_lending::Config>::AssetId],
	debts: &[<T as pallet_lending::Config>::AssetId],
) {
	moved::<T>(collaterals, debts);
	// Due by age (an incomplete epoch is replaced early only by a better one).
	Pallet::<T>::new_epoch(T::EpochBlocks::get().saturating_add(2).into());
}

/// A pool of `collateral` and `debt` at the oracle's price (10 collateral per debt unit) holding
/// `debt_depth` of the debt.
fn pool<T>(collateral: <T as Config>::AssetId, debt: <T as Config>::AssetId, debt_depth: u128)
where
	T: Config + pallet_lending::Config<AssetId = <T as Config>::AssetId>,
{
	pool_from::<T>(0, collateral, debt, debt_depth)
}

/// [`pool`], funded by the `lp`-th provider (an account holds a bounded number of assets).
fn pool_from<T>(
	lp: u32,
	collateral: <T as Config>::AssetId,
	debt: <T as Config>::AssetId,
	debt_depth: u128,
) where
	T: Config + pallet_lending::Config<AssetId = <T as Config>::AssetId>,
{
	let lp: T::AccountId = account("lp", lp, 0);
	let collateral_depth = debt_depth.saturating_mul(10);
	// Twice the depth: adding liquidity keeps the provider's accounts alive.
	assert!(<T as Config>::Assets::mint_into(collateral, &lp, collateral_depth.saturating_mul(2))
		.is_ok());
	assert!(<T as Config>::Assets::mint_into(debt, &lp, debt_depth.saturating_mul(2)).is_ok());
	<T as Config>::BenchmarkHelper::create_pool(
		&lp,
		collateral,
		debt,
		collateral_depth,
		debt_depth,
	);
}

/// The first collateral and the first (largest) debt.
/// Pre-liquidation terms at every cap.
fn widest_terms<T: Config>() -> PreLiquidationTerms {
	let rules = PreLiquidationCaps::<T>::get();
	PreLiquidationTerms {
		band: rules.max_band,
		close_share: rules.max_close_share,
		bonus: rules.max_bonus,
	}
}

fn first_pair<T: Config>(
	collaterals: &[<T as Config>::AssetId],
	debts: &[<T as Config>::AssetId],
) -> Result<Pair<T>, BenchmarkError> {
	match (collaterals.first(), debts.first()) {
		(Some(c), Some(d)) => Ok((*c, *d)),
		_ => Err(BenchmarkError::Weightless),
	}
}

/// [`underwater`] `who`, with its first collateral ranked riskiest (so `settle` picks it with
/// the first, largest debt) and a pool between them holding `debt_depth` of the debt. Returns
/// the markets and that pair; the caller calls [`later`] after the rest of its set-up.
fn to_settle<T>(
	who: &T::AccountId,
	debt_depth: u128,
) -> Result<(Markets<T>, Pair<T>), BenchmarkError>
where
	T: Config + pallet_lending::Config<AssetId = <T as Config>::AssetId>,
{
	let (collaterals, debts) = underwater::<T>(who)?;
	let (collateral, debt) = first_pair::<T>(&collaterals, &debts)?;
	RiskRank::<T>::insert(collateral, 1);
	pool::<T>(collateral, debt, debt_depth);
	Ok(((collaterals, debts), (collateral, debt)))
}

/// `asset`'s sale queue full: `head` first (health 0), the rest less risky.
fn full_queue<T: Config>(asset: T::AssetId, head: &T::AccountId) {
	let since = Pallet::<T>::block_number_u32();
	let rest = (1..T::MaxSaleQueue::get()).map(|i| QueueEntry {
		health: FixedU128::from_rational(99, 100),
		borrower: account("queued", i, 0),
		since,
	});
	let entries =
		core::iter::once(QueueEntry { health: FixedU128::zero(), borrower: head.clone(), since })
			.chain(rest)
			.collect::<Vec<_>>();
	SaleQueue::<T>::insert(asset, BoundedVec::truncate_from(entries));
}

/// [`to_settle`] `who` with a thin pool (the DEX refuses) and an empty treasury, an hour
/// later, settled: auction 0 is for its first collateral against its first debt. Returns the
/// markets and that pair.
fn auctioned<T>(who: &T::AccountId) -> Result<(Markets<T>, Pair<T>), BenchmarkError>
where
	T: Config + pallet_lending::Config<AssetId = <T as Config>::AssetId>,
{
	start::<T>();
	let ((collaterals, debts), pair) = to_settle::<T>(who, DEBT / 2)?;
	later::<T>(&collaterals, &debts);
	Pallet::<T>::settle(
		RawOrigin::Signed(account("caller", 0, 0)).into(),
		T::Lookup::unlookup(who.clone()),
	)?;
	Ok(((collaterals, debts), pair))
}

/// A batch to settle: `p` pairs (collateral market j against debt market
/// `MaxAssetsPerAccount + j`, a pool each, every collateral throttled: every pair reads its
/// own markets, prices, pool and asset accounts, and the breaker's), one narrow position
/// each, and `n` more in the first pair; the caller, the list and each `(borrower, collateral)`.
#[allow(clippy::type_complexity)]
fn batch_of<T>(
	n: u32,
	p: u32,
) -> Result<
	(
		T::AccountId,
		BoundedVec<T::AccountId, T::MaxSettleBatch>,
		Vec<(T::AccountId, <T as Config>::AssetId)>,
	),
	BenchmarkError,
>
where
	T: Config + pallet_lending::Config<AssetId = <T as Config>::AssetId>,
{
	start::<T>();
	let caller: T::AccountId = whitelisted_caller();
	let pairs = (0..p)
		.map(|j| Ok((market::<T>(j)?, market::<T>(max_assets::<T>().saturating_add(j))?)))
		.collect::<Result<Vec<_>, BenchmarkError>>()?;
	for (collateral, debt) in &pairs {
		pool::<T>(*collateral, *debt, LIQUIDITY.saturating_mul(10));
		<T as Config>::BenchmarkHelper::throttle(*collateral);
	}
	let mut borrowers = Vec::new();
	for i in 0..n.saturating_add(p) {
		let who: T::AccountId = account("batch", i, 0);
		// The first `p` borrowers open one pair each; the rest the first pair.
		let (collateral, debt) =
			pairs.get(i as usize).or(pairs.first()).copied().ok_or(BenchmarkError::Weightless)?;
		<T as Config>::Assets::mint_into(collateral, &who, COLLATERAL.saturating_mul(2))?;
		Lending::<T>::supply(RawOrigin::Signed(who.clone()).into(), collateral, COLLATERAL)?;
		Lending::<T>::borrow(RawOrigin::Signed(who.clone()).into(), debt, DEBT)?;
		borrowers.push((who, collateral));
	}
	let collaterals: Vec<_> = pairs.iter().map(|(c, _)| *c).collect();
	let debts: Vec<_> = pairs.iter().map(|(_, d)| *d).collect();
	later::<T>(&collaterals, &debts);
	let list: BoundedVec<_, _> = borrowers
		.iter()
		.map(|(who, _)| who.clone())
		.collect::<Vec<_>>()
		.try_into()
		.map_err(|_| BenchmarkError::Weightless)?;
	Ok((caller, list, borrowers))
}

#[benchmarks(where T: pallet_lending::Config<AssetId = <T as Config>::AssetId>)]
mod benchmarks {
	use super::*;

	/// A keeper takes the whole first collateral (it cannot cover the target), reading every
	/// market twice (health, then the position's amounts).
	#[benchmark]
	fn liquidate() -> Result<(), BenchmarkError> {
		start::<T>();
		let borrower: T::AccountId = account("borrower", 0, 0);
		let keeper: T::AccountId = whitelisted_caller();
		let (collaterals, debts) = underwater::<T>(&borrower)?;
		let (collateral, debt) = first_pair::<T>(&collaterals, &debts)?;
		<T as Config>::Assets::mint_into(debt, &keeper, COLLATERAL)?;
		later::<T>(&collaterals, &debts);
		let lookup = T::Lookup::unlookup(borrower.clone());

		#[extrinsic_call]
		_(RawOrigin::Signed(keeper.clone()), lookup, debt, collateral, Amount::All);

		assert_eq!(<T as Config>::Lending::supplied(&borrower, &collateral)?, 0);
		assert!(<T as Config>::Lending::supplied(&keeper, &collateral)? > 0);
		Ok(())
	}

	/// A keeper's pre-liquidation step of an account in every market (collaterals at 0.2:
	/// health 1.34, inside the widest band): two health checks over every market, the
	/// repayment, the keeper's and the treasury's seizures, the borrower's entry and filing.
	#[benchmark]
	fn pre_liquidate() -> Result<(), BenchmarkError> {
		start::<T>();
		let borrower: T::AccountId = account("borrower", 0, 0);
		let keeper: T::AccountId = whitelisted_caller();
		let (collaterals, debts) = underwater::<T>(&borrower)?;
		let (collateral, debt) = first_pair::<T>(&collaterals, &debts)?;
		<T as Config>::Assets::mint_into(debt, &keeper, COLLATERAL)?;
		// A step leaves no dust at these amounts only with no dust value.
		Params::<T>::mutate(|p| p.dust_value = 0);
		let terms = widest_terms::<T>();
		Pallet::<T>::set_pre_liquidation(RawOrigin::Signed(borrower.clone()).into(), Some(terms))?;
		later::<T>(&collaterals, &debts);
		for asset in &collaterals {
			LendingHelper::<T>::set_price(*asset, FixedU128::from_rational(1, 5));
		}
		let owed = <T as Config>::Lending::debt(&borrower, &debt)?;
		let lookup = T::Lookup::unlookup(borrower.clone());

		#[extrinsic_call]
		_(
			RawOrigin::Signed(keeper.clone()),
			lookup,
			debt,
			collateral,
			Amount::All,
			Permill::zero(),
		);

		assert!(<T as Config>::Lending::debt(&borrower, &debt)? < owed);
		assert!(<T as Config>::Lending::supplied(&keeper, &collateral)? > 0);
		assert!(PreLiquidation::<T>::get(&borrower).is_some_and(|e| e.last.is_some()));
		Ok(())
	}

	/// A borrower (with debt in every market it may) replaces its pre-liquidation terms.
	#[benchmark]
	fn set_pre_liquidation() -> Result<(), BenchmarkError> {
		start::<T>();
		let who: T::AccountId = whitelisted_caller();
		underwater::<T>(&who)?;
		let terms = widest_terms::<T>();
		Pallet::<T>::set_pre_liquidation(RawOrigin::Signed(who.clone()).into(), Some(terms))?;
		let new = PreLiquidationTerms { close_share: Permill::from_parts(1), ..terms };

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), Some(new));

		assert_eq!(PreLiquidation::<T>::get(&who).map(|e| e.terms), Some(new));
		Ok(())
	}

	#[benchmark]
	fn set_pre_liquidation_rules() -> Result<(), BenchmarkError> {
		let origin =
			T::RiskAdmin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let rules = PreLiquidationRules { horizon: 3_600, ..T::DefaultPreLiquidationRules::get() };

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, rules);

		assert_eq!(PreLiquidationCaps::<T>::get(), rules);
		Ok(())
	}

	/// `settle` through the DEX: quote, seize, withdraw, swap, repay, tip, the treasury's share.
	#[benchmark]
	fn settle_dex() -> Result<(), BenchmarkError> {
		start::<T>();
		let borrower: T::AccountId = account("borrower", 0, 0);
		let caller: T::AccountId = whitelisted_caller();
		let ((collaterals, debts), (collateral, debt)) = to_settle::<T>(&borrower, LIQUIDITY)?;
		later::<T>(&collaterals, &debts);
		// The breaker at its most work: the collateral throttled, its sale queue full, the
		// borrower at its head (the sale is counted and the queue rewritten).
		<T as Config>::BenchmarkHelper::throttle(collateral);
		full_queue::<T>(collateral, &borrower);
		let lookup = T::Lookup::unlookup(borrower.clone());
		let owed = <T as Config>::Lending::debt(&borrower, &debt)?.saturating_add(1);

		#[extrinsic_call]
		settle(RawOrigin::Signed(caller), lookup);

		assert!(<T as Config>::Lending::debt(&borrower, &debt)? < owed);
		assert!(<T as Config>::Lending::supplied(&borrower, &collateral)? < COLLATERAL);
		assert!(!SaleQueue::<T>::get(collateral).iter().any(|e| e.borrower == borrower));
		Ok(())
	}

	/// `settle_batch` of `n + 1` narrow positions of one pair (health 0.75: the whole bonus,
	/// all the debt repaid that the collateral covers): every position's share, tip and the
	/// treasury's share seized and its debt repaid in one pass of the lending pallet
	/// (`settle_lot`), its filing moved; one swap. Its slope is a batched position's weight.
	#[benchmark]
	fn settle_batch(
		n: Linear<0, { T::MaxSettleBatch::get().saturating_sub(1) }>,
	) -> Result<(), BenchmarkError> {
		let (caller, list, borrowers) = batch_of::<T>(n, 1)?;

		#[extrinsic_call]
		settle_batch(
			RawOrigin::Signed(caller),
			list,
			BatchWitness { pairs: 1, wide: 0, bids: u32::MAX },
		);

		for (who, collateral) in &borrowers {
			assert!(<T as Config>::Lending::supplied(who, collateral)? < COLLATERAL);
		}
		Ok(())
	}

	/// `settle_batch` of `p` pairs of one narrow position each (as `settle_batch`'s): its
	/// slope is a pair's weight with its position's, measured apart from the positions' (a
	/// sweep of pairs on a full batch measures noise: session 24).
	#[benchmark]
	fn settle_batch_pairs(p: Linear<1, { T::MaxBatchPairs::get() }>) -> Result<(), BenchmarkError> {
		let (caller, list, borrowers) = batch_of::<T>(0, p)?;

		#[extrinsic_call]
		settle_batch(
			RawOrigin::Signed(caller),
			list,
			BatchWitness { pairs: p, wide: 0, bids: u32::MAX },
		);

		for (who, collateral) in &borrowers {
			assert!(<T as Config>::Lending::supplied(who, collateral)? < COLLATERAL);
		}
		Ok(())
	}

	/// `settle_batch` of `n` wide positions (each in `MaxAssetsPerAccount` collateral and as
	/// many debt markets, as `settle_dex`), all of one pair: a wide position's weight is this
	/// benchmark's slope.
	#[benchmark]
	fn settle_batch_wide(n: Linear<1, { T::MaxSettleBatch::get() }>) -> Result<(), BenchmarkError> {
		start::<T>();
		let caller: T::AccountId = whitelisted_caller();
		let mut borrowers = Vec::new();
		let mut markets = (Vec::new(), Vec::new());
		for i in 0..n {
			let who: T::AccountId = account("wide", i, 0);
			markets = underwater::<T>(&who)?;
			borrowers.push(who);
		}
		let (collateral, debt) = first_pair::<T>(&markets.0, &markets.1)?;
		RiskRank::<T>::insert(collateral, 1);
		pool::<T>(collateral, debt, LIQUIDITY.saturating_mul(10));
		later::<T>(&markets.0, &markets.1);
		let owed: Vec<u128> = borrowers
			.iter()
			.map(|who| <T as Config>::Lending::debt(who, &debt))
			.collect::<Result<_, _>>()?;
		let list: BoundedVec<_, _> =
			borrowers.clone().try_into().map_err(|_| BenchmarkError::Weightless)?;

		#[extrinsic_call]
		settle_batch(
			RawOrigin::Signed(caller),
			list,
			BatchWitness { pairs: 1, wide: n, bids: u32::MAX },
		);

		for (who, owed) in borrowers.iter().zip(owed) {
			assert!(<T as Config>::Lending::supplied(who, &collateral)? < COLLATERAL);
			assert!(<T as Config>::Lending::debt(who, &debt)? < owed);
		}
		Ok(())
	}

	/// `settle` through the backstop after the DEX refused (a thin pool: quoted, refused).
	#[benchmark]
	fn settle_backstop() -> Result<(), BenchmarkError> {
		start::<T>();
		let borrower: T::AccountId = account("borrower", 0, 0);
		let caller: T::AccountId = whitelisted_caller();
		let ((collaterals, debts), (collateral, debt)) = to_settle::<T>(&borrower, DEBT / 2)?;
		<T as Config>::Assets::mint_into(debt, &Pallet::<T>::insurance_account(), COLLATERAL)?;
		later::<T>(&collaterals, &debts);
		let lookup = T::Lookup::unlookup(borrower.clone());

		#[extrinsic_call]
		settle(RawOrigin::Signed(caller), lookup);

		assert!(<T as Config>::Lending::supplied(&borrower, &collateral)? < COLLATERAL);
		assert!(
			<T as Config>::Lending::supplied(&Pallet::<T>::insurance_account(), &collateral)? > 0
		);
		Ok(())
	}

	/// `settle` starting an auction: the DEX refused at its last check (quoted within the
	/// bound, the cash there, then the breaker's gate: the collateral halted), the empty
	/// treasury cannot buy, and the borrower leaves a full sale queue.
	#[benchmark]
	fn settle_auction() -> Result<(), BenchmarkError> {
		start::<T>();
		let borrower: T::AccountId = account("borrower", 0, 0);
		let caller: T::AccountId = whitelisted_caller();
		let ((collaterals, debts), (collateral, _)) = to_settle::<T>(&borrower, LIQUIDITY)?;
		later::<T>(&collaterals, &debts);
		<T as Config>::BenchmarkHelper::halt(collateral);
		full_queue::<T>(collateral, &borrower);
		let lookup = T::Lookup::unlookup(borrower.clone());

		#[extrinsic_call]
		settle(RawOrigin::Signed(caller), lookup);

		assert_eq!(BorrowerAuction::<T>::get(&borrower), Some(0));
		// Nothing seized (the supply grew by the hour's interest).
		assert!(<T as Config>::Lending::supplied(&borrower, &collateral)? >= COLLATERAL);
		Ok(())
	}

	/// `take` of a whole auction at its starting price: the taker pays the whole tab (the lot
	/// is cut to what it buys), receives the collateral, and the treasury takes its share of
	/// the unsold lot as the auction ends. (Its declared weight adds the loss waterfall, for a
	/// lot sold out with debt left.)
	#[benchmark]
	fn take() -> Result<(), BenchmarkError> {
		let borrower: T::AccountId = account("borrower", 0, 0);
		let taker: T::AccountId = whitelisted_caller();
		let (_, (collateral, debt)) = auctioned::<T>(&borrower)?;
		<T as Config>::Assets::mint_into(debt, &taker, COLLATERAL)?;
		let tab = Auctions::<T>::get(0).ok_or(BenchmarkError::Weightless)?.tab;
		let owed = <T as Config>::Lending::debt(&borrower, &debt)?;

		#[extrinsic_call]
		_(RawOrigin::Signed(taker.clone()), 0, u128::MAX, FixedU128::from_u32(1_000));

		assert_eq!(Auctions::<T>::count(), 0);
		assert_eq!(<T as Config>::Lending::debt(&borrower, &debt)?, owed.saturating_sub(tab));
		assert!(<T as Config>::Lending::supplied(&taker, &collateral)? > 0);
		assert!(
			<T as Config>::Lending::supplied(&Pallet::<T>::insurance_account(), &collateral)? > 0
		);
		Ok(())
	}

	/// `redo` resetting an auction older than its tail: the borrower's health read, both
	/// prices, the auction rewritten.
	#[benchmark]
	fn redo() -> Result<(), BenchmarkError> {
		let borrower: T::AccountId = account("borrower", 0, 0);
		let caller: T::AccountId = whitelisted_caller();
		auctioned::<T>(&borrower)?;
		let tail = AuctionParameters::<T>::get().tail;
		frame_system::Pallet::<T>::set_block_number(tail.saturating_add(2).into());

		#[extrinsic_call]
		_(RawOrigin::Signed(caller), 0);

		let auction = Auctions::<T>::get(0).ok_or(BenchmarkError::Weightless)?;
		assert_eq!(auction.resets, 1);
		Ok(())
	}

	/// `redo` closing an auction whose borrower is healthy again (its collateral's price back
	/// up): the borrower's health over 16 markets, the auction and its borrower's entry removed.
	#[benchmark]
	fn redo_close() -> Result<(), BenchmarkError> {
		let borrower: T::AccountId = account("borrower", 0, 0);
		let caller: T::AccountId = whitelisted_caller();
		let ((collaterals, _), _) = auctioned::<T>(&borrower)?;
		for asset in &collaterals {
			LendingHelper::<T>::set_price(*asset, FixedU128::from_u32(1));
		}

		#[extrinsic_call]
		redo(RawOrigin::Signed(caller), 0);

		assert_eq!(Auctions::<T>::count(), 0);
		assert_eq!(BorrowerAuction::<T>::get(&borrower), None);
		Ok(())
	}

	#[benchmark]
	fn set_auction_params() -> Result<(), BenchmarkError> {
		let origin =
			T::RiskAdmin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let params = AuctionParams { tail: 7, ..T::DefaultAuctionParams::get() };

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, params);

		assert_eq!(AuctionParameters::<T>::get(), params);
		Ok(())
	}

	/// The loss waterfall over `n` debts of an account with no collateral, at its worst: for
	/// each debt the treasury's holdings of it (tokens), then its other supplies tried largest
	/// first (as many as an account may hold: every larger one has no pool against the debt,
	/// so each is quoted and refused), the first that sells sold whole for less than the
	/// shortfall, and the rest written off against reserves and suppliers.
	#[benchmark]
	fn cover_shortfall(n: Linear<1, { T::MaxDebts::get() }>) -> Result<(), BenchmarkError> {
		start::<T>();
		let borrower: T::AccountId = account("borrower", 0, 0);
		let caller: T::AccountId = whitelisted_caller();
		let (collaterals, debts) = underwater::<T>(&borrower)?;
		// Repay the debts beyond the first `n`, then move the collateral away: to the
		// treasury, holdings of decreasing size (the i-th worth 2.5·10⁷ / (i + 1) at 0.1, each
		// less than a debt's shortfall), the rest to a stripper.
		for debt in debts.iter().skip(n as usize) {
			Lending::<T>::repay(RawOrigin::Signed(borrower.clone()).into(), *debt, Amount::All)?;
		}
		let treasury = Pallet::<T>::insurance_account();
		let stripper: T::AccountId = account("stripper", 0, 0);
		for (i, collateral) in collaterals.iter().enumerate() {
			let all = <T as Config>::Lending::supplied(&borrower, collateral)?;
			let divisor =
				u128::try_from(i).ok().and_then(|i| i.checked_add(1)).unwrap_or(u128::MAX);
			let share = (COLLATERAL / 4).checked_div(divisor).unwrap_or(0);
			<T as Config>::Lending::seize_collateral(&borrower, collateral, share, &treasury)?;
			let rest = all.saturating_sub(share);
			<T as Config>::Lending::seize_collateral(&borrower, collateral, rest, &stripper)?;
		}
		// The k-th debt has a pool only against the (k+1)-th smallest holding: the larger ones
		// are tried first and refused.
		for (k, debt) in debts.iter().take(n as usize).enumerate() {
			let holding = collaterals
				.iter()
				.rev()
				.nth(k)
				.copied()
				.ok_or(BenchmarkError::Stop("fewer holdings than debts"))?;
			let lp = u32::try_from(k).unwrap_or(u32::MAX).saturating_add(1);
			pool_from::<T>(lp, holding, *debt, DEBT.saturating_mul(100));
		}
		let held: u128 = collaterals
			.iter()
			.map(|c| <T as Config>::Lending::supplied(&treasury, c).unwrap_or(0))
			.sum();
		let gov: T::AccountId = account("gov", 0, 0);
		for debt in debts.iter().take(n as usize) {
			<T as Config>::Assets::mint_into(*debt, &treasury, DEBT / 4)?;
			<T as Config>::Assets::mint_into(*debt, &gov, DEBT)?;
			Lending::<T>::add_reserves(RawOrigin::Signed(gov.clone()).into(), *debt, DEBT / 4)?;
		}
		later::<T>(&collaterals, &debts);
		let lookup = T::Lookup::unlookup(borrower.clone());

		#[extrinsic_call]
		settle(RawOrigin::Signed(caller), lookup);

		for debt in debts.iter().take(n as usize) {
			assert_eq!(<T as Config>::Lending::debt(&borrower, debt)?, 0);
			// Sold something, and still wrote off the rest.
			assert!(BadDebt::<T>::get(debt) > 0);
		}
		let left: u128 = collaterals
			.iter()
			.map(|c| <T as Config>::Lending::supplied(&treasury, c).unwrap_or(0))
			.sum();
		assert!(left < held, "the treasury sold: {left} of {held}");
		Ok(())
	}

	/// The risk index's upkeep in a lending call, at its worst: the lending pallet's hook
	/// (`OnPositionChanged`, given the account's record, which the call reads and writes
	/// anyway) for an account in every market it may be in, filed in the last epoch, moving
	/// to a new key of the new epoch: its entry out and in, the state of the key it enters
	/// created (the key it leaves keeps its state until pruned). Epochs hold as many markets
	/// as they may. A move within a key writes as much, and looks whether it left the top
	/// bucket empty: a storage iteration the hook's weight adds as a read.
	#[benchmark]
	fn file_position() -> Result<(), BenchmarkError> {
		start::<T>();
		// As many markets as an epoch holds (the runtime's own count among them).
		for i in 0..EPOCH_ASSETS {
			if <T as Config>::Lending::markets().len() >= EPOCH_ASSETS as usize {
				break;
			}
			market::<T>(i)?;
		}
		let who: T::AccountId = account("borrower", 0, 0);
		let (collaterals, debts) = underwater::<T>(&who)?;
		filed_in_epoch::<T>(core::slice::from_ref(&who));
		let first = RiskEpoch::<T>::get().map(|e| e.id).ok_or(BenchmarkError::Weightless)?;
		let before = Pallet::<T>::filed(&who);
		let Some(Filing::Entry(old_key, _)) = before else {
			return Err(BenchmarkError::Stop("not filed under a key"));
		};
		assert!(matches!(old_key, RiskKey::Wide { epoch, .. } if epoch == first));
		moved_to_new_epoch::<T>(&collaterals, &debts);
		let shares = <T as Config>::Lending::account_shares(&who);
		let mut filed = before;

		#[block]
		{
			raise::<T>(&who, &shares, &mut filed);
		}

		assert!(all_moved::<T>(&before, &filed), "{before:?} -> {filed:?}");
		let Some(Filing::Entry(new_key, _)) = filed else {
			return Err(BenchmarkError::Stop("not filed under a key"));
		};
		assert_eq!(new_key.epoch(), Some(first.saturating_add(1)));
		assert!(RiskKeys::<T>::contains_key(new_key.epoch(), new_key));
		// The key left keeps its state, and the old epoch its variables, until pruned.
		assert!(RiskKeys::<T>::contains_key(old_key.epoch(), old_key));
		assert!(EpochVariables::<T>::contains_key(first));
		Ok(())
	}

	/// The common case, for comparison (not charged: `file_position` is): the hook for one
	/// collateral and one debt, the entry moving within its key (the account doubled its
	/// collateral), the top looked at and lowered.
	#[benchmark]
	fn file_pair() -> Result<(), BenchmarkError> {
		start::<T>();
		let who: T::AccountId = account("borrower", 0, 0);
		let (collateral, debt) = (market::<T>(0)?, market::<T>(1)?);
		<T as Config>::Assets::mint_into(collateral, &who, COLLATERAL.saturating_mul(3))?;
		Lending::<T>::supply(RawOrigin::Signed(who.clone()).into(), collateral, COLLATERAL)?;
		Lending::<T>::borrow(RawOrigin::Signed(who.clone()).into(), debt, DEBT)?;
		let before = Pallet::<T>::filed(&who);
		// A fall in risk leaves the entry where it was.
		Lending::<T>::supply(RawOrigin::Signed(who.clone()).into(), collateral, COLLATERAL)?;
		assert_eq!(Pallet::<T>::filed(&who), before);
		let shares = <T as Config>::Lending::account_shares(&who);
		let mut filed = before;

		#[block]
		{
			raise::<T>(&who, &shares, &mut filed);
		}

		assert!(all_moved::<T>(&before, &filed));
		Ok(())
	}

	/// A new epoch of the risk index with `m` markets (`on_initialize` when one is due), the
	/// previous epoch's variables going with it (no key of it left).
	#[benchmark]
	fn new_epoch(m: Linear<1, { EPOCH_ASSETS }>) -> Result<(), BenchmarkError> {
		start::<T>();
		for i in 0..m {
			market::<T>(i)?;
		}
		Pallet::<T>::new_epoch(1u32.into());
		let first = RiskEpoch::<T>::get().map(|e| e.id).ok_or(BenchmarkError::Weightless)?;
		let markets;

		#[block]
		{
			markets = Pallet::<T>::new_epoch(2u32.into());
		}

		assert!(markets >= m);
		assert!(!EpochVariables::<T>::contains_key(first));
		assert!(EpochVariables::<T>::contains_key(first.saturating_add(1)));
		Ok(())
	}

	/// `refile` of `n` accounts, each as in `file_position` (here every one enters the same new
	/// key: [`Pallet::refile_weight`] adds a key's state for each), with its record read and
	/// written.
	#[benchmark]
	fn refile(n: Linear<1, { T::MaxRefile::get() }>) -> Result<(), BenchmarkError> {
		start::<T>();
		let mut accounts = Vec::new();
		let mut markets = (Vec::new(), Vec::new());
		for i in 0..n {
			let who: T::AccountId = account("borrower", i, 0);
			markets = underwater::<T>(&who)?;
			accounts.push(who);
		}
		filed_in_epoch::<T>(&accounts);
		let before: Vec<_> = accounts.iter().map(Pallet::<T>::filed).collect();
		moved_to_new_epoch::<T>(&markets.0, &markets.1);
		let caller: T::AccountId = whitelisted_caller();
		let list: BoundedVec<_, _> =
			accounts.clone().try_into().map_err(|_| BenchmarkError::Weightless)?;

		#[extrinsic_call]
		_(RawOrigin::Signed(caller), list);

		for (who, before) in accounts.iter().zip(before) {
			assert!(all_moved::<T>(&before, &Pallet::<T>::filed(who)));
		}
		Ok(())
	}

	/// What validating an unsigned `settle_batch_unsigned` of `n` borrowers costs the node that
	/// made it (and `pre_dispatch` the block that includes it), at its worst: every borrower
	/// wide (`MaxAssetsPerAccount` collaterals and debts), all healthy but the last, so the
	/// check ([`Pallet::may_settle`]: prices, positions, health) reads every one. The slope is
	/// the validation cost of a position; `settle_batch_unsigned` is charged it.
	#[benchmark]
	fn validate_settle_batch(
		n: Linear<1, { T::MaxSettleBatch::get() }>,
	) -> Result<(), BenchmarkError> {
		start::<T>();
		let mut borrowers: Vec<T::AccountId> = (0..n).map(|i| account("validate", i, 0)).collect();
		borrowers.sort();
		let mut markets = (Vec::new(), Vec::new());
		for (i, who) in borrowers.iter().enumerate() {
			let last = i.saturating_add(1) == borrowers.len();
			markets = wide::<T>(who, if last { DEBT } else { DEBT / 100 })?;
		}
		later::<T>(&markets.0, &markets.1);
		let last = borrowers.last().cloned().ok_or(BenchmarkError::Weightless)?;
		assert!(borrowers.iter().filter(|who| Pallet::<T>::may_settle(who)).eq([&last]));
		let call = Call::<T>::settle_batch_unsigned {
			borrowers: borrowers.try_into().map_err(|_| BenchmarkError::Weightless)?,
			witness: BatchWitness { pairs: 1, wide: n, bids: u32::MAX },
			at: frame_system::Pallet::<T>::block_number(),
		};
		let validity;

		#[block]
		{
			validity = Pallet::<T>::validate_unsigned(TransactionSource::Local, &call);
		}

		assert!(validity.is_ok());
		Ok(())
	}

	/// What validating `settle_after_feed` of `n` borrowers costs once its feed has landed (in
	/// the pool before, it reads only the feed's nonce): `validate_settle_batch`'s worst case
	/// (every borrower wide, all healthy but the last) and the feed signer's nonce.
	#[benchmark]
	fn validate_settle_after_feed(
		n: Linear<1, { T::MaxSettleBatch::get() }>,
	) -> Result<(), BenchmarkError> {
		start::<T>();
		let mut borrowers: Vec<T::AccountId> = (0..n).map(|i| account("validate", i, 0)).collect();
		borrowers.sort();
		let mut markets = (Vec::new(), Vec::new());
		for (i, who) in borrowers.iter().enumerate() {
			let last = i.saturating_add(1) == borrowers.len();
			markets = wide::<T>(who, if last { DEBT } else { DEBT / 100 })?;
		}
		later::<T>(&markets.0, &markets.1);
		let last = borrowers.last().cloned().ok_or(BenchmarkError::Weightless)?;
		assert!(borrowers.iter().filter(|who| Pallet::<T>::may_settle(who)).eq([&last]));
		// The feed (its signer's nonce 0) has landed: the signer's nonce is past it.
		let feeder: T::AccountId = account("feeder", 0, 0);
		frame_system::Pallet::<T>::inc_account_nonce(&feeder);
		let call = Call::<T>::settle_after_feed {
			borrowers: borrowers.try_into().map_err(|_| BenchmarkError::Weightless)?,
			witness: BatchWitness { pairs: 1, wide: n, bids: u32::MAX },
			feed: (feeder, Default::default()),
			at: frame_system::Pallet::<T>::block_number(),
		};
		let validity;

		#[block]
		{
			validity = Pallet::<T>::validate_unsigned(TransactionSource::Local, &call);
		}

		assert!(validity.is_ok_and(|v| v.requires.is_empty()));
		Ok(())
	}

	/// Validating an unsigned `refile_unsigned` of `n` accounts at its worst: each wide and
	/// each of its entries due to move (as `refile`), so [`Pallet::needs_refile`] reads all.
	#[benchmark]
	fn validate_refile(n: Linear<1, { T::MaxRefile::get() }>) -> Result<(), BenchmarkError> {
		start::<T>();
		let mut accounts = Vec::new();
		let mut markets = (Vec::new(), Vec::new());
		for i in 0..n {
			let who: T::AccountId = account("borrower", i, 0);
			markets = underwater::<T>(&who)?;
			accounts.push(who);
		}
		filed_in_epoch::<T>(&accounts);
		moved_to_new_epoch::<T>(&markets.0, &markets.1);
		assert!(accounts.iter().all(Pallet::<T>::needs_refile));
		let call = Call::<T>::refile_unsigned {
			accounts: accounts.try_into().map_err(|_| BenchmarkError::Weightless)?,
			at: frame_system::Pallet::<T>::block_number(),
		};
		let validity;

		#[block]
		{
			validity = Pallet::<T>::validate_unsigned(TransactionSource::Local, &call);
		}

		assert!(validity.is_ok());
		Ok(())
	}

	/// `prune_keys` of `n` keys at its worst: each the last key of an older epoch, whose
	/// variables (as many markets as an epoch holds) go with it.
	#[benchmark]
	fn prune_keys(n: Linear<1, MAX_PRUNE>) -> Result<(), BenchmarkError> {
		let keys = empty_keys_of_old_epochs::<T>(n)?;
		let caller: T::AccountId = whitelisted_caller();

		#[extrinsic_call]
		_(RawOrigin::Signed(caller), keys.clone());

		for key in &keys {
			assert!(!RiskKeys::<T>::contains_key(key.epoch(), key));
			assert!(!EpochVariables::<T>::contains_key(key.epoch().unwrap_or_default()));
		}
		Ok(())
	}

	/// Validating an unsigned `prune_keys_unsigned` of `n` keys at its worst: every key read
	/// (each read, and its entries' prefix), only the last one prunable.
	#[benchmark]
	fn validate_prune(n: Linear<1, MAX_PRUNE>) -> Result<(), BenchmarkError> {
		let keys = empty_keys_of_old_epochs::<T>(n)?;
		let who: T::AccountId = account("borrower", 0, 0);
		for key in keys.iter().take(keys.len().saturating_sub(1)) {
			RiskIndex::<T>::insert((key, 0, &who), ());
		}
		let call =
			Call::<T>::prune_keys_unsigned { keys, at: frame_system::Pallet::<T>::block_number() };
		let validity;

		#[block]
		{
			validity = Pallet::<T>::validate_unsigned(TransactionSource::Local, &call);
		}

		assert!(validity.is_ok());
		Ok(())
	}

	#[benchmark]
	fn update_params() -> Result<(), BenchmarkError> {
		let origin =
			T::RiskAdmin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let params = LiquidationParams { dust_value: 0, ..T::DefaultParams::get() };

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, params);

		assert_eq!(Params::<T>::get(), params);
		Ok(())
	}

	#[benchmark]
	fn set_risk_rank() -> Result<(), BenchmarkError> {
		start::<T>();
		let origin =
			T::RiskAdmin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let asset = market::<T>(0)?;

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, asset, 9);

		assert_eq!(RiskRank::<T>::get(asset), 9);
		Ok(())
	}

	#[benchmark]
	fn transfer_insurance() -> Result<(), BenchmarkError> {
		start::<T>();
		let origin =
			T::RiskAdmin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let asset = market::<T>(0)?;
		<T as Config>::Assets::mint_into(asset, &Pallet::<T>::insurance_account(), DEBT)?;
		let to: T::AccountId = account("to", 0, 0);
		let lookup = T::Lookup::unlookup(to.clone());

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, asset, DEBT / 2, lookup);

		assert_eq!(<T as Config>::Assets::balance(asset, &to), DEBT / 2);
		Ok(())
	}

	impl_benchmark_test_suite!(
		Pallet,
		crate::mock::ExtBuilder::default().build(),
		crate::mock::Test
	);
}
