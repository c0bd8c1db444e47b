//! The subxt layer shared by `agora-worker` and the `agora` client.
//!
//! Types come from the runtime metadata in `artifacts/metadata.scale`
//! (regenerate with `scripts/gen-metadata.sh`; a test in the suite checks it
//! still matches the runtime a dev node runs).
use agora_primitives::models::ManifestInput;
use codec::{Decode, Encode};
use std::time::Duration;
use subxt::utils::AccountId32;

#[subxt::subxt(
	runtime_metadata_path = "artifacts/metadata.scale",
	derive_for_all_types = "::subxt::ext::codec::Encode, ::subxt::ext::codec::Decode, Clone"
)]
pub mod runtime {}

pub use runtime::runtime_types::agora_primitives::jobs::JobStatus;
use runtime::runtime_types::agora_primitives::models::OfferStatus;

/// The chain's configuration (standard Substrate extrinsics and types).
pub type Config = subxt::PolkadotConfig;
/// A connected client.
pub type Client = subxt::OnlineClient<Config>;
/// An sr25519 key pair (fee payer or worker key).
pub type Keypair = subxt_signer::sr25519::Keypair;
/// A job as the chain stores it.
pub type Job = runtime::runtime_types::pallet_jobs::types::Job<AccountId32, u128, u32>;

/// Re-encodes a generated type as the matching `agora-primitives` type (same SCALE).
pub fn recode<A: Encode, B: Decode>(a: &A) -> anyhow::Result<B> {
	B::decode(&mut &a.encode()[..]).map_err(|e| anyhow::anyhow!("decoding chain data: {e}"))
}

/// Connects once.
pub async fn connect(url: &str) -> anyhow::Result<Client> {
	Client::from_insecure_url(url)
		.await
		.map_err(|e| anyhow::anyhow!("cannot connect to {url}: {e}"))
}

/// Connects, retrying with exponential backoff (0.5 s doubling to 10 s) for up to `patience`.
pub async fn connect_with_backoff(url: &str, patience: Duration) -> anyhow::Result<Client> {
	let start = std::time::Instant::now();
	let mut wait = Duration::from_millis(500);
	loop {
		match connect(url).await {
			Ok(c) => return Ok(c),
			Err(e) if start.elapsed() < patience => {
				tracing::warn!(%url, retry_in_ms = wait.as_millis() as u64, error = %e, "node unreachable");
				tokio::time::sleep(wait).await;
				wait = (wait * 2).min(Duration::from_secs(10));
			},
			Err(e) => return Err(e),
		}
	}
}

/// Re-executes block `at` (default: the last finalized; its seal removed, as
/// on import) on its parent's state and then every pallet's `try_state` invariants, through the runtime API
/// `TryRuntime_execute_block` (`TryStateSelect::All`; state root and signature
/// checks off: the block was already imported). Returns the block number and
/// the execution's `ref_time`. The node's runtime must be built with
/// `try-runtime` (the test build); a failed invariant comes back as the
/// runtime's panic message.
pub async fn try_state(client: &Client, at: Option<u64>) -> anyhow::Result<(u64, u64)> {
	let blk = match at {
		Some(n) => client.at_block(n).await?,
		None => client.at_current_block().await?,
	};
	let number = blk.block_number();
	anyhow::ensure!(number > 0, "block 0 (genesis) has no parent to execute it on");
	let parent_number = number.saturating_sub(1);
	let mut header = blk.block_header().await?;
	// The author's seal is not part of what the runtime executes: the node
	// strips it before import, and so do we.
	if matches!(header.digest.logs.last(), Some(subxt::config::substrate::DigestItem::Seal(..))) {
		header.digest.logs.pop();
	}
	let exts = blk.extrinsics().fetch().await?;
	let mut args = header.encode();
	codec::Compact(exts.len() as u32).encode_to(&mut args);
	for e in exts.iter() {
		let e =
			e.map_err(|e| anyhow::anyhow!("block {number}: an extrinsic does not decode: {e}"))?;
		args.extend_from_slice(e.bytes());
	}
	// state_root_check, signature_check, TryStateSelect::All (variant 1).
	args.extend_from_slice(&[0, 0, 1]);
	let parent = client.at_block(parent_number).await?;
	let out = parent
		.runtime_apis()
		.call_raw("TryRuntime_execute_block", Some(&args))
		.await
		.map_err(|e| anyhow::anyhow!("try_state at block {number}: {e}"))?;
	// `Weight { ref_time: Compact<u64>, proof_size: Compact<u64> }`.
	let ref_time = codec::Compact::<u64>::decode(&mut &out[..]).map_err(|e| {
		anyhow::anyhow!("TryRuntime_execute_block returned {} bytes: {e}", out.len())
	})?;
	Ok((number, ref_time.0))
}

