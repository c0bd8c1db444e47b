//! Benchmarks of `pallet-jobs`, each in its worst case: the most candidates and
//! the longest input for `submit_job`, a full settlement for `finalize`, full
//! queues for `on_initialize`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::arithmetic_side_effects)]

use super::*;
use crate::Pallet as Jobs;
use agora_pallet_support::DueSet;
use agora_primitives::{JobParams, JobStatus, Receipt};
use alloc::{vec, vec::Vec};
use frame_benchmarking::v2::*;
use frame_support::{traits::Get, weights::Weight};
use frame_system::{pallet_prelude::BlockNumberFor, RawOrigin};
use sp_core::crypto::KeyTypeId;
use sp_runtime::{
	traits::{One, Saturating},
	SaturatedConversion,
};

/// Sets up what the benchmarks need from other pallets.
pub trait BenchmarkHelper<AccountId, Balance> {
	/// Registers a model and opens `offers` offers for it by bonded providers,
	/// every one signing with the key of `worker_seed`; returns the model id and
	/// the first offer's provider.
	fn setup_offers(offers: u32, worker: [u8; 32]) -> (agora_primitives::ModelId, AccountId);
	/// Funds `who`.
	fn fund(who: &AccountId, amount: Balance);
	/// Sets `MAX_INPUT_LEN` where the runtime keeps it (the benchmarks measure
	/// inputs up to the storage bound `MaxInputLen`).
	fn set_input_limit(bytes: u32);
	/// Does (skips) every queued audit draw where the receipt checker keeps
	/// them, so the queued finalizations may run (`ReceiptChecks::draws_pending_from`).
	fn finish_draws();
	/// Gives `who` a service pass with requests to spare this epoch.
	fn give_pass(who: &AccountId);
}

const KEY: KeyTypeId = KeyTypeId(*b"bnch");

fn worker() -> sp_core::sr25519::Public {
	sp_io::crypto::sr25519_generate(KEY, None)
}

fn client<T: Config>(i: u32) -> T::AccountId {
	let c: T::AccountId = account("client", i, 0);
	T::BenchmarkHelper::fund(&c, 1_000_000_000_000_000_000u128.saturated_into());
	c
}

fn params() -> JobParams {
	JobParams { max_tokens: 1_000, temperature_milli: 0, seed: 0 }
}

fn max_price<T: Config>() -> BalanceOf<T> {
	1_000_000_000_000u128.saturated_into()
}

/// Submits a job named for `provider` and returns its id.
/// The input hash of [`by_hash_past_grace`]'s job.
const BY_HASH_INPUT: [u8; 32] = [7; 32];

/// `c` orders a job of `provider`'s by hash ([`BY_HASH_INPUT`]) and the
/// client's grace passes without the input: the provider may report it.
fn by_hash_past_grace<T: Config>(
	c: &T::AccountId,
	model: agora_primitives::ModelId,
	provider: &T::AccountId,
) -> u64 {
	let id = NextJobId::<T>::get();
	Jobs::<T>::submit_job(
		RawOrigin::Signed(c.clone()).into(),
		model,
		InputParam::Hash(BY_HASH_INPUT),
		params(),
		max_price::<T>(),
		deadline::<T>(),
		Some(provider.clone()),
	)
	.unwrap();
	let now = frame_system::Pallet::<T>::block_number();
	frame_system::Pallet::<T>::set_block_number(now.saturating_add(T::InputGrace::get()));
	id
}

fn submit<T: Config>(
	c: &T::AccountId,
	model: agora_primitives::ModelId,
	provider: Option<T::AccountId>,
	deadline: BlockNumberFor<T>,
) -> u64 {
	let id = NextJobId::<T>::get();
	Jobs::<T>::submit_job(
		RawOrigin::Signed(c.clone()).into(),
		model,
		InputParam::Inline(vec![b'a'; 16]),
		params(),
		max_price::<T>(),
		deadline,
		provider,
	)
	.unwrap();
	id
}

fn sign<T: Config>(job_id: u64, key: &sp_core::sr25519::Public) -> (Receipt<T::AccountId>, [u8; 64]) {
	let job = Jobs_::<T>::get(job_id).unwrap();
	let r = Receipt {
		job_id,
		model_id: job.model_id,
		input_hash: job.input.hash(),
		output_hash: [7; 32],
		output_tokens: 1_000,
		provider: job.provider,
		worker_pubkey: key.0,
	};
	let sig = sp_io::crypto::sr25519_sign(KEY, key, &r.signing_payload()).unwrap();
	(r, sig.0)
}

use crate::Jobs as Jobs_;

