//! The worker's HTTP API (docs/protocol.md §3 Get).
//!
//! - `GET /v1/jobs/{id}/output`: the output bytes, with `x-agora-output-hash`
//!   (hex `blake2_256`, the receipt's `output_hash`), `x-agora-output-tokens` and
//!   `x-agora-output-kind` (`text`, `embedding`, `error`). Outputs are private:
//!   the request must carry `x-agora-read` (`agora_primitives::jobs::ReadRequest`,
//!   at most `READ_SKEW_MS` from this worker's clock) signed by the job's client
//!   or by a member of the committee checking it, as the chain says. Errors: 401
//!   (no, stale or badly signed request), 400 (malformed), 403 (anyone else),
//!   404 (this worker has no output for the job, or the chain no longer has it).
//! - `GET /v1/jobs/{id}`: the worker's record of the job (JSON).
//! - `PUT /v1/inputs?job={id}`: deliver the input of by-hash job `id`; answers
//!   `{"hash", "upload_receipt"}`: its `blake2_256` and the worker key's
//!   signature of `agora_primitives::UploadReceipt` (made once the bytes are
//!   durable), with which the client contests a false `InputMissing` report.
//!   Taken only if job `id` is open, assigned to this worker, not yet
//!   receipted, its input hash matches, within `MAX_INPUT_BYTES`, and the
//!   worker has not begun reporting it missing; 409 otherwise, so nobody can
//!   fill the worker's disk with inputs no job needs. 400 without `job`:
//!   naming the job makes the check one storage read, so a flood of uploads
//!   cannot make the worker scan the chain.
//! - `GET /v1/inputs/{hash}`: a delivered input (audit committees re-check by-hash
//!   jobs with it).
//! - `GET /metrics`: Prometheus.
//! - `GET /health`: what the worker serves.
//!
//! Every route answers CORS requests from any origin (see [`cors`]).
use crate::{metrics::Metrics, store::Store};
use axum::{
	body::Bytes,
	extract::{DefaultBodyLimit, Path, Query, State},
	http::{header, StatusCode},
	response::{IntoResponse, Response},
	routing::{get, put},
	Json, Router,
};
use agora_client::chain::{self, Client, View};
use agora_primitives::jobs::{
	ReadRequest, UploadReceipt, OUTPUT_HASH_HEADER, OUTPUT_KIND_HEADER, OUTPUT_TOKENS_HEADER, READ_HEADER, READ_SKEW_MS,
};
use axum::http::HeaderMap;
use std::sync::Arc;
use tokio::sync::RwLock;

/// Largest input a client may deliver off-chain.
pub const MAX_INPUT_BYTES: usize = 1 << 20;

/// What the handlers need.
pub struct ApiState {
	pub store: Store,
	pub metrics: Metrics,
	/// JSON served at `/health`.
	pub health: serde_json::Value,
	/// The node connection (shared with the job loop, which reconnects it):
	/// who may read an output is the chain's to say.
	pub chain: Arc<RwLock<Client>>,
	/// This worker's receipt key: jobs assigned to it carry its public half;
	/// it signs upload receipts.
	pub worker_key: chain::Keypair,
}

/// Whether job `id` is open, unreceipted, assigned to `worker_key` and waits
/// for the by-hash input `hash` (one storage read).
async fn awaited(chain: &Client, id: u64, worker_key: [u8; 32], hash: &[u8; 32]) -> anyhow::Result<bool> {
	use chain::runtime::runtime_types::pallet_jobs::types::JobInput;
	Ok(View::new(chain).job(id).await?.is_some_and(|j| {
		j.worker_key == worker_key &&
			matches!(j.status, chain::JobStatus::Assigned | chain::JobStatus::Acknowledged) &&
			j.receipt.is_none() &&
			matches!(&j.input, JobInput::Hash(h) if h == hash)
	}))
}

/// `PUT /v1/inputs`'s query: the job the input is for.
#[derive(serde::Deserialize)]
struct InputFor {
	job: Option<u64>,
}

