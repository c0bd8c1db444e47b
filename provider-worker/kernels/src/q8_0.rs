//! Q8_0 weights × Q8_0 activations (the tied output matrix), exactly as candle's
//! AVX2 `vec_dot_q8_0_q8_0`: an 8-lane FMA accumulator over the blocks, then
//! candle's horizontal sum. Lane sums come from `vpdpbusd` on (|w|, sign(x, w))
//! with VNNI — the same four-product lane sums as `vpmaddubsw`+`vpmaddwd`.
use super::{
	quant::{Q8_0Matrix, QActs, QK},
	Isa, OutPtr, Threads,
};

/// Rows per work item (decode computes 49,152 vocabulary rows for one token).
const ROW_TILE: usize = 64;

/// `out[t * stride + r] = row r of `w` · token t of `x`` for every row and token.
/// `x` must be Q8_0 ([`QActs::quantize_q8_0`]).
pub fn matmul(
	isa: Isa,
	threads: Threads,
	w: &Q8_0Matrix,
	x: &QActs,
	out: &mut [f32],
	stride: usize,
) {
	assert_eq!(
		w.kb, x.kb,
		"Q8_0 matmul: {} weight blocks against {} activation blocks",
		w.kb, x.kb
	);
	assert!(
		stride >= w.rows && out.len() >= x.n.saturating_sub(1) * stride + w.rows,
		"Q8_0 matmul: output too small"
	);
	let ptr = OutPtr(out.as_mut_ptr());
	let items = w.rows.div_ceil(ROW_TILE);
	threads.for_each(items, |range| {
		let rows = range.start * ROW_TILE..(range.end * ROW_TILE).min(w.rows);
		for t in 0..x.n {
			// SAFETY: rows in bounds, each element written by the item owning its row.
			unsafe { rows_dispatch(isa, w, rows.clone(), x, t, ptr, stride) }
		}
	});
}

unsafe fn rows_dispatch(
	isa: Isa,
	w: &Q8_0Matrix,
	rows: std::ops::Range<usize>,
	x: &QActs,
	t: usize,
	out: OutPtr,
	stride: usize,
) {
	match isa {
		#[cfg(target_arch = "x86_64")]
		Isa::Avx512Vnni => unsafe { x86::rows_vnni(w, rows, x, t, out, stride) },
		#[cfg(target_arch = "x86_64")]
		Isa::Avx2 => unsafe { x86::rows_avx2(w, rows, x, t, out, stride) },
		_ => {
			for r in rows {
				unsafe { *out.at(t * stride + r) = dot_scalar(w, r, x, t) };
			}
		},
	}
}

/// The reference: candle's AVX2 arithmetic in portable Rust (8 lanes of 4
/// products, `acc[l] = fma(d, lane, acc[l])`, then candle's `hsum_float_8`).
pub fn dot_scalar(w: &Q8_0Matrix, r: usize, x: &QActs, t: usize) -> f32 {
	let kb = w.kb;
	let mut acc = [0f32; 8];
	for b in 0..kb {
		let wq = &w.qs[(r * kb + b) * QK..(r * kb + b + 1) * QK];
		let xq = &x.qs[(t * kb + b) * QK..(t * kb + b + 1) * QK];
		let d = w.d[r * kb + b] * x.d[t * kb + b];
		for (l, a) in acc.iter_mut().enumerate() {
			let lane: i32 = (0..4).map(|j| wq[4 * l + j] as i32 * xq[4 * l + j] as i32).sum();
			*a = d.mul_add(lane as f32, *a);
		}
	}
	// hsum_float_8: (hi + lo) per 128-bit half, then movehl, then movehdup.
	let s = [acc[4] + acc[0], acc[5] + acc[1], acc[6] + acc[2], acc[7] + acc[3]];
	let s = [s[0] + s[2], s[1] + s[3]];
	s[0] + s[1]
}

#[cfg(target_arch = "x86_64")]
mod x86 {
	use super::super::{
		quant::{Q8_0Matrix, QActs, QK},
		OutPtr,
	};
	use std::arch::x86_64::*;

