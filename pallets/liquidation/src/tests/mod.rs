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

mod correctness;

/// Alice: 10,000 BTC (worth 1,000,000) backing 700,000 USD; BTC then falls to `price`.
fn alice_underwater(price: u128) {
	alice_borrows(10_000, 700_000);
	MockOracle::set(BTC, FixedU128::from_u32(price as u32));
	System::reset_events();
}

/// Borrowers 10.. with 10,000 BTC each, owing `owed[i]` USD (BTC at 100: health above 1 for
/// up to 750,000).
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
		assert_ok!(AssetConversion::swap_exact_tokens_for_tokens(
			RuntimeOrigin::signed(LP),
			vec![Box::new(NativeOrWithId::WithId(BTC)), Box::new(NativeOrWithId::WithId(USD))],
			50_000_000,
			1,
			LP,
			false,
		));
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

/// The risk index: where a change files an account, what a read returns, how the index follows
/// liquidations and refiles.
mod index {
	use super::*;
	use crate::risk;
	use frame_support::BoundedVec;

	const PAIR: RiskKey<AssetId> = RiskKey::Pair { collateral: BTC, debt: USD };

	fn read() -> Vec<AccountId> {
		Liquidation::at_risk(None, 100).0
	}

	fn entries(who: AccountId) -> Vec<(RiskKey<AssetId>, i32)> {
		match Filed::<Test>::get(who) {
			Some(Filing::Entries(e)) => e.into_inner(),
			other => panic!("{who} is filed as {other:?}"),
		}
	}

	fn refile(accounts: Vec<AccountId>) {
		let accounts: BoundedVec<_, _> = accounts.try_into().unwrap();
		assert_ok!(Liquidation::refile(RuntimeOrigin::signed(DAVE), accounts.clone()));
		assert_eq!(last_event(), Event::Refiled { accounts: accounts.into_inner() });
	}

	fn set_btc(price: u32) {
		MockOracle::set(BTC, FixedU128::from_u32(price));
	}

	#[test]
	fn a_borrow_files_the_account_by_its_shares_and_a_fall_below_one_reaches_it() {
		ExtBuilder::default().build_and_execute(|| {
			alice_borrows(10_000, 700_000);
			// Indexes are 1: the entry is the bucket of 700,000 / 10,000 = 70. The pair's
			// variable is 75% × BTC's price: health 1 at BTC 93.33.
			let entry = risk::stored(risk::bucket(FixedU128::from_u32(70)));
			assert_eq!(entries(ALICE), vec![(PAIR, entry)]);
			assert!(RiskIndex::<Test>::contains_key((PAIR, entry, ALICE)));
			assert_eq!(RiskKeys::<Test>::get(PAIR), Some(entry));
			assert_eq!(Liquidation::level(&PAIR), Some(risk::stored(risk::bucket(fx(75, 1)))));
			// Dave only supplies: not in the index.
			assert_eq!(Filed::<Test>::get(DAVE), None);
			assert!(read().is_empty());
			assert_eq!(Liquidation::liquidatable(None, 100), (vec![], None));
			// BTC 94 (health 1.007): in the boundary bucket, read, but not liquidatable.
			set_btc(94);
			assert_eq!(read(), vec![ALICE]);
			assert_eq!(Liquidation::liquidatable(None, 100), (vec![], None));
			// BTC 90 (health 0.964): read and listed with its health.
			set_btc(90);
			assert_eq!(read(), vec![ALICE]);
			let (page, next) = Liquidation::liquidatable(None, 100);
			assert_eq!((page, next), (vec![(ALICE, health(ALICE))], None));
			assert!(health(ALICE) < FixedU128::one());
			// A stale price: the key's level is unknown, nothing is read under it.
			Timestamp::set_timestamp(T0 + 2 * 3_600_000);
			assert_eq!(Liquidation::level(&PAIR), None);
			assert!(read().is_empty());
		})
	}

	#[test]
	fn a_fall_in_risk_moves_nothing_until_refiled_and_no_debt_leaves_the_index() {
		ExtBuilder::default().build_and_execute(|| {
			alice_borrows(10_000, 700_000);
			let before = entries(ALICE);
			// Twice the collateral: no upkeep, the entry over-reports.
			assert_ok!(Lending::supply(RuntimeOrigin::signed(ALICE), BTC, 10_000));
			assert_ok!(Lending::repay(RuntimeOrigin::signed(ALICE), USD, Amount::Exact(1_000)));
			assert_eq!(entries(ALICE), before);
			set_btc(90);
			assert_eq!(read(), vec![ALICE]);
			assert_eq!(Liquidation::liquidatable(None, 100).0, vec![]);
			// A refile puts it where it belongs: 699,000 / 20,000 = 34.95.
			refile(vec![ALICE]);
			let entry = risk::pair_bucket(699_000, 20_000);
			assert_eq!(entries(ALICE), vec![(PAIR, entry)]);
			assert!(read().is_empty());
			// The emptied top bucket lowered the key's top.
			assert_eq!(RiskKeys::<Test>::get(PAIR), Some(before[0].1 - 1));
			// No debt: a refile takes it out of the index.
			assert_ok!(Lending::repay(RuntimeOrigin::signed(ALICE), USD, Amount::All));
			refile(vec![ALICE, BOB]);
			assert_eq!(Filed::<Test>::get(ALICE), None);
			assert_eq!(RiskIndex::<Test>::iter_keys().count(), 0);
			// Only signed origins; a refile of accounts not in the index changes nothing.
			let accounts: BoundedVec<_, _> = vec![ALICE].try_into().unwrap();
			assert_noop!(
				Liquidation::refile(RuntimeOrigin::none(), accounts),
				DispatchError::BadOrigin
			);
		})
	}

	#[test]
	fn several_assets_file_one_entry_per_asset_and_any_move_below_one_reaches_them() {
		ExtBuilder::default().build_and_execute(|| {
			// Alice: 10,000 BTC (1,000,000) and 200,000 MEME (100,000); she owes 500,000 USD
			// and 50,000 ETH (100,000). Liquidation value 750,000 + 50,000 = 800,000 against
			// 600,000: health 1.333.
			assert_ok!(Lending::supply(RuntimeOrigin::signed(ALICE), BTC, 10_000));
			assert_ok!(Lending::supply(RuntimeOrigin::signed(ALICE), MEME, 200_000));
			assert_ok!(Lending::borrow(RuntimeOrigin::signed(ALICE), USD, 500_000));
			assert_ok!(Lending::borrow(RuntimeOrigin::signed(ALICE), ETH, 50_000));
			let keys: Vec<_> = entries(ALICE).into_iter().map(|(k, _)| k).collect();
			assert_eq!(
				keys,
				vec![
					RiskKey::Collateral(BTC),
					RiskKey::Collateral(MEME),
					RiskKey::Debt(USD),
					RiskKey::Debt(ETH)
				]
			);
			assert!(read().is_empty());
			// Each move alone that takes it below 1 reaches it: BTC −30%, ETH ×5.
			let healthy = || {
				!<Lending as LendingPositions<AccountId>>::account_health(&ALICE)
					.unwrap()
					.is_liquidatable()
			};
			set_btc(70);
			assert!(!healthy());
			assert_eq!(read(), vec![ALICE]);
			set_btc(100);
			MockOracle::set(ETH, FixedU128::from_u32(10));
			assert!(!healthy());
			assert_eq!(read(), vec![ALICE]);
			// Half the headroom (√1.333 = 1.155) on each side: BTC's entry is at 100 / 1.155 =
			// 86.6; −5% alone stays unread.
			MockOracle::set(ETH, FixedU128::from_u32(2));
			set_btc(95);
			assert!(healthy());
			assert!(read().is_empty());
		})
	}

	#[test]
	fn debt_without_collateral_is_watched_until_the_waterfall_closes_it() {
		ExtBuilder::default().build_and_execute(|| {
			alice_borrows(10_000, 700_000);
			assert_ok!(<Lending as LendingPositions<AccountId>>::seize_collateral(
				&ALICE, &BTC, 10_000, &CHARLIE
			));
			assert_eq!(Filed::<Test>::get(ALICE), Some(Filing::Watch));
			assert!(Watchlist::<Test>::contains_key(ALICE));
			assert_eq!(RiskIndex::<Test>::iter_keys().count(), 0);
			assert_eq!(read(), vec![ALICE]);
			assert_ok!(Liquidation::settle(RuntimeOrigin::signed(DAVE), ALICE));
			assert_eq!(debt(ALICE, USD), 0);
			assert_eq!(Filed::<Test>::get(ALICE), None);
			assert!(!Watchlist::<Test>::contains_key(ALICE));
			assert!(read().is_empty());
		})
	}

	#[test]
	fn a_liquidation_files_the_borrower_as_it_is_after() {
		ExtBuilder::default().build_and_execute(|| {
			alice_underwater(90);
			assert_eq!(read(), vec![ALICE]);
			assert_ok!(Liquidation::settle(RuntimeOrigin::signed(CHARLIE), ALICE));
			let shares = <Lending as LendingPositions<AccountId>>::account_shares(&ALICE);
			let (collateral, debt) = (shares.collateral[0].1, shares.debts[0].1);
			assert_eq!(entries(ALICE), vec![(PAIR, risk::pair_bucket(debt, collateral))]);
			assert!(read().is_empty());
			// A keeper's partial liquidation too.
			set_btc(80);
			assert_eq!(read(), vec![ALICE]);
			assert_ok!(bob_liquidates_alice(Amount::Exact(1_000)));
			let shares = <Lending as LendingPositions<AccountId>>::account_shares(&ALICE);
			let (collateral, debt) = (shares.collateral[0].1, shares.debts[0].1);
			assert_eq!(entries(ALICE), vec![(PAIR, risk::pair_bucket(debt, collateral))]);
			assert_eq!(read(), vec![ALICE]);
		})
	}

