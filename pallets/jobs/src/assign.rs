//! Provider assignment: prices, the AVRF candidates and draw (the rules
//! themselves are `agora_primitives::rules`).
use agora_pallet_support::DueSet;
use crate::{pallet::*, types::*, weights::WeightInfo};
use agora_primitives::{
	jobs::MAX_TEMPERATURE_MILLI, rules, JobEscrow, JobId, JobParams, JobStatus, ModelId, OfferId,
	OfferRegistry, OfferTerms, PaymentMode, ProviderBonds, Reputation, ServicePasses, TaskKind,
};
use alloc::vec::Vec;
use frame_support::pallet_prelude::*;
use frame_system::pallet_prelude::*;
use sp_runtime::{
	traits::{CheckedAdd, CheckedDiv, CheckedMul, One, Saturating},
	SaturatedConversion,
};

/// A model's offers one order's draw reads, or a batch's
/// ([`Pallet::submit_jobs`]): `MaxOfferScan` consecutive slots of the model's
/// offer index from a start the reading order's AVRF seed draws
/// ([`rules::scan_start`], [`rules::scan_slots`]), each offer's open jobs,
/// bond and reputation read at most once, when an order first weighs it.
pub(crate) struct OfferWindow<T: Config> {
	offers: Vec<WindowOffer<T>>,
}

/// An offer of an [`OfferWindow`], with what was read of it so far.
struct WindowOffer<T: Config> {
	id: OfferId,
	terms: OfferTerms<T::AccountId, BalanceOf<T>>,
	load: Option<u32>,
	bonded: Option<bool>,
	score: Option<u32>,
}

impl<T: Config> OfferWindow<T> {
	/// Reads the window of `model_id`'s offers that `avrf_seed` draws.
	pub(crate) fn read(model_id: &ModelId, avrf_seed: &[u8; 32]) -> Self {
		let offers = T::Offers::offers_for(model_id, T::MaxOfferScan::get(), rules::scan_start(avrf_seed));
		let offers = offers
			.into_iter()
			.map(|(id, terms)| WindowOffer { id, terms, load: None, bonded: None, score: None })
			.collect();
		Self { offers }
	}

	/// How many offers were read.
	pub(crate) fn len(&self) -> u32 {
		u32::try_from(self.offers.len()).unwrap_or(u32::MAX)
	}

	/// The offers an order can go to, with their AVRF weights: those active,
	/// priced within `max_price` for `max_tokens` (any price when `None`: a
	/// pass job), with free capacity and (if named) of `provider`. The caller
	/// bounds them to `MaxCandidates` ([`rules::sample_candidates`]).
	#[allow(clippy::type_complexity)]
	pub(crate) fn fitting(
		&mut self,
		params: &JobParams,
		max_price: Option<BalanceOf<T>>,
		provider: Option<&T::AccountId>,
	) -> Vec<(OfferId, OfferTerms<T::AccountId, BalanceOf<T>>, u32)> {
		let mut out = Vec::new();
		for o in self.offers.iter_mut() {
			let t = &o.terms;
			let fits = t.active
				&& provider.is_none_or(|p| &t.provider == p)
				&& max_price.is_none_or(|cap| {
					Pallet::<T>::price(t.base_price, t.price_per_1k_tokens, params.max_tokens)
						.is_some_and(|p| p <= cap)
				})
				&& *o.load.get_or_insert_with(|| OfferLoad::<T>::get(o.id)) < t.capacity
				// Last, as it reads the bond: a provider under the minimum
				// stake in force gets no new job, also when governance has
				// raised the minimum since its offers opened (its offers are
				// paused only when its own bond changes).
				&& *o.bonded.get_or_insert_with(|| T::Bonds::is_bonded(&t.provider));
			if fits {
				let w = *o.score.get_or_insert_with(|| T::Reputation::score(&t.provider).min(100));
				out.push((o.id, t.clone(), w));
			}
		}
		out
	}

	/// One more open job on offer `id` (as `OfferLoad` now holds).
	pub(crate) fn assigned(&mut self, id: OfferId) {
		if let Some(o) = self.offers.iter_mut().find(|o| o.id == id) {
			o.load = Some(o.load.unwrap_or_default().saturating_add(1));
		}
	}
}

/// How an order pays: held escrow (and perhaps a named provider), or a
/// request of the client's service pass.
pub(crate) enum PayBy<T: Config> {
	Escrow { max_price: BalanceOf<T>, provider: Option<T::AccountId> },
	Pass,
}

