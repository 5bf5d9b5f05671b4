//! Prometheus metrics of the liquidation engine, under the `margincall_` prefix, beside the
//! node's own `substrate_*` metrics (on `--prometheus-port`, default 9615).
//!
//! On every imported block that becomes the new best, the node reads the runtime APIs at that
//! block (`LiquidationApi`, `BreakerApi`) and its events and timestamp from its state, and
//! sets:
//!
//! | metric | kind | labels | what |
//! |---|---|---|---|
//! | `margincall_best_block` | gauge | | the block the metrics were read at |
//! | `margincall_positions_below_one` | gauge | | accounts the risk index finds below health 1 (`LiquidationApi::liquidatable`, up to 20,000) |
//! | `margincall_liquidations_total` | counter | `route` | positions liquidated: `keeper` (`liquidate`), `dex`, `backstop`, `auction` (a `settle` that started one), `auction_take` |
//! | `margincall_debt_repaid_total` | counter | `asset` | debt repaid by liquidations and auction takes, in tokens (12 decimals) |
//! | `margincall_bad_debt_socialised` | gauge | `asset` | debt socialised to the market's suppliers so far, tokens (`LiquidationApi::bad_debt`) |
//! | `margincall_insurance_fund` | gauge | `asset`, `held` | the insurance treasury's `tokens` and lending `supply`, tokens |
//! | `margincall_breaker_level` | gauge | `asset` | 0 `Normal`, 1 `Throttled`, 2 `Halted` (`BreakerApi::breaker`) |
//! | `margincall_oracle_price` | gauge | `asset` | the oracle's latest combined price the breaker sampled, USD |
//! | `margincall_oracle_price_age_seconds` | gauge | `asset` | block time minus that price's timestamp |
//! | `margincall_auctions_live` | gauge | | Dutch auctions in progress |
//!
//! Counters count the events of each new best block once; a re-organisation may count a
//! replaced block's events as well (Aura + GRANDPA rarely re-organise).

use std::{collections::BTreeSet, sync::Arc};

use codec::Decode;
use futures::StreamExt;
use margincall_runtime::{opaque::Block, AccountId, AssetId, RuntimeEvent};
use pallet_breaker_runtime_api::BreakerApi;
use pallet_liquidation::Route;
use pallet_liquidation_runtime_api::LiquidationApi;
use sc_client_api::{BlockchainEvents, StorageProvider};
use sp_api::ProvideRuntimeApi;
use sp_core::storage::StorageKey;
use sp_runtime::traits::{Block as BlockT, Header as _};
use substrate_prometheus_endpoint::{
	register, CounterVec, Gauge, GaugeVec, Opts, PrometheusError, Registry, F64, U64,
};

type Hash = <Block as BlockT>::Hash;

/// Tokens of 12 decimals, as every dev asset has.
const UNIT: f64 = 1e12;
/// Most accounts counted below health 1 per block (20 pages of the risk index).
const MAX_PAGES: usize = 20;

/// The metrics, registered once.
struct Metrics {
	best_block: Gauge<U64>,
	below_one: Gauge<U64>,
	liquidations: CounterVec<U64>,
	debt_repaid: CounterVec<F64>,
	bad_debt: GaugeVec<F64>,
	insurance: GaugeVec<F64>,
	breaker_level: GaugeVec<U64>,
	price: GaugeVec<F64>,
	price_age: GaugeVec<F64>,
	auctions: Gauge<U64>,
}

impl Metrics {
	fn register(registry: &Registry) -> Result<Self, PrometheusError> {
		let gauge = |name: &str, help: &str| Gauge::new(name, help);
		let vec = |name: &str, help: &str| Opts::new(name, help);
		Ok(Self {
			best_block: register(
				gauge("margincall_best_block", "Block the margincall metrics were read at")?,
				registry,
			)?,
			below_one: register(
				gauge("margincall_positions_below_one", "Accounts below health 1 (risk index)")?,
				registry,
			)?,
			liquidations: register(
				CounterVec::new(
					vec("margincall_liquidations_total", "Positions liquidated, by route"),
					&["route"],
				)?,
				registry,
			)?,
			debt_repaid: register(
				CounterVec::new(
					vec("margincall_debt_repaid_total", "Debt repaid by liquidations, tokens"),
					&["asset"],
				)?,
				registry,
			)?,
			bad_debt: register(
				GaugeVec::new(
					vec("margincall_bad_debt_socialised", "Debt socialised so far, tokens"),
					&["asset"],
				)?,
				registry,
			)?,
			insurance: register(
				GaugeVec::new(
					vec("margincall_insurance_fund", "Insurance treasury holdings, tokens"),
					&["asset", "held"],
				)?,
				registry,
			)?,
			breaker_level: register(
				GaugeVec::new(
					vec(
						"margincall_breaker_level",
						"Breaker level: 0 Normal, 1 Throttled, 2 Halted",
					),
					&["asset"],
				)?,
				registry,
			)?,
			price: register(
				GaugeVec::new(vec("margincall_oracle_price", "Oracle price, USD"), &["asset"])?,
				registry,
			)?,
			price_age: register(
				GaugeVec::new(
					vec("margincall_oracle_price_age_seconds", "Age of the oracle price, s"),
					&["asset"],
				)?,
				registry,
			)?,
			auctions: register(
				gauge("margincall_auctions_live", "Dutch auctions in progress")?,
				registry,
			)?,
		})
	}
}

fn tokens(amount: u128) -> f64 {
	amount as f64 / UNIT
}

fn fixed(x: sp_runtime::FixedU128) -> f64 {
	x.into_inner() as f64 / 1e18
}

