//! Tests of `pallet-escrow`: lock, settle with fee and royalty, refund, and every
//! error moving nothing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::arithmetic_side_effects)]

use crate::{mock::*, Bonds, Error, Escrows};
use agora_primitives::{DisputeBonds, JobEscrow};
use sp_runtime::Perbill;
use frame_support::{assert_noop, assert_ok, traits::fungible::Inspect};

type E = Escrow;

#[test]
fn lock_then_settle_splits_the_charge_and_refunds_the_rest() {
	build_and_execute(|| {
		let issuance = Balances::total_issuance();
		assert_ok!(<E as JobEscrow<_, _>>::lock(7, &CLIENT, 1_000));
		assert_eq!(Balances::balance(&CLIENT), 9_000);
		assert_eq!(<E as JobEscrow<_, _>>::locked(7), 1_000);
		// Charge 600: 5% fee = 30, 1% royalty = 6, provider 564, refund 400.
		let s = <E as JobEscrow<_, _>>::settle(7, &PROVIDER, &PUBLISHER, 100, 600).unwrap();
		assert_eq!((s.to_treasury, s.to_publisher, s.to_provider, s.refunded), (30, 6, 564, 400));
		assert_eq!(Balances::balance(&CLIENT), 9_400);
		assert_eq!(Balances::balance(&PROVIDER), 10 + 564);
		assert_eq!(Balances::balance(&PUBLISHER), 10 + 6);
		assert_eq!(Balances::balance(&TREASURY), 10 + 30);
		assert_eq!(Balances::total_issuance(), issuance, "escrow moves, never mints or burns");
		assert!(Escrows::<Test>::get(7).is_none());
	});
}

#[test]
fn refund_returns_everything() {
	build_and_execute(|| {
		assert_ok!(<E as JobEscrow<_, _>>::lock(1, &CLIENT, 2_500));
		assert_eq!(<E as JobEscrow<_, _>>::refund(1).unwrap(), 2_500);
		assert_eq!(Balances::balance(&CLIENT), 10_000);
	});
}

#[test]
fn errors_move_nothing() {
	build_and_execute(|| {
		assert_noop!(<E as JobEscrow<_, _>>::lock(1, &CLIENT, 20_000), Error::<Test>::InsufficientBalance);
		assert_ok!(<E as JobEscrow<_, _>>::lock(1, &CLIENT, 100));
		assert_noop!(<E as JobEscrow<_, _>>::lock(1, &CLIENT, 100), Error::<Test>::AlreadyLocked);
		assert_noop!(
			<E as JobEscrow<_, _>>::settle(1, &PROVIDER, &PUBLISHER, 0, 101),
			Error::<Test>::ChargeExceedsEscrow
		);
		assert_noop!(<E as JobEscrow<_, _>>::settle(2, &PROVIDER, &PUBLISHER, 0, 1), Error::<Test>::NoEscrow);
		assert_noop!(<E as JobEscrow<_, _>>::refund(2), Error::<Test>::NoEscrow);
	});
}

#[test]
fn a_full_royalty_never_pays_more_than_the_charge() {
	build_and_execute(|| {
		assert_ok!(<E as JobEscrow<_, _>>::lock(1, &CLIENT, 1_000));
		let s = <E as JobEscrow<_, _>>::settle(1, &PROVIDER, &PUBLISHER, 10_000, 1_000).unwrap();
		assert_eq!(s.to_treasury + s.to_publisher + s.to_provider, 1_000);
		assert_eq!(s.to_provider, 0);
	});
}

#[test]
fn a_royalty_too_small_to_open_an_empty_publisher_account_goes_to_the_treasury() {
	build_and_execute(|| {
		const NOBODY: AccountId = 55;
		let treasury0 = Balances::balance(&TREASURY);
		assert_ok!(<E as JobEscrow<_, _>>::lock(1, &CLIENT, 1_000));
		// 50 bps of 1,000 = 5, below the existential deposit (10): NOBODY cannot
		// receive it, so it goes to the treasury (with the 5% fee of 50).
		let s = <E as JobEscrow<_, _>>::settle(1, &PROVIDER, &NOBODY, 50, 1_000).unwrap();
		assert_eq!(s.to_publisher, 5);
		assert_eq!(Balances::balance(&NOBODY), 0);
		assert_eq!(Balances::balance(&TREASURY), treasury0 + 50 + 5);
		// A royalty at or above the deposit opens the account.
		assert_ok!(<E as JobEscrow<_, _>>::lock(2, &CLIENT, 1_000));
		let s = <E as JobEscrow<_, _>>::settle(2, &PROVIDER, &NOBODY, 100, 1_000).unwrap();
		assert_eq!(s.to_publisher, 10);
		assert_eq!(Balances::balance(&NOBODY), 10);
	});
}

