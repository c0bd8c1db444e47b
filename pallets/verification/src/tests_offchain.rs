//! The committee member's off-chain check (`HttpAudit`), against a mocked
//! provider and verifier.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::arithmetic_side_effects, clippy::indexing_slicing)]

use crate::{mock::*, tests::audited_job, Audits};
use agora_primitives::AuditVote;
use pallet_jobs::Jobs as JobsStore;
use sp_runtime::{testing::UintAuthorityId, RuntimeAppPublic};
use codec::Decode;
use frame_support::traits::Hooks;
use sp_core::offchain::{
	testing::{PendingRequest, TestOffchainExt, TestTransactionPoolExt},
	OffchainDbExt, OffchainWorkerExt, TransactionPoolExt,
};
use sp_runtime::offchain::storage::StorageValueRef;

fn with_offchain(test: impl FnOnce(&std::sync::Arc<parking_lot::RwLock<sp_core::offchain::testing::OffchainState>>, &std::sync::Arc<parking_lot::RwLock<sp_core::offchain::testing::PoolState>>)) {
	let mut ext = new_test_ext();
	let (offchain, state) = TestOffchainExt::new();
	let (pool, pool_state) = TestTransactionPoolExt::new();
	ext.register_extension(OffchainDbExt::new(offchain.clone()));
	ext.register_extension(OffchainWorkerExt::new(offchain));
	ext.register_extension(TransactionPoolExt::new(pool));
	ext.execute_with(|| {
		test(&state, &pool_state);
		check_invariants();
	});
}

/// The read header member `member`'s off-chain worker sends (the test
/// clock stands at 0 ms).
fn read_header(job: u64, member: u64) -> (String, String) {
	let req = agora_primitives::jobs::ReadRequest { job_id: job, at_ms: 0 };
	let key = UintAuthorityId(member);
	let sig = key.sign(&req.signing_payload()).unwrap();
	(agora_primitives::jobs::READ_HEADER.into(), req.header(&key.to_raw_vec(), &codec::Encode::encode(&sig)))
}

/// The verifier's fetch of `url` for member `member` (with its read header
/// when `member` is given), answered with the `x-agora-fetch` header `outcome`
/// (none if empty) and `body`.
fn fetch_request(url: String, cap: usize, read_auth: Option<(u64, u64)>, outcome: &str, body: &[u8]) -> PendingRequest {
	let read_auth = read_auth.map(|(job, member)| read_header(job, member).1.into_bytes()).unwrap_or_default();
	let req = agora_primitives::FetchRequest { url: url.into_bytes(), cap: cap as u32, read_auth };
	PendingRequest {
		method: "POST".into(),
		uri: "http://127.0.0.1:8800/v1/fetch".into(),
		headers: vec![("Content-Type".into(), "application/scale".into())],
		body: codec::Encode::encode(&req),
		response: Some(body.to_vec()),
		response_headers: if outcome.is_empty() {
			vec![]
		} else {
			vec![(agora_primitives::jobs::FETCH_HEADER.into(), outcome.into())]
		},
		sent: true,
		..Default::default()
	}
}

fn output_fetch(job: u64, member: u64, outcome: &str, body: &[u8]) -> PendingRequest {
	let cap = agora_offchain_workers::output_cap(params(1_000).max_tokens);
	fetch_request(format!("http://127.0.0.1:8700/v1/jobs/{job}/output"), cap, Some((job, member)), outcome, body)
}

fn submitted_votes(pool: &parking_lot::RwLock<sp_core::offchain::testing::PoolState>) -> Vec<agora_primitives::VotePayload> {
	pool.read()
		.transactions
		.iter()
		.map(|t| {
			let xt = Extrinsic::decode(&mut &t[..]).unwrap();
			match xt.function {
				RuntimeCall::Verification(crate::Call::vote { payload, .. }) => payload,
				other => panic!("unexpected call {other:?}"),
			}
		})
		.collect()
}

