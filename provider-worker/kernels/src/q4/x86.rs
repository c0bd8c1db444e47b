//! The x86 kernels of [`super`] (AVX-512 VNNI and AVX2 on 256-bit vectors,
//! eight rows at a time), for one token or several.
use super::{
	super::{
		quant::{Q4Matrix, QActs, IQ4NL_VALUES, Q4_GROUP, QK},
		signed_dot4_avx2, OutPtr,
	},
	K_IQ4, K_Q4_0, K_Q4_1,
};
use std::arch::x86_64::*;

/// Tokens computed together in prompt processing (they share each load of
/// the unpacked weights; the inner loop is written out for four).
const TT: usize = 4;
/// Blocks unpacked at a time for prompt processing (a longer row is done
/// in chunks, in order).
const KC: usize = 64;

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

/// Signed weights × signed activations ([`signed_dot4_avx2`]), each pair
/// widened to 32 bits before they are added.
#[inline]
#[target_feature(enable = "avx2")]
fn dp2_avx2_signed(lo: __m256i, ylo: __m256i, hi: __m256i, yhi: __m256i) -> __m256i {
	_mm256_add_epi32(signed_dot4_avx2(lo, ylo), signed_dot4_avx2(hi, yhi))
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

/// The same for signed weights ([`signed_dot4_avx2`]).
#[inline]
#[target_feature(enable = "avx2")]
fn dpacc_avx2_signed(acc: __m256i, w: __m256i, y: __m256i) -> __m256i {
	_mm256_add_epi32(acc, signed_dot4_avx2(w, y))
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

/// One group-block of eight rows unpacked for prompt processing: eight
/// vectors, lane `j` of vector `s` holding row `j`'s quants `4s..4s+4` (`s` ≥ 4:
/// the high nibbles; IQ4_NL's looked up in `lut`), then the rows' scales and,
/// for Q4_1, minimums (zero otherwise), widened.
///
/// # Safety
/// `p` points at a whole group-block of format `K`.
#[inline]
#[target_feature(enable = "avx2,f16c")]
pub(super) unsafe fn unpack_block<const K: u8>(p: *const u8, lut: __m256i) -> ([__m256i; 8], __m256, __m256) {
	let low = _mm256_set1_epi8(0x0F);
	let map = |v: __m256i| if K == K_IQ4 { _mm256_shuffle_epi8(lut, v) } else { v };
	// v[k]: rows k | k+4, 16 quant bytes each.
	let v: [__m256i; 4] =
		std::array::from_fn(|k| unsafe { _mm256_loadu_si256(p.add(32 * k) as *const __m256i) });
	let lo = v.map(|q| map(_mm256_and_si256(q, low)));
	let hi = v.map(|q| map(_mm256_and_si256(_mm256_srli_epi16(q, 4), low)));
	let mut t = [_mm256_setzero_si256(); 8];
	(t[0], t[1], t[2], t[3]) = transpose4(lo);
	(t[4], t[5], t[6], t[7]) = transpose4(hi);
	let d = unsafe { _mm256_cvtph_ps(_mm_loadu_si128(p.add(128) as *const __m128i)) };
	let m = if K == K_Q4_1 {
		unsafe { _mm256_cvtph_ps(_mm_loadu_si128(p.add(144) as *const __m128i)) }
	} else {
		_mm256_setzero_ps()
	};
	(t, d, m)
}

/// Four vectors of row pairs (`v[k]`: row `k` in the low half, row `k + 4`
/// in the high half, four partial sums each) → the eight rows' sums in order.
#[inline]
#[target_feature(enable = "avx2")]
fn rows8(v: [__m256i; 4]) -> __m256i {
	_mm256_hadd_epi32(_mm256_hadd_epi32(v[0], v[1]), _mm256_hadd_epi32(v[2], v[3]))
}

/// The block term for eight rows, no fused multiply-add: Q4_1 (`K_Q4_1`)
/// `sumi as f32 * d_w * d_x + m_w * s_x` (candle's); the others
/// `(sumi − off·Σx) as f32 * d_w * d_x`.
#[inline]
#[target_feature(enable = "avx2")]
fn term<const K: u8>(sumi: __m256i, off: i32, ysum: i32, d: __m256, m: __m256, dx: f32, sx: f32) -> __m256 {
	if K == K_Q4_1 {
		_mm256_add_ps(
			_mm256_mul_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(sumi), d), _mm256_set1_ps(dx)),
			_mm256_mul_ps(m, _mm256_set1_ps(sx)),
		)
	} else {
		let sumi = _mm256_sub_epi32(sumi, _mm256_set1_epi32(off * ysum));
		_mm256_mul_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(sumi), d), _mm256_set1_ps(dx))
	}
}

