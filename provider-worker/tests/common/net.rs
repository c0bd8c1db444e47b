//! The 4-validator local network (`scripts/local-net.sh`) as the multi-node
//! end-to-end tests run it (staking, verification, chaos): a `local` chain spec
//! with the test's genesis changes, the script run with this build's binaries
//! on the test's ports and directory, and the tails of its logs.
use super::{client_bin, node_bin, tail};
use serde_json::Value;
use std::{
	path::{Path, PathBuf},
	process::{Command, Output},
};

/// The `local` chain spec with `patch` applied to its genesis patch
/// (`genesis.runtimeGenesis.patch`), written to `dir/file`.
pub fn local_spec(dir: &Path, file: &str, patch: impl FnOnce(&mut Value)) -> PathBuf {
	let out = Command::new(node_bin()).args(["build-spec", "--chain", "local"]).output().unwrap();
	assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
	let mut s: Value = serde_json::from_slice(&out.stdout).unwrap();
	patch(&mut s["genesis"]["runtimeGenesis"]["patch"]);
	let path = dir.join(file);
	std::fs::write(&path, serde_json::to_vec_pretty(&s).unwrap()).unwrap();
	path
}

/// `scripts/local-net.sh args…` for the network in `dir` on chain spec
/// `chain`, every port raised by `offset`; `verifiers`: each validator runs
/// its local verifier too.
pub fn local_net(dir: &Path, chain: &Path, offset: u16, verifiers: bool, args: &[&str]) -> Output {
	let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/local-net.sh");
	Command::new("bash")
		.arg(script)
		.args(args)
		.env("AGORA_NODE", node_bin())
		.env("AGORA_CLIENT", client_bin())
		.env("AGORA_WORKER", env!("CARGO_BIN_EXE_agora-worker"))
		.env("AGORA_NET_VERIFIERS", if verifiers { "1" } else { "0" })
		.env("AGORA_CHAIN", chain)
		.env("AGORA_NET_DIR", dir)
		.env("AGORA_NET_PORT_OFFSET", offset.to_string())
		.output()
		.unwrap()
}

/// The last 12 lines of each file, under its path.
pub fn tails(files: impl IntoIterator<Item = PathBuf>) -> String {
	files.into_iter().map(|f| format!("--- {}\n{}\n", f.display(), tail(&f, 12))).collect()
}
