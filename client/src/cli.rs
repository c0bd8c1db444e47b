//! Pieces the two binaries share: logging and key arguments.
use clap::Args;
use std::path::PathBuf;

/// Key selection: a secret URI or a keystore file.
#[derive(Args, Debug, Clone)]
pub struct KeyArgs {
	/// Secret URI of the account: `//Alice` (dev), a mnemonic, or a `0x` seed.
	#[arg(long, env = "AGORA_SURI")]
	pub suri: Option<String>,
	/// A keystore file holding the secret phrase (Substrate keystore format: a JSON string).
	#[arg(long, conflicts_with = "suri")]
	pub keystore: Option<PathBuf>,
}

impl KeyArgs {
	/// The key pair.
	pub fn keypair(&self) -> anyhow::Result<crate::chain::Keypair> {
		crate::chain::keypair(self.suri.as_deref(), self.keystore.as_deref())
	}
}

/// Structured logs on stderr: human-readable, or JSON lines with `json`.
pub fn init_logging(json: bool) {
	let filter = tracing_subscriber::EnvFilter::try_from_default_env()
		.unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
	let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr())
		&& std::env::var_os("NO_COLOR").is_none();
	let b = tracing_subscriber::fmt()
		.with_env_filter(filter)
		.with_ansi(ansi)
		.with_writer(std::io::stderr);
	if json {
		b.json().init();
	} else {
		b.init();
	}
}
