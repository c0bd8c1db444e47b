//! # Slashing: provider bonds
//!
//! ## Overview
//! Providers bond stake before they may open offers (docs/protocol.md §2, §3 Register). The
//! bond is held on the provider's account with `fungible::MutateHold` under
//! [`HoldReason::ProviderBond`]:
//! - [`Pallet::bond`], [`Pallet::bond_extra`] add to it;
//! - [`Pallet::unbond`] moves part of it into an unlocking chunk, refused while the
//!   provider has open jobs (read through [`agora_primitives::OpenJobs`]);
//! - [`Pallet::withdraw_unbonded`] releases chunks once `UnbondingPeriod` passed.
//!
//! Other pallets slash through [`agora_primitives::ProviderBonds`]: for
//! `MissedDeadline`, `Fraud` or `Withholding`. Slashed funds go to the treasury
//! account, less an optional challenger share. A provider whose active bond falls
//! below `MinProviderStake` is reported to [`Config::OnBondBelowMinimum`], which
//! pauses its offers.
//!
//! ## Assumptions
//! - Unlocking funds stay held and slashable until withdrawn.
//! - The treasury account exists (it is endowed at genesis), so slashes smaller
//!   than the existential deposit can still be paid into it.
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;
pub mod types;
pub mod weights;

pub use types::*;
pub use weights::WeightInfo;

