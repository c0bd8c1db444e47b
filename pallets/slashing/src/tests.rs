//! Tests of `pallet-slashing`: every call, every error (with `assert_noop!`, so a
//! failed call moves no funds and writes nothing), and the slashing trait.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::arithmetic_side_effects, clippy::indexing_slicing)]

use crate::{mock::*, Bonds, Error, Event, HoldReason};
use agora_primitives::{ProviderBonds, SlashReason};
use frame_support::{
	assert_noop, assert_ok,
	traits::fungible::{Inspect, InspectHold},
};
use sp_runtime::Perbill;

fn held(who: AccountId) -> Balance {
	Balances::balance_on_hold(&RuntimeHoldReason::Slashing(HoldReason::ProviderBond), &who)
}

fn last_event() -> RuntimeEvent {
	System::events().pop().expect("an event").event
}

fn run_to(n: u64) {
	System::set_block_number(n);
}

#[test]
fn bond_holds_funds_and_records_the_bond() {
	build_and_execute(|| {
		assert_ok!(Slashing::bond(RuntimeOrigin::signed(ALICE), 2_000));
		assert_eq!(held(ALICE), 2_000);
		assert_eq!(Balances::balance(&ALICE), 8_000);
		assert_eq!(Bonds::<Test>::get(ALICE).unwrap().active, 2_000);
		assert!(<Slashing as ProviderBonds<_>>::is_bonded(&ALICE));
		assert_eq!(last_event(), Event::Bonded { provider: ALICE, amount: 2_000 }.into());
	});
}

#[test]
fn bond_errors_move_nothing() {
	build_and_execute(|| {
		assert_noop!(
			Slashing::bond(RuntimeOrigin::signed(ALICE), MIN_STAKE - 1),
			Error::<Test>::BelowMinimumStake
		);
		assert_noop!(
			Slashing::bond(RuntimeOrigin::signed(POOR), MIN_STAKE),
			Error::<Test>::InsufficientBalance
		);
		assert_ok!(Slashing::bond(RuntimeOrigin::signed(ALICE), MIN_STAKE));
		assert_noop!(
			Slashing::bond(RuntimeOrigin::signed(ALICE), MIN_STAKE),
			Error::<Test>::AlreadyBonded
		);
		assert_noop!(
			Slashing::bond(RuntimeOrigin::none(), MIN_STAKE),
			sp_runtime::DispatchError::BadOrigin
		);
	});
}

#[test]
fn bond_extra_adds_and_its_errors_move_nothing() {
	build_and_execute(|| {
		assert_noop!(Slashing::bond_extra(RuntimeOrigin::signed(ALICE), 10), Error::<Test>::NotBonded);
		assert_ok!(Slashing::bond(RuntimeOrigin::signed(ALICE), MIN_STAKE));
		assert_noop!(Slashing::bond_extra(RuntimeOrigin::signed(ALICE), 0), Error::<Test>::ZeroAmount);
		assert_noop!(
			Slashing::bond_extra(RuntimeOrigin::signed(ALICE), 9_500),
			Error::<Test>::InsufficientBalance
		);
		assert_noop!(
			Slashing::bond_extra(RuntimeOrigin::signed(ALICE), u128::MAX),
			Error::<Test>::Overflow
		);
		assert_ok!(Slashing::bond_extra(RuntimeOrigin::signed(ALICE), 500));
		assert_eq!(held(ALICE), 1_500);
		assert_eq!(
			last_event(),
			Event::BondedExtra { provider: ALICE, amount: 500, active: 1_500 }.into()
		);
	});
}

#[test]
fn unbond_then_withdraw_after_the_period() {
	build_and_execute(|| {
		assert_ok!(Slashing::bond(RuntimeOrigin::signed(ALICE), 3_000));
		assert_ok!(Slashing::unbond(RuntimeOrigin::signed(ALICE), 1_000));
		assert_eq!(
			last_event(),
			Event::Unbonded { provider: ALICE, amount: 1_000, until: 1 + UNBONDING, active: 2_000 }
				.into()
		);
		// Still held (and slashable) while unbonding.
		assert_eq!(held(ALICE), 3_000);
		assert_noop!(
			Slashing::withdraw_unbonded(RuntimeOrigin::signed(ALICE)),
			Error::<Test>::UnbondingNotFinished
		);
		run_to(1 + UNBONDING);
		assert_ok!(Slashing::withdraw_unbonded(RuntimeOrigin::signed(ALICE)));
		assert_eq!(held(ALICE), 2_000);
		assert_eq!(Balances::balance(&ALICE), 8_000);
		assert_eq!(last_event(), Event::Withdrawn { provider: ALICE, amount: 1_000 }.into());
		assert!(below_min_reports().is_empty());
	});
}