/// A receipted job of a model with one offer: (job, provider, client). Other
/// pallets' benchmarks (`pallet-verification`'s) start from it.
pub fn receipted_job<T: Config>() -> (u64, T::AccountId, T::AccountId) {
	let key = worker();
	let (model, provider) = T::BenchmarkHelper::setup_offers(1, key.0);
	let c = client::<T>(0);
	let job = submit::<T>(&c, model, Some(provider.clone()), deadline::<T>());
	let (r, sig) = sign::<T>(job, &key);
	Jobs::<T>::submit_receipt(RawOrigin::Signed(provider.clone()).into(), job, r, sig).unwrap();
	(job, provider, c)
}

fn deadline<T: Config>() -> BlockNumberFor<T> {
	frame_system::Pallet::<T>::block_number().saturating_add(T::MaxDeadline::get())
}

#[benchmarks]
mod benchmarks {
	use super::*;

	/// `c`: the model's offers read (all fitting, so the AVRF weighs a sample
	/// of `MaxCandidates` of them when more fit); `i`: inline input bytes.
	#[benchmark]
	fn submit_job(c: Linear<1, { T::MaxOfferScan::get() }>, i: Linear<1, { T::MaxInputLen::get() }>) {
		T::BenchmarkHelper::set_input_limit(T::MaxInputLen::get());
		assert_eq!(T::InputLimit::get(), T::MaxInputLen::get());
		let (model, _) = T::BenchmarkHelper::setup_offers(c, worker().0);
		let who = client::<T>(0);
		let d = deadline::<T>();
		// The deadline block is one short of full and under pressure: the order
		// pays the surcharge and raises the pressure.
		let expire_at = d.saturating_add(One::one());
		ExpiryFill::<T>::insert(expire_at, T::MaxJobsPerBlock::get().saturating_sub(1));
		QueuePressure::<T>::put((frame_system::Pallet::<T>::block_number(), 7 * T::MaxJobsPerBlock::get()));
		#[extrinsic_call]
		_(RawOrigin::Signed(who), model, InputParam::Inline(vec![b'a'; i as usize]), params(), max_price::<T>(), d, None);
		let job = NextJobId::<T>::get() - 1;
		assert!(Jobs_::<T>::get(job).is_some());
		assert_eq!(QueuePressure::<T>::get().1, 7 * T::MaxJobsPerBlock::get() + 1);
	}

	/// `submit_job`'s worst case paid by a service pass: the pass read and
	/// written instead of the escrow hold.
	#[benchmark]
	fn submit_pass_job(c: Linear<1, { T::MaxOfferScan::get() }>, i: Linear<1, { T::MaxInputLen::get() }>) {
		T::BenchmarkHelper::set_input_limit(T::MaxInputLen::get());
		let (model, _) = T::BenchmarkHelper::setup_offers(c, worker().0);
		let who = client::<T>(0);
		T::BenchmarkHelper::give_pass(&who);
		let d = deadline::<T>();
		let expire_at = d.saturating_add(One::one());
		ExpiryFill::<T>::insert(expire_at, T::MaxJobsPerBlock::get().saturating_sub(1));
		QueuePressure::<T>::put((frame_system::Pallet::<T>::block_number(), 7 * T::MaxJobsPerBlock::get()));
		#[extrinsic_call]
		_(RawOrigin::Signed(who), model, InputParam::Inline(vec![b'a'; i as usize]), params(), d);
		let job = NextJobId::<T>::get() - 1;
		assert!(Jobs_::<T>::get(job).is_some());
	}

	/// `n` orders of one client in one extrinsic for a model with one offer,
	/// one-byte inputs: what each order costs beyond the window's read
	/// (`submit_jobs_weight` adds reading `c` offers once, at `submit_job`'s
	/// cost per offer read, and each order's weighing of them,
	/// [`weigh_offers`]). All due at one deadline block, under pressure and
	/// in its upper half (each pays the surcharge), where its
	/// `MaxJobsPerBlock` allows.
	#[benchmark]
	fn submit_jobs(n: Linear<1, { T::MaxOrderBatch::get() }>) {
		let (model, _) = T::BenchmarkHelper::setup_offers(1, worker().0);
		let who = client::<T>(0);
		let d = deadline::<T>();
		let per_block = T::MaxJobsPerBlock::get();
		if n <= per_block {
			ExpiryFill::<T>::insert(d.saturating_add(One::one()), per_block - n);
		}
		QueuePressure::<T>::put((frame_system::Pallet::<T>::block_number(), 7 * per_block));
		let orders: Vec<_> = (0..n)
			.map(|k| Order {
				input: InputParam::Inline(vec![b'a']),
				params: params(),
				max_price: max_price::<T>(),
				deadline: if n <= per_block { d } else { d.saturating_sub((k / per_block).into()) },
			})
			.collect();
		let orders: frame_support::BoundedVec<_, T::MaxOrderBatch> = orders.try_into().unwrap();
		let first = NextJobId::<T>::get();
		#[extrinsic_call]
		_(RawOrigin::Signed(who), model, orders, None);
		assert_eq!(NextJobId::<T>::get(), first + u64::from(n));
	}

