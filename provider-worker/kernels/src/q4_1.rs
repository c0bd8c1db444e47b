//! Q4_1 weights × Q8_1 activations: `y[t][r] = Σ_b ((Σq·x)·d_w·d_x + m_w·s_x)`,
//! the blocks summed in order, exactly as candle's `BlockQ4_1::vec_dot`.
//!
//! The SIMD kernels take one weight row and every token: a group of eight
//! blocks is unpacked once (nibbles to bytes) and reused for all tokens; each
//! block's 32 products are one `vpdpbusd` (VNNI) or `vpmaddubsw`+`vpmaddwd`
//! (AVX2); eight blocks' integer sums are gathered into one vector by a
//! horizontal-add ladder, scaled in one multiply each, and added to the row's
//! sum in block order.
use super::{
	quant::{Q4_1Matrix, QActs, QK},
	Isa, OutPtr, Threads,
};
use half::f16;

/// Rows per work item handed to a thread.
const ROW_TILE: usize = 8;

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
	let ptr = OutPtr(out.as_mut_ptr());
	let items = w.rows.div_ceil(ROW_TILE);
	threads.for_each(items, |range| {
		let rows = range.start * ROW_TILE..(range.end * ROW_TILE).min(w.rows);
		// SAFETY: `rows` are in bounds (asserted above) and every (row, token)
		// element is written by the one item that owns the row.
		unsafe { rows_dispatch(isa, w, rows, x, ptr, stride) }
	});
}

#[cfg(target_arch = "x86_64")]
thread_local! {
	/// Per-thread tile buffers of the SIMD kernels (kept: zeroing 30 KB per
	/// call would cost more than some calls' arithmetic).
	static SCRATCH: std::cell::RefCell<Box<x86::Scratch>> = std::cell::RefCell::new(Box::default());
}

