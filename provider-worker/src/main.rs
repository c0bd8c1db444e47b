//! `agora-worker`: the provider side of Agora.
//!
//! The worker issue fills this binary with candle inference, the subxt chain
//! client, the output store and the HTTP API. Until then it only reports what it
//! is and which chain identity it is built for, so that a provider can check the
//! binary they installed.
use clap::Parser;

/// The Agora provider worker.
#[derive(Parser, Debug)]
#[command(name = "agora-worker", version, about)]
struct Cli {}

fn main() {
	let _cli = Cli::parse();
	println!("{}", banner());
}

fn banner() -> String {
	format!(
		"agora-worker {}: token {} ({} decimals), SS58 prefix {}",
		env!("CARGO_PKG_VERSION"),
		agora_primitives::TOKEN_SYMBOL,
		agora_primitives::TOKEN_DECIMALS,
		agora_primitives::SS58_PREFIX
	)
}

#[cfg(test)]
mod tests {
	#[test]
	fn banner_names_the_chain_token() {
		let b = super::banner();
		assert!(b.contains("AGR"), "{b}");
		assert!(b.contains("4242"), "{b}");
	}
}
