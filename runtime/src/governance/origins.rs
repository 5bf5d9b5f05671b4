//! Custom origins for governance tracks.
//!
//! A referendum on a track other than root dispatches its call with that track's origin; the
//! pallets that own a parameter accept the origin through `EnsureOrigin`.

pub use pallet_custom_origins::*;

#[frame_support::pallet]
pub mod pallet_custom_origins {
	use frame_support::pallet_prelude::*;

	/// No configuration: the pallet only declares an origin.
	#[pallet::config]
	pub trait Config: frame_system::Config {}

	/// The pallet, holding no storage and no calls.
	#[pallet::pallet]
	pub struct Pallet<T>(_);

	/// The origins of the governance tracks other than root.
	#[derive(
		PartialEq,
		Eq,
		Clone,
		MaxEncodedLen,
		Encode,
		Decode,
		DecodeWithMemTracking,
		TypeInfo,
		RuntimeDebug,
	)]
	#[pallet::origin]
	pub enum Origin {
		/// A referendum passed on the risk track: may change risk parameters of the lending
		/// and liquidation pallets.
		RiskAdmin,
	}

	/// `EnsureOrigin` that accepts only [`Origin::RiskAdmin`].
	pub struct RiskAdmin;
	impl<O: OriginTrait + From<Origin>> EnsureOrigin<O> for RiskAdmin
	where
		for<'a> &'a O::PalletsOrigin: TryInto<&'a Origin>,
	{
		type Success = ();

		fn try_origin(o: O) -> Result<Self::Success, O> {
			if let Ok(Origin::RiskAdmin) = o.caller().try_into() {
				return Ok(());
			}
			Err(o)
		}

		#[cfg(feature = "runtime-benchmarks")]
		fn try_successful_origin() -> Result<O, ()> {
			Ok(O::from(Origin::RiskAdmin))
		}
	}
}
