//! Standing liquidation bids (`pallet-bids`, #28): market makers' debt assets held on their own
//! accounts (`pallet-assets-holder`), bounded per pair and per account, each with a deposit.

use super::lending::MaxPriceAge;
use crate::{AccountId, AssetId, AssetsHolder, Balance, Balances, Lending, Runtime, Timestamp};
use frame_support::{
	parameter_types,
	traits::{ConstU32, Get},
};
use pallet_lending::{LendingPositions, PriceSource};
use sp_arithmetic::{FixedPointNumber, PerThing, Permill};

parameter_types! {
	/// A bid's deposit: 1 MCL, back when it leaves the book.
	pub const BidDeposit: Balance = crate::UNIT;
	/// A bid holds at least USD 100 (the oracle's reference unit has 12 decimals).
	pub const MinBidValue: u128 = 100 * super::liquidation::USD;
	/// Ten blocks (one minute) from placing to the first fill: no last-second bid ahead of a
	/// liquidation its bidder sees coming (Kujira ORCA's activation delay).
	pub const ActivationDelay: crate::BlockNumber = 10;
	/// A bid expires at most 30 days after it is placed.
	pub const MaxLifetime: crate::BlockNumber = 30 * crate::DAYS;
}

/// The lending markets bids may be for: a collateral's bonus bounds a bid's discount; a bid
/// is valued at the checked oracle price (the one liquidations read).
pub struct LendingMarkets;
impl pallet_bids::BidMarkets<AccountId, AssetId> for LendingMarkets {
	/// What a bid can fill at: the bonus and the DEX's slippage bound, the lower, `x`, as
	/// a bid's discount (`x / (1 + x)`: a bid at `d` takes `1 / (1 - d)` of the oracle's
	/// amount); a bid above it could never fill.
	fn max_discount(collateral: &AssetId) -> Option<Permill> {
		let bonus =
			<Lending as LendingPositions<AccountId>>::market_params(collateral)?.liquidation_bonus;
		let x = bonus.min(pallet_liquidation::Params::<Runtime>::get().max_slippage).deconstruct();
		Permill::from_rational_with_rounding(
			x,
			Permill::ACCURACY.saturating_add(x),
			sp_arithmetic::Rounding::Down,
		)
		.ok()
	}
	fn is_market(asset: &AssetId) -> bool {
		<Lending as LendingPositions<AccountId>>::market_params(asset).is_some()
	}
	fn value(asset: &AssetId, amount: u128) -> Option<u128> {
		let price = pallet_lending::OraclePrices::<
			super::breaker::CheckedPrices,
			Timestamp,
			MaxPriceAge,
		>::price(asset)
		.ok()?;
		Some(price.saturating_mul_int(amount))
	}
	fn accepts(owner: &AccountId, collateral: &AssetId) -> bool {
		let supplies = <Lending as LendingPositions<AccountId>>::account_assets(owner).supplies;
		supplies.iter().any(|(asset, _)| asset == collateral)
			|| supplies.len() < super::lending::MAX_ASSETS_PER_ACCOUNT as usize
	}
}

impl pallet_bids::Config for Runtime {
	type RuntimeEvent = crate::RuntimeEvent;
	type AssetId = AssetId;
	type AssetHolds = AssetsHolder;
	type Currency = Balances;
	type RuntimeHoldReason = crate::RuntimeHoldReason;
	type Markets = LendingMarkets;
	type BidDeposit = BidDeposit;
	type MinBidValue = MinBidValue;
	type ActivationDelay = ActivationDelay;
	type MaxLifetime = MaxLifetime;
	/// A fill reads the pair's book (64 entries of 20 bytes) and the bids it uses.
	type MaxBidsPerPair = ConstU32<64>;
	type MaxBidsPerAccount = ConstU32<16>;
	/// A seizure reads at most 4 bids (their fills, each a transfer and a seizure, bound its
	/// weight).
	type MaxFills = ConstU32<4>;
	type WeightInfo = pallet_bids::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = BidsBenchmarkHelper;
}

/// The dev preset's XBTC/USDM pair with fresh prices; funds minted.
#[cfg(feature = "runtime-benchmarks")]
pub struct BidsBenchmarkHelper;
#[cfg(feature = "runtime-benchmarks")]
impl pallet_bids::BenchmarkHelper<AssetId, AccountId> for BidsBenchmarkHelper {
	fn pair() -> (AssetId, AssetId) {
		use super::lending::LendingBenchmarkHelper as H;
		use pallet_lending::BenchmarkHelper as _;
		H::set_price(1, super::Price::from_u32(1));
		H::set_price(2, super::Price::from_u32(60_000));
		(2, 1)
	}
	fn fund(who: &AccountId, asset: AssetId, amount: u128) {
		use frame_support::traits::{fungible::Mutate as _, fungibles::Mutate as _};
		crate::Assets::mint_into(asset, who, amount).expect("minting an asset works");
		Balances::mint_into(who, 1_000 * crate::UNIT).expect("minting native works");
	}
}

/// The liquidation pallet's view of the bid book (`pallet_liquidation::StandingBids`).
pub struct BidBook;
impl pallet_liquidation::StandingBids<AccountId, AssetId> for BidBook {
	fn quote(
		collateral: AssetId,
		debt: AssetId,
		repay: u128,
		prices: (sp_arithmetic::FixedU128, sp_arithmetic::FixedU128),
		max_discount: Permill,
		sellers: &[AccountId],
	) -> alloc::vec::Vec<pallet_liquidation::BidFill<AccountId>> {
		crate::Bids::quote(collateral, debt, repay, prices, max_discount, sellers)
			.into_iter()
			.map(|f| pallet_liquidation::BidFill {
				id: f.id,
				owner: f.owner,
				collateral: f.collateral,
				debt: f.debt,
			})
			.collect()
	}
	fn take(
		fill: &pallet_liquidation::BidFill<AccountId>,
		to: &AccountId,
	) -> sp_runtime::DispatchResult {
		let fill = pallet_bids::Fill {
			id: fill.id,
			owner: fill.owner.clone(),
			collateral: fill.collateral,
			debt: fill.debt,
		};
		crate::Bids::take(&fill, to)
	}
	fn quote_weight() -> frame_support::weights::Weight {
		use pallet_bids::WeightInfo;
		// Measured in the runtime: `MaxFills` bids read, each owner's positions read
		// (`BidMarkets::accepts`), each bid checked against 512 sellers (a batch's lot: `MaxSettleBatch`).
		pallet_bids::weights::SubstrateWeight::<Runtime>::quote()
	}
	fn take_weight() -> frame_support::weights::Weight {
		use pallet_bids::WeightInfo;
		pallet_bids::weights::SubstrateWeight::<Runtime>::take()
	}
	fn max_fills() -> u32 {
		<Runtime as pallet_bids::Config>::MaxFills::get()
	}
	fn has_bids(collateral: AssetId, debt: AssetId) -> bool {
		// A bid unexpired that may fill before the worker's call expires (it names the block it
		// was made at and lives `UnsignedLongevity` blocks more): an expired bid, or one placed
		// now and active later, would only make the worker declare more than may be sold.
		let now = frame_system::Pallet::<Runtime>::block_number();
		let longevity: u32 =
			<<Runtime as pallet_liquidation::Config>::UnsignedLongevity as Get<u32>>::get();
		let until = now.saturating_add(longevity.saturating_add(1));
		pallet_bids::Book::<Runtime>::get((collateral, debt))
			.iter()
			.any(|entry| now < entry.expires_at && entry.active_from <= until)
	}
}
