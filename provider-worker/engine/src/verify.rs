//! The local verifier (docs/protocol.md §6): re-checks a claimed output against the model
//! under the model's determinism profile and says why.
//!
//! - `TeacherForced { top_k, eps_milli }` (generation): one forward pass over
//!   prompt + claimed output ([`super::teacher::FullLogits`]); every claimed token
//!   must be among the top `top_k` logits or within `eps_milli / 1000` of the
//!   maximum. Evidence: the first diverging token, its rank and logit gap, and the
//!   worst rank and gap seen.
//! - `Cosine { min_cosine_ppm }` (embeddings): the recomputed vector's cosine with
//!   the claimed one must be at least `min_cosine_ppm / 1e6`.
//! - `Exact`: the re-run output must be byte-identical.
//!
//! An error output (`{"error": …}`, 0 tokens) is valid only if the model refuses
//! the same input too.
use super::{
	bert::{cosine, Embedder},
	llama::TextGen,
	teacher::{FullLogits, TokenCheck},
	Engine, EngineError, Request,
};
use agora_primitives::models::DeterminismProfile;

/// A verifier's answer.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Verdict {
	pub valid: bool,
	/// One line: why.
	pub reason: String,
	/// The numbers behind it.
	pub evidence: serde_json::Value,
}

fn verdict(valid: bool, reason: impl Into<String>, evidence: serde_json::Value) -> Verdict {
	Verdict { valid, reason: reason.into(), evidence }
}

fn error_output(output: &[u8]) -> Option<String> {
	let v: serde_json::Value = serde_json::from_slice(output).ok()?;
	let o = v.as_object()?;
	(o.len() == 1).then(|| o.get("error")?.as_str().map(str::to_string))?
}

/// Whether the generation model refuses this input (the check an error receipt needs).
fn refusal(gen: &TextGen, input: &[u8], max_tokens: u32) -> Option<String> {
	let text = match std::str::from_utf8(input) {
		Ok(t) => t,
		Err(_) => return Some("the input is not UTF-8 text".into()),
	};
	if text.trim().is_empty() {
		return Some("the input is empty".into());
	}
	let ids = match gen.prompt(text).and_then(|p| gen.encode(&p)) {
		Ok(ids) => ids,
		Err(EngineError::Input(m)) => return Some(m),
		Err(EngineError::Internal(_)) => return None,
	};
	if max_tokens == 0 || ids.len().saturating_add(max_tokens as usize) > super::llama::CONTEXT {
		return Some("the prompt and max_tokens exceed the context".into());
	}
	None
}

