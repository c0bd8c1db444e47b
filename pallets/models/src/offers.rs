//! Provider offers: opening (with its deposit and the endpoint rule), closing,
//! the views the runtime API returns, and the registry `pallet-jobs` reads.

use crate::*;
use agora_primitives::{
	endpoint::EndpointError,
	models::{OfferView, ProviderView},
	rules, ModelId, OfferId, OfferSigner, OfferStatus, ProviderBonds,
};
use alloc::vec::Vec;
use agora_pallet_support::BlockQueue;
use frame_support::{
	ensure,
	traits::{fungible::MutateHold, tokens::Precision, Get},
	BoundedVec,
};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_runtime::{
	traits::{CheckedAdd, CheckedMul, Saturating, Zero},
	DispatchError, DispatchResult,
};

impl<T: Config> Pallet<T> {
	#[allow(clippy::type_complexity)]
	pub(crate) fn check_terms(
		t: &Terms<BalanceOf<T>>,
	) -> Result<(BoundedVec<u8, T::MaxEndpointLen>, BoundedVec<u8, T::MaxHardwareLen>), DispatchError>
	{
		ensure!(
			!(t.base_price.is_zero() && t.price_per_1k_tokens.is_zero()),
			Error::<T>::ZeroPrice
		);
		// The most a job can cost: base + per_1k × ceil(MaxTokensPerJob / 1000).
		let thousands = T::MaxTokensPerJob::get().div_ceil(1_000);
		t.price_per_1k_tokens
			.checked_mul(&BalanceOf::<T>::from(thousands))
			.and_then(|v| v.checked_add(&t.base_price))
			.ok_or(Error::<T>::PriceOverflow)?;
		ensure!(
			t.capacity > 0 && t.capacity <= T::MaxCapacity::get(),
			Error::<T>::InvalidCapacity
		);
		let endpoint: BoundedVec<u8, T::MaxEndpointLen> =
			t.endpoint.clone().try_into().map_err(|_| Error::<T>::EndpointTooLong)?;
		agora_primitives::endpoint::check(&t.endpoint, PrivateEndpoints::<T>::get()).map_err(|e| match e {
			EndpointError::Malformed => Error::<T>::InvalidEndpoint,
			EndpointError::NotPublic => Error::<T>::PrivateEndpoint,
		})?;
		let hardware: BoundedVec<u8, T::MaxHardwareLen> =
			t.hardware.clone().try_into().map_err(|_| Error::<T>::HardwareTooLong)?;
		Ok((endpoint, hardware))
	}

	/// Validates and opens an offer, holding `deposit` from the provider
	/// (`OfferDeposit` for a signed call, nothing for a genesis offer); returns its id.
	pub(crate) fn do_open_offer(
		who: &T::AccountId,
		model_id: ModelId,
		worker_key: [u8; 32],
		terms: Terms<BalanceOf<T>>,
		deposit: BalanceOf<T>,
	) -> Result<OfferId, DispatchError> {
		let model = Models::<T>::get(model_id).ok_or(Error::<T>::UnknownModel)?;
		ensure!(model.deprecated_at.is_none(), Error::<T>::ModelDeprecated);
		ensure!(T::Bonds::is_bonded(who), Error::<T>::NotBonded);
		let (endpoint, hardware) = Self::check_terms(&terms)?;
		let key_count = match WorkerKeys::<T>::get(worker_key) {
			Some((owner, n)) => {
				ensure!(&owner == who, Error::<T>::WorkerKeyInUse);
				n.checked_add(1).ok_or(Error::<T>::Overflow)?
			},
			None => 1,
		};
		let mut ids = ProviderOffers::<T>::get(who);
		let offer_id = NextOfferId::<T>::get();
		let next = offer_id.checked_add(1).ok_or(Error::<T>::Overflow)?;
		ids.try_push(offer_id).map_err(|_| Error::<T>::TooManyOffers)?;
		let slot = ModelOfferCount::<T>::get(model_id);
		ensure!(slot.checked_add(1).is_some(), Error::<T>::Overflow);
		if !deposit.is_zero() {
			T::Currency::hold(&HoldReason::OfferDeposit.into(), who, deposit)
				.map_err(|_| Error::<T>::InsufficientDeposit)?;
		}

		Offers::<T>::insert(
			offer_id,
			Offer {
				provider: who.clone(),
				model_id,
				worker_key,
				base_price: terms.base_price,
				price_per_1k_tokens: terms.price_per_1k_tokens,
				endpoint,
				capacity: terms.capacity,
				hardware,
				status: OfferStatus::Active,
				deposit,
				slot,
			},
		);
		NextOfferId::<T>::put(next);
		ProviderOffers::<T>::insert(who, ids);
		Self::index_offer(&model_id, offer_id)?;
		WorkerKeys::<T>::insert(worker_key, (who.clone(), key_count));
		Self::deposit_event(Event::OfferOpened {
			offer_id,
			provider: who.clone(),
			model_id,
			worker_key,
			base_price: terms.base_price,
			price_per_1k_tokens: terms.price_per_1k_tokens,
			endpoint: terms.endpoint,
			capacity: terms.capacity,
			hardware: terms.hardware,
		});
		Ok(offer_id)
	}

