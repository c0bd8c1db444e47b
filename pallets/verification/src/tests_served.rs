//! Disputes of served receipts (channel-paid answers, docs/protocol.md §4.2):
//! every refusal with its own error and nothing moved, the committee's two
//! verdicts with the sender refunded out of the provider's bond, one dispute
//! per receipt, and the committee's reading of input and output from chain.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::arithmetic_side_effects, clippy::indexing_slicing)]

use crate::{mock::*, Audits, Error, Event, ServedChecks, ServedDisputes};
use agora_primitives::{
	channels::{served_seed, ServedReceipt, SERVED_CHECK_BASE},
	AuditInput, AuditVote, JobParams, ModelId, OfferId, ProviderBonds,
};
use frame_support::{
	assert_noop, assert_ok,
	traits::fungible::{Inspect, InspectHold, Mutate},
};
use pallet_escrow::HoldReason;
use sp_core::Pair;

const CHANNEL: u64 = 4;
const PRICE: Balance = 300;
const INPUT: &[u8] = br#"{"messages":[{"role":"user","content":"Hi"}]}"#;
const OUTPUT: &[u8] = br#"{"text":"Hello","tokens":[19556]}"#;

fn offer_of(provider: AccountId) -> OfferId {
	pallet_models::Offers::<Test>::iter().find(|(_, o)| o.provider == provider).map(|(id, _)| id).unwrap()
}

/// P1's served receipt for `(CHANNEL, lane 0, nonce)`, signed by its worker.
fn served(model: ModelId, nonce: u64) -> (ServedReceipt<AccountId>, [u8; 64]) {
	let r = ServedReceipt {
		channel_id: CHANNEL,
		lane: 0,
		nonce,
		model_id: model,
		input_hash: sp_io::hashing::blake2_256(INPUT),
		output_hash: sp_io::hashing::blake2_256(OUTPUT),
		output_tokens: 1,
		params: JobParams { max_tokens: 16, temperature_milli: 700, seed: 5 },
		price: PRICE,
		at: System::block_number() as u32,
		provider: P1,
		worker_pubkey: worker("w1").public().0,
	};
	let sig = worker("w1").sign(&r.signing_payload()).0;
	(r, sig)
}

fn dispute(r: &ServedReceipt<AccountId>, sig: [u8; 64]) -> sp_runtime::DispatchResult {
	Verification::dispute_receipt(RuntimeOrigin::signed(CHALLENGER), Box::new(r.clone()), sig, offer_of(P1), INPUT.to_vec(), OUTPUT.to_vec())
}

fn vote(id: u64, member: u32, v: AuditVote) {
	let (p, s) = signed_vote(id, member, v);
	assert_ok!(Verification::vote(RuntimeOrigin::none(), p, s));
}

fn bond(who: AccountId) -> Balance {
	<Slashing as ProviderBonds<AccountId>>::active_bond(&who)
}

fn events() -> Vec<Event<Test>> {
	crate::tests::events()
}

