//! Quantized weights as the kernels read them, and activation quantization that
//! rounds exactly as candle's `BlockQ8_1::from_float` / `BlockQ8_0::from_float`.
//!
//! Weights are repacked at load from GGML's array of blocks into the layouts the
//! kernels read: the 4-bit formats (Q4_1, Q4_0, IQ4_NL) in interleaved groups
//! of eight rows (one stream per group), Q8_0 in interleaved groups of four rows with widened scales.
use half::f16;

/// Elements per block (Q4_1, Q4_0, IQ4_NL, Q8_0 and Q8_1 all use 32).
pub const QK: usize = 32;

/// Why a GGUF tensor cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum QuantError {
	/// The byte length does not match rows × blocks × block size.
	#[error("{name}: {len} bytes, expected {expected} for {rows} rows of {cols} {kind} values")]
	Size { name: String, len: usize, expected: usize, rows: usize, cols: usize, kind: &'static str },
	/// The row length is not a multiple of the block size.
	#[error("{name}: row length {cols} is not a multiple of {QK}")]
	Cols { name: String, cols: usize },
}

fn check(
	name: &str,
	bytes: &[u8],
	rows: usize,
	cols: usize,
	block_bytes: usize,
	kind: &'static str,
) -> Result<usize, QuantError> {
	if cols == 0 || !cols.is_multiple_of(QK) {
		return Err(QuantError::Cols { name: name.into(), cols });
	}
	let kb = cols / QK;
	let expected = rows * kb * block_bytes;
	if bytes.len() != expected {
		return Err(QuantError::Size {
			name: name.into(),
			len: bytes.len(),
			expected,
			rows,
			cols,
			kind,
		});
	}
	Ok(kb)
}

/// Rows of a [`Q4Matrix`] interleaved into one stream.
pub const Q4_GROUP: usize = 8;

/// The 16 values an IQ4_NL quant stands for (GGML's `kvalues_iq4nl`): a
/// weight is `d · IQ4NL_VALUES[q]`.
pub const IQ4NL_VALUES: [i8; 16] = [-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113];

/// The 4-bit GGML formats the kernels take. All have blocks of 32 weights,
/// an f16 scale `d` and 16 bytes of quants (byte `j`: quant `j` in the low
/// nibble, quant `j + 16` in the high one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Q4Kind {
	/// A weight is `d·q + m` (`m` an f16 minimum per block); 20-byte blocks.
	Q4_1,
	/// A weight is `d·(q − 8)`; 18-byte blocks.
	Q4_0,
	/// A weight is `d·IQ4NL_VALUES[q]` (a non-linear grid); 18-byte blocks.
	Iq4Nl,
}

impl Q4Kind {
	/// GGML's name of the format.
	pub fn name(self) -> &'static str {
		match self {
			Q4Kind::Q4_1 => "Q4_1",
			Q4Kind::Q4_0 => "Q4_0",
			Q4Kind::Iq4Nl => "IQ4_NL",
		}
	}

	/// Bytes of one GGML block.
	pub fn ggml_block(self) -> usize {
		match self {
			Q4Kind::Q4_1 => 20,
			Q4Kind::Q4_0 | Q4Kind::Iq4Nl => 18,
		}
	}

	/// Bytes of one group's block in a [`Q4Matrix`]: 8 rows × 16 quant bytes,
	/// the 8 rows' scales `d` (f16, 16 bytes), and for Q4_1 their minimums.
	pub fn group_block(self) -> usize {
		match self {
			Q4Kind::Q4_1 => 160,
			Q4Kind::Q4_0 | Q4Kind::Iq4Nl => 144,
		}
	}

	/// The value quant `q` (0..16) stands for, before the scale: `q` for Q4_1
	/// (whose minimum is added apart), `q − 8` for Q4_0, the grid for IQ4_NL.
	#[inline]
	pub fn value(self, q: u8) -> i32 {
		match self {
			Q4Kind::Q4_1 => q as i32,
			Q4Kind::Q4_0 => q as i32 - 8,
			Q4Kind::Iq4Nl => IQ4NL_VALUES[q as usize & 15] as i32,
		}
	}
}

