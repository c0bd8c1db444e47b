//! The local verifier on the real models: honest outputs (greedy on one thread
//! and on the pool, sampled under several job seeds, stock candle) pass; every
//! cheat (a swapped token, another seed's noise, truncation, padding past EOS,
//! a wrong billed count, text that is not its ids) fails with evidence.
//! `scripts/verify-adversarial.sh` runs the same classes over 50+ prompts.
use agora_engine::{
	bert::Embedder, files, llama::Backend, llama::TextGen, teacher::FullLogits, teacher::Scoring, verify, Engine, Request,
};
use agora_primitives::models::{shipped, DeterminismProfile};
use agora_worker::adversarial::{self, Case};

fn smollm() -> (TextGen, FullLogits) {
	let dir = agora_engine::models_dir().join("smollm2-135m-instruct");
	let f = files::verify(&dir, &shipped::smollm2([0u8; 32]), [0; 32], false).unwrap();
	let gen = TextGen::load(&f, &candle_core::Device::Cpu, false).unwrap();
	let full = FullLogits::load(&std::fs::read(&f.weights).unwrap(), &candle_core::Device::Cpu).unwrap();
	(gen, full)
}

fn eps() -> f32 {
	match shipped::smollm2([0u8; 32]).determinism {
		DeterminismProfile::TeacherForced { eps_milli } => eps_milli as f32 / 1000.0,
		_ => unreachable!(),
	}
}

fn req(input: &str, max_tokens: u32) -> Request {
	Request { input: input.as_bytes().to_vec(), max_tokens, temperature: 0.0, seed: [0; 32] }
}

#[test]
fn honest_claims_pass_and_every_cheat_fails() {
	let (gen, full) = smollm();
	let dir = agora_engine::models_dir().join("smollm2-135m-instruct");
	let f = files::verify(&dir, &shipped::smollm2([0u8; 32]), [0; 32], false).unwrap();
	let stock = TextGen::load_with(&f, &candle_core::Device::Cpu, false, Backend::CandleStock).unwrap();
	let eps = eps();
	let mut honest = 0;
	let mut classes = std::collections::BTreeSet::new();
	for (p, n) in [
		("What is the capital of France?", 24u32),
		("Write a short poem about the sea.", 24),
		("Answer with one word: what colour is the sky on a clear day?", 32),
	] {
		let mut cases: Vec<Case> = adversarial::honest_generations(&gen, Some(&stock), p, n, &[1, 2]).unwrap();
		cases.extend(adversarial::cheats(&gen, &full, p, n, eps, &[1, 2]).unwrap());
		for c in &cases {
			let v = adversarial::judge(&gen, &full, eps, c).unwrap();
			assert_eq!(v.valid, c.honest, "{p:?}, {}: {v:?}", c.class);
			if !c.honest {
				// The evidence names the rule and, for a step, the claimed and best tokens.
				assert!(v.evidence.get("rule").is_some(), "{}: {v:?}", c.class);
				if let Some(bad) = v.evidence.get("first_bad") {
					assert!(bad["gap"].as_f64().unwrap() > 0.0 && bad["claimed"] != bad["best"], "{v:?}");
				}
			}
			honest += usize::from(c.honest);
			classes.insert((c.class.clone(), c.honest));
		}
	}
	// 2 greedy + 4 sampled + stock per prompt; the cheats cover every class.
	assert_eq!(honest, 21);
	for class in [
		"sampled under another seed's noise",
		"truncated without EOS",
		"padded past EOS",
		"billed count inflated",
		"billed count deflated",
		"text differs from its ids",
	] {
		assert!(classes.contains(&(class.to_string(), false)), "no {class:?} case: {classes:?}");
	}
	assert!(classes.iter().any(|(c, h)| !h && c.starts_with("token swapped")), "{classes:?}");

	// Sampling is Gumbel-max with the job's public noise: the sampled token of
	// every step is the top perturbed score (within EPS/T).
	let seed = adversarial::local_seed(5);
	let ids = adversarial::prompt_ids(&gen, "Tell me a fun fact.").unwrap();
	let out = gen.generate(&ids, 24, 0.7, seed).unwrap();
	let checks = full.check(&ids, &out.tokens, &Scoring { temperature: 0.7, job_seed: seed }).unwrap();
	assert!(checks.iter().all(|c| c.gap <= eps / 0.7), "{checks:?}");
	// An output longer than max_tokens, and error receipts (0 tokens billed).
	let p = "What is the capital of France?";
	let honest = gen.run(&req(p, 24)).unwrap();
	let long = verify::GenClaim {
		input: p.as_bytes(),
		max_tokens: 2,
		temperature_milli: 0,
		job_seed: [0; 32],
		billed_tokens: honest.output_tokens,
		output: &honest.output,
	};
	let v = verify::teacher_forced(&gen, &full, &long, eps).unwrap();
	assert!(!v.valid && v.reason.contains("max_tokens"), "{v:?}");
	let err = br#"{"error":"the input is not UTF-8 text"}"#;
	let claim = |input: &'static [u8], billed| verify::GenClaim {
		input,
		max_tokens: 8,
		temperature_milli: 0,
		job_seed: [0; 32],
		billed_tokens: billed,
		output: err,
	};
	assert!(verify::teacher_forced(&gen, &full, &claim(&[0xff, 0xfe], 0), eps).unwrap().valid);
	assert!(!verify::teacher_forced(&gen, &full, &claim(&[0xff, 0xfe], 5), eps).unwrap().valid);
	assert!(!verify::teacher_forced(&gen, &full, &claim(p.as_bytes(), 0), eps).unwrap().valid);
	// Bytes that are not the {text, tokens} object.
	let raw = verify::GenClaim { output: b"Paris.", billed_tokens: 2, ..long };
	let v = verify::teacher_forced(&gen, &full, &verify::GenClaim { max_tokens: 24, ..raw }, eps).unwrap();
	assert!(!v.valid && v.evidence["rule"] == "format", "{v:?}");
}

