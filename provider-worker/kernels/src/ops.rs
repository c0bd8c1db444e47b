//! The f32 operations between the matrix products: RMSNorm, rotary position
//! embedding, SwiGLU and causal attention over a preallocated KV cache. Each
//! follows candle's formula (RMSNorm even its summation order); none allocates.
use super::{OutPtr, Threads};

/// `out = x / sqrt(mean(x²) + eps) · alpha`, per row of `alpha.len()`, summing
/// the squares in order as candle's `rms_norm` does.
///
/// Each row's sum is one sequential chain of adds (candle's order), so eight
/// rows' chains run side by side: the same bits, without waiting out each
/// add's latency in turn.
pub fn rms_norm(x: &[f32], alpha: &[f32], eps: f32, out: &mut [f32]) {
	const ROWS: usize = 8;
	let n = alpha.len();
	let rows = x.len() / n;
	let mut r0 = 0;
	while r0 < rows {
		let k = (rows - r0).min(ROWS);
		// Past the last row, the last one again (its sum computed twice, used once).
		let xs: [&[f32]; ROWS] = std::array::from_fn(|i| {
			let r = r0 + i.min(k - 1);
			&x[r * n..(r + 1) * n]
		});
		let mut sum2 = [0f32; ROWS];
		if k == 1 {
			// One row (decode): its chain alone, not eight copies of it.
			sum2[0] = xs[0].iter().fold(0f32, |s, v| s + v * v);
		} else {
			for j in 0..n {
				for (s, row) in sum2.iter_mut().zip(&xs) {
					*s += row[j] * row[j];
				}
			}
		}
		for (i, (xs, &s)) in xs.iter().zip(&sum2).take(k).enumerate() {
			let m = (s / n as f32 + eps).sqrt();
			let os = &mut out[(r0 + i) * n..(r0 + i + 1) * n];
			for ((o, &v), &a) in os.iter_mut().zip(xs.iter()).zip(alpha) {
				*o = v / m * a;
			}
		}
		r0 += k;
	}
}

/// cos/sin of every position × frequency, as candle's `precomput_freqs_cis`.
pub struct Rope {
	/// Frequencies per head (head_dim / 2).
	pub half: usize,
	/// `positions × half`.
	pub cos: Vec<f32>,
	/// `positions × half`.
	pub sin: Vec<f32>,
}

impl Rope {
	/// The table for `positions` positions of a `head_dim`-wide head.
	pub fn new(head_dim: usize, base: f32, positions: usize) -> Self {
		let theta: Vec<f32> = (0..head_dim)
			.step_by(2)
			.map(|i| 1f32 / base.powf(i as f32 / head_dim as f32))
			.collect();
		let half = theta.len();
		let mut cos = Vec::with_capacity(positions * half);
		let mut sin = Vec::with_capacity(positions * half);
		for p in 0..positions {
			for &t in &theta {
				let a = p as f32 * t;
				cos.push(a.cos());
				sin.push(a.sin());
			}
		}
		Self { half, cos, sin }
	}

	/// Rotates interleaved pairs `(x[2i], x[2i+1])` of each head in `x`
	/// (GGUF llama layout, candle's `rope_i`) for position `pos`.
	pub fn apply_interleaved(&self, x: &mut [f32], pos: usize) {
		let (c, s) = (&self.cos[pos * self.half..], &self.sin[pos * self.half..]);
		for head in x.chunks_exact_mut(2 * self.half) {
			for (i, pair) in head.chunks_exact_mut(2).enumerate() {
				let (x0, x1) = (pair[0], pair[1]);
				pair[0] = x0 * c[i] - x1 * s[i];
				pair[1] = x0 * s[i] + x1 * c[i];
			}
		}
	}
}

/// `out[i] = silu(gate[i]) · up[i]`, `silu(v) = v / (1 + e^(-v))` as candle.
pub fn swiglu(gate: &[f32], up: &[f32], out: &mut [f32]) {
	for (o, &g) in out.iter_mut().zip(gate) {
		*o = -g;
	}
	exp_libm(out);
	for ((o, &g), &u) in out.iter_mut().zip(gate).zip(up) {
		*o = g / (1.0 + *o) * u;
	}
}

