//! The pallet's invariants, checked after every test and by `try-runtime`.

use crate::*;
use alloc::collections::btree_map::BTreeMap;
use frame_support::{
	ensure,
	traits::{fungible::InspectHold, Get},
};
use sp_runtime::traits::Saturating;

impl<T: Config> Pallet<T> {
	/// Invariants:
	/// - the worker-key index is consistent with the offers: each offer's key
	///   maps to its provider, with a count equal to that provider's offers using it;
	/// - `ProviderOffers` and `ModelOffers` list exactly the existing offers;
	///   each model's offers fill slots `0..ModelOfferCount` with no gap, and
	///   each offer's `slot` holds its id;
	/// - every offer's model exists, and offer ids are below `NextOfferId`;
	/// - `PublisherModels` counts each publisher's models, none above
	///   `MaxModelsPerPublisher`;
	/// - each account holds exactly the deposits of its models
	///   (`HoldReason::ModelDeposit`) and of its offers (`HoldReason::OfferDeposit`);
	/// - every closed offer is in the `ClosedExpiry` queue of its `expires_at`,
	///   which is in the future, and no longer open; the queues hold nothing else.
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		let mut key_counts: BTreeMap<[u8; 32], (T::AccountId, u32)> = BTreeMap::new();
		let mut offer_deposits: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
		let mut offers = 0u32;
		for (id, o) in Offers::<T>::iter() {
			offers = offers.saturating_add(1);
			ensure!(id < NextOfferId::<T>::get(), "offer id at or above NextOfferId");
			// An active offer's provider may be under the minimum stake when
			// governance raised it after the offer opened: its offers pause when
			// its own bond next changes, and assignment skips it meanwhile
			// (`pallet-jobs`' candidates), so that is no broken invariant
			// (found by the runtime fuzzer, runtime/fuzz).
			ensure!(Models::<T>::contains_key(o.model_id), "offer for an unknown model");
			ensure!(ModelOffers::<T>::get(o.model_id, o.slot) == Some(id), "offer missing from its ModelOffers slot");
			ensure!(o.slot < ModelOfferCount::<T>::get(o.model_id), "offer slot beyond the model's count");
			ensure!(
				ProviderOffers::<T>::get(&o.provider).contains(&id),
				"offer missing from ProviderOffers"
			);
			let e = key_counts.entry(o.worker_key).or_insert((o.provider.clone(), 0));
			ensure!(e.0 == o.provider, "a worker key serves two providers");
			e.1 = e.1.saturating_add(1);
			let d = offer_deposits.entry(o.provider.clone()).or_default();
			*d = d.saturating_add(o.deposit);
		}
		let indexed: u32 = WorkerKeys::<T>::iter().count().try_into().unwrap_or(u32::MAX);
		ensure!(indexed as usize == key_counts.len(), "stale worker-key entries");
		for (key, expected) in key_counts {
			ensure!(WorkerKeys::<T>::get(key) == Some(expected), "worker-key index inconsistent");
		}
		let by_provider: u32 = ProviderOffers::<T>::iter_values()
			.map(|v| v.len() as u32)
			.fold(0u32, |a, b| a.saturating_add(b));
		ensure!(by_provider == offers, "ProviderOffers lists missing offers");
		let by_model: u32 = ModelOffers::<T>::iter().count().try_into().unwrap_or(u32::MAX);
		ensure!(by_model == offers, "ModelOffers lists missing offers");
		let counted = ModelOfferCount::<T>::iter_values().fold(0u32, |a, b| a.saturating_add(b));
		ensure!(counted == offers, "ModelOfferCount miscounts");
		ensure!(ModelOfferCount::<T>::iter_values().all(|n| n > 0), "a zero ModelOfferCount entry is stored");
		ensure!(Models::<T>::count() as usize == Models::<T>::iter().count(), "model counter is off");
		for (who, sum) in offer_deposits {
			let held = T::Currency::balance_on_hold(&HoldReason::OfferDeposit.into(), &who);
			ensure!(held == sum, "offer deposits held differ from the offers' deposits");
		}

		let now = frame_system::Pallet::<T>::block_number();
		let mut closed = 0usize;
		for (id, c) in ClosedOffers::<T>::iter() {
			closed = closed.saturating_add(1);
			ensure!(!Offers::<T>::contains_key(id), "a closed offer is still open");
			ensure!(c.expires_at > now, "a closed offer outlived its retention");
			ensure!(ClosedExpiry::<T>::get(c.expires_at).contains(&id), "a closed offer missing from its expiry queue");
		}
		let queued = ClosedExpiry::<T>::iter_values().map(|q| q.len()).fold(0usize, |a, b| a.saturating_add(b));
		ensure!(queued == closed, "ClosedExpiry lists offers that are not kept");

		let mut per_publisher: BTreeMap<T::AccountId, (u32, BalanceOf<T>)> = BTreeMap::new();
		for m in Models::<T>::iter_values() {
			let e = per_publisher.entry(m.manifest.publisher.clone()).or_default();
			e.0 = e.0.saturating_add(1);
			e.1 = e.1.saturating_add(m.deposit);
		}
		ensure!(
			PublisherModels::<T>::iter().count() == per_publisher.len(),
			"PublisherModels has stale entries"
		);
		for (who, (n, sum)) in per_publisher {
			ensure!(PublisherModels::<T>::get(&who) == n, "PublisherModels miscounts");
			ensure!(n <= T::MaxModelsPerPublisher::get(), "a publisher is over its model cap");
			let held = T::Currency::balance_on_hold(&HoldReason::ModelDeposit.into(), &who);
			ensure!(held == sum, "model deposits held differ from the models' deposits");
		}
		Ok(())
	}
}
