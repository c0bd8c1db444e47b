//! OpenGov (docs/protocol.md §9): token holders change parameters by referendum.
//!
//! - `pallet-preimage` keeps proposed calls (a held deposit per byte);
//! - `pallet-referenda` runs referenda on the tracks in [`tracks`]: `root` for
//!   anything, `market_params` for the marketplace's parameters (the
//!   [`origins::MarketParams`] origin, which may call `marketParams.set`);
//! - `pallet-conviction-voting` counts conviction-weighted votes (locks);
//! - `pallet-scheduler` enacts approved calls;
//! - `pallet-treasury` holds protocol fees and slashes (the account the
//!   marketplace pallets already pay into) and spends by root referendum.
//!
//! Sudo stays in the runtime for the development chain only: only the
//! development preset sets a key; on `local` and every other chain it has none.

pub mod origins;
pub mod tracks;

use crate::{
	configs::{
		constants::{TreasuryAccount, TreasuryPalletId},
		system::RuntimeBlockWeights,
	},
	AccountId, Balance, Balances, BlockNumber, OriginCaller, Preimage, Referenda, Runtime, RuntimeCall,
	RuntimeEvent, RuntimeHoldReason, RuntimeOrigin, Scheduler, System, Treasury, AGR, DAYS, MILLI_AGR,
};
use frame_support::{
	parameter_types,
	traits::{
		fungible::HoldConsideration,
		tokens::{pay::PayFromAccount, UnityAssetBalanceConversion},
		ConstU32, EitherOf, EqualPrivilegeOnly, LinearStoragePrice,
	},
	weights::Weight,
};
use frame_system::{EnsureRoot, EnsureRootWithSuccess, EnsureSigned};
use sp_runtime::{traits::IdentityLookup, Perbill, Permill};

impl pallet_sudo::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeCall = RuntimeCall;
	type WeightInfo = pallet_sudo::weights::SubstrateWeight<Runtime>;
}

/// Who may change the marketplace's parameters: root (the `root` track) or a
/// `market_params` referendum.
pub type MarketParamsOrigin = EitherOf<EnsureRoot<AccountId>, origins::MarketParams>;

parameter_types! {
	pub const PreimageBaseDeposit: Balance = AGR;
	pub const PreimageByteDeposit: Balance = MILLI_AGR;
	pub const PreimageHoldReason: RuntimeHoldReason =
		RuntimeHoldReason::Preimage(pallet_preimage::HoldReason::Preimage);
}

impl pallet_preimage::Config for Runtime {
	type WeightInfo = pallet_preimage::weights::SubstrateWeight<Runtime>;
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type ManagerOrigin = EnsureRoot<AccountId>;
	type Consideration = HoldConsideration<
		AccountId,
		Balances,
		PreimageHoldReason,
		LinearStoragePrice<PreimageBaseDeposit, PreimageByteDeposit, Balance>,
	>;
}

parameter_types! {
	/// Enacted calls may use up to 80 % of a block.
	pub MaximumSchedulerWeight: Weight = {
		let max = RuntimeBlockWeights::get().max_block;
		let share = Perbill::from_percent(80);
		Weight::from_parts(share.mul_floor(max.ref_time()), share.mul_floor(max.proof_size()))
	};
}

impl pallet_scheduler::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeOrigin = RuntimeOrigin;
	type PalletsOrigin = OriginCaller;
	type RuntimeCall = RuntimeCall;
	type MaximumWeight = MaximumSchedulerWeight;
	type ScheduleOrigin = EnsureRoot<AccountId>;
	type OriginPrivilegeCmp = EqualPrivilegeOnly;
	type MaxScheduledPerBlock = ConstU32<50>;
	type WeightInfo = pallet_scheduler::weights::SubstrateWeight<Runtime>;
	type Preimages = Preimage;
	type BlockNumberProvider = System;
}

parameter_types! {
	/// Votes stay locked 7 days per conviction doubling.
	pub const VoteLockingPeriod: BlockNumber = 7 * DAYS;
}

impl pallet_conviction_voting::Config for Runtime {
	type WeightInfo = pallet_conviction_voting::weights::SubstrateWeight<Runtime>;
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type Polls = Referenda;
	type MaxTurnout = frame_support::traits::tokens::currency::ActiveIssuanceOf<Balances, AccountId>;
	type MaxVotes = ConstU32<512>;
	type VoteLockingPeriod = VoteLockingPeriod;
	type BlockNumberProvider = System;
	type VotingHooks = ();
}

parameter_types! {
	/// Held from whoever submits a referendum, until it ends.
	pub const SubmissionDeposit: Balance = AGR;
	/// A referendum that never gets its decision deposit ends after 14 days.
	pub const UndecidingTimeout: BlockNumber = 14 * DAYS;
}

impl pallet_referenda::Config for Runtime {
	type WeightInfo = pallet_referenda::weights::SubstrateWeight<Runtime>;
	type RuntimeCall = RuntimeCall;
	type RuntimeEvent = RuntimeEvent;
	type Scheduler = Scheduler;
	type Currency = Balances;
	type SubmitOrigin = EnsureSigned<AccountId>;
	type CancelOrigin = EnsureRoot<AccountId>;
	type KillOrigin = EnsureRoot<AccountId>;
	type Slash = Treasury;
	type Votes = pallet_conviction_voting::VotesOf<Runtime>;
	type Tally = pallet_conviction_voting::TallyOf<Runtime>;
	type SubmissionDeposit = SubmissionDeposit;
	type MaxQueued = ConstU32<100>;
	type UndecidingTimeout = UndecidingTimeout;
	type AlarmInterval = ConstU32<1>;
	type Tracks = tracks::TracksInfo;
	type Preimages = Preimage;
	type BlockNumberProvider = System;
}

impl origins::pallet_custom_origins::Config for Runtime {}

parameter_types! {
	/// The treasury spends (what root referenda approved) once a day.
	pub const SpendPeriod: BlockNumber = DAYS;
	/// Nothing is burnt.
	pub const Burn: Permill = Permill::zero();
	pub const MaxApprovals: u32 = 64;
	/// An approved spend can be claimed for 30 days.
	pub const PayoutPeriod: BlockNumber = 30 * DAYS;
	pub const MaxSpend: Balance = Balance::MAX;
}

impl pallet_treasury::Config for Runtime {
	type Currency = Balances;
	type RejectOrigin = EnsureRoot<AccountId>;
	type RuntimeEvent = RuntimeEvent;
	type SpendPeriod = SpendPeriod;
	type Burn = Burn;
	/// The same account protocol fees and slashes are paid into.
	type PalletId = TreasuryPalletId;
	type BurnDestination = ();
	type WeightInfo = pallet_treasury::weights::SubstrateWeight<Runtime>;
	type SpendFunds = ();
	type MaxApprovals = MaxApprovals;
	type SpendOrigin = EnsureRootWithSuccess<AccountId, MaxSpend>;
	type AssetKind = ();
	type Beneficiary = AccountId;
	type BeneficiaryLookup = IdentityLookup<AccountId>;
	type Paymaster = PayFromAccount<Balances, TreasuryAccount>;
	type BalanceConverter = UnityAssetBalanceConversion;
	type PayoutPeriod = PayoutPeriod;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = ();
	type BlockNumberProvider = System;
}
