//! The verifier's two error rates, measured (`agora-worker adversarial`,
//! `scripts/verify-adversarial.sh`, docs/verification.md): honest outputs from
//! every engine a provider may run must all pass, and every way a rational
//! provider cheats must fail.
//!
//! Honest classes: this engine greedy on one thread and on the pool, sampled at
//! T = 0.7 and 1.0 under several job seeds, stock candle greedy, and (from a
//! peers file) llama.cpp greedy on the same GGUF and sentence-transformers
//! embeddings on the same weights. Cheats: a token swapped for the 2nd–10th
//! most likely one (whenever its logit gap exceeds EPS) at an early, a middle
//! and a late step, then continued greedily; a sampled output claimed under
//! another seed's noise; truncation without EOS; padding past EOS; inflated
//! and deflated billed counts; text that is not what its ids decode to; forged,
//! negated, truncated and unnormalised embeddings.
use agora_engine::{
	bert::Embedder,
	llama::TextGen,
	teacher::FullLogits,
	verify::{self, GenClaim, Verdict},
	EngineError, Threads,
};
use agora_primitives::{jobs::GenerationOutput, rules};

/// A claim as a provider would post it: the job's terms and the served output.
#[derive(Clone, Debug)]
pub struct Claim {
	pub input: Vec<u8>,
	pub max_tokens: u32,
	pub temperature_milli: u32,
	pub job_seed: [u8; 32],
	pub billed_tokens: u32,
	pub output: Vec<u8>,
}

impl Claim {
	fn gen(&self) -> GenClaim<'_> {
		GenClaim {
			input: &self.input,
			max_tokens: self.max_tokens,
			temperature_milli: self.temperature_milli,
			job_seed: self.job_seed,
			billed_tokens: self.billed_tokens,
			output: &self.output,
		}
	}
}

/// One claim to judge, and whether an honest provider made it.
#[derive(Clone, Debug)]
pub struct Case {
	pub class: String,
	pub honest: bool,
	pub claim: Claim,
}

/// The job seed of a local run with client seed `seed` (as `agora-worker run --seed`).
pub fn local_seed(seed: u64) -> [u8; 32] {
	rules::job_seed(&[0u8; 32], 0, seed)
}

/// The served bytes of a generation: `tokens` and what they decode to.
pub fn served(gen: &TextGen, tokens: &[u32]) -> anyhow::Result<Vec<u8>> {
	let text = gen.tokenizer().decode(tokens, true).map_err(|e| anyhow::anyhow!("tokenizer: {e}"))?;
	Ok(GenerationOutput { text, tokens: tokens.to_vec() }.to_bytes())
}

fn internal(e: EngineError) -> anyhow::Error {
	anyhow::anyhow!("{e}")
}

/// The prompt ids of `input` under the model's chat template.
pub fn prompt_ids(gen: &TextGen, input: &str) -> anyhow::Result<Vec<u32>> {
	gen.encode(&gen.prompt(input).map_err(internal)?).map_err(internal)
}

/// The claim an honest provider posts for `tokens`: billed as many, served
/// with `gen`'s tokenizer (ids → text).
pub fn claim(input: &str, max_tokens: u32, temperature_milli: u32, job_seed: [u8; 32], tokens: &[u32], gen: &TextGen) -> anyhow::Result<Claim> {
	Ok(Claim {
		input: input.as_bytes().to_vec(),
		max_tokens,
		temperature_milli,
		job_seed,
		billed_tokens: tokens.len() as u32,
		output: served(gen, tokens)?,
	})
}

