//! `agora mcp`: the marketplace as Model Context Protocol tools (rmcp, over
//! stdio or, with `--http`, Streamable HTTP on loopback), for AI assistants and
//! agents (docs/mcp.md). Every tool is the CLI's own
//! code path (`job`, `market`, `order`) returning JSON instead of printing it; stdout
//! carries the protocol only, logs go to stderr.
//!
//! Money: one account per server (`--suri` on a dev chain, `--keystore`
//! otherwise) and a spending limit per session (`--max-spend`). The limit
//! counts what a call can take from the account at most: each job's
//! `max_price` (what escrow holds; the unused part is refunded at
//! finalization, but the session does not count it back) and each dispute's
//! bond, and each channel's value. A call that would pass the limit is refused
//! before anything is signed, and a call the chain refuses gives its share
//! back. Vouchers spend from a channel's locked value, which the limit
//! already counts.
use crate::{job, market};
use agora_client::{
	chain::{self, Client, View},
	gov,
};
use rmcp::{
	handler::server::wrapper::Parameters,
	model::{CallToolResult, ContentBlock},
	schemars, tool, tool_handler, tool_router, ErrorData, ServerHandler, ServiceExt,
};
use std::{
	sync::{Arc, Mutex},
	time::Duration,
};

/// The server: a connection, an account and what this session has committed.
#[derive(Clone)]
pub struct AgoraMcp {
	client: Client,
	url: String,
	signer: Arc<chain::Keypair>,
	max_spend: u128,
	committed: Arc<Mutex<u128>>,
	/// How long `submit_job` waits for a receipt before returning the job id.
	wait: Duration,
	/// The channel lanes this account has signed on, opened at the first
	/// channel request (`lanes.redb` in the client's state directory).
	lanes: Arc<tokio::sync::OnceCell<crate::paid::LaneStore>>,
	/// Held across a channel request, from its voucher to its answer: two
	/// requests in flight on one lane could reach the worker out of order,
	/// and the later nonce, arriving first, would make the earlier one a
	/// refused replay that was already paid for.
	paying: Arc<tokio::sync::Mutex<()>>,
}

type ToolResult = Result<CallToolResult, ErrorData>;

/// A tool's answer: its JSON as structured content (and as text), or the
/// error as words the caller's model can act on, marked as a tool error.
fn answer(r: anyhow::Result<serde_json::Value>) -> ToolResult {
	Ok(match r {
		Ok(v) => CallToolResult::structured(match v {
			// Structured content must be an object.
			serde_json::Value::Object(_) => v,
			other => serde_json::json!({ "items": other }),
		}),
		Err(e) => CallToolResult::error(vec![ContentBlock::text(format!("{e:#}"))]),
	})
}

fn planck_str(v: u128) -> String {
	format!("{v} planck ({})", chain::fmt_agr(v))
}

#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
pub struct ModelArg {
	/// The model's name as `list_models` gives it (e.g. "SmolLM2-135M-Instruct") or its 0x id.
	pub model: String,
	/// How to rank: "rank" (default: the Wilson lower bound on good outcomes), "price", "stake" or "reputation".
	#[serde(default)]
	pub sort: Option<String>,
}

#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
pub struct QuoteArg {
	/// The model's name or 0x id.
	pub model: String,
	/// Output tokens to price (generation); embeddings ignore it. Default 64.
	#[serde(default)]
	pub max_tokens: Option<u32>,
}

#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
pub struct SubmitArg {
	/// The model's name or 0x id (`list_models`).
	pub model: String,
	/// The input: a prompt for a text-generation model, the text to embed for an embedding model.
	pub input: String,
	/// Send the input off-chain: only its blake2_256 hash goes on chain (cheaper for long inputs), and the input is uploaded to the assigned provider's worker, which returns a signed upload receipt. If the provider then reports the input missing, the receipt is used at once to contest (the charge comes back out of its bond). Default false (the input goes on chain).
	#[serde(default)]
	pub by_hash: Option<bool>,
	#[serde(flatten)]
	pub terms: JobTerms,
}

#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
pub struct SubmitManyArg {
	/// The model's name or 0x id (`list_models`).
	pub model: String,
	/// One input per job, 1 to 1,024: prompts for a text-generation model, texts to embed for an embedding model. The jobs are ordered in this order.
	pub inputs: Vec<String>,
	#[serde(flatten)]
	pub terms: JobTerms,
}