/// In place: `v = e^v` with the bits of `f32::exp` (glibc's `expf`), eight at a
/// time on AVX-512 ([`exp8_glibc`]); candle's SiLU and softmax call `expf`.
pub fn exp_libm(xs: &mut [f32]) {
	#[cfg(target_arch = "x86_64")]
	if glibc_exp_vectors() {
		// SAFETY: the CPU has AVX-512F (checked).
		return unsafe { exp_libm_avx512(xs) };
	}
	for v in xs.iter_mut() {
		*v = v.exp();
	}
}

/// Whether [`exp_libm`] takes its vector path: AVX-512F, and the C library's
/// `expf` is glibc's (its FMA variant is what every AVX-512 CPU runs, and
/// what the vector path computes).
#[cfg(target_arch = "x86_64")]
fn glibc_exp_vectors() -> bool {
	static OK: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
	*OK.get_or_init(|| {
		cfg!(all(target_os = "linux", target_env = "gnu"))
			&& std::env::var("AGORA_KERNELS").as_deref() != Ok("scalar")
			&& std::arch::is_x86_feature_detected!("avx512f")
			&& std::arch::is_x86_feature_detected!("fma")
	})
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn exp_libm_avx512(xs: &mut [f32]) {
	use std::arch::x86_64::*;
	let mut chunks = xs.chunks_exact_mut(8);
	for c in &mut chunks {
		let x = unsafe { _mm256_loadu_ps(c.as_ptr()) };
		// |x| ≥ 88 or NaN: glibc's special cases, taken from `f32::exp` itself.
		let big = _mm256_cmp_ps::<_CMP_NLT_UQ>(
			_mm256_and_ps(x, _mm256_castsi256_ps(_mm256_set1_epi32(0x7fff_ffff))),
			_mm256_set1_ps(88.0),
		);
		unsafe { _mm256_storeu_ps(c.as_mut_ptr(), exp8_glibc(x)) };
		if _mm256_movemask_ps(big) != 0 {
			for (v, orig) in c.iter_mut().zip(unsafe { std::mem::transmute::<__m256, [f32; 8]>(x) }) {
				if orig.is_nan() || orig.abs() >= 88.0 {
					*v = orig.exp();
				}
			}
		}
	}
	for v in chunks.into_remainder() {
		*v = v.exp();
	}
}

/// glibc's `expf` (sysdeps/ieee754/flt-32/e_expf.c, as its FMA build compiles
/// it) on eight lanes in double precision, for |x| < 88: `x·32/ln2 = k + r`
/// (the multiply fused into the rounding shift and into `r`), `2^(k/32)` from a
/// 32-entry table, a cubic in `r`. Over every f32 with |x| < 88 it gives
/// `f32::exp`'s bits (all 2.2·10⁹ compared once; a sample in the tests).
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx512f,avx2,fma")]
fn exp8_glibc(x: std::arch::x86_64::__m256) -> std::arch::x86_64::__m256 {
	use std::arch::x86_64::*;
	/// `bits(2^(i/32)) − (i << 47)`: `2^(k/32) = double(T[k % 32] + (k << 47))`.
	const T: [u64; 32] = [
		0x3ff0000000000000, 0x3fefd9b0d3158574, 0x3fefb5586cf9890f, 0x3fef9301d0125b51,
		0x3fef72b83c7d517b, 0x3fef54873168b9aa, 0x3fef387a6e756238, 0x3fef1e9df51fdee1,
		0x3fef06fe0a31b715, 0x3feef1a7373aa9cb, 0x3feedea64c123422, 0x3feece086061892d,
		0x3feebfdad5362a27, 0x3feeb42b569d4f82, 0x3feeab07dd485429, 0x3feea47eb03a5585,
		0x3feea09e667f3bcd, 0x3fee9f75e8ec5f74, 0x3feea11473eb0187, 0x3feea589994cce13,
		0x3feeace5422aa0db, 0x3feeb737b0cdc5e5, 0x3feec49182a3f090, 0x3feed503b23e255d,
		0x3feee89f995ad3ad, 0x3feeff76f2fb5e47, 0x3fef199bdd85529c, 0x3fef3720dcef9069,
		0x3fef5818dcfba487, 0x3fef7c97337b9b5f, 0x3fefa4afa2a490da, 0x3fefd0765b6e4540,
	];
	const N: f64 = 32.0;
	let xd = _mm512_cvtps_pd(x);
	let inv = _mm512_set1_pd(f64::from_bits(0x3ff71547652b82fe) * N);
	let shift = _mm512_set1_pd(f64::from_bits(0x4338000000000000)); // 0x1.8p52
	let kds = _mm512_fmadd_pd(inv, xd, shift);
	let ki = _mm512_castpd_si512(kds);
	let kd = _mm512_sub_pd(kds, shift);
	let r = _mm512_fmsub_pd(inv, xd, kd);
	// T[ki % 32] by two two-register permutes (index bits 0..4) and a blend
	// on bit 4, cheaper than a gather.
	// SAFETY: each load reads 8 of the table's 32 entries.
	let tab: [__m512i; 4] = std::array::from_fn(|i| unsafe { _mm512_loadu_si512(T.as_ptr().add(8 * i) as *const _) });
	let lo = _mm512_permutex2var_epi64(tab[0], ki, tab[1]);
	let hi = _mm512_permutex2var_epi64(tab[2], ki, tab[3]);
	let t = _mm512_mask_blend_epi64(_mm512_test_epi64_mask(ki, _mm512_set1_epi64(16)), lo, hi);
	let s = _mm512_castsi512_pd(_mm512_add_epi64(t, _mm512_slli_epi64::<47>(ki)));
	let c0 = _mm512_set1_pd(f64::from_bits(0x3fac6af84b912394) / N / N / N);
	let c1 = _mm512_set1_pd(f64::from_bits(0x3fcebfce50fac4f3) / N / N);
	let c2 = _mm512_set1_pd(f64::from_bits(0x3fe62e42ff0c52d6) / N);
	let z = _mm512_fmadd_pd(c0, r, c1);
	let r2 = _mm512_mul_pd(r, r);
	let y = _mm512_fmadd_pd(c2, r, _mm512_set1_pd(1.0));
	let y = _mm512_fmadd_pd(z, r2, y);
	_mm512_cvtpd_ps(_mm512_mul_pd(y, s))
}

/// A dot product in a fixed order (8 partial sums, then combined), vectorised
/// by the compiler; the same inputs always give the same bits.
#[inline]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
	let mut acc = [0f32; 8];
	let (ac, bc) = (a.chunks_exact(8), b.chunks_exact(8));
	let (ar, br) = (ac.remainder(), bc.remainder());
	for (x, y) in ac.zip(bc) {
		for l in 0..8 {
			acc[l] += x[l] * y[l];
		}
	}
	let mut s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
	for (x, y) in ar.iter().zip(br) {
		s += x * y;
	}
	s
}

