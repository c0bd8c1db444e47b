//! The fuzzer's calls: each drawn from a seeded byte stream.
//!
//! Two kinds, as a fuzzer needs both to reach deep states and odd inputs:
//! - **structured** calls to every Agora pallet, built from the chain's own
//!   state (known models, offers, jobs and checks; receipts and votes signed
//!   by the keys the fuzzer holds), with values drawn near every boundary, and
//!   sometimes deliberately wrong (another signer, a mismatched field);
//! - **raw** calls: random bytes SCALE-decoded into a `RuntimeCall` of an
//!   allowed pallet (balances, staking, referenda, conviction voting,
//!   treasury, preimage and the Agora pallets), as srlabs'
//!   substrate-runtime-fuzzer drives a runtime.

use crate::{chain::key_of, chain::KEYS, Rng};
use agora_runtime::*;
use agora_primitives::{
	jobs::Receipt, AuditVote, DeterminismProfile, JobParams, JobStatus, TaskKind, VotePayload,
	models::ManifestInput,
};
use codec::DecodeLimit;
use frame_support::traits::fungible::Inspect;
use sp_core::Pair;
use sp_keyring::Sr25519Keyring;

/// Pallets whose calls the raw path may decode (by `pallet_index`): none that
/// would need a proof or key the fuzzer cannot make (BABE and GRANDPA reports,
/// session keys), none only root may call.
const RAW_PALLETS: &[u8] = &[4, 7, 12, 13, 15, 17, 19, 20, 22, 26, 27];

/// A call and the origin to dispatch it from; `None` for an unsigned vote,
/// which goes through `validate_unsigned` first, as the pool would.
pub struct Drawn {
	pub call: RuntimeCall,
	pub origin: Origin,
	/// What the generator meant, for the statistics.
	pub label: &'static str,
}

pub enum Origin {
	Signed(AccountId),
	Root,
	Unsigned,
}

std::thread_local! {
	/// The models of the run's genesis (`note_genesis`).
	static GENESIS_MODELS: core::cell::RefCell<Vec<[u8; 32]>> = const { core::cell::RefCell::new(Vec::new()) };
}

/// Notes the genesis models, at the start of a run.
pub fn note_genesis() {
	let ids = pallet_models::Models::<Runtime>::iter_keys().collect();
	GENESIS_MODELS.with(|g| *g.borrow_mut() = ids);
}

/// Draws the next call.
pub fn draw(rng: &mut Rng) -> Drawn {
	let who = *rng.pick(&KEYS);
	let signed = |call: RuntimeCall, label| Drawn { call, origin: Origin::Signed(who.to_account_id()), label };
	match rng.below(100) {
		0..=11 => signed(submit_job(rng, who), "jobs.submit_job"),
		12..=14 => signed(submit_jobs(rng, who), "jobs.submit_jobs"),
		15..=24 => receipt(rng),
		25..=29 => {
			let id = job_in(rng, &[JobStatus::Assigned]);
			job_call(rng, id, pallet_jobs::Call::acknowledge { job_id: id }, "jobs.acknowledge", true)
		},
		30..=33 | 44..=47 => {
			let id = ripe_receipt(rng);
			job_call(rng, id, pallet_jobs::Call::finalize { job_id: id }, "jobs.finalize", false)
		},
		34..=37 => {
			let id = job_in(rng, &[JobStatus::Assigned]);
			job_call(rng, id, pallet_jobs::Call::cancel_job { job_id: id }, "jobs.cancel_job", false)
		},
		38..=40 => {
			let id = job_in(rng, &[JobStatus::Finalized]);
			let rating = [-1i8, 0, 1, 2, i8::MIN][rng.below(5) as usize];
			job_call(rng, id, pallet_jobs::Call::rate { job_id: id, rating }, "jobs.rate", false)
		},
		41..=42 => {
			let id = job_in(rng, &[JobStatus::Assigned, JobStatus::Acknowledged]);
			let call = pallet_jobs::Call::report_input_missing { job_id: id };
			job_call(rng, id, call, "jobs.report_input_missing", true)
		},
		43 => {
			let id = job_in(rng, &[JobStatus::Receipted]);
			signed(RuntimeCall::Verification(pallet_verification::Call::dispute { job_id: id }), "verification.dispute")
		},
		48..=55 => vote(rng),
		56..=60 => {
			// Mostly from a bonded key: an offer from an unbonded one is refused,
			// and a genesis with few bonds would otherwise never see a job.
			let bonded: Vec<Sr25519Keyring> = KEYS
				.iter()
				.copied()
				.filter(|k| pallet_slashing::Bonds::<Runtime>::contains_key(k.to_account_id()))
				.collect();
			let by = if bonded.is_empty() || rng.below(4) == 0 { who } else { *rng.pick(&bonded) };
			Drawn { call: offer_call(rng), origin: Origin::Signed(by.to_account_id()), label: "models.offers" }
		},
		61..=62 => signed(register_model(rng, who), "models.register_model"),
		63 => signed(model_call(rng), "models.deprecate_or_remove"),
		64 => signed(transfer(rng, who), "balances.transfer"),
		65..=70 => signed(bond_call(rng, who), "slashing.bonds"),
		71..=74 => channel_call(rng, who),
		75..=76 => Drawn { call: set_param(rng), origin: Origin::Root, label: "market_params.set (root)" },
		77..=81 => pass_call(rng, who),
		_ => raw(rng, who),
	}
}

