//! The worker's disk state: outputs, content-addressed by `blake2_256`, and one
//! record per job it took. Every write goes to a temporary file, is synced, then
//! renamed into place, so a crash leaves either the old or the new file.
//!
//! Layout under the data directory:
//! - `outputs/<hex blake2_256>`: output bytes;
//! - `inputs/<hex blake2_256>`: inputs delivered off-chain for by-hash jobs;
//! - `jobs/<job id>.json`: a [`JobRecord`].
use serde::{Deserialize, Serialize};
use std::{
	io::Write,
	path::{Path, PathBuf},
};

/// What an output is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputKind {
	/// UTF-8 text (generation).
	Text,
	/// Little-endian f32 vector (embedding).
	Embedding,
	/// The model refused the input: a JSON `{"error": …}` (an error receipt).
	Error,
}

impl OutputKind {
	/// Its name, as served in `x-agora-output-kind`.
	pub fn as_str(&self) -> &'static str {
		match self {
			OutputKind::Text => "text",
			OutputKind::Embedding => "embedding",
			OutputKind::Error => "error",
		}
	}

	/// The HTTP content type the output is served with.
	pub fn content_type(&self) -> &'static str {
		match self {
			OutputKind::Text => "text/plain; charset=utf-8",
			OutputKind::Embedding => "application/octet-stream",
			OutputKind::Error => "application/json",
		}
	}
}

/// Where a receipt stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptState {
	/// The finalized block the receipt is in (hex).
	pub block: String,
	/// The block the job finalizes at.
	pub finalize_at: u32,
}

/// What the worker did with one job.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobRecord {
	pub job_id: u64,
	/// Hex model id.
	pub model_id: String,
	/// Hex `blake2_256` of the output.
	pub output_hash: String,
	pub output_tokens: u32,
	pub kind: OutputKind,
	/// Set once the receipt is in a finalized block.
	pub receipt: Option<ReceiptState>,
	/// Set when the chain no longer takes a receipt (deadline passed, cancelled).
	pub abandoned: Option<String>,
	/// Unix seconds when the output was stored.
	pub created_unix: u64,
}

/// The store.
#[derive(Clone, Debug)]
pub struct Store {
	root: PathBuf,
	/// Makes "take an upload" and "give an input up" one step each, so that a
	/// worker never signs an upload receipt for an input it is reporting
	/// missing (`put_input_for`, `give_up_input`).
	inputs: std::sync::Arc<std::sync::Mutex<()>>,
}

fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
	let tmp = path.with_extension("tmp");
	{
		let mut f = std::fs::File::create(&tmp)?;
		f.write_all(bytes)?;
		f.sync_all()?;
	}
	std::fs::rename(&tmp, path)?;
	if let Some(dir) = path.parent() {
		// Make the rename itself durable.
		if let Ok(d) = std::fs::File::open(dir) {
			let _ = d.sync_all();
		}
	}
	Ok(())
}

impl Store {
	/// Opens (creating) a store under `root`.
	pub fn open(root: impl Into<PathBuf>) -> anyhow::Result<Self> {
		let root = root.into();
		for sub in ["outputs", "inputs", "jobs", "given-up"] {
			std::fs::create_dir_all(root.join(sub))
				.map_err(|e| anyhow::anyhow!("data directory {}: {e}", root.display()))?;
		}
		Ok(Self { root, inputs: Default::default() })
	}

	/// The data directory.
	pub fn root(&self) -> &Path {
		&self.root
	}

	fn blob(&self, dir: &str, bytes: &[u8]) -> anyhow::Result<[u8; 32]> {
		let hash = agora_primitives::rules::content_hash(bytes);
		let path = self.root.join(dir).join(hex::encode(hash));
		if !path.exists() {
			write_atomic(&path, bytes)?;
		}
		Ok(hash)
	}

	fn read_blob(&self, dir: &str, hash: &[u8; 32]) -> anyhow::Result<Option<Vec<u8>>> {
		let path = self.root.join(dir).join(hex::encode(hash));
		match std::fs::read(&path) {
			Ok(b) => {
				anyhow::ensure!(
					&agora_primitives::rules::content_hash(&b) == hash,
					"{} is corrupted: its hash is not its name",
					path.display()
				);
				Ok(Some(b))
			},
			Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
			Err(e) => Err(anyhow::anyhow!("{}: {e}", path.display())),
		}
	}

	/// Stores output bytes; returns their `blake2_256`.
	pub fn put_output(&self, bytes: &[u8]) -> anyhow::Result<[u8; 32]> {
		self.blob("outputs", bytes)
	}

	/// Output bytes by hash (checked against the hash on read).
	pub fn output(&self, hash: &[u8; 32]) -> anyhow::Result<Option<Vec<u8>>> {
		self.read_blob("outputs", hash)
	}

	/// Stores an input delivered off-chain; returns its `blake2_256`.
	pub fn put_input(&self, bytes: &[u8]) -> anyhow::Result<[u8; 32]> {
		self.blob("inputs", bytes)
	}

	/// Stores job `job`'s uploaded input unless the worker gave it up
	/// ([`Self::give_up_input`]): `Some(hash)` once the bytes are durable (the
	/// worker may then sign for them), `None` if it was given up.
	pub fn put_input_for(&self, job: u64, bytes: &[u8]) -> anyhow::Result<Option<[u8; 32]>> {
		let _one_step = self.inputs.lock().map_err(|_| anyhow::anyhow!("input lock poisoned"))?;
		if self.given_up(job).exists() {
			return Ok(None);
		}
		self.put_input(bytes).map(Some)
	}

