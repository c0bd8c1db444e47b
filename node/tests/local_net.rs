//! The 4-validator local network (`scripts/local-net.sh`): all four finalize;
//! with one killed, finality still advances (3 of 4 > 2/3); restarted, it catches up.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::{
	process::Command,
	time::{Duration, Instant},
};

use common::Rpc;

const OFFSET: u16 = 700; // ports 31033.., 10644.., 10315..: away from a developer's own net

fn net(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
	let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/local-net.sh");
	Command::new("bash")
		.arg(script)
		.args(args)
		.env("AGORA_NODE", common::node_bin())
		.env("AGORA_NET_DIR", dir)
		.env("AGORA_NET_PORT_OFFSET", OFFSET.to_string())
		.output()
		.unwrap()
}

fn rpc(i: u16) -> Rpc {
	Rpc { url: format!("http://127.0.0.1:{}", 9944 + i + OFFSET) }
}

fn logs(dir: &std::path::Path) -> String {
	let mut s = String::new();
	for n in ["alice", "bob", "charlie", "dave"] {
		let text = std::fs::read_to_string(dir.join(format!("{n}.log"))).unwrap_or_default();
		let lines: Vec<&str> = text.lines().collect();
		s.push_str(&format!("--- {n}\n{}\n", lines[lines.len().saturating_sub(15)..].join("\n")));
	}
	s
}

/// Stops the network even when an assertion fails.
struct Guard(std::path::PathBuf);
impl Drop for Guard {
	fn drop(&mut self) {
		net(&self.0, &["stop"]);
	}
}

fn wait_until(dir: &std::path::Path, what: &str, timeout: Duration, mut ok: impl FnMut() -> bool) {
	let start = Instant::now();
	while !ok() {
		assert!(start.elapsed() < timeout, "timed out waiting for {what}\n{}", logs(dir));
		std::thread::sleep(Duration::from_secs(1));
	}
}

#[test]
fn four_validators_finalize_tolerate_one_down_and_catch_up() {
	let tmp = tempfile::tempdir().unwrap();
	let dir = tmp.path().to_path_buf();
	let _guard = Guard(dir.clone());

	let out = net(&dir, &["start"]);
	assert!(out.status.success(), "start: {}\n{}", String::from_utf8_lossy(&out.stderr), logs(&dir));

	// All four finalize, and agree on the finalized chain.
	wait_until(&dir, "all four to finalize block 3", Duration::from_secs(120), || {
		(0..4).all(|i| rpc(i).finalized_number().map(|n| n >= 3).unwrap_or(false))
	});
	let peers = rpc(0).call("system_health", serde_json::json!([])).unwrap();
	assert!(peers["peers"].as_u64().unwrap() >= 3, "alice sees the others: {peers}");

	// Kill Dave: three of four validators are still more than 2/3.
	let out = net(&dir, &["stop-node", "dave"]);
	assert!(out.status.success());
	assert!(rpc(3).finalized_number().is_err(), "dave is down");
	let f0 = rpc(0).finalized_number().unwrap();
	wait_until(&dir, "finality to advance with dave down", Duration::from_secs(120), || {
		rpc(0).finalized_number().map(|n| n >= f0 + 3).unwrap_or(false)
	});

	// Restart Dave on his database: he catches up with the others' finalized head.
	let out = net(&dir, &["start-node", "dave"]);
	assert!(out.status.success());
	wait_until(&dir, "dave to catch up", Duration::from_secs(120), || {
		let alice = rpc(0).finalized_number().unwrap_or(0);
		rpc(3).finalized_number().map(|d| d + 2 >= alice && d > f0 + 3).unwrap_or(false)
	});

	let out = net(&dir, &["stop"]);
	assert!(out.status.success());
	let stdout = String::from_utf8_lossy(&out.stdout);
	assert_eq!(stdout.matches("stopped").count(), 4, "{stdout}");
}
