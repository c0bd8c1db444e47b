//! `agora gov …`: the governed parameters, `market_params` and `root`
//! referenda, deposits, votes and their outcomes.

use agora_client::{chain, cli::KeyArgs, gov, hex0x};
use clap::Subcommand;
use std::path::PathBuf;

#[derive(Subcommand, Debug)]
pub enum GovCmd {
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

fn show_ref(s: &gov::RefStatus, json: bool) {
	if json {
		outln!("{}", serde_json::json!(s));
		return;
	}
	let planck = |v: &Option<String>| {
		v.as_deref()
			.and_then(|v| v.parse::<u128>().ok())
			.map(chain::fmt_agr)
			.unwrap_or_default()
	};
	match s.ended {
		Some(b) => outln!("referendum {}: {} at block {b}", s.index, s.state),
		None => outln!(
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

pub async fn run(client: &chain::Client, cmd: GovCmd, json: bool) -> anyhow::Result<()> {
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
							// As the table below (and the dApp's governance page) writes them.
							"shown": {
								"value": gov::fmt_value(p.value, p.unit), "default": gov::fmt_value(p.default, p.unit),
								"min": gov::fmt_value(p.min, p.unit), "max": gov::fmt_value(p.max, p.unit),
							},
						})
					})
					.collect();
				outln!("{}", serde_json::Value::Array(rows));
			} else {
				for p in all {
					outln!(
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
				outln!(
					"{}",
					serde_json::json!({"referendum": p.index, "param": pname, "value": v.to_string(), "call": hex0x(&p.call), "decision_deposit": p.deposit_placed})
				);
			} else {
				outln!(
					"referendum {} submitted on market_params: set {pname} to {}{}",
					p.index,
					gov::fmt_value(v, info.unit),
					if p.deposit_placed { "; decision deposit placed" } else { "" }
				);
			}
			Ok(())
		},
		GovCmd::ProposeUpgrade { key, wasm, deposit } => {
			let code =
				std::fs::read(&wasm).map_err(|e| anyhow::anyhow!("{}: {e}", wasm.display()))?;
			let p = gov::propose_upgrade(client, &key.keypair()?, code, deposit).await?;
			if json {
				outln!(
					"{}",
					serde_json::json!({"referendum": p.index, "call_hash": hex0x(&p.call), "decision_deposit": p.deposit_placed})
				);
			} else {
				outln!(
					"referendum {} submitted on root: system.set_code (call hash {})",
					p.index,
					hex0x(&p.call)
				);
			}
			Ok(())
		},
		GovCmd::Deposit { key, index } => {
			gov::place_deposit(client, &key.keypair()?, index).await?;
			outln!("referendum {index}: decision deposit placed");
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
			outln!(
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
				(_, true) => outln!(
					"{}",
					serde_json::json!({"referendum": s, "enacted": enacted.as_ref().map(|r| r.is_ok()), "error": enacted.as_ref().and_then(|r| r.clone().err())})
				),
				(Some(Ok(())), false) => outln!("referendum {i}: enacted"),
				(Some(Err(e)), false) => outln!("referendum {i}: enactment failed: {e}"),
				(None, false) => {},
			}
			Ok(())
		},
		GovCmd::Status { index: None, .. } => {
			let n = gov::count(client).await?;
			if n == 0 && !json {
				outln!("no referenda yet");
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
