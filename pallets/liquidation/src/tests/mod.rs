//! Every route with exact balances, every refusal by name, the loss waterfall to the unit.
//!
//! No time passes in these tests unless one says so, so every lending index is exactly 1 and
//! supply shares equal underlying units: figures below are exact.

use crate::{mock::*, *};
use frame_support::{assert_noop, assert_ok, traits::fungible::NativeOrWithId};
use pallet_lending::Error as LendingError;
use sp_arithmetic::{
	traits::{One, Zero},
	FixedU128, Permill,
};
use sp_runtime::DispatchError;

// By role, as the source: auctions, batches, the breaker's gates, the risk index, the worker;
// and the findings of the correctness review (#25), each reproduced.
mod auctions;
mod batch;
mod bids;
mod breaker;
mod correctness;
mod index;
mod pre_liquidation;
mod worker;

/// Alice: 10,000 BTC (worth 1,000,000) backing 700,000 USD; BTC then falls to `price`.
fn alice_underwater(price: u128) {
	alice_borrows(10_000, 700_000);
	MockOracle::set(BTC, FixedU128::from_u32(price as u32));
	System::reset_events();
}

/// The LP sells `amount` BTC into the USD/BTC pool: at 50,000,000 it prices BTC far below the
/// oracle, beyond the slippage bound.
fn lp_dumps_btc(amount: u128) {
	assert_ok!(AssetConversion::swap_exact_tokens_for_tokens(
		RuntimeOrigin::signed(LP),
		vec![Box::new(NativeOrWithId::WithId(BTC)), Box::new(NativeOrWithId::WithId(USD))],
		amount,
		1,
		LP,
		false,
	));
}

/// Borrowers 10.. with 10,000 BTC each, owing `owed[i]` USD (BTC at 100: health above 1 for
/// up to 750,000).
fn list(accounts: &[AccountId]) -> frame_support::BoundedVec<AccountId, MaxBatch> {
	accounts.to_vec().try_into().expect("within MaxSettleBatch")
}
type MaxBatch = <Test as Config>::MaxSettleBatch;

/// CHARLIE's `settle_batch` of `accounts`, in the order given, declaring `w`.
fn settle_batch(accounts: &[AccountId], w: BatchWitness) -> DispatchResultWithPostInfoOf {
	Liquidation::settle_batch(RuntimeOrigin::signed(CHARLIE), list(accounts), w)
}
type DispatchResultWithPostInfoOf = frame_support::dispatch::DispatchResultWithPostInfo;

fn borrowers(owed: &[u128]) -> Vec<AccountId> {
	owed.iter()
		.enumerate()
		.map(|(i, owed)| {
			let who = 10 + i as AccountId;
			mint(BTC, who, 10_000 + MIN);
			assert_ok!(Lending::supply(RuntimeOrigin::signed(who), BTC, 10_000));
			assert_ok!(Lending::borrow(RuntimeOrigin::signed(who), USD, *owed));
			who
		})
		.collect()
}

/// Everything a liquidation can move, to compare before and after.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Snapshot {
	alice_debt: u128,
	alice_btc: u128,
	bob_usd: u128,
	bob_btc_supply: u128,
	charlie_btc: u128,
	charlie_btc_supply: u128,
	insurance_usd: u128,
	insurance_btc_supply: u128,
	pool: (u128, u128),
}

fn snapshot() -> Snapshot {
	Snapshot {
		alice_debt: debt(ALICE, USD),
		alice_btc: supplied(ALICE, BTC),
		bob_usd: balance(USD, BOB),
		bob_btc_supply: supplied(BOB, BTC),
		charlie_btc: balance(BTC, CHARLIE),
		charlie_btc_supply: supplied(CHARLIE, BTC),
		insurance_usd: balance(USD, insurance()),
		insurance_btc_supply: supplied(insurance(), BTC),
		pool: pool_reserves(USD, BTC),
	}
}

/// Bob, as a keeper, liquidates Alice's USD debt against her BTC.
fn bob_liquidates_alice(max_repay: Amount) -> frame_support::dispatch::DispatchResultWithPostInfo {
	Liquidation::liquidate(RuntimeOrigin::signed(BOB), ALICE, USD, BTC, max_repay)
}

fn last_event() -> Event<Test> {
	events().pop().expect("an event")
}

/// Collateral units due for `repay` USD at BTC price `price` with `discount`, rounded down
/// (independent of the pallet's code: plain integers, the discount in parts per million).
fn due(repay: u128, price: u128, discount: Permill) -> u128 {
	let base = repay / price;
	let with = repay * (1_000_000 + u128::from(discount.deconstruct())) / 1_000_000 / price;
	assert!(with >= base);
	with
}

// ---------------------------------------------------------------------------------------------
// Only unhealthy positions
// ---------------------------------------------------------------------------------------------

#[test]
fn a_healthy_account_is_refused_by_every_route() {
	ExtBuilder::default().build_and_execute(|| {
		alice_borrows(10_000, 700_000);
		// Health 750,000 / 700,000 > 1.
		assert!(health(ALICE) > FixedU128::one());
		mint(USD, insurance(), 1_000_000);
		assert_noop!(bob_liquidates_alice(Amount::All), Error::<Test>::NotLiquidatable);
		assert_noop!(bob_liquidates_alice(Amount::Exact(1_000)), Error::<Test>::NotLiquidatable);
		assert_noop!(
			Liquidation::settle(RuntimeOrigin::signed(CHARLIE), ALICE),
			Error::<Test>::NotLiquidatable
		);
		assert!(Liquidation::preview(ALICE).is_err());
		// An account with no position at all.
		assert_noop!(
			Liquidation::settle(RuntimeOrigin::signed(CHARLIE), BOB),
			Error::<Test>::NotLiquidatable
		);
	});
}

