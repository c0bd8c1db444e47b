//! Tests of `pallet-verification` (docs/protocol.md §6) with the real job market:
//! random audits, disputes, committee votes, verdicts, timeouts. The off-chain
//! check is in `tests_offchain.rs`, random call sequences in `tests_props.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::arithmetic_side_effects, clippy::indexing_slicing)]
#![allow(deprecated)] // ValidateUnsigned: see the note on the pallet's impl

use crate::{mock::*, Audits, Error, Event};
use pallet_escrow::HoldReason;
use pallet_jobs::{Error as JobsError, FinalizeQueue, InputParam, Jobs as JobsStore};
use agora_primitives::{AuditVote, JobStatus, ProviderBonds, SlashReason};
use frame_support::{
	assert_noop, assert_ok,
	traits::{
		fungible::{Inspect, InspectHold, Mutate},
		Hooks,
	},
};
use sp_runtime::{
	testing::UintAuthorityId,
	traits::ValidateUnsigned,
	transaction_validity::{InvalidTransaction, TransactionSource},
	RuntimeAppPublic,
};

fn submit(model: [u8; 32], provider: AccountId) -> u64 {
	submit_due(model, provider, System::block_number() + 10)
}

/// The client's order of `model` from `provider`, due by `deadline`.
fn submit_due(model: [u8; 32], provider: AccountId, deadline: u64) -> u64 {
	let id = pallet_jobs::NextJobId::<Test>::get();
	assert_ok!(Jobs::submit_job(
		RuntimeOrigin::signed(CLIENT),
		model,
		InputParam::Inline(b"Hello".to_vec()),
		params(1_000),
		5_000,
		deadline,
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
	Verification::vote(RuntimeOrigin::none(), p, s)
}

/// A market with every receipt audited, and one receipted job of P1's, its
/// audit drawn (`AUDIT_DELAY` blocks after the receipt).
pub(crate) fn audited_job() -> u64 {
	let model = setup_market();
	AuditRate::set(1_000_000);
	set_vrf(7);
	let job = submit(model, P1);
	receipt(job, b"output");
	assert_eq!(JobsStore::<Test>::get(job).unwrap().status, JobStatus::Receipted, "not drawn yet");
	run_to(System::block_number() + AUDIT_DELAY);
	job
}

pub(crate) fn events() -> Vec<Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|r| if let RuntimeEvent::Verification(e) = r.event { Some(e) } else { None })
		.collect()
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
		assert!(FinalizeQueue::<Test>::iter().all(|(_, id, ())| id != job));
		assert_noop!(Jobs::finalize(RuntimeOrigin::signed(CLIENT), job), JobsError::<Test>::InvalidState);
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
				Verification::drawn_for_audit(*i)
			})
			.count();
		assert!((60..=140).contains(&drawn), "drawn = {drawn}");
	});
}

/// The attack: a provider that also authors blocks knows its own block's VRF
/// output before it builds the block, so it includes its receipts only in
/// blocks whose VRF does not draw them. The draw uses the VRF output of the
/// block `AUDIT_DELAY` later, which it does not know, and over 600 receipts
/// it is audited at `AUDIT_RATE` (20 %) within 3.5 standard deviations.
#[test]
fn a_provider_that_authors_the_receipt_block_cannot_dodge_its_audit() {
	build_and_execute(|| {
		let model = setup_market();
		AuditRate::set(200_000);
		let (n, mut audited, mut dodged_at_receipt) = (600u64, 0u64, 0u64);
		let mut draw = 0u64;
		for _ in 0..n {
			let job = submit(model, P1);
			// The attacker authors this block: it picks a VRF output that does
			// not draw the job (what the receipt-block draw let it do).
			let now = System::block_number();
			let mine = (0..).map(|k| now * 1_000 + k).find(|k| {
				set_vrf(*k);
				!Verification::drawn_for_audit(job)
			});
			set_vrf(mine.unwrap());
			dodged_at_receipt += u64::from(!Verification::drawn_for_audit(job));
			receipt(job, b"output");
			// Blocks up to the draw are authored by others (fresh VRF outputs).
			for b in 1..=AUDIT_DELAY {
				draw += 1;
				System::set_block_number(now + b);
				set_vrf(u64::MAX - draw);
				<Verification as Hooks<u64>>::on_initialize(now + b);
				<Jobs as Hooks<u64>>::on_initialize(now + b);
			}
			if Audits::<Test>::contains_key(job) {
				audited += 1;
				// Settle the check so the offer's capacity frees up.
				assert_ok!(vote(job, 0, AuditVote::Valid));
				assert_ok!(vote(job, 1, AuditVote::Valid));
			}
			run_to(System::block_number() + WINDOW + 1);
		}
		assert_eq!(dodged_at_receipt, n, "each receipt block's own VRF would not have drawn it");
		println!("a dodging provider-author: audited {audited} of {n} receipts at AUDIT_RATE 20 %");
		// Binomial(600, 0.2): mean 120, sd 9.8.
		assert!((86..=154).contains(&audited), "audited {audited} of {n}");
	});
}