/// Honest generations of `input`: this engine greedy on one thread and on the
/// pool, sampled at T = 0.7 and 1.0 under each of `seeds`, and `stock`
/// (candle's own llama) greedy.
pub fn honest_generations(
	gen: &TextGen,
	stock: Option<&TextGen>,
	input: &str,
	max_tokens: u32,
	seeds: &[u64],
) -> anyhow::Result<Vec<Case>> {
	let ids = prompt_ids(gen, input)?;
	let mut cases = vec![];
	for (class, threads) in [("greedy, 1 thread", Threads::One), ("greedy, thread pool", Threads::Pool)] {
		let out = gen.generate_threads(&ids, max_tokens, 0.0, [0; 32], threads).map_err(internal)?;
		cases.push(Case { class: class.into(), honest: true, claim: claim(input, max_tokens, 0, [0; 32], &out.tokens, gen)? });
	}
	for t_milli in [700u32, 1000] {
		for &s in seeds {
			let seed = local_seed(s);
			let out = gen.generate(&ids, max_tokens, f64::from(t_milli) / 1000.0, seed).map_err(internal)?;
			cases.push(Case {
				class: format!("sampled, T = {}", f64::from(t_milli) / 1000.0),
				honest: true,
				claim: claim(input, max_tokens, t_milli, seed, &out.tokens, gen)?,
			});
		}
	}
	if let Some(stock) = stock {
		let out = stock.generate(&ids, max_tokens, 0.0, [0; 32]).map_err(internal)?;
		cases.push(Case { class: "greedy, stock candle".into(), honest: true, claim: claim(input, max_tokens, 0, [0; 32], &out.tokens, gen)? });
	}
	Ok(cases)
}

/// Greedy continuation of `prefix` (prompt ids and claimed tokens so far) for at
/// most `budget` tokens, stopping at EOS.
fn continue_greedy(gen: &TextGen, prefix: &[u32], budget: u32) -> anyhow::Result<Vec<u32>> {
	if budget == 0 {
		return Ok(vec![]);
	}
	Ok(gen.generate(prefix, budget, 0.0, [0; 32]).map_err(internal)?.tokens)
}

/// The cheats a provider could try on `input`, given the honest greedy tokens
/// and the tolerance `eps`. A swap (or a token in place of EOS) counts as a
/// cheat only when the verifier's own teacher puts it more than `eps` below the
/// step's best: within `eps` it is indistinguishable from another engine's
/// rounding, which is exactly what `eps` is there to accept.
pub fn cheats(gen: &TextGen, full: &FullLogits, input: &str, max_tokens: u32, eps: f32, seeds: &[u64]) -> anyhow::Result<Vec<Case>> {
	let ids = prompt_ids(gen, input)?;
	let honest = gen.generate(&ids, max_tokens, 0.0, [0; 32]).map_err(internal)?.tokens;
	let n = honest.len();
	let eos = gen.eos_id();
	// One teacher pass over the honest tokens (and the EOS a short output ends
	// with) gives every step's logits, as the verifier sees them.
	let mut with_eos = honest.clone();
	if (n as u32) < max_tokens {
		with_eos.push(eos);
	}
	let (rows, vocab) = full.rows(&ids, &with_eos)?;
	let teacher_row = |step: usize| &rows[step * vocab..(step + 1) * vocab];
	let mut cases = vec![];
	let cheat = |class: &str, c: Claim| Case { class: class.into(), honest: false, claim: c };

	// Substitutions at an early, a middle and a late step, ranks 2–10.
	let mut steps = vec![1.min(n.saturating_sub(1)), n / 2, n.saturating_sub(1)];
	steps.dedup();
	for (where_, pos) in ["early", "middle", "late"].iter().zip(steps) {
		if pos >= n {
			continue;
		}
		let mut prefix = ids.clone();
		prefix.extend_from_slice(&honest[..pos]);
		let logits = teacher_row(pos);
		let mut order: Vec<usize> = (0..logits.len()).collect();
		order.sort_by(|&a, &b| logits[b].total_cmp(&logits[a]));
		let max = logits[order[0]];
		for &tok in order.iter().skip(1).take(9) {
			if max - logits[tok] <= eps || tok as u32 == eos {
				continue;
			}
			let mut tokens = honest[..pos].to_vec();
			tokens.push(tok as u32);
			let mut p = prefix.clone();
			p.push(tok as u32);
			tokens.extend(continue_greedy(gen, &p, max_tokens - tokens.len() as u32)?);
			cases.push(cheat(&format!("token swapped (rank 2–10), {where_}"), claim(input, max_tokens, 0, [0; 32], &tokens, gen)?));
		}
	}

	// A sampled output claimed under another seed's noise (when the two differ).
	for pair in seeds.windows(2) {
		let (a, b) = (local_seed(pair[0]), local_seed(pair[1]));
		let ta = gen.generate(&ids, max_tokens, 0.8, a).map_err(internal)?.tokens;
		let tb = gen.generate(&ids, max_tokens, 0.8, b).map_err(internal)?.tokens;
		if ta != tb {
			cases.push(cheat("sampled under another seed's noise", claim(input, max_tokens, 800, b, &ta, gen)?));
		}
	}

	if n >= 4 {
		// Truncated without EOS: half the tokens, billed as such.
		cases.push(cheat("truncated without EOS", claim(input, max_tokens, 0, [0; 32], &honest[..n / 2], gen)?));
		// Deflated count (bills fewer than served: the receipt does not match).
		let mut c = claim(input, max_tokens, 0, [0; 32], &honest, gen)?;
		c.billed_tokens = n as u32 - 1;
		cases.push(cheat("billed count deflated", c));
	}
	if (n as u32) < max_tokens {
		// Padded past EOS: at the EOS step take the best other token and go on.
		let mut prefix = ids.clone();
		prefix.extend_from_slice(&honest);
		let logits = teacher_row(n);
		let others: Vec<f32> =
			logits.iter().enumerate().map(|(i, &l)| if i as u32 == eos { f32::NEG_INFINITY } else { l }).collect();
		let next = rules::pick_token(&others, 0.0, None).unwrap_or(0);
		if logits[eos as usize] - logits[next as usize] > eps {
			let mut tokens = honest.clone();
			tokens.push(next);
			prefix.push(next);
			let room = max_tokens.saturating_sub(tokens.len() as u32).min(8);
			tokens.extend(continue_greedy(gen, &prefix, room)?);
			cases.push(cheat("padded past EOS", claim(input, max_tokens, 0, [0; 32], &tokens, gen)?));
		}
		// Inflated count: the honest output, billed up to max_tokens.
		let mut c = claim(input, max_tokens, 0, [0; 32], &honest, gen)?;
		c.billed_tokens = max_tokens.min(n as u32 + 8);
		cases.push(cheat("billed count inflated", c));
	}
	// Text that is not what its ids decode to.
	let mut c = claim(input, max_tokens, 0, [0; 32], &honest, gen)?;
	let text = gen.tokenizer().decode(&honest, true).map_err(|e| anyhow::anyhow!("{e}"))?;
	c.output = GenerationOutput { text: format!("{text} Also, send 10 AGR to the provider."), tokens: honest.clone() }.to_bytes();
	cases.push(cheat("text differs from its ids", c));
	Ok(cases)
}

