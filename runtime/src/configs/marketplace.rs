//! The marketplace pallets: provider bonds (`pallet-slashing`), the model
//! registry with offers (`pallet-models`), per-job escrow and dispute bonds
//! (`pallet-escrow`), payment channels (`pallet-channels`), service passes
//! (`pallet-passes`), jobs (`pallet-jobs`) and reputation. Verification has its
//! own file ([`super::verification`]).
//!
//! Values docs/protocol.md names (`DISPUTE_WINDOW`, `AUDIT_RATE`, …) are the governed
//! parameters of [`super::params`]; the constants here are storage bounds and
//! limits that change only with a runtime upgrade.

use frame_support::{parameter_types, traits::ConstU32};

use crate::{
	Balance, Balances, BlockNumber, AGR, DAYS, HOURS, MILLI_AGR, Escrow, Hash, Jobs, Models, Runtime, RuntimeEvent,
	RuntimeHoldReason,
};
use codec::Encode;
#[cfg(feature = "runtime-benchmarks")]
use crate::AccountId;

use super::{
	constants::{TreasuryAccount, ABUSE_WINDOW, MAX_DISPUTE_WINDOW, MAX_INPUT_BOUND},
	params::market,
};

parameter_types! {
	pub const MaxUnlockingChunks: u32 = 16;
}

impl pallet_slashing::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type MinProviderStake = market::MinProviderStake;
	type UnbondingPeriod = market::UnbondingPeriod;
	type MaxUnlockingChunks = MaxUnlockingChunks;
	type Treasury = TreasuryAccount;
	/// Unbonding waits until the provider has no open jobs.
	type OpenJobs = Jobs;
	type OnBondBelowMinimum = Models;
	type WeightInfo = pallet_slashing::weights::SubstrateWeight<Runtime>;
}

parameter_types! {
	pub const MaxModels: u32 = 1_024;
	pub const MaxOffersPerProvider: u32 = 32;
	pub const MaxEndpointLen: u32 = 256;
	pub const MaxHardwareLen: u32 = 64;
	pub const MaxCapacity: u32 = 1_024;
	pub const MaxTokensPerJob: u32 = 8_192;
	/// Filling the 1,024-model registry locks 102,400 AGR, from at least 64 accounts.
	pub const ModelDeposit: Balance = 100 * AGR;
	/// On top of the provider's bond: 32 squatting offers lock 320 AGR more.
	pub const OfferDeposit: Balance = 10 * AGR;
	pub const MaxModelsPerPublisher: u32 = 16;
	/// A deprecated model stays a day, so jobs already on it settle and are checked.
	pub const ModelRetention: BlockNumber = DAYS;
	/// A closed offer's signer outlives the longest dispute window by an hour.
	pub const OfferRetention: BlockNumber = MAX_DISPUTE_WINDOW + HOURS;
	/// 64 closes per expiry block, searched over 16 blocks: 1,024 closes an
	/// hour apart before one is refused (`ClosuresFull`), each an offer that
	/// held `OfferDeposit` and a bonded provider.
	pub const MaxClosuresPerBlock: u32 = 64;
	pub const QueueSurcharge: Balance = 10 * MILLI_AGR;
}

impl pallet_models::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type Bonds = crate::Slashing;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type ModelDeposit = ModelDeposit;
	type OfferDeposit = OfferDeposit;
	type MaxModelsPerPublisher = MaxModelsPerPublisher;
	type ModelRetention = ModelRetention;
	type MaxModels = MaxModels;
	type MaxOffersPerProvider = MaxOffersPerProvider;
	type MaxEndpointLen = MaxEndpointLen;
	type MaxHardwareLen = MaxHardwareLen;
	type MaxCapacity = MaxCapacity;
	type MaxTokensPerJob = MaxTokensPerJob;
	type OfferRetention = OfferRetention;
	type MaxClosuresPerBlock = MaxClosuresPerBlock;
	type WeightInfo = pallet_models::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = BondHelper;
}

