//! The runtime, natively, from the `development` preset's genesis: blocks built through
//! `Executive` with real signed extrinsics.

use codec::Encode;
use frame_support::{
	assert_ok,
	traits::{fungibles::Inspect as _, Get},
};
use margincall_runtime::{
	assets::{MEME, USDM, XBTC},
	configs::Price,
	genesis_config_presets, AccountId, AssetConversion, AssetKind, Assets, Balances, Block,
	Executive, Header, Oracle, Runtime, RuntimeCall, RuntimeEvent, RuntimeGenesisConfig,
	SignedPayload, System, TxExtension, UncheckedExtrinsic, SLOT_DURATION, UNIT,
};
use serde_json::Value;
use sp_consensus_aura::{Slot, AURA_ENGINE_ID};
use sp_keyring::Sr25519Keyring;
use sp_runtime::{
	generic::{Digest, DigestItem, Era},
	traits::{Block as BlockT, Header as HeaderT},
	ApplyExtrinsicResult, DispatchError,
};

mod oracle;

/// An oracle feed of `values` (signed by a feeder in the tests).
fn feed(values: Vec<(u32, Price)>) -> RuntimeCall {
	RuntimeCall::Oracle(orml_oracle::Call::feed_values {
		values: frame_support::BoundedVec::truncate_from(values),
	})
}

/// Genesis time of the tests: 2026-01-01 (ms), a multiple of the slot duration.
const T0: u64 = 1_767_225_600_000;

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

/// Externalities holding the genesis state of `preset`, as the node builds it: the preset's
/// patch merged over the default config, then every pallet's genesis build.
fn genesis(preset: &str) -> sp_io::TestExternalities {
	let patch: Value = serde_json::from_slice(
		&genesis_config_presets::get_preset(&preset.into()).expect("preset exists"),
	)
	.unwrap();
	let mut config = serde_json::to_value(RuntimeGenesisConfig::default()).unwrap();
	merge(&mut config, patch);
	let json = serde_json::to_vec(&config).unwrap();
	let mut ext = sp_io::TestExternalities::new_empty();
	ext.execute_with(|| {
		frame_support::genesis_builder_helper::build_state::<RuntimeGenesisConfig>(json)
			.expect("genesis builds");
	});
	ext
}

fn account(k: Sr25519Keyring) -> AccountId {
	k.to_account_id()
}

/// A signed, immortal extrinsic from `who` with its current nonce.
fn signed(who: Sr25519Keyring, call: RuntimeCall) -> UncheckedExtrinsic {
	signed_with_tip(who, call, 0)
}

fn signed_with_tip(who: Sr25519Keyring, call: RuntimeCall, tip: u128) -> UncheckedExtrinsic {
	let nonce = System::account_nonce(account(who));
	let ext: TxExtension = (
		frame_system::CheckNonZeroSender::<Runtime>::new(),
		frame_system::CheckSpecVersion::<Runtime>::new(),
		frame_system::CheckTxVersion::<Runtime>::new(),
		frame_system::CheckGenesis::<Runtime>::new(),
		frame_system::CheckEra::<Runtime>::from(Era::Immortal),
		frame_system::CheckNonce::<Runtime>::from(nonce),
		frame_system::CheckWeight::<Runtime>::new(),
		margincall_runtime::priority::BandedTransactionPayment::from(tip),
		frame_metadata_hash_extension::CheckMetadataHash::<Runtime>::new(false),
		frame_system::WeightReclaim::<Runtime>::new(),
	);
	let payload = SignedPayload::new(call.clone(), ext.clone()).expect("payload builds");
	let signature = payload.using_encoded(|p| who.sign(p));
	UncheckedExtrinsic::new_signed(call, account(who).into(), signature.into(), ext)
}

/// Builds the next block through `Executive`: Aura pre-digest, the timestamp inherent, then
/// `xts`, returning each extrinsic's result.
fn block(xts: Vec<UncheckedExtrinsic>) -> Vec<ApplyExtrinsicResult> {
	let number = System::block_number() + 1;
	let now = T0 + SLOT_DURATION * number as u64;
	let slot = Slot::from(now / SLOT_DURATION);
	let digest = Digest { logs: vec![DigestItem::PreRuntime(AURA_ENGINE_ID, slot.encode())] };
	// The parent's hash as genesis recorded it: signed payloads commit to the genesis hash.
	let parent = System::block_hash(number - 1);
	let header = Header::new(number, Default::default(), Default::default(), parent, digest);
	Executive::initialize_block(&header);
	let timestamp =
		UncheckedExtrinsic::new_bare(RuntimeCall::Timestamp(pallet_timestamp::Call::set { now }));
	assert_ok!(Executive::apply_extrinsic(timestamp).expect("inherent applies"));
	let results = xts.into_iter().map(Executive::apply_extrinsic).collect();
	let header = Executive::finalize_block();
	assert_eq!(*header.number(), number);
	results
}

/// Every pallet's `try_state` (the runtime's tests build it with `try-runtime`: see the
/// self dev-dependency in `runtime/Cargo.toml`).
fn try_state_all() -> Result<(), sp_runtime::TryRuntimeError> {
	use frame_support::traits::{TryState, TryStateSelect};
	<margincall_runtime::AllPalletsWithSystem as TryState<u32>>::try_state(
		System::block_number(),
		TryStateSelect::All,
	)
}

fn every_try_state() {
	try_state_all().expect("every pallet's try_state holds");
}

fn events() -> Vec<RuntimeEvent> {
	System::events().into_iter().map(|r| r.event).collect()
}

fn asset_balance(asset: u32, who: &AccountId) -> u128 {
	Assets::balance(asset, who)
}

#[test]
fn development_genesis_has_assets_pools_feeders_and_prices() {
	genesis("development").execute_with(|| {
		let alice = account(Sr25519Keyring::Alice);
		for id in [USDM, XBTC, MEME] {
			assert!(Assets::asset_exists(id), "asset {id} exists");
			assert!(asset_balance(id, &alice) > 0);
		}
		let (usdm, xbtc) =
			AssetConversion::get_reserves(AssetKind::WithId(USDM), AssetKind::WithId(XBTC))
				.expect("USDM/XBTC pool exists");
		assert_eq!((usdm, xbtc), (1_200_000 * UNIT, 20 * UNIT));
		assert!(
			AssetConversion::get_reserves(AssetKind::WithId(USDM), AssetKind::WithId(MEME)).is_ok()
		);
		let feeders = pallet_membership::Members::<Runtime, pallet_membership::Instance1>::get();
		assert!(feeders.contains(&alice));
		assert_eq!(
			Oracle::get(&XBTC).map(|v| v.value),
			Some(Price::from_u32(60_000)),
			"reference price seeded"
		);
		// The insurance treasury holds USDM; MEME is seized before XBTC.
		let treasury = margincall_runtime::Liquidation::insurance_account();
		assert_eq!(asset_balance(USDM, &treasury), genesis_config_presets::INSURANCE_USDM);
		assert_eq!(pallet_liquidation::RiskRank::<Runtime>::get(MEME), 2);
		assert_eq!(pallet_liquidation::RiskRank::<Runtime>::get(XBTC), 1);
		every_try_state();
	})
}

#[test]
fn local_testnet_genesis_builds() {
	genesis("local_testnet").execute_with(|| {
		// Four: one may fail and GRANDPA (more than 2/3 of the voters) still finalizes.
		assert_eq!(pallet_aura::Authorities::<Runtime>::get().len(), 4);
		assert_eq!(pallet_grandpa::Authorities::<Runtime>::get().len(), 4);
	})
}

/// The feed quorum per chain spec: one feeder sets a price on the development chain; on the
/// local test network a price needs two fresh feeders (one alone leaves the old price).
#[test]
fn a_price_needs_the_chain_specs_quorum_of_fresh_feeders() {
	let feed = |who, xbtc: u32| signed(who, feed(vec![(XBTC, Price::from_u32(xbtc))]));
	let combined = || <Oracle as orml_traits::DataProvider<u32, Price>>::get(&XBTC);
	genesis("development").execute_with(|| {
		assert_eq!(margincall_runtime::Breaker::feed_quorum(), 1);
		block(vec![]);
		assert_ok!(block(vec![feed(Sr25519Keyring::Alice, 61_000)])[0].expect("valid"));
		assert_eq!(combined(), Some(Price::from_u32(61_000)));
	});
	genesis("local_testnet").execute_with(|| {
		assert_eq!(margincall_runtime::Breaker::feed_quorum(), 2);
		block(vec![]);
		let before = combined();
		assert_ok!(block(vec![feed(Sr25519Keyring::Alice, 61_000)])[0].expect("valid"));
		assert_eq!(combined(), before, "one feeder alone moves nothing");
		assert_ok!(block(vec![feed(Sr25519Keyring::Bob, 61_000)])[0].expect("valid"));
		assert_eq!(combined(), Some(Price::from_u32(61_000)));
	});
}

