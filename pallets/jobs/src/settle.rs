//! Receipts and settlement: accepting a signed receipt, paying a receipted job
//! out, refunding an expired one.
use crate::{pallet::*, types::*};
use agora_pallet_support::DueSet;
use agora_primitives::{
	JobEscrow, JobId, JobStatus, OfferRegistry, ProviderBonds, ReceiptChecks, Receipt, Reputation,
	SlashReason,
};
use alloc::vec::Vec;
use frame_support::pallet_prelude::*;
use frame_system::pallet_prelude::BlockNumberFor;
use sp_runtime::traits::CheckedAdd;

impl<T: Config> Pallet<T> {
	/// [`Pallet::submit_receipt`] after the origin check: verifies the receipt
	/// and its signature, queues its finalization and tells `T::Checks`.
	pub(crate) fn do_submit_receipt(
		job_id: JobId,
		receipt: Receipt<T::AccountId>,
		signature: [u8; 64],
	) -> DispatchResult {
		let mut job = Jobs::<T>::get(job_id).ok_or(Error::<T>::UnknownJob)?;
		ensure!(job.receipt.is_none(), Error::<T>::AlreadyReceipted);
		ensure!(
			matches!(job.status, JobStatus::Assigned | JobStatus::Acknowledged),
			Error::<T>::InvalidState
		);
		let now = frame_system::Pallet::<T>::block_number();
		ensure!(now <= job.deadline, Error::<T>::DeadlinePassed);
		ensure!(
			receipt.job_id == job_id
				&& receipt.model_id == job.model_id
				&& receipt.provider == job.provider
				&& receipt.input_hash == job.input.hash(),
			Error::<T>::ReceiptMismatch
		);
		ensure!(receipt.worker_pubkey == job.worker_key, Error::<T>::WrongWorkerKey);
		ensure!(receipt.output_tokens <= job.params.max_tokens, Error::<T>::TooManyTokens);
		// The receipt names the job's worker key (checked above).
		ensure!(receipt.verify(&signature), Error::<T>::BadSignature);
		let target = now.checked_add(&T::DisputeWindow::get()).ok_or(Error::<T>::Overflow)?;
		// The window is positive (`integrity_test`), so the target is ahead of
		// the finalize cursor (at most the next block).
		let finalize_at = target;
		// Told first (it may refuse the receipt, changing nothing: a call's
		// storage changes are undone when it fails).
		T::Checks::on_receipt(job_id, now, finalize_at)?;
		Self::unqueue_expiry(&job, job_id);
		job.receipt = Some(ReceiptInfo {
			output_hash: receipt.output_hash,
			output_tokens: receipt.output_tokens,
			at: now,
			window_end: target,
			finalize_at,
		});
		let provider = job.provider.clone();
		FinalizeQueue::<T>::schedule(finalize_at, job_id);
		job.status = JobStatus::Receipted;
		Jobs::<T>::insert(job_id, job);
		Self::deposit_event(Event::JobReceipted {
			job_id,
			provider,
			output_hash: receipt.output_hash,
			output_tokens: receipt.output_tokens,
			finalize_at,
		});
		Ok(())
	}

	/// [`Pallet::submit_receipts`] after its checks: each receipt on its own
	/// storage layer (a refused one changes nothing and emits
	/// `ReceiptRefused`); the weight of the batch.
	pub(crate) fn do_submit_receipts(receipts: Vec<(JobId, Receipt<T::AccountId>, [u8; 64])>) -> Weight {
		use crate::weights::WeightInfo;
		let n = receipts.len() as u32;
		for (job_id, receipt, signature) in receipts {
			let r = frame_support::storage::with_storage_layer(|| Self::do_submit_receipt(job_id, receipt, signature));
			if let Err(error) = r {
				Self::deposit_event(Event::ReceiptRefused { job_id, error });
			}
		}
		T::WeightInfo::submit_receipts(n)
	}

	/// Pays a receipted job out and closes it.
	pub(crate) fn do_finalize(job_id: JobId) -> DispatchResult {
		let mut job = Jobs::<T>::get(job_id).ok_or(Error::<T>::UnknownJob)?;
		ensure!(job.status == JobStatus::Receipted, Error::<T>::InvalidState);
		let tokens = job.receipt.as_ref().map(|r| r.output_tokens).unwrap_or(0);
		let charge = Self::price(job.base_price, job.price_per_1k_tokens, tokens)
			.unwrap_or(job.max_price)
			.min(job.max_price);
		let (publisher, royalty_bps) = T::Offers::model(&job.model_id)
			.map(|m| (m.publisher, m.royalty_bps))
			.unwrap_or((job.provider.clone(), 0));
		let s = T::Escrow::settle(job_id, &job.provider, &publisher, royalty_bps, charge)?;
		Self::release_load(&job);
		Self::end_pass(&job, true);
		job.status = JobStatus::Finalized;
		job.charge = Some(charge);
		let provider = job.provider.clone();
		T::Reputation::on_finalized(&job.client, &provider);
		Self::work_off_miss(&job.client);
		Jobs::<T>::insert(job_id, job);
		Self::schedule_prune(job_id);
		Self::deposit_event(Event::JobFinalized {
			job_id,
			provider,
			charge,
			to_provider: s.to_provider,
			fee: s.to_treasury,
			royalty: s.to_publisher,
			refunded: s.refunded,
		});
		Ok(())
	}

	/// Refunds an assigned job that got no receipt, and slashes its provider.
	pub(crate) fn do_expire(job_id: JobId) -> DispatchResult {
		let mut job = Jobs::<T>::get(job_id).ok_or(Error::<T>::UnknownJob)?;
		ensure!(
			matches!(job.status, JobStatus::Assigned | JobStatus::Acknowledged),
			Error::<T>::InvalidState
		);
		let refunded = T::Escrow::refund(job_id)?;
		Self::release_load(&job);
		Self::end_pass(&job, false);
		let slashed = T::Bonds::slash(
			&job.provider,
			SlashReason::MissedDeadline,
			T::MissedDeadlineSlash::get(),
			None,
		)
		.map(|o| o.slashed)
		.unwrap_or_default();
		T::Reputation::on_expiry(&job.provider);
		job.status = JobStatus::Expired;
		let provider = job.provider.clone();
		Jobs::<T>::insert(job_id, job);
		Self::schedule_prune(job_id);
		Self::deposit_event(Event::JobExpired { job_id, provider, refunded, slashed });
		Ok(())
	}

	/// Puts a checked job back on the normal path: `Receipted`, in the finalize
	/// queue at the end of its dispute window or at `from`, whichever is later
	/// (and never behind the finalize cursor).
	pub(crate) fn requeue_finalize(
		job_id: JobId,
		job: &mut JobOf<T>,
		from: BlockNumberFor<T>,
	) -> DispatchResult {
		let receipt = job.receipt.as_mut().ok_or(Error::<T>::InvalidState)?;
		let window_end = receipt.window_end;
		let at = window_end.max(from).max(DueCursors::<T>::get().finalize);
		FinalizeQueue::<T>::schedule(at, job_id);
		receipt.finalize_at = at;
		job.status = JobStatus::Receipted;
		Ok(())
	}
}
