//! Verification end to end (docs/protocol.md §6, issue 7): a local network of four
//! validators, each with its own verifier (`agora-worker verifier`, started by
//! `scripts/local-net.sh` with `AGORA_NET_VERIFIERS=1`), audits every receipt
//! (`AUDIT_RATE` = 100 % in this test's chain spec). Two workers serve: Eve
//! honestly, Ferdie with the test-only cheating switch
//! (`--cheat wrong,overbill,input-missing`, compiled only with the `test-cheat`
//! feature: a wrong text, a negated embedding, then an honest answer billed at
//! `max_tokens`; and every by-hash input reported missing, delivered or not).
//! Every cheating receipt is caught before payout and slashed, its client
//! refunded; the honest worker is never slashed, its sampled (T = 0.8) answer
//! upheld; a dispute against an honest receipt costs the challenger its bond; a
//! false "input missing" is contested with the worker's own upload receipt.
//!
//! A channel-paid answer is checked the same way: //Two opens a channel to
//! Ferdie, buys one chat completion off-chain (Ferdie's worker answers it
//! wrongly and signs a served receipt), and disputes the receipt with
//! `agora channel dispute`: the committee finds fraud from the bytes on chain,
//! //Two gets the price back out of Ferdie's bond and Ferdie is slashed.
//!
//! A third provider, //One, computes honestly but advertises an endpoint that
//! answers every request with headers (`Content-Length: 1000`) and then
//! stalls: its check costs each member one bounded fetch per try, its
//! receipt ends as withholding once the members' tries over the window all
//! fail, and the checks of the jobs ordered beside and after it still get
//! their verdicts from the same validators.
#![cfg(feature = "test-cheat")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{agora, agora_json, assert_try_state, planck};
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
const NAMES: [&str; 4] = ["alice", "bob", "charlie", "dave"];
/// The runtime's `DisputeWindow`.
const DISPUTE_WINDOW: u64 = 10;
/// The runtime's `AuditDelay`: blocks from a receipt to its audit draw.
const AUDIT_DELAY: u64 = 2;
const GEN: &str = "SmolLM2-135M-Instruct";
const EMB: &str = "all-MiniLM-L6-v2";

fn ws(i: u16) -> String {
	format!("ws://127.0.0.1:{}", 9944 + i + OFFSET)
}

/// The account of a dev secret URI.
fn addr(suri: &str) -> String {
	let k = agora_client::chain::keypair(Some(suri), None).unwrap();
	agora_client::chain::account(&k).to_string()
}

/// //One's account.
fn one() -> String {
	addr("//One")
}

/// An HTTP endpoint that answers every request with a 200 status and
/// `Content-Length: 1000`, sends 3 bytes of body and then nothing for two
/// minutes (the attack on a validator's off-chain worker).
fn staller() -> u16 {
	use std::io::{Read, Write};
	let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
	let port = l.local_addr().unwrap().port();
	std::thread::spawn(move || {
		for mut c in l.incoming().flatten() {
			std::thread::spawn(move || {
				let mut buf = [0u8; 4096];
				let _ = c.read(&mut buf);
				let _ = c.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n{\"t");
				let _ = c.flush();
				std::thread::sleep(Duration::from_secs(120));
			});
		}
	});
	port
}

/// The `local` chain spec, with every receipt audited, Eve, Ferdie and //One
/// bonded as providers, and loopback endpoints allowed.
fn spec(dir: &Path) -> PathBuf {
	common::net::local_spec(dir, "local-audited.json", |patch| {
		patch["marketParams"]["params"] = serde_json::json!([["AUDIT_RATE", 1_000_000]]);
		// The workers listen on loopback, which only a dev chain takes by default.
		patch["models"]["privateEndpoints"] = true.into();
		patch["slashing"]["bonds"] =
			serde_json::json!([[EVE, 10_000 * AGR], [FERDIE, 10_000 * AGR], [one(), 10_000 * AGR]]);
	})
}

