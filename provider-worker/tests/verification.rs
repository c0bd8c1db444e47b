//! Verification end to end (docs/protocol.md §6, issue 7): a local network of four
//! validators, each with its own verifier (`agora-worker verifier`, started by
//! `scripts/local-net.sh` with `AGORA_NET_VERIFIERS=1`), audits every receipt
//! (`AUDIT_RATE` = 100 % in this test's chain spec). Two workers serve: Eve
//! honestly, Ferdie with the test-only cheating switch (`--cheat wrong,overbill`,
//! compiled only with the `test-cheat` feature: a wrong text, a negated
//! embedding, then an honest answer billed at `max_tokens`). Every cheating
//! receipt is caught before payout and slashed, its client refunded; the honest
//! worker is never slashed, its sampled (T = 0.8) answer upheld; a dispute
//! against an honest receipt costs the challenger its bond.
#![cfg(feature = "test-cheat")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{agora, agora_json, assert_try_state, node_bin, planck};
use serde_json::Value;
use std::{
	path::{Path, PathBuf},
	process::{Child, Command, Stdio},
	time::{Duration, Instant},
};

const OFFSET: u16 = 800;
const AGR: u128 = 1_000_000_000_000;
const EVE: &str = "5HGjWAeFDfFCWPsjFQdVV2Msvz2XtMktvgocEZcCj68kUMaw";
const FERDIE: &str = "5CiPPseXPECbkjWCa6MnjNokrgYjMqmKndv2rSnekmSK2DjL";
const CHARLIE: &str = "5FLSigC9HGRKVhB9FiEo4Y3koPsNmBmLJbpXg2mp1hXcS59Y";
const DAVE: &str = "5DAAnrj7VHTznn2AWBemMuyBwZWs6FNFjdyVXUeYum3PTXFy";
const NAMES: [&str; 4] = ["alice", "bob", "charlie", "dave"];
/// The runtime's `DisputeWindow`.
const DISPUTE_WINDOW: u64 = 10;
const GEN: &str = "SmolLM2-135M-Instruct";
const EMB: &str = "all-MiniLM-L6-v2";

fn ws(i: u16) -> String {
	format!("ws://127.0.0.1:{}", 9944 + i + OFFSET)
}

/// The `local` chain spec, with every receipt audited and Eve and Ferdie bonded
/// as providers.
fn spec(dir: &Path) -> PathBuf {
	let out = Command::new(node_bin()).args(["build-spec", "--chain", "local"]).output().unwrap();
	assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
	let mut s: Value = serde_json::from_slice(&out.stdout).unwrap();
	let patch = &mut s["genesis"]["runtimeGenesis"]["patch"];
	patch["marketParams"]["params"] = serde_json::json!([["AUDIT_RATE", 1_000_000]]);
	patch["slashing"]["bonds"] = serde_json::json!([[EVE, 10_000 * AGR], [FERDIE, 10_000 * AGR]]);
	let path = dir.join("local-audited.json");
	std::fs::write(&path, serde_json::to_vec_pretty(&s).unwrap()).unwrap();
	path
}

struct Net {
	dir: PathBuf,
	chain: PathBuf,
	workers: Vec<(Child, PathBuf)>,
}

impl Net {
	fn script(&self, args: &[&str]) -> std::process::Output {
		let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/local-net.sh");
		Command::new("bash")
			.arg(script)
			.args(args)
			.env("AGORA_NODE", node_bin())
			.env("AGORA_WORKER", env!("CARGO_BIN_EXE_agora-worker"))
			.env("AGORA_NET_VERIFIERS", "1")
			.env("AGORA_CHAIN", &self.chain)
			.env("AGORA_NET_DIR", &self.dir)
			.env("AGORA_NET_PORT_OFFSET", OFFSET.to_string())
			.output()
			.unwrap()
	}

	fn logs(&self) -> String {
		let mut s = String::new();
		let mut files: Vec<PathBuf> = NAMES
			.iter()
			.flat_map(|n| [self.dir.join(format!("{n}.log")), self.dir.join(format!("{n}-verifier.log"))])
			.collect();
		files.extend(self.workers.iter().map(|(_, l)| l.clone()));
		for f in files {
			let text = std::fs::read_to_string(&f).unwrap_or_default();
			let lines: Vec<&str> = text.lines().collect();
			s.push_str(&format!("--- {}\n{}\n", f.display(), lines[lines.len().saturating_sub(12)..].join("\n")));
		}
		s
	}

	/// `agora-worker serve` for `who`, on Alice's node; waits until it serves.
	fn worker(&mut self, who: &str, cheat: Option<&str>) -> u16 {
		let port = common::free_port();
		let data = self.dir.join(format!("worker-{who}"));
		let log = self.dir.join(format!("worker-{who}.log"));
		let mut cmd = Command::new(env!("CARGO_BIN_EXE_agora-worker"));
		cmd.args(["serve", "--url", &ws(0), "--suri", &format!("//{who}"), "--no-progress"])
			.arg("--data-dir")
			.arg(&data)
			.args(["--listen", &format!("127.0.0.1:{port}"), "--endpoint", &format!("http://127.0.0.1:{port}")]);
		if let Some(c) = cheat {
			cmd.args(["--cheat", c]);
		}
		let child = cmd
			.env("RUST_LOG", "info")
			.env("NO_COLOR", "1")
			.stdout(Stdio::null())
			.stderr(std::fs::File::create(&log).unwrap())
			.spawn()
			.unwrap();
		self.workers.push((child, log.clone()));
		self.wait("the worker to serve", Duration::from_secs(180), || {
			std::fs::read_to_string(&log).unwrap_or_default().contains("serving")
		});
		port
	}