	#[test]
	fn reads_go_riskiest_first_in_pages() {
		ExtBuilder::default().build_and_execute(|| {
			// Three borrowers on 10,000 BTC each owing 650,000, 600,000 and 700,000 (entries
			// three buckets apart).
			for (who, owed) in [(10, 650_000), (11, 600_000), (12, 700_000)] {
				mint(BTC, who, 10_000 + MIN);
				assert_ok!(Lending::supply(RuntimeOrigin::signed(who), BTC, 10_000));
				assert_ok!(Lending::borrow(RuntimeOrigin::signed(who), USD, owed));
			}
			set_btc(70);
			assert_eq!(read(), vec![12, 10, 11]);
			let mut cursor = None;
			let mut pages = vec![];
			loop {
				let (page, next) = Liquidation::at_risk(cursor, 1);
				pages.push(page);
				match next {
					Some(next) => cursor = Some(next),
					None => break,
				}
			}
			assert_eq!(pages.concat(), vec![12, 10, 11]);
			// The view re-checks each and keeps the order.
			let listed: Vec<_> =
				Liquidation::liquidatable(None, 10).0.into_iter().map(|(w, _)| w).collect();
			assert_eq!(listed, vec![12, 10, 11]);
			assert_eq!(Liquidation::at_risk(None, 0), (vec![], None));
		})
	}
}

/// The offchain worker with a test transaction pool: what it submits, how the pool's
/// validation treats it, the cursor and the no-resubmission rule.
mod worker {
	use super::*;
	use codec::Decode;
	use codec::Encode;
	use frame_support::traits::Get;
	use frame_support::{
		pallet_prelude::{InvalidTransaction, TransactionSource, ValidateUnsigned},
		traits::UnfilteredDispatchable,
	};
	use sp_core::offchain::{
		testing::{TestOffchainExt, TestTransactionPoolExt},
		OffchainDbExt, OffchainWorkerExt, TransactionPoolExt,
	};
	use sp_runtime::transaction_validity::TransactionValidity;

	type Extrinsic = frame_system::mocking::MockUncheckedExtrinsic<Test>;

	/// The calls of the encoded extrinsics (each unsigned).
	fn calls(transactions: Vec<Vec<u8>>) -> Vec<Call<Test>> {
		transactions
			.into_iter()
			.map(|tx| {
				let xt = Extrinsic::decode(&mut &tx[..]).expect("an extrinsic");
				assert!(matches!(xt.preamble, sp_runtime::generic::Preamble::Bare(_)), "unsigned");
				match xt.function {
					RuntimeCall::Liquidation(call) => call,
					other => panic!("unexpected call {other:?}"),
				}
			})
			.collect()
	}

	/// The mock chain with offchain storage and a transaction pool (the test offchain
	/// externalities count as a validator's); `test` gets what empties the pool.
	fn with_worker(test: impl FnOnce(&dyn Fn() -> Vec<Call<Test>>)) {
		let mut ext = ExtBuilder::default().build();
		let (offchain, _state) = TestOffchainExt::new();
		let (pool, pool_state) = TestTransactionPoolExt::new();
		ext.register_extension(OffchainDbExt::new(offchain.clone()));
		ext.register_extension(OffchainWorkerExt::new(offchain));
		ext.register_extension(TransactionPoolExt::new(pool));
		let take = move || calls(core::mem::take(&mut pool_state.write().transactions));
		ext.execute_with(|| {
			test(&take);
			Lending::do_try_state().expect("lending invariants hold");
			Liquidation::do_try_state().expect("liquidation invariants hold");
		});
	}

	/// The borrowers a settlement call names.
	fn named(call: &Call<Test>) -> Vec<AccountId> {
		match call {
			Call::settle_unsigned { borrower } => vec![*borrower],
			Call::settle_batch_unsigned { borrowers, .. } => borrowers.to_vec(),
			other => panic!("unexpected call {other:?}"),
		}
	}

	fn validate(call: &Call<Test>) -> TransactionValidity {
		<Liquidation as ValidateUnsigned>::validate_unsigned(TransactionSource::Local, call)
	}

	#[test]
	fn the_worker_resets_a_stale_auction_and_closes_a_finished_one_unsigned() {
		with_worker(|take| {
			alice_underwater(90);
			MockBreaker::halt(BTC);
			assert_ok!(Liquidation::settle(RuntimeOrigin::signed(CHARLIE), ALICE));
			assert!(Auctions::<Test>::contains_key(0));
			let redo = Call::redo_unsigned { id: 0 };
			// Fresh: nothing due, nothing submitted, refused by the pool.
			let report = Liquidation::run_worker(1).unwrap();
			assert!(report.redos.is_empty());
			assert!(!take().iter().any(|c| matches!(c, Call::redo_unsigned { .. })));
			assert_eq!(validate(&redo), InvalidTransaction::Stale.into());
			assert!(!Liquidation::auctions()[0].redo_due);
			// Older than the tail: a reset is due.
			System::set_block_number(102);
			let report = Liquidation::run_worker(102).unwrap();
			assert_eq!(report.redos, vec![0]);
			assert!(take().contains(&redo));
			assert!(validate(&redo).is_ok());
			assert!(Liquidation::auctions()[0].redo_due);
			assert_ok!(redo.clone().dispatch_bypass_filter(RuntimeOrigin::none()));
			assert!(matches!(last_event(), Event::AuctionReset { id: 0, .. }));
			// No longer due: refused at validation and dropped at inclusion.
			assert_eq!(validate(&redo), InvalidTransaction::Stale.into());
			assert!(<Liquidation as ValidateUnsigned>::pre_dispatch(&redo).is_err());
			// Alice healthy again: the worker closes it.
			MockOracle::set(BTC, FixedU128::from_u32(100));
			let report = Liquidation::run_worker(103).unwrap();
			assert_eq!(report.redos, vec![0]);
			assert!(take().contains(&redo));
			assert_ok!(redo.clone().dispatch_bypass_filter(RuntimeOrigin::none()));
			assert!(matches!(
				last_event(),
				Event::AuctionEnded { id: 0, reason: AuctionEnd::Closed, .. }
			));
			// Gone: refused at validation and at inclusion; a signed origin is refused.
			assert_eq!(validate(&redo), InvalidTransaction::Stale.into());
			assert!(<Liquidation as ValidateUnsigned>::pre_dispatch(&redo).is_err());
			assert_noop!(
				Liquidation::redo_unsigned(RuntimeOrigin::signed(BOB), 0),
				DispatchError::BadOrigin
			);
		});
	}

	#[test]
	fn after_a_drop_the_worker_settles_exactly_the_unhealthy() {
		with_worker(|take| {
			// At BTC 85 (liquidation value 637,500) 700,000 and 650,000 are below 1; 500,000
			// is not.
			let accounts = borrowers(&[700_000, 650_000, 500_000]);
			let report = Liquidation::run_worker(1).unwrap();
			assert!(report.submitted.is_empty());
			assert_eq!((report.checked, report.healthy, report.refused), (0, 0, 0));
			assert!(take().is_empty());
			MockOracle::set(BTC, FixedU128::from_u32(85));
			let report = Liquidation::run_worker(1).unwrap();
			assert_eq!(report.submitted, vec![accounts[0], accounts[1]]);
			// The index read only those two: 500,000 sits eleven buckets further.
			assert_eq!((report.checked, report.healthy, report.refused), (2, 0, 0));
			// One batch: one pair, no wide position.
			assert_eq!(report.batches, 1);
			let calls = take();
			let list: frame_support::BoundedVec<_, _> =
				vec![accounts[0], accounts[1]].try_into().unwrap();
			assert_eq!(
				calls,
				vec![Call::settle_batch_unsigned {
					borrowers: list,
					witness: BatchWitness { pairs: 1, wide: 0 }
				}]
			);
			let call = &calls[0];
			// Borrowers out of order: refused before any dry run.
			let reversed: frame_support::BoundedVec<_, _> =
				vec![accounts[1], accounts[0]].try_into().unwrap();
			let unsorted = Call::settle_batch_unsigned {
				borrowers: reversed,
				witness: BatchWitness { pairs: 1, wide: 0 },
			};
			assert_eq!(validate(&unsorted), InvalidTransaction::Call.into());
			let valid = validate(call).expect("valid while every position would settle");
			assert_eq!(valid.priority, <<Test as Config>::UnsignedPriority as Get<u64>>::get());
			// A tag per borrower: a single settlement of either conflicts with the batch.
			assert_eq!(
				valid.provides,
				named(call)
					.into_iter()
					.map(|who| ("margincall-liquidation", who).encode())
					.collect::<Vec<_>>()
			);
			let single = Call::settle_unsigned { borrower: accounts[0] };
			assert_eq!(validate(&single).unwrap().provides[0], valid.provides[0]);
			assert_eq!(
				valid.longevity,
				u64::from(<<Test as Config>::UnsignedLongevity as Get<u32>>::get())
			);
			assert_ok!(<Liquidation as ValidateUnsigned>::pre_dispatch(call));
			System::reset_events();
			assert_ok!(call.clone().dispatch_bypass_filter(RuntimeOrigin::none()));
			// Exactly the two were settled, in one swap.
			let settled: Vec<AccountId> = events()
				.into_iter()
				.filter_map(|e| match e {
					Event::Settled { borrower, .. } => Some(borrower),
					_ => None,
				})
				.collect();
			assert_eq!(settled, vec![accounts[0], accounts[1]]);
			assert_eq!(events().iter().filter(|e| matches!(e, Event::BatchSold { .. })).count(), 1);
			for who in named(call) {
				assert!(health(who) >= fx(105, 100));
			}
			// A replay is refused: the accounts are healthy now.
			assert_eq!(validate(call), InvalidTransaction::Stale.into());
			assert_eq!(
				<Liquidation as ValidateUnsigned>::pre_dispatch(call),
				Err(InvalidTransaction::Stale.into())
			);
			assert!(health(accounts[2]) >= FixedU128::one());
			assert_eq!(debt(accounts[2], USD), 500_000);
			// Only the worker's unsigned origin: a signed one is refused.
			assert_noop!(
				Liquidation::settle_unsigned(RuntimeOrigin::signed(BOB), accounts[2]),
				DispatchError::BadOrigin
			);
		})
	}

