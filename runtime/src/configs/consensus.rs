//! BABE (block production), GRANDPA (finality), session, and the `agora`
//! session key validators sign verification votes with.

use alloc::vec::Vec;
use frame_support::{parameter_types, traits::ConstU32};
use sp_runtime::{traits::ConvertInto, BoundToRuntimeAppPublic};

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

/// The `agora` session key's handler.
///
/// Session keeps every validator's `agora` key (its `NextKeys` and `KeyOwner`
/// storage), which is all the verification votes need to check who signed; this
/// handler only binds the key type into the session keys.
pub struct AgoraKeys;

impl BoundToRuntimeAppPublic for AgoraKeys {
	type Public = agora_primitives::AgoraAuthorityId;
}

impl frame_support::traits::OneSessionHandler<AccountId> for AgoraKeys {
	type Key = agora_primitives::AgoraAuthorityId;

	fn on_genesis_session<'a, I: 'a>(_validators: I)
	where
		I: Iterator<Item = (&'a AccountId, Self::Key)>,
	{
	}

	fn on_new_session<'a, I: 'a>(_changed: bool, _validators: I, _queued: I)
	where
		I: Iterator<Item = (&'a AccountId, Self::Key)>,
	{
	}

	fn on_disabled(_validator_index: u32) {}
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
