//! # Reputation
//!
//! Provider reputation (docs/protocol.md §7) and the ranking discovery uses (docs/protocol.md §8).
//!
//! - **Score:** `R = 100 / (1 + e^(−θ·S))` where `S` is the sum of every client's
//!   *latest* rating of the provider (−1, 0, +1) minus one per expired job. A new
//!   provider has `S = 0`, so `R = 50`. A provider with a proven fraud is at the
//!   floor, 0. Fixed point only; [`fixed`] documents the `e^x` approximation and
//!   its error (< 0.001 points; tested against `f64` over the whole range).
//! - **Ratings** arrive through [`agora_primitives::Reputation::on_rating`] from
//!   `pallet-jobs`' `rate`, which only lets the client of a finalized job rate its
//!   provider. A client's new rating of a provider replaces its previous one in
//!   O(1): the record keeps the running sum and counts.
//! - **Review abuse:** a rating *disagrees* when it is non-zero and has the
//!   opposite sign of the provider's majority (the sum of the *other* clients'
//!   latest ratings). A client with `AbuseThreshold` disagreements among its last
//!   `AbuseWindow` ratings may not rate for `RestrictPeriod` blocks; each repeat
//!   doubles the period (2T, 4T, …, at most `2^MaxDoublings · T`). Each
//!   restriction is an event.
//! - **Ranking:** the 95 % Wilson lower bound on the share of positive outcomes
//!   (finalized jobs and +1 ratings against expiries and −1 ratings), so that a
//!   long clean record beats one lucky +1.
//!
//! The pallet has no calls of its own; it implements the `Reputation` trait that
//! `pallet-jobs` uses for rating and for AVRF weights.
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
pub mod fixed;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;
pub mod types;
pub mod weights;

pub use weights::WeightInfo;

#[allow(clippy::expect_used, clippy::unwrap_used)]
#[frame_support::pallet]
pub mod pallet {
	use super::{fixed, types::*, WeightInfo};
	use agora_primitives::discovery::ReputationView;
	use frame_support::{pallet_prelude::*, weights::Weight};
	use frame_system::pallet_prelude::*;
	use sp_runtime::traits::Saturating;

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	/// Defaults for a test runtime's [`Config`] (`#[derive_impl(config_preludes::TestDefaultConfig)]`):
	/// the values no test cares about; a mock sets the rest.
	pub mod config_preludes {
		use super::*;
		use frame_support::derive_impl;

		/// SPEC's defaults: θ = 0.3, 7 disagreements of the last 10 restrict for 100 blocks.
		pub struct TestDefaultConfig;

		#[derive_impl(frame_system::config_preludes::TestDefaultConfig, no_aggregated_types)]
		impl frame_system::DefaultConfig for TestDefaultConfig {}

		#[frame_support::register_default_impl(TestDefaultConfig)]
		impl DefaultConfig for TestDefaultConfig {
			type ThetaMilli = ConstU32<300>;
			type AbuseWindow = ConstU32<10>;
			type AbuseThreshold = ConstU32<7>;
			type RestrictPeriod = frame_support::traits::ConstU64<100>;
			type MaxDoublings = ConstU32<8>;
			type WeightInfo = ();
		}
	}

	#[pallet::config(with_default)]
	pub trait Config: frame_system::Config<RuntimeEvent: From<Event<Self>>> {
		/// θ × 1000 in `100 / (1 + e^(−θ·S))`.
		#[pallet::constant]
		type ThetaMilli: Get<u32>;
		/// `ABUSE_N`: how many of a client's latest ratings are looked at.
		#[pallet::constant]
		type AbuseWindow: Get<u32>;
		/// `ABUSE_M`: disagreements among them that restrict the client.
		#[pallet::constant]
		type AbuseThreshold: Get<u32>;
		/// `T_RESTRICT`: the first restriction's length.
		#[pallet::no_default_bounds]
		#[pallet::constant]
		type RestrictPeriod: Get<BlockNumberFor<Self>>;
		/// The restriction stops doubling after this many doublings.
		#[pallet::constant]
		type MaxDoublings: Get<u32>;
		/// Weights of the hooks `pallet-jobs` calls.
		type WeightInfo: WeightInfo;
	}

	/// Each client's latest rating of each provider: (provider, client) → rating.
	#[pallet::storage]
	pub type Ratings<T: Config> = StorageDoubleMap<
		_,
		Blake2_128Concat,
		T::AccountId,
		Blake2_128Concat,
		T::AccountId,
		i8,
		OptionQuery,
	>;

