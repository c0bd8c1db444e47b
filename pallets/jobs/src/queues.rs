//! Work due at a block: finalizations, expiries and prunes, each a set per
//! block drained in block order by its cursor (`DueCursors`) within the
//! block's `QueueWeight`.
use crate::{pallet::*, weights::WeightInfo};
use agora_pallet_support::{drain_due, fits, DueSet, MAX_DUE_BLOCKS};
use agora_primitives::{JobId, ReceiptChecks};
use frame_support::pallet_prelude::*;
use frame_system::pallet_prelude::*;
use sp_runtime::traits::{One, Saturating};

impl<T: Config> Pallet<T> {
	/// The queued work due up to block `n`, in order: the checker's audit
	/// draws due by then (`ReceiptChecks::run_draws`), finalizations (only of
	/// blocks whose audit draws are done), expiries and prunes, as much as
	/// `QueueWeight` allows; the rest waits for the next block. Every step
	/// runs in its own storage layer: a step that fails leaves no partial
	/// effect, and a finalization is tried again in the next block, an
	/// expiry dropped (it only fails when the job no longer awaits a receipt).
	pub(crate) fn do_on_initialize(n: BlockNumberFor<T>) -> Weight {
		Self::drain_within(n, T::QueueWeight::get(), None)
	}

	/// What `on_initialize` left due up to block `n` (its share was used up),
	/// drained with the weight the block has left after its extrinsics: half
	/// of it at most for the audit draws, the rest for finalizations,
	/// expiries and prunes, exactly as `on_initialize` drains them. So the
	/// queues' capacity follows the block's weight: `QueueWeight` is what they
	/// get in a full block, and a block its extrinsics leave room in pays out
	/// more. Nothing due (every cursor past `n`): two reads. Never uses more
	/// than `remaining`.
	pub(crate) fn do_on_idle(n: BlockNumberFor<T>, remaining: Weight) -> Weight {
		let db = T::DbWeight::get();
		let check = db.reads(2);
		// A read for each block set each queue's drain may scan, set aside.
		let scans = db.reads(3u64.saturating_mul(u64::from(MAX_DUE_BLOCKS)));
		let step = T::WeightInfo::on_initialize(1, 0, 0);
		if remaining.any_lt(check.saturating_add(scans).saturating_add(step)) {
			return Weight::zero();
		}
		let c = DueCursors::<T>::get();
		let behind = c.finalize <= n ||
			c.expiry <= n || c.prune <= n ||
			T::Checks::draws_pending_from().is_some_and(|d| d <= n);
		if !behind {
			return check;
		}
		let budget = remaining.saturating_sub(check).saturating_sub(scans);
		let draws = budget.saturating_sub(step).checked_div(2).unwrap_or_default();
		check.saturating_add(Self::drain_within(n, budget, Some(draws)))
	}

	/// [`Pallet::do_on_initialize`] within `budget`, the audit draws within
	/// `draws` (`None`: the checker's own budget); its benchmark gives it all
	/// it needs, so that what it measures does not depend on the weights
	/// compiled into the benchmarked runtime.
	pub(crate) fn drain_within(n: BlockNumberFor<T>, budget: Weight, draws: Option<Weight>) -> Weight {
		use frame_support::storage::with_storage_layer;
		let base = T::WeightInfo::on_initialize(0, 0, 0);
		// Each measured step (its id's removal from the set included); a
		// block of the sets scanned costs a read.
		let per = |f, e, p| T::WeightInfo::on_initialize(f, e, p).saturating_sub(base);
		let (per_fin, per_exp, per_prune) = (per(1, 0, 0), per(0, 1, 0), per(0, 0, 1));
		let per_block = T::DbWeight::get().reads(1);
		// The checker's draws due up to now first (its own budget), whatever
		// the runtime's hook order: a receipt finalizing now is drawn before.
		let draws = T::Checks::run_draws(n, draws);
		let mut left = budget.saturating_sub(base);
		let mut used = base.saturating_add(draws);
		let mut spend = |d: agora_pallet_support::Drained, per: Weight, left: &mut Weight| {
			let w = per.saturating_mul(d.ids.into()).saturating_add(per_block.saturating_mul(d.blocks.into()));
			*left = left.saturating_sub(w);
			used = used.saturating_add(w);
		};
		let mut cursors = DueCursors::<T>::get();
		let next = n.saturating_add(One::one());
		// A receipt's audit draw is due no later than its finalization.
		let fin_end = T::Checks::draws_pending_from().map_or(next, |c| c.min(next));
		let d = drain_due::<FinalizeQueue<T>, _, _>(
			&mut cursors.finalize,
			fin_end,
			fits(left, per_fin),
			MAX_DUE_BLOCKS,
			|_, ids| {
				for id in ids {
					if with_storage_layer(|| Self::do_finalize(id)).is_err() {
						// Keep the job: try again next block (it stays
						// Receipted, and anyone may still call `finalize`).
						FinalizeQueue::<T>::schedule(next, id);
						Jobs::<T>::mutate(id, |j| {
							if let Some(r) = j.as_mut().and_then(|j| j.receipt.as_mut()) {
								r.finalize_at = next;
							}
						});
					}
				}
			},
		);
		spend(d, per_fin, &mut left);
		let d = drain_due::<ExpiryQueue<T>, _, _>(&mut cursors.expiry, next, fits(left, per_exp), MAX_DUE_BLOCKS, |b, ids| {
			ExpiryFill::<T>::mutate_exists(b, |f| {
				let v = f.unwrap_or(0).saturating_sub(ids.len() as u32);
				*f = (v > 0).then_some(v);
			});
			for id in ids {
				// Only fails if the job no longer awaits a receipt (then there
				// is nothing to expire).
				let _ = with_storage_layer(|| Self::do_expire(id));
			}
		});
		spend(d, per_exp, &mut left);
		let d = drain_due::<PruneQueue<T>, _, _>(&mut cursors.prune, next, fits(left, per_prune), MAX_DUE_BLOCKS, |_, ids| {
			for id in ids {
				Jobs::<T>::remove(id);
				Assignments::<T>::remove(id);
				Self::deposit_event(Event::JobPruned { job_id: id });
			}
		});
		spend(d, per_prune, &mut left);
		DueCursors::<T>::put(cursors);
		used
	}

	/// Whether every audit draw due up to block `b` is done (a job finalizing
	/// at `b` has been drawn or passed over).
	pub(crate) fn drawn_through(b: BlockNumberFor<T>) -> bool {
		T::Checks::draws_pending_from().is_none_or(|c| b < c)
	}

	pub(crate) fn expiry_block(job: &JobOf<T>) -> BlockNumberFor<T> {
		job.deadline.saturating_add(One::one())
	}

	/// Takes a job that no longer awaits a receipt out of its expiry block.
	pub(crate) fn unqueue_expiry(job: &JobOf<T>, job_id: JobId) {
		let b = Self::expiry_block(job);
		if ExpiryQueue::<T>::unschedule(b, &job_id) {
			ExpiryFill::<T>::mutate_exists(b, |f| {
				let v = f.unwrap_or(0).saturating_sub(1);
				*f = (v > 0).then_some(v);
			});
		}
	}

	pub(crate) fn schedule_prune(job_id: JobId) {
		let now = frame_system::Pallet::<T>::block_number();
		PruneQueue::<T>::schedule(now.saturating_add(T::Retention::get()), job_id);
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
