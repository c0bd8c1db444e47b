//! Paying a provider's worker per request through a payment channel, from the
//! client (docs/protocol.md §4.2): `agora channel embed|chat` and the MCP
//! server's `channel_*` tools.
//!
//! Each lane's last nonce and total live in an embedded database
//! ([`LaneStore`], `lanes.redb` in the client's state directory), and the
//! next voucher is written there before its request leaves: a client that
//! restarts never signs a nonce twice, so the worker never refuses it as a
//! replay. A request whose answer never came may still have been paid (the
//! worker may have accepted its voucher); the next voucher pays on top of it.
//! Every answer's served receipt is checked: signed by the offer's worker
//! key, for this voucher, for this request's input, parameters and price,
//! over the output bytes served. The store keeps each answer's receipt with
//! its input and output, so `agora channel dispute` can put it before a
//! committee later ([`LaneStore::answer`]), until its dispute window
//! (`SERVED_DISPUTE_WINDOW` blocks from the receipt's `at`) has passed.
use agora_client::{
	chain::{self, Client, Keypair, ModelInfo, OfferInfo, View},
	channel::{self, completion_price, embeddings_price, Channel, Signed},
};
use agora_primitives::channels::{ChannelId, LaneId, ServedReceipt};
use redb::{Database, ReadableTable, ReadableTableMetadata, TableDefinition};
use std::path::{Path, PathBuf};

/// (channel, lane) → (last nonce signed, total signed).
const LANES: TableDefinition<(u64, u32), (u64, u128)> = TableDefinition::new("lanes");
/// (channel, lane, nonce) → a served answer's [`Kept`] (SCALE).
const ANSWERS: TableDefinition<(u64, u32, u64), &[u8]> = TableDefinition::new("answers");
/// (receipt's `at`, channel, lane, nonce) → (): the kept answers by age.
const BY_AT: TableDefinition<(u32, u64, u32, u64), ()> = TableDefinition::new("answers_by_at");

/// What a dispute of an answer needs: its checked receipt and signature, the
/// offer that served it, the request's input and the output served.
#[derive(codec::Encode, codec::Decode, Clone, Debug)]
pub struct Kept {
	pub receipt: ServedReceipt<[u8; 32]>,
	pub signature: [u8; 64],
	pub offer_id: u64,
	pub input: Vec<u8>,
	pub output: Vec<u8>,
}

/// The lane these requests pay on: one request at a time per client (the MCP
/// server holds a lock across each), so vouchers reach the worker in order.
pub const DEFAULT_LANE: LaneId = 0;

/// Where a client keeps its state: `$AGORA_STATE`, else
/// `$XDG_DATA_HOME/agora`, else `~/.local/share/agora`.
pub fn state_dir() -> PathBuf {
	if let Some(d) = std::env::var_os("AGORA_STATE") {
		return d.into();
	}
	if let Some(d) = std::env::var_os("XDG_DATA_HOME") {
		return PathBuf::from(d).join("agora");
	}
	PathBuf::from(std::env::var_os("HOME").unwrap_or_else(|| ".".into())).join(".local/share/agora")
}

/// The vouchers this client has signed, per lane: durable before any is sent.
pub struct LaneStore {
	db: Database,
}

impl LaneStore {
	/// Opens (or creates) `lanes.redb` in `dir`. One process at a time: a
	/// second one is refused rather than let two sign from the same lanes.
	pub fn open(dir: &Path) -> anyhow::Result<Self> {
		std::fs::create_dir_all(dir).map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?;
		let path = dir.join("lanes.redb");
		let db = Database::create(&path).map_err(|e| match e {
			redb::DatabaseError::DatabaseAlreadyOpen => anyhow::anyhow!(
				"{} is open in another agora process: two clients signing from the same lanes would reuse nonces",
				path.display()
			),
			e => anyhow::anyhow!("{}: {e}", path.display()),
		})?;
		let tx = db.begin_write()?;
		tx.open_table(LANES)?;
		{
			// Answers kept before the age index existed join it.
			let answers = tx.open_table(ANSWERS)?;
			let mut by_at = tx.open_table(BY_AT)?;
			if by_at.is_empty()? {
				for row in answers.iter()? {
					let (k, v) = row?;
					let (channel, lane, nonce) = k.value();
					if let Ok(kept) = <Kept as codec::Decode>::decode(&mut v.value()) {
						by_at.insert((kept.receipt.at, channel, lane, nonce), ())?;
					}
				}
			}
		}
		tx.commit()?;
		Ok(Self { db })
	}

