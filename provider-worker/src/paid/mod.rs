//! Paid serving on an OpenAI-compatible API, paid per request through payment
//! channels (docs/protocol.md §4.2):
//!
//! - `POST /v1/embeddings` (`{"model", "input": text | [texts]}`), batched with
//!   other requests in flight into one forward pass ([`batch`]);
//! - `POST /v1/chat/completions` (`{"model", "messages", "max_tokens",
//!   "temperature", "seed", "stream"}`); with `"stream": true` the answer comes
//!   as server-sent events, one per decoded token;
//! - `GET /v1/models`.
//!
//! Each request carries a voucher in `x-agora-voucher`. Before anything runs,
//! the worker checks it against the channel on chain (this provider is its
//! recipient, it is not within `margin` blocks of its expiration, the signer's
//! signature, the lane below 64) and against the voucher book (nonce above the
//! lane's last, total at least the last + the price, the channel's lanes
//! within its value), and the book makes it durable ([`book`]). Every answer
//! carries a [`ServedReceipt`] signed by the worker key (`x-agora-receipt`, and
//! in the last event of a stream). Claims go on chain on a schedule
//! ([`claims`]).
//!
//! A request's price is the offer's: `base + per_1k × max_tokens / 1000` for a
//! chat completion (the most it may generate), `base + per_1k / 1000` per input
//! for embeddings. Refusals are JSON `{"error": {"message", "type", "code"}}`
//! with their own status, and charge nothing: 400 malformed body, bad voucher
//! encoding, lane out of range, prompt too long; 402 no voucher, underpaid,
//! over the channel's value; 403 a channel to another provider, a bad
//! signature; 404 unknown model or channel; 409 a replayed voucher, or a
//! spent one sent with another request; 410 a channel at or near its
//! expiration; 503 the book could not persist.
//!
//! A request sent again with the voucher that already paid for it (the
//! connection broke before the answer arrived) gets the kept answer again,
//! byte for byte, marked `x-agora-kept: true`, and is not charged twice.
pub mod batch;
pub mod book;
mod chat;
pub mod claims;
pub mod load;
mod view;

use agora_client::chain::{self, Client, Keypair};
use agora_engine::Engine;
use agora_primitives::channels::{ChannelId, ServedReceipt, SignedVoucher};
use axum::{
	extract::{DefaultBodyLimit, State},
	http::{HeaderMap, HeaderValue, StatusCode},
	response::{
		sse::{Event, Sse},
		IntoResponse, Response,
	},
	routing::{get, post},
	Json, Router,
};
use book::{Body, Book, KeptAnswer, Refusal};
use codec::Encode;
pub use view::ChannelView;
use view::Read;
use std::{
	collections::HashMap,
	convert::Infallible,
	sync::{
		atomic::{AtomicU64, Ordering},
		Arc,
	},
	time::{Duration, Instant},
};
use tokio::sync::RwLock;

/// Largest request body (a chat's messages or a batch of texts).
pub const MAX_BODY: usize = 256 * 1024;
/// Most texts in one embeddings request: every answer must fit a dispute
/// (`MAX_SERVED_OUTPUT`, 32 vectors of up to 512 dimensions).
pub const MAX_INPUTS: usize = 32;

/// Refuses a request whose input is longer than a dispute can carry
/// (`MAX_SERVED_INPUT`): every answer this worker serves can go before a
/// committee. Checked before the voucher, so nothing is charged.
pub fn disputable(input: &[u8]) -> Result<(), ApiError> {
	let max = agora_primitives::channels::MAX_SERVED_INPUT as usize;
	if input.len() > max {
		return Err(ApiError::new(
			StatusCode::BAD_REQUEST,
			"prompt_too_long",
			format!("the request's input is {} bytes; at most {max} (what a dispute can carry)", input.len()),
		));
	}
	Ok(())
}
/// A model this worker serves paid requests for.
#[derive(Clone)]
pub struct Served {
	pub id: [u8; 32],
	pub engine: Arc<dyn Engine>,
	/// The offer's prices (planck).
	pub base_price: u128,
	pub price_per_1k: u128,
}