/// Checks at block `at` that `Balances.TotalIssuance` equals Σ (free +
/// reserved) over every account in `System.Account` (a hold is reserved
/// balance), so that no call minted or burned money outside the issuance's
/// books; returns the issuance and the accounts counted. `pallet-balances`'
/// own `try_state` does not check this, and no pallet may read every account
/// in a block, so it is read over RPC: every end-to-end test checks it with
/// [`try_state`] at its end (`agora try-state`).
pub async fn issuance_check(client: &Client, at: u64) -> anyhow::Result<(u128, u32)> {
	let blk = client.at_block(at).await?;
	let issuance = blk
		.storage()
		.entry(runtime::storage().balances().total_issuance())?
		.try_fetch(())
		.await?
		.map(|v| v.decode())
		.transpose()?
		.unwrap_or(0);
	let entry = blk.storage().entry(runtime::storage().system().account())?;
	let mut iter = entry.iter(()).await?;
	let (mut sum, mut accounts) = (0u128, 0u32);
	while let Some(kv) = futures::StreamExt::next(&mut iter).await {
		let data = kv?.value().decode()?.data;
		sum = sum
			.checked_add(data.free)
			.and_then(|s| s.checked_add(data.reserved))
			.ok_or_else(|| anyhow::anyhow!("block {at}: the balances of all accounts overflow u128"))?;
		accounts = accounts.saturating_add(1);
	}
	anyhow::ensure!(
		sum == issuance,
		"block {at}: total issuance is {issuance} planck, but the {accounts} accounts hold {sum} (free + reserved): {} planck {}",
		sum.abs_diff(issuance),
		if sum > issuance { "more than was ever issued" } else { "issued and held by nobody" }
	);
	Ok((issuance, accounts))
}

/// A key pair from a secret URI (`//Alice`, a mnemonic, `0x…` seed) or a keystore
/// file (a Substrate keystore entry: a JSON string holding the secret phrase, or the
/// phrase/URI as plain text).
pub fn keypair(suri: Option<&str>, keystore: Option<&std::path::Path>) -> anyhow::Result<Keypair> {
	let secret = match (suri, keystore) {
		(Some(s), _) => s.to_string(),
		(None, Some(path)) => {
			let raw = std::fs::read_to_string(path)
				.map_err(|e| anyhow::anyhow!("keystore file {}: {e}", path.display()))?;
			let raw = raw.trim();
			serde_json::from_str::<String>(raw).unwrap_or_else(|_| raw.to_string())
		},
		(None, None) => anyhow::bail!("give a key with --suri or --keystore"),
	};
	let uri: subxt_signer::SecretUri =
		secret.parse().map_err(|e| anyhow::anyhow!("not a valid secret URI: {e:?}"))?;
	Keypair::from_uri(&uri).map_err(|e| anyhow::anyhow!("cannot derive the key: {e:?}"))
}