#[test]
fn stale_and_missing_prices_refuse() {
	ExtBuilder::default().build_and_execute(|| {
		alice_underwater(90);
		mint(USD, insurance(), 1_000_000);
		// An hour and a second later, nobody refreshed the BTC price.
		let now = Timestamp::get() + 3_601_000;
		Timestamp::set_timestamp(now);
		MockOracle::set(USD, FixedU128::one());
		assert_noop!(bob_liquidates_alice(Amount::All), Error::<Test>::PriceStale);
		assert_noop!(
			Liquidation::settle(RuntimeOrigin::signed(CHARLIE), ALICE),
			Error::<Test>::PriceStale
		);
		// The debt's price missing.
		MockOracle::set(BTC, FixedU128::from_u32(90));
		MockOracle::remove(USD);
		assert_noop!(bob_liquidates_alice(Amount::All), Error::<Test>::PriceMissing);
		assert_noop!(
			Liquidation::settle(RuntimeOrigin::signed(CHARLIE), ALICE),
			Error::<Test>::PriceMissing
		);
	});
}

// ---------------------------------------------------------------------------------------------
// Keeper route
// ---------------------------------------------------------------------------------------------

#[test]
fn keeper_repays_to_the_target_health_and_gets_the_discount() {
	ExtBuilder::default().build_and_execute(|| {
		alice_underwater(90);
		// Health 675,000 / 700,000 = 0.9642…
		let before = snapshot();
		let health_before = health(ALICE);
		assert_ok!(bob_liquidates_alice(Amount::All));
		let Event::Liquidated { repaid, seized, protocol_fee, discount, health: h, .. } =
			last_event()
		else {
			panic!("not a liquidation")
		};
		// 675,000 / 700,000, rounded down.
		assert_eq!(h, health_before);
		assert_eq!(h, FixedU128::from_inner(964_285_714_285_714_285));
		// A third of the way from health 1 to 0.9: the discount is between half the 10% bonus
		// and all of it, on Aave V4's line.
		assert_eq!(
			discount,
			math::discount(Permill::from_percent(10), Permill::from_percent(50), fx(9, 10), h)
		);
		assert!(discount > Permill::from_parts(67_000) && discount < Permill::from_parts(68_000));
		// Exact balances: the keeper paid `repaid`, the borrower's debt fell by it; the
		// collateral due went to the keeper and (the fee: 10% of the bonus, rounded up) to the
		// insurance treasury, and left the borrower.
		let collateral = due(repaid, 90, discount);
		let bonus = collateral - repaid / 90;
		assert_eq!(protocol_fee, (bonus * 10).div_ceil(100));
		assert_eq!(seized + protocol_fee, collateral);
		let after = snapshot();
		assert_eq!(after.bob_usd, before.bob_usd - repaid);
		assert_eq!(after.alice_debt, before.alice_debt - repaid);
		assert_eq!(after.bob_btc_supply, seized);
		assert_eq!(after.insurance_btc_supply, protocol_fee);
		assert_eq!(after.alice_btc, before.alice_btc - collateral);
		assert_eq!(after.pool, before.pool);
		// Repaid exactly enough to reach the target health 1.05, not a unit more.
		let target = fx(105, 100);
		assert!(health(ALICE) >= target, "{:?}", health(ALICE));
		// The exact repayment for the target: (1.05 × 700,000 − 675,000) / (1.05 − 0.75 × (1 + d)).
		let d = f64::from(discount.deconstruct()) / 1e6;
		let exact = (735_000.0 - 675_000.0) / (1.05 - 0.75 * (1.0 + d));
		assert!((repaid as f64 - exact).abs() < 2.0, "{repaid} vs {exact}");
		// About 240,000 of the 700,000 debt: nowhere near a fixed half.
		assert!(repaid > 235_000 && repaid < 245_000, "{repaid}");
	});
}

#[test]
fn the_discount_grows_as_health_falls() {
	// BTC at 93, 90 and 84: health 0.996, 0.964 and 0.9: a hair above half the 10% bonus, a
	// point on the line, the whole bonus.
	let mut seen = vec![];
	for price in [93, 90, 84] {
		ExtBuilder::default().build_and_execute(|| {
			alice_underwater(price);
			assert_ok!(bob_liquidates_alice(Amount::All));
			let Event::Liquidated { discount, health, .. } = last_event() else { panic!() };
			seen.push((health, discount));
		});
	}
	let [(h1, d1), (h2, d2), (h3, d3)] = seen[..] else { panic!() };
	assert!(h1 > h2 && h2 > h3);
	assert_eq!(h1, FixedU128::from_inner(996_428_571_428_571_428));
	// 5% + 5% × (0.0357 / 0.1) = 5.178%.
	assert!(d1 > Permill::from_percent(5) && d1 < Permill::from_parts(52_000), "{d1:?}");
	assert!(d2 > d1 && d2 < d3, "{d2:?}");
	assert_eq!(h3, fx(9, 10));
	assert_eq!(d3, Permill::from_percent(10));
}

#[test]
fn a_keeper_may_repay_less_but_never_leave_dust() {
	ExtBuilder::default().build_and_execute(|| {
		alice_underwater(90);
		let before = snapshot();
		assert_ok!(bob_liquidates_alice(Amount::Exact(50_000)));
		let Event::Liquidated { repaid, seized, protocol_fee, discount, .. } = last_event() else {
			panic!()
		};
		assert_eq!(repaid, 50_000);
		assert_eq!(seized + protocol_fee, due(50_000, 90, discount));
		assert_eq!(debt(ALICE, USD), before.alice_debt - 50_000);
		// Still unhealthy: another keeper may go on.
		assert!(health(ALICE) < FixedU128::one());
	});
}

