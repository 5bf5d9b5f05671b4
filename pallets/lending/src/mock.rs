//! Test runtime: real `pallet-balances`, `pallet-assets` and `pallet-timestamp`, the real
//! [`OraclePrices`] adapter over an in-memory oracle, and a recording `OnPositionChanged`.
//! Assets belong to a governance account ([`GOV`]); `ETH` has a realistic minimum balance
//! (10⁶ base units, as the runtime's USDM), the others 1.

use crate::{self as pallet_lending, *};
use core::cell::RefCell;
use frame_support::{
	assert_ok, derive_impl, ord_parameter_types, parameter_types,
	traits::{AsEnsureOriginWithArg, ConstU128, ConstU32, ConstU64, EitherOf, MapSuccess},
	PalletId,
};
use frame_system::{EnsureRoot, EnsureSigned, EnsureSignedBy};
use sp_arithmetic::{traits::Zero, FixedU128, Permill};
use sp_runtime::traits::Replace;
use sp_runtime::BuildStorage;
use std::collections::BTreeMap;

type Block = frame_system::mocking::MockBlock<Test>;
pub type AccountId = u64;
pub type AssetId = u32;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Timestamp: pallet_timestamp,
		Balances: pallet_balances,
		Assets: pallet_assets,
		Lending: pallet_lending,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountId = AccountId;
	type Lookup = sp_runtime::traits::IdentityLookup<AccountId>;
	type AccountData = pallet_balances::AccountData<u128>;
}

impl pallet_timestamp::Config for Test {
	type Moment = u64;
	type OnTimestampSet = ();
	type MinimumPeriod = ConstU64<1>;
	type WeightInfo = ();
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type Balance = u128;
	type ExistentialDeposit = ConstU128<1>;
	type AccountStore = System;
}

// Written out (no `derive_impl`): the prelude's `BenchmarkHelper` is gated on pallet-assets'
// `runtime-benchmarks` feature, which margincall never enables (see the workspace manifest).
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
	type Holder = ();
	type CallbackHandle = ();
}

thread_local! {
	static PRICES: RefCell<BTreeMap<AssetId, (FixedU128, u64)>> =
		const { RefCell::new(BTreeMap::new()) };
	static CHANGES: RefCell<Vec<(AccountId, Vec<AssetId>, RiskChange)>> = const { RefCell::new(Vec::new()) };
	static GATES: RefCell<BTreeMap<AssetId, FixedU128>> = const { RefCell::new(BTreeMap::new()) };
}

/// Records every `on_position_changed`, and keeps in each account's record how many debts it
/// has (none while it has none), as an index keeps where it filed an account.
pub struct RecordChanges;
impl OnPositionChanged<AccountId, AssetId> for RecordChanges {
	type Tag = Option<u32>;

	fn on_position_changed(
		who: &AccountId,
		shares: &crate::AccountShares<AssetId>,
		tag: &mut Option<u32>,
		assets: &[AssetId],
		change: RiskChange,
	) {
		CHANGES.with(|c| c.borrow_mut().push((*who, assets.to_vec(), change)));
		*tag = u32::try_from(shares.debts.len()).ok().filter(|n| *n > 0);
	}

	fn weight(_: RiskChange) -> frame_support::weights::Weight {
		frame_support::weights::Weight::zero()
	}
}
/// The position changes recorded since the last call (and forgets them).
pub fn take_changes() -> Vec<(AccountId, Vec<AssetId>, RiskChange)> {
	CHANGES.with(|c| core::mem::take(&mut *c.borrow_mut()))
}