#[test]
fn a_signed_transfer_moves_the_balance() {
	genesis("development").execute_with(|| {
		let (alice, bob) = (account(Sr25519Keyring::Alice), account(Sr25519Keyring::Bob));
		let bob_before = Balances::free_balance(&bob);
		let amount = 1_234 * UNIT;
		let call = RuntimeCall::Balances(pallet_balances::Call::transfer_keep_alive {
			dest: bob.clone().into(),
			value: amount,
		});
		let results = block(vec![signed(Sr25519Keyring::Alice, call)]);
		assert_ok!(results[0].expect("valid"));
		assert_eq!(Balances::free_balance(&bob), bob_before + amount);
		assert!(events().contains(&RuntimeEvent::Balances(pallet_balances::Event::Transfer {
			from: alice,
			to: bob,
			amount
		})));
	})
}

#[test]
fn members_feed_the_oracle_and_others_are_refused() {
	genesis("development").execute_with(|| {
		let price = Price::from_u32(61_000);
		let values = frame_support::BoundedVec::truncate_from(vec![(XBTC, price)]);
		let feed = RuntimeCall::Oracle(orml_oracle::Call::feed_values { values });
		let dave = account(Sr25519Keyring::Dave);
		let dave_before = Balances::free_balance(&dave);
		let results = block(vec![
			signed(Sr25519Keyring::Alice, feed.clone()),
			signed(Sr25519Keyring::Dave, feed),
		]);
		assert_ok!(results[0].expect("valid"));
		// A stranger's feed is no transaction at all (was: included, failing `NoPermission`
		// after paying a fee, with the feeds' priority).
		assert_eq!(
			results[1],
			Err(sp_runtime::transaction_validity::InvalidTransaction::BadSigner.into())
		);
		assert_eq!(Balances::free_balance(&dave), dave_before);
		let fed = Oracle::get(&XBTC).expect("price");
		assert_eq!(fed.value, price);
		assert_eq!(fed.timestamp, T0 + SLOT_DURATION);
	})
}

#[test]
fn a_dex_swap_pays_the_constant_product_quote() {
	genesis("development").execute_with(|| {
		let bob = account(Sr25519Keyring::Bob);
		let (usdm, xbtc) = (AssetKind::WithId(USDM), AssetKind::WithId(XBTC));
		let (reserve_in, reserve_out) =
			AssetConversion::get_reserves(usdm.clone(), xbtc.clone()).unwrap();
		let amount_in = 6_000 * UNIT;
		// Uniswap v2 with a 0.3% fee, in integers.
		let lp_fee: u32 = <Runtime as pallet_asset_conversion::Config>::LPFee::get();
		let with_fee = amount_in * (1000 - lp_fee as u128);
		let expected = with_fee * reserve_out / (reserve_in * 1000 + with_fee);
		assert_eq!(
			AssetConversion::quote_price_exact_tokens_for_tokens(
				usdm.clone(),
				xbtc.clone(),
				amount_in,
				true
			),
			Some(expected)
		);
		let usdm_before = asset_balance(USDM, &bob);
		let xbtc_before = asset_balance(XBTC, &bob);
		let call = RuntimeCall::AssetConversion(
			pallet_asset_conversion::Call::swap_exact_tokens_for_tokens {
				path: vec![Box::new(usdm), Box::new(xbtc)],
				amount_in,
				amount_out_min: expected,
				send_to: bob.clone(),
				keep_alive: false,
			},
		);
		let results = block(vec![signed(Sr25519Keyring::Bob, call)]);
		assert_ok!(results[0].expect("valid"));
		assert_eq!(asset_balance(USDM, &bob), usdm_before - amount_in);
		assert_eq!(asset_balance(XBTC, &bob), xbtc_before + expected);
		assert!(events().iter().any(|e| matches!(
			e,
			RuntimeEvent::AssetConversion(pallet_asset_conversion::Event::SwapExecuted {
				amount_in: i, amount_out: o, ..
			}) if *i == amount_in && *o == expected
		)));
	})
}

#[test]
fn new_assets_take_consecutive_ids_from_genesis_next_asset_id() {
	genesis("development").execute_with(|| {
		let bob = account(Sr25519Keyring::Bob);
		let create = |id: u32| {
			RuntimeCall::Assets(pallet_assets::Call::create {
				id: id.into(),
				admin: bob.clone().into(),
				min_balance: 1,
			})
		};
		let results = block(vec![
			signed(Sr25519Keyring::Bob, create(100)),
			signed(Sr25519Keyring::Charlie, create(7)),
		]);
		assert_ok!(results[0].expect("valid"));
		assert_eq!(
			results[1].expect("valid"),
			Err(DispatchError::from(
				pallet_assets::Error::<Runtime, pallet_assets::Instance1>::BadAssetId
			))
		);
		let results = block(vec![signed(Sr25519Keyring::Bob, create(101))]);
		assert_ok!(results[0].expect("valid"));
		assert!(Assets::asset_exists(100) && Assets::asset_exists(101));
	})
}

#[test]
fn block_type_is_the_runtime_block() {
	// Guards the re-exports the node relies on.
	fn is_block<B: BlockT>() {}
	is_block::<Block>();
}

/// Lending through `Executive` on the real runtime: feeders feed, a supplier supplies, a
/// borrower borrows against fresh prices; a borrower asset created by an ordinary account
/// cannot get a market; then the market's parameters change by root and a risky borrow fails.
#[test]
fn lending_through_executive() {
	genesis("development").execute_with(|| {
		use margincall_runtime::Lending;
		let (dave, eve) = (account(Sr25519Keyring::Dave), account(Sr25519Keyring::Eve));
		let pallet = Lending::account_id();
		// Genesis: assets owned by the keyless governance account, each market's reserve floor
		// paid by the market maker, so the pallet account holds exactly the minimum balances.
		let gov = margincall_runtime::governance::asset_governance_account();
		for (id, min) in [(USDM, 1_000_000), (XBTC, 1_000), (MEME, 1_000_000)] {
			assert_eq!(
				pallet_assets::Asset::<Runtime, pallet_assets::Instance1>::get(id).unwrap().owner,
				gov
			);
			assert_eq!(asset_balance(id, &pallet), min);
			assert_eq!(Lending::market_info(&id).unwrap().reserves, min);
		}
		let prices = frame_support::BoundedVec::truncate_from(vec![
			(USDM, Price::from_u32(1)),
			(XBTC, Price::from_u32(60_000)),
		]);
		let lending = |c| RuntimeCall::Lending(c);
		let results = block(vec![
			signed(
				Sr25519Keyring::Alice,
				RuntimeCall::Oracle(orml_oracle::Call::feed_values { values: prices }),
			),
			signed(
				Sr25519Keyring::Dave,
				lending(pallet_lending::Call::supply { asset: USDM, amount: 100_000 * UNIT }),
			),
			signed(
				Sr25519Keyring::Eve,
				lending(pallet_lending::Call::supply { asset: XBTC, amount: UNIT }),
			),
		]);
		for r in results {
			assert_ok!(r.expect("valid"));
		}
		let usdm_before = asset_balance(USDM, &eve);
		let results = block(vec![
			signed(
				Sr25519Keyring::Eve,
				lending(pallet_lending::Call::borrow { asset: USDM, amount: 30_000 * UNIT }),
			),
			// 50 USDM: below the market's 100 USD minimum borrow.
			signed(
				Sr25519Keyring::Dave,
				lending(pallet_lending::Call::borrow { asset: USDM, amount: 50 * UNIT }),
			),
		]);
		assert_ok!(results[0].expect("valid"));
		assert_eq!(
			results[1].expect("valid"),
			Err(pallet_lending::Error::<Runtime>::BorrowTooSmall.into())
		);
		assert_eq!(asset_balance(USDM, &eve), usdm_before + 30_000 * UNIT);
		assert!(events().contains(&RuntimeEvent::Lending(pallet_lending::Event::Borrowed {
			who: eve.clone(),
			asset: USDM,
			amount: 30_000 * UNIT,
			shares: 30_000 * UNIT,
		})));
		let health = Lending::account_health(&eve).expect("fresh prices");
		// 1 XBTC at 60,000 × 78% against 30,000 of debt.
		assert_eq!(health.liquidation_value, 46_800 * UNIT);
		assert!(!health.is_liquidatable());
		assert_eq!(
			margincall_runtime::Lending::positions_info(&dave).unwrap()[0].supplied,
			100_000 * UNIT
		);
		// An asset whose admin is an ordinary account gets no market, even by root.
		let results = block(vec![signed(
			Sr25519Keyring::Bob,
			RuntimeCall::Assets(pallet_assets::Call::create {
				id: 100.into(),
				admin: account(Sr25519Keyring::Bob).into(),
				min_balance: 1,
			}),
		)]);
		assert_ok!(results[0].expect("valid"));
		let params = genesis_config_presets::markets()[0].1;
		assert_eq!(
			Lending::create_market(frame_system::RawOrigin::Root.into(), 100, params),
			Err(pallet_lending::Error::<Runtime>::UntrustedAssetRoles.into())
		);
		Lending::do_try_state().expect("lending invariants hold");
		every_try_state();
	})
}

