//! # Agora off-chain logic
//!
//! The `no_std` logic that `pallet-jobs`' `offchain_worker` hook calls for a
//! committee member (SPEC §6):
//! - [`drawn_for_audit`]: the sampling rule, shared with the runtime;
//! - [`audit`]: fetch the output (and a by-hash input) from the provider's
//!   endpoint, check it against the receipt's hash, and ask the validator's local
//!   verifier (`agora-worker verifier`) to re-check it against the model; the
//!   answer is the vote to sign.
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

use agora_primitives::{AuditVote, JobId, JobParams, ModelId, VerifyRequest};
use alloc::{format, string::String, vec::Vec};
use codec::Encode;
use sp_runtime::offchain::{http, Duration};

/// Whether an item is drawn for audit, given 32 bytes of VRF-derived randomness and
/// an audit rate in parts per million.
///
/// The first eight bytes of `random` are read as a little-endian integer and reduced
/// modulo one million; the item is drawn when that is below `rate_ppm`. A rate of
/// 1,000,000 or more always draws, a rate of 0 never does.
pub fn drawn_for_audit(random: &[u8; 32], rate_ppm: u32) -> bool {
	let mut first = [0u8; 8];
	first.copy_from_slice(random.get(..8).unwrap_or(&[0u8; 8]));
	let roll = u64::from_le_bytes(first) % 1_000_000;
	roll < u64::from(rate_ppm)
}

/// Largest output or input a committee member downloads (bytes).
pub const MAX_FETCH: usize = 4 * 1024 * 1024;

/// How long the provider gets to serve an output.
pub const FETCH_TIMEOUT_MS: u64 = 10_000;

/// How long the local verifier gets to answer.
pub const VERIFY_TIMEOUT_MS: u64 = 120_000;

/// A job's input as the chain holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
	/// On chain.
	Inline(Vec<u8>),
	/// Only its blake2_256 is on chain: the provider serves the bytes at
	/// `GET {endpoint}/v1/inputs/{hex}`.
	Hash([u8; 32]),
}

/// What a committee member knows about the audited job.
#[derive(Clone, Debug)]
pub struct AuditJob {
	pub job_id: JobId,
	pub model_id: ModelId,
	pub input: Input,
	pub params: JobParams,
	/// The receipt's output hash.
	pub output_hash: [u8; 32],
	/// The offer's endpoint, e.g. `http://127.0.0.1:8700`.
	pub endpoint: Vec<u8>,
}

/// Why a member could not vote (it then does not vote; the audit times out if
/// too few can).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuditError {
	/// No `--agora-verifier` was configured on this node.
	NoVerifier,
	/// The verifier did not answer, or answered without a verdict.
	Verifier(String),
}

fn hex(bytes: &[u8]) -> String {
	const DIGITS: &[u8; 16] = b"0123456789abcdef";
	let mut s = String::with_capacity(bytes.len().saturating_mul(2));
	for b in bytes {
		s.push(char::from(*DIGITS.get(usize::from(b >> 4)).unwrap_or(&b'0')));
		s.push(char::from(*DIGITS.get(usize::from(b & 0x0f)).unwrap_or(&b'0')));
	}
	s
}

fn deadline(ms: u64) -> sp_core::offchain::Timestamp {
	sp_io::offchain::timestamp().add(Duration::from_millis(ms))
}

/// `GET url`; the body of a 200 answer of at most [`MAX_FETCH`] bytes.
fn get(url: &str) -> Option<Vec<u8>> {
	let d = deadline(FETCH_TIMEOUT_MS);
	let pending = http::Request::get(url).deadline(d).send().ok()?;
	let response = pending.try_wait(d).ok()?.ok()?;
	if response.code != 200 {
		return None;
	}
	let mut body = Vec::new();
	for chunk in response.body() {
		body.push(chunk);
		if body.len() > MAX_FETCH {
			return None;
		}
	}
	Some(body)
}

