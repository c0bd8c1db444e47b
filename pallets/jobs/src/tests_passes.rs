//! Pass jobs (docs/protocol.md §4.3): ordered against a service pass's quota,
//! assigned by AVRF whatever the offers' prices, paid nothing from escrow,
//! counted for the provider's reward only when finalized.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::arithmetic_side_effects, clippy::indexing_slicing)]

use crate::{mock::*, Error, InputParam, Jobs as JobsStore};
use agora_primitives::{passes::PassWork, JobMarket, JobStatus, PaymentMode};
use frame_support::{assert_noop, assert_ok, traits::fungible::Inspect};
use sp_runtime::DispatchError;

fn pass_order(client: AccountId, model: [u8; 32], deadline: u64) -> Result<u64, DispatchError> {
	let id = crate::NextJobId::<Test>::get();
	Jobs::submit_pass_job(RuntimeOrigin::signed(client), model, InputParam::Inline(b"hi".to_vec()), params(100), deadline)
		.map(|_| id)
		.map_err(|e| e.error)
}

fn receipt(job: u64, tokens: u32) {
	let p = JobsStore::<Test>::get(job).unwrap().provider;
	let (r, sig) = signed_receipt(job, &worker_of(p), b"output", tokens);
	assert_ok!(Jobs::submit_receipt(RuntimeOrigin::signed(p), job, r, sig));
}

fn used(client: AccountId) -> u32 {
	Passes::pass_view(&client).map(|v| v.used).unwrap_or(0)
}

fn work(provider: AccountId) -> PassWork {
	(0..5).filter_map(|e| pallet_passes::Work::<Test>::get(e, provider)).fold(PassWork::default(), |a, w| {
		PassWork { jobs: a.jobs + w.jobs, contribution: a.contribution + w.contribution }
	})
}

#[test]
fn a_pass_job_takes_quota_holds_nothing_and_counts_when_finalized() {
	build_and_execute(|| {
		let model = setup_market();
		// No pass: refused, nothing written.
		assert_noop!(pass_order(CLIENT, model, 10), pallet_passes::Error::<Test>::NoPass);
		assert_ok!(Passes::lock(RuntimeOrigin::signed(CLIENT), 2 * PASS_STAKE));
		let free = Balances::balance(&CLIENT);
		let job = pass_order(CLIENT, model, 10).unwrap();
		let j = JobsStore::<Test>::get(job).unwrap();
		assert_eq!((j.payment, j.max_price, j.status), (PaymentMode::Pass, 0, JobStatus::Assigned));
		assert!(j.avrf_seed.is_some(), "a pass job is drawn by AVRF");
		assert_eq!(Balances::balance(&CLIENT), free, "nothing held or charged");
		assert_eq!(used(CLIENT), 1);
		receipt(job, 7);
		let provider = j.provider;
		let before = Balances::total_balance(&provider);
		run_to(1 + WINDOW + 1);
		let j = JobsStore::<Test>::get(job).unwrap();
		assert_eq!((j.status, j.charge), (JobStatus::Finalized, Some(0)));
		assert_eq!(Balances::total_balance(&provider), before, "paid by the epoch's reward, not escrow");
		assert_eq!(work(provider), PassWork { jobs: 1, contribution: 1 });
		// The second request of the two; the third is over quota.
		assert_ok!(pass_order(CLIENT, model, 20));
		assert_noop!(pass_order(CLIENT, model, 20), pallet_passes::Error::<Test>::QuotaExhausted);
		// Epoch 1 (block 20) pays epoch 0's reward to the one provider that did work:
		// 10 % × 20 / 1,000 of the issuance.
		let issuance = Balances::total_issuance();
		run_to(PASS_EPOCH);
		let reward = issuance / 10 * PASS_EPOCH as u128 / 1_000;
		assert_eq!(Balances::total_issuance(), issuance + reward);
		assert_eq!(Balances::total_balance(&provider), before + reward);
	});
}

