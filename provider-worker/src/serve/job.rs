//! One job's way through the worker: queue, acknowledge, input, run, store,
//! receipt (docs/protocol.md §10 Faults).
use super::*;

impl Shared {
	pub(super) async fn client(&self) -> Client {
		self.client.read().await.clone()
	}

	pub(super) fn release(&self, id: u64) {
		if let Ok(mut t) = self.taken.lock() {
			if t.remove(&id) {
				self.metrics.queue_depth.dec();
			}
		}
	}

	pub(super) fn enqueue(&self, id: u64, lane: Lane) {
		self.enqueue_all(vec![(id, lane)]);
	}

	/// Queues jobs together (under one lock), so that executors waiting for
	/// work take them in the schedule's order rather than in arrival order:
	/// a block's assignments, or the backlog a restart finds on chain.
	pub(super) fn enqueue_all(&self, jobs: Vec<(u64, Lane)>) {
		let fresh: Vec<(u64, Lane)> = match self.taken.lock() {
			Ok(mut t) => jobs.into_iter().filter(|(id, _)| t.insert(*id)).collect(),
			Err(_) => return,
		};
		let mut dropped = vec![];
		let mut queued = 0usize;
		if let Ok(mut q) = self.queue.lock() {
			for (id, lane) in fresh {
				self.metrics.queue_depth.inc();
				if q.queued() >= QUEUE_BOUND {
					dropped.push(id);
				} else {
					q.push(id, lane);
					queued += 1;
				}
			}
		}
		for _ in 0..queued {
			self.ready.notify_one();
		}
		for id in dropped {
			tracing::warn!(job = id, "queue full; the next scan picks the job up");
			self.release(id);
		}
	}

	/// Waits for the next job to run (`schedule.rs` orders them); logs it
	/// with the jobs and pass clients that were waiting.
	pub(super) async fn next_job(&self) -> u64 {
		loop {
			// Registered before looking, so a job queued in between wakes it.
			let notified = self.ready.notified();
			let next = self.queue.lock().ok().and_then(|mut q| {
				let (queued, pass_clients) = (q.queued(), q.pass_clients());
				q.pop().map(|id| (id, queued, pass_clients))
			});
			if let Some((id, queued, pass_clients)) = next {
				tracing::info!(job = id, queued, pass_clients, "next job");
				return id;
			}
			notified.await;
		}
	}

	/// The queue a job waits in: a pass job's client's round-robin lane,
	/// weighted by its pass stake as the chain has it now.
	pub(super) async fn lane(&self, client: &Client, job: &chain::Job) -> Lane {
		use runtime::runtime_types::agora_primitives::jobs::PaymentMode;
		if !matches!(job.payment, PaymentMode::Pass) {
			return Lane::Escrow;
		}
		let stake = View::new(client).pass_stake(&job.client).await.unwrap_or(0);
		Lane::Pass { client: job.client.0, stake }
	}

	/// Queues job `id` after reading its lane from the chain (a retry, or an
	/// assignment that may be a pass job).
	pub(super) async fn enqueue_by_id(&self, client: &Client, id: u64) {
		let lane = self.lane_of(client, id).await;
		self.enqueue(id, lane);
	}

	/// Job `id`'s lane, read from the chain (escrow if it cannot be read).
	async fn lane_of(&self, client: &Client, id: u64) -> Lane {
		match View::new(client).job(id).await {
			Ok(Some(job)) => self.lane(client, &job).await,
			_ => Lane::Escrow,
		}
	}

	/// Queues every open job on chain assigned to this worker's key.
	pub(super) async fn scan(&self, client: &Client) -> anyhow::Result<()> {
		let me = self.worker_key.public_key().0;
		let mut open_jobs = vec![];
		for (id, job) in View::new(client).jobs().await? {
			let open = matches!(job.status, JobStatus::Assigned | JobStatus::Acknowledged);
			if job.worker_key == me && open {
				let lane = self.lane(client, &job).await;
				open_jobs.push((id, lane));
			}
		}
		tracing::info!(pending = open_jobs.len(), "scanned the chain for open jobs");
		self.enqueue_all(open_jobs);
		Ok(())
	}

