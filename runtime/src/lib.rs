//! # Agora runtime
//!
//! ## Overview
//! The state transition function of the Agora chain, a marketplace for verified AI
//! inference. This foundation wires the chain's base: `frame-system`, timestamp,
//! BABE (block production with VRF randomness, which provider selection needs),
//! GRANDPA (finality), session (with the `agora` key for verification votes),
//! balances (the `AGR` token), transaction payment, and sudo, whose key is set
//! only in the development preset.
//!
//! ## Layout
//! - [`configs`]: one file per area, every `impl X::Config for Runtime`;
//! - `apis.rs`: the runtime APIs Polkadot.js, subxt and the node use;
//! - [`genesis_config_presets`]: the `development` and `local_testnet` presets the
//!   chain specs are generated from.
#![cfg_attr(not(feature = "std"), no_std)]
#![recursion_limit = "512"]

extern crate alloc;

pub mod apis;
pub mod discovery;
pub mod configs;
pub mod genesis_config_presets;
#[cfg(feature = "runtime-benchmarks")]
mod benchmarks;
#[cfg(test)]
mod tests;
#[cfg(all(test, feature = "try-runtime"))]
mod tests_upgrade;

use alloc::vec::Vec;
use sp_runtime::{
	generic, impl_opaque_keys,
	traits::{BlakeTwo256, IdentifyAccount, Verify},
	MultiAddress, MultiSignature,
};
use sp_version::{runtime_version, RuntimeVersion};

pub use agora_primitives::{Balance, AGR, MILLI_AGR, SS58_PREFIX, TOKEN_DECIMALS, TOKEN_SYMBOL};
pub use frame_system::Call as SystemCall;
pub use pallet_balances::Call as BalancesCall;
#[cfg(any(feature = "std", test))]
pub use sp_runtime::BuildStorage;

/// Block number.
pub type BlockNumber = u32;
/// Transaction signature.
pub type Signature = MultiSignature;
/// Account id: the public key of the signing scheme.
pub type AccountId = <<Signature as Verify>::Signer as IdentifyAccount>::AccountId;
/// Account nonce.
pub type Nonce = u32;
/// Hash type.
pub type Hash = sp_core::H256;

/// Opaque types for the node, which must not depend on runtime internals.
pub mod opaque {
	use super::*;
	pub use sp_runtime::OpaqueExtrinsic as UncheckedExtrinsic;

	/// Opaque block header.
	pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
	/// Opaque block.
	pub type Block = generic::Block<Header, UncheckedExtrinsic>;

	impl_opaque_keys! {
		/// The session keys of a validator: BABE (block production), GRANDPA
		/// (finality) and `agora` (verification votes, key type `agra`).
		pub struct SessionKeys {
			pub babe: Babe,
			pub grandpa: Grandpa,
			pub agora: Verification,
		}
	}
}

/// The runtime's version.
#[runtime_version]
pub const VERSION: RuntimeVersion = RuntimeVersion {
	spec_name: alloc::borrow::Cow::Borrowed("agora"),
	impl_name: alloc::borrow::Cow::Borrowed("agora"),
	authoring_version: 1,
	spec_version: 106,
	impl_version: 1,
	apis: apis::RUNTIME_API_VERSIONS,
	transaction_version: 1,
	system_version: 1,
};

/// Target block time. BABE slots are this long.
pub const MILLISECS_PER_BLOCK: u64 = 3_000;
/// Slot duration (one block per slot, on average).
pub const SLOT_DURATION: u64 = MILLISECS_PER_BLOCK;
/// Blocks per minute.
pub const MINUTES: BlockNumber = 60_000 / (MILLISECS_PER_BLOCK as BlockNumber);
/// Blocks per hour.
pub const HOURS: BlockNumber = MINUTES * 60;
/// Blocks per day.
pub const DAYS: BlockNumber = HOURS * 24;
/// Length of a BABE epoch (and of a session) in slots. Fixed at genesis.
pub const EPOCH_DURATION_IN_SLOTS: u64 = 10 * MINUTES as u64;
/// BABE's chance that a slot has a primary (VRF-lottery) author: 1/4. Slots
/// without one get a secondary VRF author, so every block carries VRF output.
pub const PRIMARY_PROBABILITY: (u64, u64) = (1, 4);
/// BABE's genesis epoch configuration.
pub const BABE_GENESIS_EPOCH_CONFIG: sp_consensus_babe::BabeEpochConfiguration =
	sp_consensus_babe::BabeEpochConfiguration {
		c: PRIMARY_PROBABILITY,
		allowed_slots: sp_consensus_babe::AllowedSlots::PrimaryAndSecondaryVRFSlots,
	};

