//! The marketplace's parameters (docs/protocol.md §9): one store, `pallet-parameters`, with
//! one dynamic parameter per protocol name, read by the marketplace pallets through
//! their `Get` config types. A `market_params` (or `root`) referendum changes
//! them with [`pallet_market_params::Pallet::set`], which refuses a value
//! outside the parameter's documented bounds ([`PARAMS`]). `pallet-parameters`'
//! own `set_parameter` admits no origin, so the bounds cannot be bypassed.
//!
//! Values are read when used: a new `DISPUTE_WINDOW` applies to receipts
//! accepted after it (each receipt keeps the end of its window), a new
//! `SERVED_DISPUTE_WINDOW` to served receipts disputed after it, a new
//! `UNBONDING_PERIOD` to chunks unbonded after it.
//!
//! Storage bounds stay runtime constants (changed by a runtime upgrade):
//! `MaxInputLen` (16 KiB) caps `MAX_INPUT_LEN`, `MaxCommitteeSize` (15) caps
//! `COMMITTEE_SIZE`, and `ABUSE_N` (10, the length of a client's rating history)
//! caps `ABUSE_M`.

use alloc::{string::String, vec::Vec};
use frame_support::dynamic_params::{dynamic_pallet_params, dynamic_params};
use sp_runtime::Perbill;

use crate::{Balance, BlockNumber, Runtime, AGR, DAYS, HOURS, MILLI_AGR};

use super::constants::{ABUSE_WINDOW, MAX_COMMITTEE_BOUND, MAX_DISPUTE_WINDOW, MAX_INPUT_BOUND};

/// Each parameter's default (in force until a referendum sets it).
pub mod defaults {
	use super::*;
	pub const DISPUTE_WINDOW: BlockNumber = 10;
	pub const AUDIT_RATE: u32 = 50_000;
	pub const COMMITTEE_SIZE: u32 = 3;
	pub const VOTE_TIMEOUT: BlockNumber = 20;
	pub const DISPUTE_BOND: Balance = 10 * AGR;
	pub const FRAUD_SLASH: Perbill = Perbill::from_percent(50);
	pub const CHALLENGER_REWARD: Perbill = Perbill::from_percent(20);
	pub const LOST_BOND_TO_PROVIDER: Perbill = Perbill::from_percent(50);
	pub const MISSED_DEADLINE_SLASH: Perbill = Perbill::from_percent(1);
	pub const PROTOCOL_FEE: Perbill = Perbill::from_percent(2);
	pub const MIN_PROVIDER_STAKE: Balance = 1_000 * AGR;
	pub const UNBONDING_PERIOD: BlockNumber = 7 * DAYS;
	pub const MAX_INPUT_LEN: u32 = 4 * 1024;
	pub const MAX_DEADLINE: BlockNumber = HOURS;
	pub const RETENTION: BlockNumber = DAYS;
	pub const REPUTATION_THETA_MILLI: u32 = 300;
	pub const ABUSE_THRESHOLD: u32 = 7;
	pub const RESTRICT_PERIOD: BlockNumber = DAYS;
	pub const STAKE_PER_REQUEST: Balance = AGR;
	pub const MAX_REQUESTS_PER_EPOCH: u32 = 1_000;
	pub const PASS_COOLDOWN: BlockNumber = DAYS;
	pub const INFLATION: Perbill = Perbill::from_percent(1);
	pub const PASS_REWARD_CAP: Balance = MILLI_AGR;
	pub const SERVED_DISPUTE_WINDOW: BlockNumber = 30 * crate::MINUTES;
}

#[dynamic_params(RuntimeParameters, pallet_parameters::Parameters::<Runtime>)]
pub mod dynamic_params {
	use super::*;