/// The key of the storage value `item` of `pallet`.
fn value_key(pallet: &str, item: &str) -> Vec<u8> {
	[sp_core::twox_128(pallet.as_bytes()), sp_core::twox_128(item.as_bytes())].concat()
}

/// Spawns nothing itself: returns the future that updates the metrics on every new best
/// block, or `None` when the node runs without Prometheus.
pub fn task<C, BE>(
	client: Arc<C>,
	registry: Option<&Registry>,
) -> Result<Option<impl std::future::Future<Output = ()>>, PrometheusError>
where
	BE: sc_client_api::Backend<Block> + 'static,
	C: ProvideRuntimeApi<Block> + BlockchainEvents<Block> + StorageProvider<Block, BE>,
	C: Send + Sync + 'static,
	C::Api: LiquidationApi<Block, AccountId, AssetId> + BreakerApi<Block, AssetId>,
{
	let Some(registry) = registry else { return Ok(None) };
	let metrics = Metrics::register(registry)?;
	Ok(Some(async move {
		let mut blocks = client.import_notification_stream();
		while let Some(block) = blocks.next().await {
			if block.is_new_best {
				let number: u32 = *block.header.number();
				if let Err(e) = update(&*client, &metrics, block.hash, block.header.parent_hash) {
					log::debug!(target: "margincall::metrics", "block {number}: {e}");
				}
				metrics.best_block.set(number.into());
			}
		}
	}))
}

/// Reads block `at` (child of `parent`) and sets the metrics.
fn update<C, BE>(client: &C, m: &Metrics, at: Hash, parent: Hash) -> Result<(), String>
where
	BE: sc_client_api::Backend<Block> + 'static,
	C: ProvideRuntimeApi<Block> + StorageProvider<Block, BE>,
	C::Api: LiquidationApi<Block, AccountId, AssetId> + BreakerApi<Block, AssetId>,
{
	let api = client.runtime_api();
	let e = |e: sp_api::ApiError| e.to_string();

	// Positions below 1, page by page.
	let mut below = 0u64;
	let mut cursor = None;
	for _ in 0..MAX_PAGES {
		let (page, next) = api.liquidatable(at, cursor, 1_000).map_err(e)?;
		below = below.saturating_add(page.len() as u64);
		match next {
			Some(next) => cursor = Some(next),
			None => break,
		}
	}
	m.below_one.set(below);

	// The block's events.
	let read = |key: Vec<u8>| -> Option<Vec<u8>> {
		client.storage(at, &StorageKey(key)).ok().flatten().map(|d| d.0)
	};
	let events = read(value_key("System", "Events"))
		.and_then(|raw| {
			Vec::<frame_system::EventRecord<RuntimeEvent, sp_core::H256>>::decode(&mut &raw[..])
				.ok()
		})
		.ok_or("events undecodable (a runtime newer than the node?)")?;
	let mut auction_debt: Option<Vec<(u32, AssetId)>> = None;
	for record in events {
		let RuntimeEvent::Liquidation(event) = record.event else { continue };
		use pallet_liquidation::Event as E;
		let (route, asset, repaid) = match event {
			E::Liquidated { debt_asset, repaid, .. } => ("keeper", debt_asset, repaid),
			E::Settled { debt_asset, repaid, route, .. } => {
				let route = match route {
					Route::Dex => "dex",
					Route::Backstop { .. } => "backstop",
					Route::Auction { .. } => "auction",
				};
				(route, debt_asset, repaid)
			},
			E::AuctionTaken { id, paid, .. } => {
				// The auction's debt asset, from the state before the block.
				let live = auction_debt.get_or_insert_with(|| {
					api.auctions(parent)
						.unwrap_or_default()
						.into_iter()
						.map(|s| (s.id, s.auction.debt_asset))
						.collect()
				});
				let Some(asset) = live.iter().find(|(i, _)| *i == id).map(|(_, a)| *a) else {
					continue;
				};
				("auction_take", asset, paid)
			},
			_ => continue,
		};
		m.liquidations.with_label_values(&[route]).inc();
		m.debt_repaid.with_label_values(&[&asset.to_string()]).inc_by(tokens(repaid));
	}

	// Insurance, bad debt, breaker levels, oracle prices and their age.
	let now: u64 = read(value_key("Timestamp", "Now"))
		.and_then(|raw| u64::decode(&mut &raw[..]).ok())
		.unwrap_or_default();
	let mut assets = BTreeSet::new();
	for (asset, held, supply) in api.insurance_fund(at).map_err(e)? {
		let a = asset.to_string();
		m.insurance.with_label_values(&[&a, "tokens"]).set(tokens(held));
		m.insurance.with_label_values(&[&a, "supply"]).set(tokens(supply));
		assets.insert(asset);
	}
	for (asset, v) in api.volatilities(at).map_err(e)? {
		let a = asset.to_string();
		m.price.with_label_values(&[&a]).set(fixed(v.price));
		let age = now.saturating_sub(v.at) as f64 / 1_000.0;
		m.price_age.with_label_values(&[&a]).set(age);
		assets.insert(asset);
	}
	for asset in assets {
		let a = asset.to_string();
		m.bad_debt.with_label_values(&[&a]).set(tokens(api.bad_debt(at, asset).map_err(e)?));
		let level = match api.breaker(at, asset).map_err(e)?.level {
			pallet_breaker::Level::Normal => 0,
			pallet_breaker::Level::Throttled => 1,
			pallet_breaker::Level::Halted => 2,
		};
		m.breaker_level.with_label_values(&[&a]).set(level);
	}
	m.auctions.set(api.auctions(at).map_err(e)?.len() as u64);
	Ok(())
}