	/// Keeps a served answer for a later dispute.
	pub fn keep(&self, k: &Kept) -> anyhow::Result<()> {
		use codec::Encode;
		let r = &k.receipt;
		let tx = self.db.begin_write()?;
		{
			let mut t = tx.open_table(ANSWERS)?;
			t.insert((r.channel_id, r.lane, r.nonce), k.encode().as_slice())?;
			tx.open_table(BY_AT)?.insert((r.at, r.channel_id, r.lane, r.nonce), ())?;
		}
		tx.commit()?;
		Ok(())
	}

	/// The `at` of the oldest kept answer.
	pub fn oldest_answer(&self) -> anyhow::Result<Option<u32>> {
		let tx = self.db.begin_read()?;
		let t = tx.open_table(BY_AT)?;
		let oldest = t.first()?.map(|(k, _)| k.value().0);
		Ok(oldest)
	}

	/// Forgets the kept answers dated before block `before` (their dispute
	/// windows have passed); returns how many.
	pub fn prune_answers(&self, before: u32) -> anyhow::Result<usize> {
		let tx = self.db.begin_write()?;
		let n = {
			let mut by_at = tx.open_table(BY_AT)?;
			let mut answers = tx.open_table(ANSWERS)?;
			let old: Vec<(u32, u64, u32, u64)> = by_at
				.range(..(before, 0, 0, 0))?
				.map(|row| row.map(|(k, _)| k.value()))
				.collect::<Result<_, _>>()?;
			for k in &old {
				by_at.remove(k)?;
				answers.remove((k.1, k.2, k.3))?;
			}
			old.len()
		};
		tx.commit()?;
		Ok(n)
	}

	/// The answer kept for voucher `(channel, lane, nonce)`.
	pub fn answer(&self, channel: ChannelId, lane: LaneId, nonce: u64) -> anyhow::Result<Option<Kept>> {
		use codec::Decode;
		let tx = self.db.begin_read()?;
		let t = tx.open_table(ANSWERS)?;
		let Some(v) = t.get((channel, lane, nonce))? else { return Ok(None) };
		Ok(Some(Kept::decode(&mut v.value()).map_err(|e| anyhow::anyhow!("a kept answer does not decode: {e}"))?))
	}

	/// The voucher paying `price` more on `lane` of `channel`, signed by
	/// `signer` and committed to disk before it is returned. `floor` is what
	/// the chain has already claimed on the lane (its nonce and total): the
	/// voucher goes above it even if this store lost track.
	pub fn pay(&self, signer: &Keypair, channel: ChannelId, lane: LaneId, price: u128, floor: (u64, u128)) -> anyhow::Result<Signed> {
		let tx = self.db.begin_write()?;
		let v = {
			let mut t = tx.open_table(LANES)?;
			let (nonce, total) = t.get((channel, lane))?.map(|g| g.value()).unwrap_or((0, 0));
			let (nonce, total) = (nonce.max(floor.0), total.max(floor.1));
			let nonce = nonce.checked_add(1).ok_or_else(|| anyhow::anyhow!("lane {lane}'s nonces are used up"))?;
			let total = total.checked_add(price).ok_or_else(|| anyhow::anyhow!("lane {lane}'s total overflows"))?;
			t.insert((channel, lane), (nonce, total))?;
			channel::sign(signer, channel, lane, nonce, total)
		};
		tx.commit()?;
		Ok(v)
	}

	/// Every lane of `channel` this client has signed on: (lane, nonce, total).
	pub fn lanes(&self, channel: ChannelId) -> anyhow::Result<Vec<(LaneId, u64, u128)>> {
		let tx = self.db.begin_read()?;
		let t = tx.open_table(LANES)?;
		let mut out = vec![];
		for row in t.range((channel, 0)..=(channel, LaneId::MAX))? {
			let (k, v) = row?;
			let ((_, lane), (nonce, total)) = (k.value(), v.value());
			out.push((lane, nonce, total));
		}
		Ok(out)
	}
}


