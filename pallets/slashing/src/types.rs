//! Types of `pallet-slashing`.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{traits::Get, BoundedVec};
use scale_info::TypeInfo;

/// A part of a bond that is unbonding: it stays held (and slashable) until `until`.
#[derive(
	Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo,
)]
pub struct UnlockChunk<Balance, BlockNumber> {
	/// How much unbonds.
	pub value: Balance,
	/// The block from which it may be withdrawn.
	pub until: BlockNumber,
}

/// A provider's bond. Everything in it is held under `HoldReason::ProviderBond`:
/// held = `active` + the sum of `unlocking`.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, MaxEncodedLen, TypeInfo)]
#[scale_info(skip_type_params(MaxChunks))]
pub struct Bond<Balance, BlockNumber, MaxChunks: Get<u32>> {
	/// The part that backs the provider's offers.
	pub active: Balance,
	/// Parts on their way out, oldest first.
	pub unlocking: BoundedVec<UnlockChunk<Balance, BlockNumber>, MaxChunks>,
}
