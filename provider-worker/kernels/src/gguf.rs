//! A GGUF file's tensor index, read without candle's tensor types: candle 0.11
//! refuses a whole file when one tensor has a type it does not know (IQ4_NL),
//! so the metadata is read by candle from the header alone and the tensors
//! are indexed here.
//!
//! The layout (GGUF v2/v3, little-endian): magic `GGUF`, version (u32), tensor
//! count and metadata count (u64); the metadata (key, type, value); per tensor
//! its name, dimensions (innermost first), GGML type and offset into the data,
//! which starts at the next multiple of `general.alignment` (32 unless set).
use candle_core::quantized::{gguf_file, GgmlDType};
use std::collections::HashMap;

/// GGML's type id of IQ4_NL.
pub const GGML_TYPE_IQ4_NL: u32 = 20;
/// GGML's type id of F32.
pub const GGML_TYPE_F32: u32 = 0;
/// Q4_0.
pub const GGML_TYPE_Q4_0: u32 = 2;
/// Q4_1.
pub const GGML_TYPE_Q4_1: u32 = 3;
/// Q8_0.
pub const GGML_TYPE_Q8_0: u32 = 8;

/// One tensor of the index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TensorInfo {
	/// Dimensions, innermost first (GGML's `ne`): a matrix is `[cols, rows]`.
	pub ne: Vec<u64>,
	/// GGML's type id.
	pub ggml_type: u32,
	/// Offset of the data from the start of the data section.
	pub offset: u64,
	/// Where the type id sits in the file (to rewrite it in place).
	pub type_pos: usize,
}

impl TensorInfo {
	/// Rows and columns (a vector is one row).
	pub fn rows_cols(&self) -> Option<(usize, usize)> {
		match self.ne.as_slice() {
			[c] => Some((1, usize::try_from(*c).ok()?)),
			[c, r] => Some((usize::try_from(*r).ok()?, usize::try_from(*c).ok()?)),
			_ => None,
		}
	}

	/// Bytes of data: for IQ4_NL and the types candle knows.
	pub fn data_len(&self) -> Option<usize> {
		let n: u64 = self.ne.iter().try_fold(1u64, |a, d| a.checked_mul(*d))?;
		let n = usize::try_from(n).ok()?;
		let (block, bytes) = match self.ggml_type {
			GGML_TYPE_IQ4_NL => (32, 18),
			t => candle_dtype(t).map(|d| (d.block_size(), d.type_size()))?,
		};
		(n % block == 0).then_some(n / block)?.checked_mul(bytes)
	}
}

/// candle's type for a GGML type id (`None` for types candle does not know,
/// IQ4_NL among them).
pub fn candle_dtype(t: u32) -> Option<GgmlDType> {
	Some(match t {
		0 => GgmlDType::F32,
		1 => GgmlDType::F16,
		2 => GgmlDType::Q4_0,
		3 => GgmlDType::Q4_1,
		6 => GgmlDType::Q5_0,
		7 => GgmlDType::Q5_1,
		8 => GgmlDType::Q8_0,
		9 => GgmlDType::Q8_1,
		10 => GgmlDType::Q2K,
		11 => GgmlDType::Q3K,
		12 => GgmlDType::Q4K,
		13 => GgmlDType::Q5K,
		14 => GgmlDType::Q6K,
		15 => GgmlDType::Q8K,
		30 => GgmlDType::BF16,
		_ => return None,
	})
}

/// A GGUF file's metadata (read by candle) and tensor index.
pub struct Gguf {
	/// The metadata; its `tensor_infos` is empty (see [`Gguf::tensors`]).
	pub content: gguf_file::Content,
	/// Every tensor by name.
	pub tensors: HashMap<String, TensorInfo>,
	/// Where the data section starts in the file.
	pub data_offset: usize,
}

struct Reader<'a> {
	b: &'a [u8],
	pos: usize,
}

