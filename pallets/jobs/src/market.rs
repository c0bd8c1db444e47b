//! Verification inside the jobs pallet (docs/protocol.md §6): audit draws,
//! committees, votes, verdicts, and the off-chain worker's part. The consensus
//! rules it applies live in `agora_primitives::rules`.
use crate::{pallet::*, types::*};
use agora_primitives::{
	jobs::ReadRequest, rules, AuditInput, AuditJob, AuditVote, JobEscrow, JobId, JobStatus, OffchainAudit,
	OfferRegistry, ProviderBonds, Reputation, SlashReason, VotePayload,
};
use alloc::vec::Vec;
use codec::Encode;
use frame_support::{
	pallet_prelude::*,
	traits::{
		fungible::{InspectHold, MutateHold},
		tokens::{Fortitude, Precision, Restriction},
	},
};
use frame_system::{offchain::SubmitTransaction, pallet_prelude::*};
use sp_runtime::{
	traits::{Saturating, Zero},
	RuntimeAppPublic,
};

impl<T: Config> Pallet<T> {
	/// [`Pallet::dispute`] after the origin check.
	pub(crate) fn do_dispute(who: T::AccountId, job_id: JobId) -> DispatchResult {
		let mut job = Jobs::<T>::get(job_id).ok_or(Error::<T>::UnknownJob)?;
		ensure!(
			matches!(job.status, JobStatus::Receipted | JobStatus::Disputed),
			Error::<T>::InvalidState
		);
		let receipt = job.receipt.clone().ok_or(Error::<T>::InvalidState)?;
		let now = frame_system::Pallet::<T>::block_number();
		ensure!(now < receipt.window_end, Error::<T>::WindowClosed);
		let running = Audits::<T>::get(job_id);
		ensure!(
			running.as_ref().is_none_or(|a| a.challenger.is_none()),
			Error::<T>::AlreadyDisputed
		);
		ensure!(
			running.as_ref().is_none_or(|a| !a.committee.iter().any(|(m, _)| *m == who)),
			Error::<T>::ChallengerInCommittee
		);
		let bond = Self::dispute_bond(&job);
		let reason = HoldReason::DisputeBond.into();
		ensure!(
			T::Currency::ensure_can_hold(&reason, &who, bond).is_ok(),
			Error::<T>::InsufficientBond
		);
		let fresh = match running {
			Some(mut a) => {
				a.challenger = Some((who.clone(), bond));
				Audits::<T>::insert(job_id, a);
				None
			},
			None => Some(Self::new_audit(&job, job_id, Some((who.clone(), bond)), now)?),
		};

		T::Currency::hold(&reason, &who, bond)?;
		if let Some(audit) = fresh {
			Self::unqueue::<FinalizeQueue<T>>(receipt.finalize_at, job_id);
			job.status = JobStatus::Disputed;
			let provider = job.provider.clone();
			Jobs::<T>::insert(job_id, job);
			Self::start_audit(job_id, &provider, audit);
		}
		Self::deposit_event(Event::Disputed { job_id, challenger: who, bond });
		Ok(())
	}

	/// The bond a dispute of `job` holds: `DisputeBond`, or the job's
	/// `max_price` if that is more (a dispute delays the provider's payout, so
	/// delaying a larger one costs more).
	pub fn dispute_bond(job: &JobOf<T>) -> BalanceOf<T> {
		T::DisputeBond::get().max(job.max_price)
	}

	/// Whether this block's VRF output draws the job's receipt for audit
	/// ([`rules::drawn_for_audit`] of [`rules::audit_seed`] against `AuditRate`).
	pub fn drawn_for_audit(job_id: JobId) -> bool {
		let rate = T::AuditRate::get().min(rules::PPM);
		if rate == 0 {
			return false;
		}
		let seed = rules::audit_seed(&Self::block_randomness(rules::AUDIT_CONTEXT), job_id);
		rules::drawn_for_audit(&seed, rate)
	}

	/// Who may not judge `job`: its provider, its client and a challenger.
	pub fn interested(job: &JobOf<T>, challenger: Option<&T::AccountId>) -> Vec<T::AccountId> {
		let mut v = alloc::vec![job.provider.clone(), job.client.clone()];
		v.extend(challenger.cloned());
		v
	}

	/// Draws up to `size` distinct members from the session's validators other
	/// than `exclude` ([`rules::draw_committee`] seeded by
	/// [`rules::committee_seed`] over this block's randomness).
	pub fn draw_members(
		job_id: JobId,
		exclude: &[T::AccountId],
		size: u32,
	) -> Vec<(T::AccountId, T::AuthorityId)> {
		let mut pool: Vec<_> =
			Verifiers::<T>::get().into_iter().filter(|(a, _)| !exclude.contains(a)).collect();
		let seed = rules::committee_seed(&Self::block_randomness(rules::COMMITTEE_CONTEXT), job_id);
		rules::draw_committee(&mut pool, &seed, size);
		pool
	}

