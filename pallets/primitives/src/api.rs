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

sp_api::decl_runtime_apis! {
	/// Discovery (docs/protocol.md §8): ranked provider listings and price quotes.
	pub trait AgoraDiscoveryApi<AccountId, Balance>
	where
		AccountId: Codec,
		Balance: Codec,
	{
		/// Every offer for a model with its provider's reputation, stake and terms,
		/// sorted by `sort_by`.
		fn providers(model_id: ModelId, sort_by: crate::discovery::SortBy) -> Vec<crate::discovery::ProviderListing<AccountId, Balance>>;
		/// Cheapest, median and best-ranked price of a job with `max_tokens` output
		/// tokens over the model's active offers (`None` if there are none).
		fn quote(model_id: ModelId, max_tokens: u32) -> Option<crate::discovery::Quote<Balance>>;
	}
}

sp_api::decl_runtime_apis! {
	/// The marketplace's governed parameters (docs/protocol.md §9).
	pub trait AgoraParamsApi {
		/// Every parameter: protocol name, value in force, default and bounds.
		fn params() -> Vec<crate::params::ParamInfo>;
	}
}

sp_api::decl_runtime_apis! {
	/// Service passes (docs/protocol.md §4.3).
	pub trait AgoraPassesApi<AccountId, Balance, BlockNumber>
	where
		AccountId: Codec,
		Balance: Codec,
		BlockNumber: Codec,
	{
		/// `account`'s pass with its quota in the current epoch (`None`
		/// without a pass).
		fn pass(account: AccountId) -> Option<crate::passes::PassView<Balance, BlockNumber>>;
		/// `provider`'s verified pass work in the current epoch, not yet paid.
		fn pass_work(provider: AccountId) -> crate::passes::PassWork;
	}
}
