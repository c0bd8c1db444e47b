//! Tests of inputs by hash that the client never delivers: the provider reports
//! the miss, the client pays the base price (more for repeat misses), nobody is
//! slashed, and the job can neither expire nor be reported twice.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::arithmetic_side_effects)]

use crate::{mock::*, tests::events, Error, Event, InputMisses, InputParam, Jobs as JobsStore};
use agora_primitives::{JobStatus, ProviderBonds};
use frame_support::{assert_noop, assert_ok, traits::{fungible::Inspect, Get}};

fn by_hash(client: AccountId, model: [u8; 32], deadline_in: u64) -> u64 {
	let id = crate::NextJobId::<Test>::get();
	assert_ok!(Jobs::submit_job(
		RuntimeOrigin::signed(client),
		model,
		InputParam::Hash([7; 32]),
		params(1_000),
		5_000,
		System::block_number() + deadline_in,
		Some(P2)
	));
	id
}

fn report(who: AccountId, job: u64) -> sp_runtime::DispatchResult {
	Jobs::report_input_missing(RuntimeOrigin::signed(who), job)
}

#[test]
fn a_never_uploaded_input_slashes_nobody() {
	build_and_execute(|| {
		let model = setup_market();
		let issuance = Balances::total_issuance();
		let (bond, p2, client, treasury) = (
			Slashing::active_bond(&P2),
			Balances::balance(&P2),
			Balances::balance(&CLIENT),
			Balances::balance(&TREASURY),
		);
		let start = System::block_number();
		let job = by_hash(CLIENT, model, 10);
		assert_ok!(Jobs::acknowledge(RuntimeOrigin::signed(P2), job));

		// The client has INPUT_GRACE blocks to upload; only the provider reports.
		run_to(start + INPUT_GRACE - 1);
		assert_noop!(report(P2, job), Error::<Test>::InputGraceNotOver);
		run_to(start + INPUT_GRACE);
		assert_noop!(report(P1, job), Error::<Test>::NotProvider);
		assert_noop!(report(CLIENT, job), Error::<Test>::NotProvider);
		assert_ok!(report(P2, job));

		let j = JobsStore::<Test>::get(job).unwrap();
		assert_eq!((j.status, j.charge), (JobStatus::InputMissing, Some(BASE)));
		assert!(events().contains(&Event::InputMissing {
			job_id: job,
			client: CLIENT,
			provider: P2,
			charge: BASE,
			refunded: 5_000 - BASE,
			misses: 0,
		}));
		// The client paid the base price to the treasury; the provider, whose
		// claim it is, earned nothing by it.
		assert_eq!(Balances::balance(&CLIENT), client - BASE);
		assert_eq!(Balances::balance(&TREASURY), treasury + BASE);
		assert_eq!(Balances::balance(&P2), p2);
		// Nobody slashed, no rating, and the job is closed: the deadline passes
		// without an expiry, and it cannot be reported again.
		run_to(start + 20);
		assert_eq!(Slashing::active_bond(&P2), bond);
		assert!(ratings().is_empty());
		assert!(!events().iter().any(|e| matches!(e, Event::JobExpired { .. })));
		assert_eq!(<Jobs as agora_primitives::OpenJobs<_>>::open_jobs(&P2), 0);
		assert_eq!(Balances::total_issuance(), issuance);
		assert_eq!(InputMisses::<Test>::get(CLIENT), 1);
	});
}

