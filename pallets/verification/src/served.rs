//! Disputes of served receipts (docs/protocol.md §4.2), and where a check's
//! subject lives: a job in `pallet-jobs` (read and closed through
//! [`JobMarket`]), or a disputed served receipt kept here in
//! [`ServedChecks`]. Everything else about a check (committee, votes,
//! verdicts, redraws) is the same for both.
//!
//! A served receipt is a channel-paid answer's signed statement: no job
//! exists on chain for it. The challenger brings the receipt, the worker key's
//! signature, the request's input and the served output; the chain checks that
//! they are what the worker signed (the receipt binds the input and output
//! hashes, the parameters, the price and the block it was served at), that the
//! key is the provider's offer's and that the channel pays the provider. The
//! committee then reads input and output from here, not from the provider.
use crate::{committee::JobView, pallet::*, ServedCheck};
use agora_pallet_support::BlockQueue;
use agora_primitives::{
	channels::{is_served_check, served_seed, ServedReceipt, SERVED_CHECK_BASE},
	rules::content_hash,
	AuditInput, AuditJob, ChannelParties, DisputeBonds, JobId, JobMarket, JobStatus, OfferId,
	OfferRegistry, ProviderBonds, ReceiptedJob, SlashReason,
};
use alloc::vec::Vec;
use frame_support::{pallet_prelude::*, weights::Weight};
use frame_system::pallet_prelude::*;
use sp_runtime::{
	traits::{Saturating, Zero},
	SaturatedConversion,
};

impl<T: Config> ServedCheck<T> {
	/// The check's subject as the committee code sees a job: the channel's
	/// sender in the client's place, the price as its value.
	fn view(&self) -> JobView<T> {
		ReceiptedJob {
			provider: self.provider.clone(),
			client: self.sender.clone(),
			max_price: self.price,
			status: JobStatus::Disputed,
			window_end: self.window_end,
			finalize_at: self.window_end,
		}
	}
}

impl<T: Config> Pallet<T> {
	/// [`Pallet::dispute_receipt`] after the origin check: everything is
	/// verified before anything is written.
	pub(crate) fn do_dispute_receipt(
		who: T::AccountId,
		receipt: ServedReceipt<T::AccountId>,
		signature: [u8; 64],
		offer_id: OfferId,
		input: Vec<u8>,
		output: Vec<u8>,
	) -> DispatchResult {
		let input: BoundedVec<u8, T::MaxServedInput> =
			input.try_into().map_err(|_| Error::<T>::ServedInputTooLong)?;
		let output: BoundedVec<u8, T::MaxServedOutput> =
			output.try_into().map_err(|_| Error::<T>::ServedOutputTooLong)?;
		ensure!(content_hash(&input) == receipt.input_hash, Error::<T>::InputMismatch);
		ensure!(content_hash(&output) == receipt.output_hash, Error::<T>::OutputMismatch);
		ensure!(receipt.verify(&signature), Error::<T>::BadReceiptSignature);
		// An offer closed since the answer still names its signer (kept
		// `OfferRetention` blocks): closing it does not dodge the dispute.
		let offer = T::Offers::offer_signer(offer_id).ok_or(Error::<T>::UnknownOffer)?;
		ensure!(
			offer.provider == receipt.provider
				&& offer.model_id == receipt.model_id
				&& offer.worker_key == receipt.worker_pubkey,
			Error::<T>::NotReceiptOffer
		);
		let (sender, recipient) =
			T::Channels::parties(receipt.channel_id).ok_or(Error::<T>::UnknownChannel)?;
		ensure!(recipient == receipt.provider, Error::<T>::NotChannelRecipient);
		let now = frame_system::Pallet::<T>::block_number();
		let at: BlockNumberFor<T> = receipt.at.into();
		ensure!(at <= now, Error::<T>::ReceiptFromFuture);
		let window_end = at.saturating_add(T::ServedWindow::get());
		ensure!(now < window_end, Error::<T>::WindowClosed);
		let voucher = (receipt.channel_id, receipt.lane, receipt.nonce);
		ensure!(!ServedDisputes::<T>::contains_key(voucher), Error::<T>::AlreadyDisputed);

		let id = SERVED_CHECK_BASE.saturating_add(NextServedCheck::<T>::get());
		let price: BalanceOf<T> = receipt.price.saturated_into();
		let check = ServedCheck::<T> {
			voucher,
			sender,
			provider: receipt.provider.clone(),
			model_id: receipt.model_id,
			params: receipt.params,
			seed: served_seed(receipt.channel_id, receipt.lane, receipt.nonce, receipt.params.seed),
			input,
			output,
			output_hash: receipt.output_hash,
			output_tokens: receipt.output_tokens,
			price,
			window_end,
		};
		let bond = Self::dispute_bond(price);
		let audit = Self::new_audit(&check.view(), id, Some((who.clone(), bond)), now)?;
		let expiry = ServedExpiry::<T>::free_slot(window_end).ok_or(Error::<T>::AuditQueueFull)?;
		T::DisputeBonds::hold_bond(id, &who, bond).map_err(|_| Error::<T>::InsufficientBond)?;

		ServedExpiry::<T>::try_mutate(expiry, |q| q.try_push(voucher))
			.map_err(|_| Error::<T>::AuditQueueFull)?;
		ServedDisputes::<T>::insert(voucher, id);
		NextServedCheck::<T>::mutate(|n| *n = n.saturating_add(1));
		ServedChecks::<T>::insert(id, check);
		Self::deposit_event(Event::ServedDisputed {
			job_id: id,
			channel_id: voucher.0,
			lane: voucher.1,
			nonce: voucher.2,
			provider: receipt.provider.clone(),
			challenger: who.clone(),
		});
		Self::deposit_event(Event::Disputed { job_id: id, challenger: who, bond });
		Self::start_audit(id, &receipt.provider, audit);
		Ok(())
	}

