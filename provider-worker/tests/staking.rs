//! NPoS end to end on the 4-validator local network (`scripts/local-net.sh`),
//! with this test's chain spec asking for fast epochs (30-second sessions, one
//! session per era): `add-validator eve` starts a fifth node, rotates its
//! session keys and has //Eve set them, bond and validate with the `agora`
//! client; staking elects Eve at the next era and her node authors blocks; era
//! rewards are paid out to a validator and its nominator; a validator whose
//! node stops (at the start, so that its silent sessions overlap the rest)
//! does not halt finality, is chilled by the runtime's liveness check after
//! six silent sessions and leaves the set; finality advances throughout. Meanwhile a `root` referendum
//! (fast tracks in this spec) upgrades the runtime with `system.set_code`: the
//! chain runs the new version and keeps producing and finalizing blocks.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{agora, agora_json, assert_try_state, compressed_wasm, planck, runtime_wasm};
use serde_json::Value;
use std::{
	path::{Path, PathBuf},
	time::{Duration, Instant},
};

const OFFSET: u16 = 900;
const ALICE: &str = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";
const BOB: &str = "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty";
const CHARLIE: &str = "5FLSigC9HGRKVhB9FiEo4Y3koPsNmBmLJbpXg2mp1hXcS59Y";
const DAVE: &str = "5DAAnrj7VHTznn2AWBemMuyBwZWs6FNFjdyVXUeYum3PTXFy";
const EVE: &str = "5HGjWAeFDfFCWPsjFQdVV2Msvz2XtMktvgocEZcCj68kUMaw";

fn ws(i: u16) -> String {
	format!("ws://127.0.0.1:{}", 9944 + i + OFFSET)
}

/// The `local` chain spec with fast epochs.
fn spec(dir: &Path) -> PathBuf {
	common::net::local_spec(dir, "local-fast-epochs.json", |patch| {
		patch["origins"]["fastEpochs"] = true.into();
		patch["origins"]["fastTracks"] = true.into();
	})
}

struct Net {
	dir: PathBuf,
	chain: PathBuf,
}

impl Net {
	fn script(&self, args: &[&str]) -> std::process::Output {
		common::net::local_net(&self.dir, &self.chain, OFFSET, false, args)
	}

	fn logs(&self) -> String {
		common::net::tails(["alice", "bob", "charlie", "dave", "eve"].map(|n| self.dir.join(format!("{n}.log"))))
	}

	fn status(&self) -> Value {
		agora_json(&ws(0), &["stake", "status"]).remove(0)
	}

	fn finalized(&self) -> u64 {
		self.status()["block"].as_u64().unwrap()
	}

	fn wait(&self, what: &str, timeout: Duration, mut ok: impl FnMut(&Value) -> bool) -> Value {
		let start = Instant::now();
		loop {
			let (good, out, _) = agora(&ws(0), &["--json", "stake", "status"]);
			if good {
				let v: Value = serde_json::from_str(out.lines().last().unwrap_or("{}")).unwrap();
				if ok(&v) {
					return v;
				}
			}
			assert!(start.elapsed() < timeout, "timed out waiting for {what}\n{}", self.logs());
			std::thread::sleep(Duration::from_secs(2));
		}
	}
}

impl Drop for Net {
	fn drop(&mut self) {
		self.script(&["stop"]);
	}
}

