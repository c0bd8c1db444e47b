//! `agora`: the client CLI. Lists models, orders jobs, waits for receipts,
//! fetches outputs from the provider and checks them against the on-chain hash.
use agora_worker::{
	blake2_256,
	chain::{self, runtime, Client, JobStatus, View},
	cli::{init_logging, KeyArgs},
	engine::bert::Embedder,
	gov, hex0x, stake,
};
use clap::{Parser, Subcommand};
use runtime::runtime_types::{agora_primitives::jobs::JobParams, pallet_jobs::types::InputParam};
use std::{path::PathBuf, time::Duration};
use subxt::utils::AccountId32;

#[derive(Parser, Debug)]
#[command(name = "agora", version, about = "The Agora client")]
struct Cli {
	/// The node's WebSocket RPC.
	#[arg(long, global = true, default_value = "ws://127.0.0.1:9944", env = "AGORA_URL")]
	url: String,
	/// Print JSON instead of text.
	#[arg(long, global = true)]
	json: bool,
	#[command(subcommand)]
	cmd: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
	/// Models.
	#[command(subcommand)]
	Model(ModelCmd),
	/// Jobs.
	#[command(subcommand)]
	Job(JobCmd),
	/// Providers.
	#[command(subcommand)]
	Provider(ProviderCmd),
	/// Prices for a job: cheapest, median and best-ranked offer (`agora_quote`).
	Quote {
		#[arg(long)]
		model: String,
		#[arg(long, default_value_t = 64)]
		max_tokens: u32,
	},
	/// Governance: the marketplace's parameters and `market_params` referenda.
	#[command(subcommand)]
	Gov(GovCmd),
	/// Staking (NPoS): bond, session keys, validate or nominate, rewards.
	#[command(subcommand)]
	Stake(StakeCmd),
	/// Checks every pallet's invariants on the chain as it is: re-executes the
	/// last finalized block (or block `--at N`) on its parent's state and runs
	/// each pallet's `try_state` (`TryRuntime_execute_block`). Needs a node
	/// built with the `try-runtime` feature (the test build); exits non-zero
	/// with the failing pallet's message otherwise.
	TryState {
		#[arg(long)]
		at: Option<u64>,
	},
	/// An account's free balance (SS58 address, or the key's account).
	Balance {
		address: Option<String>,
		#[command(flatten)]
		key: KeyArgs,
	},
}

#[derive(Subcommand, Debug)]
enum StakeCmd {
	/// Eras, the session's validators, candidates, nominators and era points.
	Status,
	/// Bond AGR for staking (rewards are re-staked).
	Bond {
		#[command(flatten)]
		key: KeyArgs,
		/// AGR, or planck with a `p` suffix.
		#[arg(long)]
		amount: String,
	},
	/// Register the session keys a validator node generated
	/// (`author_rotateKeysWithOwner`: its `keys` and `proof`).
	SetKeys {
		#[command(flatten)]
		key: KeyArgs,
		#[arg(long)]
		keys: String,
		#[arg(long)]
		proof: String,
	},
	/// Declare the intent to validate (elected from the next era on).
	Validate {
		#[command(flatten)]
		key: KeyArgs,
		/// Commission, percent.
		#[arg(long, default_value_t = 0)]
		commission: u32,
	},
	/// Nominate validators (SS58 addresses).
	Nominate {
		#[command(flatten)]
		key: KeyArgs,
		targets: Vec<String>,
	},
	/// Stop validating or nominating from the next era.
	Chill {
		#[command(flatten)]
		key: KeyArgs,
	},
	/// Pay out a validator's stakers for a finished era (anyone may).
	Payout {
		#[command(flatten)]
		key: KeyArgs,
		#[arg(long)]
		validator: String,
		#[arg(long)]
		era: u32,
	},
}

#[derive(Subcommand, Debug)]
enum GovCmd {
	/// Every governed parameter: value in force, default and bounds.
	Params,
	/// Submit a `market_params` referendum setting one parameter (e.g.
	/// `DISPUTE_WINDOW 15`, `PROTOCOL_FEE 3%`, `DISPUTE_BOND 20` AGR). Prints the
	/// referendum's index. A value outside the bounds is refused here; the chain
	/// refuses it again at enactment.
	ProposeParam {
		#[command(flatten)]
		key: KeyArgs,
		name: String,
		value: String,
		/// Place the decision deposit too.
		#[arg(long)]
		deposit: bool,
		/// Skip the client-side bounds check (to see the chain refuse the value).
		#[arg(long, hide = true)]
		unchecked: bool,
	},
	/// Submit a `root` referendum upgrading the runtime (`system.set_code`) to a
	/// wasm file; prints the referendum's index.
	ProposeUpgrade {
		#[command(flatten)]
		key: KeyArgs,
		/// The new runtime's wasm (compressed or not).
		#[arg(long)]
		wasm: PathBuf,
		/// Place the decision deposit too.
		#[arg(long)]
		deposit: bool,
	},
	/// Place a referendum's decision deposit (it cannot start deciding without one).
	Deposit {
		#[command(flatten)]
		key: KeyArgs,
		index: u32,
	},
	/// Vote on a referendum with conviction 0 (0.1× votes, no lock) to 6 (6×).
	Vote {
		#[command(flatten)]
		key: KeyArgs,
		index: u32,
		/// aye or nay.
		choice: String,
		#[arg(long, default_value_t = 1)]
		conviction: u8,
		/// How much to vote with (AGR, or planck with a `p` suffix).
		#[arg(long)]
		amount: String,
	},
	/// Referenda and their tallies; with an index and --wait, follows it until it
	/// is decided and (if approved) enacted, and prints the enactment's outcome.
	Status {
		index: Option<u32>,
		#[arg(long, requires = "index")]
		wait: bool,
	},
}

