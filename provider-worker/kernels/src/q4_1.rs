//! Q4_1 weights × Q8_1 activations: `y[t][r] = Σ_b ((Σq·x)·d_w·d_x + m_w·s_x)`,
//! the blocks summed in order, exactly as candle's `BlockQ4_1::vec_dot`.
//!
//! The SIMD kernels work on one group of eight interleaved rows
//! ([`Q4_1Matrix`]) at a time, the eight rows in the eight lanes of a vector,
//! so each block's term is scaled in one vector multiply chain (the rows'
//! scales and minimums are one 16-byte load each) and added to the rows'
//! running sums lane by lane, block after block: candle's order for every row,
//! with no separate ordered summation.
//!
//! - **One token (decode)** streams the group once: one 32-byte load brings
//!   rows `i` and `i + 4`'s quants of a block; their low and high nibbles meet
//!   the token's first and second 16 activations (each broadcast to both
//!   halves) in two `vpdpbusd` (VNNI) or `vpmaddubsw` (AVX2) steps, and three
//!   horizontal adds turn the four vectors into the eight rows' integer sums.
//! - **Several tokens (prompt processing)** unpack a chunk of blocks once,
//!   transposed so that lane `j` of vector `s` holds row `j`'s quants
//!   `4s..4s+4`; a token's block is then eight `vpdpbusd` of those vectors with
//!   its 4-byte groups broadcast — the rows' sums come out in lanes with no
//!   horizontal adds — and four tokens share each load of the weights.

use super::{
	quant::{Q4_1Matrix, QActs, Q4_1_GROUP, QK},
	Isa, OutPtr, Threads,
};
use half::f16;

/// `out[t * stride + r] = row r of `w` · token t of `x`` for every row and token.
/// `x` must be Q8_1 ([`QActs::quantize_q8_1`]) with `w.kb` blocks per token.
pub fn matmul(
	isa: Isa,
	threads: Threads,
	w: &Q4_1Matrix,
	x: &QActs,
	out: &mut [f32],
	stride: usize,
) {
	assert_eq!(
		w.kb, x.kb,
		"Q4_1 matmul: {} weight blocks against {} activation blocks",
		w.kb, x.kb
	);
	assert!(
		stride >= w.rows && out.len() >= x.n.saturating_sub(1) * stride + w.rows,
		"Q4_1 matmul: output too small"
	);
	assert_eq!(x.s.len(), x.d.len(), "Q4_1 matmul needs Q8_1 activations");
	assert_eq!(x.qs.len(), x.n * x.kb * QK, "Q4_1 matmul: activations incomplete");
	let ptr = OutPtr(out.as_mut_ptr());
	threads.for_each(w.groups(), |groups| {
		// SAFETY: `groups` are in bounds and every (row, token) element is
		// written by the one item that owns the row's group.
		unsafe { groups_dispatch(isa, w, groups, x, ptr, stride) }
	});
}

#[cfg(target_arch = "x86_64")]
thread_local! {
	/// Per-thread buffers of the prompt-processing kernels (kept: allocating
	/// and zeroing them per call would cost more than some calls' arithmetic).
	static SCRATCH: std::cell::RefCell<Box<x86::Scratch>> = std::cell::RefCell::new(Box::default());
}

unsafe fn groups_dispatch(
	isa: Isa,
	w: &Q4_1Matrix,
	groups: std::ops::Range<usize>,
	x: &QActs,
	out: OutPtr,
	stride: usize,
) {
	match isa {
		#[cfg(target_arch = "x86_64")]
		Isa::Avx512Vnni => {
			SCRATCH.with_borrow_mut(|s| unsafe { x86::groups_vnni(w, groups, x, out, stride, s) })
		},
		#[cfg(target_arch = "x86_64")]
		Isa::Avx2 => {
			SCRATCH.with_borrow_mut(|s| unsafe { x86::groups_avx2(w, groups, x, out, stride, s) })
		},
		_ => {
			let rows = groups.start * Q4_1_GROUP..(groups.end * Q4_1_GROUP).min(w.rows);
			for r in rows {
				for t in 0..x.n {
					unsafe { *out.at(t * stride + r) = dot_scalar(w, r, x, t) };
				}
			}
		},
	}
}

