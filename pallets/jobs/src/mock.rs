//! Test runtime for `pallet-jobs`: the real escrow, models and slashing pallets,
//! and a settable stand-in for BABE's VRF randomness and for reputation. No
//! receipt checker (`Checks = ()`): `pallet-verification`'s tests run both.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::arithmetic_side_effects, clippy::indexing_slicing)]

use crate as pallet_jobs;
use agora_primitives::{models::ManifestInput, JobParams, ModelId, Receipt};
use core::cell::RefCell;
use frame_support::{
	assert_ok, derive_impl, parameter_types,
	traits::{ConstU64, Hooks, VariantCountOf},
};
use sp_core::{sr25519, Pair};
use sp_runtime::{BuildStorage, Perbill};

type Block = frame_system::mocking::MockBlock<Test>;
pub type AccountId = u64;
pub type Balance = u128;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		Slashing: pallet_slashing,
		Models: pallet_models,
		Escrow: pallet_escrow,
		Jobs: pallet_jobs,
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
}

pub const CLIENT: AccountId = 1;
pub const CLIENT2: AccountId = 2;
pub const PUBLISHER: AccountId = 3;
pub const P1: AccountId = 10;
pub const P2: AccountId = 11;
pub const P3: AccountId = 12;
pub const TREASURY: AccountId = 99;
pub const STAKE: Balance = 10_000;
pub const WINDOW: u64 = 5;
pub const RETENTION: u64 = 20;
pub const MAX_DEADLINE: u64 = 100;
pub const MAX_PER_BLOCK: u32 = 3;
pub const MAX_INPUT: u32 = 64;
pub const BASE: Balance = 100;
pub const PER_1K: Balance = 1_000;

parameter_types! {
	pub const MinProviderStake: Balance = 1_000;
	pub const UnbondingPeriod: u64 = 10;
	pub const MaxUnlockingChunks: u32 = 4;
	pub const Treasury: AccountId = TREASURY;
}

impl pallet_slashing::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type MinProviderStake = MinProviderStake;
	type UnbondingPeriod = UnbondingPeriod;
	type MaxUnlockingChunks = MaxUnlockingChunks;
	type Treasury = Treasury;
	type OpenJobs = Jobs;
	type OnBondBelowMinimum = Models;
	type WeightInfo = ();
}

parameter_types! {
	pub const MaxModels: u32 = 8;
	pub const MaxOffersPerProvider: u32 = 4;
	pub const MaxEndpointLen: u32 = 64;
	pub const MaxHardwareLen: u32 = 16;
	pub const MaxCapacity: u32 = 16;
	pub const MaxTokensPerJob: u32 = 4_096;
	// The jobs tests count every planck moved: registry deposits are
	// `pallet-models`' own tests' business.
	pub const NoDeposit: Balance = 0;
	pub const MaxModelsPerPublisher: u32 = 8;
	pub const ModelRetention: u64 = 10;
}

impl pallet_models::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type Bonds = Slashing;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type ModelDeposit = NoDeposit;
	type OfferDeposit = NoDeposit;
	type MaxModelsPerPublisher = MaxModelsPerPublisher;
	type ModelRetention = ModelRetention;
	type MaxModels = MaxModels;
	type MaxOffersPerProvider = MaxOffersPerProvider;
	type MaxEndpointLen = MaxEndpointLen;
	type MaxHardwareLen = MaxHardwareLen;
	type MaxCapacity = MaxCapacity;
	type MaxTokensPerJob = MaxTokensPerJob;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = Helper;
}

parameter_types! {
	pub const ProtocolFee: Perbill = Perbill::from_percent(5);
}

impl pallet_escrow::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type ProtocolFee = ProtocolFee;
	type Treasury = Treasury;
}

thread_local! {
	pub static VRF: RefCell<Option<sp_core::H256>> = const { RefCell::new(None) };
	pub static SCORES: RefCell<Vec<(AccountId, u32)>> = const { RefCell::new(Vec::new()) };
	pub static RATINGS: RefCell<Vec<(AccountId, AccountId, i8)>> = const { RefCell::new(Vec::new()) };
	pub static FINALIZED: RefCell<Vec<(AccountId, AccountId)>> = const { RefCell::new(Vec::new()) };
	pub static RESTRICTED: RefCell<Vec<AccountId>> = const { RefCell::new(Vec::new()) };
}

/// Stands in for BABE's `CurrentBlockRandomness`.
pub struct TestRandomness;
impl frame_support::traits::Randomness<Option<sp_core::H256>, u64> for TestRandomness {
	fn random(subject: &[u8]) -> (Option<sp_core::H256>, u64) {
		let v = VRF.with(|v| *v.borrow());
		let mixed = v.map(|h| sp_core::H256(sp_io::hashing::blake2_256(&[subject, h.as_bytes()].concat())));
		(mixed, System::block_number())
	}
}