#[test]
fn dust_is_liquidated_fully() {
	ExtBuilder::default().build_and_execute(|| {
		// Dust value 100,000: Alice's 120,000 debt would leave ~85,000 after a target-sized
		// repayment, so all of it is repaid.
		let params = LiquidationParams { dust_value: 100_000, ..default_params() };
		assert_ok!(Liquidation::update_params(RuntimeOrigin::root(), params));
		alice_borrows(1_800, 120_000);
		MockOracle::set(BTC, FixedU128::from_u32(88));
		// Health 1,800 × 88 × 0.75 / 120,000 = 0.99.
		assert_ok!(bob_liquidates_alice(Amount::All));
		let Event::Liquidated { repaid, seized, protocol_fee, discount, .. } = last_event() else {
			panic!()
		};
		assert_eq!(repaid, 120_000);
		assert_eq!(debt(ALICE, USD), 0);
		let collateral = due(120_000, 88, discount);
		assert_eq!(seized + protocol_fee, collateral);
		assert_eq!(supplied(ALICE, BTC), 1_800 - collateral);
	});
}

#[test]
fn a_cap_that_leaves_dust_is_refused() {
	ExtBuilder::default().build_and_execute(|| {
		// Dust value 500,000: the plan repays all 700,000, so a keeper capping at 300,000
		// would leave 400,000 of dust debt.
		let params = LiquidationParams { dust_value: 500_000, ..default_params() };
		assert_ok!(Liquidation::update_params(RuntimeOrigin::root(), params));
		alice_underwater(90);
		assert_noop!(bob_liquidates_alice(Amount::Exact(300_000)), Error::<Test>::LeavesDust);
		// A cap above the plan is no cap.
		assert_ok!(bob_liquidates_alice(Amount::Exact(800_000)));
		let Event::Liquidated { repaid, .. } = last_event() else { panic!() };
		assert_eq!(repaid, 700_000);
	});
}

#[test]
fn collateral_that_cannot_cover_is_taken_whole_and_repays_proportionally_less() {
	ExtBuilder::default().build_and_execute(|| {
		// BTC at 70: collateral worth 700,000 against 700,000 debt (health 0.75): the whole
		// bonus, and the collateral pays for 700,000 / 1.1 = 636,363 of the debt.
		alice_underwater(70);
		assert_ok!(bob_liquidates_alice(Amount::All));
		let liquidated = events()
			.into_iter()
			.find_map(|e| match e {
				Event::Liquidated { repaid, seized, protocol_fee, discount, .. } => {
					Some((repaid, seized, protocol_fee, discount))
				},
				_ => None,
			})
			.unwrap();
		let (repaid, seized, fee, discount) = liquidated;
		assert_eq!(discount, Permill::from_percent(10));
		assert_eq!(repaid, 10_000 * 70 * 10 / 11);
		assert_eq!(seized + fee, 10_000);
		assert_eq!(supplied(ALICE, BTC), 0);
		// The rest of the debt had no collateral left: the loss waterfall closed it (nothing in
		// the treasury, no reserves above the floor: the suppliers absorbed it).
		assert_eq!(debt(ALICE, USD), 0);
		let shortfall = 700_000 - repaid;
		assert_eq!(
			events().last(),
			Some(&Event::BadDebtSocialised { borrower: ALICE, asset: USD, amount: shortfall })
		);
		assert_eq!(BadDebt::<Test>::get(USD), shortfall);
	});
}

// ---------------------------------------------------------------------------------------------
// Bad inputs
// ---------------------------------------------------------------------------------------------

#[test]
fn bad_inputs_are_refused_by_name() {
	ExtBuilder::default().build_and_execute(|| {
		alice_underwater(90);
		let liquidate = |who, borrower, debt, collateral, amount| {
			Liquidation::liquidate(RuntimeOrigin::signed(who), borrower, debt, collateral, amount)
		};
		assert_noop!(liquidate(BOB, ALICE, USD, BTC, Amount::Exact(0)), Error::<Test>::ZeroAmount);
		assert_noop!(
			liquidate(BOB, ALICE, NO_MARKET, BTC, Amount::All),
			Error::<Test>::UnknownMarket
		);
		assert_noop!(
			liquidate(BOB, ALICE, USD, NO_MARKET, Amount::All),
			Error::<Test>::UnknownMarket
		);
		assert_noop!(liquidate(BOB, ALICE, USD, USD, Amount::All), Error::<Test>::SameAsset);
		assert_noop!(
			liquidate(ALICE, ALICE, USD, BTC, Amount::All),
			Error::<Test>::SelfLiquidation
		);
		assert_noop!(
			Liquidation::settle(RuntimeOrigin::signed(ALICE), ALICE),
			Error::<Test>::SelfLiquidation
		);
		// A debt or collateral the borrower does not have.
		assert_noop!(liquidate(BOB, ALICE, ETH, BTC, Amount::All), LendingError::<Test>::NoDebt);
		assert_noop!(liquidate(BOB, ALICE, USD, MEME, Amount::All), LendingError::<Test>::NoSupply);
		// Unsigned and wrong origins.
		assert_noop!(
			Liquidation::liquidate(RuntimeOrigin::none(), ALICE, USD, BTC, Amount::All),
			DispatchError::BadOrigin
		);
		assert_noop!(
			Liquidation::update_params(RuntimeOrigin::signed(BOB), default_params()),
			DispatchError::BadOrigin
		);
		assert_noop!(
			Liquidation::set_risk_rank(RuntimeOrigin::signed(BOB), BTC, 1),
			DispatchError::BadOrigin
		);
		assert_noop!(
			Liquidation::transfer_insurance(RuntimeOrigin::signed(BOB), USD, 1, BOB),
			DispatchError::BadOrigin
		);
		assert_noop!(
			Liquidation::set_risk_rank(RuntimeOrigin::root(), NO_MARKET, 1),
			Error::<Test>::UnknownMarket
		);
		assert_noop!(
			Liquidation::transfer_insurance(RuntimeOrigin::root(), USD, 0, BOB),
			Error::<Test>::ZeroAmount
		);
		assert_noop!(
			Liquidation::transfer_insurance(RuntimeOrigin::root(), USD, 1, BOB),
			Error::<Test>::InsufficientInsurance
		);
	});
}

