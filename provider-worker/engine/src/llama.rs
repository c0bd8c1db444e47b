//! Text generation: a llama-architecture GGUF (SmolLM2-135M-Instruct, Q4_1 or requantized to Q4_0),
//! with the tokenizer and chat template built from the GGUF's own metadata.
//!
//! Two backends compute the same function: on the CPU, Agora's quantized llama
//! (`agora_kernels::qllama`, its own kernels; the default), and candle's stock
//! `quantized_llama` (CUDA, or `AGORA_ENGINE=candle-stock`; the reference the
//! tests and `scripts/bench-inference.sh` compare against).
use super::{files::ModelFiles, Engine, EngineError, Inference, Request};
use agora_kernels::{qllama::QLlama, Threads};
use agora_primitives::{jobs::GenerationOutput, models::TaskKind, rules};
use candle_core::{quantized::gguf_file, Device, Tensor};
use candle_transformers::models::quantized_llama::{ModelWeights, MAX_SEQ_LEN};
use std::{io::Read, time::Instant};
use tokenizers::{
	decoders::byte_level::ByteLevel as ByteLevelDecoder,
	models::bpe::BPE,
	pre_tokenizers::{byte_level::ByteLevel, digits::Digits, sequence::Sequence},
	AddedToken, Tokenizer,
};

/// The context a job may use: prompt tokens + `max_tokens` (candle's rope table).
pub const CONTEXT: usize = MAX_SEQ_LEN;

/// Which implementation runs the model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
	/// Agora's kernels (`agora_kernels::qllama`); CPU only.
	Agora,
	/// candle 0.11's `quantized_llama::ModelWeights` (any device).
	CandleStock,
}

impl Backend {
	/// The default for `device`: Agora's kernels on the CPU unless
	/// `AGORA_ENGINE=candle-stock`; candle's on CUDA.
	pub fn default_for(device: &Device) -> Backend {
		let stock = std::env::var("AGORA_ENGINE").is_ok_and(|v| v == "candle-stock");
		if device.is_cpu() && !stock {
			Backend::Agora
		} else {
			Backend::CandleStock
		}
	}
}

impl Backend {
	/// Refuses Agora's kernels on a device other than the CPU.
	pub fn ensure_runs_on(self, device: &Device) -> anyhow::Result<()> {
		anyhow::ensure!(
			self == Backend::CandleStock || device.is_cpu(),
			"Agora's kernels run on the CPU; use the candle-stock backend on {device:?}"
		);
		Ok(())
	}
}

enum Weights {
	Agora(QLlama),
	Stock(ModelWeights),
}

/// A loaded GGUF text-generation model.
pub struct TextGen {
	name: String,
	weights: Weights,
	tokenizer: Tokenizer,
	chat_template: Option<String>,
	bos: Option<String>,
	eos_id: u32,
	eos: String,
	device: Device,
}

fn md<'a>(ct: &'a gguf_file::Content, key: &str) -> anyhow::Result<&'a gguf_file::Value> {
	ct.metadata
		.get(key)
		.ok_or_else(|| anyhow::anyhow!("GGUF metadata has no `{key}`"))
}

