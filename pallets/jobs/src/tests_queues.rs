//! Tests of the work due at a block (`queues.rs`): no per-block bound on
//! finalizations, a drain that lags within its weight and catches up without
//! losing or reordering anything, finalization held behind the audit draws,
//! and the v0 → v1 migration of the queues.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::arithmetic_side_effects, clippy::indexing_slicing)]

use crate::{
	migrations::v1, mock::*, tests::{events, order}, Cursors, DueCursors, Error, ExpiryFill, ExpiryQueue, FinalizeQueue,
	Jobs as JobsStore, PruneQueue, Queue, WeightInfo,
};
use agora_primitives::JobStatus;
use frame_support::{
	assert_noop, assert_ok,
	traits::{Get, GetStorageVersion, Hooks, OnRuntimeUpgrade, StorageVersion},
	weights::Weight,
};

/// Orders `n` jobs (three per deadline block, the mock's `MaxJobsPerBlock`)
/// across the three providers and receipts them all in the current block.
fn receipted_together(n: u64) -> Vec<u64> {
	let model = setup_market();
	let now = System::block_number();
	let jobs: Vec<u64> = (0..n)
		.map(|k| order(CLIENT, model, 100, now + 20 + k / 3, Some([P1, P2, P3][(k % 3) as usize])).unwrap())
		.collect();
	for &job in &jobs {
		let p = JobsStore::<Test>::get(job).unwrap().provider;
		let (r, sig) = signed_receipt(job, &worker_of(p), b"output", 10);
		assert_ok!(Jobs::submit_receipt(RuntimeOrigin::signed(p), job, r, sig));
	}
	jobs
}

fn status(job: u64) -> JobStatus {
	JobsStore::<Test>::get(job).unwrap().status
}

#[test]
fn a_block_finalizes_more_receipts_than_a_deadline_block_holds() {
	build_and_execute(|| {
		let jobs = receipted_together(12);
		let at = System::block_number() + WINDOW;
		assert_eq!(FinalizeQueue::<Test>::iter_prefix(at).count(), 12, "no per-block bound: 12 > 3");
		run_to(at - 1);
		assert!(jobs.iter().all(|j| status(*j) == JobStatus::Receipted), "not before the window ends");
		run_to(at);
		assert!(jobs.iter().all(|j| status(*j) == JobStatus::Finalized));
		assert_eq!(DueCursors::<Test>::get().finalize, at + 1);
		assert_eq!(FinalizeQueue::<Test>::iter().count(), 0);
	});
}

#[test]
fn a_drain_over_budget_waits_for_the_next_block_and_loses_nothing() {
	build_and_execute(|| {
		let jobs = receipted_together(6);
		let at = System::block_number() + WINDOW;
		// Room for two finalizations a block, no more.
		let w = <() as WeightInfo>::on_initialize;
		QueueWeightBudget::set(w(2, 0, 0));
		run_to(at - 1);
		System::set_block_number(at);
		Models::on_initialize(at);
		Verification::on_initialize(at);
		let used = Jobs::on_initialize(at);
		Passes::on_initialize(at);
		// Within the budget, plus a read for each queue's block set.
		let reads = <<Test as frame_system::Config>::DbWeight as Get<frame_support::weights::RuntimeDbWeight>>::get().reads(3);
		assert!(used.all_lte(w(2, 0, 0).saturating_add(reads)), "{used:?}");
		let done = |jobs: &[u64]| jobs.iter().filter(|j| status(**j) == JobStatus::Finalized).count();
		assert_eq!(done(&jobs), 2);
		assert_eq!(DueCursors::<Test>::get().finalize, at, "block `at` still has work");
		run_to(at + 1);
		assert_eq!(done(&jobs), 4);
		run_to(at + 2);
		assert_eq!(done(&jobs), 6, "caught up: every job paid once");
		assert_eq!(
			events().iter().filter(|e| matches!(e, crate::Event::JobFinalized { .. })).count(),
			6
		);
		// Expiries lag the same way, and are still refunded and slashed.
		QueueWeightBudget::set(w(0, 1, 0));
		let model = crate::Jobs::<Test>::get(jobs[0]).unwrap().model_id;
		let now = System::block_number();
		let late: Vec<u64> = (0..3).map(|_| order(CLIENT2, model, 100, now + 2, None).unwrap()).collect();
		run_to(now + 3);
		assert_eq!(late.iter().filter(|j| status(**j) == JobStatus::Expired).count(), 1);
		assert_eq!(ExpiryFill::<Test>::get(now + 3), 2);
		run_to(now + 5);
		assert!(late.iter().all(|j| status(*j) == JobStatus::Expired));
		assert_eq!(ExpiryFill::<Test>::iter().count(), 0);
		QueueWeightBudget::set(Weight::MAX);
	});
}