/// An oracle whose values tests set directly.
pub struct MockOracle;
impl MockOracle {
	/// Sets `price` for `asset`, stamped with the current block time.
	pub fn set(asset: AssetId, price: FixedU128) {
		Self::set_at(asset, price, Timestamp::get());
	}
	/// Sets `price` for `asset`, stamped with `timestamp`.
	pub fn set_at(asset: AssetId, price: FixedU128, timestamp: u64) {
		PRICES.with(|p| p.borrow_mut().insert(asset, (price, timestamp)));
	}
	/// Removes `asset`'s price.
	pub fn remove(asset: AssetId) {
		PRICES.with(|p| p.borrow_mut().remove(&asset));
	}
	/// Every `(asset, price, timestamp)`.
	pub fn all() -> Vec<(AssetId, FixedU128, u64)> {
		PRICES.with(|p| p.borrow().iter().map(|(k, (v, t))| (*k, *v, *t)).collect())
	}
	/// Gates a liquidation against `asset` as collateral (a fall's wait; `None`: no gate).
	pub fn gate(asset: AssetId, gate: Option<FixedU128>) {
		GATES.with(|g| match gate {
			Some(gate) => g.borrow_mut().insert(asset, gate),
			None => g.borrow_mut().remove(&asset),
		});
	}
	fn clear() {
		PRICES.with(|p| p.borrow_mut().clear());
		GATES.with(|g| g.borrow_mut().clear());
	}
}
impl TimestampedPrices<AssetId> for MockOracle {
	fn timestamped_price(asset: &AssetId) -> Option<(FixedU128, u64)> {
		PRICES.with(|p| p.borrow().get(asset).copied())
	}
	fn liquidation_gate(asset: &AssetId) -> Option<FixedU128> {
		GATES.with(|g| g.borrow().get(asset).copied())
	}
}

parameter_types! {
	pub const LendingPalletId: PalletId = PalletId(*b"mc/lend_");
	/// One hour.
	pub const MaxPriceAge: u64 = 3_600_000;
	/// Six hours.
	pub const StalePriceGrace: u64 = 6 * 3_600_000;
	pub AssetAdmins: Vec<AccountId> = vec![GOV];
	pub MaxBorrowRate: FixedU128 = FixedU128::from_u32(10);
	/// The mock breaker's emergency and halted assets, set by tests.
	pub static BreakerEmergency: bool = false;
	pub static HaltedAssets: Vec<AssetId> = vec![];
	pub const Bounded: Authority = Authority::Bounded;
	pub const Unbounded: Authority = Authority::Unbounded;
	/// The rails of a bounded change (the runtime's, with a 10-block interval).
	pub const Rails: MarketRails = MarketRails {
		min_interval: 10,
		factor_step: Permill::from_percent(5),
		bonus_step: Permill::from_percent(2),
		share_step: Permill::from_percent(10),
		rate_step: FixedU128::from_rational(10, 100),
		amount_factor: 2,
	};
}

ord_parameter_types! {
	/// The account whose calls stand for a referendum on the risk track (bounded).
	pub const Steward: AccountId = STEWARD;
	/// The guardian: may pause a market, nothing else.
	pub const Guardian: AccountId = GUARDIAN;
}

/// Root changes within absolute bounds; [`STEWARD`] (the risk track) within the rails too.
pub type UpdateOrigin = EitherOf<
	MapSuccess<EnsureRoot<AccountId>, Replace<Unbounded>>,
	MapSuccess<EnsureSignedBy<Steward, AccountId>, Replace<Bounded>>,
>;

/// A circuit breaker whose state tests set.
pub struct MockBreaker;
impl BorrowBreaker<AssetId> for MockBreaker {
	fn emergency() -> bool {
		BreakerEmergency::get()
	}
	fn halted(asset: &AssetId) -> bool {
		HaltedAssets::get().contains(asset)
	}
}

/// Most markets per account in the mock.
pub const MAX_ASSETS: u32 = 4;

impl Config for Test {
	type AssetId = AssetId;
	type Assets = Assets;
	type AssetAdmins = AssetAdminsSet;
	type Prices = OraclePrices<MockOracle, Timestamp, MaxPriceAge>;
	type StalePriceGrace = StalePriceGrace;
	type UnixTime = Timestamp;
	type UpdateOrigin = UpdateOrigin;
	type PauseOrigin = EnsureSignedBy<Guardian, AccountId>;
	type Rails = Rails;
	type OnPositionChanged = RecordChanges;
	type Breaker = MockBreaker;
	type PalletId = LendingPalletId;
	type MaxAssetsPerAccount = ConstU32<MAX_ASSETS>;
	type MaxBorrowRate = MaxBorrowRate;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = MockBenchmarkHelper;
}

