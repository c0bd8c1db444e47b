//! End to end, driven from the `agora` CLI on a dev chain (short tracks) with a
//! provider worker serving the real models: a `market_params` referendum
//! changes DISPUTE_WINDOW from 10 to 15 blocks (propose, decision deposit,
//! conviction votes by four holders, approval, enactment), and the next job's
//! receipt is disputable for 15 blocks. An out-of-bounds value is refused by the
//! client before submission and, when forced through, by the chain at enactment.
//! The CLI's output to a reader that has gone ends it quietly.
mod common;
use common::*;

fn param(node: &Node, name: &str) -> u128 {
	let all = agora_json(&node.url(), &["gov", "params"]);
	let p = all[0].as_array().unwrap().iter().find(|p| p["name"] == name).unwrap().clone();
	planck(&p["value"])
}

/// Alice proposes; Alice, Bob, Charlie and Dave vote `choice` with 900,000 AGR
/// each at conviction 1–3 while it prepares; then Alice places the decision
/// deposit, and deciding starts.
fn referendum(node: &Node, name: &str, value: &str, choice: &str, extra: &[&str]) -> u64 {
	let url = node.url();
	let mut args = vec!["gov", "propose-param", "--suri", "//Alice", name, value];
	args.extend_from_slice(extra);
	let p = agora_json(&url, &args);
	assert_eq!(p[0]["decision_deposit"], false);
	let index = p[0]["referendum"].as_u64().unwrap();
	let voters: Vec<_> = [("//Alice", "1"), ("//Bob", "2"), ("//Charlie", "3"), ("//Dave", "1")]
		.into_iter()
		.map(|(who, conviction)| {
			let (url, idx, choice) = (url.clone(), index.to_string(), choice.to_string());
			std::thread::spawn(move || {
				let (ok, out, err) = agora(
					&url,
					&[
						"gov",
						"vote",
						"--suri",
						who,
						&idx,
						&choice,
						"--conviction",
						conviction,
						"--amount",
						"900000",
					],
				);
				assert!(ok, "{who} voting: {err}{out}");
				assert!(out.contains(&format!("voted {choice}")), "{out}");
			})
		})
		.collect();
	for v in voters {
		v.join().unwrap();
	}
	let s = agora_json(&url, &["gov", "status", &index.to_string()]);
	assert_eq!(s[0]["state"], "Preparing", "{}", s[0]);
	assert_eq!(s[0]["decision_deposit"], false);
	// (1 + 2 + 3 + 1) × 900,000 AGR of conviction-weighted votes.
	let side = if choice == "aye" { "ayes" } else { "nays" };
	assert_eq!(planck(&s[0][side]), 7 * 900_000 * 1_000_000_000_000, "{}", s[0]);
	let (ok, out, err) = agora(&url, &["gov", "deposit", "--suri", "//Alice", &index.to_string()]);
	assert!(ok && out.contains("decision deposit placed"), "{err}{out}");
	index
}

#[test]
fn a_referendum_driven_from_the_cli_changes_the_dispute_window_of_the_next_job() {
	let node = Node::start();
	wait_ready(&node);
	let _worker = Worker::start(&node);
	let url = node.url();

	assert_eq!(param(&node, "DISPUTE_WINDOW"), 10, "the default");
	// A reader that has gone (`agora gov params | head -0`): the CLI stops
	// quietly with status 0, as other writers to `head` do, and does not panic.
	let mut child = std::process::Command::new(client_bin())
		.args(["--url", &url, "gov", "params"])
		.stdout(std::process::Stdio::piped())
		.stderr(std::process::Stdio::piped())
		.spawn()
		.unwrap();
	drop(child.stdout.take());
	let out = child.wait_with_output().unwrap();
	let err = String::from_utf8_lossy(&out.stderr);
	assert!(out.status.success() && !err.contains("panicked"), "{:?}: {err}", out.status);
	let (ok, _, err) =
		agora(&url, &["gov", "propose-param", "--suri", "//Alice", "DISPUTE_WINDOW", "2"]);
	assert!(!ok && err.contains("outside its bounds"), "{err}");
	let (ok, _, err) = agora(&url, &["gov", "propose-param", "--suri", "//Alice", "NO_SUCH", "2"]);
	assert!(
		!ok && err.contains("no parameter `NO_SUCH`") && err.contains("DISPUTE_WINDOW"),
		"{err}"
	);

	let good = referendum(&node, "DISPUTE_WINDOW", "15", "aye", &[]);
	// The same value below the minimum, forced past the client's check.
	let bad = referendum(&node, "DISPUTE_WINDOW", "2", "aye", &["--unchecked"]);

	let w = agora_json(&url, &["gov", "status", &good.to_string(), "--wait"]);
	assert_eq!(w[0]["referendum"]["state"], "Approved", "{}", w[0]);
	assert_eq!(w[0]["enacted"], true, "{}", w[0]);
	let w = agora_json(&url, &["gov", "status", &bad.to_string(), "--wait"]);
	assert_eq!(w[0]["referendum"]["state"], "Approved", "{}", w[0]);
	assert_eq!(w[0]["enacted"], false, "{}", w[0]);
	assert!(w[0]["error"].as_str().unwrap().starts_with("MarketParams.BelowMinimum"), "{}", w[0]);
	assert_eq!(param(&node, "DISPUTE_WINDOW"), 15, "the good referendum's value stands");

	// The next job: its receipt is disputable for the new 15 blocks.
	let job = agora_json(
		&url,
		&[
			"job",
			"submit",
			"--suri",
			"//Charlie",
			"--model",
			"all-MiniLM-L6-v2",
			"--input",
			"A new window.",
			"--max-price",
			"0.05",
			"--max-tokens",
			"1",
			"--wait",
		],
	);
	let id = job[0]["job_id"].as_u64().unwrap().to_string();
	let s = agora_json(&url, &["job", "status", &id]);
	let r = &s[0]["receipt"];
	assert_eq!(r["window_end"].as_u64().unwrap() - r["at"].as_u64().unwrap(), 15, "{}", s[0]);
	// Listing shows both finished referenda.
	let (ok, out, _) = agora(&url, &["gov", "status"]);
	assert!(ok && out.contains(&format!("referendum {good}: Approved")), "{out}");
	// Every pallet's invariants hold after the referenda and the job.
	assert_try_state(&url);
}
