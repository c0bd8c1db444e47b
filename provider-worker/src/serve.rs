//! `agora-worker serve`: watch the chain for jobs assigned to this worker's key,
//! run them, store the outputs and post signed receipts.
//!
//! Robustness (docs/protocol.md §10 Faults):
//! - Every job's output is stored (and its record saved) before its receipt is
//!   submitted; a restart finds the record and resubmits the receipt without
//!   running the model again. A job whose receipt is final is never touched again.
//! - On every (re)connection the worker scans the chain's open jobs for its key, so
//!   jobs assigned while it was down are picked up.
//! - A node that goes away is reconnected with exponential backoff (0.5 s → 10 s).
//! - A job is acknowledged on chain, and the acknowledgement final, before the
//!   model runs: from then on the client cannot cancel it, so no output is ever
//!   computed (or served) for a job its client could still get refunded.
//! - Inputs the model cannot run (not UTF-8, empty, too long for the context) get an
//!   error receipt: the output is `{"error": …}` with 0 tokens, so the client pays
//!   only the offer's base price and the provider is not slashed for a client's
//!   mistake. Worker faults (engine errors) are retried twice, then the job is left
//!   to expire — the client is refunded and the provider slashed, as it should be.
use crate::{
	api::{self, ApiState},
	metrics::Metrics,
	store::{JobRecord, OutputKind, ReceiptState, Store},
};
use agora_client::chain::{self, runtime, Client, JobStatus, Keypair, View};
use agora_engine::{self as engine, Engine, EngineError, Request};
use agora_primitives::{
	models::TaskKind,
	rules::content_hash,
};
use std::{
	collections::{HashMap, HashSet},
	net::SocketAddr,
	path::PathBuf,
	sync::Arc,
	time::{Duration, Instant},
};
use subxt::utils::AccountId32;
use tokio::sync::{mpsc, Mutex, RwLock};

/// Jobs waiting beyond the running ones; more are picked up by the next scan.
pub const QUEUE_BOUND: usize = 1024;

/// What `serve` needs.
pub struct ServeConfig {
	/// The node's WebSocket RPC.
	pub url: String,
	/// The provider account: owns the offers and pays for receipts.
	pub signer: Keypair,
	/// The key receipts are signed with (the offers' worker key).
	pub worker_key: Keypair,
	/// Models to serve: on-chain name or hex id, and the directory with its files.
	pub models: Vec<(String, PathBuf)>,
	/// Where outputs and job records are kept.
	pub data_dir: PathBuf,
	/// Where the HTTP API listens.
	pub listen: SocketAddr,
	/// Terms for offers this worker opens when it finds none.
	pub offer: OfferTerms,
	/// Run on the CPU even when built with CUDA.
	pub cpu: bool,
	/// Show progress bars.
	pub progress: bool,
	/// Test builds only: serve wrong outputs with valid receipts. Generation
	/// jobs take these cheats in turn (the first job the first); embedding jobs
	/// are negated whenever any cheat other than `overbill` is given.
	#[cfg(feature = "test-cheat")]
	pub cheat: Vec<Cheat>,
}

/// How a cheating worker lies (`test-cheat` builds only; never in a release):
/// it signs a valid receipt over an output it did not honestly compute.
#[cfg(feature = "test-cheat")]
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Cheat {
	/// Keep the first half of the generated tokens and text (and bill half).
	Truncate,
	/// Replace the text with a nonsense answer; negate an embedding.
	Wrong,
	/// Serve the honest output but bill `max_tokens` for it (a generation that
	/// stopped early).
	Overbill,
}

