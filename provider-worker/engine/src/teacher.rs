//! Teacher forcing for verification (docs/protocol.md §6, `TeacherForced`): one batched
//! forward pass over prompt + the claimed token ids that yields the logits at
//! *every* position, so each claimed token's score can be compared with its
//! step's best ([`Scoring`]: greedy, or Gumbel-max with the job's noise).
//!
//! The rule's reference ([`FullLogits::load`]) is the model as its GGUF
//! defines it: every weight dequantized to f32 and f32 activations, on candle
//! tensors (any device; candle's quantized llama returns only the last
//! position's logits). It favours no engine: each honest engine (this
//! worker's kernels, candle on CUDA, llama.cpp) quantizes its activations in
//! its own way, and sits within its own rounding of the reference.
//!
//! [`FullLogits::load_quantized`] is Agora's quantized llama
//! (`agora_kernels::qllama`) run as one prefill: the very arithmetic this
//! worker decodes with (on an AVX-512 CPU about as costly as the f32 pass,
//! 1.6–1.9× cheaper where `gemm` runs its AVX2 kernels, docs/benchmarks.md),
//! but not a neutral reference: an
//! engine that rounds its activations elsewhere (candle on CUDA) sits up to
//! twice as far from it (an H200's honest samples were up to 1.94 logits off,
//! docs/verification.md). Tests and benchmarks use it; the verifier does not.
use agora_kernels::{gguf::Gguf, qllama::QLlama, Threads};
use agora_primitives::rules;
use candle_core::{quantized::gguf_file, DType, Device, Tensor};

/// One block's weights, transposed for `x · W` (rows = positions); the
/// projections that read the same input are side by side in one matrix
/// (query|key|value, gate|up), so each is one matrix product.
struct Layer {
	attn_norm: Tensor,
	wqkv: Tensor,
	wo: Tensor,
	ffn_norm: Tensor,
	w13: Tensor,
	w2: Tensor,
}

/// A llama GGUF loaded to return logits for every position.
pub enum FullLogits {
	/// Agora's quantized kernels (CPU).
	Quantized(Box<QLlama>),
	/// f32 weights on candle tensors (any device).
	F32(Box<F32Logits>),
}

/// The f32 teacher: a llama GGUF with every weight dequantized.
pub struct F32Logits {
	embed: Tensor,
	layers: Vec<Layer>,
	norm: Tensor,
	output_t: Tensor,
	n_head: usize,
	n_kv_head: usize,
	head_dim: usize,
	eps: f32,
	cos: Tensor,
	sin: Tensor,
	device: Device,
}

/// How a claimed token compares with the model's choice at its step.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct TokenCheck {
	/// The step (index in the claimed output; one past it for the EOS a short
	/// output claims).
	pub index: usize,
	/// The claimed token.
	pub token: u32,
	/// The token with the best score at this step.
	pub best: u32,
	/// 0 = the claimed token has the best score.
	pub rank: u32,
	/// best score − the claimed token's score (≥ 0): logits when greedy,
	/// `logit / T + g` when sampled.
	pub gap: f32,
}

/// How the steps are scored: greedy (the logits), or sampled at `temperature`
/// with the job's public Gumbel noise keyed by `job_seed`.
#[derive(Clone, Copy, Debug)]
pub struct Scoring {
	pub temperature: f32,
	pub job_seed: [u8; 32],
}

impl Scoring {
	/// Greedy decoding.
	pub fn greedy() -> Self {
		Scoring { temperature: 0.0, job_seed: [0; 32] }
	}

	/// Checks `token` at step `index` against that step's logits `row`.
	pub fn check(&self, row: &[f32], index: usize, token: u32) -> TokenCheck {
		let noise = (self.temperature > 0.0)
			.then(|| rules::gumbel_noise(&self.job_seed, index as u32, row.len()));
		let noise = noise.as_deref();
		let score = |i: usize| rules::score(row.get(i).copied().unwrap_or(f32::NEG_INFINITY), i, self.temperature, noise);
		let best = rules::pick_token(row, self.temperature, noise).unwrap_or(0);
		let mine = score(token as usize);
		let rank = (0..row.len()).filter(|&i| score(i) > mine).count() as u32;
		TokenCheck { index, token, best, rank, gap: score(best as usize) - mine }
	}
}

