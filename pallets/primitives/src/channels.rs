//! Payment channels (docs/protocol.md §4.2): the voucher a client signs per
//! request, its signing payload, and how a voucher is checked. Defined once here
//! for `pallet-channels`, the worker that accepts vouchers and the client that
//! makes them.
//!
//! A channel has independent **lanes**, so one client runs many requests at
//! once. On each lane the client signs vouchers with a strictly increasing
//! `nonce` and a non-decreasing `cumulative` amount: the most the recipient may
//! claim from that lane in total. A claim of a lane pays the difference between
//! the voucher's amount and what was already claimed from the lane, and records
//! the voucher's nonce: an older voucher (a replay, or one with a lower nonce)
//! is refused, and so is one that would pay nothing.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

/// A channel's id (a counter).
pub type ChannelId = u64;
/// A lane of a channel.
pub type LaneId = u32;

/// Lanes per channel: a voucher's lane is below this (the runtime's
/// `MaxLanes`, and what workers accept).
pub const MAX_LANES: u32 = 64;

/// The domain tag a channel's signer signs vouchers under.
pub const CHANNEL_CONTEXT: &[u8] = b"agora/channel/v1";

/// What a voucher promises: the recipient may claim up to `cumulative` in
/// total from `lane` of `channel_id`. Signed by the channel's signer over
/// [`Voucher::signing_payload`].
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	serde::Serialize,
	serde::Deserialize,
)]
pub struct Voucher<Balance> {
	pub channel_id: ChannelId,
	pub lane: LaneId,
	/// Strictly increasing per lane: a claim records it, older vouchers are void.
	pub nonce: u64,
	/// The lane's total payable so far (not this request's price).
	pub cumulative: Balance,
}

impl<Balance: Encode> Voucher<Balance> {
	/// The bytes the channel's signer signs:
	/// `b"agora/channel/v1" ++ SCALE(channel_id, lane, nonce, cumulative)`.
	pub fn signing_payload(&self) -> alloc::vec::Vec<u8> {
		let mut v = CHANNEL_CONTEXT.to_vec();
		self.encode_to(&mut v);
		v
	}

	/// Whether `signature` is the sr25519 signature of `signer` over this voucher.
	pub fn verify(&self, signature: &[u8; 64], signer: &[u8; 32]) -> bool {
		crate::rules::sr25519_signed(signature, &self.signing_payload(), signer)
	}
}

/// A voucher with its signature: what a client sends the worker (SCALE, hex, in
/// the `X-Agora-Voucher` header) and what the recipient claims with.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
pub struct SignedVoucher<Balance> {
	pub voucher: Voucher<Balance>,
	pub signature: [u8; 64],
}

/// The domain tag a worker signs the receipt of a channel-paid answer under.
pub const SERVED_RECEIPT_CONTEXT: &[u8] = b"agora/served/v1";

/// A worker's signed statement that it answered the request a voucher paid
/// for: the receipt of docs/protocol.md §2 with the voucher's
/// `(channel_id, lane, nonce)` in place of a job id, and what a committee
/// needs to re-check it without a job on chain: the request's parameters, its
/// price and the block it was served at. `output_hash` covers the served
/// output bytes as a job's does (for generation the
/// [`crate::jobs::GenerationOutput`] JSON: text and token ids).
///
/// A client disputes it with `verification.dispute_receipt` while
/// `at + SERVED_DISPUTE_WINDOW` is ahead (docs/protocol.md §4.2): everything the
/// verifier reads (input, parameters, seed, billed count, output) is bound by
/// the worker's signature here, so neither side can change the question.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo)]
pub struct ServedReceipt<AccountId> {
	pub channel_id: ChannelId,
	pub lane: LaneId,
	pub nonce: u64,
	pub model_id: crate::ModelId,
	/// blake2_256 of the request's input as the engine ran it (for a chat, the
	/// JSON `{"messages": […]}`; for embeddings, the JSON array of texts).
	pub input_hash: [u8; 32],
	/// blake2_256 of the output bytes.
	pub output_hash: [u8; 32],
	/// Output tokens (generation) or the number of texts (embeddings).
	pub output_tokens: u32,
	/// The request's parameters as the engine ran them; `seed` is the
	/// client's, and the sampling seed is [`served_seed`] of it.
	pub params: crate::JobParams,
	/// What the voucher paid for this request (planck): refunded to the
	/// channel's sender if the answer is judged fraudulent.
	pub price: u128,
	/// The finalized block the worker served at: the dispute window runs from it.
	pub at: u32,
	pub provider: AccountId,
	pub worker_pubkey: [u8; 32],
}

impl<AccountId: Encode> ServedReceipt<AccountId> {
	/// The bytes the worker key signs: `b"agora/served/v1" ++ SCALE(receipt)`.
	pub fn signing_payload(&self) -> alloc::vec::Vec<u8> {
		let mut v = SERVED_RECEIPT_CONTEXT.to_vec();
		self.encode_to(&mut v);
		v
	}

	/// Whether `signature` is the sr25519 signature of the worker key the
	/// receipt names over [`Self::signing_payload`].
	pub fn verify(&self, signature: &[u8; 64]) -> bool {
		crate::rules::sr25519_signed(signature, &self.signing_payload(), &self.worker_pubkey)
	}
}

