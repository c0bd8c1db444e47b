//! f32 matrix products for the BERT encoder: `out = a · Wᵀ + bias` (PyTorch
//! `Linear` weights), optionally followed by GELU, with the weights packed at
//! load into 32-column panels.
//!
//! Every output element is one chain of fused multiply-adds over `k` in
//! order, then `+ bias`: the same bits whichever instruction set (AVX-512,
//! AVX2 or scalar `mul_add`), row blocking, batch size or thread split
//! computes it. A sentence therefore embeds to the same bits alone or in any
//! batch, on any number of threads.
//!
//! On a CPU with AVX-512 BF16 (and unless `AGORA_KERNELS` asks for `f32`),
//! the products run in bfloat16 instead: weights rounded at load, activations
//! rounded per call (both round-to-nearest-even), each output one chain of
//! `vdpbf16ps` steps over `k` in pairs, accumulated in f32 — twice the
//! products per instruction. Its rounding differs from the f32 path's (the
//! embedding model's determinism profile is a cosine, not bits: measured
//! cosine with sentence-transformers stays ≥ 0.9999), but it is as
//! deterministic: the same bits for any batch, row blocking or thread split.
//!
//! With `AGORA_KERNELS=int8` (opt-in, AVX-512 VNNI) the products run in int8:
//! weights quantized per output column at load (symmetric int8), activations
//! per row per call (u8 with a zero point over the row's range), `vpdpbusd`
//! sums exact in i32, one float rescale per element — again the same bits for
//! any batch or split, ~2–2.7× the bfloat16 path's sentences/s on a Sapphire
//! Rapids Xeon, but its worst cosine to sentence-transformers (0.9967, a
//! one-token sentence) leaves too little room under the `Cosine` profile's
//! 0.99 for it to be the default ([`int8_available`]).
use crate::{ops, Isa, OutPtr, Threads};

/// Columns per packed panel (two 16-float AVX-512 vectors).
const NR: usize = 32;
/// Rows per micro-tile.
const MR: usize = 6;

/// What happens to `a · Wᵀ + bias` before it is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Epilogue {
	/// Stored as is.
	Bias,
	/// GELU (erf form, as BERT's `hidden_act = "gelu"`).
	BiasGelu,
}

/// A `Linear` layer's weight (`n × k`), packed: panel `p` holds columns
/// `32p..32p+32` of `Wᵀ` as `k` rows of 32 floats (zero past `n`).
pub struct Packed {
	/// Inputs.
	pub k: usize,
	/// Outputs.
	pub n: usize,
	panels: Vec<f32>,
	/// The bfloat16 panels, when the bf16 path is used: panel `p` holds
	/// `⌈k/2⌉` pair rows of 32 columns × (W[c][2q], W[c][2q+1]) (zero past `k`
	/// and `n`).
	bf16: Option<Vec<u16>>,
	/// The int8 panels, when the int8 path is used ([`int8_available`]).
	int8: Option<Int8Panels>,
	bias: Vec<f32>,
}

/// Whether this CPU runs the bfloat16 path (AVX-512 BF16, not disabled by
/// `AGORA_KERNELS=f32|avx2|scalar`). Decided once per process.
pub fn bf16_available() -> bool {
	static BF16: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
	*BF16.get_or_init(|| {
		#[cfg(target_arch = "x86_64")]
		{
			let off = matches!(
				std::env::var("AGORA_KERNELS").as_deref(),
				Ok("f32") | Ok("avx2") | Ok("scalar")
			);
			!off && Isa::detect() == Isa::Avx512Vnni
				&& std::arch::is_x86_feature_detected!("avx512f")
				&& std::arch::is_x86_feature_detected!("avx512bf16")
		}
		#[cfg(not(target_arch = "x86_64"))]
		false
	})
}

impl Packed {
	/// Packs a row-major `n × k` weight and its `n` biases (with int8 panels
	/// when [`int8_available`], else bfloat16 panels when [`bf16_available`]).
	pub fn new(weight: &[f32], bias: &[f32], n: usize, k: usize) -> anyhow::Result<Self> {
		if int8_available() {
			Self::new_int8(weight, bias, n, k)
		} else {
			Self::new_bf16(weight, bias, n, k)
		}
	}