#[test]
fn out_of_range_parameters_are_refused_by_name() {
	ExtBuilder::default().build_and_execute(|| {
		let good = default_params();
		let cases = [
			(
				LiquidationParams { target_health: FixedU128::one(), ..good },
				Error::<Test>::TargetHealthOutOfRange,
			),
			(
				LiquidationParams { health_for_max_discount: FixedU128::one(), ..good },
				Error::<Test>::MaxDiscountHealthOutOfRange,
			),
			(
				LiquidationParams { protocol_fee: Permill::from_percent(51), ..good },
				Error::<Test>::ProtocolFeeOutOfRange,
			),
			(
				LiquidationParams { caller_tip: Permill::from_percent(2), ..good },
				Error::<Test>::CallerTipOutOfRange,
			),
			(
				LiquidationParams { max_slippage: Permill::zero(), ..good },
				Error::<Test>::MaxSlippageOutOfRange,
			),
			(
				LiquidationParams { backstop_discount: Permill::from_percent(21), ..good },
				Error::<Test>::BackstopDiscountOutOfRange,
			),
			(
				LiquidationParams { dust_value: MaxDustValue::get() + 1, ..good },
				Error::<Test>::DustValueOutOfRange,
			),
		];
		for (params, error) in cases {
			assert_noop!(Liquidation::update_params(RuntimeOrigin::root(), params), error);
		}
		let new = LiquidationParams { max_slippage: Permill::from_percent(5), ..good };
		assert_ok!(Liquidation::update_params(RuntimeOrigin::root(), new));
		assert_eq!(Params::<Test>::get(), new);
		assert_eq!(last_event(), Event::ParamsUpdated { params: new });
	});
}

// ---------------------------------------------------------------------------------------------
// Protocol route: DEX
// ---------------------------------------------------------------------------------------------

#[test]
fn settle_sells_on_the_dex_within_the_bound_with_exact_balances() {
	ExtBuilder::default().build_and_execute(|| {
		alice_underwater(90);
		// The pool still prices BTC at 100 USD, above the oracle: the DEX needs less BTC than
		// the oracle says, well within the bound.
		let before = snapshot();
		let preview = Liquidation::preview(ALICE).unwrap();
		assert_ok!(Liquidation::settle(RuntimeOrigin::signed(CHARLIE), ALICE));
		let Event::Settled {
			route,
			repaid,
			collateral_due,
			sold,
			to_insurance,
			tip,
			returned,
			discount,
			debt_asset,
			collateral_asset,
			..
		} = last_event()
		else {
			panic!()
		};
		assert_eq!((debt_asset, collateral_asset, route), (USD, BTC, Route::Dex));
		// The preview said exactly this.
		assert_eq!(preview.repay, repaid);
		assert_eq!(preview.collateral_due, collateral_due);
		assert_eq!(preview.dex_input, Some(sold));
		assert_eq!(preview.route, Ok(Route::Dex));
		assert_eq!(preview.returned, returned);
		assert_eq!(collateral_due, due(repaid, 90, discount));
		// Conservation of the collateral due.
		assert_eq!(sold + to_insurance + tip + returned, collateral_due);
		// Half the unused collateral (rounded up) to the treasury, of the discount at most:
		// the pool's better price (100 against the oracle's 90) saves collateral beyond the
		// discount, and that is the borrower's. The tip is 0.1% of the value repaid, capped at
		// 10,000, in BTC at the oracle.
		let base = repaid / 90;
		assert!(collateral_due - sold > collateral_due - base);
		assert_eq!(to_insurance, (collateral_due - base).div_ceil(2));
		assert_eq!(tip, (repaid / 1_000).min(10_000) / 90);
		let after = snapshot();
		assert_eq!(after.alice_debt, before.alice_debt - repaid);
		assert_eq!(after.alice_btc, before.alice_btc - sold - to_insurance - tip);
		assert_eq!(after.pool, (before.pool.0 - repaid, before.pool.1 + sold));
		assert_eq!(after.insurance_btc_supply, to_insurance);
		// The tip is paid as collateral supply, like a keeper's seizure.
		assert_eq!(after.charlie_btc_supply, before.charlie_btc_supply + tip);
		assert_eq!(after.charlie_btc, before.charlie_btc);
		assert_eq!(after.bob_usd, before.bob_usd);
		// The working account ends empty.
		let working = Liquidation::account_id();
		assert_eq!((balance(USD, working), balance(BTC, working)), (0, 0));
		assert!(health(ALICE) >= fx(105, 100));
	});
}

