//! Oracle integrity (#26): who may feed what, and who sets the feeders and the quorum.

use super::*;
use frame_support::BoundedVec;
use margincall_runtime::{feeds::UNLISTED_ASSET, Breaker, RuntimeOrigin};
use sp_runtime::{
	traits::Dispatchable,
	transaction_validity::{InvalidTransaction, TransactionSource},
};

fn feed(values: Vec<(u32, Price)>) -> RuntimeCall {
	RuntimeCall::Oracle(orml_oracle::Call::feed_values {
		values: BoundedVec::truncate_from(values),
	})
}

/// A feeder's feed naming an asset with no market is refused before inclusion, in the pool and
/// in a block alike (was: accepted, and 16 such ids first in a block kept every real asset out
/// of the breaker's samples, blinding it); nested in a batch, the runtime's call filter refuses
/// it at dispatch. A feed of listed assets is accepted and sampled.
#[test]
fn a_feed_naming_an_asset_without_a_market_is_refused() {
	genesis("development").execute_with(|| {
		block(vec![]);
		let alice = account(Sr25519Keyring::Alice);
		let junk: Vec<_> = (1_000..1_015)
			.map(|k| (k, Price::from_u32(1)))
			.chain([(XBTC, Price::from_u32(61_000))])
			.collect();
		let xt = signed(Sr25519Keyring::Alice, feed(junk.clone()));
		let refused: sp_runtime::transaction_validity::TransactionValidityError =
			InvalidTransaction::Custom(UNLISTED_ASSET).into();
		assert_eq!(
			Executive::validate_transaction(
				TransactionSource::External,
				xt.clone(),
				Default::default()
			),
			Err(refused)
		);
		assert_eq!(block(vec![xt])[0], Err(refused));
		assert_eq!(orml_oracle::RawValues::<Runtime>::get(&alice, 1_000), None);
		assert_eq!(orml_oracle::RawValues::<Runtime>::get(&alice, XBTC), None);

		// Inside a batch: the batch is a transaction (it pays), its feed is filtered.
		let batch = RuntimeCall::Utility(pallet_utility::Call::batch { calls: vec![feed(junk)] });
		assert_ok!(block(vec![signed(Sr25519Keyring::Alice, batch)])[0].expect("valid"));
		assert!(events().iter().any(|e| matches!(
			e,
			RuntimeEvent::Utility(pallet_utility::Event::BatchInterrupted { error, .. })
				if *error == frame_system::Error::<Runtime>::CallFiltered.into()
		)));
		assert_eq!(orml_oracle::RawValues::<Runtime>::get(&alice, 1_000), None);

		// Listed assets only: fed, and sampled at the end of the block.
		let fine = feed(vec![(USDM, Price::from_u32(1)), (XBTC, Price::from_u32(61_000))]);
		assert_ok!(block(vec![signed(Sr25519Keyring::Alice, fine)])[0].expect("valid"));
		assert_eq!(
			pallet_breaker::Volatility::<Runtime>::get(XBTC).map(|v| v.price),
			Some(Price::from_u32(61_000))
		);
		every_try_state();
	})
}

/// The feeder set and the feed quorum are root's alone (was: the risk track could add, remove
/// and swap feeders and halve the quorum in one `batch_all`, handing every price to one
/// account; a quorum above the member count stopped every price): the quorum is more than half
/// the feeders and at most all of them, and a change of the set moves the quorum in force with
/// it.
#[test]
fn only_root_changes_the_feeders_and_the_quorum_is_a_majority() {
	genesis("local_testnet").execute_with(|| {
		let risk_track: RuntimeOrigin = margincall_runtime::OriginCaller::Origins(
			margincall_runtime::governance::origins::Origin::RiskAdmin,
		)
		.into();
		let member = |call| RuntimeCall::OracleMembership(call);
		let dave = account(Sr25519Keyring::Dave);
		let add_dave = member(pallet_membership::Call::add_member { who: dave.clone().into() });
		let quorum =
			|quorum| RuntimeCall::Breaker(pallet_breaker::Call::set_feed_quorum { quorum });
		let error =
			|call: RuntimeCall, origin: RuntimeOrigin| call.dispatch(origin).map_err(|e| e.error);

		assert_eq!(error(add_dave.clone(), risk_track.clone()), Err(DispatchError::BadOrigin));
		assert_eq!(
			error(quorum(3), risk_track),
			Err(pallet_breaker::Error::<Runtime>::RootOnly.into())
		);
		// Root: one of three is a minority, four of three would stop every price.
		for q in [0, 1, 4] {
			assert_eq!(
				error(quorum(q), RuntimeOrigin::root()),
				Err(pallet_breaker::Error::<Runtime>::QuorumOutOfRange.into())
			);
		}
		assert_eq!(Breaker::feed_quorum(), 2);
		// A fourth feeder: two of four is no majority, the quorum in force is three.
		assert_ok!(add_dave.dispatch(RuntimeOrigin::root()));
		assert_eq!(Breaker::feed_quorum(), 3);
		// Two removed: two of two.
		for k in [Sr25519Keyring::Bob, Sr25519Keyring::Charlie] {
			let remove = member(pallet_membership::Call::remove_member { who: account(k).into() });
			assert_ok!(remove.dispatch(RuntimeOrigin::root()));
		}
		assert_eq!(Breaker::feed_quorum(), 2);
		assert_ok!(quorum(2).dispatch(RuntimeOrigin::root()));
		every_try_state();
	})
}