#[test]
fn the_audit_draw_waits_for_the_delay_and_skips_a_disputed_receipt() {
	build_and_execute(|| {
		let model = setup_market();
		AuditRate::set(1_000_000);
		let job = submit(model, P1);
		receipt(job, b"output");
		let at = System::block_number();
		assert!(crate::AuditDraws::<Test>::contains_key(at + AUDIT_DELAY, job));
		run_to(at + AUDIT_DELAY - 1);
		assert_eq!(JobsStore::<Test>::get(job).unwrap().status, JobStatus::Receipted);
		run_to(at + AUDIT_DELAY);
		assert_eq!(JobsStore::<Test>::get(job).unwrap().status, JobStatus::Disputed);
		// A receipt disputed before its draw keeps the dispute's check.
		let job2 = submit(model, P2);
		receipt(job2, b"output");
		assert_ok!(Verification::dispute(RuntimeOrigin::signed(CHALLENGER), job2));
		let check = Audits::<Test>::get(job2).unwrap();
		run_to(System::block_number() + AUDIT_DELAY);
		assert_eq!(Audits::<Test>::get(job2).unwrap(), check);
		// Rate 0 when the receipt lands: no draw is queued.
		AuditRate::set(0);
		let job3 = submit(model, P3);
		receipt(job3, b"output");
		assert!(crate::AuditDraws::<Test>::iter().all(|(_, id, ())| id != job3));
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
	Verification::vote(RuntimeOrigin::none(), payload, sig)
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

/// The attack: members who never vote, hoping the receipt is paid by default.
/// Each deadline without a majority strikes them and replaces them with
/// validators not yet on the committee; after `MAX_REDRAWS` re-draws the job
/// ends `Unverified`: the client refunded, the provider neither paid nor slashed.
#[test]
fn no_majority_strikes_and_replaces_non_voters_then_ends_unverified() {
	build_and_execute(|| {
		let job = audited_job();
		let a = Audits::<Test>::get(job).unwrap();
		assert_ok!(vote(job, 1, AuditVote::Invalid));
		let (client0, p1_0, bond0) = (Balances::balance(&CLIENT), Balances::balance(&P1), bond(P1));
		run_to(a.vote_deadline);
		let b = Audits::<Test>::get(job).expect("re-drawn, not ended");
		assert_eq!((b.redraws, b.vote_deadline), (1, a.vote_deadline + VOTE_TIMEOUT));
		assert_eq!(b.committee[1], a.committee[1], "the voter stays");
		assert_eq!(b.votes.to_vec(), vec![(1, AuditVote::Invalid)]);
		// The one validator left over replaces the first non-voter; the
		// second keeps its seat (there is nobody else), struck.
		let spare = VALIDATORS.iter().find(|v| !a.committee.iter().any(|(m, _)| m == *v)).unwrap();
		assert_eq!(b.committee[0].0, *spare);
		assert_eq!(b.committee[2], a.committee[2]);
		for (i, (m, _)) in a.committee.iter().enumerate() {
			assert_eq!(crate::Strikes::<Test>::get(m), u32::from(i != 1), "member {i}");
		}
		assert_eq!(JobsStore::<Test>::get(job).unwrap().status, JobStatus::Disputed, "not paid");
		run_to(b.vote_deadline);
		let c = Audits::<Test>::get(job).expect("second re-draw");
		assert_eq!(c.redraws, 2);
		run_to(c.vote_deadline);
		assert!(Audits::<Test>::get(job).is_none());
		let j = JobsStore::<Test>::get(job).unwrap();
		assert_eq!((j.status, j.charge), (JobStatus::Unverified, None));
		assert_eq!(Balances::balance(&CLIENT), client0 + 5_000, "refunded in full");
		assert_eq!((Balances::balance(&P1), bond(P1)), (p1_0, bond0), "neither paid nor slashed");
		// Member 2 missed all three deadlines: reported at its third strike
		// (STRIKE_THRESHOLD), its count started again.
		assert_eq!(crate::Strikes::<Test>::get(a.committee[2].0), 0);
		assert_eq!(reported(), vec![(vec![a.committee[2].0], job)]);
		assert!(events().iter().any(|e| matches!(e,
			Event::NonVotersReported { validators, .. } if *validators == vec![a.committee[2].0])));
		assert!(events().iter().any(|e| matches!(e,
			Event::AuditTimedOut { refunded: 5_000, non_voters, .. } if non_voters.len() == 2)));
		assert!(frauds().is_empty());
	});
}

/// A hook step that fails half-way leaves nothing behind: a check whose
/// re-draw finds every vote-deadline queue full is rolled back (no strikes, no
/// new members) and parked one block on, where it runs again.
#[test]
fn a_failed_timeout_step_is_undone_and_retried() {
	build_and_execute(|| {
		let job = audited_job();
		let a = Audits::<Test>::get(job).unwrap();
		let target = a.vote_deadline + VOTE_TIMEOUT;
		let full = frame_support::BoundedVec::truncate_from(vec![u64::MAX; MAX_PER_BLOCK as usize]);
		for b in target..target + 16 {
			crate::AuditTimeouts::<Test>::insert(b, full.clone());
		}
		let client0 = Balances::balance(&CLIENT);
		run_to(a.vote_deadline);
		let parked = Audits::<Test>::get(job).unwrap();
		assert_eq!((parked.redraws, parked.vote_deadline), (0, a.vote_deadline + 1), "parked, not re-drawn");
		assert_eq!(parked.committee, a.committee);
		assert!(a.committee.iter().all(|(m, _)| crate::Strikes::<Test>::get(m) == 0), "no strike survived");
		assert_eq!(Balances::balance(&CLIENT), client0);
		for b in target..target + 16 {
			crate::AuditTimeouts::<Test>::remove(b);
		}
		run_to(a.vote_deadline + 1);
		assert_eq!(Audits::<Test>::get(job).unwrap().redraws, 1, "retried and re-drawn");
		assert!(a.committee.iter().all(|(m, _)| crate::Strikes::<Test>::get(m) == 1));
	});
}

/// A split vote with every member in (here 1–1 in a committee of two) is
/// not a majority either: the job ends `Unverified`, nobody paid or slashed.
#[test]
fn a_split_vote_ends_unverified() {
	build_and_execute(|| {
		CommitteeSize::set(2);
		let job = audited_job();
		let client0 = Balances::balance(&CLIENT);
		assert_ok!(vote(job, 0, AuditVote::Valid));
		assert_ok!(vote(job, 1, AuditVote::Invalid));
		assert_eq!(JobsStore::<Test>::get(job).unwrap().status, JobStatus::Unverified);
		assert_eq!(Balances::balance(&CLIENT), client0 + 5_000);
		assert!(frauds().is_empty());
	});
}

/// Committees never hold the provider, the client or the challenger, even
/// when they are validators; a member of a running check cannot dispute it.
#[test]
fn committees_exclude_the_provider_the_client_and_the_challenger() {
	build_and_execute(|| {
		let model = setup_market();
		// Make P1 and CLIENT validators too, beside the four.
		let mut vs: Vec<_> = VALIDATORS.iter().map(|v| (*v, UintAuthorityId(*v))).collect();
		vs.push((P1, UintAuthorityId(P1)));
		vs.push((CLIENT, UintAuthorityId(CLIENT)));
		crate::Verifiers::<Test>::put(frame_support::BoundedVec::truncate_from(vs));
		CommitteeSize::set(5);
		AuditRate::set(1_000_000);
		for k in 0..20 {
			set_vrf(k);
			let job = submit(model, P1);
			receipt(job, b"output");
			run_to(System::block_number() + AUDIT_DELAY);
			let a = Audits::<Test>::get(job).unwrap();
			let members: Vec<_> = a.committee.iter().map(|(m, _)| *m).collect();
			assert!(!members.contains(&P1) && !members.contains(&CLIENT), "{members:?}");
			assert_eq!(members.len(), VALIDATORS.len());
			// A member cannot turn challenger of the same check.
			assert_noop!(
				Verification::dispute(RuntimeOrigin::signed(members[0]), job),
				Error::<Test>::ChallengerInCommittee
			);
			for m in 0..3 {
				assert_ok!(vote(job, m, AuditVote::Valid));
			}
			run_to(System::block_number() + WINDOW + 1);
		}
		// A validator who disputes is left out of the check it starts.
		let job = submit(model, P2);
		AuditRate::set(0);
		receipt(job, b"output");
		Balances::set_balance(&VALIDATORS[0], 100_000);
		assert_ok!(Verification::dispute(RuntimeOrigin::signed(VALIDATORS[0]), job));
		let a = Audits::<Test>::get(job).unwrap();
		assert!(a.committee.iter().all(|(m, _)| *m != VALIDATORS[0] && *m != P2 && *m != CLIENT));
	});
}

/// The bond scales with the job: the larger of `DisputeBond` and `max_price`.
#[test]
fn the_dispute_bond_is_at_least_the_jobs_price() {
	build_and_execute(|| {
		let model = setup_market();
		let id = pallet_jobs::NextJobId::<Test>::get();
		assert_ok!(Jobs::submit_job(
			RuntimeOrigin::signed(CLIENT),
			model,
			InputParam::Inline(b"Hello".to_vec()),
			params(1_000),
			8_000,
			System::block_number() + 10,
			Some(P1)
		));
		receipt(id, b"output");
		let before = Balances::balance(&CHALLENGER);
		Balances::set_balance(&CHALLENGER, 7_900);
		assert_noop!(Verification::dispute(RuntimeOrigin::signed(CHALLENGER), id), Error::<Test>::InsufficientBond);
		Balances::set_balance(&CHALLENGER, before);
		assert_ok!(Verification::dispute(RuntimeOrigin::signed(CHALLENGER), id));
		assert_eq!(Balances::balance_on_hold(&HoldReason::DisputeBond.into(), &CHALLENGER), 8_000);
	});
}

#[test]
fn a_dispute_that_finds_fraud_rewards_the_challenger() {
	build_and_execute(|| {
		let model = setup_market();
		let job = submit(model, P2);
		receipt(job, b"output");
		let before = Balances::balance(&CHALLENGER);
		assert_ok!(Verification::dispute(RuntimeOrigin::signed(CHALLENGER), job));
		assert_eq!(Balances::balance_on_hold(&HoldReason::DisputeBond.into(), &CHALLENGER), DISPUTE_BOND);
		assert_eq!(JobsStore::<Test>::get(job).unwrap().status, JobStatus::Disputed);
		assert!(FinalizeQueue::<Test>::iter().all(|(_, id, ())| id != job));
		let slash = bond(P2) / 2;
		assert_ok!(vote(job, 0, AuditVote::Invalid));
		assert_ok!(vote(job, 1, AuditVote::Invalid));
		// Bond back, plus ChallengerReward (20 %) of the slash.
		assert_eq!(Balances::balance(&CHALLENGER), before + slash / 5);
		assert_eq!(Balances::balance_on_hold(&HoldReason::DisputeBond.into(), &CHALLENGER), 0);
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
		assert_ok!(Verification::dispute(RuntimeOrigin::signed(CHALLENGER), job));
		assert_ok!(vote(job, 0, AuditVote::Valid));
		assert_ok!(vote(job, 1, AuditVote::Valid));
		// LostBondToProvider (50 %) to the provider, the rest to the treasury.
		assert_eq!(Balances::balance(&CHALLENGER), c0 - DISPUTE_BOND);
		assert_eq!(Balances::balance(&P2), p0 + DISPUTE_BOND / 2);
		assert_eq!(Balances::balance(&TREASURY), t0 + DISPUTE_BOND / 2);
		assert_eq!(JobsStore::<Test>::get(job).unwrap().status, JobStatus::Receipted);
		assert!(events().iter().any(|e| matches!(e, Event::AuditPassed { bond_to_provider: 2_500, bond_to_treasury: 2_500, .. })));
	});
}

#[test]
fn a_dispute_joins_a_running_audit_once() {
	build_and_execute(|| {
		let job = audited_job();
		let deadline = Audits::<Test>::get(job).unwrap().vote_deadline;
		assert_ok!(Verification::dispute(RuntimeOrigin::signed(CHALLENGER), job));
		let a = Audits::<Test>::get(job).unwrap();
		assert_eq!(a.challenger, Some((CHALLENGER, DISPUTE_BOND)));
		assert_eq!(a.vote_deadline, deadline, "the same check");
		assert_noop!(Verification::dispute(RuntimeOrigin::signed(CLIENT), job), Error::<Test>::AlreadyDisputed);
		// No verdict, even after every re-draw: the bond comes back.
		let before = Balances::balance(&CHALLENGER);
		run_to(deadline + VOTE_TIMEOUT * u64::from(MAX_REDRAWS));
		assert_eq!(JobsStore::<Test>::get(job).unwrap().status, JobStatus::Unverified);
		assert_eq!(Balances::balance(&CHALLENGER), before + DISPUTE_BOND);
	});
}

#[test]
fn dispute_errors_move_no_funds() {
	build_and_execute(|| {
		let model = setup_market();
		let job = submit(model, P1);
		assert_noop!(Verification::dispute(RuntimeOrigin::signed(CHALLENGER), 99), Error::<Test>::UnknownJob);
		// No receipt yet: nothing to check.
		assert_noop!(Verification::dispute(RuntimeOrigin::signed(CHALLENGER), job), Error::<Test>::UnknownJob);
		receipt(job, b"output");
		// A challenger that cannot cover the bond.
		assert_noop!(Verification::dispute(RuntimeOrigin::signed(PUBLISHER), job), Error::<Test>::InsufficientBond);
		// No validators: no committee.
		let keep = crate::Verifiers::<Test>::take();
		assert_noop!(Verification::dispute(RuntimeOrigin::signed(CHALLENGER), job), Error::<Test>::NoCommittee);
		crate::Verifiers::<Test>::put(keep);
		assert_ok!(Verification::dispute(RuntimeOrigin::signed(CHALLENGER), job));
		assert_noop!(Verification::dispute(RuntimeOrigin::signed(CLIENT), job), Error::<Test>::AlreadyDisputed);

		// After the window.
		let job2 = submit(model, P2);
		receipt(job2, b"output");
		run_to(System::block_number() + WINDOW);
		assert_noop!(Verification::dispute(RuntimeOrigin::signed(CLIENT), job2), Error::<Test>::InvalidState);
		let job3 = submit(model, P3);
		receipt(job3, b"output");
		run_to(System::block_number() + WINDOW - 1);
		// The window's last block has not been reached yet by finalization, but
		// disputes close with it.
		System::set_block_number(System::block_number() + 1);
		assert_noop!(Verification::dispute(RuntimeOrigin::signed(CLIENT), job3), Error::<Test>::WindowClosed);
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
			Verification::vote(RuntimeOrigin::none(), payload.clone(), sig.clone()),
			Error::<Test>::NotCommitteeKey
		);
		assert_eq!(
			Verification::validate_unsigned(TransactionSource::External, &crate::Call::vote { payload, signature: sig }),
			Err(InvalidTransaction::BadProof.into())
		);
		// No such member.
		let payload = agora_primitives::VotePayload { job_id: job, member: 3, vote: AuditVote::Invalid };
		let sig = UintAuthorityId(*outsider).sign(&payload.signing_payload()).unwrap();
		assert_noop!(Verification::vote(RuntimeOrigin::none(), payload, sig), Error::<Test>::NotInCommittee);
		// A signed origin is refused.
		let (p, s) = signed_vote(job, 0, AuditVote::Valid);
		assert_noop!(Verification::vote(RuntimeOrigin::signed(CLIENT), p.clone(), s.clone()), sp_runtime::DispatchError::BadOrigin);
		// The pool admits the member's vote, tagged (job, member), until the deadline.
		let valid = Verification::validate_unsigned(TransactionSource::External, &crate::Call::vote {
			payload: p.clone(),
			signature: s.clone(),
		})
		.unwrap();
		assert_eq!(valid.longevity, VOTE_TIMEOUT);
		assert_eq!(valid.provides.len(), 1);
		assert_ok!(Verification::vote(RuntimeOrigin::none(), p.clone(), s.clone()));
		assert_noop!(Verification::vote(RuntimeOrigin::none(), p.clone(), s.clone()), Error::<Test>::AlreadyVoted);
		assert_eq!(
			Verification::validate_unsigned(TransactionSource::External, &crate::Call::vote { payload: p, signature: s }),
			Err(InvalidTransaction::Stale.into())
		);
		// A vote on a job under no check.
		let payload = agora_primitives::VotePayload { job_id: 77, member: 0, vote: AuditVote::Valid };
		let sig = UintAuthorityId(VALIDATORS[0]).sign(&payload.signing_payload()).unwrap();
		assert_noop!(Verification::vote(RuntimeOrigin::none(), payload, sig), Error::<Test>::NoAudit);
	});
}

#[test]
fn the_committee_is_a_deterministic_draw_of_distinct_validators() {
	build_and_execute(|| {
		set_vrf(1);
		let a = Verification::draw_committee(5, &[]).unwrap();
		let b = Verification::draw_committee(5, &[]).unwrap();
		assert_eq!(a, b, "same VRF and job: same committee");
		// Every validator sits on some committees, never twice on one.
		let mut seen = std::collections::BTreeSet::new();
		for job in 0..50 {
			let c = Verification::draw_committee(job, &[]).unwrap();
			let ids: std::collections::BTreeSet<_> = c.iter().map(|(v, _)| *v).collect();
			assert_eq!(ids.len(), COMMITTEE as usize);
			seen.extend(ids);
		}
		assert_eq!(seen.len(), VALIDATORS.len());
		// Fewer validators than COMMITTEE_SIZE: all of them.
		crate::Verifiers::<Test>::put(frame_support::BoundedVec::truncate_from(vec![(20, UintAuthorityId(20))]));
		assert_eq!(Verification::draw_committee(1, &[]).unwrap().len(), 1);
	});
}

#[test]
fn governed_committee_size_is_clamped_to_its_bound() {
	build_and_execute(|| {
		CommitteeSize::set(1);
		assert_eq!(Verification::draw_committee(1, &[]).unwrap().len(), 1);
		// Above MaxCommitteeSize (5): at most the 4 validators there are.
		CommitteeSize::set(100);
		assert_eq!(Verification::draw_committee(1, &[]).unwrap().len(), VALIDATORS.len());
		CommitteeSize::set(0);
		assert_eq!(Verification::draw_committee(1, &[]).unwrap().len(), 1, "never an empty committee");
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
		// The market's queues run behind (no weight for them): the calls decide.
		QueueWeightBudget::set(frame_support::weights::Weight::zero());
		run_to(at + WINDOW);
		assert_ok!(Jobs::finalize(RuntimeOrigin::signed(CLIENT), old));
		assert_noop!(Jobs::finalize(RuntimeOrigin::signed(CLIENT), new), JobsError::<Test>::TooEarly);
		// Still open to dispute under the window it was accepted with.
		assert_ok!(Verification::dispute(RuntimeOrigin::signed(CHALLENGER), new));
	});
}

/// The draw drain charges each draw by its outcome: a receipt it passes costs
/// `audit_draw_passed`, one it draws `audit_draw`; within the same budget it
/// gets through more receipts the fewer it draws, never spends more than the
/// budget, and draws no more than fit at the drawn weight.
#[test]
fn the_draw_drain_charges_each_draw_by_its_outcome() {
	use crate::weights::WeightInfo;
	use frame_support::{
		traits::Get,
		weights::{RuntimeDbWeight, Weight},
	};
	type W = <Test as crate::Config>::WeightInfo;
	build_and_execute(|| {
		let model = setup_market();
		AuditRate::set(1);
		set_vrf(7);
		let now = System::block_number();
		let jobs: Vec<u64> = (0..9u64)
			.map(|i| {
				// Three providers' offers, three deadline blocks: no queue is full.
				let id = submit_due(model, [P1, P2, P3][(i % 3) as usize], now + 10 + i / 3);
				receipt(id, b"output");
				id
			})
			.collect();
		let due = now + AUDIT_DELAY;
		assert_eq!(crate::AuditDraws::<Test>::iter_prefix(due).count(), 9);
		System::set_block_number(due);
		let db: RuntimeDbWeight = <<Test as frame_system::Config>::DbWeight as Get<RuntimeDbWeight>>::get();
		let per_draw = W::audit_draw() + db.writes(1);
		let per_pass = W::audit_draw_passed() + db.writes(1);
		assert!(per_pass.ref_time() < per_draw.ref_time(), "a passed draw takes less time than a drawn one");
		// Time for two drawn draws; proof size unbounded, as on this solo
		// chain (the benchmarks give both outcomes the same proof size).
		let time = db.reads_writes(1, 1)
			+ db.reads(u64::from(agora_pallet_support::MAX_DUE_BLOCKS))
			+ per_draw.saturating_mul(2);
		let budget = Weight::from_parts(time.ref_time(), u64::MAX);
		let left = || crate::AuditDraws::<Test>::iter_prefix(due).count();
		// At 1 ppm none is drawn: more than the two a drawn-weight count allows.
		let used = Verification::drain_draws(due, budget);
		assert!(used.all_lte(budget), "{used:?} within {budget:?}");
		let passed = 9 - left();
		println!("passed {passed} of 9 receipts within the time of two drawn draws");
		assert!(passed > 2 && passed < 9, "passed {passed} of 9 within a budget of two drawn draws");
		assert!(jobs.iter().all(|j| JobsStore::<Test>::get(j).unwrap().status == JobStatus::Receipted));
		assert_eq!(crate::AuditDrawCursor::<Test>::get(), due, "the rest waits");
		// Every one drawn: exactly the two that fit, the rest still waiting.
		AuditRate::set(1_000_000);
		let used = Verification::drain_draws(due, budget);
		assert!(used.all_lte(budget));
		assert_eq!(9 - passed - left(), 2);
		let disputed = jobs.iter().filter(|j| JobsStore::<Test>::get(*j).unwrap().status == JobStatus::Disputed);
		assert_eq!(disputed.count(), 2);
		// Under the cursor's own read and write: nothing read, nothing done.
		assert_eq!(Verification::drain_draws(due, Weight::zero()), db.reads_writes(1, 1));
		assert_eq!(9 - passed - left(), 2);
		// An ample budget: all done, the cursor past `due`.
		Verification::drain_draws(due, Weight::MAX);
		assert_eq!(left(), 0);
		assert_eq!(crate::AuditDrawCursor::<Test>::get(), due + 1);
	});
}