/// The shapes attention needs.
#[derive(Clone, Copy, Debug)]
pub struct AttnShape {
	/// Query heads.
	pub n_head: usize,
	/// Key/value heads (grouped-query attention: `n_head / n_kv_head` queries share one).
	pub n_kv_head: usize,
	/// Width of a head.
	pub head_dim: usize,
	/// Positions the cache holds per head.
	pub capacity: usize,
}

/// Causal attention for `tokens` new tokens at positions `pos..pos + tokens`,
/// computed as candle's `quantized_llama` computes it: per head, `q·Kᵀ` through
/// the `gemm` crate with candle's arguments (same shapes, strides, α, β), `/ √d`
/// as candle's affine op, the causal mask, candle's softmax (its 4 × 8-lane
/// AVX sum), and `att·V` through `gemm` again — so the bits are candle's.
///
/// `q` is `tokens × n_head × head_dim`; `k_cache`/`v_cache` are
/// `n_kv_head × capacity × head_dim` and already hold positions
/// `0..pos + tokens`; `out` receives `tokens × n_head × head_dim`. Work items
/// are heads, each computed whole by one thread (GEMM runs single-threaded),
/// so the result does not depend on the thread count.
#[allow(clippy::too_many_arguments)]
pub fn attention(
	threads: Threads,
	shape: AttnShape,
	q: &[f32],
	k_cache: &[f32],
	v_cache: &[f32],
	pos: usize,
	tokens: usize,
	out: &mut [f32],
) {
	let AttnShape { n_head, n_kv_head, head_dim: hd, capacity } = shape;
	let group = n_head / n_kv_head;
	let kv = pos + tokens;
	// candle: `(q.matmul(&k.t()) / sqrt(head_dim))`, an affine op `v * mul + add`.
	let mul = (1.0 / (hd as f64).sqrt()) as f32;
	let ptr = OutPtr::new(out);
	assert!(out.len() >= tokens * n_head * hd && q.len() >= tokens * n_head * hd);
	assert!(
		kv <= capacity
			&& k_cache.len() >= n_kv_head * capacity * hd
			&& v_cache.len() >= n_kv_head * capacity * hd
	);
	threads.for_each(n_head, |range| {
		let mut qh = vec![0f32; tokens * hd];
		let mut att = vec![0f32; tokens * kv];
		let mut yh = vec![0f32; tokens * hd];
		for h in range {
			let kvh = h / group;
			for t in 0..tokens {
				qh[t * hd..(t + 1) * hd]
					.copy_from_slice(&q[(t * n_head + h) * hd..(t * n_head + h + 1) * hd]);
			}
			let kh = &k_cache[kvh * capacity * hd..(kvh * capacity + kv) * hd];
			let vh = &v_cache[kvh * capacity * hd..(kvh * capacity + kv) * hd];
			// scores (tokens × kv) = q_h (tokens × hd, contiguous) · K_hᵀ (K_h is kv × hd, contiguous).
			// SAFETY: every pointer covers the extent its strides address.
			unsafe {
				gemm::gemm(
					tokens,
					kv,
					hd,
					att.as_mut_ptr(),
					1,
					kv as isize,
					false,
					qh.as_ptr(),
					1,
					hd as isize,
					kh.as_ptr(),
					hd as isize,
					1,
					0.0,
					1.0,
					false,
					false,
					false,
					gemm::Parallelism::None,
				)
			};
			for (t, row) in att.chunks_exact_mut(kv).enumerate() {
				for v in row.iter_mut() {
					*v = *v * mul + 0.0;
				}
				if tokens > 1 {
					// candle masks only multi-token calls.
					row[pos + t + 1..].fill(f32::NEG_INFINITY);
				}
				softmax_candle(row);
			}
			// y_h (tokens × hd) = att (tokens × kv) · V_h (kv × hd, contiguous).
			// SAFETY: as above.
			unsafe {
				gemm::gemm(
					tokens,
					hd,
					kv,
					yh.as_mut_ptr(),
					1,
					hd as isize,
					false,
					att.as_ptr(),
					1,
					kv as isize,
					vh.as_ptr(),
					1,
					hd as isize,
					0.0,
					1.0,
					false,
					false,
					false,
					gemm::Parallelism::None,
				)
			};
			for t in 0..tokens {
				// SAFETY: token t, head h of `out` belongs to this item only.
				let o =
					unsafe { std::slice::from_raw_parts_mut(ptr.at((t * n_head + h) * hd), hd) };
				o.copy_from_slice(&yh[t * hd..(t + 1) * hd]);
			}
		}
	});
}