/// A service-pass call: lock, unlock, withdraw, a pass job (mostly), or a
/// service weight set by root.
fn pass_call(rng: &mut Rng, who: Sr25519Keyring) -> Drawn {
	let signed = |call, label| Drawn { call, origin: Origin::Signed(who.to_account_id()), label };
	match rng.below(8) {
		0 => {
			// Mostly a quota's worth (so that pass jobs get ordered), sometimes anything.
			let per_request = <configs::params::market::StakePerRequest as frame_support::traits::Get<Balance>>::get();
			let amount = match rng.below(4) {
				0 => amount(rng, who),
				_ => per_request.saturating_mul(1 + Balance::from(rng.below(20))),
			};
			signed(RuntimeCall::Passes(pallet_passes::Call::lock { amount }), "passes.lock")
		},
		1 => signed(RuntimeCall::Passes(pallet_passes::Call::unlock { amount: amount(rng, who) }), "passes.unlock"),
		2 => signed(RuntimeCall::Passes(pallet_passes::Call::withdraw_unlocked {}), "passes.withdraw_unlocked"),
		3 => Drawn {
			call: RuntimeCall::Passes(pallet_passes::Call::set_service_weight {
				model_id: models(rng),
				weight: rng.below(1_200) as u32,
			}),
			origin: Origin::Root,
			label: "passes.set_service_weight (root)",
		},
		_ => match submit_job(rng, who) {
			RuntimeCall::Jobs(pallet_jobs::Call::submit_job { model_id, input, params, deadline, .. }) => signed(
				RuntimeCall::Jobs(pallet_jobs::Call::submit_pass_job { model_id, input, params, deadline }),
				"jobs.submit_pass_job",
			),
			other => signed(other, "jobs.submit_job"),
		},
	}
}

/// A channel id: mostly an open one, sometimes one that does not exist.
fn channel_id(rng: &mut Rng) -> u64 {
	let open: Vec<u64> = pallet_channels::Channels::<Runtime>::iter_keys().collect();
	if open.is_empty() || rng.below(10) == 0 {
		return pallet_channels::NextChannelId::<Runtime>::get() + rng.below(2);
	}
	*rng.pick(&open)
}

/// A block near a channel's boundaries: now, just past it, or far ahead.
fn expiration(rng: &mut Rng) -> BlockNumber {
	let now = System::block_number();
	match rng.below(6) {
		0 => now,
		1 => now + 1,
		2 | 3 => now + 1 + rng.below(60) as BlockNumber,
		4 => now + 30 * DAYS + rng.below(2) as BlockNumber,
		_ => rng.next_u64() as BlockNumber,
	}
}

