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

	/// Whether `signature` is the sr25519 signature of the worker key the
	/// receipt names over [`Self::signing_payload`].
	pub fn verify(&self, signature: &[u8; 64]) -> bool {
		crate::rules::sr25519_signed(signature, &self.signing_payload(), &self.worker_pubkey)
	}
}

/// The domain tag a worker signs upload receipts under.
pub const UPLOAD_CONTEXT: &[u8] = b"agora/upload/v1";

/// A worker's acknowledgement that it holds the by-hash input of job
/// `job_id` (docs/protocol.md §6, "Inputs by hash"). The worker signs it with
/// the job's worker key, over `b"agora/upload/v1" ++ SCALE(receipt)`, once the
/// uploaded bytes (whose `blake2_256` is `input_hash`) are durably stored; it
/// answers `PUT /v1/inputs` with the signature. A client whose job the
/// provider then reports `InputMissing` puts the signature on chain
/// (`Jobs::contest_input_missing`): the report was false.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Encode, Decode)]
pub struct UploadReceipt {
	pub job_id: JobId,
	pub input_hash: [u8; 32],
}

impl UploadReceipt {
	/// The signed bytes.
	pub fn signing_payload(&self) -> alloc::vec::Vec<u8> {
		let mut v = UPLOAD_CONTEXT.to_vec();
		self.encode_to(&mut v);
		v
	}

	/// Whether `signature` is worker key `worker`'s sr25519 signature of this
	/// receipt.
	pub fn verify(&self, signature: &[u8; 64], worker: &[u8; 32]) -> bool {
		crate::rules::sr25519_signed(signature, &self.signing_payload(), worker)
	}
}

/// How a job is paid for (docs/protocol.md §4; channel requests are served
/// off-chain and are not jobs).
#[derive(
	Clone, Copy, PartialEq, Eq, Debug, Default, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo,
)]
#[derive(serde::Serialize, serde::Deserialize)]
pub enum PaymentMode {
	/// `max_price` held in escrow, the charge paid out at finalization.
	#[default]
	Escrow,
	/// One request of the client's service pass quota; the provider is paid
	/// from the epoch's new issuance by verified work (`pallet-passes`).
	Pass,
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
	/// No committee reached a majority, even after re-draws: refunded in full,
	/// nobody slashed, nobody paid. Final.
	Unverified,
	/// A by-hash input the client never delivered, reported by the provider:
	/// the client paid the base price (more for repeat misses), nobody slashed.
	/// Final.
	InputMissing,
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

/// The domain tag a reader signs an output request under.
pub const READ_CONTEXT: &[u8] = b"agora/read/v1";

/// The header that carries a signed output request:
/// `{signer}:{at_ms}:{signature}`, signer and signature in lowercase hex (no
/// `0x`), `at_ms` in decimal.
pub const READ_HEADER: &str = "x-agora-read";

/// The headers a worker's `GET /v1/jobs/{id}/output` answers with: the output's
/// `blake2_256` in hex (the receipt's `output_hash`), the billed token count,
/// and its kind (`text`, `embedding` or `error`).
pub const OUTPUT_HASH_HEADER: &str = "x-agora-output-hash";
pub const OUTPUT_TOKENS_HEADER: &str = "x-agora-output-tokens";
pub const OUTPUT_KIND_HEADER: &str = "x-agora-output-kind";

/// How far (ms) a read request's `at_ms` may be from the worker's clock.
pub const READ_SKEW_MS: u64 = 300_000;

/// A request to read job `job_id`'s output from its worker (docs/protocol.md §6,
/// "Who may read an output"), made at `at_ms` (Unix ms). The worker serves it
/// only when signed by the job's client (its account's sr25519 key) or by a
/// member of the job's committee (its `agora` session key), over
/// `b"agora/read/v1" ++ SCALE(request)`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Encode, Decode)]
pub struct ReadRequest {
	pub job_id: JobId,
	pub at_ms: u64,
}

impl ReadRequest {
	/// The signed bytes.
	pub fn signing_payload(&self) -> alloc::vec::Vec<u8> {
		let mut v = READ_CONTEXT.to_vec();
		self.encode_to(&mut v);
		v
	}

	/// The same bytes as a browser wallet signs them: Polkadot.js extensions'
	/// `signRaw` (type `bytes`) signs `<Bytes>` ++ payload ++ `</Bytes>`, so a
	/// web client reading its output through its wallet signs this form. A
	/// worker accepts either ([`Self::signed_by`]); the wrapper cannot turn one
	/// signed message into another, as both carry the domain tag.
	pub fn wrapped_payload(&self) -> alloc::vec::Vec<u8> {
		let mut v = b"<Bytes>".to_vec();
		v.extend_from_slice(&self.signing_payload());
		v.extend_from_slice(b"</Bytes>");
		v
	}

