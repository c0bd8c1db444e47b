//! The job market as other pallets see it: [`JobMarket`] for
//! `pallet-verification` (read a receipted job, hold it for a check, close it
//! with the verdict) and [`agora_primitives::OpenJobs`] for `pallet-slashing`.
use crate::{pallet::*, types::*};
use agora_pallet_support::DueSet;
use agora_primitives::{
	AuditInput, AuditJob, JobEscrow, JobId, JobMarket, JobStatus, OfferRegistry, ReceiptedJob,
};
use frame_support::pallet_prelude::*;
use frame_system::pallet_prelude::*;
use sp_runtime::traits::{One, Saturating};

impl<T: Config> Pallet<T> {
	/// Closes a job under a check with no payout: refunds the client in full,
	/// frees the offer's capacity, sets `status`, schedules the prune.
	fn close_refunded(job_id: JobId, status: JobStatus) -> Result<BalanceOf<T>, DispatchError> {
		let mut job = Jobs::<T>::get(job_id).ok_or(Error::<T>::UnknownJob)?;
		ensure!(job.status == JobStatus::Disputed, Error::<T>::InvalidState);
		let refunded = T::Escrow::refund(job_id)?;
		Self::release_load(&job);
		Self::end_pass(&job, false);
		job.status = status;
		Jobs::<T>::insert(job_id, job);
		Self::schedule_prune(job_id);
		Ok(refunded)
	}
}

impl<T: Config> JobMarket<T::AccountId, BalanceOf<T>, BlockNumberFor<T>> for Pallet<T> {
	fn receipted(job_id: JobId) -> Option<ReceiptedJob<T::AccountId, BalanceOf<T>, BlockNumberFor<T>>> {
		let job = Jobs::<T>::get(job_id)?;
		let r = job.receipt?;
		Some(ReceiptedJob {
			provider: job.provider,
			client: job.client,
			max_price: job.max_price,
			status: job.status,
			window_end: r.window_end,
			finalize_at: r.finalize_at,
		})
	}

	fn audit_job(job_id: JobId) -> Option<AuditJob> {
		let job = Jobs::<T>::get(job_id)?;
		let receipt = job.receipt.as_ref()?;
		Some(AuditJob {
			job_id,
			model_id: job.model_id,
			input: match &job.input {
				JobInput::Inline(b) => AuditInput::Inline(b.to_vec()),
				JobInput::Hash(h) => AuditInput::Hash(*h),
			},
			params: job.params,
			job_seed: job.job_seed,
			output_hash: receipt.output_hash,
			output_tokens: receipt.output_tokens,
			endpoint: T::Offers::endpoint(job.offer_id).unwrap_or_default(),
			read_auth: Default::default(),
			output: None,
		})
	}

	fn begin_check(job_id: JobId) -> DispatchResult {
		let mut job = Jobs::<T>::get(job_id).ok_or(Error::<T>::UnknownJob)?;
		ensure!(job.status == JobStatus::Receipted, Error::<T>::InvalidState);
		let finalize_at = job.receipt.as_ref().ok_or(Error::<T>::InvalidState)?.finalize_at;
		FinalizeQueue::<T>::unschedule(finalize_at, &job_id);
		job.status = JobStatus::Disputed;
		Jobs::<T>::insert(job_id, job);
		Ok(())
	}

	fn close_fraud(job_id: JobId) -> Result<BalanceOf<T>, DispatchError> {
		Self::close_refunded(job_id, JobStatus::Fraud)
	}

	fn close_upheld(job_id: JobId) -> DispatchResult {
		let mut job = Jobs::<T>::get(job_id).ok_or(Error::<T>::UnknownJob)?;
		ensure!(job.status == JobStatus::Disputed, Error::<T>::InvalidState);
		let next = frame_system::Pallet::<T>::block_number().saturating_add(One::one());
		Self::requeue_finalize(job_id, &mut job, next)?;
		Jobs::<T>::insert(job_id, job);
		Ok(())
	}

	fn close_unverified(job_id: JobId) -> Result<BalanceOf<T>, DispatchError> {
		Self::close_refunded(job_id, JobStatus::Unverified)
	}
}

impl<T: Config> agora_primitives::OpenJobs<T::AccountId> for Pallet<T> {
	fn open_jobs(who: &T::AccountId) -> u32 {
		ProviderOpenJobs::<T>::get(who)
	}
}