#[test]
fn a_fraudulent_served_answer_refunds_the_sender_out_of_the_provider_bond() {
	build_and_execute(|| {
		let model = setup_market();
		set_channel(CHANNEL, Some((CLIENT, P1)));
		let (r, sig) = served(model, 3);
		let (client0, challenger0) = (Balances::balance(&CLIENT), Balances::balance(&CHALLENGER));
		assert_ok!(dispute(&r, sig));
		let id = SERVED_CHECK_BASE;
		assert_eq!(ServedDisputes::<Test>::get((CHANNEL, 0, 3)), Some(id));
		assert_eq!(Balances::balance_on_hold(&HoldReason::DisputeBond.into(), &CHALLENGER), DISPUTE_BOND);
		let audit = Audits::<Test>::get(id).unwrap();
		assert!(audit.committee.iter().all(|(m, _)| ![P1, CLIENT, CHALLENGER].contains(m)));
		assert!(events().iter().any(|e| matches!(e,
			Event::ServedDisputed { job_id, channel_id: CHANNEL, lane: 0, nonce: 3, provider: P1, challenger: CHALLENGER }
				if *job_id == id)));

		let stake = bond(P1);
		vote(id, 0, AuditVote::Invalid);
		vote(id, 1, AuditVote::Invalid);
		// The sender gets the price back; FraudSlash (50 %) of what is left is
		// slashed, ChallengerReward (20 %) of it to the challenger.
		let slash = (stake - PRICE) / 2;
		assert_eq!(Balances::balance(&CLIENT), client0 + PRICE);
		assert_eq!(bond(P1), stake - PRICE - slash);
		assert_eq!(Balances::balance(&CHALLENGER), challenger0 + slash / 5);
		assert_eq!(Balances::balance_on_hold(&HoldReason::DisputeBond.into(), &CHALLENGER), 0);
		assert!(ServedChecks::<Test>::get(id).is_none() && Audits::<Test>::get(id).is_none());
		assert!(events().iter().any(|e| matches!(e,
			Event::JobFraud { provider: P1, refunded: PRICE, .. })));
		assert_eq!(frauds(), vec![P1]);
		// Judged once: the same receipt cannot be disputed again.
		assert_noop!(dispute(&r, sig), Error::<Test>::AlreadyDisputed);
	});
}

#[test]
fn an_upheld_served_answer_costs_the_challenger_its_bond_and_moves_nothing_else() {
	build_and_execute(|| {
		let model = setup_market();
		set_channel(CHANNEL, Some((CLIENT, P1)));
		let (r, sig) = served(model, 1);
		let (c0, p0, s0, t0) = (
			Balances::balance(&CHALLENGER),
			Balances::balance(&P1),
			Balances::balance(&CLIENT),
			Balances::balance(&TREASURY),
		);
		let stake = bond(P1);
		assert_ok!(dispute(&r, sig));
		vote(SERVED_CHECK_BASE, 0, AuditVote::Valid);
		vote(SERVED_CHECK_BASE, 1, AuditVote::Valid);
		assert_eq!(Balances::balance(&CHALLENGER), c0 - DISPUTE_BOND);
		assert_eq!(Balances::balance(&P1), p0 + DISPUTE_BOND / 2);
		assert_eq!(Balances::balance(&TREASURY), t0 + DISPUTE_BOND / 2);
		assert_eq!((Balances::balance(&CLIENT), bond(P1)), (s0, stake));
		assert!(ServedChecks::<Test>::get(SERVED_CHECK_BASE).is_none());
	});
}