	/// Follows finalized blocks for `JobAssigned` events with this worker's key;
	/// reconnects with backoff when the node goes away.
	pub(super) async fn watch(self: Arc<Self>) -> anyhow::Result<()> {
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
					let mut assigned = vec![];
					for ev in events.find::<runtime::jobs::events::JobAssigned>() {
						let ev = ev?;
						if ev.worker_key == me {
							tracing::info!(job = ev.job_id, block = block.number(), "job assigned");
							// Only a job with nothing held can be a pass job: an
							// escrow job is queued without reading the chain again.
							let lane =
								if ev.max_price == 0 { self.lane_of(&client, ev.job_id).await } else { Lane::Escrow };
							assigned.push((ev.job_id, lane));
						}
					}
					self.enqueue_all(assigned);
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
	pub(super) async fn process(&self, id: u64) -> anyhow::Result<()> {
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
				let (output, tokens) = {
					let cheats: Vec<Cheat> = self.cheat.iter().copied().filter(|c| c.on_output()).collect();
					let cheat = match kind {
						_ if cheats.is_empty() => None,
						OutputKind::Text => {
							let k = self.text_jobs.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
							cheats.get(k % cheats.len()).copied()
						},
						_ => cheats.iter().find(|c| **c != Cheat::Overbill).copied(),
					};
					match cheat {
						Some(c) => {
							tracing::warn!(job = id, cheat = ?c, "TEST BUILD: cheating on this job");
							c.apply(output, tokens, kind, job.params.max_tokens)
						},
						None => (output, tokens),
					}
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

	pub(super) async fn run_with_retries(
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
	pub(super) async fn wait_for_input(
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
		// Test builds: a lying worker ignores the input it took.
		#[cfg(feature = "test-cheat")]
		let lie = self.cheat.contains(&Cheat::InputMissing);
		#[cfg(not(feature = "test-cheat"))]
		let lie = false;
		loop {
			if let Some(bytes) = self.store.input(hash)?.filter(|_| !lie) {
				return Ok(Some(bytes));
			}
			// The finalized view lags the best block by a block or two, and the
			// report lands in a block after the best one: try from two before;
			// one that comes a block early is refused and tried again.
			let now = View::new(client).finalized_number().await?;
			if now.saturating_add(2) >= from {
				// From here on no upload is taken (nor signed for): the
				// client could contest the report with its receipt.
				if lie {
					tracing::warn!(job = id, "TEST BUILD: reporting a delivered input missing");
				} else if let Some(bytes) = self.store.give_up_input(id, hash)? {
					return Ok(Some(bytes));
				}
				let sent =
					self.submitter.submit_final(client, &call, &format!("reporting job {id}'s input missing")).await;
				match sent {
					Ok(events) => {
						if let Some(ev) = events.find_first::<runtime::jobs::events::InputMissing>().transpose()? {
							tracing::warn!(job = id, charged = %chain::fmt_agr(ev.charge), client_misses = ev.misses, "input never delivered; reported missing");
							self.metrics.inputs_missing.inc();
						}
						break;
					},
					Err(e) if format!("{e:#}").contains("InputGraceNotOver") => self.store.resume_input(id)?,
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

	pub(super) fn abandon(&self, rec: Option<JobRecord>, id: u64, why: &str) -> anyhow::Result<()> {
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
	pub(super) async fn acknowledge(&self, client: &Client, id: u64) -> anyhow::Result<bool> {
		let call = runtime::transactions().jobs().acknowledge(id);
		let t0 = Instant::now();
		let sent: anyhow::Result<()> = async {
			let progress = self.submitter.submit(client, &call).await?;
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
	pub(super) async fn post_receipt(
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
				let progress = self.submitter.submit(&client, &call).await?;
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