#[cfg(feature = "test-cheat")]
impl Cheat {
	fn apply(self, output: Vec<u8>, tokens: u32, kind: OutputKind, max_tokens: u32) -> (Vec<u8>, u32) {
		use agora_primitives::jobs::GenerationOutput;
		let gen = GenerationOutput::from_bytes(&output);
		match (self, kind, gen) {
			(_, OutputKind::Error, _) => (output, tokens),
			(Cheat::Truncate, OutputKind::Text, Some(g)) => {
				let half: String = g.text.chars().take(g.text.chars().count() / 2).collect();
				let ids = g.tokens[..g.tokens.len() / 2].to_vec();
				let n = ids.len() as u32;
				(GenerationOutput { text: half, tokens: ids }.to_bytes(), n)
			},
			(Cheat::Wrong, OutputKind::Text, Some(g)) => (
				GenerationOutput { text: "Purple elephants compute seventeen bananas.".into(), tokens: g.tokens }
					.to_bytes(),
				tokens,
			),
			(Cheat::Overbill, OutputKind::Text, _) => (output, max_tokens),
			(Cheat::Overbill, OutputKind::Embedding, _) => (output, tokens),
			(_, OutputKind::Embedding, _) => {
				let neg: Vec<u8> = output
					.chunks_exact(4)
					.flat_map(|c| (-f32::from_le_bytes([c[0], c[1], c[2], c[3]])).to_le_bytes())
					.collect();
				(neg, tokens)
			},
			(_, OutputKind::Text, None) => (output, tokens),
		}
	}
}

/// Terms of an offer the worker opens.
#[derive(Clone, Debug)]
pub struct OfferTerms {
	pub endpoint: String,
	pub base_price: u128,
	pub price_per_1k_tokens: u128,
	pub capacity: u32,
	pub hardware: Option<String>,
}

struct Shared {
	url: String,
	client: Arc<RwLock<Client>>,
	signer: Keypair,
	worker_key: Keypair,
	provider: AccountId32,
	engines: HashMap<[u8; 32], Arc<dyn Engine>>,
	store: Store,
	metrics: Metrics,
	submit_lock: Mutex<()>,
	taken: std::sync::Mutex<HashSet<u64>>,
	queue: mpsc::Sender<u64>,
	#[cfg(feature = "test-cheat")]
	cheat: Vec<Cheat>,
	#[cfg(feature = "test-cheat")]
	text_jobs: std::sync::atomic::AtomicUsize,
}

/// Loads and verifies the models, makes sure the offers exist, serves the API and
/// processes jobs until interrupted.
pub async fn serve(cfg: ServeConfig) -> anyhow::Result<()> {
	let store = Store::open(&cfg.data_dir)?;
	let metrics = Metrics::new()?;
	let client = chain::connect_with_backoff(&cfg.url, Duration::from_secs(120)).await?;
	let provider = chain::account(&cfg.signer);
	let worker_pub = cfg.worker_key.public_key().0;
	tracing::info!(provider = %provider, worker_key = %agora_client::hex0x(&worker_pub), "connected to {}", cfg.url);

	let device = engine::device(cfg.cpu)?;
	let mut engines: HashMap<[u8; 32], Arc<dyn Engine>> = HashMap::new();
	for (which, dir) in &cfg.models {
		let model = View::new(&client).find_model(which).await?;
		anyhow::ensure!(!model.deprecated, "model {} is deprecated on chain", model.name());
		let (dir, manifest, id, progress, dev) =
			(dir.clone(), model.manifest.clone(), model.id, cfg.progress, device.clone());
		let engine = tokio::task::spawn_blocking(move || -> anyhow::Result<Arc<dyn Engine>> {
			let files = engine::files::verify(&dir, &manifest, id, progress)?;
			engine::load(&files, &dev, progress)
		})
		.await??;
		tracing::info!(model = %model.name(), id = %agora_client::hex0x(&model.id), "model verified against its manifest and loaded");
		engines.insert(model.id, engine);
	}
	anyhow::ensure!(!engines.is_empty(), "no models to serve (give --model NAME=DIR)");

	let hardware = cfg.offer.hardware.clone().unwrap_or_else(|| engine::hardware_tag(&device));
	let capacity =
		ensure_offers(&client, &cfg.signer, &provider, worker_pub, &engines, &cfg.offer, &hardware)
			.await?;

	let health = serde_json::json!({
		"provider": provider.to_string(),
		"worker_key": agora_client::hex0x(&worker_pub),
		"models": engines.iter().map(|(id, e)| serde_json::json!({"id": agora_client::hex0x(id), "name": e.name()})).collect::<Vec<_>>(),
		"capacity": capacity,
		"hardware": hardware,
	});
	let chain = Arc::new(RwLock::new(client));
	let api_state = Arc::new(ApiState {
		store: store.clone(),
		metrics: metrics.clone(),
		health,
		chain: chain.clone(),
		worker_key: worker_pub,
	});
	let listener = tokio::net::TcpListener::bind(cfg.listen)
		.await
		.map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", cfg.listen))?;
	tracing::info!(listen = %cfg.listen, "HTTP API up");
	tokio::spawn(async move {
		if let Err(e) = axum::serve(listener, api::router(api_state)).await {
			tracing::error!(error = %e, "HTTP API stopped");
		}
	});

	let (tx, rx) = mpsc::channel::<u64>(QUEUE_BOUND);
	let shared = Arc::new(Shared {
		url: cfg.url.clone(),
		client: chain,
		signer: cfg.signer,
		worker_key: cfg.worker_key,
		provider,
		engines,
		store,
		metrics,
		submit_lock: Mutex::new(()),
		taken: std::sync::Mutex::new(HashSet::new()),
		queue: tx,
		#[cfg(feature = "test-cheat")]
		cheat: cfg.cheat,
		#[cfg(feature = "test-cheat")]
		text_jobs: std::sync::atomic::AtomicUsize::new(0),
	});
	let rx = Arc::new(Mutex::new(rx));
	for _ in 0..capacity.max(1) {
		let (s, rx) = (shared.clone(), rx.clone());
		tokio::spawn(async move {
			loop {
				let next = rx.lock().await.recv().await;
				let Some(id) = next else { break };
				if let Err(e) = s.process(id).await {
					tracing::error!(job = id, error = %e, "job failed; the next scan retries it");
				}
				s.release(id);
			}
		});
	}
	tracing::info!(capacity, "serving");
	tokio::select! {
		r = shared.clone().watch() => r,
		_ = shutdown_signal() => {
			tracing::info!("shutting down; outputs and receipts on disk are kept");
			Ok(())
		},
	}
}