	/// One order's draw over a read window of `c` offers, all fitting (what
	/// was read of them already cached, as for every order of a batch after
	/// the first): the filter, a sample of `MaxCandidates` when more fit,
	/// and the roulette pick.
	#[benchmark]
	fn weigh_offers(c: Linear<1, { T::MaxOfferScan::get() }>) {
		let (model, _) = T::BenchmarkHelper::setup_offers(c, worker().0);
		let seed = Jobs::<T>::avrf_seed(0);
		let mut window = crate::assign::OfferWindow::<T>::read(&model, &seed);
		assert_eq!(window.fitting(&params(), Some(max_price::<T>()), None).len(), c as usize);
		let picked;
		#[block]
		{
			let mut candidates = window.fitting(&params(), Some(max_price::<T>()), None);
			agora_primitives::rules::sample_candidates(&mut candidates, &seed, T::MaxCandidates::get());
			let weights: Vec<_> = candidates.iter().map(|(id, t, w)| (*id, t.provider.clone(), *w)).collect();
			picked = Jobs::<T>::avrf_pick(&seed, &weights);
		}
		assert!(picked.is_some());
	}

	/// `n` receipts of one provider's jobs in one extrinsic, each with its
	/// audit draw queued.
	#[benchmark]
	fn submit_receipts(n: Linear<1, { T::MaxReceiptBatch::get() }>) {
		let key = worker();
		let (model, provider) = T::BenchmarkHelper::setup_offers(1, key.0);
		let c = client::<T>(0);
		let d = deadline::<T>();
		let mut batch = vec![];
		for k in 0..n {
			let job = submit::<T>(&c, model, Some(provider.clone()), d.saturating_sub(k.into()));
			let (r, sig) = sign::<T>(job, &key);
			batch.push((job, r, sig));
		}
		let first = batch[0].0;
		let receipts: frame_support::BoundedVec<_, T::MaxReceiptBatch> = batch.try_into().unwrap();
		#[extrinsic_call]
		_(RawOrigin::Signed(provider), receipts);
		for job in first..first + u64::from(n) {
			assert_eq!(Jobs_::<T>::get(job).unwrap().status, JobStatus::Receipted);
		}
	}

	#[benchmark]
	fn acknowledge() {
		let (model, provider) = T::BenchmarkHelper::setup_offers(1, worker().0);
		let job = submit::<T>(&client::<T>(0), model, Some(provider.clone()), deadline::<T>());
		#[extrinsic_call]
		_(RawOrigin::Signed(provider), job);
		assert_eq!(Jobs_::<T>::get(job).unwrap().status, JobStatus::Acknowledged);
	}

	/// A receipt, with its audit draw queued by `T::Checks`.
	#[benchmark]
	fn submit_receipt() {
		let key = worker();
		let (model, provider) = T::BenchmarkHelper::setup_offers(1, key.0);
		let job = submit::<T>(&client::<T>(0), model, Some(provider.clone()), deadline::<T>());
		let (r, sig) = sign::<T>(job, &key);
		#[extrinsic_call]
		_(RawOrigin::Signed(provider), job, r, sig);
		assert_eq!(Jobs_::<T>::get(job).unwrap().status, JobStatus::Receipted);
	}

	#[benchmark]
	fn finalize() {
		let key = worker();
		let (model, provider) = T::BenchmarkHelper::setup_offers(1, key.0);
		let c = client::<T>(0);
		let job = submit::<T>(&c, model, Some(provider.clone()), deadline::<T>());
		let (r, sig) = sign::<T>(job, &key);
		Jobs::<T>::submit_receipt(RawOrigin::Signed(provider).into(), job, r, sig).unwrap();
		let now = frame_system::Pallet::<T>::block_number();
		frame_system::Pallet::<T>::set_block_number(now.saturating_add(T::DisputeWindow::get()));
		T::BenchmarkHelper::finish_draws();
		#[extrinsic_call]
		_(RawOrigin::Signed(c), job);
		assert_eq!(Jobs_::<T>::get(job).unwrap().status, JobStatus::Finalized);
	}

	#[benchmark]
	fn cancel_job() {
		let (model, provider) = T::BenchmarkHelper::setup_offers(1, worker().0);
		let c = client::<T>(0);
		let job = submit::<T>(&c, model, Some(provider), deadline::<T>());
		#[extrinsic_call]
		_(RawOrigin::Signed(c), job);
		assert_eq!(Jobs_::<T>::get(job).unwrap().status, JobStatus::Cancelled);
	}