	/// Whether `signature` signs this request, bare ([`Self::signing_payload`])
	/// or wallet-wrapped ([`Self::wrapped_payload`]), by the key `verify`
	/// checks it against.
	pub fn signed_by(&self, verify: impl Fn(&[u8]) -> bool) -> bool {
		verify(&self.signing_payload()) || verify(&self.wrapped_payload())
	}

	/// The [`READ_HEADER`] value for this request signed by `signer`.
	pub fn header(&self, signer: &[u8], signature: &[u8]) -> alloc::string::String {
		alloc::format!("{}:{}:{}", hex_lower(signer), self.at_ms, hex_lower(signature))
	}

	/// Parses a [`READ_HEADER`] value of job `job_id`: the request, the
	/// signer's 32-byte key and the 64-byte signature.
	pub fn parse(job_id: JobId, value: &str) -> Option<(Self, [u8; 32], [u8; 64])> {
		let mut parts = value.trim().split(':');
		let signer = unhex::<32>(parts.next()?)?;
		let at_ms = parts.next()?.parse().ok()?;
		let signature = unhex::<64>(parts.next()?)?;
		if parts.next().is_some() {
			return None;
		}
		Some((Self { job_id, at_ms }, signer, signature))
	}
}

/// Lowercase hex of `bytes`, without `0x`.
pub fn hex_lower(bytes: &[u8]) -> alloc::string::String {
	const DIGITS: &[u8; 16] = b"0123456789abcdef";
	let mut s = alloc::string::String::with_capacity(bytes.len().saturating_mul(2));
	for b in bytes {
		s.push(char::from(*DIGITS.get(usize::from(b >> 4)).unwrap_or(&b'0')));
		s.push(char::from(*DIGITS.get(usize::from(b & 0x0f)).unwrap_or(&b'0')));
	}
	s
}

fn unhex<const N: usize>(s: &str) -> Option<[u8; N]> {
	let b = s.as_bytes();
	if b.len() != N.checked_mul(2)? {
		return None;
	}
	let digit = |c: u8| char::from(c).to_digit(16).and_then(|d| u8::try_from(d).ok());
	let mut out = [0u8; N];
	for (i, o) in out.iter_mut().enumerate() {
		let hi = digit(*b.get(i.checked_mul(2)?)?)?;
		let lo = digit(*b.get(i.checked_mul(2)?.checked_add(1)?)?)?;
		*o = (hi << 4) | lo;
	}
	Some(out)
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

/// What a validator's off-chain worker posts (SCALE) to its local verifier's
/// `POST /v1/fetch`: one `GET` of a provider's endpoint for it. The verifier
/// connects only to public addresses (on chains that take only public
/// endpoints), checked after name resolution, follows no redirect, and gives
/// the whole request [`FETCH_TIMEOUT_MS`]; it answers 200 with the outcome in
/// [`FETCH_HEADER`].
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode)]
pub struct FetchRequest {
	/// The URL, under the offer's endpoint.
	pub url: alloc::vec::Vec<u8>,
	/// The most body bytes to take: a longer body is a failed fetch.
	pub cap: u32,
	/// The [`READ_HEADER`] value to send (empty: none).
	pub read_auth: alloc::vec::Vec<u8>,
}

/// How long a provider gets to serve an output or an input to a committee
/// member: one deadline for the whole request (connect, headers and every
/// byte of the body). A provider that sends headers and then stalls costs its
/// own check this long, nothing more.
pub const FETCH_TIMEOUT_MS: u64 = 10_000;

/// The header in which a verifier's `POST /v1/fetch` says how the fetch went:
/// `served` (the body is the provider's) or `failed` (the provider did not
/// serve: no answer, not 200, too long, too slow, or no address the chain
/// allows; the body says why). An answer other than 200 with this header is
/// the verifier's own failure, and the member casts no vote.
pub const FETCH_HEADER: &str = "x-agora-fetch";

/// The off-chain database key (PERSISTENT kind) under which a validator node
/// keeps its `--agora-verifier` URL (SCALE `Vec<u8>`) for the off-chain worker.
pub const VERIFIER_STORAGE_KEY: &[u8] = b"agora::verifier";

/// The header a verifier answers with: `valid` or `invalid` (the body is JSON
/// evidence, for people).
pub const VERDICT_HEADER: &str = "x-agora-verdict";

