//! The channel record `pallet-channels` stores.

use agora_primitives::channels::{LaneId, LaneState};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{BoundedBTreeMap, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound};
use scale_info::TypeInfo;

use crate::{BalanceOf, Config};
use frame_system::pallet_prelude::BlockNumberFor;

/// One payment channel: `sender`'s funds, held on its account, that
/// `recipient` may claim with vouchers signed by `signer`, until `expiration`.
///
/// The lanes live in the record itself (at most `MaxLanes`, only those ever
/// claimed): a claim reads and writes one storage item, not two.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	DebugNoBound,
)]
#[scale_info(skip_type_params(T))]
pub struct Channel<T: Config> {
	/// Who opened and funds it; gets back what is unclaimed at `expiration`.
	pub sender: T::AccountId,
	/// Who may claim (a provider's account).
	pub recipient: T::AccountId,
	/// The sr25519 public key whose signatures make vouchers (the sender's own
	/// account key, or a hot key of the sender's application).
	pub signer: [u8; 32],
	/// Everything the sender put in.
	pub value: BalanceOf<T>,
	/// Everything claimed so far (the sum over the lanes); never above `value`.
	pub claimed: BalanceOf<T>,
	/// Of `claimed`, what has been paid out to the recipient (by `withdraw` or
	/// `reclaim`); never above `claimed`. The rest of `claimed` is the
	/// recipient's but still held on the sender's account, so a claim writes
	/// this record alone and the sender's account is touched once per payout.
	pub paid: BalanceOf<T>,
	/// The first block in which the recipient may no longer claim and the
	/// sender may reclaim.
	pub expiration: BlockNumberFor<T>,
	/// Each claimed lane's last nonce and total.
	pub lanes: BoundedBTreeMap<LaneId, LaneState<BalanceOf<T>>, T::MaxLanes>,
}

impl<T: Config> Channel<T> {
	/// What no voucher has claimed: the sender's again at `expiration`.
	pub fn unclaimed(&self) -> BalanceOf<T> {
		sp_runtime::traits::Saturating::saturating_sub(self.value, self.claimed)
	}

	/// What the recipient has claimed and not yet been paid.
	pub fn owed(&self) -> BalanceOf<T> {
		sp_runtime::traits::Saturating::saturating_sub(self.claimed, self.paid)
	}

	/// The funds held on the sender's account for this channel: the unclaimed
	/// value and what is owed to the recipient.
	pub fn held(&self) -> BalanceOf<T> {
		sp_runtime::traits::Saturating::saturating_sub(self.value, self.paid)
	}
}