/// What `submit_job` and `submit_jobs` share: every job of a call has these
/// terms (their fields are the tools' own in the schema).
#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
pub struct JobTerms {
	/// Most to pay per job, in AGR as a decimal string (e.g. "0.05"); each job holds it in escrow, the unused part refunded. Default: the highest of the cheapest, median and best-ranked quote.
	#[serde(default)]
	pub max_price: Option<String>,
	/// Most output tokens per job (generation models). Default 64.
	#[serde(default)]
	pub max_tokens: Option<u32>,
	/// Sampling temperature: 0 (default) is greedy and reproducible; at most 2.
	#[serde(default)]
	pub temperature: Option<f64>,
	/// Sampling seed (0 or absent: derived from each job's id).
	#[serde(default)]
	pub seed: Option<u64>,
	/// Wait for the verified output of every job (default true). False returns the job id(s) at once; use job_status and get_output later.
	#[serde(default)]
	pub wait: Option<bool>,
	/// Pay with this account's service pass (stake locked with `agora pass lock`): one request of this epoch's quota per job (one transaction each), nothing held, no max_price; the chain draws the provider. Default false (escrow; up to 256 orders a transaction).
	#[serde(default)]
	pub pay_with_pass: Option<bool>,
	/// Order from this provider only (SS58 account, as list_providers gives it), e.g. one you trust; its offer must fit max_price and have room. Not with pay_with_pass. Default: the chain draws a provider for each job (reputation-weighted VRF).
	#[serde(default)]
	pub provider: Option<String>,
}

/// The provider a `submit_job` or `submit_jobs` call names, if any: an SS58
/// account, and never beside a service pass (whose provider the chain draws).
fn named_provider(p: Option<&str>, pass: bool) -> anyhow::Result<Option<subxt::utils::AccountId32>> {
	let Some(p) = p else { return Ok(None) };
	anyhow::ensure!(!pass, "give provider or pay_with_pass, not both: a pass job's provider is drawn by the chain");
	Ok(Some(p.parse().map_err(|e| anyhow::anyhow!("provider `{p}` is not an SS58 account: {e:?}"))?))
}

#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
pub struct JobArg {
	/// The job id (`submit_job` returns it).
	pub job_id: u64,
}

#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
pub struct ChannelOpenArg {
	/// The provider to pay (SS58 account, as list_providers gives it).
	pub provider: String,
	/// AGR to lock, as a decimal string (e.g. "1"); counted against the spend limit.
	pub value: String,
	/// Blocks (3 s each) until the channel expires and what is unspent can be reclaimed. Default 1200 (an hour).
	#[serde(default)]
	pub blocks: Option<u32>,
}

#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
pub struct ChannelArg {
	/// The channel id (`channel_open` returns it).
	pub channel_id: u64,
}

#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
pub struct ChannelDisputeArg {
	/// The channel the answer was paid through.
	pub channel_id: u64,
	/// The voucher's nonce (`channel_request` returns it under `voucher`).
	pub nonce: u64,
	/// The voucher's lane (default 0, the lane `channel_request` pays on).
	#[serde(default)]
	pub lane: Option<u32>,
}

#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
pub struct ChannelRequestArg {
	/// A channel of this account's (`channel_open`).
	pub channel_id: u64,
	/// The model's name or 0x id; the channel's provider must offer it.
	pub model: String,
	/// The prompt (text-generation model) or the text to embed (embedding model).
	pub input: String,
	/// Most output tokens (generation; the voucher pays for this many). Default 64.
	#[serde(default)]
	pub max_tokens: Option<u32>,
}

#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
pub struct RateArg {
	/// A finalized job of this account's.
	pub job_id: u64,
	/// -1 (bad), 0 (neutral) or 1 (good).
	pub rating: i8,
}

impl AgoraMcp {
	pub fn new(client: Client, url: String, signer: chain::Keypair, max_spend: u128, wait: Duration) -> Self {
		Self {
			client,
			url,
			signer: Arc::new(signer),
			max_spend,
			committed: Arc::new(Mutex::new(0)),
			wait,
			lanes: Arc::new(tokio::sync::OnceCell::new()),
			paying: Arc::new(tokio::sync::Mutex::new(())),
		}
	}

	/// Takes `amount` from the session's limit, or says why not.
	fn reserve(&self, amount: u128, what: &str) -> anyhow::Result<()> {
		let mut c = self.committed.lock().map_err(|_| anyhow::anyhow!("the spend counter is poisoned"))?;
		let left = self.max_spend.saturating_sub(*c);
		anyhow::ensure!(
			amount <= left,
			"spend limit: {what} may take up to {} but only {} of this session's --max-spend ({}) is left; nothing was submitted",
			chain::fmt_agr(amount),
			chain::fmt_agr(left),
			chain::fmt_agr(self.max_spend)
		);
		*c = c.saturating_add(amount);
		Ok(())
	}