	/// Draws `min(CommitteeSize, eligible validators)` distinct members for a
	/// check of `job_id`, none of them in `exclude` (see [`Self::interested`]).
	pub fn draw_committee(job_id: JobId, exclude: &[T::AccountId]) -> Result<CommitteeOf<T>, Error<T>> {
		let size = T::CommitteeSize::get().max(1).min(T::MaxCommitteeSize::get());
		let pool = Self::draw_members(job_id, exclude, size);
		ensure!(!pool.is_empty(), Error::<T>::NoCommittee);
		Ok(BoundedVec::truncate_from(pool))
	}

	/// A new committee check of `job`, not yet stored: its committee (without
	/// the provider, the client or the challenger) and a vote deadline whose
	/// queue has room.
	pub(crate) fn new_audit(
		job: &JobOf<T>,
		job_id: JobId,
		challenger: Option<(T::AccountId, BalanceOf<T>)>,
		now: BlockNumberFor<T>,
	) -> Result<Audit<T>, Error<T>> {
		let exclude = Self::interested(job, challenger.as_ref().map(|(c, _)| c));
		let committee = Self::draw_committee(job_id, &exclude)?;
		let vote_deadline =
			Self::free_slot::<AuditTimeouts<T>>(now.saturating_add(T::VoteTimeout::get()))
				.ok_or(Error::<T>::AuditQueueFull)?;
		Ok(Audit { committee, votes: BoundedVec::new(), challenger, started: now, vote_deadline, redraws: 0 })
	}

	/// Stores a check made by [`Self::new_audit`] (its queue slot was checked).
	pub(crate) fn start_audit(job_id: JobId, provider: &T::AccountId, audit: Audit<T>) {
		let _ = AuditTimeouts::<T>::try_mutate(audit.vote_deadline, |q| q.try_push(job_id));
		Self::deposit_event(Event::AuditStarted {
			job_id,
			provider: provider.clone(),
			committee: audit.committee.iter().map(|(a, _)| a.clone()).collect(),
			challenger: audit.challenger.as_ref().map(|(c, _)| c.clone()),
			vote_deadline: audit.vote_deadline,
		});
		Audits::<T>::insert(job_id, audit);
	}

	/// Checks a vote against the running check: the member exists, has not
	/// voted, and its key signed the payload.
	pub fn check_vote(
		payload: &VotePayload,
		signature: &<T::AuthorityId as RuntimeAppPublic>::Signature,
	) -> Result<(Audit<T>, T::AccountId), Error<T>> {
		let audit = Audits::<T>::get(payload.job_id).ok_or(Error::<T>::NoAudit)?;
		let (who, key) = audit
			.committee
			.get(payload.member as usize)
			.cloned()
			.ok_or(Error::<T>::NotInCommittee)?;
		ensure!(!audit.votes.iter().any(|(m, _)| *m == payload.member), Error::<T>::AlreadyVoted);
		ensure!(key.verify(&payload.signing_payload(), signature), Error::<T>::NotCommitteeKey);
		Ok((audit, who))
	}

	/// Counts the votes: a majority of the committee for fraud (`Invalid` and
	/// `Withheld` together) or for the receipt (`Valid`) decides; all votes
	/// in without a majority (a split) ends the check `Unverified`.
	pub(crate) fn tally(job_id: JobId, audit: Audit<T>) -> DispatchResult {
		let now = frame_system::Pallet::<T>::block_number();
		let n = audit.committee.len();
		let majority = (n / 2).saturating_add(1);
		let count = |v: AuditVote| audit.votes.iter().filter(|(_, x)| *x == v).count();
		let (valid, invalid, withheld) =
			(count(AuditVote::Valid), count(AuditVote::Invalid), count(AuditVote::Withheld));
		if invalid.saturating_add(withheld) >= majority {
			let reason =
				if withheld > invalid { SlashReason::Withholding } else { SlashReason::Fraud };
			Self::resolve_fraud(job_id, audit, reason)
		} else if valid >= majority {
			Self::resolve_honest(job_id, audit, now)
		} else if audit.votes.len() >= n {
			Self::end_unverified(job_id, audit)
		} else {
			Audits::<T>::insert(job_id, audit);
			Ok(())
		}
	}

