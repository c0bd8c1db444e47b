//! Test runtime for `pallet-verification`: the market test runtime it shares
//! with `pallet-jobs` (`pallets/mock/market.rs`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::arithmetic_side_effects, clippy::indexing_slicing)]
// Shared: each pallet's tests use part of its helpers.
#![allow(dead_code)]

use crate as pallet_verification;
include!("../../mock/market.rs");
