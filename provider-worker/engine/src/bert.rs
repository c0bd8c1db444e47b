//! Sentence embeddings: all-MiniLM-L6-v2, mean pooling over the attention mask,
//! then L2 normalisation (what sentence-transformers does for this model). The
//! output is the vector as little-endian f32.
//!
//! Two backends: Agora's encoder (`agora_kernels::bert`, CPU default: no
//! padding, fused epilogues, bit-identical across batch and thread counts) and
//! candle's stock `BertModel` (CUDA, or `AGORA_ENGINE=candle-stock`).
use super::{files::ModelFiles, llama::Backend, Engine, EngineError, Inference, Request};
use agora_kernels::{
	bert::{Bert, BertConfig},
	Threads,
};
use agora_primitives::models::TaskKind;
use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use std::time::Instant;
use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

/// Longest input in tokens; longer inputs are truncated, as sentence-transformers'
/// `max_seq_length` for this model does.
pub const MAX_TOKENS: usize = 256;

enum Model {
	Agora(Bert),
	Stock(BertModel),
}

/// A loaded BERT sentence-embedding model.
pub struct Embedder {
	name: String,
	model: Model,
	tokenizer: Tokenizer,
	device: Device,
}

impl Embedder {
	/// Loads `model.safetensors`, `config.json` and `tokenizer.json` onto `device`
	/// with the device's default backend.
	pub fn load(files: &ModelFiles, device: &Device, progress: bool) -> anyhow::Result<Self> {
		Self::load_with(files, device, progress, Backend::default_for(device))
	}

	/// Loads the model with `backend`.
	pub fn load_with(
		files: &ModelFiles,
		device: &Device,
		progress: bool,
		backend: Backend,
	) -> anyhow::Result<Self> {
		backend.ensure_runs_on(device)?;
		let config_path = files
			.config
			.as_ref()
			.ok_or_else(|| anyhow::anyhow!("a BERT model needs config.json"))?;
		let tok_path = files
			.tokenizer
			.as_ref()
			.ok_or_else(|| anyhow::anyhow!("a BERT model needs tokenizer.json"))?;
		let config_bytes = std::fs::read(config_path)?;
		let config: Config = serde_json::from_slice(&config_bytes)
			.map_err(|e| anyhow::anyhow!("{}: {e}", config_path.display()))?;
		let mut tokenizer = Tokenizer::from_file(tok_path)
			.map_err(|e| anyhow::anyhow!("{}: {e}", tok_path.display()))?;
		tokenizer
			.with_truncation(Some(TruncationParams {
				max_length: MAX_TOKENS,
				..Default::default()
			}))
			.map_err(|e| anyhow::anyhow!("tokenizer truncation: {e}"))?;
		tokenizer.with_padding(Some(PaddingParams {
			strategy: PaddingStrategy::BatchLongest,
			..Default::default()
		}));
		let len = std::fs::metadata(&files.weights)?.len();
		let bar = super::files::progress_bar(progress, len, "loading model.safetensors");
		let mut bytes = Vec::with_capacity(len as usize);
		std::io::Read::read_to_end(
			&mut bar.wrap_read(std::fs::File::open(&files.weights)?),
			&mut bytes,
		)?;
		bar.finish_and_clear();
		let model = match backend {
			Backend::Agora => {
				let raw: serde_json::Value = serde_json::from_slice(&config_bytes)?;
				let field = |k: &str| -> anyhow::Result<usize> {
					raw.get(k)
						.and_then(|v| v.as_u64())
						.map(|v| v as usize)
						.ok_or_else(|| anyhow::anyhow!("{}: no `{k}`", config_path.display()))
				};
				anyhow::ensure!(
					raw.get("hidden_act").and_then(|v| v.as_str()) == Some("gelu"),
					"only hidden_act = \"gelu\" is supported"
				);
				let cfg = BertConfig {
					hidden: field("hidden_size")?,
					heads: field("num_attention_heads")?,
					intermediate: field("intermediate_size")?,
					layers: field("num_hidden_layers")?,
					max_positions: field("max_position_embeddings")?,
					eps: raw.get("layer_norm_eps").and_then(|v| v.as_f64()).unwrap_or(1e-12) as f32,
				};
				Model::Agora(Bert::load(&bytes, cfg)?)
			},
			Backend::CandleStock => {
				let vb = VarBuilder::from_buffered_safetensors(bytes, DType::F32, device)?;
				Model::Stock(BertModel::load(vb, &config)?)
			},
		};
		Ok(Self { name: files.name.clone(), model, tokenizer, device: device.clone() })
	}

	/// Which backend runs this model.
	pub fn backend(&self) -> Backend {
		match self.model {
			Model::Agora(_) => Backend::Agora,
			Model::Stock(_) => Backend::CandleStock,
		}
	}

