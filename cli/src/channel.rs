//! `agora channel …`: payment channels (docs/protocol.md §4.2). A client opens,
//! funds, extends, inspects and reclaims its channels and signs vouchers; a
//! provider claims vouchers in one batch and withdraws what it claimed.
use crate::util::{hex_arg, ss58};
use agora_client::{chain, channel, cli::KeyArgs};
use clap::Subcommand;

#[derive(Subcommand, Debug)]
pub enum ChannelCmd {
	/// Open a channel to a provider: lock funds once, then pay each request
	/// off-chain with a voucher.
	Open {
		#[command(flatten)]
		key: KeyArgs,
		/// The provider's account (SS58).
		#[arg(long)]
		to: String,
		/// AGR, or planck with a `p` suffix.
		#[arg(long)]
		value: String,
		/// Blocks from now until it expires (3 s each; at most 30 days).
		#[arg(long, default_value_t = 28_800)]
		blocks: u32,
		/// The sr25519 public key (hex) that signs vouchers, if not this account's.
		#[arg(long)]
		voucher_key: Option<String>,
	},
	/// Put more funds into a channel.
	Fund {
		#[command(flatten)]
		key: KeyArgs,
		#[arg(long)]
		id: u64,
		/// AGR, or planck with a `p` suffix.
		#[arg(long)]
		amount: String,
	},
	/// Move a channel's expiration later: to `--blocks` from now.
	Extend {
		#[command(flatten)]
		key: KeyArgs,
		#[arg(long)]
		id: u64,
		#[arg(long)]
		blocks: u32,
	},
	/// A channel (`--id`), or every channel the key's account sends or receives.
	Status {
		#[arg(long)]
		id: Option<u64>,
		#[command(flatten)]
		key: KeyArgs,
	},
	/// Close an expired channel: what was never claimed goes back to its
	/// sender, and what was claimed and not yet withdrawn to its provider.
	Reclaim {
		#[command(flatten)]
		key: KeyArgs,
		#[arg(long)]
		id: u64,
	},
	/// Sign a voucher (prints the `x-agora-voucher` header value).
	Voucher {
		#[command(flatten)]
		key: KeyArgs,
		#[arg(long)]
		id: u64,
		#[arg(long, default_value_t = 0)]
		lane: u32,
		/// Above the lane's previous voucher's.
		#[arg(long)]
		nonce: u64,
		/// The lane's total so far (AGR, or planck with a `p` suffix), not this request's price.
		#[arg(long)]
		total: String,
	},
	/// Embed texts with the channel's provider, paid by the next voucher on
	/// lane 0 (signed and stored in the client's state directory before the
	/// request leaves); the worker's served receipt is checked.
	Embed {
		#[command(flatten)]
		key: KeyArgs,
		#[arg(long)]
		id: u64,
		#[arg(long)]
		model: String,
		/// The texts, one vector each.
		#[arg(required = true)]
		texts: Vec<String>,
	},
	/// One chat message to the channel's provider, paid like `embed`; the
	/// voucher pays for up to `--max-tokens`.
	Chat {
		#[command(flatten)]
		key: KeyArgs,
		#[arg(long)]
		id: u64,
		#[arg(long)]
		model: String,
		prompt: String,
		#[arg(long, default_value_t = 64)]
		max_tokens: u32,
	},
	/// Dispute a paid answer (kept in the client's state directory by `embed`
	/// and `chat`): its served receipt, input and output go on chain
	/// (`verification.dispute_receipt`), bonding the larger of `DISPUTE_BOND`
	/// and its price, and a committee re-checks it within `SERVED_DISPUTE_WINDOW`
	/// blocks of the block the receipt names. Fraud refunds the channel's
	/// sender the price and slashes the provider.
	Dispute {
		#[command(flatten)]
		key: KeyArgs,
		#[arg(long)]
		id: u64,
		#[arg(long, default_value_t = 0)]
		lane: u32,
		#[arg(long)]
		nonce: u64,
	},
	/// Claim vouchers (header values) of channels this account receives, in one batch.
	Claim {
		#[command(flatten)]
		key: KeyArgs,
		vouchers: Vec<String>,
	},
	/// Pay out to this account what it has claimed from channels it
	/// receives (a claim secures the vouchers; the funds stay held on the
	/// sender's account until a withdraw, or the channel's close, pays them).
	Withdraw {
		#[command(flatten)]
		key: KeyArgs,
		/// The channels, each once (`--id 3 --id 7`).
		#[arg(long = "id", required = true)]
		ids: Vec<u64>,
	},
}