fn refuse(code: StatusCode, msg: &str) -> Response {
	(code, Json(serde_json::json!({ "error": msg }))).into_response()
}

/// Who asks for job `id`'s output: `Ok("client")` or `Ok("committee")` when
/// the signed read request in the headers is theirs, else the refusal.
async fn reader(s: &ApiState, id: u64, headers: &HeaderMap) -> Result<&'static str, Response> {
	let Some(value) = headers.get(READ_HEADER).and_then(|v| v.to_str().ok()) else {
		return Err(refuse(
			StatusCode::UNAUTHORIZED,
			"outputs are private: sign the request (header x-agora-read, docs/protocol.md §6)",
		));
	};
	let Some((req, signer, signature)) = ReadRequest::parse(id, value) else {
		return Err(refuse(StatusCode::BAD_REQUEST, "x-agora-read is not {signer}:{at_ms}:{signature} in hex"));
	};
	let now = std::time::SystemTime::now()
		.duration_since(std::time::UNIX_EPOCH)
		.map(|d| d.as_millis() as u64)
		.unwrap_or_default();
	if now.abs_diff(req.at_ms) > READ_SKEW_MS {
		return Err(refuse(StatusCode::UNAUTHORIZED, "the read request's time is more than 5 minutes off"));
	}
	if !req.signed_by(|m| chain::sr25519_verify(&signature, m, &signer)) {
		return Err(refuse(StatusCode::UNAUTHORIZED, "the read request's signature does not verify"));
	}
	let client = s.chain.read().await.clone();
	let view = View::new(&client);
	let job = match view.job(id).await {
		Ok(Some(j)) => j,
		Ok(None) => return Err(not_found(format!("job {id} is not on chain"))),
		Err(e) => return Err(internal(e)),
	};
	if job.client.0 == signer {
		return Ok("client");
	}
	match view.committee_keys(id).await {
		Ok(keys) if keys.contains(&signer) => Ok("committee"),
		Ok(_) => Err(refuse(
			StatusCode::FORBIDDEN,
			"only the job's client and the validators checking it may read its output",
		)),
		Err(e) => Err(internal(e)),
	}
}

fn not_found(msg: String) -> Response {
	(StatusCode::NOT_FOUND, Json(serde_json::json!({ "error": msg }))).into_response()
}

fn internal(e: anyhow::Error) -> Response {
	tracing::error!(error = %e, "http handler failed");
	(StatusCode::INTERNAL_SERVER_ERROR, Json(serde_json::json!({ "error": e.to_string() })))
		.into_response()
}

async fn output(State(s): State<Arc<ApiState>>, Path(id): Path<u64>, headers: HeaderMap) -> Response {
	let rec = match s.store.record(id) {
		Ok(Some(r)) => r,
		Ok(None) => return not_found(format!("job {id} has no output on this worker")),
		Err(e) => return internal(e),
	};
	let who = match reader(&s, id, &headers).await {
		Ok(w) => w,
		Err(r) => return r,
	};
	tracing::info!(job = id, reader = who, "serving the output");
	let hash = match agora_client::parse_h256(&rec.output_hash) {
		Ok(h) => h,
		Err(e) => return internal(e),
	};
	match s.store.output(&hash) {
		Ok(Some(bytes)) => (
			[
				(header::CONTENT_TYPE, rec.kind.content_type().to_string()),
				(header::HeaderName::from_static(OUTPUT_HASH_HEADER), rec.output_hash.clone()),
				(header::HeaderName::from_static(OUTPUT_TOKENS_HEADER), rec.output_tokens.to_string()),
				(header::HeaderName::from_static(OUTPUT_KIND_HEADER), rec.kind.as_str().to_string()),
			],
			bytes,
		)
			.into_response(),
		Ok(None) => not_found(format!("the output of job {id} is no longer kept")),
		Err(e) => internal(e),
	}
}

async fn record(State(s): State<Arc<ApiState>>, Path(id): Path<u64>) -> Response {
	match s.store.record(id) {
		Ok(Some(r)) => Json(r).into_response(),
		Ok(None) => not_found(format!("job {id} is unknown to this worker")),
		Err(e) => internal(e),
	}
}