#[test]
fn a_thin_pool_falls_to_the_backstop_and_with_an_empty_treasury_to_an_auction() {
	ExtBuilder::default().without_pools().build_and_execute(|| {
		// A pool of 100,000 USD: far too thin for a ~240,000 repayment.
		create_pool(LP, USD, BTC, 100_000, 1_000);
		alice_underwater(90);
		let before = snapshot();
		// An empty treasury: the seizure would go to a Dutch auction (`auctions` tests).
		let preview = Liquidation::preview(ALICE).unwrap();
		assert_eq!(preview.route, Ok(Route::Auction { dex: DexRefusal::NoPool }));
		// The treasury holds USD: it buys the collateral at the oracle less 2%.
		mint(USD, insurance(), 1_000_000);
		let before = Snapshot { insurance_usd: 1_000_000, ..before };
		assert_ok!(Liquidation::settle(RuntimeOrigin::signed(CHARLIE), ALICE));
		let Event::Settled {
			route, repaid, collateral_due, sold, to_insurance, tip, returned, ..
		} = last_event()
		else {
			panic!()
		};
		assert_eq!(route, Route::Backstop { dex: DexRefusal::NoPool });
		assert_eq!((sold, tip), (0, 0));
		assert_eq!(to_insurance, (repaid / 90) * 100 / 98);
		assert_eq!(to_insurance + returned, collateral_due);
		let after = snapshot();
		assert_eq!(after.insurance_usd, before.insurance_usd - repaid);
		assert_eq!(after.insurance_btc_supply, to_insurance);
		assert_eq!(after.alice_debt, before.alice_debt - repaid);
		assert_eq!(after.alice_btc, before.alice_btc - to_insurance);
		assert_eq!(after.pool, before.pool);
	});
}

#[test]
fn a_manipulated_pool_is_refused_by_the_slippage_bound() {
	ExtBuilder::default().build_and_execute(|| {
		alice_underwater(90);
		// Someone dumps BTC into the pool: it now prices BTC far below the oracle's 90.
		lp_dumps_btc(50_000_000);
		mint(USD, insurance(), 1_000_000);
		let pool = pool_reserves(USD, BTC);
		assert_ok!(Liquidation::settle(RuntimeOrigin::signed(CHARLIE), ALICE));
		let Event::Settled { route, .. } = last_event() else { panic!() };
		let Route::Backstop { dex: DexRefusal::SlippageExceeded { quote, max } } = route else {
			panic!("{route:?}")
		};
		assert!(quote > max);
		// Nothing was sold at the bad price.
		assert_eq!(pool_reserves(USD, BTC), pool);
	});
}

#[test]
fn a_lent_out_collateral_market_blocks_only_the_dex() {
	ExtBuilder::default().build_and_execute(|| {
		alice_underwater(90);
		// Dave keeps 20,000 BTC in the market; Bob borrows all the BTC cash there is.
		assert_ok!(Lending::withdraw(
			RuntimeOrigin::signed(DAVE),
			BTC,
			Amount::Exact(100_000_000_000 - 20_000)
		));
		assert_ok!(Lending::supply(RuntimeOrigin::signed(BOB), USD, 100_000_000));
		let cash = <Lending as LendingPositions<AccountId>>::available_cash(&BTC);
		assert_ok!(Lending::borrow(RuntimeOrigin::signed(BOB), BTC, cash));
		MockOracle::set(BTC, FixedU128::from_u32(90));
		mint(USD, insurance(), 1_000_000);
		let preview = Liquidation::preview(ALICE).unwrap();
		assert!(
			matches!(
				preview.route,
				Ok(Route::Backstop { dex: DexRefusal::NoCash { available: 0, .. } })
			),
			"{preview:?}"
		);
		assert_ok!(Liquidation::settle(RuntimeOrigin::signed(CHARLIE), ALICE));
		let Event::Settled { route, to_insurance, .. } = last_event() else { panic!() };
		assert!(matches!(route, Route::Backstop { dex: DexRefusal::NoCash { .. } }));
		// The treasury holds the collateral as supply shares, to withdraw when cash returns.
		assert_eq!(supplied(insurance(), BTC), to_insurance);
		// A keeper too: it receives supply shares, no cash needed.
		assert!(health(ALICE) >= fx(105, 100));
		MockOracle::set(BTC, FixedU128::from_u32(70));
		let before = supplied(BOB, BTC);
		assert_ok!(bob_liquidates_alice(Amount::All));
		let Event::Liquidated { seized, .. } =
			events().into_iter().find(|e| matches!(e, Event::Liquidated { .. })).unwrap()
		else {
			panic!()
		};
		assert_eq!(supplied(BOB, BTC), before + seized);
		assert_eq!(<Lending as LendingPositions<AccountId>>::available_cash(&BTC), 0);
	});
}

// ---------------------------------------------------------------------------------------------
// Order
// ---------------------------------------------------------------------------------------------