	/// Removes an offer and releases its deposit.
	pub(crate) fn do_close_offer(who: &T::AccountId, offer_id: OfferId) -> DispatchResult {
		let offer = Self::owned_offer(who, offer_id)?;
		let now = frame_system::Pallet::<T>::block_number();
		let expires_at = ClosedExpiry::<T>::free_slot(now.saturating_add(T::OfferRetention::get()))
			.ok_or(Error::<T>::ClosuresFull)?;
		if !offer.deposit.is_zero() {
			T::Currency::release(&HoldReason::OfferDeposit.into(), who, offer.deposit, Precision::Exact)?;
		}
		ProviderOffers::<T>::mutate(who, |ids| ids.retain(|id| *id != offer_id));
		Self::unindex_offer(&offer.model_id, offer.slot);
		WorkerKeys::<T>::mutate_exists(offer.worker_key, |entry| {
			if let Some((_, count)) = entry {
				*count = count.saturating_sub(1); // never below zero: the offer was counted
				if *count == 0 {
					*entry = None;
				}
			}
		});
		Offers::<T>::remove(offer_id);
		ClosedExpiry::<T>::try_mutate(expires_at, |q| q.try_push(offer_id))
			.map_err(|_| Error::<T>::ClosuresFull)?;
		ClosedOffers::<T>::insert(
			offer_id,
			ClosedOffer {
				signer: OfferSigner { provider: who.clone(), model_id: offer.model_id, worker_key: offer.worker_key },
				expires_at,
			},
		);
		Self::deposit_event(Event::OfferClosed {
			offer_id,
			provider: who.clone(),
			model_id: offer.model_id,
		});
		Ok(())
	}

	pub(crate) fn owned_offer(who: &T::AccountId, offer_id: OfferId) -> Result<OfferOf<T>, DispatchError> {
		let offer = Offers::<T>::get(offer_id).ok_or(Error::<T>::UnknownOffer)?;
		ensure!(&offer.provider == who, Error::<T>::NotOfferOwner);
		Ok(offer)
	}

	/// The offer with this id, as the runtime API shows it.
	pub fn offer_view(id: OfferId) -> Option<OfferView<T::AccountId, BalanceOf<T>>> {
		Offers::<T>::get(id).map(|o| OfferView {
			id,
			provider: o.provider,
			model_id: o.model_id,
			worker_key: o.worker_key,
			base_price: o.base_price,
			price_per_1k_tokens: o.price_per_1k_tokens,
			endpoint: o.endpoint.into_inner(),
			capacity: o.capacity,
			hardware: o.hardware.into_inner(),
			status: o.status,
		})
	}

	/// Runtime API: the offers for a model.
	pub fn offers_for(model_id: ModelId) -> Vec<OfferView<T::AccountId, BalanceOf<T>>> {
		ModelOffers::<T>::iter_prefix_values(model_id).filter_map(Self::offer_view).collect()
	}

	/// The provider's offer ids.
	pub fn provider_offers(who: &T::AccountId) -> Vec<OfferId> {
		ProviderOffers::<T>::get(who).into_inner()
	}
}

/// Models and offers as `pallet-jobs` reads them.
impl<T: Config> agora_primitives::OfferRegistry<T::AccountId, BalanceOf<T>> for Pallet<T> {
	fn model(id: &ModelId) -> Option<agora_primitives::ModelTerms<T::AccountId>> {
		Models::<T>::get(id).map(|m| agora_primitives::ModelTerms {
			publisher: m.manifest.publisher,
			royalty_bps: m.manifest.royalty_bps,
			deprecated: m.deprecated_at.is_some(),
			task: m.manifest.task,
		})
	}

	fn offer(id: OfferId) -> Option<agora_primitives::OfferTerms<T::AccountId, BalanceOf<T>>> {
		Offers::<T>::get(id).map(Self::terms)
	}

	fn offer_signer(id: OfferId) -> Option<OfferSigner<T::AccountId>> {
		Offers::<T>::get(id)
			.map(|o| OfferSigner {
				provider: o.provider,
				model_id: o.model_id,
				worker_key: o.worker_key,
			})
			.or_else(|| ClosedOffers::<T>::get(id).map(|c| c.signer))
	}