fn md<'a>(ct: &'a gguf_file::Content, key: &str) -> anyhow::Result<&'a gguf_file::Value> {
	ct.metadata.get(key).ok_or_else(|| anyhow::anyhow!("GGUF metadata has no `{key}`"))
}

impl FullLogits {
	/// Loads the verifier's reference from a llama GGUF's bytes: f32 weights
	/// and activations on `device` (the module docs say why).
	pub fn load(bytes: &[u8], device: &Device) -> anyhow::Result<Self> {
		Ok(Self::F32(Box::new(F32Logits::load(bytes, device)?)))
	}

	/// Loads Agora's quantized kernels as a teacher (CPU): this worker's own
	/// arithmetic, for tests and cost comparisons; not the rule's reference.
	pub fn load_quantized(bytes: &[u8]) -> anyhow::Result<Self> {
		let q = QLlama::from_gguf(&agora_kernels::gguf::read(bytes)?, bytes, super::llama::CONTEXT)?;
		Ok(Self::Quantized(Box::new(q)))
	}

	/// Which implementation this is (`agora-kernels` or `candle-f32`).
	pub fn kind(&self) -> &'static str {
		match self {
			Self::Quantized(_) => "agora-kernels",
			Self::F32(_) => "candle-f32",
		}
	}

	/// Checks every claimed token under `scoring`: the logits at position `p`
	/// predict token `p+1`.
	pub fn check(&self, prompt: &[u32], claimed: &[u32], scoring: &Scoring) -> anyhow::Result<Vec<TokenCheck>> {
		if claimed.is_empty() {
			return Ok(vec![]);
		}
		let (rows, vocab) = self.rows(prompt, claimed)?;
		Ok(claimed
			.iter()
			.zip(rows.chunks_exact(vocab))
			.enumerate()
			.map(|(i, (&tok, row))| scoring.check(row, i, tok))
			.collect())
	}

	/// The logits that predict each of `claimed` (one row per claimed token,
	/// row after row) and the vocabulary size.
	pub fn rows(&self, prompt: &[u32], claimed: &[u32]) -> anyhow::Result<(Vec<f32>, usize)> {
		anyhow::ensure!(!prompt.is_empty(), "an empty prompt predicts nothing");
		anyhow::ensure!(!claimed.is_empty(), "no claimed tokens");
		let mut ids = prompt.to_vec();
		ids.extend_from_slice(&claimed[..claimed.len() - 1]);
		let start = prompt.len() - 1;
		let (rows, vocab) = match self {
			Self::F32(f) => f.rows(&ids, start)?,
			Self::Quantized(q) => {
				anyhow::ensure!(
					ids.len() <= super::llama::CONTEXT,
					"{} positions do not fit the context",
					ids.len()
				);
				let mut st = q.state(ids.len());
				(q.forward_all(&mut st, &ids, start, Threads::Pool)?.to_vec(), q.config().vocab)
			},
		};
		Ok((rows, vocab))
	}
}

/// A GGUF tensor dequantized to f32 on `device`: IQ4_NL by the kernels'
/// grid (candle has no IQ4_NL), every type candle knows by candle.
fn dequantize_tensor(g: &Gguf, bytes: &[u8], name: &str, device: &Device) -> anyhow::Result<Tensor> {
	use agora_kernels::gguf::{candle_dtype, GGML_TYPE_IQ4_NL};
	let (info, data) = g.tensor(bytes, name)?;
	let (rows, cols) =
		info.rows_cols().ok_or_else(|| anyhow::anyhow!("tensor `{name}` has shape {:?}", info.ne))?;
	let shape = if info.ne.len() == 1 { vec![cols] } else { vec![rows, cols] };
	if info.ggml_type == GGML_TYPE_IQ4_NL {
		return Ok(Tensor::from_vec(agora_kernels::quant::dequantize_iq4_nl(data), shape, device)?);
	}
	let dtype = candle_dtype(info.ggml_type)
		.ok_or_else(|| anyhow::anyhow!("tensor `{name}`: GGML type {} is not one the verifier reads", info.ggml_type))?;
	let q = candle_core::quantized::ggml_file::qtensor_from_ggml(dtype, data, shape, device)?;
	Ok(q.dequantize(device)?)
}

