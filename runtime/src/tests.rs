//! Runtime-level checks: every pallet's `integrity_test`, the existential deposit,
//! the genesis presets and the session keys.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::arithmetic_side_effects)]

use super::*;
use configs::params::{self, market};
use frame_support::traits::{Get, IntegrityTest};

fn audit_rate() -> u32 {
	<market::AuditRate as Get<u32>>::get()
}

fn param(name: &str, value: u128) -> market::Parameters {
	params::from_name(name, value).expect("a known name and a value of its type")
}

fn build_preset(id: &str) -> sp_io::TestExternalities {
	genesis_config_presets::preset_storage(id).expect("preset exists and builds").into()
}

#[test]
fn integrity_test_passes_for_every_pallet() {
	build_preset("development").execute_with(|| {
		AllPalletsWithSystem::integrity_test();
	});
}

#[test]
fn existential_deposit_is_non_zero() {
	let ed: Balance = <Runtime as pallet_balances::Config>::ExistentialDeposit::get();
	assert!(ed > 0);
	assert_eq!(ed, EXISTENTIAL_DEPOSIT);
}

#[test]
fn token_identity_is_agr_with_12_decimals() {
	assert_eq!(TOKEN_SYMBOL, "AGR");
	assert_eq!(TOKEN_DECIMALS, 12);
	assert_eq!(<Runtime as frame_system::Config>::SS58Prefix::get(), SS58_PREFIX);
}

#[test]
fn session_keys_are_babe_grandpa_and_agora() {
	let ids = configs::consensus::session_key_types();
	assert_eq!(
		ids,
		vec![
			sp_core::crypto::key_types::BABE,
			sp_core::crypto::key_types::GRANDPA,
			agora_primitives::AGORA_KEY_TYPE
		]
	);
}

#[test]
fn development_preset_has_alice_alone_and_sudo() {
	build_preset("development").execute_with(|| {
		let alice = sp_keyring::Sr25519Keyring::Alice.to_account_id();
		assert_eq!(pallet_session::Validators::<Runtime>::get(), vec![alice.clone()]);
		assert_eq!(pallet_sudo::Key::<Runtime>::get(), Some(alice.clone()));
		// Alice's validator bond is held by staking.
		assert_eq!(
			Balances::free_balance(&alice),
			genesis_config_presets::ENDOWMENT - genesis_config_presets::VALIDATOR_BOND
		);
		assert_eq!(pallet_staking::Invulnerables::<Runtime>::get(), vec![alice.clone()]);
		assert_eq!(Babe::authorities().len(), 1);
		assert_eq!(Grandpa::grandpa_authorities().len(), 1);
		// One validator: nothing is audited at random on the dev chain; a
		// dispute goes to Alice alone.
		assert_eq!(audit_rate(), 0);
		assert_eq!(pallet_verification::Verifiers::<Runtime>::get().len(), 1);
	});
}

#[test]
fn local_preset_has_four_validators_and_no_sudo() {
	build_preset("local_testnet").execute_with(|| {
		use sp_keyring::Sr25519Keyring::*;
		let mut expected: Vec<AccountId> =
			[Alice, Bob, Charlie, Dave].into_iter().map(|k| k.to_account_id()).collect();
		expected.sort();
		// Elected by staking; the session keeps the election's order.
		let mut validators = pallet_session::Validators::<Runtime>::get();
		validators.sort();
		assert_eq!(validators, expected);
		assert_eq!(pallet_sudo::Key::<Runtime>::get(), None);
		assert_eq!(Babe::authorities().len(), 4);
		assert_eq!(Grandpa::grandpa_authorities().len(), 4);
		// Each validator's `agora` key is registered with session.
		let agora_key: agora_primitives::AgoraAuthorityId = Charlie.public().into();
		let owner = pallet_session::Pallet::<Runtime>::key_owner(
			agora_primitives::AGORA_KEY_TYPE,
			sp_core::ByteArray::as_slice(&agora_key),
		);
		assert_eq!(owner, Some(Charlie.to_account_id()));
		// Committees are drawn from the same validators and keys; 5 % of
		// receipts are audited (the runtime default).
		let verifiers = pallet_verification::Verifiers::<Runtime>::get();
		let mut accounts: Vec<AccountId> = verifiers.iter().map(|(a, _)| a.clone()).collect();
		accounts.sort();
		assert_eq!(accounts, expected);
		assert!(verifiers.iter().any(|(a, k)| *a == Charlie.to_account_id() && *k == agora_key));
		assert_eq!(audit_rate(), 50_000);
		assert_eq!(Verification::draw_committee(1, &[]).ok().map(|c| c.len()), Some(3));
	});
}