impl<T: Config> PayBy<T> {
	/// The job's payment mode, escrow and named provider.
	fn split(self) -> (PaymentMode, BalanceOf<T>, Option<T::AccountId>) {
		match self {
			Self::Escrow { max_price, provider } => (PaymentMode::Escrow, max_price, provider),
			Self::Pass => (PaymentMode::Pass, Default::default(), None),
		}
	}
}

impl<T: Config> Pallet<T> {
	/// [`Pallet::submit_job`] after the origin check: validates the order, holds
	/// the escrow, assigns the job, queues its expiry; weighed by the offers read.
	pub(crate) fn do_submit_job(
		client: T::AccountId,
		model_id: ModelId,
		input: InputParam,
		params: JobParams,
		deadline: BlockNumberFor<T>,
		pay: PayBy<T>,
	) -> DispatchResultWithPostInfo {
		let pass = matches!(pay, PayBy::Pass);
		let len = input.inline_len().min(T::MaxInputLen::get());
		let mut window = None;
		match Self::assign_job(client, model_id, input, params, deadline, pay, &mut window) {
			// Charged for the offers read and the input bytes carried (0 for an
			// input by hash), not the bounds the call was admitted with.
			Ok(read) => Ok(Some(Self::submit_weight(read, len, pass)).into()),
			Err(error) => {
				// Only the last two refusals come after the offers are read; the
				// others are charged for the checks alone, not the scan.
				let scanned = Self::refused_after_scan(&error);
				let weight = if scanned {
					Self::submit_weight(T::MaxOfferScan::get(), len, pass)
				} else {
					Self::submit_weight(1, len, pass)
				};
				Err(sp_runtime::DispatchErrorWithPostInfo { post_info: Some(weight).into(), error })
			},
		}
	}

	/// [`Pallet::submit_jobs`] after the origin and emptiness checks: each
	/// order in its own storage layer, the offers' window read once; returns
	/// the weight of what was done.
	pub(crate) fn do_submit_jobs(
		client: T::AccountId,
		model_id: ModelId,
		orders: Vec<Order<BalanceOf<T>, BlockNumberFor<T>>>,
		provider: Option<T::AccountId>,
	) -> Weight {
		let n = u32::try_from(orders.len()).unwrap_or(u32::MAX);
		let lens: Vec<u32> = orders.iter().map(|o| o.inline_len().min(T::MaxInputLen::get())).collect();
		let mut window = None;
		let mut scanned = false;
		for (index, order) in orders.into_iter().enumerate() {
			let pay = PayBy::Escrow { max_price: order.max_price, provider: provider.clone() };
			let r = frame_support::storage::with_storage_layer(|| {
				Self::assign_job(client.clone(), model_id, order.input, order.params, order.deadline, pay, &mut window)
			});
			if let Err(error) = r {
				scanned |= Self::refused_after_scan(&error);
				let index = u32::try_from(index).unwrap_or(u32::MAX);
				Self::deposit_event(Event::OrderRefused { index, error });
			}
		}
		// Charged for the offers read once, whoever read them.
		let read = window.as_ref().map_or(if scanned { T::MaxOfferScan::get() } else { 1 }, |w| w.len());
		Self::submit_jobs_weight(n, read.max(1), lens.into_iter())
	}

	/// Whether an order's refusal came after the model's offers were read
	/// (the last two checks of [`Pallet::assign_job`]): it is charged the
	/// scan, the others only the checks.
	fn refused_after_scan(error: &DispatchError) -> bool {
		*error == Error::<T>::NoFittingOffer.into() || *error == Error::<T>::InsufficientBalance.into()
	}

	/// A batch's benchmarked weight: `n` orders (`submit_jobs`, measured with
	/// one offer and one-byte inputs), the window of `read` offers read once
	/// (what reading them adds to a lone `submit_job`), each order's weighing
	/// of them (`weigh_offers`), and each order's inline bytes at
	/// `submit_job`'s cost per byte.
	pub fn submit_jobs_weight(n: u32, read: u32, lens: impl Iterator<Item = u32>) -> Weight {
		let per_bytes = |len: u32| {
			T::WeightInfo::submit_job(1, len).saturating_sub(T::WeightInfo::submit_job(1, 1))
		};
		let window = T::WeightInfo::submit_job(read, 1).saturating_sub(T::WeightInfo::submit_job(1, 1));
		let weighing = T::WeightInfo::weigh_offers(read).saturating_mul(u64::from(n));
		let base = T::WeightInfo::submit_jobs(n).saturating_add(window).saturating_add(weighing);
		lens.fold(base, |w, len| w.saturating_add(per_bytes(len)))
	}

