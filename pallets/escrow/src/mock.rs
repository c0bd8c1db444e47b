//! Test runtime for `pallet-escrow`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::arithmetic_side_effects)]

use crate as pallet_escrow;
use frame_support::{derive_impl, parameter_types, traits::VariantCountOf};
use sp_runtime::BuildStorage;

type Block = frame_system::mocking::MockBlock<Test>;
pub type AccountId = u64;
pub type Balance = u128;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		Escrow: pallet_escrow,
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

pub const CLIENT: AccountId = 1;
pub const PROVIDER: AccountId = 2;
pub const PUBLISHER: AccountId = 3;
pub const TREASURY: AccountId = 99;

parameter_types! {
	pub const ExistentialDeposit: Balance = 10;
	pub const Treasury: AccountId = TREASURY;
}

/// The default 5 % protocol fee.
#[derive_impl(pallet_escrow::config_preludes::TestDefaultConfig)]
impl pallet_escrow::Config for Test {
	type Currency = Balances;
	type Treasury = Treasury;
}

pub fn build_and_execute(test: impl FnOnce()) {
	let mut t = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	pallet_balances::GenesisConfig::<Test> {
		balances: vec![(CLIENT, 10_000), (PROVIDER, 10), (PUBLISHER, 10), (TREASURY, 10)],
		..Default::default()
	}
	.assimilate_storage(&mut t)
	.unwrap();
	let mut ext = sp_io::TestExternalities::new(t);
	ext.execute_with(|| {
		System::set_block_number(1);
		test();
		Escrow::do_try_state().expect("escrow invariants hold after the test");
	});
}
