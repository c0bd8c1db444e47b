//! # Agora pallet support
//!
//! FRAME helpers that more than one Agora pallet needs, defined once:
//! - [`BlockQueue`]: a storage map from a block number to a bounded list of ids
//!   (the work a block's `on_initialize` does), with "first block with room"
//!   and "remove this id";
//! - [`block_randomness`]: the including block's VRF randomness for a subject.
//!
//! Consensus rules (hashes, seeds, sampling) live in `agora-primitives`; this
//! crate only holds the storage plumbing that goes with FRAME.
#![cfg_attr(not(feature = "std"), no_std)]

use codec::{FullCodec, FullEncode};
use frame_support::{pallet_prelude::*, storage::StorageMap, traits::Randomness};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_runtime::traits::Saturating;

/// Blocks searched for a queue with room before giving up.
pub const QUEUE_SEARCH: u32 = 16;

/// A per-block queue: a storage map from a block number to at most `S` ids.
/// Implemented for every such map, so a pallet writes
/// `FinalizeQueue::<T>::free_slot(from)`.
pub trait BlockQueue<B, I, S>: StorageMap<B, BoundedVec<I, S>, Query = BoundedVec<I, S>>
where
	B: FullEncode + Copy + Saturating + From<u32>,
	I: FullCodec + PartialEq,
	S: Get<u32>,
{
	/// The first block at or after `from` whose queue has room (searching
	/// [`QUEUE_SEARCH`] blocks).
	fn free_slot(from: B) -> Option<B> {
		(0..QUEUE_SEARCH)
			.map(|o| from.saturating_add(o.into()))
			.find(|b| (Self::decode_len(*b).unwrap_or(0) as u32) < S::get())
	}

	/// Adds `id` to the first queue with room at or after `from`; the block it
	/// went to, or `None` (nothing written) if every searched queue is full.
	fn push_first_free(from: B, id: I) -> Option<B> {
		let b = Self::free_slot(from)?;
		Self::try_mutate(b, |q| q.try_push(id)).ok().map(|_| b)
	}

	/// Removes `id` from the queue at `at` (the entry goes when it empties);
	/// whether it was there.
	fn unqueue(at: B, id: &I) -> bool {
		let mut q = Self::get(at);
		let before = q.len();
		q.retain(|x| x != id);
		let found = q.len() != before;
		if found {
			if q.is_empty() {
				Self::remove(at);
			} else {
				Self::insert(at, q);
			}
		}
		found
	}
}

impl<B, I, S, Q> BlockQueue<B, I, S> for Q
where
	Q: StorageMap<B, BoundedVec<I, S>, Query = BoundedVec<I, S>>,
	B: FullEncode + Copy + Saturating + From<u32>,
	I: FullCodec + PartialEq,
	S: Get<u32>,
{
}

/// The including block's randomness for `subject`: the VRF output `R` gives
/// (BABE's, unknown when an extrinsic was signed), or the parent hash where
/// there is none (genesis, tests).
pub fn block_randomness<T, R>(subject: &[u8]) -> T::Hash
where
	T: frame_system::Config,
	R: Randomness<Option<T::Hash>, BlockNumberFor<T>>,
{
	R::random(subject).0.unwrap_or_else(frame_system::Pallet::<T>::parent_hash)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::arithmetic_side_effects)]
mod tests {
	use super::*;
	use frame_support::{storage_alias, traits::ConstU32, Twox64Concat};

	#[storage_alias]
	type Q = StorageMap<Test, Twox64Concat, u64, BoundedVec<u64, ConstU32<2>>, ValueQuery>;

	fn ext(test: impl FnOnce()) {
		sp_io::TestExternalities::default().execute_with(test)
	}

	#[test]
	fn push_goes_to_the_first_block_with_room() {
		ext(|| {
			assert_eq!(Q::push_first_free(10, 1), Some(10));
			assert_eq!(Q::push_first_free(10, 2), Some(10));
			// Block 10 is full (2 of 2): the next id goes to 11.
			assert_eq!(Q::free_slot(10), Some(11));
			assert_eq!(Q::push_first_free(10, 3), Some(11));
			assert_eq!(Q::get(10).into_inner(), vec![1, 2]);
			assert_eq!(Q::get(11).into_inner(), vec![3]);
		});
	}

	#[test]
	fn full_search_window_refuses_and_writes_nothing() {
		ext(|| {
			for b in 0..u64::from(QUEUE_SEARCH) {
				Q::insert(b, BoundedVec::truncate_from(vec![b, b]));
			}
			assert_eq!(Q::free_slot(0), None);
			assert_eq!(Q::push_first_free(0, 99), None);
			assert!((0..u64::from(QUEUE_SEARCH)).all(|b| !Q::get(b).contains(&99)));
			// One block further there is room.
			assert_eq!(Q::free_slot(1), Some(u64::from(QUEUE_SEARCH)));
		});
	}

	#[test]
	fn unqueue_removes_the_id_and_the_empty_entry() {
		ext(|| {
			Q::push_first_free(5, 1);
			Q::push_first_free(5, 2);
			assert!(Q::unqueue(5, &1));
			assert_eq!(Q::get(5).into_inner(), vec![2]);
			assert!(!Q::unqueue(5, &1), "not there any more");
			assert!(Q::unqueue(5, &2));
			assert!(!Q::contains_key(5), "an emptied queue leaves no entry");
			assert!(!Q::unqueue(6, &2), "nothing queued at 6");
		});
	}
}
