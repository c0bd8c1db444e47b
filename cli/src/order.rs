//! Ordering jobs: one (`agora job submit`, the MCP server's `submit_job`), or
//! a batch of one job per input line (`agora job submit --each-line`), up to
//! 256 orders a `jobs.submit_jobs` extrinsic, the extrinsics signed with
//! consecutive nonces and submitted together, so that a client queues many
//! requests within a block or two instead of one per finalized block.
use agora_client::chain::{self, runtime, Client, View};
use agora_primitives::rules::content_hash;
use runtime::runtime_types::{
	agora_primitives::jobs::JobParams,
	bounded_collections::bounded_vec::BoundedVec,
	pallet_jobs::types::{InputParam, Order as BatchOrder},
};
use subxt::utils::AccountId32;

/// A job to order: what `agora job submit` and the MCP server's `submit_job` take.
pub struct Order {
	pub model: String,
	pub input: Vec<u8>,
	/// Only the input's hash on chain; the bytes go to the worker.
	pub by_hash: bool,
	/// Most the client pays, held in escrow (0 with `pass`).
	pub max_price: u128,
	pub pass: bool,
	pub max_tokens: u32,
	pub temperature: f64,
	pub seed: u64,
	pub deadline_blocks: u32,
	pub provider: Option<AccountId32>,
}

type Assigned = runtime::jobs::events::JobAssigned;

/// What every job of an order shares: the model's id, the sampling terms
/// (the temperature checked against the chain's bound first) and the
/// deadline, counted from the finalized head.
struct Terms {
	model: [u8; 32],
	params: JobParams,
	deadline: u32,
}

async fn terms(client: &Client, o: &Order) -> anyhow::Result<Terms> {
	let view = View::new(client);
	let model = view.find_model(&o.model).await?;
	let max_t = f64::from(agora_primitives::jobs::MAX_TEMPERATURE_MILLI) / 1000.0;
	anyhow::ensure!(
		(0.0..=max_t).contains(&o.temperature),
		"temperature must be between 0 (greedy) and {max_t} (the chain refuses more: TemperatureTooHigh)"
	);
	let now = view.finalized_number().await?;
	Ok(Terms {
		model: model.id,
		params: JobParams {
			max_tokens: o.max_tokens,
			temperature_milli: agora_client::temperature_milli(o.temperature),
			seed: o.seed,
		},
		deadline: u32::try_from(now)?.saturating_add(o.deadline_blocks).saturating_add(2),
	})
}

fn input_param(o: &Order, input: &[u8]) -> InputParam {
	if o.by_hash {
		InputParam::Hash(content_hash(input))
	} else {
		InputParam::Inline(input.to_vec())
	}
}

fn assigned(events: &subxt::extrinsics::ExtrinsicEvents<chain::Config>) -> anyhow::Result<Assigned> {
	events
		.find_first::<Assigned>()
		.transpose()?
		.ok_or_else(|| anyhow::anyhow!("submit_job succeeded without a JobAssigned event"))
}

/// Orders a job and returns its `JobAssigned` event.
pub async fn order(client: &Client, signer: &chain::Keypair, o: &Order) -> anyhow::Result<Assigned> {
	let t = terms(client, o).await?;
	let input = input_param(o, &o.input);
	let events = if o.pass {
		let call = runtime::transactions().jobs().submit_pass_job(t.model, input, t.params, t.deadline);
		chain::submit_final(client, &call, signer, "submit_pass_job").await?
	} else {
		let call = runtime::transactions().jobs().submit_job(
			t.model,
			input,
			t.params,
			o.max_price,
			t.deadline,
			o.provider,
		);
		chain::submit_final(client, &call, signer, "submit_job").await?
	};
	assigned(&events)
}

