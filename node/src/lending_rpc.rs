//! `lending_*` JSON-RPC methods: the lending pallet's runtime API (`LendingApi`) served to
//! wallets and keepers. Every method takes an optional block hash (default: best block).
//!
//! - `lending_accountHealth(account, at?)`: collateral value, borrow limit, liquidation value,
//!   debt value and health factor (`factor` as a decimal string; "max" without debt);
//! - `lending_marketStatus(assetId, at?)`: parameters, totals, utilisation, rates, reserves;
//! - `lending_positions(account, at?)`: supplies and debts with interest.

use std::sync::Arc;

use jsonrpsee::{
	types::{error::ErrorObjectOwned, Params},
	RpcModule,
};
use margincall_runtime::{opaque::Block, AccountId, AssetId};
use pallet_lending_runtime_api::{Health, LendingApi, MarketInfo, PositionInfo};
use serde_json::{json, Value};
use sp_api::ProvideRuntimeApi;
use sp_blockchain::HeaderBackend;
use sp_core::crypto::Ss58Codec;
use sp_runtime::{
	traits::{Block as BlockT, Bounded},
	FixedPointNumber, FixedU128,
};

type Hash = <Block as BlockT>::Hash;

fn error(code: i32, message: impl ToString) -> ErrorObjectOwned {
	ErrorObjectOwned::owned(code, message.to_string(), None::<()>)
}

/// A fixed-point number as a decimal string, exactly (18 decimals, trailing zeros trimmed).
fn fixed(f: FixedU128) -> String {
	if f == FixedU128::max_value() {
		return "max".into();
	}
	let inner = f.into_inner();
	let div = <FixedU128 as FixedPointNumber>::DIV;
	let frac = format!("{:018}", inner % div);
	let frac = frac.trim_end_matches('0');
	if frac.is_empty() {
		format!("{}", inner / div)
	} else {
		format!("{}.{}", inner / div, frac)
	}
}

fn health_json(h: &Health) -> Value {
	json!({
		"collateralValue": h.collateral_value.to_string(),
		"borrowLimit": h.borrow_limit.to_string(),
		"liquidationValue": h.liquidation_value.to_string(),
		"debtValue": h.debt_value.to_string(),
		"factor": fixed(h.factor),
		"liquidatable": h.is_liquidatable(),
	})
}

fn market_json(m: &MarketInfo) -> Value {
	let p = &m.params;
	json!({
		"params": {
			"collateralFactor": p.collateral_factor.deconstruct(),
			"liquidationThreshold": p.liquidation_threshold.deconstruct(),
			"liquidationBonus": p.liquidation_bonus.deconstruct(),
			"closeFactor": p.close_factor.deconstruct(),
			"reserveFactor": p.reserve_factor.deconstruct(),
			"supplyCap": p.supply_cap.to_string(),
			"borrowCap": p.borrow_cap.to_string(),
			"minBorrowValue": p.min_borrow_value.to_string(),
			"rateModel": {
				"base": fixed(p.rate_model.base),
				"slope1": fixed(p.rate_model.slope1),
				"kink": fixed(p.rate_model.kink),
				"slope2": fixed(p.rate_model.slope2),
			},
			"collateralEnabled": p.collateral_enabled,
			"borrowEnabled": p.borrow_enabled,
			"status": format!("{:?}", p.status),
		},
		"totalSupplied": m.total_supplied.to_string(),
		"totalBorrowed": m.total_borrowed.to_string(),
		"reserves": m.reserves.to_string(),
		"badDebt": m.bad_debt.to_string(),
		"utilisation": fixed(m.utilisation),
		"borrowRate": fixed(m.borrow_rate),
		"supplyRate": fixed(m.supply_rate),
		"supplyIndex": fixed(m.supply_index),
		"borrowIndex": fixed(m.borrow_index),
	})
}

fn position_json(p: &PositionInfo<AssetId>) -> Value {
	json!({
		"asset": p.asset,
		"supplied": p.supplied.to_string(),
		"collateral": p.collateral,
		"borrowed": p.borrowed.to_string(),
	})
}