#[test]
fn unbonding_everything_pauses_offers_and_removes_the_record() {
	build_and_execute(|| {
		assert_ok!(Slashing::bond(RuntimeOrigin::signed(ALICE), 2_000));
		assert_ok!(Slashing::unbond(RuntimeOrigin::signed(ALICE), 2_000));
		assert_eq!(below_min_reports(), vec![ALICE]);
		assert!(!<Slashing as ProviderBonds<_>>::is_bonded(&ALICE));
		run_to(100);
		assert_ok!(Slashing::withdraw_unbonded(RuntimeOrigin::signed(ALICE)));
		assert!(Bonds::<Test>::get(ALICE).is_none());
		assert_eq!(Balances::balance(&ALICE), 10_000);
	});
}

#[test]
fn unbond_errors_move_nothing() {
	build_and_execute(|| {
		assert_noop!(Slashing::unbond(RuntimeOrigin::signed(ALICE), 1), Error::<Test>::NotBonded);
		assert_ok!(Slashing::bond(RuntimeOrigin::signed(ALICE), 2_000));
		assert_noop!(Slashing::unbond(RuntimeOrigin::signed(ALICE), 0), Error::<Test>::ZeroAmount);
		assert_noop!(
			Slashing::unbond(RuntimeOrigin::signed(ALICE), 2_001),
			Error::<Test>::InsufficientActiveBond
		);
		set_open_jobs(ALICE, 1);
		assert_noop!(Slashing::unbond(RuntimeOrigin::signed(ALICE), 1), Error::<Test>::HasOpenJobs);
		set_open_jobs(ALICE, 0);
		for _ in 0..MAX_CHUNKS {
			assert_ok!(Slashing::unbond(RuntimeOrigin::signed(ALICE), 1));
		}
		assert_noop!(
			Slashing::unbond(RuntimeOrigin::signed(ALICE), 1),
			Error::<Test>::TooManyUnlockingChunks
		);
	});
}

#[test]
fn unbond_overflowing_block_number_is_refused() {
	build_and_execute(|| {
		assert_ok!(Slashing::bond(RuntimeOrigin::signed(ALICE), 2_000));
		run_to(u64::MAX - 1);
		assert_noop!(Slashing::unbond(RuntimeOrigin::signed(ALICE), 1), Error::<Test>::Overflow);
	});
}

#[test]
fn withdraw_errors_move_nothing() {
	build_and_execute(|| {
		assert_noop!(
			Slashing::withdraw_unbonded(RuntimeOrigin::signed(ALICE)),
			Error::<Test>::NotBonded
		);
		assert_ok!(Slashing::bond(RuntimeOrigin::signed(ALICE), 2_000));
		assert_noop!(
			Slashing::withdraw_unbonded(RuntimeOrigin::signed(ALICE)),
			Error::<Test>::NothingToWithdraw
		);
	});
}

#[test]
fn withdraw_takes_only_finished_chunks() {
	build_and_execute(|| {
		assert_ok!(Slashing::bond(RuntimeOrigin::signed(ALICE), 3_000));
		assert_ok!(Slashing::unbond(RuntimeOrigin::signed(ALICE), 100));
		run_to(5);
		assert_ok!(Slashing::unbond(RuntimeOrigin::signed(ALICE), 200));
		run_to(1 + UNBONDING);
		assert_ok!(Slashing::withdraw_unbonded(RuntimeOrigin::signed(ALICE)));
		assert_eq!(held(ALICE), 2_900);
		assert_eq!(Bonds::<Test>::get(ALICE).unwrap().unlocking.len(), 1);
		run_to(5 + UNBONDING);
		assert_ok!(Slashing::withdraw_unbonded(RuntimeOrigin::signed(ALICE)));
		assert_eq!(held(ALICE), 2_700);
	});
}