/// candle's `softmax_last_dim` on one row: max, `exp(x - max)`, the sum as
/// candle's AVX `vec_sum` adds it (4 accumulators × 8 lanes over 32-element
/// steps, its reduction tree, then the tail in order), then `x / sum`.
pub fn softmax_candle(row: &mut [f32]) {
	let mut max = row[0];
	for &v in &row[1..] {
		max = max.max(v);
	}
	for v in row.iter_mut() {
		*v -= max;
	}
	exp_libm(row);
	let sum = candle_vec_sum(row);
	for v in row.iter_mut() {
		*v /= sum;
	}
}

/// The order of candle 0.11's `vec_sum`: on x86 with AVX2 its AVX version, in
/// portable Rust; elsewhere a plain sequential sum.
pub fn candle_vec_sum(xs: &[f32]) -> f32 {
	#[cfg(target_arch = "x86_64")]
	let avx2 = std::arch::is_x86_feature_detected!("avx2");
	#[cfg(not(target_arch = "x86_64"))]
	let avx2 = false;
	if !avx2 {
		return xs.iter().fold(0f32, |a, v| a + v);
	}
	let np = xs.len() & !31;
	let mut s = [[0f32; 8]; 4];
	for i in (0..np).step_by(32) {
		for (j, sj) in s.iter_mut().enumerate() {
			for (l, v) in sj.iter_mut().enumerate() {
				*v += xs[i + j * 8 + l];
			}
		}
	}
	// x0 = s0 + s1, x2 = s2 + s3, x0 = x0 + x2 (lane-wise).
	let mut x = [0f32; 8];
	for l in 0..8 {
		x[l] = (s[0][l] + s[1][l]) + (s[2][l] + s[3][l]);
	}
	// 128-bit halves added, then two horizontal adds.
	let t = [x[0] + x[4], x[1] + x[5], x[2] + x[6], x[3] + x[7]];
	let mut b = (t[0] + t[1]) + (t[2] + t[3]);
	for &v in &xs[np..] {
		b += v;
	}
	b
}

