//! Agora's kernels (`agora-kernels`) against stock candle on the real SmolLM2
//! GGUF, and bit-for-bit determinism across thread counts for both shipped
//! models (verification relies on it: any honest worker must reproduce a
//! receipted output exactly).
use agora_kernels::Threads;
use agora_primitives::models::shipped;
use agora_engine::{
	files,
	llama::{Backend, TextGen},
};
use std::process::Command;

fn smollm(backend: Backend) -> TextGen {
	let dir = agora_engine::models_dir().join("smollm2-135m-instruct");
	let f = files::verify(&dir, &shipped::smollm2([0u8; 32]), [0; 32], false).expect("verified");
	TextGen::load_with(&f, &candle_core::Device::Cpu, false, backend).expect("loads")
}

/// The 20 fixed prompts of the comparison (chat-templated as the worker does).
const PROMPTS: [&str; 20] = [
	"What is the capital of France?",
	"Write a haiku about autumn leaves.",
	"Explain photosynthesis to a ten-year-old.",
	"List three prime numbers greater than 50.",
	"Translate 'good morning' into Spanish.",
	"What does a blockchain validator do?",
	"Give me a name for a friendly robot.",
	"Why is the sky blue?",
	"Summarize the plot of Romeo and Juliet in one sentence.",
	"How many legs does a spider have?",
	"Write a Python function that adds two numbers.",
	"What is 12 times 12?",
	"Describe the taste of a lemon.",
	"Suggest a healthy breakfast.",
	"What is the boiling point of water at sea level?",
	"Name the largest planet in our solar system.",
	"Write one sentence about the ocean.",
	"What is machine learning?",
	"Tell me a fun fact about octopuses.",
	"How do I make a cup of tea?",
];

/// Largest allowed |Δ| between Agora's and stock candle's next-token logits: none.
///
/// Every step reproduces candle's arithmetic: the quantized products
/// (`agora-kernels` unit tests), RMSNorm, RoPE, SwiGLU, and the attention
/// through the same `gemm` calls and candle's softmax sum order. Bit-identity
/// matters here: this model amplifies a 1e-7 change in one activation through
/// the next layer's 8-bit rounding into logit changes of about one unit —
/// stock candle differs from itself by that much between one prefill and the
/// same prompt token by token (measured below on the first prompts).
const LOGIT_TOLERANCE: f32 = 0.0;
/// Prompts also run token by token (slow on stock candle).
const SPLIT_PROMPTS: usize = 2;
/// Greedy tokens compared per prompt.
const GREEDY_TOKENS: u32 = 16;

#[test]
fn agora_kernels_match_stock_candle_on_20_prompts() {
	let ours = smollm(Backend::Agora);
	let stock = smollm(Backend::CandleStock);
	assert_eq!(ours.backend(), Backend::Agora);
	let max_diff =
		|a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0f32, f32::max);
	let argmax = |v: &[f32]| v.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map(|(i, _)| i);
	let (mut worst, mut worst_self, mut bit_identical, mut bit_identical_split) =
		(0f32, 0f32, 0, 0);
	for (i, p) in PROMPTS.iter().enumerate() {
		let ids = ours.encode(&ours.prompt(p).unwrap()).unwrap();
		let a = ours.prompt_logits(&ids, Threads::Pool).unwrap();
		let b = stock.prompt_logits(&ids, Threads::Pool).unwrap();
		assert_eq!(a.len(), b.len());
		let diff = max_diff(&a, &b);
		assert!(diff <= LOGIT_TOLERANCE, "{p:?}: max |Δlogit| {diff} > {LOGIT_TOLERANCE}");
		assert_eq!(argmax(&a), argmax(&b), "{p:?}: the next token differs");
		worst = worst.max(diff);
		bit_identical += usize::from(a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()));
		if i < SPLIT_PROMPTS {
			// Stock candle against itself: one prefill vs token by token.
			let b1 = stock.split_logits(&ids, 1, Threads::Pool).unwrap();
			worst_self = worst_self.max(max_diff(&b, &b1));
			// Token by token, Agora's engine follows candle's decode path too.
			let a1 = ours.split_logits(&ids, 1, Threads::Pool).unwrap();
			let d1 = max_diff(&a1, &b1);
			assert!(d1 <= LOGIT_TOLERANCE, "{p:?}: token by token, max |Δlogit| {d1}");
			bit_identical_split +=
				usize::from(a1.iter().zip(&b1).all(|(x, y)| x.to_bits() == y.to_bits()));
		}
		let ga = ours.generate(&ids, GREEDY_TOKENS, 0.0, [0; 32]).unwrap();
		let gb = stock.generate(&ids, GREEDY_TOKENS, 0.0, [0; 32]).unwrap();
		assert_eq!(ga.tokens, gb.tokens, "{p:?}: greedy outputs differ");
		assert_eq!(ga.output, gb.output);
		assert!(!ga.tokens.is_empty());
	}
	println!(
		"20 prompts: greedy outputs identical ({GREEDY_TOKENS} tokens); next-token logits: worst max |Δ| against stock candle {worst:.3} \
		 (tolerance {LOGIT_TOLERANCE}), {bit_identical}/20 bit-identical ({bit_identical_split}/{SPLIT_PROMPTS} token by token); \
		 stock candle's own prefill vs token-by-token spread {worst_self:.3}"
	);
}

