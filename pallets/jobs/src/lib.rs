//! # Jobs: ordering, assignment, receipts and settlement of inference jobs
//!
//! ## Overview
//! The marketplace's core (docs/protocol.md §2–§5):
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
//! ## Code layout
//! `lib.rs` holds the configuration, storage, events, errors and hooks,
//! `calls.rs` the calls (a pallet section `lib.rs` imports); the logic behind them
//! is split by topic: `assign.rs` (ordering, AVRF assignment), `lifecycle.rs` (acknowledge,
//! cancel, rate, an early finalize), `settle.rs`
//! (receipts, payout, expiry), `queues.rs` (per-block queues and the
//! `on_initialize` and `on_idle` work), `inputs.rs` (inputs delivered by hash), `market.rs`
//! (the [`agora_primitives::JobMarket`] side that `pallet-verification` checks
//! receipts through), `try_state.rs` (invariants). The consensus rules they apply (seeds, draws, hashes) are
//! `agora_primitives::rules`.
//!
//! ## Assumptions
//! - Work due at a block (finalizations, expiries, prunes) is kept in a set
//!   per block and drained in block order by a cursor within `QueueWeight`
//!   per block, then in `on_idle` within what the block's extrinsics left:
//!   what is left over waits for the next block, so a hook's work stays
//!   bounded while the queues' capacity follows the block weight. Only a
//!   deadline block is bounded (`MaxJobsPerBlock` orders, since clients pick
//!   it: a job whose deadline block is full is refused, `DeadlineBusy`).
//! - A job is finalized only once its audit draw is done
//!   ([`agora_primitives::ReceiptChecks::draws_pending_from`]).
//! - A receipt is checked by `pallet-verification`: told of every accepted
//!   receipt ([`agora_primitives::ReceiptChecks`]), it may hold the job
//!   `Disputed` and close it with a verdict through [`agora_primitives::JobMarket`].
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;

use frame_support::pallet_macros::import_section;

mod assign;
mod calls;
use assign::PayBy;
mod inputs;
mod lifecycle;
mod market;
#[cfg(feature = "runtime-benchmarks")]
pub mod benchmarking;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_assign;
#[cfg(test)]
mod tests_inputs;
#[cfg(test)]
mod tests_orders;
#[cfg(test)]
mod tests_passes;
#[cfg(test)]
mod tests_queues;
pub mod migrations;
mod queues;
mod settle;
#[cfg(any(feature = "try-runtime", feature = "std", test))]
mod try_state;
pub mod types;
pub mod weights;

pub use types::*;
pub use weights::WeightInfo;

#[cfg(feature = "runtime-benchmarks")]
pub use benchmarking::BenchmarkHelper;

