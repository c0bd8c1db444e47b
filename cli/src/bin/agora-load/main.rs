//! `agora-load`: the load generator of `scripts/bench-throughput.sh`.
//!
//! Against a dev chain (`agora-node --dev`: Alice validates alone, Bob is the
//! bonded provider of the shipped models' offers) it measures, in one run and
//! from the same client accounts, how many of each thing the node finalizes
//! per second:
//! 1. **transfers**: every client sends `balances.transfer_keep_alive` to the
//!    next client;
//! 2. **job cycles**: every client orders jobs (`jobs.submit_job`, or
//!    `--order-batch` orders a `jobs.submit_jobs` call; escrow,
//!    assigned by the runtime's AVRF draw over the model's offers: Bob's and
//!    those of `--providers` − 1 load providers `//Alice//load//provider//N`,
//!    bonded and given an offer on Bob's terms at the start, each signing with
//!    its own key), a scripted provider holding every one of those worker keys
//!    (no model: the output hash is made up) signs and posts a receipt
//!    (`jobs.submit_receipt`) for each job assigned to them as soon as it sees
//!    the job in a block, and the chain pays each job out in `on_initialize`
//!    (or `on_idle`, with what the block's extrinsics left) when its dispute
//!    window ends (`JobFinalized`). One cycle = order + receipt + settlement.
//!
//! Load is closed-loop: on every new best block each client tops up to
//! `--window` transactions the chain has not included yet (its nonce read at
//! that block), and jobs stop being ordered while the offers' open jobs plus
//! the ordered-but-not-included ones reach their capacity (`MaxCapacity`
//! each). Receipts are posted
//! by `--relayers` fee payers in parallel, with a tip. Rates are counted in
//! *finalized* blocks, by their on-chain timestamps: transfers from the first
//! block with one to the last while the load went on; job cycles from the
//! first payout to the last (the backlog drained), and apart from the first
//! payout to the last while orders still went in. The report (JSON on
//! stdout, and `--json FILE`) gives the counts, the window, expired and
//! still-open jobs, and every failed transaction's error by name.
use agora_client::{
	chain::{self, runtime, Client, Keypair, View},
	gov,
};
use agora_primitives::jobs::Receipt;
use clap::Parser;
use subxt::ext::futures::future::join_all;
use runtime::runtime_types::{
	agora_primitives::jobs::JobParams,
	bounded_collections::bounded_vec::BoundedVec,
	pallet_jobs::types::{InputParam, Order},
};
use std::{
	collections::{BTreeMap, HashSet},
	sync::{
		atomic::{AtomicU64, Ordering},
		Arc, Mutex,
	},
	time::Duration,
};
use subxt::utils::AccountId32;

/// A client at one block.
type At = subxt::client::ClientAtBlock<chain::Config, subxt::client::OnlineClientAtBlockImpl<chain::Config>>;
/// A receipt as the chain's types encode it.
type ChainReceipt = runtime::runtime_types::agora_primitives::jobs::Receipt<AccountId32>;
/// A block's events.
type Events = subxt::events::Events<chain::Config>;

mod providers;
mod report;
use providers::{offers_load, provider_offers};
use report::{count_failures, finish, now_ms, rate, short, tally_finalized, PhaseReport, Report, Tally};