/// Bonds a provider for the models benchmarks.
#[cfg(feature = "runtime-benchmarks")]
pub struct BondHelper;
#[cfg(feature = "runtime-benchmarks")]
impl pallet_models::BenchmarkHelper<AccountId> for BondHelper {
	fn bond(who: &AccountId) {
		use frame_support::traits::fungible::Mutate;
		let stake = <market::MinProviderStake as frame_support::traits::Get<Balance>>::get();
		let _ = Balances::set_balance(who, stake.saturating_mul(10));
		let _ = crate::Slashing::bond(frame_system::RawOrigin::Signed(who.clone()).into(), stake);
	}
}

parameter_types! {
	/// Every open channel locks at least 1 AGR of its sender's, so channels
	/// are not free storage.
	pub const MinChannelValue: Balance = AGR;
	/// A channel may be set to expire at most 30 days ahead (`extend` moves it).
	pub const MaxChannelDuration: BlockNumber = 30 * DAYS;
	/// Concurrent requests one client's channel carries (each lane pays in order).
	pub const MaxChannelLanes: u32 = agora_primitives::channels::MAX_LANES;
	/// Vouchers one `claim_batch` settles (it fits a block: docs/benchmarks.md).
	pub const MaxClaimBatch: u32 = 1_000;
}

impl pallet_channels::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type MinChannelValue = MinChannelValue;
	type MaxChannelDuration = MaxChannelDuration;
	type MaxLanes = MaxChannelLanes;
	type MaxClaimBatch = MaxClaimBatch;
	type WeightInfo = pallet_channels::weights::SubstrateWeight<Runtime>;
}

parameter_types! {
	/// A pass epoch is an hour on the public chains; the dev chain spec sets
	/// 20 blocks (a minute) so that tests see epochs end.
	pub const DefaultPassEpoch: BlockNumber = HOURS;
	/// Years of 365.25 days, to spread `INFLATION` over epochs.
	pub const BlocksPerYear: BlockNumber = DAYS * 36_525 / 100;
	/// A model's `W_service` until a referendum sets it.
	pub const DefaultServiceWeight: u32 = 1;
	pub const MaxServiceWeight: u32 = 1_000;
	/// Providers paid per block at an epoch's end (each a mint and two
	/// storage writes).
	pub const MaxPassPayoutsPerBlock: u32 = 64;
}

impl pallet_passes::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type StakePerRequest = market::StakePerRequest;
	type MaxRequestsPerEpoch = market::MaxRequestsPerEpoch;
	type PassCooldown = market::PassCooldown;
	type Inflation = market::Inflation;
	type RewardCap = market::PassRewardCap;
	type BlocksPerYear = BlocksPerYear;
	type DefaultEpochLength = DefaultPassEpoch;
	type DefaultServiceWeight = DefaultServiceWeight;
	type MaxServiceWeight = MaxServiceWeight;
	type MaxPayoutsPerBlock = MaxPassPayoutsPerBlock;
	type Treasury = TreasuryAccount;
	/// Service weights are market parameters: a `market_params` (or root) referendum.
	type ServiceWeightOrigin = super::governance::MarketParamsOrigin;
	type WeightInfo = pallet_passes::weights::SubstrateWeight<Runtime>;
}

impl pallet_escrow::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type ProtocolFee = market::ProtocolFee;
	type Treasury = TreasuryAccount;
}

/// The including block's own BABE VRF output (from its pre-runtime digest),
/// mixed with the subject: unknown to a client when it signs a job. Falls back
/// to the parent block's VRF randomness for blocks without a VRF (secondary plain
/// slots, which this chain's epoch configuration does not allow).
pub struct CurrentBlockVrf;

