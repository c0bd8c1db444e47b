//! Tests of verification in `pallet-jobs` (docs/protocol.md §6): random audits, disputes,
//! committee votes, verdicts, timeouts, and the off-chain worker's check against
//! a mocked provider and verifier.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::arithmetic_side_effects, clippy::indexing_slicing)]
#![allow(deprecated)] // ValidateUnsigned: see the note on the pallet's impl

use crate::{
	mock::*, tests::events, Audits, Error, Event, FinalizeQueue, InputParam, Jobs as JobsStore,
};
use agora_primitives::{AuditVote, JobStatus, ProviderBonds, SlashReason};
use frame_support::{
	assert_noop, assert_ok,
	traits::fungible::{Inspect, InspectHold},
};
use sp_runtime::{
	testing::UintAuthorityId,
	traits::ValidateUnsigned,
	transaction_validity::{InvalidTransaction, TransactionSource},
	RuntimeAppPublic,
};

fn submit(model: [u8; 32], provider: AccountId) -> u64 {
	let id = crate::NextJobId::<Test>::get();
	assert_ok!(Jobs::submit_job(
		RuntimeOrigin::signed(CLIENT),
		model,
		InputParam::Inline(b"Hello".to_vec()),
		params(1_000),
		5_000,
		System::block_number() + 10,
		Some(provider)
	));
	id
}

fn receipt(job: u64, output: &[u8]) {
	let p = JobsStore::<Test>::get(job).unwrap().provider;
	let (r, sig) = signed_receipt(job, &worker_of(p), output, 500);
	assert_ok!(Jobs::submit_receipt(RuntimeOrigin::signed(p), job, r, sig));
}

fn vote(job: u64, member: u32, v: AuditVote) -> sp_runtime::DispatchResult {
	let (p, s) = signed_vote(job, member, v);
	Jobs::vote(RuntimeOrigin::none(), p, s)
}

/// A market with every receipt audited, and one receipted job of P1's.
fn audited_job() -> u64 {
	let model = setup_market();
	AuditRate::set(1_000_000);
	set_vrf(7);
	let job = submit(model, P1);
	receipt(job, b"output");
	job
}

fn bond(who: AccountId) -> Balance {
	<Slashing as ProviderBonds<AccountId>>::active_bond(&who)
}

#[test]
fn a_receipt_drawn_for_audit_waits_for_the_committee() {
	build_and_execute(|| {
		let job = audited_job();
		let j = JobsStore::<Test>::get(job).unwrap();
		assert_eq!(j.status, JobStatus::Disputed);
		let a = Audits::<Test>::get(job).unwrap();
		assert_eq!(a.committee.len(), COMMITTEE as usize);
		let mut members: Vec<_> = a.committee.iter().map(|(v, _)| *v).collect();
		assert!(members.iter().all(|m| VALIDATORS.contains(m)));
		members.dedup();
		assert_eq!(members.len(), COMMITTEE as usize, "members are distinct");
		assert_eq!(a.vote_deadline, System::block_number() + VOTE_TIMEOUT);
		assert!(a.challenger.is_none());
		// Not in any finalize queue: it cannot be paid before a verdict.
		assert!(FinalizeQueue::<Test>::iter().all(|(_, q)| !q.contains(&job)));
		assert_noop!(Jobs::finalize(RuntimeOrigin::signed(CLIENT), job), Error::<Test>::InvalidState);
		assert!(events().iter().any(|e| matches!(e, Event::AuditStarted { challenger: None, .. })));
	});
}

#[test]
fn audit_rate_zero_audits_nothing_and_the_draw_follows_the_rate() {
	build_and_execute(|| {
		let model = setup_market();
		AuditRate::set(0);
		let job = submit(model, P1);
		receipt(job, b"output");
		assert_eq!(JobsStore::<Test>::get(job).unwrap().status, JobStatus::Receipted);
		// At 25 %, over 400 VRF outputs, about 100 jobs are drawn.
		AuditRate::set(250_000);
		let drawn = (0..400u64)
			.filter(|i| {
				set_vrf(1_000 + i);
				Jobs::drawn_for_audit(*i)
			})
			.count();
		assert!((60..=140).contains(&drawn), "drawn = {drawn}");
	});
}