	/// Gives back what a refused call had reserved.
	fn release(&self, amount: u128) {
		if let Ok(mut c) = self.committed.lock() {
			*c = c.saturating_sub(amount);
		}
	}

	fn committed(&self) -> u128 {
		self.committed.lock().map(|c| *c).unwrap_or(u128::MAX)
	}

	/// A job's max price: none for a pass job, the caller's, or else the
	/// highest of the cheapest, median and best-ranked quote.
	async fn job_price(&self, model: &str, max_tokens: u32, max_price: Option<&str>, pass: bool) -> anyhow::Result<u128> {
		anyhow::ensure!(!(pass && max_price.is_some()), "give max_price or pay_with_pass, not both: a pass job holds nothing");
		Ok(match max_price {
			_ if pass => 0,
			Some(p) => chain::parse_agr(p)?,
			None => {
				let (_, q) = market::quote_value(&self.client, &self.url, model, max_tokens).await?;
				let p = |v: &serde_json::Value| v.as_str().and_then(|s| s.parse::<u128>().ok()).unwrap_or(0);
				p(&q["cheapest"]["price"]).max(p(&q["median"])).max(p(&q["bestRanked"]["price"]))
			},
		})
	}

	/// The order a call's terms make for `model` (no input yet, on chain):
	/// the provider named (never with a pass) and the price each job holds.
	async fn order_for(&self, model: &str, t: &JobTerms) -> anyhow::Result<crate::order::Order> {
		let max_tokens = t.max_tokens.unwrap_or(64);
		let pass = t.pay_with_pass.unwrap_or(false);
		let provider = named_provider(t.provider.as_deref(), pass)?;
		Ok(crate::order::Order {
			model: model.to_string(),
			input: Vec::new(),
			by_hash: false,
			max_price: self.job_price(model, max_tokens, t.max_price.as_deref(), pass).await?,
			pass,
			max_tokens,
			temperature: t.temperature.unwrap_or(0.0),
			seed: t.seed.unwrap_or(0),
			deadline_blocks: 100,
			provider,
		})
	}

	async fn submit(&self, a: SubmitArg) -> anyhow::Result<serde_json::Value> {
		anyhow::ensure!(!a.input.is_empty(), "input is empty: give the prompt or the text to embed");
		let order = crate::order::Order {
			input: a.input.into_bytes(),
			by_hash: a.by_hash.unwrap_or(false),
			..self.order_for(&a.model, &a.terms).await?
		};
		let max_price = order.max_price;
		// `order` refuses an unknown model or a bad temperature before signing;
		// the reservation is then given back.
		self.reserve(max_price, "this job")?;
		let ev = match crate::order::order(&self.client, &self.signer, &order).await {
			Ok(ev) => ev,
			Err(e) => {
				self.release(max_price);
				return Err(e);
			},
		};
		let id = ev.job_id;
		let mut v = serde_json::json!({
			"job_id": id,
			"provider": ev.provider.to_string(),
			"offer_id": ev.offer_id,
			"deadline_block": ev.deadline,
			"max_price": planck_str(ev.max_price),
			"session_committed": planck_str(self.committed()),
		});
		let upload = if order.by_hash {
			let sig = job::upload_input(&View::new(&self.client), id, ev.offer_id, &order.input)
				.await
				.map_err(|e| {
					e.context(format!(
						"job {id} was ordered (max price held), but its input could not be uploaded; unless it arrives, the provider reports it missing after the grace period and the base price is charged"
					))
				})?;
			v["input_hash"] = agora_client::hex0x(&agora_primitives::rules::content_hash(&order.input)).into();
			v["upload_receipt"] = agora_client::hex0x(&sig).into();
			Some(sig)
		} else {
			None
		};
		if !a.terms.wait.unwrap_or(true) {
			v["status"] = "Assigned".into();
			return Ok(v);
		}
		match tokio::time::timeout(self.wait, job::receipted_output(&self.client, id, &self.signer, upload))
			.await
		{
			Ok(Ok((bytes, kind, j))) => {
				v["status"] = "Receipted".into();
				v["result"] = job::output_value(id, &bytes, &kind, &j);
			},
			Ok(Err(e)) => return Err(e.context(format!("job {id} was ordered (max price held), but"))),
			Err(_) => {
				v["status"] = "Waiting".into();
				v["note"] = format!(
					"no receipt within {} s; the job goes on: call job_status or get_output with job_id {id}",
					self.wait.as_secs()
				)
				.into();
			},
		}
		Ok(v)
	}