	#[test]
	fn a_second_run_submits_nothing_twice_and_a_recovered_account_is_refused() {
		with_worker(|take| {
			let accounts = borrowers(&[700_000]);
			MockOracle::set(BTC, FixedU128::from_u32(90));
			assert_eq!(Liquidation::run_worker(1).unwrap().submitted, accounts);
			let again = Liquidation::run_worker(1).unwrap();
			assert!(again.submitted.is_empty());
			assert_eq!(again.already_sent, 1);
			let calls = take();
			assert_eq!(calls.len(), 1);
			// The price recovers before the pool validates it: refused, and not dispatchable.
			MockOracle::set(BTC, FixedU128::from_u32(100));
			assert_eq!(validate(&calls[0]), InvalidTransaction::Stale.into());
			assert_eq!(
				<Liquidation as ValidateUnsigned>::pre_dispatch(&calls[0]),
				Err(InvalidTransaction::Stale.into())
			);
			// After the longevity it may be sent again (once it is unhealthy again).
			MockOracle::set(BTC, FixedU128::from_u32(90));
			let later = 1 + u64::from(<<Test as Config>::UnsignedLongevity as Get<u32>>::get());
			assert_eq!(Liquidation::run_worker(later).unwrap().submitted, accounts);
		})
	}

	#[test]
	fn a_borrower_that_recovers_cannot_hold_back_the_rest_of_its_batch() {
		with_worker(|take| {
			let accounts = borrowers(&[700_000, 650_000]);
			MockOracle::set(BTC, FixedU128::from_u32(85));
			assert_eq!(Liquidation::run_worker(1).unwrap().submitted, accounts);
			let calls = take();
			assert_eq!(calls.len(), 1);
			assert!(validate(&calls[0]).is_ok());
			// The second repays enough before the batch is included. Were the batch dropped
			// for it, one borrower's repayment would hold back every other position of the
			// batch (the worker does not resubmit them within the longevity): it stays valid
			// while any position it names is liquidatable, at validation and inclusion alike.
			assert_ok!(Lending::repay(
				RuntimeOrigin::signed(accounts[1]),
				USD,
				Amount::Exact(200_000)
			));
			assert!(validate(&calls[0]).is_ok());
			assert_ok!(<Liquidation as ValidateUnsigned>::pre_dispatch(&calls[0]));
			// It settles the first and skips the second.
			System::reset_events();
			assert_ok!(calls[0].clone().dispatch_bypass_filter(RuntimeOrigin::none()));
			assert!(events().contains(&Event::SettlementSkipped {
				borrower: accounts[1],
				reason: Skipped::Healthy
			}));
			assert!(health(accounts[0]) >= fx(105, 100));
			assert_eq!(debt(accounts[1], USD), 450_000);
			// Once neither is liquidatable, it is invalid at both.
			assert_eq!(validate(&calls[0]), InvalidTransaction::Stale.into());
			assert_eq!(
				<Liquidation as ValidateUnsigned>::pre_dispatch(&calls[0]),
				Err(InvalidTransaction::Stale.into())
			);
		})
	}

	#[test]
	fn what_a_batch_passes_over_goes_as_a_single_settlement() {
		with_worker(|take| {
			// Debt and no collateral: only `settle`'s loss waterfall can close it.
			let accounts = borrowers(&[700_000]);
			let stripped = accounts[0];
			let all = supplied(stripped, BTC);
			assert_ok!(<Lending as LendingPositions<AccountId>>::seize_collateral(
				&stripped, &BTC, all, &BOB
			));
			let report = Liquidation::run_worker(1).unwrap();
			assert_eq!((report.submitted.clone(), report.batches), (accounts.clone(), 0));
			assert_eq!(take(), vec![Call::settle_unsigned { borrower: stripped }]);
		})
	}

	#[test]
	fn the_cursor_reaches_every_account_over_runs() {
		with_worker(|take| {
			// More unhealthy accounts than one run checks (MaxChecksPerRun = 4).
			let owed: Vec<u128> = (0..10).map(|i| 660_000 + 4_000 * i).collect();
			let accounts = borrowers(&owed);
			MockOracle::set(BTC, FixedU128::from_u32(85));
			let mut submitted = Vec::new();
			let mut runs = 0;
			while submitted.len() < accounts.len() {
				runs += 1;
				assert!(runs <= 5, "the cursor must reach them all: {submitted:?}");
				let report = Liquidation::run_worker(1).unwrap();
				assert!(report.submitted.len() <= 4);
				submitted.extend(report.submitted);
			}
			assert_eq!(runs, 3);
			submitted.sort();
			assert_eq!(submitted, accounts);
			// One batch per run, every account named once.
			let calls = take();
			assert_eq!(calls.len(), 3);
			let mut named: Vec<AccountId> = calls.iter().flat_map(named).collect();
			named.sort();
			assert_eq!(named, accounts);
		})
	}

	#[test]
	fn the_sweep_finds_what_the_index_misses() {
		with_worker(|take| {
			let accounts = borrowers(&[700_000]);
			// Take the account out of the index by hand (what a bug would do).
			for (key, bucket) in match Filed::<Test>::take(accounts[0]) {
				Some(Filing::Entries(e)) => e.into_inner(),
				other => panic!("{other:?}"),
			} {
				RiskIndex::<Test>::remove((key, bucket, accounts[0]));
			}
			MockOracle::set(BTC, FixedU128::from_u32(90));
			assert!(Liquidation::run_worker(1).unwrap().submitted.is_empty());
			SweepPerRun::set(100);
			assert_eq!(Liquidation::run_worker(1).unwrap().submitted, accounts);
			let calls = take();
			assert_ok!(calls[0].clone().dispatch_bypass_filter(RuntimeOrigin::none()));
			// The settlement filed it again.
			assert!(Filed::<Test>::get(accounts[0]).is_some());
		})
	}

	#[test]
	fn the_worker_refiles_what_over_reports() {
		with_worker(|take| {
			let accounts = borrowers(&[700_000]);
			// She repays most of her debt: her entry stays where it was (it over-reports).
			assert_ok!(Lending::repay(
				RuntimeOrigin::signed(accounts[0]),
				USD,
				Amount::Exact(400_000)
			));
			MockOracle::set(BTC, FixedU128::from_u32(90));
			let report = Liquidation::run_worker(1).unwrap();
			assert!(report.submitted.is_empty());
			assert_eq!((report.checked, report.healthy), (1, 1));
			assert_eq!(report.to_refile, accounts);
			assert!(report.refile_submitted);
			let calls = take();
			let list: frame_support::BoundedVec<_, _> = accounts.clone().try_into().unwrap();
			assert_eq!(calls, vec![Call::refile_unsigned { accounts: list }]);
			let valid = validate(&calls[0]).expect("valid: it moves her entry");
			assert_eq!(valid.priority, 0);
			assert_ok!(calls[0].clone().dispatch_bypass_filter(RuntimeOrigin::none()));
			assert!(!Liquidation::needs_refile(&accounts[0]));
			// Replayed, it would move nothing: refused.
			assert_eq!(validate(&calls[0]), InvalidTransaction::Stale.into());
			// The next run reads nothing.
			let report = Liquidation::run_worker(2).unwrap();
			assert_eq!((report.checked, report.healthy, report.refile_submitted), (0, 0, false));
			assert!(take().is_empty());
			// Only unsigned.
			let list: frame_support::BoundedVec<_, _> = accounts.clone().try_into().unwrap();
			assert_noop!(
				Liquidation::refile_unsigned(RuntimeOrigin::signed(BOB), list),
				DispatchError::BadOrigin
			);
		})
	}

	#[test]
	fn a_run_while_another_holds_the_lock_does_nothing() {
		with_worker(|take| {
			borrowers(&[700_000]);
			MockOracle::set(BTC, FixedU128::from_u32(90));
			let mut lock = sp_runtime::offchain::storage_lock::StorageLock::<
				sp_runtime::offchain::storage_lock::Time,
			>::new(b"margincall/liquidation/worker-lock");
			let guard = lock.try_lock().expect("free");
			assert_eq!(Liquidation::run_worker(1), Err(WorkerError::Locked));
			drop(guard);
			assert_eq!(Liquidation::run_worker(1).unwrap().submitted.len(), 1);
			assert_eq!(take().len(), 1);
		})
	}
}