/// Benchmarks in the mock: assets via `force_create`, prices in the mock oracle.
#[cfg(feature = "runtime-benchmarks")]
pub struct MockBenchmarkHelper;
#[cfg(feature = "runtime-benchmarks")]
impl BenchmarkHelper<AssetId, AccountId> for MockBenchmarkHelper {
	fn asset(i: u32) -> AssetId {
		1000 + i
	}
	fn create_asset(asset: AssetId) {
		assert_ok!(Assets::force_create(RuntimeOrigin::root(), asset, GOV, true, 1_000));
	}
	fn set_price(asset: AssetId, price: FixedU128) {
		MockOracle::set(asset, price);
	}
	fn set_time(now: u64) {
		Timestamp::set_timestamp(now);
	}
}

/// The governance accounts that may hold asset roles.
pub struct AssetAdminsSet;
impl frame_support::traits::Contains<AccountId> for AssetAdminsSet {
	fn contains(who: &AccountId) -> bool {
		AssetAdmins::get().contains(who)
	}
}

// Accounts.
pub const ALICE: AccountId = 1;
pub const BOB: AccountId = 2;
pub const CHARLIE: AccountId = 3;
pub const DAVE: AccountId = 4;
/// The governance account that owns the assets (and funds each market's reserve floor).
pub const GOV: AccountId = 100;
/// Stands for a referendum on the risk track: changes within the rails.
pub const STEWARD: AccountId = 90;
/// The guardian: pauses markets.
pub const GUARDIAN: AccountId = 91;

// Assets.
pub const USD: AssetId = 1;
pub const BTC: AssetId = 2;
pub const MEME: AssetId = 3;
/// An asset with a realistic minimum balance ([`ETH_MIN`]) and a market.
pub const ETH: AssetId = 4;
/// ETH's minimum balance.
pub const ETH_MIN: u128 = 1_000_000;
/// An asset with no market.
pub const NO_MARKET: AssetId = 9;
/// An asset whose roles belong to an ordinary account (BOB): no market may be made for it.
pub const UNTRUSTED: AssetId = 8;

/// Every account starts with this much of every asset.
pub const START: u128 = 1_000_000_000;
/// Genesis time (ms).
pub const T0: u64 = 1_700_000_000_000;

pub fn fx(n: u128, d: u128) -> FixedU128 {
	FixedU128::from_rational(n, d)
}

pub fn usd_params() -> MarketParams {
	MarketParams {
		collateral_factor: Permill::from_percent(80),
		liquidation_threshold: Permill::from_percent(85),
		liquidation_bonus: Permill::from_percent(5),
		close_factor: Permill::from_percent(50),
		reserve_factor: Permill::from_percent(10),
		supply_cap: u128::MAX,
		borrow_cap: u128::MAX,
		min_borrow_value: 0,
		rate_model: RateModel {
			base: FixedU128::zero(),
			slope1: fx(4, 100),
			kink: fx(80, 100),
			slope2: fx(75, 100),
		},
		collateral_enabled: true,
		borrow_enabled: true,
		status: MarketStatus::Active,
	}
}

pub fn btc_params() -> MarketParams {
	MarketParams {
		collateral_factor: Permill::from_percent(70),
		liquidation_threshold: Permill::from_percent(75),
		liquidation_bonus: Permill::from_percent(10),
		reserve_factor: Permill::from_percent(20),
		rate_model: RateModel {
			base: fx(1, 100),
			slope1: fx(7, 100),
			kink: fx(65, 100),
			slope2: fx(300, 100),
		},
		..usd_params()
	}
}