	/// The marketplace's parameters (bounds in [`PARAMS`](super::PARAMS)).
	#[dynamic_pallet_params]
	#[codec(index = 0)]
	pub mod market {
		/// `DISPUTE_WINDOW`: blocks a receipt may be disputed in (30 s).
		#[codec(index = 0)]
		pub static DisputeWindow: BlockNumber = defaults::DISPUTE_WINDOW;
		/// `AUDIT_RATE`: parts per million of receipts audited at random (5 %).
		#[codec(index = 1)]
		pub static AuditRate: u32 = defaults::AUDIT_RATE;
		/// `COMMITTEE_SIZE`: validators re-checking each audited or disputed
		/// receipt; a majority decides.
		#[codec(index = 2)]
		pub static CommitteeSize: u32 = defaults::COMMITTEE_SIZE;
		/// `VOTE_TIMEOUT`: blocks a committee has to reach a majority (1 min).
		#[codec(index = 3)]
		pub static VoteTimeout: BlockNumber = defaults::VOTE_TIMEOUT;
		/// `DISPUTE_BOND`: held from a challenger until the verdict (10 AGR).
		#[codec(index = 4)]
		pub static DisputeBond: Balance = defaults::DISPUTE_BOND;
		/// `FRAUD_SLASH`: share of the provider's bond slashed for fraud.
		#[codec(index = 5)]
		pub static FraudSlash: Perbill = defaults::FRAUD_SLASH;
		/// `CHALLENGER_REWARD`: share of a fraud slash paid to the challenger.
		#[codec(index = 6)]
		pub static ChallengerReward: Perbill = defaults::CHALLENGER_REWARD;
		/// Share of a lost dispute bond paid to the provider (the rest to the
		/// treasury).
		#[codec(index = 7)]
		pub static LostBondToProvider: Perbill = defaults::LOST_BOND_TO_PROVIDER;
		/// `MISSED_DEADLINE_SLASH`: share of the bond slashed for a missed deadline.
		#[codec(index = 8)]
		pub static MissedDeadlineSlash: Perbill = defaults::MISSED_DEADLINE_SLASH;
		/// `PROTOCOL_FEE`: share of every job's charge paid to the treasury.
		#[codec(index = 9)]
		pub static ProtocolFee: Perbill = defaults::PROTOCOL_FEE;
		/// `MIN_PROVIDER_STAKE`: the smallest bond that lets a provider serve.
		#[codec(index = 10)]
		pub static MinProviderStake: Balance = defaults::MIN_PROVIDER_STAKE;
		/// `UNBONDING_PERIOD`: blocks between `unbond` and `withdraw_unbonded`.
		#[codec(index = 11)]
		pub static UnbondingPeriod: BlockNumber = defaults::UNBONDING_PERIOD;
		/// `MAX_INPUT_LEN`: most bytes of inline job input.
		#[codec(index = 12)]
		pub static MaxInputLen: u32 = defaults::MAX_INPUT_LEN;
		/// `MAX_DEADLINE`: how far ahead (blocks) a job's deadline may be.
		#[codec(index = 13)]
		pub static MaxDeadline: BlockNumber = defaults::MAX_DEADLINE;
		/// `RETENTION`: blocks a finished job is kept before it is pruned.
		#[codec(index = 14)]
		pub static Retention: BlockNumber = defaults::RETENTION;
		/// `θ` × 1000: the reputation curve's steepness (0.3).
		#[codec(index = 15)]
		pub static ReputationThetaMilli: u32 = defaults::REPUTATION_THETA_MILLI;
		/// `ABUSE_M`: disagreements among a client's last `ABUSE_N` ratings that
		/// restrict it.
		#[codec(index = 16)]
		pub static AbuseThreshold: u32 = defaults::ABUSE_THRESHOLD;
		/// `T_RESTRICT`: blocks a restricted client may not rate (doubling on
		/// every repeat).
		#[codec(index = 17)]
		pub static RestrictPeriod: BlockNumber = defaults::RESTRICT_PERIOD;
		/// `STAKE_PER_REQUEST`: service-pass stake per request of quota per
		/// epoch (1 AGR).
		#[codec(index = 18)]
		pub static StakePerRequest: Balance = defaults::STAKE_PER_REQUEST;
		/// `MAX_REQUESTS_PER_EPOCH`: the most requests any pass allows per epoch.
		#[codec(index = 19)]
		pub static MaxRequestsPerEpoch: u32 = defaults::MAX_REQUESTS_PER_EPOCH;
		/// `PASS_COOLDOWN`: blocks between unlocking pass stake and withdrawing
		/// it (a day: longer than an epoch, so the same stake never backs two
		/// passes' quotas in one epoch).
		#[codec(index = 20)]
		pub static PassCooldown: BlockNumber = defaults::PASS_COOLDOWN;
		/// `INFLATION`: new issuance a year paid to providers for pass work,
		/// of the total issuance (1 %).
		#[codec(index = 21)]
		pub static Inflation: Perbill = defaults::INFLATION;
		/// `PASS_REWARD_CAP`: the most an epoch mints per unit of pass work
		/// (0.001 AGR, below the ~0.00135 AGR fee of `submit_pass_job`): no
		/// self-sent pass request ever pays, even a monopoly provider's
		/// (docs/economics.md).
		#[codec(index = 22)]
		pub static PassRewardCap: Balance = defaults::PASS_REWARD_CAP;
		/// `SERVED_DISPUTE_WINDOW`: blocks a channel-paid answer's served
		/// receipt may be disputed in, from the block it names (30 min). Longer
		/// than `DISPUTE_WINDOW`: nothing waits on it (the provider is paid by
		/// voucher, not at the window's end), and a client checks answers after
		/// it has used them.
		#[codec(index = 23)]
		pub static ServedDisputeWindow: BlockNumber = defaults::SERVED_DISPUTE_WINDOW;
	}
}

