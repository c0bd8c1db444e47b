//! The pallet's stored types.
use crate::{BalanceOf, CommitteeOf, Config};
use agora_primitives::{channels::{ChannelId, LaneId}, AuditVote, JobParams, ModelId};
use codec::{Decode, Encode, MaxEncodedLen};
use frame_support::{BoundedVec, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound};
use frame_system::pallet_prelude::BlockNumberFor;
use scale_info::TypeInfo;

/// A receipt under a committee check (random audit or dispute).
#[derive(CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound, Encode, Decode, MaxEncodedLen, TypeInfo)]
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
	/// Without a majority by this block, members who did not vote are struck
	/// and replaced (at most `MaxRedraws` times), then the check ends with no
	/// verdict.
	pub vote_deadline: BlockNumberFor<T>,
	/// Times non-voters were replaced and the deadline moved.
	pub redraws: u32,
}

/// A disputed served receipt (a channel-paid answer) under its committee
/// check: what the committee re-checks, and whom the verdict pays. Kept until
/// the verdict.
#[derive(CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound, Encode, Decode, MaxEncodedLen, TypeInfo)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound())]
pub struct ServedCheck<T: Config> {
	/// The voucher the answer was paid with: `(channel_id, lane, nonce)`.
	pub voucher: (ChannelId, LaneId, u64),
	/// The channel's sender: refunded `price` on fraud, and no committee member.
	pub sender: T::AccountId,
	pub provider: T::AccountId,
	pub model_id: ModelId,
	pub params: JobParams,
	/// [`agora_primitives::channels::served_seed`] of the voucher and the client's seed.
	pub seed: [u8; 32],
	pub input: BoundedVec<u8, T::MaxServedInput>,
	pub output: BoundedVec<u8, T::MaxServedOutput>,
	pub output_hash: [u8; 32],
	pub output_tokens: u32,
	/// What the voucher paid for the answer.
	pub price: BalanceOf<T>,
	/// The receipt's dispute window ends at this block.
	pub window_end: BlockNumberFor<T>,
}