/// The reference: candle's `vec_dot_unopt` for one row and one token.
pub fn dot_scalar(w: &Q4_1Matrix, r: usize, x: &QActs, t: usize) -> f32 {
	let kb = w.kb;
	let mut sumf = 0f32;
	for b in 0..kb {
		let q = w.quants(r, b);
		let y = &x.qs[(t * kb + b) * QK..(t * kb + b + 1) * QK];
		let mut sumi = 0i32;
		for j in 0..16 {
			sumi += (q[j] & 0x0F) as i32 * y[j] as i32 + (q[j] >> 4) as i32 * y[j + 16] as i32;
		}
		let dw = f16::from_bits(w.d(r, b)).to_f32();
		let mw = f16::from_bits(w.m(r, b)).to_f32();
		sumf += sumi as f32 * dw * x.d[t * kb + b] + mw * x.s[t * kb + b];
	}
	sumf
}

#[cfg(target_arch = "x86_64")]
mod x86 {
	use super::super::{
		quant::{Q4_1Matrix, QActs, Q4_1_GROUP, Q4_1_GROUP_BLOCK, QK},
		OutPtr,
	};
	use std::arch::x86_64::*;

	/// Tokens computed together in prompt processing (they share each load of
	/// the unpacked weights).
	const TT: usize = 4;
	/// Blocks unpacked at a time for prompt processing (a longer row is done
	/// in chunks, in order).
	const KC: usize = 64;
	/// How far ahead of the decode stream to prefetch, in bytes.
	const PREFETCH: usize = 4 * Q4_1_GROUP_BLOCK;

	/// A thread's buffers for prompt processing.
	pub(super) struct Scratch {
		/// A chunk's unpacked quants: per block, eight vectors `s`, lane `j`
		/// holding row `j`'s quants `4s..4s+4` (quants 16.. are the high nibbles).
		w: [[[u8; 32]; 8]; KC],
		/// Per block, the eight rows' scales and minimums, widened.
		dm: [[[f32; 8]; 2]; KC],
		/// Per token, the eight rows' sums over the chunks done so far.
		acc: Vec<[f32; 8]>,
	}

	impl Default for Scratch {
		fn default() -> Self {
			Scratch { w: [[[0; 32]; 8]; KC], dm: [[[0.0; 8]; 2]; KC], acc: vec![] }
		}
	}

	#[inline]
	#[target_feature(enable = "avx2,avx512vnni,avx512vl")]
	fn dp2_vnni(lo: __m256i, ylo: __m256i, hi: __m256i, yhi: __m256i) -> __m256i {
		_mm256_dpbusd_epi32(_mm256_dpbusd_epi32(_mm256_setzero_si256(), lo, ylo), hi, yhi)
	}

	/// `vpmaddubsw` sums of at most 2·15·128 per pair, two of them at most
	/// 7,680: no 16-bit saturation, the integer sums are exact.
	#[inline]
	#[target_feature(enable = "avx2")]
	fn dp2_avx2(lo: __m256i, ylo: __m256i, hi: __m256i, yhi: __m256i) -> __m256i {
		let s = _mm256_add_epi16(_mm256_maddubs_epi16(lo, ylo), _mm256_maddubs_epi16(hi, yhi));
		_mm256_madd_epi16(s, _mm256_set1_epi16(1))
	}

	/// `acc + ` the lane sums of four u8 × i8 products.
	#[inline]
	#[target_feature(enable = "avx2,avx512vnni,avx512vl")]
	fn dpacc_vnni(acc: __m256i, w: __m256i, y: __m256i) -> __m256i {
		_mm256_dpbusd_epi32(acc, w, y)
	}