#[test]
fn a_receipt_not_drawn_is_refunded_the_audit_weight() {
	use crate::WeightInfo;
	build_and_execute(|| {
		let model = setup_market();
		let job = submit(model, P1);
		let (r, sig) = signed_receipt(job, &worker_of(P1), b"output", 500);
		let info = Jobs::submit_receipt(RuntimeOrigin::signed(P1), job, r, sig).unwrap();
		assert_eq!(info.actual_weight, Some(<() as WeightInfo>::submit_receipt()));
		AuditRate::set(1_000_000);
		let job = submit(model, P2);
		let (r, sig) = signed_receipt(job, &worker_of(P2), b"output", 500);
		let info = Jobs::submit_receipt(RuntimeOrigin::signed(P2), job, r, sig).unwrap();
		assert_eq!(info.actual_weight, None, "an audited receipt pays the declared worst case");
	});
}

#[test]
fn a_majority_of_invalid_votes_is_fraud() {
	build_and_execute(|| {
		let job = audited_job();
		let client_before = Balances::balance(&CLIENT);
		let bond_before = bond(P1);
		let issuance = Balances::total_issuance();
		assert_ok!(vote(job, 0, AuditVote::Invalid));
		assert_eq!(JobsStore::<Test>::get(job).unwrap().status, JobStatus::Disputed);
		assert_ok!(vote(job, 1, AuditVote::Invalid));
		let j = JobsStore::<Test>::get(job).unwrap();
		assert_eq!(j.status, JobStatus::Fraud);
		// Refunded in full, slashed FraudSlash (50 %) of the bond, reputation floored.
		assert_eq!(Balances::balance(&CLIENT), client_before + 5_000);
		assert_eq!(bond(P1), bond_before / 2);
		assert_eq!(frauds(), vec![P1]);
		assert!(Audits::<Test>::get(job).is_none());
		assert_eq!(<Jobs as agora_primitives::OpenJobs<_>>::open_jobs(&P1), 0);
		assert_eq!(Balances::total_issuance(), issuance);
		assert!(events().iter().any(|e| matches!(e,
			Event::JobFraud { provider: P1, reason: SlashReason::Fraud, refunded: 5_000, to_challenger: 0, .. })));
		// The verdict is final: the last member's vote finds no check.
		assert_noop!(vote_after(job), Error::<Test>::NoAudit);
	});
}

fn vote_after(job: u64) -> sp_runtime::DispatchResult {
	let key = UintAuthorityId(VALIDATORS[0]);
	let payload = agora_primitives::VotePayload { job_id: job, member: 2, vote: AuditVote::Valid };
	let sig = key.sign(&payload.signing_payload()).unwrap();
	Jobs::vote(RuntimeOrigin::none(), payload, sig)
}

#[test]
fn a_majority_of_withheld_votes_is_withholding() {
	build_and_execute(|| {
		let job = audited_job();
		assert_ok!(vote(job, 0, AuditVote::Withheld));
		assert_ok!(vote(job, 2, AuditVote::Withheld));
		assert_eq!(JobsStore::<Test>::get(job).unwrap().status, JobStatus::Fraud);
		assert!(events()
			.iter()
			.any(|e| matches!(e, Event::JobFraud { reason: SlashReason::Withholding, .. })));
	});
}

#[test]
fn a_majority_of_valid_votes_upholds_and_pays_as_normal() {
	build_and_execute(|| {
		let job = audited_job();
		let at = JobsStore::<Test>::get(job).unwrap().receipt.unwrap().at;
		assert_ok!(vote(job, 0, AuditVote::Valid));
		assert_ok!(vote(job, 1, AuditVote::Invalid));
		assert_ok!(vote(job, 2, AuditVote::Valid));
		let j = JobsStore::<Test>::get(job).unwrap();
		assert_eq!(j.status, JobStatus::Receipted);
		assert_eq!(j.receipt.unwrap().finalize_at, at + WINDOW);
		assert!(events().iter().any(|e| matches!(e, Event::AuditPassed { bond_to_provider: 0, .. })));
		run_to(at + WINDOW);
		let j = JobsStore::<Test>::get(job).unwrap();
		assert_eq!((j.status, j.charge), (JobStatus::Finalized, Some(600)));
		assert!(frauds().is_empty());
	});
}