	/// Checks an order, holds its escrow and assigns it; the number of the
	/// model's offers read. The draw is over `window`, read first (from this
	/// job's AVRF seed) when it is `None`: the orders of one batch share the
	/// window of the first of them to reach the draw.
	pub(crate) fn assign_job(
		client: T::AccountId,
		model_id: ModelId,
		input: InputParam,
		params: JobParams,
		deadline: BlockNumberFor<T>,
		pay: PayBy<T>,
		window: &mut Option<OfferWindow<T>>,
	) -> Result<u32, DispatchError> {
		let (payment, max_price, provider) = pay.split();
		let now = frame_system::Pallet::<T>::block_number();
		let model = T::Offers::model(&model_id).ok_or(Error::<T>::UnknownModel)?;
		ensure!(!model.deprecated, Error::<T>::ModelDeprecated);
		ensure!(params.temperature_milli <= MAX_TEMPERATURE_MILLI, Error::<T>::TemperatureTooHigh);
		ensure!(
			params.temperature_milli == 0 || model.task == TaskKind::TextGeneration,
			Error::<T>::SamplingNotSupported
		);
		let input = match input {
			InputParam::Inline(b) => {
				ensure!(!b.is_empty(), Error::<T>::EmptyInput);
				ensure!(b.len() <= T::InputLimit::get() as usize, Error::<T>::InputTooLong);
				JobInput::Inline(b.try_into().map_err(|_| Error::<T>::InputTooLong)?)
			},
			InputParam::Hash(h) => JobInput::Hash(h),
		};
		ensure!(
			params.max_tokens > 0 && params.max_tokens <= T::MaxTokensPerJob::get(),
			Error::<T>::InvalidMaxTokens
		);
		ensure!(deadline > now, Error::<T>::DeadlineInPast);
		let latest = now.checked_add(&T::MaxDeadline::get()).ok_or(Error::<T>::Overflow)?;
		ensure!(deadline <= latest, Error::<T>::DeadlineTooFar);
		let expire_at = deadline.checked_add(&One::one()).ok_or(Error::<T>::Overflow)?;
		let fill = ExpiryFill::<T>::get(expire_at);
		ensure!(fill < T::MaxJobsPerBlock::get(), Error::<T>::DeadlineBusy);
		if payment == PaymentMode::Pass {
			// Before the offers are read, so a refusal is charged for the checks
			// alone; a later refusal undoes it (the call is transactional).
			T::Passes::take_request(&client)?;
		}
		// An upper-half order pays the surcharge, raised by the decayed queue
		// pressure, and adds one to the pressure; a lower-half order reads
		// nothing and pays nothing.
		let pressure = rules::in_upper_half(fill, T::MaxJobsPerBlock::get()).then(|| {
			let (at, p) = QueuePressure::<T>::get();
			let elapsed: u64 = now.saturating_sub(at).saturated_into();
			rules::queue_pressure(p, elapsed, T::QueuePressureHalfLife::get().saturated_into())
		});
		let surcharge: BalanceOf<T> = rules::queue_surcharge(
			T::QueueSurcharge::get().saturated_into(),
			fill,
			T::MaxJobsPerBlock::get(),
			pressure.unwrap_or(0),
		)
		.saturated_into();
		let job_id = NextJobId::<T>::get();
		let next_id = job_id.checked_add(1).ok_or(Error::<T>::Overflow)?;

		let seed = Self::avrf_seed(job_id);
		// A pass job fits any price: its provider is paid from issuance.
		let price_cap = (payment == PaymentMode::Escrow).then_some(max_price);
		let window = window.get_or_insert_with(|| OfferWindow::read(&model_id, &seed));
		let considered = window.len();
		let mut candidates = window.fitting(&params, price_cap, provider.as_ref());
		rules::sample_candidates(&mut candidates, &seed, T::MaxCandidates::get());
		let (offer_id, terms, avrf) = if provider.is_some() {
			let (id, t, _) = candidates.into_iter().next().ok_or(Error::<T>::NoFittingOffer)?;
			(id, t, None)
		} else {
			let weights: Vec<(OfferId, T::AccountId, u32)> =
				candidates.iter().map(|(id, t, w)| (*id, t.provider.clone(), *w)).collect();
			let idx = Self::avrf_pick(&seed, &weights).ok_or(Error::<T>::NoFittingOffer)?;
			let (id, t, _) = candidates.into_iter().nth(idx).ok_or(Error::<T>::NoFittingOffer)?;
			let bounded: BoundedVec<_, T::MaxCandidates> = BoundedVec::truncate_from(weights);
			(id, t, Some((seed, bounded)))
		};
		T::Escrow::lock(job_id, &client, max_price).map_err(|_| Error::<T>::InsufficientBalance)?;
		// The call is transactional: a surcharge the client cannot pay undoes the lock.
		T::Escrow::charge_fee(&client, surcharge).map_err(|_| Error::<T>::InsufficientBalance)?;

		let input_hash = input.hash();
		let job = Job {
			client: client.clone(),
			model_id,
			input,
			params,
			job_seed: rules::job_seed(
				&agora_pallet_support::block_randomness::<T, T::Randomness>(rules::JOB_SEED_CONTEXT),
				job_id,
				params.seed,
			),
			payment,
			max_price,
			deadline,
			provider: terms.provider.clone(),
			offer_id,
			worker_key: terms.worker_key,
			base_price: terms.base_price,
			price_per_1k_tokens: terms.price_per_1k_tokens,
			status: JobStatus::Assigned,
			submitted_at: now,
			avrf_seed: avrf.as_ref().map(|(s, _)| *s),
			receipt: None,
			charge: None,
			rating: None,
		};
		Jobs::<T>::insert(job_id, job);
		NextJobId::<T>::put(next_id);
		if let Some((seed, list)) = avrf.clone() {
			Assignments::<T>::insert(job_id, (seed, list, offer_id));
		}
		OfferLoad::<T>::mutate(offer_id, |n| n.saturating_inc());
		window.assigned(offer_id);
		ProviderOpenJobs::<T>::mutate(&terms.provider, |n| n.saturating_inc());
		// Checked above that there is room; `expire_at` is at least two blocks
		// ahead, past the expiry cursor.
		ExpiryQueue::<T>::schedule(expire_at, job_id);
		ExpiryFill::<T>::insert(expire_at, fill.saturating_add(1));
		if let Some(p) = pressure {
			QueuePressure::<T>::put((now, p.saturating_add(1)));
		}
		Self::deposit_event(Event::JobAssigned {
			job_id,
			client,
			model_id,
			provider: terms.provider,
			offer_id,
			worker_key: terms.worker_key,
			input_hash,
			params,
			max_price,
			deadline,
			by_avrf: avrf.is_some(),
		});
		Ok(considered)
	}

