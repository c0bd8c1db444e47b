//! Honest outputs across hardware (`agora-worker adversarial --cross-device`,
//! `scripts/gpu-check.sh`): a provider serving on a GPU and a validator
//! verifying on a CPU (or the other way round) must agree that honest work is
//! honest. Generations made by candle on CUDA are judged by the CPU verifier,
//! and this engine's CPU generations by the verifier running on CUDA; the
//! GPU's claims are also written out (`--dump-claims`) so that any other
//! machine's verifier can judge the very same bytes again (`--judge-claims`).
use crate::adversarial::{self, Case, Tally};
use agora_engine::{llama::TextGen, teacher::FullLogits};
use agora_primitives::jobs::GenerationOutput;
use serde::{Deserialize, Serialize};

/// A claim as written to a claims file: enough to rebuild the served bytes.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StoredClaim {
	pub class: String,
	pub honest: bool,
	pub input: String,
	pub max_tokens: u32,
	pub temperature_milli: u32,
	/// The job seed, hex.
	pub job_seed: String,
	pub tokens: Vec<u32>,
}

impl StoredClaim {
	/// The claim of an honest case: its ids are those its served output commits.
	fn of(case: &Case) -> anyhow::Result<Self> {
		let tokens = GenerationOutput::from_bytes(&case.claim.output)
			.ok_or_else(|| anyhow::anyhow!("{}: not a generation output", case.class))?
			.tokens;
		Ok(StoredClaim {
			class: case.class.clone(),
			honest: case.honest,
			input: String::from_utf8_lossy(&case.claim.input).into_owned(),
			max_tokens: case.claim.max_tokens,
			temperature_milli: case.claim.temperature_milli,
			job_seed: hex::encode(case.claim.job_seed),
			tokens,
		})
	}

	/// The case again, served by `gen`'s tokenizer (ids → text).
	pub fn case(&self, gen: &TextGen) -> anyhow::Result<Case> {
		let seed: [u8; 32] = hex::decode(&self.job_seed)?
			.try_into()
			.map_err(|_| anyhow::anyhow!("job_seed: 32 bytes expected"))?;
		let claim = adversarial::claim(
			&self.input,
			self.max_tokens,
			self.temperature_milli,
			seed,
			&self.tokens,
			gen,
		)?;
		Ok(Case { class: self.class.clone(), honest: self.honest, claim })
	}
}

/// The engines of a cross-device run: generation and the verifier's teacher on
/// each side.
pub struct Sides<'a> {
	pub cpu_gen: &'a TextGen,
	pub cpu_full: &'a FullLogits,
	pub gpu_gen: &'a TextGen,
	pub gpu_full: &'a FullLogits,
	/// Names the other side in the class labels (e.g. "CUDA").
	pub gpu_name: &'a str,
}

/// Greedy and sampled generations of `input` by `gen` (stock or this engine),
/// as honest cases labelled `made_by`, served with `tokenizer`.
fn generations(
	gen: &TextGen,
	tokenizer: &TextGen,
	made_by: &str,
	input: &str,
	max_tokens: u32,
	seeds: &[u64],
) -> anyhow::Result<Vec<Case>> {
	let ids = adversarial::prompt_ids(tokenizer, input)?;
	let mut runs = vec![(0u32, [0u8; 32])];
	for t in [700u32, 1000] {
		runs.extend(seeds.iter().map(|&s| (t, adversarial::local_seed(s))));
	}
	let mut out = vec![];
	for (t_milli, seed) in runs {
		let temperature = f64::from(t_milli) / 1000.0;
		let inf = gen
			.generate(&ids, max_tokens, temperature, seed)
			.map_err(|e| anyhow::anyhow!("{e}"))?;
		let kind =
			if t_milli == 0 { "greedy".to_string() } else { format!("sampled, T = {temperature}") };
		out.push(Case {
			class: format!("{kind}, {made_by}"),
			honest: true,
			claim: adversarial::claim(input, max_tokens, t_milli, seed, &inf.tokens, tokenizer)?,
		});
	}
	Ok(out)
}

/// Runs both directions over `prompts`; returns the tallies and the GPU's
/// claims (for `--dump-claims`).
pub fn run(
	sides: &Sides<'_>,
	prompts: &[String],
	max_tokens: u32,
	seeds: &[u64],
	eps: f32,
) -> anyhow::Result<(Vec<Tally>, Vec<StoredClaim>)> {
	let mut tallies = vec![];
	let mut stored = vec![];
	for (i, p) in prompts.iter().enumerate() {
		let label = format!("prompt {i} {p:?}");
		let made = format!("made on {}, judged by the CPU verifier", sides.gpu_name);
		for case in generations(sides.gpu_gen, sides.cpu_gen, &made, p, max_tokens, seeds)? {
			adversarial::judge_into(
				&mut tallies,
				sides.cpu_gen,
				sides.cpu_full,
				eps,
				&case,
				&case.class,
				&label,
			)?;
			stored.push(StoredClaim::of(&case)?);
		}
		let made = format!("made by this engine (CPU), judged on {}", sides.gpu_name);
		for case in generations(sides.cpu_gen, sides.cpu_gen, &made, p, max_tokens, seeds)? {
			adversarial::judge_into(
				&mut tallies,
				sides.cpu_gen,
				sides.gpu_full,
				eps,
				&case,
				&case.class,
				&label,
			)?;
		}
		if (i + 1) % 10 == 0 {
			eprintln!("[cross-device] prompt {} of {}", i + 1, prompts.len());
		}
	}
	Ok((tallies, stored))
}

/// Judges the claims of a claims file with `full` (this machine's verifier).
pub fn judge_file(
	gen: &TextGen,
	full: &FullLogits,
	eps: f32,
	claims: &[StoredClaim],
	judged_on: &str,
) -> anyhow::Result<Vec<Tally>> {
	let mut tallies = vec![];
	for (i, c) in claims.iter().enumerate() {
		let case = c.case(gen)?;
		let class = format!("{} (again, on {judged_on})", case.class);
		adversarial::judge_into(
			&mut tallies,
			gen,
			full,
			eps,
			&case,
			&class,
			&format!("claim {i} {:?}", c.input),
		)?;
	}
	Ok(tallies)
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn stored_claim_round_trips_through_json() {
		let c = StoredClaim {
			class: "greedy, made on CUDA".into(),
			honest: true,
			input: "hi".into(),
			max_tokens: 8,
			temperature_milli: 700,
			job_seed: hex::encode([7u8; 32]),
			tokens: vec![1, 2, 3],
		};
		let back: StoredClaim = serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
		assert_eq!(back.tokens, vec![1, 2, 3]);
		assert_eq!(back.temperature_milli, 700);
		assert_eq!(hex::decode(&back.job_seed).unwrap(), vec![7u8; 32]);
	}
}
