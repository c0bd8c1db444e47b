//! The small traits through which Agora's pallets talk to each other, so that no
//! pallet reads another's storage.

use sp_runtime::{DispatchError, Perbill};

/// Why a provider's bond is slashed.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	codec::Encode,
	codec::Decode,
	codec::DecodeWithMemTracking,
	codec::MaxEncodedLen,
	scale_info::TypeInfo,
)]
pub enum SlashReason {
	/// An assigned job got no receipt by its deadline.
	MissedDeadline,
	/// A receipt was judged fraudulent by the verification committee.
	Fraud,
	/// The provider did not serve an output to the committee.
	Withholding,
	/// The provider reported a by-hash input missing that its worker had
	/// acknowledged receiving (a signed upload receipt).
	FalseInputReport,
}

/// How much of a slash went where.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct SlashOutcome<Balance> {
	/// The total taken from the bond.
	pub slashed: Balance,
	/// The part paid to the treasury.
	pub to_treasury: Balance,
	/// The part paid to the challenger, if any.
	pub to_challenger: Balance,
}

/// Provider bonds, as other pallets see them (implemented by `pallet-slashing`).
pub trait ProviderBonds<AccountId> {
	/// The balance type.
	type Balance;

	/// The provider's active bond (not counting funds that are unbonding).
	fn active_bond(who: &AccountId) -> Self::Balance;

	/// Whether the provider's active bond is at least the minimum provider stake.
	fn is_bonded(who: &AccountId) -> bool;

	/// Slashes `fraction` of the provider's whole bond (active and unbonding).
	///
	/// `challenger` is paid its share of the slashed amount; the rest goes to the
	/// treasury. A provider left below the minimum stake has its offers paused.
	fn slash(
		who: &AccountId,
		reason: SlashReason,
		fraction: Perbill,
		challenger: Option<(AccountId, Perbill)>,
	) -> Result<SlashOutcome<Self::Balance>, DispatchError>;

	/// Slashes exactly `amount`; fails, moving nothing, if the bond is smaller.
	fn slash_exact(
		who: &AccountId,
		reason: SlashReason,
		amount: Self::Balance,
		challenger: Option<(AccountId, Perbill)>,
	) -> Result<SlashOutcome<Self::Balance>, DispatchError>;

	/// Pays `to` back `amount` out of the provider's bond (active and
	/// unbonding): exactly `amount`, or the whole bond when that is smaller.
	/// Returns what `to` got: zero when there is no bond to take from. The one
	/// rule for a refund a provider owes (a served answer shown to be fraud, a
	/// false "input never came").
	fn refund_from_bond(who: &AccountId, reason: SlashReason, amount: Self::Balance, to: AccountId) -> Self::Balance
	where
		AccountId: Clone,
		Self::Balance: Default,
	{
		let to = Some((to, Perbill::one()));
		Self::slash_exact(who, reason, amount, to.clone())
			.or_else(|_| Self::slash(who, reason, Perbill::one(), to))
			.map(|o| o.to_challenger)
			.unwrap_or_default()
	}
}

/// Where validators that keep not voting on the checks they are drawn for are
/// reported (`pallet-verification` calls it when a validator's strikes reach
/// `StrikeThreshold`). The runtime reports an offence through
/// `pallet-offences`, which staking slashes; `()` reports nothing (tests).
pub trait NonVoterReport<AccountId> {
	/// `offenders` reached the threshold on the check of job `job_id`.
	fn report(offenders: alloc::vec::Vec<AccountId>, job_id: crate::JobId);
}

impl<AccountId> NonVoterReport<AccountId> for () {
	fn report(_: alloc::vec::Vec<AccountId>, _: crate::JobId) {}
}

/// Payment channels' parties, as verification needs them to check a disputed
/// served receipt (implemented by `pallet-channels`).
pub trait ChannelParties<AccountId> {
	/// The channel's (sender, recipient); `None` if there is no such channel.
	fn parties(id: crate::channels::ChannelId) -> Option<(AccountId, AccountId)>;
}

/// How many jobs a provider has open (implemented by `pallet-jobs`). Unbonding is
/// refused while this is non-zero.
pub trait OpenJobs<AccountId> {
	/// Jobs assigned to `who` that are not finished.
	fn open_jobs(who: &AccountId) -> u32;
}

impl<AccountId> OpenJobs<AccountId> for () {
	fn open_jobs(_: &AccountId) -> u32 {
		0
	}
}

/// Told when a provider's active bond falls below the minimum (implemented by
/// `pallet-models`, which pauses the provider's offers).
pub trait OnBondBelowMinimum<AccountId> {
	/// `who`'s active bond is now below the minimum provider stake.
	fn bond_below_minimum(who: &AccountId);
}