#[derive(Parser, Debug)]
#[command(name = "agora-load", about = "Drives transfers, then job cycles, into a dev node and reports finalized rates")]
struct Args {
	/// The node's WebSocket RPC.
	#[arg(long, default_value = "ws://127.0.0.1:9944")]
	url: String,
	/// Client accounts (`//Alice//load//N`, funded by Alice at the start).
	#[arg(long, default_value_t = 64)]
	clients: u32,
	/// Transactions each client may have in the pool, not yet in a block.
	#[arg(long, default_value_t = 32)]
	window: u64,
	/// Seconds of load per phase (the job phase then waits for its receipted
	/// jobs to be settled).
	#[arg(long, default_value_t = 90)]
	seconds: u64,
	/// The model jobs are ordered for (Bob must offer it, as on the dev chain).
	#[arg(long, default_value = "SmolLM2-135M-Instruct")]
	model: String,
	/// Providers whose offers take the jobs: Bob and this many − 1 load
	/// providers (bonded, each with an offer on Bob's terms), so that the
	/// offers' capacity does not cap the rate.
	#[arg(long, default_value_t = 8)]
	providers: u32,
	/// Accounts that post the scripted provider's receipts (a receipt is
	/// valid from any fee payer: it carries the worker's signature), each
	/// with its own nonces, so that receipts are submitted in parallel.
	#[arg(long, default_value_t = 8)]
	relayers: u32,
	/// Receipts per `jobs.submit_receipts` extrinsic (1: one
	/// `jobs.submit_receipt` each).
	#[arg(long, default_value_t = 64)]
	receipt_batch: usize,
	/// Orders per `jobs.submit_jobs` extrinsic (1: one `jobs.submit_job`
	/// each).
	#[arg(long, default_value_t = 1)]
	order_batch: usize,
	/// Which phases to run.
	#[arg(long, value_delimiter = ',', default_value = "transfers,jobs")]
	phases: Vec<String>,
	/// Set the market's `AUDIT_RATE` (parts per million of receipts drawn
	/// for an audit, at least 10,000) before the phases, with Alice's sudo key
	/// (the dev chain has `AUDIT_RATE` 0: its one validator would audit
	/// itself), so that every receipt goes through an audit draw as on a
	/// public chain (default 50,000, 5 %). Drawn receipts wait for a
	/// committee that no verifier serves here, and are not finalized in the
	/// run.
	#[arg(long)]
	audit_rate: Option<u32>,
	/// Also write the report here.
	#[arg(long)]
	json: Option<std::path::PathBuf>,
	/// Print each block's orders and receipts and each job's assignment
	/// (stderr), to see where a job cycle waits.
	#[arg(long)]
	trace: bool,
}

/// The tip on every receipt (0.001 AGR).
const RECEIPT_TIP: u128 = agora_primitives::MILLI_AGR;

/// One account's transactions, signed with locally counted nonces.
struct Sender {
	key: Keypair,
	account: AccountId32,
	/// The nonce the next transaction gets.
	next: u64,
	/// The account's nonce at the last best block seen (its included count).
	chain: u64,
	/// Transactions the pool dropped without a word (signed again).
	dropped: u64,
}

impl Sender {
	fn new(key: Keypair) -> Self {
		let account = chain::account(&key);
		Self { key, account, next: 0, chain: 0, dropped: 0 }
	}
	fn pending(&self) -> u64 {
		self.next.saturating_sub(self.chain)
	}
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
	let args = Args::parse();
	let client = chain::connect_with_backoff(&args.url, Duration::from_secs(60)).await?;
	let alice = chain::keypair(Some("//Alice"), None)?;
	let bob = chain::keypair(Some("//Bob"), None)?;
	let providers = (1..args.providers.max(1))
		.map(|i| chain::keypair(Some(&format!("//Alice//load//provider//{i}")), None).map(Sender::new))
		.collect::<anyhow::Result<Vec<_>>>()?;
	let mut clients = (0..args.clients)
		.map(|i| chain::keypair(Some(&format!("//Alice//load//{i}")), None).map(Sender::new))
		.collect::<anyhow::Result<Vec<_>>>()?;
	let mut relayers = (0..args.relayers.max(1))
		.map(|i| chain::keypair(Some(&format!("//Alice//load//relayer//{i}")), None).map(Sender::new))
		.collect::<anyhow::Result<Vec<_>>>()?;
	// Providers need the minimum stake (1,000 AGR on the dev chain) and an
	// offer deposit on top.
	fund(&client, &alice, clients.iter().chain(&relayers).map(|s| (s, 1_000)).chain(providers.iter().map(|s| (s, 2_000))))
		.await?;
	if let Some(ppm) = args.audit_rate {
		set_audit_rate(&client, &alice, ppm).await?;
	}
	let mut report = Report {
		node: args.url.clone(),
		audit_rate: args.audit_rate,
		clients: args.clients,
		window: args.window,
		seconds: args.seconds,
		transfers: None,
		job_cycles: None,
		transfers_per_job_cycle: None,
	};
	for phase in &args.phases {
		match phase.as_str() {
			"transfers" => report.transfers = Some(transfers(&client, &args, &mut clients).await?),
			"jobs" => {
				let mut keys = vec![bob.clone()];
				keys.extend(providers.iter().map(|p| p.key.clone()));
				report.job_cycles = Some(jobs(&client, &args, &mut clients, &mut relayers, &keys).await?)
			},
			other => anyhow::bail!("unknown phase {other:?} (transfers, jobs)"),
		}
	}
	if let (Some(t), Some(j)) = (&report.transfers, &report.job_cycles) {
		if j.per_second > 0.0 {
			report.transfers_per_job_cycle = Some(t.per_second / j.per_second);
		}
	}
	let text = serde_json::to_string_pretty(&report)?;
	if let Some(path) = &args.json {
		std::fs::write(path, &text)?;
	}
	println!("{text}");
	Ok(())
}

