//! Prometheus metrics of the liquidation engine, under the `margincall_` prefix, beside the
//! node's own `substrate_*` metrics (on `--prometheus-port`, default 9615).
//!
//! Gauges follow the best block: on each new best block the node reads the runtime APIs at it
//! (`LiquidationApi`, `BreakerApi`) and its timestamp. Counters follow finality: the events of
//! every finalized block are counted once (no re-organisation can count a block twice). Both
//! run on blocking threads, off the import path; a gauge update skips ahead to the latest
//! best block when it falls behind.
//!
//! | metric | kind | labels | what |
//! |---|---|---|---|
//! | `margincall_best_block` | gauge | | the block the gauges were read at |
//! | `margincall_finalized_block` | gauge | | the last block whose events the counters hold |
//! | `margincall_positions_below_one` | gauge | | accounts the risk index finds below health 1 (`LiquidationApi::liquidatable`, up to 20,000) |
//! | `margincall_liquidations_total` | counter | `route` | `keeper` (`liquidate`), `dex`, `bids` (standing bids), `backstop`, `net` (`Settled`), `auction` (a settle that started one), `auction_take` |
//! | `margincall_same_block_settlements_total` | counter | | positions settled by `settle_after_feed` (the node's same-block service: in the block of the feed that put them below 1) |
//! | `margincall_debt_repaid_total` | counter | `asset` | debt repaid by liquidations and auction takes, in tokens (12 decimals) |
//! | `margincall_bad_debt_socialised` | gauge | `asset` | debt socialised to the market's suppliers so far, tokens (`LiquidationApi::bad_debt`) |
//! | `margincall_insurance_fund` | gauge | `asset`, `held` | the insurance treasury's `tokens` and lending `supply`, tokens |
//! | `margincall_breaker_level` | gauge | `asset` | 0 `Normal`, 1 `Throttled`, 2 `Halted` (`BreakerApi::breaker`) |
//! | `margincall_oracle_price` | gauge | `asset` | the oracle's latest combined price the breaker sampled, USD |
//! | `margincall_oracle_price_age_seconds` | gauge | `asset` | block time minus that price's timestamp |
//! | `margincall_auctions_live` | gauge | | Dutch auctions in progress |
//! | `margincall_metrics_errors_total` | counter | `part` | reads that failed (`gauges`; `events`: a block whose events this node cannot decode, e.g. after a runtime upgrade it does not know) |

use std::{collections::BTreeSet, sync::Arc};

use codec::Decode;
use futures::{future::BoxFuture, FutureExt, StreamExt};
use margincall_runtime::{opaque::Block, AccountId, AssetId, RuntimeEvent};
use pallet_breaker_runtime_api::BreakerApi;
use pallet_liquidation::Route;
use pallet_liquidation_runtime_api::LiquidationApi;
use sc_client_api::{BlockBackend, BlockchainEvents, StorageProvider};
use sp_api::ProvideRuntimeApi;
use sp_blockchain::HeaderBackend;
use sp_core::storage::StorageKey;
use sp_runtime::traits::{Block as BlockT, Header as _};
use substrate_prometheus_endpoint::{
	register, Counter, CounterVec, Gauge, GaugeVec, Opts, PrometheusError, Registry, F64, U64,
};

type Hash = <Block as BlockT>::Hash;

/// Tokens of 12 decimals, as every dev asset has.
const UNIT: f64 = 1e12;
/// Most accounts counted below health 1 per block (20 pages of the risk index).
const MAX_PAGES: usize = 20;