#[derive(Subcommand, Debug)]
enum ModelCmd {
	/// Every registered model, with its active offers and cheapest base price.
	List,
}

#[derive(Subcommand, Debug)]
enum ProviderCmd {
	/// The offers for a model with reputation, subscribers, stake and terms
	/// (`agora_providers`), best first.
	List {
		#[arg(long)]
		model: String,
		/// rank (the Wilson lower bound on positive outcomes), price, stake or reputation.
		#[arg(long, default_value = "rank")]
		sort: String,
	},
}

#[derive(Subcommand, Debug)]
enum JobCmd {
	/// Order a job; prints its id. With --wait, waits for the receipt, fetches the
	/// output from the provider and checks its hash.
	Submit(SubmitArgs),
	/// A job's state; with --wait-finalized, waits for its payout and prints it.
	Status {
		id: u64,
		#[arg(long)]
		wait_finalized: bool,
	},
	/// Fetch a receipted job's output from its provider and check its hash.
	Output {
		id: u64,
		/// Write the raw output bytes here.
		#[arg(long)]
		out: Option<PathBuf>,
	},
	/// Rate a finalized job's provider: -1, 0 or 1.
	Rate {
		#[command(flatten)]
		key: KeyArgs,
		id: u64,
		#[arg(allow_hyphen_values = true)]
		rating: i8,
	},
	/// Cancel a job its provider has not acknowledged (full refund).
	Cancel {
		#[command(flatten)]
		key: KeyArgs,
		id: u64,
	},
	/// Dispute a receipt within its window, bonding DISPUTE_BOND: a committee
	/// of validators re-checks the output against the model. Fraud refunds the
	/// client and pays the challenger a share of the slash; an upheld receipt
	/// costs the challenger its bond.
	Dispute {
		#[command(flatten)]
		key: KeyArgs,
		id: u64,
		/// Wait for the committee's verdict (finalized) and print it.
		#[arg(long)]
		wait: bool,
	},
}

#[derive(clap::Args, Debug)]
struct SubmitArgs {
	#[command(flatten)]
	key: KeyArgs,
	/// The model: its name (`agora model list`) or hex id.
	#[arg(long)]
	model: String,
	/// The input text.
	#[arg(long, conflicts_with = "input_file")]
	input: Option<String>,
	/// The input, from a file.
	#[arg(long)]
	input_file: Option<PathBuf>,
	/// Most you pay (AGR, or planck with a `p` suffix); held in escrow.
	#[arg(long)]
	max_price: String,
	#[arg(long, default_value_t = 64)]
	max_tokens: u32,
	/// Sampling temperature (0 = greedy).
	#[arg(long, default_value_t = 0.0)]
	temperature: f64,
	/// Sampling seed (0 = derived from the job id).
	#[arg(long, default_value_t = 0)]
	seed: u64,
	/// Blocks from now until the deadline.
	#[arg(long, default_value_t = 100)]
	deadline_blocks: u32,
	/// Name the provider (SS58) instead of the AVRF draw.
	#[arg(long)]
	provider: Option<String>,
	/// Wait for the receipt and fetch the output.
	#[arg(long)]
	wait: bool,
	/// Write the raw output bytes here (with --wait).
	#[arg(long)]
	out: Option<PathBuf>,
}

fn status_name(s: &JobStatus) -> &'static str {
	match s {
		JobStatus::Assigned => "Assigned",
		JobStatus::Acknowledged => "Acknowledged",
		JobStatus::Receipted => "Receipted",
		JobStatus::Disputed => "Disputed",
		JobStatus::Finalized => "Finalized",
		JobStatus::Expired => "Expired",
		JobStatus::Cancelled => "Cancelled",
		JobStatus::Fraud => "Fraud",
	}
}