	/// `submit_jobs`: the CLI's `--each-line` path ([`crate::order::order_each`]).
	/// The session's limit is charged `max_price` × inputs before anything is
	/// signed; each refused order gives its share back.
	async fn submit_many(&self, a: SubmitManyArg) -> anyhow::Result<serde_json::Value> {
		const MAX_INPUTS: usize = 1_024;
		let n = a.inputs.len();
		anyhow::ensure!((1..=MAX_INPUTS).contains(&n), "inputs: give 1 to {MAX_INPUTS} inputs, not {n}");
		if let Some(i) = a.inputs.iter().position(String::is_empty) {
			anyhow::bail!("input {i} is empty: give a prompt or a text to embed for each job; nothing was submitted");
		}
		let order = self.order_for(&a.model, &a.terms).await?;
		let max_price = order.max_price;
		let total = max_price.saturating_mul(n as u128);
		self.reserve(total, &format!("these {n} jobs"))?;
		let inputs: Vec<Vec<u8>> = a.inputs.into_iter().map(String::into_bytes).collect();
		let results = match crate::order::order_each(&self.client, &self.signer, &order, &inputs).await {
			Ok(r) => r,
			Err(e) => {
				self.release(total);
				return Err(e);
			},
		};
		let refused = results.iter().filter(|r| r.is_err()).count();
		self.release(max_price.saturating_mul(refused as u128));
		let wait = a.terms.wait.unwrap_or(true);
		// The jobs run side by side on the workers: one wait for them all.
		let until = tokio::time::Instant::now() + self.wait;
		let mut jobs = Vec::with_capacity(n);
		for (i, r) in results.into_iter().enumerate() {
			let ev = match r {
				Ok(ev) => ev,
				Err(e) => {
					jobs.push(serde_json::json!({"input": i, "status": "Refused", "error": format!("{e:#}")}));
					continue;
				},
			};
			let id = ev.job_id;
			let mut v = serde_json::json!({
				"input": i, "job_id": id, "provider": ev.provider.to_string(), "offer_id": ev.offer_id,
				"deadline_block": ev.deadline, "status": "Assigned",
			});
			if wait {
				match tokio::time::timeout_at(until, job::receipted_output(&self.client, id, &self.signer, None)).await {
					Ok(Ok((bytes, kind, j))) => {
						v["status"] = "Receipted".into();
						v["result"] = job::output_value(id, &bytes, &kind, &j);
					},
					Ok(Err(e)) => {
						v["status"] = "Failed".into();
						v["error"] = format!("{e:#}").into();
					},
					Err(_) => v["status"] = "Waiting".into(),
				}
			}
			jobs.push(v);
		}
		Ok(serde_json::json!({
			"ordered": n.saturating_sub(refused),
			"refused": refused,
			"max_price_each": planck_str(max_price),
			"session_committed": planck_str(self.committed()),
			"note": "a job still Assigned or Waiting goes on: call job_status or get_output with its job_id",
			"jobs": jobs,
		}))
	}

	async fn channel_open_call(&self, a: ChannelOpenArg) -> anyhow::Result<serde_json::Value> {
		let to: subxt::utils::AccountId32 =
			a.provider.parse().map_err(|e| anyhow::anyhow!("provider `{}` is not an SS58 address: {e:?}", a.provider))?;
		let value = chain::parse_agr(&a.value)?;
		anyhow::ensure!(value > 0, "value must be above 0");
		self.reserve(value, "this channel")?;
		match agora_client::channel::open(&self.client, &self.signer, to, None, value, a.blocks.unwrap_or(1_200)).await {
			Ok((id, expiration, fee)) => Ok(serde_json::json!({
				"channel_id": id, "provider": a.provider, "value": planck_str(value), "expires_at_block": expiration,
				"fee": planck_str(fee), "session_committed": planck_str(self.committed()),
				"note": "pay requests with channel_request; after expiration, channel_reclaim returns what the provider did not claim",
			})),
			Err(e) => {
				self.release(value);
				Err(e)
			},
		}
	}