async fn put_input(State(s): State<Arc<ApiState>>, Query(q): Query<InputFor>, body: Bytes) -> Response {
	let Some(job) = q.job else {
		return refuse(StatusCode::BAD_REQUEST, "name the job the input is for: PUT /v1/inputs?job={id}");
	};
	if body.is_empty() {
		return (StatusCode::BAD_REQUEST, Json(serde_json::json!({ "error": "empty input" })))
			.into_response();
	}
	let hash = agora_primitives::rules::content_hash(&body);
	let chain = s.chain.read().await.clone();
	match awaited(&chain, job, s.worker_key.public_key().0, &hash).await {
		Ok(true) => {},
		Ok(false) =>
			return refuse(
				StatusCode::CONFLICT,
				&format!(
					"job {job} is not an open job of this worker waiting for input {} (order it first)",
					agora_client::hex0x(&hash)
				),
			),
		Err(e) => return refuse(StatusCode::SERVICE_UNAVAILABLE, &format!("cannot read the chain: {e}")),
	}
	match s.store.put_input_for(job, &body) {
		// Durable now: sign for it, so that a report that it never came can
		// be contested on chain.
		Ok(Some(h)) => {
			let upload = UploadReceipt { job_id: job, input_hash: h };
			let signature = s.worker_key.sign(&upload.signing_payload()).0;
			Json(serde_json::json!({
				"hash": agora_client::hex0x(&h),
				"upload_receipt": agora_client::hex0x(&signature),
			}))
			.into_response()
		},
		Ok(None) => refuse(
			StatusCode::CONFLICT,
			&format!("job {job}'s input came too late: this worker is reporting it missing"),
		),
		Err(e) => internal(e),
	}
}

async fn get_input(State(s): State<Arc<ApiState>>, Path(hash): Path<String>) -> Response {
	let Ok(h) = agora_client::parse_h256(&hash) else {
		return (StatusCode::BAD_REQUEST, Json(serde_json::json!({ "error": "not a 32-byte hex hash" })))
			.into_response();
	};
	match s.store.input(&h) {
		Ok(Some(b)) => ([(header::CONTENT_TYPE, "application/octet-stream")], b).into_response(),
		Ok(None) => not_found(format!("no input {hash}")),
		Err(e) => internal(e),
	}
}

async fn metrics(State(s): State<Arc<ApiState>>) -> Response {
	([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], s.metrics.render()).into_response()
}

async fn health(State(s): State<Arc<ApiState>>) -> Response {
	Json(s.health.clone()).into_response()
}

/// The router.
pub fn router(state: Arc<ApiState>) -> Router {
	Router::new()
		.route("/v1/jobs/{id}/output", get(output))
		.route("/v1/jobs/{id}", get(record))
		.route("/v1/inputs", put(put_input))
		.route("/v1/inputs/{hash}", get(get_input))
		.route("/metrics", get(metrics))
		.route("/health", get(health))
		.layer(DefaultBodyLimit::max(MAX_INPUT_BYTES))
		.layer(cors())
		.with_state(state)
}

/// Any web page may call this API from a browser (the dApp in `web/` fetches
/// its outputs itself): no cookie or ambient credential is ever honoured, an
/// output needs the signed `x-agora-read` header, so a page can read nothing
/// its user's key does not sign for. The output headers are exposed so that the
/// page can check the hash and the billed count.
fn cors() -> tower_http::cors::CorsLayer {
	use axum::http::{HeaderName, Method};
	use tower_http::cors::{Any, CorsLayer};
	CorsLayer::new()
		.allow_origin(Any)
		.allow_methods([Method::GET, Method::PUT])
		.allow_headers([HeaderName::from_static(READ_HEADER), header::CONTENT_TYPE])
		.expose_headers([
			HeaderName::from_static(OUTPUT_HASH_HEADER),
			HeaderName::from_static(OUTPUT_TOKENS_HEADER),
			HeaderName::from_static(OUTPUT_KIND_HEADER),
		])
}