/// The development chain with offchain storage and a test transaction pool: Eve falls below
/// health 1 ([`eve_below_one`]), the runtime's offchain worker runs on the last block, and
/// `test` gets Eve, that block's header and the extrinsics the worker put in the pool.
fn after_the_drop_the_worker_runs(test: impl FnOnce(AccountId, Header, Vec<UncheckedExtrinsic>)) {
	use sp_core::offchain::{
		testing::{TestOffchainExt, TestTransactionPoolExt},
		OffchainDbExt, OffchainWorkerExt, TransactionPoolExt,
	};
	let mut ext = genesis("development");
	let (offchain, _state) = TestOffchainExt::new();
	let (pool, pool_state) = TestTransactionPoolExt::new();
	ext.register_extension(OffchainDbExt::new(offchain.clone()));
	ext.register_extension(OffchainWorkerExt::new(offchain));
	ext.register_extension(TransactionPoolExt::new(pool));
	ext.execute_with(|| {
		use codec::Decode;
		let eve = eve_below_one();
		let number = System::block_number();
		let parent = System::block_hash(number - 1);
		let header =
			Header::new(number, Default::default(), Default::default(), parent, Default::default());
		Executive::offchain_worker(&header);
		let txs = core::mem::take(&mut pool_state.write().transactions);
		let txs = txs
			.iter()
			.map(|tx| UncheckedExtrinsic::decode(&mut &tx[..]).expect("an extrinsic"))
			.collect();
		test(eve, header, txs);
	})
}

/// The node's offchain worker on the real runtime: after the drop it submits Eve's settlement
/// as an unsigned batch, the runtime's transaction validation accepts it in the
/// liquidation band, and the next block settles her through the DEX.
#[test]
fn the_offchain_worker_settles_through_the_pool() {
	after_the_drop_the_worker_runs(|eve, header, txs| {
		use margincall_runtime::{Lending, Liquidation};
		use sp_runtime::transaction_validity::TransactionSource;
		assert_eq!(txs.len(), 1, "one settlement submitted");
		let xt = txs[0].clone();
		// A batch of one: Eve.
		assert!(
			matches!(
				&xt.function,
				RuntimeCall::Liquidation(pallet_liquidation::Call::settle_batch_unsigned {
					borrowers,
					witness: pallet_liquidation::BatchWitness { pairs: 1, .. },
					..
				}) if borrowers.to_vec() == vec![eve.clone()]
			),
			"{:?}",
			xt.function
		);
		let valid =
			Executive::validate_transaction(TransactionSource::Local, xt.clone(), header.hash())
				.expect("valid");
		assert_eq!(
			valid.priority,
			<margincall_runtime::configs::LiquidationUnsignedPriority as Get<u64>>::get()
		);
		let results = block(vec![xt]);
		assert_ok!(results[0].expect("valid"));
		let treasury = Liquidation::insurance_account();
		assert!(events().iter().any(|e| matches!(
			e,
			RuntimeEvent::Liquidation(pallet_liquidation::Event::Settled { borrower, caller, route, .. })
				if borrower == &eve && caller == &treasury && *route == pallet_liquidation::Route::Dex
		)));
		let after = Lending::account_health(&eve).unwrap();
		assert!(after.factor >= Price::from_rational(105, 100), "{after:?}");
		// The index follows: nothing is below 1 any more.
		assert_eq!(Liquidation::liquidatable(None, 100), (vec![], None));
		every_try_state();
	})
}

/// The pool's priority bands on the real runtime: an oracle feed above the offchain worker's
/// settlement, the settlement above any signed transaction however large its tip (the tip
/// would outbid it without the cap), a larger tip still above a smaller one below the cap.
#[test]
fn priority_bands_hold_against_a_large_tip() {
	after_the_drop_the_worker_runs(|_eve, header, txs| {
		use frame_support::dispatch::GetDispatchInfo;
		use margincall_runtime::priority::{signed_priority_cap, ORACLE_FEED_PRIORITY};
		use sp_runtime::transaction_validity::TransactionSource;
		let settlement = txs[0].clone();
		let priority = |xt: UncheckedExtrinsic| {
			Executive::validate_transaction(TransactionSource::External, xt, header.hash())
				.expect("valid")
				.priority
		};
		let transfer = RuntimeCall::Balances(pallet_balances::Call::transfer_keep_alive {
			dest: account(Sr25519Keyring::Ferdie).into(),
			value: UNIT,
		});
		let feed = feed(vec![(XBTC, Price::from_u32(50_000))]);
		let whale_tip = 10_000 * UNIT;
		let p_feed = priority(signed(Sr25519Keyring::Alice, feed));
		// The worker's settlement is valid from the local node only (its own worker): from the
		// network it is refused before anything is read.
		assert!(Executive::validate_transaction(
			TransactionSource::External,
			settlement.clone(),
			header.hash()
		)
		.is_err());
		let p_settle =
			Executive::validate_transaction(TransactionSource::Local, settlement, header.hash())
				.expect("valid")
				.priority;
		let p_whale = priority(signed_with_tip(Sr25519Keyring::Dave, transfer.clone(), whale_tip));
		let p_small =
			priority(signed_with_tip(Sr25519Keyring::Bob, transfer.clone(), UNIT / 1_000));
		let p_plain = priority(signed(Sr25519Keyring::Ferdie, transfer.clone()));
		assert_eq!(p_feed, ORACLE_FEED_PRIORITY);
		assert_eq!(p_settle, signed_priority_cap() + 1);
		assert_eq!(p_whale, signed_priority_cap());
		assert!(p_feed > p_settle && p_settle > p_whale && p_whale > p_small && p_small > p_plain);
		// What the tip would have bought without the band: more than the settlement.
		let xt = signed_with_tip(Sr25519Keyring::Dave, transfer.clone(), whale_tip);
		let uncapped =
			pallet_transaction_payment::ChargeTransactionPayment::<Runtime>::get_priority(
				&transfer.get_dispatch_info(),
				xt.encoded_size(),
				whale_tip,
				0,
			);
		assert!(uncapped > p_settle, "{uncapped} vs {p_settle}");
	})
}

/// Liquidation on the real runtime (assets, DEX, oracle, lending, liquidation) through
/// `Executive`: a borrower near its limit, the feeders drop XBTC, anyone calls `settle`; the
/// pool, the borrower's debt and health and the insurance treasury move by exactly what the
/// `Settled` event reports.
/// Eve borrows 40,000 USDM against 1 XBTC at 60,000 (refused a settlement while healthy),
/// then the feeders drop XBTC to 50,000: 1 XBTC × 78% = 39,000 against 40,000 of debt.
///
/// The DEX pool still prices XBTC at 60,000 (above the oracle: no halt) and the drop is a
/// fast price, which the breaker's default triggers throttle. These tests are about the
/// routes, so the breaker's triggers are set out of reach first;
/// [`a_dex_above_the_oracle_is_sold_into_and_one_dumped_below_it_for_three_blocks_halts`]
/// keeps the defaults.
fn eve_below_one() -> AccountId {
	let mut params = levels_out_of_reach();
	params.jump = sp_runtime::Permill::one();
	assert_ok!(margincall_runtime::Breaker::set_breaker_params(
		margincall_runtime::RuntimeOrigin::root(),
		params
	));
	eve_below_one_breaker_on()
}

/// The breaker's parameters in force with every level trigger out of reach (the oracle guard
/// as it is).
fn levels_out_of_reach() -> pallet_breaker::BreakerParams {
	let mut params = pallet_breaker::LevelParams::<Runtime>::get();
	let out_of_reach = pallet_breaker::Triggers {
		volatility: Price::from_u32(1_000_000),
		moved: sp_runtime::Permill::one(),
		divergence: sp_runtime::Permill::one(),
	};
	params.throttle = out_of_reach;
	params.halt = pallet_breaker::HaltTrigger {
		divergence: sp_runtime::Permill::one(),
		blocks: pallet_breaker::levels::HALT_BLOCKS_RANGE.1,
	};
	params
}

