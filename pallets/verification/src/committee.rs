//! Audit draws, committees, disputes and vote counting (docs/protocol.md §6).
//! The consensus rules applied here live in `agora_primitives::rules`.
use crate::pallet::*;
use agora_pallet_support::{BlockQueue, DueSet};
use agora_primitives::{
	rules, AuditVote, DisputeBonds, JobId, JobMarket, JobStatus, ReceiptedJob, SlashReason, VotePayload,
};
use alloc::vec::Vec;
use frame_support::pallet_prelude::*;
use frame_system::pallet_prelude::*;
use sp_runtime::{
	traits::{One, Saturating},
	RuntimeAppPublic,
};

/// A receipted job as this pallet sees it.
pub(crate) type JobView<T> =
	ReceiptedJob<<T as frame_system::Config>::AccountId, BalanceOf<T>, BlockNumberFor<T>>;

impl<T: Config> Pallet<T> {
	/// [`Pallet::dispute`] after the origin check.
	pub(crate) fn do_dispute(who: T::AccountId, job_id: JobId) -> DispatchResult {
		let job = T::Jobs::receipted(job_id).ok_or(Error::<T>::UnknownJob)?;
		ensure!(
			matches!(job.status, JobStatus::Receipted | JobStatus::Disputed),
			Error::<T>::InvalidState
		);
		let now = frame_system::Pallet::<T>::block_number();
		ensure!(now < job.window_end, Error::<T>::WindowClosed);
		let running = Audits::<T>::get(job_id);
		ensure!(
			running.as_ref().is_none_or(|a| a.challenger.is_none()),
			Error::<T>::AlreadyDisputed
		);
		ensure!(
			running.as_ref().is_none_or(|a| !a.committee.iter().any(|(m, _)| *m == who)),
			Error::<T>::ChallengerInCommittee
		);
		let bond = Self::dispute_bond(job.max_price);
		match running {
			// A receipt under a random audit gets the challenger on that check.
			Some(mut audit) => {
				T::DisputeBonds::hold_bond(job_id, &who, bond).map_err(|_| Error::<T>::InsufficientBond)?;
				audit.challenger = Some((who.clone(), bond));
				Audits::<T>::insert(job_id, audit);
			},
			// Else a new check, its committee drawn before anything is written.
			None => {
				let audit = Self::new_audit(&job, job_id, Some((who.clone(), bond)), now)?;
				T::DisputeBonds::hold_bond(job_id, &who, bond).map_err(|_| Error::<T>::InsufficientBond)?;
				T::Jobs::begin_check(job_id)?;
				Self::start_audit(job_id, &job.provider, audit);
			},
		}
		Self::deposit_event(Event::Disputed { job_id, challenger: who, bond });
		Ok(())
	}

	/// Whether this block's VRF output draws the job's receipt for audit
	/// ([`rules::drawn_for_audit`] of [`rules::audit_seed`] against `AuditRate`).
	pub fn drawn_for_audit(job_id: JobId) -> bool {
		let rate = T::AuditRate::get().min(rules::PPM);
		if rate == 0 {
			return false;
		}
		let seed = rules::audit_seed(&agora_pallet_support::block_randomness::<T, T::Randomness>(rules::AUDIT_CONTEXT), job_id);
		rules::drawn_for_audit(&seed, rate)
	}

	/// Queues the audit draw of a receipt accepted at `now` that finalizes at
	/// `finalize_at`: `AuditDelay` blocks later (its VRF output is revealed
	/// only after the receipt is on chain, by whoever authors that block), at
	/// most at the finalization, and never behind the draw cursor (a block
	/// whose draws are done). The market finalizes no block at or after the
	/// cursor, so the draw always comes first. Nothing when `AuditRate` is 0.
	pub(crate) fn queue_draw(job_id: JobId, now: BlockNumberFor<T>, finalize_at: BlockNumberFor<T>) {
		if T::AuditRate::get() == 0 {
			return;
		}
		let at = now.saturating_add(T::AuditDelay::get()).min(finalize_at).max(AuditDrawCursor::<T>::get());
		AuditDraws::<T>::schedule(at, job_id);
	}

