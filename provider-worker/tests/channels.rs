//! Payment channels end to end on a real dev node, through the `agora` client as
//! a user runs it: open → 100 paid requests' vouchers over 4 lanes → one batch
//! claim (secured, still held on the sender) → one withdraw (paid out) →
//! reclaim the rest after expiry, every balance exact to the planck; and the
//! attacks on a channel (replay, forgery, over-claiming, claiming someone
//! else's channel, withdrawing twice or from someone else's channel,
//! reclaiming early), each refused with its own error and moving nothing.
//!
//! While that channel runs to its expiration, the same chain serves the paid
//! API: a real `agora-worker` (Bob) answers embeddings and chat completions
//! (whole and streamed) paid by vouchers of a second channel, refuses every
//! bad request with its own status and charges nothing for it, and claims
//! exactly the prices of what it served; the official `openai` Python package
//! works against it unchanged but for its base URL and the voucher header.
//! Then, under load from 8 lanes at once (embeddings and streamed chats), the
//! worker is killed with SIGKILL and restarted: no accepted voucher is lost,
//! none is claimed twice, and the chain's total claimed is exactly the prices
//! of the requests served. A short channel paid once is claimed, paid out to
//! the worker exactly once (its own withdraw near the expiration, or the
//! close), reclaimed after its expiration, and then forgotten by the worker.
mod common;
use agora_client::channel::{self, Payer};
use common::*;
use std::time::{Duration, Instant};

const DAVE: &str = "5DAAnrj7VHTznn2AWBemMuyBwZWs6FNFjdyVXUeYum3PTXFy";
const CHARLIE: &str = "5FLSigC9HGRKVhB9FiEo4Y3koPsNmBmLJbpXg2mp1hXcS59Y";
const AGR: u128 = 1_000_000_000_000;
const PRICE: u128 = AGR / 100;

fn free(url: &str, who: &str) -> u128 {
	planck(&agora_json(url, &["balance", who])[0]["free"])
}

/// `agora …` that must fail; its error text.
fn refused(url: &str, args: &[&str]) -> String {
	let (ok, out, err) = agora(url, args);
	assert!(!ok, "agora {args:?} succeeded:\n{out}");
	err
}

fn status(url: &str, id: u64) -> serde_json::Value {
	agora_json(url, &["channel", "status", "--id", &id.to_string()])[0][0].clone()
}

