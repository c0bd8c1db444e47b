//! The local verifier on the real models: honest outputs pass under 1 and 2
//! threads, forged and truncated ones fail with evidence.
use agora_primitives::models::{shipped, DeterminismProfile};
use agora_engine::{
	bert::Embedder, files, llama::TextGen, teacher::FullLogits, verify, Engine, Request,
};

fn smollm() -> (TextGen, FullLogits) {
	let dir = agora_engine::models_dir().join("smollm2-135m-instruct");
	let f = files::verify(&dir, &shipped::smollm2([0u8; 32]), [0; 32], false).unwrap();
	let gen = TextGen::load(&f, &candle_core::Device::Cpu, false).unwrap();
	let full = FullLogits::load(&std::fs::read(&f.weights).unwrap(), &candle_core::Device::Cpu).unwrap();
	(gen, full)
}

fn tf_profile() -> (u32, f32) {
	match shipped::smollm2([0u8; 32]).determinism {
		DeterminismProfile::TeacherForced { top_k, eps_milli } => (top_k, eps_milli as f32 / 1000.0),
		_ => unreachable!(),
	}
}

fn req(input: &str, max_tokens: u32) -> Request {
	Request { input: input.as_bytes().to_vec(), max_tokens, temperature: 0.0, seed: 0 }
}

#[test]
fn teacher_forcing_accepts_honest_outputs_at_1_and_2_threads_and_catches_forgeries() {
	let (gen, full) = smollm();
	let (top_k, eps) = tf_profile();
	let prompts = [
		("What is the capital of France?", 24u32),
		("Write a short poem about the sea.", 48),
		("List three prime numbers.", 16),
	];
	let mut worst_rank = 0u64;
	let mut worst_gap = 0f64;
	for threads in ["1", "2"] {
		// candle reads RAYON_NUM_THREADS on every matmul.
		std::env::set_var("RAYON_NUM_THREADS", threads);
		for (p, n) in prompts {
			let out = gen.run(&req(p, n)).unwrap();
			let v = verify::teacher_forced(&gen, &full, p.as_bytes(), n, &out.output, top_k, eps).unwrap();
			assert!(v.valid, "{threads} threads, {p:?}: {v:?}");
			worst_rank = worst_rank.max(v.evidence["worst_rank"].as_u64().unwrap());
			worst_gap = worst_gap.max(v.evidence["worst_gap"].as_f64().unwrap());
		}
	}
	std::env::remove_var("RAYON_NUM_THREADS");
	eprintln!("honest margins: worst rank {worst_rank} (top_k {top_k}), worst gap {worst_gap:.4} (eps {eps})");

	// A forged answer fails, naming the first diverging token.
	let p = "What is the capital of France?";
	let forged = b"The capital of France is Berlin, a city famous for its sausages.";
	let v = verify::teacher_forced(&gen, &full, p.as_bytes(), 64, forged, top_k, eps).unwrap();
	assert!(!v.valid, "{v:?}");
	assert!(v.evidence["first_divergence"]["rank"].as_u64().unwrap() >= u64::from(top_k));

	// A truncated honest answer fails: the model would not have stopped there.
	let honest = gen.run(&req("Write a short poem about the sea.", 48)).unwrap();
	assert!(honest.output_tokens > 12);
	let cut = gen.tokenizer().decode(&honest.tokens[..honest.tokens.len() / 2], true).unwrap();
	let v = verify::teacher_forced(&gen, &full, b"Write a short poem about the sea.", 48, cut.as_bytes(), top_k, eps)
		.unwrap();
	assert!(!v.valid, "truncated output accepted: {v:?}");
	assert_eq!(v.evidence["eos_checked"], true);

	// More tokens than max_tokens, and error receipts.
	let v = verify::teacher_forced(&gen, &full, p.as_bytes(), 2, &honest.output, top_k, eps).unwrap();
	assert!(!v.valid && v.reason.contains("max_tokens"), "{v:?}");
	let err = br#"{"error":"the input is not UTF-8 text"}"#;
	assert!(verify::teacher_forced(&gen, &full, &[0xff, 0xfe], 8, err, top_k, eps).unwrap().valid);
	assert!(!verify::teacher_forced(&gen, &full, p.as_bytes(), 8, err, top_k, eps).unwrap().valid);
}