#[test]
fn testnet_preset_has_four_bonded_validators_two_nominators_realistic_periods_and_no_sudo() {
	use configs::governance::tracks::TracksInfo;
	use frame_support::traits::Get;
	use genesis_config_presets::{TESTNET_NOMINATORS, TESTNET_VALIDATORS};
	use pallet_referenda::TracksInfo as _;
	build_preset("testnet").execute_with(|| {
		let mut expected: Vec<AccountId> =
			TESTNET_VALIDATORS.iter().map(|(sr, _)| AccountId::from(*sr)).collect();
		expected.sort();
		let mut validators = pallet_session::Validators::<Runtime>::get();
		validators.sort();
		assert_eq!(validators, expected, "the four testnet validators, elected by staking");
		// None of the dev keys: Alice is neither a validator nor endowed.
		let alice = sp_keyring::Sr25519Keyring::Alice.to_account_id();
		assert!(!validators.contains(&alice));
		assert_eq!(Balances::free_balance(&alice), 0);
		for v in &expected {
			let ledger = pallet_staking::Ledger::<Runtime>::get(v).expect("bonded");
			assert_eq!(ledger.total, genesis_config_presets::VALIDATOR_BOND);
			assert!(pallet_staking::Validators::<Runtime>::contains_key(v));
		}
		for n in TESTNET_NOMINATORS.map(AccountId::from) {
			assert_eq!(pallet_staking::Nominators::<Runtime>::get(&n).map(|t| t.targets.len()), Some(2));
		}
		// GRANDPA uses the validators' ed25519 keys.
		let grandpa: Vec<_> = Grandpa::grandpa_authorities().into_iter().map(|(k, _)| k).collect();
		for (_, ed) in TESTNET_VALIDATORS {
			let key: sp_consensus_grandpa::AuthorityId = sp_core::ed25519::Public::from_raw(ed).into();
			assert!(grandpa.contains(&key));
		}
		assert_eq!(Babe::authorities().len(), 4);
		// No sudo: no key, so no `sudo.*` call can succeed.
		assert_eq!(pallet_sudo::Key::<Runtime>::get(), None);
		let call = Box::new(RuntimeCall::System(frame_system::Call::remark { remark: vec![] }));
		assert!(Sudo::sudo(RuntimeOrigin::signed(expected[0].clone()), call).is_err());
		// Realistic periods: 10-minute epochs, hour-long eras, tracks in days.
		assert_eq!(<configs::consensus::EpochDuration as Get<u64>>::get(), EPOCH_DURATION_IN_SLOTS);
		assert_eq!(<configs::staking::SessionsPerEra as Get<u32>>::get(), 6);
		assert_eq!(TracksInfo::info(1).map(|t| t.decision_period), Some(3 * DAYS));
		assert_eq!(TracksInfo::info(0).map(|t| t.decision_period), Some(7 * DAYS));
		// The runtime's default audit rate; both shipped models registered.
		assert_eq!(audit_rate(), 50_000);
		assert_eq!(pallet_models::Models::<Runtime>::iter().count(), 2);
	});
}

#[test]
fn unknown_preset_is_none() {
	assert!(genesis_config_presets::get_preset(&"mainnet".into()).is_none());
	assert_eq!(genesis_config_presets::preset_names().len(), 3);
}

