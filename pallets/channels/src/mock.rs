//! Test runtime for `pallet-channels`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::arithmetic_side_effects)]

use crate as pallet_channels;
use frame_support::{derive_impl, parameter_types, traits::VariantCountOf};
use sp_runtime::BuildStorage;

type Block = frame_system::mocking::MockBlock<Test>;
pub type AccountId = u64;
pub type Balance = u128;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		Channels: pallet_channels,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountData = pallet_balances::AccountData<Balance>;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type Balance = Balance;
	type AccountStore = System;
	type RuntimeHoldReason = RuntimeHoldReason;
	type MaxFreezes = VariantCountOf<RuntimeFreezeReason>;
	type ExistentialDeposit = ExistentialDeposit;
}

pub const ALICE: AccountId = 1;
pub const BOB: AccountId = 2;
pub const PROVIDER: AccountId = 10;
pub const OTHER_PROVIDER: AccountId = 11;
pub const MIN_VALUE: Balance = 100;
pub const MAX_DURATION: u64 = 1_000;
pub const MAX_LANES: u32 = 4;
pub const MAX_BATCH: u32 = 8;

parameter_types! {
	pub const ExistentialDeposit: Balance = 1;
	pub const MinChannelValue: Balance = MIN_VALUE;
	pub const MaxChannelDuration: u64 = MAX_DURATION;
	pub const MaxLanes: u32 = MAX_LANES;
	pub const MaxClaimBatch: u32 = MAX_BATCH;
}

impl pallet_channels::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type MinChannelValue = MinChannelValue;
	type MaxChannelDuration = MaxChannelDuration;
	type MaxLanes = MaxLanes;
	type MaxClaimBatch = MaxClaimBatch;
	type WeightInfo = ();
}

pub fn new_test_ext() -> sp_io::TestExternalities {
	let mut t = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	pallet_balances::GenesisConfig::<Test> {
		balances: vec![(ALICE, 10_000), (BOB, 10_000), (PROVIDER, 10), (OTHER_PROVIDER, 10)],
		..Default::default()
	}
	.assimilate_storage(&mut t)
	.unwrap();
	let mut ext = sp_io::TestExternalities::new(t);
	ext.register_extension(sp_keystore::KeystoreExt::new(
		sp_keystore::testing::MemoryKeystore::new(),
	));
	ext.execute_with(|| System::set_block_number(1));
	ext
}

/// Runs a test, then checks the pallet's invariants.
pub fn build_and_execute(test: impl FnOnce()) {
	new_test_ext().execute_with(|| {
		test();
		Channels::do_try_state().expect("invariants hold after the test");
	});
}
