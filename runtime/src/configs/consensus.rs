//! BABE (block production), GRANDPA (finality), session, and the `agora`
//! session key validators sign verification votes with (`pallet-verification` keeps
//! the session's `agora` keys: it is the key's session handler).

use alloc::vec::Vec;
use frame_support::{
	parameter_types,
	traits::{ConstU32, Get},
};

use super::{
	constants::{MaxExposurePageSize, FAST_EPOCH_SLOTS, MAX_AUTHORITIES, REPORT_LONGEVITY},
	governance::origins::FastEpochs,
};
use crate::{
	opaque::SessionKeys, AccountId, Babe, Balances, Historical, Offences, Runtime, RuntimeEvent,
	EPOCH_DURATION_IN_SLOTS, MILLISECS_PER_BLOCK,
};

/// BABE's epoch length in slots, fixed at genesis: [`EPOCH_DURATION_IN_SLOTS`]
/// (10 minutes), or [`FAST_EPOCH_SLOTS`] where the genesis set `fast_epochs`.
pub struct EpochDuration;
impl Get<u64> for EpochDuration {
	fn get() -> u64 {
		if FastEpochs::<Runtime>::get() {
			FAST_EPOCH_SLOTS
		} else {
			EPOCH_DURATION_IN_SLOTS
		}
	}
}

parameter_types! {
	/// How long an equivocation report stays valid in the pool, in blocks.
	pub const ReportLongevity: u64 = REPORT_LONGEVITY;
}

/// BABE equivocation reports: checked against the historical session, reported
/// to `pallet-offences` (staking slashes them).
pub type BabeEquivocation =
	pallet_babe::EquivocationReportSystem<Runtime, Offences, Historical, ReportLongevity>;
/// GRANDPA equivocation reports, likewise.
pub type GrandpaEquivocation =
	pallet_grandpa::EquivocationReportSystem<Runtime, Offences, Historical, ReportLongevity>;

parameter_types! {
	pub const ExpectedBlockTime: u64 = MILLISECS_PER_BLOCK;
	/// GRANDPA keeps set-id → session entries for a bonding period of sessions.
	pub const MaxSetIdSessionEntries: u64 = 28 * 6;
}

impl pallet_babe::Config for Runtime {
	/// 10 minutes, or 30 s on a fast-epoch genesis.
	type EpochDuration = EpochDuration;
	type ExpectedBlockTime = ExpectedBlockTime;
	/// Epochs change when the session pallet rotates sessions.
	type EpochChangeTrigger = pallet_babe::ExternalTrigger;
	type DisabledValidators = crate::Session;
	type WeightInfo = ();
	type MaxAuthorities = ConstU32<MAX_AUTHORITIES>;
	type MaxNominators = MaxExposurePageSize;
	/// Equivocations are proven against the historical session and reported as
	/// offences (staking slashes them).
	type KeyOwnerProof = sp_session::MembershipProof;
	type EquivocationReportSystem = BabeEquivocation;
}

impl pallet_grandpa::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = ();
	type MaxAuthorities = ConstU32<MAX_AUTHORITIES>;
	type MaxNominators = MaxExposurePageSize;
	type MaxSetIdSessionEntries = MaxSetIdSessionEntries;
	type KeyOwnerProof = sp_session::MembershipProof;
	type EquivocationReportSystem = GrandpaEquivocation;
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
