//! Jobs and receipts (docs/protocol.md §2), shared by the runtime, the worker and clients.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

/// A job's id.
pub type JobId = u64;

/// The domain tag a worker signs receipts under.
pub const RECEIPT_CONTEXT: &[u8] = b"agora/receipt/v1";

/// Inference parameters.
#[derive(
	Clone, Copy, PartialEq, Eq, Debug, Default, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo,
)]
#[derive(serde::Serialize, serde::Deserialize)]
pub struct JobParams {
	/// Most output tokens (generation) — also the unit the price is computed in.
	pub max_tokens: u32,
	/// Sampling temperature × 1000; 0 means greedy decoding. At most
	/// [`MAX_TEMPERATURE_MILLI`].
	pub temperature_milli: u32,
	/// The client's own seed, mixed into the job's sampling seed
	/// ([`crate::rules::job_seed`]); 0 for none.
	pub seed: u64,
}

/// The highest sampling temperature a job may ask for, × 1000 (T = 2.0): above
/// it sampling is close to uniform over the vocabulary, which no client wants
/// and which would only make a verifier's tolerance (`EPS / T`) meaningless.
pub const MAX_TEMPERATURE_MILLI: u32 = 2_000;

/// A generation output as served and hashed (docs/protocol.md §2): the JSON
/// object `{"text": …, "tokens": […]}`, the token ids the worker emitted and
/// their decoded text. The receipt's `output_hash` is over these bytes, so it
/// commits both; `output_tokens` must be `tokens.len()`. A verifier checks the
/// ids and never re-tokenizes the text (one text has several tokenizations).
#[cfg(feature = "std")]
#[derive(Clone, PartialEq, Eq, Debug, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenerationOutput {
	pub text: alloc::string::String,
	pub tokens: alloc::vec::Vec<u32>,
}

#[cfg(feature = "std")]
impl GenerationOutput {
	/// The served bytes.
	pub fn to_bytes(&self) -> alloc::vec::Vec<u8> {
		serde_json::to_vec(self).unwrap_or_default()
	}

	/// Parses served bytes; `None` unless they are exactly this object.
	pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
		serde_json::from_slice(bytes).ok()
	}
}

/// A worker's signed statement that it ran a job.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo)]
pub struct Receipt<AccountId> {
	pub job_id: JobId,
	pub model_id: crate::ModelId,
	/// blake2_256 of the input bytes (or the input hash of a by-hash job).
	pub input_hash: [u8; 32],
	/// blake2_256 of the output bytes.
	pub output_hash: [u8; 32],
	/// Output tokens (generation) or 1 (embedding).
	pub output_tokens: u32,
	pub provider: AccountId,
	pub worker_pubkey: [u8; 32],
}

impl<AccountId: Encode> Receipt<AccountId> {
	/// The bytes the worker key signs: `b"agora/receipt/v1" ++ SCALE(receipt)`.
	pub fn signing_payload(&self) -> alloc::vec::Vec<u8> {
		let mut v = RECEIPT_CONTEXT.to_vec();
		self.encode_to(&mut v);
		v
	}
}

/// Where a job is in its life.
#[derive(
	Clone, Copy, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo,
)]
#[derive(serde::Serialize, serde::Deserialize)]
pub enum JobStatus {
	/// Assigned to a provider (in the same call that ordered it).
	Assigned,
	/// The provider acknowledged it; the client may no longer cancel.
	Acknowledged,
	/// A receipt was accepted; the dispute window is running.
	Receipted,
	/// Disputed within the window; the verification issue decides it.
	Disputed,
	/// Paid out.
	Finalized,
	/// No receipt by the deadline: refunded, provider slashed.
	Expired,
	/// Cancelled by the client: refunded.
	Cancelled,
	/// The committee judged the receipt fraudulent (or the output withheld):
	/// refunded, provider slashed. Final.
	Fraud,
}

impl JobStatus {
	/// Whether the job still holds escrow and counts against its offer's capacity.
	pub fn is_open(&self) -> bool {
		matches!(self, Self::Assigned | Self::Acknowledged | Self::Receipted | Self::Disputed)
	}
}