struct Net {
	dir: PathBuf,
	chain: PathBuf,
	workers: Vec<(Child, PathBuf)>,
}

impl Net {
	fn script(&self, args: &[&str]) -> std::process::Output {
		common::net::local_net(&self.dir, &self.chain, OFFSET, true, args)
	}

	fn logs(&self) -> String {
		let mut files: Vec<PathBuf> = NAMES
			.iter()
			.flat_map(|n| [self.dir.join(format!("{n}.log")), self.dir.join(format!("{n}-verifier.log"))])
			.collect();
		files.extend(self.workers.iter().map(|(_, l)| l.clone()));
		common::net::tails(files)
	}

	/// `agora-worker serve` for `who`, on Alice's node; waits until it serves.
	/// Its offer advertises `endpoint` (default: where it listens).
	fn worker(&mut self, who: &str, cheat: Option<&str>, endpoint: Option<String>) -> u16 {
		let port = common::free_port();
		let data = self.dir.join(format!("worker-{who}"));
		let log = self.dir.join(format!("worker-{who}.log"));
		let endpoint = endpoint.unwrap_or_else(|| format!("http://127.0.0.1:{port}"));
		let mut cmd = Command::new(env!("CARGO_BIN_EXE_agora-worker"));
		cmd.args(["serve", "--url", &ws(0), "--suri", &format!("//{who}"), "--no-progress"])
			.arg("--data-dir")
			.arg(&data)
			.args(["--listen", &format!("127.0.0.1:{port}"), "--endpoint", &endpoint]);
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

/// A provider's bond, as `agora provider list` shows it beside any of its
/// offers (the generation model's, or the embedding model's once the other
/// is closed).
fn stake(who: &str) -> u128 {
	let mut seen = vec![];
	for model in [GEN, EMB] {
		let list = agora_json(&ws(0), &["provider", "list", "--model", model, "--sort", "stake"]);
		if let Some(row) = list[0]
			.as_array()
			.unwrap()
			.iter()
			.find(|r| same_account(r["provider"].as_str().unwrap_or_default(), who))
		{
			return planck(&row["stake"]);
		}
		seen.push(list[0].clone());
	}
	panic!("{who} has no offer: {seen:?}")
}

/// `agora --json …` with the client's lane store in `state` (not the user's).
fn agora_in(state: &Path, args: &[&str]) -> Value {
	let out = Command::new(common::client_bin())
		.args(["--url", &ws(0), "--json"])
		.args(args)
		.env("AGORA_STATE", state)
		.env("NO_COLOR", "1")
		.output()
		.unwrap();
	let text = String::from_utf8_lossy(&out.stdout).into_owned();
	assert!(out.status.success(), "agora {args:?} failed:\n{}\n{text}", String::from_utf8_lossy(&out.stderr));
	serde_json::from_str(text.lines().rfind(|l| l.starts_with('{')).unwrap()).unwrap()
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
	net.worker("Eve", None, None);
	net.worker("Ferdie", Some("wrong,overbill,input-missing"), None);
	net.worker("One", None, Some(format!("http://127.0.0.1:{}", staller())));
	let one = one();
	let (eve0, ferdie0, one0) = (stake(EVE), stake(FERDIE), stake(&one));
	assert_eq!((eve0, ferdie0, one0), (10_000 * AGR, 10_000 * AGR, 10_000 * AGR));

	// A dispute against an honest receipt, filed as soon as the receipt is on
	// chain by //Two (not a validator: a validator drawn for the receipt's
	// audit could not also dispute it): the committee upholds it and the
	// challenger loses its bond.
	let honest = submit("//Charlie", GEN, "What is the capital of France?", EVE);
	net.wait("the honest receipt", Duration::from_secs(120), || status(honest).get("receipt").is_some());
	let two = addr("//Two");
	let two0 = free(&two);
	let v = agora_json(&ws(0), &["job", "dispute", &honest.to_string(), "--suri", "//Two", "--wait"]);
	let verdict = v.last().unwrap();
	assert_eq!(verdict["verdict"], "upheld", "{verdict}\n{}", net.logs());
	let to_eve = planck(&verdict["bond_to_provider"]);
	let to_treasury = planck(&verdict["bond_to_treasury"]);
	assert_eq!(to_eve + to_treasury, 10 * AGR, "DISPUTE_BOND is 10 AGR");
	let two_paid = two0 - free(&two);
	assert!((10 * AGR..10 * AGR + AGR / 10).contains(&two_paid), "//Two lost the bond (+ fees): {two_paid}");
	let votes = verdict["votes"].as_array().unwrap();
	assert!(votes.len() >= 2 && votes.iter().all(|x| x["vote"] == "Valid"), "{verdict}");
	let h = agora_json(&ws(0), &["job", "status", &honest.to_string(), "--wait-finalized"]).remove(0);
	assert_eq!(h["status"], "Finalized", "{h}");

	// //One's endpoint stalls every fetch; the checks ordered beside it (and
	// after it) must not wait for it.
	let stalled = submit("//Bob", GEN, "Name a planet.", &one);
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
			// Drawn AUDIT_DELAY blocks after the receipt; judged within a dispute
			// window of the draw. `seen` is when this test's poll saw the verdict:
			// each poll runs the `agora` CLI, which on 2 loaded cores (tests side by
			// side) can take a block or two, so the bound allows SEEN_SLACK blocks
			// of observation (a fresh-clone run saw the verdict at window end + 1).
			const SEEN_SLACK: u64 = 2;
			assert!(
				seen <= at + AUDIT_DELAY + DISPUTE_WINDOW + SEEN_SLACK,
				"caught within a window of the draw: receipt {at}, verdict by {seen}"
			);
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
			let out = agora_json(&ws(0), &["job", "output", &id.to_string(), "--suri", "//Alice"]).remove(0);
			assert_eq!(out["billing_matches"], false, "{out}");
			assert!(s["receipt"]["output_tokens"].as_u64() == Some(16), "{s}");
		} else {
			assert_eq!(s["params"]["temperature_milli"], 800, "{s}");
		}
	}
	// Slashed FRAUD_SLASH (50 %) per fraud: 10,000 → 5,000 → 2,500 → 1,250 AGR. Eve never.
	assert_eq!(stake(FERDIE), ferdie0 / 8, "{}", net.logs());
	assert_eq!(stake(EVE), eve0);

