//! Benchmarks of `pallet-verification`, each in its worst case: committees
//! drawn from the largest validator set, the deciding vote finding fraud with
//! a challenger to reward, a timeout replacing every member.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::arithmetic_side_effects, clippy::indexing_slicing)]

use super::*;
use crate::Pallet as Verification;
use agora_primitives::{AuditVote, JobMarket, JobStatus, VotePayload};
use alloc::vec::Vec;
use frame_benchmarking::v2::*;
use frame_support::{traits::Get, BoundedVec};
use frame_system::RawOrigin;
use sp_runtime::{RuntimeAppPublic, SaturatedConversion};

/// `n` validators with fresh `agora` keys (in the keystore, so they can sign votes).
fn verifiers<T: Config>(n: u32) -> Vec<(T::AccountId, T::AuthorityId)> {
	let v: Vec<_> = (0..n)
		.map(|i| (account::<T::AccountId>("validator", i, 0), T::AuthorityId::generate_pair(None)))
		.collect();
	Verifiers::<T>::put(BoundedVec::truncate_from(v.clone()));
	v
}

/// A funded challenger.
fn challenger<T: Config>() -> T::AccountId {
	let c: T::AccountId = account("challenger", 0, 0);
	T::BenchmarkHelper::fund(&c, 1_000_000_000_000_000_000u128.saturated_into());
	c
}

/// Committees at their storage bound: the worst case every weight covers.
fn largest_committee<T: Config>() {
	T::BenchmarkHelper::set_committee_size(T::MaxCommitteeSize::get());
	assert_eq!(T::CommitteeSize::get(), T::MaxCommitteeSize::get());
}

fn status<T: Config>(job: u64) -> JobStatus {
	T::Jobs::receipted(job).unwrap().status
}

#[benchmarks]
mod benchmarks {
	use super::*;

	/// A dispute that starts a check, drawing the largest committee from the
	/// largest validator set.
	#[benchmark]
	fn dispute() {
		largest_committee::<T>();
		verifiers::<T>(T::MaxValidators::get());
		let (job, _, _) = T::BenchmarkHelper::receipted_job();
		let who = challenger::<T>();
		#[extrinsic_call]
		_(RawOrigin::Signed(who), job);
		assert_eq!(status::<T>(job), JobStatus::Disputed);
	}

	/// Worst case: the deciding vote of the largest committee's disputed check
	/// finds fraud (refund, slash with a challenger's reward, reputation, bond
	/// return).
	#[benchmark]
	fn vote() {
		largest_committee::<T>();
		let members = verifiers::<T>(T::MaxCommitteeSize::get());
		let (job, _, _) = T::BenchmarkHelper::receipted_job();
		Verification::<T>::dispute(RawOrigin::Signed(challenger::<T>()).into(), job).unwrap();
		let audit = Audits::<T>::get(job).unwrap();
		let majority = audit.committee.len() as u32 / 2 + 1;
		let signed = |m: u32| {
			let (a, _) = &audit.committee[m as usize];
			let key = members.iter().find(|(x, _)| x == a).map(|(_, k)| k.clone()).unwrap();
			let payload = VotePayload { job_id: job, member: m, vote: AuditVote::Invalid };
			let sig = key.sign(&payload.signing_payload()).unwrap();
			(payload, sig)
		};
		for m in 0..majority - 1 {
			let (p, s) = signed(m);
			Verification::<T>::vote(RawOrigin::None.into(), p, s).unwrap();
		}
		let (p, s) = signed(majority - 1);
		#[extrinsic_call]
		_(RawOrigin::None, p, s);
		assert_eq!(status::<T>(job), JobStatus::Fraud);
	}

	/// One check of the largest committee reaching its vote deadline with no
	/// votes: every member struck and replaced from the largest validator set,
	/// a new deadline queued.
	#[benchmark]
	fn audit_timeout() {
		largest_committee::<T>();
		verifiers::<T>(T::MaxValidators::get());
		let (job, _, _) = T::BenchmarkHelper::receipted_job();
		Verification::<T>::dispute(RawOrigin::Signed(challenger::<T>()).into(), job).unwrap();
		let at = Audits::<T>::get(job).unwrap().vote_deadline;
		frame_system::Pallet::<T>::set_block_number(at);
		#[block]
		{
			Verification::<T>::do_audit_timeout(job, at).unwrap();
		}
		assert_eq!(Audits::<T>::get(job).unwrap().redraws, 1);
	}

	/// A receipt's audit draw that draws it (rate 100%), with the largest
	/// committee from the largest validator set.
	#[benchmark]
	fn audit_draw() {
		largest_committee::<T>();
		verifiers::<T>(T::MaxValidators::get());
		let (job, _, _) = T::BenchmarkHelper::receipted_job();
		T::BenchmarkHelper::set_audit_rate(1_000_000);
		let now = frame_system::Pallet::<T>::block_number();
		#[block]
		{
			assert!(Verification::<T>::do_audit_draw(job, now).unwrap());
		}
		assert_eq!(status::<T>(job), JobStatus::Disputed);
	}

	/// A receipt's audit draw that passes it (not drawn, as most are: the
	/// rate at its governed floor, 1 %): the receipt, the rate and the block's
	/// randomness read, the seed hashed; nothing written.
	#[benchmark]
	fn audit_draw_passed() {
		let (job, _, _) = T::BenchmarkHelper::receipted_job();
		T::BenchmarkHelper::set_audit_rate(10_000);
		let now = frame_system::Pallet::<T>::block_number();
		let drew;
		#[block]
		{
			drew = Verification::<T>::do_audit_draw(job, now).unwrap();
		}
		assert!(!drew);
		assert_eq!(status::<T>(job), JobStatus::Receipted);
	}

	/// A served receipt disputed with `i` input and `o` output bytes: both
	/// hashed, the worker's signature checked, the offer and channel read, the
	/// largest committee drawn from the largest validator set, the check stored.
	#[benchmark]
	fn dispute_receipt(i: Linear<1, { T::MaxServedInput::get() }>, o: Linear<1, { T::MaxServedOutput::get() }>) {
		use agora_primitives::{channels::ServedReceipt, rules::content_hash, OfferRegistry};
		const KEY: sp_core::crypto::KeyTypeId = sp_core::crypto::KeyTypeId(*b"bnch");
		largest_committee::<T>();
		verifiers::<T>(T::MaxValidators::get());
		let key = sp_io::crypto::sr25519_generate(KEY, None);
		let (offer, provider, channel) = T::BenchmarkHelper::served_setup(key.0);
		let model_id = T::Offers::offer(offer).unwrap().model_id;
		let (input, output) = (alloc::vec![b'a'; i as usize], alloc::vec![b'b'; o as usize]);
		let receipt = ServedReceipt {
			channel_id: channel,
			lane: 0,
			nonce: 1,
			model_id,
			input_hash: content_hash(&input),
			output_hash: content_hash(&output),
			output_tokens: 1,
			params: Default::default(),
			price: 1_000,
			at: frame_system::Pallet::<T>::block_number().saturated_into(),
			provider,
			worker_pubkey: key.0,
		};
		let signature = sp_io::crypto::sr25519_sign(KEY, &key, &receipt.signing_payload()).unwrap().0;
		let who = challenger::<T>();
		#[extrinsic_call]
		_(RawOrigin::Signed(who), alloc::boxed::Box::new(receipt), signature, offer, input, output);
		assert!(ServedChecks::<T>::contains_key(agora_primitives::channels::SERVED_CHECK_BASE));
	}

	impl_benchmark_test_suite!(Verification, crate::mock::new_bench_ext(), crate::mock::Test);
}
