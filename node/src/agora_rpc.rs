//! The `agora_*` JSON-RPC methods, served beside the standard Substrate set.
//!
//! | method | params | result |
//! | --- | --- | --- |
//! | `agora_models` | `[at?]` | every registered model |
//! | `agora_model` | `[model_id, at?]` | one model, or `null` |
//! | `agora_offers` | `[model_id, at?]` | the offers for a model |
//! | `agora_provider` | `[account, at?]` | a provider's bond and offers, or `null` |
//! | `agora_assignment` | `[job_id, at?]` | how an AVRF-assigned job was drawn, or `null` |
//! | `agora_providers` | `[model_id, sort_by?, at?]` | the model's offers with reputation, stake and terms; `sort_by` is `rank` (default), `price`, `stake` or `reputation` |
//! | `agora_quote` | `[model_id, max_tokens, at?]` | cheapest, median and best-ranked price, or `null` |
//! | `agora_pass` | `[account, at?]` | the account's service pass with its quota left this epoch (`pass`, `null` without one) and its pass work this epoch as a provider (`work`) |
//!
//! Ids and hashes are `0x`-hex, accounts SS58 (prefix 4242), balances decimal
//! strings (they exceed JavaScript's safe integers), text UTF-8 strings.

use std::sync::Arc;

use agora_primitives::{
	models::{ModelView, OfferView, ProviderView},
	api::{AgoraDiscoveryApi, AgoraJobsApi, AgoraModelsApi, AgoraPassesApi},
	discovery::{ProviderListing, SortBy},
	DeterminismProfile, JobId, ModelId,
};
use agora_runtime::{opaque::Block, AccountId, Balance, BlockNumber};
use jsonrpsee::{
	core::RpcResult,
	proc_macros::rpc,
	types::{ErrorObject, ErrorObjectOwned},
};
use serde_json::{json, Value};
use sp_api::ProvideRuntimeApi;
use sp_blockchain::HeaderBackend;
use sp_core::crypto::{Ss58AddressFormat, Ss58Codec};
use sp_runtime::traits::Block as BlockT;

type Hash = <Block as BlockT>::Hash;

/// The `agora_*` methods.
#[rpc(server)]
pub trait AgoraApi {
	/// Every registered model.
	#[method(name = "agora_models")]
	fn models(&self, at: Option<Hash>) -> RpcResult<Vec<Value>>;

	/// One model by its `0x`-hex id, or `null`.
	#[method(name = "agora_model")]
	fn model(&self, model_id: String, at: Option<Hash>) -> RpcResult<Option<Value>>;

	/// The offers for a model.
	#[method(name = "agora_offers")]
	fn offers(&self, model_id: String, at: Option<Hash>) -> RpcResult<Vec<Value>>;

	/// A provider's bond and offers, or `null` if it has neither.
	#[method(name = "agora_provider")]
	fn provider(&self, account: String, at: Option<Hash>) -> RpcResult<Option<Value>>;

	/// How an AVRF-assigned job was drawn: seed, candidates (offer, provider,
	/// weight) and the winning offer; `null` for jobs whose client named the provider.
	#[method(name = "agora_assignment")]
	fn assignment(&self, job_id: JobId, at: Option<Hash>) -> RpcResult<Option<Value>>;

	/// The model's offers with their providers' reputation, stake and terms,
	/// sorted by `rank` (default: the Wilson lower bound on positive outcomes),
	/// `price`, `stake` or `reputation`.
	#[method(name = "agora_providers")]
	fn providers(&self, model_id: String, sort_by: Option<String>, at: Option<Hash>) -> RpcResult<Vec<Value>>;

	/// The cheapest, median and best-ranked price of a job with `max_tokens`
	/// output tokens; `null` if no active offer fits.
	#[method(name = "agora_quote")]
	fn quote(&self, model_id: String, max_tokens: u32, at: Option<Hash>) -> RpcResult<Option<Value>>;

	/// An account's service pass (quota left this epoch) and its pass work
	/// this epoch as a provider.
	#[method(name = "agora_pass")]
	fn pass(&self, account: String, at: Option<Hash>) -> RpcResult<Value>;
}

/// Parses `rank|price|stake|reputation`.
pub fn parse_sort(s: Option<&str>) -> Result<SortBy, ErrorObjectOwned> {
	match s.unwrap_or("rank") {
		"rank" => Ok(SortBy::Rank),
		"price" => Ok(SortBy::Price),
		"stake" => Ok(SortBy::Stake),
		"reputation" => Ok(SortBy::Reputation),
		other => Err(invalid(format!("sort_by must be rank, price, stake or reputation, got {other:?}"))),
	}
}

