//! Reports BABE equivocations (one authority, two blocks for one slot) with
//! proofs the runtime accepts.
//!
//! `sc-consensus-babe` 0.60 (polkadot-sdk stable2609) checks for equivocations
//! in its block import, after its verifier has moved each block's seal into
//! `post_digests`: the proofs it builds hold unsealed headers, and
//! `pallet-babe` rejects every one (`babe.InvalidEquivocationProof`: it checks
//! the offender's signature on both headers). This block import sits in front
//! of BABE's in the import queue, sees the same verified blocks, puts the seal
//! back on each header and keeps recent headers by slot; on a second header
//! from the same authority in the same slot it submits the report (key
//! ownership proven against the historical session) through the runtime's
//! `BabeApi` to the local transaction pool, as BABE's own reporter would.
//! Usually its report reaches the pool first and BABE's broken one, with the
//! same tag, is refused there; when BABE's reaches a block first, it fails
//! there (`InvalidEquivocationProof`) and this one is accepted after it.

use std::{
	collections::BTreeMap,
	sync::{Arc, Mutex},
};

use sc_consensus::{BlockCheckParams, BlockImport, BlockImportParams, ImportResult};
use sc_transaction_pool_api::OffchainTransactionPoolFactory;
use sp_api::{ApiExt, ProvideRuntimeApi};
use sp_blockchain::HeaderBackend;
use sp_consensus::BlockOrigin;
use sp_consensus_babe::{AuthorityId, BabeApi, EquivocationProof, Slot};
use sp_core::crypto::ByteArray;
use sp_keystore::KeystorePtr;
use sp_runtime::traits::{Block as BlockT, Header as _};

const LOG_TARGET: &str = "agora-babe-equivocation";
/// Slots of headers kept (an hour of 3-second slots); older slots are dropped.
const KEEP_SLOTS: u64 = 1_200;

/// Recent sealed headers by slot, and the (slot, authority) pairs reported.
struct Seen<H> {
	by_slot: BTreeMap<Slot, Vec<(u32, H)>>,
	reported: BTreeMap<Slot, Vec<u32>>,
}

/// A block import that reports BABE equivocations, then imports through `inner`.
pub struct ReportEquivocations<B: BlockT, C, I> {
	inner: I,
	client: Arc<C>,
	keystore: KeystorePtr,
	pool: OffchainTransactionPoolFactory<B>,
	seen: Arc<Mutex<Seen<B::Header>>>,
}

impl<B: BlockT, C, I> ReportEquivocations<B, C, I> {
	pub fn new(
		inner: I,
		client: Arc<C>,
		keystore: KeystorePtr,
		pool: OffchainTransactionPoolFactory<B>,
	) -> Self {
		let seen = Seen { by_slot: BTreeMap::new(), reported: BTreeMap::new() };
		Self { inner, client, keystore, pool, seen: Arc::new(Mutex::new(seen)) }
	}
}