#[test]
fn settle_seizes_collateral_in_risk_order_and_repays_the_largest_debt_first() {
	ExtBuilder::default().build_and_execute(|| {
		// The treasury keeps the whole unused penalty, so a collateral taken whole is gone.
		let params = LiquidationParams { insurance_share: Permill::one(), ..default_params() };
		assert_ok!(Liquidation::update_params(RuntimeOrigin::root(), params));
		// Alice: 6,000 BTC (600,000) and 100,000 MEME (50,000), owing 250,000 USD and
		// 75,000 ETH (worth 150,000).
		assert_ok!(Lending::supply(RuntimeOrigin::signed(ALICE), BTC, 6_000));
		assert_ok!(Lending::supply(RuntimeOrigin::signed(ALICE), MEME, 100_000));
		assert_ok!(Lending::borrow(RuntimeOrigin::signed(ALICE), USD, 250_000));
		assert_ok!(Lending::borrow(RuntimeOrigin::signed(ALICE), ETH, 75_000));
		assert_ok!(Liquidation::set_risk_rank(RuntimeOrigin::root(), MEME, 10));
		assert_ok!(Liquidation::set_risk_rank(RuntimeOrigin::root(), BTC, 1));
		// BTC falls to 60: liquidation value 270,000 + 25,000 against 400,000.
		MockOracle::set(BTC, FixedU128::from_u32(60));
		let h0 = health(ALICE);
		assert!(h0 < FixedU128::one());
		// First the riskier MEME, all of it (it cannot reach the target), for the larger debt.
		assert_ok!(Liquidation::settle(RuntimeOrigin::signed(CHARLIE), ALICE));
		let Event::Settled { debt_asset, collateral_asset, route, returned, .. } = last_event()
		else {
			panic!()
		};
		assert_eq!((debt_asset, collateral_asset, route, returned), (USD, MEME, Route::Dex, 0));
		assert_eq!(supplied(ALICE, MEME), 0);
		let h1 = health(ALICE);
		assert!(h1 < FixedU128::one());
		// Then BTC, still for USD (206,500 left against 150,000 of ETH).
		assert_ok!(Liquidation::settle(RuntimeOrigin::signed(CHARLIE), ALICE));
		let Event::Settled { debt_asset, collateral_asset, .. } = last_event() else { panic!() };
		assert_eq!((debt_asset, collateral_asset), (USD, BTC));
		// All of the USD debt (the target is out of reach with it alone). At the oracle,
		// below health 0.75 × 1.1 a liquidation could not raise health (each unit repaid
		// removes 0.825 of liquidation value); but the pool still pays 100 USD a BTC against
		// the oracle's 60, the sale uses less BTC than was due, and what it saved beyond the
		// discount stays with Alice: her health rises.
		assert_eq!(debt(ALICE, USD), 0);
		assert!(health(ALICE) > h1);
		assert_eq!(debt(ALICE, ETH), 75_000);
	});
}

// ---------------------------------------------------------------------------------------------
// Loss waterfall
// ---------------------------------------------------------------------------------------------

#[test]
fn the_loss_waterfall_runs_treasury_then_reserves_then_suppliers() {
	ExtBuilder::default().build_and_execute(|| {
		alice_underwater(70);
		// The treasury holds 10,000 USD (and keeps the minimum balance), the market has 20,000
		// of reserves above its floor.
		mint(USD, insurance(), 10_000 + MIN);
		assert_ok!(Lending::add_reserves(RuntimeOrigin::signed(GOV), USD, 20_000));
		let dave_before = supplied(DAVE, USD);
		assert_ok!(bob_liquidates_alice(Amount::All));
		let repaid = 10_000 * 70 * 10 / 11;
		let shortfall = 700_000 - repaid;
		let socialised = shortfall - 10_000 - 20_000;
		let tail: Vec<_> = events().into_iter().rev().take(3).collect();
		assert_eq!(
			tail,
			vec![
				Event::BadDebtSocialised { borrower: ALICE, asset: USD, amount: socialised },
				Event::ShortfallCoveredByReserves { borrower: ALICE, asset: USD, amount: 20_000 },
				Event::ShortfallCoveredByInsurance { borrower: ALICE, asset: USD, amount: 10_000 },
			]
		);
		assert_eq!(debt(ALICE, USD), 0);
		assert_eq!(balance(USD, insurance()), MIN);
		assert_eq!(BadDebt::<Test>::get(USD), socialised);
		// Dave, the only other USD supplier (besides the reserves floor), lost the socialised
		// part, rounded against him by at most a unit.
		let lost = dave_before - supplied(DAVE, USD);
		assert!(lost >= socialised && lost <= socialised + 1, "{lost} vs {socialised}");
	});
}

#[test]
fn a_closed_account_is_not_liquidatable() {
	ExtBuilder::default().build_and_execute(|| {
		alice_underwater(70);
		assert_ok!(bob_liquidates_alice(Amount::All));
		// No collateral and no debt left: the waterfall closed it.
		assert_noop!(
			Liquidation::settle(RuntimeOrigin::signed(CHARLIE), ALICE),
			Error::<Test>::NotLiquidatable
		);
	});
}

#[test]
fn a_treasury_holding_a_unit_does_not_block_the_waterfall() {
	ExtBuilder::default().build_and_execute(|| {
		alice_borrows(10_000, 700_000);
		// A year of interest: the borrow index is well above 1, so one unit clears no share.
		Timestamp::set_timestamp(Timestamp::get() + 365 * 24 * 3_600_000);
		MockOracle::set(USD, FixedU128::one());
		MockOracle::set(BTC, FixedU128::from_u32(70));
		// Anyone sends the treasury its minimum balance plus one unit of USD.
		mint(USD, insurance(), MIN + 1);
		assert_ok!(bob_liquidates_alice(Amount::All));
		// The unit could not be used: the reserves and suppliers closed the whole rest.
		assert_eq!(debt(ALICE, USD), 0);
		assert!(!events().iter().any(|e| matches!(e, Event::ShortfallCoveredByInsurance { .. })));
		assert!(events().iter().any(|e| matches!(e, Event::BadDebtSocialised { .. })));
		assert_eq!(balance(USD, insurance()), MIN + 1);
	});
}

