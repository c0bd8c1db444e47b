//! Tests of `pallet-channels`: every call, every error (with `assert_noop!`, so a
//! refused call moves no funds and writes nothing), and the attacks a sender or
//! a recipient would try: replaying, lowering, over-claiming, claiming another
//! provider's channel, claiming after expiry, reclaiming early, withdrawing
//! twice or from another provider's channel.
#![allow(
	clippy::unwrap_used,
	clippy::expect_used,
	clippy::arithmetic_side_effects,
	clippy::indexing_slicing
)]

use crate::{mock::*, Channels as ChannelsStore, Error, Event, HoldReason, NextChannelId};
use agora_primitives::channels::{LaneState, SignedVoucher, Voucher};
use frame_support::{
	assert_noop, assert_ok,
	traits::fungible::{Inspect, InspectHold},
	BoundedVec,
};
use sp_core::{sr25519::Pair, Pair as _};

fn signer() -> Pair {
	Pair::from_seed(&[7; 32])
}

fn held(who: AccountId) -> Balance {
	Balances::balance_on_hold(&RuntimeHoldReason::Channels(HoldReason::ChannelFunds), &who)
}

fn last_event() -> RuntimeEvent {
	System::events().pop().expect("an event").event
}

/// Alice opens a channel of `value` to the provider, expiring at block 100.
fn open(value: Balance) -> u64 {
	let id = NextChannelId::<Test>::get();
	assert_ok!(Channels::open_channel(
		RuntimeOrigin::signed(ALICE),
		PROVIDER,
		signer().public().0,
		value,
		100
	));
	id
}

fn voucher(channel_id: u64, lane: u32, nonce: u64, cumulative: Balance) -> SignedVoucher<Balance> {
	signed_by(&signer(), channel_id, lane, nonce, cumulative)
}

fn signed_by(
	pair: &Pair,
	channel_id: u64,
	lane: u32,
	nonce: u64,
	cumulative: Balance,
) -> SignedVoucher<Balance> {
	let voucher = Voucher { channel_id, lane, nonce, cumulative };
	SignedVoucher { voucher, signature: pair.sign(&voucher.signing_payload()).0 }
}

fn batch(v: Vec<SignedVoucher<Balance>>) -> BoundedVec<SignedVoucher<Balance>, MaxClaimBatch> {
	BoundedVec::try_from(v).unwrap()
}

fn claim(v: Vec<SignedVoucher<Balance>>) -> frame_support::dispatch::DispatchResult {
	Channels::claim_batch(RuntimeOrigin::signed(PROVIDER), batch(v))
}

fn withdraw(who: AccountId, ids: Vec<u64>) -> frame_support::dispatch::DispatchResult {
	Channels::withdraw(RuntimeOrigin::signed(who), BoundedVec::try_from(ids).unwrap())
}

#[test]
fn open_holds_the_value_on_the_senders_account() {
	build_and_execute(|| {
		let id = open(1_000);
		assert_eq!(id, 0);
		assert_eq!(held(ALICE), 1_000);
		assert_eq!(Balances::balance(&ALICE), 9_000);
		let c = ChannelsStore::<Test>::get(0).unwrap();
		assert_eq!(
			(c.sender, c.recipient, c.value, c.claimed, c.expiration),
			(ALICE, PROVIDER, 1_000, 0, 100)
		);
		assert_eq!(
			last_event(),
			Event::ChannelOpened {
				id: 0,
				sender: ALICE,
				recipient: PROVIDER,
				signer: signer().public().0,
				value: 1_000,
				expiration: 100
			}
			.into()
		);
		assert_eq!(open(500), 1, "ids count up");
		assert_eq!(held(ALICE), 1_500);
	});
}

