//! The load providers: bonded and given an offer on Bob's terms at the start,
//! and their offers' open jobs.
use crate::At;
use agora_client::chain::{self, runtime, Client, Keypair, View};
use subxt::{ext::futures::future::join_all, utils::AccountId32};

/// Gives every provider in `keys` (Bob first) an active offer for `model` on
/// the terms of Bob's, taking `capacity` open jobs: bonds a load provider
/// that is not bonded, opens its offer (its own key signs receipts) or raises
/// the capacity of one it has. Returns the offers' ids, in `keys` order.
pub(crate) async fn provider_offers(
	client: &Client,
	model: [u8; 32],
	keys: &[Keypair],
	capacity: u32,
) -> anyhow::Result<Vec<u64>> {
	let view = View::new(client);
	let offers = view.offers().await?;
	let mine = |who: &AccountId32| offers.iter().find(|o| o.model_id == model && &o.provider == who && o.active);
	let bob = keys.first().ok_or_else(|| anyhow::anyhow!("no provider"))?;
	let terms = mine(&chain::account(bob))
		.ok_or_else(|| anyhow::anyhow!("Bob has no active offer for this model (is this a dev chain?)"))?
		.clone();
	let at = client.at_current_block().await?;
	let stake = at.constants().entry(runtime::constants().slashing().min_provider_stake())?;
	let setups = keys.iter().enumerate().map(|(i, key)| {
		let who = chain::account(key);
		let existing = mine(&who).cloned();
		let terms = &terms;
		chain::retry_unseen_head(move || { let existing = existing.clone(); async move {
			let offer = match existing {
				Some(o) if o.capacity >= capacity => return Ok::<_, anyhow::Error>(o.id),
				Some(o) => {
					let call = runtime::transactions().models().update_offer(
						o.id,
						o.base_price,
						o.price_per_1k_tokens,
						o.endpoint.clone().into_bytes(),
						capacity,
						o.hardware.clone().into_bytes(),
					);
					chain::submit_final(client, &call, key, "models.update_offer").await?;
					o.id
				},
				None => {
					if i > 0 && !bonded(client, &who).await? {
						let call = runtime::transactions().slashing().bond(stake);
						chain::submit_final(client, &call, key, "slashing.bond").await?;
					}
					let call = runtime::transactions().models().open_offer(
						model,
						who.0,
						terms.base_price,
						terms.price_per_1k_tokens,
						terms.endpoint.clone().into_bytes(),
						capacity,
						terms.hardware.clone().into_bytes(),
					);
					let events = chain::submit_final(client, &call, key, "models.open_offer").await?;
					events
						.find_first::<runtime::models::events::OfferOpened>()
						.ok_or_else(|| anyhow::anyhow!("no OfferOpened event"))??
						.offer_id
				},
			};
			Ok(offer)
		}})
	});
	join_all(setups).await.into_iter().collect()
}

/// Whether `who` has a provider bond.
pub(crate) async fn bonded(client: &Client, who: &AccountId32) -> anyhow::Result<bool> {
	let at = client.at_current_block().await?;
	let entry = at.storage().entry(runtime::storage().slashing().bonds())?;
	Ok(entry.try_fetch((*who,)).await?.is_some())
}

/// The offers' open jobs at `at`, together.
pub(crate) async fn offers_load(at: &At, offers: &[u64]) -> anyhow::Result<u64> {
	let entry = at.storage().entry(runtime::storage().jobs().offer_load())?;
	let reads = offers.iter().map(|o| entry.try_fetch((*o,)));
	let mut open = 0u64;
	for r in join_all(reads).await {
		open = open.saturating_add(u64::from(r?.map(|v| v.decode()).transpose()?.unwrap_or(0)));
	}
	Ok(open)
}