	/// Fraud or withholding: refund the client, slash the provider
	/// (`ChallengerReward` of it to a challenger, whose bond is returned), drop
	/// its reputation to the floor, close the job.
	pub(crate) fn resolve_fraud(
		job_id: JobId,
		audit: Audit<T>,
		reason: SlashReason,
	) -> DispatchResult {
		let mut job = Jobs::<T>::get(job_id).ok_or(Error::<T>::UnknownJob)?;
		let refunded = T::Escrow::refund(job_id)?;
		if let Some((c, bond)) = &audit.challenger {
			T::Currency::release(&HoldReason::DisputeBond.into(), c, *bond, Precision::Exact)?;
		}
		let reward =
			audit.challenger.as_ref().map(|(c, _)| (c.clone(), T::ChallengerReward::get()));
		let outcome = T::Bonds::slash(&job.provider, reason, T::FraudSlash::get(), reward)
			.unwrap_or_default();
		T::Reputation::on_fraud(&job.provider);
		Self::release_load(&job);
		Self::unqueue::<AuditTimeouts<T>>(audit.vote_deadline, job_id);
		Audits::<T>::remove(job_id);
		job.status = JobStatus::Fraud;
		let provider = job.provider.clone();
		Jobs::<T>::insert(job_id, job);
		Self::schedule_prune(job_id);
		Self::deposit_event(Event::JobFraud {
			job_id,
			provider,
			reason,
			refunded,
			slashed: outcome.slashed,
			to_challenger: outcome.to_challenger,
		});
		Ok(())
	}

	/// Upheld: a challenger's bond goes `LostBondToProvider` to the provider,
	/// the rest to the treasury; the job finalizes as normal.
	pub(crate) fn resolve_honest(
		job_id: JobId,
		audit: Audit<T>,
		now: BlockNumberFor<T>,
	) -> DispatchResult {
		let mut job = Jobs::<T>::get(job_id).ok_or(Error::<T>::UnknownJob)?;
		let (mut to_provider, mut to_treasury) = (Zero::zero(), Zero::zero());
		if let Some((c, bond)) = &audit.challenger {
			to_provider = T::LostBondToProvider::get().mul_floor(*bond);
			to_treasury = bond.saturating_sub(to_provider);
			let reason = HoldReason::DisputeBond.into();
			for (dest, amount) in [(&job.provider, to_provider), (&T::Treasury::get(), to_treasury)]
			{
				if !amount.is_zero() {
					T::Currency::transfer_on_hold(
						&reason,
						c,
						dest,
						amount,
						Precision::Exact,
						Restriction::Free,
						Fortitude::Force,
					)?;
				}
			}
		}
		Self::requeue_finalize(job_id, &mut job, now.saturating_add(One::one()))?;
		Self::unqueue::<AuditTimeouts<T>>(audit.vote_deadline, job_id);
		Audits::<T>::remove(job_id);
		let provider = job.provider.clone();
		Jobs::<T>::insert(job_id, job);
		Self::deposit_event(Event::AuditPassed {
			job_id,
			provider,
			bond_to_provider: to_provider,
			bond_to_treasury: to_treasury,
		});
		Ok(())
	}

	/// The committee members (index, account) who have not voted.
	fn non_voters(audit: &Audit<T>) -> Vec<(usize, T::AccountId)> {
		audit
			.committee
			.iter()
			.enumerate()
			.filter(|(i, _)| !audit.votes.iter().any(|(m, _)| *m as usize == *i))
			.map(|(i, (a, _))| (i, a.clone()))
			.collect()
	}

