//! `agora-worker`: the provider side of Agora (docs/protocol.md §10).
//!
//! - `serve`: verify the model files against the chain, verify or open the offers,
//!   watch for assigned jobs, run them, store outputs, post receipts, serve outputs.
//! - `run`: one local inference with a shipped model, no chain.
//! - `bench`: inference throughput (scripts/bench-inference.sh compares it with
//!   llama.cpp and sentence-transformers).
use agora_primitives::models::{shipped, ManifestInput};
use agora_client::{
	chain,
	cli::{init_logging, KeyArgs},
	hex0x,
};
use agora_engine::{
	self as engine,
	bert::Embedder,
	files, models_dir,
	llama::{Backend, TextGen},
	Request,
};
use agora_worker::serve::{self, OfferTerms, ServeConfig};
use clap::{Parser, Subcommand};
use std::{net::SocketAddr, path::PathBuf, time::Instant};

#[derive(Parser, Debug)]
#[command(name = "agora-worker", version, about = "The Agora provider worker")]
struct Cli {
	/// Logs as JSON lines.
	#[arg(long, global = true)]
	log_json: bool,
	#[command(subcommand)]
	cmd: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
	/// Serve jobs from a node.
	Serve(ServeArgs),
	/// Run one inference locally with a shipped model.
	Run(RunArgs),
	/// Measure inference throughput (JSON on stdout).
	Bench(BenchArgs),
	/// The local verifier a validator's node asks (`--agora-verifier`): re-checks
	/// audited outputs over HTTP.
	Verifier(VerifierArgs),
	/// Re-check a claimed output against a shipped model under its determinism
	/// profile (JSON verdict with evidence on stdout; exit 0 valid, 3 invalid).
	Verify(VerifyArgs),
	/// Measure the verifier's error rates: honest outputs from every engine and
	/// every cheat, over a prompt set (markdown table; exit 4 on a wrong verdict).
	Adversarial(agora_worker::adversarial::Args),
	/// The paid API under load (`scripts/bench-channels.sh`): the voucher path
	/// alone, MiniLM alone, then 64 clients paying embeddings against a running
	/// worker (JSON on stdout).
	BenchChannels(BenchChannelsArgs),
	/// Requantize a llama GGUF's 4-bit matrices to another 4-bit format (the
	/// one fastest on this hardware); prints the new file's sha256 for its
	/// manifest (JSON on stdout).
	Requantize(RequantizeArgs),
}

#[derive(clap::Args, Debug)]
struct RequantizeArgs {
	/// The GGUF to read (e.g. the shipped SmolLM2 Q4_1 file).
	#[arg(long)]
	input: PathBuf,
	/// Where to write the requantized GGUF.
	#[arg(long)]
	output: PathBuf,
	/// The format: `Q4_0`, `IQ4_NL` or `Q4_1`.
	#[arg(long, default_value = "Q4_0")]
	to: String,
}

#[derive(clap::Args, Debug)]
struct BenchChannelsArgs {
	/// The node the worker serves (channels are opened there).
	#[arg(long, default_value = "ws://127.0.0.1:9944")]
	url: String,
	/// The worker's HTTP API.
	#[arg(long, default_value = "http://127.0.0.1:8700")]
	worker: String,
	/// Seconds of load.
	#[arg(long, default_value_t = 20)]
	secs: u64,
	/// Vouchers for the voucher-path measurement.
	#[arg(long, default_value_t = 20_000)]
	vouchers: usize,
	/// How the clients ask for their vectors (`encoding_format`): `base64`,
	/// what the official `openai` client asks for unless told otherwise, or
	/// `float` (JSON numbers).
	#[arg(long, default_value = "base64", value_parser = ["base64", "float"])]
	encoding: String,
}

#[derive(clap::Args, Debug)]
struct VerifyArgs {
	/// A shipped model: `SmolLM2-135M-Instruct` or `all-MiniLM-L6-v2`.
	#[arg(long)]
	model: String,
	/// The job's input text.
	#[arg(long)]
	input: String,
	/// The claimed output bytes (as served by the provider).
	#[arg(long)]
	output_file: PathBuf,
	/// The job's max_tokens.
	#[arg(long, default_value_t = 64)]
	max_tokens: u32,
	#[command(flatten)]
	sampling: SamplingArgs,
	/// The tokens the receipt bills (default: as many as the output holds).
	#[arg(long)]
	billed_tokens: Option<u32>,
}

