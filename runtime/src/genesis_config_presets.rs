//! Genesis presets: `development` (one validator, Alice) and `local_testnet` (Alice, Bob,
//! Charlie and Dave). Both create the dev assets with metadata, fund the test accounts, seed the DEX
//! pools of each asset against USDM with real depth, and set the oracle's feeders and first
//! prices.

use crate::{
	assets::{MEME, USDM, XBTC},
	configs::Price,
	AccountId, AssetsConfig, BalancesConfig, BreakerConfig, GenesisSeedConfig,
	GuardianMembershipConfig, LendingConfig, LiquidationConfig, OracleMembershipConfig,
	RuntimeGenesisConfig, SudoConfig, DECIMALS, UNIT,
};
use alloc::{vec, vec::Vec};
use frame_support::build_struct_json_patch;
use pallet_lending::{MarketParams, MarketStatus, RateModel};
use serde_json::Value;
use sp_arithmetic::Permill;
use sp_consensus_aura::sr25519::AuthorityId as AuraId;
use sp_consensus_grandpa::AuthorityId as GrandpaId;
use sp_genesis_builder::{self, PresetId};
use sp_keyring::{Ed25519Keyring, Sr25519Keyring};

/// Native balance of every endowed account.
pub const ENDOWMENT: u128 = 1_000_000 * UNIT;
/// USDM the insurance treasury starts with in the presets.
pub const INSURANCE_USDM: u128 = 100_000 * UNIT;

/// The insurance treasury's account.
pub fn insurance_account() -> AccountId {
	pallet_liquidation::Pallet::<crate::Runtime>::insurance_account()
}
/// Each dev asset given to every endowed account, in whole tokens.
pub const ASSET_ENDOWMENT: [(u32, u128); 3] =
	[(USDM, 1_000_000 * UNIT), (XBTC, 100 * UNIT), (MEME, 10_000_000 * UNIT)];
/// The account that seeds the DEX pools and holds their LP tokens.
pub fn market_maker() -> AccountId {
	Sr25519Keyring::Ferdie.to_account_id()
}
/// Pool depth, in whole tokens: `(asset, asset amount, USDM amount)` at the genesis prices
/// (XBTC 60,000 USDM: 20 XBTC against 1.2 M USDM; MEME 0.05 USDM: 20 M MEME against 1 M USDM).
pub const POOLS: [(u32, u128, u128); 2] =
	[(XBTC, 20 * UNIT, 1_200_000 * UNIT), (MEME, 20_000_000 * UNIT, 1_000_000 * UNIT)];

/// Genesis prices of the dev assets (value of one base unit in USD base units: all dev assets
/// have 12 decimals, like the reference, so this is also the USD price of a whole token).
pub fn genesis_prices() -> Vec<(u32, Price)> {
	vec![
		(USDM, Price::from_u32(1)),
		(XBTC, Price::from_u32(60_000)),
		(MEME, Price::from_rational(5, 100)),
	]
}

fn pct(n: u32) -> Permill {
	Permill::from_percent(n)
}

fn rate(percent: u128) -> Price {
	Price::from_rational(percent, 100)
}

/// The money markets of the presets, with risk parameters in the range Aave v3 and Compound
/// use for assets of each kind.
pub fn markets() -> Vec<(u32, MarketParams)> {
	let usdm = MarketParams {
		collateral_factor: pct(85),
		liquidation_threshold: pct(90),
		liquidation_bonus: pct(4),
		close_factor: pct(50),
		reserve_factor: pct(10),
		supply_cap: 50_000_000 * UNIT,
		borrow_cap: 40_000_000 * UNIT,
		// USD 100: a smaller debt costs more to liquidate than it pays.
		min_borrow_value: 100 * UNIT,
		rate_model: RateModel { base: rate(0), slope1: rate(4), kink: rate(90), slope2: rate(60) },
		collateral_enabled: true,
		borrow_enabled: true,
		status: MarketStatus::Active,
	};
	let xbtc = MarketParams {
		collateral_factor: pct(73),
		liquidation_threshold: pct(78),
		liquidation_bonus: pct(8),
		reserve_factor: pct(20),
		supply_cap: 1_000 * UNIT,
		borrow_cap: 500 * UNIT,
		rate_model: RateModel { base: rate(0), slope1: rate(4), kink: rate(45), slope2: rate(300) },
		..usdm
	};
	let meme = MarketParams {
		collateral_factor: pct(40),
		liquidation_threshold: pct(55),
		liquidation_bonus: pct(15),
		reserve_factor: pct(35),
		supply_cap: 100_000_000 * UNIT,
		borrow_cap: 20_000_000 * UNIT,
		rate_model: RateModel {
			base: rate(2),
			slope1: rate(10),
			kink: rate(40),
			slope2: rate(300),
		},
		..usdm
	};
	vec![(USDM, usdm), (XBTC, xbtc), (MEME, meme)]
}

