//! A job's steps between its order and its payout, as the calls in `lib.rs`
//! take them after the origin check: the provider's acknowledgement, the
//! client's cancellation and rating, an early finalization by anyone.
use crate::pallet::*;
use agora_pallet_support::DueSet;
use agora_primitives::{JobEscrow, JobId, JobStatus, Reputation};
use frame_support::pallet_prelude::*;

impl<T: Config> Pallet<T> {
	/// [`Pallet::acknowledge`] after the origin check.
	pub(crate) fn do_acknowledge(who: T::AccountId, job_id: JobId) -> DispatchResult {
		let mut job = Jobs::<T>::get(job_id).ok_or(Error::<T>::UnknownJob)?;
		ensure!(job.provider == who, Error::<T>::NotProvider);
		ensure!(job.status == JobStatus::Assigned, Error::<T>::InvalidState);
		job.status = JobStatus::Acknowledged;
		Jobs::<T>::insert(job_id, job);
		Self::deposit_event(Event::JobAcknowledged { job_id, provider: who });
		Ok(())
	}

	/// [`Pallet::finalize`] after the origin check: finalizes a receipted job
	/// whose window has passed and whose audit draw is done, out of its queue.
	pub(crate) fn do_finalize_due(job_id: JobId) -> DispatchResult {
		let job = Jobs::<T>::get(job_id).ok_or(Error::<T>::UnknownJob)?;
		ensure!(job.status == JobStatus::Receipted, Error::<T>::InvalidState);
		let receipt = job.receipt.as_ref().ok_or(Error::<T>::InvalidState)?;
		let now = frame_system::Pallet::<T>::block_number();
		ensure!(now >= receipt.window_end, Error::<T>::TooEarly);
		ensure!(Self::drawn_through(receipt.finalize_at), Error::<T>::TooEarly);
		FinalizeQueue::<T>::unschedule(receipt.finalize_at, &job_id);
		Self::do_finalize(job_id)
	}

	/// [`Pallet::cancel_job`] after the origin check.
	pub(crate) fn do_cancel(who: T::AccountId, job_id: JobId) -> DispatchResult {
		let mut job = Jobs::<T>::get(job_id).ok_or(Error::<T>::UnknownJob)?;
		ensure!(job.client == who, Error::<T>::NotClient);
		ensure!(job.status == JobStatus::Assigned, Error::<T>::CannotCancel);
		let refunded = T::Escrow::refund(job_id)?;
		Self::unqueue_expiry(&job, job_id);
		Self::release_load(&job);
		Self::end_pass(&job, false);
		job.status = JobStatus::Cancelled;
		Self::schedule_prune(job_id);
		Jobs::<T>::insert(job_id, job);
		Self::deposit_event(Event::JobCancelled { job_id, refunded });
		Ok(())
	}

	/// [`Pallet::rate`] after the origin check.
	pub(crate) fn do_rate(who: T::AccountId, job_id: JobId, rating: i8) -> DispatchResult {
		let mut job = Jobs::<T>::get(job_id).ok_or(Error::<T>::UnknownJob)?;
		ensure!(job.client == who, Error::<T>::NotClient);
		ensure!(job.status == JobStatus::Finalized, Error::<T>::NotFinalized);
		ensure!((-1..=1).contains(&rating), Error::<T>::InvalidRating);
		ensure!(job.rating.is_none(), Error::<T>::AlreadyRated);
		let provider = job.provider.clone();
		// Refuses (changing nothing) a client restricted for review abuse.
		T::Reputation::on_rating(&who, &provider, rating)?;
		job.rating = Some(rating);
		Jobs::<T>::insert(job_id, job);
		Self::deposit_event(Event::JobRated { job_id, client: who, provider, rating });
		Ok(())
	}
}
