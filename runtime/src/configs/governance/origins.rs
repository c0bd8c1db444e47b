//! Agora's custom governance origins, one per referendum track beyond root, and
//! the switch between the development chain's short track periods and the
//! realistic ones.

pub use pallet_custom_origins::*;

// FRAME's pallet macros expand to `expect` calls attributed to this module;
// hand-written code here uses none.
#[allow(clippy::expect_used, clippy::unwrap_used)]
#[frame_support::pallet]
pub mod pallet_custom_origins {
	use frame_support::pallet_prelude::*;

	#[pallet::config]
	pub trait Config: frame_system::Config {}

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	/// The origins referenda dispatch with.
	#[derive(
		PartialEq,
		Eq,
		Clone,
		MaxEncodedLen,
		Encode,
		Decode,
		DecodeWithMemTracking,
		TypeInfo,
		Debug,
	)]
	#[pallet::origin]
	pub enum Origin {
		/// A `market_params` referendum passed: may change the marketplace's
		/// parameters (audit rate, …).
		MarketParams,
	}

	/// Whether the tracks use the short periods (minutes) of the development
	/// chain instead of the realistic ones (days).
	#[pallet::storage]
	pub type FastTracks<T> = StorageValue<_, bool, ValueQuery>;

	/// Whether BABE epochs (sessions) last 10 slots (30 s) and an era one
	/// session, instead of 10 minutes and 6 sessions (`configs::staking`). Set
	/// at genesis only: the epoch length must never change on a live chain.
	#[pallet::storage]
	pub type FastEpochs<T> = StorageValue<_, bool, ValueQuery>;

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// Short track periods (the development preset).
		pub fast_tracks: bool,
		/// 30-second epochs and one-session eras (test networks).
		pub fast_epochs: bool,
		#[serde(skip)]
		pub _config: core::marker::PhantomData<T>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			FastTracks::<T>::put(self.fast_tracks);
			FastEpochs::<T>::put(self.fast_epochs);
		}
	}
}

/// Succeeds for an origin that is [`Origin::MarketParams`].
pub struct MarketParams;

impl<O: Into<Result<Origin, O>> + From<Origin>> frame_support::traits::EnsureOrigin<O> for MarketParams {
	type Success = ();

	fn try_origin(o: O) -> Result<Self::Success, O> {
		o.into().map(|Origin::MarketParams| ())
	}

	#[cfg(feature = "runtime-benchmarks")]
	fn try_successful_origin() -> Result<O, ()> {
		Ok(O::from(Origin::MarketParams))
	}
}
