//! The command line.

/// Sub-commands besides running the node.
#[derive(Debug, clap::Subcommand)]
#[allow(clippy::large_enum_variant)]
pub enum Subcommand {
	/// Key management: generate, inspect and insert keys (e.g. the `agra` session key).
	#[command(subcommand)]
	Key(sc_cli::KeySubcommand),

	/// Build a chain specification (use `export-chain-spec` for new scripts).
	#[deprecated(note = "build-spec will be removed; use export-chain-spec")]
	BuildSpec(sc_cli::BuildSpecCmd),

	/// Export the chain specification.
	ExportChainSpec(sc_cli::ExportChainSpecCmd),

	/// Validate blocks.
	CheckBlock(sc_cli::CheckBlockCmd),

	/// Export blocks.
	ExportBlocks(sc_cli::ExportBlocksCmd),

	/// Export the state of a given block into a chain spec.
	ExportState(sc_cli::ExportStateCmd),

	/// Import blocks.
	ImportBlocks(sc_cli::ImportBlocksCmd),

	/// Remove the whole chain.
	PurgeChain(sc_cli::PurgeChainCmd),

	/// Revert the chain to a previous state.
	Revert(sc_cli::RevertCmd),

	/// Runtime benchmarks (`benchmark pallet` generates the pallets' `weights.rs`).
	/// Only in builds with `--features runtime-benchmarks`.
	#[cfg(feature = "runtime-benchmarks")]
	#[command(subcommand)]
	Benchmark(frame_benchmarking_cli::BenchmarkCmd),

	/// Database metadata.
	ChainInfo(sc_cli::ChainInfoCmd),
}

/// `agora-node`.
#[derive(Debug, clap::Parser)]
pub struct Cli {
	#[command(subcommand)]
	pub subcommand: Option<Subcommand>,

	#[clap(flatten)]
	pub run: sc_cli::RunCmd,

	/// The local verifier (`agora-worker verifier`) this validator's off-chain
	/// worker asks to re-check audited receipts, e.g. `http://127.0.0.1:8800`.
	/// Without it the node's committee seats do not vote (docs/protocol.md §6).
	#[arg(long, value_name = "URL")]
	pub agora_verifier: Option<String>,

	/// Where the node keeps the runtime compiled to machine code (wasmtime's
	/// cache, keyed by the code's hash), so that a restart, or another node on
	/// this machine given the same directory, does not compile the runtime
	/// again (~7 of the ~25 CPU-seconds a debug dev node spends starting).
	/// Default: `wasm-cache` in the chain's data directory.
	#[arg(long, value_name = "DIR", env = "AGORA_WASM_CACHE")]
	pub wasm_cache: Option<std::path::PathBuf>,
}
