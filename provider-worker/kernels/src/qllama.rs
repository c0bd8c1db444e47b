//! Agora's quantized llama: the forward pass of a llama-architecture GGUF
//! (SmolLM2-135M-Instruct: Q4_1, or Q4_0 or IQ4_NL as a provider may
//! requantize it, with a Q8_0 tied output) on this crate's kernels, with a preallocated KV cache and
//! no per-token allocation.
//!
//! It computes what candle's `quantized_llama::ModelWeights::forward` computes,
//! op for op (same activation quantization, same block arithmetic, same
//! RMSNorm, RoPE, SwiGLU and softmax formulas), so its logits match stock
//! candle's within float rounding of the attention (`agora-worker`'s tests/engine.rs),
//! and its output does not depend on the thread count.
use crate::{
	ops::{self, AttnShape, Rope},
	q4, q8_0,
	quant::{Q4Kind, Q4Matrix, Q8_0Matrix, QActs},
	Isa, SharedMut, Threads,
};
use crate::gguf::{Gguf, GGML_TYPE_F32, GGML_TYPE_IQ4_NL, GGML_TYPE_Q4_0, GGML_TYPE_Q4_1, GGML_TYPE_Q8_0};

/// Hyper-parameters read from the GGUF metadata.
#[derive(Clone, Copy, Debug)]
pub struct Config {
	/// Model width.
	pub dim: usize,
	/// Transformer blocks.
	pub n_layer: usize,
	/// Query heads.
	pub n_head: usize,
	/// Key/value heads.
	pub n_kv_head: usize,
	/// Feed-forward width.
	pub ffn: usize,
	/// Vocabulary size.
	pub vocab: usize,
	/// RMSNorm epsilon.
	pub eps: f32,
	/// RoPE base frequency.
	pub rope_base: f32,
	/// Longest context (prompt + generated tokens).
	pub context: usize,
}

impl Config {
	/// Width of one head.
	pub fn head_dim(&self) -> usize {
		self.dim / self.n_head
	}
	fn kv_dim(&self) -> usize {
		self.head_dim() * self.n_kv_head
	}
}

struct Layer {
	attn_norm: Vec<f32>,
	ffn_norm: Vec<f32>,
	/// Q, K and V stacked: `dim + 2·kv_dim` rows.
	qkv: Q4Matrix,
	wo: Q4Matrix,
	/// Gate and up stacked: `2·ffn` rows.
	gate_up: Q4Matrix,
	down: Q4Matrix,
}

/// A loaded model; shared by all jobs (each has its own [`State`]).
pub struct QLlama {
	cfg: Config,
	isa: Isa,
	embd: Q8_0Matrix,
	output: Q8_0Matrix,
	layers: Vec<Layer>,
	norm: Vec<f32>,
	rope: Rope,
}

/// One job's state: its KV cache and scratch buffers, sized once.
pub struct State {
	capacity: usize,
	len: usize,
	/// Per layer: `n_kv_head × capacity × head_dim`.
	k: Vec<Vec<f32>>,
	v: Vec<Vec<f32>>,
	x: Vec<f32>,
	h: Vec<f32>,
	qkv: Vec<f32>,
	q: Vec<f32>,
	att: Vec<f32>,
	proj: Vec<f32>,
	gate_up: Vec<f32>,
	act: Vec<f32>,
	xq: QActs,
	logits: Vec<f32>,
}

/// A tensor's bytes, rows and columns, and its GGML type, which must be one of `want`.
fn tensor_bytes<'a>(
	g: &Gguf,
	data: &'a [u8],
	name: &str,
	want: &[u32],
) -> anyhow::Result<(&'a [u8], usize, usize, u32)> {
	let (info, bytes) = g.tensor(data, name)?;
	anyhow::ensure!(
		want.contains(&info.ggml_type),
		"tensor `{name}` is GGML type {}; Agora's kernels take {want:?} here",
		info.ggml_type
	);
	let (rows, cols) =
		info.rows_cols().ok_or_else(|| anyhow::anyhow!("tensor `{name}` has shape {:?}", info.ne))?;
	Ok((bytes, rows, cols, info.ggml_type))
}

