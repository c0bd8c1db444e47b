//! BABE (block production), GRANDPA (finality), session, and the `agora`
//! session key validators sign verification votes with (`pallet-jobs` keeps
//! the session's `agora` keys: it is the key's session handler).

use alloc::vec::Vec;
use frame_support::{parameter_types, traits::ConstU32};

use crate::{
	opaque::SessionKeys, AccountId, Babe, Balances, Runtime, RuntimeEvent,
	MILLISECS_PER_BLOCK,
};

/// Most validators a session can have.
pub const MAX_AUTHORITIES: u32 = 100;

parameter_types! {
	pub const ExpectedBlockTime: u64 = MILLISECS_PER_BLOCK;
	/// GRANDPA keeps set-id → session entries for a bonding period of sessions.
	pub const MaxSetIdSessionEntries: u64 = 28 * 6;
}

impl pallet_babe::Config for Runtime {
	/// 10 minutes, or 30 s on a fast-epoch genesis (`configs::staking`).
	type EpochDuration = super::staking::EpochDuration;
	type ExpectedBlockTime = ExpectedBlockTime;
	/// Epochs change when the session pallet rotates sessions.
	type EpochChangeTrigger = pallet_babe::ExternalTrigger;
	type DisabledValidators = crate::Session;
	type WeightInfo = ();
	type MaxAuthorities = ConstU32<MAX_AUTHORITIES>;
	type MaxNominators = super::staking::MaxExposurePageSize;
	/// Equivocations are proven against the historical session and reported as
	/// offences (staking slashes them).
	type KeyOwnerProof = sp_session::MembershipProof;
	type EquivocationReportSystem = super::staking::BabeEquivocation;
}

impl pallet_grandpa::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = ();
	type MaxAuthorities = ConstU32<MAX_AUTHORITIES>;
	type MaxNominators = super::staking::MaxExposurePageSize;
	type MaxSetIdSessionEntries = MaxSetIdSessionEntries;
	type KeyOwnerProof = sp_session::MembershipProof;
	type EquivocationReportSystem = super::staking::GrandpaEquivocation;
}

parameter_types! {
	/// Nothing is held when a validator sets session keys.
	pub const SessionKeyDeposit: crate::Balance = 0;
}

impl pallet_session::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type ValidatorId = AccountId;
	type ValidatorIdOf = sp_runtime::traits::ConvertInto;
	/// Sessions follow BABE epochs.
	type ShouldEndSession = Babe;
	type NextSessionRotation = Babe;
	/// Staking elects the validators each era; the historical session keeps
	/// past sessions' validator sets for equivocation proofs.
	/// Silent validators are chilled at each session's end (`configs::liveness`).
	type SessionManager = super::liveness::WithLiveness<
		pallet_session::historical::NoteHistoricalRoot<Self, crate::Staking>,
	>;
	type SessionHandler = <SessionKeys as sp_runtime::traits::OpaqueKeys>::KeyTypeIdProviders;
	type Keys = SessionKeys;
	type DisablingStrategy = pallet_session::disabling::UpToLimitDisablingStrategy;
	type WeightInfo = pallet_session::weights::SubstrateWeight<Runtime>;
	type Currency = Balances;
	type KeyDeposit = SessionKeyDeposit;
}

/// The session keys of a validator whose three keys derive from one dev seed.
pub fn session_keys(
	babe: sp_consensus_babe::AuthorityId,
	grandpa: sp_consensus_grandpa::AuthorityId,
	agora: agora_primitives::AgoraAuthorityId,
) -> SessionKeys {
	SessionKeys { babe, grandpa, agora }
}

/// Key type ids of the session keys, in order (for documentation and tests).
pub fn session_key_types() -> Vec<sp_core::crypto::KeyTypeId> {
	<SessionKeys as sp_runtime::traits::OpaqueKeys>::key_ids().to_vec()
}