/// Where row `i` of a group keeps its 16 quant bytes within the group's block:
/// rows `i` and `i + 4` are adjacent, so one 32-byte load serves both and the
/// kernels' horizontal sums come out in row order (see `q4`).
pub const fn q4_slot(i: usize) -> usize {
	(i % 4) * 2 + i / 4
}

/// A 4-bit matrix (`rows` outputs × `kb` blocks of 32 inputs) of one
/// [`Q4Kind`].
///
/// Repacked at load into groups of [`Q4_GROUP`] rows: for each group and
/// block, the eight rows' quants, then their scales (and for Q4_1 their
/// minimums) ([`Q4Kind::group_block`] bytes), so a matrix-vector product reads
/// one contiguous stream and one load brings eight rows' scales. A last
/// partial group is padded with zero rows (scale and minimum 0).
pub struct Q4Matrix {
	/// The format.
	pub kind: Q4Kind,
	/// Output rows.
	pub rows: usize,
	/// Blocks per row.
	pub kb: usize,
	/// `groups × kb × group_block` bytes. Within a row's 16 quant bytes,
	/// byte `j` holds quant `j` (low nibble) and quant `j + 16` (high nibble),
	/// as in GGML.
	pub data: Vec<u8>,
}

impl Q4Matrix {
	/// Row groups (the last one possibly partial).
	pub fn groups(&self) -> usize {
		self.rows.div_ceil(Q4_GROUP)
	}

	fn at(&self, r: usize, b: usize) -> usize {
		((r / Q4_GROUP) * self.kb + b) * self.kind.group_block()
	}

	/// The 16 quant bytes of row `r`, block `b`.
	pub fn quants(&self, r: usize, b: usize) -> &[u8] {
		let o = self.at(r, b) + q4_slot(r % Q4_GROUP) * 16;
		&self.data[o..o + 16]
	}

	/// The scale of row `r`, block `b`, as f16 bits.
	pub fn d(&self, r: usize, b: usize) -> u16 {
		let o = self.at(r, b) + 128 + (r % Q4_GROUP) * 2;
		u16::from_le_bytes([self.data[o], self.data[o + 1]])
	}

	/// The minimum of row `r`, block `b`, as f16 bits (0 but for Q4_1).
	pub fn m(&self, r: usize, b: usize) -> u16 {
		if self.kind != Q4Kind::Q4_1 {
			return 0;
		}
		let o = self.at(r, b) + 144 + (r % Q4_GROUP) * 2;
		u16::from_le_bytes([self.data[o], self.data[o + 1]])
	}