/// [`eve_below_one`] with the breaker's default triggers.
fn eve_below_one_breaker_on() -> AccountId {
	let eve = account(Sr25519Keyring::Eve);
	let feed = |xbtc: u32| feed(vec![(USDM, Price::from_u32(1)), (XBTC, Price::from_u32(xbtc))]);
	let lending = |c| RuntimeCall::Lending(c);
	let results = block(vec![
		signed(Sr25519Keyring::Alice, feed(60_000)),
		signed(
			Sr25519Keyring::Dave,
			lending(pallet_lending::Call::supply { asset: USDM, amount: 100_000 * UNIT }),
		),
		signed(
			Sr25519Keyring::Eve,
			lending(pallet_lending::Call::supply { asset: XBTC, amount: UNIT }),
		),
	]);
	for r in results {
		assert_ok!(r.expect("valid"));
	}
	let results = block(vec![signed(
		Sr25519Keyring::Eve,
		lending(pallet_lending::Call::borrow { asset: USDM, amount: 40_000 * UNIT }),
	)]);
	assert_ok!(results[0].expect("valid"));
	let settle =
		RuntimeCall::Liquidation(pallet_liquidation::Call::settle { borrower: eve.clone().into() });
	let results = block(vec![signed(Sr25519Keyring::Bob, settle)]);
	assert_eq!(
		results[0].expect("valid"),
		Err(pallet_liquidation::Error::<Runtime>::NotLiquidatable.into())
	);
	let results = block(vec![signed(Sr25519Keyring::Alice, feed(50_000))]);
	for r in results {
		assert_ok!(r.expect("valid"));
	}
	eve
}

#[test]
fn a_price_drop_then_settle_through_the_dex() {
	genesis("development").execute_with(|| {
		use margincall_runtime::{Lending, Liquidation};
		use pallet_lending::LendingPositions;
		let eve = eve_below_one();
		let bob = account(Sr25519Keyring::Bob);
		let settle = RuntimeCall::Liquidation(pallet_liquidation::Call::settle {
			borrower: eve.clone().into(),
		});
		let health = Lending::account_health(&eve).unwrap();
		assert!(health.is_liquidatable(), "{health:?}");
		// The risk index (kept through the lending pallet's hook) reports her, and only her.
		assert_eq!(
			Liquidation::liquidatable(None, 100),
			(vec![(eve.clone(), health.factor)], None)
		);
		let preview = Liquidation::do_preview(&eve).expect("liquidatable");
		assert_eq!(preview.route, Ok(pallet_liquidation::Route::Dex));
		let treasury = Liquidation::insurance_account();
		let (usdm, xbtc) = (AssetKind::WithId(USDM), AssetKind::WithId(XBTC));
		let pool_before = AssetConversion::get_reserves(usdm.clone(), xbtc.clone()).unwrap();
		let bob_xbtc = asset_balance(XBTC, &bob);
		let bob_supply = Lending::supplied(&bob, &XBTC).unwrap();

		let results = block(vec![signed(Sr25519Keyring::Bob, settle)]);
		assert_ok!(results[0].expect("valid"));

		let settled = events()
			.into_iter()
			.find_map(|e| match e {
				RuntimeEvent::Liquidation(e @ pallet_liquidation::Event::Settled { .. }) => Some(e),
				_ => None,
			})
			.expect("settled");
		let pallet_liquidation::Event::Settled {
			route,
			repaid,
			collateral_due,
			sold,
			to_insurance,
			tip,
			returned,
			..
		} = settled
		else {
			unreachable!()
		};
		assert_eq!(route, pallet_liquidation::Route::Dex);
		assert_eq!(sold + to_insurance + tip + returned, collateral_due);
		// The pool paid the debt and took the collateral sold.
		let pool_after = AssetConversion::get_reserves(usdm, xbtc).unwrap();
		assert_eq!(pool_after, (pool_before.0 - repaid, pool_before.1 + sold));
		// The insurance treasury holds its share as XBTC supply; the caller got the tip, also
		// as supply.
		assert_eq!(Lending::supplied(&treasury, &XBTC).unwrap(), to_insurance);
		assert_eq!(Lending::supplied(&bob, &XBTC).unwrap(), bob_supply + tip);
		assert!(tip > 0);
		assert_eq!(asset_balance(XBTC, &bob), bob_xbtc);
		// The borrower is back above the target health 1.05, not far above it (a little, as
		// the pool still priced XBTC above the oracle: what the sale saved beyond the discount
		// stays with the borrower).
		let after = Lending::account_health(&eve).unwrap();
		assert!(after.factor >= Price::from_rational(105, 100), "{after:?}");
		assert!(after.factor < Price::from_rational(115, 100), "{after:?}");
		assert!(Lending::debt(&eve, &USDM).unwrap() < 40_000 * UNIT - repaid + UNIT);
		// The working account is empty.
		let working = Liquidation::account_id();
		assert_eq!((asset_balance(USDM, &working), asset_balance(XBTC, &working)), (0, 0));
		Lending::do_try_state().expect("lending invariants hold");
		Liquidation::do_try_state().expect("liquidation invariants hold");
		every_try_state();
	})
}

/// The runtime's `try_state` reaches our pallets: a broken lending total and invalid
/// liquidation parameters are both caught.
#[test]
fn the_runtime_try_state_catches_broken_invariants() {
	let all = try_state_all;
	genesis("development").execute_with(|| {
		assert!(all().is_ok());
		pallet_lending::Markets::<Runtime>::mutate(USDM, |m| {
			m.as_mut().unwrap().state.total_scaled_supply += 1
		});
		assert!(all().is_err(), "a broken lending total is caught");
	});
	genesis("development").execute_with(|| {
		let bad = pallet_liquidation::LiquidationParams {
			target_health: Price::from_u32(3),
			..margincall_runtime::configs::default_params()
		};
		pallet_liquidation::Params::<Runtime>::put(bad);
		assert!(all().is_err(), "invalid liquidation parameters are caught");
	});
}

/// The breaker on the real runtime: the three feeders' feeds of a block (the local test
/// network's: the development chain has one) are one sample of the oracle's combined (median)
/// price, taken at the end of the block; the estimate follows the log returns between blocks.
#[test]
fn the_breaker_samples_the_combined_price_once_a_block() {
	genesis("local_testnet").execute_with(|| {
		use margincall_runtime::Breaker;
		let feed =
			|who: Sr25519Keyring, xbtc: u32| signed(who, feed(vec![(XBTC, Price::from_u32(xbtc))]));
		use Sr25519Keyring::{Alice, Bob, Charlie};
		// Block 1 samples genesis's seeded references; block 2 the median of 60,000, 61,000,
		// 59,000: 60,000.
		block(vec![]);
		for r in block(vec![feed(Alice, 60_000), feed(Bob, 61_000), feed(Charlie, 59_000)]) {
			assert_ok!(r.expect("valid"));
		}
		let first = pallet_breaker::Volatility::<Runtime>::get(XBTC).expect("sampled");
		assert_eq!(first.price, Price::from_u32(60_000));
		// Block 3: the median moves to 57,000 (−5%, within the oracle guard's jump, through
		// 59,000 after the first feed of the block): one return over one 6 s block.
		for r in block(vec![feed(Alice, 57_000), feed(Bob, 57_000), feed(Charlie, 70_000)]) {
			assert_ok!(r.expect("valid"));
		}
		let after = pallet_breaker::Volatility::<Runtime>::get(XBTC).expect("sampled");
		assert_eq!(after.price, Price::from_u32(57_000));
		assert_eq!(after.samples, first.samples + 1);
		assert_eq!(after.at - first.at, SLOT_DURATION);
		let r = (0.95f64).ln();
		let tau = pallet_breaker::vol::tau(3_600) as f64;
		let want = (first.variance.into_inner() as f64 / 1e18 * tau + r * r) / (tau + 6.0);
		let got = after.variance.into_inner() as f64 / 1e18;
		assert!((got - want).abs() < want * 1e-9, "{got} vs {want}");
		let view = Breaker::volatility(XBTC).expect("reported");
		assert!(view.annualised > Price::from_u32(1), "a 5% move a block is wild: {view:?}");
		assert!(events().iter().any(|e| matches!(
			e,
			RuntimeEvent::Breaker(pallet_breaker::Event::VolatilityUpdated { asset, .. }) if *asset == XBTC
		)));
		every_try_state();
	})
}