/// Builds the tokenizer the GGUF describes: GPT-2 byte-level BPE from
/// `tokenizer.ggml.tokens`/`merges`, with the control tokens (type 3) as special tokens.
pub fn tokenizer_from_gguf(ct: &gguf_file::Content) -> anyhow::Result<Tokenizer> {
	let model = md(ct, "tokenizer.ggml.model")?.to_string()?;
	anyhow::ensure!(
		model == "gpt2",
		"tokenizer model `{model}` is not supported (gpt2 byte-level BPE)"
	);
	let pre = ct
		.metadata
		.get("tokenizer.ggml.pre")
		.and_then(|v| v.to_string().ok())
		.cloned()
		.unwrap_or_else(|| "default".into());
	let tokens: Vec<String> = md(ct, "tokenizer.ggml.tokens")?
		.to_vec()?
		.iter()
		.map(|v| v.to_string().cloned())
		.collect::<Result<_, _>>()?;
	let merges: Vec<(String, String)> = md(ct, "tokenizer.ggml.merges")?
		.to_vec()?
		.iter()
		.map(|v| {
			let s = v.to_string()?;
			s.split_once(' ')
				.map(|(a, b)| (a.to_string(), b.to_string()))
				.ok_or_else(|| candle_core::Error::Msg(format!("bad merge `{s}`")))
		})
		.collect::<Result<_, _>>()?;
	let types: Vec<i32> = match ct.metadata.get("tokenizer.ggml.token_type") {
		Some(v) => v.to_vec()?.iter().map(|t| t.to_i32()).collect::<Result<_, _>>()?,
		None => vec![],
	};
	let vocab: tokenizers::models::bpe::Vocab =
		tokens.iter().enumerate().map(|(i, t)| (t.clone(), i as u32)).collect();
	let bpe = BPE::builder()
		.vocab_and_merges(vocab, merges)
		.build()
		.map_err(|e| anyhow::anyhow!("building the BPE model: {e}"))?;
	let mut tok = Tokenizer::new(bpe);
	// SmolLM's pre-tokenizer (llama.cpp `smollm`): digits split one by one, then GPT-2's.
	let byte_level = ByteLevel::new(false, true, true);
	match pre.as_str() {
		"smollm" => {
			tok.with_pre_tokenizer(Some(Sequence::new(vec![
				Digits::new(true).into(),
				byte_level.into(),
			])));
		},
		"gpt2" | "default" => {
			tok.with_pre_tokenizer(Some(byte_level));
		},
		other => anyhow::bail!("pre-tokenizer `{other}` is not supported (smollm, gpt2)"),
	}
	tok.with_decoder(Some(ByteLevelDecoder::default()));
	let special: Vec<AddedToken> = tokens
		.iter()
		.zip(types.iter())
		.filter(|(_, t)| **t == 3 || **t == 4)
		.map(|(s, _)| AddedToken::from(s.clone(), true))
		.collect();
	tok.add_special_tokens(special)
		.map_err(|e| anyhow::anyhow!("adding special tokens: {e}"))?;
	Ok(tok)
}