/// `--audit-rate`: Alice, the dev chain's sudo key, sets `AUDIT_RATE` (a
/// `market_params` value, so `sudo` applies the same bounds a referendum's
/// enactment would), and the value in force is read back.
async fn set_audit_rate(client: &Client, alice: &Keypair, ppm: u32) -> anyhow::Result<()> {
	use runtime::runtime_types::agora_runtime::{configs::params::pallet_market_params, RuntimeCall};
	let all = gov::params(client).await?;
	let (index, info) = gov::find(&all, "AUDIT_RATE")?;
	let param = gov::param_call(index, info, u128::from(ppm))?;
	let call = runtime::transactions().sudo().sudo(RuntimeCall::MarketParams(pallet_market_params::Call::set { param }));
	let events = chain::submit_final(client, &call, alice, "sudo(marketParams.set(AUDIT_RATE))").await?;
	let at = client.at_current_block().await?;
	for e in events.find::<runtime::sudo::events::Sudid>() {
		if let Err(err) = e?.sudo_result {
			anyhow::bail!("AUDIT_RATE {ppm} refused: {}", report::error_name(&at, &err));
		}
	}
	let now = gov::params(client).await?;
	let (_, info) = gov::find(&now, "AUDIT_RATE")?;
	anyhow::ensure!(info.value == u128::from(ppm), "AUDIT_RATE is {} after setting {ppm}", info.value);
	eprintln!("AUDIT_RATE set to {ppm} ppm");
	Ok(())
}

/// Alice sends each account its amount in AGR (clients and relayers 1,000:
/// enough for every job's escrow and fee), all in one go, and waits until each
/// transfer is final.
async fn fund<'a>(
	client: &Client,
	alice: &Keypair,
	accounts: impl Iterator<Item = (&'a Sender, u128)>,
) -> anyhow::Result<()> {
	let submitter = chain::Submitter::new(alice.clone());
	let mut progress = vec![];
	for (c, agr) in accounts {
		let amount = agr.saturating_mul(agora_primitives::AGR);
		let call = runtime::transactions().balances().transfer_keep_alive(c.account.into(), amount);
		progress.push(submitter.submit(client, &call).await?);
	}
	let n = progress.len();
	for p in progress {
		p.wait_for_finalized_success().await.map_err(|e| anyhow::anyhow!("funding a client: {e}"))?;
	}
	eprintln!("funded {n} accounts");
	Ok(())
}

/// Best blocks in a row in which none of a group's pending transactions was
/// included before they count as dropped by the pool (under heavy load it has
/// been seen to stop offering transactions it accepted, with nothing said)
/// and are signed again. A group whose transactions wait in a backlog sees
/// some of them included in every full block, so it never trips this.
const STALL_BLOCKS: u32 = 5;