#[test]
fn every_bad_dispute_is_refused_with_its_own_error_and_moves_nothing() {
	build_and_execute(|| {
		let model = setup_market();
		set_channel(CHANNEL, Some((CLIENT, P1)));
		set_channel(CHANNEL + 1, Some((CLIENT, P2)));
		let (r, sig) = served(model, 2);
		let offer = offer_of(P1);
		let call = |r: &ServedReceipt<AccountId>, sig: [u8; 64], offer: OfferId, input: &[u8], output: &[u8]| {
			Verification::dispute_receipt(
				RuntimeOrigin::signed(CHALLENGER),
				Box::new(r.clone()),
				sig,
				offer,
				input.to_vec(),
				output.to_vec(),
			)
		};
		let long_in = vec![b'a'; agora_primitives::channels::MAX_SERVED_INPUT as usize + 1];
		assert_noop!(call(&r, sig, offer, &long_in, OUTPUT), Error::<Test>::ServedInputTooLong);
		let long_out = vec![b'a'; agora_primitives::channels::MAX_SERVED_OUTPUT as usize + 1];
		assert_noop!(call(&r, sig, offer, INPUT, &long_out), Error::<Test>::ServedOutputTooLong);
		assert_noop!(call(&r, sig, offer, b"other", OUTPUT), Error::<Test>::InputMismatch);
		assert_noop!(call(&r, sig, offer, INPUT, b"other"), Error::<Test>::OutputMismatch);
		// The challenger cannot change what the worker signed: a higher price,
		// other parameters, a later block.
		for changed in [
			ServedReceipt { price: PRICE * 10, ..r.clone() },
			ServedReceipt { params: JobParams { temperature_milli: 0, ..r.params }, ..r.clone() },
			ServedReceipt { at: r.at + 1, ..r.clone() },
		] {
			assert_noop!(call(&changed, sig, offer, INPUT, OUTPUT), Error::<Test>::BadReceiptSignature);
		}
		assert_noop!(call(&r, sig, 999, INPUT, OUTPUT), Error::<Test>::UnknownOffer);
		assert_noop!(call(&r, sig, offer_of(P2), INPUT, OUTPUT), Error::<Test>::NotReceiptOffer);
		let (other, other_sig) = {
			let o = ServedReceipt { channel_id: 77, ..r.clone() };
			let s = worker("w1").sign(&o.signing_payload()).0;
			(o, s)
		};
		assert_noop!(call(&other, other_sig, offer, INPUT, OUTPUT), Error::<Test>::UnknownChannel);
		let (to_p2, to_p2_sig) = {
			let o = ServedReceipt { channel_id: CHANNEL + 1, ..r.clone() };
			let s = worker("w1").sign(&o.signing_payload()).0;
			(o, s)
		};
		assert_noop!(call(&to_p2, to_p2_sig, offer, INPUT, OUTPUT), Error::<Test>::NotChannelRecipient);
		let (future, future_sig) = {
			let o = ServedReceipt { at: r.at + 1, ..r.clone() };
			let s = worker("w1").sign(&o.signing_payload()).0;
			(o, s)
		};
		assert_noop!(call(&future, future_sig, offer, INPUT, OUTPUT), Error::<Test>::ReceiptFromFuture);
		// A challenger who cannot bond.
		assert_noop!(
			Verification::dispute_receipt(RuntimeOrigin::signed(PUBLISHER), Box::new(r.clone()), sig, offer, INPUT.to_vec(), OUTPUT.to_vec()),
			Error::<Test>::InsufficientBond
		);
		// After the window.
		run_to(System::block_number() + WINDOW);
		assert_noop!(call(&r, sig, offer, INPUT, OUTPUT), Error::<Test>::WindowClosed);
		assert!(ServedChecks::<Test>::iter().next().is_none());
	});
}

#[test]
fn the_committee_leaves_out_a_validator_that_is_the_sender_or_the_challenger() {
	build_and_execute(|| {
		let model = setup_market();
		let (sender, challenger) = (VALIDATORS[0], VALIDATORS[1]);
		set_channel(CHANNEL, Some((sender, P1)));
		Balances::set_balance(&challenger, 100_000);
		let (r, sig) = served(model, 9);
		assert_ok!(Verification::dispute_receipt(
			RuntimeOrigin::signed(challenger),
			Box::new(r),
			sig,
			offer_of(P1),
			INPUT.to_vec(),
			OUTPUT.to_vec()
		));
		let audit = Audits::<Test>::get(SERVED_CHECK_BASE).unwrap();
		let members: Vec<_> = audit.committee.iter().map(|(m, _)| *m).collect();
		assert_eq!(members.len(), 2, "4 validators less the sender and the challenger");
		assert!(!members.contains(&sender) && !members.contains(&challenger));
	});
}