impl<AccountId> OnBondBelowMinimum<AccountId> for () {
	fn bond_below_minimum(_: &AccountId) {}
}

/// A model's terms, as `pallet-jobs` needs them (implemented by `pallet-models`).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ModelTerms<AccountId> {
	/// Who receives the royalty.
	pub publisher: AccountId,
	/// Royalty in basis points of the charge.
	pub royalty_bps: u16,
	/// A deprecated model takes no new jobs.
	pub deprecated: bool,
	/// What the model does (which job parameters make sense for it).
	pub task: crate::TaskKind,
}

/// An offer's terms, as `pallet-jobs` needs them (implemented by `pallet-models`).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct OfferTerms<AccountId, Balance> {
	pub provider: AccountId,
	pub model_id: crate::ModelId,
	pub worker_key: [u8; 32],
	pub base_price: Balance,
	pub price_per_1k_tokens: Balance,
	pub capacity: u32,
	pub active: bool,
}

/// Who signs an offer's receipts: its provider, model and worker key.
#[derive(Clone, PartialEq, Eq, Debug, codec::Encode, codec::Decode, codec::MaxEncodedLen, scale_info::TypeInfo)]
pub struct OfferSigner<AccountId> {
	pub provider: AccountId,
	pub model_id: crate::ModelId,
	pub worker_key: [u8; 32],
}

/// The model registry and offers, read-only (implemented by `pallet-models`).
pub trait OfferRegistry<AccountId, Balance> {
	/// A model's terms.
	fn model(id: &crate::ModelId) -> Option<ModelTerms<AccountId>>;
	/// An offer's terms.
	fn offer(id: crate::OfferId) -> Option<OfferTerms<AccountId, Balance>>;
	/// Who signs an offer's receipts: an open offer's, or a closed one's
	/// within its retention (a dispute of an answer it signed while open).
	fn offer_signer(id: crate::OfferId) -> Option<OfferSigner<AccountId>>;
	/// The HTTP endpoint an offer serves outputs from (committees fetch them there).
	fn endpoint(id: crate::OfferId) -> Option<alloc::vec::Vec<u8>>;
	/// Up to `limit` offers for a model: those in the slots of its offer index
	/// that [`crate::rules::scan_slots`] picks from `start`
	/// ([`crate::rules::scan_start`] draws `start`).
	fn offers_for(
		model: &crate::ModelId,
		limit: u32,
		start: u64,
	) -> alloc::vec::Vec<(crate::OfferId, OfferTerms<AccountId, Balance>)>;
}

/// How a settled job's money was split.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Settlement<Balance> {
	pub to_provider: Balance,
	pub to_treasury: Balance,
	pub to_publisher: Balance,
	pub refunded: Balance,
}

/// Per-job escrow (implemented by `pallet-escrow`; payment channels will sit
/// behind the same trait).
pub trait JobEscrow<AccountId, Balance> {
	/// Holds `amount` of `client`'s funds for `job`.
	fn lock(job: u64, client: &AccountId, amount: Balance) -> Result<(), DispatchError>;
	/// Pays `charge` out of the job's escrow: the protocol fee to the treasury, the
	/// royalty to `publisher`, the rest to `provider`; refunds what is left.
	fn settle(
		job: u64,
		provider: &AccountId,
		publisher: &AccountId,
		royalty_bps: u16,
		charge: Balance,
	) -> Result<Settlement<Balance>, DispatchError>;
	/// Refunds the whole escrow of `job` to its client.
	fn refund(job: u64) -> Result<Balance, DispatchError>;
	/// Pays `charge` of `job`'s escrow to the treasury, so that nobody in the
	/// job earns it, and refunds the rest to its client; the refund.
	fn forfeit(job: u64, charge: Balance) -> Result<Balance, DispatchError>;
	/// What is held for `job`.
	fn locked(job: u64) -> Balance;
	/// What is held for all jobs together (for invariant checks).
	fn total_locked() -> Balance;
	/// Moves a non-refundable `amount` of `client`'s funds to the treasury (the
	/// surcharge for ordering into a filling queue); fails, moving nothing, if
	/// the client cannot pay it.
	fn charge_fee(client: &AccountId, amount: Balance) -> Result<(), DispatchError>;
}

/// Service passes (docs/protocol.md §4.3) as the job market uses them
/// (implemented by `pallet-passes`; `()` has no passes: every pass job is
/// refused).
pub trait ServicePasses<AccountId, BlockNumber> {
	/// Takes one request from `client`'s quota for the current epoch; fails,
	/// changing nothing, without a pass or with the epoch's quota spent.
	fn take_request(client: &AccountId) -> Result<(), DispatchError>;
	/// Gives back a request `client` took at block `taken_at` for a job that
	/// was never served (cancelled, expired, judged fraudulent or
	/// unverified), if that block's epoch is still running.
	fn return_request(client: &AccountId, taken_at: BlockNumber);
	/// A pass job of `model` was finalized with `provider` (receipted, its
	/// dispute window over, never judged fraudulent): counts it for the
	/// current epoch's rewards.
	fn on_served(provider: &AccountId, model: &crate::ModelId);
}

