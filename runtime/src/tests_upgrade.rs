//! The runtime's migrations (`Migrations`) as `try-runtime on-runtime-upgrade`
//! runs them: on the development chain's state with its data in the previous
//! layout, every migration's `pre_upgrade` and `post_upgrade` check and every
//! pallet's `try_state` after it; a second run changes nothing. (The end-to-end
//! upgrade from a chain that ran the previous runtime is
//! `provider-worker/tests/upgrade.rs`.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::*;
use frame_support::traits::{GetStorageVersion, StorageVersion};
use frame_try_runtime::UpgradeCheckSelect;

/// Bob closes both of his genesis offers; their records are put back in the
/// v0 layout (as spec_version 100 stored them) and the version set to 0.
fn models_at_v0() -> Vec<(u64, pallet_models::ClosedOffer<AccountId, BlockNumber>)> {
	use pallet_models::migrations::v1::{ClosedOfferV0, ClosedOffers as V0};
	System::set_block_number(7);
	let bob = sp_keyring::Sr25519Keyring::Bob.to_account_id();
	let ids: Vec<u64> = pallet_models::ProviderOffers::<Runtime>::get(&bob).into_iter().collect();
	assert_eq!(ids.len(), 2, "Bob's genesis offers");
	let mut out = Vec::new();
	for id in ids {
		Models::close_offer(RuntimeOrigin::signed(bob.clone()), id).unwrap();
		let now = pallet_models::ClosedOffers::<Runtime>::get(id).unwrap();
		V0::<Runtime>::insert(id, ClosedOfferV0 { signer: now.signer.clone(), closed_at: 7, expires_at: now.expires_at });
		out.push((id, now));
	}
	StorageVersion::new(0).put::<Models>();
	out
}

#[test]
fn the_upgrade_migrates_closed_offers_and_passes_every_check_once() {
	let mut ext: sp_io::TestExternalities =
		genesis_config_presets::preset_storage("development").expect("preset builds").into();
	ext.execute_with(|| {
		assert_eq!(Models::on_chain_storage_version(), 1, "a new chain starts at v1");
		let want = models_at_v0();
		// pre_upgrade, every migration, post_upgrade, then every pallet's try_state.
		let w = Executive::try_runtime_upgrade(UpgradeCheckSelect::All).expect("the upgrade's checks pass");
		assert!(w.ref_time() > 0);
		assert_eq!(Models::on_chain_storage_version(), 1);
		for (id, rec) in &want {
			assert_eq!(pallet_models::ClosedOffers::<Runtime>::get(id).as_ref(), Some(rec));
		}
	});
	upgrading_again_changes_nothing(ext);
}

/// spec_version 102: the job queues and audit draws of a chain at v0 (bounded
/// lists per block) move into sets per block, the cursors start at the
/// upgrade's block, every pre/post check and `try_state` passes, and a second
/// run changes nothing.
#[test]
fn the_upgrade_moves_the_job_queues_into_sets_once() {
	use pallet_jobs::migrations::v1 as jobs_v0;
	use pallet_verification::migrations::v1 as verification_v0;
	let mut ext: sp_io::TestExternalities =
		genesis_config_presets::preset_storage("development").expect("preset builds").into();
	ext.execute_with(|| {
		assert_eq!((Jobs::on_chain_storage_version(), Verification::on_chain_storage_version()), (StorageVersion::new(1), StorageVersion::new(1)));
		System::set_block_number(40);
		// A finished job's prune, queued as v0 did (the job itself is gone:
		// pruning finds nothing, which the invariants allow).
		jobs_v0::PruneQueue::<Runtime>::insert(60, frame_support::BoundedVec::truncate_from(vec![7, 9]));
		StorageVersion::new(0).put::<Jobs>();
		StorageVersion::new(0).put::<Verification>();
		Executive::try_runtime_upgrade(UpgradeCheckSelect::All).expect("the upgrade's checks pass");
		assert_eq!((Jobs::on_chain_storage_version(), Verification::on_chain_storage_version()), (StorageVersion::new(1), StorageVersion::new(1)));
		assert!(pallet_jobs::PruneQueue::<Runtime>::contains_key(60, 7));
		assert!(pallet_jobs::PruneQueue::<Runtime>::contains_key(60, 9));
		assert!(!jobs_v0::PruneQueue::<Runtime>::contains_key(60), "the v0 list is gone");
		assert_eq!(pallet_jobs::DueCursors::<Runtime>::get().prune, 40);
		assert_eq!(pallet_verification::AuditDrawCursor::<Runtime>::get(), 40);
		assert!(verification_v0::AuditDraws::<Runtime>::iter_keys().next().is_none());
	});
	upgrading_again_changes_nothing(ext);
}

/// spec_version 103: an open channel written in the v0 layout (no `paid`; its
/// claims were paid at once) comes out with `paid = claimed`, every check and
/// `try_state` passes (held = value − paid), and a second run changes nothing.
#[test]
fn the_upgrade_adds_paid_to_every_channel_once() {
	use pallet_channels::migrations::v1::{ChannelV0, Channels as V0};
	let mut ext: sp_io::TestExternalities =
		genesis_config_presets::preset_storage("development").expect("preset builds").into();
	ext.execute_with(|| {
		assert_eq!(pallet_channels::Pallet::<Runtime>::on_chain_storage_version(), 1, "a new chain starts at v1");
		let dave = sp_keyring::Sr25519Keyring::Dave.to_account_id();
		let bob = sp_keyring::Sr25519Keyring::Bob.to_account_id();
		System::set_block_number(3);
		Channels::open_channel(RuntimeOrigin::signed(dave.clone()), bob.clone(), [7; 32], 10 * AGR, 100).unwrap();
		let c = pallet_channels::Channels::<Runtime>::get(0).unwrap();
		V0::<Runtime>::insert(
			0,
			ChannelV0 {
				sender: c.sender,
				recipient: c.recipient,
				signer: c.signer,
				value: c.value,
				claimed: 0,
				expiration: c.expiration,
				lanes: c.lanes,
			},
		);
		StorageVersion::new(0).put::<Channels>();
		Executive::try_runtime_upgrade(UpgradeCheckSelect::All).expect("the upgrade's checks pass");
		assert_eq!(pallet_channels::Pallet::<Runtime>::on_chain_storage_version(), 1);
		let c = pallet_channels::Channels::<Runtime>::get(0).unwrap();
		assert_eq!((c.value, c.claimed, c.paid, c.sender, c.recipient), (10 * AGR, 0, 0, dave, bob));
	});
	upgrading_again_changes_nothing(ext);
}

/// The migrations applied again (a later upgrade that still lists them) pass
/// every check and leave the state root as it was.
fn upgrading_again_changes_nothing(mut ext: sp_io::TestExternalities) {
	ext.commit_all().unwrap();
	let root = *ext.backend.root();
	ext.execute_with(|| {
		Executive::try_runtime_upgrade(UpgradeCheckSelect::All).expect("the checks pass again");
	});
	ext.commit_all().unwrap();
	assert_eq!(*ext.backend.root(), root, "a second run leaves the state as it was");
}
