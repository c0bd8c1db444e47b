//! Per-block queues: deadlines, finalizations and prunes are bucketed by
//! block, each bucket bounded by `MaxJobsPerBlock`.
use crate::{pallet::*, types::*, weights::WeightInfo};
use agora_primitives::JobId;
use frame_support::pallet_prelude::*;
use frame_system::pallet_prelude::*;
use sp_runtime::traits::{One, Saturating};

impl<T: Config> Pallet<T> {
	/// The block's queued work, in order: finalizations, expiries and prunes,
	/// each bounded by `MaxJobsPerBlock`. Every step runs in its own storage
	/// layer: a step that fails leaves no partial effect, and is retried in a
	/// later block (finalizations) or dropped when there is nothing left to
	/// do (expiries).
	pub(crate) fn do_on_initialize(n: BlockNumberFor<T>) -> Weight {
		use frame_support::storage::with_storage_layer;
		let fin = FinalizeQueue::<T>::take(n);
		let exp = ExpiryQueue::<T>::take(n);
		let prune = PruneQueue::<T>::take(n);
		let (f, e, p) = (fin.len() as u32, exp.len() as u32, prune.len() as u32);
		for id in fin {
			if with_storage_layer(|| Self::do_finalize(id)).is_err() {
				// Keep the job: try again in a later block (it stays Receipted,
				// and anyone may still call `finalize`).
				let next = n.saturating_add(One::one());
				if let Some(b) = Self::free_slot::<FinalizeQueue<T>>(next) {
					let _ = FinalizeQueue::<T>::try_mutate(b, |q| q.try_push(id));
					Jobs::<T>::mutate(id, |j| {
						if let Some(r) = j.as_mut().and_then(|j| j.receipt.as_mut()) {
							r.finalize_at = b;
						}
					});
				}
			}
		}
		for id in exp {
			// Only fails if the job is no longer awaiting a receipt (then there is
			// nothing to expire).
			let _ = with_storage_layer(|| Self::do_expire(id));
		}
		for id in prune {
			Jobs::<T>::remove(id);
			Assignments::<T>::remove(id);
			Self::deposit_event(Event::JobPruned { job_id: id });
		}
		T::WeightInfo::on_initialize(f, e, p)
	}

	/// Blocks searched for a free queue slot.
	pub(crate) const QUEUE_SEARCH: u32 = 16;

	pub(crate) fn expiry_block(job: &JobOf<T>) -> BlockNumberFor<T> {
		job.deadline.saturating_add(One::one())
	}

	/// The first block at or after `from` whose queue has room.
	pub(crate) fn free_slot<Q>(from: BlockNumberFor<T>) -> Option<BlockNumberFor<T>>
	where
		Q: frame_support::storage::StorageMap<
			BlockNumberFor<T>,
			Queue<T::MaxJobsPerBlock>,
			Query = Queue<T::MaxJobsPerBlock>,
		>,
	{
		(0..Self::QUEUE_SEARCH)
			.map(|o| from.saturating_add(o.into()))
			.find(|b| (Q::get(b).len() as u32) < T::MaxJobsPerBlock::get())
	}

	/// Removes `id` from the queue at `at`; whether it was there.
	pub(crate) fn unqueue<Q>(at: BlockNumberFor<T>, id: JobId) -> bool
	where
		Q: frame_support::storage::StorageMap<
			BlockNumberFor<T>,
			Queue<T::MaxJobsPerBlock>,
			Query = Queue<T::MaxJobsPerBlock>,
		>,
	{
		let mut q = Q::get(at);
		let before = q.len();
		q.retain(|x| *x != id);
		let found = q.len() != before;
		if found {
			if q.is_empty() {
				Q::remove(at);
			} else {
				Q::insert(at, q);
			}
		}
		found
	}

	pub(crate) fn schedule_prune(job_id: JobId) {
		let now = frame_system::Pallet::<T>::block_number();
		let at = now.saturating_add(T::Retention::get());
		if let Some(b) = Self::free_slot::<PruneQueue<T>>(at) {
			let _ = PruneQueue::<T>::try_mutate(b, |q| q.try_push(job_id));
		}
		// If every slot is full the job simply stays: pruning is housekeeping.
	}

	pub(crate) fn release_load(job: &JobOf<T>) {
		OfferLoad::<T>::mutate_exists(job.offer_id, |n| {
			let v = n.unwrap_or(0).saturating_sub(1);
			*n = if v == 0 { None } else { Some(v) };
		});
		ProviderOpenJobs::<T>::mutate_exists(&job.provider, |n| {
			let v = n.unwrap_or(0).saturating_sub(1);
			*n = if v == 0 { None } else { Some(v) };
		});
	}
}
