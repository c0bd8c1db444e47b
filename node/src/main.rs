//! `agora-node`: the Agora validator and full node.
//!
//! BABE block production, GRANDPA finality, ParityDB storage, the standard
//! Substrate JSON-RPC and Prometheus metrics.

mod agora_rpc;
mod authoring;
mod babe_equivocation;
mod chain_spec;
mod cli;
mod command;
mod rpc;
mod service;
mod verifier_watch;

fn main() {
	if let Err(e) = command::run() {
		// One line, not a Debug dump: "Error: <what failed and why>".
		eprintln!("Error: {e}");
		std::process::exit(1);
	}
}
