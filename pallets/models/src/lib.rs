//! # Models: the content-addressed model registry and provider offers
//!
//! ## Overview
//! - Anyone registers a model by its manifest ([`Pallet::register_model`]); its id
//!   is `blake2_256(SCALE(manifest))`, so the same files, settings and publisher
//!   always give the same id. A model never changes; its publisher may deprecate it.
//! - A bonded provider opens offers to serve a model ([`Pallet::open_offer`]): the
//!   worker key that signs receipts, prices, endpoint, capacity and hardware. It
//!   may update, pause, resume and close them.
//! - A worker key may serve several offers of one provider but never two providers.
//! - When a provider's bond falls below the minimum (`pallet-slashing` reports it
//!   through [`agora_primitives::OnBondBelowMinimum`]), all its offers are paused.
//!
//! ## Assumptions
//! - Bonds are read only through [`agora_primitives::ProviderBonds`].
//! - Storage is bounded: at most `MaxModels` models and `MaxOffersPerProvider`
//!   offers per provider; every text field has a length bound.
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;
pub mod types;
pub mod weights;

pub use types::*;
pub use weights::WeightInfo;

/// Sets up what the benchmarks need from other pallets (a bonded provider).
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper<AccountId> {
	/// Gives `who` funds and an active bond of at least the minimum stake.
	fn bond(who: &AccountId);
}

