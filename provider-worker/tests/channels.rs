//! Payment channels end to end on a real dev node, through the `agora` client as
//! a user runs it: open → 100 paid requests' vouchers over 4 lanes → one batch
//! claim → reclaim the rest after expiry, every balance exact to the planck;
//! and the attacks on a channel (replay, forgery, over-claiming, claiming
//! someone else's channel, reclaiming early), each refused with its own error
//! and moving nothing.
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

	// Charlie claims the 4 lanes' latest vouchers in one batch: exactly the 100 prices.
	let charlie0 = free(&url, CHARLIE);
	let mut args = vec!["channel", "claim", "--suri", "//Charlie"];
	args.extend(latest.iter().map(|s| s.as_str()));
	let claimed = agora_json(&url, &args);
	let paid: u128 = claimed[0]["claimed"]
		.as_array()
		.unwrap()
		.iter()
		.map(|c| planck(&c["paid"]))
		.sum();
	assert_eq!(paid, 100 * PRICE);
	let claim_fee = planck(&claimed[0]["fee"]);
	assert_eq!(free(&url, CHARLIE), charlie0 + 100 * PRICE - claim_fee);
	let c = status(&url, id);
	assert_eq!(planck(&c["claimed"]), 100 * PRICE);
	assert_eq!(c["lanes"].as_array().unwrap().len(), 4);

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
	assert_eq!(free(&url, DAVE), dave1 + 10 * AGR - 100 * PRICE - planck(&back[0]["fee"]));
	// Over the channel's life Dave paid exactly the 100 prices and two fees.
	assert_eq!(free(&url, DAVE), dave0 - 100 * PRICE - open_fee - planck(&back[0]["fee"]));
	let (ok, _, err) = agora(&url, &["channel", "status", "--id", &id.to_string()]);
	assert!(!ok && err.contains("no open channel"), "{err}");
	assert_try_state(&url);
}
