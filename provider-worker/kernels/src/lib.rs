//! Agora's CPU inference kernels and the quantized llama built on them
//! ([`qllama`]), used by `agora-worker`'s text-generation engine.
//!
//! A crate of its own so that debug builds (the tests, the demo) compile it at
//! `opt-level = 3` without optimising the whole worker.
//!
//! Candle stays the framework (GGUF parsing, tensors, its persistent barrier
//! thread pool, the BERT and CUDA paths); these kernels replace the parts of
//! candle 0.11's quantized llama that dominate a CPU profile (docs/benchmarks.md):
//! the scalar 4-bit × 8-bit dot products, row-by-row prompt processing and the
//! per-token tensor allocations.
//!
//! **Exactness.** Every quantized dot product reproduces candle's arithmetic
//! bit for bit where candle defines it: activations are quantized as candle
//! quantizes them (Q8_1 for Q4_1 weights, Q8_0 for Q8_0 weights), each block's
//! integer sum is exact, and the blocks' float terms are combined in candle's
//! order (Q4_1: one sequential sum over the blocks; Q8_0: candle's 8-lane FMA
//! accumulator and its horizontal sum). Q4_0 (which a provider may requantize
//! the shipped file to) and IQ4_NL weights take Q8_0 activations and the same
//! sequential sum as Q4_1, which is within float rounding of candle's Q4_0
//! product (candle has no IQ4_NL). Only the attention's f32 dot products and
//! the softmax differ in rounding order from candle's GEMM, hence a tolerance
//! in the comparison tests.
//!
//! **Determinism.** Each output element is computed by exactly one call with a
//! fixed order of operations; threads only decide *which* rows a thread
//! computes, never how a row is reduced. A job's output is therefore
//! bit-identical with 1 thread, 2 threads or any other split.
pub mod bert;
pub mod gemm;
pub mod gguf;
pub mod ops;
pub mod q4;
pub mod q8_0;
pub mod qllama;
pub mod quant;

/// Which instruction set the dot kernels use (chosen once, at run time).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Isa {
	/// AVX-512 VNNI on 256-bit vectors (`vpdpbusd`): one instruction per 32 products.
	Avx512Vnni,
	/// AVX2 + FMA + F16C (`vpmaddubsw` + `vpmaddwd`).
	Avx2,
	/// Portable Rust (any CPU; also the reference the SIMD kernels are tested against).
	Scalar,
}

impl Isa {
	/// The best instruction set this CPU has. `AGORA_KERNELS=scalar|avx2` forces
	/// a lower one (tests and profiling); `f32` keeps this one but turns off
	/// BERT's bfloat16 GEMM ([`gemm::bf16_available`]). Decided once per process.
	pub fn detect() -> Isa {
		static ISA: std::sync::OnceLock<Isa> = std::sync::OnceLock::new();
		*ISA.get_or_init(Self::probe)
	}

	fn probe() -> Isa {
		let forced = std::env::var("AGORA_KERNELS").ok();
		#[cfg(target_arch = "x86_64")]
		{
			let avx2 = std::arch::is_x86_feature_detected!("avx2")
				&& std::arch::is_x86_feature_detected!("fma")
				&& std::arch::is_x86_feature_detected!("f16c");
			let vnni = avx2
				&& std::arch::is_x86_feature_detected!("avx512vnni")
				&& std::arch::is_x86_feature_detected!("avx512vl");
			match forced.as_deref() {
				Some("scalar") => return Isa::Scalar,
				Some("avx2") if avx2 => return Isa::Avx2,
				_ => {},
			}
			if vnni {
				return Isa::Avx512Vnni;
			}
			if avx2 {
				return Isa::Avx2;
			}
		}
		let _ = forced;
		Isa::Scalar
	}

	/// Whether f32 loops may run on 512-bit vectors: the AVX-512 level (not
	/// forced lower), on a CPU with AVX-512F.
	#[cfg(target_arch = "x86_64")]
	pub(crate) fn wide_f32(self) -> bool {
		self == Isa::Avx512Vnni && std::arch::is_x86_feature_detected!("avx512f")
	}

	/// A short name for logs and benchmarks.
	pub fn name(self) -> &'static str {
		match self {
			Isa::Avx512Vnni => "avx512-vnni",
			Isa::Avx2 => "avx2",
			Isa::Scalar => "scalar",
		}
	}
}

