//! Tests of batched orders ([`crate::Pallet::submit_jobs`]): each order taken
//! or refused on its own, the offers' window read once, capacity counted
//! within the batch, and a batch of one drawing as a lone order does.
#![allow(clippy::unwrap_used, clippy::arithmetic_side_effects, clippy::indexing_slicing)]

use crate::{
	mock::*, tests::events, Error, Event, ExpiryFill, InputParam, Jobs as JobsStore, NextJobId,
	OfferLoad, Order,
};
use agora_primitives::{JobStatus, OpenJobs};
use frame_support::{assert_noop, assert_ok, traits::fungible::Inspect, BoundedVec};

fn order(input: &[u8], max_price: Balance, deadline_in: u64) -> Order<Balance, u64> {
	Order {
		input: InputParam::Inline(input.to_vec()),
		params: params(1_000),
		max_price,
		deadline: System::block_number() + deadline_in,
	}
}

fn batch(orders: Vec<Order<Balance, u64>>) -> BoundedVec<Order<Balance, u64>, frame_support::traits::ConstU32<8>> {
	orders.try_into().unwrap()
}

#[test]
fn a_batch_assigns_each_order_and_holds_each_escrow() {
	build_and_execute(|| {
		let model = setup_market();
		let first = NextJobId::<Test>::get();
		let orders = vec![order(b"a", 5_000, 10), order(b"b", 3_000, 11), order(b"c", 4_000, 12)];
		assert_ok!(Jobs::submit_jobs(RuntimeOrigin::signed(CLIENT), model, batch(orders), None));
		assert_eq!(NextJobId::<Test>::get(), first + 3);
		assert_eq!(Balances::balance(&CLIENT), 1_000_000 - 12_000);
		let assigned: Vec<u64> = events()
			.into_iter()
			.filter_map(|e| if let Event::JobAssigned { job_id, by_avrf, .. } = e { assert!(by_avrf); Some(job_id) } else { None })
			.collect();
		assert_eq!(assigned, vec![first, first + 1, first + 2]);
		for (k, (price, input)) in [(5_000, b"a"), (3_000, b"b"), (4_000, b"c")].into_iter().enumerate() {
			let j = JobsStore::<Test>::get(first + k as u64).unwrap();
			assert_eq!((j.client, j.max_price, j.status), (CLIENT, price, JobStatus::Assigned));
			assert_eq!(j.input.hash(), agora_primitives::rules::content_hash(input));
			assert_eq!(j.deadline, System::block_number() + 10 + k as u64);
		}
		let open: u32 = [P1, P2, P3].iter().map(<Jobs as OpenJobs<_>>::open_jobs).sum();
		assert_eq!(open, 3);
	});
}

/// A refused order keeps nothing (no escrow, no job id, no load) and is
/// named by its index; the orders around it stand.
#[test]
fn a_refused_order_keeps_nothing_and_the_others_stand() {
	build_and_execute(|| {
		let model = setup_market();
		let first = NextJobId::<Test>::get();
		let too_long = vec![b'x'; MAX_INPUT as usize + 1];
		let orders = vec![
			order(b"a", 5_000, 10),
			order(b"", 5_000, 10),
			order(&too_long, 5_000, 10),
			order(b"b", 2_000_000, 10),
			order(b"c", 5_000, 0),
			order(b"d", 50, 10),
			order(b"e", 5_000, 11),
		];
		assert_ok!(Jobs::submit_jobs(RuntimeOrigin::signed(CLIENT), model, batch(orders), None));
		let refused: Vec<(u32, sp_runtime::DispatchError)> = events()
			.into_iter()
			.filter_map(|e| if let Event::OrderRefused { index, error } = e { Some((index, error)) } else { None })
			.collect();
		assert_eq!(
			refused,
			vec![
				(1, Error::<Test>::EmptyInput.into()),
				(2, Error::<Test>::InputTooLong.into()),
				(3, Error::<Test>::InsufficientBalance.into()),
				(4, Error::<Test>::DeadlineInPast.into()),
				(5, Error::<Test>::NoFittingOffer.into()),
			]
		);
		// Two jobs, consecutive ids, two escrows.
		assert_eq!(NextJobId::<Test>::get(), first + 2);
		assert_eq!(Balances::balance(&CLIENT), 1_000_000 - 10_000);
		assert_eq!(JobsStore::<Test>::get(first).unwrap().deadline, System::block_number() + 10);
		assert_eq!(JobsStore::<Test>::get(first + 1).unwrap().deadline, System::block_number() + 11);
		let load: u32 = OfferLoad::<Test>::iter_values().sum();
		assert_eq!(load, 2);
		assert_eq!(ExpiryFill::<Test>::get(System::block_number() + 11), 1);
	});
}

