//! Types of `pallet-jobs`.

use agora_primitives::{JobParams, JobStatus, ModelId, OfferId, PaymentMode};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{traits::Get, BoundedVec};
use scale_info::TypeInfo;

/// A job's input as the client submits it.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum InputParam {
	/// The input bytes, on chain (at most `MaxInputLen`).
	Inline(alloc::vec::Vec<u8>),
	/// The blake2_256 of an input delivered to the provider off-chain.
	Hash([u8; 32]),
}

/// One order of a [`crate::Pallet::submit_jobs`] batch: what
/// [`crate::Pallet::submit_job`] takes but the model and the provider, which
/// the batch names once.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct Order<Balance, BlockNumber> {
	pub input: InputParam,
	pub params: JobParams,
	/// Held in escrow for this job.
	pub max_price: Balance,
	pub deadline: BlockNumber,
}

impl<Balance, BlockNumber> Order<Balance, BlockNumber> {
	/// The inline input's length (0 for an input by hash).
	pub fn inline_len(&self) -> u32 {
		self.input.inline_len()
	}
}

impl InputParam {
	/// The inline input's length (0 for an input by hash).
	pub fn inline_len(&self) -> u32 {
		match self {
			Self::Inline(b) => u32::try_from(b.len()).unwrap_or(u32::MAX),
			Self::Hash(_) => 0,
		}
	}
}

/// A job's input as stored.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, MaxEncodedLen, TypeInfo)]
#[scale_info(skip_type_params(MaxLen))]
pub enum JobInput<MaxLen: Get<u32>> {
	Inline(BoundedVec<u8, MaxLen>),
	Hash([u8; 32]),
}

impl<MaxLen: Get<u32>> JobInput<MaxLen> {
	/// The hash a receipt must carry: blake2_256 of inline bytes, or the given hash.
	pub fn hash(&self) -> [u8; 32] {
		match self {
			Self::Inline(b) => agora_primitives::rules::content_hash(b),
			Self::Hash(h) => *h,
		}
	}
}

/// What a receipt established.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, MaxEncodedLen, TypeInfo)]
pub struct ReceiptInfo<BlockNumber> {
	pub output_hash: [u8; 32],
	pub output_tokens: u32,
	/// The block the receipt was accepted in.
	pub at: BlockNumber,
	/// The first block after its dispute window (`at + DISPUTE_WINDOW` as the
	/// parameter stood when the receipt was accepted).
	pub window_end: BlockNumber,
	/// The block whose finalize queue holds the job.
	pub finalize_at: BlockNumber,
}

/// A job.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, MaxEncodedLen, TypeInfo)]
#[scale_info(skip_type_params(MaxLen))]
pub struct Job<AccountId, Balance, BlockNumber, MaxLen: Get<u32>> {
	pub client: AccountId,
	pub model_id: ModelId,
	pub input: JobInput<MaxLen>,
	pub params: JobParams,
	/// The sampling seed ([`agora_primitives::rules::job_seed`]): this block's
	/// VRF randomness, the job id and the client's seed, fixed at assignment.
	pub job_seed: [u8; 32],
	/// How it is paid for.
	pub payment: PaymentMode,
	/// Held in escrow until the job ends (0 for a pass job).
	pub max_price: Balance,
	/// The last block a receipt is accepted in.
	pub deadline: BlockNumber,
	pub provider: AccountId,
	pub offer_id: OfferId,
	pub worker_key: [u8; 32],
	/// The offer's prices when the job was assigned.
	pub base_price: Balance,
	pub price_per_1k_tokens: Balance,
	pub status: JobStatus,
	pub submitted_at: BlockNumber,
	/// The AVRF seed the assignment was drawn with (`None` if the client named
	/// the provider).
	pub avrf_seed: Option<[u8; 32]>,
	pub receipt: Option<ReceiptInfo<BlockNumber>>,
	/// What the client paid, once finalized.
	pub charge: Option<Balance>,
	/// The client's rating, once given.
	pub rating: Option<i8>,
}

/// How a job's provider was chosen, for anyone to recompute (runtime API).
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, TypeInfo)]
pub struct Assignment<AccountId> {
	/// The seed: blake2_256(b"agora/avrf" ++ VRF randomness ++ job id).
	pub seed: [u8; 32],
	/// The candidates in draw order: (offer, provider, weight).
	pub candidates: alloc::vec::Vec<(OfferId, AccountId, u32)>,
	/// The winning offer.
	pub offer_id: OfferId,
}

/// A queue of job ids for one block.
pub type Queue<Max> = BoundedVec<agora_primitives::JobId, Max>;

/// Where each queue's drain stands: the first block with work possibly left
/// (every block before it is done). Work is only ever scheduled at or after
/// its cursor.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Encode, Decode, MaxEncodedLen, TypeInfo)]
pub struct Cursors<BlockNumber> {
	pub finalize: BlockNumber,
	pub expiry: BlockNumber,
	pub prune: BlockNumber,
}