async fn shutdown_signal() {
	let ctrl_c = tokio::signal::ctrl_c();
	#[cfg(unix)]
	{
		if let Ok(mut term) =
			tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
		{
			tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
			return;
		}
	}
	let _ = ctrl_c.await;
}

/// Makes sure an active offer with this worker key exists for every served model:
/// verifies it, resumes it if paused, or opens it. Returns the total capacity.
async fn ensure_offers(
	client: &Client,
	signer: &Keypair,
	provider: &AccountId32,
	worker_pub: [u8; 32],
	engines: &HashMap<[u8; 32], Arc<dyn Engine>>,
	terms: &OfferTerms,
	hardware: &str,
) -> anyhow::Result<u32> {
	let offers: Vec<chain::OfferInfo> = View::new(client)
		.offers()
		.await?
		.into_iter()
		.filter(|o| &o.provider == provider && o.worker_key == worker_pub)
		.collect();
	let mut capacity = 0u32;
	for (model_id, engine) in engines {
		let name = engine.name();
		match offers.iter().find(|o| &o.model_id == model_id) {
			Some(o) if o.active => {
				tracing::info!(model = name, offer = o.id, endpoint = %o.endpoint, capacity = o.capacity, "offer verified");
				if o.endpoint != terms.endpoint {
					// Clients fetch outputs from the on-chain endpoint: point it here.
					tracing::info!(offer = o.id, from = %o.endpoint, to = %terms.endpoint, "updating the offer's endpoint");
					let call = runtime::transactions().models().update_offer(
						o.id,
						o.base_price,
						o.price_per_1k_tokens,
						terms.endpoint.as_bytes().to_vec(),
						o.capacity,
						o.hardware.as_bytes().to_vec(),
					);
					chain::submit_final(client, &call, signer, &format!("updating offer {}", o.id)).await?;
				}
				capacity = capacity.saturating_add(o.capacity);
			},
			Some(o) => {
				tracing::info!(model = name, offer = o.id, status = %o.status, "resuming offer");
				let call = runtime::transactions().models().resume_offer(o.id);
				chain::submit_final(client, &call, signer, &format!("resuming offer {}", o.id)).await?;
				capacity = capacity.saturating_add(o.capacity);
			},
			None => {
				tracing::info!(model = name, endpoint = %terms.endpoint, "no offer with this worker key; opening one");
				let call = runtime::transactions().models().open_offer(
					*model_id,
					worker_pub,
					terms.base_price,
					terms.price_per_1k_tokens,
					terms.endpoint.as_bytes().to_vec(),
					terms.capacity,
					hardware.as_bytes().to_vec(),
				);
				let events = chain::submit_final(client, &call, signer, &format!("opening an offer for {name}")).await?;
				if let Some(ev) = events.find_first::<runtime::models::events::OfferOpened>() {
					tracing::info!(model = name, offer = ?ev?.offer_id, "offer opened");
				}
				capacity = capacity.saturating_add(terms.capacity);
			},
		}
	}
	Ok(capacity)
}

