//! 4-bit weights ([`Q4Matrix`]: Q4_1, Q4_0 or IQ4_NL) × 8-bit activations.
//!
//! - **Q4_1** × Q8_1: `y[t][r] = Σ_b ((Σq·x)·d_w·d_x + m_w·s_x)`, the blocks
//!   summed in order, exactly as candle's `BlockQ4_1::vec_dot`.
//! - **Q4_0** and **IQ4_NL** × Q8_0: `y[t][r] = Σ_b (Σv(q)·x)·d_w·d_x`, `v` the
//!   format's value of a quant ([`Q4Kind::value`]), the blocks summed in order.
//!   Each block's integer sum is exact, so every kernel gives the scalar
//!   reference's bits. (Candle's own Q4_0 product sums the blocks in eight
//!   FMA lanes, so it differs from this in the last bits; candle has no IQ4_NL.)
//!
//! The SIMD kernels work on one group of eight interleaved rows
//! ([`Q4Matrix`]) at a time, the eight rows in the eight lanes of a vector,
//! so each block's term is scaled in one vector multiply chain (the rows'
//! scales and minimums are one 16-byte load each) and added to the rows'
//! running sums lane by lane, block after block: the same order for every
//! row, with no separate ordered summation.
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
//!   horizontal adds — and four tokens share each load of the weights. Where
//!   the CPU has AVX-512, two groups go through together in 512-bit vectors
//!   (`wide.rs`: the same arithmetic lane for lane, half the instructions per
//!   row).
//!
//! The unsigned-by-signed products take the nibbles as they are (0..16) for
//! Q4_1 and Q4_0 (Q4_0's `−8` comes off as `8·Σx`, the activations' exact
//! block sum); IQ4_NL's nibbles are looked up (`vpshufb`) as `value + 128`
//! and `128·Σx` comes off, or, without VNNI (where `vpmaddubsw` would
//! saturate on such bytes), as signed values multiplied by sign tricks.

use super::{
	quant::{Q4Kind, Q4Matrix, QActs, Q4_GROUP, QK},
	Isa, OutPtr, Threads,
};
use half::f16;

/// `out[t * stride + r] = row r of `w` · token t of `x`` for every row and token.
/// `x` must be quantized with `w.kb` blocks per token: Q8_1
/// ([`QActs::quantize_q8_1`]) for Q4_1 weights; for Q4_0 and IQ4_NL either
/// (they read only the quants, scales and block sums, which both give alike).
pub fn matmul(
	isa: Isa,
	threads: Threads,
	w: &Q4Matrix,
	x: &QActs,
	out: &mut [f32],
	stride: usize,
) {
	assert_eq!(
		w.kb, x.kb,
		"{} matmul: {} weight blocks against {} activation blocks",
		w.kind.name(),
		w.kb,
		x.kb
	);
	assert!(
		stride >= w.rows && out.len() >= x.n.saturating_sub(1) * stride + w.rows,
		"{} matmul: output too small",
		w.kind.name()
	);
	if w.kind == Q4Kind::Q4_1 {
		assert_eq!(x.s.len(), x.d.len(), "Q4_1 matmul needs Q8_1 activations");
	}
	assert_eq!(x.sums.len(), x.d.len(), "4-bit matmul: activation block sums missing");
	assert_eq!(x.qs.len(), x.n * x.kb * QK, "4-bit matmul: activations incomplete");
	let ptr = OutPtr::new(out);
	// Prompt processing on 512-bit vectors takes groups in pairs: the work
	// items are then pairs, so that no item splits one.
	#[cfg(target_arch = "x86_64")]
	let wide = isa == Isa::Avx512Vnni && x.n > 1 && wide::available();
	#[cfg(not(target_arch = "x86_64"))]
	let wide = false;
	let (groups, unit) = (w.groups(), if wide { 2 } else { 1 });
	threads.for_each(groups.div_ceil(unit), |items| {
		let gs = items.start * unit..(items.end * unit).min(groups);
		// SAFETY: `gs` are in bounds and every (row, token) element is
		// written by the one item that owns the row's group.
		unsafe { groups_dispatch(isa, w, gs, x, ptr, stride, wide) }
	});
}

