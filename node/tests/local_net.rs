//! The 4-validator local network (`scripts/local-net.sh`): all four finalize;
//! with one killed, finality still advances (3 of 4 > 2/3); restarted, it catches up.
//! Then Bob's BABE key runs on a second node (`start-twin bob babe`) and
//! Alice's GRANDPA key on another (`start-twin alice grandpa`): the twins author and vote
//! alongside them, the other nodes report the BABE and the GRANDPA
//! equivocation, the runtime records each offence (`pallet-offences`) and
//! staking a slash of each offender, and finality carries on.
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
	for n in ["alice", "bob", "charlie", "dave", "bob-twin", "alice-twin"] {
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

	// A validator's keys on a second machine: the twin authors blocks in its
	// slots (BABE) or casts its GRANDPA votes too. The other validators' nodes
	// see two blocks (or votes) from one key, prove its key ownership against
	// the historical session and submit the equivocation report; the runtime
	// turns it into an offence, and staking into a (deferred) slash.
	// Each twin holds only the key of the offence it is there for, so no race
	// between two offences decides the outcome: Bob's twin only his BABE key
	// (his GRANDPA votes would get him disabled within seconds, before his twin
	// authors a block), Alice's twin only her GRANDPA key (with all her keys,
	// a BABE equivocation sometimes came first, got her disabled, and no
	// GRANDPA double vote followed: a fresh-clone CI run failed that way).
	for (who, keys, kind, account) in [
		("bob", "babe", "babe:equivocatio", sp_keyring::Sr25519Keyring::Bob),
		("alice", "grandpa", "grandpa:equivoca", sp_keyring::Sr25519Keyring::Alice),
	] {
		let out = net(&dir, &["start-twin", who, keys]);
		assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
		let t0 = Instant::now();
		let offences = storage_prefix("Offences", "ConcurrentReportsIndex");
		wait_until(&dir, &format!("{who}'s {kind} offence"), Duration::from_secs(240), || {
			storage_keys(&offences).iter().any(|k| k.contains(&hex(kind.as_bytes())))
		});
		println!("{who}'s twin: `{kind}` offence recorded after {:?}", t0.elapsed());
		let offender = hex(account.public().as_ref());
		let slashes = storage_prefix("Staking", "ValidatorSlashInEra");
		wait_until(&dir, &format!("staking to record {who}'s slash"), Duration::from_secs(60), || {
			storage_keys(&slashes).iter().any(|k| k.ends_with(&offender))
		});
	}
	let f1 = rpc(0).finalized_number().unwrap();
	wait_until(&dir, "finality to advance after the equivocation", Duration::from_secs(120), || {
		rpc(0).finalized_number().map(|n| n >= f1 + 3).unwrap_or(false)
	});

	let out = net(&dir, &["stop"]);
	assert!(out.status.success());
	let stdout = String::from_utf8_lossy(&out.stdout);
	assert_eq!(stdout.matches("stopped").count(), 6, "four validators and two twins: {stdout}");
}

/// `twox128(pallet) ++ twox128(item)`, hex: the prefix of a storage map's keys.
fn storage_prefix(pallet: &str, item: &str) -> String {
	format!(
		"0x{}{}",
		hex(&sp_io::hashing::twox_128(pallet.as_bytes())),
		hex(&sp_io::hashing::twox_128(item.as_bytes()))
	)
}

/// The keys under `prefix` at Alice's node's best block.
fn storage_keys(prefix: &str) -> Vec<String> {
	rpc(0)
		.call("state_getKeysPaged", serde_json::json!([prefix, 100]))
		.ok()
		.and_then(|v| v.as_array().cloned())
		.unwrap_or_default()
		.into_iter()
		.filter_map(|k| k.as_str().map(str::to_string))
		.collect()
}

fn hex(bytes: &[u8]) -> String {
	bytes.iter().map(|b| format!("{b:02x}")).collect()
}