	async fn channel_status_call(&self, id: u64) -> anyhow::Result<serde_json::Value> {
		let ch = agora_client::channel::channel(&self.client, id)
			.await?
			.ok_or_else(|| anyhow::anyhow!("no open channel {id} (never opened, or reclaimed)"))?;
		let mut v = serde_json::json!(agora_client::channel::ChannelInfo::from(&ch));
		if ch.signer == self.signer.public_key().0 {
			let signed = crate::paid::signed_total(self.lane_store().await?, &ch)?;
			v["signed_by_this_client"] = planck_str(signed).into();
			v["left_to_sign"] = planck_str(ch.value.saturating_sub(signed)).into();
		}
		v["now"] = View::new(&self.client).finalized_number().await?.into();
		Ok(v)
	}

	async fn channel_request_call(&self, a: ChannelRequestArg) -> anyhow::Result<serde_json::Value> {
		anyhow::ensure!(!a.input.trim().is_empty(), "input is empty: give the prompt or the text to embed");
		let _one_at_a_time = self.paying.lock().await;
		let ch = crate::paid::sender_channel(&self.client, &self.signer, a.channel_id).await?;
		let store = self.lane_store().await?;
		let model = View::new(&self.client).find_model(&a.model).await?;
		if matches!(model.manifest.task, agora_primitives::TaskKind::Embedding) {
			let texts = [a.input];
			let (ans, vectors) = crate::paid::embed(&self.client, store, &self.signer, &ch, &model, &texts).await?;
			crate::paid::answer_value(store, &ch, &ans, serde_json::json!({"embedding": vectors.first()}))
		} else {
			let (ans, text) =
				crate::paid::chat(&self.client, store, &self.signer, &ch, &model, &a.input, a.max_tokens.unwrap_or(64)).await?;
			crate::paid::answer_value(store, &ch, &ans, serde_json::json!({"text": text}))
		}
	}

	async fn channel_dispute_call(&self, a: ChannelDisputeArg) -> anyhow::Result<serde_json::Value> {
		let lane = a.lane.unwrap_or(crate::paid::DEFAULT_LANE);
		let kept = self.lane_store().await?.answer(a.channel_id, lane, a.nonce)?.ok_or_else(|| {
			anyhow::anyhow!(
				"no answer kept for channel {} lane {lane} nonce {}: only answers this client's channel_request received can be disputed",
				a.channel_id,
				a.nonce
			)
		})?;
		let params = gov::params(&self.client).await?;
		let bond = gov::find(&params, "DISPUTE_BOND")?.1.value.max(kept.receipt.price);
		self.reserve(bond, "a dispute's bond")?;
		let served = (kept.receipt.clone(), kept.signature);
		match agora_client::channel::dispute_receipt(&self.client, &self.signer, &served, kept.offer_id, kept.input, kept.output).await {
			Ok((check, fee)) => Ok(serde_json::json!({
				"check_id": check, "channel_id": a.channel_id, "lane": lane, "nonce": a.nonce,
				"bond": planck_str(bond), "fee": planck_str(fee),
				"note": "a committee of validators re-checks the answer from the input and output now on chain; fraud refunds the price and pays you part of the provider's slash, an upheld answer keeps your bond",
			})),
			Err(e) => {
				self.release(bond);
				Err(e)
			},
		}
	}

	async fn lane_store(&self) -> anyhow::Result<&crate::paid::LaneStore> {
		self.lanes.get_or_try_init(|| async { crate::paid::LaneStore::open(&crate::paid::state_dir()) }).await
	}

	async fn dispute_job(&self, id: u64) -> anyhow::Result<serde_json::Value> {
		let view = View::new(&self.client);
		let j = view.job(id).await?.ok_or_else(|| anyhow::anyhow!("job {id} is not on chain"))?;
		anyhow::ensure!(j.receipt.is_some(), "job {id} has no receipt to dispute");
		let params = gov::params(&self.client).await?;
		let bond = gov::find(&params, "DISPUTE_BOND")?.1.value;
		self.reserve(bond, "a dispute's bond")?;
		let call = chain::runtime::transactions().verification().dispute(id);
		if let Err(e) = chain::submit_final(&self.client, &call, &self.signer, "dispute").await {
			self.release(bond);
			return Err(e);
		}
		Ok(serde_json::json!({
			"job_id": id,
			"status": "Disputed",
			"bond": planck_str(bond),
			"note": "a committee of validators re-checks the output against the model; job_status shows the verdict (Fraud: you are refunded and paid part of the slash; Finalized: the receipt stood and the bond is lost)",
		}))
	}
}