async fn model_list(client: &Client, json: bool) -> anyhow::Result<()> {
	let view = View::new(client);
	let offers = view.offers().await?;
	let mut rows = vec![];
	for m in view.models().await? {
		let active: Vec<&chain::OfferInfo> =
			offers.iter().filter(|o| o.model_id == m.id && o.active).collect();
		let cheapest = active.iter().map(|o| o.base_price).min();
		rows.push(serde_json::json!({
			"id": hex0x(&m.id),
			"name": m.name(),
			"task": format!("{:?}", m.manifest.task),
			"architecture": String::from_utf8_lossy(&m.manifest.architecture),
			"quantization": String::from_utf8_lossy(&m.manifest.quantization),
			"deprecated": m.deprecated,
			"active_offers": active.len(),
			"cheapest_base_price": cheapest.map(|p| p.to_string()),
		}));
		if !json {
			println!(
				"{}  {:<24} {:<15} {:<6} {:<5} offers: {}  cheapest base: {}{}",
				hex0x(&m.id),
				m.name(),
				format!("{:?}", m.manifest.task),
				String::from_utf8_lossy(&m.manifest.architecture),
				String::from_utf8_lossy(&m.manifest.quantization),
				active.len(),
				cheapest.map(chain::fmt_agr).unwrap_or_else(|| "-".into()),
				if m.deprecated { "  (deprecated)" } else { "" },
			);
		}
	}
	if json {
		println!("{}", serde_json::Value::Array(rows));
	}
	Ok(())
}

/// Waits (over finalized blocks) until `done` says the job reached a state.
async fn wait_job<F: Fn(&chain::Job) -> bool>(
	client: &Client,
	id: u64,
	done: F,
	what: &str,
) -> anyhow::Result<chain::Job> {
	let view = View::new(client);
	let mut blocks = client.stream_blocks().await?;
	loop {
		match view.job(id).await? {
			Some(j) if done(&j) => return Ok(j),
			Some(j) if matches!(j.status, JobStatus::Expired | JobStatus::Cancelled) => {
				anyhow::bail!("job {id} ended {} before {what}", status_name(&j.status))
			},
			Some(_) => {},
			None => anyhow::bail!("job {id} is not on chain (unknown, or pruned after it ended)"),
		}
		match blocks.next().await {
			Some(b) => {
				b?;
			},
			None => anyhow::bail!("the node's block stream ended"),
		}
	}
}

/// Fetches a job's output from its offer's endpoint and checks it against the
/// receipt's hash.
async fn fetch_output(client: &Client, id: u64) -> anyhow::Result<(Vec<u8>, String, chain::Job)> {
	let view = View::new(client);
	let job = view.job(id).await?.ok_or_else(|| anyhow::anyhow!("job {id} is not on chain"))?;
	let receipt = job
		.receipt
		.clone()
		.ok_or_else(|| anyhow::anyhow!("job {id} has no receipt yet ({})", status_name(&job.status)))?;
	let offer = view
		.offer(job.offer_id)
		.await?
		.ok_or_else(|| anyhow::anyhow!("offer {} is gone; its endpoint is unknown", job.offer_id))?;
	let url = format!("{}/v1/jobs/{id}/output", offer.endpoint.trim_end_matches('/'));
	let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build()?;
	let mut last = String::new();
	for attempt in 0..5u64 {
		if attempt > 0 {
			tokio::time::sleep(Duration::from_millis(500 * attempt)).await;
		}
		match http.get(&url).send().await {
			Ok(r) if r.status().is_success() => {
				let kind = r
					.headers()
					.get("x-agora-output-kind")
					.and_then(|v| v.to_str().ok())
					.unwrap_or("text")
					.to_string();
				let bytes = r.bytes().await?.to_vec();
				let got = blake2_256(&bytes);
				anyhow::ensure!(
					got == receipt.output_hash,
					"the provider's output for job {id} does not match the receipt: blake2_256 {} != {}",
					hex0x(&got),
					hex0x(&receipt.output_hash)
				);
				return Ok((bytes, kind, job));
			},
			Ok(r) => last = format!("{url}: HTTP {}", r.status()),
			Err(e) => last = format!("{url}: {e}"),
		}
	}
	anyhow::bail!("cannot fetch the output: {last}")
}

fn show_output(id: u64, bytes: &[u8], kind: &str, job: &chain::Job, json: bool, out: Option<&PathBuf>) -> anyhow::Result<()> {
	if let Some(p) = out {
		std::fs::write(p, bytes)?;
	}
	let receipt = job.receipt.as_ref();
	let hash = receipt.map(|r| hex0x(&r.output_hash)).unwrap_or_default();
	let tokens = receipt.map(|r| r.output_tokens).unwrap_or(0);
	let mut v = serde_json::json!({
		"job_id": id,
		"kind": kind,
		"output_hash": hash,
		"output_tokens": tokens,
		"verified": true,
		"finalize_at": receipt.map(|r| r.finalize_at),
	});
	match kind {
		"embedding" => {
			let e = Embedder::from_bytes(bytes).unwrap_or_default();
			if json {
				v["embedding"] = serde_json::json!(e);
			} else {
				let head: Vec<String> = e.iter().take(6).map(|x| format!("{x:.4}")).collect();
				println!("embedding ({} dims): [{}, …]", e.len(), head.join(", "));
			}
		},
		_ => {
			let text = String::from_utf8_lossy(bytes).into_owned();
			if !json {
				if kind == "error" {
					println!("the provider refused the input: {text}");
				} else {
					println!("{text}");
				}
			}
			v["output"] = text.into();
		},
	}
	if json {
		println!("{v}");
	} else {
		println!("output verified: blake2_256 {hash} matches the receipt ({tokens} tokens)");
	}
	Ok(())
}