/// The runtime's wasm with the `spec_version` in its `runtime_version` custom
/// section raised by one: the same code as a new version (a no-op upgrade);
/// returns the path and the new spec_version.
fn upgraded_wasm(dir: &Path) -> (PathBuf, u32) {
	fn leb(b: &[u8], at: &mut usize) -> usize {
		let (mut v, mut shift) = (0usize, 0);
		loop {
			let byte = b[*at];
			*at += 1;
			v |= usize::from(byte & 0x7f) << shift;
			if byte & 0x80 == 0 {
				return v;
			}
			shift += 7;
		}
	}
	let mut wasm = runtime_wasm();
	let mut at = 8; // magic + version
	while at < wasm.len() {
		let id = wasm[at];
		at += 1;
		let size = leb(&wasm, &mut at);
		let end = at + size;
		if id == 0 {
			let mut p = at;
			let n = leb(&wasm, &mut p);
			if &wasm[p..p + n] == b"runtime_version" {
				p += n;
				// RuntimeVersion: spec_name, impl_name (compact-length strings),
				// authoring_version u32, spec_version u32, …
				for _ in 0..2 {
					let first = wasm[p];
					let (len, width) = match first & 3 {
						0 => (usize::from(first >> 2), 1),
						1 => (usize::from(u16::from_le_bytes([wasm[p], wasm[p + 1]]) >> 2), 2),
						_ => panic!("unexpected string length encoding"),
					};
					p += width + len;
				}
				p += 4;
				let v = u32::from_le_bytes(wasm[p..p + 4].try_into().unwrap()) + 1;
				wasm[p..p + 4].copy_from_slice(&v.to_le_bytes());
				return (compressed_wasm(&wasm, dir), v);
			}
		}
		at = end;
	}
	panic!("no runtime_version section in the runtime wasm");
}

fn spec_version(i: u16) -> u64 {
	common::rpc(9944 + i + OFFSET, "state_getRuntimeVersion", serde_json::json!([])).unwrap()["specVersion"]
		.as_u64()
		.unwrap()
}

fn has(v: &Value, key: &str, who: &str) -> bool {
	v[key].as_array().unwrap().iter().any(|a| a == who)
}