	// A by-hash input Ferdie's worker takes (and signs for), then reports
	// missing all the same. //Two's client, waiting on the job, contests the
	// report with the worker's upload receipt: the charge comes back out of
	// Ferdie's bond, Ferdie is slashed MISSED_DEADLINE_SLASH (1 %) of the rest.
	let (ferdie1, two_before) = (stake(FERDIE), free(&two));
	let (ok, out, err) = agora(
		&ws(0),
		&[
			"--json", "job", "submit", "--suri", "//Two", "--model", EMB, "--input", "The cat sits on the mat.",
			"--by-hash", "--max-price", "1", "--provider", FERDIE, "--deadline-blocks", "16", "--wait",
		],
	);
	assert!(!ok && err.contains("contested"), "the client contests and says so:\n{err}\n{out}\n{}", net.logs());
	let lines: Vec<Value> = out.lines().filter(|l| l.starts_with('{')).map(|l| serde_json::from_str(l).unwrap()).collect();
	let job = lines[0]["job_id"].as_u64().unwrap();
	assert!(lines.iter().any(|l| l["event"] == "uploaded" && l["upload_receipt"].as_str().is_some_and(|h| h.len() == 130)), "{out}");
	let contested = lines.iter().find(|l| l["event"] == "input_report_contested").unwrap_or_else(|| panic!("{out}"));
	let compensated = planck(&contested["compensated"]);
	let slashed = planck(&contested["slashed"]);
	let s = status(job);
	assert_eq!(s["status"], "Fraud", "{s}");
	assert!(compensated > 0 && compensated == planck(&s["charge"]), "the charge for the miss comes back: {contested} {s}");
	assert_eq!(slashed, (ferdie1 - compensated) / 100, "{contested}");
	net.wait("Ferdie's bond to show the slash", Duration::from_secs(30), || stake(FERDIE) == ferdie1 - compensated - slashed);
	// //Two paid nothing but the two calls' fees: escrow back, charge back.
	let paid = two_before as i128 - free(&two) as i128;
	assert!((0..AGR as i128 / 10).contains(&paid), "//Two paid {paid}");
	let ferdie_log = std::fs::read_to_string(dir.join("worker-Ferdie.log")).unwrap_or_default();
	assert!(ferdie_log.contains("reporting a delivered input missing"), "{}", net.logs());