/// Existential deposit: 1 milli-AGR. Non-zero, so dust accounts are reaped.
pub const EXISTENTIAL_DEPOSIT: Balance = MILLI_AGR;

#[frame_support::runtime]
mod runtime {
	#[runtime::runtime]
	#[runtime::derive(
		RuntimeCall,
		RuntimeEvent,
		RuntimeError,
		RuntimeOrigin,
		RuntimeFreezeReason,
		RuntimeHoldReason,
		RuntimeSlashReason,
		RuntimeLockId,
		RuntimeTask,
		RuntimeViewFunction
	)]
	pub struct Runtime;

	#[runtime::pallet_index(0)]
	// accounts, blocks, events, runtime upgrades (configs/system.rs)
	pub type System = frame_system;
	#[runtime::pallet_index(1)]
	// block time, checked against the BABE slot (configs/system.rs)
	pub type Timestamp = pallet_timestamp;
	#[runtime::pallet_index(2)]
	// block production and the VRF output AVRF and audits read (configs/consensus.rs)
	pub type Babe = pallet_babe;
	#[runtime::pallet_index(3)]
	// finality (configs/consensus.rs)
	pub type Grandpa = pallet_grandpa;
	#[runtime::pallet_index(4)]
	// the AGR token; holds for bonds, escrow and dispute bonds (configs/monetary.rs)
	pub type Balances = pallet_balances;
	#[runtime::pallet_index(5)]
	// fees, burned (configs/monetary.rs)
	pub type TransactionPayment = pallet_transaction_payment;
	// Staking's genesis (the first election) must be built before Session's:
	// genesis is built in pallet-index order.
	#[runtime::pallet_index(6)]
	// block authors, for era points (configs/staking.rs)
	pub type Authorship = pallet_authorship;
	#[runtime::pallet_index(7)]
	// NPoS: bonds, elections, rewards, slashes (configs/staking.rs)
	pub type Staking = pallet_staking;
	#[runtime::pallet_index(8)]
	// equivocation offences to staking slashes (configs/staking.rs)
	pub type Offences = pallet_offences;
	#[runtime::pallet_index(9)]
	// past validator sets, for key-ownership proofs (configs/staking.rs)
	pub type Historical = pallet_session::historical;
	#[runtime::pallet_index(10)]
	// validator sets and session keys babe, grandpa, agora (configs/consensus.rs)
	pub type Session = pallet_session;
	#[runtime::pallet_index(11)]
	// key set on the development chain only (configs/governance)
	pub type Sudo = pallet_sudo;
	#[runtime::pallet_index(12)]
	// provider bonds, unbonding, slashing (configs/marketplace.rs)
	pub type Slashing = pallet_slashing;
	#[runtime::pallet_index(13)]
	// model registry and offers (configs/marketplace.rs)
	pub type Models = pallet_models;
	#[runtime::pallet_index(14)]
	// per-job payment holds, settlement and dispute bonds (configs/marketplace.rs)
	pub type Escrow = pallet_escrow;
	// Hooks run in pallet-index order, so Jobs' (15) run before these (26):
	// Jobs asks for the draws due first (`ReceiptChecks::run_draws`), so a
	// receipt's audit draw in its finalization block comes before it.
	#[runtime::pallet_index(26)]
	// audit draws, committees, votes, disputes, verdicts (configs/verification.rs)
	pub type Verification = pallet_verification;
	#[runtime::pallet_index(15)]
	// orders, AVRF assignment, receipts, settlement, expiry, ratings (configs/marketplace.rs)
	pub type Jobs = pallet_jobs;
	#[runtime::pallet_index(16)]
	// provider scores, review abuse (configs/marketplace.rs)
	pub type Reputation = pallet_reputation;
	#[runtime::pallet_index(17)]
	// proposed calls (configs/governance)
	pub type Preimage = pallet_preimage;
	#[runtime::pallet_index(18)]
	// enacts approved referenda (configs/governance)
	pub type Scheduler = pallet_scheduler;
	#[runtime::pallet_index(19)]
	// conviction-weighted votes (configs/governance)
	pub type ConvictionVoting = pallet_conviction_voting;
	#[runtime::pallet_index(20)]
	// root and market_params tracks (configs/governance/tracks.rs)
	pub type Referenda = pallet_referenda;
	#[runtime::pallet_index(21)]
	// runtime-local: the MarketParams origin, FastTracks, FastEpochs (configs/governance/origins.rs)
	pub type Origins = configs::governance::origins::pallet_custom_origins;
	#[runtime::pallet_index(22)]
	// receives fees and slashes; spends by root referendum (configs/governance)
	pub type Treasury = pallet_treasury;
	#[runtime::pallet_index(23)]
	// the governed marketplace parameters (configs/params.rs)
	pub type Parameters = pallet_parameters;
	#[runtime::pallet_index(24)]
	// runtime-local: bounds-checked writes into Parameters (configs/params.rs)
	pub type MarketParams = configs::params::pallet_market_params;
	#[runtime::pallet_index(25)]
	// runtime-local: chills validators that author nothing (configs/liveness.rs)
	pub type Liveness = configs::liveness::pallet_liveness;
	#[runtime::pallet_index(27)]
	// payment channels with lanes: open, fund, claim vouchers in batches, reclaim (configs/marketplace.rs)
	pub type Channels = pallet_channels;
	#[runtime::pallet_index(28)]
	// service passes: stake for a quota of requests, providers paid from issuance by work (configs/marketplace.rs)
	pub type Passes = pallet_passes;
}

