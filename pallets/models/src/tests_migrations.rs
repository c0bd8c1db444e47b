//! Tests of the storage migrations (`migrations.rs`): closed offers written by
//! the pallet, put back in the v0 layout as a v0 runtime stored them, migrated.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::arithmetic_side_effects)]

use crate::{
	migrations::v1::{self, ClosedOfferV0},
	mock::*,
	tests::{bond, open, register},
	ClosedOffer, ClosedOffers,
};
use codec::Encode;
use frame_support::{
	assert_ok,
	traits::{GetStorageVersion, OnRuntimeUpgrade, StorageVersion},
};

/// Bob opens `n` offers of one model and closes them at block 5; their records
/// are rewritten as v0 stored them (closed at 5) and the version set back to 0.
/// Returns the ids and the v1 records they must come back as.
fn v0_state(n: u8) -> Vec<(u64, ClosedOffer<AccountId, u64>)> {
	let model = register(ALICE, 1);
	bond(BOB);
	System::set_block_number(5);
	let mut out = Vec::new();
	for k in 0..n {
		let id = open(BOB, model, [k; 32]);
		assert_ok!(Models::close_offer(RuntimeOrigin::signed(BOB), id));
		let new = ClosedOffers::<Test>::get(id).unwrap();
		v1::ClosedOffers::<Test>::insert(
			id,
			ClosedOfferV0 { signer: new.signer.clone(), closed_at: 5, expires_at: new.expires_at },
		);
		out.push((id, new));
	}
	StorageVersion::new(0).put::<Models>();
	out
}

#[test]
fn a_new_chain_starts_at_the_current_storage_version() {
	use sp_runtime::BuildStorage;
	// Genesis writes each pallet's version (construct_runtime's `on_genesis`):
	// a chain started with this code never runs the v0 → v1 migration.
	let storage = RuntimeGenesisConfig::default().build_storage().unwrap();
	sp_io::TestExternalities::new(storage).execute_with(|| {
		assert_eq!(crate::STORAGE_VERSION, 1);
		assert_eq!(Models::on_chain_storage_version(), crate::STORAGE_VERSION);
		assert_eq!(v1::MigrateV0ToV1::<Test>::on_runtime_upgrade(), <Test as frame_system::Config>::DbWeight::get().reads(1));
	});
}

#[test]
fn v1_rewrites_every_closed_offer_without_closed_at_once() {
	build_and_execute(|| {
		let want = v0_state(3);
		// As v0 stored them: 4 bytes longer, unreadable as v1 records.
		for (id, new) in &want {
			let raw = frame_support::storage::unhashed::get_raw(&ClosedOffers::<Test>::hashed_key_for(id))
				.unwrap();
			assert_eq!(raw.len(), new.encode().len() + 8, "closed_at is a u64 in the mock");
		}
		#[cfg(feature = "try-runtime")]
		let state = <v1::DropClosedAt<Test> as frame_support::traits::UncheckedOnRuntimeUpgrade>::pre_upgrade()
			.unwrap();

		let w = v1::MigrateV0ToV1::<Test>::on_runtime_upgrade();
		let db = <Test as frame_system::Config>::DbWeight::get();
		// The three records read and rewritten, plus the version read and written.
		assert_eq!(w, db.reads_writes(3, 3).saturating_add(db.reads_writes(1, 1)));
		for (id, new) in &want {
			assert_eq!(ClosedOffers::<Test>::get(id).as_ref(), Some(new), "offer {id}");
		}
		assert_eq!(Models::on_chain_storage_version(), 1);
		#[cfg(feature = "try-runtime")]
		assert_ok!(
			<v1::DropClosedAt<Test> as frame_support::traits::UncheckedOnRuntimeUpgrade>::post_upgrade(state)
		);

		// A second upgrade that still lists it reads the version and stops.
		let again = v1::MigrateV0ToV1::<Test>::on_runtime_upgrade();
		assert_eq!(again, db.reads(1));
		for (id, new) in &want {
			assert_eq!(ClosedOffers::<Test>::get(id).as_ref(), Some(new));
		}
		// The migrated records are the pallet's own again: they are still
		// forgotten at the end of their retention.
		let (first, rec) = want[0].clone();
		System::set_block_number(rec.expires_at);
		<Models as frame_support::traits::Hooks<u64>>::on_initialize(rec.expires_at);
		assert!(ClosedOffers::<Test>::get(first).is_none());
	});
}

#[test]
fn v1_on_a_chain_with_no_closed_offer_only_sets_the_version() {
	build_and_execute(|| {
		StorageVersion::new(0).put::<Models>();
		let w = v1::MigrateV0ToV1::<Test>::on_runtime_upgrade();
		let db = <Test as frame_system::Config>::DbWeight::get();
		assert_eq!(w, db.reads_writes(1, 1));
		assert_eq!(Models::on_chain_storage_version(), 1);
	});
}