/// Bob sells 5 XBTC into the pool (20 XBTC against 1.2 M USDM: its spot falls to ≈ 38,000,
/// 23% below the oracle's 50,000) in one block. While Alice re-states 50,000 every block, XBTC
/// is throttled and never halted (#26's halt attack: an outsider's dump halts nothing under a
/// live oracle). Then the feeders fall silent: the spot below the oracle by the halt trigger
/// (15%) at the end of three blocks in a row without a fresh agreed price halts XBTC in the
/// third, and not before.
fn dump_xbtc_until_halted() {
	use margincall_runtime::Breaker;
	use pallet_breaker::{Cause, Level};
	let (usdm, xbtc) = (AssetKind::WithId(USDM), AssetKind::WithId(XBTC));
	let dump =
		RuntimeCall::AssetConversion(pallet_asset_conversion::Call::swap_exact_tokens_for_tokens {
			path: vec![Box::new(xbtc), Box::new(usdm)],
			amount_in: 5 * UNIT,
			amount_out_min: 1,
			send_to: account(Sr25519Keyring::Bob),
			keep_alive: true,
		});
	assert_ok!(block(vec![signed(Sr25519Keyring::Bob, dump)])[0].expect("valid"));
	let below = Breaker::asset_breaker(&XBTC).divergence.expect("a pool");
	assert!(below >= sp_runtime::Permill::from_percent(20), "{below:?}");
	for n in 1..=3 {
		let feed = feed(vec![(USDM, Price::from_u32(1)), (XBTC, Price::from_u32(50_000))]);
		assert_ok!(block(vec![signed(Sr25519Keyring::Alice, feed)])[0].expect("valid"));
		let view = Breaker::asset_breaker(&XBTC);
		assert_eq!(
			(view.level, view.state.diverged_since),
			(Level::Throttled, None),
			"re-stated {n} time(s)"
		);
	}
	for n in 1..=2 {
		block(vec![]);
		assert_eq!(Breaker::effective_level(&XBTC), Level::Throttled, "{n} silent block(s)");
	}
	block(vec![]);
	assert!(events().iter().any(|e| matches!(
		e,
		RuntimeEvent::Breaker(pallet_breaker::Event::LevelChanged {
			asset,
			from: Level::Throttled,
			to: Level::Halted,
			cause: Cause::Divergence,
		}) if *asset == XBTC
	)));
}

/// The breaker on the real runtime with its default triggers: the feeders drop XBTC 60,000 →
/// 50,000 (−17%) while the DEX still prices it at 60,000. The oracle guard holds the jump when
/// it is fed: a liquidation values XBTC at the accepted 60,000 (Eve is not liquidatable on the
/// held price, by any route), new borrows against XBTC are refused, repaying is not. Once the
/// next block's feed confirms the price, XBTC is throttled (a fast price), NOT halted: a pool
/// ABOVE the oracle is the best pool to sell into (#26: the breaker halted on it, and the
/// crash's positions went to the backstop and auctions). Then Bob dumps XBTC into the pool,
/// 20% below the oracle: throttled while Alice re-states the price (an outsider halts nothing
/// under a live oracle); three blocks without a feed: halted, and `settle` goes to the
/// insurance backstop.
#[test]
fn a_dex_above_the_oracle_is_sold_into_and_one_dumped_below_a_silent_oracle_halts() {
	genesis("development").execute_with(|| {
		use margincall_runtime::{Breaker, Liquidation};
		use pallet_breaker::{Cause, Level};
		let eve = eve_below_one_breaker_on();
		assert_eq!(Breaker::held_price(&XBTC), Some(Price::from_u32(50_000)));
		assert!(events().iter().any(|e| matches!(
			e,
			RuntimeEvent::Breaker(pallet_breaker::Event::PriceHeld { asset, .. }) if *asset == XBTC
		)));
		// The breaker's levels move on accepted prices only.
		assert_eq!(Breaker::effective_level(&XBTC), Level::Normal);
		assert!(Breaker::price_unsettled(&XBTC));
		let not_liquidatable: sp_runtime::DispatchError =
			pallet_liquidation::Error::<Runtime>::NotLiquidatable.into();
		assert_eq!(Liquidation::do_preview(&eve).map(|p| p.route), Err(not_liquidatable));
		// In the next block (the hold lasts at most 3): a settlement, a keeper's own-funds
		// liquidation, and new borrows against XBTC (Ferdie supplies XBTC, asks for USDM).
		let settle = RuntimeCall::Liquidation(pallet_liquidation::Call::settle {
			borrower: eve.clone().into(),
		});
		let liquidate = RuntimeCall::Liquidation(pallet_liquidation::Call::liquidate {
			borrower: eve.clone().into(),
			debt_asset: USDM,
			collateral_asset: XBTC,
			max_repay: pallet_lending::Amount::All,
		});
		let lending = |c| RuntimeCall::Lending(c);
		let ferdie = |call| signed(Sr25519Keyring::Ferdie, lending(call));
		let results = block(vec![
			signed(Sr25519Keyring::Bob, settle.clone()),
			signed(Sr25519Keyring::Dave, liquidate),
			ferdie(pallet_lending::Call::supply { asset: XBTC, amount: UNIT }),
		]);
		assert_eq!(results[0].expect("valid"), Err(not_liquidatable));
		assert_eq!(
			results[1].expect("valid"),
			Err(not_liquidatable),
			"a keeper's own funds liquidate no one on a held price either"
		);
		assert_ok!(results[2].expect("valid"));
		let results = block(vec![
			ferdie(pallet_lending::Call::borrow { asset: USDM, amount: 1_000 * UNIT }),
			// (Another account: one signed transaction per account and block here.)
			signed(
				Sr25519Keyring::Charlie,
				lending(pallet_lending::Call::borrow { asset: XBTC, amount: 1_000 }),
			),
		]);
		assert_eq!(
			results[0].expect("valid"),
			Err(pallet_lending::Error::<Runtime>::BorrowLimitExceeded.into())
		);
		assert_eq!(
			results[1].expect("valid"),
			Err(pallet_lending::Error::<Runtime>::AssetHalted.into())
		);
		// A later feed confirms the price.
		let confirm = feed(vec![(XBTC, Price::from_u32(50_000))]);
		assert_ok!(block(vec![signed(Sr25519Keyring::Alice, confirm)])[0].expect("valid"));
		assert_eq!(Breaker::held_price(&XBTC), None);
		assert!(events().iter().any(|e| matches!(
			e,
			RuntimeEvent::Breaker(pallet_breaker::Event::LevelChanged {
				asset,
				from: Level::Normal,
				to: Level::Throttled,
				cause: Cause::Move,
			}) if *asset == XBTC
		)));
		let view = Breaker::asset_breaker(&XBTC);
		assert_eq!(
			(view.level, view.divergence),
			(Level::Throttled, Some(sp_runtime::Permill::zero()))
		);
		assert!(view.sale_left > 0);
		let preview = Liquidation::do_preview(&eve).expect("liquidatable");
		assert_eq!(preview.route, Ok(pallet_liquidation::Route::Dex));
		// The pool dumped below the oracle: throttled while the feeders re-state the price;
		// three blocks without them: halted.
		dump_xbtc_until_halted();
		let view = Breaker::asset_breaker(&XBTC);
		assert_eq!((view.level, view.sale_left), (Level::Halted, 0));
		// The preview and the settlement: the backstop, nothing through the pool (the DEX's
		// refusal names the halt first: the pool is beyond the slippage bound too).
		let preview = Liquidation::do_preview(&eve).expect("liquidatable");
		assert_eq!(
			preview.route,
			Ok(pallet_liquidation::Route::Backstop { dex: pallet_liquidation::DexRefusal::Halted })
		);
		let (usdm, xbtc) = (AssetKind::WithId(USDM), AssetKind::WithId(XBTC));
		let pool = AssetConversion::get_reserves(usdm.clone(), xbtc.clone()).unwrap();
		let results = block(vec![signed(Sr25519Keyring::Bob, settle)]);
		assert_ok!(results[0].expect("valid"));
		assert!(events().iter().any(|e| matches!(
			e,
			RuntimeEvent::Liquidation(pallet_liquidation::Event::Settled {
				route: pallet_liquidation::Route::Backstop {
					dex: pallet_liquidation::DexRefusal::Halted
				},
				sold: 0,
				..
			})
		)));
		assert_eq!(AssetConversion::get_reserves(usdm, xbtc).unwrap(), pool);
		assert!(!margincall_runtime::Lending::account_health(&eve).unwrap().is_liquidatable());
		// Repaying is never blocked.
		let repay = lending(pallet_lending::Call::repay {
			asset: USDM,
			amount: pallet_lending::Amount::Exact(UNIT),
		});
		assert_ok!(block(vec![signed(Sr25519Keyring::Eve, repay)])[0].expect("valid"));
	})
}

