//! # Channels: payment channels with lanes (docs/protocol.md §4.2)
//!
//! ## Overview
//! A client locks funds once in a channel to one provider and then pays each
//! request off-chain with a voucher: a signature by the channel's `signer` over
//! `b"agora/channel/v1" ++ SCALE(channel_id, lane, nonce, cumulative)`
//! ([`agora_primitives::channels::Voucher`]). The provider claims many channels
//! in one `claim_batch`; after `expiration` the sender reclaims what is left.
//!
//! A channel has independent lanes, so a client's parallel requests never wait
//! for each other: on each lane the vouchers' nonces rise and their cumulative
//! amounts never fall. A claim pays the lane's amount minus what the lane has
//! already paid and records the voucher's nonce, so a replayed or older voucher
//! is refused ([`Error::StaleVoucher`]), and so is one that would pay nothing
//! ([`Error::NothingToClaim`]) or that would take the channel past its value
//! ([`Error::OverValue`]).
//!
//! Funds stay on the sender's account, held under [`HoldReason::ChannelFunds`],
//! until they are paid out to the recipient or released to the sender. A claim
//! only records the voucher in the channel (`claimed`): from then on that
//! amount is the recipient's, and no call of the sender's can take it back. It
//! is paid out (moved on hold to the recipient, free) when the recipient
//! calls [`Pallet::withdraw`], or when the channel is closed by
//! [`Pallet::reclaim`]. So a claim writes the channel record alone, and the
//! sender's account (its holds and balance) is written once per payout rather
//! than once per voucher: that is what keeps a claim near a transfer's weight.
//! Invariant ([`Pallet::do_try_state`]): each account's held channel funds equal
//! the sum of `value - paid` over the channels it opened.
//!
//! ## Calls
//! - [`Pallet::open_channel`], [`Pallet::add_funds`], [`Pallet::extend`]: the sender's.
//! - [`Pallet::claim_batch`]: the recipient's, up to `MaxClaimBatch` vouchers.
//! - [`Pallet::withdraw`]: the recipient's, pays out what it has claimed, any time.
//! - [`Pallet::reclaim`]: anyone's, from `expiration` on; pays the recipient what
//!   it claimed and was not yet paid, and releases the rest to the sender.
//!
//! ## Assumptions
//! - Claims are refused from `expiration` on, so the sender's reclaim never
//!   races the recipient: a worker stops accepting a channel's vouchers some
//!   blocks before it expires and claims them before it does.
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;

pub mod migrations;
pub mod types;
pub mod weights;
pub use types::Channel;
pub use weights::WeightInfo;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_migrations;