async fn submit(client: &Client, a: SubmitArgs, json: bool) -> anyhow::Result<()> {
	let signer = a.key.keypair()?;
	let view = View::new(client);
	let model = view.find_model(&a.model).await?;
	let input = match (&a.input, &a.input_file) {
		(Some(s), _) => s.as_bytes().to_vec(),
		(None, Some(p)) => std::fs::read(p).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?,
		(None, None) => anyhow::bail!("give --input or --input-file"),
	};
	anyhow::ensure!(
		a.temperature >= 0.0 && a.temperature <= 4_000_000.0,
		"--temperature must be between 0 and 4,000,000"
	);
	let max_price = chain::parse_agr(&a.max_price)?;
	let provider: Option<AccountId32> = match &a.provider {
		Some(p) => Some(p.parse().map_err(|e| anyhow::anyhow!("--provider `{p}`: {e:?}"))?),
		None => None,
	};
	let now = view.finalized_number().await?;
	let deadline = u32::try_from(now)?.saturating_add(a.deadline_blocks).saturating_add(2);
	let call = runtime::transactions().jobs().submit_job(
		model.id,
		InputParam::Inline(input),
		JobParams {
			max_tokens: a.max_tokens,
			temperature_milli: (a.temperature * 1000.0).round() as u32,
			seed: a.seed,
		},
		max_price,
		deadline,
		provider,
	);
	let events = chain::submit_final(client, &call, &signer, "submit_job").await?;
	let ev = events
		.find_first::<runtime::jobs::events::JobAssigned>()
		.transpose()?
		.ok_or_else(|| anyhow::anyhow!("submit_job succeeded without a JobAssigned event"))?;
	let id = ev.job_id;
	if json {
		println!(
			"{}",
			serde_json::json!({"event": "assigned", "job_id": id, "provider": ev.provider.to_string(), "offer_id": ev.offer_id, "deadline": ev.deadline, "by_avrf": ev.by_avrf, "max_price": ev.max_price.to_string()})
		);
	} else {
		println!(
			"job {id} assigned to {} (offer {}, {}), deadline block {}, {} held",
			ev.provider,
			ev.offer_id,
			if ev.by_avrf { "drawn by AVRF" } else { "named" },
			ev.deadline,
			chain::fmt_agr(ev.max_price)
		);
	}
	if !a.wait {
		return Ok(());
	}
	let job = wait_job(client, id, |j| j.receipt.is_some(), "a receipt").await?;
	if !json {
		if let Some(r) = &job.receipt {
			println!("receipted at block {} ({} tokens); finalizes at block {}", r.at, r.output_tokens, r.finalize_at);
		}
	}
	let (bytes, kind, job) = fetch_output(client, id).await?;
	show_output(id, &bytes, &kind, &job, json, a.out.as_ref())
}

async fn status(client: &Client, id: u64, wait_finalized: bool, json: bool) -> anyhow::Result<()> {
	let view = View::new(client);
	let mut finalized_event = None;
	if wait_finalized {
		// Watch finalized blocks for the payout event.
		let mut blocks = client.stream_blocks().await?;
		loop {
			match view.job(id).await? {
				Some(j) if matches!(j.status, JobStatus::Finalized) => break,
				Some(j) if matches!(j.status, JobStatus::Expired | JobStatus::Cancelled | JobStatus::Fraud) => break,
				None => break,
				_ => {},
			}
			let Some(b) = blocks.next().await else { anyhow::bail!("the node's block stream ended") };
			let b = b?;
			let at = b.at().await?;
			for ev in at.events().fetch().await?.find::<runtime::jobs::events::JobFinalized>() {
				let ev = ev?;
				if ev.job_id == id {
					finalized_event = Some((b.number(), ev));
				}
			}
			if finalized_event.is_some() {
				break;
			}
		}
	}
	let job = view.job(id).await?;
	let Some(job) = job else {
		anyhow::bail!("job {id} is not on chain (unknown, or pruned after it ended)")
	};
	if finalized_event.is_none() && matches!(job.status, JobStatus::Finalized) {
		// Paid out before we watched: on_initialize pays at the receipt's `finalize_at`.
		if let Some(r) = &job.receipt {
			let at = client.at_block(r.finalize_at).await?;
			for ev in at.events().fetch().await?.find::<runtime::jobs::events::JobFinalized>() {
				let ev = ev?;
				if ev.job_id == id {
					finalized_event = Some((u64::from(r.finalize_at), ev));
				}
			}
		}
	}
	let mut v = serde_json::json!({
		"job_id": id,
		"status": status_name(&job.status),
		"client": job.client.to_string(),
		"provider": job.provider.to_string(),
		"model_id": hex0x(&job.model_id),
		"max_price": job.max_price.to_string(),
		"deadline": job.deadline,
		"charge": job.charge.map(|c| c.to_string()),
		"rating": job.rating,
	});
	if let Some(r) = &job.receipt {
		v["receipt"] = serde_json::json!({"output_hash": hex0x(&r.output_hash), "output_tokens": r.output_tokens, "at": r.at, "window_end": r.window_end, "finalize_at": r.finalize_at});
	}
	if let Some((block, ev)) = &finalized_event {
		v["payout"] = serde_json::json!({
			"block": block,
			"charge": ev.charge.to_string(),
			"to_provider": ev.to_provider.to_string(),
			"protocol_fee": ev.fee.to_string(),
			"royalty": ev.royalty.to_string(),
			"refunded": ev.refunded.to_string(),
		});
	}
	if json {
		println!("{v}");
		return Ok(());
	}
	println!("job {id}: {}", status_name(&job.status));
	println!("  client {}  provider {}", job.client, job.provider);
	println!("  max price {}  deadline block {}", chain::fmt_agr(job.max_price), job.deadline);
	if let Some(r) = &job.receipt {
		println!(
			"  receipt: output {} ({} tokens) at block {}, disputable until block {}, finalizes at {}",
			hex0x(&r.output_hash),
			r.output_tokens,
			r.at,
			r.window_end,
			r.finalize_at
		);
	}
	if let Some((block, ev)) = &finalized_event {
		println!(
			"  paid out at block {block}: charge {} = provider {} + protocol fee {} + royalty {}; refunded {}",
			chain::fmt_agr(ev.charge),
			chain::fmt_agr(ev.to_provider),
			chain::fmt_agr(ev.fee),
			chain::fmt_agr(ev.royalty),
			chain::fmt_agr(ev.refunded)
		);
	} else if let Some(c) = job.charge {
		println!("  charged {}", chain::fmt_agr(c));
	}
	Ok(())
}

