//! Storage migrations of `pallet-jobs`, run by the runtime's `Executive` on
//! the first block of a new runtime version (`Migrations` in the runtime).
//! Each is version-gated ([`frame_support::migrations::VersionedMigration`]):
//! it runs only while the pallet's on-chain storage version is its `FROM`,
//! then sets `TO`.

/// v0 → v1: the finalize, expiry and prune queues move from bounded
/// per-block lists (`MaxJobsPerBlock` = 64 each, drained whole by their block)
/// to a set per block drained by cursors within `QueueWeight`
/// ([`crate::DueCursors`]); a deadline block's count is kept in
/// [`crate::ExpiryFill`].
pub mod v1 {
	use crate::{pallet::*, types::Queue};
	use agora_pallet_support::DueSet;
	use agora_primitives::JobId;
	use alloc::vec::Vec;
	use frame_support::{
		migrations::VersionedMigration, pallet_prelude::*, traits::UncheckedOnRuntimeUpgrade,
	};
	use frame_system::pallet_prelude::BlockNumberFor;

	/// `FinalizeQueue` as v0 stored it (same prefix; the key was the block only).
	#[frame_support::storage_alias]
	pub type FinalizeQueue<T: Config> =
		StorageMap<Pallet<T>, Twox64Concat, BlockNumberFor<T>, Queue<<T as Config>::MaxJobsPerBlock>, ValueQuery>;
	/// `ExpiryQueue` as v0 stored it.
	#[frame_support::storage_alias]
	pub type ExpiryQueue<T: Config> =
		StorageMap<Pallet<T>, Twox64Concat, BlockNumberFor<T>, Queue<<T as Config>::MaxJobsPerBlock>, ValueQuery>;
	/// `PruneQueue` as v0 stored it.
	#[frame_support::storage_alias]
	pub type PruneQueue<T: Config> =
		StorageMap<Pallet<T>, Twox64Concat, BlockNumberFor<T>, Queue<<T as Config>::MaxJobsPerBlock>, ValueQuery>;

	type Entries<T> = Vec<(BlockNumberFor<T>, JobId)>;

	fn flatten<T: Config>(q: Vec<(BlockNumberFor<T>, Queue<T::MaxJobsPerBlock>)>) -> Entries<T> {
		q.into_iter().flat_map(|(b, ids)| ids.into_iter().map(move |id| (b, id))).collect()
	}

	/// Moves every queued job into its block's set (the same block), counts
	/// each deadline block's expiries, and starts every cursor at the block
	/// being initialized (the v0 queues of earlier blocks were taken by their
	/// blocks). One read per old block and about one write per job: at most
	/// 64 per block and queue, up to the longest deadline or retention ahead.
	pub struct QueueSets<T>(core::marker::PhantomData<T>);

	impl<T: Config> UncheckedOnRuntimeUpgrade for QueueSets<T> {
		fn on_runtime_upgrade() -> Weight {
			let fin = flatten::<T>(FinalizeQueue::<T>::drain().collect());
			let exp = flatten::<T>(ExpiryQueue::<T>::drain().collect());
			let prune = flatten::<T>(PruneQueue::<T>::drain().collect());
			let moved = (fin.len().saturating_add(exp.len()).saturating_add(prune.len())) as u64;
			for (b, id) in fin {
				crate::FinalizeQueue::<T>::schedule(b, id);
			}
			for (b, id) in exp {
				crate::ExpiryQueue::<T>::schedule(b, id);
				crate::ExpiryFill::<T>::mutate(b, |n| *n = n.saturating_add(1));
			}
			for (b, id) in prune {
				crate::PruneQueue::<T>::schedule(b, id);
			}
			let now = frame_system::Pallet::<T>::block_number();
			crate::DueCursors::<T>::put(crate::Cursors { finalize: now, expiry: now, prune: now });
			log::info!(target: "runtime::jobs", "v1: {moved} queued jobs moved to per-block sets");
			T::DbWeight::get().reads_writes(moved.saturating_add(1), moved.saturating_mul(2).saturating_add(1))
		}

		/// Every queued job as it must come out: the same queue and block.
		#[cfg(feature = "try-runtime")]
		fn pre_upgrade() -> Result<Vec<u8>, sp_runtime::TryRuntimeError> {
			use codec::Encode;
			let mut all = (
				flatten::<T>(FinalizeQueue::<T>::iter().collect()),
				flatten::<T>(ExpiryQueue::<T>::iter().collect()),
				flatten::<T>(PruneQueue::<T>::iter().collect()),
			);
			all.0.sort();
			all.1.sort();
			all.2.sort();
			Ok(all.encode())
		}

		#[cfg(feature = "try-runtime")]
		fn post_upgrade(state: Vec<u8>) -> Result<(), sp_runtime::TryRuntimeError> {
			use codec::Decode;
			let want: (Entries<T>, Entries<T>, Entries<T>) =
				Decode::decode(&mut &state[..]).map_err(|_| "v1 pre_upgrade state does not decode")?;
			let sorted = |mut v: Entries<T>| {
				v.sort();
				v
			};
			let got = (
				sorted(crate::FinalizeQueue::<T>::iter().map(|(b, id, ())| (b, id)).collect()),
				sorted(crate::ExpiryQueue::<T>::iter().map(|(b, id, ())| (b, id)).collect()),
				sorted(crate::PruneQueue::<T>::iter().map(|(b, id, ())| (b, id)).collect()),
			);
			ensure!(got == want, "v1 migration lost, added or moved a queued job");
			ensure!(Pallet::<T>::on_chain_storage_version() == 1, "v1 migration did not set version 1");
			Ok(())
		}
	}

	/// [`QueueSets`], run only while the on-chain version is 0.
	pub type MigrateV0ToV1<T> =
		VersionedMigration<0, 1, QueueSets<T>, Pallet<T>, <T as frame_system::Config>::DbWeight>;
}