	/// Gives job `job`'s input `hash` up (the worker is about to report it
	/// missing) unless it was delivered: `Some(bytes)` if it was, else `None`,
	/// and from then on [`Self::put_input_for`] refuses it, also after a
	/// restart, until [`Self::resume_input`].
	pub fn give_up_input(&self, job: u64, hash: &[u8; 32]) -> anyhow::Result<Option<Vec<u8>>> {
		let _one_step = self.inputs.lock().map_err(|_| anyhow::anyhow!("input lock poisoned"))?;
		if let Some(b) = self.input(hash)? {
			return Ok(Some(b));
		}
		write_atomic(&self.given_up(job), b"")?;
		Ok(None)
	}

	/// Takes uploads for job `job` again (its report was refused as early).
	pub fn resume_input(&self, job: u64) -> anyhow::Result<()> {
		let _one_step = self.inputs.lock().map_err(|_| anyhow::anyhow!("input lock poisoned"))?;
		match std::fs::remove_file(self.given_up(job)) {
			Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
			_ => Ok(()),
		}
	}

	fn given_up(&self, job: u64) -> PathBuf {
		self.root.join("given-up").join(job.to_string())
	}

	/// An input delivered off-chain, by hash.
	pub fn input(&self, hash: &[u8; 32]) -> anyhow::Result<Option<Vec<u8>>> {
		self.read_blob("inputs", hash)
	}

	/// Saves a job record (replacing the previous one).
	pub fn save(&self, rec: &JobRecord) -> anyhow::Result<()> {
		let path = self.root.join("jobs").join(format!("{}.json", rec.job_id));
		write_atomic(&path, &serde_json::to_vec_pretty(rec)?)?;
		Ok(())
	}

	/// A job's record, if the worker took it.
	pub fn record(&self, job_id: u64) -> anyhow::Result<Option<JobRecord>> {
		let path = self.root.join("jobs").join(format!("{job_id}.json"));
		match std::fs::read(&path) {
			Ok(b) => Ok(Some(
				serde_json::from_slice(&b).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?,
			)),
			Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
			Err(e) => Err(anyhow::anyhow!("{}: {e}", path.display())),
		}
	}

	/// Every job record.
	pub fn records(&self) -> anyhow::Result<Vec<JobRecord>> {
		let mut out = vec![];
		for e in std::fs::read_dir(self.root.join("jobs"))? {
			let p = e?.path();
			if p.extension().is_some_and(|x| x == "json") {
				let b = std::fs::read(&p)?;
				out.push(serde_json::from_slice(&b).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?);
			}
		}
		Ok(out)
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn rec(id: u64, hash: [u8; 32]) -> JobRecord {
		JobRecord {
			job_id: id,
			model_id: "00".into(),
			output_hash: hex::encode(hash),
			output_tokens: 3,
			kind: OutputKind::Text,
			receipt: None,
			abandoned: None,
			created_unix: 1,
		}
	}

	#[test]
	fn outputs_and_records_survive_reopening() {
		let dir = tempfile::tempdir().unwrap();
		let s = Store::open(dir.path()).unwrap();
		let h = s.put_output(b"hello").unwrap();
		assert_eq!(h, agora_primitives::rules::content_hash(b"hello"));
		s.save(&rec(7, h)).unwrap();
		let s2 = Store::open(dir.path()).unwrap();
		assert_eq!(s2.output(&h).unwrap().unwrap(), b"hello");
		assert_eq!(s2.record(7).unwrap().unwrap(), rec(7, h));
		assert_eq!(s2.records().unwrap().len(), 1);
		assert!(s2.record(8).unwrap().is_none());
		assert!(s2.output(&[0; 32]).unwrap().is_none());
	}

	#[test]
	fn an_input_given_up_is_refused_until_resumed_and_one_delivered_is_not_given_up() {
		let dir = tempfile::tempdir().unwrap();
		let s = Store::open(dir.path()).unwrap();
		let h = agora_primitives::rules::content_hash(b"input");
		assert_eq!(s.give_up_input(7, &h).unwrap(), None);
		// Refused, also by a store reopened after a restart.
		assert_eq!(s.put_input_for(7, b"input").unwrap(), None);
		assert_eq!(Store::open(dir.path()).unwrap().put_input_for(7, b"input").unwrap(), None);
		assert!(s.input(&h).unwrap().is_none());
		// Another job's upload is taken.
		assert_eq!(s.put_input_for(8, b"other").unwrap(), Some(agora_primitives::rules::content_hash(b"other")));
		s.resume_input(7).unwrap();
		s.resume_input(7).unwrap();
		assert_eq!(s.put_input_for(7, b"input").unwrap(), Some(h));
		// Delivered now: giving it up hands the bytes over instead.
		assert_eq!(s.give_up_input(7, &h).unwrap().as_deref(), Some(&b"input"[..]));
		assert_eq!(s.put_input_for(7, b"input").unwrap(), Some(h));
	}

	#[test]
	fn a_corrupted_output_is_not_served() {
		let dir = tempfile::tempdir().unwrap();
		let s = Store::open(dir.path()).unwrap();
		let h = s.put_output(b"hello").unwrap();
		std::fs::write(dir.path().join("outputs").join(hex::encode(h)), b"jello").unwrap();
		let err = s.output(&h).unwrap_err().to_string();
		assert!(err.contains("corrupted"), "{err}");
	}
}