/// `e^x` in f32 arithmetic only (so loops over it vectorise): `2^n · p(r)` with
/// `x = n·ln2 + r`, a degree-6 polynomial on |r| ≤ ln2/2 (relative error
/// < 2e-7); inputs clamped to [-87.3, 88] (e^88 ≈ 1.7e38).
#[inline(always)]
pub fn exp_f32(x: f32) -> f32 {
	let x = x.clamp(-87.3, 88.0);
	// Round to nearest by the 1.5·2²³ trick (plain adds: the loop vectorises).
	let t = x * std::f32::consts::LOG2_E + 12_582_912.0;
	let n = t - 12_582_912.0;
	// Cody–Waite: ln2 split in a high part exact in f32 and a low correction.
	let r = (x - n * 0.693_145_75) - n * 1.428_606_8e-6;
	let p = 1.0
		+ r * (1.0
			+ r * (0.5
				+ r * (0.166_666_67
					+ r * (0.041_666_668 + r * (0.008_333_334 + r * 0.001_388_889)))));
	p * pow2_of_rounded(t)
}

/// `2ⁿ` for `t = 1.5·2²³ + n` (exp_f32's rounding sum; |n| ≤ 127), from `t`'s
/// bits, which hold `0x4B40_0000 + n`: the value `(n as i32 + 127) << 23`
/// gives, in integer lanes (Rust's saturating `as` cast does not vectorise).
#[inline(always)]
fn pow2_of_rounded(t: f32) -> f32 {
	f32::from_bits(t.to_bits().wrapping_sub(0x4B40_0000).wrapping_add(127) << 23)
}

/// erf in f32 arithmetic only: Abramowitz & Stegun 7.1.26 (|error| ≤ 1.5e-7 in
/// exact arithmetic, < 5e-7 in f32).
#[inline(always)]
pub fn erf_f32(x: f32) -> f32 {
	let a = x.abs();
	let t = 1.0 / (1.0 + 0.327_591_1 * a);
	let y = 1.0
		- t * (0.254_829_6
			+ t * (-0.284_496_74 + t * (1.421_413_7 + t * (-1.453_152_1 + t * 1.061_405_4))))
			* exp_f32(-a * a);
	y.copysign(x)
}

/// In place: `v = v/2 · (1 + erf(v/√2))` (BERT's `gelu`).
pub fn gelu_erf(xs: &mut [f32]) {
	#[cfg(target_arch = "x86_64")]
	if crate::Isa::detect().wide_f32() {
		// SAFETY: the CPU has AVX-512F (checked by `wide_f32`).
		return unsafe { gelu_erf_avx512(xs) };
	}
	#[cfg(target_arch = "x86_64")]
	if crate::Isa::detect() != crate::Isa::Scalar {
		// SAFETY: the CPU has AVX2 (checked by `Isa::detect`).
		return unsafe { gelu_erf_avx2(xs) };
	}
	gelu_erf_portable(xs)
}

/// [`gelu_erf`]'s loop (the reference every vector path is tested against).
#[inline(always)]
fn gelu_erf_portable(xs: &mut [f32]) {
	for v in xs.iter_mut() {
		*v = 0.5 * *v * (1.0 + erf_f32(*v * std::f32::consts::FRAC_1_SQRT_2));
	}
}

/// The same operations in the same order, in 8-wide vectors.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn gelu_erf_avx2(xs: &mut [f32]) {
	gelu_erf_portable(xs)
}

/// The same operations in the same order, in 16-wide vectors.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2")]
unsafe fn gelu_erf_avx512(xs: &mut [f32]) {
	gelu_erf_portable(xs)
}