// ---------------------------------------------------------------------------------------------
// Batch settlement
// ---------------------------------------------------------------------------------------------

mod batch {
	use super::*;

	fn list(accounts: &[AccountId]) -> frame_support::BoundedVec<AccountId, MaxBatch> {
		accounts.to_vec().try_into().expect("within MaxSettleBatch")
	}
	type MaxBatch = <Test as Config>::MaxSettleBatch;

	fn witness(pairs: u32, wide: u32) -> BatchWitness {
		BatchWitness { pairs, wide }
	}

	fn settle_batch(accounts: &[AccountId], w: BatchWitness) -> DispatchResultWithPostInfoOf {
		Liquidation::settle_batch(RuntimeOrigin::signed(CHARLIE), list(accounts), w)
	}
	type DispatchResultWithPostInfoOf = frame_support::dispatch::DispatchResultWithPostInfo;

	/// `call` fails with `NothingSettled` (charged only what it checked) and changes nothing.
	fn assert_nothing_settled(call: impl FnOnce() -> DispatchResultWithPostInfoOf) {
		let mut call = Some(call);
		let result = core::cell::RefCell::new(None);
		frame_support::assert_storage_noop!(*result.borrow_mut() = call.take().map(|c| c()));
		let err = result.into_inner().unwrap().expect_err("nothing settled");
		assert_eq!(err.error, Error::<Test>::NothingSettled.into());
		assert!(err.post_info.actual_weight.is_some(), "refunded to what was checked");
	}

	/// The `Settled` events, by borrower.
	fn settled() -> Vec<(AccountId, u128, u128, u128, u128, u128, u128)> {
		events()
			.into_iter()
			.filter_map(|e| match e {
				Event::Settled {
					borrower,
					repaid,
					collateral_due,
					sold,
					to_insurance,
					tip,
					returned,
					route: Route::Dex,
					..
				} => Some((borrower, repaid, collateral_due, sold, to_insurance, tip, returned)),
				_ => None,
			})
			.collect()
	}

	fn sales() -> Vec<Event<Test>> {
		events().into_iter().filter(|e| matches!(e, Event::BatchSold { .. })).collect()
	}

	#[test]
	fn one_swap_per_pair_pro_rata_shares_and_every_unit_accounted() {
		ExtBuilder::default().build_and_execute(|| {
			let accounts = borrowers(&[700_000, 680_000, 660_000]);
			MockOracle::set(BTC, FixedU128::from_u32(85));
			System::reset_events();
			let before: Vec<(u128, u128)> =
				accounts.iter().map(|a| (supplied(*a, BTC), debt(*a, USD))).collect();
			let pool = pool_reserves(USD, BTC);
			let (ins_tokens, ins_supply, charlie_supply) =
				(balance(BTC, insurance()), supplied(insurance(), BTC), supplied(CHARLIE, BTC));

			assert_ok!(settle_batch(&accounts, witness(1, 0)));

			// One sale for the pair.
			let sales = sales();
			assert_eq!(sales.len(), 1);
			let Event::BatchSold {
				collateral_asset,
				debt_asset,
				positions,
				repaid,
				sold,
				remainder,
			} = sales[0].clone()
			else {
				panic!()
			};
			assert_eq!((collateral_asset, debt_asset, positions), (BTC, USD, 3));
			// The DEX was swapped once: exactly the debt out, exactly `sold` in.
			assert_eq!(pool_reserves(USD, BTC), (pool.0 - repaid, pool.1 + sold));
			assert!(remainder < 3, "{remainder}");

			let settled = settled();
			assert_eq!(settled.iter().map(|s| s.0).collect::<Vec<_>>(), accounts);
			let mut shares = 0;
			let mut repaid_sum = 0;
			let (mut ins_sum, mut tip_sum) = (0, 0);
			for ((who, r, due_, share, ins, tip, returned), (btc0, debt0)) in
				settled.iter().zip(&before)
			{
				// Per position, to the unit: what was due is sold, to the treasury, tipped or
				// the borrower's.
				assert_eq!(share + ins + tip + returned, *due_);
				assert_eq!(supplied(*who, BTC), btc0 - share - ins - tip);
				assert_eq!(debt(*who, USD), debt0 - r);
				// The share is the sale's input pro rata to the repayment (rounded down or up).
				assert!(*share == sold * r / repaid || *share == (sold * r).div_ceil(repaid));
				// Within the position's own bound: its debt's worth at the oracle plus 3%.
				assert!(*share <= r / 85 * 103 / 100 + 1);
				assert!(health(*who) >= fx(105, 100));
				shares += share;
				repaid_sum += r;
				ins_sum += ins;
				tip_sum += tip;
			}
			// The positions' shares are exactly what the DEX took.
			assert_eq!(shares, sold);
			assert_eq!(repaid_sum, repaid);
			// The treasury got its shares of the penalties with the rounding as supply, no
			// tokens; the caller its tips as supply.
			assert_eq!(balance(BTC, insurance()), ins_tokens);
			assert_eq!(supplied(insurance(), BTC), ins_supply + ins_sum);
			assert_eq!(supplied(CHARLIE, BTC), charlie_supply + tip_sum);
			let working = Liquidation::account_id();
			assert_eq!((balance(USD, working), balance(BTC, working)), (0, 0));
		});
	}

	#[test]
	fn a_share_below_the_minimum_balance_rides_with_the_larger_ones() {
		ExtBuilder::default().build_and_execute(|| {
			let big = borrowers(&[700_000])[0];
			// 20 BTC backing 1,400 USD: at 85 its whole share is some 17 BTC, below BTC's
			// minimum balance (1,000): alone, the working account could not receive it.
			let tiny = 50;
			mint(BTC, tiny, 20 + MIN);
			assert_ok!(Lending::supply(RuntimeOrigin::signed(tiny), BTC, 20));
			assert_ok!(Lending::borrow(RuntimeOrigin::signed(tiny), USD, 1_400));
			MockOracle::set(BTC, FixedU128::from_u32(85));
			assert!(health(tiny) < FixedU128::one());
			System::reset_events();
			// Given first, it is still withdrawn after the large share and repaid first.
			assert_ok!(settle_batch(&[tiny, big], witness(1, 0)));
			let settled = settled();
			assert_eq!(settled.iter().map(|s| s.0).collect::<Vec<_>>(), vec![tiny, big]);
			let tiny_sold = settled[0].3;
			assert!(tiny_sold > 0 && tiny_sold < MIN, "{tiny_sold}");
			assert!(debt(tiny, USD) < 1_400);
		});
	}

	#[test]
	fn a_position_healthy_by_now_is_skipped_not_failed() {
		ExtBuilder::default().build_and_execute(|| {
			let accounts = borrowers(&[700_000, 500_000, 680_000]);
			MockOracle::set(BTC, FixedU128::from_u32(85));
			System::reset_events();
			let healthy = accounts[1];
			let before = (supplied(healthy, BTC), debt(healthy, USD));
			assert_ok!(settle_batch(&accounts, witness(1, 0)));
			assert_eq!(
				settled().iter().map(|s| s.0).collect::<Vec<_>>(),
				vec![accounts[0], accounts[2]]
			);
			assert!(events().contains(&Event::SettlementSkipped {
				borrower: healthy,
				reason: Skipped::Healthy
			}));
			assert_eq!((supplied(healthy, BTC), debt(healthy, USD)), before);
		});
	}

	#[test]
	fn bad_batches_are_refused_by_name_and_change_nothing() {
		ExtBuilder::default().build_and_execute(|| {
			let accounts = borrowers(&[700_000, 500_000]);
			MockOracle::set(BTC, FixedU128::from_u32(85));
			assert_noop!(settle_batch(&[], witness(1, 0)), Error::<Test>::EmptyBatch);
			assert_noop!(
				settle_batch(&[accounts[0], accounts[0]], witness(1, 0)),
				Error::<Test>::DuplicateBorrower
			);
			assert_noop!(
				settle_batch(&[accounts[0], CHARLIE], witness(1, 0)),
				Error::<Test>::SelfLiquidation
			);
			// Only healthy positions (or nobody with debt): nothing settled, nothing changed.
			assert_nothing_settled(|| settle_batch(&[accounts[1], BOB], witness(1, 0)));
			// A witness of no pairs sells nothing.
			assert_nothing_settled(|| settle_batch(&[accounts[0]], witness(0, 0)));
			assert_noop!(
				Liquidation::settle_batch_unsigned(
					RuntimeOrigin::signed(BOB),
					list(&accounts),
					witness(1, 0)
				),
				DispatchError::BadOrigin
			);
			assert_noop!(
				Liquidation::settle_batch(RuntimeOrigin::none(), list(&accounts), witness(1, 0)),
				DispatchError::BadOrigin
			);
		});
	}