#[tool_router]
impl AgoraMcp {
	#[tool(description = "List the AI models registered on the Agora chain: name, id, task (TextGeneration or Embedding), architecture, quantization, active offers and the cheapest base price in planck (1 AGR = 10^12 planck). Start here to find a model name for the other tools.")]
	async fn list_models(&self) -> ToolResult {
		answer(async {
			let rows = market::models_value(&self.client).await?;
			Ok(serde_json::Value::Array(rows.into_iter().map(|(_, v)| v).collect()))
		}
		.await)
	}

	#[tool(description = "List the providers offering a model, best first: offer id, provider account, reputation, ranking (Wilson lower bound), average rating and count, subscribers, finalized and expired jobs, stake, base price and price per 1k tokens (planck), endpoint. A job is assigned by a reputation-weighted random draw among the offers its max_price affords.")]
	async fn list_providers(&self, Parameters(a): Parameters<ModelArg>) -> ToolResult {
		answer(async {
			let sort = a.sort.unwrap_or_else(|| "rank".into());
			let (_, list) = market::providers_value(&self.client, &self.url, &a.model, &sort).await?;
			Ok(serde_json::Value::Array(list))
		}
		.await)
	}

	#[tool(description = "Price a job before ordering it: the cheapest, median and best-ranked price (planck) over the model's active offers for max_tokens output tokens. Errors when no active offer fits.")]
	async fn quote(&self, Parameters(a): Parameters<QuoteArg>) -> ToolResult {
		answer(market::quote_value(&self.client, &self.url, &a.model, a.max_tokens.unwrap_or(64)).await.map(|(_, q)| q))
	}

	#[tool(description = "Order an inference job on chain, paid from this server's account through escrow (or its service pass, with pay_with_pass), and (by default) wait for the provider's signed receipt, fetch the output and check its blake2_256 hash against the receipt. Returns the job id and, when verified, the output: text and its token ids for a generation, a vector for an embedding. The receipt is final after the dispute window unless disputed. Counts max_price against the session's spend limit.")]
	async fn submit_job(&self, Parameters(a): Parameters<SubmitArg>) -> ToolResult {
		answer(self.submit(a).await)
	}

	#[tool(description = "Order many jobs of one model at once, one per input (1 to 1,024), paid from this server's account through escrow (or its service pass, with pay_with_pass). Escrow orders go up to 256 to a transaction (each judged on its own: a refused one is reported with the chain's reason, the others stand), so this is cheaper and faster than calling submit_job for each. By default waits for every job's receipt and returns each verified output, in input order. Counts max_price × inputs against the session's spend limit; refused orders give their share back.")]
	async fn submit_jobs(&self, Parameters(a): Parameters<SubmitManyArg>) -> ToolResult {
		answer(self.submit_many(a).await)
	}

	#[tool(description = "A job's state on chain: status (Assigned, Acknowledged, Receipted, Disputed, Finalized, Expired, Cancelled, Fraud, Unverified, InputMissing), client, provider, max price, receipt (output hash, billed tokens, dispute window end, finalization block) and, once finalized, the payout.")]
	async fn job_status(&self, Parameters(a): Parameters<JobArg>) -> ToolResult {
		answer(job::status_value(&self.client, a.job_id, false).await.map(|(_, v, _)| v))
	}

	#[tool(description = "Fetch a receipted job's output from its provider, as the job's client (outputs are private: only the account that ordered the job may read it), and check its hash against the on-chain receipt. Fails if the provider serves anything else.")]
	async fn get_output(&self, Parameters(a): Parameters<JobArg>) -> ToolResult {
		answer(async {
			let (bytes, kind, j) = job::fetch_output(&self.client, a.job_id, &self.signer).await?;
			Ok(job::output_value(a.job_id, &bytes, &kind, &j))
		}
		.await)
	}

	#[tool(description = "Rate the provider of a finalized job of yours: -1, 0 or 1. Ratings feed the provider's reputation and ranking.")]
	async fn rate(&self, Parameters(a): Parameters<RateArg>) -> ToolResult {
		answer(async {
			anyhow::ensure!((-1..=1).contains(&a.rating), "a rating is -1, 0 or 1, not {}", a.rating);
			let call = chain::runtime::transactions().jobs().rate(a.job_id, a.rating);
			chain::submit_final(&self.client, &call, &self.signer, "rate").await?;
			Ok(serde_json::json!({"job_id": a.job_id, "rating": a.rating, "status": "rated"}))
		}
		.await)
	}

