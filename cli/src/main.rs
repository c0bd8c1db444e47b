//! `agora`: the client CLI. Lists models and providers, quotes prices, orders
//! jobs, waits for receipts, fetches outputs from the provider and checks them
//! against the on-chain hash; disputes, payment channels, service passes, staking and governance. One module per
//! command group; it links `agora-client` only, never candle or the kernels.

/// `println!` for the CLI's output: when whoever reads it has gone
/// (`agora gov params | head`), the process ends quietly with status 0, as
/// `head`'s other writers do, instead of panicking on the broken pipe.
macro_rules! outln {
	($($t:tt)*) => { $crate::util::out_line(format_args!($($t)*)) };
}

mod channel;
mod gov;
mod job;
mod market;
mod mcp;
mod order;
mod paid;
mod pass;
mod stake;
mod util;

use agora_client::{
	chain::{self, View},
	cli::{init_logging, KeyArgs},
};
use clap::{Parser, Subcommand};
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
	Model(market::ModelCmd),
	/// Jobs.
	#[command(subcommand)]
	Job(job::JobCmd),
	/// Providers.
	#[command(subcommand)]
	Provider(market::ProviderCmd),
	/// Prices for a job: cheapest, median and best-ranked offer (`agora_quote`).
	Quote {
		#[arg(long)]
		model: String,
		#[arg(long, default_value_t = 64)]
		max_tokens: u32,
	},
	/// Payment channels: open once, pay each request with a voucher, claim in batches.
	#[command(subcommand)]
	Channel(channel::ChannelCmd),
	/// Service passes: lock stake for a quota of requests per epoch.
	#[command(subcommand)]
	Pass(pass::PassCmd),
	/// Governance: the marketplace's parameters and `market_params` referenda.
	#[command(subcommand)]
	Gov(gov::GovCmd),
	/// Staking (NPoS): bond, session keys, validate or nominate, rewards.
	#[command(subcommand)]
	Stake(stake::StakeCmd),
	/// Checks every pallet's invariants on the chain as it is: re-executes the
	/// last finalized block (or block `--at N`) on its parent's state and runs
	/// each pallet's `try_state` (`TryRuntime_execute_block`), then checks at
	/// that block that the total issuance equals Σ (free + reserved) over all
	/// accounts. Needs a node built with the `try-runtime` feature (the test
	/// build); exits non-zero with the failing pallet's message, or the
	/// issuance's difference, otherwise.
	TryState {
		#[arg(long)]
		at: Option<u64>,
	},
	/// Serve the marketplace as MCP tools on stdin/stdout, for AI assistants
	/// and agents (docs/mcp.md): list_models, list_providers, quote,
	/// submit_job, submit_jobs, job_status, get_output, rate, dispute, account.
	Mcp {
		#[command(flatten)]
		key: KeyArgs,
		/// Most this session may commit, in AGR (or planck with a `p` suffix):
		/// each job's max price and each dispute's bond count against it.
		#[arg(long)]
		max_spend: String,
		/// Seconds `submit_job` waits for a verified output before returning
		/// the job id to poll.
		#[arg(long, default_value_t = 120)]
		wait_secs: u64,
		/// Serve MCP's Streamable HTTP transport at http://ADDR/mcp instead of
		/// stdio (a loopback address only, e.g. 127.0.0.1:8090); every HTTP
		/// session shares the one spend limit.
		#[arg(long, value_name = "ADDR")]
		http: Option<std::net::SocketAddr>,
	},
	/// An account's free balance (SS58 address, or the key's account).
	Balance {
		address: Option<String>,
		#[command(flatten)]
		key: KeyArgs,
	},
}

async fn main_async(cli: Cli) -> anyhow::Result<()> {
	let client = chain::connect(&cli.url).await?;
	match cli.cmd {
		Cmd::Provider(c) => market::provider(&client, &cli.url, c, cli.json).await,
		Cmd::Quote { model, max_tokens } => market::quote(&client, &cli.url, &model, max_tokens, cli.json).await,
		Cmd::Model(market::ModelCmd::List) => market::model_list(&client, cli.json).await,
		Cmd::TryState { at } => {
			let (block, weight) = chain::try_state(&client, at).await?;
			let (issuance, accounts) = chain::issuance_check(&client, block).await?;
			if cli.json {
				outln!(
					"{}",
					serde_json::json!({"block": block, "ok": true, "ref_time": weight, "total_issuance": issuance.to_string(), "accounts": accounts})
				);
			} else {
				outln!(
					"block {block}: every pallet's try_state passed; total issuance {} = Σ free + reserved over {accounts} accounts",
					chain::fmt_agr(issuance)
				);
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
				outln!("{}", serde_json::json!({"account": who.to_string(), "free": free.to_string(), "block": block}));
			} else {
				outln!("{who}: {} free at block {block}", chain::fmt_agr(free));
			}
			Ok(())
		},
		Cmd::Job(c) => job::run(&client, c, cli.json).await,
		Cmd::Gov(g) => gov::run(&client, g, cli.json).await,
		Cmd::Stake(c) => stake::run(&client, c, cli.json).await,
		Cmd::Channel(c) => channel::run(&client, c, cli.json).await,
		Cmd::Pass(c) => pass::run(&client, &cli.url, c, cli.json).await,
		Cmd::Mcp { key, max_spend, wait_secs, http } => {
			let server = mcp::AgoraMcp::new(
				client,
				cli.url.clone(),
				key.keypair()?,
				chain::parse_agr(&max_spend)?,
				std::time::Duration::from_secs(wait_secs),
			);
			match http {
				Some(listen) => mcp::serve_http(server, listen).await,
				None => mcp::serve(server).await,
			}
		},
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