fn f32s(bytes: &[u8]) -> Vec<f32> {
	bytes
		.chunks_exact(4)
		.map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
		.collect()
}

impl QLlama {
	/// Builds the model from a GGUF file's index ([`gguf::read`]) and bytes.
	/// `context` bounds the positions a job may use (the RoPE table's length).
	pub fn from_gguf(g: &Gguf, data: &[u8], context: usize) -> anyhow::Result<Self> {
		let ct = &g.content;
		let md = |k: &str| {
			ct.metadata.get(k).ok_or_else(|| anyhow::anyhow!("GGUF metadata has no `{k}`"))
		};
		let arch = md("general.architecture")?.to_string()?.clone();
		anyhow::ensure!(arch == "llama", "architecture `{arch}` is not llama");
		let u = |k: &str| -> anyhow::Result<usize> { Ok(md(k)?.to_u32()? as usize) };
		let n_head = u("llama.attention.head_count")?;
		let cfg = Config {
			dim: u("llama.embedding_length")?,
			n_layer: u("llama.block_count")?,
			n_head,
			n_kv_head: u("llama.attention.head_count_kv").unwrap_or(n_head),
			ffn: u("llama.feed_forward_length")?,
			vocab: 0,
			eps: md("llama.attention.layer_norm_rms_epsilon")?.to_f32()?,
			rope_base: md("llama.rope.freq_base").and_then(|v| Ok(v.to_f32()?)).unwrap_or(10000.0),
			context,
		};
		anyhow::ensure!(
			cfg.n_head > 0 && cfg.n_kv_head > 0 && cfg.n_head.is_multiple_of(cfg.n_kv_head),
			"{} heads cannot share {} key/value heads",
			cfg.n_head,
			cfg.n_kv_head
		);
		let rope_dim = u("llama.rope.dimension_count").unwrap_or(cfg.head_dim());
		anyhow::ensure!(rope_dim == cfg.head_dim(), "partial rotary embeddings are not supported");
		// A 4-bit tensor's format, GGML bytes and row count; its rows must be
		// `cols` long.
		let q4 = |name: &str, cols: usize| -> anyhow::Result<(Q4Kind, &[u8], usize)> {
			let (b, r, c, t) =
				tensor_bytes(g, data, name, &[GGML_TYPE_Q4_1, GGML_TYPE_Q4_0, GGML_TYPE_IQ4_NL])?;
			anyhow::ensure!(c == cols, "tensor `{name}` has {c} columns, not {cols}");
			let kind = match t {
				GGML_TYPE_Q4_0 => Q4Kind::Q4_0,
				GGML_TYPE_IQ4_NL => Q4Kind::Iq4Nl,
				_ => Q4Kind::Q4_1,
			};
			Ok((kind, b, r))
		};
		// Fused matrices: their parts must share a format.
		let stack = |name: &str, parts: &[(Q4Kind, &[u8], usize)], cols: usize| {
			let kind = parts[0].0;
			anyhow::ensure!(
				parts.iter().all(|p| p.0 == kind),
				"{name}: the fused tensors mix formats ({:?})",
				parts.iter().map(|p| p.0.name()).collect::<Vec<_>>()
			);
			let parts: Vec<(&[u8], usize)> = parts.iter().map(|p| (p.1, p.2)).collect();
			Ok::<_, anyhow::Error>(Q4Matrix::stack(kind, name, &parts, cols)?)
		};
		let norm = |name: &str| -> anyhow::Result<Vec<f32>> {
			let (b, _, c, _) = tensor_bytes(g, data, name, &[GGML_TYPE_F32])?;
			anyhow::ensure!(c == cfg.dim, "tensor `{name}` has {c} values, not {}", cfg.dim);
			Ok(f32s(b))
		};
		let mut layers = Vec::with_capacity(cfg.n_layer);
		for i in 0..cfg.n_layer {
			let p = format!("blk.{i}");
			let (wq, wk, wv) = (
				q4(&format!("{p}.attn_q.weight"), cfg.dim)?,
				q4(&format!("{p}.attn_k.weight"), cfg.dim)?,
				q4(&format!("{p}.attn_v.weight"), cfg.dim)?,
			);
			anyhow::ensure!(
				wq.2 == cfg.dim && wk.2 == cfg.kv_dim() && wv.2 == cfg.kv_dim(),
				"layer {i}: attention shapes do not match the metadata"
			);
			let (gate, up) = (
				q4(&format!("{p}.ffn_gate.weight"), cfg.dim)?,
				q4(&format!("{p}.ffn_up.weight"), cfg.dim)?,
			);
			let (wo, down) = (
				q4(&format!("{p}.attn_output.weight"), cfg.dim)?,
				q4(&format!("{p}.ffn_down.weight"), cfg.ffn)?,
			);
			anyhow::ensure!(
				gate.2 == cfg.ffn && up.2 == cfg.ffn && down.2 == cfg.dim && wo.2 == cfg.dim,
				"layer {i}: feed-forward shapes do not match the metadata"
			);
			layers.push(Layer {
				attn_norm: norm(&format!("{p}.attn_norm.weight"))?,
				ffn_norm: norm(&format!("{p}.ffn_norm.weight"))?,
				qkv: stack(&format!("{p}.attn_qkv"), &[wq, wk, wv], cfg.dim)?,
				wo: Q4Matrix::from_ggml(wo.0, &format!("{p}.attn_output.weight"), wo.1, wo.2, cfg.dim)?,
				gate_up: stack(&format!("{p}.ffn_gate_up"), &[gate, up], cfg.dim)?,
				down: Q4Matrix::from_ggml(
					down.0,
					&format!("{p}.ffn_down.weight"),
					down.1,
					down.2,
					cfg.ffn,
				)?,
			});
		}
		let (eb, er, ec, _) = tensor_bytes(g, data, "token_embd.weight", &[GGML_TYPE_Q8_0])?;
		anyhow::ensure!(ec == cfg.dim, "token_embd has {ec} columns");
		let embd = Q8_0Matrix::from_ggml("token_embd.weight", eb, er, ec)?;
		// Tied embeddings unless the file has its own output matrix (as candle).
		let output = if g.tensors.contains_key("output.weight") {
			let (ob, or, oc, _) = tensor_bytes(g, data, "output.weight", &[GGML_TYPE_Q8_0])?;
			Q8_0Matrix::from_ggml("output.weight", ob, or, oc)?
		} else {
			Q8_0Matrix::from_ggml("token_embd.weight", eb, er, ec)?
		};
		let cfg = Config { vocab: output.rows, ..cfg };
		Ok(Self {
			cfg,
			isa: Isa::detect(),
			embd,
			output,
			layers,
			norm: norm("output_norm.weight")?,
			rope: Rope::new(cfg.head_dim(), cfg.rope_base, context),
		})
	}