pub async fn run(client: &chain::Client, cmd: ChannelCmd, json: bool) -> anyhow::Result<()> {
	match cmd {
		ChannelCmd::Open { key, to, value, blocks, voucher_key } => {
			let value = chain::parse_agr(&value)?;
			let voucher_key = voucher_key
				.map(|k| {
					hex_arg(&k, "--voucher-key")?
						.try_into()
						.map_err(|_| anyhow::anyhow!("--voucher-key is not 32 bytes"))
				})
				.transpose()?;
			let (id, expiration, fee) =
				channel::open(client, &key.keypair()?, ss58(&to)?, voucher_key, value, blocks)
					.await?;
			if json {
				outln!(
					"{}",
					serde_json::json!({"id": id, "expiration": expiration, "value": value.to_string(), "fee": fee.to_string()})
				);
			} else {
				outln!(
					"channel {id} open: {} to {to}, claimable until block {expiration}",
					chain::fmt_agr(value)
				);
			}
			Ok(())
		},
		ChannelCmd::Fund { key, id, amount } => {
			let (v, fee) =
				channel::add_funds(client, &key.keypair()?, id, chain::parse_agr(&amount)?).await?;
			if json {
				outln!(
					"{}",
					serde_json::json!({"id": id, "value": v.to_string(), "fee": fee.to_string()})
				);
			} else {
				outln!("channel {id} now holds {} in all", chain::fmt_agr(v));
			}
			Ok(())
		},
		ChannelCmd::Extend { key, id, blocks } => {
			let now = chain::View::new(client).finalized_number().await? as u32;
			let expiration = now
				.checked_add(blocks)
				.ok_or_else(|| anyhow::anyhow!("--blocks is too large"))?;
			let fee = channel::extend(client, &key.keypair()?, id, expiration).await?;
			if json {
				outln!(
					"{}",
					serde_json::json!({"id": id, "expiration": expiration, "fee": fee.to_string()})
				);
			} else {
				outln!("channel {id} claimable until block {expiration}");
			}
			Ok(())
		},
		ChannelCmd::Status { id, key } => {
			let list = match id {
				Some(id) => vec![channel::channel(client, id).await?.ok_or_else(|| {
					anyhow::anyhow!("no open channel {id} (never opened, or reclaimed)")
				})?],
				None => channel::channels_of(client, &chain::account(&key.keypair()?)).await?,
			};
			let list: Vec<channel::ChannelInfo> = list.iter().map(channel::ChannelInfo::from).collect();
			if json {
				outln!("{}", serde_json::json!(list));
			} else {
				if list.is_empty() {
					outln!("no open channels");
				}
				for c in list {
					let value: u128 = c.value.parse().unwrap_or(0);
					let claimed: u128 = c.claimed.parse().unwrap_or(0);
					let paid: u128 = c.paid.parse().unwrap_or(0);
					outln!(
						"channel {}: {} → {}, {} of {} claimed ({} paid out), {} lanes, until block {}",
						c.id,
						c.sender,
						c.recipient,
						chain::fmt_agr(claimed),
						chain::fmt_agr(value),
						chain::fmt_agr(paid),
						c.lanes.len(),
						c.expiration
					);
				}
			}
			Ok(())
		},
		ChannelCmd::Reclaim { key, id } => {
			let r = channel::reclaim(client, &key.keypair()?, id).await?;
			if json {
				outln!(
					"{}",
					serde_json::json!({"id": id, "reclaimed": r.reclaimed.to_string(), "paid": r.paid.to_string(), "fee": r.fee.to_string()})
				);
			} else {
				outln!(
					"channel {id} closed: {} back to its sender, {} paid out to its provider",
					chain::fmt_agr(r.reclaimed),
					chain::fmt_agr(r.paid)
				);
			}
			Ok(())
		},
		ChannelCmd::Voucher { key, id, lane, nonce, total } => {
			let v = channel::sign(&key.keypair()?, id, lane, nonce, chain::parse_agr(&total)?);
			outln!("{}", channel::to_header(&v));
			Ok(())
		},
		ChannelCmd::Embed { key, id, model, texts } => {
			let (signer, ch, store) = paying(client, &key, id).await?;
			let model = chain::View::new(client).find_model(&model).await?;
			let (a, vectors) = crate::paid::embed(client, &store, &signer, &ch, &model, &texts).await?;
			let v = crate::paid::answer_value(&store, &ch, &a, serde_json::json!({"embeddings": vectors}))?;
			if json {
				outln!("{v}");
			} else {
				for (t, vec) in texts.iter().zip(&vectors) {
					outln!("{t}: {} dims, [{:.4}, {:.4}, …]", vec.len(), vec.first().unwrap_or(&0.0), vec.get(1).unwrap_or(&0.0));
				}
				outln!("paid {} (voucher nonce {}); served receipt checked", chain::fmt_agr(a.price), a.voucher.voucher.nonce);
			}
			Ok(())
		},
		ChannelCmd::Chat { key, id, model, prompt, max_tokens } => {
			let (signer, ch, store) = paying(client, &key, id).await?;
			let model = chain::View::new(client).find_model(&model).await?;
			let (a, text) = crate::paid::chat(client, &store, &signer, &ch, &model, &prompt, max_tokens).await?;
			let v = crate::paid::answer_value(&store, &ch, &a, serde_json::json!({"text": text}))?;
			if json {
				outln!("{v}");
			} else {
				outln!("{text}");
				outln!("paid {} (voucher nonce {}); served receipt checked", chain::fmt_agr(a.price), a.voucher.voucher.nonce);
			}
			Ok(())
		},
		ChannelCmd::Dispute { key, id, lane, nonce } => {
			let store = crate::paid::LaneStore::open(&crate::paid::state_dir())?;
			let k = store.answer(id, lane, nonce)?.ok_or_else(|| {
				anyhow::anyhow!("no answer kept for channel {id} lane {lane} nonce {nonce} in {} (answers are forgotten once their dispute window has passed)", crate::paid::state_dir().display())
			})?;
			let (check, fee) = channel::dispute_receipt(
				client,
				&key.keypair()?,
				&(k.receipt.clone(), k.signature),
				k.offer_id,
				k.input,
				k.output,
			)
			.await?;
			if json {
				outln!("{}", serde_json::json!({"check_id": check, "fee": fee.to_string(), "at": k.receipt.at}));
			} else {
				outln!("disputed: committee check {check}; its verdict comes as a JobFraud or AuditPassed event with job_id {check}");
			}
			Ok(())
		},
		ChannelCmd::Claim { key, vouchers } => {
			anyhow::ensure!(!vouchers.is_empty(), "give at least one voucher");
			let v = vouchers
				.iter()
				.map(|s| channel::from_header(s))
				.collect::<anyhow::Result<Vec<_>>>()?;
			let (claimed, fee) = channel::claim(client, &chain::Submitter::new(key.keypair()?), v).await?;
			if json {
				outln!("{}", serde_json::json!({"claimed": claimed, "fee": fee.to_string()}));
			} else {
				let total: u128 = claimed.iter().map(|c| c.amount.parse::<u128>().unwrap_or(0)).sum();
				outln!(
					"claimed {} from {} vouchers (yours; `agora channel withdraw` pays it out, or the channel's close does)",
					chain::fmt_agr(total),
					claimed.len()
				);
			}
			Ok(())
		},
		ChannelCmd::Withdraw { key, ids } => {
			let (paid, fee) =
				channel::withdraw(client, &chain::Submitter::new(key.keypair()?), ids).await?;
			if json {
				let list: Vec<_> = paid
					.iter()
					.map(|(id, amount)| serde_json::json!({"id": id, "amount": amount.to_string()}))
					.collect();
				outln!("{}", serde_json::json!({"withdrawn": list, "fee": fee.to_string()}));
			} else {
				for (id, amount) in paid {
					outln!("channel {id}: {} paid out", chain::fmt_agr(amount));
				}
			}
			Ok(())
		},
	}
}

/// The key, the channel (which must be the key's to send on) and the lane store.
async fn paying(
	client: &chain::Client,
	key: &KeyArgs,
	id: u64,
) -> anyhow::Result<(chain::Keypair, channel::Channel, crate::paid::LaneStore)> {
	let signer = key.keypair()?;
	let ch = crate::paid::sender_channel(client, &signer, id).await?;
	let store = crate::paid::LaneStore::open(&crate::paid::state_dir())?;
	Ok((signer, ch, store))
}