unsafe fn rows_dispatch(
	isa: Isa,
	w: &Q4_1Matrix,
	rows: std::ops::Range<usize>,
	x: &QActs,
	out: OutPtr,
	stride: usize,
) {
	match isa {
		#[cfg(target_arch = "x86_64")]
		Isa::Avx512Vnni => {
			SCRATCH.with_borrow_mut(|s| unsafe { x86::rows_vnni(w, rows, x, out, stride, s) })
		},
		#[cfg(target_arch = "x86_64")]
		Isa::Avx2 => SCRATCH.with_borrow_mut(|s| unsafe { x86::rows_avx2(w, rows, x, out, stride, s) }),
		_ => {
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
		let q = &w.qs[(r * kb + b) * 16..(r * kb + b + 1) * 16];
		let y = &x.qs[(t * kb + b) * QK..(t * kb + b + 1) * QK];
		let mut sumi = 0i32;
		for j in 0..16 {
			sumi += (q[j] & 0x0F) as i32 * y[j] as i32 + (q[j] >> 4) as i32 * y[j + 16] as i32;
		}
		let dw = f16::from_bits(w.d[r * kb + b]).to_f32();
		let mw = f16::from_bits(w.m[r * kb + b]).to_f32();
		sumf += sumi as f32 * dw * x.d[t * kb + b] + mw * x.s[t * kb + b];
	}
	sumf
}

#[cfg(target_arch = "x86_64")]
mod x86 {
	use super::super::{
		quant::{Q4_1Matrix, QActs, QK},
		OutPtr,
	};
	use std::arch::x86_64::*;

	/// Rows computed together (their block sums form independent add chains).
	const RT: usize = 4;
	/// Tokens computed together.
	const TB: usize = 16;
	/// Blocks per chunk of a row (a row of more blocks is done in chunks, in order).
	const KC: usize = 64;

	/// A thread's tile buffers.
	pub(super) struct Scratch {
		/// Unpacked quants of the tile's rows (zero past a row's blocks, so a
		/// partial group of 8 adds nothing).
		wbuf: [[[u8; QK]; KC]; RT],
		dw: [[f32; KC]; RT],
		mw: [[f32; KC]; RT],
		/// Each (row, token)'s block terms, before they are summed in order.
		terms: [[f32; KC]; RT * TB],
		acc: [f32; RT * TB],
	}

	impl Default for Scratch {
		fn default() -> Self {
			Scratch {
				wbuf: [[[0; QK]; KC]; RT],
				dw: [[0.0; KC]; RT],
				mw: [[0.0; KC]; RT],
				terms: [[0.0; KC]; RT * TB],
				acc: [0.0; RT * TB],
			}
		}
	}

	/// Eight vectors of eight i32 partial sums → one vector of their eight totals.
	#[inline]
	#[target_feature(enable = "avx2")]
	fn ladder(v: &[__m256i; 8]) -> __m256i {
		let h01 = _mm256_hadd_epi32(v[0], v[1]);
		let h23 = _mm256_hadd_epi32(v[2], v[3]);
		let h45 = _mm256_hadd_epi32(v[4], v[5]);
		let h67 = _mm256_hadd_epi32(v[6], v[7]);
		let h0123 = _mm256_hadd_epi32(h01, h23);
		let h4567 = _mm256_hadd_epi32(h45, h67);
		let lo = _mm256_permute2x128_si256(h0123, h4567, 0x20);
		let hi = _mm256_permute2x128_si256(h0123, h4567, 0x31);
		_mm256_add_epi32(lo, hi)
	}

	#[inline]
	#[target_feature(enable = "avx2,avx512vnni,avx512vl")]
	fn dp_vnni(w: __m256i, x: __m256i) -> __m256i {
		_mm256_dpbusd_epi32(_mm256_setzero_si256(), w, x)
	}

	#[inline]
	#[target_feature(enable = "avx2")]
	fn dp_avx2(w: __m256i, x: __m256i) -> __m256i {
		_mm256_madd_epi16(_mm256_maddubs_epi16(w, x), _mm256_set1_epi16(1))
	}

	/// Adds `terms[c][..nb]` in order to `acc[c]` for every chain `c`, four
	/// chains interleaved (the adds of one chain stay in candle's order).
	#[allow(clippy::needless_range_loop)] // four arrays walked in lockstep
	#[inline]
	#[target_feature(enable = "avx2")]
	fn sum_chains(terms: &[[f32; KC]], nb: usize, acc: &mut [f32]) {
		let mut c = 0;
		while c + 4 <= acc.len() {
			let (mut s0, mut s1, mut s2, mut s3) = (acc[c], acc[c + 1], acc[c + 2], acc[c + 3]);
			for b in 0..nb {
				s0 += terms[c][b];
				s1 += terms[c + 1][b];
				s2 += terms[c + 2][b];
				s3 += terms[c + 3][b];
			}
			(acc[c], acc[c + 1], acc[c + 2], acc[c + 3]) = (s0, s1, s2, s3);
			c += 4;
		}
		while c < acc.len() {
			let mut s = acc[c];
			for t in &terms[c][..nb] {
				s += t;
			}
			acc[c] = s;
			c += 1;
		}
	}

	macro_rules! rows_kernel {
		($name:ident, $features:literal, $dp:ident) => {
			/// Rows × tokens, in tiles of `RT` rows × `TB` tokens × `KC` blocks:
			/// the tile's weights are unpacked once into `wbuf`, every (row,
			/// token) gets its blocks' float terms in `terms`, then the terms
			/// are added to the running sums in block order.
			#[target_feature(enable = $features)]
			pub(super) unsafe fn $name(
				w: &Q4_1Matrix,
				rows: std::ops::Range<usize>,
				x: &QActs,
				out: OutPtr,
				stride: usize,
				scratch: &mut Scratch,
			) {
				let kb = w.kb;
				let low = _mm_set1_epi8(0x0F);
				let Scratch { wbuf, dw, mw, terms, acc } = scratch;
				// Activations past a row's end are read as a zero-weighted group tail:
				// give them 8 blocks of zeros to read.
				let xpad: [i8; 8 * QK] = [0; 8 * QK];
				let fpad = [0f32; 8];
				let mut r0 = rows.start;
				while r0 < rows.end {
					let rt = RT.min(rows.end - r0);
					let mut t0 = 0;
					while t0 < x.n {
						let tb = TB.min(x.n - t0);
						acc[..rt * tb].fill(0.0);
						let mut b0 = 0;
						while b0 < kb {
							let nb = KC.min(kb - b0);
							let groups = nb.div_ceil(8);
							for r in 0..rt {
								let row = r0 + r;
								for b in 0..groups * 8 {
									if b < nb {
										let i = row * kb + b0 + b;
										// The same block of the next tile's row.
										_mm_prefetch::<_MM_HINT_T0>(
											w.qs.as_ptr().wrapping_add((i + RT * kb) * 16)
												as *const i8,
										);
										let q = unsafe {
											_mm_loadu_si128(
												w.qs.as_ptr().add(i * 16) as *const __m128i
											)
										};
										let lo = _mm_and_si128(q, low);
										let hi = _mm_and_si128(_mm_srli_epi16(q, 4), low);
										let v = _mm256_set_m128i(hi, lo);
										unsafe {
											_mm256_storeu_si256(
												wbuf[r][b].as_mut_ptr() as *mut __m256i,
												v,
											)
										};
									} else {
										wbuf[r][b] = [0; QK];
									}
								}
								for g in 0..groups {
									let (b, i) = (g * 8, row * kb + b0 + g * 8);
									if b + 8 <= nb {
										unsafe {
											let d = _mm256_cvtph_ps(_mm_loadu_si128(
												w.d.as_ptr().add(i) as *const __m128i,
											));
											let m = _mm256_cvtph_ps(_mm_loadu_si128(
												w.m.as_ptr().add(i) as *const __m128i,
											));
											_mm256_storeu_ps(dw[r].as_mut_ptr().add(b), d);
											_mm256_storeu_ps(mw[r].as_mut_ptr().add(b), m);
										}
									} else {
										for j in 0..8 {
											let ok = b + j < nb;
											dw[r][b + j] = if ok {
												half::f16::from_bits(w.d[i + j]).to_f32()
											} else {
												0.0
											};
											mw[r][b + j] = if ok {
												half::f16::from_bits(w.m[i + j]).to_f32()
											} else {
												0.0
											};
										}
									}
								}
							}
							for tt in 0..tb {
								let t = t0 + tt;
								let xrow = (t * kb + b0) * QK;
								for g in 0..groups {
									let full = (g + 1) * 8 <= nb;
									let mut y = [_mm256_setzero_si256(); 8];
									for (i, yv) in y.iter_mut().enumerate() {
										let b = g * 8 + i;
										let p = if full || b < nb {
											unsafe { x.qs.as_ptr().add(xrow + b * QK) }
										} else {
											xpad.as_ptr()
										};
										*yv = unsafe { _mm256_loadu_si256(p as *const __m256i) };
									}
									let xb = t * kb + b0 + g * 8;
									let (dx, sx) = if full {
										unsafe {
											(
												_mm256_loadu_ps(x.d.as_ptr().add(xb)),
												_mm256_loadu_ps(x.s.as_ptr().add(xb)),
											)
										}
									} else {
										let (mut d8, mut s8) = (fpad, fpad);
										let n = nb - g * 8;
										d8[..n].copy_from_slice(&x.d[xb..xb + n]);
										s8[..n].copy_from_slice(&x.s[xb..xb + n]);
										unsafe {
											(
												_mm256_loadu_ps(d8.as_ptr()),
												_mm256_loadu_ps(s8.as_ptr()),
											)
										}
									};
									for r in 0..rt {
										let mut v = [_mm256_setzero_si256(); 8];
										for (i, vv) in v.iter_mut().enumerate() {
											let wv = unsafe {
												_mm256_loadu_si256(
													wbuf[r][g * 8 + i].as_ptr() as *const __m256i
												)
											};
											*vv = $dp(wv, y[i]);
										}
										let sumi = ladder(&v);
										let d =
											unsafe { _mm256_loadu_ps(dw[r].as_ptr().add(g * 8)) };
										let m =
											unsafe { _mm256_loadu_ps(mw[r].as_ptr().add(g * 8)) };
										// candle: `sumi as f32 * d_w * d_x + m_w * s_x`, no fused multiply-add.
										let f = _mm256_add_ps(
											_mm256_mul_ps(
												_mm256_mul_ps(_mm256_cvtepi32_ps(sumi), d),
												dx,
											),
											_mm256_mul_ps(m, sx),
										);
										unsafe {
											_mm256_storeu_ps(
												terms[r * tb + tt].as_mut_ptr().add(g * 8),
												f,
											)
										};
									}
								}
							}
							sum_chains(&terms[..rt * tb], nb, &mut acc[..rt * tb]);
							b0 += nb;
						}
						for r in 0..rt {
							for tt in 0..tb {
								unsafe { *out.at((t0 + tt) * stride + r0 + r) = acc[r * tb + tt] };
							}
						}
						t0 += tb;
					}
					r0 += rt;
				}
			}
		};
	}

	rows_kernel!(rows_vnni, "avx2,fma,f16c,avx512vnni,avx512vl", dp_vnni);
	rows_kernel!(rows_avx2, "avx2,fma,f16c", dp_avx2);
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
