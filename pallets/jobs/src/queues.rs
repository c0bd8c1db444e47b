//! Per-block queues: deadlines, finalizations and prunes are bucketed by
//! block, each bucket bounded by `MaxJobsPerBlock`.
use crate::{pallet::*, weights::WeightInfo};
use agora_pallet_support::BlockQueue;
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
				if let Some(b) = FinalizeQueue::<T>::push_first_free(next, id) {
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

	pub(crate) fn expiry_block(job: &JobOf<T>) -> BlockNumberFor<T> {
		job.deadline.saturating_add(One::one())
	}

	pub(crate) fn schedule_prune(job_id: JobId) {
		let now = frame_system::Pallet::<T>::block_number();
		let at = now.saturating_add(T::Retention::get());
		// If every slot is full the job simply stays: pruning is housekeeping.
		let _ = PruneQueue::<T>::push_first_free(at, job_id);
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

	/// Tells the service passes how a pass job ended: `served` (finalized:
	/// it counts for its provider's reward) or not (cancelled, expired,
	/// fraud, unverified: the client's request comes back while its epoch
	/// lasts). An escrow job tells nothing.
	pub(crate) fn end_pass(job: &JobOf<T>, served: bool) {
		use agora_primitives::{PaymentMode, ServicePasses};
		if job.payment != PaymentMode::Pass {
			return;
		}
		if served {
			T::Passes::on_served(&job.provider, &job.model_id);
		} else {
			T::Passes::return_request(&job.client, job.submitted_at);
		}
	}
}