#[test]
fn no_majority_by_the_deadline_pays_as_normal_and_names_the_non_voters() {
	build_and_execute(|| {
		let job = audited_job();
		let a = Audits::<Test>::get(job).unwrap();
		assert_ok!(vote(job, 1, AuditVote::Invalid));
		let p1_before = Balances::balance(&P1);
		run_to(a.vote_deadline);
		let j = JobsStore::<Test>::get(job).unwrap();
		// The window had passed: finalized in the deadline block itself.
		assert_eq!(j.status, JobStatus::Finalized);
		assert_eq!(Balances::balance(&P1), p1_before + 564);
		let expected = vec![a.committee[0].0, a.committee[2].0];
		assert!(events().iter().any(|e| matches!(e,
			Event::AuditTimedOut { non_voters, .. } if *non_voters == expected)));
		assert!(frauds().is_empty());
	});
}

#[test]
fn a_dispute_that_finds_fraud_rewards_the_challenger() {
	build_and_execute(|| {
		let model = setup_market();
		let job = submit(model, P2);
		receipt(job, b"output");
		let before = Balances::balance(&CHALLENGER);
		assert_ok!(Jobs::dispute(RuntimeOrigin::signed(CHALLENGER), job));
		assert_eq!(Balances::balance_on_hold(&crate::HoldReason::DisputeBond.into(), &CHALLENGER), DISPUTE_BOND);
		assert_eq!(JobsStore::<Test>::get(job).unwrap().status, JobStatus::Disputed);
		assert!(FinalizeQueue::<Test>::iter().all(|(_, q)| !q.contains(&job)));
		let slash = bond(P2) / 2;
		assert_ok!(vote(job, 0, AuditVote::Invalid));
		assert_ok!(vote(job, 1, AuditVote::Invalid));
		// Bond back, plus ChallengerReward (20 %) of the slash.
		assert_eq!(Balances::balance(&CHALLENGER), before + slash / 5);
		assert_eq!(Balances::balance_on_hold(&crate::HoldReason::DisputeBond.into(), &CHALLENGER), 0);
		assert!(events().iter().any(|e| matches!(e,
			Event::JobFraud { provider: P2, to_challenger, .. } if *to_challenger == slash / 5)));
	});
}

#[test]
fn a_dispute_against_an_honest_receipt_costs_the_bond() {
	build_and_execute(|| {
		let model = setup_market();
		let job = submit(model, P2);
		receipt(job, b"output");
		let (c0, p0, t0) = (Balances::balance(&CHALLENGER), Balances::balance(&P2), Balances::balance(&TREASURY));
		assert_ok!(Jobs::dispute(RuntimeOrigin::signed(CHALLENGER), job));
		assert_ok!(vote(job, 0, AuditVote::Valid));
		assert_ok!(vote(job, 1, AuditVote::Valid));
		// LostBondToProvider (50 %) to the provider, the rest to the treasury.
		assert_eq!(Balances::balance(&CHALLENGER), c0 - DISPUTE_BOND);
		assert_eq!(Balances::balance(&P2), p0 + DISPUTE_BOND / 2);
		assert_eq!(Balances::balance(&TREASURY), t0 + DISPUTE_BOND / 2);
		assert_eq!(JobsStore::<Test>::get(job).unwrap().status, JobStatus::Receipted);
		assert!(events().iter().any(|e| matches!(e, Event::AuditPassed { bond_to_provider: 250, bond_to_treasury: 250, .. })));
	});
}

#[test]
fn a_dispute_joins_a_running_audit_once() {
	build_and_execute(|| {
		let job = audited_job();
		let deadline = Audits::<Test>::get(job).unwrap().vote_deadline;
		assert_ok!(Jobs::dispute(RuntimeOrigin::signed(CHALLENGER), job));
		let a = Audits::<Test>::get(job).unwrap();
		assert_eq!(a.challenger, Some((CHALLENGER, DISPUTE_BOND)));
		assert_eq!(a.vote_deadline, deadline, "the same check");
		assert_noop!(Jobs::dispute(RuntimeOrigin::signed(CLIENT), job), Error::<Test>::AlreadyDisputed);
		// Timed out with no verdict: the bond comes back.
		let before = Balances::balance(&CHALLENGER);
		run_to(deadline);
		assert_eq!(Balances::balance(&CHALLENGER), before + DISPUTE_BOND);
	});
}