pub use dynamic_params::market;

pub use agora_primitives::params::{ParamInfo, ParamUnit as Unit};

/// One parameter's protocol name, inclusive bounds and unit.
#[derive(Clone, Copy, Debug)]
pub struct ParamSpec {
	pub name: &'static str,
	pub min: u128,
	pub max: u128,
	pub unit: Unit,
}

const PERBILL: u128 = 1_000_000_000;

// One row per parameter: (variant, protocol name, min, max, unit, to u128, from u128).
macro_rules! params_table {
	($( $v:ident, $name:literal, $def:ident, $min:expr, $max:expr, $unit:ident, $kind:ident; )*) => {
		/// Every governed parameter, in `market` index order, with its bounds.
		pub const PARAMS: &[ParamSpec] = &[
			$( ParamSpec { name: $name, min: $min, max: $max, unit: Unit::$unit }, )*
		];

		/// The [`PARAMS`] row of a parameter key.
		pub fn spec_of(key: &market::ParametersKey) -> ParamSpec {
			match key {
				$( market::ParametersKey::$v(_) => ParamSpec { name: $name, min: $min, max: $max, unit: Unit::$unit }, )*
			}
		}

		/// A parameter's value as a number (`None`: reset to the default).
		pub fn value_of(p: &market::Parameters) -> (market::ParametersKey, Option<u128>) {
			match p {
				$( market::Parameters::$v(k, v) =>
					(market::ParametersKey::$v(k.clone()), v.map(|x| params_table!(@to $kind x))), )*
			}
		}

		/// A stored value as a number.
		pub fn number_of(v: &market::ParametersValue) -> u128 {
			match v {
				$( market::ParametersValue::$v(x) => params_table!(@to $kind *x), )*
			}
		}

		/// The parameter called `name` set to `value` (`None` for an unknown
		/// name or a value that does not fit its type).
		pub fn from_name(name: &str, value: u128) -> Option<market::Parameters> {
			match name {
				$( $name => Some(market::Parameters::$v(market::$v, Some(params_table!(@from $kind value)?))), )*
				_ => None,
			}
		}

		/// Every parameter with its value in force and its default.
		pub fn all() -> Vec<ParamInfo> {
			use frame_support::traits::Get;
			alloc::vec![
				$( ParamInfo {
					name: $name.as_bytes().to_vec(),
					value: params_table!(@to $kind <market::$v as Get<_>>::get()),
					default: params_table!(@to $kind defaults::$def),
					min: $min,
					max: $max,
					unit: Unit::$unit,
				}, )*
			]
		}
	};
	(@to int $x:expr) => { u128::from($x) };
	(@to perbill $x:expr) => { u128::from($x.deconstruct()) };
	(@from int $x:expr) => { $x.try_into().ok() };
	(@from perbill $x:expr) => {
		u32::try_from($x).ok().filter(|p| u128::from(*p) <= PERBILL).map(Perbill::from_parts)
	};
}