#[test]
fn development_preset_ships_both_models_with_a_bonded_offer_each() {
	use agora_primitives::{models::shipped, OfferStatus, ProviderBonds};
	build_preset("development").execute_with(|| {
		let alice = sp_keyring::Sr25519Keyring::Alice.to_account_id();
		let bob = sp_keyring::Sr25519Keyring::Bob;
		let ids = [shipped::smollm2(alice.clone()).id(), shipped::minilm(alice.clone()).id()];
		assert_eq!(Models::models().len(), 2);
		for id in ids {
			let model = Models::model(id).expect("shipped model registered");
			assert_eq!(model.manifest.publisher, alice);
			let offers = Models::offers_for(id);
			assert_eq!(offers.len(), 1);
			assert_eq!(offers[0].provider, bob.to_account_id());
			assert_eq!(offers[0].worker_key, bob.public().0);
			assert_eq!(offers[0].status, OfferStatus::Active);
			assert_eq!(offers[0].endpoint, genesis_config_presets::DEV_WORKER_ENDPOINT.as_bytes());
		}
		assert!(<Slashing as ProviderBonds<AccountId>>::is_bonded(&bob.to_account_id()));
		assert_eq!(
			<configs::params::market::UnbondingPeriod as Get<BlockNumber>>::get(),
			genesis_config_presets::DEV_UNBONDING_PERIOD
		);
		let treasury = configs::constants::TreasuryAccount::get();
		assert_eq!(Balances::free_balance(&treasury), genesis_config_presets::TREASURY_ENDOWMENT);
		pallet_slashing::Pallet::<Runtime>::do_try_state().unwrap();
		pallet_models::Pallet::<Runtime>::do_try_state().unwrap();
	});
}

#[test]
fn the_shipped_model_ids_match_the_fetched_files() {
	// The manifests' hashes are the sha256 sums scripts/fetch-models.sh checks.
	let sums = include_str!("../../scripts/models.sha256");
	let alice = sp_keyring::Sr25519Keyring::Alice.to_account_id();
	let smol = agora_primitives::models::shipped::smollm2(alice);
	let hex: String = smol.weights_hash.iter().map(|b| format!("{b:02x}")).collect();
	assert!(sums.contains(&format!("{hex}  smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf")));
}

#[test]
fn tracks_map_origins_and_follow_fast_tracks() {
	use configs::governance::{origins, tracks::TracksInfo};
	use pallet_referenda::TracksInfo as _;
	build_preset("development").execute_with(|| {
		assert!(TracksInfo::check_integrity().is_ok());
		let root: OriginCaller = frame_system::RawOrigin::Root.into();
		assert_eq!(TracksInfo::track_for(&root), Ok(0));
		assert_eq!(TracksInfo::track_for(&OriginCaller::Origins(origins::Origin::MarketParams)), Ok(1));
		let signed: OriginCaller = frame_system::RawOrigin::Signed(sp_keyring::Sr25519Keyring::Alice.to_account_id()).into();
		assert_eq!(TracksInfo::track_for(&signed), Err(()));
		assert_eq!(TracksInfo::info(1).map(|t| t.decision_period), Some(20));
	});
	build_preset("local_testnet").execute_with(|| {
		assert_eq!(TracksInfo::info(1).map(|t| t.decision_period), Some(3 * DAYS));
		assert_eq!(TracksInfo::info(0).map(|t| t.decision_period), Some(7 * DAYS));
	});
}