#[cfg(target_arch = "x86_64")]
thread_local! {
	/// Per-thread buffers of the prompt-processing kernels (kept: allocating
	/// and zeroing them per call would cost more than some calls' arithmetic).
	static SCRATCH: std::cell::RefCell<Box<x86::Scratch>> = std::cell::RefCell::new(Box::default());
	/// The same for the 512-bit prompt kernel.
	static WIDE: std::cell::RefCell<Box<wide::Scratch>> = std::cell::RefCell::new(Box::default());
}

/// The kernels' const parameter for each [`Q4Kind`].
const K_Q4_1: u8 = 0;
const K_Q4_0: u8 = 1;
const K_IQ4: u8 = 2;

unsafe fn groups_dispatch(
	isa: Isa,
	w: &Q4Matrix,
	groups: std::ops::Range<usize>,
	x: &QActs,
	out: OutPtr,
	stride: usize,
	wide: bool,
) {
	#[cfg(target_arch = "x86_64")]
	let groups = if wide {
		// Whole pairs of groups on 512-bit vectors, a last odd or partial group as usual.
		let mut g = groups.start;
		WIDE.with_borrow_mut(|s| {
			while g + 2 <= groups.end && (g + 2) * Q4_GROUP <= w.rows {
				// SAFETY: `wide` is only set where `wide::available()`; the pair is in `w`.
				unsafe {
					match w.kind {
						Q4Kind::Q4_1 => wide::pair_vnni::<K_Q4_1>(w, g, x, out, stride, s),
						Q4Kind::Q4_0 => wide::pair_vnni::<K_Q4_0>(w, g, x, out, stride, s),
						Q4Kind::Iq4Nl => wide::pair_vnni::<K_IQ4>(w, g, x, out, stride, s),
					}
				}
				g += 2;
			}
		});
		g..groups.end
	} else {
		groups
	};
	#[cfg(not(target_arch = "x86_64"))]
	let _ = wide;
	#[cfg(target_arch = "x86_64")]
	macro_rules! with_scratch {
		($f:ident, $k:expr) => {
			SCRATCH.with_borrow_mut(|s| unsafe { x86::$f::<{ $k }>(w, groups, x, out, stride, s) })
		};
	}
	match (isa, w.kind) {
		#[cfg(target_arch = "x86_64")]
		(Isa::Avx512Vnni, Q4Kind::Q4_1) => with_scratch!(groups_vnni, K_Q4_1),
		#[cfg(target_arch = "x86_64")]
		(Isa::Avx512Vnni, Q4Kind::Q4_0) => with_scratch!(groups_vnni, K_Q4_0),
		#[cfg(target_arch = "x86_64")]
		(Isa::Avx512Vnni, Q4Kind::Iq4Nl) => with_scratch!(groups_vnni, K_IQ4),
		#[cfg(target_arch = "x86_64")]
		(Isa::Avx2, Q4Kind::Q4_1) => with_scratch!(groups_avx2, K_Q4_1),
		#[cfg(target_arch = "x86_64")]
		(Isa::Avx2, Q4Kind::Q4_0) => with_scratch!(groups_avx2, K_Q4_0),
		#[cfg(target_arch = "x86_64")]
		(Isa::Avx2, Q4Kind::Iq4Nl) => with_scratch!(groups_avx2_signed, K_IQ4),
		_ => {
			let rows = groups.start * Q4_GROUP..(groups.end * Q4_GROUP).min(w.rows);
			for r in rows {
				for t in 0..x.n {
					unsafe { *out.at(t * stride + r) = dot_scalar(w, r, x, t) };
				}
			}
		},
	}
}

/// The reference for one row and one token: for Q4_1 candle's
/// `vec_dot_unopt`; for Q4_0 and IQ4_NL the same sequential sum of
/// `sumi as f32 * d_w * d_x` over the blocks.
pub fn dot_scalar(w: &Q4Matrix, r: usize, x: &QActs, t: usize) -> f32 {
	let kb = w.kb;
	let mut sumf = 0f32;
	for b in 0..kb {
		let q = w.quants(r, b);
		let y = &x.qs[(t * kb + b) * QK..(t * kb + b + 1) * QK];
		let mut sumi = 0i32;
		for j in 0..16 {
			sumi += w.kind.value(q[j] & 0x0F) * y[j] as i32 + w.kind.value(q[j] >> 4) * y[j + 16] as i32;
		}
		let dw = f16::from_bits(w.d(r, b)).to_f32();
		let i = t * kb + b;
		sumf += if w.kind == Q4Kind::Q4_1 {
			let mw = f16::from_bits(w.m(r, b)).to_f32();
			sumi as f32 * dw * x.d[i] + mw * x.s[i]
		} else {
			sumi as f32 * dw * x.d[i]
		};
	}
	sumf
}

