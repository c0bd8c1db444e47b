//! The opt-in int8 path of [`super::matmul`] (`AGORA_KERNELS=int8`, AVX-512
//! VNNI): weights quantized per output column at load (symmetric int8),
//! activations per row per call (u8 with a zero point over the row's range),
//! `vpdpbusd` sums exact in i32, then one fixed float expression per element.
use super::{finish, for_each_tile, Epilogue, Packed, MR, NR};
use crate::{Isa, OutPtr, SharedMut, Threads};

/// A weight quantized to int8 per output column (symmetric, `scale = max|W[c]| / 127`):
/// panel `p` holds `⌈k/4⌉` quad rows of 32 columns × (W[c][4q..4q+4]) (zero past
/// `k` and `n`), the layout `vpdpbusd` takes.
pub(super) struct Int8Panels {
	pub(super) q: Vec<i8>,
	/// Per column: the dequantization scale (zero past `n`, to whole panels).
	pub(super) scale: Vec<f32>,
	/// Per column: Σ_k q (the correction for the activations' zero points).
	pub(super) sum: Vec<i32>,
}

/// Whether the int8 path runs: only when asked for (`AGORA_KERNELS=int8`) and
/// the CPU has AVX-512 VNNI. Weights are quantized per output column
/// (symmetric, ±127), activations per row (one token; u8 with a zero point);
/// the integer sums are exact, so a row's result is the same bits in any
/// batch, row blocking or thread split. Not the default: its worst cosine to
/// sentence-transformers on the engine tests' sentences is 0.9967 (a one-token
/// sentence; 0.9937 with symmetric activations), too close to the shipped
/// `Cosine` profile's 0.99 for an honest provider to bet its stake on
/// (docs/benchmarks.md). Decided once per process.
pub fn int8_available() -> bool {
	static INT8: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
	*INT8.get_or_init(|| std::env::var("AGORA_KERNELS").as_deref() == Ok("int8") && vnni())
}

/// Whether this CPU has what the int8 kernels need (AVX-512 F, BW and VNNI).
pub(super) fn vnni() -> bool {
	#[cfg(target_arch = "x86_64")]
	{
		Isa::detect() == Isa::Avx512Vnni
			&& std::arch::is_x86_feature_detected!("avx512f")
			&& std::arch::is_x86_feature_detected!("avx512bw")
			&& std::arch::is_x86_feature_detected!("avx512vnni")
	}
	#[cfg(not(target_arch = "x86_64"))]
	false
}

/// Symmetric int8 columns of a row-major `n × k` weight, in `vpdpbusd` panels.
pub(super) fn pack_int8(weight: &[f32], n: usize, k: usize) -> Int8Panels {
	let (np, k4) = (n.div_ceil(NR), k.div_ceil(4));
	let mut q = vec![0i8; np * k4 * NR * 4];
	// Padded to whole panels (zero scale past `n`), so the epilogue works on 32 lanes.
	let (mut scale, mut sum) = (vec![0f32; np * NR], vec![0i32; np * NR]);
	for j in 0..n {
		let row = &weight[j * k..(j + 1) * k];
		let (s, inv) = int8_scale(row);
		scale[j] = s;
		let (p, c) = (j / NR, j % NR);
		for (kk, &v) in row.iter().enumerate() {
			let qv = quantize_i8(v, inv);
			sum[j] += i32::from(qv);
			q[((p * k4 + kk / 4) * NR + c) * 4 + kk % 4] = qv;
		}
	}
	Int8Panels { q, scale, sum }
}

/// A vector's symmetric int8 scale `max|x| / 127` and its inverse (0 for an
/// all-zero vector, which then quantizes to zeros).
fn int8_scale(x: &[f32]) -> (f32, f32) {
	let max = x.iter().fold(0f32, |m, v| m.max(v.abs()));
	if max > 0.0 && max.is_finite() {
		(max / 127.0, 127.0 / max)
	} else {
		(0.0, 0.0)
	}
}

/// `round(v · inv)` (ties to even) clamped to ±127.
#[inline]
fn quantize_i8(v: f32, inv: f32) -> i8 {
	(v * inv).round_ties_even().clamp(-127.0, 127.0) as i8
}

/// An activation row's asymmetric u8 parameters: the range `[lo, hi]` (zero
/// included) in 255 steps, `x ≈ s·(u − z)`. Returns `(s, 1/s, z)`; an all-zero
/// (or non-finite) row gives `(0, 0, 0)` and quantizes to zeros.
fn u8_params(x: &[f32]) -> (f32, f32, i32) {
	let (lo, hi) = x.iter().fold((0f32, 0f32), |(l, h), &v| (l.min(v), h.max(v)));
	let range = hi - lo;
	if range > 0.0 && range.is_finite() {
		let s = range / 255.0;
		let inv = 255.0 / range;
		(s, inv, ((-lo * inv).round_ties_even() as i32).clamp(0, 255))
	} else {
		(0.0, 0.0, 0)
	}
}

