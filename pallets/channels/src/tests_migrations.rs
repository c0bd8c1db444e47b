//! Tests of the storage migrations (`migrations.rs`): channels opened and
//! claimed by the pallet, put back in the v0 layout as a v0 runtime stored
//! them (its claims already paid out), migrated.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::arithmetic_side_effects)]

use crate::{
	migrations::v1::{self, ChannelV0},
	mock::*,
	Channels as ChannelsStore, HoldReason,
};
use agora_primitives::channels::{SignedVoucher, Voucher};
use codec::Encode;
use frame_support::{
	assert_ok,
	traits::{
		fungible::{InspectHold, MutateHold},
		tokens::{Fortitude, Precision, Restriction},
		Get, GetStorageVersion, OnRuntimeUpgrade, StorageVersion,
	},
	BoundedVec,
};
use sp_core::{sr25519::Pair, Pair as _};

fn held(who: AccountId) -> Balance {
	Balances::balance_on_hold(&RuntimeHoldReason::Channels(HoldReason::ChannelFunds), &who)
}

/// Alice opens two channels to the provider; the first has 300 claimed. Under
/// v0 the claim was paid at once, so its 300 are moved to the provider here,
/// as v0 did, and both records are written back in the v0 layout, the version
/// set back to 0.
fn v0_state() -> (u64, u64) {
	let pair = Pair::from_seed(&[7; 32]);
	for _ in 0..2 {
		assert_ok!(Channels::open_channel(RuntimeOrigin::signed(ALICE), PROVIDER, pair.public().0, 1_000, 100));
	}
	let voucher = Voucher { channel_id: 0, lane: 0, nonce: 1, cumulative: 300 };
	let signed = SignedVoucher { voucher, signature: pair.sign(&voucher.signing_payload()).0 };
	assert_ok!(Channels::claim_batch(RuntimeOrigin::signed(PROVIDER), BoundedVec::try_from(vec![signed]).unwrap()));
	<Balances as MutateHold<_>>::transfer_on_hold(
		&RuntimeHoldReason::Channels(HoldReason::ChannelFunds),
		&ALICE,
		&PROVIDER,
		300,
		Precision::Exact,
		Restriction::Free,
		Fortitude::Polite,
	)
	.unwrap();
	for id in [0, 1] {
		let c = ChannelsStore::<Test>::get(id).unwrap();
		v1::Channels::<Test>::insert(
			id,
			ChannelV0 {
				sender: c.sender,
				recipient: c.recipient,
				signer: c.signer,
				value: c.value,
				claimed: c.claimed,
				expiration: c.expiration,
				lanes: c.lanes,
			},
		);
	}
	StorageVersion::new(0).put::<Channels>();
	(0, 1)
}

#[test]
fn a_new_chain_starts_at_the_current_storage_version() {
	use sp_runtime::BuildStorage;
	let storage = RuntimeGenesisConfig::default().build_storage().unwrap();
	sp_io::TestExternalities::new(storage).execute_with(|| {
		assert_eq!(crate::STORAGE_VERSION, 1);
		assert_eq!(Channels::on_chain_storage_version(), crate::STORAGE_VERSION);
		// Nothing to do but read the version.
		assert_eq!(
			v1::MigrateV0ToV1::<Test>::on_runtime_upgrade(),
			<<Test as frame_system::Config>::DbWeight as Get<frame_support::weights::RuntimeDbWeight>>::get()
				.reads(1)
		);
	});
}

#[test]
fn v1_adds_paid_equal_to_claimed_to_every_channel_once() {
	build_and_execute(|| {
		let (claimed, fresh) = v0_state();
		let raw = |id: u64| {
			frame_support::storage::unhashed::get_raw(&ChannelsStore::<Test>::hashed_key_for(id)).unwrap()
		};
		let v0_raw = raw(claimed);
		// v0 holds value - claimed, as v1 holds value - paid.
		assert_eq!(held(ALICE), 700 + 1_000);
		assert!(Channels::do_try_state().is_err(), "a v0 record does not decode as v1");

		v1::MigrateV0ToV1::<Test>::on_runtime_upgrade();
		assert_eq!(Channels::on_chain_storage_version(), 1);
		let c = ChannelsStore::<Test>::get(claimed).unwrap();
		assert_eq!((c.value, c.claimed, c.paid, c.owed()), (1_000, 300, 300, 0));
		let f = ChannelsStore::<Test>::get(fresh).unwrap();
		assert_eq!((f.value, f.claimed, f.paid), (1_000, 0, 0));
		// The record is the v0 bytes with `paid` after `claimed`.
		let paid_at = v0_raw.len() - (c.expiration.encode().len() + c.lanes.encode().len());
		let want = [&v0_raw[..paid_at], &300u128.encode()[..], &v0_raw[paid_at..]].concat();
		assert_eq!(raw(claimed), want);
		assert_eq!(held(ALICE), 700 + 1_000, "no funds moved");
		Channels::do_try_state().unwrap();

		// Run again (a later upgrade still listing it): nothing changes.
		let before = raw(claimed);
		v1::MigrateV0ToV1::<Test>::on_runtime_upgrade();
		assert_eq!(raw(claimed), before);
	});
}
