//! Chaos on the 4-validator local network (`scripts/local-net.sh`), under load.
//! Three clients keep ordering embedding jobs from Eve's worker (batches of
//! jobs signed with consecutive nonces) while:
//! - Dave's validator is SIGKILLed (no clean shutdown) and, a minute later,
//!   restarted on its database;
//! - Eve's worker is SIGKILLed with jobs assigned to it and not yet receipted,
//!   and restarted on its data directory.
//!
//! Shown: finality goes on with Dave down (3 of 4) and Dave catches up after
//! his restart and finalizes with the rest; every job ordered ends `Finalized`
//! and paid: none expires, so Eve (honest, only killed) is never slashed; no
//! job is run twice (one `inference done` per job over both of the worker's
//! runs); every pallet's invariants hold at the end (escrow held = Σ open
//! jobs' max price).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use common::{agora_json, assert_try_state, net};
use std::{
	collections::HashMap,
	path::{Path, PathBuf},
	process::{Child, Command, Stdio},
	time::{Duration, Instant},
};

const OFFSET: u16 = 1000;
const AGR: u128 = 1_000_000_000_000;
const EVE: &str = "5HGjWAeFDfFCWPsjFQdVV2Msvz2XtMktvgocEZcCj68kUMaw";
const NAMES: [&str; 4] = ["alice", "bob", "charlie", "dave"];
const CLIENTS: [&str; 3] = ["//Charlie", "//Ferdie", "//One"];
const EMB: &str = "all-MiniLM-L6-v2";

fn ws(i: u16) -> String {
	format!("ws://127.0.0.1:{}", 9944 + i + OFFSET)
}

/// The `local` chain spec with Eve bonded as a provider, loopback endpoints
/// allowed (the worker listens on loopback) and no audits (this test is about
/// liveness; the verification test audits every receipt).
fn spec(dir: &Path) -> PathBuf {
	net::local_spec(dir, "local-chaos.json", |patch| {
		patch["marketParams"]["params"] = serde_json::json!([["AUDIT_RATE", 0]]);
		patch["models"]["privateEndpoints"] = true.into();
		patch["slashing"]["bonds"] = serde_json::json!([[EVE, 10_000 * AGR]]);
	})
}

struct Net {
	dir: PathBuf,
	chain: PathBuf,
	worker: Option<Child>,
	worker_runs: u32,
	worker_port: u16,
}

impl Net {
	fn script(&self, args: &[&str]) -> std::process::Output {
		net::local_net(&self.dir, &self.chain, OFFSET, false, args)
	}

	fn worker_log(&self, run: u32) -> PathBuf {
		self.dir.join(format!("worker-eve-{run}.log"))
	}

	fn logs(&self) -> String {
		let nodes = NAMES.iter().map(|n| self.dir.join(format!("{n}.log")));
		net::tails(nodes.chain((1..=self.worker_runs).map(|r| self.worker_log(r))))
	}

	/// Eve's `agora-worker serve` on Alice's node, on the same data directory
	/// and port each run; waits until it serves.
	fn start_worker(&mut self) {
		self.worker_runs += 1;
		let log = self.worker_log(self.worker_runs);
		let child = Command::new(env!("CARGO_BIN_EXE_agora-worker"))
			.args(["serve", "--url", &ws(0), "--suri", "//Eve", "--no-progress", "--data-dir"])
			.arg(self.dir.join("worker-eve"))
			.args(["--listen", &format!("127.0.0.1:{}", self.worker_port)])
			.args(["--endpoint", &format!("http://127.0.0.1:{}", self.worker_port)])
			// Room for every job ordered at once; four run at a time.
			.args(["--capacity", "48", "--concurrency", "4"])
			.env("RUST_LOG", "info")
			.env("NO_COLOR", "1")
			.stdout(Stdio::null())
			.stderr(std::fs::File::create(&log).unwrap())
			.spawn()
			.unwrap();
		self.worker = Some(child);
		self.wait("the worker to serve", Duration::from_secs(180), |n| n.worker_text(n.worker_runs).contains("serving"));
	}

	fn worker_text(&self, run: u32) -> String {
		std::fs::read_to_string(self.worker_log(run)).unwrap_or_default()
	}

	/// SIGKILL: no clean shutdown.
	fn kill_worker(&mut self) {
		if let Some(mut c) = self.worker.take() {
			c.kill().unwrap();
			c.wait().unwrap();
		}
	}

	/// SIGKILL a validator's node (the script's `stop-node` is a clean SIGTERM).
	fn kill_node(&self, name: &str) {
		let pidf = self.dir.join(format!("{name}.pid"));
		let pid = std::fs::read_to_string(&pidf).unwrap().trim().to_string();
		let st = Command::new("kill").args(["-KILL", &pid]).status().unwrap();
		assert!(st.success(), "kill -KILL {pid}");
		// Gone before it is restarted on the same database.
		self.wait(&format!("{name} to die"), Duration::from_secs(20), |_| {
			!Command::new("kill").args(["-0", &pid]).stderr(Stdio::null()).status().unwrap().success()
		});
	}

	fn finalized(&self, i: u16) -> Option<u64> {
		common::finalized_number(9944 + i + OFFSET).ok()
	}

	fn wait(&self, what: &str, timeout: Duration, mut ok: impl FnMut(&Self) -> bool) {
		let t0 = Instant::now();
		while !ok(self) {
			assert!(t0.elapsed() < timeout, "timed out waiting for {what}\n{}", self.logs());
			std::thread::sleep(Duration::from_millis(500));
		}
	}
}

