//! Requantizing a llama GGUF's 4-bit matrices to another 4-bit format, as a
//! provider does to serve the format that is fastest on its hardware
//! (`agora-worker requantize`). The file it writes is a new model: its sha256
//! goes into a manifest of its own, with `quantization` naming the format.
//!
//! Only the layers' 4-bit matrices change (dequantized to f32, then quantized
//! as GGML's reference quantizer does: Q4_0 and Q4_1 through candle, IQ4_NL
//! by `agora_kernels::quant::quantize_iq4_nl`); the embedding, the
//! norms and every metadata value but `general.file_type` are copied. The
//! output is the same bytes for the same input: tensors keep the input's
//! order, metadata is written sorted by key.
use candle_core::{
	quantized::{ggml_file::qtensor_from_ggml, gguf_file, GgmlDType, QTensor},
	Device,
};
use agora_kernels::{gguf::GGML_TYPE_IQ4_NL, quant::quantize_iq4_nl};
use std::{io::Write, path::Path};

/// The 4-bit formats a file can be requantized to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
	/// `d·(q − 8)`: what llama.cpp repacks for its fastest x86 path.
	Q4_0,
	/// `d·q + m`: the shipped SmolLM2 file's format.
	Q4_1,
	/// `d·grid[q]` on GGML's non-linear 16-value grid: what llama.cpp
	/// serves fastest on AVX-512 at two threads (docs/benchmarks.md), and
	/// closer to the weights than Q4_0 at the same size.
	Iq4Nl,
}

impl Target {
	/// Parses `q4_0` / `Q4_0` / `q4_1` / `Q4_1`.
	pub fn parse(s: &str) -> anyhow::Result<Self> {
		match s.to_ascii_uppercase().as_str() {
			"Q4_0" => Ok(Target::Q4_0),
			"Q4_1" => Ok(Target::Q4_1),
			"IQ4_NL" => Ok(Target::Iq4Nl),
			other => anyhow::bail!("format `{other}` is not one this worker requantizes to (Q4_0, Q4_1, IQ4_NL)"),
		}
	}

	/// GGML's name, as a manifest's `quantization` field carries it.
	pub fn name(self) -> &'static str {
		match self {
			Target::Q4_0 => "Q4_0",
			Target::Q4_1 => "Q4_1",
			Target::Iq4Nl => "IQ4_NL",
		}
	}

	/// candle's type, for the formats candle quantizes (not IQ4_NL).
	fn candle_dtype(self) -> Option<GgmlDType> {
		match self {
			Target::Q4_0 => Some(GgmlDType::Q4_0),
			Target::Q4_1 => Some(GgmlDType::Q4_1),
			Target::Iq4Nl => None,
		}
	}

	/// llama.cpp's `general.file_type` for a file mostly of this format.
	fn file_type(self) -> u32 {
		match self {
			Target::Q4_0 => 2,
			Target::Q4_1 => 3,
			Target::Iq4Nl => 25,
		}
	}
}

/// What [`requantize`] wrote.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Summary {
	/// The format the 4-bit matrices now have.
	pub quantization: &'static str,
	/// Tensors requantized.
	pub requantized: usize,
	/// Tensors copied as they were.
	pub copied: usize,
	/// The output's size in bytes.
	pub bytes: u64,
	/// The output's sha256 (hex), the manifest's `weights_hash`.
	pub sha256: String,
}

/// IQ4_NL blocks of `values` (a multiple of 32), the blocks shared out over
/// the CPU's threads (each block is quantized alone: the same bytes however
/// they are shared).
fn quantize_iq4_nl_all(values: &[f32]) -> Vec<u8> {
	let blocks = values.len() / 32;
	let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
	let per = blocks.div_ceil(threads).max(1);
	let mut out = vec![0u8; blocks * 18];
	std::thread::scope(|s| {
		for (vals, dst) in values.chunks(per * 32).zip(out.chunks_mut(per * 18)) {
			s.spawn(move || {
				for (v, d) in vals.chunks_exact(32).zip(dst.chunks_exact_mut(18)) {
					d.copy_from_slice(&quantize_iq4_nl(v));
				}
			});
		}
	});
	out
}

