//! Genesis presets. The chain specs in `chain-specs/` are generated from these
//! (`scripts/gen-chain-specs.sh`).
//!
//! - `development`: one validator (Alice, bonded and invulnerable), sudo key
//!   Alice, dev accounts endowed.
//!   The two shipped models (docs/protocol.md §10) are registered with Alice as publisher, and
//!   Bob is a bonded provider with one offer for each, signing receipts with his
//!   own sr25519 key and serving on `http://127.0.0.1:8700`. Unbonding takes
//!   [`DEV_UNBONDING_PERIOD`] blocks.
//! - `local_testnet`: four validators (Alice, Bob, Charlie, Dave), each bonded
//!   [`VALIDATOR_BOND`] with staking and elected by it at genesis, backed by two
//!   nominators (`//One` → Alice and Bob, `//Two` → Charlie and Dave); no sudo
//!   key; the two shipped models registered, no offers.
//!   GRANDPA needs more than 2/3 of the votes, so finality survives losing one.
//! - `testnet`: the public test network's genesis: four validators and two
//!   nominators with their own keys ([`TESTNET_VALIDATORS`],
//!   [`TESTNET_NOMINATORS`]), realistic epochs (10 minutes, hour-long eras)
//!   and referendum tracks (days), no sudo key, no dev accounts; the shipped
//!   models published by the first validator, no offers (providers join by
//!   bonding).

use alloc::{vec, vec::Vec};
use serde_json::Value;
use sp_genesis_builder::{self, PresetId};
use sp_keyring::{Ed25519Keyring, Sr25519Keyring};

use crate::{
	configs::{consensus::session_keys, constants::TreasuryAccount},
	AccountId, Balance, BlockNumber, RuntimeGenesisConfig, AGR, BABE_GENESIS_EPOCH_CONFIG,
	MILLI_AGR,
};
use agora_primitives::models::shipped;

/// What each endowed dev account starts with: 1,000,000 AGR.
pub const ENDOWMENT: Balance = 1_000_000 * AGR;
/// The treasury's starting balance (it must exist to receive slashes).
pub const TREASURY_ENDOWMENT: Balance = AGR;
/// The dev provider's (Bob's) bond.
pub const DEV_PROVIDER_BOND: Balance = 10_000 * AGR;
/// Where the dev provider's worker serves outputs.
pub const DEV_WORKER_ENDPOINT: &str = "http://127.0.0.1:8700";
/// Unbonding period on the dev chain: 10 blocks (30 s).
pub const DEV_UNBONDING_PERIOD: BlockNumber = 10;
/// Dev offers' prices: per job and per 1,000 output tokens.
pub const DEV_BASE_PRICE: Balance = MILLI_AGR;
pub const DEV_PRICE_PER_1K: Balance = 10 * MILLI_AGR;
/// Dev offers' capacity (concurrent jobs).
pub const DEV_CAPACITY: u32 = 4;

/// What each genesis validator bonds for staking: 100,000 AGR.
pub const VALIDATOR_BOND: Balance = 100_000 * AGR;
/// What each genesis nominator bonds: 50,000 AGR.
pub const NOMINATOR_BOND: Balance = 50_000 * AGR;
/// Most validators staking elects per era on these presets (room for more
/// than the genesis set to join).
pub const VALIDATOR_COUNT: u32 = 10;

/// The staking part of a preset: nominators and whom they back.
#[derive(Default)]
struct Stake {
	nominators: Vec<(AccountId, Vec<AccountId>)>,
	/// Validators never slashed (the development chain's only validator).
	invulnerables: Vec<AccountId>,
	minimum_validators: u32,
}

/// The dev chain's service-pass epoch: 20 blocks (a minute).
pub const DEV_PASS_EPOCH: crate::BlockNumber = 20;