pub fn set_vrf(seed: u64) {
	VRF.with(|v| *v.borrow_mut() = Some(sp_core::H256(sp_io::hashing::blake2_256(&seed.to_le_bytes()))));
}

/// Stands in for `pallet-reputation`.
pub struct TestReputation;
impl agora_primitives::Reputation<AccountId> for TestReputation {
	fn score(who: &AccountId) -> u32 {
		SCORES.with(|s| s.borrow().iter().find(|(a, _)| a == who).map(|(_, w)| *w).unwrap_or(50))
	}
	fn on_rating(
		client: &AccountId,
		provider: &AccountId,
		rating: i8,
	) -> Result<(), sp_runtime::DispatchError> {
		if RESTRICTED.with(|r| r.borrow().contains(client)) {
			return Err(sp_runtime::DispatchError::Other("restricted"));
		}
		RATINGS.with(|r| r.borrow_mut().push((*client, *provider, rating)));
		Ok(())
	}
	fn on_finalized(client: &AccountId, provider: &AccountId) {
		FINALIZED.with(|r| r.borrow_mut().push((*client, *provider)));
	}
	fn on_expiry(_: &AccountId) {}
	fn on_fraud(_: &AccountId) {}
}

pub fn set_score(who: AccountId, score: u32) {
	SCORES.with(|s| {
		let mut s = s.borrow_mut();
		s.retain(|(a, _)| *a != who);
		s.push((who, score));
	});
}

pub fn ratings() -> Vec<(AccountId, AccountId, i8)> {
	RATINGS.with(|r| r.borrow().clone())
}

parameter_types! {
	pub const MaxInputLen: u32 = MAX_INPUT;
	pub const MaxDeadline: u64 = MAX_DEADLINE;
	pub static DisputeWindow: u64 = WINDOW;
	pub const Retention: u64 = RETENTION;
	pub const MaxJobsPerBlock: u32 = MAX_PER_BLOCK;
	pub static MaxCandidatesBound: u32 = 8;
	/// 0 unless a test sets it: most tests count every planck.
	pub static QueueSurchargeBase: Balance = 0;
	pub const MaxOfferScan: u32 = 64;
	pub const MissedDeadlineSlash: Perbill = Perbill::from_percent(10);
}

pub const INPUT_GRACE: u64 = 4;

parameter_types! {
	pub static InputLimit: u32 = MAX_INPUT;
}

impl pallet_jobs::Config for Test {
	type InputGrace = ConstU64<INPUT_GRACE>;
	type QueueSurcharge = QueueSurchargeBase;
	type Checks = ();
	type RuntimeEvent = RuntimeEvent;
	type Balance = Balance;
	type Escrow = Escrow;
	type Offers = Models;
	type Bonds = Slashing;
	type Reputation = TestReputation;
	type Randomness = TestRandomness;
	type MaxInputLen = MaxInputLen;
	type InputLimit = InputLimit;
	type MaxTokensPerJob = MaxTokensPerJob;
	type MaxDeadline = MaxDeadline;
	type DisputeWindow = DisputeWindow;
	type Retention = Retention;
	type MaxJobsPerBlock = MaxJobsPerBlock;
	type MaxCandidates = MaxCandidatesBound;
	type MaxOfferScan = MaxOfferScan;
	type MissedDeadlineSlash = MissedDeadlineSlash;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = Helper;
}

/// Set-up for benchmarks run against this mock.
#[cfg(feature = "runtime-benchmarks")]
pub struct Helper;
#[cfg(feature = "runtime-benchmarks")]
impl pallet_models::BenchmarkHelper<AccountId> for Helper {
	fn bond(who: &AccountId) {
		use frame_support::traits::fungible::Mutate;
		Balances::set_balance(who, STAKE * 10);
		Slashing::bond(RuntimeOrigin::signed(*who), STAKE).unwrap();
	}
}
#[cfg(feature = "runtime-benchmarks")]
impl crate::BenchmarkHelper<AccountId, Balance> for Helper {
	fn setup_offers(offers: u32, worker: [u8; 32]) -> (ModelId, AccountId) {
		let m = manifest();
		let id = m.id();
		if Models::model(id).is_none() {
			assert_ok!(Models::register_model(RuntimeOrigin::signed(PUBLISHER), m));
		}
		for i in 0..offers {
			let p = 1_000 + u64::from(i);
			<Helper as pallet_models::BenchmarkHelper<AccountId>>::bond(&p);
			let key = if i == 0 { worker } else { [i as u8; 32] };
			assert_ok!(Models::open_offer(
				RuntimeOrigin::signed(p),
				id,
				key,
				BASE,
				PER_1K,
				// Public: the benchmark externalities are a public chain's.
				b"http://93.184.216.34:8700".to_vec(),
				MaxCapacity::get(),
				b"cpu".to_vec(),
			));
		}
		(id, 1_000)
	}
	fn fund(who: &AccountId, amount: Balance) {
		use frame_support::traits::fungible::Mutate;
		Balances::set_balance(who, amount);
	}
}

