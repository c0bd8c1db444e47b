//! Inputs by hash that never arrive (docs/protocol.md §6, "Inputs by hash").
//!
//! A client may order a job by the hash of its input and upload the bytes to the
//! assigned worker afterwards. If it never does, the provider cannot run the job
//! and a committee could not fetch the input either; without a way out the
//! provider would be slashed for an expiry it did not cause. Instead the provider
//! reports the miss once the client's grace is over, the client pays the base
//! price (the capacity it reserved) to the treasury, and nobody is slashed.
//!
//! The charge goes to the treasury, not the provider: only the provider can
//! claim "it never came", so a provider that lied would otherwise be paid for
//! not running the job. Now the lie earns it nothing (running the job earns
//! the price), and costs the client no more than the base price it agreed to
//! (doubled only for its own repeated misses).
//!
//! A provider could still lie out of spite, costing the client the base
//! price. The worker therefore signs an upload receipt
//! ([`agora_primitives::UploadReceipt`]) when it takes the bytes; a client
//! holding one contests the report ([`Pallet::contest_input_missing`]) while
//! the job is kept: the provider's bond pays the charge back, the provider is
//! slashed as for a job it held and never ran, and the client's miss is
//! undone.
use crate::{pallet::*, types::*};
use agora_primitives::{
	rules, JobEscrow, JobId, JobStatus, ProviderBonds, Reputation, SlashReason, UploadReceipt,
};
use frame_support::pallet_prelude::*;
use sp_runtime::SaturatedConversion;

impl<T: Config> Pallet<T> {
	/// [`Pallet::report_input_missing`] after the origin check.
	pub(crate) fn do_report_input_missing(who: T::AccountId, job_id: JobId) -> DispatchResult {
		let mut job = Jobs::<T>::get(job_id).ok_or(Error::<T>::UnknownJob)?;
		ensure!(job.provider == who, Error::<T>::NotProvider);
		ensure!(
			matches!(job.status, JobStatus::Assigned | JobStatus::Acknowledged) && job.receipt.is_none(),
			Error::<T>::InvalidState
		);
		ensure!(matches!(job.input, JobInput::Hash(_)), Error::<T>::InputInline);
		let now = frame_system::Pallet::<T>::block_number();
		ensure!(now <= job.deadline, Error::<T>::DeadlinePassed);
		let from = rules::input_report_from(
			job.submitted_at.saturated_into(),
			job.deadline.saturated_into(),
			T::InputGrace::get().saturated_into(),
		);
		ensure!(now.saturated_into::<u64>() >= from, Error::<T>::InputGraceNotOver);

		let misses = InputMisses::<T>::get(&job.client);
		let charge: BalanceOf<T> = rules::input_missing_charge(
			job.base_price.saturated_into(),
			misses,
			job.max_price.saturated_into(),
		)
		.saturated_into();
		// Nobody in the job earns it: the model never ran, and the provider's
		// claim is its own.
		let refunded = T::Escrow::forfeit(job_id, charge)?;
		Self::unqueue_expiry(&job, job_id);
		Self::release_load(&job);
		InputMisses::<T>::insert(&job.client, misses.saturating_add(1));
		job.status = JobStatus::InputMissing;
		job.charge = Some(charge);
		let client = job.client.clone();
		Jobs::<T>::insert(job_id, job);
		Self::schedule_prune(job_id);
		Self::deposit_event(Event::InputMissing {
			job_id,
			client,
			provider: who,
			charge,
			refunded,
			misses,
		});
		Ok(())
	}

	/// [`Pallet::contest_input_missing`] after the origin check.
	pub(crate) fn do_contest_input_missing(
		who: T::AccountId,
		job_id: JobId,
		signature: [u8; 64],
	) -> DispatchResult {
		let mut job = Jobs::<T>::get(job_id).ok_or(Error::<T>::UnknownJob)?;
		ensure!(job.client == who, Error::<T>::NotClient);
		ensure!(job.status == JobStatus::InputMissing, Error::<T>::NotInputMissing);
		let upload = UploadReceipt { job_id, input_hash: job.input.hash() };
		ensure!(upload.verify(&signature, &job.worker_key), Error::<T>::BadUploadSignature);

		// The client gets its charge back out of the provider's bond (the
		// whole bond if it is smaller), then the provider is slashed as for
		// a job it held and never ran.
		let charge = job.charge.unwrap_or_default();
		let compensated =
			T::Bonds::refund_from_bond(&job.provider, SlashReason::FalseInputReport, charge, who.clone());
		let slashed = T::Bonds::slash(
			&job.provider,
			SlashReason::FalseInputReport,
			T::MissedDeadlineSlash::get(),
			None,
		)
		.map(|o| o.slashed)
		.unwrap_or_default();
		T::Reputation::on_fraud(&job.provider);
		Self::work_off_miss(&who);
		job.status = JobStatus::Fraud;
		let provider = job.provider.clone();
		// Still in the prune queue, where the report put it.
		Jobs::<T>::insert(job_id, job);
		Self::deposit_event(Event::InputReportContested {
			job_id,
			client: who,
			provider,
			compensated,
			slashed,
		});
		Ok(())
	}

	/// A job of `client`'s finalized: one earlier input miss is worked off.
	pub(crate) fn work_off_miss(client: &T::AccountId) {
		InputMisses::<T>::mutate_exists(client, |m| {
			let left = m.unwrap_or(0).saturating_sub(1);
			*m = (left > 0).then_some(left);
		});
	}
}