	// Off-chain, paid through a channel: Ferdie's worker answers //Two's chat
	// wrongly (test builds apply `--cheat`'s first to paid answers) with a
	// served receipt //Two's client checks and keeps; //Two disputes it.
	let state = dir.join("two-client");
	let ch = agora_in(&state, &["channel", "open", "--to", FERDIE, "--value", "5", "--suri", "//Two"]);
	let ch = ch["id"].as_u64().unwrap().to_string();
	let answer = agora_in(&state, &["channel", "chat", "--id", &ch, "--model", GEN, "--max-tokens", "16", "--suri", "//Two", "Name three colours."]);
	let price = planck(&answer["price"]);
	let nonce = answer["voucher"]["nonce"].as_u64().unwrap().to_string();
	assert!(answer["output"]["text"].as_str().unwrap().contains("Purple elephants"), "{answer}");
	// Read before the closing: nothing moves them until the dispute (chatting
	// moves no funds on chain, and closing an offer returns its deposit, not
	// the provider's stake).
	let (ferdie1, two1) = (stake(FERDIE), free(&two));
	// The dodge: Ferdie closes the offer that signed the answer before //Two
	// disputes it. The closed offer's signer is kept (OfferRetention), so the
	// dispute still names it.
	let offer = answer["offer_id"].as_u64().unwrap_or_else(|| panic!("no offer id in {answer}"));
	let closed = agora(&ws(0), &["provider", "close-offer", "--id", &offer.to_string(), "--suri", "//Ferdie"]);
	assert!(closed.0, "Ferdie closes offer {offer}: {} {}", closed.1, closed.2);
	let d = agora_in(&state, &["channel", "dispute", "--id", &ch, "--nonce", &nonce, "--suri", "//Two"]);
	let check = d["check_id"].as_u64().unwrap();
	assert!(check >= 1 << 63, "served checks have their own ids: {d}");
	// The stake is read at the best block, balances at the finalized one: wait for both.
	net.wait("the served receipt's verdict", Duration::from_secs(240), || stake(FERDIE) < ferdie1 && free(&two) > two1);
	// The price back to //Two out of Ferdie's bond, then FRAUD_SLASH of the rest;
	// //Two's bond (10 AGR) returned with CHALLENGER_REWARD (20 %) of that slash.
	let slash = (ferdie1 - price) / 2;
	assert_eq!(stake(FERDIE), ferdie1 - price - slash, "{}", net.logs());
	let two_got = free(&two) as i128 - two1 as i128;
	let want = (price + slash / 5) as i128;
	assert!((want - AGR as i128 / 10..=want).contains(&two_got), "//Two got {two_got}, want {want} less the dispute's fee");
	println!("served receipt of channel {ch} nonce {nonce}: check {check}, fraud; {price} planck refunded, {slash} slashed");

