//! Validators by nominated proof of stake (docs/protocol.md §9): `pallet-staking` elects the
//! session's validators each era with an on-chain sequential Phragmén over the
//! bonded validators and nominators (`UseNominatorsAndValidatorsMap`: every
//! staker votes; no bags list at this size), pays era rewards from an
//! inflation curve, and slashes offences `pallet-offences` reports: BABE and
//! GRANDPA equivocations, proven against the historical session (`pallet-session`
//! with `historical`).
//!
//! Timing: a session is one BABE epoch. Realistic chains run 10-minute epochs
//! and 6 sessions per era (eras of an hour); a genesis with `fast_epochs`
//! (development networks, tests) runs 30-second epochs and one session per era.

use frame_election_provider_support::{bounds::ElectionBoundsBuilder, onchain, SequentialPhragmen};
use frame_support::{
	parameter_types,
	traits::{tokens::imbalance::ResolveTo, ConstU32, Get, Nothing},
};
use sp_runtime::{curve::PiecewiseLinear, Perbill};
use sp_staking::{EraIndex, SessionIndex};

use crate::{
	configs::{
		constants::{MaxExposurePageSize, TreasuryAccount, MAX_AUTHORITIES},
		governance::origins::FastEpochs,
	},
	AccountId, Babe, Balance, Balances, Runtime, RuntimeEvent, RuntimeHoldReason, Session, Staking,
	Timestamp,
};

/// Sessions per era: 6 (an hour), or 1 with fast epochs.
pub struct SessionsPerEra;
impl Get<SessionIndex> for SessionsPerEra {
	fn get() -> SessionIndex {
		if FastEpochs::<Runtime>::get() {
			1
		} else {
			6
		}
	}
}

// Yearly inflation paid to stakers: 2.5 % with nothing staked, rising to 10 %
// at the ideal 50 % of the issuance staked, then falling off (5 % per 100 %
// over the ideal) back towards 2.5 %. What the curve would pay above the
// stakers' share goes to the treasury.
pallet_staking_reward_curve::build! {
	const REWARD_CURVE: PiecewiseLinear<'static> = curve!(
		min_inflation: 0_025_000,
		max_inflation: 0_100_000,
		ideal_stake: 0_500_000,
		falloff: 0_050_000,
		max_piece_count: 40,
		test_precision: 0_005_000,
	);
}

parameter_types! {
	pub const RewardCurve: &'static PiecewiseLinear<'static> = &REWARD_CURVE;
	/// Eras a bond stays locked after `unbond`: 28 (a day with hour-long eras).
	pub const BondingDuration: EraIndex = 28;
	/// Eras before a slash applies (governance may cancel it meanwhile).
	pub const SlashDeferDuration: EraIndex = 7;
	pub ElectionBounds: frame_election_provider_support::bounds::ElectionBounds =
		ElectionBoundsBuilder::default().voters_count(10_000.into()).targets_count(1_000.into()).build();
}

/// Sizes the staking benchmarks (not run by this chain's weight script; the
/// pallet's shipped weights are used).
pub struct StakingBenchmarkingConfig;
impl pallet_staking::BenchmarkingConfig for StakingBenchmarkingConfig {
	type MaxValidators = ConstU32<100>;
	type MaxNominators = ConstU32<1_000>;
}

/// The on-chain election: sequential Phragmén over every staker.
pub struct OnChainSeqPhragmen;
impl onchain::Config for OnChainSeqPhragmen {
	type Sort = frame_support::traits::ConstBool<true>;
	type System = Runtime;
	type Solver = SequentialPhragmen<AccountId, Perbill>;
	type DataProvider = Staking;
	type WeightInfo = frame_election_provider_support::weights::SubstrateWeight<Runtime>;
	type MaxWinnersPerPage = ConstU32<MAX_AUTHORITIES>;
	type MaxBackersPerWinner = ConstU32<1_024>;
	type Bounds = ElectionBounds;
}

impl pallet_staking::Config for Runtime {
	type OldCurrency = Balances;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type CurrencyBalance = Balance;
	type UnixTime = Timestamp;
	type CurrencyToVote = sp_staking::currency_to_vote::U128CurrencyToVote;
	type ElectionProvider = onchain::OnChainExecution<OnChainSeqPhragmen>;
	type GenesisElectionProvider = onchain::OnChainExecution<OnChainSeqPhragmen>;
	type NominationsQuota = pallet_staking::FixedNominationsQuota<16>;
	type HistoryDepth = ConstU32<84>;
	/// What the inflation curve does not pay stakers goes to the treasury.
	type RewardRemainder = ResolveTo<TreasuryAccount, Balances>;
	type RuntimeEvent = RuntimeEvent;
	/// Slashed stake goes to the treasury.
	type Slash = ResolveTo<TreasuryAccount, Balances>;
	type Reward = ();
	type SessionsPerEra = SessionsPerEra;
	type BondingDuration = BondingDuration;
	type SlashDeferDuration = SlashDeferDuration;
	/// Root: a `root` referendum (e.g. `set_validator_count`, cancel a deferred slash).
	type AdminOrigin = frame_system::EnsureRoot<AccountId>;
	type SessionInterface = Self;
	type EraPayout = pallet_staking::ConvertCurve<RewardCurve>;
	type NextNewSession = Session;
	type MaxExposurePageSize = MaxExposurePageSize;
	type MaxValidatorSet = ConstU32<MAX_AUTHORITIES>;
	type VoterList = pallet_staking::UseNominatorsAndValidatorsMap<Self>;
	type TargetList = pallet_staking::UseValidatorsMap<Self>;
	type MaxUnlockingChunks = ConstU32<32>;
	type MaxControllersInDeprecationBatch = ConstU32<100>;
	type EventListeners = ();
	type Filter = Nothing;
	type BenchmarkingConfig = StakingBenchmarkingConfig;
	type WeightInfo = pallet_staking::weights::SubstrateWeight<Runtime>;
}

impl pallet_session::historical::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type FullIdentification = ();
	type FullIdentificationOf = pallet_staking::UnitIdentificationOf<Self>;
}

impl pallet_authorship::Config for Runtime {
	type FindAuthor = pallet_session::FindAccountFromAuthorIndex<Self, Babe>;
	/// Block authors earn era reward points, and count as live.
	type EventHandler = (Staking, crate::Liveness);
}

impl super::liveness::Config for Runtime {}

impl pallet_offences::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type IdentificationTuple = pallet_session::historical::IdentificationTuple<Self>;
	type OnOffenceHandler = Staking;
}