	/// Served-dispute markers whose windows passed at `n` (from `on_initialize`).
	pub(crate) fn prune_served(n: BlockNumberFor<T>) -> Weight {
		let q = ServedExpiry::<T>::take(n);
		let len = q.len() as u64;
		for voucher in q {
			ServedDisputes::<T>::remove(voucher);
		}
		T::DbWeight::get().reads_writes(1, len.saturating_add(1))
	}

	/// A check's subject as the committee code sees it.
	pub(crate) fn subject(id: JobId) -> Option<JobView<T>> {
		if is_served_check(id) {
			ServedChecks::<T>::get(id).map(|c| c.view())
		} else {
			T::Jobs::receipted(id)
		}
	}

	/// What a committee member checks for `id` (`read_auth` left empty).
	pub(crate) fn subject_audit_job(id: JobId) -> Option<AuditJob> {
		if !is_served_check(id) {
			return T::Jobs::audit_job(id);
		}
		let c = ServedChecks::<T>::get(id)?;
		Some(AuditJob {
			job_id: id,
			model_id: c.model_id,
			input: AuditInput::Inline(c.input.to_vec()),
			params: c.params,
			job_seed: c.seed,
			output_hash: c.output_hash,
			output_tokens: c.output_tokens,
			endpoint: Vec::new(),
			read_auth: Default::default(),
			output: Some(c.output.to_vec()),
		})
	}

	/// Fraud: a job is refunded by the market; a served answer's sender is
	/// refunded its price out of the provider's bond (as much as the bond
	/// holds). What was refunded.
	pub(crate) fn close_subject_fraud(id: JobId) -> Result<BalanceOf<T>, DispatchError> {
		if !is_served_check(id) {
			return T::Jobs::close_fraud(id);
		}
		let c = ServedChecks::<T>::take(id).ok_or(Error::<T>::UnknownJob)?;
		if c.price.is_zero() {
			return Ok(Zero::zero());
		}
		Ok(T::Bonds::refund_from_bond(&c.provider, SlashReason::Fraud, c.price, c.sender.clone()))
	}

	/// Upheld: a job finalizes as normal; a served check just ends (the
	/// answer was paid through its channel).
	pub(crate) fn close_subject_upheld(id: JobId) -> DispatchResult {
		if !is_served_check(id) {
			return T::Jobs::close_upheld(id);
		}
		ServedChecks::<T>::take(id).map(|_| ()).ok_or_else(|| Error::<T>::UnknownJob.into())
	}

	/// No verdict: a job is refunded by the market; a served check ends with
	/// nothing moved (the answer was paid, and nobody showed it was wrong).
	pub(crate) fn close_subject_unverified(id: JobId) -> Result<BalanceOf<T>, DispatchError> {
		if !is_served_check(id) {
			return T::Jobs::close_unverified(id);
		}
		ServedChecks::<T>::take(id).ok_or(Error::<T>::UnknownJob)?;
		Ok(Zero::zero())
	}

	/// Invariants of served checks: each runs a committee check with its
	/// challenger, below the next id, and holds the marker of its voucher;
	/// every marker is queued for removal.
	#[cfg(any(feature = "try-runtime", feature = "std", test))]
	pub(crate) fn served_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		let next = SERVED_CHECK_BASE.saturating_add(NextServedCheck::<T>::get());
		for (id, c) in ServedChecks::<T>::iter() {
			ensure!(is_served_check(id) && id < next, "a served check's id is out of its range");
			let audit = Audits::<T>::get(id).ok_or("a served check without a running check")?;
			ensure!(audit.challenger.is_some(), "a served check without a challenger");
			// The marker goes when the window passes; a check may run longer.
			let now = frame_system::Pallet::<T>::block_number();
			ensure!(
				ServedDisputes::<T>::get(c.voucher) == Some(id) || now >= c.window_end,
				"a served check's voucher is not marked disputed by it within its window"
			);
		}
		let queued: alloc::collections::btree_set::BTreeSet<_> =
			ServedExpiry::<T>::iter().flat_map(|(_, q)| q.into_iter()).collect();
		for (voucher, id) in ServedDisputes::<T>::iter() {
			ensure!(id < next, "a served dispute marker names a check not yet made");
			ensure!(queued.contains(&voucher), "a served dispute marker is never removed");
		}
		Ok(())
	}
}
