//! Agora's BERT encoder for sentence embeddings (all-MiniLM-L6-v2): the
//! forward pass of candle's `BertModel` on [`crate::gemm`], with fused Q/K/V,
//! bias + GELU in the matrix product's epilogue, and no padding: the batch's
//! sentences are concatenated, each attends only to itself, so a batch of
//! short and long sentences costs what its real tokens cost, and a sentence's
//! vector is bit-identical alone or in any batch, on any number of threads.
use crate::{
	gemm::{self, Epilogue, Packed},
	ops, Isa, OutPtr, Threads,
};
use candle_core::{Device, Tensor};
use std::collections::HashMap;

/// The fields of a BERT `config.json` this encoder reads.
#[derive(Clone, Copy, Debug)]
pub struct BertConfig {
	/// Width.
	pub hidden: usize,
	/// Attention heads.
	pub heads: usize,
	/// Feed-forward width.
	pub intermediate: usize,
	/// Layers.
	pub layers: usize,
	/// Longest input (position embeddings).
	pub max_positions: usize,
	/// LayerNorm epsilon.
	pub eps: f32,
}

struct Layer {
	qkv: Packed,
	o: Packed,
	ln1: (Vec<f32>, Vec<f32>),
	up: Packed,
	down: Packed,
	ln2: (Vec<f32>, Vec<f32>),
}

/// A loaded encoder (shared by all jobs; each call has its own buffers).
pub struct Bert {
	cfg: BertConfig,
	isa: Isa,
	word: Vec<f32>,
	pos: Vec<f32>,
	token_type0: Vec<f32>,
	emb_ln: (Vec<f32>, Vec<f32>),
	layers: Vec<Layer>,
}

fn take(ts: &HashMap<String, Tensor>, name: &str) -> anyhow::Result<Vec<f32>> {
	let t = ts
		.get(name)
		.ok_or_else(|| anyhow::anyhow!("model.safetensors has no `{name}`"))?;
	Ok(t.to_dtype(candle_core::DType::F32)?.flatten_all()?.to_vec1::<f32>()?)
}

impl Bert {
	/// Loads a BERT `model.safetensors` (HF names, optionally under `bert.`).
	pub fn load(safetensors: &[u8], cfg: BertConfig) -> anyhow::Result<Self> {
		anyhow::ensure!(
			cfg.heads > 0 && cfg.hidden.is_multiple_of(cfg.heads),
			"hidden size {} is not a multiple of {} heads",
			cfg.hidden,
			cfg.heads
		);
		let raw = candle_core::safetensors::load_buffer(safetensors, &Device::Cpu)?;
		let ts: HashMap<String, Tensor> = raw
			.into_iter()
			.map(|(k, v)| (k.strip_prefix("bert.").map(str::to_string).unwrap_or(k), v))
			.collect();
		let (h, f) = (cfg.hidden, cfg.intermediate);
		let sized = |name: &str, len: usize| -> anyhow::Result<Vec<f32>> {
			let v = take(&ts, name)?;
			anyhow::ensure!(v.len() == len, "`{name}` has {} values, expected {len}", v.len());
			Ok(v)
		};
		let ln = |p: &str| -> anyhow::Result<(Vec<f32>, Vec<f32>)> {
			Ok((sized(&format!("{p}.weight"), h)?, sized(&format!("{p}.bias"), h)?))
		};
		let word = take(&ts, "embeddings.word_embeddings.weight")?;
		anyhow::ensure!(
			!word.is_empty() && word.len().is_multiple_of(h),
			"word embeddings are not rows of {h}"
		);
		let mut layers = Vec::with_capacity(cfg.layers);
		for i in 0..cfg.layers {
			let p = format!("encoder.layer.{i}");
			let a = format!("{p}.attention.self");
			let (qw, qb) = (
				sized(&format!("{a}.query.weight"), h * h)?,
				sized(&format!("{a}.query.bias"), h)?,
			);
			let (kw, kb) =
				(sized(&format!("{a}.key.weight"), h * h)?, sized(&format!("{a}.key.bias"), h)?);
			let (vw, vb) = (
				sized(&format!("{a}.value.weight"), h * h)?,
				sized(&format!("{a}.value.bias"), h)?,
			);
			layers.push(Layer {
				qkv: Packed::stack(&[(&qw, &qb, h), (&kw, &kb, h), (&vw, &vb, h)], h)?,
				o: Packed::new(
					&sized(&format!("{p}.attention.output.dense.weight"), h * h)?,
					&sized(&format!("{p}.attention.output.dense.bias"), h)?,
					h,
					h,
				)?,
				ln1: ln(&format!("{p}.attention.output.LayerNorm"))?,
				up: Packed::new(
					&sized(&format!("{p}.intermediate.dense.weight"), f * h)?,
					&sized(&format!("{p}.intermediate.dense.bias"), f)?,
					f,
					h,
				)?,
				down: Packed::new(
					&sized(&format!("{p}.output.dense.weight"), h * f)?,
					&sized(&format!("{p}.output.dense.bias"), h)?,
					h,
					f,
				)?,
				ln2: ln(&format!("{p}.output.LayerNorm"))?,
			});
		}
		let tt = take(&ts, "embeddings.token_type_embeddings.weight")?;
		anyhow::ensure!(tt.len() >= h, "no token type embeddings");
		Ok(Self {
			cfg,
			isa: Isa::detect(),
			word,
			pos: sized("embeddings.position_embeddings.weight", cfg.max_positions * h)?,
			token_type0: tt[..h].to_vec(),
			emb_ln: ln("embeddings.LayerNorm")?,
			layers,
		})
	}

