//! What an account may do beyond its own calls: batches (`pallet-utility`) and proxies
//! (`pallet-proxy`), e.g. a keeper bot acting for a cold account.

use crate::{Balance, Balances, OriginCaller, Runtime, RuntimeCall, RuntimeEvent, System, UNIT};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{parameter_types, traits::InstanceFilter};
use scale_info::TypeInfo;
use sp_runtime::{traits::BlakeTwo256, RuntimeDebug};

impl pallet_utility::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeCall = RuntimeCall;
	type PalletsOrigin = OriginCaller;
	type WeightInfo = pallet_utility::weights::SubstrateWeight<Runtime>;
}

/// What a proxy may do for the account that named it.
#[derive(
	Copy,
	Clone,
	Eq,
	PartialEq,
	Ord,
	PartialOrd,
	Default,
	Encode,
	Decode,
	DecodeWithMemTracking,
	RuntimeDebug,
	MaxEncodedLen,
	TypeInfo,
)]
pub enum ProxyType {
	/// Anything.
	#[default]
	Any,
	/// Anything but moving tokens away (balances, assets, DEX swaps, repaying another's
	/// debt).
	NonTransfer,
	/// Governance: referenda, votes, preimages.
	Governance,
	/// A keeper bot: liquidate with the account's funds, settle, buy from auctions, refile,
	/// and withdraw the collateral supply it received (to the account itself); batches of
	/// these.
	Keeper,
}

impl InstanceFilter<RuntimeCall> for ProxyType {
	fn filter(&self, c: &RuntimeCall) -> bool {
		use pallet_lending::Call as Lending;
		use pallet_liquidation::Call as Liquidation;
		match self {
			ProxyType::Any => true,
			ProxyType::NonTransfer => !matches!(
				c,
				RuntimeCall::Balances(..)
					| RuntimeCall::Assets(..)
					| RuntimeCall::PoolAssets(..)
					| RuntimeCall::AssetConversion(..)
					| RuntimeCall::Lending(Lending::repay_on_behalf { .. })
			),
			ProxyType::Governance => matches!(
				c,
				RuntimeCall::Referenda(..)
					| RuntimeCall::ConvictionVoting(..)
					| RuntimeCall::Preimage(..)
					| RuntimeCall::Utility(..)
			),
			ProxyType::Keeper => matches!(
				c,
				RuntimeCall::Liquidation(
					Liquidation::liquidate { .. }
						| Liquidation::settle { .. }
						| Liquidation::settle_batch { .. }
						| Liquidation::take { .. }
						| Liquidation::redo { .. }
						| Liquidation::refile { .. }
				) | RuntimeCall::Lending(Lending::withdraw { .. })
					| RuntimeCall::Utility(..)
			),
		}
	}

	fn is_superset(&self, o: &Self) -> bool {
		match (self, o) {
			(x, y) if x == y => true,
			(ProxyType::Any, _) => true,
			(_, ProxyType::Any) => false,
			(ProxyType::NonTransfer, ProxyType::Governance | ProxyType::Keeper) => true,
			_ => false,
		}
	}
}

parameter_types! {
	/// Held for naming proxies: 1 MCL, plus 0.1 MCL a proxy.
	pub const ProxyDepositBase: Balance = UNIT;
	pub const ProxyDepositFactor: Balance = UNIT / 10;
	/// Held for announced proxy calls: 1 MCL, plus 0.1 MCL an announcement.
	pub const AnnouncementDepositBase: Balance = UNIT;
	pub const AnnouncementDepositFactor: Balance = UNIT / 10;
}

impl pallet_proxy::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeCall = RuntimeCall;
	type Currency = Balances;
	type ProxyType = ProxyType;
	type ProxyDepositBase = ProxyDepositBase;
	type ProxyDepositFactor = ProxyDepositFactor;
	type MaxProxies = frame_support::traits::ConstU32<32>;
	type WeightInfo = pallet_proxy::weights::SubstrateWeight<Runtime>;
	type MaxPending = frame_support::traits::ConstU32<32>;
	type CallHasher = BlakeTwo256;
	type AnnouncementDepositBase = AnnouncementDepositBase;
	type AnnouncementDepositFactor = AnnouncementDepositFactor;
	type BlockNumberProvider = System;
}