params_table! {
	DisputeWindow, "DISPUTE_WINDOW", DISPUTE_WINDOW, 5, (MAX_DISPUTE_WINDOW as u128), Blocks, int;
	AuditRate, "AUDIT_RATE", AUDIT_RATE, MIN_AUDIT_RATE, 1_000_000, Ppm, int;
	CommitteeSize, "COMMITTEE_SIZE", COMMITTEE_SIZE, 3, (MAX_COMMITTEE_BOUND as u128), Count, int;
	VoteTimeout, "VOTE_TIMEOUT", VOTE_TIMEOUT, 5, (HOURS as u128), Blocks, int;
	DisputeBond, "DISPUTE_BOND", DISPUTE_BOND, AGR, 100_000 * AGR, Planck, int;
	FraudSlash, "FRAUD_SLASH", FRAUD_SLASH, PERBILL / 100, PERBILL, Perbill, perbill;
	ChallengerReward, "CHALLENGER_REWARD", CHALLENGER_REWARD, 0, PERBILL / 2, Perbill, perbill;
	LostBondToProvider, "LOST_BOND_TO_PROVIDER", LOST_BOND_TO_PROVIDER, 0, PERBILL, Perbill, perbill;
	MissedDeadlineSlash, "MISSED_DEADLINE_SLASH", MISSED_DEADLINE_SLASH, 0, PERBILL, Perbill, perbill;
	ProtocolFee, "PROTOCOL_FEE", PROTOCOL_FEE, 0, PERBILL / 5, Perbill, perbill;
	MinProviderStake, "MIN_PROVIDER_STAKE", MIN_PROVIDER_STAKE, AGR, 1_000_000 * AGR, Planck, int;
	UnbondingPeriod, "UNBONDING_PERIOD", UNBONDING_PERIOD, 1, ((DAYS as u128).saturating_mul(28)), Blocks, int;
	MaxInputLen, "MAX_INPUT_LEN", MAX_INPUT_LEN, 16, (MAX_INPUT_BOUND as u128), Bytes, int;
	MaxDeadline, "MAX_DEADLINE", MAX_DEADLINE, 10, (DAYS as u128), Blocks, int;
	Retention, "RETENTION", RETENTION, (HOURS as u128), ((DAYS as u128).saturating_mul(30)), Blocks, int;
	ReputationThetaMilli, "THETA", REPUTATION_THETA_MILLI, 10, 5_000, Milli, int;
	AbuseThreshold, "ABUSE_M", ABUSE_THRESHOLD, 1, (ABUSE_WINDOW as u128), Count, int;
	RestrictPeriod, "T_RESTRICT", RESTRICT_PERIOD, 1, ((DAYS as u128).saturating_mul(30)), Blocks, int;
	StakePerRequest, "STAKE_PER_REQUEST", STAKE_PER_REQUEST, MILLI_AGR, 1_000_000 * AGR, Planck, int;
	MaxRequestsPerEpoch, "MAX_REQUESTS_PER_EPOCH", MAX_REQUESTS_PER_EPOCH, 1, 1_000_000, Count, int;
	PassCooldown, "PASS_COOLDOWN", PASS_COOLDOWN, (HOURS as u128), ((DAYS as u128).saturating_mul(28)), Blocks, int;
	Inflation, "INFLATION", INFLATION, 0, PERBILL / 10, Perbill, perbill;
	PassRewardCap, "PASS_REWARD_CAP", PASS_REWARD_CAP, 0, 1_000 * AGR, Planck, int;
	ServedDisputeWindow, "SERVED_DISPUTE_WINDOW", SERVED_DISPUTE_WINDOW, 10, (MAX_DISPUTE_WINDOW as u128), Blocks, int;
}