/// Verifies a generation job's claimed output under `TeacherForced`.
pub fn teacher_forced(
	gen: &TextGen,
	full: &FullLogits,
	input: &[u8],
	max_tokens: u32,
	output: &[u8],
	top_k: u32,
	eps: f32,
) -> anyhow::Result<Verdict> {
	if let Some(claimed_error) = error_output(output) {
		return Ok(match refusal(gen, input, max_tokens) {
			Some(m) => verdict(true, "the model refuses this input too", serde_json::json!({"claimed": claimed_error, "recomputed": m})),
			None => verdict(false, "an error receipt for an input the model runs", serde_json::json!({"claimed": claimed_error})),
		});
	}
	if let Some(m) = refusal(gen, input, max_tokens) {
		return Ok(verdict(false, "an output for an input the model refuses", serde_json::json!({"refusal": m})));
	}
	let text = match std::str::from_utf8(output) {
		Ok(t) => t,
		Err(_) => return Ok(verdict(false, "the output is not UTF-8 text", serde_json::json!({}))),
	};
	let prompt = gen.encode(&gen.prompt(std::str::from_utf8(input)?)?)?;
	let claimed = gen.encode(text)?;
	if claimed.len() > max_tokens as usize {
		return Ok(verdict(
			false,
			"more tokens than max_tokens",
			serde_json::json!({"tokens": claimed.len(), "max_tokens": max_tokens}),
		));
	}
	// An output shorter than max_tokens claims the model stopped: its EOS must be
	// predicted too (this is what catches a truncated output).
	let mut forced = claimed.clone();
	let stopped = claimed.len() < max_tokens as usize;
	if stopped {
		forced.push(gen.eos_id());
	}
	let checks = full.check(&prompt, &forced)?;
	let bad = |c: &&TokenCheck| c.rank >= top_k && c.gap > eps;
	let worst_rank = checks.iter().map(|c| c.rank).max().unwrap_or(0);
	let worst_gap = checks.iter().map(|c| c.gap).fold(0f32, f32::max);
	let evidence = |first: Option<&TokenCheck>| {
		serde_json::json!({
			"tokens": claimed.len(),
			"eos_checked": stopped,
			"worst_rank": worst_rank,
			"worst_gap": worst_gap,
			"top_k": top_k,
			"eps": eps,
			"first_divergence": first,
		})
	};
	Ok(match checks.iter().find(bad) {
		Some(first) => verdict(
			false,
			format!("token {} ({}) is rank {} with a logit gap of {:.3}", first.index, first.token, first.rank, first.gap),
			evidence(Some(first)),
		),
		None => verdict(true, "every claimed token is within the profile", evidence(None)),
	})
}

/// Verifies an embedding job's claimed output under `Cosine`.
pub fn cosine_check(emb: &Embedder, input: &[u8], output: &[u8], min_cosine: f64) -> anyhow::Result<Verdict> {
	let req = Request { input: input.to_vec(), max_tokens: 1, temperature: 0.0, seed: 0 };
	let recomputed = match emb.run(&req) {
		Ok(r) => r,
		Err(EngineError::Input(m)) =>
			return Ok(verdict(
				error_output(output).is_some(),
				"the model refuses this input",
				serde_json::json!({"refusal": m}),
			)),
		Err(e) => anyhow::bail!("{e}"),
	};
	let Some(claimed) = Embedder::from_bytes(output) else {
		return Ok(verdict(false, "the output is not a vector of f32", serde_json::json!({"bytes": output.len()})));
	};
	let mine = Embedder::from_bytes(&recomputed.output).unwrap_or_default();
	let c = cosine(&claimed, &mine);
	Ok(verdict(
		c >= min_cosine,
		format!("cosine {c:.6} against a minimum of {min_cosine}"),
		serde_json::json!({"cosine": c, "min_cosine": min_cosine, "dims": claimed.len()}),
	))
}

/// Verifies under `Exact`: a byte-identical re-run.
pub fn exact(engine: &dyn Engine, req: &Request, output: &[u8]) -> anyhow::Result<Verdict> {
	let again = match engine.run(req) {
		Ok(r) => r.output,
		Err(EngineError::Input(m)) => serde_json::to_vec(&serde_json::json!({ "error": m }))?,
		Err(e) => anyhow::bail!("{e}"),
	};
	let same = again == output;
	Ok(verdict(
		same,
		if same { "byte-identical re-run" } else { "the re-run differs" },
		serde_json::json!({"claimed_hash": format!("0x{}", hex::encode(agora_primitives::rules::content_hash(output))), "recomputed_hash": format!("0x{}", hex::encode(agora_primitives::rules::content_hash(&again)))}),
	))
}

/// The profile's parameters as the checks take them.
pub fn tolerances(p: &DeterminismProfile) -> (u32, f32, f64) {
	match p {
		DeterminismProfile::TeacherForced { top_k, eps_milli } => (*top_k, *eps_milli as f32 / 1000.0, 1.0),
		DeterminismProfile::Cosine { min_cosine_ppm } => (0, 0.0, f64::from(*min_cosine_ppm) / 1e6),
		DeterminismProfile::Exact => (0, 0.0, 1.0),
	}
}