/// Orders one job per input of `inputs` on `o`'s terms (its own `input` is
/// not used). Escrowed orders go `MaxOrderBatch` (256) a `jobs.submit_jobs`
/// extrinsic, each judged on its own (a refused one is named by its error,
/// the others stand); pass jobs go one `submit_pass_job` each. Every
/// transaction is signed with the next nonce and submitted before any is
/// waited for. Deadlines are spread over blocks, a quarter of the chain's
/// `MaxJobsPerBlock` per block, so that a batch leaves room in each block's
/// deadline queue for other clients. Returns each job's `JobAssigned` event or
/// the reason it failed, in input order.
pub async fn order_each(
	client: &Client,
	signer: &chain::Keypair,
	o: &Order,
	inputs: &[Vec<u8>],
) -> anyhow::Result<Vec<anyhow::Result<Assigned>>> {
	let t = terms(client, o).await?;
	let at = client.at_current_block().await?;
	let per_block = at.constants().entry(runtime::constants().jobs().max_jobs_per_block())?.div_ceil(4).max(1);
	let deadline = |i: usize| {
		let extra = u32::try_from(i).unwrap_or(u32::MAX) / per_block;
		t.deadline.saturating_add(extra)
	};
	if o.pass {
		let calls = inputs.iter().enumerate().map(|(i, input)| {
			runtime::transactions().jobs().submit_pass_job(t.model, input_param(o, input), t.params.clone(), deadline(i))
		});
		let sent = submit_each(client, signer, calls.collect(), "submit_pass_job").await?;
		return Ok(sent.into_iter().map(|r| r.and_then(|events| assigned(&events))).collect());
	}
	let batch = usize::try_from(at.constants().entry(runtime::constants().jobs().max_order_batch())?)?.max(1);
	let orders: Vec<BatchOrder<u128, u32>> = inputs
		.iter()
		.enumerate()
		.map(|(i, input)| BatchOrder {
			input: input_param(o, input),
			params: t.params.clone(),
			max_price: o.max_price,
			deadline: deadline(i),
		})
		.collect();
	let chunks: Vec<Vec<_>> = orders.chunks(batch).map(<[_]>::to_vec).collect();
	let sizes: Vec<usize> = chunks.iter().map(Vec::len).collect();
	let calls = chunks
		.into_iter()
		.map(|c| runtime::transactions().jobs().submit_jobs(t.model, BoundedVec(c), o.provider))
		.collect();
	let sent = submit_each(client, signer, calls, "submit_jobs").await?;
	let mut out = Vec::with_capacity(inputs.len());
	for (r, n) in sent.into_iter().zip(sizes) {
		match r {
			Ok(events) => out.extend(batch_results(at.metadata_ref(), &events, n)?),
			Err(e) => {
				let e = e.to_string();
				out.extend((0..n).map(|_| Err(anyhow::anyhow!("{e}"))));
			},
		}
	}
	Ok(out)
}

/// Each of a `submit_jobs` batch's `n` orders, in order: its `JobAssigned`
/// event, or its `OrderRefused` error by name.
fn batch_results(
	md: &subxt::Metadata,
	events: &subxt::extrinsics::ExtrinsicEvents<chain::Config>,
	n: usize,
) -> anyhow::Result<Vec<anyhow::Result<Assigned>>> {
	let mut refused = std::collections::BTreeMap::new();
	for ev in events.find::<runtime::jobs::events::OrderRefused>() {
		let ev = ev?;
		refused.insert(usize::try_from(ev.index)?, chain::error_text(md, &ev.error));
	}
	let mut assigned = events.find::<Assigned>();
	(0..n)
		.map(|i| match refused.remove(&i) {
			Some(why) => Ok(Err(anyhow::anyhow!("order refused: {why}"))),
			None => match assigned.next() {
				Some(ev) => Ok(Ok(ev?)),
				None => anyhow::bail!("submit_jobs: order {i} neither assigned nor refused"),
			},
		})
		.collect()
}

/// Submits `calls` one after another with the account's next nonces
/// ([`chain::Submitter`]), then waits for each to be final; each one's events
/// or why it failed.
async fn submit_each<C: subxt::transactions::Payload>(
	client: &Client,
	signer: &chain::Keypair,
	calls: Vec<C>,
	what: &str,
) -> anyhow::Result<Vec<anyhow::Result<subxt::extrinsics::ExtrinsicEvents<chain::Config>>>> {
	let submitter = chain::Submitter::new(signer.clone());
	let mut sent = Vec::with_capacity(calls.len());
	for call in &calls {
		sent.push(submitter.submit(client, call).await.map_err(|e| anyhow::anyhow!("{what}: {e}")));
	}
	// All are in the pool; waiting for them in turn takes as long as the last.
	let mut out = Vec::with_capacity(sent.len());
	for progress in sent {
		out.push(match progress {
			Ok(p) => p.wait_for_finalized_success().await.map_err(|e| anyhow::anyhow!("{what} failed: {e}")),
			Err(e) => Err(e),
		});
	}
	Ok(out)
}
