//! Storage migrations of `pallet-verification`, run by the runtime's
//! `Executive` on the first block of a new runtime version (`Migrations` in
//! the runtime). Each is version-gated
//! ([`frame_support::migrations::VersionedMigration`]): it runs only while the
//! pallet's on-chain storage version is its `FROM`, then sets `TO`.

/// v0 → v1: audit draws move from bounded per-block lists (`MaxChecksPerBlock`
/// each, a receipt refused when 16 blocks were full) to a set per block
/// drained by [`crate::AuditDrawCursor`] within `DrawWeight`.
pub mod v1 {
	use crate::pallet::*;
	use agora_pallet_support::DueSet;
	use agora_primitives::JobId;
	use alloc::vec::Vec;
	use frame_support::{
		migrations::VersionedMigration, pallet_prelude::*, traits::UncheckedOnRuntimeUpgrade,
	};
	use frame_system::pallet_prelude::BlockNumberFor;

	/// `AuditDraws` as v0 stored it (same prefix; the key was the block only).
	#[frame_support::storage_alias]
	pub type AuditDraws<T: Config> = StorageMap<
		Pallet<T>,
		Twox64Concat,
		BlockNumberFor<T>,
		BoundedVec<JobId, <T as Config>::MaxChecksPerBlock>,
		ValueQuery,
	>;

	/// Moves every queued draw into its block's set and starts the cursor at
	/// the block being initialized (the v0 queues of earlier blocks were taken
	/// by their blocks). One read per old block and one write per draw: at most
	/// `MaxChecksPerBlock` per block up to the longest dispute window ahead.
	pub struct DrawSets<T>(core::marker::PhantomData<T>);

	impl<T: Config> UncheckedOnRuntimeUpgrade for DrawSets<T> {
		fn on_runtime_upgrade() -> Weight {
			let old: Vec<(BlockNumberFor<T>, BoundedVec<JobId, T::MaxChecksPerBlock>)> =
				AuditDraws::<T>::drain().collect();
			let (mut blocks, mut draws) = (0u64, 0u64);
			for (b, ids) in old {
				blocks = blocks.saturating_add(1);
				for id in ids {
					draws = draws.saturating_add(1);
					crate::AuditDraws::<T>::schedule(b, id);
				}
			}
			crate::AuditDrawCursor::<T>::put(frame_system::Pallet::<T>::block_number());
			log::info!(target: "runtime::verification", "v1: {draws} audit draws of {blocks} blocks moved to sets");
			T::DbWeight::get().reads_writes(blocks.saturating_add(1), blocks.saturating_add(draws).saturating_add(1))
		}

		/// Every queued draw as it must come out: the same blocks and jobs.
		#[cfg(feature = "try-runtime")]
		fn pre_upgrade() -> Result<Vec<u8>, sp_runtime::TryRuntimeError> {
			use codec::Encode;
			let mut all: Vec<(BlockNumberFor<T>, JobId)> =
				AuditDraws::<T>::iter().flat_map(|(b, ids)| ids.into_iter().map(move |id| (b, id))).collect();
			all.sort();
			Ok(all.encode())
		}

		#[cfg(feature = "try-runtime")]
		fn post_upgrade(state: Vec<u8>) -> Result<(), sp_runtime::TryRuntimeError> {
			use codec::Decode;
			let want: Vec<(BlockNumberFor<T>, JobId)> =
				Decode::decode(&mut &state[..]).map_err(|_| "v1 pre_upgrade state does not decode")?;
			let mut got: Vec<(BlockNumberFor<T>, JobId)> =
				crate::AuditDraws::<T>::iter().map(|(b, id, ())| (b, id)).collect();
			got.sort();
			ensure!(got == want, "v1 migration lost, added or moved an audit draw");
			ensure!(Pallet::<T>::on_chain_storage_version() == 1, "v1 migration did not set version 1");
			Ok(())
		}
	}

	/// [`DrawSets`], run only while the on-chain version is 0.
	pub type MigrateV0ToV1<T> =
		VersionedMigration<0, 1, DrawSets<T>, Pallet<T>, <T as frame_system::Config>::DbWeight>;
}