#[test]
fn full_logits_agree_with_the_decoder() {
	let (gen, full) = smollm();
	assert_eq!(full.kind(), "agora-kernels");
	let dir = agora_engine::models_dir().join("smollm2-135m-instruct");
	let f = files::verify(&dir, &shipped::smollm2([0u8; 32]), [0; 32], false).unwrap();
	let f32_teacher = FullLogits::load_f32(&std::fs::read(&f.weights).unwrap(), &candle_core::Device::Cpu).unwrap();
	assert_eq!(f32_teacher.kind(), "candle-f32");
	let ids = gen.encode(&gen.prompt("Name a colour.").unwrap()).unwrap();
	let out = gen.generate(&ids, 8, 0.0, 0).unwrap();
	// The teacher-forced argmax at each position is the token greedy decoding chose
	// (or within the rounding tolerance of it), with either teacher.
	for teacher in [&full, &f32_teacher] {
		let checks = teacher.check(&ids, &out.tokens).unwrap();
		assert_eq!(checks.len(), out.tokens.len());
		for c in &checks {
			assert!(c.rank == 0 || c.gap < 0.5, "{}: {c:?}", teacher.kind());
		}
	}
	// The quantized teacher's rows are the decoder's own next-token logits:
	// its first row (after the prompt) is what a prefill of the prompt gives.
	let first = full.check(&ids, &out.tokens[..1]).unwrap();
	let logits = gen.prompt_logits(&ids, agora_kernels::Threads::One).unwrap();
	let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
	assert_eq!(first[0].gap.to_bits(), (max - logits[out.tokens[0] as usize]).to_bits());
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
		let honest = emb.run(&Request { input: input.to_vec(), max_tokens: 1, temperature: 0.0, seed: 0 }).unwrap();
		let v = verify::cosine_check(&emb, input, &honest.output, min).unwrap();
		assert!(v.valid, "{v:?}");
		worst = worst.min(v.evidence["cosine"].as_f64().unwrap());
	}
	std::env::remove_var("RAYON_NUM_THREADS");
	eprintln!("honest cosine: worst {worst:.8} (minimum {min})");
	let other = emb.run(&Request { input: b"Stock markets fell sharply today.".to_vec(), max_tokens: 1, temperature: 0.0, seed: 0 }).unwrap();
	let v = verify::cosine_check(&emb, input, &other.output, min).unwrap();
	assert!(!v.valid, "{v:?}");
	assert!(!verify::cosine_check(&emb, input, b"abc", min).unwrap().valid);
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
	let (top_k, eps) = tf_profile();
	let prompt = "What is the capital of France?";
	let honest = gen.run(&req(prompt, 24)).unwrap().output;
	let model = [7u8; 32];
	let verifier = Verifier::new(vec![(model, "SmolLM2-135M-Instruct".into(), Checker::TeacherForced { gen, full, top_k, eps })]);
	let request = |output: &[u8], model_id: [u8; 32]| {
		VerifyRequest {
			job_id: 1,
			model_id,
			input: prompt.as_bytes().to_vec(),
			params: JobParams { max_tokens: 24, temperature_milli: 0, seed: 0 },
			output: output.to_vec(),
		}
		.encode()
	};
	let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
	rt.block_on(async move {
		let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
		let url = format!("http://{}/v1/verify", listener.local_addr().unwrap());
		tokio::spawn(async move { axum::serve(listener, router(std::sync::Arc::new(verifier))).await });
		let client = reqwest::Client::new();
		let post = |body: Vec<u8>| client.post(&url).body(body).send();

		let r = post(request(&honest, model)).await.unwrap();
		assert_eq!(r.status(), 200);
		assert_eq!(r.headers()[agora_primitives::jobs::VERDICT_HEADER], "valid");
		let v: serde_json::Value = r.json().await.unwrap();
		assert_eq!(v["valid"], true, "{v}");

		let r = post(request(b"Purple elephants compute seventeen bananas.", model)).await.unwrap();
		assert_eq!(r.status(), 200);
		assert_eq!(r.headers()[agora_primitives::jobs::VERDICT_HEADER], "invalid");
		let v: serde_json::Value = r.json().await.unwrap();
		assert_eq!(v["valid"], false);
		assert!(v["evidence"]["first_divergence"]["rank"].as_u64().unwrap() >= u64::from(top_k), "{v}");

		let r = post(b"not scale".to_vec()).await.unwrap();
		assert_eq!(r.status(), 400);
		assert!(r.headers().get(agora_primitives::jobs::VERDICT_HEADER).is_none());

		let r = post(request(&honest, [9u8; 32])).await.unwrap();
		assert_eq!(r.status(), 404);
		let v: serde_json::Value = r.json().await.unwrap();
		assert!(v["error"].as_str().unwrap().contains("holds no model"), "{v}");
	});
}