/// Embedding claims for `input`: this engine's vector (honest), and forged
/// ones: another sentence's vector, the negated vector, a truncated one, an
/// unnormalised one.
pub fn embedding_cases(emb: &Embedder, input: &str, other: &str) -> anyhow::Result<Vec<(String, bool, Vec<u8>)>> {
	let mine = emb.embed_batch(&[input, other]).map_err(internal)?;
	let (v, w) = (&mine[0], &mine[1]);
	let neg: Vec<f32> = v.iter().map(|x| -x).collect();
	let mut cut = v[..v.len() - 1].to_vec();
	let norm = cut.iter().map(|x| x * x).sum::<f32>().sqrt();
	cut.iter_mut().for_each(|x| *x /= norm);
	let scaled: Vec<f32> = v.iter().map(|x| x * 1.5).collect();
	Ok(vec![
		("embedding, this engine".into(), true, Embedder::to_bytes(v)),
		("embedding: another sentence's vector".into(), false, Embedder::to_bytes(w)),
		("embedding: negated".into(), false, Embedder::to_bytes(&neg)),
		("embedding: truncated (383 dims)".into(), false, Embedder::to_bytes(&cut)),
		("embedding: not normalised".into(), false, Embedder::to_bytes(&scaled)),
	])
}

/// Judges a generation case.
pub fn judge(gen: &TextGen, full: &FullLogits, eps: f32, case: &Case) -> anyhow::Result<Verdict> {
	verify::teacher_forced(gen, full, &case.claim.gen(), eps)
}

/// Judges `case` with `full` and adds the verdict to the tally of `class`.
pub fn judge_into(
	tallies: &mut Vec<Tally>,
	gen: &TextGen,
	full: &FullLogits,
	eps: f32,
	case: &Case,
	class: &str,
	label: &str,
) -> anyhow::Result<()> {
	let v = judge(gen, full, eps, case)?;
	tally(tallies, class, case.honest, case.claim.temperature_milli as f32 / 1000.0, &v, label);
	Ok(())
}

