//! Inference engines: candle models behind one [`Engine`] trait.
//!
//! Every engine is built from a directory of model files that were first checked
//! against the on-chain manifest ([`files::verify`]): a file whose sha256 differs
//! is refused, naming the file and both hashes.
pub mod bert;
pub mod files;
pub mod llama;
pub mod requantize;
pub mod teacher;
pub mod verify;

use agora_primitives::models::TaskKind;
/// The kernels' thread pool (its size is what `bench` reports).
pub use agora_kernels::Threads;
use candle_core::Device;

/// Why an inference did not produce an output.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
	/// The job's input or parameters cannot be run by this model (not UTF-8,
	/// empty, longer than the context). Deterministic: any honest worker refuses
	/// it the same way, so the worker posts an error receipt (docs/operators.md).
	#[error("bad input: {0}")]
	Input(String),
	/// The worker failed (out of memory, a candle error). Retried, never receipted.
	#[error("engine failure: {0}")]
	Internal(String),
}

impl From<candle_core::Error> for EngineError {
	fn from(e: candle_core::Error) -> Self {
		EngineError::Internal(e.to_string())
	}
}

/// What to run.
#[derive(Clone, Debug)]
pub struct Request {
	/// The job's input bytes (UTF-8 text for both shipped models).
	pub input: Vec<u8>,
	/// Most output tokens (generation).
	pub max_tokens: u32,
	/// Sampling temperature; 0 means greedy decoding.
	pub temperature: f64,
	/// The job's sampling seed ([`agora_primitives::rules::job_seed`]): keys
	/// the public Gumbel noise when `temperature > 0`.
	pub seed: [u8; 32],
}

/// What came out, with timings for metrics and benchmarks.
#[derive(Clone, Debug)]
pub struct Inference {
	/// The output bytes: a generation's [`agora_primitives::jobs::GenerationOutput`]
	/// (JSON text and token ids), or little-endian f32 for embeddings.
	pub output: Vec<u8>,
	/// Generated tokens (not counting the end-of-sequence token), or 1 for an embedding.
	pub output_tokens: u32,
	/// Prompt tokens after the chat template.
	pub prompt_tokens: u32,
	/// Seconds spent on the prompt (prefill, or the whole embedding pass).
	pub prompt_secs: f64,
	/// Seconds spent decoding after the first token.
	pub decode_secs: f64,
	/// The generated token ids (empty for embeddings).
	pub tokens: Vec<u32>,
}

/// A loaded model that runs jobs. Implementations are cheap to share across
/// threads; each call runs with its own state (KV cache), so calls are independent.
pub trait Engine: Send + Sync {
	/// What the model does.
	fn task(&self) -> TaskKind;
	/// The manifest name it was loaded for.
	fn name(&self) -> &str;
	/// Runs one job.
	fn run(&self, req: &Request) -> Result<Inference, EngineError>;

	/// Runs one generation job and calls `on_token` with each token's id as it
	/// is decoded, before the next one is computed (streamed answers). Engines
	/// that do not generate run [`Self::run`] and call nothing.
	fn run_streaming(&self, req: &Request, on_token: &mut dyn FnMut(u32)) -> Result<Inference, EngineError> {
		let _ = on_token;
		self.run(req)
	}

	/// Embeds several texts in one forward pass (unit vectors), for an engine
	/// that embeds; `None` for one that does not.
	fn embed_many(&self, texts: &[&str]) -> Option<Result<Vec<Vec<f32>>, EngineError>> {
		let _ = texts;
		None
	}

	/// The text of generated token ids (`None` for an engine that does not generate).
	fn decode(&self, ids: &[u32]) -> Option<String> {
		let _ = ids;
		None
	}
}

/// The device inference runs on: CUDA device 0 when built with `--features cuda`
/// and one is present (unless `cpu` is asked for), else the CPU.
///
/// On CUDA, candle's quantized matmuls are set to the verifier's reference
/// arithmetic (docs/verification.md, "Across hardware"): weights dequantized,
/// activations and accumulation in f32, no TF32. Candle's default CUDA path
/// quantizes activations to 8 bits (MMVQ/MMQ); on an H200 its honest outputs
/// were up to 1.8 logits from the reference, and 13 of 310 were rejected.
pub fn device(cpu: bool) -> anyhow::Result<Device> {
	if cpu {
		return Ok(Device::Cpu);
	}
	#[cfg(feature = "cuda")]
	{
		if candle_core::utils::cuda_is_available() {
			candle_core::quantized::cuda::set_force_dmmv(true);
			candle_core::cuda::set_gemm_reduced_precision_f32(false);
			return Ok(Device::new_cuda(0)?);
		}
	}
	Ok(Device::Cpu)
}

/// A short tag for the hardware the engine runs on (the offer's hardware field).
pub fn hardware_tag(device: &Device) -> String {
	match device {
		Device::Cpu => {
			let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
			let simd = if candle_core::utils::with_avx() { "avx" } else { "generic" };
			format!("cpu-{simd}-{threads}t")
		},
		_ => "cuda".to_string(),
	}
}

/// Loads the engine for a verified model.
pub fn load(
	files: &files::ModelFiles,
	device: &Device,
	progress: bool,
) -> anyhow::Result<std::sync::Arc<dyn Engine>> {
	let engine: std::sync::Arc<dyn Engine> = match files.task {
		TaskKind::TextGeneration =>
			std::sync::Arc::new(llama::TextGen::load(files, device, progress)?),
		TaskKind::Embedding => std::sync::Arc::new(bert::Embedder::load(files, device, progress)?),
	};
	Ok(engine)
}

/// Where the shipped models are cached (`$AGORA_MODELS`, default `~/.cache/agora-models`).
pub fn models_dir() -> std::path::PathBuf {
	if let Some(d) = std::env::var_os("AGORA_MODELS") {
		return d.into();
	}
	let home = std::env::var_os("HOME").unwrap_or_else(|| ".".into());
	std::path::PathBuf::from(home).join(".cache/agora-models")
}