/// What the paid handlers share.
pub struct Paid {
	pub book: Book,
	pub chain: Arc<RwLock<Client>>,
	/// The provider account (SS58, as the chain reports recipients).
	pub provider: String,
	pub provider_id: [u8; 32],
	pub worker_key: Keypair,
	/// Served models by manifest name.
	pub models: HashMap<String, Served>,
	/// Refuse vouchers of channels expiring within this many blocks.
	pub margin: u64,
	/// The finalized block, refreshed in the background.
	pub head: AtomicU64,
	pub channels: RwLock<HashMap<ChannelId, ChannelView>>,
	pub batchers: HashMap<[u8; 32], batch::Batcher>,
	/// Test builds: the cheat applied to every non-streamed paid answer
	/// (`serve --cheat`'s first), to show that a served receipt's dispute
	/// catches it.
	#[cfg(feature = "test-cheat")]
	pub cheat: Option<crate::serve::Cheat>,
}

/// An OpenAI-style error.
#[derive(Debug)]
pub struct ApiError {
	status: StatusCode,
	code: &'static str,
	message: String,
}

impl ApiError {
	pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
		Self { status, code, message: message.into() }
	}
}

impl IntoResponse for ApiError {
	fn into_response(self) -> Response {
		let kind =
			if self.status.is_server_error() { "server_error" } else { "invalid_request_error" };
		let body = serde_json::json!({"error": {"message": self.message, "type": kind, "code": self.code}});
		(self.status, Json(body)).into_response()
	}
}

impl From<Refusal> for ApiError {
	fn from(r: Refusal) -> Self {
		let (status, code) = match r {
			Refusal::Replayed { .. } => (StatusCode::CONFLICT, "voucher_replayed"),
			Refusal::Underpaid { .. } => (StatusCode::PAYMENT_REQUIRED, "underpaid"),
			Refusal::OverValue { .. } => (StatusCode::PAYMENT_REQUIRED, "over_channel_value"),
		};
		ApiError::new(status, code, r.to_string())
	}
}

impl Paid {
	async fn client(&self) -> Client {
		self.chain.read().await.clone()
	}

	/// The model a request names.
	pub fn model(&self, name: &str) -> Result<&Served, ApiError> {
		self.models.get(name).ok_or_else(|| {
			let known: Vec<&str> = self.models.keys().map(|s| s.as_str()).collect();
			ApiError::new(
				StatusCode::NOT_FOUND,
				"model_not_found",
				format!("no model `{name}` here; served: {known:?}"),
			)
		})
	}

	/// A channel's state: cached, or read from the chain's finalized head
	/// ([`view::read_or_stale`]: retried, then the last view however old; only
	/// a channel never read is refused, 503 `chain_unavailable`).
	async fn channel(&self, id: ChannelId, fresh: bool) -> Result<ChannelView, ApiError> {
		let cached = self.channels.read().await.get(&id).cloned();
		if let Some(c) = cached.as_ref().filter(|c| !fresh && c.fresh()) {
			return Ok(c.clone());
		}
		let read = || async move { agora_client::channel::channel(&self.client().await, id).await };
		let info = match view::read_or_stale(id, read, cached, view::CHAIN_PAUSE).await? {
			Read::Fresh(info) => info,
			Read::Stale(view) => return Ok(view),
		};
		let info = match info {
			Some(info) => info,
			None => {
				self.channels.write().await.remove(&id);
				return Err(ApiError::new(
					StatusCode::NOT_FOUND,
					"unknown_channel",
					format!("no open channel {id}"),
				));
			},
		};
		let view = ChannelView {
			recipient: info.recipient.to_string(),
			signer: info.signer,
			value: info.value,
			expiration: u64::from(info.expiration),
			lanes: info.lanes.iter().map(|(l, n, c)| (*l, (*n, *c))).collect(),
			fetched: Instant::now(),
		};
		self.channels.write().await.insert(id, view.clone());
		Ok(view)
	}