	/// The same with `vpmaddubsw` (pairs of at most 2·15·128: exact) and `vpmaddwd`.
	#[inline]
	#[target_feature(enable = "avx2")]
	fn dpacc_avx2(acc: __m256i, w: __m256i, y: __m256i) -> __m256i {
		_mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(w, y), _mm256_set1_epi16(1)))
	}

	/// Four row-pair vectors of 32-bit groups (`v[k]`: row k's groups 0..4 in
	/// the low half, row k+4's in the high half) → four vectors, one per group
	/// `s`, holding rows 0..8's group `s` in lane order.
	#[inline]
	#[target_feature(enable = "avx2")]
	fn transpose4(v: [__m256i; 4]) -> (__m256i, __m256i, __m256i, __m256i) {
		let a01 = _mm256_unpacklo_epi32(v[0], v[1]);
		let b01 = _mm256_unpackhi_epi32(v[0], v[1]);
		let a23 = _mm256_unpacklo_epi32(v[2], v[3]);
		let b23 = _mm256_unpackhi_epi32(v[2], v[3]);
		(
			_mm256_unpacklo_epi64(a01, a23),
			_mm256_unpackhi_epi64(a01, a23),
			_mm256_unpacklo_epi64(b01, b23),
			_mm256_unpackhi_epi64(b01, b23),
		)
	}

	/// Four vectors of row pairs (`v[k]`: row `k` in the low half, row `k + 4`
	/// in the high half, four partial sums each) → the eight rows' sums in order.
	#[inline]
	#[target_feature(enable = "avx2")]
	fn rows8(v: [__m256i; 4]) -> __m256i {
		_mm256_hadd_epi32(_mm256_hadd_epi32(v[0], v[1]), _mm256_hadd_epi32(v[2], v[3]))
	}

	/// candle's block term, `sumi as f32 * d_w * d_x + m_w * s_x` (no fused
	/// multiply-add), for eight rows.
	#[inline]
	#[target_feature(enable = "avx2")]
	fn term(sumi: __m256i, d: __m256, m: __m256, dx: f32, sx: f32) -> __m256 {
		_mm256_add_ps(
			_mm256_mul_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(sumi), d), _mm256_set1_ps(dx)),
			_mm256_mul_ps(m, _mm256_set1_ps(sx)),
		)
	}

	/// Writes the first `n` lanes of `acc` to rows `r0..r0 + n` of token `t`.
	#[inline]
	#[target_feature(enable = "avx2")]
	unsafe fn store(acc: __m256, n: usize, out: OutPtr, t: usize, stride: usize, r0: usize) {
		let mut a = [0f32; 8];
		unsafe { _mm256_storeu_ps(a.as_mut_ptr(), acc) };
		for (i, v) in a.iter().take(n).enumerate() {
			unsafe { *out.at(t * stride + r0 + i) = *v };
		}
	}

	macro_rules! groups_kernel {
		($name:ident, $features:literal, $dp2:ident, $dpacc:ident) => {
			/// Row groups × every token (see the module's comment).
			#[target_feature(enable = $features)]
			pub(super) unsafe fn $name(
				w: &Q4_1Matrix,
				groups: std::ops::Range<usize>,
				x: &QActs,
				out: OutPtr,
				stride: usize,
				scratch: &mut Scratch,
			) {
				let kb = w.kb;
				let low = _mm256_set1_epi8(0x0F);
				let xq = x.qs.as_ptr();
				for g in groups {
					let r0 = g * Q4_1_GROUP;
					let nrows = (w.rows - r0).min(Q4_1_GROUP);
					let base = unsafe { w.data.as_ptr().add(g * kb * Q4_1_GROUP_BLOCK) };
					if x.n == 1 {
						// Decode: one pass over the group's stream.
						let mut acc = _mm256_setzero_ps();
						for b in 0..kb {
							let p = unsafe { base.add(b * Q4_1_GROUP_BLOCK) };
							_mm_prefetch::<_MM_HINT_T0>(p.wrapping_add(PREFETCH) as *const i8);
							_mm_prefetch::<_MM_HINT_T0>(p.wrapping_add(PREFETCH + 64) as *const i8);
							_mm_prefetch::<_MM_HINT_T0>(p.wrapping_add(PREFETCH + 128) as *const i8);
							let (ylo, yhi) = unsafe {
								(
									_mm256_broadcastsi128_si256(_mm_loadu_si128(
										xq.add(b * QK) as *const __m128i
									)),
									_mm256_broadcastsi128_si256(_mm_loadu_si128(
										xq.add(b * QK + 16) as *const __m128i,
									)),
								)
							};
							let mut v = [_mm256_setzero_si256(); 4];
							for (k, vk) in v.iter_mut().enumerate() {
								let q =
									unsafe { _mm256_loadu_si256(p.add(32 * k) as *const __m256i) };
								let lo = _mm256_and_si256(q, low);
								let hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), low);
								*vk = $dp2(lo, ylo, hi, yhi);
							}
							let (d, m) = unsafe {
								(
									_mm256_cvtph_ps(_mm_loadu_si128(p.add(128) as *const __m128i)),
									_mm256_cvtph_ps(_mm_loadu_si128(p.add(144) as *const __m128i)),
								)
							};
							acc = _mm256_add_ps(acc, term(rows8(v), d, m, x.d[b], x.s[b]));
						}
						unsafe { store(acc, nrows, out, 0, stride, r0) };
						continue;
					}
					// Prompt processing: unpack a chunk of blocks once, transposed so
					// that lane j of vector s holds row j's quants 4s..4s+3; then
					// each token's block is eight `vpdpbusd` of those vectors with
					// its 4-byte groups broadcast, the eight rows' sums coming out in
					// lanes with no horizontal adds.
					let Scratch { w: wbuf, dm, acc: accs } = &mut *scratch;
					accs.resize(x.n, [0.0; 8]);
					let mut b0 = 0;
					while b0 < kb {
						let nb = KC.min(kb - b0);
						for (b, (wb, dmb)) in
							wbuf.iter_mut().zip(dm.iter_mut()).take(nb).enumerate()
						{
							let p = unsafe { base.add((b0 + b) * Q4_1_GROUP_BLOCK) };
							// v[k]: rows k | k+4, 16 quant bytes each.
							let v: [__m256i; 4] = std::array::from_fn(|k| unsafe {
								_mm256_loadu_si256(p.add(32 * k) as *const __m256i)
							});
							let lo = v.map(|q| _mm256_and_si256(q, low));
							let hi = v.map(|q| _mm256_and_si256(_mm256_srli_epi16(q, 4), low));
							let mut t = [_mm256_setzero_si256(); 8];
							(t[0], t[1], t[2], t[3]) = transpose4(lo);
							(t[4], t[5], t[6], t[7]) = transpose4(hi);
							for (dst, tv) in wb.iter_mut().zip(t) {
								unsafe {
									_mm256_storeu_si256(dst.as_mut_ptr() as *mut __m256i, tv)
								};
							}
							unsafe {
								_mm256_storeu_ps(
									dmb[0].as_mut_ptr(),
									_mm256_cvtph_ps(_mm_loadu_si128(p.add(128) as *const __m128i)),
								);
								_mm256_storeu_ps(
									dmb[1].as_mut_ptr(),
									_mm256_cvtph_ps(_mm_loadu_si128(p.add(144) as *const __m128i)),
								);
							}
						}
						let last = b0 + nb == kb;
						// TT tokens per pass over the unpacked weights (past the last
						// token, the last one is computed again and stored again).
						let (xd, xs) = (x.d.as_ptr(), x.s.as_ptr());
						let mut t0 = 0;
						while t0 < x.n {
							let ts: [usize; TT] = std::array::from_fn(|i| (t0 + i).min(x.n - 1));
							let mut acc: [__m256; TT] = if b0 == 0 {
								[_mm256_setzero_ps(); TT]
							} else {
								ts.map(|t| unsafe { _mm256_loadu_ps(accs[t].as_ptr()) })
							};
							for (b, (wb, dmb)) in wbuf.iter().zip(dm.iter()).take(nb).enumerate() {
								let w: [__m256i; 8] = std::array::from_fn(|s| unsafe {
									_mm256_loadu_si256(wb[s].as_ptr() as *const __m256i)
								});
								let (d, m) = unsafe {
									(
										_mm256_loadu_ps(dmb[0].as_ptr()),
										_mm256_loadu_ps(dmb[1].as_ptr()),
									)
								};
								for (a, &t) in acc.iter_mut().zip(&ts) {
									let i = t * kb + b0 + b;
									let y = unsafe { xq.add(i * QK) } as *const i32;
									let yb = |s: usize| {
										_mm256_set1_epi32(unsafe { y.add(s).read_unaligned() })
									};
									let mut c0 = _mm256_setzero_si256();
									let mut c1 = _mm256_setzero_si256();
									for s in 0..4 {
										c0 = $dpacc(c0, w[s], yb(s));
										c1 = $dpacc(c1, w[s + 4], yb(s + 4));
									}
									let sumi = _mm256_add_epi32(c0, c1);
									let (dx, sx) = unsafe { (*xd.add(i), *xs.add(i)) };
									*a = _mm256_add_ps(*a, term(sumi, d, m, dx, sx));
								}
							}
							for (a, &t) in acc.iter().zip(&ts) {
								if last {
									unsafe { store(*a, nrows, out, t, stride, r0) };
								} else {
									unsafe { _mm256_storeu_ps(accs[t].as_mut_ptr(), *a) };
								}
							}
							t0 += TT;
						}
						b0 += nb;
					}
				}
			}
		};
	}

	groups_kernel!(groups_vnni, "avx2,fma,f16c,avx512vnni,avx512vl", dp2_vnni, dpacc_vnni);
	groups_kernel!(groups_avx2, "avx2,fma,f16c", dp2_avx2, dpacc_avx2);
}

