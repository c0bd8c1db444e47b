//! Weights for `pallet_models` (placeholder until generated; see docs/development.md).
#![allow(unused_parens, unused_imports, missing_docs)]

use core::marker::PhantomData;
use frame_support::{traits::Get, weights::{constants::RocksDbWeight, Weight}};

/// Weight functions needed for `pallet_models`.
pub trait WeightInfo {
	fn register_model() -> Weight;
	fn deprecate_model() -> Weight;
	fn open_offer() -> Weight;
	fn update_offer() -> Weight;
	fn pause_offer() -> Weight;
	fn resume_offer() -> Weight;
	fn close_offer(o: u32) -> Weight;
}

pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	fn register_model() -> Weight { Weight::from_parts(40_000_000, 4_000).saturating_add(T::DbWeight::get().reads_writes(2, 2)) }
	fn deprecate_model() -> Weight { Weight::from_parts(20_000_000, 4_000).saturating_add(T::DbWeight::get().reads_writes(1, 1)) }
	fn open_offer() -> Weight { Weight::from_parts(50_000_000, 6_000).saturating_add(T::DbWeight::get().reads_writes(5, 5)) }
	fn update_offer() -> Weight { Weight::from_parts(30_000_000, 4_000).saturating_add(T::DbWeight::get().reads_writes(1, 1)) }
	fn pause_offer() -> Weight { Weight::from_parts(20_000_000, 4_000).saturating_add(T::DbWeight::get().reads_writes(1, 1)) }
	fn resume_offer() -> Weight { Weight::from_parts(30_000_000, 4_000).saturating_add(T::DbWeight::get().reads_writes(3, 1)) }
	fn close_offer(o: u32) -> Weight { Weight::from_parts(40_000_000, 6_000).saturating_add(Weight::from_parts(100_000, 0).saturating_mul(o.into())).saturating_add(T::DbWeight::get().reads_writes(3, 4)) }
}

impl WeightInfo for () {
	fn register_model() -> Weight { Weight::from_parts(40_000_000, 4_000).saturating_add(RocksDbWeight::get().reads_writes(2, 2)) }
	fn deprecate_model() -> Weight { Weight::from_parts(20_000_000, 4_000).saturating_add(RocksDbWeight::get().reads_writes(1, 1)) }
	fn open_offer() -> Weight { Weight::from_parts(50_000_000, 6_000).saturating_add(RocksDbWeight::get().reads_writes(5, 5)) }
	fn update_offer() -> Weight { Weight::from_parts(30_000_000, 4_000).saturating_add(RocksDbWeight::get().reads_writes(1, 1)) }
	fn pause_offer() -> Weight { Weight::from_parts(20_000_000, 4_000).saturating_add(RocksDbWeight::get().reads_writes(1, 1)) }
	fn resume_offer() -> Weight { Weight::from_parts(30_000_000, 4_000).saturating_add(RocksDbWeight::get().reads_writes(3, 1)) }
	fn close_offer(o: u32) -> Weight { Weight::from_parts(40_000_000, 6_000).saturating_add(Weight::from_parts(100_000, 0).saturating_mul(o.into())).saturating_add(RocksDbWeight::get().reads_writes(3, 4)) }
}