/// Writes the first `n` lanes of `acc` to rows `r0..r0 + n` of token `t`.
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn store(acc: __m256, n: usize, out: OutPtr, t: usize, stride: usize, r0: usize) {
	if n == 8 {
		// A whole group: one store (a loop of `n` stores becomes a `memcpy` call).
		return unsafe { _mm256_storeu_ps(out.at(t * stride + r0), acc) };
	}
	let mut a = [0f32; 8];
	unsafe { _mm256_storeu_ps(a.as_mut_ptr(), acc) };
	for (i, v) in a.iter().take(n).enumerate() {
		unsafe { *out.at(t * stride + r0 + i) = *v };
	}
}

macro_rules! groups_kernel {
	($name:ident, $features:literal, $dp2:ident, $dpacc:ident, $signed:literal) => {
		/// Row groups × every token (see the module's comment), for the
		/// format `K`.
		#[target_feature(enable = $features)]
		pub(super) unsafe fn $name<const K: u8>(
			w: &Q4Matrix,
			groups: std::ops::Range<usize>,
			x: &QActs,
			out: OutPtr,
			stride: usize,
			scratch: &mut Scratch,
		) {
			let kb = w.kb;
			let gb = w.kind.group_block();
			let low = _mm256_set1_epi8(0x0F);
			// IQ4_NL's grid, per 128-bit lane: the values themselves
			// (signed kernels) or offset by 128 (unsigned ones).
			let grid: [u8; 16] = std::array::from_fn(|i| {
				if $signed { IQ4NL_VALUES[i] as u8 } else { (IQ4NL_VALUES[i] as i32 + 128) as u8 }
			});
			let lut = unsafe { _mm256_broadcastsi128_si256(_mm_loadu_si128(grid.as_ptr() as *const __m128i)) };
			let off: i32 = match K {
				K_Q4_0 => 8,
				K_IQ4 if !$signed => 128,
				_ => 0,
			};
			// The nibbles as the products take them.
			let map = |v: __m256i| if K == K_IQ4 { _mm256_shuffle_epi8(lut, v) } else { v };
			let xq = x.qs.as_ptr();
			let zero = _mm256_setzero_ps();
			let zi = _mm256_setzero_si256();
			for g in groups {
				let r0 = g * Q4_GROUP;
				let nrows = (w.rows - r0).min(Q4_GROUP);
				let base = unsafe { w.data.as_ptr().add(g * kb * gb) };
				if x.n == 1 {
					// Decode: one pass over the group's stream.
					let mut acc = _mm256_setzero_ps();
					for b in 0..kb {
						// No software prefetch: the group's stream is sequential,
						// and prefetching four blocks ahead made decode 10-15%
						// slower (docs/benchmarks.md); the hardware prefetcher
						// does better alone.
						let p = unsafe { base.add(b * gb) };
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
							let lo = map(_mm256_and_si256(q, low));
							let hi = map(_mm256_and_si256(_mm256_srli_epi16(q, 4), low));
							*vk = $dp2(lo, ylo, hi, yhi);
						}
						let d = unsafe { _mm256_cvtph_ps(_mm_loadu_si128(p.add(128) as *const __m128i)) };
						let m = if K == K_Q4_1 {
							unsafe { _mm256_cvtph_ps(_mm_loadu_si128(p.add(144) as *const __m128i)) }
						} else {
							zero
						};
						let sx = if K == K_Q4_1 { x.s[b] } else { 0.0 };
						acc = _mm256_add_ps(acc, term::<K>(rows8(v), off, x.sums[b], d, m, x.d[b], sx));
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
						let p = unsafe { base.add((b0 + b) * gb) };
						let (t, d, m) = unsafe { unpack_block::<K>(p, lut) };
						for (dst, tv) in wb.iter_mut().zip(t) {
							unsafe {
								_mm256_storeu_si256(dst.as_mut_ptr() as *mut __m256i, tv)
							};
						}
						unsafe {
							_mm256_storeu_ps(dmb[0].as_mut_ptr(), d);
							_mm256_storeu_ps(dmb[1].as_mut_ptr(), m);
						}
					}
					let last = b0 + nb == kb;
					// TT tokens per pass over the unpacked weights (past the last
					// token, the last one is computed again and stored again).
					let (xd, xs, xsum) = (x.d.as_ptr(), x.s.as_ptr(), x.sums.as_ptr());
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
							let d = unsafe { _mm256_loadu_ps(dmb[0].as_ptr()) };
							let m = if K == K_Q4_1 { unsafe { _mm256_loadu_ps(dmb[1].as_ptr()) } } else { zero };
							// The TT tokens' products interleaved, two chains each
							// (independent `vpdpbusd` chains keep both pipes busy;
							// the integer sums are exact in any order), each
							// activation group broadcast straight from memory.
							let ii: [usize; TT] = std::array::from_fn(|k| ts[k] * kb + b0 + b);
							let ys: [*const u8; TT] =
								std::array::from_fn(|k| unsafe { xq.add(ii[k] * QK) } as *const u8);
							let bc = |k: usize, s: usize| unsafe {
								_mm256_broadcastd_epi32(_mm_loadu_si32(ys[k].add(4 * s)))
							};
							let (mut c00, mut c01, mut c10, mut c11) = (zi, zi, zi, zi);
							let (mut c20, mut c21, mut c30, mut c31) = (zi, zi, zi, zi);
							for s in 0..4 {
								let (wl, wh) = (w[s], w[s + 4]);
								c00 = $dpacc(c00, wl, bc(0, s));
								c01 = $dpacc(c01, wh, bc(0, s + 4));
								c10 = $dpacc(c10, wl, bc(1, s));
								c11 = $dpacc(c11, wh, bc(1, s + 4));
								c20 = $dpacc(c20, wl, bc(2, s));
								c21 = $dpacc(c21, wh, bc(2, s + 4));
								c30 = $dpacc(c30, wl, bc(3, s));
								c31 = $dpacc(c31, wh, bc(3, s + 4));
							}
							let sums = [
								_mm256_add_epi32(c00, c01),
								_mm256_add_epi32(c10, c11),
								_mm256_add_epi32(c20, c21),
								_mm256_add_epi32(c30, c31),
							];
							for k in 0..TT {
								let i = ii[k];
								let dx = unsafe { *xd.add(i) };
								let (sx, ysum) = if K == K_Q4_1 {
									(unsafe { *xs.add(i) }, 0)
								} else {
									(0.0, unsafe { *xsum.add(i) })
								};
								acc[k] = _mm256_add_ps(acc[k], term::<K>(sums[k], off, ysum, d, m, dx, sx));
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

groups_kernel!(groups_vnni, "avx2,fma,f16c,avx512vnni,avx512vl", dp2_vnni, dpacc_vnni, false);
groups_kernel!(groups_avx2, "avx2,fma,f16c", dp2_avx2, dpacc_avx2, false);
groups_kernel!(groups_avx2_signed, "avx2,fma,f16c", dp2_avx2_signed, dpacc_avx2_signed, true);
