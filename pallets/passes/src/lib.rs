//! # Passes: service passes, stake for access (docs/protocol.md §4.3)
//!
//! ## Overview
//! A client locks stake in a pass instead of paying per request. Each epoch
//! the pass allows `floor(locked / STAKE_PER_REQUEST)` requests, at most
//! `MAX_REQUESTS_PER_EPOCH` ([`agora_primitives::passes::quota`]). A pass
//! request is a job (`pallet-jobs`' `submit_pass_job`): the runtime assigns
//! it by AVRF like an escrow job (the client cannot name the provider), and
//! it is receipted, audited and disputable the same way; it costs the client
//! nothing but the quota and the transaction fee.
//!
//! Providers are paid from new issuance. A pass job counts for its provider
//! when it is finalized (receipted and its dispute window over without a
//! fraud verdict: a job judged fraudulent, unverified or expired never
//! counts): `C_k += W_service(model)`. At each epoch's end the epoch's
//! reward `R` (annual `INFLATION` of the total issuance, spread over the
//! year's epochs: [`agora_primitives::passes::epoch_reward`]) is minted as
//! `R_k = floor(C_k × R / ΣC)` to each provider
//! ([`agora_primitives::passes::reward_share`]) and the rounding remainder to
//! the treasury, so issuance grows by exactly `R`. `R` is capped at
//! `PASS_REWARD_CAP` per unit of contribution
//! ([`agora_primitives::passes::capped_reward`]): in a thin market the
//! uncapped `R` would pay a provider that sends itself a single pass request
//! `R / N` (docs/economics.md). The payout is paged:
//! at most `MaxPayoutsPerBlock` providers per block. An epoch without pass
//! work mints nothing.
//!
//! Service weights `W_service` are per model, set by governance
//! ([`Pallet::set_service_weight`]; `DefaultServiceWeight` until set).
//!
//! Funds stay on the client's account, held under [`HoldReason::PassStake`].
//! Unlocking moves stake out of the quota at once and releases it after
//! `PASS_COOLDOWN` blocks ([`Pallet::withdraw_unlocked`]).
//! Invariants ([`Pallet::do_try_state`]): each account's held pass stake
//! equals its pass's `locked + unlocking`; a payout in progress never paid
//! more than its reward.
//!
//! ## Calls
//! - [`Pallet::lock`], [`Pallet::unlock`], [`Pallet::withdraw_unlocked`]: the client's.
//! - [`Pallet::set_service_weight`]: governance's (`ServiceWeightOrigin`).
//!
//! ## Assumptions
//! - The epoch length is fixed at genesis: epochs are `block / EpochLength`.
//! - Fake traffic earns nothing in expectation: a client cannot choose who
//!   serves its pass requests, so its own provider gets the same share of them
//!   as of everyone else's (docs/economics.md measures when it pays).
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;

pub mod types;
pub mod weights;
pub use types::{Pass, Payout};
pub use weights::WeightInfo;

mod payout;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;

