//! Payment channels from the client (`agora channel …`, docs/protocol.md §4.2):
//! open, fund, extend, reclaim and read channels; make vouchers ([`Payer`]);
//! and, for a provider, claim them in batches and withdraw what it claimed.
//!
//! A voucher travels to the worker in the [`VOUCHER_HEADER`] header as the hex
//! of its SCALE encoding ([`to_header`], [`from_header`]).
use crate::chain::{self, runtime, Client, Keypair};
use agora_primitives::channels::{ChannelId, LaneId, SignedVoucher, Voucher};
use codec::{Decode, Encode};
use std::collections::BTreeMap;
use subxt::utils::AccountId32;

/// The HTTP header a paid request carries its voucher in.
pub const VOUCHER_HEADER: &str = "x-agora-voucher";

/// The HTTP header a paid answer carries its served receipt in: hex of
/// SCALE `(ServedReceipt, signature)`.
pub const RECEIPT_HEADER: &str = "x-agora-receipt";

/// What an embedding request of `inputs` texts costs at an offer's prices:
/// `(base + per_1k / 1000) × inputs` (one output unit per text).
pub fn embeddings_price(base: u128, per_1k: u128, inputs: usize) -> u128 {
	base.saturating_add(per_1k / 1000).saturating_mul(inputs as u128)
}

/// What a completion of up to `max_tokens` costs at an offer's prices:
/// `base + per_1k × max_tokens / 1000`.
pub fn completion_price(base: u128, per_1k: u128, max_tokens: u32) -> u128 {
	base.saturating_add(per_1k.saturating_mul(u128::from(max_tokens)) / 1000)
}

/// The input bytes a chat request is run and hashed as (the receipt's
/// `input_hash` covers them, and a dispute carries them):
/// `{"messages":[{"role":…,"content":…},…]}`, fields in that order. One
/// function for the worker and the client, so both hash the same bytes.
pub fn chat_input<'a>(messages: impl IntoIterator<Item = (&'a str, &'a str)>) -> Vec<u8> {
	#[derive(serde::Serialize)]
	struct Message<'a> {
		role: &'a str,
		content: &'a str,
	}
	#[derive(serde::Serialize)]
	struct Input<'a> {
		messages: Vec<Message<'a>>,
	}
	let messages = messages.into_iter().map(|(role, content)| Message { role, content }).collect();
	serde_json::to_vec(&Input { messages }).unwrap_or_default()
}

/// The input bytes an embeddings request is hashed as: the JSON array of its texts.
pub fn embeddings_input(texts: &[String]) -> Vec<u8> {
	serde_json::to_vec(texts).unwrap_or_default()
}

/// What the client asked and paid for, as a served receipt must state it.
#[derive(Clone, Copy, Debug)]
pub struct ServedRequest<'a> {
	/// [`chat_input`] or [`embeddings_input`] of the request.
	pub input: &'a [u8],
	pub params: agora_primitives::JobParams,
	/// What the voucher added for this request.
	pub price: u128,
	/// The finalized block before the request left.
	pub head: u64,
	/// `SERVED_DISPUTE_WINDOW` in force: the receipt's `at` may trail `head` by
	/// [`served_at_slack`] of it, so that a worker whose node lags a few
	/// blocks is not refused, while a backdated receipt (one that would leave
	/// its dispute window early) is.
	pub window: u64,
}

/// Blocks a served receipt's `at` may trail the client's view of the
/// finalized head: half the dispute window, at least 3 (the worker refreshes
/// its head every 2 s). At least half the window is always left to dispute.
pub fn served_at_slack(window: u64) -> u64 {
	(window / 2).max(3)
}

/// A served receipt and the worker key's signature over it.
pub type SignedServed = (agora_primitives::channels::ServedReceipt<[u8; 32]>, [u8; 64]);

