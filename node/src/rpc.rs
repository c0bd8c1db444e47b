//! The node's RPC extensions, beside the standard Substrate set that
//! `sc-service` installs (chain, state, author, system, chainHead, …):
//! `system_accountNextIndex`, `payment_*`, and the `agora_*` methods
//! ([`crate::agora_rpc`]).

use std::sync::Arc;

use agora_runtime::{opaque::Block, AccountId, Balance, BlockNumber, Nonce};
use jsonrpsee::RpcModule;
use sc_transaction_pool_api::TransactionPool;
use sp_api::ProvideRuntimeApi;
use sp_block_builder::BlockBuilder;
use sp_blockchain::{Error as BlockChainError, HeaderBackend, HeaderMetadata};

/// What the RPC extensions need.
pub struct FullDeps<C, P> {
	pub client: Arc<C>,
	pub pool: Arc<P>,
}

/// Builds the RPC extensions.
pub fn create_full<C, P>(
	deps: FullDeps<C, P>,
) -> Result<RpcModule<()>, Box<dyn std::error::Error + Send + Sync>>
where
	C: ProvideRuntimeApi<Block>
		+ HeaderBackend<Block>
		+ HeaderMetadata<Block, Error = BlockChainError>
		+ Send
		+ Sync
		+ 'static,
	C::Api: substrate_frame_rpc_system::AccountNonceApi<Block, AccountId, Nonce>,
	C::Api: pallet_transaction_payment_rpc::TransactionPaymentRuntimeApi<Block, Balance>,
	C::Api: BlockBuilder<Block>,
	C::Api: agora_primitives::api::AgoraModelsApi<Block, AccountId, Balance, BlockNumber>,
	C::Api: agora_primitives::api::AgoraJobsApi<Block, AccountId>,
	C::Api: agora_primitives::api::AgoraDiscoveryApi<Block, AccountId, Balance>,
	C::Api: agora_primitives::api::AgoraPassesApi<Block, AccountId, Balance, BlockNumber>,
	P: TransactionPool + 'static,
{
	use pallet_transaction_payment_rpc::{TransactionPayment, TransactionPaymentApiServer};
	use substrate_frame_rpc_system::{System, SystemApiServer};

	let mut module = RpcModule::new(());
	let FullDeps { client, pool } = deps;
	module.merge(System::new(client.clone(), pool).into_rpc())?;
	module.merge(TransactionPayment::new(client.clone()).into_rpc())?;
	module.merge(crate::agora_rpc::AgoraApiServer::into_rpc(crate::agora_rpc::Agora::new(client)))?;
	Ok(module)
}