/// A paid answer with its checked receipt.
pub struct Answer {
	/// The worker's JSON answer (OpenAI's shape).
	pub body: serde_json::Value,
	pub voucher: Signed,
	pub price: u128,
	pub receipt: ServedReceipt<[u8; 32]>,
	/// The offer that served it (a dispute names it).
	pub offer_id: u64,
}

/// What a paid request sends and what its receipt must state.
pub struct Ask {
	/// The API path, e.g. `/v1/embeddings`.
	pub path: &'static str,
	/// The JSON body.
	pub body: serde_json::Value,
	/// The input bytes the worker runs and hashes (`channel::chat_input` or
	/// `channel::embeddings_input` of the body).
	pub input: Vec<u8>,
	pub params: agora_primitives::JobParams,
	pub price: u128,
}

/// The channel's provider's active offer for `model`.
pub async fn offer_for(client: &Client, ch: &Channel, model: &ModelInfo) -> anyhow::Result<OfferInfo> {
	View::new(client)
		.offers()
		.await?
		.into_iter()
		.find(|o| o.active && o.provider == ch.recipient && o.model_id == model.id)
		.ok_or_else(|| {
			anyhow::anyhow!("channel {}'s provider {} has no active offer for {}", ch.id, ch.recipient, model.name())
		})
}

/// How many times a paid request is sent again after its connection broke
/// (after 2, 4, 8 and 16 s).
pub const RETRIES: u32 = 4;

/// Pays for and sends one request to the offer's worker (`path` and JSON
/// `body`), then checks the served receipt against `output` (the bytes the
/// answer stands for, computed from the answer by `output`).
pub async fn request(
	client: &Client,
	store: &LaneStore,
	signer: &Keypair,
	ch: &Channel,
	offer: &OfferInfo,
	ask: Ask,
	output: impl Fn(&serde_json::Value) -> anyhow::Result<(Vec<u8>, u32)>,
) -> anyhow::Result<Answer> {
	let Ask { path, body, input, params, price } = ask;
	let head = View::new(client).finalized_number().await?;
	let left = ch.value.saturating_sub(signed_total(store, ch)?);
	anyhow::ensure!(
		price <= left,
		"channel {} has {} left to sign of {}; this request costs {} (add funds: agora channel fund)",
		ch.id,
		chain::fmt_agr(left),
		chain::fmt_agr(ch.value),
		chain::fmt_agr(price)
	);
	let floor = ch.lanes.iter().find(|(l, _, _)| *l == DEFAULT_LANE).map(|(_, n, c)| (*n, *c)).unwrap_or((0, 0));
	let voucher = store.pay(signer, ch.id, DEFAULT_LANE, price, floor)?;
	let url = format!("{}{path}", offer.endpoint.trim_end_matches('/'));
	let http = reqwest::Client::builder().timeout(std::time::Duration::from_secs(120)).build()?;
	let (status, receipt_hex, text) =
		send_paid(&http, &url, &channel::to_header(&voucher), &body, std::time::Duration::from_secs(1))
			.await
			.map_err(|(e, sent)| {
				anyhow::anyhow!(
					"{url}: {e} (sent {sent} times; the voucher for {} may have been accepted: the same request with it again is not charged twice)",
					chain::fmt_agr(price)
				)
			})?;
	anyhow::ensure!(status.is_success(), "{url}: {status}: {text}");
	let body: serde_json::Value = serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("{url}: not JSON: {e}"))?;
	let receipt_hex = receipt_hex.ok_or_else(|| anyhow::anyhow!("{url} answered without a receipt ({})", channel::RECEIPT_HEADER))?;
	let (bytes, tokens) = output(&body)?;
	let window = served_window(client).await?;
	let request = channel::ServedRequest { input: &input, params, price, head, window: u64::from(window) };
	let (receipt, signature) = channel::check_served_receipt(&receipt_hex, &voucher, offer.worker_key, &request, &bytes)?;
	// Kept before any further check: an answer that bills wrongly is one to dispute.
	store.keep(&Kept { receipt: receipt.clone(), signature, offer_id: offer.id, input, output: bytes })?;
	forget_undisputable(store, head, window)?;
	anyhow::ensure!(
		receipt.output_tokens == tokens,
		"the receipt bills {} tokens; the answer has {tokens}: dispute it (agora channel dispute --id {} --lane {} --nonce {})",
		receipt.output_tokens, ch.id, receipt.lane, receipt.nonce
	);
	Ok(Answer { body, voucher, price, receipt, offer_id: offer.id })
}