impl<AccountId, BlockNumber> ServicePasses<AccountId, BlockNumber> for () {
	fn take_request(_: &AccountId) -> Result<(), DispatchError> {
		Err(DispatchError::Other("no service passes"))
	}
	fn return_request(_: &AccountId, _: BlockNumber) {}
	fn on_served(_: &AccountId, _: &crate::ModelId) {}
}

/// Provider reputation, as assignment and ratings use it (implemented by
/// `pallet-reputation`; `()` gives every provider 50 and accepts every rating).
pub trait Reputation<AccountId> {
	/// The provider's score in 0..=100 (the AVRF weight).
	fn score(who: &AccountId) -> u32;
	/// `client` rated `provider` −1, 0 or +1. Fails, changing nothing, if the
	/// client is restricted for review abuse.
	fn on_rating(client: &AccountId, provider: &AccountId, rating: i8) -> Result<(), DispatchError>;
	/// A job of `client`'s with `provider` was paid out.
	fn on_finalized(client: &AccountId, provider: &AccountId);
	/// An assigned job expired without a receipt.
	fn on_expiry(provider: &AccountId);
	/// A receipt of the provider's was judged fraudulent.
	fn on_fraud(provider: &AccountId);
	/// The worst-case weight of `on_rating` (added to the rating call's weight).
	fn rating_weight() -> sp_runtime::Weight {
		sp_runtime::Weight::zero()
	}
}

impl<AccountId> Reputation<AccountId> for () {
	fn score(_: &AccountId) -> u32 {
		50
	}
	fn on_rating(_: &AccountId, _: &AccountId, _: i8) -> Result<(), DispatchError> {
		Ok(())
	}
	fn on_finalized(_: &AccountId, _: &AccountId) {}
	fn on_expiry(_: &AccountId) {}
	fn on_fraud(_: &AccountId) {}
}

/// A job's input as a committee member sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuditInput {
	/// On chain.
	Inline(alloc::vec::Vec<u8>),
	/// Only its `blake2_256` is on chain: the provider serves the bytes at
	/// `GET {endpoint}/v1/inputs/{hex}`.
	Hash([u8; 32]),
}

/// What a committee member knows about the job it checks.
#[derive(Clone, Debug)]
pub struct AuditJob {
	pub job_id: crate::JobId,
	pub model_id: crate::ModelId,
	pub input: AuditInput,
	pub params: crate::JobParams,
	/// The job's sampling seed, fixed at assignment.
	pub job_seed: [u8; 32],
	/// The receipt's output hash.
	pub output_hash: [u8; 32],
	/// The output tokens the receipt bills.
	pub output_tokens: u32,
	/// The offer's endpoint, e.g. `http://127.0.0.1:8700`.
	pub endpoint: alloc::vec::Vec<u8>,
	/// The [`crate::jobs::READ_HEADER`] value that lets this member read the
	/// output: a [`crate::jobs::ReadRequest`] signed with its `agora` key
	/// (empty: none).
	pub read_auth: alloc::string::String,
	/// The output itself, when it is on chain (a disputed served receipt: the
	/// challenger supplied it, the chain checked it against `output_hash`);
	/// then nothing is fetched from the provider.
	pub output: Option<alloc::vec::Vec<u8>>,
}

/// Why a member could not vote (it then does not vote; the check times out if
/// too few can).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuditError {
	/// No `--agora-verifier` was configured on this node.
	NoVerifier,
	/// The verifier did not answer, or answered without a verdict.
	Verifier(alloc::string::String),
}

/// The off-chain check a committee member's off-chain worker runs on one job:
/// fetch what the provider must serve, check it against the receipt, ask the
/// validator's local verifier. The verification pallet calls it; the runtime
/// plugs in `agora_offchain_workers::HttpAudit`, so no pallet links the
/// off-chain code. `()` never votes (unit tests).
pub trait OffchainAudit {
	/// The vote for `job`, asking the verifier at `verifier` (its base URL).
	fn audit(verifier: Option<&str>, job: &AuditJob) -> Result<crate::AuditVote, AuditError>;
}

impl OffchainAudit for () {
	fn audit(_: Option<&str>, _: &AuditJob) -> Result<crate::AuditVote, AuditError> {
		Err(AuditError::NoVerifier)
	}
}