#[test]
fn generation_is_bit_identical_on_one_thread_and_on_the_pool() {
	let m = smollm(Backend::Agora);
	for p in ["Write a short poem about the sea.", "What is 12 times 12?"] {
		let ids = m.encode(&m.prompt(p).unwrap()).unwrap();
		let one = m.prompt_logits(&ids, Threads::One).unwrap();
		let pool = m.prompt_logits(&ids, Threads::Pool).unwrap();
		assert!(
			one.iter().zip(&pool).all(|(a, b)| a.to_bits() == b.to_bits()),
			"{p:?}: logits differ"
		);
		let a = m.generate_threads(&ids, 24, 0.0, [0; 32], Threads::One).unwrap();
		let b = m.generate_threads(&ids, 24, 0.0, [0; 32], Threads::Pool).unwrap();
		assert_eq!(a.tokens, b.tokens);
		// Seeded sampling reads the logits' exact bits.
		let a = m.generate_threads(&ids, 24, 0.9, [7; 32], Threads::One).unwrap();
		let b = m.generate_threads(&ids, 24, 0.9, [7; 32], Threads::Pool).unwrap();
		assert_eq!(a.output, b.output);
	}
}

/// `agora-worker run` as a provider runs it, with 1 and with 2 threads: the
/// output hash it prints must be the same, for both shipped models.
#[test]
fn both_models_give_the_same_bits_with_one_and_two_threads() {
	let bin = env!("CARGO_BIN_EXE_agora-worker");
	let hash = |model: &str, input: &str, threads: &str, extra: &[&str]| -> String {
		let out = Command::new(bin)
			.args(["run", "--model", model, "--input", input])
			.args(extra)
			.env("RAYON_NUM_THREADS", threads)
			.env("CANDLE_NUM_THREADS", threads)
			.output()
			.expect("agora-worker runs");
		let err = String::from_utf8_lossy(&out.stderr).to_string();
		assert!(out.status.success(), "{model} with {threads} threads: {err}");
		err.lines()
			.filter_map(|l| l.split("output blake2_256 ").nth(1))
			.next_back()
			.unwrap_or_else(|| panic!("no output hash in: {err}"))
			.to_string()
	};
	let long = "A sentence long enough that the matrix products are split into several blocks: \
		validators audit a sample of receipts by re-running the model, and fraud is slashed.";
	for (model, input, extra) in [
		("SmolLM2-135M-Instruct", "Write a short poem about the sea.", &["--max-tokens", "32"][..]),
		(
			"SmolLM2-135M-Instruct",
			"Tell me a story.",
			&["--max-tokens", "24", "--temperature", "0.8", "--seed", "3"][..],
		),
		("all-MiniLM-L6-v2", "The cat sits on the mat.", &[][..]),
		("all-MiniLM-L6-v2", long, &[][..]),
	] {
		let one = hash(model, input, "1", extra);
		let two = hash(model, input, "2", extra);
		assert_eq!(one, two, "{model} {input:?}: output differs between 1 and 2 threads");
	}
}

