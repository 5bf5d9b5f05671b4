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
use frame_support::traits::EitherOf;

pub use origins::RiskAdmin as EnsureRiskAdminTrack;

/// The origin that may change risk parameters: root (sudo on dev chains, the root track) or a
/// referendum on the risk track.
pub type RiskAdminOrigin = EitherOf<frame_system::EnsureRoot<AccountId>, origins::RiskAdmin>;

impl origins::Config for Runtime {}
