//! End to end: a dev node, `agora-worker serve` with the real models, and the
//! `agora` client, as a user runs them.
mod common;
#[path = "e2e/passes.rs"]
mod passes;
use common::*;
use std::time::Duration;

const GEN_PROMPT: &str = "Name three colours.";

fn submit(node: &Node, model: &str, input: &[&str], max_tokens: &str, wait: bool) -> Vec<serde_json::Value> {
	let mut args = vec!["job", "submit", "--suri", "//Alice", "--model", model, "--max-price", "0.05"];
	args.extend_from_slice(input);
	args.extend_from_slice(&["--max-tokens", max_tokens]);
	if wait {
		args.push("--wait");
	}
	agora_json(&node.url(), &args)
}

#[test]
fn generation_and_embedding_jobs_are_answered_finalized_and_paid() {
	let node = Node::start();
	wait_ready(&node);
	let mut worker = Worker::start(&node);
	let url = node.url();

	// The worker's generated types come from this very runtime's metadata.
	let resp = std::process::Command::new("curl")
		.args(["-s", "-H", "Content-Type: application/json", "-d"])
		.arg(r#"{"id":1,"jsonrpc":"2.0","method":"state_call","params":["Metadata_metadata_at_version","0x10000000"]}"#)
		.arg(format!("http://127.0.0.1:{}", node.rpc_port))
		.output()
		.unwrap();
	let v: serde_json::Value = serde_json::from_slice(&resp.stdout).unwrap();
	let raw = hex::decode(v["result"].as_str().unwrap().trim_start_matches("0x")).unwrap();
	let opaque: Option<Vec<u8>> = codec::Decode::decode(&mut &raw[..]).unwrap();
	assert!(
		opaque.unwrap() == include_bytes!("../../client/artifacts/metadata.scale"),
		"client/artifacts/metadata.scale is stale: run scripts/gen-metadata.sh"
	);

	// The worker pointed Bob's genesis offers at its own endpoint.
	let offers = agora_json(&url, &["model", "list"]);
	assert_eq!(offers[0].as_array().unwrap().len(), 2);

	// Generation: the client waits for the receipt, fetches the output and checks its hash.
	let gen = submit(&node, "SmolLM2-135M-Instruct", &["--input", GEN_PROMPT], "24", true);
	let gen_id = gen[0]["job_id"].as_u64().unwrap();
	assert_eq!(gen[0]["provider"], BOB);
	let out = &gen[1];
	assert_eq!(out["verified"], true);
	assert_eq!(out["kind"], "text");
	let text = out["output"].as_str().unwrap().to_string();
	assert!(!text.is_empty());
	let tokens = out["output_tokens"].as_u64().unwrap();
	assert!(tokens > 0 && tokens <= 24);

	// The same greedy generation run locally gives the same text.
	let local = std::process::Command::new(env!("CARGO_BIN_EXE_agora-worker"))
		.args(["run", "--model", "SmolLM2-135M-Instruct", "--input", GEN_PROMPT, "--max-tokens", "24"])
		.output()
		.unwrap();
	assert!(local.status.success());
	assert_eq!(String::from_utf8_lossy(&local.stdout).trim_end_matches('\n'), text);

	// Embedding.
	let emb = submit(&node, "all-MiniLM-L6-v2", &["--input", "The cat sits on the mat."], "1", true);
	let emb_id = emb[0]["job_id"].as_u64().unwrap();
	assert_eq!(emb[1]["kind"], "embedding");
	assert_eq!(emb[1]["output_tokens"], 1);
	let v: Vec<f32> =
		emb[1]["embedding"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect();
	let fixture: serde_json::Value =
		serde_json::from_str(include_str!("fixtures/minilm-cat.json")).unwrap();
	let reference: Vec<f32> =
		fixture["vector"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect();
	assert!(agora_engine::bert::cosine(&v, &reference) >= 0.99);

	// Input the model refuses (not UTF-8): an error receipt with 0 tokens.
	let bad = worker.data.path().join("bad-input");
	std::fs::write(&bad, [0xffu8, 0xfe, 0xfd]).unwrap();
	let err = submit(&node, "SmolLM2-135M-Instruct", &["--input-file", bad.to_str().unwrap()], "8", true);
	let err_id = err[0]["job_id"].as_u64().unwrap();
	assert_eq!(err[1]["kind"], "error");
	assert_eq!(err[1]["output_tokens"], 0);
	assert!(err[1]["output"].as_str().unwrap().contains("UTF-8"));

	// Every receipt is final, so Bob submits nothing more: after block `at` his
	// balance grows by exactly the payouts made after it.
	let (before, at) = bob_free(&node);
	let mut paid = 0u128;
	for (id, tokens) in [(gen_id, tokens), (emb_id, 1), (err_id, 0)] {
		let s = agora_json(&url, &["job", "status", &id.to_string(), "--wait-finalized"]);
		let s = &s[0];
		assert_eq!(s["status"], "Finalized", "{s}");
		let p = &s["payout"];
		let charge = planck(&p["charge"]);
		// Dev offers: 0.001 AGR per job + 0.01 AGR per 1,000 tokens.
		let expected = 1_000_000_000u128 + 10_000_000_000u128 * u128::from(tokens as u32) / 1000;
		assert_eq!(charge, expected, "job {id}: {s}");
		assert_eq!(
			charge,
			planck(&p["to_provider"]) + planck(&p["protocol_fee"]) + planck(&p["royalty"])
		);
		assert_eq!(charge + planck(&p["refunded"]), 50_000_000_000);
		if p["block"].as_u64().unwrap() > at {
			paid += planck(&p["to_provider"]);
		}
	}
	assert!(paid > 0, "the embedding and error jobs finalize after the last receipt");
	assert_eq!(bob_free(&node).0, before + paid, "the provider is paid what the payouts say");

	// Inputs by hash: only the hash goes on chain; the client uploads the bytes
	// to the assigned worker, which runs the job on them.
	let hashed = submit(&node, "all-MiniLM-L6-v2", &["--input", "The cat sits on the mat.", "--by-hash"], "1", true);
	// The worker signed for the bytes it took (an upload receipt the client
	// checked against the job's worker key before printing it).
	assert_eq!(hashed[1]["event"], "uploaded", "{hashed:?}");
	assert_eq!(hashed[1]["upload_receipt"].as_str().map(str::len), Some(130), "{hashed:?}");
	assert_eq!(hashed[2]["kind"], "embedding");
	let hv: Vec<f32> =
		hashed[2]["embedding"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect();
	assert!(agora_engine::bert::cosine(&hv, &reference) >= 0.99, "the worker ran the uploaded bytes");
	// The worker stores no bytes that none of its jobs waits for, and an
	// upload names its job (one storage read, never a scan of the chain).
	let put = |query: &str| {
		let out = std::process::Command::new("curl")
			.args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "PUT", "--data-binary", "unwanted bytes"])
			.arg(format!("http://127.0.0.1:{}/v1/inputs{query}", worker.port))
			.output()
			.unwrap();
		String::from_utf8_lossy(&out.stdout).to_string()
	};
	assert_eq!(put(""), "400", "an upload without ?job= is refused");
	let hashed_id = hashed[0]["job_id"].as_u64().unwrap();
	assert_eq!(put(&format!("?job={hashed_id}")), "409", "not the input that job waits for");
	assert_eq!(put("?job=999999"), "409", "no such job");

	// A by-hash input the client never uploads: once the client's time is up
	// (half-way to this near deadline) the worker reports it missing. The
	// client pays the base price, the rest comes back, and nobody is slashed.
	// Dave is the client here: Alice, the dev chain's block author and model
	// publisher, earns fees and royalties as she goes.
	let stake_before = bob_stake(&url);
	let dave_before = planck(&agora_json(&url, &["balance", "--suri", "//Dave"])[0]["free"]);
	let missing = agora_json(
		&url,
		&[
			"job", "submit", "--suri", "//Dave", "--model", "SmolLM2-135M-Instruct", "--max-price", "0.05",
			"--input", "never sent", "--by-hash", "--skip-upload", "--deadline-blocks", "16",
		],
	);
	let missing_id = missing[0]["job_id"].as_u64().unwrap().to_string();
	let s = agora_json(&url, &["job", "status", &missing_id, "--wait-finalized"]);
	assert_eq!(s[0]["status"], "InputMissing", "{}", s[0]);
	assert_eq!(planck(&s[0]["charge"]), 1_000_000_000, "the dev offer's base price, 0.001 AGR");
	worker.wait_log("reported missing", Duration::from_secs(30));
	assert_eq!(bob_stake(&url), stake_before, "an undelivered input slashes nobody");
	let dave_after = planck(&agora_json(&url, &["balance", "--suri", "//Dave"])[0]["free"]);
	// Of the 0.05 AGR held, the base price went out and the rest came back
	// (what else Dave spent is the call's fee).
	let spent = dave_before - dave_after;
	assert!(
		(1_000_000_000..25_000_000_000).contains(&spent),
		"the client paid the base price and a fee, not the escrow: {dave_before} -> {dave_after}"
	);

	// The output is still served and still verifies.
	let again = agora_json(&url, &["job", "output", &gen_id.to_string(), "--suri", "//Alice"]);
	assert_eq!(again[0]["output"].as_str().unwrap(), text);
	// Outputs are private: unsigned, or signed by anyone but the client (or
	// the job's committee), the worker refuses.
	let out_url = format!("http://127.0.0.1:{}/v1/jobs/{gen_id}/output", worker.port);
	let code = |who: Option<&str>| {
		let mut c = std::process::Command::new("curl");
		c.args(["-s", "-o", "/dev/null", "-w", "%{http_code}"]);
		if let Some(suri) = who {
			let k = agora_client::chain::keypair(Some(suri), None).unwrap();
			c.args(["-H", &format!("x-agora-read: {}", agora_client::chain::read_header(&k, gen_id))]);
		}
		String::from_utf8(c.arg(&out_url).output().unwrap().stdout).unwrap()
	};
	assert_eq!(code(None), "401");
	assert_eq!(code(Some("//Bob")), "403", "the provider's own account is not the client");
	assert_eq!(code(Some("//Charlie")), "403");
	assert_eq!(code(Some("//Alice")), "200");
	let (ok, _, err) = agora(&url, &["job", "output", &gen_id.to_string(), "--suri", "//Charlie"]);
	assert!(!ok && err.contains("403"), "{err}");

	// Metrics.
	let metrics = std::process::Command::new("curl")
		.args(["-s", &format!("http://127.0.0.1:{}/metrics", worker.port)])
		.output()
		.unwrap();
	let m = String::from_utf8_lossy(&metrics.stdout);
	assert!(m.contains("agora_worker_jobs_served_total{model=\"SmolLM2-135M-Instruct\",outcome=\"receipted\"} 1"), "{m}");
	assert!(m.contains("agora_worker_jobs_served_total{model=\"SmolLM2-135M-Instruct\",outcome=\"error_receipt\"} 1"), "{m}");
	// Two embeddings: the inline one and the one run on its uploaded input.
	assert!(m.contains("agora_worker_inference_seconds_count{model=\"all-MiniLM-L6-v2\"} 2"), "{m}");
	assert!(m.contains("agora_worker_queue_depth 0"), "{m}");
	assert!(m.contains("agora_worker_inputs_missing_total 1"), "{m}");

	passes::pass_jobs_are_served_free_and_paid_from_the_epochs_issuance(&url);
	an_mcp_host_orders_verified_jobs_within_its_spend_limit(&url);
	a_client_orders_one_job_per_line_in_one_batch(&url);
	passes::two_workers_serve_pass_clients_in_proportion_to_stake_and_are_paid_by_contribution(&node, &mut worker);
	an_mcp_host_contests_a_lying_workers_input_report(&url, &mut worker);
	// Every pallet's invariants hold on the chain the jobs ran on.
	assert_try_state(&url);
}

/// Last (it slashes Bob): Bob's worker restarted as a test build's liar
/// (`--cheat input-missing`). An MCP host orders by hash from Bob (the
/// `provider` argument); the worker signs for the upload, then reports the
/// input missing; `submit_job` contests with the upload receipt at once and
/// says so as a tool error: the job ends Fraud, the charge back out of Bob's
/// bond and Bob slashed on top (tests/mcp/client.py `contest`).
fn an_mcp_host_contests_a_lying_workers_input_report(url: &str, bob: &mut Worker) {
	let emb = "all-MiniLM-L6-v2";
	let before = provider_stake(url, emb, BOB).unwrap();
	bob.restart_with(&["--cheat", "input-missing"]);
	let out = std::process::Command::new(mcp_python())
		.arg(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/mcp/client.py"))
		.arg(client_bin())
		.arg(url)
		.args(["contest", BOB])
		.output()
		.unwrap();
	assert!(out.status.success(), "the MCP contest test failed:\n{}", String::from_utf8_lossy(&out.stderr));
	let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
	assert_eq!(r["status"], "Fraud", "{r}");
	assert!(r["message"].as_str().is_some_and(|m| m.contains("signed for it; contested")), "{r}");
	assert_eq!(r["errors"].as_object().unwrap().len(), 2, "{r}");
	assert!(bob.log().contains("reporting a delivered input missing"), "{}", bob.log());
	let job = agora_json(url, &["job", "status", &r["job_id"].to_string()]).remove(0);
	let charge = planck(&job["charge"]);
	assert!(charge > 0, "{job}");
	let after = provider_stake(url, emb, BOB).unwrap();
	assert!(after < before - charge, "Bob pays the charge back and is slashed on top: {before} -> {after}, charge {charge}");
	eprintln!("MCP contest: {r}");
}

/// The Python with the official `mcp` SDK (scripts/setup.sh installs it).
fn mcp_python() -> std::path::PathBuf {
	let python = std::env::var("AGORA_TOOLS")
		.map(std::path::PathBuf::from)
		.unwrap_or_else(|_| std::path::PathBuf::from(std::env::var("HOME").unwrap()).join(".cache/agora-tools"))
		.join("mcp-venv/bin/python");
	assert!(python.exists(), "{} is missing: run scripts/setup.sh", python.display());
	python
}

/// `agora job submit --each-line` on the same chain: the lines go as one
/// `jobs.submit_jobs` batch; a line over the inline limit is refused by name
/// and the others stand, each served and receipted by the worker.
fn a_client_orders_one_job_per_line_in_one_batch(url: &str) {
	let dir = tempfile::tempdir().unwrap();
	let file = dir.path().join("lines.txt");
	let long = "x".repeat(20_000);
	std::fs::write(&file, format!("A red apple.\n\n{long}\nA blue sky.\nA green leaf.\n")).unwrap();
	let args = [
		"--json", "job", "submit", "--suri", "//Alice", "--model", "all-MiniLM-L6-v2", "--input-file",
		file.to_str().unwrap(), "--each-line", "--max-price", "0.05", "--max-tokens", "1",
	];
	let (ok, out, err) = agora(url, &args);
	assert!(!ok && err.contains("1 of 4 jobs were not ordered"), "{err}\n{out}");
	let lines: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
	assert_eq!(lines.len(), 4, "{out}");
	assert_eq!(lines[1]["event"], "failed", "{out}");
	assert_eq!(lines[1]["line"], 2);
	assert!(lines[1]["error"].as_str().unwrap().contains("Jobs.InputTooLong"), "{out}");
	let ids: Vec<u64> = [0, 2, 3].iter().map(|&i| {
		assert_eq!(lines[i]["event"], "assigned", "{out}");
		lines[i]["job_id"].as_u64().unwrap()
	}).collect();
	assert!(ids.windows(2).all(|w| w[1] == w[0] + 1), "one batch takes consecutive ids: {ids:?}");
	// Served like any job: receipted by the worker within a few blocks (their
	// payout is the same as a lone order's, checked above).
	for id in ids {
		let receipted = (0..40).any(|_| {
			let s = agora_json(url, &["job", "status", &id.to_string()]);
			let done = matches!(s[0]["status"].as_str(), Some("Receipted" | "Finalized"));
			if !done {
				std::thread::sleep(Duration::from_secs(1));
			}
			done
		});
		assert!(receipted, "job {id} was not receipted within 40 s");
	}
}

/// `agora mcp` (docs/mcp.md), on the same chain, driven by the official `mcp`
/// Python SDK over stdio as an MCP host would (tests/mcp/client.py asserts
/// each step): every tool listed with a schema, models, providers and a quote,
/// a generation and an embedding ordered and their outputs hash-checked, a job
/// whose input goes by hash (uploaded to the worker, its upload receipt
/// checked), a batch of three inputs in one `submit_jobs` call (one refused
/// by the chain, two verified), each error path a tool error in words with nothing spent, and a
/// rating once the generation is finalized.
fn an_mcp_host_orders_verified_jobs_within_its_spend_limit(url: &str) {
	let out = std::process::Command::new(mcp_python())
		.arg(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/mcp/client.py"))
		.arg(client_bin())
		.arg(url)
		.output()
		.unwrap();
	assert!(out.status.success(), "the MCP client test failed:\n{}", String::from_utf8_lossy(&out.stderr));
	let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
	assert!(r["provider"].as_str().is_some_and(|p| p.len() > 40), "{r}");
	assert_eq!(r["embedding_dims"], 384, "{r}");
	assert!(!r["generation"].as_str().unwrap().is_empty(), "{r}");
	assert_eq!(r["tools"].as_array().unwrap().len(), 15, "{r}");
	assert_eq!(r["errors"].as_object().unwrap().len(), 10, "{r}");
	assert_eq!(r["http"]["tools"], 15, "{r}");
	// submit_jobs: two of three inputs ordered in one transaction and
	// verified, the third refused by the chain; over the limit or with an
	// empty input, nothing signed.
	let ids = r["batch"]["job_ids"].as_array().unwrap();
	assert_eq!(ids.len(), 2, "{r}");
	assert!(r["batch"]["over_limit"].as_str().is_some_and(|m| m.contains("spend limit")), "{r}");
	assert!(r["http"]["second_host_refused"].as_str().is_some_and(|m| m.contains("spend limit")), "{r}");
	// Channels: three paid requests (two before a restart, one after) and
	// seven refusals, each a tool error in words.
	assert!(r["channels"]["signed_planck"].as_u64().is_some_and(|p| p > 0), "{r}");
	assert!(!r["channels"]["generation"].as_str().unwrap().is_empty(), "{r}");
	assert_eq!(r["channels"]["errors"].as_object().unwrap().len(), 7, "{r}");
	// A job ordered by hash: the input uploaded, the upload receipt checked.
	assert!(r["channels"]["by_hash_job"].as_u64().is_some(), "{r}");
	eprintln!("MCP: {r}");
}

#[test]
fn a_worker_killed_after_assignment_receipts_after_restart_and_never_reruns_a_receipted_job() {
	let node = Node::start();
	wait_ready(&node);
	let mut worker = Worker::start(&node);
	let url = node.url();

	let sub = submit(&node, "SmolLM2-135M-Instruct", &["--input", "Write a long story about a lighthouse keeper."], "200", false);
	let id = sub[0]["job_id"].as_u64().unwrap();
	worker.wait_log(&format!("job assigned job={id}"), Duration::from_secs(60));
	worker.kill();
	let s = agora_json(&url, &["job", "status", &id.to_string()]);
	assert!(matches!(s[0]["status"].as_str(), Some("Assigned" | "Acknowledged")), "killed before it could receipt: {}", s[0]);

	// The restarted worker finds the job by scanning the chain and receipts it.
	worker.restart();
	worker.wait_log(&format!("receipt final job={id}"), Duration::from_secs(300));
	let out = agora_json(&url, &["job", "output", &id.to_string(), "--suri", "//Alice"]);
	assert_eq!(out[0]["verified"], true);

	// Once receipted, a restart never runs the job again.
	worker.restart();
	std::thread::sleep(Duration::from_secs(4));
	let log = worker.log();
	assert!(log.contains("scanned the chain"), "{log}");
	assert!(!log.contains(&format!("inference done job={id}")), "reran a receipted job:\n{log}");
	let rec: serde_json::Value = serde_json::from_slice(
		&std::fs::read(worker.data.path().join(format!("state/jobs/{id}.json"))).unwrap(),
	)
	.unwrap();
	assert!(rec["receipt"].is_object(), "{rec}");
	assert_try_state(&node.url());
}

#[test]
fn a_worker_reconnects_when_its_node_goes_away_and_carries_on() {
	let mut node = Node::start();
	wait_ready(&node);
	let worker = Worker::start(&node);

	let first = submit(&node, "all-MiniLM-L6-v2", &["--input", "before"], "1", true);
	assert_eq!(first[1]["verified"], true);

	node.kill();
	worker.wait_log("lost the node", Duration::from_secs(30));
	std::thread::sleep(Duration::from_secs(3));
	node.restart();
	wait_ready(&node);
	worker.wait_log("reconnected", Duration::from_secs(60));

	let second = submit(&node, "SmolLM2-135M-Instruct", &["--input", "after"], "8", true);
	assert_eq!(second[1]["verified"], true);
	assert_eq!(second[1]["kind"], "text");

	// The attack: read the answer, then cancel for a refund. The worker runs a
	// job only once its acknowledgement is final, and the chain refuses a cancel
	// after it: either the cancel lands first and the job is never run, or the
	// acknowledgement does, the cancel is refused and the client pays.
	let url = node.url();
	let sub = submit(&node, "SmolLM2-135M-Instruct", &["--input", "Tell me a joke."], "8", false);
	let id = sub[0]["job_id"].as_u64().unwrap();
	let (cancelled, _, err) = agora(&url, &["job", "cancel", "--suri", "//Alice", &id.to_string()]);
	if cancelled {
		worker.wait_log(&format!("not serving the job job={id}"), Duration::from_secs(60));
		std::thread::sleep(Duration::from_secs(3));
		assert!(!worker.log().contains(&format!("inference done job={id}")), "ran a cancelled job");
		let (ok, _, err) = agora(&url, &["job", "output", &id.to_string(), "--suri", "//Alice"]);
		assert!(!ok, "no output for a cancelled job: {err}");
		println!("cancel race: the cancel landed first; the job was never run");
	} else {
		assert!(err.contains("CannotCancel"), "{err}");
		let s = agora_json(&url, &["job", "status", &id.to_string(), "--wait-finalized"]).remove(0);
		assert_eq!(s["status"], "Finalized", "{s}");
		assert!(planck(&s["payout"]["charge"]) > 0, "{s}");
		println!("cancel race: the acknowledgement landed first; the cancel was refused and the job paid");
	}
	assert_try_state(&node.url());
}