/// The Dutch auction fallback on the real runtime: XBTC halted by the breaker (the DEX dumped
/// far below the oracle for three blocks after a drop) and an empty insurance treasury, so `settle` can neither sell
/// nor have the backstop buy: it starts an auction. Its price falls each block; a taker with
/// its own USDM buys the lot once it is below the oracle, repaying Eve's debt, and the treasury
/// takes half the unsold lot as the auction ends.
#[test]
fn a_halted_drop_with_an_empty_treasury_goes_to_auction_and_a_taker_buys_it() {
	genesis("development").execute_with(|| {
		use frame_support::traits::{
			fungibles::Inspect,
			tokens::{Fortitude, Preservation},
		};
		use margincall_runtime::{Lending, Liquidation};
		let eve = eve_below_one_breaker_on();
		let confirm = feed(vec![(XBTC, Price::from_u32(50_000))]);
		assert_ok!(block(vec![signed(Sr25519Keyring::Alice, confirm)])[0].expect("valid"));
		dump_xbtc_until_halted();
		let treasury = Liquidation::insurance_account();
		let spendable =
			Assets::reducible_balance(USDM, &treasury, Preservation::Preserve, Fortitude::Polite);
		assert_ok!(Liquidation::transfer_insurance(
			margincall_runtime::RuntimeOrigin::root(),
			USDM,
			spendable,
			account(Sr25519Keyring::Alice).into(),
		));
		let preview = Liquidation::do_preview(&eve).expect("liquidatable");
		assert_eq!(
			preview.route,
			Ok(pallet_liquidation::Route::Auction { dex: pallet_liquidation::DexRefusal::Halted })
		);
		assert_eq!(
			margincall_runtime::Breaker::effective_level(&XBTC),
			pallet_breaker::Level::Halted
		);
		let settle = RuntimeCall::Liquidation(pallet_liquidation::Call::settle {
			borrower: eve.clone().into(),
		});
		assert_ok!(block(vec![signed(Sr25519Keyring::Bob, settle)])[0].expect("valid"));
		let started = events().into_iter().find_map(|e| match e {
			RuntimeEvent::Liquidation(pallet_liquidation::Event::AuctionStarted {
				id,
				lot,
				tab,
				top,
				..
			}) => Some((id, lot, tab, top)),
			_ => None,
		});
		let (id, lot, tab, top) = started.expect("an auction started");
		// As previewed a block earlier, but for that block's interest.
		assert!(tab >= preview.repay && tab - preview.repay < preview.repay / 10_000);
		assert!(lot >= preview.collateral_due && lot - preview.collateral_due < lot / 10_000);
		// 5% above the oracle's 50,000 USDM per XBTC.
		assert_eq!(top, Price::from_u32(52_500));
		// Blocks pass (the feeders keep the price fresh); the price falls 1% a block.
		for _ in 0..8 {
			let feed = feed(vec![(USDM, Price::from_u32(1)), (XBTC, Price::from_u32(50_000))]);
			assert_ok!(block(vec![signed(Sr25519Keyring::Alice, feed)])[0].expect("valid"));
		}
		let status = Liquidation::auction_statuses();
		assert_eq!(status.len(), 1);
		let price = status[0].price;
		assert!(price < Price::from_u32(50_000) && status[0].needs_reset == Some(false));
		let ferdie = account(Sr25519Keyring::Ferdie);
		let usdm_before = asset_balance(USDM, &ferdie);
		let debt = |who: &AccountId| {
			<Lending as pallet_lending::LendingPositions<AccountId>>::debt(who, &USDM).unwrap()
		};
		let debt_before = debt(&eve);
		let take = RuntimeCall::Liquidation(pallet_liquidation::Call::take {
			id,
			max_collateral: u128::MAX,
			max_price: price,
		});
		assert_ok!(block(vec![signed(Sr25519Keyring::Ferdie, take)])[0].expect("valid"));
		let (bought, paid) = events()
			.into_iter()
			.find_map(|e| match e {
				RuntimeEvent::Liquidation(pallet_liquidation::Event::AuctionTaken {
					bought,
					paid,
					..
				}) => Some((bought, paid)),
				_ => None,
			})
			.expect("taken");
		assert_eq!(paid, tab);
		assert!(events().iter().any(|e| matches!(
			e,
			RuntimeEvent::Liquidation(pallet_liquidation::Event::AuctionEnded {
				reason: pallet_liquidation::AuctionEnd::Paid,
				..
			})
		)));
		assert_eq!(asset_balance(USDM, &ferdie), usdm_before - paid);
		// Less the repayment, plus one block's interest.
		let left = debt(&eve);
		assert!(left >= debt_before - paid && left - (debt_before - paid) < paid / 100_000);
		let supplied =
			<Lending as pallet_lending::LendingPositions<AccountId>>::supplied(&ferdie, &XBTC);
		assert!(supplied.unwrap() >= bought);
		assert!(!Lending::account_health(&eve).unwrap().is_liquidatable());
		assert!(Liquidation::auction_statuses().is_empty());
		every_try_state();
	})
}

/// The volatility view's suggestion on the real runtime: none until the estimate has its
/// minimum of returns (10), then the collateral factor and liquidation threshold that XBTC's
/// measured volatility and its market's bonus give, lower than a calm asset's would be.
#[test]
fn the_measured_volatility_suggests_risk_parameters() {
	genesis("development").execute_with(|| {
		use margincall_runtime::configs::breaker::{suggestion, suggestion_params};
		let feed = |xbtc: u32| {
			feed(vec![
					(USDM, Price::from_u32(1)),
					(XBTC, Price::from_u32(xbtc)),
				])
		};
		// ±1% a block (within the guard's 5%).
		for i in 0..12u32 {
			assert_eq!(suggestion(XBTC).is_some(), i > 10, "block {i}");
			let price = if i % 2 == 0 { 60_000 } else { 60_600 };
			assert_ok!(block(vec![signed(Sr25519Keyring::Alice, feed(price))])[0].expect("valid"));
		}
		let s = suggestion(XBTC).expect("10 returns measured");
		let bonus = <margincall_runtime::Lending as pallet_lending::LendingPositions<AccountId>>::market_params(&XBTC)
			.expect("a market")
			.liquidation_bonus;
		assert_eq!(s, pallet_breaker::suggest::suggest(s.volatility, bonus, &suggestion_params()));
		// 1% every 6 s, measured over a 1-hour half-life from a standing start: about 250%
		// a year. A day's 99% fall of ~31% leaves a collateral factor below the preset's.
		let market = <margincall_runtime::Lending as pallet_lending::LendingPositions<AccountId>>::market_params(&XBTC)
			.expect("a market");
		assert!(s.volatility > Price::from_u32(2), "{s:?}");
		assert!(s.collateral_factor < market.collateral_factor, "{s:?} vs {market:?}");
		assert!(s.collateral_factor < s.liquidation_threshold);
		let calm = pallet_breaker::suggest::suggest(
			Price::from_rational(1, 2),
			bonus,
			&suggestion_params(),
		);
		assert!(calm.liquidation_threshold > s.liquidation_threshold);
		assert_eq!(suggestion(42), None);
	})
}

// ---------------------------------------------------------------------------------------------
// Governance: a real referendum on the `risk_admin` track, and the guard rails at enactment
// ---------------------------------------------------------------------------------------------

use sp_runtime::Saturating as _;

/// `lending.update_market(XBTC, f(current))` as a call.
fn update_xbtc(f: impl FnOnce(&mut pallet_lending::MarketParams)) -> RuntimeCall {
	let mut params = xbtc_params();
	f(&mut params);
	RuntimeCall::Lending(pallet_lending::Call::update_market { asset: XBTC, params })
}

fn xbtc_params() -> pallet_lending::MarketParams {
	pallet_lending::Markets::<Runtime>::get(XBTC).expect("XBTC market").params
}

/// Alice notes the preimage of `call`, submits it on the risk track (enactment asked 10 blocks
/// after approval) and places the decision deposit; Alice, Bob, Charlie and Dave vote aye with
/// 900,000 MCL each, without conviction. Returns the referendum's index.
fn propose_on_the_risk_track(call: RuntimeCall) -> u32 {
	use frame_support::traits::{schedule::DispatchTime, Bounded};
	use margincall_runtime::{governance::origins::Origin, OriginCaller};
	use pallet_conviction_voting::{AccountVote, Conviction, Vote};
	use sp_runtime::traits::Hash;
	let bytes = call.encode();
	let hash = <Runtime as frame_system::Config>::Hashing::hash(&bytes);
	let len = bytes.len() as u32;
	let index = pallet_referenda::ReferendumCount::<Runtime>::get();
	let submit = |k| {
		signed(
			k,
			RuntimeCall::Referenda(pallet_referenda::Call::submit {
				proposal_origin: Box::new(OriginCaller::Origins(Origin::RiskAdmin)),
				proposal: Bounded::Lookup { hash, len },
				enactment_moment: DispatchTime::After(10),
			}),
		)
	};
	let note = signed(
		Sr25519Keyring::Alice,
		RuntimeCall::Preimage(pallet_preimage::Call::note_preimage { bytes }),
	);
	for r in block(vec![note]) {
		assert_ok!(r.expect("valid"));
	}
	assert!(pallet_preimage::RequestStatusFor::<Runtime>::contains_key(hash), "preimage noted");
	for r in block(vec![submit(Sr25519Keyring::Alice)]) {
		assert_ok!(r.expect("valid"));
	}
	let deposit = signed(
		Sr25519Keyring::Alice,
		RuntimeCall::Referenda(pallet_referenda::Call::place_decision_deposit { index }),
	);
	let votes =
		[Sr25519Keyring::Alice, Sr25519Keyring::Bob, Sr25519Keyring::Charlie, Sr25519Keyring::Dave]
			.into_iter()
			.map(|k| {
				signed(
					k,
					RuntimeCall::ConvictionVoting(pallet_conviction_voting::Call::vote {
						poll_index: index,
						vote: AccountVote::Standard {
							vote: Vote { aye: true, conviction: Conviction::None },
							balance: 900_000 * UNIT,
						},
					}),
				)
			});
	assert_ok!(block(vec![deposit])[0].expect("valid"));
	for r in block(votes.collect()) {
		assert_ok!(r.expect("valid"));
	}
	index
}

