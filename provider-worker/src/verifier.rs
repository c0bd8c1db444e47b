//! The local verifier, `agora-worker verifier` (docs/protocol.md §6): the HTTP service a
//! validator's off-chain worker asks whether an audited output is a valid answer
//! to its job. The node is started with `--agora-verifier http://ADDR`.
//!
//! - `POST /v1/verify`: body a SCALE [`VerifyRequest`] (job id, model id, input,
//!   params, the output the provider served). Answers `200` with the verdict in
//!   the `x-agora-verdict` header (`valid` or `invalid`) and a JSON body with the
//!   evidence ([`Verdict`]): the first bad step, the claimed and the best token,
//!   the gap and the rule (`TeacherForced`), the dimension, length or cosine
//!   (`Cosine`), or both hashes (`Exact`). `400` for
//!   a body that does not decode, `404` for a model this verifier does not hold
//!   (the validator then does not vote).
//! - `POST /v1/fetch`: body a SCALE `FetchRequest`; fetches a provider's
//!   output or input for the off-chain worker, public addresses only
//!   ([`crate::fetch`]).
//! - `GET /health`: the models held.
//!
//! Models are named like `serve`'s (`NAME=DIR`), checked against the manifest
//! on chain, and re-checked under the determinism profile of that manifest.
use agora_engine::{
	self as engine,
	bert::Embedder,
	files::ModelFiles,
	llama::TextGen,
	teacher::FullLogits,
	verify::{self as check, Verdict},
	Engine, Request,
};
use agora_primitives::{jobs::VERDICT_HEADER, models::DeterminismProfile, VerifyRequest};
use axum::{
	body::Bytes,
	extract::{DefaultBodyLimit, State},
	http::StatusCode,
	response::{IntoResponse, Response},
	routing::{get, post},
	Json, Router,
};
use codec::Decode;
use std::{
	collections::HashMap,
	sync::{Arc, Mutex},
	time::Instant,
};

/// Largest request body (input + output) accepted.
pub const MAX_REQUEST_BYTES: usize = 8 << 20;

/// A model loaded for checking under its profile.
pub enum Checker {
	/// One forward pass over prompt + claimed output (generation).
	TeacherForced { gen: TextGen, full: FullLogits, eps: f32 },
	/// Recompute the embedding and compare.
	Cosine { emb: Embedder, min_cosine: f64 },
	/// Re-run and compare bytes.
	Exact { engine: Arc<dyn Engine> },
}

impl Checker {
	/// Loads `files` for checking under `profile`.
	pub fn load(files: &ModelFiles, profile: &DeterminismProfile, device: &candle_core::Device) -> anyhow::Result<Self> {
		let (eps, min_cosine) = check::tolerances(profile);
		Ok(match profile {
			DeterminismProfile::TeacherForced { .. } => Checker::TeacherForced {
				gen: TextGen::load(files, device, false)?,
				full: FullLogits::load(&std::fs::read(&files.weights)?, device)?,
				eps,
			},
			DeterminismProfile::Cosine { .. } => Checker::Cosine { emb: Embedder::load(files, device, false)?, min_cosine },
			DeterminismProfile::Exact => Checker::Exact { engine: engine::load(files, device, false)? },
		})
	}

	/// Checks `req.output` against the job.
	pub fn check(&self, req: &VerifyRequest) -> anyhow::Result<Verdict> {
		match self {
			Checker::TeacherForced { gen, full, eps } => check::teacher_forced(
				gen,
				full,
				&check::GenClaim {
					input: &req.input,
					max_tokens: req.params.max_tokens,
					temperature_milli: req.params.temperature_milli,
					job_seed: req.job_seed,
					billed_tokens: req.output_tokens,
					output: &req.output,
				},
				*eps,
			),
			Checker::Cosine { emb, min_cosine } => check::cosine_check(emb, &req.input, &req.output, *min_cosine),
			Checker::Exact { engine } => {
				let r = Request {
					input: req.input.clone(),
					max_tokens: req.params.max_tokens,
					temperature: req.params.temperature_milli as f64 / 1000.0,
					seed: req.job_seed,
				};
				check::exact(engine.as_ref(), &r, &req.output)
			},
		}
	}
}

