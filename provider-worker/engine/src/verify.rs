//! The local verifier (docs/protocol.md §6): re-checks a claimed output against the model
//! under the model's determinism profile and says why.
//!
//! - `TeacherForced { eps_milli }` (generation): the output is the committed
//!   `{"text", "tokens"}` object; its ids must decode to its text, their count
//!   must be the billed count and at most `max_tokens`. One forward pass over
//!   prompt + the ids ([`super::teacher::FullLogits`]) scores every step:
//!   greedy (temperature 0), each claimed token's logit must be within `EPS` of
//!   the step's maximum; sampled (`T` > 0), its perturbed score `logit / T + g`
//!   (the job's public Gumbel noise) within `EPS / T` of the step's best. An
//!   output shorter than `max_tokens` must end where EOS wins. Evidence: the
//!   first bad step, the claimed and the best token, the gap and the rule.
//! - `Cosine { min_cosine_ppm }` (embeddings): the claimed vector must have the
//!   model's dimension, be unit length (the model normalises), and have a cosine
//!   with the recomputed one of at least `min_cosine_ppm / 1e6`.
//! - `Exact`: the re-run output must be byte-identical.
//!
//! An error output (`{"error": …}`, 0 tokens) is valid only if the model refuses
//! the same input too.
use super::{
	bert::{cosine, Embedder},
	llama::TextGen,
	teacher::{FullLogits, Scoring},
	Engine, EngineError, Request,
};
use agora_primitives::{jobs::GenerationOutput, models::DeterminismProfile};

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

/// A generation job as the verifier sees it: what the chain fixed and what the
/// provider claims.
#[derive(Clone, Copy, Debug)]
pub struct GenClaim<'a> {
	pub input: &'a [u8],
	pub max_tokens: u32,
	/// × 1000; 0 = greedy.
	pub temperature_milli: u32,
	/// The job's sampling seed (keys the Gumbel noise).
	pub job_seed: [u8; 32],
	/// The tokens the receipt bills.
	pub billed_tokens: u32,
	/// The served output bytes.
	pub output: &'a [u8],
}

/// Verifies a generation job's claimed output under `TeacherForced` with
/// tolerance `eps` (logits).
pub fn teacher_forced(gen: &TextGen, full: &FullLogits, claim: &GenClaim, eps: f32) -> anyhow::Result<Verdict> {
	let GenClaim { input, max_tokens, temperature_milli, job_seed, billed_tokens, output } = *claim;
	if let Some(claimed_error) = error_output(output) {
		if billed_tokens != 0 {
			return Ok(verdict(
				false,
				format!("an error output that bills {billed_tokens} tokens"),
				serde_json::json!({"claimed": claimed_error, "billed_tokens": billed_tokens, "rule": "billing"}),
			));
		}
		return Ok(match refusal(gen, input, max_tokens) {
			Some(m) => verdict(true, "the model refuses this input too", serde_json::json!({"claimed": claimed_error, "recomputed": m})),
			None => verdict(false, "an error receipt for an input the model runs", serde_json::json!({"claimed": claimed_error})),
		});
	}
	if let Some(m) = refusal(gen, input, max_tokens) {
		return Ok(verdict(false, "an output for an input the model refuses", serde_json::json!({"refusal": m})));
	}
	let Some(GenerationOutput { text, tokens }) = GenerationOutput::from_bytes(output) else {
		return Ok(verdict(
			false,
			"the output is not a {\"text\", \"tokens\"} object",
			serde_json::json!({"bytes": output.len(), "rule": "format"}),
		));
	};
	let n = tokens.len();
	if n > max_tokens as usize {
		return Ok(verdict(
			false,
			format!("{n} tokens, more than max_tokens {max_tokens}"),
			serde_json::json!({"tokens": n, "max_tokens": max_tokens, "rule": "length"}),
		));
	}
	if n != billed_tokens as usize {
		return Ok(verdict(
			false,
			format!("the receipt bills {billed_tokens} tokens for an output of {n}"),
			serde_json::json!({"tokens": n, "billed_tokens": billed_tokens, "rule": "billing"}),
		));
	}
	let vocab = gen.tokenizer().get_vocab_size(true);
	if let Some((i, &t)) = tokens.iter().enumerate().find(|(_, &t)| t as usize >= vocab || t == gen.eos_id()) {
		let why = if t == gen.eos_id() { "EOS inside the output" } else { "a token id outside the vocabulary" };
		return Ok(verdict(
			false,
			format!("token {i} ({t}): {why}"),
			serde_json::json!({"index": i, "token": t, "vocab": vocab, "rule": "ids"}),
		));
	}
	let decoded = gen.tokenizer().decode(&tokens, true).map_err(|e| anyhow::anyhow!("tokenizer: {e}"))?;
	if decoded != text {
		return Ok(verdict(
			false,
			"the text is not what its token ids decode to",
			serde_json::json!({"decoded": decoded, "claimed": text, "rule": "ids → text"}),
		));
	}
	let prompt = gen.encode(&gen.prompt(std::str::from_utf8(input)?)?)?;
	// An output shorter than max_tokens claims the model stopped: EOS must win
	// the step after it (this is what catches a truncated output).
	let mut forced = tokens.clone();
	let stopped = n < max_tokens as usize;
	if stopped {
		forced.push(gen.eos_id());
	}
	let temperature = temperature_milli as f32 / 1000.0;
	let scoring = Scoring { temperature, job_seed };
	let tolerance = if temperature > 0.0 { eps / temperature } else { eps };
	let checks = full.check(&prompt, &forced, &scoring)?;
	let worst = checks.iter().max_by(|a, b| a.gap.total_cmp(&b.gap));
	let rule = if temperature > 0.0 {
		format!("sampled at T = {temperature}: each token's logit/T + Gumbel noise within EPS/T = {tolerance:.4} of the step's best")
	} else {
		format!("greedy: each token's logit within EPS = {eps} of the step's maximum")
	};
	let token_text = |t: u32| gen.tokenizer().decode(&[t], false).unwrap_or_default();
	Ok(match checks.iter().find(|c| c.gap > tolerance) {
		Some(first) => {
			let eos_step = stopped && first.index == n;
			let reason = if eos_step {
				format!("the output stops at step {} where EOS does not win (gap {:.3} to {:?})", first.index, first.gap, token_text(first.best))
			} else {
				format!(
					"step {}: {:?} ({}) instead of {:?} ({}), a gap of {:.3} > {tolerance:.4}",
					first.index,
					token_text(first.token),
					first.token,
					token_text(first.best),
					first.best,
					first.gap
				)
			};
			verdict(
				false,
				reason,
				serde_json::json!({
					"tokens": n,
					"eos_checked": stopped,
					"rule": rule,
					"tolerance": tolerance,
					"first_bad": {
						"index": first.index,
						"claimed": first.token,
						"claimed_text": token_text(first.token),
						"best": first.best,
						"best_text": token_text(first.best),
						"rank": first.rank,
						"gap": first.gap,
						"eos_step": eos_step,
					},
					"worst_gap": worst.map(|w| w.gap),
				}),
			)
		},
		None => verdict(
			true,
			format!("every step within tolerance (worst gap {:.4} ≤ {tolerance:.4})", worst.map_or(0.0, |w| w.gap)),
			serde_json::json!({
				"tokens": n,
				"eos_checked": stopped,
				"rule": rule,
				"tolerance": tolerance,
				"worst_gap": worst.map(|w| w.gap),
				"worst_step": worst.map(|w| w.index),
			}),
		),
	})
}

