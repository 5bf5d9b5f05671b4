//! The pallets `benchmark pallet` can measure in this runtime.
//!
//! `pallet-assets` is absent on purpose: its `runtime-benchmarks` feature pulls in pallet-revive's
//! contract fixtures, which need a RISC-V toolchain (see the workspace `Cargo.toml`); the
//! runtime uses its upstream `SubstrateWeight`s.

frame_benchmarking::define_benchmarks!(
	[frame_benchmarking, BaselineBench::<Runtime>]
	[frame_system, SystemBench::<Runtime>]
	[frame_system_extensions, SystemExtensionsBench::<Runtime>]
	[pallet_balances, Balances]
	[pallet_timestamp, Timestamp]
	[pallet_sudo, Sudo]
	[pallet_utility, Utility]
	[pallet_proxy, Proxy]
	[pallet_asset_conversion, AssetConversion]
	[orml_oracle, Oracle]
	[pallet_membership, OracleMembership]
	[pallet_scheduler, Scheduler]
	[pallet_preimage, Preimage]
	[pallet_referenda, Referenda]
	[pallet_conviction_voting, ConvictionVoting]
	[pallet_lending, Lending]
	[pallet_liquidation, Liquidation]
	[pallet_breaker, Breaker]
	[pallet_bids, Bids]
);
