// The market test runtime: the real slashing, models, escrow, verification and
// jobs pallets, the runtime's off-chain check (`HttpAudit`, against mocked
// HTTP), and settable stand-ins for BABE's VRF randomness, for reputation and
// for the non-voter report. One file for both market pallets' unit tests:
// `pallet-jobs` and `pallet-verification` each `include!` it from their
// `mock.rs`, after naming themselves (`use crate as pallet_jobs;`), so each
// tests its own crate (with its private items) against the same runtime.
// A shared crate cannot do this: it would depend on the pallet under test and
// link a second copy of it. No inner attributes here (`include!` takes items).

use agora_primitives::{models::ManifestInput, JobParams, ModelId, Receipt};
use core::cell::RefCell;
use frame_support::{
	assert_ok, derive_impl, parameter_types,
	traits::{Get, Hooks, VariantCountOf},
};
use sp_core::{sr25519, Pair};
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
		Escrow: pallet_escrow,
		// Before the market: a receipt's audit draw in its finalization block
		// runs before the finalization.
		Verification: pallet_verification,
		Jobs: pallet_jobs,
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
	pub static MinProviderStake: Balance = 1_000;
	pub const Treasury: AccountId = TREASURY;
	// The market tests count every planck moved: registry deposits are
	// `pallet-models`' own tests' business.
	pub const NoDeposit: Balance = 0;
}

#[derive_impl(pallet_slashing::config_preludes::TestDefaultConfig)]
impl pallet_slashing::Config for Test {
	type Currency = Balances;
	type MinProviderStake = MinProviderStake;
	type Treasury = Treasury;
	type OpenJobs = Jobs;
	type OnBondBelowMinimum = Models;
}

#[derive_impl(pallet_models::config_preludes::TestDefaultConfig)]
impl pallet_models::Config for Test {
	type Bonds = Slashing;
	type Currency = Balances;
	type ModelDeposit = NoDeposit;
	type OfferDeposit = NoDeposit;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = Helper;
}

/// A 5 % protocol fee.
#[derive_impl(pallet_escrow::config_preludes::TestDefaultConfig)]
impl pallet_escrow::Config for Test {
	type Currency = Balances;
	type Treasury = Treasury;
}

thread_local! {
	pub static VRF: RefCell<Option<sp_core::H256>> = const { RefCell::new(None) };
	pub static SCORES: RefCell<Vec<(AccountId, u32)>> = const { RefCell::new(Vec::new()) };
	pub static RATINGS: RefCell<Vec<(AccountId, AccountId, i8)>> = const { RefCell::new(Vec::new()) };
	pub static FINALIZED: RefCell<Vec<(AccountId, AccountId)>> = const { RefCell::new(Vec::new()) };
	pub static RESTRICTED: RefCell<Vec<AccountId>> = const { RefCell::new(Vec::new()) };
	pub static FRAUDS: RefCell<Vec<AccountId>> = const { RefCell::new(Vec::new()) };
	pub static REPORTED: RefCell<Vec<(Vec<AccountId>, u64)>> = const { RefCell::new(Vec::new()) };
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
	fn on_fraud(who: &AccountId) {
		FRAUDS.with(|r| r.borrow_mut().push(*who));
	}
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
	pub static DisputeWindow: u64 = WINDOW;
	pub static MaxCandidatesBound: u32 = 8;
	/// The offers one assignment reads.
	pub static MaxOfferScan: u32 = 64;
	/// 0 unless a test sets it: most tests count every planck.
	pub static QueueSurchargeBase: Balance = 0;
	/// No limit unless a test sets one (the queue tests make the hooks lag).
	pub static QueueWeightBudget: frame_support::weights::Weight = frame_support::weights::Weight::MAX;
	pub static DrawWeightBudget: frame_support::weights::Weight = frame_support::weights::Weight::MAX;
}

pub const VALIDATORS: [AccountId; 4] = [20, 21, 22, 23];
pub const COMMITTEE: u32 = 3;
pub const VOTE_TIMEOUT: u64 = 8;
pub const INPUT_GRACE: u64 = 4;
pub const AUDIT_DELAY: u64 = 2;
pub const MAX_REDRAWS: u32 = 2;
pub const STRIKE_THRESHOLD: u32 = 3;

