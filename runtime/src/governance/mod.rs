//! OpenGov for margincall: `pallet-referenda` with two tracks and the custom origins they
//! dispatch with.
//!
//! - Track 0, `root`: anything, with the slowest periods and the highest bar.
//! - Track 1, `risk_admin`: dispatches with [`origins::Origin::RiskAdmin`], the origin the lending
//!   and liquidation pallets accept (beside root) to change risk parameters. Shorter periods
//!   than root, because risk parameters must follow markets, but a higher approval floor than a
//!   general-purpose track.

pub mod origins;
pub mod tracks;

use crate::{AccountId, Runtime};
use frame_support::{
	parameter_types,
	traits::{EitherOf, MapSuccess},
};
use margincall_rails::Authority;
use sp_runtime::traits::Replace;

pub use origins::RiskAdmin as EnsureRiskAdminTrack;

parameter_types! {
	/// A referendum on the risk track: within the guard rails.
	pub const BoundedAuthority: Authority = Authority::Bounded;
	/// Root: within the absolute bounds only.
	pub const UnboundedAuthority: Authority = Authority::Unbounded;
}

/// The origin that may change risk parameters: root (sudo on dev chains, the root track; the
/// absolute bounds only) or a referendum on the risk track (the guard rails too: steps and
/// intervals, `margincall_rails`).
pub type RiskAdminOrigin = EitherOf<
	MapSuccess<frame_system::EnsureRoot<AccountId>, Replace<UnboundedAuthority>>,
	MapSuccess<origins::RiskAdmin, Replace<BoundedAuthority>>,
>;

/// The guardians (`guardianMembership`, changed by [`RiskAdminOrigin`]): may pause a lending
/// market (`lending.pauseMarket`) and halt an asset's DEX route (`breaker.halt`) at once, and
/// nothing else; only governance lifts either.
pub type GuardianOrigin = frame_system::EnsureSignedBy<crate::GuardianMembership, AccountId>;

impl origins::Config for Runtime {}

/// The account that holds the roles (owner, issuer, admin, freezer) of every asset with a
/// lending market. No key controls it: only root (a referendum, or sudo on dev chains) can act
/// on those assets, through `pallet-assets`' `force_*` calls.
pub fn asset_governance_account() -> AccountId {
	use sp_runtime::traits::AccountIdConversion;
	frame_support::PalletId(*b"mc/asgov").into_account_truncating()
}

/// The accounts the lending pallet accepts in an asset's roles: [`asset_governance_account`].
pub struct AssetGovernance;
impl frame_support::traits::Contains<AccountId> for AssetGovernance {
	fn contains(who: &AccountId) -> bool {
		*who == asset_governance_account()
	}
}