#[derive(clap::Args, Debug)]
struct VerifierArgs {
	/// The node to read the models' manifests from (once, at start).
	#[arg(long, default_value = "ws://127.0.0.1:9944")]
	url: String,
	/// A model to hold: its on-chain name (or hex id) and directory, `NAME=DIR`.
	/// Repeatable. Default: both shipped models from $AGORA_MODELS.
	#[arg(long = "model", value_name = "NAME=DIR")]
	models: Vec<String>,
	/// Where the verifier listens (give the node `--agora-verifier http://ADDR`).
	#[arg(long, default_value = "127.0.0.1:8800")]
	listen: SocketAddr,
	/// Run on the CPU even in a CUDA build.
	#[arg(long)]
	cpu: bool,
	/// How long to keep trying the node at start, in seconds. A verifier
	/// started beside its node (by a service manager, `scripts/local-net.sh`)
	/// waits while the node opens its RPC, which on a busy machine can take
	/// minutes.
	#[arg(long, default_value_t = 600)]
	wait_for_node_secs: u64,
}

#[derive(clap::Args, Debug)]
struct ServeArgs {
	/// The node's WebSocket RPC.
	#[arg(long, default_value = "ws://127.0.0.1:9944")]
	url: String,
	/// The provider account (owns the offers, pays for receipts).
	#[command(flatten)]
	key: KeyArgs,
	/// The worker key's secret URI, when it is not the provider's key.
	#[arg(long)]
	worker_suri: Option<String>,
	/// A model to serve: its on-chain name (or hex id) and directory, `NAME=DIR`.
	/// Repeatable. Default: both shipped models from $AGORA_MODELS.
	#[arg(long = "model", value_name = "NAME=DIR")]
	models: Vec<String>,
	/// Where outputs and job records are kept.
	#[arg(long, default_value = "./agora-worker-data")]
	data_dir: PathBuf,
	/// Where the HTTP API listens.
	#[arg(long, default_value = "127.0.0.1:8700")]
	listen: SocketAddr,
	/// The endpoint an offer opened by this worker advertises.
	#[arg(long, default_value = "http://127.0.0.1:8700")]
	endpoint: String,
	/// Base price per job of an opened offer (AGR, or planck with a `p` suffix).
	#[arg(long, default_value = "0.001")]
	base_price: String,
	/// Price per 1,000 output tokens of an opened offer.
	#[arg(long, default_value = "0.01")]
	price_per_1k: String,
	/// Capacity of each offer: the most open jobs the chain assigns to it at
	/// once (default 4 for an opened offer). When given, existing offers are
	/// updated to it too.
	#[arg(long)]
	capacity: Option<u32>,
	/// Jobs in progress at once (acknowledge, run, receipt); the other
	/// assigned jobs wait in the worker's queue, pass jobs in weighted
	/// round-robin over their clients. Default: the offers' total capacity
	/// (every assigned job starts at once and nothing waits).
	#[arg(long)]
	concurrency: Option<u32>,
	/// Hardware tag of an opened offer (default: detected, e.g. `cpu-avx-2t`).
	#[arg(long)]
	hardware: Option<String>,
	/// Run on the CPU even in a CUDA build.
	#[arg(long)]
	cpu: bool,
	/// No progress bars.
	#[arg(long)]
	no_progress: bool,
	/// Paid serving: claim served vouchers on chain every this many seconds…
	#[arg(long, default_value_t = 120)]
	claim_every_secs: u64,
	/// …or as soon as this much is unclaimed (AGR, or planck with a `p` suffix).
	#[arg(long, default_value = "10")]
	claim_threshold: String,
	/// Refuse vouchers of a channel expiring within this many blocks; its
	/// vouchers are claimed as soon as it gets that close.
	#[arg(long, default_value_t = 100)]
	channel_margin: u64,
	/// Paid embeddings: most texts in one forward pass; requests that arrive
	/// while a batch runs make the next one.
	#[arg(long, default_value_t = agora_worker::paid::batch::MAX_BATCH as u64, value_parser = clap::value_parser!(u64).range(1..=1024))]
	embed_batch: u64,
	/// TEST BUILDS ONLY (feature `test-cheat`): sign receipts over wrong outputs,
	/// for the verification tests; generation jobs take the cheats in turn
	/// (`--cheat wrong,overbill`). A release build has no such flag.
	#[cfg(feature = "test-cheat")]
	#[arg(long, value_enum, value_delimiter = ',')]
	cheat: Vec<serve::Cheat>,
}