	/// No verdict, for good: refund the client in full, pay and slash nobody,
	/// return a challenger's bond, close the job `Unverified`.
	pub(crate) fn end_unverified(job_id: JobId, audit: Audit<T>) -> DispatchResult {
		let mut job = Jobs::<T>::get(job_id).ok_or(Error::<T>::UnknownJob)?;
		let refunded = T::Escrow::refund(job_id)?;
		if let Some((c, bond)) = &audit.challenger {
			T::Currency::release(&HoldReason::DisputeBond.into(), c, *bond, Precision::Exact)?;
		}
		Self::release_load(&job);
		Self::unqueue::<AuditTimeouts<T>>(audit.vote_deadline, job_id);
		let non_voters = Self::non_voters(&audit).into_iter().map(|(_, a)| a).collect();
		Audits::<T>::remove(job_id);
		job.status = JobStatus::Unverified;
		Jobs::<T>::insert(job_id, job);
		Self::schedule_prune(job_id);
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
		let job = Jobs::<T>::get(job_id).ok_or(Error::<T>::UnknownJob)?;
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
		let vote_deadline = Self::free_slot::<AuditTimeouts<T>>(n.saturating_add(T::VoteTimeout::get()))
			.ok_or(Error::<T>::AuditQueueFull)?;
		AuditTimeouts::<T>::try_mutate(vote_deadline, |q| q.try_push(job_id))
			.map_err(|_| Error::<T>::AuditQueueFull)?;
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

	/// A check whose timeout step failed (its storage changes were undone)
	/// waits for the next block with room, and tries again there.
	pub(crate) fn park_audit_timeout(job_id: JobId, n: BlockNumberFor<T>) {
		let Some(audit) = Audits::<T>::get(job_id) else { return };
		if let Some(b) = Self::free_slot::<AuditTimeouts<T>>(n.saturating_add(One::one())) {
			let _ = AuditTimeouts::<T>::try_mutate(b, |q| q.try_push(job_id));
			Audits::<T>::insert(job_id, Audit { vote_deadline: b, ..audit });
		}
	}

	/// A [`ReadRequest`] for `job_id`'s output, made now and signed with the
	/// member's `agora` key: the worker serves outputs only to their client and
	/// their committee ([`agora_primitives::jobs::READ_HEADER`]).
	fn read_auth(job_id: JobId, key: &T::AuthorityId) -> alloc::string::String {
		let req = ReadRequest { job_id, at_ms: sp_io::offchain::timestamp().unix_millis() };
		key.sign(&req.signing_payload())
			.map(|sig| req.header(&key.to_raw_vec(), &sig.encode()))
			.unwrap_or_default()
	}

	/// The off-chain worker's part (see `offchain_worker`): one attempt per
	/// (job, member) every [`VOTE_RETRY`] blocks until the vote lands.
	pub(crate) fn offchain_audits(n: BlockNumberFor<T>, local: &[T::AuthorityId]) {
		use sp_runtime::offchain::storage::StorageValueRef;
		let verifier = StorageValueRef::persistent(VERIFIER_STORAGE_KEY)
			.get::<Vec<u8>>()
			.ok()
			.flatten()
			.and_then(|v| alloc::string::String::from_utf8(v).ok());
		for (job_id, audit) in Audits::<T>::iter() {
			for (i, (_, key)) in audit.committee.iter().enumerate() {
				let member = i as u32;
				if !local.contains(key) || audit.votes.iter().any(|(m, _)| *m == member) {
					continue;
				}
				let mut lock = b"agora::vote::".to_vec();
				(job_id, member).encode_to(&mut lock);
				let claimed = StorageValueRef::persistent(&lock).mutate(
					|prev: Result<Option<BlockNumberFor<T>>, _>| match prev {
						Ok(Some(at)) if n < at.saturating_add(VOTE_RETRY.into()) => Err(()),
						_ => Ok(n),
					},
				);
				if claimed.is_err() {
					continue;
				}
				let Some(job) = Jobs::<T>::get(job_id) else {
					continue;
				};
				let Some(receipt) = job.receipt.as_ref() else {
					continue;
				};
				let check = AuditJob {
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
					read_auth: Self::read_auth(job_id, key),
				};
				let vote = match T::OffchainAudit::audit(verifier.as_deref(), &check) {
					Ok(v) => v,
					Err(e) => {
						log::warn!(target: "agora::audit", "job {job_id}: cannot vote: {e:?}");
						continue;
					},
				};
				// Withholding is judged over the check's window, not on one
				// failed fetch: vote `Withheld` only when no later attempt
				// would still land before the deadline.
				if vote == AuditVote::Withheld
					&& n.saturating_add(VOTE_RETRY.saturating_mul(2).into()) < audit.vote_deadline
				{
					log::warn!(target: "agora::audit", "job {job_id}: the provider did not serve; retrying in {VOTE_RETRY} blocks");
					continue;
				}
				let payload = VotePayload { job_id, member, vote };
				let Some(signature) = key.sign(&payload.signing_payload()) else {
					log::warn!(target: "agora::audit", "job {job_id}: the keystore cannot sign");
					continue;
				};
				log::info!(target: "agora::audit", "job {job_id}: member {member} votes {vote:?}");
				let xt = T::create_bare(Call::vote { payload, signature }.into());
				if SubmitTransaction::<T, Call<T>>::submit_transaction(xt).is_err() {
					log::warn!(target: "agora::audit", "job {job_id}: the pool refused the vote");
				}
			}
		}
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

impl<T: Config> agora_primitives::OpenJobs<T::AccountId> for Pallet<T> {
	fn open_jobs(who: &T::AccountId) -> u32 {
		ProviderOpenJobs::<T>::get(who)
	}
}