/// How a kernel call spreads over threads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Threads {
	/// Everything on the calling thread.
	One,
	/// Candle's persistent barrier pool (`CANDLE_NUM_THREADS`, else
	/// `RAYON_NUM_THREADS`, else all cores), the pool stock candle's quantized
	/// matmul uses.
	Pool,
}

impl Threads {
	/// How many threads [`Threads::Pool`] uses.
	pub fn pool_size() -> usize {
		std::env::var("CANDLE_NUM_THREADS")
			.ok()
			.or_else(|| std::env::var("RAYON_NUM_THREADS").ok())
			.and_then(|s| s.parse::<usize>().ok())
			.filter(|n| *n > 0)
			.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1))
	}

	/// Runs `f` over `0..n_items` in ranges; every item is handed out exactly once.
	pub fn for_each<F: Fn(std::ops::Range<usize>) + Sync>(self, n_items: usize, f: F) {
		if n_items == 0 {
			return;
		}
		match self {
			Threads::One => f(0..n_items),
			Threads::Pool => candle_core::utils::barrier_pool().execute_chunked(n_items, f),
		}
	}
}

/// A mutable slice that several threads write at once, each its own part
/// (output elements of a kernel, rows of a per-token buffer, positions of a
/// KV cache).
#[derive(Clone, Copy)]
pub(crate) struct SharedMut<T> {
	ptr: *mut T,
	len: usize,
}
// SAFETY: users write disjoint parts only (the contract of `part`), and the
// slice outlives the parallel call that uses it.
unsafe impl<T: Send> Send for SharedMut<T> {}
unsafe impl<T: Send> Sync for SharedMut<T> {}

impl<T> SharedMut<T> {
	pub(crate) fn new(s: &mut [T]) -> Self {
		Self { ptr: s.as_mut_ptr(), len: s.len() }
	}

	/// The element `i` places past the start, unchecked (the kernels' inner
	/// loops; a method, so closures capture the whole handle).
	///
	/// # Safety
	/// `i` must be within the slice.
	#[inline]
	pub(crate) unsafe fn at(self, i: usize) -> *mut T {
		debug_assert!(i < self.len);
		unsafe { self.ptr.add(i) }
	}

	/// `len` elements from `start` (bounds checked).
	///
	/// # Safety
	/// The slice is alive, and no other thread touches these elements while the
	/// returned slice lives.
	#[inline]
	#[allow(clippy::mut_from_ref)]
	pub(crate) unsafe fn part(&self, start: usize, len: usize) -> &mut [T] {
		assert!(start.checked_add(len).is_some_and(|end| end <= self.len), "part out of bounds");
		unsafe { std::slice::from_raw_parts_mut(self.ptr.add(start), len) }
	}
}

/// A kernel's output, written element by element from several threads.
pub(crate) type OutPtr = SharedMut<f32>;

/// Lane sums of four signed × signed byte products on AVX2 (`|w|, sign(y,
/// w)` into `vpmaddubsw`, then `vpmaddwd` with ones; candle's
/// `mul_sum_i8_pairs`): exact for |w|, |y| ≤ 127 (pairs of at most 2·127·127).
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx2")]
pub(crate) fn signed_dot4_avx2(
	w: std::arch::x86_64::__m256i,
	y: std::arch::x86_64::__m256i,
) -> std::arch::x86_64::__m256i {
	use std::arch::x86_64::*;
	let p = _mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(y, w));
	_mm256_madd_epi16(p, _mm256_set1_epi16(1))
}

#[cfg(test)]
pub(crate) mod test_util {
	use candle_core::{quantized, Device, Tensor};

	/// A deterministic pseudo-random value in [-1, 1).
	pub fn lcg(seed: &mut u64) -> f32 {
		*seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
		((*seed >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
	}

	/// Stock candle's quantized matmul: `x (tokens × cols) · Wᵀ` for GGML bytes `w`.
	pub fn candle_matmul(
		dtype: quantized::GgmlDType,
		w: &[u8],
		rows: usize,
		cols: usize,
		x: &[f32],
	) -> Vec<f32> {
		let qt = quantized::ggml_file::qtensor_from_ggml(dtype, w, vec![rows, cols], &Device::Cpu)
			.unwrap();
		let mm = quantized::QMatMul::from_qtensor(qt).unwrap();
		let xt = Tensor::from_slice(x, (x.len() / cols, cols), &Device::Cpu).unwrap();
		xt.apply(&mm).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap()
	}
}