#[test]
fn market_params_origin_sets_parameters_and_signed_origins_cannot() {
	use configs::governance::origins;
	build_preset("local_testnet").execute_with(|| {
		let mp: RuntimeOrigin = origins::Origin::MarketParams.into();
		assert!(MarketParams::set(mp, param("AUDIT_RATE", 12_300)).is_ok());
		assert_eq!(audit_rate(), 12_300);
		assert!(MarketParams::set(RuntimeOrigin::root(), param("AUDIT_RATE", 70_000)).is_ok());
		let alice = sp_keyring::Sr25519Keyring::Alice.to_account_id();
		assert!(MarketParams::set(RuntimeOrigin::signed(alice.clone()), param("AUDIT_RATE", 90_000))
			.is_err());
		assert_eq!(audit_rate(), 70_000);
		// pallet-parameters' own call admits nobody, not even root: the bounds
		// cannot be bypassed.
		let raw = params::RuntimeParameters::Market(param("AUDIT_RATE", 2_000_000_000));
		assert!(Parameters::set_parameter(RuntimeOrigin::root(), raw).is_err());
		assert_eq!(audit_rate(), 70_000);
		// A `None` value resets to the default.
		let reset = market::Parameters::AuditRate(market::AuditRate, None);
		assert!(MarketParams::set(RuntimeOrigin::root(), reset).is_ok());
		assert_eq!(audit_rate(), 50_000);
		// No sudo key outside dev; the treasury is the account fees and slashes go to.
		assert_eq!(pallet_sudo::Key::<Runtime>::get(), None);
		assert_eq!(Treasury::account_id(), configs::constants::TreasuryAccount::get());
	});
}

#[test]
fn every_parameter_has_sane_bounds_and_a_default_within_them() {
	build_preset("local_testnet").execute_with(|| {
		let all = params::all();
		assert_eq!(all.len(), params::PARAMS.len());
		for p in &all {
			let name = core::str::from_utf8(&p.name).unwrap();
			assert!(p.min <= p.default && p.default <= p.max, "{name}: default outside its bounds");
			assert_eq!(p.value, p.default, "{name}: nothing set on local");
			// Both bounds are accepted, one past either is refused, and a refused
			// value changes nothing.
			for ok in [p.min, p.max] {
				assert!(
					MarketParams::set(RuntimeOrigin::root(), param(name, ok)).is_ok(),
					"{name} = {ok}"
				);
			}
			// (A Perbill past 100 % does not even decode as one.)
			if let Some(above) = params::from_name(name, p.max + 1) {
				assert_eq!(
					MarketParams::set(RuntimeOrigin::root(), above),
					Err(configs::params::pallet_market_params::Error::<Runtime>::AboveMaximum
						.into()),
					"{name}"
				);
			}
			if p.min > 0 {
				assert_eq!(
					MarketParams::set(RuntimeOrigin::root(), param(name, p.min - 1)),
					Err(configs::params::pallet_market_params::Error::<Runtime>::BelowMinimum
						.into()),
					"{name}"
				);
			}
			let now = params::all().into_iter().find(|q| q.name == p.name).unwrap();
			assert_eq!(now.value, p.max, "{name}: the last accepted value is in force");
		}
		assert!(params::from_name("NO_SUCH_PARAM", 1).is_none());
	});
}

/// The attack: a referendum that switches checking off (no random audits, a
/// committee of one, an even committee that can tie, a challenger reward that
/// lets a provider dispute itself at a profit). Each is refused and changes
/// nothing; only a chain spec may start with `AUDIT_RATE` 0.
#[test]
fn governance_cannot_switch_checking_off() {
	use configs::params::pallet_market_params::Error as E;
	build_preset("local_testnet").execute_with(|| {
		let set = |name: &str, v: u128| MarketParams::set(RuntimeOrigin::root(), param(name, v));
		assert_eq!(set("AUDIT_RATE", 0), Err(E::<Runtime>::BelowMinimum.into()));
		assert_eq!(set("AUDIT_RATE", 9_999), Err(E::<Runtime>::BelowMinimum.into()));
		assert!(set("AUDIT_RATE", 10_000).is_ok());
		assert_eq!(set("COMMITTEE_SIZE", 1), Err(E::<Runtime>::BelowMinimum.into()));
		assert_eq!(set("COMMITTEE_SIZE", 4), Err(E::<Runtime>::MustBeOdd.into()));
		assert_eq!(set("COMMITTEE_SIZE", 14), Err(E::<Runtime>::MustBeOdd.into()));
		assert!(set("COMMITTEE_SIZE", 5).is_ok());
		assert_eq!(set("CHALLENGER_REWARD", 500_000_001), Err(E::<Runtime>::AboveMaximum.into()));
		assert!(set("CHALLENGER_REWARD", 500_000_000).is_ok());
		assert_eq!(<market::CommitteeSize as Get<u32>>::get(), 5);
		assert_eq!(<market::AuditRate as Get<u32>>::get(), 10_000);
	});
	// The dev chain starts with audits off (its one validator would audit
	// itself); a referendum could not set that, and `try_state` accepts it.
	build_preset("development").execute_with(|| {
		assert_eq!(<market::AuditRate as Get<u32>>::get(), 0);
		assert!(MarketParams::set(RuntimeOrigin::root(), param("AUDIT_RATE", 0)).is_err());
	});
}