#[test]
fn no_job_is_finalized_before_its_audit_draw() {
	build_and_execute(|| {
		// Draws are queued (a rate above 0) but none is done: the draw
		// cursor stays where it is.
		AuditRate::set(1);
		DrawWeightBudget::set(Weight::zero());
		let jobs = receipted_together(3);
		let at = System::block_number() + WINDOW;
		run_to(at + 3);
		assert!(jobs.iter().all(|j| status(*j) == JobStatus::Receipted), "held behind the draws");
		assert_noop!(Jobs::finalize(RuntimeOrigin::signed(CLIENT), jobs[0]), Error::<Test>::TooEarly);
		// The draws are done (1 ppm selects none): the finalizations follow.
		DrawWeightBudget::set(Weight::MAX);
		run_to(at + 4);
		assert!(jobs.iter().all(|j| status(*j) == JobStatus::Finalized));
		AuditRate::set(0);
	});
}

#[test]
fn v1_moves_every_queued_job_into_its_blocks_set() {
	build_and_execute(|| {
		let model = setup_market();
		System::set_block_number(40);
		let now = System::block_number();
		let q = |ids: &[u64]| -> Queue<MaxJobsPerBlock> { ids.to_vec().try_into().unwrap() };
		// Three jobs awaiting receipts (expiry at 61 and 62), one receipted
		// (finalizing at 45), one finished (pruned at 60), as v0 queued them.
		let a = order(CLIENT, model, 100, 60, Some(P1)).unwrap();
		let b = order(CLIENT, model, 100, 60, Some(P2)).unwrap();
		let c = order(CLIENT, model, 100, 61, Some(P3)).unwrap();
		let d = order(CLIENT, model, 100, 61, Some(P1)).unwrap();
		let (r, sig) = signed_receipt(d, &worker_of(P1), b"output", 10);
		assert_ok!(Jobs::submit_receipt(RuntimeOrigin::signed(P1), d, r, sig));
		let e = order(CLIENT, model, 100, 61, Some(P2)).unwrap();
		assert_ok!(Jobs::cancel_job(RuntimeOrigin::signed(CLIENT), e));
		let _ = FinalizeQueue::<Test>::clear(u32::MAX, None);
		let _ = ExpiryQueue::<Test>::clear(u32::MAX, None);
		let _ = PruneQueue::<Test>::clear(u32::MAX, None);
		let _ = ExpiryFill::<Test>::clear(u32::MAX, None);
		DueCursors::<Test>::kill();
		v1::FinalizeQueue::<Test>::insert(now + WINDOW, q(&[d]));
		v1::ExpiryQueue::<Test>::insert(61, q(&[a, b]));
		v1::ExpiryQueue::<Test>::insert(62, q(&[c]));
		v1::PruneQueue::<Test>::insert(now + RETENTION, q(&[e]));
		StorageVersion::new(0).put::<Jobs>();

		v1::MigrateV0ToV1::<Test>::on_runtime_upgrade();
		assert_eq!(Jobs::on_chain_storage_version(), 1);
		assert!(FinalizeQueue::<Test>::contains_key(now + WINDOW, d));
		assert!(ExpiryQueue::<Test>::contains_key(61, a) && ExpiryQueue::<Test>::contains_key(61, b));
		assert!(ExpiryQueue::<Test>::contains_key(62, c));
		assert_eq!((ExpiryFill::<Test>::get(61), ExpiryFill::<Test>::get(62)), (2, 1));
		assert!(PruneQueue::<Test>::contains_key(now + RETENTION, e));
		assert_eq!(DueCursors::<Test>::get(), Cursors { finalize: now, expiry: now, prune: now });
		assert!(!v1::ExpiryQueue::<Test>::contains_key(61), "the v0 lists are gone");
		// A second run changes nothing (the version gate).
		v1::MigrateV0ToV1::<Test>::on_runtime_upgrade();
		assert_eq!(ExpiryFill::<Test>::get(61), 2);
		// And the queues work on: the receipted job is paid, the others expire.
		run_to(62);
		assert_eq!(status(d), JobStatus::Finalized);
		assert!([a, b, c].iter().all(|j| status(*j) == JobStatus::Expired));
	});
}

#[test]
fn a_receipt_batch_applies_each_receipt_on_its_own() {
	build_and_execute(|| {
		let model = setup_market();
		let now = System::block_number();
		let jobs: Vec<u64> = [P1, P2, P3].iter().map(|p| order(CLIENT, model, 100, now + 20, Some(*p)).unwrap()).collect();
		let mut batch: Vec<_> = jobs
			.iter()
			.map(|j| {
				let p = JobsStore::<Test>::get(j).unwrap().provider;
				let (r, sig) = signed_receipt(*j, &worker_of(p), b"output", 10);
				(*j, r, sig)
			})
			.collect();
		// The second receipt is signed by another worker: refused alone.
		let (r, sig) = signed_receipt(jobs[1], &worker_of(P1), b"output", 10);
		batch[1] = (jobs[1], r, sig);
		assert_noop!(
			Jobs::submit_receipts(RuntimeOrigin::signed(CHALLENGER), Default::default()),
			Error::<Test>::NoReceipts
		);
		assert_ok!(Jobs::submit_receipts(RuntimeOrigin::signed(CHALLENGER), batch.try_into().unwrap()));
		assert_eq!(status(jobs[0]), JobStatus::Receipted);
		assert_eq!(status(jobs[1]), JobStatus::Assigned, "the refused receipt changed nothing");
		assert_eq!(status(jobs[2]), JobStatus::Receipted);
		assert!(events().contains(&crate::Event::ReceiptRefused {
			job_id: jobs[1],
			error: Error::<Test>::WrongWorkerKey.into()
		}));
		run_to(now + WINDOW);
		assert_eq!((status(jobs[0]), status(jobs[2])), (JobStatus::Finalized, JobStatus::Finalized));
	});
}