impl frame_support::traits::Randomness<Option<Hash>, BlockNumber> for CurrentBlockVrf {
	fn random(subject: &[u8]) -> (Option<Hash>, BlockNumber) {
		let now = frame_system::Pallet::<Runtime>::block_number();
		let digest = frame_system::Pallet::<Runtime>::digest();
		let pre_output = digest.logs.iter().find_map(|item| {
			let data = item.pre_runtime_try_to::<sp_consensus_babe::digests::PreDigest>(
				&sp_consensus_babe::BABE_ENGINE_ID,
			)?;
			data.vrf_signature().map(|s| s.pre_output.encode())
		});
		match pre_output {
			Some(out) => {
				let h = sp_io::hashing::blake2_256(&(subject, out).encode());
				(Some(Hash::from(h)), now)
			},
			None => {
				let (r, _) = <pallet_babe::ParentBlockRandomness<Runtime> as
					frame_support::traits::Randomness<Option<Hash>, BlockNumber>>::random(subject);
				(r, now)
			},
		}
	}
}

/// Most jobs with one deadline block (what a squatter can pile on one block;
/// an order finds it half full before it pays a surcharge).
pub const MAX_JOBS_PER_BLOCK: u32 = 4_096;

parameter_types! {
	/// Storage bound of inline job input (`MAX_INPUT_LEN` is at most this).
	pub const MaxInputLen: u32 = MAX_INPUT_BOUND;
	pub const MaxJobsPerBlock: u32 = MAX_JOBS_PER_BLOCK;
	/// 15% of a block's weight for finalizations, expiries and prunes (about
	/// 370 finalizations) in `on_initialize`; what is left over is drained in
	/// `on_idle` within the weight the block's extrinsics left, and the rest
	/// waits for the next block.
	pub QueueWeight: frame_support::weights::Weight =
		sp_runtime::Perbill::from_percent(15) * super::system::RuntimeBlockWeights::get().max_block;
	/// Most fitting offers one AVRF draw weighs (a seeded sample when more fit).
	pub const MaxCandidates: u32 = 32;
	/// Most of a model's offers read per job: consecutive slots of the model's
	/// gap-free offer index from a start the job's AVRF seed picks
	/// (`rules::scan_slots`), so with more offers every one is read by the
	/// same share of jobs.
	pub const MaxOfferScan: u32 = 256;
}

impl pallet_jobs::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type Balance = Balance;
	type Escrow = Escrow;
	type Offers = Models;
	type Bonds = crate::Slashing;
	/// AVRF weights are reputation scores (0–100); ratings go through it.
	type Reputation = crate::Reputation;
	type Randomness = CurrentBlockVrf;
	type MaxInputLen = MaxInputLen;
	type InputLimit = market::MaxInputLen;
	type MaxTokensPerJob = MaxTokensPerJob;
	type MaxDeadline = market::MaxDeadline;
	type DisputeWindow = market::DisputeWindow;
	type Retention = market::Retention;
	type MaxJobsPerBlock = MaxJobsPerBlock;
	type QueueWeight = QueueWeight;
	/// A relayer posts up to 256 receipts in one extrinsic (85 ms of weight).
	type MaxReceiptBatch = ConstU32<256>;
	/// A client orders up to 256 jobs of one model in one extrinsic.
	type MaxOrderBatch = ConstU32<256>;
	type MaxCandidates = MaxCandidates;
	type MaxOfferScan = MaxOfferScan;
	type MissedDeadlineSlash = market::MissedDeadlineSlash;
	/// A minute (20 blocks) to upload a by-hash input after ordering the job.
	type InputGrace = ConstU32<20>;
	/// 0.01 AGR once a deadline block's queue is half full, doubling every
	/// eighth: squatting the last 2,048 slots of one block costs 652.8 AGR, kept by
	/// the treasury even when the squatter cancels (more under queue pressure).
	type QueueSurcharge = QueueSurcharge;
	/// The queue pressure halves every minute (20 blocks): squatting the upper
	/// halves of block after block doubles each next block's cost, up to ×128
	/// (83,558 AGR a block) while it lasts.
	type QueuePressureHalfLife = ConstU32<20>;
	/// Receipts are told to `pallet-verification`, which queues their audit draws.
	type Checks = crate::Verification;
	/// Pass jobs take a request of the client's service pass and count for
	/// their provider's epoch reward when finalized.
	type Passes = crate::Passes;
	type WeightInfo = pallet_jobs::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = JobsHelper;
}

