//! Model manifests (docs/protocol.md §2), shared by the runtime, the node's RPC, the genesis
//! presets and `agora-worker`.
//!
//! `ModelId = blake2_256(SCALE(manifest))`. A manifest's text fields are `Vec<u8>`
//! when a client submits it and bounded when the chain stores it; both encode to
//! the same bytes, so both give the same id.

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

/// A model's id: `blake2_256(SCALE(manifest))`.
pub type ModelId = [u8; 32];
/// A file's sha256.
pub type FileHash = [u8; 32];

/// Most bytes in any text field of a manifest (name, licence, quantization, architecture).
pub const MAX_TEXT_LEN: u32 = 64;
/// Most basis points a royalty may take (100%).
pub const MAX_ROYALTY_BPS: u16 = 10_000;

/// What a model does.
#[derive(
	Clone, Copy, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo,
)]
#[derive(serde::Serialize, serde::Deserialize)]
pub enum TaskKind {
	/// Text in, generated text out.
	TextGeneration,
	/// Text in, a vector of little-endian f32 out.
	Embedding,
}

/// The largest `TeacherForced` tolerance a manifest may set (5 logits): a
/// tolerance beyond the gap between most tokens would accept steered answers.
pub const MAX_EPS_MILLI: u32 = 5_000;

/// What "re-checking" an output means for a model (docs/protocol.md §6).
#[derive(
	Clone, Copy, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo,
)]
#[derive(serde::Serialize, serde::Deserialize)]
pub enum DeterminismProfile {
	/// A bitwise-equal output under a pinned CPU profile.
	Exact,
	/// One forward pass over prompt + the claimed token ids: every claimed
	/// token's score (its logit when greedy, `logit / T` plus the job's public
	/// Gumbel noise when sampled) is within `eps_milli`/1000 (÷ `T` when
	/// sampled) of its step's best, and EOS wins the step after a short output.
	TeacherForced { eps_milli: u32 },
	/// The recomputed vector's cosine with the claimed one is at least
	/// `min_cosine_ppm` / 1,000,000.
	Cosine { min_cosine_ppm: u32 },
}

/// A model's manifest. `Text` is `Vec<u8>` on input and a bounded vector in storage.
#[derive(
	Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo,
)]
#[derive(serde::Serialize, serde::Deserialize)]
pub struct ModelManifest<AccountId, Text> {
	/// Human-readable name, e.g. `SmolLM2-135M-Instruct`.
	pub name: Text,
	/// Architecture, e.g. `llama`, `bert`.
	pub architecture: Text,
	/// Quantization, e.g. `Q4_1`, `F32`.
	pub quantization: Text,
	/// What the model does.
	pub task: TaskKind,
	/// How outputs are verified.
	pub determinism: DeterminismProfile,
	/// sha256 of the weights file.
	pub weights_hash: FileHash,
	/// sha256 of the tokenizer file, if separate from the weights.
	pub tokenizer_hash: Option<FileHash>,
	/// sha256 of the config file, if separate from the weights.
	pub config_hash: Option<FileHash>,
	/// Licence, e.g. `Apache-2.0`.
	pub licence: Text,
	/// The account that publishes the model and receives its royalty.
	pub publisher: AccountId,
	/// Royalty in basis points of every finalized job's charge (≤ 10,000).
	pub royalty_bps: u16,
}

impl<AccountId: Encode, Text: Encode> ModelManifest<AccountId, Text> {
	/// The model's id: `blake2_256(SCALE(self))`.
	pub fn id(&self) -> ModelId {
		sp_crypto_hashing::blake2_256(&self.encode())
	}
}

/// A manifest as a client submits it.
pub type ManifestInput<AccountId> = ModelManifest<AccountId, Vec<u8>>;

fn h(hex: &str) -> FileHash {
	let mut out = [0u8; 32];
	for (i, byte) in out.iter_mut().enumerate() {
		let pair = hex.get(i.saturating_mul(2)..i.saturating_mul(2).saturating_add(2)).unwrap_or("00");
		*byte = u8::from_str_radix(pair, 16).unwrap_or(0);
	}
	out
}

/// The two models Agora ships (docs/protocol.md §10), with the sha256 sums that
/// `scripts/models.sha256` records and `scripts/fetch-models.sh` checks.
pub mod shipped {
	use super::*;

	/// sha256 of `SmolLM2-135M-Instruct.Q4_1.gguf` (tokenizer inside the GGUF).
	pub const SMOLLM2_GGUF_SHA256: &str =
		"b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53";
	/// sha256 of all-MiniLM-L6-v2 `model.safetensors`.
	pub const MINILM_WEIGHTS_SHA256: &str =
		"53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db";
	/// sha256 of all-MiniLM-L6-v2 `tokenizer.json`.
	pub const MINILM_TOKENIZER_SHA256: &str =
		"be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037";
	/// sha256 of all-MiniLM-L6-v2 `config.json`.
	pub const MINILM_CONFIG_SHA256: &str =
		"953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41";