/// Fetches what the provider must serve for `job`: the output, and a by-hash
/// input. `Err(vote)` when the audit is decided without the verifier: the
/// provider withheld something, or served an output whose hash is not the
/// receipt's.
pub fn fetch(job: &AuditJob) -> Result<(Vec<u8>, Vec<u8>), AuditVote> {
	let base = core::str::from_utf8(&job.endpoint).map_err(|_| AuditVote::Withheld)?;
	let base = base.trim_end_matches('/');
	let output = get(&format!("{base}/v1/jobs/{}/output", job.job_id)).ok_or(AuditVote::Withheld)?;
	if sp_io::hashing::blake2_256(&output) != job.output_hash {
		return Err(AuditVote::Invalid);
	}
	let input = match &job.input {
		Input::Inline(b) => b.clone(),
		Input::Hash(h) => {
			let b = get(&format!("{base}/v1/inputs/{}", hex(h))).ok_or(AuditVote::Withheld)?;
			if sp_io::hashing::blake2_256(&b) != *h {
				return Err(AuditVote::Withheld);
			}
			b
		},
	};
	Ok((input, output))
}

/// Asks the verifier at `verifier` (e.g. `http://127.0.0.1:8800`) whether
/// `output` is a valid answer to the job: `POST {verifier}/v1/verify` with the
/// SCALE-encoded [`VerifyRequest`]; the verdict is the `x-agora-verdict` header.
pub fn ask_verifier(verifier: &str, job: &AuditJob, input: Vec<u8>, output: Vec<u8>) -> Result<AuditVote, AuditError> {
	let req = VerifyRequest { job_id: job.job_id, model_id: job.model_id, input, params: job.params, output };
	let url = format!("{}/v1/verify", verifier.trim_end_matches('/'));
	let d = deadline(VERIFY_TIMEOUT_MS);
	let pending = http::Request::post(&url, alloc::vec![req.encode()])
		.add_header("Content-Type", "application/scale")
		.deadline(d)
		.send()
		.map_err(|e| AuditError::Verifier(format!("{url}: {e:?}")))?;
	let mut response = pending
		.try_wait(d)
		.map_err(|_| AuditError::Verifier(format!("{url}: no answer in time")))?
		.map_err(|e| AuditError::Verifier(format!("{url}: {e:?}")))?;
	if response.code != 200 {
		return Err(AuditError::Verifier(format!("{url}: HTTP {}", response.code)));
	}
	match response.headers().find(agora_primitives::jobs::VERDICT_HEADER) {
		Some("valid") => Ok(AuditVote::Valid),
		Some("invalid") => Ok(AuditVote::Invalid),
		other => Err(AuditError::Verifier(format!("{url}: verdict header {other:?}"))),
	}
}

/// The whole check a committee member runs: fetch, hash check, verifier.
pub fn audit(verifier: Option<&str>, job: &AuditJob) -> Result<AuditVote, AuditError> {
	let verifier = verifier.ok_or(AuditError::NoVerifier)?;
	match fetch(job) {
		Err(vote) => Ok(vote),
		Ok((input, output)) => ask_verifier(verifier, job, input, output),
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn rate_bounds_are_respected() {
		let r = sp_crypto_hashing::blake2_256(b"seed");
		assert!(drawn_for_audit(&r, 1_000_000));
		assert!(!drawn_for_audit(&r, 0));
	}

	#[test]
	fn draw_frequency_tracks_rate() {
		let hits = (0u32..20_000)
			.filter(|i| drawn_for_audit(&sp_crypto_hashing::blake2_256(&i.to_le_bytes()), 250_000))
			.count();
		// 25% of 20,000 = 5,000; allow ±3 standard deviations (~±184).
		assert!((4_800..=5_200).contains(&hits), "hits = {hits}");
	}

	#[test]
	fn hex_is_lowercase_and_complete() {
		assert_eq!(hex(&[0x00, 0xab, 0x0f, 0xf0]), "00ab0ff0");
	}
}