/// The metrics, registered once.
struct Metrics {
	best_block: Gauge<U64>,
	finalized_block: Gauge<U64>,
	errors: CounterVec<U64>,
	below_one: Gauge<U64>,
	liquidations: CounterVec<U64>,
	same_block: Counter<U64>,
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
			finalized_block: register(
				gauge("margincall_finalized_block", "Last block the margincall counters hold")?,
				registry,
			)?,
			errors: register(
				CounterVec::new(
					vec("margincall_metrics_errors_total", "Metrics reads that failed"),
					&["part"],
				)?,
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
			same_block: register(
				Counter::new(
					"margincall_same_block_settlements_total",
					"Positions settled by settle_after_feed, in their feed's block",
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

/// The tasks that keep the metrics (gauges on new best blocks, counters on finality), or none
/// when the node runs without Prometheus. Spawn them as blocking tasks: they run the runtime.
#[allow(clippy::type_complexity)]
pub fn tasks<C, BE>(
	client: Arc<C>,
	registry: Option<&Registry>,
) -> Result<Vec<(&'static str, BoxFuture<'static, ()>)>, PrometheusError>
where
	BE: sc_client_api::Backend<Block> + 'static,
	C: ProvideRuntimeApi<Block> + BlockchainEvents<Block> + StorageProvider<Block, BE>,
	C: HeaderBackend<Block> + BlockBackend<Block> + Send + Sync + 'static,
	C::Api: LiquidationApi<Block, AccountId, AssetId> + BreakerApi<Block, AssetId>,
{
	let Some(registry) = registry else { return Ok(vec![]) };
	let metrics = Arc::new(Metrics::register(registry)?);
	let (c, m) = (client.clone(), metrics.clone());
	let gauge_task = async move {
		let mut blocks = c.import_notification_stream();
		while let Some(mut block) = blocks.next().await {
			// Behind? Skip to the latest new best block.
			while let Some(Some(next)) = blocks.next().now_or_never() {
				if next.is_new_best || !block.is_new_best {
					block = next;
				}
			}
			if !block.is_new_best {
				continue;
			}
			match gauges(&*c, &m, block.hash) {
				Ok(()) => m.best_block.set((*block.header.number()).into()),
				Err(e) => {
					m.errors.with_label_values(&["gauges"]).inc();
					log::warn!(target: "margincall::metrics", "gauges at {}: {e}", block.hash);
				},
			}
		}
	};
	let counter_task = async move {
		let mut finalized = client.finality_notification_stream();
		while let Some(note) = finalized.next().await {
			for hash in note.tree_route.iter().chain(core::iter::once(&note.hash)) {
				if let Err(e) = counters(&*client, &metrics, *hash) {
					metrics.errors.with_label_values(&["events"]).inc();
					log::warn!(target: "margincall::metrics", "events of {hash}: {e}");
				}
			}
			metrics.finalized_block.set((*note.header.number()).into());
		}
	};
	Ok(vec![
		("margincall-metrics-gauges", gauge_task.boxed()),
		("margincall-metrics-counters", counter_task.boxed()),
	])
}

/// The key of the storage value `item` of `pallet`.
fn value_key(pallet: &str, item: &str) -> Vec<u8> {
	[sp_core::twox_128(pallet.as_bytes()), sp_core::twox_128(item.as_bytes())].concat()
}

/// The raw storage value at `key` in block `at`.
fn read<C, BE>(client: &C, at: Hash, key: Vec<u8>) -> Option<Vec<u8>>
where
	BE: sc_client_api::Backend<Block> + 'static,
	C: StorageProvider<Block, BE>,
{
	client.storage(at, &StorageKey(key)).ok().flatten().map(|d| d.0)
}

/// Counts the liquidations of block `at` from its events.
fn counters<C, BE>(client: &C, m: &Metrics, at: Hash) -> Result<(), String>
where
	BE: sc_client_api::Backend<Block> + 'static,
	C: ProvideRuntimeApi<Block> + StorageProvider<Block, BE> + HeaderBackend<Block>,
	C: BlockBackend<Block>,
	C::Api: LiquidationApi<Block, AccountId, AssetId> + BreakerApi<Block, AssetId>,
{
	let events = read(client, at, value_key("System", "Events"))
		.and_then(|raw| {
			Vec::<frame_system::EventRecord<RuntimeEvent, sp_core::H256>>::decode(&mut &raw[..])
				.ok()
		})
		.ok_or("events undecodable (a runtime newer than the node?)")?;
	// Debt assets of the auctions taken in this block: started in it, or live before it.
	let mut auctions: Vec<(u32, AssetId)> = events
		.iter()
		.filter_map(|r| match &r.event {
			RuntimeEvent::Liquidation(pallet_liquidation::Event::AuctionStarted {
				id,
				debt_asset,
				..
			}) => Some((*id, *debt_asset)),
			_ => None,
		})
		.collect();
	let mut read_live = false;
	// The block's extrinsics that are `settle_after_feed` (read once, if anything settled).
	let mut after_feed: Option<BTreeSet<u32>> = None;
	for record in events {
		let RuntimeEvent::Liquidation(event) = record.event else { continue };
		if let (pallet_liquidation::Event::Settled { .. }, frame_system::Phase::ApplyExtrinsic(i)) =
			(&event, &record.phase)
		{
			let indices = match &mut after_feed {
				Some(indices) => indices,
				None => after_feed.insert(settlements_after_feed(client, at)?),
			};
			if indices.contains(i) {
				m.same_block.inc();
			}
		}
		use pallet_liquidation::Event as E;
		let (route, repaid) = match event {
			E::Liquidated { debt_asset, repaid, .. } => ("keeper", Some((debt_asset, repaid))),
			E::Settled { debt_asset, repaid, route, .. } => {
				let route = match route {
					Route::Dex => "dex",
					Route::Backstop { .. } => "backstop",
					Route::Auction { .. } => "auction",
					Route::Net => "net",
					Route::Bids { .. } => "bids",
				};
				(route, Some((debt_asset, repaid)))
			},
			// Its debt is repaid by the takes.
			E::AuctionStarted { .. } => ("auction", None),
			E::AuctionTaken { id, paid, .. } => {
				if !auctions.iter().any(|(i, _)| *i == id) && !read_live {
					read_live = true;
					// A fresh API instance: one instance serves one block.
					let parent = client
						.header(at)
						.ok()
						.flatten()
						.map(|h| h.parent_hash)
						.ok_or("no header")?;
					let live = client.runtime_api().auctions(parent).map_err(|e| e.to_string())?;
					auctions.extend(live.into_iter().map(|s| (s.id, s.auction.debt_asset)));
				}
				let asset = auctions.iter().find(|(i, _)| *i == id).map(|(_, a)| *a);
				("auction_take", asset.map(|a| (a, paid)))
			},
			_ => continue,
		};
		m.liquidations.with_label_values(&[route]).inc();
		if let Some((asset, amount)) = repaid {
			m.debt_repaid.with_label_values(&[&asset.to_string()]).inc_by(tokens(amount));
		}
	}
	Ok(())
}

/// The indices of block `at`'s extrinsics that call `liquidation.settle_after_feed`.
fn settlements_after_feed<C: BlockBackend<Block>>(
	client: &C,
	at: Hash,
) -> Result<BTreeSet<u32>, String> {
	use codec::Encode;
	let body = client.block_body(at).map_err(|e| e.to_string())?.ok_or("no block body")?;
	let mut indices = BTreeSet::new();
	for (i, xt) in body.iter().enumerate() {
		// The runtime's own view of the bytes (an opaque extrinsic encodes as the real one).
		let Ok(xt) = margincall_runtime::UncheckedExtrinsic::decode(&mut &xt.encode()[..]) else {
			return Err("an extrinsic undecodable (a runtime newer than the node?)".into());
		};
		if matches!(
			xt.function,
			margincall_runtime::RuntimeCall::Liquidation(
				pallet_liquidation::Call::settle_after_feed { .. }
			)
		) {
			indices.insert(u32::try_from(i).map_err(|e| e.to_string())?);
		}
	}
	Ok(indices)
}

/// Reads block `at` and sets the gauges.
fn gauges<C, BE>(client: &C, m: &Metrics, at: Hash) -> Result<(), String>
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

	// Insurance, bad debt, breaker levels, oracle prices and their age.
	let now = read(client, at, value_key("Timestamp", "Now"))
		.and_then(|raw| u64::decode(&mut &raw[..]).ok())
		.ok_or("no timestamp")?;
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
