//! Score, rating replacement, review abuse and ranking.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::arithmetic_side_effects, clippy::indexing_slicing)]

use crate::{fixed, mock::*, Error, Event, Ratings, Records, Restrictions};
use agora_primitives::Reputation as _;
use frame_support::{assert_noop, assert_ok};

type Rep = crate::Pallet<Test>;

fn rate(client: AccountId, provider: AccountId, rating: i8) -> sp_runtime::DispatchResult {
	Rep::on_rating(&client, &provider, rating)
}

fn restricted_events() -> Vec<(AccountId, u64, u32)> {
	System::events()
		.into_iter()
		.filter_map(|e| match e.event {
			RuntimeEvent::Reputation(Event::ClientRestricted { client, until, strikes }) =>
				Some((client, until, strikes)),
			_ => None,
		})
		.collect()
}

#[test]
fn a_new_provider_starts_at_50_and_ratings_move_the_score() {
	build_and_execute(|| {
		assert_eq!(Rep::score(&7), 50);
		assert_eq!(Rep::score_milli(&7), 50_000);
		assert_ok!(rate(1, 7, 1));
		// 100 / (1 + e^-0.3) = 57.444…
		assert_eq!(Rep::score_milli(&7), 57_444);
		assert_ok!(rate(2, 7, 1));
		assert_ok!(rate(3, 7, -1));
		assert_eq!(Records::<Test>::get(7).sum, 1);
		assert_eq!(Rep::score(&7), 57);
		assert_noop!(rate(1, 7, 2), Error::<Test>::InvalidRating);
	});
}

#[test]
fn only_the_latest_rating_of_a_pair_counts() {
	build_and_execute(|| {
		assert_ok!(rate(1, 7, 1));
		assert_ok!(rate(1, 7, 1));
		assert_ok!(rate(1, 7, -1));
		let r = Records::<Test>::get(7);
		assert_eq!((r.sum, r.raters, r.positive, r.negative), (-1, 1, 0, 1));
		assert_eq!(Ratings::<Test>::get(7, 1), Some(-1));
		assert_ok!(rate(1, 7, 0));
		let r = Records::<Test>::get(7);
		assert_eq!((r.sum, r.raters, r.positive, r.negative), (0, 1, 0, 0));
		assert_eq!(Rep::score(&7), 50);
	});
}

#[test]
fn outcomes_expiry_fraud_and_subscribers() {
	build_and_execute(|| {
		Rep::on_finalized(&1, &7);
		Rep::on_finalized(&1, &7);
		Rep::on_finalized(&2, &7);
		let v = Rep::view(&7);
		assert_eq!((v.finalized_jobs, v.subscribers), (3, 2));
		Rep::on_expiry(&7);
		assert!(Rep::score_milli(&7) < 50_000, "an expiry is −1 in the sum");
		assert_eq!(Rep::score_milli(&7), fixed::score_milli(-1, THETA_MILLI));
		assert_ok!(rate(1, 7, 1));
		assert_ok!(rate(2, 7, 1));
		assert_eq!(Rep::score_milli(&7), fixed::score_milli(1, THETA_MILLI));
		Rep::on_fraud(&7);
		assert_eq!(Rep::score(&7), 0);
		assert_eq!(Rep::view(&7).ranking_ppm, 0);
		assert!(Rep::view(&7).fraud);
	});
}

#[test]
fn ranking_puts_a_long_clean_record_above_one_lucky_rating() {
	build_and_execute(|| {
		// Provider 7: one job, one +1.
		Rep::on_finalized(&1, &7);
		assert_ok!(rate(1, 7, 1));
		// Provider 8: 200 jobs, 2 expiries, no ratings.
		for i in 0..200 {
			Rep::on_finalized(&(100 + i), &8);
		}
		Rep::on_expiry(&8);
		Rep::on_expiry(&8);
		let (a, b) = (Rep::view(&7), Rep::view(&8));
		assert!(a.score_milli > b.score_milli, "the raw score favours the lucky one");
		assert!(b.ranking_ppm > a.ranking_ppm, "the ranking does not: {} vs {}", b.ranking_ppm, a.ranking_ppm);
		assert_eq!(b.subscribers, 200);
	});
}