async fn dispute(client: &Client, key: &KeyArgs, id: u64, wait: bool, json: bool) -> anyhow::Result<()> {
	use runtime::jobs::events::{AuditPassed, AuditStarted, AuditTimedOut, Disputed, JobFraud, Voted};
	// Follow finalized blocks from before the dispute, so no event is missed.
	let mut blocks = client.stream_blocks().await?;
	chain::submit_final(client, &runtime::transactions().jobs().dispute(id), &key.keypair()?, "dispute").await?;
	if !json {
		println!("job {id}: disputed; the committee re-checks it");
	}
	if !wait {
		return Ok(());
	}
	let mut votes = vec![];
	// Verdict events count only after this dispute's `Disputed` event: a random
	// audit of the same receipt may have ended just before.
	let mut armed = false;
	loop {
		let Some(b) = blocks.next().await else { anyhow::bail!("the node's block stream ended") };
		let b = b?;
		let events = b.at().await?.events().fetch().await?;
		for ev in events.iter() {
			let ev = ev?;
			if let Some(e) = ev.decode_fields_as::<Disputed>().transpose()? {
				armed |= e.job_id == id;
			} else if let Some(e) = ev.decode_fields_as::<AuditStarted>().transpose()? {
				if e.job_id == id && !json {
					println!("  committee: {}", e.committee.iter().map(|a| a.to_string()).collect::<Vec<_>>().join(", "));
				}
			} else if let Some(e) = ev.decode_fields_as::<Voted>().transpose()? {
				if e.job_id == id && armed {
					let v: agora_primitives::AuditVote = chain::recode(&e.vote)?;
					if !json {
						println!("  {} voted {v:?}", e.validator);
					}
					votes.push(serde_json::json!({"validator": e.validator.to_string(), "vote": v}));
				}
			} else if let Some(e) = ev.decode_fields_as::<JobFraud>().transpose()? {
				if e.job_id == id && armed {
					let reason: agora_primitives::SlashReason = chain::recode(&e.reason)?;
					if json {
						println!("{}", serde_json::json!({"job": id, "block": b.number(), "verdict": "fraud", "reason": format!("{reason:?}"), "refunded": e.refunded.to_string(), "slashed": e.slashed.to_string(), "to_challenger": e.to_challenger.to_string(), "votes": votes}));
					} else {
						println!("verdict: FRAUD ({reason:?}) — client refunded {}, provider slashed {}, challenger paid {}", chain::fmt_agr(e.refunded), chain::fmt_agr(e.slashed), chain::fmt_agr(e.to_challenger));
					}
					return Ok(());
				}
			} else if let Some(e) = ev.decode_fields_as::<AuditPassed>().transpose()? {
				if e.job_id == id && armed {
					if json {
						println!("{}", serde_json::json!({"job": id, "block": b.number(), "verdict": "upheld", "bond_to_provider": e.bond_to_provider.to_string(), "bond_to_treasury": e.bond_to_treasury.to_string(), "votes": votes}));
					} else {
						println!("verdict: receipt UPHELD — the bond went {} to the provider, {} to the treasury", chain::fmt_agr(e.bond_to_provider), chain::fmt_agr(e.bond_to_treasury));
					}
					return Ok(());
				}
			} else if let Some(e) = ev.decode_fields_as::<AuditTimedOut>().transpose()? {
				if e.job_id == id && armed {
					let nv: Vec<String> = e.non_voters.iter().map(|a| a.to_string()).collect();
					if json {
						println!("{}", serde_json::json!({"job": id, "block": b.number(), "verdict": "none", "non_voters": nv, "votes": votes}));
					} else {
						println!("no verdict by the vote deadline: bond returned; did not vote: {}", nv.join(", "));
					}
					return Ok(());
				}
			}
		}
	}
}