type B = Escrow;

#[test]
fn a_returned_bond_comes_back_whole() {
	build_and_execute(|| {
		assert_ok!(<B as DisputeBonds<_, _>>::hold_bond(3, &CLIENT, 700));
		assert_eq!(Balances::balance(&CLIENT), 9_300);
		assert_eq!(<B as DisputeBonds<_, _>>::bond(3), Some((CLIENT, 700)));
		assert_eq!(<B as DisputeBonds<_, _>>::return_bond(3).unwrap(), 700);
		assert_eq!(Balances::balance(&CLIENT), 10_000);
		assert!(Bonds::<Test>::get(3).is_none());
	});
}

#[test]
fn a_forfeited_bond_is_split_between_provider_and_treasury() {
	build_and_execute(|| {
		let issuance = Balances::total_issuance();
		assert_ok!(<B as DisputeBonds<_, _>>::hold_bond(3, &CLIENT, 1_000));
		let (p, t) =
			<B as DisputeBonds<_, _>>::forfeit_bond(3, &PROVIDER, Perbill::from_percent(30)).unwrap();
		assert_eq!((p, t), (300, 700));
		assert_eq!(Balances::balance(&CLIENT), 9_000);
		assert_eq!(Balances::balance(&PROVIDER), 10 + 300);
		assert_eq!(Balances::balance(&TREASURY), 10 + 700);
		assert_eq!(Balances::total_issuance(), issuance, "a bond moves, never mints or burns");
		assert!(<B as DisputeBonds<_, _>>::bond(3).is_none());
	});
}

#[test]
fn bond_errors_move_nothing() {
	build_and_execute(|| {
		assert_noop!(
			<B as DisputeBonds<_, _>>::hold_bond(1, &CLIENT, 20_000),
			Error::<Test>::InsufficientBalance
		);
		assert_ok!(<B as DisputeBonds<_, _>>::hold_bond(1, &CLIENT, 100));
		assert_noop!(<B as DisputeBonds<_, _>>::hold_bond(1, &PROVIDER, 1), Error::<Test>::AlreadyBonded);
		assert_noop!(<B as DisputeBonds<_, _>>::return_bond(2), Error::<Test>::NoBond);
		assert_noop!(
			<B as DisputeBonds<_, _>>::forfeit_bond(2, &PROVIDER, Perbill::one()),
			Error::<Test>::NoBond
		);
	});
}

#[test]
fn charge_fee_pays_the_treasury_and_never_reaps_the_client() {
	build_and_execute(|| {
		let issuance = Balances::total_issuance();
		assert_ok!(<E as JobEscrow<_, _>>::charge_fee(&CLIENT, 0));
		assert_ok!(<E as JobEscrow<_, _>>::charge_fee(&CLIENT, 250));
		assert_eq!(Balances::balance(&CLIENT), 9_750);
		assert_eq!(Balances::balance(&TREASURY), 10 + 250);
		// All of it would close the account (existential deposit 10): refused,
		// nothing moved.
		assert_noop!(<E as JobEscrow<_, _>>::charge_fee(&CLIENT, 9_750), Error::<Test>::InsufficientBalance);
		assert_noop!(<E as JobEscrow<_, _>>::charge_fee(&CLIENT, 20_000), Error::<Test>::InsufficientBalance);
		assert_ok!(<E as JobEscrow<_, _>>::charge_fee(&CLIENT, 9_740));
		assert_eq!(Balances::balance(&CLIENT), 10);
		assert_eq!(Balances::total_issuance(), issuance);
	});
}

#[test]
fn forfeit_pays_the_treasury_and_refunds_the_rest() {
	build_and_execute(|| {
		let issuance = Balances::total_issuance();
		assert_ok!(<E as JobEscrow<_, _>>::lock(4, &CLIENT, 1_000));
		assert_noop!(<E as JobEscrow<_, _>>::forfeit(4, 1_001), Error::<Test>::ChargeExceedsEscrow);
		assert_noop!(<E as JobEscrow<_, _>>::forfeit(5, 1), Error::<Test>::NoEscrow);
		assert_eq!(<E as JobEscrow<_, _>>::forfeit(4, 100).unwrap(), 900);
		assert_eq!(Balances::balance(&CLIENT), 10_000 - 100);
		assert_eq!(Balances::balance(&TREASURY), 10 + 100);
		assert_eq!(Balances::balance(&PROVIDER), 10, "nobody in the job earns a forfeit");
		assert!(Escrows::<Test>::get(4).is_none());
		assert_eq!(Balances::total_issuance(), issuance);
	});
}
