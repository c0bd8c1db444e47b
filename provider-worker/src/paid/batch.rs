//! Embedding requests in flight batched into one forward pass: the first
//! request waits up to [`WINDOW`] for others (or until [`MAX_BATCH`] texts),
//! then the engine embeds them all at once and each request gets its vectors.
use super::ApiError;
use agora_engine::Engine;
use axum::http::StatusCode;
use std::{sync::Arc, time::Duration};
use tokio::sync::{mpsc, oneshot};

/// How long the first request of a batch waits for others.
pub const WINDOW: Duration = Duration::from_millis(2);
/// Most texts in one forward pass.
pub const MAX_BATCH: usize = 64;

type Job = (Vec<String>, oneshot::Sender<Result<Vec<Vec<f32>>, String>>);

/// The batching queue of one embedding model.
#[derive(Clone)]
pub struct Batcher {
	tx: mpsc::Sender<Job>,
}

impl Batcher {
	/// Starts the batching task for `engine` (which must embed).
	pub fn start(engine: Arc<dyn Engine>) -> Self {
		let (tx, rx) = mpsc::channel::<Job>(4_096);
		tokio::spawn(run(engine, rx));
		Self { tx }
	}

	/// The unit vectors of `texts`, computed with whatever else is in flight.
	pub async fn embed(&self, texts: Vec<String>) -> Result<Vec<Vec<f32>>, ApiError> {
		let busy = || {
			ApiError::new(
				StatusCode::SERVICE_UNAVAILABLE,
				"engine_unavailable",
				"the embedding engine stopped",
			)
		};
		let (tx, rx) = oneshot::channel();
		self.tx.send((texts, tx)).await.map_err(|_| busy())?;
		rx.await
			.map_err(|_| busy())?
			.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "engine_refused", e))
	}
}

async fn run(engine: Arc<dyn Engine>, mut rx: mpsc::Receiver<Job>) {
	while let Some(first) = rx.recv().await {
		let mut jobs = vec![first];
		let mut n = jobs[0].0.len();
		let deadline = tokio::time::Instant::now() + WINDOW;
		while n < MAX_BATCH {
			match tokio::time::timeout_at(deadline, rx.recv()).await {
				Ok(Some(j)) => {
					n += j.0.len();
					jobs.push(j);
				},
				_ => break,
			}
		}
		let texts: Vec<String> = jobs.iter().flat_map(|(t, _)| t.iter().cloned()).collect();
		let e = engine.clone();
		let result = tokio::task::spawn_blocking(move || {
			let refs: Vec<&str> = texts.iter().map(|s| s.as_str()).collect();
			match e.embed_many(&refs) {
				Some(r) => r.map_err(|e| e.to_string()),
				None => Err("not an embedding model".to_string()),
			}
		})
		.await
		.unwrap_or_else(|e| Err(format!("the engine panicked: {e}")));
		match result {
			Ok(mut vectors) => {
				for (texts, reply) in jobs {
					let rest = vectors.split_off(texts.len().min(vectors.len()));
					let _ = reply.send(Ok(std::mem::replace(&mut vectors, rest)));
				}
			},
			Err(e) => {
				for (_, reply) in jobs {
					let _ = reply.send(Err(e.clone()));
				}
			},
		}
	}
}