#[test]
fn slash_pays_treasury_and_challenger() {
	build_and_execute(|| {
		assert_ok!(Slashing::bond(RuntimeOrigin::signed(ALICE), 4_000));
		let issuance = Balances::total_issuance();
		let out = <Slashing as ProviderBonds<_>>::slash(
			&ALICE,
			SlashReason::Fraud,
			Perbill::from_percent(50),
			Some((CHALLENGER, Perbill::from_percent(10))),
		)
		.unwrap();
		assert_eq!(out.slashed, 2_000);
		assert_eq!(out.to_challenger, 200);
		assert_eq!(out.to_treasury, 1_800);
		assert_eq!(held(ALICE), 2_000);
		assert_eq!(Balances::balance(&TREASURY), 1 + 1_800);
		assert_eq!(Balances::balance(&CHALLENGER), 100 + 200);
		assert_eq!(Balances::total_issuance(), issuance, "slashing moves, never burns");
		assert_eq!(
			last_event(),
			Event::Slashed {
				provider: ALICE,
				reason: SlashReason::Fraud,
				amount: 2_000,
				to_treasury: 1_800,
				challenger: Some(CHALLENGER),
				to_challenger: 200,
			}
			.into()
		);
		assert!(below_min_reports().is_empty(), "2,000 is still above the minimum");
	});
}

#[test]
fn slash_below_minimum_pauses_offers() {
	build_and_execute(|| {
		assert_ok!(Slashing::bond(RuntimeOrigin::signed(ALICE), 1_500));
		<Slashing as ProviderBonds<_>>::slash_exact(&ALICE, SlashReason::MissedDeadline, 600, None)
			.unwrap();
		assert_eq!(below_min_reports(), vec![ALICE]);
		assert_eq!(last_event(), Event::BelowMinimum { provider: ALICE, active: 900 }.into());
		assert!(!<Slashing as ProviderBonds<_>>::is_bonded(&ALICE));
	});
}

#[test]
fn slash_reaches_unlocking_funds() {
	build_and_execute(|| {
		assert_ok!(Slashing::bond(RuntimeOrigin::signed(ALICE), 2_000));
		assert_ok!(Slashing::unbond(RuntimeOrigin::signed(ALICE), 1_500));
		<Slashing as ProviderBonds<_>>::slash_exact(&ALICE, SlashReason::Withholding, 1_000, None)
			.unwrap();
		let bond = Bonds::<Test>::get(ALICE).unwrap();
		assert_eq!(bond.active, 0);
		assert_eq!(bond.unlocking[0].value, 1_000);
		assert_eq!(held(ALICE), 1_000);
		// Slashing the whole rest removes the record.
		<Slashing as ProviderBonds<_>>::slash(&ALICE, SlashReason::Fraud, Perbill::one(), None)
			.unwrap();
		assert!(Bonds::<Test>::get(ALICE).is_none());
		assert_eq!(held(ALICE), 0);
	});
}

#[test]
fn slashing_more_than_the_bond_moves_nothing() {
	build_and_execute(|| {
		assert_noop!(
			<Slashing as ProviderBonds<_>>::slash_exact(&BOB, SlashReason::Fraud, 1, None),
			Error::<Test>::NotBonded
		);
		assert_ok!(Slashing::bond(RuntimeOrigin::signed(ALICE), 2_000));
		assert_noop!(
			<Slashing as ProviderBonds<_>>::slash_exact(&ALICE, SlashReason::Fraud, 2_001, None),
			Error::<Test>::SlashExceedsBond
		);
	});
}

#[test]
fn a_refund_from_the_bond_is_exact_or_the_whole_bond_or_nothing() {
	build_and_execute(|| {
		let refund = |amount| {
			<Slashing as ProviderBonds<_>>::refund_from_bond(&ALICE, SlashReason::Fraud, amount, CHALLENGER)
		};
		let refunded = || Balances::balance(&CHALLENGER);
		let c0 = refunded();
		// No bond: nothing to take, and nothing moves.
		assert_eq!(refund(500), 0);
		assert_eq!(refunded(), c0);
		assert_ok!(Slashing::bond(RuntimeOrigin::signed(ALICE), 2_000));
		// Enough bond: exactly the amount, all of it to the refunded account.
		assert_eq!(refund(500), 500);
		assert_eq!(refunded(), c0 + 500);
		assert_eq!(Bonds::<Test>::get(ALICE).unwrap().active, 1_500);
		// Less bond than owed: the whole bond, and the record goes.
		assert_eq!(refund(5_000), 1_500);
		assert_eq!(refunded(), c0 + 2_000);
		assert!(Bonds::<Test>::get(ALICE).is_none());
		assert_eq!(held(ALICE), 0);
	});
}

#[test]
fn integrity_test_passes() {
	use frame_support::traits::Hooks;
	new_test_ext().execute_with(|| {
		<Slashing as Hooks<u64>>::integrity_test();
	});
}