#[test]
fn dust_collateral_is_swept_so_the_waterfall_can_close_the_debt() {
	ExtBuilder::default().build_and_execute(|| {
		// Alice also supplies one unit of MEME (worth 0.5): it cannot pay for a unit of debt.
		assert_ok!(Lending::supply(RuntimeOrigin::signed(ALICE), MEME, 1));
		alice_underwater(70);
		assert_ok!(bob_liquidates_alice(Amount::All));
		// The dust collateral keeps the waterfall from running...
		let owed = debt(ALICE, USD);
		assert!(owed > 60_000);
		assert_noop!(
			Liquidation::liquidate(RuntimeOrigin::signed(BOB), ALICE, USD, MEME, Amount::All),
			Error::<Test>::CollateralTooSmall
		);
		// ... until `settle` sweeps it to the treasury and closes the debt.
		assert_ok!(Liquidation::settle(RuntimeOrigin::signed(CHARLIE), ALICE));
		assert!(events().contains(&Event::DustCollateralSwept {
			borrower: ALICE,
			asset: MEME,
			amount: 1
		}));
		assert_eq!(supplied(insurance(), MEME), 1);
		assert_eq!(debt(ALICE, USD), 0);
		assert_eq!(BadDebt::<Test>::get(USD), owed);
	});
}

#[test]
fn an_insolvent_account_with_collateral_worth_less_than_dust_is_swept_not_stuck() {
	ExtBuilder::default().build_and_execute(|| {
		// Alice also supplies 5 MEME (worth 2.5 at 0.5: it pays for 2 units of debt, but is
		// worth less than the dust value of 1,000). Found by the cascade benchmark: a unit of
		// collateral left over by a sale kept an insolvent account from the waterfall for good
		// (the plan sold it for a fraction of a unit, no route could carry that out).
		assert_ok!(Lending::supply(RuntimeOrigin::signed(ALICE), MEME, 5));
		alice_underwater(70);
		assert_ok!(bob_liquidates_alice(Amount::All));
		let owed = debt(ALICE, USD);
		assert!(owed > 60_000);
		// A keeper may take it (it pays for 2 units of debt); with an empty treasury and no
		// sale, `settle` sweeps it: the account is insolvent and all its collateral is worth
		// less than the dust value, so no auction could sell it.
		assert_ok!(Liquidation::settle(RuntimeOrigin::signed(CHARLIE), ALICE));
		assert!(events().contains(&Event::DustCollateralSwept {
			borrower: ALICE,
			asset: MEME,
			amount: 5
		}));
		assert_eq!(debt(ALICE, USD), 0);
		assert_eq!(BadDebt::<Test>::get(USD), owed);
	});
}

// ---------------------------------------------------------------------------------------------
// Governance
// ---------------------------------------------------------------------------------------------

#[test]
fn governance_sets_ranks_and_moves_insurance_funds() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(Liquidation::set_risk_rank(RuntimeOrigin::root(), MEME, 7));
		assert_eq!(RiskRank::<Test>::get(MEME), 7);
		assert_eq!(last_event(), Event::RiskRankSet { asset: MEME, rank: 7 });
		mint(USD, insurance(), 5_000);
		let bob = balance(USD, BOB);
		// The treasury keeps its minimum balance.
		assert_noop!(
			Liquidation::transfer_insurance(RuntimeOrigin::root(), USD, 5_000, BOB),
			Error::<Test>::InsufficientInsurance
		);
		assert_ok!(Liquidation::transfer_insurance(RuntimeOrigin::root(), USD, 4_000, BOB));
		assert_eq!(balance(USD, BOB), bob + 4_000);
		assert_eq!(balance(USD, insurance()), 1_000);
		assert_eq!(
			last_event(),
			Event::InsuranceTransferred { asset: USD, amount: 4_000, to: BOB }
		);
		assert!(Zero::is_zero(&BadDebt::<Test>::get(USD)));
	});
}

