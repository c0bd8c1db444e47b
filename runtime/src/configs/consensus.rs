//! BABE (block production), GRANDPA (finality), session, and the `agora`
//! session key validators sign verification votes with (`pallet-jobs` keeps
//! the session's `agora` keys: it is the key's session handler).

use alloc::vec::Vec;
use frame_support::{parameter_types, traits::ConstU32};
use sp_runtime::traits::ConvertInto;

use crate::{
	opaque::SessionKeys, AccountId, Babe, Balances, Runtime, RuntimeEvent,
	EPOCH_DURATION_IN_SLOTS, MILLISECS_PER_BLOCK,
};

/// Most validators a session can have.
pub const MAX_AUTHORITIES: u32 = 100;

parameter_types! {
	pub const EpochDuration: u64 = EPOCH_DURATION_IN_SLOTS;
	pub const ExpectedBlockTime: u64 = MILLISECS_PER_BLOCK;
}

impl pallet_babe::Config for Runtime {
	type EpochDuration = EpochDuration;
	type ExpectedBlockTime = ExpectedBlockTime;
	/// Epochs change when the session pallet rotates sessions.
	type EpochChangeTrigger = pallet_babe::ExternalTrigger;
	type DisabledValidators = crate::Session;
	type WeightInfo = ();
	type MaxAuthorities = ConstU32<MAX_AUTHORITIES>;
	type MaxNominators = ConstU32<0>;
	/// Equivocation reporting arrives with staking (issue 8); until then there is
	/// no key-ownership proof to check.
	type KeyOwnerProof = sp_core::Void;
	type EquivocationReportSystem = ();
}

impl pallet_grandpa::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = ();
	type MaxAuthorities = ConstU32<MAX_AUTHORITIES>;
	type MaxNominators = ConstU32<0>;
	type MaxSetIdSessionEntries = frame_support::traits::ConstU64<0>;
	type KeyOwnerProof = sp_core::Void;
	type EquivocationReportSystem = ();
}

parameter_types! {
	/// Nothing is held when a validator sets session keys.
	pub const SessionKeyDeposit: crate::Balance = 0;
}

impl pallet_session::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type ValidatorId = AccountId;
	type ValidatorIdOf = ConvertInto;
	/// Sessions follow BABE epochs.
	type ShouldEndSession = Babe;
	type NextSessionRotation = Babe;
	/// The validator set is fixed at genesis until NPoS staking (issue 8) elects it.
	type SessionManager = ();
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