/// Posts `body` to `url` with the voucher header, sending the very same
/// request again up to [`RETRIES`] times (after `backoff` × 2, 4, 8, 16) while
/// the connection breaks before a whole answer arrives. A broken connection
/// may have lost an answer the voucher already paid for: the same voucher and
/// body again get that answer (the worker keeps it, `x-agora-kept: true`), or
/// the request served if it never was; never a second charge. An HTTP error
/// status is an answer, not a broken connection: returned, not retried.
/// The error is the last transport error and how many times it was sent.
pub async fn send_paid(
	http: &reqwest::Client,
	url: &str,
	voucher_header: &str,
	body: &serde_json::Value,
	backoff: std::time::Duration,
) -> Result<(reqwest::StatusCode, Option<String>, String), (reqwest::Error, u32)> {
	let mut tries = 0u32;
	loop {
		let sent = async {
			let resp = http.post(url).header(channel::VOUCHER_HEADER, voucher_header).json(body).send().await?;
			let status = resp.status();
			let receipt = resp.headers().get(channel::RECEIPT_HEADER).and_then(|v| v.to_str().ok()).map(str::to_string);
			Ok::<_, reqwest::Error>((status, receipt, resp.text().await?))
		};
		match sent.await {
			Ok(answer) => return Ok(answer),
			Err(e) if tries < RETRIES => {
				tries += 1;
				tracing::warn!(error = %e, tries, "{url}: no answer; sending the same voucher again");
				tokio::time::sleep(backoff.saturating_mul(1 << tries)).await;
			},
			Err(e) => return Err((e, tries + 1)),
		}
	}
}

/// `SERVED_DISPUTE_WINDOW` in force (blocks a served receipt may be disputed in).
pub async fn served_window(client: &Client) -> anyhow::Result<u32> {
	let params = agora_client::gov::params(client).await?;
	let (_, p) = agora_client::gov::find(&params, "SERVED_DISPUTE_WINDOW")?;
	Ok(u32::try_from(p.value).unwrap_or(u32::MAX))
}

/// Forgets the kept answers no dispute can take any more: dated more than
/// `window` blocks before `head`.
fn forget_undisputable(store: &LaneStore, head: u64, window: u32) -> anyhow::Result<()> {
	let head = u32::try_from(head).unwrap_or(u32::MAX);
	if store.oldest_answer()?.is_some_and(|a| a.saturating_add(window) < head) {
		let n = store.prune_answers(head.saturating_sub(window))?;
		tracing::debug!(n, window, "forgot answers past their dispute window");
	}
	Ok(())
}

/// What this client has signed on the channel, over every lane (on a lane,
/// at least what the chain has claimed there).
pub fn signed_total(store: &LaneStore, ch: &Channel) -> anyhow::Result<u128> {
	let mut total = 0u128;
	for (lane, _, t) in store.lanes(ch.id)? {
		let claimed = ch.lanes.iter().find(|(l, _, _)| *l == lane).map(|(_, _, c)| *c).unwrap_or(0);
		total = total.saturating_add(t.max(claimed));
	}
	Ok(total)
}

