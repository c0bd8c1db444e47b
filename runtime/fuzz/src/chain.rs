//! The fuzzer's chain: real blocks through `Executive` (BABE primary pre-digests
//! with a real VRF by the slot's author, the timestamp inherent, every hook), and
//! the invariants checked after each block.

use agora_runtime::*;
use codec::Encode;
use frame_support::traits::{
	fungible::InspectHold, Get, PalletsInfoAccess, TryState, TryStateSelect,
};
use sp_consensus_babe::{
	digests::{PreDigest, PrimaryPreDigest},
	Slot, BABE_ENGINE_ID,
};
use sp_core::crypto::VrfSecret;
use sp_keyring::Sr25519Keyring;
use sp_runtime::{traits::Header as _, Digest, DigestItem};

/// The accounts the fuzzer signs for: the well-known dev keys (validators,
/// the dev provider, clients), all endowed by both presets it starts from.
pub const KEYS: [Sr25519Keyring; 6] = [
	Sr25519Keyring::Alice,
	Sr25519Keyring::Bob,
	Sr25519Keyring::Charlie,
	Sr25519Keyring::Dave,
	Sr25519Keyring::Eve,
	Sr25519Keyring::Ferdie,
];

/// The keyring entry whose sr25519 public key this is, if the fuzzer holds it.
pub fn key_of(public: &[u8; 32]) -> Option<Sr25519Keyring> {
	KEYS.into_iter().find(|k| k.public().0 == *public)
}

/// Block production, as a node would drive it.
pub struct Chain {
	slot: u64,
	parent: Hash,
}

impl Default for Chain {
	fn default() -> Self {
		// Any slot works; a round one reads well in a failure's log.
		Self { slot: 1_000_000, parent: Hash::default() }
	}
}

impl Chain {
	/// Opens the next block: a BABE primary pre-digest by an enabled
	/// authority whose key the fuzzer holds, signed with a real VRF over the
	/// epoch's randomness (what `pallet-babe` and the AVRF draw read), then
	/// `on_initialize` of every pallet and the timestamp inherent.
	pub fn open_block(&mut self) {
		self.slot += 1;
		let number = System::block_number() + 1;
		let digest = Digest { logs: self.pre_digest(number).into_iter().collect() };
		let header = Header::new(number, Default::default(), Default::default(), self.parent, digest);
		Executive::initialize_block(&header);
		pallet_timestamp::Pallet::<Runtime>::set(RuntimeOrigin::none(), self.slot * SLOT_DURATION)
			.expect("the timestamp inherent matches the slot");
		Executive::inherents_applied();
	}

	/// Closes the block: `on_idle`, `on_finalize` of every pallet, the state root.
	pub fn close_block(&mut self) {
		self.parent = Executive::finalize_block().hash();
	}

	/// The pre-digest for `number` at this slot; `None` when no enabled authority
	/// is one the fuzzer holds a key of (then the block has no BABE digest, as
	/// the runtime tolerates; AVRF falls back to the parent's randomness).
	fn pre_digest(&self, number: BlockNumber) -> Option<DigestItem> {
		let authorities = pallet_babe::Authorities::<Runtime>::get();
		let n = authorities.len();
		let disabled = pallet_session::DisabledValidators::<Runtime>::get();
		let (index, key) = (0..n).map(|i| (self.slot as usize + i) % n).find_map(|i| {
			let enabled = !disabled.iter().any(|(d, _)| *d as usize == i);
			let key = key_of(&authorities[i].0.clone().into_inner().0)?;
			enabled.then_some((i, key))
		})?;
		let (randomness, epoch) = self.epoch_at(number);
		let sign_data = sp_consensus_babe::make_vrf_sign_data(&randomness, Slot::from(self.slot), epoch);
		let vrf_signature = key.pair().vrf_sign(&sign_data);
		let pre = PreDigest::Primary(PrimaryPreDigest {
			authority_index: index as u32,
			slot: Slot::from(self.slot),
			vrf_signature,
		});
		Some(DigestItem::PreRuntime(BABE_ENGINE_ID, pre.encode()))
	}

	/// The (randomness, epoch index) block `number` at this slot will be in:
	/// BABE enacts an epoch change in the block's `on_initialize` once the slot
	/// is a whole epoch past the current epoch's start (never in block 1),
	/// and the new epoch's randomness is today's `NextRandomness`.
	fn epoch_at(&self, number: BlockNumber) -> ([u8; 32], u64) {
		let genesis = *pallet_babe::GenesisSlot::<Runtime>::get();
		let genesis = if genesis == 0 { self.slot } else { genesis };
		let index = pallet_babe::EpochIndex::<Runtime>::get();
		let duration = <Runtime as pallet_babe::Config>::EpochDuration::get();
		let start = genesis + index * duration;
		if number != 1 && self.slot.saturating_sub(start) >= duration {
			(pallet_babe::NextRandomness::<Runtime>::get(), index + 1)
		} else {
			(pallet_babe::Randomness::<Runtime>::get(), index)
		}
	}
}

/// Every invariant the fuzzer checks after each block:
/// - every pallet's `try_state`;
/// - total issuance = Σ (free + reserved) over all accounts (holds are reserved);
/// - what the escrow holds under `JobEscrow`, over all accounts, = Σ open jobs'
///   `max_price` (jobs and escrow each check only their own side).
pub fn check_invariants(n: BlockNumber) -> Result<(), String> {
	if AllPalletsWithSystem::try_state(n, TryStateSelect::All).is_err() {
		// Name the pallets whose checks fail, with their errors.
		let failing: Vec<String> = <AllPalletsWithSystem as PalletsInfoAccess>::infos()
			.into_iter()
			.filter_map(|info| {
				let only = TryStateSelect::Only(vec![info.name.as_bytes().to_vec()]);
				AllPalletsWithSystem::try_state(n, only).err().map(|e| format!("{}: {e:?}", info.name))
			})
			.collect();
		return Err(format!("try_state: {}", failing.join("; ")));
	}
	let mut accounts: Balance = 0;
	let mut escrow_held: Balance = 0;
	let reason: RuntimeHoldReason = pallet_escrow::HoldReason::JobEscrow.into();
	for (who, info) in frame_system::Account::<Runtime>::iter() {
		accounts += info.data.free + info.data.reserved;
		escrow_held += Balances::balance_on_hold(&reason, &who);
	}
	let issuance = Balances::total_issuance();
	if issuance != accounts {
		return Err(format!("total issuance {issuance} ≠ Σ accounts {accounts}"));
	}
	let open: Balance = pallet_jobs::Jobs::<Runtime>::iter_values()
		.filter(|j| j.status.is_open())
		.map(|j| j.max_price)
		.sum();
	if open != escrow_held {
		return Err(format!("escrow holds {escrow_held}, open jobs' max_price sum to {open}"));
	}
	Ok(())
}
