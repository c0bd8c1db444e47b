//! Discovery (docs/protocol.md §8): what the `agora_providers` and `agora_quote` RPCs return.
use crate::{ModelId, OfferId};
use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode};
use scale_info::TypeInfo;

/// A provider's reputation as discovery shows it.
#[derive(Clone, PartialEq, Eq, Debug, Default, Encode, Decode, TypeInfo)]
#[derive(serde::Serialize, serde::Deserialize)]
pub struct ReputationView {
	/// The score `100 / (1 + e^(−θ·S))` in milli-points (0..=100,000).
	pub score_milli: u32,
	/// The ranking score: the 95 % Wilson lower bound on the share of positive
	/// outcomes (finalized jobs and +1 ratings against expiries and −1 ratings), ppm.
	pub ranking_ppm: u32,
	/// Average of the clients' latest ratings, in thousandths (−1000..=1000).
	pub average_rating_milli: i32,
	/// Clients whose latest rating counts.
	pub ratings: u32,
	/// Distinct clients with a finalized job (subscribers).
	pub subscribers: u32,
	/// Finalized jobs.
	pub finalized_jobs: u32,
	/// Expired jobs.
	pub expiries: u32,
	/// Proven fraud (the score is at the floor).
	pub fraud: bool,
}

/// One offer in a discovery listing.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, TypeInfo)]
#[derive(serde::Serialize, serde::Deserialize)]
pub struct ProviderListing<AccountId, Balance> {
	pub offer_id: OfferId,
	pub provider: AccountId,
	pub model_id: ModelId,
	pub reputation: ReputationView,
	/// The provider's active bond.
	pub stake: Balance,
	/// Every model the provider has an offer for.
	pub models_served: Vec<ModelId>,
	pub base_price: Balance,
	pub price_per_1k_tokens: Balance,
	pub capacity: u32,
	pub endpoint: Vec<u8>,
	pub active: bool,
}

/// How `agora_providers` sorts.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SortBy {
	/// Ranking score, highest first (ties: reputation, then offer id).
	Rank,
	/// Base price, then price per 1,000 tokens, cheapest first.
	Price,
	/// Stake, highest first.
	Stake,
	/// Reputation score, highest first.
	Reputation,
}

/// Prices for a job on a model (`agora_quote`), over active offers.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, TypeInfo)]
#[derive(serde::Serialize, serde::Deserialize)]
pub struct Quote<Balance> {
	/// Active offers considered.
	pub offers: u32,
	/// (offer, price) of the cheapest.
	pub cheapest: (OfferId, Balance),
	/// The median price (the lower middle for an even count).
	pub median: Balance,
	/// (offer, price) of the best-ranked.
	pub best_ranked: (OfferId, Balance),
}

/// Sorts a listing in place.
pub fn sort_listing<AccountId, Balance: Ord + Copy>(list: &mut [ProviderListing<AccountId, Balance>], by: SortBy) {
	match by {
		SortBy::Rank => list.sort_by(|a, b| {
			b.reputation
				.ranking_ppm
				.cmp(&a.reputation.ranking_ppm)
				.then(b.reputation.score_milli.cmp(&a.reputation.score_milli))
				.then(a.offer_id.cmp(&b.offer_id))
		}),
		SortBy::Price => list.sort_by(|a, b| {
			a.base_price
				.cmp(&b.base_price)
				.then(a.price_per_1k_tokens.cmp(&b.price_per_1k_tokens))
				.then(a.offer_id.cmp(&b.offer_id))
		}),
		SortBy::Stake => list.sort_by(|a, b| b.stake.cmp(&a.stake).then(a.offer_id.cmp(&b.offer_id))),
		SortBy::Reputation => list.sort_by(|a, b| {
			b.reputation.score_milli.cmp(&a.reputation.score_milli).then(a.offer_id.cmp(&b.offer_id))
		}),
	}
}