/// A job's sampling terms on the command line (`run`, `verify`).
#[derive(clap::Args, Debug)]
struct SamplingArgs {
	/// Sampling temperature (0 = greedy).
	#[arg(long, default_value_t = 0.0)]
	temperature: f64,
	/// A client seed: the job seed of a local run is
	/// `job_seed(32 zero bytes, job 0, SEED)` (docs/protocol.md §6).
	#[arg(long, default_value_t = 0)]
	seed: u64,
	/// The job seed itself (hex, 32 bytes), e.g. an on-chain job's, instead of `--seed`.
	#[arg(long, value_parser = agora_client::parse_h256)]
	job_seed: Option<[u8; 32]>,
}

impl SamplingArgs {
	/// `--job-seed`, or the local run's seed from `--seed`.
	fn job_seed(&self) -> [u8; 32] {
		self.job_seed.unwrap_or_else(|| agora_worker::adversarial::local_seed(self.seed))
	}
}

#[derive(clap::Args, Debug)]
struct RunArgs {
	/// A shipped model: `SmolLM2-135M-Instruct` or `all-MiniLM-L6-v2`.
	#[arg(long, default_value = "SmolLM2-135M-Instruct")]
	model: String,
	/// Its directory (default: under $AGORA_MODELS).
	#[arg(long)]
	dir: Option<PathBuf>,
	/// The input text.
	#[arg(long)]
	input: String,
	#[arg(long, default_value_t = 64)]
	max_tokens: u32,
	#[command(flatten)]
	sampling: SamplingArgs,
	/// Also write the output bytes as served (what the receipt hashes) here.
	#[arg(long)]
	output_file: Option<PathBuf>,
	#[arg(long)]
	cpu: bool,
}

#[derive(clap::Args, Debug)]
struct BenchArgs {
	/// Tokens to decode per generation run.
	#[arg(long, default_value_t = 128)]
	decode_tokens: u32,
	/// Runs per measurement (the median is reported).
	#[arg(long, default_value_t = 3)]
	runs: usize,
	#[arg(long)]
	cpu: bool,
	/// The engine: `agora` (Agora's kernels, the CPU default) or `candle-stock`
	/// (candle 0.11's own quantized llama and BERT, the reference).
	#[arg(long, value_parser = ["agora", "candle-stock"])]
	backend: Option<String>,
	/// Skip the verification-cost measurement (teacher forcing).
	#[arg(long)]
	skip_verify: bool,
	/// Measure only one model (profiling): `generation` or `embedding`.
	#[arg(long, value_parser = ["generation", "embedding"])]
	only: Option<String>,
	/// A llama GGUF to measure instead of the shipped SmolLM2 file (e.g. one
	/// made by `requantize`); read as it is, not checked against a manifest.
	#[arg(long)]
	gguf: Option<PathBuf>,
}

/// The shipped manifest and default directory of a model name.
fn shipped_model(name: &str) -> anyhow::Result<(ManifestInput<[u8; 32]>, PathBuf)> {
	let root = models_dir();
	match name {
		"SmolLM2-135M-Instruct" => {
			Ok((shipped::smollm2([0; 32]), root.join("smollm2-135m-instruct")))
		},
		"all-MiniLM-L6-v2" => Ok((shipped::minilm([0; 32]), root.join("all-minilm-l6-v2"))),
		other => anyhow::bail!(
			"`{other}` is not a shipped model (SmolLM2-135M-Instruct, all-MiniLM-L6-v2)"
		),
	}
}