	/// Checks the request's voucher for `price` and makes it durable. A
	/// voucher that already paid for this very `request` ([`book::fingerprint`])
	/// brings back the answer it got.
	pub async fn pay(
		&self,
		headers: &HeaderMap,
		price: u128,
		request: [u8; 32],
	) -> Result<Payment, ApiError> {
		let raw =
			headers
				.get(agora_client::channel::VOUCHER_HEADER)
				.and_then(|v| v.to_str().ok())
				.ok_or_else(|| {
					ApiError::new(
				StatusCode::PAYMENT_REQUIRED,
				"voucher_required",
				format!("this request costs {price} planck: send a voucher in `x-agora-voucher`"),
			)
				})?;
		let v = agora_client::channel::from_header(raw)
			.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_voucher", e.to_string()))?;
		let id = v.voucher.channel_id;
		let mut channel = self.channel(id, false).await?;
		if channel.recipient != self.provider {
			return Err(ApiError::new(
				StatusCode::FORBIDDEN,
				"wrong_recipient",
				format!("channel {id} pays {}, not this provider", channel.recipient),
			));
		}
		if v.voucher.lane >= agora_primitives::channels::MAX_LANES {
			return Err(ApiError::new(
				StatusCode::BAD_REQUEST,
				"lane_out_of_range",
				format!("lanes are 0 to {}", agora_primitives::channels::MAX_LANES - 1),
			));
		}
		if !v.voucher.verify(&v.signature, &channel.signer) {
			return Err(ApiError::new(
				StatusCode::FORBIDDEN,
				"bad_signature",
				"the voucher is not signed by the channel's signer",
			));
		}
		let head = self.head.load(Ordering::Relaxed);
		if channel.expiring(head, self.margin) {
			return Err(ApiError::new(
				StatusCode::GONE,
				"channel_expiring",
				format!("channel {id} expires at block {} (now {head}); this worker needs {} blocks to claim", channel.expiration, self.margin),
			));
		}
		let lane = |c: &ChannelView| c.lanes.get(&v.voucher.lane).copied().unwrap_or((0, 0));
		let persist = |e: anyhow::Error| {
			ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "not_persisted", e.to_string())
		};
		let kept = match self
			.book
			.accept(v, price, channel.value, lane(&channel))
			.await
			.map_err(persist)?
		{
			Ok(kept) => kept,
			// Funds may have been added since the channel was read: read it again once.
			Err(Refusal::OverValue { .. }) => {
				channel = self.channel(id, true).await?;
				self.book
					.accept(v, price, channel.value, lane(&channel))
					.await
					.map_err(persist)?
					.map_err(ApiError::from)?
			},
			Err(r) => return Err(r.into()),
		};
		match kept {
			None => Ok(Payment::Fresh(v)),
			Some(k) if k.request == request => Ok(Payment::Kept(kept_response(k))),
			Some(_) => Err(ApiError::new(
				StatusCode::CONFLICT,
				"voucher_spent",
				format!(
					"voucher (channel {id}, lane {}, nonce {}) already paid for another request",
					v.voucher.lane, v.voucher.nonce
				),
			)),
		}
	}

	/// The signed receipt of an answer (`x-agora-receipt`: hex SCALE of the
	/// receipt and the worker key's signature). It states the request's
	/// parameters, its price and the finalized head, so the client can dispute
	/// it on chain within the window. Nothing is recorded until [`Self::served`].
	#[allow(clippy::too_many_arguments)]
	pub fn receipt(
		&self,
		v: &SignedVoucher<u128>,
		model_id: [u8; 32],
		input: &[u8],
		params: agora_primitives::JobParams,
		price: u128,
		output: &[u8],
		output_tokens: u32,
	) -> String {
		let r = ServedReceipt {
			channel_id: v.voucher.channel_id,
			lane: v.voucher.lane,
			nonce: v.voucher.nonce,
			model_id,
			input_hash: agora_primitives::rules::content_hash(input),
			output_hash: agora_primitives::rules::content_hash(output),
			output_tokens,
			params,
			price,
			at: u32::try_from(self.head.load(Ordering::Relaxed)).unwrap_or(u32::MAX),
			provider: self.provider_id,
			worker_pubkey: self.worker_key.public_key().0,
		};
		let sig = self.worker_key.sign(&r.signing_payload());
		agora_client::hex0x(&(r, sig.0).encode())
	}

	/// Records `v`'s request as answered with `body` (a claim takes the voucher
	/// from now on) and keeps the answer for a retry; returns once durable.
	pub async fn served(
		&self,
		v: &SignedVoucher<u128>,
		request: [u8; 32],
		receipt: &str,
		body: Body,
	) -> Result<(), ApiError> {
		let kept = KeptAnswer { nonce: v.voucher.nonce, request, receipt: receipt.to_string(), body };
		self.book.served(v, kept).await.map_err(|e| {
			ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "not_persisted", e.to_string())
		})
	}

	/// A whole JSON answer: recorded as served and kept for a retry
	/// ([`Self::served`]), then sent with its receipt header.
	pub async fn answer_whole(
		&self,
		v: &SignedVoucher<u128>,
		request: [u8; 32],
		receipt: &str,
		body: &serde_json::Value,
	) -> Result<Response, ApiError> {
		let bytes = serde_json::to_vec(body).map_err(|e| {
			ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "engine_failure", e.to_string())
		})?;
		self.served(v, request, receipt, Body::Whole(bytes.clone())).await?;
		Ok(with_receipt(json_response(bytes), receipt))
	}

	/// Follows the finalized head (for the expiry margin).
	pub async fn follow_head(self: Arc<Self>) {
		loop {
			let client = self.client().await;
			if let Ok(n) = chain::View::new(&client).finalized_number().await {
				self.head.store(n, Ordering::Relaxed);
			}
			tokio::time::sleep(Duration::from_secs(2)).await;
		}
	}
}