#[cfg(target_arch = "x86_64")]
mod wide;
#[cfg(target_arch = "x86_64")]
mod x86;

#[cfg(test)]
mod tests {
	use super::{super::test_util::*, *};
	use candle_core::quantized::GgmlDType;

	/// A random matrix of `kind` in GGML bytes.
	fn ggml_q4(kind: Q4Kind, rows: usize, cols: usize, seed: &mut u64) -> Vec<u8> {
		let mut out = vec![];
		for _ in 0..rows * cols / QK {
			out.extend_from_slice(
				&f16::from_f32(lcg(seed).abs() * 0.05 + 1e-3).to_bits().to_le_bytes(),
			);
			if kind == Q4Kind::Q4_1 {
				out.extend_from_slice(&f16::from_f32(lcg(seed) * 0.3).to_bits().to_le_bytes());
			}
			for _ in 0..16 {
				out.push(((lcg(seed) + 1.0) * 127.9) as u8);
			}
		}
		out
	}

	/// Stacking GGML matrices packs the same rows as packing their concatenation,
	/// across partial groups, in every format.
	#[test]
	fn stack_equals_concatenation() {
		for kind in [Q4Kind::Q4_1, Q4Kind::Q4_0, Q4Kind::Iq4Nl] {
			let mut seed = 3u64;
			let (a, b, c) = (
				ggml_q4(kind, 13, 64, &mut seed),
				ggml_q4(kind, 3, 64, &mut seed),
				ggml_q4(kind, 9, 64, &mut seed),
			);
			let stacked = Q4Matrix::stack(kind, "s", &[(&a, 13), (&b, 3), (&c, 9)], 64).unwrap();
			let joined = Q4Matrix::from_ggml(kind, "j", &[&a[..], &b, &c].concat(), 25, 64).unwrap();
			assert_eq!((stacked.rows, stacked.kb, stacked.groups()), (25, 2, 4));
			assert!(stacked.data == joined.data);
			assert_eq!(stacked.data.len(), 4 * 2 * kind.group_block());
			// Row 14 is row 1 of the second part; its block 1 is GGML block 3 there.
			let bb = kind.ggml_block();
			let blk = &b[3 * bb..4 * bb];
			assert_eq!(stacked.quants(14, 1), &blk[bb - 16..]);
			assert_eq!(stacked.d(14, 1), u16::from_le_bytes([blk[0], blk[1]]));
			let m = if kind == Q4Kind::Q4_1 { u16::from_le_bytes([blk[2], blk[3]]) } else { 0 };
			assert_eq!(stacked.m(14, 1), m);
		}
	}

	/// A wrong byte count is refused with the format's name.
	#[test]
	fn sizes_are_checked_per_format() {
		let mut seed = 5u64;
		let q41 = ggml_q4(Q4Kind::Q4_1, 2, 64, &mut seed);
		let err = Q4Matrix::from_ggml(Q4Kind::Q4_0, "t", &q41, 2, 64).err().unwrap().to_string();
		assert!(err.contains("80 bytes, expected 72") && err.contains("Q4_0"), "{err}");
	}