/// The [`agora_primitives::jobs::READ_HEADER`] value with which `k` asks a
/// worker for job `job_id`'s output: a `ReadRequest` made now, signed by `k`.
pub fn read_header(k: &Keypair, job_id: u64) -> String {
	let at_ms = std::time::SystemTime::now()
		.duration_since(std::time::UNIX_EPOCH)
		.map(|d| d.as_millis() as u64)
		.unwrap_or_default();
	let req = agora_primitives::jobs::ReadRequest { job_id, at_ms };
	let sig = k.sign(&req.signing_payload());
	req.header(&k.public_key().0, &sig.0)
}

/// Whether `signature` is `public`'s sr25519 signature of `message`.
pub fn sr25519_verify(signature: &[u8; 64], message: &[u8], public: &[u8; 32]) -> bool {
	subxt_signer::sr25519::verify(
		&subxt_signer::sr25519::Signature(*signature),
		message,
		&subxt_signer::sr25519::PublicKey(*public),
	)
}

/// The account of a key pair.
pub fn account(k: &Keypair) -> AccountId32 {
	k.public_key().to_account_id()
}

/// Amounts in AGR (12 decimals): parses `1.5` (AGR) or `1500000000000p` (planck).
pub fn parse_agr(s: &str) -> anyhow::Result<u128> {
	let bad =
		|| anyhow::anyhow!("`{s}` is not an amount (e.g. 0.05 for AGR, 50000000000p for planck)");
	if let Some(p) = s.strip_suffix('p') {
		return p.parse().map_err(|_| bad());
	}
	let (int, frac) = s.split_once('.').unwrap_or((s, ""));
	if frac.len() > 12 || (int.is_empty() && frac.is_empty()) {
		return Err(bad());
	}
	let int: u128 = if int.is_empty() { 0 } else { int.parse().map_err(|_| bad())? };
	let frac_v: u128 =
		if frac.is_empty() { 0 } else { format!("{frac:0<12}").parse().map_err(|_| bad())? };
	int.checked_mul(agora_primitives::AGR)
		.and_then(|v| v.checked_add(frac_v))
		.ok_or_else(bad)
}

/// Formats planck as AGR.
pub fn fmt_agr(v: u128) -> String {
	let unit = agora_primitives::AGR;
	let frac = format!("{:012}", v % unit);
	let frac = frac.trim_end_matches('0');
	if frac.is_empty() {
		format!("{} AGR", v / unit)
	} else {
		format!("{}.{} AGR", v / unit, frac)
	}
}

/// A model as the worker and client see it.
#[derive(Clone, Debug)]
pub struct ModelInfo {
	pub id: [u8; 32],
	pub manifest: ManifestInput<[u8; 32]>,
	pub deprecated: bool,
}

impl ModelInfo {
	pub fn name(&self) -> String {
		String::from_utf8_lossy(&self.manifest.name).into_owned()
	}
}

/// An offer as the worker and client see it.
#[derive(Clone, Debug)]
pub struct OfferInfo {
	pub id: u64,
	pub provider: AccountId32,
	pub model_id: [u8; 32],
	pub worker_key: [u8; 32],
	pub base_price: u128,
	pub price_per_1k_tokens: u128,
	pub endpoint: String,
	pub capacity: u32,
	pub hardware: String,
	pub active: bool,
	pub status: String,
}

type StoredOffer = runtime::runtime_types::pallet_models::types::Offer<AccountId32, u128>;

fn offer_info(id: u64, o: StoredOffer) -> OfferInfo {
	OfferInfo {
		id,
		provider: o.provider,
		model_id: o.model_id,
		worker_key: o.worker_key,
		base_price: o.base_price,
		price_per_1k_tokens: o.price_per_1k_tokens,
		endpoint: String::from_utf8_lossy(&o.endpoint.0).into_owned(),
		capacity: o.capacity,
		hardware: String::from_utf8_lossy(&o.hardware.0).into_owned(),
		active: matches!(o.status, OfferStatus::Active),
		status: format!("{:?}", o.status),
	}
}

/// Reads the chain at its latest finalized block.
pub struct View<'a> {
	client: &'a Client,
}

