//! Verification (`pallet-verification`): audit draws, validator committees,
//! votes, disputes and verdicts, and the offence a validator that does not
//! vote commits. Values docs/protocol.md names (`AUDIT_RATE`, `COMMITTEE_SIZE`,
//! `DISPUTE_BOND`, …) are governed parameters of [`super::params`].

use frame_support::{parameter_types, traits::ConstU32};

use crate::{Balance, Escrow, Jobs, Runtime, RuntimeEvent};

use super::{
	constants::{MAX_AUTHORITIES, MAX_COMMITTEE_BOUND},
	marketplace::CurrentBlockVrf,
	params::market,
};

/// A validator that did not vote on `StrikeThreshold` committee checks it was
/// drawn for: an offence reported through `pallet-offences` (kind
/// `agora:non-voter!`, one time slot per job), which staking slashes
/// [`NonVotingOffence::SLASH`] of the offender's exposure (deferred like any
/// slash) and may disable it for the era.
pub struct NonVotingOffence {
	pub session_index: sp_staking::SessionIndex,
	pub validator_set_count: u32,
	pub job_id: u64,
	pub offenders: alloc::vec::Vec<pallet_session::historical::IdentificationTuple<Runtime>>,
}

impl NonVotingOffence {
	/// Share of the exposure slashed: 0.1 %.
	pub const SLASH: sp_runtime::Perbill = sp_runtime::Perbill::from_parts(1_000_000);
}

impl sp_staking::offence::Offence<pallet_session::historical::IdentificationTuple<Runtime>>
	for NonVotingOffence
{
	const ID: sp_staking::offence::Kind = *b"agora:non-voter!";
	type Slot = u64;

	fn offenders(&self) -> alloc::vec::Vec<pallet_session::historical::IdentificationTuple<Runtime>> {
		self.offenders.clone()
	}
	fn session_index(&self) -> sp_staking::SessionIndex {
		self.session_index
	}
	fn validator_set_count(&self) -> u32 {
		self.validator_set_count
	}
	fn slot(&self) -> u64 {
		self.job_id
	}
	fn slash_fraction(&self, _offenders_count: u32) -> sp_runtime::Perbill {
		Self::SLASH
	}
}

/// `pallet-verification`'s [`agora_primitives::NonVoterReport`]: reports a
/// [`NonVotingOffence`].
pub struct NonVoterOffences;

impl agora_primitives::NonVoterReport<crate::AccountId> for NonVoterOffences {
	fn report(offenders: alloc::vec::Vec<crate::AccountId>, job_id: u64) {
		use sp_staking::offence::ReportOffence;
		let offence = NonVotingOffence {
			session_index: pallet_session::CurrentIndex::<Runtime>::get(),
			validator_set_count: pallet_session::Validators::<Runtime>::decode_len().unwrap_or(0) as u32,
			job_id,
			offenders: offenders.into_iter().map(|a| (a, ())).collect(),
		};
		// Fails only as a duplicate (the same offenders for the same job).
		let _ = <crate::Offences as ReportOffence<
			crate::AccountId,
			pallet_session::historical::IdentificationTuple<Runtime>,
			NonVotingOffence,
		>>::report_offence(alloc::vec::Vec::new(), offence);
	}
}

parameter_types! {
	/// Checks reaching their vote deadline in one block.
	pub const MaxChecksPerBlock: u32 = 64;
	/// 5% of a block's weight for audit draws; what is left waits for the
	/// next block, and so do the finalizations behind it.
	pub DrawWeight: frame_support::weights::Weight =
		sp_runtime::Perbill::from_percent(5) * super::system::RuntimeBlockWeights::get().max_block;
	/// Storage bound of a committee (`COMMITTEE_SIZE` is at most this).
	pub const MaxCommitteeSize: u32 = MAX_COMMITTEE_BOUND;
	/// Committee votes go ahead of ordinary transactions.
	pub const VotePriority: sp_runtime::transaction_validity::TransactionPriority =
		sp_runtime::transaction_validity::TransactionPriority::MAX / 2;
}

