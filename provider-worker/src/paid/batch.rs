//! Embedding requests in flight batched into one forward pass: the first
//! request waits up to [`WINDOW`] for others (or until the batch's cap of
//! texts, [`MAX_BATCH`] unless `serve --embed-batch` says otherwise), then the
//! engine embeds them all at once and each request gets its vectors. Requests
//! that arrive while a batch runs wait in the queue and make the next one.
use super::ApiError;
use agora_engine::Engine;
use axum::http::StatusCode;
use std::{sync::Arc, time::Duration};
use tokio::sync::{mpsc, oneshot};

/// How long the first request of a batch waits for others.
pub const WINDOW: Duration = Duration::from_millis(2);
/// Most texts in one forward pass, by default.
pub const MAX_BATCH: usize = 64;

type Job = (Vec<String>, oneshot::Sender<Result<Vec<Vec<f32>>, String>>);

/// The batching queue of one embedding model.
#[derive(Clone)]
pub struct Batcher {
	tx: mpsc::Sender<Job>,
}

impl Batcher {
	/// Starts the batching task for `engine` (which must embed), at most
	/// `max` texts a batch (a request with more is one batch of its own).
	pub fn start(engine: Arc<dyn Engine>, max: usize) -> Self {
		let (tx, rx) = mpsc::channel::<Job>(4_096);
		tokio::spawn(run(engine, rx, max.max(1)));
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

async fn run(engine: Arc<dyn Engine>, mut rx: mpsc::Receiver<Job>, max: usize) {
	// A request that would have taken a batch past `max` starts the next one.
	let mut carry: Option<Job> = None;
	loop {
		let first = match carry.take() {
			Some(j) => j,
			None => match rx.recv().await {
				Some(j) => j,
				None => return,
			},
		};
		let mut n = first.0.len();
		let mut jobs = vec![first];
		let deadline = tokio::time::Instant::now() + WINDOW;
		while n < max {
			match tokio::time::timeout_at(deadline, rx.recv()).await {
				Ok(Some(j)) if n.saturating_add(j.0.len()) > max => {
					carry = Some(j);
					break;
				},
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

#[cfg(test)]
mod tests {
	use super::*;
	use agora_engine::{EngineError, Inference, Request};
	use agora_primitives::models::TaskKind;
	use std::sync::Mutex;

	/// Embeds each text as `[its length]` and records each batch's size.
	struct Lengths(Arc<Mutex<Vec<usize>>>);

	impl Engine for Lengths {
		fn task(&self) -> TaskKind {
			TaskKind::Embedding
		}
		fn name(&self) -> &str {
			"lengths"
		}
		fn run(&self, _: &Request) -> Result<Inference, EngineError> {
			unreachable!("the batcher only embeds")
		}
		fn embed_many(&self, texts: &[&str]) -> Option<Result<Vec<Vec<f32>>, EngineError>> {
			self.0.lock().unwrap().push(texts.len());
			Some(Ok(texts.iter().map(|t| vec![t.len() as f32]).collect()))
		}
	}

	/// Queues every request before the batcher runs (one-thread runtime), then
	/// checks each got its own vectors; returns the batch sizes.
	async fn batches(max: usize, requests: &[usize]) -> Vec<usize> {
		let sizes = Arc::new(Mutex::new(Vec::new()));
		let b = Batcher::start(Arc::new(Lengths(sizes.clone())), max);
		let mut replies = Vec::new();
		for (i, n) in requests.iter().enumerate() {
			let texts: Vec<String> = (0..*n).map(|k| "x".repeat(i * 10 + k + 1)).collect();
			let (tx, rx) = oneshot::channel();
			b.tx.send((texts.clone(), tx)).await.unwrap();
			replies.push((texts, rx));
		}
		for (texts, rx) in replies {
			let got = rx.await.unwrap().unwrap();
			let want: Vec<Vec<f32>> = texts.iter().map(|t| vec![t.len() as f32]).collect();
			assert_eq!(got, want, "each request gets its own texts' vectors, in order");
		}
		let v = sizes.lock().unwrap().clone();
		v
	}

	#[tokio::test]
	async fn a_batch_stops_at_its_cap_and_the_request_that_would_pass_it_starts_the_next() {
		assert_eq!(batches(4, &[1, 1, 1, 1, 1, 3]).await, vec![4, 4]);
		assert_eq!(batches(4, &[3, 3, 3]).await, vec![3, 3, 3], "3 + 3 would pass 4");
		assert_eq!(batches(4, &[2, 10, 1]).await, vec![2, 10, 1], "a request over the cap is a batch of its own");
		assert_eq!(batches(64, &[1; 40]).await, vec![40], "under the cap, all in flight go at once");
	}
}
