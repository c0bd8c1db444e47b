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
/// Domain tag of the candidate sample (more fitting offers than a draw weighs).
pub const CANDIDATES_CONTEXT: &[u8; 16] = b"agora/candidates";
/// Domain tag of where a job's read of its model's offers starts.
pub const SCAN_CONTEXT: &[u8; 10] = b"agora/scan";
/// Domain tag of the committee draw.
pub const COMMITTEE_CONTEXT: &[u8; 15] = b"agora/committee";
/// Domain tag of a job's sampling seed.
pub const JOB_SEED_CONTEXT: &[u8; 14] = b"agora/job-seed";
/// Domain tag of one sampling step's Gumbel noise.
pub const SAMPLE_CONTEXT: &[u8; 15] = b"agora/sample/v1";
/// Parts per million: an audit rate of `PPM` draws every receipt.
pub const PPM: u32 = 1_000_000;

/// The hash a receipt commits an input or an output by: `blake2_256(bytes)`.
///
/// An inline input's `input_hash`, every `output_hash`, and the name of an
/// input delivered by hash.
pub fn content_hash(bytes: &[u8]) -> [u8; 32] {
	blake2_256(bytes)
}

/// Whether `signature` is `signer`'s sr25519 signature of `payload`: the one
/// check behind every signed statement the chain accepts (vouchers, job and
/// served receipts).
pub fn sr25519_signed(signature: &[u8; 64], payload: &[u8], signer: &[u8; 32]) -> bool {
	let sig = sp_core::sr25519::Signature::from_raw(*signature);
	let public = sp_core::sr25519::Public::from_raw(*signer);
	sp_io::crypto::sr25519_verify(&sig, payload, &public)
}

/// The first block in which a provider may report a by-hash job's input as
/// never delivered (docs/protocol.md §6, "Inputs by hash"): `grace` blocks after
/// the job was ordered, or halfway to its deadline if that comes sooner, so a
/// provider can always report before the deadline would expire the job.
pub fn input_report_from(submitted_at: u64, deadline: u64, grace: u64) -> u64 {
	let half = deadline.saturating_sub(submitted_at) / 2;
	submitted_at.saturating_add(grace.min(half))
}

/// What a client pays for a by-hash job whose input it never delivered: the
/// base price doubled for each of its earlier misses still counted (at most
/// ×16), never more than the job's escrow.
pub fn input_missing_charge(base_price: u128, misses: u32, max_price: u128) -> u128 {
	base_price.saturating_mul(1u128 << misses.min(4)).min(max_price)
}

/// The surcharge for ordering a job whose deadline falls in a block whose expiry
/// queue already holds `fill` of its `max` jobs: nothing while the queue is less
/// than half full, then `base` doubling every eighth of the queue (×128 for the
/// last slots), and doubling again for every half-queue (`max / 2`) of such
/// upper-half orders still counted in `pressure` ([`queue_pressure`]), at most
/// ×128 more. Squatting a block's deadline costs ever more, and so does
/// squatting block after block: each block's upper half costs twice the last
/// one's while the pressure lasts. All of it is paid to the treasury and never
/// refunded; an order into a block's lower half pays nothing whatever the
/// pressure, so ordinary orders pay nothing.
pub fn queue_surcharge(base: u128, fill: u32, max: u32, pressure: u32) -> u128 {
	if !in_upper_half(fill, max) {
		return 0;
	}
	let (fill, max) = (u64::from(fill), u64::from(max).max(1));
	// `max` is at least 1.
	let steps = (fill.saturating_mul(2).saturating_sub(max)).saturating_mul(8).checked_div(max).unwrap_or(0);
	let pressed = u64::from(pressure).checked_div((max / 2).max(1)).unwrap_or(0);
	base.saturating_mul(1u128 << steps.min(7)).saturating_mul(1u128 << pressed.min(7))
}