#[test]
fn only_open_by_hash_jobs_before_their_deadline_can_be_reported() {
	build_and_execute(|| {
		let model = setup_market();
		let start = System::block_number();
		assert_noop!(report(P2, 99), Error::<Test>::UnknownJob);
		// An inline input is on chain: nothing can be missing.
		let inline = crate::NextJobId::<Test>::get();
		assert_ok!(Jobs::submit_job(
			RuntimeOrigin::signed(CLIENT),
			model,
			InputParam::Inline(b"hi".to_vec()),
			params(1_000),
			5_000,
			start + 10,
			Some(P2)
		));
		// A by-hash job already receipted was run: its input came.
		let receipted = by_hash(CLIENT, model, 10);
		let (r, sig) = signed_receipt(receipted, &worker_of(P2), b"out", 3);
		assert_ok!(Jobs::submit_receipt(RuntimeOrigin::signed(P2), receipted, r, sig));
		let late = by_hash(CLIENT2, model, 6);
		run_to(start + INPUT_GRACE);
		assert_noop!(report(P2, inline), Error::<Test>::InputInline);
		assert_noop!(report(P2, receipted), Error::<Test>::InvalidState);
		// Past the deadline (before the expiry hook has run) the provider is too late.
		System::set_block_number(start + 7);
		assert_noop!(report(P2, late), Error::<Test>::DeadlinePassed);
		// A cancelled job is over.
		let cancelled = by_hash(CLIENT2, model, 10);
		assert_ok!(Jobs::cancel_job(RuntimeOrigin::signed(CLIENT2), cancelled));
		run_to(start + 7 + INPUT_GRACE);
		assert_noop!(report(P2, cancelled), Error::<Test>::InvalidState);
	});
}

#[test]
fn a_near_deadline_leaves_half_the_time_to_upload() {
	build_and_execute(|| {
		let model = setup_market();
		let start = System::block_number();
		// Deadline 4 blocks out (less than the grace): the report opens halfway.
		let job = by_hash(CLIENT, model, 4);
		run_to(start + 1);
		assert_noop!(report(P2, job), Error::<Test>::InputGraceNotOver);
		run_to(start + 2);
		assert_ok!(report(P2, job));
	});
}

#[test]
fn repeat_misses_cost_more_until_finalized_jobs_work_them_off() {
	build_and_execute(|| {
		let model = setup_market();
		let mut charges = vec![];
		for _ in 0..3 {
			let start = System::block_number();
			let job = by_hash(CLIENT, model, 10);
			run_to(start + INPUT_GRACE);
			assert_ok!(report(P2, job));
			charges.push(JobsStore::<Test>::get(job).unwrap().charge.unwrap());
		}
		assert_eq!(charges, vec![BASE, 2 * BASE, 4 * BASE]);
		// Another client is not charged for CLIENT's misses.
		let start = System::block_number();
		let other = by_hash(CLIENT2, model, 10);
		run_to(start + INPUT_GRACE);
		assert_ok!(report(P2, other));
		assert_eq!(JobsStore::<Test>::get(other).unwrap().charge, Some(BASE));
		// A job of CLIENT's that is run and paid works one miss off.
		let start = System::block_number();
		let paid = by_hash(CLIENT, model, 10);
		let (r, sig) = signed_receipt(paid, &worker_of(P2), b"out", 3);
		assert_ok!(Jobs::submit_receipt(RuntimeOrigin::signed(P2), paid, r, sig));
		run_to(start + WINDOW + 1);
		assert_eq!(JobsStore::<Test>::get(paid).unwrap().status, JobStatus::Finalized);
		assert_eq!(InputMisses::<Test>::get(CLIENT), 2);
	});
}

#[test]
fn a_filling_deadline_block_costs_squatters_a_rising_surcharge() {
	build_and_execute(|| {
		QueueSurchargeBase::set(10);
		let model = setup_market();
		let issuance = Balances::total_issuance();
		let treasury = Balances::balance(&TREASURY);
		let deadline = System::block_number() + 10;
		let order_from = |client, deadline| crate::tests::order(client, model, 1_000, deadline, None);
		let order = |client| order_from(client, deadline);
		// The first half of the block's queue is free ...
		let client = Balances::balance(&CLIENT);
		assert_ok!(order(CLIENT));
		assert_ok!(order(CLIENT));
		assert_eq!(Balances::balance(&TREASURY), treasury);
		// ... then each order pays more (MAX_PER_BLOCK = 3: the last slot ×4).
		assert_ok!(order(CLIENT));
		assert_eq!(Balances::balance(&TREASURY), treasury + 40);
		assert_eq!(Balances::balance(&CLIENT), client - 3 * 5_000 - 40);
		assert_noop!(order(CLIENT), Error::<Test>::DeadlineBusy);
		// Cancelling gets the escrow back, not the surcharge.
		let last = crate::NextJobId::<Test>::get() - 1;
		assert_ok!(Jobs::cancel_job(RuntimeOrigin::signed(CLIENT), last));
		assert_eq!(Balances::balance(&CLIENT), client - 2 * 5_000 - 40);
		// A client who can cover the escrow but not the surcharge orders nothing.
		use frame_support::traits::fungible::Mutate;
		assert_eq!(Balances::total_issuance(), issuance, "the surcharge moves funds, it mints or burns none");
		Balances::set_balance(&CLIENT2, 5_000 + 39 + 1);
		assert_noop!(order(CLIENT2), Error::<Test>::InsufficientBalance);
		// Another deadline block is empty: no surcharge.
		assert_ok!(order_from(CLIENT2, deadline + 1));
	});
}