#[test]
fn open_refusals_move_nothing() {
	build_and_execute(|| {
		let s = signer().public().0;
		let o = || RuntimeOrigin::signed(ALICE);
		assert_noop!(
			Channels::open_channel(o(), PROVIDER, s, MIN_VALUE - 1, 100),
			Error::<Test>::ValueBelowMinimum
		);
		assert_noop!(
			Channels::open_channel(o(), ALICE, s, 1_000, 100),
			Error::<Test>::ChannelToSelf
		);
		assert_noop!(
			Channels::open_channel(o(), PROVIDER, s, 1_000, 1),
			Error::<Test>::ExpirationInPast
		);
		assert_noop!(
			Channels::open_channel(o(), PROVIDER, s, 1_000, 1 + MAX_DURATION + 1),
			Error::<Test>::ExpirationTooFar
		);
		// All of a balance cannot be held: the account must stay alive.
		assert_noop!(
			Channels::open_channel(o(), PROVIDER, s, 10_000, 100),
			Error::<Test>::InsufficientFunds
		);
		assert_ok!(Channels::open_channel(o(), PROVIDER, s, 9_999, 1 + MAX_DURATION));
		NextChannelId::<Test>::put(u64::MAX);
		assert_noop!(
			Channels::open_channel(RuntimeOrigin::signed(BOB), PROVIDER, s, 1_000, 100),
			Error::<Test>::ChannelIdsExhausted
		);
	});
}

#[test]
fn add_funds_and_extend_are_the_senders_and_checked() {
	build_and_execute(|| {
		let id = open(1_000);
		assert_ok!(Channels::add_funds(RuntimeOrigin::signed(ALICE), id, 500));
		assert_eq!(held(ALICE), 1_500);
		assert_eq!(last_event(), Event::FundsAdded { id, amount: 500, value: 1_500 }.into());
		assert_noop!(
			Channels::add_funds(RuntimeOrigin::signed(BOB), id, 500),
			Error::<Test>::NotSender
		);
		assert_noop!(
			Channels::add_funds(RuntimeOrigin::signed(ALICE), 9, 500),
			Error::<Test>::UnknownChannel
		);
		assert_noop!(
			Channels::add_funds(RuntimeOrigin::signed(ALICE), id, 0),
			Error::<Test>::ZeroAmount
		);
		assert_noop!(
			Channels::add_funds(RuntimeOrigin::signed(ALICE), id, 8_500),
			Error::<Test>::InsufficientFunds
		);

		assert_ok!(Channels::extend(RuntimeOrigin::signed(ALICE), id, 200));
		assert_eq!(last_event(), Event::Extended { id, expiration: 200 }.into());
		assert_noop!(
			Channels::extend(RuntimeOrigin::signed(BOB), id, 300),
			Error::<Test>::NotSender
		);
		assert_noop!(
			Channels::extend(RuntimeOrigin::signed(ALICE), id, 200),
			Error::<Test>::ExpirationNotLater
		);
		assert_noop!(
			Channels::extend(RuntimeOrigin::signed(ALICE), id, 2 + MAX_DURATION),
			Error::<Test>::ExpirationTooFar
		);
		assert_noop!(
			Channels::extend(RuntimeOrigin::signed(ALICE), 9, 300),
			Error::<Test>::UnknownChannel
		);

		System::set_block_number(200);
		assert_noop!(
			Channels::add_funds(RuntimeOrigin::signed(ALICE), id, 10),
			Error::<Test>::ChannelExpired
		);
	});
}