/// Records the non-voters the pallet reports.
pub struct TestNonVoterReport;
impl agora_primitives::NonVoterReport<AccountId> for TestNonVoterReport {
	fn report(offenders: Vec<AccountId>, job_id: u64) {
		REPORTED.with(|r| r.borrow_mut().push((offenders, job_id)));
	}
}

pub fn reported() -> Vec<(Vec<AccountId>, u64)> {
	REPORTED.with(|r| r.borrow().clone())
}
pub const DISPUTE_BOND: Balance = 5_000;
pub const CHALLENGER: AccountId = 30;

parameter_types! {
	pub static CommitteeSize: u32 = COMMITTEE;
	pub static AuditRate: u32 = 0;
	pub static InputLimit: u32 = MAX_INPUT;
	pub static VoteTimeoutBlocks: u64 = VOTE_TIMEOUT;
	pub const DisputeBond: Balance = DISPUTE_BOND;
}

pub type Extrinsic = sp_runtime::testing::TestXt<RuntimeCall, ()>;

impl<C> frame_system::offchain::CreateTransactionBase<C> for Test
where
	RuntimeCall: From<C>,
{
	type RuntimeCall = RuntimeCall;
	type Extrinsic = Extrinsic;
}

impl<C> frame_system::offchain::CreateBare<C> for Test
where
	RuntimeCall: From<C>,
{
	fn create_bare(call: Self::RuntimeCall) -> Self::Extrinsic {
		Extrinsic::new_bare(call)
	}
}

/// The prelude's committees (3 of up to 8 validators, 2-block audit delay, 2
/// re-draws, 3 strikes); the governed parameters a test changes are settable.
#[derive_impl(pallet_verification::config_preludes::TestDefaultConfig)]
impl pallet_verification::Config for Test {
	type Balance = Balance;
	type Jobs = Jobs;
	type DisputeBonds = Escrow;
	type Bonds = Slashing;
	type Reputation = TestReputation;
	type Randomness = TestRandomness;
	type AuthorityId = sp_runtime::testing::UintAuthorityId;
	type CommitteeSize = CommitteeSize;
	type VoteTimeout = VoteTimeoutBlocks;
	type NonVoterReport = TestNonVoterReport;
	type AuditRate = AuditRate;
	type DisputeBond = DisputeBond;
	// The runtime's committee check, so the off-chain tests run it against mocked HTTP.
	type OffchainAudit = agora_offchain_workers::HttpAudit;
	type Offers = Models;
	type Channels = TestChannels;
	type ServedWindow = DisputeWindow;
	type DrawWeight = DrawWeightBudget;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = Helper;
}

thread_local! {
	static CHANNELS: RefCell<alloc::collections::BTreeMap<u64, (AccountId, AccountId)>> =
		const { RefCell::new(alloc::collections::BTreeMap::new()) };
}

/// Payment channels' parties, set by a test (the market runtime has no
/// `pallet-channels`).
pub struct TestChannels;
impl agora_primitives::ChannelParties<AccountId> for TestChannels {
	fn parties(id: u64) -> Option<(AccountId, AccountId)> {
		CHANNELS.with(|c| c.borrow().get(&id).copied())
	}
}

/// Channel `id` from `sender` to `recipient` (or none).
pub fn set_channel(id: u64, parties: Option<(AccountId, AccountId)>) {
	CHANNELS.with(|c| match parties {
		Some(p) => c.borrow_mut().insert(id, p),
		None => c.borrow_mut().remove(&id),
	});
}

/// The prelude's limits (64-byte inputs, 100-block deadlines, 3 jobs per
/// queue); every receipt goes to `pallet-verification`.
/// Blocks per service-pass epoch in the market tests.
pub const PASS_EPOCH: u64 = 20;
/// Stake per pass request.
pub const PASS_STAKE: Balance = 1_000;

parameter_types! {
	pub const PassStake: Balance = PASS_STAKE;
	pub const PassMaxPerEpoch: u32 = 10;
	pub const PassCooldown: u64 = 10;
	pub const PassInflation: sp_runtime::Perbill = sp_runtime::Perbill::from_percent(10);
	pub const PassRewardCap: Balance = Balance::MAX;
	pub const PassBlocksPerYear: u64 = 1_000;
	pub const PassEpoch: u64 = PASS_EPOCH;
	pub const PassDefaultWeight: u32 = 1;
	pub const PassMaxWeight: u32 = 1_000;
	pub const PassMaxPayouts: u32 = 8;
}

