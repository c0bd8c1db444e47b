//! Discovery (docs/protocol.md §8): the `AgoraDiscoveryApi` listing and quote, assembled from
//! the models pallet (offers), the reputation pallet and the slashing pallet
//! (stake). Read-only; served by the node as `agora_providers` and `agora_quote`.
use crate::{AccountId, Balance, Models, Reputation, Runtime};
use agora_primitives::{
	discovery::{sort_listing, ProviderListing, Quote, SortBy},
	ModelId, OfferStatus, ProviderBonds,
};
use alloc::{collections::btree_map::BTreeMap, vec::Vec};

/// Every offer for `model_id` with its provider's reputation, stake and terms.
pub fn providers(model_id: ModelId, sort_by: SortBy) -> Vec<ProviderListing<AccountId, Balance>> {
	let mut per_provider: BTreeMap<AccountId, (agora_primitives::discovery::ReputationView, Balance, Vec<ModelId>)> =
		BTreeMap::new();
	let mut list: Vec<ProviderListing<AccountId, Balance>> = Models::offers_for(model_id)
		.into_iter()
		.map(|o| {
			let (reputation, stake, models_served) = per_provider
				.entry(o.provider.clone())
				.or_insert_with(|| {
					let mut models: Vec<ModelId> = Models::provider_offers(&o.provider)
						.into_iter()
						.filter_map(|id| Models::offer_view(id).map(|v| v.model_id))
						.collect();
					models.sort();
					models.dedup();
					(
						Reputation::view(&o.provider),
						<crate::Slashing as ProviderBonds<AccountId>>::active_bond(&o.provider),
						models,
					)
				})
				.clone();
			ProviderListing {
				offer_id: o.id,
				provider: o.provider,
				model_id: o.model_id,
				reputation,
				stake,
				models_served,
				base_price: o.base_price,
				price_per_1k_tokens: o.price_per_1k_tokens,
				capacity: o.capacity,
				endpoint: o.endpoint,
				active: o.status == OfferStatus::Active,
			}
		})
		.collect();
	sort_listing(&mut list, sort_by);
	list
}

/// Cheapest, median and best-ranked price over the model's active offers.
pub fn quote(model_id: ModelId, max_tokens: u32) -> Option<Quote<Balance>> {
	let ranked = providers(model_id, SortBy::Rank);
	let mut priced: Vec<(agora_primitives::OfferId, Balance)> = ranked
		.iter()
		.filter(|l| l.active)
		.filter_map(|l| {
			pallet_jobs::Pallet::<Runtime>::price(l.base_price, l.price_per_1k_tokens, max_tokens)
				.map(|p| (l.offer_id, p))
		})
		.collect();
	let best_ranked = *priced.first()?;
	priced.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
	let cheapest = *priced.first()?;
	let mid = priced.len().saturating_sub(1) / 2;
	let median = priced.get(mid).map(|p| p.1)?;
	Some(Quote { offers: priced.len() as u32, cheapest, median, best_ranked })
}
