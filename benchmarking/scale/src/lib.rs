//! What the scale and cascade benchmarks share: the development genesis of the real runtime
//! (natively), accounts, dispatch, oracle feeds, market caps, the XBTC/USDM pool and an
//! arbitrageur.

use frame_support::traits::{fungible::Mutate as _, fungibles::Mutate};
use margincall_runtime::{
	assets::{USDM, XBTC},
	configs::Price,
	genesis_config_presets, AccountId, AssetKind, Lending, RuntimeCall, RuntimeGenesisConfig,
	RuntimeOrigin, UNIT,
};
use serde_json::Value;
use sp_runtime::traits::Dispatchable;

pub const T0: u64 = 1_767_225_600_000;
pub const XBTC_PRICE: u32 = 60_000;
/// Each borrower's collateral: 0.01 XBTC.
pub const COLLATERAL: u128 = UNIT / 100;

fn merge(base: &mut Value, patch: Value) {
	match (base, patch) {
		(Value::Object(b), Value::Object(p)) => {
			for (k, v) in p {
				merge(b.entry(k).or_insert(Value::Null), v);
			}
		},
		(b, p) => *b = p,
	}
}

pub fn genesis() -> sp_io::TestExternalities {
	let patch: Value = serde_json::from_slice(
		&genesis_config_presets::get_preset(&"development".into()).expect("preset exists"),
	)
	.expect("preset is json");
	let mut config = serde_json::to_value(RuntimeGenesisConfig::default()).expect("json");
	merge(&mut config, patch);
	let json = serde_json::to_vec(&config).expect("json");
	let mut ext = sp_io::TestExternalities::new_empty();
	ext.execute_with(|| {
		frame_support::genesis_builder_helper::build_state::<RuntimeGenesisConfig>(json)
			.expect("genesis builds");
	});
	ext
}

pub fn account(i: u64) -> AccountId {
	let mut raw = [7u8; 32];
	raw[..8].copy_from_slice(&i.to_le_bytes());
	AccountId::new(raw)
}

pub fn dispatch(who: Option<&AccountId>, call: RuntimeCall) {
	let origin = match who {
		Some(who) => RuntimeOrigin::signed(who.clone()),
		None => RuntimeOrigin::root(),
	};
	if let Err(e) = call.dispatch(origin) {
		panic!("dispatch failed: {e:?}");
	}
}

/// Every oracle feeder of the chain (the development chain's: Alice) feeds `xbtc` (USDM at 1).
pub fn feed(xbtc: u32) {
	let values = frame_support::BoundedVec::truncate_from(vec![
		(USDM, Price::from_u32(1)),
		(XBTC, Price::from_u32(xbtc)),
	]);
	use frame_support::traits::SortedMembers;
	for feeder in margincall_runtime::OracleMembership::sorted_members() {
		dispatch(
			Some(&feeder),
			RuntimeCall::Oracle(orml_oracle::Call::feed_values { values: values.clone() }),
		);
	}
}

/// Lifts a market's caps so N positions fit.
pub fn uncap(asset: u32) {
	use pallet_lending::LendingPositions;
	let mut params = Lending::market_params(&asset).expect("market exists");
	params.supply_cap = u128::MAX;
	params.borrow_cap = u128::MAX;
	dispatch(None, RuntimeCall::Lending(pallet_lending::Call::update_market { asset, params }));
}

/// Opens a position: `who` is minted twice `xbtc`, supplies `xbtc` and borrows `debt` USDM
/// through the lending pallet's calls (so the risk index is kept by its hook, as on chain).
pub fn open_position(who: &AccountId, xbtc: u128, debt: u128) {
	margincall_runtime::Assets::mint_into(XBTC, who, xbtc * 2).expect("mint");
	dispatch(
		Some(who),
		RuntimeCall::Lending(pallet_lending::Call::supply { asset: XBTC, amount: xbtc }),
	);
	dispatch(
		Some(who),
		RuntimeCall::Lending(pallet_lending::Call::borrow { asset: USDM, amount: debt }),
	);
}

/// The XBTC/USDM pool's reserves: `(XBTC, USDM)`.
pub fn pool_reserves() -> (u128, u128) {
	let (kx, ku) = pool_assets();
	margincall_runtime::AssetConversion::get_reserves(*kx, *ku).expect("the dev pool exists")
}

pub fn pool_assets() -> (Box<AssetKind>, Box<AssetKind>) {
	(Box::new(AssetKind::WithId(XBTC)), Box::new(AssetKind::WithId(USDM)))
}

pub fn whale() -> AccountId {
	account(u64::MAX - 1)
}

/// Deepens the XBTC/USDM pool to `xbtc` whole XBTC more at its current ratio; the whale keeps
/// as much again of each for arbitrage.
pub fn deepen_pool(xbtc: u128) {
	let whale = whale();
	let (kx, ku) = pool_assets();
	let (rx, ru) = pool_reserves();
	let add_x = xbtc * UNIT;
	let add_u = add_x.saturating_mul(ru) / rx;
	margincall_runtime::Balances::mint_into(&whale, 1_000 * UNIT).expect("mint");
	margincall_runtime::Assets::mint_into(XBTC, &whale, add_x * 2).expect("mint");
	margincall_runtime::Assets::mint_into(USDM, &whale, add_u * 2).expect("mint");
	dispatch(
		Some(&whale),
		RuntimeCall::AssetConversion(pallet_asset_conversion::Call::add_liquidity {
			asset1: kx,
			asset2: ku,
			amount1_desired: add_x,
			amount2_desired: add_u,
			amount1_min: 1,
			amount2_min: 1,
			mint_to: whale.clone(),
		}),
	);
}

/// An arbitrageur trades the pool back to `price` USDM per XBTC (the oracle's), as one would
/// within a block of the oracle moving or of liquidations selling into the pool.
pub fn arbitrage_to(price: u128) {
	let whale = whale();
	let (kx, ku) = pool_assets();
	let (rx, ru) = pool_reserves();
	// x·y = k: the price ru/rx is `price` where rx = sqrt(k / price).
	let target_x = ((rx as f64) * (ru as f64) / (price as f64)).sqrt() as u128;
	let call = if target_x > rx {
		// XBTC is dear: sell XBTC into the pool (the fee taken from the input); the whale
		// holds it (an arbitrageur with inventory, before the pool was deepened too).
		let amount_in = (target_x - rx) * 1_000 / 997;
		if margincall_runtime::Assets::balance(XBTC, &whale) < amount_in {
			margincall_runtime::Assets::mint_into(XBTC, &whale, amount_in).expect("mint");
		}
		pallet_asset_conversion::Call::swap_exact_tokens_for_tokens {
			path: vec![kx, ku],
			amount_in,
			amount_out_min: 1,
			send_to: whale.clone(),
			keep_alive: false,
		}
	} else if target_x < rx {
		// XBTC is cheap: buy it out of the pool.
		pallet_asset_conversion::Call::swap_tokens_for_exact_tokens {
			path: vec![ku, kx],
			amount_out: rx - target_x,
			amount_in_max: u128::MAX / 4,
			send_to: whale.clone(),
			keep_alive: false,
		}
	} else {
		return;
	};
	dispatch(Some(&whale), RuntimeCall::AssetConversion(call));
}