/// A client that keeps rating against the majority is restricted for T, then 2T,
/// then 4T; in between its ratings are refused.
#[test]
fn an_abusive_client_is_restricted_for_t_then_2t_then_4t() {
	build_and_execute(|| {
		let abuser = 666;
		let mut provider = 1000u64;
		let mut next_provider = || {
			provider += 1;
			for honest in 1..=3 {
				assert_ok!(rate(honest, provider, 1));
			}
			provider
		};
		for (strike, length) in [(1u32, T_RESTRICT), (2, 2 * T_RESTRICT), (3, 4 * T_RESTRICT)] {
			for _ in 0..THRESHOLD {
				assert_ok!(rate(abuser, next_provider(), -1));
			}
			let now = System::block_number();
			let r = Restrictions::<Test>::get(abuser).unwrap();
			assert_eq!((r.until, r.strikes), (now + length, strike));
			assert_eq!(*restricted_events().last().unwrap(), (abuser, now + length, strike));
			// Refused until then, changing nothing.
			let p = next_provider();
			assert_noop!(rate(abuser, p, -1), Error::<Test>::Restricted);
			System::set_block_number(now + length - 1);
			assert_noop!(rate(abuser, p, -1), Error::<Test>::Restricted);
			System::set_block_number(now + length);
		}
		assert_eq!(restricted_events().len(), 3);
	});
}

/// 100 clients rate 20 providers (14 good, 6 bad) honestly but with 10 % noise:
/// none is ever restricted.
#[test]
fn honest_clients_with_noise_are_never_restricted() {
	build_and_execute(|| {
		let mut state = 0x2545_f491_4f6c_dd1du64;
		let mut rnd = move |n: u64| {
			state ^= state << 13;
			state ^= state >> 7;
			state ^= state << 17;
			state % n
		};
		let mut ratings = 0;
		for round in 0..60u64 {
			System::set_block_number(1 + round);
			for client in 1..=100u64 {
				let provider = 1000 + rnd(20);
				let good = provider < 1014;
				let mut r: i8 = if good { 1 } else { -1 };
				if rnd(10) == 0 {
					r = -r;
				}
				assert_ok!(rate(client, provider, r));
				ratings += 1;
			}
		}
		assert_eq!(ratings, 6_000);
		assert!(restricted_events().is_empty(), "honest clients restricted: {:?}", restricted_events());
		for p in 1000..1014 {
			assert!(Rep::score(&p) > 90, "good provider {p}: {}", Rep::score(&p));
		}
		for p in 1014..1020 {
			assert!(Rep::score(&p) < 10, "bad provider {p}: {}", Rep::score(&p));
		}
	});
}

mod property {
	use super::*;
	use proptest::prelude::*;

	proptest! {
		#![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

		/// Monotone in the sum and bounded in [0, 100], for any θ.
		#[test]
		fn score_is_monotone_and_bounded(a in -100_000i64..100_000, d in 0i64..1000, theta in 1u32..5000) {
			let lo = fixed::score_milli(a, theta);
			let hi = fixed::score_milli(a + d, theta);
			prop_assert!(lo <= hi);
			prop_assert!(hi <= 100_000);
		}

		/// After any sequence of ratings the record equals a recomputation from the
		/// latest ratings, and the score is the same in a second, independent run.
		#[test]
		fn replacing_equals_recomputing_and_runs_agree(ops in proptest::collection::vec((0u64..6, 0u64..3, -1i8..=1), 1..80)) {
			let run = |ops: &[(u64, u64, i8)]| {
				let mut scores = vec![];
				new_test_ext().execute_with(|| {
					for (client, provider, r) in ops {
						let _ = rate(*client, 100 + provider, *r);
					}
					for p in 100..103u64 {
						let rec = Records::<Test>::get(p);
						let latest: Vec<i8> = Ratings::<Test>::iter_prefix(p).map(|(_, r)| r).collect();
						assert_eq!(rec.sum, latest.iter().map(|r| i64::from(*r)).sum::<i64>());
						assert_eq!(rec.raters as usize, latest.len());
						assert_eq!(Rep::score_milli(&p), fixed::score_milli(rec.sum, THETA_MILLI));
						scores.push(Rep::score_milli(&p));
					}
					Rep::do_try_state().unwrap();
				});
				scores
			};
			prop_assert_eq!(run(&ops), run(&ops));
		}
	}
}