/// Guard rails: a bounded change (the risk track, [`STEWARD`] here) of the liquidation or the
/// auction parameters moves each value within its step and waits the record's interval; root
/// only within the absolute bounds.
#[test]
fn risk_track_changes_of_liquidation_and_auction_parameters_stay_on_the_rails() {
	ExtBuilder::default().build_and_execute(|| {
		System::set_block_number(100);
		let steward = || RuntimeOrigin::signed(STEWARD);
		let p = default_params();
		// target health 1.05 may move by 5% of itself (0.0525); rates by 5 points; amounts ×2.
		let refused = [
			LiquidationParams { target_health: fx(11025, 10000) + FixedU128::from_inner(1), ..p },
			LiquidationParams { health_for_max_discount: fx(85, 100), ..p },
			LiquidationParams { protocol_fee: Permill::from_parts(150_001), ..p },
			LiquidationParams { insurance_share: Permill::from_parts(449_999), ..p },
			LiquidationParams { max_slippage: Permill::from_parts(80_001), ..p },
			LiquidationParams { caller_tip_cap: 20_001, ..p },
			LiquidationParams { dust_value: 499, ..p },
		];
		for params in refused {
			assert_noop!(
				Liquidation::update_params(steward(), params),
				Error::<Test>::StepTooLarge
			);
		}
		// Absolute bounds first, for the risk track as for root.
		let out = LiquidationParams { protocol_fee: Permill::from_percent(51), ..p };
		assert_noop!(
			Liquidation::update_params(steward(), out),
			Error::<Test>::ProtocolFeeOutOfRange
		);
		let stepped = LiquidationParams {
			target_health: fx(11025, 10000),
			health_for_max_discount: fx(855, 1000),
			protocol_fee: Permill::from_percent(15),
			caller_tip_cap: 20_000,
			dust_value: 500,
			..p
		};
		assert_ok!(Liquidation::update_params(steward(), stepped));
		assert_eq!(Params::<Test>::get(), stepped);
		assert_eq!(LastParamsChange::<Test>::get(ParamRecord::Liquidation), Some(100));
		System::assert_last_event(Event::<Test>::ParamsUpdated { params: stepped }.into());
		// The next bounded change waits 10 blocks; root does not, and restarts the interval.
		System::set_block_number(109);
		assert_noop!(Liquidation::update_params(steward(), p), Error::<Test>::ChangeTooSoon);
		let far = LiquidationParams { max_slippage: Permill::from_percent(15), ..p };
		assert_ok!(Liquidation::update_params(RuntimeOrigin::root(), far));
		System::set_block_number(118);
		assert_noop!(Liquidation::update_params(steward(), p), Error::<Test>::ChangeTooSoon);
		System::set_block_number(119);
		assert_noop!(Liquidation::update_params(steward(), p), Error::<Test>::StepTooLarge);
		assert_ok!(Liquidation::update_params(
			steward(),
			LiquidationParams { max_slippage: Permill::from_percent(10), ..p }
		));
		assert_noop!(
			Liquidation::update_params(RuntimeOrigin::signed(GUARDIAN), p),
			DispatchError::BadOrigin
		);
		// Funds leave the treasury only by root.
		assert_noop!(
			Liquidation::transfer_insurance(steward(), USD, 1, BOB),
			Error::<Test>::RootOnly
		);

		// The auction parameters are a record of their own (its own interval).
		let a = DefaultAuctionParams::get();
		let refused = [
			AuctionParams { buf: Permill::from_parts(150_001), ..a },
			AuctionParams { floor: Permill::from_parts(250_001), ..a },
			AuctionParams { cusp: Permill::from_parts(249_999), ..a },
			AuctionParams { tail: 201, ..a },
			AuctionParams { tail: 49, ..a },
		];
		for params in refused {
			assert_noop!(
				Liquidation::set_auction_params(steward(), params),
				Error::<Test>::StepTooLarge
			);
		}
		let stepped = AuctionParams { buf: Permill::from_percent(15), tail: 200, ..a };
		assert_ok!(Liquidation::set_auction_params(steward(), stepped));
		assert_eq!(AuctionParameters::<Test>::get(), stepped);
		assert_noop!(Liquidation::set_auction_params(steward(), a), Error::<Test>::ChangeTooSoon);
		assert_ok!(Liquidation::set_auction_params(RuntimeOrigin::root(), a));
	})
}

/// An insolvent account left with one unit of collateral whose plan repays less than a unit
/// of it is worth (its base rounds to 0) while the treasury has funds: the backstop would buy
/// nothing, so it is no route, and the unit is swept and the debt closed by the waterfall.
/// Before, the backstop's zero seizure failed `settle` (`ZeroAmount`) and no route could ever
/// close the account (found by the cascade benchmark: 13 such accounts left at the end of
/// crash-spam with market makers, their debt never socialised).
#[test]
fn a_unit_of_collateral_worth_less_than_its_repayment_is_swept_even_with_a_funded_treasury() {
	ExtBuilder::default().build_and_execute(|| {
		alice_underwater(70);
		// What a sale can leave: all of Alice's BTC but a unit gone, all her debt left.
		let held = supplied(ALICE, BTC);
		assert_ok!(<Lending as LendingPositions<AccountId>>::seize_collateral(
			&ALICE,
			&BTC,
			held - 1,
			&BOB
		));
		assert_eq!(supplied(ALICE, BTC), 1);
		mint(USD, insurance(), 1_000_000);
		let owed = debt(ALICE, USD);
		assert!(owed > 60_000);
		let preview = Liquidation::preview(ALICE).unwrap();
		assert_eq!(preview.collateral_due, 1);
		assert_ok!(Liquidation::settle(RuntimeOrigin::signed(CHARLIE), ALICE));
		assert!(events().contains(&Event::DustCollateralSwept {
			borrower: ALICE,
			asset: BTC,
			amount: 1
		}));
		assert_eq!((supplied(ALICE, BTC), debt(ALICE, USD)), (0, 0));
	});
}

/// A unit of a volatile collateral (the first `settle` plans) whose repayment is worth less
/// than the unit cannot shield the rest of the account: `settle` plans the next collateral and
/// sells it. Before, the unit's plan went to an auction `redo` closed at once, again each call
/// (an attacker review), and the account's main collateral was never sold by the protocol.
#[test]
fn a_unit_of_a_volatile_collateral_does_not_shield_the_rest() {
	ExtBuilder::default().build_and_execute(|| {
		mint(MEME, ALICE, 1 + MIN);
		assert_ok!(Lending::supply(RuntimeOrigin::signed(ALICE), MEME, 1));
		MockOracle::set(MEME, fx(5, 1));
		MockBreaker::set_volatility(MEME, fx(5, 1));
		alice_underwater(70);
		let plan = Liquidation::settle_plan(&ALICE).unwrap();
		assert_eq!(plan.collateral_asset, BTC);
		System::reset_events();
		assert_ok!(Liquidation::settle(RuntimeOrigin::signed(CHARLIE), ALICE));
		assert!(events().iter().any(
			|e| matches!(e, Event::Settled { collateral_asset, .. } if *collateral_asset == BTC)
		));
		assert!(!events().iter().any(|e| matches!(e, Event::AuctionStarted { .. })));
		assert_eq!(supplied(ALICE, MEME), 1);
	});
}