impl F32Logits {
	/// Loads every tensor of a llama GGUF, dequantized, from its bytes.
	pub fn load(bytes: &[u8], device: &Device) -> anyhow::Result<Self> {
		let g = agora_kernels::gguf::read(bytes)?;
		let ct = &g.content;
		let get = |key: &str| -> anyhow::Result<usize> { Ok(md(ct, key)?.to_u32()? as usize) };
		let n_head = get("llama.attention.head_count")?;
		let n_kv_head = get("llama.attention.head_count_kv")?;
		let blocks = get("llama.block_count")?;
		let embedding = get("llama.embedding_length")?;
		let rope_dim = get("llama.rope.dimension_count")?;
		let eps = md(ct, "llama.attention.layer_norm_rms_epsilon")?.to_f32()?;
		let base = ct.metadata.get("llama.rope.freq_base").and_then(|v| v.to_f32().ok()).unwrap_or(10_000.0);
		let t = |name: &str| dequantize_tensor(&g, bytes, name, device);
		let embed = t("token_embd.weight")?;
		let norm = t("output_norm.weight")?;
		let output = match t("output.weight") {
			Ok(o) => o,
			Err(_) => embed.clone(),
		};
		let output_t = output.t()?.contiguous()?;
		let ffn = get("llama.feed_forward_length")?;
		// GGUF stores (out, in): transposed, a weight's outputs are its
		// columns; stacked along dim 0 first, several sit side by side.
		let tr = |w: &Tensor| -> anyhow::Result<Tensor> { Ok(w.t()?.contiguous()?) };
		let stack = |ws: &[Tensor]| -> anyhow::Result<Tensor> { tr(&Tensor::cat(ws, 0)?) };
		let mut layers = Vec::with_capacity(blocks);
		for i in 0..blocks {
			let p = format!("blk.{i}");
			let w = |name: &str| t(&format!("{p}.{name}.weight"));
			let layer = Layer {
				attn_norm: w("attn_norm")?,
				wqkv: stack(&[w("attn_q")?, w("attn_k")?, w("attn_v")?])?,
				wo: tr(&w("attn_output")?)?,
				ffn_norm: w("ffn_norm")?,
				w13: stack(&[w("ffn_gate")?, w("ffn_up")?])?,
				w2: tr(&w("ffn_down")?)?,
			};
			anyhow::ensure!(layer.w13.dim(1)? == 2 * ffn, "{p}: feed-forward width is not {ffn}");
			layers.push(layer);
		}
		let head_dim = embedding / n_head;
		let theta: Vec<f32> = (0..rope_dim)
			.step_by(2)
			.map(|i| 1f32 / base.powf(i as f32 / rope_dim as f32))
			.collect();
		let theta = Tensor::new(theta.as_slice(), device)?;
		let pos = Tensor::arange(0u32, super::llama::CONTEXT as u32, device)?
			.to_dtype(DType::F32)?
			.reshape((super::llama::CONTEXT, 1))?;
		let idx_theta = pos.matmul(&theta.reshape((1, theta.elem_count()))?)?;
		Ok(Self {
			embed,
			layers,
			norm,
			output_t,
			n_head,
			n_kv_head,
			head_dim,
			eps,
			cos: idx_theta.cos()?,
			sin: idx_theta.sin()?,
			device: device.clone(),
		})
	}