impl Drop for Net {
	fn drop(&mut self) {
		self.kill_worker();
		self.script(&["stop"]);
	}
}

/// Each client orders `n` embedding jobs from Eve in one batch (consecutive
/// nonces), all at once; returns the job ids.
fn load(dir: &Path, round: u32, n: usize) -> Vec<u64> {
	let handles: Vec<_> = CLIENTS
		.iter()
		.enumerate()
		.map(|(c, who)| {
			let file = dir.join(format!("inputs-{round}-{c}.txt"));
			let lines: Vec<String> = (0..n).map(|k| format!("Round {round}, client {c}, request {k}.")).collect();
			std::fs::write(&file, lines.join("\n")).unwrap();
			let who = who.to_string();
			std::thread::spawn(move || {
				let v = agora_json(
					&ws(0),
					&[
						"job", "submit", "--suri", &who, "--model", EMB, "--input-file", file.to_str().unwrap(),
						"--each-line", "--max-tokens", "1", "--max-price", "1", "--provider", EVE,
					],
				);
				v.iter().map(|j| j["job_id"].as_u64().unwrap()).collect::<Vec<_>>()
			})
		})
		.collect();
	handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
}

fn eve_stake() -> u128 {
	common::provider_stake(&ws(0), EMB, EVE).unwrap_or_else(|| panic!("Eve has no offer of {EMB}"))
}

fn status(id: u64) -> String {
	agora_json(&ws(0), &["job", "status", &id.to_string()])[0]["status"].as_str().unwrap().to_string()
}

#[test]
fn jobs_survive_a_killed_validator_and_a_killed_worker_under_load() {
	let tmp = tempfile::tempdir().unwrap();
	let mut net = Net {
		dir: tmp.path().to_path_buf(),
		chain: spec(tmp.path()),
		worker: None,
		worker_runs: 0,
		worker_port: common::free_port(),
	};
	let out = net.script(&["start"]);
	assert!(out.status.success(), "start: {}\n{}", String::from_utf8_lossy(&out.stderr), net.logs());
	net.start_worker();
	let stake0 = eve_stake();

	// Load, and Dave's node killed while it runs.
	let mut jobs = load(&net.dir, 1, 5);
	let f0 = net.finalized(0).unwrap();
	net.kill_node("dave");
	// The worker is killed as soon as it has stored its first output (its job
	// record): other jobs are then running, waiting to run, or computed and
	// not yet stored or receipted.
	let records = net.dir.join("worker-eve/jobs");
	let record = |id: &u64| records.join(format!("{id}.json"));
	net.wait("the worker's first stored output", Duration::from_secs(120), |_| jobs.iter().any(|id| record(id).exists()));
	net.kill_worker();
	let first_run = net.worker_text(1);
	let stored: Vec<u64> = jobs.iter().copied().filter(|id| record(id).exists()).collect();
	let count = |what: &str| jobs.iter().filter(|id| first_run.contains(&format!("{what} job={id} "))).count();
	let (computed, receipted) = (count("inference done"), count("receipt final"));
	assert!(!stored.is_empty() && receipted < jobs.len(), "killed mid-work:\n{first_run}");
	// More orders while the worker is down and Dave too.
	jobs.extend(load(&net.dir, 2, 3));
	net.wait("finality with Dave down", Duration::from_secs(120), |n| n.finalized(0).is_some_and(|f| f >= f0 + 6));

	// The worker comes back on its data directory, then Dave on his database.
	net.start_worker();
	let out = net.script(&["start-node", "dave"]);
	assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
	jobs.extend(load(&net.dir, 3, 3));

	// Every job is answered and paid: none expires, nobody is slashed.
	// (Each job is read until it ends, and not after.)
	let mut ends: HashMap<u64, String> = HashMap::new();
	net.wait("every job to end", Duration::from_secs(480), |_| {
		for id in &jobs {
			if !ends.contains_key(id) {
				let s = status(*id);
				if matches!(s.as_str(), "Assigned" | "Acknowledged" | "Receipted") {
					return false;
				}
				ends.insert(*id, s);
			}
		}
		true
	});
	assert!(ends.values().all(|s| s == "Finalized"), "every job finalized: {ends:?}\n{}", net.logs());
	assert_eq!(eve_stake(), stake0, "Eve was never slashed");

	// Nothing stored is computed again: a job whose output was stored before
	// the kill is not rerun; one computed but not yet stored when the worker
	// died (the crash window between inference and record) runs once more;
	// every other job runs once.
	let later: String = (2..=net.worker_runs).map(|r| net.worker_text(r)).collect();
	let mut rerun = 0;
	for id in &jobs {
		let done = format!("inference done job={id} ");
		let (before, after) = (first_run.matches(&done).count(), later.matches(&done).count());
		if stored.contains(id) {
			assert_eq!((before, after), (1, 0), "job {id}: stored before the kill, yet it ran again");
		} else {
			assert!(before <= 1 && after == 1, "job {id} ran {before} + {after} times");
			rerun += before;
		}
	}
	// Dave caught up and finalizes with the others.
	let f1 = net.finalized(0).unwrap();
	net.wait("Dave to finalize with the rest", Duration::from_secs(180), |n| n.finalized(3).is_some_and(|f| f >= f1));
	eprintln!(
		"{} jobs finalized; at the worker's kill {computed} computed, {} stored, {receipted} receipted; {rerun} computed but not stored, so run again; finalized {f0} -> {}",
		jobs.len(),
		stored.len(),
		net.finalized(0).unwrap()
	);
	assert_try_state(&ws(0));
}