	#[test]
	fn pairs_and_wide_positions_beyond_the_witness_are_skipped() {
		ExtBuilder::default().build_and_execute(|| {
			let btc = borrowers(&[700_000])[0];
			// 11: MEME only (4,000,000 at 0.5 backing 780,000 USD, threshold 50%): below 1
			// when MEME falls to 0.38. 12: BTC and MEME, both collateral.
			let meme = 11;
			mint(MEME, meme, 4_000_000 + MIN);
			assert_ok!(Lending::supply(RuntimeOrigin::signed(meme), MEME, 4_000_000));
			assert_ok!(Lending::borrow(RuntimeOrigin::signed(meme), USD, 780_000));
			let wide = 12;
			mint(BTC, wide, 5_000 + MIN);
			mint(MEME, wide, 2_000_000 + MIN);
			assert_ok!(Lending::supply(RuntimeOrigin::signed(wide), BTC, 5_000));
			assert_ok!(Lending::supply(RuntimeOrigin::signed(wide), MEME, 2_000_000));
			assert_ok!(Lending::borrow(RuntimeOrigin::signed(wide), USD, 700_000));
			MockOracle::set(BTC, FixedU128::from_u32(85));
			MockOracle::set(MEME, fx(38, 100));
			assert!(health(btc) < FixedU128::one());
			assert!(health(meme) < FixedU128::one());
			assert!(health(wide) < FixedU128::one());
			System::reset_events();
			let all = [btc, meme, wide];
			let state = || all.map(|a| (supplied(a, BTC), supplied(a, MEME), debt(a, USD)));
			let before = state();

			// One pair, no wide position declared: only the first.
			assert_ok!(settle_batch(&all, witness(1, 0)));
			assert_eq!(settled().iter().map(|s| s.0).collect::<Vec<_>>(), vec![btc]);
			let skipped: Vec<_> = events()
				.into_iter()
				.filter_map(|e| match e {
					Event::SettlementSkipped { borrower, reason } => Some((borrower, reason)),
					_ => None,
				})
				.collect();
			assert_eq!(skipped, vec![(meme, Skipped::OverWitness), (wide, Skipped::OverWitness)]);
			let after = state();
			assert_eq!(&after[1..], &before[1..]);

			// Declared: two pairs, one wide position. MEME sells in a swap of its own.
			MockOracle::set(BTC, FixedU128::from_u32(85));
			System::reset_events();
			assert_ok!(settle_batch(&[meme, wide], witness(2, 1)));
			assert_eq!(settled().iter().map(|s| s.0).collect::<Vec<_>>(), vec![meme, wide]);
			assert_eq!(sales().len(), 2);
		});
	}

	#[test]
	fn a_pair_the_dex_cannot_sell_is_skipped_and_settle_takes_the_backstop() {
		ExtBuilder::default().without_pools().build_and_execute(|| {
			let accounts = borrowers(&[700_000]);
			MockOracle::set(BTC, FixedU128::from_u32(85));
			mint(USD, insurance(), 1_000_000);
			assert_nothing_settled(|| settle_batch(&accounts, witness(1, 0)));
			let dry = Liquidation::try_settle_batch(&accounts, witness(1, 0)).unwrap();
			assert_eq!(dry.skipped, vec![(accounts[0], Skipped::Dex(DexRefusal::NoPool))]);
			assert!(dry.settled.is_empty());
			assert_ok!(Liquidation::settle(RuntimeOrigin::signed(CHARLIE), accounts[0]));
			assert!(matches!(
				last_event(),
				Event::Settled { route: Route::Backstop { dex: DexRefusal::NoPool }, .. }
			));
		});
	}

	#[test]
	fn the_weight_is_declared_from_the_witness_and_refunded_to_what_was_done() {
		ExtBuilder::default().build_and_execute(|| {
			let accounts = borrowers(&[700_000, 500_000, 680_000]);
			MockOracle::set(BTC, FixedU128::from_u32(85));
			let call =
				Call::<Test>::settle_batch { borrowers: list(&accounts), witness: witness(2, 1) };
			use frame_support::dispatch::GetDispatchInfo;
			let declared = call.get_dispatch_info().call_weight;
			assert_eq!(declared, Liquidation::settle_batch_weight(3, &witness(2, 1)));
			let post = settle_batch(&accounts, witness(2, 1)).unwrap();
			let actual = post.actual_weight.expect("refunded");
			// Two narrow positions settled in one pair, the healthy one planned: three narrow
			// positions of one pair.
			let done = BatchReport::<AccountId> { narrow: 3, pairs: 1, ..Default::default() };
			assert_eq!(actual, Liquidation::batch_report_weight(&done));
			assert!(actual.all_lte(declared) && actual != declared);
		});
	}
}

// ---------------------------------------------------------------------------------------------
// The circuit breaker's effects: halted and throttled sales, the queue, the seizure order
// ---------------------------------------------------------------------------------------------

mod breaker {
	use super::*;

	fn settle(who: AccountId) -> frame_support::dispatch::DispatchResultWithPostInfo {
		Liquidation::settle(RuntimeOrigin::signed(CHARLIE), who)
	}

	fn queue(asset: AssetId) -> Vec<AccountId> {
		SaleQueue::<Test>::get(asset).into_iter().map(|e| e.borrower).collect()
	}

	/// The collateral value (at BTC `price`, rounded up) of what the next `settle` of `who`
	/// would sell.
	fn sale_value(who: AccountId, price: u128) -> u128 {
		Liquidation::preview(who).unwrap().dex_input.unwrap() * price
	}

	fn next_block() {
		System::set_block_number(System::block_number() + 1);
	}

	#[test]
	fn a_halted_collateral_is_not_sold_the_backstop_takes_it_or_it_goes_to_auction() {
		ExtBuilder::default().build_and_execute(|| {
			alice_underwater(90);
			MockBreaker::halt(BTC);
			let preview = Liquidation::preview(ALICE).unwrap();
			assert_eq!(preview.route, Ok(Route::Auction { dex: DexRefusal::Halted }));
			// No treasury funds: an auction starts; nothing sold, nothing repaid yet.
			let before = snapshot();
			assert_ok!(settle(ALICE));
			assert!(matches!(
				last_event(),
				Event::AuctionStarted { id: 0, borrower: ALICE, dex: DexRefusal::Halted, .. }
			));
			assert_eq!(snapshot(), before);
			assert!(queue(BTC).is_empty());
			assert_noop!(settle(ALICE), Error::<Test>::InAuction);
			// A keeper with its own funds may always liquidate.
			assert_ok!(bob_liquidates_alice(Amount::Exact(1_000)));
			// The treasury funded: the backstop buys at the oracle less its discount.
			mint(USD, insurance(), 1_000_000);
			assert_ok!(settle(ALICE));
			assert!(events().iter().any(|e| matches!(
				e,
				Event::Settled { route: Route::Backstop { dex: DexRefusal::Halted }, sold: 0, .. }
			)));
			assert_eq!(pool_reserves(USD, BTC), before.pool, "nothing sold on the DEX");
			assert_eq!(MockBreaker::sold(BTC), 0);
			// Healthy again: the auction is closed by `redo`, nothing more taken.
			assert!(health(ALICE) >= FixedU128::one());
			assert_ok!(Liquidation::redo(RuntimeOrigin::signed(CHARLIE), 0));
			assert!(matches!(
				last_event(),
				Event::AuctionEnded { id: 0, reason: AuctionEnd::Closed, to_insurance: 0, .. }
			));
			assert_eq!(Auctions::<Test>::count(), 0);
			assert!(BorrowerAuction::<Test>::get(ALICE).is_none());
		});
	}

	#[test]
	fn a_throttled_collateral_sells_within_the_block_cap_and_queues_the_rest_riskiest_first() {
		ExtBuilder::default().build_and_execute(|| {
			// At 85: healths 0.996, 0.966, 0.9375 (the last the riskiest).
			let [low, mid, high]: [AccountId; 3] =
				borrowers(&[640_000, 660_000, 680_000]).try_into().unwrap();
			MockOracle::set(BTC, FixedU128::from_u32(85));
			assert!(health(high) < health(mid) && health(mid) < health(low));
			assert!(health(low) < FixedU128::one());
			// The cap: exactly the riskiest position's sale per block.
			let cap = sale_value(high, 85);
			let low_value = sale_value(low, 85);
			MockBreaker::throttle(BTC, cap);
			System::reset_events();

			// The riskiest sells; the cap is spent to the unit.
			assert_ok!(settle(high));
			let Event::Settled { route, sold, .. } = last_event() else { panic!() };
			assert_eq!(route, Route::Dex);
			assert_eq!(MockBreaker::sold(BTC), sold * 85);
			assert_eq!(MockBreaker::sold(BTC), cap);
			// The others wait: queued riskiest first, whatever order they came in.
			let pool = pool_reserves(USD, BTC);
			let preview = Liquidation::preview(low).unwrap();
			assert_eq!(preview.route, Err(DexRefusal::Throttled { value: low_value, left: 0 }));
			assert_ok!(settle(low));
			assert_ok!(settle(mid));
			assert_eq!(
				last_event(),
				Event::SaleQueued {
					borrower: mid,
					collateral_asset: BTC,
					health: health(mid),
					position: 0
				}
			);
			assert_eq!(queue(BTC), vec![mid, low]);
			assert_eq!(pool_reserves(USD, BTC), pool);

			// Next block, a new cap: the head first. `low` is behind it.
			next_block();
			assert_noop!(settle(low), Error::<Test>::AwaitingSale);
			assert_ok!(settle(mid));
			assert!(events().contains(&Event::Dequeued { borrower: mid, collateral_asset: BTC }));
			assert_eq!(queue(BTC), vec![low]);
			// What the cap has left is too little for `low`'s sale, or for a cut one (below
			// the collateral's minimum balance): it waits another block.
			assert_noop!(settle(low), Error::<Test>::AwaitingSale);
			let mut blocks = 0;
			while health(low) < FixedU128::one() {
				next_block();
				assert_ok!(settle(low));
				blocks += 1;
				assert!(blocks < 5);
			}
			assert!(queue(BTC).is_empty());
			for who in [low, mid, high] {
				assert!(health(who) >= FixedU128::one(), "each settled in turn");
			}
		});
	}