#[test]
fn dispute_errors_move_no_funds() {
	build_and_execute(|| {
		let model = setup_market();
		let job = submit(model, P1);
		assert_noop!(Jobs::dispute(RuntimeOrigin::signed(CHALLENGER), 99), Error::<Test>::UnknownJob);
		// No receipt yet.
		assert_noop!(Jobs::dispute(RuntimeOrigin::signed(CHALLENGER), job), Error::<Test>::InvalidState);
		receipt(job, b"output");
		// A challenger that cannot cover the bond.
		assert_noop!(Jobs::dispute(RuntimeOrigin::signed(PUBLISHER), job), Error::<Test>::InsufficientBond);
		// No validators: no committee.
		let keep = crate::Verifiers::<Test>::take();
		assert_noop!(Jobs::dispute(RuntimeOrigin::signed(CHALLENGER), job), Error::<Test>::NoCommittee);
		crate::Verifiers::<Test>::put(keep);
		assert_ok!(Jobs::dispute(RuntimeOrigin::signed(CHALLENGER), job));
		assert_noop!(Jobs::dispute(RuntimeOrigin::signed(CLIENT), job), Error::<Test>::AlreadyDisputed);

		// After the window.
		let job2 = submit(model, P2);
		receipt(job2, b"output");
		run_to(System::block_number() + WINDOW);
		assert_noop!(Jobs::dispute(RuntimeOrigin::signed(CLIENT), job2), Error::<Test>::InvalidState);
		let job3 = submit(model, P3);
		receipt(job3, b"output");
		run_to(System::block_number() + WINDOW - 1);
		// The window's last block has not been reached yet by finalization, but
		// disputes close with it.
		System::set_block_number(System::block_number() + 1);
		assert_noop!(Jobs::dispute(RuntimeOrigin::signed(CLIENT), job3), Error::<Test>::WindowClosed);
	});
}

#[test]
fn votes_only_from_the_committee_once_each() {
	build_and_execute(|| {
		let job = audited_job();
		let a = Audits::<Test>::get(job).unwrap();
		let outsider = VALIDATORS.iter().find(|v| !a.committee.iter().any(|(m, _)| m == *v)).unwrap();
		// A validator outside the committee signs as member 0.
		let payload = agora_primitives::VotePayload { job_id: job, member: 0, vote: AuditVote::Invalid };
		let sig = UintAuthorityId(*outsider).sign(&payload.signing_payload()).unwrap();
		assert_noop!(
			Jobs::vote(RuntimeOrigin::none(), payload.clone(), sig.clone()),
			Error::<Test>::NotCommitteeKey
		);
		assert_eq!(
			Jobs::validate_unsigned(TransactionSource::External, &crate::Call::vote { payload, signature: sig }),
			Err(InvalidTransaction::BadProof.into())
		);
		// No such member.
		let payload = agora_primitives::VotePayload { job_id: job, member: 3, vote: AuditVote::Invalid };
		let sig = UintAuthorityId(*outsider).sign(&payload.signing_payload()).unwrap();
		assert_noop!(Jobs::vote(RuntimeOrigin::none(), payload, sig), Error::<Test>::NotInCommittee);
		// A signed origin is refused.
		let (p, s) = signed_vote(job, 0, AuditVote::Valid);
		assert_noop!(Jobs::vote(RuntimeOrigin::signed(CLIENT), p.clone(), s.clone()), sp_runtime::DispatchError::BadOrigin);
		// The pool admits the member's vote, tagged (job, member), until the deadline.
		let valid = Jobs::validate_unsigned(TransactionSource::External, &crate::Call::vote {
			payload: p.clone(),
			signature: s.clone(),
		})
		.unwrap();
		assert_eq!(valid.longevity, VOTE_TIMEOUT);
		assert_eq!(valid.provides.len(), 1);
		assert_ok!(Jobs::vote(RuntimeOrigin::none(), p.clone(), s.clone()));
		assert_noop!(Jobs::vote(RuntimeOrigin::none(), p.clone(), s.clone()), Error::<Test>::AlreadyVoted);
		assert_eq!(
			Jobs::validate_unsigned(TransactionSource::External, &crate::Call::vote { payload: p, signature: s }),
			Err(InvalidTransaction::Stale.into())
		);
		// A vote on a job under no check.
		let payload = agora_primitives::VotePayload { job_id: 77, member: 0, vote: AuditVote::Valid };
		let sig = UintAuthorityId(VALIDATORS[0]).sign(&payload.signing_payload()).unwrap();
		assert_noop!(Jobs::vote(RuntimeOrigin::none(), payload, sig), Error::<Test>::NoAudit);
	});
}

