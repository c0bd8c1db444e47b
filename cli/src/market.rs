//! `agora model …`, `agora provider …`, `agora quote`: what is on offer, and
//! a provider's bond.
use crate::util::{provider_tx, rpc, rpc_client, rpc_on};
use agora_client::{
	chain::{self, runtime, Client, View},
	cli::KeyArgs,
	hex0x,
};
use clap::Subcommand;

#[derive(Subcommand, Debug)]
pub enum ModelCmd {
	/// Every registered model, with its active offers and cheapest base price.
	List,
}

#[derive(Subcommand, Debug)]
pub enum ProviderCmd {
	/// The offers for a model with reputation, subscribers, stake and terms
	/// (`agora_providers`), best first.
	List {
		#[arg(long)]
		model: String,
		/// rank (the Wilson lower bound on positive outcomes), price, stake or reputation.
		#[arg(long, default_value = "rank")]
		sort: String,
	},
	/// Bond AGR as a provider (`slashing.bond`, at least `MinProviderStake`),
	/// or add to an existing bond (`slashing.bond_extra`). A bond backs every
	/// offer of the account and is what fraud and missed deadlines slash.
	Bond {
		#[command(flatten)]
		key: KeyArgs,
		/// AGR, or planck with a `p` suffix.
		#[arg(long)]
		amount: String,
	},
	/// Start unbonding AGR (refused while the provider has open jobs); it stays
	/// slashable and can be withdrawn after `UNBONDING_PERIOD` blocks. Offers
	/// pause when the active bond falls below the minimum.
	Unbond {
		#[command(flatten)]
		key: KeyArgs,
		#[arg(long)]
		amount: String,
	},
	/// Withdraw unbonded AGR whose unbonding period is over.
	Withdraw {
		#[command(flatten)]
		key: KeyArgs,
	},
	/// Close one of the account's offers (`models.close_offer`): it takes no
	/// more jobs and its `OfferDeposit` is released. Its worker key stays on
	/// record `OfferRetention` blocks, so the answers it signed can still be
	/// disputed.
	CloseOffer {
		#[command(flatten)]
		key: KeyArgs,
		/// The offer's id (`agora provider list`).
		#[arg(long)]
		id: u64,
	},
}

/// Runs `agora provider …`.
pub async fn provider(client: &Client, url: &str, cmd: ProviderCmd, json: bool) -> anyhow::Result<()> {
	match cmd {
		ProviderCmd::List { model, sort } => provider_list(client, url, &model, &sort, json).await,
		ProviderCmd::Bond { key, amount } => {
			let v = chain::parse_agr(&amount)?;
			let who = chain::account(&key.keypair()?);
			let at = client.at_current_block().await?;
			let bonded = at.storage().entry(runtime::storage().slashing().bonds())?.try_fetch((who,)).await?.is_some();
			if bonded {
				provider_tx(client, url, runtime::tx().slashing().bond_extra(v), &key, "slashing.bond_extra").await
			} else {
				provider_tx(client, url, runtime::tx().slashing().bond(v), &key, "slashing.bond").await
			}
		},
		ProviderCmd::Unbond { key, amount } => {
			let v = chain::parse_agr(&amount)?;
			provider_tx(client, url, runtime::tx().slashing().unbond(v), &key, "slashing.unbond").await
		},
		ProviderCmd::Withdraw { key } =>
			provider_tx(client, url, runtime::tx().slashing().withdraw_unbonded(), &key, "slashing.withdraw_unbonded").await,
		ProviderCmd::CloseOffer { key, id } =>
			provider_tx(client, url, runtime::tx().models().close_offer(id), &key, "models.close_offer").await,
	}
}

/// Every registered model with its active offers and cheapest base price.
pub async fn models_value(client: &Client) -> anyhow::Result<Vec<(chain::ModelInfo, serde_json::Value)>> {
	let view = View::new(client);
	let offers = view.offers().await?;
	let mut rows = vec![];
	for m in view.models().await? {
		let active: Vec<&chain::OfferInfo> =
			offers.iter().filter(|o| o.model_id == m.id && o.active).collect();
		let cheapest = active.iter().map(|o| o.base_price).min();
		let v = serde_json::json!({
			"id": hex0x(&m.id),
			"name": m.name(),
			"task": format!("{:?}", m.manifest.task),
			"architecture": String::from_utf8_lossy(&m.manifest.architecture),
			"quantization": String::from_utf8_lossy(&m.manifest.quantization),
			"deprecated": m.deprecated,
			"active_offers": active.len(),
			"cheapest_base_price": cheapest.map(|p| p.to_string()),
		});
		rows.push((m, v));
	}
	Ok(rows)
}