/// Checks a paid answer's served receipt (the [`RECEIPT_HEADER`] value):
/// signed by `worker_key`, for `voucher`'s channel, lane and nonce, for
/// `request` (its input, parameters and price, served no earlier than the
/// client's head less [`served_at_slack`]), over `output` (the bytes the
/// answer stands for). A receipt that passes can be disputed on chain
/// (`verification.dispute_receipt`). Returns it with its signature.
pub fn check_served_receipt(
	header: &str,
	voucher: &Signed,
	worker_key: [u8; 32],
	request: &ServedRequest,
	output: &[u8],
) -> anyhow::Result<SignedServed> {
	let raw = hex::decode(header.trim().trim_start_matches("0x"))
		.map_err(|e| anyhow::anyhow!("the receipt is not hex: {e}"))?;
	let mut input = &raw[..];
	let (r, sig): SignedServed =
		Decode::decode(&mut input).map_err(|e| anyhow::anyhow!("not a SCALE receipt: {e}"))?;
	anyhow::ensure!(input.is_empty(), "{} bytes after the receipt", input.len());
	anyhow::ensure!(r.worker_pubkey == worker_key, "the receipt names worker key {}, not the offer's {}", crate::hex0x(&r.worker_pubkey), crate::hex0x(&worker_key));
	anyhow::ensure!(chain::sr25519_verify(&sig, &r.signing_payload(), &worker_key), "the receipt's signature is not the worker key's");
	let v = &voucher.voucher;
	anyhow::ensure!(
		(r.channel_id, r.lane, r.nonce) == (v.channel_id, v.lane, v.nonce),
		"the receipt is for channel {} lane {} nonce {}, not this request's {} {} {}",
		r.channel_id, r.lane, r.nonce, v.channel_id, v.lane, v.nonce
	);
	anyhow::ensure!(
		r.output_hash == agora_primitives::rules::content_hash(output),
		"the receipt's output hash does not match the answer served"
	);
	anyhow::ensure!(
		r.input_hash == agora_primitives::rules::content_hash(request.input),
		"the receipt's input hash is not this request's input"
	);
	anyhow::ensure!(r.params == request.params, "the receipt states parameters {:?}, not the request's {:?}", r.params, request.params);
	anyhow::ensure!(r.price == request.price, "the receipt states price {}, not the {} paid", r.price, request.price);
	anyhow::ensure!(
		u64::from(r.at).saturating_add(served_at_slack(request.window)) >= request.head,
		"the receipt is dated block {}, more than {} blocks before the head {} the request left at: less than half its dispute window ({} blocks) would be left",
		r.at,
		served_at_slack(request.window),
		request.head,
		request.window
	);
	Ok((r, sig))
}

/// Disputes a served receipt (`verification.dispute_receipt`): the
/// committee re-checks `output` for `input` under the receipt's terms. The
/// dispute's check id (its `job_id` in the verification events) and fee.
pub async fn dispute_receipt(
	client: &Client,
	key: &Keypair,
	served: &SignedServed,
	offer_id: u64,
	input: Vec<u8>,
	output: Vec<u8>,
) -> anyhow::Result<(u64, u128)> {
	let (r, sig) = served;
	let receipt = chain::recode(r)?;
	let tx = runtime::transactions().verification().dispute_receipt(receipt, *sig, offer_id, input, output);
	let events = chain::submit_final(client, &tx, key, "dispute_receipt").await?;
	let fee = chain::fee_paid(&events)?;
	let id = events
		.find_first::<runtime::verification::events::ServedDisputed>()
		.transpose()?
		.map(|e| e.job_id)
		.ok_or_else(|| anyhow::anyhow!("dispute_receipt: no ServedDisputed event"))?;
	Ok((id, fee))
}

/// A voucher as the chain and the worker take it.
pub type Signed = SignedVoucher<u128>;

/// The header value of a voucher: `0x` + hex of its SCALE encoding.
pub fn to_header(v: &Signed) -> String {
	crate::hex0x(&v.encode())
}

/// A voucher from its header value.
pub fn from_header(s: &str) -> anyhow::Result<Signed> {
	let raw = hex::decode(s.trim().trim_start_matches("0x"))
		.map_err(|e| anyhow::anyhow!("the voucher is not hex: {e}"))?;
	let mut input = &raw[..];
	let v = Signed::decode(&mut input).map_err(|e| anyhow::anyhow!("not a SCALE voucher: {e}"))?;
	anyhow::ensure!(input.is_empty(), "{} bytes after the voucher", input.len());
	Ok(v)
}