/// Whether an order finds its deadline block's queue (`fill` of `max`, a zero
/// `max` counting as one) at least half full, so [`queue_surcharge`] charges it.
pub fn in_upper_half(fill: u32, max: u32) -> bool {
	u64::from(fill).saturating_mul(2) >= u64::from(max).max(1)
}

/// The queue pressure: how many orders went into a block's upper half
/// ([`queue_surcharge`] charged them) lately. `prev`, last raised `elapsed`
/// blocks ago, halves once for every whole `half_life` blocks since.
/// `pallet-jobs` adds one for each upper-half order after decaying it.
pub fn queue_pressure(prev: u32, elapsed: u64, half_life: u64) -> u32 {
	let halvings = elapsed.checked_div(half_life.max(1)).unwrap_or(0);
	// A shift of 32 or more leaves nothing.
	prev.checked_shr(u32::try_from(halvings).unwrap_or(u32::MAX)).unwrap_or(0)
}

/// The sampling seed of a job, fixed when it is assigned:
/// `blake2_256(b"agora/job-seed" ++ SCALE(randomness) ++ SCALE(job_id) ++
/// SCALE(client_seed))`. `randomness` is the including block's VRF output, so
/// neither the provider nor the client picks the noise; the client may still
/// mix in a seed of its own (0 when it has none).
pub fn job_seed<R: Encode>(randomness: &R, job_id: JobId, client_seed: u64) -> [u8; 32] {
	blake2_256(&(JOB_SEED_CONTEXT, randomness, job_id, client_seed).encode())
}

/// The key of sampling step `t`'s noise: `blake2_256(b"agora/sample/v1" ++
/// job_seed ++ SCALE(t as u32))`.
pub fn sample_key(job_seed: &[u8; 32], t: u32) -> [u8; 32] {
	blake2_256(&(SAMPLE_CONTEXT, job_seed, t).encode())
}

