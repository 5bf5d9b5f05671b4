//! Test runtime: `pallet-assets` with `pallet-assets-holder` (the escrow is a real hold),
//! `pallet-balances` (the deposit), and markets with prices in memory (realistic: 12-decimal
//! assets, USDM at 1, XBTC at 60,000, XBTC's liquidation bonus 5%).

use crate::{self as pallet_bids, *};
use core::cell::RefCell;
use frame_support::{
	derive_impl, parameter_types,
	traits::{AsEnsureOriginWithArg, ConstU128, ConstU32, ConstU64},
};
use frame_system::{EnsureRoot, EnsureSigned};
use sp_arithmetic::{FixedPointNumber, FixedU128, Permill};
use sp_runtime::BuildStorage;
use std::collections::BTreeMap;

type Block = frame_system::mocking::MockBlock<Test>;
pub type AccountId = u64;
pub type AssetId = u32;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		Assets: pallet_assets,
		AssetsHolder: pallet_assets_holder,
		Bids: pallet_bids,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountId = AccountId;
	type Lookup = sp_runtime::traits::IdentityLookup<AccountId>;
	type AccountData = pallet_balances::AccountData<u128>;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type Balance = u128;
	type ExistentialDeposit = ConstU128<{ UNIT / 1_000 }>;
	type AccountStore = System;
	type RuntimeHoldReason = RuntimeHoldReason;
}

impl pallet_assets::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type RemoveItemsLimit = ConstU32<5>;
	type StringLimit = ConstU32<50>;
	type Extra = ();
	type WeightInfo = ();
	type Balance = u128;
	type AssetId = AssetId;
	type AssetIdParameter = AssetId;
	type Currency = Balances;
	type CreateOrigin = AsEnsureOriginWithArg<EnsureSigned<AccountId>>;
	type ForceOrigin = EnsureRoot<AccountId>;
	type AssetDeposit = ConstU128<0>;
	type AssetAccountDeposit = ConstU128<0>;
	type MetadataDepositBase = ConstU128<0>;
	type MetadataDepositPerByte = ConstU128<0>;
	type ApprovalDeposit = ConstU128<0>;
	type Freezer = ();
	type Holder = AssetsHolder;
	type CallbackHandle = ();
}

impl pallet_assets_holder::Config for Test {
	type RuntimeHoldReason = RuntimeHoldReason;
	type RuntimeEvent = RuntimeEvent;
}

/// 12 decimals, as every dev asset.
pub const UNIT: u128 = 1_000_000_000_000;
pub const USDM: AssetId = 1;
pub const XBTC: AssetId = 2;
/// An asset with no lending market.
pub const JUNK: AssetId = 9;
pub const ALICE: AccountId = 1;
pub const BOB: AccountId = 2;
pub const CHARLIE: AccountId = 3;
/// Holds no native tokens (cannot pay a deposit).
pub const PAUPER: AccountId = 4;
pub const DEPOSIT: u128 = UNIT;

thread_local! {
	/// Owners who cannot take collateral as lending supply now (their markets are full).
	static FULL: RefCell<Vec<AccountId>> = const { RefCell::new(Vec::new()) };
	/// Each market's liquidation bonus and oracle price (`None`: no fresh price).
	static MARKETS: RefCell<BTreeMap<AssetId, (Permill, Option<FixedU128>)>> = const { RefCell::new(BTreeMap::new()) };
}

/// The markets bids may be for.
pub struct MockMarkets;
impl MockMarkets {
	/// `owner`'s lending markets are full: it cannot take another collateral as supply.
	pub fn fill_markets_of(owner: AccountId) {
		FULL.with(|f| f.borrow_mut().push(owner));
	}
	pub fn set(asset: AssetId, bonus: Permill, price: Option<FixedU128>) {
		MARKETS.with(|m| m.borrow_mut().insert(asset, (bonus, price)));
	}
}
impl BidMarkets<AccountId, AssetId> for MockMarkets {
	fn max_discount(collateral: &AssetId) -> Option<Permill> {
		MARKETS.with(|m| m.borrow().get(collateral).map(|(bonus, _)| *bonus))
	}
	fn is_market(asset: &AssetId) -> bool {
		MARKETS.with(|m| m.borrow().contains_key(asset))
	}
	fn value(asset: &AssetId, amount: u128) -> Option<u128> {
		let price = MARKETS.with(|m| m.borrow().get(asset).and_then(|(_, p)| *p))?;
		Some(price.saturating_mul_int(amount))
	}
	fn accepts(owner: &AccountId, _: &AssetId) -> bool {
		!FULL.with(|f| f.borrow().contains(owner))
	}
}

parameter_types! {
	pub const BidDeposit: u128 = DEPOSIT;
}

impl Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type AssetId = AssetId;
	type AssetHolds = AssetsHolder;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Markets = MockMarkets;
	type BidDeposit = BidDeposit;
	type MinBidValue = ConstU128<{ 100 * UNIT }>;
	type ActivationDelay = ConstU64<10>;
	type MaxLifetime = ConstU64<1_000>;
	type MaxBidsPerPair = ConstU32<4>;
	type MaxBidsPerAccount = ConstU32<3>;
	type MaxFills = ConstU32<3>;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = MockHelper;
}

#[cfg(feature = "runtime-benchmarks")]
pub struct MockHelper;
#[cfg(feature = "runtime-benchmarks")]
impl BenchmarkHelper<AssetId, AccountId> for MockHelper {
	fn pair() -> (AssetId, AssetId) {
		markets();
		(XBTC, USDM)
	}
	fn fund(who: &AccountId, asset: AssetId, amount: u128) {
		frame_support::assert_ok!(
			<Assets as frame_support::traits::fungibles::Mutate<_>>::mint_into(asset, who, amount)
		);
		frame_support::assert_ok!(
			<Balances as frame_support::traits::fungible::Mutate<_>>::mint_into(who, 1_000 * UNIT)
		);
	}
}

/// USDM and XBTC have markets (XBTC's bonus 5%), at 1 and 60,000.
pub fn markets() {
	MockMarkets::set(USDM, Permill::from_percent(5), Some(FixedU128::from_u32(1)));
	MockMarkets::set(XBTC, Permill::from_percent(5), Some(FixedU128::from_u32(60_000)));
}

pub fn new_test_ext() -> sp_io::TestExternalities {
	let mut t = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	pallet_balances::GenesisConfig::<Test> {
		balances: vec![(ALICE, 1_000 * UNIT), (BOB, 1_000 * UNIT), (CHARLIE, 1_000 * UNIT)],
		..Default::default()
	}
	.assimilate_storage(&mut t)
	.unwrap();
	pallet_assets::GenesisConfig::<Test> {
		assets: vec![(USDM, ALICE, true, UNIT / 100), (XBTC, ALICE, true, UNIT / 100_000)],
		metadata: vec![],
		accounts: vec![
			(USDM, ALICE, 1_000_000 * UNIT),
			(USDM, BOB, 1_000_000 * UNIT),
			(USDM, CHARLIE, 1_000_000 * UNIT),
			(USDM, PAUPER, 1_000_000 * UNIT),
		],
		next_asset_id: None,
	}
	.assimilate_storage(&mut t)
	.unwrap();
	let mut ext: sp_io::TestExternalities = t.into();
	ext.execute_with(|| {
		System::set_block_number(1);
		MARKETS.with(|m| m.borrow_mut().clear());
		markets();
	});
	ext
}