impl<'a> View<'a> {
	pub fn new(client: &'a Client) -> Self {
		Self { client }
	}

	/// Every registered model.
	pub async fn models(&self) -> anyhow::Result<Vec<ModelInfo>> {
		let at = self.client.at_current_block().await?;
		let entry = at.storage().entry(runtime::storage().models().models())?;
		let mut iter = entry.iter(()).await?;
		let mut out = vec![];
		while let Some(kv) = futures::StreamExt::next(&mut iter).await {
			let kv = kv?;
			let rec = kv.value().decode()?;
			let manifest: ManifestInput<[u8; 32]> = recode(&rec.manifest)?;
			out.push(ModelInfo { id: manifest.id(), manifest, deprecated: rec.deprecated_at.is_some() });
		}
		out.sort_by_key(|m| m.name());
		Ok(out)
	}

	/// A model by id (hex) or by manifest name.
	pub async fn find_model(&self, which: &str) -> anyhow::Result<ModelInfo> {
		let models = self.models().await?;
		let by_id = crate::parse_h256(which).ok();
		let found: Vec<ModelInfo> = models
			.into_iter()
			.filter(|m| Some(m.id) == by_id || m.name() == which)
			.collect();
		match found.len() {
			1 => Ok(found.into_iter().next().ok_or_else(|| anyhow::anyhow!("unreachable"))?),
			0 => {
				anyhow::bail!("no model `{which}` is registered on chain (see `agora model list`)")
			},
			n => anyhow::bail!("{n} models are named `{which}`; give the model id instead"),
		}
	}

	/// An offer by id.
	pub async fn offer(&self, id: u64) -> anyhow::Result<Option<OfferInfo>> {
		let at = self.client.at_current_block().await?;
		let entry = at.storage().entry(runtime::storage().models().offers())?;
		let Some(v) = entry.try_fetch((id,)).await? else { return Ok(None) };
		Ok(Some(offer_info(id, v.decode()?)))
	}

	/// Every offer, read in one pass at one block.
	pub async fn offers(&self) -> anyhow::Result<Vec<OfferInfo>> {
		let at = self.client.at_current_block().await?;
		let entry = at.storage().entry(runtime::storage().models().offers())?;
		let mut iter = entry.iter(()).await?;
		let mut out = vec![];
		while let Some(kv) = futures::StreamExt::next(&mut iter).await {
			let kv = kv?;
			out.push(offer_info(kv.key()?.decode()?.0, kv.value().decode()?));
		}
		out.sort_by_key(|o| o.id);
		Ok(out)
	}

	/// The `agora` session keys (32 bytes each) of the committee checking job
	/// `id`: at the finalized block, or, when no check runs there, at the
	/// (best-chain) blocks just after it, where a check that just started is
	/// (empty when none runs).
	pub async fn committee_keys(&self, id: u64) -> anyhow::Result<Vec<[u8; 32]>> {
		let finalized = self.client.at_current_block().await?;
		let n = finalized.block_number();
		let mut at = Some(finalized);
		for k in 1..=6u64 {
			let Some(here) = at.take() else { break };
			let entry = here.storage().entry(runtime::storage().verification().audits())?;
			if let Some(v) = entry.try_fetch((id,)).await? {
				let audit = v.decode()?;
				return Ok(audit
					.committee
					.0
					.iter()
					.filter_map(|(_, key)| <[u8; 32]>::try_from(key.encode().as_slice()).ok())
					.collect());
			}
			at = self.client.at_block(n.saturating_add(k)).await.ok();
		}
		Ok(vec![])
	}

	/// A job, while the chain keeps it (until `RETENTION` after it ends).
	pub async fn job(&self, id: u64) -> anyhow::Result<Option<Job>> {
		let at = self.client.at_current_block().await?;
		let entry = at.storage().entry(runtime::storage().jobs().jobs())?;
		match entry.try_fetch((id,)).await? {
			Some(v) => Ok(Some(v.decode()?)),
			None => Ok(None),
		}
	}

