//! Tests of who gets a job when the market's rules change under open offers.
#![allow(clippy::unwrap_used, clippy::arithmetic_side_effects)]

use crate::{mock::*, Error, Jobs as JobsStore};
use frame_support::{assert_noop, assert_ok};

fn order(deadline_in: u64) -> Result<u64, sp_runtime::DispatchError> {
	crate::tests::order(CLIENT, manifest().id(), 10, System::block_number() + deadline_in, None)
}

/// Governance may raise the minimum stake after offers opened. A provider
/// under the new minimum gets no new job (its offers pause only when its own
/// bond next changes); one that tops its bond up does. Found by the runtime
/// fuzzer (runtime/fuzz): the draw used to pick offers of under-bonded
/// providers.
#[test]
fn a_raised_minimum_stake_keeps_underbonded_providers_from_new_jobs() {
	build_and_execute(|| {
		let model = setup_market();
		assert_eq!(model, manifest().id());
		MinProviderStake::set(STAKE + 1);
		assert_noop!(order(10), Error::<Test>::NoFittingOffer);
		assert_ok!(Slashing::bond_extra(RuntimeOrigin::signed(P2), 1));
		for k in 0..3 {
			let job = order(10 + k).unwrap();
			assert_eq!(JobsStore::<Test>::get(job).unwrap().provider, P2);
		}
	});
}