/// In place per row of `gamma.len()`: `(x - mean) / sqrt(var + eps) · gamma + beta`.
pub fn layer_norm(x: &mut [f32], gamma: &[f32], beta: &[f32], eps: f32) {
	let n = gamma.len();
	for row in x.chunks_exact_mut(n) {
		let mean = row.iter().sum::<f32>() / n as f32;
		let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / n as f32;
		let inv = 1.0 / (var + eps).sqrt();
		for ((v, g), b) in row.iter_mut().zip(gamma).zip(beta) {
			*v = (*v - mean) * inv * g + b;
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	/// The vector `expf` gives `f32::exp`'s bits: on every 61st f32 bit pattern
	/// (both signs, so |x| < 88 and the special cases), at every lane offset,
	/// and on the edges (±88, ±∞, NaN, subnormals, −0).
	#[test]
	fn vector_exp_is_libm_bit_for_bit() {
		let mut xs: Vec<f32> = (0..u32::MAX / 61).map(|i| f32::from_bits(i * 61)).collect();
		xs.extend([88.0, -88.0, 87.99999, -87.99999, 88.72284, -103.97, f32::INFINITY]);
		xs.extend([f32::NEG_INFINITY, f32::NAN, -0.0, 1e-45, -1e-45, 1e-38, 0.5, -0.5]);
		for shift in 0..3 {
			let mut got = xs[shift..].to_vec();
			exp_libm(&mut got);
			for (x, g) in xs[shift..].iter().zip(&got) {
				let want = x.exp();
				assert!(
					want.to_bits() == g.to_bits() || (want.is_nan() && g.is_nan()),
					"exp({x:e}) = {g:e}, libm {want:e}"
				);
			}
		}
	}

	/// `exp_f32`'s 2ⁿ from the rounding sum's bits is the value the plain
	/// cast gives, for every `n` its clamped inputs can round to.
	#[test]
	fn pow2_from_bits_equals_the_cast() {
		for n in -126i32..=127 {
			let t = 12_582_912.0 + n as f32;
			let n_f = t - 12_582_912.0;
			let want = f32::from_bits(((n_f as i32 + 127) as u32) << 23);
			assert_eq!(pow2_of_rounded(t).to_bits(), want.to_bits(), "n = {n}");
		}
		// The clamp bounds round to n within that range.
		for x in [-87.3f32, 88.0] {
			let n = (x * std::f32::consts::LOG2_E + 12_582_912.0) - 12_582_912.0;
			assert!((-126.0..=127.0).contains(&n), "{x} rounds to {n}");
		}
	}

	/// GELU gives the portable loop's bits on every instruction set, at every
	/// length (whole vectors and tails) and on the edges.
	#[test]
	fn gelu_is_the_same_bits_on_every_path() {
		let mut seed = 5u64;
		let mut xs: Vec<f32> = (0..997).map(|_| crate::test_util::lcg(&mut seed) * 12.0).collect();
		xs.extend([0.0, -0.0, 1e-30, -1e-30, 40.0, -40.0, f32::INFINITY, f32::NEG_INFINITY]);
		let mut want = xs.clone();
		gelu_erf_portable(&mut want);
		for len in [1, 7, 8, 15, 16, 17, 31, 32, 33, xs.len()] {
			let mut got = xs[..len].to_vec();
			gelu_erf(&mut got);
			for (i, (g, w)) in got.iter().zip(&want).enumerate() {
				let same = g.to_bits() == w.to_bits() || (g.is_nan() && w.is_nan());
				assert!(same, "gelu({}) = {g}, portable {w} (len {len})", xs[i]);
			}
		}
	}

	#[test]
	fn exp_and_erf_are_accurate() {
		let mut x = -20.0f32;
		while x < 20.0 {
			let e = exp_f32(x) as f64;
			let want = (x as f64).exp();
			assert!(((e - want) / want).abs() < 5e-7, "exp({x}) = {e}, want {want}");
			x += 0.01;
		}
		for (x, want) in [
			(0.5f32, 0.520_499_877_8f64),
			(1.0, 0.842_700_792_9),
			(-2.0, -0.995_322_265),
			(0.0, 0.0),
		] {
			assert!((erf_f32(x) as f64 - want).abs() < 5e-7, "erf({x}) = {}", erf_f32(x));
		}
	}
}