fn now_unix() -> u64 {
	std::time::SystemTime::now()
		.duration_since(std::time::UNIX_EPOCH)
		.map(|d| d.as_secs())
		.unwrap_or(0)
}

impl Shared {
	async fn client(&self) -> Client {
		self.client.read().await.clone()
	}

	fn release(&self, id: u64) {
		if let Ok(mut t) = self.taken.lock() {
			if t.remove(&id) {
				self.metrics.queue_depth.dec();
			}
		}
	}

	fn enqueue(&self, id: u64) {
		let fresh = self.taken.lock().map(|mut t| t.insert(id)).unwrap_or(false);
		if !fresh {
			return;
		}
		self.metrics.queue_depth.inc();
		if self.queue.try_send(id).is_err() {
			tracing::warn!(job = id, "queue full; the next scan picks the job up");
			self.release(id);
		}
	}

	/// Queues every open job on chain assigned to this worker's key.
	async fn scan(&self, client: &Client) -> anyhow::Result<()> {
		let me = self.worker_key.public_key().0;
		let mut n = 0;
		for (id, job) in View::new(client).jobs().await? {
			let open = matches!(job.status, JobStatus::Assigned | JobStatus::Acknowledged);
			if job.worker_key == me && open {
				n += 1;
				self.enqueue(id);
			}
		}
		tracing::info!(pending = n, "scanned the chain for open jobs");
		Ok(())
	}

	/// Follows finalized blocks for `JobAssigned` events with this worker's key;
	/// reconnects with backoff when the node goes away.
	async fn watch(self: Arc<Self>) -> anyhow::Result<()> {
		let me = self.worker_key.public_key().0;
		loop {
			let client = self.client().await;
			let result: anyhow::Result<()> = async {
				self.scan(&client).await?;
				let mut blocks = client.stream_blocks().await?;
				while let Some(block) = blocks.next().await {
					let block = block?;
					let at = block.at().await?;
					let events = at.events().fetch().await?;
					for ev in events.find::<runtime::jobs::events::JobAssigned>() {
						let ev = ev?;
						if ev.worker_key == me {
							tracing::info!(job = ev.job_id, block = block.number(), "job assigned");
							self.enqueue(ev.job_id);
						}
					}
				}
				anyhow::bail!("the finalized block stream ended")
			}
			.await;
			if let Err(e) = result {
				tracing::warn!(error = %e, "lost the node; reconnecting");
			}
			let fresh = chain::connect_with_backoff(&self.url, Duration::from_secs(u64::MAX / 4)).await?;
			*self.client.write().await = fresh;
			tracing::info!(url = %self.url, "reconnected");
		}
	}

