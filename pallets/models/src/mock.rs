//! Test runtime for `pallet-models`, with the real `pallet-slashing` for bonds.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::arithmetic_side_effects)]

use crate as pallet_models;
use agora_primitives::models::ManifestInput;
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
		Models: pallet_models,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountData = pallet_balances::AccountData<Balance>;
	// Real database weights, so that a migration's declared weight is tested.
	type DbWeight = frame_support::weights::constants::RocksDbWeight;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type Balance = Balance;
	type AccountStore = System;
	type RuntimeHoldReason = RuntimeHoldReason;
	type MaxFreezes = VariantCountOf<RuntimeFreezeReason>;
}

pub const ALICE: AccountId = 1;
pub const BOB: AccountId = 2;
pub const CAROL: AccountId = 3;
pub const TREASURY: AccountId = 99;
pub const MIN_STAKE: Balance = 1_000;
pub const MAX_OFFERS: u32 = 3;
pub const MAX_ENDPOINT: u32 = 40;
pub const MAX_HARDWARE: u32 = 16;
pub const MAX_CAPACITY: u32 = 64;
pub const MAX_MODELS: u32 = 4;
pub const MODEL_DEPOSIT: Balance = 500;
pub const OFFER_DEPOSIT: Balance = 50;
pub const MAX_PER_PUBLISHER: u32 = 3;
pub const RETENTION: u64 = 20;

parameter_types! {
	pub const MinProviderStake: Balance = MIN_STAKE;
	pub const Treasury: AccountId = TREASURY;
}

#[derive_impl(pallet_slashing::config_preludes::TestDefaultConfig)]
impl pallet_slashing::Config for Test {
	type Currency = Balances;
	type MinProviderStake = MinProviderStake;
	type Treasury = Treasury;
	type OnBondBelowMinimum = Models;
}

parameter_types! {
	pub const MaxModels: u32 = MAX_MODELS;
	pub const MaxOffersPerProvider: u32 = MAX_OFFERS;
	pub const MaxEndpointLen: u32 = MAX_ENDPOINT;
	pub const MaxHardwareLen: u32 = MAX_HARDWARE;
	pub const MaxCapacity: u32 = MAX_CAPACITY;
	pub const ModelDeposit: Balance = MODEL_DEPOSIT;
	pub const OfferDeposit: Balance = OFFER_DEPOSIT;
	pub const MaxModelsPerPublisher: u32 = MAX_PER_PUBLISHER;
	pub const ModelRetention: u64 = RETENTION;
}

#[derive_impl(pallet_models::config_preludes::TestDefaultConfig)]
impl pallet_models::Config for Test {
	type Bonds = Slashing;
	type Currency = Balances;
	type ModelDeposit = ModelDeposit;
	type OfferDeposit = OfferDeposit;
	type MaxModelsPerPublisher = MaxModelsPerPublisher;
	type ModelRetention = ModelRetention;
	type MaxModels = MaxModels;
	type MaxOffersPerProvider = MaxOffersPerProvider;
	type MaxEndpointLen = MaxEndpointLen;
	type MaxHardwareLen = MaxHardwareLen;
	type MaxCapacity = MaxCapacity;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = BondHelper;
}

/// Bonds an account through the real slashing pallet (for benchmarks).
#[cfg(feature = "runtime-benchmarks")]
pub struct BondHelper;
#[cfg(feature = "runtime-benchmarks")]
impl crate::BenchmarkHelper<AccountId> for BondHelper {
	fn bond(who: &AccountId) {
		use frame_support::traits::fungible::Mutate;
		Balances::set_balance(who, MIN_STAKE * 10);
		Slashing::bond(RuntimeOrigin::signed(*who), MIN_STAKE).unwrap();
	}
}

/// A small valid manifest published by `publisher`, distinguished by `tag`.
pub fn manifest(publisher: AccountId, tag: u8) -> ManifestInput<AccountId> {
	let mut m = agora_primitives::models::shipped::minilm(publisher);
	m.weights_hash[0] = tag;
	m
}

pub fn new_test_ext() -> sp_io::TestExternalities {
	let mut t = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	pallet_balances::GenesisConfig::<Test> {
		balances: vec![(ALICE, 10_000), (BOB, 10_000), (CAROL, 10_000), (TREASURY, 1)],
		..Default::default()
	}
	.assimilate_storage(&mut t)
	.unwrap();
	let mut ext = sp_io::TestExternalities::new(t);
	ext.execute_with(|| System::set_block_number(1));
	ext
}

/// Runs a test, then checks both pallets' invariants.
pub fn build_and_execute(test: impl FnOnce()) {
	new_test_ext().execute_with(|| {
		test();
		Models::do_try_state().expect("models invariants hold after the test");
		Slashing::do_try_state().expect("slashing invariants hold after the test");
	});
}
