//! # Verification: audits, committees, votes, disputes and verdicts
//!
//! ## Overview
//! Receipts are accepted optimistically by `pallet-jobs`; this pallet checks a
//! sample of them, and every disputed one (docs/protocol.md §6):
//! - When a receipt is accepted, the job market calls
//!   [`agora_primitives::ReceiptChecks::on_receipt`]: the receipt's audit draw is
//!   queued `AuditDelay` blocks later (no later than its finalization) in
//!   that block's set of draws, of any size. `on_initialize` drains the sets
//!   in block order within `DrawWeight` (a draw left over waits for the next
//!   block, and the market finalizes no block whose draws are not all done);
//!   the VRF output of the block that makes the draw selects the receipt with
//!   probability `AuditRate` ([`agora_primitives::rules::drawn_for_audit`]).
//! - [`Pallet::dispute`]: anyone disputes a receipt within its window, bonding
//!   the larger of `DisputeBond` and the job's `max_price` (held by
//!   `pallet-escrow` through [`agora_primitives::DisputeBonds`]).
//! - [`Pallet::dispute_receipt`]: anyone puts a channel-paid answer's signed
//!   [`agora_primitives::channels::ServedReceipt`] before a committee, with
//!   the request's input and the served output, within `ServedWindow` blocks
//!   of the block it names. The check runs as a job's does (ids from
//!   [`agora_primitives::channels::SERVED_CHECK_BASE`] up); fraud refunds the
//!   channel's sender the answer's price out of the provider's bond.
//! - A drawn or disputed receipt goes to a committee of `CommitteeSize`
//!   validators drawn from the session's (not the provider, the client or the
//!   challenger). Each member's off-chain worker fetches the output from the
//!   provider, asks its local verifier and submits [`Pallet::vote`], signed
//!   with its `agora` session key.
//! - A majority decides: fraud (or withholding) refunds the client, slashes the
//!   provider (`FraudSlash`, `ChallengerReward` of it to a challenger) and drops
//!   its reputation; an upheld receipt finalizes as normal and a challenger
//!   forfeits its bond. Without a majority by the vote deadline, non-voters
//!   are struck and replaced (`MaxRedraws` times), then the job ends
//!   `Unverified`: refunded, nobody paid or slashed. Validators whose strikes
//!   reach `StrikeThreshold` are reported as offenders.
//!
//! The job's state and escrow belong to `pallet-jobs`, read and moved through
//! [`agora_primitives::JobMarket`]; this pallet never touches another's storage.
//!
//! ## Code layout
//! `lib.rs` holds the calls, storage, events and errors; `committee.rs` the
//! draws, committees and vote counting; `served.rs` disputes of served
//! receipts and where a check's subject (job or served receipt) lives; `verdict.rs` the verdicts and vote
//! timeouts; `offchain.rs` the off-chain worker's part; `try_state.rs` the
//! invariants. The consensus rules they apply (seeds, draws, payloads) are
//! `agora_primitives::rules` and `agora_primitives::jobs`.
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
mod committee;
pub mod migrations;
#[cfg(test)]
mod mock;
mod offchain;
mod served;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_offchain;
#[cfg(test)]
mod tests_props;
#[cfg(test)]
mod tests_served;
#[cfg(any(feature = "try-runtime", feature = "std", test))]
mod try_state;
pub mod types;
mod verdict;
pub mod weights;

pub use types::*;
pub use weights::WeightInfo;

/// Sets up what the benchmarks need from other pallets.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper<AccountId, Balance> {
	/// A receipted job, ready to be checked: (job id, provider, client).
	fn receipted_job() -> (agora_primitives::JobId, AccountId, AccountId);
	/// Funds `who`.
	fn fund(who: &AccountId, amount: Balance);
	/// A bonded provider's offer signing with `worker_key`, and a channel to it
	/// from a funded sender, for a served receipt: (offer id, provider, channel id).
	fn served_setup(
		worker_key: [u8; 32],
	) -> (agora_primitives::OfferId, AccountId, agora_primitives::channels::ChannelId);
	/// Sets `AUDIT_RATE` (parts per million) where the runtime keeps it.
	fn set_audit_rate(ppm: u32);
	/// Sets `COMMITTEE_SIZE` where the runtime keeps it (the benchmarks measure
	/// committees at `MaxCommitteeSize`).
	fn set_committee_size(n: u32);
}