#[test]
fn a_claim_secures_each_lanes_difference_and_a_withdraw_pays_it_out() {
	build_and_execute(|| {
		let id = open(1_000);
		// Two lanes in flight at once, then a later voucher on lane 0.
		assert_ok!(claim(vec![voucher(id, 0, 3, 30), voucher(id, 1, 1, 20)]));
		assert_eq!(
			last_event(),
			Event::Claimed { id, lane: 1, nonce: 1, amount: 20, lane_total: 20 }.into()
		);
		assert_ok!(claim(vec![voucher(id, 0, 7, 100)]));
		assert_eq!(
			last_event(),
			Event::Claimed { id, lane: 0, nonce: 7, amount: 70, lane_total: 100 }.into()
		);
		// Claimed, not yet paid: still held on the sender, the provider's now.
		assert_eq!(Balances::balance(&PROVIDER), 10);
		assert_eq!(held(ALICE), 1_000);
		let c = ChannelsStore::<Test>::get(id).unwrap();
		assert_eq!((c.claimed, c.paid, c.owed(), c.unclaimed()), (120, 0, 120, 880));
		assert_eq!(c.lanes.get(&0), Some(&LaneState { nonce: 7, claimed: 100 }));

		assert_ok!(withdraw(PROVIDER, vec![id]));
		assert_eq!(last_event(), Event::Withdrawn { id, recipient: PROVIDER, amount: 120 }.into());
		assert_eq!(Balances::balance(&PROVIDER), 10 + 120);
		assert_eq!(held(ALICE), 880);
		assert_eq!(ChannelsStore::<Test>::get(id).unwrap().paid, 120);
		// Tokens are conserved: the sender lost exactly what the provider got.
		assert_eq!(Balances::total_balance(&ALICE), 10_000 - 120);
		// A later claim is owed again, and only that is paid out.
		assert_ok!(claim(vec![voucher(id, 1, 2, 50)]));
		assert_ok!(withdraw(PROVIDER, vec![id]));
		assert_eq!(last_event(), Event::Withdrawn { id, recipient: PROVIDER, amount: 30 }.into());
		assert_eq!(Balances::balance(&PROVIDER), 10 + 150);
		assert_eq!(held(ALICE), 850);
	});
}

#[test]
fn withdraw_refusals_move_nothing() {
	build_and_execute(|| {
		let a = open(1_000);
		let b = open(500);
		assert_ok!(claim(vec![voucher(a, 0, 1, 100)]));
		// Nothing claimed from b, an unknown channel, an empty list.
		assert_noop!(withdraw(PROVIDER, vec![b]), Error::<Test>::NothingToWithdraw);
		assert_noop!(withdraw(PROVIDER, vec![a, b]), Error::<Test>::NothingToWithdraw);
		assert_noop!(withdraw(PROVIDER, vec![a, 9]), Error::<Test>::UnknownChannel);
		assert_noop!(withdraw(PROVIDER, vec![]), Error::<Test>::EmptyBatch);
		// Naming a channel twice pays it once, or rather not at all: refused.
		assert_noop!(withdraw(PROVIDER, vec![a, a]), Error::<Test>::NothingToWithdraw);
		// Only the recipient takes the claims out, not the sender or another provider.
		assert_noop!(withdraw(ALICE, vec![a]), Error::<Test>::NotRecipient);
		assert_noop!(withdraw(OTHER_PROVIDER, vec![a]), Error::<Test>::NotRecipient);
		assert_ok!(withdraw(PROVIDER, vec![a]));
		assert_noop!(withdraw(PROVIDER, vec![a]), Error::<Test>::NothingToWithdraw);
		assert_eq!(Balances::balance(&PROVIDER), 10 + 100);
	});
}

#[test]
fn one_batch_claims_many_channels_and_several_vouchers_of_a_lane_in_order() {
	build_and_execute(|| {
		let a = open(1_000);
		let b = {
			let id = NextChannelId::<Test>::get();
			assert_ok!(Channels::open_channel(
				RuntimeOrigin::signed(BOB),
				PROVIDER,
				signer().public().0,
				400,
				50
			));
			id
		};
		assert_ok!(claim(vec![voucher(a, 0, 1, 10), voucher(b, 2, 1, 400), voucher(a, 0, 2, 25)]));
		assert_eq!(ChannelsStore::<Test>::get(a).unwrap().claimed, 25);
		assert_eq!(ChannelsStore::<Test>::get(b).unwrap().claimed, 400);
		// One withdraw pays out both channels, from both senders' holds.
		assert_ok!(withdraw(PROVIDER, vec![b, a]));
		assert_eq!(held(ALICE), 975);
		assert_eq!(held(BOB), 0);
		assert_eq!(Balances::balance(&PROVIDER), 10 + 425);
		// Out of order within a batch is a stale voucher, and nothing moves.
		assert_noop!(
			claim(vec![voucher(a, 0, 4, 40), voucher(a, 0, 3, 50)]),
			Error::<Test>::StaleVoucher
		);
	});
}

