//! Prompt processing on 512-bit vectors: two groups (16 rows) at a time.
//!
//! The same arithmetic as the 256-bit prompt kernel ([`super::x86`]), lane
//! for lane — each block's exact integer sum, then `sumi as f32 · d_w · d_x`
//! (`+ m_w · s_x` for Q4_1) added to the row's running sum, block after block —
//! so the bits are the same; a vector now holds sixteen rows. Each broadcast
//! activation group, each scale multiply and each add then serves twice the
//! rows: per 32 columns of four tokens the kernel issues about half the
//! instructions of the 256-bit one for the same `vpdpbusd` work.
use super::{
	super::{
		quant::{Q4Matrix, QActs, IQ4NL_VALUES, Q4_GROUP, QK},
		OutPtr,
	},
	x86::unpack_block,
	K_IQ4, K_Q4_0, K_Q4_1,
};
use std::arch::x86_64::*;

/// Tokens computed together (they share each load of the unpacked weights).
const TT: usize = 4;
/// Blocks unpacked at a time: 32 blocks × 8 vectors × 64 bytes = 16 KiB, half
/// an L1 data cache (a longer row is done in chunks, in order).
const KC: usize = 32;

/// A thread's buffers for this kernel.
pub(super) struct Scratch {
	/// A chunk's unpacked quants: per block, eight vectors `s`, lane `j`
	/// holding row `j`'s quants `4s..4s+4` (rows 0..8 from the first group,
	/// 8..16 from the second; quants 16.. are the high nibbles).
	w: [[[u8; 64]; 8]; KC],
	/// Per block, the sixteen rows' scales and minimums, widened.
	dm: [[[f32; 16]; 2]; KC],
	/// Per token, the sixteen rows' sums over the chunks done so far.
	acc: Vec<[f32; 16]>,
}

impl Default for Scratch {
	fn default() -> Self {
		Scratch { w: [[[0; 64]; 8]; KC], dm: [[[0.0; 16]; 2]; KC], acc: vec![] }
	}
}

/// Whether this CPU runs [`pair_vnni`] (AVX-512 F, BW and VNNI; decided once).
pub(super) fn available() -> bool {
	static OK: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
	*OK.get_or_init(|| {
		std::env::var("AGORA_KERNELS").as_deref() != Ok("narrow")
			&& std::arch::is_x86_feature_detected!("avx512f")
			&& std::arch::is_x86_feature_detected!("avx512bw")
			&& std::arch::is_x86_feature_detected!("avx512vnni")
			&& std::arch::is_x86_feature_detected!("avx512vl")
			&& std::arch::is_x86_feature_detected!("avx2")
			&& std::arch::is_x86_feature_detected!("f16c")
	})
}

/// The block term for sixteen rows, as [`super::x86`]'s `term` for eight.
#[inline]
#[target_feature(enable = "avx512f")]
fn term<const K: u8>(sumi: __m512i, off: i32, ysum: i32, d: __m512, m: __m512, dx: f32, sx: f32) -> __m512 {
	if K == K_Q4_1 {
		_mm512_add_ps(
			_mm512_mul_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(sumi), d), _mm512_set1_ps(dx)),
			_mm512_mul_ps(m, _mm512_set1_ps(sx)),
		)
	} else {
		let sumi = _mm512_sub_epi32(sumi, _mm512_set1_epi32(off * ysum));
		_mm512_mul_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(sumi), d), _mm512_set1_ps(dx))
	}
}