	fn wait(&self, what: &str, timeout: Duration, mut ok: impl FnMut() -> bool) {
		let t0 = Instant::now();
		while !ok() {
			assert!(t0.elapsed() < timeout, "timed out waiting for {what}\n{}", self.logs());
			std::thread::sleep(Duration::from_millis(500));
		}
	}
}

impl Drop for Net {
	fn drop(&mut self) {
		for (c, _) in &mut self.workers {
			let _ = c.kill();
			let _ = c.wait();
		}
		self.script(&["stop"]);
	}
}

fn curl(url: &str) -> Option<String> {
	let out = Command::new("curl").args(["-sf", "-m", "5", url]).output().ok()?;
	out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

fn best_block() -> u64 {
	let out = Command::new("curl")
		.args(["-s", "-m", "5", "-H", "Content-Type: application/json", "-d"])
		.arg(r#"{"id":1,"jsonrpc":"2.0","method":"chain_getHeader","params":[]}"#)
		.arg(format!("http://127.0.0.1:{}", 9944 + OFFSET))
		.output()
		.unwrap();
	let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
	u64::from_str_radix(v["result"]["number"].as_str().unwrap_or("0x0").trim_start_matches("0x"), 16).unwrap_or(0)
}

fn submit(client: &str, model: &str, input: &str, provider: &str) -> u64 {
	submit_with(client, model, input, provider, &[])
}

fn submit_with(client: &str, model: &str, input: &str, provider: &str, extra: &[&str]) -> u64 {
	let mut args = vec![
		"job", "submit", "--suri", client, "--model", model, "--input", input, "--max-tokens", "16",
		"--max-price", "1", "--provider", provider,
	];
	args.extend_from_slice(extra);
	let v = agora_json(&ws(0), &args);
	v[0]["job_id"].as_u64().unwrap()
}

fn status(id: u64) -> Value {
	agora_json(&ws(0), &["job", "status", &id.to_string()]).remove(0)
}

/// The same account, whatever SS58 prefix each address is written with.
fn same_account(a: &str, b: &str) -> bool {
	let parse = |s: &str| s.parse::<subxt::utils::AccountId32>().ok();
	parse(a).is_some() && parse(a) == parse(b)
}

fn stake(who: &str) -> u128 {
	let list = agora_json(&ws(0), &["provider", "list", "--model", GEN, "--sort", "stake"]);
	let row = list[0]
		.as_array()
		.unwrap()
		.iter()
		.find(|r| same_account(r["provider"].as_str().unwrap_or_default(), who))
		.cloned()
		.unwrap_or_else(|| panic!("{who} has no offer for {GEN}: {}", list[0]));
	planck(&row["stake"])
}

fn free(who: &str) -> u128 {
	planck(&agora_json(&ws(0), &["balance", who])[0]["free"])
}

#[test]
fn committees_catch_a_cheating_worker_and_uphold_an_honest_one() {
	let tmp = tempfile::tempdir().unwrap();
	let dir = tmp.path().to_path_buf();
	let chain = spec(&dir);
	let mut net = Net { dir: dir.clone(), chain, workers: vec![] };
	let out = net.script(&["start"]);
	assert!(out.status.success(), "start: {}\n{}", String::from_utf8_lossy(&out.stderr), net.logs());
	net.wait("four verifiers to load the models", Duration::from_secs(300), || {
		(0..4u16).all(|i| {
			curl(&format!("http://127.0.0.1:{}/health", 8800 + i + OFFSET))
				.is_some_and(|h| h.contains(GEN) && h.contains(EMB))
		})
	});
	net.worker("Eve", None);
	net.worker("Ferdie", Some("wrong,overbill"));
	let (eve0, ferdie0) = (stake(EVE), stake(FERDIE));
	assert_eq!((eve0, ferdie0), (10_000 * AGR, 10_000 * AGR));

	// A dispute against an honest receipt, filed as soon as the receipt is on
	// chain: the committee upholds it and the challenger loses its bond.
	let honest = submit("//Charlie", GEN, "What is the capital of France?", EVE);
	net.wait("the honest receipt", Duration::from_secs(120), || status(honest).get("receipt").is_some());
	let dave0 = free(DAVE);
	let v = agora_json(&ws(0), &["job", "dispute", &honest.to_string(), "--suri", "//Dave", "--wait"]);
	let verdict = v.last().unwrap();
	assert_eq!(verdict["verdict"], "upheld", "{verdict}\n{}", net.logs());
	let to_eve = planck(&verdict["bond_to_provider"]);
	let to_treasury = planck(&verdict["bond_to_treasury"]);
	assert_eq!(to_eve + to_treasury, 10 * AGR, "DISPUTE_BOND is 10 AGR");
	let dave_paid = dave0 - free(DAVE);
	assert!((10 * AGR..10 * AGR + AGR / 10).contains(&dave_paid), "Dave lost the bond (+ fees): {dave_paid}");
	let votes = verdict["votes"].as_array().unwrap();
	assert!(votes.len() >= 2 && votes.iter().all(|x| x["vote"] == "Valid"), "{verdict}");
	let h = agora_json(&ws(0), &["job", "status", &honest.to_string(), "--wait-finalized"]).remove(0);
	assert_eq!(h["status"], "Finalized", "{h}");

	// Ferdie cheats on a generation and an embedding; Eve answers an embedding.
	let charlie0 = free(CHARLIE);
	let cheat_gen = submit("//Charlie", GEN, "Name three colours.", FERDIE);
	let cheat_emb = submit("//Charlie", EMB, "The cat sits on the mat.", FERDIE);
	let honest_emb = submit("//Charlie", EMB, "The cat sits on the mat.", EVE);
	let mut charges = 0u128;
	for (id, cheat) in [(cheat_gen, true), (cheat_emb, true), (honest_emb, false)] {
		let mut seen_at = None;
		net.wait(&format!("a verdict on job {id}"), Duration::from_secs(240), || {
			let s = status(id);
			let done = matches!(s["status"].as_str(), Some("Fraud" | "Finalized"));
			if done {
				seen_at = Some((best_block(), s));
			}
			done
		});
		let (seen, s) = seen_at.unwrap();
		let at = s["receipt"]["at"].as_u64().unwrap();
		if cheat {
			assert_eq!(s["status"], "Fraud", "cheating job {id}: {s}\n{}", net.logs());
			assert!(s["charge"].is_null(), "never paid: {s}");
			println!("job {id}: receipt at block {at}, Fraud seen by block {seen} (window ends at {})", at + DISPUTE_WINDOW);
			assert!(seen <= at + DISPUTE_WINDOW, "caught within the dispute window: receipt {at}, verdict by {seen}");
		} else {
			let f = agora_json(&ws(0), &["job", "status", &id.to_string(), "--wait-finalized"]).remove(0);
			assert_eq!(f["status"], "Finalized", "{f}");
			charges += planck(&f["charge"]);
		}
	}
	// Charlie paid only Eve's charge (and fees): Ferdie's two jobs (1 AGR each
	// held) were refunded in full.
	let paid = charlie0 - free(CHARLIE);
	assert!((charges..charges + AGR / 10).contains(&paid), "Charlie paid {paid}, charges {charges}");

	// Ferdie's next generation is the honest answer billed at max_tokens (16)
	// though it stops sooner; Eve samples at T = 0.8 with the job's on-chain
	// seed. The committee re-derives the Gumbel noise and upholds Eve, and finds
	// that Ferdie's ids do not make up the count he billed.
	let short = "Answer with one word: what colour is the sky on a clear day?";
	let overbilled = submit_with("//Alice", GEN, short, FERDIE, &[]);
	let sampled = submit_with("//Alice", GEN, "Tell me a fun fact about cats.", EVE, &["--temperature", "0.8"]);
	for (id, cheat) in [(overbilled, true), (sampled, false)] {
		net.wait(&format!("a verdict on job {id}"), Duration::from_secs(240), || {
			matches!(status(id)["status"].as_str(), Some("Fraud" | "Finalized"))
		});
		let s = status(id);
		let want = if cheat { "Fraud" } else { "Finalized" };
		assert_eq!(s["status"], want, "job {id}: {s}\n{}", net.logs());
		if cheat {
			let out = agora_json(&ws(0), &["job", "output", &id.to_string()]).remove(0);
			assert_eq!(out["billing_matches"], false, "{out}");
			assert!(s["receipt"]["output_tokens"].as_u64() == Some(16), "{s}");
		} else {
			assert_eq!(s["params"]["temperature_milli"], 800, "{s}");
		}
	}
	// Slashed FRAUD_SLASH (50 %) per fraud: 10,000 → 5,000 → 2,500 → 1,250 AGR. Eve never.
	assert_eq!(stake(FERDIE), ferdie0 / 8, "{}", net.logs());
	assert_eq!(stake(EVE), eve0);

	let (ok, out, err) = agora(&ws(0), &["job", "dispute", &cheat_gen.to_string(), "--suri", "//Dave"]);
	assert!(!ok, "a dispute on a judged job is refused: {out}");
	assert!(err.contains("InvalidState"), "{err}");
	// What each validator's verifier did (for docs/benchmarks.md).
	for n in NAMES {
		let log = std::fs::read_to_string(dir.join(format!("{n}-verifier.log"))).unwrap_or_default();
		for l in log.lines().filter(|l| l.contains("checked")) {
			println!("{n}'s verifier: {}", l.split_once("checked").map(|(_, b)| b).unwrap_or(l).trim());
		}
	}
	// Every pallet's invariants hold after the frauds, slashes and disputes.
	assert_try_state(&ws(0));
	println!("verification e2e: passed");
}