	/// The instruction set in use.
	pub fn isa(&self) -> Isa {
		self.isa
	}

	/// Mean-pooled, L2-normalised embeddings of token-id sequences (each with
	/// its special tokens, no padding), one vector per sequence.
	pub fn embed(&self, seqs: &[&[u32]], threads: Threads) -> anyhow::Result<Vec<Vec<f32>>> {
		let c = self.cfg;
		let h = c.hidden;
		let vocab = self.word.len() / h;
		let mut starts = Vec::with_capacity(seqs.len() + 1);
		let mut total = 0usize;
		for s in seqs {
			anyhow::ensure!(!s.is_empty(), "an empty token sequence");
			anyhow::ensure!(
				s.len() <= c.max_positions,
				"{} tokens exceed {}",
				s.len(),
				c.max_positions
			);
			if let Some(t) = s.iter().find(|&&t| t as usize >= vocab) {
				anyhow::bail!("token {t} is outside the vocabulary of {vocab}");
			}
			starts.push(total);
			total += s.len();
		}
		starts.push(total);
		// Embeddings: word + position + token type 0, then LayerNorm.
		let mut x = vec![0f32; total * h];
		for (si, s) in seqs.iter().enumerate() {
			for (p, &t) in s.iter().enumerate() {
				let row = &mut x[(starts[si] + p) * h..(starts[si] + p + 1) * h];
				let (w, ps) = (&self.word[t as usize * h..], &self.pos[p * h..]);
				for j in 0..h {
					row[j] = w[j] + self.token_type0[j] + ps[j];
				}
			}
		}
		ops::layer_norm(&mut x, &self.emb_ln.0, &self.emb_ln.1, c.eps);
		let mut qkv = vec![0f32; total * 3 * h];
		let mut ctx = vec![0f32; total * h];
		let mut tmp = vec![0f32; total * h];
		let mut mid = vec![0f32; total * c.intermediate];
		for l in &self.layers {
			gemm::matmul(self.isa, threads, &l.qkv, &x, &mut qkv, Epilogue::Bias);
			self.attention(threads, &qkv, &starts, &mut ctx);
			gemm::matmul(self.isa, threads, &l.o, &ctx, &mut tmp, Epilogue::Bias);
			add_norm(threads, &mut x, &tmp, &l.ln1, c.eps);
			gemm::matmul(self.isa, threads, &l.up, &x, &mut mid, Epilogue::BiasGelu);
			gemm::matmul(self.isa, threads, &l.down, &mid, &mut tmp, Epilogue::Bias);
			add_norm(threads, &mut x, &tmp, &l.ln2, c.eps);
		}
		// Mean pooling over each sequence's tokens, then L2 normalisation.
		let mut out = Vec::with_capacity(seqs.len());
		for si in 0..seqs.len() {
			let (a, b) = (starts[si], starts[si + 1]);
			let mut v = vec![0f32; h];
			for t in a..b {
				for (o, xv) in v.iter_mut().zip(&x[t * h..(t + 1) * h]) {
					*o += xv;
				}
			}
			let n = (b - a) as f32;
			v.iter_mut().for_each(|o| *o /= n);
			let norm = v.iter().map(|o| o * o).sum::<f32>().sqrt().max(1e-12);
			v.iter_mut().for_each(|o| *o /= norm);
			out.push(v);
		}
		Ok(out)
	}

