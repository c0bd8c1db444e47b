//! Constants more than one area's configuration uses. This module imports
//! nothing from its siblings, so the configuration files depend on it and on
//! each other without a circle (docs/architecture.md):
//! `constants` ← `system` ← `governance` ← `params` ← `marketplace`;
//! `governance` ← `liveness` ← `consensus`; `governance` ← `staking`.
//!
//! Storage bounds change only with a runtime upgrade; governed values live in
//! `configs::params`.

use frame_support::{parameter_types, PalletId};
use sp_runtime::traits::AccountIdConversion;

use crate::{AccountId, EPOCH_DURATION_IN_SLOTS};

/// Most validators a session can have (BABE, GRANDPA, staking's election,
/// the jobs pallet's committee pool).
pub const MAX_AUTHORITIES: u32 = 100;

/// A fast-epoch genesis's BABE epoch: 10 slots (30 s), instead of
/// [`EPOCH_DURATION_IN_SLOTS`] (10 minutes).
pub const FAST_EPOCH_SLOTS: u64 = 10;

/// How long an equivocation report stays valid in the pool, in blocks.
pub const REPORT_LONGEVITY: u64 = 28 * 6 * EPOCH_DURATION_IN_SLOTS;

/// Storage bound of inline job input; `MAX_INPUT_LEN` is at most this.
pub const MAX_INPUT_BOUND: u32 = 16 * 1024;
/// Storage bound of a committee; `COMMITTEE_SIZE` is at most this.
pub const MAX_COMMITTEE_BOUND: u32 = 15;
/// `ABUSE_N`: a client's last 10 ratings are looked at (a storage bound).
pub const ABUSE_WINDOW: u32 = 10;
/// The longest `DISPUTE_WINDOW` or `SERVED_DISPUTE_WINDOW` governance may set
/// (a day). A closed offer's signer is kept this long and an hour more
/// (`OfferRetention`), so every paid answer it signed while open stays
/// disputable.
pub const MAX_DISPUTE_WINDOW: crate::BlockNumber = crate::DAYS;

parameter_types! {
	/// Nominators paid per validator page (staking), and the most nominators
	/// BABE and GRANDPA count per validator in equivocation proofs.
	pub const MaxExposurePageSize: u32 = 64;
	/// The treasury's pallet id: `pallet-treasury`'s account, which fees,
	/// slashes and the protocol fee are paid to.
	pub const TreasuryPalletId: PalletId = PalletId(*b"py/trsry");
	/// The treasury's account.
	pub TreasuryAccount: AccountId = TreasuryPalletId::get().into_account_truncating();
}
