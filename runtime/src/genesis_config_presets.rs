//! Genesis presets. The chain specs in `chain-specs/` are generated from these
//! (`scripts/gen-chain-specs.sh`).
//!
//! - `development`: one validator (Alice), sudo key Alice, dev accounts endowed.
//! - `local_testnet`: four validators (Alice, Bob, Charlie, Dave), no sudo key.
//!   GRANDPA needs more than 2/3 of the votes, so finality survives losing one.

use alloc::{vec, vec::Vec};
use serde_json::Value;
use sp_genesis_builder::{self, PresetId};
use sp_keyring::{Ed25519Keyring, Sr25519Keyring};

use crate::{
	configs::consensus::session_keys, AccountId, Balance, RuntimeGenesisConfig, AGR,
	BABE_GENESIS_EPOCH_CONFIG,
};

/// What each endowed dev account starts with: 1,000,000 AGR.
pub const ENDOWMENT: Balance = 1_000_000 * AGR;

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
) -> Value {
	let config = RuntimeGenesisConfig {
		balances: pallet_balances::GenesisConfig {
			balances: endowed.into_iter().map(|a| (a, ENDOWMENT)).collect(),
			..Default::default()
		},
		babe: pallet_babe::GenesisConfig {
			epoch_config: BABE_GENESIS_EPOCH_CONFIG,
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
		sudo: pallet_sudo::GenesisConfig { key: sudo },
		..Default::default()
	};
	serde_json::to_value(config).unwrap_or(Value::Null)
}

/// The well-known dev accounts, all endowed on both presets.
fn dev_accounts() -> Vec<AccountId> {
	Sr25519Keyring::iter().map(|k| k.to_account_id()).collect()
}

/// The `development` preset: Alice validates alone and holds the sudo key.
pub fn development_config_genesis() -> Value {
	genesis(
		vec![dev_validator(Sr25519Keyring::Alice, Ed25519Keyring::Alice)],
		dev_accounts(),
		Some(Sr25519Keyring::Alice.to_account_id()),
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
	)
}

/// The JSON of the named preset, if there is one.
pub fn get_preset(id: &PresetId) -> Option<Vec<u8>> {
	let patch = match id.as_ref() {
		sp_genesis_builder::DEV_RUNTIME_PRESET => development_config_genesis(),
		sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET => local_config_genesis(),
		_ => return None,
	};
	serde_json::to_vec(&patch).ok()
}

/// The names of the presets.
pub fn preset_names() -> Vec<PresetId> {
	vec![
		PresetId::from(sp_genesis_builder::DEV_RUNTIME_PRESET),
		PresetId::from(sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET),
	]
}