fn listing_json(l: &ProviderListing<AccountId, Balance>) -> Value {
	let r = &l.reputation;
	json!({
		"offerId": l.offer_id,
		"provider": ss58(&l.provider),
		"modelId": hex(&l.model_id),
		"reputation": f64::from(r.score_milli) / 1000.0,
		"reputationMilli": r.score_milli,
		"rankingPpm": r.ranking_ppm,
		"averageRating": f64::from(r.average_rating_milli) / 1000.0,
		"ratings": r.ratings,
		"subscribers": r.subscribers,
		"finalizedJobs": r.finalized_jobs,
		"expiries": r.expiries,
		"fraud": r.fraud,
		"stake": l.stake.to_string(),
		"modelsServed": l.models_served.iter().map(|m| hex(m)).collect::<Vec<_>>(),
		"basePrice": l.base_price.to_string(),
		"pricePer1kTokens": l.price_per_1k_tokens.to_string(),
		"capacity": l.capacity,
		"endpoint": text(&l.endpoint),
		"active": l.active,
	})
}

/// Serves the `agora_*` methods from the runtime API.
pub struct Agora<C> {
	client: Arc<C>,
}

impl<C> Agora<C> {
	pub fn new(client: Arc<C>) -> Self {
		Self { client }
	}
}

/// Bad parameters (JSON-RPC "invalid params").
fn invalid(msg: impl Into<String>) -> ErrorObjectOwned {
	ErrorObject::owned(jsonrpsee::types::error::INVALID_PARAMS_CODE, msg.into(), None::<()>)
}

/// A runtime API failure.
fn runtime(e: impl std::fmt::Display) -> ErrorObjectOwned {
	ErrorObject::owned(1, format!("runtime API call failed: {e}"), None::<()>)
}

fn hex(b: &[u8]) -> String {
	format!("0x{}", b.iter().map(|x| format!("{x:02x}")).collect::<String>())
}

fn text(b: &[u8]) -> String {
	String::from_utf8_lossy(b).into_owned()
}

fn ss58(a: &AccountId) -> String {
	a.to_ss58check_with_version(Ss58AddressFormat::custom(agora_runtime::SS58_PREFIX))
}

/// Parses a `0x`-hex model id.
pub fn parse_model_id(s: &str) -> Result<ModelId, ErrorObjectOwned> {
	let raw = s.strip_prefix("0x").unwrap_or(s);
	if raw.len() != 64 || !raw.chars().all(|c| c.is_ascii_hexdigit()) {
		return Err(invalid(format!("model id must be 32 bytes of 0x-hex, got {s:?}")));
	}
	let mut id = [0u8; 32];
	for (i, byte) in id.iter_mut().enumerate() {
		*byte = u8::from_str_radix(&raw[2 * i..2 * i + 2], 16).map_err(|e| invalid(e.to_string()))?;
	}
	Ok(id)
}

fn determinism(d: &DeterminismProfile) -> Value {
	match d {
		DeterminismProfile::Exact => json!({"kind": "Exact"}),
		DeterminismProfile::TeacherForced { eps_milli } => json!({"kind": "TeacherForced", "epsMilli": eps_milli}),
		DeterminismProfile::Cosine { min_cosine_ppm } =>
			json!({"kind": "Cosine", "minCosinePpm": min_cosine_ppm}),
	}
}

pub fn model_json(m: &ModelView<AccountId, BlockNumber>) -> Value {
	let f = &m.manifest;
	json!({
		"id": hex(&m.id),
		"name": text(&f.name),
		"architecture": text(&f.architecture),
		"quantization": text(&f.quantization),
		"task": format!("{:?}", f.task),
		"determinism": determinism(&f.determinism),
		"weightsHash": hex(&f.weights_hash),
		"tokenizerHash": f.tokenizer_hash.as_ref().map(|h| hex(h)),
		"configHash": f.config_hash.as_ref().map(|h| hex(h)),
		"licence": text(&f.licence),
		"publisher": ss58(&f.publisher),
		"royaltyBps": f.royalty_bps,
		"deprecated": m.deprecated,
		"registeredAt": m.registered_at,
	})
}

pub fn offer_json(o: &OfferView<AccountId, Balance>) -> Value {
	json!({
		"id": o.id,
		"provider": ss58(&o.provider),
		"modelId": hex(&o.model_id),
		"workerKey": hex(&o.worker_key),
		"basePrice": o.base_price.to_string(),
		"pricePer1kTokens": o.price_per_1k_tokens.to_string(),
		"endpoint": text(&o.endpoint),
		"capacity": o.capacity,
		"hardware": text(&o.hardware),
		"status": format!("{:?}", o.status),
	})
}

/// An SS58 account, or a specific "invalid params" error.
fn parse_account(account: &str) -> Result<AccountId, ErrorObjectOwned> {
	AccountId::from_ss58check_with_version(account)
		.map(|(a, _)| a)
		.map_err(|e| invalid(format!("not an SS58 account: {account:?} ({e:?})")))
}

fn provider_json(p: &ProviderView<Balance, BlockNumber>) -> Value {
	json!({
		"bond": p.bond.to_string(),
		"bonded": p.bonded,
		"unlocking": p.unlocking.iter().map(|(v, until)| json!({"value": v.to_string(), "until": until})).collect::<Vec<_>>(),
		"offers": p.offers,
	})
}

