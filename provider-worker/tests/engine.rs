//! The engines on the real shipped models (fetched by scripts/fetch-models.sh).
use agora_primitives::models::shipped;
use agora_engine::{self as engine, bert, files, llama::TextGen, Engine, EngineError, Request};

fn smollm() -> TextGen {
	let dir = agora_engine::models_dir().join("smollm2-135m-instruct");
	let f = files::verify(&dir, &shipped::smollm2([0u8; 32]), [0; 32], false).expect("verified");
	TextGen::load(&f, &candle_core::Device::Cpu, false).expect("loads")
}

fn minilm() -> bert::Embedder {
	let dir = agora_engine::models_dir().join("all-minilm-l6-v2");
	let f = files::verify(&dir, &shipped::minilm([0u8; 32]), [0; 32], false).expect("verified");
	bert::Embedder::load(&f, &candle_core::Device::Cpu, false).expect("loads")
}

fn req(input: &str, max_tokens: u32, temperature: f64, seed: u64) -> Request {
	Request { input: input.as_bytes().to_vec(), max_tokens, temperature, seed: agora_primitives::rules::job_seed(&[0u8; 32], 0, seed) }
}

#[test]
fn generation_is_deterministic_and_follows_the_chat_template() {
	let m = smollm();
	// The GGUF's tokenizer knows the ChatML control tokens as single tokens.
	assert_eq!(m.encode("<|im_start|>").unwrap(), vec![1]);
	assert_eq!(m.encode("<|im_end|>").unwrap(), vec![2]);
	let prompt = m.prompt("What is the capital of France?").unwrap();
	assert!(
		prompt.contains("<|im_start|>user\nWhat is the capital of France?<|im_end|>"),
		"{prompt}"
	);
	assert!(prompt.ends_with("<|im_start|>assistant\n"), "{prompt}");

	// A conversation as JSON messages, with the system prompt given.
	let q = r#"{"messages": [{"role": "system", "content": "You are a helpful assistant."},
		{"role": "user", "content": "What is the capital of France?"}]}"#;
	let a = m.run(&req(q, 24, 0.0, 0)).unwrap();
	let b = m.run(&req(q, 24, 0.0, 0)).unwrap();
	assert_eq!(a.tokens, b.tokens);
	assert_eq!(a.output, b.output);
	assert!(a.output_tokens > 0 && a.output_tokens <= 24);
	let text = agora_primitives::jobs::GenerationOutput::from_bytes(&a.output).unwrap().text;
	assert!(text.contains("Paris"), "greedy SmolLM2 should name Paris: {text:?}");

	// The plain-text form (the template's default system prompt) is deterministic too.
	let c = m.run(&req("What is the capital of France?", 16, 0.0, 0)).unwrap();
	let d = m.run(&req("What is the capital of France?", 16, 0.0, 0)).unwrap();
	assert_eq!(c.tokens, d.tokens);
	assert!(c.output_tokens > 0);

	// Seeded sampling repeats under the same seed.
	let s1 = m.run(&req("Write a word.", 12, 0.8, 42)).unwrap();
	let s2 = m.run(&req("Write a word.", 12, 0.8, 42)).unwrap();
	assert_eq!(s1.tokens, s2.tokens);
	// The output commits the ids next to their text.
	let g = agora_primitives::jobs::GenerationOutput::from_bytes(&s1.output).unwrap();
	assert_eq!(g.tokens, s1.tokens);
	assert_eq!(g.text, m.tokenizer().decode(&s1.tokens, true).unwrap());
	// Sampling follows the job seed: across 8 seeds the outputs are not all one.
	let outs: std::collections::BTreeSet<Vec<u32>> =
		(1..=8).map(|s| m.run(&req("Write a word.", 12, 1.0, s)).unwrap().tokens).collect();
	assert!(outs.len() > 1, "8 seeds at T = 1.0 gave one output");
}

