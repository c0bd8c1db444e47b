//! # Agora off-chain logic
//!
//! The `no_std` logic that the Agora pallets' `offchain_worker` hooks call: audit
//! sampling, calls to the local verifier, deadline sweeps. The verification issue
//! fills it; today it holds the sampling primitive those hooks will share.
#![cfg_attr(not(feature = "std"), no_std)]

/// Whether an item is drawn for audit, given 32 bytes of VRF-derived randomness and
/// an audit rate in parts per million.
///
/// The first eight bytes of `random` are read as a little-endian integer and reduced
/// modulo one million; the item is drawn when that is below `rate_ppm`. A rate of
/// 1,000,000 or more always draws, a rate of 0 never does.
pub fn drawn_for_audit(random: &[u8; 32], rate_ppm: u32) -> bool {
	let mut first = [0u8; 8];
	first.copy_from_slice(random.get(..8).unwrap_or(&[0u8; 8]));
	let roll = u64::from_le_bytes(first) % 1_000_000;
	roll < u64::from(rate_ppm)
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn rate_bounds_are_respected() {
		let r = sp_crypto_hashing::blake2_256(b"seed");
		assert!(drawn_for_audit(&r, 1_000_000));
		assert!(!drawn_for_audit(&r, 0));
	}

	#[test]
	fn draw_frequency_tracks_rate() {
		let hits = (0u32..20_000)
			.filter(|i| drawn_for_audit(&sp_crypto_hashing::blake2_256(&i.to_le_bytes()), 250_000))
			.count();
		// 25% of 20,000 = 5,000; allow ±3 standard deviations (~±184).
		assert!((4_800..=5_200).contains(&hits), "hits = {hits}");
	}
}
