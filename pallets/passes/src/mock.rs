//! Test runtime for `pallet-passes`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::arithmetic_side_effects)]

use crate as pallet_passes;
use frame_support::{derive_impl, parameter_types, traits::{Hooks, VariantCountOf}};
use frame_system::EnsureRoot;
use sp_runtime::{BuildStorage, Perbill};

type Block = frame_system::mocking::MockBlock<Test>;
pub type AccountId = u64;
pub type Balance = u128;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		Passes: pallet_passes,
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
pub const CAROL: AccountId = 3;
pub const P1: AccountId = 10;
pub const P2: AccountId = 11;
pub const P3: AccountId = 12;
pub const TREASURY: AccountId = 99;
/// Stake per request of quota.
pub const SPR: Balance = 100;
pub const MAX_PER_EPOCH: u32 = 50;
pub const COOLDOWN: u64 = 30;
pub const EPOCH: u64 = 10;
/// 10 % a year over 1,000-block years: 0.1 % of the issuance per 10-block epoch.
pub const BLOCKS_PER_YEAR: u64 = 1_000;
pub const MAX_PAYOUTS: u32 = 2;

parameter_types! {
	pub const ExistentialDeposit: Balance = 1;
	pub const StakePerRequest: Balance = SPR;
	pub const MaxRequestsPerEpoch: u32 = MAX_PER_EPOCH;
	pub const PassCooldown: u64 = COOLDOWN;
	pub const Inflation: Perbill = Perbill::from_percent(10);
	pub static RewardCap: Balance = Balance::MAX;
	pub const BlocksPerYear: u64 = BLOCKS_PER_YEAR;
	pub const DefaultEpochLength: u64 = EPOCH;
	pub const DefaultServiceWeight: u32 = 1;
	pub const MaxServiceWeight: u32 = 1_000;
	pub const MaxPayoutsPerBlock: u32 = MAX_PAYOUTS;
	pub const Treasury: AccountId = TREASURY;
}

impl pallet_passes::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type StakePerRequest = StakePerRequest;
	type MaxRequestsPerEpoch = MaxRequestsPerEpoch;
	type PassCooldown = PassCooldown;
	type Inflation = Inflation;
	type RewardCap = RewardCap;
	type BlocksPerYear = BlocksPerYear;
	type DefaultEpochLength = DefaultEpochLength;
	type DefaultServiceWeight = DefaultServiceWeight;
	type MaxServiceWeight = MaxServiceWeight;
	type MaxPayoutsPerBlock = MaxPayoutsPerBlock;
	type Treasury = Treasury;
	type ServiceWeightOrigin = EnsureRoot<AccountId>;
	type WeightInfo = ();
}

pub fn new_test_ext() -> sp_io::TestExternalities {
	RewardCap::set(Balance::MAX);
	let mut t = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	pallet_balances::GenesisConfig::<Test> {
		// Issuance 100,000: a 10-block epoch's reward is 10 % × 10 / 1,000 of it, 100.
		balances: vec![
			(ALICE, 10_000),
			(BOB, 20_000),
			(CAROL, 40_000),
			(P1, 10_000),
			(P2, 10_000),
			(P3, 9_999),
			(TREASURY, 1),
		],
		..Default::default()
	}
	.assimilate_storage(&mut t)
	.unwrap();
	let mut ext = sp_io::TestExternalities::new(t);
	ext.execute_with(|| System::set_block_number(1));
	ext
}

/// Runs a test, then checks the pallet's invariants.
pub fn build_and_execute(test: impl FnOnce()) {
	new_test_ext().execute_with(|| {
		test();
		Passes::do_try_state().expect("invariants hold after the test");
	});
}

/// Moves to block `n`, running the pallet's `on_initialize` in each block.
pub fn run_to(n: u64) {
	while System::block_number() < n {
		let next = System::block_number() + 1;
		System::set_block_number(next);
		Passes::on_initialize(next);
		Passes::do_try_state().expect("invariants hold in every block");
	}
}