/// A validator reported by `pallet-jobs` for not voting becomes an offence
/// that `pallet-offences` records and hands to staking.
#[test]
fn non_voters_are_reported_as_offences() {
	use agora_primitives::NonVoterReport;
	use codec::Encode as _;
	build_preset("local_testnet").execute_with(|| {
		System::set_block_number(1);
		let alice = sp_keyring::Sr25519Keyring::Alice.to_account_id();
		configs::verification::NonVoterOffences::report(vec![alice.clone()], 7);
		let kind = *b"agora:non-voter!";
		let reports = pallet_offences::ConcurrentReportsIndex::<Runtime>::get(kind, 7u64.encode());
		assert_eq!(reports.len(), 1, "one report for job 7");
		let report = pallet_offences::Reports::<Runtime>::get(reports[0]).unwrap();
		assert_eq!(report.offender.0, alice);
		assert!(System::events().iter().any(|r| matches!(
			&r.event,
			RuntimeEvent::Offences(pallet_offences::Event::Offence { kind: k, .. }) if *k == kind
		)));
		// The same offender for the same job is not reported twice.
		configs::verification::NonVoterOffences::report(vec![alice], 7);
		assert_eq!(pallet_offences::ConcurrentReportsIndex::<Runtime>::get(kind, 7u64.encode()).len(), 1);
	});
}

/// A closed offer's signer must outlive every dispute window governance may
/// set, or a provider could close the offer that served a wrong paid answer
/// and leave the answer undisputable.
#[test]
fn a_closed_offer_outlives_the_longest_dispute_window() {
	build_preset("development").execute_with(|| {
		let retention = <Runtime as pallet_models::Config>::OfferRetention::get();
		for name in ["DISPUTE_WINDOW", "SERVED_DISPUTE_WINDOW"] {
			let window = params::all()
				.into_iter()
				.find(|p| p.name == name.as_bytes().to_vec())
				.unwrap_or_else(|| panic!("{name} is governed"));
			assert!(u128::from(retention) > window.max, "retention {retention} <= the longest {name} {}", window.max);
		}
	});
}

