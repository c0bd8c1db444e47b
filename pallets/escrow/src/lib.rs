//! # Escrow: per-job payment holds
//!
//! ## Overview
//! When a client orders a job, `pallet-jobs` calls [`agora_primitives::JobEscrow::lock`]
//! and this pallet holds the job's `max_price` on the client's account under
//! [`HoldReason::JobEscrow`]. On finalization, [`agora_primitives::JobEscrow::settle`]
//! pays the charge out of the hold: `ProtocolFee` of it to the treasury, the
//! model's royalty to its publisher, the rest to the provider; what is left of
//! the hold is released back to the client. On expiry or cancellation,
//! [`agora_primitives::JobEscrow::refund`] releases it all.
//!
//! A challenger's dispute bond is held here too, under [`HoldReason::DisputeBond`]
//! ([`agora_primitives::DisputeBonds`], called by `pallet-verification`): returned
//! when the dispute finds fraud or no verdict, forfeited (part to the provider,
//! the rest to the treasury) when the receipt is upheld.
//!
//! The pallet has no calls of its own: it is the money side of `pallet-jobs` and
//! `pallet-verification`, behind traits so payment channels can sit behind the
//! same ones.
//!
//! ## Assumptions
//! - Job ids are unique (assigned by `pallet-jobs`).
//! - The treasury account exists, so fees below the existential deposit can be paid.
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;

#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;

// FRAME's pallet macros expand to `expect` calls attributed to this module;
// hand-written code here uses none (the before-stop check greps for them).
#[allow(clippy::expect_used, clippy::unwrap_used)]
#[frame_support::pallet]
pub mod pallet {
	use agora_primitives::{DisputeBonds, JobEscrow, JobId, Settlement};
	use frame_system::pallet_prelude::BlockNumberFor;
	use frame_support::{
		pallet_prelude::*,
		traits::{
			fungible::{Inspect, InspectHold, Mutate, MutateHold},
			tokens::{DepositConsequence, Fortitude, Precision, Preservation, Provenance, Restriction},
		},
	};
	use sp_runtime::{
		traits::{Saturating, Zero},
		Perbill, Permill,
	};

	/// The balance type of the currency.
	pub type BalanceOf<T> =
		<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	/// Defaults for a test runtime's [`Config`] (`#[derive_impl(config_preludes::TestDefaultConfig)]`):
	/// the values no test cares about; a mock sets the rest.
	pub mod config_preludes {
		use super::*;
		use frame_support::derive_impl;

		/// A 5 % protocol fee.
		pub struct TestDefaultConfig;

		#[derive_impl(frame_system::config_preludes::TestDefaultConfig, no_aggregated_types)]
		impl frame_system::DefaultConfig for TestDefaultConfig {}

		frame_support::parameter_types! {
			pub const ProtocolFee: Perbill = Perbill::from_percent(5);
		}

		#[frame_support::register_default_impl(TestDefaultConfig)]
		impl DefaultConfig for TestDefaultConfig {
			#[inject_runtime_type]
			type RuntimeEvent = ();
			#[inject_runtime_type]
			type RuntimeHoldReason = ();
			type ProtocolFee = ProtocolFee;
		}
	}