	/// Self-attention of every sequence with itself; items are (sequence, head).
	fn attention(&self, threads: Threads, qkv: &[f32], starts: &[usize], ctx: &mut [f32]) {
		let (h, heads) = (self.cfg.hidden, self.cfg.heads);
		let hd = h / heads;
		let scale = 1.0 / (hd as f32).sqrt();
		let n_seq = starts.len() - 1;
		let ptr = OutPtr::new(ctx);
		threads.for_each(n_seq * heads, |range| {
			let mut buf = (Vec::new(), Vec::new());
			for item in range {
				let (si, hh) = (item / heads, item % heads);
				let head = Head { h, hd, hh, scale };
				// SAFETY: rows a..b, head hh of ctx belong to this item only.
				unsafe {
					attend_sequence(self.isa, qkv, head, starts[si]..starts[si + 1], &mut buf, ptr)
				};
			}
		});
	}
}

/// One attention head of a fused Q/K/V buffer (rows of `3h`).
#[derive(Clone, Copy)]
struct Head {
	h: usize,
	hd: usize,
	hh: usize,
	scale: f32,
}

impl Head {
	/// Where this head's query, key and value start within a row of `qkv`.
	fn offsets(self) -> (usize, usize, usize) {
		(self.hh * self.hd, self.h + self.hh * self.hd, 2 * self.h + self.hh * self.hd)
	}
}

/// Every query of the sequence in `rows` against its keys and values, for one
/// head; `buf` is scratch (transposed keys, scores), kept between calls.
///
/// # Safety
/// Rows `rows`, head `head.hh` of `ctx` are the caller's alone.
unsafe fn attend_sequence(
	isa: Isa,
	qkv: &[f32],
	head: Head,
	rows: std::ops::Range<usize>,
	buf: &mut (Vec<f32>, Vec<f32>),
	ctx: OutPtr,
) {
	let Head { h, hd, scale, .. } = head;
	let (qo, ko, vo) = head.offsets();
	#[cfg(target_arch = "x86_64")]
	if isa.wide_f32() && hd.is_multiple_of(8) {
		// SAFETY: the CPU has AVX-512F (checked); the caller's contract.
		return unsafe { x86::attend_keys_in_lanes(qkv, head, rows, buf, ctx) };
	}
	let scores = &mut buf.1;
	scores.resize(rows.len(), 0.0);
	for i in rows.clone() {
		let q = &qkv[i * 3 * h + qo..i * 3 * h + qo + hd];
		// SAFETY: the caller's contract.
		let o = unsafe { ctx.part(i * h + qo, hd) };
		let keys = rows.clone().map(|j| j * 3 * h + ko);
		let values = rows.clone().map(|j| j * 3 * h + vo);
		#[cfg(target_arch = "x86_64")]
		if isa != Isa::Scalar {
			// SAFETY: the CPU has AVX2 (`Isa::detect`).
			unsafe { attend_avx2(qkv, q, keys, values, hd, scale, scores, o) };
			continue;
		}
		attend(qkv, q, keys, values, hd, scale, scores, o);
	}
}

/// One query against one sequence's keys and values (offsets into `qkv`):
/// scaled dot products, softmax, weighted sum of the values into `o`.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn attend(
	qkv: &[f32],
	q: &[f32],
	keys: impl Iterator<Item = usize>,
	values: impl Iterator<Item = usize>,
	hd: usize,
	scale: f32,
	scores: &mut [f32],
	o: &mut [f32],
) {
	for (s, k) in scores.iter_mut().zip(keys) {
		*s = ops::dot(q, &qkv[k..k + hd]) * scale;
	}
	weigh(qkv, values, hd, scores, o);
}

/// Softmax of the scaled scores, then the weighted sum of the values into `o`.
#[inline(always)]
fn weigh(
	qkv: &[f32],
	values: impl Iterator<Item = usize>,
	hd: usize,
	scores: &mut [f32],
	o: &mut [f32],
) {
	let sum = exponentials(scores);
	o.fill(0.0);
	for (&p, v) in scores.iter().zip(values) {
		let p = p / sum;
		for (ov, vv) in o.iter_mut().zip(&qkv[v..v + hd]) {
			*ov += p * vv;
		}
	}
}