/// The attack: squat the upper half of block after block, each priced alone.
/// The queue pressure doubles each next block's upper half while it lasts;
/// orders into a block's lower half stay free, and a quiet half-life halves it.
#[test]
fn squatting_block_after_block_costs_more_for_each_block() {
	use crate::QueuePressure;
	use frame_support::traits::Get;
	build_and_execute(|| {
		QueueSurchargeBase::set(10);
		let model = setup_market();
		let start = System::block_number();
		let order = |deadline| crate::tests::order(CLIENT, model, 1_000, deadline, None);
		// Fills a block's queue (MAX_PER_BLOCK = 3: two free slots, then the
		// upper half) and cancels all three; returns what the treasury got.
		let squat = |deadline| {
			let before = Balances::balance(&TREASURY);
			let a = order(deadline).unwrap();
			let b = order(deadline).unwrap();
			assert_eq!(Balances::balance(&TREASURY), before, "the lower half is free, whatever the pressure");
			let c = order(deadline).unwrap();
			for id in [a, b, c] {
				assert_ok!(Jobs::cancel_job(RuntimeOrigin::signed(CLIENT), id));
			}
			Balances::balance(&TREASURY) - before
		};
		let issuance = Balances::total_issuance();
		let client = Balances::balance(&CLIENT);
		let mut paid = 0;
		for k in 0..5u64 {
			let got = squat(start + 10 + k);
			assert_eq!(got, 40 << k, "block {k}: ×4 for the last slot, ×2 for each block squatted before");
			paid += got;
		}
		assert_eq!(QueuePressure::<Test>::get(), (start, 5));
		assert_eq!(Balances::balance(&CLIENT), client - paid, "the escrow came back, the surcharges did not");
		assert_eq!(Balances::total_issuance(), issuance);

		// A quiet half-life halves the pressure (5 → 2): the next squat pays ×4.
		let half_life: u64 = <Test as crate::Config>::QueuePressureHalfLife::get();
		run_to(start + half_life);
		assert_eq!(squat(start + half_life + 10), 40 << 2);
		assert_eq!(QueuePressure::<Test>::get(), (start + half_life, 3));
		// Five quiet half-lives later it is gone.
		run_to(start + 6 * half_life);
		assert_eq!(squat(start + 6 * half_life + 10), 40);
	});
}

/// The worker's upload receipt for `job`'s input ([7; 32], as `by_hash` orders).
fn upload_receipt(job: u64, worker: &sp_core::sr25519::Pair) -> [u8; 64] {
	use sp_core::Pair;
	worker.sign(&agora_primitives::UploadReceipt { job_id: job, input_hash: [7; 32] }.signing_payload()).0
}

fn contest(who: AccountId, job: u64, sig: [u8; 64]) -> sp_runtime::DispatchResult {
	Jobs::contest_input_missing(RuntimeOrigin::signed(who), job, sig)
}