	/// Runs one job (or reuses its stored output) and posts its receipt.
	async fn process(&self, id: u64) -> anyhow::Result<()> {
		let rec = self.store.record(id)?;
		if rec.as_ref().is_some_and(|r| r.receipt.is_some() || r.abandoned.is_some()) {
			return Ok(());
		}
		let client = self.client().await;
		let view = View::new(&client);
		let Some(job) = view.job(id).await? else {
			return self.abandon(rec, id, "the chain no longer has the job");
		};
		if job.worker_key != self.worker_key.public_key().0 {
			return Ok(());
		}
		match job.status {
			JobStatus::Assigned | JobStatus::Acknowledged => {},
			JobStatus::Expired | JobStatus::Cancelled =>
				return self.abandon(rec, id, &format!("the job is {:?}", job.status)),
			_ => return Ok(()),
		}
		if u64::from(job.deadline) < view.finalized_number().await? {
			return self.abandon(rec, id, "the deadline passed");
		}
		let Some(engine) = self.engines.get(&job.model_id).cloned() else {
			tracing::warn!(job = id, model = %agora_client::hex0x(&job.model_id), "no engine for the job's model");
			return Ok(());
		};
		let model = engine.name().to_string();
		let input_hash = match &job.input {
			runtime::runtime_types::pallet_jobs::types::JobInput::Inline(b) => content_hash(&b.0),
			runtime::runtime_types::pallet_jobs::types::JobInput::Hash(h) => *h,
		};

		if rec.is_none() && matches!(job.status, JobStatus::Assigned) && !self.acknowledge(&client, id).await? {
			return self.abandon(None, id, "the job ended before it was acknowledged (cancelled by its client?)");
		}

		let rec = match rec {
			Some(r) => {
				tracing::info!(job = id, "output already stored; resubmitting its receipt without rerunning");
				r
			},
			None => {
				let input = match &job.input {
					runtime::runtime_types::pallet_jobs::types::JobInput::Inline(b) => Some(b.0.clone()),
					runtime::runtime_types::pallet_jobs::types::JobInput::Hash(h) => {
						match self.wait_for_input(&client, id, &job, h).await? {
							Some(bytes) => Some(bytes),
							None => return Ok(()),
						}
					},
				};
				let req = input.map(|input| Request {
					input,
					max_tokens: job.params.max_tokens,
					temperature: f64::from(job.params.temperature_milli) / 1000.0,
					seed: job.job_seed,
				});
				let result = match req {
					None => Err(EngineError::Input(
						"the input was not delivered (PUT /v1/inputs) before the job ran".into(),
					)),
					Some(req) => self.run_with_retries(id, engine.clone(), req).await?,
				};
				let (output, tokens, kind) = match result {
					Ok(inf) => {
						let kind = match engine.task() {
							TaskKind::TextGeneration => OutputKind::Text,
							TaskKind::Embedding => OutputKind::Embedding,
						};
						(inf.output, inf.output_tokens, kind)
					},
					Err(EngineError::Input(msg)) => {
						tracing::warn!(job = id, error = %msg, "the model refused the input; posting an error receipt");
						(serde_json::to_vec(&serde_json::json!({ "error": msg }))?, 0, OutputKind::Error)
					},
					Err(EngineError::Internal(msg)) => anyhow::bail!("engine failure: {msg}"),
				};
				#[cfg(feature = "test-cheat")]
				let cheat = match kind {
					_ if self.cheat.is_empty() => None,
					OutputKind::Text => {
						let k = self.text_jobs.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
						self.cheat.get(k % self.cheat.len()).copied()
					},
					_ => self.cheat.iter().find(|c| **c != Cheat::Overbill).copied(),
				};
				let (output, tokens) = match cheat {
					Some(c) => {
						tracing::warn!(job = id, cheat = ?c, "TEST BUILD: cheating on this job");
						c.apply(output, tokens, kind, job.params.max_tokens)
					},
					None => (output, tokens),
				};
				let hash = self.store.put_output(&output)?;
				let r = JobRecord {
					job_id: id,
					model_id: hex::encode(job.model_id),
					output_hash: hex::encode(hash),
					output_tokens: tokens,
					kind,
					receipt: None,
					abandoned: None,
					created_unix: now_unix(),
				};
				self.store.save(&r)?;
				if kind != OutputKind::Error {
					self.metrics.tokens.inc_by(u64::from(tokens));
				}
				r
			},
		};
		self.post_receipt(&client, id, &job, input_hash, rec, &model).await
	}