impl pallet_verification::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type Balance = Balance;
	type Jobs = Jobs;
	/// Dispute bonds are held by escrow, next to the job's payment.
	type DisputeBonds = Escrow;
	type Bonds = crate::Slashing;
	type Reputation = crate::Reputation;
	type Randomness = CurrentBlockVrf;
	type AuthorityId = agora_primitives::AgoraAuthorityId;
	type MaxValidators = ConstU32<MAX_AUTHORITIES>;
	type MaxCommitteeSize = MaxCommitteeSize;
	type CommitteeSize = market::CommitteeSize;
	type VoteTimeout = market::VoteTimeout;
	/// The audit draw uses the VRF output of the block two after the receipt's.
	type AuditDelay = ConstU32<2>;
	type MaxChecksPerBlock = MaxChecksPerBlock;
	type DrawWeight = DrawWeight;
	/// A check without a majority gets new members (for those who did not
	/// vote) twice, then ends `Unverified`.
	type MaxRedraws = ConstU32<2>;
	/// Three checks drawn for and not voted in get a validator reported.
	type StrikeThreshold = ConstU32<3>;
	type NonVoterReport = NonVoterOffences;
	type AuditRate = market::AuditRate;
	type DisputeBond = market::DisputeBond;
	type FraudSlash = market::FraudSlash;
	type ChallengerReward = market::ChallengerReward;
	type LostBondToProvider = market::LostBondToProvider;
	type VotePriority = VotePriority;
	// A committee member's check: fetch over HTTP, ask the local verifier.
	type OffchainAudit = agora_offchain_workers::HttpAudit;
	type Offers = crate::Models;
	type Channels = crate::Channels;
	/// A served receipt is disputable for `SERVED_DISPUTE_WINDOW` blocks from
	/// the block it names.
	type ServedWindow = market::ServedDisputeWindow;
	type MaxServedInput = ConstU32<{ agora_primitives::channels::MAX_SERVED_INPUT }>;
	type MaxServedOutput = ConstU32<{ agora_primitives::channels::MAX_SERVED_OUTPUT }>;
	type WeightInfo = pallet_verification::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = VerificationHelper;
}

/// A receipted job for the verification benchmarks (from the jobs benchmarks' set-up).
#[cfg(feature = "runtime-benchmarks")]
pub struct VerificationHelper;
#[cfg(feature = "runtime-benchmarks")]
impl pallet_verification::BenchmarkHelper<crate::AccountId, Balance> for VerificationHelper {
	fn receipted_job() -> (u64, crate::AccountId, crate::AccountId) {
		pallet_jobs::benchmarking::receipted_job::<Runtime>()
	}
	fn fund(who: &crate::AccountId, amount: Balance) {
		<super::marketplace::JobsHelper as pallet_jobs::BenchmarkHelper<_, _>>::fund(who, amount)
	}
	fn set_audit_rate(ppm: u32) {
		super::params::set_for_benchmark("AUDIT_RATE", u128::from(ppm));
	}
	fn set_committee_size(n: u32) {
		super::params::set_for_benchmark("COMMITTEE_SIZE", u128::from(n));
	}
	fn served_setup(key: [u8; 32]) -> (u64, crate::AccountId, u64) {
		use frame_benchmarking::account;
		let (model, provider) =
			<super::marketplace::JobsHelper as pallet_jobs::BenchmarkHelper<_, _>>::setup_offers(1, key);
		let offer = pallet_models::Offers::<Runtime>::iter()
			.find(|(_, o)| o.provider == provider && o.model_id == model)
			.map(|(id, _)| id)
			.unwrap_or_default();
		let sender: crate::AccountId = account("sender", 0, 0);
		<super::marketplace::JobsHelper as pallet_jobs::BenchmarkHelper<_, _>>::fund(&sender, 1_000 * crate::AGR);
		let id = pallet_channels::NextChannelId::<Runtime>::get();
		let expiration = frame_system::Pallet::<Runtime>::block_number().saturating_add(crate::DAYS);
		let _ = crate::Channels::open_channel(
			crate::RuntimeOrigin::signed(sender),
			provider.clone(),
			[1; 32],
			10 * crate::AGR,
			expiration,
		);
		(offer, provider, id)
	}
}