/// Reads the GGUF at `input`, requantizes its Q4_0 and Q4_1 tensors to `to`
/// and writes the result to `output` (through a temporary file beside it, so
/// a failed run leaves no partial file).
pub fn requantize(input: &Path, output: &Path, to: Target) -> anyhow::Result<Summary> {
	anyhow::ensure!(input != output, "the output would overwrite the input");
	let bytes = std::fs::read(input).map_err(|e| anyhow::anyhow!("{}: {e}", input.display()))?;
	let mut cur = std::io::Cursor::new(&bytes);
	let ct = gguf_file::Content::read(&mut cur)
		.map_err(|e| anyhow::anyhow!("{}: not a GGUF file: {e}", input.display()))?;
	let mut infos: Vec<(&String, &gguf_file::TensorInfo)> = ct.tensor_infos.iter().collect();
	infos.sort_by_key(|(_, i)| i.offset);
	let (mut requantized, mut copied) = (0, 0);
	let mut tensors = Vec::with_capacity(infos.len());
	// The IQ4_NL tensors: candle writes their blocks as Q4_0 (the same
	// size), and their type ids are set once the file is laid out.
	let mut iq4 = Vec::new();
	for (name, info) in &infos {
		let t = ct.tensor(&mut cur, name, &Device::Cpu)?;
		let t = if matches!(info.ggml_dtype, GgmlDType::Q4_0 | GgmlDType::Q4_1) {
			requantized += 1;
			let f = t.dequantize(&Device::Cpu)?;
			match to.candle_dtype() {
				Some(dtype) => QTensor::quantize(&f, dtype)?,
				None => {
					let blocks = quantize_iq4_nl_all(&f.flatten_all()?.to_vec1::<f32>()?);
					iq4.push(name.as_str());
					qtensor_from_ggml(GgmlDType::Q4_0, &blocks, f.dims().to_vec(), &Device::Cpu)?
				},
			}
		} else {
			copied += 1;
			t
		};
		tensors.push((name.as_str(), t));
	}
	anyhow::ensure!(requantized > 0, "{}: no Q4_0 or Q4_1 tensor to requantize", input.display());
	let file_type = gguf_file::Value::U32(to.file_type());
	let mut metadata: Vec<(&str, &gguf_file::Value)> = ct
		.metadata
		.iter()
		.map(|(k, v)| (k.as_str(), if k == "general.file_type" { &file_type } else { v }))
		.collect();
	metadata.sort_by_key(|(k, _)| *k);
	let tensor_refs: Vec<(&str, &QTensor)> = tensors.iter().map(|(n, t)| (*n, t)).collect();
	let mut file = std::io::Cursor::new(Vec::new());
	gguf_file::write(&mut file, &metadata, &tensor_refs)?;
	let mut file = file.into_inner();
	if !iq4.is_empty() {
		let g = agora_kernels::gguf::read(&file)?;
		for name in &iq4 {
			let info = g.tensors.get(*name).ok_or_else(|| anyhow::anyhow!("`{name}` was not written"))?;
			file[info.type_pos..info.type_pos + 4].copy_from_slice(&GGML_TYPE_IQ4_NL.to_le_bytes());
		}
	}
	let dir = output.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
	let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
	tmp.as_file_mut().write_all(&file)?;
	// A model file, readable as the input was (a temporary file is the
	// owner's alone).
	tmp.as_file().set_permissions(std::fs::metadata(input)?.permissions())?;
	tmp.as_file().sync_all()?;
	tmp.persist(output).map_err(|e| anyhow::anyhow!("{}: {}", output.display(), e.error))?;
	let bytes = std::fs::metadata(output)?.len();
	let sha256 = hex::encode(crate::files::sha256_file(output, false)?);
	Ok(Summary { quantization: to.name(), requantized, copied, bytes, sha256 })
}
