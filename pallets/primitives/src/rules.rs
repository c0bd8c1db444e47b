//! The consensus rules: every hash, seed and random draw that the runtime, the
//! validators' off-chain workers, the provider worker and the verifier must
//! compute alike. Each is defined here once and nowhere else
//! (docs/protocol.md §5 and §6 state them in prose).
//!
//! The signing payloads of receipts and votes live with their types in
//! [`crate::jobs`] ([`crate::Receipt::signing_payload`],
//! [`crate::VotePayload::signing_payload`]).

use crate::JobId;
use codec::Encode;
use sp_crypto_hashing::blake2_256;

/// Domain tag of the AVRF seed (provider assignment).
pub const AVRF_CONTEXT: &[u8; 10] = b"agora/avrf";
/// Domain tag of the audit draw.
pub const AUDIT_CONTEXT: &[u8; 11] = b"agora/audit";
/// Domain tag of the committee draw.
pub const COMMITTEE_CONTEXT: &[u8; 15] = b"agora/committee";
/// Parts per million: an audit rate of `PPM` draws every receipt.
pub const PPM: u32 = 1_000_000;

/// The hash a receipt commits an input or an output by: `blake2_256(bytes)`.
///
/// An inline input's `input_hash`, every `output_hash`, and the name of an
/// input delivered by hash.
pub fn content_hash(bytes: &[u8]) -> [u8; 32] {
	blake2_256(bytes)
}

/// The sampling seed of a job: the client's own `seed`, or the first eight
/// bytes (little endian) of `blake2_256(SCALE(job_id))` when it is 0.
pub fn job_seed(job_id: JobId, seed: u64) -> u64 {
	if seed != 0 {
		return seed;
	}
	first_u64(&blake2_256(&job_id.encode()))
}

/// `blake2_256(context ++ SCALE(randomness) ++ SCALE(job_id))`: the seed of one
/// draw about one job. `randomness` is the BABE VRF output the runtime reads
/// (a 32-byte hash, encoded as its bytes).
fn draw_seed<const N: usize, R: Encode>(
	context: &[u8; N],
	randomness: &R,
	job_id: JobId,
) -> [u8; 32] {
	blake2_256(&(context, randomness, job_id).encode())
}

/// The seed of a job's provider draw: `blake2_256(b"agora/avrf" ++ VRF ++ job_id)`.
pub fn avrf_seed<R: Encode>(randomness: &R, job_id: JobId) -> [u8; 32] {
	draw_seed(AVRF_CONTEXT, randomness, job_id)
}

/// The seed of a receipt's audit draw: `blake2_256(b"agora/audit" ++ VRF ++ job_id)`.
pub fn audit_seed<R: Encode>(randomness: &R, job_id: JobId) -> [u8; 32] {
	draw_seed(AUDIT_CONTEXT, randomness, job_id)
}

/// The seed of a check's committee draw: `blake2_256(b"agora/committee" ++ VRF ++ job_id)`.
pub fn committee_seed<R: Encode>(randomness: &R, job_id: JobId) -> [u8; 32] {
	draw_seed(COMMITTEE_CONTEXT, randomness, job_id)
}

fn first_u64(bytes: &[u8; 32]) -> u64 {
	let mut first = [0u8; 8];
	first.copy_from_slice(bytes.get(..8).unwrap_or(&[0u8; 8]));
	u64::from_le_bytes(first)
}

/// Whether a receipt is drawn for audit, given its [`audit_seed`] and the audit
/// rate in parts per million: the seed's first eight bytes (little endian)
/// modulo one million, below `rate_ppm`. A rate of [`PPM`] or more always
/// draws; 0 never does.
pub fn drawn_for_audit(seed: &[u8; 32], rate_ppm: u32) -> bool {
	first_u64(seed)
		.checked_rem(u64::from(PPM))
		.is_some_and(|roll| roll < u64::from(rate_ppm))
}

/// The roulette-wheel pick of the AVRF: the index of the winner among
/// `weights`, drawing `u128(seed[0..16]) mod Σ weights`. A weight of 0 is never
/// picked unless every weight is 0, when the pick is uniform
/// (`u128(seed[0..16]) mod len`). `None` for no candidates.
pub fn roulette_pick(seed: &[u8; 32], weights: &[u32]) -> Option<usize> {
	if weights.is_empty() {
		return None;
	}
	let mut first = [0u8; 16];
	first.copy_from_slice(seed.get(..16)?);
	let r = u128::from_le_bytes(first);
	let total = weights.iter().fold(0u128, |s, w| s.saturating_add(u128::from(*w)));
	if total == 0 {
		return usize::try_from(r.checked_rem(u128::try_from(weights.len()).ok()?)?).ok();
	}
	let mut point = r.checked_rem(total)?;
	for (i, w) in weights.iter().enumerate() {
		let w = u128::from(*w);
		if point < w {
			return Some(i);
		}
		point = point.saturating_sub(w);
	}
	None
}

