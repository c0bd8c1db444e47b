//! The dispatchable calls of `pallet-jobs`: what a client, a provider or
//! anyone may ask of the market. Each checks its origin and arguments and
//! hands the work to the topic module behind it (`assign.rs`, `lifecycle.rs`,
//! `settle.rs`, `inputs.rs`). A [`frame_support::pallet_macros::pallet_section`]
//! that `lib.rs` imports into the pallet module, so the calls see its
//! storage, events and errors as their own.
use frame_support::pallet_macros::pallet_section;

#[pallet_section]
mod calls {
	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Order a job, holding `max_price` in escrow, and assign it: to
		/// `provider` if named, else by AVRF.
		///
		/// - Origin: signed, the client.
		/// - Emits [`Event::JobAssigned`].
		/// - Errors: [`Error::UnknownModel`], [`Error::ModelDeprecated`],
		///   [`Error::TemperatureTooHigh`], [`Error::SamplingNotSupported`],
		///   [`Error::EmptyInput`], [`Error::InputTooLong`], [`Error::InvalidMaxTokens`],
		///   [`Error::DeadlineInPast`], [`Error::DeadlineTooFar`],
		///   [`Error::DeadlineBusy`], [`Error::NoFittingOffer`],
		///   [`Error::InsufficientBalance`], [`Error::Overflow`].
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::submit_job(T::MaxOfferScan::get(), T::MaxInputLen::get()))]
		pub fn submit_job(
			origin: OriginFor<T>,
			model_id: ModelId,
			input: InputParam,
			params: JobParams,
			max_price: BalanceOf<T>,
			deadline: BlockNumberFor<T>,
			provider: Option<T::AccountId>,
		) -> DispatchResultWithPostInfo {
			let client = ensure_signed(origin)?;
			Self::do_submit_job(client, model_id, input, params, deadline, PayBy::Escrow { max_price, provider })
		}

		/// The provider takes the job; the client can no longer cancel it.
		///
		/// - Origin: signed, the job's provider.
		/// - Emits [`Event::JobAcknowledged`].
		/// - Errors: [`Error::UnknownJob`], [`Error::NotProvider`], [`Error::InvalidState`].
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::acknowledge())]
		pub fn acknowledge(origin: OriginFor<T>, job_id: JobId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_acknowledge(who, job_id)
		}

		/// Post the worker's signed receipt. Anyone may submit it (a worker's
		/// fee-paying account need not be the provider); the signature must be
		/// by the offer's worker key over `b"agora/receipt/v1" ++ SCALE(receipt)`.
		///
		/// - Origin: signed.
		/// - Emits [`Event::JobReceipted`].
		/// - Errors: [`Error::UnknownJob`], [`Error::AlreadyReceipted`],
		///   [`Error::InvalidState`], [`Error::DeadlinePassed`],
		///   [`Error::ReceiptMismatch`], [`Error::WrongWorkerKey`],
		///   [`Error::TooManyTokens`], [`Error::BadSignature`],
		///   [`Error::Overflow`], or the checker's error.
		///
		/// `T::Checks` is told of the receipt (`pallet-verification` queues its
		/// audit draw).
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::submit_receipt())]
		pub fn submit_receipt(
			origin: OriginFor<T>,
			job_id: JobId,
			receipt: Receipt<T::AccountId>,
			signature: [u8; 64],
		) -> DispatchResult {
			ensure_signed(origin)?;
			Self::do_submit_receipt(job_id, receipt, signature)
		}

		/// Finalize a receipted job whose dispute window has passed and whose
		/// audit draw is done (`on_initialize` does this too; this lets anyone
		/// do it early, or when the queues run behind).
		///
		/// - Origin: signed, anyone.
		/// - Emits [`Event::JobFinalized`].
		/// - Errors: [`Error::UnknownJob`], [`Error::InvalidState`], [`Error::TooEarly`]
		///   (the window is open, or the receipt's audit draw is still to come).
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::finalize())]
		pub fn finalize(origin: OriginFor<T>, job_id: JobId) -> DispatchResult {
			ensure_signed(origin)?;
			Self::do_finalize_due(job_id)
		}

		/// Cancel a job the provider has not acknowledged, for a full refund.
		///
		/// - Origin: signed, the job's client.
		/// - Emits [`Event::JobCancelled`].
		/// - Errors: [`Error::UnknownJob`], [`Error::NotClient`], [`Error::CannotCancel`].
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::cancel_job())]
		pub fn cancel_job(origin: OriginFor<T>, job_id: JobId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_cancel(who, job_id)
		}

		/// Rate the job's provider −1, 0 or +1, once, after finalization.
		///
		/// - Origin: signed, the job's client.
		/// - Emits [`Event::JobRated`].
		/// - Errors: [`Error::UnknownJob`], [`Error::NotClient`],
		///   [`Error::NotFinalized`], [`Error::InvalidRating`], [`Error::AlreadyRated`],
		///   or the reputation pallet's error for a client restricted for review abuse.
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::rate().saturating_add(T::Reputation::rating_weight()))]
		pub fn rate(origin: OriginFor<T>, job_id: JobId, rating: i8) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_rate(who, job_id, rating)
		}

		/// The provider reports that the client never delivered the by-hash input
		/// of a job it holds. The job ends `InputMissing`: the client pays the
		/// base price to the treasury (doubled for each earlier miss it has not worked off, at
		/// most ×16 and never above `max_price`), the rest is refunded, nobody is
		/// slashed and no reputation changes (docs/protocol.md §6, "Inputs by hash").
		///
		/// - Origin: signed, the job's provider.
		/// - Emits [`Event::InputMissing`].
		/// - Errors: [`Error::UnknownJob`], [`Error::NotProvider`],
		///   [`Error::InvalidState`] (receipted or ended), [`Error::InputInline`],
		///   [`Error::InputGraceNotOver`], [`Error::DeadlinePassed`].
		#[pallet::call_index(8)]
		#[pallet::weight(T::WeightInfo::report_input_missing())]
		pub fn report_input_missing(origin: OriginFor<T>, job_id: JobId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_report_input_missing(who, job_id)
		}

		/// The client contests its provider's `InputMissing` report with the
		/// upload receipt the worker signed when it took the input
		/// ([`agora_primitives::UploadReceipt`], answered by
		/// `PUT /v1/inputs`): the worker had the input, so the report was
		/// false. The client gets its charge back out of the provider's bond,
		/// the provider is slashed `MissedDeadlineSlash` of its bond (as for a
		/// job it held and never ran) and counted a fraud, the client's miss is
		/// undone, and the job ends `Fraud`. Possible while the job is kept
		/// (`Retention` after the report).
		///
		/// - Origin: signed, the job's client.
		/// - Emits [`Event::InputReportContested`].
		/// - Errors: [`Error::UnknownJob`] (or already pruned),
		///   [`Error::NotClient`], [`Error::NotInputMissing`],
		///   [`Error::BadUploadSignature`].
		#[pallet::call_index(11)]
		#[pallet::weight(T::WeightInfo::contest_input_missing())]
		pub fn contest_input_missing(
			origin: OriginFor<T>,
			job_id: JobId,
			signature: [u8; 64],
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_contest_input_missing(who, job_id, signature)
		}

		/// Order a job paid by the caller's service pass (docs/protocol.md
		/// §4.3): it takes one request of the pass's quota for this epoch,
		/// holds nothing in escrow and is assigned by AVRF among the model's
		/// active offers with free capacity, whatever their prices (a pass
		/// client cannot name the provider). It is receipted, audited and
		/// disputable like any job; when finalized it counts for its
		/// provider's share of the epoch's reward. A job that ends unserved
		/// (cancelled, expired, fraud, unverified) gives its request back
		/// while its epoch lasts.
		///
		/// - Origin: signed, the client.
		/// - Emits [`Event::JobAssigned`] (with `max_price` 0).
		/// - Errors: those of [`Pallet::submit_job`] but the price's, and the
		///   pass's: `Passes::NoPass`, `Passes::QuotaExhausted`.
		#[pallet::call_index(9)]
		#[pallet::weight(T::WeightInfo::submit_pass_job(T::MaxOfferScan::get(), T::MaxInputLen::get()))]
		pub fn submit_pass_job(
			origin: OriginFor<T>,
			model_id: ModelId,
			input: InputParam,
			params: JobParams,
			deadline: BlockNumberFor<T>,
		) -> DispatchResultWithPostInfo {
			let client = ensure_signed(origin)?;
			Self::do_submit_job(client, model_id, input, params, deadline, PayBy::Pass)
		}

		/// Post many workers' signed receipts in one extrinsic (a relayer or a
		/// busy provider saves each receipt's transaction overhead). Each is
		/// checked and applied as [`Pallet::submit_receipt`] would, on its own:
		/// a refused one changes nothing and is reported by an event, the
		/// others stand.
		///
		/// - Origin: signed.
		/// - Emits [`Event::JobReceipted`] for each accepted receipt and
		///   [`Event::ReceiptRefused`] (with `submit_receipt`'s error) for each
		///   refused one.
		/// - Errors: [`Error::NoReceipts`] (an empty batch).
		#[pallet::call_index(10)]
		#[pallet::weight(T::WeightInfo::submit_receipts(T::MaxReceiptBatch::get()))]
		pub fn submit_receipts(
			origin: OriginFor<T>,
			receipts: BoundedVec<(JobId, Receipt<T::AccountId>, [u8; 64]), T::MaxReceiptBatch>,
		) -> DispatchResultWithPostInfo {
			ensure_signed(origin)?;
			ensure!(!receipts.is_empty(), Error::<T>::NoReceipts);
			Ok(Some(Self::do_submit_receipts(receipts.into_inner())).into())
		}

		/// Order many jobs of one model in one extrinsic, each holding its own
		/// `max_price` in escrow and assigned on its own: to `provider` if
		/// named, else by AVRF. A client with many requests saves each order's
		/// transaction overhead, and the batch reads the model's offers once:
		/// every order draws from the window of offers read for the first of
		/// them to reach the draw (its AVRF seed picks the window's start, as a
		/// lone order's does; each order's candidates and pick use its own
		/// seed). Each order is checked and applied as [`Pallet::submit_job`]
		/// would: a refused one changes nothing and is reported by an event,
		/// the others stand.
		///
		/// - Origin: signed, the client.
		/// - Emits [`Event::JobAssigned`] for each order taken and
		///   [`Event::OrderRefused`] (with `submit_job`'s error and the order's
		///   index) for each refused one.
		/// - Errors: [`Error::NoOrders`] (an empty batch).
		#[pallet::call_index(12)]
		#[pallet::weight(Pallet::<T>::submit_jobs_weight(
			orders.len() as u32,
			T::MaxOfferScan::get(),
			orders.iter().map(Order::inline_len),
		))]
		pub fn submit_jobs(
			origin: OriginFor<T>,
			model_id: ModelId,
			orders: BoundedVec<Order<BalanceOf<T>, BlockNumberFor<T>>, T::MaxOrderBatch>,
			provider: Option<T::AccountId>,
		) -> DispatchResultWithPostInfo {
			let client = ensure_signed(origin)?;
			ensure!(!orders.is_empty(), Error::<T>::NoOrders);
			Ok(Some(Self::do_submit_jobs(client, model_id, orders.into_inner(), provider)).into())
		}
	}
}
