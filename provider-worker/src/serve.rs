//! `agora-worker serve`: watch the chain for jobs assigned to this worker's key,
//! run them, store the outputs and post signed receipts. This file holds the
//! set-up and the chain watch; `serve/job.rs` one job's way from assignment to
//! receipt; `serve/cheat.rs` the test-only cheats.
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
//!   mistake. A job that fails (an engine error, a transaction that lost a race)
//!   is tried again every few seconds until its deadline, then left to expire —
//!   the client is refunded and the provider slashed, as it should be.
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
use tokio::sync::RwLock;

#[cfg(feature = "test-cheat")]
mod cheat;
mod job;
mod schedule;
use schedule::Lane;
#[cfg(feature = "test-cheat")]
pub use cheat::Cheat;

/// Jobs waiting beyond the running ones; more are picked up by the next scan.
pub const QUEUE_BOUND: usize = 1024;
/// How long a failed job waits before it is tried again.
const RETRY: Duration = Duration::from_secs(3);

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
	/// Jobs in progress at once (default: the offers' total capacity).
	pub concurrency: Option<u32>,
	/// Run on the CPU even when built with CUDA.
	pub cpu: bool,
	/// Show progress bars.
	pub progress: bool,
	/// Paid serving (payment channels): when to claim vouchers, and how many
	/// blocks before a channel's expiration its vouchers are refused.
	pub claims: crate::paid::claims::Schedule,
	pub channel_margin: u64,
	/// Paid embeddings: most texts in one forward pass ([`crate::paid::batch`]).
	pub embed_batch: usize,
	/// Test builds only: serve wrong outputs with valid receipts. Generation
	/// jobs take the output cheats in turn (the first job the first); embedding
	/// jobs are negated whenever an output cheat other than `overbill` is
	/// given; `input-missing` reports every by-hash input missing, delivered
	/// or not.
	#[cfg(feature = "test-cheat")]
	pub cheat: Vec<Cheat>,
}

/// Terms of an offer the worker opens.
#[derive(Clone, Debug)]
pub struct OfferTerms {
	pub endpoint: String,
	pub base_price: u128,
	pub price_per_1k_tokens: u128,
	/// Each offer's capacity: applied to existing offers too when given;
	/// [`DEFAULT_CAPACITY`] for an opened offer otherwise.
	pub capacity: Option<u32>,
	pub hardware: Option<String>,
}

/// The capacity of an offer the worker opens without `--capacity`.
pub const DEFAULT_CAPACITY: u32 = 4;

struct Shared {
	url: String,
	client: Arc<RwLock<Client>>,
	worker_key: Keypair,
	provider: AccountId32,
	engines: HashMap<[u8; 32], Arc<dyn Engine>>,
	store: Store,
	metrics: Metrics,
	/// Signs and submits the provider's transactions (acknowledgements,
	/// receipts, reports) with nonces that never collide.
	submitter: Arc<chain::Submitter>,
	taken: std::sync::Mutex<HashSet<u64>>,
	/// Jobs waiting for an executor, in the order they run (`schedule.rs`).
	queue: std::sync::Mutex<schedule::Schedule>,
	/// Wakes an executor when a job is queued.
	ready: tokio::sync::Notify,
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
	let paid = paid_state(&client, &cfg, &provider, &engines).await?;
	let chain = Arc::new(RwLock::new(client));
	let paid = Arc::new(crate::paid::Paid { chain: chain.clone(), ..paid });
	tokio::spawn(paid.clone().follow_head());
	// One submitter for the jobs' and the claims' transactions: they share the
	// provider account's nonces.
	let submitter = Arc::new(chain::Submitter::new(cfg.signer.clone()));
	tokio::spawn(crate::paid::claims::run(paid.clone(), submitter.clone(), cfg.claims));
	let api_state = Arc::new(ApiState {
		store: store.clone(),
		metrics: metrics.clone(),
		health,
		chain: chain.clone(),
		worker_key: cfg.worker_key.clone(),
	});
	let listener = tokio::net::TcpListener::bind(cfg.listen)
		.await
		.map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", cfg.listen))?;
	tracing::info!(listen = %cfg.listen, "HTTP API up");
	tokio::spawn(async move {
		let app = api::router(api_state).merge(crate::paid::router(paid));
		if let Err(e) = axum::serve(listener, app).await {
			tracing::error!(error = %e, "HTTP API stopped");
		}
	});