#[test]
fn a_false_report_contested_with_the_upload_receipt_costs_the_provider_and_refunds_the_client() {
	build_and_execute(|| {
		let model = setup_market();
		let issuance = Balances::total_issuance();
		let (bond, client, treasury) =
			(Slashing::active_bond(&P2), Balances::balance(&CLIENT), Balances::balance(&TREASURY));
		let start = System::block_number();
		let job = by_hash(CLIENT, model, 10);
		// The worker took the input and signed for it, then its provider
		// reported the input missing all the same.
		let sig = upload_receipt(job, &worker_of(P2));
		run_to(start + INPUT_GRACE);
		assert_ok!(report(P2, job));
		assert_eq!(Balances::balance(&CLIENT), client - BASE);

		assert_ok!(contest(CLIENT, job, sig));
		let j = JobsStore::<Test>::get(job).unwrap();
		assert_eq!(j.status, JobStatus::Fraud);
		// The client has its charge back, out of the provider's bond; the
		// provider lost the charge and MissedDeadlineSlash of the rest.
		assert_eq!(Balances::balance(&CLIENT), client);
		let slashed = <Test as crate::Config>::MissedDeadlineSlash::get().mul_floor(bond - BASE);
		assert!(slashed > 0);
		assert!(events().contains(&Event::InputReportContested {
			job_id: job,
			client: CLIENT,
			provider: P2,
			compensated: BASE,
			slashed,
		}));
		assert_eq!(Slashing::active_bond(&P2), bond - BASE - slashed);
		// The treasury keeps the forfeited charge and the slash.
		assert_eq!(Balances::balance(&TREASURY), treasury + BASE + slashed);
		assert_eq!(frauds(), vec![P2]);
		// The miss was never the client's.
		assert_eq!(InputMisses::<Test>::get(CLIENT), 0);
		// Once only.
		assert_noop!(contest(CLIENT, job, sig), Error::<Test>::NotInputMissing);
		// Slashing burns nothing and mints nothing.
		assert_eq!(Balances::total_issuance(), issuance);
	});
}

#[test]
fn every_bad_contest_is_refused_with_its_own_error_and_moves_nothing() {
	build_and_execute(|| {
		let model = setup_market();
		let start = System::block_number();
		let job = by_hash(CLIENT, model, 10);
		let other = by_hash(CLIENT, model, 10);
		let good = upload_receipt(job, &worker_of(P2));
		assert_noop!(contest(CLIENT, 99, good), Error::<Test>::UnknownJob);
		// Not reported (yet): nothing to contest.
		assert_noop!(contest(CLIENT, job, good), Error::<Test>::NotInputMissing);
		run_to(start + INPUT_GRACE);
		assert_ok!(report(P2, job));
		assert_ok!(report(P2, other));
		let (bond, client) = (Slashing::active_bond(&P2), Balances::balance(&CLIENT));
		// Only the client contests.
		assert_noop!(contest(CLIENT2, job, good), Error::<Test>::NotClient);
		assert_noop!(contest(P2, job, good), Error::<Test>::NotClient);
		// The receipt must be the job's worker's, for this job and this input.
		assert_noop!(contest(CLIENT, job, upload_receipt(job, &worker_of(P1))), Error::<Test>::BadUploadSignature);
		assert_noop!(contest(CLIENT, other, good), Error::<Test>::BadUploadSignature);
		let wrong_hash = {
			use sp_core::Pair;
			worker_of(P2).sign(&agora_primitives::UploadReceipt { job_id: job, input_hash: [8; 32] }.signing_payload()).0
		};
		assert_noop!(contest(CLIENT, job, wrong_hash), Error::<Test>::BadUploadSignature);
		// A job receipt signature by the same worker is no upload receipt.
		let (_, receipt_sig) = signed_receipt(job, &worker_of(P2), b"out", 3);
		assert_noop!(contest(CLIENT, job, receipt_sig), Error::<Test>::BadUploadSignature);
		assert_eq!((Slashing::active_bond(&P2), Balances::balance(&CLIENT)), (bond, client));
		// Once pruned (Retention after the report), the job is gone.
		let retention: u64 = <Test as crate::Config>::Retention::get();
		run_to(System::block_number() + retention + 1);
		assert_noop!(contest(CLIENT, job, good), Error::<Test>::UnknownJob);
	});
}
