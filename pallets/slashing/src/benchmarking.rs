//! Benchmarks of `pallet-slashing`, each in its worst case.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::arithmetic_side_effects)]

use super::*;
use crate::Pallet as Slashing;
use frame_benchmarking::v2::*;
use frame_support::traits::{fungible::Mutate, Get};
use frame_system::RawOrigin;
use frame_system::pallet_prelude::BlockNumberFor;
use sp_runtime::traits::{Bounded, Saturating};

fn funded<T: Config>(name: &'static str) -> T::AccountId
where
	T::Currency: Mutate<T::AccountId>,
{
	let who: T::AccountId = account(name, 0, 0);
	let amount = T::MinProviderStake::get().saturating_mul(1_000u32.into());
	T::Currency::set_balance(&who, amount);
	who
}

#[benchmarks(where T::Currency: Mutate<T::AccountId>)]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn bond() {
		let who = funded::<T>("provider");
		let amount = T::MinProviderStake::get();
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), amount);
		assert!(Bonds::<T>::contains_key(&who));
	}

	#[benchmark]
	fn bond_extra() {
		let who = funded::<T>("provider");
		let amount = T::MinProviderStake::get();
		Slashing::<T>::bond(RawOrigin::Signed(who.clone()).into(), amount).unwrap();
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), amount);
		assert_eq!(Bonds::<T>::get(&who).unwrap().active, amount.saturating_mul(2u32.into()));
	}

	#[benchmark]
	fn unbond() {
		let who = funded::<T>("provider");
		let amount = T::MinProviderStake::get().saturating_mul(2u32.into());
		Slashing::<T>::bond(RawOrigin::Signed(who.clone()).into(), amount).unwrap();
		// Worst case: the active bond falls below the minimum, which pauses offers.
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), amount);
		assert_eq!(Bonds::<T>::get(&who).unwrap().unlocking.len(), 1);
	}

	/// `c`: unlocking chunks to scan and release.
	#[benchmark]
	fn withdraw_unbonded(c: Linear<1, { T::MaxUnlockingChunks::get() }>) {
		let who = funded::<T>("provider");
		let amount = T::MinProviderStake::get().saturating_mul(2u32.into());
		Slashing::<T>::bond(RawOrigin::Signed(who.clone()).into(), amount).unwrap();
		for _ in 0..c {
			Slashing::<T>::unbond(RawOrigin::Signed(who.clone()).into(), 1u32.into()).unwrap();
		}
		frame_system::Pallet::<T>::set_block_number(BlockNumberFor::<T>::max_value());
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()));
		assert!(Bonds::<T>::get(&who).unwrap().unlocking.is_empty());
	}

	impl_benchmark_test_suite!(Slashing, crate::mock::new_test_ext(), crate::mock::Test);
}