/// `signer`'s voucher for `cumulative` in total on `lane` of `channel_id`.
pub fn sign(
	signer: &Keypair,
	channel_id: ChannelId,
	lane: LaneId,
	nonce: u64,
	cumulative: u128,
) -> Signed {
	let voucher = Voucher { channel_id, lane, nonce, cumulative };
	SignedVoucher { voucher, signature: signer.sign(&voucher.signing_payload()).0 }
}

/// Makes a channel's vouchers: per lane, the next nonce and the running total.
/// One request per lane at a time; use as many lanes as requests in flight.
pub struct Payer {
	signer: Keypair,
	channel_id: ChannelId,
	lanes: BTreeMap<LaneId, (u64, u128)>,
}

impl Payer {
	/// A payer for a fresh channel (or one whose lanes this key has never paid on).
	pub fn new(signer: Keypair, channel_id: ChannelId) -> Self {
		Self { signer, channel_id, lanes: BTreeMap::new() }
	}

	/// Resumes from what a lane already signed (its last nonce and total).
	pub fn resume(&mut self, lane: LaneId, nonce: u64, total: u128) {
		self.lanes.insert(lane, (nonce, total));
	}

	/// The voucher that pays `price` more on `lane`.
	pub fn pay(&mut self, lane: LaneId, price: u128) -> anyhow::Result<Signed> {
		let (nonce, total) = self.lanes.get(&lane).copied().unwrap_or((0, 0));
		let nonce = nonce
			.checked_add(1)
			.ok_or_else(|| anyhow::anyhow!("lane {lane}'s nonces are used up"))?;
		let total = total
			.checked_add(price)
			.ok_or_else(|| anyhow::anyhow!("lane {lane}'s total overflows"))?;
		self.lanes.insert(lane, (nonce, total));
		Ok(sign(&self.signer, self.channel_id, lane, nonce, total))
	}

	/// Everything signed so far, over every lane.
	pub fn total(&self) -> u128 {
		self.lanes.values().map(|(_, t)| *t).sum()
	}
}

/// A channel as the chain stores it.
#[derive(Clone, Debug)]
pub struct Channel {
	pub id: ChannelId,
	pub sender: AccountId32,
	pub recipient: AccountId32,
	/// The key vouchers are signed with (sr25519 public key).
	pub signer: [u8; 32],
	/// Planck.
	pub value: u128,
	pub claimed: u128,
	/// Of `claimed`, what has been paid out to the recipient; the rest is
	/// still held on the sender's account, the recipient's to withdraw.
	pub paid: u128,
	pub expiration: u32,
	/// (lane, last claimed nonce, claimed from the lane).
	pub lanes: Vec<(LaneId, u64, u128)>,
}

impl Channel {
	/// What the recipient has claimed and not yet been paid.
	pub fn owed(&self) -> u128 {
		self.claimed.saturating_sub(self.paid)
	}
}

/// A [`Channel`] for people and JSON: accounts in SS58, the signer in hex,
/// amounts as strings (JSON numbers lose precision above 2^53).
#[derive(Clone, Debug, serde::Serialize)]
pub struct ChannelInfo {
	pub id: ChannelId,
	pub sender: String,
	pub recipient: String,
	pub signer: String,
	pub value: String,
	pub claimed: String,
	pub paid: String,
	pub expiration: u32,
	pub lanes: Vec<(LaneId, u64, String)>,
}

impl From<&Channel> for ChannelInfo {
	fn from(c: &Channel) -> Self {
		ChannelInfo {
			id: c.id,
			sender: c.sender.to_string(),
			recipient: c.recipient.to_string(),
			signer: crate::hex0x(&c.signer),
			value: c.value.to_string(),
			claimed: c.claimed.to_string(),
			paid: c.paid.to_string(),
			expiration: c.expiration,
			lanes: c.lanes.iter().map(|(l, n, claimed)| (*l, *n, claimed.to_string())).collect(),
		}
	}
}

type Stored = runtime::runtime_types::pallet_channels::types::Channel;

