//! The pallets `agora-node benchmark pallet` measures.

frame_benchmarking::define_benchmarks!(
	[frame_system, SystemBench::<Runtime>]
	[pallet_balances, Balances]
	[pallet_slashing, Slashing]
	[pallet_models, Models]
	[pallet_jobs, Jobs]
	[pallet_verification, Verification]
	[pallet_reputation, Reputation]
	[pallet_channels, Channels]
	[pallet_passes, Passes]
);

impl frame_system_benchmarking::Config for crate::Runtime {}