/// The floor of `AUDIT_RATE` a referendum may set: 1 % of receipts. Checking
/// cannot be switched off by governance; only a chain spec may start with
/// random audits off (the one-validator dev chain, see [`GENESIS_ONLY`]).
pub const MIN_AUDIT_RATE: u128 = 10_000;

/// Values a chain spec may start with that no referendum can set (names and
/// values): `AUDIT_RATE` 0 on a chain whose only validator would audit itself.
pub const GENESIS_ONLY: &[(&str, u128)] = &[("AUDIT_RATE", 0)];

/// Why a parameter value is refused.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum BoundsError {
	BelowMinimum,
	AboveMaximum,
	/// `COMMITTEE_SIZE` must be odd, so that a full committee always has a
	/// majority.
	MustBeOdd,
}

/// Checks a new value against its parameter's bounds; a reset (`None`) to the
/// default is always allowed.
pub fn check(p: &market::Parameters) -> Result<(ParamSpec, Option<u128>), BoundsError> {
	let (key, value) = value_of(p);
	let spec = spec_of(&key);
	if let Some(v) = value {
		check_value(&spec, v)?;
	}
	Ok((spec, value))
}

/// Sets the governed parameter `name` to `value` as root would, for benchmark
/// set-up; a value out of bounds leaves it unchanged.
#[cfg(feature = "runtime-benchmarks")]
pub fn set_for_benchmark(name: &str, value: u128) {
	if let Some(p) = from_name(name, value) {
		let _ = crate::MarketParams::set(frame_system::RawOrigin::Root.into(), p);
	}
}

/// `v` against `spec`'s bounds (and `COMMITTEE_SIZE`'s oddness).
pub fn check_value(spec: &ParamSpec, v: u128) -> Result<(), BoundsError> {
	if v < spec.min {
		return Err(BoundsError::BelowMinimum);
	}
	if v > spec.max {
		return Err(BoundsError::AboveMaximum);
	}
	if spec.name == "COMMITTEE_SIZE" && v.is_multiple_of(2) {
		return Err(BoundsError::MustBeOdd);
	}
	Ok(())
}

/// [`check_value`], or one of the [`GENESIS_ONLY`] values: what a chain may
/// start with, and what `try_state` accepts.
pub fn check_at_genesis(spec: &ParamSpec, v: u128) -> Result<(), BoundsError> {
	if GENESIS_ONLY.contains(&(spec.name, v)) {
		return Ok(());
	}
	check_value(spec, v)
}

/// The governed-parameters glue: bounds-checked writes into `pallet-parameters`.
///
/// Runtime-local because its bounds are the runtime's ([`PARAMS`]).
// FRAME's pallet macros expand to `expect` calls attributed to this module;
// hand-written code here uses none.
#[allow(clippy::expect_used, clippy::unwrap_used)]
#[frame_support::pallet]
pub mod pallet_market_params {
	use super::{check, from_name, market, value_of, BoundsError, RuntimeParameters};
	use alloc::{string::String, vec::Vec};
	use frame_support::pallet_prelude::*;
	use frame_system::pallet_prelude::*;