/// Builds empty blocks until `done` holds of the events so far (at most `max` blocks); returns
/// every event seen and the blocks built.
fn blocks_until(max: u32, done: impl Fn(&[RuntimeEvent]) -> bool) -> (Vec<RuntimeEvent>, u32) {
	let mut seen = Vec::new();
	for n in 1..=max {
		block(vec![]);
		seen.extend(events());
		if done(&seen) {
			return (seen, n);
		}
	}
	let governance: Vec<_> = seen
		.iter()
		.filter(|e| matches!(e, RuntimeEvent::Referenda(..) | RuntimeEvent::Scheduler(..)))
		.collect();
	panic!("not done within {max} blocks; governance events: {governance:?}");
}

/// The scheduler's result of dispatching the confirmed referendum's call: its named task
/// after `Confirmed` (the referenda's own alarms are anonymous tasks).
fn enacted(seen: &[RuntimeEvent]) -> Option<sp_runtime::DispatchResult> {
	let confirmed = seen.iter().position(|e| {
		matches!(e, RuntimeEvent::Referenda(pallet_referenda::Event::Confirmed { .. }))
	})?;
	seen.get(confirmed..)?.iter().find_map(|e| match e {
		RuntimeEvent::Scheduler(pallet_scheduler::Event::Dispatched {
			id: Some(_),
			result,
			..
		}) => Some(*result),
		_ => None,
	})
}

/// A referendum on the `risk_admin` track moves XBTC's collateral factor by 5 points (its step):
/// preimage, submission, decision deposit, votes, the track's prepare (10 min), confirm (1 h)
/// and enactment (10 min) periods, all through `Executive`; the market changes at enactment.
#[test]
fn a_referendum_on_the_risk_track_changes_a_market_within_its_guard_rails() {
	genesis("development").execute_with(|| {
		let before = xbtc_params();
		let call = update_xbtc(|p| {
			p.collateral_factor = p.collateral_factor.saturating_sub(sp_runtime::Permill::from_percent(5))
		});
		let index = propose_on_the_risk_track(call);
		let start = System::block_number();
		let (seen, _) = blocks_until(1_000, |seen| enacted(seen).is_some());
		let at = System::block_number();
		assert_eq!(enacted(&seen), Some(Ok(())));
		assert!(seen.iter().any(|e| matches!(e,
			RuntimeEvent::Referenda(pallet_referenda::Event::DecisionStarted { index: i, track: 1, .. }) if *i == index)));
		assert!(seen.iter().any(|e| matches!(e,
			RuntimeEvent::Referenda(pallet_referenda::Event::Confirmed { index: i, .. }) if *i == index)));
		assert!(matches!(
			pallet_referenda::ReferendumInfoFor::<Runtime>::get(index),
			Some(pallet_referenda::ReferendumInfo::Approved(..))
		));
		let after = xbtc_params();
		assert_eq!(after.collateral_factor, sp_runtime::Permill::from_percent(68));
		assert_eq!(after, pallet_lending::MarketParams { collateral_factor: after.collateral_factor, ..before });
		assert!(seen.contains(&RuntimeEvent::Lending(pallet_lending::Event::MarketUpdated {
			asset: XBTC,
			params: after
		})));
		assert_eq!(pallet_lending::LastRiskChange::<Runtime>::get(XBTC), Some(at));
		// The track's periods: 100 blocks of preparation, 600 of confirmation, 100 before
		// enactment (and a few for the alarms).
		let took = at - start;
		assert!((790..=810).contains(&took), "enacted {took} blocks after the votes");
		every_try_state();
	})
}

/// A referendum on the risk track that moves the collateral factor by 10 points passes the vote
/// but fails at enactment with `CollateralFactorStepTooLarge` (the market unchanged); the same
/// change by root succeeds; and a bounded change within a day of it (the risk track's origin,
/// dispatched directly: a second referendum takes 800 more blocks) fails `ChangeTooSoon`.
#[test]
fn a_referendum_beyond_the_guard_rails_fails_at_enactment_by_name() {
	genesis("development").execute_with(|| {
		let before = xbtc_params();
		let ten_down = update_xbtc(|p| {
			p.collateral_factor =
				p.collateral_factor.saturating_sub(sp_runtime::Permill::from_percent(10))
		});
		propose_on_the_risk_track(ten_down.clone());
		let (seen, _) = blocks_until(1_000, |seen| enacted(seen).is_some());
		assert_eq!(
			enacted(&seen),
			Some(Err(pallet_lending::Error::<Runtime>::CollateralFactorStepTooLarge.into()))
		);
		assert_eq!(xbtc_params(), before);
		assert_eq!(pallet_lending::LastRiskChange::<Runtime>::get(XBTC), None);

		// Root (sudo on the dev chain, the root track on a real network): bounds only.
		let sudo = |call: RuntimeCall| {
			signed(
				Sr25519Keyring::Alice,
				RuntimeCall::Sudo(pallet_sudo::Call::sudo { call: Box::new(call) }),
			)
		};
		assert_ok!(block(vec![sudo(ten_down)])[0].expect("valid"));
		assert!(events()
			.contains(&RuntimeEvent::Sudo(pallet_sudo::Event::Sudid { sudo_result: Ok(()) })));
		assert_eq!(xbtc_params().collateral_factor, sp_runtime::Permill::from_percent(63));

		// Within its step, but less than a day after root's change.
		let within = update_xbtc(|p| {
			p.reserve_factor = p.reserve_factor.saturating_add(sp_runtime::Permill::from_percent(5))
		});
		let risk_track: margincall_runtime::RuntimeOrigin =
			margincall_runtime::OriginCaller::Origins(
				margincall_runtime::governance::origins::Origin::RiskAdmin,
			)
			.into();
		use sp_runtime::traits::Dispatchable;
		assert_eq!(
			within.dispatch(risk_track).map_err(|e| e.error),
			Err(pallet_lending::Error::<Runtime>::ChangeTooSoon.into())
		);
		assert_eq!(xbtc_params().reserve_factor, before.reserve_factor);
		every_try_state();
	})
}