#[test]
fn replayed_lower_forged_and_over_value_vouchers_are_refused_and_move_nothing() {
	build_and_execute(|| {
		let id = open(1_000);
		assert_ok!(claim(vec![voucher(id, 0, 5, 300)]));
		assert_noop!(claim(vec![voucher(id, 0, 5, 300)]), Error::<Test>::StaleVoucher);
		assert_noop!(claim(vec![voucher(id, 0, 4, 400)]), Error::<Test>::StaleVoucher);
		assert_noop!(claim(vec![voucher(id, 0, 6, 200)]), Error::<Test>::NothingToClaim);
		assert_noop!(claim(vec![voucher(id, 0, 6, 300)]), Error::<Test>::NothingToClaim);
		// A voucher the provider made up itself.
		let forged = signed_by(&Pair::from_seed(&[9; 32]), id, 0, 6, 400);
		assert_noop!(claim(vec![forged]), Error::<Test>::BadSignature);
		// A real signature with the amount raised afterwards.
		let mut raised = voucher(id, 0, 6, 400);
		raised.voucher.cumulative = 900;
		assert_noop!(claim(vec![raised]), Error::<Test>::BadSignature);
		// Lanes together may not pay more than the channel holds.
		assert_noop!(claim(vec![voucher(id, 1, 1, 701)]), Error::<Test>::OverValue);
		assert_noop!(
			claim(vec![voucher(id, 1, 1, 400), voucher(id, 2, 1, 301)]),
			Error::<Test>::OverValue
		);
		assert_noop!(claim(vec![voucher(id, MAX_LANES, 1, 10)]), Error::<Test>::LaneOutOfRange);
		// One bad voucher refuses the whole batch: the good one is not paid either.
		assert_noop!(
			claim(vec![voucher(id, 1, 1, 10), voucher(id, 0, 5, 300)]),
			Error::<Test>::StaleVoucher
		);
		assert_noop!(claim(vec![]), Error::<Test>::EmptyBatch);
		assert_noop!(claim(vec![voucher(9, 0, 1, 10)]), Error::<Test>::UnknownChannel);
		// The whole value can be claimed, to the planck.
		assert_ok!(claim(vec![voucher(id, 1, 1, 700)]));
		assert_ok!(withdraw(PROVIDER, vec![id]));
		assert_eq!(held(ALICE), 0);
		assert_eq!(Balances::balance(&PROVIDER), 10 + 1_000);
	});
}

#[test]
fn only_the_recipient_claims_and_only_before_expiry() {
	build_and_execute(|| {
		let id = open(1_000);
		assert_noop!(
			Channels::claim_batch(
				RuntimeOrigin::signed(OTHER_PROVIDER),
				batch(vec![voucher(id, 0, 1, 10)])
			),
			Error::<Test>::NotRecipient
		);
		assert_noop!(
			Channels::claim_batch(RuntimeOrigin::signed(ALICE), batch(vec![voucher(id, 0, 1, 10)])),
			Error::<Test>::NotRecipient
		);
		System::set_block_number(99);
		assert_ok!(claim(vec![voucher(id, 0, 1, 10)]));
		System::set_block_number(100);
		assert_noop!(claim(vec![voucher(id, 0, 2, 20)]), Error::<Test>::ChannelExpired);
	});
}