#[test]
fn a_channel_pays_vouchers_in_one_claim_refuses_every_cheat_and_returns_the_rest() {
	let node = Node::start();
	wait_ready(&node);
	let url = node.url();
	let mut worker = Worker::start_with(&node, &["--claim-every-secs", "3", "--channel-margin", "5"]);

	// Dave opens a 10 AGR channel to Charlie, claimable for 48 blocks (2.4 min:
	// each call below waits for finality, ~3 blocks).
	let dave0 = free(&url, DAVE);
	let open = agora_json(
		&url,
		&[
			"channel", "open", "--suri", "//Dave", "--to", CHARLIE, "--value", "10", "--blocks",
			"48",
		],
	);
	let id = open[0]["id"].as_u64().unwrap();
	let expiration = open[0]["expiration"].as_u64().unwrap();
	let open_fee = planck(&open[0]["fee"]);
	assert_eq!(free(&url, DAVE), dave0 - 10 * AGR - open_fee, "the value is held, not spent");
	let c = status(&url, id);
	assert_eq!((planck(&c["value"]), planck(&c["claimed"])), (10 * AGR, 0));
	assert_eq!(c["recipient"], CHARLIE);

	// 100 requests paid over 4 lanes, as a client with 4 requests in flight pays.
	let dave = agora_client::chain::keypair(Some("//Dave"), None).unwrap();
	let mut payer = Payer::new(dave, id);
	let mut last = vec![None; 4];
	for i in 0..100u32 {
		last[(i % 4) as usize] = Some(payer.pay(i % 4, PRICE).unwrap());
	}
	assert_eq!(payer.total(), 100 * PRICE);
	let latest: Vec<String> =
		last.iter().map(|v| channel::to_header(v.as_ref().unwrap())).collect();
	// The CLI signs the very same voucher the library does.
	let v0 = last[0].unwrap().voucher;
	let (ok, cli_voucher, err) = agora(
		&url,
		&[
			"channel",
			"voucher",
			"--suri",
			"//Dave",
			"--id",
			&id.to_string(),
			"--lane",
			"0",
			"--nonce",
			&v0.nonce.to_string(),
			"--total",
			&format!("{}p", v0.cumulative),
		],
	);
	assert!(ok, "{err}");
	assert_eq!(channel::from_header(cli_voucher.trim()).unwrap().voucher, v0);

	// Charlie claims the 4 lanes' latest vouchers in one batch: exactly the 100
	// prices are his from now on, still held on Dave's account.
	let charlie0 = free(&url, CHARLIE);
	let mut args = vec!["channel", "claim", "--suri", "//Charlie"];
	args.extend(latest.iter().map(|s| s.as_str()));
	let claimed = agora_json(&url, &args);
	let secured: u128 = claimed[0]["claimed"]
		.as_array()
		.unwrap()
		.iter()
		.map(|c| planck(&c["amount"]))
		.sum();
	assert_eq!(secured, 100 * PRICE);
	let claim_fee = planck(&claimed[0]["fee"]);
	assert_eq!(free(&url, CHARLIE), charlie0 - claim_fee);
	assert_eq!(free(&url, DAVE), dave0 - 10 * AGR - open_fee, "claimed funds stay held until paid out");
	let c = status(&url, id);
	assert_eq!((planck(&c["claimed"]), planck(&c["paid"])), (100 * PRICE, 0));
	assert_eq!(c["lanes"].as_array().unwrap().len(), 4);
	// One withdraw pays them out, to the planck.
	let out = agora_json(&url, &["channel", "withdraw", "--suri", "//Charlie", "--id", &id.to_string()]);
	assert_eq!(out[0]["withdrawn"][0]["id"].as_u64(), Some(id));
	assert_eq!(planck(&out[0]["withdrawn"][0]["amount"]), 100 * PRICE);
	let withdraw_fee = planck(&out[0]["fee"]);
	assert_eq!(free(&url, CHARLIE), charlie0 + 100 * PRICE - claim_fee - withdraw_fee);
	assert_eq!(planck(&status(&url, id)["paid"]), 100 * PRICE);

	// The attacks. Each is refused with its own error, and the channel is as it was.
	let before = status(&url, id);
	let mut replay = vec!["channel", "claim", "--suri", "//Charlie"];
	replay.push(&latest[1]);
	assert!(refused(&url, &replay).contains("StaleVoucher"));
	// Charlie makes up a voucher with his own key.
	let forged = channel::to_header(&channel::sign(
		&agora_client::chain::keypair(Some("//Charlie"), None).unwrap(),
		id,
		0,
		1_000,
		9 * AGR,
	));
	assert!(refused(&url, &["channel", "claim", "--suri", "//Charlie", &forged])
		.contains("BadSignature"));
	// Dave's own signature on more than the channel holds.
	let over = channel::to_header(&payer.pay(2, 10 * AGR).unwrap());
	assert!(
		refused(&url, &["channel", "claim", "--suri", "//Charlie", &over]).contains("OverValue")
	);
	// Eve claims a real, unclaimed voucher of a channel that is not hers.
	let good = channel::to_header(&payer.pay(3, PRICE).unwrap());
	assert!(refused(&url, &["channel", "claim", "--suri", "//Eve", &good]).contains("NotRecipient"));
	// Eve takes Charlie's claims out; Charlie takes his out twice.
	let sid = id.to_string();
	assert!(refused(&url, &["channel", "withdraw", "--suri", "//Eve", "--id", &sid]).contains("NotRecipient"));
	assert!(refused(&url, &["channel", "withdraw", "--suri", "//Charlie", "--id", &sid])
		.contains("NothingToWithdraw"));
	// Nobody closes the channel before it expires.
	let now = agora_json(&url, &["balance", DAVE])[0]["block"].as_u64().unwrap();
	assert!(
		now + 4 < expiration,
		"too slow to test an early reclaim: block {now}, expiration {expiration}"
	);
	eprintln!("attacks done at block {now}, expiration {expiration}");
	assert!(refused(&url, &["channel", "reclaim", "--suri", "//Eve", "--id", &id.to_string()])
		.contains("NotExpired"));
	assert_eq!(status(&url, id), before, "a refused call changed the channel");

	let short = paid_serving(&url, &mut worker, id);

	// After the expiration Charlie can no longer claim, and Dave takes back the rest.
	let t0 = Instant::now();
	loop {
		let now = agora_json(&url, &["balance", DAVE])[0]["block"].as_u64().unwrap();
		if now >= expiration {
			break;
		}
		assert!(
			t0.elapsed() < Duration::from_secs(240),
			"the chain stalled before block {expiration}"
		);
		std::thread::sleep(Duration::from_secs(2));
	}
	assert!(refused(&url, &["channel", "claim", "--suri", "//Charlie", &good])
		.contains("ChannelExpired"));
	let dave1 = free(&url, DAVE);
	let back =
		agora_json(&url, &["channel", "reclaim", "--suri", "//Dave", "--id", &id.to_string()]);
	assert_eq!(planck(&back[0]["reclaimed"]), 10 * AGR - 100 * PRICE);
	assert_eq!(planck(&back[0]["paid"]), 0, "Charlie withdrew everything he claimed");
	assert_eq!(free(&url, DAVE), dave1 + 10 * AGR - 100 * PRICE - planck(&back[0]["fee"]));
	// Over the channel's life Dave paid exactly the 100 prices and two fees.
	assert_eq!(free(&url, DAVE), dave0 - 100 * PRICE - open_fee - planck(&back[0]["fee"]));
	let (ok, _, err) = agora(&url, &["channel", "status", "--id", &id.to_string()]);
	assert!(!ok && err.contains("no open channel"), "{err}");

	// Ferdie's short channel to Bob's worker, paid once, has expired too: the
	// worker claimed its one request before the expiration, Ferdie takes back
	// the rest, Bob is paid his one request exactly once (by his worker's
	// withdraw within its margin of the expiration, else by Ferdie's close),
	// and the worker, finding the channel gone from the chain, forgets it
	// whole (its lane and kept answer), so channels opened and dropped one
	// after another cannot fill a worker's disk.
	let (short_id, short_expiration, short_paid) = short;
	while agora_json(&url, &["balance", DAVE])[0]["block"].as_u64().unwrap() < short_expiration {
		assert!(t0.elapsed() < Duration::from_secs(480), "the chain stalled before block {short_expiration}");
		std::thread::sleep(Duration::from_secs(2));
	}
	let back = agora_json(&url, &["channel", "reclaim", "--suri", "//Ferdie", "--id", &short_id.to_string()]);
	assert_eq!(planck(&back[0]["reclaimed"]), AGR - short_paid, "the worker claimed its one request");
	let withdrew = format!("withdrew {short_paid} planck from channel {short_id}");
	match planck(&back[0]["paid"]) {
		0 => {
			worker.wait_log(&withdrew, Duration::from_secs(30));
			eprintln!("short channel {short_id}: Bob's worker withdrew its {short_paid} planck before the close");
		},
		at_close => {
			assert_eq!(at_close, short_paid, "the close pays Bob what he claimed");
			assert!(!worker.log().contains(&withdrew), "paid twice:\n{}", worker.log());
			eprintln!("short channel {short_id}: the close paid Bob's {short_paid} planck (his worker had not withdrawn)");
		},
	}
	worker.wait_log(&format!("forgot channel {short_id}:"), Duration::from_secs(90));
	assert_try_state(&url);
}