	async fn run_with_retries(
		&self,
		id: u64,
		engine: Arc<dyn Engine>,
		req: Request,
	) -> anyhow::Result<Result<engine::Inference, EngineError>> {
		let mut last = None;
		for attempt in 1..=3 {
			let (e, r) = (engine.clone(), req.clone());
			let t0 = Instant::now();
			let res = tokio::task::spawn_blocking(move || e.run(&r)).await?;
			let secs = t0.elapsed().as_secs_f64();
			self.metrics.inference.with_label_values(&[engine.name()]).observe(secs);
			match res {
				Err(EngineError::Internal(msg)) => {
					tracing::warn!(job = id, attempt, error = %msg, "engine failure");
					last = Some(EngineError::Internal(msg));
				},
				other => {
					if let Ok(inf) = &other {
						tracing::info!(job = id, model = engine.name(), tokens = inf.output_tokens, prompt_tokens = inf.prompt_tokens, secs, "inference done");
					}
					return Ok(other);
				},
			}
		}
		self.metrics.jobs.with_label_values(&[engine.name(), "failed"]).inc();
		Ok(Err(last.unwrap_or_else(|| EngineError::Internal("no attempt ran".into()))))
	}

	/// Waits for a by-hash input to be uploaded (`PUT /v1/inputs`) and returns
	/// its bytes. When the client's grace is over without it, reports the input
	/// missing on chain (the client pays the base price, nobody is slashed) and
	/// returns `None`.
	async fn wait_for_input(
		&self,
		client: &Client,
		id: u64,
		job: &chain::Job,
		hash: &[u8; 32],
	) -> anyhow::Result<Option<Vec<u8>>> {
		let grace =
			client.at_current_block().await?.constants().entry(runtime::constants().jobs().input_grace())?;
		let from = agora_primitives::rules::input_report_from(
			u64::from(job.submitted_at),
			u64::from(job.deadline),
			u64::from(grace),
		);
		let mut logged = false;
		let call = runtime::transactions().jobs().report_input_missing(id);
		loop {
			if let Some(bytes) = self.store.input(hash)? {
				return Ok(Some(bytes));
			}
			// The finalized view lags the best block by a block or two, and the
			// report lands in a block after the best one: try from two before;
			// one that comes a block early is refused and tried again.
			let now = View::new(client).finalized_number().await?;
			if now.saturating_add(2) >= from {
				let sent = {
					let _nonce = self.submit_lock.lock().await;
					chain::submit_final(client, &call, &self.signer, &format!("reporting job {id}'s input missing")).await
				};
				match sent {
					Ok(events) => {
						if let Some(ev) = events.find_first::<runtime::jobs::events::InputMissing>().transpose()? {
							tracing::warn!(job = id, charged = %chain::fmt_agr(ev.charge), client_misses = ev.misses, "input never delivered; reported missing");
							self.metrics.inputs_missing.inc();
						}
						break;
					},
					Err(e) if format!("{e:#}").contains("InputGraceNotOver") => {},
					Err(e) => return Err(e),
				}
			} else if !logged {
				tracing::info!(job = id, input = %agora_client::hex0x(hash), report_at = from, "waiting for the client to upload the input");
				logged = true;
			}
			tokio::time::sleep(Duration::from_secs(2)).await;
		}
		let rec = self.store.record(id)?;
		self.abandon(rec, id, "the client never delivered the input; reported missing")?;
		Ok(None)
	}

	fn abandon(&self, rec: Option<JobRecord>, id: u64, why: &str) -> anyhow::Result<()> {
		tracing::warn!(job = id, why, "not serving the job");
		if let Some(mut r) = rec {
			r.abandoned = Some(why.to_string());
			self.store.save(&r)?;
		}
		Ok(())
	}

	/// Acknowledges job `id` and waits until the acknowledgement is final:
	/// `true` when the job is then `Acknowledged` (the client can no longer
	/// cancel it), `false` when it ended first (the client cancelled it);
	/// an error, to be retried by the next scan, when neither is on chain yet.
	async fn acknowledge(&self, client: &Client, id: u64) -> anyhow::Result<bool> {
		let call = runtime::transactions().jobs().acknowledge(id);
		let t0 = Instant::now();
		let sent: anyhow::Result<()> = async {
			let progress = {
				let _nonce = self.submit_lock.lock().await;
				client.tx().await?.sign_and_submit_then_watch_default(&call, &self.signer).await?
			};
			progress.wait_for_finalized_success().await?;
			Ok(())
		}
		.await;
		// Whatever happened to the call, the chain says whether the job is ours.
		let status = View::new(client).job(id).await?.map(|j| j.status);
		match status {
			Some(JobStatus::Acknowledged) => {
				tracing::info!(job = id, ack_secs = t0.elapsed().as_secs_f64(), "acknowledged; running");
				Ok(true)
			},
			Some(JobStatus::Assigned) => match sent {
				Err(e) => Err(e.context(format!("acknowledging job {id}"))),
				Ok(()) => anyhow::bail!("job {id}: acknowledged, but the chain still shows it Assigned"),
			},
			_ => Ok(false),
		}
	}