/// Embeds `texts` with `model`, paid through channel `ch`: the vectors.
pub async fn embed(
	client: &Client,
	store: &LaneStore,
	signer: &Keypair,
	ch: &Channel,
	model: &ModelInfo,
	texts: &[String],
) -> anyhow::Result<(Answer, Vec<Vec<f32>>)> {
	let offer = offer_for(client, ch, model).await?;
	let price = embeddings_price(offer.base_price, offer.price_per_1k_tokens, texts.len());
	let body = serde_json::json!({"model": model.name(), "input": texts});
	let vectors = |b: &serde_json::Value| -> anyhow::Result<Vec<Vec<f32>>> {
		b["data"]
			.as_array()
			.ok_or_else(|| anyhow::anyhow!("no `data` in the answer"))?
			.iter()
			.map(|d| {
				d["embedding"]
					.as_array()
					.ok_or_else(|| anyhow::anyhow!("an answer without an embedding"))?
					.iter()
					.map(|x| x.as_f64().map(|x| x as f32).ok_or_else(|| anyhow::anyhow!("not a number")))
					.collect()
			})
			.collect()
	};
	let ask = Ask {
		path: "/v1/embeddings",
		body,
		input: channel::embeddings_input(texts),
		params: Default::default(),
		price,
	};
	let answer = request(client, store, signer, ch, &offer, ask, |b| {
		let v = vectors(b)?;
		anyhow::ensure!(v.len() == texts.len(), "{} vectors for {} texts", v.len(), texts.len());
		Ok((v.iter().flat_map(|x| agora_primitives::jobs::encode_embedding(x)).collect(), v.len() as u32))
	})
	.await?;
	let v = vectors(&answer.body)?;
	Ok((answer, v))
}

/// A chat completion of one user message with `model`, paid through channel
/// `ch`: the text.
pub async fn chat(
	client: &Client,
	store: &LaneStore,
	signer: &Keypair,
	ch: &Channel,
	model: &ModelInfo,
	prompt: &str,
	max_tokens: u32,
) -> anyhow::Result<(Answer, String)> {
	let offer = offer_for(client, ch, model).await?;
	let price = completion_price(offer.base_price, offer.price_per_1k_tokens, max_tokens);
	let body = serde_json::json!({"model": model.name(), "max_tokens": max_tokens,
		"messages": [{"role": "user", "content": prompt}]});
	let text = |b: &serde_json::Value| b["choices"][0]["message"]["content"].as_str().map(str::to_string);
	let ask = Ask {
		path: "/v1/chat/completions",
		body,
		input: channel::chat_input([("user", prompt)]),
		params: agora_primitives::JobParams { max_tokens, temperature_milli: 0, seed: 0 },
		price,
	};
	let answer = request(client, store, signer, ch, &offer, ask, |b| {
		let text = text(b).ok_or_else(|| anyhow::anyhow!("no message in the answer"))?;
		let tokens: Vec<u32> = b["agora"]["tokens"]
			.as_array()
			.ok_or_else(|| anyhow::anyhow!("no token ids in the answer"))?
			.iter()
			.map(|t| t.as_u64().and_then(|t| u32::try_from(t).ok()).ok_or_else(|| anyhow::anyhow!("a bad token id")))
			.collect::<anyhow::Result<_>>()?;
		let n = tokens.len() as u32;
		Ok((agora_primitives::jobs::GenerationOutput { text, tokens }.to_bytes(), n))
	})
	.await?;
	let t = text(&answer.body).unwrap_or_default();
	Ok((answer, t))
}

/// Channel `id`, checked to be one `signer` can pay with (its voucher key).
pub async fn sender_channel(client: &Client, signer: &Keypair, id: ChannelId) -> anyhow::Result<Channel> {
	let ch = channel::channel(client, id)
		.await?
		.ok_or_else(|| anyhow::anyhow!("no open channel {id} (never opened, or reclaimed)"))?;
	anyhow::ensure!(
		ch.signer == signer.public_key().0,
		"channel {id}'s vouchers are signed by {}, not by this key",
		agora_client::hex0x(&ch.signer)
	);
	let head = View::new(client).finalized_number().await?;
	anyhow::ensure!(u64::from(ch.expiration) > head, "channel {id} expired at block {} (now {head}): reclaim it", ch.expiration);
	Ok(ch)
}

/// An answer as JSON: `output`, what was paid, what is left to sign on the
/// channel, and the checked receipt.
pub fn answer_value(store: &LaneStore, ch: &Channel, a: &Answer, output: serde_json::Value) -> anyhow::Result<serde_json::Value> {
	let signed = signed_total(store, ch)?;
	Ok(serde_json::json!({
		"channel_id": ch.id,
		"offer_id": a.offer_id,
		"output": output,
		"price": a.price.to_string(),
		"voucher": {"lane": a.voucher.voucher.lane, "nonce": a.voucher.voucher.nonce, "total": a.voucher.voucher.cumulative.to_string()},
		"channel_signed": signed.to_string(),
		"channel_left": ch.value.saturating_sub(signed).to_string(),
		"receipt": {"verified": true, "output_hash": agora_client::hex0x(&a.receipt.output_hash),
			"output_tokens": a.receipt.output_tokens, "worker_key": agora_client::hex0x(&a.receipt.worker_pubkey),
			"at": a.receipt.at, "disputable": format!("agora channel dispute --id {} --lane {} --nonce {}", ch.id, a.receipt.lane, a.receipt.nonce)},
	}))
}