pub fn meme_params() -> MarketParams {
	MarketParams {
		collateral_factor: Permill::from_percent(40),
		liquidation_threshold: Permill::from_percent(50),
		liquidation_bonus: Permill::from_percent(15),
		..btc_params()
	}
}

pub struct ExtBuilder {
	markets: bool,
}

impl Default for ExtBuilder {
	fn default() -> Self {
		Self { markets: true }
	}
}

impl ExtBuilder {
	/// No markets at genesis.
	pub fn without_markets(mut self) -> Self {
		self.markets = false;
		self
	}

	pub fn build(self) -> sp_io::TestExternalities {
		BreakerEmergency::set(false);
		HaltedAssets::set(vec![]);
		MockOracle::clear();
		let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
		let accounts = [ALICE, BOB, CHARLIE, DAVE, GOV];
		pallet_balances::GenesisConfig::<Test> {
			balances: accounts.iter().map(|a| (*a, START)).collect(),
			..Default::default()
		}
		.assimilate_storage(&mut storage)
		.unwrap();
		pallet_assets::GenesisConfig::<Test> {
			assets: [USD, BTC, MEME, NO_MARKET]
				.iter()
				.map(|id| (*id, GOV, true, 1))
				.chain([(ETH, GOV, true, ETH_MIN), (UNTRUSTED, BOB, true, 1)])
				.collect(),
			metadata: vec![],
			accounts: [USD, BTC, MEME, NO_MARKET, ETH, UNTRUSTED]
				.iter()
				.flat_map(|id| accounts.iter().map(move |a| (*id, *a, START)))
				.collect(),
			next_asset_id: None,
		}
		.assimilate_storage(&mut storage)
		.unwrap();
		let mut ext = sp_io::TestExternalities::new(storage);
		let markets = self.markets;
		ext.execute_with(|| {
			System::set_block_number(1);
			Timestamp::set_timestamp(T0);
			MockOracle::set(USD, FixedU128::from_u32(1));
			MockOracle::set(BTC, FixedU128::from_u32(100));
			MockOracle::set(MEME, fx(1, 2));
			MockOracle::set(NO_MARKET, FixedU128::from_u32(1));
			MockOracle::set(ETH, FixedU128::from_u32(2));
			MockOracle::set(UNTRUSTED, FixedU128::from_u32(1));
			if markets {
				for (asset, params, floor) in [
					(USD, usd_params(), 1),
					(BTC, btc_params(), 1),
					(MEME, meme_params(), 1),
					(ETH, btc_params(), ETH_MIN),
				] {
					assert_ok!(Lending::create_market(RuntimeOrigin::root(), asset, params));
					// Governance funds each market's reserve floor, as on a real chain.
					assert_ok!(Lending::add_reserves(RuntimeOrigin::signed(GOV), asset, floor));
				}
			}
			System::reset_events();
			take_changes();
		});
		ext
	}

	/// Runs `test`, then checks the pallet's invariants.
	pub fn build_and_execute(self, test: impl FnOnce()) {
		self.build().execute_with(|| {
			test();
			Lending::do_try_state().expect("invariants hold after the test");
		})
	}
}

/// Moves block time forward by `ms`, keeping every oracle price fresh (re-stamped at the new
/// time) unless `refresh` is false.
pub fn advance(ms: u64, refresh: bool) {
	let now = Timestamp::get() + ms;
	Timestamp::set_timestamp(now);
	System::set_block_number(System::block_number() + 1);
	if refresh {
		for (asset, price, _) in MockOracle::all() {
			MockOracle::set_at(asset, price, now);
		}
	}
}

/// The lending events since the last reset.
pub fn lending_events() -> Vec<Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|r| if let RuntimeEvent::Lending(e) = r.event { Some(e) } else { None })
		.collect()
}

pub fn balance(asset: AssetId, who: AccountId) -> u128 {
	<Assets as frame_support::traits::fungibles::Inspect<AccountId>>::balance(asset, &who)
}

pub fn pallet_account() -> AccountId {
	Lending::account_id()
}
