//! Offline validators (the offence logic for a validator that stops): a
//! validator that authors no block in [`silent_sessions`] consecutive sessions
//! it was elected for is chilled — staking leaves it out of the next election —
//! and `Chilled` is emitted. Liveness is measured by block authorship (BABE's
//! secondary slots give every validator turns each session), not by
//! heartbeats: `pallet-im-online` is deprecated.
//!
//! With 10-minute sessions (200 slots) an online validator among 100 has ~2
//! turns per session, so three silent sessions in a row is a stopped node, not
//! bad luck; with 30-second test sessions (10 slots) six are required
//! (~1.5 in a million per check for 5 validators).

pub use pallet_liveness::*;

/// Consecutive sessions without a block that get a validator chilled: 3, or 6
/// with the 30-second sessions of a fast-epoch genesis (where an online
/// validator among 5 misses a whole session about one time in ten).
pub fn silent_sessions() -> u32 {
	if super::governance::origins::FastEpochs::<crate::Runtime>::get() {
		6
	} else {
		3
	}
}

// FRAME's pallet macros expand to `expect` calls attributed to this module;
// hand-written code here uses none.
#[allow(clippy::expect_used, clippy::unwrap_used)]
#[frame_support::pallet]
pub mod pallet_liveness {
	use frame_support::pallet_prelude::*;

	#[pallet::config]
	pub trait Config:
		frame_system::Config<RuntimeEvent: From<Event<Self>>>
		+ pallet_staking::Config
		+ pallet_session::Config<ValidatorId = <Self as frame_system::Config>::AccountId>
	{
	}

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	/// Validators that authored a block in the current session.
	#[pallet::storage]
	pub type Authored<T: Config> = StorageMap<_, Twox64Concat, T::AccountId, (), OptionQuery>;

	/// Consecutive ended sessions in which a validator authored nothing.
	#[pallet::storage]
	pub type Silent<T: Config> = StorageMap<_, Twox64Concat, T::AccountId, u32, ValueQuery>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// `validator` authored no block in `sessions` consecutive sessions and
		/// was chilled: it is not a candidate at the next election.
		Chilled { validator: T::AccountId, sessions: u32 },
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<frame_system::pallet_prelude::BlockNumberFor<T>> for Pallet<T> {
		/// A silent count is never zero: a validator that authored is removed,
		/// not set to zero. (It may exceed the threshold: a validator that
		/// chilled itself stays in the set, silent, until the era ends.)
		#[cfg(feature = "try-runtime")]
		fn try_state(
			_n: frame_system::pallet_prelude::BlockNumberFor<T>,
		) -> Result<(), sp_runtime::TryRuntimeError> {
			for (_, n) in Silent::<T>::iter() {
				frame_support::ensure!(n > 0, "a silent-session count of zero is stored");
			}
			Ok(())
		}
	}

	impl<T: Config> Pallet<T> {
		/// Notes a block's author (`pallet-authorship`'s event handler).
		pub fn note_author(author: T::AccountId) {
			Authored::<T>::insert(author, ());
		}

		/// At the end of a session: counts silent validators, chills those
		/// silent for `silent_sessions()`, and starts the next session's record.
		pub fn end_session() {
			for v in pallet_session::Validators::<T>::get() {
				if Authored::<T>::contains_key(&v) {
					Silent::<T>::remove(&v);
					continue;
				}
				let n = Silent::<T>::get(&v).saturating_add(1);
				if n >= super::silent_sessions()
					&& pallet_staking::Validators::<T>::contains_key(&v)
				{
					// Chilling as the validator itself would: out of the next election.
					if pallet_staking::Pallet::<T>::chill(
						frame_system::RawOrigin::Signed(v.clone()).into(),
					)
					.is_ok()
					{
						Self::deposit_event(Event::Chilled { validator: v.clone(), sessions: n });
					}
					Silent::<T>::remove(&v);
				} else {
					Silent::<T>::insert(&v, n);
				}
			}
			let _ = Authored::<T>::clear(u32::MAX, None);
		}
	}
}

impl<T: Config>
	pallet_authorship::EventHandler<T::AccountId, frame_system::pallet_prelude::BlockNumberFor<T>>
	for Pallet<T>
{
	fn note_author(author: T::AccountId) {
		Pallet::<T>::note_author(author)
	}
}

/// Session manager: staking (through the historical session), plus the
/// liveness check at each session's end.
pub struct WithLiveness<Inner>(core::marker::PhantomData<Inner>);

impl<Inner: pallet_session::SessionManager<crate::AccountId>>
	pallet_session::SessionManager<crate::AccountId> for WithLiveness<Inner>
{
	fn new_session(new_index: u32) -> Option<alloc::vec::Vec<crate::AccountId>> {
		Inner::new_session(new_index)
	}
	fn new_session_genesis(new_index: u32) -> Option<alloc::vec::Vec<crate::AccountId>> {
		Inner::new_session_genesis(new_index)
	}
	fn end_session(end_index: u32) {
		Pallet::<crate::Runtime>::end_session();
		Inner::end_session(end_index)
	}
	fn start_session(start_index: u32) {
		Inner::start_session(start_index)
	}
}