	fn endpoint(id: OfferId) -> Option<Vec<u8>> {
		Offers::<T>::get(id).map(|o| o.endpoint.into_inner())
	}

	fn offers_for(
		model: &ModelId,
		limit: u32,
		start: u64,
	) -> Vec<(OfferId, agora_primitives::OfferTerms<T::AccountId, BalanceOf<T>>)> {
		Self::offer_window(model, limit, start)
			.into_iter()
			.filter_map(|id| Offers::<T>::get(id).map(|o| (id, Self::terms(o))))
			.collect()
	}
}

impl<T: Config> Pallet<T> {
	/// Forgets the closed offers whose retention ends at `n` (from
	/// `on_initialize`); the weight used.
	pub(crate) fn forget_closed(n: BlockNumberFor<T>) -> frame_support::weights::Weight {
		let q = ClosedExpiry::<T>::take(n);
		let len = q.len() as u64;
		for id in q {
			ClosedOffers::<T>::remove(id);
		}
		T::DbWeight::get().reads_writes(1, len.saturating_add(1))
	}

	/// Up to `limit` ids of `model`'s offers: those in the index slots
	/// [`rules::scan_slots`] picks from `start`. Reads the count and at most
	/// `limit` index entries.
	pub fn offer_window(model: &ModelId, limit: u32, start: u64) -> Vec<OfferId> {
		let n = ModelOfferCount::<T>::get(model);
		rules::scan_slots(start, n, limit).filter_map(|slot| ModelOffers::<T>::get(model, slot)).collect()
	}

	/// Gives the offer the model's next index slot; returns the slot.
	fn index_offer(model: &ModelId, offer_id: OfferId) -> Result<u32, DispatchError> {
		let slot = ModelOfferCount::<T>::get(model);
		let count = slot.checked_add(1).ok_or(Error::<T>::Overflow)?;
		ModelOffers::<T>::insert(model, slot, offer_id);
		ModelOfferCount::<T>::insert(model, count);
		Ok(slot)
	}

	/// Frees `slot` of the model's index: the model's last offer moves into
	/// it, so the slots stay `0..count` with no gap.
	fn unindex_offer(model: &ModelId, slot: u32) {
		let last = ModelOfferCount::<T>::get(model).saturating_sub(1);
		if slot != last {
			if let Some(moved) = ModelOffers::<T>::get(model, last) {
				ModelOffers::<T>::insert(model, slot, moved);
				Offers::<T>::mutate(moved, |o| {
					if let Some(o) = o {
						o.slot = slot;
					}
				});
			}
		}
		ModelOffers::<T>::remove(model, last);
		if last == 0 {
			ModelOfferCount::<T>::remove(model);
		} else {
			ModelOfferCount::<T>::insert(model, last);
		}
	}

	fn terms(o: OfferOf<T>) -> agora_primitives::OfferTerms<T::AccountId, BalanceOf<T>> {
		agora_primitives::OfferTerms {
			provider: o.provider,
			model_id: o.model_id,
			worker_key: o.worker_key,
			base_price: o.base_price,
			price_per_1k_tokens: o.price_per_1k_tokens,
			capacity: o.capacity,
			active: o.status == OfferStatus::Active,
		}
	}
}

/// When a provider's bond falls below the minimum, pause all its offers.
impl<T: Config> agora_primitives::OnBondBelowMinimum<T::AccountId> for Pallet<T> {
	fn bond_below_minimum(who: &T::AccountId) {
		for offer_id in ProviderOffers::<T>::get(who) {
			Offers::<T>::mutate(offer_id, |o| {
				if let Some(o) = o {
					if o.status == OfferStatus::Active {
						o.status = OfferStatus::Paused;
						Self::deposit_event(Event::OfferPaused {
							offer_id,
							provider: who.clone(),
							bond_too_low: true,
						});
					}
				}
			});
		}
	}
}

impl<T: Config> Pallet<T> {
	/// Runtime API: a provider's bond and offers.
	/// `bond` is the provider's (active, unlocking) bond from `pallet-slashing`.
	#[allow(clippy::type_complexity)]
	pub fn provider<B>(
		who: &T::AccountId,
		bond: Option<(BalanceOf<T>, Vec<(BalanceOf<T>, B)>)>,
	) -> Option<ProviderView<BalanceOf<T>, B>> {
		let offers = Self::provider_offers(who);
		if bond.is_none() && offers.is_empty() {
			return None;
		}
		let (active, unlocking) = bond.unwrap_or_default();
		Some(ProviderView { bond: active, unlocking, bonded: T::Bonds::is_bonded(who), offers })
	}
}
