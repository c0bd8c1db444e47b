//! # Agora off-chain logic
//!
//! The `no_std` logic a validator's off-chain worker runs as a committee
//! member (docs/protocol.md §6). The runtime plugs [`HttpAudit`] into the jobs
//! pallet's `OffchainAudit` config type; no pallet depends on this crate, and
//! it depends only on `agora-primitives` among Agora's crates.
//! - [`audit`]: fetch the output (and a by-hash input) from the provider's
//!   endpoint, check it against the receipt's hash, and ask the validator's local
//!   verifier (`agora-worker verifier`) to re-check it against the model; the
//!   answer is the vote to sign.
//!
//! The sampling rule that decides which receipts are audited is a consensus
//! rule: it lives in `agora_primitives::rules`.
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

use agora_primitives::{
	rules::content_hash, AuditError, AuditInput as Input, AuditJob, AuditVote, OffchainAudit, VerifyRequest,
};
use alloc::{format, vec::Vec};
use codec::Encode;
use sp_runtime::offchain::{http, Duration};

/// Largest output or input a committee member downloads (bytes).
pub const MAX_FETCH: usize = 4 * 1024 * 1024;

/// How long the provider gets to serve an output or an input: one deadline for
/// the whole request (connect, headers and every byte of the body). A provider
/// that sends headers and then stalls costs its own check this long, nothing
/// more.
pub const FETCH_TIMEOUT_MS: u64 = 10_000;

/// Largest output a job may have: the `{"text", "tokens"}` object of
/// `max_tokens` tokens, at most [`BYTES_PER_TOKEN`] each, plus
/// [`OUTPUT_OVERHEAD`] (an embedding's floats fit in the overhead), capped at
/// [`MAX_FETCH`]. A larger body is not read: the provider withheld a valid one.
pub fn output_cap(max_tokens: u32) -> usize {
	let tokens = usize::try_from(max_tokens).unwrap_or(usize::MAX);
	tokens.saturating_mul(BYTES_PER_TOKEN).saturating_add(OUTPUT_OVERHEAD).min(MAX_FETCH)
}

/// Bytes one generated token may take in an output: its text (a token is
/// at most a few dozen bytes, six per escaped character) and its id.
pub const BYTES_PER_TOKEN: usize = 256;

/// Bytes of an output beyond its tokens: the JSON frame, or an embedding.
pub const OUTPUT_OVERHEAD: usize = 256 * 1024;

/// How long the local verifier gets to answer.
pub const VERIFY_TIMEOUT_MS: u64 = 120_000;

/// The committee member's check over HTTP, as the runtime configures it.
pub struct HttpAudit;

impl OffchainAudit for HttpAudit {
	fn audit(verifier: Option<&str>, job: &AuditJob) -> Result<AuditVote, AuditError> {
		audit(verifier, job)
	}
}

fn deadline(ms: u64) -> sp_core::offchain::Timestamp {
	sp_io::offchain::timestamp().add(Duration::from_millis(ms))
}

/// `GET url` (with `read_auth` as the [`agora_primitives::jobs::READ_HEADER`]
/// when not empty): the body of a 200 answer of at most `cap` bytes, all of it
/// within [`FETCH_TIMEOUT_MS`] of the request. `None` when the provider does
/// not answer, answers otherwise, announces or sends more than `cap`, or
/// stalls before the body's last byte.
pub fn get(url: &str, cap: usize, read_auth: &str) -> Option<Vec<u8>> {
	let d = deadline(FETCH_TIMEOUT_MS);
	let mut req = http::Request::get(url).deadline(d);
	if !read_auth.is_empty() {
		req = req.add_header(agora_primitives::jobs::READ_HEADER, read_auth);
	}
	let pending = req.send().ok()?;
	let mut response = pending.try_wait(d).ok()?.ok()?;
	if response.code != 200 {
		return None;
	}
	let mut headers = response.headers().into_iter();
	let mut announced = None;
	while headers.next() {
		if let Some((k, v)) = headers.current() {
			if k.eq_ignore_ascii_case("content-length") {
				announced = v.trim().parse::<usize>().ok();
			}
		}
	}
	if announced.is_some_and(|n| n > cap) {
		return None;
	}
	let mut reader = response.body();
	// Without a deadline the host waits for the body forever.
	reader.deadline(d);
	let mut body = Vec::new();
	for byte in reader.by_ref() {
		body.push(byte);
		if body.len() > cap {
			return None;
		}
	}
	if reader.error().is_some() {
		return None;
	}
	Some(body)
}

/// Fetches what the provider must serve for `job`: the output, and a by-hash
/// input. `Err(vote)` when the audit is decided without the verifier: the
/// provider withheld something, or served an output whose hash is not the
/// receipt's.
pub fn fetch(job: &AuditJob) -> Result<(Vec<u8>, Vec<u8>), AuditVote> {
	// A disputed served receipt: input and output are on chain, checked
	// against the receipt's hashes when the dispute was accepted.
	if let (Some(output), Input::Inline(input)) = (&job.output, &job.input) {
		if content_hash(output) != job.output_hash {
			return Err(AuditVote::Invalid);
		}
		return Ok((input.clone(), output.clone()));
	}
	let base = core::str::from_utf8(&job.endpoint).map_err(|_| AuditVote::Withheld)?;
	let base = base.trim_end_matches('/');
	let output = get(&format!("{base}/v1/jobs/{}/output", job.job_id), output_cap(job.params.max_tokens), &job.read_auth)
		.ok_or(AuditVote::Withheld)?;
	if content_hash(&output) != job.output_hash {
		return Err(AuditVote::Invalid);
	}
	let input = match &job.input {
		Input::Inline(b) => b.clone(),
		Input::Hash(h) => {
			let b = get(&format!("{base}/v1/inputs/{}", agora_primitives::jobs::hex_lower(h)), MAX_FETCH, "").ok_or(AuditVote::Withheld)?;
			if content_hash(&b) != *h {
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
	let req = VerifyRequest {
		job_id: job.job_id,
		model_id: job.model_id,
		input,
		params: job.params,
		job_seed: job.job_seed,
		output_tokens: job.output_tokens,
		output,
	};
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
	fn hex_is_lowercase_and_complete() {
		assert_eq!(agora_primitives::jobs::hex_lower(&[0x00, 0xab, 0x0f, 0xf0]), "00ab0ff0");
	}

	#[test]
	fn the_output_cap_follows_max_tokens() {
		assert_eq!(output_cap(0), OUTPUT_OVERHEAD);
		assert_eq!(output_cap(16), 16 * BYTES_PER_TOKEN + OUTPUT_OVERHEAD);
		assert_eq!(output_cap(u32::MAX), MAX_FETCH);
	}
}