/// An embedding output as served and hashed: its `f32`s, little endian, one
/// after another. `None` when the length is not a multiple of four.
pub fn decode_embedding(bytes: &[u8]) -> Option<alloc::vec::Vec<f32>> {
	if !bytes.len().is_multiple_of(4) {
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
	fn an_upload_receipt_is_the_documented_bytes_signed_by_the_worker_only() {
		use sp_core::{sr25519, Pair};
		let u = UploadReceipt { job_id: 7, input_hash: [9; 32] };
		let mut payload = b"agora/upload/v1".to_vec();
		payload.extend_from_slice(&7u64.to_le_bytes());
		payload.extend_from_slice(&[9; 32]);
		assert_eq!(u.signing_payload(), payload);
		let (worker, other) = (sr25519::Pair::from_seed(&[1; 32]), sr25519::Pair::from_seed(&[2; 32]));
		let sig = worker.sign(&payload).0;
		assert!(u.verify(&sig, &worker.public().0));
		assert!(!u.verify(&sig, &other.public().0));
		assert!(!UploadReceipt { job_id: 8, ..u }.verify(&sig, &worker.public().0));
		assert!(!UploadReceipt { input_hash: [8; 32], ..u }.verify(&sig, &worker.public().0));
		// A receipt signature over the same worker key is no upload receipt.
		let read = ReadRequest { job_id: 7, at_ms: 0 };
		assert!(!u.verify(&worker.sign(&read.signing_payload()).0, &worker.public().0));
	}

	#[test]
	fn a_read_header_round_trips_and_parses_strictly() {
		let r = ReadRequest { job_id: 7, at_ms: 1_700_000_000_123 };
		let mut payload = b"agora/read/v1".to_vec();
		payload.extend_from_slice(&7u64.to_le_bytes());
		payload.extend_from_slice(&1_700_000_000_123u64.to_le_bytes());
		assert_eq!(r.signing_payload(), payload);
		let h = r.header(&[0xab; 32], &[0x01; 64]);
		assert!(h.starts_with("abababab") && h.contains(":1700000000123:0101"), "{h}");
		assert_eq!(ReadRequest::parse(7, &h), Some((r, [0xab; 32], [0x01; 64])));
		let cut = &h[..h.len() - 2];
		for bad in ["", "ab:1:01", cut, &alloc::format!("{h}:x"), &h.replace(":1700", ":x1700")] {
			assert_eq!(ReadRequest::parse(7, bad), None, "{bad}");
		}
	}

	#[test]
	fn a_read_request_is_accepted_bare_or_wallet_wrapped_and_nothing_else() {
		use sp_core::{sr25519, Pair};
		let pair = sr25519::Pair::from_seed(&[4; 32]);
		let r = ReadRequest { job_id: 7, at_ms: 1_700_000_000_123 };
		let mut wrapped = b"<Bytes>".to_vec();
		wrapped.extend_from_slice(&r.signing_payload());
		wrapped.extend_from_slice(b"</Bytes>");
		assert_eq!(r.wrapped_payload(), wrapped);
		let check = |sig: &sr25519::Signature, req: &ReadRequest| {
			req.signed_by(|m| sr25519::Pair::verify(sig, m, &pair.public()))
		};
		let bare = pair.sign(&r.signing_payload());
		let by_wallet = pair.sign(&r.wrapped_payload());
		assert!(check(&bare, &r) && check(&by_wallet, &r));
		// Another job or time, another message, or another key: refused.
		let other = ReadRequest { job_id: 8, ..r };
		assert!(!check(&bare, &other) && !check(&by_wallet, &other));
		assert!(!check(&pair.sign(b"agora/read/v1"), &r));
		let eve = sr25519::Pair::from_seed(&[5; 32]);
		assert!(!r.signed_by(|m| sr25519::Pair::verify(&bare, m, &eve.public())));
	}

	#[test]
	fn a_receipt_verifies_under_its_own_worker_key_only() {
		use sp_core::{sr25519, Pair};
		let worker = sr25519::Pair::from_seed(&[6; 32]);
		let r = Receipt {
			job_id: 3,
			model_id: [1; 32],
			input_hash: [2; 32],
			output_hash: [3; 32],
			output_tokens: 7,
			provider: 9u64,
			worker_pubkey: worker.public().0,
		};
		let sig = worker.sign(&r.signing_payload()).0;
		assert!(r.verify(&sig));
		// Another billed count, another named key, or a foreign signer: refused.
		assert!(!Receipt { output_tokens: 8, ..r.clone() }.verify(&sig));
		let eve = sr25519::Pair::from_seed(&[7; 32]);
		assert!(!Receipt { worker_pubkey: eve.public().0, ..r.clone() }.verify(&sig));
		assert!(!r.verify(&eve.sign(&r.signing_payload()).0));
	}

	#[test]
	fn embeddings_round_trip() {
		let v = [0.5f32, -1.25, 3.0];
		assert_eq!(decode_embedding(&encode_embedding(&v)), Some(v.to_vec()));
		assert_eq!(decode_embedding(&[0, 0, 0]), None);
	}
}
