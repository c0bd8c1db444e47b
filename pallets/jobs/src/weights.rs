//! Weights for `pallet_jobs` (placeholder until generated; see docs/development.md).
#![allow(unused_parens, unused_imports, missing_docs)]

use core::marker::PhantomData;
use frame_support::{traits::Get, weights::{constants::RocksDbWeight, Weight}};

/// Weight functions needed for `pallet_jobs`.
pub trait WeightInfo {
	fn submit_job(c: u32, i: u32) -> Weight;
	fn acknowledge() -> Weight;
	fn submit_receipt() -> Weight;
	fn finalize() -> Weight;
	fn cancel_job() -> Weight;
	fn rate() -> Weight;
	fn on_initialize(f: u32, e: u32, p: u32) -> Weight;
}

pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	fn submit_job(c: u32, i: u32) -> Weight { Weight::from_parts(80_000_000, 8_000).saturating_add(Weight::from_parts(3_000_000, 3_000).saturating_mul(c.into())).saturating_add(Weight::from_parts(1_000, 0).saturating_mul(i.into())).saturating_add(T::DbWeight::get().reads_writes(8, 8)) }
	fn acknowledge() -> Weight { Weight::from_parts(20_000_000, 4_000).saturating_add(T::DbWeight::get().reads_writes(1, 1)) }
	fn submit_receipt() -> Weight { Weight::from_parts(90_000_000, 6_000).saturating_add(T::DbWeight::get().reads_writes(4, 4)) }
	fn finalize() -> Weight { Weight::from_parts(120_000_000, 8_000).saturating_add(T::DbWeight::get().reads_writes(10, 10)) }
	fn cancel_job() -> Weight { Weight::from_parts(60_000_000, 6_000).saturating_add(T::DbWeight::get().reads_writes(6, 6)) }
	fn rate() -> Weight { Weight::from_parts(25_000_000, 4_000).saturating_add(T::DbWeight::get().reads_writes(1, 1)) }
	fn on_initialize(f: u32, e: u32, p: u32) -> Weight { Weight::from_parts(5_000_000, 0).saturating_add(Weight::from_parts(110_000_000, 8_000).saturating_mul(f.into())).saturating_add(Weight::from_parts(150_000_000, 8_000).saturating_mul(e.into())).saturating_add(Weight::from_parts(10_000_000, 0).saturating_mul(p.into())).saturating_add(T::DbWeight::get().reads_writes(3, 3)).saturating_add(T::DbWeight::get().reads_writes(10, 10).saturating_mul((f + e).into())).saturating_add(T::DbWeight::get().writes(2).saturating_mul(p.into())) }
}

impl WeightInfo for () {
	fn submit_job(c: u32, i: u32) -> Weight { Weight::from_parts(80_000_000, 8_000).saturating_add(Weight::from_parts(3_000_000, 3_000).saturating_mul(c.into())).saturating_add(Weight::from_parts(1_000, 0).saturating_mul(i.into())).saturating_add(RocksDbWeight::get().reads_writes(8, 8)) }
	fn acknowledge() -> Weight { Weight::from_parts(20_000_000, 4_000).saturating_add(RocksDbWeight::get().reads_writes(1, 1)) }
	fn submit_receipt() -> Weight { Weight::from_parts(90_000_000, 6_000).saturating_add(RocksDbWeight::get().reads_writes(4, 4)) }
	fn finalize() -> Weight { Weight::from_parts(120_000_000, 8_000).saturating_add(RocksDbWeight::get().reads_writes(10, 10)) }
	fn cancel_job() -> Weight { Weight::from_parts(60_000_000, 6_000).saturating_add(RocksDbWeight::get().reads_writes(6, 6)) }
	fn rate() -> Weight { Weight::from_parts(25_000_000, 4_000).saturating_add(RocksDbWeight::get().reads_writes(1, 1)) }
	fn on_initialize(f: u32, e: u32, p: u32) -> Weight { Weight::from_parts(5_000_000, 0).saturating_add(Weight::from_parts(110_000_000, 8_000).saturating_mul(f.into())).saturating_add(Weight::from_parts(150_000_000, 8_000).saturating_mul(e.into())).saturating_add(Weight::from_parts(10_000_000, 0).saturating_mul(p.into())) }
}
