//! Weights for `pallet_passes`: PROVISIONAL, not yet generated.
//!
//! `scripts/bench-weights.sh` (which lists `pallet_passes`) replaces this file
//! with the weights `agora-node benchmark pallet` measures from
//! `benchmarking.rs`. No release `runtime-benchmarks` build has run since the
//! pallet was written (~50 min on the 2-core machine), so until then each call
//! is charged an upper bound taken from measured weights of comparable calls
//! in `pallets/channels/src/weights.rs` (same machine, same runtime):
//! - `lock`, `unlock`, `withdraw_unlocked`: `add_funds` (a hold change and one
//!   record rewritten: 57.4 µs, 5,407 B proof), with 3 reads and 3 writes;
//! - `set_service_weight`: `extend` (one record written: 16.7 µs);
//! - `start_payout`: `add_funds` again (reads the issuance and two records);
//! - `pay_page(n)`: `claim_batch`'s per-voucher cost (a balance credited and
//!   records written: 93.1 µs, 4,417 B proof) per provider paid, plus a mint
//!   to the treasury.

#![allow(unused_parens, unused_imports, missing_docs, dead_code)]

use core::marker::PhantomData;
use frame_support::{traits::Get, weights::{constants::ParityDbWeight, Weight}};

/// Weight functions of `pallet_passes`.
pub trait WeightInfo {
	fn lock() -> Weight;
	fn unlock() -> Weight;
	fn withdraw_unlocked() -> Weight;
	fn set_service_weight() -> Weight;
	fn start_payout() -> Weight;
	fn pay_page(n: u32) -> Weight;
}

fn hold_call<D: Get<frame_support::weights::RuntimeDbWeight>>() -> Weight {
	Weight::from_parts(57_355_000, 5407).saturating_add(D::get().reads_writes(3, 3))
}

fn page<D: Get<frame_support::weights::RuntimeDbWeight>>(n: u32) -> Weight {
	Weight::from_parts(92_828_000, 3593)
		.saturating_add(Weight::from_parts(93_083_785, 4417).saturating_mul(n.into()))
		.saturating_add(D::get().reads_writes(2, 3))
		.saturating_add(D::get().reads_writes(3, 3).saturating_mul(n.into()))
}

/// The provisional weights with the runtime's database weights.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	fn lock() -> Weight { hold_call::<T::DbWeight>() }
	fn unlock() -> Weight { hold_call::<T::DbWeight>() }
	fn withdraw_unlocked() -> Weight { hold_call::<T::DbWeight>() }
	fn set_service_weight() -> Weight {
		Weight::from_parts(16_674_000, 5407).saturating_add(T::DbWeight::get().writes(1))
	}
	fn start_payout() -> Weight { hold_call::<T::DbWeight>() }
	fn pay_page(n: u32) -> Weight { page::<T::DbWeight>(n) }
}

/// The same with ParityDB's database weights, for tests and mocks.
impl WeightInfo for () {
	fn lock() -> Weight { hold_call::<ParityDbWeight>() }
	fn unlock() -> Weight { hold_call::<ParityDbWeight>() }
	fn withdraw_unlocked() -> Weight { hold_call::<ParityDbWeight>() }
	fn set_service_weight() -> Weight {
		Weight::from_parts(16_674_000, 5407).saturating_add(ParityDbWeight::get().writes(1))
	}
	fn start_payout() -> Weight { hold_call::<ParityDbWeight>() }
	fn pay_page(n: u32) -> Weight { page::<ParityDbWeight>(n) }
}