pub async fn model_list(client: &Client, json: bool) -> anyhow::Result<()> {
	let rows = models_value(client).await?;
	if json {
		outln!("{}", serde_json::Value::Array(rows.into_iter().map(|(_, v)| v).collect()));
		return Ok(());
	}
	for (m, v) in rows {
		outln!(
			"{}  {:<24} {:<15} {:<6} {:<5} offers: {}  cheapest base: {}{}",
			hex0x(&m.id),
			m.name(),
			format!("{:?}", m.manifest.task),
			String::from_utf8_lossy(&m.manifest.architecture),
			String::from_utf8_lossy(&m.manifest.quantization),
			v["active_offers"],
			v["cheapest_base_price"]
				.as_str()
				.and_then(|p| p.parse::<u128>().ok())
				.map(chain::fmt_agr)
				.unwrap_or_else(|| "-".into()),
			if m.deprecated { "  (deprecated)" } else { "" },
		);
	}
	Ok(())
}

/// The offers for `model` as `agora_providers` ranks them by `sort`, each with
/// its provider's pass work this epoch (`agora_pass`, one connection).
pub async fn providers_value(
	client: &Client,
	url: &str,
	model: &str,
	sort: &str,
) -> anyhow::Result<(chain::ModelInfo, Vec<serde_json::Value>)> {
	let m = View::new(client).find_model(model).await?;
	let node = rpc_client(url).await?;
	let mut list: Vec<serde_json::Value> =
		rpc_on(&node, "agora_providers", subxt::rpcs::rpc_params![hex0x(&m.id), sort]).await?;
	for l in list.iter_mut() {
		let who = l["provider"].as_str().unwrap_or_default().to_string();
		let v: serde_json::Value = rpc_on(&node, "agora_pass", subxt::rpcs::rpc_params![who]).await?;
		l["passWork"] = v["work"].clone();
	}
	Ok((m, list))
}

/// A job's cheapest, median and best-ranked price (`agora_quote`); an error
/// when no active offer fits.
pub async fn quote_value(
	client: &Client,
	url: &str,
	model: &str,
	max_tokens: u32,
) -> anyhow::Result<(chain::ModelInfo, serde_json::Value)> {
	let m = View::new(client).find_model(model).await?;
	let q: Option<serde_json::Value> =
		rpc(url, "agora_quote", subxt::rpcs::rpc_params![hex0x(&m.id), max_tokens]).await?;
	match q {
		Some(q) => Ok((m, q)),
		None => anyhow::bail!("no active offer for {} fits", m.name()),
	}
}

pub async fn provider_list(
	client: &Client,
	url: &str,
	model: &str,
	sort: &str,
	json: bool,
) -> anyhow::Result<()> {
	let (m, list) = providers_value(client, url, model, sort).await?;
	if json {
		outln!("{}", serde_json::Value::Array(list));
		return Ok(());
	}
	outln!("{} — offers by {sort}:", m.name());
	for l in &list {
		let p = |k: &str| {
			l[k].as_str()
				.and_then(|s| s.parse::<u128>().ok())
				.map(chain::fmt_agr)
				.unwrap_or_default()
		};
		outln!(
			"  offer {:<3} {}  reputation {:>6.2}  rank {:>5.3}  rating {:>+5.2} ({} ratings)  subscribers {}  jobs {} (expired {})  pass jobs this epoch {}  stake {}  price {} + {} /1k tokens  cap {}  {}{}",
			l["offerId"], l["provider"].as_str().unwrap_or_default(), l["reputation"].as_f64().unwrap_or(0.0),
			l["rankingPpm"].as_f64().unwrap_or(0.0) / 1e6, l["averageRating"].as_f64().unwrap_or(0.0), l["ratings"],
			l["subscribers"], l["finalizedJobs"], l["expiries"], l["passWork"]["jobs"], p("stake"), p("basePrice"), p("pricePer1kTokens"),
			l["capacity"], l["endpoint"].as_str().unwrap_or_default(),
			if l["active"].as_bool().unwrap_or(false) { "" } else { "  (inactive)" },
		);
	}
	Ok(())
}

/// `agora quote`: the cheapest, median and best-ranked price of a job (`agora_quote`).
pub async fn quote(
	client: &Client,
	url: &str,
	model: &str,
	max_tokens: u32,
	json: bool,
) -> anyhow::Result<()> {
	let (m, q) = quote_value(client, url, model, max_tokens).await?;
	match json {
		true => outln!("{q}"),
		false => {
			let p = |v: &serde_json::Value| {
				v.as_str()
					.and_then(|s| s.parse::<u128>().ok())
					.map(chain::fmt_agr)
					.unwrap_or_default()
			};
			outln!(
				"{} with {max_tokens} output tokens, over {} offers: cheapest {} (offer {}), median {}, best-ranked {} (offer {})",
				m.name(), q["offers"], p(&q["cheapest"]["price"]), q["cheapest"]["offerId"], p(&q["median"]),
				p(&q["bestRanked"]["price"]), q["bestRanked"]["offerId"]
			);
		},
	}
	Ok(())
}