	#[benchmark]
	fn report_input_missing() {
		let (model, provider) = T::BenchmarkHelper::setup_offers(1, worker().0);
		let job = by_hash_past_grace::<T>(&client::<T>(0), model, &provider);
		#[extrinsic_call]
		_(RawOrigin::Signed(provider), job);
		assert_eq!(Jobs_::<T>::get(job).unwrap().status, JobStatus::InputMissing);
	}

	#[benchmark]
	fn contest_input_missing() {
		let key = worker();
		let (model, provider) = T::BenchmarkHelper::setup_offers(1, key.0);
		let c = client::<T>(0);
		let job = by_hash_past_grace::<T>(&c, model, &provider);
		Jobs::<T>::report_input_missing(RawOrigin::Signed(provider).into(), job).unwrap();
		let upload = agora_primitives::UploadReceipt { job_id: job, input_hash: BY_HASH_INPUT };
		let sig = sp_io::crypto::sr25519_sign(KEY, &key, &upload.signing_payload()).unwrap().0;
		#[extrinsic_call]
		_(RawOrigin::Signed(c), job, sig);
		assert_eq!(Jobs_::<T>::get(job).unwrap().status, JobStatus::Fraud);
	}

	#[benchmark]
	fn rate() {
		let key = worker();
		let (model, provider) = T::BenchmarkHelper::setup_offers(1, key.0);
		let c = client::<T>(0);
		let job = submit::<T>(&c, model, Some(provider.clone()), deadline::<T>());
		let (r, sig) = sign::<T>(job, &key);
		Jobs::<T>::submit_receipt(RawOrigin::Signed(provider).into(), job, r, sig).unwrap();
		let now = frame_system::Pallet::<T>::block_number();
		frame_system::Pallet::<T>::set_block_number(now.saturating_add(T::DisputeWindow::get()));
		T::BenchmarkHelper::finish_draws();
		Jobs::<T>::finalize(RawOrigin::Signed(c.clone()).into(), job).unwrap();
		#[extrinsic_call]
		_(RawOrigin::Signed(c), job, 1);
		assert_eq!(Jobs_::<T>::get(job).unwrap().rating, Some(1));
	}

	/// `f` jobs to finalize, `e` to expire and `p` to prune in one block: the
	/// hook's drain with no budget limit (the hook takes as many as
	/// `QueueWeight` allows by these weights; measured with the weights
	/// compiled in, a hook cut short would bend the slopes), every set
	/// emptied (asserted), the expiries, all due at one deadline, within its
	/// `MaxJobsPerBlock`; the per-job slopes bound any larger block's work.
	#[benchmark]
	fn on_initialize(
		f: Linear<0, { T::MaxJobsPerBlock::get().min(64) }>,
		e: Linear<0, { T::MaxJobsPerBlock::get().min(64) }>,
		p: Linear<0, { T::MaxJobsPerBlock::get().min(64) }>,
	) {
		let key = worker();
		// Enough capacity: one offer per job kind, each of a distinct provider.
		let (model, provider) = T::BenchmarkHelper::setup_offers(1, key.0);
		let start = frame_system::Pallet::<T>::block_number();
		let window = T::DisputeWindow::get();
		// All three queues land on block `at`.
		let at = start.saturating_add(window);
		let c = client::<T>(0);
		let d = deadline::<T>();
		let mut k: u32 = 0;
		let mut next_deadline = || {
			k += 1;
			d.saturating_sub(k.into())
		};
		for _ in 0..f {
			let job = submit::<T>(&c, model, Some(provider.clone()), next_deadline());
			let (r, sig) = sign::<T>(job, &key);
			Jobs::<T>::submit_receipt(RawOrigin::Signed(provider.clone()).into(), job, r, sig).unwrap();
		}
		for _ in 0..e {
			submit::<T>(&c, model, Some(provider.clone()), at.saturating_sub(One::one()));
		}
		for _ in 0..p {
			let id = NextJobId::<T>::get();
			submit::<T>(&c, model, Some(provider.clone()), next_deadline());
			Jobs::<T>::cancel_job(RawOrigin::Signed(c.clone()).into(), id).unwrap();
			PruneQueue::<T>::schedule(at, id);
		}
		frame_system::Pallet::<T>::set_block_number(at);
		T::BenchmarkHelper::finish_draws();
		DueCursors::<T>::put(Cursors { finalize: at, expiry: at, prune: at });
		#[block]
		{
			Jobs::<T>::drain_within(at, Weight::MAX, None);
		}
		assert_eq!(FinalizeQueue::<T>::iter_prefix(at).count(), 0);
		assert_eq!(ExpiryQueue::<T>::iter_prefix(at).count(), 0);
		assert_eq!(PruneQueue::<T>::iter_prefix(at).count(), 0);
	}

	impl_benchmark_test_suite!(Jobs, crate::mock::new_bench_ext(), crate::mock::Test);
}
