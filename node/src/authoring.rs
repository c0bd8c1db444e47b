//! Block authoring that stands aside while the runtime has disabled this
//! validator.
//!
//! A validator that committed an offence (an equivocation) may be disabled by
//! staking's disabling strategy, and `pallet-babe` refuses a block it
//! authors: its `on_finalize` panics ("Validator with index … is disabled and
//! should not be attempting to author blocks"), after the node has spent the
//! slot building the block. BABE's slot worker still claims the disabled
//! validator's slots (it knows nothing of disabling), so this wraps the
//! proposer: before building on a parent whose state lists the slot's author
//! as disabled (`Session::DisabledValidators`, the set `pallet-babe` checks),
//! it declines at once with a plain error, which the slot worker logs as a
//! failed proposal, and the slot passes to the next author as it would anyway.
use std::{future::Future, pin::Pin, sync::Arc};

use agora_runtime::opaque::Block;
use sp_runtime::codec::Decode;
use sc_client_api::StorageProvider;
use sp_consensus::{Environment, Proposal, ProposeArgs, Proposer};
use sp_consensus_babe::digests::CompatibleDigestItem;

type Hash = <Block as sp_runtime::traits::Block>::Hash;

/// The node's database backend.
type Backend = sc_service::TFullBackend<Block>;

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// The storage key of `Session::DisabledValidators`:
/// `twox128("Session") ++ twox128("DisabledValidators")`.
fn disabled_key() -> sp_core::storage::StorageKey {
	let mut k = sp_io::hashing::twox_128(b"Session").to_vec();
	k.extend_from_slice(&sp_io::hashing::twox_128(b"DisabledValidators"));
	sp_core::storage::StorageKey(k)
}

/// Whether `authority` is disabled in the state after block `at`. The value is
/// `Vec<(validator index, offence severity as parts per billion)>`; a value
/// that does not decode (a later layout) counts as not disabled, so the node
/// then behaves as a stock one.
pub fn is_disabled<C: StorageProvider<Block, Backend>>(client: &C, at: Hash, authority: u32) -> bool {
	client
		.storage(at, &disabled_key())
		.ok()
		.flatten()
		.and_then(|v| Vec::<(u32, u32)>::decode(&mut &v.0[..]).ok())
		.is_some_and(|set| set.iter().any(|(i, _)| *i == authority))
}

/// `inner`, standing aside while the slot's author is disabled.
pub struct SkipWhileDisabled<E, C> {
	pub inner: E,
	pub client: Arc<C>,
}

/// The proposer of [`SkipWhileDisabled`].
pub struct DisabledAwareProposer<P, C> {
	inner: P,
	client: Arc<C>,
	parent: Hash,
}

impl<E, C> Environment<Block> for SkipWhileDisabled<E, C>
where
	E: Environment<Block>,
	E::CreateProposer: Send + 'static,
	C: StorageProvider<Block, Backend> + Send + Sync + 'static,
{
	type Proposer = DisabledAwareProposer<E::Proposer, C>;
	type CreateProposer = BoxFuture<Result<Self::Proposer, Self::Error>>;
	type Error = E::Error;

	fn init(&mut self, parent_header: &<Block as sp_runtime::traits::Block>::Header) -> Self::CreateProposer {
		let (client, parent) = (self.client.clone(), parent_header.hash());
		let inner = self.inner.init(parent_header);
		Box::pin(async move { Ok(DisabledAwareProposer { inner: inner.await?, client, parent }) })
	}
}

impl<P, C> Proposer<Block> for DisabledAwareProposer<P, C>
where
	P: Proposer<Block>,
	C: StorageProvider<Block, Backend> + Send + Sync + 'static,
{
	type Error = P::Error;
	type Proposal = BoxFuture<Result<Proposal<Block>, Self::Error>>;

	fn propose(self, args: ProposeArgs<Block>) -> Self::Proposal {
		let author = args
			.inherent_digests
			.logs()
			.iter()
			.find_map(|d| CompatibleDigestItem::as_babe_pre_digest(d))
			.map(|pre| (pre.authority_index(), pre.slot()));
		if let Some((index, slot)) = author {
			if is_disabled(&*self.client, self.parent, index) {
				let why = format!(
					"authority {index} is disabled by the runtime (an offence this era): not authoring in slot {slot}"
				);
				log::info!(target: "agora-authoring", "{why}");
				let err: Box<dyn std::error::Error + Send + Sync> = why.into();
				return Box::pin(async move { Err(sp_consensus::Error::Other(err).into()) });
			}
		}
		Box::pin(self.inner.propose(args))
	}
}