#[test]
fn governed_parameters_reach_the_pallets() {
	build_preset("development").execute_with(|| {
		System::set_block_number(1);
		let root = || RuntimeOrigin::root();
		assert_eq!(<market::DisputeWindow as Get<BlockNumber>>::get(), 10);
		assert!(MarketParams::set(root(), param("DISPUTE_WINDOW", 15)).is_ok());
		assert_eq!(<Runtime as pallet_jobs::Config>::DisputeWindow::get(), 15);
		// The served window is its own: a job window's change leaves it be.
		assert_eq!(<Runtime as pallet_verification::Config>::ServedWindow::get(), 30 * crate::MINUTES);
		assert!(MarketParams::set(root(), param("SERVED_DISPUTE_WINDOW", 9)).is_err(), "below its floor");
		assert!(MarketParams::set(root(), param("SERVED_DISPUTE_WINDOW", 40)).is_ok());
		assert_eq!(<Runtime as pallet_verification::Config>::ServedWindow::get(), 40);
		assert_eq!(<Runtime as pallet_jobs::Config>::DisputeWindow::get(), 15);
		assert!(MarketParams::set(root(), param("PROTOCOL_FEE", 30_000_000)).is_ok());
		assert_eq!(
			<Runtime as pallet_escrow::Config>::ProtocolFee::get(),
			sp_runtime::Perbill::from_percent(3)
		);
		assert!(MarketParams::set(root(), param("THETA", 500)).is_ok());
		assert_eq!(<Runtime as pallet_reputation::Config>::ThetaMilli::get(), 500);
		assert!(MarketParams::set(root(), param("MIN_PROVIDER_STAKE", 2_000 * AGR)).is_ok());
		assert_eq!(<Runtime as pallet_slashing::Config>::MinProviderStake::get(), 2_000 * AGR);
		let ev = System::events().into_iter().rev().find_map(|r| match r.event {
			RuntimeEvent::MarketParams(params::pallet_market_params::Event::ParameterSet {
				name,
				old,
				new,
			}) => Some((name, old, new)),
			_ => None,
		});
		assert_eq!(ev, Some((b"MIN_PROVIDER_STAKE".to_vec(), None, Some(2_000 * AGR))));
	});
}

#[test]
fn the_params_table_is_in_codec_index_order() {
	// Clients build `market_params.set` from the position in `AgoraParamsApi::params`.
	use codec::Encode;
	for (i, p) in params::PARAMS.iter().enumerate() {
		let encoded = param(p.name, p.min).encode();
		assert_eq!(usize::from(encoded[0]), i, "{}", p.name);
		assert_eq!(params::name_of(&param(p.name, p.min)), p.name);
	}
}

#[test]
fn local_preset_elects_its_four_bonded_validators_backed_by_two_nominators() {
	use sp_keyring::Sr25519Keyring::*;
	build_preset("local_testnet").execute_with(|| {
		let v: Vec<AccountId> = [Alice, Bob, Charlie, Dave].into_iter().map(|k| k.to_account_id()).collect();
		// The genesis election (sequential Phragmén) chose the session's validators.
		assert_eq!(pallet_staking::ActiveEra::<Runtime>::get().map(|e| e.index), Some(0));
		let mut elected = pallet_session::Validators::<Runtime>::get();
		elected.sort();
		let mut want = v.clone();
		want.sort();
		assert_eq!(elected, want);
		assert_eq!(pallet_staking::Validators::<Runtime>::count(), 4);
		assert_eq!(pallet_staking::Nominators::<Runtime>::count(), 2);
		assert_eq!(pallet_staking::ValidatorCount::<Runtime>::get(), genesis_config_presets::VALIDATOR_COUNT);
		// One backs Alice and Bob: their era-0 exposures include her stake.
		let eve = One.to_account_id();
		let mut backed = 0;
		for who in [&v[0], &v[1]] {
			let exposure = pallet_staking::EraInfo::<Runtime>::get_full_exposure(0, who);
			assert_eq!(exposure.own, genesis_config_presets::VALIDATOR_BOND, "{exposure:?}");
			backed += exposure.others.iter().filter(|o| o.who == eve).map(|o| o.value).sum::<Balance>();
		}
		assert_eq!(backed, genesis_config_presets::NOMINATOR_BOND, "One's whole bond is spread over her two");
		// Staking slashes go to the treasury; no invulnerables on local.
		assert!(pallet_staking::Invulnerables::<Runtime>::get().is_empty());
		// The epoch (session) length is the realistic one unless the genesis asks
		// for fast epochs.
		use frame_support::traits::Get;
		assert_eq!(<configs::consensus::EpochDuration as Get<u64>>::get(), EPOCH_DURATION_IN_SLOTS);
		assert_eq!(<configs::staking::SessionsPerEra as Get<u32>>::get(), 6);
		configs::governance::origins::FastEpochs::<Runtime>::put(true);
		assert_eq!(<configs::consensus::EpochDuration as Get<u64>>::get(), configs::constants::FAST_EPOCH_SLOTS);
		assert_eq!(<configs::staking::SessionsPerEra as Get<u32>>::get(), 1);
	});
}