#[test]
fn a_member_fetches_the_output_asks_its_verifier_and_votes() {
	with_offchain(|state, pool| {
		let job = audited_job();
		let a = Audits::<Test>::get(job).unwrap();
		// This node holds member 1's key.
		let me = a.committee[1].0;
		UintAuthorityId::set_all_keys(vec![me]);
		StorageValueRef::persistent(crate::VERIFIER_STORAGE_KEY).set(&b"http://127.0.0.1:8800".to_vec());
		let stored = JobsStore::<Test>::get(job).unwrap();
		let req = agora_primitives::VerifyRequest {
			job_id: job,
			model_id: stored.model_id,
			input: b"Hello".to_vec(),
			params: params(1_000),
			job_seed: stored.job_seed,
			output_tokens: stored.receipt.unwrap().output_tokens,
			output: b"output".to_vec(),
		};
		{
			let mut s = state.write();
			// The provider's endpoint is fetched by the verifier, never by the
			// off-chain worker itself (DNS rebinding: agora_worker::fetch).
			s.expect_request(output_fetch(job, me, "served", b"output"));
			s.expect_request(PendingRequest {
				method: "POST".into(),
				uri: "http://127.0.0.1:8800/v1/verify".into(),
				headers: vec![("Content-Type".into(), "application/scale".into())],
				body: codec::Encode::encode(&req),
				response: Some(b"{\"valid\":true}".to_vec()),
				response_headers: vec![(agora_primitives::jobs::VERDICT_HEADER.into(), "valid".into())],
				sent: true,
				..Default::default()
			});
		}
		Verification::offchain_worker(System::block_number());
		assert_eq!(
			submitted_votes(pool),
			vec![agora_primitives::VotePayload { job_id: job, member: 1, vote: AuditVote::Valid }]
		);
		// The next block's worker does not vote again.
		Verification::offchain_worker(System::block_number() + 1);
		assert_eq!(submitted_votes(pool).len(), 1);
	});
}

#[test]
fn an_output_that_does_not_match_the_receipt_is_invalid_without_the_verifier() {
	with_offchain(|state, pool| {
		let job = audited_job();
		let a = Audits::<Test>::get(job).unwrap();
		UintAuthorityId::set_all_keys(vec![a.committee[0].0]);
		StorageValueRef::persistent(crate::VERIFIER_STORAGE_KEY).set(&b"http://127.0.0.1:8800".to_vec());
		state.write().expect_request(output_fetch(job, a.committee[0].0, "served", b"something else"));
		Verification::offchain_worker(System::block_number());
		assert_eq!(
			submitted_votes(pool),
			vec![agora_primitives::VotePayload { job_id: job, member: 0, vote: AuditVote::Invalid }]
		);
	});
}

/// An honest provider's output that one fetch cannot get is not judged
/// withheld on that fetch: the member tries again every `VOTE_RETRY`
/// blocks and votes `Withheld` only when no later try would land before
/// the deadline.
#[test]
fn withholding_is_judged_over_the_window_not_on_one_fetch() {
	with_offchain(|state, pool| {
		VoteTimeoutBlocks::set(30);
		let job = audited_job();
		let a = Audits::<Test>::get(job).unwrap();
		UintAuthorityId::set_all_keys(vec![a.committee[0].0]);
		StorageValueRef::persistent(crate::VERIFIER_STORAGE_KEY).set(&b"http://127.0.0.1:8800".to_vec());
		// The verifier reports every try failed (the provider did not serve).
		let member = a.committee[0].0;
		let failed = || output_fetch(job, member, "failed", b"no answer: over 10000 ms");
		let start = System::block_number();
		let mut tries = 0;
		for n in start..a.vote_deadline {
			if !pool.read().transactions.is_empty() {
				break;
			}
			if (n - start).is_multiple_of(u64::from(crate::VOTE_RETRY)) {
				state.write().expect_request(failed());
				tries += 1;
			}
			Verification::offchain_worker(n);
		}
		assert_eq!(tries, 5, "tries at +0, +5, +10, +15, +20");
		assert_eq!(
			submitted_votes(pool),
			vec![agora_primitives::VotePayload { job_id: job, member: 0, vote: AuditVote::Withheld }]
		);
		VoteTimeoutBlocks::set(VOTE_TIMEOUT);
	});
}

#[test]
fn a_node_without_committee_keys_does_nothing() {
	with_offchain(|_, pool| {
		let _job = audited_job();
		UintAuthorityId::set_all_keys(vec![99u64]);
		Verification::offchain_worker(System::block_number());
		assert!(pool.read().transactions.is_empty());
	});
}

/// A verifier that answers a fetch without its outcome (an older or broken
/// verifier) is not the provider's fault: the member casts no vote and
/// tries again.
#[test]
fn a_failing_verifier_is_no_vote_against_the_provider() {
	with_offchain(|state, pool| {
		let job = audited_job();
		let a = Audits::<Test>::get(job).unwrap();
		let member = a.committee[0].0;
		UintAuthorityId::set_all_keys(vec![member]);
		StorageValueRef::persistent(crate::VERIFIER_STORAGE_KEY).set(&b"http://127.0.0.1:8800".to_vec());
		state.write().expect_request(output_fetch(job, member, "", b"oops"));
		let start = System::block_number();
		Verification::offchain_worker(start);
		assert!(pool.read().transactions.is_empty(), "no vote on the verifier's failure");
		// Its next try, once the verifier fetches again, votes on the output.
		let t = start + u64::from(crate::VOTE_RETRY);
		state.write().expect_request(output_fetch(job, member, "served", b"something else"));
		Verification::offchain_worker(t);
		assert_eq!(submitted_votes(pool), vec![agora_primitives::VotePayload { job_id: job, member: 0, vote: AuditVote::Invalid }]);
	});
}