/// In place: `s = e^(s − max)` over the scores; returns their sum, in order
/// (the softmax's denominator).
#[inline(always)]
fn exponentials(scores: &mut [f32]) -> f32 {
	let mut max = f32::NEG_INFINITY;
	for s in scores.iter() {
		max = max.max(*s);
	}
	// The exponentials in one loop (it vectorises), then their sum in order.
	for s in scores.iter_mut() {
		*s = ops::exp_f32(*s - max);
	}
	let mut sum = 0f32;
	for s in scores.iter() {
		sum += *s;
	}
	sum
}

/// [`attend`] in 8-wide vectors (same operations, same order, same bits).
#[allow(clippy::too_many_arguments)]
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn attend_avx2(
	qkv: &[f32],
	q: &[f32],
	keys: impl Iterator<Item = usize>,
	values: impl Iterator<Item = usize>,
	hd: usize,
	scale: f32,
	scores: &mut [f32],
	o: &mut [f32],
) {
	attend(qkv, q, keys, values, hd, scale, scores, o)
}

/// `x = LayerNorm(x + y)` per row, rows spread over threads.
fn add_norm(threads: Threads, x: &mut [f32], y: &[f32], ln: &(Vec<f32>, Vec<f32>), eps: f32) {
	let h = ln.0.len();
	let rows = x.len() / h;
	let ptr = OutPtr::new(x);
	threads.for_each(rows, |range| {
		// SAFETY: each row belongs to one item.
		let xs =
			unsafe { std::slice::from_raw_parts_mut(ptr.at(range.start * h), range.len() * h) };
		for (v, w) in xs.iter_mut().zip(&y[range.start * h..range.end * h]) {
			*v += w;
		}
		ops::layer_norm(xs, &ln.0, &ln.1, eps);
	});
}

#[cfg(target_arch = "x86_64")]
mod x86 {
	use super::{exponentials, weigh, Head};
	use crate::OutPtr;
	use std::arch::x86_64::*;

	/// [`super::attend`] for every query of a sequence, with the scores of 16
	/// keys in the lanes of one vector: the keys transposed once per
	/// (sequence, head), then each lane runs [`crate::ops::dot`]'s eight
	/// partial sums and its reduction tree, in its order (`hd` a multiple of 8,
	/// so no tail), so every score, and so every output, has `attend`'s bits.
	///
	/// # Safety
	/// The CPU has AVX-512F; rows `rows`, head `head.hh` of `ctx` are the caller's alone.
	#[target_feature(enable = "avx512f,avx2")]
	pub(super) unsafe fn attend_keys_in_lanes(
		qkv: &[f32],
		head: Head,
		rows: std::ops::Range<usize>,
		(kt, scores): &mut (Vec<f32>, Vec<f32>),
		ctx: OutPtr,
	) {
		let Head { h, hd, scale, .. } = head;
		let (qo, ko, vo) = head.offsets();
		let len = rows.len();
		let lp = len.div_ceil(16) * 16;
		kt.clear();
		kt.resize(hd * lp, 0.0);
		for (j, r) in rows.clone().enumerate() {
			for (d, &v) in qkv[r * 3 * h + ko..r * 3 * h + ko + hd].iter().enumerate() {
				kt[d * lp + j] = v;
			}
		}
		scores.resize(lp, 0.0);
		for i in rows.clone() {
			let q = &qkv[i * 3 * h + qo..i * 3 * h + qo + hd];
			for g in (0..lp).step_by(16) {
				let mut acc = [_mm512_setzero_ps(); 8];
				for c in 0..hd / 8 {
					for (l, al) in acc.iter_mut().enumerate() {
						let d = 8 * c + l;
						// SAFETY: d < hd, g + 16 ≤ lp: within `kt`.
						let k = unsafe { _mm512_loadu_ps(kt.as_ptr().add(d * lp + g)) };
						*al = _mm512_add_ps(*al, _mm512_mul_ps(_mm512_set1_ps(q[d]), k));
					}
				}
				let s = _mm512_add_ps(
					_mm512_add_ps(_mm512_add_ps(acc[0], acc[4]), _mm512_add_ps(acc[1], acc[5])),
					_mm512_add_ps(_mm512_add_ps(acc[2], acc[6]), _mm512_add_ps(acc[3], acc[7])),
				);
				// SAFETY: g + 16 ≤ lp = scores.len().
				unsafe {
					_mm512_storeu_ps(
						scores.as_mut_ptr().add(g),
						_mm512_mul_ps(s, _mm512_set1_ps(scale)),
					)
				};
			}
			// SAFETY: the caller's contract.
			let o = unsafe { ctx.part(i * h + qo, hd) };
			let values = rows.clone().map(|j| j * 3 * h + vo);
			let scores = &mut scores[..len];
			// SAFETY (each arm): the CPU has AVX-512F, as this function requires.
			match hd {
				16 => unsafe { values_in_registers::<1>(qkv, values, scores, o) },
				32 => unsafe { values_in_registers::<2>(qkv, values, scores, o) },
				64 => unsafe { values_in_registers::<4>(qkv, values, scores, o) },
				_ => weigh(qkv, values, hd, scores, o),
			}
		}
	}

