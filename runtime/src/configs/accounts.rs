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
	/// The account's own lending and governance, nothing that moves its tokens to another
	/// account: lending (supply, withdraw, borrow, repay its own debt, collateral switches),
	/// `settle`/`redo`/`refile`/`prune_keys` (no capital), referenda, votes, preimages, oracle feeds (a
	/// feeder's hot key), batches of these.
	NonTransfer,
	/// Governance: referenda, votes, preimages, batches of these.
	Governance,
	/// A keeper bot: liquidate with the account's funds, settle, buy from auctions, refile,
	/// prune the risk index's empty keys, and withdraw supply (to the account itself); batches of these. `take` pays up to the
	/// `max_price` the proxy names: the account trusts the bot with its prices.
	Keeper,
}

impl InstanceFilter<RuntimeCall> for ProxyType {
	fn filter(&self, c: &RuntimeCall) -> bool {
		use pallet_lending::Call as Lending;
		use pallet_liquidation::Call as Liquidation;
		use pallet_utility::Call as Utility;
		// Batches only (no `as_derivative`, no `dispatch_as`): each call in one is filtered.
		let batch = matches!(
			c,
			RuntimeCall::Utility(
				Utility::batch { .. } | Utility::batch_all { .. } | Utility::force_batch { .. }
			)
		);
		let governance = matches!(
			c,
			RuntimeCall::Referenda(..)
				| RuntimeCall::ConvictionVoting(..)
				| RuntimeCall::Preimage(..)
		);
		match self {
			ProxyType::Any => true,
			ProxyType::NonTransfer => {
				batch
					|| governance || matches!(
					c,
					RuntimeCall::Lending(
						Lending::supply { .. }
							| Lending::withdraw { .. }
							| Lending::borrow { .. }
							| Lending::repay { .. }
							| Lending::enable_collateral { .. }
							| Lending::disable_collateral { .. }
					) | RuntimeCall::Liquidation(
						Liquidation::settle { .. }
							| Liquidation::settle_batch { .. }
							| Liquidation::redo { .. }
							| Liquidation::refile { .. }
							| Liquidation::prune_keys { .. }
					) | RuntimeCall::Oracle(orml_oracle::Call::feed_values { .. })
				)
			},
			ProxyType::Governance => batch || governance,
			ProxyType::Keeper => {
				batch
					|| matches!(
						c,
						RuntimeCall::Liquidation(
							Liquidation::liquidate { .. }
								| Liquidation::settle { .. }
								| Liquidation::settle_batch { .. }
								| Liquidation::take { .. }
								| Liquidation::redo { .. }
								| Liquidation::refile { .. }
								| Liquidation::prune_keys { .. }
						) | RuntimeCall::Lending(Lending::withdraw { .. })
					)
			},
		}
	}

	fn is_superset(&self, o: &Self) -> bool {
		match (self, o) {
			(x, y) if x == y => true,
			(ProxyType::Any, _) => true,
			(_, ProxyType::Any) => false,
			(ProxyType::NonTransfer, ProxyType::Governance) => true,
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
