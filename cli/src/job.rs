//! `agora job …`: order a job, follow it, fetch and check its output, rate,
//! cancel, dispute.
use crate::{
	order::{order, Order},
	util::simple_tx,
};
use agora_client::{
	chain::{self, runtime, Client, JobStatus, View},
	cli::KeyArgs,
	hex0x,
};
use agora_primitives::rules::content_hash;
pub(crate) use by_hash::upload_input;
use by_hash::{contest_input, print_contested, receipt_or_contest};
use clap::Subcommand;
use std::{path::PathBuf, time::Duration};
use subxt::utils::AccountId32;

mod by_hash;
mod dispute;

/// Blocks after a receipt's `finalize_at` searched for its payout (the
/// market's queues pay later when a block's share of weight for them runs out).
const PAYOUT_SCAN: u64 = 32;

#[derive(Subcommand, Debug)]
pub enum JobCmd {
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
	/// Outputs are private: the request is signed with the job's client key.
	Output {
		#[command(flatten)]
		key: KeyArgs,
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
	/// Contest a provider's report that a by-hash input never came, with the
	/// upload receipt its worker signed when it took the input (printed by
	/// `submit --by-hash`): the report was false, so your charge comes back out
	/// of the provider's bond and the provider is slashed. Possible while the
	/// chain keeps the job (`jobs.Retention` after the report).
	ContestInput {
		#[command(flatten)]
		key: KeyArgs,
		id: u64,
		/// The worker's signature (hex) from `PUT /v1/inputs`.
		#[arg(long)]
		upload_receipt: String,
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
pub struct SubmitArgs {
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
	/// Put only the input's hash on chain and upload the bytes to the assigned
	/// worker (`PUT {endpoint}/v1/inputs`) once the job is assigned: for inputs
	/// over the chain's inline limit, or ones the chain should not store. An
	/// input not uploaded within the grace (`agora chain constants`, `jobs.InputGrace`)
	/// may be reported missing: you pay the base price.
	#[arg(long)]
	by_hash: bool,
	/// With --by-hash: do not upload; deliver the input yourself later.
	#[arg(long, requires = "by_hash")]
	skip_upload: bool,
	/// Most you pay (AGR, or planck with a `p` suffix); held in escrow.
	#[arg(long, required_unless_present = "pass", conflicts_with = "pass")]
	max_price: Option<String>,
	/// Pay with your service pass (`agora pass lock`): one request of this
	/// epoch's quota, nothing held; the chain draws the provider.
	#[arg(long, conflicts_with = "provider")]
	pass: bool,
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
	/// One job per non-empty line of the input, up to 256 a `jobs.submit_jobs`
	/// extrinsic (pass jobs: one extrinsic each), all submitted at once (signed
	/// with consecutive nonces); prints each assignment, or why it failed.
	#[arg(long, conflicts_with_all = ["wait", "out", "skip_upload"])]
	each_line: bool,
	/// Wait for the receipt and fetch the output.
	#[arg(long)]
	wait: bool,
	/// Write the raw output bytes here (with --wait).
	#[arg(long)]
	out: Option<PathBuf>,
}

/// Runs one `agora job …` command.
pub async fn run(client: &Client, cmd: JobCmd, json: bool) -> anyhow::Result<()> {
	match cmd {
		JobCmd::Submit(a) => submit(client, a, json).await,
		JobCmd::Status { id, wait_finalized } => status(client, id, wait_finalized, json).await,
		JobCmd::Output { key, id, out } => {
			let (bytes, kind, job) = fetch_output(client, id, &key.keypair()?).await?;
			show_output(id, &bytes, &kind, &job, json, out.as_ref())
		},
		JobCmd::Rate { key, id, rating } => {
			anyhow::ensure!((-1..=1).contains(&rating), "a rating is -1, 0 or 1");
			simple_tx(client, runtime::transactions().jobs().rate(id, rating), &key, "rate").await
		},
		JobCmd::Cancel { key, id } => {
			simple_tx(client, runtime::transactions().jobs().cancel_job(id), &key, "cancel").await
		},
		JobCmd::Dispute { key, id, wait } => dispute::dispute(client, &key, id, wait, json).await,
		JobCmd::ContestInput { key, id, upload_receipt } => {
			contest_input(client, &key.keypair()?, id, agora_client::parse_sig(&upload_receipt)?, json).await
		},
	}
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
		JobStatus::Unverified => "Unverified",
		JobStatus::InputMissing => "InputMissing",
	}
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
			Some(j)
				if matches!(
					j.status,
					JobStatus::Expired |
						JobStatus::Cancelled |
						JobStatus::Unverified |
						JobStatus::InputMissing |
						JobStatus::Fraud
				) =>
			{
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

pub async fn fetch_output(
	client: &Client,
	id: u64,
	reader: &chain::Keypair,
) -> anyhow::Result<(Vec<u8>, String, chain::Job)> {
	let view = View::new(client);
	let job = view.job(id).await?.ok_or_else(|| anyhow::anyhow!("job {id} is not on chain"))?;
	let receipt = job.receipt.clone().ok_or_else(|| {
		anyhow::anyhow!("job {id} has no receipt yet ({})", status_name(&job.status))
	})?;
	let offer = view.offer(job.offer_id).await?.ok_or_else(|| {
		anyhow::anyhow!("offer {} is gone; its endpoint is unknown", job.offer_id)
	})?;
	let url = format!("{}/v1/jobs/{id}/output", offer.endpoint.trim_end_matches('/'));
	let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build()?;
	let mut last = String::new();
	for attempt in 0..5u64 {
		if attempt > 0 {
			tokio::time::sleep(Duration::from_millis(500 * attempt)).await;
		}
		let auth = chain::read_header(reader, id);
		match http.get(&url).header(agora_primitives::jobs::READ_HEADER, auth).send().await {
			Ok(r) if r.status().is_success() => {
				let kind = r
					.headers()
					.get(agora_primitives::jobs::OUTPUT_KIND_HEADER)
					.and_then(|v| v.to_str().ok())
					.unwrap_or("text")
					.to_string();
				let bytes = r.bytes().await?.to_vec();
				let got = content_hash(&bytes);
				anyhow::ensure!(
					got == receipt.output_hash,
					"the provider's output for job {id} does not match the receipt: blake2_256 {} != {}",
					hex0x(&got),
					hex0x(&receipt.output_hash)
				);
				return Ok((bytes, kind, job));
			},
			Ok(r) if matches!(r.status().as_u16(), 400 | 401 | 403) => {
				let status = r.status();
				let why = r.text().await.unwrap_or_default();
				anyhow::bail!("{url}: HTTP {status}: {why}")
			},
			Ok(r) => last = format!("{url}: HTTP {}", r.status()),
			Err(e) => last = format!("{url}: {e}"),
		}
	}
	anyhow::bail!("cannot fetch the output: {last}")
}

/// A fetched, hash-checked output as JSON: its kind, the receipt's hash and
/// billed tokens, and the output itself (text and token ids, an embedding, or
/// the provider's error text). `billing_matches` is false when the receipt
/// bills another count than the token ids served: a reason to dispute.
pub fn output_value(id: u64, bytes: &[u8], kind: &str, job: &chain::Job) -> serde_json::Value {
	let receipt = job.receipt.as_ref();
	let tokens = receipt.map(|r| r.output_tokens).unwrap_or(0);
	let mut v = serde_json::json!({
		"job_id": id,
		"kind": kind,
		"output_hash": receipt.map(|r| hex0x(&r.output_hash)).unwrap_or_default(),
		"output_tokens": tokens,
		"verified": true,
		"finalize_at": receipt.map(|r| r.finalize_at),
	});
	match kind {
		"embedding" => {
			let e = agora_primitives::jobs::decode_embedding(bytes).unwrap_or_default();
			v["embedding"] = serde_json::json!(e);
		},
		// A generation output commits its token ids; the receipt bills their count.
		"text" => match agora_primitives::jobs::GenerationOutput::from_bytes(bytes) {
			Some(g) => {
				v["billing_matches"] = (g.tokens.len() == tokens as usize).into();
				v["token_ids"] = serde_json::json!(g.tokens);
				v["output"] = g.text.into();
			},
			None => {
				v["well_formed"] = false.into();
				v["output"] = String::from_utf8_lossy(bytes).into_owned().into();
			},
		},
		_ => v["output"] = String::from_utf8_lossy(bytes).into_owned().into(),
	}
	v
}

fn show_output(
	id: u64,
	bytes: &[u8],
	kind: &str,
	job: &chain::Job,
	json: bool,
	out: Option<&PathBuf>,
) -> anyhow::Result<()> {
	if let Some(p) = out {
		std::fs::write(p, bytes)?;
	}
	let v = output_value(id, bytes, kind, job);
	let tokens = v["output_tokens"].as_u64().unwrap_or(0);
	if v["billing_matches"] == false {
		let served = v["token_ids"].as_array().map(Vec::len).unwrap_or(0);
		eprintln!("warning: the receipt bills {tokens} tokens for {served} generated: dispute it (`agora job dispute {id}`)");
	}
	if v["well_formed"] == false {
		eprintln!("warning: the output is not a {{\"text\", \"tokens\"}} object: dispute it (`agora job dispute {id}`)");
	}
	if json {
		outln!("{v}");
		return Ok(());
	}
	match kind {
		"embedding" => {
			let e = v["embedding"].as_array().cloned().unwrap_or_default();
			let head: Vec<String> = e.iter().take(6).map(|x| format!("{:.4}", x.as_f64().unwrap_or(0.0))).collect();
			outln!("embedding ({} dims): [{}, …]", e.len(), head.join(", "));
		},
		"error" => outln!("the provider refused the input: {}", v["output"].as_str().unwrap_or_default()),
		_ => outln!("{}", v["output"].as_str().unwrap_or_default()),
	}
	outln!("output verified: blake2_256 {} matches the receipt ({tokens} tokens)", v["output_hash"].as_str().unwrap_or_default());
	Ok(())
}

/// Waits for job `id`'s receipt, then fetches its output as its client and
/// checks it against the receipt's hash. For a job whose input went by hash,
/// `upload` is the worker's upload receipt: a report that the input never
/// came is contested on the spot (`jobs.contest_input_missing`), and the
/// error says what that moved.
pub async fn receipted_output(
	client: &Client,
	id: u64,
	signer: &chain::Keypair,
	upload: Option<[u8; 64]>,
) -> anyhow::Result<(Vec<u8>, String, chain::Job)> {
	if let Err(e) = receipt_or_contest(client, id, signer, upload).await? {
		anyhow::bail!(
			"job {id}: the provider reported the input missing after its worker signed for it; contested: {} back out of {}'s bond, {} slashed, the job ends Fraud",
			chain::fmt_agr(e.compensated),
			e.provider,
			chain::fmt_agr(e.slashed)
		);
	}
	fetch_output(client, id, signer).await
}

async fn submit(client: &Client, a: SubmitArgs, json: bool) -> anyhow::Result<()> {
	let signer = a.key.keypair()?;
	let input = match (&a.input, &a.input_file) {
		(Some(s), _) => s.as_bytes().to_vec(),
		(None, Some(p)) => std::fs::read(p).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?,
		(None, None) => anyhow::bail!("give --input or --input-file"),
	};
	let max_price = match &a.max_price {
		Some(p) => chain::parse_agr(p)?,
		None => 0,
	};
	let provider: Option<AccountId32> = match &a.provider {
		Some(p) => Some(p.parse().map_err(|e| anyhow::anyhow!("--provider `{p}`: {e:?}"))?),
		None => None,
	};
	let o = Order {
		model: a.model.clone(),
		input,
		by_hash: a.by_hash,
		max_price,
		pass: a.pass,
		max_tokens: a.max_tokens,
		temperature: a.temperature,
		seed: a.seed,
		deadline_blocks: a.deadline_blocks,
		provider,
	};
	if a.each_line {
		return submit_each_line(client, &signer, &o, json).await;
	}
	let ev = order(client, &signer, &o).await?;
	let id = ev.job_id;
	print_assigned(&ev, o.pass, json);
	let mut upload = None;
	if a.by_hash && !a.skip_upload {
		let sig = upload_input(&View::new(client), id, ev.offer_id, &o.input).await?;
		if json {
			outln!("{}", serde_json::json!({"event": "uploaded", "job_id": id, "bytes": o.input.len(), "upload_receipt": hex0x(&sig)}));
		} else {
			outln!("input uploaded to the provider ({} bytes, blake2_256 {})", o.input.len(), hex0x(&content_hash(&o.input)));
			outln!("upload receipt {} (keep it: `agora job contest-input {id} --upload-receipt …` if the provider reports the input missing)", hex0x(&sig));
		}
		upload = Some(sig);
	}
	if !a.wait {
		return Ok(());
	}
	let job = match receipt_or_contest(client, id, &signer, upload).await? {
		Ok(job) => job,
		Err(e) => {
			print_contested(id, &e, json);
			anyhow::bail!("job {id}: the provider reported the input missing after its worker signed for it; contested");
		},
	};
	if !json {
		if let Some(r) = &job.receipt {
			outln!(
				"receipted at block {} ({} tokens); finalizes at block {}",
				r.at, r.output_tokens, r.finalize_at
			);
		}
	}
	let (bytes, kind, job) = fetch_output(client, id, &signer).await?;
	show_output(id, &bytes, &kind, &job, json, a.out.as_ref())
}

fn print_assigned(ev: &runtime::jobs::events::JobAssigned, pass: bool, json: bool) {
	let id = ev.job_id;
	if json {
		outln!(
			"{}",
			serde_json::json!({"event": "assigned", "job_id": id, "provider": ev.provider.to_string(), "offer_id": ev.offer_id, "deadline": ev.deadline, "by_avrf": ev.by_avrf, "max_price": ev.max_price.to_string()})
		);
	} else {
		outln!(
			"job {id} assigned to {} (offer {}, {}), deadline block {}, {}",
			ev.provider,
			ev.offer_id,
			if ev.by_avrf { "drawn by AVRF" } else { "named" },
			ev.deadline,
			if pass { "paid by your pass".to_string() } else { format!("{} held", chain::fmt_agr(ev.max_price)) }
		);
	}
}

/// `--each-line`: one job per non-empty input line, submitted together; with
/// `--by-hash`, each line is uploaded to its worker. Fails (after printing
/// every line's outcome) when any job was not ordered.
async fn submit_each_line(client: &Client, signer: &chain::Keypair, o: &Order, json: bool) -> anyhow::Result<()> {
	let lines: Vec<Vec<u8>> =
		o.input.split(|b| *b == b'\n').filter(|l| !l.trim_ascii().is_empty()).map(<[u8]>::to_vec).collect();
	anyhow::ensure!(!lines.is_empty(), "--each-line: the input has no non-empty line");
	let results = crate::order::order_each(client, signer, o, &lines).await?;
	let mut failed = 0usize;
	for (line, (input, r)) in lines.iter().zip(results).enumerate() {
		match r {
			Ok(ev) => {
				print_assigned(&ev, o.pass, json);
				if o.by_hash {
					let sig = upload_input(&View::new(client), ev.job_id, ev.offer_id, input).await?;
					if json {
						outln!("{}", serde_json::json!({"event": "uploaded", "job_id": ev.job_id, "upload_receipt": hex0x(&sig)}));
					} else {
						outln!("job {}: input uploaded, upload receipt {}", ev.job_id, hex0x(&sig));
					}
				}
			},
			Err(e) => {
				failed += 1;
				if json {
					outln!("{}", serde_json::json!({"event": "failed", "line": line + 1, "error": e.to_string()}));
				} else {
					outln!("line {}: not ordered: {e}", line + 1);
				}
			},
		}
	}
	anyhow::ensure!(failed == 0, "{failed} of {} jobs were not ordered", lines.len());
	Ok(())
}

/// Job `id` as it is on chain (at the finalized head), with its payout once
/// finalized; with `wait_finalized`, after waiting for it to end.
pub async fn status_value(client: &Client, id: u64, wait_finalized: bool) -> anyhow::Result<(chain::Job, serde_json::Value, Option<(u64, runtime::jobs::events::JobFinalized)>)> {
	let view = View::new(client);
	let mut finalized_event = None;
	if wait_finalized {
		// Watch finalized blocks for the payout event.
		let mut blocks = client.stream_blocks().await?;
		loop {
			match view.job(id).await? {
				Some(j) if matches!(j.status, JobStatus::Finalized) => break,
				Some(j)
					if matches!(
						j.status,
						JobStatus::Expired |
							JobStatus::Cancelled | JobStatus::Fraud |
							JobStatus::Unverified | JobStatus::InputMissing
					) =>
				{
					break
				},
				None => break,
				_ => {},
			}
			let Some(b) = blocks.next().await else {
				anyhow::bail!("the node's block stream ended")
			};
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
		// Paid out before we watched: on_initialize pays at the receipt's
		// `finalize_at`, or a few blocks later when its queue ran behind.
		if let Some(r) = &job.receipt {
			let head = client.at_current_block().await?.block_number();
			let from = u64::from(r.finalize_at);
			for b in from..=head.min(from.saturating_add(PAYOUT_SCAN)) {
				let at = client.at_block(b).await?;
				for ev in at.events().fetch().await?.find::<runtime::jobs::events::JobFinalized>() {
					let ev = ev?;
					if ev.job_id == id {
						finalized_event = Some((b, ev));
					}
				}
				if finalized_event.is_some() {
					break;
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
		"payment": match job.payment {
			runtime::runtime_types::agora_primitives::jobs::PaymentMode::Escrow => "Escrow",
			runtime::runtime_types::agora_primitives::jobs::PaymentMode::Pass => "Pass",
		},
		"max_price": job.max_price.to_string(),
		"deadline": job.deadline,
		"params": {
			"max_tokens": job.params.max_tokens,
			"temperature_milli": job.params.temperature_milli,
			"seed": job.params.seed,
		},
		"job_seed": hex0x(&job.job_seed),
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
	Ok((job, v, finalized_event))
}

async fn status(client: &Client, id: u64, wait_finalized: bool, json: bool) -> anyhow::Result<()> {
	let (job, v, finalized_event) = status_value(client, id, wait_finalized).await?;
	if json {
		outln!("{v}");
		return Ok(());
	}
	outln!("job {id}: {}", status_name(&job.status));
	outln!("  client {}  provider {}", job.client, job.provider);
	match job.payment {
		runtime::runtime_types::agora_primitives::jobs::PaymentMode::Pass =>
			outln!("  paid by the client's service pass  deadline block {}", job.deadline),
		runtime::runtime_types::agora_primitives::jobs::PaymentMode::Escrow =>
			outln!("  max price {}  deadline block {}", chain::fmt_agr(job.max_price), job.deadline),
	}
	if let Some(r) = &job.receipt {
		outln!(
			"  receipt: output {} ({} tokens) at block {}, disputable until block {}, finalizes at {}",
			hex0x(&r.output_hash),
			r.output_tokens,
			r.at,
			r.window_end,
			r.finalize_at
		);
	}
	if let Some((block, ev)) = &finalized_event {
		outln!(
			"  paid out at block {block}: charge {} = provider {} + protocol fee {} + royalty {}; refunded {}",
			chain::fmt_agr(ev.charge),
			chain::fmt_agr(ev.to_provider),
			chain::fmt_agr(ev.fee),
			chain::fmt_agr(ev.royalty),
			chain::fmt_agr(ev.refunded)
		);
	} else if let Some(c) = job.charge {
		outln!("  charged {}", chain::fmt_agr(c));
	}
	Ok(())
}