#[cfg(test)]
mod tests {
	use super::*;

	fn key() -> anyhow::Result<Keypair> {
		chain::keypair(Some("//Two"), None)
	}

	#[test]
	fn lanes_survive_a_restart_and_never_reuse_a_nonce() -> anyhow::Result<()> {
		let dir = tempfile::tempdir()?;
		let k = key()?;
		{
			let s = LaneStore::open(dir.path())?;
			let a = s.pay(&k, 5, 0, 100, (0, 0))?;
			let b = s.pay(&k, 5, 0, 50, (0, 0))?;
			assert_eq!((a.voucher.nonce, a.voucher.cumulative), (1, 100));
			assert_eq!((b.voucher.nonce, b.voucher.cumulative), (2, 150));
			assert!(b.voucher.verify(&b.signature, &k.public_key().0));
			// A second store on the same file is refused while this one is open.
			let err = LaneStore::open(dir.path()).err().map(|e| e.to_string()).unwrap_or_default();
			assert!(err.contains("another agora process"), "{err}");
		}
		let s = LaneStore::open(dir.path())?;
		assert_eq!(s.lanes(5)?, vec![(0, 2, 150)]);
		let c = s.pay(&k, 5, 0, 1, (0, 0))?;
		assert_eq!((c.voucher.nonce, c.voucher.cumulative), (3, 151));
		// What the chain has claimed is a floor, if this store lost track.
		let d = s.pay(&k, 5, 1, 10, (40, 4_000))?;
		assert_eq!((d.voucher.nonce, d.voucher.cumulative), (41, 4_010));
		assert_eq!(s.lanes(5)?, vec![(0, 3, 151), (1, 41, 4_010)]);
		assert!(s.lanes(6)?.is_empty(), "other channels' lanes are apart");
		Ok(())
	}

	fn kept(channel: u64, nonce: u64, at: u32) -> Kept {
		Kept {
			receipt: ServedReceipt {
				channel_id: channel,
				lane: 0,
				nonce,
				model_id: [1; 32],
				input_hash: [2; 32],
				output_hash: [3; 32],
				output_tokens: 1,
				params: Default::default(),
				price: 10,
				at,
				provider: [4; 32],
				worker_pubkey: [5; 32],
			},
			signature: [6; 64],
			offer_id: 0,
			input: b"in".to_vec(),
			output: b"out".to_vec(),
		}
	}

	#[test]
	fn answers_go_once_their_window_has_passed_and_not_before() -> anyhow::Result<()> {
		let dir = tempfile::tempdir()?;
		{
			let s = LaneStore::open(dir.path())?;
			s.keep(&kept(1, 1, 100))?;
			s.keep(&kept(1, 2, 105))?;
			s.keep(&kept(2, 1, 101))?;
			assert_eq!(s.oldest_answer()?, Some(100));
		}
		let s = LaneStore::open(dir.path())?;
		// Head 111 with a 10-block window: answers dated before 101 are past it.
		assert_eq!(s.prune_answers(111 - 10)?, 1);
		assert!(s.answer(1, 0, 1)?.is_none());
		assert!(s.answer(2, 0, 1)?.is_some(), "dated 101: its window is still open");
		assert!(s.answer(1, 0, 2)?.is_some());
		assert_eq!(s.oldest_answer()?, Some(101));
		assert_eq!(s.prune_answers(106)?, 2);
		assert_eq!(s.oldest_answer()?, None);
		Ok(())
	}

	/// What a test server does with the n-th request it reads.
	#[derive(Clone, Copy)]
	enum Then {
		/// Closes the connection without a word.
		Drop,
		/// Sends headers promising 100 bytes, then 10, then closes.
		Cut,
		/// Answers with `status`, a receipt header and `{"ok":n}`.
		Answer(u16),
	}