/// Verifies an embedding job's claimed output under `Cosine`.
pub fn cosine_check(emb: &Embedder, input: &[u8], output: &[u8], min_cosine: f64) -> anyhow::Result<Verdict> {
	let req = Request { input: input.to_vec(), max_tokens: 1, temperature: 0.0, seed: [0; 32] };
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
		return Ok(verdict(false, "the output is not a vector of f32", serde_json::json!({"bytes": output.len(), "rule": "format"})));
	};
	let mine = Embedder::from_bytes(&recomputed.output).unwrap_or_default();
	if claimed.len() != mine.len() {
		return Ok(verdict(
			false,
			format!("{} dimensions, the model has {}", claimed.len(), mine.len()),
			serde_json::json!({"dims": claimed.len(), "model_dims": mine.len(), "rule": "dimension"}),
		));
	}
	let norm = claimed.iter().map(|&x| f64::from(x) * f64::from(x)).sum::<f64>().sqrt();
	if (norm - 1.0).abs() > NORM_TOLERANCE || !norm.is_finite() {
		return Ok(verdict(
			false,
			format!("the vector's length is {norm:.6}; the model normalises to 1"),
			serde_json::json!({"norm": norm, "tolerance": NORM_TOLERANCE, "rule": "normalisation"}),
		));
	}
	let c = cosine(&claimed, &mine);
	Ok(verdict(
		c >= min_cosine,
		format!("cosine {c:.6} against a minimum of {min_cosine}"),
		serde_json::json!({"cosine": c, "min_cosine": min_cosine, "dims": claimed.len(), "norm": norm, "rule": "cosine"}),
	))
}

/// How far from 1 an embedding's length may be: f32 rounding of a normalised
/// 384-vector is ~1e-7; other engines' (ONNX Runtime, PyTorch) agree to ~1e-6.
pub const NORM_TOLERANCE: f64 = 1e-3;

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

/// The profile's parameters as the checks take them: (EPS in logits, minimum cosine).
pub fn tolerances(p: &DeterminismProfile) -> (f32, f64) {
	match p {
		DeterminismProfile::TeacherForced { eps_milli } => (*eps_milli as f32 / 1000.0, 1.0),
		DeterminismProfile::Cosine { min_cosine_ppm } => (0.0, f64::from(*min_cosine_ppm) / 1e6),
		DeterminismProfile::Exact => (0.0, 1.0),
	}
}