	#[pallet::config]
	pub trait Config:
		frame_system::Config<RuntimeEvent: From<Event<Self>>>
		+ pallet_parameters::Config<RuntimeParameters = RuntimeParameters>
	{
		/// Who may set a parameter: root, or a `market_params` referendum.
		type ParamsOrigin: EnsureOrigin<Self::RuntimeOrigin>;
	}

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A parameter was set (`new: None`: back to its default).
		ParameterSet { name: Vec<u8>, old: Option<u128>, new: Option<u128> },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The value is below the parameter's minimum (see `AgoraParamsApi::params`
		/// or docs/governance.md for the bounds); nothing changed.
		BelowMinimum,
		/// The value is above the parameter's maximum; nothing changed.
		AboveMaximum,
		/// `COMMITTEE_SIZE` must be odd (a full committee always has a
		/// majority); nothing changed.
		MustBeOdd,
	}

	/// Parameter values at genesis, by protocol name (e.g. `["AUDIT_RATE", 0]`);
	/// each must be within its bounds.
	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		pub params: Vec<(String, u128)>,
		#[serde(skip)]
		pub _config: core::marker::PhantomData<T>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			for (name, value) in &self.params {
				let Some(p) = from_name(name, *value) else {
					panic!("genesis parameter {name} = {value}: unknown name or value out of type");
				};
				let (key, _) = value_of(&p);
				if let Err(e) = super::check_at_genesis(&super::spec_of(&key), *value) {
					panic!("genesis parameter {name} = {value}: {e:?}");
				}
				Pallet::<T>::write(p);
			}
		}
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		/// Every parameter in force is within its documented bounds.
		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			for p in super::all() {
				let name = core::str::from_utf8(&p.name).unwrap_or_default();
				let spec = super::PARAMS.iter().find(|s| s.name == name).ok_or("an unknown parameter")?;
				frame_support::ensure!(
					super::check_at_genesis(spec, p.value).is_ok(),
					"a market parameter is outside its bounds"
				);
			}
			Ok(())
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Set one marketplace parameter (or reset it to its default with a
		/// `None` value), within its bounds.
		///
		/// - Origin: `ParamsOrigin` (root, or a `market_params` referendum).
		/// - Emits [`Event::ParameterSet`].
		/// - Errors: [`Error::BelowMinimum`], [`Error::AboveMaximum`],
		///   [`Error::MustBeOdd`].
		///
		/// Weight: `pallet-parameters`' benchmarked `set_parameter` (the same
		/// read, write and event; the bounds are constants), as polkadot-sdk
		/// ships it.
		#[pallet::call_index(0)]
		#[pallet::weight(<() as pallet_parameters::WeightInfo>::set_parameter())]
		pub fn set(origin: OriginFor<T>, param: market::Parameters) -> DispatchResult {
			T::ParamsOrigin::ensure_origin(origin)?;
			check(&param).map_err(|e| match e {
				BoundsError::BelowMinimum => Error::<T>::BelowMinimum,
				BoundsError::AboveMaximum => Error::<T>::AboveMaximum,
				BoundsError::MustBeOdd => Error::<T>::MustBeOdd,
			})?;
			Self::write(param);
			Ok(())
		}
	}

	impl<T: Config> Pallet<T> {
		fn write(param: market::Parameters) {
			let (key, new) = value_of(&param);
			let name = super::spec_of(&key).name.as_bytes().to_vec();
			let (rkey, rvalue) =
				frame_support::traits::dynamic_params::AggregatedKeyValue::into_parts(
					RuntimeParameters::Market(param),
				);
			let old = pallet_parameters::Parameters::<T>::get(&rkey).map(|v| match v {
				super::RuntimeParametersValue::Market(v) => super::number_of(&v),
			});
			match rvalue {
				Some(v) => pallet_parameters::Parameters::<T>::insert(&rkey, v),
				None => pallet_parameters::Parameters::<T>::remove(&rkey),
			}
			Self::deposit_event(Event::ParameterSet { name, old, new });
		}
	}
}

impl pallet_parameters::Config for Runtime {
	type RuntimeParameters = RuntimeParameters;
	/// Nobody: every write goes through [`pallet_market_params`]'s bounds.
	type AdminOrigin = frame_support::traits::AsEnsureOriginWithArg<frame_system::EnsureNever<()>>;
	type RuntimeEvent = crate::RuntimeEvent;
	type WeightInfo = ();
}

impl pallet_market_params::Config for Runtime {
	/// Root, or a `market_params` referendum.
	type ParamsOrigin = crate::configs::governance::MarketParamsOrigin;
}

/// A parameter's protocol name as a string (for errors in tests and clients).
pub fn name_of(p: &market::Parameters) -> String {
	String::from(spec_of(&value_of(p).0).name)
}