/// Parses `[first, at?]` from positional or `{name, at}` named parameters.
fn parse<T: serde::de::DeserializeOwned>(
	params: Params,
	name: &str,
) -> Result<(T, Option<Hash>), ErrorObjectOwned> {
	let value: Value = params.parse().unwrap_or(Value::Null);
	let (first, at) = match value {
		Value::Array(mut a) if !a.is_empty() => {
			let at = if a.len() > 1 { a.remove(1) } else { Value::Null };
			(a.remove(0), at)
		},
		Value::Object(mut o) => {
			(o.remove(name).unwrap_or(Value::Null), o.remove("at").unwrap_or(Value::Null))
		},
		_ => return Err(error(-32602, format!("expected [{name}, at?]"))),
	};
	let first =
		serde_json::from_value(first).map_err(|e| error(-32602, format!("invalid {name}: {e}")))?;
	let at = if at.is_null() {
		None
	} else {
		Some(serde_json::from_value(at).map_err(|e| error(-32602, format!("invalid at: {e}")))?)
	};
	Ok((first, at))
}

fn account(s: String) -> Result<AccountId, ErrorObjectOwned> {
	AccountId::from_ss58check(&s)
		.or_else(|_| {
			let bytes = sp_core::bytes::from_hex(&s).map_err(|_| ())?;
			<[u8; 32]>::try_from(bytes.as_slice()).map(AccountId::from).map_err(|_| ())
		})
		.map_err(|_| error(-32602, "invalid account: expected SS58 or 0x-hex of 32 bytes"))
}

/// The `lending_*` methods over `client`.
pub fn lending_rpc<C>(client: Arc<C>) -> RpcModule<Arc<C>>
where
	C: ProvideRuntimeApi<Block> + HeaderBackend<Block> + Send + Sync + 'static,
	C::Api: LendingApi<Block, AccountId, AssetId>,
{
	let mut module = RpcModule::new(client);
	let best = |c: &Arc<C>, at: Option<Hash>| at.unwrap_or_else(|| c.info().best_hash);

	module
		.register_method("lending_accountHealth", move |params, client, _| {
			let (who, at) = parse::<String>(params, "account")?;
			let who = account(who)?;
			let health = client
				.runtime_api()
				.account_health(best(client, at), who)
				.map_err(|e| error(-32000, format!("runtime api: {e}")))?
				.map_err(|e| error(-32001, format!("{e:?}")))?;
			Ok::<Value, ErrorObjectOwned>(health_json(&health))
		})
		.expect("method names are unique");
	module
		.register_method("lending_marketStatus", move |params, client, _| {
			let (asset, at) = parse::<AssetId>(params, "assetId")?;
			let market = client
				.runtime_api()
				.market_status(best(client, at), asset)
				.map_err(|e| error(-32000, format!("runtime api: {e}")))?;
			Ok::<Value, ErrorObjectOwned>(market.as_ref().map(market_json).unwrap_or(Value::Null))
		})
		.expect("method names are unique");
	module
		.register_method("lending_positions", move |params, client, _| {
			let (who, at) = parse::<String>(params, "account")?;
			let who = account(who)?;
			let positions = client
				.runtime_api()
				.positions(best(client, at), who)
				.map_err(|e| error(-32000, format!("runtime api: {e}")))?
				.map_err(|e| error(-32001, format!("{e:?}")))?;
			Ok::<Value, ErrorObjectOwned>(Value::Array(
				positions.iter().map(position_json).collect(),
			))
		})
		.expect("method names are unique");
	module
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn fixed_prints_exact_decimals() {
		assert_eq!(fixed(FixedU128::from_u32(3)), "3");
		assert_eq!(fixed(FixedU128::from_rational(3, 2)), "1.5");
		assert_eq!(fixed(FixedU128::from_inner(1)), "0.000000000000000001");
		assert_eq!(fixed(FixedU128::max_value()), "max");
	}
}