/// `round(v · inv) + z` (ties to even) clamped to `0..=255`.
#[inline]
fn quantize_u8(v: f32, inv: f32, z: i32) -> u8 {
	((v * inv).round_ties_even() as i32).saturating_add(z).clamp(0, 255) as u8
}

/// Activations as u8 in groups of four, and each row's (scale, zero point).
#[cfg(target_arch = "x86_64")]
type QuantizedRows = (Vec<u32>, Vec<(f32, i32)>);

#[cfg(target_arch = "x86_64")]
thread_local! {
	/// The calling thread's u8 copy of a call's activations (in groups of
	/// four) and the rows' (scale, zero point).
	static A_INT8: std::cell::RefCell<QuantizedRows> =
		const { std::cell::RefCell::new((Vec::new(), Vec::new())) };
}

/// `out = epilogue(a · Wᵀ + bias)` on the int8 panels: each row of `a`
/// quantized (the calling thread's buffers), then the tiles.
#[cfg(target_arch = "x86_64")]
pub(super) fn matmul(
	threads: Threads,
	w: &Packed,
	panels: &Int8Panels,
	a: &[f32],
	m: usize,
	out: &mut [f32],
	epi: Epilogue,
) {
	let k = w.k;
	A_INT8.with_borrow_mut(|(aq, scales)| {
		let k4 = k.div_ceil(4);
		aq.clear();
		aq.resize(m * k4, 0);
		scales.clear();
		scales.resize(m, (0.0, 0));
		let (qs, ss) = (SharedMut::new(aq), SharedMut::new(scales));
		super::by_rows_on(threads, m, |r| {
			// SAFETY: row r of both buffers belongs to this item; int8 panels
			// exist only where `vnni()` holds.
			unsafe {
				ss.part(r, 1)[0] = x86::quantize_row(&a[r * k..(r + 1) * k], qs.part(r * k4, k4))
			};
		});
		tiles(threads, w, panels, aq, scales, m, out, epi);
	});
}

/// The tiles: `aq` is `m` rows of `⌈k/4⌉` groups of four u8 activations,
/// `scales` the rows' (scale, zero point). `out = (Σ u·q_w − z·Σ q_w) · s_row · s_col + bias`:
/// the integer sum is exact, then one fixed float expression per element.
#[cfg(target_arch = "x86_64")]
#[allow(clippy::too_many_arguments)]
fn tiles(
	threads: Threads,
	w: &Packed,
	panels: &Int8Panels,
	aq: &[u32],
	scales: &[(f32, i32)],
	m: usize,
	out: &mut [f32],
	epi: Epilogue,
) {
	let (k4, n) = (w.k.div_ceil(4), w.n);
	let ptr = OutPtr::new(out);
	for_each_tile(threads, m, n, |p, r0, rows| {
		let panel = &panels.q[p * k4 * NR * 4..(p + 1) * k4 * NR * 4];
		let mut iacc = [[0i32; NR]; MR];
		// SAFETY: the CPU has AVX-512 VNNI (the panels exist only then).
		unsafe { x86::micro_int8(&aq[r0 * k4..(r0 + rows) * k4], k4, rows, panel, &mut iacc) };
		let c0 = p * NR;
		let (sum, scale) = (&panels.sum[c0..c0 + NR], &panels.scale[c0..c0 + NR]);
		let mut acc = [[0f32; NR]; MR];
		for (r, (ar, ir)) in acc.iter_mut().zip(&iacc).enumerate().take(rows) {
			// SAFETY: as above.
			unsafe { x86::dequantize(ir, sum, scale, scales[r0 + r], ar) };
		}
		// SAFETY: each (row block, panel) tile of `out` belongs to one item.
		unsafe { finish(w, &acc, r0, rows, p, ptr, epi) };
	});
}

#[cfg(target_arch = "x86_64")]
mod x86 {
	use super::{MR, NR};
	use std::arch::x86_64::*;