/// A payment-channel call: open, fund, extend, reclaim, a withdraw of the
/// claims (by the recipient or someone else, sometimes naming a channel twice
/// or an unknown one), or a batch of vouchers signed by the channel's signer
/// (sometimes by another key, replayed, lowered or over the value), claimed by
/// the recipient or someone else.
fn channel_call(rng: &mut Rng, who: Sr25519Keyring) -> Drawn {
	use agora_primitives::channels::{SignedVoucher, Voucher};
	let signed = |call, label| Drawn { call: RuntimeCall::Channels(call), origin: Origin::Signed(who.to_account_id()), label };
	let id = channel_id(rng);
	let channel = pallet_channels::Channels::<Runtime>::get(id);
	// The channel's sender, most of the time, for the sender's calls.
	let sender = match &channel {
		Some(c) if rng.below(5) != 0 => c.sender.clone(),
		_ => who.to_account_id(),
	};
	let as_sender = |call, label| Drawn { call: RuntimeCall::Channels(call), origin: Origin::Signed(sender.clone()), label };
	// With no open channel to act on, mostly open one.
	let pick = if channel.is_none() && rng.below(5) != 0 { 0 } else { rng.below(7) };
	match pick {
		0 => {
			let recipient = rng.pick(&KEYS).to_account_id();
			let signer = rng.pick(&KEYS).public().0;
			let call = pallet_channels::Call::open_channel {
				recipient,
				signer,
				value: if rng.below(2) == 0 { AGR * (1 + rng.below(100) as Balance) } else { amount(rng, who) },
				expiration: expiration(rng),
			};
			signed(call, "channels.open_channel")
		},
		1 => as_sender(pallet_channels::Call::add_funds { id, amount: amount(rng, who) }, "channels.add_funds"),
		2 => as_sender(pallet_channels::Call::extend { id, expiration: expiration(rng) }, "channels.extend"),
		3 => signed(pallet_channels::Call::reclaim { id }, "channels.reclaim"),
		4 => {
			let mut ids = vec![id];
			if rng.below(3) == 0 {
				ids.push(if rng.below(2) == 0 { id } else { channel_id(rng) });
			}
			let origin = match &channel {
				Some(c) if rng.below(6) != 0 => c.recipient.clone(),
				_ => who.to_account_id(),
			};
			let ids = ids.try_into().unwrap_or_default();
			let call = RuntimeCall::Channels(pallet_channels::Call::withdraw { ids });
			Drawn { call, origin: Origin::Signed(origin), label: "channels.withdraw" }
		},
		_ => {
			let Some(c) = channel else {
				let claims = Default::default();
				return signed(pallet_channels::Call::claim_batch { claims }, "channels.claim_batch");
			};
			let mut claims = Vec::new();
			for _ in 0..1 + rng.below(4) {
				let lane = rng.below(66) as u32;
				let state = c.lanes.get(&lane).copied().unwrap_or_default();
				// A fresh nonce five times in six, else a replayed one.
				let nonce = state.nonce.saturating_add(u64::from(rng.below(6) != 0) + rng.below(2));
				let unclaimed = c.value.saturating_sub(c.claimed);
				let cumulative = match rng.below(8) {
					0 => state.claimed,
					1 => state.claimed + unclaimed,
					2 => state.claimed + unclaimed + 1,
					_ => state.claimed + unclaimed / (2 + rng.below(8) as Balance),
				};
				let voucher = Voucher { channel_id: id, lane, nonce, cumulative };
				let key = match key_of(&c.signer) {
					Some(k) if rng.below(10) != 0 => k,
					_ => *rng.pick(&KEYS),
				};
				claims.push(SignedVoucher { voucher, signature: key.pair().sign(&voucher.signing_payload()).0 });
			}
			let origin = if rng.below(8) == 0 { who.to_account_id() } else { c.recipient.clone() };
			let claims = claims.try_into().unwrap_or_default();
			let call = RuntimeCall::Channels(pallet_channels::Call::claim_batch { claims });
			Drawn { call, origin: Origin::Signed(origin), label: "channels.claim_batch" }
		},
	}
}

/// An amount near a boundary that matters, or anywhere up to the account's
/// balance.
fn amount(rng: &mut Rng, who: Sr25519Keyring) -> Balance {
	let free = Balances::balance(&who.to_account_id());
	match rng.below(12) {
		0 => 0,
		1 => 1,
		2 => EXISTENTIAL_DEPOSIT - 1,
		3 => EXISTENTIAL_DEPOSIT,
		4 => AGR / 10,
		5 => AGR,
		6 => 100 * AGR,
		7 => 10_000 * AGR,
		8 => free,
		9 => free / 2,
		10 => Balance::MAX,
		_ => (rng.next_u64() as Balance) % (1_000 * AGR),
	}
}

