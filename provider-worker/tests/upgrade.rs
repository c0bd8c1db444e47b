//! A forkless runtime upgrade, as a live chain takes one. The chain starts from
//! the dev chain spec of the previous release (`tests/fixtures/dev-spec100.json`:
//! `chain-specs/dev.json` as committed at afecfb9, whose genesis carries that
//! release's runtime, spec_version 100). On it Bob's worker answers and is paid
//! for a job, Bob closes an offer (a closed-offer record in the v0 layout) and
//! Dave opens a payment channel to Bob. A root referendum driven from the
//! `agora` CLI (fast tracks: dev genesis) enacts `system.set_code` with this
//! build's runtime (spec_version 105), which lists `pallet-models`' v0 → v1
//! migration (closed offers lose `closed_at`), those of `pallet-jobs` and
//! `pallet-verification` (their per-block queues become sets drained by
//! cursors; the job receipted across the upgrade rides through them) and that
//! of `pallet-channels` (a channel records what was paid out of its claims:
//! the open channel's record gains `paid`, 16 bytes, equal to its claims).
//!
//! Shown: the migration ran in the first block executed by the new runtime and
//! in no other (the storage version and the record at that block and its
//! parent), with the record rewritten exactly (4 bytes shorter, same signer and
//! expiry); re-executing that block runs every pallet's `try_state` after it;
//! the chain keeps producing and finalizing; the finished job, Bob's bond and
//! the channel's held value are as they were; a job receipted before the
//! upgrade is paid after it, whichever side of the upgrade its window closed
//! on; and the same worker, never restarted, answers and is paid for a new job
//! on the new runtime.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;
use codec::Encode;
use common::*;
use serde_json::{json, Value};
use std::{
	path::Path,
	time::{Duration, Instant},
};

fn hex_bytes(v: &Value) -> Option<Vec<u8>> {
	v.as_str().map(|s| hex::decode(s.trim_start_matches("0x")).unwrap())
}

fn block_hash(node: &Node, n: u64) -> String {
	node.rpc("chain_getBlockHash", json!([n])).as_str().unwrap().to_string()
}

fn finalized(node: &Node) -> u64 {
	finalized_number(node.rpc_port).unwrap()
}

/// The runtime's spec_version after block `at` (the best block if `None`).
fn spec_version(node: &Node, at: Option<&str>) -> u64 {
	let params = at.map(|h| json!([h])).unwrap_or(json!([]));
	node.rpc("state_getRuntimeVersion", params)["specVersion"].as_u64().unwrap()
}

/// A storage value's raw bytes after block `at` (the best block if `None`).
fn raw(node: &Node, key: &[u8], at: Option<&str>) -> Option<Vec<u8>> {
	let k = format!("0x{}", hex::encode(key));
	let params = at.map(|h| json!([k, h])).unwrap_or(json!([k]));
	hex_bytes(&node.rpc("state_getStorage", params))
}

fn prefix(pallet: &str, item: &str) -> Vec<u8> {
	[sp_crypto_hashing::twox_128(pallet.as_bytes()), sp_crypto_hashing::twox_128(item.as_bytes())].concat()
}

/// A pallet's on-chain storage version (absent reads as 0).
fn version_of(node: &Node, pallet: &str, at: Option<&str>) -> u16 {
	raw(node, &prefix(pallet, ":__STORAGE_VERSION__:"), at)
		.map(|b| u16::from_le_bytes([b[0], b[1]]))
		.unwrap_or(0)
}

/// `pallet-models`' on-chain storage version.
fn models_version(node: &Node, at: Option<&str>) -> u16 {
	version_of(node, "Models", at)
}

const DAVE: &str = "5DAAnrj7VHTznn2AWBemMuyBwZWs6FNFjdyVXUeYum3PTXFy";

/// This build's spec_version (`runtime/src/lib.rs`).
const NEW_SPEC: u64 = 106;

/// The key of `Channels::Channels[id]` (Twox64Concat).
fn channel_key(id: u64) -> Vec<u8> {
	let e = id.encode();
	[prefix("Channels", "Channels"), sp_crypto_hashing::twox_64(&e).to_vec(), e].concat()
}

/// The key of `Models::ClosedOffers[id]` (Twox64Concat).
fn closed_offer_key(id: u64) -> Vec<u8> {
	let e = id.encode();
	[prefix("Models", "ClosedOffers"), sp_crypto_hashing::twox_64(&e).to_vec(), e].concat()
}

fn embed_job(url: &str, who: &str, text: &str) -> String {
	let job = agora_json(
		url,
		&[
			"job", "submit", "--suri", who, "--model", "all-MiniLM-L6-v2", "--input", text, "--max-price",
			"0.05", "--max-tokens", "1", "--wait",
		],
	);
	job[0]["job_id"].as_u64().unwrap().to_string()
}