	#[pallet::config(with_default)]
	pub trait Config: frame_system::Config {
		/// The overarching event type.
		#[pallet::no_default_bounds]
		#[allow(deprecated)]
		type RuntimeEvent: From<Event<Self>> + IsType<<Self as frame_system::Config>::RuntimeEvent>;
		/// The currency escrow is held in.
		#[pallet::no_default]
		type Currency: MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>
			+ Mutate<Self::AccountId>;
		/// The runtime's hold reasons.
		#[pallet::no_default_bounds]
		type RuntimeHoldReason: From<HoldReason>;
		/// Share of every charge that goes to the treasury.
		#[pallet::constant]
		type ProtocolFee: Get<Perbill>;
		/// The treasury account.
		#[pallet::no_default]
		type Treasury: Get<Self::AccountId>;
	}

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// A job's maximum price, until the job is settled or refunded.
		JobEscrow,
		/// A challenger's bond, until its dispute's verdict.
		DisputeBond,
	}

	/// What each open job holds: (client, amount).
	#[pallet::storage]
	pub type Escrows<T: Config> =
		StorageMap<_, Twox64Concat, u64, (T::AccountId, BalanceOf<T>), OptionQuery>;

	/// The bond of each disputed job: (challenger, amount).
	#[pallet::storage]
	pub type Bonds<T: Config> =
		StorageMap<_, Twox64Concat, JobId, (T::AccountId, BalanceOf<T>), OptionQuery>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// `amount` of `client`'s funds are held for `job`.
		Locked { job: u64, client: T::AccountId, amount: BalanceOf<T> },
		/// `job` was paid: `to_provider`, `to_treasury` (fee), `to_publisher`
		/// (royalty, to `publisher` — the treasury when the royalty is too small
		/// to open an empty publisher account), and `refunded` back to `client`.
		Settled {
			job: u64,
			client: T::AccountId,
			provider: T::AccountId,
			to_provider: BalanceOf<T>,
			to_treasury: BalanceOf<T>,
			publisher: T::AccountId,
			to_publisher: BalanceOf<T>,
			refunded: BalanceOf<T>,
		},
		/// `job`'s whole escrow went back to `client`.
		Refunded { job: u64, client: T::AccountId, amount: BalanceOf<T> },
		/// `to_treasury` of `job`'s escrow went to the treasury (a charge nobody
		/// in the job earns: an input never delivered), `refunded` back to `client`.
		Forfeited { job: u64, client: T::AccountId, to_treasury: BalanceOf<T>, refunded: BalanceOf<T> },
		/// `client` paid a non-refundable `amount` to the treasury (a queue surcharge).
		FeeCharged { client: T::AccountId, amount: BalanceOf<T> },
		/// `amount` of `challenger`'s funds are held as the bond of its dispute of `job`.
		BondHeld { job: JobId, challenger: T::AccountId, amount: BalanceOf<T> },
		/// `job`'s dispute bond went back to `challenger`.
		BondReturned { job: JobId, challenger: T::AccountId, amount: BalanceOf<T> },
		/// `challenger` lost `job`'s dispute bond: `to_provider` to `provider`,
		/// `to_treasury` to the treasury.
		BondForfeited {
			job: JobId,
			challenger: T::AccountId,
			provider: T::AccountId,
			to_provider: BalanceOf<T>,
			to_treasury: BalanceOf<T>,
		},
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The job already has an escrow.
		AlreadyLocked,
		/// The job has no escrow.
		NoEscrow,
		/// The client cannot cover the amount.
		InsufficientBalance,
		/// The charge exceeds what is held.
		ChargeExceedsEscrow,
		/// The job already has a dispute bond.
		AlreadyBonded,
		/// The job has no dispute bond.
		NoBond,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	impl<T: Config> Pallet<T> {
		/// Invariants: for every client, the balance held under `JobEscrow`
		/// equals the sum of its escrows; for every challenger, the balance held
		/// under `DisputeBond` equals the sum of its bonds.
		#[cfg(any(feature = "try-runtime", feature = "std", test))]
		pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
			use alloc::collections::btree_map::BTreeMap;
			let sums = |it: &mut dyn Iterator<Item = (T::AccountId, BalanceOf<T>)>| {
				let mut m: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
				for (who, amount) in it {
					let e = m.entry(who).or_default();
					*e = e.saturating_add(amount);
				}
				m
			};
			for (client, sum) in sums(&mut Escrows::<T>::iter_values()) {
				let held = T::Currency::balance_on_hold(&HoldReason::JobEscrow.into(), &client);
				ensure!(held == sum, "held escrow differs from the sum of the client's escrows");
			}
			for (who, sum) in sums(&mut Bonds::<T>::iter_values()) {
				let held = T::Currency::balance_on_hold(&HoldReason::DisputeBond.into(), &who);
				ensure!(held == sum, "a held dispute bond differs from the sum of the challenger's bonds");
			}
			Ok(())
		}

		/// Pays `amount` of `from`'s balance held under `reason` to `to`; nothing
		/// for zero. Every payout of this pallet goes through here.
		fn pay_from_hold(
			reason: &T::RuntimeHoldReason,
			from: &T::AccountId,
			to: &T::AccountId,
			amount: BalanceOf<T>,
		) -> DispatchResult {
			if !amount.is_zero() {
				T::Currency::transfer_on_hold(
					reason,
					from,
					to,
					amount,
					Precision::Exact,
					Restriction::Free,
					Fortitude::Force,
				)?;
			}
			Ok(())
		}
	}

	impl<T: Config> JobEscrow<T::AccountId, BalanceOf<T>> for Pallet<T> {
		fn lock(job: u64, client: &T::AccountId, amount: BalanceOf<T>) -> DispatchResult {
			ensure!(!Escrows::<T>::contains_key(job), Error::<T>::AlreadyLocked);
			let reason = HoldReason::JobEscrow.into();
			ensure!(
				T::Currency::ensure_can_hold(&reason, client, amount).is_ok(),
				Error::<T>::InsufficientBalance
			);
			T::Currency::hold(&reason, client, amount)?;
			Escrows::<T>::insert(job, (client.clone(), amount));
			Self::deposit_event(Event::Locked { job, client: client.clone(), amount });
			Ok(())
		}

		fn settle(
			job: u64,
			provider: &T::AccountId,
			publisher: &T::AccountId,
			royalty_bps: u16,
			charge: BalanceOf<T>,
		) -> Result<Settlement<BalanceOf<T>>, DispatchError> {
			let (client, held) = Escrows::<T>::get(job).ok_or(Error::<T>::NoEscrow)?;
			ensure!(charge <= held, Error::<T>::ChargeExceedsEscrow);
			let to_treasury = T::ProtocolFee::get().mul_floor(charge);
			let royalty = Permill::from_parts(u32::from(royalty_bps).saturating_mul(100)).mul_floor(charge);
			// Fee and royalty together never exceed the charge (clamped: the provider
			// gets what is left, possibly nothing).
			let to_publisher = royalty.min(charge.saturating_sub(to_treasury));
			let to_provider = charge.saturating_sub(to_treasury).saturating_sub(to_publisher);
			let refunded = held.saturating_sub(charge);

			let reason = HoldReason::JobEscrow.into();
			let pay = |dest: &T::AccountId, amount| Self::pay_from_hold(&reason, &client, dest, amount);
			// A royalty too small to open the publisher's account (below the
			// existential deposit, publisher account empty) goes to the treasury
			// instead, so settlement never fails on dust.
			let treasury = T::Treasury::get();
			let royalty_to = if to_publisher.is_zero() ||
				T::Currency::can_deposit(publisher, to_publisher, Provenance::Extant) ==
					DepositConsequence::Success
			{
				publisher.clone()
			} else {
				treasury.clone()
			};
			pay(provider, to_provider)?;
			pay(&treasury, to_treasury)?;
			pay(&royalty_to, to_publisher)?;
			if !refunded.is_zero() {
				T::Currency::release(&reason, &client, refunded, Precision::Exact)?;
			}
			Escrows::<T>::remove(job);
			Self::deposit_event(Event::Settled {
				job,
				client,
				provider: provider.clone(),
				to_provider,
				to_treasury,
				publisher: publisher.clone(),
				to_publisher,
				refunded,
			});
			Ok(Settlement { to_provider, to_treasury, to_publisher, refunded })
		}

		fn refund(job: u64) -> Result<BalanceOf<T>, DispatchError> {
			let (client, amount) = Escrows::<T>::get(job).ok_or(Error::<T>::NoEscrow)?;
			T::Currency::release(&HoldReason::JobEscrow.into(), &client, amount, Precision::Exact)?;
			Escrows::<T>::remove(job);
			Self::deposit_event(Event::Refunded { job, client, amount });
			Ok(amount)
		}

		fn forfeit(job: u64, charge: BalanceOf<T>) -> Result<BalanceOf<T>, DispatchError> {
			let (client, held) = Escrows::<T>::get(job).ok_or(Error::<T>::NoEscrow)?;
			ensure!(charge <= held, Error::<T>::ChargeExceedsEscrow);
			let reason = HoldReason::JobEscrow.into();
			Self::pay_from_hold(&reason, &client, &T::Treasury::get(), charge)?;
			let refunded = held.saturating_sub(charge);
			if !refunded.is_zero() {
				T::Currency::release(&reason, &client, refunded, Precision::Exact)?;
			}
			Escrows::<T>::remove(job);
			Self::deposit_event(Event::Forfeited { job, client, to_treasury: charge, refunded });
			Ok(refunded)
		}

		fn charge_fee(client: &T::AccountId, amount: BalanceOf<T>) -> DispatchResult {
			if amount.is_zero() {
				return Ok(());
			}
			// A plain transfer that keeps the client's account alive.
			<T::Currency as Mutate<_>>::transfer(client, &T::Treasury::get(), amount, Preservation::Preserve)
				.map_err(|_| Error::<T>::InsufficientBalance)?;
			Self::deposit_event(Event::FeeCharged { client: client.clone(), amount });
			Ok(())
		}

		fn locked(job: u64) -> BalanceOf<T> {
			Escrows::<T>::get(job).map(|(_, a)| a).unwrap_or_default()
		}

		/// Iterates every escrow: for invariant checks only, never in a call.
		fn total_locked() -> BalanceOf<T> {
			Escrows::<T>::iter_values().fold(Zero::zero(), |a, (_, v)| a.saturating_add(v))
		}
	}

	impl<T: Config> DisputeBonds<T::AccountId, BalanceOf<T>> for Pallet<T> {
		fn hold_bond(job: JobId, challenger: &T::AccountId, amount: BalanceOf<T>) -> DispatchResult {
			ensure!(!Bonds::<T>::contains_key(job), Error::<T>::AlreadyBonded);
			let reason = HoldReason::DisputeBond.into();
			ensure!(
				T::Currency::ensure_can_hold(&reason, challenger, amount).is_ok(),
				Error::<T>::InsufficientBalance
			);
			T::Currency::hold(&reason, challenger, amount)?;
			Bonds::<T>::insert(job, (challenger.clone(), amount));
			Self::deposit_event(Event::BondHeld { job, challenger: challenger.clone(), amount });
			Ok(())
		}

		fn return_bond(job: JobId) -> Result<BalanceOf<T>, DispatchError> {
			let (challenger, amount) = Bonds::<T>::get(job).ok_or(Error::<T>::NoBond)?;
			T::Currency::release(&HoldReason::DisputeBond.into(), &challenger, amount, Precision::Exact)?;
			Bonds::<T>::remove(job);
			Self::deposit_event(Event::BondReturned { job, challenger, amount });
			Ok(amount)
		}

		fn forfeit_bond(
			job: JobId,
			provider: &T::AccountId,
			to_provider: Perbill,
		) -> Result<(BalanceOf<T>, BalanceOf<T>), DispatchError> {
			let (challenger, amount) = Bonds::<T>::get(job).ok_or(Error::<T>::NoBond)?;
			let p = to_provider.mul_floor(amount);
			let t = amount.saturating_sub(p);
			let reason = HoldReason::DisputeBond.into();
			Self::pay_from_hold(&reason, &challenger, provider, p)?;
			Self::pay_from_hold(&reason, &challenger, &T::Treasury::get(), t)?;
			Bonds::<T>::remove(job);
			Self::deposit_event(Event::BondForfeited {
				job,
				challenger,
				provider: provider.clone(),
				to_provider: p,
				to_treasury: t,
			});
			Ok((p, t))
		}

		fn bond(job: JobId) -> Option<(T::AccountId, BalanceOf<T>)> {
			Bonds::<T>::get(job)
		}
	}
}