/// Step `t`'s public Gumbel noise over a vocabulary of `vocab` tokens
/// (docs/protocol.md §6, "Sampled"): ChaCha20 (`rand_chacha::ChaCha20Rng`,
/// a counter-mode PRNG) keyed by [`sample_key`] yields one `u64` per token in
/// order; `u = ((x >> 11) + ½) / 2⁵³` lies in (0, 1) and `g = −ln(−ln u)`.
/// The token sampled at temperature `T` is `argmax_i(logit_i / T + g_i)`:
/// exactly a draw from `softmax(logit / T)`, and recomputable by anyone.
#[cfg(feature = "std")]
pub fn gumbel_noise(job_seed: &[u8; 32], t: u32, vocab: usize) -> alloc::vec::Vec<f32> {
	use rand_chacha::rand_core::{RngCore, SeedableRng};
	let mut rng = rand_chacha::ChaCha20Rng::from_seed(sample_key(job_seed, t));
	(0..vocab)
		.map(|_| {
			let u = ((rng.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
			(-(-u.ln()).ln()) as f32
		})
		.collect()
}

/// The token sampled from `logits` at `temperature` with step noise `noise`
/// (greedy when `temperature` is 0 or `noise` is `None`): the index of the
/// largest score, the lowest index on a tie. `None` for empty logits.
pub fn pick_token(logits: &[f32], temperature: f32, noise: Option<&[f32]>) -> Option<u32> {
	let mut best: Option<(usize, f32)> = None;
	for (i, &l) in logits.iter().enumerate() {
		let s = score(l, i, temperature, noise);
		if best.is_none_or(|(_, b)| s > b) {
			best = Some((i, s));
		}
	}
	best.map(|(i, _)| i as u32)
}

/// Token `i`'s score: its logit when greedy, `logit / T + g_i` when sampled.
pub fn score(logit: f32, i: usize, temperature: f32, noise: Option<&[f32]>) -> f32 {
	match noise {
		Some(g) if temperature > 0.0 => logit / temperature + g.get(i).copied().unwrap_or(f32::NEG_INFINITY),
		_ => logit,
	}
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

/// The seed of a job's candidate sample: `blake2_256(b"agora/candidates" ++
/// avrf_seed)`.
pub fn candidates_seed(avrf_seed: &[u8; 32]) -> [u8; 32] {
	blake2_256(&(CANDIDATES_CONTEXT, avrf_seed).encode())
}

/// Where a job's read of its model's offer index starts:
/// `u64::from_le_bytes(blake2_256(b"agora/scan" ++ avrf_seed)[..8])`; the
/// first slot read is this modulo the model's offer count ([`scan_slots`]).
pub fn scan_start(avrf_seed: &[u8; 32]) -> u64 {
	let h = blake2_256(&(SCAN_CONTEXT, avrf_seed).encode());
	let mut out = [0u8; 8];
	out.copy_from_slice(h.get(..8).unwrap_or(&[0u8; 8]));
	u64::from_le_bytes(out)
}

/// The slots of a model's offer index a job reads: `min(limit, n)`
/// consecutive slots of `0..n` from `start mod n`, wrapping around. The
/// index has no gaps (`pallet-models` moves the last offer into a closed
/// one's slot), and `start` is uniform ([`scan_start`]), so each slot, and
/// so each offer, is read by exactly `min(limit, n) / n` of the jobs
/// (up to a bias below `n / 2^64`): where an offer sits, and so which id
/// its owner ground for, changes nothing. Offers beyond the first `limit`
/// are not starved, and squatting every read window takes a majority of the
/// model's offers.
pub fn scan_slots(start: u64, n: u32, limit: u32) -> impl Iterator<Item = u32> {
	let first = start.checked_rem(u64::from(n)).unwrap_or(0);
	// `first < n`, so it fits a `u32`.
	let first = u32::try_from(first).unwrap_or(0);
	(0..limit.min(n)).map(move |i| {
		// `first + i < 2n`: reduce once, in u64 so nothing overflows.
		let s = u64::from(first).saturating_add(u64::from(i));
		u32::try_from(s.checked_rem(u64::from(n)).unwrap_or(0)).unwrap_or(0)
	})
}

/// A job's candidates when more offers fit than a draw weighs (`limit`): the
/// [`draw_committee`] partial shuffle of the fitting offers (in offer-index
/// order), seeded by [`candidates_seed`], keeps `limit` of them. Every fitting
/// offer is equally likely to be kept, so no fixed set of offers (the first by
/// hash, say) can be squatted; within the sample the AVRF weighs by reputation.
pub fn sample_candidates<M>(fitting: &mut alloc::vec::Vec<M>, avrf_seed: &[u8; 32], limit: u32) {
	if fitting.len() > usize::try_from(limit).unwrap_or(usize::MAX) {
		draw_committee(fitting, &candidates_seed(avrf_seed), limit);
	}
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
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects, clippy::unwrap_used)]
mod tests {
	use super::*;

	#[test]
	fn scan_start_is_the_documented_hash() {
		let seed = [3u8; 32];
		let h = blake2_256(&[b"agora/scan".as_slice(), &seed].concat());
		assert_eq!(scan_start(&seed).to_le_bytes().as_slice(), &h[..8]);
		assert_ne!(scan_start(&seed), scan_start(&[4u8; 32]));
	}

	#[test]
	fn scan_slots_are_consecutive_and_wrap_around() {
		let v = |start, n, limit| scan_slots(start, n, limit).collect::<Vec<u32>>();
		assert_eq!(v(0, 5, 3), [0, 1, 2]);
		assert_eq!(v(7, 5, 3), [2, 3, 4], "7 mod 5 = 2");
		assert_eq!(v(9, 5, 3), [4, 0, 1], "wraps to slot 0");
		assert_eq!(v(u64::MAX, 5, 9), [0, 1, 2, 3, 4], "never a slot twice; u64::MAX mod 5 = 0");
		assert!(v(3, 0, 4).is_empty(), "no offers, nothing read");
		assert!(v(3, 4, 0).is_empty());
		assert_eq!(v(u64::MAX, u32::MAX, 2), [(u64::MAX % u64::from(u32::MAX)) as u32, (u64::MAX % u64::from(u32::MAX)) as u32 + 1]);
	}

	/// The property the offer index relies on: over the `n` starts, every slot
	/// is read exactly `min(limit, n)` times, so no slot is favoured.
	#[test]
	fn every_slot_is_read_by_the_same_share_of_starts() {
		for n in 1..=12u32 {
			for limit in 0..=14u32 {
				let mut reads = vec![0u32; n as usize];
				for start in 0..u64::from(n) {
					for s in scan_slots(start + 1_000 * u64::from(n), n, limit) {
						reads[s as usize] += 1;
					}
				}
				assert!(reads.iter().all(|r| *r == limit.min(n)), "n {n} limit {limit}: {reads:?}");
			}
		}
	}

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
	fn job_seed_is_the_documented_hash_and_mixes_the_clients() {
		let vrf = [7u8; 32];
		let mut bytes = b"agora/job-seed".to_vec();
		bytes.extend_from_slice(&vrf);
		bytes.extend_from_slice(&5u64.to_le_bytes());
		bytes.extend_from_slice(&77u64.to_le_bytes());
		assert_eq!(job_seed(&vrf, 5, 77), blake2_256(&bytes));
		assert_ne!(job_seed(&vrf, 5, 0), job_seed(&vrf, 5, 1));
		assert_ne!(job_seed(&vrf, 5, 0), job_seed(&[8u8; 32], 5, 0));
		let mut bytes = b"agora/sample/v1".to_vec();
		bytes.extend_from_slice(&[3u8; 32]);
		bytes.extend_from_slice(&9u32.to_le_bytes());
		assert_eq!(sample_key(&[3u8; 32], 9), blake2_256(&bytes));
	}

	#[test]
	fn gumbel_noise_is_reproducible_and_gumbel_distributed() {
		let seed = [1u8; 32];
		let g = gumbel_noise(&seed, 0, 100_000);
		assert_eq!(g, gumbel_noise(&seed, 0, 100_000));
		assert_ne!(g[..8], gumbel_noise(&seed, 1, 8)[..]);
		assert_eq!(g[..8], gumbel_noise(&seed, 0, 8)[..], "a prefix does not depend on the vocabulary size");
		// Gumbel(0, 1): mean = Euler's γ ≈ 0.5772, variance = π²/6 ≈ 1.6449.
		let n = g.len() as f64;
		let mean = g.iter().map(|&x| f64::from(x)).sum::<f64>() / n;
		let var = g.iter().map(|&x| (f64::from(x) - mean).powi(2)).sum::<f64>() / n;
		assert!((mean - 0.5772).abs() < 0.02, "mean {mean}");
		assert!((var - 1.6449).abs() < 0.05, "variance {var}");
		assert!(g.iter().all(|x| x.is_finite()));
	}

	#[test]
	fn gumbel_max_samples_the_softmax() {
		// Logits ln(1), ln(2), ln(3), ln(4) at T = 1: the softmax is 0.1, 0.2, 0.3, 0.4.
		let logits: alloc::vec::Vec<f32> = (1..=4).map(|i| (i as f32).ln()).collect();
		let mut wins = [0u32; 4];
		for t in 0..20_000u32 {
			let g = gumbel_noise(&[9u8; 32], t, 4);
			wins[pick_token(&logits, 1.0, Some(&g)).unwrap() as usize] += 1;
		}
		for (i, w) in wins.iter().enumerate() {
			let expect = 2_000.0 * (i + 1) as f64;
			// ±4 standard deviations of a binomial(20,000, p).
			let sd = (20_000.0 * (expect / 20_000.0) * (1.0 - expect / 20_000.0)).sqrt();
			assert!((f64::from(*w) - expect).abs() < 4.0 * sd, "{wins:?}");
		}
		assert_eq!(pick_token(&logits, 0.0, None), Some(3), "greedy is the argmax");
		assert_eq!(pick_token(&[1.0, 1.0], 0.0, None), Some(0), "a tie goes to the lower index");
		assert_eq!(pick_token(&[], 0.0, None), None);
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

	#[test]
	fn an_input_report_always_fits_before_the_deadline() {
		// The grace when the deadline is far; halfway when it is near.
		assert_eq!(input_report_from(100, 400, 20), 120);
		assert_eq!(input_report_from(100, 110, 20), 105);
		assert_eq!(input_report_from(100, 100, 20), 100);
		for deadline in 100..200 {
			assert!(input_report_from(100, deadline, 20) <= deadline);
		}
	}

	#[test]
	fn repeat_input_misses_pay_more_up_to_the_escrow() {
		assert_eq!(input_missing_charge(10, 0, 1_000), 10);
		assert_eq!(input_missing_charge(10, 1, 1_000), 20);
		assert_eq!(input_missing_charge(10, 4, 1_000), 160);
		assert_eq!(input_missing_charge(10, 9, 1_000), 160);
		assert_eq!(input_missing_charge(10, 3, 50), 50);
		assert_eq!(input_missing_charge(u128::MAX, 4, u128::MAX), u128::MAX);
	}

	#[test]
	fn queue_surcharges_start_at_half_and_double_every_eighth() {
		assert_eq!(queue_surcharge(10, 0, 64, 0), 0);
		assert_eq!(queue_surcharge(10, 31, 64, 0), 0);
		assert_eq!(queue_surcharge(10, 32, 64, 0), 10);
		assert_eq!(queue_surcharge(10, 36, 64, 0), 20);
		assert_eq!(queue_surcharge(10, 63, 64, 0), 1_280);
		assert_eq!(queue_surcharge(10, 64, 64, 0), 1_280);
		let total: u128 = (0..64).map(|f| queue_surcharge(10, f, 64, 0)).sum();
		assert_eq!(total, 4 * (10 + 20 + 40 + 80 + 160 + 320 + 640 + 1_280));
		assert_eq!(queue_surcharge(10, 0, 0, 0), 0, "a zero bound is treated as one slot");
		assert_eq!(queue_surcharge(10, 1, 0, 0), 1_280);
	}

	/// Squatting block after block: each block's upper half costs twice the
	/// last one's while the pressure lasts; a lower-half order never pays.
	#[test]
	fn queue_pressure_doubles_the_upper_half_per_half_queue_of_squats() {
		let upper_half = |p| (32..64).map(|f| queue_surcharge(10, f, 64, p)).sum::<u128>();
		assert_eq!(upper_half(0), 10_200);
		assert_eq!(upper_half(31), 10_200, "less than a half-queue of pressure changes nothing");
		assert_eq!(upper_half(32), 20_400, "one block's upper half squatted: the next costs double");
		assert_eq!(upper_half(64), 40_800);
		assert_eq!(upper_half(7 * 32), 10_200 * 128);
		assert_eq!(upper_half(u32::MAX), 10_200 * 128, "at most ×128 more");
		assert_eq!(queue_surcharge(10, 31, 64, u32::MAX), 0, "the lower half stays free");
		assert_eq!(queue_surcharge(10, 2, 3, 1), 80, "a 3-slot queue: each squat is a half-queue");
		assert_eq!(queue_surcharge(u128::MAX, 63, 64, u32::MAX), u128::MAX, "saturates");
	}

	#[test]
	fn queue_pressure_halves_every_half_life() {
		assert_eq!(queue_pressure(100, 0, 20), 100);
		assert_eq!(queue_pressure(100, 19, 20), 100);
		assert_eq!(queue_pressure(100, 20, 20), 50);
		assert_eq!(queue_pressure(100, 59, 20), 25);
		assert_eq!(queue_pressure(u32::MAX, 31 * 20, 20), 1);
		assert_eq!(queue_pressure(u32::MAX, 32 * 20, 20), 0);
		assert_eq!(queue_pressure(u32::MAX, u64::MAX, 20), 0);
		assert_eq!(queue_pressure(8, 3, 0), 1, "a zero half-life is one block");
	}
}