#[test]
fn a_job_finalizes_at_its_block_whichever_hook_runs_first() {
	build_and_execute(|| {
		// Draws are queued (a rate above 0; 1 ppm selects none).
		AuditRate::set(1);
		let jobs = receipted_together(3);
		let at = System::block_number() + WINDOW;
		run_to(at - 1);
		// The runtime runs the market's hook before the checker's (pallet
		// index order): the market has the draws due done first.
		System::set_block_number(at);
		Jobs::on_initialize(at);
		assert!(jobs.iter().all(|j| status(*j) == JobStatus::Finalized));
		assert_eq!(pallet_verification::AuditDrawCursor::<Test>::get(), at + 1);
		Verification::on_initialize(at);
		assert_eq!(pallet_verification::AuditDrawCursor::<Test>::get(), at + 1, "nothing left to draw");
		AuditRate::set(0);
	});
}

#[test]
fn on_idle_pays_out_what_on_initialize_left_within_the_blocks_leftover() {
	build_and_execute(|| {
		let jobs = receipted_together(9);
		let at = System::block_number() + WINDOW;
		let w = <() as WeightInfo>::on_initialize;
		let db = <<Test as frame_system::Config>::DbWeight as Get<frame_support::weights::RuntimeDbWeight>>::get();
		// `on_initialize` has room for two finalizations a block.
		QueueWeightBudget::set(w(2, 0, 0));
		run_to(at);
		let done = |jobs: &[u64]| jobs.iter().filter(|j| status(**j) == JobStatus::Finalized).count();
		assert_eq!(done(&jobs), 2);
		// Too little left in the block for one more: nothing read, nothing done.
		let scans = db.reads(3 * agora_pallet_support::MAX_DUE_BLOCKS as u64);
		let least = db.reads(2).saturating_add(scans).saturating_add(w(1, 0, 0));
		assert_eq!(Jobs::on_idle(at, least.saturating_sub(Weight::from_parts(1, 0))), Weight::zero());
		assert_eq!(done(&jobs), 2);
		// Room for three more (the draws, with nothing to do, leave their
		// half to the finalizations): three more, within what was left.
		let room = db.reads(2).saturating_add(scans).saturating_add(w(3, 0, 0));
		let used = Jobs::on_idle(at, room);
		assert!(used.all_lte(room), "{used:?} over {room:?}");
		assert_eq!(done(&jobs), 5, "on_idle paid out three more");
		// A block with room for all: the rest is paid, each once.
		let used = Jobs::on_idle(at, Weight::from_parts(u64::MAX / 2, u64::MAX / 2));
		assert!(used.ref_time() > 0);
		assert_eq!(done(&jobs), 9);
		assert_eq!(DueCursors::<Test>::get().finalize, at + 1, "caught up");
		assert_eq!(events().iter().filter(|e| matches!(e, crate::Event::JobFinalized { .. })).count(), 9);
		// Nothing due: the cursors' two reads, nothing else.
		assert_eq!(Jobs::on_idle(at, Weight::from_parts(u64::MAX / 2, u64::MAX / 2)), db.reads(2));
		QueueWeightBudget::set(Weight::MAX);
	});
}

#[test]
fn on_idle_does_the_audit_draws_first_and_finalizes_only_what_they_passed() {
	build_and_execute(|| {
		// Draws are queued but `on_initialize` does none (its budget is 0).
		AuditRate::set(1);
		DrawWeightBudget::set(Weight::zero());
		let jobs = receipted_together(3);
		let at = System::block_number() + WINDOW;
		run_to(at);
		assert!(jobs.iter().all(|j| status(*j) == JobStatus::Receipted), "held behind the draws");
		// The block's leftover does the draws (1 ppm selects none), then the
		// finalizations they passed.
		let used = Jobs::on_idle(at, Weight::from_parts(u64::MAX / 2, u64::MAX / 2));
		assert!(used.ref_time() > 0);
		assert!(jobs.iter().all(|j| status(*j) == JobStatus::Finalized));
		DrawWeightBudget::set(Weight::MAX);
		AuditRate::set(0);
	});
}
