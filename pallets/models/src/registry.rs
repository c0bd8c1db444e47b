//! The model registry: registering, deprecating and removing models, with the
//! deposit each registration holds, and the views the runtime API returns.

use crate::*;
use agora_primitives::{
	models::{ManifestInput, ModelView, MAX_ROYALTY_BPS},
	DeterminismProfile, ModelId, TaskKind,
};
use alloc::vec::Vec;
use frame_support::{
	ensure,
	pallet_prelude::DispatchResult,
	traits::{fungible::MutateHold, tokens::Precision, Get},
};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_runtime::{
	traits::{Saturating, Zero},
	DispatchError,
};

impl<T: Config> Pallet<T> {
	fn bound_text(v: Vec<u8>) -> Result<Text, DispatchError> {
		Text::try_from(v).map_err(|_| Error::<T>::TextTooLong.into())
	}

	/// Validates and stores a manifest, holding `deposit` from its publisher
	/// (`ModelDeposit` for a signed registration, nothing for a genesis model).
	pub(crate) fn do_register(
		manifest: ManifestInput<T::AccountId>,
		deposit: BalanceOf<T>,
	) -> DispatchResult {
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
		let held = PublisherModels::<T>::get(&manifest.publisher);
		ensure!(held < T::MaxModelsPerPublisher::get(), Error::<T>::TooManyModelsForPublisher);
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
		if !deposit.is_zero() {
			T::Currency::hold(&HoldReason::ModelDeposit.into(), &manifest.publisher, deposit)
				.map_err(|_| Error::<T>::InsufficientDeposit)?;
		}

		let registered_at = frame_system::Pallet::<T>::block_number();
		let record = ModelRecord { manifest: stored, deprecated_at: None, registered_at, deposit };
		Models::<T>::insert(model_id, record);
		PublisherModels::<T>::insert(&manifest.publisher, held.saturating_add(1));
		Self::deposit_event(Event::ModelRegistered {
			model_id,
			publisher: manifest.publisher.clone(),
			manifest,
		});
		Ok(())
	}

	/// Removes a deprecated model with no offers once `ModelRetention` blocks
	/// have passed since its deprecation, and releases its deposit.
	pub(crate) fn do_remove(who: &T::AccountId, model_id: ModelId) -> DispatchResult {
		let model = Models::<T>::get(model_id).ok_or(Error::<T>::UnknownModel)?;
		ensure!(&model.manifest.publisher == who, Error::<T>::NotPublisher);
		let deprecated_at = model.deprecated_at.ok_or(Error::<T>::NotDeprecated)?;
		ensure!(
			ModelOfferCount::<T>::get(model_id) == 0,
			Error::<T>::ModelHasOffers
		);
		let now = frame_system::Pallet::<T>::block_number();
		ensure!(
			now >= deprecated_at.saturating_add(T::ModelRetention::get()),
			Error::<T>::RetentionNotOver
		);
		if !model.deposit.is_zero() {
			T::Currency::release(&HoldReason::ModelDeposit.into(), who, model.deposit, Precision::Exact)?;
		}
		Models::<T>::remove(model_id);
		PublisherModels::<T>::mutate_exists(who, |n| {
			let left = n.unwrap_or(0).saturating_sub(1);
			*n = (left > 0).then_some(left);
		});
		Self::deposit_event(Event::ModelRemoved { model_id, deposit: model.deposit });
		Ok(())
	}

	#[allow(clippy::type_complexity)]
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
			deprecated: m.deprecated_at.is_some(),
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
}