fn ss58(a: &str) -> anyhow::Result<AccountId32> {
	a.parse().map_err(|e| anyhow::anyhow!("`{a}` is not an SS58 address: {e:?}"))
}

fn hex_arg(s: &str, what: &str) -> anyhow::Result<Vec<u8>> {
	hex::decode(s.trim_start_matches("0x")).map_err(|e| anyhow::anyhow!("{what} is not hex: {e}"))
}

async fn stake_cmd(client: &chain::Client, cmd: StakeCmd, json: bool) -> anyhow::Result<()> {
	match cmd {
		StakeCmd::Status => {
			let s = stake::status(client).await?;
			if json {
				println!("{}", serde_json::json!(s));
			} else {
				println!(
					"finalized block {}: session {}, active era {}, planned era {}",
					s.block,
					s.session,
					s.active_era.map(|e| e.to_string()).unwrap_or_else(|| "-".into()),
					s.current_era.map(|e| e.to_string()).unwrap_or_else(|| "-".into())
				);
				println!("validators ({}):", s.session_validators.len());
				for v in &s.session_validators {
					let pts = s.points.iter().find(|(a, _)| a == v).map(|(_, p)| *p).unwrap_or(0);
					println!("  {v}  {pts} era points");
				}
				println!("candidates: {}", s.candidates.len());
				println!("nominators: {}", s.nominators.len());
				if let Some(r) = &s.last_era_reward {
					let r: u128 = r.parse().unwrap_or(0);
					println!("last era's validator payout: {}", chain::fmt_agr(r));
				}
			}
			Ok(())
		},
		StakeCmd::Bond { key, amount } => {
			let v = chain::parse_agr(&amount)?;
			stake::bond(client, &key.keypair()?, v).await?;
			println!("bonded {}", chain::fmt_agr(v));
			Ok(())
		},
		StakeCmd::SetKeys { key, keys, proof } => {
			stake::set_keys(client, &key.keypair()?, &hex_arg(&keys, "--keys")?, hex_arg(&proof, "--proof")?).await?;
			println!("session keys set");
			Ok(())
		},
		StakeCmd::Validate { key, commission } => {
			stake::validate(client, &key.keypair()?, commission).await?;
			println!("validating from the next era (commission {commission}%)");
			Ok(())
		},
		StakeCmd::Nominate { key, targets } => {
			let t: Vec<AccountId32> = targets.iter().map(|a| ss58(a)).collect::<anyhow::Result<_>>()?;
			anyhow::ensure!(!t.is_empty(), "name at least one validator");
			stake::nominate(client, &key.keypair()?, &t).await?;
			println!("nominating {} validators from the next era", t.len());
			Ok(())
		},
		StakeCmd::Chill { key } => {
			stake::chill(client, &key.keypair()?).await?;
			println!("chilled: out of the next election");
			Ok(())
		},
		StakeCmd::Payout { key, validator, era } => {
			let p = stake::payout(client, &key.keypair()?, ss58(&validator)?, era).await?;
			if json {
				println!("{}", serde_json::json!(p));
			} else {
				println!("era {era}, validator {validator}:");
				for (who, amount) in &p.rewards {
					println!("  {who} rewarded {}", chain::fmt_agr(amount.parse().unwrap_or(0)));
				}
			}
			Ok(())
		},
	}
}

fn show_ref(s: &gov::RefStatus, json: bool) {
	if json {
		println!("{}", serde_json::json!(s));
		return;
	}
	let planck = |v: &Option<String>| {
		v.as_deref()
			.and_then(|v| v.parse::<u128>().ok())
			.map(chain::fmt_agr)
			.unwrap_or_default()
	};
	match s.ended {
		Some(b) => println!("referendum {}: {} at block {b}", s.index, s.state),
		None => println!(
			"referendum {}: {} on track {}  ayes {}  nays {}  support {}{}",
			s.index,
			s.state,
			s.track.unwrap_or_default(),
			planck(&s.ayes),
			planck(&s.nays),
			planck(&s.support),
			if s.decision_deposit == Some(false) { "  (no decision deposit yet)" } else { "" }
		),
	}
}

