//! Benchmarks of `pallet-channels`, each in its worst case: every channel's
//! lanes full, so each claim decodes and encodes the largest record, and
//! every payout moves funds off another sender's hold.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::arithmetic_side_effects)]

use super::*;
use crate::Pallet as Channels;
use agora_primitives::channels::{LaneState, SignedVoucher, Voucher};
use frame_benchmarking::v2::*;
use frame_support::{
	traits::{fungible::{Inspect, Mutate}, Get},
	BoundedVec,
};
use frame_system::{pallet_prelude::BlockNumberFor, RawOrigin};
use sp_core::crypto::KeyTypeId;
use sp_runtime::traits::Saturating;

const KEY: KeyTypeId = KeyTypeId(*b"bnch");

fn signer() -> sp_core::sr25519::Public {
	sp_io::crypto::sr25519_generate(KEY, None)
}

fn funded<T: Config>(name: &'static str, i: u32) -> T::AccountId
where
	T::Currency: Mutate<T::AccountId>,
{
	let who: T::AccountId = account(name, i, 0);
	T::Currency::set_balance(&who, value::<T>().saturating_mul(10u32.into()));
	who
}

fn value<T: Config>() -> BalanceOf<T> {
	T::MinChannelValue::get().saturating_mul(1_000u32.into())
}

fn expiration<T: Config>() -> BlockNumberFor<T> {
	frame_system::Pallet::<T>::block_number().saturating_add(T::MaxChannelDuration::get())
}

/// Sender `i` opens a channel to `recipient` whose lanes, all but the last,
/// have already been claimed once.
fn open_full<T: Config>(i: u32, recipient: &T::AccountId, key: &sp_core::sr25519::Public) -> u64
where
	T::Currency: Mutate<T::AccountId>,
{
	let sender = funded::<T>("sender", i);
	let id = NextChannelId::<T>::get();
	Channels::<T>::open_channel(
		RawOrigin::Signed(sender).into(),
		recipient.clone(),
		key.0,
		value::<T>(),
		expiration::<T>(),
	)
	.unwrap();
	// Filled in storage (claimed nothing: the record is as large as a real
	// one, without 63 signatures per channel in the setup).
	Channels_::<T>::mutate(id, |c| {
		let c = c.as_mut().unwrap();
		for lane in 0..T::MaxLanes::get().saturating_sub(1) {
			c.lanes.try_insert(lane, LaneState { nonce: 1, claimed: 0u32.into() }).unwrap();
		}
	});
	id
}

/// Marks `amount` of channel `id` claimed and not paid out (as a claim of
/// lane 0 would leave it).
fn owe<T: Config>(id: u64, amount: BalanceOf<T>) {
	Channels_::<T>::mutate(id, |c| {
		let c = c.as_mut().unwrap();
		c.lanes.try_insert(0, LaneState { nonce: 1, claimed: amount }).unwrap();
		c.claimed = amount;
	});
}

fn sign<T: Config>(
	key: &sp_core::sr25519::Public,
	channel_id: u64,
	lane: u32,
	nonce: u64,
	cumulative: BalanceOf<T>,
) -> SignedVoucher<BalanceOf<T>> {
	let voucher = Voucher { channel_id, lane, nonce, cumulative };
	let signature = sp_io::crypto::sr25519_sign(KEY, key, &voucher.signing_payload()).unwrap().0;
	SignedVoucher { voucher, signature }
}

#[benchmarks(where T::Currency: Mutate<T::AccountId>)]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn open_channel() {
		let sender = funded::<T>("sender", 0);
		let recipient = funded::<T>("recipient", 0);
		let key = signer();
		#[extrinsic_call]
		_(RawOrigin::Signed(sender), recipient, key.0, value::<T>(), expiration::<T>());
		assert!(Channels_::<T>::contains_key(0));
	}

	#[benchmark]
	fn add_funds() {
		let recipient = funded::<T>("recipient", 0);
		let id = open_full::<T>(0, &recipient, &signer());
		let sender = Channels_::<T>::get(id).unwrap().sender;
		#[extrinsic_call]
		_(RawOrigin::Signed(sender), id, value::<T>());
		assert_eq!(
			Channels_::<T>::get(id).unwrap().value,
			value::<T>().saturating_mul(2u32.into())
		);
	}

	#[benchmark]
	fn extend() {
		let recipient = funded::<T>("recipient", 0);
		let id = open_full::<T>(0, &recipient, &signer());
		let sender = Channels_::<T>::get(id).unwrap().sender;
		frame_system::Pallet::<T>::set_block_number(2u32.into());
		let later = expiration::<T>();
		#[extrinsic_call]
		_(RawOrigin::Signed(sender), id, later);
		assert_eq!(Channels_::<T>::get(id).unwrap().expiration, later);
	}

	/// `n`: vouchers in the batch, each of a different sender's channel, on
	/// the channel's last free lane.
	#[benchmark]
	fn claim_batch(n: Linear<1, { T::MaxClaimBatch::get() }>) {
		let recipient = funded::<T>("recipient", 0);
		let key = signer();
		let last = T::MaxLanes::get().saturating_sub(1);
		let claims: alloc::vec::Vec<_> = (0..n)
			.map(|i| {
				let id = open_full::<T>(i, &recipient, &key);
				sign::<T>(&key, id, last, 2, 2u32.into())
			})
			.collect();
		let claims: ClaimsOf<T> = BoundedVec::try_from(claims).unwrap();
		#[extrinsic_call]
		_(RawOrigin::Signed(recipient), claims);
		let c = Channels_::<T>::get(0).unwrap();
		assert_eq!(c.lanes.get(&last), Some(&LaneState { nonce: 2, claimed: 2u32.into() }));
		assert_eq!(c.lanes.len() as u32, T::MaxLanes::get());
	}

	/// `n`: channels paid out, each of a different sender (each moves funds
	/// off another account's hold).
	#[benchmark]
	fn withdraw(n: Linear<1, { T::MaxClaimBatch::get() }>) {
		let recipient = funded::<T>("recipient", 0);
		let key = signer();
		let owed: BalanceOf<T> = T::MinChannelValue::get();
		let ids: alloc::vec::Vec<u64> = (0..n)
			.map(|i| {
				let id = open_full::<T>(i, &recipient, &key);
				owe::<T>(id, owed);
				id
			})
			.collect();
		let ids: ChannelIdsOf<T> = BoundedVec::try_from(ids).unwrap();
		let before = T::Currency::balance(&recipient);
		#[extrinsic_call]
		_(RawOrigin::Signed(recipient.clone()), ids);
		assert_eq!(T::Currency::balance(&recipient), before.saturating_add(owed.saturating_mul(n.into())));
		assert_eq!(Channels_::<T>::get(0).unwrap().paid, owed);
	}

	/// The worst case: the recipient is owed part of the value, and the rest
	/// goes back to the sender.
	#[benchmark]
	fn reclaim() {
		let recipient = funded::<T>("recipient", 0);
		let id = open_full::<T>(0, &recipient, &signer());
		owe::<T>(id, T::MinChannelValue::get());
		let c = Channels_::<T>::get(id).unwrap();
		frame_system::Pallet::<T>::set_block_number(c.expiration);
		let before = T::Currency::balance(&recipient);
		#[extrinsic_call]
		_(RawOrigin::Signed(recipient.clone()), id);
		assert!(!Channels_::<T>::contains_key(id));
		assert_eq!(T::Currency::balance(&recipient), before.saturating_add(T::MinChannelValue::get()));
	}

	impl_benchmark_test_suite!(Channels, crate::mock::new_test_ext(), crate::mock::Test);
}

use crate::Channels as Channels_;
