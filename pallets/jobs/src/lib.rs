//! # Jobs: ordering, assignment, receipts and settlement of inference jobs
//!
//! ## Overview
//! The marketplace's core (SPEC §2–§5):
//! - [`Pallet::submit_job`]: a client orders a job for a model; its `max_price` is
//!   held in escrow ([`agora_primitives::JobEscrow`]) and, in the same call, the
//!   job is assigned: to the provider the client names, or by AVRF — a roulette
//!   pick among the model's active offers that fit the price and have free
//!   capacity, weighted by reputation, seeded by the including block's BABE VRF
//!   output and the job id.
//! - [`Pallet::acknowledge`]: the provider takes the job; it can no longer be cancelled.
//! - [`Pallet::submit_receipt`]: the worker's signed receipt (sr25519 over
//!   `b"agora/receipt/v1" ++ SCALE(receipt)` by the offer's worker key).
//! - After `DisputeWindow` blocks the job is finalized in `on_initialize` (a
//!   queue keyed by block) or by anyone with [`Pallet::finalize`]: the charge
//!   `min(max_price, base + per_1k × tokens / 1000)` is paid out (fee to the
//!   treasury, royalty to the publisher, rest to the provider) and the rest refunded.
//! - No receipt by the deadline: the job expires in `on_initialize`, the client
//!   is refunded in full and the provider slashed `MissedDeadlineSlash`.
//! - [`Pallet::cancel_job`] before acknowledgement; [`Pallet::rate`] after finalization.
//! - Finished jobs are pruned `Retention` blocks after they end.
//!
//! ## Assumptions
//! - Every per-block queue is bounded (`MaxJobsPerBlock`); a job whose deadline
//!   block is full is refused (`DeadlineBusy`), a receipt whose finalization
//!   blocks are full is refused (`FinalizeQueueFull`).
//! - The `Disputed` state exists; the verification pallet decides disputes.
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_audit;
pub mod types;
pub mod weights;

pub use types::*;
pub use weights::WeightInfo;

/// Sets up what the benchmarks need from other pallets.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper<AccountId, Balance> {
	/// Registers a model and opens `offers` offers for it by bonded providers,
	/// every one signing with the key of `worker_seed`; returns the model id and
	/// the first offer's provider.
	fn setup_offers(offers: u32, worker: [u8; 32]) -> (agora_primitives::ModelId, AccountId);
	/// Funds `who`.
	fn fund(who: &AccountId, amount: Balance);
	/// Sets `AUDIT_RATE` (parts per million) where the runtime keeps it.
	fn set_audit_rate(ppm: u32);
}