#[test]
fn a_new_validator_is_elected_rewards_are_paid_and_finality_survives() {
	let tmp = tempfile::tempdir().unwrap();
	let net = Net { dir: tmp.path().to_path_buf(), chain: spec(tmp.path()) };
	let out = net.script(&["start"]);
	assert!(
		out.status.success(),
		"start: {}\n{}",
		String::from_utf8_lossy(&out.stderr),
		net.logs()
	);

	let s = net.status();
	assert_eq!(s["session_validators"].as_array().unwrap().len(), 4, "{s}");
	assert_eq!(s["candidates"].as_array().unwrap().len(), 4, "{s}");
	assert_eq!(s["nominators"].as_array().unwrap().len(), 2, "{s}");
	let f0 = net.finalized();

	// Dave's node stops at once (his silent sessions then run alongside the rest
	// of the test): three of four validators keep finalizing (> 2/3).
	let out = net.script(&["stop-node", "dave"]);
	assert!(out.status.success());
	net.wait("finality with Dave down", Duration::from_secs(120), |v| {
		v["block"].as_u64().unwrap() >= f0 + 5
	});

	// A root referendum to upgrade the runtime: the call's preimage is noted,
	// ten holders vote aye with 900,000 AGR each (over half the issuance: the
	// root track's support curve starts at 50 %), the decision deposit is placed.
	let (wasm, new_version) = upgraded_wasm(&net.dir);
	let before = spec_version(0);
	assert_eq!(u64::from(new_version), before + 1);
	let p = agora_json(
		&ws(0),
		&["gov", "propose-upgrade", "--suri", "//Alice", "--wasm", wasm.to_str().unwrap()],
	);
	let upgrade = p[0]["referendum"].as_u64().unwrap().to_string();
	let voters: Vec<_> = [
		"Alice",
		"Bob",
		"Charlie",
		"Dave",
		"Eve",
		"Ferdie",
		"One",
		"Two",
		"Alice//stash",
		"Bob//stash",
	]
	.into_iter()
	.map(|who| {
		let idx = upgrade.clone();
		std::thread::spawn(move || {
			let suri = format!("//{who}");
			let (ok, out, err) = agora(
				&ws(0),
				&[
					"gov",
					"vote",
					"--suri",
					&suri,
					&idx,
					"aye",
					"--conviction",
					"1",
					"--amount",
					"900000",
				],
			);
			assert!(ok, "{who} voting: {out}{err}");
		})
	})
	.collect();
	for v in voters {
		v.join().unwrap();
	}
	let (ok, out, err) = agora(&ws(0), &["gov", "deposit", "--suri", "//Alice", &upgrade]);
	assert!(ok, "{out}{err}");

	// A fifth node bonds and validates; staking elects it at the next era.
	let out = net.script(&["add-validator", "eve"]);
	let stdout = String::from_utf8_lossy(&out.stdout);
	assert!(
		out.status.success(),
		"add-validator: {stdout}{}\n{}",
		String::from_utf8_lossy(&out.stderr),
		net.logs()
	);
	assert!(stdout.contains("bonded and validates"), "{stdout}");
	let s = net.status();
	assert!(
		has(&s, "candidates", EVE) && !has(&s, "session_validators", EVE),
		"a candidate, not yet elected: {s}"
	);
	let asked_in = s["active_era"].as_u64().unwrap();
	let s = net
		.wait("Eve to be elected", Duration::from_secs(240), |v| has(v, "session_validators", EVE));
	let elected_in = s["active_era"].as_u64().unwrap();
	assert!(
		elected_in > asked_in && elected_in <= asked_in + 2,
		"elected at the next era: {asked_in} -> {elected_in}"
	);
	// Eve's node authors blocks: she earns era points.
	net.wait("Eve to author a block", Duration::from_secs(180), |v| {
		v["points"]
			.as_array()
			.unwrap()
			.iter()
			.any(|p| p[0] == EVE && p[1].as_u64().unwrap() > 0)
	});

	// Era rewards: the last finished era's payout is reserved; paying out the
	// genesis validator with the most points in it pays the validator and the
	// nominator backing it.
	let s = net.status();
	let era = s["active_era"].as_u64().unwrap() - 1;
	assert!(planck(&s["last_era_reward"]) > 0, "{s}");
	let genesis = [ALICE, BOB, CHARLIE, DAVE];
	let (best, pts) = s["last_era_points"]
		.as_array()
		.unwrap()
		.iter()
		.filter(|p| genesis.iter().any(|g| p[0] == *g))
		.map(|p| (p[0].as_str().unwrap().to_string(), p[1].as_u64().unwrap()))
		.max_by_key(|(_, n)| *n)
		.unwrap();
	assert!(pts > 0, "{s}");
	let era_s = era.to_string();
	let claim = [
		"stake",
		"payout",
		"--suri",
		"//Ferdie",
		"--validator",
		best.as_str(),
		"--era",
		era_s.as_str(),
	];
	let p = agora_json(&ws(0), &claim);
	let rewards = p[0]["rewards"].as_array().unwrap();
	assert!(rewards.iter().any(|r| r[0] == best.as_str() && planck(&r[1]) > 0), "{}", p[0]);
	assert!(rewards.len() >= 2, "the validator and its nominator: {}", p[0]);
	// Paid once: a second claim for the same era fails.
	let (ok, _, err) = agora(&ws(0), &claim);
	assert!(!ok && err.contains("AlreadyClaimed"), "{err}");

	// The upgrade was enacted: every node runs the new version.
	let w = agora_json(&ws(0), &["gov", "status", &upgrade, "--wait"]);
	assert_eq!(w[0]["referendum"]["state"], "Approved", "{}", w[0]);
	assert_eq!(w[0]["enacted"], true, "{}", w[0]);
	for i in [0, 1, 2, 4] {
		assert_eq!(spec_version(i), before + 1, "node {i} runs the upgraded runtime");
	}

	// Dave, stopped since the start while in the set: having authored nothing
	// for six sessions (the fast-epoch threshold; three on realistic chains), he
	// is chilled by the runtime's liveness check and leaves the set at the next
	// election; the four online validators carry on finalizing.
	let s = net.wait("Dave to be chilled", Duration::from_secs(420), |v| !has(v, "candidates", DAVE));
	assert!(has(&s, "candidates", EVE), "{s}");
	net.wait("Dave to leave the set", Duration::from_secs(180), |v| {
		!has(v, "session_validators", DAVE)
	});
	let f2 = net.finalized();
	net.wait("finality without Dave", Duration::from_secs(120), |v| {
		v["block"].as_u64().unwrap() >= f2 + 5
	});
	assert!(net.finalized() > f0 + 20, "finality advanced throughout");
	// Every pallet's invariants (staking's ledgers and exposures among them)
	// hold after the election, payouts, upgrade and chill.
	assert_try_state(&ws(0));
}
