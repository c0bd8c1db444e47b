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
		let len = match &input {
			InputParam::Inline(b) => u32::try_from(b.len()).unwrap_or(u32::MAX).min(T::MaxInputLen::get()),
			InputParam::Hash(_) => 0,
		};
		match Self::assign_job(client, model_id, input, params, deadline, pay) {
			// Charged for the offers read and the input bytes carried (0 for an
			// input by hash), not the bounds the call was admitted with.
			Ok(read) => Ok(Some(Self::submit_weight(read, len, pass)).into()),
			Err(error) => {
				// Only the last two refusals come after the offers are read; the
				// others are charged for the checks alone, not the scan.
				let scanned = error == Error::<T>::NoFittingOffer.into()
					|| error == Error::<T>::InsufficientBalance.into();
				let weight = if scanned {
					Self::submit_weight(T::MaxOfferScan::get(), len, pass)
				} else {
					Self::submit_weight(1, len, pass)
				};
				Err(sp_runtime::DispatchErrorWithPostInfo { post_info: Some(weight).into(), error })
			},
		}
	}

	/// Checks an order, holds its escrow and assigns it; the number of the
	/// model's offers read.
	fn assign_job(
		client: T::AccountId,
		model_id: ModelId,
		input: InputParam,
		params: JobParams,
		deadline: BlockNumberFor<T>,
		pay: PayBy<T>,
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
		let (candidates, considered) =
			Self::candidates(&model_id, &params, price_cap, provider.as_ref(), &seed);
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

	/// The offers a job can go to, with their AVRF weights, and how many of
	/// the model's offers were read: of `MaxOfferScan` offers of the model
	/// (consecutive index slots from a start the job's AVRF seed draws,
	/// [`rules::scan_start`], [`rules::scan_slots`]),
	/// those active, priced within `max_price` for `max_tokens` (any price
	/// when `None`: a pass job), with
	/// free capacity and (if named) of `provider`; when more than
	/// `MaxCandidates` fit, a sample of that many seeded by the job's AVRF seed
	/// ([`rules::sample_candidates`]).
	#[allow(clippy::type_complexity)]
	pub fn candidates(
		model_id: &ModelId,
		params: &JobParams,
		max_price: Option<BalanceOf<T>>,
		provider: Option<&T::AccountId>,
		avrf_seed: &[u8; 32],
	) -> (Vec<(OfferId, OfferTerms<T::AccountId, BalanceOf<T>>, u32)>, u32) {
		let offers = T::Offers::offers_for(model_id, T::MaxOfferScan::get(), rules::scan_start(avrf_seed));
		let scanned = offers.len() as u32;
		let mut fitting: Vec<_> = offers
			.into_iter()
			.filter(|(id, t)| {
				t.active
					&& provider.is_none_or(|p| &t.provider == p)
					&& max_price.is_none_or(|cap| {
						Self::price(t.base_price, t.price_per_1k_tokens, params.max_tokens)
							.is_some_and(|p| p <= cap)
					})
					&& OfferLoad::<T>::get(id) < t.capacity
					// Last, as it reads the bond: a provider under the minimum
					// stake in force gets no new job, also when governance has
					// raised the minimum since its offers opened (its offers
					// are paused only when its own bond changes).
					&& T::Bonds::is_bonded(&t.provider)
			})
			.map(|(id, t)| {
				let w = T::Reputation::score(&t.provider).min(100);
				(id, t, w)
			})
			.collect();
		rules::sample_candidates(&mut fitting, avrf_seed, T::MaxCandidates::get());
		(fitting, scanned)
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