	/// Every job the chain keeps, with its id.
	pub async fn jobs(&self) -> anyhow::Result<Vec<(u64, Job)>> {
		let at = self.client.at_current_block().await?;
		let entry = at.storage().entry(runtime::storage().jobs().jobs())?;
		let mut iter = entry.iter(()).await?;
		let mut out = vec![];
		while let Some(kv) = futures::StreamExt::next(&mut iter).await {
			let kv = kv?;
			let id = kv.key()?.decode()?.0;
			out.push((id, kv.value().decode()?));
		}
		Ok(out)
	}

	/// The latest finalized block number.
	pub async fn finalized_number(&self) -> anyhow::Result<u64> {
		Ok(self.client.at_current_block().await?.block_number())
	}

	/// The stake locked in `who`'s service pass (0 without one; stake being
	/// unlocked does not count).
	pub async fn pass_stake(&self, who: &AccountId32) -> anyhow::Result<u128> {
		let at = self.client.at_current_block().await?;
		let entry = at.storage().entry(runtime::storage().passes().passes())?;
		Ok(match entry.try_fetch((*who,)).await? {
			Some(v) => v.decode()?.locked,
			None => 0,
		})
	}

	/// Whether the chain takes offers with private endpoints (`dev` chains:
	/// genesis `models.privateEndpoints`).
	pub async fn private_endpoints(&self) -> anyhow::Result<bool> {
		let at = self.client.at_current_block().await?;
		let entry = at.storage().entry(runtime::storage().models().private_endpoints())?;
		Ok(entry.try_fetch(()).await?.map(|v| v.decode()).transpose()?.unwrap_or(false))
	}

	/// Free balance of an account, and the finalized block it was read at.
	pub async fn free_balance(&self, who: &AccountId32) -> anyhow::Result<(u128, u64)> {
		let at = self.client.at_current_block().await?;
		let entry = at.storage().entry(runtime::storage().system().account())?;
		Ok((entry.fetch((*who,)).await?.decode()?.data.free, at.block_number()))
	}
}

/// A submitted transaction's progress.
pub type Progress = subxt::transactions::TransactionProgress<Config, subxt::client::OnlineClientAtBlockImpl<Config>>;

/// One account's transactions from one process with many tasks (a worker's
/// acknowledgements, receipts and voucher claims): submitted one at a time,
/// each with the next nonce. That is the larger of the chain's, read at the
/// finalized head (which lags the pool), and the one after this submitter's
/// last submission, so that concurrent transactions never share a nonce. A
/// failed submission forgets the local count, and the chain's is right again.
pub struct Submitter {
	signer: Keypair,
	account: AccountId32,
	next: tokio::sync::Mutex<u64>,
}

impl Submitter {
	pub fn new(signer: Keypair) -> Self {
		let account = account(&signer);
		Self { signer, account, next: tokio::sync::Mutex::new(0) }
	}

	/// Signs and submits `call` (into the pool; not waited for).
	pub async fn submit<C: subxt::transactions::Payload>(&self, client: &Client, call: &C) -> anyhow::Result<Progress> {
		let mut next = self.next.lock().await;
		let mut tx = client.tx().await?;
		let nonce = tx.account_nonce(&self.account).await?.max(*next);
		let params = subxt::config::DefaultExtrinsicParamsBuilder::<Config>::new().nonce(nonce).build();
		match tx.sign_and_submit_then_watch(call, &self.signer, params).await {
			Ok(progress) => {
				*next = nonce.saturating_add(1);
				Ok(progress)
			},
			Err(e) => {
				*next = 0;
				Err(e.into())
			},
		}
	}

	/// [`Self::submit`], then waits until the call is in a finalized block
	/// and succeeded; returns its events (`what` names the call in errors).
	pub async fn submit_final<C: subxt::transactions::Payload>(
		&self,
		client: &Client,
		call: &C,
		what: &str,
	) -> anyhow::Result<subxt::extrinsics::ExtrinsicEvents<Config>> {
		self.submit(client, call)
			.await
			.map_err(|e| anyhow::anyhow!("{what}: {e}"))?
			.wait_for_finalized_success()
			.await
			.map_err(|e| anyhow::anyhow!("{what} failed: {e}"))
	}
}