impl pallet_passes::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type StakePerRequest = PassStake;
	type MaxRequestsPerEpoch = PassMaxPerEpoch;
	type PassCooldown = PassCooldown;
	type Inflation = PassInflation;
	type RewardCap = PassRewardCap;
	type BlocksPerYear = PassBlocksPerYear;
	type DefaultEpochLength = PassEpoch;
	type DefaultServiceWeight = PassDefaultWeight;
	type MaxServiceWeight = PassMaxWeight;
	type MaxPayoutsPerBlock = PassMaxPayouts;
	type Treasury = Treasury;
	type ServiceWeightOrigin = frame_system::EnsureRoot<AccountId>;
	type WeightInfo = ();
}

#[derive_impl(pallet_jobs::config_preludes::TestDefaultConfig)]
impl pallet_jobs::Config for Test {
	type Checks = Verification;
	type Passes = Passes;
	type Balance = Balance;
	type Escrow = Escrow;
	type Offers = Models;
	type Bonds = Slashing;
	type Reputation = TestReputation;
	type Randomness = TestRandomness;
	type InputLimit = InputLimit;
	type DisputeWindow = DisputeWindow;
	type MaxCandidates = MaxCandidatesBound;
	type MaxOfferScan = MaxOfferScan;
	type QueueSurcharge = QueueSurchargeBase;
	type QueueWeight = QueueWeightBudget;
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
impl pallet_jobs::BenchmarkHelper<AccountId, Balance> for Helper {
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
				<Test as pallet_models::Config>::MaxCapacity::get(),
				b"cpu".to_vec(),
			));
		}
		(id, 1_000)
	}
	fn fund(who: &AccountId, amount: Balance) {
		use frame_support::traits::fungible::Mutate;
		Balances::set_balance(who, amount);
	}
	fn set_input_limit(bytes: u32) {
		InputLimit::set(bytes);
	}
	fn finish_draws() {
		let _ = pallet_verification::AuditDraws::<Test>::clear(u32::MAX, None);
		pallet_verification::AuditDrawCursor::<Test>::put(u64::MAX);
	}
	fn give_pass(who: &AccountId) {
		use frame_support::traits::fungible::Mutate;
		let stake = PassStake::get() * 10;
		Balances::set_balance(who, Balances::free_balance(who) + stake * 2);
		assert_ok!(Passes::lock(RuntimeOrigin::signed(*who), stake));
	}
}
#[cfg(feature = "runtime-benchmarks")]
impl pallet_verification::BenchmarkHelper<AccountId, Balance> for Helper {
	fn receipted_job() -> (u64, AccountId, AccountId) {
		pallet_jobs::benchmarking::receipted_job::<Test>()
	}
	fn fund(who: &AccountId, amount: Balance) {
		<Helper as pallet_jobs::BenchmarkHelper<AccountId, Balance>>::fund(who, amount)
	}
	fn set_audit_rate(ppm: u32) {
		AuditRate::set(ppm);
	}
	fn set_committee_size(n: u32) {
		CommitteeSize::set(n);
	}
	fn served_setup(key: [u8; 32]) -> (agora_primitives::OfferId, AccountId, u64) {
		let (model, provider) =
			<Helper as pallet_jobs::BenchmarkHelper<AccountId, Balance>>::setup_offers(1, key);
		let offer = pallet_models::Offers::<Test>::iter()
			.find(|(_, o)| o.provider == provider && o.model_id == model)
			.map(|(id, _)| id)
			.unwrap();
		set_channel(1, Some((CLIENT, provider)));
		(offer, provider, 1)
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
	let job = pallet_jobs::Jobs::<Test>::get(job_id).unwrap();
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
		Models::on_initialize(next);
		Verification::on_initialize(next);
		Jobs::on_initialize(next);
		Passes::on_initialize(next);
	}
}

