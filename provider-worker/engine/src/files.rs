//! Model files on disk, checked against the on-chain manifest before serving.
use agora_primitives::models::{ManifestInput, TaskKind};
use sha2::{Digest, Sha256};
use std::{
	io::Read,
	path::{Path, PathBuf},
};

/// A model's files, each checked against its manifest hash.
#[derive(Clone, Debug)]
pub struct ModelFiles {
	/// The manifest's name, e.g. `SmolLM2-135M-Instruct`.
	pub name: String,
	/// The on-chain model id.
	pub model_id: [u8; 32],
	/// What the model does.
	pub task: TaskKind,
	/// The weights: the `.gguf` file (llama) or `model.safetensors` (bert).
	pub weights: PathBuf,
	/// `tokenizer.json`, when the tokenizer is not inside the weights.
	pub tokenizer: Option<PathBuf>,
	/// `config.json`, when the config is not inside the weights.
	pub config: Option<PathBuf>,
}

/// Why a model directory is refused.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
	/// A file the manifest needs is not there.
	#[error("model file {0} is missing")]
	Missing(PathBuf),
	/// A file's sha256 is not the manifest's.
	#[error(
		"model file {path}: sha256 {actual} does not match the on-chain manifest's {expected} (model {model})"
	)]
	HashMismatch { path: PathBuf, actual: String, expected: String, model: String },
	/// The manifest's architecture is not one this worker runs.
	#[error("model {model}: architecture `{architecture}` is not supported (llama, bert)")]
	Unsupported { model: String, architecture: String },
	/// The directory is not readable, or holds no or several `.gguf` files.
	#[error("model directory {dir}: {why}")]
	Directory { dir: PathBuf, why: String },
	/// Reading a file failed.
	#[error("reading {path}: {source}")]
	Io { path: PathBuf, source: std::io::Error },
}

/// sha256 of a file, streamed, with an optional progress bar.
pub fn sha256_file(path: &Path, progress: bool) -> Result<[u8; 32], VerifyError> {
	let io = |source| VerifyError::Io { path: path.to_path_buf(), source };
	let mut f = std::fs::File::open(path).map_err(|e| {
		if e.kind() == std::io::ErrorKind::NotFound {
			VerifyError::Missing(path.to_path_buf())
		} else {
			io(e)
		}
	})?;
	let len = f.metadata().map_err(io)?.len();
	let bar = progress_bar(progress, len, &format!("checking {}", file_name(path)));
	let mut h = Sha256::new();
	let mut buf = vec![0u8; 1 << 20];
	loop {
		let n = f.read(&mut buf).map_err(io)?;
		if n == 0 {
			break;
		}
		h.update(buf.get(..n).unwrap_or_default());
		bar.inc(n as u64);
	}
	bar.finish_and_clear();
	Ok(h.finalize().into())
}

/// A byte progress bar on stderr (hidden when `show` is false or stderr is not a terminal).
pub fn progress_bar(show: bool, len: u64, msg: &str) -> indicatif::ProgressBar {
	if !show {
		return indicatif::ProgressBar::hidden();
	}
	let bar = indicatif::ProgressBar::new(len);
	if let Ok(style) = indicatif::ProgressStyle::with_template(
		"{msg:32} [{bar:30}] {bytes}/{total_bytes} ({eta})",
	) {
		bar.set_style(style.progress_chars("=> "));
	}
	bar.set_message(msg.to_string());
	bar
}

fn file_name(p: &Path) -> String {
	p.file_name().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default()
}

fn check(path: PathBuf, expected: &[u8; 32], model: &str, progress: bool) -> Result<PathBuf, VerifyError> {
	let actual = sha256_file(&path, progress)?;
	if &actual != expected {
		return Err(VerifyError::HashMismatch {
			path,
			actual: hex::encode(actual),
			expected: hex::encode(expected),
			model: model.to_string(),
		});
	}
	Ok(path)
}