	#[test]
	fn a_throttled_sale_is_cut_to_what_the_blocks_cap_has_left() {
		ExtBuilder::default().build_and_execute(|| {
			alice_underwater(90);
			let full = Liquidation::preview(ALICE).unwrap();
			let value = Liquidation::sale_value(full.dex_input.unwrap(), FixedU128::from_u32(90));
			// A cap of 60% of the sale: the repayment cut to fit it (2% under, for the pool's
			// price impact), within the cap to the unit.
			let cap = value * 6 / 10;
			MockBreaker::throttle(BTC, cap);
			let cut = Liquidation::preview(ALICE).unwrap();
			assert_eq!(cut.route, Ok(Route::Dex));
			assert!(cut.repay < full.repay * 61 / 100 && cut.repay > full.repay * 55 / 100);
			assert_ok!(settle(ALICE));
			let Event::Settled { repaid, sold, route, .. } = last_event() else { panic!() };
			assert_eq!((route, repaid, Some(sold)), (Route::Dex, cut.repay, cut.dex_input));
			assert_eq!(
				MockBreaker::sold(BTC),
				Liquidation::sale_value(sold, FixedU128::from_u32(90))
			);
			assert!(MockBreaker::sold(BTC) <= cap);
			// 60% of the way to the target health of 1.05 is past 1 here; a position still
			// below 1 would sell its next cut in the next block.
			assert!(health(ALICE) > full.health);
			let mut blocks = 0;
			while health(ALICE) < FixedU128::one() {
				next_block();
				assert_ok!(settle(ALICE));
				assert!(MockBreaker::sold(BTC) <= cap);
				blocks += 1;
				assert!(blocks < 10, "settled a cut a block");
			}
			assert!(queue(BTC).is_empty());
		});
	}

	#[test]
	fn a_riskier_position_goes_before_the_queue_and_takes_a_full_queues_last_place() {
		ExtBuilder::default().build_and_execute(|| {
			let accounts = borrowers(&[640_000, 645_000, 650_000, 680_000, 639_000, 700_000]);
			MockOracle::set(BTC, FixedU128::from_u32(85));
			// Throttled with nothing left this block: every sale waits.
			MockBreaker::throttle(BTC, 0);
			// MaxSaleQueue = 3.
			for who in &accounts[..3] {
				assert_ok!(settle(*who));
			}
			assert_eq!(queue(BTC), vec![accounts[2], accounts[1], accounts[0]]);
			// Less risky than every entry of a full queue: refused by name.
			assert_noop!(settle(accounts[4]), Error::<Test>::SaleQueueFull);
			// Riskier: it takes the least risky entry's place.
			System::reset_events();
			assert_ok!(settle(accounts[3]));
			assert_eq!(
				events()[0],
				Event::Dequeued { borrower: accounts[0], collateral_asset: BTC }
			);
			assert_eq!(queue(BTC), vec![accounts[3], accounts[2], accounts[1]]);
			// Throttled with room: a position riskier than the head sells at once.
			let riskiest = accounts[5];
			MockBreaker::throttle(BTC, u128::MAX);
			assert_ok!(settle(riskiest));
			assert!(matches!(last_event(), Event::Settled { route: Route::Dex, .. }));
			assert_eq!(queue(BTC), vec![accounts[3], accounts[2], accounts[1]]);
			// After MaxQueueAge blocks the entries no longer hold their place.
			MockBreaker::throttle(BTC, 0);
			System::set_block_number(System::block_number() + 10);
			assert_ok!(settle(accounts[0]));
			assert_eq!(queue(BTC), vec![accounts[0]]);
		});
	}

	#[test]
	fn a_held_price_of_either_asset_stops_dex_sales_fail_closed_for_selling_only() {
		ExtBuilder::default().build_and_execute(|| {
			alice_underwater(90);
			mint(USD, insurance(), 1_000_000);
			// Either asset's price held: no sale, not to the DEX, not to the funded backstop.
			for held in [BTC, USD] {
				MockBreaker::hold(held);
				let preview = Liquidation::preview(ALICE).unwrap();
				assert_eq!(preview.route, Err(DexRefusal::PriceUnconfirmed), "{held}");
				assert_noop!(settle(ALICE), Error::<Test>::PriceUnconfirmed);
				MockBreaker::clear();
			}
			// Batches skip it too.
			MockBreaker::hold(BTC);
			let w = BatchWitness { pairs: 1, wide: 0 };
			let report = Liquidation::try_settle_batch(&[ALICE], w).unwrap();
			assert_eq!(report.skipped, vec![(ALICE, Skipped::Dex(DexRefusal::PriceUnconfirmed))]);
			// Repaying is never held, and a keeper with its own funds may liquidate.
			assert_ok!(Lending::repay(RuntimeOrigin::signed(ALICE), USD, Amount::Exact(1_000)));
			assert_ok!(bob_liquidates_alice(Amount::Exact(1_000)));
			// Confirmed (released by the guard): the DEX route is back.
			MockBreaker::clear();
			assert_ok!(settle(ALICE));
			assert!(matches!(last_event(), Event::Settled { route: Route::Dex, .. }));
		});
	}

	#[test]
	fn a_queued_position_healthy_again_leaves_the_queue() {
		ExtBuilder::default().build_and_execute(|| {
			alice_underwater(90);
			MockBreaker::throttle(BTC, 0);
			assert_ok!(settle(ALICE));
			assert_eq!(queue(BTC), vec![ALICE]);
			MockOracle::set(BTC, FixedU128::from_u32(100));
			System::reset_events();
			assert_ok!(settle(ALICE));
			assert_eq!(events(), vec![Event::Dequeued { borrower: ALICE, collateral_asset: BTC }]);
			assert!(queue(BTC).is_empty());
			assert_noop!(settle(ALICE), Error::<Test>::NotLiquidatable);
		});
	}

	#[test]
	fn a_batch_sells_a_throttled_pair_only_within_the_cap_and_never_a_halted_one() {
		ExtBuilder::default().build_and_execute(|| {
			let accounts = borrowers(&[680_000, 690_000]);
			MockOracle::set(BTC, FixedU128::from_u32(85));
			let list: frame_support::BoundedVec<AccountId, <Test as Config>::MaxSettleBatch> =
				accounts.clone().try_into().unwrap();
			let w = BatchWitness { pairs: 1, wide: 0 };
			let batch =
				|| Liquidation::settle_batch(RuntimeOrigin::signed(CHARLIE), list.clone(), w);
			let lot = sale_value(accounts[0], 85) + sale_value(accounts[1], 85);
			MockBreaker::halt(BTC);
			let report = Liquidation::try_settle_batch(&accounts, w).unwrap();
			assert!(report.skipped.iter().all(|(_, why)| *why == Skipped::Dex(DexRefusal::Halted)));
			let nothing = || {
				let root = sp_io::storage::root(sp_runtime::StateVersion::V1);
				assert_eq!(batch().unwrap_err().error, Error::<Test>::NothingSettled.into());
				assert_eq!(sp_io::storage::root(sp_runtime::StateVersion::V1), root);
			};
			nothing();
			// Throttled below the lot's value: skipped, nothing sold.
			MockBreaker::throttle(BTC, lot / 2);
			let report = Liquidation::try_settle_batch(&accounts, w).unwrap();
			assert!(matches!(
				report.skipped[0].1,
				Skipped::Dex(DexRefusal::Throttled { left, .. }) if left == lot / 2
			));
			nothing();
			// With room for the lot: one swap, its value counted against the cap.
			MockBreaker::throttle(BTC, 2 * lot);
			assert_ok!(batch());
			let sold: u128 = events()
				.iter()
				.filter_map(|e| match e {
					Event::BatchSold { sold, .. } => Some(*sold),
					_ => None,
				})
				.sum();
			assert!(sold > 0);
			assert_eq!(
				MockBreaker::sold(BTC),
				Liquidation::sale_value(sold, FixedU128::from_u32(85))
			);
		});
	}

	#[test]
	fn the_most_volatile_collateral_is_seized_first_then_the_governance_rank() {
		ExtBuilder::default().build_and_execute(|| {
			assert_ok!(Lending::supply(RuntimeOrigin::signed(ALICE), BTC, 6_000));
			assert_ok!(Lending::supply(RuntimeOrigin::signed(ALICE), MEME, 100_000));
			assert_ok!(Lending::borrow(RuntimeOrigin::signed(ALICE), USD, 250_000));
			assert_ok!(Lending::borrow(RuntimeOrigin::signed(ALICE), ETH, 75_000));
			MockOracle::set(BTC, FixedU128::from_u32(60));
			let first = || Liquidation::preview(ALICE).unwrap().collateral_asset;
			// Ranks alone: MEME (rank 10) first.
			assert_ok!(Liquidation::set_risk_rank(RuntimeOrigin::root(), MEME, 10));
			assert_eq!(first(), MEME);
			// Measured: BTC at 120% a year beats MEME unmeasured, whatever the ranks.
			MockBreaker::set_volatility(BTC, fx(120, 100));
			assert_eq!(first(), BTC);
			// Both measured: the more volatile first.
			MockBreaker::set_volatility(MEME, fx(150, 100));
			assert_eq!(first(), MEME);
			MockBreaker::set_volatility(MEME, fx(90, 100));
			assert_eq!(first(), BTC);
			// Equal volatility: the rank decides.
			MockBreaker::set_volatility(MEME, fx(120, 100));
			assert_eq!(first(), MEME);
			assert_ok!(settle(ALICE));
			let Event::Settled { collateral_asset, .. } = last_event() else { panic!() };
			assert_eq!(collateral_asset, MEME);
		});
	}
}