impl Reader<'_> {
	fn take(&mut self, n: usize) -> anyhow::Result<&[u8]> {
		let end = self.pos.checked_add(n).filter(|e| *e <= self.b.len());
		let end = end.ok_or_else(|| anyhow::anyhow!("GGUF: truncated at byte {}", self.pos))?;
		let s = &self.b[self.pos..end];
		self.pos = end;
		Ok(s)
	}
	fn u32(&mut self) -> anyhow::Result<u32> {
		let s = self.take(4)?;
		Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
	}
	fn u64(&mut self) -> anyhow::Result<u64> {
		let s = self.take(8)?;
		let mut a = [0u8; 8];
		a.copy_from_slice(s);
		Ok(u64::from_le_bytes(a))
	}
	fn len(&mut self) -> anyhow::Result<usize> {
		let n = self.u64()?;
		usize::try_from(n).ok().filter(|n| *n <= self.b.len()).ok_or_else(|| anyhow::anyhow!("GGUF: length {n} at byte {}", self.pos))
	}
	fn string(&mut self) -> anyhow::Result<String> {
		let n = self.len()?;
		Ok(String::from_utf8_lossy(self.take(n)?).into_owned())
	}
	/// Skips a metadata value of type `t`; returns it if it is a u32 (for the alignment).
	fn skip_value(&mut self, t: u32) -> anyhow::Result<Option<u32>> {
		let fixed = |t: u32| match t {
			0 | 1 | 7 => Some(1),
			2 | 3 => Some(2),
			4..=6 => Some(4),
			10..=12 => Some(8),
			_ => None,
		};
		match t {
			4 => Ok(Some(self.u32()?)),
			8 => {
				self.string()?;
				Ok(None)
			},
			9 => {
				let et = self.u32()?;
				let n = self.len()?;
				match fixed(et) {
					Some(w) => {
						self.take(n.checked_mul(w).ok_or_else(|| anyhow::anyhow!("GGUF: array too long"))?)?;
					},
					None => {
						for _ in 0..n {
							self.skip_value(et)?;
						}
					},
				}
				Ok(None)
			},
			t => {
				let w = fixed(t).ok_or_else(|| anyhow::anyhow!("GGUF: unknown metadata type {t}"))?;
				self.take(w)?;
				Ok(None)
			},
		}
	}
}

/// Reads a GGUF file's metadata and tensor index from its bytes.
pub fn read(bytes: &[u8]) -> anyhow::Result<Gguf> {
	let mut r = Reader { b: bytes, pos: 0 };
	anyhow::ensure!(r.u32()? == 0x4655_4747, "not a GGUF file (bad magic)");
	let version = r.u32()?;
	anyhow::ensure!(matches!(version, 2 | 3), "GGUF version {version} is not supported (2, 3)");
	let n_tensors = r.len()?;
	let n_kv = r.len()?;
	let mut alignment = 32u32;
	for _ in 0..n_kv {
		let key = r.string()?;
		let t = r.u32()?;
		let v = r.skip_value(t)?;
		if key == "general.alignment" {
			alignment = v.filter(|a| *a > 0).ok_or_else(|| anyhow::anyhow!("GGUF: bad general.alignment"))?;
		}
	}
	let kv_end = r.pos;
	let mut tensors = HashMap::with_capacity(n_tensors);
	for _ in 0..n_tensors {
		let name = r.string()?;
		let n_dims = r.u32()? as usize;
		anyhow::ensure!(n_dims <= 4, "GGUF: tensor `{name}` has {n_dims} dimensions");
		let ne = (0..n_dims).map(|_| r.u64()).collect::<anyhow::Result<Vec<u64>>>()?;
		let type_pos = r.pos;
		let ggml_type = r.u32()?;
		let offset = r.u64()?;
		tensors.insert(name, TensorInfo { ne, ggml_type, offset, type_pos });
	}
	let a = alignment as usize;
	let data_offset = r.pos.div_ceil(a) * a;
	// candle reads the metadata from the same header with no tensors (the
	// counts sit at bytes 8..24).
	let mut header = Vec::with_capacity(kv_end);
	header.extend_from_slice(&bytes[..8]);
	header.extend_from_slice(&0u64.to_le_bytes());
	header.extend_from_slice(&bytes[16..kv_end]);
	let content = gguf_file::Content::read(&mut std::io::Cursor::new(header))
		.map_err(|e| anyhow::anyhow!("GGUF metadata: {e}"))?;
	Ok(Gguf { content, tensors, data_offset })
}