	/// Signs and submits the receipt, retrying across node failures until the
	/// deadline; records it once it is in a finalized block.
	async fn post_receipt(
		&self,
		client: &Client,
		id: u64,
		job: &chain::Job,
		input_hash: [u8; 32],
		mut rec: JobRecord,
		model: &str,
	) -> anyhow::Result<()> {
		let output_hash = agora_client::parse_h256(&rec.output_hash)?;
		let receipt = agora_primitives::jobs::Receipt::<[u8; 32]> {
			job_id: id,
			model_id: job.model_id,
			input_hash,
			output_hash,
			output_tokens: rec.output_tokens,
			provider: self.provider.0,
			worker_pubkey: self.worker_key.public_key().0,
		};
		let t_sign = Instant::now();
		let signature = self.worker_key.sign(&receipt.signing_payload()).0;
		let sign_us = t_sign.elapsed().as_micros() as u64;
		let call = runtime::transactions().jobs().submit_receipt(id, chain::recode(&receipt)?, signature);
		let t0 = Instant::now();
		let mut client = client.clone();
		let mut wait = Duration::from_millis(500);
		loop {
			let attempt: anyhow::Result<(String, u32, f64)> = async {
				let t_submit = Instant::now();
				let progress = {
					let _nonce = self.submit_lock.lock().await;
					client.tx().await?.sign_and_submit_then_watch_default(&call, &self.signer).await?
				};
				let submit_secs = t_submit.elapsed().as_secs_f64();
				let in_block = progress.wait_for_finalized().await?;
				let block = agora_client::hex0x(in_block.block_hash().as_ref());
				let events = in_block.wait_for_success().await?;
				let finalize_at = events
					.find_first::<runtime::jobs::events::JobReceipted>()
					.transpose()?
					.map(|e| e.finalize_at)
					.unwrap_or_default();
				Ok((block, finalize_at, submit_secs))
			}
			.await;
			match attempt {
				Ok((block, finalize_at, submit_secs)) => {
					let total = t0.elapsed().as_secs_f64();
					self.metrics.receipt.observe(total);
					let outcome = if rec.kind == OutputKind::Error { "error_receipt" } else { "receipted" };
					self.metrics.jobs.with_label_values(&[model, outcome]).inc();
					tracing::info!(job = id, %block, finalize_at, output_hash = %rec.output_hash, tokens = rec.output_tokens, sign_us, submit_secs, receipt_secs = total, "receipt final");
					rec.receipt = Some(ReceiptState { block, finalize_at });
					return self.store.save(&rec);
				},
				Err(e) => {
					// Whatever went wrong, the chain says whether to go on.
					tracing::warn!(job = id, error = %e, "receipt not final");
					tokio::time::sleep(wait).await;
					wait = (wait * 2).min(Duration::from_secs(10));
					client = self.client().await;
					let view = View::new(&client);
					let Ok(now_job) = view.job(id).await else { continue };
					match now_job.map(|j| j.status) {
						Some(JobStatus::Assigned | JobStatus::Acknowledged) => {
							if let Ok(now) = view.finalized_number().await {
								if now > u64::from(job.deadline) {
									self.metrics.jobs.with_label_values(&[model, "abandoned"]).inc();
									return self.abandon(Some(rec), id, "the deadline passed before the receipt was final");
								}
							}
						},
						Some(JobStatus::Receipted | JobStatus::Disputed | JobStatus::Finalized) => {
							tracing::info!(job = id, "the chain already has a receipt for the job");
							rec.receipt = Some(ReceiptState { block: "unknown".into(), finalize_at: 0 });
							return self.store.save(&rec);
						},
						Some(s) => return self.abandon(Some(rec), id, &format!("the job is {s:?}")),
						None => return self.abandon(Some(rec), id, "the chain no longer has the job"),
					}
				},
			}
		}
	}
}