async fn gov_cmd(client: &chain::Client, cmd: GovCmd, json: bool) -> anyhow::Result<()> {
	match cmd {
		GovCmd::Params => {
			let all = gov::params(client).await?;
			if json {
				let rows: Vec<_> = all
					.iter()
					.map(|p| {
						serde_json::json!({
							"name": String::from_utf8_lossy(&p.name), "value": p.value.to_string(),
							"default": p.default.to_string(), "min": p.min.to_string(), "max": p.max.to_string(),
							"unit": format!("{:?}", p.unit),
						})
					})
					.collect();
				println!("{}", serde_json::Value::Array(rows));
			} else {
				for p in all {
					println!(
						"{:<22} {:<26} default {:<24} bounds [{}, {}]",
						String::from_utf8_lossy(&p.name),
						gov::fmt_value(p.value, p.unit),
						gov::fmt_value(p.default, p.unit),
						gov::fmt_value(p.min, p.unit),
						gov::fmt_value(p.max, p.unit)
					);
				}
			}
			Ok(())
		},
		GovCmd::ProposeParam { key, name, value, deposit, unchecked } => {
			let signer = key.keypair()?;
			let all = gov::params(client).await?;
			let (index, info) = gov::find(&all, &name)?;
			let v = gov::parse_value(&value, info.unit)?;
			let pname = String::from_utf8_lossy(&info.name).into_owned();
			if !unchecked {
				anyhow::ensure!(
					v >= info.min && v <= info.max,
					"{pname} = {} is outside its bounds [{}, {}]",
					gov::fmt_value(v, info.unit),
					gov::fmt_value(info.min, info.unit),
					gov::fmt_value(info.max, info.unit)
				);
			}
			let p = gov::propose(client, &signer, index, info, v, deposit).await?;
			if json {
				println!(
					"{}",
					serde_json::json!({"referendum": p.index, "param": pname, "value": v.to_string(), "call": agora_worker::hex0x(&p.call), "decision_deposit": p.deposit_placed})
				);
			} else {
				println!(
					"referendum {} submitted on market_params: set {pname} to {}{}",
					p.index,
					gov::fmt_value(v, info.unit),
					if p.deposit_placed { "; decision deposit placed" } else { "" }
				);
			}
			Ok(())
		},
		GovCmd::ProposeUpgrade { key, wasm, deposit } => {
			let code = std::fs::read(&wasm).map_err(|e| anyhow::anyhow!("{}: {e}", wasm.display()))?;
			let p = gov::propose_upgrade(client, &key.keypair()?, code, deposit).await?;
			if json {
				println!("{}", serde_json::json!({"referendum": p.index, "call_hash": hex0x(&p.call), "decision_deposit": p.deposit_placed}));
			} else {
				println!("referendum {} submitted on root: system.set_code (call hash {})", p.index, hex0x(&p.call));
			}
			Ok(())
		},
		GovCmd::Deposit { key, index } => {
			gov::place_deposit(client, &key.keypair()?, index).await?;
			println!("referendum {index}: decision deposit placed");
			Ok(())
		},
		GovCmd::Vote { key, index, choice, conviction, amount } => {
			let aye = match choice.to_ascii_lowercase().as_str() {
				"aye" => true,
				"nay" => false,
				other => anyhow::bail!("vote `aye` or `nay`, not `{other}`"),
			};
			let balance = chain::parse_agr(&amount)?;
			gov::vote(client, &key.keypair()?, index, aye, conviction, balance).await?;
			println!(
				"referendum {index}: voted {choice} with {} at conviction {conviction}",
				chain::fmt_agr(balance)
			);
			Ok(())
		},
		GovCmd::Status { index: Some(i), wait: false } => {
			let s = gov::status(client, i)
				.await?
				.ok_or_else(|| anyhow::anyhow!("no referendum {i}"))?;
			show_ref(&s, json);
			Ok(())
		},
		GovCmd::Status { index: Some(i), wait: true } => {
			let (s, enacted) = gov::wait(client, i, |s| {
				if !json {
					show_ref(s, false)
				}
			})
			.await?;
			match (&enacted, json) {
				(_, true) => println!(
					"{}",
					serde_json::json!({"referendum": s, "enacted": enacted.as_ref().map(|r| r.is_ok()), "error": enacted.as_ref().and_then(|r| r.clone().err())})
				),
				(Some(Ok(())), false) => println!("referendum {i}: enacted"),
				(Some(Err(e)), false) => println!("referendum {i}: enactment failed: {e}"),
				(None, false) => {},
			}
			Ok(())
		},
		GovCmd::Status { index: None, .. } => {
			let n = gov::count(client).await?;
			if n == 0 && !json {
				println!("no referenda yet");
			}
			for i in 0..n {
				if let Some(s) = gov::status(client, i).await? {
					show_ref(&s, json);
				}
			}
			Ok(())
		},
	}
}

async fn simple_tx<C: subxt::transactions::Payload>(
	client: &Client,
	call: C,
	key: &KeyArgs,
	what: &str,
) -> anyhow::Result<()> {
	chain::submit_final(client, &call, &key.keypair()?, what).await?;
	println!("{what}: done");
	Ok(())
}

async fn rpc<T: serde::de::DeserializeOwned>(url: &str, method: &str, params: subxt::rpcs::client::RpcParams) -> anyhow::Result<T> {
	let rpc = subxt::rpcs::RpcClient::from_insecure_url(url)
		.await
		.map_err(|e| anyhow::anyhow!("cannot connect to {url}: {e}"))?;
	rpc.request(method, params).await.map_err(|e| anyhow::anyhow!("{method}: {e}"))
}