	/// A one-purpose HTTP server on localhost: the n-th request (voucher header
	/// and body, as read) is recorded and met with `plan[n]` (the last entry
	/// once the plan runs out).
	async fn server(plan: Vec<Then>) -> anyhow::Result<(String, std::sync::Arc<std::sync::Mutex<Vec<(String, String)>>>)> {
		use tokio::io::{AsyncReadExt, AsyncWriteExt};
		let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
		let url = format!("http://{}/v1/embeddings", listener.local_addr()?);
		let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
		let log = seen.clone();
		tokio::spawn(async move {
			for n in 0usize.. {
				let Ok((mut sock, _)) = listener.accept().await else { return };
				let mut buf = Vec::new();
				let mut chunk = [0u8; 4096];
				// Headers, then as many body bytes as Content-Length says.
				let (head, start, want) = loop {
					let Ok(k) = sock.read(&mut chunk).await else { return };
					if k == 0 {
						return;
					}
					buf.extend_from_slice(&chunk[..k]);
					if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
						let head = String::from_utf8_lossy(&buf[..end]).to_lowercase();
						let len = head
							.lines()
							.find_map(|l| l.strip_prefix("content-length:"))
							.and_then(|v| v.trim().parse::<usize>().ok())
							.unwrap_or(0);
						break (String::from_utf8_lossy(&buf[..end]).to_string(), end + 4, end + 4 + len);
					}
				};
				while buf.len() < want {
					let Ok(k) = sock.read(&mut chunk).await else { return };
					if k == 0 {
						return;
					}
					buf.extend_from_slice(&chunk[..k]);
				}
				let voucher = head
					.lines()
					.find_map(|l| l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case(channel::VOUCHER_HEADER)))
					.map(|(_, v)| v.trim().to_string())
					.unwrap_or_default();
				let body = String::from_utf8_lossy(&buf[start..want]).to_string();
				log.lock().expect("log").push((voucher, body));
				let reply = match plan.get(n).or(plan.last()).copied().unwrap_or(Then::Drop) {
					Then::Drop => continue,
					Then::Cut => "HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n0123456789".to_string(),
					Then::Answer(code) => {
						let b = format!("{{\"ok\":{n}}}");
						format!(
							"HTTP/1.1 {code} X\r\n{}: r{n}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{b}",
							channel::RECEIPT_HEADER,
							b.len()
						)
					},
				};
				let _ = sock.write_all(reply.as_bytes()).await;
				let _ = sock.shutdown().await;
			}
		});
		Ok((url, seen))
	}

	#[tokio::test]
	async fn a_broken_connection_is_retried_with_the_same_voucher_and_body() -> anyhow::Result<()> {
		let http = reqwest::Client::new();
		let body = serde_json::json!({"model": "m", "input": ["a"]});
		let tick = std::time::Duration::from_millis(1);
		// Dropped before any answer, then cut mid-body, then answered: the third
		// answer is the one returned, and all three carried one voucher and body.
		let (url, seen) = server(vec![Then::Drop, Then::Cut, Then::Answer(200)]).await?;
		let (status, receipt, text) = send_paid(&http, &url, "v1", &body, tick).await.map_err(|(e, _)| e)?;
		assert_eq!((status.as_u16(), receipt.as_deref(), text.as_str()), (200, Some("r2"), r#"{"ok":2}"#));
		let seen = seen.lock().expect("log").clone();
		assert_eq!(seen.len(), 3);
		assert!(seen.iter().all(|s| s == &("v1".to_string(), body.to_string())), "{seen:?}");
		// A refusal is an answer: returned as it is, never sent again.
		let (url, seen) = server(vec![Then::Answer(409)]).await?;
		let (status, _, _) = send_paid(&http, &url, "v2", &body, tick).await.map_err(|(e, _)| e)?;
		assert_eq!((status.as_u16(), seen.lock().expect("log").len()), (409, 1));
		// A worker that never answers: RETRIES more tries, then the error, counted.
		let (url, seen) = server(vec![Then::Drop]).await?;
		let sent = send_paid(&http, &url, "v3", &body, tick).await.err().map(|(_, n)| n);
		assert_eq!(sent, Some(RETRIES + 1));
		assert_eq!(seen.lock().expect("log").len() as u32, RETRIES + 1);
		Ok(())
	}
}