#[test]
fn the_committee_is_a_deterministic_draw_of_distinct_validators() {
	build_and_execute(|| {
		set_vrf(1);
		let a = Jobs::draw_committee(5).unwrap();
		let b = Jobs::draw_committee(5).unwrap();
		assert_eq!(a, b, "same VRF and job: same committee");
		// Every validator sits on some committees, never twice on one.
		let mut seen = std::collections::BTreeSet::new();
		for job in 0..50 {
			let c = Jobs::draw_committee(job).unwrap();
			let ids: std::collections::BTreeSet<_> = c.iter().map(|(v, _)| *v).collect();
			assert_eq!(ids.len(), COMMITTEE as usize);
			seen.extend(ids);
		}
		assert_eq!(seen.len(), VALIDATORS.len());
		// Fewer validators than COMMITTEE_SIZE: all of them.
		crate::Verifiers::<Test>::put(frame_support::BoundedVec::truncate_from(vec![(20, UintAuthorityId(20))]));
		assert_eq!(Jobs::draw_committee(1).unwrap().len(), 1);
	});
}

#[test]
fn governed_committee_size_is_clamped_to_its_bound() {
	build_and_execute(|| {
		CommitteeSize::set(1);
		assert_eq!(Jobs::draw_committee(1).unwrap().len(), 1);
		// Above MaxCommitteeSize (5): at most the 4 validators there are.
		CommitteeSize::set(100);
		assert_eq!(Jobs::draw_committee(1).unwrap().len(), VALIDATORS.len());
		CommitteeSize::set(0);
		assert_eq!(Jobs::draw_committee(1).unwrap().len(), 1, "never an empty committee");
	});
}

#[test]
fn a_new_dispute_window_applies_to_receipts_accepted_after_it() {
	build_and_execute(|| {
		let model = setup_market();
		let old = submit(model, P1);
		receipt(old, b"old");
		let at = System::block_number();
		DisputeWindow::set(WINDOW + 4);
		let new = submit(model, P1);
		receipt(new, b"new");
		let end = |j| JobsStore::<Test>::get(j).unwrap().receipt.unwrap().window_end;
		assert_eq!(end(old), at + WINDOW);
		assert_eq!(end(new), at + WINDOW + 4);
		System::set_block_number(at + WINDOW);
		assert_ok!(Jobs::finalize(RuntimeOrigin::signed(CLIENT), old));
		assert_noop!(Jobs::finalize(RuntimeOrigin::signed(CLIENT), new), Error::<Test>::TooEarly);
		// Still open to dispute under the window it was accepted with.
		assert_ok!(Jobs::dispute(RuntimeOrigin::signed(CHALLENGER), new));
	});
}

#[test]
fn the_governed_input_limit_refuses_longer_inputs_and_moves_nothing() {
	build_and_execute(|| {
		let model = setup_market();
		InputLimit::set(4);
		let free = Balances::balance(&CLIENT);
		assert_noop!(
			Jobs::submit_job(
				RuntimeOrigin::signed(CLIENT),
				model,
				InputParam::Inline(b"Hello".to_vec()),
				params(1_000),
				5_000,
				System::block_number() + 10,
				Some(P1)
			),
			Error::<Test>::InputTooLong
		);
		assert_eq!(Balances::balance(&CLIENT), free);
		InputLimit::set(5);
		submit(model, P1);
	});
}

mod offchain {
	use super::*;
	use codec::Decode;
	use frame_support::traits::Hooks;
	use sp_core::offchain::{
		testing::{PendingRequest, TestOffchainExt, TestTransactionPoolExt},
		OffchainDbExt, OffchainWorkerExt, TransactionPoolExt,
	};
	use sp_runtime::offchain::storage::StorageValueRef;