	#[tool(description = "Dispute a receipted job's output within its dispute window, bonding DISPUTE_BOND (counted against the spend limit): validators re-run the model on the committed tokens. Fraud refunds you and pays you a share of the provider's slash; an honest receipt keeps your bond. Use when an output looks wrong or its billed tokens do not match.")]
	async fn dispute(&self, Parameters(a): Parameters<JobArg>) -> ToolResult {
		answer(self.dispute_job(a.job_id).await)
	}

	#[tool(description = "Open a payment channel to one provider: lock AGR once (counted against the spend limit), then pay each channel_request off-chain with a signed voucher, with no transaction per request and answers in milliseconds to seconds. Use for many requests to one provider; submit_job is better for a single job or for on-chain verification by audit. Returns the channel id.")]
	async fn channel_open(&self, Parameters(a): Parameters<ChannelOpenArg>) -> ToolResult {
		answer(self.channel_open_call(a).await)
	}

	#[tool(description = "A payment channel's state: sender, provider, value, what the provider has claimed per lane, its expiration block and the current block, and (for a channel of this account's) what this client has signed in vouchers and what is left to spend.")]
	async fn channel_status(&self, Parameters(a): Parameters<ChannelArg>) -> ToolResult {
		answer(self.channel_status_call(a.channel_id).await)
	}

	#[tool(description = "Send one inference request to a channel's provider, paid by the next voucher (stored durably before it is sent): a chat completion of input for a text-generation model, or the embedding of input for an embedding model. Checks the provider's signed served receipt (its worker key, this voucher, the output's hash and token count). Returns the output, the price paid and what is left in the channel.")]
	async fn channel_request(&self, Parameters(a): Parameters<ChannelRequestArg>) -> ToolResult {
		answer(self.channel_request_call(a).await)
	}

	#[tool(description = "Dispute an answer channel_request received, within SERVED_DISPUTE_WINDOW blocks of it (30 min by default): its served receipt, the request's input and the output go on chain, bonding the larger of DISPUTE_BOND and its price (counted against the spend limit), and a committee of validators re-checks it with the model. Fraud refunds the price out of the provider's bond and pays you part of its slash; an upheld answer keeps your bond. Use when an answer looks wrong.")]
	async fn channel_dispute(&self, Parameters(a): Parameters<ChannelDisputeArg>) -> ToolResult {
		answer(self.channel_dispute_call(a).await)
	}

	#[tool(description = "Close an expired payment channel of this account's: what the provider never claimed comes back to the account (reclaimed), and what it claimed and was not yet paid goes to the provider (paid_provider). Fails before the expiration block (channel_status shows it).")]
	async fn channel_reclaim(&self, Parameters(a): Parameters<ChannelArg>) -> ToolResult {
		answer(async {
			let r = agora_client::channel::reclaim(&self.client, &self.signer, a.channel_id).await?;
			Ok(serde_json::json!({"channel_id": a.channel_id, "reclaimed": planck_str(r.reclaimed), "paid_provider": planck_str(r.paid), "fee": planck_str(r.fee)}))
		}
		.await)
	}

	#[tool(description = "This session's account: its address, free balance, the spend limit and how much of it jobs and disputes have committed so far.")]
	async fn account(&self) -> ToolResult {
		answer(async {
			let who = chain::account(&self.signer);
			let (free, block) = View::new(&self.client).free_balance(&who).await?;
			Ok(serde_json::json!({
				"account": who.to_string(),
				"free": planck_str(free),
				"at_block": block,
				"max_spend": planck_str(self.max_spend),
				"committed": planck_str(self.committed()),
			}))
		}
		.await)
	}
}

#[tool_handler(
	name = "agora",
	instructions = "Agora is a blockchain marketplace for verified AI inference. Find a model with list_models, compare providers with list_providers or quote, then submit_job: it pays through escrow and returns the output once its hash matches the provider's signed receipt. For many requests to one provider, channel_open once and pay each channel_request with an off-chain voucher. Amounts are in planck (1 AGR = 10^12 planck) unless a field says AGR. Rate finalized jobs; dispute outputs that look wrong."
)]
impl ServerHandler for AgoraMcp {}

/// Serves the tools on stdin/stdout until the client closes them.
pub async fn serve(server: AgoraMcp) -> anyhow::Result<()> {
	let service = server.serve(rmcp::transport::stdio()).await?;
	service.waiting().await?;
	Ok(())
}

