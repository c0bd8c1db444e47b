//! Weights for `pallet_verification`.
//!
//! Not yet generated for this pallet: these are the measurements of the same
//! code while it lived in `pallet_jobs` (`agora-node benchmark pallet`,
//! Benchmark CLI 64.0.0, 2026-11-27; steps 10, repeat 3; compiled execution,
//! chain `Some("dev")`; host `vm`, CPU `AMD EPYC`), moved unchanged:
//! `dispute`, `vote` and `audit_timeout` from the benchmarks of those names,
//! `audit_draw` from `submit_receipt_audited` (a receipt *and* its drawn check,
//! so an over-estimate of the draw alone). `scripts/bench-weights.sh` replaces
//! this file with the output of this pallet's own benchmarks
//! (`benchmarking.rs`). Do not edit by hand.

#![cfg_attr(rustfmt, rustfmt_skip)]
#![allow(unused_parens, unused_imports, missing_docs, dead_code)]

use core::marker::PhantomData;
use frame_support::{traits::Get, weights::{constants::ParityDbWeight, Weight}};

/// Weight functions of `pallet_verification`.
pub trait WeightInfo {
	fn dispute() -> Weight;
	fn vote() -> Weight;
	fn audit_timeout() -> Weight;
	fn audit_draw() -> Weight;
}

/// Weights measured on the reference machine, with the runtime's database weights.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	fn dispute() -> Weight {
		// Minimum execution time: 1_258_270_000 ps; proof size 7887 bytes.
		Weight::from_parts(1_318_910_000, 7887)
			.saturating_add(T::DbWeight::get().reads(9_u64))
			.saturating_add(T::DbWeight::get().writes(6_u64))
	}
	fn vote() -> Weight {
		// Minimum execution time: 3_009_292_000 ps; proof size 11402 bytes.
		Weight::from_parts(3_147_918_000, 11402)
			.saturating_add(T::DbWeight::get().reads(18_u64))
			.saturating_add(T::DbWeight::get().writes(17_u64))
	}
	fn audit_timeout() -> Weight {
		// Minimum execution time: 823_063_000 ps; proof size 7886 bytes.
		Weight::from_parts(843_794_000, 7886)
			.saturating_add(T::DbWeight::get().reads(6_u64))
			.saturating_add(T::DbWeight::get().writes(6_u64))
	}
	fn audit_draw() -> Weight {
		// Minimum execution time: 830_995_000 ps; proof size 7887 bytes.
		Weight::from_parts(900_117_000, 7887)
			.saturating_add(T::DbWeight::get().reads(8_u64))
			.saturating_add(T::DbWeight::get().writes(4_u64))
	}
}

// For tests: the same, with ParityDB's weights.
impl WeightInfo for () {
	fn dispute() -> Weight {
		Weight::from_parts(1_318_910_000, 7887)
			.saturating_add(ParityDbWeight::get().reads(9_u64))
			.saturating_add(ParityDbWeight::get().writes(6_u64))
	}
	fn vote() -> Weight {
		Weight::from_parts(3_147_918_000, 11402)
			.saturating_add(ParityDbWeight::get().reads(18_u64))
			.saturating_add(ParityDbWeight::get().writes(17_u64))
	}
	fn audit_timeout() -> Weight {
		Weight::from_parts(843_794_000, 7886)
			.saturating_add(ParityDbWeight::get().reads(6_u64))
			.saturating_add(ParityDbWeight::get().writes(6_u64))
	}
	fn audit_draw() -> Weight {
		Weight::from_parts(900_117_000, 7887)
			.saturating_add(ParityDbWeight::get().reads(8_u64))
			.saturating_add(ParityDbWeight::get().writes(4_u64))
	}
}