	/// [`weigh`] for a head of `16·V` values, its sums held in `V` vectors
	/// (the same operations in the same order: `o = 0`, then `o += (p / sum)·v`
	/// key by key).
	///
	/// # Safety
	/// The CPU has AVX-512F.
	#[inline]
	#[target_feature(enable = "avx512f,avx2")]
	unsafe fn values_in_registers<const V: usize>(
		qkv: &[f32],
		values: impl Iterator<Item = usize>,
		scores: &mut [f32],
		o: &mut [f32],
	) {
		let sum = exponentials(scores);
		let mut acc = [_mm512_setzero_ps(); V];
		for (&p, v) in scores.iter().zip(values) {
			let (pv, vs) = (_mm512_set1_ps(p / sum), &qkv[v..v + 16 * V]);
			for (t, a) in acc.iter_mut().enumerate() {
				// SAFETY: 16·t + 16 ≤ vs.len().
				let x = unsafe { _mm512_loadu_ps(vs.as_ptr().add(16 * t)) };
				*a = _mm512_add_ps(*a, _mm512_mul_ps(pv, x));
			}
		}
		let o = &mut o[..16 * V];
		for (t, a) in acc.iter().enumerate() {
			// SAFETY: 16·t + 16 ≤ o.len().
			unsafe { _mm512_storeu_ps(o.as_mut_ptr().add(16 * t), *a) };
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::test_util::lcg;

	/// Every path of a sequence's attention gives the per-query portable
	/// loop's bits (sequences of 1 to 40 tokens: part, whole and several
	/// vectors of keys), for head widths with and without the 16-lane path.
	#[test]
	fn attention_is_the_same_bits_on_every_path() {
		let mut seed = 3u64;
		for (heads, hd) in [(12, 32), (2, 64), (4, 16), (2, 40), (3, 12)] {
			let h = heads * hd;
			for len in [1, 3, 16, 17, 40] {
				let qkv: Vec<f32> = (0..len * 3 * h).map(|_| lcg(&mut seed) * 3.0).collect();
				let scale = 1.0 / (hd as f32).sqrt();
				let mut want = vec![0f32; len * h];
				let mut scores = vec![0f32; len];
				for hh in 0..heads {
					let (qo, ko, vo) = Head { h, hd, hh, scale }.offsets();
					for i in 0..len {
						let q = &qkv[i * 3 * h + qo..i * 3 * h + qo + hd];
						let keys = (0..len).map(|j| j * 3 * h + ko);
						let values = (0..len).map(|j| j * 3 * h + vo);
						let o = &mut want[i * h + qo..i * h + qo + hd];
						attend(&qkv, q, keys, values, hd, scale, &mut scores, o);
					}
				}
				for isa in [Isa::detect(), Isa::Scalar] {
					let mut got = vec![f32::NAN; len * h];
					let ptr = OutPtr::new(&mut got);
					let mut buf = (Vec::new(), Vec::new());
					for hh in 0..heads {
						let head = Head { h, hd, hh, scale };
						unsafe { attend_sequence(isa, &qkv, head, 0..len, &mut buf, ptr) };
					}
					for (i, (g, w)) in got.iter().zip(&want).enumerate() {
						assert_eq!(
							g.to_bits(),
							w.to_bits(),
							"{isa:?} hd {hd} len {len} [{i}]: {g} vs {w}"
						);
					}
				}
			}
		}
	}
}