/// The receipt header's name.
pub use agora_client::channel::RECEIPT_HEADER;
/// Marks an answer served again from the book to a retried request.
pub const KEPT_HEADER: &str = "x-agora-kept";

/// What a request's voucher bought.
pub enum Payment {
	/// A voucher accepted for this request (or a retry of one never
	/// answered): serve it.
	Fresh(SignedVoucher<u128>),
	/// The answer this voucher already bought, to send again.
	Kept(Response),
}

/// A kept answer, sent again as it was, marked [`KEPT_HEADER`].
fn kept_response(k: KeptAnswer) -> Response {
	let mut resp = match k.body {
		Body::Whole(bytes) => json_response(bytes),
		Body::Stream(events) => {
			let events = events
				.into_iter()
				.map(|d| Ok::<_, Infallible>(Event::default().data(d)))
				.chain(std::iter::once(Ok(Event::default().data("[DONE]"))));
			Sse::new(futures::stream::iter(events)).into_response()
		},
	};
	resp.headers_mut().insert(KEPT_HEADER, HeaderValue::from_static("true"));
	with_receipt(resp, &k.receipt)
}

fn with_receipt(mut resp: Response, receipt: &str) -> Response {
	if let Ok(v) = HeaderValue::from_str(receipt) {
		resp.headers_mut().insert(RECEIPT_HEADER, v);
	}
	resp
}

/// A JSON body already encoded.
fn json_response(bytes: Vec<u8>) -> Response {
	([(axum::http::header::CONTENT_TYPE, "application/json")], bytes).into_response()
}

/// A request body that is not the JSON expected.
pub fn malformed(e: impl std::fmt::Display) -> ApiError {
	ApiError::new(StatusCode::BAD_REQUEST, "malformed_body", e.to_string())
}

#[derive(serde::Deserialize)]
#[serde(untagged)]
enum Inputs {
	One(String),
	Many(Vec<String>),
}

#[derive(serde::Deserialize)]
struct EmbeddingsRequest {
	model: String,
	input: Inputs,
	#[serde(default)]
	encoding_format: Option<String>,
}