	// The stalled provider: every member's fetches over the window failed, so
	// the majority found the output withheld (slashed 50 %, Bob refunded);
	// the checks above, ordered with and after it, were decided meanwhile.
	net.wait(&format!("a verdict on the stalled job {stalled}"), Duration::from_secs(240), || {
		matches!(status(stalled)["status"].as_str(), Some("Fraud" | "Finalized" | "Unverified"))
	});
	let s = status(stalled);
	assert_eq!(s["status"], "Fraud", "stalled job {stalled}: {s}\n{}", net.logs());
	assert_eq!(stake(&one), one0 / 2, "slashed once, for withholding");
	let mut voters = 0;
	for n in NAMES {
		let log = std::fs::read_to_string(dir.join(format!("{n}.log"))).unwrap_or_default();
		let stalls = log.lines().filter(|l| l.contains(&format!("job {stalled}: the provider did not serve"))).count();
		let later = [cheat_gen, cheat_emb, honest_emb, overbilled, sampled]
			.iter()
			.filter(|id| log.contains(&format!("job {id}: member ")))
			.count();
		println!("{n}: {stalls} failed fetches of job {stalled}; voted on {later} of the 5 checks ordered with or after it");
		if log.contains(&format!("job {stalled}: member ")) {
			voters += 1;
			assert!(later > 0, "{n} sat on the stalled check and still voted on the others");
		}
	}
	assert!(voters >= 2, "a majority of the stalled job's committee voted");