	/// The model's shape.
	pub fn config(&self) -> &Config {
		&self.cfg
	}

	/// The layers' 4-bit format (`Q4_1`, `Q4_0`, `IQ4_NL`; of the first layer's Q/K/V).
	pub fn weight_format(&self) -> &'static str {
		self.layers.first().map_or("none", |l| l.qkv.kind.name())
	}

	/// The instruction set the kernels use.
	pub fn isa(&self) -> Isa {
		self.isa
	}

	/// A fresh state for a job of at most `capacity` positions.
	pub fn state(&self, capacity: usize) -> State {
		let c = &self.cfg;
		let capacity = capacity.min(c.context);
		let kv = c.n_kv_head * capacity * c.head_dim();
		State {
			capacity,
			len: 0,
			k: (0..c.n_layer).map(|_| vec![0f32; kv]).collect(),
			v: (0..c.n_layer).map(|_| vec![0f32; kv]).collect(),
			x: vec![],
			h: vec![],
			qkv: vec![],
			q: vec![],
			att: vec![],
			proj: vec![],
			gate_up: vec![],
			act: vec![],
			xq: QActs::default(),
			logits: vec![0f32; c.vocab],
		}
	}

	/// Runs `tokens` at the state's next positions and returns the logits of the
	/// last one. Errors if a token id is outside the vocabulary or the state's
	/// capacity would be exceeded.
	pub fn forward<'s>(
		&self,
		st: &'s mut State,
		tokens: &[u32],
		threads: Threads,
	) -> anyhow::Result<&'s [f32]> {
		// Only the last token's logits are needed (as candle).
		let n = tokens.len();
		self.forward_all(st, tokens, n.saturating_sub(1), threads)
	}

	/// Runs `tokens` at the state's next positions and returns the logits of
	/// tokens `from..` (row by row, `vocab` each) — teacher forcing's pass.
	/// Each row is what [`Self::forward`] returns for its last token.
	pub fn forward_all<'s>(
		&self,
		st: &'s mut State,
		tokens: &[u32],
		from: usize,
		threads: Threads,
	) -> anyhow::Result<&'s [f32]> {
		anyhow::ensure!(from < tokens.len().max(1), "no logits asked for: {from} of {}", tokens.len());
		let c = self.cfg;
		let n = tokens.len();
		anyhow::ensure!(n > 0, "no tokens to run");
		anyhow::ensure!(
			st.len + n <= st.capacity,
			"{} positions exceed this job's context of {}",
			st.len + n,
			st.capacity
		);
		if let Some(bad) = tokens.iter().find(|&&t| t as usize >= self.embd.rows) {
			anyhow::bail!("token {bad} is outside the vocabulary of {}", self.embd.rows);
		}
		let (dim, kv_dim, hd) = (c.dim, c.kv_dim(), c.head_dim());
		let qkv_w = dim + 2 * kv_dim;
		let pos = st.len;
		st.x.resize(n * dim, 0.0);
		st.h.resize(n * dim, 0.0);
		st.qkv.resize(n * qkv_w, 0.0);
		st.q.resize(n * dim, 0.0);
		st.att.resize(n * dim, 0.0);
		st.proj.resize(n * dim, 0.0);
		st.gate_up.resize(n * 2 * c.ffn, 0.0);
		st.act.resize(n * c.ffn, 0.0);
		for (t, &tok) in tokens.iter().enumerate() {
			self.embd.dequantize_row(tok as usize, &mut st.x[t * dim..(t + 1) * dim]);
		}
		let shape = AttnShape {
			n_head: c.n_head,
			n_kv_head: c.n_kv_head,
			head_dim: hd,
			capacity: st.capacity,
		};
		// The f32 steps between the matrix products work token by token, so
		// they too run on the pool when there are several tokens: each row is
		// computed whole by one thread, in the same order whichever it is.
		let rt = if n > 1 { threads } else { Threads::One };
		let rows = |from: usize, f: &(dyn Fn(usize) + Sync)| {
			rt.for_each(n - from, |r| r.for_each(|i| f(from + i)))
		};
		// The same by ranges of rows (the norms interleave their rows' sums).
		let ranges = |from: usize, f: &(dyn Fn(std::ops::Range<usize>) + Sync)| {
			rt.for_each(n - from, |r| f(from + r.start..from + r.end))
		};
		for (li, layer) in self.layers.iter().enumerate() {
			// Attention: the previous block's output added to the residual
			// stream, normalised and quantized.
			let (x, h, proj) =
				(SharedMut::new(&mut st.x), SharedMut::new(&mut st.h), SharedMut::new(&mut st.proj));
			let xq = st.xq.rows(n, dim, true);
			ranges(0, &|r| {
				// SAFETY: rows `r` of each buffer belong to this call of the closure only.
				let (x, h) = unsafe { (x.part(r.start * dim, r.len() * dim), h.part(r.start * dim, r.len() * dim)) };
				if li > 0 {
					add(x, unsafe { proj.part(r.start * dim, r.len() * dim) });
				}
				ops::rms_norm(x, &layer.attn_norm, c.eps, h);
				for (t, h) in r.zip(h.chunks_exact(dim)) {
					unsafe { xq.quantize(t, h) };
				}
			});
			q4::matmul(self.isa, threads, &layer.qkv, &st.xq, &mut st.qkv, qkv_w);
			// Rotary positions, then K and V into the cache at their positions.
			let (qkv, q) = (SharedMut::new(&mut st.qkv), SharedMut::new(&mut st.q));
			let (kc, vc) = (SharedMut::new(&mut st.k[li]), SharedMut::new(&mut st.v[li]));
			let capacity = st.capacity;
			rows(0, &|t| {
				let p = pos + t;
				// SAFETY: token `t`'s row, and position `p` of each head's cache, are this call's only.
				let row = unsafe { qkv.part(t * qkv_w, qkv_w) };
				let (qr, kv) = row.split_at_mut(dim);
				let (k, v) = kv.split_at_mut(kv_dim);
				self.rope.apply_interleaved(qr, p);
				self.rope.apply_interleaved(k, p);
				unsafe { q.part(t * dim, dim) }.copy_from_slice(qr);
				for hh in 0..c.n_kv_head {
					let at = (hh * capacity + p) * hd;
					unsafe { kc.part(at, hd) }.copy_from_slice(&k[hh * hd..(hh + 1) * hd]);
					unsafe { vc.part(at, hd) }.copy_from_slice(&v[hh * hd..(hh + 1) * hd]);
				}
			});
			let (kc, vc) = (&st.k[li], &st.v[li]);
			ops::attention(threads, shape, &st.q, kc, vc, pos, n, &mut st.att);
			let (att, xq) = (SharedMut::new(&mut st.att), st.xq.rows(n, dim, true));
			// SAFETY: as above.
			rows(0, &|t| unsafe { xq.quantize(t, att.part(t * dim, dim)) });
			q4::matmul(self.isa, threads, &layer.wo, &st.xq, &mut st.proj, dim);
			// Feed-forward.
			let (x, h, proj) =
				(SharedMut::new(&mut st.x), SharedMut::new(&mut st.h), SharedMut::new(&mut st.proj));
			let xq = st.xq.rows(n, dim, true);
			ranges(0, &|r| {
				// SAFETY: as above.
				let (x, h) = unsafe { (x.part(r.start * dim, r.len() * dim), h.part(r.start * dim, r.len() * dim)) };
				add(x, unsafe { proj.part(r.start * dim, r.len() * dim) });
				ops::rms_norm(x, &layer.ffn_norm, c.eps, h);
				for (t, h) in r.zip(h.chunks_exact(dim)) {
					unsafe { xq.quantize(t, h) };
				}
			});
			q4::matmul(self.isa, threads, &layer.gate_up, &st.xq, &mut st.gate_up, 2 * c.ffn);
			let (gu, act, xq) =
				(SharedMut::new(&mut st.gate_up), SharedMut::new(&mut st.act), st.xq.rows(n, c.ffn, true));
			rows(0, &|t| {
				// SAFETY: as above.
				let (gu, act) = unsafe { (gu.part(t * 2 * c.ffn, 2 * c.ffn), act.part(t * c.ffn, c.ffn)) };
				let (g, u) = gu.split_at(c.ffn);
				ops::swiglu(g, u, act);
				unsafe { xq.quantize(t, act) };
			});
			q4::matmul(self.isa, threads, &layer.down, &st.xq, &mut st.proj, dim);
		}
		st.len += n;
		// The last block's output added, then the final norm, for the rows asked for.
		let rows_out = n - from;
		let (x, h, proj) =
			(SharedMut::new(&mut st.x), SharedMut::new(&mut st.h), SharedMut::new(&mut st.proj));
		let xq = st.xq.rows(rows_out, dim, false);
		ranges(from, &|r| {
			// SAFETY: as above (output row `t - from` is token `t`'s).
			let len = r.len() * dim;
			let (x, h) = unsafe { (x.part(r.start * dim, len), h.part((r.start - from) * dim, len)) };
			add(x, unsafe { proj.part(r.start * dim, len) });
			ops::rms_norm(x, &self.norm, c.eps, h);
			for (t, h) in r.zip(h.chunks_exact(dim)) {
				unsafe { xq.quantize(t - from, h) };
			}
		});
		st.logits.resize(rows_out * c.vocab, 0.0);
		q8_0::matmul(self.isa, threads, &self.output, &st.xq, &mut st.logits, c.vocab);
		Ok(&st.logits[..rows_out * c.vocab])
	}
}

/// `x += y`, element by element (the residual connection).
#[inline]
fn add(x: &mut [f32], y: &[f32]) {
	for (a, b) in x.iter_mut().zip(y) {
		*a += *b;
	}
}