fn channel_of(id: ChannelId, c: Stored) -> Channel {
	Channel {
		id,
		sender: c.sender,
		recipient: c.recipient,
		signer: c.signer,
		value: c.value,
		claimed: c.claimed,
		paid: c.paid,
		expiration: c.expiration,
		lanes: c.lanes.0.into_iter().map(|(l, s)| (l, s.nonce, s.claimed)).collect(),
	}
}

/// One channel at the finalized head (`None`: never opened, or reclaimed).
pub async fn channel(client: &Client, id: ChannelId) -> anyhow::Result<Option<Channel>> {
	let at = client.at_current_block().await?;
	let entry = at.storage().entry(runtime::storage().channels().channels())?;
	Ok(entry
		.try_fetch((id,))
		.await?
		.map(|v| v.decode())
		.transpose()?
		.map(|c| channel_of(id, c)))
}

/// Every open channel `who` sends or receives, at the finalized head.
pub async fn channels_of(client: &Client, who: &AccountId32) -> anyhow::Result<Vec<Channel>> {
	let at = client.at_current_block().await?;
	let entry = at.storage().entry(runtime::storage().channels().channels())?;
	let mut iter = entry.iter(()).await?;
	let mut out = vec![];
	while let Some(kv) = futures::StreamExt::next(&mut iter).await {
		let kv = kv?;
		let c = channel_of(kv.key()?.decode()?.0, kv.value().decode()?);
		if &c.sender == who || &c.recipient == who {
			out.push(c);
		}
	}
	out.sort_by_key(|c| c.id);
	Ok(out)
}

/// Opens a channel of `value` planck to `recipient`, vouchers signed by
/// `voucher_key` (the sender's own key when `None`), claimable for `blocks`
/// blocks from the finalized head; returns its id and expiration.
pub async fn open(
	client: &Client,
	sender: &Keypair,
	recipient: AccountId32,
	voucher_key: Option<[u8; 32]>,
	value: u128,
	blocks: u32,
) -> anyhow::Result<(ChannelId, u32, u128)> {
	let now = client.at_current_block().await?.block_number() as u32;
	let expiration = now
		.checked_add(blocks)
		.ok_or_else(|| anyhow::anyhow!("--blocks is too large"))?;
	let signer = voucher_key.unwrap_or(sender.public_key().0);
	let tx = runtime::tx().channels().open_channel(recipient, signer, value, expiration);
	let events = chain::submit_final(client, &tx, sender, "channels.open_channel").await?;
	let ev = events
		.find_first::<runtime::channels::events::ChannelOpened>()
		.transpose()?
		.ok_or_else(|| anyhow::anyhow!("channels.open_channel: no ChannelOpened event"))?;
	Ok((ev.id, ev.expiration, chain::fee_paid(&events)?))
}

/// Adds `amount` planck to channel `id`; returns its new value and the fee paid.
pub async fn add_funds(
	client: &Client,
	sender: &Keypair,
	id: ChannelId,
	amount: u128,
) -> anyhow::Result<(u128, u128)> {
	let tx = runtime::tx().channels().add_funds(id, amount);
	let events = chain::submit_final(client, &tx, sender, "channels.add_funds").await?;
	let ev = events
		.find_first::<runtime::channels::events::FundsAdded>()
		.transpose()?
		.ok_or_else(|| anyhow::anyhow!("channels.add_funds: no FundsAdded event"))?;
	Ok((ev.value, chain::fee_paid(&events)?))
}

/// Moves channel `id`'s expiration to block `expiration`; returns the fee paid.
pub async fn extend(
	client: &Client,
	sender: &Keypair,
	id: ChannelId,
	expiration: u32,
) -> anyhow::Result<u128> {
	let tx = runtime::tx().channels().extend(id, expiration);
	chain::fee_paid(&chain::submit_final(client, &tx, sender, "channels.extend").await?)
}

/// What closing a channel moved.
#[derive(Clone, Copy, Debug)]
pub struct Reclaimed {
	/// Released back to the sender: what no voucher claimed.
	pub reclaimed: u128,
	/// Paid out to the recipient: what it claimed and had not withdrawn.
	pub paid: u128,
	/// The fee of the call.
	pub fee: u128,
}