	/// `acc[r] = Σ_q a[r][q] · panel[q]` over groups of four u8 × i8 products
	/// (`vpdpbusd`, exact in i32), for `rows ≤ 6` rows, two 16-lane sums per row.
	#[target_feature(enable = "avx512f,avx512vnni")]
	pub(super) unsafe fn micro_int8(
		a: &[u32],
		k4: usize,
		rows: usize,
		panel: &[i8],
		acc: &mut [[i32; NR]; MR],
	) {
		macro_rules! run {
			($mr:literal) => {{
				let mut c = [[_mm512_setzero_si512(); 2]; $mr];
				let pp = panel.as_ptr();
				let ap = a.as_ptr();
				for q in 0..k4 {
					let (w0, w1) = unsafe {
						(
							_mm512_loadu_si512(pp.add(q * 4 * NR) as *const _),
							_mm512_loadu_si512(pp.add(q * 4 * NR + 64) as *const _),
						)
					};
					for r in 0..$mr {
						let av = _mm512_set1_epi32(unsafe { *ap.add(r * k4 + q) } as i32);
						c[r][0] = _mm512_dpbusd_epi32(c[r][0], av, w0);
						c[r][1] = _mm512_dpbusd_epi32(c[r][1], av, w1);
					}
				}
				for (cr, ar) in c.iter().zip(acc.iter_mut()) {
					unsafe {
						_mm512_storeu_si512(ar.as_mut_ptr() as *mut _, cr[0]);
						_mm512_storeu_si512(ar.as_mut_ptr().add(16) as *mut _, cr[1]);
					}
				}
			}};
		}
		by_rows!(rows, run)
	}

	/// One row of activations → u8 (`round(x / s) + z`, ties to even, clamped
	/// to 0..=255, as `quantize_u8`) in groups of four, `(s, z)` from
	/// `u8_params`; returns `(s, z)`. A `k` that is not a multiple of 4 leaves
	/// the last group's spare bytes as they were (the weights there are zero).
	#[target_feature(enable = "avx512f,avx512bw")]
	pub(super) unsafe fn quantize_row(src: &[f32], dst: &mut [u32]) -> (f32, i32) {
		debug_assert!(
			dst.len() * 4 >= src.len(),
			"quantize_row: {} groups for {} values",
			dst.len(),
			src.len()
		);
		let (s, inv, z) = super::u8_params(src);
		let vinv = _mm512_set1_ps(inv);
		let (lo, hi, off) = (_mm512_set1_epi32(0), _mm512_set1_epi32(255), _mm512_set1_epi32(z));
		let bytes = dst.as_mut_ptr() as *mut u8;
		let mut i = 0;
		while i + 16 <= src.len() {
			unsafe {
				let v = _mm512_mul_ps(_mm512_loadu_ps(src.as_ptr().add(i)), vinv);
				// Round to nearest even (the default MXCSR mode), as `round_ties_even`.
				// |v| ≤ 255 here, so the add cannot overflow (the scalar path saturates).
				let q = _mm512_min_epi32(
					_mm512_max_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(v), off), lo),
					hi,
				);
				_mm_storeu_si128(bytes.add(i) as *mut __m128i, _mm512_cvtepi32_epi8(q));
			}
			i += 16;
		}
		for (j, &v) in src.iter().enumerate().skip(i) {
			let u = super::quantize_u8(v, inv, z);
			// SAFETY: `dst` holds ⌈k/4⌉ groups of four bytes.
			unsafe { *bytes.add(j) = u };
		}
		(s, z)
	}

	/// One row of a tile: `out[c] = (acc[c] − z·sum[c]) as f32 · (s_row · scale[c])`.
	#[target_feature(enable = "avx512f")]
	pub(super) unsafe fn dequantize(
		acc: &[i32; NR],
		sum: &[i32],
		scale: &[f32],
		(s_row, z): (f32, i32),
		out: &mut [f32; NR],
	) {
		let sr = _mm512_set1_ps(s_row);
		let zv = _mm512_set1_epi32(z);
		for h in [0, 16] {
			unsafe {
				let exact = _mm512_sub_epi32(
					_mm512_loadu_si512(acc.as_ptr().add(h) as *const _),
					_mm512_mullo_epi32(zv, _mm512_loadu_si512(sum.as_ptr().add(h) as *const _)),
				);
				let sc = _mm512_mul_ps(sr, _mm512_loadu_ps(scale.as_ptr().add(h)));
				_mm512_storeu_ps(
					out.as_mut_ptr().add(h),
					_mm512_mul_ps(_mm512_cvtepi32_ps(exact), sc),
				);
			}
		}
	}
}

#[cfg(test)]
mod tests {
	use super::super::{matmul, Packed};
	use super::*;
	use crate::test_util::lcg;