fn verified(name: &str, dir: Option<PathBuf>) -> anyhow::Result<files::ModelFiles> {
	let (manifest, default_dir) = shipped_model(name)?;
	Ok(files::verify(&dir.unwrap_or(default_dir), &manifest, manifest.id(), true)?)
}

async fn bench_channels(a: BenchChannelsArgs) -> anyhow::Result<()> {
	use agora_worker::paid::load;
	let serial = load::vouchers(a.vouchers / 10, 1).await?;
	let concurrent = load::vouchers(a.vouchers, 64).await?;
	// MiniLM alone, loaded for the measurement and dropped before the load.
	let alone = || -> anyhow::Result<load::EngineReport> {
		let emb = Embedder::load(&verified("all-MiniLM-L6-v2", None)?, &engine::device(true)?, false)?;
		load::engine_baseline(&emb, 64)
	};
	let engine = alone()?;
	let e2e = load::run(&a.url, &a.worker, a.secs, &a.encoding).await?;
	// Again right after the load: this machine's speed drifts by up to 15 %
	// over minutes, so the ratio is taken against the mean of the two.
	let after = alone()?;
	let around = (engine.batched_per_sec + after.batched_per_sec) / 2.0;
	println!(
		"{}",
		serde_json::json!({
			"vouchers_serial": serial,
			"vouchers_64": concurrent,
			"engine": engine,
			"engine_after": after,
			"end_to_end": e2e,
			"ratios": {
				"vouchers_per_sec": concurrent.per_sec,
				"voucher_cost_over_batch1_inference": concurrent.amortized_us / engine.batch1_us,
				"end_to_end_over_engine_batched": e2e.per_sec / around,
			},
		})
	);
	Ok(())
}

fn run(a: RunArgs) -> anyhow::Result<()> {
	let files = verified(&a.model, a.dir)?;
	let dev = engine::device(a.cpu)?;
	let e = engine::load(&files, &dev, true)?;
	let req = Request {
		input: a.input.into_bytes(),
		max_tokens: a.max_tokens,
		temperature: a.sampling.temperature,
		seed: a.sampling.job_seed(),
	};
	let out = e.run(&req)?;
	if let Some(p) = &a.output_file {
		std::fs::write(p, &out.output).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?;
	}
	match e.task() {
		agora_primitives::models::TaskKind::TextGeneration => {
			let text = agora_primitives::jobs::GenerationOutput::from_bytes(&out.output)
				.map(|g| g.text)
				.unwrap_or_else(|| String::from_utf8_lossy(&out.output).into_owned());
			println!("{text}")
		},
		agora_primitives::models::TaskKind::Embedding => {
			println!("{}", serde_json::to_string(&Embedder::from_bytes(&out.output))?)
		},
	}
	eprintln!(
		"{} prompt tokens in {:.3} s, {} output tokens in {:.3} s, output blake2_256 {}",
		out.prompt_tokens,
		out.prompt_secs,
		out.output_tokens,
		out.decode_secs,
		hex0x(&agora_primitives::rules::content_hash(&out.output))
	);
	Ok(())
}

fn adversarial(a: agora_worker::adversarial::Args) -> anyhow::Result<()> {
	use agora_worker::adversarial;
	let dev = candle_core::Device::Cpu;
	let lm_files = verified("SmolLM2-135M-Instruct", None)?;
	let gen = TextGen::load_with(&lm_files, &dev, false, Backend::Agora)?;
	if a.cross_device || a.judge_claims.is_some() {
		return cross_device(&a, &lm_files, &gen);
	}
	let stock = TextGen::load_with(&lm_files, &dev, false, Backend::CandleStock)?;
	let full = engine::teacher::FullLogits::load(&std::fs::read(&lm_files.weights)?, &dev)?;
	let emb = Embedder::load(&verified("all-MiniLM-L6-v2", None)?, &dev, false)?;
	let (eps, _) = engine::verify::tolerances(&shipped::smollm2([0u8; 32]).determinism);
	let (_, min_cos) = engine::verify::tolerances(&shipped::minilm([0u8; 32]).determinism);
	let t0 = Instant::now();
	let tallies = adversarial::run(&a, &gen, &stock, &full, &emb, eps, min_cos)?;
	if tallies.is_empty() {
		return Ok(()); // --dump-prompts
	}
	eprintln!("[adversarial] {:.0} s", t0.elapsed().as_secs_f64());
	report(&tallies, eps, a.markdown.as_deref())
}

