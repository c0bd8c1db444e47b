//! Chain specs: malformed files give a one-line error naming the file; the
//! checked-in specs parse and match the runtime's presets.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Command;

use serde_json::Value;

fn repo_root() -> std::path::PathBuf {
	std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

#[test]
fn malformed_chain_spec_is_one_line_error_naming_the_file() {
	let dir = tempfile::tempdir().unwrap();
	for (name, content) in [
		("truncated.json", "{\"name\": \"Agora\", \"id\": "),
		("wrong-shape.json", "{\"name\": 5}"),
	] {
		let path = dir.path().join(name);
		std::fs::write(&path, content).unwrap();
		let out = Command::new(common::node_bin())
			.args(["export-chain-spec", "--chain", path.to_str().unwrap()])
			.env("RUST_BACKTRACE", "1")
			.output()
			.unwrap();
		assert!(!out.status.success(), "{name}: must fail");
		let stderr = String::from_utf8_lossy(&out.stderr);
		let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
		assert_eq!(lines.len(), 1, "{name}: exactly one line, got:\n{stderr}");
		assert!(lines[0].starts_with("Error: "), "{name}: {stderr}");
		assert!(lines[0].contains(path.to_str().unwrap()), "{name}: names the file: {stderr}");
		assert!(!stderr.contains("panicked"), "{name}: no panic: {stderr}");
	}
	// A missing file is reported the same way.
	let out = Command::new(common::node_bin())
		.args(["export-chain-spec", "--chain", "/nonexistent/agora.json"])
		.output()
		.unwrap();
	let stderr = String::from_utf8_lossy(&out.stderr);
	assert!(!out.status.success());
	assert!(stderr.contains("/nonexistent/agora.json"), "{stderr}");
	assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
}

fn exported(chain: &str) -> Value {
	let out = Command::new(common::node_bin()).args(["export-chain-spec", "--chain", chain]).output().unwrap();
	assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
	serde_json::from_slice(&out.stdout).unwrap()
}

/// The checked-in specs are what `scripts/gen-chain-specs.sh` makes from the
/// presets: same identity, properties and genesis patch. (The wasm code is not
/// compared: it changes with every runtime change and is regenerated with it.)
#[test]
fn checked_in_specs_match_the_presets() {
	for (file, chain, validators, sudo) in
		[("dev.json", "dev", 1usize, true), ("local.json", "local", 4, false), ("testnet.json", "testnet", 4, false)]
	{
		let path = repo_root().join("chain-specs").join(file);
		let text = std::fs::read_to_string(&path)
			.unwrap_or_else(|e| panic!("{}: {e} (run scripts/gen-chain-specs.sh)", path.display()));
		let checked_in: Value = serde_json::from_str(&text).unwrap();
		let fresh = exported(chain);
		for key in ["name", "id", "chainType", "properties"] {
			assert_eq!(checked_in[key], fresh[key], "{file}: {key}");
		}
		let patch = &checked_in["genesis"]["runtimeGenesis"]["patch"];
		assert_eq!(patch, &fresh["genesis"]["runtimeGenesis"]["patch"], "{file}: genesis patch");
		assert_eq!(patch["session"]["keys"].as_array().unwrap().len(), validators, "{file}");
		assert_eq!(patch["sudo"]["key"].is_string(), sudo, "{file}: sudo key only on dev");
		assert_eq!(
			patch["staking"]["stakers"].as_array().unwrap().len(),
			validators + if validators == 4 { 2 } else { 0 },
			"{file}: bonded validators, and two nominators on local and testnet"
		);
		assert_eq!(checked_in["properties"]["tokenSymbol"], "AGR");
		assert_eq!(checked_in["properties"]["tokenDecimals"], 12);
		// The file is loadable by the node itself.
		let reloaded = exported(path.to_str().unwrap());
		assert_eq!(reloaded["id"], checked_in["id"]);
	}
}