	fn with_offchain(test: impl FnOnce(&std::sync::Arc<parking_lot::RwLock<sp_core::offchain::testing::OffchainState>>, &std::sync::Arc<parking_lot::RwLock<sp_core::offchain::testing::PoolState>>)) {
		let mut ext = new_test_ext();
		let (offchain, state) = TestOffchainExt::new();
		let (pool, pool_state) = TestTransactionPoolExt::new();
		ext.register_extension(OffchainDbExt::new(offchain.clone()));
		ext.register_extension(OffchainWorkerExt::new(offchain));
		ext.register_extension(TransactionPoolExt::new(pool));
		ext.execute_with(|| {
			test(&state, &pool_state);
			check_invariants();
		});
	}

	fn submitted_votes(pool: &parking_lot::RwLock<sp_core::offchain::testing::PoolState>) -> Vec<agora_primitives::VotePayload> {
		pool.read()
			.transactions
			.iter()
			.map(|t| {
				let xt = Extrinsic::decode(&mut &t[..]).unwrap();
				match xt.function {
					RuntimeCall::Jobs(crate::Call::vote { payload, .. }) => payload,
					other => panic!("unexpected call {other:?}"),
				}
			})
			.collect()
	}

	#[test]
	fn a_member_fetches_the_output_asks_its_verifier_and_votes() {
		with_offchain(|state, pool| {
			let job = audited_job();
			let a = Audits::<Test>::get(job).unwrap();
			// This node holds member 1's key.
			let me = a.committee[1].0;
			UintAuthorityId::set_all_keys(vec![me]);
			StorageValueRef::persistent(crate::VERIFIER_STORAGE_KEY).set(&b"http://127.0.0.1:8800".to_vec());
			let stored = JobsStore::<Test>::get(job).unwrap();
			let req = agora_primitives::VerifyRequest {
				job_id: job,
				model_id: stored.model_id,
				input: b"Hello".to_vec(),
				params: params(1_000),
				job_seed: stored.job_seed,
				output_tokens: stored.receipt.unwrap().output_tokens,
				output: b"output".to_vec(),
			};
			{
				let mut s = state.write();
				s.expect_request(PendingRequest {
					method: "GET".into(),
					uri: format!("http://127.0.0.1:8700/v1/jobs/{job}/output"),
					response: Some(b"output".to_vec()),
					sent: true,
					..Default::default()
				});
				s.expect_request(PendingRequest {
					method: "POST".into(),
					uri: "http://127.0.0.1:8800/v1/verify".into(),
					headers: vec![("Content-Type".into(), "application/scale".into())],
					body: codec::Encode::encode(&req),
					response: Some(b"{\"valid\":true}".to_vec()),
					response_headers: vec![(agora_primitives::jobs::VERDICT_HEADER.into(), "valid".into())],
					sent: true,
					..Default::default()
				});
			}
			Jobs::offchain_worker(System::block_number());
			assert_eq!(
				submitted_votes(pool),
				vec![agora_primitives::VotePayload { job_id: job, member: 1, vote: AuditVote::Valid }]
			);
			// The next block's worker does not vote again.
			Jobs::offchain_worker(System::block_number() + 1);
			assert_eq!(submitted_votes(pool).len(), 1);
		});
	}

	#[test]
	fn an_output_that_does_not_match_the_receipt_is_invalid_without_the_verifier() {
		with_offchain(|state, pool| {
			let job = audited_job();
			let a = Audits::<Test>::get(job).unwrap();
			UintAuthorityId::set_all_keys(vec![a.committee[0].0]);
			StorageValueRef::persistent(crate::VERIFIER_STORAGE_KEY).set(&b"http://127.0.0.1:8800".to_vec());
			state.write().expect_request(PendingRequest {
				method: "GET".into(),
				uri: format!("http://127.0.0.1:8700/v1/jobs/{job}/output"),
				response: Some(b"something else".to_vec()),
				sent: true,
				..Default::default()
			});
			Jobs::offchain_worker(System::block_number());
			assert_eq!(
				submitted_votes(pool),
				vec![agora_primitives::VotePayload { job_id: job, member: 0, vote: AuditVote::Invalid }]
			);
		});
	}

	#[test]
	fn a_node_without_committee_keys_does_nothing() {
		with_offchain(|_, pool| {
			let _job = audited_job();
			UintAuthorityId::set_all_keys(vec![99u64]);
			Jobs::offchain_worker(System::block_number());
			assert!(pool.read().transactions.is_empty());
		});
	}
}