// FRAME's pallet macros expand to `expect` calls attributed to this module;
// hand-written code here uses none (the before-stop check greps for them).
#[allow(clippy::expect_used, clippy::unwrap_used)]
#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use agora_primitives::channels::{ChannelId, LaneRefusal, LaneState, SignedVoucher};
	use alloc::collections::btree_map::BTreeMap;
	use frame_support::{
		pallet_prelude::*,
		traits::{
			fungible::{Inspect, InspectHold, Mutate, MutateHold},
			tokens::{Fortitude, Precision, Restriction},
		},
	};
	use frame_system::pallet_prelude::*;
	use sp_runtime::traits::{CheckedAdd, Saturating, Zero};

	/// The balance type of the currency.
	pub type BalanceOf<T> =
		<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;

	/// The vouchers one `claim_batch` carries.
	pub type ClaimsOf<T> = BoundedVec<SignedVoucher<BalanceOf<T>>, <T as Config>::MaxClaimBatch>;

	/// v1: a channel records what was paid out of its claims (`paid`).
	pub const STORAGE_VERSION: StorageVersion = StorageVersion::new(1);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// The overarching event type.
		#[allow(deprecated)]
		type RuntimeEvent: From<Event<Self>> + IsType<<Self as frame_system::Config>::RuntimeEvent>;
		/// The currency channels are funded in.
		type Currency: MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>
			+ Mutate<Self::AccountId>;
		/// The runtime's hold reasons.
		type RuntimeHoldReason: From<HoldReason>;
		/// The least a channel may be opened with (every open channel costs its
		/// sender at least this much locked, so channels are not free storage).
		#[pallet::constant]
		type MinChannelValue: Get<BalanceOf<Self>>;
		/// How far ahead (blocks) a channel's expiration may be set.
		#[pallet::constant]
		type MaxChannelDuration: Get<BlockNumberFor<Self>>;
		/// Lanes per channel: a voucher's lane is below this.
		#[pallet::constant]
		type MaxLanes: Get<u32>;
		/// Most vouchers in one `claim_batch`.
		#[pallet::constant]
		type MaxClaimBatch: Get<u32>;
		/// Weights of the calls.
		type WeightInfo: WeightInfo;
	}

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// A channel's value, until paid out to its recipient or reclaimed.
		ChannelFunds,
	}

	/// The channels one `withdraw` pays out.
	pub type ChannelIdsOf<T> = BoundedVec<ChannelId, <T as Config>::MaxClaimBatch>;

	/// The next channel's id.
	#[pallet::storage]
	pub type NextChannelId<T> = StorageValue<_, ChannelId, ValueQuery>;

	/// Every open channel (removed when reclaimed).
	#[pallet::storage]
	pub type Channels<T: Config> = StorageMap<_, Twox64Concat, ChannelId, Channel<T>, OptionQuery>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// `sender` opened channel `id` to `recipient` with `value`, vouchers
		/// signed by `signer`, claimable until `expiration`.
		ChannelOpened {
			id: ChannelId,
			sender: T::AccountId,
			recipient: T::AccountId,
			signer: [u8; 32],
			value: BalanceOf<T>,
			expiration: BlockNumberFor<T>,
		},
		/// `amount` more was put into channel `id`; its value is now `value`.
		FundsAdded { id: ChannelId, amount: BalanceOf<T>, value: BalanceOf<T> },
		/// Channel `id` is now claimable until `expiration`.
		Extended { id: ChannelId, expiration: BlockNumberFor<T> },
		/// A voucher of channel `id` was claimed: `amount` more is the
		/// recipient's (paid out by `withdraw` or `reclaim`), the lane now
		/// stands at `nonce` with `lane_total` claimed.
		Claimed {
			id: ChannelId,
			lane: u32,
			nonce: u64,
			amount: BalanceOf<T>,
			lane_total: BalanceOf<T>,
		},
		/// `amount` claimed from channel `id` was paid out to `recipient`.
		Withdrawn { id: ChannelId, recipient: T::AccountId, amount: BalanceOf<T> },
		/// Channel `id` was closed after its expiration: `amount` (what was never
		/// claimed) released back to `sender`, and `paid` (claimed, not yet
		/// withdrawn) paid out to `recipient`.
		Reclaimed {
			id: ChannelId,
			sender: T::AccountId,
			amount: BalanceOf<T>,
			recipient: T::AccountId,
			paid: BalanceOf<T>,
		},
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The value is below `MinChannelValue`.
		ValueBelowMinimum,
		/// A channel to oneself pays nobody.
		ChannelToSelf,
		/// The expiration is not after the current block.
		ExpirationInPast,
		/// The expiration is more than `MaxChannelDuration` blocks ahead.
		ExpirationTooFar,
		/// A new expiration must be later than the channel's current one.
		ExpirationNotLater,
		/// The sender cannot hold this much (free balance, less the existential deposit).
		InsufficientFunds,
		/// Every channel id is used.
		ChannelIdsExhausted,
		/// No open channel has this id.
		UnknownChannel,
		/// Only the channel's sender may do this.
		NotSender,
		/// Only the channel's recipient may claim it.
		NotRecipient,
		/// The channel has expired: no more claims or funds.
		ChannelExpired,
		/// The channel has not expired yet: it cannot be reclaimed.
		NotExpired,
		/// Adding nothing.
		ZeroAmount,
		/// The voucher's lane is not below `MaxLanes`.
		LaneOutOfRange,
		/// The voucher's signature is not the channel signer's.
		BadSignature,
		/// The voucher's nonce is not above the lane's last claimed nonce: a
		/// replayed or older voucher.
		StaleVoucher,
		/// The voucher's amount is not above what its lane has already paid.
		NothingToClaim,
		/// Paying the voucher would take the channel's claims above its value.
		OverValue,
		/// A claim or withdraw batch with nothing in it.
		EmptyBatch,
		/// Everything claimed from the channel has been paid out already (or it
		/// comes twice in one `withdraw`).
		NothingToWithdraw,
		/// An amount does not fit the balance type.
		Overflow,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			assert!(T::MaxLanes::get() > 0, "a channel needs a lane");
			assert!(T::MaxClaimBatch::get() > 0, "a claim batch needs room");
			assert!(!T::MinChannelValue::get().is_zero(), "empty channels would be free storage");
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Opens a channel to `recipient` holding `value` of the caller's funds;
		/// vouchers are signed by the sr25519 key `signer`, and claimable until
		/// block `expiration` (exclusive).
		///
		/// - Origin: signed, the sender.
		/// - Emits [`Event::ChannelOpened`].
		/// - Errors: [`Error::ValueBelowMinimum`], [`Error::ChannelToSelf`],
		///   [`Error::ExpirationInPast`], [`Error::ExpirationTooFar`],
		///   [`Error::InsufficientFunds`], [`Error::ChannelIdsExhausted`].
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::open_channel())]
		pub fn open_channel(
			origin: OriginFor<T>,
			recipient: T::AccountId,
			signer: [u8; 32],
			value: BalanceOf<T>,
			expiration: BlockNumberFor<T>,
		) -> DispatchResult {
			let sender = ensure_signed(origin)?;
			ensure!(value >= T::MinChannelValue::get(), Error::<T>::ValueBelowMinimum);
			ensure!(sender != recipient, Error::<T>::ChannelToSelf);
			Self::check_expiration(expiration)?;
			ensure!(Self::can_hold(&sender, value), Error::<T>::InsufficientFunds);
			let id = NextChannelId::<T>::get();
			let next = id.checked_add(1).ok_or(Error::<T>::ChannelIdsExhausted)?;

			T::Currency::hold(&HoldReason::ChannelFunds.into(), &sender, value)
				.map_err(|_| Error::<T>::InsufficientFunds)?;
			NextChannelId::<T>::put(next);
			Channels::<T>::insert(
				id,
				Channel {
					sender: sender.clone(),
					recipient: recipient.clone(),
					signer,
					value,
					claimed: Zero::zero(),
					paid: Zero::zero(),
					expiration,
					lanes: Default::default(),
				},
			);
			Self::deposit_event(Event::ChannelOpened {
				id,
				sender,
				recipient,
				signer,
				value,
				expiration,
			});
			Ok(())
		}

		/// Puts `amount` more of the sender's funds into channel `id`.
		///
		/// - Origin: signed, the channel's sender.
		/// - Emits [`Event::FundsAdded`].
		/// - Errors: [`Error::UnknownChannel`], [`Error::NotSender`],
		///   [`Error::ZeroAmount`], [`Error::ChannelExpired`],
		///   [`Error::InsufficientFunds`], [`Error::Overflow`].
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::add_funds())]
		pub fn add_funds(
			origin: OriginFor<T>,
			id: ChannelId,
			amount: BalanceOf<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut channel = Channels::<T>::get(id).ok_or(Error::<T>::UnknownChannel)?;
			ensure!(channel.sender == who, Error::<T>::NotSender);
			ensure!(!amount.is_zero(), Error::<T>::ZeroAmount);
			ensure!(Self::now() < channel.expiration, Error::<T>::ChannelExpired);
			let value = channel.value.checked_add(&amount).ok_or(Error::<T>::Overflow)?;
			ensure!(Self::can_hold(&who, amount), Error::<T>::InsufficientFunds);

			T::Currency::hold(&HoldReason::ChannelFunds.into(), &who, amount)
				.map_err(|_| Error::<T>::InsufficientFunds)?;
			channel.value = value;
			Channels::<T>::insert(id, channel);
			Self::deposit_event(Event::FundsAdded { id, amount, value });
			Ok(())
		}

		/// Moves channel `id`'s expiration to the later block `expiration`.
		///
		/// - Origin: signed, the channel's sender.
		/// - Emits [`Event::Extended`].
		/// - Errors: [`Error::UnknownChannel`], [`Error::NotSender`],
		///   [`Error::ExpirationNotLater`], [`Error::ExpirationInPast`],
		///   [`Error::ExpirationTooFar`].
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::extend())]
		pub fn extend(
			origin: OriginFor<T>,
			id: ChannelId,
			expiration: BlockNumberFor<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut channel = Channels::<T>::get(id).ok_or(Error::<T>::UnknownChannel)?;
			ensure!(channel.sender == who, Error::<T>::NotSender);
			ensure!(expiration > channel.expiration, Error::<T>::ExpirationNotLater);
			Self::check_expiration(expiration)?;

			channel.expiration = expiration;
			Channels::<T>::insert(id, channel);
			Self::deposit_event(Event::Extended { id, expiration });
			Ok(())
		}

		/// Claims a batch of vouchers, each from a channel whose recipient is the
		/// caller: each voucher's lane total minus what its lane has already
		/// claimed becomes the caller's. The funds stay held on the sender's
		/// account until [`Pallet::withdraw`] or [`Pallet::reclaim`] pays them
		/// out, and the sender can no longer get them back. All or nothing: one
		/// refused voucher refuses the batch, and nothing is recorded.
		///
		/// - Origin: signed, the recipient of every channel in the batch.
		/// - Emits [`Event::Claimed`] per voucher.
		/// - Errors: [`Error::EmptyBatch`], [`Error::UnknownChannel`],
		///   [`Error::NotRecipient`], [`Error::ChannelExpired`],
		///   [`Error::LaneOutOfRange`], [`Error::BadSignature`],
		///   [`Error::StaleVoucher`], [`Error::NothingToClaim`],
		///   [`Error::OverValue`].
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::claim_batch(claims.len() as u32))]
		pub fn claim_batch(origin: OriginFor<T>, claims: ClaimsOf<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			ensure!(!claims.is_empty(), Error::<T>::EmptyBatch);
			let now = Self::now();

			// Verify every voucher against the channels as the earlier ones in
			// the batch leave them, before anything is written.
			let mut touched: BTreeMap<ChannelId, Channel<T>> = BTreeMap::new();
			let mut paid = alloc::vec::Vec::with_capacity(claims.len());
			for SignedVoucher { voucher, signature } in claims.iter() {
				let id = voucher.channel_id;
				let channel = match touched.get_mut(&id) {
					Some(c) => c,
					None => {
						let c = Channels::<T>::get(id).ok_or(Error::<T>::UnknownChannel)?;
						ensure!(c.recipient == who, Error::<T>::NotRecipient);
						ensure!(now < c.expiration, Error::<T>::ChannelExpired);
						touched.entry(id).or_insert(c)
					},
				};
				ensure!(voucher.lane < T::MaxLanes::get(), Error::<T>::LaneOutOfRange);
				ensure!(voucher.verify(signature, &channel.signer), Error::<T>::BadSignature);
				let lane = channel.lanes.get(&voucher.lane).copied().unwrap_or_default();
				let (pay, lane) = lane.claim(voucher).map_err(|r| match r {
					LaneRefusal::StaleNonce => Error::<T>::StaleVoucher,
					LaneRefusal::NothingToClaim => Error::<T>::NothingToClaim,
				})?;
				let claimed = channel.claimed.checked_add(&pay).ok_or(Error::<T>::OverValue)?;
				ensure!(claimed <= channel.value, Error::<T>::OverValue);
				channel.claimed = claimed;
				// Lanes are below `MaxLanes`, so the map never overflows.
				channel
					.lanes
					.try_insert(voucher.lane, lane)
					.map_err(|_| Error::<T>::LaneOutOfRange)?;
				paid.push((id, voucher.lane, lane, pay));
			}

			for (id, channel) in touched {
				Channels::<T>::insert(id, channel);
			}
			for (id, lane_id, lane, amount) in paid {
				let LaneState { nonce, claimed: lane_total } = lane;
				Self::deposit_event(Event::Claimed { id, lane: lane_id, nonce, amount, lane_total });
			}
			Ok(())
		}

		/// Pays out to the caller what it has claimed and not yet been paid from
		/// each channel in `ids`: moves it from the sender's hold to the
		/// caller's free balance. Allowed before and after the expiration (until
		/// the channel is reclaimed, which pays it out too). All or nothing.
		///
		/// - Origin: signed, the recipient of every channel in `ids`.
		/// - Emits [`Event::Withdrawn`] per channel.
		/// - Errors: [`Error::EmptyBatch`], [`Error::UnknownChannel`],
		///   [`Error::NotRecipient`], [`Error::NothingToWithdraw`] (nothing owed,
		///   or the channel named twice).
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::withdraw(ids.len() as u32))]
		pub fn withdraw(origin: OriginFor<T>, ids: ChannelIdsOf<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			ensure!(!ids.is_empty(), Error::<T>::EmptyBatch);
			let mut payouts: BTreeMap<ChannelId, (Channel<T>, BalanceOf<T>)> = BTreeMap::new();
			for id in ids.iter().copied() {
				ensure!(!payouts.contains_key(&id), Error::<T>::NothingToWithdraw);
				let channel = Channels::<T>::get(id).ok_or(Error::<T>::UnknownChannel)?;
				ensure!(channel.recipient == who, Error::<T>::NotRecipient);
				let owed = channel.owed();
				ensure!(!owed.is_zero(), Error::<T>::NothingToWithdraw);
				payouts.insert(id, (channel, owed));
			}

			for (id, (mut channel, amount)) in payouts {
				Self::pay_out(&channel, amount)?;
				channel.paid = channel.claimed;
				Channels::<T>::insert(id, channel);
				Self::deposit_event(Event::Withdrawn { id, recipient: who.clone(), amount });
			}
			Ok(())
		}

		/// Closes channel `id` from its expiration on: pays its recipient what
		/// it claimed and was not yet paid, releases what was never claimed to
		/// its sender, and removes the channel.
		///
		/// - Origin: signed, anyone (the funds only ever go to the channel's parties).
		/// - Emits [`Event::Reclaimed`].
		/// - Errors: [`Error::UnknownChannel`], [`Error::NotExpired`].
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::reclaim())]
		pub fn reclaim(origin: OriginFor<T>, id: ChannelId) -> DispatchResult {
			ensure_signed(origin)?;
			let channel = Channels::<T>::get(id).ok_or(Error::<T>::UnknownChannel)?;
			ensure!(Self::now() >= channel.expiration, Error::<T>::NotExpired);

			let paid = channel.owed();
			if !paid.is_zero() {
				Self::pay_out(&channel, paid)?;
			}
			let amount = channel.unclaimed();
			T::Currency::release(
				&HoldReason::ChannelFunds.into(),
				&channel.sender,
				amount,
				Precision::Exact,
			)?;
			Channels::<T>::remove(id);
			let Channel { sender, recipient, .. } = channel;
			Self::deposit_event(Event::Reclaimed { id, sender, amount, recipient, paid });
			Ok(())
		}
	}

	impl<T: Config> Pallet<T> {
		fn now() -> BlockNumberFor<T> {
			frame_system::Pallet::<T>::block_number()
		}

		fn check_expiration(expiration: BlockNumberFor<T>) -> DispatchResult {
			let now = Self::now();
			ensure!(expiration > now, Error::<T>::ExpirationInPast);
			ensure!(
				expiration <= now.saturating_add(T::MaxChannelDuration::get()),
				Error::<T>::ExpirationTooFar
			);
			Ok(())
		}

		/// Moves `amount` of `channel`'s held funds from its sender to its
		/// recipient, free.
		fn pay_out(channel: &Channel<T>, amount: BalanceOf<T>) -> DispatchResult {
			T::Currency::transfer_on_hold(
				&HoldReason::ChannelFunds.into(),
				&channel.sender,
				&channel.recipient,
				amount,
				Precision::Exact,
				Restriction::Free,
				Fortitude::Polite,
			)?;
			Ok(())
		}

		/// Whether `who` can hold `amount` more (keeping its account alive).
		fn can_hold(who: &T::AccountId, amount: BalanceOf<T>) -> bool {
			use frame_support::traits::tokens::Preservation;
			T::Currency::reducible_balance(who, Preservation::Preserve, Fortitude::Polite) >= amount
		}

		/// An open channel, for the runtime API and clients.
		pub fn channel(id: ChannelId) -> Option<Channel<T>> {
			Channels::<T>::get(id)
		}

		/// The invariants: every account's held channel funds are the sum of
		/// `value - paid` over the channels it opened; each channel's claims
		/// are the sum of its lanes' and never above its value, and its payouts
		/// never above its claims; ids are below [`NextChannelId`].
		pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
			let next = NextChannelId::<T>::get();
			let mut held: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
			for (id, c) in Channels::<T>::iter() {
				ensure!(id < next, "a channel id at or above NextChannelId");
				ensure!(c.claimed <= c.value, "a channel claimed above its value");
				ensure!(c.paid <= c.claimed, "a channel paid out more than was claimed");
				let lanes = c
					.lanes
					.values()
					.fold(BalanceOf::<T>::zero(), |a, l| a.saturating_add(l.claimed));
				ensure!(lanes == c.claimed, "a channel's claims are not the sum of its lanes'");
				ensure!(
					c.lanes.keys().all(|l| *l < T::MaxLanes::get()),
					"a lane at or above MaxLanes"
				);
				let e = held.entry(c.sender.clone()).or_insert_with(Zero::zero);
				*e = e.saturating_add(c.held());
			}
			for (who, sum) in held {
				ensure!(
					T::Currency::balance_on_hold(&HoldReason::ChannelFunds.into(), &who) == sum,
					"an account's held channel funds are not its channels' value less payouts"
				);
			}
			Ok(())
		}
	}
}

/// A channel's (sender, recipient), for `pallet-verification`'s disputes of
/// served receipts.
impl<T: Config> agora_primitives::ChannelParties<T::AccountId> for Pallet<T> {
	fn parties(id: agora_primitives::channels::ChannelId) -> Option<(T::AccountId, T::AccountId)> {
		Channels::<T>::get(id).map(|c| (c.sender, c.recipient))
	}
}