/// Reads every sender's nonce at `at` into `chain` (and `next`, if behind).
/// `stall` counts the best blocks in a row in which the group had
/// transactions pending and none was included; at [`STALL_BLOCKS`] every
/// sender with pending transactions starts again from the chain's nonce.
async fn sync_nonces(at: &At, senders: &mut [Sender], stall: &mut u32) -> anyhow::Result<()> {
	let entry = at.storage().entry(runtime::storage().system().account())?;
	let reads = senders.iter().map(|s| entry.try_fetch((s.account,)));
	let got = join_all(reads).await;
	let (mut progressed, mut waiting) = (false, false);
	for (s, r) in senders.iter_mut().zip(got) {
		let nonce = match r? {
			Some(v) => u64::from(v.decode()?.nonce),
			None => 0,
		};
		progressed |= nonce > s.chain;
		waiting |= s.next > nonce;
		s.chain = nonce;
		s.next = s.next.max(nonce);
	}
	*stall = if waiting && !progressed { stall.saturating_add(1) } else { 0 };
	if *stall >= STALL_BLOCKS {
		for s in senders.iter_mut() {
			s.dropped = s.dropped.saturating_add(s.pending());
			s.next = s.chain;
		}
		*stall = 0;
	}
	Ok(())
}

/// Signs `calls` for `s` with consecutive nonces and submits them in order;
/// a refusal ends the run of submissions (the rest would have a gap) and
/// resets the count to the chain's. Returns how many went in (a prefix of
/// `calls`).
async fn submit_run<C: subxt::transactions::Payload>(
	at: &At,
	s: &mut Sender,
	calls: &[C],
	tip: u128,
	failed: &Mutex<BTreeMap<String, u64>>,
) -> u64 {
	let mut sent = 0;
	for call in calls {
		let params =
			subxt::config::DefaultExtrinsicParamsBuilder::<chain::Config>::new().nonce(s.next).tip(tip).build();
		let result = async {
			let tx = at.tx().create_signable_offline(call, params)?.sign(&s.key)?;
			tx.submit().await
		}
		.await;
		match result {
			Ok(_) => {
				s.next = s.next.saturating_add(1);
				sent += 1;
			},
			Err(e) => {
				let key = format!("pool: {}", short(&e.to_string()));
				*failed.lock().unwrap_or_else(|p| p.into_inner()).entry(key).or_default() += 1;
				s.next = s.chain;
				break;
			},
		}
	}
	sent
}

/// The events of every best block after `last_seen` up to the one at `at`
/// (numbered `number`), oldest first: the best-block stream skips blocks that
/// came while the caller was busy submitting. Moves `last_seen` to `number`.
async fn events_since(
	client: &Client,
	at: &At,
	number: u64,
	last_seen: &mut Option<u64>,
) -> anyhow::Result<Vec<(u64, Events)>> {
	let from = last_seen.map_or(number, |l| l.saturating_add(1)).min(number);
	let mut out = vec![];
	for n in from..number {
		out.push((n, client.at_block(n).await?.events().fetch().await?));
	}
	out.push((number, at.events().fetch().await?));
	*last_seen = Some(number);
	Ok(out)
}