#[test]
fn reclaim_returns_exactly_the_unclaimed_value_after_expiry() {
	build_and_execute(|| {
		let id = open(1_000);
		assert_ok!(claim(vec![voucher(id, 0, 1, 250)]));
		assert_noop!(
			Channels::reclaim(RuntimeOrigin::signed(ALICE), id),
			Error::<Test>::NotExpired
		);
		System::set_block_number(100);
		// Anyone may close it; the claims go to the recipient, the rest to the sender.
		assert_ok!(Channels::reclaim(RuntimeOrigin::signed(BOB), id));
		assert_eq!(
			last_event(),
			Event::Reclaimed { id, sender: ALICE, amount: 750, recipient: PROVIDER, paid: 250 }
				.into()
		);
		assert_eq!(held(ALICE), 0);
		assert_eq!(Balances::balance(&ALICE), 10_000 - 250);
		assert_eq!(Balances::balance(&PROVIDER), 10 + 250);
		assert!(ChannelsStore::<Test>::get(id).is_none());
		assert_noop!(
			Channels::reclaim(RuntimeOrigin::signed(ALICE), id),
			Error::<Test>::UnknownChannel
		);
		// A voucher of the closed channel pays nothing.
		assert_noop!(claim(vec![voucher(id, 0, 2, 500)]), Error::<Test>::UnknownChannel);
		assert_noop!(withdraw(PROVIDER, vec![id]), Error::<Test>::UnknownChannel);
	});
}

#[test]
fn reclaim_pays_only_what_was_not_withdrawn_and_a_withdraw_after_expiry_still_pays() {
	build_and_execute(|| {
		let a = open(1_000);
		let b = open(1_000);
		assert_ok!(claim(vec![voucher(a, 0, 1, 100), voucher(b, 0, 1, 300)]));
		assert_ok!(withdraw(PROVIDER, vec![a]));
		assert_ok!(claim(vec![voucher(a, 0, 2, 160)]));
		System::set_block_number(100);
		// Expired: no more claims, but what was claimed can still be taken out.
		assert_noop!(claim(vec![voucher(b, 0, 2, 400)]), Error::<Test>::ChannelExpired);
		assert_ok!(withdraw(PROVIDER, vec![b]));
		assert_eq!(Balances::balance(&PROVIDER), 10 + 100 + 300);
		assert_ok!(Channels::reclaim(RuntimeOrigin::signed(ALICE), a));
		assert_eq!(
			last_event(),
			Event::Reclaimed { id: a, sender: ALICE, amount: 840, recipient: PROVIDER, paid: 60 }
				.into()
		);
		assert_ok!(Channels::reclaim(RuntimeOrigin::signed(PROVIDER), b));
		assert_eq!(
			last_event(),
			Event::Reclaimed { id: b, sender: ALICE, amount: 700, recipient: PROVIDER, paid: 0 }
				.into()
		);
		assert_eq!(held(ALICE), 0);
		assert_eq!(Balances::balance(&PROVIDER), 10 + 160 + 300);
		assert_eq!(Balances::total_balance(&ALICE), 10_000 - 460);
	});
}

/// Alice tries to transfer 9,500 of her 10,000: more than is free beside the
/// channel's hold.
fn move_held_away() -> Result<Balance, sp_runtime::DispatchError> {
	<Balances as frame_support::traits::fungible::Mutate<_>>::transfer(
		&ALICE,
		&BOB,
		9_500,
		frame_support::traits::tokens::Preservation::Expendable,
	)
}

#[test]
fn a_sender_cannot_pull_funds_out_from_under_accepted_vouchers() {
	// What a worker relies on when it accepts a voucher: until expiration the
	// value can only grow, and no call of the sender's reduces it.
	build_and_execute(|| {
		let id = open(1_000);
		assert_noop!(
			Channels::reclaim(RuntimeOrigin::signed(ALICE), id),
			Error::<Test>::NotExpired
		);
		assert_noop!(
			Channels::extend(RuntimeOrigin::signed(ALICE), id, 50),
			Error::<Test>::ExpirationNotLater
		);
		// The held funds cannot be transferred away either.
		assert_noop!(move_held_away(), sp_runtime::TokenError::FundsUnavailable);
		System::set_block_number(99);
		assert_ok!(claim(vec![voucher(id, 0, 1, 1_000)]));
		// Claimed but not yet paid out: still held, and still not the sender's.
		assert_noop!(move_held_away(), sp_runtime::TokenError::FundsUnavailable);
		System::set_block_number(100);
		assert_ok!(Channels::reclaim(RuntimeOrigin::signed(ALICE), id));
		assert_eq!(Balances::balance(&PROVIDER), 10 + 1_000);
		assert_eq!(Balances::total_balance(&ALICE), 9_000);
	});
}