	/// Packs for the bfloat16 path (where the CPU has it) and not the int8 one.
	pub fn new_bf16(weight: &[f32], bias: &[f32], n: usize, k: usize) -> anyhow::Result<Self> {
		let mut p = Self::new_f32(weight, bias, n, k)?;
		if bf16_available() {
			p.bf16 = Some(pack_bf16(weight, n, k));
		}
		Ok(p)
	}

	/// Packs for the int8 path (where the CPU has VNNI, asked for or not) and
	/// not the bfloat16 one.
	pub fn new_int8(weight: &[f32], bias: &[f32], n: usize, k: usize) -> anyhow::Result<Self> {
		let mut p = Self::new_f32(weight, bias, n, k)?;
		if vnni() {
			p.int8 = Some(pack_int8(weight, n, k));
		}
		Ok(p)
	}

	/// Packs for the f32 path only (the reference the tests compare with).
	pub fn new_f32(weight: &[f32], bias: &[f32], n: usize, k: usize) -> anyhow::Result<Self> {
		anyhow::ensure!(weight.len() == n * k, "weight has {} values, not {n} x {k}", weight.len());
		anyhow::ensure!(bias.len() == n, "bias has {} values, not {n}", bias.len());
		let np = n.div_ceil(NR);
		let mut panels = vec![0f32; np * k * NR];
		for j in 0..n {
			let (p, c) = (j / NR, j % NR);
			for kk in 0..k {
				panels[(p * k + kk) * NR + c] = weight[j * k + kk];
			}
		}
		Ok(Self { k, n, panels, bf16: None, int8: None, bias: bias.to_vec() })
	}

	/// Stacks layers with the same `k` (fused Q/K/V): outputs concatenated.
	pub fn stack(parts: &[(&[f32], &[f32], usize)], k: usize) -> anyhow::Result<Self> {
		let (mut w, mut b, mut n) = (vec![], vec![], 0);
		for (pw, pb, pn) in parts {
			w.extend_from_slice(pw);
			b.extend_from_slice(pb);
			n += pn;
		}
		Self::new(&w, &b, n, k)
	}
}

/// Round-to-nearest-even bfloat16 panels of a row-major `n × k` weight.
fn pack_bf16(weight: &[f32], n: usize, k: usize) -> Vec<u16> {
	let (np, k2) = (n.div_ceil(NR), k.div_ceil(2));
	let mut panels = vec![0u16; np * k2 * NR * 2];
	for j in 0..n {
		let (p, c) = (j / NR, j % NR);
		for kk in 0..k {
			let v = half::bf16::from_f32(weight[j * k + kk]).to_bits();
			panels[((p * k2 + kk / 2) * NR + c) * 2 + kk % 2] = v;
		}
	}
	panels
}