pub fn manifest() -> ManifestInput<AccountId> {
	agora_primitives::models::shipped::smollm2(PUBLISHER)
}

/// A worker key pair from a test seed.
pub fn worker(seed: &str) -> sr25519::Pair {
	sr25519::Pair::from_string(&format!("//{seed}"), None).unwrap()
}

pub fn open(provider: AccountId, model: ModelId, key: [u8; 32]) -> frame_support::dispatch::DispatchResult {
	Models::open_offer(
		RuntimeOrigin::signed(provider),
		model,
		key,
		BASE,
		PER_1K,
		b"http://127.0.0.1:8700".to_vec(),
		4,
		b"cpu".to_vec(),
	)
}

pub fn params(max_tokens: u32) -> JobParams {
	JobParams { max_tokens, temperature_milli: 0, seed: 0 }
}

/// A receipt for `job`, signed by `pair`.
pub fn signed_receipt(job_id: u64, pair: &sr25519::Pair, output: &[u8], tokens: u32) -> (Receipt<AccountId>, [u8; 64]) {
	let job = crate::Jobs::<Test>::get(job_id).unwrap();
	let r = Receipt {
		job_id,
		model_id: job.model_id,
		input_hash: job.input.hash(),
		output_hash: sp_io::hashing::blake2_256(output),
		output_tokens: tokens,
		provider: job.provider,
		worker_pubkey: pair.public().0,
	};
	let sig = pair.sign(&r.signing_payload());
	(r, sig.0)
}

/// The model id and the three providers' workers: P1, P2, P3 each bonded with an
/// offer signing with `//w1`, `//w2`, `//w3`.
pub fn setup_market() -> ModelId {
	let m = manifest();
	let id = m.id();
	assert_ok!(Models::register_model(RuntimeOrigin::signed(PUBLISHER), m));
	for (p, w) in [(P1, "w1"), (P2, "w2"), (P3, "w3")] {
		assert_ok!(Slashing::bond(RuntimeOrigin::signed(p), STAKE));
		assert_ok!(open(p, id, worker(w).public().0));
	}
	id
}

pub fn worker_of(provider: AccountId) -> sr25519::Pair {
	match provider {
		P1 => worker("w1"),
		P2 => worker("w2"),
		_ => worker("w3"),
	}
}

pub fn run_to(n: u64) {
	while System::block_number() < n {
		let next = System::block_number() + 1;
		System::set_block_number(next);
		Jobs::on_initialize(next);
	}
}

pub fn new_test_ext() -> sp_io::TestExternalities {
	VRF.with(|v| *v.borrow_mut() = None);
	SCORES.with(|s| s.borrow_mut().clear());
	RATINGS.with(|r| r.borrow_mut().clear());
	// The governed parameters start at their defaults in every test.
	InputLimit::set(MAX_INPUT);
	DisputeWindow::set(WINDOW);
	let mut t = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	pallet_balances::GenesisConfig::<Test> {
		balances: vec![
			(CLIENT, 1_000_000),
			(CLIENT2, 1_000_000),
			(PUBLISHER, 1),
			(P1, 100_000),
			(P2, 100_000),
			(P3, 100_000),
			(TREASURY, 1),
		],
		..Default::default()
	}
	.assimilate_storage(&mut t)
	.unwrap();
	let mut ext = sp_io::TestExternalities::new(t);
	ext.execute_with(|| {
		System::set_block_number(1);
		// Workers here listen on loopback, as on a dev chain.
		pallet_models::PrivateEndpoints::<Test>::put(true);
	});
	ext
}

/// Runs a test, then checks every pallet's invariants.
pub fn build_and_execute(test: impl FnOnce()) {
	new_test_ext().execute_with(|| {
		test();
		check_invariants();
	});
}

pub fn check_invariants() {
	Jobs::do_try_state().expect("jobs invariants");
	Escrow::do_try_state().expect("escrow invariants");
	Models::do_try_state().expect("models invariants");
	Slashing::do_try_state().expect("slashing invariants");
}

/// Externalities with a keystore, for the benchmark test suite (it signs receipts).
#[cfg(feature = "runtime-benchmarks")]
pub fn new_bench_ext() -> sp_io::TestExternalities {
	let mut ext = new_test_ext();
	ext.register_extension(sp_keystore::KeystoreExt::new(sp_keystore::testing::MemoryKeystore::new()));
	ext
}
