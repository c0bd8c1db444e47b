//! Paying an epoch's reward from new issuance, a page of providers per block.
use crate::{pallet::*, types::Payout, weights::WeightInfo};
use agora_primitives::passes;
use frame_support::{
	pallet_prelude::*,
	traits::{
		fungible::{Inspect, Mutate},
		Get,
	},
};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_runtime::{
	traits::{Saturating, Zero},
	SaturatedConversion,
};

impl<T: Config> Pallet<T> {
	/// One block's payout work: starts the payout of the oldest ended epoch
	/// whose payout has not started (when none is under way), then pays up to
	/// `MaxPayoutsPerBlock` of its providers; finishes it (the remainder to the
	/// treasury) when none is left. Its weight.
	pub(crate) fn pay_step(now: BlockNumberFor<T>) -> Weight {
		let mut weight = T::DbWeight::get().reads(2);
		let current = Self::epoch_at(now);
		let mut payout = CurrentPayout::<T>::get();
		if payout.is_none() {
			let next = NextPayoutEpoch::<T>::get();
			if next >= current {
				return weight;
			}
			weight = weight.saturating_add(T::WeightInfo::start_payout());
			NextPayoutEpoch::<T>::put(next.saturating_add(1));
			// An epoch without pass jobs has nothing to pay.
			let Some(work) = EpochWork::<T>::take(next) else { return weight };
			let total = work.contribution;
			// Work of weight 0 only: its providers are listed (paged, like any
			// payout) and paid nothing; nothing is minted.
			let reward: BalanceOf<T> = if total == 0 {
				Zero::zero()
			} else {
				let uncapped = passes::epoch_reward(
					T::Currency::total_issuance().saturated_into(),
					T::Inflation::get().deconstruct(),
					EpochLength::<T>::get().saturated_into(),
					T::BlocksPerYear::get().saturated_into(),
				);
				passes::capped_reward(uncapped, total, T::RewardCap::get().saturated_into()).saturated_into()
			};
			Self::deposit_event(Event::PayoutStarted { epoch: next, reward, total });
			payout = Some(Payout { epoch: next, reward, total, paid: Zero::zero(), providers: 0 });
		}
		let Some(mut p) = payout else { return weight };
		let page: alloc::vec::Vec<_> =
			Work::<T>::drain_prefix(p.epoch).take(T::MaxPayoutsPerBlock::get() as usize).collect();
		weight = weight.saturating_add(T::WeightInfo::pay_page(page.len() as u32));
		for (provider, work) in page {
			let share: BalanceOf<T> = passes::reward_share(
				u128::from(work.contribution),
				u128::from(p.total),
				p.reward.saturated_into(),
			)
			.saturated_into();
			// A provider that cannot receive it (its account gone and the share
			// under the existential deposit) leaves it to the treasury.
			let paid = if !share.is_zero() && T::Currency::mint_into(&provider, share).is_ok() {
				share
			} else {
				Zero::zero()
			};
			p.paid = p.paid.saturating_add(paid);
			p.providers = p.providers.saturating_add(1);
			Self::deposit_event(Event::ProviderRewarded {
				epoch: p.epoch,
				provider,
				jobs: work.jobs,
				contribution: work.contribution,
				reward: paid,
			});
		}
		if Work::<T>::iter_prefix(p.epoch).next().is_some() {
			CurrentPayout::<T>::put(p);
			return weight;
		}
		let remainder = p.reward.saturating_sub(p.paid);
		let to_treasury = if !remainder.is_zero() && T::Currency::mint_into(&T::Treasury::get(), remainder).is_ok() {
			remainder
		} else {
			Zero::zero()
		};
		CurrentPayout::<T>::kill();
		Self::deposit_event(Event::EpochPaid {
			epoch: p.epoch,
			providers: p.providers,
			to_providers: p.paid,
			to_treasury,
		});
		weight
	}
}