	let shared = Arc::new(Shared {
		url: cfg.url.clone(),
		client: chain,
		worker_key: cfg.worker_key,
		provider,
		engines,
		store,
		metrics,
		submitter,
		taken: std::sync::Mutex::new(HashSet::new()),
		queue: std::sync::Mutex::new(schedule::Schedule::default()),
		ready: tokio::sync::Notify::new(),
		#[cfg(feature = "test-cheat")]
		cheat: cfg.cheat,
		#[cfg(feature = "test-cheat")]
		text_jobs: std::sync::atomic::AtomicUsize::new(0),
	});
	let concurrency = cfg.concurrency.unwrap_or(capacity).max(1);
	for _ in 0..concurrency {
		let s = shared.clone();
		tokio::spawn(async move {
			loop {
				let id = s.next_job().await;
				let failed = s.process(id).await.err();
				s.release(id);
				if let Some(e) = failed {
					// Retried until it succeeds or the chain says it is over
					// (`process` abandons a job past its deadline): a transaction
					// that lost a race (two of this account's transactions with
					// one nonce) must not leave the job to expire.
					tracing::error!(job = id, error = %e, "job failed; retrying in {} s", RETRY.as_secs());
					let s = s.clone();
					tokio::spawn(async move {
						tokio::time::sleep(RETRY).await;
						let client = s.client().await;
						s.enqueue_by_id(&client, id).await;
					});
				}
			}
		});
	}
	tracing::info!(capacity, concurrency, "serving");
	tokio::select! {
		r = shared.clone().watch() => r,
		_ = shutdown_signal() => {
			tracing::info!("shutting down; outputs and receipts on disk are kept");
			Ok(())
		},
	}
}

/// The paid API's state: the voucher book (`channels/` in the data directory),
/// each served model's price from its offer on chain, a batcher per embedding
/// model. Its `chain` is replaced by the shared connection.
async fn paid_state(
	client: &Client,
	cfg: &ServeConfig,
	provider: &AccountId32,
	engines: &HashMap<[u8; 32], Arc<dyn Engine>>,
) -> anyhow::Result<crate::paid::Paid> {
	let book = crate::paid::book::Book::open(&cfg.data_dir.join("channels"))?;
	let worker_pub = cfg.worker_key.public_key().0;
	let offers = View::new(client).offers().await?;
	let mut models = HashMap::new();
	let mut batchers = HashMap::new();
	for (id, e) in engines {
		let Some(o) = offers.iter().find(|o| &o.provider == provider && o.worker_key == worker_pub && &o.model_id == id)
		else {
			continue;
		};
		let served = crate::paid::Served {
			id: *id,
			engine: e.clone(),
			base_price: o.base_price,
			price_per_1k: o.price_per_1k_tokens,
		};
		models.insert(e.name().to_string(), served);
		if e.task() == TaskKind::Embedding {
			batchers.insert(*id, crate::paid::batch::Batcher::start(e.clone(), cfg.embed_batch));
		}
	}
	let head = View::new(client).finalized_number().await?;
	Ok(crate::paid::Paid {
		book,
		chain: Arc::new(RwLock::new(client.clone())),
		provider: provider.to_string(),
		provider_id: provider.0,
		worker_key: cfg.worker_key.clone(),
		models,
		margin: cfg.channel_margin,
		head: std::sync::atomic::AtomicU64::new(head),
		channels: Default::default(),
		batchers,
		#[cfg(feature = "test-cheat")]
		cheat: cfg.cheat.first().copied(),
	})
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
				// Clients fetch outputs from the on-chain endpoint: point it
				// here; a given capacity applies too.
				let cap = terms.capacity.unwrap_or(o.capacity);
				if o.endpoint != terms.endpoint || o.capacity != cap {
					tracing::info!(offer = o.id, from = %o.endpoint, to = %terms.endpoint, capacity_from = o.capacity, capacity_to = cap, "updating the offer's endpoint and capacity");
					let call = runtime::transactions().models().update_offer(
						o.id,
						o.base_price,
						o.price_per_1k_tokens,
						terms.endpoint.as_bytes().to_vec(),
						cap,
						o.hardware.as_bytes().to_vec(),
					);
					chain::submit_final(client, &call, signer, &format!("updating offer {}", o.id)).await?;
				}
				capacity = capacity.saturating_add(cap);
			},
			Some(o) => {
				tracing::info!(model = name, offer = o.id, status = %o.status, "resuming offer");
				let call = runtime::transactions().models().resume_offer(o.id);
				chain::submit_final(client, &call, signer, &format!("resuming offer {}", o.id)).await?;
				capacity = capacity.saturating_add(o.capacity);
			},
			None => {
				tracing::info!(model = name, endpoint = %terms.endpoint, "no offer with this worker key; opening one");
				let cap = terms.capacity.unwrap_or(DEFAULT_CAPACITY);
				let call = runtime::transactions().models().open_offer(
					*model_id,
					worker_pub,
					terms.base_price,
					terms.price_per_1k_tokens,
					terms.endpoint.as_bytes().to_vec(),
					cap,
					hardware.as_bytes().to_vec(),
				);
				let events = chain::submit_final(client, &call, signer, &format!("opening an offer for {name}")).await?;
				if let Some(ev) = events.find_first::<runtime::models::events::OfferOpened>() {
					tracing::info!(model = name, offer = ?ev?.offer_id, "offer opened");
				}
				capacity = capacity.saturating_add(cap);
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
