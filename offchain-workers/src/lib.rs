//! # Agora off-chain logic
//!
//! The `no_std` logic a validator's off-chain worker runs as a committee
//! member (docs/protocol.md §6). The runtime plugs [`HttpAudit`] into the jobs
//! pallet's `OffchainAudit` config type; no pallet depends on this crate, and
//! it depends only on `agora-primitives` among Agora's crates.
//! - [`audit`]: have the validator's local verifier (`agora-worker verifier`)
//!   fetch the output (and a by-hash input) from the provider's endpoint, check
//!   it against the receipt's hash, and ask the verifier to re-check it against
//!   the model; the answer is the vote to sign.
//!
//! The off-chain worker never connects to a provider itself: the host's HTTP
//! client resolves names on its own, so an endpoint whose DNS record points
//! into the validator's network (rebinding) would reach it. The verifier's
//! `POST /v1/fetch` connects only to public addresses, checked after
//! resolution (`agora_worker::fetch`).
//!
//! The sampling rule that decides which receipts are audited is a consensus
//! rule: it lives in `agora_primitives::rules`.
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

use agora_primitives::{
	jobs::{FETCH_HEADER, FETCH_TIMEOUT_MS},
	rules::content_hash,
	AuditError, AuditInput as Input, AuditJob, AuditVote, FetchRequest, OffchainAudit, VerifyRequest,
};
use alloc::{format, vec::Vec};
use codec::Encode;
use sp_runtime::offchain::{http, Duration};

/// Largest output or input a committee member downloads (bytes).
pub const MAX_FETCH: usize = 4 * 1024 * 1024;

/// How long the off-chain worker waits for its verifier's fetch: the
/// provider's whole deadline ([`FETCH_TIMEOUT_MS`], connect, headers and every
/// byte of the body) and a margin. A provider that sends headers and then
/// stalls costs its own check this long, nothing more.
pub const FETCH_WAIT_MS: u64 = FETCH_TIMEOUT_MS + 5_000;

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

/// Has the verifier at `verifier` `GET url` (with `read_auth` as the
/// [`agora_primitives::jobs::READ_HEADER`] when not empty): `Ok(Some(body))`
/// for a 200 answer of at most `cap` bytes within [`FETCH_TIMEOUT_MS`];
/// `Ok(None)` when the provider did not serve it (no answer, another status,
/// more than `cap`, a stall, or no public address); `Err` when the verifier
/// itself failed (the member then casts no vote).
pub fn get(verifier: &str, url: &str, cap: usize, read_auth: &str) -> Result<Option<Vec<u8>>, AuditError> {
	let req = FetchRequest {
		url: url.as_bytes().to_vec(),
		cap: u32::try_from(cap).unwrap_or(u32::MAX),
		read_auth: read_auth.as_bytes().to_vec(),
	};
	let at = format!("{}/v1/fetch", verifier.trim_end_matches('/'));
	let d = deadline(FETCH_WAIT_MS);
	let pending = http::Request::post(&at, alloc::vec![req.encode()])
		.add_header("Content-Type", "application/scale")
		.deadline(d)
		.send()
		.map_err(|e| AuditError::Verifier(format!("{at}: {e:?}")))?;
	let mut response = pending
		.try_wait(d)
		.map_err(|_| AuditError::Verifier(format!("{at}: no answer in time")))?
		.map_err(|e| AuditError::Verifier(format!("{at}: {e:?}")))?;
	if response.code != 200 {
		return Err(AuditError::Verifier(format!("{at}: HTTP {}", response.code)));
	}
	match response.headers().find(FETCH_HEADER) {
		Some("served") => {},
		Some("failed") => return Ok(None),
		other => return Err(AuditError::Verifier(format!("{at}: fetch header {other:?}"))),
	}
	let mut reader = response.body();
	reader.deadline(d);
	let mut body = Vec::new();
	for byte in reader.by_ref() {
		body.push(byte);
		if body.len() > cap {
			// The verifier enforces the cap: a longer answer is its fault.
			return Err(AuditError::Verifier(format!("{at}: more than {cap} bytes")));
		}
	}
	if let Some(e) = reader.error() {
		return Err(AuditError::Verifier(format!("{at}: {e:?}")));
	}
	Ok(Some(body))
}

/// Fetches what the provider must serve for `job`, through the verifier at
/// `verifier`: the output, and a by-hash input. `Ok(Err(vote))` when the
/// audit is decided without the model: the provider withheld something, or
/// served an output whose hash is not the receipt's. A disputed served
/// receipt's bytes are on chain and need no fetch.
pub fn fetch(verifier: &str, job: &AuditJob) -> Result<Result<(Vec<u8>, Vec<u8>), AuditVote>, AuditError> {
	// A disputed served receipt: input and output are on chain, checked
	// against the receipt's hashes when the dispute was accepted.
	if let (Some(output), Input::Inline(input)) = (&job.output, &job.input) {
		if content_hash(output) != job.output_hash {
			return Ok(Err(AuditVote::Invalid));
		}
		return Ok(Ok((input.clone(), output.clone())));
	}
	let Ok(base) = core::str::from_utf8(&job.endpoint) else { return Ok(Err(AuditVote::Withheld)) };
	let base = base.trim_end_matches('/');
	let url = format!("{base}/v1/jobs/{}/output", job.job_id);
	let Some(output) = get(verifier, &url, output_cap(job.params.max_tokens), &job.read_auth)? else {
		return Ok(Err(AuditVote::Withheld));
	};
	if content_hash(&output) != job.output_hash {
		return Ok(Err(AuditVote::Invalid));
	}
	let input = match &job.input {
		Input::Inline(b) => b.clone(),
		Input::Hash(h) => {
			let url = format!("{base}/v1/inputs/{}", agora_primitives::jobs::hex_lower(h));
			match get(verifier, &url, MAX_FETCH, "")? {
				Some(b) if content_hash(&b) == *h => b,
				_ => return Ok(Err(AuditVote::Withheld)),
			}
		},
	};
	Ok(Ok((input, output)))
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

/// The whole check a committee member runs: fetch (by the verifier), hash
/// check, verifier.
pub fn audit(verifier: Option<&str>, job: &AuditJob) -> Result<AuditVote, AuditError> {
	let verifier = verifier.ok_or(AuditError::NoVerifier)?;
	match fetch(verifier, job)? {
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
