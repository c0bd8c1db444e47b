//! Verdicts and vote deadlines: what a committee's majority (or its absence)
//! does to the job, the provider, the challenger and the non-voters.
use crate::pallet::*;
use agora_pallet_support::BlockQueue;
use agora_primitives::{DisputeBonds, JobId, ProviderBonds, Reputation, SlashReason};
use alloc::vec::Vec;
use frame_support::pallet_prelude::*;
use frame_system::pallet_prelude::*;
use sp_runtime::traits::{Saturating, Zero};

impl<T: Config> Pallet<T> {
	/// Fraud or withholding: the job market refunds the client and closes the
	/// job; the provider is slashed `FraudSlash` (`ChallengerReward` of it to a
	/// challenger, whose bond is returned) and its reputation dropped to the floor.
	pub(crate) fn resolve_fraud(job_id: JobId, audit: AuditOf<T>, reason: SlashReason) -> DispatchResult {
		let job = Self::subject(job_id).ok_or(Error::<T>::UnknownJob)?;
		let refunded = Self::close_subject_fraud(job_id)?;
		if audit.challenger.is_some() {
			T::DisputeBonds::return_bond(job_id)?;
		}
		let reward = audit.challenger.as_ref().map(|(c, _)| (c.clone(), T::ChallengerReward::get()));
		let outcome =
			T::Bonds::slash(&job.provider, reason, T::FraudSlash::get(), reward).unwrap_or_default();
		T::Reputation::on_fraud(&job.provider);
		AuditTimeouts::<T>::unqueue(audit.vote_deadline, &job_id);
		Audits::<T>::remove(job_id);
		Self::deposit_event(Event::JobFraud {
			job_id,
			provider: job.provider,
			reason,
			refunded,
			slashed: outcome.slashed,
			to_challenger: outcome.to_challenger,
		});
		Ok(())
	}

	/// Upheld: a challenger forfeits its bond (`LostBondToProvider` of it to
	/// the provider, the rest to the treasury); the job finalizes as normal.
	pub(crate) fn resolve_honest(job_id: JobId, audit: AuditOf<T>) -> DispatchResult {
		let job = Self::subject(job_id).ok_or(Error::<T>::UnknownJob)?;
		let (to_provider, to_treasury) = if audit.challenger.is_some() {
			T::DisputeBonds::forfeit_bond(job_id, &job.provider, T::LostBondToProvider::get())?
		} else {
			(Zero::zero(), Zero::zero())
		};
		Self::close_subject_upheld(job_id)?;
		AuditTimeouts::<T>::unqueue(audit.vote_deadline, &job_id);
		Audits::<T>::remove(job_id);
		Self::deposit_event(Event::AuditPassed {
			job_id,
			provider: job.provider,
			bond_to_provider: to_provider,
			bond_to_treasury: to_treasury,
		});
		Ok(())
	}

	/// The committee members (index, account) who have not voted.
	fn non_voters(audit: &AuditOf<T>) -> Vec<(usize, T::AccountId)> {
		audit
			.committee
			.iter()
			.enumerate()
			.filter(|(i, _)| !audit.votes.iter().any(|(m, _)| *m as usize == *i))
			.map(|(i, (a, _))| (i, a.clone()))
			.collect()
	}

	/// No verdict, for good: the client is refunded in full, nobody is paid or
	/// slashed, a challenger's bond is returned; the job closes `Unverified`.
	pub(crate) fn end_unverified(job_id: JobId, audit: AuditOf<T>) -> DispatchResult {
		let refunded = Self::close_subject_unverified(job_id)?;
		if audit.challenger.is_some() {
			T::DisputeBonds::return_bond(job_id)?;
		}
		AuditTimeouts::<T>::unqueue(audit.vote_deadline, &job_id);
		let non_voters = Self::non_voters(&audit).into_iter().map(|(_, a)| a).collect();
		Audits::<T>::remove(job_id);
		Self::deposit_event(Event::AuditTimedOut { job_id, non_voters, refunded });
		Ok(())
	}