/// Groups `g` and `g + 1` (both whole: 16 rows from `g · 8`) × every token of
/// `x` (at least one), into `out[t · stride + r]`.
///
/// # Safety
/// The CPU has what [`available`] checks; both groups lie in `w`; `x` has
/// `w.kb` blocks per token; `out` holds every `(t, r)` addressed, and no other
/// thread writes these rows.
#[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512vnni,avx512vl")]
pub(super) unsafe fn pair_vnni<const K: u8>(
	w: &Q4Matrix,
	g: usize,
	x: &QActs,
	out: OutPtr,
	stride: usize,
	scratch: &mut Scratch,
) {
	let kb = w.kb;
	let gb = w.kind.group_block();
	debug_assert!((g + 2) * Q4_GROUP <= w.rows && x.n > 0);
	// IQ4_NL's grid offset by 128 (the products take unsigned weights).
	let grid: [u8; 16] = std::array::from_fn(|i| (IQ4NL_VALUES[i] as i32 + 128) as u8);
	let lut = unsafe { _mm256_broadcastsi128_si256(_mm_loadu_si128(grid.as_ptr() as *const __m128i)) };
	let off: i32 = match K {
		K_Q4_0 => 8,
		K_IQ4 => 128,
		_ => 0,
	};
	let r0 = g * Q4_GROUP;
	let bases = [0, 1].map(|i| unsafe { w.data.as_ptr().add((g + i) * kb * gb) });
	let xq = x.qs.as_ptr();
	let (xd, xs, xsum) = (x.d.as_ptr(), x.s.as_ptr(), x.sums.as_ptr());
	let zero = _mm512_setzero_ps();
	let zi = _mm512_setzero_si512();
	let Scratch { w: wbuf, dm, acc: accs } = scratch;
	accs.resize(x.n, [0.0; 16]);
	let mut b0 = 0;
	while b0 < kb {
		let nb = KC.min(kb - b0);
		for (b, (wb, dmb)) in wbuf.iter_mut().zip(dm.iter_mut()).take(nb).enumerate() {
			for (half, base) in bases.iter().enumerate() {
				let p = unsafe { base.add((b0 + b) * gb) };
				let (t, d, m) = unsafe { unpack_block::<K>(p, lut) };
				for (dst, tv) in wb.iter_mut().zip(t) {
					unsafe { _mm256_storeu_si256(dst.as_mut_ptr().add(32 * half) as *mut __m256i, tv) };
				}
				unsafe {
					_mm256_storeu_ps(dmb[0].as_mut_ptr().add(8 * half), d);
					_mm256_storeu_ps(dmb[1].as_mut_ptr().add(8 * half), m);
				}
			}
		}
		let last = b0 + nb == kb;
		// TT tokens per pass over the unpacked weights (past the last token,
		// the last one is computed again and stored again).
		let mut t0 = 0;
		while t0 < x.n {
			let ts: [usize; TT] = std::array::from_fn(|i| (t0 + i).min(x.n - 1));
			let mut acc: [__m512; TT] = if b0 == 0 {
				[zero; TT]
			} else {
				ts.map(|t| unsafe { _mm512_loadu_ps(accs[t].as_ptr()) })
			};
			for (b, (wb, dmb)) in wbuf.iter().zip(dm.iter()).take(nb).enumerate() {
				let wv: [__m512i; 8] =
					std::array::from_fn(|s| unsafe { _mm512_loadu_si512(wb[s].as_ptr() as *const _) });
				let d = unsafe { _mm512_loadu_ps(dmb[0].as_ptr()) };
				let m = if K == K_Q4_1 { unsafe { _mm512_loadu_ps(dmb[1].as_ptr()) } } else { zero };
				let ii: [usize; TT] = std::array::from_fn(|k| ts[k] * kb + b0 + b);
				let ys: [*const u8; TT] = std::array::from_fn(|k| unsafe { xq.add(ii[k] * QK) } as *const u8);
				// A token's 4-byte activation group `s`, in every lane.
				let bc = |k: usize, s: usize| unsafe {
					_mm512_set1_epi32(std::ptr::read_unaligned(ys[k].add(4 * s) as *const i32))
				};
				let (mut c00, mut c01, mut c10, mut c11) = (zi, zi, zi, zi);
				let (mut c20, mut c21, mut c30, mut c31) = (zi, zi, zi, zi);
				for s in 0..4 {
					let (wl, wh) = (wv[s], wv[s + 4]);
					c00 = _mm512_dpbusd_epi32(c00, wl, bc(0, s));
					c01 = _mm512_dpbusd_epi32(c01, wh, bc(0, s + 4));
					c10 = _mm512_dpbusd_epi32(c10, wl, bc(1, s));
					c11 = _mm512_dpbusd_epi32(c11, wh, bc(1, s + 4));
					c20 = _mm512_dpbusd_epi32(c20, wl, bc(2, s));
					c21 = _mm512_dpbusd_epi32(c21, wh, bc(2, s + 4));
					c30 = _mm512_dpbusd_epi32(c30, wl, bc(3, s));
					c31 = _mm512_dpbusd_epi32(c31, wh, bc(3, s + 4));
				}
				let sums = [
					_mm512_add_epi32(c00, c01),
					_mm512_add_epi32(c10, c11),
					_mm512_add_epi32(c20, c21),
					_mm512_add_epi32(c30, c31),
				];
				for k in 0..TT {
					let i = ii[k];
					let dx = unsafe { *xd.add(i) };
					let (sx, ysum) =
						if K == K_Q4_1 { (unsafe { *xs.add(i) }, 0) } else { (0.0, unsafe { *xsum.add(i) }) };
					acc[k] = _mm512_add_ps(acc[k], term::<K>(sums[k], off, ysum, d, m, dx, sx));
				}
			}
			for (a, &t) in acc.iter().zip(&ts) {
				if last {
					unsafe { _mm512_storeu_ps(out.at(t * stride + r0), *a) };
				} else {
					unsafe { _mm512_storeu_ps(accs[t].as_mut_ptr(), *a) };
				}
			}
			t0 += TT;
		}
		b0 += nb;
	}
}