fn models(rng: &mut Rng) -> [u8; 32] {
	let ids: Vec<_> = pallet_models::Models::<Runtime>::iter_keys().collect();
	if ids.is_empty() || rng.below(20) == 0 {
		rng.array()
	} else {
		*rng.pick(&ids)
	}
}

/// A job in one of `statuses` (four times in five, when there is one), else
/// any job id: so that each step of a job's life is reached, not only refused.
fn job_in(rng: &mut Rng, statuses: &[JobStatus]) -> u64 {
	if rng.below(5) != 0 {
		let ids: Vec<u64> = pallet_jobs::Jobs::<Runtime>::iter()
			.filter(|(_, j)| statuses.contains(&j.status))
			.map(|(id, _)| id)
			.collect();
		if !ids.is_empty() {
			return *rng.pick(&ids);
		}
	}
	job_id(rng)
}

/// A receipted job to finalize: mostly one whose dispute window has closed
/// (a dispute drawn first takes most receipts otherwise, and the fuzzer would
/// never reach a finalization whatever the seed), sometimes any receipted one.
fn ripe_receipt(rng: &mut Rng) -> u64 {
	let now = frame_system::Pallet::<Runtime>::block_number();
	let ripe: Vec<u64> = pallet_jobs::Jobs::<Runtime>::iter()
		.filter(|(_, j)| j.status == JobStatus::Receipted && j.receipt.as_ref().is_some_and(|r| r.window_end <= now))
		.map(|(id, _)| id)
		.collect();
	if ripe.is_empty() || rng.below(4) == 0 {
		return job_in(rng, &[JobStatus::Receipted]);
	}
	*rng.pick(&ripe)
}

/// A job id: mostly a recent one, sometimes one that does not exist.
fn job_id(rng: &mut Rng) -> u64 {
	let next = pallet_jobs::NextJobId::<Runtime>::get();
	if next == 0 || rng.below(20) == 0 {
		return next + rng.below(3);
	}
	next - 1 - rng.below(next.min(24))
}

fn offer_id(rng: &mut Rng) -> u64 {
	let next = pallet_models::NextOfferId::<Runtime>::get();
	if next == 0 || rng.below(20) == 0 {
		return next + rng.below(3);
	}
	next - 1 - rng.below(next.min(16))
}

/// An order: three times in five one an honest client would place (a short
/// inline input, greedy, a price and deadline that fit), else one with every
/// field drawn near or past its bounds.
fn submit_job(rng: &mut Rng, who: Sr25519Keyring) -> RuntimeCall {
	let now = System::block_number();
	let plausible = rng.below(5) < 3;
	let input = match (plausible, rng.below(8)) {
		(false, 0) => pallet_jobs::InputParam::Inline(Vec::new()),
		(_, 1) => pallet_jobs::InputParam::Hash(rng.array()),
		(false, 2) => pallet_jobs::InputParam::Inline(vec![b'x'; 16 * 1024 + 1]),
		_ => {
			let n = 1 + rng.below(64) as usize;
			pallet_jobs::InputParam::Inline(rng.bytes(n))
		},
	};
	let params = match plausible {
		true => JobParams { max_tokens: [1, 16, 64][rng.below(3) as usize], temperature_milli: 0, seed: 0 },
		false => JobParams {
			max_tokens: [0, 1, 16, 64, 8_192, 8_193, u32::MAX][rng.below(7) as usize],
			temperature_milli: [0, 700, 1_000, 2_000, 2_001, u32::MAX][rng.below(6) as usize],
			seed: rng.next_u64(),
		},
	};
	let deadline = match (plausible, rng.below(6)) {
		(true, _) => now + 10 + rng.below(40) as BlockNumber,
		(false, 0) => now,
		(false, 1) => now + 1,
		(false, 2) => now + 10_000_000,
		(false, _) => now + 3 + rng.below(60) as BlockNumber,
	};
	let provider = (rng.below(6) == 0).then(|| rng.pick(&KEYS).to_account_id());
	let max_price = match (plausible, rng.below(4)) {
		(false, 0) => amount(rng, who),
		_ => AGR / 100 * (1 + rng.below(500) as Balance),
	};
	// Mostly a model with offers: most registered ones have none.
	let offered: Vec<_> = pallet_models::ModelOfferCount::<Runtime>::iter()
		.filter(|(_, n)| *n > 0)
		.map(|(id, _)| id)
		.collect();
	let model_id = match offered.is_empty() || rng.below(4) == 0 {
		true => models(rng),
		false => *rng.pick(&offered),
	};
	RuntimeCall::Jobs(pallet_jobs::Call::submit_job {
		model_id,
		input,
		params,
		max_price,
		deadline,
		provider,
	})
}