/// Closes expired channel `id`.
pub async fn reclaim(client: &Client, who: &Keypair, id: ChannelId) -> anyhow::Result<Reclaimed> {
	let events =
		chain::submit_final(client, &runtime::tx().channels().reclaim(id), who, "channels.reclaim")
			.await?;
	let ev = events
		.find_first::<runtime::channels::events::Reclaimed>()
		.transpose()?
		.ok_or_else(|| anyhow::anyhow!("channels.reclaim: no Reclaimed event"))?;
	Ok(Reclaimed { reclaimed: ev.amount, paid: ev.paid, fee: chain::fee_paid(&events)? })
}

/// Pays out to `recipient` what it has claimed from channels `ids` and not
/// yet been paid; returns (channel, amount) per channel, and the fee.
pub async fn withdraw(
	client: &Client,
	recipient: &chain::Submitter,
	ids: Vec<ChannelId>,
) -> anyhow::Result<(Vec<(ChannelId, u128)>, u128)> {
	let tx = runtime::tx()
		.channels()
		.withdraw(runtime::runtime_types::bounded_collections::bounded_vec::BoundedVec(ids));
	let events = recipient.submit_final(client, &tx, "channels.withdraw").await?;
	let mut out = vec![];
	for ev in events.find::<runtime::channels::events::Withdrawn>() {
		let ev = ev?;
		out.push((ev.id, ev.amount));
	}
	Ok((out, chain::fee_paid(&events)?))
}

/// What one claimed voucher secured for the recipient (paid out by
/// [`withdraw`] or when the channel is reclaimed).
#[derive(Clone, Debug, serde::Serialize)]
pub struct Claimed {
	pub id: ChannelId,
	pub lane: LaneId,
	pub nonce: u64,
	pub amount: String,
	pub lane_total: String,
}

/// Claims `vouchers` (all of channels `recipient` receives) in one batch;
/// returns what each secured, and the fee.
pub async fn claim(
	client: &Client,
	recipient: &chain::Submitter,
	vouchers: Vec<Signed>,
) -> anyhow::Result<(Vec<Claimed>, u128)> {
	let claims = vouchers.iter().map(chain::recode).collect::<anyhow::Result<Vec<_>>>()?;
	let tx = runtime::tx()
		.channels()
		.claim_batch(runtime::runtime_types::bounded_collections::bounded_vec::BoundedVec(claims));
	let events = recipient.submit_final(client, &tx, "channels.claim_batch").await?;
	let mut out = vec![];
	for ev in events.find::<runtime::channels::events::Claimed>() {
		let ev = ev?;
		out.push(Claimed {
			id: ev.id,
			lane: ev.lane,
			nonce: ev.nonce,
			amount: ev.amount.to_string(),
			lane_total: ev.lane_total.to_string(),
		});
	}
	Ok((out, chain::fee_paid(&events)?))
}

#[cfg(test)]
mod tests {
	use super::*;

	fn alice() -> Keypair {
		chain::keypair(Some("//Alice"), None).unwrap()
	}

	#[test]
	fn a_payer_signs_rising_nonces_and_totals_per_lane() {
		let mut p = Payer::new(alice(), 7);
		let a = p.pay(0, 10).unwrap();
		let b = p.pay(1, 5).unwrap();
		let c = p.pay(0, 10).unwrap();
		assert_eq!((a.voucher.nonce, a.voucher.cumulative), (1, 10));
		assert_eq!((b.voucher.lane, b.voucher.nonce, b.voucher.cumulative), (1, 1, 5));
		assert_eq!((c.voucher.nonce, c.voucher.cumulative), (2, 20));
		assert_eq!(p.total(), 25);
		for v in [a, b, c] {
			assert!(v.voucher.verify(&v.signature, &alice().public_key().0));
		}
	}

	#[test]
	fn the_header_round_trips_and_refuses_garbage() {
		let v = Payer::new(alice(), 3).pay(2, 99).unwrap();
		assert_eq!(from_header(&to_header(&v)).unwrap(), v);
		assert!(from_header("zz").is_err());
		assert!(from_header("0x0102").is_err());
		let mut long = to_header(&v);
		long.push_str("00");
		assert!(from_header(&long).is_err(), "trailing bytes");
	}

