//! # Agora pallet support
//!
//! FRAME helpers that more than one Agora pallet needs, defined once:
//! - [`BlockQueue`]: a storage map from a block number to a bounded list of ids
//!   (the work a block's `on_initialize` does), with "first block with room"
//!   and "remove this id";
//! - [`DueSet`] and [`drain_due`]: work due at a block kept as a set per block
//!   (a storage double map from the block and an id to `()`), of any size, and
//!   drained by a cursor within a budget of ids and blocks per call, so the
//!   work a hook does stays bounded while the queue's capacity follows what
//!   the blocks can spend on it;
//! - [`block_randomness`]: the including block's VRF randomness for a subject.
//!
//! Consensus rules (hashes, seeds, sampling) live in `agora-primitives`; this
//! crate only holds the storage plumbing that goes with FRAME.
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

use alloc::vec::Vec;
use codec::{FullCodec, FullEncode};
use frame_support::{
	pallet_prelude::*,
	storage::{IterableStorageDoubleMap, StorageDoubleMap, StorageMap},
	traits::Randomness,
};
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

/// Work due at a block: a storage double map from a block number and an id to
/// `()`, a set of ids per block with no bound of its own (each id is put there
/// by a paid call, and [`drain_due`] takes them off within a budget). Adding and
/// removing an id are one write each, whatever the set's size. Implemented for
/// every such map, so a pallet writes `FinalizeQueue::<T>::schedule(at, id)`.
pub trait DueSet<B, I>:
	StorageDoubleMap<B, I, (), Query = Option<()>> + IterableStorageDoubleMap<B, I, ()>
where
	B: FullCodec,
	I: FullCodec,
{
	/// Puts `id` in block `at`'s set.
	fn schedule(at: B, id: I) {
		Self::insert(at, id, ());
	}

	/// Takes `id` out of block `at`'s set; whether it was there.
	fn unschedule(at: B, id: &I) -> bool {
		let found = Self::contains_key(&at, id);
		if found {
			Self::remove(&at, id);
		}
		found
	}

	/// Takes up to `max` ids of block `at`'s set off it, in storage order;
	/// fewer than `max` means none are left there.
	fn take_due(at: B, max: u32) -> Vec<I> {
		let ids: Vec<I> = Self::iter_key_prefix(&at).take(max as usize).collect();
		for id in &ids {
			Self::remove(&at, id);
		}
		ids
	}
}

impl<B, I, Q> DueSet<B, I> for Q
where
	Q: StorageDoubleMap<B, I, (), Query = Option<()>> + IterableStorageDoubleMap<B, I, ()>,
	B: FullCodec,
	I: FullCodec,
{
}

/// Most block sets one [`drain_due`] call reads: a cursor that fell behind
/// (blocks with nothing due still take a read each) catches up this many
/// blocks per block.
pub const MAX_DUE_BLOCKS: u32 = 64;

/// How many steps of weight `per` fit in `budget` (in both time and proof
/// size; a zero component never limits).
pub fn fits(budget: Weight, per: Weight) -> u32 {
	let ratio = |b: u64, p: u64| b.checked_div(p).unwrap_or(u64::MAX);
	let n = ratio(budget.ref_time(), per.ref_time()).min(ratio(budget.proof_size(), per.proof_size()));
	u32::try_from(n).unwrap_or(u32::MAX)
}

/// What one [`drain_due`] call did: ids handed out and block sets read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Drained {
	/// Ids taken off and handed to the step.
	pub ids: u32,
	/// Block sets read (each one storage iteration, empty or not).
	pub blocks: u32,
}

