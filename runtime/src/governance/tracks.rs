//! Referenda tracks: `root` and `risk_admin`.

use super::origins;
use crate::{Balance, BlockNumber, RuntimeOrigin, DAYS, HOURS, MINUTES, UNIT};
use alloc::borrow::Cow;
use pallet_referenda::{Curve, Track, TrackInfo};
use sp_runtime::str_array as s;

/// Track id of `root`.
pub const ROOT: u16 = 0;
/// Track id of `risk_admin`.
pub const RISK_ADMIN: u16 = 1;

const fn percent(x: i32) -> sp_arithmetic::FixedI64 {
	sp_arithmetic::FixedI64::from_rational(x as u128, 100)
}

const APP_ROOT: Curve = Curve::make_reciprocal(4, 28, percent(80), percent(50), percent(100));
const SUP_ROOT: Curve = Curve::make_linear(28, 28, percent(0), percent(50));
const APP_RISK: Curve = Curve::make_linear(7, 7, percent(60), percent(100));
const SUP_RISK: Curve = Curve::make_reciprocal(1, 7, percent(1), percent(0), percent(20));

const TRACKS: [Track<u16, Balance, BlockNumber>; 2] = [
	Track {
		id: ROOT,
		info: TrackInfo {
			name: s("root"),
			max_deciding: 1,
			decision_deposit: 100_000 * UNIT,
			prepare_period: 2 * HOURS,
			decision_period: 14 * DAYS,
			confirm_period: DAYS,
			min_enactment_period: DAYS,
			min_approval: APP_ROOT,
			min_support: SUP_ROOT,
		},
	},
	Track {
		id: RISK_ADMIN,
		info: TrackInfo {
			name: s("risk_admin"),
			max_deciding: 10,
			decision_deposit: 10_000 * UNIT,
			prepare_period: 10 * MINUTES,
			decision_period: 3 * DAYS,
			confirm_period: HOURS,
			min_enactment_period: 10 * MINUTES,
			min_approval: APP_RISK,
			min_support: SUP_RISK,
		},
	},
];

/// The track table of the runtime.
pub struct TracksInfo;
impl pallet_referenda::TracksInfo<Balance, BlockNumber> for TracksInfo {
	type Id = u16;
	type RuntimeOrigin = <RuntimeOrigin as frame_support::traits::OriginTrait>::PalletsOrigin;

	fn tracks() -> impl Iterator<Item = Cow<'static, Track<Self::Id, Balance, BlockNumber>>> {
		TRACKS.iter().map(Cow::Borrowed)
	}

	fn track_for(id: &Self::RuntimeOrigin) -> Result<Self::Id, ()> {
		if let Ok(system_origin) = frame_system::RawOrigin::try_from(id.clone()) {
			match system_origin {
				frame_system::RawOrigin::Root => Ok(ROOT),
				_ => Err(()),
			}
		} else if let Ok(custom_origin) = origins::Origin::try_from(id.clone()) {
			match custom_origin {
				origins::Origin::RiskAdmin => Ok(RISK_ADMIN),
			}
		} else {
			Err(())
		}
	}
}