/// A batch of orders: up to 8 drawn as [`submit_job`] draws them (the first
/// one's model and provider for the batch), sometimes none.
fn submit_jobs(rng: &mut Rng, who: Sr25519Keyring) -> RuntimeCall {
	let n = rng.below(9) as usize;
	let mut head = None;
	let mut orders = Vec::with_capacity(n);
	for _ in 0..n {
		if let RuntimeCall::Jobs(pallet_jobs::Call::submit_job { model_id, input, params, max_price, deadline, provider }) =
			submit_job(rng, who)
		{
			head.get_or_insert((model_id, provider));
			orders.push(pallet_jobs::Order { input, params, max_price, deadline });
		}
	}
	let (model_id, provider) = head.unwrap_or_else(|| (models(rng), None));
	RuntimeCall::Jobs(pallet_jobs::Call::submit_jobs {
		model_id,
		orders: frame_support::BoundedVec::truncate_from(orders),
		provider,
	})
}

/// A call on job `id`, signed by the party it needs (`provider` or the
/// client), or, one time in five, by anyone.
fn job_call(
	rng: &mut Rng,
	id: u64,
	call: pallet_jobs::Call<Runtime>,
	label: &'static str,
	by_provider: bool,
) -> Drawn {
	let party = pallet_jobs::Jobs::<Runtime>::get(id)
		.map(|j| if by_provider { j.provider } else { j.client });
	let who = match party {
		Some(p) if rng.below(5) != 0 => p,
		_ => rng.pick(&KEYS).to_account_id(),
	};
	Drawn { call: RuntimeCall::Jobs(call), origin: Origin::Signed(who), label }
}

/// A receipt for a job, signed by the job's worker key: mostly honest, or with
/// one field off (a count past `max_tokens`, another input, another signer).
fn receipt(rng: &mut Rng) -> Drawn {
	let id = job_in(rng, &[JobStatus::Acknowledged, JobStatus::Assigned]);
	let submitter = rng.pick(&KEYS).to_account_id();
	let Some(job) = pallet_jobs::Jobs::<Runtime>::get(id) else {
		let receipt = Receipt {
			job_id: id,
			model_id: rng.array(),
			input_hash: rng.array(),
			output_hash: rng.array(),
			output_tokens: 1,
			provider: submitter.clone(),
			worker_pubkey: rng.pick(&KEYS).public().0,
		};
		let call = pallet_jobs::Call::submit_receipt { job_id: id, receipt, signature: [0; 64] };
		return Drawn { call: RuntimeCall::Jobs(call), origin: Origin::Signed(submitter), label: "jobs.submit_receipt" };
	};
	let mut receipt = Receipt {
		job_id: id,
		model_id: job.model_id,
		input_hash: job.input.hash(),
		output_hash: rng.array(),
		output_tokens: 1 + rng.below(job.params.max_tokens.max(1) as u64) as u32,
		provider: job.provider.clone(),
		worker_pubkey: job.worker_key,
	};
	let mut signer = key_of(&job.worker_key);
	match rng.below(10) {
		0 => receipt.output_tokens = job.params.max_tokens.saturating_add(1),
		1 => receipt.input_hash = rng.array(),
		2 => signer = Some(*rng.pick(&KEYS)),
		3 => receipt.output_tokens = 0,
		_ => {},
	}
	let signature = signer.map(|k| k.pair().sign(&receipt.signing_payload()).0).unwrap_or([0; 64]);
	let call = pallet_jobs::Call::submit_receipt { job_id: id, receipt, signature };
	Drawn { call: RuntimeCall::Jobs(call), origin: Origin::Signed(submitter), label: "jobs.submit_receipt" }
}