// FRAME's pallet macros expand to `expect` calls attributed to this module;
// hand-written code here uses none (the before-stop check greps for them).
#[allow(clippy::expect_used, clippy::unwrap_used)]
#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use agora_primitives::{
		channels::{ChannelId, LaneId, ServedReceipt},
		AuditVote, ChannelParties, DisputeBonds, JobId, JobMarket, OfferId, OfferRegistry, OffchainAudit,
		ProviderBonds, Reputation, SlashReason, VotePayload,
	};
	use alloc::{boxed::Box, vec::Vec};
	use frame_support::{pallet_prelude::*, traits::Randomness};
	use frame_system::{offchain::CreateBare, pallet_prelude::*};
	use sp_runtime::{traits::Saturating, Perbill, RuntimeAppPublic};

	/// The balance type.
	pub type BalanceOf<T> = <T as Config>::Balance;

	/// A committee: validator accounts and their `agora` keys, in draw order.
	pub type CommitteeOf<T> = BoundedVec<
		(<T as frame_system::Config>::AccountId, <T as Config>::AuthorityId),
		<T as Config>::MaxCommitteeSize,
	>;

	/// A check as stored.
	pub type AuditOf<T> = Audit<T>;

	/// v1: audit draws are sets per block drained by a cursor
	/// ([`crate::migrations::v1`]).
	pub const STORAGE_VERSION: StorageVersion = StorageVersion::new(1);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	/// Defaults for a test runtime's [`Config`] (`#[derive_impl(config_preludes::TestDefaultConfig)]`):
	/// the values no test cares about; a mock sets the rest.
	pub mod config_preludes {
		use super::*;
		use frame_support::derive_impl;

		/// Committees of 3 from up to 8 validators, 8 blocks to vote, no random audits.
		pub struct TestDefaultConfig;

		#[derive_impl(frame_system::config_preludes::TestDefaultConfig, no_aggregated_types)]
		impl frame_system::DefaultConfig for TestDefaultConfig {}

		frame_support::parameter_types! {
			pub const FraudSlash: Perbill = Perbill::from_percent(50);
			pub const ChallengerReward: Perbill = Perbill::from_percent(20);
			pub const LostBondToProvider: Perbill = Perbill::from_percent(50);
			pub const DrawWeight: Weight = Weight::MAX;
		}

		#[frame_support::register_default_impl(TestDefaultConfig)]
		impl DefaultConfig for TestDefaultConfig {
			#[inject_runtime_type]
			type RuntimeEvent = ();
			type MaxValidators = ConstU32<8>;
			type MaxCommitteeSize = ConstU32<5>;
			type CommitteeSize = ConstU32<3>;
			type VoteTimeout = frame_support::traits::ConstU64<8>;
			type AuditDelay = frame_support::traits::ConstU64<2>;
			type MaxChecksPerBlock = ConstU32<3>;
			type DrawWeight = DrawWeight;
			type MaxRedraws = ConstU32<2>;
			type StrikeThreshold = ConstU32<3>;
			type NonVoterReport = ();
			type AuditRate = ConstU32<0>;
			type FraudSlash = FraudSlash;
			type ChallengerReward = ChallengerReward;
			type LostBondToProvider = LostBondToProvider;
			type VotePriority = frame_support::traits::ConstU64<{ 1 << 20 }>;
			type ServedWindow = frame_support::traits::ConstU64<10>;
			type MaxServedInput = ConstU32<{ agora_primitives::channels::MAX_SERVED_INPUT }>;
			type MaxServedOutput = ConstU32<{ agora_primitives::channels::MAX_SERVED_OUTPUT }>;
			type WeightInfo = ();
		}
	}

	#[pallet::config(with_default)]
	pub trait Config: frame_system::Config + CreateBare<Call<Self>> {
		/// The overarching event type.
		#[pallet::no_default_bounds]
		#[allow(deprecated)]
		type RuntimeEvent: From<Event<Self>> + IsType<<Self as frame_system::Config>::RuntimeEvent>;
		/// The balance type.
		#[pallet::no_default]
		type Balance: frame_support::traits::tokens::Balance + MaybeSerializeDeserialize;
		/// The job market whose receipts are checked.
		#[pallet::no_default]
		type Jobs: JobMarket<Self::AccountId, Self::Balance, BlockNumberFor<Self>>;
		/// Where dispute bonds are held.
		#[pallet::no_default]
		type DisputeBonds: DisputeBonds<Self::AccountId, Self::Balance>;
		/// Provider bonds (slashed on fraud).
		#[pallet::no_default]
		type Bonds: ProviderBonds<Self::AccountId, Balance = BalanceOf<Self>>;
		/// Provider reputation (dropped on fraud).
		#[pallet::no_default]
		type Reputation: Reputation<Self::AccountId>;
		/// The including block's BABE VRF output: seeds audit draws and committees.
		#[pallet::no_default]
		type Randomness: Randomness<Option<Self::Hash>, BlockNumberFor<Self>>;
		/// The validators' `agora` session key type: it signs votes.
		#[pallet::no_default]
		type AuthorityId: Member + Parameter + RuntimeAppPublic + Ord + MaybeSerializeDeserialize + MaxEncodedLen;
		/// The most validators kept for committee draws.
		#[pallet::constant]
		type MaxValidators: Get<u32>;
		/// The most members a committee can have (the storage bound).
		#[pallet::constant]
		type MaxCommitteeSize: Get<u32>;
		/// Members drawn per check (governed; clamped to `MaxCommitteeSize`).
		type CommitteeSize: Get<u32>;
		/// Blocks a committee has to vote.
		#[pallet::no_default_bounds]
		type VoteTimeout: Get<BlockNumberFor<Self>>;
		/// Blocks between a receipt and its audit draw: the draw uses a VRF
		/// output revealed only after the receipt is on chain.
		#[pallet::no_default_bounds]
		#[pallet::constant]
		type AuditDelay: Get<BlockNumberFor<Self>>;
		/// The most checks queued per block at their vote deadline.
		#[pallet::constant]
		type MaxChecksPerBlock: Get<u32>;
		/// The most weight one block's `on_initialize` spends on audit draws;
		/// the draws left over wait for the next block.
		#[pallet::constant]
		type DrawWeight: Get<Weight>;
		/// How often a check's non-voters are replaced before it ends `Unverified`.
		#[pallet::constant]
		type MaxRedraws: Get<u32>;
		/// Strikes (missed votes) after which a validator is reported.
		#[pallet::constant]
		type StrikeThreshold: Get<u32>;
		/// Where validators that keep not voting are reported.
		#[pallet::no_default_bounds]
		type NonVoterReport: agora_primitives::NonVoterReport<Self::AccountId>;
		/// Share of receipts drawn for audit, in parts per million (governed).
		type AuditRate: Get<u32>;
		/// The least a dispute bonds (governed).
		#[pallet::no_default]
		type DisputeBond: Get<BalanceOf<Self>>;
		/// Share of a provider's bond slashed for fraud or withholding.
		type FraudSlash: Get<Perbill>;
		/// Share of that slash paid to a challenger.
		type ChallengerReward: Get<Perbill>;
		/// Share of a lost dispute bond paid to the provider (the rest to the treasury).
		type LostBondToProvider: Get<Perbill>;
		/// Pool priority of committee votes.
		#[pallet::constant]
		type VotePriority: Get<TransactionPriority>;
		/// Offers, to check that a served receipt's worker key is the provider's.
		#[pallet::no_default]
		type Offers: OfferRegistry<Self::AccountId, BalanceOf<Self>>;
		/// Payment channels, to find a served receipt's sender and recipient.
		#[pallet::no_default]
		type Channels: ChannelParties<Self::AccountId>;
		/// Blocks after the block a served receipt names in which it may be
		/// disputed (the runtime uses `SERVED_DISPUTE_WINDOW`).
		#[pallet::no_default_bounds]
		type ServedWindow: Get<BlockNumberFor<Self>>;
		/// The longest input a served receipt is disputed with.
		#[pallet::constant]
		type MaxServedInput: Get<u32>;
		/// The longest output a served receipt is disputed with.
		#[pallet::constant]
		type MaxServedOutput: Get<u32>;
		/// Weights of this pallet's calls and hooks.
		type WeightInfo: WeightInfo;
		/// The committee member's off-chain check (the runtime plugs in
		/// `agora_offchain_workers::HttpAudit`).
		#[pallet::no_default]
		type OffchainAudit: OffchainAudit;
		/// Benchmark set-up.
		#[pallet::no_default]
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: BenchmarkHelper<Self::AccountId, BalanceOf<Self>>;
	}

	/// A queue of jobs, per block.
	pub type QueueOf<T> = BoundedVec<JobId, <T as Config>::MaxChecksPerBlock>;

	/// Running committee checks, by job.
	#[pallet::storage]
	pub type Audits<T: Config> = StorageMap<_, Twox64Concat, JobId, AuditOf<T>>;

	/// Receipts whose audit draw is due at a block: a set per block, drained
	/// from [`AuditDrawCursor`] on.
	#[pallet::storage]
	pub type AuditDraws<T: Config> =
		StorageDoubleMap<_, Twox64Concat, BlockNumberFor<T>, Twox64Concat, JobId, (), OptionQuery>;

	/// The first block whose audit draws are not all done.
	#[pallet::storage]
	pub type AuditDrawCursor<T: Config> = StorageValue<_, BlockNumberFor<T>, ValueQuery>;

	/// Checks whose vote deadline is this block.
	#[pallet::storage]
	pub type AuditTimeouts<T: Config> =
		StorageMap<_, Twox64Concat, BlockNumberFor<T>, QueueOf<T>, ValueQuery>;

	/// Missed votes per validator since its last report.
	#[pallet::storage]
	pub type Strikes<T: Config> = StorageMap<_, Blake2_128Concat, T::AccountId, u32, ValueQuery>;

	/// Disputed served receipts under check, by check id (from
	/// [`agora_primitives::channels::SERVED_CHECK_BASE`] up).
	#[pallet::storage]
	pub type ServedChecks<T: Config> = StorageMap<_, Twox64Concat, JobId, ServedCheck<T>>;

	/// The next served check's number (its id is `SERVED_CHECK_BASE` + it).
	#[pallet::storage]
	pub type NextServedCheck<T: Config> = StorageValue<_, u64, ValueQuery>;

	/// Served receipts already disputed, by voucher `(channel, lane, nonce)`:
	/// the check id. Kept until the receipt's window has passed, so one
	/// receipt is judged once.
	#[pallet::storage]
	pub type ServedDisputes<T: Config> =
		StorageMap<_, Blake2_128Concat, (ChannelId, LaneId, u64), JobId>;

	/// Markers in [`ServedDisputes`] removed in this block (their windows have passed).
	#[pallet::storage]
	pub type ServedExpiry<T: Config> = StorageMap<
		_,
		Twox64Concat,
		BlockNumberFor<T>,
		BoundedVec<(ChannelId, LaneId, u64), T::MaxChecksPerBlock>,
		ValueQuery,
	>;

	/// The session's validators and their `agora` keys (committees are drawn
	/// from these).
	#[pallet::storage]
	pub type Verifiers<T: Config> =
		StorageValue<_, BoundedVec<(T::AccountId, T::AuthorityId), T::MaxValidators>, ValueQuery>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A receipt went to a committee check: drawn for audit (`challenger` is
		/// `None`) or disputed. Members' off-chain workers vote by `vote_deadline`.
		AuditStarted {
			job_id: JobId,
			provider: T::AccountId,
			committee: Vec<T::AccountId>,
			challenger: Option<T::AccountId>,
			vote_deadline: BlockNumberFor<T>,
		},
		/// `challenger` disputed the receipt, bonding `bond`.
		Disputed { job_id: JobId, challenger: T::AccountId, bond: BalanceOf<T> },
		/// `challenger` disputed the served receipt of the answer that voucher
		/// `(channel_id, lane, nonce)` paid for; it is checked as `job_id`.
		ServedDisputed {
			job_id: JobId,
			channel_id: ChannelId,
			lane: LaneId,
			nonce: u64,
			provider: T::AccountId,
			challenger: T::AccountId,
		},
		/// A committee member voted.
		Voted { job_id: JobId, validator: T::AccountId, vote: AuditVote },
		/// The committee found the receipt fraudulent (`reason` `Fraud`) or the
		/// output withheld (`Withholding`): the client was refunded, the provider
		/// slashed (`to_challenger` of it paid to the challenger, whose bond was
		/// returned) and its reputation dropped to the floor.
		JobFraud {
			job_id: JobId,
			provider: T::AccountId,
			reason: SlashReason,
			refunded: BalanceOf<T>,
			slashed: BalanceOf<T>,
			to_challenger: BalanceOf<T>,
		},
		/// The committee upheld the receipt; the job finalizes as normal. A
		/// challenger lost its bond: `bond_to_provider` to the provider, the rest
		/// to the treasury.
		AuditPassed {
			job_id: JobId,
			provider: T::AccountId,
			bond_to_provider: BalanceOf<T>,
			bond_to_treasury: BalanceOf<T>,
		},
		/// No majority by the vote deadline: the members who did not vote were
		/// struck and replaced by `replacements`; the check runs until
		/// `vote_deadline`.
		AuditRedrawn {
			job_id: JobId,
			struck: Vec<T::AccountId>,
			replacements: Vec<T::AccountId>,
			vote_deadline: BlockNumberFor<T>,
		},
		/// A committee member did not vote by the deadline (`strikes` since
		/// its last report).
		MemberStruck { validator: T::AccountId, strikes: u32 },
		/// Validators whose strikes reached `StrikeThreshold` on the check of
		/// `job_id` were reported as offenders; their counts start again.
		NonVotersReported { job_id: JobId, validators: Vec<T::AccountId> },
		/// No majority, even after `MaxRedraws` re-draws (or a split vote): the
		/// job ends `Unverified`: the client is refunded in full, the provider
		/// is neither paid nor slashed, a challenger's bond is returned.
		/// `non_voters` did not vote.
		AuditTimedOut { job_id: JobId, non_voters: Vec<T::AccountId>, refunded: BalanceOf<T> },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// No such job, or it has no receipt.
		UnknownJob,
		/// The job is not in a state that allows this (its check has ended).
		InvalidState,
		/// The dispute window of the receipt has closed.
		WindowClosed,
		/// The job is already disputed.
		AlreadyDisputed,
		/// The challenger cannot cover the bond ([`Pallet::dispute_bond`]).
		InsufficientBond,
		/// No validator has an `agora` key to form a committee.
		NoCommittee,
		/// The vote-deadline block's queue is full; retry next block.
		AuditQueueFull,
		/// The job is not under a committee check.
		NoAudit,
		/// No such committee member.
		NotInCommittee,
		/// The vote is not signed by the `agora` key of the member it names (a
		/// key outside the committee, or a bad signature).
		NotCommitteeKey,
		/// The member already voted.
		AlreadyVoted,
		/// A member of the receipt's running check cannot also dispute it (it
		/// votes instead).
		ChallengerInCommittee,
		/// The disputed input is longer than `MaxServedInput`.
		ServedInputTooLong,
		/// The disputed output is longer than `MaxServedOutput`.
		ServedOutputTooLong,
		/// The input's blake2_256 is not the receipt's `input_hash`.
		InputMismatch,
		/// The output's blake2_256 is not the receipt's `output_hash`.
		OutputMismatch,
		/// The receipt is not signed by the worker key it names.
		BadReceiptSignature,
		/// No such offer: none open with this id, and none closed within its
		/// retention (`pallet-models`' `OfferRetention`).
		UnknownOffer,
		/// The offer is not the receipt's provider's offer of its model with
		/// its worker key.
		NotReceiptOffer,
		/// No such payment channel (never opened, or reclaimed).
		UnknownChannel,
		/// The channel does not pay the receipt's provider.
		NotChannelRecipient,
		/// The receipt names a block after the current one.
		ReceiptFromFuture,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		/// Audit draws queued for this block, then checks at their vote
		/// deadline; bounded by `MaxChecksPerBlock` each. A check's step that
		/// fails changes nothing and is retried in the next block with room.
		fn on_initialize(n: BlockNumberFor<T>) -> Weight {
			Self::do_on_initialize(n)
		}

		/// A committee member's check: for every check this node's `agora` keys
		/// sit on and have not voted in, fetch the output from the provider, ask
		/// the local verifier (`--agora-verifier`) and submit the signed vote.
		fn offchain_worker(n: BlockNumberFor<T>) {
			if !sp_io::offchain::is_validator() {
				return;
			}
			let local = T::AuthorityId::all();
			if local.is_empty() {
				return;
			}
			Self::offchain_audits(n, &local);
		}

		fn integrity_test() {
			assert!(T::MaxChecksPerBlock::get() > 0, "MaxChecksPerBlock must be positive");
			assert!(T::MaxCommitteeSize::get() > 0, "MaxCommitteeSize must be positive");
			assert!(!T::VoteTimeout::get().is_zero(), "VoteTimeout must be positive");
			assert!(!T::AuditDelay::get().is_zero(), "AuditDelay must be positive");
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Dispute a receipt within its window, bonding the larger of
		/// `DisputeBond` and the job's `max_price`: a committee of validators
		/// (not the provider, the client or the challenger) re-checks it
		/// (docs/protocol.md §6). If the receipt is already under a random
		/// audit, the challenger joins that check, unless it sits on its committee.
		///
		/// - Origin: signed, anyone (the challenger).
		/// - Emits [`Event::Disputed`], and [`Event::AuditStarted`] unless an audit
		///   was already running.
		/// - Errors: [`Error::UnknownJob`], [`Error::InvalidState`] (the job has
		///   ended), [`Error::WindowClosed`], [`Error::AlreadyDisputed`],
		///   [`Error::InsufficientBond`], [`Error::ChallengerInCommittee`],
		///   [`Error::NoCommittee`], [`Error::AuditQueueFull`].
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::dispute())]
		pub fn dispute(origin: OriginFor<T>, job_id: JobId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_dispute(who, job_id)
		}

		/// A committee member's vote, signed with its `agora` session key over
		/// `b"agora/vote/v1" ++ SCALE(payload)`. Submitted unsigned by the
		/// member's off-chain worker; the pool admits one per member and job
		/// (`provides` tag), only while the check runs. A majority decides:
		/// `Invalid` + `Withheld` → fraud, `Valid` → upheld.
		///
		/// - Origin: none (validated by the signature).
		/// - Emits [`Event::Voted`], and [`Event::JobFraud`] or
		///   [`Event::AuditPassed`] when the vote makes a majority.
		/// - Errors: [`Error::NoAudit`], [`Error::NotInCommittee`],
		///   [`Error::NotCommitteeKey`], [`Error::AlreadyVoted`].
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::vote())]
		pub fn vote(
			origin: OriginFor<T>,
			payload: VotePayload,
			signature: <T::AuthorityId as RuntimeAppPublic>::Signature,
		) -> DispatchResult {
			ensure_none(origin)?;
			let (mut audit, validator) = Self::check_vote(&payload, &signature)?;
			audit
				.votes
				.try_push((payload.member, payload.vote))
				.map_err(|_| Error::<T>::AlreadyVoted)?;
			Self::deposit_event(Event::Voted { job_id: payload.job_id, validator, vote: payload.vote });
			Self::tally(payload.job_id, audit)
		}

		/// Dispute a channel-paid answer (docs/protocol.md §4.2): its served
		/// receipt with the worker key's signature, the provider's offer the
		/// key belongs to (open, or closed since: a closed offer's signer is
		/// kept `OfferRetention` blocks), the request's input and the served
		/// output. The chain
		/// checks that they are what the worker signed, then a committee (not
		/// the provider, the channel's sender or the challenger) re-checks the
		/// answer as it checks a job, under the receipt's parameters and
		/// sampling seed. Bonds the larger of `DisputeBond` and the answer's
		/// price. Fraud: the sender is refunded the price out of the provider's
		/// bond, which is then slashed `FraudSlash` (`ChallengerReward` of it to
		/// the challenger, whose bond is returned). Upheld: the challenger
		/// forfeits its bond as for a job. One dispute per receipt, within
		/// `ServedWindow` blocks of the block the receipt names.
		///
		/// - Origin: signed, anyone (the challenger; usually the sender).
		/// - Emits [`Event::ServedDisputed`], [`Event::Disputed`] and
		///   [`Event::AuditStarted`].
		/// - Errors: [`Error::ServedInputTooLong`], [`Error::ServedOutputTooLong`],
		///   [`Error::InputMismatch`], [`Error::OutputMismatch`],
		///   [`Error::BadReceiptSignature`], [`Error::UnknownOffer`],
		///   [`Error::NotReceiptOffer`], [`Error::UnknownChannel`],
		///   [`Error::NotChannelRecipient`], [`Error::ReceiptFromFuture`],
		///   [`Error::WindowClosed`], [`Error::AlreadyDisputed`],
		///   [`Error::InsufficientBond`], [`Error::NoCommittee`],
		///   [`Error::AuditQueueFull`].
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::dispute_receipt(input.len() as u32, output.len() as u32))]
		pub fn dispute_receipt(
			origin: OriginFor<T>,
			receipt: Box<ServedReceipt<T::AccountId>>,
			signature: [u8; 64],
			offer_id: OfferId,
			input: Vec<u8>,
			output: Vec<u8>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_dispute_receipt(who, *receipt, signature, offer_id, input, output)
		}
	}

	// `#[pallet::authorize]` would need `frame_system::AuthorizeCall` in the
	// runtime's transaction extensions, which the subxt and Polkadot.js clients of
	// this chain would then have to know; `ValidateUnsigned` (as pallet-im-online
	// uses it) admits the same votes until that migration.
	#[allow(deprecated)]
	#[pallet::validate_unsigned]
	impl<T: Config> ValidateUnsigned for Pallet<T> {
		type Call = Call<T>;

		/// Admits a committee vote: the named member's key signed it, the check is
		/// running and the member has not voted. One per (job, member).
		fn validate_unsigned(_source: TransactionSource, call: &Self::Call) -> TransactionValidity {
			let Call::vote { payload, signature } = call else {
				return InvalidTransaction::Call.into();
			};
			let (audit, _) = Self::check_vote(payload, signature).map_err(|e| match e {
				Error::<T>::NoAudit | Error::<T>::AlreadyVoted => InvalidTransaction::Stale,
				_ => InvalidTransaction::BadProof,
			})?;
			let now = frame_system::Pallet::<T>::block_number();
			let left: u64 = audit.vote_deadline.saturating_sub(now).try_into().unwrap_or(u64::MAX);
			ValidTransaction::with_tag_prefix("AgoraAuditVote")
				.priority(T::VotePriority::get())
				.and_provides((payload.job_id, payload.member))
				.longevity(left.max(1))
				.propagate(true)
				.build()
		}
	}

	pub use agora_primitives::jobs::VERIFIER_STORAGE_KEY;

	/// Blocks before a member's off-chain worker retries a vote that has not landed.
	pub const VOTE_RETRY: u32 = 5;

	impl<T: Config> Pallet<T> {
		/// The bond a dispute of a job priced `max_price` holds: `DisputeBond`,
		/// or `max_price` if that is more (a dispute delays the provider's
		/// payout, so delaying a larger one costs more).
		pub fn dispute_bond(max_price: BalanceOf<T>) -> BalanceOf<T> {
			T::DisputeBond::get().max(max_price)
		}
	}
}