mod auctions {
	//! The Dutch auction fallback: every path (start, take part, take all, the floor, reset,
	//! close, sold out into the waterfall) with exact amounts, and every refusal by name.
	use super::*;
	use frame_support::dispatch::DispatchResultWithPostInfo;
	use sp_arithmetic::FixedPointNumber;

	/// Alice at BTC `price` with BTC halted and an empty treasury: `settle` starts auction 0.
	fn alice_auctioned(price: u128) -> Auction<AccountId, AssetId> {
		alice_underwater(price);
		MockBreaker::halt(BTC);
		assert_ok!(Liquidation::settle(RuntimeOrigin::signed(CHARLIE), ALICE));
		Auctions::<Test>::get(0).expect("auction 0 started")
	}

	fn take(
		who: AccountId,
		max_collateral: u128,
		max_price: FixedU128,
	) -> DispatchResultWithPostInfo {
		Liquidation::take(RuntimeOrigin::signed(who), 0, max_collateral, max_price)
	}

	fn any_price() -> FixedU128 {
		FixedU128::from_u32(1_000_000)
	}

	fn advance(blocks: u64) {
		System::set_block_number(System::block_number() + blocks);
	}

	/// `n × price` rounded up, computed without the pallet's code.
	fn cost(n: u128, price: FixedU128) -> u128 {
		(n * price.into_inner()).div_ceil(FixedU128::DIV)
	}

	#[test]
	fn an_auction_starts_when_neither_the_dex_nor_the_backstop_can_and_moves_nothing() {
		ExtBuilder::default().build_and_execute(|| {
			alice_underwater(90);
			MockBreaker::halt(BTC);
			let preview = Liquidation::preview(ALICE).unwrap();
			assert_eq!(preview.route, Ok(Route::Auction { dex: DexRefusal::Halted }));
			let before = snapshot();
			assert_ok!(Liquidation::settle(RuntimeOrigin::signed(CHARLIE), ALICE));
			// 10% above the oracle's 90 USD per BTC, the floor 20% below it.
			let (top, floor) = (FixedU128::from_u32(99), FixedU128::from_u32(72));
			assert_eq!(
				last_event(),
				Event::AuctionStarted {
					id: 0,
					borrower: ALICE,
					collateral_asset: BTC,
					debt_asset: USD,
					lot: preview.collateral_due,
					tab: preview.repay,
					top,
					floor,
					dex: DexRefusal::Halted,
					health: preview.health,
				}
			);
			assert_eq!(snapshot(), before, "nothing moves until a take");
			let auction = Auctions::<Test>::get(0).unwrap();
			assert_eq!((auction.lot, auction.tab), (preview.collateral_due, preview.repay));
			assert_eq!((auction.started, auction.resets), (1, 0));
			assert_eq!(BorrowerAuction::<Test>::get(ALICE), Some(0));
			assert_eq!(NextAuctionId::<Test>::get(), 1);
			// One auction per borrower.
			assert_noop!(
				Liquidation::settle(RuntimeOrigin::signed(CHARLIE), ALICE),
				Error::<Test>::InAuction
			);
			// The view: its price now, no reset needed.
			let statuses = Liquidation::auctions();
			assert_eq!(statuses.len(), 1);
			assert_eq!((statuses[0].price, statuses[0].needs_reset), (top, Some(false)));
		});
	}

	#[test]
	fn a_partial_take_pays_the_decayed_price_rounded_up_and_leaves_the_rest() {
		ExtBuilder::default().build_and_execute(|| {
			let auction = alice_auctioned(90);
			advance(5);
			// 99 × 0.99⁵.
			let price = Liquidation::auctions()[0].price;
			assert!((price.to_float() - 99.0 * 0.99f64.powi(5)).abs() < 1e-9);
			let before = snapshot();
			assert_ok!(take(BOB, 1_000, price));
			let paid = cost(1_000, price);
			assert_eq!(
				last_event(),
				Event::AuctionTaken {
					id: 0,
					taker: BOB,
					bought: 1_000,
					paid,
					price,
					lot_left: auction.lot - 1_000,
					tab_left: auction.tab - paid,
				}
			);
			let after = snapshot();
			assert_eq!(after.bob_usd, before.bob_usd - paid);
			assert_eq!(after.alice_debt, before.alice_debt - paid);
			assert_eq!(after.bob_btc_supply, before.bob_btc_supply + 1_000);
			assert_eq!(after.alice_btc, before.alice_btc - 1_000);
			assert_eq!(after.pool, before.pool);
			let left = Auctions::<Test>::get(0).unwrap();
			assert_eq!((left.lot, left.tab), (auction.lot - 1_000, auction.tab - paid));
		});
	}

	#[test]
	fn taking_all_pays_the_tab_and_the_treasury_takes_its_share_of_the_unsold_lot() {
		ExtBuilder::default().build_and_execute(|| {
			let auction = alice_auctioned(90);
			advance(10);
			let price = Liquidation::auctions()[0].price;
			let before = snapshot();
			assert_ok!(take(BOB, u128::MAX, price));
			// The slice is what the tab buys, rounded down; the taker pays exactly the tab.
			let bought = auction.tab * FixedU128::DIV / price.into_inner();
			let rest = auction.lot - bought;
			let to_insurance = rest.div_ceil(2);
			let events = events();
			assert!(events.contains(&Event::AuctionTaken {
				id: 0,
				taker: BOB,
				bought,
				paid: auction.tab,
				price,
				lot_left: rest,
				tab_left: 0,
			}));
			assert_eq!(
				events.last(),
				Some(&Event::AuctionEnded {
					id: 0,
					borrower: ALICE,
					reason: AuctionEnd::Paid,
					to_insurance,
					returned: rest - to_insurance,
					unpaid: 0,
				})
			);
			let after = snapshot();
			assert_eq!(after.bob_usd, before.bob_usd - auction.tab);
			assert_eq!(after.alice_debt, before.alice_debt - auction.tab);
			assert_eq!(after.bob_btc_supply, bought);
			assert_eq!(after.insurance_btc_supply, to_insurance);
			// Every unit of the lot accounted for.
			assert_eq!(before.alice_btc - after.alice_btc, bought + to_insurance);
			assert_eq!(Auctions::<Test>::count(), 0);
			assert_eq!(BorrowerAuction::<Test>::get(ALICE), None);
			assert!(health(ALICE) > FixedU128::one());
		});
	}

	#[test]
	fn the_price_falls_to_the_floor_and_no_lower() {
		ExtBuilder::default().build_and_execute(|| {
			let auction = alice_auctioned(90);
			advance(31);
			assert!(Liquidation::auctions()[0].price > auction.floor);
			advance(1);
			assert_eq!(Liquidation::auctions()[0].price, auction.floor);
			advance(60);
			let price = Liquidation::auctions()[0].price;
			assert_eq!(price, FixedU128::from_u32(72));
			// A taker's limit below the price: refused by name.
			assert_noop!(take(BOB, 1_000, fx(71, 1)), Error::<Test>::AuctionPriceTooHigh);
			assert_ok!(take(BOB, 1_000, price));
			assert!(matches!(last_event(), Event::AuctionTaken { paid: 72_000, .. }));
		});
	}

	#[test]
	fn a_stale_auction_must_be_reset_and_restarts_from_the_oracle() {
		ExtBuilder::default().build_and_execute(|| {
			let auction = alice_auctioned(90);
			// Fresh: no reset.
			assert_noop!(
				Liquidation::redo(RuntimeOrigin::signed(CHARLIE), 0),
				Error::<Test>::AuctionNotStale
			);
			// Older than the tail (100 blocks): no take until it is reset.
			advance(101);
			assert_eq!(Liquidation::auctions()[0].needs_reset, Some(true));
			assert_noop!(take(BOB, 1_000, any_price()), Error::<Test>::AuctionNeedsReset);
			// A held price prices no reset.
			MockBreaker::hold(BTC);
			assert_noop!(
				Liquidation::redo(RuntimeOrigin::signed(CHARLIE), 0),
				Error::<Test>::PriceUnconfirmed
			);
			MockBreaker::clear();
			MockBreaker::halt(BTC);
			MockOracle::set(BTC, FixedU128::from_u32(88));
			assert_ok!(Liquidation::redo(RuntimeOrigin::signed(CHARLIE), 0));
			let (top, floor) = (fx(968, 10), fx(704, 10));
			assert_eq!(
				last_event(),
				Event::AuctionReset { id: 0, top, floor, lot: auction.lot, tab: auction.tab }
			);
			let reset = Auctions::<Test>::get(0).unwrap();
			assert_eq!((reset.top, reset.floor, reset.started, reset.resets), (top, floor, 102, 1));
			assert_ok!(take(BOB, 1_000, top));
			assert!(matches!(last_event(), Event::AuctionTaken { paid: 96_800, .. }));
		});
	}

	#[test]
	fn an_auction_priced_too_far_below_a_rising_oracle_must_be_reset() {
		ExtBuilder::default().build_and_execute(|| {
			// A floor 20% and a cusp 21% below the oracle: at the floor, a 1.3% rise is enough.
			let params =
				AuctionParams { cusp: Permill::from_percent(21), ..DefaultAuctionParams::get() };
			assert_ok!(Liquidation::set_auction_params(RuntimeOrigin::root(), params));
			alice_auctioned(90);
			advance(40);
			MockOracle::set(BTC, fx(9_120, 100));
			assert!(health(ALICE) < FixedU128::one());
			// 72 < 91.2 × 0.79 = 72.048.
			assert_noop!(take(BOB, 1_000, any_price()), Error::<Test>::AuctionNeedsReset);
			assert_ok!(Liquidation::redo(RuntimeOrigin::signed(CHARLIE), 0));
			assert_eq!(Auctions::<Test>::get(0).unwrap().top, fx(10_032, 100));
		});
	}