/// A committee member's vote on a running check, signed with its `agora` key
/// when the fuzzer holds it (else by another key: a forged vote).
fn vote(rng: &mut Rng) -> Drawn {
	let audits: Vec<_> = pallet_verification::Audits::<Runtime>::iter().collect();
	let (job_id, committee_len, key) = match audits.is_empty() {
		true => (job_id(rng), 1, None),
		false => {
			let (id, audit) = rng.pick(&audits);
			let member = rng.below(audit.committee.len() as u64) as usize;
			let key = audit.committee.get(member).map(|(_, k)| k.clone().into_inner().0);
			(*id, audit.committee.len() as u32, key.map(|k| (member as u32, k)))
		},
	};
	let member = key.map(|(m, _)| m).unwrap_or(rng.below(committee_len as u64 + 1) as u32);
	let vote = [AuditVote::Valid, AuditVote::Invalid, AuditVote::Withheld][rng.below(3) as usize];
	let payload = VotePayload { job_id, member, vote };
	let signer = match key.and_then(|(_, k)| key_of(&k)) {
		Some(k) if rng.below(10) != 0 => k,
		_ => *rng.pick(&KEYS),
	};
	let signature: agora_primitives::AgoraSignature = signer.pair().sign(&payload.signing_payload()).into();
	let call = RuntimeCall::Verification(pallet_verification::Call::vote { payload, signature });
	Drawn { call, origin: Origin::Unsigned, label: "verification.vote" }
}

fn endpoint(rng: &mut Rng) -> Vec<u8> {
	let choices: [&[u8]; 5] = [
		b"https://provider.example.com:8443",
		b"http://127.0.0.1:8080",
		b"http://10.0.0.7",
		b"",
		b"not a url",
	];
	rng.pick(&choices).to_vec()
}

fn offer_call(rng: &mut Rng) -> RuntimeCall {
	let price = |rng: &mut Rng| [0, 1, AGR / 100, AGR, 1_000 * AGR, Balance::MAX][rng.below(6) as usize];
	let capacity = [0, 1, 4, 64, u32::MAX][rng.below(5) as usize];
	let n = rng.below(70) as usize;
	let hardware = rng.bytes(n);
	let call = match rng.below(6) {
		0 | 1 => pallet_models::Call::open_offer {
			model_id: models(rng),
			worker_key: rng.pick(&KEYS).public().0,
			base_price: price(rng),
			price_per_1k_tokens: price(rng),
			endpoint: endpoint(rng),
			capacity,
			hardware,
		},
		2 => pallet_models::Call::update_offer {
			offer_id: offer_id(rng),
			base_price: price(rng),
			price_per_1k_tokens: price(rng),
			endpoint: endpoint(rng),
			capacity,
			hardware,
		},
		3 => pallet_models::Call::pause_offer { offer_id: offer_id(rng) },
		4 => pallet_models::Call::resume_offer { offer_id: offer_id(rng) },
		_ => pallet_models::Call::close_offer { offer_id: offer_id(rng) },
	};
	RuntimeCall::Models(call)
}

fn register_model(rng: &mut Rng, who: Sr25519Keyring) -> RuntimeCall {
	let text = |rng: &mut Rng| {
		let n = [1, 8, 64, 65][rng.below(4) as usize];
		rng.bytes(n)
	};
	let task = [TaskKind::TextGeneration, TaskKind::Embedding][rng.below(2) as usize];
	let determinism = match rng.below(4) {
		0 => DeterminismProfile::Exact,
		1 => DeterminismProfile::TeacherForced { eps_milli: rng.below(6_000) as u32 },
		2 => DeterminismProfile::Cosine { min_cosine_ppm: rng.below(1_100_000) as u32 },
		_ => DeterminismProfile::TeacherForced { eps_milli: 1_000 },
	};
	let publisher = if rng.below(8) == 0 { rng.pick(&KEYS).to_account_id() } else { who.to_account_id() };
	let manifest: ManifestInput<AccountId> = agora_primitives::models::ModelManifest {
		name: text(rng),
		architecture: [b"llama".to_vec(), b"bert".to_vec(), rng.bytes(3)][rng.below(3) as usize].clone(),
		quantization: b"Q4_1".to_vec(),
		task,
		determinism,
		weights_hash: rng.array(),
		tokenizer_hash: (rng.below(2) == 0).then(|| rng.array()),
		config_hash: None,
		licence: b"Apache-2.0".to_vec(),
		publisher,
		royalty_bps: [0, 100, 10_000, 10_001][rng.below(4) as usize],
	};
	RuntimeCall::Models(pallet_models::Call::register_model { manifest })
}

