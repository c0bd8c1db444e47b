//! # The Agora chain client
//!
//! What every program that talks to an Agora node shares, and nothing else: it
//! links no inference code (`cargo tree -p agora-client -e normal` has no
//! candle and no kernels), so the `agora` CLI builds without them.
//!
//! - [`chain`]: the subxt layer — types generated from the runtime metadata in
//!   `artifacts/metadata.scale` (`scripts/gen-metadata.sh`), reads at the
//!   finalized head, connection with backoff, keys and signing, job and offer
//!   reads;
//! - [`channel`]: payment channels: open, fund, extend, reclaim, read; vouchers
//!   ([`channel::Payer`]) and their header; batch claims;
//! - [`gov`]: governance: parameters, referenda, votes;
//! - [`pass`]: service passes: an epoch's payout as the chain recorded it;
//! - [`stake`]: staking: bond, keys, validate, nominate, payouts;
//! - [`cli`]: logging and key arguments shared by `agora` and `agora-worker`.
pub mod chain;
pub mod channel;
pub mod cli;
pub mod gov;
pub mod pass;
pub mod stake;

/// A temperature as the chain states it: thousandths, rounded (the grid the
/// verifier checks). Negative or NaN gives 0; bounds are the caller's check
/// (`MAX_TEMPERATURE_MILLI`).
pub fn temperature_milli(t: f64) -> u32 {
	(t * 1000.0).round() as u32
}

/// Hex with a `0x` prefix.
pub fn hex0x(bytes: &[u8]) -> String {
	format!("0x{}", hex::encode(bytes))
}

/// Parses exactly `N` bytes of hex, with or without `0x`.
fn parse_bytes<const N: usize>(s: &str) -> anyhow::Result<[u8; N]> {
	let raw = hex::decode(s.trim_start_matches("0x"))
		.map_err(|e| anyhow::anyhow!("`{s}` is not hex: {e}"))?;
	raw.try_into().map_err(|_| anyhow::anyhow!("`{s}` is not {N} bytes of hex"))
}

/// Parses 32 bytes of hex, with or without `0x`.
pub fn parse_h256(s: &str) -> anyhow::Result<[u8; 32]> {
	parse_bytes(s)
}

/// Parses a 64-byte signature in hex, with or without `0x`.
pub fn parse_sig(s: &str) -> anyhow::Result<[u8; 64]> {
	parse_bytes(s)
}

#[cfg(test)]
mod tests {
	#[test]
	fn h256_parses_with_and_without_prefix() {
		let h = super::hex0x(&[0xab; 32]);
		assert_eq!(super::parse_h256(&h).ok(), Some([0xab; 32]));
		assert_eq!(super::parse_h256(&h[2..]).ok(), Some([0xab; 32]));
		assert!(super::parse_h256("0x1234").is_err());
		assert!(super::parse_h256("zz").is_err());
	}
}