	#[test]
	fn a_served_receipt_is_checked_for_key_voucher_request_and_output() {
		use agora_primitives::{channels::ServedReceipt, JobParams};
		let worker = chain::keypair(Some("//Bob"), None).unwrap();
		let v = Payer::new(alice(), 3).pay(0, 99).unwrap();
		let input = chat_input([("user", "Hi")]);
		let params = JobParams { max_tokens: 16, temperature_milli: 0, seed: 0 };
		let req = ServedRequest { input: &input, params, price: 99, head: 10, window: 10 };
		let receipt = |nonce: u64, output: &[u8], by: &Keypair, edit: &dyn Fn(&mut ServedReceipt<[u8; 32]>)| {
			let mut r = ServedReceipt {
				channel_id: 3,
				lane: 0,
				nonce,
				model_id: [1; 32],
				input_hash: agora_primitives::rules::content_hash(&input),
				output_hash: agora_primitives::rules::content_hash(output),
				output_tokens: 1,
				params,
				price: 99,
				at: 9,
				provider: [3u8; 32],
				worker_pubkey: worker.public_key().0,
			};
			edit(&mut r);
			crate::hex0x(&(r.clone(), by.sign(&r.signing_payload()).0).encode())
		};
		let same = |_: &mut ServedReceipt<[u8; 32]>| {};
		let key = worker.public_key().0;
		assert!(check_served_receipt(&receipt(1, b"out", &worker, &same), &v, key, &req, b"out").is_ok());
		let err = |h: &str, out: &[u8], k: [u8; 32]| check_served_receipt(h, &v, k, &req, out).unwrap_err().to_string();
		assert!(err(&receipt(1, b"out", &worker, &same), b"other", key).contains("output hash"));
		assert!(err(&receipt(2, b"out", &worker, &same), b"out", key).contains("nonce 2"));
		assert!(err(&receipt(1, b"out", &alice(), &same), b"out", key).contains("signature"));
		assert!(err(&receipt(1, b"out", &worker, &same), b"out", alice().public_key().0).contains("not the offer's"));
		assert!(err(&receipt(1, b"out", &worker, &|r| r.input_hash = [0; 32]), b"out", key).contains("input hash"));
		assert!(err(&receipt(1, b"out", &worker, &|r| r.params.max_tokens = 8), b"out", key).contains("parameters"));
		assert!(err(&receipt(1, b"out", &worker, &|r| r.price = 98), b"out", key).contains("price"));
		// A worker whose node lags by half the window (5 of 10 blocks) is fine; one more is not.
		assert!(check_served_receipt(&receipt(1, b"out", &worker, &|r| r.at = 5), &v, key, &req, b"out").is_ok());
		assert!(err(&receipt(1, b"out", &worker, &|r| r.at = 4), b"out", key).contains("dispute window"));
		let long = ServedRequest { window: 100, head: 1_000, ..req };
		assert!(check_served_receipt(&receipt(1, b"out", &worker, &|r| r.at = 950), &v, key, &long, b"out").is_ok());
		assert!(check_served_receipt(&receipt(1, b"out", &worker, &|r| r.at = 949), &v, key, &long, b"out").is_err());
		assert_eq!(served_at_slack(4), 3);
		assert!(err("0x00", b"out", key).contains("SCALE"));
	}

	#[test]
	fn request_inputs_are_fixed_bytes() {
		assert_eq!(chat_input([("user", "Hi \"x\"")]), br#"{"messages":[{"role":"user","content":"Hi \"x\""}]}"#.to_vec());
		assert_eq!(embeddings_input(&["a".into(), "b".into()]), br#"["a","b"]"#.to_vec());
	}

	#[test]
	fn request_prices_follow_the_offer() {
		assert_eq!(embeddings_price(1_000, 10_000, 3), 3 * (1_000 + 10));
		assert_eq!(completion_price(1_000, 10_000, 16), 1_000 + 160);
		assert_eq!(completion_price(u128::MAX, 10, 16), u128::MAX, "saturates");
	}
}
