//! Tests of the lending pallet, a file per call, plus interest, rounding, the liquidation's
//! side (`lending_positions`), review findings (`hardening`) and a property test over random
//! sequences of calls.

use crate::{math::MILLIS_PER_YEAR, mock::*, Error, Event, *};
use frame_support::{assert_noop, assert_ok};
use sp_arithmetic::{
	traits::{One, Saturating, Zero},
	FixedPointNumber, FixedU128, Permill,
};
use sp_runtime::{DispatchError, DispatchResult, TokenError};

fn signed(who: AccountId) -> RuntimeOrigin {
	RuntimeOrigin::signed(who)
}

fn state(asset: AssetId) -> MarketState {
	Markets::<Test>::get(asset).unwrap().state
}

fn params_of(asset: AssetId) -> Option<MarketParams> {
	Markets::<Test>::get(asset).map(|m| m.params)
}

fn supply_of(who: AccountId, asset: AssetId) -> Option<SupplyPosition<AssetId>> {
	Positions::<Test>::get(who).and_then(|p| p.supply(&asset).copied())
}

fn debt_of(who: AccountId, asset: AssetId) -> Option<BorrowPosition<AssetId>> {
	Positions::<Test>::get(who).and_then(|p| p.borrow(&asset).copied())
}

/// BOB supplies 10,000 USD of liquidity; ALICE supplies 100 BTC (worth 10,000) as collateral.
fn alice_has_collateral() {
	assert_ok!(Lending::supply(signed(BOB), USD, 10_000));
	assert_ok!(Lending::supply(signed(ALICE), BTC, 100));
}

/// [`alice_has_collateral`], then ALICE borrows 5,000 USD.
fn alice_borrows() {
	alice_has_collateral();
	assert_ok!(Lending::borrow(signed(ALICE), USD, 5_000));
	System::reset_events();
}

mod borrow;
mod breaker;
mod collateral;
mod create_market;
mod hardening;
mod integrity;
mod interest;
mod lending_positions;
mod long_horizons;
mod origins;
mod property;
mod rails;
mod repay;
mod reserves;
mod rounding;
mod supply;
mod update_market;
mod views;
mod withdraw;
mod write_off;