fn read_all(path: &std::path::Path, progress: bool) -> anyhow::Result<Vec<u8>> {
	let f = std::fs::File::open(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
	let len = f.metadata()?.len();
	let bar = super::files::progress_bar(
		progress,
		len,
		&format!("loading {}", path.file_name().unwrap_or_default().to_string_lossy()),
	);
	let mut buf = Vec::with_capacity(len as usize);
	bar.wrap_read(f).read_to_end(&mut buf)?;
	bar.finish_and_clear();
	Ok(buf)
}

impl TextGen {
	/// Loads the GGUF named by `files` onto `device` with the device's default backend.
	pub fn load(files: &ModelFiles, device: &Device, progress: bool) -> anyhow::Result<Self> {
		Self::load_with(files, device, progress, Backend::default_for(device))
	}

	/// Loads the GGUF named by `files` onto `device` with `backend`.
	pub fn load_with(
		files: &ModelFiles,
		device: &Device,
		progress: bool,
		backend: Backend,
	) -> anyhow::Result<Self> {
		backend.ensure_runs_on(device)?;
		let bytes = read_all(&files.weights, progress)?;
		let mut cur = std::io::Cursor::new(bytes);
		let g = agora_kernels::gguf::read(cur.get_ref())
			.map_err(|e| anyhow::anyhow!("{}: not a GGUF file: {e}", files.weights.display()))?;
		let ct = &g.content;
		let tokenizer = tokenizer_from_gguf(ct)?;
		let token = |key: &str| -> anyhow::Result<Option<String>> {
			match ct.metadata.get(key) {
				None => Ok(None),
				Some(v) => {
					let id = v.to_u32()?;
					Ok(tokenizer.id_to_token(id))
				},
			}
		};
		let eos_id = md(ct, "tokenizer.ggml.eos_token_id")?.to_u32()?;
		let eos = token("tokenizer.ggml.eos_token_id")?.unwrap_or_default();
		let bos = token("tokenizer.ggml.bos_token_id")?;
		let chat_template = ct
			.metadata
			.get("tokenizer.chat_template")
			.and_then(|v| v.to_string().ok())
			.cloned();
		let weights = match backend {
			Backend::Agora => Weights::Agora(QLlama::from_gguf(&g, cur.get_ref(), CONTEXT)?),
			Backend::CandleStock => {
				// Candle reads the whole file itself (and refuses types it does
				// not know, such as IQ4_NL).
				let full = gguf_file::Content::read(&mut cur).map_err(|e| {
					anyhow::anyhow!("{}: candle cannot load this file: {e}", files.weights.display())
				})?;
				Weights::Stock(ModelWeights::from_gguf(full, &mut cur, device)?)
			},
		};
		Ok(Self {
			name: files.name.clone(),
			weights,
			tokenizer,
			chat_template,
			bos,
			eos_id,
			eos,
			device: device.clone(),
		})
	}

	/// Which backend runs this model.
	pub fn backend(&self) -> Backend {
		match self.weights {
			Weights::Agora(_) => Backend::Agora,
			Weights::Stock(_) => Backend::CandleStock,
		}
	}

	/// A short description of the backend for logs and benchmarks.
	pub fn backend_name(&self) -> String {
		match &self.weights {
			Weights::Agora(q) => format!("agora-kernels ({}, {})", q.isa().name(), q.weight_format()),
			Weights::Stock(_) => "candle-stock".into(),
		}
	}

	/// The next-token logits after `prompt_ids` (the comparison tests use this).
	pub fn prompt_logits(
		&self,
		prompt_ids: &[u32],
		threads: Threads,
	) -> Result<Vec<f32>, EngineError> {
		if prompt_ids.is_empty() {
			return Err(EngineError::Input("the prompt is empty".into()));
		}
		self.split_logits(prompt_ids, prompt_ids.len(), threads)
	}

	/// The next-token logits after `prompt_ids`, run as a prefill of the first
	/// `split` tokens followed by one decode step per remaining token (the
	/// tests compare this with [`Self::prompt_logits`]).
	pub fn split_logits(
		&self,
		prompt_ids: &[u32],
		split: usize,
		threads: Threads,
	) -> Result<Vec<f32>, EngineError> {
		if split == 0 || split > prompt_ids.len() {
			return Err(EngineError::Input(format!(
				"split {split} is outside 1..={}",
				prompt_ids.len()
			)));
		}
		match &self.weights {
			Weights::Agora(q) => {
				let internal = |e: anyhow::Error| EngineError::Internal(e.to_string());
				let mut st = q.state(prompt_ids.len());
				let mut logits =
					q.forward(&mut st, &prompt_ids[..split], threads).map_err(internal)?.to_vec();
				for &t in &prompt_ids[split..] {
					logits = q.forward(&mut st, &[t], threads).map_err(internal)?.to_vec();
				}
				Ok(logits)
			},
			Weights::Stock(w) => {
				let mut model = w.clone();
				let input = Tensor::new(&prompt_ids[..split], &self.device)?.unsqueeze(0)?;
				let mut logits = model.forward(&input, 0)?;
				for (i, &t) in prompt_ids[split..].iter().enumerate() {
					let input = Tensor::new(&[t], &self.device)?.unsqueeze(0)?;
					logits = model.forward(&input, split + i)?;
				}
				Ok(logits.squeeze(0)?.to_vec1::<f32>()?)
			},
		}
	}

	/// The end-of-sequence token.
	pub fn eos_id(&self) -> u32 {
		self.eos_id
	}

	/// The tokenizer built from the GGUF.
	pub fn tokenizer(&self) -> &Tokenizer {
		&self.tokenizer
	}

	/// The prompt the model sees: the GGUF's chat template applied to the input.
	///
	/// The input is a user message, or a JSON object `{"messages": [{"role", "content"}, …]}`.
	pub fn prompt(&self, input: &str) -> Result<String, EngineError> {
		let messages: Vec<serde_json::Value> =
			match serde_json::from_str::<serde_json::Value>(input) {
				Ok(serde_json::Value::Object(o)) if o.contains_key("messages") => {
					let list = o
						.get("messages")
						.and_then(|m| m.as_array())
						.ok_or_else(|| EngineError::Input("`messages` is not a list".into()))?;
					for m in list {
						let ok = m.get("role").is_some_and(|r| r.is_string())
							&& m.get("content").is_some_and(|c| c.is_string());
						if !ok {
							return Err(EngineError::Input(
								"every message needs string `role` and `content`".into(),
							));
						}
					}
					list.clone()
				},
				_ => vec![serde_json::json!({"role": "user", "content": input})],
			};
		let Some(template) = &self.chat_template else {
			// A base model: the input is the prompt.
			return Ok(input.to_string());
		};
		let mut env = minijinja::Environment::new();
		env.add_template("chat", template)
			.map_err(|e| EngineError::Internal(format!("chat template: {e}")))?;
		let tmpl = env
			.get_template("chat")
			.map_err(|e| EngineError::Internal(format!("chat template: {e}")))?;
		tmpl.render(minijinja::context! {
			messages => messages,
			add_generation_prompt => true,
			bos_token => self.bos.clone().unwrap_or_default(),
			eos_token => self.eos.clone(),
		})
		.map_err(|e| EngineError::Input(format!("chat template: {e}")))
	}

	/// Token ids of a prompt (special tokens in the text are recognised).
	pub fn encode(&self, text: &str) -> Result<Vec<u32>, EngineError> {
		self.tokenizer
			.encode(text, false)
			.map(|e| e.get_ids().to_vec())
			.map_err(|e| EngineError::Internal(format!("tokenizer: {e}")))
	}

	/// Runs already-tokenized ids: prefill, then decode until EOS or `max_tokens`.
	pub fn generate(
		&self,
		prompt_ids: &[u32],
		max_tokens: u32,
		temperature: f64,
		seed: [u8; 32],
	) -> Result<Inference, EngineError> {
		self.generate_inner(prompt_ids, max_tokens, temperature, seed, true, Threads::Pool, &mut |_| {})
	}

	/// [`Self::generate`] with an explicit thread policy (the determinism tests
	/// run a job on one thread and on the pool and compare the bits).
	pub fn generate_threads(
		&self,
		prompt_ids: &[u32],
		max_tokens: u32,
		temperature: f64,
		seed: [u8; 32],
		threads: Threads,
	) -> Result<Inference, EngineError> {
		self.generate_inner(prompt_ids, max_tokens, temperature, seed, true, threads, &mut |_| {})
	}

	#[allow(clippy::too_many_arguments)]
	fn generate_inner(
		&self,
		prompt_ids: &[u32],
		max_tokens: u32,
		temperature: f64,
		seed: [u8; 32],
		stop_at_eos: bool,
		threads: Threads,
		on_token: &mut dyn FnMut(u32),
	) -> Result<Inference, EngineError> {
		if prompt_ids.is_empty() {
			return Err(EngineError::Input("the prompt is empty".into()));
		}
		if max_tokens == 0 {
			return Err(EngineError::Input("max_tokens is 0".into()));
		}
		let needed = prompt_ids.len().saturating_add(max_tokens as usize);
		if needed > CONTEXT {
			return Err(EngineError::Input(format!(
				"{} prompt tokens + {max_tokens} max_tokens exceed the model's context of {CONTEXT}",
				prompt_ids.len()
			)));
		}
		// Greedy, or Gumbel-max with the job's public noise (docs/protocol.md §6):
		// the token of step `t` is `argmax_i(logit_i / T + g[t][i])`.
		let t_f32 = temperature as f32;
		let pick = |step: usize, logits: &[f32]| -> Result<u32, EngineError> {
			let noise = (t_f32 > 0.0).then(|| rules::gumbel_noise(&seed, step as u32, logits.len()));
			rules::pick_token(logits, t_f32, noise.as_deref())
				.ok_or_else(|| EngineError::Internal("the model returned no logits".into()))
		};
		let mut out: Vec<u32> = Vec::with_capacity(max_tokens as usize);
		let t0 = Instant::now();
		let (prompt_secs, t1) = match &self.weights {
			Weights::Agora(q) => {
				let internal = |e: anyhow::Error| EngineError::Internal(e.to_string());
				let mut st = q.state(needed);
				let mut next = pick(0, q.forward(&mut st, prompt_ids, threads).map_err(internal)?)?;
				let prompt_secs = t0.elapsed().as_secs_f64();
				let t1 = Instant::now();
				while !(stop_at_eos && next == self.eos_id) {
					out.push(next);
					on_token(next);
					if out.len() >= max_tokens as usize {
						break;
					}
					next = pick(out.len(), q.forward(&mut st, &[next], threads).map_err(internal)?)?;
				}
				(prompt_secs, t1)
			},
			Weights::Stock(weights) => {
				let mut model = weights.clone();
				let input = Tensor::new(prompt_ids, &self.device)?.unsqueeze(0)?;
				let logits = model.forward(&input, 0)?.squeeze(0)?.to_dtype(candle_core::DType::F32)?;
				let mut next = pick(0, &logits.to_vec1::<f32>()?)?;
				let prompt_secs = t0.elapsed().as_secs_f64();
				let t1 = Instant::now();
				while !(stop_at_eos && next == self.eos_id) {
					out.push(next);
					on_token(next);
					if out.len() >= max_tokens as usize {
						break;
					}
					let input = Tensor::new(&[next], &self.device)?.unsqueeze(0)?;
					let pos = prompt_ids.len().saturating_add(out.len()).saturating_sub(1);
					let logits = model.forward(&input, pos)?.squeeze(0)?.to_dtype(candle_core::DType::F32)?;
					next = pick(out.len(), &logits.to_vec1::<f32>()?)?;
				}
				(prompt_secs, t1)
			},
		};
		let decode_secs = t1.elapsed().as_secs_f64();
		let text = self
			.tokenizer
			.decode(&out, true)
			.map_err(|e| EngineError::Internal(format!("tokenizer: {e}")))?;
		Ok(Inference {
			output: GenerationOutput { text, tokens: out.clone() }.to_bytes(),
			output_tokens: out.len() as u32,
			prompt_tokens: prompt_ids.len() as u32,
			prompt_secs,
			decode_secs,
			tokens: out,
		})
	}
}

impl TextGen {
	/// Decodes exactly `n` tokens, ignoring EOS (benchmarks).
	pub fn generate_n(&self, prompt_ids: &[u32], n: u32) -> Result<Inference, EngineError> {
		self.generate_inner(prompt_ids, n, 0.0, [0; 32], false, Threads::Pool, &mut |_| {})
	}
}

impl Engine for TextGen {
	fn task(&self) -> TaskKind {
		TaskKind::TextGeneration
	}
	fn name(&self) -> &str {
		&self.name
	}
	fn run(&self, req: &Request) -> Result<Inference, EngineError> {
		self.run_streaming(req, &mut |_| {})
	}
	fn run_streaming(&self, req: &Request, on_token: &mut dyn FnMut(u32)) -> Result<Inference, EngineError> {
		let input = std::str::from_utf8(&req.input)
			.map_err(|_| EngineError::Input("the input is not UTF-8 text".into()))?;
		if input.trim().is_empty() {
			return Err(EngineError::Input("the input is empty".into()));
		}
		let ids = self.encode(&self.prompt(input)?)?;
		self.generate_inner(&ids, req.max_tokens, req.temperature, req.seed, true, Threads::Pool, on_token)
	}
	fn decode(&self, ids: &[u32]) -> Option<String> {
		self.tokenizer.decode(ids, true).ok()
	}
}