/// The longest request input a served receipt can be disputed with (the JSON
/// the receipt's `input_hash` covers): the worker refuses longer requests, so
/// every answer it serves can go before a committee.
pub const MAX_SERVED_INPUT: u32 = 16 * 1024;
/// The longest served output a dispute carries (the bytes `output_hash`
/// covers): a chat of up to 2,048 tokens, or up to 32 embeddings of up to 512
/// dimensions.
pub const MAX_SERVED_OUTPUT: u32 = 64 * 1024;

/// Committee checks of served receipts get ids from here up (a served receipt
/// has no job id; the checks share the job checks' machinery, keyed by id).
pub const SERVED_CHECK_BASE: crate::JobId = 1 << 63;

/// Whether a check id names a served receipt's check (not a job's).
pub fn is_served_check(id: crate::JobId) -> bool {
	id >= SERVED_CHECK_BASE
}

/// The domain tag of a channel-paid request's sampling seed.
pub const SERVED_SEED_CONTEXT: &[u8] = b"agora/served-seed";

/// The sampling seed of the request a voucher pays for (docs/protocol.md §6,
/// "Sampled"): `blake2_256(b"agora/served-seed" ++ SCALE(channel_id, lane,
/// nonce, client_seed))`. Fixed by the voucher the client signed, so the
/// provider chooses nothing, and anyone holding the voucher recomputes it.
pub fn served_seed(channel_id: ChannelId, lane: LaneId, nonce: u64, client_seed: u64) -> [u8; 32] {
	sp_crypto_hashing::blake2_256(&(SERVED_SEED_CONTEXT, channel_id, lane, nonce, client_seed).encode())
}

/// Where a lane stands on-chain: the nonce and the total of its last claim.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Default,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
pub struct LaneState<Balance> {
	/// The nonce of the last claimed voucher (0: never claimed; vouchers start at 1).
	pub nonce: u64,
	/// Claimed from this lane so far.
	pub claimed: Balance,
}

/// Why a voucher cannot be claimed from a lane (the pallet maps each to its own
/// error; the worker refuses vouchers by the same rule).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum LaneRefusal {
	/// Its nonce is not above the lane's last claimed nonce: a replayed or older voucher.
	StaleNonce,
	/// Its amount is not above what the lane has already paid.
	NothingToClaim,
}

impl<Balance: Copy + PartialOrd + sp_runtime::traits::CheckedSub> LaneState<Balance> {
	/// What claiming `voucher` from this lane pays, and the lane afterwards.
	pub fn claim(&self, voucher: &Voucher<Balance>) -> Result<(Balance, Self), LaneRefusal> {
		if voucher.nonce <= self.nonce {
			return Err(LaneRefusal::StaleNonce);
		}
		if voucher.cumulative <= self.claimed {
			return Err(LaneRefusal::NothingToClaim);
		}
		let pay = voucher
			.cumulative
			.checked_sub(&self.claimed)
			.ok_or(LaneRefusal::NothingToClaim)?;
		Ok((pay, Self { nonce: voucher.nonce, claimed: voucher.cumulative }))
	}
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
	use super::*;
	use sp_core::Pair as _;

	#[test]
	fn the_payload_is_the_documented_bytes() {
		let v = Voucher { channel_id: 7u64, lane: 2u32, nonce: 3u64, cumulative: 500u128 };
		let mut expected = b"agora/channel/v1".to_vec();
		expected.extend(7u64.to_le_bytes());
		expected.extend(2u32.to_le_bytes());
		expected.extend(3u64.to_le_bytes());
		expected.extend(500u128.to_le_bytes());
		assert_eq!(v.signing_payload(), expected);
	}

	#[test]
	fn a_voucher_verifies_under_its_signer_only() {
		let (pair, _) = sp_core::sr25519::Pair::generate();
		let (other, _) = sp_core::sr25519::Pair::generate();
		let v = Voucher { channel_id: 1u64, lane: 0u32, nonce: 1u64, cumulative: 10u128 };
		let sig = pair.sign(&v.signing_payload()).0;
		assert!(v.verify(&sig, &pair.public().0));
		assert!(!v.verify(&sig, &other.public().0));
		let higher = Voucher { cumulative: 11u128, ..v };
		assert!(!higher.verify(&sig, &pair.public().0), "the amount is signed");
	}

	#[test]
	fn a_lane_pays_the_difference_and_refuses_old_or_empty_vouchers() {
		let lane = LaneState { nonce: 0u64, claimed: 0u128 };
		let v1 = Voucher { channel_id: 1u64, lane: 0u32, nonce: 3u64, cumulative: 30u128 };
		let (pay, lane) = lane.claim(&v1).unwrap();
		assert_eq!((pay, lane), (30, LaneState { nonce: 3, claimed: 30 }));
		assert_eq!(lane.claim(&v1), Err(LaneRefusal::StaleNonce), "a replay");
		let older = Voucher { nonce: 2, cumulative: 20, ..v1 };
		assert_eq!(lane.claim(&older), Err(LaneRefusal::StaleNonce));
		let lower = Voucher { nonce: 4, cumulative: 20, ..v1 };
		assert_eq!(lane.claim(&lower), Err(LaneRefusal::NothingToClaim));
		let same = Voucher { nonce: 4, cumulative: 30, ..v1 };
		assert_eq!(lane.claim(&same), Err(LaneRefusal::NothingToClaim));
		let v5 = Voucher { nonce: 5, cumulative: 45, ..v1 };
		assert_eq!(lane.claim(&v5).unwrap(), (15, LaneState { nonce: 5, claimed: 45 }));
	}
}