impl<C> AgoraApiServer for Agora<C>
where
	C: ProvideRuntimeApi<Block> + HeaderBackend<Block> + Send + Sync + 'static,
	C::Api: AgoraModelsApi<Block, AccountId, Balance, BlockNumber>,
	C::Api: AgoraJobsApi<Block, AccountId>,
	C::Api: AgoraDiscoveryApi<Block, AccountId, Balance>,
	C::Api: AgoraPassesApi<Block, AccountId, Balance, BlockNumber>,
{
	fn pass(&self, account: String, at: Option<Hash>) -> RpcResult<Value> {
		let who = parse_account(&account)?;
		let at = at.unwrap_or_else(|| self.client.info().best_hash);
		let api = self.client.runtime_api();
		let pass = api.pass(at, who.clone()).map_err(runtime)?;
		let work = api.pass_work(at, who).map_err(runtime)?;
		Ok(json!({
			"pass": pass.map(|p| json!({
				"locked": p.locked.to_string(),
				"unlocking": p.unlocking.map(|(v, at)| json!({"value": v.to_string(), "at": at})),
				"epoch": p.epoch,
				"epochEndsAt": p.epoch_ends_at,
				"quota": p.quota,
				"used": p.used,
				"remaining": p.remaining,
			})),
			"work": {"jobs": work.jobs, "contribution": work.contribution},
		}))
	}

	fn models(&self, at: Option<Hash>) -> RpcResult<Vec<Value>> {
		let at = at.unwrap_or_else(|| self.client.info().best_hash);
		let models = self.client.runtime_api().models(at).map_err(runtime)?;
		Ok(models.iter().map(model_json).collect())
	}

	fn model(&self, model_id: String, at: Option<Hash>) -> RpcResult<Option<Value>> {
		let id = parse_model_id(&model_id)?;
		let at = at.unwrap_or_else(|| self.client.info().best_hash);
		let model = self.client.runtime_api().model(at, id).map_err(runtime)?;
		Ok(model.as_ref().map(model_json))
	}

	fn offers(&self, model_id: String, at: Option<Hash>) -> RpcResult<Vec<Value>> {
		let id = parse_model_id(&model_id)?;
		let at = at.unwrap_or_else(|| self.client.info().best_hash);
		let offers = self.client.runtime_api().offers_for(at, id).map_err(runtime)?;
		Ok(offers.iter().map(offer_json).collect())
	}

	fn provider(&self, account: String, at: Option<Hash>) -> RpcResult<Option<Value>> {
		let who = parse_account(&account)?;
		let at = at.unwrap_or_else(|| self.client.info().best_hash);
		let p = self.client.runtime_api().provider(at, who).map_err(runtime)?;
		Ok(p.as_ref().map(provider_json))
	}

	fn assignment(&self, job_id: JobId, at: Option<Hash>) -> RpcResult<Option<Value>> {
		let at = at.unwrap_or_else(|| self.client.info().best_hash);
		let a = self.client.runtime_api().assignment_of(at, job_id).map_err(runtime)?;
		Ok(a.map(|(seed, candidates, offer)| {
			json!({
				"seed": hex(&seed),
				"candidates": candidates.iter().map(|(o, p, w)| json!({"offer": o, "provider": ss58(p), "weight": w})).collect::<Vec<_>>(),
				"offer": offer,
			})
		}))
	}

	fn providers(&self, model_id: String, sort_by: Option<String>, at: Option<Hash>) -> RpcResult<Vec<Value>> {
		let id = parse_model_id(&model_id)?;
		let sort = parse_sort(sort_by.as_deref())?;
		let at = at.unwrap_or_else(|| self.client.info().best_hash);
		let list = self.client.runtime_api().providers(at, id, sort).map_err(runtime)?;
		Ok(list.iter().map(listing_json).collect())
	}

	fn quote(&self, model_id: String, max_tokens: u32, at: Option<Hash>) -> RpcResult<Option<Value>> {
		let id = parse_model_id(&model_id)?;
		let at = at.unwrap_or_else(|| self.client.info().best_hash);
		let q = self.client.runtime_api().quote(at, id, max_tokens).map_err(runtime)?;
		Ok(q.map(|q| {
			json!({
				"offers": q.offers,
				"cheapest": {"offerId": q.cheapest.0, "price": q.cheapest.1.to_string()},
				"median": q.median.to_string(),
				"bestRanked": {"offerId": q.best_ranked.0, "price": q.best_ranked.1.to_string()},
			})
		}))
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn model_ids_parse_with_and_without_prefix() {
		let s = format!("0x{}", "ab".repeat(32));
		assert_eq!(parse_model_id(&s).unwrap(), [0xab; 32]);
		assert_eq!(parse_model_id(&"cd".repeat(32)).unwrap(), [0xcd; 32]);
		assert!(parse_model_id("0x1234").is_err());
		assert!(parse_model_id(&format!("0x{}", "zz".repeat(32))).is_err());
	}

	#[test]
	fn sort_keys_parse_and_bad_ones_are_named() {
		assert_eq!(parse_sort(None).unwrap(), SortBy::Rank);
		assert_eq!(parse_sort(Some("stake")).unwrap(), SortBy::Stake);
		let e = parse_sort(Some("cheap")).unwrap_err();
		assert!(e.message().contains("cheap"));
	}
}