	/// The most an offer charges for `tokens` output tokens:
	/// `base + per_1k × tokens / 1000`.
	pub fn price(
		terms_base: BalanceOf<T>,
		per_1k: BalanceOf<T>,
		tokens: u32,
	) -> Option<BalanceOf<T>> {
		per_1k
			.checked_mul(&BalanceOf::<T>::from(tokens))?
			.checked_div(&BalanceOf::<T>::from(1_000u32))?
			.checked_add(&terms_base)
	}

	/// An order's benchmarked weight after reading `read` offers with `len`
	/// input bytes: `submit_pass_job`'s when paid by a pass, else
	/// `submit_job`'s.
	pub fn submit_weight(read: u32, len: u32, pass: bool) -> Weight {
		if pass {
			T::WeightInfo::submit_pass_job(read, len)
		} else {
			T::WeightInfo::submit_job(read, len)
		}
	}

	/// The AVRF seed of a job ([`rules::avrf_seed`] over this block's randomness).
	pub fn avrf_seed(job_id: JobId) -> [u8; 32] {
		rules::avrf_seed(&agora_pallet_support::block_randomness::<T, T::Randomness>(rules::AVRF_CONTEXT), job_id)
	}

	/// The roulette-wheel pick ([`rules::roulette_pick`]) over `(offer,
	/// provider, weight)` candidates.
	pub fn avrf_pick(
		seed: &[u8; 32],
		candidates: &[(OfferId, T::AccountId, u32)],
	) -> Option<usize> {
		let weights: Vec<u32> = candidates.iter().map(|(_, _, w)| *w).collect();
		rules::roulette_pick(seed, &weights)
	}

	/// Runtime API: how an AVRF-assigned job was drawn.
	pub fn assignment_of(job_id: JobId) -> Option<Assignment<T::AccountId>> {
		Assignments::<T>::get(job_id).map(|(seed, candidates, offer_id)| Assignment {
			seed,
			candidates: candidates.into_inner(),
			offer_id,
		})
	}
}