/// The guardian (Ferdie on the dev chains) pauses a market and halts an asset's DEX route at
/// once, and can do nothing else; root (or the risk track) lifts both. A keeper proxy acts
/// for a cold account: it may settle, but not transfer the cold account's funds; `utility.batch`
/// runs several calls in one.
#[test]
fn the_guardian_pauses_a_keeper_proxy_acts_and_batches_run() {
	genesis("development").execute_with(|| {
		use margincall_runtime::configs::ProxyType;
		let ferdie = Sr25519Keyring::Ferdie;
		let pause = RuntimeCall::Lending(pallet_lending::Call::pause_market { asset: XBTC });
		let halt = RuntimeCall::Breaker(pallet_breaker::Call::halt { asset: XBTC });
		assert_ok!(block(vec![signed(ferdie, pause.clone())])[0].expect("valid"));
		assert_ok!(block(vec![signed(ferdie, halt)])[0].expect("valid"));
		assert_eq!(xbtc_params().status, pallet_lending::MarketStatus::Paused);
		assert_eq!(
			margincall_runtime::Breaker::effective_level(&XBTC),
			pallet_breaker::Level::Halted
		);
		// Not Eve; and the guardian cannot unpause, nor lift the halt.
		let eve = Sr25519Keyring::Eve;
		for (who, call) in [
			(eve, pause),
			(ferdie, RuntimeCall::Lending(pallet_lending::Call::resume_market { asset: XBTC })),
			(ferdie, RuntimeCall::Breaker(pallet_breaker::Call::reset_level { asset: XBTC })),
		] {
			assert_eq!(
				block(vec![signed(who, call)])[0].expect("valid"),
				Err(DispatchError::BadOrigin)
			);
		}
		let sudo = |call: RuntimeCall| {
			signed(
				Sr25519Keyring::Alice,
				RuntimeCall::Sudo(pallet_sudo::Call::sudo { call: Box::new(call) }),
			)
		};
		block(vec![sudo(RuntimeCall::Lending(pallet_lending::Call::resume_market {
			asset: XBTC,
		}))]);
		block(vec![sudo(RuntimeCall::Breaker(pallet_breaker::Call::reset_level { asset: XBTC }))]);
		assert_eq!(xbtc_params().status, pallet_lending::MarketStatus::Active);
		assert_eq!(
			margincall_runtime::Breaker::effective_level(&XBTC),
			pallet_breaker::Level::Normal
		);

		// Eve (cold) names Dave her keeper proxy.
		let add = RuntimeCall::Proxy(pallet_proxy::Call::add_proxy {
			delegate: account(Sr25519Keyring::Dave).into(),
			proxy_type: ProxyType::Keeper,
			delay: 0,
		});
		assert_ok!(block(vec![signed(eve, add)])[0].expect("valid"));
		let as_eve = |call: RuntimeCall| {
			signed(
				Sr25519Keyring::Dave,
				RuntimeCall::Proxy(pallet_proxy::Call::proxy {
					real: account(eve).into(),
					force_proxy_type: None,
					call: Box::new(call),
				}),
			)
		};
		// A settle of a healthy account runs as Eve and fails by its own name; a transfer of
		// Eve's USDM is filtered out.
		let settle = RuntimeCall::Liquidation(pallet_liquidation::Call::settle {
			borrower: account(Sr25519Keyring::Bob).into(),
		});
		let transfer = RuntimeCall::Assets(pallet_assets::Call::transfer {
			id: codec::Compact(USDM),
			target: account(Sr25519Keyring::Dave).into(),
			amount: UNIT,
		});
		let eve_usdm = asset_balance(USDM, &account(eve));
		let mut results = Vec::new();
		for call in [settle, transfer] {
			assert_ok!(block(vec![as_eve(call)])[0].expect("valid"));
			results.extend(events().into_iter().filter_map(|e| match e {
				RuntimeEvent::Proxy(pallet_proxy::Event::ProxyExecuted { result }) => Some(result),
				_ => None,
			}));
		}
		assert_eq!(results.len(), 2);
		assert_eq!(results[0], Err(pallet_liquidation::Error::<Runtime>::NotLiquidatable.into()));
		assert_eq!(results[1], Err(frame_system::Error::<Runtime>::CallFiltered.into()));
		assert_eq!(asset_balance(USDM, &account(eve)), eve_usdm);

		// A batch: two supplies in one extrinsic, all or nothing.
		let batch = RuntimeCall::Utility(pallet_utility::Call::batch_all {
			calls: vec![
				RuntimeCall::Lending(pallet_lending::Call::supply {
					asset: USDM,
					amount: 1_000 * UNIT,
				}),
				RuntimeCall::Lending(pallet_lending::Call::supply { asset: XBTC, amount: UNIT }),
			],
		});
		assert_ok!(block(vec![signed(eve, batch)])[0].expect("valid"));
		assert!(events().contains(&RuntimeEvent::Utility(pallet_utility::Event::BatchCompleted)));
		let positions = pallet_lending::Positions::<Runtime>::get(account(eve)).expect("supplied");
		assert_eq!(positions.supplies.len(), 2);
		every_try_state();
	})
}

/// #27, same-block settlement on the real runtime: a feed still in the pool, the node
/// service's question (`same_block::settlements_after`), and a settlement that requires the
/// feed's transaction: one block carries both. Before the feed, or without it, the settlement
/// is not includable; the question changes nothing.
#[test]
fn a_feed_and_the_settlement_it_causes_land_in_the_same_block() {
	genesis("development").execute_with(|| {
		use margincall_runtime::Lending;
		use sp_runtime::transaction_validity::{InvalidTransaction, TransactionSource};
		let mut params = levels_out_of_reach();
		params.jump = sp_runtime::Permill::one();
		assert_ok!(margincall_runtime::Breaker::set_breaker_params(
			margincall_runtime::RuntimeOrigin::root(),
			params
		));
		let eve = account(Sr25519Keyring::Eve);
		let alice = account(Sr25519Keyring::Alice);
		let feed = |xbtc: u32| feed(vec![(USDM, Price::from_u32(1)), (XBTC, Price::from_u32(xbtc))]);
		let lending = |c| RuntimeCall::Lending(c);
		for r in block(vec![
			signed(Sr25519Keyring::Alice, feed(60_000)),
			signed(
				Sr25519Keyring::Dave,
				lending(pallet_lending::Call::supply { asset: USDM, amount: 100_000 * UNIT }),
			),
			signed(
				Sr25519Keyring::Eve,
				lending(pallet_lending::Call::supply { asset: XBTC, amount: UNIT }),
			),
		]) {
			assert_ok!(r.expect("valid"));
		}
		let borrow = lending(pallet_lending::Call::borrow { asset: USDM, amount: 40_000 * UNIT });
		assert_ok!(block(vec![signed(Sr25519Keyring::Eve, borrow)])[0].expect("valid"));
		assert!(!Lending::account_health(&eve).unwrap().is_liquidatable());
		// The drop, still in the pool: Alice's next feed.
		let nonce = System::account_nonce(&alice);
		let drop = signed(Sr25519Keyring::Alice, feed(50_000));
		let before = sp_io::storage::root(sp_runtime::StateVersion::V1);
		let planned = margincall_runtime::same_block::settlements_after(drop.clone());
		assert_eq!(sp_io::storage::root(sp_runtime::StateVersion::V1), before, "nothing kept");
		assert_eq!(planned.len(), 1, "{planned:?}");
		let settlement = planned[0].clone();
		assert!(matches!(
			&settlement.function,
			RuntimeCall::Liquidation(pallet_liquidation::Call::settle_after_feed { borrowers, feed, .. })
				if borrowers.to_vec() == vec![eve.clone()] && *feed == (alice.clone(), nonce)
		));
		// Any other transaction: nothing.
		let transfer = signed(
			Sr25519Keyring::Bob,
			RuntimeCall::Balances(pallet_balances::Call::transfer_keep_alive {
				dest: eve.clone().into(),
				value: UNIT,
			}),
		);
		assert!(margincall_runtime::same_block::settlements_after(transfer).is_empty());
		// In the pool: valid before the feed lands (Eve is not below 1 yet), requiring it.
		// (Validation initialises the next block: rolled back, as a node's runtime call is.)
		let parent = System::block_hash(System::block_number());
		let validate = |source| {
			frame_support::storage::with_transaction(|| {
				frame_support::storage::TransactionOutcome::Rollback(Ok::<_, DispatchError>(
					Executive::validate_transaction(source, settlement.clone(), parent),
				))
			})
			.unwrap()
		};
		let valid = validate(TransactionSource::Local).expect("valid in the pool");
		assert!(valid.requires.contains(&(alice.clone(), nonce).encode()), "{valid:?}");
		assert!(validate(TransactionSource::External).is_err());
		// Before its feed in a block: not includable (and the block goes on).
		let results = block(vec![settlement.clone()]);
		assert_eq!(results[0], Err(InvalidTransaction::Future.into()));
		// The feed, then the settlement, in one block.
		let results = block(vec![drop, settlement]);
		assert_ok!(results[0].expect("the feed applies"));
		assert_ok!(results[1].expect("the settlement applies after it"));
		assert!(events().iter().any(|e| matches!(
			e,
			RuntimeEvent::Liquidation(pallet_liquidation::Event::Settled { borrower, .. }) if *borrower == eve
		)));
		assert!(!Lending::account_health(&eve).unwrap().is_liquidatable());
	})
}

/// The largest batch the runtime takes, of narrow positions (one collateral, one debt: what a
/// crash liquidates most) in the most pairs and every one sold to the standing bids, declares
/// a weight one normal extrinsic may have, and the worker's unsigned share of a block holds
/// it. A batch of wide positions (8 + 8) is bounded by weight before `MaxSettleBatch`: what
/// fits is what the worker puts in one (`batch_prefix`), and the extrinsic limit refuses more.
#[test]
fn the_largest_narrow_batch_fits_one_extrinsic_and_the_unsigned_share() {
	use frame_support::dispatch::DispatchClass;
	use pallet_liquidation::{BatchWitness, Config};
	type Liquidation = pallet_liquidation::Pallet<Runtime>;
	genesis("development").execute_with(|| {
		let n = <Runtime as Config>::MaxSettleBatch::get();
		let pairs = <Runtime as Config>::MaxBatchPairs::get();
		let witness = BatchWitness { pairs, wide: 0, bids: n };
		let weights = <Runtime as frame_system::Config>::BlockWeights::get();
		let max = weights.get(DispatchClass::Normal).max_extrinsic.expect("a normal limit");
		let signed = Liquidation::settle_batch_weight(n, &witness);
		let unsigned = Liquidation::settle_batch_unsigned_weight(n, &witness);
		assert!(signed.all_lte(max), "{signed:?} > {max:?}");
		assert!(unsigned.all_lte(max), "{unsigned:?} > {max:?}");
		let share = Liquidation::unsigned_budget();
		assert!(unsigned.all_lte(share), "{unsigned:?} > {share:?}");
	});
}