// FRAME's pallet macros expand to `expect` calls attributed to this module;
// hand-written code here uses none (the before-stop check greps for them).
#[allow(clippy::expect_used, clippy::unwrap_used)]
#[import_section(calls::calls)]
#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use agora_primitives::{
		JobEscrow, JobId, JobParams, ModelId, OfferId, OfferRegistry,
		ProviderBonds, ReceiptChecks, Receipt, Reputation, ServicePasses,
	};
	use frame_support::{pallet_prelude::*, traits::Randomness};
	use frame_system::pallet_prelude::*;
	use sp_runtime::{traits::Zero, Perbill};

	/// The balance type.
	pub type BalanceOf<T> = <T as Config>::Balance;

	/// A job as stored.
	pub type JobOf<T> = Job<
		<T as frame_system::Config>::AccountId,
		BalanceOf<T>,
		BlockNumberFor<T>,
		<T as Config>::MaxInputLen,
	>;

	/// v1: the queues are sets per block drained by cursors
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

		/// Short windows (5-block disputes, 100-block deadlines), 3 jobs per block queue, no receipt checker.
		pub struct TestDefaultConfig;

		#[derive_impl(frame_system::config_preludes::TestDefaultConfig, no_aggregated_types)]
		impl frame_system::DefaultConfig for TestDefaultConfig {}

		frame_support::parameter_types! {
			pub const MissedDeadlineSlash: Perbill = Perbill::from_percent(10);
			pub const QueueWeight: Weight = Weight::MAX;
		}

		#[frame_support::register_default_impl(TestDefaultConfig)]
		impl DefaultConfig for TestDefaultConfig {
			#[inject_runtime_type]
			type RuntimeEvent = ();
			type MaxInputLen = ConstU32<64>;
			type InputLimit = ConstU32<64>;
			type MaxTokensPerJob = ConstU32<4_096>;
			type MaxDeadline = frame_support::traits::ConstU64<100>;
			type DisputeWindow = frame_support::traits::ConstU64<5>;
			type Retention = frame_support::traits::ConstU64<20>;
			type MaxJobsPerBlock = ConstU32<3>;
			type QueueWeight = QueueWeight;
			type MaxReceiptBatch = ConstU32<8>;
			type MaxOrderBatch = ConstU32<8>;
			type MaxCandidates = ConstU32<8>;
			type MaxOfferScan = ConstU32<64>;
			type MissedDeadlineSlash = MissedDeadlineSlash;
			type InputGrace = frame_support::traits::ConstU64<4>;
			type QueuePressureHalfLife = frame_support::traits::ConstU64<10>;
			type Checks = ();
			type Passes = ();
			type WeightInfo = ();
		}
	}

	#[pallet::config(with_default)]
	pub trait Config: frame_system::Config {
		/// The overarching event type.
		#[pallet::no_default_bounds]
		#[allow(deprecated)]
		type RuntimeEvent: From<Event<Self>> + IsType<<Self as frame_system::Config>::RuntimeEvent>;
		/// The balance type (the currency's).
		#[pallet::no_default]
		type Balance: frame_support::traits::tokens::Balance + MaybeSerializeDeserialize;
		/// Per-job escrow (`pallet-escrow`).
		#[pallet::no_default]
		type Escrow: JobEscrow<Self::AccountId, Self::Balance>;
		/// Models and offers (`pallet-models`).
		#[pallet::no_default]
		type Offers: OfferRegistry<Self::AccountId, BalanceOf<Self>>;
		/// Provider bonds, for slashing missed deadlines (`pallet-slashing`).
		#[pallet::no_default]
		type Bonds: ProviderBonds<Self::AccountId, Balance = BalanceOf<Self>>;
		/// Provider reputation (weights the AVRF draw).
		#[pallet::no_default]
		type Reputation: Reputation<Self::AccountId>;
		/// The including block's VRF output (BABE's `CurrentBlockRandomness`).
		#[pallet::no_default]
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
		#[pallet::no_default_bounds]
		#[pallet::constant]
		type MaxDeadline: Get<BlockNumberFor<Self>>;
		/// Blocks a receipt may be disputed in before the job finalizes.
		#[pallet::no_default_bounds]
		#[pallet::constant]
		type DisputeWindow: Get<BlockNumberFor<Self>>;
		/// Blocks a finished job is kept before it is pruned.
		#[pallet::no_default_bounds]
		#[pallet::constant]
		type Retention: Get<BlockNumberFor<Self>>;
		/// Most jobs whose deadline is one block (their expiry is due the block
		/// after): clients pick deadlines, so this bounds what a squatter can
		/// pile on one block. Finalizations and prunes have no such bound: they
		/// fall due a fixed number of blocks after a paid call.
		#[pallet::constant]
		type MaxJobsPerBlock: Get<u32>;
		/// The most weight one block's `on_initialize` spends on finalizations,
		/// expiries and prunes (in that order); the rest waits for the next
		/// block.
		#[pallet::constant]
		type QueueWeight: Get<Weight>;
		/// Most receipts one [`Pallet::submit_receipts`] call carries.
		#[pallet::constant]
		type MaxReceiptBatch: Get<u32>;
		/// Most orders one [`Pallet::submit_jobs`] call carries.
		#[pallet::constant]
		type MaxOrderBatch: Get<u32>;
		/// Most offers one AVRF draw weighs (and `Assignments` keeps): when more
		/// fit, a seeded sample of this many ([`agora_primitives::rules::sample_candidates`]).
		#[pallet::constant]
		type MaxCandidates: Get<u32>;
		/// Most of a model's offers read to find the fitting ones. Offers are
		/// filtered (active, priced within `max_price`, free capacity) before
		/// the draw is bounded, so offers that never fit cannot squat it.
		#[pallet::constant]
		type MaxOfferScan: Get<u32>;
		/// Share of the bond slashed for a missed deadline.
		#[pallet::constant]
		type MissedDeadlineSlash: Get<Perbill>;
		/// Blocks a client has, after ordering a by-hash job, to upload its input
		/// before the provider may report it missing (at most half the time to
		/// the job's deadline: `agora_primitives::rules::input_report_from`).
		#[pallet::no_default_bounds]
		#[pallet::constant]
		type InputGrace: Get<BlockNumberFor<Self>>;
		/// The first queue surcharge: what an order pays, on top of its escrow and
		/// to the treasury, when its deadline block's expiry queue is half full;
		/// it doubles every further eighth, and again for every half-queue of
		/// upper-half orders in the queue pressure
		/// (`agora_primitives::rules::queue_surcharge`).
		#[pallet::no_default]
		#[pallet::constant]
		type QueueSurcharge: Get<BalanceOf<Self>>;
		/// Blocks in which the queue pressure (`QueuePressure`) halves.
		#[pallet::no_default_bounds]
		#[pallet::constant]
		type QueuePressureHalfLife: Get<BlockNumberFor<Self>>;
		/// Told of every accepted receipt (`pallet-verification`, which may
		/// check it; `()` checks nothing).
		#[pallet::no_default_bounds]
		type Checks: ReceiptChecks<BlockNumberFor<Self>>;
		/// Service passes: pass jobs take a request of the client's quota, and
		/// count for their provider's reward when finalized (`pallet-passes`;
		/// `()` refuses every pass job).
		#[pallet::no_default_bounds]
		type Passes: ServicePasses<Self::AccountId, BlockNumberFor<Self>>;
		/// Weights.
		type WeightInfo: WeightInfo;
		/// Benchmark set-up.
		#[pallet::no_default]
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

	/// Receipted jobs due for finalization at a block (a set per block,
	/// drained from `DueCursors::finalize` on).
	#[pallet::storage]
	pub type FinalizeQueue<T: Config> =
		StorageDoubleMap<_, Twox64Concat, BlockNumberFor<T>, Twox64Concat, JobId, (), OptionQuery>;

	/// Jobs due to expire at a block (the block after their deadline), drained
	/// from `DueCursors::expiry` on.
	#[pallet::storage]
	pub type ExpiryQueue<T: Config> =
		StorageDoubleMap<_, Twox64Concat, BlockNumberFor<T>, Twox64Concat, JobId, (), OptionQuery>;

	/// How many jobs [`ExpiryQueue`] holds at a block (at most `MaxJobsPerBlock`).
	#[pallet::storage]
	pub type ExpiryFill<T: Config> = StorageMap<_, Twox64Concat, BlockNumberFor<T>, u32, ValueQuery>;

	/// Finished jobs due to be pruned at a block, drained from `DueCursors::prune` on.
	#[pallet::storage]
	pub type PruneQueue<T: Config> =
		StorageDoubleMap<_, Twox64Concat, BlockNumberFor<T>, Twox64Concat, JobId, (), OptionQuery>;

	/// Each queue's first block with work possibly left.
	#[pallet::storage]
	pub type DueCursors<T: Config> = StorageValue<_, Cursors<BlockNumberFor<T>>, ValueQuery>;

	/// Each client's by-hash inputs reported missing and not yet worked off
	/// (one comes off per job of its that finalizes); each doubles the next
	/// miss's charge (`agora_primitives::rules::input_missing_charge`).
	#[pallet::storage]
	pub type InputMisses<T: Config> = StorageMap<_, Blake2_128Concat, T::AccountId, u32, ValueQuery>;

	/// The queue pressure: orders that went into a deadline block's upper half
	/// lately, halved every `QueuePressureHalfLife` blocks, and the block it was
	/// last raised in (`agora_primitives::rules::queue_pressure`). It raises
	/// the surcharge of every upper-half order, so squatting block after block
	/// costs more for each block.
	#[pallet::storage]
	pub type QueuePressure<T: Config> = StorageValue<_, (BlockNumberFor<T>, u32), ValueQuery>;

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
		/// The provider reported that the client never delivered the job's by-hash
		/// input: the client paid `charge` (the base price, doubled per earlier
		/// miss in `misses`) to the treasury, the rest was refunded; nobody was
		/// slashed, and the provider earned nothing.
		InputMissing {
			job_id: JobId,
			client: T::AccountId,
			provider: T::AccountId,
			charge: BalanceOf<T>,
			refunded: BalanceOf<T>,
			misses: u32,
		},
		/// The client contested an `InputMissing` report with its worker's
		/// signed upload receipt: the report was false. The client got
		/// `compensated` (its charge) back out of the provider's bond, the
		/// provider was slashed `slashed` more, and the job ends `Fraud`.
		InputReportContested {
			job_id: JobId,
			client: T::AccountId,
			provider: T::AccountId,
			compensated: BalanceOf<T>,
			slashed: BalanceOf<T>,
		},
		/// The client cancelled the job and was refunded.
		JobCancelled { job_id: JobId, refunded: BalanceOf<T> },
		/// The client rated the job's provider.
		JobRated { job_id: JobId, client: T::AccountId, provider: T::AccountId, rating: i8 },
		/// A finished job was removed from storage.
		JobPruned { job_id: JobId },
		/// A receipt of a [`Pallet::submit_receipts`] batch was refused, for
		/// `error` (the others stand).
		ReceiptRefused { job_id: JobId, error: DispatchError },
		/// The order at `index` of a [`Pallet::submit_jobs`] batch was refused,
		/// for `error`; nothing of it was kept (the others stand).
		OrderRefused { index: u32, error: DispatchError },
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
		/// `temperature_milli` is above `MAX_TEMPERATURE_MILLI` (T = 2.0).
		TemperatureTooHigh,
		/// A temperature above 0 for a model that does not sample (embeddings).
		SamplingNotSupported,
		/// The inline input is empty.
		EmptyInput,
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
		/// Only a job ordered by hash can have a missing input (an inline input
		/// is on chain).
		InputInline,
		/// A receipt batch is empty.
		NoReceipts,
		/// An order batch is empty.
		NoOrders,
		/// The client still has time to upload the input
		/// (`rules::input_report_from`).
		InputGraceNotOver,
		/// Only a job its provider reported `InputMissing` (and not yet
		/// contested) can be contested.
		NotInputMissing,
		/// The signature is not the job's worker key's upload receipt
		/// (`agora_primitives::UploadReceipt`) for the job and its input hash.
		BadUploadSignature,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		/// Finalizes, expires and prunes the jobs due up to this block, in block
		/// order, within `QueueWeight`.
		fn on_initialize(n: BlockNumberFor<T>) -> Weight {
			Self::do_on_initialize(n)
		}

		/// What `on_initialize` left due (its `QueueWeight` was used up),
		/// within the weight the block's extrinsics left.
		fn on_idle(n: BlockNumberFor<T>, remaining: Weight) -> Weight {
			Self::do_on_idle(n, remaining)
		}

		fn integrity_test() {
			assert!(T::MaxJobsPerBlock::get() > 0, "MaxJobsPerBlock must be positive");
			assert!(T::MaxCandidates::get() > 0, "MaxCandidates must be positive");
			assert!(T::MaxOfferScan::get() >= T::MaxCandidates::get(), "MaxOfferScan below MaxCandidates");
			assert!(!T::DisputeWindow::get().is_zero(), "DisputeWindow must be positive");
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}
}