/// Dispute bonds, held per job (implemented by `pallet-escrow`, next to the
/// job escrow, so every money move of a job goes through one pallet).
pub trait DisputeBonds<AccountId, Balance> {
	/// Holds `amount` of `challenger`'s funds as the bond of its dispute of
	/// `job`; fails, moving nothing, if it cannot pay or `job` has a bond.
	fn hold_bond(job: crate::JobId, challenger: &AccountId, amount: Balance) -> Result<(), DispatchError>;
	/// Returns `job`'s bond to its challenger; what was returned.
	fn return_bond(job: crate::JobId) -> Result<Balance, DispatchError>;
	/// The challenger loses `job`'s bond: `to_provider` of it is paid to
	/// `provider`, the rest to the treasury; (to provider, to treasury).
	fn forfeit_bond(
		job: crate::JobId,
		provider: &AccountId,
		to_provider: Perbill,
	) -> Result<(Balance, Balance), DispatchError>;
	/// `job`'s bond: (challenger, amount).
	fn bond(job: crate::JobId) -> Option<(AccountId, Balance)>;
}

/// A receipted job as the verification pallet sees it (from `pallet-jobs`).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ReceiptedJob<AccountId, Balance, BlockNumber> {
	pub provider: AccountId,
	pub client: AccountId,
	pub max_price: Balance,
	pub status: crate::JobStatus,
	/// The receipt's dispute window ends at this block.
	pub window_end: BlockNumber,
	/// The block the receipt is queued to finalize in (while `Receipted`).
	pub finalize_at: BlockNumber,
}

/// The job market, as verification needs it (implemented by `pallet-jobs`):
/// it reads receipted jobs and tells the market a check's outcome; the market
/// moves the job's escrow and state.
pub trait JobMarket<AccountId, Balance, BlockNumber> {
	/// A job that has a receipt (`None`: no such job, or no receipt yet).
	fn receipted(job: crate::JobId) -> Option<ReceiptedJob<AccountId, Balance, BlockNumber>>;
	/// What a committee member checks: the job, its receipt and the offer's
	/// endpoint (`read_auth` left empty).
	fn audit_job(job: crate::JobId) -> Option<AuditJob>;
	/// A committee check starts: the `Receipted` job becomes `Disputed` and
	/// its payout waits for the verdict.
	fn begin_check(job: crate::JobId) -> Result<(), DispatchError>;
	/// Verdict fraud (or withholding): the client is refunded in full and the
	/// job closes `Fraud`; what was refunded. Slashing is the caller's part.
	fn close_fraud(job: crate::JobId) -> Result<Balance, DispatchError>;
	/// The receipt was upheld: the job is `Receipted` again and finalizes at
	/// the end of its window or in the next block, whichever is later.
	fn close_upheld(job: crate::JobId) -> Result<(), DispatchError>;
	/// No verdict: the client is refunded in full, nobody paid or slashed, the
	/// job closes `Unverified`; what was refunded.
	fn close_unverified(job: crate::JobId) -> Result<Balance, DispatchError>;
}

/// What the job market tells verification (implemented by
/// `pallet-verification`; `()` checks nothing).
pub trait ReceiptChecks<BlockNumber> {
	/// A receipt of `job` was accepted at `now` and finalizes at
	/// `finalize_at`: queue its audit draw. An error refuses the receipt.
	fn on_receipt(job: crate::JobId, now: BlockNumber, finalize_at: BlockNumber) -> Result<(), DispatchError>;
	/// Whether a committee check of `job` is running (for invariant checks).
	fn under_check(job: crate::JobId) -> bool;
	/// The first block whose audit draws are not all done yet (`None`: the
	/// checker draws nothing). A receipt's draw is due at or before its
	/// finalization block, so the market finalizes only blocks before this one:
	/// a draw that waits (its queue is drained within a budget) is never
	/// dodged by a finalization that does not.
	fn draws_pending_from() -> Option<BlockNumber> {
		None
	}
	/// Does the audit draws due up to block `now` within `budget` (`None`:
	/// the checker's own per-block budget), whichever pallet's hook runs
	/// first; the weight used, never more than `budget`. The market calls it
	/// before it finalizes, so that a receipt's draw in its finalization block
	/// comes first whatever the runtime's hook order, and again from
	/// `on_idle` with part of what the block has left.
	fn run_draws(_now: BlockNumber, _budget: Option<sp_runtime::Weight>) -> sp_runtime::Weight {
		sp_runtime::Weight::zero()
	}
}

impl<BlockNumber> ReceiptChecks<BlockNumber> for () {
	fn on_receipt(_: crate::JobId, _: BlockNumber, _: BlockNumber) -> Result<(), DispatchError> {
		Ok(())
	}
	fn under_check(_: crate::JobId) -> bool {
		false
	}
}