	/// A receipt's audit draw: drawn by this block's VRF output
	/// ([`Self::drawn_for_audit`]), it goes to a committee instead of its
	/// finalization. A receipt already under a check, or with no committee to
	/// be had, is not drawn. `Ok(false)` when the draw passed the receipt
	/// without drawing it (or it is no longer receipted): what
	/// `WeightInfo::audit_draw_passed` weighs; every other outcome is within
	/// `WeightInfo::audit_draw`.
	pub(crate) fn do_audit_draw(job_id: JobId, now: BlockNumberFor<T>) -> Result<bool, DispatchError> {
		let job = T::Jobs::receipted(job_id).ok_or(Error::<T>::UnknownJob)?;
		if job.status != JobStatus::Receipted || !Self::drawn_for_audit(job_id) {
			return Ok(false);
		}
		let Ok(audit) = Self::new_audit(&job, job_id, None, now) else {
			return Ok(true);
		};
		T::Jobs::begin_check(job_id)?;
		Self::start_audit(job_id, &job.provider, audit);
		Ok(true)
	}

	/// Who may not judge `job`: its provider, its client and a challenger.
	pub fn interested(job: &JobView<T>, challenger: Option<&T::AccountId>) -> Vec<T::AccountId> {
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
		let seed = rules::committee_seed(&agora_pallet_support::block_randomness::<T, T::Randomness>(rules::COMMITTEE_CONTEXT), job_id);
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
		job: &JobView<T>,
		job_id: JobId,
		challenger: Option<(T::AccountId, BalanceOf<T>)>,
		now: BlockNumberFor<T>,
	) -> Result<AuditOf<T>, Error<T>> {
		let exclude = Self::interested(job, challenger.as_ref().map(|(c, _)| c));
		let committee = Self::draw_committee(job_id, &exclude)?;
		let vote_deadline =
			AuditTimeouts::<T>::free_slot(now.saturating_add(T::VoteTimeout::get()))
				.ok_or(Error::<T>::AuditQueueFull)?;
		Ok(crate::Audit {
			committee,
			votes: BoundedVec::new(),
			challenger,
			started: now,
			vote_deadline,
			redraws: 0,
		})
	}

	/// Stores a check made by [`Self::new_audit`] (its queue slot was checked).
	pub(crate) fn start_audit(job_id: JobId, provider: &T::AccountId, audit: AuditOf<T>) {
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
	) -> Result<(AuditOf<T>, T::AccountId), Error<T>> {
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
	pub(crate) fn tally(job_id: JobId, audit: AuditOf<T>) -> DispatchResult {
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
			Self::resolve_honest(job_id, audit)
		} else if audit.votes.len() >= n {
			Self::end_unverified(job_id, audit)
		} else {
			Audits::<T>::insert(job_id, audit);
			Ok(())
		}
	}

	/// The block's queued work: audit draws due up to this block, in block
	/// order and within `DrawWeight` (the rest waits for the next block), then
	/// checks at their vote deadline. Every step runs in its own storage
	/// layer: a failed draw changes nothing (it only fails if the job is
	/// gone); a failed timeout step waits for the next block with room.
	pub(crate) fn do_on_initialize(n: BlockNumberFor<T>) -> Weight {
		use crate::weights::WeightInfo;
		use frame_support::storage::with_storage_layer;
		let draws = Self::drain_draws(n, T::DrawWeight::get());
		let pruned = Self::prune_served(n);
		let timeouts = AuditTimeouts::<T>::take(n);
		let t = timeouts.len() as u32;
		for id in timeouts {
			if with_storage_layer(|| Self::do_audit_timeout(id, n)).is_err() {
				Self::park_audit_timeout(id, n);
			}
		}
		draws
			.saturating_add(T::WeightInfo::audit_timeout().saturating_mul(u64::from(t)))
			.saturating_add(T::DbWeight::get().reads_writes(1, 1))
			.saturating_add(pruned)
	}

