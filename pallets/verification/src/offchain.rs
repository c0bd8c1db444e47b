//! The committee member's part, run by validators' off-chain workers: fetch
//! what the provider must serve, ask the local verifier, submit the signed vote.
use crate::pallet::*;
use agora_primitives::{jobs::ReadRequest, AuditVote, JobId, OffchainAudit, VotePayload};
use alloc::vec::Vec;
use codec::Encode;
use frame_system::{offchain::SubmitTransaction, pallet_prelude::*};
use sp_runtime::{traits::Saturating, RuntimeAppPublic};

impl<T: Config> Pallet<T> {
	/// A [`ReadRequest`] for `job_id`'s output, made now and signed with the
	/// member's `agora` key: the worker serves outputs only to their client and
	/// their committee ([`agora_primitives::jobs::READ_HEADER`]).
	fn read_auth(job_id: JobId, key: &T::AuthorityId) -> alloc::string::String {
		let req = ReadRequest { job_id, at_ms: sp_io::offchain::timestamp().unix_millis() };
		key.sign(&req.signing_payload())
			.map(|sig| req.header(&key.to_raw_vec(), &sig.encode()))
			.unwrap_or_default()
	}

	/// The off-chain worker's part (see `offchain_worker`): one attempt per
	/// (job, member) every [`VOTE_RETRY`] blocks until the vote lands.
	pub(crate) fn offchain_audits(n: BlockNumberFor<T>, local: &[T::AuthorityId]) {
		use sp_runtime::offchain::storage::StorageValueRef;
		let verifier = StorageValueRef::persistent(VERIFIER_STORAGE_KEY)
			.get::<Vec<u8>>()
			.ok()
			.flatten()
			.and_then(|v| alloc::string::String::from_utf8(v).ok());
		for (job_id, audit) in Audits::<T>::iter() {
			for (i, (_, key)) in audit.committee.iter().enumerate() {
				let member = i as u32;
				if !local.contains(key) || audit.votes.iter().any(|(m, _)| *m == member) {
					continue;
				}
				let mut lock = b"agora::vote::".to_vec();
				(job_id, member).encode_to(&mut lock);
				let claimed = StorageValueRef::persistent(&lock).mutate(
					|prev: Result<Option<BlockNumberFor<T>>, _>| match prev {
						Ok(Some(at)) if n < at.saturating_add(VOTE_RETRY.into()) => Err(()),
						_ => Ok(n),
					},
				);
				if claimed.is_err() {
					continue;
				}
				let Some(mut check) = Self::subject_audit_job(job_id) else {
					continue;
				};
				check.read_auth = Self::read_auth(job_id, key);
				let vote = match T::OffchainAudit::audit(verifier.as_deref(), &check) {
					Ok(v) => v,
					Err(e) => {
						log::warn!(target: "agora::audit", "job {job_id}: cannot vote: {e:?}");
						continue;
					},
				};
				// Withholding is judged over the check's window, not on one
				// failed fetch: vote `Withheld` only when no later attempt
				// would still land before the deadline.
				if vote == AuditVote::Withheld
					&& n.saturating_add(VOTE_RETRY.saturating_mul(2).into()) < audit.vote_deadline
				{
					log::warn!(target: "agora::audit", "job {job_id}: the provider did not serve; retrying in {VOTE_RETRY} blocks");
					continue;
				}
				let payload = VotePayload { job_id, member, vote };
				let Some(signature) = key.sign(&payload.signing_payload()) else {
					log::warn!(target: "agora::audit", "job {job_id}: the keystore cannot sign");
					continue;
				};
				log::info!(target: "agora::audit", "job {job_id}: member {member} votes {vote:?}");
				let xt = T::create_bare(Call::vote { payload, signature }.into());
				if SubmitTransaction::<T, Call<T>>::submit_transaction(xt).is_err() {
					log::warn!(target: "agora::audit", "job {job_id}: the pool refused the vote");
				}
			}
		}
	}
}
