//! Benchmarks of `pallet-models`, each in its worst case (longest texts and
//! endpoints, fullest provider).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::arithmetic_side_effects)]

use super::*;
use crate::Pallet as Models;
use agora_primitives::models::{shipped, ManifestInput, MAX_TEXT_LEN};
use alloc::{vec, vec::Vec};
use frame_benchmarking::v2::*;
use frame_support::traits::Get;
use frame_system::RawOrigin;

fn long_manifest<T: Config>(publisher: T::AccountId, tag: u32) -> ManifestInput<T::AccountId> {
	let mut m = shipped::minilm(publisher);
	let text = vec![b'x'; MAX_TEXT_LEN as usize];
	m.name = text.clone();
	m.architecture = text.clone();
	m.quantization = text.clone();
	m.licence = text;
	m.weights_hash[..4].copy_from_slice(&tag.to_le_bytes());
	m
}

/// The longest endpoint: a public name of 9-letter labels.
fn endpoint<T: Config>() -> Vec<u8> {
	let mut e = b"https://".to_vec();
	while e.len() < T::MaxEndpointLen::get() as usize {
		e.push(if (e.len() - 7).is_multiple_of(10) { b'.' } else { b'e' });
	}
	if e.last() == Some(&b'.') {
		e.pop();
	}
	e
}

/// A funded publisher (the bond helper funds and bonds it).
fn publisher<T: Config>() -> T::AccountId {
	let publisher: T::AccountId = account("publisher", 0, 0);
	T::BenchmarkHelper::bond(&publisher);
	publisher
}

fn hardware<T: Config>() -> Vec<u8> {
	vec![b'h'; T::MaxHardwareLen::get() as usize]
}

/// A registered model and a bonded provider with `existing` offers already open.
fn setup<T: Config>(existing: u32) -> (T::AccountId, agora_primitives::ModelId) {
	let m = long_manifest::<T>(publisher::<T>(), 0);
	let id = m.id();
	Models::<T>::do_register(m, T::ModelDeposit::get()).unwrap();
	let provider: T::AccountId = account("provider", 0, 0);
	T::BenchmarkHelper::bond(&provider);
	for _ in 0..existing {
		Models::<T>::do_open_offer(&provider, id, [1; 32], terms::<T>(), T::OfferDeposit::get()).unwrap();
	}
	(provider, id)
}

/// An offer's terms at the longest endpoint and hardware strings.
fn terms<T: Config>() -> Terms<BalanceOf<T>> {
	Terms {
		base_price: 1u32.into(),
		price_per_1k_tokens: 1u32.into(),
		endpoint: endpoint::<T>(),
		capacity: 1,
		hardware: hardware::<T>(),
	}
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn register_model() {
		let publisher = publisher::<T>();
		let m = long_manifest::<T>(publisher.clone(), 7);
		let id = m.id();
		#[extrinsic_call]
		_(RawOrigin::Signed(publisher), m);
		assert!(Models::<T>::model(id).is_some());
	}

	#[benchmark]
	fn deprecate_model() {
		let publisher = publisher::<T>();
		let m = long_manifest::<T>(publisher.clone(), 7);
		let id = m.id();
		Models::<T>::do_register(m, T::ModelDeposit::get()).unwrap();
		#[extrinsic_call]
		_(RawOrigin::Signed(publisher), id);
		assert!(Models::<T>::model(id).unwrap().deprecated);
	}

	#[benchmark]
	fn remove_model() {
		let publisher = publisher::<T>();
		let m = long_manifest::<T>(publisher.clone(), 7);
		let id = m.id();
		Models::<T>::do_register(m, T::ModelDeposit::get()).unwrap();
		Models::<T>::deprecate_model(RawOrigin::Signed(publisher.clone()).into(), id).unwrap();
		let now = frame_system::Pallet::<T>::block_number();
		frame_system::Pallet::<T>::set_block_number(now + T::ModelRetention::get());
		#[extrinsic_call]
		_(RawOrigin::Signed(publisher), id);
		assert!(Models::<T>::model(id).is_none());
	}

	#[benchmark]
	fn open_offer() {
		let (provider, id) = setup::<T>(T::MaxOffersPerProvider::get() - 1);
		#[extrinsic_call]
		_(
			RawOrigin::Signed(provider.clone()),
			id,
			[1; 32],
			1u32.into(),
			1u32.into(),
			endpoint::<T>(),
			T::MaxCapacity::get(),
			hardware::<T>(),
		);
		assert_eq!(Models::<T>::provider_offers(&provider).len() as u32, T::MaxOffersPerProvider::get());
	}

	#[benchmark]
	fn update_offer() {
		let (provider, _) = setup::<T>(1);
		let offer = *Models::<T>::provider_offers(&provider).first().unwrap();
		#[extrinsic_call]
		_(
			RawOrigin::Signed(provider),
			offer,
			2u32.into(),
			2u32.into(),
			endpoint::<T>(),
			T::MaxCapacity::get(),
			hardware::<T>(),
		);
		assert_eq!(Offers::<T>::get(offer).unwrap().capacity, T::MaxCapacity::get());
	}

	#[benchmark]
	fn pause_offer() {
		let (provider, _) = setup::<T>(1);
		let offer = *Models::<T>::provider_offers(&provider).first().unwrap();
		#[extrinsic_call]
		_(RawOrigin::Signed(provider), offer);
		assert_eq!(Offers::<T>::get(offer).unwrap().status, agora_primitives::OfferStatus::Paused);
	}

	#[benchmark]
	fn resume_offer() {
		let (provider, _) = setup::<T>(1);
		let offer = *Models::<T>::provider_offers(&provider).first().unwrap();
		Models::<T>::pause_offer(RawOrigin::Signed(provider.clone()).into(), offer).unwrap();
		#[extrinsic_call]
		_(RawOrigin::Signed(provider), offer);
		assert_eq!(Offers::<T>::get(offer).unwrap().status, agora_primitives::OfferStatus::Active);
	}

	/// `o`: offers the provider has (the id list that is searched).
	#[benchmark]
	/// The worst case: the closed offer is in slot 0 and another provider's
	/// offer in the model's last slot moves into it.
	fn close_offer(o: Linear<1, { T::MaxOffersPerProvider::get() }>) {
		let (provider, model) = setup::<T>(o);
		let other: T::AccountId = account("provider", 1, 0);
		T::BenchmarkHelper::bond(&other);
		let moved = Models::<T>::do_open_offer(&other, model, [2; 32], terms::<T>(), T::OfferDeposit::get()).unwrap();
		let offer = *Models::<T>::provider_offers(&provider).first().unwrap();
		#[extrinsic_call]
		_(RawOrigin::Signed(provider), offer);
		assert!(Offers::<T>::get(offer).is_none());
		assert_eq!(Offers::<T>::get(moved).map(|o| o.slot), Some(0));
	}

	impl_benchmark_test_suite!(Models, crate::mock::new_test_ext(), crate::mock::Test);
}