	/// The int8 path (where the CPU has it): within the quantization error of
	/// the f64 reference, the same bits for any row split, thread split or
	/// batch, and an all-zero row gives exactly the bias.
	#[test]
	fn int8_path_is_close_and_deterministic() {
		if !vnni() {
			eprintln!("no AVX-512 VNNI here: nothing to test");
			return;
		}
		let mut seed = 9u64;
		for (m, n, k) in [(13, 70, 33), (1, 1152, 384), (40, 384, 1536), (7, 40, 1)] {
			let wt: Vec<f32> = (0..n * k).map(|_| lcg(&mut seed) * 0.1).collect();
			let b: Vec<f32> = (0..n).map(|_| lcg(&mut seed)).collect();
			let mut a: Vec<f32> = (0..m * k).map(|_| lcg(&mut seed)).collect();
			a[..k].fill(0.0);
			let w = Packed::new_int8(&wt, &b, n, k).unwrap();
			assert!(w.int8.is_some() && w.bf16.is_none());
			let mut want = vec![f32::NAN; m * n];
			matmul(Isa::detect(), Threads::One, &w, &a, &mut want, Epilogue::Bias);
			assert!(want[..n].iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()));
			for i in 0..m {
				let ar = &a[i * k..(i + 1) * k];
				let sa = ar.iter().fold(0f64, |x, v| x.max(v.abs() as f64)) / 127.0;
				for j in 0..n {
					let wr = &wt[j * k..(j + 1) * k];
					let sw = wr.iter().fold(0f64, |x, v| x.max(v.abs() as f64)) / 127.0;
					let (mut v, mut bound) = (b[j] as f64, 1e-5);
					for (&x, &y) in ar.iter().zip(wr) {
						let (x, y) = (x as f64, y as f64);
						v += x * y;
						bound += x.abs() * sw / 2.0 + y.abs() * sa / 2.0 + sa * sw / 4.0;
					}
					let err = (want[i * n + j] as f64 - v).abs();
					assert!(
						err <= bound,
						"({i},{j}) {} vs {v}: error {err} > {bound}",
						want[i * n + j]
					);
				}
			}
			let mut pool = vec![f32::NAN; m * n];
			matmul(Isa::detect(), Threads::Pool, &w, &a, &mut pool, Epilogue::BiasGelu);
			let mut one_thread = vec![f32::NAN; m * n];
			matmul(Isa::detect(), Threads::One, &w, &a, &mut one_thread, Epilogue::BiasGelu);
			assert!(one_thread.iter().zip(&pool).all(|(x, y)| x.to_bits() == y.to_bits()));
			let mut one = vec![f32::NAN; n];
			matmul(
				Isa::detect(),
				Threads::Pool,
				&w,
				&a[(m - 1) * k..],
				&mut one,
				Epilogue::BiasGelu,
			);
			assert!(one.iter().zip(&pool[(m - 1) * n..]).all(|(x, y)| x.to_bits() == y.to_bits()));
		}
	}

	/// The vector activation quantization gives the scalar rule's bytes, ties
	/// (x/s = n + 0.5) to even included, for a row that is not a multiple of 16;
	/// a row of one sign keeps zero in its range.
	#[cfg(target_arch = "x86_64")]
	#[test]
	fn int8_row_quantization_is_the_scalar_rule() {
		if !vnni() {
			return;
		}
		// Range [-128, 127] → scale 1, zero point 128.
		let mut row: Vec<f32> = (0..37).map(|i| i as f32 - 18.5).collect();
		row[0] = 127.0;
		row[1] = -128.0;
		let mut got = vec![0u32; row.len().div_ceil(4)];
		let (s, z) = unsafe { x86::quantize_row(&row, &mut got) };
		assert_eq!((s, z), (1.0, 128));
		let bytes: Vec<u8> = got.iter().flat_map(|g| g.to_le_bytes()).collect();
		for (i, &v) in row.iter().enumerate() {
			assert_eq!(bytes[i], quantize_u8(v, 1.0, 128), "element {i} ({v})");
		}
		assert_eq!(bytes[2], 128 - 16, "-16.5 rounds to even");
		assert_eq!(bytes[3], 128 - 16, "-15.5 rounds to even");
		assert_eq!(bytes[row.len()..], [0, 0, 0]);
		// All positive: the range is [0, max], zero point 0.
		let pos: Vec<f32> = (0..20).map(|i| i as f32 + 1.0).collect();
		let mut got = vec![0u32; 5];
		let (s, z) = unsafe { x86::quantize_row(&pos, &mut got) };
		assert_eq!((s, z), (20.0 / 255.0, 0));
		let bytes: Vec<u8> = got.iter().flat_map(|g| g.to_le_bytes()).collect();
		assert_eq!(bytes[19], 255);
		for (i, &v) in pos.iter().enumerate() {
			assert_eq!(bytes[i], quantize_u8(v, 255.0 / 20.0, 0), "element {i} ({v})");
		}
	}
}