/// Phase 1: transfers between clients for `seconds`; counts `Transfer` events
/// among clients in finalized blocks.
async fn transfers(client: &Client, args: &Args, clients: &mut [Sender]) -> anyhow::Result<PhaseReport> {
	let ours: HashSet<[u8; 32]> = clients.iter().map(|c| c.account.0).collect();
	let tally = Arc::new(Mutex::new(Tally::default()));
	let stop = Arc::new(AtomicU64::new(u64::MAX));
	let failed = Mutex::new(BTreeMap::new());
	let count = move |events: &Events| {
		events
			.find::<runtime::balances::events::Transfer>()
			.flatten()
			.filter(|t| ours.contains(&t.from.0) && ours.contains(&t.to.0))
			.count() as u64
	};
	let watcher = tally_finalized(client.clone(), count, tally.clone(), stop.clone());
	let start = now_ms();
	let end = start.saturating_add(args.seconds.saturating_mul(1000));
	let n = clients.len();
	let dests: Vec<AccountId32> = (0..n).map(|i| clients[(i + 1) % n].account).collect();
	let mut submitted = 0u64;
	let mut best = client.stream_best_blocks().await?;
	let mut last_seen = None;
	let mut stall = 0;
	eprintln!("transfers: {}s of load from {n} clients, {} in flight each", args.seconds, args.window);
	while now_ms() < end {
		let Some(block) = best.next().await else { anyhow::bail!("the best block stream ended") };
		let block = block?;
		let at = block.at().await?;
		for (_, events) in events_since(client, &at, block.number(), &mut last_seen).await? {
			count_failures(&at, &events, &failed);
		}
		sync_nonces(&at, clients, &mut stall).await?;
		let runs = clients.iter_mut().zip(&dests).map(|(s, to)| {
			let k = args.window.saturating_sub(s.pending());
			let calls: Vec<_> = (0..k)
				.map(|_| runtime::transactions().balances().transfer_keep_alive((*to).into(), agora_primitives::MILLI_AGR))
				.collect();
			let (at, failed) = (&at, &failed);
			async move { submit_run(at, s, &calls, 0, failed).await }
		});
		submitted += join_all(runs).await.iter().sum::<u64>();
	}
	// Let what is in the pool drain (every client's transactions in a best
	// block, or 20 blocks), then count until that block is final.
	let stop_at = now_ms();
	for _ in 0..20 {
		let Some(block) = best.next().await else { anyhow::bail!("the best block stream ended") };
		let block = block?;
		let at = block.at().await?;
		for (_, events) in events_since(client, &at, block.number(), &mut last_seen).await? {
			count_failures(&at, &events, &failed);
		}
		sync_nonces(&at, clients, &mut stall).await?;
		if clients.iter().all(|c| c.pending() == 0) {
			stop.store(block.number(), Ordering::Relaxed);
			break;
		}
	}
	if stop.load(Ordering::Relaxed) == u64::MAX {
		anyhow::bail!("transfers still pending 20 blocks after the load stopped");
	}
	watcher.await??;
	let t = tally.lock().unwrap_or_else(|p| p.into_inner());
	let mut r = finish(&t, start, stop_at, submitted, failed.into_inner().unwrap_or_default());
	r.dropped_by_pool = clients.iter().map(|c| c.dropped).sum();
	eprintln!("transfers: {:.1}/s finalized ({} in {:.1}s)", r.per_second, r.in_window, r.window_secs);
	Ok(r)
}