/// Deprecates or removes a model: one time in thirty any (the shipped ones
/// too, which ends their market for the rest of the run), else one the fuzzer
/// registered, or none.
fn model_call(rng: &mut Rng) -> RuntimeCall {
	let shipped = GENESIS_MODELS.with(|g| g.borrow().clone());
	let mine: Vec<_> =
		pallet_models::Models::<Runtime>::iter_keys().filter(|id| !shipped.contains(id)).collect();
	let model_id = match (rng.below(30), mine.is_empty()) {
		(0, _) => models(rng),
		(_, false) => *rng.pick(&mine),
		(_, true) => rng.array(),
	};
	match rng.below(2) {
		0 => RuntimeCall::Models(pallet_models::Call::deprecate_model { model_id }),
		_ => RuntimeCall::Models(pallet_models::Call::remove_model { model_id }),
	}
}

fn bond_call(rng: &mut Rng, who: Sr25519Keyring) -> RuntimeCall {
	let amount = amount(rng, who);
	RuntimeCall::Slashing(match rng.below(4) {
		0 => pallet_slashing::Call::bond { amount },
		1 => pallet_slashing::Call::bond_extra { amount },
		2 => pallet_slashing::Call::unbond { amount },
		_ => pallet_slashing::Call::withdraw_unbonded {},
	})
}

fn transfer(rng: &mut Rng, who: Sr25519Keyring) -> RuntimeCall {
	let dest = sp_runtime::MultiAddress::Id(rng.pick(&KEYS).to_account_id());
	let value = amount(rng, who);
	RuntimeCall::Balances(match rng.below(2) {
		0 => pallet_balances::Call::transfer_keep_alive { dest, value },
		_ => pallet_balances::Call::transfer_allow_death { dest, value },
	})
}

/// A governed parameter set by root to a value near or past its bounds.
fn set_param(rng: &mut Rng) -> RuntimeCall {
	let spec = rng.pick(configs::params::PARAMS);
	let value = match rng.below(5) {
		0 => spec.min,
		1 => spec.max,
		2 => spec.min.saturating_sub(1),
		3 => spec.max.saturating_add(1),
		_ => spec.min + (rng.next_u64() as u128) % (spec.max - spec.min + 1),
	};
	match configs::params::from_name(spec.name, value) {
		Some(param) => RuntimeCall::MarketParams(configs::params::pallet_market_params::Call::set { param }),
		// A value its type cannot hold: the smallest instead.
		None => RuntimeCall::MarketParams(configs::params::pallet_market_params::Call::set {
			param: configs::params::from_name(spec.name, spec.min).expect("the minimum fits its type"),
		}),
	}
}

/// Random bytes decoded into a call of an allowed pallet; a transfer when they
/// do not decode.
fn raw(rng: &mut Rng, who: Sr25519Keyring) -> Drawn {
	for _ in 0..8 {
		let mut bytes = vec![*rng.pick(RAW_PALLETS), rng.below(48) as u8];
		// Small numbers are what most arguments want (indices, compact
		// lengths, enum variants); some bytes anywhere.
		bytes.extend((0..rng.below(160)).map(|_| match rng.below(4) {
			0 => rng.next_u64() as u8,
			_ => rng.below(4) as u8,
		}));
		if let Ok(call) = RuntimeCall::decode_with_depth_limit(8, &mut &bytes[..]) {
			return Drawn { call, origin: Origin::Signed(who.to_account_id()), label: "raw" };
		}
	}
	Drawn { call: transfer(rng, who), origin: Origin::Signed(who.to_account_id()), label: "balances.transfer" }
}