/// Drains the sets of `Q` from block `*cursor` up to, not including, `end`:
/// at most `max_ids` ids and `max_blocks` block sets, each block's ids handed
/// to `step` as one batch after they are taken off. The cursor moves past a
/// block only once its set is empty, so work left over (the budget ran out)
/// waits for the next call, and nothing due is skipped as long as nothing is
/// scheduled behind the cursor (callers schedule at later blocks only).
pub fn drain_due<Q, B, I>(
	cursor: &mut B,
	end: B,
	max_ids: u32,
	max_blocks: u32,
	mut step: impl FnMut(B, Vec<I>),
) -> Drained
where
	Q: DueSet<B, I>,
	B: FullCodec + Copy + PartialOrd + Saturating + From<u32>,
	I: FullCodec,
{
	let mut done = Drained::default();
	while *cursor < end && done.blocks < max_blocks {
		let room = max_ids.saturating_sub(done.ids);
		if room == 0 {
			break;
		}
		done.blocks = done.blocks.saturating_add(1);
		let at = *cursor;
		let ids = Q::take_due(at, room);
		let got = ids.len() as u32;
		done.ids = done.ids.saturating_add(got);
		if got < room {
			*cursor = at.saturating_add(1u32.into());
		}
		if got > 0 {
			step(at, ids);
		}
	}
	done
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

	#[storage_alias]
	type D = StorageDoubleMap<Test, Twox64Concat, u64, Twox64Concat, u64, (), OptionQuery>;

	fn drain(cursor: &mut u64, end: u64, max_ids: u32, max_blocks: u32) -> (Vec<(u64, u64)>, Drained) {
		let mut seen = Vec::new();
		let d = drain_due::<D, _, _>(cursor, end, max_ids, max_blocks, |b, ids| {
			let mut ids = ids;
			ids.sort();
			seen.extend(ids.into_iter().map(|id| (b, id)));
		});
		(seen, d)
	}

	#[test]
	fn due_sets_drain_in_block_order_within_the_budget_and_never_skip() {
		ext(|| {
			for id in 0..5 {
				D::schedule(3, id);
			}
			D::schedule(4, 9);
			D::schedule(7, 8);
			let mut cursor = 2;
			// Three ids allowed: blocks 2 (empty) and 3 (three of five).
			let (seen, d) = drain(&mut cursor, 10, 3, 64);
			assert_eq!(seen.len(), 3);
			assert!(seen.iter().all(|(b, _)| *b == 3));
			assert_eq!(d, Drained { ids: 3, blocks: 2 });
			assert_eq!(cursor, 3, "block 3 still has work: the cursor stays");
			// Block 3's last two, then block 4; block 7 is not due before 6.
			let (seen, d) = drain(&mut cursor, 6, 10, 64);
			assert_eq!(seen.iter().filter(|(b, _)| *b == 3).count(), 2);
			assert_eq!(seen.last(), Some(&(4, 9)));
			assert_eq!(d, Drained { ids: 3, blocks: 3 });
			assert_eq!(cursor, 6);
			assert!(D::contains_key(7, 8));
			// A block limit: one set read per call.
			let (seen, d) = drain(&mut cursor, 10, 10, 1);
			assert!(seen.is_empty());
			assert_eq!((d, cursor), (Drained { ids: 0, blocks: 1 }, 7));
			let (seen, _) = drain(&mut cursor, 10, 10, 1);
			assert_eq!((seen, cursor), (vec![(7, 8)], 8));
			assert_eq!(D::iter().count(), 0, "everything drained is gone");
		});
	}

	#[test]
	fn fits_counts_in_time_and_proof_size() {
		assert_eq!(fits(Weight::from_parts(100, 1_000), Weight::from_parts(30, 100)), 3);
		assert_eq!(fits(Weight::from_parts(100, 250), Weight::from_parts(30, 100)), 2);
		assert_eq!(fits(Weight::from_parts(100, 0), Weight::from_parts(30, 0)), 3);
		assert_eq!(fits(Weight::MAX, Weight::zero()), u32::MAX);
	}

	#[test]
	fn unschedule_takes_one_id_out() {
		ext(|| {
			D::schedule(5, 1);
			D::schedule(5, 2);
			assert!(D::unschedule(5, &1));
			assert!(!D::unschedule(5, &1), "not there any more");
			assert_eq!(D::take_due(5, 10), vec![2]);
			assert!(D::take_due(5, 10).is_empty());
		});
	}

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