#[test]
fn full_logits_agree_with_the_decoder() {
	let (gen, f32_teacher) = smollm();
	// The verifier's reference is the f32 model; the quantized teacher is this
	// worker's own arithmetic.
	assert_eq!(f32_teacher.kind(), "candle-f32");
	let dir = agora_engine::models_dir().join("smollm2-135m-instruct");
	let f = files::verify(&dir, &shipped::smollm2([0u8; 32]), [0; 32], false).unwrap();
	let full = FullLogits::load_quantized(&std::fs::read(&f.weights).unwrap()).unwrap();
	assert_eq!(full.kind(), "agora-kernels");
	let ids = gen.encode(&gen.prompt("Name a colour.").unwrap()).unwrap();
	let out = gen.generate(&ids, 8, 0.0, [0; 32]).unwrap();
	// The teacher-forced argmax at each position is the token greedy decoding chose
	// (or within the rounding tolerance of it), with either teacher.
	for teacher in [&full, &f32_teacher] {
		let checks = teacher.check(&ids, &out.tokens, &Scoring::greedy()).unwrap();
		assert_eq!(checks.len(), out.tokens.len());
		for c in &checks {
			assert!(c.rank == 0 || c.gap < 0.5, "{}: {c:?}", teacher.kind());
		}
	}
	// The quantized teacher's rows are the decoder's own next-token logits:
	// its first row (after the prompt) is what a prefill of the prompt gives.
	let first = full.check(&ids, &out.tokens[..1], &Scoring::greedy()).unwrap();
	let logits = gen.prompt_logits(&ids, agora_kernels::Threads::One).unwrap();
	let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
	assert_eq!(first[0].gap.to_bits(), (max - logits[out.tokens[0] as usize]).to_bits());
}