	/// candle's `hsum_float_8`.
	#[inline]
	#[target_feature(enable = "avx2")]
	fn hsum(x: __m256) -> f32 {
		let res = _mm256_extractf128_ps(x, 1);
		let res = _mm_add_ps(res, _mm256_castps256_ps128(x));
		let res = _mm_add_ps(res, _mm_movehl_ps(res, res));
		let res = _mm_add_ss(res, _mm_movehdup_ps(res));
		_mm_cvtss_f32(res)
	}

	#[inline]
	#[target_feature(enable = "avx2,avx512vnni,avx512vl")]
	fn dp_vnni(ax: __m256i, sy: __m256i) -> __m256i {
		_mm256_dpbusd_epi32(_mm256_setzero_si256(), ax, sy)
	}

	#[inline]
	#[target_feature(enable = "avx2")]
	fn dp_avx2(ax: __m256i, sy: __m256i) -> __m256i {
		_mm256_madd_epi16(_mm256_maddubs_epi16(ax, sy), _mm256_set1_epi16(1))
	}

	macro_rules! rows_kernel {
		($name:ident, $features:literal, $dp:ident) => {
			#[target_feature(enable = $features)]
			pub(super) unsafe fn $name(
				w: &Q8_0Matrix,
				rows: std::ops::Range<usize>,
				x: &QActs,
				t: usize,
				out: OutPtr,
				stride: usize,
			) {
				let kb = w.kb;
				let xq = unsafe { x.qs.as_ptr().add(t * kb * QK) };
				let xd = &x.d[t * kb..(t + 1) * kb];
				let mut r = rows.start;
				// Four rows at a time share each activation load.
				while r + 4 <= rows.end {
					let mut acc = [_mm256_setzero_ps(); 4];
					for b in 0..kb {
						let y = unsafe { _mm256_loadu_si256(xq.add(b * QK) as *const __m256i) };
						// The next four rows' quants, one block ahead of their use.
						for i in 4..8 {
							let p = w.qs.as_ptr().wrapping_add(((r + i) * kb + b) * QK);
							_mm_prefetch::<_MM_HINT_T0>(p as *const i8);
						}
						for (i, a) in acc.iter_mut().enumerate() {
							let row = r + i;
							let wx = unsafe {
								_mm256_loadu_si256(
									w.qs.as_ptr().add((row * kb + b) * QK) as *const __m256i
								)
							};
							let d = _mm256_set1_ps(w.d[row * kb + b] * xd[b]);
							let q = $dp(_mm256_sign_epi8(wx, wx), _mm256_sign_epi8(y, wx));
							*a = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(q), *a);
						}
					}
					for (i, a) in acc.iter().enumerate() {
						unsafe { *out.at(t * stride + r + i) = hsum(*a) };
					}
					r += 4;
				}
				while r < rows.end {
					let mut acc = _mm256_setzero_ps();
					for b in 0..kb {
						let y = unsafe { _mm256_loadu_si256(xq.add(b * QK) as *const __m256i) };
						let wx = unsafe {
							_mm256_loadu_si256(
								w.qs.as_ptr().add((r * kb + b) * QK) as *const __m256i
							)
						};
						let d = _mm256_set1_ps(w.d[r * kb + b] * xd[b]);
						let q = $dp(_mm256_sign_epi8(wx, wx), _mm256_sign_epi8(y, wx));
						acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(q), acc);
					}
					unsafe { *out.at(t * stride + r) = hsum(acc) };
					r += 1;
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
	use half::f16;

	#[test]
	fn kernels_equal_stock_candle_bit_for_bit() {
		let mut seed = 11u64;
		for (rows, cols, tokens) in [(70, 576, 1), (13, 64, 3)] {
			let mut bytes = vec![];
			for _ in 0..rows * cols / QK {
				bytes.extend_from_slice(
					&f16::from_f32(lcg(&mut seed).abs() * 0.02).to_bits().to_le_bytes(),
				);
				bytes.extend((0..QK).map(|_| (lcg(&mut seed) * 127.0) as i8 as u8));
			}
			let w = Q8_0Matrix::from_ggml("w", &bytes, rows, cols).unwrap();
			let xs: Vec<f32> = (0..tokens * cols).map(|_| lcg(&mut seed) * 2.0).collect();
			let want = candle_matmul(GgmlDType::Q8_0, &bytes, rows, cols, &xs);
			let mut x = QActs::default();
			x.quantize_q8_0(&xs, cols);
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
