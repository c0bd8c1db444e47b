//! The Agora provider worker and client library.
//!
//! - [`engine`]: candle models behind one [`engine::Engine`] trait (SmolLM2 GGUF text
//!   generation, MiniLM embeddings), with model files checked against the on-chain
//!   manifest before anything is served.
//! - [`chain`]: the subxt layer (types generated from the runtime metadata in
//!   `artifacts/metadata.scale`), shared by `agora-worker` and the `agora` client.
//! - [`store`]: outputs on disk, content-addressed, and the worker's per-job records.
//! - [`api`]: the HTTP API (`/v1/jobs/{id}/output`, `/metrics`).
//! - [`serve`]: the worker loop that ties them together.
//! - [`gov`]: governance from the client: parameters, referenda, votes.
//! - [`stake`]: staking from the client: bond, keys, validate, nominate, payouts.
//! - [`verifier`]: the local verifier validators' off-chain workers ask (SPEC §6).
pub mod api;
pub mod chain;
pub mod cli;
pub mod engine;
pub mod gov;
pub mod metrics;
pub mod serve;
pub mod stake;
pub mod store;
pub mod verifier;

/// `blake2_256` of some bytes: input and output hashes in receipts.
pub fn blake2_256(data: &[u8]) -> [u8; 32] {
	use blake2::{digest::consts::U32, Blake2b, Digest};
	let mut h = Blake2b::<U32>::new();
	h.update(data);
	h.finalize().into()
}

/// Where the shipped models are cached (`$AGORA_MODELS`, default `~/.cache/agora-models`).
pub fn models_dir() -> std::path::PathBuf {
	if let Some(d) = std::env::var_os("AGORA_MODELS") {
		return d.into();
	}
	let home = std::env::var_os("HOME").unwrap_or_else(|| ".".into());
	std::path::PathBuf::from(home).join(".cache/agora-models")
}

/// Hex with a `0x` prefix.
pub fn hex0x(bytes: &[u8]) -> String {
	format!("0x{}", hex::encode(bytes))
}

/// Parses 32 bytes of hex, with or without `0x`.
pub fn parse_h256(s: &str) -> anyhow::Result<[u8; 32]> {
	let raw = hex::decode(s.trim_start_matches("0x"))
		.map_err(|e| anyhow::anyhow!("`{s}` is not hex: {e}"))?;
	raw.try_into().map_err(|_| anyhow::anyhow!("`{s}` is not 32 bytes of hex"))
}

#[cfg(test)]
mod tests {
	#[test]
	fn blake2_matches_substrate() {
		// blake2_256(b"") as sp_crypto_hashing computes it.
		assert_eq!(
			hex::encode(super::blake2_256(b"")),
			"0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8"
		);
	}
}