async fn provider_list(client: &Client, url: &str, model: &str, sort: &str, json: bool) -> anyhow::Result<()> {
	let m = View::new(client).find_model(model).await?;
	let list: Vec<serde_json::Value> =
		rpc(url, "agora_providers", subxt::rpcs::rpc_params![hex0x(&m.id), sort]).await?;
	if json {
		println!("{}", serde_json::Value::Array(list));
		return Ok(());
	}
	println!("{} — offers by {sort}:", m.name());
	for l in &list {
		let p = |k: &str| l[k].as_str().and_then(|s| s.parse::<u128>().ok()).map(chain::fmt_agr).unwrap_or_default();
		println!(
			"  offer {:<3} {}  reputation {:>6.2}  rank {:>5.3}  rating {:>+5.2} ({} ratings)  subscribers {}  jobs {} (expired {})  stake {}  price {} + {} /1k tokens  cap {}  {}{}",
			l["offerId"], l["provider"].as_str().unwrap_or_default(), l["reputation"].as_f64().unwrap_or(0.0),
			l["rankingPpm"].as_f64().unwrap_or(0.0) / 1e6, l["averageRating"].as_f64().unwrap_or(0.0), l["ratings"],
			l["subscribers"], l["finalizedJobs"], l["expiries"], p("stake"), p("basePrice"), p("pricePer1kTokens"),
			l["capacity"], l["endpoint"].as_str().unwrap_or_default(),
			if l["active"].as_bool().unwrap_or(false) { "" } else { "  (inactive)" },
		);
	}
	Ok(())
}

async fn main_async(cli: Cli) -> anyhow::Result<()> {
	let client = chain::connect(&cli.url).await?;
	match cli.cmd {
		Cmd::Provider(ProviderCmd::List { model, sort }) =>
			provider_list(&client, &cli.url, &model, &sort, cli.json).await,
		Cmd::Quote { model, max_tokens } => {
			let m = View::new(&client).find_model(&model).await?;
			let q: Option<serde_json::Value> =
				rpc(&cli.url, "agora_quote", subxt::rpcs::rpc_params![hex0x(&m.id), max_tokens]).await?;
			match (q, cli.json) {
				(None, _) => anyhow::bail!("no active offer for {} fits", m.name()),
				(Some(q), true) => println!("{q}"),
				(Some(q), false) => {
					let p = |v: &serde_json::Value| v.as_str().and_then(|s| s.parse::<u128>().ok()).map(chain::fmt_agr).unwrap_or_default();
					println!(
						"{} with {max_tokens} output tokens, over {} offers: cheapest {} (offer {}), median {}, best-ranked {} (offer {})",
						m.name(), q["offers"], p(&q["cheapest"]["price"]), q["cheapest"]["offerId"], p(&q["median"]),
						p(&q["bestRanked"]["price"]), q["bestRanked"]["offerId"]
					);
				},
			}
			Ok(())
		},
		Cmd::Model(ModelCmd::List) => model_list(&client, cli.json).await,
		Cmd::TryState { at } => {
			let (block, weight) = chain::try_state(&client, at).await?;
			if cli.json {
				println!("{}", serde_json::json!({"block": block, "ok": true, "ref_time": weight}));
			} else {
				println!("block {block}: every pallet's try_state passed");
			}
			Ok(())
		},
		Cmd::Balance { address, key } => {
			let who: AccountId32 = match address {
				Some(a) => a.parse().map_err(|e| anyhow::anyhow!("`{a}` is not an SS58 address: {e:?}"))?,
				None => chain::account(&key.keypair()?),
			};
			let (free, block) = View::new(&client).free_balance(&who).await?;
			if cli.json {
				println!("{}", serde_json::json!({"account": who.to_string(), "free": free.to_string(), "block": block}));
			} else {
				println!("{who}: {} free at block {block}", chain::fmt_agr(free));
			}
			Ok(())
		},
		Cmd::Job(JobCmd::Submit(a)) => submit(&client, a, cli.json).await,
		Cmd::Job(JobCmd::Status { id, wait_finalized }) => status(&client, id, wait_finalized, cli.json).await,
		Cmd::Job(JobCmd::Output { id, out }) => {
			let (bytes, kind, job) = fetch_output(&client, id).await?;
			show_output(id, &bytes, &kind, &job, cli.json, out.as_ref())
		},
		Cmd::Job(JobCmd::Rate { key, id, rating }) => {
			anyhow::ensure!((-1..=1).contains(&rating), "a rating is -1, 0 or 1");
			simple_tx(&client, runtime::transactions().jobs().rate(id, rating), &key, "rate").await
		},
		Cmd::Job(JobCmd::Cancel { key, id }) => {
			simple_tx(&client, runtime::transactions().jobs().cancel_job(id), &key, "cancel").await
		},
		Cmd::Job(JobCmd::Dispute { key, id, wait }) => {
			dispute(&client, &key, id, wait, cli.json).await
		},
		Cmd::Gov(g) => gov_cmd(&client, g, cli.json).await,
		Cmd::Stake(c) => stake_cmd(&client, c, cli.json).await,
	}
}

fn main() {
	let cli = Cli::parse();
	init_logging(false);
	let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
		Ok(rt) => rt,
		Err(e) => {
			eprintln!("Error: {e}");
			std::process::exit(1);
		},
	};
	if let Err(e) = rt.block_on(main_async(cli)) {
		eprintln!("Error: {e:#}");
		std::process::exit(1);
	}
}