#[test]
fn a_served_check_is_judged_from_the_bytes_on_chain_and_its_marker_goes_after_the_window() {
	build_and_execute(|| {
		let model = setup_market();
		set_channel(CHANNEL, Some((CLIENT, P1)));
		let (r, sig) = served(model, 5);
		assert_ok!(dispute(&r, sig));
		let job = crate::Pallet::<Test>::subject_audit_job(SERVED_CHECK_BASE).unwrap();
		assert_eq!(job.input, AuditInput::Inline(INPUT.to_vec()));
		assert_eq!(job.output.as_deref(), Some(OUTPUT));
		assert_eq!(job.params, r.params);
		assert_eq!(job.job_seed, served_seed(CHANNEL, 0, 5, 5));
		assert!(job.endpoint.is_empty(), "nothing is fetched from the provider");
		// The committee's fetch takes the on-chain bytes (no HTTP request is made).
		let verifier = "http://127.0.0.1:8800";
		assert_eq!(agora_offchain_workers::fetch(verifier, &job), Ok(Ok((INPUT.to_vec(), OUTPUT.to_vec()))));
		let forged = agora_primitives::AuditJob { output: Some(b"forged".to_vec()), ..job };
		assert_eq!(agora_offchain_workers::fetch(verifier, &forged), Ok(Err(AuditVote::Invalid)));
		// No votes: re-drawn, then unverified: nothing refunded, nobody slashed,
		// the bond returned. The marker stays until the window has passed.
		let stake = bond(P1);
		run_to(System::block_number() + WINDOW + 1);
		assert_eq!(ServedDisputes::<Test>::get((CHANNEL, 0, 5)), None);
		run_to(System::block_number() + VOTE_TIMEOUT * (MAX_REDRAWS as u64 + 1) + 4);
		assert!(Audits::<Test>::get(SERVED_CHECK_BASE).is_none());
		assert!(ServedChecks::<Test>::get(SERVED_CHECK_BASE).is_none());
		assert_eq!(bond(P1), stake);
		assert_eq!(Balances::balance_on_hold(&HoldReason::DisputeBond.into(), &CHALLENGER), 0);
		assert!(events().iter().any(|e| matches!(e, Event::AuditTimedOut { refunded: 0, .. })));
	});
}

#[test]
fn a_bond_smaller_than_the_price_goes_to_the_sender_whole() {
	build_and_execute(|| {
		let model = setup_market();
		set_channel(CHANNEL, Some((CLIENT, P1)));
		let (r, _) = served(model, 6);
		let r = ServedReceipt { price: STAKE * 2, ..r };
		let sig = worker("w1").sign(&r.signing_payload()).0;
		let client0 = Balances::balance(&CLIENT);
		// The sender disputes itself, bonding the price (above DISPUTE_BOND).
		assert_ok!(Verification::dispute_receipt(
			RuntimeOrigin::signed(CLIENT),
			Box::new(r),
			sig,
			offer_of(P1),
			INPUT.to_vec(),
			OUTPUT.to_vec()
		));
		vote(SERVED_CHECK_BASE, 0, AuditVote::Invalid);
		vote(SERVED_CHECK_BASE, 1, AuditVote::Invalid);
		assert_eq!(bond(P1), 0);
		assert_eq!(Balances::balance(&CLIENT), client0 + STAKE, "the whole bond, its bond back");
		assert!(events().iter().any(|e| matches!(e, Event::JobFraud { provider: P1, refunded: STAKE, .. })));
	});
}

/// The dodge: a provider serves a wrong paid answer, then closes the offer
/// that signed it, so that the challenger has no offer to name. The closed
/// offer's signer is kept `OfferRetention` blocks (20 in the mock, at least
/// the longest window in the runtime), so the dispute goes ahead; after that,
/// the offer is unknown.
#[test]
fn closing_the_offer_that_served_an_answer_does_not_dodge_its_dispute() {
	build_and_execute(|| {
		let model = setup_market();
		set_channel(CHANNEL, Some((CLIENT, P1)));
		let offer = offer_of(P1);
		let (r, sig) = served(model, 7);
		let (r2, sig2) = served(model, 8);
		assert_ok!(pallet_models::Pallet::<Test>::close_offer(RuntimeOrigin::signed(P1), offer));
		assert!(pallet_models::Offers::<Test>::get(offer).is_none());
		assert_ok!(Verification::dispute_receipt(
			RuntimeOrigin::signed(CHALLENGER),
			Box::new(r),
			sig,
			offer,
			INPUT.to_vec(),
			OUTPUT.to_vec()
		));
		assert!(ServedChecks::<Test>::contains_key(SERVED_CHECK_BASE));
		run_to(System::block_number() + 21);
		assert_noop!(
			Verification::dispute_receipt(RuntimeOrigin::signed(CHALLENGER), Box::new(r2), sig2, offer, INPUT.to_vec(), OUTPUT.to_vec()),
			Error::<Test>::UnknownOffer
		);
	});
}