/// Tallies of one class.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Tally {
	pub class: String,
	pub honest: bool,
	pub cases: u32,
	pub accepted: u32,
	pub rejected: u32,
	/// Honest classes: the largest gap seen (in logits; × T for sampled), what
	/// EPS must cover. Cheats: the smallest gap of a rejected claim's first bad step.
	pub gap: Option<f32>,
	/// Wrong verdicts (an honest claim rejected, a cheat accepted), with the reason.
	pub errors: Vec<String>,
}

/// Adds one verdict to the class tallies.
pub fn tally(tallies: &mut Vec<Tally>, class: &str, honest: bool, temperature: f32, v: &Verdict, label: &str) {
	let i = match tallies.iter().position(|t| t.class == class) {
		Some(i) => i,
		None => {
			tallies.push(Tally { class: class.into(), honest, ..Default::default() });
			tallies.len() - 1
		},
	};
	let t = &mut tallies[i];
	t.cases += 1;
	let scale = if temperature > 0.0 { temperature } else { 1.0 };
	if v.valid {
		t.accepted += 1;
		if let Some(g) = v.evidence["worst_gap"].as_f64() {
			let g = g as f32 * scale;
			t.gap = Some(t.gap.map_or(g, |x| x.max(g)));
		}
	} else {
		t.rejected += 1;
		if let Some(g) = v.evidence["first_bad"]["gap"].as_f64() {
			let g = g as f32 * scale;
			t.gap = Some(t.gap.map_or(g, |x| x.min(g)));
		}
	}
	if v.valid != honest {
		t.errors.push(format!("{label}: {}", v.reason));
	}
}

/// The table, as markdown.
pub fn markdown(tallies: &[Tally], eps: f32) -> String {
	let mut s = String::from(
		"| class | claims | accepted | rejected | goal | gap (logits) |\n|---|---:|---:|---:|---|---:|\n",
	);
	for t in tallies {
		let ok = if t.honest { t.rejected == 0 } else { t.accepted == 0 };
		let goal = match (t.honest, ok) {
			(true, true) => "all accepted ✓",
			(true, false) => "all accepted ✗",
			(false, true) => "all rejected ✓",
			(false, false) => "all rejected ✗",
		};
		let gap = match (t.gap, t.honest) {
			(Some(g), true) => format!("worst {g:.3}"),
			(Some(g), false) => format!("least {g:.3}"),
			(None, _) => "–".into(),
		};
		s.push_str(&format!("| {} | {} | {} | {} | {goal} | {gap} |\n", t.class, t.cases, t.accepted, t.rejected));
	}
	let honest_bad: u32 = tallies.iter().filter(|t| t.honest).map(|t| t.rejected).sum();
	let honest_all: u32 = tallies.iter().filter(|t| t.honest).map(|t| t.cases).sum();
	let cheat_ok: u32 = tallies.iter().filter(|t| !t.honest).map(|t| t.accepted).sum();
	let cheat_all: u32 = tallies.iter().filter(|t| !t.honest).map(|t| t.cases).sum();
	s.push_str(&format!(
		"\nEPS = {eps} logits. Honest claims rejected: {honest_bad} of {honest_all}. Cheats accepted: {cheat_ok} of {cheat_all}.\n"
	));
	s
}

/// `agora-worker adversarial`: runs every honest class and every cheat over a
/// prompt set and prints the table (scripts/verify-adversarial.sh).
#[derive(clap::Args, Debug)]
pub struct Args {
	/// Prompts, one per line (blank lines and `#` comments skipped).
	#[arg(long)]
	pub prompts: std::path::PathBuf,
	/// max_tokens of every generation job.
	#[arg(long, default_value_t = 32)]
	pub max_tokens: u32,
	/// Client seeds of the sampled jobs.
	#[arg(long, value_delimiter = ',', default_value = "1,2")]
	pub seeds: Vec<u64>,
	/// Write each prompt's ids (JSON) here for the peers script and exit.
	#[arg(long)]
	pub dump_prompts: Option<std::path::PathBuf>,
	/// Honest outputs of other engines (scripts/verify-peers.py): llama.cpp
	/// token ids and sentence-transformers vectors.
	#[arg(long)]
	pub peers: Option<std::path::PathBuf>,
	/// Also write the markdown table here.
	#[arg(long)]
	pub markdown: Option<std::path::PathBuf>,
	/// Judge only the peers' outputs (llama.cpp, sentence-transformers): minutes
	/// instead of most of an hour.
	#[arg(long)]
	pub only_peers: bool,
	/// Honest outputs across hardware instead (scripts/gpu-check.sh):
	/// generations made by candle on the GPU judged by the CPU verifier, and
	/// this engine's CPU generations judged by the verifier on the GPU.
	/// Without a GPU (or a CUDA build) the other side is stock candle on this
	/// CPU.
	#[arg(long)]
	pub cross_device: bool,
	/// With --cross-device: write the GPU's claims (JSON) here.
	#[arg(long)]
	pub dump_claims: Option<std::path::PathBuf>,
	/// Judge the claims of a file written by --dump-claims with this machine's
	/// CPU verifier (the same bytes, another machine), and nothing else.
	#[arg(long)]
	pub judge_claims: Option<std::path::PathBuf>,
}

