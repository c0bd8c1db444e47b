//! Weights for `pallet_slashing` (placeholder until generated; see docs/development.md).
#![allow(unused_parens, unused_imports, missing_docs)]

use core::marker::PhantomData;
use frame_support::{traits::Get, weights::{constants::RocksDbWeight, Weight}};

/// Weight functions needed for `pallet_slashing`.
pub trait WeightInfo {
	fn bond() -> Weight;
	fn bond_extra() -> Weight;
	fn unbond() -> Weight;
	fn withdraw_unbonded(c: u32) -> Weight;
}

/// Weights for `pallet_slashing` using the runtime's database weights.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	fn bond() -> Weight { Weight::from_parts(50_000_000, 3_600).saturating_add(T::DbWeight::get().reads_writes(3, 3)) }
	fn bond_extra() -> Weight { Weight::from_parts(50_000_000, 3_600).saturating_add(T::DbWeight::get().reads_writes(3, 3)) }
	fn unbond() -> Weight { Weight::from_parts(30_000_000, 3_600).saturating_add(T::DbWeight::get().reads_writes(1, 1)) }
	fn withdraw_unbonded(c: u32) -> Weight { Weight::from_parts(50_000_000, 3_600).saturating_add(Weight::from_parts(1_000_000, 0).saturating_mul(c.into())).saturating_add(T::DbWeight::get().reads_writes(3, 3)) }
}

impl WeightInfo for () {
	fn bond() -> Weight { Weight::from_parts(50_000_000, 3_600).saturating_add(RocksDbWeight::get().reads_writes(3, 3)) }
	fn bond_extra() -> Weight { Weight::from_parts(50_000_000, 3_600).saturating_add(RocksDbWeight::get().reads_writes(3, 3)) }
	fn unbond() -> Weight { Weight::from_parts(30_000_000, 3_600).saturating_add(RocksDbWeight::get().reads_writes(1, 1)) }
	fn withdraw_unbonded(c: u32) -> Weight { Weight::from_parts(50_000_000, 3_600).saturating_add(Weight::from_parts(1_000_000, 0).saturating_mul(c.into())).saturating_add(RocksDbWeight::get().reads_writes(3, 3)) }
}