impl<B, C, I> ReportEquivocations<B, C, I>
where
	B: BlockT,
	C: ProvideRuntimeApi<B> + HeaderBackend<B>,
	C::Api: BabeApi<B>,
{
	/// Notes a verified block's sealed header; reports an equivocation it reveals.
	fn check(&self, block: &BlockImportParams<B>) {
		if matches!(block.origin, BlockOrigin::NetworkInitialSync | BlockOrigin::Genesis) {
			return;
		}
		let Ok(pre) = sc_consensus_babe::find_pre_digest::<B>(&block.header) else { return };
		// The header as its author signed and sealed it.
		let mut sealed = block.header.clone();
		match block.post_digests.last() {
			Some(seal) => sealed.digest_mut().push(seal.clone()),
			None => return,
		}
		let (slot, index) = (pre.slot(), pre.authority_index());
		let sealed_hash = sealed.hash();
		let first = {
			let Ok(mut seen) = self.seen.lock() else { return };
			let cutoff = Slot::from(u64::from(slot).saturating_sub(KEEP_SLOTS));
			seen.by_slot = seen.by_slot.split_off(&cutoff);
			seen.reported = seen.reported.split_off(&cutoff);
			if seen.reported.get(&slot).is_some_and(|r| r.contains(&index)) {
				return;
			}
			let headers = seen.by_slot.entry(slot).or_default();
			let Some(first) = headers
				.iter()
				.find(|(i, h)| *i == index && h.hash() != sealed_hash)
				.map(|(_, h)| h.clone())
			else {
				headers.push((index, sealed.clone()));
				return;
			};
			seen.reported.entry(slot).or_default().push(index);
			first
		};
		if let Err(e) = self.report(slot, index, first, sealed, *block.header.parent_hash()) {
			log::warn!(target: LOG_TARGET, "Could not report the BABE equivocation at slot {slot}: {e}");
		}
	}

	fn report(
		&self,
		slot: Slot,
		index: u32,
		first: B::Header,
		second: B::Header,
		parent: B::Hash,
	) -> Result<(), String> {
		let api = self.client.runtime_api();
		// The authority set of the slot's epoch (the block may open the next one).
		let epoch = api.current_epoch(parent).map_err(|e| e.to_string())?;
		let epoch = if u64::from(slot) >= u64::from(epoch.start_slot).saturating_add(epoch.duration)
		{
			api.next_epoch(parent).map_err(|e| e.to_string())?
		} else {
			epoch
		};
		let offender: AuthorityId = epoch
			.authorities
			.get(index as usize)
			.map(|(a, _)| a.clone())
			.ok_or_else(|| format!("no authority {index} in the epoch"))?;
		if self.keystore.has_keys(&[(offender.to_raw_vec(), sp_consensus_babe::KEY_TYPE)]) {
			log::warn!(target: LOG_TARGET, "Not reporting our own BABE equivocation at slot {slot}");
			return Ok(());
		}
		let best = self.client.info().best_hash;
		// A runtime API instance calls into one block only: a new one for `best`.
		let Some(key_owner_proof) = self
			.client
			.runtime_api()
			.generate_key_ownership_proof(best, slot, offender.clone())
			.map_err(|e| e.to_string())?
		else {
			return Err("the runtime gave no key ownership proof".into());
		};
		let proof = EquivocationProof {
			offender: offender.clone(),
			slot,
			first_header: first,
			second_header: second,
		};
		let mut api = self.client.runtime_api();
		api.register_extension(self.pool.offchain_transaction_pool(best));
		api.submit_report_equivocation_unsigned_extrinsic(best, proof, key_owner_proof)
			.map_err(|e| e.to_string())?;
		log::info!(target: LOG_TARGET, "Reported BABE equivocation by {offender:?} at slot {slot}");
		Ok(())
	}
}

impl<B: BlockT, C, I: Clone> Clone for ReportEquivocations<B, C, I> {
	fn clone(&self) -> Self {
		Self {
			inner: self.inner.clone(),
			client: self.client.clone(),
			keystore: self.keystore.clone(),
			pool: self.pool.clone(),
			seen: self.seen.clone(),
		}
	}
}

#[async_trait::async_trait]
impl<B, C, I> BlockImport<B> for ReportEquivocations<B, C, I>
where
	B: BlockT,
	C: ProvideRuntimeApi<B> + HeaderBackend<B> + Send + Sync,
	C::Api: BabeApi<B>,
	I: BlockImport<B> + Send + Sync,
{
	type Error = I::Error;

	async fn check_block(&self, block: BlockCheckParams<B>) -> Result<ImportResult, Self::Error> {
		self.inner.check_block(block).await
	}

	async fn import_block(&self, block: BlockImportParams<B>) -> Result<ImportResult, Self::Error> {
		self.check(&block);
		self.inner.import_block(block).await
	}
}