	/// Packs `rows × kb` GGML blocks of `kind` (d, for Q4_1 m, 16 quant
	/// bytes), block `(r, b)` given by `block`.
	fn pack<'a>(kind: Q4Kind, rows: usize, kb: usize, block: impl Fn(usize, usize) -> &'a [u8]) -> Self {
		let gb = kind.group_block();
		let qo = kind.ggml_block() - 16;
		let groups = rows.div_ceil(Q4_GROUP);
		let mut data = vec![0u8; groups * kb * gb];
		for r in 0..rows {
			let i = r % Q4_GROUP;
			for b in 0..kb {
				let src = block(r, b);
				let o = ((r / Q4_GROUP) * kb + b) * gb;
				data[o + 128 + 2 * i..o + 130 + 2 * i].copy_from_slice(&src[0..2]);
				if kind == Q4Kind::Q4_1 {
					data[o + 144 + 2 * i..o + 146 + 2 * i].copy_from_slice(&src[2..4]);
				}
				let q = o + q4_slot(i) * 16;
				data[q..q + 16].copy_from_slice(&src[qo..qo + 16]);
			}
		}
		Self { kind, rows, kb, data }
	}

	/// Repacks GGML bytes of `kind`.
	pub fn from_ggml(
		kind: Q4Kind,
		name: &str,
		bytes: &[u8],
		rows: usize,
		cols: usize,
	) -> Result<Self, QuantError> {
		let bb = kind.ggml_block();
		let kb = check(name, bytes, rows, cols, bb, kind.name())?;
		Ok(Self::pack(kind, rows, kb, |r, b| &bytes[(r * kb + b) * bb..(r * kb + b + 1) * bb]))
	}

	/// Stacks GGML matrices of `kind` with the same row length (fused Q/K/V,
	/// gate/up): the rows of `parts[0]`, then those of `parts[1]`, …
	pub fn stack(
		kind: Q4Kind,
		name: &str,
		parts: &[(&[u8], usize)],
		cols: usize,
	) -> Result<Self, QuantError> {
		let bb = kind.ggml_block();
		let mut kb = 0;
		for (bytes, rows) in parts {
			kb = check(name, bytes, *rows, cols, bb, kind.name())?;
		}
		let rows = parts.iter().map(|p| p.1).sum();
		Ok(Self::pack(kind, rows, kb, |mut r, b| {
			let mut k = 0;
			while r >= parts[k].1 {
				r -= parts[k].1;
				k += 1;
			}
			&parts[k].0[(r * kb + b) * bb..(r * kb + b + 1) * bb]
		}))
	}
}

/// IQ4_NL blocks (f16 scale, 16 bytes of quants) dequantized:
/// `d · IQ4NL_VALUES[q]`, quant `j` in the low nibble of byte `j`, quant
/// `j + 16` in its high nibble.
pub fn dequantize_iq4_nl(data: &[u8]) -> Vec<f32> {
	let mut out = Vec::with_capacity(data.len() / 18 * QK);
	for b in data.chunks_exact(18) {
		let d = f16::from_le_bytes([b[0], b[1]]).to_f32();
		let q = &b[2..18];
		let v = |n: u8| d * IQ4NL_VALUES[n as usize & 15] as f32;
		out.extend(q.iter().map(|x| v(x & 15)));
		out.extend(q.iter().map(|x| v(x >> 4)));
	}
	out
}

/// The grid index nearest `x` (ties to the upper), as GGML's `best_index_int8`.
fn iq4nl_index(x: f32) -> u8 {
	let v = &IQ4NL_VALUES;
	if x <= v[0] as f32 {
		return 0;
	}
	if x >= v[15] as f32 {
		return 15;
	}
	let (mut lo, mut hi) = (0usize, 15usize);
	while hi - lo > 1 {
		let mid = (lo + hi) / 2;
		if x < v[mid] as f32 {
			hi = mid;
		} else {
			lo = mid;
		}
	}
	if x - (v[hi - 1] as f32) < (v[hi] as f32) - x { (hi - 1) as u8 } else { hi as u8 }
}

/// Quantizes 32 values to one IQ4_NL block as GGML's reference quantizer
/// does without an importance matrix (`quantize_row_iq4_nl`: each value
/// weighted by its square, the scale searched over 15 candidates around
/// `max/127`, least squares for each).
pub fn quantize_iq4_nl(x: &[f32]) -> [u8; 18] {
	assert_eq!(x.len(), QK, "an IQ4_NL block holds {QK} values");
	let v0 = IQ4NL_VALUES[0] as f32;
	let (mut amax, mut max) = (0f32, 0f32);
	for &xv in x {
		if xv.abs() > amax {
			amax = xv.abs();
			max = xv;
		}
	}
	let mut out = [0u8; 18];
	if amax < 1e-15 {
		return out;
	}
	// Σ w·q·x and Σ w·q² for the indices the inverse scale `id` gives.
	let fit = |id: f32| {
		let (mut sumqx, mut sumq2) = (0f32, 0f32);
		for &xv in x {
			let q = IQ4NL_VALUES[iq4nl_index(id * xv) as usize] as f32;
			let w = xv * xv;
			sumqx += w * q * xv;
			sumq2 += w * q * q;
		}
		(sumqx, sumq2)
	};
	let (sumqx, sumq2) = fit(1.0 / (-max / v0));
	let mut d = sumqx / sumq2;
	let mut best = d * sumqx;
	for itry in -7..=7 {
		let (sumqx, sumq2) = fit((itry as f32 + v0) / max);
		if sumq2 > 0.0 && sumqx * sumqx > best * sumq2 {
			d = sumqx / sumq2;
			best = d * sumqx;
		}
	}
	out[..2].copy_from_slice(&f16::from_f32(d).to_le_bytes());
	let id = if d != 0.0 { 1.0 / d } else { 0.0 };
	for j in 0..16 {
		out[2 + j] = iq4nl_index(id * x[j]) | (iq4nl_index(id * x[j + 16]) << 4);
	}
	out
}