#[cfg(test)]
mod tests {
	use super::{super::test_util::*, *};
	use candle_core::quantized::GgmlDType;

	/// A random Q4_1 matrix in GGML bytes.
	fn ggml_q4_1(rows: usize, cols: usize, seed: &mut u64) -> Vec<u8> {
		let mut out = vec![];
		for _ in 0..rows * cols / QK {
			out.extend_from_slice(
				&f16::from_f32(lcg(seed).abs() * 0.05 + 1e-3).to_bits().to_le_bytes(),
			);
			out.extend_from_slice(&f16::from_f32(lcg(seed) * 0.3).to_bits().to_le_bytes());
			for _ in 0..16 {
				out.push(((lcg(seed) + 1.0) * 127.9) as u8);
			}
		}
		out
	}

	/// Stacking GGML matrices packs the same rows as packing their concatenation,
	/// across partial groups.
	#[test]
	fn stack_equals_concatenation() {
		let mut seed = 3u64;
		let (a, b, c) = (
			ggml_q4_1(13, 64, &mut seed),
			ggml_q4_1(3, 64, &mut seed),
			ggml_q4_1(9, 64, &mut seed),
		);
		let stacked = Q4_1Matrix::stack("s", &[(&a, 13), (&b, 3), (&c, 9)], 64).unwrap();
		let joined = Q4_1Matrix::from_ggml("j", &[&a[..], &b, &c].concat(), 25, 64).unwrap();
		assert_eq!((stacked.rows, stacked.kb, stacked.groups()), (25, 2, 4));
		assert!(stacked.data == joined.data);
		// Row 14 is row 1 of the second part; its block 1 is GGML block 3 there.
		let blk = &b[3 * 20..4 * 20];
		assert_eq!(stacked.quants(14, 1), &blk[4..20]);
		assert_eq!(stacked.d(14, 1), u16::from_le_bytes([blk[0], blk[1]]));
		assert_eq!(stacked.m(14, 1), u16::from_le_bytes([blk[2], blk[3]]));
	}