fn finalized_job(url: &str, id: &str) -> Value {
	let s = agora_json(url, &["job", "status", id, "--wait-finalized"]);
	assert_eq!(s[0]["status"], "Finalized", "{}", s[0]);
	assert!(planck(&s[0]["payout"]["to_provider"]) > 0, "{}", s[0]);
	s[0].clone()
}

#[test]
fn a_referendum_upgrades_a_running_chain_its_migration_runs_once_and_nothing_is_lost() {
	let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dev-spec100.json");
	let node = Node::start_chain(&fixture);
	wait_ready(&node);
	let url = node.url();
	assert_eq!(spec_version(&node, None), 100, "the previous release's runtime");
	assert_eq!(models_version(&node, None), 0, "its layout: v0");
	let worker = Worker::start(&node);

	// The previous release at work: a job answered, verified and paid.
	let first = embed_job(&url, "//Charlie", "Before the upgrade.");
	let first_done = finalized_job(&url, &first);

	// Bob closes his generation offer: its record is kept, in the v0 layout.
	let models = agora_json(&url, &["model", "list"]);
	let smol = models[0]
		.as_array()
		.unwrap()
		.iter()
		.find(|m| m["name"] == "SmolLM2-135M-Instruct")
		.unwrap_or_else(|| panic!("{models:?}"))["id"]
		.as_str()
		.unwrap()
		.to_string();
	let bobs = node.rpc("agora_provider", json!([BOB]))["offers"].clone();
	let offers = node.rpc("agora_offers", json!([smol]));
	let offer = offers
		.as_array()
		.unwrap()
		.iter()
		.map(|o| o["id"].clone())
		.find(|id| bobs.as_array().unwrap().contains(id))
		.unwrap_or_else(|| panic!("Bob's offers {bobs}, the model's {offers}"))
		.as_u64()
		.unwrap();
	let (ok, out, err) =
		agora(&url, &["provider", "close-offer", "--suri", "//Bob", "--id", &offer.to_string()]);
	assert!(ok, "{out}{err}");
	let v0_record = raw(&node, &closed_offer_key(offer), None).expect("the closed offer is kept");
	// signer (provider, model, worker key: 3 × 32 bytes), closed_at, expires_at (u32 each).
	assert_eq!(v0_record.len(), 96 + 4 + 4);

	// Dave opens a channel to Bob: 10 AGR held on his account.
	let open = agora_json(
		&url,
		&["channel", "open", "--suri", "//Dave", "--to", BOB, "--value", "10", "--blocks", "2000"],
	);
	let channel_id = open[0]["id"].as_u64().unwrap();
	let channel = channel_id.to_string();
	let expiration = open[0]["expiration"].as_u64().unwrap();
	// This build's client reads channels in the v1 layout; the record is read
	// raw here, in the v0 layout: sender, recipient, signer (32 bytes each),
	// value, claimed (u128 each), expiration (u32), no lanes (one byte).
	let channel_v0 = raw(&node, &channel_key(channel_id), None).expect("the channel is on chain");
	assert_eq!(channel_v0.len(), 3 * 32 + 2 * 16 + 4 + 1);
	assert_eq!(u128::from_le_bytes(channel_v0[96..112].try_into().unwrap()), 10 * 1_000_000_000_000);
	let bond_before = node.rpc("agora_provider", json!([BOB]))["bond"].clone();

	// A root referendum: the new runtime's preimage is noted and proposed; nine
	// holders vote aye with 900,000 AGR each (over half the issuance, so the
	// root track's support curve is met at once).
	let wasm = compressed_wasm(&runtime_wasm(), node.dir.path());
	let p = agora_json(&url, &["gov", "propose-upgrade", "--suri", "//Alice", "--wasm", wasm.to_str().unwrap()]);
	let referendum = p[0]["referendum"].as_u64().unwrap().to_string();
	let voters: Vec<_> = ["Alice", "Charlie", "Dave", "Eve", "Ferdie", "One", "Two", "Alice//stash", "Bob//stash"]
		.into_iter()
		.map(|who| {
			let (url, idx) = (url.clone(), referendum.clone());
			std::thread::spawn(move || {
				let suri = format!("//{who}");
				let (ok, out, err) = agora(
					&url,
					&["gov", "vote", "--suri", &suri, &idx, "aye", "--conviction", "1", "--amount", "900000"],
				);
				assert!(ok, "{who} voting: {out}{err}");
			})
		})
		.collect();
	for v in voters {
		v.join().unwrap();
	}
	// A job receipted now is still in its dispute window while the referendum
	// passes; wherever the upgrade falls, it must be paid exactly once.
	let crossing = embed_job(&url, "//Ferdie", "Across the upgrade.");
	let (ok, out, err) = agora(&url, &["gov", "deposit", "--suri", "//Alice", &referendum]);
	assert!(ok, "{out}{err}");
	let w = agora_json(&url, &["gov", "status", &referendum, "--wait"]);
	assert_eq!(w[0]["referendum"]["state"], "Approved", "{}", w[0]);
	assert_eq!(w[0]["enacted"], true, "{}", w[0]);
	assert_eq!(spec_version(&node, None), NEW_SPEC, "the chain runs this build's runtime");

	// The first block executed by the new runtime: the one after the block
	// that set the code (the first whose state has the new spec_version).
	let mut set_code = finalized(&node);
	let t0 = Instant::now();
	while spec_version(&node, Some(&block_hash(&node, set_code))) != NEW_SPEC {
		assert!(t0.elapsed() < Duration::from_secs(120), "the upgrade never finalized:\n{}", node.log_tail());
		std::thread::sleep(Duration::from_secs(1));
		set_code = finalized(&node);
	}
	while spec_version(&node, Some(&block_hash(&node, set_code - 1))) == NEW_SPEC {
		set_code -= 1;
	}
	let migrated = set_code + 1;
	let t0 = Instant::now();
	while finalized(&node) < migrated + 1 {
		assert!(t0.elapsed() < Duration::from_secs(60), "finality stopped after the upgrade:\n{}", node.log_tail());
		std::thread::sleep(Duration::from_secs(1));
	}
	let (before, at) = (block_hash(&node, set_code), block_hash(&node, migrated));
	assert_eq!(models_version(&node, Some(&before)), 0, "not migrated when the code was set");
	assert_eq!(raw(&node, &closed_offer_key(offer), Some(&before)).as_ref(), Some(&v0_record));
	assert_eq!(models_version(&node, Some(&at)), 1, "migrated in block {migrated}");
	assert_eq!(raw(&node, &channel_key(channel_id), Some(&before)).as_ref(), Some(&channel_v0));
	for pallet in ["Jobs", "Verification", "Channels"] {
		assert_eq!(version_of(&node, pallet, Some(&before)), 0, "{pallet}: not migrated when the code was set");
		assert_eq!(version_of(&node, pallet, Some(&at)), 1, "{pallet}: migrated in block {migrated}");
	}
	// `paid` (= claimed, nothing) after `claimed`; the rest as it was.
	let channel_v1 = [&channel_v0[..128], &[0u8; 16][..], &channel_v0[128..]].concat();
	assert_eq!(raw(&node, &channel_key(channel_id), Some(&at)), Some(channel_v1), "paid added");
	let v1_record = [&v0_record[..96], &v0_record[100..]].concat();
	assert_eq!(raw(&node, &closed_offer_key(offer), Some(&at)), Some(v1_record.clone()), "closed_at dropped");
	// Re-executing the migration block on its parent's state, then every
	// pallet's try_state (the models pallet decodes every closed offer).
	let t = agora_json(&url, &["try-state", "--at", &migrated.to_string()]);
	assert_eq!(t[0]["ok"], true, "{t:?}");

	// Nothing lost: the finished job, the bond, the channel and its held value.
	let again = agora_json(&url, &["job", "status", &first, "--wait-finalized"]);
	assert_eq!(again[0], first_done, "the finished job reads the same");
	assert_eq!(node.rpc("agora_provider", json!([BOB]))["bond"], bond_before);
	let c = &agora_json(&url, &["channel", "status", "--id", &channel])[0][0];
	assert_eq!((c["sender"].as_str(), c["recipient"].as_str()), (Some(DAVE), Some(BOB)), "{c}");
	assert_eq!((planck(&c["value"]), planck(&c["claimed"]), planck(&c["paid"])), (10_000_000_000_000, 0, 0), "{c}");
	assert_eq!(c["expiration"].as_u64(), Some(expiration), "{c}");
	// (Its 10 AGR are still held on Dave's account: the channels pallet's
	// try_state, run above and below, checks held = Σ open channels' value
	// less what was paid out.)
	// The job receipted before the upgrade is paid.
	let c = finalized_job(&url, &crossing);
	eprintln!(
		"code set in block {set_code}, migrated in {migrated}; the crossing job receipted in {}, paid in {}",
		c["receipt"]["at"], c["payout"]["block"]
	);

	// The same worker, never restarted, serves the new runtime: a new job is
	// answered, verified and paid.
	let after = embed_job(&url, "//Charlie", "After the upgrade.");
	finalized_job(&url, &after);
	assert_eq!(worker.starts, 1);
	assert_eq!(models_version(&node, None), 1);
	assert_eq!(raw(&node, &closed_offer_key(offer), None), Some(v1_record));
	assert_try_state(&url);
}