/// The marketplace part of a preset.
#[derive(Default)]
struct Market {
	/// Short referendum track periods (minutes, not days).
	fast_tracks: bool,
	bonds: Vec<(AccountId, Balance)>,
	offers: Vec<(AccountId, [u8; 32])>,
	/// Governed parameters that differ from the runtime's defaults, by protocol
	/// name (`configs::params`).
	params: Vec<(&'static str, u128)>,
	/// Offers may name loopback and private hosts (dev only: public networks'
	/// validators must not be sent to private addresses).
	private_endpoints: bool,
	/// Blocks per service-pass epoch (`None`: the runtime's hour).
	pass_epoch: Option<crate::BlockNumber>,
}

/// A validator's account and its three session keys, all derived from one dev seed.
type Validator = (
	AccountId,
	sp_consensus_babe::AuthorityId,
	sp_consensus_grandpa::AuthorityId,
	agora_primitives::AgoraAuthorityId,
);

fn dev_validator(sr: Sr25519Keyring, ed: Ed25519Keyring) -> Validator {
	(sr.to_account_id(), sr.public().into(), ed.public().into(), sr.public().into())
}

/// The genesis patch for a chain with these validators, endowed accounts and
/// (optional) sudo key.
fn genesis(
	validators: Vec<Validator>,
	endowed: Vec<AccountId>,
	sudo: Option<AccountId>,
	market: Market,
	stake: Stake,
) -> Value {
	// The shipped models' publisher: the first validator (Alice on dev and local).
	let publisher = validators
		.first()
		.map(|v| v.0.clone())
		.unwrap_or_else(|| Sr25519Keyring::Alice.to_account_id());
	let models = vec![shipped::smollm2(publisher.clone()), shipped::minilm(publisher)];
	let offers = market
		.offers
		.into_iter()
		.flat_map(|(provider, worker_key)| {
			models.iter().map(move |m| {
				(
					provider.clone(),
					m.id(),
					worker_key,
					DEV_BASE_PRICE,
					DEV_PRICE_PER_1K,
					DEV_WORKER_ENDPOINT.as_bytes().to_vec(),
					DEV_CAPACITY,
					b"cpu".to_vec(),
				)
			})
		})
		.collect();
	let mut balances: Vec<(AccountId, Balance)> =
		endowed.into_iter().map(|a| (a, ENDOWMENT)).collect();
	balances.push((TreasuryAccount::get(), TREASURY_ENDOWMENT));
	let config = RuntimeGenesisConfig {
		balances: pallet_balances::GenesisConfig { balances, ..Default::default() },
		slashing: pallet_slashing::GenesisConfig { bonds: market.bonds },
		models: pallet_models::GenesisConfig {
			models,
			offers,
			private_endpoints: market.private_endpoints,
		},
		babe: pallet_babe::GenesisConfig {
			epoch_config: BABE_GENESIS_EPOCH_CONFIG,
			..Default::default()
		},
		staking: pallet_staking::GenesisConfig {
			validator_count: VALIDATOR_COUNT,
			minimum_validator_count: stake.minimum_validators,
			invulnerables: stake.invulnerables,
			slash_reward_fraction: sp_runtime::Perbill::from_percent(10),
			stakers: validators
				.iter()
				.map(|(acc, ..)| {
					(acc.clone(), acc.clone(), VALIDATOR_BOND, pallet_staking::StakerStatus::Validator)
				})
				.chain(stake.nominators.into_iter().map(|(acc, targets)| {
					(acc.clone(), acc, NOMINATOR_BOND, pallet_staking::StakerStatus::Nominator(targets))
				}))
				.collect(),
			min_validator_bond: 1_000 * AGR,
			min_nominator_bond: 100 * AGR,
			..Default::default()
		},
		session: pallet_session::GenesisConfig {
			keys: validators
				.into_iter()
				.map(|(acc, babe, grandpa, agora)| {
					(acc.clone(), acc, session_keys(babe, grandpa, agora))
				})
				.collect(),
			..Default::default()
		},
		market_params: crate::configs::params::pallet_market_params::GenesisConfig {
			params: market.params.into_iter().map(|(n, v)| (n.into(), v)).collect(),
			..Default::default()
		},
		origins: crate::configs::governance::origins::pallet_custom_origins::GenesisConfig {
			fast_tracks: market.fast_tracks,
			..Default::default()
		},
		passes: pallet_passes::GenesisConfig { epoch_length: market.pass_epoch },
		sudo: pallet_sudo::GenesisConfig { key: sudo },
		..Default::default()
	};
	serde_json::to_value(config).unwrap_or(Value::Null)
}

/// The well-known dev accounts, all endowed on both presets.
fn dev_accounts() -> Vec<AccountId> {
	Sr25519Keyring::iter().map(|k| k.to_account_id()).collect()
}

/// The `development` preset: Alice validates alone and holds the sudo key; Bob
/// is a bonded provider with an offer for each shipped model.
pub fn development_config_genesis() -> Value {
	let bob = Sr25519Keyring::Bob;
	genesis(
		vec![dev_validator(Sr25519Keyring::Alice, Ed25519Keyring::Alice)],
		dev_accounts(),
		Some(Sr25519Keyring::Alice.to_account_id()),
		Market {
			fast_tracks: true,
			bonds: vec![(bob.to_account_id(), DEV_PROVIDER_BOND)],
			offers: vec![(bob.to_account_id(), bob.public().0)],
			params: vec![
				("UNBONDING_PERIOD", u128::from(DEV_UNBONDING_PERIOD)),
				// One validator: random audits would only wait for its verifier,
				// if it runs one. Disputes still go to it (`agora job dispute`).
				("AUDIT_RATE", 0),
			],
			private_endpoints: true,
			// A minute: tests and demos see pass epochs end and get paid.
			pass_epoch: Some(DEV_PASS_EPOCH),
		},
		Stake {
			invulnerables: vec![Sr25519Keyring::Alice.to_account_id()],
			minimum_validators: 1,
			..Default::default()
		},
	)
}

/// The `local_testnet` preset: Alice, Bob, Charlie and Dave validate; no sudo.
pub fn local_config_genesis() -> Value {
	genesis(
		vec![
			dev_validator(Sr25519Keyring::Alice, Ed25519Keyring::Alice),
			dev_validator(Sr25519Keyring::Bob, Ed25519Keyring::Bob),
			dev_validator(Sr25519Keyring::Charlie, Ed25519Keyring::Charlie),
			dev_validator(Sr25519Keyring::Dave, Ed25519Keyring::Dave),
		],
		dev_accounts(),
		None,
		Market::default(),
		Stake {
			nominators: vec![
				(
					Sr25519Keyring::One.to_account_id(),
					vec![Sr25519Keyring::Alice.to_account_id(), Sr25519Keyring::Bob.to_account_id()],
				),
				(
					Sr25519Keyring::Two.to_account_id(),
					vec![Sr25519Keyring::Charlie.to_account_id(), Sr25519Keyring::Dave.to_account_id()],
				),
			],
			invulnerables: vec![],
			minimum_validators: 2,
		},
	)
}

/// The `testnet` preset's name.
pub const TESTNET_PRESET: &str = "testnet";

/// The testnet validators' public keys: (sr25519 for the account, BABE and the
/// `agora` key; ed25519 for GRANDPA). They are derived from the public secret
/// URIs `//agora-testnet//1` … `//4` (`agora-node key inspect --scheme
/// sr25519|ed25519 //agora-testnet//N`), so that anyone can bring up a copy of
/// the testnet and the tests can check it; before a public launch the operators
/// put their own keys here (`agora-node key generate`) and regenerate
/// `chain-specs/testnet.json` (`scripts/gen-chain-specs.sh`).
pub const TESTNET_VALIDATORS: [([u8; 32], [u8; 32]); 4] = [
	(
		hex32("b459834643cb0ba271c21e52ebdcb49e2bc03648a48f840fec6b96a3e8c6db56"),
		hex32("a815245ac8d9c5aba9c52df5cb99a79b66c8b00649c577300cc29694b37f1abb"),
	),
	(
		hex32("46808ebb13a96272842ce00cc13de9c35bc95978fa1ff74d946f1fd211cded20"),
		hex32("18e8539cf1ecb6699972bfecb7f77ac61cc0e888f5c2cd7ed71b8968942d47ba"),
	),
	(
		hex32("c83384151695b038aadeddd15e48a131688e06f05b6b4fece0a8398d7914d171"),
		hex32("fa72b2ea2475cbf3b58cdc5e671df7e034e8f0cca13c283bfa9ec139c5d588c2"),
	),
	(
		hex32("fa0c107c030b5ef46ca2be3cc2a39afa97bc2382edf3f143584194d606726800"),
		hex32("713bd94f93bd62b6963b9871d062c45026a2dc2ed4ea6fdbbd38f410665e61a7"),
	),
];

/// The testnet nominators' sr25519 keys (`//agora-testnet//nominator-1`, `-2`):
/// the first backs validators 1 and 2, the second 3 and 4.
pub const TESTNET_NOMINATORS: [[u8; 32]; 2] = [
	hex32("7a5ec3a3f617013fed0f4b533d929fd0937dcdd398134ef5cf597c7d3f46bd19"),
	hex32("70ceb029e8a54133e6093155a616a2938fa189219c54275c06c83462cd2f447f"),
];

/// 64 hex digits as 32 bytes, at compile time (a bad digit fails the build).
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
const fn hex32(s: &str) -> [u8; 32] {
	const fn digit(c: u8) -> u8 {
		match c {
			b'0'..=b'9' => c - b'0',
			b'a'..=b'f' => c - b'a' + 10,
			_ => panic!("not a lowercase hex digit"),
		}
	}
	let b = s.as_bytes();
	assert!(b.len() == 64, "a 32-byte key is 64 hex digits");
	let mut out = [0u8; 32];
	let mut i = 0;
	while i < 32 {
		out[i] = digit(b[2 * i]) * 16 + digit(b[2 * i + 1]);
		i += 1;
	}
	out
}

fn testnet_validator((sr, ed): ([u8; 32], [u8; 32])) -> Validator {
	let sr = sp_core::sr25519::Public::from_raw(sr);
	let ed = sp_core::ed25519::Public::from_raw(ed);
	(AccountId::from(sr), sr.into(), ed.into(), sr.into())
}

/// The `testnet` preset: four validators and two nominators with their own
/// keys, realistic epochs and tracks, no sudo.
pub fn testnet_config_genesis() -> Value {
	let validators: Vec<Validator> =
		TESTNET_VALIDATORS.into_iter().map(testnet_validator).collect();
	let v: Vec<AccountId> = validators.iter().map(|v| v.0.clone()).collect();
	let [n1, n2] = TESTNET_NOMINATORS.map(AccountId::from);
	let nominators = match v.as_slice() {
		[a, b, c, d] => vec![(n1, vec![a.clone(), b.clone()]), (n2, vec![c.clone(), d.clone()])],
		_ => vec![],
	};
	let endowed = v.iter().cloned().chain(nominators.iter().map(|(n, _)| n.clone())).collect();
	genesis(
		validators,
		endowed,
		None,
		Market::default(),
		Stake { nominators, invulnerables: vec![], minimum_validators: 2 },
	)
}

/// The JSON of the named preset, if there is one.
pub fn get_preset(id: &PresetId) -> Option<Vec<u8>> {
	let patch = match id.as_ref() {
		sp_genesis_builder::DEV_RUNTIME_PRESET => development_config_genesis(),
		sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET => local_config_genesis(),
		TESTNET_PRESET => testnet_config_genesis(),
		_ => return None,
	};
	serde_json::to_vec(&patch).ok()
}

/// The genesis storage a node builds from preset `id` (the preset's patch over
/// the default genesis config), for tests and the runtime fuzzer
/// (`runtime/fuzz`); `None` for an unknown preset.
#[cfg(feature = "std")]
pub fn preset_storage(id: &str) -> Option<sp_runtime::Storage> {
	use sp_runtime::BuildStorage;
	let patch: Value = serde_json::from_slice(&get_preset(&id.into())?).ok()?;
	let mut config = serde_json::to_value(crate::RuntimeGenesisConfig::default()).ok()?;
	json_merge(&mut config, patch);
	let config: crate::RuntimeGenesisConfig = serde_json::from_value(config).ok()?;
	config.build_storage().ok()
}

/// Merges a genesis patch into a full config, key by key, as the node's chain
/// spec builder does.
#[cfg(feature = "std")]
fn json_merge(base: &mut Value, patch: Value) {
	match (base, patch) {
		(Value::Object(b), Value::Object(p)) =>
			for (k, v) in p {
				json_merge(b.entry(k).or_insert(Value::Null), v);
			},
		(b, p) => *b = p,
	}
}

/// The names of the presets.
pub fn preset_names() -> Vec<PresetId> {
	vec![
		PresetId::from(sp_genesis_builder::DEV_RUNTIME_PRESET),
		PresetId::from(sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET),
		PresetId::from(TESTNET_PRESET),
	]
}