/// Rows of a [`Q8_0Matrix`] interleaved into one stream.
pub const Q8_0_GROUP: usize = 4;
/// Bytes of one group's block: 4 rows × 32 quants, then the 4 rows' scales as f32.
pub const Q8_0_GROUP_BLOCK: usize = 144;

/// A Q8_0 matrix: per block a scale `d` (f16) and 32 signed 8-bit quants.
///
/// Repacked at load into groups of [`Q8_0_GROUP`] rows: for each group and
/// block, the four rows' quants then their scales widened to f32
/// ([`Q8_0_GROUP_BLOCK`] bytes), one contiguous stream. Quants are stored
/// offset by 128 (`q ^ 0x80`, an unsigned byte), the operand `vpdpbusd`
/// takes. A last partial group is padded with zero rows.
pub struct Q8_0Matrix {
	/// Output rows.
	pub rows: usize,
	/// Blocks per row.
	pub kb: usize,
	/// `groups × kb × Q8_0_GROUP_BLOCK` bytes.
	pub data: Vec<u8>,
}

impl Q8_0Matrix {
	/// Repacks GGML Q8_0 bytes (34-byte blocks: d, 32 quants).
	pub fn from_ggml(
		name: &str,
		bytes: &[u8],
		rows: usize,
		cols: usize,
	) -> Result<Self, QuantError> {
		let kb = check(name, bytes, rows, cols, 34, "Q8_0")?;
		let groups = rows.div_ceil(Q8_0_GROUP);
		let mut data = vec![0u8; groups * kb * Q8_0_GROUP_BLOCK];
		// Padding rows: quant 0 (0x80 offset), scale 0.
		for g in data.chunks_exact_mut(Q8_0_GROUP_BLOCK) {
			g[..128].fill(0x80);
		}
		for (i, src) in bytes.chunks_exact(34).enumerate() {
			let (r, b) = (i / kb, i % kb);
			let o = q8_0_at(kb, r, b);
			let slot = r % Q8_0_GROUP;
			for (dst, &q) in data[o + slot * QK..o + (slot + 1) * QK].iter_mut().zip(&src[2..34]) {
				*dst = q ^ 0x80;
			}
			let d = f16::from_bits(u16::from_le_bytes([src[0], src[1]])).to_f32();
			data[o + 128 + 4 * slot..o + 132 + 4 * slot].copy_from_slice(&d.to_le_bytes());
		}
		Ok(Self { rows, kb, data })
	}

	/// Row groups (the last one possibly partial).
	pub fn groups(&self) -> usize {
		self.rows.div_ceil(Q8_0_GROUP)
	}

	/// Quant `j` of row `r`, block `b`.
	#[inline]
	pub fn q(&self, r: usize, b: usize, j: usize) -> i8 {
		(self.data[q8_0_at(self.kb, r, b) + (r % Q8_0_GROUP) * QK + j] ^ 0x80) as i8
	}

	/// The scale of row `r`, block `b`.
	#[inline]
	pub fn d(&self, r: usize, b: usize) -> f32 {
		let o = q8_0_at(self.kb, r, b) + 128 + 4 * (r % Q8_0_GROUP);
		f32::from_le_bytes([self.data[o], self.data[o + 1], self.data[o + 2], self.data[o + 3]])
	}

