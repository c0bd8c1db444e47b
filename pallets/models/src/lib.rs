//! # Models: the content-addressed model registry and provider offers
//!
//! ## Overview
//! - Anyone registers a model by its manifest ([`Pallet::register_model`]); its id
//!   is `blake2_256(SCALE(manifest))`, so the same files, settings and publisher
//!   always give the same id. A model never changes; its publisher may deprecate it,
//!   and remove it once it has no offers and `ModelRetention` blocks have passed
//!   ([`Pallet::remove_model`]).
//! - Registering holds `ModelDeposit` from the publisher until the model is
//!   removed, and one publisher has at most `MaxModelsPerPublisher` models: the
//!   `MaxModels` registry cannot be filled for fees alone. Opening an offer holds
//!   `OfferDeposit` until it is closed.
//! - An offer's endpoint is where committees fetch outputs from, so it must name a
//!   public host (`agora_primitives::endpoint`) unless the chain's genesis allows
//!   private endpoints (dev chains, where workers listen on loopback).
//! - A bonded provider opens offers to serve a model ([`Pallet::open_offer`]): the
//!   worker key that signs receipts, prices, endpoint, capacity and hardware. It
//!   may update, pause, resume and close them.
//! - A worker key may serve several offers of one provider but never two providers.
//! - When a provider's bond falls below the minimum (`pallet-slashing` reports it
//!   through [`agora_primitives::OnBondBelowMinimum`]), all its offers are paused.
//! - A closed offer's provider, model and worker key are kept `OfferRetention`
//!   blocks ([`ClosedOffers`]): a paid answer its key signed can still be
//!   disputed (`OfferRegistry::offer_signer`), so closing the offer that served
//!   a wrong answer does not dodge the dispute.
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
#[cfg(test)]
mod tests_migrations;
#[cfg(test)]
mod tests_spam;
pub mod migrations;
mod offers;
mod registry;
#[cfg(any(feature = "try-runtime", feature = "std", test))]
mod try_state;
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
	use agora_primitives::{models::ManifestInput, ModelId, OfferId, OfferStatus, ProviderBonds};
	use alloc::vec::Vec;
	use frame_support::{pallet_prelude::*, traits::fungible::MutateHold};
	use frame_system::pallet_prelude::*;
	use sp_runtime::traits::Zero;

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
		ModelRecord<<T as frame_system::Config>::AccountId, BlockNumberFor<T>, BalanceOf<T>>;

	/// The storage layout's version: 1 since `ClosedOffer` lost `closed_at`
	/// ([`crate::migrations::v1`]).
	pub const STORAGE_VERSION: StorageVersion = StorageVersion::new(1);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	/// Defaults for a test runtime's [`Config`] (`#[derive_impl(config_preludes::TestDefaultConfig)]`):
	/// the values no test cares about; a mock sets the rest.
	pub mod config_preludes {
		use super::*;
		use frame_support::derive_impl;

		/// Small registries: 8 models, 4 offers per provider, 4,096 tokens per job.
		pub struct TestDefaultConfig;

		#[derive_impl(frame_system::config_preludes::TestDefaultConfig, no_aggregated_types)]
		impl frame_system::DefaultConfig for TestDefaultConfig {}

		#[frame_support::register_default_impl(TestDefaultConfig)]
		impl DefaultConfig for TestDefaultConfig {
			#[inject_runtime_type]
			type RuntimeEvent = ();
			#[inject_runtime_type]
			type RuntimeHoldReason = ();
			type MaxModelsPerPublisher = ConstU32<8>;
			type ModelRetention = frame_support::traits::ConstU64<10>;
			type MaxModels = ConstU32<8>;
			type MaxOffersPerProvider = ConstU32<4>;
			type MaxEndpointLen = ConstU32<64>;
			type MaxHardwareLen = ConstU32<16>;
			type MaxCapacity = ConstU32<16>;
			type MaxTokensPerJob = ConstU32<4_096>;
			type OfferRetention = frame_support::traits::ConstU64<20>;
			type MaxClosuresPerBlock = ConstU32<4>;
			type WeightInfo = ();
		}
	}

	#[pallet::config(with_default)]
	pub trait Config: frame_system::Config {
		/// The overarching event type.
		#[pallet::no_default_bounds]
		#[allow(deprecated)]
		type RuntimeEvent: From<Event<Self>> + IsType<<Self as frame_system::Config>::RuntimeEvent>;
		/// Provider bonds (`pallet-slashing`).
		#[pallet::no_default]
		type Bonds: ProviderBonds<
			Self::AccountId,
			Balance: frame_support::traits::tokens::Balance + MaybeSerializeDeserialize,
		>;
		/// Holds the model and offer deposits.
		#[pallet::no_default]
		type Currency: MutateHold<
			Self::AccountId,
			Reason = Self::RuntimeHoldReason,
			Balance = BalanceOf<Self>,
		>;
		/// The overarching hold reason.
		#[pallet::no_default_bounds]
		type RuntimeHoldReason: From<HoldReason>;
		/// Held from a publisher for each model it registers, until the model is removed.
		#[pallet::no_default]
		#[pallet::constant]
		type ModelDeposit: Get<BalanceOf<Self>>;
		/// Held from a provider for each offer it opens, until the offer is closed.
		#[pallet::no_default]
		#[pallet::constant]
		type OfferDeposit: Get<BalanceOf<Self>>;
		/// Most models (deprecated ones included, until removed) one publisher may have.
		#[pallet::constant]
		type MaxModelsPerPublisher: Get<u32>;
		/// Blocks a deprecated model stays registered before it may be removed, so
		/// jobs still running on it can settle and be checked.
		#[pallet::no_default_bounds]
		#[pallet::constant]
		type ModelRetention: Get<BlockNumberFor<Self>>;
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
		/// Blocks a closed offer's provider, model and worker key are kept
		/// ([`ClosedOffers`]): at least the longest dispute window governance may
		/// set, so every receipt the offer's key signed while open stays
		/// disputable.
		#[pallet::no_default_bounds]
		#[pallet::constant]
		type OfferRetention: Get<BlockNumberFor<Self>>;
		/// Most closed offers forgotten in one block's `on_initialize` (a close
		/// whose expiry block is full takes one of the next 16).
		#[pallet::constant]
		type MaxClosuresPerBlock: Get<u32>;
		/// Weights of the calls.
		type WeightInfo: WeightInfo;
		/// Benchmark set-up.
		#[pallet::no_default]
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: BenchmarkHelper<Self::AccountId>;
	}

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// A registered model's deposit.
		ModelDeposit,
		/// An open offer's deposit.
		OfferDeposit,
	}

	/// How many models each publisher has registered and not yet removed.
	#[pallet::storage]
	pub type PublisherModels<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, u32, ValueQuery>;

	/// Whether offers may name private endpoints (loopback, private networks):
	/// set at genesis, true on dev chains only.
	#[pallet::storage]
	pub type PrivateEndpoints<T> = StorageValue<_, bool, ValueQuery>;

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

	/// Each model's offers, in slots `0..ModelOfferCount[model]` with no gap
	/// (the index behind `offers_for`). An offer takes the next slot when it
	/// opens; closing one moves the model's last offer into its slot. A job
	/// reads consecutive slots from a uniformly drawn start
	/// (`agora_primitives::rules::scan_slots`), so every offer is read by the
	/// same share of jobs, wherever it sits and whatever its id.
	#[pallet::storage]
	pub type ModelOffers<T: Config> =
		StorageDoubleMap<_, Identity, ModelId, Twox64Concat, u32, OfferId, OptionQuery>;

	/// How many offers each model has: the slots in use in `ModelOffers`.
	#[pallet::storage]
	pub type ModelOfferCount<T: Config> = StorageMap<_, Identity, ModelId, u32, ValueQuery>;

	/// Which provider a worker key belongs to, and how many of its offers use it.
	#[pallet::storage]
	pub type WorkerKeys<T: Config> =
		StorageMap<_, Blake2_128Concat, [u8; 32], (T::AccountId, u32), OptionQuery>;

	/// Closed offers, kept `OfferRetention` blocks so that the receipts their
	/// worker keys signed stay disputable.
	#[pallet::storage]
	pub type ClosedOffers<T: Config> =
		StorageMap<_, Twox64Concat, OfferId, ClosedOffer<T::AccountId, BlockNumberFor<T>>>;

	/// The closed offers each block's `on_initialize` forgets.
	#[pallet::storage]
	pub type ClosedExpiry<T: Config> = StorageMap<
		_,
		Twox64Concat,
		BlockNumberFor<T>,
		BoundedVec<OfferId, T::MaxClosuresPerBlock>,
		ValueQuery,
	>;

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
		/// Whether offers may name private endpoints (dev chains).
		pub private_endpoints: bool,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			PrivateEndpoints::<T>::put(self.private_endpoints);
			// Genesis models and offers are the chain's own: no deposit is held.
			for m in &self.models {
				if let Err(e) = Pallet::<T>::do_register(m.clone(), Zero::zero()) {
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
				if let Err(e) = Pallet::<T>::do_open_offer(p, *model, *key, terms, Zero::zero()) {
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
		/// The publisher removed a deprecated model; `deposit` was released.
		ModelRemoved { model_id: ModelId, deposit: BalanceOf<T> },
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
		/// The publisher already has `MaxModelsPerPublisher` models (remove a
		/// deprecated one first).
		TooManyModelsForPublisher,
		/// The account cannot hold the deposit (`ModelDeposit` or `OfferDeposit`).
		InsufficientDeposit,
		/// Only a deprecated model can be removed.
		NotDeprecated,
		/// The model still has offers; their providers must close them first.
		ModelHasOffers,
		/// `ModelRetention` blocks have not passed since the model was deprecated.
		RetentionNotOver,
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
		/// The endpoint is not `http(s)://host[:port][/path]`: no host, user info,
		/// a bad port, or a number that is not a dotted-quad address.
		InvalidEndpoint,
		/// The endpoint names a loopback, private, link-local or site-local host,
		/// and this chain takes public endpoints only.
		PrivateEndpoint,
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
		/// The closed-offer queues of the 16 blocks where this offer's record
		/// would expire are full; close it in a later block.
		ClosuresFull,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn on_initialize(n: BlockNumberFor<T>) -> Weight {
			Self::forget_closed(n)
		}

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
		/// Holds `ModelDeposit` from the publisher until the model is removed.
		///
		/// - Origin: signed, the manifest's `publisher`.
		/// - Emits [`Event::ModelRegistered`].
		/// - Errors: [`Error::NotPublisher`], [`Error::EmptyName`],
		///   [`Error::TextTooLong`], [`Error::RoyaltyTooHigh`],
		///   [`Error::InvalidDeterminism`], [`Error::ModelExists`],
		///   [`Error::TooManyModels`], [`Error::TooManyModelsForPublisher`],
		///   [`Error::InsufficientDeposit`].
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::register_model())]
		pub fn register_model(
			origin: OriginFor<T>,
			manifest: ManifestInput<T::AccountId>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			ensure!(manifest.publisher == who, Error::<T>::NotPublisher);
			Self::do_register(manifest, T::ModelDeposit::get())
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
			ensure!(model.deprecated_at.is_none(), Error::<T>::AlreadyDeprecated);
			model.deprecated_at = Some(frame_system::Pallet::<T>::block_number());
			Models::<T>::insert(model_id, model);
			Self::deposit_event(Event::ModelDeprecated { model_id });
			Ok(())
		}

		/// Open an offer to serve `model_id`, signing receipts with `worker_key`.
		/// Holds `OfferDeposit` from the provider until the offer is closed.
		///
		/// - Origin: signed, a provider bonded at or above the minimum stake.
		/// - Emits [`Event::OfferOpened`].
		/// - Errors: [`Error::UnknownModel`], [`Error::ModelDeprecated`],
		///   [`Error::NotBonded`], [`Error::ZeroPrice`], [`Error::PriceOverflow`],
		///   [`Error::InvalidCapacity`], [`Error::EndpointTooLong`],
		///   [`Error::InvalidEndpoint`], [`Error::PrivateEndpoint`],
		///   [`Error::HardwareTooLong`], [`Error::WorkerKeyInUse`],
		///   [`Error::TooManyOffers`], [`Error::InsufficientDeposit`], [`Error::Overflow`].
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
			Self::do_open_offer(&who, model_id, worker_key, terms, T::OfferDeposit::get()).map(|_| ())
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
			let deprecated =
				Models::<T>::get(offer.model_id).map(|m| m.deprecated_at.is_some()).unwrap_or(true);
			ensure!(!deprecated, Error::<T>::ModelDeprecated);
			offer.status = OfferStatus::Active;
			Offers::<T>::insert(offer_id, offer);
			Self::deposit_event(Event::OfferResumed { offer_id, provider: who });
			Ok(())
		}

		/// Close an offer and remove it; its deposit is released. Its provider,
		/// model and worker key are kept `OfferRetention` blocks
		/// ([`ClosedOffers`]), so the paid answers it signed stay disputable.
		///
		/// - Origin: signed, the offer's provider.
		/// - Emits [`Event::OfferClosed`].
		/// - Errors: [`Error::UnknownOffer`], [`Error::NotOfferOwner`],
		///   [`Error::ClosuresFull`].
		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::close_offer(T::MaxOffersPerProvider::get()))]
		pub fn close_offer(origin: OriginFor<T>, offer_id: OfferId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_close_offer(&who, offer_id)
		}

		/// Remove a deprecated model that has no offers, once `ModelRetention`
		/// blocks have passed since its deprecation; its deposit is released and
		/// its registry slot freed.
		///
		/// - Origin: signed, the model's publisher.
		/// - Emits [`Event::ModelRemoved`].
		/// - Errors: [`Error::UnknownModel`], [`Error::NotPublisher`],
		///   [`Error::NotDeprecated`], [`Error::ModelHasOffers`],
		///   [`Error::RetentionNotOver`].
		#[pallet::call_index(7)]
		#[pallet::weight(T::WeightInfo::remove_model())]
		pub fn remove_model(origin: OriginFor<T>, model_id: ModelId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_remove(&who, model_id)
		}
	}
}