/// The dev chains' guardian (`guardianMembership`): Ferdie.
pub fn guardian() -> AccountId {
	Sr25519Keyring::Ferdie.to_account_id()
}

/// The oracle's feeders of the development chain: Alice alone (one of one is a majority).
pub fn dev_feeders() -> Vec<AccountId> {
	vec![Sr25519Keyring::Alice.to_account_id()]
}

/// The oracle's feeders of the local test network: Alice, Bob and Charlie (a price needs two).
pub fn local_feeders() -> Vec<AccountId> {
	let mut f = vec![
		Sr25519Keyring::Alice.to_account_id(),
		Sr25519Keyring::Bob.to_account_id(),
		Sr25519Keyring::Charlie.to_account_id(),
	];
	f.sort();
	f
}

fn testnet_genesis(
	initial_authorities: Vec<(AuraId, GrandpaId)>,
	endowed_accounts: Vec<AccountId>,
	root: AccountId,
	feeders: Vec<AccountId>,
	feed_quorum: u32,
) -> Value {
	let mm = market_maker();
	let asset_owner = crate::governance::asset_governance_account();
	let mut endowed = endowed_accounts;
	if !endowed.contains(&mm) {
		endowed.push(mm.clone());
	}
	// The market maker holds what the pools need on top of its endowment.
	let asset_accounts = ASSET_ENDOWMENT
		.iter()
		.flat_map(|(id, amount)| {
			endowed.iter().map(move |who| {
				let extra = if *who == market_maker() {
					POOLS
						.iter()
						.map(|(a, amount_a, usdm)| {
							if a == id {
								*amount_a
							} else if *id == USDM {
								*usdm
							} else {
								0
							}
						})
						.sum()
				} else {
					0
				};
				(*id, who.clone(), amount + extra)
			})
		})
		// The insurance treasury starts with USDM to back-stop settlements the DEX cannot make.
		.chain([(USDM, insurance_account(), INSURANCE_USDM)])
		.collect::<Vec<_>>();

	build_struct_json_patch!(RuntimeGenesisConfig {
		balances: BalancesConfig {
			balances: endowed.iter().cloned().map(|k| (k, ENDOWMENT)).collect::<Vec<_>>(),
		},
		aura: pallet_aura::GenesisConfig {
			authorities: initial_authorities.iter().map(|x| x.0.clone()).collect::<Vec<_>>(),
		},
		grandpa: pallet_grandpa::GenesisConfig {
			authorities: initial_authorities.iter().map(|x| (x.1.clone(), 1)).collect::<Vec<_>>(),
		},
		sudo: SudoConfig { key: Some(root.clone()) },
		assets: AssetsConfig {
			// Sufficient assets: an account may hold them without a native balance.
			// Owned by the keyless governance account, not the sudo key: the lending pallet
			// opens markets only for assets no ordinary account can mint or freeze.
			assets: vec![
				(USDM, asset_owner.clone(), true, 1_000_000u128),
				(XBTC, asset_owner.clone(), true, 1_000u128),
				(MEME, asset_owner.clone(), true, 1_000_000u128),
			],
			metadata: vec![
				(USDM, b"margincall USD".to_vec(), b"USDM".to_vec(), DECIMALS),
				(XBTC, b"Wrapped bitcoin".to_vec(), b"XBTC".to_vec(), DECIMALS),
				(MEME, b"Meme coin".to_vec(), b"MEME".to_vec(), DECIMALS),
			],
			accounts: asset_accounts,
			next_asset_id: Some(100u32),
		},
		genesis_seed: GenesisSeedConfig {
			pools: POOLS
				.iter()
				.map(|(asset, amount, usdm)| (mm.clone(), Some(USDM), Some(*asset), *usdm, *amount))
				.collect::<Vec<_>>(),
			prices: genesis_prices(),
		},
		lending: LendingConfig { markets: markets(), reserves_donor: Some(mm.clone()) },
		// The most volatile collateral is seized first.
		liquidation: LiquidationConfig { risk_ranks: vec![(MEME, 2u8), (XBTC, 1u8), (USDM, 0u8)] },
		oracle_membership: OracleMembershipConfig {
			members: frame_support::BoundedVec::truncate_from(feeders),
		},
		// The guardian pauses markets and halts DEX routes, nothing else (a multisig on a real
		// network).
		guardian_membership: GuardianMembershipConfig {
			members: frame_support::BoundedVec::truncate_from(vec![guardian()]),
		},
		breaker: BreakerConfig { feed_quorum },
	})
}

