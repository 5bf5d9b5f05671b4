//! Risk parameters and treasury transfers, within the rails.

use crate::{pallet::*, types::*};
use frame_support::{ensure, pallet_prelude::DispatchResult, traits::Get};
use margincall_rails::Authority;
use pallet_lending::LendingPositions;
use sp_runtime::SaturatedConversion;

impl<T: Config> Pallet<T> {
	/// Checks a change of `record` by `authority` against the rails (nothing for root), and
	/// records it: the interval since the record's last change, then each value's step.
	pub(crate) fn on_rails(
		record: ParamRecord,
		authority: Authority,
		steps: impl FnOnce(margincall_rails::Steps) -> margincall_rails::Steps,
	) -> DispatchResult {
		let now = frame_system::Pallet::<T>::block_number();
		let last = LastParamsChange::<T>::get(record).map(|b| b.saturated_into());
		margincall_rails::check(authority, last, now.saturated_into(), T::Rails::get(), steps)
			.map_err(|refusal| match refusal {
				margincall_rails::Refusal::TooSoon => Error::<T>::ChangeTooSoon,
				margincall_rails::Refusal::Step(name) => {
					log::debug!(target: "runtime::liquidation", "{record:?}: {name} beyond its step");
					Error::<T>::StepTooLarge
				},
			})?;
		LastParamsChange::<T>::insert(record, now);
		Ok(())
	}

	pub(crate) fn do_update_params(
		params: LiquidationParams,
		authority: Authority,
	) -> DispatchResult {
		params.validate(T::MaxDustValue::get()).map_err(|e| match e {
			ParamsError::TargetHealthOutOfRange => Error::<T>::TargetHealthOutOfRange,
			ParamsError::MaxDiscountHealthOutOfRange => Error::<T>::MaxDiscountHealthOutOfRange,
			ParamsError::ProtocolFeeOutOfRange => Error::<T>::ProtocolFeeOutOfRange,
			ParamsError::CallerTipOutOfRange => Error::<T>::CallerTipOutOfRange,
			ParamsError::MaxSlippageOutOfRange => Error::<T>::MaxSlippageOutOfRange,
			ParamsError::BackstopDiscountOutOfRange => Error::<T>::BackstopDiscountOutOfRange,
			ParamsError::DustValueOutOfRange => Error::<T>::DustValueOutOfRange,
			ParamsError::PoolBlockShareOutOfRange => Error::<T>::PoolBlockShareOutOfRange,
		})?;
		let old = Params::<T>::get();
		Self::on_rails(ParamRecord::Liquidation, authority, |s| {
			s.fixed("target_health", old.target_health, params.target_health)
				.fixed(
					"health_for_max_discount",
					old.health_for_max_discount,
					params.health_for_max_discount,
				)
				.points("min_discount_share", old.min_discount_share, params.min_discount_share)
				.points("protocol_fee", old.protocol_fee, params.protocol_fee)
				.points("insurance_share", old.insurance_share, params.insurance_share)
				.points("caller_tip", old.caller_tip, params.caller_tip)
				.amount("caller_tip_cap", old.caller_tip_cap, params.caller_tip_cap)
				.points("max_slippage", old.max_slippage, params.max_slippage)
				.points("backstop_discount", old.backstop_discount, params.backstop_discount)
				.amount("dust_value", old.dust_value, params.dust_value)
				.points("pool_block_share", old.pool_block_share, params.pool_block_share)
		})?;
		Params::<T>::put(params);
		Self::deposit_event(Event::ParamsUpdated { params });
		Ok(())
	}

	pub(crate) fn do_set_risk_rank(asset: T::AssetId, rank: u8) -> DispatchResult {
		ensure!(T::Lending::market_params(&asset).is_some(), Error::<T>::UnknownMarket);
		RiskRank::<T>::insert(asset, rank);
		Self::deposit_event(Event::RiskRankSet { asset, rank });
		Ok(())
	}
}
