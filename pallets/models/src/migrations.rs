//! Storage migrations of `pallet-models`, run by the runtime's `Executive` on
//! the first block of a new runtime version (`Migrations` in the runtime).
//!
//! Each migration is version-gated ([`frame_support::migrations::VersionedMigration`]):
//! it runs only while the pallet's on-chain storage version is its `FROM`, then
//! sets `TO`, so an upgrade applied twice (or a later upgrade that still lists
//! it) migrates once.

/// v0 → v1: a [`crate::ClosedOffer`] no longer stores the block it closed in
/// (`closed_at`): nothing on chain read it, and every closed offer kept for
/// `OfferRetention` blocks paid 4 bytes for it.
pub mod v1 {
	use crate::{pallet::*, types::ClosedOffer};
	use agora_primitives::{OfferId, OfferSigner};
	use codec::{Decode, Encode};
	use frame_support::{
		migrations::VersionedMigration,
		pallet_prelude::*,
		traits::UncheckedOnRuntimeUpgrade,
	};
	use frame_system::pallet_prelude::BlockNumberFor;

	/// The v0 layout of a closed offer.
	#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode)]
	pub struct ClosedOfferV0<AccountId, BlockNumber> {
		pub signer: OfferSigner<AccountId>,
		pub closed_at: BlockNumber,
		pub expires_at: BlockNumber,
	}

	/// `ClosedOffers` as v0 stored it (same prefix and hasher).
	#[frame_support::storage_alias]
	pub type ClosedOffers<T: Config> = StorageMap<
		Pallet<T>,
		Twox64Concat,
		OfferId,
		ClosedOfferV0<<T as frame_system::Config>::AccountId, BlockNumberFor<T>>,
	>;

	/// Rewrites every closed offer in the v1 layout; the version check is
	/// [`MigrateV0ToV1`]'s. One read and one write per closed offer: their
	/// number is bounded by `MaxClosuresPerBlock` × `OfferRetention` blocks, and
	/// each needed an `open_offer` and a `close_offer` with its deposit and fees.
	pub struct DropClosedAt<T>(core::marker::PhantomData<T>);

	impl<T: Config> UncheckedOnRuntimeUpgrade for DropClosedAt<T> {
		fn on_runtime_upgrade() -> Weight {
			let mut n = 0u64;
			crate::ClosedOffers::<T>::translate::<ClosedOfferV0<T::AccountId, BlockNumberFor<T>>, _>(
				|_, old| {
					n = n.saturating_add(1);
					Some(ClosedOffer { signer: old.signer, expires_at: old.expires_at })
				},
			);
			log::info!(target: "runtime::models", "v1: {n} closed offers rewritten without closed_at");
			T::DbWeight::get().reads_writes(n, n)
		}

		/// Every closed offer as it must come out: the same ids, signers and
		/// expiry blocks.
		#[cfg(feature = "try-runtime")]
		fn pre_upgrade() -> Result<alloc::vec::Vec<u8>, sp_runtime::TryRuntimeError> {
			let expected: alloc::vec::Vec<_> = ClosedOffers::<T>::iter()
				.map(|(id, old)| (id, ClosedOffer { signer: old.signer, expires_at: old.expires_at }))
				.collect();
			// An entry that does not decode as v0 would be dropped by `translate`.
			ensure!(
				expected.len() == crate::ClosedOffers::<T>::iter_keys().count(),
				"a closed offer does not decode in the v0 layout"
			);
			Ok(expected.encode())
		}

		#[cfg(feature = "try-runtime")]
		fn post_upgrade(state: alloc::vec::Vec<u8>) -> Result<(), sp_runtime::TryRuntimeError> {
			let expected: alloc::vec::Vec<(OfferId, ClosedOffer<T::AccountId, BlockNumberFor<T>>)> =
				Decode::decode(&mut &state[..]).map_err(|_| "v1 pre_upgrade state does not decode")?;
			ensure!(
				crate::ClosedOffers::<T>::iter_keys().count() == expected.len(),
				"v1 migration lost or added a closed offer"
			);
			for (id, want) in expected {
				ensure!(crate::ClosedOffers::<T>::get(id) == Some(want), "v1 migration changed a closed offer");
			}
			ensure!(Pallet::<T>::on_chain_storage_version() == 1, "v1 migration did not set version 1");
			Ok(())
		}
	}

	/// [`DropClosedAt`], run only while the on-chain version is 0.
	pub type MigrateV0ToV1<T> =
		VersionedMigration<0, 1, DropClosedAt<T>, Pallet<T>, <T as frame_system::Config>::DbWeight>;
}
