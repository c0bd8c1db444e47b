//! Storage migrations of `pallet-channels`, run by the runtime's `Executive` on
//! the first block of a new runtime version (`Migrations` in the runtime).
//! Each is version-gated ([`frame_support::migrations::VersionedMigration`]):
//! it runs only while the pallet's on-chain storage version is its `FROM`.

/// v0 → v1: a [`crate::Channel`] records what has been paid out of its claims
/// (`paid`), since a claim no longer moves funds. Under v0 every claim was paid
/// at once, so each channel comes out with `paid = claimed`: nothing owed, and
/// its held funds (`value - claimed` under v0, `value - paid` under v1) the same.
pub mod v1 {
	use crate::{pallet::*, types::Channel};
	use agora_primitives::channels::{ChannelId, LaneId, LaneState};
	use codec::{Decode, Encode};
	use frame_support::{
		migrations::VersionedMigration, pallet_prelude::*, traits::UncheckedOnRuntimeUpgrade,
		BoundedBTreeMap,
	};
	use frame_system::pallet_prelude::BlockNumberFor;

	/// The v0 layout of a channel: v1 without `paid`.
	#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode)]
	pub struct ChannelV0<AccountId, Balance, BlockNumber, MaxLanes: Get<u32>> {
		pub sender: AccountId,
		pub recipient: AccountId,
		pub signer: [u8; 32],
		pub value: Balance,
		pub claimed: Balance,
		pub expiration: BlockNumber,
		pub lanes: BoundedBTreeMap<LaneId, LaneState<Balance>, MaxLanes>,
	}

	/// A v0 channel of this runtime.
	pub type ChannelV0Of<T> = ChannelV0<
		<T as frame_system::Config>::AccountId,
		BalanceOf<T>,
		BlockNumberFor<T>,
		<T as Config>::MaxLanes,
	>;

	/// `Channels` as v0 stored it (same prefix and hasher).
	#[frame_support::storage_alias]
	pub type Channels<T: Config> = StorageMap<Pallet<T>, Twox64Concat, ChannelId, ChannelV0Of<T>>;

	fn upgraded<T: Config>(old: ChannelV0Of<T>) -> Channel<T> {
		Channel {
			sender: old.sender,
			recipient: old.recipient,
			signer: old.signer,
			value: old.value,
			claimed: old.claimed,
			paid: old.claimed,
			expiration: old.expiration,
			lanes: old.lanes,
		}
	}

	/// Rewrites every open channel in the v1 layout; the version check is
	/// [`MigrateV0ToV1`]'s. One read and one write per open channel: each locks
	/// at least `MinChannelValue` of its sender's, for at most
	/// `MaxChannelDuration`.
	pub struct AddPaid<T>(core::marker::PhantomData<T>);

	impl<T: Config> UncheckedOnRuntimeUpgrade for AddPaid<T> {
		fn on_runtime_upgrade() -> Weight {
			let mut n = 0u64;
			crate::Channels::<T>::translate::<ChannelV0Of<T>, _>(|_, old| {
				n = n.saturating_add(1);
				Some(upgraded::<T>(old))
			});
			T::DbWeight::get().reads_writes(n, n)
		}

		/// Every channel as it must come out: the same fields, `paid = claimed`.
		#[cfg(feature = "try-runtime")]
		fn pre_upgrade() -> Result<alloc::vec::Vec<u8>, sp_runtime::TryRuntimeError> {
			let expected: alloc::vec::Vec<(ChannelId, Channel<T>)> =
				Channels::<T>::iter().map(|(id, old)| (id, upgraded::<T>(old))).collect();
			// An entry that does not decode as v0 would be dropped by `translate`.
			ensure!(
				expected.len() == crate::Channels::<T>::iter_keys().count(),
				"a channel does not decode in the v0 layout"
			);
			Ok(expected.encode())
		}

		#[cfg(feature = "try-runtime")]
		fn post_upgrade(state: alloc::vec::Vec<u8>) -> Result<(), sp_runtime::TryRuntimeError> {
			let expected: alloc::vec::Vec<(ChannelId, Channel<T>)> =
				Decode::decode(&mut &state[..]).map_err(|_| "v1 pre_upgrade state does not decode")?;
			ensure!(
				crate::Channels::<T>::iter_keys().count() == expected.len(),
				"v1 migration lost or added a channel"
			);
			for (id, want) in expected {
				ensure!(crate::Channels::<T>::get(id) == Some(want), "v1 migration changed a channel");
			}
			ensure!(Pallet::<T>::on_chain_storage_version() == 1, "v1 migration did not set version 1");
			Pallet::<T>::do_try_state()
		}
	}

	/// [`AddPaid`], run only while the on-chain version is 0.
	pub type MigrateV0ToV1<T> =
		VersionedMigration<0, 1, AddPaid<T>, Pallet<T>, <T as frame_system::Config>::DbWeight>;
}
