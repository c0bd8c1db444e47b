//! Test runtime for `pallet-slashing`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::arithmetic_side_effects)]

use crate as pallet_slashing;
use core::cell::RefCell;
use frame_support::{derive_impl, parameter_types, traits::VariantCountOf};
use sp_runtime::BuildStorage;

type Block = frame_system::mocking::MockBlock<Test>;
pub type AccountId = u64;
pub type Balance = u128;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		Slashing: pallet_slashing,
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
pub const CHALLENGER: AccountId = 3;
pub const POOR: AccountId = 4;
pub const TREASURY: AccountId = 99;
pub const MIN_STAKE: Balance = 1_000;
pub const UNBONDING: u64 = 10;
pub const MAX_CHUNKS: u32 = 3;

parameter_types! {
	pub const ExistentialDeposit: Balance = 1;
	pub const MinProviderStake: Balance = MIN_STAKE;
	pub const UnbondingPeriod: u64 = UNBONDING;
	pub const MaxUnlockingChunks: u32 = MAX_CHUNKS;
	pub const Treasury: AccountId = TREASURY;
}

thread_local! {
	/// Open jobs per provider, as the jobs pallet would report them.
	pub static OPEN_JOBS: RefCell<Vec<(AccountId, u32)>> = const { RefCell::new(Vec::new()) };
	/// Providers reported below the minimum (whose offers would be paused).
	pub static BELOW_MIN: RefCell<Vec<AccountId>> = const { RefCell::new(Vec::new()) };
}

pub struct MockOpenJobs;
impl agora_primitives::OpenJobs<AccountId> for MockOpenJobs {
	fn open_jobs(who: &AccountId) -> u32 {
		OPEN_JOBS.with(|j| j.borrow().iter().find(|(a, _)| a == who).map(|(_, n)| *n).unwrap_or(0))
	}
}

pub struct MockBelowMin;
impl agora_primitives::OnBondBelowMinimum<AccountId> for MockBelowMin {
	fn bond_below_minimum(who: &AccountId) {
		BELOW_MIN.with(|b| b.borrow_mut().push(*who));
	}
}

pub fn set_open_jobs(who: AccountId, n: u32) {
	OPEN_JOBS.with(|j| {
		let mut j = j.borrow_mut();
		j.retain(|(a, _)| *a != who);
		j.push((who, n));
	});
}

pub fn below_min_reports() -> Vec<AccountId> {
	BELOW_MIN.with(|b| b.borrow().clone())
}

#[derive_impl(pallet_slashing::config_preludes::TestDefaultConfig)]
impl pallet_slashing::Config for Test {
	type Currency = Balances;
	type MinProviderStake = MinProviderStake;
	type UnbondingPeriod = UnbondingPeriod;
	type MaxUnlockingChunks = MaxUnlockingChunks;
	type Treasury = Treasury;
	type OpenJobs = MockOpenJobs;
	type OnBondBelowMinimum = MockBelowMin;
}

pub fn new_test_ext() -> sp_io::TestExternalities {
	let mut t = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	pallet_balances::GenesisConfig::<Test> {
		balances: vec![(ALICE, 10_000), (BOB, 10_000), (CHALLENGER, 100), (POOR, 500), (TREASURY, 1)],
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
	OPEN_JOBS.with(|j| j.borrow_mut().clear());
	BELOW_MIN.with(|b| b.borrow_mut().clear());
	new_test_ext().execute_with(|| {
		test();
		Slashing::do_try_state().expect("invariants hold after the test");
	});
}
