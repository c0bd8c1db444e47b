//! Random call sequences through the job market and its checks together.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::arithmetic_side_effects, clippy::indexing_slicing)]

use crate::mock::*;
use agora_primitives::AuditVote;
use pallet_jobs::{InputParam, Jobs as JobsStore};

mod property {
	use super::*;
	use proptest::prelude::*;

	#[derive(Clone, Debug)]
	enum Op {
		Submit { client: bool, provider: Option<u8>, price: u16, deadline: u8 },
		Ack(u8),
		Receipt { job: u8, tokens: u16 },
		Finalize(u8),
		Cancel { job: u8, by_client: bool },
		Rate { job: u8, rating: i8 },
		Advance(u8),
		Dispute { job: u8, by_challenger: bool },
		Vote { job: u8, member: u8, vote: u8 },
		AuditRate(u8),
	}

	fn op() -> impl Strategy<Value = Op> {
		prop_oneof![
			(any::<bool>(), proptest::option::of(0u8..4), 0u16..3_000, 0u8..30)
				.prop_map(|(client, provider, price, deadline)| Op::Submit { client, provider, price, deadline }),
			(0u8..12).prop_map(Op::Ack),
			(0u8..12, 0u16..1_200).prop_map(|(job, tokens)| Op::Receipt { job, tokens }),
			(0u8..12).prop_map(Op::Finalize),
			(0u8..12, any::<bool>()).prop_map(|(job, by_client)| Op::Cancel { job, by_client }),
			(0u8..12, -2i8..3).prop_map(|(job, rating)| Op::Rate { job, rating }),
			(1u8..8).prop_map(Op::Advance),
			(0u8..12, any::<bool>()).prop_map(|(job, by_challenger)| Op::Dispute { job, by_challenger }),
			(0u8..12, 0u8..4, 0u8..3).prop_map(|(job, member, vote)| Op::Vote { job, member, vote }),
			(0u8..3).prop_map(Op::AuditRate),
		]
	}

	fn apply(op: Op) {
		let now = System::block_number();
		let model = agora_primitives::models::shipped::smollm2(PUBLISHER).id();
		let client = |c: bool| if c { CLIENT } else { CLIENT2 };
		let _ = match op {
			Op::Submit { client: c, provider, price, deadline } => Jobs::submit_job(
				RuntimeOrigin::signed(client(c)),
				model,
				InputParam::Inline(b"prop".to_vec()),
				params(1_000),
				Balance::from(price),
				now + u64::from(deadline),
				provider.map(|p| [P1, P2, P3, CLIENT][p as usize]),
			)
			.map(|_| ())
			.map_err(|e| e.error),
			Op::Ack(j) => {
				let p = JobsStore::<Test>::get(u64::from(j)).map(|j| j.provider).unwrap_or(P1);
				Jobs::acknowledge(RuntimeOrigin::signed(p), u64::from(j))
			},
			Op::Receipt { job, tokens } => match JobsStore::<Test>::get(u64::from(job)) {
				Some(j) => {
					let (r, s) = signed_receipt(u64::from(job), &worker_of(j.provider), b"o", u32::from(tokens));
					Jobs::submit_receipt(RuntimeOrigin::signed(j.provider), u64::from(job), r, s)
				},
				None => Ok(()),
			},
			Op::Finalize(j) => Jobs::finalize(RuntimeOrigin::signed(CLIENT2), u64::from(j)),
			Op::Cancel { job, by_client } =>
				Jobs::cancel_job(RuntimeOrigin::signed(client(by_client)), u64::from(job)),
			Op::Rate { job, rating } => Jobs::rate(RuntimeOrigin::signed(CLIENT), u64::from(job), rating),
			Op::Advance(n) => {
				run_to(now + u64::from(n));
				Ok(())
			},
			Op::Dispute { job, by_challenger } => Verification::dispute(
				RuntimeOrigin::signed(if by_challenger { CHALLENGER } else { CLIENT }),
				u64::from(job),
			),
			Op::Vote { job, member, vote } => {
				let id = u64::from(job);
				let vote = [AuditVote::Valid, AuditVote::Invalid, AuditVote::Withheld][vote as usize];
				match crate::Audits::<Test>::get(id) {
					Some(a) if (member as usize) < a.committee.len() => {
						let (p, s) = signed_vote(id, u32::from(member), vote);
						Verification::vote(RuntimeOrigin::none(), p, s)
					},
					_ => Ok(()),
				}
			},
			Op::AuditRate(r) => {
				AuditRate::set([0, 500_000, 1_000_000][r as usize]);
				Ok(())
			},
		};
	}

	proptest! {
		// 256 random sequences per run (proptest's default; ~17 s in a debug
		// build); `PROPTEST_CASES=5000` explores more.
		/// Any sequence of calls — including audits, disputes and committee
		/// votes — keeps the invariants (escrow = open max prices, queues
		/// consistent, loads counted, dispute bonds held, verdicts final) and
		/// conserves total issuance.
		#[test]
		fn random_call_sequences_keep_the_invariants(ops in proptest::collection::vec(op(), 1..40)) {
			new_test_ext().execute_with(|| {
				setup_market();
				set_vrf(3);
				let issuance = Balances::total_issuance();
				for op in ops {
					apply(op);
					check_invariants();
					prop_assert_eq!(Balances::total_issuance(), issuance);
				}
				Ok(())
			})?;
		}
	}
}