	/// Row `r` dequantized into `out` (`q as f32 * d`, as candle's `to_float`).
	pub fn dequantize_row(&self, r: usize, out: &mut [f32]) {
		for b in 0..self.kb {
			let d = self.d(r, b);
			for (j, o) in out[b * QK..(b + 1) * QK].iter_mut().enumerate() {
				*o = self.q(r, b, j) as f32 * d;
			}
		}
	}
}

/// Where block `b` of row `r`'s group starts in a Q8_0 matrix of `kb` blocks per row.
#[inline]
fn q8_0_at(kb: usize, r: usize, b: usize) -> usize {
	((r / Q8_0_GROUP) * kb + b) * Q8_0_GROUP_BLOCK
}

/// Quantized activations, `n` rows of `kb` blocks: Q8_1 (with `s`) or Q8_0 (without).
#[derive(Default)]
pub struct QActs {
	/// Rows (tokens).
	pub n: usize,
	/// Blocks per row.
	pub kb: usize,
	/// 32 quants per block.
	pub qs: Vec<i8>,
	/// The block scale, rounded to f16 as candle stores it, widened to f32.
	pub d: Vec<f32>,
	/// Q8_1 only: `d · Σq`, rounded as candle rounds it (f16 arithmetic), as f32.
	pub s: Vec<f32>,
	/// `Σq` of each block, exact (the Q4_0 and IQ4_NL kernels take their
	/// weights' offset off the integer sums with it).
	pub sums: Vec<i32>,
}

impl QActs {
	fn resize(&mut self, n: usize, kb: usize, with_s: bool) {
		self.n = n;
		self.kb = kb;
		self.qs.resize(n * kb * QK, 0);
		self.d.resize(n * kb, 0.0);
		self.s.resize(if with_s { n * kb } else { 0 }, 0.0);
		self.sums.resize(n * kb, 0);
	}

	/// Quantizes `x` (`n` rows of `cols`) to Q8_1, as candle's `BlockQ8_1::from_float`.
	pub fn quantize_q8_1(&mut self, x: &[f32], cols: usize) {
		let rows = self.rows(x.len() / cols, cols, true);
		for (t, xs) in x.chunks_exact(cols).enumerate() {
			// SAFETY: `t` < the rows sized above, written by this loop only.
			unsafe { rows.quantize(t, xs) };
		}
	}

	/// Quantizes `x` (`n` rows of `cols`) to Q8_0, as candle's `BlockQ8_0::from_float`.
	pub fn quantize_q8_0(&mut self, x: &[f32], cols: usize) {
		let rows = self.rows(x.len() / cols, cols, false);
		for (t, xs) in x.chunks_exact(cols).enumerate() {
			// SAFETY: as above.
			unsafe { rows.quantize(t, xs) };
		}
	}

	/// Sizes the buffers for `n` rows of `cols` (Q8_1 if `q8_1`, else Q8_0) and
	/// returns a handle through which threads quantize distinct rows at once.
	/// The handle borrows nothing: it must not outlive `self` or a later resize.
	pub fn rows(&mut self, n: usize, cols: usize, q8_1: bool) -> QActsRows {
		self.resize(n, cols / QK, q8_1);
		QActsRows {
			n,
			kb: self.kb,
			qs: self.qs.as_mut_ptr(),
			d: self.d.as_mut_ptr(),
			s: if q8_1 { self.s.as_mut_ptr() } else { std::ptr::null_mut() },
			sums: self.sums.as_mut_ptr(),
		}
	}
}

/// Rows of a [`QActs`] being quantized, possibly by several threads at once
/// ([`QActs::rows`]); each row's bits are the same whoever computes it.
#[derive(Clone, Copy)]
pub struct QActsRows {
	n: usize,
	kb: usize,
	qs: *mut i8,
	d: *mut f32,
	/// Null for Q8_0.
	s: *mut f32,
	sums: *mut i32,
}