#[test]
fn a_pass_job_is_drawn_by_avrf_over_offers_of_any_price() {
	build_and_execute(|| {
		let model = setup_market();
		assert_ok!(Passes::lock(RuntimeOrigin::signed(CLIENT), 10 * PASS_STAKE));
		// An escrow order of 0 fits no offer; a pass order fits all three.
		assert_eq!(
			Jobs::submit_job(
				RuntimeOrigin::signed(CLIENT),
				model,
				InputParam::Inline(b"hi".to_vec()),
				params(100),
				0,
				10,
				None
			)
			.map_err(|e| e.error),
			Err(Error::<Test>::NoFittingOffer.into())
		);
		let mut seen = std::collections::BTreeSet::new();
		for i in 0..10u64 {
			set_vrf(1_000 + i);
			let job = pass_order(CLIENT, model, 40 + i).unwrap();
			let j = JobsStore::<Test>::get(job).unwrap();
			seen.insert(j.provider);
			// All three offers are candidates, whatever their prices, until one
			// is full (capacity 4).
			if i < 4 {
				assert_eq!(crate::Pallet::<Test>::assignment_of(job).unwrap().candidates.len(), 3);
			}
		}
		assert!(seen.len() > 1, "the draw spreads pass jobs over providers: {seen:?}");
	});
}

#[test]
fn an_unserved_pass_job_gives_its_request_back_and_counts_for_nobody() {
	build_and_execute(|| {
		let model = setup_market();
		assert_ok!(Passes::lock(RuntimeOrigin::signed(CLIENT), 3 * PASS_STAKE));
		// Cancelled before acknowledgement.
		let a = pass_order(CLIENT, model, 10).unwrap();
		assert_ok!(Jobs::cancel_job(RuntimeOrigin::signed(CLIENT), a));
		assert_eq!(used(CLIENT), 0);
		// Expired: the provider is slashed, the request comes back.
		let b = pass_order(CLIENT, model, 5).unwrap();
		assert_eq!(used(CLIENT), 1);
		run_to(6);
		assert_eq!(JobsStore::<Test>::get(b).unwrap().status, JobStatus::Expired);
		assert_eq!(used(CLIENT), 0);
		// Judged fraudulent: refunded (nothing was held) and never counted.
		let c = pass_order(CLIENT, model, 15).unwrap();
		receipt(c, 3);
		assert_ok!(<Jobs as JobMarket<_, _, _>>::begin_check(c));
		assert_ok!(<Jobs as JobMarket<_, _, _>>::close_fraud(c));
		assert_eq!(JobsStore::<Test>::get(c).unwrap().status, JobStatus::Fraud);
		assert_eq!(used(CLIENT), 0);
		run_to(PASS_EPOCH - 1);
		for p in [P1, P2, P3] {
			assert_eq!(work(p), PassWork::default());
		}
		// With no counted work, the epoch's end mints nothing.
		let issuance = Balances::total_issuance();
		run_to(PASS_EPOCH + 1);
		assert_eq!(Balances::total_issuance(), issuance);
	});
}

#[test]
fn a_request_taken_in_an_ended_epoch_is_not_given_back_into_the_next() {
	build_and_execute(|| {
		let model = setup_market();
		assert_ok!(Passes::lock(RuntimeOrigin::signed(CLIENT), PASS_STAKE));
		run_to(PASS_EPOCH - 2);
		let a = pass_order(CLIENT, model, PASS_EPOCH + 5).unwrap();
		run_to(PASS_EPOCH + 1);
		// Epoch 1: a fresh quota of 1, taken.
		let _b = pass_order(CLIENT, model, PASS_EPOCH + 10).unwrap();
		assert_noop!(pass_order(CLIENT, model, PASS_EPOCH + 10), pallet_passes::Error::<Test>::QuotaExhausted);
		// Job a (epoch 0) expires in epoch 1: its request is not returned to epoch 1.
		run_to(PASS_EPOCH + 6);
		assert_eq!(JobsStore::<Test>::get(a).unwrap().status, JobStatus::Expired);
		assert_noop!(pass_order(CLIENT, model, PASS_EPOCH + 10), pallet_passes::Error::<Test>::QuotaExhausted);
	});
}