#[test]
fn generation_refuses_bad_inputs_with_specific_errors() {
	let m = smollm();
	let e = m.run(&Request { input: vec![0xff, 0xfe], max_tokens: 4, temperature: 0.0, seed: [0; 32] });
	assert!(matches!(e, Err(EngineError::Input(ref s)) if s.contains("UTF-8")), "{e:?}");
	let e = m.run(&req("   ", 4, 0.0, 0));
	assert!(matches!(e, Err(EngineError::Input(ref s)) if s.contains("empty")), "{e:?}");
	let e = m.run(&req("hi", 5000, 0.0, 0));
	assert!(matches!(e, Err(EngineError::Input(ref s)) if s.contains("context")), "{e:?}");
	let e = m.run(&req(r#"{"messages": [{"role": "user"}]}"#, 4, 0.0, 0));
	assert!(matches!(e, Err(EngineError::Input(ref s)) if s.contains("content")), "{e:?}");
}

#[test]
fn embedding_matches_sentence_transformers() {
	let fixture: serde_json::Value =
		serde_json::from_str(include_str!("fixtures/minilm-cat.json")).unwrap();
	let reference: Vec<f32> = fixture["vector"]
		.as_array()
		.unwrap()
		.iter()
		.map(|v| v.as_f64().unwrap() as f32)
		.collect();
	assert_eq!(reference.len(), 384);
	let m = minilm();
	let out = m.run(&req(fixture["sentence"].as_str().unwrap(), 1, 0.0, 0)).unwrap();
	assert_eq!(out.output.len(), 384 * 4);
	let v = bert::Embedder::from_bytes(&out.output).unwrap();
	let cos = bert::cosine(&v, &reference);
	assert!(cos >= 0.99, "cosine with sentence-transformers {cos}");
	let norm: f32 = v.iter().map(|x| x * x).sum::<f32>().sqrt();
	assert!((norm - 1.0).abs() < 1e-4, "not unit length: {norm}");
	// A batch gives the same vectors as one at a time.
	let batch = m
		.embed_batch(&[
			"The cat sits on the mat.",
			"A completely different, longer sentence about ships.",
		])
		.unwrap();
	assert!(bert::cosine(&batch[0], &v) > 0.9999);
	assert!(bert::cosine(&batch[0], &batch[1]) < 0.9);
}

/// Eight sentences (1 to 256 tokens, English, German, digits) against
/// sentence-transformers' vectors (tests/fixtures/minilm-set.json, made by
/// scripts/make-embedding-fixture.py --set), in one padded batch and one at a
/// time: cosine ≥ 0.999 each on the f32 and bfloat16 paths (the default);
/// with `AGORA_KERNELS=int8` (opt-in), ≥ the shipped profile's 0.99 (measured
/// worst 0.9967, the one-token sentence, on the 2-vCPU Xeon, 2026-12-06).
#[test]
fn embeddings_keep_cosine_with_sentence_transformers() {
	let min = if agora_kernels::gemm::int8_available() { 0.99 } else { 0.999 };
	let fixture: serde_json::Value =
		serde_json::from_str(include_str!("fixtures/minilm-set.json")).unwrap();
	let sentences: Vec<&str> = fixture["sentences"]
		.as_array()
		.unwrap()
		.iter()
		.map(|s| s.as_str().unwrap())
		.collect();
	let refs: Vec<Vec<f32>> = fixture["vectors"]
		.as_array()
		.unwrap()
		.iter()
		.map(|v| v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect())
		.collect();
	let m = minilm();
	let batch = m.embed_batch(&sentences).unwrap();
	let mut worst = 1f64;
	for (i, (s, r)) in sentences.iter().zip(&refs).enumerate() {
		let one = m.embed_batch(&[s]).unwrap().pop().unwrap();
		for (how, v) in [("batched", &batch[i]), ("alone", &one)] {
			let cos = bert::cosine(v, r);
			assert!(cos >= min, "sentence {i} ({how}): cosine {cos} < {min}");
			worst = worst.min(cos);
		}
	}
	println!(
		"worst cosine with sentence-transformers over {} sentences: {worst:.6} (int8 path: {})",
		sentences.len(),
		agora_kernels::gemm::int8_available()
	);
}

#[test]
fn a_corrupted_model_file_is_refused() {
	let src = agora_engine::models_dir().join("all-minilm-l6-v2");
	let dir = tempfile::tempdir().unwrap();
	for f in ["model.safetensors", "tokenizer.json"] {
		std::os::unix::fs::symlink(src.join(f), dir.path().join(f)).unwrap();
	}
	let mut cfg = std::fs::read(src.join("config.json")).unwrap();
	cfg.push(b' ');
	std::fs::write(dir.path().join("config.json"), &cfg).unwrap();
	let err = files::verify(dir.path(), &shipped::minilm([0u8; 32]), [0; 32], false)
		.unwrap_err()
		.to_string();
	assert!(err.contains("config.json"), "{err}");
	assert!(err.contains(shipped::MINILM_CONFIG_SHA256), "{err}");
	assert!(err.contains("does not match"), "{err}");
	// And the loader is never reached: `engine::load` takes only verified files.
	let _ = engine::hardware_tag(&candle_core::Device::Cpu);
}