/// The committee draw: a partial Fisher–Yates shuffle of `pool` seeded by a
/// [`committee_seed`]. Step `i` swaps position `i` with `i + (u64(h_i[0..8])
/// mod (len − i))`, where `h_i = blake2_256(seed ++ SCALE(i as u32))`. The
/// first `min(size, len)` entries are the committee; `pool` is truncated to them.
pub fn draw_committee<M>(pool: &mut alloc::vec::Vec<M>, seed: &[u8; 32], size: u32) -> usize {
	let k = pool.len().min(usize::try_from(size).unwrap_or(usize::MAX));
	for i in 0..k {
		let Ok(step) = u32::try_from(i) else { break };
		let h = blake2_256(&(seed, step).encode());
		let span = u64::try_from(pool.len().saturating_sub(i)).unwrap_or(u64::MAX);
		let off = first_u64(&h).checked_rem(span).unwrap_or(0);
		pool.swap(i, i.saturating_add(usize::try_from(off).unwrap_or(0)));
	}
	pool.truncate(k);
	k
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
mod tests {
	use super::*;

	#[test]
	fn seeds_are_the_documented_hashes() {
		let vrf = [7u8; 32];
		let mut bytes = b"agora/avrf".to_vec();
		bytes.extend_from_slice(&vrf);
		bytes.extend_from_slice(&9u64.to_le_bytes());
		assert_eq!(avrf_seed(&vrf, 9), blake2_256(&bytes));
		let mut bytes = b"agora/audit".to_vec();
		bytes.extend_from_slice(&vrf);
		bytes.extend_from_slice(&9u64.to_le_bytes());
		assert_eq!(audit_seed(&vrf, 9), blake2_256(&bytes));
		let mut bytes = b"agora/committee".to_vec();
		bytes.extend_from_slice(&vrf);
		bytes.extend_from_slice(&9u64.to_le_bytes());
		assert_eq!(committee_seed(&vrf, 9), blake2_256(&bytes));
	}

	#[test]
	fn job_seed_keeps_the_clients_and_derives_one_otherwise() {
		assert_eq!(job_seed(5, 77), 77);
		assert_eq!(job_seed(5, 0), job_seed(5, 0));
		assert_ne!(job_seed(5, 0), job_seed(6, 0));
		assert_eq!(job_seed(5, 0), first_u64(&blake2_256(&5u64.to_le_bytes())));
	}

	#[test]
	fn audit_rate_bounds_and_frequency() {
		let r = blake2_256(b"seed");
		assert!(drawn_for_audit(&r, PPM));
		assert!(!drawn_for_audit(&r, 0));
		let hits = (0u32..20_000)
			.filter(|i| drawn_for_audit(&blake2_256(&i.to_le_bytes()), 250_000))
			.count();
		// 25 % of 20,000 = 5,000; ±3 standard deviations is ~±184.
		assert!((4_800..=5_200).contains(&hits), "hits = {hits}");
	}

	#[test]
	fn roulette_follows_weights_and_skips_zero() {
		assert_eq!(roulette_pick(&[0; 32], &[]), None);
		let mut wins = [0u32; 3];
		for i in 0u32..9_000 {
			let w = roulette_pick(&blake2_256(&i.to_le_bytes()), &[1, 0, 2]).unwrap_or(9);
			wins[w] += 1;
		}
		assert_eq!(wins[1], 0);
		assert!((2_700..=3_300).contains(&wins[0]), "{wins:?}");
		for i in 0u32..100 {
			assert!(roulette_pick(&blake2_256(&i.to_le_bytes()), &[0, 0]).is_some());
		}
	}

	#[test]
	fn committee_is_distinct_and_bounded() {
		let mut pool: alloc::vec::Vec<u32> = (0..10).collect();
		assert_eq!(draw_committee(&mut pool, &blake2_256(b"x"), 3), 3);
		assert_eq!(pool.len(), 3);
		pool.sort();
		pool.dedup();
		assert_eq!(pool.len(), 3);
		let mut small = alloc::vec![1u32, 2];
		assert_eq!(draw_committee(&mut small, &blake2_256(b"x"), 5), 2);
	}
}