	/// The audit draws due up to block `n`, in block order, within `budget`
	/// (`DrawWeight` from the hooks; the rest waits for the next block): run
	/// by this pallet's `on_initialize` and, before it finalizes, by the
	/// market's ([`agora_primitives::ReceiptChecks::run_draws`], also from its
	/// `on_idle` with part of the block's leftover weight), whichever comes
	/// first; a later one finds nothing left and reads one value.
	///
	/// Each draw is charged by its outcome: a receipt the draw passes (most of
	/// them: `AUDIT_RATE` is a few percent) costs `audit_draw_passed`, one it
	/// draws costs `audit_draw`. Since the outcome is known only afterwards,
	/// the drain takes as many due receipts as would fit if every one were
	/// drawn, charges what they cost, and takes more from what is left, until
	/// not one more worst-case draw fits, the due receipts are all done, or it
	/// has read `MAX_DUE_BLOCKS` block sets. The weight used is within
	/// `budget` (the cursor's read and write and the block sets it may still
	/// read are set aside first) unless `budget` is below the cursor's read and
	/// write alone.
	pub(crate) fn drain_draws(n: BlockNumberFor<T>, budget: Weight) -> Weight {
		use crate::weights::WeightInfo;
		use frame_support::storage::with_storage_layer;
		let db = T::DbWeight::get();
		// Each id also leaves its block set: one write.
		let per_draw = T::WeightInfo::audit_draw().saturating_add(db.writes(1));
		let per_pass = T::WeightInfo::audit_draw_passed().saturating_add(db.writes(1)).min(per_draw);
		let per_block = db.reads(1);
		let end = n.saturating_add(One::one());
		let mut used = db.reads_writes(1, 1);
		let mut blocks_left = agora_pallet_support::MAX_DUE_BLOCKS;
		let mut cursor = AuditDrawCursor::<T>::get();
		while cursor < end && blocks_left > 0 {
			let scans = per_block.saturating_mul(u64::from(blocks_left));
			let room = agora_pallet_support::fits(budget.saturating_sub(used).saturating_sub(scans), per_draw);
			if room == 0 {
				break;
			}
			let mut spent = Weight::zero();
			let drained = agora_pallet_support::drain_due::<AuditDraws<T>, _, _>(
				&mut cursor,
				end,
				room,
				blocks_left,
				|_, ids| {
					for id in ids {
						// A failed draw changed nothing; it is charged in full.
						let drew = with_storage_layer(|| Self::do_audit_draw(id, n)).unwrap_or(true);
						spent = spent.saturating_add(if drew { per_draw } else { per_pass });
					}
				},
			);
			used = used.saturating_add(spent).saturating_add(per_block.saturating_mul(u64::from(drained.blocks)));
			blocks_left = blocks_left.saturating_sub(drained.blocks);
			if drained.ids < room {
				// Caught up with `n`, or out of block sets to read.
				break;
			}
		}
		AuditDrawCursor::<T>::put(cursor);
		used
	}

	/// A check whose timeout step failed (its storage changes were undone)
	/// waits for the next block with room, and tries again there.
	pub(crate) fn park_audit_timeout(job_id: JobId, n: BlockNumberFor<T>) {
		let Some(audit) = Audits::<T>::get(job_id) else { return };
		if let Some(b) = AuditTimeouts::<T>::push_first_free(n.saturating_add(One::one()), job_id) {
			Audits::<T>::insert(job_id, crate::Audit { vote_deadline: b, ..audit });
		}
	}
}

impl<T: Config> agora_primitives::ReceiptChecks<BlockNumberFor<T>> for Pallet<T> {
	fn on_receipt(job: JobId, now: BlockNumberFor<T>, finalize_at: BlockNumberFor<T>) -> DispatchResult {
		Self::queue_draw(job, now, finalize_at);
		Ok(())
	}

	fn draws_pending_from() -> Option<BlockNumberFor<T>> {
		Some(AuditDrawCursor::<T>::get())
	}

	fn run_draws(now: BlockNumberFor<T>, budget: Option<Weight>) -> Weight {
		Self::drain_draws(now, budget.unwrap_or_else(T::DrawWeight::get))
	}

	fn under_check(job: JobId) -> bool {
		Audits::<T>::contains_key(job)
	}
}