pub fn new_test_ext() -> sp_io::TestExternalities {
	VRF.with(|v| *v.borrow_mut() = None);
	SCORES.with(|s| s.borrow_mut().clear());
	REPORTED.with(|r| r.borrow_mut().clear());
	RATINGS.with(|r| r.borrow_mut().clear());
	FRAUDS.with(|r| r.borrow_mut().clear());
	CHANNELS.with(|c| c.borrow_mut().clear());
	// The governed parameters start at their defaults in every test.
	AuditRate::set(0);
	CommitteeSize::set(COMMITTEE);
	InputLimit::set(MAX_INPUT);
	DisputeWindow::set(WINDOW);
	MaxOfferScan::set(64);
	MaxCandidatesBound::set(8);
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
			(CHALLENGER, 10_000),
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
		pallet_verification::Verifiers::<Test>::put(frame_support::BoundedVec::truncate_from(
			VALIDATORS.iter().map(|v| (*v, sp_runtime::testing::UintAuthorityId(*v))).collect::<Vec<_>>(),
		));
	});
	ext
}

/// A vote by committee member `member` of `job_id`, signed with its key.
pub fn signed_vote(
	job_id: u64,
	member: u32,
	vote: agora_primitives::AuditVote,
) -> (agora_primitives::VotePayload, sp_runtime::testing::TestSignature) {
	use sp_runtime::RuntimeAppPublic;
	let key = pallet_verification::Audits::<Test>::get(job_id).unwrap().committee[member as usize].1.clone();
	let payload = agora_primitives::VotePayload { job_id, member, vote };
	let sig = key.sign(&payload.signing_payload()).unwrap();
	(payload, sig)
}

pub fn frauds() -> Vec<AccountId> {
	FRAUDS.with(|r| r.borrow().clone())
}

/// Runs a test, then checks every pallet's invariants.
pub fn build_and_execute(test: impl FnOnce()) {
	new_test_ext().execute_with(|| {
		test();
		check_invariants();
	});
}

pub fn check_invariants() {
	Verification::do_try_state().expect("verification invariants");
	Jobs::do_try_state().expect("jobs invariants");
	Escrow::do_try_state().expect("escrow invariants");
	Models::do_try_state().expect("models invariants");
	Slashing::do_try_state().expect("slashing invariants");
	Passes::do_try_state().expect("passes invariants");
}

/// Externalities with a keystore, for the benchmark test suite (it signs receipts).
#[cfg(feature = "runtime-benchmarks")]
pub fn new_bench_ext() -> sp_io::TestExternalities {
	let mut ext = new_test_ext();
	ext.register_extension(sp_keystore::KeystoreExt::new(sp_keystore::testing::MemoryKeystore::new()));
	ext
}

/// The per-block queue bound the jobs tests fill.
pub type MaxJobsPerBlock = <Test as pallet_jobs::Config>::MaxJobsPerBlock;

/// The constants the tests compute with are the ones the runtime uses.
#[test]
fn mock_constants_are_the_config() {
	fn u32_of<G: Get<u32>>() -> u32 {
		G::get()
	}
	fn u64_of<G: Get<u64>>() -> u64 {
		G::get()
	}
	type J = Test;
	assert_eq!(u32_of::<<J as pallet_jobs::Config>::MaxInputLen>(), MAX_INPUT);
	assert_eq!(u64_of::<<J as pallet_jobs::Config>::MaxDeadline>(), MAX_DEADLINE);
	assert_eq!(u64_of::<<J as pallet_jobs::Config>::Retention>(), RETENTION);
	assert_eq!(u32_of::<MaxJobsPerBlock>(), MAX_PER_BLOCK);
	assert_eq!(u64_of::<<J as pallet_jobs::Config>::InputGrace>(), INPUT_GRACE);
	assert_eq!(u64_of::<<J as pallet_verification::Config>::AuditDelay>(), AUDIT_DELAY);
	assert_eq!(u32_of::<<J as pallet_verification::Config>::MaxRedraws>(), MAX_REDRAWS);
	assert_eq!(u32_of::<<J as pallet_verification::Config>::StrikeThreshold>(), STRIKE_THRESHOLD);
	assert!(VALIDATORS.len() as u32 <= u32_of::<<J as pallet_verification::Config>::MaxValidators>());
}