#[test]
fn no_preset_but_development_can_reach_sudo() {
	// The sudo pallet is in the runtime (the development chain uses it), but
	// `local` has no key, so no `sudo.*` call can ever succeed there.
	build_preset("local_testnet").execute_with(|| {
		assert_eq!(pallet_sudo::Key::<Runtime>::get(), None);
		let alice = sp_keyring::Sr25519Keyring::Alice.to_account_id();
		let call = Box::new(RuntimeCall::System(frame_system::Call::remark { remark: vec![] }));
		assert!(Sudo::sudo(RuntimeOrigin::signed(alice), call).is_err());
	});
}


#[test]
fn a_validator_silent_for_three_sessions_is_chilled_and_authoring_resets_the_count() {
	use configs::liveness::{pallet_liveness::Event as LivenessEvent, Silent};
	use sp_keyring::Sr25519Keyring::*;
	build_preset("local_testnet").execute_with(|| {
		System::set_block_number(1);
		let [a, b, c, d] = [Alice, Bob, Charlie, Dave].map(|k| k.to_account_id());
		assert_eq!(configs::liveness::silent_sessions(), 3);
		for round in 1..=3u32 {
			for v in [&a, &b, &c] {
				Liveness::note_author(v.clone());
			}
			// Charlie is silent in round 2 only: the count starts again.
			if round == 2 {
				configs::liveness::Authored::<Runtime>::remove(&c);
			}
			Liveness::end_session();
			if round < 3 {
				assert_eq!(Silent::<Runtime>::get(&d), round);
				assert!(pallet_staking::Validators::<Runtime>::contains_key(&d));
			}
		}
		assert_eq!(Silent::<Runtime>::get(&c), 0, "authored in round 3");
		assert!(!pallet_staking::Validators::<Runtime>::contains_key(&d), "Dave was chilled");
		for v in [&a, &b, &c] {
			assert!(pallet_staking::Validators::<Runtime>::contains_key(v));
		}
		assert!(System::events().iter().any(|r| matches!(
			&r.event,
			RuntimeEvent::Liveness(LivenessEvent::Chilled { validator, sessions: 3 }) if *validator == d
		)));
		// Dave is still bonded: he can validate again.
		assert!(Staking::validate(RuntimeOrigin::signed(d.clone()), Default::default()).is_ok());
	});
}