	#[test]
	fn a_lot_sold_out_with_debt_left_goes_to_the_loss_waterfall() {
		ExtBuilder::default().build_and_execute(|| {
			// At 60 Alice is insolvent: the lot is all her collateral, the tab what it pays for.
			let auction = alice_auctioned(60);
			assert_eq!(auction.lot, 10_000);
			let owed = debt(ALICE, USD);
			assert!(auction.tab < owed);
			// At the floor (48) the lot buys less than the tab.
			advance(40);
			let price = Liquidation::auctions()[0].price;
			assert_eq!(price, FixedU128::from_u32(48));
			assert_ok!(take(BOB, u128::MAX, any_price()));
			let events = events();
			assert!(events.contains(&Event::AuctionTaken {
				id: 0,
				taker: BOB,
				bought: 10_000,
				paid: 480_000,
				price,
				lot_left: 0,
				tab_left: auction.tab - 480_000,
			}));
			assert!(events.contains(&Event::AuctionEnded {
				id: 0,
				borrower: ALICE,
				reason: AuctionEnd::LotSold,
				to_insurance: 0,
				returned: 0,
				unpaid: auction.tab - 480_000,
			}));
			// No collateral left: the reserves and the suppliers absorb the rest, to the unit.
			let written: u128 = events
				.iter()
				.filter_map(|e| match e {
					Event::ShortfallCoveredByReserves { amount, .. }
					| Event::BadDebtSocialised { amount, .. } => Some(*amount),
					_ => None,
				})
				.sum();
			assert_eq!(written, owed - 480_000);
			assert_eq!(debt(ALICE, USD), 0);
			assert_eq!(supplied(ALICE, BTC), 0);
			assert_eq!(Auctions::<Test>::count(), 0);
		});
	}

	#[test]
	fn a_borrower_that_repays_or_recovers_ends_its_auction_and_keeps_its_collateral() {
		ExtBuilder::default().build_and_execute(|| {
			let auction = alice_auctioned(90);
			// Healthy again: no take; `redo` closes it.
			MockOracle::set(BTC, FixedU128::from_u32(100));
			assert_noop!(take(BOB, 1_000, any_price()), Error::<Test>::NotLiquidatable);
			MockOracle::set(BTC, FixedU128::from_u32(90));
			// Repaid: nothing left to pay.
			assert_ok!(Lending::repay(RuntimeOrigin::signed(ALICE), USD, Amount::All));
			assert_noop!(take(BOB, 1_000, any_price()), Error::<Test>::AuctionOver);
			assert_ok!(Liquidation::redo(RuntimeOrigin::signed(CHARLIE), 0));
			assert_eq!(
				last_event(),
				Event::AuctionEnded {
					id: 0,
					borrower: ALICE,
					reason: AuctionEnd::Closed,
					to_insurance: 0,
					returned: auction.lot,
					unpaid: 0,
				}
			);
			assert_eq!(supplied(ALICE, BTC), 10_000);
			assert_noop!(
				Liquidation::redo(RuntimeOrigin::signed(CHARLIE), 0),
				Error::<Test>::UnknownAuction
			);
		});
	}

	#[test]
	fn a_held_price_stops_takes_fail_closed_for_selling() {
		ExtBuilder::default().build_and_execute(|| {
			alice_auctioned(90);
			for held in [BTC, USD] {
				MockBreaker::hold(held);
				assert_noop!(take(BOB, 1_000, any_price()), Error::<Test>::PriceUnconfirmed);
				MockBreaker::clear();
				MockBreaker::halt(BTC);
			}
			// Repaying is never held.
			MockBreaker::hold(BTC);
			assert_ok!(Lending::repay(RuntimeOrigin::signed(ALICE), USD, Amount::Exact(1_000)));
		});
	}

	#[test]
	fn a_tab_that_buys_less_than_a_unit_is_closed_not_stuck() {
		ExtBuilder::default().build_and_execute(|| {
			// No dust value: a partial take may leave any tab.
			let params = LiquidationParams { dust_value: 0, ..default_params() };
			assert_ok!(Liquidation::update_params(RuntimeOrigin::root(), params));
			// Insolvent at 60: the auction (top 66) is for all of Alice's collateral.
			let auction = alice_auctioned(60);
			assert_eq!(auction.top, FixedU128::from_u32(66));
			// Take what leaves a tab below 66, i.e. less than one BTC's price.
			let slice = auction.tab / 66;
			assert!(!auction.tab.is_multiple_of(66));
			assert_ok!(take(BOB, slice, any_price()));
			let left = Auctions::<Test>::get(0).unwrap();
			assert_eq!(left.tab, auction.tab % 66);
			assert!(health(ALICE) < FixedU128::one());
			// Nothing can be bought with it: no take, and `redo` (the worker's too) closes it.
			assert_noop!(take(BOB, 1_000, any_price()), Error::<Test>::AuctionOver);
			assert!(Liquidation::redo_due(0));
			assert_ok!(Liquidation::redo(RuntimeOrigin::signed(CHARLIE), 0));
			assert_eq!(
				last_event(),
				Event::AuctionEnded {
					id: 0,
					borrower: ALICE,
					reason: AuctionEnd::Closed,
					to_insurance: 0,
					returned: left.lot,
					unpaid: left.tab,
				}
			);
			// The rest is `settle`'s again (still halted, the treasury empty: a new auction).
			assert_ok!(Liquidation::settle(RuntimeOrigin::signed(CHARLIE), ALICE));
			assert!(matches!(last_event(), Event::AuctionStarted { id: 1, .. }));
		});
	}

	#[test]
	fn bad_takes_are_refused_by_name_and_change_nothing() {
		ExtBuilder::default().build_and_execute(|| {
			let auction = alice_auctioned(90);
			assert_noop!(take(BOB, 0, any_price()), Error::<Test>::ZeroAmount);
			assert_noop!(take(ALICE, 1_000, any_price()), Error::<Test>::SelfLiquidation);
			assert_noop!(
				Liquidation::take(RuntimeOrigin::signed(BOB), 7, 1_000, any_price()),
				Error::<Test>::UnknownAuction
			);
			assert_noop!(take(BOB, 1_000, fx(98, 1)), Error::<Test>::AuctionPriceTooHigh);
			// Leaving a tab worth less than the dust value (1,000 USD): at 99, a slice paying
			// all but about 500 of it.
			let slice = (auction.tab - 500) / 99;
			assert_noop!(take(BOB, slice, any_price()), Error::<Test>::LeavesDust);
			// A stale price: a take is a sale, it fails closed.
			Timestamp::set_timestamp(Timestamp::get() + 3_600_001);
			assert_noop!(take(BOB, 1_000, any_price()), Error::<Test>::PriceStale);
		});
	}

	#[test]
	fn at_most_max_auctions_live_then_no_route() {
		ExtBuilder::default().build_and_execute(|| {
			// MaxAuctions = 3.
			let accounts = borrowers(&[700_000, 700_000, 700_000, 700_000]);
			MockOracle::set(BTC, FixedU128::from_u32(90));
			MockBreaker::halt(BTC);
			for who in &accounts[..3] {
				assert_ok!(Liquidation::settle(RuntimeOrigin::signed(CHARLIE), *who));
			}
			assert_eq!(Auctions::<Test>::count(), 3);
			let preview = Liquidation::preview(accounts[3]).unwrap();
			assert_eq!(preview.route, Err(DexRefusal::Halted));
			assert_noop!(
				Liquidation::settle(RuntimeOrigin::signed(CHARLIE), accounts[3]),
				Error::<Test>::NoRoute
			);
		});
	}

	#[test]
	fn auction_parameters_are_bounded_by_name_and_set_by_risk_admin_only() {
		ExtBuilder::default().build_and_execute(|| {
			let good = DefaultAuctionParams::get();
			assert_noop!(
				Liquidation::set_auction_params(RuntimeOrigin::signed(ALICE), good),
				DispatchError::BadOrigin
			);
			let cases = [
				(
					AuctionParams { buf: Permill::from_percent(51), ..good },
					Error::<Test>::AuctionBufOutOfRange,
				),
				(
					AuctionParams { step: Permill::zero(), ..good },
					Error::<Test>::AuctionStepOutOfRange,
				),
				(
					AuctionParams { floor: Permill::from_percent(95), ..good },
					Error::<Test>::AuctionFloorOutOfRange,
				),
				(AuctionParams { cusp: good.floor, ..good }, Error::<Test>::AuctionCuspOutOfRange),
				(AuctionParams { tail: 0, ..good }, Error::<Test>::AuctionTailOutOfRange),
			];
			for (params, error) in cases {
				assert_noop!(Liquidation::set_auction_params(RuntimeOrigin::root(), params), error);
			}
			let new = AuctionParams { step: Permill::from_percent(2), tail: 50, ..good };
			assert_ok!(Liquidation::set_auction_params(RuntimeOrigin::root(), new));
			assert_eq!(last_event(), Event::AuctionParamsSet { params: new });
			assert_eq!(AuctionParameters::<Test>::get(), new);
		});
	}
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
