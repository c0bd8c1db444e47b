//! The records `pallet-passes` stores.

use agora_primitives::passes::EpochIndex;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

/// A client's service pass.
#[derive(Clone, PartialEq, Eq, Debug, Default, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo)]
pub struct Pass<Balance, BlockNumber> {
	/// Stake counting towards the quota (held under `PassStake`).
	pub locked: Balance,
	/// Stake on its way out (also held) and the first block it can be
	/// withdrawn in; it no longer counts towards the quota.
	pub unlocking: Option<(Balance, BlockNumber)>,
	/// The epoch `used` counts in; a later epoch starts from 0.
	pub epoch: EpochIndex,
	/// Requests taken in `epoch`.
	pub used: u32,
}

/// An epoch's payout while it is being paid, page by page.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo)]
pub struct Payout<Balance> {
	/// The epoch whose work is paid.
	pub epoch: EpochIndex,
	/// Its new issuance `R`, fixed when the payout started.
	pub reward: Balance,
	/// `ΣC` over its providers.
	pub total: u64,
	/// Minted to providers so far.
	pub paid: Balance,
	/// Providers paid so far.
	pub providers: u32,
}
