//! `pallet-passes` tests: locking, quotas across epochs, unlocking, service
//! weights and the paged epoch payout, against hand-computed values.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::arithmetic_side_effects, clippy::indexing_slicing)]

use crate::{mock::*, Error, Event, HoldReason, NextPayoutEpoch, Passes as PassStore, Work};
use agora_primitives::{passes::PassWork, ServicePasses};
use frame_support::{
	assert_noop, assert_ok,
	traits::fungible::{Inspect, InspectHold},
};
use sp_runtime::DispatchError;

const MODEL_A: [u8; 32] = [0xa; 32];
const MODEL_B: [u8; 32] = [0xb; 32];

fn held(who: AccountId) -> Balance {
	Balances::balance_on_hold(&HoldReason::PassStake.into(), &who)
}

fn take(who: AccountId) -> Result<(), DispatchError> {
	<Passes as ServicePasses<_, _>>::take_request(&who)
}

fn served(provider: AccountId, model: [u8; 32]) {
	<Passes as ServicePasses<_, _>>::on_served(&provider, &model)
}

fn events() -> Vec<Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|r| if let RuntimeEvent::Passes(e) = r.event { Some(e) } else { None })
		.collect()
}

#[test]
fn lock_creates_and_tops_up_a_pass() {
	build_and_execute(|| {
		assert_noop!(Passes::lock(RuntimeOrigin::signed(ALICE), 0), Error::<Test>::ZeroAmount);
		// A new pass must cover one request.
		assert_noop!(Passes::lock(RuntimeOrigin::signed(ALICE), SPR - 1), Error::<Test>::BelowStakePerRequest);
		assert_noop!(Passes::lock(RuntimeOrigin::signed(ALICE), 10_001), Error::<Test>::InsufficientBalance);
		assert_ok!(Passes::lock(RuntimeOrigin::signed(ALICE), 250));
		assert_eq!(held(ALICE), 250);
		// A top-up may be smaller than one request: 250 + 50 = 300, quota 3.
		assert_ok!(Passes::lock(RuntimeOrigin::signed(ALICE), 50));
		assert_eq!(held(ALICE), 300);
		assert_eq!(Passes::pass_view(&ALICE).unwrap().quota, 3);
		assert_eq!(
			events().last(),
			Some(&Event::Locked { who: ALICE, amount: 50, locked: 300, quota: 3 })
		);
		// Nothing moved off the account: the stake is held, not transferred.
		assert_eq!(Balances::balance(&ALICE), 10_000 - 300);
		assert_eq!(Balances::total_balance(&ALICE), 10_000);
	});
}

#[test]
fn quota_is_floor_of_stake_per_request_capped_per_epoch() {
	build_and_execute(|| {
		assert_noop!(take(ALICE), Error::<Test>::NoPass);
		assert_ok!(Passes::lock(RuntimeOrigin::signed(ALICE), 299));
		// floor(299 / 100) = 2 requests in epoch 0 (blocks 0..=9).
		assert_ok!(take(ALICE));
		assert_ok!(take(ALICE));
		assert_noop!(take(ALICE), Error::<Test>::QuotaExhausted);
		let v = Passes::pass_view(&ALICE).unwrap();
		assert_eq!((v.epoch, v.epoch_ends_at, v.quota, v.used, v.remaining), (0, 10, 2, 2, 0));
		// Block 9 is still epoch 0; block 10 starts epoch 1 with a fresh quota.
		run_to(9);
		assert_noop!(take(ALICE), Error::<Test>::QuotaExhausted);
		run_to(10);
		assert_eq!(Passes::pass_view(&ALICE).unwrap().remaining, 2);
		assert_ok!(take(ALICE));
		assert_eq!(Passes::pass_view(&ALICE).unwrap().used, 1);
		// The cap: 9,000 locked would be 90 requests, capped at 50.
		assert_ok!(Passes::lock(RuntimeOrigin::signed(CAROL), 9_000));
		assert_eq!(Passes::pass_view(&CAROL).unwrap().quota, MAX_PER_EPOCH);
		for _ in 0..MAX_PER_EPOCH {
			assert_ok!(take(CAROL));
		}
		assert_noop!(take(CAROL), Error::<Test>::QuotaExhausted);
	});
}