/// The cross-device harness (`adversarial --cross-device`, scripts/gpu-check.sh)
/// without a GPU: stock candle stands in for the other engine. Every honest
/// output passes both ways, the other engine's claims are kept with their
/// tokens, and a claims file judged again (`--judge-claims`) gives the same
/// verdicts; a claim whose ids were tampered with in the file fails.
#[test]
fn cross_device_claims_pass_both_ways_and_judge_the_same_from_a_file() {
	use agora_worker::cross_device::{self, Sides, StoredClaim};
	let (gen, full) = smollm();
	let dir = agora_engine::models_dir().join("smollm2-135m-instruct");
	let f = files::verify(&dir, &shipped::smollm2([0u8; 32]), [0; 32], false).unwrap();
	let stock = TextGen::load_with(&f, &candle_core::Device::Cpu, false, Backend::CandleStock).unwrap();
	let sides = Sides { cpu_gen: &gen, cpu_full: &full, gpu_gen: &stock, gpu_full: &full, gpu_name: "stock candle" };
	let prompts = vec!["Name a colour.".to_string()];
	let (tallies, claims) = cross_device::run(&sides, &prompts, 8, &[1], eps()).unwrap();
	// Greedy, T = 0.7 and T = 1 from each side.
	assert_eq!(tallies.len(), 6, "{tallies:?}");
	assert!(tallies.iter().all(|t| t.cases == 1 && t.accepted == 1 && t.errors.is_empty()), "{tallies:?}");
	assert_eq!(claims.len(), 3);
	assert!(claims.iter().all(|c| c.honest && !c.tokens.is_empty() && c.class.contains("stock candle")));
	let json = serde_json::to_vec(&claims).unwrap();
	let back: Vec<StoredClaim> = serde_json::from_slice(&json).unwrap();
	let again = cross_device::judge_file(&gen, &full, eps(), &back, "this CPU").unwrap();
	assert_eq!(again.iter().map(|t| t.accepted).sum::<u32>(), 3, "{again:?}");
	// The same file with the greedy claim's first id replaced by a token the
	// model puts far below the best: the file is judged, not trusted.
	let mut forged = back.clone();
	let greedy = forged.iter_mut().find(|c| c.temperature_milli == 0).unwrap();
	greedy.tokens[0] = 0;
	let judged = cross_device::judge_file(&gen, &full, eps(), &forged, "this CPU").unwrap();
	let bad = judged.iter().find(|t| t.class.starts_with("greedy")).unwrap();
	assert_eq!((bad.accepted, bad.rejected), (0, 1), "{judged:?}");
	assert_eq!(bad.errors.len(), 1, "an honest-labelled claim that fails is reported as a wrong verdict");
}

#[test]
fn cosine_accepts_honest_vectors_and_refuses_others() {
	let dir = agora_engine::models_dir().join("all-minilm-l6-v2");
	let f = files::verify(&dir, &shipped::minilm([0u8; 32]), [0; 32], false).unwrap();
	let emb = Embedder::load(&f, &candle_core::Device::Cpu, false).unwrap();
	let min = match shipped::minilm([0u8; 32]).determinism {
		DeterminismProfile::Cosine { min_cosine_ppm } => f64::from(min_cosine_ppm) / 1e6,
		_ => unreachable!(),
	};
	let input = b"The cat sits on the mat.";
	let mut worst = 1f64;
	for threads in ["1", "2"] {
		std::env::set_var("RAYON_NUM_THREADS", threads);
		let honest = emb.run(&Request { input: input.to_vec(), max_tokens: 1, temperature: 0.0, seed: [0; 32] }).unwrap();
		let v = verify::cosine_check(&emb, input, &honest.output, min).unwrap();
		assert!(v.valid, "{v:?}");
		worst = worst.min(v.evidence["cosine"].as_f64().unwrap());
	}
	std::env::remove_var("RAYON_NUM_THREADS");
	eprintln!("honest cosine: worst {worst:.8} (minimum {min})");
	let other = emb.run(&Request { input: b"Stock markets fell sharply today.".to_vec(), max_tokens: 1, temperature: 0.0, seed: [0; 32] }).unwrap();
	let v = verify::cosine_check(&emb, input, &other.output, min).unwrap();
	assert!(!v.valid, "{v:?}");
	assert!(!verify::cosine_check(&emb, input, b"abc", min).unwrap().valid);
	// Forged vectors: negated, truncated, unnormalised; each names its rule.
	for (class, honest, bytes) in adversarial::embedding_cases(&emb, "The cat sits on the mat.", "Stock markets fell.").unwrap() {
		let v = verify::cosine_check(&emb, input, &bytes, min).unwrap();
		assert_eq!(v.valid, honest, "{class}: {v:?}");
	}
	let v = verify::cosine_check(&emb, input, &Embedder::to_bytes(&[0.5; 383]), min).unwrap();
	assert_eq!(v.evidence["rule"], "dimension", "{v:?}");
}

