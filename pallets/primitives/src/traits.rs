//! The small traits through which Agora's pallets talk to each other, so that no
//! pallet reads another's storage.

use sp_runtime::{DispatchError, Perbill};

/// Why a provider's bond is slashed.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	codec::Encode,
	codec::Decode,
	codec::DecodeWithMemTracking,
	codec::MaxEncodedLen,
	scale_info::TypeInfo,
)]
pub enum SlashReason {
	/// An assigned job got no receipt by its deadline.
	MissedDeadline,
	/// A receipt was judged fraudulent by the verification committee.
	Fraud,
	/// The provider did not serve an output to the committee.
	Withholding,
}

/// How much of a slash went where.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct SlashOutcome<Balance> {
	/// The total taken from the bond.
	pub slashed: Balance,
	/// The part paid to the treasury.
	pub to_treasury: Balance,
	/// The part paid to the challenger, if any.
	pub to_challenger: Balance,
}

/// Provider bonds, as other pallets see them (implemented by `pallet-slashing`).
pub trait ProviderBonds<AccountId> {
	/// The balance type.
	type Balance;

	/// The provider's active bond (not counting funds that are unbonding).
	fn active_bond(who: &AccountId) -> Self::Balance;

	/// Whether the provider's active bond is at least the minimum provider stake.
	fn is_bonded(who: &AccountId) -> bool;

	/// Slashes `fraction` of the provider's whole bond (active and unbonding).
	///
	/// `challenger` is paid its share of the slashed amount; the rest goes to the
	/// treasury. A provider left below the minimum stake has its offers paused.
	fn slash(
		who: &AccountId,
		reason: SlashReason,
		fraction: Perbill,
		challenger: Option<(AccountId, Perbill)>,
	) -> Result<SlashOutcome<Self::Balance>, DispatchError>;

	/// Slashes exactly `amount`; fails, moving nothing, if the bond is smaller.
	fn slash_exact(
		who: &AccountId,
		reason: SlashReason,
		amount: Self::Balance,
		challenger: Option<(AccountId, Perbill)>,
	) -> Result<SlashOutcome<Self::Balance>, DispatchError>;
}

/// How many jobs a provider has open (implemented by `pallet-jobs`). Unbonding is
/// refused while this is non-zero.
pub trait OpenJobs<AccountId> {
	/// Jobs assigned to `who` that are not finished.
	fn open_jobs(who: &AccountId) -> u32;
}

impl<AccountId> OpenJobs<AccountId> for () {
	fn open_jobs(_: &AccountId) -> u32 {
		0
	}
}

/// Told when a provider's active bond falls below the minimum (implemented by
/// `pallet-models`, which pauses the provider's offers).
pub trait OnBondBelowMinimum<AccountId> {
	/// `who`'s active bond is now below the minimum provider stake.
	fn bond_below_minimum(who: &AccountId);
}

impl<AccountId> OnBondBelowMinimum<AccountId> for () {
	fn bond_below_minimum(_: &AccountId) {}
}