	/// Per provider: the running rating sum, counts and outcomes.
	#[pallet::storage]
	pub type Records<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, ProviderRecord, ValueQuery>;

	/// (provider, client) pairs with a finalized job: distinct clients served.
	#[pallet::storage]
	pub type Served<T: Config> = StorageDoubleMap<
		_,
		Blake2_128Concat,
		T::AccountId,
		Blake2_128Concat,
		T::AccountId,
		(),
		OptionQuery,
	>;

	/// Each client's last `AbuseWindow` ratings: whether each disagreed with the
	/// provider's majority (oldest first).
	#[pallet::storage]
	pub type Windows<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, BoundedVec<bool, T::AbuseWindow>, ValueQuery>;

	/// Clients restricted for review abuse (kept after expiry: the strikes count).
	#[pallet::storage]
	pub type Restrictions<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, Restriction<BlockNumberFor<T>>, OptionQuery>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A client's rating now counts (replacing `previous`, if any).
		Rated {
			client: T::AccountId,
			provider: T::AccountId,
			rating: i8,
			previous: Option<i8>,
			disagreed: bool,
			score_milli: u32,
		},
		/// A client may not rate until `until` (its `strikes`-th restriction).
		ClientRestricted { client: T::AccountId, until: BlockNumberFor<T>, strikes: u32 },
		/// An expired job lowered the provider's score.
		ExpiryRecorded { provider: T::AccountId, score_milli: u32 },
		/// A proven fraud put the provider's score at the floor.
		FraudRecorded { provider: T::AccountId },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The client is restricted for review abuse and may not rate yet.
		Restricted,
		/// A rating is −1, 0 or +1.
		InvalidRating,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}

		fn integrity_test() {
			assert!(T::AbuseThreshold::get() > 0, "a threshold of 0 restricts everyone");
			assert!(
				T::AbuseThreshold::get() <= T::AbuseWindow::get(),
				"the threshold must fit in the window"
			);
			assert!(T::ThetaMilli::get() > 0, "θ must be positive");
		}
	}

	impl<T: Config> Pallet<T> {
		/// The score in milli-points (0..=100,000).
		pub fn score_milli(who: &T::AccountId) -> u32 {
			Self::record_score(&Records::<T>::get(who))
		}

		fn record_score(r: &ProviderRecord) -> u32 {
			if r.fraud {
				return 0;
			}
			fixed::score_milli(r.score_sum(), T::ThetaMilli::get())
		}

		/// The ranking score (ppm): Wilson lower bound on positive outcomes.
		pub fn ranking_ppm(r: &ProviderRecord) -> u32 {
			if r.fraud {
				return 0;
			}
			let pos = u64::from(r.finalized).saturating_add(u64::from(r.positive));
			let neg = u64::from(r.expiries).saturating_add(u64::from(r.negative));
			fixed::wilson_lower_ppm(pos, neg)
		}

		/// What discovery shows of a provider.
		pub fn view(who: &T::AccountId) -> ReputationView {
			let r = Records::<T>::get(who);
			let average_rating_milli = if r.raters == 0 {
				0
			} else {
				let avg = r.sum.saturating_mul(1000).checked_div(i64::from(r.raters)).unwrap_or(0);
				i32::try_from(avg).unwrap_or(0)
			};
			ReputationView {
				score_milli: Self::record_score(&r),
				ranking_ppm: Self::ranking_ppm(&r),
				average_rating_milli,
				ratings: r.raters,
				subscribers: r.clients,
				finalized_jobs: r.finalized,
				expiries: r.expiries,
				fraud: r.fraud,
			}
		}

		/// Whether `client` may rate now.
		pub fn ensure_may_rate(client: &T::AccountId) -> DispatchResult {
			if let Some(r) = Restrictions::<T>::get(client) {
				ensure!(frame_system::Pallet::<T>::block_number() >= r.until, Error::<T>::Restricted);
			}
			Ok(())
		}

		fn do_rate(client: &T::AccountId, provider: &T::AccountId, rating: i8) -> DispatchResult {
			ensure!((-1..=1).contains(&rating), Error::<T>::InvalidRating);
			Self::ensure_may_rate(client)?;
			let previous = Ratings::<T>::get(provider, client);
			let mut rec = Records::<T>::get(provider);
			let others = rec.sum.saturating_sub(i64::from(previous.unwrap_or(0)));
			let disagreed = rating != 0 && others != 0 && i64::from(rating).signum() != others.signum();

			// Replace the previous rating's contribution in O(1).
			rec.sum = others.saturating_add(i64::from(rating));
			match previous {
				None => rec.raters.saturating_inc(),
				Some(1) => rec.positive.saturating_dec(),
				Some(-1) => rec.negative.saturating_dec(),
				Some(_) => {},
			}
			match rating {
				1 => rec.positive.saturating_inc(),
				-1 => rec.negative.saturating_inc(),
				_ => {},
			}
			Records::<T>::insert(provider, rec);
			Ratings::<T>::insert(provider, client, rating);
			Self::deposit_event(Event::Rated {
				client: client.clone(),
				provider: provider.clone(),
				rating,
				previous,
				disagreed,
				score_milli: Self::record_score(&rec),
			});

			let mut window = Windows::<T>::get(client);
			if window.is_full() && !window.is_empty() {
				window.remove(0);
			}
			let _ = window.try_push(disagreed);
			let disagreements = window.iter().filter(|d| **d).count() as u32;
			if disagreements >= T::AbuseThreshold::get() {
				let strikes = Restrictions::<T>::get(client).map(|r| r.strikes).unwrap_or(0).saturating_add(1);
				let doublings = strikes.saturating_sub(1).min(T::MaxDoublings::get());
				let factor: BlockNumberFor<T> = 2u32.saturating_pow(doublings).into();
				let now = frame_system::Pallet::<T>::block_number();
				let until = now.saturating_add(T::RestrictPeriod::get().saturating_mul(factor));
				Restrictions::<T>::insert(client, Restriction { until, strikes });
				window.clear();
				Self::deposit_event(Event::ClientRestricted { client: client.clone(), until, strikes });
			}
			Windows::<T>::insert(client, window);
			Ok(())
		}

		/// Invariants: every record's sum and counts equal its latest ratings, its
		/// client count equals its served pairs, and no window is over-full.
		pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
			for (provider, rec) in Records::<T>::iter() {
				let (mut sum, mut n, mut pos, mut neg) = (0i64, 0u32, 0u32, 0u32);
				for (_, r) in Ratings::<T>::iter_prefix(&provider) {
					sum = sum.saturating_add(i64::from(r));
					n.saturating_inc();
					if r == 1 {
						pos.saturating_inc();
					}
					if r == -1 {
						neg.saturating_inc();
					}
				}
				ensure!(rec.sum == sum, "a provider's rating sum is not the sum of its latest ratings");
				ensure!(rec.raters == n, "a provider's rater count is wrong");
				ensure!(rec.positive == pos && rec.negative == neg, "a provider's +1/−1 counts are wrong");
				let served = Served::<T>::iter_prefix(&provider).count() as u32;
				ensure!(rec.clients == served, "a provider's client count is wrong");
				ensure!(rec.clients <= rec.finalized, "more clients than finalized jobs");
				ensure!(Self::record_score(&rec) <= 100_000, "score above 100");
			}
			for (provider, _client, _) in Ratings::<T>::iter() {
				ensure!(Records::<T>::contains_key(&provider), "a rating without a record");
			}
			Ok(())
		}

	}

	impl<T: Config> agora_primitives::Reputation<T::AccountId> for Pallet<T> {
		fn score(who: &T::AccountId) -> u32 {
			Self::score_milli(who).saturating_add(500) / 1000
		}

		fn on_rating(
			client: &T::AccountId,
			provider: &T::AccountId,
			rating: i8,
		) -> Result<(), sp_runtime::DispatchError> {
			Self::do_rate(client, provider, rating)
		}

		fn on_finalized(client: &T::AccountId, provider: &T::AccountId) {
			Records::<T>::mutate(provider, |r| {
				r.finalized.saturating_inc();
				if !Served::<T>::contains_key(provider, client) {
					Served::<T>::insert(provider, client, ());
					r.clients.saturating_inc();
				}
			});
		}

		fn on_expiry(provider: &T::AccountId) {
			let rec = Records::<T>::mutate(provider, |r| {
				r.expiries.saturating_inc();
				*r
			});
			Self::deposit_event(Event::ExpiryRecorded {
				provider: provider.clone(),
				score_milli: Self::record_score(&rec),
			});
		}

		fn on_fraud(provider: &T::AccountId) {
			Records::<T>::mutate(provider, |r| r.fraud = true);
			Self::deposit_event(Event::FraudRecorded { provider: provider.clone() });
		}

		fn rating_weight() -> Weight {
			T::WeightInfo::on_rating()
		}
	}
}