	/// SmolLM2-135M-Instruct, Q4_1 GGUF, teacher-forced verification.
	pub fn smollm2<AccountId>(publisher: AccountId) -> ManifestInput<AccountId> {
		ModelManifest {
			name: b"SmolLM2-135M-Instruct".to_vec(),
			architecture: b"llama".to_vec(),
			quantization: b"Q4_1".to_vec(),
			task: TaskKind::TextGeneration,
			// EPS = 1.0 logit: about twice the largest gap measured between honest
			// engines (llama.cpp on this very GGUF: 0.472; this engine sampled:
			// 0.381; docs/verification.md).
			determinism: DeterminismProfile::TeacherForced { eps_milli: 1_000 },
			weights_hash: h(SMOLLM2_GGUF_SHA256),
			tokenizer_hash: None,
			config_hash: None,
			licence: b"Apache-2.0".to_vec(),
			publisher,
			royalty_bps: 100,
		}
	}

	/// all-MiniLM-L6-v2 sentence embeddings (f32 safetensors), cosine verification.
	pub fn minilm<AccountId>(publisher: AccountId) -> ManifestInput<AccountId> {
		ModelManifest {
			name: b"all-MiniLM-L6-v2".to_vec(),
			architecture: b"bert".to_vec(),
			quantization: b"F32".to_vec(),
			task: TaskKind::Embedding,
			determinism: DeterminismProfile::Cosine { min_cosine_ppm: 990_000 },
			weights_hash: h(MINILM_WEIGHTS_SHA256),
			tokenizer_hash: Some(h(MINILM_TOKENIZER_SHA256)),
			config_hash: Some(h(MINILM_CONFIG_SHA256)),
			licence: b"Apache-2.0".to_vec(),
			publisher,
			royalty_bps: 100,
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn hex_hashes_parse() {
		let m = shipped::minilm(0u64);
		assert_eq!(m.weights_hash[0], 0x53);
		assert_eq!(m.weights_hash[31], 0xdb);
	}

	#[test]
	fn bounded_and_unbounded_manifests_share_an_id() {
		use sp_core::{bounded::BoundedVec, ConstU32};
		let m = shipped::smollm2(7u64);
		let b = |v: &Vec<u8>| BoundedVec::<u8, ConstU32<MAX_TEXT_LEN>>::truncate_from(v.clone());
		let bounded = ModelManifest {
			name: b(&m.name),
			architecture: b(&m.architecture),
			quantization: b(&m.quantization),
			task: m.task,
			determinism: m.determinism,
			weights_hash: m.weights_hash,
			tokenizer_hash: m.tokenizer_hash,
			config_hash: m.config_hash,
			licence: b(&m.licence),
			publisher: m.publisher,
			royalty_bps: m.royalty_bps,
		};
		assert_eq!(m.id(), bounded.id());
		assert_ne!(m.id(), shipped::minilm(7u64).id());
	}

	#[test]
	fn shipped_hashes_match_the_fetch_script() {
		let sums = include_str!("../../../scripts/models.sha256");
		for hash in [
			shipped::SMOLLM2_GGUF_SHA256,
			shipped::MINILM_WEIGHTS_SHA256,
			shipped::MINILM_TOKENIZER_SHA256,
			shipped::MINILM_CONFIG_SHA256,
		] {
			assert!(sums.contains(hash), "{hash} is not in scripts/models.sha256");
		}
	}
}

/// An offer's id.
pub type OfferId = u64;

/// Whether an offer takes jobs.
#[derive(
	Clone, Copy, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo,
)]
#[derive(serde::Serialize, serde::Deserialize)]
pub enum OfferStatus {
	/// Takes jobs.
	Active,
	/// Takes no jobs: paused by the provider, or because its bond fell below the minimum.
	Paused,
}

/// A model as the runtime API returns it.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, TypeInfo)]
#[derive(serde::Serialize, serde::Deserialize)]
pub struct ModelView<AccountId, BlockNumber> {
	pub id: ModelId,
	pub manifest: ManifestInput<AccountId>,
	pub deprecated: bool,
	pub registered_at: BlockNumber,
}

/// An offer as the runtime API returns it.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, TypeInfo)]
#[derive(serde::Serialize, serde::Deserialize)]
pub struct OfferView<AccountId, Balance> {
	pub id: OfferId,
	pub provider: AccountId,
	pub model_id: ModelId,
	pub worker_key: [u8; 32],
	pub base_price: Balance,
	pub price_per_1k_tokens: Balance,
	pub endpoint: Vec<u8>,
	pub capacity: u32,
	pub hardware: Vec<u8>,
	pub status: OfferStatus,
}

/// A provider as the runtime API returns it.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, TypeInfo)]
#[derive(serde::Serialize, serde::Deserialize)]
pub struct ProviderView<Balance, BlockNumber> {
	/// The active bond.
	pub bond: Balance,
	/// Unbonding parts: (amount, withdrawable from block).
	pub unlocking: Vec<(Balance, BlockNumber)>,
	/// Whether the active bond reaches the minimum stake.
	pub bonded: bool,
	/// The provider's offers.
	pub offers: Vec<OfferId>,
}
