//! `agora stake …`: bond, session keys, validate, nominate, chill, payouts.
use crate::util::{hex_arg, ss58};
use agora_client::{chain, cli::KeyArgs, stake};
use clap::Subcommand;
use subxt::utils::AccountId32;

#[derive(Subcommand, Debug)]
pub enum StakeCmd {
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

pub async fn run(client: &chain::Client, cmd: StakeCmd, json: bool) -> anyhow::Result<()> {
	match cmd {
		StakeCmd::Status => {
			let s = stake::status(client).await?;
			if json {
				outln!("{}", serde_json::json!(s));
			} else {
				outln!(
					"finalized block {}: session {}, active era {}, planned era {}",
					s.block,
					s.session,
					s.active_era.map(|e| e.to_string()).unwrap_or_else(|| "-".into()),
					s.current_era.map(|e| e.to_string()).unwrap_or_else(|| "-".into())
				);
				outln!("validators ({}):", s.session_validators.len());
				for v in &s.session_validators {
					let pts = s.points.iter().find(|(a, _)| a == v).map(|(_, p)| *p).unwrap_or(0);
					outln!("  {v}  {pts} era points");
				}
				outln!("candidates: {}", s.candidates.len());
				outln!("nominators: {}", s.nominators.len());
				if let Some(r) = &s.last_era_reward {
					let r: u128 = r.parse().unwrap_or(0);
					outln!("last era's validator payout: {}", chain::fmt_agr(r));
				}
			}
			Ok(())
		},
		StakeCmd::Bond { key, amount } => {
			let v = chain::parse_agr(&amount)?;
			stake::bond(client, &key.keypair()?, v).await?;
			outln!("bonded {}", chain::fmt_agr(v));
			Ok(())
		},
		StakeCmd::SetKeys { key, keys, proof } => {
			stake::set_keys(
				client,
				&key.keypair()?,
				&hex_arg(&keys, "--keys")?,
				hex_arg(&proof, "--proof")?,
			)
			.await?;
			outln!("session keys set");
			Ok(())
		},
		StakeCmd::Validate { key, commission } => {
			stake::validate(client, &key.keypair()?, commission).await?;
			outln!("validating from the next era (commission {commission}%)");
			Ok(())
		},
		StakeCmd::Nominate { key, targets } => {
			let t: Vec<AccountId32> =
				targets.iter().map(|a| ss58(a)).collect::<anyhow::Result<_>>()?;
			anyhow::ensure!(!t.is_empty(), "name at least one validator");
			stake::nominate(client, &key.keypair()?, &t).await?;
			outln!("nominating {} validators from the next era", t.len());
			Ok(())
		},
		StakeCmd::Chill { key } => {
			stake::chill(client, &key.keypair()?).await?;
			outln!("chilled: out of the next election");
			Ok(())
		},
		StakeCmd::Payout { key, validator, era } => {
			let p = stake::payout(client, &key.keypair()?, ss58(&validator)?, era).await?;
			if json {
				outln!("{}", serde_json::json!(p));
			} else {
				outln!("era {era}, validator {validator}:");
				for (who, amount) in &p.rewards {
					outln!("  {who} rewarded {}", chain::fmt_agr(amount.parse().unwrap_or(0)));
				}
			}
			Ok(())
		},
	}
}