/// A POST to the worker: (status, headers, body).
fn post(
	rt: &tokio::runtime::Runtime,
	worker: &Worker,
	path: &str,
	body: &serde_json::Value,
	voucher: Option<&channel::Signed>,
) -> (u16, reqwest::header::HeaderMap, String) {
	rt.block_on(async {
		let mut req = reqwest::Client::new()
			.post(format!("http://127.0.0.1:{}{path}", worker.port))
			.json(body);
		if let Some(v) = voucher {
			req = req.header(channel::VOUCHER_HEADER, channel::to_header(v));
		}
		let resp = req.send().await.unwrap();
		let (status, headers) = (resp.status().as_u16(), resp.headers().clone());
		(status, headers, resp.text().await.unwrap())
	})
}

/// The receipt of an answer, checked: signed by Bob's worker key, for this
/// voucher, over these output bytes.
fn check_receipt(hex_receipt: &str, v: &channel::Signed, output: &[u8]) -> u32 {
	use agora_primitives::channels::ServedReceipt;
	let raw = hex::decode(hex_receipt.trim_start_matches("0x")).unwrap();
	let (r, sig): (ServedReceipt<[u8; 32]>, [u8; 64]) =
		codec::Decode::decode(&mut &raw[..]).unwrap();
	let bob = agora_client::chain::keypair(Some("//Bob"), None).unwrap().public_key().0;
	assert_eq!(r.worker_pubkey, bob);
	assert!(
		agora_client::chain::sr25519_verify(&sig, &r.signing_payload(), &bob),
		"a bad receipt signature"
	);
	assert_eq!(
		(r.channel_id, r.lane, r.nonce),
		(v.voucher.channel_id, v.voucher.lane, v.voucher.nonce)
	);
	assert_eq!(r.output_hash, agora_primitives::rules::content_hash(output));
	r.output_tokens
}

