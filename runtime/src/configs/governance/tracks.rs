//! The referendum tracks (docs/protocol.md §9).
//!
//! | id | track | origin | decision deposit | prepare | decide | confirm | enact |
//! | --- | --- | --- | --- | --- | --- | --- | --- |
//! | 0 | `root` | root | 1,000 AGR (dev 10) | 2 h (dev 2 blocks) | 7 days (dev 40 blocks) | 1 day (dev 2 blocks) | 1 day (dev 1 block) |
//! | 1 | `market_params` | `MarketParams` | 100 AGR (dev 1) | 1 h (dev 1 block) | 3 days (dev 20 blocks) | 3 h (dev 2 blocks) | 1 h (dev 1 block) |
//!
//! Approval (aye share of conviction-weighted votes) falls from 100 % to 50 %
//! over the decision period on a reciprocal curve; support (aye capital as a
//! share of active issuance) falls linearly from 50 % (root) or 20 %
//! (`market_params`) to 0. The development preset sets `FastTracks`.

use super::origins::{FastTracks, Origin};
use crate::{Balance, BlockNumber, OriginCaller, Runtime, AGR, DAYS, HOURS};
use alloc::borrow::Cow;
use pallet_referenda::{Curve, Track, TrackInfo};
use sp_runtime::FixedI64;

const fn percent(x: u128) -> FixedI64 {
	FixedI64::from_rational(x, 100)
}

const APPROVAL: Curve = Curve::make_reciprocal(4, 28, percent(80), percent(50), percent(100));
const SUPPORT_ROOT: Curve = Curve::make_linear(28, 28, percent(0), percent(50));
const SUPPORT_PARAMS: Curve = Curve::make_linear(28, 28, percent(0), percent(20));

/// A track name as the pallet stores it (25 bytes, zero-padded). Evaluated at
/// compile time (an index out of range would fail the build).
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
const fn name(s: &str) -> [u8; 25] {
	let mut out = [0u8; 25];
	let b = s.as_bytes();
	let mut i = 0;
	while i < b.len() && i < 25 {
		out[i] = b[i];
		i += 1;
	}
	out
}

#[allow(clippy::too_many_arguments)]
const fn track(
	id: u16,
	n: &str,
	max_deciding: u32,
	decision_deposit: Balance,
	periods: [BlockNumber; 4],
	min_support: Curve,
) -> Track<u16, Balance, BlockNumber> {
	Track {
		id,
		info: TrackInfo {
			name: name(n),
			max_deciding,
			decision_deposit,
			prepare_period: periods[0],
			decision_period: periods[1],
			confirm_period: periods[2],
			min_enactment_period: periods[3],
			min_approval: APPROVAL,
			min_support,
		},
	}
}

const TRACKS: [Track<u16, Balance, BlockNumber>; 2] = [
	track(0, "root", 1, 1_000 * AGR, [2 * HOURS, 7 * DAYS, DAYS, DAYS], SUPPORT_ROOT),
	track(1, "market_params", 10, 100 * AGR, [HOURS, 3 * DAYS, 3 * HOURS, HOURS], SUPPORT_PARAMS),
];

const FAST_TRACKS: [Track<u16, Balance, BlockNumber>; 2] = [
	track(0, "root", 1, 10 * AGR, [2, 40, 2, 1], SUPPORT_ROOT),
	track(1, "market_params", 10, AGR, [1, 20, 2, 1], SUPPORT_PARAMS),
];

/// The tracks and which origin each dispatches with.
pub struct TracksInfo;

impl pallet_referenda::TracksInfo<Balance, BlockNumber> for TracksInfo {
	type Id = u16;
	type RuntimeOrigin = OriginCaller;

	fn tracks() -> impl Iterator<Item = Cow<'static, Track<Self::Id, Balance, BlockNumber>>> {
		let all: &'static [Track<u16, Balance, BlockNumber>] =
			if FastTracks::<Runtime>::get() { &FAST_TRACKS } else { &TRACKS };
		all.iter().map(Cow::Borrowed)
	}

	fn track_for(origin: &Self::RuntimeOrigin) -> Result<Self::Id, ()> {
		match origin {
			OriginCaller::system(frame_system::RawOrigin::Root) => Ok(0),
			OriginCaller::Origins(Origin::MarketParams) => Ok(1),
			_ => Err(()),
		}
	}
}