#[test]
fn an_unserved_request_is_returned_only_within_its_epoch() {
	build_and_execute(|| {
		assert_ok!(Passes::lock(RuntimeOrigin::signed(ALICE), 100));
		run_to(9);
		assert_ok!(take(ALICE));
		<Passes as ServicePasses<_, _>>::return_request(&ALICE, 9);
		assert_eq!(Passes::pass_view(&ALICE).unwrap().used, 0);
		assert_ok!(take(ALICE));
		// Taken at block 9 (epoch 0), returned in epoch 1: nothing to return,
		// and epoch 1's quota is untouched.
		run_to(10);
		<Passes as ServicePasses<_, _>>::return_request(&ALICE, 9);
		assert_ok!(take(ALICE));
		assert_noop!(take(ALICE), Error::<Test>::QuotaExhausted);
		// A return never takes `used` below 0, nor touches a client without a pass.
		<Passes as ServicePasses<_, _>>::return_request(&ALICE, 10);
		<Passes as ServicePasses<_, _>>::return_request(&ALICE, 10);
		assert_eq!(Passes::pass_view(&ALICE).unwrap().used, 0);
		<Passes as ServicePasses<_, _>>::return_request(&BOB, 10);
		assert!(PassStore::<Test>::get(BOB).is_none());
	});
}

#[test]
fn unlocking_leaves_the_quota_at_once_and_releases_after_the_cooldown() {
	build_and_execute(|| {
		assert_noop!(Passes::unlock(RuntimeOrigin::signed(ALICE), 100), Error::<Test>::NoPass);
		assert_ok!(Passes::lock(RuntimeOrigin::signed(ALICE), 500));
		assert_noop!(Passes::unlock(RuntimeOrigin::signed(ALICE), 0), Error::<Test>::ZeroAmount);
		assert_noop!(Passes::unlock(RuntimeOrigin::signed(ALICE), 501), Error::<Test>::NotEnoughLocked);
		assert_ok!(Passes::unlock(RuntimeOrigin::signed(ALICE), 300));
		assert_eq!(events().last(), Some(&Event::Unlocking { who: ALICE, amount: 300, at: 1 + COOLDOWN, quota: 2 }));
		assert_eq!(Passes::pass_view(&ALICE).unwrap().quota, 2);
		// Still held during the cooldown, and one unlock at a time.
		assert_eq!(held(ALICE), 500);
		assert_noop!(Passes::unlock(RuntimeOrigin::signed(ALICE), 100), Error::<Test>::UnlockPending);
		run_to(COOLDOWN);
		assert_noop!(Passes::withdraw_unlocked(RuntimeOrigin::signed(ALICE)), Error::<Test>::CooldownRunning);
		run_to(1 + COOLDOWN);
		assert_ok!(Passes::withdraw_unlocked(RuntimeOrigin::signed(ALICE)));
		assert_eq!(held(ALICE), 200);
		assert_eq!(Balances::balance(&ALICE), 9_800);
		assert_noop!(Passes::withdraw_unlocked(RuntimeOrigin::signed(ALICE)), Error::<Test>::NothingUnlocking);
		// Unlocking the rest and withdrawing it removes the pass.
		assert_ok!(Passes::unlock(RuntimeOrigin::signed(ALICE), 200));
		assert_noop!(take(ALICE), Error::<Test>::QuotaExhausted);
		run_to(1 + 2 * COOLDOWN);
		assert_ok!(Passes::withdraw_unlocked(RuntimeOrigin::signed(ALICE)));
		assert!(PassStore::<Test>::get(ALICE).is_none());
		assert_eq!(Balances::balance(&ALICE), 10_000);
		assert_noop!(Passes::withdraw_unlocked(RuntimeOrigin::signed(ALICE)), Error::<Test>::NoPass);
	});
}

#[test]
fn service_weights_are_set_by_governance_only() {
	build_and_execute(|| {
		assert_eq!(Passes::service_weight(&MODEL_A), 1);
		assert_noop!(
			Passes::set_service_weight(RuntimeOrigin::signed(ALICE), MODEL_A, 4),
			DispatchError::BadOrigin
		);
		assert_noop!(
			Passes::set_service_weight(RuntimeOrigin::root(), MODEL_A, 1_001),
			Error::<Test>::WeightTooHigh
		);
		assert_ok!(Passes::set_service_weight(RuntimeOrigin::root(), MODEL_A, 4));
		assert_eq!(Passes::service_weight(&MODEL_A), 4);
		assert_eq!(Passes::service_weight(&MODEL_B), 1);
	});
}

