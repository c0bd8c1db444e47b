//! `agora pass …`: service passes (docs/protocol.md §4.3): lock stake for a
//! quota of requests per epoch, unlock after a cooldown, and the quota left
//! (`agora_pass`). Pass jobs are ordered with `agora job submit --pass`.
use crate::util::{rpc, simple_tx, ss58};
use agora_client::{
	chain::{self, runtime, Client},
	cli::KeyArgs,
};
use clap::Subcommand;

#[derive(Subcommand, Debug)]
pub enum PassCmd {
	/// Lock AGR in your pass (creating it): each `STAKE_PER_REQUEST` locked
	/// allows one request per epoch, up to `MAX_REQUESTS_PER_EPOCH`.
	Lock {
		#[command(flatten)]
		key: KeyArgs,
		/// AGR, or planck with a `p` suffix.
		#[arg(long)]
		amount: String,
	},
	/// Start unlocking AGR: it leaves the quota at once and can be withdrawn
	/// after `PASS_COOLDOWN` blocks.
	Unlock {
		#[command(flatten)]
		key: KeyArgs,
		#[arg(long)]
		amount: String,
	},
	/// Withdraw unlocked AGR once its cooldown is over.
	Withdraw {
		#[command(flatten)]
		key: KeyArgs,
	},
	/// An epoch's reward payout: `R`, each provider's jobs, contribution and
	/// reward, the treasury's remainder, and what was minted.
	Payout {
		#[arg(long)]
		epoch: u32,
		/// Blocks after the epoch's end to look in.
		#[arg(long, default_value_t = 20)]
		scan: u64,
	},
	/// A pass's stake and the quota left this epoch, and the account's pass
	/// work this epoch as a provider (`agora_pass`).
	Status {
		/// SS58 address (default: the key's account).
		address: Option<String>,
		#[command(flatten)]
		key: KeyArgs,
	},
}

pub async fn run(client: &Client, url: &str, cmd: PassCmd, json: bool) -> anyhow::Result<()> {
	match cmd {
		PassCmd::Lock { key, amount } => {
			let v = chain::parse_agr(&amount)?;
			simple_tx(client, runtime::tx().passes().lock(v), &key, "passes.lock").await
		},
		PassCmd::Unlock { key, amount } => {
			let v = chain::parse_agr(&amount)?;
			simple_tx(client, runtime::tx().passes().unlock(v), &key, "passes.unlock").await
		},
		PassCmd::Withdraw { key } =>
			simple_tx(client, runtime::tx().passes().withdraw_unlocked(), &key, "passes.withdraw_unlocked").await,
		PassCmd::Payout { epoch, scan } => {
			let Some(p) = agora_client::pass::epoch_payout(client, epoch, scan).await? else {
				anyhow::bail!("no finished payout of epoch {epoch} in the {scan} finalized blocks after it ended");
			};
			if json {
				outln!("{}", serde_json::json!(p));
				return Ok(());
			}
			let agr = |s: &str| chain::fmt_agr(s.parse().unwrap_or(0));
			outln!(
				"epoch {}: {} minted in blocks {}–{} over contribution {} (issuance before: {})",
				p.epoch,
				agr(&p.reward),
				p.started_at,
				p.finished_at,
				p.total,
				agr(&p.issuance_before)
			);
			for r in &p.providers {
				outln!("  {}  {} jobs, contribution {}: {}", r.provider, r.jobs, r.contribution, agr(&r.reward));
			}
			outln!("  treasury (rounding): {}", agr(&p.to_treasury));
			Ok(())
		},
		PassCmd::Status { address, key } => {
			let who = match address {
				Some(a) => ss58(&a)?,
				None => chain::account(&key.keypair()?),
			};
			let v: serde_json::Value =
				rpc(url, "agora_pass", subxt::rpcs::rpc_params![who.to_string()]).await?;
			if json {
				outln!("{v}");
				return Ok(());
			}
			let amount = |x: &serde_json::Value| chain::fmt_agr(x.as_str().and_then(|s| s.parse().ok()).unwrap_or(0));
			match v.get("pass").filter(|p| !p.is_null()) {
				Some(p) => {
					outln!(
						"{who}: {} locked; epoch {} (ends at block {}): {} of {} requests left",
						amount(&p["locked"]),
						p["epoch"],
						p["epochEndsAt"],
						p["remaining"],
						p["quota"]
					);
					if let Some(u) = p.get("unlocking").filter(|u| !u.is_null()) {
						outln!("  unlocking {}, withdrawable from block {}", amount(&u["value"]), u["at"]);
					}
				},
				None => outln!("{who}: no pass"),
			}
			let w = &v["work"];
			if w["jobs"].as_u64().unwrap_or(0) > 0 {
				outln!("  as a provider: {} pass jobs this epoch, contribution {}", w["jobs"], w["contribution"]);
			}
			Ok(())
		},
	}
}