/// A committee member's vote on an audited receipt (docs/protocol.md §6).
#[derive(
	Clone, Copy, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo,
)]
#[derive(serde::Serialize, serde::Deserialize)]
pub enum AuditVote {
	/// The verifier re-checked the output against the model and accepts it.
	Valid,
	/// The served output does not match the receipt's hash, or the verifier
	/// rejects it.
	Invalid,
	/// The provider did not serve the output (or a by-hash input) to the committee.
	Withheld,
}

/// The domain tag a validator signs audit votes under.
pub const VOTE_CONTEXT: &[u8] = b"agora/vote/v1";

/// What a committee member signs with its `agora` session key:
/// `b"agora/vote/v1" ++ SCALE(payload)`.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo)]
pub struct VotePayload {
	pub job_id: JobId,
	/// The member's index in the job's committee.
	pub member: u32,
	pub vote: AuditVote,
}

impl VotePayload {
	/// The signed bytes.
	pub fn signing_payload(&self) -> alloc::vec::Vec<u8> {
		let mut v = VOTE_CONTEXT.to_vec();
		self.encode_to(&mut v);
		v
	}
}

/// What a validator's off-chain worker posts (SCALE) to its local verifier's
/// `POST /v1/verify`: the job as the chain knows it, and the output the provider
/// served.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode)]
pub struct VerifyRequest {
	pub job_id: JobId,
	pub model_id: crate::ModelId,
	pub input: alloc::vec::Vec<u8>,
	pub params: JobParams,
	/// The job's sampling seed ([`crate::rules::job_seed`]), fixed at assignment.
	pub job_seed: [u8; 32],
	/// The output tokens the receipt bills.
	pub output_tokens: u32,
	pub output: alloc::vec::Vec<u8>,
}

/// The off-chain database key (PERSISTENT kind) under which a validator node
/// keeps its `--agora-verifier` URL (SCALE `Vec<u8>`) for the off-chain worker.
pub const VERIFIER_STORAGE_KEY: &[u8] = b"agora::verifier";

/// The header a verifier answers with: `valid` or `invalid` (the body is JSON
/// evidence, for people).
pub const VERDICT_HEADER: &str = "x-agora-verdict";

/// An embedding output as served and hashed: its `f32`s, little endian, one
/// after another. `None` when the length is not a multiple of four.
pub fn decode_embedding(bytes: &[u8]) -> Option<alloc::vec::Vec<f32>> {
	if bytes.len() % 4 != 0 {
		return None;
	}
	Some(
		bytes
			.chunks_exact(4)
			.map(|c| f32::from_le_bytes(<[u8; 4]>::try_from(c).unwrap_or_default()))
			.collect(),
	)
}

/// The bytes of an embedding output ([`decode_embedding`]'s inverse).
pub fn encode_embedding(v: &[f32]) -> alloc::vec::Vec<u8> {
	v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn a_generation_output_round_trips_and_parses_strictly() {
		let g = GenerationOutput { text: "Paris.".into(), tokens: alloc::vec![7042, 30] };
		let bytes = g.to_bytes();
		assert_eq!(bytes, br#"{"text":"Paris.","tokens":[7042,30]}"#.to_vec());
		assert_eq!(GenerationOutput::from_bytes(&bytes), Some(g));
		// Plain text, a missing field, an extra field, a negative id: not an output.
		for bad in [&b"Paris."[..], br#"{"text":"Paris."}"#, br#"{"text":"a","tokens":[1],"x":1}"#, br#"{"text":"a","tokens":[-1]}"#] {
			assert_eq!(GenerationOutput::from_bytes(bad), None, "{}", String::from_utf8_lossy(bad));
		}
	}

	#[test]
	fn embeddings_round_trip() {
		let v = [0.5f32, -1.25, 3.0];
		assert_eq!(decode_embedding(&encode_embedding(&v)), Some(v.to_vec()));
		assert_eq!(decode_embedding(&[0, 0, 0]), None);
	}
}