/// Address format.
pub type Address = MultiAddress<AccountId, ()>;
/// Block header.
pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
/// Block.
pub type Block = generic::Block<Header, UncheckedExtrinsic>;
/// The transaction extensions, checked in this order on every signed transaction.
pub type TxExtension = (
	frame_system::CheckNonZeroSender<Runtime>,
	frame_system::CheckSpecVersion<Runtime>,
	frame_system::CheckTxVersion<Runtime>,
	frame_system::CheckGenesis<Runtime>,
	frame_system::CheckEra<Runtime>,
	frame_system::CheckNonce<Runtime>,
	frame_system::CheckWeight<Runtime>,
	pallet_transaction_payment::ChargeTransactionPayment<Runtime>,
);
/// Unchecked extrinsic.
pub type UncheckedExtrinsic =
	generic::UncheckedExtrinsic<Address, RuntimeCall, Signature, TxExtension>;
/// The payload that is signed.
pub type SignedPayload = generic::SignedPayload<RuntimeCall, TxExtension>;

/// Off-chain workers build bare (unsigned) extrinsics: committee votes.
impl<C> frame_system::offchain::CreateTransactionBase<C> for Runtime
where
	RuntimeCall: From<C>,
{
	type Extrinsic = UncheckedExtrinsic;
	type RuntimeCall = RuntimeCall;
}

impl<C> frame_system::offchain::CreateBare<C> for Runtime
where
	RuntimeCall: From<C>,
{
	fn create_bare(call: RuntimeCall) -> UncheckedExtrinsic {
		UncheckedExtrinsic::new_bare(call)
	}
}

/// Migrations to run on upgrade, besides the pallets' own, each gated by its
/// pallet's storage version (it runs once, on the upgrade that finds the old
/// version). A migration stays listed until every chain has run it; an old
/// chain spec that predates it (`provider-worker/tests/fixtures/`) shows the
/// upgrade applying it.
pub type Migrations = (
	// spec_version 101: closed offers lose `closed_at`.
	pallet_models::migrations::v1::MigrateV0ToV1<Runtime>,
	// spec_version 102: the job queues and audit draws become sets per block,
	// drained by cursors within a share of the block's weight.
	pallet_jobs::migrations::v1::MigrateV0ToV1<Runtime>,
	pallet_verification::migrations::v1::MigrateV0ToV1<Runtime>,
	// spec_version 103: a channel records what was paid out of its claims
	// (`paid`; claims no longer move funds), `paid = claimed` for the old ones.
	pallet_channels::migrations::v1::MigrateV0ToV1<Runtime>,
	// spec_version 104 adds `jobs.submit_jobs` (batched orders); 105 pays
	// out what `on_initialize` left due from `on_idle`; 106 charges each
	// audit draw by its outcome. No storage changes, so no migration.
);
/// Dispatches calls to the pallets.
pub type Executive = frame_executive::Executive<
	Runtime,
	Block,
	frame_system::ChainContext<Runtime>,
	Runtime,
	AllPalletsWithSystem,
	Migrations,
>;