/// Every extrinsic of Agora's pallets, at the largest sizes its bounds allow,
/// fits a block's normal class with room to spare (at most half of
/// `max_extrinsic`, in both time and proof size), and the largest
/// `on_initialize` of `pallet-jobs` and `pallet-verification` together (every
/// queue full) fits in half a block.
#[test]
fn weights_sane() {
	use frame_support::weights::Weight;
	use frame_support::dispatch::DispatchClass;
	use configs::marketplace as m;
	type Jobs = pallet_jobs::weights::SubstrateWeight<Runtime>;
	type Models = pallet_models::weights::SubstrateWeight<Runtime>;
	type Slashing = pallet_slashing::weights::SubstrateWeight<Runtime>;
	type Rep = pallet_reputation::weights::SubstrateWeight<Runtime>;
	type Verif = pallet_verification::weights::SubstrateWeight<Runtime>;
	type Chan = pallet_channels::weights::SubstrateWeight<Runtime>;
	use pallet_channels::WeightInfo as _;
	use pallet_jobs::WeightInfo as _;
	use pallet_verification::WeightInfo as _;
	use pallet_models::WeightInfo as _;
	use pallet_reputation::WeightInfo as _;
	use pallet_slashing::WeightInfo as _;

	let block = <Runtime as frame_system::Config>::BlockWeights::get();
	let normal = block.get(DispatchClass::Normal);
	let max_ext = normal.max_extrinsic.expect("normal extrinsics are limited");
	let room = Weight::from_parts(max_ext.ref_time() / 2, max_ext.proof_size() / 2);
	let batch = m::MaxClaimBatch::get();
	let calls: [(&str, Weight); 31] = [
		("jobs.submit_job", Jobs::submit_job(m::MaxOfferScan::get(), m::MaxInputLen::get())),
		("jobs.acknowledge", Jobs::acknowledge()),
		("jobs.submit_receipt", Jobs::submit_receipt()),
		(
			"jobs.submit_receipts",
			Jobs::submit_receipts(<<Runtime as pallet_jobs::Config>::MaxReceiptBatch as Get<u32>>::get()),
		),
		(
			"jobs.submit_jobs",
			pallet_jobs::Pallet::<Runtime>::submit_jobs_weight(
				<<Runtime as pallet_jobs::Config>::MaxOrderBatch as Get<u32>>::get(),
				m::MaxOfferScan::get(),
				core::iter::repeat_n(m::MaxInputLen::get(), 256),
			),
		),
		("jobs.submit_pass_job", Jobs::submit_pass_job(m::MaxOfferScan::get(), m::MaxInputLen::get())),
		("jobs.report_input_missing", Jobs::report_input_missing()),
		("jobs.contest_input_missing", Jobs::contest_input_missing()),
		("jobs.finalize", Jobs::finalize()),
		("jobs.cancel_job", Jobs::cancel_job()),
		("jobs.rate", Jobs::rate().saturating_add(Rep::on_rating())),
		("verification.dispute", Verif::dispute()),
		("verification.vote", Verif::vote()),
		(
			"verification.dispute_receipt",
			Verif::dispute_receipt(
				agora_primitives::channels::MAX_SERVED_INPUT,
				agora_primitives::channels::MAX_SERVED_OUTPUT,
			),
		),
		("models.register_model", Models::register_model()),
		("models.deprecate_model", Models::deprecate_model()),
		("models.open_offer", Models::open_offer()),
		("models.update_offer", Models::update_offer()),
		("models.pause_offer", Models::pause_offer()),
		("models.resume_offer", Models::resume_offer()),
		("models.close_offer", Models::close_offer(m::MaxOffersPerProvider::get())),
		("slashing.bond", Slashing::bond()),
		("slashing.bond_extra", Slashing::bond_extra()),
		("slashing.unbond", Slashing::unbond()),
		("slashing.withdraw_unbonded", Slashing::withdraw_unbonded(m::MaxUnlockingChunks::get())),
		("channels.open_channel", Chan::open_channel()),
		("channels.add_funds", Chan::add_funds()),
		("channels.extend", Chan::extend()),
		("channels.claim_batch", Chan::claim_batch(batch)),
		("channels.withdraw", Chan::withdraw(batch)),
		("channels.reclaim", Chan::reclaim()),
	];
	for (name, w) in calls {
		assert!(w.all_lte(room), "{name} weighs {w:?}, over half of a normal extrinsic's limit {max_ext:?}");
		assert!(w.ref_time() > 0, "{name} has no weight: its weights.rs is not generated");
	}
	// The queue budgets, a read per block set each queue's drain reads (at
	// most `agora_pallet_support::MAX_DUE_BLOCKS` = 64 each), and
	// the fullest vote-deadline queue.
	let c = u64::from(configs::verification::MaxChecksPerBlock::get());
	let sets = <Runtime as frame_system::Config>::DbWeight::get().reads(4 * 64);
	let hook = m::QueueWeight::get()
		.saturating_add(configs::verification::DrawWeight::get())
		.saturating_add(sets)
		.saturating_add(Verif::audit_timeout().saturating_mul(c));
	assert!(
		hook.all_lte(Weight::from_parts(block.max_block.ref_time() / 2, block.max_block.proof_size() / 2)),
		"the jobs and verification pallets' fullest on_initialize weighs {hook:?}, over half a block {:?}",
		block.max_block
	);
}
