//! Service passes (docs/protocol.md §4.3): a client locks stake instead of
//! paying per request; providers are paid from new issuance by the verified
//! work they did. The formulas live here, once, for the runtime, the worker
//! (weighted round-robin) and the economics simulation.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use sp_runtime::helpers_128bit::multiply_by_rational_with_rounding;
use sp_runtime::Rounding;

/// An epoch's index: block `n` is in epoch `n / epoch_length`.
pub type EpochIndex = u32;

/// The epoch block `block` is in (`0` for an epoch length of 0).
pub fn epoch_of(block: u64, epoch_length: u64) -> EpochIndex {
	block.checked_div(epoch_length).map_or(0, |e| EpochIndex::try_from(e).unwrap_or(EpochIndex::MAX))
}

/// Requests per epoch a pass of `locked` stake allows:
/// `min(floor(locked / stake_per_request), max_per_epoch)`; 0 when
/// `stake_per_request` is 0.
pub fn quota(locked: u128, stake_per_request: u128, max_per_epoch: u32) -> u32 {
	let q = locked.checked_div(stake_per_request).unwrap_or(0);
	u32::try_from(q).unwrap_or(u32::MAX).min(max_per_epoch)
}

/// New issuance for one epoch: `floor(floor(issuance × inflation_ppb / 10^9) ×
/// epoch_length / blocks_per_year)`, the annual `INFLATION` spread over the
/// year's epochs; 0 when `blocks_per_year` is 0.
pub fn epoch_reward(issuance: u128, inflation_ppb: u32, epoch_length: u64, blocks_per_year: u64) -> u128 {
	if blocks_per_year == 0 {
		return 0;
	}
	let annual = multiply_by_rational_with_rounding(issuance, u128::from(inflation_ppb), 1_000_000_000, Rounding::Down)
		.unwrap_or(0);
	multiply_by_rational_with_rounding(annual, u128::from(epoch_length), u128::from(blocks_per_year), Rounding::Down)
		.unwrap_or(0)
}

/// The reward an epoch actually mints: `R`, but at most `cap_per_unit` per
/// unit of the epoch's contribution `ΣC` (`PASS_REWARD_CAP`). Without the cap,
/// a thin market pays the whole `R` for a handful of requests, and a provider
/// that sends itself one pass request collects `R / N` (docs/economics.md);
/// with it, each unit of work earns at most the cap, so self-traffic pays only
/// if the cap exceeds `N` × a request's cost to its sender.
pub fn capped_reward(reward: u128, total: u64, cap_per_unit: u128) -> u128 {
	reward.min(cap_per_unit.saturating_mul(u128::from(total)))
}

/// A provider's part of an epoch's reward: `floor(contribution × reward /
/// total)` (`R_k = C_k / ΣC × R`, rounded down; the sum of the parts never
/// exceeds `reward`, and what rounding leaves goes to the treasury). 0 when
/// `total` is 0.
pub fn reward_share(contribution: u128, total: u128, reward: u128) -> u128 {
	if total == 0 {
		return 0;
	}
	multiply_by_rational_with_rounding(contribution, reward, total, Rounding::Down).unwrap_or(0)
}

/// A waiting client's weight in the worker's round-robin: `floor(stake /
/// min_stake)` over the clients waiting, at least 1 (a client whose stake
/// fell below the smallest still waiting is served, rarely, not starved).
pub fn round_robin_weight(stake: u128, min_stake: u128) -> u32 {
	u32::try_from(stake.checked_div(min_stake).unwrap_or(1)).unwrap_or(u32::MAX).max(1)
}

/// A client's pass as the runtime API shows it (`agora_pass` RPC).
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, TypeInfo)]
#[cfg_attr(feature = "std", derive(serde::Serialize, serde::Deserialize))]
pub struct PassView<Balance, BlockNumber> {
	/// Stake counting towards the quota.
	pub locked: Balance,
	/// Stake on its way out, and the block it can be withdrawn from.
	pub unlocking: Option<(Balance, BlockNumber)>,
	/// The current epoch and the block it ends at (the first block of the next).
	pub epoch: EpochIndex,
	pub epoch_ends_at: BlockNumber,
	/// Requests allowed this epoch, already taken, and left.
	pub quota: u32,
	pub used: u32,
	pub remaining: u32,
}

/// One provider's verified pass work in an epoch.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo)]
#[cfg_attr(feature = "std", derive(serde::Serialize, serde::Deserialize))]
pub struct PassWork {
	/// Finalized pass jobs (`Σ_t Σ_j N_processed`).
	pub jobs: u32,
	/// Their contribution `C_k = Σ_t Σ_j N_processed × W_service(j)`.
	pub contribution: u64,
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn quota_is_floor_of_stake_over_price_capped() {
		assert_eq!(quota(0, 10, 100), 0);
		assert_eq!(quota(9, 10, 100), 0);
		assert_eq!(quota(10, 10, 100), 1);
		assert_eq!(quota(59, 10, 100), 5);
		assert_eq!(quota(10_000, 10, 100), 100);
		assert_eq!(quota(u128::MAX, 1, u32::MAX), u32::MAX);
		assert_eq!(quota(100, 0, 100), 0);
	}

	#[test]
	fn epoch_reward_spreads_annual_inflation() {
		// 1,000,000 issued, 5 % a year, 100-block epochs, 10,000 blocks a year:
		// 50,000 a year, 500 an epoch.
		assert_eq!(epoch_reward(1_000_000, 50_000_000, 100, 10_000), 500);
		// Rounding down at both steps: 999 × 5 % = 49.95 → 49; × 1/3 → 16.
		assert_eq!(epoch_reward(999, 50_000_000, 1, 3), 16);
		assert_eq!(epoch_reward(1_000_000, 50_000_000, 100, 0), 0);
		// No overflow at the top of the range.
		assert_eq!(epoch_reward(u128::MAX, 1_000_000_000, 1, 1), u128::MAX);
	}

	#[test]
	fn the_cap_bounds_the_reward_per_unit_of_work() {
		assert_eq!(capped_reward(1_000, 3, 100), 300);
		assert_eq!(capped_reward(1_000, 30, 100), 1_000);
		assert_eq!(capped_reward(1_000, 0, 100), 0);
		assert_eq!(capped_reward(u128::MAX, u64::MAX, u128::MAX), u128::MAX);
	}

	#[test]
	fn reward_shares_round_down_and_never_exceed_the_reward() {
		// C = 1, 2, 4 of 7, R = 100: 14, 28, 57 (99), 1 left for the treasury.
		let parts: alloc::vec::Vec<u128> = [1u128, 2, 4].iter().map(|c| reward_share(*c, 7, 100)).collect();
		assert_eq!(parts, [14, 28, 57]);
		assert_eq!(reward_share(5, 0, 100), 0);
		assert_eq!(reward_share(u128::MAX, u128::MAX, u128::MAX), u128::MAX);
	}

	#[test]
	fn round_robin_weights_follow_stake() {
		assert_eq!(round_robin_weight(100, 100), 1);
		assert_eq!(round_robin_weight(250, 100), 2);
		assert_eq!(round_robin_weight(400, 100), 4);
		assert_eq!(round_robin_weight(50, 100), 1);
		assert_eq!(round_robin_weight(5, 0), 1);
	}
}