#[test]
fn an_empty_batch_is_refused() {
	build_and_execute(|| {
		let model = setup_market();
		assert_noop!(
			Jobs::submit_jobs(RuntimeOrigin::signed(CLIENT), model, batch(vec![]), None),
			Error::<Test>::NoOrders
		);
	});
}

/// The window is read once, but what it knows of each offer's open jobs
/// follows the batch: an offer at capacity gets no more of its orders.
#[test]
fn capacity_is_counted_within_a_batch() {
	build_and_execute(|| {
		let model = setup_market();
		// P1's offer takes 4 jobs; a batch of 6 named for P1 takes 4 and
		// refuses 2 for want of a fitting offer.
		let orders = (0..6).map(|k| order(b"a", 5_000, 10 + k / 3)).collect();
		assert_ok!(Jobs::submit_jobs(RuntimeOrigin::signed(CLIENT), model, batch(orders), Some(P1)));
		assert_eq!(<Jobs as OpenJobs<_>>::open_jobs(&P1), 4);
		let refused: Vec<u32> = events()
			.into_iter()
			.filter_map(|e| if let Event::OrderRefused { index, error } = e {
				assert_eq!(error, Error::<Test>::NoFittingOffer.into());
				Some(index)
			} else {
				None
			})
			.collect();
		assert_eq!(refused, vec![4, 5]);
		// By AVRF: 8 more fill the other two offers exactly, a ninth finds none.
		let orders = (0..8).map(|k| order(b"b", 5_000, 20 + k / 3)).collect();
		assert_ok!(Jobs::submit_jobs(RuntimeOrigin::signed(CLIENT), model, batch(orders), None));
		assert_eq!(<Jobs as OpenJobs<_>>::open_jobs(&P2) + <Jobs as OpenJobs<_>>::open_jobs(&P3), 8);
		assert_eq!(
			Jobs::submit_jobs(RuntimeOrigin::signed(CLIENT), model, batch(vec![order(b"c", 5_000, 30)]), None)
				.map(|_| ()),
			Ok(())
		);
		assert!(matches!(
			events().last(),
			Some(Event::OrderRefused { index: 0, error }) if *error == Error::<Test>::NoFittingOffer.into()
		));
	});
}

/// One order in a batch is drawn exactly as `submit_job` draws it: the same
/// window, candidates, provider and recorded assignment.
#[test]
fn a_batch_of_one_draws_as_a_lone_order() {
	let draw = |batched: bool| {
		let mut out = None;
		build_and_execute(|| {
			let model = setup_market();
			run_to(7);
			let job = NextJobId::<Test>::get();
			let o = order(b"same", 5_000, 10);
			if batched {
				assert_ok!(Jobs::submit_jobs(RuntimeOrigin::signed(CLIENT), model, batch(vec![o]), None));
			} else {
				assert_ok!(Jobs::submit_job(
					RuntimeOrigin::signed(CLIENT),
					model,
					o.input,
					o.params,
					o.max_price,
					o.deadline,
					None
				));
			}
			let a = Jobs::assignment_of(job).unwrap();
			out = Some((codec::Encode::encode(&JobsStore::<Test>::get(job).unwrap()), a.seed, a.candidates, a.offer_id));
		});
		out.unwrap()
	};
	assert_eq!(draw(true), draw(false));
}

/// Orders by hash in a batch: nothing inline, the hash kept.
#[test]
fn a_batch_takes_orders_by_hash() {
	build_and_execute(|| {
		let model = setup_market();
		let first = NextJobId::<Test>::get();
		let mut o = order(b"", 5_000, 10);
		o.input = InputParam::Hash([9; 32]);
		assert_ok!(Jobs::submit_jobs(RuntimeOrigin::signed(CLIENT), model, batch(vec![o.clone(), o]), None));
		assert_eq!(NextJobId::<Test>::get(), first + 2);
		assert_eq!(JobsStore::<Test>::get(first + 1).unwrap().input.hash(), [9; 32]);
	});
}