async fn embeddings(
	State(s): State<Arc<Paid>>,
	headers: HeaderMap,
	body: axum::body::Bytes,
) -> Result<Response, ApiError> {
	let req: EmbeddingsRequest = serde_json::from_slice(&body).map_err(malformed)?;
	// OpenAI's encodings: a list of floats, or base64 of little-endian f32 (what
	// the official Python package asks for by default).
	let base64 = match req.encoding_format.as_deref() {
		None | Some("float") => false,
		Some("base64") => true,
		Some(other) => {
			return Err(malformed(format!(
				"`encoding_format` is `float` or `base64`, not `{other}`"
			)))
		},
	};
	let texts = match req.input {
		Inputs::One(t) => vec![t],
		Inputs::Many(v) => v,
	};
	if texts.is_empty() || texts.len() > MAX_INPUTS || texts.iter().any(|t| t.trim().is_empty()) {
		return Err(malformed(format!("`input` is 1 to {MAX_INPUTS} non-empty texts")));
	}
	let Served { id: model_id, base_price: base, price_per_1k: per_1k, .. } =
		s.model(&req.model)?.clone();
	let batcher = s
		.batchers
		.get(&model_id)
		.ok_or_else(|| malformed(format!("`{}` is not an embedding model", req.model)))?;
	let input = agora_client::channel::embeddings_input(&texts);
	disputable(&input)?;
	let price = agora_client::channel::embeddings_price(base, per_1k, texts.len());
	let request = book::fingerprint("/v1/embeddings", &body);
	let voucher = match s.pay(&headers, price, request).await? {
		Payment::Fresh(v) => v,
		Payment::Kept(answer) => return Ok(answer),
	};
	let vectors = batcher.embed(texts.clone()).await?;
	let output: Vec<u8> =
		vectors.iter().flat_map(|v| agora_engine::bert::Embedder::to_bytes(v)).collect();
	#[cfg(feature = "test-cheat")]
	let (output, vectors) = match s.cheat {
		Some(c) => {
			tracing::warn!(cheat = ?c, "TEST BUILD: cheating on a paid embedding");
			let (o, _) = c.apply(output, texts.len() as u32, crate::store::OutputKind::Embedding, 0);
			let dim = vectors.first().map_or(1, Vec::len).max(1);
			let v = agora_primitives::jobs::decode_embedding(&o)
				.unwrap_or_default()
				.chunks(dim)
				.map(<[f32]>::to_vec)
				.collect();
			(o, v)
		},
		None => (output, vectors),
	};
	let receipt =
		s.receipt(&voucher, model_id, &input, Default::default(), price, &output, texts.len() as u32);
	let data: Vec<_> = vectors
		.iter()
		.enumerate()
		.map(|(i, v)| {
			let embedding = if base64 {
				use base64::Engine as _;
				serde_json::json!(base64::engine::general_purpose::STANDARD
					.encode(agora_engine::bert::Embedder::to_bytes(v)))
			} else {
				serde_json::json!(v)
			};
			serde_json::json!({"object": "embedding", "index": i, "embedding": embedding})
		})
		.collect();
	let body = serde_json::json!({
		"object": "list",
		"data": data,
		"model": req.model,
		"usage": {"prompt_tokens": 0, "total_tokens": 0},
		"agora": {"receipt": receipt, "price": price.to_string()},
	});
	s.answer_whole(&voucher, request, &receipt, &body).await
}

async fn models(State(s): State<Arc<Paid>>) -> Json<serde_json::Value> {
	let data: Vec<_> = s
		.models
		.iter()
		.map(|(name, m)| {
			serde_json::json!({
				"id": name, "object": "model", "owned_by": s.provider,
				"agora": {"model_id": agora_client::hex0x(&m.id), "task": format!("{:?}", m.engine.task()),
					"base_price": m.base_price.to_string(), "price_per_1k_tokens": m.price_per_1k.to_string()},
			})
		})
		.collect();
	Json(serde_json::json!({"object": "list", "data": data}))
}

/// The paid routes.
pub fn router(state: Arc<Paid>) -> Router {
	Router::new()
		.route("/v1/embeddings", post(embeddings))
		.route("/v1/chat/completions", post(chat::completions))
		.route("/v1/models", get(models))
		.layer(DefaultBodyLimit::max(MAX_BODY))
		.with_state(state)
}