	let (ok, out, err) = agora(&ws(0), &["job", "dispute", &cheat_gen.to_string(), "--suri", "//Dave"]);
	assert!(!ok, "a dispute on a judged job is refused: {out}");
	assert!(err.contains("InvalidState"), "{err}");
	silent_members(&net, &dir, eve0);

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

/// The events of `pallet-verification` (and the offence and slash reports
/// beside them) a check of `job` left in finalized blocks `from..=to`.
#[derive(Default, Debug)]
struct CheckEvents {
	committee: Vec<String>,
	/// Each re-draw's struck members and replacements.
	redraws: Vec<(Vec<String>, Vec<String>)>,
	/// Every `MemberStruck` in the blocks of this check's timeouts.
	struck: Vec<(String, u32)>,
	reported: Vec<String>,
	/// `(kind, time slot)` of each offence `pallet-offences` recorded.
	offences: Vec<(Vec<u8>, Vec<u8>)>,
	/// Validators staking reported a slash of.
	slashes: Vec<String>,
	/// `(non_voters, refunded)` of the check's end without a verdict.
	timed_out: Option<(Vec<String>, u128)>,
}

fn check_events(job: u64, from: u64, to: u64) -> CheckEvents {
	use agora_client::chain::runtime::{offences, staking, verification::events as v};
	let rt = tokio::runtime::Runtime::new().unwrap();
	rt.block_on(async {
		let client = agora_client::chain::connect(&ws(0)).await.unwrap();
		let mut out = CheckEvents::default();
		for b in from..=to {
			let events = client.at_block(b).await.unwrap().events().fetch().await.unwrap();
			let mut ours = false;
			for e in events.find::<v::AuditStarted>() {
				let e = e.unwrap();
				if e.job_id == job {
					out.committee = e.committee.iter().map(|a| a.to_string()).collect();
				}
			}
			for e in events.find::<v::AuditRedrawn>() {
				let e = e.unwrap();
				if e.job_id == job {
					ours = true;
					let s = |v: &Vec<subxt::utils::AccountId32>| v.iter().map(|a| a.to_string()).collect();
					out.redraws.push((s(&e.struck), s(&e.replacements)));
				}
			}
			for e in events.find::<v::AuditTimedOut>() {
				let e = e.unwrap();
				if e.job_id == job {
					ours = true;
					out.timed_out = Some((e.non_voters.iter().map(|a| a.to_string()).collect(), e.refunded));
				}
			}
			for e in events.find::<v::NonVotersReported>() {
				let e = e.unwrap();
				if e.job_id == job {
					out.reported.extend(e.validators.iter().map(|a| a.to_string()));
				}
			}
			if ours {
				for e in events.find::<v::MemberStruck>() {
					let e = e.unwrap();
					out.struck.push((e.validator.to_string(), e.strikes));
				}
			}
			for e in events.find::<offences::events::Offence>() {
				let e = e.unwrap();
				out.offences.push((e.kind.to_vec(), e.slot.clone()));
			}
			for e in events.find::<staking::events::SlashReported>() {
				out.slashes.push(e.unwrap().validator.to_string());
			}
		}
		out
	})
}

/// Silent members (issue 21): a validator whose verifier is gone cannot vote.
/// Bob's, Charlie's and Dave's verifiers stop (their nodes say so in their
/// logs); a job //Alice orders from Eve (so Alice, the one validator still
/// voting, is not eligible for its check) draws all three. No majority by the
/// vote deadline: each is struck and the check re-drawn (nobody is left to
/// replace them), twice, and then it ends `Unverified`: Alice refunded in
/// full, Eve neither paid nor slashed. A third strike reports a member to
/// `pallet-offences` (`agora:non-voter!`, the job's id its time slot), and
/// staking reports a slash of each of the three.
fn silent_members(net: &Net, dir: &Path, eve0: u128) {
	let t0 = Instant::now();
	let silent = ["bob", "charlie", "dave"];
	for n in silent {
		let pid = std::fs::read_to_string(dir.join(format!("{n}-verifier.pid"))).unwrap();
		assert!(Command::new("kill").arg(pid.trim()).status().unwrap().success(), "{n}'s verifier");
	}
	net.wait("the silent validators' nodes to warn", Duration::from_secs(90), || {
		silent.iter().all(|n| {
			std::fs::read_to_string(dir.join(format!("{n}.log"))).unwrap_or_default().contains("does not answer")
		})
	});
	let job = submit("//Alice", GEN, "Name a river.", EVE);
	net.wait(&format!("job {job} to end without a verdict"), Duration::from_secs(420), || {
		matches!(status(job)["status"].as_str(), Some("Unverified" | "Fraud" | "Finalized"))
	});
	let s = status(job);
	assert_eq!(s["status"], "Unverified", "job {job}: {s}\n{}", net.logs());
	assert!(s["charge"].is_null(), "nobody paid: {s}");
	let from = s["receipt"]["at"].as_u64().unwrap();
	let accounts: Vec<String> = ["//Bob", "//Charlie", "//Dave"].iter().map(|u| addr(u)).collect();
	let same_set = |got: &[String]| {
		got.len() == accounts.len() && accounts.iter().all(|a| got.iter().any(|g| same_account(g, a)))
	};
	// Staking's slash report follows the offence within a block or two.
	let mut ev = CheckEvents::default();
	net.wait("staking to report the non-voters' slashes", Duration::from_secs(60), || {
		ev = check_events(job, from, best_block());
		same_set(&ev.slashes)
	});
	assert!(same_set(&ev.committee), "drawn: the three silent validators: {ev:?}");
	assert_eq!(ev.redraws.len(), 2, "re-drawn MaxRedraws times: {ev:?}");
	for (struck, replacements) in &ev.redraws {
		assert!(same_set(struck) && replacements.is_empty(), "all three struck, nobody to replace them: {ev:?}");
	}
	for a in &accounts {
		let strikes: Vec<u32> = ev.struck.iter().filter(|(v, _)| same_account(v, a)).map(|(_, n)| *n).collect();
		assert_eq!(strikes.len(), 3, "{a} struck at each of the three deadlines: {ev:?}");
	}
	assert!(same_set(&ev.reported), "each reported once: {ev:?}");
	use codec::Encode as _;
	assert!(
		ev.offences.iter().any(|(kind, slot)| kind == b"agora:non-voter!" && *slot == job.encode()),
		"pallet-offences recorded the non-voting offence for job {job}: {ev:?}"
	);
	let (non_voters, refunded) = ev.timed_out.clone().unwrap();
	assert!(same_set(&non_voters), "{ev:?}");
	assert!(refunded > 0, "Alice's escrow back: {ev:?}");
	assert_eq!(stake(EVE), eve0, "Eve is never slashed for the committee's silence");
	println!(
		"silent members: job {job} (receipt at block {from}) struck 3 × 3, re-drawn twice, Unverified, \
		 3 offenders reported and slashed, in {:?} from the verifiers' stop",
		t0.elapsed()
	);
}
