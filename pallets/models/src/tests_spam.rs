//! Tests of what the registry costs a spammer: model and offer deposits (held,
//! released only on removal or close), the per-publisher cap, the retention
//! before a deprecated model can be removed, and the endpoint rule.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::arithmetic_side_effects)]

use crate::{mock::*, Error, Event, HoldReason, Models as ModelsStore, PrivateEndpoints, PublisherModels};
use frame_support::{
	assert_noop, assert_ok,
	traits::fungible::{Inspect, InspectHold},
};

fn held(reason: HoldReason, who: AccountId) -> Balance {
	Balances::balance_on_hold(&RuntimeHoldReason::Models(reason), &who)
}

fn open(who: AccountId, model: [u8; 32], endpoint: &[u8]) -> sp_runtime::DispatchResult {
	let key = [who as u8; 32];
	Models::open_offer(RuntimeOrigin::signed(who), model, key, 10, 5, endpoint.to_vec(), 4, b"cpu".to_vec())
}

fn issuance_is_accounted() {
	let total: Balance = [ALICE, BOB, CAROL, TREASURY]
		.iter()
		.map(Balances::total_balance)
		.sum();
	assert_eq!(total, Balances::total_issuance(), "issuance = Σ(free + held) over all accounts");
}

#[test]
fn a_model_holds_its_deposit_until_it_is_removed() {
	build_and_execute(|| {
		let m = manifest(ALICE, 1);
		let id = m.id();
		let free = Balances::balance(&ALICE);
		assert_ok!(Models::register_model(RuntimeOrigin::signed(ALICE), m));
		assert_eq!(held(HoldReason::ModelDeposit, ALICE), MODEL_DEPOSIT);
		assert_eq!(Balances::balance(&ALICE), free - MODEL_DEPOSIT);
		assert_eq!(PublisherModels::<Test>::get(ALICE), 1);
		assert_eq!(ModelsStore::<Test>::get(id).unwrap().deposit, MODEL_DEPOSIT);

		// Only a deprecated model can be removed ...
		assert_noop!(Models::remove_model(RuntimeOrigin::signed(ALICE), id), Error::<Test>::NotDeprecated);
		assert_noop!(Models::remove_model(RuntimeOrigin::signed(BOB), id), Error::<Test>::NotPublisher);
		assert_noop!(Models::remove_model(RuntimeOrigin::signed(ALICE), [9; 32]), Error::<Test>::UnknownModel);
		// ... with no offers left ...
		assert_ok!(Slashing::bond(RuntimeOrigin::signed(BOB), MIN_STAKE));
		assert_ok!(open(BOB, id, b"https://bob.example"));
		assert_ok!(Models::deprecate_model(RuntimeOrigin::signed(ALICE), id));
		// Deprecation releases nothing: the slot is still taken.
		assert_eq!(held(HoldReason::ModelDeposit, ALICE), MODEL_DEPOSIT);
		System::set_block_number(1 + RETENTION);
		assert_noop!(Models::remove_model(RuntimeOrigin::signed(ALICE), id), Error::<Test>::ModelHasOffers);
		assert_ok!(Models::close_offer(RuntimeOrigin::signed(BOB), 0));
		// ... and after the retention: jobs on it can still settle and be checked.
		System::set_block_number(RETENTION);
		assert_noop!(Models::remove_model(RuntimeOrigin::signed(ALICE), id), Error::<Test>::RetentionNotOver);
		System::set_block_number(1 + RETENTION);
		assert_ok!(Models::remove_model(RuntimeOrigin::signed(ALICE), id));
		assert_eq!(
			System::events().last().unwrap().event,
			Event::ModelRemoved { model_id: id, deposit: MODEL_DEPOSIT }.into()
		);
		assert_eq!(held(HoldReason::ModelDeposit, ALICE), 0);
		assert_eq!(Balances::balance(&ALICE), free);
		assert!(Models::model(id).is_none());
		assert_eq!(PublisherModels::<Test>::get(ALICE), 0);
		// The slot is free again: the same manifest registers anew.
		assert_ok!(Models::register_model(RuntimeOrigin::signed(ALICE), manifest(ALICE, 1)));
		issuance_is_accounted();
	});
}

#[test]
fn a_publisher_that_cannot_pay_the_deposit_registers_nothing() {
	build_and_execute(|| {
		use frame_support::traits::fungible::Mutate;
		// Enough for the existential deposit and fees, not for the deposit.
		Balances::set_balance(&CAROL, MODEL_DEPOSIT - 1);
		assert_noop!(
			Models::register_model(RuntimeOrigin::signed(CAROL), manifest(CAROL, 1)),
			Error::<Test>::InsufficientDeposit
		);
		assert_eq!(PublisherModels::<Test>::get(CAROL), 0);
	});
}

