//! Benchmarks of `pallet-passes`, each in its worst case: a top-up of an
//! existing pass, an unlock and a withdrawal that rewrite it, and a payout
//! page whose providers' accounts all exist.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::arithmetic_side_effects)]

use super::*;
use crate::Pallet as Passes;
use agora_primitives::{passes::PassWork, ServicePasses};
use frame_benchmarking::v2::*;
use frame_support::traits::{fungible::Mutate, EnsureOrigin, Get};
use frame_system::{pallet_prelude::BlockNumberFor, RawOrigin};
use sp_runtime::traits::{Saturating, Zero};

fn stake<T: Config>() -> BalanceOf<T> {
	T::StakePerRequest::get().saturating_mul(10u32.into())
}

fn funded<T: Config>(name: &'static str, i: u32) -> T::AccountId
where
	T::Currency: Mutate<T::AccountId>,
{
	let who: T::AccountId = account(name, i, 0);
	T::Currency::set_balance(&who, stake::<T>().saturating_mul(100u32.into()));
	who
}

/// `who`'s pass with two requests' stake, one of them taken.
fn with_pass<T: Config>(who: &T::AccountId) {
	Passes::<T>::lock(RawOrigin::Signed(who.clone()).into(), stake::<T>()).unwrap();
	<Passes<T> as ServicePasses<_, _>>::take_request(who).unwrap();
}

#[benchmarks(where T::Currency: Mutate<T::AccountId>)]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn lock() {
		let who = funded::<T>("client", 0);
		with_pass::<T>(&who);
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), stake::<T>());
		assert_eq!(Passes_::<T>::get(&who).unwrap().locked, stake::<T>().saturating_mul(2u32.into()));
	}

	#[benchmark]
	fn unlock() {
		let who = funded::<T>("client", 0);
		with_pass::<T>(&who);
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), T::StakePerRequest::get());
		assert!(Passes_::<T>::get(&who).unwrap().unlocking.is_some());
	}

	#[benchmark]
	fn withdraw_unlocked() {
		let who = funded::<T>("client", 0);
		with_pass::<T>(&who);
		Passes::<T>::unlock(RawOrigin::Signed(who.clone()).into(), T::StakePerRequest::get()).unwrap();
		let later = frame_system::Pallet::<T>::block_number().saturating_add(T::PassCooldown::get());
		frame_system::Pallet::<T>::set_block_number(later);
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()));
		assert!(Passes_::<T>::get(&who).unwrap().unlocking.is_none());
	}

	#[benchmark]
	fn set_service_weight() {
		let origin = T::ServiceWeightOrigin::try_successful_origin().unwrap();
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, [7u8; 32], T::MaxServiceWeight::get());
		assert_eq!(ServiceWeights::<T>::get([7u8; 32]), Some(T::MaxServiceWeight::get()));
	}

	/// An ended epoch with one provider's work: its payout starts and pays the
	/// one provider in the same block (so `pay_step`, which charges
	/// `start_payout` and then `pay_page(n)`, counts one provider twice: an
	/// over-estimate).
	#[benchmark]
	fn start_payout() {
		let provider = funded::<T>("provider", 0);
		<Passes<T> as ServicePasses<_, _>>::on_served(&provider, &[1u8; 32]);
		let next: BlockNumberFor<T> = EpochLength::<T>::get();
		frame_system::Pallet::<T>::set_block_number(next);
		#[block]
		{
			Passes::<T>::pay_step(next);
		}
		assert!(CurrentPayout::<T>::get().is_none());
		assert_eq!(NextPayoutEpoch::<T>::get(), 1);
	}

	/// `n`: providers paid in the page, each an existing account; the page is
	/// the payout's last, so it also mints the remainder to the treasury.
	#[benchmark]
	fn pay_page(n: Linear<1, { T::MaxPayoutsPerBlock::get() }>) {
		for i in 0..n {
			let provider = funded::<T>("provider", i);
			Work::<T>::insert(0, provider, PassWork { jobs: 1, contribution: 1 });
		}
		NextPayoutEpoch::<T>::put(1);
		CurrentPayout::<T>::put(Payout {
			epoch: 0,
			reward: stake::<T>().saturating_mul(1_000u32.into()),
			// One unit more than the work: a remainder is left for the treasury.
			total: u64::from(n) + 1,
			paid: Zero::zero(),
			providers: 0,
		});
		let next: BlockNumberFor<T> = EpochLength::<T>::get();
		frame_system::Pallet::<T>::set_block_number(next);
		#[block]
		{
			Passes::<T>::pay_step(next);
		}
		assert_eq!(Work::<T>::iter_prefix(0).count(), 0);
		assert!(CurrentPayout::<T>::get().is_none());
	}

	impl_benchmark_test_suite!(Passes, crate::mock::new_test_ext(), crate::mock::Test);
}

use crate::Passes as Passes_;
