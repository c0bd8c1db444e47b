//! Q8_0 weights × Q8_0 activations (the tied output matrix), exactly as candle's
//! AVX2 `vec_dot_q8_0_q8_0`: an 8-lane FMA accumulator over the blocks, then
//! candle's horizontal sum.
//!
//! Each lane sums four products. With VNNI that is one `vpdpbusd` on the
//! weights stored offset by 128 (unsigned) and the signed activations, started
//! from `-128 · Σx` of the lane's four activations, which cancels the offset
//! exactly; without VNNI, `vpmaddubsw`+`vpmaddwd` on (|w|, sign(x, w)) as
//! candle. Both are the exact integer sums candle's lanes hold. A group of four
//! interleaved rows ([`Q8_0Matrix`]) is one stream and shares each activation load.
use super::{
	quant::{Q8_0Matrix, QActs, Q8_0_GROUP, QK},
	Isa, OutPtr, Threads,
};

/// Row groups per work item (decode computes 49,152 vocabulary rows for one token).
const GROUP_TILE: usize = 16;

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
	assert_eq!(x.qs.len(), x.n * x.kb * QK, "Q8_0 matmul: activations incomplete");
	let ptr = OutPtr::new(out);
	let items = w.groups().div_ceil(GROUP_TILE);
	threads.for_each(items, |range| {
		let groups = range.start * GROUP_TILE..(range.end * GROUP_TILE).min(w.groups());
		for t in 0..x.n {
			// SAFETY: groups in bounds, each element written by the item owning its row.
			unsafe { groups_dispatch(isa, w, groups.clone(), x, t, ptr, stride) }
		}
	});
}

unsafe fn groups_dispatch(
	isa: Isa,
	w: &Q8_0Matrix,
	groups: std::ops::Range<usize>,
	x: &QActs,
	t: usize,
	out: OutPtr,
	stride: usize,
) {
	match isa {
		#[cfg(target_arch = "x86_64")]
		Isa::Avx512Vnni => unsafe { x86::groups_vnni(w, groups, x, t, out, stride) },
		#[cfg(target_arch = "x86_64")]
		Isa::Avx2 => unsafe { x86::groups_avx2(w, groups, x, t, out, stride) },
		_ => {
			let rows = groups.start * Q8_0_GROUP..(groups.end * Q8_0_GROUP).min(w.rows);
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
		let xq = &x.qs[(t * kb + b) * QK..(t * kb + b + 1) * QK];
		let d = w.d(r, b) * x.d[t * kb + b];
		for (l, a) in acc.iter_mut().enumerate() {
			let lane: i32 =
				(0..4).map(|j| w.q(r, b, 4 * l + j) as i32 * xq[4 * l + j] as i32).sum();
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
		quant::{Q8_0Matrix, QActs, Q8_0_GROUP, Q8_0_GROUP_BLOCK, QK},
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

	/// `-128 · (x₄ₗ + … + x₄ₗ₊₃)` per lane: cancels the weights' offset.
	#[inline]
	#[target_feature(enable = "avx2,avx512vnni,avx512vl")]
	fn corr_vnni(y: __m256i) -> __m256i {
		let s = _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_set1_epi8(-128), y);
		_mm256_sub_epi32(_mm256_setzero_si256(), s)
	}

	#[inline]
	#[target_feature(enable = "avx2,avx512vnni,avx512vl")]
	fn lanes_vnni(u: __m256i, y: __m256i, corr: __m256i) -> __m256i {
		_mm256_dpbusd_epi32(corr, u, y)
	}

	#[inline]
	#[target_feature(enable = "avx2")]
	fn corr_avx2(_y: __m256i) -> __m256i {
		_mm256_setzero_si256()
	}

	/// candle's lanes on the weights with their offset taken back.
	#[inline]
	#[target_feature(enable = "avx2")]
	fn lanes_avx2(u: __m256i, y: __m256i, _corr: __m256i) -> __m256i {
		super::super::signed_dot4_avx2(_mm256_xor_si256(u, _mm256_set1_epi8(-128)), y)
	}

	macro_rules! groups_kernel {
		($name:ident, $features:literal, $corr:ident, $lanes:ident) => {
			#[target_feature(enable = $features)]
			pub(super) unsafe fn $name(
				w: &Q8_0Matrix,
				groups: std::ops::Range<usize>,
				x: &QActs,
				t: usize,
				out: OutPtr,
				stride: usize,
			) {
				let kb = w.kb;
				let xq = unsafe { x.qs.as_ptr().add(t * kb * QK) };
				let xd = &x.d[t * kb..(t + 1) * kb];
				for g in groups {
					let base = unsafe { w.data.as_ptr().add(g * kb * Q8_0_GROUP_BLOCK) };
					let mut acc = [_mm256_setzero_ps(); Q8_0_GROUP];
					for (b, &dx) in xd.iter().enumerate() {
						let p = unsafe { base.add(b * Q8_0_GROUP_BLOCK) };
						// No software prefetch (as the 4-bit decode kernel).
						let y = unsafe { _mm256_loadu_si256(xq.add(b * QK) as *const __m256i) };
						let corr = $corr(y);
						let dx = _mm256_set1_ps(dx);
						for (i, a) in acc.iter_mut().enumerate() {
							let u = unsafe { _mm256_loadu_si256(p.add(QK * i) as *const __m256i) };
							// candle: `d = d_w * d_x` (one f32 product), then the FMA.
							let dw = unsafe {
								_mm256_broadcast_ss(&*(p.add(128 + 4 * i) as *const f32))
							};
							let q = $lanes(u, y, corr);
							*a = _mm256_fmadd_ps(_mm256_mul_ps(dw, dx), _mm256_cvtepi32_ps(q), *a);
						}
					}
					let r0 = g * Q8_0_GROUP;
					for (i, a) in acc.iter().enumerate().take((w.rows - r0).min(Q8_0_GROUP)) {
						unsafe { *out.at(t * stride + r0 + i) = hsum(*a) };
					}
				}
			}
		};
	}

	groups_kernel!(groups_vnni, "avx2,fma,f16c,avx512vnni,avx512vl", corr_vnni, lanes_vnni);
	groups_kernel!(groups_avx2, "avx2,fma,f16c", corr_avx2, lanes_avx2);
}

#[cfg(test)]
mod tests {
	use super::{super::test_util::*, *};
	use candle_core::quantized::GgmlDType;
	use half::f16;

	#[test]
	fn kernels_equal_stock_candle_bit_for_bit() {
		let mut seed = 11u64;
		for (rows, cols, tokens) in [(70, 576, 1), (13, 64, 3), (131, 576, 2)] {
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