/// Phase 2: job cycles for `seconds`, then until the receipted jobs are paid
/// (or 3 dispute windows more); counts the providers' `JobFinalized` events.
async fn jobs(
	client: &Client,
	args: &Args,
	clients: &mut [Sender],
	relayers: &mut [Sender],
	keys: &[Keypair],
) -> anyhow::Result<PhaseReport> {
	let view = View::new(client);
	let model = view.find_model(&args.model).await?;
	let at = client.at_current_block().await?;
	let capacity = at.constants().entry(runtime::constants().models().max_capacity())?;
	let window = at.constants().entry(runtime::constants().jobs().dispute_window())?;
	let offers = provider_offers(client, model.id, keys, capacity).await?;
	eprintln!("jobs: {} offers of {} open jobs each: {offers:?}", offers.len(), capacity);
	let capacity = u64::from(capacity).saturating_mul(offers.len() as u64);
	let signers: BTreeMap<[u8; 32], Keypair> = keys.iter().map(|k| (chain::account(k).0, k.clone())).collect();
	let ours: HashSet<[u8; 32]> = signers.keys().copied().collect();
	let count = move |events: &Events| {
		events
			.find::<runtime::jobs::events::JobFinalized>()
			.flatten()
			.filter(|f| ours.contains(&f.provider.0))
			.count() as u64
	};
	let tally = Arc::new(Mutex::new(Tally::default()));
	let stop = Arc::new(AtomicU64::new(u64::MAX));
	let failed = Mutex::new(BTreeMap::new());
	let watcher = tally_finalized(client.clone(), count, tally.clone(), stop.clone());
	let mut receipted: HashSet<u64> = HashSet::new();
	// The dev offers charge 0.001 AGR + 0.01 AGR per 1,000 tokens: a 1-token
	// receipt is paid 0.00101 AGR of the 0.01 AGR held.
	let max_price = 10 * agora_primitives::MILLI_AGR;
	let start = now_ms();
	let end = start.saturating_add(args.seconds.saturating_mul(1000));
	let mut submitted = 0u64;
	let mut seq = 0u64;
	let mut best = client.stream_best_blocks().await?;
	eprintln!("jobs: {}s of orders from {} clients", args.seconds, clients.len());
	let mut stopped_at: Option<u64> = None;
	let mut receipts: Vec<(u64, ChainReceipt, [u8; 64])> = vec![];
	let mut receipts_sent = 0u64;
	let mut expired = 0u64;
	let mut audits = 0u64;
	let mut last_seen: Option<u64> = None;
	let (mut stall, mut relayer_stall) = (0, 0);
	let mut open;
	loop {
		let Some(block) = best.next().await else { anyhow::bail!("the best block stream ended") };
		let block = block?;
		let number = block.number();
		let at = block.at().await?;
		for (n, events) in events_since(client, &at, number, &mut last_seen).await? {
			count_failures(&at, &events, &failed);
			audits += events.find::<runtime::verification::events::AuditStarted>().count() as u64;
			for ev in events.find::<runtime::jobs::events::JobExpired>().flatten() {
				eprintln!("jobs: job {} expired at block {n}", ev.job_id);
				expired += 1;
			}
			if args.trace {
				let orders = events.find::<runtime::jobs::events::JobAssigned>().count();
				let receipted = events.find::<runtime::jobs::events::JobReceipted>().count();
				eprintln!("jobs: block {n}: {orders} orders, {receipted} receipts");
			}
			// The scripted provider: a receipt for every job assigned to one
			// of the load's providers.
			for ev in events.find::<runtime::jobs::events::JobAssigned>().flatten() {
				let Some(signer) = signers.get(&ev.provider.0) else { continue };
				if !receipted.insert(ev.job_id) {
					continue;
				}
				let receipt = Receipt::<[u8; 32]> {
					job_id: ev.job_id,
					model_id: ev.model_id,
					input_hash: ev.input_hash,
					output_hash: agora_primitives::rules::content_hash(&ev.job_id.to_le_bytes()),
					output_tokens: 1,
					provider: ev.provider.0,
					worker_pubkey: ev.worker_key,
				};
				if args.trace {
					eprintln!("jobs: job {} assigned at block {n}, deadline {}", ev.job_id, ev.deadline);
				}
				let signature = signer.sign(&receipt.signing_payload()).0;
				receipts.push((ev.job_id, chain::recode(&receipt)?, signature));
			}
		}
		// Each relayer takes an equal share, in batches, up to its window of
		// transactions; what the pool refused or no relayer had room for goes
		// at the next block. A tip puts receipts before orders in the pool, as
		// a provider racing its deadlines would.
		sync_nonces(&at, relayers, &mut relayer_stall).await?;
		let batch = args.receipt_batch.max(1);
		let share = receipts.len().div_ceil(relayers.len());
		let mut plans = vec![];
		let mut rest = receipts.into_iter();
		for r in relayers.iter_mut() {
			let slots = usize::try_from(args.window.saturating_sub(r.pending())).unwrap_or(0);
			let mine: Vec<_> = rest.by_ref().take(share.min(slots.saturating_mul(batch))).collect();
			plans.push((r, mine));
		}
		let mut left: Vec<_> = rest.collect();
		let runs = plans.into_iter().map(|(r, mine)| {
			let failed = &failed;
			let at = &at;
			async move {
				let chunks: Vec<Vec<_>> = mine.chunks(batch).map(<[_]>::to_vec).collect();
				let sent = if batch == 1 {
					let calls: Vec<_> = mine
						.iter()
						.map(|(id, r, sig)| runtime::transactions().jobs().submit_receipt(*id, r.clone(), *sig))
						.collect();
					submit_run(at, r, &calls, RECEIPT_TIP, failed).await
				} else {
					let calls: Vec<_> = chunks
						.iter()
						.map(|c| runtime::transactions().jobs().submit_receipts(BoundedVec(c.clone())))
						.collect();
					submit_run(at, r, &calls, RECEIPT_TIP, failed).await
				};
				// One chunk per call (chunks of one when receipts go singly).
				let sent_items: usize = chunks.iter().take(usize::try_from(sent).unwrap_or(usize::MAX)).map(Vec::len).sum();
				(sent_items as u64, mine.into_iter().skip(sent_items).collect::<Vec<_>>())
			}
		});
		for (sent, unsent) in join_all(runs).await {
			receipts_sent += sent;
			left.extend(unsent);
		}
		receipts = left;
		open = offers_load(&at, &offers).await?;
		if let Some(stopped) = stopped_at {
			if open == 0 || number >= stopped + 3 * u64::from(window) {
				break;
			}
			continue;
		}
		if now_ms() >= end {
			stopped_at = Some(number);
			continue;
		}
		// Orders: up to the offers' capacity, counting those not yet in a
		// block (a pending transaction carries up to `per_tx` orders).
		sync_nonces(&at, clients, &mut stall).await?;
		let per_tx = args.order_batch.max(1);
		let pending: u64 = clients.iter().map(Sender::pending).sum::<u64>().saturating_mul(per_tx as u64);
		let mut room = capacity.saturating_sub(open).saturating_sub(pending);
		let mut plans = vec![];
		for s in clients.iter_mut() {
			let k = args.window.saturating_sub(s.pending()).saturating_mul(per_tx as u64).min(room);
			room = room.saturating_sub(k);
			let orders: Vec<_> = (0..k)
				.map(|_| {
					seq += 1;
					// Deadlines a minute or more ahead, spread over 64 blocks, so
					// that no deadline block's queue gets half full (that
					// charges a surcharge, which grows with queue pressure).
					// Batches of orders wait longer in the pool (a full
					// block takes a few of them), so theirs are 6 minutes
					// ahead: an order is not refused `DeadlineInPast` for
					// the load generator's own backlog.
					let ahead = if per_tx > 1 { 120 } else { 20 };
					let deadline = u32::try_from(number).unwrap_or(u32::MAX).saturating_add(ahead + (seq % 64) as u32);
					(InputParam::Inline(format!("load {seq}").into_bytes()), deadline)
				})
				.collect();
			plans.push((s, orders));
		}
		let params = || JobParams { max_tokens: 16, temperature_milli: 0, seed: 0 };
		let runs = plans.into_iter().map(|(s, orders)| {
			let (at, failed) = (&at, &failed);
			async move {
				if per_tx == 1 {
					let calls: Vec<_> = orders
						.into_iter()
						.map(|(input, deadline)| {
							runtime::transactions().jobs().submit_job(model.id, input, params(), max_price, deadline, None)
						})
						.collect();
					return submit_run(at, s, &calls, 0, failed).await;
				}
				let chunks: Vec<_> = orders.chunks(per_tx).collect();
				let calls: Vec<_> = chunks
					.iter()
					.map(|c| {
						let batch = c
							.iter()
							.map(|(input, deadline)| Order {
								input: input.clone(),
								params: params(),
								max_price,
								deadline: *deadline,
							})
							.collect();
						runtime::transactions().jobs().submit_jobs(model.id, BoundedVec(batch), None)
					})
					.collect();
				let sent = submit_run(at, s, &calls, 0, failed).await;
				chunks.iter().take(usize::try_from(sent).unwrap_or(usize::MAX)).map(|c| c.len() as u64).sum::<u64>()
			}
		});
		submitted += join_all(runs).await.iter().sum::<u64>();
	}
	stop.store(last_seen.unwrap_or(0), Ordering::Relaxed);
	watcher.await??;
	let t = tally.lock().unwrap_or_else(|p| p.into_inner());
	// From the first payout (the pipeline full) to the last (the backlog
	// drained): while orders go on the chain settles as fast as it can, and
	// after they stop it works off what is queued.
	let mut r = finish(&t, start, u64::MAX, submitted, failed.into_inner().unwrap_or_default());
	(r.under_load, r.under_load_secs, r.under_load_per_second) = rate(&t, start, end);
	r.receipts_submitted = receipts_sent;
	r.dropped_by_pool = clients.iter().chain(relayers.iter()).map(|c| c.dropped).sum();
	r.expired = expired;
	r.audits_started = audits;
	r.open_at_end = open;
	eprintln!(
		"jobs: {:.1} cycles/s finalized ({} in {:.1}s); {:.1}/s while orders went in ({} in {:.1}s)",
		r.per_second, r.in_window, r.window_secs, r.under_load_per_second, r.under_load, r.under_load_secs
	);
	Ok(r)
}