/// Prints the table (and writes it to `markdown`); exits 4 on any wrong verdict.
fn report(tallies: &[agora_worker::adversarial::Tally], eps: f32, markdown: Option<&std::path::Path>) -> anyhow::Result<()> {
	let table = agora_worker::adversarial::markdown(tallies, eps);
	println!("{table}");
	if let Some(p) = markdown {
		std::fs::write(p, &table)?;
	}
	let wrong: Vec<&String> = tallies.iter().flat_map(|t| &t.errors).collect();
	for w in &wrong {
		eprintln!("wrong verdict: {w}");
	}
	if !wrong.is_empty() {
		std::process::exit(4);
	}
	Ok(())
}

/// `adversarial --cross-device` and `--judge-claims` (scripts/gpu-check.sh).
fn cross_device(a: &agora_worker::adversarial::Args, lm_files: &files::ModelFiles, gen: &TextGen) -> anyhow::Result<()> {
	use agora_worker::{adversarial, cross_device};
	let weights = std::fs::read(&lm_files.weights)?;
	let full = engine::teacher::FullLogits::load(&weights, &candle_core::Device::Cpu)?;
	let (eps, _) = engine::verify::tolerances(&shipped::smollm2([0u8; 32]).determinism);
	let t0 = Instant::now();
	let cpu = std::fs::read_to_string("/proc/cpuinfo")
		.ok()
		.and_then(|c| c.lines().find(|l| l.starts_with("model name")).and_then(|l| l.split(':').nth(1)).map(|m| m.trim().to_string()))
		.unwrap_or_else(|| "this CPU".into());
	let tallies = if let Some(path) = &a.judge_claims {
		let claims: Vec<cross_device::StoredClaim> =
			serde_json::from_slice(&std::fs::read(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?)?;
		cross_device::judge_file(gen, &full, eps, &claims, &cpu)?
	} else {
		// The other side: candle on the GPU, and the verifier's reference run
		// there; without a GPU, candle's own quantized llama on this CPU.
		let gpu = engine::device(false)?;
		let name = if gpu.is_cpu() {
			eprintln!("[cross-device] no GPU (a build without --features cuda, or no device): the other side is stock candle on this CPU");
			"the CPU (stock candle)".to_string()
		} else {
			std::env::var("AGORA_GPU_NAME").map(|n| format!("CUDA ({n})")).unwrap_or_else(|_| "CUDA".into())
		};
		let gpu_gen = TextGen::load_with(lm_files, &gpu, false, Backend::CandleStock)?;
		let gpu_full = engine::teacher::FullLogits::load(&weights, &gpu)?;
		let sides = cross_device::Sides { cpu_gen: gen, cpu_full: &full, gpu_gen: &gpu_gen, gpu_full: &gpu_full, gpu_name: &name };
		let prompts = adversarial::read_prompts(&a.prompts)?;
		let (tallies, claims) = cross_device::run(&sides, &prompts, a.max_tokens, &a.seeds, eps)?;
		if let Some(p) = &a.dump_claims {
			std::fs::write(p, serde_json::to_vec(&claims)?)?;
		}
		tallies
	};
	eprintln!("[cross-device] {:.0} s", t0.elapsed().as_secs_f64());
	report(&tallies, eps, a.markdown.as_deref())
}

fn median(mut v: Vec<f64>) -> f64 {
	v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
	v.get(v.len() / 2).copied().unwrap_or(0.0)
}

/// The benchmark's fixed texts, shared with scripts/bench-inference.py.
const BENCH_PROMPT: &str = "Explain, in a few paragraphs, how a blockchain reaches agreement on the order of transactions, why validators are paid, and what happens when one of them misbehaves. Use simple words.";
const BENCH_SENTENCE: &str = "The quick brown fox jumps over the lazy dog near the river bank.";

fn bench(a: BenchArgs) -> anyhow::Result<()> {
	let dev = engine::device(a.cpu)?;
	let backend = match a.backend.as_deref() {
		Some("candle-stock") => Backend::CandleStock,
		Some(_) => Backend::Agora,
		None => Backend::default_for(&dev),
	};
	let lm_files = match &a.gguf {
		Some(path) => files::ModelFiles {
			name: path.display().to_string(),
			model_id: [0; 32],
			task: agora_primitives::models::TaskKind::TextGeneration,
			weights: path.clone(),
			tokenizer: None,
			config: None,
		},
		None => verified("SmolLM2-135M-Instruct", None)?,
	};
	let lm = TextGen::load_with(&lm_files, &dev, false, backend)?;
	let ids = lm.encode(&lm.prompt(BENCH_PROMPT)?)?;
	let generation = a.only.as_deref() != Some("embedding");
	let embedding = a.only.as_deref() != Some("generation");
	// Warm-up, then measure prefill and decode separately. Decoding ignores EOS so
	// every run decodes exactly `decode_tokens` (as llama.cpp's bench does).
	let _ = lm.generate(&ids, 4, 0.0, [0; 32])?;
	let (mut pp, mut tg) = (vec![], vec![]);
	for _ in 0..if generation { a.runs } else { 0 } {
		let r = lm.generate_n(&ids, a.decode_tokens)?;
		pp.push(r.prompt_tokens as f64 / r.prompt_secs);
		tg.push((r.output_tokens.saturating_sub(1)) as f64 / r.decode_secs);
	}
	// Verification cost: one teacher-forced pass over prompt + the claimed tokens,
	// against generating them (prefill + decode).
	// The verifier's reference (f32) is what a validator runs; on a CPU the
	// worker's own quantized kernels as a teacher are measured beside it.
	let (mut gen_s, mut ver_s, mut quant_s) = (vec![], vec![], vec![]);
	let mut teacher = "";
	if !a.skip_verify && generation {
		let bytes = std::fs::read(&lm_files.weights)?;
		let full = engine::teacher::FullLogits::load(&bytes, &dev)?;
		let quantized = if dev.is_cpu() { Some(engine::teacher::FullLogits::load_quantized(&bytes)?) } else { None };
		teacher = full.kind();
		for _ in 0..a.runs {
			let r = lm.generate_n(&ids, a.decode_tokens)?;
			gen_s.push(r.prompt_secs + r.decode_secs);
			let t0 = Instant::now();
			let _ = full.check(&ids, &r.tokens, &engine::teacher::Scoring::greedy())?;
			ver_s.push(t0.elapsed().as_secs_f64());
			if let Some(q) = &quantized {
				let t0 = Instant::now();
				let _ = q.check(&ids, &r.tokens, &engine::teacher::Scoring::greedy())?;
				quant_s.push(t0.elapsed().as_secs_f64());
			}
		}
	}
	let (gen_med, ver_med, quant_med) = (median(gen_s), median(ver_s), median(quant_s));
	let mut per_batch = serde_json::Map::new();
	let emb = if embedding { Some(Embedder::load_with(&verified("all-MiniLM-L6-v2", None)?, &dev, false, backend)?) } else { None };
	for (emb, batch) in emb.iter().flat_map(|e| [(e, 1usize), (e, 32)]) {
		let _ = emb.embed_batch(&[BENCH_SENTENCE])?;
		let sentences: Vec<&str> = std::iter::repeat_n(BENCH_SENTENCE, batch).collect();
		let mut rates = vec![];
		let rounds = if batch == 1 { 32 } else { 4 };
		for _ in 0..a.runs {
			let t0 = Instant::now();
			for _ in 0..rounds {
				let _ = emb.embed_batch(&sentences)?;
			}
			rates.push((batch * rounds) as f64 / t0.elapsed().as_secs_f64());
		}
		per_batch.insert(format!("batch_{batch}"), median(rates).into());
	}
	let threads = agora_engine::Threads::pool_size();
	println!(
		"{}",
		serde_json::json!({
			"engine": lm.backend_name(),
			"threads": threads,
			"device": engine::hardware_tag(&dev),
			"prompt_tokens": ids.len(),
			"prompt_tokens_per_s": median(pp),
			"decode_tokens": a.decode_tokens,
			"decode_tokens_per_s": median(tg),
			"embed_sentences_per_s": per_batch,
			"generate_secs": gen_med,
			"verify_teacher_forced_secs": ver_med,
			"verify_teacher": teacher,
			"verify_fraction": if gen_med > 0.0 { ver_med / gen_med } else { 0.0 },
			"verify_quantized_secs": quant_med,
			"verify_quantized_fraction": if gen_med > 0.0 { quant_med / gen_med } else { 0.0 },
		})
	);
	Ok(())
}

fn verify_cmd(a: VerifyArgs) -> anyhow::Result<()> {
	let files = verified(&a.model, None)?;
	let (manifest, _) = shipped_model(&a.model)?;
	let output = std::fs::read(&a.output_file)
		.map_err(|e| anyhow::anyhow!("{}: {e}", a.output_file.display()))?;
	let dev = candle_core::Device::Cpu;
	let (eps, min_cos) = engine::verify::tolerances(&manifest.determinism);
	let job_seed = a.sampling.job_seed();
	let v = match manifest.determinism {
		agora_primitives::models::DeterminismProfile::TeacherForced { .. } => {
			let gen = TextGen::load(&files, &dev, false)?;
			let full = engine::teacher::FullLogits::load(&std::fs::read(&files.weights)?, &dev)?;
			let billed = a.billed_tokens.unwrap_or_else(|| {
				agora_primitives::jobs::GenerationOutput::from_bytes(&output).map_or(0, |g| g.tokens.len() as u32)
			});
			let claim = engine::verify::GenClaim {
				input: a.input.as_bytes(),
				max_tokens: a.max_tokens,
				temperature_milli: agora_client::temperature_milli(a.sampling.temperature),
				job_seed,
				billed_tokens: billed,
				output: &output,
			};
			engine::verify::teacher_forced(&gen, &full, &claim, eps)?
		},
		agora_primitives::models::DeterminismProfile::Cosine { .. } => {
			let emb = Embedder::load(&files, &dev, false)?;
			engine::verify::cosine_check(&emb, a.input.as_bytes(), &output, min_cos)?
		},
		agora_primitives::models::DeterminismProfile::Exact => {
			let e = engine::load(&files, &dev, false)?;
			let req = Request {
				input: a.input.into_bytes(),
				max_tokens: a.max_tokens,
				temperature: a.sampling.temperature,
				seed: job_seed,
			};
			engine::verify::exact(e.as_ref(), &req, &output)?
		},
	};
	println!("{}", serde_json::to_string(&v)?);
	if !v.valid {
		std::process::exit(3);
	}
	Ok(())
}

fn parse_models(list: &[String]) -> anyhow::Result<Vec<(String, PathBuf)>> {
	if list.is_empty() {
		let root = models_dir();
		return Ok(vec![
			("SmolLM2-135M-Instruct".into(), root.join("smollm2-135m-instruct")),
			("all-MiniLM-L6-v2".into(), root.join("all-minilm-l6-v2")),
		]);
	}
	list.iter()
		.map(|m| {
			m.split_once('=')
				.map(|(n, d)| (n.to_string(), PathBuf::from(d)))
				.ok_or_else(|| anyhow::anyhow!("--model wants NAME=DIR, got `{m}`"))
		})
		.collect()
}

async fn verifier_cmd(a: VerifierArgs) -> anyhow::Result<()> {
	use agora_worker::verifier::{Checker, Verifier};
	let client = chain::connect_with_backoff(&a.url, std::time::Duration::from_secs(a.wait_for_node_secs)).await?;
	let device = engine::device(a.cpu)?;
	let mut held = vec![];
	for (which, dir) in parse_models(&a.models)? {
		let model = chain::View::new(&client).find_model(&which).await?;
		let (manifest, id, dev) = (model.manifest.clone(), model.id, device.clone());
		let checker = tokio::task::spawn_blocking(move || -> anyhow::Result<Checker> {
			let files = files::verify(&dir, &manifest, id, false)?;
			Checker::load(&files, &manifest.determinism, &dev)
		})
		.await??;
		tracing::info!(model = %model.name(), id = %hex0x(&id), profile = ?model.manifest.determinism, "model verified against its manifest and loaded for checking");
		held.push((id, model.name(), checker));
	}
	let verifier = std::sync::Arc::new(Verifier::new(held));
	// Providers' endpoints are fetched at public addresses only, unless the
	// chain takes private ones (dev chains).
	let private = chain::View::new(&client).private_endpoints().await?;
	tracing::info!(private_endpoints = private, "fetching providers' endpoints for the off-chain worker");
	let fetcher = std::sync::Arc::new(agora_worker::fetch::Fetcher::new(private)?);
	let listener = tokio::net::TcpListener::bind(a.listen)
		.await
		.map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", a.listen))?;
	tracing::info!(listen = %a.listen, "verifier up");
	axum::serve(listener, agora_worker::verifier::router(verifier, fetcher)).await?;
	Ok(())
}

async fn serve_cmd(a: ServeArgs) -> anyhow::Result<()> {
	let signer = a.key.keypair()?;
	let worker_key = match &a.worker_suri {
		Some(s) => chain::keypair(Some(s), None)?,
		None => signer.clone(),
	};
	serve::serve(ServeConfig {
		url: a.url,
		signer,
		worker_key,
		models: parse_models(&a.models)?,
		data_dir: a.data_dir,
		listen: a.listen,
		offer: OfferTerms {
			endpoint: a.endpoint,
			base_price: chain::parse_agr(&a.base_price)?,
			price_per_1k_tokens: chain::parse_agr(&a.price_per_1k)?,
			capacity: a.capacity,
			hardware: a.hardware,
		},
		concurrency: a.concurrency,
		cpu: a.cpu,
		progress: !a.no_progress,
		claims: agora_worker::paid::claims::Schedule {
			every: std::time::Duration::from_secs(a.claim_every_secs),
			threshold: chain::parse_agr(&a.claim_threshold)?,
		},
		channel_margin: a.channel_margin,
		embed_batch: usize::try_from(a.embed_batch)?,
		#[cfg(feature = "test-cheat")]
		cheat: a.cheat,
	})
	.await
}

fn requantize(a: RequantizeArgs) -> anyhow::Result<()> {
	let to = engine::requantize::Target::parse(&a.to)?;
	let summary = engine::requantize::requantize(&a.input, &a.output, to)?;
	println!("{}", serde_json::to_string(&summary)?);
	Ok(())
}

fn main() {
	let cli = Cli::parse();
	init_logging(cli.log_json);
	let result = match cli.cmd {
		Cmd::Run(a) => run(a),
		Cmd::Requantize(a) => requantize(a),
		Cmd::Bench(a) => bench(a),
		Cmd::Verify(a) => verify_cmd(a),
		Cmd::Adversarial(a) => adversarial(a),
		Cmd::BenchChannels(a) => tokio::runtime::Builder::new_multi_thread()
			.enable_all()
			.build()
			.map_err(anyhow::Error::from)
			.and_then(|rt| rt.block_on(bench_channels(a))),
		Cmd::Verifier(a) => tokio::runtime::Builder::new_multi_thread()
			.enable_all()
			.build()
			.map_err(anyhow::Error::from)
			.and_then(|rt| rt.block_on(verifier_cmd(a))),
		Cmd::Serve(a) => tokio::runtime::Builder::new_multi_thread()
			.enable_all()
			.build()
			.map_err(anyhow::Error::from)
			.and_then(|rt| rt.block_on(serve_cmd(a))),
	};
	if let Err(e) = result {
		eprintln!("Error: {e:#}");
		std::process::exit(1);
	}
}
