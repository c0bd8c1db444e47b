//! The pallet's invariants (`try_state`).
use crate::pallet::*;
use agora_primitives::{DisputeBonds, JobMarket, JobStatus};
use frame_support::pallet_prelude::*;

impl<T: Config> Pallet<T> {
	/// Invariants, checked after every test and by `try-runtime`:
	/// - every check runs on a `Disputed` job (so a verdict, which ends the
	///   check, is final) and is queued at its vote deadline;
	/// - a committee holds none of the job's provider, client or challenger,
	///   votes are by distinct members, re-draws within `MaxRedraws`;
	/// - a check's challenger and bond are the bond `pallet-escrow` holds for
	///   the job, and a check without a challenger has no bond;
	/// - every queued draw and timeout names a job and check that belong there.
	#[cfg(any(feature = "try-runtime", feature = "std", test))]
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		for (id, audit) in Audits::<T>::iter() {
			let job = Self::subject(id).ok_or("a check runs on a job with no receipt")?;
			ensure!(
				job.status == JobStatus::Disputed,
				"a check runs on a job that is not Disputed (verdicts are final)"
			);
			ensure!(
				AuditTimeouts::<T>::get(audit.vote_deadline).contains(&id),
				"a check is not queued at its vote deadline"
			);
			ensure!(audit.redraws <= T::MaxRedraws::get(), "a check was re-drawn too often");
			let interested = Self::interested(&job, audit.challenger.as_ref().map(|(c, _)| c));
			ensure!(
				audit.committee.iter().all(|(m, _)| !interested.contains(m)),
				"a committee holds the job's provider, client or challenger"
			);
			let mut seen = alloc::collections::btree_set::BTreeSet::new();
			for (m, _) in audit.votes.iter() {
				ensure!((*m as usize) < audit.committee.len(), "a vote by no member");
				ensure!(seen.insert(*m), "a member voted twice");
			}
			ensure!(
				T::DisputeBonds::bond(id) == audit.challenger,
				"a check's challenger and bond differ from the bond held for the job"
			);
		}
		for (b, q) in AuditTimeouts::<T>::iter() {
			for id in q {
				ensure!(
					Audits::<T>::get(id).map(|a| a.vote_deadline) == Some(b),
					"the timeout queue names a check that is not running there"
				);
			}
		}
		// A receipt's audit draw comes no later than its finalization, and is
		// not behind the cursor (where it would never be drawn).
		let cursor = AuditDrawCursor::<T>::get();
		for (b, id, ()) in AuditDraws::<T>::iter() {
			ensure!(b >= cursor, "an audit draw is queued behind the draw cursor");
			let j = T::Jobs::receipted(id).ok_or("an audit draw names no receipted job")?;
			ensure!(
				j.status != JobStatus::Receipted || b <= j.finalize_at,
				"an audit draw is queued after its receipt's finalization"
			);
		}
		Self::served_try_state()
	}
}