#[test]
fn filling_the_registry_takes_many_funded_publishers() {
	build_and_execute(|| {
		// One account: `MaxModelsPerPublisher` models, each holding a deposit.
		for tag in 1..=MAX_PER_PUBLISHER as u8 {
			assert_ok!(Models::register_model(RuntimeOrigin::signed(ALICE), manifest(ALICE, tag)));
		}
		assert_eq!(held(HoldReason::ModelDeposit, ALICE), MODEL_DEPOSIT * MAX_PER_PUBLISHER as Balance);
		assert_noop!(
			Models::register_model(RuntimeOrigin::signed(ALICE), manifest(ALICE, 100)),
			Error::<Test>::TooManyModelsForPublisher
		);
		// Deprecating does not free a slot of the cap: the model is still stored.
		let first = manifest(ALICE, 1).id();
		assert_ok!(Models::deprecate_model(RuntimeOrigin::signed(ALICE), first));
		assert_noop!(
			Models::register_model(RuntimeOrigin::signed(ALICE), manifest(ALICE, 100)),
			Error::<Test>::TooManyModelsForPublisher
		);
		System::set_block_number(1 + RETENTION);
		assert_ok!(Models::remove_model(RuntimeOrigin::signed(ALICE), first));
		assert_ok!(Models::register_model(RuntimeOrigin::signed(ALICE), manifest(ALICE, 100)));
		issuance_is_accounted();
	});
}

#[test]
fn an_offer_holds_its_deposit_until_it_is_closed() {
	build_and_execute(|| {
		let id = manifest(ALICE, 1).id();
		assert_ok!(Models::register_model(RuntimeOrigin::signed(ALICE), manifest(ALICE, 1)));
		assert_ok!(Slashing::bond(RuntimeOrigin::signed(BOB), MIN_STAKE));
		for _ in 0..MAX_OFFERS {
			assert_ok!(open(BOB, id, b"https://bob.example"));
		}
		assert_eq!(held(HoldReason::OfferDeposit, BOB), OFFER_DEPOSIT * MAX_OFFERS as Balance);
		assert_ok!(Models::close_offer(RuntimeOrigin::signed(BOB), 1));
		assert_eq!(held(HoldReason::OfferDeposit, BOB), OFFER_DEPOSIT * (MAX_OFFERS as Balance - 1));
		// A bonded provider without the deposit opens nothing.
		assert_ok!(Slashing::bond(RuntimeOrigin::signed(CAROL), MIN_STAKE));
		use frame_support::traits::fungible::Mutate;
		let spare = Balances::balance(&CAROL);
		assert_ok!(Balances::burn_from(
			&CAROL,
			spare - 1,
			frame_support::traits::tokens::Preservation::Expendable,
			frame_support::traits::tokens::Precision::Exact,
			frame_support::traits::tokens::Fortitude::Polite,
		));
		assert_noop!(open(CAROL, id, b"https://carol.example"), Error::<Test>::InsufficientDeposit);
		issuance_is_accounted();
	});
}

#[test]
fn public_chains_refuse_private_endpoints_and_dev_chains_take_them() {
	build_and_execute(|| {
		let id = manifest(ALICE, 1).id();
		assert_ok!(Models::register_model(RuntimeOrigin::signed(ALICE), manifest(ALICE, 1)));
		assert_ok!(Slashing::bond(RuntimeOrigin::signed(BOB), MIN_STAKE));
		assert!(!PrivateEndpoints::<Test>::get());
		for bad in [
			b"http://127.0.0.1:8700".as_slice(),
			b"http://localhost:8700",
			b"http://169.254.169.254",
			b"http://10.0.0.7",
			b"http://[::1]:8700",
			b"http://metadata.internal",
		] {
			assert_noop!(open(BOB, id, bad), Error::<Test>::PrivateEndpoint);
		}
		for bad in [b"http://2130706433".as_slice(), b"http://a@127.0.0.1", b"http://p.example:0"] {
			assert_noop!(open(BOB, id, bad), Error::<Test>::InvalidEndpoint);
		}
		assert_ok!(open(BOB, id, b"https://93.184.216.34:8700"));
		// Moving an open offer to a private address is refused the same way.
		assert_noop!(
			Models::update_offer(RuntimeOrigin::signed(BOB), 0, 1, 1, b"http://10.0.0.7".to_vec(), 1, vec![]),
			Error::<Test>::PrivateEndpoint
		);
		// A dev chain (genesis `private_endpoints`) takes loopback.
		PrivateEndpoints::<Test>::put(true);
		assert_ok!(open(BOB, id, b"http://127.0.0.1:8700"));
	});
}
