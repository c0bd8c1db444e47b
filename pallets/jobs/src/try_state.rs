//! The pallet's invariants (`try_state`).
use crate::pallet::*;
use agora_primitives::{JobEscrow, JobStatus, OfferId, ReceiptChecks};
use frame_support::pallet_prelude::*;
use frame_system::pallet_prelude::BlockNumberFor;
use sp_runtime::traits::{Saturating, Zero};

impl<T: Config> Pallet<T> {
	/// Invariants, checked after every test and by `try-runtime`:
	/// - every open job holds exactly its `max_price` in escrow, finished jobs
	///   hold nothing, and the escrow total equals the sum of open `max_price`s;
	/// - every queued job exists and is in the matching state (finalize:
	///   receipted, in the block its record names; expiry: assigned or
///   acknowledged, counted in `ExpiryFill`; prune: finished), and none
///   behind its queue's cursor;
	/// - `OfferLoad` and `ProviderOpenJobs` equal the open jobs per offer and provider;
	/// - every `Disputed` job is under a check;
	/// - the queue pressure was last raised in a past or the current block.
	#[cfg(any(feature = "try-runtime", feature = "std", test))]
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		use alloc::collections::btree_map::BTreeMap;
		ensure!(
			QueuePressure::<T>::get().0 <= frame_system::Pallet::<T>::block_number(),
			"queue pressure raised in a future block"
		);
		let mut load: BTreeMap<OfferId, u32> = BTreeMap::new();
		let mut open: BTreeMap<T::AccountId, u32> = BTreeMap::new();
		let mut open_sum = BalanceOf::<T>::zero();
		for (id, job) in Jobs::<T>::iter() {
			if job.status.is_open() {
				ensure!(
					T::Escrow::locked(id) == job.max_price,
					"open job's escrow differs from max_price"
				);
				open_sum = open_sum.saturating_add(job.max_price);
				let l = load.entry(job.offer_id).or_default();
				*l = l.saturating_add(1);
				let o = open.entry(job.provider.clone()).or_default();
				*o = o.saturating_add(1);
			} else {
				ensure!(T::Escrow::locked(id).is_zero(), "finished job still holds escrow");
			}
		}
		ensure!(load.into_iter().all(|(o, n)| OfferLoad::<T>::get(o) == n), "OfferLoad is off");
		ensure!(OfferLoad::<T>::iter().all(|(_, n)| n > 0), "zero OfferLoad entry");
		ensure!(
			open.into_iter().all(|(p, n)| ProviderOpenJobs::<T>::get(&p) == n),
			"ProviderOpenJobs is off"
		);
		ensure!(ProviderOpenJobs::<T>::iter().all(|(_, n)| n > 0), "zero ProviderOpenJobs entry");
		let cursors = DueCursors::<T>::get();
		for (b, id, ()) in FinalizeQueue::<T>::iter() {
			ensure!(b >= cursors.finalize, "a finalization is queued behind the finalize cursor");
			let j = Jobs::<T>::get(id);
			ensure!(
				j.as_ref().map(|j| j.status) == Some(JobStatus::Receipted),
				"finalize queue holds a non-receipted job"
			);
			ensure!(
				j.and_then(|j| j.receipt).map(|r| r.finalize_at) == Some(b),
				"a job sits in another block's finalize queue than its record names"
			);
		}
		for (id, job) in Jobs::<T>::iter().filter(|(_, j)| j.status == JobStatus::Receipted) {
			let at = job.receipt.map(|r| r.finalize_at);
			ensure!(
				at.is_some_and(|b| FinalizeQueue::<T>::contains_key(b, id)),
				"a receipted job is in no finalize queue"
			);
		}
		let mut fill: BTreeMap<BlockNumberFor<T>, u32> = BTreeMap::new();
		for (b, id, ()) in ExpiryQueue::<T>::iter() {
			ensure!(b >= cursors.expiry, "an expiry is queued behind the expiry cursor");
			let s = Jobs::<T>::get(id).map(|j| j.status);
			ensure!(
				matches!(s, Some(JobStatus::Assigned | JobStatus::Acknowledged)),
				"expiry queue holds a job that is not awaiting a receipt"
			);
			let f = fill.entry(b).or_default();
			*f = f.saturating_add(1);
		}
		ensure!(
			ExpiryFill::<T>::iter().count() == fill.len()
				&& fill.iter().all(|(b, n)| ExpiryFill::<T>::get(b) == *n && *n <= T::MaxJobsPerBlock::get()),
			"ExpiryFill differs from the expiry queue"
		);
		for (b, id, ()) in PruneQueue::<T>::iter() {
			ensure!(b >= cursors.prune, "a prune is queued behind the prune cursor");
			if let Some(j) = Jobs::<T>::get(id) {
				ensure!(!j.status.is_open(), "prune queue holds an open job");
			}
		}
		// Every `Disputed` job is under a check (`T::Checks`), and has a receipt.
		for (id, job) in Jobs::<T>::iter().filter(|(_, j)| j.status == JobStatus::Disputed) {
			ensure!(T::Checks::under_check(id), "a Disputed job has no check");
			ensure!(job.receipt.is_some(), "a Disputed job has no receipt");
		}
		ensure!(
			T::Escrow::total_locked() == open_sum,
			"escrow holds funds for no open job (total escrow != sum of open max_price)"
		);
		Ok(())
	}
}