#[cfg(target_arch = "x86_64")]
thread_local! {
	/// The calling thread's bfloat16 copy of a call's activations (kept between calls).
	static A_BF16: std::cell::RefCell<Vec<u32>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// `out[i][j] = epilogue(Σ_k a[i][k]·W[j][k] + bias[j])` for `m = a.len() / k` rows.
pub fn matmul(isa: Isa, threads: Threads, w: &Packed, a: &[f32], out: &mut [f32], epi: Epilogue) {
	let (k, n) = (w.k, w.n);
	assert!(a.len().is_multiple_of(k), "matmul: {} inputs is not rows of {k}", a.len());
	let m = a.len() / k;
	assert!(out.len() >= m * n, "matmul: output too small");
	#[cfg(target_arch = "x86_64")]
	if let (Isa::Avx512Vnni, Some(panels)) = (isa, w.int8.as_ref()) {
		int8::matmul(threads, w, panels, a, m, out, epi);
		return;
	}
	#[cfg(target_arch = "x86_64")]
	if let (Isa::Avx512Vnni, Some(panels)) = (isa, w.bf16.as_deref()) {
		A_BF16.with_borrow_mut(|abf| {
			let k2 = k.div_ceil(2);
			abf.resize(m * k2, 0);
			let dst = crate::SharedMut::new(abf);
			by_rows_on(threads, m, |r| {
				// SAFETY: row r belongs to this item; `bf16_available` checked
				// the CPU when `w` was packed.
				unsafe { x86::to_bf16_pairs(&a[r * k..(r + 1) * k], dst.part(r * k2, k2)) };
			});
			bf16_matmul(threads, w, panels, abf, m, out, epi);
		});
		return;
	}
	let ptr = OutPtr::new(out);
	for_each_tile(threads, m, n, |p, r0, rows| {
		// SAFETY: each (row block, panel) tile of `out` belongs to one item.
		unsafe { tile(isa, w, a, r0, rows, p, ptr, epi) };
	});
}

/// Calls `f(row)` for each of `m` activation rows (their conversion before a
/// product): on `threads` when there are enough rows to pay for the pool's
/// wake-up, else on the calling thread. A row's result does not depend on
/// which thread computes it.
fn by_rows_on(threads: Threads, m: usize, f: impl Fn(usize) + Sync) {
	let threads = if m >= 32 { threads } else { Threads::One };
	threads.for_each(m, |range| range.for_each(&f));
}

/// Calls `f(panel, first row, rows)` for every (panel, row block) tile of an
/// `m × n` output, spread over `threads`. Items are panel-major: a thread
/// walks the row blocks of a panel while the panel stays in its cache.
fn for_each_tile(threads: Threads, m: usize, n: usize, f: impl Fn(usize, usize, usize) + Sync) {
	let row_blocks = m.div_ceil(MR);
	threads.for_each(n.div_ceil(NR) * row_blocks, |range| {
		for item in range {
			let (p, rb) = (item / row_blocks, item % row_blocks);
			let r0 = rb * MR;
			f(p, r0, MR.min(m - r0));
		}
	});
}

/// The bfloat16 path: `abf` is `m` rows of `⌈k/2⌉` activation pairs.
#[cfg(target_arch = "x86_64")]
fn bf16_matmul(
	threads: Threads,
	w: &Packed,
	panels: &[u16],
	abf: &[u32],
	m: usize,
	out: &mut [f32],
	epi: Epilogue,
) {
	let (k2, n) = (w.k.div_ceil(2), w.n);
	let ptr = OutPtr::new(out);
	for_each_tile(threads, m, n, |p, r0, rows| {
		let panel = &panels[p * k2 * NR * 2..(p + 1) * k2 * NR * 2];
		let mut acc = [[0f32; NR]; MR];
		// SAFETY: the CPU has AVX-512 BF16 (the panels exist only then).
		unsafe { x86::micro_bf16(&abf[r0 * k2..(r0 + rows) * k2], k2, rows, panel, &mut acc) };
		// SAFETY: each (row block, panel) tile of `out` belongs to one item.
		unsafe { finish(w, &acc, r0, rows, p, ptr, epi) };
	});
}

#[allow(clippy::too_many_arguments)]
unsafe fn tile(
	isa: Isa,
	w: &Packed,
	a: &[f32],
	r0: usize,
	rows: usize,
	p: usize,
	out: OutPtr,
	epi: Epilogue,
) {
	let k = w.k;
	let panel = &w.panels[p * k * NR..(p + 1) * k * NR];
	let mut acc = [[0f32; NR]; MR];
	match isa {
		#[cfg(target_arch = "x86_64")]
		Isa::Avx512Vnni => unsafe {
			x86::micro_avx512(&a[r0 * k..(r0 + rows) * k], k, rows, panel, &mut acc)
		},
		#[cfg(target_arch = "x86_64")]
		Isa::Avx2 => unsafe { x86::micro_avx2(&a[r0 * k..(r0 + rows) * k], k, rows, panel, &mut acc) },
		_ => {
			for (r, accr) in acc.iter_mut().enumerate().take(rows) {
				let ar = &a[(r0 + r) * k..(r0 + r + 1) * k];
				for (kk, &av) in ar.iter().enumerate() {
					let wr = &panel[kk * NR..(kk + 1) * NR];
					for (c, v) in accr.iter_mut().enumerate() {
						*v = av.mul_add(wr[c], *v);
					}
				}
			}
		},
	}
	unsafe { finish(w, &acc, r0, rows, p, out, epi) };
}

/// Stores a tile's rows into `out` and applies the epilogue there.
///
/// # Safety
/// The tile must be in bounds of `out` and owned by the caller.
unsafe fn finish(
	w: &Packed,
	acc: &[[f32; NR]; MR],
	r0: usize,
	rows: usize,
	p: usize,
	out: OutPtr,
	epi: Epilogue,
) {
	let n = w.n;
	let c0 = p * NR;
	let cols = NR.min(n - c0);
	for (r, accr) in acc.iter().enumerate().take(rows) {
		// SAFETY: the tile is in bounds and owned by this item.
		let dst = unsafe { out.part((r0 + r) * n + c0, cols) };
		match <&mut [f32; NR]>::try_from(&mut *dst) {
			// A whole panel: a fixed-size copy, no library call.
			Ok(whole) => *whole = *accr,
			Err(_) => dst.copy_from_slice(&accr[..cols]),
		}
		epilogue(dst, &w.bias[c0..c0 + cols], epi);
	}
}

/// In place on a tile's row, stored: `+ bias`, then GELU if asked
/// ([`ops::gelu_erf`], on the widest vectors the CPU has: the same bits).
fn epilogue(dst: &mut [f32], bias: &[f32], epi: Epilogue) {
	for (v, b) in dst.iter_mut().zip(bias) {
		*v += b;
	}
	if epi == Epilogue::BiasGelu {
		ops::gelu_erf(dst);
	}
}

#[cfg(target_arch = "x86_64")]
/// Runs the micro-kernel macro `$run` specialised for `$rows` (1..=6) rows.
macro_rules! by_rows {
	($rows:expr, $run:ident) => {
		match $rows {
			6 => $run!(6),
			5 => $run!(5),
			4 => $run!(4),
			3 => $run!(3),
			2 => $run!(2),
			_ => $run!(1),
		}
	};
}

mod int8;
pub use int8::int8_available;
use int8::{pack_int8, vnni, Int8Panels};

#[cfg(target_arch = "x86_64")]
mod x86 {
	use super::{MR, NR};
	use std::arch::x86_64::*;

	/// Stores an AVX-512 tile's two 16-lane chains per row.
	#[inline]
	#[target_feature(enable = "avx512f")]
	fn store_tile(c: &[[__m512; 2]], acc: &mut [[f32; NR]; MR]) {
		for (cr, ar) in c.iter().zip(acc.iter_mut()) {
			unsafe {
				_mm512_storeu_ps(ar.as_mut_ptr(), cr[0]);
				_mm512_storeu_ps(ar.as_mut_ptr().add(16), cr[1]);
			}
		}
	}

	/// `acc[r] = Σ_k a[r][k] · panel[k]` for `rows ≤ 6` rows, two 16-lane FMA
	/// chains per row.
	#[target_feature(enable = "avx512f")]
	pub(super) unsafe fn micro_avx512(
		a: &[f32],
		k: usize,
		rows: usize,
		panel: &[f32],
		acc: &mut [[f32; NR]; MR],
	) {
		macro_rules! run {
			($mr:literal) => {{
				let mut c = [[_mm512_setzero_ps(); 2]; $mr];
				let pp = panel.as_ptr();
				let ap = a.as_ptr();
				for kk in 0..k {
					let w0 = unsafe { _mm512_loadu_ps(pp.add(kk * NR)) };
					let w1 = unsafe { _mm512_loadu_ps(pp.add(kk * NR + 16)) };
					for r in 0..$mr {
						let av = _mm512_set1_ps(unsafe { *ap.add(r * k + kk) });
						c[r][0] = _mm512_fmadd_ps(av, w0, c[r][0]);
						c[r][1] = _mm512_fmadd_ps(av, w1, c[r][1]);
					}
				}
				store_tile(&c, acc);
			}};
		}
		by_rows!(rows, run)
	}

	/// 32 bfloat16 values seen as the type `vdpbf16ps` takes (same 64 bytes).
	#[inline]
	#[target_feature(enable = "avx512f,avx512bf16")]
	fn bh(v: __m512i) -> __m512bh {
		// SAFETY: both are 64 bytes of plain data.
		unsafe { std::mem::transmute::<__m512i, __m512bh>(v) }
	}

	/// `acc[r] = Σ_q a[r][q] · panel[q]` over bfloat16 pairs (`vdpbf16ps`), for
	/// `rows ≤ 6` rows, two 16-lane chains per row.
	#[target_feature(enable = "avx512f,avx512bf16")]
	pub(super) unsafe fn micro_bf16(
		a: &[u32],
		k2: usize,
		rows: usize,
		panel: &[u16],
		acc: &mut [[f32; NR]; MR],
	) {
		macro_rules! run {
			($mr:literal) => {{
				let mut c = [[_mm512_setzero_ps(); 2]; $mr];
				let pp = panel.as_ptr();
				let ap = a.as_ptr();
				for q in 0..k2 {
					let (w0, w1) = unsafe {
						(
							bh(_mm512_loadu_si512(pp.add(q * 2 * NR) as *const _)),
							bh(_mm512_loadu_si512(pp.add(q * 2 * NR + NR) as *const _)),
						)
					};
					for r in 0..$mr {
						let av = bh(_mm512_set1_epi32(unsafe { *ap.add(r * k2 + q) } as i32));
						c[r][0] = _mm512_dpbf16_ps(c[r][0], av, w0);
						c[r][1] = _mm512_dpbf16_ps(c[r][1], av, w1);
					}
				}
				store_tile(&c, acc);
			}};
		}
		by_rows!(rows, run)
	}

	/// One row of activations → bfloat16 pairs (round to nearest even; an odd
	/// `k`'s last pair is padded with zero).
	#[target_feature(enable = "avx512f,avx512bf16")]
	pub(super) unsafe fn to_bf16_pairs(src: &[f32], dst: &mut [u32]) {
		let mut i = 0;
		while i + 32 <= src.len() {
			unsafe {
				let lo = _mm512_loadu_ps(src.as_ptr().add(i));
				let hi = _mm512_loadu_ps(src.as_ptr().add(i + 16));
				let v = std::mem::transmute::<__m512bh, __m512i>(_mm512_cvtne2ps_pbh(hi, lo));
				_mm512_storeu_si512(dst.as_mut_ptr().add(i / 2) as *mut _, v);
			}
			i += 32;
		}
		while i < src.len() {
			let lo = half::bf16::from_f32(src[i]).to_bits() as u32;
			let hi = src.get(i + 1).map(|&v| half::bf16::from_f32(v).to_bits() as u32).unwrap_or(0);
			dst[i / 2] = lo | (hi << 16);
			i += 2;
		}
	}

	/// The AVX2 version: four 8-lane chains per row, three rows at a time.
	#[target_feature(enable = "avx2,fma")]
	pub(super) unsafe fn micro_avx2(
		a: &[f32],
		k: usize,
		rows: usize,
		panel: &[f32],
		acc: &mut [[f32; NR]; MR],
	) {
		let mut r0 = 0;
		while r0 < rows {
			let mr = (rows - r0).min(3);
			let mut c = [[_mm256_setzero_ps(); 4]; 3];
			let pp = panel.as_ptr();
			let ap = unsafe { a.as_ptr().add(r0 * k) };
			for kk in 0..k {
				let w: [__m256; 4] =
					std::array::from_fn(|i| unsafe { _mm256_loadu_ps(pp.add(kk * NR + 8 * i)) });
				for (r, cr) in c.iter_mut().enumerate().take(mr) {
					let av = _mm256_set1_ps(unsafe { *ap.add(r * k + kk) });
					for i in 0..4 {
						cr[i] = _mm256_fmadd_ps(av, w[i], cr[i]);
					}
				}
			}
			for (r, cr) in c.iter().enumerate().take(mr) {
				for (i, v) in cr.iter().enumerate() {
					unsafe { _mm256_storeu_ps(acc[r0 + r].as_mut_ptr().add(8 * i), *v) };
				}
			}
			r0 += mr;
		}
	}
}

#[cfg(test)]
mod tests {
	use super::{super::test_util::lcg, *};

	#[test]
	fn every_isa_row_split_and_thread_split_gives_the_same_bits() {
		let mut seed = 3u64;
		for (m, n, k) in [(13, 70, 33), (1, 1152, 384), (40, 384, 1536)] {
			let wt: Vec<f32> = (0..n * k).map(|_| lcg(&mut seed) * 0.1).collect();
			let b: Vec<f32> = (0..n).map(|_| lcg(&mut seed)).collect();
			let a: Vec<f32> = (0..m * k).map(|_| lcg(&mut seed)).collect();
			let w = Packed::new_f32(&wt, &b, n, k).unwrap();
			let mut want = vec![0f32; m * n];
			matmul(Isa::Scalar, Threads::One, &w, &a, &mut want, Epilogue::BiasGelu);
			// Close to the f64 reference.
			for i in [0, m / 2, m - 1] {
				for j in [0, n / 2, n - 1] {
					let v: f64 = (0..k)
						.map(|kk| a[i * k + kk] as f64 * wt[j * k + kk] as f64)
						.sum::<f64>() + b[j] as f64;
					let g = 0.5 * v * (1.0 + erf64(v / std::f64::consts::SQRT_2));
					assert!(
						(want[i * n + j] as f64 - g).abs() < 1e-4 * (1.0 + g.abs()),
						"({i},{j}) {} vs {g}",
						want[i * n + j]
					);
				}
			}
			let isas =
				if Isa::detect() == Isa::Scalar { vec![] } else { vec![Isa::detect(), Isa::Avx2] };
			for isa in isas {
				for threads in [Threads::One, Threads::Pool] {
					let mut got = vec![f32::NAN; m * n];
					matmul(isa, threads, &w, &a, &mut got, Epilogue::BiasGelu);
					assert!(
						want.iter().zip(&got).all(|(x, y)| x.to_bits() == y.to_bits()),
						"{isa:?} {threads:?}"
					);
					// One row alone equals the same row in the batch.
					let mut one = vec![0f32; n];
					matmul(isa, threads, &w, &a[(m - 1) * k..], &mut one, Epilogue::BiasGelu);
					assert!(one
						.iter()
						.zip(&want[(m - 1) * n..])
						.all(|(x, y)| x.to_bits() == y.to_bits()));
				}
			}
		}
	}

	/// The bfloat16 path (where the CPU has it): within bfloat16 rounding of the
	/// f64 reference, and the same bits for any row split, thread split or batch.
	#[test]
	fn bf16_path_is_close_and_deterministic() {
		if !bf16_available() {
			eprintln!("no AVX-512 BF16 here: nothing to test");
			return;
		}
		let mut seed = 5u64;
		for (m, n, k) in [(13, 70, 33), (1, 1152, 384), (40, 384, 1536), (7, 40, 1)] {
			let wt: Vec<f32> = (0..n * k).map(|_| lcg(&mut seed) * 0.1).collect();
			let b: Vec<f32> = (0..n).map(|_| lcg(&mut seed)).collect();
			let a: Vec<f32> = (0..m * k).map(|_| lcg(&mut seed)).collect();
			let w = Packed::new_bf16(&wt, &b, n, k).unwrap();
			assert!(w.bf16.is_some());
			let mut want = vec![f32::NAN; m * n];
			matmul(Isa::detect(), Threads::One, &w, &a, &mut want, Epilogue::Bias);
			for i in 0..m {
				for j in 0..n {
					let (v, mag): (f64, f64) = (0..k)
						.map(|kk| a[i * k + kk] as f64 * wt[j * k + kk] as f64)
						.fold((0.0, 0.0), |(s, g), x| (s + x, g + x.abs()));
					let v = v + b[j] as f64;
					// Each product's operands are rounded by at most 2^-9 relative.
					let err = (want[i * n + j] as f64 - v).abs();
					assert!(
						err <= 2f64.powi(-7) * mag + 1e-6,
						"({i},{j}) {} vs {v}",
						want[i * n + j]
					);
				}
			}
			let mut pool = vec![f32::NAN; m * n];
			matmul(Isa::detect(), Threads::Pool, &w, &a, &mut pool, Epilogue::Bias);
			assert!(want.iter().zip(&pool).all(|(x, y)| x.to_bits() == y.to_bits()));
			let mut one = vec![f32::NAN; n];
			matmul(Isa::detect(), Threads::Pool, &w, &a[(m - 1) * k..], &mut one, Epilogue::Bias);
			assert!(one.iter().zip(&want[(m - 1) * n..]).all(|(x, y)| x.to_bits() == y.to_bits()));
			// The f32 paths ignore the bfloat16 panels.
			let mut f = vec![f32::NAN; m * n];
			matmul(Isa::Avx2, Threads::One, &w, &a, &mut f, Epilogue::Bias);
			let mut reference = vec![f32::NAN; m * n];
			let w32 = Packed::new_f32(&wt, &b, n, k).unwrap();
			matmul(Isa::Scalar, Threads::One, &w32, &a, &mut reference, Epilogue::Bias);
			assert!(f.iter().zip(&reference).all(|(x, y)| x.to_bits() == y.to_bits()));
		}
	}

	/// erf in f64 (Abramowitz–Stegun 7.1.26 is not enough for a reference: series/continued fraction).
	fn erf64(x: f64) -> f64 {
		// Taylor series; |x| < 6 here, converges with enough terms.
		let mut sum = x;
		let mut term = x;
		for n in 1..200 {
			term *= -x * x / n as f64;
			sum += term / (2 * n + 1) as f64;
		}
		2.0 / std::f64::consts::PI.sqrt() * sum
	}
}