#[test]
fn an_epoch_reward_is_split_by_contribution_paged_and_exact_to_the_planck() {
	build_and_execute(|| {
		assert_ok!(Passes::set_service_weight(RuntimeOrigin::root(), MODEL_B, 4));
		// Epoch 0: P1 one job of A (1), P2 two of A (2), P3 one of B (4): ΣC = 7.
		served(P1, MODEL_A);
		served(P2, MODEL_A);
		served(P2, MODEL_A);
		served(P3, MODEL_B);
		assert_eq!(Work::<Test>::get(0, P2), Some(PassWork { jobs: 2, contribution: 2 }));
		let issuance = Balances::total_issuance();
		assert_eq!(issuance, 100_000);
		// R = floor(floor(100,000 × 10 %) × 10 / 1,000) = 100, fixed when the
		// payout starts in block 10 (epoch 1's first).
		run_to(9);
		assert_eq!(Balances::total_issuance(), issuance);
		run_to(10);
		assert!(events().contains(&Event::PayoutStarted { epoch: 0, reward: 100, total: 7 }));
		// Two providers a block: the first page in block 10, the rest in 11.
		let rewarded = |evs: &[Event<Test>]| {
			evs.iter().filter(|e| matches!(e, Event::ProviderRewarded { .. })).count()
		};
		assert_eq!(rewarded(&events()), 2);
		assert!(!events().iter().any(|e| matches!(e, Event::EpochPaid { .. })));
		run_to(11);
		assert_eq!(rewarded(&events()), 3);
		// floor(1 × 100 / 7) = 14, floor(2 × 100 / 7) = 28, floor(4 × 100 / 7) = 57;
		// 99 to providers, 1 to the treasury.
		assert_eq!(Balances::total_balance(&P1), 10_000 + 14);
		assert_eq!(Balances::total_balance(&P2), 10_000 + 28);
		assert_eq!(Balances::total_balance(&P3), 9_999 + 57);
		assert_eq!(Balances::total_balance(&TREASURY), 1 + 1);
		assert!(events().contains(&Event::EpochPaid { epoch: 0, providers: 3, to_providers: 99, to_treasury: 1 }));
		assert_eq!(Balances::total_issuance(), issuance + 100);
		assert_eq!(Work::<Test>::iter_prefix(0).count(), 0);
		// Nothing more is minted in the rest of epoch 1 (it has no work yet).
		run_to(19);
		assert_eq!(Balances::total_issuance(), issuance + 100);
	});
}

#[test]
fn an_epoch_without_weighted_work_mints_nothing() {
	build_and_execute(|| {
		assert_ok!(Passes::set_service_weight(RuntimeOrigin::root(), MODEL_A, 0));
		// Work of weight 0 counts the jobs but no contribution.
		served(P1, MODEL_A);
		served(P2, MODEL_A);
		served(P3, MODEL_A);
		assert_eq!(Work::<Test>::get(0, P1), Some(PassWork { jobs: 1, contribution: 0 }));
		let issuance = Balances::total_issuance();
		// Listed and paid nothing, two providers a block like any payout (the
		// hook's work stays bounded however many providers there are).
		run_to(10);
		assert!(events().contains(&Event::PayoutStarted { epoch: 0, reward: 0, total: 0 }));
		assert_eq!(Work::<Test>::iter_prefix(0).count(), 1);
		run_to(25);
		assert!(events().contains(&Event::EpochPaid { epoch: 0, providers: 3, to_providers: 0, to_treasury: 0 }));
		assert_eq!(Balances::total_issuance(), issuance);
		assert_eq!(NextPayoutEpoch::<Test>::get(), 2);
		assert_eq!(Work::<Test>::iter_prefix(0).count(), 0);
		// Epoch 1 had no pass jobs at all: no payout, no events.
		assert!(!events().iter().any(|e| matches!(e, Event::PayoutStarted { epoch: 1, .. })));
	});
}

#[test]
fn work_counts_in_the_epoch_it_is_finalized_in() {
	build_and_execute(|| {
		run_to(9);
		served(P1, MODEL_A);
		run_to(10);
		served(P2, MODEL_A);
		served(P2, MODEL_A);
		// Epoch 0 paid P1 alone the whole reward (R = 100); P2's jobs wait for epoch 1's.
		run_to(11);
		assert_eq!(Balances::total_balance(&P1), 10_100);
		assert_eq!(Balances::total_balance(&P2), 10_000);
		// Epoch 1's reward is computed on the issuance after epoch 0's: 100,100
		// × 10 % × 10 / 1,000 = 100.1 → 100, all to P2.
		run_to(20);
		assert_eq!(Balances::total_balance(&P2), 10_100);
		assert_eq!(Balances::total_issuance(), 100_200);
	});
}

#[test]
fn the_reward_is_capped_per_unit_of_contribution() {
	build_and_execute(|| {
		// R = 100, but at most 30 per unit: ΣC = 2 mints 60, not 100.
		RewardCap::set(30);
		served(P1, MODEL_A);
		served(P2, MODEL_A);
		run_to(10);
		assert!(events().contains(&Event::PayoutStarted { epoch: 0, reward: 60, total: 2 }));
		assert_eq!(Balances::total_balance(&P1), 10_030);
		assert_eq!(Balances::total_balance(&P2), 10_030);
		assert_eq!(Balances::total_issuance(), 100_060);
		// With enough work the cap no longer binds: ΣC = 4 → min(100, 120) = 100.
		for p in [P1, P2, P3, P3] {
			served(p, MODEL_A);
		}
		// (Two providers a block: P3's share comes in block 21.)
		run_to(21);
		assert!(events().contains(&Event::PayoutStarted { epoch: 1, reward: 100, total: 4 }));
		assert_eq!(Balances::total_balance(&P3), 9_999 + 50);
	});
}
