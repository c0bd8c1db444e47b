//! The marketplace pallets: provider bonds (`pallet-slashing`) and the model
//! registry with offers (`pallet-models`).

use frame_support::{parameter_types, PalletId};
use sp_runtime::traits::AccountIdConversion;

use crate::{AccountId, Balance, Balances, BlockNumber, Models, Runtime, RuntimeEvent, RuntimeHoldReason, AGR, DAYS};

parameter_types! {
	/// The smallest active bond that lets a provider serve: 1,000 AGR.
	pub const MinProviderStake: Balance = 1_000 * AGR;
	/// Blocks between `unbond` and `withdraw_unbonded` (7 days; the dev preset
	/// sets a short period in genesis).
	pub const DefaultUnbondingPeriod: BlockNumber = 7 * DAYS;
	pub const MaxUnlockingChunks: u32 = 16;
	/// The treasury's account (the same one `pallet-treasury` will use).
	pub const TreasuryPalletId: PalletId = PalletId(*b"py/trsry");
	pub TreasuryAccount: AccountId = TreasuryPalletId::get().into_account_truncating();
}

impl pallet_slashing::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type MinProviderStake = MinProviderStake;
	type DefaultUnbondingPeriod = DefaultUnbondingPeriod;
	type MaxUnlockingChunks = MaxUnlockingChunks;
	type Treasury = TreasuryAccount;
	/// Until `pallet-jobs` lands, no provider has open jobs.
	type OpenJobs = ();
	type OnBondBelowMinimum = Models;
	type WeightInfo = pallet_slashing::weights::SubstrateWeight<Runtime>;
}

parameter_types! {
	pub const MaxModels: u32 = 1_024;
	pub const MaxOffersPerProvider: u32 = 32;
	pub const MaxEndpointLen: u32 = 256;
	pub const MaxHardwareLen: u32 = 64;
	pub const MaxCapacity: u32 = 1_024;
	pub const MaxTokensPerJob: u32 = 8_192;
}

impl pallet_models::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type Bonds = crate::Slashing;
	type MaxModels = MaxModels;
	type MaxOffersPerProvider = MaxOffersPerProvider;
	type MaxEndpointLen = MaxEndpointLen;
	type MaxHardwareLen = MaxHardwareLen;
	type MaxCapacity = MaxCapacity;
	type MaxTokensPerJob = MaxTokensPerJob;
	type WeightInfo = pallet_models::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = BondHelper;
}

/// Bonds a provider for the models benchmarks.
#[cfg(feature = "runtime-benchmarks")]
pub struct BondHelper;
#[cfg(feature = "runtime-benchmarks")]
impl pallet_models::BenchmarkHelper<AccountId> for BondHelper {
	fn bond(who: &AccountId) {
		use frame_support::traits::fungible::Mutate;
		let stake = MinProviderStake::get();
		let _ = Balances::set_balance(who, stake.saturating_mul(10));
		let _ = crate::Slashing::bond(frame_system::RawOrigin::Signed(who.clone()).into(), stake);
	}
}
