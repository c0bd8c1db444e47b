//! The throughput benchmark's load generator (`agora-load`,
//! `scripts/bench-throughput.sh`) against a dev node, small: 4 clients with 4
//! transactions in flight each, 9 s per phase, Bob and one load provider (bonded
//! and given an offer by the generator). Shown: every transfer it sent and
//! every job it ordered is counted in a finalized block (each job paid out
//! after a receipt from the scripted provider), no transaction failed or was
//! refused, no job expired and none is left open; afterwards every pallet's
//! `try_state` passes and the issuance equals what the accounts hold. Rates are printed, never
//! asserted (a benchmark, not a timed test); `docs/benchmarks.md` has the
//! release-build numbers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use common::{load_bin, wait_ready, Node};
use serde_json::Value;
use std::process::Command;

#[test]
fn load_generator_counts_every_transfer_and_job_cycle_it_drives() {
	let node = Node::start();
	// A loaded machine can take a minute or more to open the node's RPC:
	// agora-load's own patience is for a node that is already up.
	wait_ready(&node);
	let dir = tempfile::tempdir().unwrap();
	let report = dir.path().join("throughput.json");
	let out = Command::new(load_bin())
		.args(["--url", &node.url(), "--clients", "4", "--window", "4", "--relayers", "2", "--seconds", "9"])
		.args(["--providers", "2"])
		.arg("--json")
		.arg(&report)
		.output()
		.expect("agora-load runs");
	let stderr = String::from_utf8_lossy(&out.stderr);
	assert!(out.status.success(), "agora-load failed:\n{stderr}");
	eprintln!("{stderr}");
	let r: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();

	let t = &r["transfers"];
	let sent = t["submitted"].as_u64().unwrap();
	assert!(sent >= 16, "at least one window of transfers per client: {t}");
	assert_eq!(t["total"].as_u64(), Some(sent), "every transfer sent is counted final: {t}");
	assert_eq!(t["failed"], serde_json::json!({}), "{t}");
	assert!(t["per_second"].as_f64().unwrap() > 0.0, "{t}");

	let j = &r["job_cycles"];
	let ordered = j["submitted"].as_u64().unwrap();
	assert!(ordered >= 16, "at least one window of orders per client: {j}");
	assert_eq!(j["receipts_submitted"].as_u64(), Some(ordered), "one receipt per order: {j}");
	assert_eq!(j["total"].as_u64(), Some(ordered), "every ordered job is paid out in a finalized block: {j}");
	assert_eq!(j["expired"].as_u64(), Some(0), "{j}");
	assert_eq!(j["open_at_end"].as_u64(), Some(0), "{j}");
	assert_eq!(j["failed"], serde_json::json!({}), "{j}");
	assert!(j["per_second"].as_f64().unwrap() > 0.0, "{j}");
	assert!(r["transfers_per_job_cycle"].as_f64().unwrap() > 0.0, "{r}");
	assert_eq!(j["audits_started"].as_u64(), Some(0), "the dev chain audits nothing: {j}");

	// `--audit-rate` (bench-throughput.sh's AUDIT_RATE): a rate under the
	// governed floor (1 %) is refused by the chain and the run stops with its
	// error; a valid one is set, read back and reported.
	let run = |ppm: &str| {
		Command::new(load_bin())
			.args(["--url", &node.url(), "--clients", "2", "--window", "2", "--relayers", "1", "--seconds", "3"])
			.args(["--phases", "transfers", "--audit-rate", ppm, "--json"])
			.arg(&report)
			.output()
			.expect("agora-load runs")
	};
	let out = run("5000");
	let stderr = String::from_utf8_lossy(&out.stderr);
	assert!(!out.status.success(), "{stderr}");
	assert!(stderr.contains("AUDIT_RATE 5000 refused: MarketParams::BelowMinimum"), "{stderr}");
	let out = run("20000");
	let stderr = String::from_utf8_lossy(&out.stderr);
	assert!(out.status.success(), "{stderr}");
	assert!(stderr.contains("AUDIT_RATE set to 20000 ppm"), "{stderr}");
	let r: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
	assert_eq!(r["audit_rate"].as_u64(), Some(20_000), "{r}");
	// The load's hundreds of transfers and job cycles minted and burned
	// nothing outside the issuance's books; every pallet's invariants hold.
	common::assert_try_state(&node.url());
}