fn error_code(body: &str) -> String {
	let v: serde_json::Value =
		serde_json::from_str(body).unwrap_or_else(|_| panic!("not a JSON error: {body}"));
	v["error"]["code"]
		.as_str()
		.unwrap_or_else(|| panic!("no error code: {body}"))
		.to_string()
}

/// Ferdie pays Bob's worker per request through a channel; Bob claims exactly
/// what he served. `other` is a channel opened to Charlie.
/// Returns Ferdie's short channel (open for 40 blocks), its expiration and
/// what its one request paid.
fn paid_serving(url: &str, worker: &mut Worker, other: u64) -> (u64, u64, u128) {
	let rt = tokio::runtime::Runtime::new().unwrap();
	let open = agora_json(
		url,
		&["channel", "open", "--suri", "//Ferdie", "--to", BOB, "--value", "5", "--blocks", "600"],
	);
	let id = open[0]["id"].as_u64().unwrap();
	let ferdie = agora_client::chain::keypair(Some("//Ferdie"), None).unwrap();
	let mut payer = Payer::new(ferdie.clone(), id);

	let models: serde_json::Value = rt.block_on(async {
		reqwest::get(format!("http://127.0.0.1:{}/v1/models", worker.port))
			.await
			.unwrap()
			.json()
			.await
			.unwrap()
	});
	let price_of = |name: &str| -> (u128, u128) {
		let m = models["data"]
			.as_array()
			.unwrap()
			.iter()
			.find(|m| m["id"] == name)
			.unwrap()
			.clone();
		(planck(&m["agora"]["base_price"]), planck(&m["agora"]["price_per_1k_tokens"]))
	};
	let (eb, ek) = price_of("all-MiniLM-L6-v2");
	let embed_price = eb + ek / 1000;
	let (cb, ck) = price_of("SmolLM2-135M-Instruct");
	let chat_price = cb + ck * 16 / 1000;
	let mut served = 0u128;

	// A short channel, paid once: the test's end shows it forgotten once closed.
	let open = agora_json(
		url,
		&["channel", "open", "--suri", "//Ferdie", "--to", BOB, "--value", "1", "--blocks", "40"],
	);
	let short_id = open[0]["id"].as_u64().unwrap();
	let short_expiration = open[0]["expiration"].as_u64().unwrap();
	let v = Payer::new(ferdie.clone(), short_id).pay(0, embed_price).unwrap();
	let body = serde_json::json!({"model": "all-MiniLM-L6-v2", "input": "a short channel"});
	let (code, _, text) = post(&rt, worker, "/v1/embeddings", &body, Some(&v));
	assert_eq!(code, 200, "{text}");

	// Embeddings, one and two texts, over two lanes.
	for i in 0..6u32 {
		let texts: Vec<String> =
			(0..=(i % 2)).map(|k| format!("sentence {i}.{k} about cats")).collect();
		let price = embed_price * texts.len() as u128;
		let v = payer.pay(i % 2, price).unwrap();
		let body = serde_json::json!({"model": "all-MiniLM-L6-v2", "input": texts});
		let (code, headers, text) = post(&rt, worker, "/v1/embeddings", &body, Some(&v));
		assert_eq!(code, 200, "{text}");
		let r: serde_json::Value = serde_json::from_str(&text).unwrap();
		let vectors: Vec<Vec<f32>> = r["data"]
			.as_array()
			.unwrap()
			.iter()
			.map(|d| {
				d["embedding"]
					.as_array()
					.unwrap()
					.iter()
					.map(|x| x.as_f64().unwrap() as f32)
					.collect()
			})
			.collect();
		assert_eq!(vectors.len(), texts.len());
		assert!(vectors.iter().all(|v| v.len() == 384));
		let bytes: Vec<u8> = vectors.iter().flat_map(|x| agora_primitives::jobs::encode_embedding(x)).collect();
		let receipt = headers[agora_worker::paid::RECEIPT_HEADER].to_str().unwrap();
		assert_eq!(check_receipt(receipt, &v, &bytes), texts.len() as u32);
		served += price;
	}

	// Chat completions: whole, then streamed token by token.
	let chat = |stream: bool| {
		serde_json::json!({"model": "SmolLM2-135M-Instruct", "max_tokens": 16, "stream": stream,
			"messages": [{"role": "user", "content": "Name three colours."}]})
	};
	let mut whole = String::new();
	for _ in 0..2 {
		let v = payer.pay(2, chat_price).unwrap();
		let (code, headers, text) =
			post(&rt, worker, "/v1/chat/completions", &chat(false), Some(&v));
		assert_eq!(code, 200, "{text}");
		let r: serde_json::Value = serde_json::from_str(&text).unwrap();
		whole = r["choices"][0]["message"]["content"].as_str().unwrap().to_string();
		assert!(!whole.is_empty());
		let tokens: Vec<u32> = r["agora"]["tokens"]
			.as_array()
			.unwrap()
			.iter()
			.map(|t| t.as_u64().unwrap() as u32)
			.collect();
		let output =
			agora_primitives::jobs::GenerationOutput { text: whole.clone(), tokens }.to_bytes();
		let receipt = headers[agora_worker::paid::RECEIPT_HEADER].to_str().unwrap();
		assert_eq!(
			check_receipt(receipt, &v, &output),
			r["usage"]["completion_tokens"].as_u64().unwrap() as u32
		);
		served += chat_price;
	}
	for lane in [3, 4] {
		let v = payer.pay(lane, chat_price).unwrap();
		let (code, _, text) = post(&rt, worker, "/v1/chat/completions", &chat(true), Some(&v));
		assert_eq!(code, 200, "{text}");
		let events: Vec<&str> = text.lines().filter_map(|l| l.strip_prefix("data: ")).collect();
		assert_eq!(events.last(), Some(&"[DONE]"));
		let parsed: Vec<serde_json::Value> = events[..events.len() - 1]
			.iter()
			.map(|e| serde_json::from_str(e).unwrap())
			.collect();
		let deltas: Vec<&str> = parsed
			.iter()
			.filter_map(|e| e["choices"][0]["delta"]["content"].as_str())
			.filter(|d| !d.is_empty())
			.collect();
		assert!(deltas.len() >= 3, "not streamed token by token: {deltas:?}");
		assert_eq!(deltas.concat(), whole, "the stream is the same greedy answer");
		let last = parsed.last().unwrap();
		let tokens: Vec<u32> = last["agora"]["tokens"]
			.as_array()
			.unwrap()
			.iter()
			.map(|t| t.as_u64().unwrap() as u32)
			.collect();
		let output =
			agora_primitives::jobs::GenerationOutput { text: whole.clone(), tokens }.to_bytes();
		check_receipt(last["agora"]["receipt"].as_str().unwrap(), &v, &output);
		served += chat_price;
	}

	// The official `openai` Python package, unchanged but for the base URL and
	// the voucher header (scripts/setup.sh installs it).
	let python = std::env::var("AGORA_TOOLS")
		.map(std::path::PathBuf::from)
		.unwrap_or_else(|_| std::path::PathBuf::from(std::env::var("HOME").unwrap()).join(".cache/agora-tools"))
		.join("openai-venv/bin/python");
	assert!(python.exists(), "{} is missing: run scripts/setup.sh", python.display());
	let vouchers = [payer.pay(5, chat_price).unwrap(), payer.pay(6, chat_price).unwrap(), payer.pay(7, embed_price).unwrap()];
	let out = std::process::Command::new(&python)
		.arg(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/openai/paid.py"))
		.arg(format!("http://127.0.0.1:{}/v1", worker.port))
		.args(vouchers.iter().map(channel::to_header))
		.output()
		.unwrap();
	assert!(out.status.success(), "the openai package failed:\n{}", String::from_utf8_lossy(&out.stderr));
	let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
	assert_eq!(r["text"], whole.as_str(), "{r}");
	assert_eq!(r["streamed"], whole.as_str(), "{r}");
	assert!(r["stream_events"].as_u64().unwrap() >= 3, "{r}");
	assert_eq!(r["dim"], 384);
	served += 2 * chat_price + embed_price;

	// Every bad request: its own status and code, nothing charged.
	let emb = serde_json::json!({"model": "all-MiniLM-L6-v2", "input": "a cat"});
	let (code, _, text) = post(&rt, worker, "/v1/embeddings", &emb, None);
	assert_eq!((code, error_code(&text).as_str()), (402, "voucher_required"));
	let last0 = payer.pay(0, 0).unwrap(); // the lane's state, unsent
	let (n0, t0) = (last0.voucher.nonce, last0.voucher.cumulative);
	let replay = channel::sign(&ferdie, id, 0, n0 - 1, t0);
	let (code, _, text) = post(&rt, worker, "/v1/embeddings", &emb, Some(&replay));
	assert_eq!((code, error_code(&text).as_str()), (409, "voucher_replayed"));
	let under = channel::sign(&ferdie, id, 0, n0, t0 + embed_price - 1);
	let (code, _, text) = post(&rt, worker, "/v1/embeddings", &emb, Some(&under));
	assert_eq!((code, error_code(&text).as_str()), (402, "underpaid"));
	let eve = agora_client::chain::keypair(Some("//Eve"), None).unwrap();
	let forged = channel::sign(&eve, id, 0, n0, t0 + embed_price);
	let (code, _, text) = post(&rt, worker, "/v1/embeddings", &emb, Some(&forged));
	assert_eq!((code, error_code(&text).as_str()), (403, "bad_signature"));
	let over = channel::sign(&ferdie, id, 9, 1, 5 * AGR);
	let (code, _, text) = post(&rt, worker, "/v1/embeddings", &emb, Some(&over));
	assert_eq!((code, error_code(&text).as_str()), (402, "over_channel_value"));
	let elsewhere = channel::sign(&ferdie, other, 0, 1_000, 9 * AGR);
	let (code, _, text) = post(&rt, worker, "/v1/embeddings", &emb, Some(&elsewhere));
	assert_eq!((code, error_code(&text).as_str()), (403, "wrong_recipient"));
	let good = channel::sign(&ferdie, id, 0, n0, t0 + embed_price);
	let (code, _, text) = post(
		&rt,
		worker,
		"/v1/embeddings",
		&serde_json::json!({"model": "gpt-4", "input": "x"}),
		Some(&good),
	);
	assert_eq!((code, error_code(&text).as_str()), (404, "model_not_found"));
	let (code, _, text) =
		post(&rt, worker, "/v1/embeddings", &serde_json::json!({"input": 7}), Some(&good));
	assert_eq!((code, error_code(&text).as_str()), (400, "malformed_body"));
	let long = serde_json::json!({"model": "SmolLM2-135M-Instruct", "max_tokens": 100_000, "messages": [{"role": "user", "content": "hi"}]});
	let (code, _, text) = post(&rt, worker, "/v1/chat/completions", &long, Some(&good));
	assert_eq!((code, error_code(&text).as_str()), (400, "malformed_body"));
	// Inputs a dispute could not carry are refused before the voucher.
	let huge = serde_json::json!({"model": "SmolLM2-135M-Instruct", "max_tokens": 4,
		"messages": [{"role": "user", "content": "a".repeat(17 * 1024)}]});
	let (code, _, text) = post(&rt, worker, "/v1/chat/completions", &huge, Some(&good));
	assert_eq!((code, error_code(&text).as_str()), (400, "prompt_too_long"));
	let many: Vec<String> = (0..33).map(|i| format!("text {i}")).collect();
	let (code, _, text) = post(&rt, worker, "/v1/embeddings", &serde_json::json!({"model": "all-MiniLM-L6-v2", "input": many}), Some(&good));
	assert_eq!((code, error_code(&text).as_str()), (400, "malformed_body"));
	// The refused requests cost nothing: the very voucher that pays one more
	// embedding on lane 0 is still good.
	let (code, headers, text) = post(&rt, worker, "/v1/embeddings", &emb, Some(&good));
	assert_eq!(code, 200, "{text}");
	assert!(headers.get("x-agora-kept").is_none(), "a first answer is not a kept one");
	served += embed_price;
	// Sent again with the voucher that paid for it (as after a broken
	// connection): the same answer, byte for byte, charged once.
	let (code, again, text2) = post(&rt, worker, "/v1/embeddings", &emb, Some(&good));
	assert_eq!((code, again.get("x-agora-kept").map(|v| v.to_str().unwrap())), (200, Some("true")), "{text2}");
	assert_eq!(text2, text);
	assert_eq!(again.get(channel::RECEIPT_HEADER), headers.get(channel::RECEIPT_HEADER));
	// The spent voucher buys no other request.
	let other = serde_json::json!({"model": "all-MiniLM-L6-v2", "input": "a dog"});
	let (code, _, text) = post(&rt, worker, "/v1/embeddings", &other, Some(&good));
	assert_eq!((code, error_code(&text).as_str()), (409, "voucher_spent"), "{text}");

	// Bob's worker claims on its schedule: exactly what it served, not a planck more.
	wait_claimed(url, id, served, worker);
	assert!(worker.log().contains("claimed"), "{}", worker.log());

	let lost = crash_under_load(&rt, worker, &ferdie, id, embed_price, chat_price);
	served += lost.0;
	wait_claimed(url, id, served, worker);
	println!("SIGKILL under load: {} requests served over 8 lanes, {} retried after the kill ({} of them answered before it, their kept answers sent again), claimed exactly {served} planck in all", lost.1, lost.2, lost.3);
	wait_claimed(url, short_id, embed_price, worker);
	(short_id, short_expiration, embed_price)
}

/// Waits until channel `id` has `served` claimed in all, never more.
fn wait_claimed(url: &str, id: u64, served: u128, worker: &Worker) {
	let t = Instant::now();
	loop {
		let c = status(url, id);
		if planck(&c["claimed"]) == served {
			return;
		}
		assert!(planck(&c["claimed"]) < served, "claimed more than served: {c}");
		assert!(
			t.elapsed() < Duration::from_secs(120),
			"the worker never claimed {served}: {c}\n{}",
			worker.log()
		);
		std::thread::sleep(Duration::from_secs(2));
	}
}

/// One paid request that may meet a dead worker: `Ok((status, kept, body))`
/// only when the whole answer arrived (a stream through `[DONE]`); `kept`:
/// the worker sent it again from its book (`x-agora-kept`).
async fn try_post(port: u16, path: &str, body: &serde_json::Value, v: &channel::Signed) -> Result<(u16, bool, String), String> {
	let resp = reqwest::Client::new()
		.post(format!("http://127.0.0.1:{port}{path}"))
		.header(channel::VOUCHER_HEADER, channel::to_header(v))
		.json(body)
		.timeout(Duration::from_secs(60))
		.send()
		.await
		.map_err(|e| e.to_string())?;
	let status = resp.status().as_u16();
	let kept = resp.headers().get("x-agora-kept").is_some();
	let text = resp.text().await.map_err(|e| e.to_string())?;
	if status == 200 && body["stream"] == true && !text.contains("data: [DONE]") {
		return Err("the stream broke off".into());
	}
	Ok((status, kept, text))
}

/// 8 lanes of Ferdie's channel send requests at once (6 of 200 embeddings, 2
/// of 12 streamed chats), each lane in order; the worker is SIGKILLed while they
/// run and restarted on the same data directory. A request that got no whole
/// answer is sent again with the same voucher: accepted but not served before
/// the kill, it is served now; answered before the kill (the answer lost on
/// the way), the kept answer comes again (200, `x-agora-kept`), receipt and
/// all. No request is refused. A request answered just before the kill (on a
/// ninth lane) is sent again after it and gets its kept answer. Returns (the
/// prices served, requests served,
/// requests retried, retries answered from the book).
fn crash_under_load(
	rt: &tokio::runtime::Runtime,
	worker: &mut Worker,
	payer: &agora_client::chain::Keypair,
	id: u64,
	embed_price: u128,
	chat_price: u128,
) -> (u128, u32, u32, u32) {
	// Enough that every lane is still sending when the kill comes.
	const EMBEDDINGS: u64 = 200;
	const CHATS: u64 = 12;
	let port = worker.port;
	let tasks: Vec<_> = (0..8u32)
		.map(|k| {
			let lane = 20 + k;
			let payer = payer.clone();
			let chat = k >= 6;
			rt.spawn(async move {
				let (path, body, price) = if chat {
					let b = serde_json::json!({"model": "SmolLM2-135M-Instruct", "max_tokens": 16, "stream": true,
						"messages": [{"role": "user", "content": format!("Count to {}.", lane)}]});
					("/v1/chat/completions", b, chat_price)
				} else {
					let b = serde_json::json!({"model": "all-MiniLM-L6-v2", "input": format!("lane {lane} sentence")});
					("/v1/embeddings", b, embed_price)
				};
				let (mut paid, mut served, mut retried, mut lost) = (0u128, 0u32, 0u32, 0u32);
				for n in 1..=if chat { CHATS } else { EMBEDDINGS } {
					let v = channel::sign(&payer, id, lane, n, price * u128::from(n));
					let mut again = false;
					let t0 = Instant::now();
					loop {
						match try_post(port, path, &body, &v).await {
							Ok((200, kept, text)) => {
								assert!(text.contains("receipt"), "lane {lane} nonce {n}: an answer without its receipt: {text}");
								assert!(again || !kept, "lane {lane} nonce {n}: a first request answered from the book");
								lost += u32::from(kept);
								break;
							},
							Ok((code, _, text)) => panic!("lane {lane} nonce {n}: {code} {text}"),
							Err(e) => {
								assert!(t0.elapsed() < Duration::from_secs(300), "lane {lane}: the worker never came back: {e}");
								if !again {
									retried += 1;
								}
								again = true;
								tokio::time::sleep(Duration::from_millis(300)).await;
							},
						}
					}
					paid += price;
					served += 1;
				}
				(paid, served, retried, lost)
			})
		})
		.collect();
	// One more lane answers a request just before the kill, and the client
	// takes the answer: sent again after the restart with the same voucher, it
	// comes back from the book, byte for byte, charged once.
	let body = serde_json::json!({"model": "all-MiniLM-L6-v2", "input": "answered before the kill"});
	let v = channel::sign(payer, id, 40, 1, embed_price);
	std::thread::sleep(Duration::from_millis(1_200));
	let before = rt.block_on(try_post(port, "/v1/embeddings", &body, &v));
	assert!(matches!(&before, Ok((200, false, _))), "{before:?}");
	// Kill while requests are in flight: after the first answers, mid-stream.
	worker.restart();
	let after = rt.block_on(try_post(port, "/v1/embeddings", &body, &v));
	assert!(matches!(&after, Ok((200, true, _))), "not kept across the kill: {after:?}");
	assert_eq!(after.unwrap().2, before.unwrap().2, "the kept answer is the one sent");
	let mut total = (0u128, 0u32, 0u32, 0u32);
	for t in tasks {
		let (p, s, r, l) = rt.block_on(t).unwrap();
		total = (total.0 + p, total.1 + s, total.2 + r, total.3 + l);
	}
	total.0 += embed_price;
	assert_eq!(u64::from(total.1), 6 * EMBEDDINGS + 2 * CHATS);
	assert!(total.2 >= 6, "the kill met only {} lanes with a request in flight", total.2);
	total
}