	/// Logits (positions × vocabulary) of the positions of `ids` from `start`
	/// on. Every position passes through the blocks (the later ones attend to
	/// it); only those from `start` pass through the output layer, the
	/// 49,152-wide product that is a fifth of a position's work.
	pub fn logits(&self, ids: &[u32], start: usize) -> anyhow::Result<Tensor> {
		let s = ids.len();
		anyhow::ensure!(s > 0 && s <= super::llama::CONTEXT, "{s} positions do not fit the context");
		anyhow::ensure!(start < s, "start {start} is past the {s} positions");
		let (hd, nq, nkv) = (self.head_dim, self.n_head, self.n_kv_head);
		let rep = nq / nkv;
		let ids_t = Tensor::new(ids, &self.device)?;
		let mut x = self.embed.index_select(&ids_t, 0)?; // (s, d)
		let d = x.dim(1)?;
		// Grouped-query attention without copying keys and values per query
		// head: the `rep` query heads of a key head are stacked as `rep × s`
		// rows (row r is position r mod s), masked causally.
		let mask: Vec<u8> = (0..rep * s).flat_map(|r| (0..s).map(move |j| u8::from(j > r % s))).collect();
		let mask = Tensor::from_slice(&mask, (rep * s, s), &self.device)?.reshape((1, 1, rep * s, s))?;
		let neg_inf = Tensor::new(f32::NEG_INFINITY, &self.device)?;
		let cos = self.cos.narrow(0, 0, s)?;
		let sin = self.sin.narrow(0, 0, s)?;
		let scale = 1.0 / (hd as f64).sqrt();
		let heads = |t: Tensor, n: usize| -> anyhow::Result<Tensor> {
			Ok(t.reshape((1, s, n, hd))?.transpose(1, 2)?.contiguous()?)
		};
		for l in &self.layers {
			let h = candle_nn::ops::rms_norm(&x, &l.attn_norm, self.eps)?;
			let qkv = h.matmul(&l.wqkv)?;
			let q = heads(qkv.narrow(1, 0, nq * hd)?, nq)?;
			let k = heads(qkv.narrow(1, nq * hd, nkv * hd)?, nkv)?;
			let v = heads(qkv.narrow(1, (nq + nkv) * hd, nkv * hd)?, nkv)?;
			let q = candle_nn::rotary_emb::rope_i(&q, &cos, &sin)?.reshape((1, nkv, rep * s, hd))?;
			let k = candle_nn::rotary_emb::rope_i(&k, &cos, &sin)?;
			let att = (q.matmul(&k.t()?)? * scale)?;
			let att = mask.broadcast_as(att.shape())?.where_cond(&neg_inf.broadcast_as(att.shape())?, &att)?;
			let att = candle_nn::ops::softmax_last_dim(&att)?;
			let y = att.matmul(&v)?.reshape((1, nq, s, hd))?.transpose(1, 2)?.reshape((s, d))?;
			x = (x + y.matmul(&l.wo)?)?;
			let h = candle_nn::ops::rms_norm(&x, &l.ffn_norm, self.eps)?;
			let gu = h.matmul(&l.w13)?;
			let ffn = l.w13.dim(1)? / 2;
			let g = candle_nn::ops::silu(&gu.narrow(1, 0, ffn)?)?;
			let u = gu.narrow(1, ffn, ffn)?;
			x = (x + (g * u)?.matmul(&l.w2)?)?;
		}
		let x = candle_nn::ops::rms_norm(&x.narrow(0, start, s - start)?, &self.norm, self.eps)?;
		Ok(x.matmul(&self.output_t)?)
	}

	/// The logits of the positions of `ids` from `start` on, row after row,
	/// and the vocabulary size.
	fn rows(&self, ids: &[u32], start: usize) -> anyhow::Result<(Vec<f32>, usize)> {
		let rows = self.logits(ids, start)?.to_dtype(DType::F32)?;
		let vocab = rows.dim(1)?;
		Ok((rows.flatten_all()?.to_vec1::<f32>()?, vocab))
	}
}