/// A module error of the runtime described by `md` by name: `(pallet,
/// variant, docs)`; `None` for an error of another kind, or one the metadata
/// does not know.
pub fn module_error(
	md: &subxt::Metadata,
	e: &runtime::runtime_types::sp_runtime::DispatchError,
) -> Option<(String, String, String)> {
	use runtime::runtime_types::sp_runtime::DispatchError;
	let DispatchError::Module(m) = e else { return None };
	let p = md.pallet_by_error_index(m.index)?;
	let v = p.error_variant_by_index(m.error[0])?;
	Some((p.name().to_string(), v.name.clone(), v.docs.join(" ").trim().to_string()))
}

/// A dispatch error in words: `Pallet.Variant: docs` for a module error the
/// metadata knows, its debug form otherwise.
pub fn error_text(md: &subxt::Metadata, e: &runtime::runtime_types::sp_runtime::DispatchError) -> String {
	match module_error(md, e) {
		Some((pallet, name, docs)) => format!("{pallet}.{name}: {docs}"),
		None => format!("{e:?}"),
	}
}

/// Signs and submits `call`, waits until it is in a finalized block and succeeded;
/// returns its events. `what` names the call in the error (which carries the
/// pallet's error, e.g. `Jobs::InsufficientBalance`).
pub async fn submit_final<C: subxt::transactions::Payload>(
	client: &Client,
	call: &C,
	signer: &Keypair,
	what: &str,
) -> anyhow::Result<subxt::extrinsics::ExtrinsicEvents<Config>> {
	client
		.tx()
		.await?
		.sign_and_submit_then_watch_default(call, signer)
		.await
		.map_err(|e| anyhow::anyhow!("{what}: {e}"))?
		.wait_for_finalized_success()
		.await
		.map_err(|e| anyhow::anyhow!("{what} failed: {e}"))
}

/// [`submit_final`] with the nonce after every transaction of the signer
/// already in the node's pool (`system_accountNextIndex` over `rpc`), so that
/// it does not collide with another process signing for the same account: a
/// provider's command while its worker submits receipts and claims. Should
/// the other process still take the nonce first (the pool then refuses or
/// drops this one), it is signed again with the next nonce, up to 5 times.
pub async fn submit_final_after_pool<C: subxt::transactions::Payload>(
	client: &Client,
	rpc: &subxt::rpcs::RpcClient,
	call: &C,
	signer: &Keypair,
	what: &str,
) -> anyhow::Result<subxt::extrinsics::ExtrinsicEvents<Config>> {
	let who = account(signer);
	let legacy = subxt::rpcs::LegacyRpcMethods::<subxt::config::RpcConfigFor<Config>>::new(rpc.clone());
	let mut tries = 0;
	loop {
		tries += 1;
		let pooled = legacy.system_account_next_index(&who).await.map_err(|e| anyhow::anyhow!("{what}: the pool's nonce: {e}"))?;
		let mut tx = client.tx().await?;
		let nonce = tx.account_nonce(&who).await?.max(pooled);
		let params = subxt::config::DefaultExtrinsicParamsBuilder::<Config>::new().nonce(nonce).build();
		let result = match tx.sign_and_submit_then_watch(call, signer, params).await {
			Ok(progress) => progress.wait_for_finalized_success().await.map_err(|e| e.to_string()),
			Err(e) => Err(e.to_string()),
		};
		match result {
			Ok(events) => return Ok(events),
			Err(e) if tries < 5 && nonce_taken(&e) => {
				tracing::warn!(nonce, error = %e, "{what}: another transaction of the account took the nonce; signing again");
				tokio::time::sleep(Duration::from_secs(3)).await;
			},
			Err(e) => anyhow::bail!("{what} failed: {e}"),
		}
	}
}

