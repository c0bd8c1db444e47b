//! Benchmarks of the hooks `pallet-jobs` and discovery call (v2 syntax).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::arithmetic_side_effects)]

use super::*;
use agora_primitives::Reputation;
use frame_benchmarking::v2::*;
use frame_support::traits::Get;
use frame_system::pallet_prelude::BlockNumberFor;

#[benchmarks]
mod benchmarks {
	use super::*;

	/// Worst case: the client replaces an earlier rating, its window is full, and
	/// this disagreement restricts it (every storage item is read and written).
	#[benchmark]
	fn on_rating() {
		let provider: T::AccountId = account("provider", 0, 0);
		let client: T::AccountId = account("client", 0, 0);
		// The majority of other clients rates +1.
		for i in 1..4u32 {
			let other: T::AccountId = account("other", i, 0);
			Pallet::<T>::on_rating(&other, &provider, 1).unwrap();
		}
		Pallet::<T>::on_rating(&client, &provider, 1).unwrap();
		// Fill the window with disagreements, one short of the threshold.
		let mut window = Windows::<T>::get(&client);
		window.clear();
		let n = T::AbuseWindow::get();
		let m = T::AbuseThreshold::get();
		for i in 0..n {
			let _ = window.try_push(i >= n - (m - 1));
		}
		Windows::<T>::insert(&client, window);
		Restrictions::<T>::insert(
			&client,
			types::Restriction { until: BlockNumberFor::<T>::from(0u32), strikes: 1 },
		);

		#[block]
		{
			Pallet::<T>::on_rating(&client, &provider, -1).unwrap();
		}

		assert_eq!(Restrictions::<T>::get(&client).unwrap().strikes, 2);
	}

	/// What discovery reads per offer from this pallet.
	#[benchmark]
	fn view() {
		let provider: T::AccountId = account("provider", 0, 0);
		let client: T::AccountId = account("client", 0, 0);
		Pallet::<T>::on_rating(&client, &provider, 1).unwrap();
		Pallet::<T>::on_finalized(&client, &provider);
		let v;
		#[block]
		{
			v = Pallet::<T>::view(&provider);
		}
		assert_eq!(v.ratings, 1);
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