// SAFETY: threads write disjoint rows only (the contract of `quantize`).
unsafe impl Send for QActsRows {}
unsafe impl Sync for QActsRows {}

impl QActsRows {
	/// Quantizes `xs` (one row, `kb · 32` values) into row `t`.
	///
	/// # Safety
	/// The [`QActs`] this came from is alive and not resized, and no other
	/// thread reads or writes row `t` meanwhile.
	pub unsafe fn quantize(&self, t: usize, xs: &[f32]) {
		assert!(t < self.n && xs.len() == self.kb * QK, "activation row {t} out of shape");
		#[cfg(target_arch = "x86_64")]
		if avx512() {
			// SAFETY: the CPU has AVX-512F and F16C; the row is ours (above).
			return unsafe { self.quantize_avx512(t, xs) };
		}
		let f16_round = |v: f32| f16::from_f32(v).to_f32();
		// SAFETY: the row is ours (the caller's contract).
		unsafe { self.quantize_with(t, xs, quantize_block_scalar, f16_round) }
	}

	/// Row `t`'s blocks: `block` quantizes one and returns its `d` (unrounded)
	/// and `Σq`; `f16_round` rounds to f16 and back. Then `d` and, for Q8_1,
	/// candle's `s = f16(Σq) · f16(d)` (an f16 product: exact in f32, then
	/// rounded once).
	///
	/// # Safety
	/// As [`Self::quantize`]'s, for row `t`.
	#[inline(always)]
	unsafe fn quantize_with(
		&self,
		t: usize,
		xs: &[f32],
		block: impl Fn(&[f32], &mut [i8]) -> (f32, i32),
		f16_round: impl Fn(f32) -> f32,
	) {
		for (b, x) in xs.chunks_exact(QK).enumerate() {
			let bi = t * self.kb + b;
			// SAFETY: block `bi` lies in row `t`, which the buffers hold and the caller owns.
			unsafe {
				let (d, sum) = block(x, std::slice::from_raw_parts_mut(self.qs.add(bi * QK), QK));
				let d16 = f16_round(d);
				*self.d.add(bi) = d16;
				*self.sums.add(bi) = sum;
				if !self.s.is_null() {
					*self.s.add(bi) = f16_round(f16_round(sum as f32) * d16);
				}
			}
		}
	}

	/// [`Self::quantize`] with the blocks in vectors and the f16 roundings
	/// inline (`vcvtps2ph`, round to nearest even as `half` does): the same bits.
	#[cfg(target_arch = "x86_64")]
	#[target_feature(enable = "avx512f,f16c")]
	unsafe fn quantize_avx512(&self, t: usize, xs: &[f32]) {
		use std::arch::x86_64::*;
		let f16_round = |v: f32| {
			_mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtps_ph::<_MM_FROUND_TO_NEAREST_INT>(_mm_set_ss(v))))
		};
		// SAFETY: the CPU has AVX-512F (the caller's check); the row is ours.
		let block = |x: &[f32], qs: &mut [i8]| {
			unsafe { quantize_block_avx512(x, qs) }.unwrap_or_else(|| quantize_block_scalar(x, qs))
		};
		unsafe { self.quantize_with(t, xs, block, f16_round) }
	}
}

/// `f32::round` (half away from zero) without the libm call, exact for |v| < 2³¹.
#[inline(always)]
fn round_half_away(v: f32) -> i32 {
	let t = v as i32; // truncates toward zero
	let frac = v - t as f32; // exact: |v| < 2^24 here or frac is 0
	if frac >= 0.5 {
		t + 1
	} else if frac <= -0.5 {
		t - 1
	} else {
		t
	}
}

#[cfg(target_arch = "x86_64")]
fn avx512() -> bool {
	static AVX512: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
	*AVX512.get_or_init(|| {
		std::env::var("AGORA_KERNELS").as_deref() != Ok("scalar")
			&& std::arch::is_x86_feature_detected!("avx512f")
			&& std::arch::is_x86_feature_detected!("f16c")
	})
}