	/// Embeds a batch of sentences: one unit vector each.
	pub fn embed_batch(&self, sentences: &[&str]) -> Result<Vec<Vec<f32>>, EngineError> {
		if sentences.is_empty() {
			return Ok(vec![]);
		}
		let enc = self
			.tokenizer
			.encode_batch(sentences.to_vec(), true)
			.map_err(|e| EngineError::Internal(format!("tokenizer: {e}")))?;
		let model = match &self.model {
			Model::Agora(bert) => {
				// Real tokens only: the encoder needs no padding.
				let seqs: Vec<Vec<u32>> = enc
					.iter()
					.map(|e| {
						e.get_ids()
							.iter()
							.zip(e.get_attention_mask())
							.filter(|(_, m)| **m == 1)
							.map(|(i, _)| *i)
							.collect()
					})
					.collect();
				let refs: Vec<&[u32]> = seqs.iter().map(|s| s.as_slice()).collect();
				return bert
					.embed(&refs, Threads::Pool)
					.map_err(|e| EngineError::Internal(e.to_string()));
			},
			Model::Stock(m) => m,
		};
		let ids: Vec<Tensor> = enc
			.iter()
			.map(|e| Tensor::new(e.get_ids(), &self.device))
			.collect::<Result<_, _>>()?;
		let masks: Vec<Tensor> = enc
			.iter()
			.map(|e| Tensor::new(e.get_attention_mask(), &self.device))
			.collect::<Result<_, _>>()?;
		let ids = Tensor::stack(&ids, 0)?;
		let mask = Tensor::stack(&masks, 0)?;
		let types = ids.zeros_like()?;
		let hidden = model.forward(&ids, &types, Some(&mask))?; // (b, n, d)
		let maskf = mask.to_dtype(DType::F32)?.unsqueeze(2)?; // (b, n, 1)
		let summed = hidden.broadcast_mul(&maskf)?.sum(1)?; // (b, d)
		let counts = maskf.sum(1)?; // (b, 1)
		let mean = summed.broadcast_div(&counts)?;
		let norm = mean.sqr()?.sum_keepdim(1)?.sqrt()?.clamp(1e-12f32, f32::MAX)?;
		let unit = mean.broadcast_div(&norm)?;
		Ok(unit.to_vec2::<f32>()?)
	}

	/// Little-endian f32 bytes of a vector: the output format of embedding jobs
	/// ([`agora_primitives::jobs::encode_embedding`]).
	pub fn to_bytes(v: &[f32]) -> Vec<u8> {
		agora_primitives::jobs::encode_embedding(v)
	}

	/// The inverse of [`Self::to_bytes`]; `None` if the length is not a multiple of 4.
	pub fn from_bytes(b: &[u8]) -> Option<Vec<f32>> {
		agora_primitives::jobs::decode_embedding(b)
	}
}

/// Cosine similarity of two vectors (0 if either is zero or the lengths differ).
pub fn cosine(a: &[f32], b: &[f32]) -> f64 {
	if a.len() != b.len() {
		return 0.0;
	}
	let (mut dot, mut na, mut nb) = (0f64, 0f64, 0f64);
	for (x, y) in a.iter().zip(b) {
		dot += f64::from(*x) * f64::from(*y);
		na += f64::from(*x) * f64::from(*x);
		nb += f64::from(*y) * f64::from(*y);
	}
	if na == 0.0 || nb == 0.0 {
		return 0.0;
	}
	dot / (na.sqrt() * nb.sqrt())
}

impl Engine for Embedder {
	fn task(&self) -> TaskKind {
		TaskKind::Embedding
	}
	fn name(&self) -> &str {
		&self.name
	}
	fn run(&self, req: &Request) -> Result<Inference, EngineError> {
		let text = std::str::from_utf8(&req.input)
			.map_err(|_| EngineError::Input("the input is not UTF-8 text".into()))?;
		if text.trim().is_empty() {
			return Err(EngineError::Input("the input is empty".into()));
		}
		let t0 = Instant::now();
		let prompt_tokens = self
			.tokenizer
			.encode(text, true)
			.map(|e| e.get_ids().len() as u32)
			.map_err(|e| EngineError::Internal(format!("tokenizer: {e}")))?;
		let v = self
			.embed_batch(&[text])?
			.pop()
			.ok_or_else(|| EngineError::Internal("no embedding came back".into()))?;
		Ok(Inference {
			output: Self::to_bytes(&v),
			output_tokens: 1,
			prompt_tokens,
			prompt_secs: t0.elapsed().as_secs_f64(),
			decode_secs: 0.0,
			tokens: vec![],
		})
	}
	fn embed_many(&self, texts: &[&str]) -> Option<Result<Vec<Vec<f32>>, EngineError>> {
		if texts.iter().any(|t| t.trim().is_empty()) {
			return Some(Err(EngineError::Input("an input is empty".into())));
		}
		Some(self.embed_batch(texts))
	}
}