impl Gguf {
	/// A tensor's info and data bytes.
	pub fn tensor<'a>(&self, bytes: &'a [u8], name: &str) -> anyhow::Result<(&TensorInfo, &'a [u8])> {
		let info = self.tensors.get(name).ok_or_else(|| anyhow::anyhow!("GGUF has no tensor `{name}`"))?;
		let len = info
			.data_len()
			.ok_or_else(|| anyhow::anyhow!("tensor `{name}`: GGML type {} is not one Agora reads (or its size is not whole blocks)", info.ggml_type))?;
		let start = usize::try_from(info.offset).ok().and_then(|o| o.checked_add(self.data_offset));
		let data = start
			.and_then(|s| bytes.get(s..s.checked_add(len)?))
			.ok_or_else(|| anyhow::anyhow!("tensor `{name}` runs past the end of the file"))?;
		Ok((info, data))
	}
}

#[cfg(test)]
mod tests {
	/// The index agrees with candle's reader on a file candle reads: every
	/// tensor's type, shape and data bytes, and the metadata.
	#[test]
	fn the_index_agrees_with_candle_on_a_written_file() {
		use candle_core::{quantized::{GgmlDType, QTensor}, Device, Tensor};
		let dev = Device::Cpu;
		let mut seed = 3u64;
		let t = |rows: usize, seed: &mut u64| {
			let v: Vec<f32> = (0..rows * 64).map(|_| crate::test_util::lcg(seed)).collect();
			Tensor::from_vec(v, (rows, 64), &dev).unwrap()
		};
		let a = QTensor::quantize(&t(3, &mut seed), GgmlDType::Q4_0).unwrap();
		let b = QTensor::quantize(&t(5, &mut seed), GgmlDType::Q8_0).unwrap();
		let c = QTensor::quantize(&t(1, &mut seed), GgmlDType::F32).unwrap();
		let e = QTensor::quantize(&t(2, &mut seed), GgmlDType::F16).unwrap();
		let name = gguf_value("x");
		let mut bytes = std::io::Cursor::new(vec![]);
		candle_core::quantized::gguf_file::write(
			&mut bytes,
			&[("general.name", &name)],
			&[("a", &a), ("b", &b), ("c", &c), ("e", &e)],
		)
		.unwrap();
		let bytes = bytes.into_inner();
		let g = super::read(&bytes).unwrap();
		let ct = candle_core::quantized::gguf_file::Content::read(&mut std::io::Cursor::new(&bytes)).unwrap();
		assert_eq!(g.data_offset as u64, ct.tensor_data_offset);
		assert_eq!(g.content.metadata.len(), 1);
		assert_eq!(g.content.metadata["general.name"].to_string().unwrap(), "x");
		for (n, rows, ty) in
			[("a", 3, super::GGML_TYPE_Q4_0), ("b", 5, super::GGML_TYPE_Q8_0), ("c", 1, super::GGML_TYPE_F32), ("e", 2, 1)]
		{
			let (info, data) = g.tensor(&bytes, n).unwrap();
			assert_eq!((info.ggml_type, info.rows_cols()), (ty, Some((rows, 64))), "{n}");
			let want = ct.tensor(&mut std::io::Cursor::new(&bytes), n, &dev).unwrap().data().unwrap().into_owned();
			assert_eq!(data, &want[..], "{n}");
			assert_eq!(u32::from_le_bytes(bytes[info.type_pos..info.type_pos + 4].try_into().unwrap()), ty);
		}
		// Truncated or foreign files are refused with a reason.
		assert!(super::read(&bytes[..30]).is_err());
		assert!(super::read(b"GGML\x03\0\0\0").err().unwrap().to_string().contains("magic"));
	}

	fn gguf_value(s: &str) -> candle_core::quantized::gguf_file::Value {
		candle_core::quantized::gguf_file::Value::String(s.into())
	}

	#[test]
	fn iq4_nl_dequantizes_on_its_grid() {
		let mut block = vec![0u8; 18];
		block[..2].copy_from_slice(&half::f16::from_f32(0.5).to_le_bytes());
		block[2] = 0xF0; // quant 0 = 0 (-127), quant 16 = 15 (113)
		let v = crate::quant::dequantize_iq4_nl(&block);
		assert_eq!(v.len(), 32);
		assert_eq!((v[0], v[16], v[1]), (-63.5, 56.5, -63.5));
	}
}