/// The prompts of a prompts file.
pub fn read_prompts(path: &std::path::Path) -> anyhow::Result<Vec<String>> {
	let text = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
	Ok(text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).map(str::to_string).collect())
}

/// Runs the measurement. `gen`/`stock`/`full`/`emb` are the shipped models;
/// returns the tallies (an `Err` only when something could not run).
pub fn run(a: &Args, gen: &TextGen, stock: &TextGen, full: &FullLogits, emb: &Embedder, eps: f32, min_cosine: f64) -> anyhow::Result<Vec<Tally>> {
	let prompts = read_prompts(&a.prompts)?;
	anyhow::ensure!(!prompts.is_empty(), "{}: no prompts", a.prompts.display());
	if let Some(out) = &a.dump_prompts {
		let list: Vec<serde_json::Value> = prompts
			.iter()
			.map(|p| Ok(serde_json::json!({"input": p, "max_tokens": a.max_tokens, "prompt_ids": prompt_ids(gen, p)?})))
			.collect::<anyhow::Result<_>>()?;
		std::fs::write(out, serde_json::to_vec(&list)?)?;
		return Ok(vec![]);
	}
	let peers: serde_json::Value = match &a.peers {
		Some(p) => serde_json::from_slice(&std::fs::read(p).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?)?,
		None => serde_json::json!({}),
	};
	let mut tallies = vec![];
	let bar = indicatif::ProgressBar::new(prompts.len() as u64);
	for (i, p) in prompts.iter().enumerate() {
		let mut cases = vec![];
		if !a.only_peers {
			cases.extend(honest_generations(gen, Some(stock), p, a.max_tokens, &a.seeds)?);
			cases.extend(cheats(gen, full, p, a.max_tokens, eps, &a.seeds)?);
		}
		if let Some(tokens) = peers["llama_cpp"].as_array().and_then(|l| l.iter().find(|x| x["input"] == p.as_str())) {
			let ids: Vec<u32> = tokens["tokens"].as_array().into_iter().flatten().filter_map(|t| t.as_u64()).map(|t| t as u32).collect();
			cases.push(Case { class: "greedy, llama.cpp (same GGUF)".into(), honest: true, claim: claim(p, a.max_tokens, 0, [0; 32], &ids, gen)? });
		}
		for c in &cases {
			judge_into(&mut tallies, gen, full, eps, c, &c.class, &format!("prompt {i} {p:?}"))?;
		}
		let other = &prompts[(i + 1) % prompts.len()];
		let mut embs = if a.only_peers { vec![] } else { embedding_cases(emb, p, other)? };
		if let Some(v) = peers["sentence_transformers"].as_array().and_then(|l| l.iter().find(|x| x["input"] == p.as_str())) {
			let v: Vec<f32> = v["vector"].as_array().into_iter().flatten().filter_map(|x| x.as_f64()).map(|x| x as f32).collect();
			embs.push(("embedding, sentence-transformers".into(), true, Embedder::to_bytes(&v)));
		}
		for (class, honest, bytes) in embs {
			let v = verify::cosine_check(emb, p.as_bytes(), &bytes, min_cosine)?;
			tally(&mut tallies, &class, honest, 0.0, &v, &format!("prompt {i} {p:?}"));
		}
		bar.inc(1);
		if bar.is_hidden() {
			eprintln!("[adversarial] prompt {} of {}", i + 1, prompts.len());
		}
	}
	bar.finish_and_clear();
	Ok(tallies)
}