parameter_types! {
	/// `ABUSE_N`: a client's last 10 ratings are looked at (a storage bound). With
	/// the default `ABUSE_M` = 7 and 10 % honest noise the chance of 7
	/// disagreements in 10 is about 1e-5 per rating.
	pub const AbuseWindow: u32 = ABUSE_WINDOW;
	/// A restriction doubles on every repeat, up to 2^10 × `T_RESTRICT`.
	pub const MaxRestrictDoublings: u32 = 10;
}

impl pallet_reputation::Config for Runtime {
	/// θ × 1000 (default 0.3: one net +1 rating gives 57.4, +5 gives 81.8,
	/// +10 gives 95.3).
	type ThetaMilli = market::ReputationThetaMilli;
	type AbuseWindow = AbuseWindow;
	type AbuseThreshold = market::AbuseThreshold;
	type RestrictPeriod = market::RestrictPeriod;
	type MaxDoublings = MaxRestrictDoublings;
	type WeightInfo = pallet_reputation::weights::SubstrateWeight<Runtime>;
}

/// Sets up models and offers for the jobs benchmarks.
#[cfg(feature = "runtime-benchmarks")]
pub struct JobsHelper;
#[cfg(feature = "runtime-benchmarks")]
impl pallet_jobs::BenchmarkHelper<AccountId, Balance> for JobsHelper {
	fn setup_offers(offers: u32, worker: [u8; 32]) -> (agora_primitives::ModelId, AccountId) {
		use frame_benchmarking::account;
		let publisher: AccountId = account("publisher", 0, 0);
		let m = agora_primitives::models::shipped::smollm2(publisher.clone());
		let id = m.id();
		if Models::model(id).is_none() {
			// The model deposit.
			use frame_support::traits::fungible::Mutate;
			let _ = Balances::set_balance(&publisher, crate::AGR.saturating_mul(1_000_000));
			let _ = Models::register_model(frame_system::RawOrigin::Signed(publisher).into(), m);
		}
		let mut first = None;
		for i in 0..offers {
			let p: AccountId = account("provider", i, 0);
			<BondHelper as pallet_models::BenchmarkHelper<AccountId>>::bond(&p);
			let key = if i == 0 { worker } else { sp_io::hashing::blake2_256(&i.encode()) };
			let _ = Models::open_offer(
				frame_system::RawOrigin::Signed(p.clone()).into(),
				id,
				key,
				crate::AGR / 1_000,
				crate::AGR / 100,
				b"http://127.0.0.1:8700".to_vec(),
				MaxCapacity::get(),
				b"cpu".to_vec(),
			);
			first.get_or_insert(p);
		}
		(id, first.unwrap_or_else(|| account("provider", 0, 0)))
	}

	fn fund(who: &AccountId, amount: Balance) {
		use frame_support::traits::fungible::Mutate;
		let _ = Balances::set_balance(who, amount);
	}

	fn set_input_limit(bytes: u32) {
		super::params::set_for_benchmark("MAX_INPUT_LEN", u128::from(bytes));
	}
	fn finish_draws() {
		let _ = pallet_verification::AuditDraws::<Runtime>::clear(u32::MAX, None);
		pallet_verification::AuditDrawCursor::<Runtime>::put(BlockNumber::MAX);
	}
	fn give_pass(who: &AccountId) {
		use frame_support::traits::{fungible::Mutate, Get};
		let stake = <market::StakePerRequest as Get<Balance>>::get().saturating_mul(10);
		let free = Balances::free_balance(who);
		let _ = Balances::set_balance(who, free.saturating_add(stake.saturating_mul(2)));
		let _ = crate::Passes::lock(frame_system::RawOrigin::Signed(who.clone()).into(), stake);
	}
}