// FRAME's pallet macros expand to `expect` calls attributed to this module;
// hand-written code here uses none (the before-stop check greps for them).
#[allow(clippy::expect_used, clippy::unwrap_used)]
#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use agora_primitives::{
		AuditVote, JobEscrow, JobId, JobParams, JobStatus, ModelId, OfferId, OfferRegistry,
		OfferTerms, ProviderBonds, Receipt, Reputation, SlashReason, VotePayload,
	};
	use alloc::vec::Vec;
	use codec::Encode;
	use frame_support::{
		pallet_prelude::*,
		traits::{
			fungible::{InspectHold, MutateHold},
			tokens::{Fortitude, Precision, Restriction},
			Randomness,
		},
		CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound,
	};
	use frame_system::{
		offchain::{CreateBare, SubmitTransaction},
		pallet_prelude::*,
	};
	use sp_runtime::{
		traits::{CheckedAdd, CheckedDiv, CheckedMul, Saturating, Zero},
		Perbill, RuntimeAppPublic,
	};

	/// The balance type.
	pub type BalanceOf<T> = <T as Config>::Balance;

	/// A job as stored.
	pub type JobOf<T> = Job<
		<T as frame_system::Config>::AccountId,
		BalanceOf<T>,
		BlockNumberFor<T>,
		<T as Config>::MaxInputLen,
	>;

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	/// A committee: validator accounts and their `agora` keys, in draw order.
	pub type CommitteeOf<T> = BoundedVec<
		(<T as frame_system::Config>::AccountId, <T as Config>::AuthorityId),
		<T as Config>::MaxCommitteeSize,
	>;

	/// A receipt under a committee check (random audit or dispute).
	#[derive(
		CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound, Encode, Decode, MaxEncodedLen, TypeInfo,
	)]
	#[scale_info(skip_type_params(T))]
	#[codec(mel_bound())]
	pub struct Audit<T: Config> {
		/// The members: validator account and `agora` session key, in draw order.
		pub committee: CommitteeOf<T>,
		/// Votes so far: (member index, vote).
		pub votes: BoundedVec<(u32, AuditVote), T::MaxCommitteeSize>,
		/// Who disputed, and the bond held from it (`None` for a random audit).
		pub challenger: Option<(T::AccountId, BalanceOf<T>)>,
		/// The block the check started in.
		pub started: BlockNumberFor<T>,
		/// Without a majority by this block the check ends with no verdict.
		pub vote_deadline: BlockNumberFor<T>,
	}

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// A challenger's bond, until the dispute's verdict.
		DisputeBond,
	}

	#[pallet::config]
	pub trait Config: frame_system::Config + CreateBare<Call<Self>> {
		/// The overarching event type.
		#[allow(deprecated)]
		type RuntimeEvent: From<Event<Self>> + IsType<<Self as frame_system::Config>::RuntimeEvent>;
		/// The balance type (the currency's).
		type Balance: frame_support::traits::tokens::Balance + MaybeSerializeDeserialize;
		/// Per-job escrow (`pallet-escrow`).
		type Escrow: JobEscrow<Self::AccountId, Self::Balance>;
		/// Models and offers (`pallet-models`).
		type Offers: OfferRegistry<Self::AccountId, BalanceOf<Self>>;
		/// Provider bonds, for slashing missed deadlines (`pallet-slashing`).
		type Bonds: ProviderBonds<Self::AccountId, Balance = BalanceOf<Self>>;
		/// Provider reputation (weights the AVRF draw).
		type Reputation: Reputation<Self::AccountId>;
		/// The including block's VRF output (BABE's `CurrentBlockRandomness`).
		type Randomness: Randomness<Option<Self::Hash>, BlockNumberFor<Self>>;
		/// Most bytes of inline input any job can store (the storage bound; the
		/// governed limit is [`Config::InputLimit`]).
		#[pallet::constant]
		type MaxInputLen: Get<u32>;
		/// `MAX_INPUT_LEN`: most bytes of inline input a new job may carry (a
		/// governed parameter, at most `MaxInputLen`).
		type InputLimit: Get<u32>;
		/// Most output tokens a job may ask for.
		#[pallet::constant]
		type MaxTokensPerJob: Get<u32>;
		/// How far ahead (in blocks) a deadline may be.
		#[pallet::constant]
		type MaxDeadline: Get<BlockNumberFor<Self>>;
		/// Blocks a receipt may be disputed in before the job finalizes.
		#[pallet::constant]
		type DisputeWindow: Get<BlockNumberFor<Self>>;
		/// Blocks a finished job is kept before it is pruned.
		#[pallet::constant]
		type Retention: Get<BlockNumberFor<Self>>;
		/// Most jobs in one block's finalize, expiry or prune queue.
		#[pallet::constant]
		type MaxJobsPerBlock: Get<u32>;
		/// Most offers considered in one AVRF draw.
		#[pallet::constant]
		type MaxCandidates: Get<u32>;
		/// Share of the bond slashed for a missed deadline.
		#[pallet::constant]
		type MissedDeadlineSlash: Get<Perbill>;
		/// The currency dispute bonds are held in.
		type Currency: MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason, Balance = BalanceOf<Self>>;
		/// The runtime's hold reasons.
		type RuntimeHoldReason: From<HoldReason>;
		/// The treasury: receives what a lost dispute bond does not pay the provider.
		type Treasury: Get<Self::AccountId>;
		/// The validators' `agora` session key, which signs audit votes.
		type AuthorityId: Member + Parameter + RuntimeAppPublic + Ord + MaybeSerializeDeserialize + MaxEncodedLen;
		/// Most validators whose keys are kept (the session's validator set).
		#[pallet::constant]
		type MaxValidators: Get<u32>;
		/// Most members a committee can have (the storage bound).
		#[pallet::constant]
		type MaxCommitteeSize: Get<u32>;
		/// `COMMITTEE_SIZE`: members drawn per check (fewer if fewer validators;
		/// at most `MaxCommitteeSize`).
		type CommitteeSize: Get<u32>;
		/// Blocks a committee has to reach a majority.
		#[pallet::constant]
		type VoteTimeout: Get<BlockNumberFor<Self>>;
		/// `AUDIT_RATE`: the chance, in parts per million, that a receipt is
		/// audited (values above 1,000,000 count as 1,000,000).
		type AuditRate: Get<u32>;
		/// `DISPUTE_BOND`: held from a challenger until the verdict.
		#[pallet::constant]
		type DisputeBond: Get<BalanceOf<Self>>;
		/// `FRAUD_SLASH`: share of the provider's bond slashed for fraud or withholding.
		#[pallet::constant]
		type FraudSlash: Get<Perbill>;
		/// `CHALLENGER_REWARD`: share of a fraud slash paid to the challenger.
		#[pallet::constant]
		type ChallengerReward: Get<Perbill>;
		/// Share of a lost dispute bond paid to the provider (the rest to the treasury).
		#[pallet::constant]
		type LostBondToProvider: Get<Perbill>;
		/// Priority of committee votes in the transaction pool.
		#[pallet::constant]
		type VotePriority: Get<TransactionPriority>;
		/// Weights.
		type WeightInfo: WeightInfo;
		/// Benchmark set-up.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: BenchmarkHelper<Self::AccountId, BalanceOf<Self>>;
	}

	/// Jobs by id (pruned `Retention` blocks after they end).
	#[pallet::storage]
	pub type Jobs<T: Config> = StorageMap<_, Twox64Concat, JobId, JobOf<T>>;

	/// The next job id.
	#[pallet::storage]
	pub type NextJobId<T> = StorageValue<_, JobId, ValueQuery>;

	/// How AVRF-assigned jobs were drawn (pruned with the job).
	#[pallet::storage]
	pub type Assignments<T: Config> = StorageMap<
		_,
		Twox64Concat,
		JobId,
		(
			[u8; 32],
			BoundedVec<(OfferId, T::AccountId, u32), T::MaxCandidates>,
			OfferId,
		),
	>;

	/// Open jobs per offer (against its capacity).
	#[pallet::storage]
	pub type OfferLoad<T: Config> = StorageMap<_, Twox64Concat, OfferId, u32, ValueQuery>;

	/// Open jobs per provider (unbonding waits for zero).
	#[pallet::storage]
	pub type ProviderOpenJobs<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, u32, ValueQuery>;

	/// Jobs to finalize at a block.
	#[pallet::storage]
	pub type FinalizeQueue<T: Config> =
		StorageMap<_, Twox64Concat, BlockNumberFor<T>, Queue<T::MaxJobsPerBlock>, ValueQuery>;

	/// Jobs that expire at a block (the block after their deadline).
	#[pallet::storage]
	pub type ExpiryQueue<T: Config> =
		StorageMap<_, Twox64Concat, BlockNumberFor<T>, Queue<T::MaxJobsPerBlock>, ValueQuery>;

	/// Finished jobs to prune at a block.
	#[pallet::storage]
	pub type PruneQueue<T: Config> =
		StorageMap<_, Twox64Concat, BlockNumberFor<T>, Queue<T::MaxJobsPerBlock>, ValueQuery>;

	/// Receipts under a committee check, by job.
	#[pallet::storage]
	pub type Audits<T: Config> = StorageMap<_, Twox64Concat, JobId, Audit<T>>;

	/// Checks whose vote deadline is a block.
	#[pallet::storage]
	pub type AuditTimeouts<T: Config> =
		StorageMap<_, Twox64Concat, BlockNumberFor<T>, Queue<T::MaxJobsPerBlock>, ValueQuery>;

	/// The current session's validators and their `agora` keys (committees are
	/// drawn from these).
	#[pallet::storage]
	pub type Verifiers<T: Config> =
		StorageValue<_, BoundedVec<(T::AccountId, T::AuthorityId), T::MaxValidators>, ValueQuery>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A job was ordered and assigned. Workers watch for their `worker_key`.
		JobAssigned {
			job_id: JobId,
			client: T::AccountId,
			model_id: ModelId,
			provider: T::AccountId,
			offer_id: OfferId,
			worker_key: [u8; 32],
			input_hash: [u8; 32],
			params: JobParams,
			max_price: BalanceOf<T>,
			deadline: BlockNumberFor<T>,
			/// Whether the AVRF drew the provider (else the client named it).
			by_avrf: bool,
		},
		/// The provider acknowledged the job.
		JobAcknowledged { job_id: JobId, provider: T::AccountId },
		/// A receipt was accepted; the job finalizes at `finalize_at`.
		JobReceipted {
			job_id: JobId,
			provider: T::AccountId,
			output_hash: [u8; 32],
			output_tokens: u32,
			finalize_at: BlockNumberFor<T>,
		},
		/// The job was paid out.
		JobFinalized {
			job_id: JobId,
			provider: T::AccountId,
			charge: BalanceOf<T>,
			to_provider: BalanceOf<T>,
			fee: BalanceOf<T>,
			royalty: BalanceOf<T>,
			refunded: BalanceOf<T>,
		},
		/// No receipt by the deadline: refunded in full, the provider slashed.
		JobExpired { job_id: JobId, provider: T::AccountId, refunded: BalanceOf<T>, slashed: BalanceOf<T> },
		/// The client cancelled the job and was refunded.
		JobCancelled { job_id: JobId, refunded: BalanceOf<T> },
		/// The client rated the job's provider.
		JobRated { job_id: JobId, client: T::AccountId, provider: T::AccountId, rating: i8 },
		/// A finished job was removed from storage.
		JobPruned { job_id: JobId },
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
		AuditPassed { job_id: JobId, provider: T::AccountId, bond_to_provider: BalanceOf<T>, bond_to_treasury: BalanceOf<T> },
		/// No majority by the vote deadline: no verdict, the job is paid as
		/// normal, a challenger's bond returned. `non_voters` did not vote.
		AuditTimedOut { job_id: JobId, non_voters: Vec<T::AccountId> },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// No such model.
		UnknownModel,
		/// The model is deprecated.
		ModelDeprecated,
		/// No active offer for the model fits the price and has free capacity
		/// (or the named provider has none).
		NoFittingOffer,
		/// Inline input is longer than `InputLimit` (`MAX_INPUT_LEN`).
		InputTooLong,
		/// `max_tokens` must be between 1 and `MaxTokensPerJob`.
		InvalidMaxTokens,
		/// The deadline is not after the current block.
		DeadlineInPast,
		/// The deadline is more than `MaxDeadline` blocks ahead.
		DeadlineTooFar,
		/// The deadline block's expiry queue is full; pick another deadline.
		DeadlineBusy,
		/// The client cannot cover `max_price`.
		InsufficientBalance,
		/// No such job.
		UnknownJob,
		/// Only the job's provider may do this.
		NotProvider,
		/// Only the job's client may do this.
		NotClient,
		/// The job is not in a state that allows this.
		InvalidState,
		/// A receipt was already accepted for the job.
		AlreadyReceipted,
		/// The deadline has passed.
		DeadlinePassed,
		/// The receipt is for another job, model, input or provider.
		ReceiptMismatch,
		/// The receipt is not signed by the offer's worker key.
		WrongWorkerKey,
		/// The signature does not verify.
		BadSignature,
		/// The receipt claims more tokens than `max_tokens`.
		TooManyTokens,
		/// The finalize queues of the next blocks are full; retry next block.
		FinalizeQueueFull,
		/// The dispute window is still open.
		TooEarly,
		/// The job is not finalized.
		NotFinalized,
		/// The job was already rated.
		AlreadyRated,
		/// A rating is −1, 0 or +1.
		InvalidRating,
		/// The job can no longer be cancelled (acknowledged or later).
		CannotCancel,
		/// Arithmetic overflow.
		Overflow,
		/// The dispute window of the receipt has closed.
		WindowClosed,
		/// The job is already disputed.
		AlreadyDisputed,
		/// The challenger cannot cover `DisputeBond`.
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
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		/// Finalizes, expires and prunes the jobs queued for this block: bounded
		/// by `MaxJobsPerBlock` each.
		fn on_initialize(n: BlockNumberFor<T>) -> Weight {
			// Checks that reached their vote deadline first: a job they release may
			// finalize in this same block.
			let timeouts = AuditTimeouts::<T>::take(n);
			let t = timeouts.len() as u32;
			for id in timeouts {
				Self::do_audit_timeout(id, n);
			}
			let fin = FinalizeQueue::<T>::take(n);
			let exp = ExpiryQueue::<T>::take(n);
			let prune = PruneQueue::<T>::take(n);
			let (f, e, p) = (fin.len() as u32, exp.len() as u32, prune.len() as u32);
			for id in fin {
				if Self::do_finalize(id).is_err() {
					// Keep the job: try again in a later block (it stays Receipted,
					// and anyone may still call `finalize`).
					let next = n.saturating_add(One::one());
					if let Some(b) = Self::free_slot::<FinalizeQueue<T>>(next) {
						let _ = FinalizeQueue::<T>::try_mutate(b, |q| q.try_push(id));
						Jobs::<T>::mutate(id, |j| {
							if let Some(r) = j.as_mut().and_then(|j| j.receipt.as_mut()) {
								r.finalize_at = b;
							}
						});
					}
				}
			}
			for id in exp {
				// Only fails if the job is no longer awaiting a receipt (then there is
				// nothing to expire).
				let _ = Self::do_expire(id);
			}
			for id in prune {
				Jobs::<T>::remove(id);
				Assignments::<T>::remove(id);
				Self::deposit_event(Event::JobPruned { job_id: id });
			}
			T::WeightInfo::on_initialize(f, e, p)
				.saturating_add(T::WeightInfo::audit_timeout().saturating_mul(u64::from(t)))
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
			assert!(T::MaxJobsPerBlock::get() > 0, "MaxJobsPerBlock must be positive");
			assert!(T::MaxCandidates::get() > 0, "MaxCandidates must be positive");
			assert!(!T::DisputeWindow::get().is_zero(), "DisputeWindow must be positive");
			assert!(T::MaxCommitteeSize::get() > 0, "MaxCommitteeSize must be positive");
			assert!(!T::VoteTimeout::get().is_zero(), "VoteTimeout must be positive");
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Order a job, holding `max_price` in escrow, and assign it: to
		/// `provider` if named, else by AVRF.
		///
		/// - Origin: signed, the client.
		/// - Emits [`Event::JobAssigned`].
		/// - Errors: [`Error::UnknownModel`], [`Error::ModelDeprecated`],
		///   [`Error::InputTooLong`], [`Error::InvalidMaxTokens`],
		///   [`Error::DeadlineInPast`], [`Error::DeadlineTooFar`],
		///   [`Error::DeadlineBusy`], [`Error::NoFittingOffer`],
		///   [`Error::InsufficientBalance`], [`Error::Overflow`].
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::submit_job(T::MaxCandidates::get(), T::MaxInputLen::get()))]
		pub fn submit_job(
			origin: OriginFor<T>,
			model_id: ModelId,
			input: InputParam,
			params: JobParams,
			max_price: BalanceOf<T>,
			deadline: BlockNumberFor<T>,
			provider: Option<T::AccountId>,
		) -> DispatchResultWithPostInfo {
			let client = ensure_signed(origin)?;
			let now = frame_system::Pallet::<T>::block_number();
			let model = T::Offers::model(&model_id).ok_or(Error::<T>::UnknownModel)?;
			ensure!(!model.deprecated, Error::<T>::ModelDeprecated);
			let input = match input {
				InputParam::Inline(b) => {
					ensure!(b.len() <= T::InputLimit::get() as usize, Error::<T>::InputTooLong);
					JobInput::Inline(b.try_into().map_err(|_| Error::<T>::InputTooLong)?)
				},
				InputParam::Hash(h) => JobInput::Hash(h),
			};
			ensure!(
				params.max_tokens > 0 && params.max_tokens <= T::MaxTokensPerJob::get(),
				Error::<T>::InvalidMaxTokens
			);
			ensure!(deadline > now, Error::<T>::DeadlineInPast);
			let latest = now.checked_add(&T::MaxDeadline::get()).ok_or(Error::<T>::Overflow)?;
			ensure!(deadline <= latest, Error::<T>::DeadlineTooFar);
			let expire_at = deadline.checked_add(&One::one()).ok_or(Error::<T>::Overflow)?;
			ensure!(
				(ExpiryQueue::<T>::decode_len(expire_at).unwrap_or(0) as u32) <
					T::MaxJobsPerBlock::get(),
				Error::<T>::DeadlineBusy
			);
			let job_id = NextJobId::<T>::get();
			let next_id = job_id.checked_add(1).ok_or(Error::<T>::Overflow)?;

			let candidates = Self::candidates(&model_id, &params, max_price, provider.as_ref());
			let considered = candidates.len() as u32;
			let (offer_id, terms, avrf) = if provider.is_some() {
				let (id, t, _) = candidates.into_iter().next().ok_or(Error::<T>::NoFittingOffer)?;
				(id, t, None)
			} else {
				let seed = Self::avrf_seed(job_id);
				let weights: Vec<(OfferId, T::AccountId, u32)> =
					candidates.iter().map(|(id, t, w)| (*id, t.provider.clone(), *w)).collect();
				let idx = Self::avrf_pick(&seed, &weights).ok_or(Error::<T>::NoFittingOffer)?;
				let (id, t, _) = candidates.into_iter().nth(idx).ok_or(Error::<T>::NoFittingOffer)?;
				let bounded: BoundedVec<_, T::MaxCandidates> =
					BoundedVec::truncate_from(weights);
				(id, t, Some((seed, bounded)))
			};
			T::Escrow::lock(job_id, &client, max_price)
				.map_err(|_| Error::<T>::InsufficientBalance)?;

			let input_hash = input.hash();
			let job = Job {
				client: client.clone(),
				model_id,
				input,
				params,
				max_price,
				deadline,
				provider: terms.provider.clone(),
				offer_id,
				worker_key: terms.worker_key,
				base_price: terms.base_price,
				price_per_1k_tokens: terms.price_per_1k_tokens,
				status: JobStatus::Assigned,
				submitted_at: now,
				avrf_seed: avrf.as_ref().map(|(s, _)| *s),
				receipt: None,
				charge: None,
				rating: None,
			};
			Jobs::<T>::insert(job_id, job);
			NextJobId::<T>::put(next_id);
			if let Some((seed, list)) = avrf.clone() {
				Assignments::<T>::insert(job_id, (seed, list, offer_id));
			}
			OfferLoad::<T>::mutate(offer_id, |n| n.saturating_inc());
			ProviderOpenJobs::<T>::mutate(&terms.provider, |n| n.saturating_inc());
			// Checked above that there is room.
			let _ = ExpiryQueue::<T>::try_mutate(expire_at, |q| q.try_push(job_id));
			Self::deposit_event(Event::JobAssigned {
				job_id,
				client,
				model_id,
				provider: terms.provider,
				offer_id,
				worker_key: terms.worker_key,
				input_hash,
				params,
				max_price,
				deadline,
				by_avrf: avrf.is_some(),
			});
			Ok(Some(T::WeightInfo::submit_job(considered, T::MaxInputLen::get())).into())
		}

		/// The provider takes the job; the client can no longer cancel it.
		///
		/// - Origin: signed, the job's provider.
		/// - Emits [`Event::JobAcknowledged`].
		/// - Errors: [`Error::UnknownJob`], [`Error::NotProvider`], [`Error::InvalidState`].
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::acknowledge())]
		pub fn acknowledge(origin: OriginFor<T>, job_id: JobId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut job = Jobs::<T>::get(job_id).ok_or(Error::<T>::UnknownJob)?;
			ensure!(job.provider == who, Error::<T>::NotProvider);
			ensure!(job.status == JobStatus::Assigned, Error::<T>::InvalidState);
			job.status = JobStatus::Acknowledged;
			Jobs::<T>::insert(job_id, job);
			Self::deposit_event(Event::JobAcknowledged { job_id, provider: who });
			Ok(())
		}

		/// Post the worker's signed receipt. Anyone may submit it (a worker's
		/// fee-paying account need not be the provider); the signature must be
		/// by the offer's worker key over `b"agora/receipt/v1" ++ SCALE(receipt)`.
		///
		/// - Origin: signed.
		/// - Emits [`Event::JobReceipted`].
		/// - Errors: [`Error::UnknownJob`], [`Error::AlreadyReceipted`],
		///   [`Error::InvalidState`], [`Error::DeadlinePassed`],
		///   [`Error::ReceiptMismatch`], [`Error::WrongWorkerKey`],
		///   [`Error::TooManyTokens`], [`Error::BadSignature`],
		///   [`Error::FinalizeQueueFull`], [`Error::Overflow`].
		///
		/// Weight: charged for the worst case (drawn for audit, a committee drawn
		/// from `MaxValidators`); a receipt that is not drawn is refunded down to
		/// the `submit_receipt` benchmark.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::submit_receipt_audited())]
		pub fn submit_receipt(
			origin: OriginFor<T>,
			job_id: JobId,
			receipt: Receipt<T::AccountId>,
			signature: [u8; 64],
		) -> DispatchResultWithPostInfo {
			ensure_signed(origin)?;
			let mut job = Jobs::<T>::get(job_id).ok_or(Error::<T>::UnknownJob)?;
			ensure!(job.receipt.is_none(), Error::<T>::AlreadyReceipted);
			ensure!(
				matches!(job.status, JobStatus::Assigned | JobStatus::Acknowledged),
				Error::<T>::InvalidState
			);
			let now = frame_system::Pallet::<T>::block_number();
			ensure!(now <= job.deadline, Error::<T>::DeadlinePassed);
			ensure!(
				receipt.job_id == job_id &&
					receipt.model_id == job.model_id &&
					receipt.provider == job.provider &&
					receipt.input_hash == job.input.hash(),
				Error::<T>::ReceiptMismatch
			);
			ensure!(receipt.worker_pubkey == job.worker_key, Error::<T>::WrongWorkerKey);
			ensure!(receipt.output_tokens <= job.params.max_tokens, Error::<T>::TooManyTokens);
			let public = sp_core::sr25519::Public::from_raw(job.worker_key);
			let sig = sp_core::sr25519::Signature::from_raw(signature);
			ensure!(
				sp_io::crypto::sr25519_verify(&sig, &receipt.signing_payload(), &public),
				Error::<T>::BadSignature
			);
			let target = now.checked_add(&T::DisputeWindow::get()).ok_or(Error::<T>::Overflow)?;
			let finalize_at = Self::free_slot::<FinalizeQueue<T>>(target)
				.ok_or(Error::<T>::FinalizeQueueFull)?;
			// Drawn for audit by this block's VRF output, which the worker could not
			// know when it signed. With no committee to be had, it is not audited.
			let audit = if Self::drawn_for_audit(job_id) {
				Self::new_audit(job_id, None, now).ok()
			} else {
				None
			};

			Self::unqueue::<ExpiryQueue<T>>(Self::expiry_block(&job), job_id);
			job.receipt = Some(ReceiptInfo {
				output_hash: receipt.output_hash,
				output_tokens: receipt.output_tokens,
				at: now,
				window_end: target,
				finalize_at,
			});
			let provider = job.provider.clone();
			let audited = audit.is_some();
			if let Some(audit) = audit {
				job.status = JobStatus::Disputed;
				Jobs::<T>::insert(job_id, job);
				Self::start_audit(job_id, &provider, audit);
			} else {
				let _ = FinalizeQueue::<T>::try_mutate(finalize_at, |q| q.try_push(job_id));
				job.status = JobStatus::Receipted;
				Jobs::<T>::insert(job_id, job);
			}
			Self::deposit_event(Event::JobReceipted {
				job_id,
				provider,
				output_hash: receipt.output_hash,
				output_tokens: receipt.output_tokens,
				finalize_at,
			});
			Ok(if audited { None } else { Some(T::WeightInfo::submit_receipt()) }.into())
		}

		/// Finalize a receipted job whose dispute window has passed (`on_initialize`
		/// does this too; this lets anyone do it early in the block).
		///
		/// - Origin: signed, anyone.
		/// - Emits [`Event::JobFinalized`].
		/// - Errors: [`Error::UnknownJob`], [`Error::InvalidState`], [`Error::TooEarly`].
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::finalize())]
		pub fn finalize(origin: OriginFor<T>, job_id: JobId) -> DispatchResult {
			ensure_signed(origin)?;
			let job = Jobs::<T>::get(job_id).ok_or(Error::<T>::UnknownJob)?;
			ensure!(job.status == JobStatus::Receipted, Error::<T>::InvalidState);
			let receipt = job.receipt.as_ref().ok_or(Error::<T>::InvalidState)?;
			let now = frame_system::Pallet::<T>::block_number();
			ensure!(now >= receipt.window_end, Error::<T>::TooEarly);
			Self::unqueue::<FinalizeQueue<T>>(receipt.finalize_at, job_id);
			Self::do_finalize(job_id)
		}

		/// Cancel a job the provider has not acknowledged, for a full refund.
		///
		/// - Origin: signed, the job's client.
		/// - Emits [`Event::JobCancelled`].
		/// - Errors: [`Error::UnknownJob`], [`Error::NotClient`], [`Error::CannotCancel`].
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::cancel_job())]
		pub fn cancel_job(origin: OriginFor<T>, job_id: JobId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut job = Jobs::<T>::get(job_id).ok_or(Error::<T>::UnknownJob)?;
			ensure!(job.client == who, Error::<T>::NotClient);
			ensure!(job.status == JobStatus::Assigned, Error::<T>::CannotCancel);
			let refunded = T::Escrow::refund(job_id)?;
			Self::unqueue::<ExpiryQueue<T>>(Self::expiry_block(&job), job_id);
			Self::release_load(&job);
			job.status = JobStatus::Cancelled;
			Self::schedule_prune(job_id);
			Jobs::<T>::insert(job_id, job);
			Self::deposit_event(Event::JobCancelled { job_id, refunded });
			Ok(())
		}

		/// Rate the job's provider −1, 0 or +1, once, after finalization.
		///
		/// - Origin: signed, the job's client.
		/// - Emits [`Event::JobRated`].
		/// - Errors: [`Error::UnknownJob`], [`Error::NotClient`],
		///   [`Error::NotFinalized`], [`Error::InvalidRating`], [`Error::AlreadyRated`],
		///   or the reputation pallet's error for a client restricted for review abuse.
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::rate().saturating_add(T::Reputation::rating_weight()))]
		pub fn rate(origin: OriginFor<T>, job_id: JobId, rating: i8) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut job = Jobs::<T>::get(job_id).ok_or(Error::<T>::UnknownJob)?;
			ensure!(job.client == who, Error::<T>::NotClient);
			ensure!(job.status == JobStatus::Finalized, Error::<T>::NotFinalized);
			ensure!((-1..=1).contains(&rating), Error::<T>::InvalidRating);
			ensure!(job.rating.is_none(), Error::<T>::AlreadyRated);
			let provider = job.provider.clone();
			// Refuses (changing nothing) a client restricted for review abuse.
			T::Reputation::on_rating(&who, &provider, rating)?;
			job.rating = Some(rating);
			Jobs::<T>::insert(job_id, job);
			Self::deposit_event(Event::JobRated { job_id, client: who, provider, rating });
			Ok(())
		}

		/// Dispute a receipt within its window, bonding `DisputeBond`: a committee
		/// of validators re-checks it (SPEC §6). If the receipt is already under a
		/// random audit, the challenger joins that check.
		///
		/// - Origin: signed, anyone (the challenger).
		/// - Emits [`Event::Disputed`], and [`Event::AuditStarted`] unless an audit
		///   was already running.
		/// - Errors: [`Error::UnknownJob`], [`Error::InvalidState`] (no receipt, or
		///   the job has ended), [`Error::WindowClosed`], [`Error::AlreadyDisputed`],
		///   [`Error::InsufficientBond`], [`Error::NoCommittee`],
		///   [`Error::AuditQueueFull`].
		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::dispute())]
		pub fn dispute(origin: OriginFor<T>, job_id: JobId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut job = Jobs::<T>::get(job_id).ok_or(Error::<T>::UnknownJob)?;
			ensure!(
				matches!(job.status, JobStatus::Receipted | JobStatus::Disputed),
				Error::<T>::InvalidState
			);
			let receipt = job.receipt.clone().ok_or(Error::<T>::InvalidState)?;
			let now = frame_system::Pallet::<T>::block_number();
			ensure!(now < receipt.window_end, Error::<T>::WindowClosed);
			let running = Audits::<T>::get(job_id);
			ensure!(
				running.as_ref().is_none_or(|a| a.challenger.is_none()),
				Error::<T>::AlreadyDisputed
			);
			let bond = T::DisputeBond::get();
			let reason = HoldReason::DisputeBond.into();
			ensure!(T::Currency::ensure_can_hold(&reason, &who, bond).is_ok(), Error::<T>::InsufficientBond);
			let fresh = match running {
				Some(mut a) => {
					a.challenger = Some((who.clone(), bond));
					Audits::<T>::insert(job_id, a);
					None
				},
				None => Some(Self::new_audit(job_id, Some((who.clone(), bond)), now)?),
			};

			T::Currency::hold(&reason, &who, bond)?;
			if let Some(audit) = fresh {
				Self::unqueue::<FinalizeQueue<T>>(receipt.finalize_at, job_id);
				job.status = JobStatus::Disputed;
				let provider = job.provider.clone();
				Jobs::<T>::insert(job_id, job);
				Self::start_audit(job_id, &provider, audit);
			}
			Self::deposit_event(Event::Disputed { job_id, challenger: who, bond });
			Ok(())
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
		#[pallet::call_index(7)]
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

	use sp_runtime::traits::One;

	pub use agora_primitives::jobs::VERIFIER_STORAGE_KEY;

	/// Blocks before a member's off-chain worker retries a vote that has not landed.
	pub const VOTE_RETRY: u32 = 5;

	impl<T: Config> Pallet<T> {
		/// Blocks searched for a free queue slot.
		const QUEUE_SEARCH: u32 = 16;

		fn expiry_block(job: &JobOf<T>) -> BlockNumberFor<T> {
			job.deadline.saturating_add(One::one())
		}

		/// The first block at or after `from` whose queue has room.
		fn free_slot<Q>(from: BlockNumberFor<T>) -> Option<BlockNumberFor<T>>
		where
			Q: frame_support::storage::StorageMap<
				BlockNumberFor<T>,
				Queue<T::MaxJobsPerBlock>,
				Query = Queue<T::MaxJobsPerBlock>,
			>,
		{
			(0..Self::QUEUE_SEARCH)
				.map(|o| from.saturating_add(o.into()))
				.find(|b| (Q::get(b).len() as u32) < T::MaxJobsPerBlock::get())
		}

		/// Removes `id` from the queue at `at`; whether it was there.
		fn unqueue<Q>(at: BlockNumberFor<T>, id: JobId) -> bool
		where
			Q: frame_support::storage::StorageMap<
				BlockNumberFor<T>,
				Queue<T::MaxJobsPerBlock>,
				Query = Queue<T::MaxJobsPerBlock>,
			>,
		{
			let mut q = Q::get(at);
			let before = q.len();
			q.retain(|x| *x != id);
			let found = q.len() != before;
			if found {
				if q.is_empty() {
					Q::remove(at);
				} else {
					Q::insert(at, q);
				}
			}
			found
		}

		fn schedule_prune(job_id: JobId) {
			let now = frame_system::Pallet::<T>::block_number();
			let at = now.saturating_add(T::Retention::get());
			if let Some(b) = Self::free_slot::<PruneQueue<T>>(at) {
				let _ = PruneQueue::<T>::try_mutate(b, |q| q.try_push(job_id));
			}
			// If every slot is full the job simply stays: pruning is housekeeping.
		}

		fn release_load(job: &JobOf<T>) {
			OfferLoad::<T>::mutate_exists(job.offer_id, |n| {
				let v = n.unwrap_or(0).saturating_sub(1);
				*n = if v == 0 { None } else { Some(v) };
			});
			ProviderOpenJobs::<T>::mutate_exists(&job.provider, |n| {
				let v = n.unwrap_or(0).saturating_sub(1);
				*n = if v == 0 { None } else { Some(v) };
			});
		}

		/// The most an offer charges for `tokens` output tokens:
		/// `base + per_1k × tokens / 1000`.
		pub fn price(terms_base: BalanceOf<T>, per_1k: BalanceOf<T>, tokens: u32) -> Option<BalanceOf<T>> {
			per_1k
				.checked_mul(&BalanceOf::<T>::from(tokens))?
				.checked_div(&BalanceOf::<T>::from(1_000u32))?
				.checked_add(&terms_base)
		}

		/// The offers a job can go to, with their AVRF weights: active, for the
		/// model, priced within `max_price` for `max_tokens`, with free capacity,
		/// and (if named) of `provider`.
		#[allow(clippy::type_complexity)]
		pub fn candidates(
			model_id: &ModelId,
			params: &JobParams,
			max_price: BalanceOf<T>,
			provider: Option<&T::AccountId>,
		) -> Vec<(OfferId, OfferTerms<T::AccountId, BalanceOf<T>>, u32)> {
			T::Offers::offers_for(model_id, T::MaxCandidates::get())
				.into_iter()
				.filter(|(id, t)| {
					t.active &&
						provider.is_none_or(|p| &t.provider == p) &&
						Self::price(t.base_price, t.price_per_1k_tokens, params.max_tokens)
							.is_some_and(|p| p <= max_price) &&
						OfferLoad::<T>::get(id) < t.capacity
				})
				.map(|(id, t)| {
					let w = T::Reputation::score(&t.provider).min(100);
					(id, t, w)
				})
				.collect()
		}

		/// `blake2_256(b"agora/avrf" ++ VRF randomness of this block ++ job id)`.
		/// BABE's randomness for the including block is unknown when the client
		/// signs; the parent hash stands in where there is none (genesis, tests).
		pub fn avrf_seed(job_id: JobId) -> [u8; 32] {
			let (vrf, _) = T::Randomness::random(b"agora/avrf");
			let vrf = vrf.unwrap_or_else(frame_system::Pallet::<T>::parent_hash);
			sp_io::hashing::blake2_256(&(b"agora/avrf", vrf, job_id).encode())
		}

		/// The roulette-wheel pick: index of the winner among `(offer, provider,
		/// weight)`, drawing `u128(seed[0..16]) mod Σ weights`. Providers of weight
		/// 0 are never picked unless every weight is 0, when the pick is uniform.
		pub fn avrf_pick(seed: &[u8; 32], candidates: &[(OfferId, T::AccountId, u32)]) -> Option<usize> {
			if candidates.is_empty() {
				return None;
			}
			let total: u128 = candidates.iter().map(|(_, _, w)| u128::from(*w)).sum();
			let mut first = [0u8; 16];
			first.copy_from_slice(seed.get(..16)?);
			let r = u128::from_le_bytes(first);
			if total == 0 {
				return usize::try_from(r.checked_rem(candidates.len() as u128)?).ok();
			}
			let mut point = r.checked_rem(total)?;
			for (i, (_, _, w)) in candidates.iter().enumerate() {
				let w = u128::from(*w);
				if point < w {
					return Some(i);
				}
				point = point.saturating_sub(w);
			}
			None
		}

		/// Pays a receipted job out and closes it.
		pub(crate) fn do_finalize(job_id: JobId) -> DispatchResult {
			let mut job = Jobs::<T>::get(job_id).ok_or(Error::<T>::UnknownJob)?;
			ensure!(job.status == JobStatus::Receipted, Error::<T>::InvalidState);
			let tokens = job.receipt.as_ref().map(|r| r.output_tokens).unwrap_or(0);
			let charge = Self::price(job.base_price, job.price_per_1k_tokens, tokens)
				.unwrap_or(job.max_price)
				.min(job.max_price);
			let (publisher, royalty_bps) = T::Offers::model(&job.model_id)
				.map(|m| (m.publisher, m.royalty_bps))
				.unwrap_or((job.provider.clone(), 0));
			let s = T::Escrow::settle(job_id, &job.provider, &publisher, royalty_bps, charge)?;
			Self::release_load(&job);
			job.status = JobStatus::Finalized;
			job.charge = Some(charge);
			let provider = job.provider.clone();
			T::Reputation::on_finalized(&job.client, &provider);
			Jobs::<T>::insert(job_id, job);
			Self::schedule_prune(job_id);
			Self::deposit_event(Event::JobFinalized {
				job_id,
				provider,
				charge,
				to_provider: s.to_provider,
				fee: s.to_treasury,
				royalty: s.to_publisher,
				refunded: s.refunded,
			});
			Ok(())
		}

		/// Refunds an assigned job that got no receipt, and slashes its provider.
		pub(crate) fn do_expire(job_id: JobId) -> DispatchResult {
			let mut job = Jobs::<T>::get(job_id).ok_or(Error::<T>::UnknownJob)?;
			ensure!(
				matches!(job.status, JobStatus::Assigned | JobStatus::Acknowledged),
				Error::<T>::InvalidState
			);
			let refunded = T::Escrow::refund(job_id)?;
			Self::release_load(&job);
			let slashed = T::Bonds::slash(
				&job.provider,
				SlashReason::MissedDeadline,
				T::MissedDeadlineSlash::get(),
				None,
			)
			.map(|o| o.slashed)
			.unwrap_or_default();
			T::Reputation::on_expiry(&job.provider);
			job.status = JobStatus::Expired;
			let provider = job.provider.clone();
			Jobs::<T>::insert(job_id, job);
			Self::schedule_prune(job_id);
			Self::deposit_event(Event::JobExpired { job_id, provider, refunded, slashed });
			Ok(())
		}

		/// Whether this block's VRF output draws the job's receipt for audit:
		/// `blake2_256(b"agora/audit" ++ VRF ++ job id)` against `AuditRate`.
		pub fn drawn_for_audit(job_id: JobId) -> bool {
			let rate = T::AuditRate::get().min(1_000_000);
			if rate == 0 {
				return false;
			}
			let (vrf, _) = T::Randomness::random(b"agora/audit");
			let vrf = vrf.unwrap_or_else(frame_system::Pallet::<T>::parent_hash);
			let seed = sp_io::hashing::blake2_256(&(b"agora/audit", vrf, job_id).encode());
			agora_offchain_workers::drawn_for_audit(&seed, rate)
		}

		/// Draws `min(CommitteeSize, validators)` distinct members from the
		/// session's validators: a partial Fisher–Yates shuffle seeded by
		/// `blake2_256(b"agora/committee" ++ VRF ++ job id)`.
		pub fn draw_committee(
			job_id: JobId,
		) -> Result<CommitteeOf<T>, Error<T>> {
			let mut pool = Verifiers::<T>::get().into_inner();
			ensure!(!pool.is_empty(), Error::<T>::NoCommittee);
			let (vrf, _) = T::Randomness::random(b"agora/committee");
			let vrf = vrf.unwrap_or_else(frame_system::Pallet::<T>::parent_hash);
			let seed = sp_io::hashing::blake2_256(&(b"agora/committee", vrf, job_id).encode());
			let size = T::CommitteeSize::get().max(1).min(T::MaxCommitteeSize::get());
			let k = pool.len().min(size as usize);
			for i in 0..k {
				let h = sp_io::hashing::blake2_256(&(seed, i as u32).encode());
				let mut first = [0u8; 8];
				first.copy_from_slice(h.get(..8).ok_or(Error::<T>::Overflow)?);
				let span = pool.len().saturating_sub(i) as u64;
				let off = u64::from_le_bytes(first).checked_rem(span).ok_or(Error::<T>::Overflow)?;
				pool.swap(i, i.saturating_add(off as usize));
			}
			pool.truncate(k);
			Ok(BoundedVec::truncate_from(pool))
		}

		/// A new committee check of `job_id`, not yet stored: its committee and
		/// a vote deadline whose queue has room.
		fn new_audit(
			job_id: JobId,
			challenger: Option<(T::AccountId, BalanceOf<T>)>,
			now: BlockNumberFor<T>,
		) -> Result<Audit<T>, Error<T>> {
			let committee = Self::draw_committee(job_id)?;
			let vote_deadline = Self::free_slot::<AuditTimeouts<T>>(now.saturating_add(T::VoteTimeout::get()))
				.ok_or(Error::<T>::AuditQueueFull)?;
			Ok(Audit { committee, votes: BoundedVec::new(), challenger, started: now, vote_deadline })
		}

		/// Stores a check made by [`Self::new_audit`] (its queue slot was checked).
		fn start_audit(job_id: JobId, provider: &T::AccountId, audit: Audit<T>) {
			let _ = AuditTimeouts::<T>::try_mutate(audit.vote_deadline, |q| q.try_push(job_id));
			Self::deposit_event(Event::AuditStarted {
				job_id,
				provider: provider.clone(),
				committee: audit.committee.iter().map(|(a, _)| a.clone()).collect(),
				challenger: audit.challenger.as_ref().map(|(c, _)| c.clone()),
				vote_deadline: audit.vote_deadline,
			});
			Audits::<T>::insert(job_id, audit);
		}

		/// Checks a vote against the running check: the member exists, has not
		/// voted, and its key signed the payload.
		pub fn check_vote(
			payload: &VotePayload,
			signature: &<T::AuthorityId as RuntimeAppPublic>::Signature,
		) -> Result<(Audit<T>, T::AccountId), Error<T>> {
			let audit = Audits::<T>::get(payload.job_id).ok_or(Error::<T>::NoAudit)?;
			let (who, key) =
				audit.committee.get(payload.member as usize).cloned().ok_or(Error::<T>::NotInCommittee)?;
			ensure!(!audit.votes.iter().any(|(m, _)| *m == payload.member), Error::<T>::AlreadyVoted);
			ensure!(key.verify(&payload.signing_payload(), signature), Error::<T>::NotCommitteeKey);
			Ok((audit, who))
		}

		/// Counts the votes: a majority of the committee for fraud (`Invalid` and
		/// `Withheld` together) or for the receipt (`Valid`) decides; all votes
		/// in without a majority ends the check like a timeout.
		fn tally(job_id: JobId, audit: Audit<T>) -> DispatchResult {
			let now = frame_system::Pallet::<T>::block_number();
			let n = audit.committee.len();
			let majority = (n / 2).saturating_add(1);
			let count = |v: AuditVote| audit.votes.iter().filter(|(_, x)| *x == v).count();
			let (valid, invalid, withheld) =
				(count(AuditVote::Valid), count(AuditVote::Invalid), count(AuditVote::Withheld));
			if invalid.saturating_add(withheld) >= majority {
				let reason = if withheld > invalid { SlashReason::Withholding } else { SlashReason::Fraud };
				Self::resolve_fraud(job_id, audit, reason)
			} else if valid >= majority {
				Self::resolve_honest(job_id, audit, now)
			} else if audit.votes.len() >= n {
				Self::end_without_verdict(job_id, audit, now.saturating_add(One::one()))
			} else {
				Audits::<T>::insert(job_id, audit);
				Ok(())
			}
		}

		/// Fraud or withholding: refund the client, slash the provider
		/// (`ChallengerReward` of it to a challenger, whose bond is returned), drop
		/// its reputation to the floor, close the job.
		fn resolve_fraud(job_id: JobId, audit: Audit<T>, reason: SlashReason) -> DispatchResult {
			let mut job = Jobs::<T>::get(job_id).ok_or(Error::<T>::UnknownJob)?;
			let refunded = T::Escrow::refund(job_id)?;
			if let Some((c, bond)) = &audit.challenger {
				T::Currency::release(&HoldReason::DisputeBond.into(), c, *bond, Precision::Exact)?;
			}
			let reward = audit.challenger.as_ref().map(|(c, _)| (c.clone(), T::ChallengerReward::get()));
			let outcome = T::Bonds::slash(&job.provider, reason, T::FraudSlash::get(), reward)
				.unwrap_or_default();
			T::Reputation::on_fraud(&job.provider);
			Self::release_load(&job);
			Self::unqueue::<AuditTimeouts<T>>(audit.vote_deadline, job_id);
			Audits::<T>::remove(job_id);
			job.status = JobStatus::Fraud;
			let provider = job.provider.clone();
			Jobs::<T>::insert(job_id, job);
			Self::schedule_prune(job_id);
			Self::deposit_event(Event::JobFraud {
				job_id,
				provider,
				reason,
				refunded,
				slashed: outcome.slashed,
				to_challenger: outcome.to_challenger,
			});
			Ok(())
		}

		/// Upheld: a challenger's bond goes `LostBondToProvider` to the provider,
		/// the rest to the treasury; the job finalizes as normal.
		fn resolve_honest(job_id: JobId, audit: Audit<T>, now: BlockNumberFor<T>) -> DispatchResult {
			let mut job = Jobs::<T>::get(job_id).ok_or(Error::<T>::UnknownJob)?;
			let (mut to_provider, mut to_treasury) = (Zero::zero(), Zero::zero());
			if let Some((c, bond)) = &audit.challenger {
				to_provider = T::LostBondToProvider::get().mul_floor(*bond);
				to_treasury = bond.saturating_sub(to_provider);
				let reason = HoldReason::DisputeBond.into();
				for (dest, amount) in [(&job.provider, to_provider), (&T::Treasury::get(), to_treasury)] {
					if !amount.is_zero() {
						T::Currency::transfer_on_hold(
							&reason,
							c,
							dest,
							amount,
							Precision::Exact,
							Restriction::Free,
							Fortitude::Force,
						)?;
					}
				}
			}
			Self::requeue_finalize(job_id, &mut job, now.saturating_add(One::one()))?;
			Self::unqueue::<AuditTimeouts<T>>(audit.vote_deadline, job_id);
			Audits::<T>::remove(job_id);
			let provider = job.provider.clone();
			Jobs::<T>::insert(job_id, job);
			Self::deposit_event(Event::AuditPassed {
				job_id,
				provider,
				bond_to_provider: to_provider,
				bond_to_treasury: to_treasury,
			});
			Ok(())
		}

		/// No verdict: return a challenger's bond, name who did not vote, and let
		/// the job finalize as normal (from block `from`).
		fn end_without_verdict(job_id: JobId, audit: Audit<T>, from: BlockNumberFor<T>) -> DispatchResult {
			let mut job = Jobs::<T>::get(job_id).ok_or(Error::<T>::UnknownJob)?;
			if let Some((c, bond)) = &audit.challenger {
				T::Currency::release(&HoldReason::DisputeBond.into(), c, *bond, Precision::Exact)?;
			}
			Self::requeue_finalize(job_id, &mut job, from)?;
			Self::unqueue::<AuditTimeouts<T>>(audit.vote_deadline, job_id);
			let non_voters = audit
				.committee
				.iter()
				.enumerate()
				.filter(|(i, _)| !audit.votes.iter().any(|(m, _)| *m as usize == *i))
				.map(|(_, (a, _))| a.clone())
				.collect();
			Audits::<T>::remove(job_id);
			Jobs::<T>::insert(job_id, job);
			Self::deposit_event(Event::AuditTimedOut { job_id, non_voters });
			Ok(())
		}

		/// A check whose vote deadline is `n` ends with no verdict. If the job
		/// cannot be queued for finalization now, the check waits one more block.
		pub(crate) fn do_audit_timeout(job_id: JobId, n: BlockNumberFor<T>) {
			let Some(audit) = Audits::<T>::get(job_id) else {
				return;
			};
			if Self::end_without_verdict(job_id, audit.clone(), n).is_err() {
				let next = n.saturating_add(One::one());
				if let Some(b) = Self::free_slot::<AuditTimeouts<T>>(next) {
					let _ = AuditTimeouts::<T>::try_mutate(b, |q| q.try_push(job_id));
					Audits::<T>::insert(job_id, Audit { vote_deadline: b, ..audit });
				}
			}
		}

		/// Puts a checked job back on the normal path: `Receipted`, in the finalize
		/// queue at the end of its dispute window or at `from`, whichever is later.
		fn requeue_finalize(job_id: JobId, job: &mut JobOf<T>, from: BlockNumberFor<T>) -> DispatchResult {
			let receipt = job.receipt.as_mut().ok_or(Error::<T>::InvalidState)?;
			let window_end = receipt.window_end;
			let at = Self::free_slot::<FinalizeQueue<T>>(window_end.max(from))
				.ok_or(Error::<T>::FinalizeQueueFull)?;
			FinalizeQueue::<T>::try_mutate(at, |q| q.try_push(job_id))
				.map_err(|_| Error::<T>::FinalizeQueueFull)?;
			receipt.finalize_at = at;
			job.status = JobStatus::Receipted;
			Ok(())
		}

		/// The off-chain worker's part (see `offchain_worker`): one attempt per
		/// (job, member) every [`VOTE_RETRY`] blocks until the vote lands.
		fn offchain_audits(n: BlockNumberFor<T>, local: &[T::AuthorityId]) {
			use sp_runtime::offchain::storage::StorageValueRef;
			let verifier = StorageValueRef::persistent(VERIFIER_STORAGE_KEY)
				.get::<Vec<u8>>()
				.ok()
				.flatten()
				.and_then(|v| alloc::string::String::from_utf8(v).ok());
			for (job_id, audit) in Audits::<T>::iter() {
				for (i, (_, key)) in audit.committee.iter().enumerate() {
					let member = i as u32;
					if !local.contains(key) || audit.votes.iter().any(|(m, _)| *m == member) {
						continue;
					}
					let mut lock = b"agora::vote::".to_vec();
					(job_id, member).encode_to(&mut lock);
					let claimed = StorageValueRef::persistent(&lock).mutate(
						|prev: Result<Option<BlockNumberFor<T>>, _>| match prev {
							Ok(Some(at)) if n < at.saturating_add(VOTE_RETRY.into()) => Err(()),
							_ => Ok(n),
						},
					);
					if claimed.is_err() {
						continue;
					}
					let Some(job) = Jobs::<T>::get(job_id) else {
						continue;
					};
					let Some(receipt) = job.receipt.as_ref() else {
						continue;
					};
					let check = agora_offchain_workers::AuditJob {
						job_id,
						model_id: job.model_id,
						input: match &job.input {
							JobInput::Inline(b) => agora_offchain_workers::Input::Inline(b.to_vec()),
							JobInput::Hash(h) => agora_offchain_workers::Input::Hash(*h),
						},
						params: job.params,
						output_hash: receipt.output_hash,
						endpoint: T::Offers::endpoint(job.offer_id).unwrap_or_default(),
					};
					let vote = match agora_offchain_workers::audit(verifier.as_deref(), &check) {
						Ok(v) => v,
						Err(e) => {
							log::warn!(target: "agora::audit", "job {job_id}: cannot vote: {e:?}");
							continue;
						},
					};
					let payload = VotePayload { job_id, member, vote };
					let Some(signature) = key.sign(&payload.signing_payload()) else {
						log::warn!(target: "agora::audit", "job {job_id}: the keystore cannot sign");
						continue;
					};
					log::info!(target: "agora::audit", "job {job_id}: member {member} votes {vote:?}");
					let xt = T::create_bare(Call::vote { payload, signature }.into());
					if SubmitTransaction::<T, Call<T>>::submit_transaction(xt).is_err() {
						log::warn!(target: "agora::audit", "job {job_id}: the pool refused the vote");
					}
				}
			}
		}

		/// Runtime API: how an AVRF-assigned job was drawn.
		pub fn assignment_of(job_id: JobId) -> Option<Assignment<T::AccountId>> {
			Assignments::<T>::get(job_id).map(|(seed, candidates, offer_id)| Assignment {
				seed,
				candidates: candidates.into_inner(),
				offer_id,
			})
		}

		/// Invariants, checked after every test and by `try-runtime`:
		/// - every open job holds exactly its `max_price` in escrow, finished jobs
		///   hold nothing, and the escrow total equals the sum of open `max_price`s;
		/// - every queued job exists and is in the matching state (finalize:
		///   receipted; expiry: assigned or acknowledged; prune: finished);
		/// - `OfferLoad` and `ProviderOpenJobs` equal the open jobs per offer and provider.
		#[cfg(any(feature = "try-runtime", feature = "std", test))]
		pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
			use alloc::collections::btree_map::BTreeMap;
			let mut load: BTreeMap<OfferId, u32> = BTreeMap::new();
			let mut open: BTreeMap<T::AccountId, u32> = BTreeMap::new();
			let mut open_sum = BalanceOf::<T>::zero();
			for (id, job) in Jobs::<T>::iter() {
				if job.status.is_open() {
					ensure!(T::Escrow::locked(id) == job.max_price, "open job's escrow differs from max_price");
					open_sum = open_sum.saturating_add(job.max_price);
					let l = load.entry(job.offer_id).or_default();
					*l = l.saturating_add(1);
					let o = open.entry(job.provider.clone()).or_default();
					*o = o.saturating_add(1);
				} else {
					ensure!(T::Escrow::locked(id).is_zero(), "finished job still holds escrow");
				}
			}
			ensure!(load.into_iter().all(|(o, n)| OfferLoad::<T>::get(o) == n), "OfferLoad is off");
			ensure!(OfferLoad::<T>::iter().all(|(_, n)| n > 0), "zero OfferLoad entry");
			ensure!(open.into_iter().all(|(p, n)| ProviderOpenJobs::<T>::get(&p) == n), "ProviderOpenJobs is off");
			ensure!(ProviderOpenJobs::<T>::iter().all(|(_, n)| n > 0), "zero ProviderOpenJobs entry");
			for (b, q) in FinalizeQueue::<T>::iter() {
				for id in q {
					let j = Jobs::<T>::get(id);
					ensure!(
						j.as_ref().map(|j| j.status) == Some(JobStatus::Receipted),
						"finalize queue holds a non-receipted job"
					);
					ensure!(
						j.and_then(|j| j.receipt).map(|r| r.finalize_at) == Some(b),
						"a job sits in another block's finalize queue than its record names"
					);
				}
			}
			for (id, job) in Jobs::<T>::iter().filter(|(_, j)| j.status == JobStatus::Receipted) {
				let at = job.receipt.map(|r| r.finalize_at);
				ensure!(
					at.is_some_and(|b| FinalizeQueue::<T>::get(b).contains(&id)),
					"a receipted job is in no finalize queue"
				);
			}
			for (_, q) in ExpiryQueue::<T>::iter() {
				for id in q {
					let s = Jobs::<T>::get(id).map(|j| j.status);
					ensure!(
						matches!(s, Some(JobStatus::Assigned | JobStatus::Acknowledged)),
						"expiry queue holds a job that is not awaiting a receipt"
					);
				}
			}
			for (_, q) in PruneQueue::<T>::iter() {
				for id in q {
					if let Some(j) = Jobs::<T>::get(id) {
						ensure!(!j.status.is_open(), "prune queue holds an open job");
					}
				}
			}
			// Committee checks: every `Disputed` job has one and every check a
			// `Disputed` job (so a verdict, which ends the check, is final); each
			// check is queued at its vote deadline; votes are by distinct members;
			// challengers' held bonds equal their bonds in running checks.
			let mut bonds: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
			for (id, audit) in Audits::<T>::iter() {
				ensure!(
					Jobs::<T>::get(id).map(|j| j.status) == Some(JobStatus::Disputed),
					"a check runs on a job that is not Disputed (verdicts are final)"
				);
				ensure!(
					AuditTimeouts::<T>::get(audit.vote_deadline).contains(&id),
					"a check is not queued at its vote deadline"
				);
				let mut seen = alloc::collections::btree_set::BTreeSet::new();
				for (m, _) in audit.votes.iter() {
					ensure!((*m as usize) < audit.committee.len(), "a vote by no member");
					ensure!(seen.insert(*m), "a member voted twice");
				}
				if let Some((c, b)) = audit.challenger {
					let e = bonds.entry(c).or_default();
					*e = e.saturating_add(b);
				}
			}
			for (id, job) in Jobs::<T>::iter().filter(|(_, j)| j.status == JobStatus::Disputed) {
				ensure!(Audits::<T>::contains_key(id), "a Disputed job has no check");
				ensure!(job.receipt.is_some(), "a Disputed job has no receipt");
			}
			for (b, q) in AuditTimeouts::<T>::iter() {
				for id in q {
					ensure!(
						Audits::<T>::get(id).map(|a| a.vote_deadline) == Some(b),
						"the timeout queue names a check that is not running there"
					);
				}
			}
			for (c, sum) in bonds {
				ensure!(
					T::Currency::balance_on_hold(&HoldReason::DisputeBond.into(), &c) == sum,
					"a challenger's held dispute bond differs from its bonds in running checks"
				);
			}
			ensure!(
				T::Escrow::total_locked() == open_sum,
				"escrow holds funds for no open job (total escrow != sum of open max_price)"
			);
			Ok(())
		}
	}

	impl<T: Config> sp_runtime::BoundToRuntimeAppPublic for Pallet<T> {
		type Public = T::AuthorityId;
	}

	/// Keeps the session's validators and their `agora` keys, for committees.
	impl<T: Config> frame_support::traits::OneSessionHandler<T::AccountId> for Pallet<T> {
		type Key = T::AuthorityId;

		fn on_genesis_session<'a, I>(validators: I)
		where
			I: 'a + Iterator<Item = (&'a T::AccountId, T::AuthorityId)>,
		{
			Verifiers::<T>::put(BoundedVec::truncate_from(
				validators.map(|(a, k)| (a.clone(), k)).collect::<Vec<_>>(),
			));
		}

		fn on_new_session<'a, I>(_changed: bool, validators: I, _queued: I)
		where
			I: 'a + Iterator<Item = (&'a T::AccountId, T::AuthorityId)>,
		{
			Verifiers::<T>::put(BoundedVec::truncate_from(
				validators.map(|(a, k)| (a.clone(), k)).collect::<Vec<_>>(),
			));
		}

		fn on_disabled(_validator_index: u32) {}
	}

	impl<T: Config> agora_primitives::OpenJobs<T::AccountId> for Pallet<T> {
		fn open_jobs(who: &T::AccountId) -> u32 {
			ProviderOpenJobs::<T>::get(who)
		}
	}
}