/// The `development` preset: Alice alone authors and finalizes.
pub fn development_config_genesis() -> Value {
	testnet_genesis(
		vec![(Sr25519Keyring::Alice.public().into(), Ed25519Keyring::Alice.public().into())],
		vec![
			Sr25519Keyring::Alice.to_account_id(),
			Sr25519Keyring::Bob.to_account_id(),
			Sr25519Keyring::Charlie.to_account_id(),
			Sr25519Keyring::Dave.to_account_id(),
			Sr25519Keyring::Eve.to_account_id(),
			Sr25519Keyring::AliceStash.to_account_id(),
			Sr25519Keyring::BobStash.to_account_id(),
		],
		Sr25519Keyring::Alice.to_account_id(),
		// One feeder, Alice: her feed is the price (the quorum in force is a strict majority
		// of the feeders, so a chain with more feeders needs more of them).
		dev_feeders(),
		1,
	)
}

/// The `local_testnet` preset: Alice, Bob, Charlie and Dave author and finalize. Four, not
/// three: GRANDPA finalizes with more than two thirds of its voters, so three equal voters
/// need all three, and four keep finalizing through one validator's outage.
pub fn local_config_genesis() -> Value {
	testnet_genesis(
		vec![
			(Sr25519Keyring::Alice.public().into(), Ed25519Keyring::Alice.public().into()),
			(Sr25519Keyring::Bob.public().into(), Ed25519Keyring::Bob.public().into()),
			(Sr25519Keyring::Charlie.public().into(), Ed25519Keyring::Charlie.public().into()),
			(Sr25519Keyring::Dave.public().into(), Ed25519Keyring::Dave.public().into()),
		],
		Sr25519Keyring::iter()
			.filter(|v| v != &Sr25519Keyring::One && v != &Sr25519Keyring::Two)
			.map(|v| v.to_account_id())
			.collect::<Vec<_>>(),
		Sr25519Keyring::Alice.to_account_id(),
		// A price needs two of the three feeders, fresh.
		local_feeders(),
		2,
	)
}

/// The JSON patch of the preset `id`.
pub fn get_preset(id: &PresetId) -> Option<Vec<u8>> {
	let patch = match id.as_ref() {
		sp_genesis_builder::DEV_RUNTIME_PRESET => development_config_genesis(),
		sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET => local_config_genesis(),
		_ => return None,
	};
	Some(
		serde_json::to_string(&patch)
			.expect("serialization to json is expected to work. qed.")
			.into_bytes(),
	)
}

/// Names of the presets.
pub fn preset_names() -> Vec<PresetId> {
	vec![
		PresetId::from(sp_genesis_builder::DEV_RUNTIME_PRESET),
		PresetId::from(sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET),
	]
}