// FRAME's pallet macros expand to `expect` calls attributed to this module;
// hand-written code here uses none.
#[allow(clippy::expect_used, clippy::unwrap_used)]
#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use agora_primitives::{
		passes::{self, EpochIndex, PassView, PassWork},
		ModelId,
	};
	use frame_support::{
		pallet_prelude::*,
		traits::{
			fungible::{Inspect, InspectHold, Mutate, MutateHold},
			tokens::Precision,
		},
	};
	use frame_system::pallet_prelude::*;
	use sp_runtime::{
		traits::{CheckedAdd, CheckedSub, Zero},
		Perbill, SaturatedConversion,
	};

	/// The balance type of the currency.
	pub type BalanceOf<T> =
		<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;

	/// A pass as stored.
	pub type PassOf<T> = Pass<BalanceOf<T>, BlockNumberFor<T>>;

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// The overarching event type.
		#[allow(deprecated)]
		type RuntimeEvent: From<Event<Self>> + IsType<<Self as frame_system::Config>::RuntimeEvent>;
		/// The currency passes are locked in and rewards are minted in.
		type Currency: MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>
			+ Mutate<Self::AccountId>;
		/// The runtime's hold reasons.
		type RuntimeHoldReason: From<HoldReason>;
		/// `STAKE_PER_REQUEST`: locked stake per request of quota per epoch.
		type StakePerRequest: Get<BalanceOf<Self>>;
		/// `MAX_REQUESTS_PER_EPOCH`: the most any pass allows per epoch.
		type MaxRequestsPerEpoch: Get<u32>;
		/// `PASS_COOLDOWN`: blocks between `unlock` and `withdraw_unlocked`.
		type PassCooldown: Get<BlockNumberFor<Self>>;
		/// `INFLATION`: new issuance per year for pass rewards, of the total issuance.
		type Inflation: Get<Perbill>;
		/// `PASS_REWARD_CAP`: the most an epoch mints per unit of contribution
		/// ([`agora_primitives::passes::capped_reward`]).
		type RewardCap: Get<BalanceOf<Self>>;
		/// Blocks in a year (to spread `INFLATION` over epochs).
		#[pallet::constant]
		type BlocksPerYear: Get<BlockNumberFor<Self>>;
		/// The epoch length when genesis sets none.
		#[pallet::constant]
		type DefaultEpochLength: Get<BlockNumberFor<Self>>;
		/// `W_service` of a model governance has not weighted.
		#[pallet::constant]
		type DefaultServiceWeight: Get<u32>;
		/// The largest `W_service` governance may set.
		#[pallet::constant]
		type MaxServiceWeight: Get<u32>;
		/// Providers paid per block while an epoch's reward is paid out.
		#[pallet::constant]
		type MaxPayoutsPerBlock: Get<u32>;
		/// Receives what rounding leaves of an epoch's reward.
		type Treasury: Get<Self::AccountId>;
		/// Who sets service weights (a referendum).
		type ServiceWeightOrigin: EnsureOrigin<Self::RuntimeOrigin>;
		/// Weights of the calls.
		type WeightInfo: WeightInfo;
	}

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// A service pass's stake, until withdrawn after its cooldown.
		PassStake,
	}

	/// Blocks per epoch, fixed at genesis.
	#[pallet::storage]
	pub type EpochLength<T: Config> = StorageValue<_, BlockNumberFor<T>, ValueQuery, T::DefaultEpochLength>;

	/// Every client's pass.
	#[pallet::storage]
	pub type Passes<T: Config> = StorageMap<_, Blake2_128Concat, T::AccountId, PassOf<T>, OptionQuery>;

	/// `W_service` of each model governance weighted.
	#[pallet::storage]
	pub type ServiceWeights<T: Config> = StorageMap<_, Identity, ModelId, u32, OptionQuery>;

	/// Each provider's verified pass work per epoch, until paid. At most one
	/// entry per provider that finalized a pass job in the epoch.
	#[pallet::storage]
	pub type Work<T: Config> =
		StorageDoubleMap<_, Twox64Concat, EpochIndex, Blake2_128Concat, T::AccountId, PassWork, OptionQuery>;

	/// Each epoch's total work (`ΣC`), until its payout starts.
	#[pallet::storage]
	pub type EpochWork<T: Config> = StorageMap<_, Twox64Concat, EpochIndex, PassWork, OptionQuery>;

	/// The first epoch whose payout has not started.
	#[pallet::storage]
	pub type NextPayoutEpoch<T: Config> = StorageValue<_, EpochIndex, ValueQuery>;

	/// The payout being paid, page by page.
	#[pallet::storage]
	pub type CurrentPayout<T: Config> = StorageValue<_, Payout<BalanceOf<T>>, OptionQuery>;

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// Blocks per epoch (`None`: `DefaultEpochLength`).
		pub epoch_length: Option<BlockNumberFor<T>>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			if let Some(l) = self.epoch_length {
				assert!(!l.is_zero(), "an epoch has at least one block");
				EpochLength::<T>::put(l);
			}
		}
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// `who` locked `amount` more; its pass now has `locked` and a quota of
		/// `quota` requests per epoch.
		Locked { who: T::AccountId, amount: BalanceOf<T>, locked: BalanceOf<T>, quota: u32 },
		/// `who` started unlocking `amount`, withdrawable from block `at`.
		Unlocking { who: T::AccountId, amount: BalanceOf<T>, at: BlockNumberFor<T>, quota: u32 },
		/// `who` withdrew `amount` of unlocked stake (the pass is gone when
		/// nothing is left locked).
		Withdrawn { who: T::AccountId, amount: BalanceOf<T> },
		/// Governance set model `model_id`'s service weight.
		ServiceWeightSet { model_id: ModelId, weight: u32 },
		/// A finalized pass job counted `weight` for `provider` in `epoch`.
		WorkCounted { epoch: EpochIndex, provider: T::AccountId, weight: u32 },
		/// `epoch`'s payout started: `reward` to share over `total` contribution.
		PayoutStarted { epoch: EpochIndex, reward: BalanceOf<T>, total: u64 },
		/// `provider` was paid `reward` for `jobs` pass jobs worth `contribution`.
		ProviderRewarded {
			epoch: EpochIndex,
			provider: T::AccountId,
			jobs: u32,
			contribution: u64,
			reward: BalanceOf<T>,
		},
		/// `epoch` is paid: `to_providers` to `providers` providers and the
		/// rounding remainder `to_treasury`; together exactly its reward.
		EpochPaid {
			epoch: EpochIndex,
			providers: u32,
			to_providers: BalanceOf<T>,
			to_treasury: BalanceOf<T>,
		},
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The amount is zero.
		ZeroAmount,
		/// A new pass must lock at least `STAKE_PER_REQUEST` (one request).
		BelowStakePerRequest,
		/// The account cannot hold that much.
		InsufficientBalance,
		/// The account has no pass.
		NoPass,
		/// More than the pass has locked.
		NotEnoughLocked,
		/// An unlock is already under way; withdraw it first.
		UnlockPending,
		/// Nothing is unlocking.
		NothingUnlocking,
		/// The unlocking stake's cooldown has not ended.
		CooldownRunning,
		/// The pass's requests for this epoch are used up (or it allows none).
		QuotaExhausted,
		/// Above `MaxServiceWeight`.
		WeightTooHigh,
		/// An amount overflowed.
		Overflow,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		/// Starts the payout of an ended epoch, or pays the next page of the
		/// one under way: at most `MaxPayoutsPerBlock` providers per block.
		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			Self::pay_step(now)
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Locks `amount` more of the caller's balance in its service pass,
		/// creating the pass if it has none.
		///
		/// - Origin: signed, the client.
		/// - Emits [`Event::Locked`].
		/// - Errors: [`Error::ZeroAmount`]; [`Error::BelowStakePerRequest`] for a
		///   new pass under one request's stake; [`Error::InsufficientBalance`].
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::lock())]
		pub fn lock(origin: OriginFor<T>, #[pallet::compact] amount: BalanceOf<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			ensure!(!amount.is_zero(), Error::<T>::ZeroAmount);
			let mut pass = Passes::<T>::get(&who).unwrap_or_default();
			let locked = pass.locked.checked_add(&amount).ok_or(Error::<T>::Overflow)?;
			ensure!(locked >= T::StakePerRequest::get(), Error::<T>::BelowStakePerRequest);
			T::Currency::hold(&HoldReason::PassStake.into(), &who, amount)
				.map_err(|_| Error::<T>::InsufficientBalance)?;
			pass.locked = locked;
			let quota = Self::quota_of(locked);
			Passes::<T>::insert(&who, pass);
			Self::deposit_event(Event::Locked { who, amount, locked, quota });
			Ok(())
		}

		/// Starts unlocking `amount` of the caller's pass: it leaves the
		/// quota at once (requests already taken this epoch stand) and can be
		/// withdrawn after `PASS_COOLDOWN` blocks.
		///
		/// - Origin: signed, the client.
		/// - Emits [`Event::Unlocking`].
		/// - Errors: [`Error::ZeroAmount`], [`Error::NoPass`],
		///   [`Error::NotEnoughLocked`], [`Error::UnlockPending`] (one unlock at
		///   a time).
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::unlock())]
		pub fn unlock(origin: OriginFor<T>, #[pallet::compact] amount: BalanceOf<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			ensure!(!amount.is_zero(), Error::<T>::ZeroAmount);
			let mut pass = Passes::<T>::get(&who).ok_or(Error::<T>::NoPass)?;
			ensure!(pass.unlocking.is_none(), Error::<T>::UnlockPending);
			let locked = pass.locked.checked_sub(&amount).ok_or(Error::<T>::NotEnoughLocked)?;
			let at = frame_system::Pallet::<T>::block_number()
				.checked_add(&T::PassCooldown::get())
				.ok_or(Error::<T>::Overflow)?;
			pass.locked = locked;
			pass.unlocking = Some((amount, at));
			Passes::<T>::insert(&who, pass);
			Self::deposit_event(Event::Unlocking { who, amount, at, quota: Self::quota_of(locked) });
			Ok(())
		}

		/// Releases the caller's unlocked stake once its cooldown is over; the
		/// pass is removed when nothing is left locked.
		///
		/// - Origin: signed, the client.
		/// - Emits [`Event::Withdrawn`].
		/// - Errors: [`Error::NoPass`], [`Error::NothingUnlocking`],
		///   [`Error::CooldownRunning`].
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::withdraw_unlocked())]
		pub fn withdraw_unlocked(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut pass = Passes::<T>::get(&who).ok_or(Error::<T>::NoPass)?;
			let (amount, at) = pass.unlocking.ok_or(Error::<T>::NothingUnlocking)?;
			ensure!(frame_system::Pallet::<T>::block_number() >= at, Error::<T>::CooldownRunning);
			T::Currency::release(&HoldReason::PassStake.into(), &who, amount, Precision::Exact)?;
			pass.unlocking = None;
			if pass.locked.is_zero() {
				Passes::<T>::remove(&who);
			} else {
				Passes::<T>::insert(&who, pass);
			}
			Self::deposit_event(Event::Withdrawn { who, amount });
			Ok(())
		}

		/// Sets model `model_id`'s service weight `W_service`: each of its
		/// finalized pass jobs counts `weight` towards its provider's share of
		/// the epoch's reward (0: its pass jobs earn nothing).
		///
		/// - Origin: `ServiceWeightOrigin` (a referendum).
		/// - Emits [`Event::ServiceWeightSet`].
		/// - Errors: [`Error::WeightTooHigh`] above `MaxServiceWeight`.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::set_service_weight())]
		pub fn set_service_weight(origin: OriginFor<T>, model_id: ModelId, weight: u32) -> DispatchResult {
			T::ServiceWeightOrigin::ensure_origin(origin)?;
			ensure!(weight <= T::MaxServiceWeight::get(), Error::<T>::WeightTooHigh);
			ServiceWeights::<T>::insert(model_id, weight);
			Self::deposit_event(Event::ServiceWeightSet { model_id, weight });
			Ok(())
		}
	}

	impl<T: Config> Pallet<T> {
		/// The epoch block `n` is in.
		pub fn epoch_at(n: BlockNumberFor<T>) -> EpochIndex {
			passes::epoch_of(n.saturated_into(), EpochLength::<T>::get().saturated_into())
		}

		/// The current epoch.
		pub fn current_epoch() -> EpochIndex {
			Self::epoch_at(frame_system::Pallet::<T>::block_number())
		}

		/// Requests per epoch `locked` stake allows.
		pub fn quota_of(locked: BalanceOf<T>) -> u32 {
			passes::quota(
				locked.saturated_into(),
				T::StakePerRequest::get().saturated_into(),
				T::MaxRequestsPerEpoch::get(),
			)
		}

		/// A model's `W_service`.
		pub fn service_weight(model_id: &ModelId) -> u32 {
			ServiceWeights::<T>::get(model_id).unwrap_or_else(T::DefaultServiceWeight::get)
		}

		/// Runtime API: `who`'s pass with its quota in the current epoch.
		pub fn pass_view(who: &T::AccountId) -> Option<PassView<BalanceOf<T>, BlockNumberFor<T>>> {
			let pass = Passes::<T>::get(who)?;
			let epoch = Self::current_epoch();
			let quota = Self::quota_of(pass.locked);
			let used = if pass.epoch == epoch { pass.used } else { 0 };
			let len = EpochLength::<T>::get();
			let ends: BlockNumberFor<T> = u64::from(epoch)
				.saturating_add(1)
				.saturating_mul(len.saturated_into())
				.saturated_into();
			Some(PassView {
				locked: pass.locked,
				unlocking: pass.unlocking,
				epoch,
				epoch_ends_at: ends,
				quota,
				used,
				remaining: quota.saturating_sub(used),
			})
		}

		/// Checks the pallet's invariants: every pass's `locked + unlocking`
		/// is exactly what its account holds under `PassStake`, no hold
		/// exists without a pass, and a payout under way paid at most its
		/// reward.
		pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
			let reason = HoldReason::PassStake.into();
			for (who, pass) in Passes::<T>::iter() {
				let unlocking = pass.unlocking.map(|(a, _)| a).unwrap_or_default();
				let expected = pass.locked.checked_add(&unlocking).ok_or("pass stake overflows")?;
				ensure!(
					T::Currency::balance_on_hold(&reason, &who) == expected,
					"a pass's held stake differs from its locked + unlocking"
				);
				ensure!(!expected.is_zero(), "an empty pass is stored");
			}
			if let Some(p) = CurrentPayout::<T>::get() {
				ensure!(p.paid <= p.reward, "a payout paid more than its reward");
				ensure!(p.epoch < NextPayoutEpoch::<T>::get(), "a payout of an epoch not yet started");
			}
			ensure!(
				NextPayoutEpoch::<T>::get() <= Self::current_epoch(),
				"a payout started before its epoch ended"
			);
			Ok(())
		}
	}

	impl<T: Config> agora_primitives::ServicePasses<T::AccountId, BlockNumberFor<T>> for Pallet<T> {
		fn take_request(client: &T::AccountId) -> Result<(), DispatchError> {
			let mut pass = Passes::<T>::get(client).ok_or(Error::<T>::NoPass)?;
			let epoch = Self::current_epoch();
			if pass.epoch != epoch {
				pass.epoch = epoch;
				pass.used = 0;
			}
			ensure!(pass.used < Self::quota_of(pass.locked), Error::<T>::QuotaExhausted);
			pass.used = pass.used.saturating_add(1);
			Passes::<T>::insert(client, pass);
			Ok(())
		}

		fn return_request(client: &T::AccountId, taken_at: BlockNumberFor<T>) {
			let epoch = Self::epoch_at(taken_at);
			Passes::<T>::mutate(client, |p| {
				if let Some(p) = p.as_mut().filter(|p| p.epoch == epoch) {
					p.used = p.used.saturating_sub(1);
				}
			});
		}

		fn on_served(provider: &T::AccountId, model: &ModelId) {
			let epoch = Self::current_epoch();
			let weight = Self::service_weight(model);
			let add = |w: &mut PassWork| {
				w.jobs = w.jobs.saturating_add(1);
				w.contribution = w.contribution.saturating_add(u64::from(weight));
			};
			Work::<T>::mutate(epoch, provider, |w| add(w.get_or_insert_with(Default::default)));
			EpochWork::<T>::mutate(epoch, |w| add(w.get_or_insert_with(Default::default)));
			Self::deposit_event(Event::WorkCounted { epoch, provider: provider.clone(), weight });
		}
	}
}