	/// Every kernel, on one thread and on the pool, gives stock candle's bits.
	#[test]
	fn kernels_equal_stock_candle_bit_for_bit() {
		let mut seed = 7u64;
		// 18 blocks (two full groups of 8 and a tail of 2), 48 blocks, 4 blocks (candle wants an
		// even count); 40 tokens (several token tiles); 72 blocks (two block chunks).
		for (rows, cols, tokens) in
			[(37, 576, 5), (19, 1536, 3), (9, 128, 1), (21, 576, 40), (6, 2304, 17)]
		{
			let bytes = ggml_q4_1(rows, cols, &mut seed);
			let w = Q4_1Matrix::from_ggml("w", &bytes, rows, cols).unwrap();
			let xs: Vec<f32> = (0..tokens * cols).map(|_| lcg(&mut seed) * 3.0).collect();
			let want = candle_matmul(GgmlDType::Q4_1, &bytes, rows, cols, &xs);
			let mut x = QActs::default();
			x.quantize_q8_1(&xs, cols);
			let mut isas = vec![Isa::Scalar, Isa::detect()];
			if Isa::detect() == Isa::Avx512Vnni {
				isas.push(Isa::Avx2);
			}
			for isa in isas {
				for threads in [Threads::One, Threads::Pool] {
					let mut got = vec![f32::NAN; tokens * rows];
					matmul(isa, threads, &w, &x, &mut got, rows);
					let same = want.iter().zip(&got).all(|(a, b)| a.to_bits() == b.to_bits());
					assert!(
						same,
						"{isa:?} {threads:?} {rows}x{cols}: {:?} vs {:?}",
						&want[..4],
						&got[..4]
					);
				}
			}
		}
	}
}