// FRAME's pallet macros expand to `expect` calls attributed to this module;
// hand-written code here uses none (the before-stop check greps for them).
#[allow(clippy::expect_used, clippy::unwrap_used)]
#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use agora_primitives::{OnBondBelowMinimum, OpenJobs, SlashOutcome, SlashReason};
	use frame_support::{
		pallet_prelude::*,
		traits::{
			fungible::{Inspect, InspectHold, MutateHold},
			tokens::{Fortitude, Precision, Restriction},
		},
	};
	use frame_system::pallet_prelude::*;
	use sp_runtime::{
		traits::{CheckedAdd, CheckedSub, Saturating, Zero},
		Perbill,
	};

	/// The balance type of the currency.
	pub type BalanceOf<T> =
		<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;
	/// A provider's bond record.
	pub type BondOf<T> = Bond<BalanceOf<T>, BlockNumberFor<T>, <T as Config>::MaxUnlockingChunks>;

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	/// Defaults for a test runtime's [`Config`] (`#[derive_impl(config_preludes::TestDefaultConfig)]`):
	/// the values no test cares about; a mock sets the rest.
	pub mod config_preludes {
		use super::*;
		use frame_support::derive_impl;

		/// Unbonding in 10 blocks, 4 chunks, no open jobs, nobody told of a low bond.
		pub struct TestDefaultConfig;

		#[derive_impl(frame_system::config_preludes::TestDefaultConfig, no_aggregated_types)]
		impl frame_system::DefaultConfig for TestDefaultConfig {}

		#[frame_support::register_default_impl(TestDefaultConfig)]
		impl DefaultConfig for TestDefaultConfig {
			#[inject_runtime_type]
			type RuntimeEvent = ();
			#[inject_runtime_type]
			type RuntimeHoldReason = ();
			type UnbondingPeriod = frame_support::traits::ConstU64<10>;
			type MaxUnlockingChunks = ConstU32<4>;
			type OpenJobs = ();
			type OnBondBelowMinimum = ();
			type WeightInfo = ();
		}
	}

	#[pallet::config(with_default)]
	pub trait Config: frame_system::Config {
		/// The overarching event type.
		#[pallet::no_default_bounds]
		#[allow(deprecated)]
		type RuntimeEvent: From<Event<Self>> + IsType<<Self as frame_system::Config>::RuntimeEvent>;
		/// The currency bonds are held in.
		#[pallet::no_default]
		type Currency: MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>;
		/// The runtime's hold reasons.
		#[pallet::no_default_bounds]
		type RuntimeHoldReason: From<HoldReason>;
		/// The smallest active bond that lets a provider serve.
		#[pallet::no_default]
		#[pallet::constant]
		type MinProviderStake: Get<BalanceOf<Self>>;
		/// `UNBONDING_PERIOD`: blocks between `unbond` and `withdraw_unbonded` (a
		/// governed parameter; a chunk keeps the period it was unbonded under).
		#[pallet::no_default_bounds]
		type UnbondingPeriod: Get<BlockNumberFor<Self>>;
		/// Most unlocking chunks a provider may have at once.
		#[pallet::constant]
		type MaxUnlockingChunks: Get<u32>;
		/// Where slashed funds go.
		#[pallet::no_default]
		type Treasury: Get<Self::AccountId>;
		/// Open jobs per provider; unbonding waits for zero.
		#[pallet::no_default_bounds]
		type OpenJobs: OpenJobs<Self::AccountId>;
		/// Told when a provider's active bond drops below the minimum.
		#[pallet::no_default_bounds]
		type OnBondBelowMinimum: OnBondBelowMinimum<Self::AccountId>;
		/// Weights of the calls.
		type WeightInfo: WeightInfo;
	}

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// A provider's bond.
		ProviderBond,
	}

	/// Every bonded provider's bond.
	#[pallet::storage]
	pub type Bonds<T: Config> = StorageMap<_, Blake2_128Concat, T::AccountId, BondOf<T>>;

	/// Genesis: initial provider bonds.
	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// (provider, amount) bonds; each must be at least the minimum stake.
		pub bonds: alloc::vec::Vec<(T::AccountId, BalanceOf<T>)>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			for (who, amount) in &self.bonds {
				if let Err(e) = Pallet::<T>::bond(frame_system::RawOrigin::Signed(who.clone()).into(), *amount) {
					panic!("genesis bond is invalid: {e:?}");
				}
			}
		}
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// `provider` bonded `amount` for the first time.
		Bonded { provider: T::AccountId, amount: BalanceOf<T> },
		/// `provider` added `amount`; `active` is its new active bond.
		BondedExtra { provider: T::AccountId, amount: BalanceOf<T>, active: BalanceOf<T> },
		/// `provider` started unbonding `amount`, withdrawable from block `until`.
		Unbonded {
			provider: T::AccountId,
			amount: BalanceOf<T>,
			until: BlockNumberFor<T>,
			active: BalanceOf<T>,
		},
		/// `provider` withdrew `amount` of unbonded funds, now free again.
		Withdrawn { provider: T::AccountId, amount: BalanceOf<T> },
		/// `provider` was slashed `amount` for `reason`: `to_treasury` to the
		/// treasury, `to_challenger` to `challenger`.
		Slashed {
			provider: T::AccountId,
			reason: SlashReason,
			amount: BalanceOf<T>,
			to_treasury: BalanceOf<T>,
			challenger: Option<T::AccountId>,
			to_challenger: BalanceOf<T>,
		},
		/// `provider`'s active bond fell below the minimum stake; its offers are paused.
		BelowMinimum { provider: T::AccountId, active: BalanceOf<T> },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The account already has a bond; use `bond_extra`.
		AlreadyBonded,
		/// The account has no bond.
		NotBonded,
		/// A first bond must be at least `MinProviderStake`.
		BelowMinimumStake,
		/// The amount must be above zero.
		ZeroAmount,
		/// The free balance cannot cover the amount.
		InsufficientBalance,
		/// Unbonding more than the active bond.
		InsufficientActiveBond,
		/// The provider has open jobs; unbond after they finish.
		HasOpenJobs,
		/// Too many unlocking chunks; withdraw the finished ones first.
		TooManyUnlockingChunks,
		/// No unlocking chunk has reached its block yet.
		UnbondingNotFinished,
		/// Nothing is unbonding.
		NothingToWithdraw,
		/// The slash is larger than the whole bond.
		SlashExceedsBond,
		/// Arithmetic overflow.
		Overflow,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			assert!(T::MaxUnlockingChunks::get() > 0, "MaxUnlockingChunks must be positive");
			assert!(!T::MinProviderStake::get().is_zero(), "MinProviderStake must be positive");
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Bond `amount` as a provider for the first time.
		///
		/// - Origin: signed, the provider.
		/// - Emits [`Event::Bonded`].
		/// - Errors: [`Error::AlreadyBonded`], [`Error::BelowMinimumStake`],
		///   [`Error::InsufficientBalance`].
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::bond())]
		pub fn bond(origin: OriginFor<T>, #[pallet::compact] amount: BalanceOf<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			ensure!(!Bonds::<T>::contains_key(&who), Error::<T>::AlreadyBonded);
			ensure!(amount >= T::MinProviderStake::get(), Error::<T>::BelowMinimumStake);
			Self::ensure_can_hold(&who, amount)?;

			T::Currency::hold(&HoldReason::ProviderBond.into(), &who, amount)?;
			Bonds::<T>::insert(&who, Bond { active: amount, unlocking: Default::default() });
			Self::deposit_event(Event::Bonded { provider: who, amount });
			Ok(())
		}

		/// Add `amount` to an existing bond.
		///
		/// - Origin: signed, a bonded provider.
		/// - Emits [`Event::BondedExtra`].
		/// - Errors: [`Error::NotBonded`], [`Error::ZeroAmount`],
		///   [`Error::InsufficientBalance`], [`Error::Overflow`].
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::bond_extra())]
		pub fn bond_extra(
			origin: OriginFor<T>,
			#[pallet::compact] amount: BalanceOf<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut bond = Bonds::<T>::get(&who).ok_or(Error::<T>::NotBonded)?;
			ensure!(!amount.is_zero(), Error::<T>::ZeroAmount);
			bond.active = bond.active.checked_add(&amount).ok_or(Error::<T>::Overflow)?;
			Self::ensure_can_hold(&who, amount)?;

			T::Currency::hold(&HoldReason::ProviderBond.into(), &who, amount)?;
			let active = bond.active;
			Bonds::<T>::insert(&who, bond);
			Self::deposit_event(Event::BondedExtra { provider: who, amount, active });
			Ok(())
		}

		/// Start unbonding `amount`; it can be withdrawn after `UnbondingPeriod`
		/// blocks and stays slashable until then. Offers are paused if the active
		/// bond falls below the minimum.
		///
		/// - Origin: signed, a bonded provider with no open jobs.
		/// - Emits [`Event::Unbonded`], and [`Event::BelowMinimum`] if it applies.
		/// - Errors: [`Error::NotBonded`], [`Error::ZeroAmount`],
		///   [`Error::InsufficientActiveBond`], [`Error::HasOpenJobs`],
		///   [`Error::TooManyUnlockingChunks`], [`Error::Overflow`].
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::unbond())]
		pub fn unbond(origin: OriginFor<T>, #[pallet::compact] amount: BalanceOf<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut bond = Bonds::<T>::get(&who).ok_or(Error::<T>::NotBonded)?;
			ensure!(!amount.is_zero(), Error::<T>::ZeroAmount);
			ensure!(T::OpenJobs::open_jobs(&who) == 0, Error::<T>::HasOpenJobs);
			bond.active =
				bond.active.checked_sub(&amount).ok_or(Error::<T>::InsufficientActiveBond)?;
			let until = frame_system::Pallet::<T>::block_number()
				.checked_add(&T::UnbondingPeriod::get())
				.ok_or(Error::<T>::Overflow)?;
			bond.unlocking
				.try_push(UnlockChunk { value: amount, until })
				.map_err(|_| Error::<T>::TooManyUnlockingChunks)?;

			let active = bond.active;
			Bonds::<T>::insert(&who, bond);
			Self::deposit_event(Event::Unbonded { provider: who.clone(), amount, until, active });
			Self::check_minimum(&who, active);
			Ok(())
		}

		/// Release every unlocking chunk whose period has passed. The bond record
		/// is removed once nothing is left in it.
		///
		/// - Origin: signed, a bonded provider.
		/// - Emits [`Event::Withdrawn`].
		/// - Errors: [`Error::NotBonded`], [`Error::NothingToWithdraw`],
		///   [`Error::UnbondingNotFinished`].
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::withdraw_unbonded(T::MaxUnlockingChunks::get()))]
		pub fn withdraw_unbonded(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut bond = Bonds::<T>::get(&who).ok_or(Error::<T>::NotBonded)?;
			ensure!(!bond.unlocking.is_empty(), Error::<T>::NothingToWithdraw);
			let now = frame_system::Pallet::<T>::block_number();
			let mut amount = BalanceOf::<T>::zero();
			bond.unlocking.retain(|c| {
				if c.until <= now {
					amount = amount.saturating_add(c.value); // bounded by the held total
					false
				} else {
					true
				}
			});
			ensure!(!amount.is_zero(), Error::<T>::UnbondingNotFinished);

			T::Currency::release(&HoldReason::ProviderBond.into(), &who, amount, Precision::Exact)?;
			if bond.active.is_zero() && bond.unlocking.is_empty() {
				Bonds::<T>::remove(&who);
			} else {
				Bonds::<T>::insert(&who, bond);
			}
			Self::deposit_event(Event::Withdrawn { provider: who, amount });
			Ok(())
		}
	}

	impl<T: Config> Pallet<T> {
		fn ensure_can_hold(who: &T::AccountId, amount: BalanceOf<T>) -> DispatchResult {
			let reason = HoldReason::ProviderBond.into();
			ensure!(
				T::Currency::ensure_can_hold(&reason, who, amount).is_ok(),
				Error::<T>::InsufficientBalance
			);
			Ok(())
		}

		fn check_minimum(who: &T::AccountId, active: BalanceOf<T>) {
			if active < T::MinProviderStake::get() {
				T::OnBondBelowMinimum::bond_below_minimum(who);
				Self::deposit_event(Event::BelowMinimum { provider: who.clone(), active });
			}
		}

		/// The whole bond: active plus unlocking.
		pub fn total_bond(bond: &BondOf<T>) -> BalanceOf<T> {
			bond.unlocking.iter().fold(bond.active, |acc, c| acc.saturating_add(c.value))
		}

		/// Takes `amount` out of the bond (active first, then the newest unlocking
		/// chunks) and pays it to the challenger's share and the treasury.
		fn do_slash(
			who: &T::AccountId,
			reason: SlashReason,
			amount: BalanceOf<T>,
			challenger: Option<(T::AccountId, Perbill)>,
		) -> Result<SlashOutcome<BalanceOf<T>>, DispatchError> {
			let mut bond = Bonds::<T>::get(who).ok_or(Error::<T>::NotBonded)?;
			ensure!(amount <= Self::total_bond(&bond), Error::<T>::SlashExceedsBond);

			let mut rest = amount;
			let from_active = rest.min(bond.active);
			bond.active = bond.active.saturating_sub(from_active);
			rest = rest.saturating_sub(from_active);
			for chunk in bond.unlocking.iter_mut().rev() {
				let take = rest.min(chunk.value);
				chunk.value = chunk.value.saturating_sub(take);
				rest = rest.saturating_sub(take);
			}
			bond.unlocking.retain(|c| !c.value.is_zero());

			let to_challenger = challenger.as_ref().map(|(_, share)| share.mul_floor(amount)).unwrap_or_default();
			let to_treasury = amount.saturating_sub(to_challenger);
			let hold = HoldReason::ProviderBond.into();
			let pay = |dest: &T::AccountId, value: BalanceOf<T>| -> DispatchResult {
				if !value.is_zero() {
					T::Currency::transfer_on_hold(
						&hold,
						who,
						dest,
						value,
						Precision::Exact,
						Restriction::Free,
						Fortitude::Force,
					)?;
				}
				Ok(())
			};
			if let Some((c, _)) = &challenger {
				pay(c, to_challenger)?;
			}
			pay(&T::Treasury::get(), to_treasury)?;

			let active = bond.active;
			if bond.active.is_zero() && bond.unlocking.is_empty() {
				Bonds::<T>::remove(who);
			} else {
				Bonds::<T>::insert(who, bond);
			}
			Self::deposit_event(Event::Slashed {
				provider: who.clone(),
				reason,
				amount,
				to_treasury,
				challenger: challenger.map(|(c, _)| c),
				to_challenger,
			});
			Self::check_minimum(who, active);
			Ok(SlashOutcome { slashed: amount, to_treasury, to_challenger })
		}

		/// Invariants, checked after every test and by `try-runtime`:
		/// - every bond's held balance equals its recorded total (active + unlocking);
		/// - no bond record is empty;
		/// - unlocking chunks are non-zero and within `MaxUnlockingChunks` (by type).
		#[cfg(any(feature = "try-runtime", feature = "std", test))]
		pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
			for (who, bond) in Bonds::<T>::iter() {
				let held = T::Currency::balance_on_hold(&HoldReason::ProviderBond.into(), &who);
				ensure!(held == Self::total_bond(&bond), "held bond differs from the recorded bond");
				ensure!(
					!(bond.active.is_zero() && bond.unlocking.is_empty()),
					"an empty bond record was left in storage"
				);
				ensure!(bond.unlocking.iter().all(|c| !c.value.is_zero()), "zero unlocking chunk");
			}
			Ok(())
		}
	}

	impl<T: Config> agora_primitives::ProviderBonds<T::AccountId> for Pallet<T> {
		type Balance = BalanceOf<T>;

		fn active_bond(who: &T::AccountId) -> BalanceOf<T> {
			Bonds::<T>::get(who).map(|b| b.active).unwrap_or_default()
		}

		fn is_bonded(who: &T::AccountId) -> bool {
			Self::active_bond(who) >= T::MinProviderStake::get()
		}

		fn slash(
			who: &T::AccountId,
			reason: SlashReason,
			fraction: Perbill,
			challenger: Option<(T::AccountId, Perbill)>,
		) -> Result<SlashOutcome<BalanceOf<T>>, DispatchError> {
			let bond = Bonds::<T>::get(who).ok_or(Error::<T>::NotBonded)?;
			let amount = fraction.mul_floor(Self::total_bond(&bond));
			Self::do_slash(who, reason, amount, challenger)
		}

		fn slash_exact(
			who: &T::AccountId,
			reason: SlashReason,
			amount: BalanceOf<T>,
			challenger: Option<(T::AccountId, Perbill)>,
		) -> Result<SlashOutcome<BalanceOf<T>>, DispatchError> {
			Self::do_slash(who, reason, amount, challenger)
		}
	}
}
