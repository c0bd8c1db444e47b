//! `frame-system` and timestamp.

use frame_support::{
	derive_impl,
	dispatch::DispatchClass,
	parameter_types,
	traits::ConstU32,
	weights::{
		constants::{ParityDbWeight, WEIGHT_REF_TIME_PER_SECOND},
		Weight,
	},
};
use frame_system::limits::{BlockLength, BlockWeights};
use sp_runtime::Perbill;
use sp_version::RuntimeVersion;

use crate::{
	AccountId, Babe, Balance, Block, BlockNumber, Hash, Nonce, PalletInfo, Runtime, RuntimeCall,
	RuntimeEvent, RuntimeOrigin, RuntimeTask, SLOT_DURATION, SS58_PREFIX, VERSION,
};

/// Share of a block that normal (non-operational) extrinsics may fill.
const NORMAL_DISPATCH_RATIO: Perbill = Perbill::from_percent(75);
/// Most bytes in a block.
const MAX_BLOCK_LENGTH: u32 = 5 * 1024 * 1024;

parameter_types! {
	pub const BlockHashCount: BlockNumber = 2400;
	pub const Version: RuntimeVersion = VERSION;
	/// One second of compute per 3-second block.
	pub RuntimeBlockWeights: BlockWeights = BlockWeights::with_sensible_defaults(
		Weight::from_parts(WEIGHT_REF_TIME_PER_SECOND, u64::MAX),
		NORMAL_DISPATCH_RATIO,
	);
	/// 5 MiB blocks, of which normal extrinsics may fill 75%.
	pub RuntimeBlockLength: BlockLength = BlockLength::builder()
		.max_length(MAX_BLOCK_LENGTH)
		.modify_max_length_for_class(DispatchClass::Normal, |m| *m = NORMAL_DISPATCH_RATIO.mul_floor(MAX_BLOCK_LENGTH))
		.build();
	/// Agora's SS58 address prefix (see `agora_primitives::SS58_PREFIX`).
	pub const SS58Prefix: u16 = SS58_PREFIX;
}

#[derive_impl(frame_system::config_preludes::SolochainDefaultConfig)]
impl frame_system::Config for Runtime {
	type Block = Block;
	type BlockWeights = RuntimeBlockWeights;
	type BlockLength = RuntimeBlockLength;
	type AccountId = AccountId;
	type Nonce = Nonce;
	type Hash = Hash;
	type BlockHashCount = BlockHashCount;
	/// The node stores state in ParityDB only.
	type DbWeight = ParityDbWeight;
	type Version = Version;
	type AccountData = pallet_balances::AccountData<Balance>;
	type SS58Prefix = SS58Prefix;
	type MaxConsumers = ConstU32<16>;
}

parameter_types! {
	pub const MinimumPeriod: u64 = SLOT_DURATION / 2;
}

impl pallet_timestamp::Config for Runtime {
	/// Milliseconds since the Unix epoch.
	type Moment = u64;
	/// BABE checks each block's timestamp against its slot.
	type OnTimestampSet = Babe;
	type MinimumPeriod = MinimumPeriod;
	type WeightInfo = pallet_timestamp::weights::SubstrateWeight<Runtime>;
}