/// The HTTP verifier validators' nodes call (`agora-worker verifier`): the
/// verdict is the `x-agora-verdict` header, with JSON evidence; a body that is
/// not a `VerifyRequest` is a 400, a model it does not hold a 404.
#[test]
fn the_http_verifier_answers_with_a_verdict_header() {
	use agora_primitives::{JobParams, VerifyRequest};
	use agora_worker::verifier::{router, Checker, Verifier};
	use codec::Encode;
	let (gen, full) = smollm();
	let eps = eps();
	let prompt = "What is the capital of France?";
	let honest = gen.run(&req(prompt, 24)).unwrap().output;
	let model = [7u8; 32];
	let verifier = Verifier::new(vec![(model, "SmolLM2-135M-Instruct".into(), Checker::TeacherForced { gen, full, eps })]);
	let honest_tokens = agora_primitives::jobs::GenerationOutput::from_bytes(&honest).unwrap().tokens.len() as u32;
	let request = |output: &[u8], model_id: [u8; 32], billed: u32| {
		VerifyRequest {
			job_id: 1,
			model_id,
			input: prompt.as_bytes().to_vec(),
			params: JobParams { max_tokens: 24, temperature_milli: 0, seed: 0 },
			job_seed: [0; 32],
			output_tokens: billed,
			output: output.to_vec(),
		}
		.encode()
	};
	let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
	rt.block_on(async move {
		let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
		let url = format!("http://{}/v1/verify", listener.local_addr().unwrap());
		let fetcher = std::sync::Arc::new(agora_worker::fetch::Fetcher::new(true).unwrap());
		tokio::spawn(async move { axum::serve(listener, router(std::sync::Arc::new(verifier), fetcher)).await });
		let client = reqwest::Client::new();
		let post = |body: Vec<u8>| client.post(&url).body(body).send();

		let r = post(request(&honest, model, honest_tokens)).await.unwrap();
		assert_eq!(r.status(), 200);
		assert_eq!(r.headers()[agora_primitives::jobs::VERDICT_HEADER], "valid");
		let v: serde_json::Value = r.json().await.unwrap();
		assert_eq!(v["valid"], true, "{v}");

		// The same output billed one token more: over-billing is fraud.
		let r = post(request(&honest, model, honest_tokens + 1)).await.unwrap();
		assert_eq!(r.status(), 200);
		assert_eq!(r.headers()[agora_primitives::jobs::VERDICT_HEADER], "invalid");
		let v: serde_json::Value = r.json().await.unwrap();
		assert_eq!(v["valid"], false);
		assert_eq!(v["evidence"]["rule"], "billing", "{v}");

		let r = post(b"not scale".to_vec()).await.unwrap();
		assert_eq!(r.status(), 400);
		assert!(r.headers().get(agora_primitives::jobs::VERDICT_HEADER).is_none());

		let r = post(request(&honest, [9u8; 32], honest_tokens)).await.unwrap();
		assert_eq!(r.status(), 404);
		let v: serde_json::Value = r.json().await.unwrap();
		assert!(v["error"].as_str().unwrap().contains("holds no model"), "{v}");
	});
}

/// The f32 reference sends only the checked positions through the output
/// layer: their rows are the rows a pass over every position gives.
#[test]
fn f32_rows_from_a_start_are_the_full_pass_rows() {
	let (gen, full) = smollm();
	let FullLogits::F32(f) = &full else { panic!("the reference is not f32: {}", full.kind()) };
	let ids = gen.encode(&gen.prompt("Name three rivers.").unwrap()).unwrap();
	let all = f.logits(&ids, 0).unwrap();
	for start in [1, ids.len() / 2, ids.len() - 1] {
		let part = f.logits(&ids, start).unwrap();
		assert_eq!(part.dims(), &[ids.len() - start, all.dim(1).unwrap()]);
		let want = all.narrow(0, start, ids.len() - start).unwrap();
		let diff = (part - want).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap();
		assert!(diff <= 1e-4, "start {start}: rows differ by {diff}");
	}
	assert!(f.logits(&ids, ids.len()).is_err(), "a start past the last position");
}