/// Checks the files in `dir` against `manifest` and says where each one is.
///
/// - `llama`: the one `*.gguf` file in `dir` is the weights (tokenizer and config inside).
/// - `bert`: `model.safetensors`, `tokenizer.json` and `config.json`.
pub fn verify<A>(
	dir: &Path,
	manifest: &ManifestInput<A>,
	model_id: [u8; 32],
	progress: bool,
) -> Result<ModelFiles, VerifyError> {
	let name = String::from_utf8_lossy(&manifest.name).into_owned();
	let arch = String::from_utf8_lossy(&manifest.architecture).into_owned();
	let dir_err = |why: String| VerifyError::Directory { dir: dir.to_path_buf(), why };
	let (weights, tokenizer, config) = match arch.as_str() {
		"llama" => {
			let mut ggufs: Vec<PathBuf> = std::fs::read_dir(dir)
				.map_err(|e| dir_err(e.to_string()))?
				.filter_map(|e| e.ok().map(|e| e.path()))
				.filter(|p| p.extension().is_some_and(|x| x == "gguf"))
				.collect();
			ggufs.sort();
			let w = match ggufs.as_slice() {
				[one] => one.clone(),
				[] => return Err(dir_err("no .gguf file".into())),
				_ => return Err(dir_err(format!("{} .gguf files; keep one", ggufs.len()))),
			};
			(check(w, &manifest.weights_hash, &name, progress)?, None, None)
		},
		"bert" => {
			let w = check(dir.join("model.safetensors"), &manifest.weights_hash, &name, progress)?;
			let t = match &manifest.tokenizer_hash {
				Some(h) => check(dir.join("tokenizer.json"), h, &name, progress)?,
				None => return Err(dir_err("the manifest names no tokenizer hash".into())),
			};
			let c = match &manifest.config_hash {
				Some(h) => check(dir.join("config.json"), h, &name, progress)?,
				None => return Err(dir_err("the manifest names no config hash".into())),
			};
			(w, Some(t), Some(c))
		},
		_ => return Err(VerifyError::Unsupported { model: name, architecture: arch }),
	};
	Ok(ModelFiles { name, model_id, task: manifest.task, weights, tokenizer, config })
}

#[cfg(test)]
mod tests {
	use super::*;
	use agora_primitives::models::shipped;

	#[test]
	fn a_changed_byte_is_refused_naming_the_file_and_both_hashes() {
		let dir = tempfile::tempdir().unwrap();
		let mut m = shipped::smollm2([0u8; 32]);
		std::fs::write(dir.path().join("m.gguf"), b"hello").unwrap();
		let good: [u8; 32] = Sha256::digest(b"hello").into();
		m.weights_hash = good;
		assert!(verify(dir.path(), &m, [1; 32], false).is_ok());
		std::fs::write(dir.path().join("m.gguf"), b"hellp").unwrap();
		let err = verify(dir.path(), &m, [1; 32], false).unwrap_err().to_string();
		assert!(err.contains("m.gguf"), "{err}");
		assert!(err.contains(&hex::encode(good)), "{err}");
		assert!(err.contains(&hex::encode(<[u8; 32]>::from(Sha256::digest(b"hellp")))), "{err}");
	}

	#[test]
	fn missing_files_and_unknown_architectures_are_named() {
		let dir = tempfile::tempdir().unwrap();
		let m = shipped::minilm([0u8; 32]);
		let err = verify(dir.path(), &m, [1; 32], false).unwrap_err().to_string();
		assert!(err.contains("model.safetensors") && err.contains("missing"), "{err}");
		let mut m2 = m.clone();
		m2.architecture = b"mamba".to_vec();
		let err = verify(dir.path(), &m2, [1; 32], false).unwrap_err().to_string();
		assert!(err.contains("mamba"), "{err}");
		let err = verify(dir.path(), &shipped::smollm2([0u8; 32]), [1; 32], false)
			.unwrap_err()
			.to_string();
		assert!(err.contains("no .gguf"), "{err}");
	}
}
