//! Requantizing a llama GGUF's 4-bit matrices to another 4-bit format, as a
//! provider does to serve the format that is fastest on its hardware
//! (`agora-worker requantize`). The file it writes is a new model: its sha256
//! goes into a manifest of its own, with `quantization` naming the format.
//!
//! Only the layers' 4-bit matrices change (dequantized to f32, then quantized
//! as GGML's reference quantizer does, through candle); the embedding, the
//! norms and every metadata value but `general.file_type` are copied. The
//! output is the same bytes for the same input: tensors keep the input's
//! order, metadata is written sorted by key.
use candle_core::{
	quantized::{gguf_file, GgmlDType, QTensor},
	Device,
};
use std::{io::Write, path::Path};

/// The 4-bit formats a file can be requantized to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
	/// `d·(q − 8)`: what llama.cpp repacks for its fastest x86 path.
	Q4_0,
	/// `d·q + m`: the shipped SmolLM2 file's format.
	Q4_1,
}

impl Target {
	/// Parses `q4_0` / `Q4_0` / `q4_1` / `Q4_1`.
	pub fn parse(s: &str) -> anyhow::Result<Self> {
		match s.to_ascii_uppercase().as_str() {
			"Q4_0" => Ok(Target::Q4_0),
			"Q4_1" => Ok(Target::Q4_1),
			other => anyhow::bail!("format `{other}` is not one this worker requantizes to (Q4_0, Q4_1)"),
		}
	}

	/// GGML's name, as a manifest's `quantization` field carries it.
	pub fn name(self) -> &'static str {
		match self {
			Target::Q4_0 => "Q4_0",
			Target::Q4_1 => "Q4_1",
		}
	}

	fn dtype(self) -> GgmlDType {
		match self {
			Target::Q4_0 => GgmlDType::Q4_0,
			Target::Q4_1 => GgmlDType::Q4_1,
		}
	}

	/// llama.cpp's `general.file_type` for a file mostly of this format.
	fn file_type(self) -> u32 {
		match self {
			Target::Q4_0 => 2,
			Target::Q4_1 => 3,
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
	for (name, info) in &infos {
		let t = ct.tensor(&mut cur, name, &Device::Cpu)?;
		let t = if matches!(info.ggml_dtype, GgmlDType::Q4_0 | GgmlDType::Q4_1) {
			requantized += 1;
			let f = t.dequantize(&Device::Cpu)?;
			QTensor::quantize(&f, to.dtype())?
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
	let dir = output.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
	let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
	{
		let mut w = std::io::BufWriter::new(tmp.as_file_mut());
		gguf_file::write(&mut w, &metadata, &tensor_refs)?;
		w.flush()?;
	}
	tmp.as_file().sync_all()?;
	tmp.persist(output).map_err(|e| anyhow::anyhow!("{}: {}", output.display(), e.error))?;
	let bytes = std::fs::metadata(output)?.len();
	let sha256 = hex::encode(crate::files::sha256_file(output, false)?);
	Ok(Summary { quantization: to.name(), requantized, copied, bytes, sha256 })
}