/// Serves the tools over MCP's Streamable HTTP transport at
/// `http://{listen}/mcp` until Ctrl-C. Every HTTP session shares `server`'s
/// account and spend counter, so `--max-spend` bounds all of them together.
///
/// Only a loopback address is accepted: whoever reaches the port spends from
/// the account, and rmcp refuses requests whose `Host` is not loopback (DNS
/// rebinding).
pub async fn serve_http(server: AgoraMcp, listen: std::net::SocketAddr) -> anyhow::Result<()> {
	use rmcp::transport::streamable_http_server::{
		session::local::LocalSessionManager, StreamableHttpServerConfig, StreamableHttpService,
	};
	anyhow::ensure!(
		listen.ip().is_loopback(),
		"--http {listen}: only a loopback address (127.0.0.1 or [::1]) may serve tools that spend from this account"
	);
	let service = StreamableHttpService::new(
		move || Ok(server.clone()),
		LocalSessionManager::default().into(),
		StreamableHttpServerConfig::default(),
	);
	let router = axum::Router::new().nest_service("/mcp", service);
	let listener = tokio::net::TcpListener::bind(listen)
		.await
		.map_err(|e| anyhow::anyhow!("--http {listen}: cannot listen ({e})"))?;
	tracing::info!(url = %format!("http://{listen}/mcp"), "MCP over Streamable HTTP");
	axum::serve(listener, router)
		.with_graceful_shutdown(async {
			let _ = tokio::signal::ctrl_c().await;
		})
		.await?;
	Ok(())
}

#[cfg(test)]
mod tests {
	#[test]
	fn flattened_job_terms_take_every_json_type() {
		let a: super::SubmitArg = serde_json::from_value(serde_json::json!({
			"model": "m", "input": "i", "by_hash": true, "max_price": "0.05", "max_tokens": 16, "temperature": 1,
			"seed": 7, "wait": false, "pay_with_pass": false, "provider": "p",
		}))
		.unwrap();
		let t = &a.terms;
		assert_eq!((a.by_hash, t.max_price.as_deref(), t.max_tokens, t.temperature), (Some(true), Some("0.05"), Some(16), Some(1.0)));
		assert_eq!((t.seed, t.wait, t.pay_with_pass, t.provider.as_deref()), (Some(7), Some(false), Some(false), Some("p")));
		let m: super::SubmitManyArg = serde_json::from_value(serde_json::json!({"model": "m", "inputs": ["a"]})).unwrap();
		assert!(m.terms.max_price.is_none() && m.terms.wait.is_none() && m.terms.provider.is_none());
		// A string where a number belongs is still refused.
		assert!(serde_json::from_value::<super::SubmitArg>(serde_json::json!({"model": "m", "input": "i", "max_tokens": "many"})).is_err());
	}

	#[test]
	fn every_tool_has_a_schema_and_a_description() {
		let tools = super::AgoraMcp::tool_router().list_all();
		let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
		for want in [
			"list_models", "list_providers", "quote", "submit_job", "submit_jobs", "job_status", "get_output", "rate", "dispute",
			"account", "channel_open", "channel_status", "channel_request", "channel_dispute", "channel_reclaim",
		] {
			assert!(names.contains(&want), "{want} missing from {names:?}");
		}
		for t in &tools {
			assert!(t.description.as_ref().is_some_and(|d| d.len() > 40), "{}", t.name);
			assert_eq!(t.input_schema.get("type").and_then(|v| v.as_str()), Some("object"), "{}", t.name);
		}
		let submit = tools.iter().find(|t| t.name == "submit_job").map(|t| t.input_schema.clone()).unwrap_or_default();
		let required = submit.get("required").cloned().unwrap_or_default();
		assert_eq!(required, serde_json::json!(["model", "input"]), "only model and input are required");
		// The shared job terms are flattened into both tools' own properties,
		// each with its description.
		for (tool, own) in [("submit_job", ["model", "input", "by_hash"]), ("submit_jobs", ["model", "inputs", "inputs"])] {
			let schema = tools.iter().find(|t| t.name == tool).map(|t| t.input_schema.clone()).unwrap_or_default();
			let props = schema.get("properties").and_then(|p| p.as_object()).cloned().unwrap_or_default();
			for field in own.iter().chain(&["max_price", "max_tokens", "temperature", "seed", "wait", "pay_with_pass", "provider"]) {
				let desc = props.get(*field).and_then(|p| p.get("description")).and_then(|d| d.as_str());
				assert!(desc.is_some_and(|d| d.len() > 20), "{tool}.{field}: {props:?}");
			}
		}
	}
}