// FRAME's pallet macros expand to `expect` calls attributed to this module;
// hand-written code here uses none (the before-stop check greps for them).
#[allow(clippy::expect_used, clippy::unwrap_used)]
#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use agora_primitives::{
		models::{ManifestInput, ModelView, OfferView, ProviderView, MAX_ROYALTY_BPS},
		DeterminismProfile, ModelId, OfferId, OfferStatus, ProviderBonds, TaskKind,
	};
	use alloc::vec::Vec;
	use frame_support::pallet_prelude::*;
	use frame_system::pallet_prelude::*;
	use sp_runtime::traits::{CheckedAdd, CheckedMul, Zero};

	/// Balance type, from the bonds provider.
	pub type BalanceOf<T> =
		<<T as Config>::Bonds as ProviderBonds<<T as frame_system::Config>::AccountId>>::Balance;
	/// An offer as stored.
	pub type OfferOf<T> = Offer<
		<T as frame_system::Config>::AccountId,
		BalanceOf<T>,
		<T as Config>::MaxEndpointLen,
		<T as Config>::MaxHardwareLen,
	>;
	/// A model as stored.
	pub type ModelRecordOf<T> =
		ModelRecord<<T as frame_system::Config>::AccountId, BlockNumberFor<T>>;

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// The overarching event type.
		#[allow(deprecated)]
		type RuntimeEvent: From<Event<Self>> + IsType<<Self as frame_system::Config>::RuntimeEvent>;
		/// Provider bonds (`pallet-slashing`).
		type Bonds: ProviderBonds<
			Self::AccountId,
			Balance: frame_support::traits::tokens::Balance + MaybeSerializeDeserialize,
		>;
		/// Most models the registry holds.
		#[pallet::constant]
		type MaxModels: Get<u32>;
		/// Most offers one provider may have.
		#[pallet::constant]
		type MaxOffersPerProvider: Get<u32>;
		/// Most bytes in an endpoint URL.
		#[pallet::constant]
		type MaxEndpointLen: Get<u32>;
		/// Most bytes in a hardware tag.
		#[pallet::constant]
		type MaxHardwareLen: Get<u32>;
		/// Most concurrent jobs an offer may declare.
		#[pallet::constant]
		type MaxCapacity: Get<u32>;
		/// Most output tokens a job may ask for; an offer's price for this many
		/// tokens must not overflow.
		#[pallet::constant]
		type MaxTokensPerJob: Get<u32>;
		/// Weights of the calls.
		type WeightInfo: WeightInfo;
		/// Benchmark set-up.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: BenchmarkHelper<Self::AccountId>;
	}

	/// Registered models by id.
	#[pallet::storage]
	pub type Models<T: Config> = CountedStorageMap<_, Identity, ModelId, ModelRecordOf<T>>;

	/// Offers by id.
	#[pallet::storage]
	pub type Offers<T: Config> = StorageMap<_, Twox64Concat, OfferId, OfferOf<T>>;

	/// The next offer id.
	#[pallet::storage]
	pub type NextOfferId<T> = StorageValue<_, OfferId, ValueQuery>;

	/// Each provider's offers.
	#[pallet::storage]
	pub type ProviderOffers<T: Config> = StorageMap<
		_,
		Blake2_128Concat,
		T::AccountId,
		BoundedVec<OfferId, T::MaxOffersPerProvider>,
		ValueQuery,
	>;

	/// Offers per model (the index behind `offers_for`).
	#[pallet::storage]
	pub type ModelOffers<T: Config> =
		StorageDoubleMap<_, Identity, ModelId, Twox64Concat, OfferId, (), OptionQuery>;

	/// Which provider a worker key belongs to, and how many of its offers use it.
	#[pallet::storage]
	pub type WorkerKeys<T: Config> =
		StorageMap<_, Blake2_128Concat, [u8; 32], (T::AccountId, u32), OptionQuery>;

	/// Genesis: models and offers of the development chain.
	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// Models to register.
		pub models: Vec<ManifestInput<T::AccountId>>,
		/// Offers to open: (provider, model id, worker key, base price, price per
		/// 1k tokens, endpoint, capacity, hardware). The provider must be bonded.
		#[allow(clippy::type_complexity)]
		pub offers:
			Vec<(T::AccountId, ModelId, [u8; 32], BalanceOf<T>, BalanceOf<T>, Vec<u8>, u32, Vec<u8>)>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			for m in &self.models {
				if let Err(e) = Pallet::<T>::do_register(m.clone()) {
					panic!("genesis model {:?} is invalid: {e:?}", m.id());
				}
			}
			for (p, model, key, base, per_1k, endpoint, cap, hw) in &self.offers {
				let terms = Terms {
					base_price: *base,
					price_per_1k_tokens: *per_1k,
					endpoint: endpoint.clone(),
					capacity: *cap,
					hardware: hw.clone(),
				};
				if let Err(e) = Pallet::<T>::do_open_offer(p, *model, *key, terms) {
					panic!("genesis offer for model {model:?} is invalid: {e:?}");
				}
			}
		}
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A model was registered.
		ModelRegistered { model_id: ModelId, publisher: T::AccountId, manifest: ManifestInput<T::AccountId> },
		/// The publisher deprecated a model; it takes no new offers.
		ModelDeprecated { model_id: ModelId },
		/// A provider opened an offer.
		OfferOpened {
			offer_id: OfferId,
			provider: T::AccountId,
			model_id: ModelId,
			worker_key: [u8; 32],
			base_price: BalanceOf<T>,
			price_per_1k_tokens: BalanceOf<T>,
			endpoint: Vec<u8>,
			capacity: u32,
			hardware: Vec<u8>,
		},
		/// A provider changed an offer's terms.
		OfferUpdated {
			offer_id: OfferId,
			base_price: BalanceOf<T>,
			price_per_1k_tokens: BalanceOf<T>,
			endpoint: Vec<u8>,
			capacity: u32,
			hardware: Vec<u8>,
		},
		/// An offer stopped taking jobs; `bond_too_low` if its provider's bond fell
		/// below the minimum stake, otherwise the provider paused it.
		OfferPaused { offer_id: OfferId, provider: T::AccountId, bond_too_low: bool },
		/// An offer takes jobs again.
		OfferResumed { offer_id: OfferId, provider: T::AccountId },
		/// An offer was closed and removed.
		OfferClosed { offer_id: OfferId, provider: T::AccountId, model_id: ModelId },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// A model with this manifest is already registered.
		ModelExists,
		/// No model has this id.
		UnknownModel,
		/// The model is deprecated.
		ModelDeprecated,
		/// The model is already deprecated.
		AlreadyDeprecated,
		/// Only the model's publisher may do this (and only the publisher named in
		/// a manifest may register it).
		NotPublisher,
		/// A manifest text field (name, architecture, quantization, licence) is
		/// longer than 64 bytes.
		TextTooLong,
		/// The manifest's name is empty.
		EmptyName,
		/// The royalty is above 10,000 basis points.
		RoyaltyTooHigh,
		/// The determinism profile does not fit the model's task (`TeacherForced`
		/// is for text generation, `Cosine` for embeddings) or its parameters are
		/// out of range (an `eps_milli` of 0 or above `MAX_EPS_MILLI`, a minimum
		/// cosine above 1).
		InvalidDeterminism,
		/// The registry is full.
		TooManyModels,
		/// The provider's active bond is below the minimum stake.
		NotBonded,
		/// Both prices are zero.
		ZeroPrice,
		/// The price of a job with `MaxTokensPerJob` tokens overflows.
		PriceOverflow,
		/// Capacity must be between 1 and `MaxCapacity`.
		InvalidCapacity,
		/// The endpoint is longer than `MaxEndpointLen`.
		EndpointTooLong,
		/// The endpoint must start with `http://` or `https://`.
		InvalidEndpoint,
		/// The hardware tag is longer than `MaxHardwareLen`.
		HardwareTooLong,
		/// The worker key belongs to another provider.
		WorkerKeyInUse,
		/// The provider has `MaxOffersPerProvider` offers.
		TooManyOffers,
		/// No offer has this id.
		UnknownOffer,
		/// Only the offer's provider may do this.
		NotOfferOwner,
		/// The offer is already paused.
		AlreadyPaused,
		/// The offer is not paused.
		NotPaused,
		/// Offer ids are exhausted.
		Overflow,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			assert!(T::MaxOffersPerProvider::get() > 0, "MaxOffersPerProvider must be positive");
			assert!(T::MaxEndpointLen::get() >= 8, "MaxEndpointLen must fit `https://`");
			assert!(T::MaxCapacity::get() > 0, "MaxCapacity must be positive");
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	/// An offer's terms, as given to `open_offer` and `update_offer`.
	pub struct Terms<Balance> {
		pub base_price: Balance,
		pub price_per_1k_tokens: Balance,
		pub endpoint: Vec<u8>,
		pub capacity: u32,
		pub hardware: Vec<u8>,
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Register a model by its manifest. The id is `blake2_256(SCALE(manifest))`.
		///
		/// - Origin: signed, the manifest's `publisher`.
		/// - Emits [`Event::ModelRegistered`].
		/// - Errors: [`Error::NotPublisher`], [`Error::EmptyName`],
		///   [`Error::TextTooLong`], [`Error::RoyaltyTooHigh`],
		///   [`Error::InvalidDeterminism`], [`Error::ModelExists`],
		///   [`Error::TooManyModels`].
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::register_model())]
		pub fn register_model(
			origin: OriginFor<T>,
			manifest: ManifestInput<T::AccountId>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			ensure!(manifest.publisher == who, Error::<T>::NotPublisher);
			Self::do_register(manifest)
		}

		/// Deprecate a model: it takes no new or resumed offers. Existing offers
		/// keep serving until their providers close them.
		///
		/// - Origin: signed, the model's publisher.
		/// - Emits [`Event::ModelDeprecated`].
		/// - Errors: [`Error::UnknownModel`], [`Error::NotPublisher`],
		///   [`Error::AlreadyDeprecated`].
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::deprecate_model())]
		pub fn deprecate_model(origin: OriginFor<T>, model_id: ModelId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut model = Models::<T>::get(model_id).ok_or(Error::<T>::UnknownModel)?;
			ensure!(model.manifest.publisher == who, Error::<T>::NotPublisher);
			ensure!(!model.deprecated, Error::<T>::AlreadyDeprecated);
			model.deprecated = true;
			Models::<T>::insert(model_id, model);
			Self::deposit_event(Event::ModelDeprecated { model_id });
			Ok(())
		}

		/// Open an offer to serve `model_id`, signing receipts with `worker_key`.
		///
		/// - Origin: signed, a provider bonded at or above the minimum stake.
		/// - Emits [`Event::OfferOpened`].
		/// - Errors: [`Error::UnknownModel`], [`Error::ModelDeprecated`],
		///   [`Error::NotBonded`], [`Error::ZeroPrice`], [`Error::PriceOverflow`],
		///   [`Error::InvalidCapacity`], [`Error::EndpointTooLong`],
		///   [`Error::InvalidEndpoint`], [`Error::HardwareTooLong`],
		///   [`Error::WorkerKeyInUse`], [`Error::TooManyOffers`], [`Error::Overflow`].
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::open_offer())]
		#[allow(clippy::too_many_arguments)]
		pub fn open_offer(
			origin: OriginFor<T>,
			model_id: ModelId,
			worker_key: [u8; 32],
			base_price: BalanceOf<T>,
			price_per_1k_tokens: BalanceOf<T>,
			endpoint: Vec<u8>,
			capacity: u32,
			hardware: Vec<u8>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let terms = Terms { base_price, price_per_1k_tokens, endpoint, capacity, hardware };
			Self::do_open_offer(&who, model_id, worker_key, terms).map(|_| ())
		}

		/// Change an offer's prices, endpoint, capacity and hardware tag.
		///
		/// - Origin: signed, the offer's provider.
		/// - Emits [`Event::OfferUpdated`].
		/// - Errors: [`Error::UnknownOffer`], [`Error::NotOfferOwner`], and the
		///   term errors of [`Pallet::open_offer`].
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::update_offer())]
		pub fn update_offer(
			origin: OriginFor<T>,
			offer_id: OfferId,
			base_price: BalanceOf<T>,
			price_per_1k_tokens: BalanceOf<T>,
			endpoint: Vec<u8>,
			capacity: u32,
			hardware: Vec<u8>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut offer = Self::owned_offer(&who, offer_id)?;
			let terms = Terms { base_price, price_per_1k_tokens, endpoint, capacity, hardware };
			let (endpoint, hardware) = Self::check_terms(&terms)?;
			offer.base_price = terms.base_price;
			offer.price_per_1k_tokens = terms.price_per_1k_tokens;
			offer.endpoint = endpoint;
			offer.capacity = terms.capacity;
			offer.hardware = hardware;
			Offers::<T>::insert(offer_id, offer);
			Self::deposit_event(Event::OfferUpdated {
				offer_id,
				base_price: terms.base_price,
				price_per_1k_tokens: terms.price_per_1k_tokens,
				endpoint: terms.endpoint,
				capacity: terms.capacity,
				hardware: terms.hardware,
			});
			Ok(())
		}

		/// Stop an offer taking jobs.
		///
		/// - Origin: signed, the offer's provider.
		/// - Emits [`Event::OfferPaused`].
		/// - Errors: [`Error::UnknownOffer`], [`Error::NotOfferOwner`],
		///   [`Error::AlreadyPaused`].
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::pause_offer())]
		pub fn pause_offer(origin: OriginFor<T>, offer_id: OfferId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut offer = Self::owned_offer(&who, offer_id)?;
			ensure!(offer.status == OfferStatus::Active, Error::<T>::AlreadyPaused);
			offer.status = OfferStatus::Paused;
			Offers::<T>::insert(offer_id, offer);
			Self::deposit_event(Event::OfferPaused { offer_id, provider: who, bond_too_low: false });
			Ok(())
		}

		/// Let a paused offer take jobs again.
		///
		/// - Origin: signed, the offer's provider, bonded at or above the minimum.
		/// - Emits [`Event::OfferResumed`].
		/// - Errors: [`Error::UnknownOffer`], [`Error::NotOfferOwner`],
		///   [`Error::NotPaused`], [`Error::NotBonded`], [`Error::ModelDeprecated`].
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::resume_offer())]
		pub fn resume_offer(origin: OriginFor<T>, offer_id: OfferId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut offer = Self::owned_offer(&who, offer_id)?;
			ensure!(offer.status == OfferStatus::Paused, Error::<T>::NotPaused);
			ensure!(T::Bonds::is_bonded(&who), Error::<T>::NotBonded);
			let deprecated = Models::<T>::get(offer.model_id).map(|m| m.deprecated).unwrap_or(true);
			ensure!(!deprecated, Error::<T>::ModelDeprecated);
			offer.status = OfferStatus::Active;
			Offers::<T>::insert(offer_id, offer);
			Self::deposit_event(Event::OfferResumed { offer_id, provider: who });
			Ok(())
		}

		/// Close an offer and remove it.
		///
		/// - Origin: signed, the offer's provider.
		/// - Emits [`Event::OfferClosed`].
		/// - Errors: [`Error::UnknownOffer`], [`Error::NotOfferOwner`].
		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::close_offer(T::MaxOffersPerProvider::get()))]
		pub fn close_offer(origin: OriginFor<T>, offer_id: OfferId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let offer = Self::owned_offer(&who, offer_id)?;
			ProviderOffers::<T>::mutate(&who, |ids| ids.retain(|id| *id != offer_id));
			ModelOffers::<T>::remove(offer.model_id, offer_id);
			WorkerKeys::<T>::mutate_exists(offer.worker_key, |entry| {
				if let Some((_, count)) = entry {
					*count = count.saturating_sub(1); // never below zero: the offer was counted
					if *count == 0 {
						*entry = None;
					}
				}
			});
			Offers::<T>::remove(offer_id);
			Self::deposit_event(Event::OfferClosed { offer_id, provider: who, model_id: offer.model_id });
			Ok(())
		}
	}

	impl<T: Config> Pallet<T> {
		fn bound_text(v: Vec<u8>) -> Result<Text, DispatchError> {
			Text::try_from(v).map_err(|_| Error::<T>::TextTooLong.into())
		}

		/// Validates and stores a manifest.
		pub(crate) fn do_register(manifest: ManifestInput<T::AccountId>) -> DispatchResult {
			ensure!(!manifest.name.is_empty(), Error::<T>::EmptyName);
			ensure!(manifest.royalty_bps <= MAX_ROYALTY_BPS, Error::<T>::RoyaltyTooHigh);
			let valid = match manifest.determinism {
				DeterminismProfile::Exact => true,
				DeterminismProfile::TeacherForced { eps_milli } =>
					manifest.task == TaskKind::TextGeneration &&
						eps_milli > 0 && eps_milli <= agora_primitives::models::MAX_EPS_MILLI,
				DeterminismProfile::Cosine { min_cosine_ppm } =>
					manifest.task == TaskKind::Embedding && min_cosine_ppm <= 1_000_000,
			};
			ensure!(valid, Error::<T>::InvalidDeterminism);
			let model_id = manifest.id();
			ensure!(!Models::<T>::contains_key(model_id), Error::<T>::ModelExists);
			ensure!(Models::<T>::count() < T::MaxModels::get(), Error::<T>::TooManyModels);
			let stored = StoredManifest {
				name: Self::bound_text(manifest.name.clone())?,
				architecture: Self::bound_text(manifest.architecture.clone())?,
				quantization: Self::bound_text(manifest.quantization.clone())?,
				task: manifest.task,
				determinism: manifest.determinism,
				weights_hash: manifest.weights_hash,
				tokenizer_hash: manifest.tokenizer_hash,
				config_hash: manifest.config_hash,
				licence: Self::bound_text(manifest.licence.clone())?,
				publisher: manifest.publisher.clone(),
				royalty_bps: manifest.royalty_bps,
			};

			let registered_at = frame_system::Pallet::<T>::block_number();
			Models::<T>::insert(model_id, ModelRecord { manifest: stored, deprecated: false, registered_at });
			Self::deposit_event(Event::ModelRegistered {
				model_id,
				publisher: manifest.publisher.clone(),
				manifest,
			});
			Ok(())
		}

		#[allow(clippy::type_complexity)]
		fn check_terms(
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
			let scheme_ok = (t.endpoint.starts_with(b"http://") && t.endpoint.len() > 7) ||
				(t.endpoint.starts_with(b"https://") && t.endpoint.len() > 8);
			ensure!(scheme_ok, Error::<T>::InvalidEndpoint);
			let hardware: BoundedVec<u8, T::MaxHardwareLen> =
				t.hardware.clone().try_into().map_err(|_| Error::<T>::HardwareTooLong)?;
			Ok((endpoint, hardware))
		}

		/// Validates and opens an offer; returns its id.
		pub(crate) fn do_open_offer(
			who: &T::AccountId,
			model_id: ModelId,
			worker_key: [u8; 32],
			terms: Terms<BalanceOf<T>>,
		) -> Result<OfferId, DispatchError> {
			let model = Models::<T>::get(model_id).ok_or(Error::<T>::UnknownModel)?;
			ensure!(!model.deprecated, Error::<T>::ModelDeprecated);
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
				},
			);
			NextOfferId::<T>::put(next);
			ProviderOffers::<T>::insert(who, ids);
			ModelOffers::<T>::insert(model_id, offer_id, ());
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

		fn owned_offer(who: &T::AccountId, offer_id: OfferId) -> Result<OfferOf<T>, DispatchError> {
			let offer = Offers::<T>::get(offer_id).ok_or(Error::<T>::UnknownOffer)?;
			ensure!(&offer.provider == who, Error::<T>::NotOfferOwner);
			Ok(offer)
		}

		fn model_view(id: ModelId, m: ModelRecordOf<T>) -> ModelView<T::AccountId, BlockNumberFor<T>> {
			let s = m.manifest;
			ModelView {
				id,
				manifest: ManifestInput {
					name: s.name.into_inner(),
					architecture: s.architecture.into_inner(),
					quantization: s.quantization.into_inner(),
					task: s.task,
					determinism: s.determinism,
					weights_hash: s.weights_hash,
					tokenizer_hash: s.tokenizer_hash,
					config_hash: s.config_hash,
					licence: s.licence.into_inner(),
					publisher: s.publisher,
					royalty_bps: s.royalty_bps,
				},
				deprecated: m.deprecated,
				registered_at: m.registered_at,
			}
		}

		/// Runtime API: every model (at most `MaxModels`).
		pub fn models() -> Vec<ModelView<T::AccountId, BlockNumberFor<T>>> {
			Models::<T>::iter().map(|(id, m)| Self::model_view(id, m)).collect()
		}

		/// Runtime API: one model.
		pub fn model(id: ModelId) -> Option<ModelView<T::AccountId, BlockNumberFor<T>>> {
			Models::<T>::get(id).map(|m| Self::model_view(id, m))
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
			ModelOffers::<T>::iter_key_prefix(model_id).filter_map(Self::offer_view).collect()
		}

		/// The provider's offer ids.
		pub fn provider_offers(who: &T::AccountId) -> Vec<OfferId> {
			ProviderOffers::<T>::get(who).into_inner()
		}

		/// Invariants, checked after every test and by `try-runtime`:
		/// - every offer's provider is bonded at or above the minimum, or the offer is paused;
		/// - the worker-key index is consistent with the offers: each offer's key
		///   maps to its provider, with a count equal to that provider's offers using it;
		/// - `ProviderOffers` and `ModelOffers` list exactly the existing offers;
		/// - every offer's model exists, and offer ids are below `NextOfferId`.
		#[cfg(any(feature = "try-runtime", feature = "std", test))]
		pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
			use alloc::collections::btree_map::BTreeMap;
			let mut key_counts: BTreeMap<[u8; 32], (T::AccountId, u32)> = BTreeMap::new();
			let mut offers = 0u32;
			for (id, o) in Offers::<T>::iter() {
				offers = offers.saturating_add(1);
				ensure!(id < NextOfferId::<T>::get(), "offer id at or above NextOfferId");
				ensure!(
					o.status == OfferStatus::Paused || T::Bonds::is_bonded(&o.provider),
					"an active offer's provider is below the minimum stake"
				);
				ensure!(Models::<T>::contains_key(o.model_id), "offer for an unknown model");
				ensure!(ModelOffers::<T>::contains_key(o.model_id, id), "offer missing from ModelOffers");
				ensure!(
					ProviderOffers::<T>::get(&o.provider).contains(&id),
					"offer missing from ProviderOffers"
				);
				let e = key_counts.entry(o.worker_key).or_insert((o.provider.clone(), 0));
				ensure!(e.0 == o.provider, "a worker key serves two providers");
				e.1 = e.1.saturating_add(1);
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
			ensure!(
				Models::<T>::count() as usize == Models::<T>::iter().count(),
				"model counter is off"
			);
			Ok(())
		}
	}

	/// Models and offers as `pallet-jobs` reads them.
	impl<T: Config> agora_primitives::OfferRegistry<T::AccountId, BalanceOf<T>> for Pallet<T> {
		fn model(id: &ModelId) -> Option<agora_primitives::ModelTerms<T::AccountId>> {
			Models::<T>::get(id).map(|m| agora_primitives::ModelTerms {
				publisher: m.manifest.publisher,
				royalty_bps: m.manifest.royalty_bps,
				deprecated: m.deprecated,
				task: m.manifest.task,
			})
		}

		fn offer(id: OfferId) -> Option<agora_primitives::OfferTerms<T::AccountId, BalanceOf<T>>> {
			Offers::<T>::get(id).map(Self::terms)
		}

		fn endpoint(id: OfferId) -> Option<Vec<u8>> {
			Offers::<T>::get(id).map(|o| o.endpoint.into_inner())
		}

		fn offers_for(
			model: &ModelId,
			limit: u32,
		) -> Vec<(OfferId, agora_primitives::OfferTerms<T::AccountId, BalanceOf<T>>)> {
			ModelOffers::<T>::iter_key_prefix(model)
				.take(limit as usize)
				.filter_map(|id| Offers::<T>::get(id).map(|o| (id, Self::terms(o))))
				.collect()
		}
	}

	impl<T: Config> Pallet<T> {
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
}