/// A provider requantizes the shipped Q4_1 file to Q4_0 or IQ4_NL
/// (`agora-worker requantize`): the same command gives the same bytes, the
/// worker runs the new file on Agora's kernels for that format with the same
/// bits on one thread and on the pool, it still answers, and the verifier's
/// rule (the f32 reference from the same file, the shipped model's EPS)
/// accepts every greedy and sampled answer.
#[test]
fn files_requantized_to_q4_0_and_iq4_nl_run_deterministically_and_pass_the_verifier() {
	use agora_engine::{
		requantize::{requantize, Target},
		teacher::FullLogits,
		verify::{teacher_forced, tolerances, GenClaim},
	};
	let src = agora_engine::models_dir().join("smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf");
	let dir = tempfile::tempdir().unwrap();
	for to in [Target::Q4_0, Target::Iq4Nl] {
		let out = dir.path().join(format!("smollm2-{}.gguf", to.name()));
		let s = requantize(&src, &out, to).unwrap();
		// 30 layers × 7 matrices; the embedding (Q8_0) and the norms are copied.
		assert_eq!((s.quantization, s.requantized), (to.name(), 210), "{s:?}");
		assert!(s.copied > 0);
		assert!(s.bytes < std::fs::metadata(&src).unwrap().len(), "18-byte blocks, not 20: {s:?}");
		let again = requantize(&src, &dir.path().join("again.gguf"), to).unwrap();
		assert_eq!(s.sha256, again.sha256, "the same input must give the same file");
		assert!(requantize(&out, &out, to).is_err(), "overwriting the input is refused");

		let files = files::ModelFiles {
			name: format!("SmolLM2-135M-Instruct ({})", to.name()),
			model_id: [0; 32],
			task: agora_primitives::models::TaskKind::TextGeneration,
			weights: out.clone(),
			tokenizer: None,
			config: None,
		};
		let m = TextGen::load_with(&files, &candle_core::Device::Cpu, false, Backend::Agora).unwrap();
		assert!(m.backend_name().contains(to.name()), "{}", m.backend_name());
		let teacher = FullLogits::load(&std::fs::read(&out).unwrap(), &candle_core::Device::Cpu).unwrap();
		let (eps, _) = tolerances(&shipped::smollm2([0u8; 32]).determinism);
		let mut worst = 0f64;
		for (i, p) in PROMPTS.iter().take(6).enumerate() {
			let ids = m.encode(&m.prompt(p).unwrap()).unwrap();
			for temperature in [0.0, 0.8] {
				let seed = agora_primitives::rules::job_seed(&[0u8; 32], i as u64, 1);
				let one = m.generate_threads(&ids, 24, temperature, seed, Threads::One).unwrap();
				let pool = m.generate_threads(&ids, 24, temperature, seed, Threads::Pool).unwrap();
				assert_eq!(one.output, pool.output, "{p:?} at T = {temperature}");
				if i == 0 && temperature == 0.0 {
					let text = agora_primitives::jobs::GenerationOutput::from_bytes(&one.output).unwrap().text;
					assert!(text.contains("Paris"), "{}: {text:?}", to.name());
				}
				let claim = GenClaim {
					input: p.as_bytes(),
					max_tokens: 24,
					temperature_milli: (temperature * 1000.0) as u32,
					job_seed: seed,
					billed_tokens: one.output_tokens,
					output: &one.output,
				};
				let v = teacher_forced(&m, &teacher, &claim, eps).unwrap();
				assert!(v.valid, "{}: {p:?} at T = {temperature}: {} {}", to.name(), v.reason, v.evidence);
				if let Some(g) = v.evidence.get("worst_gap").and_then(|g| g.as_f64()) {
					worst = worst.max(g);
				}
			}
		}
		eprintln!("{}: 12 answers accepted, worst honest gap {worst:.3} (EPS {eps})", to.name());
	}
	// Candle's own engine cannot read IQ4_NL: a clear refusal, not a crash.
	let files = files::ModelFiles {
		name: "iq4".into(),
		model_id: [0; 32],
		task: agora_primitives::models::TaskKind::TextGeneration,
		weights: dir.path().join("smollm2-IQ4_NL.gguf"),
		tokenizer: None,
		config: None,
	};
	let err = TextGen::load_with(&files, &candle_core::Device::Cpu, false, Backend::CandleStock).err().unwrap();
	assert!(err.to_string().contains("candle cannot load this file"), "{err}");
}