	/// A check whose vote deadline is `n`, without a majority: every member
	/// who did not vote gets a strike; while `MaxRedraws` allows, each is
	/// replaced by a validator not yet on the committee (and not interested
	/// in the job) and the check gets `VoteTimeout` more blocks; after that
	/// it ends `Unverified` ([`Self::end_unverified`]). A receipt is never
	/// paid for want of votes.
	pub(crate) fn do_audit_timeout(job_id: JobId, n: BlockNumberFor<T>) -> DispatchResult {
		let Some(mut audit) = Audits::<T>::get(job_id) else {
			return Ok(());
		};
		let job = Self::subject(job_id).ok_or(Error::<T>::UnknownJob)?;
		let missing = Self::non_voters(&audit);
		let mut reported = Vec::new();
		for (_, who) in &missing {
			let strikes = Strikes::<T>::mutate(who, |s| {
				*s = s.saturating_add(1);
				*s
			});
			Self::deposit_event(Event::MemberStruck { validator: who.clone(), strikes });
			if strikes >= T::StrikeThreshold::get().max(1) {
				Strikes::<T>::remove(who);
				reported.push(who.clone());
			}
		}
		if !reported.is_empty() {
			<T::NonVoterReport as agora_primitives::NonVoterReport<_>>::report(reported.clone(), job_id);
			Self::deposit_event(Event::NonVotersReported { job_id, validators: reported });
		}
		if audit.redraws >= T::MaxRedraws::get() {
			return Self::end_unverified(job_id, audit);
		}
		let mut exclude = Self::interested(&job, audit.challenger.as_ref().map(|(c, _)| c));
		exclude.extend(audit.committee.iter().map(|(a, _)| a.clone()));
		let fresh = Self::draw_members(job_id, &exclude, missing.len() as u32);
		let mut replacements = Vec::new();
		for ((slot, _), member) in missing.iter().zip(fresh) {
			if let Some(m) = audit.committee.get_mut(*slot) {
				replacements.push(member.0.clone());
				*m = member;
			}
		}
		let vote_deadline =
			AuditTimeouts::<T>::push_first_free(n.saturating_add(T::VoteTimeout::get()), job_id)
				.ok_or(Error::<T>::AuditQueueFull)?;
		audit.vote_deadline = vote_deadline;
		audit.redraws = audit.redraws.saturating_add(1);
		Audits::<T>::insert(job_id, audit);
		Self::deposit_event(Event::AuditRedrawn {
			job_id,
			struck: missing.into_iter().map(|(_, a)| a).collect(),
			replacements,
			vote_deadline,
		});
		Ok(())
	}
}

impl<T: Config> sp_runtime::BoundToRuntimeAppPublic for Pallet<T> {
	type Public = T::AuthorityId;
}

/// Keeps the session's validators and their `agora` keys, for committees.
impl<T: Config> frame_support::traits::OneSessionHandler<T::AccountId> for Pallet<T> {
	type Key = T::AuthorityId;

	fn on_genesis_session<'a, I>(validators: I)
	where
		I: 'a + Iterator<Item = (&'a T::AccountId, T::AuthorityId)>,
	{
		Verifiers::<T>::put(BoundedVec::truncate_from(
			validators.map(|(a, k)| (a.clone(), k)).collect::<Vec<_>>(),
		));
	}

	fn on_new_session<'a, I>(_changed: bool, validators: I, _queued: I)
	where
		I: 'a + Iterator<Item = (&'a T::AccountId, T::AuthorityId)>,
	{
		Verifiers::<T>::put(BoundedVec::truncate_from(
			validators.map(|(a, k)| (a.clone(), k)).collect::<Vec<_>>(),
		));
	}

	fn on_disabled(_validator_index: u32) {}
}