	/// Every kernel, on one thread and on the pool, gives the scalar
	/// reference's bits, for every format; and the reference is candle's
	/// product (Q4_1: bit for bit; Q4_0: within float rounding, candle sums
	/// its blocks in eight FMA lanes) or, for IQ4_NL (not in candle), the
	/// dequantized weights times the dequantized activations.
	#[test]
	fn kernels_equal_the_reference() {
		let mut seed = 7u64;
		// 18 blocks (two full groups of 8 and a tail of 2), 48 blocks, 4 blocks (candle wants an
		// even count); 40 tokens (several token tiles); 72 blocks (two block chunks).
		// Where the CPU has AVX-512, prompts take whole pairs of groups on 512-bit
		// vectors and a last odd or partial group on 256-bit ones: 40 rows are two
		// pairs and a whole odd group; 48 and 36 blocks are two 512-bit chunks.
		for kind in [Q4Kind::Q4_1, Q4Kind::Q4_0, Q4Kind::Iq4Nl] {
			for (rows, cols, tokens) in [
				(37, 576, 5),
				(19, 1536, 3),
				(9, 128, 1),
				(21, 576, 40),
				(6, 2304, 17),
				(40, 1152, 9),
			]
			{
				let bytes = ggml_q4(kind, rows, cols, &mut seed);
				let w = Q4Matrix::from_ggml(kind, "w", &bytes, rows, cols).unwrap();
				let xs: Vec<f32> = (0..tokens * cols).map(|_| lcg(&mut seed) * 3.0).collect();
				let mut x = QActs::default();
				if kind == Q4Kind::Q4_1 {
					x.quantize_q8_1(&xs, cols);
				} else {
					x.quantize_q8_0(&xs, cols);
				}
				let reference: Vec<f32> = (0..tokens)
					.flat_map(|t| (0..rows).map(move |r| (t, r)))
					.map(|(t, r)| dot_scalar(&w, r, &x, t))
					.collect();
				match kind {
					Q4Kind::Q4_1 => {
						let want = candle_matmul(GgmlDType::Q4_1, &bytes, rows, cols, &xs);
						let same = want.iter().zip(&reference).all(|(a, b)| a.to_bits() == b.to_bits());
						assert!(same, "Q4_1 reference is not candle's bits");
					},
					Q4Kind::Q4_0 => {
						let want = candle_matmul(GgmlDType::Q4_0, &bytes, rows, cols, &xs);
						for (a, b) in want.iter().zip(&reference) {
							assert!((a - b).abs() <= 1e-4 * (1.0 + a.abs()), "Q4_0 {rows}x{cols}: candle {a} vs {b}");
						}
					},
					Q4Kind::Iq4Nl => {
						for (i, b) in reference.iter().enumerate() {
							let (t, r) = (i / rows, i % rows);
							let mut want = 0f64;
							for blk in 0..w.kb {
								let dw = f16::from_bits(w.d(r, blk)).to_f32() as f64;
								let dx = x.d[t * w.kb + blk] as f64;
								let q = w.quants(r, blk);
								for j in 0..QK {
									let nib = if j < 16 { q[j] & 15 } else { q[j - 16] >> 4 };
									let y = x.qs[(t * w.kb + blk) * QK + j] as f64;
									want += dw * IQ4NL_VALUES_F64[nib as usize] * dx * y;
								}
							}
							assert!(
								(want - *b as f64).abs() <= 1e-4 * (1.0 + want.abs()),
								"IQ4_NL {rows}x{cols}: {want} vs {b}"
							);
						}
					},
				}
				let mut isas = vec![Isa::Scalar, Isa::detect()];
				if Isa::detect() == Isa::Avx512Vnni {
					isas.push(Isa::Avx2);
				}
				for isa in isas {
					for threads in [Threads::One, Threads::Pool] {
						let mut got = vec![f32::NAN; tokens * rows];
						matmul(isa, threads, &w, &x, &mut got, rows);
						let same =
							reference.iter().zip(&got).all(|(a, b)| a.to_bits() == b.to_bits());
						assert!(
							same,
							"{kind:?} {isa:?} {threads:?} {rows}x{cols}: {:?} vs {:?}",
							&reference[..4],
							&got[..4]
						);
					}
				}
			}
		}
	}

	const IQ4NL_VALUES_F64: [f64; 16] = {
		let mut v = [0f64; 16];
		let mut i = 0;
		while i < 16 {
			v[i] = crate::quant::IQ4NL_VALUES[i] as f64;
			i += 1;
		}
		v
	};

	/// Q8_1 and Q8_0 quantization give the same quants, scales and block
	/// sums (so a Q4_0 or IQ4_NL matrix may share a Q4_1 matrix's activations).
	#[test]
	fn q8_1_and_q8_0_share_quants_scales_and_sums() {
		let mut seed = 11u64;
		let xs: Vec<f32> = (0..4 * 576).map(|_| lcg(&mut seed) * 2.0).collect();
		let (mut a, mut b) = (QActs::default(), QActs::default());
		a.quantize_q8_1(&xs, 576);
		b.quantize_q8_0(&xs, 576);
		assert_eq!((a.qs, a.d, a.sums), (b.qs, b.d, b.sums));
	}
}
