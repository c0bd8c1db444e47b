//! Test runtime for `pallet-reputation`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::arithmetic_side_effects)]

use crate as pallet_reputation;
use frame_support::{derive_impl, parameter_types};
use sp_runtime::BuildStorage;

type Block = frame_system::mocking::MockBlock<Test>;
pub type AccountId = u64;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Reputation: pallet_reputation,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
}

pub const THETA_MILLI: u32 = 300;
pub const WINDOW: u32 = 10;
pub const THRESHOLD: u32 = 7;
pub const T_RESTRICT: u64 = 100;

parameter_types! {
	pub const ThetaMilli: u32 = THETA_MILLI;
	pub const AbuseWindow: u32 = WINDOW;
	pub const AbuseThreshold: u32 = THRESHOLD;
	pub const RestrictPeriod: u64 = T_RESTRICT;
	pub const MaxDoublings: u32 = 8;
}

#[derive_impl(pallet_reputation::config_preludes::TestDefaultConfig)]
impl pallet_reputation::Config for Test {
	// The tests compute against these, so the mock names each one.
	type ThetaMilli = ThetaMilli;
	type AbuseWindow = AbuseWindow;
	type AbuseThreshold = AbuseThreshold;
	type RestrictPeriod = RestrictPeriod;
	type MaxDoublings = MaxDoublings;
}

pub fn new_test_ext() -> sp_io::TestExternalities {
	let t = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	let mut ext = sp_io::TestExternalities::new(t);
	ext.execute_with(|| System::set_block_number(1));
	ext
}

/// Runs a test, then checks the pallet's invariants.
pub fn build_and_execute(test: impl FnOnce()) {
	new_test_ext().execute_with(|| {
		test();
		Reputation::do_try_state().expect("invariants hold after the test");
	});
}