/// [`quantize_block`] on two 16-lane vectors; `None` (nothing written that
/// matters) when a scaled value is NaN, which the scalar path rounds as Rust's
/// saturating cast does.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn quantize_block_avx512(xs: &[f32], qs: &mut [i8]) -> Option<(f32, i32)> {
	use std::arch::x86_64::*;
	let (v0, v1) = unsafe { (_mm512_loadu_ps(xs.as_ptr()), _mm512_loadu_ps(xs.as_ptr().add(16))) };
	// `vmaxps` keeps its second operand when the first is NaN, as `f32::max` does.
	let m = _mm512_max_ps(_mm512_abs_ps(v1), _mm512_max_ps(_mm512_abs_ps(v0), _mm512_setzero_ps()));
	let amax = _mm512_reduce_max_ps(m);
	let d = amax / 127.0;
	let id = _mm512_set1_ps(if d != 0.0 { 1.0 / d } else { 0.0 });
	let (p0, p1) = (_mm512_mul_ps(v0, id), _mm512_mul_ps(v1, id));
	let nan =
		_mm512_cmp_ps_mask::<_CMP_UNORD_Q>(p0, p0) | _mm512_cmp_ps_mask::<_CMP_UNORD_Q>(p1, p1);
	if nan != 0 {
		return None;
	}
	// Round half away from zero: truncate, then step by the fraction's sign.
	let round = |p: __m512| {
		let t = _mm512_roundscale_ps::<{ _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC }>(p);
		let f = _mm512_sub_ps(p, t);
		let one = _mm512_set1_ps(1.0);
		let t =
			_mm512_mask_add_ps(t, _mm512_cmp_ps_mask::<_CMP_GE_OQ>(f, _mm512_set1_ps(0.5)), t, one);
		let t = _mm512_mask_sub_ps(
			t,
			_mm512_cmp_ps_mask::<_CMP_LE_OQ>(f, _mm512_set1_ps(-0.5)),
			t,
			one,
		);
		_mm512_cvttps_epi32(t)
	};
	let (i0, i1) = (round(p0), round(p1));
	unsafe {
		_mm_storeu_si128(qs.as_mut_ptr() as *mut __m128i, _mm512_cvtepi32_epi8(i0));
		_mm_storeu_si128(qs.as_mut_ptr().add(16) as *mut __m128i, _mm512_cvtepi32_epi8(i1));
	}
	Some((d, _mm512_reduce_add_epi32(_mm512_add_epi32(i0, i1))))
}

/// The portable [`quantize_block`].
#[inline]
fn quantize_block_scalar(xs: &[f32], qs: &mut [i8]) -> (f32, i32) {
	let mut amax = 0f32;
	for &x in xs {
		amax = amax.max(x.abs());
	}
	let d = amax / 127.0;
	let id = if d != 0.0 { 1.0 / d } else { 0.0 };
	let mut sum = 0i32;
	for (q, &x) in qs.iter_mut().zip(xs) {
		let v = round_half_away(x * id) as i8;
		*q = v;
		sum += v as i32;
	}
	(d, sum)
}