/// The models a verifier holds, by on-chain model id.
pub struct Verifier {
	models: HashMap<[u8; 32], (String, Mutex<Checker>)>,
}

/// Why a request got no verdict.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
	#[error("the body is not a SCALE VerifyRequest: {0}")]
	BadRequest(String),
	#[error("this verifier holds no model {0}")]
	UnknownModel(String),
	#[error("{0}")]
	Internal(String),
}

impl Verifier {
	/// A verifier holding these models: (model id, name, checker).
	pub fn new(models: Vec<([u8; 32], String, Checker)>) -> Self {
		Self { models: models.into_iter().map(|(id, n, c)| (id, (n, Mutex::new(c)))).collect() }
	}

	/// Names and ids of the models held.
	pub fn models(&self) -> Vec<(String, [u8; 32])> {
		self.models.iter().map(|(id, (n, _))| (n.clone(), *id)).collect()
	}

	/// Decodes and checks one request (blocking: runs the model).
	pub fn verify(&self, body: &[u8]) -> Result<(VerifyRequest, Verdict), VerifyError> {
		let req = VerifyRequest::decode(&mut &body[..]).map_err(|e| VerifyError::BadRequest(e.to_string()))?;
		let (_, checker) = self
			.models
			.get(&req.model_id)
			.ok_or_else(|| VerifyError::UnknownModel(agora_client::hex0x(&req.model_id)))?;
		let checker = checker.lock().map_err(|_| VerifyError::Internal("a previous check panicked".into()))?;
		let v = checker.check(&req).map_err(|e| VerifyError::Internal(format!("{e:#}")))?;
		Ok((req, v))
	}
}

async fn verify(State(v): State<Arc<Verifier>>, body: Bytes) -> Response {
	let t0 = Instant::now();
	let result = tokio::task::spawn_blocking(move || v.verify(&body)).await;
	match result {
		Ok(Ok((req, verdict))) => {
			let word = if verdict.valid { "valid" } else { "invalid" };
			tracing::info!(
				job = req.job_id,
				verdict = word,
				reason = %verdict.reason,
				secs = t0.elapsed().as_secs_f64(),
				"checked"
			);
			([(VERDICT_HEADER, word)], Json(verdict)).into_response()
		},
		Ok(Err(e)) => {
			let code = match e {
				VerifyError::BadRequest(_) => StatusCode::BAD_REQUEST,
				VerifyError::UnknownModel(_) => StatusCode::NOT_FOUND,
				VerifyError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
			};
			tracing::warn!(error = %e, "no verdict");
			(code, Json(serde_json::json!({ "error": e.to_string() }))).into_response()
		},
		Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, Json(serde_json::json!({ "error": e.to_string() })))
			.into_response(),
	}
}

async fn health(State(v): State<Arc<Verifier>>) -> Response {
	let models: Vec<_> =
		v.models().into_iter().map(|(n, id)| serde_json::json!({"name": n, "id": agora_client::hex0x(&id)})).collect();
	Json(serde_json::json!({ "models": models })).into_response()
}

/// The verifier's HTTP API: `/v1/verify` and `/health` answered by `v`,
/// `/v1/fetch` by `f` ([`crate::fetch`]).
pub fn router(v: Arc<Verifier>, f: Arc<crate::fetch::Fetcher>) -> Router {
	let fetch = Router::new().route("/v1/fetch", post(crate::fetch::fetch)).with_state(f);
	Router::new()
		.route("/v1/verify", post(verify))
		.route("/health", get(health))
		.layer(DefaultBodyLimit::max(MAX_REQUEST_BYTES))
		.with_state(v)
		.merge(fetch)
}
