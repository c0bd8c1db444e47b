//! Runtime APIs of the Agora marketplace, called by the node's `agora_*` RPC.

use crate::models::{ModelId, ModelView, OfferView, ProviderView};
use alloc::vec::Vec;
use codec::Codec;

sp_api::decl_runtime_apis! {
	/// The model registry and provider offers.
	pub trait AgoraModelsApi<AccountId, Balance, BlockNumber>
	where
		AccountId: Codec,
		Balance: Codec,
		BlockNumber: Codec,
	{
		/// Every registered model.
		fn models() -> Vec<ModelView<AccountId, BlockNumber>>;
		/// One model.
		fn model(id: ModelId) -> Option<ModelView<AccountId, BlockNumber>>;
		/// The offers for a model.
		fn offers_for(model_id: ModelId) -> Vec<OfferView<AccountId, Balance>>;
		/// A provider's bond and offers (`None` if it has neither).
		fn provider(account: AccountId) -> Option<ProviderView<Balance, BlockNumber>>;
	}
}

sp_api::decl_runtime_apis! {
	/// Jobs: how an AVRF assignment was drawn, for anyone to recompute.
	pub trait AgoraJobsApi<AccountId>
	where
		AccountId: Codec,
	{
		/// For an AVRF-assigned job: the seed
		/// (`blake2_256(b"agora/avrf" ++ VRF randomness ++ job id)`), the candidate
		/// offers in draw order as (offer, provider, weight), and the winning offer.
		/// The winner is the roulette pick `u128(seed[0..16]) mod Σ weight`.
		#[allow(clippy::type_complexity)]
		fn assignment_of(job_id: crate::JobId) -> Option<([u8; 32], Vec<(crate::OfferId, AccountId, u32)>, crate::OfferId)>;
	}
}