/// Whether a submission failed because another transaction of the account
/// took its nonce (the pool's words for it).
fn nonce_taken(error: &str) -> bool {
	["priority of the transaction is too low", "rendered invalid by another extrinsic", "Transaction is outdated"]
		.iter()
		.any(|m| error.contains(m))
}

/// Runs `f` again, up to 5 times a second apart, while it fails because this
/// library cannot yet build its view of the head the node told it of
/// ("cannot find the block header": on a busy node the new head is announced
/// before it is served). Any other outcome is returned as it is. Only for
/// steps that are safe to repeat: one that fails after a transaction went
/// through must find that transaction's effect on the next try.
pub async fn retry_unseen_head<T, F, Fut>(f: F) -> anyhow::Result<T>
where
	F: FnMut() -> Fut,
	Fut: std::future::Future<Output = anyhow::Result<T>>,
{
	retry_unseen_head_every(Duration::from_secs(1), f).await
}

async fn retry_unseen_head_every<T, F, Fut>(wait: Duration, mut f: F) -> anyhow::Result<T>
where
	F: FnMut() -> Fut,
	Fut: std::future::Future<Output = anyhow::Result<T>>,
{
	let mut tries = 0;
	loop {
		match f().await {
			Err(e) if tries < 5 && head_unseen(&e) => {
				tries += 1;
				tracing::warn!(error = %format!("{e:#}"), "the node's head is not served yet; trying again");
				tokio::time::sleep(wait).await;
			},
			r => return r,
		}
	}
}

/// Whether `e` is this library not finding the header of a block the node
/// announced.
fn head_unseen(e: &anyhow::Error) -> bool {
	format!("{e:#}").contains("cannot find the block header")
}

/// The fee (and tip) a submitted transaction paid, from its events.
pub fn fee_paid(events: &subxt::extrinsics::ExtrinsicEvents<Config>) -> anyhow::Result<u128> {
	let ev = events
		.find_first::<runtime::transaction_payment::events::TransactionFeePaid>()
		.transpose()?
		.ok_or_else(|| anyhow::anyhow!("no TransactionFeePaid event"))?;
	Ok(ev.actual_fee.saturating_add(ev.tip))
}

#[cfg(test)]
mod tests {
	use super::*;
	use std::sync::atomic::{AtomicU32, Ordering};

	#[tokio::test]
	async fn an_unseen_head_is_tried_again_and_nothing_else_is() {
		let calls = AtomicU32::new(0);
		let wait = Duration::from_millis(1);
		// Twice unseen, then served: the third try's answer.
		let r = retry_unseen_head_every(wait, || {
			let k = calls.fetch_add(1, Ordering::SeqCst);
			async move {
				if k < 2 {
					anyhow::bail!("at the current block: cannot find the block header 0xabcd")
				}
				Ok(k)
			}
		})
		.await;
		assert_eq!(r.unwrap(), 2);
		assert_eq!(calls.load(Ordering::SeqCst), 3);
		// Any other error comes back at once.
		calls.store(0, Ordering::SeqCst);
		let r: anyhow::Result<()> = retry_unseen_head_every(wait, || {
			calls.fetch_add(1, Ordering::SeqCst);
			async { anyhow::bail!("models.open_offer failed: Models::TooManyOffers") }
		})
		.await;
		assert!(r.unwrap_err().to_string().contains("TooManyOffers"));
		assert_eq!(calls.load(Ordering::SeqCst), 1);
		// A head that never shows: given up after 5 more tries, with its error.
		calls.store(0, Ordering::SeqCst);
		let r: anyhow::Result<()> = retry_unseen_head_every(wait, || {
			calls.fetch_add(1, Ordering::SeqCst);
			async { anyhow::bail!("cannot find the block header") }
		})
		.await;
		assert!(r.is_err());
		assert_eq!(calls.load(Ordering::SeqCst), 6);
	}
}