#[cfg(test)]
mod tests {
	/// The AVX-512 activation quantization gives the scalar path's bits, on
	/// random blocks, ties at ±0.5 steps, zero blocks and blocks with NaN or ∞.
	#[test]
	fn vector_quantization_equals_scalar() {
		let mut seed = 9u64;
		let mut blocks: Vec<Vec<f32>> = (0..2000)
			.map(|i| {
				(0..super::QK)
					.map(|_| crate::test_util::lcg(&mut seed) * 10f32.powi(i % 7 - 3))
					.collect()
			})
			.collect();
		// amax 127 makes id 1: x = k + 0.5 are exact ties.
		blocks.push((0..32).map(|j| if j == 0 { 127.0 } else { j as f32 - 16.5 }).collect());
		blocks.push(vec![0.0; 32]);
		blocks.push((0..32).map(|j| if j == 3 { f32::NAN } else { j as f32 }).collect());
		blocks.push((0..32).map(|j| if j == 5 { f32::INFINITY } else { -(j as f32) }).collect());
		// One row of all the blocks, quantized as the kernels' callers do
		// (the vector path where the CPU has one), against the scalar
		// reference block by block with `half`'s f16 roundings.
		let row: Vec<f32> = blocks.concat();
		let mut acts = super::QActs::default();
		acts.quantize_q8_1(&row, row.len());
		for (bi, xs) in blocks.iter().enumerate() {
			let mut q = [0i8; 32];
			let (d, sum) = super::quantize_block_scalar(xs, &mut q);
			let d16 = half::f16::from_f32(d);
			let s = (half::f16::from_f32(sum as f32) * d16).to_f32();
			let got = (
				acts.d[bi].to_bits(),
				acts.sums[bi],
				acts.s[bi].to_bits(),
				&acts.qs[bi * 32..(bi + 1) * 32],
			);
			assert_eq!((d16.to_f32().to_bits(), sum, s.to_bits(), &q[..]), got, "{xs:?}");
		}
	}

	/// IQ4_NL: every quant is the grid point nearest its value at the chosen
	/// scale, the scale is the best of the searched ones, and the error is
	/// below Q4_0's on the same values (what the format is for).
	#[test]
	fn iq4_nl_quantization_is_nearest_and_beats_q4_0() {
		use candle_core::{quantized::{GgmlDType, QTensor}, Device, Tensor};
		let mut seed = 17u64;
		let xs: Vec<f32> = (0..64 * super::QK)
			.map(|_| {
				let u = crate::test_util::lcg(&mut seed);
				u * u * u * 0.2 // heavy-tailed, like weights
			})
			.collect();
		let mut iq = vec![];
		for b in xs.chunks_exact(super::QK) {
			let q = super::quantize_iq4_nl(b);
			let d = half::f16::from_le_bytes([q[0], q[1]]).to_f32();
			for j in 0..super::QK {
				let n = if j < 16 { q[2 + j] & 15 } else { q[2 + j - 16] >> 4 };
				let v = super::IQ4NL_VALUES[n as usize] as f32;
				let dist = |k: usize| (b[j] - d * super::IQ4NL_VALUES[k] as f32).abs();
				// The indices were chosen at the scale before its f16
				// rounding (at most 127·2⁻¹¹·|d| away on the grid).
				assert!((0..16).all(|k| dist(n as usize) <= dist(k) + 0.07 * d.abs()), "block value {} got {v}", b[j]);
			}
			iq.extend_from_slice(&q);
		}
		let back = super::dequantize_iq4_nl(&iq);
		let err = |a: &[f32]| a.iter().zip(&xs).map(|(a, b)| (a - b) * (a - b)).sum::<f32>();
		let t = Tensor::from_vec(xs.clone(), (64, super::QK), &Device::Cpu).unwrap();
		let q4 = QTensor::quantize(&t, GgmlDType::Q4_0).unwrap().dequantize(&Device::Cpu).unwrap();
		let q4: Vec<f32> = q4.flatten_all().unwrap().to_vec1().unwrap();
		assert!(err(&back) < err(&q4), "IQ4_NL {} vs Q4_0 {}", err(&back), err(&q4));
		assert_eq!(super::quantize_iq4_nl(&[0.0; 32]), [0u8; 18]);
	}

	#[test]
	fn rounding_is_f32_round() {
		for v in [
			0.5f32,
			-0.5,
			1.5,
			-2.5,
			0.49999997,
			-0.49999997,
			126.5,
			-127.0,
			3.0,
			0.0,
			-0.0,
			99.50001,
		] {
			assert_eq!(super::round_half_away(v), v.round() as i32, "{v}");
		}
		let mut x = -130.0f32;
		while x < 130.0 {
			assert_eq!(super::round_half_away(x), x.round() as i32, "{x}");
			x += 0.001;
		}
	}
}
