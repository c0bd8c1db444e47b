//! The 4-validator local network (`scripts/local-net.sh`): all four finalize;
//! with one killed, finality still advances (3 of 4 > 2/3); with two killed it
//! stalls. Alice's GRANDPA key then runs on a second node (`start-twin alice
//! grandpa`), which double-votes in the stalled round; restarted, the two
//! catch up and finality resumes. Then Bob's BABE key runs on a second node
//! (`start-twin bob babe`), which authors in his slots. The other nodes report
//! each equivocation, the runtime records each offence (`pallet-offences`) and
//! staking a slash of each offender, and finality carries on; the disabled
//! validator's nodes stand aside in its slots (no block the runtime refuses).
//! Last, `agora try-state` checks every pallet's invariants and the issuance.
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

	// Kill Charlie too: two of four is not more than 2/3, so finality stalls
	// in the round it is in while Alice and Bob keep authoring.
	let out = net(&dir, &["stop-node", "charlie"]);
	assert!(out.status.success());
	std::thread::sleep(Duration::from_secs(6)); // votes already in flight land
	let stalled = rpc(0).finalized_number().unwrap();
	let b0 = rpc(0).best_number().unwrap();
	wait_until(&dir, "blocks while finality is stalled", Duration::from_secs(120), || {
		rpc(0).best_number().map(|n| n >= b0 + 3).unwrap_or(false)
	});
	assert_eq!(rpc(0).finalized_number().unwrap(), stalled, "two of four validators finalized a block");

	// A validator's key on a second machine (`start-twin`): the other nodes see
	// two votes (or two blocks) from one key, prove its key ownership against
	// the historical session and submit the equivocation report; the runtime
	// turns it into an offence, and staking into a (deferred) slash.
	//
	// GRANDPA first, while finality is stalled: Alice's twin (her GRANDPA key
	// only) catches up into the stalled round and prevotes the head it sees now,
	// blocks past the one Alice prevoted when the round began: two prevotes by
	// one key in one round, every time. (A twin beside a live network votes the
	// same head as its original unless a block lands between their two votes,
	// which a fresh-clone CI run waited 240 s for in vain.) Bob reports it.
	equivocation(&dir, "alice", "grandpa", "grandpa:equivoca", sp_keyring::Sr25519Keyring::Alice);

	// Restart Charlie and Dave on their databases: they catch up with the
	// others' finalized head, and finality resumes.
	for name in ["charlie", "dave"] {
		let out = net(&dir, &["start-node", name]);
		assert!(out.status.success());
	}
	wait_until(&dir, "charlie and dave to catch up", Duration::from_secs(180), || {
		let alice = rpc(0).finalized_number().unwrap_or(0);
		alice > stalled + 2 &&
			[2, 3].iter().all(|&i| rpc(i).finalized_number().map(|n| n + 2 >= alice).unwrap_or(false))
	});

	// BABE: Bob's twin (his BABE key only; his GRANDPA votes would get him
	// disabled before his twin authors a block) authors in Bob's slots, so two
	// blocks carry one slot and one key.
	equivocation(&dir, "bob", "babe", "babe:equivocatio", sp_keyring::Sr25519Keyring::Bob);
	let f1 = rpc(0).finalized_number().unwrap();
	wait_until(&dir, "finality to advance after the equivocation", Duration::from_secs(120), || {
		rpc(0).finalized_number().map(|n| n >= f1 + 3).unwrap_or(false)
	});

	// A disabled validator's nodes (Bob's and his twin, both holding his BABE
	// key) stand aside in his slots instead of building blocks `pallet-babe`
	// refuses. From here on (his slash, so his disabling, is in the state every
	// block builds on) no node runs into the runtime's "disabled" panic. (Before
	// it, the block that carries the offence report may be the offender's own:
	// its state only disables him while that block runs.)
	let names = ["alice", "bob", "charlie", "dave", "bob-twin", "alice-twin"];
	let read = |n: &str| std::fs::read_to_string(dir.join(format!("{n}.log"))).unwrap_or_default();
	let marks: Vec<usize> = names.iter().map(|n| read(n).len()).collect();
	let fresh = || -> String {
		names.iter().zip(&marks).map(|(n, m)| read(n).get(*m..).unwrap_or_default().to_string()).collect()
	};
	wait_until(&dir, "the disabled validator to stand aside in its slot", Duration::from_secs(120), || {
		fresh().contains("is disabled by the runtime")
	});
	assert!(
		!fresh().contains("should not be attempting to author blocks"),
		"a disabled validator's node built a block the runtime refused"
	);
	let all: String = names.iter().map(|n| read(n)).collect();
	println!(
		"stand-aside log lines (the node's and the slot worker's, per slot): {} since the mark; runtime 'disabled' panics: {} before it, none after",
		fresh().matches("is disabled by the runtime").count(),
		all.matches("should not be attempting to author blocks").count()
	);

	// After the offences, slashes and disabling: Alice's last finalized block passes
	// every pallet's try_state (staking's ledgers and exposures, the offences,
	// sessions), and the issuance adds up (a slash burns what it takes).
	let state = common::assert_try_state(&format!("ws://127.0.0.1:{}", 9944 + OFFSET));
	println!("try-state after the equivocations: {state}");

	let out = net(&dir, &["stop"]);
	assert!(out.status.success());
	let stdout = String::from_utf8_lossy(&out.stdout);
	assert_eq!(stdout.matches("stopped").count(), 6, "four validators and two twins: {stdout}");
}

/// Starts `who`'s twin with the key set `keys` and waits for the runtime to
/// record the offence `kind` (its report id prefix) and staking `account`'s slash.
fn equivocation(
	dir: &std::path::Path,
	who: &str,
	keys: &str,
	kind: &str,
	account: sp_keyring::Sr25519Keyring,
) {
	let out = net(dir, &["start-twin", who, keys]);
	assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
	let t0 = Instant::now();
	let offences = storage_prefix("Offences", "ConcurrentReportsIndex");
	wait_until(dir, &format!("{who}'s {kind} offence"), Duration::from_secs(240), || {
		storage_keys(&offences).iter().any(|k| k.contains(&hex(kind.as_bytes())))
	});
	println!("{who}'s twin: `{kind}` offence recorded after {:?}", t0.elapsed());
	let offender = hex(account.public().as_ref());
	let slashes = storage_prefix("Staking", "ValidatorSlashInEra");
	wait_until(dir, &format!("staking to record {who}'s slash"), Duration::from_secs(60), || {
		storage_keys(&slashes).iter().any(|k| k.ends_with(&offender))
	});
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
